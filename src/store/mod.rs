//! Storage behind one boundary. Operations open a closure transaction
//! (`store.write(|tx| …)`, `store.read(|tx| …)`) and talk to the repositories of [`repo`]
//! in domain terms; the backend behind them owns the SQL, the pool and migrations: SQLite
//! (`sqlite`, one process per database file, with its group-commit writer) or PostgreSQL
//! ([`postgres`], several replicas on one database). Each implements [`repo::Tx`]; this
//! module picks one by the database named. Knows nothing about HTTP or AWS error texts.

pub mod postgres;
pub mod repo;
mod rows;
mod sqlite;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use postgres::PgOptions;
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
    /// For a `postgres://` database.
    pub postgres: PgOptions,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(5),
            max_db_bytes: None,
            read_only: false,
            postgres: PgOptions::default(),
        }
    }
}

/// The database handle operations use. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// When the request this handle serves must be answered (see [`Store::until`]).
    deadline: Option<tokio::time::Instant>,
}

/// What a transaction may do.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

/// The database behind a [`Store`].
#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

/// Whether `db` names a PostgreSQL database rather than an SQLite file.
pub fn is_postgres_url(db: &Path) -> bool {
    db.to_str()
        .is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

impl Store {
    /// Opens the database `db`: a `postgres://` URL (connecting, applying pending migrations
    /// and registering as a replica), or an SQLite file (created if needed, under the owner
    /// lock, its schema checked as one this binary knows, pending migrations applied). Every
    /// failure names the database and the cause; nothing is scanned.
    pub fn open(db: &Path, options: &StoreOptions) -> anyhow::Result<Store> {
        let backend = match db.to_str() {
            Some(url) if is_postgres_url(db) => {
                Backend::Postgres(postgres::Postgres::open(url, &options.postgres)?)
            }
            _ => Backend::Sqlite(sqlite::Sqlite::open(db, options)?),
        };
        Ok(Store {
            backend,
            deadline: None,
        })
    }

    /// Whether other processes share this database (PostgreSQL): then nothing may be kept
    /// in memory on the assumption that only this process writes.
    pub fn shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// This process's replica id on a shared database.
    pub fn replica(&self) -> Option<&str> {
        match &self.backend {
            Backend::Postgres(p) => Some(&p.replica().id),
            Backend::Sqlite(_) => None,
        }
    }

    /// Wakes `signal` whenever any process sharing the database queues activity tasks (on
    /// SQLite this process is the only one, and signals itself).
    pub fn listen_for_tasks(&self, signal: Arc<tokio::sync::Notify>) {
        if let Backend::Postgres(p) = &self.backend {
            p.listen_for_tasks(signal);
        }
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
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnMut(&dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.transact(Kind::Write, true, None, f).await
    }

    /// [`Store::write`] for a write that contends with others on one resource, named by
    /// `key` (a machine's ARN, whose row numbers its versions). On PostgreSQL the writes on
    /// one key queue for it before their transactions begin, so each reads what the one
    /// before it committed and none aborts another, and writes on other keys go on beside
    /// them; SQLite's single writer already runs them one after another.
    pub async fn write_on<T, E, F>(&self, key: String, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnMut(&dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.transact(Kind::Write, true, Some(key), f).await
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
        let mut once = Some(f);
        let f = move |tx: &dyn Tx| match once.take() {
            Some(f) => f(tx),
            None => Err(StoreError::internal("a write was run twice").into()),
        };
        self.transact(Kind::Write, false, None, f).await
    }

    /// Runs `f` inside a read transaction, so it sees one snapshot (again on PostgreSQL when
    /// it loses a conflict, as [`Store::write`]).
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnMut(&dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.transact(Kind::Read, true, None, f).await
    }

    /// `f` in a transaction of `kind` on the backend, repeated on a lost conflict if `repeat`,
    /// queued behind the other writes on `key` if any.
    async fn transact<T, E, F>(
        &self,
        kind: Kind,
        repeat: bool,
        key: Option<String>,
        mut f: F,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnMut(&dyn Tx) -> Result<T, E> + Send + 'static,
    {
        match (&self.backend, kind) {
            (Backend::Sqlite(s), Kind::Write) => {
                s.write(self.deadline, move |tx| f(&sqlite::SqliteTx::new(tx)))
                    .await
            }
            (Backend::Sqlite(s), Kind::Read) => {
                s.read(self.deadline, move |tx| f(&sqlite::SqliteTx::new(tx)))
                    .await
            }
            (Backend::Postgres(p), kind) => p.transact(kind, self.deadline, repeat, key, f).await,
        }
    }

    /// Bumped after every commit, before any request of it is answered: in-memory caches
    /// keep an entry only while the epoch it was read at is current.
    /// None on a shared database, where another replica's commits are not seen here: caches
    /// are off.
    pub fn epoch(&self) -> Option<u64> {
        match &self.backend {
            Backend::Sqlite(s) => Some(s.epoch()),
            Backend::Postgres(_) => None,
        }
    }

    /// Transactions of this process that lost a serialization conflict or a deadlock to a
    /// concurrent one, each attempt counted (0 on SQLite, whose single writer loses none).
    pub fn lost_conflicts(&self) -> u64 {
        match &self.backend {
            Backend::Postgres(p) => p.lost_conflicts(),
            Backend::Sqlite(_) => 0,
        }
    }

    /// Whether the database answers a trivial query (for `GET /health`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.ping().await,
            Backend::Postgres(p) => p.ping().await,
        }
    }

    /// Flushes the WAL into the main file; called on shutdown so the file alone is complete
    /// (PostgreSQL keeps its own files complete: nothing to do).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.checkpoint(),
            Backend::Postgres(_) => Ok(()),
        }
    }

    /// Loads an export in one transaction; a database that holds state is refused unless
    /// `replace`.
    pub async fn import(
        &self,
        data: transfer::Export,
        replace: bool,
        progress: impl FnMut(usize) + Send + 'static,
    ) -> Result<(), ImportError> {
        let Backend::Sqlite(backend) = &self.backend else {
            return Err(ImportError::Store(StoreError::unavailable(
                "import loads an SQLite database; import into SQLite, then point replicas at PostgreSQL",
            )));
        };
        backend
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
