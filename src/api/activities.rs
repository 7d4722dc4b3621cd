//! CreateActivity, DescribeActivity, DeleteActivity and ListActivities (executions-api.md
//! §8.1). An activity is a named task queue; workers and the Task states that use it come
//! with GetActivityTask and the SendTask* operations.

use serde::{Deserialize, Serialize};

use super::paging::page_by_name;
use super::state_machines::{
    check_encryption, check_tags, encryption_rules, too_many_tags, Empty, Tag, MAX_TAGS,
};
use super::validate::{Violations, ARN, NAME};
use super::{secs, ApiError, Ctx};
use crate::domain::arn::parse_activity_arn;
use crate::domain::config::EncryptionConfiguration;
use crate::domain::names::is_valid_machine_name;
use crate::domain::now_millis;
use crate::domain::records::{Activity, NewActivity};
use crate::domain::scope::Scope;
use crate::store::Tx;

/// The most activities one account has in one region (AWS's quota, not adjustable here).
pub const MAX_ACTIVITIES: i64 = 100_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateActivityInput {
    pub name: Option<String>,
    pub tags: Option<Vec<Tag>>,
    pub encryption_configuration: Option<EncryptionConfiguration>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateActivityOutput {
    pub activity_arn: String,
    pub creation_date: f64,
}

/// CreateActivity: idempotent by name — a repeat answers the activity as it is (its tags
/// untouched), unless it asks for another encryption configuration.
pub async fn create_activity(
    ctx: Ctx,
    input: CreateActivityInput,
) -> Result<CreateActivityOutput, ApiError> {
    let mut v = Violations::default();
    v.required_member("name", &input.name, NAME);
    check_tags(&mut v, "tags", input.tags.as_deref().unwrap_or_default());
    check_encryption(&mut v, input.encryption_configuration.as_ref());
    v.finish()?;
    let name = input.name.unwrap_or_default();
    if !is_valid_machine_name(&name) {
        return Err(ApiError::InvalidName(format!("Invalid Name: '{name}'")));
    }
    if let Some(e) = &input.encryption_configuration {
        encryption_rules(e)?;
    }
    let arn = ctx.scope.activity_arn(&name).to_string();
    let tags = input.tags.unwrap_or_default();
    if tags.len() > MAX_TAGS {
        return Err(too_many_tags(&arn));
    }
    let encryption = serde_json::to_string(
        &input
            .encryption_configuration
            .unwrap_or_default()
            .normalized(),
    )
    .unwrap_or_default();
    let scope = ctx.scope.clone();
    let created = ctx
        .store
        .write(move |tx| {
            if let Some(a) = tx.activities().find(&arn)? {
                if a.encryption != encryption {
                    return Err(ApiError::ActivityAlreadyExists(format!(
                        "Activity already exists: '{arn}'"
                    )));
                }
                return Ok(a);
            }
            if tx.activities().count(&scope)? >= MAX_ACTIVITIES {
                return Err(ApiError::ActivityLimitExceeded(format!(
                    "Activity limit exceeded: at most {MAX_ACTIVITIES} activities per account and region"
                )));
            }
            let a = tx.activities().insert(&NewActivity {
                arn: &arn,
                account: &scope.account,
                region: &scope.region,
                name: &name,
                created_ms: now_millis(),
                encryption: &encryption,
            })?;
            for t in &tags {
                let key = t.key.as_deref().unwrap_or_default();
                tx.activities()
                    .put_tag(a.key, key, t.value.as_deref().unwrap_or_default())?;
            }
            Ok(a)
        })
        .await?;
    Ok(CreateActivityOutput {
        activity_arn: created.arn,
        creation_date: secs(created.created_ms),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityArnInput {
    pub activity_arn: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeActivityOutput {
    pub activity_arn: String,
    pub name: String,
    pub creation_date: f64,
    pub encryption_configuration: serde_json::Value,
}

/// The caller's activity named by `arn` as sent, or the AWS error for it (another account's
/// activity does not exist for the caller).
pub fn owned_activity(tx: &dyn Tx, scope: &Scope, arn: &str) -> Result<Activity, ApiError> {
    let parsed = parse_activity_arn(arn)?;
    let missing = || ApiError::activity_does_not_exist(arn);
    if !scope.owns_activity(&parsed) {
        return Err(missing());
    }
    tx.activities()
        .find(&parsed.to_string())?
        .ok_or_else(missing)
}

fn check_activity_arn(input: &ActivityArnInput) -> Result<String, ApiError> {
    let mut v = Violations::default();
    v.required_member("activityArn", &input.activity_arn, ARN);
    v.finish()?;
    Ok(input.activity_arn.clone().unwrap_or_default())
}

/// DescribeActivity.
pub async fn describe_activity(
    ctx: Ctx,
    input: ActivityArnInput,
) -> Result<DescribeActivityOutput, ApiError> {
    let arn = check_activity_arn(&input)?;
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let a = owned_activity(tx, &scope, &arn)?;
            Ok(DescribeActivityOutput {
                activity_arn: a.arn,
                name: a.name,
                creation_date: secs(a.created_ms),
                encryption_configuration: super::state_machines::parse_json(&a.encryption),
            })
        })
        .await
}

/// DeleteActivity: `{}`, also when the activity is already gone.
pub async fn delete_activity(ctx: Ctx, input: ActivityArnInput) -> Result<Empty, ApiError> {
    let arn = check_activity_arn(&input)?;
    let parsed = parse_activity_arn(&arn)?;
    if !ctx.scope.owns_activity(&parsed) {
        return Ok(Empty {});
    }
    ctx.store
        .write(move |tx| {
            if let Some(a) = tx.activities().find(&parsed.to_string())? {
                tx.activities().delete(a.key)?;
            }
            Ok::<_, ApiError>(Empty {})
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListActivitiesInput {
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityListItem {
    pub activity_arn: String,
    pub name: String,
    pub creation_date: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListActivitiesOutput {
    pub activities: Vec<ActivityListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// ListActivities: the caller's activities by name, paged like ListStateMachines.
pub async fn list_activities(
    ctx: Ctx,
    input: ListActivitiesInput,
) -> Result<ListActivitiesOutput, ApiError> {
    let (rows, next_token) = page_by_name(
        &ctx,
        "ListActivities",
        input.max_results,
        input.next_token.as_deref(),
        |tx, scope, after, limit| tx.activities().list(scope, after, limit),
        |a: &Activity| a.name.clone(),
    )
    .await?;
    Ok(ListActivitiesOutput {
        activities: rows
            .into_iter()
            .map(|a| ActivityListItem {
                activity_arn: a.arn,
                name: a.name,
                creation_date: secs(a.created_ms),
            })
            .collect(),
        next_token,
    })
}
