//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines and ValidateStateMachineDefinition.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::cache::{CacheKey, Cached};
use super::paging::page_by_name;
use super::validate::{
    Violations, ARN, DEFINITION, DESCRIPTION, INCLUDED_DATA, KMS_KEY_ID, NAME, TAG_KEY, TAG_VALUE,
};
use super::versions::publish_revision;
use super::{encode, not_deleting, owned_machine, parse_arn, secs, ApiError, Ctx};
use crate::asl;
use crate::domain::arn::{is_role_arn, MachineArn, StateMachineRef};
use crate::domain::config::{
    EncryptionConfiguration, LoggingConfiguration, TracingConfiguration, CUSTOMER_MANAGED_KMS_KEY,
};
use crate::domain::names::is_valid_machine_name;
use crate::domain::now_millis;
use crate::domain::records::{Machine, MachineType, NewMachine, Revision, RevisionId, Snapshot};
use crate::domain::scope::Scope;
use crate::store::Tx;

const LOG_LEVELS: &[&str] = &["ALL", "ERROR", "FATAL", "OFF"];
const ENCRYPTION_TYPES: &[&str] = &["AWS_OWNED_KEY", "CUSTOMER_MANAGED_KMS_KEY"];
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
        v.member(&path, arn, ARN);
    }
}

/// Model constraints of an `EncryptionConfiguration` member.
pub(super) fn check_encryption(v: &mut Violations, encryption: Option<&EncryptionConfiguration>) {
    let Some(e) = encryption else { return };
    v.member(
        "encryptionConfiguration.kmsKeyId",
        e.kms_key_id.as_deref(),
        KMS_KEY_ID,
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
    definition: Option<(&str, MachineType)>,
    role_arn: Option<&str>,
    logging: Option<&LoggingConfiguration>,
    encryption: Option<&EncryptionConfiguration>,
) -> Result<(), ApiError> {
    if let Some(role) = role_arn {
        check_role_arn(role)?;
    }
    if let Some((def, kind)) = definition {
        check_definition(def, kind)?;
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
        encryption_rules(e)?;
    }
    Ok(())
}

/// The service rules of an `EncryptionConfiguration` (state machines and activities alike).
pub(super) fn encryption_rules(e: &EncryptionConfiguration) -> Result<(), ApiError> {
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
    Ok(())
}

/// `roleArn` must name an IAM role; sfnlite has no IAM to check that it exists.
fn check_role_arn(role: &str) -> Result<(), ApiError> {
    if is_role_arn(role) {
        return Ok(());
    }
    Err(ApiError::InvalidArn(format!("Invalid Role Arn: '{role}'")))
}

/// InvalidDefinition in AWS's form: `Invalid State Machine Definition: '<problems>'`, every
/// problem as `CODE: text at location`, joined with `, ` in document order.
pub(crate) fn check_definition(definition: &str, kind: MachineType) -> Result<(), ApiError> {
    let problems: Vec<asl::Diagnostic> = asl::check(definition, asl::Flavor { kind })
        .into_iter()
        .filter(|d| d.severity == asl::Severity::Error)
        .collect();
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
        v.required_member(&format!("{at}.key"), &t.key, TAG_KEY);
        v.member(&format!("{at}.value"), t.value.as_deref(), TAG_VALUE);
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

/// Model constraints of CreateStateMachine, in the model's member order.
fn check_create_input(input: &CreateStateMachineInput) -> Result<(), ApiError> {
    let mut v = Violations::default();
    v.required_member("name", &input.name, NAME);
    v.required_member("definition", &input.definition, DEFINITION);
    v.required_member("roleArn", &input.role_arn, ARN);
    v.one_of("type", input.kind.as_deref(), MachineType::NAMES);
    check_logging(&mut v, input.logging_configuration.as_ref());
    check_tags(&mut v, "tags", input.tags.as_deref().unwrap_or_default());
    v.member(
        "versionDescription",
        input.version_description.as_deref(),
        DESCRIPTION,
    );
    check_encryption(&mut v, input.encryption_configuration.as_ref());
    v.finish()
}

/// A create request that passed every check.
struct NewStateMachine {
    arn: MachineArn,
    kind: MachineType,
    snapshot: Snapshot,
    tags: Vec<Tag>,
    publish: bool,
    description: Option<String>,
    quota: i64,
}

/// CreateStateMachine: creates a machine with its initial configuration as a revision row;
/// idempotent against the current configuration (aws-behavior.md §13.1 item 3).
pub async fn create_state_machine(
    ctx: Ctx,
    input: CreateStateMachineInput,
) -> Result<CreateStateMachineOutput, ApiError> {
    check_create_input(&input)?;
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
    let kind = MachineType::of_member(input.kind.as_deref());
    check_service_rules(
        Some((&definition, kind)),
        Some(&role_arn),
        input.logging_configuration.as_ref(),
        input.encryption_configuration.as_ref(),
    )?;
    let tags = input.tags.unwrap_or_default();
    let arn = ctx.scope.machine_arn(&name);
    if tags.len() > MAX_TAGS {
        return Err(too_many_tags(&arn.to_string()));
    }
    let request = NewStateMachine {
        arn,
        kind,
        snapshot: snapshot(
            definition,
            role_arn,
            &input.logging_configuration.unwrap_or_default(),
            &input.tracing_configuration.unwrap_or_default(),
            &input.encryption_configuration.unwrap_or_default(),
        ),
        tags,
        publish,
        description: input.version_description,
        quota: ctx.limits.version_quota,
    };
    let scope = ctx.scope.clone();
    ctx.store
        .write(
            move |tx| match tx.machines().find(&request.arn.to_string())? {
                Some(m) => repeat_create(tx, &m, &request),
                None => insert_machine(tx, &scope, &request),
            },
        )
        .await
}

/// A create of a name that exists: the same configuration (and, with `publish`, the same
/// version description) returns the existing machine; anything else is
/// StateMachineAlreadyExists.
fn repeat_create(
    tx: &dyn Tx,
    m: &Machine,
    r: &NewStateMachine,
) -> Result<CreateStateMachineOutput, ApiError> {
    let current = tx.machines().current_revision(m.key)?;
    let same = m.kind == r.kind
        && current.snapshot.definition == r.snapshot.definition
        && current.snapshot.logging == r.snapshot.logging
        && current.snapshot.tracing == r.snapshot.tracing
        && current.snapshot.encryption == r.snapshot.encryption;
    let same_description = match (tx.versions().for_revision(current.key)?, r.publish) {
        (Some(existing), true) => existing.description == r.description,
        _ => true,
    };
    if !same || !same_description {
        return Err(ApiError::StateMachineAlreadyExists(format!(
            "State Machine Already Exists: '{}'",
            r.arn
        )));
    }
    created(tx, m, &current, r, m.created_ms)
}

/// A create of a new name: the machine, its initial revision and its tags, in one write.
fn insert_machine(
    tx: &dyn Tx,
    scope: &Scope,
    r: &NewStateMachine,
) -> Result<CreateStateMachineOutput, ApiError> {
    let now = now_millis();
    let arn = r.arn.to_string();
    let m = tx.machines().insert(&NewMachine {
        arn: &arn,
        account: &scope.account,
        region: &scope.region,
        name: &r.arn.name,
        kind: r.kind,
        created_ms: now,
    })?;
    let initial = tx.machines().add_revision(m.key, None, &r.snapshot, now)?;
    for t in &r.tags {
        tx.tags().put(
            m.key,
            t.key.as_deref().unwrap_or_default(),
            t.value.as_deref().unwrap_or_default(),
        )?;
    }
    created(tx, &m, &initial, r, now)
}

/// The answer of a create, publishing `revision` first when asked to.
fn created(
    tx: &dyn Tx,
    m: &Machine,
    revision: &Revision,
    r: &NewStateMachine,
    creation_ms: i64,
) -> Result<CreateStateMachineOutput, ApiError> {
    let version = if r.publish {
        Some(publish_revision(
            tx,
            m,
            revision,
            r.description.as_deref(),
            r.quota,
            &r.arn,
        )?)
    } else {
        None
    };
    Ok(CreateStateMachineOutput {
        state_machine_arn: r.arn.to_string(),
        creation_date: secs(creation_ms),
        state_machine_version_arn: version.map(|v| r.arn.version(v.number)),
    })
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
    pub kind: &'static str,
    pub creation_date: f64,
    pub logging_configuration: serde_json::Value,
    pub tracing_configuration: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub encryption_configuration: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variable_references: Option<VariableReferences>,
}

/// State name → the workflow variables it reads.
pub type VariableReferences = std::collections::BTreeMap<String, Vec<String>>;

/// The `variableReferences` of a stored revision: absent when no state reads a variable, and
/// for METADATA_ONLY answers, which leave out everything the definition says.
pub(super) fn variable_references(
    definitions: &crate::engine::definitions::Definitions,
    revision: &Revision,
    metadata_only: bool,
) -> Option<VariableReferences> {
    if metadata_only {
        return None;
    }
    let loaded = definitions.load(revision.key, &revision.snapshot).ok()?;
    Some(crate::asl::references::variable_references(
        &loaded.definition,
    ))
    .filter(|r| !r.is_empty())
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
    v.required_member("stateMachineArn", &input.state_machine_arn, ARN);
    v.one_of(
        "includedData",
        input.included_data.as_deref(),
        INCLUDED_DATA,
    );
    v.finish()?;
    let arn_text = input.state_machine_arn.unwrap_or_default();
    let target = parse_arn(&arn_text)?;
    let metadata_only = input.included_data.as_deref() == Some("METADATA_ONLY");
    let scope = ctx.scope.clone();
    let definitions = ctx.definitions.clone();
    ctx.store
        .read(move |tx| {
            let missing = || ApiError::does_not_exist(&arn_text);
            if matches!(target, StateMachineRef::Alias(..)) {
                return Err(missing());
            }
            let m = owned_machine(tx, &scope, &target)?.ok_or_else(missing)?;
            let (revision, created_ms, description, shown_arn) = match &target {
                StateMachineRef::Version(_, n) => {
                    let ver = tx.versions().find(m.key, *n)?.ok_or_else(missing)?;
                    (
                        tx.machines().revision(ver.revision)?,
                        ver.created_ms,
                        ver.description,
                        arn_text.clone(),
                    )
                }
                _ => (
                    tx.machines().current_revision(m.key)?,
                    m.created_ms,
                    None,
                    m.arn.clone(),
                ),
            };
            let variable_references = variable_references(&definitions, &revision, metadata_only);
            let s = revision.snapshot;
            Ok(DescribeStateMachineOutput {
                state_machine_arn: shown_arn,
                name: m.name,
                status: if m.deleting { "DELETING" } else { "ACTIVE" },
                // METADATA_ONLY leaves the definition out, as `{}` (the API reference).
                definition: if metadata_only {
                    "{}".into()
                } else {
                    s.definition
                },
                role_arn: s.role_arn,
                kind: m.kind.as_str(),
                creation_date: secs(created_ms),
                logging_configuration: parse_json(&s.logging),
                tracing_configuration: parse_json(&s.tracing),
                revision_id: revision.revision_id.map(|r| r.0),
                description,
                encryption_configuration: parse_json(&s.encryption),
                variable_references,
            })
        })
        .await
}

/// A stored configuration (normalised JSON) as a response member.
pub(super) fn parse_json(text: &str) -> serde_json::Value {
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
    v.required_member("stateMachineArn", &input.state_machine_arn, ARN);
    v.member("definition", input.definition.as_deref(), DEFINITION);
    v.member("roleArn", input.role_arn.as_deref(), ARN);
    check_logging(&mut v, input.logging_configuration.as_ref());
    v.member(
        "versionDescription",
        input.version_description.as_deref(),
        DESCRIPTION,
    );
    check_encryption(&mut v, input.encryption_configuration.as_ref());
    v.finish()?;

    let arn_text = input.state_machine_arn.clone().unwrap_or_default();
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
    // The machine's type is known only inside the transaction: the rules every type shares
    // are checked here, EXPRESS's own below.
    check_service_rules(
        input
            .definition
            .as_deref()
            .map(|d| (d, MachineType::Standard)),
        input.role_arn.as_deref(),
        input.logging_configuration.as_ref(),
        input.encryption_configuration.as_ref(),
    )?;
    let quota = ctx.limits.version_quota;
    let scope = ctx.scope.clone();
    // Updates of one machine contend on its row (revisions, version numbers): they queue.
    ctx.store
        .write_on(arn_text.clone(), move |tx| {
            let missing = || ApiError::does_not_exist(&arn_text);
            let StateMachineRef::Machine(machine_arn) = &target else {
                return Err(missing());
            };
            let m = owned_machine(tx, &scope, &target)?.ok_or_else(missing)?;
            not_deleting(&m)?;
            if let (Some(d), MachineType::Express) = (&input.definition, m.kind) {
                check_definition(d, MachineType::Express)?;
            }
            let current = tx.machines().current_revision(m.key)?;
            let next = updated_snapshot(&current.snapshot, &input);
            let now = now_millis();
            let revision = if next == current.snapshot {
                current
            } else {
                tx.machines()
                    .add_revision(m.key, Some(RevisionId::new_random()), &next, now)?
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
                revision_id: revision.revision_id.map(|r| r.0),
                state_machine_version_arn: version.map(|v| machine_arn.version(v.number)),
            })
        })
        .await
}

/// The current configuration with an update's members applied; equal to `current` when
/// the update changes nothing (then no revision is made).
fn updated_snapshot(current: &Snapshot, input: &UpdateStateMachineInput) -> Snapshot {
    let mut next = current.clone();
    if let Some(d) = &input.definition {
        next.definition = d.clone();
    }
    if let Some(r) = &input.role_arn {
        next.role_arn = r.clone();
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
    next
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteStateMachineInput {
    pub state_machine_arn: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Empty {}

/// DeleteStateMachine: removes the machine, its revisions, versions, aliases, tags and closed
/// executions in one transaction; with executions running, marks it DELETING instead
/// (executions-api.md §12). A machine that does not exist is already deleted (200).
pub async fn delete_state_machine(
    ctx: Ctx,
    input: DeleteStateMachineInput,
) -> Result<Empty, ApiError> {
    let mut v = Violations::default();
    v.required_member("stateMachineArn", &input.state_machine_arn, ARN);
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
            if let Some(m) = owned_machine(tx, &scope, &target)? {
                // Running executions end at their next transition; the last one to end
                // takes the machine with it (store::repo::close_execution).
                if tx.executions().running(&m.arn)? > 0 {
                    tx.machines().mark_deleting(m.key)?;
                } else {
                    tx.machines().delete(m.key)?;
                }
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
    pub kind: &'static str,
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
    let (rows, next_token) = page_by_name(
        &ctx,
        "ListStateMachines",
        input.max_results,
        input.next_token.as_deref(),
        |tx, scope, after, limit| tx.machines().list(scope, after, limit),
        |m: &Machine| m.name.clone(),
    )
    .await?;
    Ok(ListStateMachinesOutput {
        state_machines: rows
            .into_iter()
            .map(|m| StateMachineListItem {
                state_machine_arn: m.arn,
                name: m.name,
                kind: m.kind.as_str(),
                creation_date: secs(m.created_ms),
            })
            .collect(),
        next_token,
    })
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

/// ValidateStateMachineDefinition: the definition's diagnostics (errors, and warnings when
/// `severity` is WARNING), at most `maxResults`; an invalid definition is a 200 with
/// `result: FAIL`, not an error.
pub async fn validate_state_machine_definition(
    _ctx: Ctx,
    input: ValidateStateMachineDefinitionInput,
) -> Result<ValidateStateMachineDefinitionOutput, ApiError> {
    let mut v = Violations::default();
    v.required_member("definition", &input.definition, DEFINITION);
    v.one_of("type", input.kind.as_deref(), MachineType::NAMES);
    v.one_of("severity", input.severity.as_deref(), &["ERROR", "WARNING"]);
    v.range("maxResults", input.max_results, 0, 100);
    v.finish()?;
    let kind = MachineType::of_member(input.kind.as_deref());
    let with_warnings = input.severity.as_deref() == Some("WARNING");
    let all = asl::check(
        input.definition.as_deref().unwrap_or_default(),
        asl::Flavor { kind },
    );
    let failed = all.iter().any(|d| d.severity == asl::Severity::Error);
    let shown: Vec<asl::Diagnostic> = all
        .into_iter()
        .filter(|d| with_warnings || d.severity == asl::Severity::Error)
        .collect();
    let limit = match input.max_results {
        None | Some(0) => 100,
        Some(n) => n as usize,
    };
    let truncated = shown.len() > limit;
    let diagnostics = shown
        .into_iter()
        .take(limit)
        .map(|d| Diagnostic {
            severity: d.severity.as_str(),
            code: d.code.to_owned(),
            message: d.message,
            location: d.location,
        })
        .collect();
    Ok(ValidateStateMachineDefinitionOutput {
        result: if failed { "FAIL" } else { "OK" },
        diagnostics,
        truncated,
    })
}
