//! SQL for map runs (migration V14): the runs, their pending inputs, and reading their
//! children's results.

use rusqlite::{params, Connection, OptionalExtension};

use crate::domain::records::{
    ChildResult, Execution, ExecutionKey, ExecutionStatus, MapRun, MapRunKey, NewMapRun,
};
use crate::store::repo::{self, Result};
use crate::store::rows::{self, MAP_RUN_COLUMNS as COLUMNS};

pub(super) struct Repo<'a>(pub &'a Connection);

impl Repo<'_> {
    fn put_inputs(&self, run: MapRunKey, from: u64, inputs: &[(String, u64)]) -> Result<()> {
        let mut st = self.0.prepare_cached(
            "INSERT INTO map_run_items (map_run_id, item_index, input, item_count) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (index, (input, count)) in inputs.iter().enumerate() {
            st.execute(params![
                run.0,
                (from + index as u64) as i64,
                input,
                *count as i64
            ])?;
        }
        Ok(())
    }

    fn by(&self, clause: &str, p: impl rusqlite::Params) -> Result<Option<MapRun>> {
        let mut st = self
            .0
            .prepare_cached(&format!("SELECT {COLUMNS} FROM map_runs WHERE {clause}"))?;
        Ok(st.query_row(p, |r| rows::map_run(r)).optional()?)
    }
}

impl repo::MapRuns for Repo<'_> {
    fn insert(&self, run: &NewMapRun<'_>) -> Result<MapRunKey> {
        let items: u64 = run.inputs.iter().map(|(_, n)| n).sum();
        self.0
            .prepare_cached(
                "INSERT INTO map_runs (arn, execution_id, map_state, revision, machine_arn, express, status, max_concurrency,
                                       tolerated_count, tolerated_percentage, total, items, start_ms, reader, writer)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'RUNNING', ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                run.arn,
                run.execution.0,
                run.map_state,
                run.revision.0,
                run.machine_arn,
                run.express as i64,
                run.max_concurrency as i64,
                run.tolerated_count.map(|v| v as i64),
                run.tolerated_percentage,
                run.inputs.len() as i64,
                items as i64,
                run.start_ms,
                run.reader,
                run.writer
            ])?;
        let key = MapRunKey(self.0.last_insert_rowid());
        self.put_inputs(key, 0, run.inputs)?;
        Ok(key)
    }

    fn add_inputs(&self, run: MapRunKey, inputs: &[(String, u64)]) -> Result<()> {
        let items: u64 = inputs.iter().map(|(_, n)| n).sum();
        let from: i64 = self
            .0
            .prepare_cached("SELECT total FROM map_runs WHERE id = ?1")?
            .query_row([run.0], |r| r.get(0))?;
        self.0
            .prepare_cached("UPDATE map_runs SET total = total + ?2, items = items + ?3, reader = NULL WHERE id = ?1")?
            .execute(params![run.0, inputs.len() as i64, items as i64])?;
        self.put_inputs(run, from.max(0) as u64, inputs)
    }

    fn find(&self, arn: &str) -> Result<Option<MapRun>> {
        self.by("arn = ?1", [arn])
    }

    fn get(&self, key: MapRunKey) -> Result<Option<MapRun>> {
        self.by("id = ?1", [key.0])
    }

    fn save(&self, run: &MapRun) -> Result<()> {
        let c = &run.counts;
        self.0
            .prepare_cached(
                "UPDATE map_runs SET status = ?2, stop_ms = ?3, max_concurrency = ?4, tolerated_count = ?5,
                        tolerated_percentage = ?6, started = ?7, running = ?8, succeeded = ?9, failed = ?10,
                        timed_out = ?11, aborted = ?12, reader = ?13, ending = ?14, redrive_count = ?15,
                        redrive_ms = ?16, not_redrivable = ?17
                 WHERE id = ?1",
            )?
            .execute(params![
                run.key.0,
                run.status.as_str(),
                run.stop_ms,
                run.max_concurrency as i64,
                run.tolerated_count.map(|v| v as i64),
                run.tolerated_percentage,
                c.started as i64,
                c.running as i64,
                c.succeeded as i64,
                c.failed as i64,
                c.timed_out as i64,
                c.aborted as i64,
                run.reader,
                run.ending,
                run.redrive_count as i64,
                run.redrive_ms,
                run.not_redrivable as i64
            ])?;
        Ok(())
    }

    fn ready(&self, cap: u64, limit: usize) -> Result<Vec<MapRun>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM map_runs
             WHERE status = 'RUNNING' AND started < total
               AND running < CASE WHEN max_concurrency = 0 OR max_concurrency > ?1 THEN ?1 ELSE max_concurrency END
             ORDER BY id LIMIT ?2"
        ))?;
        let rows = st.query_map(params![cap as i64, limit as i64], |r| rows::map_run(r))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn take_inputs(
        &self,
        run: MapRunKey,
        from: u64,
        count: u64,
    ) -> Result<Vec<(u64, String, u64)>> {
        let end = from.saturating_add(count) as i64;
        let inputs = self
            .0
            .prepare_cached(
                "SELECT item_index, input, item_count FROM map_run_items
                 WHERE map_run_id = ?1 AND item_index >= ?2 AND item_index < ?3 ORDER BY item_index",
            )?
            .query_map(params![run.0, from as i64, end], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as u64,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        self.0
            .prepare_cached(
                "DELETE FROM map_run_items WHERE map_run_id = ?1 AND item_index >= ?2 AND item_index < ?3",
            )?
            .execute(params![run.0, from as i64, end])?;
        Ok(inputs)
    }

    fn list(
        &self,
        execution: ExecutionKey,
        after: Option<MapRunKey>,
        limit: usize,
    ) -> Result<Vec<MapRun>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM map_runs WHERE execution_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
        ))?;
        let rows = st.query_map(
            params![execution.0, after.map_or(0, |k| k.0), limit as i64],
            |r| rows::map_run(r),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn results(&self, run: MapRunKey) -> Result<Vec<ChildResult>> {
        let mut st = self.0.prepare_cached(
            "SELECT status, output, error, cause FROM executions
             WHERE map_run_id = ?1 AND status != 'RUNNING' ORDER BY item_index",
        )?;
        let rows = st.query_map([run.0], |r| rows::child_result(r))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn running_children(&self, run: MapRunKey) -> Result<Vec<Execution>> {
        self.children_where(run, "AND status = 'RUNNING'")
    }

    fn children(&self, run: MapRunKey) -> Result<Vec<Execution>> {
        self.children_where(run, "")
    }

    fn waiting_for_io(&self, limit: usize) -> Result<Vec<MapRun>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM map_runs
             WHERE status = 'RUNNING' AND (reader IS NOT NULL OR ending IS NOT NULL)
             ORDER BY id LIMIT ?1"
        ))?;
        let rows = st.query_map([limit as i64], |r| rows::map_run(r))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn item_counts(&self, run: MapRunKey) -> Result<Vec<(ExecutionStatus, u64)>> {
        let mut st = self.0.prepare_cached(
            "SELECT status, sum(coalesce(item_count, 1)) FROM executions WHERE map_run_id = ?1 GROUP BY status",
        )?;
        let rows = st.query_map([run.0], |r| {
            let status: String = r.get(0)?;
            Ok((
                ExecutionStatus::parse(&status).unwrap_or(ExecutionStatus::Failed),
                r.get::<_, i64>(1)?.max(0) as u64,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Repo<'_> {
    /// A run's children in input order, those matching `filter` (an SQL `AND …` or nothing).
    fn children_where(&self, run: MapRunKey, filter: &str) -> Result<Vec<Execution>> {
        let mut keys = self
            .0
            .prepare_cached(&format!(
                "SELECT id FROM executions WHERE map_run_id = ?1 {filter} ORDER BY item_index"
            ))?
            .query_map([run.0], |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(keys.len());
        for k in keys.drain(..) {
            if let Some(e) =
                repo::Executions::get(&super::executions::Repo(self.0), ExecutionKey(k))?
            {
                out.push(e);
            }
        }
        Ok(out)
    }
}
