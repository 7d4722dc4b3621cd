//! The operator endpoints' operations: health, reset and the figures `/metrics` reports.
//! Like the AWS operations they reach storage only through the store's repositories.

use super::ApiError;
use crate::store::Store;

/// What `GET /health` reports when the database answers.
#[derive(Debug, serde::Serialize)]
pub struct Health {
    pub status: &'static str,
    /// `sqlite` or `postgresql`.
    pub database: &'static str,
    /// This process's replica id on a shared database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<String>,
}

/// Whether the database answers (`GET /health`), and which it is.
pub async fn health(store: &Store) -> Result<Health, ApiError> {
    store.ping().await?;
    Ok(Health {
        status: "ok",
        database: if store.shared() {
            "postgresql"
        } else {
            "sqlite"
        },
        replica: store.replica().map(str::to_owned),
    })
}

/// Wipes every account's and region's state in one transaction (`POST /_sfnlite/reset`).
pub async fn reset(store: &Store) -> Result<(), ApiError> {
    store
        .write(|tx| tx.admin().reset().map_err(ApiError::from))
        .await
}

/// What `/metrics` reports about storage.
#[derive(Debug, Clone, Copy)]
pub struct StorageFigures {
    pub database_bytes: i64,
    pub versions_stored: i64,
    /// Transaction attempts of this process that lost a conflict ([`Store::lost_conflicts`]).
    pub lost_conflicts: u64,
}

/// Reads the storage figures (the stored ones in one snapshot).
pub async fn storage_figures(store: &Store) -> Result<StorageFigures, ApiError> {
    let (database_bytes, versions_stored) = store
        .read(|tx| Ok::<_, ApiError>((tx.admin().database_bytes()?, tx.admin().versions_stored()?)))
        .await?;
    Ok(StorageFigures {
        database_bytes,
        versions_stored,
        lost_conflicts: store.lost_conflicts(),
    })
}
