//! Task integrations sfnlite serves itself: `arn:aws:states:::states:startExecution` (with
//! `.sync`, `.sync:2` and `.waitForTaskToken`) and `arn:aws:states:::aws-sdk:sfn:<action>`
//! for the Step Functions actions it implements. Which resources these are is decided here;
//! the calls themselves are the operations layer's ([`Calls`]), made by the runner inside the
//! commit that records the Task's scheduling, so that a started child execution and the
//! parent's record of it are one write: after a crash there is either both or neither.
//!
//! Knows the engine's positions and the store's transaction; nothing of HTTP.

use serde_json::{json, Map, Value};

use super::step::{ActivityTask, CallAnswer, Position, ServiceCall, TaskOutcome};
use crate::asl::resource::{Pattern, Resource};
use crate::domain::records::{Execution, ExecutionStatus};
use crate::store::{StoreError, Tx};

/// The `aws-sdk:sfn` actions sfnlite runs in-process.
pub const SFN_ACTIONS: &[&str] = &[
    "getActivityTask",
    "startExecution",
    "describeExecution",
    "stopExecution",
    "sendTaskSuccess",
    "sendTaskFailure",
    "sendTaskHeartbeat",
];

/// Whether sfnlite itself serves a Task resource.
pub fn served(resource: &Resource) -> bool {
    match resource {
        Resource::Service {
            service, action, ..
        } => service == "states" && action == "startExecution",
        Resource::Sdk {
            service,
            action,
            pattern,
            ..
        } => {
            service == "sfn"
                && SFN_ACTIONS.contains(&action.as_str())
                && matches!(
                    pattern,
                    Pattern::RequestResponse | Pattern::WaitForTaskToken
                )
        }
        _ => false,
    }
}

/// The `<service>:<action>` a call names (`states:startExecution`, `aws-sdk:sfn:…`).
pub fn integration(resource: &Resource) -> String {
    match resource {
        Resource::Service {
            service, action, ..
        } => format!("{service}:{action}"),
        Resource::Sdk {
            service, action, ..
        } => format!("aws-sdk:{service}:{action}"),
        Resource::LambdaFunction(_) => super::outside::LEGACY_LAMBDA.to_owned(),
        Resource::Activity(arn) => arn.clone(),
    }
}

/// Who makes a call: the calling execution and the task's token.
pub struct Caller<'a> {
    pub execution_arn: &'a str,
    pub token: &'a str,
    pub now_ms: i64,
}

/// Makes the calls of [`served`] integrations, inside the runner's write.
pub trait Calls: Send + Sync {
    /// Runs `call` for `caller`. An error of the called operation is an answer
    /// ([`CallAnswer::Failed`]); only a store failure is an `Err` (the whole commit fails and
    /// the step is taken again later).
    fn call(
        &self,
        tx: &dyn Tx,
        caller: &Caller<'_>,
        call: &ServiceCall,
    ) -> Result<CallAnswer, StoreError>;
}

/// Makes every unanswered call of `position` and keeps the answers there; returns whether
/// there was any. A `.sync` child that has already ended (a short workflow ends within its
/// start) answers its parent's task at once.
pub fn perform(
    tx: &dyn Tx,
    calls: &dyn Calls,
    execution_arn: &str,
    position: &mut Position,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let tasks = super::step::unanswered_calls(position);
    let any = !tasks.is_empty();
    for t in tasks {
        let Some(call) = t.call.as_deref() else {
            continue;
        };
        let caller = Caller {
            execution_arn,
            token: &t.token,
            now_ms,
        };
        let answer = calls.call(tx, &caller, call)?;
        let child = match (&answer, call.pattern) {
            (CallAnswer::Returned { output }, Pattern::Sync | Pattern::Sync2) => output
                .get("ExecutionArn")
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        };
        if let Some(arn) = child {
            if let Some(e) = tx.executions().find(&arn)? {
                if e.status != ExecutionStatus::Running {
                    t.outcome = Some(child_outcome(call.pattern, &e));
                }
            }
        }
        if let Some(c) = t.call.as_deref_mut() {
            c.answer = Some(answer);
        }
    }
    Ok(any)
}

/// [`perform`] in a write of its own, for runs that are not stored (EXPRESS, TestState);
/// without `calls` that is an error of ours.
pub async fn perform_in_own_write(
    store: &crate::store::Store,
    calls: Option<std::sync::Arc<dyn Calls>>,
    execution_arn: &str,
    mut position: Position,
    now_ms: i64,
) -> Result<Position, StoreError> {
    let Some(c) = calls else {
        return Err(StoreError::internal(
            "an unstored run calls an integration without a caller".to_owned(),
        ));
    };
    let arn = execution_arn.to_owned();
    store
        .write_once(move |tx| {
            perform(tx, &*c, &arn, &mut position, now_ms)?;
            Ok::<_, StoreError>(position)
        })
        .await
}

/// What a `.sync` / `.sync:2` task gets when its child execution ends: the child's
/// description (PascalCase members in alphabetical order, dates in epoch milliseconds; input
/// and output as JSON text for `.sync`, as JSON for `.sync:2`) — as the task's output when
/// the child succeeded, as the cause of a `States.TaskFailed` otherwise.
pub fn child_outcome(pattern: Pattern, child: &Execution) -> TaskOutcome {
    let data = |text: &str| -> Value {
        if pattern == Pattern::Sync2 {
            serde_json::from_str(text).unwrap_or_else(|_| json!(text))
        } else {
            json!(text)
        }
    };
    let mut d = Map::new();
    if let Some(c) = &child.cause {
        d.insert("Cause".into(), json!(c));
    }
    if let Some(e) = &child.error {
        d.insert("Error".into(), json!(e));
    }
    d.insert("ExecutionArn".into(), json!(child.arn));
    d.insert("Input".into(), data(&child.input));
    d.insert("InputDetails".into(), json!({"Included": true}));
    d.insert("Name".into(), json!(child.name));
    if let Some(o) = &child.output {
        d.insert("Output".into(), data(o));
        d.insert("OutputDetails".into(), json!({"Included": true}));
    }
    d.insert("StartDate".into(), json!(child.start_ms));
    d.insert("StateMachineArn".into(), json!(child.machine_arn));
    if let Some(v) = &child.alias_arn {
        d.insert("StateMachineAliasArn".into(), json!(v));
    }
    if let Some(v) = &child.version_arn {
        d.insert("StateMachineVersionArn".into(), json!(v));
    }
    d.insert("Status".into(), json!(child.status.as_str()));
    if let Some(s) = child.stop_ms {
        d.insert("StopDate".into(), json!(s));
    }
    if let Some(t) = &child.trace_header {
        d.insert("TraceHeader".into(), json!(t));
    }
    let description = Value::Object(d).to_string();
    if child.status == ExecutionStatus::Succeeded {
        TaskOutcome::Succeeded {
            output: description,
        }
    } else {
        TaskOutcome::Failed {
            error: Some("States.TaskFailed".into()),
            cause: Some(description),
        }
    }
}

/// The `.sync` children a position still waits for: their execution ARNs.
pub fn sync_children(position: &Position) -> Vec<String> {
    super::step::open_tasks(position)
        .into_iter()
        .filter_map(|t: &ActivityTask| {
            let c = t.call.as_deref()?;
            if !matches!(c.pattern, Pattern::Sync | Pattern::Sync2) {
                return None;
            }
            match &c.answer {
                Some(CallAnswer::Returned { output }) => output
                    .get("ExecutionArn")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => None,
            }
        })
        .collect()
}
