//! SQL for operator features: reset and the figures `/metrics` reports.

use crate::store::repo::{self, Result};

use super::Pg;

pub(super) struct Repo<'a>(pub &'a Pg);

impl repo::Admin for Repo<'_> {
    fn reset(&self) -> Result<()> {
        // Executions and aliases first: they reference revisions and versions without a
        // cascade.
        for sql in [
            "DELETE FROM executions",
            "DELETE FROM aliases",
            "DELETE FROM state_machines",
            "DELETE FROM activities",
        ] {
            self.0.exec(sql, &[])?;
        }
        Ok(())
    }

    fn database_bytes(&self) -> Result<i64> {
        Ok(self
            .0
            .one("SELECT pg_database_size(current_database())", &[])?
            .try_get(0)?)
    }

    fn versions_stored(&self) -> Result<i64> {
        Ok(self
            .0
            .one("SELECT count(*) FROM versions", &[])?
            .try_get(0)?)
    }
}
