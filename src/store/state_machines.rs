//! SQL for state machines and their revisions.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::StoreError;

/// A stored state machine.
#[derive(Debug, Clone)]
pub struct MachineRow {
    pub id: i64,
    pub arn: String,
    pub name: String,
    pub kind: String,
    pub created_ms: i64,
}

/// The configuration a revision snapshots. Logging, tracing and encryption are normalised
/// JSON texts, so two equal configurations are equal strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub definition: String,
    pub role_arn: String,
    pub logging: String,
    pub tracing: String,
    pub encryption: String,
}

/// A stored revision: `id` is the surrogate key versions point at; `revision_id` the public
/// UUID (None for the initial configuration).
#[derive(Debug, Clone)]
pub struct RevisionRow {
    pub id: i64,
    pub revision_id: Option<String>,
    pub snapshot: Snapshot,
}

const MACHINE_COLUMNS: &str = "id, arn, name, type, created_ms";

fn machine(r: &Row<'_>) -> rusqlite::Result<MachineRow> {
    Ok(MachineRow {
        id: r.get(0)?,
        arn: r.get(1)?,
        name: r.get(2)?,
        kind: r.get(3)?,
        created_ms: r.get(4)?,
    })
}

fn revision(r: &Row<'_>) -> rusqlite::Result<RevisionRow> {
    Ok(RevisionRow {
        id: r.get(0)?,
        revision_id: r.get(1)?,
        snapshot: Snapshot {
            definition: r.get(2)?,
            role_arn: r.get(3)?,
            logging: r.get(4)?,
            tracing: r.get(5)?,
            encryption: r.get(6)?,
        },
    })
}

/// The machine with this unqualified ARN, if any.
pub fn find_machine(c: &Connection, arn: &str) -> Result<Option<MachineRow>, StoreError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {MACHINE_COLUMNS} FROM state_machines WHERE arn = ?1"
    ))?;
    Ok(st.query_row([arn], machine).optional()?)
}

/// Inserts a machine; returns its id.
pub fn insert_machine(
    c: &Connection,
    arn: &str,
    account: &str,
    region: &str,
    name: &str,
    kind: &str,
    created_ms: i64,
) -> Result<i64, StoreError> {
    let mut st = c.prepare_cached(
        "INSERT INTO state_machines (arn, account, region, name, type, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    st.execute(params![arn, account, region, name, kind, created_ms])?;
    Ok(c.last_insert_rowid())
}

/// Deletes a machine; its revisions, versions, aliases and tags go with it (ON DELETE CASCADE).
pub fn delete_machine(c: &Connection, id: i64) -> Result<(), StoreError> {
    // Aliases first: their routes reference versions without a cascade, so they must be gone
    // before the versions are.
    c.prepare_cached("DELETE FROM aliases WHERE state_machine_id = ?1")?
        .execute([id])?;
    c.prepare_cached("DELETE FROM state_machines WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// A scope's machines named after `after` (all when None), by name in byte order (SQLite's
/// BINARY collation), at most `limit`.
pub fn list_machines(
    c: &Connection,
    account: &str,
    region: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<MachineRow>, StoreError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {MACHINE_COLUMNS} FROM state_machines
         WHERE account = ?1 AND region = ?2 AND name > ?3 ORDER BY name LIMIT ?4"
    ))?;
    let rows = st.query_map(
        params![account, region, after.unwrap_or(""), limit as i64],
        machine,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The machine's current revision: its newest.
pub fn current_revision(c: &Connection, machine_id: i64) -> Result<RevisionRow, StoreError> {
    let mut st = c.prepare_cached(
        "SELECT id, revision_id, definition, role_arn, logging, tracing, encryption
         FROM revisions WHERE state_machine_id = ?1 ORDER BY id DESC LIMIT 1",
    )?;
    st.query_row([machine_id], revision)
        .optional()?
        .ok_or_else(|| StoreError::internal(format!("state machine {machine_id} has no revision")))
}

/// The revision with this surrogate key.
pub fn get_revision(c: &Connection, id: i64) -> Result<RevisionRow, StoreError> {
    let mut st = c.prepare_cached(
        "SELECT id, revision_id, definition, role_arn, logging, tracing, encryption FROM revisions WHERE id = ?1",
    )?;
    Ok(st.query_row([id], revision)?)
}

/// Appends a revision (the initial configuration has `revision_id` None); returns its row.
pub fn insert_revision(
    c: &Connection,
    machine_id: i64,
    revision_id: Option<&str>,
    s: &Snapshot,
    created_ms: i64,
) -> Result<RevisionRow, StoreError> {
    let mut st = c.prepare_cached(
        "INSERT INTO revisions (state_machine_id, revision_id, definition, role_arn, logging, tracing, encryption, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    st.execute(params![
        machine_id,
        revision_id,
        s.definition,
        s.role_arn,
        s.logging,
        s.tracing,
        s.encryption,
        created_ms
    ])?;
    Ok(RevisionRow {
        id: c.last_insert_rowid(),
        revision_id: revision_id.map(str::to_owned),
        snapshot: s.clone(),
    })
}
