//! SQL for executions and their histories. Gap-free event ids and one execution per name
//! are enforced by the schema (migration V5), not here.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::domain::records::{
    Closing, Execution, ExecutionKey, ExecutionStatus, ExecutionSummary, HistoryEvent,
    NewExecution, RevisionKey,
};
use crate::store::repo::{self, Result};
use crate::store::StoreError;

const COLUMNS: &str = "id, arn, machine_arn, name, version_arn, alias_arn, revision, status, input, output, error, cause, trace_header, start_ms, stop_ms, position, due_ms, last_event";

fn execution(r: &Row<'_>) -> rusqlite::Result<Execution> {
    let status: String = r.get(7)?;
    Ok(Execution {
        key: ExecutionKey(r.get(0)?),
        arn: r.get(1)?,
        machine_arn: r.get(2)?,
        name: r.get(3)?,
        version_arn: r.get(4)?,
        alias_arn: r.get(5)?,
        revision: RevisionKey(r.get(6)?),
        // The CHECK constraint admits only the five statuses.
        status: ExecutionStatus::parse(&status).unwrap_or(ExecutionStatus::Running),
        input: r.get(8)?,
        output: r.get(9)?,
        error: r.get(10)?,
        cause: r.get(11)?,
        trace_header: r.get(12)?,
        start_ms: r.get(13)?,
        stop_ms: r.get(14)?,
        position: r.get(15)?,
        due_ms: r.get(16)?,
        last_event: r.get::<_, i64>(17)? as u64,
    })
}

fn summary(r: &Row<'_>) -> rusqlite::Result<ExecutionSummary> {
    let status: String = r.get(6)?;
    Ok(ExecutionSummary {
        key: ExecutionKey(r.get(0)?),
        arn: r.get(1)?,
        machine_arn: r.get(2)?,
        name: r.get(3)?,
        version_arn: r.get(4)?,
        alias_arn: r.get(5)?,
        // The CHECK constraint admits only the five statuses.
        status: ExecutionStatus::parse(&status).unwrap_or(ExecutionStatus::Running),
        start_ms: r.get(7)?,
        stop_ms: r.get(8)?,
    })
}

fn event(r: &Row<'_>) -> rusqlite::Result<HistoryEvent> {
    Ok(HistoryEvent {
        id: r.get::<_, i64>(0)? as u64,
        previous_id: r.get::<_, i64>(1)? as u64,
        kind: r.get(2)?,
        timestamp_ms: r.get(3)?,
        details: r.get(4)?,
    })
}

/// The execution's last event id after appending `events`.
fn last_of(events: &[HistoryEvent], before: u64) -> u64 {
    events.last().map_or(before, |e| e.id)
}

pub(super) struct Repo<'a>(pub &'a Connection);

impl Repo<'_> {
    fn append(&self, execution: ExecutionKey, events: &[HistoryEvent]) -> Result<()> {
        let mut st = self.0.prepare_cached(
            "INSERT INTO history_events (execution_id, event_id, previous_id, type, timestamp_ms, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for e in events {
            st.execute(params![
                execution.0,
                e.id as i64,
                e.previous_id as i64,
                e.kind,
                e.timestamp_ms,
                e.details
            ])?;
        }
        Ok(())
    }

    fn by(&self, clause: &str, p: impl rusqlite::Params) -> Result<Option<Execution>> {
        let mut st = self
            .0
            .prepare_cached(&format!("SELECT {COLUMNS} FROM executions WHERE {clause}"))?;
        Ok(st.query_row(p, execution).optional()?)
    }
}

impl repo::Executions for Repo<'_> {
    fn start(&self, e: &NewExecution<'_>, started: &HistoryEvent) -> Result<Execution> {
        self.0
            .prepare_cached(
                "INSERT INTO executions (arn, machine_arn, name, version_arn, alias_arn, revision, status, input, trace_header, start_ms, position, due_ms, last_event)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'RUNNING', ?7, ?8, ?9, ?10, ?9, ?11)",
            )?
            .execute(params![
                e.arn,
                e.machine_arn,
                e.name,
                e.version_arn,
                e.alias_arn,
                e.revision.0,
                e.input,
                e.trace_header,
                e.start_ms,
                e.position,
                started.id as i64
            ])?;
        let key = ExecutionKey(self.0.last_insert_rowid());
        self.append(key, std::slice::from_ref(started))?;
        self.by("id = ?1", [key.0])?
            .ok_or_else(|| StoreError::internal("the execution just started is gone"))
    }

    fn find(&self, arn: &str) -> Result<Option<Execution>> {
        self.by("arn = ?1", [arn])
    }

    fn find_by_name(&self, machine_arn: &str, name: &str) -> Result<Option<Execution>> {
        self.by("machine_arn = ?1 AND name = ?2", [machine_arn, name])
    }

    fn advance(
        &self,
        execution: ExecutionKey,
        expected_last: u64,
        events: &[HistoryEvent],
        position: &str,
        due_ms: i64,
    ) -> Result<bool> {
        // Conditional on the reading the step was computed from; the events follow only if
        // it held (their ids are checked by the schema either way).
        let moved = self
            .0
            .prepare_cached(
                "UPDATE executions SET position = ?2, due_ms = ?3, last_event = ?4
                 WHERE id = ?1 AND status = 'RUNNING' AND last_event = ?5",
            )?
            .execute(params![
                execution.0,
                position,
                due_ms,
                last_of(events, expected_last) as i64,
                expected_last as i64
            ])?;
        if moved == 0 {
            return Ok(false);
        }
        self.append(execution, events)?;
        Ok(true)
    }

    fn close(
        &self,
        execution: ExecutionKey,
        expected_last: u64,
        events: &[HistoryEvent],
        c: &Closing,
    ) -> Result<bool> {
        let closed = self
            .0
            .prepare_cached(
                "UPDATE executions SET status = ?2, output = ?3, error = ?4, cause = ?5, stop_ms = ?6, position = NULL, due_ms = NULL,
                        last_event = ?7
                 WHERE id = ?1 AND status = 'RUNNING' AND last_event = ?8",
            )?
            .execute(params![
                execution.0,
                c.status.as_str(),
                c.output,
                c.error,
                c.cause,
                c.stop_ms,
                last_of(events, expected_last) as i64,
                expected_last as i64
            ])?;
        if closed == 0 {
            return Ok(false);
        }
        self.append(execution, events)?;
        Ok(true)
    }

    fn history(
        &self,
        execution: ExecutionKey,
        after: Option<u64>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<HistoryEvent>> {
        let sql = if reverse {
            "SELECT event_id, previous_id, type, timestamp_ms, details FROM history_events
             WHERE execution_id = ?1 AND event_id < ?2 ORDER BY event_id DESC LIMIT ?3"
        } else {
            "SELECT event_id, previous_id, type, timestamp_ms, details FROM history_events
             WHERE execution_id = ?1 AND event_id > ?2 ORDER BY event_id LIMIT ?3"
        };
        let bound = match (after, reverse) {
            (Some(a), _) => a as i64,
            (None, true) => i64::MAX,
            (None, false) => 0,
        };
        let mut st = self.0.prepare_cached(sql)?;
        let rows = st.query_map(params![execution.0, bound, limit as i64], event)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn list(
        &self,
        machine_arn: &str,
        version_or_alias: Option<&str>,
        status: Option<ExecutionStatus>,
        after: Option<(i64, ExecutionKey)>,
        limit: usize,
    ) -> Result<Vec<ExecutionSummary>> {
        let mut st = self.0.prepare_cached(
            "SELECT id, arn, machine_arn, name, version_arn, alias_arn, status, start_ms, stop_ms FROM executions
             WHERE machine_arn = ?1
               AND (?2 IS NULL OR version_arn = ?2 OR alias_arn = ?2)
               AND (?3 IS NULL OR status = ?3)
               AND (start_ms < ?4 OR (start_ms = ?4 AND id < ?5))
             ORDER BY start_ms DESC, id DESC LIMIT ?6",
        )?;
        let (start, key) = after.map_or((i64::MAX, i64::MAX), |(s, k)| (s, k.0));
        let rows = st.query_map(
            params![
                machine_arn,
                version_or_alias,
                status.map(ExecutionStatus::as_str),
                start,
                key,
                limit as i64
            ],
            summary,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Execution>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM executions
             WHERE status = 'RUNNING' AND due_ms <= ?1
             ORDER BY due_ms, id LIMIT ?2"
        ))?;
        let rows = st.query_map(params![now_ms, limit as i64], execution)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn next_due(&self) -> Result<Option<i64>> {
        Ok(self
            .0
            .prepare_cached("SELECT min(due_ms) FROM executions WHERE status = 'RUNNING'")?
            .query_row([], |r| r.get(0))?)
    }

    fn running(&self, machine_arn: &str) -> Result<i64> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT count(*) FROM executions WHERE machine_arn = ?1 AND status = 'RUNNING'",
            )?
            .query_row([machine_arn], |r| r.get(0))?)
    }
}
