//! One step of an execution: a state entered with its input, run, and left — the history
//! events it adds and where the execution goes next. Pure: the clock reading and the
//! entropy come in through [`Env`], nothing is read or written, so a crash between steps
//! loses nothing the caller had committed, and every history here is testable without HTTP
//! or SQL. States run so far: Pass, Succeed, Fail, Choice and Wait (JSONPath); the others
//! come with the rest of issue 15.

use serde_json::{json, Map, Value};

use super::choice;
use super::dataflow::{self, Failure};
use super::intrinsics::{self, Entropy};
use super::jsonpath::{self, Roots};
use crate::asl::model::{Definition, Number, State, StateKind, Text, Transition, WaitFor};

/// The longest a Wait may last: 2^31 seconds (24,855 days is accepted, 24,856 is not).
const MAX_WAIT_SECONDS: i64 = 1 << 31;

/// One history event, as GetExecutionHistory shows it (timestamp added by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: u64,
    pub previous: u64,
    pub kind: &'static str,
    /// The details member's name and value, for types that have one.
    pub details: Option<(&'static str, Value)>,
}

/// Where an execution stands between steps; what the store keeps (as JSON).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "at", rename_all = "camelCase")]
pub enum Position {
    /// About to enter `state` with `input`; `previous` is the event that led here.
    Enter {
        state: String,
        input: Value,
        previous: u64,
    },
    /// In a Wait state until `due_ms`, then leaving it with `output`.
    Waiting {
        state: String,
        output: Value,
        entered: u64,
        due_ms: i64,
    },
}

/// An execution's progress: the last event id issued and the position.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub last_id: u64,
    pub position: Position,
}

/// What follows a step.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Step again now.
    Continue(Progress),
    /// Step again at `due_ms` (wall-clock, milliseconds since the epoch).
    WaitUntil(Progress, i64),
    Succeeded(Value),
    Failed {
        error: Option<String>,
        cause: Option<String>,
    },
}

/// What an execution knows of itself, for the context object.
#[derive(Debug, Clone)]
pub struct ExecutionInfo {
    pub execution_arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub role_arn: String,
    pub input: Value,
    pub start_ms: i64,
}

/// What a step may read: the execution, the clock reading, randomness.
pub struct Env<'a> {
    pub execution: &'a ExecutionInfo,
    pub now_ms: i64,
    pub entropy: &'a mut dyn Entropy,
}

/// The position of a new execution; `ExecutionStarted` (event 1) is the caller's.
pub fn start(definition: &Definition, input: Value) -> Progress {
    Progress {
        last_id: 1,
        position: Position::Enter {
            state: definition.machine.start_at.clone(),
            input,
            previous: 0,
        },
    }
}

/// Takes one step.
pub fn step(definition: &Definition, progress: Progress, env: &mut Env<'_>) -> (Vec<Event>, Next) {
    let mut h = History {
        events: Vec::new(),
        last_id: progress.last_id,
    };
    let next = match progress.position {
        Position::Enter {
            state,
            input,
            previous,
        } => match definition.machine.state(&state) {
            Some(s) => enter(s, input, previous, &mut h, env),
            None => Next::Failed {
                error: Some("States.Runtime".into()),
                cause: Some(format!("The state '{state}' does not exist")),
            },
        },
        Position::Waiting {
            state,
            output,
            entered,
            due_ms,
        } => {
            if env.now_ms < due_ms {
                let last_id = h.last_id;
                return (
                    Vec::new(),
                    Next::WaitUntil(
                        Progress {
                            last_id,
                            position: Position::Waiting {
                                state,
                                output,
                                entered,
                                due_ms,
                            },
                        },
                        due_ms,
                    ),
                );
            }
            let s = definition.machine.state(&state);
            let exited = h.exited("WaitStateExited", &state, &output, entered);
            match s.map(|s| &s.kind) {
                Some(StateKind::Wait { transition, .. }) => h.follow(transition, output, exited),
                _ => unreachable!("a waiting execution waits in a Wait state"),
            }
        }
    };
    let next = match next {
        Next::Succeeded(output) => {
            let prev = h.last_id;
            h.push(
                "ExecutionSucceeded",
                prev,
                Some((
                    "executionSucceededEventDetails",
                    json!({"output": output.to_string(), "outputDetails": {"truncated": false}}),
                )),
            );
            Next::Succeeded(output)
        }
        Next::Failed { error, cause } => {
            let prev = h.last_id;
            let mut details = Map::new();
            if let Some(e) = &error {
                details.insert("error".into(), json!(e));
            }
            if let Some(c) = &cause {
                details.insert("cause".into(), json!(c));
            }
            h.push(
                "ExecutionFailed",
                prev,
                Some(("executionFailedEventDetails", Value::Object(details))),
            );
            Next::Failed { error, cause }
        }
        other => other,
    };
    (h.events, next)
}

struct History {
    events: Vec<Event>,
    last_id: u64,
}

impl History {
    fn push(
        &mut self,
        kind: &'static str,
        previous: u64,
        details: Option<(&'static str, Value)>,
    ) -> u64 {
        self.last_id += 1;
        self.events.push(Event {
            id: self.last_id,
            previous,
            kind,
            details,
        });
        self.last_id
    }

    fn entered(&mut self, kind: &'static str, name: &str, input: &Value, previous: u64) -> u64 {
        self.push(
            kind,
            previous,
            Some((
                "stateEnteredEventDetails",
                json!({"name": name, "input": input.to_string(), "inputDetails": {"truncated": false}}),
            )),
        )
    }

    fn exited(&mut self, kind: &'static str, name: &str, output: &Value, previous: u64) -> u64 {
        self.push(
            kind,
            previous,
            Some((
                "stateExitedEventDetails",
                json!({"name": name, "output": output.to_string(), "outputDetails": {"truncated": false}}),
            )),
        )
    }

    /// After a state's Exited event: on to the next state, or the execution ends.
    fn follow(&mut self, transition: &Transition, output: Value, exited: u64) -> Next {
        match transition {
            Transition::End => Next::Succeeded(output),
            Transition::Next(state) => Next::Continue(Progress {
                last_id: self.last_id,
                position: Position::Enter {
                    state: state.clone(),
                    input: output,
                    previous: exited,
                },
            }),
        }
    }
}

/// The context object of a state entered at `entered_ms` (asl-semantics.md §2.3 order).
fn context(e: &ExecutionInfo, state: &str, entered_ms: i64) -> Value {
    json!({
        "Execution": {
            "Id": e.execution_arn,
            "Input": e.input,
            "StartTime": iso(e.start_ms),
            "Name": e.name,
            "RoleArn": e.role_arn,
            "RedriveCount": 0
        },
        "StateMachine": {"Id": e.state_machine_arn, "Name": e.state_machine_name},
        "State": {"Name": state, "EnteredTime": iso(entered_ms)}
    })
}

/// ISO-8601 with milliseconds, as AWS writes times in the context object.
pub fn iso(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

/// Runs `state` from its Entered event to its Exited event (or the failure).
fn enter(state: &State, input: Value, previous: u64, h: &mut History, env: &mut Env<'_>) -> Next {
    let kind = match &state.kind {
        StateKind::Pass { .. } => "PassStateEntered",
        StateKind::Succeed => "SucceedStateEntered",
        StateKind::Fail { .. } => "FailStateEntered",
        StateKind::Choice { .. } => "ChoiceStateEntered",
        StateKind::Wait { .. } => "WaitStateEntered",
        StateKind::Task(_) => "TaskStateEntered",
        StateKind::Parallel(_) => "ParallelStateEntered",
        StateKind::Map(_) => "MapStateEntered",
    };
    let entered = h.entered(kind, &state.name, &input, previous);
    let ctx = context(env.execution, &state.name, env.now_ms);
    let vars = Map::new();
    let roots = Roots {
        input: &input,
        context: &ctx,
        variables: &vars,
    };
    match run(state, &input, roots, entered, h, env) {
        Ok(next) => next,
        Err(f) => Next::Failed {
            error: Some(f.error.to_owned()),
            cause: Some(format!(
                "An error occurred while executing the state '{}' (entered at the event id #{entered}). {}",
                state.name, f.cause
            )),
        },
    }
}

fn run(
    state: &State,
    raw: &Value,
    roots: Roots<'_>,
    entered: u64,
    h: &mut History,
    env: &mut Env<'_>,
) -> Result<Next, Failure> {
    let effective = dataflow::apply_path(state.input_path.as_ref(), roots)?;
    let output = |result: &Value| {
        dataflow::apply_path(state.output_path.as_ref(), with_input(roots, result))
    };
    match &state.kind {
        StateKind::Pass {
            transition,
            parameters,
            result,
            result_path,
        } => {
            let value = match (result, parameters) {
                (Some(r), _) => r.clone(),
                (None, Some(t)) => {
                    dataflow::evaluate(t, with_input(roots, &effective), env.entropy)?
                }
                (None, None) => effective,
            };
            let merged = dataflow::apply_result_path(raw, value, result_path.as_ref())?;
            let out = output(&merged)?;
            let exited = h.exited("PassStateExited", &state.name, &out, entered);
            Ok(h.follow(transition, out, exited))
        }
        StateKind::Succeed => {
            let out = output(&effective)?;
            h.exited("SucceedStateExited", &state.name, &out, entered);
            Ok(Next::Succeeded(out))
        }
        StateKind::Fail { error, cause } => Ok(Next::Failed {
            error: text(
                error.as_ref(),
                "ErrorPath",
                with_input(roots, &effective),
                env.entropy,
            )?,
            cause: text(
                cause.as_ref(),
                "CausePath",
                with_input(roots, &effective),
                env.entropy,
            )?,
        }),
        StateKind::Choice { choices, default } => {
            let mut target = None;
            for rule in choices {
                if choice::holds(&rule.condition, with_input(roots, &effective))? {
                    target = Some(rule.next.clone());
                    break;
                }
            }
            let Some(next) = target.or_else(|| default.clone()) else {
                return Err(Failure {
                    error: "States.NoChoiceMatched",
                    cause: "No Choice Rule matched and no Default was specified".into(),
                });
            };
            // A Choice's output is its (filtered) input.
            let out = output(&effective)?;
            let exited = h.exited("ChoiceStateExited", &state.name, &out, entered);
            Ok(h.follow(&Transition::Next(next), out, exited))
        }
        StateKind::Wait { wait, .. } => {
            let due_ms = wait_due(wait, with_input(roots, &effective), env)?;
            let out = output(&effective)?;
            Ok(Next::WaitUntil(
                Progress {
                    last_id: h.last_id,
                    position: Position::Waiting {
                        state: state.name.clone(),
                        output: out,
                        entered,
                        due_ms,
                    },
                },
                due_ms,
            ))
        }
        StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_) => Err(Failure {
            error: "States.Runtime",
            cause: "This state type is not run by this version of sfnlite".into(),
        }),
    }
}

/// The same roots, with `$` naming `input`.
fn with_input<'a>(roots: Roots<'a>, input: &'a Value) -> Roots<'a> {
    Roots { input, ..roots }
}

/// A Fail state's Error or Cause.
fn text(
    t: Option<&Text>,
    field: &str,
    roots: Roots<'_>,
    entropy: &mut dyn Entropy,
) -> Result<Option<String>, Failure> {
    let v = match t {
        None => return Ok(None),
        Some(Text::Literal(s)) => return Ok(Some(s.clone())),
        Some(Text::Jsonata(e)) => return Ok(Some(e.clone())),
        Some(Text::Path(p)) => jsonpath::select(p, roots)
            .map(jsonpath::Selected::into_value)
            .map_err(|_| Failure {
                error: "States.Runtime",
                cause: format!(
                    "The JSONPath '{p}' specified for the field '{field}' could not be found in the input '{}'",
                    roots.input
                ),
            })?,
        Some(Text::Call(c)) => intrinsics::evaluate(c, roots, entropy)?,
    };
    Ok(Some(match v {
        Value::String(s) => s,
        other => other.to_string(),
    }))
}

/// When a Wait state ends, from its Seconds, Timestamp or their paths.
fn wait_due(wait: &WaitFor, roots: Roots<'_>, env: &Env<'_>) -> Result<i64, Failure> {
    let runtime = |cause: String| Failure {
        error: "States.Runtime",
        cause,
    };
    let too_long = || runtime("Wait state delay is too long.".into());
    match wait {
        WaitFor::Seconds(n) => {
            let seconds = match n {
                Number::Literal(v) => v.as_i64().unwrap_or(0),
                Number::Path(p) => jsonpath::select(p, roots)
                    .ok()
                    .map(jsonpath::Selected::into_value)
                    .and_then(|v| v.as_i64())
                    .filter(|s| *s >= 0)
                    .ok_or_else(|| {
                        runtime(format!(
                            "The SecondsPath parameter does not reference an input value: {p}"
                        ))
                    })?,
                Number::Jsonata(_) => 0,
            };
            if seconds > MAX_WAIT_SECONDS {
                return Err(too_long());
            }
            Ok(env.now_ms + seconds * 1000)
        }
        WaitFor::Timestamp(t) => {
            let text = match t {
                Text::Literal(s) => s.clone(),
                Text::Path(p) => jsonpath::select(p, roots)
                    .ok()
                    .map(jsonpath::Selected::into_value)
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .ok_or_else(|| {
                        runtime(format!(
                            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p}"
                        ))
                    })?,
                Text::Call(_) | Text::Jsonata(_) => String::new(),
            };
            let nanos = crate::asl::timestamp_nanos(&text).ok_or_else(|| {
                runtime(format!(
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {text}"
                ))
            })?;
            let due_ms = (nanos / 1_000_000) as i64;
            if (due_ms - env.now_ms) / 1000 > MAX_WAIT_SECONDS {
                return Err(too_long());
            }
            Ok(due_ms)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::engine::intrinsics::Counter;

    const T0: i64 = 1_764_600_000_000;

    /// An event as `(id, type, previous, details)`.
    type Row = (u64, &'static str, u64, Value);

    fn info(input: &Value) -> ExecutionInfo {
        ExecutionInfo {
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:run".into(),
            name: "run".into(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
            state_machine_name: "sm".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            input: input.clone(),
            start_ms: T0,
        }
    }

    /// Runs a definition to its end, the clock jumping to each due time; returns every event
    /// after ExecutionStarted as `(id, type, previous, details)` and the outcome.
    fn run(definition: Value, input: Value) -> (Vec<Row>, Next, i64) {
        let d = crate::asl::parse(&definition.to_string(), crate::asl::Flavor::default()).unwrap();
        let e = info(&input);
        let mut entropy = Counter(0);
        let mut now = T0;
        let mut progress = start(&d, input);
        let mut events = Vec::new();
        loop {
            let mut env = Env {
                execution: &e,
                now_ms: now,
                entropy: &mut entropy,
            };
            let (new, next) = step(&d, progress, &mut env);
            events.extend(new.into_iter().map(|ev| {
                (
                    ev.id,
                    ev.kind,
                    ev.previous,
                    ev.details.map_or(Value::Null, |(_, v)| v),
                )
            }));
            match next {
                Next::Continue(p) => progress = p,
                Next::WaitUntil(p, due) => {
                    // Never early: the step before the due time adds nothing.
                    let mut early = Env {
                        execution: &e,
                        now_ms: due - 1,
                        entropy: &mut entropy,
                    };
                    let (none, again) = step(&d, p.clone(), &mut early);
                    assert!(none.is_empty());
                    assert!(matches!(again, Next::WaitUntil(_, d) if d == due));
                    now = due.max(now);
                    progress = p;
                }
                done => return (events, done, now),
            }
        }
    }

    fn kinds(events: &[Row]) -> Vec<(u64, &'static str, u64)> {
        events.iter().map(|(i, k, p, _)| (*i, *k, *p)).collect()
    }

    #[test]
    fn a_pass_state_produces_the_recorded_history() {
        // Recorded (test_start_execution): 1 ExecutionStarted (0) · 2 PassStateEntered (0) ·
        // 3 PassStateExited (2) · 4 ExecutionSucceeded (3).
        let def = json!({"Comment": "BASE_PASS_RESULT", "StartAt": "State_1", "States": {
            "State_1": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": true}}});
        let (events, next, _) = run(def, json!({}));
        assert_eq!(
            kinds(&events),
            [
                (2, "PassStateEntered", 0),
                (3, "PassStateExited", 2),
                (4, "ExecutionSucceeded", 3)
            ]
        );
        assert_eq!(
            events[0].3,
            json!({"name": "State_1", "input": "{}", "inputDetails": {"truncated": false}})
        );
        assert_eq!(
            events[1].3,
            json!({"name": "State_1", "output": "{\"Arg1\":\"argument1\"}", "outputDetails": {"truncated": false}})
        );
        assert_eq!(next, Next::Succeeded(json!({"Arg1": "argument1"})));
    }

    #[test]
    fn choice_then_pass_chains_previous_event_ids() {
        let def = json!({"StartAt": "ChoiceStateX", "States": {
            "ChoiceStateX": {"Type": "Choice", "Choices": [
                {"Variable": "$.type", "StringEquals": "Private", "Next": "Public"},
                {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20}, {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"}],
                "Default": "DefaultState"},
            "Public": {"Type": "Pass", "End": true},
            "ValueInTwenties": {"Type": "Pass", "End": true},
            "DefaultState": {"Type": "Fail", "Error": "DefaultStateError", "Cause": "No Matches!"}}});
        let (events, next, _) = run(def, json!({"type": "Public", "value": 25}));
        assert_eq!(
            kinds(&events),
            [
                (2, "ChoiceStateEntered", 0),
                (3, "ChoiceStateExited", 2),
                (4, "PassStateEntered", 3),
                (5, "PassStateExited", 4),
                (6, "ExecutionSucceeded", 5)
            ]
        );
        assert_eq!(events[2].3["name"], "ValueInTwenties");
        assert_eq!(
            next,
            Next::Succeeded(json!({"type": "Public", "value": 25}))
        );
    }

    #[test]
    fn a_fail_state_fails_the_execution_with_its_error_and_cause() {
        let def = json!({"StartAt": "FailState", "States": {"FailState": {"Type": "Fail",
            "Error": "SomeFailure", "Cause": "This state machines raises a 'SomeFailure' failure."}}});
        let (events, _, _) = run(def, json!({}));
        assert_eq!(
            kinds(&events),
            [(2, "FailStateEntered", 0), (3, "ExecutionFailed", 2)]
        );
        assert_eq!(
            events[1].3,
            json!({"error": "SomeFailure", "cause": "This state machines raises a 'SomeFailure' failure."})
        );
        let bare = json!({"StartAt": "F", "States": {"F": {"Type": "Fail"}}});
        assert_eq!(run(bare, json!({})).0[1].3, json!({}));
        let from_input = json!({"StartAt": "F", "States": {"F": {"Type": "Fail",
            "ErrorPath": "$.e", "CausePath": "States.Format('code {}', $.c)"}}});
        assert_eq!(
            run(from_input, json!({"e": "E", "c": 7})).0[1].3,
            json!({"error": "E", "cause": "code 7"})
        );
    }

    #[test]
    fn a_wait_fires_at_its_due_time_never_before() {
        let def = json!({"StartAt": "State_1", "States": {"State_1": {"Type": "Wait", "Seconds": 3, "End": true}}});
        let (events, next, now) = run(def, json!({"a": 1}));
        assert_eq!(
            kinds(&events),
            [
                (2, "WaitStateEntered", 0),
                (3, "WaitStateExited", 2),
                (4, "ExecutionSucceeded", 3)
            ]
        );
        assert_eq!(now, T0 + 3000);
        assert_eq!(next, Next::Succeeded(json!({"a": 1})));
        let past = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z", "End": true}}});
        assert_eq!(run(past, json!({})).2, T0);
    }

    #[test]
    fn a_wait_too_long_fails_with_the_recorded_text() {
        let def = json!({"StartAt": "State_1", "States": {"State_1": {"Type": "Wait", "TimestampPath": "$.t", "End": true}}});
        let far = |days: i64| iso(T0 + days * 86_400_000);
        let (events, next, _) = run(def.clone(), json!({"t": far(24_856)}));
        assert_eq!(
            kinds(&events),
            [(2, "WaitStateEntered", 0), (3, "ExecutionFailed", 2)]
        );
        assert_eq!(
            next,
            Next::Failed {
                error: Some("States.Runtime".into()),
                cause: Some("An error occurred while executing the state 'State_1' (entered at the event id #2). Wait state delay is too long.".into())
            }
        );
        // 24,855 days is accepted.
        let d = crate::asl::parse(&def.to_string(), crate::asl::Flavor::default()).unwrap();
        let input = json!({"t": far(24_855)});
        let e = info(&input);
        let mut env = Env {
            execution: &e,
            now_ms: T0,
            entropy: &mut Counter(0),
        };
        assert!(matches!(
            step(&d, start(&d, input.clone()), &mut env).1,
            Next::WaitUntil(..)
        ));
    }

    #[test]
    fn path_failures_are_uncaught_runtime_errors_right_after_entering() {
        let def = json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "InputPath": "$.NoSuchInputPath", "End": true}}});
        let (events, next, _) = run(def, json!({"a": 1}));
        assert_eq!(
            kinds(&events),
            [(2, "PassStateEntered", 0), (3, "ExecutionFailed", 2)]
        );
        assert_eq!(
            next,
            Next::Failed {
                error: Some("States.Runtime".into()),
                cause: Some("An error occurred while executing the state 'S' (entered at the event id #2). Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']".into())
            }
        );
    }

    #[test]
    fn pass_data_flow_follows_the_recorded_order() {
        // InputPath filters what Parameters see; ResultPath merges into the *raw* input.
        let def = json!({"StartAt": "S", "States": {"S": {"Type": "Pass",
            "InputPath": "$.answer", "Parameters": {"doubled.$": "States.MathAdd($, $)", "ctx.$": "$$.State.Name"},
            "ResultPath": "$.theAnswer", "OutputPath": "$.theAnswer", "End": true}}});
        let (_, next, _) = run(def, json!({"answer": 21}));
        assert_eq!(next, Next::Succeeded(json!({"ctx": "S", "doubled": 42})));
        let null_paths = json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "InputPath": null, "OutputPath": null, "End": true}}});
        assert_eq!(
            run(null_paths, json!({"a": 1})).1,
            Next::Succeeded(json!({}))
        );
        let literal = json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "Result": {"unsupported1.$": "$.jsonpath", "unsupported2.$": "$$"}, "End": true}}});
        assert_eq!(
            run(literal, json!({})).1,
            Next::Succeeded(json!({"unsupported1.$": "$.jsonpath", "unsupported2.$": "$$"}))
        );
    }
}
