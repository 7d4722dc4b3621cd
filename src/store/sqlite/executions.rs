//! SQL for executions and their histories. Gap-free event ids and one execution per name
//! are enforced by the schema (migration V5), not here.

use rusqlite::{params, Connection, OptionalExtension};

use crate::domain::records::{
    Begin, Closing, Execution, ExecutionKey, ExecutionStatus, ExecutionSummary, HistoryEvent,
    MapRunKey, NewExecution,
};
use crate::store::repo::{self, Result};
use crate::store::rows::{self, last_of, pack, EXECUTION_COLUMNS as COLUMNS, SUMMARY_COLUMNS};

/// Appends `events` (the next ids of `execution`, consecutive) as one chunk.
pub(super) fn append(c: &Connection, execution: i64, events: &[HistoryEvent]) -> Result<()> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok(());
    };
    c.prepare_cached(
        "INSERT INTO history_chunks (execution_id, first_event, last_event, events) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![execution, first.id as i64, last.id as i64, pack(events)])?;
    Ok(())
}

pub(super) struct Repo<'a>(pub &'a Connection);

impl Repo<'_> {
    fn append(&self, execution: ExecutionKey, events: &[HistoryEvent]) -> Result<()> {
        append(self.0, execution.0, events)
    }

    fn by(&self, clause: &str, p: impl rusqlite::Params) -> Result<Option<Execution>> {
        let mut st = self
            .0
            .prepare_cached(&format!("SELECT {COLUMNS} FROM executions WHERE {clause}"))?;
        Ok(st.query_row(p, |r| rows::execution(r)).optional()?)
    }
}

impl repo::Executions for Repo<'_> {
    fn start(
        &self,
        e: &NewExecution<'_>,
        events: &[HistoryEvent],
        begin: Begin<'_>,
    ) -> Result<Option<ExecutionKey>> {
        let (status, output, error, cause, stop_ms, position, due_ms) = match begin {
            Begin::Running { position, due_ms } => (
                "RUNNING",
                None,
                None,
                None,
                None,
                Some(position),
                Some(due_ms),
            ),
            Begin::Closed(c) => (
                c.status.as_str(),
                c.output.as_deref(),
                c.error.as_deref(),
                c.cause.as_deref(),
                Some(c.stop_ms),
                None,
                None,
            ),
        };
        let resume = match begin {
            Begin::Closed(c) => c.resume.as_deref(),
            Begin::Running { .. } => None,
        };
        let inserted = self
            .0
            .prepare_cached(
                "INSERT INTO executions (arn, machine_arn, name, version_arn, alias_arn, revision, status, input, output, error, cause,
                                         trace_header, start_ms, stop_ms, position, due_ms, last_event, parent_token, resume,
                                         map_run_id, item_index, item_count)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
            )?
            .execute(params![
                e.arn,
                e.machine_arn,
                e.name,
                e.version_arn,
                e.alias_arn,
                e.revision.0,
                status,
                e.input,
                output,
                error,
                cause,
                e.trace_header,
                e.start_ms,
                stop_ms,
                position,
                due_ms,
                last_of(events, 0) as i64,
                e.parent_token,
                resume,
                e.map_run.map(|c| c.run.0),
                e.map_run.map(|c| c.index as i64),
                e.map_run.map(|c| c.items as i64)
            ]);
        match inserted {
            Ok(_) => {}
            // The name is taken: the machine's (machine ARN, name) and the ARN are unique.
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e.into()),
        }
        let key = ExecutionKey(self.0.last_insert_rowid());
        self.append(key, events)?;
        Ok(Some(key))
    }

    fn get(&self, key: ExecutionKey) -> Result<Option<Execution>> {
        self.by("id = ?1", [key.0])
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
        expected_moves: u64,
        events: &[HistoryEvent],
        position: &str,
        due_ms: i64,
    ) -> Result<bool> {
        // Conditional on the reading the step was computed from; the events follow only if
        // it held (their ids are checked by the schema either way).
        let moved = self
            .0
            .prepare_cached(
                "UPDATE executions SET position = ?2, due_ms = ?3, last_event = ?4, moves = moves + 1
                 WHERE id = ?1 AND status = 'RUNNING' AND last_event = ?5 AND moves = ?6",
            )?
            .execute(params![
                execution.0,
                position,
                due_ms,
                last_of(events, expected_last) as i64,
                expected_last as i64,
                expected_moves as i64
            ])?;
        if moved == 0 {
            return Ok(false);
        }
        self.append(execution, events)?;
        Ok(true)
    }

    fn redrive(
        &self,
        execution: ExecutionKey,
        expected_last: u64,
        events: &[HistoryEvent],
        position: &str,
        now_ms: i64,
    ) -> Result<bool> {
        let redriven = self
            .0
            .prepare_cached(
                "UPDATE executions SET status = 'RUNNING', output = NULL, error = NULL, cause = NULL, stop_ms = NULL,
                        position = ?2, due_ms = ?3, last_event = ?4, moves = moves + 1, resume = NULL,
                        redrive_count = redrive_count + 1, redrive_ms = ?3
                 WHERE id = ?1 AND status IN ('FAILED', 'TIMED_OUT', 'ABORTED') AND last_event = ?5
                       AND resume IS NOT NULL",
            )?
            .execute(params![
                execution.0,
                position,
                now_ms,
                last_of(events, expected_last) as i64,
                expected_last as i64
            ])?;
        if redriven == 0 {
            return Ok(false);
        }
        self.append(execution, events)?;
        Ok(true)
    }

    fn close(
        &self,
        execution: ExecutionKey,
        expected_last: u64,
        expected_moves: u64,
        events: &[HistoryEvent],
        c: &Closing,
    ) -> Result<bool> {
        let closed = self
            .0
            .prepare_cached(
                "UPDATE executions SET status = ?2, output = ?3, error = ?4, cause = ?5, stop_ms = ?6, position = NULL, due_ms = NULL,
                        last_event = ?7, moves = moves + 1, resume = ?10
                 WHERE id = ?1 AND status = 'RUNNING' AND last_event = ?8 AND moves = ?9",
            )?
            .execute(params![
                execution.0,
                c.status.as_str(),
                c.output,
                c.error,
                c.cause,
                c.stop_ms,
                last_of(events, expected_last) as i64,
                expected_last as i64,
                expected_moves as i64,
                c.resume
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
        // Each chunk holds at least one event, so `limit` chunks from the right place hold
        // every event of the page.
        let sql = if reverse {
            "SELECT first_event, events FROM history_chunks
             WHERE execution_id = ?1 AND first_event < ?2 ORDER BY first_event DESC LIMIT ?3"
        } else {
            // From the chunk holding event `after + 1` on.
            "SELECT first_event, events FROM history_chunks
             WHERE execution_id = ?1 AND first_event >= coalesce(
                 (SELECT first_event FROM history_chunks
                  WHERE execution_id = ?1 AND first_event <= ?2 + 1 ORDER BY first_event DESC LIMIT 1), 1)
             ORDER BY first_event LIMIT ?3"
        };
        let bound = rows::history_bound(after, reverse);
        let mut st = self.0.prepare_cached(sql)?;
        let chunks = st
            .query_map(params![execution.0, bound, limit as i64], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows::page(chunks, bound, reverse, limit)
    }

    fn list(
        &self,
        machine_arn: &str,
        version_or_alias: Option<&str>,
        status: Option<ExecutionStatus>,
        redriven: Option<bool>,
        after: Option<(i64, ExecutionKey)>,
        limit: usize,
    ) -> Result<Vec<ExecutionSummary>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM executions
             WHERE machine_arn = ?1
               AND (?2 IS NULL OR version_arn = ?2 OR alias_arn = ?2)
               AND (?3 IS NULL OR status = ?3)
               AND (?7 IS NULL OR (redrive_count > 0) = ?7)
               AND (start_ms < ?4 OR (start_ms = ?4 AND id < ?5))
             ORDER BY start_ms DESC, id DESC LIMIT ?6"
        ))?;
        let (start, key) = after.map_or((i64::MAX, i64::MAX), |(s, k)| (s, k.0));
        let rows = st.query_map(
            params![
                machine_arn,
                version_or_alias,
                status.map(ExecutionStatus::as_str),
                start,
                key,
                limit as i64,
                redriven
            ],
            |r| rows::summary(r),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn list_children(
        &self,
        run: MapRunKey,
        status: Option<ExecutionStatus>,
        after: Option<(i64, ExecutionKey)>,
        limit: usize,
    ) -> Result<Vec<ExecutionSummary>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM executions
             WHERE map_run_id = ?1
               AND (?2 IS NULL OR status = ?2)
               AND (start_ms < ?3 OR (start_ms = ?3 AND id < ?4))
             ORDER BY start_ms DESC, id DESC LIMIT ?5"
        ))?;
        let (start, key) = after.map_or((i64::MAX, i64::MAX), |(s, k)| (s, k.0));
        let rows = st.query_map(
            params![
                run.0,
                status.map(ExecutionStatus::as_str),
                start,
                key,
                limit as i64
            ],
            |r| rows::summary(r),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Execution>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM executions
             WHERE status = 'RUNNING' AND due_ms <= ?1
             ORDER BY due_ms, id LIMIT ?2"
        ))?;
        let rows = st.query_map(params![now_ms, limit as i64], |r| rows::execution(r))?;
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
