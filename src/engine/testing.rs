//! TestState (executions-api.md §10): one state of a definition run once, with the same
//! interpreter as executions, from entering it to leaving it — its output and the state it
//! would go to next, how it failed, or that a retrier or a catcher took its error. Nothing is
//! stored; a call to an integration sfnlite serves is made in its own write.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::calls::{self, Calls};
use super::mocks::{MockConfig, TestCase};
use super::runner::SystemEntropy;
use super::step::{self, Env, Event, ExecutionInfo, Next, Position, Progress, Variables};
use crate::asl::model::{StateKind, Transition};
use crate::asl::Definition;
use crate::store::{Store, StoreError};

/// How the tested state ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Tested {
    /// `SUCCEEDED`, `FAILED`, `RETRIABLE` or `CAUGHT_ERROR`.
    pub status: &'static str,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub next_state: Option<String>,
    /// The data-flow stages, when asked for (DEBUG and TRACE).
    pub inspection: Option<Map<String, Value>>,
}

/// What the test runs with.
pub struct TestRun<'a> {
    pub definition: &'a Definition,
    pub state: &'a str,
    pub input: Value,
    pub variables: Variables,
    pub info: ExecutionInfo,
    /// Retries the state's retriers have made already (`stateConfiguration`).
    pub retries: u64,
    pub mocks: Option<(&'a MockConfig, &'a TestCase)>,
    pub inspect: bool,
    pub time_scale: f64,
    pub store: Store,
    pub calls: Option<Arc<dyn Calls>>,
    pub outside: Option<Arc<dyn super::outside::Outside>>,
    /// TRACE level: HTTP Tasks' `request` and `response` go into the inspection data
    /// (`Some(reveal secrets)`).
    pub trace: Option<bool>,
    /// An ItemReader's data as found at its source (`stateConfiguration.mapItemReaderData`).
    pub reader_data: Option<&'a str>,
    pub now_ms: i64,
}

/// The error and cause of the last failure event of `events`.
fn last_failure(events: &[Event]) -> (Option<String>, Option<String>) {
    events
        .iter()
        .rev()
        .find(|e| e.kind.ends_with("Failed") || e.kind.ends_with("TimedOut"))
        .and_then(|e| e.details.as_ref())
        .map(|(_, d)| {
            let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
            (text("error"), text("cause"))
        })
        .unwrap_or((None, None))
}

/// Runs the state.
pub async fn test_state(run: TestRun<'_>) -> Result<Tested, StoreError> {
    let scope = &run.definition.machine;
    let state = scope.state(run.state).ok_or_else(|| {
        StoreError::internal("the tested state is not in its definition".to_owned())
    })?;
    let retriers = match &state.kind {
        StateKind::Task(t) => t.retry.len(),
        StateKind::Parallel(p) => p.retry.len(),
        StateKind::Map(m) => m.retry.len(),
        _ => 0,
    };
    let position = if retriers > 0 && run.retries > 0 {
        Position::Attempt {
            state: run.state.to_owned(),
            input: run.input.clone(),
            entered: 1,
            entered_ms: run.now_ms,
            previous: 1,
            attempts: vec![run.retries; retriers],
            due_ms: None,
            after: 0,
        }
    } else {
        Position::Enter {
            state: run.state.to_owned(),
            input: run.input.clone(),
            previous: 0,
        }
    };
    let mut progress = Progress {
        last_id: 1,
        position,
        variables: run.variables.clone(),
        test_case: None,
        invocations: Default::default(),
    };
    let mut inspection = run.inspect.then(Map::new);
    let mut events: Vec<Event> = Vec::new();
    // An HTTP Task's request and response, shown with the step that records its answer.
    let mut http_trace: Option<Map<String, Value>> = None;
    loop {
        if let (Some(m), Some(t)) = (inspection.as_mut(), http_trace.take()) {
            m.extend(t);
        }
        let next = {
            let mut entropy = SystemEntropy;
            let exists = |_: &str| true;
            let mut env = Env {
                time_scale: run.time_scale,
                activity_exists: &exists,
                mocks: run.mocks,
                inspection: inspection.as_mut(),
                reader_data: run.reader_data,
                ..Env::new(&run.info, run.now_ms, &mut entropy)
            };
            let (more, next) = step::step(run.definition, progress, &mut env);
            events.extend(more);
            next
        };
        let done = |status, output, next_state| {
            let (error, cause) = if status == "SUCCEEDED" {
                (None, None)
            } else {
                last_failure(&events)
            };
            Tested {
                status,
                output,
                error,
                cause,
                next_state,
                inspection: inspection.clone(),
            }
        };
        let caught = events.iter().any(|e| e.kind.ends_with("Failed"));
        match next {
            Next::Succeeded(out) => return Ok(done("SUCCEEDED", Some(out), None)),
            Next::Failed { error, cause } => {
                return Ok(Tested {
                    status: "FAILED",
                    output: None,
                    error,
                    cause,
                    next_state: None,
                    inspection,
                })
            }
            Next::TimedOut => {
                return Ok(Tested {
                    status: "FAILED",
                    output: None,
                    error: Some("States.Timeout".into()),
                    cause: None,
                    next_state: None,
                    inspection,
                })
            }
            Next::Continue(p) | Next::WaitUntil(p, _) => match p.position {
                Position::Enter { state, input, .. } => {
                    let status = if caught { "CAUGHT_ERROR" } else { "SUCCEEDED" };
                    return Ok(done(status, Some(input), Some(state)));
                }
                // A Wait is not waited out: the test answers where it goes.
                Position::Waiting { output, .. } => {
                    let next = match &state.kind {
                        StateKind::Wait {
                            transition: Transition::Next(n),
                            ..
                        } => Some(n.clone()),
                        _ => None,
                    };
                    return Ok(done("SUCCEEDED", Some(output), next));
                }
                Position::Attempt {
                    due_ms: Some(_), ..
                } => {
                    return Ok(done("RETRIABLE", None, None));
                }
                mut position => {
                    // A call to make (or a Parallel/Map still running): on with the state.
                    let mut traces = Vec::new();
                    let called_out = super::outside::perform_unstored(
                        run.outside.as_ref(),
                        &mut position,
                        &run.info.execution_arn,
                        run.now_ms,
                        run.trace.map(|reveal| (reveal, &mut traces)),
                    )
                    .await;
                    if let Some(Value::Object(t)) = traces.pop() {
                        http_trace = Some(t);
                    }
                    if called_out {
                        // Answered: the next step records what the answers mean.
                    } else if !step::unanswered_calls(&mut position).is_empty() {
                        position = calls::perform_in_own_write(
                            &run.store,
                            run.calls.clone(),
                            &run.info.execution_arn,
                            position,
                            run.now_ms,
                        )
                        .await?;
                    } else if matches!(position, Position::Activity(_)) {
                        // Waiting for a token or a worker: TestState does not wait.
                        return Ok(done("FAILED", None, None));
                    }
                    progress = Progress { position, ..p };
                }
            },
        }
    }
}
