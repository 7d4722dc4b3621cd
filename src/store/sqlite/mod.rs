//! The SQLite backend: the connection pool, migrations, the owner lock, the single writer
//! with group commit, and every SQL statement (one module per repository). Knows nothing
//! about HTTP or AWS error texts; operations reach it only through `store::repo`.

mod activities;
mod admin;
mod aliases;
mod executions;
mod machines;
mod map_runs;
mod tags;
pub mod transfer;
mod versions;
mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use r2d2::{ManageConnection, Pool};
use r2d2_sqlite::SqliteConnectionManager;
use std::fs::{File, OpenOptions};

use anyhow::{anyhow, bail};

use super::repo;
use super::{StoreError, StoreOptions, Synchronous};
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

repo::backend_tx! {
    /// One transaction's repositories over SQLite.
    SqliteTx over Connection
}

impl crate::store::rows::Cols for rusqlite::Row<'_> {
    type Error = rusqlite::Error;
    fn int(&self, i: usize) -> rusqlite::Result<i64> {
        self.get(i)
    }
    fn opt_int(&self, i: usize) -> rusqlite::Result<Option<i64>> {
        self.get(i)
    }
    fn text(&self, i: usize) -> rusqlite::Result<String> {
        self.get(i)
    }
    fn opt_text(&self, i: usize) -> rusqlite::Result<Option<String>> {
        self.get(i)
    }
    fn flag(&self, i: usize) -> rusqlite::Result<bool> {
        self.get(i)
    }
    fn opt_real(&self, i: usize) -> rusqlite::Result<Option<f64>> {
        self.get(i)
    }
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
            ) => StoreError::Unavailable {
                cause: short_cause(e.sqlite_error_code()).into(),
                source: Some(Arc::new(e)),
            },
            _ => StoreError::Internal {
                detail: e.to_string(),
                source: Some(Arc::new(e)),
            },
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::unavailable(format!("database connection: {e}"))
    }
}

fn short_cause(code: Option<ErrorCode>) -> &'static str {
    match code {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => "database is locked",
        Some(ErrorCode::DiskFull) => "database or disk is full",
        Some(ErrorCode::ReadOnly) => "database is read-only",
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => "database is corrupt",
        Some(ErrorCode::CannotOpen) => "unable to open database file",
        _ => "disk I/O error",
    }
}

/// The database: a pool of connections for reads and the single writer's queue.
#[derive(Clone)]
pub(super) struct Sqlite {
    pool: Pool<SqliteConnectionManager>,
    /// Write requests go to one writer thread (group commit, see `writer`): SQLite admits
    /// one writer at a time anyway, and queuing here never surfaces SQLITE_BUSY to a client.
    writer: tokio::sync::mpsc::Sender<writer::Msg>,
    /// Bumped after every commit, before any request of it is answered; in-memory caches
    /// keep an entry only while the epoch it was read at is current.
    epoch: Arc<AtomicU64>,
    /// The exclusive lock on `<db>.lock`, held while any clone of this store lives: one
    /// sfnlite per database, so nothing another process writes can surprise this one.
    _owner: Arc<File>,
}

impl Sqlite {
    /// Opens (creating if needed) the database at `path`, takes the owner lock, checks that
    /// the schema is one this binary knows and applies pending migrations (all in one
    /// transaction). Every failure names the file and the cause; nothing is scanned.
    pub(super) fn open(path: &Path, options: &StoreOptions) -> anyhow::Result<Sqlite> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow!("cannot create database folder {}: {e}", dir.display()))?;
        }
        let owner = lock_owner(path)?;
        let opts = options.clone();
        let mut manager = SqliteConnectionManager::file(path).with_init(move |c| {
            // WAL lets readers run beside the single writer; foreign keys are per connection
            // and off by default in SQLite, and they carry the cascade and no-dangling-route rules.
            c.busy_timeout(opts.busy_timeout)?;
            // Room for every statement the operations prepare: rusqlite's default of 16
            // would evict and re-parse some on every request.
            c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            // No connection checkpoints on commit: the checkpointer thread does, beside the
            // writer, so no write waits for pages to be copied into the main file. Each request
            // of a group commit runs in a SAVEPOINT, whose statement journal SQLite would
            // otherwise spill to a file in the temp folder (a write system call per page):
            // in memory it costs nothing durable, as it is discarded at every commit.
            c.execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = {}; PRAGMA wal_autocheckpoint = {}; PRAGMA temp_store = MEMORY;",
                opts.synchronous.pragma(),
                if opts.read_only { 1000 } else { 0 }
            ))?;
            if let Some(bytes) = opts.max_db_bytes {
                let page: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0))?;
                c.execute_batch(&format!(
                    "PRAGMA max_page_count = {};",
                    (bytes / page.max(1) as u64).max(1)
                ))?;
            }
            Ok(())
        });
        if options.read_only {
            manager = manager
                .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX);
        }
        let fail = |e: &(dyn std::error::Error + 'static)| open_failure(path, e);
        // One direct connection first: r2d2 would retry a failing open until its timeout,
        // while a corrupt or locked file should be reported at once. It becomes the writer's.
        let writer_conn = manager.connect().map_err(|e| fail(&e))?;
        // Connections open on demand: r2d2 would otherwise open all eight before the first
        // request, which is most of the start-up time.
        let pool = Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| fail(&e))?;
        let mut conn = pool.get().map_err(|e| fail(&e))?;
        check_schema_known(&conn, path)?;
        if !options.read_only {
            let report = embedded::migrations::runner()
                .set_grouped(true)
                .set_abort_divergent(true)
                .run(&mut *conn)
                .map_err(|e| fail(&e))?;
            // One line of ours per migration applied, none when the schema is current.
            for m in report.applied_migrations() {
                tracing::info!(version = m.version(), name = m.name(), "applied migration");
            }
        }
        drop(conn);
        let owner = Arc::new(owner);
        let gate = writer::Gate::default();
        if !options.read_only {
            // One pooled connection is the checkpointer's for good.
            let conn = pool.get().map_err(|e| fail(&e))?;
            let db = File::open(path).map_err(|e| fail(&e))?;
            checkpointer(conn, db, Arc::downgrade(&owner), gate.clone())
                .map_err(|e| anyhow!("cannot start the checkpoint thread: {e}"))?;
        }
        let flush = match options.synchronous {
            Synchronous::Full | Synchronous::Extra if !options.read_only => Some(open_wal(path)?),
            _ => None,
        };
        let epoch = Arc::new(AtomicU64::new(0));
        let writer = writer::spawn(writer_conn, epoch.clone(), flush, gate)
            .map_err(|e| anyhow!("cannot start the writer thread: {e}"))?;
        Ok(Sqlite {
            pool,
            writer,
            epoch,
            _owner: owner,
        })
    }

    /// Runs `f` as one atomic write: in its own SAVEPOINT of the writer's current IMMEDIATE
    /// transaction, answered only after that transaction commits. `Err` from `f` undoes
    /// exactly what `f` did; a failed commit is reported to every request it covered.
    pub(super) async fn write<T, E, F>(
        &self,
        deadline: Option<tokio::time::Instant>,
        f: F,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
    {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let claim = Arc::new(writer::Claim::default());
        let job_claim = claim.clone();
        let job: writer::Job = Box::new(
            move |tx: Option<&Transaction<'_>>| -> (bool, writer::Completion) {
                let tx = match tx {
                    Some(tx) if job_claim.claim() => tx,
                    Some(_) => return (false, Box::new(|_| {})),
                    None => {
                        return (
                            false,
                            Box::new(move |commit: Result<(), StoreError>| {
                                let e = commit
                                    .err()
                                    .unwrap_or_else(|| StoreError::internal("write was not run"));
                                let _ = done_tx.send(Err(E::from(e)));
                            }),
                        )
                    }
                };
                match f(tx) {
                    Ok(value) => (
                        true,
                        Box::new(move |commit: Result<(), StoreError>| {
                            let _ = done_tx.send(commit.map(|()| value).map_err(E::from));
                        }),
                    ),
                    Err(e) => (
                        false,
                        Box::new(move |_| {
                            let _ = done_tx.send(Err(e));
                        }),
                    ),
                }
            },
        );
        let stopped = || StoreError::internal("the writer thread has stopped");
        let send = self.writer.send(writer::Msg::Job(job));
        match deadline {
            Some(at) => match tokio::time::timeout_at(at, send).await {
                Ok(sent) => sent.map_err(|_| stopped())?,
                // Never queued, so never run.
                Err(_) => return Err(StoreError::Timeout.into()),
            },
            None => send.await.map_err(|_| stopped())?,
        }
        let lost = || StoreError::internal("a write request failed inside the writer");
        let Some(at) = deadline else {
            return done_rx.await.unwrap_or_else(|_| Err(lost().into()));
        };
        tokio::pin!(done_rx);
        tokio::select! {
            done = &mut done_rx => done.unwrap_or_else(|_| Err(lost().into())),
            () = tokio::time::sleep_until(at) => {
                if claim.abandon() {
                    Err(StoreError::Timeout.into())
                } else {
                    // The writer has it: its outcome is the truth, and it comes within a batch.
                    done_rx.await.unwrap_or_else(|_| Err(lost().into()))
                }
            }
        }
    }

    /// The current commit epoch (see the `epoch` field).
    pub(super) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Runs `f` on a pooled connection inside a read transaction, so it sees one snapshot.
    pub(super) async fn read<T, E, F>(
        &self,
        deadline: Option<tokio::time::Instant>,
        f: F,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        let read = run_blocking(move || {
            let mut conn = pool.get().map_err(StoreError::from)?;
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Deferred)
                .map_err(StoreError::from)?;
            f(&tx)
        });
        match deadline {
            // A read changes nothing, so giving up on it is always safe.
            Some(at) => tokio::time::timeout_at(at, read)
                .await
                .unwrap_or_else(|_| Err(StoreError::Timeout.into())),
            None => read.await,
        }
    }

    /// Whether the database answers a trivial query (for `GET /health`).
    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        self.read(None, |tx| {
            tx.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(StoreError::from)
        })
        .await
    }

    /// Flushes the WAL into the main file; called on shutdown so the file alone is complete.
    /// A checkpoint that meets another one in progress (the checkpointer thread's) reports
    /// busy instead of waiting, so it is tried again for a while; the WAL is left as it is
    /// (still complete and durable) if it never gets through.
    pub(super) fn checkpoint(&self) -> Result<(), StoreError> {
        let conn = self.pool.get()?;
        for _ in 0..200 {
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy == 0 {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(StoreError::unavailable(
            "the write-ahead log could not be checkpointed: the database stays in WAL form",
        ))
    }
}

/// The WAL file for the writer's flush thread, and its folder synced once, so the file's
/// own name is durable too (SQLite would do that on its first fsync, which the writer's
/// connection no longer makes).
fn open_wal(path: &Path) -> anyhow::Result<writer::Flush> {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    let wal_path = std::path::PathBuf::from(name);
    let wal = OpenOptions::new()
        .write(true)
        .open(&wal_path)
        .map_err(|e| {
            anyhow!(
                "cannot open the write-ahead log {}: {e}",
                wal_path.display()
            )
        })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| anyhow!("cannot sync the database folder {}: {e}", dir.display()))?;
    Ok(writer::Flush { wal })
}

/// Prepared statements kept per connection (the store has about a hundred distinct ones).
const STATEMENT_CACHE: usize = 256;

/// WAL frames beyond which the checkpointer waits for readers and the writer to let it
/// finish (a RESTART checkpoint), so the WAL cannot grow without bound under steady load.
const WAL_RESTART_FRAMES: i64 = 16_384;

/// How often the checkpointer copies the WAL into the main file: each pass fsyncs the WAL
/// and writes pages, so rarely enough to cost little, often enough that little is left to
/// copy when the WAL restarts.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// How long a RESTART checkpoint waits for readers still on the old WAL while it holds the
/// writer back: reads take milliseconds, and a miss is retried on the next pass.
const RESTART_WAIT: Duration = Duration::from_millis(50);

/// Copies committed WAL pages into the main file on its own thread: a PASSIVE checkpoint
/// never blocks the writer or a reader. Under steady writes a passive pass never catches up
/// (frames arrive while it copies), so once the WAL is long the checkpointer holds the
/// writer's `gate` for one RESTART checkpoint: the next write starts the WAL over, and the
/// file keeps its size, so later fsyncs overwrite allocated blocks instead of growing a file.
/// Passive passes leave the main file's copied pages unsynced, and the RESTART fsyncs it, so
/// that fsync is done first without the gate, twice, each time copying what came meanwhile:
/// the writer then waits only for the last few pages (measured: 70–90 ms stalls otherwise).
/// The thread ends with the store (`owner` gone).
fn checkpointer(
    conn: r2d2::PooledConnection<SqliteConnectionManager>,
    db: File,
    owner: std::sync::Weak<File>,
    gate: writer::Gate,
) -> std::io::Result<()> {
    conn.busy_timeout(RESTART_WAIT)
        .map_err(std::io::Error::other)?;
    let passive = move |conn: &rusqlite::Connection| -> rusqlite::Result<(i64, i64, i64)> {
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
    };
    std::thread::Builder::new()
        .name("sfnlite-checkpoint".into())
        .spawn(move || {
            while owner.strong_count() > 0 {
                let pause = match passive(&conn) {
                    // Even a complete pass leaves the WAL growing while readers keep using it.
                    Ok((_, log, _)) if log > WAL_RESTART_FRAMES => {
                        for _ in 0..2 {
                            if let Err(e) = db.sync_data() {
                                tracing::debug!(error = %e, "syncing the main file failed; the checkpoint will");
                            }
                            let _ = passive(&conn);
                        }
                        let _writes_wait = gate.lock().unwrap_or_else(|e| e.into_inner());
                        let _ = conn.execute_batch("PRAGMA wal_checkpoint(RESTART);");
                        CHECKPOINT_EVERY
                    }
                    Ok(_) => CHECKPOINT_EVERY,
                    Err(e) => {
                        tracing::debug!(error = %e, "checkpoint failed; retrying");
                        Duration::from_millis(100)
                    }
                };
                std::thread::sleep(pause);
            }
        })
        .map(|_| ())
}

async fn run_blocking<T, E, F>(f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: FnOnce() -> Result<T, E> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(StoreError::internal(format!("storage task failed: {e}")).into()),
    }
}

/// Takes the exclusive lock on `<db>.lock`, or explains who holds it.
fn lock_owner(path: &Path) -> anyhow::Result<File> {
    let lock_path = lock_path(path);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| anyhow!("cannot create lock file {}: {e}", lock_path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "database {} is in use by another sfnlite process (lock file {} is held); stop it first",
            path.display(),
            lock_path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => bail!("cannot lock {}: {e}", lock_path.display()),
    }
}

/// The owner lock file beside the database.
pub fn lock_path(db: &Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    name.into()
}

/// A start-up failure in words an operator can act on, classified by the SQLite error code
/// found in the cause's chain.
fn open_failure(path: &Path, e: &(dyn std::error::Error + 'static)) -> anyhow::Error {
    let mut code = None;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(sqlite) = err.downcast_ref::<rusqlite::Error>() {
            code = sqlite.sqlite_error_code();
            break;
        }
        cur = err.source();
    }
    let cause = match code {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            "the file is corrupt or not an SQLite database"
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "the database is locked by another process"
        }
        Some(ErrorCode::ReadOnly) => "the database is read-only",
        Some(ErrorCode::CannotOpen) => "the file cannot be opened",
        _ => "it could not be opened",
    };
    anyhow!("cannot use database {}: {cause} ({e})", path.display())
}

/// Refuses a database whose schema is newer than any migration this binary carries.
fn check_schema_known(conn: &Connection, path: &Path) -> anyhow::Result<()> {
    let newest_known = embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| m.version())
        .max()
        .unwrap_or(0);
    let has_history: bool = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history'",
            [],
            |_| Ok(true),
        )
        .optional()
        .map_err(|e| open_failure(path, &e))?
        .unwrap_or(false);
    if !has_history {
        return Ok(());
    }
    let applied: Option<i64> = conn
        .query_row(
            "SELECT MAX(version) FROM refinery_schema_history",
            [],
            |r| r.get(0),
        )
        .map_err(|e| open_failure(path, &e))?;
    let applied = applied.unwrap_or(0);
    if applied > i64::from(newest_known) {
        bail!(
            "cannot use database {}: its schema version {applied} is newer than this sfnlite knows ({newest_known}); upgrade sfnlite",
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh database with one table `t (x INTEGER)`.
    async fn store_with_table() -> (tempfile::TempDir, Sqlite) {
        let dir = tempfile::tempdir().unwrap();
        let store = Sqlite::open(&dir.path().join("t.db"), &StoreOptions::default()).unwrap();
        store
            .write(None, |tx| {
                tx.execute_batch("CREATE TABLE t (x INTEGER)")
                    .map_err(StoreError::from)
            })
            .await
            .unwrap();
        (dir, store)
    }

    /// Every `x` of table `t`, in insertion order.
    async fn rows(store: &Sqlite) -> Vec<i64> {
        store
            .read(None, |tx| {
                let mut st = tx.prepare("SELECT x FROM t ORDER BY rowid")?;
                let rows = st
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<Vec<i64>, _>>()?;
                Ok::<_, StoreError>(rows)
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_upgrade_keeps_every_history_event_stored_one_per_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            // A database as V7 left it: one row per history event.
            let mut c = Connection::open(&path).unwrap();
            embedded::migrations::runner()
                .set_target(refinery::Target::Version(7))
                .run(&mut c)
                .unwrap();
            c.execute_batch(
                r#"INSERT INTO state_machines (id, arn, account, region, name, type, created_ms)
                   VALUES (1, 'arn:m', 'a', 'r', 'm', 'STANDARD', 1);
                   INSERT INTO revisions (id, state_machine_id, definition, role_arn, logging, tracing, encryption, created_ms)
                   VALUES (1, 1, '{}', 'r', '{}', '{}', '{}', 1);
                   INSERT INTO executions (id, arn, machine_arn, name, revision, status, input, start_ms, position, due_ms)
                   VALUES (7, 'arn:e', 'arn:m', 'e', 1, 'RUNNING', '{}', 1, '{}', 1);
                   INSERT INTO history_events VALUES (7, 1, 0, 'ExecutionStarted', 10, '{"executionStartedEventDetails":{"input":"{ \"n\": 1.50 }"}}');
                   INSERT INTO history_events VALUES (7, 2, 0, 'PassStateEntered', 11, NULL);"#,
            )
            .unwrap();
        }
        let store = Sqlite::open(&path, &StoreOptions::default()).unwrap();
        let events = store
            .read(None, |tx| {
                repo::Executions::history(
                    &executions::Repo(tx),
                    crate::domain::records::ExecutionKey(7),
                    None,
                    false,
                    10,
                )
            })
            .await
            .unwrap();
        let seen: Vec<_> = events
            .iter()
            .map(|e| {
                (
                    e.id,
                    e.previous_id,
                    e.kind.as_str(),
                    e.timestamp_ms,
                    e.details.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    1,
                    0,
                    "ExecutionStarted",
                    10,
                    Some(r#"{"executionStartedEventDetails":{"input":"{ \"n\": 1.50 }"}}"#)
                ),
                (2, 0, "PassStateEntered", 11, None)
            ]
        );
        // The next event continues the numbering, and a gap is still refused.
        let next = |id: u64| {
            move |tx: &Transaction<'_>| {
                executions::append(
                    tx,
                    7,
                    &[crate::domain::records::HistoryEvent {
                        id,
                        previous_id: 2,
                        kind: "PassStateExited".into(),
                        timestamp_ms: 12,
                        details: None,
                    }],
                )
            }
        };
        assert!(store.write(None, next(4)).await.is_err());
        store.write(None, next(3)).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_in_a_batch_rolls_back_only_itself() {
        let (_dir, store) = store_with_table().await;
        let writes = (0..64).map(|i| {
            let s = store.clone();
            tokio::spawn(async move {
                s.write(None, move |tx| {
                    tx.execute("INSERT INTO t VALUES (?1)", [i])?;
                    if i % 2 == 1 {
                        return Err(StoreError::internal("odd"));
                    }
                    Ok(())
                })
                .await
            })
        });
        let mut ok = 0;
        for w in writes {
            if w.await.unwrap().is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 32);
        let mut rows = rows(&store).await;
        rows.sort_unstable();
        assert_eq!(rows, (0..64).filter(|i| i % 2 == 0).collect::<Vec<i64>>());
    }

    #[tokio::test]
    async fn every_commit_moves_the_epoch_before_the_caller_hears_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Sqlite::open(&dir.path().join("t.db"), &StoreOptions::default()).unwrap();
        let before = store.epoch();
        store
            .write(None, |_| Ok::<_, StoreError>(()))
            .await
            .unwrap();
        assert!(store.epoch() > before);
    }

    /// Fault injection: one request's statement ends the whole transaction, as SQLite does on
    /// a full disk or an I/O error. Whatever batch it lands in, every request told "written"
    /// is in the database and every request told "failed" is not.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_that_loses_the_transaction_never_misreports_its_batch() {
        let (_dir, store) = store_with_table().await;
        for round in 0..8i64 {
            let writes = (0..64i64).map(|i| {
                let s = store.clone();
                let x = round * 1000 + i;
                tokio::spawn(async move {
                    let told = s
                        .write(None, move |tx| {
                            tx.execute("INSERT INTO t VALUES (?1)", [x])?;
                            if i % 16 == 5 {
                                // What SQLite does to the transaction on SQLITE_FULL/IOERR.
                                tx.execute_batch("ROLLBACK")?;
                                return Err(StoreError::unavailable("database or disk is full"));
                            }
                            Ok(())
                        })
                        .await;
                    (x, told.is_ok())
                })
            });
            let mut outcomes = Vec::new();
            for w in writes {
                outcomes.push(w.await.unwrap());
            }
            let present: std::collections::HashSet<i64> = rows(&store).await.into_iter().collect();
            for (x, ok) in &outcomes {
                assert_eq!(present.contains(x), *ok, "row {x}: told ok = {ok}");
            }
            assert!(outcomes.iter().any(|(_, ok)| !ok));
        }
        // The writer is healthy afterwards.
        store
            .write(None, |tx| {
                tx.execute("INSERT INTO t VALUES (-1)", [])
                    .map_err(StoreError::from)
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_write_abandoned_before_the_writer_takes_it_never_runs() {
        let (_dir, store) = store_with_table().await;
        // Hold the writer in a long job so the next one waits in the queue past its deadline.
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let busy = {
            let s = store.clone();
            tokio::spawn(async move {
                s.write(None, move |_| {
                    let _ = started_tx.send(());
                    let _ = release_rx.recv();
                    Ok::<_, StoreError>(())
                })
                .await
            })
        };
        started_rx.await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(50);
        let late = store
            .write(Some(deadline), |tx| {
                tx.execute("INSERT INTO t VALUES (1)", [])
                    .map_err(StoreError::from)
            })
            .await;
        assert!(matches!(late, Err(StoreError::Timeout)), "{late:?}");
        release_tx.send(()).unwrap();
        busy.await.unwrap().unwrap();
        // Queue order: this write is answered after the abandoned one was decided.
        store
            .write(None, |tx| {
                tx.execute("INSERT INTO t VALUES (2)", [])
                    .map_err(StoreError::from)
            })
            .await
            .unwrap();
        assert_eq!(rows(&store).await, [2]);
    }
}
