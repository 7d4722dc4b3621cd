//! An in-process sfnlite for Rust test suites: a real server on a free loopback port with a
//! temporary database, stopped (and its database deleted) on drop.

use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::{App, Config};

/// A running sfnlite for tests.
///
/// ```
/// use std::io::{Read, Write};
///
/// let server = sfnlite::TestServer::start();
/// // Point any AWS SDK at `server.endpoint_url()`; here, a plain health check.
/// let addr = server.endpoint_url().trim_start_matches("http://").to_owned();
/// let mut conn = std::net::TcpStream::connect(addr).unwrap();
/// conn.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
/// let mut reply = String::new();
/// conn.read_to_string(&mut reply).unwrap();
/// assert!(reply.starts_with("HTTP/1.1 200"));
/// assert!(reply.ends_with(r#"{"status":"ok","database":"sqlite"}"#));
/// ```
pub struct TestServer {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server on its own thread and runtime; usable from a plain `#[test]`.
    /// Panics if it cannot start (a test cannot go on without it).
    pub fn start() -> TestServer {
        Self::start_with(|_| {})
    }

    /// Like [`TestServer::start`], with the configuration adjusted by `tweak`.
    pub fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let (dir, config) = config(tweak);
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("test server runtime");
            rt.block_on(async move {
                let app = App::build(&config).await.expect("test server starts");
                let _ = url_tx.send(format!("http://{}", app.local_addr()));
                let _ = app
                    .run_until(async move {
                        let _ = stop_rx.await;
                    })
                    .await;
            });
        });
        let url = url_rx.recv().expect("test server reported its address");
        TestServer {
            url,
            stop: Some(stop_tx),
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// Starts a server on the current tokio runtime.
    pub async fn start_async() -> TestServer {
        let (dir, config) = config(|_| {});
        let app = App::build(&config).await.expect("test server starts");
        let url = format!("http://{}", app.local_addr());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = stop_rx.await;
        }));
        TestServer {
            url,
            stop: Some(stop_tx),
            thread: None,
            _dir: dir,
        }
    }

    /// The URL to give an AWS SDK as its endpoint, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint_url(&self) -> &str {
        &self.url
    }
}

fn config(tweak: impl FnOnce(&mut Config)) -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut config = Config::for_tests(&dir.path().join("sfnlite.db"));
    config.enable_reset = true;
    tweak(&mut config);
    (dir, config)
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
