//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines and ValidateStateMachineDefinition.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::cache::{CacheKey, Cached};
use super::validate::Violations;
use super::versions::publish_revision;
use super::{
    check_paging, encode, find_owned_machine, page_size, parse_arn, resume_after, secs, ApiError,
    Ctx,
};
use crate::domain::arn::{is_role_arn, StateMachineRef};
use crate::domain::asl;
use crate::domain::config::{
    EncryptionConfiguration, LoggingConfiguration, TracingConfiguration, CUSTOMER_MANAGED_KMS_KEY,
};
use crate::domain::names::is_valid_machine_name;
use crate::domain::{now_millis, token};
use crate::store::state_machines::{self as sql, Snapshot};
use crate::store::{tags as tag_sql, versions as version_sql};

pub const STATE_MACHINE_TYPES: &[&str] = &["STANDARD", "EXPRESS"];
const LOG_LEVELS: &[&str] = &["ALL", "ERROR", "FATAL", "OFF"];
const ENCRYPTION_TYPES: &[&str] = &["AWS_OWNED_KEY", "CUSTOMER_MANAGED_KMS_KEY"];
const MAX_DEFINITION: usize = 1_048_576;
/// Tags per resource (AWS's quota).
pub const MAX_TAGS: usize = 50;

/// The model's `Tag`: both members optional on the wire.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Tag {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineInput {
    pub name: Option<String>,
    pub definition: Option<String>,
    pub role_arn: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub logging_configuration: Option<LoggingConfiguration>,
    pub tags: Option<Vec<Tag>>,
    pub tracing_configuration: Option<TracingConfiguration>,
    pub publish: Option<bool>,
    pub version_description: Option<String>,
    pub encryption_configuration: Option<EncryptionConfiguration>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineOutput {
    pub state_machine_arn: String,
    pub creation_date: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
}

/// Model constraints of a `LoggingConfiguration` member.
fn check_logging(v: &mut Violations, logging: Option<&LoggingConfiguration>) {
    let Some(l) = logging else { return };
    v.one_of("loggingConfiguration.level", l.level.as_deref(), LOG_LEVELS);
    for (i, d) in l.destinations.iter().flatten().enumerate() {
        let arn = d
            .cloud_watch_logs_log_group
            .as_ref()
            .and_then(|g| g.log_group_arn.as_deref());
        let path = format!(
            "loggingConfiguration.destinations.{}.member.cloudWatchLogsLogGroup.logGroupArn",
            i + 1
        );
        v.length(&path, arn, 1, 256, false);
    }
}

/// Model constraints of an `EncryptionConfiguration` member.
fn check_encryption(v: &mut Violations, encryption: Option<&EncryptionConfiguration>) {
    let Some(e) = encryption else { return };
    v.length(
        "encryptionConfiguration.kmsKeyId",
        e.kms_key_id.as_deref(),
        1,
        2048,
        false,
    );
    v.range(
        "encryptionConfiguration.kmsDataKeyReusePeriodSeconds",
        e.kms_data_key_reuse_period_seconds,
        60,
        900,
    );
    v.required("encryptionConfiguration.type", &e.kind);
    v.one_of(
        "encryptionConfiguration.type",
        e.kind.as_deref(),
        ENCRYPTION_TYPES,
    );
}

/// Service rules on a definition and configurations, after the model constraints.
fn check_service_rules(
    definition: Option<&str>,
    role_arn: Option<&str>,
    logging: Option<&LoggingConfiguration>,
    encryption: Option<&EncryptionConfiguration>,
) -> Result<(), ApiError> {
    if let Some(role) = role_arn {
        check_role_arn(role)?;
    }
    if let Some(def) = definition {
        check_definition(def)?;
    }
    if let Some(l) = logging {
        let destinations = l.destinations.as_deref().unwrap_or_default();
        let level = l.level.as_deref().unwrap_or("OFF");
        if destinations.len() > 1 || (level != "OFF" && destinations.len() != 1) {
            return Err(ApiError::InvalidLoggingConfiguration(
                "Invalid Logging Configuration: Must specify exactly one Log Destination.".into(),
            ));
        }
        for d in destinations {
            let arn = d
                .cloud_watch_logs_log_group
                .as_ref()
                .and_then(|g| g.log_group_arn.as_deref());
            let Some(arn) = arn.filter(|a| a.starts_with("arn:")) else {
                return Err(ApiError::InvalidLoggingConfiguration(format!(
                    "Invalid Logging Configuration: The CloudWatch Logs Resource ARN is not valid: '{}'",
                    arn.unwrap_or("null")
                )));
            };
            if !arn.ends_with(":*") {
                return Err(ApiError::InvalidLoggingConfiguration(
                    "Invalid Logging Configuration: Log Group ARN must be provided with '*' qualifier.".into(),
                ));
            }
        }
    }
    if let Some(e) = encryption {
        if e.kind.as_deref() == Some(CUSTOMER_MANAGED_KMS_KEY) && e.kms_key_id.is_none() {
            return Err(ApiError::InvalidEncryptionConfiguration(
                "Invalid Encryption Configuration: kmsKeyId is required when type is CUSTOMER_MANAGED_KMS_KEY.".into(),
            ));
        }
        if e.kind.as_deref() != Some(CUSTOMER_MANAGED_KMS_KEY)
            && (e.kms_key_id.is_some() || e.kms_data_key_reuse_period_seconds.is_some())
        {
            return Err(ApiError::InvalidEncryptionConfiguration(
                "Invalid Encryption Configuration: kmsKeyId and kmsDataKeyReusePeriodSeconds are only allowed when type is CUSTOMER_MANAGED_KMS_KEY.".into(),
            ));
        }
    }
    Ok(())
}

/// `roleArn` must name an IAM role; sfnlite has no IAM to check that it exists.
fn check_role_arn(role: &str) -> Result<(), ApiError> {
    if is_role_arn(role) {
        return Ok(());
    }
    Err(ApiError::InvalidArn(format!("Invalid Role Arn: '{role}'")))
}

/// InvalidDefinition in AWS's form: `Invalid State Machine Definition: '<problems>'`.
fn check_definition(definition: &str) -> Result<(), ApiError> {
    let problems = asl::check(definition);
    if problems.is_empty() {
        return Ok(());
    }
    let joined: Vec<String> = problems.iter().map(|d| d.to_string()).collect();
    Err(ApiError::InvalidDefinition(format!(
        "Invalid State Machine Definition: '{}'",
        joined.join(", ")
    )))
}

/// Model constraints on a tag list at member `path` (`tags`).
pub fn check_tags(v: &mut Violations, path: &str, tags: &[Tag]) {
    for (i, t) in tags.iter().enumerate() {
        let at = format!("{path}.{}.member", i + 1);
        v.required(&format!("{at}.key"), &t.key);
        v.length(&format!("{at}.key"), t.key.as_deref(), 1, 128, false);
        v.length(&format!("{at}.value"), t.value.as_deref(), 0, 256, false);
    }
}

fn snapshot(
    definition: String,
    role_arn: String,
    logging: &LoggingConfiguration,
    tracing: &TracingConfiguration,
    encryption: &EncryptionConfiguration,
) -> Snapshot {
    Snapshot {
        definition,
        role_arn,
        logging: to_json(&logging.normalized()),
        tracing: to_json(&tracing.normalized()),
        encryption: to_json(&encryption.normalized()),
    }
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn version_description_needs_publish() -> ApiError {
    ApiError::ValidationException("Version description can only be set when publish is true".into())
}

/// CreateStateMachine: creates a machine with its initial configuration as a revision row;
/// idempotent against the current configuration (aws-behavior.md §13.1 item 3).
pub async fn create_state_machine(
    ctx: Ctx,
    input: CreateStateMachineInput,
) -> Result<CreateStateMachineOutput, ApiError> {
    let mut v = Violations::default();
    v.required("name", &input.name);
    v.length("name", input.name.as_deref(), 1, 80, false);
    v.required("definition", &input.definition);
    v.length(
        "definition",
        input.definition.as_deref(),
        1,
        MAX_DEFINITION,
        true,
    );
    v.required("roleArn", &input.role_arn);
    v.length("roleArn", input.role_arn.as_deref(), 1, 256, false);
    v.one_of("type", input.kind.as_deref(), STATE_MACHINE_TYPES);
    check_logging(&mut v, input.logging_configuration.as_ref());
    check_tags(&mut v, "tags", input.tags.as_deref().unwrap_or_default());
    v.length(
        "versionDescription",
        input.version_description.as_deref(),
        0,
        256,
        true,
    );
    check_encryption(&mut v, input.encryption_configuration.as_ref());
    v.finish()?;

    let (Some(name), Some(definition), Some(role_arn)) =
        (input.name, input.definition, input.role_arn)
    else {
        unreachable!("required members were checked above")
    };
    let publish = input.publish.unwrap_or(false);
    if input.version_description.is_some() && !publish {
        return Err(version_description_needs_publish());
    }
    if !is_valid_machine_name(&name) {
        return Err(ApiError::InvalidName(format!("Invalid Name: '{name}'")));
    }
    check_service_rules(
        Some(&definition),
        Some(&role_arn),
        input.logging_configuration.as_ref(),
        input.encryption_configuration.as_ref(),
    )?;
    let tags = input.tags.unwrap_or_default();
    let arn = ctx.scope.machine_arn(&name);
    if tags.len() > MAX_TAGS {
        return Err(too_many_tags(&arn.to_string()));
    }
    let kind = input.kind.unwrap_or_else(|| "STANDARD".into());
    let snap = snapshot(
        definition,
        role_arn,
        &input.logging_configuration.unwrap_or_default(),
        &input.tracing_configuration.unwrap_or_default(),
        &input.encryption_configuration.unwrap_or_default(),
    );
    let description = input.version_description;
    let quota = ctx.limits.version_quota;
    let scope = ctx.scope.clone();

    ctx.store
        .write(move |tx| {
            let arn_text = arn.to_string();
            let now = now_millis();
            if let Some(m) = sql::find_machine(tx, &arn_text)? {
                let current = sql::current_revision(tx, m.id)?;
                let same = m.kind == kind
                    && current.snapshot.definition == snap.definition
                    && current.snapshot.logging == snap.logging
                    && current.snapshot.tracing == snap.tracing
                    && current.snapshot.encryption == snap.encryption;
                let existing_version = version_sql::find_version_for_revision(tx, current.id)?;
                let same_description = match (&existing_version, publish) {
                    (Some(ver), true) => ver.description == description,
                    _ => true,
                };
                if !same || !same_description {
                    return Err(ApiError::StateMachineAlreadyExists(format!(
                        "State Machine Already Exists: '{arn_text}'"
                    )));
                }
                let version = if publish {
                    Some(publish_revision(
                        tx,
                        &m,
                        &current,
                        description.as_deref(),
                        quota,
                        &arn,
                    )?)
                } else {
                    None
                };
                return Ok(CreateStateMachineOutput {
                    state_machine_arn: arn_text,
                    creation_date: secs(m.created_ms),
                    state_machine_version_arn: version.map(|v| arn.version(v.number)),
                });
            }
            let id = sql::insert_machine(
                tx,
                &arn_text,
                &scope.account,
                &scope.region,
                &arn.name,
                &kind,
                now,
            )?;
            let initial = sql::insert_revision(tx, id, None, &snap, now)?;
            for t in &tags {
                tag_sql::put_tag(
                    tx,
                    id,
                    t.key.as_deref().unwrap_or_default(),
                    t.value.as_deref().unwrap_or_default(),
                )?;
            }
            let version = if publish {
                let m = sql::find_machine(tx, &arn_text)?
                    .ok_or_else(|| ApiError::InternalFailure("machine vanished".into()))?;
                Some(publish_revision(
                    tx,
                    &m,
                    &initial,
                    description.as_deref(),
                    quota,
                    &arn,
                )?)
            } else {
                None
            };
            Ok(CreateStateMachineOutput {
                state_machine_arn: arn_text,
                creation_date: secs(now),
                state_machine_version_arn: version.map(|v| arn.version(v.number)),
            })
        })
        .await
}

pub fn too_many_tags(arn: &str) -> ApiError {
    ApiError::TooManyTags {
        message: format!("Too many tags: a resource can have at most {MAX_TAGS} tags."),
        resource_name: arn.to_owned(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineInput {
    pub state_machine_arn: Option<String>,
    pub included_data: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineOutput {
    pub state_machine_arn: String,
    pub name: String,
    pub status: &'static str,
    pub definition: String,
    pub role_arn: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub creation_date: f64,
    pub logging_configuration: serde_json::Value,
    pub tracing_configuration: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub encryption_configuration: serde_json::Value,
}

/// DescribeStateMachine through the response cache: a version's answer never changes until
/// it is deleted, and a machine's until its next update, and every commit retires the cache's
/// older entries, so a cached answer is always the current one.
pub async fn describe_state_machine_cached(
    ctx: Ctx,
    input: DescribeStateMachineInput,
) -> Result<Bytes, ApiError> {
    let owned = input
        .state_machine_arn
        .as_deref()
        .and_then(|a| parse_arn(a).ok())
        .is_some_and(|t| !matches!(t, StateMachineRef::Alias(..)) && ctx.scope.owns(t.machine()));
    let key = owned.then(|| {
        let metadata_only = input.included_data.as_deref() == Some("METADATA_ONLY");
        CacheKey::Describe(
            input.state_machine_arn.clone().unwrap_or_default(),
            metadata_only,
        )
    });
    // Read before the database is, so a commit in between makes the entry unusable.
    let epoch = ctx.store.epoch();
    if let Some(Cached::Body(body)) = key.as_ref().and_then(|k| ctx.cache.get(k, epoch)) {
        return Ok(body);
    }
    let cache = ctx.cache.clone();
    let body = encode(&describe_state_machine(ctx, input).await?)?;
    if let Some(key) = key {
        cache.put(key, epoch, Cached::Body(body.clone()));
    }
    Ok(body)
}

/// DescribeStateMachine on a machine ARN (its current revision) or a version ARN (that
/// version's snapshot, with the version ARN, creation date and description).
pub async fn describe_state_machine(
    ctx: Ctx,
    input: DescribeStateMachineInput,
) -> Result<DescribeStateMachineOutput, ApiError> {
    let mut v = Violations::default();
    v.required("stateMachineArn", &input.state_machine_arn);
    v.length(
        "stateMachineArn",
        input.state_machine_arn.as_deref(),
        1,
        256,
        false,
    );
    v.one_of(
        "includedData",
        input.included_data.as_deref(),
        &["ALL_DATA", "METADATA_ONLY"],
    );
    v.finish()?;
    let arn_text = input.state_machine_arn.unwrap_or_default();
    let target = parse_arn(&arn_text)?;
    let metadata_only = input.included_data.as_deref() == Some("METADATA_ONLY");
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let missing = || ApiError::does_not_exist(&arn_text);
            if matches!(target, StateMachineRef::Alias(..)) {
                return Err(missing());
            }
            let m = find_owned_machine(&scope, tx, &target)?.ok_or_else(missing)?;
            let (revision, created_ms, description, shown_arn) = match &target {
                StateMachineRef::Version(_, n) => {
                    let ver = version_sql::find_version(tx, m.id, *n)?.ok_or_else(missing)?;
                    (
                        sql::get_revision(tx, ver.revision)?,
                        ver.created_ms,
                        ver.description,
                        arn_text.clone(),
                    )
                }
                _ => (
                    sql::current_revision(tx, m.id)?,
                    m.created_ms,
                    None,
                    m.arn.clone(),
                ),
            };
            let s = revision.snapshot;
            Ok(DescribeStateMachineOutput {
                state_machine_arn: shown_arn,
                name: m.name,
                status: "ACTIVE",
                // METADATA_ONLY leaves the definition out, as `{}` (the API reference).
                definition: if metadata_only {
                    "{}".into()
                } else {
                    s.definition
                },
                role_arn: s.role_arn,
                kind: m.kind,
                creation_date: secs(created_ms),
                logging_configuration: parse_json(&s.logging),
                tracing_configuration: parse_json(&s.tracing),
                revision_id: revision.revision_id,
                description,
                encryption_configuration: parse_json(&s.encryption),
            })
        })
        .await
}

fn parse_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateMachineInput {
    pub state_machine_arn: Option<String>,
    pub definition: Option<String>,
    pub role_arn: Option<String>,
    pub logging_configuration: Option<LoggingConfiguration>,
    pub tracing_configuration: Option<TracingConfiguration>,
    pub publish: Option<bool>,
    pub version_description: Option<String>,
    pub encryption_configuration: Option<EncryptionConfiguration>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateMachineOutput {
    pub update_date: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
}

/// UpdateStateMachine: a real change appends a revision with a new UUID; a no-op keeps the
/// current one (aws-behavior.md §3, §13.1 items 4 and 6). With `publish`, the (new or
/// current) revision's version is returned, published first if it has none; if that
/// publish fails, the whole update is rolled back.
pub async fn update_state_machine(
    ctx: Ctx,
    input: UpdateStateMachineInput,
) -> Result<UpdateStateMachineOutput, ApiError> {
    let mut v = Violations::default();
    v.required("stateMachineArn", &input.state_machine_arn);
    v.length(
        "stateMachineArn",
        input.state_machine_arn.as_deref(),
        1,
        256,
        false,
    );
    v.length(
        "definition",
        input.definition.as_deref(),
        1,
        MAX_DEFINITION,
        true,
    );
    v.length("roleArn", input.role_arn.as_deref(), 1, 256, false);
    check_logging(&mut v, input.logging_configuration.as_ref());
    v.length(
        "versionDescription",
        input.version_description.as_deref(),
        0,
        256,
        true,
    );
    check_encryption(&mut v, input.encryption_configuration.as_ref());
    v.finish()?;

    let arn_text = input.state_machine_arn.unwrap_or_default();
    let target = parse_arn(&arn_text)?;
    if input.definition.is_none()
        && input.role_arn.is_none()
        && input.logging_configuration.is_none()
        && input.tracing_configuration.is_none()
        && input.encryption_configuration.is_none()
    {
        return Err(ApiError::MissingRequiredParameter(
            "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified"
                .into(),
        ));
    }
    let publish = input.publish.unwrap_or(false);
    if input.version_description.is_some() && !publish {
        return Err(version_description_needs_publish());
    }
    check_service_rules(
        input.definition.as_deref(),
        input.role_arn.as_deref(),
        input.logging_configuration.as_ref(),
        input.encryption_configuration.as_ref(),
    )?;
    let quota = ctx.limits.version_quota;
    let scope = ctx.scope.clone();
    ctx.store
        .write(move |tx| {
            let missing = || ApiError::does_not_exist(&arn_text);
            let StateMachineRef::Machine(machine_arn) = &target else {
                return Err(missing());
            };
            let m = find_owned_machine(&scope, tx, &target)?.ok_or_else(missing)?;
            let current = sql::current_revision(tx, m.id)?;
            let mut next = current.snapshot.clone();
            if let Some(d) = input.definition {
                next.definition = d;
            }
            if let Some(r) = input.role_arn {
                next.role_arn = r;
            }
            if let Some(l) = &input.logging_configuration {
                next.logging = to_json(&l.normalized());
            }
            if let Some(t) = &input.tracing_configuration {
                next.tracing = to_json(&t.normalized());
            }
            if let Some(e) = &input.encryption_configuration {
                next.encryption = to_json(&e.normalized());
            }
            let now = now_millis();
            let revision = if next == current.snapshot {
                current
            } else {
                let id = uuid::Uuid::new_v4().to_string();
                sql::insert_revision(tx, m.id, Some(&id), &next, now)?
            };
            let version = if publish {
                Some(publish_revision(
                    tx,
                    &m,
                    &revision,
                    input.version_description.as_deref(),
                    quota,
                    machine_arn,
                )?)
            } else {
                None
            };
            Ok(UpdateStateMachineOutput {
                update_date: secs(now),
                revision_id: revision.revision_id,
                state_machine_version_arn: version.map(|v| machine_arn.version(v.number)),
            })
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteStateMachineInput {
    pub state_machine_arn: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Empty {}

/// DeleteStateMachine: removes the machine, its revisions, versions, aliases and tags in one
/// transaction; a machine that does not exist is already deleted (200).
pub async fn delete_state_machine(
    ctx: Ctx,
    input: DeleteStateMachineInput,
) -> Result<Empty, ApiError> {
    let mut v = Violations::default();
    v.required("stateMachineArn", &input.state_machine_arn);
    v.length(
        "stateMachineArn",
        input.state_machine_arn.as_deref(),
        1,
        256,
        false,
    );
    v.finish()?;
    let arn_text = input.state_machine_arn.unwrap_or_default();
    let target = parse_arn(&arn_text)?;
    match target {
        StateMachineRef::Version(..) => {
            return Err(ApiError::ValidationException(format!(
                "Use DeleteStateMachineVersion to delete a state machine version: '{arn_text}'"
            )))
        }
        StateMachineRef::Alias(..) => {
            return Err(ApiError::ValidationException(format!(
                "Use DeleteStateMachineAlias to delete a state machine alias: '{arn_text}'"
            )))
        }
        StateMachineRef::Machine(_) => {}
    }
    let scope = ctx.scope.clone();
    ctx.store
        .write(move |tx| {
            if let Some(m) = find_owned_machine(&scope, tx, &target)? {
                sql::delete_machine(tx, m.id)?;
            }
            Ok(Empty {})
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachinesInput {
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineListItem {
    pub state_machine_arn: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub creation_date: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachinesOutput {
    pub state_machines: Vec<StateMachineListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// ListStateMachines: the caller's machines by name, ascending in byte order, as AWS lists
/// them. The token names the last name served, so pages stay stable under concurrent
/// creates and deletes.
pub async fn list_state_machines(
    ctx: Ctx,
    input: ListStateMachinesInput,
) -> Result<ListStateMachinesOutput, ApiError> {
    const OP: &str = "ListStateMachines";
    let mut v = Violations::default();
    check_paging(&mut v, input.max_results, input.next_token.as_deref());
    v.finish()?;
    let owner = ctx.scope.key();
    let after: Option<String> = resume_after(input.next_token.as_deref(), OP, &owner)?;
    let limit = page_size(input.max_results);
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let mut rows = sql::list_machines(
                tx,
                &scope.account,
                &scope.region,
                after.as_deref(),
                limit + 1,
            )?;
            let next_token = (rows.len() > limit).then(|| {
                rows.truncate(limit);
                token::encode(OP, &owner, &rows[limit - 1].name)
            });
            Ok(ListStateMachinesOutput {
                state_machines: rows
                    .into_iter()
                    .map(|m| StateMachineListItem {
                        state_machine_arn: m.arn,
                        name: m.name,
                        kind: m.kind,
                        creation_date: secs(m.created_ms),
                    })
                    .collect(),
                next_token,
            })
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateStateMachineDefinitionInput {
    pub definition: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub severity: Option<String>,
    pub max_results: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    pub severity: &'static str,
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateStateMachineDefinitionOutput {
    pub result: &'static str,
    pub diagnostics: Vec<Diagnostic>,
    pub truncated: bool,
}

/// ValidateStateMachineDefinition: the checker's problems as ERROR diagnostics; an invalid
/// definition is a 200 with `result: FAIL`, not an error.
pub async fn validate_state_machine_definition(
    _ctx: Ctx,
    input: ValidateStateMachineDefinitionInput,
) -> Result<ValidateStateMachineDefinitionOutput, ApiError> {
    let mut v = Violations::default();
    v.required("definition", &input.definition);
    v.length(
        "definition",
        input.definition.as_deref(),
        1,
        MAX_DEFINITION,
        true,
    );
    v.one_of("type", input.kind.as_deref(), STATE_MACHINE_TYPES);
    v.one_of("severity", input.severity.as_deref(), &["ERROR", "WARNING"]);
    v.range("maxResults", input.max_results, 0, 100);
    v.finish()?;
    let problems = asl::check(input.definition.as_deref().unwrap_or_default());
    let limit = match input.max_results {
        None | Some(0) => 100,
        Some(n) => n as usize,
    };
    let truncated = problems.len() > limit;
    let result = if problems.is_empty() { "OK" } else { "FAIL" };
    let diagnostics = problems
        .into_iter()
        .take(limit)
        .map(|d| Diagnostic {
            severity: "ERROR",
            code: d.code.to_owned(),
            message: d.message,
            location: d.location,
        })
        .collect();
    Ok(ValidateStateMachineDefinitionOutput {
        result,
        diagnostics,
        truncated,
    })
}
