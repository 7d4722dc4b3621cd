//! TagResource, UntagResource and ListTagsForResource on state machines and activities.
//! Versions and aliases cannot be tagged: they are `ResourceNotFound` (aws-behavior.md §1.2).

use serde::{Deserialize, Serialize};

use super::state_machines::{check_tags, too_many_tags, Empty, Tag, MAX_TAGS};
use super::validate::{Violations, ARN, TAG_KEY};
use super::{owned_machine, parse_arn, ApiError, Ctx};
use crate::domain::arn::{parse_activity_arn, ActivityArn, StateMachineRef};
use crate::domain::records::{ActivityKey, MachineKey, TagPair};
use crate::domain::scope::Scope;
use crate::store::Tx;

/// A taggable resource, as its ARN names it.
enum Resource {
    Machine(StateMachineRef),
    Activity(ActivityArn),
}

/// A taggable resource that exists.
#[derive(Clone, Copy)]
enum Tagged {
    Machine(MachineKey),
    Activity(ActivityKey),
}

impl Tagged {
    fn list(self, tx: &dyn Tx) -> crate::store::repo::Result<Vec<TagPair>> {
        match self {
            Tagged::Machine(k) => tx.tags().list(k),
            Tagged::Activity(k) => tx.activities().tags(k),
        }
    }
    fn put(self, tx: &dyn Tx, key: &str, value: &str) -> crate::store::repo::Result<()> {
        match self {
            Tagged::Machine(k) => tx.tags().put(k, key, value),
            Tagged::Activity(k) => tx.activities().put_tag(k, key, value),
        }
    }
    fn delete(self, tx: &dyn Tx, key: &str) -> crate::store::repo::Result<()> {
        match self {
            Tagged::Machine(k) => tx.tags().delete(k, key),
            Tagged::Activity(k) => tx.activities().delete_tag(k, key),
        }
    }
}

/// Resolves a taggable resource ARN to the caller's machine or activity, or the AWS error.
fn tagged(tx: &dyn Tx, scope: &Scope, arn: &str, target: &Resource) -> Result<Tagged, ApiError> {
    let missing = || ApiError::resource_not_found(arn);
    match target {
        Resource::Machine(m @ StateMachineRef::Machine(_)) => owned_machine(tx, scope, m)?
            .map(|m| Tagged::Machine(m.key))
            .ok_or_else(missing),
        Resource::Machine(_) => Err(missing()),
        Resource::Activity(a) if scope.owns_activity(a) => tx
            .activities()
            .find(&a.to_string())?
            .map(|a| Tagged::Activity(a.key))
            .ok_or_else(missing),
        Resource::Activity(_) => Err(missing()),
    }
}

/// Parses `resourceArn`: an activity ARN or any state machine ARN.
fn parse_resource(arn: &str) -> Result<Resource, ApiError> {
    let is_activity = arn.split(':').nth(5) == Some("activity") && arn.starts_with("arn:");
    if is_activity {
        return Ok(Resource::Activity(parse_activity_arn(arn)?));
    }
    parse_arn(arn).map(Resource::Machine)
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
    let target = parse_resource(&arn)?;
    let tags = input.tags.unwrap_or_default();
    let scope = ctx.scope.clone();
    ctx.store
        .write(move |tx| {
            let r = tagged(tx, &scope, &arn, &target)?;
            for t in &tags {
                r.put(
                    tx,
                    t.key.as_deref().unwrap_or_default(),
                    t.value.as_deref().unwrap_or_default(),
                )?;
            }
            // Counted after the upsert so replacing an existing key never trips the limit;
            // an error here rolls the whole request back.
            if r.list(tx)?.len() > MAX_TAGS {
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
    let target = parse_resource(&arn)?;
    let keys = input.tag_keys.unwrap_or_default();
    let scope = ctx.scope.clone();
    ctx.store
        .write(move |tx| {
            let r = tagged(tx, &scope, &arn, &target)?;
            for k in &keys {
                r.delete(tx, k)?;
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

/// ListTagsForResource: the resource's tags by key (`[]` when it has none).
pub async fn list_tags_for_resource(
    ctx: Ctx,
    input: ListTagsForResourceInput,
) -> Result<ListTagsForResourceOutput, ApiError> {
    let mut v = Violations::default();
    check_resource_arn(&mut v, &input.resource_arn);
    v.finish()?;
    let arn = input.resource_arn.unwrap_or_default();
    let target = parse_resource(&arn)?;
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let tags = tagged(tx, &scope, &arn, &target)?
                .list(tx)?
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
