//! SQL for aliases and their routes.

use crate::domain::records::{
    Alias, AliasKey, MachineKey, Route, VersionKey, VersionNumber, Weight,
};
use crate::store::repo::{self, Result};
use crate::store::rows::{self, ALIAS_COLUMNS as COLUMNS};

use super::Pg;

pub(super) struct Repo<'a>(pub &'a Pg);

impl repo::Aliases for Repo<'_> {
    fn find(&self, machine: MachineKey, name: &str) -> Result<Option<Alias>> {
        self.0.first(
            &format!("SELECT {COLUMNS} FROM aliases WHERE state_machine_id = $1 AND name = $2"),
            &[&machine.0, &name],
            rows::alias,
        )
    }

    fn routes(&self, alias: AliasKey) -> Result<Vec<Route>> {
        let rows = self.0.rows(
            "SELECT r.version_id, v.number, r.weight::bigint FROM alias_routes r JOIN versions v ON v.id = r.version_id
             WHERE r.alias_id = $1 ORDER BY r.position",
            &[&alias.0],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Route {
                    version: VersionKey(r.try_get(0)?),
                    number: VersionNumber(r.try_get(1)?),
                    weight: Weight(r.try_get(2)?),
                })
            })
            .collect()
    }

    fn count(&self, machine: MachineKey) -> Result<i64> {
        Ok(self
            .0
            .one(
                "SELECT count(*) FROM aliases WHERE state_machine_id = $1",
                &[&machine.0],
            )?
            .try_get(0)?)
    }

    fn insert(
        &self,
        machine: MachineKey,
        name: &str,
        description: Option<&str>,
        routes: &[(VersionKey, Weight)],
        created_ms: i64,
    ) -> Result<Alias> {
        let key = AliasKey(
            self.0
                .one(
                    "INSERT INTO aliases (state_machine_id, name, description, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $4) RETURNING id",
                    &[&machine.0, &name, &description, &created_ms],
                )?
                .try_get(0)?,
        );
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
        self.0
            .exec("DELETE FROM alias_routes WHERE alias_id = $1", &[&alias.0])?;
        for (i, (version, weight)) in routes.iter().enumerate() {
            self.0.exec(
                "INSERT INTO alias_routes (alias_id, position, version_id, weight) VALUES ($1, $2::bigint::smallint, $3, $4::bigint::smallint)",
                &[&alias.0, &(i as i64 + 1), &version.0, &weight.0],
            )?;
        }
        Ok(())
    }

    fn update(&self, alias: AliasKey, description: Option<&str>, updated_ms: i64) -> Result<()> {
        self.0.exec(
            "UPDATE aliases SET description = $2, updated_ms = $3 WHERE id = $1",
            &[&alias.0, &description, &updated_ms],
        )?;
        Ok(())
    }

    fn delete(&self, alias: AliasKey) -> Result<()> {
        self.0
            .exec("DELETE FROM aliases WHERE id = $1", &[&alias.0])?;
        Ok(())
    }

    fn list(
        &self,
        machine: MachineKey,
        routing_to: Option<VersionKey>,
        after: Option<AliasKey>,
        limit: usize,
    ) -> Result<Vec<Alias>> {
        self.0.all(
            &format!(
                "SELECT {COLUMNS} FROM aliases a WHERE state_machine_id = $1 AND id > $2
                   AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM alias_routes r WHERE r.alias_id = a.id AND r.version_id = $3))
                 ORDER BY id LIMIT $4"
            ),
            &[&machine.0, &after.map_or(0, |a| a.0), &routing_to.map(|v| v.0), &(limit as i64)],
            rows::alias,
        )
    }

    fn names_routing_to(&self, version: VersionKey) -> Result<Vec<String>> {
        let rows = self.0.rows(
            "SELECT a.name FROM aliases a JOIN alias_routes r ON r.alias_id = a.id WHERE r.version_id = $1 ORDER BY a.id",
            &[&version.0],
        )?;
        Ok(rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?)
    }
}
