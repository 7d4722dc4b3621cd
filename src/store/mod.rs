//! SQLite storage: the connection pool, migrations, transactions and every SQL statement.
//! Knows nothing about HTTP or AWS error texts; operations in `api` decide, inside the
//! transactions this module opens, what a row means for a request.

pub mod aliases;
pub mod state_machines;
pub mod tags;
pub mod versions;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{ErrorCode, Transaction, TransactionBehavior};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// A storage failure. `Unavailable` covers conditions the client may retry or an operator
/// must fix (busy, locked, disk full, read-only, I/O error, corruption): it becomes 503
/// ServiceUnavailable. `Internal` is a bug of ours.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(
                ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::DiskFull
                | ErrorCode::ReadOnly
                | ErrorCode::SystemIoFailure
                | ErrorCode::CannotOpen
                | ErrorCode::DatabaseCorrupt
                | ErrorCode::NotADatabase
                | ErrorCode::OutOfMemory
                | ErrorCode::FileLockingProtocolFailed,
            ) => StoreError::Unavailable(short_cause(&e)),
            _ => StoreError::Internal(e.to_string()),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Unavailable(format!("database connection: {e}"))
    }
}

fn short_cause(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => "database is locked".into(),
        Some(ErrorCode::DiskFull) => "database or disk is full".into(),
        Some(ErrorCode::ReadOnly) => "database is read-only".into(),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => "database is corrupt".into(),
        Some(ErrorCode::CannotOpen) => "unable to open database file".into(),
        _ => "disk I/O error".into(),
    }
}

/// `PRAGMA synchronous` levels sfnlite accepts. FULL (the default) fsyncs every commit, so an
/// acknowledged write survives power loss; NORMAL trades that for speed under WAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    Off,
    Normal,
    Full,
    Extra,
}

impl Synchronous {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "off" => Synchronous::Off,
            "normal" => Synchronous::Normal,
            "full" => Synchronous::Full,
            "extra" => Synchronous::Extra,
            _ => return None,
        })
    }
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        }
    }
}

/// The database: a pool of connections plus a gate that serialises writers.
#[derive(Clone)]
pub struct Store {
    pool: Pool<SqliteConnectionManager>,
    /// SQLite admits one writer at a time anyway; queuing writers here instead of in
    /// SQLite's busy handler keeps latency fair and never surfaces SQLITE_BUSY to a client.
    write_gate: Arc<Mutex<()>>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, applies pending migrations and
    /// checks that the schema is one this binary knows.
    pub fn open(path: &Path, synchronous: Synchronous) -> Result<Store, anyhow::Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!("cannot create database folder {}: {e}", dir.display())
            })?;
        }
        let manager = SqliteConnectionManager::file(path).with_init(move |c| {
            // WAL lets readers run beside the single writer; foreign keys are per connection
            // and off by default in SQLite, and they carry the cascade and no-dangling-route rules.
            c.execute_batch(&format!(
                "PRAGMA journal_mode = WAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA synchronous = {};",
                synchronous.pragma()
            ))?;
            c.busy_timeout(Duration::from_secs(5))
        });
        let pool = Pool::builder()
            .max_size(8)
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", path.display()))?;
        let mut conn = pool
            .get()
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", path.display()))?;
        let report = embedded::migrations::runner()
            .set_abort_divergent(true)
            .run(&mut *conn)
            .map_err(|e| anyhow::anyhow!("cannot migrate database {}: {e}", path.display()))?;
        let newest_known = embedded::migrations::runner()
            .get_migrations()
            .iter()
            .map(|m| m.version())
            .max()
            .unwrap_or(0);
        let applied: Option<i64> = conn
            .query_row(
                "SELECT MAX(version) FROM refinery_schema_history",
                [],
                |r| r.get(0),
            )
            .map_err(|e| {
                anyhow::anyhow!("cannot read schema version of {}: {e}", path.display())
            })?;
        if applied.unwrap_or(0) > i64::from(newest_known) {
            anyhow::bail!(
                "database {} has schema version {} but this sfnlite knows only up to {newest_known}; upgrade sfnlite",
                path.display(),
                applied.unwrap_or(0)
            );
        }
        tracing::debug!(
            applied = report.applied_migrations().len(),
            "migrations done"
        );
        drop(conn);
        Ok(Store {
            pool,
            write_gate: Arc::new(Mutex::new(())),
        })
    }

    /// Runs `f` in its own IMMEDIATE transaction on a blocking thread; commits on `Ok`,
    /// rolls back on `Err`. IMMEDIATE takes the write lock up front, so a read-then-write
    /// never has to upgrade its lock, and one request's failure undoes only itself.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
    {
        let store = self.clone();
        run_blocking(move || {
            let _gate = store.write_gate.lock().unwrap_or_else(|p| p.into_inner());
            let mut conn = store.pool.get().map_err(StoreError::from)?;
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::from)?;
            let out = f(&tx)?;
            tx.commit().map_err(StoreError::from)?;
            Ok(out)
        })
        .await
    }

    /// Runs `f` on a pooled connection inside a read transaction, so it sees one snapshot.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
    {
        let store = self.clone();
        run_blocking(move || {
            let mut conn = store.pool.get().map_err(StoreError::from)?;
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Deferred)
                .map_err(StoreError::from)?;
            f(&tx)
        })
        .await
    }

    /// Whether the database answers a trivial query (for `GET /health`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|tx| {
            tx.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(StoreError::from)
        })
        .await
    }

    /// Flushes the WAL into the main file; called on shutdown so the file alone is complete.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let conn = self.pool.get()?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}

async fn run_blocking<T, E, F>(f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: FnOnce() -> Result<T, E> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(StoreError::Internal(format!("storage task failed: {e}")).into()),
    }
}

/// Whether a rusqlite error is a UNIQUE/PRIMARY KEY violation.
pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}
