//! TagResource, UntagResource and ListTagsForResource on state machines. Versions and
//! aliases cannot be tagged: they are `ResourceNotFound` (aws-behavior.md §1.2).

use serde::{Deserialize, Serialize};

use super::state_machines::{check_tags, too_many_tags, Empty, Tag, MAX_TAGS};
use super::validate::{Violations, ARN, TAG_KEY};
use super::{owned_machine, parse_arn, ApiError, Ctx};
use crate::domain::arn::StateMachineRef;
use crate::domain::records::Machine;
use crate::domain::scope::Scope;
use crate::store::Tx;

/// Resolves a taggable resource ARN to the caller's machine, or the AWS error for it.
fn tagged_machine(
    tx: &dyn Tx,
    scope: &Scope,
    arn: &str,
    target: &StateMachineRef,
) -> Result<Machine, ApiError> {
    if !matches!(target, StateMachineRef::Machine(_)) {
        return Err(ApiError::resource_not_found(arn));
    }
    owned_machine(tx, scope, target)?.ok_or_else(|| ApiError::resource_not_found(arn))
}

/// Parses `resourceArn`. Activity ARNs are well-formed resources sfnlite has none of.
fn parse_resource(arn: &str) -> Result<Option<StateMachineRef>, ApiError> {
    let is_activity = arn.split(':').nth(5) == Some("activity") && arn.starts_with("arn:");
    if is_activity {
        return Ok(None);
    }
    parse_arn(arn).map(Some)
}

fn check_resource_arn(v: &mut Violations, arn: &Option<String>) {
    v.required_member("resourceArn", arn, ARN);
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceInput {
    pub resource_arn: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

/// TagResource: adds or replaces tags; more than 50 in all is TooManyTags.
pub async fn tag_resource(ctx: Ctx, input: TagResourceInput) -> Result<Empty, ApiError> {
    let mut v = Violations::default();
    check_resource_arn(&mut v, &input.resource_arn);
    v.required("tags", &input.tags);
    check_tags(&mut v, "tags", input.tags.as_deref().unwrap_or_default());
    v.finish()?;
    let arn = input.resource_arn.unwrap_or_default();
    let Some(target) = parse_resource(&arn)? else {
        return Err(ApiError::resource_not_found(&arn));
    };
    let tags = input.tags.unwrap_or_default();
    let scope = ctx.scope.clone();
    ctx.store
        .write(move |tx| {
            let m = tagged_machine(tx, &scope, &arn, &target)?;
            for t in &tags {
                tx.tags().put(
                    m.key,
                    t.key.as_deref().unwrap_or_default(),
                    t.value.as_deref().unwrap_or_default(),
                )?;
            }
            // Counted after the upsert so replacing an existing key never trips the limit;
            // an error here rolls the whole request back.
            if tx.tags().list(m.key)?.len() > MAX_TAGS {
                return Err(too_many_tags(&arn));
            }
            Ok(Empty {})
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceInput {
    pub resource_arn: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

/// UntagResource: removes keys; absent keys are not an error.
pub async fn untag_resource(ctx: Ctx, input: UntagResourceInput) -> Result<Empty, ApiError> {
    let mut v = Violations::default();
    check_resource_arn(&mut v, &input.resource_arn);
    v.required("tagKeys", &input.tag_keys);
    for (i, k) in input.tag_keys.iter().flatten().enumerate() {
        v.member(&format!("tagKeys.{}.member", i + 1), Some(k), TAG_KEY);
    }
    v.finish()?;
    let arn = input.resource_arn.unwrap_or_default();
    let Some(target) = parse_resource(&arn)? else {
        return Err(ApiError::resource_not_found(&arn));
    };
    let keys = input.tag_keys.unwrap_or_default();
    let scope = ctx.scope.clone();
    ctx.store
        .write(move |tx| {
            let m = tagged_machine(tx, &scope, &arn, &target)?;
            for k in &keys {
                tx.tags().delete(m.key, k)?;
            }
            Ok(Empty {})
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceInput {
    pub resource_arn: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ListTagsForResourceOutput {
    pub tags: Vec<Tag>,
}

/// ListTagsForResource: the machine's tags by key (`[]` when it has none).
pub async fn list_tags_for_resource(
    ctx: Ctx,
    input: ListTagsForResourceInput,
) -> Result<ListTagsForResourceOutput, ApiError> {
    let mut v = Violations::default();
    check_resource_arn(&mut v, &input.resource_arn);
    v.finish()?;
    let arn = input.resource_arn.unwrap_or_default();
    let Some(target) = parse_resource(&arn)? else {
        return Err(ApiError::resource_not_found(&arn));
    };
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let m = tagged_machine(tx, &scope, &arn, &target)?;
            let tags = tx
                .tags()
                .list(m.key)?
                .into_iter()
                .map(|t| Tag {
                    key: Some(t.key),
                    value: Some(t.value),
                })
                .collect();
            Ok(ListTagsForResourceOutput { tags })
        })
        .await
}
