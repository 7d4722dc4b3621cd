//! The PostgreSQL backend, for several sfnlite replicas on one database: the pool, the
//! migrations of `migrations/postgres/`, transactions retried when they lose a conflict to
//! another replica, this replica's registration and heartbeat, the listener that hears
//! other replicas' commits, and every SQL statement (one module per repository, as in
//! `store::sqlite`). Knows SQL and the `postgres` client; nothing of HTTP or the engine.
//!
//! Writes run SERIALIZABLE, so every rule the SQLite backend gets from its single writer
//! (read a machine, then number a version; find no version of a revision, then publish it)
//! holds across processes too: a transaction that would break it fails with a
//! serialization error and is run again on what the other committed. Reads run REPEATABLE
//! READ, one snapshot each. The client is synchronous; every transaction runs on a
//! blocking thread.

mod activities;
mod admin;
mod aliases;
mod executions;
mod machines;
mod map_runs;
mod tags;
mod versions;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{NoTls, Row, Statement};
use r2d2::Pool;
use r2d2_postgres::PostgresConnectionManager;

use super::repo;
use super::{Kind, StoreError};

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// What a replica is to the others: its id in `replicas`, and how long its leases and its
/// heartbeat last.
#[derive(Debug, Clone)]
pub struct Replica {
    pub id: String,
    pub lease: Duration,
}

/// How to reach and share the database.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// How long a replica's leases last and how long it may go unseen before the others
    /// take over what it held.
    pub lease: Duration,
    /// Connections in the pool.
    pub pool: u32,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            lease: Duration::from_secs(5),
            pool: 16,
        }
    }
}

/// A pooled connection with the statements prepared on it.
pub(super) struct Conn {
    client: postgres::Client,
    statements: HashMap<String, Statement>,
    /// Set when the session may hold what it must not carry back into the pool.
    broken: bool,
}

/// r2d2_postgres's manager, with a statement cache per connection: a statement prepared
/// once is sent as one round trip afterwards instead of two.
struct Manager(PostgresConnectionManager<NoTls>);

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;
    fn connect(&self) -> Result<Conn, postgres::Error> {
        Ok(Conn {
            client: self.0.connect()?,
            statements: HashMap::new(),
            broken: false,
        })
    }
    fn is_valid(&self, c: &mut Conn) -> Result<(), postgres::Error> {
        self.0.is_valid(&mut c.client)
    }
    fn has_broken(&self, c: &mut Conn) -> bool {
        c.broken || self.0.has_broken(&mut c.client)
    }
}

/// SQLSTATEs of a transaction that lost to a concurrent one: run it again.
fn lost_conflict(e: &postgres::Error) -> bool {
    matches!(e.code().map(|c| c.code()), Some("40001" | "40P01"))
}

/// The server's own words for a database error (the client's Display says only "db error").
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("PostgreSQL: {} ({})", db.message(), db.code().code()),
        None => format!("PostgreSQL: {e}"),
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        let code = e.code().map(|c| c.code().to_owned());
        match code.as_deref() {
            // Connection trouble, a server shutting down or out of resources, a lost
            // conflict past its retries: the client may retry.
            None
            | Some(
                "40001" | "40P01" | "53100" | "53200" | "53300" | "57P01" | "57P02" | "57P03"
                | "08000" | "08003" | "08006" | "25006",
            ) => StoreError::Unavailable {
                cause: describe(&e),
                source: Some(Arc::new(e)),
            },
            _ => StoreError::Internal {
                detail: describe(&e),
                source: Some(Arc::new(e)),
            },
        }
    }
}

/// One transaction on one connection, shared by its repositories.
pub(super) struct Pg {
    conn: RefCell<r2d2::PooledConnection<Manager>>,
    replica: Arc<Replica>,
    /// A statement failed because another transaction won: the whole closure runs again.
    conflict: Cell<bool>,
}

/// Statement parameters.
pub(super) type Params<'p> = [&'p (dyn ToSql + Sync)];

impl Pg {
    fn fail(&self, e: postgres::Error) -> StoreError {
        if lost_conflict(&e) {
            self.conflict.set(true);
        }
        e.into()
    }

    /// `sql` prepared on this connection, once per connection.
    fn statement(&self, conn: &mut Conn, sql: &str) -> repo::Result<Statement> {
        if let Some(st) = conn.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = conn.client.prepare(sql).map_err(|e| self.fail(e))?;
        conn.statements.insert(sql.to_owned(), st.clone());
        Ok(st)
    }

    /// The rows `sql` answers.
    pub(super) fn rows(&self, sql: &str, params: &Params<'_>) -> repo::Result<Vec<Row>> {
        let mut conn = self.conn.borrow_mut();
        let conn: &mut Conn = &mut conn;
        let st = self.statement(conn, sql)?;
        conn.client.query(&st, params).map_err(|e| self.fail(e))
    }

    /// The row `sql` answers, if any.
    pub(super) fn opt(&self, sql: &str, params: &Params<'_>) -> repo::Result<Option<Row>> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    /// The one row `sql` answers.
    pub(super) fn one(&self, sql: &str, params: &Params<'_>) -> repo::Result<Row> {
        self.opt(sql, params)?
            .ok_or_else(|| StoreError::internal(format!("no row for: {sql}")))
    }

    /// Runs `sql`; returns how many rows it changed.
    pub(super) fn exec(&self, sql: &str, params: &Params<'_>) -> repo::Result<u64> {
        let mut conn = self.conn.borrow_mut();
        let conn: &mut Conn = &mut conn;
        let st = self.statement(conn, sql)?;
        conn.client.execute(&st, params).map_err(|e| self.fail(e))
    }

    /// Every row mapped by `f` (one of `store::rows`).
    pub(super) fn all<T>(
        &self,
        sql: &str,
        params: &Params<'_>,
        f: fn(&Row) -> Result<T, postgres::Error>,
    ) -> repo::Result<Vec<T>> {
        self.rows(sql, params)?
            .iter()
            .map(|r| f(r).map_err(StoreError::from))
            .collect()
    }

    /// The row mapped by `f`, if any.
    pub(super) fn first<T>(
        &self,
        sql: &str,
        params: &Params<'_>,
        f: fn(&Row) -> Result<T, postgres::Error>,
    ) -> repo::Result<Option<T>> {
        match self.opt(sql, params)? {
            Some(r) => Ok(Some(f(&r)?)),
            None => Ok(None),
        }
    }

    /// This replica.
    pub(super) fn replica(&self) -> &Replica {
        &self.replica
    }
}

impl super::rows::Cols for Row {
    type Error = postgres::Error;
    fn int(&self, i: usize) -> Result<i64, postgres::Error> {
        self.try_get(i)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, postgres::Error> {
        self.try_get(i)
    }
    fn text(&self, i: usize) -> Result<String, postgres::Error> {
        self.try_get(i)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, postgres::Error> {
        self.try_get(i)
    }
    fn flag(&self, i: usize) -> Result<bool, postgres::Error> {
        self.try_get(i)
    }
    fn opt_real(&self, i: usize) -> Result<Option<f64>, postgres::Error> {
        self.try_get(i)
    }
}

repo::backend_tx! {
    /// One transaction's repositories over PostgreSQL.
    PgTx over Pg
}

/// Attempts at a transaction that keeps losing conflicts before its caller hears 503.
const ATTEMPTS: u32 = 30;

/// Lost attempts after which a write stops competing and runs alone: many writers on one
/// hot row (updates and publishes of one machine from every replica) would otherwise keep
/// aborting each other under SERIALIZABLE until some run out of attempts.
const ALONE_AFTER: u32 = 3;

/// The advisory lock every write holds shared for its transaction and a write that runs
/// alone holds exclusive around its transaction (taken before BEGIN, so its snapshot
/// follows every write it waited for, and no writer overlaps it to conflict with).
const WRITERS_LOCK: i64 = 7_468_202;

/// The class of the advisory locks by which writes on one resource queue ([`Store::write_on`]),
/// the resource's key hashed by the server (`hashtext`), so every replica computes the same
/// lock. Two-part keys are a space apart from [`WRITERS_LOCK`]'s.
///
/// [`Store::write_on`]: crate::store::Store::write_on
const KEYED_LOCKS: i32 = 7_468;

/// The channel a commit that queued activity tasks notifies, so every replica's long polls
/// look again.
pub(super) const TASKS_CHANNEL: &str = "sfnlite_tasks";

/// The database, shared by the replicas.
#[derive(Clone)]
pub(super) struct Postgres {
    pool: Pool<Manager>,
    url: Arc<str>,
    /// Transactions of this process that lost a conflict (each attempt counts).
    lost: Arc<AtomicU64>,
    replica: Arc<Replica>,
    /// Ends the heartbeat (and leaves `replicas`) when the last clone goes.
    _registered: Arc<Registration>,
}

impl Postgres {
    /// Connects, applies the migrations the database lacks, registers this process as a
    /// replica and starts its heartbeat.
    pub(super) fn open(url: &str, options: &PgOptions) -> anyhow::Result<Postgres> {
        // The client runs a runtime of its own per connection, which cannot start on an
        // async thread: the connecting is done on a thread of its own.
        let (url, options) = (url.to_owned(), options.clone());
        std::thread::spawn(move || Postgres::open_blocking(&url, &options))
            .join()
            .map_err(|_| anyhow::anyhow!("connecting to PostgreSQL failed"))?
    }

    fn open_blocking(url: &str, options: &PgOptions) -> anyhow::Result<Postgres> {
        let config: postgres::Config = url
            .parse()
            .map_err(|e| anyhow::anyhow!("cannot use database {}: {e}", redacted(url)))?;
        let applied = migrate(url)
            .map_err(|e| anyhow::anyhow!("cannot use database {}: {e}", redacted(url)))?;
        for v in applied {
            tracing::info!(version = v, "applied PostgreSQL migration");
        }
        let pool = Pool::builder()
            .max_size(options.pool.max(2))
            .min_idle(Some(1))
            // A broken connection shows on use (and is then dropped), not by a round trip
            // before every transaction.
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(5))
            .build(Manager(PostgresConnectionManager::new(config, NoTls)))
            .map_err(|e| anyhow::anyhow!("cannot use database {}: {e}", redacted(url)))?;
        let replica = Arc::new(Replica {
            id: uuid::Uuid::new_v4().to_string(),
            lease: options.lease,
        });
        let registered = Arc::new(Registration::start(pool.clone(), replica.clone())?);
        Ok(Postgres {
            pool,
            url: url.into(),
            replica,
            lost: Arc::default(),
            _registered: registered,
        })
    }

    /// Runs `f` in a SERIALIZABLE transaction (REPEATABLE READ for reads), again while it
    /// loses conflicts and `repeat` allows; the deadline is checked before it starts and
    /// before it commits, so a late write is rolled back rather than committed unheard.
    pub(super) async fn transact<T, E, F>(
        &self,
        kind: Kind,
        deadline: Option<tokio::time::Instant>,
        repeat: bool,
        key: Option<String>,
        mut f: F,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnMut(&dyn repo::Tx) -> Result<T, E> + Send + 'static,
    {
        let me = self.clone();
        let job = move || me.transact_blocking(kind, deadline, repeat, key.as_deref(), &mut f);
        match tokio::task::spawn_blocking(job).await {
            Ok(r) => r,
            Err(e) => Err(StoreError::internal(format!("storage task failed: {e}")).into()),
        }
    }

    fn transact_blocking<T, E, F>(
        &self,
        kind: Kind,
        deadline: Option<tokio::time::Instant>,
        repeat: bool,
        key: Option<&str>,
        f: &mut F,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnMut(&dyn repo::Tx) -> Result<T, E>,
    {
        let late = || deadline.is_some_and(|d| tokio::time::Instant::now() >= d);
        let begin = match kind {
            Kind::Write => "BEGIN ISOLATION LEVEL SERIALIZABLE",
            Kind::Read => "BEGIN ISOLATION LEVEL REPEATABLE READ",
        };
        let shared_begin = format!("{begin}; SELECT pg_advisory_xact_lock_shared({WRITERS_LOCK})");
        let mut attempt = 0;
        loop {
            attempt += 1;
            if late() {
                return Err(StoreError::Timeout.into());
            }
            let mut conn = self
                .pool
                .get()
                .map_err(|e| StoreError::unavailable(format!("database connection: {e}")))?;
            let alone = kind == Kind::Write && attempt > ALONE_AFTER;
            queue(&mut conn, key, alone).map_err(StoreError::from)?;
            let began = match kind {
                Kind::Write if alone => conn.client.batch_execute(begin),
                Kind::Write => conn.client.batch_execute(&shared_begin),
                Kind::Read => conn.client.batch_execute(begin),
            };
            if let Err(e) = began {
                if alone {
                    let _ = conn.client.batch_execute("ROLLBACK");
                }
                release(&mut conn, key, alone);
                return Err(StoreError::from(e).into());
            }
            let pg = Pg {
                conn: RefCell::new(conn),
                replica: self.replica.clone(),
                conflict: Cell::new(false),
            };
            let out = f(&PgTx::new(&pg));
            let conflict = pg.conflict.get();
            let mut conn = pg.conn.into_inner();
            let again = |attempt: u32| repeat && attempt < ATTEMPTS;
            let mut lost = false;
            let ended = match out {
                Ok(value) => {
                    if late() && kind == Kind::Write {
                        let _ = conn.client.batch_execute("ROLLBACK");
                        Some(Err(StoreError::Timeout.into()))
                    } else {
                        match conn.client.batch_execute("COMMIT") {
                            Ok(()) => Some(Ok(value)),
                            Err(e) => {
                                lost = lost_conflict(&e);
                                (!(lost && again(attempt))).then(|| Err(StoreError::from(e).into()))
                            }
                        }
                    }
                }
                Err(e) => {
                    let _ = conn.client.batch_execute("ROLLBACK");
                    lost = conflict;
                    (!(lost && again(attempt))).then_some(Err(e))
                }
            };
            if lost {
                self.lost.fetch_add(1, Ordering::Relaxed);
            }
            release(&mut conn, key, alone);
            match ended {
                Some(r) => return r,
                None => backoff(attempt),
            }
        }
    }

    /// Attempts at transactions of this process that lost a conflict, so far.
    pub(super) fn lost_conflicts(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// Whether the database answers a trivial query (for `GET /health`).
    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        let pool = self.pool.clone();
        let job = move || {
            let mut conn = pool
                .get()
                .map_err(|e| StoreError::unavailable(format!("database connection: {e}")))?;
            conn.client.simple_query("SELECT 1")?;
            Ok(())
        };
        match tokio::task::spawn_blocking(job).await {
            Ok(r) => r,
            Err(e) => Err(StoreError::internal(format!("storage task failed: {e}"))),
        }
    }

    /// This replica.
    pub(super) fn replica(&self) -> &Replica {
        &self.replica
    }

    /// Tells `signal` whenever another replica (or this one) commits activity tasks, for as
    /// long as this store lives; reconnects after the database restarts.
    pub(super) fn listen_for_tasks(&self, signal: Arc<tokio::sync::Notify>) {
        let url = self.url.clone();
        let alive = Arc::downgrade(&self._registered);
        let spawned = std::thread::Builder::new()
            .name("sfnlite-listen".into())
            .spawn(move || {
                while alive.strong_count() > 0 {
                    let mut client = match postgres::Client::connect(&url, NoTls) {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::debug!(error = %e, "listener cannot connect; retrying");
                            std::thread::sleep(Duration::from_millis(500));
                            continue;
                        }
                    };
                    if client
                        .batch_execute(&format!("LISTEN {TASKS_CHANNEL}"))
                        .is_err()
                    {
                        continue;
                    }
                    // Whatever was queued while not listening is found by the next look.
                    signal.notify_waiters();
                    while alive.strong_count() > 0 {
                        let mut heard = false;
                        let mut lost = false;
                        {
                            let mut n = client.notifications();
                            let mut it = n.timeout_iter(Duration::from_millis(500));
                            loop {
                                match it.next() {
                                    Ok(Some(_)) => heard = true,
                                    Ok(None) => break,
                                    Err(_) => {
                                        lost = true;
                                        break;
                                    }
                                }
                            }
                        }
                        if heard {
                            signal.notify_waiters();
                        }
                        if lost || client.is_closed() {
                            break;
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the PostgreSQL listener; long polls look again every few seconds");
        }
    }
}

/// Takes, before a write's BEGIN (so its snapshot follows every write it waited for), the
/// lock of the writes on its key and, when it runs alone, the writers' lock exclusive: in
/// that order, key then writers, so the two kinds never wait for each other in a circle.
fn queue(
    conn: &mut r2d2::PooledConnection<Manager>,
    key: Option<&str>,
    alone: bool,
) -> Result<(), postgres::Error> {
    if let Some(k) = key {
        conn.client.execute(
            "SELECT pg_advisory_lock($1, hashtext($2))",
            &[&KEYED_LOCKS, &k],
        )?;
    }
    if alone {
        if let Err(e) = conn
            .client
            .batch_execute(&format!("SELECT pg_advisory_lock({WRITERS_LOCK})"))
        {
            release(conn, key, false);
            return Err(e);
        }
    }
    Ok(())
}

/// Releases what [`queue`] took (the writers' lock first, the reverse of taking). A
/// connection that cannot release is closed rather than pooled with a lock (its session's
/// end releases it).
fn release(conn: &mut r2d2::PooledConnection<Manager>, key: Option<&str>, alone: bool) {
    if alone {
        let sql = format!("SELECT pg_advisory_unlock({WRITERS_LOCK})");
        if conn.client.batch_execute(&sql).is_err() {
            conn.broken = true;
        }
    }
    if let Some(k) = key {
        let unlocked = conn.client.execute(
            "SELECT pg_advisory_unlock($1, hashtext($2))",
            &[&KEYED_LOCKS, &k],
        );
        if unlocked.is_err() {
            conn.broken = true;
        }
    }
}

/// A short pause before a transaction runs again, longer with each attempt and spread so
/// that the two losers of a conflict do not meet again.
fn backoff(attempt: u32) {
    let spread = uuid::Uuid::new_v4().as_u128() as u64 % 1000;
    let micros = (200 * u64::from(attempt.min(10))) + spread * u64::from(attempt.min(10)) / 2;
    std::thread::sleep(Duration::from_micros(micros));
}

/// The URL without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &userinfo[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// This replica's row in `replicas`, kept fresh by a heartbeat thread until dropped; then
/// the row goes, with the leases it held, so the others take over at once after a graceful
/// stop (after a crash, when the row is older than the lease).
struct Registration {
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// PostgreSQL's clock in milliseconds since the epoch: leases and heartbeats are on it, so
/// the replicas' own clocks need not agree.
pub(super) const SERVER_NOW: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

impl Registration {
    fn start(pool: Pool<Manager>, replica: Arc<Replica>) -> anyhow::Result<Registration> {
        let mut conn = pool
            .get()
            .map_err(|e| anyhow::anyhow!("cannot register with PostgreSQL: {e}"))?;
        conn.client.execute(
            &format!("INSERT INTO replicas (id, started_ms, seen_ms) VALUES ($1, {SERVER_NOW}, {SERVER_NOW})"),
            &[&replica.id],
        )?;
        drop(conn);
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let every = (replica.lease / 4).max(Duration::from_millis(50));
        let thread = std::thread::Builder::new()
            .name("sfnlite-heartbeat".into())
            .spawn(move || loop {
                match stopped.recv_timeout(every) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    _ => {
                        if let Ok(mut c) = pool.get() {
                            let _ = c.client.execute(
                                "UPDATE executions SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
                                &[&replica.id],
                            );
                            let _ = c
                                .client
                                .execute("DELETE FROM replicas WHERE id = $1", &[&replica.id]);
                        }
                        return;
                    }
                }
                let beat = pool.get().map_err(|e| e.to_string()).and_then(|mut c| {
                    c.client
                        .execute(
                            &format!("INSERT INTO replicas (id, started_ms, seen_ms) VALUES ($1, {SERVER_NOW}, {SERVER_NOW})
                                      ON CONFLICT (id) DO UPDATE SET seen_ms = excluded.seen_ms"),
                            &[&replica.id],
                        )
                        .map_err(|e| e.to_string())
                });
                if let Err(e) = beat {
                    tracing::warn!(error = %e, "replica heartbeat failed");
                }
            })?;
        Ok(Registration {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn unavailable(e: postgres::Error) -> StoreError {
    StoreError::Unavailable {
        cause: format!("PostgreSQL: {e}"),
        source: Some(std::sync::Arc::new(e)),
    }
}

/// Connects to `url` and applies the migrations it lacks (each in its own transaction);
/// returns the versions applied. Replicas starting together may race here: the loser of
/// refinery's history insert tries again and finds the schema current.
pub fn migrate(url: &str) -> Result<Vec<u32>, StoreError> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(unavailable)?;
    // One migrator at a time across replicas (a transaction-independent advisory lock).
    client
        .batch_execute("SELECT pg_advisory_lock(7468201)")
        .map_err(unavailable)?;
    let report = embedded::migrations::runner().run(&mut client);
    let _ = client.batch_execute("SELECT pg_advisory_unlock(7468201)");
    let report = report.map_err(|e| StoreError::internal(format!("PostgreSQL migrations: {e}")))?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| m.version() as u32)
        .collect())
}

/// Every table's columns, `table.column` sorted (refinery's own table left out): what the
/// contract test compares with the SQLite schema.
pub fn columns(url: &str) -> Result<Vec<String>, StoreError> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(unavailable)?;
    let rows = client
        .query(
            "SELECT table_name, column_name FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name != 'refinery_schema_history'
             ORDER BY table_name, column_name",
            &[],
        )
        .map_err(unavailable)?;
    Ok(rows
        .iter()
        .map(|r| format!("{}.{}", r.get::<_, String>(0), r.get::<_, String>(1)))
        .collect())
}
