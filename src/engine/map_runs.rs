//! Distributed Map runs (executions-api.md §9, asl-semantics.md §6.3): the run a Map state in
//! DISTRIBUTED mode plans is created in the commit that records its MapRunStarted event; its
//! inputs are handed to child executions as MaxConcurrency allows, each child's first
//! transitions computed and stored with its start (a Pass processor's child is stored once,
//! finished); every child's close counts it in its run in the same commit, and the close that
//! decides the run (the last child, or one failure too many) ends it and answers the Map state
//! waiting in the parent's position. So the run's state is always the sum of its committed
//! children, and a crash between two commits neither loses nor repeats an item.
//!
//! Knows the engine's positions and the store's transaction; nothing of HTTP.

use serde_json::{json, Value};

use super::definitions::Loaded;
use super::runner::{self, Stepping, SystemEntropy};
use super::step::{self, Env, ExecutionInfo, MapRunOutcome, Progress};
use crate::domain::records::{
    Begin, ChildOf, Execution, ExecutionKey, ExecutionStatus, HistoryEvent, MapRun, MapRunKey,
    MapRunStatus, NewExecution, NewMapRun, RevisionKey,
};
use crate::store::{StoreError, Tx};

/// Children of one run running at once when its MaxConcurrency is 0 (or higher): AWS's limit.
pub const MAX_RUNNING: u64 = 10_000;

/// Redrives a map run takes at most (AWS's hard limit; the next fails with States.Runtime).
pub const MAX_REDRIVES: u64 = 1000;

/// The error and cause of a run that failed more children than it tolerates (recorded).
pub const THRESHOLD_ERROR: &str = "States.ExceedToleratedFailureThreshold";
pub const THRESHOLD_CAUSE: &str = "The specified tolerated failure threshold was exceeded";

/// What [`create`] did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Created {
    pub any: bool,
    /// A run without items ended at once: the position holds its outcome and is due now.
    pub answered: bool,
}

/// Creates the runs `progress` plans for `execution` (running `revision`), dropping the plans
/// from it; a run without items ends at once, its outcome set in `progress`.
pub fn create(
    tx: &dyn Tx,
    execution: ExecutionKey,
    revision: RevisionKey,
    progress: &mut Progress,
    now: i64,
) -> Result<Created, StoreError> {
    let mut done = Created::default();
    let texts = |inputs: &[(Value, u64)]| -> Vec<(String, u64)> {
        inputs.iter().map(|(v, n)| (v.to_string(), *n)).collect()
    };
    for w in step::map_runs_mut(&mut progress.position) {
        if std::mem::take(&mut w.rerun) {
            done.any = true;
            if let Some(outcome) = redrive(tx, &w.arn, now)? {
                w.outcome = Some(outcome);
                done.answered = true;
            }
            continue;
        }
        if let Some(inputs) = w.fill.take() {
            let Some(mut run) = tx.map_runs().find(&w.arn)? else {
                continue;
            };
            if run.status != MapRunStatus::Running || run.reader.is_none() {
                continue;
            }
            let inputs = texts(&inputs);
            tx.map_runs().add_inputs(run.key, &inputs)?;
            done.any = true;
            if inputs.is_empty() {
                // Read, and nothing to hand out: the run ends now.
                run.reader = None;
                if let Some(outcome) = decide(tx, &mut run, now)? {
                    w.outcome = Some(outcome);
                    done.answered = true;
                }
            }
            continue;
        }
        let Some(plan) = w.create.take() else {
            continue;
        };
        let inputs = texts(&plan.inputs);
        let reader = plan.reader.as_ref().map(text);
        let writer = plan.writer.as_ref().map(text);
        let key = tx.map_runs().insert(&NewMapRun {
            arn: &w.arn,
            execution,
            map_state: &w.state,
            revision,
            machine_arn: &plan.machine_arn,
            express: plan.express,
            max_concurrency: plan.max_concurrency,
            tolerated_count: plan.tolerated_count,
            tolerated_percentage: plan.tolerated_percentage,
            inputs: &inputs,
            start_ms: now,
            reader: reader.as_deref(),
            writer: writer.as_deref(),
        })?;
        done.any = true;
        if inputs.is_empty() && plan.reader.is_none() {
            if let Some(mut run) = tx.map_runs().get(key)? {
                if let Some(outcome) = decide(tx, &mut run, now)? {
                    w.outcome = Some(outcome);
                    done.answered = true;
                }
            }
        }
    }
    Ok(done)
}

/// Children as their run's results describe them.
pub fn records(children: &[Execution]) -> Vec<super::items::ChildRecord<'_>> {
    children
        .iter()
        .map(|c| super::items::ChildRecord {
            arn: &c.arn,
            name: &c.name,
            machine_arn: &c.machine_arn,
            status: c.status.as_str(),
            input: &c.input,
            output: c.output.as_deref(),
            error: c.error.as_deref(),
            cause: c.cause.as_deref(),
            start_ms: c.start_ms,
            stop_ms: c.stop_ms,
            redrive_count: c.redrive_count,
        })
        .collect()
}

/// A spec or outcome as the store keeps it.
fn text(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Whether `progress` plans runs not yet created.
pub fn planned(progress: &Progress) -> bool {
    step::map_runs(&progress.position)
        .iter()
        .any(|w| w.create.is_some() || w.fill.is_some() || w.rerun)
}

/// Whether a stored position waits on a map run (cheaply, on its text: most positions are
/// not parsed at all).
pub fn waits_on_runs(position: &str) -> bool {
    position.contains("\"at\":\"mapRun\"")
}

/// Creates the runs planned in the stored position of `key` (an execution whose first
/// transitions, computed before it was stored, started a Distributed Map).
pub fn create_stored(tx: &dyn Tx, key: ExecutionKey, now: i64) -> Result<(), StoreError> {
    let Some(e) = tx.executions().get(key)? else {
        return Ok(());
    };
    let Some(mut progress) = e
        .position
        .as_deref()
        .and_then(|p| serde_json::from_str::<Progress>(p).ok())
    else {
        return Ok(());
    };
    let created = create(tx, key, e.revision, &mut progress, now)?;
    if !created.any {
        return Ok(());
    }
    let position = serde_json::to_string(&progress)
        .map_err(|err| StoreError::internal(format!("position: {err}")))?;
    let due = match (created.answered, e.due_ms) {
        (true, _) | (false, None) => now,
        (false, Some(d)) => d,
    };
    tx.executions()
        .advance(key, e.last_event, e.moves, &[], &position, due)?;
    Ok(())
}

/// The child machine ARN's owner: `…:stateMachine:<machine>` of `…:stateMachine:<machine>/<label>`.
pub fn owning_machine(machine_arn: &str) -> &str {
    machine_arn.split_once('/').map_or(machine_arn, |(m, _)| m)
}

/// Hands up to `budget` pending inputs of run `key` to new children, as its MaxConcurrency
/// allows; returns how many children were started.
pub fn hand_out(
    tx: &dyn Tx,
    s: &Stepping<'_>,
    key: MapRunKey,
    budget: u64,
    now: i64,
) -> Result<u64, StoreError> {
    let Some(mut run) = tx.map_runs().get(key)? else {
        return Ok(0);
    };
    if run.status != MapRunStatus::Running {
        return Ok(0);
    }
    let cap = match run.max_concurrency {
        0 => MAX_RUNNING,
        n => n.min(MAX_RUNNING),
    };
    let room = cap
        .saturating_sub(run.counts.running)
        .min(budget)
        .min(run.total - run.counts.started);
    if room == 0 {
        return Ok(0);
    }
    let snapshot = tx.machines().revision(run.revision)?.snapshot;
    let loaded = s
        .definitions
        .load(run.revision, &snapshot)
        .map_err(StoreError::internal)?;
    let Some(definition) = loaded.processors.get(&run.map_state) else {
        return Err(StoreError::internal(format!(
            "map run {} names no Distributed Map {}",
            run.arn, run.map_state
        )));
    };
    let existing = runner::existing_activities(tx, &loaded.activities)?;
    let inputs = tx.map_runs().take_inputs(key, run.counts.started, room)?;
    let mut started = 0;
    for (index, input, items) in inputs {
        run.counts.started = run.counts.started.max(index + 1);
        started += 1;
        let status = start_child(
            tx,
            s,
            &run,
            &loaded,
            definition,
            &existing,
            ChildOf {
                run: key,
                index,
                items,
            },
            &input,
            now,
        )?;
        match status {
            ExecutionStatus::Running => run.counts.running += 1,
            other => count(&mut run, other),
        }
        if exceeded(&run) {
            break;
        }
    }
    tx.map_runs().save(&run)?;
    settle(tx, run, now)?;
    Ok(started)
}

/// The ARN of a new child named `name`: `…:execution:<machine>/<label>:<name>` (STANDARD) or
/// `…:express:<machine>/<label>:<name>:<id>` (EXPRESS).
fn child_arn(run: &MapRun, name: &str, entropy: &mut SystemEntropy) -> String {
    if run.express {
        format!(
            "{}:{name}:{}",
            run.machine_arn.replacen(":stateMachine:", ":express:", 1),
            super::intrinsics::uuid(entropy)
        )
    } else {
        format!(
            "{}:{name}",
            run.machine_arn.replacen(":stateMachine:", ":execution:", 1)
        )
    }
}

/// A child's name: a UUID that sorts by start time (version 7), so that a run's children
/// are appended to the name indexes instead of scattered over them (a wide run writes
/// thousands per second).
fn child_name(now: i64, entropy: &mut SystemEntropy) -> String {
    use super::intrinsics::Entropy;
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&entropy.next_u64().to_le_bytes());
    random[8..].copy_from_slice(&entropy.next_u64().to_le_bytes()[..2]);
    uuid::Builder::from_unix_timestamp_millis(now.max(0) as u64, &random)
        .into_uuid()
        .to_string()
}

/// Starts one child with its first transitions; returns its status once stored.
#[allow(clippy::too_many_arguments)]
fn start_child(
    tx: &dyn Tx,
    s: &Stepping<'_>,
    run: &MapRun,
    loaded: &Loaded,
    definition: &crate::asl::Definition,
    existing: &std::collections::HashSet<String>,
    child: ChildOf,
    input_text: &str,
    now: i64,
) -> Result<ExecutionStatus, StoreError> {
    let mut entropy = SystemEntropy;
    let name = child_name(now, &mut entropy);
    let arn = child_arn(run, &name, &mut entropy);
    let input: Value = serde_json::from_str(input_text).unwrap_or(Value::Null);
    let info = ExecutionInfo {
        execution_arn: arn.clone(),
        name: name.clone(),
        state_machine_arn: run.machine_arn.clone(),
        state_machine_name: run
            .machine_arn
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_owned(),
        role_arn: loaded.role_arn.clone(),
        input,
        start_ms: now,
        redrive_count: Some(0),
        redrive_ms: None,
        context: None,
    };
    let mut resume = None;
    let exists = |a: &str| existing.contains(a);
    let mut env = Env {
        time_scale: s.time_scale,
        activity_exists: &exists,
        resume: Some(&mut resume),
        map_runs: true,
        ..Env::new(&info, now, &mut entropy)
    };
    let (first, next) = runner::transitions(definition, step::start(), &mut env);
    let (first, moved) = runner::applied(first, next, now, resume);
    let details = json!({"executionStartedEventDetails": {
        "input": input_text,
        "inputDetails": {"truncated": false},
        "roleArn": loaded.role_arn,
    }});
    let mut events = Vec::with_capacity(1 + first.len());
    events.push(HistoryEvent {
        id: 1,
        previous_id: 0,
        kind: "ExecutionStarted".into(),
        timestamp_ms: now,
        details: Some(details.to_string()),
    });
    events.extend(first);
    let (begin, status) = match &moved {
        runner::Applied::Advance { position, due, .. } => (
            Begin::Running {
                position,
                due_ms: *due,
            },
            ExecutionStatus::Running,
        ),
        runner::Applied::Close(c) => (Begin::Closed(c), c.status),
    };
    let new = NewExecution {
        arn: &arn,
        machine_arn: &run.machine_arn,
        name: &name,
        version_arn: None,
        alias_arn: None,
        revision: run.revision,
        input: input_text,
        trace_header: None,
        start_ms: now,
        parent_token: None,
        map_run: Some(child),
    };
    let Some(key) = tx.executions().start(&new, &events, begin)? else {
        return Err(StoreError::internal(format!(
            "a map run child's fresh name is taken: {arn}"
        )));
    };
    if let runner::Applied::Advance {
        tasks, map_runs, ..
    } = &moved
    {
        runner::index_tasks(tx, key, tasks, now)?;
        if *map_runs {
            create_stored(tx, key, now)?;
        }
    }
    Ok(status)
}

/// Counts a closed child under its status.
fn count(run: &mut MapRun, status: ExecutionStatus) {
    let c = &mut run.counts;
    match status {
        ExecutionStatus::Succeeded => c.succeeded += 1,
        ExecutionStatus::Failed => c.failed += 1,
        ExecutionStatus::TimedOut => c.timed_out += 1,
        ExecutionStatus::Aborted => c.aborted += 1,
        ExecutionStatus::Running => c.running += 1,
    }
}

/// Counts a child that just closed (`child` as read before its close) in its run, and ends
/// the run if that decides it.
pub fn child_closed(
    tx: &dyn Tx,
    child: &Execution,
    status: ExecutionStatus,
    now: i64,
) -> Result<(), StoreError> {
    let Some(of) = child.map_run else {
        return Ok(());
    };
    let Some(mut run) = tx.map_runs().get(of.run)? else {
        return Ok(());
    };
    run.counts.running = run.counts.running.saturating_sub(1);
    count(&mut run, status);
    tx.map_runs().save(&run)?;
    settle(tx, run, now)
}

/// Whether more children failed than the run tolerates: with neither tolerance given, any
/// failure; otherwise more than the count, or a larger share of the items than the
/// percentage (executions-api.md §9).
pub fn exceeded(run: &MapRun) -> bool {
    let c = &run.counts;
    let failed = c.failed + c.timed_out + c.aborted;
    if failed == 0 {
        return false;
    }
    match (run.tolerated_count, run.tolerated_percentage) {
        (None, None) => true,
        (count, percentage) => {
            count.is_some_and(|n| failed > n)
                || percentage.is_some_and(|p| (failed as f64) * 100.0 / (run.total as f64) > p)
        }
    }
}

/// Ends a RUNNING run its counts decide: failed (its running children aborted) when too many
/// children failed, succeeded when every child has closed.
fn settle(tx: &dyn Tx, mut run: MapRun, now: i64) -> Result<(), StoreError> {
    match decide(tx, &mut run, now)? {
        Some(outcome) => answer(tx, &run, outcome, now),
        None => Ok(()),
    }
}

/// [`settle`]'s decision, recorded on the run: the outcome its Map state gets now, if any
/// (with a ResultWriter the end waits for the results to be written: `ending`).
fn decide(tx: &dyn Tx, run: &mut MapRun, now: i64) -> Result<Option<MapRunOutcome>, StoreError> {
    // Items still to read, or an end already decided (its results being written).
    if run.status != MapRunStatus::Running || run.reader.is_some() || run.ending.is_some() {
        return Ok(None);
    }
    let failed = exceeded(run);
    if !failed && (run.counts.started < run.total || run.counts.running > 0) {
        return Ok(None);
    }
    let writer: Option<super::items::WriteSpec> = run
        .writer
        .as_deref()
        .and_then(|w| serde_json::from_str(w).ok());
    let to_s3 = writer.as_ref().is_some_and(super::items::WriteSpec::to_s3);
    let outcome = if failed {
        MapRunOutcome::Failed {
            error: Some(THRESHOLD_ERROR.into()),
            cause: Some(THRESHOLD_CAUSE.into()),
        }
    } else {
        // With a ResultWriter the results are read when they are written.
        MapRunOutcome::Succeeded {
            results: Vec::new(),
        }
    };
    if to_s3 {
        run.ending = Some(text(&outcome));
    } else {
        run.status = if failed {
            MapRunStatus::Failed
        } else {
            MapRunStatus::Succeeded
        };
        run.stop_ms = Some(now);
    }
    tx.map_runs().save(run)?;
    if failed {
        stop_children(tx, run.key, now)?;
    }
    if to_s3 {
        return Ok(None);
    }
    if failed {
        return Ok(Some(outcome));
    }
    if let Some(spec) = writer {
        let children = tx.map_runs().children(run.key)?;
        let results = super::items::transformed(&spec, &records(&children));
        return Ok(Some(MapRunOutcome::Succeeded { results }));
    }
    let results = tx
        .map_runs()
        .results(run.key)?
        .into_iter()
        .map(|r| match r.status {
            ExecutionStatus::Succeeded => r
                .output
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or(Value::Null),
            // A tolerated failure leaves its error where its output would be.
            _ => json!({"Error": r.error, "Cause": r.cause}),
        })
        .collect();
    Ok(Some(MapRunOutcome::Succeeded { results }))
}

/// Redrives run `arn` (its parent was redriven while waiting on it): RUNNING again, its
/// failed, timed-out and aborted children redriven where they can be (the others counted as
/// not redrivable), its items never started handed out as before. Returns the outcome when
/// that decides the run at once.
pub fn redrive(tx: &dyn Tx, arn: &str, now: i64) -> Result<Option<MapRunOutcome>, StoreError> {
    let Some(mut run) = tx.map_runs().find(arn)? else {
        return Ok(Some(MapRunOutcome::Failed {
            error: Some("States.Runtime".into()),
            cause: Some(format!("The map run {arn} no longer exists")),
        }));
    };
    if run.redrive_count >= MAX_REDRIVES {
        return Ok(Some(MapRunOutcome::Failed {
            error: Some("States.Runtime".into()),
            cause: Some(format!(
                "The map run {arn} was redriven {MAX_REDRIVES} times, the most a map run can be"
            )),
        }));
    }
    run.status = MapRunStatus::Running;
    run.stop_ms = None;
    run.ending = None;
    run.redrive_count += 1;
    run.redrive_ms = Some(now);
    run.not_redrivable = 0;
    for child in tx.map_runs().children(run.key)? {
        let c = &mut run.counts;
        let slot = match child.status {
            ExecutionStatus::Failed => &mut c.failed,
            ExecutionStatus::TimedOut => &mut c.timed_out,
            ExecutionStatus::Aborted => &mut c.aborted,
            _ => continue,
        };
        if super::tasks::redrive(tx, &child, now)? {
            *slot = slot.saturating_sub(1);
            c.running += 1;
        } else {
            run.not_redrivable += 1;
        }
    }
    tx.map_runs().save(&run)?;
    decide(tx, &mut run, now)
}

/// Saves a RUNNING run's new limits (UpdateMapRun); a lower tolerance may end it at once.
pub fn update(tx: &dyn Tx, run: MapRun, now: i64) -> Result<(), StoreError> {
    tx.map_runs().save(&run)?;
    settle(tx, run, now)
}

/// Stops a run's RUNNING children (each close counts itself as aborted).
fn stop_children(tx: &dyn Tx, run: MapRunKey, now: i64) -> Result<(), StoreError> {
    for child in tx.map_runs().running_children(run)? {
        super::tasks::stop(tx, &child, None, None, now)?;
    }
    Ok(())
}

/// Hands a run's end to the Map state waiting for it; a parent no longer waiting (stopped,
/// or its state left) is left alone.
fn answer(tx: &dyn Tx, run: &MapRun, outcome: MapRunOutcome, now: i64) -> Result<(), StoreError> {
    deliver(tx, run, now, |w| w.outcome = Some(outcome)).map(|_| ())
}

/// Changes the wait for `run` in its parent's stored position with `change` and makes the
/// parent due now; returns the parent when it was still waiting.
fn deliver(
    tx: &dyn Tx,
    run: &MapRun,
    now: i64,
    change: impl FnOnce(&mut step::MapRunWait),
) -> Result<Option<ExecutionKey>, StoreError> {
    let Some(parent) = tx.executions().get(run.execution)? else {
        return Ok(None);
    };
    if parent.status != ExecutionStatus::Running {
        return Ok(None);
    }
    let Some(mut progress) = parent
        .position
        .as_deref()
        .and_then(|p| serde_json::from_str::<Progress>(p).ok())
    else {
        return Ok(None);
    };
    let Some(w) = step::map_runs_mut(&mut progress.position)
        .into_iter()
        .find(|w| w.arn == run.arn)
    else {
        return Ok(None);
    };
    change(w);
    let position = serde_json::to_string(&progress)
        .map_err(|e| StoreError::internal(format!("position: {e}")))?;
    let due = parent.due_ms.map_or(now, |d| d.min(now));
    tx.executions().advance(
        parent.key,
        parent.last_event,
        parent.moves,
        &[],
        &position,
        due,
    )?;
    Ok(Some(parent.key))
}

/// Aborts the RUNNING runs named in `before` that `after` no longer waits on (their Map state
/// was aborted, or the execution closed), with their running children.
pub fn abort_gone(
    tx: &dyn Tx,
    before: Option<&str>,
    after: Option<&Progress>,
    now: i64,
) -> Result<(), StoreError> {
    let Some(before) = before.filter(|p| waits_on_runs(p)) else {
        return Ok(());
    };
    let Ok(before) = serde_json::from_str::<Progress>(before) else {
        return Ok(());
    };
    let kept: Vec<&str> = after.map_or_else(Vec::new, |p| {
        step::map_runs(&p.position)
            .into_iter()
            .map(|w| w.arn.as_str())
            .collect()
    });
    for arn in step::map_runs(&before.position)
        .into_iter()
        .map(|w| w.arn.as_str())
    {
        if kept.contains(&arn) {
            continue;
        }
        if let Some(mut run) = tx.map_runs().find(arn)? {
            if run.status == MapRunStatus::Running {
                run.status = MapRunStatus::Aborted;
                run.stop_ms = Some(now);
                tx.map_runs().save(&run)?;
                stop_children(tx, run.key, now)?;
            }
        }
    }
    Ok(())
}

/// Records what a run's ItemReader read: the items go to the Map state waiting in the
/// parent's position (its next step makes them the children's inputs and clears the reader);
/// a failed read fails the run with `States.ItemReaderFailed`. Returns the parent to step.
pub fn read_done(
    tx: &dyn Tx,
    key: MapRunKey,
    read: Result<Vec<Value>, String>,
    now: i64,
) -> Result<Option<ExecutionKey>, StoreError> {
    let Some(mut run) = tx.map_runs().get(key)? else {
        return Ok(None);
    };
    if run.status != MapRunStatus::Running || run.reader.is_none() {
        return Ok(None);
    }
    match read {
        Ok(items) => deliver(tx, &run, now, |w| w.items = Some(items)),
        Err(cause) => {
            // The reader stays: a redrive of the run reads again.
            run.status = MapRunStatus::Failed;
            run.stop_ms = Some(now);
            tx.map_runs().save(&run)?;
            let outcome = MapRunOutcome::Failed {
                error: Some(super::items::READER_FAILED.into()),
                cause: Some(cause),
            };
            deliver(tx, &run, now, |w| w.outcome = Some(outcome))
        }
    }
}

/// Ends a run whose results were written (`Ok(manifest key)`) or could not be
/// (`States.ResultWriterFailed`), as its decided ending says, and answers its Map state.
pub fn written(
    tx: &dyn Tx,
    key: MapRunKey,
    result: Result<String, String>,
    now: i64,
) -> Result<(), StoreError> {
    let Some(mut run) = tx.map_runs().get(key)? else {
        return Ok(());
    };
    if run.status != MapRunStatus::Running {
        return Ok(());
    }
    let (Some(ending), Some(writer)) = (run.ending.take(), run.writer.as_deref()) else {
        return Ok(());
    };
    let ending: MapRunOutcome = serde_json::from_str(&ending)
        .map_err(|e| StoreError::internal(format!("map run ending: {e}")))?;
    let spec: super::items::WriteSpec = serde_json::from_str(writer)
        .map_err(|e| StoreError::internal(format!("map run writer: {e}")))?;
    let outcome = match (result, ending) {
        (Err(cause), _) => MapRunOutcome::Failed {
            error: Some(super::items::WRITER_FAILED.into()),
            cause: Some(cause),
        },
        (Ok(_), failed @ MapRunOutcome::Failed { .. }) => failed,
        (Ok(manifest), _) => MapRunOutcome::Written {
            output: super::items::written_output(&spec, &run.arn, &manifest),
        },
    };
    run.status = match outcome {
        MapRunOutcome::Failed { .. } => MapRunStatus::Failed,
        _ => MapRunStatus::Succeeded,
    };
    run.stop_ms = Some(now);
    tx.map_runs().save(&run)?;
    answer(tx, &run, outcome, now)
}
