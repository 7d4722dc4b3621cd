//! GetActivityTask and SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat (executions-api.md
//! §8.2, §8.4). A task lives in its execution's committed position; these operations only
//! change that position — a worker took it, answered it, is still alive — and make the
//! execution due, so the runner's next step records the events that follow (ActivityStarted,
//! ActivitySucceeded, …). A task's token is indexed in `activity_tasks` for the lookups.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::activities::owned_activity;
use super::state_machines::Empty;
use super::validate::{
    Violations, ARN, NAME, SENSITIVE_CAUSE, SENSITIVE_DATA, SENSITIVE_ERROR, TASK_TOKEN,
};
use super::{ApiError, Ctx};
use crate::domain::now_millis;
use crate::engine::runner;
use crate::engine::step::{ActivityTask, TaskOutcome, Worker};
use crate::engine::tasks::{self, TaskError};
use crate::store::Tx;

/// How long GetActivityTask waits for a task before answering without one (AWS: 60 s).
const LONG_POLL: Duration = Duration::from_secs(60);

/// Workers polling one activity at once (AWS: 1,000); one more is ActivityWorkerLimitExceeded.
pub const MAX_POLLERS: usize = 1000;

/// The GetActivityTask calls waiting, per activity ARN.
#[derive(Debug, Default)]
pub struct Pollers(std::sync::Mutex<std::collections::HashMap<String, usize>>);

/// One waiting GetActivityTask; it stops counting when dropped (answered or cancelled).
pub struct Polling<'a> {
    pollers: &'a Pollers,
    activity: String,
}

impl Pollers {
    /// Counts a new poller of `activity`, unless [`MAX_POLLERS`] already wait.
    fn enter(&self, activity: &str) -> Result<Polling<'_>, ApiError> {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(activity.to_owned()).or_default();
        if *n >= MAX_POLLERS {
            return Err(ApiError::ActivityWorkerLimitExceeded(format!(
                "Activity Worker Limit Exceeded: '{activity}'"
            )));
        }
        *n += 1;
        Ok(Polling {
            pollers: self,
            activity: activity.to_owned(),
        })
    }
}

impl Drop for Polling<'_> {
    fn drop(&mut self) {
        let mut m = self.pollers.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&self.activity) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.activity);
            }
        }
    }
}

/// A waiting GetActivityTask looks again when told a task was queued, and at least this
/// often (a task whose execution ended frees no one, and a missed signal costs this much).
const LOOK_AGAIN: Duration = Duration::from_secs(1);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetActivityTaskInput {
    pub activity_arn: Option<String>,
    pub worker_name: Option<String>,
}

#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GetActivityTaskOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

/// GetActivityTask: the oldest task of the activity no worker has taken, or — after the
/// long poll (scaled by `time_scale`) — an answer without a token.
pub async fn get_activity_task(
    ctx: Ctx,
    input: GetActivityTaskInput,
) -> Result<GetActivityTaskOutput, ApiError> {
    let mut v = Violations::default();
    v.required_member("activityArn", &input.activity_arn, ARN);
    v.member("workerName", input.worker_name.as_deref(), NAME);
    v.finish()?;
    let arn = input.activity_arn.unwrap_or_default();
    let scope = ctx.scope.clone();
    let check = arn.clone();
    let activity = ctx
        .store
        .read(move |tx| owned_activity(tx, &scope, &check).map(|a| a.arn))
        .await?;
    let _polling = ctx.pollers.enter(&activity)?;
    let deadline =
        tokio::time::Instant::now() + LONG_POLL.mul_f64(ctx.limits.time_scale.clamp(0.0, 1.0));
    loop {
        // Listening before looking: a task queued in between still wakes this call.
        let queued = ctx.tasks.notified();
        tokio::pin!(queued);
        queued.as_mut().enable();
        let worker = input.worker_name.clone();
        let activity = activity.clone();
        // The long poll may outlast the request timeout; each take is a short write.
        let taken = ctx
            .store
            .unbounded()
            .write(move |tx| take_next(tx, &activity, worker.clone()))
            .await?;
        if let Some((token, task_input)) = taken {
            ctx.runner.notify_one();
            return Ok(GetActivityTaskOutput {
                task_token: Some(token),
                input: Some(task_input),
            });
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(GetActivityTaskOutput::default());
        }
        tokio::select! {
            () = &mut queued => {}
            () = tokio::time::sleep_until(deadline.min(now + LOOK_AGAIN)) => {}
        }
    }
}

/// Takes the oldest waiting task of `activity` for `worker`: its token and input. Tokens
/// whose task is gone are forgotten on the way.
pub(crate) fn take_next(
    tx: &dyn Tx,
    activity: &str,
    worker: Option<String>,
) -> Result<Option<(String, String)>, ApiError> {
    while let Some((token, _)) = tx.activities().next_task(activity)? {
        let taken = with_task(tx, &token, |t, now| {
            if t.started.is_some() {
                return Ok(None);
            }
            t.started = Some(Worker {
                name: worker.clone(),
            });
            t.beat_due = t.heartbeat_ms.map(|h| now + h);
            Ok(Some((now, t.task_input.to_string())))
        });
        match taken {
            Ok(Some(input)) => {
                tx.activities().take_task(&token)?;
                return Ok(Some((token, input)));
            }
            // Its task is gone (the execution ended, or a sibling's failure aborted it):
            // taken, so no worker gets it, and its token stays known as timed out.
            Ok(None) | Err(ApiError::TaskTimedOut(_)) => tx.activities().take_task(&token)?,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// Runs `f` on the task of `token` (see [`tasks::with_task`]).
fn with_task<T>(
    tx: &dyn Tx,
    token: &str,
    f: impl FnOnce(&mut ActivityTask, i64) -> Result<Option<(i64, T)>, ApiError>,
) -> Result<Option<T>, ApiError> {
    tasks::with_task(tx, token, now_millis(), f)
}

impl From<TaskError> for ApiError {
    fn from(e: TaskError) -> Self {
        match e {
            TaskError::Invalid => invalid_token(),
            TaskError::Gone => task_gone(),
            TaskError::Store(e) => e.into(),
        }
    }
}

/// `Invalid Token: 'Invalid token'`, AWS's answer for a token it never issued.
pub(crate) fn invalid_token() -> ApiError {
    ApiError::InvalidToken("Invalid Token: 'Invalid token'".into())
}

/// A token whose task is over: answered, timed out, or its execution ended.
pub(crate) fn task_gone() -> ApiError {
    ApiError::TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'".into())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTaskSuccessInput {
    pub task_token: Option<String>,
    pub output: Option<String>,
}

/// SendTaskSuccess: the task's result, as JSON text.
pub async fn send_task_success(ctx: Ctx, input: SendTaskSuccessInput) -> Result<Empty, ApiError> {
    let mut v = Violations::default();
    v.required_member("taskToken", &input.task_token, TASK_TOKEN);
    v.required_member("output", &input.output, SENSITIVE_DATA);
    v.finish()?;
    let output = input.output.unwrap_or_default();
    if let Err(e) = serde_json::from_str::<Value>(&output) {
        return Err(ApiError::InvalidOutput(format!("Invalid Output: '{e}'")));
    }
    answer(
        &ctx,
        input.task_token.unwrap_or_default(),
        TaskOutcome::Succeeded { output },
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTaskFailureInput {
    pub task_token: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// SendTaskFailure: the task failed with `error` and `cause` (either may be absent).
pub async fn send_task_failure(ctx: Ctx, input: SendTaskFailureInput) -> Result<Empty, ApiError> {
    let mut v = Violations::default();
    v.required_member("taskToken", &input.task_token, TASK_TOKEN);
    v.member("error", input.error.as_deref(), SENSITIVE_ERROR);
    v.member("cause", input.cause.as_deref(), SENSITIVE_CAUSE);
    v.finish()?;
    answer(
        &ctx,
        input.task_token.unwrap_or_default(),
        TaskOutcome::Failed {
            error: input.error,
            cause: input.cause,
        },
    )
    .await
}

/// Answers the task and, in the same commit, records what the answer leads to (the task's
/// end and the transitions after it, as the runner's next step would): one commit, not two,
/// between a worker's answer and the next state.
async fn answer(ctx: &Ctx, token: String, outcome: TaskOutcome) -> Result<Empty, ApiError> {
    let (definitions, mocks) = (ctx.definitions.clone(), ctx.mocks.current());
    let time_scale = ctx.limits.time_scale;
    let queued = ctx
        .store
        .write(move |tx| {
            answer_in(tx, &token, outcome.clone())?;
            let Some(key) = tx.activities().task_execution(&token)? else {
                return Ok(false);
            };
            let stepping = runner::Stepping {
                definitions: &definitions,
                mocks: &mocks,
                time_scale,
            };
            Ok::<_, ApiError>(runner::step_now(tx, &stepping, key, now_millis())?)
        })
        .await?;
    ctx.runner.notify_one();
    if queued {
        ctx.tasks.notify_waiters();
    }
    Ok(Empty {})
}

/// Answers the task of `token` (SendTaskSuccess / SendTaskFailure, also from a workflow's
/// `aws-sdk:sfn` task). The token stays indexed: answering again is TaskTimedOut, not
/// InvalidToken.
pub(crate) fn answer_in(tx: &dyn Tx, token: &str, outcome: TaskOutcome) -> Result<(), ApiError> {
    with_task(tx, token, |t, now| {
        t.outcome = Some(outcome);
        Ok(Some((now, ())))
    })?;
    Ok(())
}

/// SendTaskHeartbeat's change: the next heartbeat is due HeartbeatSeconds from now.
pub(crate) fn heartbeat_in(tx: &dyn Tx, token: &str) -> Result<(), ApiError> {
    with_task(tx, token, |t, now| {
        t.beat_due = t.heartbeat_ms.map(|h| now + h);
        Ok(Some((t.due(), ())))
    })?;
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTaskHeartbeatInput {
    pub task_token: Option<String>,
}

/// SendTaskHeartbeat: the worker is alive; the next heartbeat is due HeartbeatSeconds later.
pub async fn send_task_heartbeat(
    ctx: Ctx,
    input: SendTaskHeartbeatInput,
) -> Result<Empty, ApiError> {
    let mut v = Violations::default();
    v.required_member("taskToken", &input.task_token, TASK_TOKEN);
    v.finish()?;
    let token = input.task_token.unwrap_or_default();
    ctx.store.write(move |tx| heartbeat_in(tx, &token)).await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thousand_and_first_poller_of_an_activity_is_refused_until_one_leaves() {
        let pollers = Pollers::default();
        let arn = "arn:aws:states:us-east-1:123456789012:activity:work";
        let mut waiting: Vec<Polling<'_>> = (0..MAX_POLLERS)
            .map(|_| pollers.enter(arn).unwrap())
            .collect();
        let refused = pollers.enter(arn).err().unwrap();
        assert_eq!(refused.code(), "ActivityWorkerLimitExceeded");
        // Another activity has its own count.
        assert!(pollers
            .enter("arn:aws:states:us-east-1:123456789012:activity:other")
            .is_ok());
        waiting.pop();
        assert!(pollers.enter(arn).is_ok());
        drop(waiting);
        assert!(pollers.0.lock().unwrap().is_empty());
    }
}
