//! Test harness: `TestApp::spawn()` binds first and serves in the background (no sleeps),
//! `restart()` stops it gracefully and serves the same database file again. With
//! `SFNLITE_TEST_POSTGRES` set to a server's URL (scripts/test.sh sets it for its
//! PostgreSQL step), each app gets a fresh database of its own on that server instead.

use std::fmt::Debug;

use aws_sdk_sfn::config::{retry::RetryConfig, BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::{Client, Config as SdkConfig};
use serde_json::Value;
use sfnlite::{App, Config};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ROLE: &str = "arn:aws:iam::123456789012:role/StepFunctionsRole";
pub const ACCOUNT: &str = "123456789012";

/// The reference definition of the recorded AWS tests.
pub fn base_definition() -> String {
    definition("BASE_PASS_RESULT")
}

/// A valid definition whose text differs by `comment`.
pub fn definition(comment: &str) -> String {
    format!(
        r#"{{"Comment":"{comment}","StartAt":"State_1","States":{{"State_1":{{"Type":"Pass","Result":{{"Arg1":"argument1"}},"End":true}}}}}}"#
    )
}

pub struct TestApp {
    pub url: String,
    pub config: Config,
    _dir: Option<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// A handle on a server already running at `url` (a process a test started itself).
    pub fn attach(url: &str) -> TestApp {
        TestApp {
            url: url.to_owned(),
            config: Config::default(),
            _dir: None,
            shutdown: None,
            task: None,
        }
    }

    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with a configuration adjusted by `tweak` (quota, body limit…).
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_tests(&dir.path().join("data/sfnlite.db"));
        if let Ok(server) = std::env::var("SFNLITE_TEST_POSTGRES") {
            config.db = fresh_postgres_database(&server).await.into();
        }
        tweak(&mut config);
        let mut app = TestApp {
            url: String::new(),
            config,
            _dir: Some(dir),
            shutdown: None,
            task: None,
        };
        app.start().await;
        app
    }

    /// Whether this app's database is PostgreSQL.
    pub fn on_postgres(&self) -> bool {
        sfnlite::store::is_postgres_url(&self.config.db)
    }

    async fn start(&mut self) {
        let app = App::build(&self.config).await.expect("app builds");
        self.url = format!("http://{}", app.local_addr());
        let (tx, rx) = oneshot::channel::<()>();
        self.shutdown = Some(tx);
        self.task = Some(tokio::spawn(app.run_until(async move {
            let _ = rx.await;
        })));
    }

    /// Stops the server (graceful, checkpointing) and starts it again on the same file.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }

    /// An SDK client with static fake credentials for the default account and region.
    pub fn client(&self) -> Client {
        self.client_as("AKIDLOCAL", "us-east-1")
    }

    /// An SDK client signing with `access_key` (12 digits = that account) in `region`.
    pub fn client_as(&self, access_key: &str, region: &str) -> Client {
        let conf = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(&self.url)
            .credentials_provider(Credentials::new(
                access_key,
                "local-secret",
                None,
                None,
                "tests",
            ))
            .retry_config(RetryConfig::disabled())
            .build();
        Client::from_conf(conf)
    }

    /// A raw AWS JSON 1.0 call: returns status, parsed body and headers.
    pub async fn call(
        &self,
        operation: &str,
        body: Value,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        self.raw(
            Some(&format!("AWSStepFunctions.{operation}")),
            body.to_string().into_bytes(),
        )
        .await
    }

    /// A raw POST / with any target and body bytes.
    pub async fn raw(
        &self,
        target: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = reqwest::Client::new()
            .post(format!("{}/", self.url))
            .header("content-type", "application/x-amz-json-1.0")
            .body(body);
        if let Some(t) = target {
            req = req.header("x-amz-target", t);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value, headers)
    }

    /// Creates a machine with the base definition; returns its ARN.
    pub async fn create_machine(&self, name: &str) -> String {
        self.client()
            .create_state_machine()
            .name(name)
            .definition(base_definition())
            .role_arn(ROLE)
            .send()
            .await
            .expect("create state machine")
            .state_machine_arn
    }

    /// Updates a machine's definition (a real change) and publishes; returns the version ARN.
    pub async fn update_and_publish(&self, arn: &str, comment: &str) -> String {
        self.client()
            .update_state_machine()
            .state_machine_arn(arn)
            .definition(definition(comment))
            .publish(true)
            .send()
            .await
            .expect("update with publish")
            .state_machine_version_arn
            .expect("a version ARN")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The error code and message of a failed SDK call, and its HTTP status.
pub fn failure<T: Debug, E: ProvideErrorMetadata + Debug>(r: Result<T, E>) -> (String, String) {
    let e = r.expect_err("the call should fail");
    (
        e.code().unwrap_or("<no code>").to_owned(),
        e.message().unwrap_or("<no message>").to_owned(),
    )
}

/// Asserts a raw response is the AWS error `code` with `message` and `status`.
pub fn assert_error(
    resp: &(u16, Value, reqwest::header::HeaderMap),
    status: u16,
    code: &str,
    message: &str,
) {
    assert_eq!(resp.0, status, "status of {:?}", resp.1);
    assert_eq!(resp.1["__type"], code, "code of {:?}", resp.1);
    assert_eq!(resp.1["message"], message, "message of {:?}", resp.1);
    assert_eq!(
        resp.2.get("x-amzn-errortype").and_then(|v| v.to_str().ok()),
        Some(code)
    );
}

/// The sfnlite binary started as a process, with the address from its `listening on ADDR`
/// line and the rest of its stderr.
pub struct Binary {
    pub child: std::process::Child,
    pub addr: String,
    pub stderr: Option<std::io::Lines<std::io::BufReader<std::process::ChildStderr>>>,
}

impl Binary {
    /// Starts `cmd` (an sfnlite command line) with stderr piped and waits for its address.
    pub fn start(mut cmd: std::process::Command) -> Binary {
        use std::io::BufRead;
        let mut child = cmd
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sfnlite starts");
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.strip_prefix("listening on ").map(str::to_owned))
            .expect("the listening line");
        Binary {
            child,
            addr,
            stderr: Some(lines),
        }
    }

    /// The remaining stderr lines, for tests that read the logs.
    pub fn log_lines(&mut self) -> impl Iterator<Item = String> {
        self.stderr
            .take()
            .expect("stderr not taken yet")
            .map_while(Result::ok)
    }

    /// Keeps reading stderr on a thread so the process never blocks on a full pipe.
    pub fn drain_stderr(&mut self) {
        if let Some(lines) = self.stderr.take() {
            std::thread::spawn(move || lines.for_each(drop));
        }
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sfnlite` with `args`, as built for this test run.
pub fn sfnlite_command(args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sfnlite"));
    cmd.args(args);
    cmd
}

/// A new, empty database on the PostgreSQL server at `server` (a URL naming any database);
/// returns its URL.
pub async fn fresh_postgres_database(server: &str) -> String {
    let server = server.to_owned();
    tokio::task::spawn_blocking(move || {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut c = postgres::Client::connect(&server, postgres::NoTls)
            .expect("the test PostgreSQL server answers");
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        match server.rfind('/') {
            Some(slash) => format!("{}/{name}", &server[..slash]),
            None => format!("{server}/{name}"),
        }
    })
    .await
    .unwrap()
}
