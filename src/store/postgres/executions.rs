//! SQL for executions and their histories, and the leases by which replicas share the
//! stepping of RUNNING executions. Gap-free event ids and one execution per name are the
//! schema's rules (migration V1), not this file's.

use crate::domain::records::{
    Begin, Closing, Execution, ExecutionKey, ExecutionStatus, ExecutionSummary, HistoryEvent,
    MapRunKey, NewExecution,
};
use crate::store::repo::{self, Result};
use crate::store::rows::{self, last_of, pack, EXECUTION_COLUMNS as COLUMNS, SUMMARY_COLUMNS};

use super::{Pg, SERVER_NOW};

pub(super) struct Repo<'a>(pub &'a Pg);

/// Appends `events` (the next ids of `execution`, consecutive) as one chunk.
fn append(pg: &Pg, execution: i64, events: &[HistoryEvent]) -> Result<()> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok(());
    };
    pg.exec(
        "INSERT INTO history_chunks (execution_id, first_event, last_event, events) VALUES ($1, $2, $3, $4)",
        &[&execution, &(first.id as i64), &(last.id as i64), &pack(events)],
    )?;
    Ok(())
}

impl Repo<'_> {
    fn by(&self, clause: &str, params: &super::Params<'_>) -> Result<Option<Execution>> {
        self.0.first(
            &format!("SELECT {COLUMNS} FROM executions WHERE {clause}"),
            params,
            rows::execution,
        )
    }
}

impl repo::Executions for Repo<'_> {
    fn start(
        &self,
        e: &NewExecution<'_>,
        events: &[HistoryEvent],
        begin: Begin<'_>,
    ) -> Result<Option<ExecutionKey>> {
        let (status, output, error, cause, stop_ms, position, due_ms, resume) = match begin {
            Begin::Running { position, due_ms } => (
                "RUNNING",
                None,
                None,
                None,
                None,
                Some(position),
                Some(due_ms),
                None,
            ),
            Begin::Closed(c) => (
                c.status.as_str(),
                c.output.as_deref(),
                c.error.as_deref(),
                c.cause.as_deref(),
                Some(c.stop_ms),
                None,
                None,
                c.resume.as_deref(),
            ),
        };
        // The name is taken when the machine's (machine ARN, name) or the ARN exists: then
        // nothing is inserted (the transaction goes on, as StartExecution's idempotency needs).
        let row = self.0.opt(
            "INSERT INTO executions (arn, machine_arn, name, version_arn, alias_arn, revision, status, input, output, error, cause,
                                     trace_header, start_ms, stop_ms, position, due_ms, last_event, parent_token, resume,
                                     map_run_id, item_index, item_count)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
             ON CONFLICT DO NOTHING RETURNING id",
            &[
                &e.arn,
                &e.machine_arn,
                &e.name,
                &e.version_arn,
                &e.alias_arn,
                &e.revision.0,
                &status,
                &e.input,
                &output,
                &error,
                &cause,
                &e.trace_header,
                &e.start_ms,
                &stop_ms,
                &position,
                &due_ms,
                &(last_of(events, 0) as i64),
                &e.parent_token,
                &resume,
                &e.map_run.map(|c| c.run.0),
                &e.map_run.map(|c| c.index as i64),
                &e.map_run.map(|c| c.items as i64),
            ],
        )?;
        let Some(row) = row else {
            return Ok(None);
        };
        let key = ExecutionKey(row.try_get(0)?);
        append(self.0, key.0, events)?;
        Ok(Some(key))
    }

    fn get(&self, key: ExecutionKey) -> Result<Option<Execution>> {
        self.by("id = $1", &[&key.0])
    }

    fn find(&self, arn: &str) -> Result<Option<Execution>> {
        self.by("arn = $1", &[&arn])
    }

    fn find_by_name(&self, machine_arn: &str, name: &str) -> Result<Option<Execution>> {
        self.by("machine_arn = $1 AND name = $2", &[&machine_arn, &name])
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
        // Conditional on the reading the step was computed from, which no replica holding a
        // stale one can match; the step's commit ends the lease it was taken under.
        let moved = self.0.exec(
            "UPDATE executions SET position = $2, due_ms = $3, last_event = $4, moves = moves + 1,
                    lease_owner = NULL, lease_until = NULL
             WHERE id = $1 AND status = 'RUNNING' AND last_event = $5 AND moves = $6",
            &[
                &execution.0,
                &position,
                &due_ms,
                &(last_of(events, expected_last) as i64),
                &(expected_last as i64),
                &(expected_moves as i64),
            ],
        )?;
        if moved == 0 {
            return Ok(false);
        }
        append(self.0, execution.0, events)?;
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
        let redriven = self.0.exec(
            "UPDATE executions SET status = 'RUNNING', output = NULL, error = NULL, cause = NULL, stop_ms = NULL,
                    position = $2, due_ms = $3, last_event = $4, moves = moves + 1, resume = NULL,
                    redrive_count = redrive_count + 1, redrive_ms = $3, lease_owner = NULL, lease_until = NULL
             WHERE id = $1 AND status IN ('FAILED', 'TIMED_OUT', 'ABORTED') AND last_event = $5
                   AND resume IS NOT NULL",
            &[
                &execution.0,
                &position,
                &now_ms,
                &(last_of(events, expected_last) as i64),
                &(expected_last as i64),
            ],
        )?;
        if redriven == 0 {
            return Ok(false);
        }
        append(self.0, execution.0, events)?;
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
        let closed = self.0.exec(
            "UPDATE executions SET status = $2, output = $3, error = $4, cause = $5, stop_ms = $6, position = NULL, due_ms = NULL,
                    last_event = $7, moves = moves + 1, resume = $10, lease_owner = NULL, lease_until = NULL
             WHERE id = $1 AND status = 'RUNNING' AND last_event = $8 AND moves = $9",
            &[
                &execution.0,
                &c.status.as_str(),
                &c.output,
                &c.error,
                &c.cause,
                &c.stop_ms,
                &(last_of(events, expected_last) as i64),
                &(expected_last as i64),
                &(expected_moves as i64),
                &c.resume,
            ],
        )?;
        if closed == 0 {
            return Ok(false);
        }
        append(self.0, execution.0, events)?;
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
             WHERE execution_id = $1 AND first_event < $2 ORDER BY first_event DESC LIMIT $3"
        } else {
            // From the chunk holding event `after + 1` on.
            "SELECT first_event, events FROM history_chunks
             WHERE execution_id = $1 AND first_event >= coalesce(
                 (SELECT first_event FROM history_chunks
                  WHERE execution_id = $1 AND first_event <= $2::bigint + 1 ORDER BY first_event DESC LIMIT 1), 1)
             ORDER BY first_event LIMIT $3"
        };
        let bound = rows::history_bound(after, reverse);
        let chunks = self
            .0
            .rows(sql, &[&execution.0, &bound, &(limit as i64)])?
            .iter()
            .map(|r| Ok((r.try_get::<_, i64>(0)? as u64, r.try_get::<_, String>(1)?)))
            .collect::<Result<Vec<_>>>()?;
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
        let (start, key) = after.map_or((i64::MAX, i64::MAX), |(s, k)| (s, k.0));
        self.0.all(
            &format!(
                "SELECT {SUMMARY_COLUMNS} FROM executions
                 WHERE machine_arn = $1
                   AND ($2::text IS NULL OR version_arn = $2 OR alias_arn = $2)
                   AND ($3::text IS NULL OR status = $3)
                   AND ($7::boolean IS NULL OR (redrive_count > 0) = $7)
                   AND (start_ms < $4 OR (start_ms = $4 AND id < $5))
                 ORDER BY start_ms DESC, id DESC LIMIT $6"
            ),
            &[
                &machine_arn,
                &version_or_alias,
                &status.map(ExecutionStatus::as_str),
                &start,
                &key,
                &(limit as i64),
                &redriven,
            ],
            rows::summary,
        )
    }

    fn list_children(
        &self,
        run: MapRunKey,
        status: Option<ExecutionStatus>,
        after: Option<(i64, ExecutionKey)>,
        limit: usize,
    ) -> Result<Vec<ExecutionSummary>> {
        let (start, key) = after.map_or((i64::MAX, i64::MAX), |(s, k)| (s, k.0));
        self.0.all(
            &format!(
                "SELECT {SUMMARY_COLUMNS} FROM executions
                 WHERE map_run_id = $1
                   AND ($2::text IS NULL OR status = $2)
                   AND (start_ms < $3 OR (start_ms = $3 AND id < $4))
                 ORDER BY start_ms DESC, id DESC LIMIT $5"
            ),
            &[
                &run.0,
                &status.map(ExecutionStatus::as_str),
                &start,
                &key,
                &(limit as i64),
            ],
            rows::summary,
        )
    }

    /// Due executions leased to this replica: those no live lease holds are taken (rows
    /// another replica is taking at this moment are skipped, not waited for), each lease
    /// lasting the replica's lease period or until the step's commit.
    fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Execution>> {
        let replica = self.0.replica();
        let lease_ms = replica.lease.as_millis() as i64;
        let mut due = self.0.all(
            &format!(
                "WITH c AS (
                     SELECT id AS claimed FROM executions
                     WHERE status = 'RUNNING' AND due_ms <= $1
                       AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < {SERVER_NOW})
                     ORDER BY due_ms, id LIMIT $3
                     FOR UPDATE SKIP LOCKED)
                 UPDATE executions SET lease_owner = $2, lease_until = {SERVER_NOW} + $4,
                        lease_epoch = lease_epoch + 1
                 FROM c WHERE id = c.claimed
                 RETURNING {COLUMNS}"
            ),
            &[&now_ms, &replica.id, &(limit as i64), &lease_ms],
            rows::execution,
        )?;
        due.sort_by_key(|e| (e.due_ms, e.key.0));
        Ok(due)
    }

    /// The earliest time this replica may step something: an execution another replica
    /// holds counts from the end of that lease.
    fn next_due(&self) -> Result<Option<i64>> {
        Ok(self
            .0
            .one(
                "SELECT min(CASE WHEN lease_owner IS NULL OR lease_owner = $1 THEN due_ms
                                 ELSE greatest(due_ms, lease_until) END)
                 FROM executions WHERE status = 'RUNNING'",
                &[&self.0.replica().id],
            )?
            .try_get(0)?)
    }

    fn running(&self, machine_arn: &str) -> Result<i64> {
        Ok(self
            .0
            .one(
                "SELECT count(*) FROM executions WHERE machine_arn = $1 AND status = 'RUNNING'",
                &[&machine_arn],
            )?
            .try_get(0)?)
    }
}
