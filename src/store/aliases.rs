//! SQL for aliases and their routes.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::StoreError;

/// A stored alias.
#[derive(Debug, Clone)]
pub struct AliasRow {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One route of an alias: the version it points at (by number) and its weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRow {
    pub version_id: i64,
    pub number: i64,
    pub weight: i64,
}

const COLUMNS: &str = "id, name, description, created_ms, updated_ms";

fn alias(r: &Row<'_>) -> rusqlite::Result<AliasRow> {
    Ok(AliasRow {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        created_ms: r.get(3)?,
        updated_ms: r.get(4)?,
    })
}

/// The alias `name` of a machine, if it exists.
pub fn find_alias(
    c: &Connection,
    machine_id: i64,
    name: &str,
) -> Result<Option<AliasRow>, StoreError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM aliases WHERE state_machine_id = ?1 AND name = ?2"
    ))?;
    Ok(st.query_row(params![machine_id, name], alias).optional()?)
}

/// An alias's routes in the order they were given.
pub fn routes(c: &Connection, alias_id: i64) -> Result<Vec<RouteRow>, StoreError> {
    let mut st = c.prepare_cached(
        "SELECT r.version_id, v.number, r.weight FROM alias_routes r JOIN versions v ON v.id = r.version_id
         WHERE r.alias_id = ?1 ORDER BY r.position",
    )?;
    let rows = st.query_map([alias_id], |r| {
        Ok(RouteRow {
            version_id: r.get(0)?,
            number: r.get(1)?,
            weight: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many aliases a machine has (for the quota).
pub fn count_aliases(c: &Connection, machine_id: i64) -> Result<i64, StoreError> {
    let mut st = c.prepare_cached("SELECT COUNT(*) FROM aliases WHERE state_machine_id = ?1")?;
    Ok(st.query_row([machine_id], |r| r.get(0))?)
}

/// Inserts an alias with its routes; returns its id.
pub fn insert_alias(
    c: &Connection,
    machine_id: i64,
    name: &str,
    description: Option<&str>,
    routes: &[(i64, i64)],
    created_ms: i64,
) -> Result<i64, StoreError> {
    c.prepare_cached(
        "INSERT INTO aliases (state_machine_id, name, description, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![machine_id, name, description, created_ms])?;
    let id = c.last_insert_rowid();
    set_routes(c, id, routes)?;
    Ok(id)
}

/// Replaces an alias's routes with `(version_id, weight)` pairs, in order.
pub fn set_routes(c: &Connection, alias_id: i64, routes: &[(i64, i64)]) -> Result<(), StoreError> {
    c.prepare_cached("DELETE FROM alias_routes WHERE alias_id = ?1")?
        .execute([alias_id])?;
    let mut ins = c.prepare_cached(
        "INSERT INTO alias_routes (alias_id, position, version_id, weight) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (i, (version_id, weight)) in routes.iter().enumerate() {
        ins.execute(params![alias_id, i as i64 + 1, version_id, weight])?;
    }
    Ok(())
}

/// Sets an alias's description and update time.
pub fn update_alias(
    c: &Connection,
    alias_id: i64,
    description: Option<&str>,
    updated_ms: i64,
) -> Result<(), StoreError> {
    c.prepare_cached("UPDATE aliases SET description = ?2, updated_ms = ?3 WHERE id = ?1")?
        .execute(params![alias_id, description, updated_ms])?;
    Ok(())
}

/// Deletes an alias and its routes.
pub fn delete_alias(c: &Connection, alias_id: i64) -> Result<(), StoreError> {
    c.prepare_cached("DELETE FROM aliases WHERE id = ?1")?
        .execute([alias_id])?;
    Ok(())
}

/// A machine's aliases with id greater than `after_id`, oldest first; when `version_id` is
/// given, only those that route to that version.
pub fn list_aliases(
    c: &Connection,
    machine_id: i64,
    version_id: Option<i64>,
    after_id: i64,
    limit: usize,
) -> Result<Vec<AliasRow>, StoreError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM aliases a WHERE state_machine_id = ?1 AND id > ?2
           AND (?3 IS NULL OR EXISTS (SELECT 1 FROM alias_routes r WHERE r.alias_id = a.id AND r.version_id = ?3))
         ORDER BY id LIMIT ?4"
    ))?;
    let rows = st.query_map(
        params![machine_id, after_id, version_id, limit as i64],
        alias,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Names of the aliases that route to a version, in creation order.
pub fn names_routing_to(c: &Connection, version_id: i64) -> Result<Vec<String>, StoreError> {
    let mut st = c.prepare_cached(
        "SELECT a.name FROM aliases a JOIN alias_routes r ON r.alias_id = a.id WHERE r.version_id = ?1 ORDER BY a.id",
    )?;
    let rows = st.query_map([version_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
