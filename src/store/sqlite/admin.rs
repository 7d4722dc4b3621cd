//! SQL for operator features: reset and the figures `/metrics` reports.

use rusqlite::Connection;

use crate::store::repo::{self, Result};

pub(super) struct Repo<'a>(pub &'a Connection);

impl repo::Admin for Repo<'_> {
    fn reset(&self) -> Result<()> {
        // Executions and aliases first: they reference revisions and versions without a
        // cascade.
        self.0.execute_batch(
            "DELETE FROM executions; DELETE FROM aliases; DELETE FROM state_machines; DELETE FROM activities;",
        )?;
        Ok(())
    }

    fn database_bytes(&self) -> Result<i64> {
        let pages: i64 = self.0.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let size: i64 = self.0.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(pages * size)
    }

    fn versions_stored(&self) -> Result<i64> {
        Ok(self
            .0
            .prepare_cached("SELECT COUNT(*) FROM versions")?
            .query_row([], |r| r.get(0))?)
    }
}
