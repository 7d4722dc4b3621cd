//! SQL for aliases and their routes.

use rusqlite::{params, Connection, OptionalExtension};

use crate::domain::records::{
    Alias, AliasKey, MachineKey, Route, VersionKey, VersionNumber, Weight,
};
use crate::store::repo::{self, Result};
use crate::store::rows::{self, ALIAS_COLUMNS as COLUMNS};

pub(super) struct Repo<'a>(pub &'a Connection);

impl repo::Aliases for Repo<'_> {
    fn find(&self, machine: MachineKey, name: &str) -> Result<Option<Alias>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM aliases WHERE state_machine_id = ?1 AND name = ?2"
        ))?;
        Ok(st
            .query_row(params![machine.0, name], |r| rows::alias(r))
            .optional()?)
    }

    fn routes(&self, alias: AliasKey) -> Result<Vec<Route>> {
        let mut st = self.0.prepare_cached(
            "SELECT r.version_id, v.number, r.weight FROM alias_routes r JOIN versions v ON v.id = r.version_id
             WHERE r.alias_id = ?1 ORDER BY r.position",
        )?;
        let rows = st.query_map([alias.0], |r| {
            Ok(Route {
                version: VersionKey(r.get(0)?),
                number: VersionNumber(r.get(1)?),
                weight: Weight(r.get(2)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn count(&self, machine: MachineKey) -> Result<i64> {
        let mut st = self
            .0
            .prepare_cached("SELECT COUNT(*) FROM aliases WHERE state_machine_id = ?1")?;
        Ok(st.query_row([machine.0], |r| r.get(0))?)
    }

    fn insert(
        &self,
        machine: MachineKey,
        name: &str,
        description: Option<&str>,
        routes: &[(VersionKey, Weight)],
        created_ms: i64,
    ) -> Result<Alias> {
        let key = insert(self.0, machine, name, description, created_ms, created_ms)?;
        self.set_routes(key, routes)?;
        Ok(Alias {
            key,
            name: name.to_owned(),
            description: description.map(str::to_owned),
            created_ms,
            updated_ms: created_ms,
        })
    }

    fn set_routes(&self, alias: AliasKey, routes: &[(VersionKey, Weight)]) -> Result<()> {
        set_routes(self.0, alias, routes)
    }

    fn update(&self, alias: AliasKey, description: Option<&str>, updated_ms: i64) -> Result<()> {
        self.0
            .prepare_cached("UPDATE aliases SET description = ?2, updated_ms = ?3 WHERE id = ?1")?
            .execute(params![alias.0, description, updated_ms])?;
        Ok(())
    }

    fn delete(&self, alias: AliasKey) -> Result<()> {
        self.0
            .prepare_cached("DELETE FROM aliases WHERE id = ?1")?
            .execute([alias.0])?;
        Ok(())
    }

    fn list(
        &self,
        machine: MachineKey,
        routing_to: Option<VersionKey>,
        after: Option<AliasKey>,
        limit: usize,
    ) -> Result<Vec<Alias>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM aliases a WHERE state_machine_id = ?1 AND id > ?2
               AND (?3 IS NULL OR EXISTS (SELECT 1 FROM alias_routes r WHERE r.alias_id = a.id AND r.version_id = ?3))
             ORDER BY id LIMIT ?4"
        ))?;
        let rows = st.query_map(
            params![
                machine.0,
                after.map_or(0, |a| a.0),
                routing_to.map(|v| v.0),
                limit as i64
            ],
            |r| rows::alias(r),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn names_routing_to(&self, version: VersionKey) -> Result<Vec<String>> {
        let mut st = self.0.prepare_cached(
            "SELECT a.name FROM aliases a JOIN alias_routes r ON r.alias_id = a.id WHERE r.version_id = ?1 ORDER BY a.id",
        )?;
        let rows = st.query_map([version.0], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Inserts an alias row without routes (create, and import).
pub(super) fn insert(
    c: &Connection,
    machine: MachineKey,
    name: &str,
    description: Option<&str>,
    created_ms: i64,
    updated_ms: i64,
) -> Result<AliasKey> {
    c.prepare_cached(
        "INSERT INTO aliases (state_machine_id, name, description, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![machine.0, name, description, created_ms, updated_ms])?;
    Ok(AliasKey(c.last_insert_rowid()))
}

/// Replaces an alias's routes with `(version, weight)` pairs, in order.
pub(super) fn set_routes(
    c: &Connection,
    alias: AliasKey,
    routes: &[(VersionKey, Weight)],
) -> Result<()> {
    c.prepare_cached("DELETE FROM alias_routes WHERE alias_id = ?1")?
        .execute([alias.0])?;
    let mut ins = c.prepare_cached(
        "INSERT INTO alias_routes (alias_id, position, version_id, weight) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (i, (version, weight)) in routes.iter().enumerate() {
        ins.execute(params![alias.0, i as i64 + 1, version.0, weight.0])?;
    }
    Ok(())
}
