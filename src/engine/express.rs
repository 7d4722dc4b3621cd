//! EXPRESS executions (executions-api.md §6.2–§6.3): run in memory from start to end — the
//! same interpreter as STANDARD executions, but nothing is stored (AWS keeps no history for
//! them either; they are observed only through their answer). A Wait is a timer of this run;
//! a call to an integration sfnlite serves is made in its own write, an outside call at once.

use std::sync::Arc;
use std::time::Duration;

use super::calls::{self, Calls};
use super::mocks::MockConfig;
use super::outside::{self, Outside};
use super::runner::{transitions, SystemEntropy};
use super::step::{self, Env, ExecutionInfo, Next, Progress};
use crate::asl::Definition;
use crate::store::{Store, StoreError};

/// The longest an EXPRESS execution runs (AWS: 5 minutes), before time scaling.
pub const MAX_DURATION_MS: f64 = 300_000.0;

/// What an EXPRESS run needs besides its definition.
pub struct Express<'a> {
    pub info: ExecutionInfo,
    pub test_case: Option<String>,
    pub mocks: Arc<MockConfig>,
    pub time_scale: f64,
    pub store: Store,
    pub calls: Option<Arc<dyn Calls>>,
    pub outside: Option<Arc<dyn Outside>>,
    pub clock: &'a (dyn Fn() -> i64 + Send + Sync),
}

/// How an EXPRESS run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    Succeeded(serde_json::Value),
    Failed {
        error: Option<String>,
        cause: Option<String>,
    },
    TimedOut,
}

/// Runs the execution to its end.
pub async fn run(definition: &Definition, x: Express<'_>) -> Result<Ended, StoreError> {
    let deadline = x.info.start_ms + (MAX_DURATION_MS * x.time_scale) as i64;
    let machine_name = x.info.state_machine_name.clone();
    let mut progress = step::start();
    progress.test_case = x.test_case.clone();
    loop {
        // The pure part, done before any await (the step's environment stays on this thread).
        let next = {
            let now = (x.clock)();
            let case = progress
                .test_case
                .as_deref()
                .and_then(|c| x.mocks.test_case(&machine_name, c));
            let mut entropy = SystemEntropy;
            let mut env = Env {
                time_scale: x.time_scale,
                mocks: case.map(|c| (&*x.mocks, c)),
                reads_items: true,
                ..Env::new(&x.info, now, &mut entropy)
            };
            transitions(definition, progress, &mut env).1
        };
        progress = match next {
            Next::Succeeded(out) => return Ok(Ended::Succeeded(out)),
            Next::Failed { error, cause } => return Ok(Ended::Failed { error, cause }),
            Next::TimedOut => return Ok(Ended::TimedOut),
            Next::Continue(p) => p,
            Next::WaitUntil(p, due) => wait(&x, p, due, deadline).await?,
        };
        if (x.clock)() >= deadline {
            return Ok(Ended::TimedOut);
        }
    }
}

/// Makes the calls a position waits for, or sleeps until it is due.
async fn wait(
    x: &Express<'_>,
    mut p: Progress,
    due: i64,
    deadline: i64,
) -> Result<Progress, StoreError> {
    let mut read = false;
    for w in step::map_runs_mut(&mut p.position) {
        let Some(spec) = w
            .read_inline
            .as_ref()
            .filter(|_| w.items.is_none() && w.outcome.is_none())
        else {
            continue;
        };
        read = true;
        match super::map_io::read(x.outside.as_deref(), &x.info.execution_arn, spec).await {
            Ok(items) => w.items = Some(items),
            Err(cause) => {
                w.outcome = Some(step::MapRunOutcome::Failed {
                    error: Some(super::items::READER_FAILED.into()),
                    cause: Some(cause),
                })
            }
        }
    }
    if read {
        return Ok(p);
    }
    if outside::perform_unstored(
        x.outside.as_ref(),
        &mut p.position,
        &x.info.execution_arn,
        (x.clock)(),
        None,
    )
    .await
    {
        return Ok(p);
    }
    if !step::unanswered_calls(&mut p.position).is_empty() {
        let position = calls::perform_in_own_write(
            &x.store,
            x.calls.clone(),
            &x.info.execution_arn,
            p.position,
            (x.clock)(),
        )
        .await?;
        return Ok(Progress { position, ..p });
    }
    let now = (x.clock)();
    let until = due.min(deadline);
    if until > now {
        tokio::time::sleep(Duration::from_millis((until - now) as u64)).await;
    }
    Ok(p)
}
