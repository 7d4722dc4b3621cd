//! The typed model of a definition: what the validator produced and the interpreter runs.
//! Every value here has passed validation, so nothing downstream re-checks shapes: a
//! `Transition` names a state of its own scope, a `Path` parsed, a `Call` has its arity.

use serde_json::Value;

use super::intrinsic::Call;
use super::path::Path;
use super::resource::Resource;

/// `QueryLanguage` of the machine or of one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    JsonPath,
    Jsonata,
}

/// A whole definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub comment: Option<String>,
    pub version: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub query_language: QueryLanguage,
    /// The top-level scope.
    pub machine: Scope,
}

/// A `{StartAt, States}` scope: the top level, a Parallel branch or a Map processor.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub start_at: String,
    /// In definition order.
    pub states: Vec<State>,
    /// Map processors only: `ProcessorConfig`.
    pub processor: Option<ProcessorConfig>,
}

impl Scope {
    /// The state called `name` in this scope.
    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|s| s.name == name)
    }
}

/// `ProcessorConfig` of a Map's ItemProcessor.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessorConfig {
    pub distributed: bool,
    /// `STANDARD` or `EXPRESS` child executions (distributed mode only).
    pub execution_type: Option<String>,
}

/// One state.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub name: String,
    pub comment: Option<String>,
    /// The language this state's fields are written in (its own, else the machine's).
    pub query_language: QueryLanguage,
    /// `InputPath`: `Some(None)` is an explicit `null` (the input becomes `{}`).
    pub input_path: Option<Option<Path>>,
    /// `OutputPath`: `Some(None)` is an explicit `null` (the output becomes `{}`).
    pub output_path: Option<Option<Path>>,
    /// JSONata `Output`.
    pub output: Option<Value>,
    /// `Assign`: a payload template (JSONPath states) or the JSONata template as written.
    pub assign: Option<Template>,
    pub kind: StateKind,
}

/// Where control goes after a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Next(String),
    End,
}

/// A payload template: `Parameters`, `ItemSelector`, `ResultSelector`, `Credentials` (JSONPath
/// states), with `.$` fields parsed into paths and intrinsic calls.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    Value(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    /// `"key.$": "$.path"` (the key is stored without `.$`).
    Path(Path),
    /// `"key.$": "States.Fn(…)"`.
    Call(Call),
}

/// `ResultPath`: where a result goes in the input; `None` discards the result.
pub type ResultPath = Option<Path>;

/// The body of a state, by type.
#[derive(Debug, Clone, PartialEq)]
pub enum StateKind {
    Pass {
        transition: Transition,
        parameters: Option<Template>,
        result: Option<Value>,
        result_path: Option<ResultPath>,
    },
    Task(Box<Task>),
    Choice {
        choices: Vec<ChoiceRule>,
        default: Option<String>,
    },
    Wait {
        transition: Transition,
        wait: WaitFor,
    },
    Succeed,
    Fail {
        error: Option<Text>,
        cause: Option<Text>,
    },
    Parallel(Box<Parallel>),
    Map(Box<MapState>),
}

/// A string field that may be a literal, a path (`…Path` fields) or a JSONata expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    Literal(String),
    Path(Path),
    Call(Call),
    Jsonata(String),
}

/// A number field that may be a literal, a path or a JSONata expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    Literal(Value),
    Path(Path),
    Jsonata(String),
}

/// A Task state.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub transition: Transition,
    pub resource: Resource,
    pub parameters: Option<Template>,
    /// JSONata `Arguments`.
    pub arguments: Option<Value>,
    pub result_selector: Option<Template>,
    pub result_path: Option<ResultPath>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub timeout_seconds: Option<Number>,
    pub heartbeat_seconds: Option<Number>,
    pub credentials: Option<Template>,
}

/// A Parallel state.
#[derive(Debug, Clone, PartialEq)]
pub struct Parallel {
    pub transition: Transition,
    pub branches: Vec<Scope>,
    pub parameters: Option<Template>,
    pub arguments: Option<Value>,
    pub result_selector: Option<Template>,
    pub result_path: Option<ResultPath>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

/// A Map state.
#[derive(Debug, Clone, PartialEq)]
pub struct MapState {
    pub transition: Transition,
    pub processor: Scope,
    pub items_path: Option<Path>,
    /// JSONata `Items`.
    pub items: Option<Value>,
    pub item_selector: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: Option<ResultPath>,
    pub max_concurrency: Option<Number>,
    pub tolerated_failure_count: Option<Number>,
    pub tolerated_failure_percentage: Option<Number>,
    pub label: Option<String>,
    pub item_reader: Option<S3Io>,
    pub item_batcher: Option<Value>,
    /// `ItemBatcher.BatchInput`, a payload template (literal in JSONata states).
    pub batch_input: Option<Template>,
    pub result_writer: Option<S3Io>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

impl MapState {
    /// Whether its results go to S3 (a ResultWriter with a Resource): then its result is
    /// where they went, an object, instead of the array of results.
    pub fn writes_results(&self) -> bool {
        self.result_writer
            .as_ref()
            .is_some_and(|w| w.resource.is_some())
    }
}

/// A Distributed Map's `ItemReader` or `ResultWriter`: the S3 resource, its `Parameters` (a
/// payload template; in JSONata states `Arguments`, kept literal) and its `ReaderConfig` or
/// `WriterConfig` as written (their values may be paths or JSONata, read at run time).
#[derive(Debug, Clone, PartialEq)]
pub struct S3Io {
    pub resource: Option<String>,
    pub parameters: Option<Template>,
    pub config: Value,
}

/// How a Wait state waits.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitFor {
    Seconds(Number),
    Timestamp(Text),
}

/// `JitterStrategy` of a retrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    None,
    Full,
}

/// One `Retry` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: u64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<u64>,
    pub jitter: Jitter,
}

/// One `Catch` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    pub result_path: Option<ResultPath>,
    pub assign: Option<Template>,
    pub output: Option<Value>,
}

/// A top-level Choice rule: a condition and where it leads.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRule {
    pub condition: Condition,
    pub next: String,
    pub assign: Option<Template>,
    pub output: Option<Value>,
}

/// A Choice condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    /// `Variable` compared by `operator` with a literal or (for `…Path` operators) a path.
    Compare {
        variable: Path,
        operator: Operator,
        operand: Operand,
    },
    /// JSONata `Condition`: an expression or a literal boolean.
    Jsonata(Value),
}

/// The comparison operators of a JSONPath Choice rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    StringLessThan,
    StringGreaterThan,
    StringLessThanEquals,
    StringGreaterThanEquals,
    StringMatches,
    NumericEquals,
    NumericLessThan,
    NumericGreaterThan,
    NumericLessThanEquals,
    NumericGreaterThanEquals,
    BooleanEquals,
    TimestampEquals,
    TimestampLessThan,
    TimestampGreaterThan,
    TimestampLessThanEquals,
    TimestampGreaterThanEquals,
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

/// What a comparison compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Value),
    Path(Path),
}
