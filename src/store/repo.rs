//! The boundary between operations and storage: repositories in domain terms, reached
//! through the [`Tx`] a closure transaction hands out (`store.write(|tx| …)`). Operations
//! know these traits and the records of `domain::records`, never a backend's types; each
//! backend (today SQLite, in `store::sqlite`) implements them once.
//!
//! Every method runs inside the caller's transaction: a write closure's changes commit
//! together or not at all, and a read closure sees one snapshot.

use super::StoreError;
use crate::domain::records::{
    Activity, ActivityKey, Alias, AliasKey, Begin, ChildResult, Closing, Execution, ExecutionKey,
    ExecutionStatus, ExecutionSummary, HistoryEvent, Machine, MachineKey, MapRun, MapRunKey,
    NewActivity, NewExecution, NewMachine, NewMapRun, Revision, RevisionId, RevisionKey, Route,
    Snapshot, TagPair, Version, VersionKey, VersionNumber, Weight,
};
use crate::domain::scope::Scope;

/// Shorthand for repository results.
pub type Result<T> = std::result::Result<T, StoreError>;

/// One transaction's view of every repository.
pub trait Tx {
    fn machines(&self) -> &dyn Machines;
    fn versions(&self) -> &dyn Versions;
    fn aliases(&self) -> &dyn Aliases;
    fn tags(&self) -> &dyn Tags;
    fn admin(&self) -> &dyn Admin;
    fn executions(&self) -> &dyn Executions;
    fn activities(&self) -> &dyn Activities;
    fn map_runs(&self) -> &dyn MapRuns;
}

/// Distributed Map runs, their pending inputs and their children's results.
pub trait MapRuns {
    /// Records a new RUNNING run with every input pending.
    fn insert(&self, run: &NewMapRun<'_>) -> Result<MapRunKey>;
    fn find(&self, arn: &str) -> Result<Option<MapRun>>;
    fn get(&self, key: MapRunKey) -> Result<Option<MapRun>>;
    /// Writes a run's status, stop time, limits, counts, reader and ending as given.
    fn save(&self, run: &MapRun) -> Result<()>;
    /// RUNNING runs with inputs to hand out and fewer than `cap` children running (their
    /// own MaxConcurrency when it is lower), at most `limit`.
    fn ready(&self, cap: u64, limit: usize) -> Result<Vec<MapRun>>;
    /// Removes and returns the pending inputs `from..from + count` (index, JSON text, items).
    fn take_inputs(&self, run: MapRunKey, from: u64, count: u64)
        -> Result<Vec<(u64, String, u64)>>;
    /// An execution's runs in the order they started, after `after`, at most `limit`.
    fn list(
        &self,
        execution: ExecutionKey,
        after: Option<MapRunKey>,
        limit: usize,
    ) -> Result<Vec<MapRun>>;
    /// The closed children's results in input order.
    fn results(&self, run: MapRunKey) -> Result<Vec<ChildResult>>;
    /// The run's RUNNING children.
    fn running_children(&self, run: MapRunKey) -> Result<Vec<Execution>>;
    /// All the run's children, in input order.
    fn children(&self, run: MapRunKey) -> Result<Vec<Execution>>;
    /// Appends inputs to a run whose items were just read (and marks them read).
    fn add_inputs(&self, run: MapRunKey, inputs: &[(String, u64)]) -> Result<()>;
    /// RUNNING runs waiting for their items to be read or their results to be written.
    fn waiting_for_io(&self, limit: usize) -> Result<Vec<MapRun>>;
    /// The items the run's children hold, summed by the children's status.
    fn item_counts(&self, run: MapRunKey) -> Result<Vec<(ExecutionStatus, u64)>>;
}

/// Activities and their tags.
pub trait Activities {
    /// The activity with this ARN, if any.
    fn find(&self, arn: &str) -> Result<Option<Activity>>;
    /// Inserts an activity; its ARN (name in its scope) is unique.
    fn insert(&self, activity: &NewActivity<'_>) -> Result<Activity>;
    /// Deletes an activity with its tags.
    fn delete(&self, activity: ActivityKey) -> Result<()>;
    /// A scope's activities by name, after `after`, at most `limit`.
    fn list(&self, scope: &Scope, after: Option<&str>, limit: usize) -> Result<Vec<Activity>>;
    /// Activities stored in a scope (for the quota).
    fn count(&self, scope: &Scope) -> Result<i64>;
    fn tags(&self, activity: ActivityKey) -> Result<Vec<TagPair>>;
    fn put_tag(&self, activity: ActivityKey, key: &str, value: &str) -> Result<()>;
    fn delete_tag(&self, activity: ActivityKey, key: &str) -> Result<()>;
    /// Indexes a task of `execution` waiting on `activity` (a token already known: nothing).
    fn queue_task(
        &self,
        token: &str,
        activity: &str,
        execution: ExecutionKey,
        at_ms: i64,
    ) -> Result<()>;
    /// Indexes the token of a task no worker takes (`.waitForTaskToken`, `.sync`), waiting
    /// on `resource` (a token already known: nothing).
    fn index_token(
        &self,
        token: &str,
        resource: &str,
        execution: ExecutionKey,
        at_ms: i64,
    ) -> Result<()>;
    /// The oldest task of `activity` no worker has taken: its token and execution.
    fn next_task(&self, activity: &str) -> Result<Option<(String, ExecutionKey)>>;
    /// A worker took the task.
    fn take_task(&self, token: &str) -> Result<()>;
    /// The execution a task token belongs to (tokens stay known while it is stored).
    fn task_execution(&self, token: &str) -> Result<Option<ExecutionKey>>;
    /// Records that the call of the task `token` is about to leave for an outside service.
    fn call_sent(&self, token: &str, execution: ExecutionKey) -> Result<()>;
    /// The call of `token` was answered (or its answer is no longer awaited).
    fn call_answered(&self, token: &str) -> Result<()>;
    /// The tokens of every call sent and not answered.
    fn calls_in_flight(&self) -> Result<Vec<String>>;
}

/// State machines and their revisions.
pub trait Machines {
    /// The machine with this unqualified ARN, if any.
    fn find(&self, arn: &str) -> Result<Option<Machine>>;
    /// Inserts a machine. The ARN is unique: a second machine of one name in one scope
    /// cannot exist.
    fn insert(&self, machine: &NewMachine<'_>) -> Result<Machine>;
    /// Deletes a machine with everything it owns (revisions, versions, aliases, tags and
    /// closed executions).
    fn delete(&self, machine: MachineKey) -> Result<()>;
    /// Marks a machine DELETING: deleted as soon as none of its executions runs.
    fn mark_deleting(&self, machine: MachineKey) -> Result<()>;
    /// A scope's machines named after `after` (all when None), by name in byte order, at
    /// most `limit`.
    fn list(&self, scope: &Scope, after: Option<&str>, limit: usize) -> Result<Vec<Machine>>;
    /// The machine's current revision: its newest.
    fn current_revision(&self, machine: MachineKey) -> Result<Revision>;
    /// The revision with this key.
    fn revision(&self, revision: RevisionKey) -> Result<Revision>;
    /// Appends a revision; `revision_id` is None only for the initial configuration.
    fn add_revision(
        &self,
        machine: MachineKey,
        revision_id: Option<RevisionId>,
        snapshot: &Snapshot,
        created_ms: i64,
    ) -> Result<Revision>;
}

/// Published versions.
pub trait Versions {
    /// The live version of a revision, if it has one.
    fn for_revision(&self, revision: RevisionKey) -> Result<Option<Version>>;
    /// Version `number` of a machine, if it exists.
    fn find(&self, machine: MachineKey, number: VersionNumber) -> Result<Option<Version>>;
    /// How many live versions a machine has (for the quota), in constant time.
    fn count(&self, machine: MachineKey) -> Result<i64>;
    /// Publishes `revision` under the machine's next number, which is never reused. A
    /// revision has at most one live version: a second publish of it cannot insert.
    fn publish(
        &self,
        machine: MachineKey,
        revision: RevisionKey,
        description: Option<&str>,
        created_ms: i64,
    ) -> Result<Version>;
    /// Deletes a version; its number stays issued.
    fn delete(&self, version: VersionKey) -> Result<()>;
    /// A machine's versions numbered below `before` (all when None), newest first.
    fn list(
        &self,
        machine: MachineKey,
        before: Option<VersionNumber>,
        limit: usize,
    ) -> Result<Vec<Version>>;
}

/// Aliases and their routes.
pub trait Aliases {
    /// The alias `name` of a machine, if it exists.
    fn find(&self, machine: MachineKey, name: &str) -> Result<Option<Alias>>;
    /// An alias's routes in the order they were given.
    fn routes(&self, alias: AliasKey) -> Result<Vec<Route>>;
    /// How many aliases a machine has (for the quota).
    fn count(&self, machine: MachineKey) -> Result<i64>;
    /// Inserts an alias routing to `(version, weight)` pairs, in order.
    fn insert(
        &self,
        machine: MachineKey,
        name: &str,
        description: Option<&str>,
        routes: &[(VersionKey, Weight)],
        created_ms: i64,
    ) -> Result<Alias>;
    /// Replaces an alias's routes, in order.
    fn set_routes(&self, alias: AliasKey, routes: &[(VersionKey, Weight)]) -> Result<()>;
    /// Sets an alias's description and update time.
    fn update(&self, alias: AliasKey, description: Option<&str>, updated_ms: i64) -> Result<()>;
    /// Deletes an alias; the versions it routed to stay.
    fn delete(&self, alias: AliasKey) -> Result<()>;
    /// A machine's aliases after `after` (all when None), oldest first; with `routing_to`,
    /// only those that route to that version.
    fn list(
        &self,
        machine: MachineKey,
        routing_to: Option<VersionKey>,
        after: Option<AliasKey>,
        limit: usize,
    ) -> Result<Vec<Alias>>;
    /// Names of the aliases that route to a version, oldest first.
    fn names_routing_to(&self, version: VersionKey) -> Result<Vec<String>>;
}

/// Tags of state machines.
pub trait Tags {
    /// A machine's tags by key.
    fn list(&self, machine: MachineKey) -> Result<Vec<TagPair>>;
    /// Sets a tag, replacing the value of an existing key.
    fn put(&self, machine: MachineKey, key: &str, value: &str) -> Result<()>;
    /// Removes a tag; a key that is not there is not an error.
    fn delete(&self, machine: MachineKey, key: &str) -> Result<()>;
}

/// Operator features: reset and the figures `/metrics` reports.
pub trait Admin {
    /// Deletes every state machine and activity of every account and region, with all they own.
    fn reset(&self) -> Result<()>;
    /// Size of the database in bytes.
    fn database_bytes(&self) -> Result<i64>;
    /// Versions stored, across all accounts and regions.
    fn versions_stored(&self) -> Result<i64>;
}

/// Executions and their histories.
pub trait Executions {
    /// Records a new execution with its first events (`ExecutionStarted` and whatever its
    /// first transitions appended), RUNNING or already closed. The name is unique per
    /// machine: `None` when the machine already has an execution of that name.
    fn start(
        &self,
        execution: &NewExecution<'_>,
        events: &[HistoryEvent],
        begin: Begin<'_>,
    ) -> Result<Option<ExecutionKey>>;
    /// The execution with this ARN, if any.
    fn find(&self, arn: &str) -> Result<Option<Execution>>;
    /// The execution with this key, if any.
    fn get(&self, key: ExecutionKey) -> Result<Option<Execution>>;
    /// The execution of `machine_arn` called `name`, if any.
    fn find_by_name(&self, machine_arn: &str, name: &str) -> Result<Option<Execution>>;
    /// Appends events (numbered on from the last, no gaps) and moves the position and due
    /// time in the same transaction — only if the execution is still RUNNING with
    /// `expected_last` as its last event and `expected_moves` position writes (the reading the
    /// change was computed from); returns whether it was.
    fn advance(
        &self,
        execution: ExecutionKey,
        expected_last: u64,
        expected_moves: u64,
        events: &[HistoryEvent],
        position: &str,
        due_ms: i64,
    ) -> Result<bool>;
    /// Appends the last events and closes the execution, on the same condition as
    /// [`Executions::advance`]. Use [`crate::store::close_execution`], which also finishes a
    /// pending deletion of the machine.
    fn close(
        &self,
        execution: ExecutionKey,
        expected_last: u64,
        expected_moves: u64,
        events: &[HistoryEvent],
        closing: &Closing,
    ) -> Result<bool>;
    /// Reopens a FAILED, TIMED_OUT or ABORTED execution that has a resume position (with
    /// `expected_last` as its last event): RUNNING again at `position`, due now, its events
    /// appended and its redrive counted. Returns whether it was.
    fn redrive(
        &self,
        execution: ExecutionKey,
        expected_last: u64,
        events: &[HistoryEvent],
        position: &str,
        now_ms: i64,
    ) -> Result<bool>;
    /// Events after `after` in id order (reversed: before `after`, descending), at most `limit`.
    fn history(
        &self,
        execution: ExecutionKey,
        after: Option<u64>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<HistoryEvent>>;
    /// A machine's executions newest first, after the (start time, key) cursor, optionally
    /// only those with `status`, only those started through `version_or_alias`, and only
    /// those redriven (or never redriven).
    #[allow(clippy::too_many_arguments)]
    fn list(
        &self,
        machine_arn: &str,
        version_or_alias: Option<&str>,
        status: Option<ExecutionStatus>,
        redriven: Option<bool>,
        after: Option<(i64, ExecutionKey)>,
        limit: usize,
    ) -> Result<Vec<ExecutionSummary>>;
    /// A map run's children newest first, after the (start time, key) cursor, optionally
    /// only those with `status`.
    fn list_children(
        &self,
        run: MapRunKey,
        status: Option<ExecutionStatus>,
        after: Option<(i64, ExecutionKey)>,
        limit: usize,
    ) -> Result<Vec<ExecutionSummary>>;
    /// RUNNING executions due at `now_ms` (a RUNNING execution always has a due time: when
    /// it started, or when its last step said), soonest first.
    fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Execution>>;
    /// The earliest due time among RUNNING executions.
    fn next_due(&self) -> Result<Option<i64>>;
    /// How many executions of `machine_arn` are RUNNING.
    fn running(&self, machine_arn: &str) -> Result<i64>;
}

/// Closes an execution (on the condition of [`Executions::close`]); when its machine is
/// DELETING and no execution of it runs any more, the machine goes too, with everything it
/// owns (executions-api.md §12). Returns whether the execution was closed here.
pub fn close_execution(
    tx: &dyn Tx,
    execution: ExecutionKey,
    machine_arn: &str,
    expected_last: u64,
    expected_moves: u64,
    events: &[HistoryEvent],
    closing: &Closing,
) -> Result<bool> {
    if !tx
        .executions()
        .close(execution, expected_last, expected_moves, events, closing)?
    {
        return Ok(false);
    }
    if let Some(m) = tx.machines().find(machine_arn)? {
        if m.deleting && tx.executions().running(machine_arn)? == 0 {
            tx.machines().delete(m.key)?;
        }
    }
    Ok(true)
}

/// Declares a backend's view of one transaction, `$name<'a>`: one repository of each of the
/// backend's modules (`machines::Repo`, `versions::Repo`, …, as each backend names them),
/// all over the same `&'a $conn`, and its [`Tx`] implementation.
macro_rules! backend_tx {
    ($(#[$doc:meta])* $name:ident over $conn:ty) => {
        $(#[$doc])*
        pub(super) struct $name<'a> {
            machines: machines::Repo<'a>,
            versions: versions::Repo<'a>,
            aliases: aliases::Repo<'a>,
            tags: tags::Repo<'a>,
            admin: admin::Repo<'a>,
            executions: executions::Repo<'a>,
            activities: activities::Repo<'a>,
            map_runs: map_runs::Repo<'a>,
        }

        impl<'a> $name<'a> {
            pub(super) fn new(c: &'a $conn) -> Self {
                $name {
                    machines: machines::Repo(c),
                    versions: versions::Repo(c),
                    aliases: aliases::Repo(c),
                    tags: tags::Repo(c),
                    admin: admin::Repo(c),
                    executions: executions::Repo(c),
                    activities: activities::Repo(c),
                    map_runs: map_runs::Repo(c),
                }
            }
        }

        impl $crate::store::repo::Tx for $name<'_> {
            fn machines(&self) -> &dyn $crate::store::repo::Machines {
                &self.machines
            }
            fn versions(&self) -> &dyn $crate::store::repo::Versions {
                &self.versions
            }
            fn aliases(&self) -> &dyn $crate::store::repo::Aliases {
                &self.aliases
            }
            fn tags(&self) -> &dyn $crate::store::repo::Tags {
                &self.tags
            }
            fn admin(&self) -> &dyn $crate::store::repo::Admin {
                &self.admin
            }
            fn executions(&self) -> &dyn $crate::store::repo::Executions {
                &self.executions
            }
            fn activities(&self) -> &dyn $crate::store::repo::Activities {
                &self.activities
            }
            fn map_runs(&self) -> &dyn $crate::store::repo::MapRuns {
                &self.map_runs
            }
        }
    };
}
pub(crate) use backend_tx;
