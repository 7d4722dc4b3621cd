//! Builds the service from a [`Config`]: opens the store (running migrations), binds the
//! listener, and serves until a shutdown signal, then drains and checkpoints.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::api::Limits;
use crate::config::Config;
use crate::http::{router, AppState};
use crate::store::Store;

/// A bound, ready-to-serve sfnlite.
pub struct App {
    listener: TcpListener,
    state: AppState,
    shutdown_grace: Duration,
}

impl App {
    /// Opens the database and binds the listen address. Nothing is scanned at start-up.
    pub async fn build(config: &Config) -> anyhow::Result<App> {
        let store = Store::open(&config.db, &config.store_options())?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let state = AppState {
            store,
            limits: Arc::new(Limits {
                version_quota: config.version_quota,
                alias_quota: 100,
            }),
            default_region: config.region.clone(),
            default_account: config.account_id.clone(),
            max_body_bytes: config.max_body_bytes,
        };
        Ok(App {
            listener,
            state,
            shutdown_grace: Duration::from_millis(config.shutdown_grace_ms),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, lets in-flight requests finish, then checkpoints
    /// the WAL so the database file is complete on its own.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let store = self.state.store.clone();
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let server =
            axum::serve(self.listener, router(self.state)).with_graceful_shutdown(async move {
                shutdown.await;
                let _ = stopping_tx.send(());
            });
        let grace = self.shutdown_grace;
        // Once shutdown starts, in-flight requests get a bounded time to finish; a client that
        // holds a connection open cannot keep the process (and its database lock) alive.
        let deadline = async move {
            if stopping_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            served = server => served?,
            () = deadline => tracing::warn!(
                grace_ms = grace.as_millis() as u64,
                "requests still open at the end of the shutdown grace period"
            ),
        }
        if let Err(e) = store.checkpoint() {
            tracing::warn!(error = %e, "checkpoint at shutdown failed");
        }
        Ok(())
    }
}
