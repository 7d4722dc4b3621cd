//! SQL for map runs: the runs, their pending inputs, and reading their children's results.

use crate::domain::records::{
    ChildResult, Execution, ExecutionKey, ExecutionStatus, MapRun, MapRunKey, NewMapRun,
};
use crate::store::repo::{self, Result};
use crate::store::rows::{self, EXECUTION_COLUMNS, MAP_RUN_COLUMNS as COLUMNS};

use super::Pg;

pub(super) struct Repo<'a>(pub &'a Pg);

impl Repo<'_> {
    fn put_inputs(&self, run: MapRunKey, from: u64, inputs: &[(String, u64)]) -> Result<()> {
        // One statement for the whole batch: arrays unnested server-side.
        if inputs.is_empty() {
            return Ok(());
        }
        let indexes: Vec<i64> = (0..inputs.len())
            .map(|i| (from + i as u64) as i64)
            .collect();
        let texts: Vec<&str> = inputs.iter().map(|(t, _)| t.as_str()).collect();
        let counts: Vec<i64> = inputs.iter().map(|(_, n)| *n as i64).collect();
        self.0.exec(
            "INSERT INTO map_run_items (map_run_id, item_index, input, item_count)
             SELECT $1, i, t, n FROM unnest($2::bigint[], $3::text[], $4::bigint[]) AS u (i, t, n)",
            &[&run.0, &indexes, &texts, &counts],
        )?;
        Ok(())
    }

    fn by(&self, clause: &str, params: &super::Params<'_>) -> Result<Option<MapRun>> {
        self.0.first(
            &format!("SELECT {COLUMNS} FROM map_runs WHERE {clause}"),
            params,
            rows::map_run,
        )
    }

    /// A run's children in input order, those matching `filter` (an SQL `AND …` or nothing).
    fn children_where(&self, run: MapRunKey, filter: &str) -> Result<Vec<Execution>> {
        self.0.all(
            &format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE map_run_id = $1 {filter} ORDER BY item_index"),
            &[&run.0],
            rows::execution,
        )
    }
}

impl repo::MapRuns for Repo<'_> {
    fn insert(&self, run: &NewMapRun<'_>) -> Result<MapRunKey> {
        let items: u64 = run.inputs.iter().map(|(_, n)| n).sum();
        let key: i64 = self
            .0
            .one(
                "INSERT INTO map_runs (arn, execution_id, map_state, revision, machine_arn, express, status, max_concurrency,
                                       tolerated_count, tolerated_percentage, total, items, start_ms, reader, writer)
                 VALUES ($1, $2, $3, $4, $5, $6, 'RUNNING', $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
                &[
                    &run.arn,
                    &run.execution.0,
                    &run.map_state,
                    &run.revision.0,
                    &run.machine_arn,
                    &run.express,
                    &(run.max_concurrency as i64),
                    &run.tolerated_count.map(|v| v as i64),
                    &run.tolerated_percentage,
                    &(run.inputs.len() as i64),
                    &(items as i64),
                    &run.start_ms,
                    &run.reader,
                    &run.writer,
                ],
            )?
            .try_get(0)?;
        let key = MapRunKey(key);
        self.put_inputs(key, 0, run.inputs)?;
        Ok(key)
    }

    fn add_inputs(&self, run: MapRunKey, inputs: &[(String, u64)]) -> Result<()> {
        let items: u64 = inputs.iter().map(|(_, n)| n).sum();
        let from: i64 = self
            .0
            .one(
                "UPDATE map_runs SET total = total + $2, items = items + $3, reader = NULL WHERE id = $1
                 RETURNING total - $2",
                &[&run.0, &(inputs.len() as i64), &(items as i64)],
            )?
            .try_get(0)?;
        self.put_inputs(run, from.max(0) as u64, inputs)
    }

    fn find(&self, arn: &str) -> Result<Option<MapRun>> {
        self.by("arn = $1", &[&arn])
    }

    fn get(&self, key: MapRunKey) -> Result<Option<MapRun>> {
        self.by("id = $1", &[&key.0])
    }

    fn save(&self, run: &MapRun) -> Result<()> {
        let c = &run.counts;
        self.0.exec(
            "UPDATE map_runs SET status = $2, stop_ms = $3, max_concurrency = $4, tolerated_count = $5,
                    tolerated_percentage = $6, started = $7, running = $8, succeeded = $9, failed = $10,
                    timed_out = $11, aborted = $12, reader = $13, ending = $14, redrive_count = $15,
                    redrive_ms = $16, not_redrivable = $17
             WHERE id = $1",
            &[
                &run.key.0,
                &run.status.as_str(),
                &run.stop_ms,
                &(run.max_concurrency as i64),
                &run.tolerated_count.map(|v| v as i64),
                &run.tolerated_percentage,
                &(c.started as i64),
                &(c.running as i64),
                &(c.succeeded as i64),
                &(c.failed as i64),
                &(c.timed_out as i64),
                &(c.aborted as i64),
                &run.reader,
                &run.ending,
                &(run.redrive_count as i64),
                &run.redrive_ms,
                &(run.not_redrivable as i64),
            ],
        )?;
        Ok(())
    }

    fn ready(&self, cap: u64, limit: usize) -> Result<Vec<MapRun>> {
        self.0.all(
            &format!(
                "SELECT {COLUMNS} FROM map_runs
                 WHERE status = 'RUNNING' AND started < total
                   AND running < CASE WHEN max_concurrency = 0 OR max_concurrency > $1 THEN $1 ELSE max_concurrency END
                 ORDER BY id LIMIT $2"
            ),
            &[&(cap as i64), &(limit as i64)],
            rows::map_run,
        )
    }

    fn take_inputs(
        &self,
        run: MapRunKey,
        from: u64,
        count: u64,
    ) -> Result<Vec<(u64, String, u64)>> {
        let end = from.saturating_add(count).min(i64::MAX as u64) as i64;
        let mut taken = self
            .0
            .rows(
                "DELETE FROM map_run_items WHERE map_run_id = $1 AND item_index >= $2 AND item_index < $3
                 RETURNING item_index, input, item_count",
                &[&run.0, &(from as i64), &end],
            )?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<_, i64>(0)? as u64,
                    r.try_get::<_, String>(1)?,
                    r.try_get::<_, i64>(2)? as u64,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        taken.sort_by_key(|t| t.0);
        Ok(taken)
    }

    fn list(
        &self,
        execution: ExecutionKey,
        after: Option<MapRunKey>,
        limit: usize,
    ) -> Result<Vec<MapRun>> {
        self.0.all(
            &format!("SELECT {COLUMNS} FROM map_runs WHERE execution_id = $1 AND id > $2 ORDER BY id LIMIT $3"),
            &[&execution.0, &after.map_or(0, |k| k.0), &(limit as i64)],
            rows::map_run,
        )
    }

    fn results(&self, run: MapRunKey) -> Result<Vec<ChildResult>> {
        self.0.all(
            "SELECT status, output, error, cause FROM executions
             WHERE map_run_id = $1 AND status != 'RUNNING' ORDER BY item_index",
            &[&run.0],
            rows::child_result,
        )
    }

    fn running_children(&self, run: MapRunKey) -> Result<Vec<Execution>> {
        self.children_where(run, "AND status = 'RUNNING'")
    }

    fn children(&self, run: MapRunKey) -> Result<Vec<Execution>> {
        self.children_where(run, "")
    }

    fn waiting_for_io(&self, limit: usize) -> Result<Vec<MapRun>> {
        self.0.all(
            &format!(
                "SELECT {COLUMNS} FROM map_runs
                 WHERE status = 'RUNNING' AND (reader IS NOT NULL OR ending IS NOT NULL)
                 ORDER BY id LIMIT $1"
            ),
            &[&(limit as i64)],
            rows::map_run,
        )
    }

    fn item_counts(&self, run: MapRunKey) -> Result<Vec<(ExecutionStatus, u64)>> {
        let rows = self.0.rows(
            "SELECT status, sum(coalesce(item_count, 1))::bigint FROM executions WHERE map_run_id = $1 GROUP BY status",
            &[&run.0],
        )?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get(0)?;
                Ok((
                    ExecutionStatus::parse(&status).unwrap_or(ExecutionStatus::Failed),
                    r.try_get::<_, i64>(1)?.max(0) as u64,
                ))
            })
            .collect()
    }
}
