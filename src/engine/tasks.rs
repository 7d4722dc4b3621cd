//! Answers reaching waiting tasks from outside a step — a worker took or answered an activity
//! task, a callback came back on its token, a `.sync` child execution ended — and the closing
//! of executions, which answers a waiting parent and stops the `.sync` children left behind.
//! A task lives in its execution's committed position; these functions change only that
//! position and make the execution due, so the runner's next step records the events. The
//! redrive of a closed execution (RedriveExecution, or its map run's redrive) is here too.

use super::calls;
use super::runner;
use super::step::{self, ActivityTask, Progress};
use crate::domain::records::{Closing, Execution, ExecutionStatus, HistoryEvent};
use crate::store::{repo, StoreError, Tx};

/// Why an answer reached no task.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The token was never issued.
    #[error("no such task token")]
    Invalid,
    /// Its task is over: answered, timed out, or its execution ended.
    #[error("the task is over")]
    Gone,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs `f` on the task of `token` in its execution's position and commits the changed
/// position; when `f` returns `Some((due, value))` the execution becomes due at `due`
/// (never later than it already was).
pub fn with_task<T, E: From<TaskError>>(
    tx: &dyn Tx,
    token: &str,
    now: i64,
    f: impl FnOnce(&mut ActivityTask, i64) -> Result<Option<(i64, T)>, E>,
) -> Result<Option<T>, E> {
    let key = tx
        .activities()
        .task_execution(token)
        .map_err(TaskError::from)?
        .ok_or(TaskError::Invalid)?;
    let e = tx
        .executions()
        .get(key)
        .map_err(TaskError::from)?
        .ok_or(TaskError::Gone)?;
    let mut progress: Progress = e
        .position
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .ok_or(TaskError::Gone)?;
    let task = step::task_mut(&mut progress.position, token).ok_or(TaskError::Gone)?;
    if task.outcome.is_some() {
        return Err(TaskError::Gone.into());
    }
    let Some((due, value)) = f(task, now)? else {
        return Ok(None);
    };
    let position = serde_json::to_string(&progress)
        .map_err(|e| TaskError::Store(StoreError::internal(format!("position: {e}"))))?;
    let due = due.min(e.due_ms.unwrap_or(due));
    if !runner::advance(
        tx,
        key,
        (e.last_event, e.moves),
        &[],
        &position,
        due,
        &[],
        now,
    )
    .map_err(TaskError::from)?
    {
        return Err(TaskError::Gone.into());
    }
    Ok(Some(value))
}

/// Closes `e` (as read before, on the condition of [`repo::close_execution`]) with its last
/// events. A parent waiting on it with `.sync` gets its result in the same commit; `.sync`
/// children it still waited for are stopped, as AWS stops them with their parent. Returns
/// whether it was closed here.
pub fn close(
    tx: &dyn Tx,
    e: &Execution,
    events: &[HistoryEvent],
    closing: &Closing,
) -> Result<bool, StoreError> {
    if !repo::close_execution(
        tx,
        e.key,
        &e.machine_arn,
        e.last_event,
        e.moves,
        events,
        closing,
    )? {
        return Ok(false);
    }
    if let Some(token) = &e.parent_token {
        if let Some(closed) = tx.executions().get(e.key)? {
            answer_parent(tx, token, &closed, closing.stop_ms)?;
        }
    }
    // A map run's child counts in its run; the runs this execution waited on end with it.
    super::map_runs::child_closed(tx, e, closing.status, closing.stop_ms)?;
    super::map_runs::abort_gone(tx, e.position.as_deref(), None, closing.stop_ms)?;
    // Only a position holding a `.sync` call can have children to stop; the others are not
    // parsed at all.
    let children = e
        .position
        .as_deref()
        .filter(|p| p.contains("\"pattern\":\"sync"))
        .and_then(|p| serde_json::from_str::<Progress>(p).ok())
        .map(|p| calls::sync_children(&p.position))
        .unwrap_or_default();
    for arn in children {
        if let Some(child) = tx.executions().find(&arn)? {
            stop(tx, &child, None, None, closing.stop_ms)?;
        }
    }
    Ok(true)
}

/// Stops a RUNNING execution: one ExecutionAborted event, status ABORTED (executions-api.md
/// §4). Returns whether it was stopped here.
pub fn stop(
    tx: &dyn Tx,
    e: &Execution,
    error: Option<String>,
    cause: Option<String>,
    now: i64,
) -> Result<bool, StoreError> {
    if e.status != ExecutionStatus::Running {
        return Ok(false);
    }
    let event = runner::stored(
        step::aborted(e.last_event, error.as_deref(), cause.as_deref()),
        now,
    );
    // A redrive resumes in the state it was stopped in.
    let resume = e
        .position
        .as_deref()
        .and_then(|p| serde_json::from_str::<Progress>(p).ok())
        .map(|p| Progress {
            position: step::resume_at(&p.position),
            ..p
        })
        .and_then(|p| serde_json::to_string(&p).ok());
    let closing = Closing {
        status: ExecutionStatus::Aborted,
        output: None,
        error,
        cause,
        stop_ms: now,
        resume,
    };
    close(tx, e, &[event], &closing)
}

/// Runs a FAILED, TIMED_OUT or ABORTED execution again from where it stopped (its stored
/// resume point): same ARN, input and history, `ExecutionRedriven {redriveCount}` appended,
/// due now. False when it has nowhere to resume or changed meanwhile.
pub fn redrive(tx: &dyn Tx, e: &Execution, now: i64) -> Result<bool, StoreError> {
    let Some(mut progress) = e
        .resume
        .as_deref()
        .and_then(|p| serde_json::from_str::<Progress>(p).ok())
    else {
        return Ok(false);
    };
    let id = e.last_event + 1;
    let event = HistoryEvent {
        id,
        previous_id: e.last_event,
        kind: "ExecutionRedriven".into(),
        timestamp_ms: now,
        details: Some(
            serde_json::json!({"executionRedrivenEventDetails": {"redriveCount": e.redrive_count + 1}})
                .to_string(),
        ),
    };
    progress.last_id = id;
    step::redriven_from(&mut progress.position, id);
    let position = serde_json::to_string(&progress)
        .map_err(|err| StoreError::internal(format!("position: {err}")))?;
    tx.executions()
        .redrive(e.key, e.last_event, &[event], &position, now)
}

/// Hands a closed child's result to the parent task waiting on `token`; a parent that is
/// gone (stopped, or its task over) is left alone.
fn answer_parent(tx: &dyn Tx, token: &str, child: &Execution, now: i64) -> Result<(), StoreError> {
    let delivered = with_task(tx, token, now, |t, now| {
        let pattern = t
            .call
            .as_deref()
            .map_or(crate::asl::resource::Pattern::Sync, |c| c.pattern);
        t.outcome = Some(calls::child_outcome(pattern, child));
        Ok::<_, TaskError>(Some((now, ())))
    });
    match delivered {
        Ok(_) | Err(TaskError::Gone | TaskError::Invalid) => Ok(()),
        Err(TaskError::Store(e)) => Err(e),
    }
}
