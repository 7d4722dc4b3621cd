//! SQL for state machines and their revisions.

use rusqlite::{params, Connection, OptionalExtension};

use crate::domain::records::{
    Machine, MachineKey, NewMachine, Revision, RevisionId, RevisionKey, Snapshot,
};
use crate::domain::scope::Scope;
use crate::store::repo::{self, Result};
use crate::store::rows::{self, MACHINE_COLUMNS, REVISION_COLUMNS};
use crate::store::StoreError;

pub(super) struct Repo<'a>(pub &'a Connection);

impl repo::Machines for Repo<'_> {
    fn find(&self, arn: &str) -> Result<Option<Machine>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {MACHINE_COLUMNS} FROM state_machines WHERE arn = ?1"
        ))?;
        Ok(st.query_row([arn], |r| rows::machine(r)).optional()?)
    }

    fn insert(&self, m: &NewMachine<'_>) -> Result<Machine> {
        let mut st = self.0.prepare_cached(
            "INSERT INTO state_machines (arn, account, region, name, type, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        st.execute(params![
            m.arn,
            m.account,
            m.region,
            m.name,
            m.kind.as_str(),
            m.created_ms
        ])?;
        Ok(Machine {
            key: MachineKey(self.0.last_insert_rowid()),
            arn: m.arn.to_owned(),
            name: m.name.to_owned(),
            kind: m.kind,
            created_ms: m.created_ms,
            deleting: false,
        })
    }

    fn delete(&self, machine: MachineKey) -> Result<()> {
        // Aliases first: their routes reference versions without a cascade, so they must be
        // gone before the versions are.
        self.0
            .prepare_cached("DELETE FROM aliases WHERE state_machine_id = ?1")?
            .execute([machine.0])?;
        // Executions reference revisions without a cascade (a revision must outlive the
        // executions running it); by now none of them is running.
        self.0
            .prepare_cached(
                "DELETE FROM executions WHERE machine_arn = (SELECT arn FROM state_machines WHERE id = ?1)",
            )?
            .execute([machine.0])?;
        self.0
            .prepare_cached("DELETE FROM state_machines WHERE id = ?1")?
            .execute([machine.0])?;
        Ok(())
    }

    fn mark_deleting(&self, machine: MachineKey) -> Result<()> {
        self.0
            .prepare_cached("UPDATE state_machines SET deleting = 1 WHERE id = ?1")?
            .execute([machine.0])?;
        Ok(())
    }

    fn list(&self, scope: &Scope, after: Option<&str>, limit: usize) -> Result<Vec<Machine>> {
        // BINARY collation: byte order, as AWS lists them.
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {MACHINE_COLUMNS} FROM state_machines
             WHERE account = ?1 AND region = ?2 AND name > ?3 ORDER BY name LIMIT ?4"
        ))?;
        let rows = st.query_map(
            params![
                scope.account,
                scope.region,
                after.unwrap_or(""),
                limit as i64
            ],
            |r| rows::machine(r),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn current_revision(&self, machine: MachineKey) -> Result<Revision> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {REVISION_COLUMNS} FROM revisions WHERE state_machine_id = ?1 ORDER BY id DESC LIMIT 1"
        ))?;
        st.query_row([machine.0], |r| rows::revision(r))
            .optional()?
            .ok_or_else(|| StoreError::internal(format!("state machine {machine} has no revision")))
    }

    fn revision(&self, key: RevisionKey) -> Result<Revision> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {REVISION_COLUMNS} FROM revisions WHERE id = ?1"
        ))?;
        Ok(st.query_row([key.0], |r| rows::revision(r))?)
    }

    fn add_revision(
        &self,
        machine: MachineKey,
        revision_id: Option<RevisionId>,
        s: &Snapshot,
        created_ms: i64,
    ) -> Result<Revision> {
        insert_revision(self.0, machine, revision_id.as_ref(), s, created_ms)?;
        Ok(Revision {
            key: RevisionKey(self.0.last_insert_rowid()),
            revision_id,
            snapshot: s.clone(),
            created_ms,
        })
    }
}

/// Inserts a revision row (shared with import).
pub(super) fn insert_revision(
    c: &Connection,
    machine: MachineKey,
    revision_id: Option<&RevisionId>,
    s: &Snapshot,
    created_ms: i64,
) -> Result<RevisionKey> {
    let mut st = c.prepare_cached(
        "INSERT INTO revisions (state_machine_id, revision_id, definition, role_arn, logging, tracing, encryption, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    st.execute(params![
        machine.0,
        revision_id.map(|r| r.0.as_str()),
        s.definition,
        s.role_arn,
        s.logging,
        s.tracing,
        s.encryption,
        created_ms
    ])?;
    Ok(RevisionKey(c.last_insert_rowid()))
}
