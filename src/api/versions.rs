//! PublishStateMachineVersion, ListStateMachineVersions and DeleteStateMachineVersion, and
//! the one publishing rule Create/UpdateStateMachine share with them.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::cache::{CacheKey, Cached};
use super::paging::{check_paging, Paging};
use super::state_machines::Empty;
use super::validate::{Violations, ARN, DESCRIPTION, LONG_ARN};
use super::{encode, not_deleting, owned_machine, parse_arn, secs, ApiError, Ctx};
use crate::domain::arn::{MachineArn, StateMachineRef};
use crate::domain::now_millis;
use crate::domain::records::{Machine, Revision, Version, VersionNumber};
use crate::store::Tx;

/// The public name of the initial configuration in `revisionId` preconditions.
const INITIAL: &str = "INITIAL";

/// Returns the live version of `revision`, publishing it first if it has none. Idempotent
/// per (machine, revision): the UNIQUE constraint on `versions.revision` backs this up, and
/// the caller's IMMEDIATE transaction makes the check-then-insert atomic.
pub(crate) fn publish_revision(
    tx: &dyn Tx,
    machine: &Machine,
    revision: &Revision,
    description: Option<&str>,
    quota: i64,
    arn: &MachineArn,
) -> Result<Version, ApiError> {
    if let Some(existing) = tx.versions().for_revision(revision.key)? {
        return Ok(existing);
    }
    if tx.versions().count(machine.key)? >= quota {
        return Err(ApiError::ServiceQuotaExceededException(format!(
            "The maximum number of versions ({quota}) for state machine '{arn}' has been reached. Delete unused versions."
        )));
    }
    Ok(tx
        .versions()
        .publish(machine.key, revision.key, description, now_millis())?)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishStateMachineVersionInput {
    pub state_machine_arn: Option<String>,
    pub revision_id: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishStateMachineVersionOutput {
    pub creation_date: f64,
    pub state_machine_version_arn: String,
}

/// The `revisionId` precondition: `INITIAL` names the never-revised configuration.
fn check_revision(expected: Option<&str>, current: Option<&str>) -> Result<(), ApiError> {
    let actual = current.unwrap_or(INITIAL);
    match expected {
        Some(expected) if expected != actual => Err(ApiError::ConflictException(format!(
            "Failed to publish the State Machine version for revision {expected}. The current State Machine revision is {actual}."
        ))),
        _ => Ok(()),
    }
}

fn check_publish_input(
    input: &PublishStateMachineVersionInput,
) -> Result<(String, StateMachineRef), ApiError> {
    let mut v = Violations::default();
    v.required_member("stateMachineArn", &input.state_machine_arn, ARN);
    v.member("description", input.description.as_deref(), DESCRIPTION);
    v.finish()?;
    let arn_text = input.state_machine_arn.clone().unwrap_or_default();
    let target = parse_arn(&arn_text)?;
    Ok((arn_text, target))
}

/// PublishStateMachineVersion with its hot path: when the current revision already has a
/// version, the answer comes from the response cache or a read transaction, without
/// queueing behind writes; otherwise [`publish_state_machine_version`] publishes.
pub async fn publish_state_machine_version_cached(
    ctx: Ctx,
    input: PublishStateMachineVersionInput,
) -> Result<Bytes, ApiError> {
    let (arn_text, target) = check_publish_input(&input)?;
    let StateMachineRef::Machine(machine_arn) = &target else {
        return Err(ApiError::does_not_exist(&arn_text));
    };
    if !ctx.scope.owns(machine_arn) {
        return Err(ApiError::does_not_exist(&arn_text));
    }
    let key = CacheKey::Publish(arn_text.clone());
    // Read before the database is, so a commit in between makes the entry unusable.
    let epoch = ctx.store.epoch();
    if let Some(Cached::Publish { revision, body }) = ctx.cache.get(&key, epoch) {
        check_revision(input.revision_id.as_deref(), revision.as_deref())?;
        return Ok(body);
    }
    let scope = ctx.scope.clone();
    let probe = target.clone();
    let existing = ctx
        .store
        .read(move |tx| {
            let Some(m) = owned_machine(tx, &scope, &probe)? else {
                return Ok::<_, ApiError>(None);
            };
            let current = tx.machines().current_revision(m.key)?;
            Ok(tx
                .versions()
                .for_revision(current.key)?
                .map(|v| (current.public_id().map(str::to_owned), v)))
        })
        .await?;
    if let Some((revision, version)) = existing {
        check_revision(input.revision_id.as_deref(), revision.as_deref())?;
        let body = encode(&PublishStateMachineVersionOutput {
            creation_date: secs(version.created_ms),
            state_machine_version_arn: machine_arn.version(version.number),
        })?;
        ctx.cache.put(
            key,
            epoch,
            Cached::Publish {
                revision,
                body: body.clone(),
            },
        );
        return Ok(body);
    }
    encode(&publish_state_machine_version(ctx, input).await?)
}

/// PublishStateMachineVersion: snapshots the current revision as a numbered version, or
/// returns the version it already has (with its original creation date, whatever the
/// description). `revisionId` makes it conditional; `INITIAL` names the initial configuration.
pub async fn publish_state_machine_version(
    ctx: Ctx,
    input: PublishStateMachineVersionInput,
) -> Result<PublishStateMachineVersionOutput, ApiError> {
    let (arn_text, target) = check_publish_input(&input)?;
    let quota = ctx.limits.version_quota;
    let scope = ctx.scope.clone();
    // Publishes of one machine contend on its row (its version numbers): they queue.
    ctx.store
        .write_on(arn_text.clone(), move |tx| {
            let missing = || ApiError::does_not_exist(&arn_text);
            let StateMachineRef::Machine(machine_arn) = &target else {
                return Err(missing());
            };
            let m = owned_machine(tx, &scope, &target)?.ok_or_else(missing)?;
            not_deleting(&m)?;
            let current = tx.machines().current_revision(m.key)?;
            check_revision(input.revision_id.as_deref(), current.public_id())?;
            let version = publish_revision(
                tx,
                &m,
                &current,
                input.description.as_deref(),
                quota,
                machine_arn,
            )?;
            Ok(PublishStateMachineVersionOutput {
                creation_date: secs(version.created_ms),
                state_machine_version_arn: machine_arn.version(version.number),
            })
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachineVersionsInput {
    pub state_machine_arn: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineVersionListItem {
    pub state_machine_version_arn: String,
    pub creation_date: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachineVersionsOutput {
    pub state_machine_versions: Vec<StateMachineVersionListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// ListStateMachineVersions: newest first, keyset-paged on the version number so a page
/// stays correct when versions are deleted between calls.
pub async fn list_state_machine_versions(
    ctx: Ctx,
    input: ListStateMachineVersionsInput,
) -> Result<ListStateMachineVersionsOutput, ApiError> {
    let mut v = Violations::default();
    v.required_member("stateMachineArn", &input.state_machine_arn, ARN);
    check_paging(&mut v, input.max_results, input.next_token.as_deref());
    v.finish()?;
    let arn_text = input.state_machine_arn.unwrap_or_default();
    let target = parse_arn(&arn_text)?;
    let paging: Paging<VersionNumber> = Paging::start(
        "ListStateMachineVersions",
        arn_text.clone(),
        input.max_results,
        input.next_token.as_deref(),
    )?;
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let missing = || ApiError::does_not_exist(&arn_text);
            let StateMachineRef::Machine(machine_arn) = &target else {
                return Err(missing());
            };
            let m = owned_machine(tx, &scope, &target)?.ok_or_else(missing)?;
            let rows = tx.versions().list(m.key, paging.after, paging.fetch())?;
            let (rows, next_token) = paging.finish(rows, |v| v.number);
            Ok(ListStateMachineVersionsOutput {
                state_machine_versions: rows
                    .into_iter()
                    .map(|r| StateMachineVersionListItem {
                        state_machine_version_arn: machine_arn.version(r.number),
                        creation_date: secs(r.created_ms),
                    })
                    .collect(),
                next_token,
            })
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteStateMachineVersionInput {
    pub state_machine_version_arn: Option<String>,
}

/// DeleteStateMachineVersion: idempotent; refused while an alias routes to the version.
/// The machine's high-water mark stays, so the number is never issued again.
pub async fn delete_state_machine_version(
    ctx: Ctx,
    input: DeleteStateMachineVersionInput,
) -> Result<Empty, ApiError> {
    let mut v = Violations::default();
    v.required_member(
        "stateMachineVersionArn",
        &input.state_machine_version_arn,
        LONG_ARN,
    );
    v.finish()?;
    let arn_text = input.state_machine_version_arn.unwrap_or_default();
    let target = parse_arn(&arn_text)?;
    let StateMachineRef::Version(_, number) = target else {
        return Err(ApiError::ValidationException(format!(
            "Invalid version ARN: '{arn_text}'"
        )));
    };
    let scope = ctx.scope.clone();
    ctx.store
        .write(move |tx| {
            let Some(m) = owned_machine(tx, &scope, &target)? else { return Ok(Empty {}) };
            let Some(version) = tx.versions().find(m.key, number)? else { return Ok(Empty {}) };
            let aliases = tx.aliases().names_routing_to(version.key)?;
            if !aliases.is_empty() {
                return Err(ApiError::ConflictException(format!(
                    "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [{}]",
                    aliases.join(", ")
                )));
            }
            tx.versions().delete(version.key)?;
            Ok(Empty {})
        })
        .await
}
