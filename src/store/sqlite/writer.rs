//! The single writer with group commit. Write requests queue here (a bounded queue: callers
//! wait for room instead of growing memory); one thread takes every request waiting (up to a
//! batch limit), runs each in its own SAVEPOINT inside one IMMEDIATE transaction, commits once
//! and only then answers each request. A request whose closure fails rolls back its savepoint
//! alone; a failed commit fails every request of the batch, so nothing unacknowledged is ever
//! reported as written and nothing acknowledged is missing.
//!
//! Durable commits are pipelined: with `Flush`, the writer's connection commits without
//! fsync (the WAL frames reach the OS, so a killed process loses nothing), and a flush thread
//! fsyncs the WAL file and only then answers the batch. While that fsync runs, the writer
//! already runs the requests that arrive into its next transaction, and commits it as soon as
//! the fsync is done: the disk's latency and the writer's work overlap instead of adding up,
//! and each commit covers everything that queued during one fsync. An answer still means "on
//! disk"; a reader may see a commit a moment before its writer is answered.
//!
//! Some SQLite errors (disk full, I/O error) roll back the whole transaction, not just the
//! failing statement. After every request the writer checks that its transaction is still
//! open; if it is not, every request of the batch — those already run, whose changes are
//! gone with the transaction, and those not yet run — is failed with that error, and nothing
//! runs outside a transaction.

use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{mpsc, Arc};

use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::{Receiver, Sender, WeakSender};

use super::StoreError;

/// Told the commit's outcome once the batch is done.
pub(super) type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// Runs one request inside the batch's transaction (or, with `None`, reports that it could
/// not run); says whether it succeeded and how to complete it.
pub(super) type Job = Box<dyn FnOnce(Option<&Transaction<'_>>) -> (bool, Completion) + Send>;

/// What the writer's queue carries: requests, and the flush thread's word that an fsync is
/// done (so a writer waiting to commit wakes).
pub(super) enum Msg {
    Job(Job),
    Flushed,
}

/// The most requests one commit covers: enough to amortise an fsync, small enough that one
/// slow batch cannot hold many clients.
const MAX_BATCH: usize = 64;

/// Requests that may wait for the writer; beyond it callers wait for room.
pub(super) const QUEUE_CAPACITY: usize = 1024;

/// Who owns a queued write: its requester may still abandon it (a request timeout) until the
/// writer claims it; once claimed, the requester waits for the real outcome. So a request
/// that was answered 408 never commits afterwards.
#[derive(Debug, Default)]
pub(super) struct Claim(AtomicU8);

const PENDING: u8 = 0;
const CLAIMED: u8 = 1;
const ABANDONED: u8 = 2;

impl Claim {
    /// The writer takes the job; false if its requester gave up first.
    pub(super) fn claim(&self) -> bool {
        self.0
            .compare_exchange(PENDING, CLAIMED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }
    /// The requester gives up; false if the writer already took the job.
    pub(super) fn abandon(&self) -> bool {
        self.0
            .compare_exchange(PENDING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }
}

/// The database's WAL file, opened by us: fsync works on the file, not on a descriptor, so
/// syncing this handle makes every frame SQLite wrote durable. The writer's connection stays
/// open for the life of the process, so SQLite never deletes or replaces this file under it.
pub(super) struct Flush {
    pub wal: File,
}

/// Held by the writer for each batch's transaction; the checkpointer takes it to restart the
/// WAL while no batch is between BEGIN and COMMIT.
pub(super) type Gate = Arc<std::sync::Mutex<()>>;

/// A committed batch waiting for its fsync, with the commit's own outcome.
struct Committed {
    done: Vec<Completion>,
    outcome: Result<(), StoreError>,
}

/// Starts the writer thread on `conn`, which it keeps for good (and, with `flush`, sets to
/// commit without fsync, leaving that to the flush thread).
pub(super) fn spawn(
    conn: Connection,
    epoch: Arc<AtomicU64>,
    flush: Option<Flush>,
    gate: Gate,
) -> std::io::Result<Sender<Msg>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Msg>(QUEUE_CAPACITY);
    let shared = Arc::new(Shared::default());
    let flushing = match flush {
        Some(Flush { wal }) => {
            conn.execute_batch("PRAGMA synchronous = OFF;")
                .map_err(std::io::Error::other)?;
            let (ftx, frx) = mpsc::channel::<Committed>();
            let (shared, wake) = (shared.clone(), tx.downgrade());
            std::thread::Builder::new()
                .name("sfnlite-flush".into())
                .spawn(move || flusher(&frx, &wal, &shared, &wake))?;
            Some(ftx)
        }
        None => None,
    };
    let mut writer = Writer {
        conn,
        epoch,
        flushing,
        shared,
        gate,
        committed: 0,
    };
    std::thread::Builder::new()
        .name("sfnlite-writer".into())
        .spawn(move || writer.run(rx))?;
    Ok(tx)
}

/// What the writer and the flush thread both see.
#[derive(Default)]
struct Shared {
    /// Commits made durable (answered) so far.
    flushed: AtomicU64,
    /// An fsync failed: nothing written since can be known to be on disk.
    poisoned: AtomicBool,
}

struct Writer {
    conn: Connection,
    epoch: Arc<AtomicU64>,
    flushing: Option<mpsc::Sender<Committed>>,
    shared: Arc<Shared>,
    gate: Gate,
    /// Commits handed to the flush thread so far.
    committed: u64,
}

impl Writer {
    fn run(&mut self, mut rx: Receiver<Msg>) {
        while let Some(msg) = rx.blocking_recv() {
            let Msg::Job(first) = msg else { continue };
            if self.shared.poisoned.load(Ordering::SeqCst) {
                fail_all([first], &flush_failed());
                continue;
            }
            let gate = self.gate.clone();
            let pending = Pending {
                flushing: self.flushing.is_some(),
                shared: self.shared.clone(),
                committed: self.committed,
            };
            let _held = gate.lock().unwrap_or_else(|e| e.into_inner());
            let tx = match self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
            {
                Ok(tx) => tx,
                Err(e) => {
                    fail_all([first], &StoreError::from(e));
                    continue;
                }
            };
            let mut batch = Batch {
                tx,
                done: Vec::new(),
                ran: 0,
            };
            let mut next = Some(first);
            let mut lost = false;
            while let Some(job) = next.take() {
                if batch.run(job).is_err() {
                    lost = true;
                    break;
                }
                if batch.ran >= MAX_BATCH {
                    break;
                }
                // More of what is queued joins this commit; while the previous commit's
                // fsync is still running, so does whatever arrives meanwhile.
                next = loop {
                    let msg = match rx.try_recv() {
                        Ok(m) => Some(m),
                        Err(TryRecvError::Empty) if pending.now() => rx.blocking_recv(),
                        Err(_) => None,
                    };
                    match msg {
                        Some(Msg::Job(j)) => break Some(j),
                        Some(Msg::Flushed) => continue,
                        None => break None,
                    }
                };
            }
            if lost {
                // Every request of the batch has been answered with the error.
                continue;
            }
            let (done, outcome) = batch.commit(&self.epoch);
            drop(_held);
            self.hand_over(done, outcome);
        }
    }

    /// Answers a committed batch, through the flush thread when commits are flushed there.
    fn hand_over(&mut self, done: Vec<Completion>, outcome: Result<(), StoreError>) {
        match &self.flushing {
            Some(f) if outcome.is_ok() => {
                self.committed += 1;
                if let Err(mpsc::SendError(c)) = f.send(Committed { done, outcome }) {
                    // The flush thread is gone, so nothing more can be made durable.
                    self.shared.poisoned.store(true, Ordering::SeqCst);
                    complete_all(c.done, &Err(flush_failed()));
                }
            }
            _ => complete_all(done, &outcome),
        }
    }
}

/// Whether a commit handed to the flush thread is not yet on disk.
struct Pending {
    flushing: bool,
    shared: Arc<Shared>,
    committed: u64,
}

impl Pending {
    fn now(&self) -> bool {
        self.flushing && self.shared.flushed.load(Ordering::SeqCst) < self.committed
    }
}

/// Fsyncs the WAL once for every batch committed since the last fsync, then answers them in
/// commit order. A failed fsync leaves unknown what reached the disk, and a later fsync may
/// report success for pages the kernel already dropped: every later write fails until a
/// restart, which recovers the database from what is really on disk.
fn flusher(rx: &mpsc::Receiver<Committed>, wal: &File, shared: &Shared, wake: &WeakSender<Msg>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        group.extend(rx.try_iter());
        let synced = if shared.poisoned.load(Ordering::SeqCst) {
            Err(flush_failed())
        } else {
            wal.sync_data().map_err(|e| {
                shared.poisoned.store(true, Ordering::SeqCst);
                tracing::error!(error = %e, "fsync of the WAL failed; writes are refused until a restart");
                flush_failed()
            })
        };
        let count = group.len() as u64;
        for c in group {
            let outcome = c.outcome.and(synced.clone());
            complete_all(c.done, &outcome);
        }
        shared.flushed.fetch_add(count, Ordering::SeqCst);
        // A full queue needs no wake-up: the writer is busy with it and looks at `flushed`
        // after every request.
        if let Some(w) = wake.upgrade() {
            let _ = w.try_send(Msg::Flushed);
        }
    }
}

fn flush_failed() -> StoreError {
    StoreError::unavailable(
        "the database's write-ahead log could not be flushed to disk; restart sfnlite",
    )
}

fn complete_all(done: Vec<Completion>, outcome: &Result<(), StoreError>) {
    for complete in done {
        complete(outcome.clone());
    }
}

fn fail_all(batch: impl IntoIterator<Item = Job>, error: &StoreError) {
    for job in batch {
        let (_, complete) = job(None);
        complete(Err(error.clone()));
    }
}

/// Runs a statement the writer issues for every request, prepared once.
fn statement(tx: &Transaction<'_>, sql: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// The error to report when SQLite ended the batch's transaction on its own.
fn transaction_lost() -> StoreError {
    StoreError::unavailable("the database rolled back the transaction (disk full or I/O error)")
}

/// One transaction being filled with requests, each in its own SAVEPOINT.
struct Batch<'c> {
    tx: Transaction<'c>,
    /// How to answer the requests that wrote, once the commit's fate is known.
    done: Vec<Completion>,
    ran: usize,
}

impl Batch<'_> {
    /// Runs one request. `Err` when SQLite ended the whole transaction: then every request of
    /// the batch has been answered with that error and nothing more may run in it.
    fn run(&mut self, job: Job) -> Result<(), ()> {
        self.ran += 1;
        let tx = &self.tx;
        if let Err(e) = statement(tx, "SAVEPOINT request") {
            let (_, complete) = job(None);
            complete(Err(StoreError::from(e)));
            return Ok(());
        }
        let mut release_failed = None;
        match catch_unwind(AssertUnwindSafe(|| job(Some(tx)))) {
            Ok((true, complete)) => match statement(tx, "RELEASE request") {
                Ok(()) => self.done.push(complete),
                Err(e) => {
                    let _ = tx.execute_batch("ROLLBACK TO request; RELEASE request");
                    release_failed = Some((complete, StoreError::from(e)));
                }
            },
            Ok((false, complete)) => {
                // The request's own error: undo its changes only, answer it now.
                let _ = tx.execute_batch("ROLLBACK TO request; RELEASE request");
                complete(Ok(()));
            }
            Err(_) => {
                // A bug in an operation: its sender is gone, so its client gets an internal
                // failure; the rest of the batch goes on without its changes.
                let _ = tx.execute_batch("ROLLBACK TO request; RELEASE request");
                tracing::error!("a write request panicked; its changes were rolled back");
            }
        }
        if tx.is_autocommit() {
            // SQLite rolled the whole transaction back: what the earlier requests wrote is
            // gone, and later statements would run outside any transaction.
            let error = transaction_lost();
            tracing::warn!(error = %error, "write batch lost its transaction");
            if let Some((complete, _)) = release_failed {
                complete(Err(error.clone()));
            }
            complete_all(std::mem::take(&mut self.done), &Err(error));
            return Err(());
        }
        if let Some((complete, e)) = release_failed {
            complete(Err(e));
        }
        Ok(())
    }

    /// Commits; the completions of the requests that wrote, with the commit's outcome.
    fn commit(self, epoch: &AtomicU64) -> (Vec<Completion>, Result<(), StoreError>) {
        let outcome = self.tx.commit().map_err(StoreError::from);
        if outcome.is_ok() {
            // Before anyone is answered: caches keyed on the epoch stop serving older reads.
            epoch.fetch_add(1, Ordering::SeqCst);
        }
        (self.done, outcome)
    }
}
