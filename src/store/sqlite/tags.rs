//! SQL for state machine tags.

use rusqlite::{params, Connection};

use crate::domain::records::{MachineKey, TagPair};
use crate::store::repo::{self, Result};

pub(super) struct Repo<'a>(pub &'a Connection);

impl repo::Tags for Repo<'_> {
    fn list(&self, machine: MachineKey) -> Result<Vec<TagPair>> {
        let mut st = self.0.prepare_cached(
            "SELECT key, value FROM tags WHERE state_machine_id = ?1 ORDER BY key",
        )?;
        let rows = st.query_map([machine.0], |r| {
            Ok(TagPair {
                key: r.get(0)?,
                value: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put(&self, machine: MachineKey, key: &str, value: &str) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO tags (state_machine_id, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (state_machine_id, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![machine.0, key, value])?;
        Ok(())
    }

    fn delete(&self, machine: MachineKey, key: &str) -> Result<()> {
        self.0
            .prepare_cached("DELETE FROM tags WHERE state_machine_id = ?1 AND key = ?2")?
            .execute(params![machine.0, key])?;
        Ok(())
    }
}
