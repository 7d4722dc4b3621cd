//! SQL for activities, their tags, their task queues, and the calls in flight. One
//! activity per name per scope is the schema's rule, not this file's.

use crate::domain::records::{Activity, ActivityKey, ExecutionKey, NewActivity, TagPair};
use crate::domain::scope::Scope;
use crate::store::repo::{self, Result};
use crate::store::rows::{self, ACTIVITY_COLUMNS as COLUMNS};

use super::{Pg, SERVER_NOW, TASKS_CHANNEL};

pub(super) struct Repo<'a>(pub &'a Pg);

impl repo::Activities for Repo<'_> {
    fn find(&self, arn: &str) -> Result<Option<Activity>> {
        self.0.first(
            &format!("SELECT {COLUMNS} FROM activities WHERE arn = $1"),
            &[&arn],
            rows::activity,
        )
    }

    fn insert(&self, a: &NewActivity<'_>) -> Result<Activity> {
        let key: i64 = self
            .0
            .one(
                "INSERT INTO activities (arn, account, region, name, created_ms, encryption)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[
                    &a.arn,
                    &a.account,
                    &a.region,
                    &a.name,
                    &a.created_ms,
                    &a.encryption,
                ],
            )?
            .try_get(0)?;
        Ok(Activity {
            key: ActivityKey(key),
            arn: a.arn.to_owned(),
            name: a.name.to_owned(),
            created_ms: a.created_ms,
            encryption: a.encryption.to_owned(),
        })
    }

    fn delete(&self, key: ActivityKey) -> Result<()> {
        self.0
            .exec("DELETE FROM activities WHERE id = $1", &[&key.0])?;
        Ok(())
    }

    fn list(&self, scope: &Scope, after: Option<&str>, limit: usize) -> Result<Vec<Activity>> {
        // COLLATE "C": byte order, as state machines list.
        self.0.all(
            &format!(
                "SELECT {COLUMNS} FROM activities
                 WHERE account = $1 AND region = $2 AND name > $3 COLLATE \"C\" ORDER BY name COLLATE \"C\" LIMIT $4"
            ),
            &[&scope.account, &scope.region, &after.unwrap_or(""), &(limit as i64)],
            rows::activity,
        )
    }

    fn count(&self, scope: &Scope) -> Result<i64> {
        Ok(self
            .0
            .one(
                "SELECT count(*) FROM activities WHERE account = $1 AND region = $2",
                &[&scope.account, &scope.region],
            )?
            .try_get(0)?)
    }

    fn tags(&self, key: ActivityKey) -> Result<Vec<TagPair>> {
        super::tags::pairs(self.0.rows(
            "SELECT key, value FROM activity_tags WHERE activity_id = $1 ORDER BY key COLLATE \"C\"",
            &[&key.0],
        )?)
    }

    fn put_tag(&self, key: ActivityKey, tag: &str, value: &str) -> Result<()> {
        self.0.exec(
            "INSERT INTO activity_tags (activity_id, key, value) VALUES ($1, $2, $3)
             ON CONFLICT (activity_id, key) DO UPDATE SET value = excluded.value",
            &[&key.0, &tag, &value],
        )?;
        Ok(())
    }

    fn delete_tag(&self, key: ActivityKey, tag: &str) -> Result<()> {
        self.0.exec(
            "DELETE FROM activity_tags WHERE activity_id = $1 AND key = $2",
            &[&key.0, &tag],
        )?;
        Ok(())
    }

    fn queue_task(
        &self,
        token: &str,
        activity: &str,
        execution: ExecutionKey,
        at_ms: i64,
    ) -> Result<()> {
        let queued = self.0.exec(
            "INSERT INTO activity_tasks (token, activity_arn, execution_id, scheduled_ms)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&token, &activity, &execution.0, &at_ms],
        )?;
        if queued > 0 {
            // Heard by every replica's listener when this commits: their long polls look again.
            self.0
                .exec(&format!("SELECT pg_notify('{TASKS_CHANNEL}', '')"), &[])?;
        }
        Ok(())
    }

    fn index_token(
        &self,
        token: &str,
        resource: &str,
        execution: ExecutionKey,
        at_ms: i64,
    ) -> Result<()> {
        self.0.exec(
            "INSERT INTO activity_tasks (token, activity_arn, execution_id, scheduled_ms, taken)
             VALUES ($1, $2, $3, $4, TRUE) ON CONFLICT DO NOTHING",
            &[&token, &resource, &execution.0, &at_ms],
        )?;
        Ok(())
    }

    fn next_task(&self, activity: &str) -> Result<Option<(String, ExecutionKey)>> {
        let row = self.0.opt(
            "SELECT token, execution_id FROM activity_tasks
             WHERE activity_arn = $1 AND NOT taken ORDER BY scheduled_ms, token COLLATE \"C\" LIMIT 1",
            &[&activity],
        )?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, ExecutionKey(r.try_get(1)?))),
            None => None,
        })
    }

    fn take_task(&self, token: &str) -> Result<()> {
        self.0.exec(
            "UPDATE activity_tasks SET taken = TRUE WHERE token = $1",
            &[&token],
        )?;
        Ok(())
    }

    fn task_execution(&self, token: &str) -> Result<Option<ExecutionKey>> {
        let row = self.0.opt(
            "SELECT execution_id FROM activity_tasks WHERE token = $1",
            &[&token],
        )?;
        Ok(match row {
            Some(r) => Some(ExecutionKey(r.try_get(0)?)),
            None => None,
        })
    }

    fn call_sent(&self, token: &str, execution: ExecutionKey) -> Result<()> {
        self.0.exec(
            "INSERT INTO calls_in_flight (token, execution_id, owner) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&token, &execution.0, &self.0.replica().id],
        )?;
        Ok(())
    }

    fn call_answered(&self, token: &str) -> Result<()> {
        self.0
            .exec("DELETE FROM calls_in_flight WHERE token = $1", &[&token])?;
        Ok(())
    }

    /// Only the calls of replicas that are gone: a live replica's calls are still being made.
    fn calls_in_flight(&self) -> Result<Vec<String>> {
        let lease_ms = self.0.replica().lease.as_millis() as i64;
        let rows = self.0.rows(
            &format!(
                "SELECT c.token FROM calls_in_flight c
                 WHERE c.owner IS NULL OR NOT EXISTS (
                     SELECT 1 FROM replicas r WHERE r.id = c.owner AND r.seen_ms >= {SERVER_NOW} - $1)
                 ORDER BY c.token COLLATE \"C\""
            ),
            &[&lease_ms],
        )?;
        Ok(rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?)
    }
}
