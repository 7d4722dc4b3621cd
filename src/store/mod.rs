//! Storage behind one boundary. Operations open a closure transaction
//! (`store.write(|tx| …)`, `store.read(|tx| …)`) and talk to the repositories of [`repo`]
//! in domain terms; the backend behind them (SQLite, in [`sqlite`]) owns the SQL, the pool,
//! migrations and the group-commit writer. [`postgres`] is the PostgreSQL backend in the
//! making (its schema so far). A second backend is one more module implementing
//! [`repo::Tx`], and one more arm here. Knows nothing about HTTP or AWS error texts.

pub mod postgres;
pub mod repo;
mod rows;
mod sqlite;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use repo::Tx;
pub use sqlite::lock_path;
pub use sqlite::transfer;

/// A storage failure. `Unavailable` covers conditions the client may retry or an operator
/// must fix (busy, locked, disk full, read-only, I/O error, corruption): it becomes 503
/// ServiceUnavailable. `Internal` is a bug of ours. `Timeout`: the request's deadline passed
/// before its read or write ran. The SQLite error behind a failure stays attached as its
/// source, for the log.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("{cause}")]
    Unavailable {
        cause: String,
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    #[error("{detail}")]
    Internal {
        detail: String,
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    #[error("the request did not complete within its deadline")]
    Timeout,
}

impl StoreError {
    /// A bug of ours, described.
    pub fn internal(detail: impl Into<String>) -> Self {
        StoreError::Internal {
            detail: detail.into(),
            source: None,
        }
    }
    /// A condition the client may retry or an operator must fix, described.
    pub fn unavailable(cause: impl Into<String>) -> Self {
        StoreError::Unavailable {
            cause: cause.into(),
            source: None,
        }
    }
}

/// `PRAGMA synchronous` levels sfnlite accepts. FULL (the default) fsyncs every commit, so an
/// acknowledged write survives power loss; NORMAL trades that for speed under WAL.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
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
    pub(crate) fn pragma(self) -> &'static str {
        match self {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        }
    }
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub synchronous: Synchronous,
    /// How long a statement waits for another process's lock before failing (then 503).
    pub busy_timeout: Duration,
    /// Cap on the database size (`PRAGMA max_page_count`); a write beyond it fails as
    /// "disk full" and changes nothing.
    pub max_db_bytes: Option<u64>,
    /// Open the file read-only: reads work, writes answer 503. Used to prove the read-only
    /// fault path without file permissions (which root ignores).
    pub read_only: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(5),
            max_db_bytes: None,
            read_only: false,
        }
    }
}

/// The database handle operations use. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: sqlite::Sqlite,
    /// When the request this handle serves must be answered (see [`Store::until`]).
    deadline: Option<tokio::time::Instant>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, takes the owner lock, checks that
    /// the schema is one this binary knows and applies pending migrations. Every failure
    /// names the file and the cause; nothing is scanned.
    pub fn open(path: &Path, options: &StoreOptions) -> anyhow::Result<Store> {
        Ok(Store {
            backend: sqlite::Sqlite::open(path, options)?,
            deadline: None,
        })
    }

    /// This store with a deadline: a read or write not done by then answers
    /// [`StoreError::Timeout`]. A write the writer has already started is never abandoned —
    /// its caller waits for the real outcome — so a timed-out write never commits afterwards.
    pub fn until(&self, deadline: tokio::time::Instant) -> Store {
        Store {
            deadline: Some(deadline),
            ..self.clone()
        }
    }

    /// This store without a deadline, for an operation that outlives the request timeout by
    /// design (GetActivityTask's 60 s long poll, a synchronous EXPRESS run of up to 5 minutes).
    pub fn unbounded(&self) -> Store {
        Store {
            deadline: None,
            ..self.clone()
        }
    }

    /// Runs `f` as one atomic write, answered only after it is durably committed. `Err`
    /// from `f` undoes exactly what `f` did; a failed commit is reported, never hidden. On
    /// PostgreSQL a transaction that loses a serialization conflict or a deadlock to another
    /// replica is rolled back and `f` runs again on what that replica committed, so `f`
    /// must be repeatable (it is [`FnMut`]).
    pub async fn write<T, E, F>(&self, mut f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnMut(&dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.backend
            .write(self.deadline, move |tx| f(&sqlite::SqliteTx::new(tx)))
            .await
    }

    /// [`Store::write`] for a closure that consumes what it writes (the engine's steps,
    /// computed from a reading that a conflict makes stale anyway): a lost conflict answers
    /// [`StoreError::Unavailable`] and the caller's own loop reads and computes again.
    pub async fn write_once<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.backend
            .write(self.deadline, move |tx| f(&sqlite::SqliteTx::new(tx)))
            .await
    }

    /// Runs `f` inside a read transaction, so it sees one snapshot.
    pub async fn read<T, E, F>(&self, mut f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnMut(&dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.backend
            .read(self.deadline, move |tx| f(&sqlite::SqliteTx::new(tx)))
            .await
    }

    /// Bumped after every commit, before any request of it is answered: in-memory caches
    /// keep an entry only while the epoch it was read at is current.
    pub fn epoch(&self) -> u64 {
        self.backend.epoch()
    }

    /// Whether the database answers a trivial query (for `GET /health`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.backend.ping().await
    }

    /// Flushes the WAL into the main file; called on shutdown so the file alone is complete.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.backend.checkpoint()
    }

    /// Loads an export in one transaction; a database that holds state is refused unless
    /// `replace`.
    pub async fn import(
        &self,
        data: transfer::Export,
        replace: bool,
        progress: impl FnMut(usize) + Send + 'static,
    ) -> Result<(), ImportError> {
        self.backend
            .write(None, move |tx| {
                if !transfer::is_empty(tx)? {
                    if !replace {
                        return Err(ImportError::NotEmpty);
                    }
                    repo::Tx::admin(&sqlite::SqliteTx::new(tx)).reset()?;
                }
                transfer::import(tx, &data, progress)?;
                Ok(())
            })
            .await
    }
}

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the database already holds state")]
    NotEmpty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests;
