//! One step of an execution: a state entered with its input, run, and left — the history
//! events it adds and where the execution goes next. Pure: the clock reading and the
//! entropy come in through [`Env`], nothing is read or written, so a crash between steps
//! loses nothing the caller had committed, and every history here is testable without HTTP
//! or SQL.
//!
//! A Parallel or Map state is a [`Fork`]: its branches or iterations are positions of their
//! own, each stepped once per step of the execution, their events interleaved in one history.
//! A retry back-off and a Wait are due times in the position, never a sleep.
//!
//! Workflow variables (`Assign`, asl-semantics.md §9) live with the position of their scope:
//! the execution's in [`Progress`], a branch's or iteration's in its [`Child`]. A state reads
//! the values from before it ran (those of its scope over those of the scopes around it) and
//! its assignments take effect when it is left, in its own scope only.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::choice;
use super::dataflow::{self, Failure};
use super::intrinsics::{self, Entropy};
use super::items::{self, ReadSpec, WriteSpec};
use super::jsonpath::{self, Roots};
use super::mocks::{Answer, MockConfig, Mocked, TestCase};
use super::query;
use crate::asl::model::{
    Catcher, Definition, MapState, Number, Parallel, QueryLanguage, Retrier, S3Io, Scope, State,
    StateKind, Task, Template, Text, Transition, WaitFor,
};
use crate::asl::resource::{Pattern, Resource};

/// The longest a Wait may last: 2^31 seconds (24,855 days is accepted, 24,856 is not).
const MAX_WAIT_SECONDS: i64 = 1 << 31;

/// The most events one execution's history holds (executions-api.md §11).
pub const MAX_EVENTS: u64 = 25_000;

/// The largest state input or output, in UTF-8 bytes.
pub const MAX_PAYLOAD_BYTES: usize = 262_144;

/// One history event, as GetExecutionHistory shows it (timestamp added by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: u64,
    pub previous: u64,
    pub kind: &'static str,
    /// The details member's name and value, for types that have one.
    pub details: Option<(&'static str, Value)>,
}

/// Where an execution (or one branch or iteration of it) stands between steps; what the
/// store keeps, as JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "at", rename_all = "camelCase")]
pub enum Position {
    /// A new execution, about to enter its StartAt state with the execution's input (kept
    /// once, on the execution, not again here).
    Start,
    /// About to enter `state` with `input`; `previous` is the event that led here.
    Enter {
        state: String,
        input: Value,
        previous: u64,
    },
    /// In a Wait state until `due_ms`, then leaving it with `output` (and assigning what
    /// its Assign evaluated to on entry).
    Waiting {
        state: String,
        output: Value,
        entered: u64,
        due_ms: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assigned: Option<Variables>,
    },
    /// A Task, Parallel or Map state (entered at event `entered`) about to make an attempt —
    /// at `due_ms` when it is a retry's back-off. `attempts` counts each retrier's retries;
    /// the attempt's first event follows `previous`.
    Attempt {
        state: String,
        input: Value,
        entered: u64,
        entered_ms: i64,
        previous: u64,
        attempts: Vec<u64>,
        due_ms: Option<i64>,
        /// The event the state's Entered event followed.
        #[serde(default)]
        after: u64,
    },
    /// A Parallel or Map state whose branches or iterations run.
    Fork(Box<Fork>),
    /// A Task waiting for an activity worker (or its answer) on a task token.
    Activity(Box<ActivityTask>),
    /// A Distributed Map state waiting for its map run, whose children are executions of
    /// their own ([`super::map_runs`]).
    MapRun(Box<MapRunWait>),
}

/// A Distributed Map state's run, from the parent's side: created by the runner in the
/// commit that records MapRunStarted (from `create`, then dropped), answered by the store
/// when the run ends (`outcome`); the next step records what the answer means.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapRunWait {
    pub state: String,
    /// The state's raw input (ResultPath merges into it; a retry starts from it again).
    pub input: Value,
    pub entered: u64,
    pub entered_ms: i64,
    #[serde(default)]
    pub after: u64,
    pub attempts: Vec<u64>,
    pub arn: String,
    /// The MapRunStarted event.
    pub started: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<Box<MapRunPlan>>,
    /// The items an ItemReader read, delivered by the runner; the next step makes them
    /// the children's inputs (ItemSelector, ItemBatcher) in `fill`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<Value>>,
    /// Inputs for the created run (from its read items), added by the runner in the same
    /// commit as the step that made them (then dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill: Option<Vec<(Value, u64)>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<MapRunOutcome>,
    /// The execution was redriven here: the next step records MapRunRedriven and asks for
    /// the run to be redriven (`rerun`, done by the runner in the same commit).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redrive: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rerun: bool,
    /// A run that stores nothing (EXPRESS) reads the items itself, then runs them as inline
    /// iterations: what to read (no map run; `started` is the event the attempt follows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_inline: Option<ReadSpec>,
}

/// What a map run is created from: its children's inputs (each with the items it holds),
/// their machine ARN and type, and the run's limits.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapRunPlan {
    pub inputs: Vec<(Value, u64)>,
    pub machine_arn: String,
    pub express: bool,
    pub max_concurrency: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_percentage: Option<f64>,
    /// Items to read from S3 first (then `inputs` is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<ReadSpec>,
    /// Where the results go when the run ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<WriteSpec>,
}

/// How a map run ended, for its Map state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "is", rename_all = "camelCase")]
pub enum MapRunOutcome {
    /// The children's outputs in item order.
    Succeeded { results: Vec<Value> },
    /// The results went to S3 (ResultWriter): the Map's result is where.
    Written { output: Value },
    Failed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
}

impl MapRunWait {
    /// The Map state's visit this wait belongs to.
    fn visit<'a>(&'a self, state: &'a State) -> Visit<'a> {
        Visit {
            state,
            input: &self.input,
            entered: self.entered,
            entered_ms: self.entered_ms,
            after: self.after,
        }
    }
}

/// The map run waits of `position` (inside branches and iterations too).
pub fn map_runs_mut(position: &mut Position) -> Vec<&mut MapRunWait> {
    match position {
        Position::MapRun(w) => vec![w],
        Position::Fork(f) => f
            .children
            .iter_mut()
            .flat_map(|c| match c {
                Child::Running { position, .. } => map_runs_mut(position),
                _ => Vec::new(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The map run waits of `position`, read only.
pub fn map_runs(position: &Position) -> Vec<&MapRunWait> {
    match position {
        Position::MapRun(w) => vec![w],
        Position::Fork(f) => f
            .children
            .iter()
            .flat_map(|c| match c {
                Child::Running { position, .. } => map_runs(position),
                _ => Vec::new(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A scheduled activity task: what the worker gets, what it has said so far, and when the
/// task times out. Workers' calls only fill `started`, `beat_due` and `outcome`; the next
/// step records the events they imply.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityTask {
    pub state: String,
    /// The state's raw input (ResultPath merges into it; a retry starts from it again).
    pub input: Value,
    pub entered: u64,
    pub entered_ms: i64,
    pub attempts: Vec<u64>,
    /// The event the state's Entered event followed.
    #[serde(default)]
    pub after: u64,
    pub activity: String,
    pub token: String,
    /// The effective input, as the worker receives it.
    pub task_input: Value,
    /// ActivityScheduled; then ActivityStarted once recorded.
    pub scheduled: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_event: Option<u64>,
    /// A worker took the task (its name, if it gave one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Worker>,
    /// TimeoutSeconds, from scheduling; absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_due: Option<i64>,
    /// HeartbeatSeconds (scaled, milliseconds) and when the next heartbeat is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beat_due: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<TaskOutcome>,
    /// Present when the task is a call to an integration sfnlite serves itself rather than
    /// an activity (then `activity` holds the Task's resource ARN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Box<ServiceCall>>,
}

/// A Task calling an integration sfnlite serves itself (`states:startExecution`,
/// `aws-sdk:sfn:*`, see [`super::calls`]). The runner makes the call in the commit that
/// records the task's scheduling and keeps its answer here; the next step records what the
/// answer means (TaskSucceeded, TaskFailed, or TaskSubmitted and a wait for the token).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCall {
    /// `<service>:<action>`: `states:startExecution`, `aws-sdk:sfn:sendTaskSuccess`, …
    pub integration: String,
    pub pattern: Pattern,
    /// The `resource` and `resourceType` its events name.
    pub resource: String,
    pub resource_type: String,
    /// The effective parameters.
    pub request: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<CallAnswer>,
    /// The TaskSubmitted event, once recorded (callbacks and `.sync`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted: Option<u64>,
    /// A call to a service outside sfnlite ([`super::outside`]): made over the network after
    /// the commit that marks it `sent`, answered by a later write.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outside: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sent: bool,
}

/// What a call answered right away.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "is", rename_all = "camelCase")]
pub enum CallAnswer {
    Returned { output: Value },
    Failed { error: String, cause: String },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Worker {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What the worker answered.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "is", rename_all = "camelCase")]
pub enum TaskOutcome {
    /// SendTaskSuccess, with the output text as sent.
    Succeeded { output: String },
    Failed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
}

/// When nothing but a worker can move a task: a due time the runner never reaches.
pub const NEVER: i64 = i64::MAX / 4;

impl ActivityTask {
    /// When the task times out by itself (its timeout or a missed heartbeat).
    pub fn due(&self) -> i64 {
        // A call not yet made, or answered but not yet recorded, is the runner's now; an
        // outside call in flight waits for its answer (or its timeout).
        let unanswered = self.call.as_ref().is_some_and(|c| match &c.answer {
            None => !c.in_flight(),
            Some(_) => c.submitted.is_none(),
        });
        if self.outcome.is_some()
            || (self.started.is_some() && self.started_event.is_none())
            || unanswered
        {
            return i64::MIN;
        }
        self.timeout_due
            .into_iter()
            .chain(self.beat_due)
            .min()
            .unwrap_or(NEVER)
    }
}

impl ServiceCall {
    /// Whether the task waits beyond the call's answer: for a token (callbacks) or for
    /// the started execution to end (`.sync`).
    pub fn waits(&self) -> bool {
        self.pattern != Pattern::RequestResponse
    }

    /// An outside call that left and has not been answered.
    pub fn in_flight(&self) -> bool {
        self.outside && self.sent && self.answer.is_none()
    }

    /// A bare Lambda function ARN as the resource: `LambdaFunction*` events, not `Task*`.
    pub fn legacy_lambda(&self) -> bool {
        self.integration == super::outside::LEGACY_LAMBDA
    }
}

/// The activity task with `token` anywhere in `position` (inside branches and iterations too).
pub fn task_mut<'a>(position: &'a mut Position, token: &str) -> Option<&'a mut ActivityTask> {
    match position {
        Position::Activity(t) if t.token == token => Some(t),
        Position::Fork(f) => f.children.iter_mut().find_map(|c| match c {
            Child::Running { position, .. } => task_mut(position, token),
            _ => None,
        }),
        _ => None,
    }
}

/// Every task of `position` still waiting for an answer: activity tasks and calls alike.
pub fn open_tasks(position: &Position) -> Vec<&ActivityTask> {
    let mut out = Vec::new();
    each_open_task(position, &mut |t| out.push(t));
    out
}

fn each_open_task<'a>(position: &'a Position, f: &mut dyn FnMut(&'a ActivityTask)) {
    match position {
        Position::Activity(t) if t.outcome.is_none() => f(t),
        Position::Fork(fork) => {
            for c in &fork.children {
                if let Child::Running { position, .. } = c {
                    each_open_task(position, f);
                }
            }
        }
        _ => {}
    }
}

/// Every in-process call of `position` whose answer has not come: the runner makes these
/// calls.
pub fn unanswered_calls(position: &mut Position) -> Vec<&mut ActivityTask> {
    calls_where(position, &|c| c.answer.is_none() && !c.outside)
}

/// Every outside call of `position` not yet sent: the runner marks them sent and makes them.
pub fn unsent_calls(position: &mut Position) -> Vec<&mut ActivityTask> {
    calls_where(position, &|c| c.outside && !c.sent && c.answer.is_none())
}

/// The tasks of `position` (inside branches and iterations too) whose call is `wanted`.
fn calls_where<'a>(
    position: &'a mut Position,
    wanted: &dyn Fn(&ServiceCall) -> bool,
) -> Vec<&'a mut ActivityTask> {
    match position {
        Position::Activity(t) if t.call.as_deref().is_some_and(wanted) => vec![t],
        Position::Fork(f) => f
            .children
            .iter_mut()
            .flat_map(|c| match c {
                Child::Running { position, .. } => calls_where(position, wanted),
                _ => Vec::new(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A running Parallel or Map state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fork {
    pub state: String,
    /// The state's raw input (ResultPath merges into it; a retry starts from it again).
    pub input: Value,
    pub entered: u64,
    pub entered_ms: i64,
    /// The event the state's Entered event followed.
    #[serde(default)]
    pub after: u64,
    pub attempts: Vec<u64>,
    /// Iterations running at once (Map; 0 = no limit).
    pub max_concurrency: usize,
    pub children: Vec<Child>,
}

/// One branch of a Parallel or iteration of a Map; `last` is its latest event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "is", rename_all = "camelCase")]
pub enum Child {
    Pending {
        input: Value,
    },
    Running {
        position: Position,
        last: u64,
        /// The variables its states assigned (it reads the enclosing ones too).
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        variables: Variables,
    },
    Done {
        output: Value,
        last: u64,
    },
}

/// Workflow variables by name.
pub type Variables = Map<String, Value>;

/// An execution's progress: the last event id issued, the position and the variables of the
/// top-level scope.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub last_id: u64,
    pub position: Position,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub variables: Variables,
    /// The mock configuration's test case the execution was started with (`…#<TestCase>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_case: Option<String>,
    /// How often each mocked state was invoked so far (its next mocked entry).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub invocations: BTreeMap<String, u64>,
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
    /// The machine's TimeoutSeconds passed.
    TimedOut,
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
    /// Redrives so far (absent from the context of a synchronous EXPRESS run, as recorded)
    /// and when the last began (the machine's TimeoutSeconds counts from it).
    pub redrive_count: Option<u64>,
    pub redrive_ms: Option<i64>,
    /// The whole context object, when the caller gives it (TestState's `context`): `$$` is
    /// exactly that.
    pub context: Option<Value>,
}

impl ExecutionInfo {
    fn region(&self) -> &str {
        self.execution_arn.split(':').nth(3).unwrap_or("")
    }
}

/// What a step may read: the execution, the clock reading, randomness.
pub struct Env<'a> {
    pub execution: &'a ExecutionInfo,
    pub now_ms: i64,
    pub entropy: &'a mut dyn Entropy,
    /// Multiplies Wait seconds, retry intervals and timeouts (tests shorten them with it; 1
    /// otherwise). Timestamps are absolute and never scaled.
    pub time_scale: f64,
    /// Whether an activity of this ARN exists (read by the caller before the step).
    pub activity_exists: &'a dyn Fn(&str) -> bool,
    /// The mocked states of the execution's test case, with the configuration they name.
    pub mocks: Option<(&'a MockConfig, &'a TestCase)>,
    /// TestState's inspection data: each data-flow stage of the state, when asked for.
    pub inspection: Option<&'a mut Map<String, Value>>,
    /// Where a redrive would resume, set when the step ends the execution unsuccessfully.
    pub resume: Option<&'a mut Option<Progress>>,
    /// Whether a Distributed Map runs its items as child executions (stored executions);
    /// otherwise (EXPRESS runs, TestState) it runs them as iterations, like an inline Map.
    pub map_runs: bool,
    /// An ItemReader's data as found at its source, for runs that read nothing themselves
    /// (TestState's `mapItemReaderData`).
    pub reader_data: Option<&'a str>,
    /// Whether a run that keeps nothing reads ItemReader sources itself (EXPRESS).
    pub reads_items: bool,
}

/// For an environment without activities: none exists.
fn no_activity(_: &str) -> bool {
    false
}

impl<'a> Env<'a> {
    /// An environment at `now_ms` with nothing but the clock and randomness: no time scaling,
    /// no activities, no mocks, no inspection, no redrive point. Callers set what they have
    /// with struct update syntax.
    pub fn new(execution: &'a ExecutionInfo, now_ms: i64, entropy: &'a mut dyn Entropy) -> Env<'a> {
        Env {
            execution,
            now_ms,
            entropy,
            time_scale: 1.0,
            activity_exists: &no_activity,
            mocks: None,
            inspection: None,
            resume: None,
            map_runs: false,
            reader_data: None,
            reads_items: false,
        }
    }
}

impl Env<'_> {
    /// Records a data-flow stage for TestState (nothing when not inspecting).
    fn inspect(&mut self, stage: &str, value: &Value) {
        if let Some(m) = self.inspection.as_deref_mut() {
            m.insert(stage.to_owned(), value.clone());
        }
    }

    /// `seconds` from now, scaled.
    fn after(&self, seconds: f64) -> i64 {
        self.now_ms + (seconds * 1000.0 * self.time_scale) as i64
    }
}

/// The position of a new execution; `ExecutionStarted` (event 1) is the caller's.
pub fn start() -> Progress {
    Progress {
        last_id: 1,
        position: Position::Start,
        variables: Map::new(),
        test_case: None,
        invocations: BTreeMap::new(),
    }
}

/// Ends an execution with `error` and `cause` at its current position, whatever the
/// position is: one ExecutionFailed event after event `last_id`.
pub fn fail(last_id: u64, error: &str, cause: &str) -> (Vec<Event>, Next) {
    let mut h = History {
        events: Vec::new(),
        last_id,
        assigned: None,
        invocations: BTreeMap::new(),
    };
    let next = h.close(Next::Failed {
        error: Some(error.to_owned()),
        cause: Some(cause.to_owned()),
    });
    (h.events, next)
}

/// The event of a StopExecution: `ExecutionAborted` after event `last_id`, with no previous
/// event (as recorded) and the error and cause given, if any.
pub fn aborted(last_id: u64, error: Option<&str>, cause: Option<&str>) -> Event {
    Event {
        id: last_id + 1,
        previous: 0,
        kind: "ExecutionAborted",
        details: Some(("executionAbortedEventDetails", error_details(error, cause))),
    }
}

/// How stepping a position inside one scope came out.
enum Flow {
    Go(Position),
    Wait(Position, i64),
    /// The scope ended (an `End` transition or a Succeed state) with this output.
    Done(Value),
    Failed(Fault),
}

/// An uncaught failure, and the event that caused it (a Fail state's Entered, a TaskFailed,
/// a nested XStateFailed): the failed Parallel or Map events follow it.
#[derive(Debug)]
struct Fault {
    error: Option<String>,
    cause: Option<String>,
    event: u64,
}

/// Takes one step.
pub fn step(definition: &Definition, progress: Progress, env: &mut Env<'_>) -> (Vec<Event>, Next) {
    let mut h = History {
        events: Vec::new(),
        last_id: progress.last_id,
        assigned: None,
        invocations: progress.invocations,
    };
    let mut variables = progress.variables;
    let test_case = progress.test_case;
    let deadline = definition.timeout_seconds.map(|t| {
        let from = env.execution.redrive_ms.unwrap_or(env.execution.start_ms);
        from + (t as f64 * 1000.0 * env.time_scale) as i64
    });
    if deadline.is_some_and(|d| env.now_ms >= d) {
        h.push(
            "ExecutionTimedOut",
            0,
            Some((
                "executionTimedOutEventDetails",
                json!({"error": "States.Timeout"}),
            )),
        );
        if let Some(slot) = env.resume.as_deref_mut() {
            *slot = Some(redrive_point(
                resume_at(&progress.position),
                &variables,
                &test_case,
            ));
        }
        return (h.events, Next::TimedOut);
    }
    let position = match progress.position {
        Position::Start => Position::Enter {
            state: definition.machine.start_at.clone(),
            input: env.execution.input.clone(),
            previous: 0,
        },
        other => other,
    };
    // Where a redrive resumes should this step end the execution: where it stood, or a
    // state this step entered, with the input its Entered event shows. Only stored runs
    // keep one (a fork's is a copy of its branches' positions).
    let resume = env.resume.is_some().then(|| match &position {
        Position::Enter { state, .. } => Err(state.clone()),
        other => Ok(resume_at(other)),
    });
    let flow = step_in(&definition.machine, position, &variables, &mut h, env);
    if let (Flow::Failed(_), Some(slot), Some(resume)) = (&flow, env.resume.as_deref_mut(), resume)
    {
        let position = match resume {
            Ok(position) => Some(position),
            Err(state) => h
                .events
                .iter()
                .find_map(|e| match &e.details {
                    Some((_, d))
                        if e.kind.ends_with("StateEntered") && d["name"] == json!(state) =>
                    {
                        d["input"]
                            .as_str()
                            .and_then(|t| serde_json::from_str(t).ok())
                    }
                    _ => None,
                })
                .map(|input| Position::Enter {
                    state,
                    input,
                    previous: 0,
                }),
        };
        *slot = position.map(|p| redrive_point(p, &variables, &test_case));
    }
    if let Some(assigned) = h.assigned.take() {
        variables.extend(assigned);
    }
    let next = match flow {
        Flow::Go(position) => Next::Continue(Progress {
            last_id: h.last_id,
            position,
            variables,
            test_case,
            invocations: std::mem::take(&mut h.invocations),
        }),
        Flow::Wait(position, due) => {
            let due = deadline.map_or(due, |d| d.min(due));
            Next::WaitUntil(
                Progress {
                    last_id: h.last_id,
                    position,
                    variables,
                    test_case,
                    invocations: std::mem::take(&mut h.invocations),
                },
                due,
            )
        }
        Flow::Done(output) => h.close(Next::Succeeded(output)),
        Flow::Failed(f) => h.close(Next::Failed {
            error: f.error,
            cause: f.cause,
        }),
    };
    limit_history(h, next)
}

/// Where a redrive of an execution stopped at `position` resumes: the top-level state it was
/// in, entered again with the input it was entered with (a Parallel or Map again as a whole;
/// a Wait with its output, the only input it keeps); an execution that never stepped, from
/// its start.
pub fn resume_at(position: &Position) -> Position {
    let (state, input) = match position {
        Position::Start => return Position::Start,
        Position::Enter { state, input, .. }
        | Position::Attempt { state, input, .. }
        | Position::Waiting {
            state,
            output: input,
            ..
        } => (state.clone(), input.clone()),
        // A Parallel or inline Map keeps its finished branches or iterations; the others
        // resume where they were (the failed one, and those its failure aborted).
        Position::Fork(f) => {
            let mut f = (**f).clone();
            for c in &mut f.children {
                if let Child::Running { position, .. } = c {
                    *position = resume_at(position);
                }
            }
            return Position::Fork(Box::new(f));
        }
        Position::Activity(t) => (t.state.clone(), t.input.clone()),
        // A run that did not succeed is redriven (its unsuccessful children run again); the
        // Map state is not entered again.
        Position::MapRun(w)
            if !matches!(
                w.outcome,
                Some(MapRunOutcome::Succeeded { .. } | MapRunOutcome::Written { .. })
            ) =>
        {
            return Position::MapRun(Box::new(MapRunWait {
                create: None,
                items: None,
                fill: None,
                outcome: None,
                redrive: true,
                rerun: false,
                read_inline: None,
                ..(**w).clone()
            }));
        }
        Position::MapRun(w) => (w.state.clone(), w.input.clone()),
    };
    Position::Enter {
        state,
        input,
        previous: 0,
    }
}

/// The progress a redrive starts from: `position`, with the variables the execution had.
fn redrive_point(
    position: Position,
    variables: &Variables,
    test_case: &Option<String>,
) -> Progress {
    Progress {
        last_id: 0,
        position,
        variables: variables.clone(),
        test_case: test_case.clone(),
        invocations: Default::default(),
    }
}

/// Makes the states a redrive enters (at any depth) follow its ExecutionRedriven event `id`.
pub fn redriven_from(position: &mut Position, id: u64) {
    match position {
        Position::Enter { previous, .. } => *previous = id,
        Position::Fork(f) => {
            for c in &mut f.children {
                if let Child::Running { position, .. } = c {
                    redriven_from(position, id);
                }
            }
        }
        _ => {}
    }
}

/// At most [`MAX_EVENTS`] events: a step that would pass the limit without ending the
/// execution by then ends it with event 25,000, a States.Runtime failure.
fn limit_history(mut h: History, next: Next) -> (Vec<Event>, Next) {
    let closed = matches!(
        next,
        Next::Succeeded(_) | Next::Failed { .. } | Next::TimedOut
    );
    if h.last_id < MAX_EVENTS || (closed && h.last_id <= MAX_EVENTS) {
        return (h.events, next);
    }
    h.events.retain(|e| e.id < MAX_EVENTS);
    h.last_id = MAX_EVENTS - 1;
    let next = h.close(Next::Failed {
        error: Some("States.Runtime".into()),
        cause: Some(format!(
            "The execution reached the maximum number of history events ({MAX_EVENTS})."
        )),
    });
    (h.events, next)
}

/// Steps a position of `scope` once; `variables` are those in reach of the scope. What the
/// step assigns is left in `h.assigned` for the scope's owner to keep.
fn step_in(
    scope: &Scope,
    position: Position,
    variables: &Variables,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    match position {
        Position::Start => unreachable!("only a whole execution starts, and `step` enters it"),
        Position::Enter {
            state,
            input,
            previous,
        } => match scope.state(&state) {
            Some(s) => enter(s, input, previous, variables, h, env),
            None => Flow::Failed(Fault {
                error: Some("States.Runtime".into()),
                cause: Some(format!("The state '{state}' does not exist")),
                event: h.last_id,
            }),
        },
        Position::Waiting {
            state,
            output,
            entered,
            due_ms,
            assigned,
        } => {
            if env.now_ms < due_ms {
                return Flow::Wait(
                    Position::Waiting {
                        state,
                        output,
                        entered,
                        due_ms,
                        assigned,
                    },
                    due_ms,
                );
            }
            let exited = h.exited_assigning("WaitStateExited", &state, &output, entered, assigned);
            match scope.state(&state).map(|s| &s.kind) {
                Some(StateKind::Wait { transition, .. }) => follow(transition, output, exited),
                _ => unreachable!("a waiting execution waits in a Wait state"),
            }
        }
        Position::Attempt {
            state,
            input,
            entered,
            entered_ms,
            previous,
            attempts,
            due_ms,
            after,
        } => {
            if let Some(due) = due_ms.filter(|d| env.now_ms < *d) {
                return Flow::Wait(
                    Position::Attempt {
                        state,
                        input,
                        entered,
                        entered_ms,
                        previous,
                        attempts,
                        due_ms,
                        after,
                    },
                    due,
                );
            }
            let Some(s) = scope.state(&state) else {
                unreachable!("an attempt is made in a state of its scope")
            };
            let visit = Visit {
                state: s,
                input: &input,
                entered,
                entered_ms,
                after,
            };
            attempt(&visit, previous, attempts, variables, h, env)
        }
        Position::Fork(fork) => {
            let Some(s) = scope.state(&fork.state) else {
                unreachable!("a fork runs in a state of its scope")
            };
            step_fork(s, *fork, variables, h, env)
        }
        Position::Activity(t) => {
            let Some(s) = scope.state(&t.state) else {
                unreachable!("an activity task waits in a state of its scope")
            };
            step_activity(s, *t, variables, h, env)
        }
        Position::MapRun(w) => {
            let Some(s) = scope.state(&w.state) else {
                unreachable!("a map run waits in a state of its scope")
            };
            step_map_run(s, *w, variables, h, env)
        }
    }
}

/// After a state's Exited event: on to the next state, or the scope ends.
fn follow(transition: &Transition, output: Value, exited: u64) -> Flow {
    match transition {
        Transition::End => Flow::Done(output),
        Transition::Next(state) => Flow::Go(Position::Enter {
            state: state.clone(),
            input: output,
            previous: exited,
        }),
    }
}

struct History {
    events: Vec<Event>,
    last_id: u64,
    /// What the state just left assigned, for its scope to keep.
    assigned: Option<Variables>,
    /// The execution's mocked-state invocation counts ([`Progress::invocations`]).
    invocations: BTreeMap<String, u64>,
}

impl History {
    /// The execution's last event, when `next` ends it.
    fn close(&mut self, next: Next) -> Next {
        match next {
            Next::Succeeded(output) => {
                let prev = self.last_id;
                self.push(
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
                let prev = self.last_id;
                self.push(
                    "ExecutionFailed",
                    prev,
                    Some((
                        "executionFailedEventDetails",
                        error_details(error.as_deref(), cause.as_deref()),
                    )),
                );
                Next::Failed { error, cause }
            }
            other => other,
        }
    }

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
        self.exited_assigning(kind, name, output, previous, None)
    }

    /// The Exited event of a state that assigns `assigned`: the event shows each value as
    /// its JSON text, names sorted, and the values take effect once the state is left.
    fn exited_assigning(
        &mut self,
        kind: &'static str,
        name: &str,
        output: &Value,
        previous: u64,
        assigned: Option<Variables>,
    ) -> u64 {
        let mut details = json!({"name": name, "output": output.to_string(), "outputDetails": {"truncated": false}});
        if let (Some(a), Value::Object(d)) = (&assigned, &mut details) {
            let mut sorted: Vec<(&String, &Value)> = a.iter().collect();
            sorted.sort_by(|x, y| x.0.cmp(y.0));
            let shown: Map<String, Value> = sorted
                .into_iter()
                .map(|(k, v)| (k.clone(), Value::String(v.to_string())))
                .collect();
            d.insert("assignedVariables".into(), Value::Object(shown));
            d.insert(
                "assignedVariablesDetails".into(),
                json!({"truncated": false}),
            );
        }
        self.assigned = assigned;
        self.push(kind, previous, Some(("stateExitedEventDetails", details)))
    }
}

/// `{error?, cause?}`: absent keys, never nulls.
fn error_details(error: Option<&str>, cause: Option<&str>) -> Value {
    let mut details = Map::new();
    if let Some(e) = error {
        details.insert("error".into(), json!(e));
    }
    if let Some(c) = cause {
        details.insert("cause".into(), json!(c));
    }
    Value::Object(details)
}

/// The context object of a state entered at `entered_ms` (asl-semantics.md §2.3 order).
fn context(e: &ExecutionInfo, state: &str, entered_ms: i64) -> Value {
    if let Some(c) = &e.context {
        return c.clone();
    }
    let mut execution = json!({
        "Id": e.execution_arn,
        "Input": e.input,
        "StartTime": iso(e.start_ms),
        "Name": e.name,
        "RoleArn": e.role_arn
    });
    if let Value::Object(m) = &mut execution {
        if let Some(n) = e.redrive_count {
            m.insert("RedriveCount".into(), json!(n));
        }
        if let Some(ms) = e.redrive_ms {
            m.insert("RedriveTime".into(), json!(iso(ms)));
        }
    }
    json!({
        "Execution": execution,
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

/// The prefix AWS puts before the cause of a failure raised by the interpreter itself.
fn state_cause(state: &str, entered: u64, cause: &str) -> String {
    format!(
        "An error occurred while executing the state '{state}' (entered at the event id #{entered}). {cause}"
    )
}

/// A data-flow failure of a state: an interpreter error of that state, after `event`.
fn fault(state: &State, entered: u64, f: Failure, event: u64) -> Fault {
    // The payload limit's cause names the state itself and has no prefix (recorded).
    let cause = if f.error == "States.DataLimitExceeded" {
        f.cause
    } else {
        state_cause(&state.name, entered, &f.cause)
    };
    Fault {
        error: Some(f.error.to_owned()),
        cause: Some(cause),
        event,
    }
}

/// A state's output over the payload limit fails the execution (not catchable).
fn check_size(state: &State, out: &Value) -> Result<(), Failure> {
    if out.to_string().len() > MAX_PAYLOAD_BYTES {
        return Err(Failure {
            error: "States.DataLimitExceeded",
            cause: format!(
                "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                state.name
            ),
        });
    }
    Ok(())
}

/// Runs `state` from its Entered event to its Exited event, the failure, or (Task,
/// Parallel, Map) its first attempt.
/// What an `Assign` evaluates to in `roots`; nothing for an absent or empty one.
fn assign(
    template: Option<&Template>,
    roots: Roots<'_>,
    entropy: &mut dyn Entropy,
) -> Result<Option<Variables>, Failure> {
    let Some(t) = template else { return Ok(None) };
    match dataflow::evaluate(t, roots, entropy)? {
        Value::Object(m) if !m.is_empty() => check_assigned(m, roots.variables).map(Some),
        _ => Ok(None),
    }
}

/// The most one variable's value, and one Assign in all, may take as JSON text (256 KiB).
pub const MAX_ASSIGN_BYTES: usize = 262_144;

/// The most all of an execution's variables in reach may take as JSON text (10 MiB).
pub const MAX_VARIABLES_BYTES: usize = 10 * 1024 * 1024;

/// An Assign's values within AWS's limits (asl-semantics.md §9): 256 KiB per variable and per
/// Assign, 10 MiB with the variables already in reach (`existing`, which it may replace).
/// Past them the state fails like a payload over its limit (the wording is ours; AWS's is not
/// recorded).
pub fn check_assigned(assigned: Variables, existing: &Variables) -> Result<Variables, Failure> {
    let mut total = 0;
    for (name, v) in &assigned {
        let size = v.to_string().len();
        if size > MAX_ASSIGN_BYTES {
            return Err(Failure {
                error: "States.DataLimitExceeded",
                cause: format!(
                    "The value assigned to the variable '{name}' is {size} bytes, over the limit of {MAX_ASSIGN_BYTES} bytes."
                ),
            });
        }
        total += size;
    }
    if total > MAX_ASSIGN_BYTES {
        return Err(Failure {
            error: "States.DataLimitExceeded",
            cause: format!(
                "The variables assigned by one state are {total} bytes, over the limit of {MAX_ASSIGN_BYTES} bytes."
            ),
        });
    }
    let kept: usize = existing
        .iter()
        .filter(|(k, _)| !assigned.contains_key(*k))
        .map(|(_, v)| v.to_string().len())
        .sum();
    if kept + total > MAX_VARIABLES_BYTES {
        return Err(Failure {
            error: "States.DataLimitExceeded",
            cause: format!(
                "The execution's variables would be {} bytes, over the limit of {MAX_VARIABLES_BYTES} bytes.",
                kept + total
            ),
        });
    }
    Ok(assigned)
}

/// The variables a branch or iteration reads: its own over those around it.
fn in_reach<'a>(outer: &'a Variables, own: &'a Variables) -> Cow<'a, Variables> {
    if own.is_empty() {
        Cow::Borrowed(outer)
    } else if outer.is_empty() {
        Cow::Borrowed(own)
    } else {
        let mut all = outer.clone();
        all.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        Cow::Owned(all)
    }
}

fn enter(
    state: &State,
    input: Value,
    previous: u64,
    variables: &Variables,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
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
    if let StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_) = &state.kind {
        let visit = Visit {
            state,
            input: &input,
            entered,
            entered_ms: env.now_ms,
            after: previous,
        };
        let retriers = retriers(state).len();
        return attempt(&visit, entered, vec![0; retriers], variables, h, env);
    }
    let ctx = context(env.execution, &state.name, env.now_ms);
    let roots = Roots {
        input: &input,
        context: &ctx,
        variables,
    };
    match run(state, &input, roots, entered, h, env) {
        Ok(flow) => flow,
        Err(f) if f.error == "States.QueryEvaluationError" => {
            let fault = fault(state, entered, f, h.last_id);
            // Recorded: EvaluationFailed follows what the Entered event followed, except in
            // a Wait, where it follows the Entered event itself.
            let after = if matches!(state.kind, StateKind::Wait { .. }) {
                entered
            } else {
                previous
            };
            let cause = fault.cause.clone().unwrap_or_default();
            let event = evaluation_failed(h, state, &cause, after);
            Flow::Failed(Fault { event, ..fault })
        }
        Err(f) => {
            let event = h.last_id;
            Flow::Failed(fault(state, entered, f, event))
        }
    }
}

/// `EvaluationFailed`, after event `after`, for a JSONata failure of `state` with `cause`.
fn evaluation_failed(h: &mut History, state: &State, cause: &str, after: u64) -> u64 {
    let mut details = Map::new();
    details.insert("error".into(), json!("States.QueryEvaluationError"));
    details.insert("cause".into(), json!(cause));
    if let Some(location) = evaluation_field(cause) {
        details.insert("location".into(), json!(location));
    }
    details.insert("state".into(), json!(state.name));
    h.push(
        "EvaluationFailed",
        after,
        Some(("evaluationFailedEventDetails", Value::Object(details))),
    )
}

/// The field a JSONata failure's cause names (`… specified for the field 'Output/v' …`).
fn evaluation_field(cause: &str) -> Option<&str> {
    let start = cause.find("specified for the field '")? + "specified for the field '".len();
    let len = cause[start..].find('\'')?;
    Some(&cause[start..start + len])
}

fn run(
    state: &State,
    raw: &Value,
    roots: Roots<'_>,
    entered: u64,
    h: &mut History,
    env: &mut Env<'_>,
) -> Result<Flow, Failure> {
    if state.query_language == QueryLanguage::Jsonata {
        return run_jsonata(state, raw, roots, entered, h, env);
    }
    env.inspect("input", raw);
    let effective = dataflow::apply_path(state.input_path.as_ref(), roots)?;
    // Recorded: a Pass with a Result shows no input stages, every other state its InputPath's.
    if !matches!(
        state.kind,
        StateKind::Pass {
            result: Some(_),
            ..
        }
    ) {
        env.inspect("afterInputPath", &effective);
    }
    let output = |result: &Value| -> Result<Value, Failure> {
        let out = dataflow::apply_path(state.output_path.as_ref(), with_input(roots, result))?;
        check_size(state, &out)?;
        Ok(out)
    };
    match &state.kind {
        StateKind::Pass {
            transition,
            parameters,
            result,
            result_path,
        } => {
            let value = match (result, parameters) {
                (Some(r), _) => {
                    env.inspect("result", r);
                    r.clone()
                }
                (None, Some(t)) => {
                    let v = dataflow::evaluate(t, with_input(roots, &effective), env.entropy)?;
                    env.inspect("afterParameters", &v);
                    v
                }
                (None, None) => {
                    env.inspect("afterParameters", &effective);
                    effective
                }
            };
            env.inspect("afterResultSelector", &value);
            let assigned = assign(
                state.assign.as_ref(),
                with_input(roots, &value),
                env.entropy,
            )?;
            let merged = dataflow::apply_result_path(raw, value, result_path.as_ref())?;
            env.inspect("afterResultPath", &merged);
            let out = output(&merged)?;
            let exited =
                h.exited_assigning("PassStateExited", &state.name, &out, entered, assigned);
            Ok(follow(transition, out, exited))
        }
        StateKind::Succeed => {
            let out = output(&effective)?;
            h.exited("SucceedStateExited", &state.name, &out, entered);
            Ok(Flow::Done(out))
        }
        StateKind::Fail { error, cause } => Ok(Flow::Failed(Fault {
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
            event: entered,
        })),
        StateKind::Choice { choices, default } => {
            let mut target = None;
            for rule in choices {
                if choice::holds(&rule.condition, with_input(roots, &effective))? {
                    target = Some((rule.next.clone(), rule.assign.as_ref()));
                    break;
                }
            }
            // The matched rule's Assign; the state's own goes with its Default.
            let Some((next, assigning)) =
                target.or_else(|| default.clone().map(|d| (d, state.assign.as_ref())))
            else {
                return Err(Failure {
                    error: "States.NoChoiceMatched",
                    cause: "No Choice Rule matched and no Default was specified".into(),
                });
            };
            let assigned = assign(assigning, with_input(roots, &effective), env.entropy)?;
            // A Choice's output is its (filtered) input.
            let out = output(&effective)?;
            let exited =
                h.exited_assigning("ChoiceStateExited", &state.name, &out, entered, assigned);
            Ok(follow(&Transition::Next(next), out, exited))
        }
        StateKind::Wait { wait, .. } => {
            let due_ms = wait_due(wait, with_input(roots, &effective), env)?;
            let assigned = assign(
                state.assign.as_ref(),
                with_input(roots, &effective),
                env.entropy,
            )?;
            let out = output(&effective)?;
            Ok(waiting(state, out, entered, due_ms, assigned))
        }
        StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_) => {
            unreachable!("Task, Parallel and Map states run through attempts")
        }
    }
}

/// A Wait state entered at event `entered`, leaving at `due_ms` with `output`.
fn waiting(
    state: &State,
    output: Value,
    entered: u64,
    due_ms: i64,
    assigned: Option<Variables>,
) -> Flow {
    Flow::Wait(
        Position::Waiting {
            state: state.name.clone(),
            output,
            entered,
            due_ms,
            assigned,
        },
        due_ms,
    )
}

/// A JSONata state's `Assign` template.
fn jsonata_assign(state_assign: Option<&Template>) -> Option<&Value> {
    match state_assign {
        Some(Template::Value(v)) => Some(v),
        _ => None,
    }
}

/// A JSONata state's output: its `Output` evaluated, or `default` without one.
fn jsonata_output(
    state: &State,
    output: Option<&Value>,
    states: &query::States<'_>,
    variables: &Variables,
    default: &Value,
    env: &mut Env<'_>,
) -> Result<Value, Failure> {
    let out = match output {
        Some(t) => query::template(t, "Output", states, variables, env.entropy)?,
        None => default.clone(),
    };
    check_size(state, &out)?;
    Ok(out)
}

/// A JSONata state (or catcher) leaving: its Assign, then its Output (`default` without one),
/// both reading `states` and the variables from before the state.
fn jsonata_leave(
    state: &State,
    assign: Option<&Template>,
    output: Option<&Value>,
    states: &query::States<'_>,
    variables: &Variables,
    default: &Value,
    env: &mut Env<'_>,
) -> Result<(Value, Option<Variables>), Failure> {
    let assigned = query::assign(jsonata_assign(assign), states, variables, env.entropy)?;
    let out = jsonata_output(state, output, states, variables, default, env)?;
    Ok((out, assigned))
}

/// A JSONata string field (Fail's Error and Cause, Wait's Timestamp).
fn jsonata_text(
    t: Option<&Text>,
    field: &str,
    states: &query::States<'_>,
    variables: &Variables,
    env: &mut Env<'_>,
) -> Result<Option<String>, Failure> {
    match t {
        None => Ok(None),
        Some(Text::Jsonata(e)) => {
            let inner = query::expression(e).unwrap_or(e);
            Ok(Some(
                match query::evaluate(inner, field, states, variables, env.entropy)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                },
            ))
        }
        Some(Text::Literal(s)) => Ok(Some(s.clone())),
        Some(_) => Ok(None),
    }
}

/// Pass, Succeed, Fail, Choice and Wait in a JSONata state: `$states.input` is the raw input;
/// Assign and Output read the variables from before the state.
fn run_jsonata(
    state: &State,
    raw: &Value,
    roots: Roots<'_>,
    entered: u64,
    h: &mut History,
    env: &mut Env<'_>,
) -> Result<Flow, Failure> {
    let states = query::States::new(raw, roots.context);
    let vars = roots.variables;
    let own_assign = jsonata_assign(state.assign.as_ref());
    match &state.kind {
        StateKind::Pass { transition, .. } => {
            let (out, assigned) = jsonata_leave(
                state,
                state.assign.as_ref(),
                state.output.as_ref(),
                &states,
                vars,
                raw,
                env,
            )?;
            let exited =
                h.exited_assigning("PassStateExited", &state.name, &out, entered, assigned);
            Ok(follow(transition, out, exited))
        }
        StateKind::Succeed => {
            let out = jsonata_output(state, state.output.as_ref(), &states, vars, raw, env)?;
            h.exited("SucceedStateExited", &state.name, &out, entered);
            Ok(Flow::Done(out))
        }
        StateKind::Fail { error, cause } => Ok(Flow::Failed(Fault {
            error: jsonata_text(error.as_ref(), "Error", &states, vars, env)?,
            cause: jsonata_text(cause.as_ref(), "Cause", &states, vars, env)?,
            event: entered,
        })),
        StateKind::Choice { choices, default } => {
            let mut target = None;
            for (i, rule) in choices.iter().enumerate() {
                let holds = match &rule.condition {
                    crate::asl::model::Condition::Jsonata(Value::Bool(b)) => *b,
                    crate::asl::model::Condition::Jsonata(Value::String(e)) => {
                        let inner = query::expression(e).unwrap_or(e);
                        let field = format!("Choices[{i}]/Condition");
                        match query::evaluate(inner, &field, &states, vars, env.entropy)? {
                            Value::Bool(b) => b,
                            other => {
                                return Err(Failure {
                                    error: "States.QueryEvaluationError",
                                    cause: format!(
                                        "The JSONata expression '{inner}' specified for the field '{field}' returned an unexpected result type. Expected 'boolean', but was '{}' for value: {other}",
                                        json_type(&other)
                                    ),
                                })
                            }
                        }
                    }
                    other => choice::holds(other, roots)?,
                };
                if holds {
                    target = Some((
                        rule.next.clone(),
                        jsonata_assign(rule.assign.as_ref()),
                        rule.output.as_ref(),
                    ));
                    break;
                }
            }
            let Some((next, assigning, output)) = target.or_else(|| {
                default
                    .clone()
                    .map(|d| (d, own_assign, state.output.as_ref()))
            }) else {
                return Err(Failure {
                    error: "States.NoChoiceMatched",
                    cause: "No Choice Rule matched and no Default was specified".into(),
                });
            };
            let assigned = query::assign(assigning, &states, vars, env.entropy)?;
            let out = jsonata_output(state, output, &states, vars, raw, env)?;
            let exited =
                h.exited_assigning("ChoiceStateExited", &state.name, &out, entered, assigned);
            Ok(follow(&Transition::Next(next), out, exited))
        }
        StateKind::Wait { wait, .. } => {
            let literal = match wait {
                WaitFor::Seconds(Number::Jsonata(e)) => {
                    let inner = query::expression(e).unwrap_or(e);
                    WaitFor::Seconds(Number::Literal(query::evaluate(
                        inner,
                        "Seconds",
                        &states,
                        vars,
                        env.entropy,
                    )?))
                }
                WaitFor::Timestamp(t @ Text::Jsonata(_)) => WaitFor::Timestamp(Text::Literal(
                    jsonata_text(Some(t), "Timestamp", &states, vars, env)?.unwrap_or_default(),
                )),
                other => other.clone(),
            };
            let due_ms = wait_due(&literal, roots, env)?;
            let assigned = query::assign(own_assign, &states, vars, env.entropy)?;
            let out = jsonata_output(state, state.output.as_ref(), &states, vars, raw, env)?;
            Ok(waiting(state, out, entered, due_ms, assigned))
        }
        StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_) => {
            unreachable!("Task, Parallel and Map states run through attempts")
        }
    }
}

/// JSONata's name of a value's type, as its error texts give it.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The same roots, with `$` naming `input`.
fn with_input<'a>(roots: Roots<'a>, input: &'a Value) -> Roots<'a> {
    Roots { input, ..roots }
}

/// A visit of a Task, Parallel or Map state: which, with what raw input, entered when.
struct Visit<'a> {
    state: &'a State,
    input: &'a Value,
    entered: u64,
    entered_ms: i64,
    /// The event the state's Entered event followed.
    after: u64,
}

fn retriers(state: &State) -> &[Retrier] {
    match &state.kind {
        StateKind::Task(t) => &t.retry,
        StateKind::Parallel(p) => &p.retry,
        StateKind::Map(m) => &m.retry,
        _ => &[],
    }
}

fn catchers(state: &State) -> &[Catcher] {
    match &state.kind {
        StateKind::Task(t) => &t.catch,
        StateKind::Parallel(p) => &p.catch,
        StateKind::Map(m) => &m.catch,
        _ => &[],
    }
}

/// Whether an `ErrorEquals` list matches `error`: by name, `States.ALL`, or (Task states)
/// `States.TaskFailed` for anything but a timeout.
fn matches(error_equals: &[String], error: &str, task: bool) -> bool {
    error_equals.iter().any(|e| {
        e == error
            || e == "States.ALL"
            || (task && e == "States.TaskFailed" && error != "States.Timeout")
    })
}

/// One attempt of a Task, Parallel or Map state; its first event follows `previous`.
fn attempt(
    visit: &Visit<'_>,
    previous: u64,
    attempts: Vec<u64>,
    variables: &Variables,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    let state = visit.state;
    let mut ctx = context(env.execution, &state.name, visit.entered_ms);
    // The task token exists before the parameters are evaluated: `$$.Task.Token` passes it
    // on (asl-semantics.md §2.3).
    let token = match &state.kind {
        StateKind::Task(t) if takes_token(&t.resource) => {
            let token = new_token(env);
            // A given context object keeps the token it names.
            if let Value::Object(m) = &mut ctx {
                m.entry("Task").or_insert_with(|| json!({ "Token": token }));
            }
            Some(token)
        }
        _ => None,
    };
    let roots = Roots {
        input: visit.input,
        context: &ctx,
        variables,
    };
    // A mocked Parallel or Map (TestState) yields its mocked result in place of its
    // branches or iterations; everything after them runs as usual.
    if let (StateKind::Parallel(_) | StateKind::Map(_), Some((config, case))) =
        (&state.kind, env.mocks)
    {
        if let Some(name) = case.get(&state.name) {
            // A mocked JSONPath Map still reads its items (and fails on them as recorded).
            match &state.kind {
                StateKind::Map(m)
                    if m.item_reader.is_some()
                        || state.query_language == QueryLanguage::JsonPath =>
                {
                    let read = match &m.item_reader {
                        Some(r) => reader_map_inputs(visit, m, r, roots, env).map(|_| ()),
                        None => jsonpath_map_inputs(visit, m, roots, env).map(|_| ()),
                    };
                    if let Err(f) = read {
                        return attempt_failed(visit, f, attempts, roots, h, env);
                    }
                }
                _ => env.inspect("input", visit.input),
            }
            // A Map with a ResultWriter answers where its results went: an object.
            let writes = matches!(&state.kind, StateKind::Map(m) if m.writes_results());
            return match config.answer(name, 0) {
                Answer::Mocked(Mocked::Return(result @ Value::Object(_))) if writes => {
                    h.push("MapStateStarted", previous, None);
                    finish_fork(visit, attempts, result.clone(), variables, h, env)
                }
                Answer::Mocked(Mocked::Return(Value::Array(outputs))) if !writes => {
                    let kind = if matches!(state.kind, StateKind::Map(_)) {
                        "MapStateStarted"
                    } else {
                        "ParallelStateStarted"
                    };
                    h.push(kind, previous, None);
                    finish_fork(
                        visit,
                        attempts,
                        Value::Array(outputs.clone()),
                        variables,
                        h,
                        env,
                    )
                }
                Answer::Mocked(Mocked::Throw(t)) => {
                    let failed = h.push(
                        if matches!(state.kind, StateKind::Map(_)) {
                            "MapStateFailed"
                        } else {
                            "ParallelStateFailed"
                        },
                        previous,
                        None,
                    );
                    handle_error(
                        visit,
                        Some(&t.error),
                        t.cause.clone(),
                        failed,
                        attempts,
                        roots,
                        h,
                        env,
                    )
                }
                _ => Flow::Failed(Fault {
                    error: Some("States.Runtime".into()),
                    cause: Some(state_cause(
                        &state.name,
                        visit.entered,
                        "The mocked result of a Parallel or Map state must be an array.",
                    )),
                    event: h.last_id,
                }),
            };
        }
    }
    let started = match &state.kind {
        StateKind::Task(task) => run_task(visit, task, roots, previous, attempts, token, h, env),
        StateKind::Parallel(p) => start_parallel(visit, p, roots, previous, attempts, h, env),
        StateKind::Map(m) => start_map(visit, m, roots, previous, attempts, h, env),
        _ => unreachable!("only Task, Parallel and Map states make attempts"),
    };
    match started {
        Ok(flow) => flow,
        Err((f, attempts)) => attempt_failed(visit, f, attempts, roots, h, env),
    }
}

/// An attempt that failed with `f` at the last event, handled as [`handle_error`] says.
fn attempt_failed(
    visit: &Visit<'_>,
    f: Failure,
    attempts: Vec<u64>,
    roots: Roots<'_>,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    let event = h.last_id;
    // A JSONata evaluation failure names its state, like the interpreter's own errors, yet a
    // retrier or catcher may take it; uncaught, it is recorded as EvaluationFailed after what
    // the Entered event followed, then the state's own failure (Map, Parallel), as recorded.
    let cause = if f.error == "States.QueryEvaluationError" {
        let cause = state_cause(&visit.state.name, visit.entered, &f.cause);
        let state = visit.state;
        let task = matches!(state.kind, StateKind::Task(_));
        let caught = catchers(state)
            .iter()
            .any(|c| matches(&c.error_equals, f.error, task));
        if let Ok(flow) = retry(visit, f.error, event, attempts, env) {
            return flow;
        }
        if !caught {
            let mut last = evaluation_failed(h, state, &cause, visit.after);
            match state.kind {
                StateKind::Map(_) => last = h.push("MapStateFailed", last, None),
                StateKind::Parallel(_) => last = h.push("ParallelStateFailed", last, None),
                _ => {}
            }
            return Flow::Failed(Fault {
                error: Some(f.error.to_owned()),
                cause: Some(cause),
                event: last,
            });
        }
        return catch_or_fail(visit, Some(f.error), Some(cause), event, roots, h, env);
    } else {
        f.cause
    };
    handle_error(
        visit,
        Some(f.error),
        Some(cause),
        event,
        attempts,
        roots,
        h,
        env,
    )
}

/// A failed attempt: retried by the first retrier that matches (while it has attempts
/// left), else caught by the first catcher that matches, else the state fails. The
/// interpreter's own errors (States.Runtime, States.DataLimitExceeded) are never retried or
/// caught; their cause carries the state prefix. An absent error (a SendTaskFailure without
/// one) is matched as the empty name and stays absent in the error output and the failure.
#[allow(clippy::too_many_arguments)]
fn handle_error(
    visit: &Visit<'_>,
    error: Option<&str>,
    cause: Option<String>,
    failing_event: u64,
    attempts: Vec<u64>,
    roots: Roots<'_>,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    let name = error.unwrap_or("");
    if matches!(name, "States.Runtime" | "States.DataLimitExceeded") {
        let f = Failure {
            error: if name == "States.Runtime" {
                "States.Runtime"
            } else {
                "States.DataLimitExceeded"
            },
            cause: cause.unwrap_or_default(),
        };
        return Flow::Failed(fault(visit.state, visit.entered, f, failing_event));
    }
    match retry(visit, name, failing_event, attempts, env) {
        Ok(flow) => flow,
        Err(_) => catch_or_fail(visit, error, cause, failing_event, roots, h, env),
    }
}

/// The next attempt after a back-off, when the first retrier matching `error` has attempts
/// left; the counters back otherwise. Delay `IntervalSeconds × BackoffRate^n`, capped by
/// `MaxDelaySeconds`, FULL jitter drawing uniformly below it.
fn retry(
    visit: &Visit<'_>,
    error: &str,
    failing_event: u64,
    mut attempts: Vec<u64>,
    env: &mut Env<'_>,
) -> Result<Flow, Vec<u64>> {
    let state = visit.state;
    let task = matches!(state.kind, StateKind::Task(_));
    let Some((k, r)) = retriers(state)
        .iter()
        .enumerate()
        .find(|(_, r)| matches(&r.error_equals, error, task))
    else {
        return Err(attempts);
    };
    // The first matching retrier decides; once it is spent, the catchers do.
    let done = attempts.get(k).copied().unwrap_or(0);
    if done >= r.max_attempts {
        return Err(attempts);
    }
    let mut delay = r.interval_seconds as f64 * r.backoff_rate.powi(done as i32);
    if let Some(max) = r.max_delay_seconds {
        delay = delay.min(max as f64);
    }
    if r.jitter == crate::asl::model::Jitter::Full {
        delay *= (env.entropy.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    }
    if let Some(a) = attempts.get_mut(k) {
        *a += 1;
    }
    env.inspect(
        "errorDetails",
        &json!({"retryIndex": k, "retryBackoffIntervalSeconds": delay as u64}),
    );
    let due = env.after(delay);
    Ok(Flow::Wait(
        Position::Attempt {
            state: state.name.clone(),
            input: visit.input.clone(),
            entered: visit.entered,
            entered_ms: visit.entered_ms,
            previous: failing_event,
            attempts,
            due_ms: Some(due),
            after: visit.after,
        },
        due,
    ))
}

/// No retry left: the first matching catcher takes the error object
/// `{"Error", "Cause"}` (its ResultPath defaulting to `$`) to its Next state; without one
/// the state fails with the error.
fn catch_or_fail(
    visit: &Visit<'_>,
    error: Option<&str>,
    cause: Option<String>,
    failing_event: u64,
    roots: Roots<'_>,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    let state = visit.state;
    let task = matches!(state.kind, StateKind::Task(_));
    let name = error.unwrap_or("");
    let catcher = catchers(state)
        .iter()
        .enumerate()
        .find(|(_, c)| matches(&c.error_equals, name, task));
    let Some((index, c)) = catcher else {
        return Flow::Failed(Fault {
            error: error.map(str::to_owned),
            cause,
            event: failing_event,
        });
    };
    env.inspect("errorDetails", &json!({"catchIndex": index}));
    let error_output = json!({"Error": error, "Cause": cause});
    if state.query_language == QueryLanguage::Jsonata {
        let states = query::States {
            input: visit.input,
            context: roots.context,
            result: None,
            error_output: Some(&error_output),
        };
        let done = jsonata_leave(
            state,
            c.assign.as_ref(),
            c.output.as_ref(),
            &states,
            roots.variables,
            &error_output,
            env,
        );
        return match done {
            Ok((out, assigned)) => {
                let exited = h.exited_assigning(
                    exited_kind(state),
                    &state.name,
                    &out,
                    failing_event,
                    assigned,
                );
                follow(&Transition::Next(c.next.clone()), out, exited)
            }
            Err(f) => Flow::Failed(fault(state, visit.entered, f, failing_event)),
        };
    }
    // A catcher's Assign reads the error output.
    let assigned = match assign(
        c.assign.as_ref(),
        with_input(roots, &error_output),
        env.entropy,
    ) {
        Ok(a) => a,
        Err(f) => return Flow::Failed(fault(state, visit.entered, f, failing_event)),
    };
    let out = match dataflow::apply_result_path(
        visit.input,
        error_output,
        Some(c.result_path.as_ref().unwrap_or(&Some(root_path()))),
    ) {
        Ok(out) => out,
        Err(f) => return Flow::Failed(fault(state, visit.entered, f, failing_event)),
    };
    let exited = h.exited_assigning(
        exited_kind(state),
        &state.name,
        &out,
        failing_event,
        assigned,
    );
    follow(&Transition::Next(c.next.clone()), out, exited)
}

/// The path `$`.
fn root_path() -> crate::asl::path::Path {
    crate::asl::path::parse("$").expect("`$` is a path")
}

fn exited_kind(state: &State) -> &'static str {
    match &state.kind {
        StateKind::Task(_) => "TaskStateExited",
        StateKind::Parallel(_) => "ParallelStateExited",
        StateKind::Map(_) => "MapStateExited",
        StateKind::Pass { .. } => "PassStateExited",
        StateKind::Choice { .. } => "ChoiceStateExited",
        StateKind::Wait { .. } => "WaitStateExited",
        StateKind::Succeed => "SucceedStateExited",
        StateKind::Fail { .. } => "FailStateExited",
    }
}

/// A failure of an attempt, with the retry counters it had.
type AttemptError = (Failure, Vec<u64>);

/// The effective input of an attempt: InputPath, then Parameters.
fn effective_input(
    visit: &Visit<'_>,
    parameters: Option<&crate::asl::model::Template>,
    roots: Roots<'_>,
    env: &mut Env<'_>,
) -> Result<Value, Failure> {
    env.inspect("input", visit.input);
    let effective = dataflow::apply_path(visit.state.input_path.as_ref(), roots)?;
    env.inspect("afterInputPath", &effective);
    let after = match parameters {
        Some(t) => dataflow::evaluate(t, with_input(roots, &effective), env.entropy)?,
        None => effective,
    };
    env.inspect("afterParameters", &after);
    Ok(after)
}

/// The `resource` and `resourceType` a Task's events name.
fn resource_names(resource: &Resource) -> (String, String) {
    let suffix = |p: Pattern| match p {
        Pattern::RequestResponse => "",
        Pattern::Sync => ".sync",
        Pattern::Sync2 => ".sync:2",
        Pattern::WaitForTaskToken => ".waitForTaskToken",
    };
    match resource {
        Resource::Service {
            service,
            action,
            pattern,
            ..
        } => (format!("{action}{}", suffix(*pattern)), service.clone()),
        Resource::Sdk {
            service,
            action,
            pattern,
            ..
        } => (
            format!("{action}{}", suffix(*pattern)),
            format!("aws-sdk:{service}"),
        ),
        Resource::LambdaFunction(arn) | Resource::Activity(arn) => (arn.clone(), String::new()),
    }
}

/// The Task with TimeoutSecondsPath / HeartbeatSecondsPath read from the state's input
/// (a positive integer), as if they had been literal: the scheduled event echoes them and
/// the deadlines count from them.
fn resolve_timeouts<'t>(
    task: &'t Task,
    roots: Roots<'_>,
    env: &mut Env<'_>,
) -> Result<Cow<'t, Task>, Failure> {
    let mut resolved: [Option<Number>; 2] = [None, None];
    for (slot, (n, field)) in [
        (&task.timeout_seconds, "TimeoutSeconds"),
        (&task.heartbeat_seconds, "HeartbeatSeconds"),
    ]
    .into_iter()
    .enumerate()
    {
        let (v, what) = match n {
            Some(Number::Path(p)) => (
                dataflow::apply_path(Some(&Some(p.clone())), roots)?,
                format!("{field}Path"),
            ),
            Some(Number::Jsonata(e)) => {
                let states = query::States::new(roots.input, roots.context);
                let inner = query::expression(e).unwrap_or(e);
                (
                    query::evaluate(inner, field, &states, roots.variables, env.entropy)?,
                    field.to_owned(),
                )
            }
            _ => continue,
        };
        match v.as_u64() {
            Some(secs) if secs > 0 => resolved[slot] = Some(Number::Literal(json!(secs))),
            _ => {
                return Err(Failure {
                    error: "States.Runtime",
                    cause: format!(
                    "The {what} field refers to value \"{}\" which is not a valid positive integer",
                    match &v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }
                ),
                })
            }
        }
    }
    let [timeout, heartbeat] = resolved;
    if timeout.is_none() && heartbeat.is_none() {
        return Ok(Cow::Borrowed(task));
    }
    let mut t = task.clone();
    if timeout.is_some() {
        t.timeout_seconds = timeout;
    }
    if heartbeat.is_some() {
        t.heartbeat_seconds = heartbeat;
    }
    Ok(Cow::Owned(t))
}

/// A literal TimeoutSeconds/HeartbeatSeconds, as the scheduled event echoes it.
fn literal_seconds(n: Option<&Number>) -> Option<Value> {
    match n {
        Some(Number::Literal(v)) => Some(v.clone()),
        _ => None,
    }
}

/// Whether a Task gets a token: activities and the callback pattern.
fn takes_token(resource: &Resource) -> bool {
    matches!(resource, Resource::Activity(_)) || resource.pattern() == Pattern::WaitForTaskToken
}

/// A fresh task token.
fn new_token(env: &mut Env<'_>) -> String {
    format!(
        "{:016x}{:016x}{:016x}",
        env.entropy.next_u64(),
        env.entropy.next_u64(),
        env.entropy.next_u64()
    )
}

/// A Task attempt: an activity is scheduled for its workers, a call to an integration
/// sfnlite serves ([`super::calls::served`]) is scheduled for the runner to make. Outside
/// services are not reachable from this version of sfnlite, so such a task fails with
/// `States.TaskFailed`, as an unreachable integration does — retriable and catchable. An
/// activity that does not exist is AWS's uncatchable runtime failure.
#[allow(clippy::too_many_arguments)]
fn run_task(
    visit: &Visit<'_>,
    task: &Task,
    roots: Roots<'_>,
    previous: u64,
    attempts: Vec<u64>,
    token: Option<String>,
    h: &mut History,
    env: &mut Env<'_>,
) -> Result<Flow, AttemptError> {
    let state = visit.state;
    let input = if state.query_language == QueryLanguage::Jsonata {
        let states = query::States::new(visit.input, roots.context);
        env.inspect("input", visit.input);
        match &task.arguments {
            Some(t) => query::template(t, "Arguments", &states, roots.variables, env.entropy)
                .inspect(|v| env.inspect("afterArguments", v)),
            None => Ok(visit.input.clone()),
        }
    } else {
        effective_input(visit, task.parameters.as_ref(), roots, env)
    };
    let mut input = match input {
        Ok(v) => v,
        Err(f) => return Err((f, attempts)),
    };
    if let (Some(keep), Value::Object(m)) = (task.resource.supported_parameters(), &mut input) {
        m.retain(|k, _| keep.contains(&k.as_str()));
    }
    let resolved = match resolve_timeouts(task, roots, env) {
        Ok(t) => t,
        Err(f) => return Err((f, attempts)),
    };
    let task: &Task = &resolved;
    let (resource, resource_type) = resource_names(&task.resource);
    let token = token.unwrap_or_else(|| new_token(env));
    if let Some((config, case)) = env.mocks {
        if let Some(name) = case.get(&state.name) {
            let count = h.invocations.entry(state.name.clone()).or_insert(0);
            let n = *count;
            *count += 1;
            let answer = config.answer(name, n);
            return Ok(run_mocked(
                visit, task, answer, &input, previous, attempts, roots, h, env,
            ));
        }
    }
    match &task.resource {
        Resource::Activity(arn) if (env.activity_exists)(arn) => Ok(schedule_activity(
            visit, task, arn, input, previous, attempts, token, h, env,
        )),
        Resource::Activity(arn) => Ok(Flow::Failed(Fault {
            error: Some("States.Runtime".into()),
            cause: Some(state_cause(
                &state.name,
                visit.entered,
                &format!("The activity {arn} does not exist."),
            )),
            event: h.last_id,
        })),
        Resource::LambdaFunction(arn)
        | Resource::Service { arn, .. }
        | Resource::Sdk { arn, .. } => {
            let call = ServiceCall {
                integration: super::calls::integration(&task.resource),
                pattern: task.resource.pattern(),
                resource,
                resource_type,
                request: input,
                answer: None,
                submitted: None,
                outside: !super::calls::served(&task.resource),
                sent: false,
            };
            Ok(schedule_call(
                visit, task, arn, call, previous, attempts, token, h, env,
            ))
        }
    }
}

/// A Task the execution's test case mocks: the events the real integration records, with
/// the mocked result or error in place of the call (asl-semantics.md §11.1 forms).
#[allow(clippy::too_many_arguments)]
fn run_mocked(
    visit: &Visit<'_>,
    task: &Task,
    answer: Answer<'_>,
    input: &Value,
    previous: u64,
    attempts: Vec<u64>,
    roots: Roots<'_>,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    let mocked = match answer {
        Answer::Mocked(m) => m.clone(),
        Answer::Missing(cause) => {
            return Flow::Failed(Fault {
                error: Some("States.Runtime".into()),
                cause: Some(state_cause(&visit.state.name, visit.entered, &cause)),
                event: h.last_id,
            })
        }
    };
    let (resource, resource_type) = resource_names(&task.resource);
    let with_resource = |mut v: Value| {
        if let Value::Object(m) = &mut v {
            m.insert("resource".into(), json!(resource));
            m.insert("resourceType".into(), json!(resource_type));
        }
        v
    };
    // (Scheduled, Started, Succeeded, Failed) event types and members, by resource form.
    let (kinds, last) = match &task.resource {
        Resource::LambdaFunction(arn) | Resource::Activity(arn) => {
            let prefix = if matches!(task.resource, Resource::Activity(_)) {
                "activity"
            } else {
                "lambdaFunction"
            };
            let upper = if prefix == "activity" {
                "Activity"
            } else {
                "LambdaFunction"
            };
            let scheduled = function_scheduled(
                (
                    event_kind(upper, "Scheduled"),
                    event_member(prefix, "Scheduled"),
                ),
                task,
                arn,
                input,
                previous,
                h,
            );
            let started_details = if prefix == "activity" {
                Some((event_member(prefix, "Started"), json!({})))
            } else {
                None
            };
            let started = h.push(event_kind(upper, "Started"), scheduled, started_details);
            ((upper, prefix, false), started)
        }
        Resource::Service { .. } | Resource::Sdk { .. } => {
            let scheduled =
                task_scheduled(task, &resource, &resource_type, input, previous, h, env);
            let mut last = h.push(
                "TaskStarted",
                scheduled,
                Some(("taskStartedEventDetails", with_resource(json!({})))),
            );
            // A callback or `.sync` task is submitted before its answer, as on AWS; the
            // mocked result stands for what the submission returned.
            if task.resource.pattern() != Pattern::RequestResponse {
                let submitted = match &mocked {
                    Mocked::Return(v) => v.to_string(),
                    Mocked::Throw(_) => "{}".to_owned(),
                };
                last = h.push(
                    "TaskSubmitted",
                    last,
                    Some((
                        "taskSubmittedEventDetails",
                        with_resource(output_details(&submitted)),
                    )),
                );
            }
            (("Task", "task", true), last)
        }
    };
    let (upper, prefix, names_resource) = kinds;
    let finish = |v: Value| if names_resource { with_resource(v) } else { v };
    match mocked {
        Mocked::Return(result) => {
            let succeeded = h.push(
                event_kind(upper, "Succeeded"),
                last,
                Some((
                    event_member(prefix, "Succeeded"),
                    finish(output_details(&result.to_string())),
                )),
            );
            task_succeeded(visit, task, result, succeeded, &attempts, roots, h, env)
        }
        Mocked::Throw(t) => {
            let failed = h.push(
                event_kind(upper, "Failed"),
                last,
                Some((
                    event_member(prefix, "Failed"),
                    finish(error_details(Some(&t.error), t.cause.as_deref())),
                )),
            );
            handle_error(
                visit,
                Some(&t.error),
                t.cause,
                failed,
                attempts,
                roots,
                h,
                env,
            )
        }
    }
}

/// `<Form><Ending>` as a static event type (the forms and endings are a closed set).
fn event_kind(form: &str, ending: &str) -> &'static str {
    match (form, ending) {
        ("Activity", "Scheduled") => "ActivityScheduled",
        ("Activity", "Started") => "ActivityStarted",
        ("Activity", "Succeeded") => "ActivitySucceeded",
        ("Activity", "Failed") => "ActivityFailed",
        ("LambdaFunction", "Scheduled") => "LambdaFunctionScheduled",
        ("LambdaFunction", "Started") => "LambdaFunctionStarted",
        ("LambdaFunction", "Succeeded") => "LambdaFunctionSucceeded",
        ("LambdaFunction", "Failed") => "LambdaFunctionFailed",
        ("Task", "Succeeded") => "TaskSucceeded",
        _ => "TaskFailed",
    }
}

/// The details member of `<form><Ending>` events.
fn event_member(form: &str, ending: &str) -> &'static str {
    match (form, ending) {
        ("activity", "Scheduled") => "activityScheduledEventDetails",
        ("activity", "Started") => "activityStartedEventDetails",
        ("activity", "Succeeded") => "activitySucceededEventDetails",
        ("activity", "Failed") => "activityFailedEventDetails",
        ("lambdaFunction", "Scheduled") => "lambdaFunctionScheduledEventDetails",
        ("lambdaFunction", "Succeeded") => "lambdaFunctionSucceededEventDetails",
        ("lambdaFunction", "Failed") => "lambdaFunctionFailedEventDetails",
        ("task", "Succeeded") => "taskSucceededEventDetails",
        _ => "taskFailedEventDetails",
    }
}

/// The LambdaFunctionScheduled event of a Task naming a function ARN.
fn lambda_scheduled(task: &Task, arn: &str, input: &Value, previous: u64, h: &mut History) -> u64 {
    function_scheduled(
        (
            "LambdaFunctionScheduled",
            "lambdaFunctionScheduledEventDetails",
        ),
        task,
        arn,
        input,
        previous,
        h,
    )
}

/// A `…Scheduled` event naming the resource ARN and the input (function ARNs, and mocked
/// activities), with a literal TimeoutSeconds.
fn function_scheduled(
    (kind, member): (&'static str, &'static str),
    task: &Task,
    arn: &str,
    input: &Value,
    previous: u64,
    h: &mut History,
) -> u64 {
    let mut details = Map::new();
    details.insert("resource".into(), json!(arn));
    details.insert("input".into(), json!(input.to_string()));
    details.insert("inputDetails".into(), json!({"truncated": false}));
    if let Some(t) = literal_seconds(task.timeout_seconds.as_ref()) {
        details.insert("timeoutInSeconds".into(), t);
    }
    h.push(kind, previous, Some((member, Value::Object(details))))
}

/// The TaskScheduled event of an integration's Task.
fn task_scheduled(
    task: &Task,
    resource: &str,
    resource_type: &str,
    input: &Value,
    previous: u64,
    h: &mut History,
    env: &Env<'_>,
) -> u64 {
    let mut details = Map::new();
    details.insert("resource".into(), json!(resource));
    details.insert("resourceType".into(), json!(resource_type));
    details.insert("region".into(), json!(env.execution.region()));
    details.insert("parameters".into(), json!(input.to_string()));
    if let Some(t) = literal_seconds(task.timeout_seconds.as_ref()) {
        details.insert("timeoutInSeconds".into(), t);
    }
    if let Some(t) = literal_seconds(task.heartbeat_seconds.as_ref()) {
        details.insert("heartbeatInSeconds".into(), t);
    }
    h.push(
        "TaskScheduled",
        previous,
        Some(("taskScheduledEventDetails", Value::Object(details))),
    )
}

/// TaskScheduled and TaskStarted (LambdaFunctionScheduled and LambdaFunctionStarted for a
/// bare function ARN), then the call is the runner's to make (TimeoutSeconds and
/// HeartbeatSeconds count from here).
#[allow(clippy::too_many_arguments)]
fn schedule_call(
    visit: &Visit<'_>,
    task: &Task,
    arn: &str,
    call: ServiceCall,
    previous: u64,
    attempts: Vec<u64>,
    token: String,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    let (scheduled, started) = if call.legacy_lambda() {
        let scheduled = lambda_scheduled(task, arn, &call.request, previous, h);
        (scheduled, h.push("LambdaFunctionStarted", scheduled, None))
    } else {
        let scheduled = task_scheduled(
            task,
            &call.resource,
            &call.resource_type,
            &call.request,
            previous,
            h,
            env,
        );
        let started = h.push(
            "TaskStarted",
            scheduled,
            Some((
                "taskStartedEventDetails",
                json!({"resource": call.resource, "resourceType": call.resource_type}),
            )),
        );
        (scheduled, started)
    };
    let secs = |n: Option<&Number>| literal_seconds(n).as_ref().and_then(Value::as_f64);
    let heartbeat_ms = secs(task.heartbeat_seconds.as_ref()).map(|s| env.after(s) - env.now_ms);
    let t = ActivityTask {
        state: visit.state.name.clone(),
        input: visit.input.clone(),
        entered: visit.entered,
        entered_ms: visit.entered_ms,
        attempts,
        after: visit.after,
        activity: arn.to_owned(),
        token,
        task_input: Value::Null,
        scheduled,
        started_event: Some(started),
        started: Some(Worker { name: None }),
        timeout_due: secs(task.timeout_seconds.as_ref()).map(|s| env.after(s)),
        heartbeat_ms,
        beat_due: heartbeat_ms.map(|h| env.now_ms + h),
        outcome: None,
        call: Some(Box::new(call)),
    };
    let due = t.due();
    Flow::Wait(Position::Activity(Box::new(t)), due)
}

/// ActivityScheduled, then the wait for a worker (TimeoutSeconds counts from here).
#[allow(clippy::too_many_arguments)]
fn schedule_activity(
    visit: &Visit<'_>,
    task: &Task,
    arn: &str,
    input: Value,
    previous: u64,
    attempts: Vec<u64>,
    token: String,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    let mut details = Map::new();
    details.insert("resource".into(), json!(arn));
    details.insert("input".into(), json!(input.to_string()));
    details.insert("inputDetails".into(), json!({"truncated": false}));
    let timeout = literal_seconds(task.timeout_seconds.as_ref());
    let heartbeat = literal_seconds(task.heartbeat_seconds.as_ref());
    if let Some(t) = &timeout {
        details.insert("timeoutInSeconds".into(), t.clone());
    }
    if let Some(t) = &heartbeat {
        details.insert("heartbeatInSeconds".into(), t.clone());
    }
    let scheduled = h.push(
        "ActivityScheduled",
        previous,
        Some(("activityScheduledEventDetails", Value::Object(details))),
    );
    let secs = |v: &Option<Value>| v.as_ref().and_then(Value::as_f64);
    let t = ActivityTask {
        state: visit.state.name.clone(),
        input: visit.input.clone(),
        entered: visit.entered,
        entered_ms: visit.entered_ms,
        attempts,
        after: visit.after,
        activity: arn.to_owned(),
        token,
        task_input: input,
        scheduled,
        started_event: None,
        started: None,
        timeout_due: secs(&timeout).map(|s| env.after(s)),
        heartbeat_ms: secs(&heartbeat).map(|s| env.after(s) - env.now_ms),
        beat_due: None,
        outcome: None,
        call: None,
    };
    let due = t.due();
    Flow::Wait(Position::Activity(Box::new(t)), due)
}

/// The event names and details of a waiting task's ending: `Activity*` for activities,
/// `Task*` (naming the resource) for calls.
struct Endings<'a> {
    call: Option<&'a ServiceCall>,
}

impl Endings<'_> {
    fn push(&self, h: &mut History, ending: &'static str, previous: u64, details: Value) -> u64 {
        if self.call.is_some_and(ServiceCall::legacy_lambda) {
            let (kind, member) = match ending {
                "Succeeded" => (
                    "LambdaFunctionSucceeded",
                    "lambdaFunctionSucceededEventDetails",
                ),
                "Failed" => ("LambdaFunctionFailed", "lambdaFunctionFailedEventDetails"),
                _ => (
                    "LambdaFunctionTimedOut",
                    "lambdaFunctionTimedOutEventDetails",
                ),
            };
            return h.push(kind, previous, Some((member, details)));
        }
        let (kind, member) = match (self.call.is_some(), ending) {
            (false, "Succeeded") => ("ActivitySucceeded", "activitySucceededEventDetails"),
            (false, "Failed") => ("ActivityFailed", "activityFailedEventDetails"),
            (false, _) => ("ActivityTimedOut", "activityTimedOutEventDetails"),
            (true, "Succeeded") => ("TaskSucceeded", "taskSucceededEventDetails"),
            (true, "Failed") => ("TaskFailed", "taskFailedEventDetails"),
            (true, "Submitted") => ("TaskSubmitted", "taskSubmittedEventDetails"),
            (true, _) => ("TaskTimedOut", "taskTimedOutEventDetails"),
        };
        let mut details = details;
        if let (Some(c), Value::Object(m)) = (self.call, &mut details) {
            m.insert("resource".into(), json!(c.resource));
            m.insert("resourceType".into(), json!(c.resource_type));
        }
        h.push(kind, previous, Some((member, details)))
    }
}

/// The details of an event that carries an output text.
fn output_details(output: &str) -> Value {
    json!({"output": output, "outputDetails": {"truncated": false}})
}

/// A step of a Task waiting on an activity worker or a call: the worker's pickup, the
/// call's answer and the task's answer become events, or the task times out.
fn step_activity(
    state: &State,
    mut t: ActivityTask,
    variables: &Variables,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    let StateKind::Task(task) = &state.kind else {
        unreachable!("activity tasks wait in Task states")
    };
    if let (Some(w), None) = (&t.started, t.started_event) {
        let details = match &w.name {
            Some(n) => json!({"workerName": n}),
            None => json!({}),
        };
        t.started_event = Some(h.push(
            "ActivityStarted",
            t.scheduled,
            Some(("activityStartedEventDetails", details)),
        ));
    }
    let visit = Visit {
        state,
        input: &t.input,
        entered: t.entered,
        entered_ms: t.entered_ms,
        after: t.after,
    };
    let ctx = context(env.execution, &state.name, t.entered_ms);
    let roots = Roots {
        input: &t.input,
        context: &ctx,
        variables,
    };
    let last = t.started_event.unwrap_or(t.scheduled);
    // A call's immediate answer: the task's result (request/response), its failure, or
    // TaskSubmitted and on to wait for the token or the started execution.
    let call = t.call.as_deref().cloned();
    let endings = Endings {
        call: call.as_ref(),
    };
    let mut last = last;
    if let Some(c) = &call {
        match (&c.answer, c.submitted) {
            // In flight: its answer, its timeout or a heartbeat's comes next.
            (None, _) if c.in_flight() => {}
            (None, _) => {
                // The runner makes the call when it commits this position.
                return Flow::Wait(Position::Activity(Box::new(t)), i64::MIN);
            }
            (Some(CallAnswer::Failed { error, cause }), None) => {
                let failed =
                    endings.push(h, "Failed", last, error_details(Some(error), Some(cause)));
                return handle_error(
                    &visit,
                    Some(error),
                    Some(cause.clone()),
                    failed,
                    t.attempts.clone(),
                    roots,
                    h,
                    env,
                );
            }
            (Some(CallAnswer::Returned { output }), None) if !c.waits() => {
                let text = output.to_string();
                let succeeded = endings.push(h, "Succeeded", last, output_details(&text));
                return task_succeeded(
                    &visit,
                    task,
                    output.clone(),
                    succeeded,
                    &t.attempts,
                    roots,
                    h,
                    env,
                );
            }
            (Some(CallAnswer::Returned { output }), None) => {
                let submitted =
                    endings.push(h, "Submitted", last, output_details(&output.to_string()));
                if let Some(c) = t.call.as_deref_mut() {
                    c.submitted = Some(submitted);
                }
                last = submitted;
            }
            (Some(_), Some(submitted)) => last = submitted,
        }
    }
    match t.outcome.clone() {
        Some(TaskOutcome::Succeeded { output }) => {
            let succeeded = endings.push(h, "Succeeded", last, output_details(&output));
            let result: Value = serde_json::from_str(&output).unwrap_or(Value::Null);
            task_succeeded(&visit, task, result, succeeded, &t.attempts, roots, h, env)
        }
        Some(TaskOutcome::Failed { error, cause }) => {
            let failed = endings.push(
                h,
                "Failed",
                last,
                error_details(error.as_deref(), cause.as_deref()),
            );
            handle_error(
                &visit,
                error.as_deref(),
                cause,
                failed,
                t.attempts.clone(),
                roots,
                h,
                env,
            )
        }
        None if env.now_ms >= t.due() => {
            let timed_out = endings.push(h, "TimedOut", last, json!({"error": "States.Timeout"}));
            handle_error(
                &visit,
                Some("States.Timeout"),
                None,
                timed_out,
                t.attempts.clone(),
                roots,
                h,
                env,
            )
        }
        None => {
            let due = t.due();
            Flow::Wait(Position::Activity(Box::new(t)), due)
        }
    }
}

/// A task's result after its Succeeded event: ResultSelector, Assign, ResultPath and
/// OutputPath, then the state is left — or the attempt fails as a data-flow failure.
#[allow(clippy::too_many_arguments)]
fn task_succeeded(
    visit: &Visit<'_>,
    task: &Task,
    result: Value,
    succeeded: u64,
    attempts: &[u64],
    roots: Roots<'_>,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    let state = visit.state;
    if state.query_language == QueryLanguage::Jsonata {
        env.inspect("result", &result);
        let states = query::States {
            input: visit.input,
            context: roots.context,
            result: Some(&result),
            error_output: None,
        };
        let done = jsonata_leave(
            state,
            state.assign.as_ref(),
            state.output.as_ref(),
            &states,
            roots.variables,
            &result,
            env,
        );
        return match done {
            Ok((out, assigned)) => {
                let exited =
                    h.exited_assigning("TaskStateExited", &state.name, &out, succeeded, assigned);
                follow(&task.transition, out, exited)
            }
            Err(f) => attempt_failed(visit, f, attempts.to_vec(), roots, h, env),
        };
    }
    env.inspect("result", &result);
    let out = (|| {
        let selected = match &task.result_selector {
            Some(sel) => dataflow::evaluate(sel, with_input(roots, &result), env.entropy)?,
            None => result,
        };
        env.inspect("afterResultSelector", &selected);
        let assigned = assign(
            state.assign.as_ref(),
            with_input(roots, &selected),
            env.entropy,
        )?;
        let merged = dataflow::apply_result_path(visit.input, selected, task.result_path.as_ref())?;
        env.inspect("afterResultPath", &merged);
        let out = dataflow::apply_path(state.output_path.as_ref(), with_input(roots, &merged))?;
        check_size(state, &out)?;
        Ok::<_, Failure>((out, assigned))
    })();
    match out {
        Ok((out, assigned)) => {
            let exited =
                h.exited_assigning("TaskStateExited", &state.name, &out, succeeded, assigned);
            follow(&task.transition, out, exited)
        }
        Err(f) => attempt_failed(visit, f, attempts.to_vec(), roots, h, env),
    }
}

/// A Parallel attempt: ParallelStateStarted, then every branch from its StartAt.
fn start_parallel(
    visit: &Visit<'_>,
    p: &Parallel,
    roots: Roots<'_>,
    previous: u64,
    attempts: Vec<u64>,
    h: &mut History,
    env: &mut Env<'_>,
) -> Result<Flow, AttemptError> {
    let input = if visit.state.query_language == QueryLanguage::Jsonata {
        let states = query::States::new(visit.input, roots.context);
        match &p.arguments {
            Some(t) => query::template(t, "Arguments", &states, roots.variables, env.entropy),
            None => Ok(visit.input.clone()),
        }
    } else {
        effective_input(visit, p.parameters.as_ref(), roots, env)
    };
    let input = match input {
        Ok(v) => v,
        Err(f) => return Err((f, attempts)),
    };
    let started = h.push("ParallelStateStarted", previous, None);
    let children = p
        .branches
        .iter()
        .map(|b| Child::Running {
            position: Position::Enter {
                state: b.start_at.clone(),
                input: input.clone(),
                previous: started,
            },
            last: started,
            variables: Map::new(),
        })
        .collect();
    Ok(Flow::Go(fork(visit, attempts, 0, children)))
}

fn fork(
    visit: &Visit<'_>,
    attempts: Vec<u64>,
    max_concurrency: usize,
    children: Vec<Child>,
) -> Position {
    Position::Fork(Box::new(Fork {
        state: visit.state.name.clone(),
        input: visit.input.clone(),
        entered: visit.entered,
        entered_ms: visit.entered_ms,
        after: visit.after,
        attempts,
        max_concurrency,
        children,
    }))
}

/// A non-negative integer from a MaxConcurrency literal or path.
fn max_concurrency(n: Option<&Number>, roots: Roots<'_>) -> Result<usize, Failure> {
    match n {
        None | Some(Number::Jsonata(_)) => Ok(0),
        Some(Number::Literal(v)) => Ok(v.as_u64().unwrap_or(0) as usize),
        Some(Number::Path(p)) => {
            let v = jsonpath::select(p, roots)
                .map(jsonpath::Selected::into_value)
                .unwrap_or(Value::Null);
            v.as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| not_valid("MaxConcurrency", &v, "integer", p))
        }
    }
}

/// A Map attempt: the items, MapStateStarted, then the first iterations.
fn start_map(
    visit: &Visit<'_>,
    m: &MapState,
    roots: Roots<'_>,
    previous: u64,
    attempts: Vec<u64>,
    h: &mut History,
    env: &mut Env<'_>,
) -> Result<Flow, AttemptError> {
    let state = visit.state;
    let prepared = match &m.item_reader {
        Some(reader) => reader_map_inputs(visit, m, reader, roots, env),
        None if state.query_language == QueryLanguage::Jsonata => {
            jsonata_map_inputs(visit, m, roots, env).map(|(i, l)| (MapItems::Inputs(i), l))
        }
        None => jsonpath_map_inputs(visit, m, roots, env).map(|(i, l)| (MapItems::Inputs(i), l)),
    };
    let (items, limit) = match prepared {
        Ok(p) => p,
        Err(f) => return Err((f, attempts)),
    };
    let (inputs, reader) = match items {
        MapItems::Inputs(inputs) => (inputs, None),
        MapItems::Read(spec) => (Vec::new(), Some(spec)),
        MapItems::ReadInline(spec) => {
            let wait = MapRunWait {
                state: state.name.clone(),
                input: visit.input.clone(),
                entered: visit.entered,
                entered_ms: visit.entered_ms,
                after: visit.after,
                attempts,
                started: previous,
                read_inline: Some(spec),
                ..MapRunWait::default()
            };
            return Ok(Flow::Wait(Position::MapRun(Box::new(wait)), NEVER));
        }
    };
    start_map_iterations(
        visit, m, inputs, reader, limit, roots, previous, attempts, h, env,
    )
}

/// A Map's items: known now, or to be read by its run first, or (EXPRESS) by the run that
/// keeps nothing before its iterations start.
enum MapItems {
    Inputs(Vec<Value>),
    ReadInline(ReadSpec),
    Read(ReadSpec),
}

/// A Map with an ItemReader: what to read, evaluated now (Parameters or Arguments, and
/// ReaderConfig's MaxItems). A stored execution's run reads it; a run that reads nothing
/// itself (TestState) takes the items from the data it was given.
fn reader_map_inputs(
    visit: &Visit<'_>,
    m: &MapState,
    reader: &S3Io,
    roots: Roots<'_>,
    env: &mut Env<'_>,
) -> Result<(MapItems, usize), Failure> {
    env.inspect("input", visit.input);
    let effective = effective_map_input(visit, roots)?;
    let at = with_input(roots, &effective);
    let parameters = s3_parameters(visit, reader, at, env)?;
    let max_items = reader_max_items(&reader.config, visit, at, env)?;
    let reader_failed = |cause| Failure {
        error: items::READER_FAILED,
        cause,
    };
    let spec = items::read_spec(
        reader.resource.as_deref(),
        parameters,
        &reader.config,
        max_items,
    )
    .map_err(reader_failed)?;
    let limit = map_limit(visit, m, at, env)?;
    let distributed = m
        .processor
        .processor
        .as_ref()
        .is_some_and(|p| p.distributed);
    if env.map_runs && distributed {
        return Ok((MapItems::Read(spec), limit));
    }
    if env.reads_items && env.reader_data.is_none() {
        return Ok((MapItems::ReadInline(spec), limit));
    }
    let Some(data) = env.reader_data else {
        return Err(reader_failed(
            "TestState reads no ItemReader source: it takes the items from stateConfiguration.mapItemReaderData".to_owned(),
        ));
    };
    let read = if spec.action == "listObjectsV2" {
        serde_json::from_str::<Value>(data)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .ok_or_else(|| items::NOT_ITERABLE.to_owned())
    } else {
        items::object_items(&spec, data)
    };
    let read = read.map_err(reader_failed)?;
    let inputs = select_items(visit, m, roots, &effective, read, env)?;
    Ok((MapItems::Inputs(inputs), limit))
}

/// The input a Map's items and selectors see: after InputPath (JSONPath), the input itself
/// (JSONata).
fn effective_map_input(visit: &Visit<'_>, roots: Roots<'_>) -> Result<Value, Failure> {
    if visit.state.query_language == QueryLanguage::Jsonata {
        return Ok(visit.input.clone());
    }
    dataflow::apply_path(visit.state.input_path.as_ref(), roots)
}

/// An ItemReader's or ResultWriter's Parameters (JSONPath) or Arguments (JSONata), evaluated.
fn s3_parameters(
    visit: &Visit<'_>,
    io: &S3Io,
    roots: Roots<'_>,
    env: &mut Env<'_>,
) -> Result<Value, Failure> {
    Ok(match &io.parameters {
        None => Value::Object(Map::new()),
        Some(t) if visit.state.query_language == QueryLanguage::Jsonata => {
            let states = query::States::new(visit.input, roots.context);
            let t = template_value(t).unwrap_or(Value::Null);
            query::template(&t, "Arguments", &states, roots.variables, env.entropy)?
        }
        Some(t) => dataflow::evaluate(t, roots, env.entropy)?,
    })
}

/// ReaderConfig's MaxItems (an integer or JSONata) or MaxItemsPath.
fn reader_max_items(
    config: &Value,
    visit: &Visit<'_>,
    roots: Roots<'_>,
    env: &mut Env<'_>,
) -> Result<Option<i64>, Failure> {
    let n = match (config.get("MaxItems"), config.get("MaxItemsPath")) {
        (Some(Value::String(e)), _) => Some(Number::Jsonata(e.clone())),
        (Some(v), _) => Some(Number::Literal(v.clone())),
        (None, Some(Value::String(p))) => crate::asl::path::parse(p).ok().map(Number::Path),
        _ => None,
    };
    let Some((v, path)) = number(n.as_ref(), "MaxItems", visit, roots, env)? else {
        return Ok(None);
    };
    match (v.as_i64(), path) {
        (Some(n), _) => Ok(Some(n)),
        (None, Some(p)) => Err(not_valid("MaxItems", &v, "integer", &p)),
        (None, None) => Ok(Some(0)),
    }
}

/// MaxConcurrency (literal, path, or JSONata) against the Map's effective input.
fn map_limit(
    visit: &Visit<'_>,
    m: &MapState,
    roots: Roots<'_>,
    env: &mut Env<'_>,
) -> Result<usize, Failure> {
    match &m.max_concurrency {
        Some(Number::Jsonata(e)) => {
            let states = query::States::new(visit.input, roots.context);
            let inner = query::expression(e).unwrap_or(e);
            Ok(query::evaluate(
                inner,
                "MaxConcurrency",
                &states,
                roots.variables,
                env.entropy,
            )?
            .as_u64()
            .unwrap_or(0) as usize)
        }
        other => max_concurrency(other.as_ref(), roots),
    }
}

/// Each item as its iteration or child receives it: through the ItemSelector, which sees
/// the item as `$$.Map.Item` (`$states.context.Map.Item`) with its index.
fn select_items(
    visit: &Visit<'_>,
    m: &MapState,
    roots: Roots<'_>,
    effective: &Value,
    items: Vec<Value>,
    env: &mut Env<'_>,
) -> Result<Vec<Value>, Failure> {
    let Some(selector) = &m.item_selector else {
        return Ok(items);
    };
    let jsonata = visit.state.query_language == QueryLanguage::Jsonata;
    // A JSONata state keeps its templates literal (`{% %}` strings evaluated from it).
    let literal = match jsonata {
        true => match template_value(selector) {
            Some(t) => t,
            None => return Ok(items),
        },
        false => Value::Null,
    };
    let mut inputs = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let mut ctx = roots.context.clone();
        if let Value::Object(c) = &mut ctx {
            c.insert(
                "Map".into(),
                json!({"Item": {"Index": index, "Value": item}}),
            );
        }
        inputs.push(if jsonata {
            let item_states = query::States::new(visit.input, &ctx);
            query::template(
                &literal,
                "ItemSelector",
                &item_states,
                roots.variables,
                env.entropy,
            )?
        } else {
            dataflow::evaluate(
                selector,
                Roots {
                    input: effective,
                    context: &ctx,
                    variables: roots.variables,
                },
                env.entropy,
            )?
        });
    }
    if env.inspection.is_some() {
        env.inspect("afterItemSelector", &Value::Array(inputs.clone()));
    }
    Ok(inputs)
}

/// A JSONPath Map's iteration inputs (ItemsPath, ItemSelector) and MaxConcurrency.
fn jsonpath_map_inputs(
    visit: &Visit<'_>,
    m: &MapState,
    roots: Roots<'_>,
    env: &mut Env<'_>,
) -> Result<(Vec<Value>, usize), Failure> {
    let state = visit.state;
    (|| {
        // TestState shows the stages a Map has (recorded: the paths only when given).
        env.inspect("input", visit.input);
        let effective = dataflow::apply_path(state.input_path.as_ref(), roots)?;
        if state.input_path.is_some() {
            env.inspect("afterInputPath", &effective);
        }
        let items = match &m.items_path {
            None => effective.clone(),
            Some(p) => jsonpath::select(p, with_input(roots, &effective))
                .map(jsonpath::Selected::into_value)
                .map_err(|miss| Failure {
                    error: "States.Runtime",
                    cause: format!("Invalid path '{p}' : {}", miss.jayway_text()),
                })?,
        };
        if m.items_path.is_some() {
            env.inspect("afterItemsPath", &items);
        }
        let Value::Array(items) = items else {
            return Err(Failure {
                error: "States.Runtime",
                cause: format!(
                    "Reference path \"{}\" must point to array.",
                    m.items_path
                        .as_ref()
                        .map_or("$".to_owned(), |p| p.to_string())
                ),
            });
        };
        let limit = max_concurrency(m.max_concurrency.as_ref(), with_input(roots, &effective))?;
        env.inspect("maxConcurrency", &json!(limit));
        for (stage, n) in [
            ("toleratedFailureCount", &m.tolerated_failure_count),
            (
                "toleratedFailurePercentage",
                &m.tolerated_failure_percentage,
            ),
        ] {
            if let Some(Number::Literal(v)) = n {
                env.inspect(stage, v);
            }
        }
        let inputs = select_items(visit, m, roots, &effective, items, env)?;
        Ok((inputs, limit))
    })()
}

/// A JSONata Map's iteration inputs: `Items` (or the input) must be an array; `ItemSelector`
/// sees each item as `$states.context.Map.Item`.
fn jsonata_map_inputs(
    visit: &Visit<'_>,
    m: &MapState,
    roots: Roots<'_>,
    env: &mut Env<'_>,
) -> Result<(Vec<Value>, usize), Failure> {
    let states = query::States::new(visit.input, roots.context);
    let items = match &m.items {
        Some(t) => query::template(t, "Items", &states, roots.variables, env.entropy)?,
        None => visit.input.clone(),
    };
    let Value::Array(items) = items else {
        let expr = match &m.items {
            Some(Value::String(s)) => query::expression(s).unwrap_or(s).to_owned(),
            Some(other) => other.to_string(),
            None => "$states.input".to_owned(),
        };
        return Err(Failure {
            error: "States.QueryEvaluationError",
            cause: format!(
                "The JSONata expression '{expr}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {items}",
                json_type(&items)
            ),
        });
    };
    let limit = map_limit(visit, m, roots, env)?;
    let inputs = select_items(visit, m, roots, visit.input, items, env)?;
    Ok((inputs, limit))
}

/// A template of literals only, as the JSON value it was written as (JSONata states keep
/// their templates literal; `{% %}` strings are evaluated from it).
fn template_value(t: &Template) -> Option<Value> {
    Some(match t {
        Template::Value(v) => v.clone(),
        Template::Object(members) => Value::Object(
            members
                .iter()
                .map(|(k, v)| template_value(v).map(|v| (k.clone(), v)))
                .collect::<Option<Map<String, Value>>>()?,
        ),
        Template::Array(items) => Value::Array(
            items
                .iter()
                .map(template_value)
                .collect::<Option<Vec<_>>>()?,
        ),
        Template::Path(_) | Template::Call(_) => return None,
    })
}

/// MapStateStarted and the first iterations (as many as MaxConcurrency allows).
#[allow(clippy::too_many_arguments)]
fn start_map_iterations(
    visit: &Visit<'_>,
    m: &MapState,
    inputs: Vec<Value>,
    reader: Option<ReadSpec>,
    limit: usize,
    roots: Roots<'_>,
    previous: u64,
    attempts: Vec<u64>,
    h: &mut History,
    env: &mut Env<'_>,
) -> Result<Flow, AttemptError> {
    let state = visit.state;
    let started = h.push(
        "MapStateStarted",
        previous,
        Some((
            "mapStateStartedEventDetails",
            json!({"length": inputs.len()}),
        )),
    );
    if env.map_runs
        && m.processor
            .processor
            .as_ref()
            .is_some_and(|p| p.distributed)
    {
        let run = MapRunStart {
            inputs,
            reader,
            limit,
            started,
        };
        return start_map_run(visit, m, run, roots, attempts, env, h);
    }
    let mut children: Vec<Child> = inputs
        .into_iter()
        .map(|input| Child::Pending { input })
        .collect();
    let width = if limit == 0 { children.len() } else { limit };
    for index in 0..children.len().min(width) {
        start_iteration(&state.name, &m.processor, &mut children, index, started, h);
    }
    if children.is_empty() {
        return Ok(finish_fork(
            visit,
            attempts,
            Value::Array(Vec::new()),
            roots.variables,
            h,
            env,
        ));
    }
    Ok(Flow::Go(fork(visit, attempts, limit, children)))
}

/// MapIterationStarted for iteration `index`, after `previous`; its first state follows.
fn start_iteration(
    map: &str,
    processor: &Scope,
    children: &mut [Child],
    index: usize,
    previous: u64,
    h: &mut History,
) {
    let Child::Pending { input } = &mut children[index] else {
        return;
    };
    let input = std::mem::take(input);
    let id = h.push(
        "MapIterationStarted",
        previous,
        Some((
            "mapIterationStartedEventDetails",
            json!({"index": index, "name": map}),
        )),
    );
    children[index] = Child::Running {
        position: Position::Enter {
            state: processor.start_at.clone(),
            input,
            previous: id,
        },
        last: id,
        variables: Map::new(),
    };
}

/// The scope of branch or iteration `index` of a fork state.
fn child_scope(state: &State, index: usize) -> &Scope {
    match &state.kind {
        StateKind::Parallel(p) => &p.branches[index],
        StateKind::Map(m) => &m.processor,
        _ => unreachable!("only Parallel and Map states fork"),
    }
}

/// One step of every running branch or iteration; then the fork ends (all done, or one
/// failed and the others are aborted) or goes on.
fn step_fork(
    state: &State,
    mut f: Fork,
    variables: &Variables,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    let is_map = matches!(state.kind, StateKind::Map(_));
    let mut go = false;
    let mut due: Option<i64> = None;
    let mut failed: Option<(usize, Fault)> = None;
    for index in 0..f.children.len() {
        let Child::Running {
            position,
            last,
            variables: own,
        } = &mut f.children[index]
        else {
            continue;
        };
        let position = std::mem::replace(
            position,
            Position::Enter {
                state: String::new(),
                input: Value::Null,
                previous: 0,
            },
        );
        let mut own = std::mem::take(own);
        let before = h.last_id;
        let flow = step_in(
            child_scope(state, index),
            position,
            &in_reach(variables, &own),
            h,
            env,
        );
        if let Some(assigned) = h.assigned.take() {
            own.extend(assigned);
        }
        let last = if h.last_id > before { h.last_id } else { *last };
        match flow {
            Flow::Go(position) => {
                f.children[index] = Child::Running {
                    position,
                    last,
                    variables: own,
                };
                go = true;
            }
            Flow::Wait(position, d) => {
                f.children[index] = Child::Running {
                    position,
                    last,
                    variables: own,
                };
                due = Some(due.map_or(d, |x| x.min(d)));
            }
            Flow::Done(output) => {
                f.children[index] = Child::Done { output, last };
                if is_map {
                    h.push(
                        "MapIterationSucceeded",
                        last,
                        Some((
                            "mapIterationSucceededEventDetails",
                            json!({"index": index, "name": state.name}),
                        )),
                    );
                    if let Some(next) = f
                        .children
                        .iter()
                        .position(|c| matches!(c, Child::Pending { .. }))
                    {
                        start_iteration(
                            &state.name,
                            child_scope(state, 0),
                            &mut f.children,
                            next,
                            last,
                            h,
                        );
                        go = true;
                    }
                }
            }
            Flow::Failed(fault) => {
                failed = Some((index, fault));
                break;
            }
        }
    }
    let visit = Visit {
        state,
        input: &f.input,
        entered: f.entered,
        entered_ms: f.entered_ms,
        after: f.after,
    };
    if let Some((index, fault)) = failed {
        let cause_event = fault.event;
        if is_map {
            h.push(
                "MapIterationFailed",
                cause_event,
                Some((
                    "mapIterationFailedEventDetails",
                    json!({"index": index, "name": state.name}),
                )),
            );
        }
        for (j, child) in f.children.iter().enumerate() {
            if let Child::Running { position, .. } = child {
                if j == index {
                    continue;
                }
                abort(child_scope(state, j), position, cause_event, h);
                if is_map {
                    h.push(
                        "MapIterationAborted",
                        cause_event,
                        Some((
                            "mapIterationAbortedEventDetails",
                            json!({"index": j, "name": state.name}),
                        )),
                    );
                }
            }
        }
        // A retry starts the state again (a new XStateStarted after the failing event)
        // with no XStateFailed in between; the interpreter's own errors are never retried.
        let own = matches!(
            fault.error.as_deref(),
            Some("States.Runtime" | "States.DataLimitExceeded")
        );
        if let Some(e) = fault.error.as_deref().filter(|_| !own) {
            if let Ok(flow) = retry(&visit, e, cause_event, f.attempts, env) {
                return flow;
            }
        }
        let failed_event = h.push(
            if is_map {
                "MapStateFailed"
            } else {
                "ParallelStateFailed"
            },
            cause_event,
            None,
        );
        if own {
            return Flow::Failed(Fault {
                event: failed_event,
                ..fault
            });
        }
        let ctx = context(env.execution, &state.name, visit.entered_ms);
        let roots = Roots {
            input: visit.input,
            context: &ctx,
            variables,
        };
        return catch_or_fail(
            &visit,
            fault.error.as_deref(),
            fault.cause,
            failed_event,
            roots,
            h,
            env,
        );
    }
    if f.children.iter().all(|c| matches!(c, Child::Done { .. })) {
        let outputs = f
            .children
            .into_iter()
            .map(|c| match c {
                Child::Done { output, .. } => output,
                _ => Value::Null,
            })
            .collect();
        return finish_fork(&visit, f.attempts, Value::Array(outputs), variables, h, env);
    }
    if go {
        return Flow::Go(Position::Fork(Box::new(f)));
    }
    match due {
        Some(d) => Flow::Wait(Position::Fork(Box::new(f)), d),
        // Nothing runs, nothing waits, not all done: pending iterations start next step.
        None => Flow::Go(Position::Fork(Box::new(f))),
    }
}

/// A Distributed Map's attempt after MapStateStarted: its tolerated failures, then
/// MapRunStarted and a wait for the run, which the runner creates from the plan in the same
/// commit (asl-semantics.md §6.3).
fn start_map_run(
    visit: &Visit<'_>,
    m: &MapState,
    run: MapRunStart,
    roots: Roots<'_>,
    attempts: Vec<u64>,
    env: &mut Env<'_>,
    h: &mut History,
) -> Result<Flow, AttemptError> {
    let MapRunStart {
        inputs,
        reader,
        limit,
        started,
    } = run;
    let (tolerated_count, tolerated_percentage) = match tolerated(visit, m, roots, env) {
        Ok(t) => t,
        Err(f) => return Err((f, attempts)),
    };
    let writer = match result_writer(visit, m, roots, env) {
        Ok(w) => w,
        Err(f) => return Err((f, attempts)),
    };
    let label = match &m.label {
        Some(l) => l.clone(),
        None => super::intrinsics::uuid(env.entropy),
    };
    let machine = &env.execution.state_machine_arn;
    let arn = format!(
        "{}/{label}:{}",
        machine.replacen(":stateMachine:", ":mapRun:", 1),
        super::intrinsics::uuid(env.entropy)
    );
    let express = m
        .processor
        .processor
        .as_ref()
        .and_then(|p| p.execution_type.as_deref())
        == Some("EXPRESS");
    let run = h.push(
        "MapRunStarted",
        started,
        Some(("mapRunStartedEventDetails", json!({ "mapRunArn": arn }))),
    );
    let inputs = match batches(visit, m, inputs, roots, env) {
        Ok(b) => b,
        Err(f) => return Err((f, attempts)),
    };
    let plan = MapRunPlan {
        inputs,
        machine_arn: format!("{machine}/{label}"),
        express,
        max_concurrency: limit as u64,
        tolerated_count,
        tolerated_percentage,
        reader,
        writer,
    };
    Ok(Flow::Wait(
        Position::MapRun(Box::new(MapRunWait {
            state: visit.state.name.clone(),
            input: visit.input.clone(),
            entered: visit.entered,
            entered_ms: visit.entered_ms,
            after: visit.after,
            attempts,
            arn,
            started: run,
            create: Some(Box::new(plan)),
            ..MapRunWait::default()
        })),
        NEVER,
    ))
}

/// What a Distributed Map's run starts from.
struct MapRunStart {
    inputs: Vec<Value>,
    reader: Option<ReadSpec>,
    limit: usize,
    /// The MapStateStarted event.
    started: u64,
}

/// Where a ResultWriter puts the run's results; none without one. Without a Resource the
/// results stay the Map's output, transformed as its WriterConfig says.
fn result_writer(
    visit: &Visit<'_>,
    m: &MapState,
    roots: Roots<'_>,
    env: &mut Env<'_>,
) -> Result<Option<WriteSpec>, Failure> {
    let Some(w) = m.result_writer.as_ref() else {
        return Ok(None);
    };
    let failed = |cause| Failure {
        error: items::WRITER_FAILED,
        cause,
    };
    if w.resource.is_none() {
        return if w.config.is_object() {
            items::inline_spec(&w.config).map(Some).map_err(failed)
        } else {
            Ok(None)
        };
    }
    let effective = effective_map_input(visit, roots)?;
    let parameters = s3_parameters(visit, w, with_input(roots, &effective), env)?;
    items::write_spec(&parameters, &w.config)
        .map(Some)
        .map_err(failed)
}

/// The children's inputs: one per item, or with an ItemBatcher one `{"BatchInput", "Items"}`
/// per batch of at most MaxItemsPerBatch items and MaxInputBytesPerBatch bytes (each with the
/// number of items it holds).
fn batches(
    visit: &Visit<'_>,
    m: &MapState,
    items: Vec<Value>,
    roots: Roots<'_>,
    env: &mut Env<'_>,
) -> Result<Vec<(Value, u64)>, Failure> {
    let Some(b) = &m.item_batcher else {
        return Ok(items.into_iter().map(|v| (v, 1)).collect());
    };
    let max_items = batch_limit(b, "MaxItemsPerBatch", visit, roots, env)?;
    let max_bytes = batch_limit(b, "MaxInputBytesPerBatch", visit, roots, env)?;
    let batch_input = match &m.batch_input {
        None => None,
        Some(t) if visit.state.query_language == QueryLanguage::Jsonata => {
            let states = query::States::new(visit.input, roots.context);
            let t = template_value(t).unwrap_or(Value::Null);
            Some(query::template(
                &t,
                "BatchInput",
                &states,
                roots.variables,
                env.entropy,
            )?)
        }
        Some(t) => Some(dataflow::evaluate(t, roots, env.entropy)?),
    };
    // {"BatchInput":…,"Items":[…]}: the fixed part, then each item and its comma.
    let fixed = batch_input.as_ref().map_or(0, |v| v.to_string().len() + 14) + 12;
    let batch = |items: Vec<Value>| {
        let n = items.len() as u64;
        let mut o = Map::new();
        if let Some(v) = &batch_input {
            o.insert("BatchInput".into(), v.clone());
        }
        o.insert("Items".into(), Value::Array(items));
        (Value::Object(o), n)
    };
    let mut out = Vec::new();
    let (mut current, mut bytes) = (Vec::new(), fixed);
    for item in items {
        let size = item.to_string().len() + 1;
        let full = max_items.is_some_and(|n| current.len() as u64 >= n)
            || max_bytes.is_some_and(|n| bytes + size > n as usize);
        if full && !current.is_empty() {
            out.push(batch(std::mem::take(&mut current)));
            bytes = fixed;
        }
        current.push(item);
        bytes += size;
    }
    if !current.is_empty() {
        out.push(batch(current));
    }
    Ok(out)
}

/// An ItemBatcher limit from `field` (an integer or JSONata) or `<field>Path`; 0 or absent:
/// no limit.
fn batch_limit(
    b: &Value,
    field: &str,
    visit: &Visit<'_>,
    roots: Roots<'_>,
    env: &mut Env<'_>,
) -> Result<Option<u64>, Failure> {
    let path_field = format!("{field}Path");
    let (v, path) = match (b.get(field), b.get(&path_field).and_then(Value::as_str)) {
        (Some(Value::String(e)), _) => {
            let states = query::States::new(visit.input, roots.context);
            let inner = query::expression(e).unwrap_or(e);
            (
                query::evaluate(inner, field, &states, roots.variables, env.entropy)?,
                None,
            )
        }
        (Some(v), _) => (v.clone(), None),
        (None, Some(p)) => {
            let Ok(path) = crate::asl::path::parse(p) else {
                return Ok(None);
            };
            let v = jsonpath::select(&path, roots)
                .map(jsonpath::Selected::into_value)
                .unwrap_or(Value::Null);
            (v, Some(path))
        }
        (None, None) => return Ok(None),
    };
    match (v.as_u64(), path) {
        (Some(n), _) => Ok((n > 0).then_some(n)),
        (None, Some(p)) => Err(not_valid(field, &v, "integer", &p)),
        (None, None) => Err(Failure {
            error: "States.Runtime",
            cause: format!("{field} must be a non-negative integer"),
        }),
    }
}

/// ToleratedFailureCount and ToleratedFailurePercentage (literals, paths or JSONata), checked
/// as AWS checks them at run time.
fn tolerated(
    visit: &Visit<'_>,
    m: &MapState,
    roots: Roots<'_>,
    env: &mut Env<'_>,
) -> Result<(Option<u64>, Option<f64>), Failure> {
    let runtime = |cause: &str| Failure {
        error: "States.Runtime",
        cause: cause.to_owned(),
    };
    let count = match number(
        m.tolerated_failure_count.as_ref(),
        "ToleratedFailureCount",
        visit,
        roots,
        env,
    )? {
        None => None,
        Some((v, path)) => match v.as_i64() {
            Some(n) if n < 0 => return Err(runtime("ToleratedFailureCount cannot be negative.")),
            Some(n) => Some(n as u64),
            None => match path {
                Some(p) => return Err(not_valid("ToleratedFailureCount", &v, "integer", &p)),
                None => return Err(runtime("ToleratedFailureCount cannot be negative.")),
            },
        },
    };
    let percentage = match number(
        m.tolerated_failure_percentage.as_ref(),
        "ToleratedFailurePercentage",
        visit,
        roots,
        env,
    )? {
        None => None,
        Some((v, path)) => match v.as_f64() {
            Some(x) if (0.0..=100.0).contains(&x) => Some(x),
            Some(_) => {
                return Err(runtime(
                    "ToleratedFailurePercentage must be between 0 and 100.",
                ))
            }
            None => match path {
                Some(p) => return Err(not_valid("ToleratedFailurePercentage", &v, "float", &p)),
                None => {
                    return Err(runtime(
                        "ToleratedFailurePercentage must be between 0 and 100.",
                    ))
                }
            },
        },
    };
    Ok((count, percentage))
}

/// A number field's value and the path it was read from, if any.
fn number(
    n: Option<&Number>,
    field: &str,
    visit: &Visit<'_>,
    roots: Roots<'_>,
    env: &mut Env<'_>,
) -> Result<Option<(Value, Option<crate::asl::path::Path>)>, Failure> {
    Ok(match n {
        None => None,
        Some(Number::Literal(v)) => Some((v.clone(), None)),
        Some(Number::Path(p)) => {
            let v = jsonpath::select(p, roots)
                .map(jsonpath::Selected::into_value)
                .unwrap_or(Value::Null);
            Some((v, Some(p.clone())))
        }
        Some(Number::Jsonata(e)) => {
            let states = query::States::new(visit.input, roots.context);
            let inner = query::expression(e).unwrap_or(e);
            let v = query::evaluate(inner, field, &states, roots.variables, env.entropy)?;
            Some((v, None))
        }
    })
}

/// AWS's text for a `…Path` field whose value is not of the kind the field takes.
fn not_valid(field: &str, v: &Value, kind: &str, p: &crate::asl::path::Path) -> Failure {
    Failure {
        error: "States.Runtime",
        cause: format!(
            "The {field}Path field refers to value \"{}\" which is not a valid {kind}: {p}",
            match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        ),
    }
}

/// A Distributed Map waiting for its run: nothing until the run's end comes back; then
/// MapRunSucceeded and the results as a Map's, or MapRunFailed and the error handled as a
/// failed Map's.
fn step_map_run(
    state: &State,
    mut w: MapRunWait,
    variables: &Variables,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    if w.redrive {
        // The run's end is answered after the redrive, counted from its MapRunRedriven.
        w.redrive = false;
        w.rerun = true;
        let last = h.last_id;
        w.started = h.push(
            "MapRunRedriven",
            last,
            Some((
                "mapRunRedrivenEventDetails",
                json!({"mapRunArn": w.arn, "redriveCount": env.execution.redrive_count.unwrap_or(1)}),
            )),
        );
        return Flow::Wait(Position::MapRun(Box::new(w)), NEVER);
    }
    if w.read_inline.is_some() {
        return step_inline_read(state, w, variables, h, env);
    }
    if let Some(items) = w.items.take() {
        match read_inputs(state, &w, items, variables, env) {
            Ok(inputs) => {
                w.fill = Some(inputs);
                return Flow::Wait(Position::MapRun(Box::new(w)), NEVER);
            }
            Err(f) => {
                w.outcome = Some(MapRunOutcome::Failed {
                    error: Some(f.error.to_owned()),
                    cause: Some(f.cause),
                })
            }
        }
    }
    let Some(outcome) = w.outcome.clone() else {
        return Flow::Wait(Position::MapRun(Box::new(w)), NEVER);
    };
    let visit = w.visit(state);
    match outcome {
        MapRunOutcome::Succeeded { results } => {
            h.push("MapRunSucceeded", w.started, None);
            finish_fork(
                &visit,
                w.attempts.clone(),
                Value::Array(results),
                variables,
                h,
                env,
            )
        }
        MapRunOutcome::Written { output } => {
            h.push("MapRunSucceeded", w.started, None);
            finish_fork(&visit, w.attempts.clone(), output, variables, h, env)
        }
        MapRunOutcome::Failed { error, cause } => {
            let failed = h.push(
                "MapRunFailed",
                w.started,
                Some((
                    "mapRunFailedEventDetails",
                    error_details(error.as_deref(), cause.as_deref()),
                )),
            );
            if let Some(e) = error.as_deref() {
                if let Ok(flow) = retry(&visit, e, failed, w.attempts.clone(), env) {
                    return flow;
                }
            }
            let failed_event = h.push("MapStateFailed", failed, None);
            let ctx = context(env.execution, &state.name, visit.entered_ms);
            let roots = Roots {
                input: visit.input,
                context: &ctx,
                variables,
            };
            catch_or_fail(&visit, error.as_deref(), cause, failed_event, roots, h, env)
        }
    }
}

/// A Map of a run that keeps nothing, reading its items: once read, MapStateStarted and its
/// iterations as an inline Map's; a failed read fails the attempt (`States.ItemReaderFailed`).
fn step_inline_read(
    state: &State,
    w: MapRunWait,
    variables: &Variables,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    let StateKind::Map(m) = &state.kind else {
        return Flow::Wait(Position::MapRun(Box::new(w)), NEVER);
    };
    if w.items.is_none() && w.outcome.is_none() {
        return Flow::Wait(Position::MapRun(Box::new(w)), NEVER);
    }
    let visit = w.visit(state);
    let ctx = context(env.execution, &state.name, w.entered_ms);
    let roots = Roots {
        input: &w.input,
        context: &ctx,
        variables,
    };
    let attempts = w.attempts.clone();
    let items = match (&w.items, &w.outcome) {
        (Some(items), _) => Ok(items.clone()),
        (None, Some(MapRunOutcome::Failed { cause, .. })) => Err(Failure {
            error: items::READER_FAILED,
            cause: cause.clone().unwrap_or_default(),
        }),
        _ => Ok(Vec::new()),
    };
    let prepared = items.and_then(|items| {
        let effective = effective_map_input(&visit, roots)?;
        let limit = map_limit(&visit, m, with_input(roots, &effective), env)?;
        Ok((
            select_items(&visit, m, roots, &effective, items, env)?,
            limit,
        ))
    });
    let started = match prepared {
        Ok((inputs, limit)) => start_map_iterations(
            &visit, m, inputs, None, limit, roots, w.started, attempts, h, env,
        ),
        Err(f) => Err((f, attempts)),
    };
    match started {
        Ok(flow) => flow,
        Err((f, attempts)) => attempt_failed(&visit, f, attempts, roots, h, env),
    }
}

/// The children's inputs from the items a run read: through the ItemSelector and the
/// ItemBatcher, as for items from the input.
fn read_inputs(
    state: &State,
    w: &MapRunWait,
    items: Vec<Value>,
    variables: &Variables,
    env: &mut Env<'_>,
) -> Result<Vec<(Value, u64)>, Failure> {
    let StateKind::Map(m) = &state.kind else {
        return Ok(Vec::new());
    };
    let visit = w.visit(state);
    let ctx = context(env.execution, &state.name, w.entered_ms);
    let roots = Roots {
        input: &w.input,
        context: &ctx,
        variables,
    };
    let effective = effective_map_input(&visit, roots)?;
    let inputs = select_items(&visit, m, roots, &effective, items, env)?;
    batches(&visit, m, inputs, roots, env)
}

/// The aborted events of a branch or iteration stopped by a sibling's failure.
fn abort(scope: &Scope, position: &Position, cause_event: u64, h: &mut History) {
    match position {
        Position::Start | Position::Enter { .. } => {}
        Position::Waiting { .. } => {
            h.push("WaitStateAborted", cause_event, None);
        }
        Position::Attempt { state, .. } => {
            if let Some(s) = scope.state(state) {
                h.push(aborted_kind(s), cause_event, None);
            }
        }
        Position::Activity(_) => {
            h.push("TaskStateAborted", cause_event, None);
        }
        // The run itself is aborted by the runner, which sees it gone from the position.
        Position::MapRun(_) => {
            h.push("MapStateAborted", cause_event, None);
        }
        Position::Fork(f) => {
            if let Some(s) = scope.state(&f.state) {
                for (j, child) in f.children.iter().enumerate() {
                    if let Child::Running { position, .. } = child {
                        abort(child_scope(s, j), position, cause_event, h);
                    }
                }
                h.push(aborted_kind(s), cause_event, None);
            }
        }
    }
}

fn aborted_kind(state: &State) -> &'static str {
    match &state.kind {
        StateKind::Parallel(_) => "ParallelStateAborted",
        StateKind::Map(_) => "MapStateAborted",
        _ => "TaskStateAborted",
    }
}

/// Every branch or iteration succeeded: XStateSucceeded, then the results through
/// ResultSelector, ResultPath and OutputPath, and XStateExited — both after the last
/// branch or iteration event.
fn finish_fork(
    visit: &Visit<'_>,
    attempts: Vec<u64>,
    result: Value,
    variables: &Variables,
    h: &mut History,
    env: &mut Env<'_>,
) -> Flow {
    let state = visit.state;
    let (kind, result_selector, result_path, transition) = match &state.kind {
        StateKind::Parallel(p) => (
            ("ParallelStateSucceeded", "ParallelStateExited"),
            p.result_selector.as_ref(),
            p.result_path.as_ref(),
            &p.transition,
        ),
        StateKind::Map(m) => (
            ("MapStateSucceeded", "MapStateExited"),
            m.result_selector.as_ref(),
            m.result_path.as_ref(),
            &m.transition,
        ),
        _ => unreachable!("only Parallel and Map states fork"),
    };
    let last = h.last_id;
    h.push(kind.0, last, None);
    let ctx = context(env.execution, &state.name, visit.entered_ms);
    let roots = Roots {
        input: visit.input,
        context: &ctx,
        variables,
    };
    if state.query_language == QueryLanguage::Jsonata {
        let states = query::States {
            input: visit.input,
            context: &ctx,
            result: Some(&result),
            error_output: None,
        };
        let done = jsonata_leave(
            state,
            state.assign.as_ref(),
            state.output.as_ref(),
            &states,
            variables,
            &result,
            env,
        );
        return match done {
            Ok((out, assigned)) => {
                let exited = h.exited_assigning(kind.1, &state.name, &out, last, assigned);
                follow(transition, out, exited)
            }
            Err(f) => attempt_failed(visit, f, attempts, roots, h, env),
        };
    }
    let out = (|| {
        let selected = match result_selector {
            Some(t) => dataflow::evaluate(t, with_input(roots, &result), env.entropy)?,
            None => result,
        };
        let assigned = assign(
            state.assign.as_ref(),
            with_input(roots, &selected),
            env.entropy,
        )?;
        let merged = dataflow::apply_result_path(visit.input, selected, result_path)?;
        let out = dataflow::apply_path(state.output_path.as_ref(), with_input(roots, &merged))?;
        check_size(state, &out)?;
        Ok::<_, Failure>((out, assigned))
    })();
    match out {
        Ok((out, assigned)) => {
            let exited = h.exited_assigning(kind.1, &state.name, &out, last, assigned);
            follow(transition, out, exited)
        }
        Err(f) => attempt_failed(visit, f, attempts, roots, h, env),
    }
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
            Ok(env.after(seconds as f64))
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
            redrive_count: Some(0),
            redrive_ms: None,
            context: None,
        }
    }

    /// Runs a definition to its end, the clock jumping to each due time; returns every event
    /// after ExecutionStarted as `(id, type, previous, details)` and the outcome.
    fn run(definition: Value, input: Value) -> (Vec<Row>, Next, i64) {
        let d = crate::asl::parse(&definition.to_string(), crate::asl::Flavor::default()).unwrap();
        let e = info(&input);
        let mut entropy = Counter(0);
        let mut now = T0;
        let mut progress = start();
        let mut events = Vec::new();
        loop {
            let mut env = Env::new(&e, now, &mut entropy);
            let (new, next) = step(&d, progress, &mut env);
            events.extend(new.into_iter().map(|ev| {
                (
                    ev.id,
                    ev.kind,
                    ev.previous,
                    ev.details.map_or(Value::Null, |(_, v)| v),
                )
            }));
            // Every position goes through the store's JSON between steps, as in the runner.
            let stored = |p: &Progress| -> Progress {
                serde_json::from_str(&serde_json::to_string(p).unwrap()).unwrap()
            };
            match next {
                Next::Continue(p) => progress = stored(&p),
                Next::WaitUntil(p, due) => {
                    let mut p = stored(&p);
                    // Outside calls fail as unreachable, as in a runner without a way out.
                    if super::super::outside::answer_unsent(
                        &mut p.position,
                        super::super::outside::unreachable,
                    ) {
                        progress = p;
                        continue;
                    }
                    // Never early: the step before the due time adds nothing.
                    let mut early = Env::new(&e, due - 1, &mut entropy);
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
        let mut counter = Counter(0);
        let mut env = Env::new(&e, T0, &mut counter);
        assert!(matches!(step(&d, start(), &mut env).1, Next::WaitUntil(..)));
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

    fn one_line(events: &[Row]) -> Vec<String> {
        events
            .iter()
            .map(|(i, k, p, _)| format!("{i} {k} ({p})"))
            .collect()
    }

    #[test]
    fn a_failed_parallel_branch_is_caught_with_the_recorded_history() {
        // Recorded (test_parallel_state_catch).
        let def = json!({"StartAt": "ParallelState", "States": {
            "ParallelState": {"Type": "Parallel", "Branches": [{"StartAt": "Branch1", "States": {
                "Branch1": {"Type": "Fail", "Error": "FailureType", "Cause": "Cause description"}}}],
                "Catch": [{"ErrorEquals": ["FailureType"], "Next": "FinalCaught"}], "Next": "Final"},
            "FinalCaught": {"Type": "Pass", "End": true},
            "Final": {"Type": "Pass", "End": true}}});
        let (events, next, _) = run(def, json!({}));
        assert_eq!(
            one_line(&events),
            [
                "2 ParallelStateEntered (0)",
                "3 ParallelStateStarted (2)",
                "4 FailStateEntered (3)",
                "5 ParallelStateFailed (4)",
                "6 ParallelStateExited (5)",
                "7 PassStateEntered (6)",
                "8 PassStateExited (7)",
                "9 ExecutionSucceeded (8)"
            ]
        );
        let caught = json!({"Error": "FailureType", "Cause": "Cause description"});
        assert_eq!(events[4].3["output"], caught.to_string());
        assert_eq!(next, Next::Succeeded(caught));
    }

    #[test]
    fn a_parallel_retry_restarts_every_branch_with_no_failed_event_between() {
        // Recorded (test_parallel_state_retry): MaxAttempts 2, three runs.
        let def = json!({"StartAt": "ParallelState", "States": {
            "ParallelState": {"Type": "Parallel", "Branches": [{"StartAt": "Branch1", "States": {
                "Branch1": {"Type": "Fail", "Error": "FailureType", "Cause": "Cause description"}}}],
                "Retry": [{"ErrorEquals": ["FailureType"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                "End": true}}});
        let (events, next, end) = run(def, json!({}));
        assert_eq!(
            one_line(&events),
            [
                "2 ParallelStateEntered (0)",
                "3 ParallelStateStarted (2)",
                "4 FailStateEntered (3)",
                "5 ParallelStateStarted (4)",
                "6 FailStateEntered (5)",
                "7 ParallelStateStarted (6)",
                "8 FailStateEntered (7)",
                "9 ParallelStateFailed (8)",
                "10 ExecutionFailed (9)"
            ]
        );
        assert_eq!(
            next,
            Next::Failed {
                error: Some("FailureType".into()),
                cause: Some("Cause description".into())
            }
        );
        // Back-offs of 1 s and 2 s (BackoffRate 2.0).
        assert_eq!(end, T0 + 3000);
    }

    #[test]
    fn parallel_outputs_come_in_branch_order_after_the_last_branch_event() {
        let def = json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 5, "Next": "A2"}, "A2": {"Type": "Pass", "Result": "a", "End": true}}},
                {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": true}}}]}}});
        let (events, next, _) = run(def, json!({}));
        assert_eq!(
            one_line(&events),
            [
                "2 ParallelStateEntered (0)",
                "3 ParallelStateStarted (2)",
                "4 WaitStateEntered (3)",
                "5 PassStateEntered (3)",
                "6 PassStateExited (5)",
                "7 WaitStateExited (4)",
                "8 PassStateEntered (7)",
                "9 PassStateExited (8)",
                "10 ParallelStateSucceeded (9)",
                "11 ParallelStateExited (9)",
                "12 ExecutionSucceeded (11)"
            ]
        );
        assert_eq!(next, Next::Succeeded(json!(["a", "b"])));
    }

    #[test]
    fn a_sequential_map_chains_iterations_as_recorded() {
        // Recorded (test_map_state_config_inline_parameters): MaxConcurrency 1, two items.
        let def = json!({"StartAt": "MapState", "States": {
            "MapState": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
                "ItemProcessor": {"StartAt": "IteratorInner", "States": {"IteratorInner": {"Type": "Pass", "End": true}}},
                "ResultPath": "$.out", "End": true}}});
        let (events, next, _) = run(def, json!(["x", "y"]).pipe_items());
        assert_eq!(
            one_line(&events),
            [
                "2 MapStateEntered (0)",
                "3 MapStateStarted (2)",
                "4 MapIterationStarted (3)",
                "5 PassStateEntered (4)",
                "6 PassStateExited (5)",
                "7 MapIterationSucceeded (6)",
                "8 MapIterationStarted (6)",
                "9 PassStateEntered (8)",
                "10 PassStateExited (9)",
                "11 MapIterationSucceeded (10)",
                "12 MapStateSucceeded (11)",
                "13 MapStateExited (11)",
                "14 ExecutionSucceeded (13)"
            ]
        );
        assert_eq!(events[1].3, json!({"length": 2}));
        assert_eq!(events[2].3, json!({"index": 0, "name": "MapState"}));
        assert_eq!(
            next,
            Next::Succeeded(
                json!({"items": ["x", "y"], "out": [{"v": "x", "i": 0}, {"v": "y", "i": 1}]})
            )
        );
    }

    /// The `assignedVariables` of an event's details.
    fn assigned(details: &Value) -> Value {
        details["assignedVariables"].clone()
    }

    #[test]
    fn assigned_variables_are_json_texts_sorted_by_name_and_literals_stay_literal() {
        // Recorded (assign/test_assign_base.py BASE_VAR, abridged).
        let def = json!({"StartAt": "State0", "States": {
            "State0": {"Type": "Pass", "Assign": {
                "varname.$": "$.input_value",
                "constant_null": null, "constant_float": 0.1,
                "constant_str_path": "$.no.such.path",
                "constant_str_var": "$noSuchVar",
                "constant_str_intrinsic_func": "States.Format('Format Func {}', $varname)",
                "constant_lst": [null, 0, 0.1, true, "$varname", "{% $varname %}", [], {"constant": 0}],
                "constant_obj": {"b": 1, "a": [2]}}, "Next": "State1"},
            "State1": {"Type": "Pass", "Assign": {
                "varname2": "varname2",
                "varnameconstant_obj_access.$": "$constant_obj.a",
                "copy.$": "$varname"}, "End": true}}});
        let (events, next, _) = run(def, json!({"input_value": "input_value_literal"}));
        assert_eq!(
            kinds(&events),
            [
                (2, "PassStateEntered", 0),
                (3, "PassStateExited", 2),
                (4, "PassStateEntered", 3),
                (5, "PassStateExited", 4),
                (6, "ExecutionSucceeded", 5)
            ]
        );
        let first = assigned(&events[1].3);
        assert_eq!(
            first.as_object().unwrap().keys().collect::<Vec<_>>(),
            [
                "constant_float",
                "constant_lst",
                "constant_null",
                "constant_obj",
                "constant_str_intrinsic_func",
                "constant_str_path",
                "constant_str_var",
                "varname"
            ]
        );
        assert_eq!(first["constant_null"], "null");
        assert_eq!(first["constant_float"], "0.1");
        assert_eq!(first["constant_str_path"], "\"$.no.such.path\"");
        assert_eq!(first["constant_str_var"], "\"$noSuchVar\"");
        assert_eq!(
            first["constant_lst"],
            "[null,0,0.1,true,\"$varname\",\"{% $varname %}\",[],{\"constant\":0}]"
        );
        assert_eq!(first["constant_obj"], "{\"b\":1,\"a\":[2]}");
        assert_eq!(first["varname"], "\"input_value_literal\"");
        assert_eq!(
            events[1].3["assignedVariablesDetails"],
            json!({"truncated": false})
        );
        let second = assigned(&events[3].3);
        assert_eq!(second["varname2"], "\"varname2\"");
        assert_eq!(second["varnameconstant_obj_access"], "[2]");
        assert_eq!(second["copy"], "\"input_value_literal\"");
        // No Assign, no assignedVariables; the output is the input.
        assert_eq!(
            next,
            Next::Succeeded(json!({"input_value": "input_value_literal"}))
        );
    }

    #[test]
    fn a_state_reads_the_variables_from_before_it_and_assigns_when_it_leaves() {
        // Recorded (assign/test_assign_base.py::test_state_assign_evaluation_order).
        let def = json!({"StartAt": "State0", "States": {
            "State0": {"Type": "Pass",
                "Result": {"theQuestion": "What is the answer to life the universe and everything?"},
                "Assign": {"question.$": "$.theQuestion", "answer": 42}, "Next": "State1"},
            "State1": {"Type": "Pass", "InputPath": "$answer", "ResultPath": "$.theAnswer",
                "OutputPath": "$answer", "Assign": {"answer": "<omitted>"}, "End": true}}});
        let (events, next, _) = run(def, json!({}));
        assert_eq!(
            assigned(&events[1].3),
            json!({"answer": "42", "question": "\"What is the answer to life the universe and everything?\""})
        );
        assert_eq!(events[3].3["output"], "42");
        assert_eq!(assigned(&events[3].3), json!({"answer": "\"<omitted>\""}));
        assert_eq!(next, Next::Succeeded(json!(42)));
    }

    #[test]
    fn an_empty_assign_records_nothing() {
        let def =
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Assign": {}, "End": true}}});
        let (events, _, _) = run(def, json!({}));
        assert_eq!(events[1].3.get("assignedVariables"), None);
        assert_eq!(events[1].3.get("assignedVariablesDetails"), None);
    }

    #[test]
    fn iterations_read_outer_variables_and_keep_their_own_to_themselves() {
        // Recorded shape (assign/test_assign_base.py BASE_SCOPE_MAP), then a read of the
        // iteration's variable outside it.
        let def = json!({"StartAt": "State0", "States": {
            "State0": {"Type": "Pass", "Assign": {"x": 42, "items": [1, 2, 3]}, "Next": "State1"},
            "State1": {"Type": "Map", "ItemsPath": "$items", "MaxConcurrency": 1,
                "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Inner",
                    "States": {"Inner": {"Type": "Pass", "Assign": {"innerX.$": "$x", "x": "shadow"}, "Next": "Again"},
                               "Again": {"Type": "Pass", "Parameters": {"mine.$": "$x", "inner.$": "$innerX"}, "End": true}}},
                "Next": "State2"},
            "State2": {"Type": "Pass", "Assign": {"final.$": "$x"}, "Next": "State3"},
            "State3": {"Type": "Pass", "Parameters": {"leak.$": "$innerX"}, "End": true}}});
        let (events, next, _) = run(def, json!({}));
        let inner: Vec<&Value> = events
            .iter()
            .filter(|e| e.1 == "PassStateExited" && e.3["name"] == "Inner")
            .map(|e| &e.3["assignedVariables"])
            .collect();
        assert_eq!(inner.len(), 3);
        assert!(inner.iter().all(|a| a["innerX"] == "42"));
        let again: Vec<&Value> = events
            .iter()
            .filter(|e| e.1 == "PassStateExited" && e.3["name"] == "Again")
            .map(|e| &e.3["output"])
            .collect();
        assert!(again
            .iter()
            .all(|o| *o == "{\"mine\":\"shadow\",\"inner\":42}"));
        let state2 = events
            .iter()
            .find(|e| e.1 == "PassStateExited" && e.3["name"] == "State2")
            .unwrap();
        assert_eq!(assigned(&state2.3), json!({"final": "42"}));
        assert_eq!(
            next,
            Next::Failed {
                error: Some("States.Runtime".into()),
                cause: Some(
                    "An error occurred while executing the state 'State3' (entered at the event id #28). The variable 'innerX' is not defined".into()
                ),
            }
        );
    }

    #[test]
    fn a_choice_assigns_from_the_rule_that_matched_or_from_the_state_for_its_default() {
        // The definition of assign/…::test_assign_in_choice_state.
        let def = json!({"StartAt": "Check", "States": {
            "Check": {"Type": "Choice", "Choices": [
                {"Variable": "$.input_value", "IsPresent": false, "Assign": {"status": "UNKNOWN"}, "Next": "Final"},
                {"Variable": "$.input_value", "NumericEquals": 42, "Assign": {"status": "CORRECT"}, "Next": "Final"}],
                "Assign": {"status": "INCORRECT", "guess.$": "$.input_value"}, "Default": "Final"},
            "Final": {"Type": "Pass", "Parameters": {"result.$": "$status"}, "End": true}}});
        let (events, next, _) = run(def.clone(), json!({"input_value": 42}));
        assert_eq!(assigned(&events[1].3), json!({"status": "\"CORRECT\""}));
        assert_eq!(next, Next::Succeeded(json!({"result": "CORRECT"})));
        let (events, next, _) = run(def, json!({"input_value": 7}));
        assert_eq!(
            assigned(&events[1].3),
            json!({"guess": "7", "status": "\"INCORRECT\""})
        );
        assert_eq!(next, Next::Succeeded(json!({"result": "INCORRECT"})));
    }

    #[test]
    fn a_wait_assigns_when_it_is_left_and_its_variables_survive_the_store() {
        let def = json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 5, "Assign": {"waited.$": "$.n"}, "Next": "P"},
            "P": {"Type": "Pass", "Parameters": {"w.$": "$waited"}, "End": true}}});
        let (events, next, end) = run(def, json!({"n": 3}));
        assert_eq!(
            kinds(&events),
            [
                (2, "WaitStateEntered", 0),
                (3, "WaitStateExited", 2),
                (4, "PassStateEntered", 3),
                (5, "PassStateExited", 4),
                (6, "ExecutionSucceeded", 5)
            ]
        );
        assert_eq!(assigned(&events[1].3), json!({"waited": "3"}));
        assert_eq!(next, Next::Succeeded(json!({"w": 3})));
        assert_eq!(end, T0 + 5000);
    }

    #[test]
    fn a_catcher_assigns_from_the_error_output() {
        let def = json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "Parameters": {"QueueUrl": "q", "MessageBody": "m"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"caught.$": "$.Error"}, "ResultPath": null, "Next": "P"}], "End": true},
            "P": {"Type": "Pass", "Parameters": {"e.$": "$caught"}, "End": true}}});
        let (events, next, _) = run(def, json!({}));
        let exited = events.iter().find(|e| e.1 == "TaskStateExited").unwrap();
        assert_eq!(
            assigned(&exited.3),
            json!({"caught": "\"States.TaskFailed\""})
        );
        assert_eq!(next, Next::Succeeded(json!({"e": "States.TaskFailed"})));
    }

    fn exists(_: &str) -> bool {
        true
    }

    /// An environment at `now` in which every activity exists.
    fn env_at<'a>(e: &'a ExecutionInfo, entropy: &'a mut Counter, now: i64) -> Env<'a> {
        Env {
            activity_exists: &exists,
            ..Env::new(e, now, entropy)
        }
    }

    #[test]
    fn an_activity_task_waits_for_its_worker_and_records_what_the_worker_did() {
        let def = json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:work",
                  "HeartbeatSeconds": 10, "ResultPath": "$.r", "End": true}}});
        let d = crate::asl::parse(&def.to_string(), crate::asl::Flavor::default()).unwrap();
        let e = info(&json!({"n": 1}));
        let mut entropy = Counter(0);
        let (events, next) = step(&d, start(), &mut env_at(&e, &mut entropy, T0));
        assert_eq!(
            events.iter().map(|e| e.kind).collect::<Vec<_>>(),
            ["TaskStateEntered", "ActivityScheduled"]
        );
        // Nobody took it: nothing but a worker moves it (no TimeoutSeconds).
        let Next::WaitUntil(mut p, due) = next else {
            panic!("{next:?}")
        };
        assert_eq!(due, NEVER);
        assert_eq!(open_tasks(&p.position).len(), 1);
        let token = open_tasks(&p.position)[0].token.clone();
        let t = task_mut(&mut p.position, &token).unwrap();
        t.started = Some(Worker { name: None });
        t.beat_due = Some(T0 + 10_000);
        t.outcome = Some(TaskOutcome::Succeeded {
            output: "[1, 2]".into(),
        });
        let (events, next) = step(&d, p, &mut env_at(&e, &mut entropy, T0 + 5));
        assert_eq!(
            events
                .iter()
                .map(|e| (e.id, e.kind, e.previous))
                .collect::<Vec<_>>(),
            [
                (4, "ActivityStarted", 3),
                (5, "ActivitySucceeded", 4),
                (6, "TaskStateExited", 5),
                (7, "ExecutionSucceeded", 6)
            ]
        );
        assert_eq!(next, Next::Succeeded(json!({"n": 1, "r": [1, 2]})));
    }

    #[test]
    fn a_callback_call_is_scheduled_answered_submitted_and_then_waits_for_its_token() {
        let def = json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                  "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:c",
                                 "Input": {"token.$": "$$.Task.Token"}},
                  "TimeoutSeconds": 5, "End": true}}});
        let d = crate::asl::parse(&def.to_string(), crate::asl::Flavor::default()).unwrap();
        let e = info(&json!({}));
        let mut entropy = Counter(0);
        let (events, next) = step(&d, start(), &mut env_at(&e, &mut entropy, T0));
        assert_eq!(
            events.iter().map(|e| e.kind).collect::<Vec<_>>(),
            ["TaskStateEntered", "TaskScheduled", "TaskStarted"]
        );
        // The call is the runner's to make now; the parameters carry the task's token.
        let Next::WaitUntil(mut p, due) = next else {
            panic!("{next:?}")
        };
        assert_eq!(due, i64::MIN);
        let token = open_tasks(&p.position)[0].token.clone();
        let scheduled = &events[1].details.as_ref().unwrap().1;
        let parameters: Value =
            serde_json::from_str(scheduled["parameters"].as_str().unwrap()).unwrap();
        assert_eq!(parameters["Input"]["token"], json!(token));
        // Unanswered, a step changes nothing.
        let (events, next) = step(&d, p.clone(), &mut env_at(&e, &mut entropy, T0 + 1));
        assert!(events.is_empty());
        assert_eq!(next, Next::WaitUntil(p.clone(), i64::MIN));
        let t = unanswered_calls(&mut p.position).pop().unwrap();
        t.call.as_deref_mut().unwrap().answer = Some(CallAnswer::Returned {
            output: json!({"ExecutionArn": "x"}),
        });
        let (events, next) = step(&d, p, &mut env_at(&e, &mut entropy, T0 + 2));
        assert_eq!(
            events
                .iter()
                .map(|e| (e.id, e.kind, e.previous))
                .collect::<Vec<_>>(),
            [(5, "TaskSubmitted", 4)]
        );
        // Submitted: now only the token (or TimeoutSeconds) moves it.
        let Next::WaitUntil(p, due) = next else {
            panic!("{next:?}")
        };
        assert_eq!(due, T0 + 5000);
        let (events, next) = step(&d, p, &mut env_at(&e, &mut entropy, T0 + 5000));
        assert_eq!(
            events
                .iter()
                .map(|e| (e.id, e.kind, e.previous))
                .collect::<Vec<_>>(),
            [(6, "TaskTimedOut", 5), (7, "ExecutionFailed", 6)]
        );
        assert_eq!(
            events[0].details.as_ref().unwrap().1,
            json!({"error": "States.Timeout", "resource": "startExecution.waitForTaskToken", "resourceType": "states"})
        );
        assert!(matches!(next, Next::Failed { .. }));
    }

    #[test]
    fn timeout_and_heartbeat_paths_read_the_input_and_are_echoed_like_literals() {
        let def = json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:work",
                  "TimeoutSecondsPath": "$.timeout", "HeartbeatSecondsPath": "$.beat", "End": true}}});
        let d = crate::asl::parse(&def.to_string(), crate::asl::Flavor::default()).unwrap();
        let e = info(&json!({"timeout": 60, "beat": 10}));
        let mut entropy = Counter(0);
        let (events, next) = step(&d, start(), &mut env_at(&e, &mut entropy, T0));
        let scheduled = &events[1].details.as_ref().unwrap().1;
        assert_eq!(scheduled["timeoutInSeconds"], 60);
        assert_eq!(scheduled["heartbeatInSeconds"], 10);
        let Next::WaitUntil(_, due) = next else {
            panic!("{next:?}")
        };
        assert_eq!(due, T0 + 60_000);
        // A missing or non-positive value is a runtime failure of the state.
        for input in [json!({"beat": 10}), json!({"timeout": "soon"})] {
            let e = info(&input);
            let (events, next) = step(&d, start(), &mut env_at(&e, &mut entropy, T0));
            assert_eq!(events.last().unwrap().kind, "ExecutionFailed", "{input}");
            let Next::Failed { error, .. } = next else {
                panic!("{next:?}")
            };
            assert_eq!(error.as_deref(), Some("States.Runtime"));
        }
    }

    #[test]
    fn a_missed_heartbeat_times_the_activity_out() {
        let def = json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:work",
                  "HeartbeatSeconds": 10, "End": true}}});
        let d = crate::asl::parse(&def.to_string(), crate::asl::Flavor::default()).unwrap();
        let e = info(&json!({}));
        let mut entropy = Counter(0);
        let (_, next) = step(&d, start(), &mut env_at(&e, &mut entropy, T0));
        let Next::WaitUntil(mut p, _) = next else {
            panic!("{next:?}")
        };
        let token = open_tasks(&p.position)[0].token.clone();
        let t = task_mut(&mut p.position, &token).unwrap();
        t.started = Some(Worker {
            name: Some("w".into()),
        });
        t.beat_due = Some(T0 + 10_000);
        // Recorded, the start: then waiting for the heartbeat.
        let (events, next) = step(&d, p, &mut env_at(&e, &mut entropy, T0 + 1));
        assert_eq!(events[0].kind, "ActivityStarted");
        let Next::WaitUntil(p, due) = next else {
            panic!("{next:?}")
        };
        assert_eq!(due, T0 + 10_000);
        let (events, next) = step(&d, p, &mut env_at(&e, &mut entropy, T0 + 10_000));
        assert_eq!(
            events.iter().map(|e| e.kind).collect::<Vec<_>>(),
            ["ActivityTimedOut", "ExecutionFailed"]
        );
        assert_eq!(
            next,
            Next::Failed {
                error: Some("States.Timeout".into()),
                cause: None
            }
        );
    }

    trait PipeItems {
        fn pipe_items(self) -> Value;
    }

    impl PipeItems for Value {
        /// `{"items": self}` with the Map reading `$.items`.
        fn pipe_items(self) -> Value {
            json!({ "items": self })
        }
    }

    #[test]
    fn a_map_over_nothing_succeeds_with_an_empty_list() {
        let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}}});
        let (events, next, _) = run(def, json!([]));
        assert_eq!(
            one_line(&events),
            [
                "2 MapStateEntered (0)",
                "3 MapStateStarted (2)",
                "4 MapStateSucceeded (3)",
                "5 MapStateExited (3)",
                "6 ExecutionSucceeded (5)"
            ]
        );
        assert_eq!(next, Next::Succeeded(json!([])));
    }

    fn map_failing(extra: Value) -> Value {
        let mut map = json!({"Type": "Map", "ResultPath": null, "InputPath": "$.arr", "MaxConcurrency": 1,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "HandleItemFail", "States": {
                "HandleItemFail": {"Type": "Fail", "Error": "HandleItemFailError", "Cause": "HandleItemFailCause"}}},
            "Next": "Final"});
        map.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"StartAt": "StartState", "States": {
            "StartState": {"Type": "Pass", "Result": [1], "ResultPath": "$.arr", "Next": "MapState"},
            "MapState": map,
            "FinalCaught": {"Type": "Pass", "End": true},
            "Final": {"Type": "Pass", "End": true}}})
    }

    #[test]
    fn a_failed_iteration_fails_the_map_and_its_catcher_gets_the_error() {
        // test_map_state_catch: the Map's own `ResultPath: null` does not apply to the catch.
        let def = map_failing(
            json!({"Catch": [{"ErrorEquals": ["HandleItemFailError"], "Next": "FinalCaught"}]}),
        );
        let (events, next, _) = run(def, json!({}));
        assert_eq!(
            one_line(&events),
            [
                "2 PassStateEntered (0)",
                "3 PassStateExited (2)",
                "4 MapStateEntered (3)",
                "5 MapStateStarted (4)",
                "6 MapIterationStarted (5)",
                "7 FailStateEntered (6)",
                "8 MapIterationFailed (7)",
                "9 MapStateFailed (7)",
                "10 MapStateExited (9)",
                "11 PassStateEntered (10)",
                "12 PassStateExited (11)",
                "13 ExecutionSucceeded (12)"
            ]
        );
        assert_eq!(
            next,
            Next::Succeeded(
                json!({"Error": "HandleItemFailError", "Cause": "HandleItemFailCause"})
            )
        );
    }

    #[test]
    fn a_map_retry_starts_the_whole_map_again() {
        let def = map_failing(json!({
            "Retry": [{"ErrorEquals": ["HandleItemFailError"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["Unrelated"], "Next": "FinalCaught"}]
        }));
        let (events, next, _) = run(def, json!({}));
        let started = events.iter().filter(|e| e.1 == "MapStateStarted").count();
        let failed = events.iter().filter(|e| e.1 == "MapStateFailed").count();
        assert_eq!((started, failed), (3, 1));
        assert!(matches!(next, Next::Failed { error: Some(e), .. } if e == "HandleItemFailError"));
    }

    #[test]
    fn a_task_without_an_integration_fails_retriably_and_catchably() {
        let def = json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"},
                "TimeoutSeconds": 10,
                "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Fallback"}], "End": true},
            "Fallback": {"Type": "Pass", "End": true}}});
        let (events, next, _) = run(def, json!({"k": 1}));
        assert_eq!(
            one_line(&events),
            [
                "2 TaskStateEntered (0)",
                "3 TaskScheduled (2)",
                "4 TaskStarted (3)",
                "5 TaskFailed (4)",
                "6 TaskScheduled (5)",
                "7 TaskStarted (6)",
                "8 TaskFailed (7)",
                "9 TaskStateExited (8)",
                "10 PassStateEntered (9)",
                "11 PassStateExited (10)",
                "12 ExecutionSucceeded (11)"
            ]
        );
        assert_eq!(
            events[1].3,
            json!({"resource": "invoke", "resourceType": "lambda", "region": "us-east-1",
                "parameters": "{\"FunctionName\":\"f\"}", "timeoutInSeconds": 10})
        );
        assert_eq!(events[3].3["error"], "States.TaskFailed");
        let Next::Succeeded(out) = next else {
            panic!("{next:?}")
        };
        assert_eq!(out["k"], 1);
        assert_eq!(out["err"]["Error"], "States.TaskFailed");
    }

    #[test]
    fn runtime_errors_inside_a_branch_are_never_caught() {
        let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}],
            "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "InputPath": "$.missing", "End": true}}}]},
            "C": {"Type": "Pass", "End": true}}});
        let (_, next, _) = run(def, json!({}));
        assert!(matches!(next, Next::Failed { error: Some(e), .. } if e == "States.Runtime"));
    }

    #[test]
    fn the_machine_timeout_ends_a_waiting_execution_as_timed_out() {
        let def = json!({"TimeoutSeconds": 2, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}});
        let (events, next, end) = run(def, json!({}));
        assert_eq!(
            one_line(&events),
            ["2 WaitStateEntered (0)", "3 ExecutionTimedOut (0)"]
        );
        assert_eq!(events[1].3, json!({"error": "States.Timeout"}));
        assert_eq!((next, end), (Next::TimedOut, T0 + 2000));
    }

    #[test]
    fn a_result_over_the_payload_limit_fails_right_after_entering() {
        let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
            "Parameters": {"a.$": "$.s", "b.$": "$.s"}, "End": true}}});
        let (events, next, _) = run(def, json!({"s": "x".repeat(140_000)}));
        assert_eq!(
            one_line(&events),
            ["2 PassStateEntered (0)", "3 ExecutionFailed (2)"]
        );
        assert_eq!(
            next,
            Next::Failed {
                error: Some("States.DataLimitExceeded".into()),
                cause: Some("The state/task 'P' returned a result with a size exceeding the maximum number of bytes service limit.".into())
            }
        );
    }

    #[test]
    fn an_endless_loop_stops_at_the_history_limit() {
        let def = json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": false, "Next": "A"}], "Default": "Done"},
            "Done": {"Type": "Succeed"}}});
        let (events, next, _) = run(def, json!({}));
        let last = events.last().unwrap();
        assert_eq!(
            (last.0, last.1, last.2),
            (25_000, "ExecutionFailed", 24_999)
        );
        assert_eq!(
            next,
            Next::Failed {
                error: Some("States.Runtime".into()),
                cause: Some(
                    "The execution reached the maximum number of history events (25000).".into()
                )
            }
        );
    }
}
