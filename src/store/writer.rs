//! The single writer with group commit. Write requests queue here; one thread takes every
//! request waiting (up to a batch limit), runs each in its own SAVEPOINT inside one IMMEDIATE
//! transaction, commits once — one fsync for the whole batch — and only then answers each
//! request. A request whose closure fails rolls back its savepoint alone; a failed commit
//! fails every request of the batch, so nothing unacknowledged is ever reported as written
//! and nothing acknowledged is missing.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Transaction, TransactionBehavior};

use super::StoreError;

/// Told the commit's outcome once the batch is done.
pub(super) type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// Runs one request inside the batch's transaction (or, with `None`, reports that it could
/// not run); says whether it succeeded and how to complete it.
pub(super) type Job = Box<dyn FnOnce(Option<&Transaction<'_>>) -> (bool, Completion) + Send>;

/// The most requests one commit covers: enough to amortise an fsync, small enough that one
/// slow batch cannot hold many clients.
const MAX_BATCH: usize = 64;

pub(super) fn spawn(
    pool: Pool<SqliteConnectionManager>,
    epoch: Arc<AtomicU64>,
) -> std::io::Result<Sender<Job>> {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("sfnlite-writer".into())
        .spawn(move || run(&rx, &pool, &epoch))?;
    Ok(tx)
}

fn run(rx: &Receiver<Job>, pool: &Pool<SqliteConnectionManager>, epoch: &AtomicU64) {
    while let Ok(first) = rx.recv() {
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

fn fail_all(batch: Vec<Job>, error: &StoreError) {
    for job in batch {
        let (_, complete) = job(None);
        complete(Err(error.clone()));
    }
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
    let mut done = Vec::with_capacity(batch.len());
    for job in batch {
        if let Err(e) = tx.execute_batch("SAVEPOINT request") {
            let (_, complete) = job(None);
            complete(Err(StoreError::from(e)));
            continue;
        }
        match catch_unwind(AssertUnwindSafe(|| job(Some(&tx)))) {
            Ok((true, complete)) => match tx.execute_batch("RELEASE request") {
                Ok(()) => done.push(complete),
                Err(e) => complete(Err(StoreError::from(e))),
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
