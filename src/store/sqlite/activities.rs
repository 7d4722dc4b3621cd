//! SQL for activities and their tags (migration V9). One activity per name per scope is
//! the schema's rule, not this file's.

use rusqlite::{params, Connection, OptionalExtension};

use crate::domain::records::{Activity, ActivityKey, ExecutionKey, NewActivity, TagPair};
use crate::domain::scope::Scope;
use crate::store::repo::{self, Result};
use crate::store::rows::{self, ACTIVITY_COLUMNS as COLUMNS};

pub(super) struct Repo<'a>(pub &'a Connection);

impl repo::Activities for Repo<'_> {
    fn find(&self, arn: &str) -> Result<Option<Activity>> {
        let mut st = self
            .0
            .prepare_cached(&format!("SELECT {COLUMNS} FROM activities WHERE arn = ?1"))?;
        Ok(st.query_row([arn], |r| rows::activity(r)).optional()?)
    }

    fn insert(&self, a: &NewActivity<'_>) -> Result<Activity> {
        self.0
            .prepare_cached(
                "INSERT INTO activities (arn, account, region, name, created_ms, encryption)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                a.arn,
                a.account,
                a.region,
                a.name,
                a.created_ms,
                a.encryption
            ])?;
        Ok(Activity {
            key: ActivityKey(self.0.last_insert_rowid()),
            arn: a.arn.to_owned(),
            name: a.name.to_owned(),
            created_ms: a.created_ms,
            encryption: a.encryption.to_owned(),
        })
    }

    fn delete(&self, key: ActivityKey) -> Result<()> {
        self.0
            .prepare_cached("DELETE FROM activities WHERE id = ?1")?
            .execute([key.0])?;
        Ok(())
    }

    fn list(&self, scope: &Scope, after: Option<&str>, limit: usize) -> Result<Vec<Activity>> {
        // BINARY collation: byte order, as state machines list.
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM activities
             WHERE account = ?1 AND region = ?2 AND name > ?3 ORDER BY name LIMIT ?4"
        ))?;
        let rows = st.query_map(
            params![
                scope.account,
                scope.region,
                after.unwrap_or(""),
                limit as i64
            ],
            |r| rows::activity(r),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn count(&self, scope: &Scope) -> Result<i64> {
        Ok(self
            .0
            .prepare_cached("SELECT count(*) FROM activities WHERE account = ?1 AND region = ?2")?
            .query_row(params![scope.account, scope.region], |r| r.get(0))?)
    }

    fn tags(&self, key: ActivityKey) -> Result<Vec<TagPair>> {
        let mut st = self.0.prepare_cached(
            "SELECT key, value FROM activity_tags WHERE activity_id = ?1 ORDER BY key",
        )?;
        let rows = st.query_map([key.0], |r| {
            Ok(TagPair {
                key: r.get(0)?,
                value: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put_tag(&self, key: ActivityKey, tag: &str, value: &str) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO activity_tags (activity_id, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (activity_id, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![key.0, tag, value])?;
        Ok(())
    }

    fn delete_tag(&self, key: ActivityKey, tag: &str) -> Result<()> {
        self.0
            .prepare_cached("DELETE FROM activity_tags WHERE activity_id = ?1 AND key = ?2")?
            .execute(params![key.0, tag])?;
        Ok(())
    }

    fn queue_task(
        &self,
        token: &str,
        activity: &str,
        execution: ExecutionKey,
        at_ms: i64,
    ) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT OR IGNORE INTO activity_tasks (token, activity_arn, execution_id, scheduled_ms)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![token, activity, execution.0, at_ms])?;
        Ok(())
    }

    fn index_token(
        &self,
        token: &str,
        resource: &str,
        execution: ExecutionKey,
        at_ms: i64,
    ) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT OR IGNORE INTO activity_tasks (token, activity_arn, execution_id, scheduled_ms, taken)
                 VALUES (?1, ?2, ?3, ?4, 1)",
            )?
            .execute(params![token, resource, execution.0, at_ms])?;
        Ok(())
    }

    fn next_task(&self, activity: &str) -> Result<Option<(String, ExecutionKey)>> {
        let mut st = self.0.prepare_cached(
            "SELECT token, execution_id FROM activity_tasks
             WHERE activity_arn = ?1 AND taken = 0 ORDER BY scheduled_ms, token LIMIT 1",
        )?;
        Ok(st
            .query_row([activity], |r| Ok((r.get(0)?, ExecutionKey(r.get(1)?))))
            .optional()?)
    }

    fn take_task(&self, token: &str) -> Result<()> {
        self.0
            .prepare_cached("UPDATE activity_tasks SET taken = 1 WHERE token = ?1")?
            .execute([token])?;
        Ok(())
    }

    fn task_execution(&self, token: &str) -> Result<Option<ExecutionKey>> {
        let mut st = self
            .0
            .prepare_cached("SELECT execution_id FROM activity_tasks WHERE token = ?1")?;
        Ok(st
            .query_row([token], |r| Ok(ExecutionKey(r.get(0)?)))
            .optional()?)
    }

    fn call_sent(&self, token: &str, execution: ExecutionKey) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT OR IGNORE INTO calls_in_flight (token, execution_id) VALUES (?1, ?2)",
            )?
            .execute(params![token, execution.0])?;
        Ok(())
    }

    fn call_answered(&self, token: &str) -> Result<()> {
        self.0
            .prepare_cached("DELETE FROM calls_in_flight WHERE token = ?1")?
            .execute([token])?;
        Ok(())
    }

    fn calls_in_flight(&self) -> Result<Vec<String>> {
        let mut st = self
            .0
            .prepare_cached("SELECT token FROM calls_in_flight ORDER BY token")?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
    }
}
