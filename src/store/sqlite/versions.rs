//! SQL for published versions.

use rusqlite::{params, Connection, OptionalExtension};

use crate::domain::records::{MachineKey, RevisionKey, Version, VersionKey, VersionNumber};
use crate::store::repo::{self, Result};
use crate::store::rows::{self, VERSION_COLUMNS as COLUMNS};

pub(super) struct Repo<'a>(pub &'a Connection);

impl repo::Versions for Repo<'_> {
    fn for_revision(&self, revision: RevisionKey) -> Result<Option<Version>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM versions WHERE revision = ?1"
        ))?;
        Ok(st
            .query_row([revision.0], |r| rows::version(r))
            .optional()?)
    }

    fn find(&self, machine: MachineKey, number: VersionNumber) -> Result<Option<Version>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM versions WHERE state_machine_id = ?1 AND number = ?2"
        ))?;
        Ok(st
            .query_row(params![machine.0, number.0], |r| rows::version(r))
            .optional()?)
    }

    fn count(&self, machine: MachineKey) -> Result<i64> {
        // Kept by triggers (migration V3), so the quota check costs one row read.
        let mut st = self
            .0
            .prepare_cached("SELECT version_count FROM state_machines WHERE id = ?1")?;
        Ok(st.query_row([machine.0], |r| r.get(0))?)
    }

    fn publish(
        &self,
        machine: MachineKey,
        revision: RevisionKey,
        description: Option<&str>,
        created_ms: i64,
    ) -> Result<Version> {
        // The number comes from the machine's high-water mark, which only grows; the UNIQUE
        // constraint on `revision` refuses a second version of the same revision.
        let number: i64 = self
            .0
            .prepare_cached("UPDATE state_machines SET last_version = last_version + 1 WHERE id = ?1 RETURNING last_version")?
            .query_row([machine.0], |r| r.get(0))?;
        insert(
            self.0,
            machine,
            revision,
            VersionNumber(number),
            description,
            created_ms,
        )
    }

    fn delete(&self, key: VersionKey) -> Result<()> {
        self.0
            .prepare_cached("DELETE FROM versions WHERE id = ?1")?
            .execute([key.0])?;
        Ok(())
    }

    fn list(
        &self,
        machine: MachineKey,
        before: Option<VersionNumber>,
        limit: usize,
    ) -> Result<Vec<Version>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM versions WHERE state_machine_id = ?1 AND number < ?2 ORDER BY number DESC LIMIT ?3"
        ))?;
        let rows = st.query_map(
            params![machine.0, before.map_or(i64::MAX, |b| b.0), limit as i64],
            |r| rows::version(r),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Inserts a version row with a given number (publish, and import).
pub(super) fn insert(
    c: &Connection,
    machine: MachineKey,
    revision: RevisionKey,
    number: VersionNumber,
    description: Option<&str>,
    created_ms: i64,
) -> Result<Version> {
    c.prepare_cached(
        "INSERT INTO versions (state_machine_id, revision, number, description, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![machine.0, revision.0, number.0, description, created_ms])?;
    Ok(Version {
        key: VersionKey(c.last_insert_rowid()),
        number,
        revision,
        description: description.map(str::to_owned),
        created_ms,
    })
}
