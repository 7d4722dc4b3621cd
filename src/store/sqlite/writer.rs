//! The single writer with group commit. Write requests queue here (a bounded queue: callers
//! wait for room instead of growing memory); one thread takes every request waiting (up to a
//! batch limit), runs each in its own SAVEPOINT inside one IMMEDIATE transaction, commits once
//! — one fsync for the whole batch — and only then answers each request. A request whose
//! closure fails rolls back its savepoint alone; a failed commit fails every request of the
//! batch, so nothing unacknowledged is ever reported as written and nothing acknowledged is
//! missing.
//!
//! Some SQLite errors (disk full, I/O error) roll back the whole transaction, not just the
//! failing statement. After every request the writer checks that its transaction is still
//! open; if it is not, every request of the batch — those already run, whose changes are
//! gone with the transaction, and those not yet run — is failed with that error, and nothing
//! runs outside a transaction.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Transaction, TransactionBehavior};
use tokio::sync::mpsc::{Receiver, Sender};

use super::StoreError;

/// Told the commit's outcome once the batch is done.
pub(super) type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// Runs one request inside the batch's transaction (or, with `None`, reports that it could
/// not run); says whether it succeeded and how to complete it.
pub(super) type Job = Box<dyn FnOnce(Option<&Transaction<'_>>) -> (bool, Completion) + Send>;

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

pub(super) fn spawn(
    pool: Pool<SqliteConnectionManager>,
    epoch: Arc<AtomicU64>,
) -> std::io::Result<Sender<Job>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Job>(QUEUE_CAPACITY);
    std::thread::Builder::new()
        .name("sfnlite-writer".into())
        .spawn(move || run(rx, &pool, &epoch))?;
    Ok(tx)
}

fn run(mut rx: Receiver<Job>, pool: &Pool<SqliteConnectionManager>, epoch: &AtomicU64) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(batch, pool, epoch);
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

fn commit_batch(batch: Vec<Job>, pool: &Pool<SqliteConnectionManager>, epoch: &AtomicU64) {
    let mut conn = match pool.get() {
        Ok(c) => c,
        Err(e) => return fail_all(batch, &StoreError::from(e)),
    };
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return fail_all(batch, &StoreError::from(e)),
    };
    let mut done: Vec<Completion> = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    while let Some(job) = jobs.next() {
        if let Err(e) = statement(&tx, "SAVEPOINT request") {
            let (_, complete) = job(None);
            complete(Err(StoreError::from(e)));
            continue;
        }
        let mut release_failed = None;
        match catch_unwind(AssertUnwindSafe(|| job(Some(&tx)))) {
            Ok((true, complete)) => match statement(&tx, "RELEASE request") {
                Ok(()) => done.push(complete),
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
            for complete in done {
                complete(Err(error.clone()));
            }
            return fail_all(jobs, &error);
        }
        if let Some((complete, e)) = release_failed {
            complete(Err(e));
        }
    }
    let outcome = tx.commit().map_err(StoreError::from);
    if outcome.is_ok() {
        // Before anyone is answered: caches keyed on the epoch stop serving older reads.
        epoch.fetch_add(1, Ordering::SeqCst);
    }
    for complete in done {
        complete(outcome.clone());
    }
}
