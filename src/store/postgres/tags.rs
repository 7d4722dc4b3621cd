//! SQL for state machine tags.

use crate::domain::records::{MachineKey, TagPair};
use crate::store::repo::{self, Result};

use super::Pg;

pub(super) struct Repo<'a>(pub &'a Pg);

/// Tag pairs from `key, value` rows.
pub(super) fn pairs(rows: Vec<postgres::Row>) -> Result<Vec<TagPair>> {
    rows.iter()
        .map(|r| {
            Ok(TagPair {
                key: r.try_get(0)?,
                value: r.try_get(1)?,
            })
        })
        .collect()
}

impl repo::Tags for Repo<'_> {
    fn list(&self, machine: MachineKey) -> Result<Vec<TagPair>> {
        pairs(self.0.rows(
            "SELECT key, value FROM tags WHERE state_machine_id = $1 ORDER BY key COLLATE \"C\"",
            &[&machine.0],
        )?)
    }

    fn put(&self, machine: MachineKey, key: &str, value: &str) -> Result<()> {
        self.0.exec(
            "INSERT INTO tags (state_machine_id, key, value) VALUES ($1, $2, $3)
             ON CONFLICT (state_machine_id, key) DO UPDATE SET value = excluded.value",
            &[&machine.0, &key, &value],
        )?;
        Ok(())
    }

    fn delete(&self, machine: MachineKey, key: &str) -> Result<()> {
        self.0.exec(
            "DELETE FROM tags WHERE state_machine_id = $1 AND key = $2",
            &[&machine.0, &key],
        )?;
        Ok(())
    }
}
