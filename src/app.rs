//! Builds the service from a [`Config`]: opens the store (running migrations), binds the
//! listener, and serves until a shutdown signal, then drains and checkpoints.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::api::Limits;
use crate::config::Config;
use crate::engine::runner::{system_clock, Runner, RunnerOptions};
use crate::http::{router, AppState, RequestLimits};
use crate::store::Store;

/// The protocol layer's state for a store and a configuration (checked: its keys parse).
pub fn app_state(store: Store, config: &Config) -> anyhow::Result<AppState> {
    let keys = config.keys()?;
    let mocks = crate::engine::mocks::Mocks::new(config.mock_config()?);
    let tasks = Arc::new(tokio::sync::Notify::new());
    // Tasks queued by other replicas wake this one's long polls too.
    store.listen_for_tasks(tasks.clone());
    let metrics = Arc::new(crate::http::metrics::Metrics::for_replica(store.replica()));
    Ok(AppState {
        store,
        limits: Arc::new(Limits {
            version_quota: config.version_quota,
            alias_quota: config.alias_quota,
            time_scale: config.time_scale,
        }),
        default_region: config.region.clone(),
        default_account: config.account_id.clone(),
        requests: Arc::new(RequestLimits {
            max_body_bytes: config.max_body_bytes,
            idle_timeout: Duration::from_millis(config.idle_timeout_ms),
            request_timeout: Duration::from_millis(config.request_timeout_ms),
            max_json_depth: config.max_json_depth,
        }),
        keys: keys.map(Arc::new),
        enable_reset: config.enable_reset,
        metrics,
        cors_origins: config.cors_origins.clone(),
        cache: Arc::new(crate::api::cache::ResponseCache::default()),
        runner: Arc::new(tokio::sync::Notify::new()),
        tasks,
        definitions: Arc::default(),
        mocks,
        pollers: Arc::default(),
        outside: config.outside()?,
    })
}

/// A bound, ready-to-serve sfnlite.
pub struct App {
    listener: TcpListener,
    state: AppState,
    shutdown_grace: Duration,
    idle_timeout: Duration,
    max_header_bytes: usize,
    runner: RunnerOptions,
    /// The mock configuration file, reread on SIGHUP (empty: none).
    mock_config: String,
}

impl App {
    /// Opens the database and binds the listen address. Nothing is scanned at start-up.
    pub async fn build(config: &Config) -> anyhow::Result<App> {
        config.check()?;
        // Bind first: a port that is taken must not leave a new database file behind.
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let store = Store::open(&config.db, &config.store_options())?;
        let state = app_state(store, config)?;
        Ok(App {
            listener,
            state,
            shutdown_grace: Duration::from_millis(config.shutdown_grace_ms),
            idle_timeout: Duration::from_millis(config.idle_timeout_ms),
            max_header_bytes: config.max_header_bytes,
            runner: RunnerOptions {
                batch: config.execution_batch,
                time_scale: config.time_scale,
            },
            mock_config: config.mock_config.clone(),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, lets in-flight requests finish (at most the
    /// shutdown grace period), then stops the execution runner after its current pass and
    /// checkpoints the WAL so the database file is complete on its own. Executions are not
    /// aborted: they resume at the next start, from their last committed step.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let store = self.state.store.clone();
        reload_mocks_on_hangup(&self.mock_config, &self.state.mocks);
        // Every RUNNING execution resumes here: the runner's first pass takes whatever is due.
        let (stop_runner, stopped) = tokio::sync::watch::channel(false);
        let runner = tokio::spawn(
            Runner::with_options(store.clone(), system_clock, self.runner)
                .with_definitions(self.state.definitions.clone())
                .with_task_signal(self.state.tasks.clone())
                .with_calls(Arc::new(crate::api::integrations::InProcess {
                    definitions: self.state.definitions.clone(),
                    time_scale: self.runner.time_scale,
                    mocks: self.state.mocks.clone(),
                }))
                .with_mocks(self.state.mocks.clone())
                .with_outside(self.state.outside.clone())
                .serve(self.state.runner.clone(), stopped),
        );
        let service = router(self.state);
        let graceful = GracefulShutdown::new();
        let mut builder = http1::Builder::new();
        // The header timeout drops a client that trickles its request head; the head size is
        // capped by the read buffer. Bodies are timed chunk by chunk in `http`.
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.idle_timeout)
            .max_buf_size(self.max_header_bytes)
            .keep_alive(true);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let stream = match accepted {
                        Ok((stream, _)) => stream,
                        Err(e) => {
                            // Out of file descriptors and similar: back off instead of spinning.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service.clone()));
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(self.listener);
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(self.shutdown_grace) => tracing::warn!(
                grace_ms = self.shutdown_grace.as_millis() as u64,
                "requests still open at the end of the shutdown grace period"
            ),
        }
        let _ = stop_runner.send(true);
        if tokio::time::timeout(self.shutdown_grace, runner)
            .await
            .is_err()
        {
            tracing::warn!("execution runner still busy at the end of the shutdown grace period");
        }
        if let Err(e) = store.checkpoint() {
            tracing::warn!(error = %e, "checkpoint at shutdown failed");
        }
        Ok(())
    }
}

/// Rereads the mock configuration on each SIGHUP; a malformed file keeps the one in force
/// (and says why in the log). Without a mock configuration SIGHUP keeps its usual meaning.
fn reload_mocks_on_hangup(path: &str, mocks: &crate::engine::mocks::Mocks) {
    if path.is_empty() {
        return;
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; the mock configuration is not reloaded");
            return;
        };
        let (path, mocks) = (path.to_owned(), mocks.clone());
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match crate::engine::mocks::MockConfig::load(&path) {
                    Ok(c) => {
                        mocks.replace(c);
                        tracing::info!(path = %path, "mock configuration reloaded");
                    }
                    Err(e) => tracing::warn!(error = %e, "mock configuration not reloaded"),
                }
            }
        });
    }
}
