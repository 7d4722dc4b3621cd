//! What sfnlite keeps, in domain terms: state machines, their revisions, versions, aliases
//! and routes, as the store hands them to operations. The keys are the store's own
//! identities, opaque to everything else (only the store mints them); everything else is a
//! value the API speaks of. No SQL and no backend type appears here.

use std::fmt;
use std::str::FromStr;

/// A version's number: issued from 1, never reused for the same machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VersionNumber(pub i64);

impl fmt::Display for VersionNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for VersionNumber {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(VersionNumber)
    }
}

/// A route's share of an alias's executions, in percent (0–100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weight(pub i64);

/// A revision's public id (a UUID); the initial configuration has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionId(pub String);

impl RevisionId {
    /// A fresh id for a new revision.
    pub fn new_random() -> Self {
        RevisionId(uuid::Uuid::new_v4().to_string())
    }
}

/// `StateMachineType`, fixed at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineType {
    Standard,
    Express,
}

impl MachineType {
    /// The model's values, in its order.
    pub const NAMES: &'static [&'static str] = &["STANDARD", "EXPRESS"];

    pub fn as_str(self) -> &'static str {
        match self {
            MachineType::Standard => "STANDARD",
            MachineType::Express => "EXPRESS",
        }
    }

    /// The `type` member of a request, already checked against [`Self::NAMES`]; absent
    /// means STANDARD.
    pub fn of_member(member: Option<&str>) -> Self {
        member
            .and_then(Self::parse)
            .unwrap_or(MachineType::Standard)
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "STANDARD" => Some(MachineType::Standard),
            "EXPRESS" => Some(MachineType::Express),
            _ => None,
        }
    }
}

macro_rules! keys {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    )*};
}

keys!(
    /// The store's identity of an execution; executions list newest first by start time, then key.
    ExecutionKey,
    /// The store's identity of a map run; an execution's runs list in key order.
    MapRunKey,
    /// The store's identity of a state machine.
    MachineKey,
    /// The store's identity of a revision (the initial configuration included).
    RevisionKey,
    /// The store's identity of a version.
    VersionKey,
    /// The store's identity of an alias; aliases list in the order of these keys.
    AliasKey,
    /// The store's identity of an activity.
    ActivityKey,
);

/// An activity: a task queue workers poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub key: ActivityKey,
    pub arn: String,
    pub name: String,
    pub created_ms: i64,
    /// The EncryptionConfiguration, normalised JSON.
    pub encryption: String,
}

/// The fields of an activity being created.
#[derive(Debug, Clone)]
pub struct NewActivity<'a> {
    pub arn: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    pub name: &'a str,
    pub created_ms: i64,
    pub encryption: &'a str,
}

/// A state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub key: MachineKey,
    /// The unqualified ARN.
    pub arn: String,
    pub name: String,
    pub kind: MachineType,
    pub created_ms: i64,
    /// Deleted while executions ran: it goes when the last of them ends.
    pub deleting: bool,
}

/// The fields of a machine being created.
#[derive(Debug, Clone)]
pub struct NewMachine<'a> {
    pub arn: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    pub name: &'a str,
    pub kind: MachineType,
    pub created_ms: i64,
}

/// The configuration a revision snapshots. Logging, tracing and encryption are normalised
/// JSON texts, so two equal configurations are equal strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub definition: String,
    pub role_arn: String,
    pub logging: String,
    pub tracing: String,
    pub encryption: String,
}

/// An immutable snapshot of a machine's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub key: RevisionKey,
    /// None for the initial configuration (`INITIAL` in preconditions).
    pub revision_id: Option<RevisionId>,
    pub snapshot: Snapshot,
    pub created_ms: i64,
}

impl Revision {
    /// The public revision id, as a precondition or DescribeStateMachine names it.
    pub fn public_id(&self) -> Option<&str> {
        self.revision_id.as_ref().map(|r| r.0.as_str())
    }
}

/// A published, numbered version of one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub key: VersionKey,
    pub number: VersionNumber,
    pub revision: RevisionKey,
    pub description: Option<String>,
    pub created_ms: i64,
}

/// An alias of a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub key: AliasKey,
    pub name: String,
    pub description: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One route of an alias: the version it sends executions to, and its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub version: VersionKey,
    pub number: VersionNumber,
    pub weight: Weight,
}

/// The route an execution started through an alias takes: a uniform `roll` picks each
/// route in proportion to its weight; a route of weight 0 is never taken.
pub fn pick_route(routes: &[Route], roll: u64) -> Option<&Route> {
    let total: i64 = routes.iter().map(|r| r.weight.0.max(0)).sum();
    if total <= 0 {
        return None;
    }
    let mut point = (roll % total as u64) as i64;
    for r in routes {
        if point < r.weight.0 {
            return Some(r);
        }
        point -= r.weight.0.max(0);
    }
    None
}

/// A tag of a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPair {
    pub key: String,
    pub value: String,
}

/// An execution's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "RUNNING" => ExecutionStatus::Running,
            "SUCCEEDED" => ExecutionStatus::Succeeded,
            "FAILED" => ExecutionStatus::Failed,
            "TIMED_OUT" => ExecutionStatus::TimedOut,
            "ABORTED" => ExecutionStatus::Aborted,
            _ => return None,
        })
    }
}

/// An execution as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub key: ExecutionKey,
    pub arn: String,
    pub machine_arn: String,
    pub name: String,
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    pub revision: RevisionKey,
    pub status: ExecutionStatus,
    /// The input exactly as sent.
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub trace_header: Option<String>,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    /// The interpreter's position (engine-defined JSON); None once closed.
    pub position: Option<String>,
    pub due_ms: Option<i64>,
    pub last_event: u64,
    /// How many times its position was written: steps and workers' updates alike.
    pub moves: u64,
    /// The token of the parent's `.sync` task waiting for this execution to end.
    pub parent_token: Option<String>,
    /// See [`Closing::resume`].
    pub resume: Option<String>,
    pub redrive_count: u64,
    pub redrive_ms: Option<i64>,
    /// A Distributed Map's child: its run and which of the run's inputs it runs.
    pub map_run: Option<ChildOf>,
}

/// Where a map run's child execution stands in its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildOf {
    pub run: MapRunKey,
    /// The position of its input among the run's inputs.
    pub index: u64,
    /// Items its input holds (1, or a batch's size).
    pub items: u64,
}

impl Execution {
    /// The name of the machine it runs (the last part of the machine ARN).
    pub fn machine_name(&self) -> &str {
        self.machine_arn.rsplit(':').next().unwrap_or("")
    }
}

/// What a listing shows of an execution (ListExecutions reads nothing more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionSummary {
    pub key: ExecutionKey,
    pub arn: String,
    pub machine_arn: String,
    pub name: String,
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    pub status: ExecutionStatus,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    pub redrive_count: u64,
    pub redrive_ms: Option<i64>,
    /// ListExecutions of a map run shows each child's run and item count.
    pub map_run: Option<ChildOf>,
}

/// The fields of an execution being started.
#[derive(Debug, Clone)]
pub struct NewExecution<'a> {
    pub arn: &'a str,
    pub machine_arn: &'a str,
    pub name: &'a str,
    pub version_arn: Option<&'a str>,
    pub alias_arn: Option<&'a str>,
    pub revision: RevisionKey,
    pub input: &'a str,
    pub trace_header: Option<&'a str>,
    pub start_ms: i64,
    /// See [`Execution::parent_token`].
    pub parent_token: Option<&'a str>,
    /// See [`Execution::map_run`].
    pub map_run: Option<ChildOf>,
}

/// How a new execution is recorded: still RUNNING at an engine position (due at `due_ms`), or
/// already closed — StartExecution runs the first time-free transitions before it writes, so
/// a short workflow is stored once, finished.
#[derive(Debug, Clone, Copy)]
pub enum Begin<'a> {
    Running { position: &'a str, due_ms: i64 },
    Closed(&'a Closing),
}

/// One history event as stored: its details are the `{"<member>": {...}}` JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEvent {
    pub id: u64,
    pub previous_id: u64,
    pub kind: String,
    pub timestamp_ms: i64,
    pub details: Option<String>,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closing {
    pub status: ExecutionStatus,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub stop_ms: i64,
    /// Where a redrive resumes (engine JSON), for FAILED, TIMED_OUT and ABORTED executions.
    pub resume: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(n: i64, weight: i64) -> Route {
        Route {
            version: VersionKey(n),
            number: VersionNumber(n),
            weight: Weight(weight),
        }
    }

    #[test]
    fn routes_are_taken_in_proportion_to_their_weights() {
        let routes = [route(1, 30), route(2, 70)];
        let taken: Vec<i64> = (0..100)
            .map(|roll| pick_route(&routes, roll).unwrap().number.0)
            .collect();
        assert_eq!(taken.iter().filter(|n| **n == 1).count(), 30);
        assert_eq!(taken.iter().filter(|n| **n == 2).count(), 70);
        let only = [route(1, 0), route(2, 100)];
        assert!((0..1000).all(|roll| pick_route(&only, roll).unwrap().number.0 == 2));
    }
}

/// A map run's status (DescribeMapRun).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapRunStatus {
    Running,
    Succeeded,
    Failed,
    Aborted,
}

impl MapRunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MapRunStatus::Running => "RUNNING",
            MapRunStatus::Succeeded => "SUCCEEDED",
            MapRunStatus::Failed => "FAILED",
            MapRunStatus::Aborted => "ABORTED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "RUNNING" => MapRunStatus::Running,
            "SUCCEEDED" => MapRunStatus::Succeeded,
            "FAILED" => MapRunStatus::Failed,
            "ABORTED" => MapRunStatus::Aborted,
            _ => return None,
        })
    }
}

/// How many of a map run's children (or items) are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MapRunCounts {
    /// Inputs handed to children so far (the rest are pending).
    pub started: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub aborted: u64,
}

/// A Distributed Map's run, as stored: what its children run, its limits (UpdateMapRun
/// changes them) and its counts.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRun {
    pub key: MapRunKey,
    pub arn: String,
    /// The execution whose Map state started it.
    pub execution: ExecutionKey,
    pub map_state: String,
    pub revision: RevisionKey,
    /// The children's state machine ARN (`…:stateMachine:<machine>/<label>`).
    pub machine_arn: String,
    pub express: bool,
    pub status: MapRunStatus,
    /// 0: as many as the service allows.
    pub max_concurrency: u64,
    pub tolerated_count: Option<u64>,
    pub tolerated_percentage: Option<f64>,
    /// Inputs (children) in all, and the items they hold.
    pub total: u64,
    pub items: u64,
    pub counts: MapRunCounts,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    /// What to read its items from (engine-defined JSON), until they are read.
    pub reader: Option<String>,
    /// Where to write its results (engine-defined JSON), when it has a ResultWriter.
    pub writer: Option<String>,
    /// Its outcome (engine-defined JSON), decided and waiting for the results to be written.
    pub ending: Option<String>,
    /// Redrives so far, the last one's time, and the failed children a redrive could not
    /// run again.
    pub redrive_count: u64,
    pub redrive_ms: Option<i64>,
    pub not_redrivable: u64,
}

/// A map run being created, with its children's inputs (JSON text, and the items each holds).
#[derive(Debug, Clone)]
pub struct NewMapRun<'a> {
    pub arn: &'a str,
    pub execution: ExecutionKey,
    pub map_state: &'a str,
    pub revision: RevisionKey,
    pub machine_arn: &'a str,
    pub express: bool,
    pub max_concurrency: u64,
    pub tolerated_count: Option<u64>,
    pub tolerated_percentage: Option<f64>,
    pub inputs: &'a [(String, u64)],
    pub start_ms: i64,
    pub reader: Option<&'a str>,
    pub writer: Option<&'a str>,
}

/// What a closed child left for its run's result, in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildResult {
    pub status: ExecutionStatus,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}
