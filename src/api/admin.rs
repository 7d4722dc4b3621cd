//! The operator endpoints' operations: health, reset and the figures `/metrics` reports.
//! Like the AWS operations they reach storage only through the store's repositories.

use super::ApiError;
use crate::store::Store;

/// Whether the database answers (`GET /health`).
pub async fn health(store: &Store) -> Result<(), ApiError> {
    Ok(store.ping().await?)
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
}

/// Reads the storage figures in one snapshot.
pub async fn storage_figures(store: &Store) -> Result<StorageFigures, ApiError> {
    store
        .read(|tx| {
            Ok(StorageFigures {
                database_bytes: tx.admin().database_bytes()?,
                versions_stored: tx.admin().versions_stored()?,
            })
        })
        .await
}
