//! What both backends read the same way: the mapping of a result row to each record (by
//! column position, the column lists being each backend's `COLUMNS`), and the text of a
//! history chunk. A backend implements [`Cols`] for its row type once; the mappers here are
//! then the one place where a column becomes a field.

use crate::domain::records::{
    Activity, ActivityKey, Alias, AliasKey, ChildOf, Execution, ExecutionKey, ExecutionStatus,
    ExecutionSummary, HistoryEvent, Machine, MachineKey, MachineType, MapRun, MapRunCounts,
    MapRunKey, MapRunStatus, Revision, RevisionId, RevisionKey, Snapshot, Version, VersionKey,
    VersionNumber,
};
use crate::store::repo::Result;
use crate::store::StoreError;

/// A result row read by column position. Integers are 64-bit on both backends (PostgreSQL
/// queries cast narrower columns and aggregates to `bigint`).
pub(crate) trait Cols {
    type Error;
    fn int(&self, i: usize) -> std::result::Result<i64, Self::Error>;
    fn opt_int(&self, i: usize) -> std::result::Result<Option<i64>, Self::Error>;
    fn text(&self, i: usize) -> std::result::Result<String, Self::Error>;
    fn opt_text(&self, i: usize) -> std::result::Result<Option<String>, Self::Error>;
    fn flag(&self, i: usize) -> std::result::Result<bool, Self::Error>;
    fn opt_real(&self, i: usize) -> std::result::Result<Option<f64>, Self::Error>;

    /// A count or size column, never negative (its CHECK constraint).
    fn count(&self, i: usize) -> std::result::Result<u64, Self::Error> {
        Ok(self.int(i)?.max(0) as u64)
    }
}

/// Maps `id, arn, name, type, created_ms, deleting`.
pub(crate) fn machine<R: Cols>(r: &R) -> std::result::Result<Machine, R::Error> {
    Ok(Machine {
        key: MachineKey(r.int(0)?),
        arn: r.text(1)?,
        name: r.text(2)?,
        // The CHECK constraint on `type` admits only these two.
        kind: MachineType::parse(&r.text(3)?).unwrap_or(MachineType::Standard),
        created_ms: r.int(4)?,
        deleting: r.flag(5)?,
    })
}

/// Maps `id, revision_id, definition, role_arn, logging, tracing, encryption, created_ms`.
pub(crate) fn revision<R: Cols>(r: &R) -> std::result::Result<Revision, R::Error> {
    Ok(Revision {
        key: RevisionKey(r.int(0)?),
        revision_id: r.opt_text(1)?.map(RevisionId),
        snapshot: Snapshot {
            definition: r.text(2)?,
            role_arn: r.text(3)?,
            logging: r.text(4)?,
            tracing: r.text(5)?,
            encryption: r.text(6)?,
        },
        created_ms: r.int(7)?,
    })
}

/// Maps `id, number, revision, description, created_ms`.
pub(crate) fn version<R: Cols>(r: &R) -> std::result::Result<Version, R::Error> {
    Ok(Version {
        key: VersionKey(r.int(0)?),
        number: VersionNumber(r.int(1)?),
        revision: RevisionKey(r.int(2)?),
        description: r.opt_text(3)?,
        created_ms: r.int(4)?,
    })
}

/// Maps `id, name, description, created_ms, updated_ms`.
pub(crate) fn alias<R: Cols>(r: &R) -> std::result::Result<Alias, R::Error> {
    Ok(Alias {
        key: AliasKey(r.int(0)?),
        name: r.text(1)?,
        description: r.opt_text(2)?,
        created_ms: r.int(3)?,
        updated_ms: r.int(4)?,
    })
}

/// Maps `id, arn, name, created_ms, encryption`.
pub(crate) fn activity<R: Cols>(r: &R) -> std::result::Result<Activity, R::Error> {
    Ok(Activity {
        key: ActivityKey(r.int(0)?),
        arn: r.text(1)?,
        name: r.text(2)?,
        created_ms: r.int(3)?,
        encryption: r.text(4)?,
    })
}

/// The columns [`execution`] maps.
pub(crate) const EXECUTION_COLUMNS: &str = "id, arn, machine_arn, name, version_arn, alias_arn, revision, status, input, output, error, cause, trace_header, start_ms, stop_ms, position, due_ms, last_event, moves, parent_token, resume, redrive_count, redrive_ms, map_run_id, item_index, item_count";

/// The columns [`summary`] maps.
pub(crate) const SUMMARY_COLUMNS: &str = "id, arn, machine_arn, name, version_arn, alias_arn, status, start_ms, stop_ms, redrive_count, redrive_ms, map_run_id, item_index, item_count";

/// The columns [`map_run`] maps.
pub(crate) const MAP_RUN_COLUMNS: &str = "id, arn, execution_id, map_state, revision, machine_arn, express, status, max_concurrency, tolerated_count, tolerated_percentage, total, items, started, running, succeeded, failed, timed_out, aborted, start_ms, stop_ms, reader, writer, ending, redrive_count, redrive_ms, not_redrivable";

/// A status column: the CHECK constraint admits only the five statuses.
fn status<R: Cols>(r: &R, i: usize) -> std::result::Result<ExecutionStatus, R::Error> {
    Ok(ExecutionStatus::parse(&r.text(i)?).unwrap_or(ExecutionStatus::Running))
}

/// The run, index and item count of a child (columns `at`, `at + 1`, `at + 2`).
fn child_of<R: Cols>(r: &R, at: usize) -> std::result::Result<Option<ChildOf>, R::Error> {
    Ok(match r.opt_int(at)? {
        Some(run) => Some(ChildOf {
            run: MapRunKey(run),
            index: r.opt_int(at + 1)?.unwrap_or(0).max(0) as u64,
            items: r.opt_int(at + 2)?.unwrap_or(1).max(0) as u64,
        }),
        None => None,
    })
}

/// Maps [`EXECUTION_COLUMNS`].
pub(crate) fn execution<R: Cols>(r: &R) -> std::result::Result<Execution, R::Error> {
    Ok(Execution {
        key: ExecutionKey(r.int(0)?),
        arn: r.text(1)?,
        machine_arn: r.text(2)?,
        name: r.text(3)?,
        version_arn: r.opt_text(4)?,
        alias_arn: r.opt_text(5)?,
        revision: RevisionKey(r.int(6)?),
        status: status(r, 7)?,
        input: r.text(8)?,
        output: r.opt_text(9)?,
        error: r.opt_text(10)?,
        cause: r.opt_text(11)?,
        trace_header: r.opt_text(12)?,
        start_ms: r.int(13)?,
        stop_ms: r.opt_int(14)?,
        position: r.opt_text(15)?,
        due_ms: r.opt_int(16)?,
        last_event: r.count(17)?,
        moves: r.count(18)?,
        parent_token: r.opt_text(19)?,
        resume: r.opt_text(20)?,
        redrive_count: r.count(21)?,
        redrive_ms: r.opt_int(22)?,
        map_run: child_of(r, 23)?,
    })
}

/// Maps [`SUMMARY_COLUMNS`].
pub(crate) fn summary<R: Cols>(r: &R) -> std::result::Result<ExecutionSummary, R::Error> {
    Ok(ExecutionSummary {
        key: ExecutionKey(r.int(0)?),
        arn: r.text(1)?,
        machine_arn: r.text(2)?,
        name: r.text(3)?,
        version_arn: r.opt_text(4)?,
        alias_arn: r.opt_text(5)?,
        status: status(r, 6)?,
        start_ms: r.int(7)?,
        stop_ms: r.opt_int(8)?,
        redrive_count: r.count(9)?,
        redrive_ms: r.opt_int(10)?,
        map_run: child_of(r, 11)?,
    })
}

/// Maps [`MAP_RUN_COLUMNS`].
pub(crate) fn map_run<R: Cols>(r: &R) -> std::result::Result<MapRun, R::Error> {
    Ok(MapRun {
        key: MapRunKey(r.int(0)?),
        arn: r.text(1)?,
        execution: ExecutionKey(r.int(2)?),
        map_state: r.text(3)?,
        revision: RevisionKey(r.int(4)?),
        machine_arn: r.text(5)?,
        express: r.flag(6)?,
        // The CHECK constraint admits only the four statuses.
        status: MapRunStatus::parse(&r.text(7)?).unwrap_or(MapRunStatus::Running),
        max_concurrency: r.count(8)?,
        tolerated_count: r.opt_int(9)?.map(|v| v.max(0) as u64),
        tolerated_percentage: r.opt_real(10)?,
        total: r.count(11)?,
        items: r.count(12)?,
        counts: MapRunCounts {
            started: r.count(13)?,
            running: r.count(14)?,
            succeeded: r.count(15)?,
            failed: r.count(16)?,
            timed_out: r.count(17)?,
            aborted: r.count(18)?,
        },
        start_ms: r.int(19)?,
        stop_ms: r.opt_int(20)?,
        reader: r.opt_text(21)?,
        writer: r.opt_text(22)?,
        ending: r.opt_text(23)?,
        redrive_count: r.count(24)?,
        redrive_ms: r.opt_int(25)?,
        not_redrivable: r.count(26)?,
    })
}

/// Maps `status, output, error, cause` of a closed child.
pub(crate) fn child_result<R: Cols>(
    r: &R,
) -> std::result::Result<crate::domain::records::ChildResult, R::Error> {
    Ok(crate::domain::records::ChildResult {
        status: ExecutionStatus::parse(&r.text(0)?).unwrap_or(ExecutionStatus::Failed),
        output: r.opt_text(1)?,
        error: r.opt_text(2)?,
        cause: r.opt_text(3)?,
    })
}

/// One stored event of a chunk: `[previous_id, type, timestamp_ms, details]`.
type StoredEvent<'a> = (u64, String, i64, Option<&'a serde_json::value::RawValue>);

/// The events of one history chunk (ids from `first`).
pub(crate) fn unpack(first: u64, events: &str) -> Result<Vec<HistoryEvent>> {
    let stored: Vec<StoredEvent<'_>> = serde_json::from_str(events)
        .map_err(|e| StoreError::internal(format!("a stored history chunk is unreadable: {e}")))?;
    Ok(stored
        .into_iter()
        .zip(first..)
        .map(
            |((previous_id, kind, timestamp_ms, details), id)| HistoryEvent {
                id,
                previous_id,
                kind,
                timestamp_ms,
                details: details.map(|d| d.get().to_owned()),
            },
        )
        .collect())
}

/// The chunk text for `events` (consecutive ids): details are JSON texts already.
pub(crate) fn pack(events: &[HistoryEvent]) -> String {
    let mut text = String::with_capacity(
        2 + events
            .iter()
            .map(|e| e.details.as_ref().map_or(4, String::len) + e.kind.len() + 40)
            .sum::<usize>(),
    );
    text.push('[');
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push('[');
        text.push_str(&e.previous_id.to_string());
        text.push(',');
        text.push_str(&serde_json::Value::from(e.kind.as_str()).to_string());
        text.push(',');
        text.push_str(&e.timestamp_ms.to_string());
        text.push(',');
        text.push_str(e.details.as_deref().unwrap_or("null"));
        text.push(']');
    }
    text.push(']');
    text
}

/// The events of one history page from the chunks read for it (in the order read): those
/// after `bound` (before it, when `reverse`), at most `limit`.
pub(crate) fn page(
    chunks: Vec<(u64, String)>,
    bound: i64,
    reverse: bool,
    limit: usize,
) -> Result<Vec<HistoryEvent>> {
    let mut events = Vec::with_capacity(limit.min(1024));
    for (first, text) in chunks {
        let chunk = unpack(first, &text)?;
        if reverse {
            events.extend(chunk.into_iter().rev().filter(|e| e.id < bound as u64));
        } else {
            events.extend(chunk.into_iter().filter(|e| e.id > bound as u64));
        }
        if events.len() >= limit {
            break;
        }
    }
    events.truncate(limit);
    Ok(events)
}

/// The id bound of a history page: after `after` (before it when `reverse`), or from the
/// start (the end).
pub(crate) fn history_bound(after: Option<u64>, reverse: bool) -> i64 {
    match (after, reverse) {
        (Some(a), _) => a.min(i64::MAX as u64 - 1) as i64,
        (None, true) => i64::MAX,
        (None, false) => 0,
    }
}

/// The execution's last event id after appending `events`.
pub(crate) fn last_of(events: &[HistoryEvent], before: u64) -> u64 {
    events.last().map_or(before, |e| e.id)
}

/// The columns [`machine`] maps.
pub(crate) const MACHINE_COLUMNS: &str = "id, arn, name, type, created_ms, deleting";
/// The columns [`revision`] maps.
pub(crate) const REVISION_COLUMNS: &str =
    "id, revision_id, definition, role_arn, logging, tracing, encryption, created_ms";
/// The columns [`version`] maps.
pub(crate) const VERSION_COLUMNS: &str = "id, number, revision, description, created_ms";
/// The columns [`alias`] maps.
pub(crate) const ALIAS_COLUMNS: &str = "id, name, description, created_ms, updated_ms";
/// The columns [`activity`] maps.
pub(crate) const ACTIVITY_COLUMNS: &str = "id, arn, name, created_ms, encryption";
