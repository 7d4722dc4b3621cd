//! SQL for published versions.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::StoreError;

/// A stored version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    pub id: i64,
    pub number: i64,
    /// Surrogate key of the revision it snapshots.
    pub revision: i64,
    pub description: Option<String>,
    pub created_ms: i64,
}

const COLUMNS: &str = "id, number, revision, description, created_ms";

fn version(r: &Row<'_>) -> rusqlite::Result<VersionRow> {
    Ok(VersionRow {
        id: r.get(0)?,
        number: r.get(1)?,
        revision: r.get(2)?,
        description: r.get(3)?,
        created_ms: r.get(4)?,
    })
}

/// The live version of a revision, if it has one.
pub fn find_version_for_revision(
    c: &Connection,
    revision: i64,
) -> Result<Option<VersionRow>, StoreError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM versions WHERE revision = ?1"
    ))?;
    Ok(st.query_row([revision], version).optional()?)
}

/// Version `number` of a machine, if it exists.
pub fn find_version(
    c: &Connection,
    machine_id: i64,
    number: i64,
) -> Result<Option<VersionRow>, StoreError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM versions WHERE state_machine_id = ?1 AND number = ?2"
    ))?;
    Ok(st
        .query_row(params![machine_id, number], version)
        .optional()?)
}

/// How many live versions a machine has (for the quota): a trigger-maintained count.
pub fn count_versions(c: &Connection, machine_id: i64) -> Result<i64, StoreError> {
    let mut st = c.prepare_cached("SELECT version_count FROM state_machines WHERE id = ?1")?;
    Ok(st.query_row([machine_id], |r| r.get(0))?)
}

/// Issues the machine's next number from its high-water mark and inserts the version.
/// The UNIQUE constraint on `revision` refuses a second version of the same revision.
pub fn insert_version(
    c: &Connection,
    machine_id: i64,
    revision: i64,
    description: Option<&str>,
    created_ms: i64,
) -> Result<VersionRow, StoreError> {
    let number: i64 = c
        .prepare_cached("UPDATE state_machines SET last_version = last_version + 1 WHERE id = ?1 RETURNING last_version")?
        .query_row([machine_id], |r| r.get(0))?;
    c.prepare_cached(
        "INSERT INTO versions (state_machine_id, revision, number, description, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![machine_id, revision, number, description, created_ms])?;
    Ok(VersionRow {
        id: c.last_insert_rowid(),
        number,
        revision,
        description: description.map(str::to_owned),
        created_ms,
    })
}

/// Deletes a version row; the machine's high-water mark stays, so its number is never reused.
pub fn delete_version(c: &Connection, id: i64) -> Result<(), StoreError> {
    c.prepare_cached("DELETE FROM versions WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// A machine's versions numbered below `before` (all when None), newest first, at most `limit`.
pub fn list_versions(
    c: &Connection,
    machine_id: i64,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<VersionRow>, StoreError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM versions WHERE state_machine_id = ?1 AND number < ?2 ORDER BY number DESC LIMIT ?3"
    ))?;
    let rows = st.query_map(
        params![machine_id, before.unwrap_or(i64::MAX), limit as i64],
        version,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}
