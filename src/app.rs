//! Builds the service from a [`Config`]: opens the store (running migrations), binds the
//! listener, and serves until a shutdown signal, then drains and checkpoints.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

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
}

impl App {
    /// Opens the database and binds the listen address. Nothing is scanned at start-up.
    pub async fn build(config: &Config) -> anyhow::Result<App> {
        let store = Store::open(&config.db, config.synchronous)?;
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
        Ok(App { listener, state })
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
        axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(shutdown)
            .await?;
        if let Err(e) = store.checkpoint() {
            tracing::warn!(error = %e, "checkpoint at shutdown failed");
        }
        Ok(())
    }
}
