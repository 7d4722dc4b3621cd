//! Export and import of the whole state as JSON: every account and region, with ARNs,
//! revision ids, version numbers and high-water marks, descriptions, aliases and their
//! routing, tags, and creation and update dates, so a round trip is exact.

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use super::StoreError;

pub const FORMAT: &str = "sfnlite-export";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub format: String,
    pub format_version: u32,
    pub state_machines: Vec<MachineExport>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MachineExport {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_ms: i64,
    /// The version-number high-water mark.
    pub last_version: i64,
    /// Oldest first; the last one is the current configuration.
    pub revisions: Vec<RevisionExport>,
    pub versions: Vec<VersionExport>,
    /// Oldest first, so listing order survives the round trip.
    pub aliases: Vec<AliasExport>,
    pub tags: Vec<TagExport>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RevisionExport {
    pub revision_id: Option<String>,
    pub definition: String,
    pub role_arn: String,
    pub logging: String,
    pub tracing: String,
    pub encryption: String,
    pub created_ms: i64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VersionExport {
    pub number: i64,
    /// Index into the machine's `revisions`.
    pub revision: usize,
    pub description: Option<String>,
    pub created_ms: i64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AliasExport {
    pub name: String,
    pub description: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// (version number, weight) in routing order.
    pub routes: Vec<(i64, i64)>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct TagExport {
    pub key: String,
    pub value: String,
}

/// Reads the whole state in one snapshot; `progress` is told the count of machines done.
pub fn export(c: &Connection, mut progress: impl FnMut(usize)) -> Result<Export, StoreError> {
    let mut machines = Vec::new();
    let mut st = c.prepare("SELECT id, arn, account, region, name, type, created_ms, last_version FROM state_machines ORDER BY id")?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            MachineExport {
                arn: r.get(1)?,
                account: r.get(2)?,
                region: r.get(3)?,
                name: r.get(4)?,
                kind: r.get(5)?,
                created_ms: r.get(6)?,
                last_version: r.get(7)?,
                revisions: Vec::new(),
                versions: Vec::new(),
                aliases: Vec::new(),
                tags: Vec::new(),
            },
        ))
    })?;
    for row in rows {
        let (id, mut m) = row?;
        let mut revision_index = std::collections::HashMap::new();
        let mut rs = c.prepare_cached(
            "SELECT id, revision_id, definition, role_arn, logging, tracing, encryption, created_ms
             FROM revisions WHERE state_machine_id = ?1 ORDER BY id",
        )?;
        for r in rs.query_map([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                RevisionExport {
                    revision_id: r.get(1)?,
                    definition: r.get(2)?,
                    role_arn: r.get(3)?,
                    logging: r.get(4)?,
                    tracing: r.get(5)?,
                    encryption: r.get(6)?,
                    created_ms: r.get(7)?,
                },
            ))
        })? {
            let (rid, rev) = r?;
            revision_index.insert(rid, m.revisions.len());
            m.revisions.push(rev);
        }
        let mut vs = c.prepare_cached(
            "SELECT number, revision, description, created_ms FROM versions WHERE state_machine_id = ?1 ORDER BY number",
        )?;
        for v in vs.query_map([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get(2)?,
                r.get(3)?,
            ))
        })? {
            let (number, rid, description, created_ms) = v?;
            let revision = *revision_index
                .get(&rid)
                .ok_or_else(|| StoreError::internal("version without revision"))?;
            m.versions.push(VersionExport {
                number,
                revision,
                description,
                created_ms,
            });
        }
        let mut al = c.prepare_cached(
            "SELECT id, name, description, created_ms, updated_ms FROM aliases WHERE state_machine_id = ?1 ORDER BY id",
        )?;
        let aliases: Vec<(i64, AliasExport)> = al
            .query_map([id], |r| {
                Ok((
                    r.get(0)?,
                    AliasExport {
                        name: r.get(1)?,
                        description: r.get(2)?,
                        created_ms: r.get(3)?,
                        updated_ms: r.get(4)?,
                        routes: Vec::new(),
                    },
                ))
            })?
            .collect::<Result<_, _>>()?;
        for (alias_id, mut alias) in aliases {
            alias.routes = super::aliases::routes(c, alias_id)?
                .into_iter()
                .map(|r| (r.number, r.weight))
                .collect();
            m.aliases.push(alias);
        }
        m.tags = super::tags::list_tags(c, id)?
            .into_iter()
            .map(|(key, value)| TagExport { key, value })
            .collect();
        machines.push(m);
        progress(machines.len());
    }
    Ok(Export {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        state_machines: machines,
    })
}

/// Whether the database holds any state machine.
pub fn is_empty(c: &Connection) -> Result<bool, StoreError> {
    Ok(c.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM state_machines)",
        [],
        |r| r.get(0),
    )?)
}

/// Writes an export into the database (which the caller has emptied or checked empty).
pub fn import(
    c: &Connection,
    data: &Export,
    mut progress: impl FnMut(usize),
) -> Result<(), StoreError> {
    for (done, m) in data.state_machines.iter().enumerate() {
        c.execute(
            "INSERT INTO state_machines (arn, account, region, name, type, created_ms, last_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![m.arn, m.account, m.region, m.name, m.kind, m.created_ms, m.last_version],
        )?;
        let machine_id = c.last_insert_rowid();
        let mut revision_ids = Vec::with_capacity(m.revisions.len());
        for r in &m.revisions {
            c.execute(
                "INSERT INTO revisions (state_machine_id, revision_id, definition, role_arn, logging, tracing, encryption, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![machine_id, r.revision_id, r.definition, r.role_arn, r.logging, r.tracing, r.encryption, r.created_ms],
            )?;
            revision_ids.push(c.last_insert_rowid());
        }
        let mut version_ids = std::collections::HashMap::new();
        for v in &m.versions {
            let revision = *revision_ids.get(v.revision).ok_or_else(|| {
                StoreError::internal(format!("version {} names a missing revision", v.number))
            })?;
            c.execute(
                "INSERT INTO versions (state_machine_id, revision, number, description, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![machine_id, revision, v.number, v.description, v.created_ms],
            )?;
            version_ids.insert(v.number, c.last_insert_rowid());
        }
        for a in &m.aliases {
            c.execute(
                "INSERT INTO aliases (state_machine_id, name, description, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![machine_id, a.name, a.description, a.created_ms, a.updated_ms],
            )?;
            let alias_id = c.last_insert_rowid();
            let routes: Vec<(i64, i64)> = a
                .routes
                .iter()
                .map(|(n, w)| version_ids.get(n).map(|id| (*id, *w)))
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    StoreError::internal(format!("alias {} routes to a missing version", a.name))
                })?;
            super::aliases::set_routes(c, alias_id, &routes)?;
        }
        for t in &m.tags {
            super::tags::put_tag(c, machine_id, &t.key, &t.value)?;
        }
        progress(done + 1);
    }
    Ok(())
}
