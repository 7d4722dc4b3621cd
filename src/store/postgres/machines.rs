//! SQL for state machines and their revisions.

use crate::domain::records::{
    Machine, MachineKey, NewMachine, Revision, RevisionId, RevisionKey, Snapshot,
};
use crate::domain::scope::Scope;
use crate::store::repo::{self, Result};
use crate::store::rows::{self, MACHINE_COLUMNS, REVISION_COLUMNS};
use crate::store::StoreError;

use super::Pg;

pub(super) struct Repo<'a>(pub &'a Pg);

impl repo::Machines for Repo<'_> {
    fn find(&self, arn: &str) -> Result<Option<Machine>> {
        self.0.first(
            &format!("SELECT {MACHINE_COLUMNS} FROM state_machines WHERE arn = $1"),
            &[&arn],
            rows::machine,
        )
    }

    fn insert(&self, m: &NewMachine<'_>) -> Result<Machine> {
        let row = self.0.one(
            "INSERT INTO state_machines (arn, account, region, name, type, created_ms) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[&m.arn, &m.account, &m.region, &m.name, &m.kind.as_str(), &m.created_ms],
        )?;
        Ok(Machine {
            key: MachineKey(row.try_get(0)?),
            arn: m.arn.to_owned(),
            name: m.name.to_owned(),
            kind: m.kind,
            created_ms: m.created_ms,
            deleting: false,
        })
    }

    fn delete(&self, machine: MachineKey) -> Result<()> {
        // Aliases first: their routes reference versions without a cascade. Executions
        // reference revisions without a cascade; by now none of them is running.
        self.0.exec(
            "DELETE FROM aliases WHERE state_machine_id = $1",
            &[&machine.0],
        )?;
        self.0.exec(
            "DELETE FROM executions WHERE machine_arn = (SELECT arn FROM state_machines WHERE id = $1)",
            &[&machine.0],
        )?;
        self.0
            .exec("DELETE FROM state_machines WHERE id = $1", &[&machine.0])?;
        Ok(())
    }

    fn mark_deleting(&self, machine: MachineKey) -> Result<()> {
        self.0.exec(
            "UPDATE state_machines SET deleting = TRUE WHERE id = $1",
            &[&machine.0],
        )?;
        Ok(())
    }

    fn list(&self, scope: &Scope, after: Option<&str>, limit: usize) -> Result<Vec<Machine>> {
        // COLLATE "C": byte order, as AWS lists them (and SQLite's BINARY does).
        self.0.all(
            &format!(
                "SELECT {MACHINE_COLUMNS} FROM state_machines
                 WHERE account = $1 AND region = $2 AND name > $3 COLLATE \"C\" ORDER BY name COLLATE \"C\" LIMIT $4"
            ),
            &[&scope.account, &scope.region, &after.unwrap_or(""), &(limit as i64)],
            rows::machine,
        )
    }

    fn current_revision(&self, machine: MachineKey) -> Result<Revision> {
        self.0
            .first(
                &format!("SELECT {REVISION_COLUMNS} FROM revisions WHERE state_machine_id = $1 ORDER BY id DESC LIMIT 1"),
                &[&machine.0],
                rows::revision,
            )?
            .ok_or_else(|| StoreError::internal(format!("state machine {machine} has no revision")))
    }

    fn revision(&self, key: RevisionKey) -> Result<Revision> {
        self.0
            .first(
                &format!("SELECT {REVISION_COLUMNS} FROM revisions WHERE id = $1"),
                &[&key.0],
                rows::revision,
            )?
            .ok_or_else(|| StoreError::internal(format!("revision {key} is not stored")))
    }

    fn add_revision(
        &self,
        machine: MachineKey,
        revision_id: Option<RevisionId>,
        s: &Snapshot,
        created_ms: i64,
    ) -> Result<Revision> {
        let row = self.0.one(
            "INSERT INTO revisions (state_machine_id, revision_id, definition, role_arn, logging, tracing, encryption, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            &[
                &machine.0,
                &revision_id.as_ref().map(|r| r.0.as_str()),
                &s.definition,
                &s.role_arn,
                &s.logging,
                &s.tracing,
                &s.encryption,
                &created_ms,
            ],
        )?;
        Ok(Revision {
            key: RevisionKey(row.try_get(0)?),
            revision_id,
            snapshot: s.clone(),
            created_ms,
        })
    }
}
