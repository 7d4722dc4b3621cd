//! Conveniences for test suites and operators: reset, export/import, the in-process test
//! server, metrics, logs and `--version`.

use std::process::Command;

use aws_sdk_sfn::types::{RoutingConfigurationListItem, Tag};
use serde_json::{json, Value};

use crate::helpers::*;

const BIN: &str = env!("CARGO_BIN_EXE_sfnlite");

async fn post(url: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn reset_wipes_every_account_and_region_when_enabled() {
    let app = TestApp::spawn_with(|c| c.enable_reset = true).await;
    for path in ["/_sfnlite/reset", "/moto-api/reset"] {
        let a = app.client_as("111111111111", "us-east-1");
        let b = app.client_as("222222222222", "eu-west-1");
        for c in [&a, &b] {
            c.create_state_machine()
                .name("m")
                .definition(base_definition())
                .role_arn(ROLE)
                .publish(true)
                .send()
                .await
                .unwrap();
        }
        assert_eq!(post(&app.url, path).await, (200, json!({"status": "ok"})));
        for c in [&a, &b] {
            assert!(c
                .list_state_machines()
                .send()
                .await
                .unwrap()
                .state_machines
                .is_empty());
        }
        // A machine re-created after a reset starts again at version 1.
        let r = a
            .create_state_machine()
            .name("m")
            .definition(base_definition())
            .role_arn(ROLE)
            .publish(true)
            .send()
            .await
            .unwrap();
        assert!(r.state_machine_version_arn.unwrap().ends_with(":m:1"));
        post(&app.url, path).await;
    }
}

#[tokio::test]
async fn reset_is_not_found_unless_enabled() {
    let app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    let (status, body) = post(&app.url, "/_sfnlite/reset").await;
    assert_eq!(status, 404);
    assert_eq!(body["__type"], "NotFoundException");
    app.client()
        .describe_state_machine()
        .state_machine_arn(arn)
        .send()
        .await
        .unwrap();
}

/// A state with everything export must carry: two tenants, revisions, versions with a gap
/// below the high-water mark, descriptions, aliases with routing, tags.
async fn rich_state(app: &TestApp) -> String {
    let c = app.client();
    c.create_activity()
        .name("work")
        .tags(Tag::builder().key("queue").value("main").build())
        .send()
        .await
        .unwrap();
    let arn = c
        .create_state_machine()
        .name("rich")
        .definition(base_definition())
        .role_arn(ROLE)
        .tags(Tag::builder().key("team").value("core").build())
        .publish(true)
        .version_description("first")
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    for i in 0..3 {
        c.update_state_machine()
            .state_machine_arn(&arn)
            .definition(definition(&format!("r{i}")))
            .publish(true)
            .send()
            .await
            .unwrap();
    }
    c.delete_state_machine_version()
        .state_machine_version_arn(format!("{arn}:4"))
        .send()
        .await
        .unwrap();
    let route = |n: i32, w: i32| {
        RoutingConfigurationListItem::builder()
            .state_machine_version_arn(format!("{arn}:{n}"))
            .weight(w)
            .build()
            .unwrap()
    };
    c.create_state_machine_alias()
        .name("prod")
        .description("live")
        .routing_configuration(route(1, 90))
        .routing_configuration(route(2, 10))
        .send()
        .await
        .unwrap();
    c.create_state_machine_alias()
        .name("beta")
        .routing_configuration(route(3, 100))
        .send()
        .await
        .unwrap();
    app.client_as("222222222222", "eu-west-1")
        .create_state_machine()
        .name("other")
        .definition(base_definition())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap();
    // One finished execution of version 2, through the alias's other route or directly.
    let e = c
        .start_execution()
        .state_machine_arn(format!("{arn}:2"))
        .name("done")
        .input("{\"kept\": [1, 2]}")
        .send()
        .await
        .unwrap()
        .execution_arn;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while c
        .describe_execution()
        .execution_arn(&e)
        .send()
        .await
        .unwrap()
        .status
        == aws_sdk_sfn::types::ExecutionStatus::Running
    {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    arn
}

/// The ARN of the activity `rich_state` creates.
fn activity_arn(machine: &str) -> String {
    machine.replace(":stateMachine:rich", ":activity:work")
}

/// The ARN of the execution `rich_state` runs.
fn execution_arn(machine: &str) -> String {
    format!("{}:done", machine.replace(":stateMachine:", ":execution:"))
}

fn export(db: &std::path::Path, out: &std::path::Path) -> String {
    let o = Command::new(BIN)
        .args(["export", "--db"])
        .arg(db)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn import(db: &std::path::Path, input: &std::path::Path, replace: bool) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["import", "--db"]).arg(db).arg("--in").arg(input);
    if replace {
        cmd.arg("--replace");
    }
    cmd.output().unwrap()
}

#[tokio::test]
async fn export_then_import_round_trips_exactly() {
    let app = TestApp::spawn().await;
    let arn = rich_state(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.json");
    // Export works beside the running server.
    let progress = export(&app.config.db, &first);
    assert!(
        progress
            .contains("exported 2 state machines, 3 versions, 2 aliases, 1 execution, 1 activity"),
        "{progress}"
    );

    let copy = dir.path().join("copy/sfnlite.db");
    let o = import(&copy, &first, false);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let second = dir.path().join("second.json");
    export(&copy, &second);
    assert_eq!(
        std::fs::read_to_string(&first).unwrap(),
        std::fs::read_to_string(&second).unwrap()
    );

    // The copy serves the same answers, dates included, and numbering continues.
    let mut served = TestApp::spawn_with(|c| c.db = copy.clone()).await;
    let same = [
        ("DescribeStateMachine", json!({"stateMachineArn": arn})),
        (
            "DescribeStateMachine",
            json!({"stateMachineArn": format!("{arn}:1")}),
        ),
        (
            "DescribeStateMachine",
            json!({"stateMachineArn": format!("{arn}:3")}),
        ),
        ("ListStateMachineVersions", json!({"stateMachineArn": arn})),
        (
            "DescribeStateMachineAlias",
            json!({"stateMachineAliasArn": format!("{arn}:prod")}),
        ),
        ("ListStateMachineAliases", json!({"stateMachineArn": arn})),
        ("ListTagsForResource", json!({"resourceArn": arn})),
        ("ListStateMachines", json!({})),
        ("ListExecutions", json!({"stateMachineArn": arn})),
        (
            "GetExecutionHistory",
            json!({"executionArn": execution_arn(&arn)}),
        ),
        (
            "DescribeExecution",
            json!({"executionArn": execution_arn(&arn)}),
        ),
        (
            "DescribeStateMachineForExecution",
            json!({"executionArn": execution_arn(&arn)}),
        ),
        ("ListActivities", json!({})),
        (
            "DescribeActivity",
            json!({"activityArn": activity_arn(&arn)}),
        ),
        (
            "ListTagsForResource",
            json!({"resourceArn": activity_arn(&arn)}),
        ),
    ];
    for (op, body) in same {
        let (x, y) = (
            app.call(op, body.clone()).await,
            served.call(op, body).await,
        );
        assert_eq!(x.0, 200, "{op}: {:?}", x.1);
        assert_eq!(x.1, y.1, "{op}");
    }
    let b = served.client();
    let tags = b
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!(tags[0].value.as_deref(), Some("core"));
    let next = b
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(definition("after"))
        .publish(true)
        .send()
        .await
        .unwrap();
    assert_eq!(next.state_machine_version_arn, Some(format!("{arn}:5")));
    served.stop().await;
}

#[tokio::test]
async fn import_refuses_a_non_empty_or_owned_database() {
    let app = TestApp::spawn().await;
    rich_state(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    export(&app.config.db, &file);
    // The running server owns its database.
    let o = import(&app.config.db, &file, true);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("in use by another sfnlite"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let target = dir.path().join("t.db");
    assert!(import(&target, &file, false).status.success());
    let o = import(&target, &file, false);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("pass --replace"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(import(&target, &file, true).status.success());
}

#[test]
fn test_server_starts_from_a_plain_test_and_stops_on_drop() {
    let server = sfnlite::TestServer::start();
    let addr = server
        .endpoint_url()
        .trim_start_matches("http://")
        .to_owned();
    assert!(std::net::TcpStream::connect(&addr).is_ok());
    drop(server);
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "still listening after drop"
    );
}

#[tokio::test]
async fn test_server_starts_on_the_current_runtime() {
    let server = sfnlite::TestServer::start_async().await;
    let conf = aws_sdk_sfn::Config::builder()
        .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
        .region(aws_sdk_sfn::config::Region::new("us-east-1"))
        .endpoint_url(server.endpoint_url())
        .credentials_provider(aws_sdk_sfn::config::Credentials::new(
            "x", "x", None, None, "t",
        ))
        .build();
    let c = aws_sdk_sfn::Client::from_conf(conf);
    c.create_state_machine()
        .name("m")
        .definition(base_definition())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.list_state_machines()
            .send()
            .await
            .unwrap()
            .state_machines
            .len(),
        1
    );
}

#[tokio::test]
async fn metrics_count_requests_and_report_storage() {
    let app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    app.client()
        .publish_state_machine_version()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    app.call("DescribeStateMachine", json!({"stateMachineArn": "bad"}))
        .await;
    app.call("NotAnOperation", json!({})).await;
    let r = reqwest::get(format!("{}/metrics", app.url)).await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    // On a shared database every metric names the replica that measured it.
    let replica = match app.on_postgres() {
        true => {
            let health: serde_json::Value = reqwest::get(format!("{}/health", app.url))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            format!(r#"replica="{}""#, health["replica"].as_str().unwrap())
        }
        false => String::new(),
    };
    let labelled = |name: &str, labels: &str, value: &str| {
        let all: Vec<&str> = [labels, replica.as_str()]
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect();
        match all.is_empty() {
            true => format!("{name} {value}"),
            false => format!("{name}{{{}}} {value}", all.join(",")),
        }
    };
    for line in [
        labelled(
            "sfnlite_requests_total",
            r#"operation="CreateStateMachine",outcome="ok""#,
            "1",
        ),
        labelled(
            "sfnlite_requests_total",
            r#"operation="DescribeStateMachine",outcome="InvalidArn""#,
            "1",
        ),
        labelled(
            "sfnlite_requests_total",
            r#"operation="-",outcome="UnknownOperationException""#,
            "1",
        ),
        labelled(
            "sfnlite_request_duration_seconds_count",
            r#"operation="PublishStateMachineVersion""#,
            "1",
        ),
        labelled("sfnlite_versions_stored", "", "1"),
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
    }
    let prefix = labelled("sfnlite_database_bytes", "", "");
    let bytes: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap()
        .parse()
        .unwrap();
    assert!(bytes > 0);
}

#[test]
fn version_flag_prints_the_version() {
    let o = Command::new(BIN).arg("--version").output().unwrap();
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("sfnlite {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn json_logs_carry_one_line_per_call() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = sfnlite_command(&["--listen", "127.0.0.1:0", "--log", "debug", "--db"]);
    cmd.arg(dir.path().join("db"))
        .env("SFNLITE_LOG_FORMAT", "json");
    let mut server = Binary::start(cmd);
    let addr = server.addr.clone();
    let mut lines = server.log_lines();
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/"))
        .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
        .body("{}")
        .send()
        .await
        .unwrap();
    let request_id = r.headers()["x-amzn-requestid"].to_str().unwrap().to_owned();
    let call = lines
        .find_map(|l| {
            let v: Value = serde_json::from_str(&l).expect("every log line is JSON");
            (v["fields"]["request_id"] == request_id.as_str()).then_some(v)
        })
        .unwrap();
    server.kill();
    assert_eq!(call["fields"]["operation"], "ListStateMachines");
    assert_eq!(call["fields"]["outcome"], "ok");
    assert_eq!(call["fields"]["account"], ACCOUNT);
    assert!(call["fields"]["elapsed_us"].is_number());
}
