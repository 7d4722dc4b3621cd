//! SQL for published versions.

use crate::domain::records::{MachineKey, RevisionKey, Version, VersionKey, VersionNumber};
use crate::store::repo::{self, Result};
use crate::store::rows::{self, VERSION_COLUMNS as COLUMNS};

use super::Pg;

pub(super) struct Repo<'a>(pub &'a Pg);

impl repo::Versions for Repo<'_> {
    fn for_revision(&self, revision: RevisionKey) -> Result<Option<Version>> {
        self.0.first(
            &format!("SELECT {COLUMNS} FROM versions WHERE revision = $1"),
            &[&revision.0],
            rows::version,
        )
    }

    fn find(&self, machine: MachineKey, number: VersionNumber) -> Result<Option<Version>> {
        self.0.first(
            &format!("SELECT {COLUMNS} FROM versions WHERE state_machine_id = $1 AND number = $2"),
            &[&machine.0, &number.0],
            rows::version,
        )
    }

    fn count(&self, machine: MachineKey) -> Result<i64> {
        // Kept by triggers (migration V1), so the quota check costs one row read.
        Ok(self
            .0
            .one(
                "SELECT version_count FROM state_machines WHERE id = $1",
                &[&machine.0],
            )?
            .try_get(0)?)
    }

    fn publish(
        &self,
        machine: MachineKey,
        revision: RevisionKey,
        description: Option<&str>,
        created_ms: i64,
    ) -> Result<Version> {
        // The machine's row is locked by this UPDATE until the commit, so replicas number
        // one at a time; the high-water mark only grows, and UNIQUE (revision) refuses a
        // second version of one revision.
        let number: i64 = self
            .0
            .one(
                "UPDATE state_machines SET last_version = last_version + 1 WHERE id = $1 RETURNING last_version",
                &[&machine.0],
            )?
            .try_get(0)?;
        let key: i64 = self
            .0
            .one(
                "INSERT INTO versions (state_machine_id, revision, number, description, created_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&machine.0, &revision.0, &number, &description, &created_ms],
            )?
            .try_get(0)?;
        Ok(Version {
            key: VersionKey(key),
            number: VersionNumber(number),
            revision,
            description: description.map(str::to_owned),
            created_ms,
        })
    }

    fn delete(&self, key: VersionKey) -> Result<()> {
        self.0
            .exec("DELETE FROM versions WHERE id = $1", &[&key.0])?;
        Ok(())
    }

    fn list(
        &self,
        machine: MachineKey,
        before: Option<VersionNumber>,
        limit: usize,
    ) -> Result<Vec<Version>> {
        self.0.all(
            &format!("SELECT {COLUMNS} FROM versions WHERE state_machine_id = $1 AND number < $2 ORDER BY number DESC LIMIT $3"),
            &[&machine.0, &before.map_or(i64::MAX, |b| b.0), &(limit as i64)],
            rows::version,
        )
    }
}
