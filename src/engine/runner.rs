//! Drives executions through the store: takes the RUNNING executions that are due, runs
//! one step of each, and commits the steps' history events together with each new position
//! (or closing) in one write — so after a crash every execution resumes from its last
//! committed step, with its history continuing at the next event id, and the steps of many
//! executions share one commit. Waiting is the execution's due time in the store; nothing
//! sleeps per execution.
//!
//! The clock is read here, once per pass, and handed to the pure [`super::step`].

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{watch, Notify};

use super::calls::Calls;
use super::definitions::{Definitions, Loaded};
use super::intrinsics::Entropy;
use super::mocks::Mocks;
use super::outside::{self, Outside};
use super::step::{self, Env, Event, ExecutionInfo, Next, Progress};
use crate::asl::Definition;
use crate::domain::records::{
    Closing, Execution, ExecutionKey, ExecutionStatus, HistoryEvent, MapRun, MapRunKey,
};
use crate::store::{Store, StoreError, Tx};

/// Longest the runner sleeps without looking at the store: bounds the lateness a jump of
/// the wall clock could cause.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// How often a replica on a shared database looks for calls a gone replica left in flight.
const RECOVER_EVERY: Duration = Duration::from_secs(2);

/// State transitions one execution may take in one pass before its commit. Transitions that
/// need no time (Pass, Choice, a Map of them) run back to back in memory and are committed
/// together — events and final position in one transaction, so a crash keeps all or none
/// of them, and none was visible before; a Wait or back-off ends the run at once.
const MAX_TRANSITIONS: usize = 64;

/// Events one run of transitions may add before it commits (a wide Map adds many per step).
const MAX_EVENTS_AT_ONCE: usize = 512;

/// Children map runs may start in one commit (each with its first transitions).
const MAX_CHILDREN_AT_ONCE: u64 = 512;

/// Randomness for intrinsic functions, from the operating system's generator.
pub struct SystemEntropy;

impl Entropy for SystemEntropy {
    fn next_u64(&mut self) -> u64 {
        let b = *uuid::Uuid::new_v4().as_bytes();
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }
}

/// Why a pass could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How the runner paces itself.
#[derive(Debug, Clone, Copy)]
pub struct RunnerOptions {
    /// Executions stepped in one pass, whose steps share one commit.
    pub batch: usize,
    /// Multiplies every Wait `Seconds`/`SecondsPath` (a test aid; 1 in production).
    pub time_scale: f64,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            batch: 256,
            time_scale: 1.0,
        }
    }
}

/// One execution's step, computed and waiting to be committed: `execution` as it was read
/// (its last event id and position writes are the step's condition, see
/// [`repo::Executions::advance`]).
struct Outcome {
    execution: Execution,
    machine_name: String,
    events: Vec<HistoryEvent>,
    next: Applied,
    now: i64,
}

/// A task token to index: its task, what it waits on, and whether a worker may take it
/// (activities) or only an answer on the token reaches it (callbacks, `.sync`).
#[derive(Debug, Clone)]
pub struct TaskIndex {
    pub token: String,
    pub resource: String,
    pub for_workers: bool,
}

/// How a step moves an execution, in the store's terms.
pub enum Applied {
    /// Still running at `position`, due at `due`; `tasks` are the tokens of its open tasks,
    /// for GetActivityTask and SendTask* to find; `calls` says it has calls to make.
    Advance {
        position: String,
        due: i64,
        tasks: Vec<TaskIndex>,
        calls: bool,
        /// It plans map runs to create in the same commit.
        map_runs: bool,
    },
    Close(Closing),
}

impl Applied {
    /// Whether committing this queues a task a worker may take.
    pub fn queues_work(&self) -> bool {
        matches!(self, Applied::Advance { tasks, .. } if tasks.iter().any(|t| t.for_workers))
    }
}

/// Steps due executions; keeps parsed definitions per revision.
pub struct Runner {
    store: Store,
    definitions: Arc<Definitions>,
    clock: Box<dyn FnMut() -> i64 + Send + Sync>,
    options: RunnerOptions,
    /// Told after a commit that queued activity tasks.
    tasks: Arc<Notify>,
    /// Makes the calls of integrations sfnlite serves; without it they are not served.
    calls: Option<Arc<dyn Calls>>,
    /// The mock configuration in force, for executions started with a test case.
    mocks: Mocks,
    /// Makes calls to outside services; without it they fail as unreachable.
    outside: Option<Arc<dyn Outside>>,
    /// Woken when an outside call's answer was recorded (its step may have made new calls).
    wake: Option<Arc<Notify>>,
    /// Outside calls in flight with their answers' writes: a graceful stop waits for them
    /// (within the shutdown grace), so only a crash leaves calls whose fate is unknown.
    in_flight: tokio::task::JoinSet<()>,
    /// Map runs whose S3 read or write is being made (so that a pass does not start it twice).
    io_busy: Arc<std::sync::Mutex<HashSet<MapRunKey>>>,
}

/// Map runs whose S3 I/O one pass starts at most.
const IO_AT_ONCE: usize = 16;

/// Milliseconds since the epoch, from the system clock.
pub fn system_clock() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

impl Runner {
    /// A runner on `store` reading time from `clock` (milliseconds since the epoch).
    pub fn new(store: Store, clock: impl FnMut() -> i64 + Send + Sync + 'static) -> Self {
        Self::with_options(store, clock, RunnerOptions::default())
    }

    pub fn with_options(
        store: Store,
        clock: impl FnMut() -> i64 + Send + Sync + 'static,
        options: RunnerOptions,
    ) -> Self {
        Runner {
            store,
            definitions: Arc::new(Definitions::default()),
            clock: Box::new(clock),
            options,
            tasks: Arc::new(Notify::new()),
            calls: None,
            mocks: Mocks::default(),
            outside: None,
            wake: None,
            in_flight: tokio::task::JoinSet::new(),
            io_busy: Arc::default(),
        }
    }

    /// This runner, calling outside services through `outside`.
    pub fn with_outside(mut self, outside: Arc<dyn Outside>) -> Self {
        self.outside = Some(outside);
        self
    }

    /// This runner, answering mocked states from `mocks`.
    pub fn with_mocks(mut self, mocks: Mocks) -> Self {
        self.mocks = mocks;
        self
    }

    /// This runner, making integration calls through `calls`.
    pub fn with_calls(mut self, calls: Arc<dyn Calls>) -> Self {
        self.calls = Some(calls);
        self
    }

    /// This runner, telling `tasks` whenever a commit queued activity tasks.
    pub fn with_task_signal(mut self, tasks: Arc<Notify>) -> Self {
        self.tasks = tasks;
        self
    }

    /// This runner, sharing its parsed definitions with others (StartExecution).
    pub fn with_definitions(mut self, definitions: Arc<Definitions>) -> Self {
        self.definitions = definitions;
        self
    }

    /// Runs one step of every execution due now (at most a batch), committed together;
    /// returns how many steps were taken.
    pub async fn pass(&mut self) -> Result<usize, RunnerError> {
        let now = (self.clock)();
        let batch = self.options.batch.max(1);
        // The due executions and, read in the same snapshot, the revisions they run: a
        // revision key can be reused once its machine is deleted, so the cache is checked
        // against the text, never trusted on the key alone.
        let (due, revisions, map_states, ready, io) = self
            .store
            .read(move |tx| {
                let due = tx.executions().due(now, batch)?;
                let io = tx.map_runs().waiting_for_io(IO_AT_ONCE)?;
                let ready = tx.map_runs().ready(super::map_runs::MAX_RUNNING, batch)?;
                let mut revisions = HashMap::new();
                for r in due
                    .iter()
                    .map(|e| e.revision)
                    .chain(ready.iter().map(|r| r.revision))
                {
                    if let std::collections::hash_map::Entry::Vacant(slot) = revisions.entry(r) {
                        slot.insert(tx.machines().revision(r)?.snapshot);
                    }
                }
                // The Map state each due child's run belongs to, read once per run.
                let mut map_states = HashMap::new();
                for c in due.iter().filter_map(|e| e.map_run) {
                    if let std::collections::hash_map::Entry::Vacant(slot) = map_states.entry(c.run)
                    {
                        if let Some(run) = tx.map_runs().get(c.run)? {
                            slot.insert(run.map_state);
                        }
                    }
                }
                let ready: Vec<_> = ready.into_iter().map(|r| r.key).collect();
                Ok::<_, StoreError>((due, revisions, map_states, ready, io))
            })
            .await?;
        self.dispatch_io(io);
        if due.is_empty() && ready.is_empty() {
            return Ok(0);
        }
        let mut loaded = HashMap::new();
        for (key, snapshot) in revisions {
            let l = self
                .definitions
                .load(key, &snapshot)
                .map_err(StoreError::internal)?;
            loaded.insert(key, l);
        }
        let named: Vec<String> = loaded
            .values()
            .flat_map(|l| l.activities.iter().cloned())
            .collect();
        let existing = if named.is_empty() {
            HashSet::new()
        } else {
            self.store
                .read(move |tx| existing_activities(tx, &named))
                .await?
        };
        let mocks = self.mocks.current();
        let mut outcomes = Vec::with_capacity(due.len());
        for execution in due {
            let l = loaded.get(&execution.revision).cloned().ok_or_else(|| {
                StoreError::internal(format!("revision {} not loaded", execution.revision))
            })?;
            let map_state = execution
                .map_run
                .and_then(|c| map_states.get(&c.run))
                .map(String::as_str);
            outcomes.push(step_execution(
                execution,
                &l,
                map_state,
                &existing,
                &mocks,
                self.options.time_scale,
                now,
            ));
        }
        let steps = outcomes.len();
        let calls = self.calls.clone();
        let outside = self.outside.clone();
        let (definitions, time_scale) = (self.definitions.clone(), self.options.time_scale);
        let (queued, sent, handed) = self
            .store
            .write_once(move |tx| {
                // Whether each machine is being deleted, looked up once per commit.
                let mut deleting = HashMap::new();
                let mut queued = false;
                let mut callers = Callers {
                    calls: calls.as_deref(),
                    outside: outside.as_deref(),
                    sent: Vec::new(),
                };
                for o in outcomes {
                    queued |= apply(tx, o, &mut deleting, Some(&mut callers))?;
                }
                // Map runs with inputs to hand out start children, a bounded number per
                // commit so that one wide run does not hold the writer.
                let s = Stepping {
                    definitions: &definitions,
                    mocks: &mocks,
                    time_scale,
                };
                let mut handed = 0;
                for run in ready {
                    let budget = MAX_CHILDREN_AT_ONCE.saturating_sub(handed);
                    if budget == 0 {
                        break;
                    }
                    handed += super::map_runs::hand_out(tx, &s, run, budget, now)?;
                }
                Ok::<_, StoreError>((queued, callers.sent, handed))
            })
            .await?;
        if queued {
            self.tasks.notify_waiters();
        }
        self.dispatch(sent);
        Ok(steps + handed as usize)
    }

    /// Hands calls marked sent (committed) to the network; each answer is recorded, and its
    /// execution stepped, in a write of its own.
    fn dispatch(&mut self, sent: Vec<outside::Request>) {
        while self.in_flight.try_join_next().is_some() {}
        let Some(o) = &self.outside else {
            return;
        };
        for request in sent {
            let answering = o.call(request.clone());
            let deliver = self.deliver();
            self.in_flight.spawn(async move {
                let answer = answering.await;
                deliver.answer(request.token, answer).await;
            });
        }
    }

    /// What records answers and I/O results outside a pass, and steps what they reach.
    fn deliver(&self) -> Deliver {
        Deliver {
            store: self.store.clone(),
            definitions: self.definitions.clone(),
            mocks: self.mocks.clone(),
            time_scale: self.options.time_scale,
            wake: self.wake.clone(),
            tasks: self.tasks.clone(),
        }
    }

    /// Starts the S3 reads and writes of map runs waiting for them (not already under way);
    /// each records its result, and steps the Map state it answers, in a write of its own.
    fn dispatch_io(&mut self, runs: Vec<MapRun>) {
        for run in runs {
            let fresh = self
                .io_busy
                .lock()
                .map(|mut busy| busy.insert(run.key))
                .unwrap_or(false);
            if !fresh {
                continue;
            }
            let io = RunIo {
                to: self.deliver(),
                outside: self.outside.clone(),
                busy: self.io_busy.clone(),
            };
            self.in_flight.spawn(io.run(run));
        }
    }

    /// Fails the tasks whose outside calls were in flight when sfnlite last stopped.
    pub async fn recover_lost_calls(&self) -> Result<usize, RunnerError> {
        let o = self.outside.clone();
        let now = system_clock();
        let definitions = self.definitions.clone();
        let mocks = self.mocks.current();
        let time_scale = self.options.time_scale;
        let n = self
            .store
            .write(move |tx| {
                let keys = outside::recover(tx, o.as_deref(), now)?;
                let s = Stepping {
                    definitions: &definitions,
                    mocks: &mocks,
                    time_scale,
                };
                for k in &keys {
                    step_now(tx, &s, *k, now)?;
                }
                Ok::<_, StoreError>(keys.len())
            })
            .await?;
        Ok(n)
    }

    /// The earliest time a waiting execution becomes due.
    pub async fn next_due(&self) -> Result<Option<i64>, RunnerError> {
        Ok(self.store.read(|tx| tx.executions().next_due()).await?)
    }

    /// Runs until `stop` turns true: passes while executions are due, otherwise sleeps until
    /// the next due time, a `wake` (a start or a stop) or [`MAX_SLEEP`]. A pass in flight
    /// when `stop` comes is finished, so a shutdown leaves every execution at a committed
    /// step.
    pub async fn serve(mut self, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        self.wake = Some(wake.clone());
        match self.recover_lost_calls().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                calls = n,
                "calls to outside services were in flight when sfnlite stopped; their tasks fail instead of calling again"
            ),
            Err(e) => tracing::error!(error = %e, "cannot recover calls in flight"),
        }
        // On a shared database a replica that dies leaves calls in flight while the others
        // run on: each looks for such calls (only gone replicas' are found) now and then.
        let mut recovered_at = tokio::time::Instant::now();
        while !*stop.borrow() {
            if self.store.shared() && recovered_at.elapsed() >= RECOVER_EVERY {
                recovered_at = tokio::time::Instant::now();
                match self.recover_lost_calls().await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(
                        calls = n,
                        "calls to outside services were in flight on a replica that is gone; their tasks fail instead of calling again"
                    ),
                    Err(e) => tracing::warn!(error = %e, "cannot recover a gone replica's calls"),
                }
            }
            let pause = match self.pass().await {
                Ok(0) => match self.next_due().await {
                    Ok(Some(due)) => {
                        Duration::from_millis(due.saturating_sub((self.clock)()).max(0) as u64)
                            .min(MAX_SLEEP)
                    }
                    Ok(None) => MAX_SLEEP,
                    Err(e) => {
                        tracing::warn!(error = %e, "runner cannot read due times");
                        MAX_SLEEP
                    }
                },
                Ok(_) => {
                    // Let request handlers in between passes on a busy runtime.
                    tokio::task::yield_now().await;
                    continue;
                }
                Err(e) => {
                    // The store is unavailable (disk full, read-only): nothing was committed;
                    // the same steps are retried later.
                    tracing::warn!(error = %e, "runner pass failed");
                    Duration::from_millis(100)
                }
            };
            if pause.is_zero() {
                continue;
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
                _ = stop.changed() => {}
            }
        }
        // Calls in flight get their answers recorded before the store closes (the caller
        // bounds this wait by the shutdown grace).
        while self.in_flight.join_next().await.is_some() {}
    }
}

/// Who makes the calls a committed step schedules: in-process integrations through `calls`;
/// outside ones are marked sent and collected in `sent`, to be made after the commit (or
/// answered as unreachable at once when the runner has no way out).
struct Callers<'a> {
    calls: Option<&'a dyn Calls>,
    outside: Option<&'a dyn Outside>,
    sent: Vec<outside::Request>,
}

/// Records an outside call's answer and steps its execution in the same write.
struct Deliver {
    store: Store,
    definitions: Arc<Definitions>,
    mocks: Mocks,
    time_scale: f64,
    wake: Option<Arc<Notify>>,
    tasks: Arc<Notify>,
}

/// A map run's S3 read or write, made outside any transaction, its result recorded after.
struct RunIo {
    to: Deliver,
    outside: Option<Arc<dyn Outside>>,
    busy: Arc<std::sync::Mutex<HashSet<MapRunKey>>>,
}

impl RunIo {
    async fn run(self, run: MapRun) {
        let key = run.key;
        if let Err(e) = self.io(run).await {
            // Nothing was recorded: a later pass makes the read or write again.
            tracing::warn!(error = %e, "a map run's S3 read or write could not be recorded");
        }
        if let Ok(mut busy) = self.busy.lock() {
            busy.remove(&key);
        }
        if let Some(w) = &self.to.wake {
            w.notify_one();
        }
    }

    async fn io(&self, run: MapRun) -> Result<(), StoreError> {
        let outside = self.outside.as_deref();
        let key = run.key;
        if let Some(reader) = run.reader.as_deref() {
            let read = match serde_json::from_str::<super::items::ReadSpec>(reader) {
                Ok(spec) => super::map_io::read(outside, &run.arn, &spec).await,
                Err(e) => Err(format!("the run's ItemReader cannot be read back: {e}")),
            };
            let (definitions, mocks, time_scale) = (
                self.to.definitions.clone(),
                self.to.mocks.current(),
                self.to.time_scale,
            );
            return self
                .to
                .store
                .write_once(move |tx| {
                    let now = system_clock();
                    if let Some(parent) = super::map_runs::read_done(tx, key, read, now)? {
                        let s = Stepping {
                            definitions: &definitions,
                            mocks: &mocks,
                            time_scale,
                        };
                        step_now(tx, &s, parent, now)?;
                    }
                    Ok(())
                })
                .await;
        }
        let (Some(_), Some(writer)) = (run.ending.as_deref(), run.writer.as_deref()) else {
            return Ok(());
        };
        let result = match serde_json::from_str::<super::items::WriteSpec>(writer) {
            Ok(spec) => {
                let children = self
                    .to
                    .store
                    .read(move |tx| tx.map_runs().children(key))
                    .await?;
                let records = super::map_runs::records(&children);
                let files = super::items::result_files(&spec, &run.arn, &records);
                super::map_io::write(outside, &run.arn, &spec, files).await
            }
            Err(e) => Err(format!("the run's ResultWriter cannot be read back: {e}")),
        };
        self.to
            .store
            .write_once(move |tx| super::map_runs::written(tx, key, result, system_clock()))
            .await
    }
}

/// Attempts at recording an answer while the store refuses writes (disk full, busy).
const ANSWER_ATTEMPTS: u32 = 20;

impl Deliver {
    async fn answer(self, token: String, answer: step::CallAnswer) {
        let mut pause = Duration::from_millis(50);
        for attempt in 1..=ANSWER_ATTEMPTS {
            let (definitions, mocks) = (self.definitions.clone(), self.mocks.current());
            let (token, answer) = (token.clone(), answer.clone());
            let time_scale = self.time_scale;
            let written = self
                .store
                .write_once(move |tx| {
                    let now = system_clock();
                    let Some(key) = outside::answer(tx, &token, answer, now)? else {
                        return Ok(false);
                    };
                    let s = Stepping {
                        definitions: &definitions,
                        mocks: &mocks,
                        time_scale,
                    };
                    step_now(tx, &s, key, now)
                })
                .await;
            match written {
                Ok(queued) => {
                    if queued {
                        self.tasks.notify_waiters();
                    }
                    if let Some(w) = &self.wake {
                        w.notify_one();
                    }
                    return;
                }
                Err(e) if attempt == ANSWER_ATTEMPTS => {
                    // The row in calls_in_flight stays: the next start fails the task.
                    tracing::error!(error = %e, "cannot record an outside call's answer");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "recording an outside call's answer; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_SLEEP);
                }
            }
        }
    }
}

/// One execution's step, computed from `e` as read (its transitions that need no time, see
/// [`transitions`]).
fn step_execution(
    e: Execution,
    loaded: &Loaded,
    map_state: Option<&str>,
    existing: &HashSet<String>,
    mocks: &super::mocks::MockConfig,
    time_scale: f64,
    now: i64,
) -> Outcome {
    {
        // A map run's child runs its Map state's ItemProcessor.
        let definition = match map_state {
            Some(m) => loaded.processors.get(m),
            None => Some(&loaded.definition),
        };
        let machine_name = e.machine_name().to_owned();
        let progress: Option<Progress> = e
            .position
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok());
        let input: Option<Value> = serde_json::from_str(&e.input).ok();
        let mut resume = None;
        let (events, next) = match (progress, input, definition) {
            (Some(progress), Some(input), Some(definition)) => {
                let info = ExecutionInfo {
                    execution_arn: e.arn.clone(),
                    name: e.name.clone(),
                    state_machine_arn: e.machine_arn.clone(),
                    state_machine_name: machine_name.clone(),
                    role_arn: loaded.role_arn.clone(),
                    input,
                    start_ms: e.start_ms,
                    redrive_count: Some(e.redrive_count),
                    redrive_ms: e.redrive_ms,
                    context: None,
                };
                let mut entropy = SystemEntropy;
                let exists = |arn: &str| existing.contains(arn);
                let case = progress
                    .test_case
                    .as_deref()
                    .and_then(|c| mocks.test_case(&machine_name, c));
                let mut env = Env {
                    time_scale,
                    activity_exists: &exists,
                    mocks: case.map(|c| (mocks, c)),
                    resume: Some(&mut resume),
                    map_runs: true,
                    ..Env::new(&info, now, &mut entropy)
                };
                transitions(definition, progress, &mut env)
            }
            // Only a bug (or a hand-edited database) gets here; the execution fails
            // visibly instead of stalling the runner.
            _ => {
                tracing::error!(execution = %e.arn, "execution position unreadable; failing it");
                step::fail(
                    e.last_event,
                    "States.Runtime",
                    "sfnlite could not read this execution's position",
                )
            }
        };
        outcome(e, machine_name, events, next, now, resume)
    }
}

/// What [`step_now`] needs besides the transaction.
pub struct Stepping<'a> {
    pub definitions: &'a Definitions,
    pub mocks: &'a super::mocks::MockConfig,
    pub time_scale: f64,
}

/// Steps the RUNNING execution `key` inside `tx` and applies the step there: an answer to a
/// task (SendTaskSuccess, SendTaskFailure) records what it leads to in its own commit instead
/// of waiting for the runner's next pass and commit. Calls the step schedules are left to the
/// runner (the execution stays due). Returns whether the step queued work for workers.
pub fn step_now(
    tx: &dyn Tx,
    s: &Stepping<'_>,
    key: ExecutionKey,
    now: i64,
) -> Result<bool, StoreError> {
    let Some(e) = tx.executions().get(key)? else {
        return Ok(false);
    };
    if e.status != ExecutionStatus::Running || e.due_ms.is_some_and(|d| d > now) {
        return Ok(false);
    }
    let snapshot = tx.machines().revision(e.revision)?.snapshot;
    let loaded = s
        .definitions
        .load(e.revision, &snapshot)
        .map_err(StoreError::internal)?;
    let existing = existing_activities(tx, &loaded.activities)?;
    let map_state = match e.map_run {
        Some(c) => tx.map_runs().get(c.run)?.map(|r| r.map_state),
        None => None,
    };
    let o = step_execution(
        e,
        &loaded,
        map_state.as_deref(),
        &existing,
        s.mocks,
        s.time_scale,
        now,
    );
    apply(tx, o, &mut HashMap::new(), None)
}

/// Which of `arns` name an activity that exists.
pub fn existing_activities(tx: &dyn Tx, arns: &[String]) -> Result<HashSet<String>, StoreError> {
    let mut out = HashSet::new();
    for arn in arns {
        if tx.activities().find(arn)?.is_some() {
            out.insert(arn.clone());
        }
    }
    Ok(out)
}

/// The steps an execution takes now: transitions that need no time run back to back (at
/// most [`MAX_TRANSITIONS`], or until [`MAX_EVENTS_AT_ONCE`] events), so they commit
/// together; a Wait, a back-off or the end stops the run.
pub fn transitions(
    definition: &Definition,
    progress: Progress,
    env: &mut Env<'_>,
) -> (Vec<Event>, Next) {
    let mut events = Vec::new();
    let mut progress = progress;
    let mut taken = 0;
    loop {
        let (more, next) = step::step(definition, progress, env);
        events.extend(more);
        taken += 1;
        match next {
            Next::Continue(p) if taken < MAX_TRANSITIONS && events.len() < MAX_EVENTS_AT_ONCE => {
                progress = p
            }
            other => return (events, other),
        }
    }
}

/// Steps' events as the store keeps them, and how the execution moves; `resume` is where a
/// redrive resumes an execution that ends unsuccessfully.
pub fn applied(
    events: Vec<Event>,
    next: Next,
    now: i64,
    resume: Option<Progress>,
) -> (Vec<HistoryEvent>, Applied) {
    let resume = resume.and_then(|p| serde_json::to_string(&p).ok());
    let events = events.into_iter().map(|ev| stored(ev, now)).collect();
    let next = match next {
        Next::Continue(p) => Applied::Advance {
            position: serde_json::to_string(&p).unwrap_or_default(),
            due: now,
            tasks: open_tasks(&p),
            calls: has_calls(&p),
            map_runs: super::map_runs::planned(&p),
        },
        Next::WaitUntil(p, due) => Applied::Advance {
            position: serde_json::to_string(&p).unwrap_or_default(),
            // "At once" (a call to make) is stored as now: due times stay comparable clock
            // readings.
            due: due.max(now),
            tasks: open_tasks(&p),
            calls: has_calls(&p),
            map_runs: super::map_runs::planned(&p),
        },
        Next::Succeeded(output) => Applied::Close(Closing {
            status: ExecutionStatus::Succeeded,
            output: Some(output.to_string()),
            error: None,
            cause: None,
            stop_ms: now,
            resume: None,
        }),
        Next::Failed { error, cause } => Applied::Close(Closing {
            status: ExecutionStatus::Failed,
            output: None,
            error,
            cause,
            stop_ms: now,
            resume,
        }),
        // DescribeExecution shows neither error nor cause for a timeout (§2.1).
        Next::TimedOut => Applied::Close(Closing {
            status: ExecutionStatus::TimedOut,
            output: None,
            error: None,
            cause: None,
            stop_ms: now,
            resume,
        }),
    };
    (events, next)
}

/// The tokens of the open tasks of `p`: activity tasks no worker has taken yet, and calls.
fn open_tasks(p: &Progress) -> Vec<TaskIndex> {
    step::open_tasks(&p.position)
        .into_iter()
        .filter(|t| t.call.is_some() || t.started.is_none())
        .map(|t| TaskIndex {
            token: t.token.clone(),
            resource: t.activity.clone(),
            for_workers: t.call.is_none(),
        })
        .collect()
}

/// Whether `p` has a call to make (in-process, or outside and not yet sent).
fn has_calls(p: &Progress) -> bool {
    step::open_tasks(&p.position).iter().any(|t| {
        t.call
            .as_ref()
            .is_some_and(|c| c.answer.is_none() && !c.in_flight())
    })
}

/// Indexes the tokens of a position's open tasks.
pub fn index_tasks(
    tx: &dyn Tx,
    key: ExecutionKey,
    tasks: &[TaskIndex],
    now: i64,
) -> Result<(), StoreError> {
    for t in tasks {
        if t.for_workers {
            tx.activities()
                .queue_task(&t.token, &t.resource, key, now)?;
        } else {
            tx.activities()
                .index_token(&t.token, &t.resource, key, now)?;
        }
    }
    Ok(())
}

/// Commits a running execution's move, and indexes its open tasks' tokens.
#[allow(clippy::too_many_arguments)]
pub fn advance(
    tx: &dyn Tx,
    key: ExecutionKey,
    (expected_last, expected_moves): (u64, u64),
    events: &[HistoryEvent],
    position: &str,
    due: i64,
    tasks: &[TaskIndex],
    now: i64,
) -> Result<bool, StoreError> {
    let moved =
        tx.executions()
            .advance(key, expected_last, expected_moves, events, position, due)?;
    if moved {
        index_tasks(tx, key, tasks, now)?;
    }
    Ok(moved)
}

/// Makes the calls of a position just committed: in-process ones (see [`calls`]) with their
/// answers committed with it — the execution is then due at once, for its next step to
/// record them — and outside ones marked sent and indexed in flight, for the runner to make
/// once this commit is durable. Returns whether in-process calls were made (a started child
/// may have queued activity tasks).
#[allow(clippy::too_many_arguments)]
fn settle_calls(
    tx: &dyn Tx,
    callers: &mut Callers<'_>,
    execution_arn: &str,
    key: ExecutionKey,
    (last, moves): (u64, u64),
    position: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let Ok(mut progress) = serde_json::from_str::<Progress>(position) else {
        return Ok(false);
    };
    let mut called = false;
    if let Some(calls) = callers.calls {
        called = super::calls::perform(tx, calls, execution_arn, &mut progress.position, now)?;
    }
    let mut sent = Vec::new();
    let answered_unsent = if let Some(o) = callers.outside {
        let mut answered = false;
        for r in outside::mark_sent(&mut progress.position, execution_arn, now) {
            match o.answer_now(&r) {
                Some(a) => {
                    answered = true;
                    if let Some(c) = step::task_mut(&mut progress.position, &r.token)
                        .and_then(|t| t.call.as_deref_mut())
                    {
                        c.answer = Some(a);
                    }
                }
                None => {
                    tx.activities().call_sent(&r.token, key)?;
                    sent.push(r);
                }
            }
        }
        answered
    } else {
        outside::answer_unsent(&mut progress.position, outside::unreachable)
    };
    if !called && sent.is_empty() && !answered_unsent {
        return Ok(false);
    }
    let position = serde_json::to_string(&progress)
        .map_err(|e| StoreError::internal(format!("position: {e}")))?;
    if tx
        .executions()
        .advance(key, last, moves, &[], &position, now)?
    {
        callers.sent.extend(sent);
    }
    Ok(called)
}

fn outcome(
    execution: Execution,
    machine_name: String,
    events: Vec<Event>,
    next: Next,
    now: i64,
    resume: Option<Progress>,
) -> Outcome {
    let (events, next) = applied(events, next, now, resume);
    Outcome {
        execution,
        machine_name,
        events,
        next,
        now,
    }
}

/// Commits one step; returns whether it queued a task for workers. A machine deleted while
/// the execution ran fails it at this transition instead (executions-api.md §12); a step
/// computed before a StopExecution committed finds the execution closed and changes nothing.
fn apply(
    tx: &dyn Tx,
    o: Outcome,
    deleting: &mut HashMap<String, bool>,
    callers: Option<&mut Callers<'_>>,
) -> Result<bool, StoreError> {
    // A map run's child runs its parent's machine.
    let machine_arn = super::map_runs::owning_machine(&o.execution.machine_arn);
    let machine_deleting = match deleting.get(machine_arn) {
        Some(d) => *d,
        None => {
            let d = tx.machines().find(machine_arn)?.is_none_or(|m| m.deleting);
            deleting.insert(machine_arn.to_owned(), d);
            d
        }
    };
    if machine_deleting {
        let (events, next) = step::fail(
            o.execution.last_event,
            "States.Runtime",
            &format!("State machine {} has been deleted.", o.machine_name),
        );
        // Its machine is gone: nothing to redrive.
        let o = outcome(o.execution, o.machine_name, events, next, o.now, None);
        return apply_outcome(tx, o, callers);
    }
    apply_outcome(tx, o, callers)
}

fn apply_outcome(
    tx: &dyn Tx,
    o: Outcome,
    callers: Option<&mut Callers<'_>>,
) -> Result<bool, StoreError> {
    let e = &o.execution;
    let queues = o.next.queues_work();
    match &o.next {
        Applied::Advance {
            position,
            due,
            tasks,
            calls: has_calls,
            map_runs,
        } => {
            let mut position = Cow::Borrowed(position.as_str());
            let mut due = *due;
            let after = if *map_runs
                || e.position
                    .as_deref()
                    .is_some_and(super::map_runs::waits_on_runs)
            {
                serde_json::from_str::<Progress>(&position).ok()
            } else {
                None
            };
            if let (true, Some(mut p)) = (*map_runs, after.clone()) {
                let created = super::map_runs::create(tx, e.key, e.revision, &mut p, o.now)?;
                if created.answered {
                    due = o.now;
                }
                position = Cow::Owned(
                    serde_json::to_string(&p)
                        .map_err(|err| StoreError::internal(format!("position: {err}")))?,
                );
            }
            super::map_runs::abort_gone(tx, e.position.as_deref(), after.as_ref(), o.now)?;
            let moved = advance(
                tx,
                e.key,
                (e.last_event, e.moves),
                &o.events,
                &position,
                due,
                tasks,
                o.now,
            )?;
            let mut called = false;
            if let (true, true, Some(callers)) = (moved, *has_calls, callers) {
                let last = o.events.last().map_or(e.last_event, |ev| ev.id);
                called = settle_calls(
                    tx,
                    callers,
                    &e.arn,
                    e.key,
                    (last, e.moves + 1),
                    &position,
                    o.now,
                )?;
            }
            Ok(moved && (queues || called))
        }
        Applied::Close(closing) => {
            super::tasks::close(tx, e, &o.events, closing)?;
            Ok(false)
        }
    }
}

/// An engine event as the store keeps it.
pub fn stored(e: Event, timestamp_ms: i64) -> HistoryEvent {
    HistoryEvent {
        id: e.id,
        previous_id: e.previous,
        kind: e.kind.to_owned(),
        timestamp_ms,
        details: e.details.map(|(member, v)| {
            let mut m = serde_json::Map::new();
            m.insert(member.to_owned(), v);
            Value::Object(m).to_string()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::{Begin, MachineType, NewExecution, NewMachine, Snapshot};
    use crate::store::StoreOptions;
    use serde_json::json;
    use std::sync::atomic::{AtomicI64, Ordering};

    const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
    const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:m:run";
    const T0: i64 = 1_764_600_000_000;

    fn definition() -> String {
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.a", "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 2, "Next": "C"},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.a.n", "NumericEquals": 1, "Next": "Done"}], "Default": "Bad"},
            "Bad": {"Type": "Fail", "Error": "Bad"},
            "Done": {"Type": "Succeed"}}})
        .to_string()
    }

    /// A store holding one machine and one RUNNING execution of it, not yet stepped.
    async fn started(path: &std::path::Path) -> Store {
        let store = Store::open(path, &StoreOptions::default()).unwrap();
        let text = definition();
        let position = serde_json::to_string(&step::start()).unwrap();
        store
            .write_once(move |tx| {
                let m = tx.machines().insert(&NewMachine {
                    arn: MACHINE,
                    account: "123456789012",
                    region: "us-east-1",
                    name: "m",
                    kind: MachineType::Standard,
                    created_ms: T0,
                })?;
                let snapshot = Snapshot {
                    definition: text,
                    role_arn: "arn:aws:iam::123456789012:role/r".into(),
                    logging: "{}".into(),
                    tracing: "{}".into(),
                    encryption: "{}".into(),
                };
                let revision = tx.machines().add_revision(m.key, None, &snapshot, T0)?;
                tx.executions().start(
                    &NewExecution {
                        arn: EXECUTION,
                        machine_arn: MACHINE,
                        name: "run",
                        version_arn: None,
                        alias_arn: None,
                        revision: revision.key,
                        input: "{\"x\": 1}",
                        trace_header: None,
                        start_ms: T0,
                        parent_token: None,
                        map_run: None,
                    },
                    &[HistoryEvent {
                        id: 1,
                        previous_id: 0,
                        kind: "ExecutionStarted".into(),
                        timestamp_ms: T0,
                        details: None,
                    }],
                    Begin::Running {
                        position: &position,
                        due_ms: T0,
                    },
                )?;
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
        store
    }

    async fn history(store: &Store) -> Vec<(u64, String, u64)> {
        store
            .read(|tx| {
                let e = tx.executions().find(EXECUTION)?.unwrap();
                tx.executions().history(e.key, None, false, 1000)
            })
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.id, e.kind, e.previous_id))
            .collect()
    }

    fn clock(at: &Arc<AtomicI64>) -> impl FnMut() -> i64 + Send + Sync + 'static {
        let at = at.clone();
        move || at.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn an_execution_runs_to_its_end_one_committed_step_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = started(&dir.path().join("r.db")).await;
        let now = Arc::new(AtomicI64::new(T0));
        let mut runner = Runner::new(store.clone(), clock(&now));
        while runner.pass().await.unwrap() > 0 {}
        // Waiting: nothing is due before the Wait's time, however often the runner looks.
        let due = runner.next_due().await.unwrap().unwrap();
        assert_eq!(due, T0 + 2000);
        now.store(due - 1, Ordering::SeqCst);
        assert_eq!(runner.pass().await.unwrap(), 0);
        now.store(due, Ordering::SeqCst);
        while runner.pass().await.unwrap() > 0 {}
        let h = history(&store).await;
        let kinds: Vec<&str> = h.iter().map(|(_, k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "ExecutionStarted",
                "PassStateEntered",
                "PassStateExited",
                "WaitStateEntered",
                "WaitStateExited",
                "ChoiceStateEntered",
                "ChoiceStateExited",
                "SucceedStateEntered",
                "SucceedStateExited",
                "ExecutionSucceeded"
            ]
        );
        let e = store
            .read(|tx| tx.executions().find(EXECUTION))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(e.status, ExecutionStatus::Succeeded);
        assert_eq!(e.output.as_deref(), Some("{\"x\":1,\"a\":{\"n\":1}}"));
        assert_eq!(e.stop_ms, Some(T0 + 2000));
    }

    #[tokio::test]
    async fn after_a_restart_an_execution_resumes_where_its_last_commit_left_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let now = Arc::new(AtomicI64::new(T0));
        {
            // Steps until the Wait is entered, then the process "dies": the runner and every
            // store handle go away.
            let store = started(&path).await;
            let mut runner = Runner::new(store, clock(&now));
            while runner.pass().await.unwrap() > 0 {}
            assert_eq!(runner.next_due().await.unwrap(), Some(T0 + 2000));
        }
        let store = Store::open(&path, &StoreOptions::default()).unwrap();
        assert_eq!(history(&store).await.len(), 4);
        let mut runner = Runner::new(store.clone(), clock(&now));
        // The service was down past the Wait's due time: it fires at once after the restart.
        now.store(T0 + 60_000, Ordering::SeqCst);
        while runner.pass().await.unwrap() > 0 {}
        let h = history(&store).await;
        let ids: Vec<u64> = h.iter().map(|(id, _, _)| *id).collect();
        assert_eq!(ids, (1..=10).collect::<Vec<u64>>());
        assert_eq!(h[3], (4, "WaitStateEntered".to_owned(), 3));
        assert_eq!(h[9].1, "ExecutionSucceeded");
    }

    #[tokio::test]
    async fn a_deleted_machines_execution_fails_at_its_next_transition() {
        let dir = tempfile::tempdir().unwrap();
        let store = started(&dir.path().join("r.db")).await;
        let now = Arc::new(AtomicI64::new(T0));
        let mut runner = Runner::new(store.clone(), clock(&now));
        while runner.pass().await.unwrap() > 0 {}
        // A second execution, not due for a long time, keeps the machine DELETING.
        let position = serde_json::to_string(&step::start()).unwrap();
        store
            .write(move |tx| {
                let m = tx.machines().find(MACHINE)?.unwrap();
                let first = tx.executions().find(EXECUTION)?.unwrap();
                tx.executions().start(
                    &NewExecution {
                        arn: "arn:aws:states:us-east-1:123456789012:execution:m:later",
                        machine_arn: MACHINE,
                        name: "later",
                        version_arn: None,
                        alias_arn: None,
                        revision: first.revision,
                        input: "{}",
                        trace_header: None,
                        start_ms: T0 + 3_600_000,
                        parent_token: None,
                        map_run: None,
                    },
                    &[HistoryEvent {
                        id: 1,
                        previous_id: 0,
                        kind: "ExecutionStarted".into(),
                        timestamp_ms: T0,
                        details: None,
                    }],
                    Begin::Running {
                        position: &position,
                        due_ms: T0 + 3_600_000,
                    },
                )?;
                tx.machines().mark_deleting(m.key)
            })
            .await
            .unwrap();
        now.store(T0 + 2000, Ordering::SeqCst);
        while runner.pass().await.unwrap() > 0 {}
        let e = store
            .read(|tx| tx.executions().find(EXECUTION))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(e.status, ExecutionStatus::Failed);
        assert_eq!(e.error.as_deref(), Some("States.Runtime"));
        assert_eq!(
            e.cause.as_deref(),
            Some("State machine m has been deleted.")
        );
        let h = history(&store).await;
        assert_eq!(h.last().unwrap(), &(5, "ExecutionFailed".to_owned(), 4));
        // The machine waits for the other execution.
        let machine = store.read(|tx| tx.machines().find(MACHINE)).await.unwrap();
        assert!(machine.is_some_and(|m| m.deleting));
    }
}
