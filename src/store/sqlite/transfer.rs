//! Export and import of the whole state as JSON: every account and region, with ARNs,
//! revision ids, version numbers and high-water marks, descriptions, aliases and their
//! routing, tags, executions with their histories, activities, and creation and update
//! dates, so a round trip is exact.

use std::collections::HashMap;

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use super::activities::Repo as ActivityRepo;
use super::aliases::{insert as insert_alias, set_routes, Repo as AliasRepo};
use super::executions::Repo as ExecutionRepo;
use super::machines::insert_revision;
use super::tags::Repo as TagRepo;
use super::versions::insert as insert_version;
use crate::domain::records::{
    ActivityKey, Alias, HistoryEvent, MachineKey, NewActivity, RevisionId, RevisionKey, Snapshot,
    VersionKey, VersionNumber, Weight,
};
use crate::store::repo::{Activities, Aliases, Executions, Tags};
use crate::store::rows::{self, ALIAS_COLUMNS, MACHINE_COLUMNS, REVISION_COLUMNS, VERSION_COLUMNS};
use crate::store::StoreError;

pub const FORMAT: &str = "sfnlite-export";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub format: String,
    pub format_version: u32,
    pub state_machines: Vec<MachineExport>,
    /// Absent from exports made before activities existed.
    #[serde(default)]
    pub activities: Vec<ActivityExport>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActivityExport {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    pub created_ms: i64,
    /// The EncryptionConfiguration as stored (normalised JSON text).
    pub encryption: String,
    pub tags: Vec<TagExport>,
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
    /// Deleted while executions ran; absent in exports made before executions existed.
    #[serde(default)]
    pub deleting: bool,
    /// Oldest first, each with its whole history.
    #[serde(default)]
    pub executions: Vec<ExecutionExport>,
}

/// An execution with everything it needs to go on after an import: its position, due time
/// and history.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionExport {
    pub arn: String,
    pub name: String,
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    /// Index into the machine's `revisions`.
    pub revision: usize,
    pub status: String,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub trace_header: Option<String>,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    pub position: Option<String>,
    pub due_ms: Option<i64>,
    /// Older exports have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<String>,
    #[serde(default)]
    pub redrive_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_ms: Option<i64>,
    pub events: Vec<EventExport>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EventExport {
    pub id: u64,
    pub previous_id: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp_ms: i64,
    pub details: Option<String>,
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
    let mut st = c.prepare(&format!(
        "SELECT {MACHINE_COLUMNS}, account, region, last_version FROM state_machines ORDER BY id"
    ))?;
    let rows = st.query_map([], |r| {
        Ok((
            rows::machine(r)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, i64>(8)?,
        ))
    })?;
    let mut machines = Vec::new();
    for row in rows {
        let (m, account, region, last_version) = row?;
        let (revisions, index) = export_revisions(c, m.key)?;
        machines.push(MachineExport {
            executions: export_executions(c, &m.arn, &index)?,
            deleting: m.deleting,
            versions: export_versions(c, m.key, &index)?,
            aliases: export_aliases(c, m.key)?,
            tags: Tags::list(&TagRepo(c), m.key)?
                .into_iter()
                .map(|t| TagExport {
                    key: t.key,
                    value: t.value,
                })
                .collect(),
            revisions,
            arn: m.arn,
            account,
            region,
            name: m.name,
            kind: m.kind.as_str().to_owned(),
            created_ms: m.created_ms,
            last_version,
        });
        progress(machines.len());
    }
    Ok(Export {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        state_machines: machines,
        activities: export_activities(c)?,
    })
}

fn export_activities(c: &Connection) -> Result<Vec<ActivityExport>, StoreError> {
    let mut st = c.prepare(
        "SELECT id, arn, account, region, name, created_ms, encryption FROM activities ORDER BY id",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            ActivityKey(r.get(0)?),
            ActivityExport {
                arn: r.get(1)?,
                account: r.get(2)?,
                region: r.get(3)?,
                name: r.get(4)?,
                created_ms: r.get(5)?,
                encryption: r.get(6)?,
                tags: Vec::new(),
            },
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (key, mut a) = row?;
        a.tags = Activities::tags(&ActivityRepo(c), key)?
            .into_iter()
            .map(|t| TagExport {
                key: t.key,
                value: t.value,
            })
            .collect();
        out.push(a);
    }
    Ok(out)
}

/// A machine's revisions oldest first, and where each revision key landed in that list.
fn export_revisions(
    c: &Connection,
    machine: MachineKey,
) -> Result<(Vec<RevisionExport>, HashMap<RevisionKey, usize>), StoreError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {REVISION_COLUMNS} FROM revisions WHERE state_machine_id = ?1 ORDER BY id"
    ))?;
    let mut revisions = Vec::new();
    let mut index = HashMap::new();
    for row in st.query_map([machine.0], |r| {
        let rev = rows::revision(r)?;
        let created_ms = rev.created_ms;
        Ok((rev, created_ms))
    })? {
        let (rev, created_ms) = row?;
        index.insert(rev.key, revisions.len());
        let s = rev.snapshot;
        revisions.push(RevisionExport {
            revision_id: rev.revision_id.map(|r| r.0),
            definition: s.definition,
            role_arn: s.role_arn,
            logging: s.logging,
            tracing: s.tracing,
            encryption: s.encryption,
            created_ms,
        });
    }
    Ok((revisions, index))
}

fn export_versions(
    c: &Connection,
    machine: MachineKey,
    revision_index: &HashMap<RevisionKey, usize>,
) -> Result<Vec<VersionExport>, StoreError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {VERSION_COLUMNS} FROM versions WHERE state_machine_id = ?1 ORDER BY number"
    ))?;
    let rows = st.query_map([machine.0], |r| rows::version(r))?;
    let mut out = Vec::new();
    for v in rows {
        let v = v?;
        let revision = *revision_index
            .get(&v.revision)
            .ok_or_else(|| StoreError::internal("version without revision"))?;
        out.push(VersionExport {
            number: v.number.0,
            revision,
            description: v.description,
            created_ms: v.created_ms,
        });
    }
    Ok(out)
}

fn export_aliases(c: &Connection, machine: MachineKey) -> Result<Vec<AliasExport>, StoreError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {ALIAS_COLUMNS} FROM aliases WHERE state_machine_id = ?1 ORDER BY id"
    ))?;
    let aliases: Vec<Alias> = st
        .query_map([machine.0], |r| rows::alias(r))?
        .collect::<rusqlite::Result<_>>()?;
    let repo = AliasRepo(c);
    aliases
        .into_iter()
        .map(|a| {
            Ok(AliasExport {
                routes: Aliases::routes(&repo, a.key)?
                    .into_iter()
                    .map(|r| (r.number.0, r.weight.0))
                    .collect(),
                name: a.name,
                description: a.description,
                created_ms: a.created_ms,
                updated_ms: a.updated_ms,
            })
        })
        .collect()
}

fn export_executions(
    c: &Connection,
    machine_arn: &str,
    revision_index: &HashMap<RevisionKey, usize>,
) -> Result<Vec<ExecutionExport>, StoreError> {
    let repo = ExecutionRepo(c);
    let mut st =
        c.prepare_cached("SELECT name FROM executions WHERE machine_arn = ?1 ORDER BY id")?;
    let names: Vec<String> = st
        .query_map([machine_arn], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let Some(e) = Executions::find_by_name(&repo, machine_arn, &name)? else {
            continue;
        };
        let revision = *revision_index
            .get(&e.revision)
            .ok_or_else(|| StoreError::internal("execution without revision"))?;
        let events = Executions::history(&repo, e.key, None, false, usize::MAX >> 1)?
            .into_iter()
            .map(|ev| EventExport {
                id: ev.id,
                previous_id: ev.previous_id,
                kind: ev.kind,
                timestamp_ms: ev.timestamp_ms,
                details: ev.details,
            })
            .collect();
        out.push(ExecutionExport {
            arn: e.arn,
            name: e.name,
            version_arn: e.version_arn,
            alias_arn: e.alias_arn,
            revision,
            status: e.status.as_str().to_owned(),
            input: e.input,
            output: e.output,
            error: e.error,
            cause: e.cause,
            trace_header: e.trace_header,
            start_ms: e.start_ms,
            stop_ms: e.stop_ms,
            position: e.position,
            due_ms: e.due_ms,
            parent_token: e.parent_token,
            resume: e.resume,
            redrive_count: e.redrive_count,
            redrive_ms: e.redrive_ms,
            events,
        });
    }
    Ok(out)
}

/// Whether the database holds any state machine.
pub fn is_empty(c: &Connection) -> Result<bool, StoreError> {
    Ok(c.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM state_machines) AND NOT EXISTS (SELECT 1 FROM activities)",
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
        import_machine(c, m)?;
        progress(done + 1);
    }
    for a in &data.activities {
        let created = Activities::insert(
            &ActivityRepo(c),
            &NewActivity {
                arn: &a.arn,
                account: &a.account,
                region: &a.region,
                name: &a.name,
                created_ms: a.created_ms,
                encryption: &a.encryption,
            },
        )?;
        for t in &a.tags {
            Activities::put_tag(&ActivityRepo(c), created.key, &t.key, &t.value)?;
        }
    }
    Ok(())
}

fn import_machine(c: &Connection, m: &MachineExport) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO state_machines (arn, account, region, name, type, created_ms, last_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            m.arn,
            m.account,
            m.region,
            m.name,
            m.kind,
            m.created_ms,
            m.last_version
        ],
    )?;
    let machine = MachineKey(c.last_insert_rowid());
    let mut revisions = Vec::with_capacity(m.revisions.len());
    for r in &m.revisions {
        let snapshot = Snapshot {
            definition: r.definition.clone(),
            role_arn: r.role_arn.clone(),
            logging: r.logging.clone(),
            tracing: r.tracing.clone(),
            encryption: r.encryption.clone(),
        };
        let id = r.revision_id.clone().map(RevisionId);
        revisions.push(insert_revision(
            c,
            machine,
            id.as_ref(),
            &snapshot,
            r.created_ms,
        )?);
    }
    let mut versions = HashMap::new();
    for v in &m.versions {
        let revision = *revisions.get(v.revision).ok_or_else(|| {
            StoreError::internal(format!("version {} names a missing revision", v.number))
        })?;
        let number = VersionNumber(v.number);
        let stored = insert_version(
            c,
            machine,
            revision,
            number,
            v.description.as_deref(),
            v.created_ms,
        )?;
        versions.insert(v.number, stored.key);
    }
    for a in &m.aliases {
        let key = insert_alias(
            c,
            machine,
            &a.name,
            a.description.as_deref(),
            a.created_ms,
            a.updated_ms,
        )?;
        let routes: Vec<(VersionKey, Weight)> = a
            .routes
            .iter()
            .map(|(n, w)| versions.get(n).map(|v| (*v, Weight(*w))))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                StoreError::internal(format!("alias {} routes to a missing version", a.name))
            })?;
        set_routes(c, key, &routes)?;
    }
    let tags = TagRepo(c);
    for t in &m.tags {
        Tags::put(&tags, machine, &t.key, &t.value)?;
    }
    if m.deleting {
        c.execute(
            "UPDATE state_machines SET deleting = 1 WHERE id = ?1",
            [machine.0],
        )?;
    }
    for e in &m.executions {
        import_execution(c, &m.arn, e, &revisions)?;
    }
    Ok(())
}

fn import_execution(
    c: &Connection,
    machine_arn: &str,
    e: &ExecutionExport,
    revisions: &[RevisionKey],
) -> Result<(), StoreError> {
    let revision = *revisions.get(e.revision).ok_or_else(|| {
        StoreError::internal(format!("execution {} names a missing revision", e.arn))
    })?;
    c.execute(
        "INSERT INTO executions (arn, machine_arn, name, version_arn, alias_arn, revision, status, input, output, error, cause,
                                 trace_header, start_ms, stop_ms, position, due_ms, last_event, parent_token,
                                 resume, redrive_count, redrive_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
        params![
            e.arn,
            machine_arn,
            e.name,
            e.version_arn,
            e.alias_arn,
            revision.0,
            e.status,
            e.input,
            e.output,
            e.error,
            e.cause,
            e.trace_header,
            e.start_ms,
            e.stop_ms,
            e.position,
            e.due_ms,
            e.events.last().map_or(0, |ev| ev.id as i64),
            e.parent_token,
            e.resume,
            e.redrive_count as i64,
            e.redrive_ms
        ],
    )?;
    let events: Vec<HistoryEvent> = e
        .events
        .iter()
        .map(|ev| HistoryEvent {
            id: ev.id,
            previous_id: ev.previous_id,
            kind: ev.kind.clone(),
            timestamp_ms: ev.timestamp_ms,
            details: ev.details.clone(),
        })
        .collect();
    // One chunk per execution: its ids must run 1, 2, 3… (the schema checks the count and
    // where the chunk starts, the order inside is ours to check).
    if events.iter().zip(1..).any(|(ev, id)| ev.id != id) {
        return Err(StoreError::internal(format!(
            "the history of {} in the export is not numbered 1, 2, 3…",
            e.arn
        )));
    }
    super::executions::append(c, c.last_insert_rowid(), &events)
}
