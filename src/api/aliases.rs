//! CreateStateMachineAlias, DescribeStateMachineAlias, UpdateStateMachineAlias,
//! DeleteStateMachineAlias and ListStateMachineAliases, with the routing rules of
//! aws-behavior.md §8 and §13.4 in one place ([`check_routing`]).

use serde::{Deserialize, Serialize};

use super::paging::{check_paging, Paging};
use super::state_machines::Empty;
use super::validate::{Violations, ARN, DESCRIPTION, NAME};
use super::{not_deleting, owned_machine, parse_arn, secs, ApiError, Ctx};
use crate::domain::arn::{MachineArn, StateMachineRef};
use crate::domain::names::{is_valid_alias_name, ALIAS_NAME_PATTERN};
use crate::domain::now_millis;
use crate::domain::records::{Alias, AliasKey, Machine, Route, VersionKey, VersionNumber, Weight};
use crate::domain::scope::Scope;
use crate::store::Tx;

/// The model's `RoutingConfigurationListItem`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RoutingConfigurationListItem {
    pub state_machine_version_arn: Option<String>,
    pub weight: Option<i64>,
}

/// A routing configuration that passed every rule: the machine and its routes in order.
struct Routing {
    machine: MachineArn,
    routes: Vec<(VersionNumber, Weight)>,
}

/// Model constraints of `routingConfiguration` (1–2 items, weights 0–100).
fn check_routing_model(v: &mut Violations, routing: Option<&[RoutingConfigurationListItem]>) {
    let Some(items) = routing else { return };
    if items.is_empty() || items.len() > 2 {
        let shown: Vec<String> = items
            .iter()
            .map(|i| {
                format!(
                    "RoutingConfigurationListItem(stateMachineVersionArn={}, weight={})",
                    i.state_machine_version_arn.as_deref().unwrap_or("null"),
                    i.weight.map_or("null".to_string(), |w| w.to_string())
                )
            })
            .collect();
        let text = if items.is_empty() {
            "Member must have length greater than or equal to 1"
        } else {
            "Member must have length less than or equal to 2"
        };
        v.custom(
            "routingConfiguration",
            &format!("[{}]", shown.join(", ")),
            text,
        );
    }
    for (i, item) in items.iter().enumerate() {
        let at = format!("routingConfiguration.{}.member", i + 1);
        v.required_member(
            &format!("{at}.stateMachineVersionArn"),
            &item.state_machine_version_arn,
            ARN,
        );
        v.required(&format!("{at}.weight"), &item.weight);
        v.range(&format!("{at}.weight"), item.weight, 0, 100);
    }
}

/// The service's routing rules, after the model constraints: every ARN a version ARN,
/// distinct, of one machine, weights summing to 100.
fn check_routing(items: &[RoutingConfigurationListItem]) -> Result<Routing, ApiError> {
    let arns: Vec<&str> = items
        .iter()
        .map(|i| i.state_machine_version_arn.as_deref().unwrap_or_default())
        .collect();
    let received = arns.join(", ");
    let mut parsed = Vec::new();
    for arn in &arns {
        parsed.push(parse_arn(arn)?);
    }
    if parsed
        .iter()
        .any(|p| !matches!(p, StateMachineRef::Version(..)))
    {
        return Err(ApiError::ValidationException(format!(
            "Routing configuration must contain state machine version ARNs. Received: [{received}]"
        )));
    }
    if arns.len() == 2 && arns[0] == arns[1] {
        return Err(ApiError::ValidationException(format!(
            "Routing configuration must contain distinct state machine version ARNs. Received: [{received}]"
        )));
    }
    let machine = parsed[0].machine().clone();
    if parsed.iter().any(|p| p.machine() != &machine) {
        return Err(ApiError::ValidationException(format!(
            "Routing configuration must contain version ARNs of the same state machine. Received: [{received}]"
        )));
    }
    let weights: Vec<i64> = items.iter().map(|i| i.weight.unwrap_or(0)).collect();
    if weights.iter().sum::<i64>() != 100 {
        let shown: Vec<String> = weights.iter().map(i64::to_string).collect();
        return Err(ApiError::ValidationException(format!(
            "Sum of routing configuration weights must equal 100. Received: [{}]",
            shown.join(", ")
        )));
    }
    let routes = parsed
        .iter()
        .zip(&weights)
        .map(|(p, w)| match p {
            StateMachineRef::Version(_, n) => (*n, Weight(*w)),
            _ => unreachable!("checked above that every route is a version"),
        })
        .collect();
    Ok(Routing { machine, routes })
}

/// Resolves checked routes to version row ids: every version must exist in the caller's
/// scope, else `Resource not found: '<version arn>'`.
fn resolve_routes(
    tx: &dyn Tx,
    scope: &Scope,
    routing: &Routing,
) -> Result<(Machine, Vec<(VersionKey, Weight)>), ApiError> {
    let first = routing.machine.version(routing.routes[0].0);
    let target = StateMachineRef::Machine(routing.machine.clone());
    let m =
        owned_machine(tx, scope, &target)?.ok_or_else(|| ApiError::resource_not_found(&first))?;
    not_deleting(&m)?;
    let mut keys = Vec::new();
    for (number, weight) in &routing.routes {
        let version = tx
            .versions()
            .find(m.key, *number)?
            .ok_or_else(|| ApiError::resource_not_found(&routing.machine.version(*number)))?;
        keys.push((version.key, *weight));
    }
    Ok((m, keys))
}

/// Parses an alias ARN argument; other ARN kinds are not aliases.
fn parse_alias_arn(arn: &str) -> Result<(StateMachineRef, String), ApiError> {
    let target = parse_arn(arn)?;
    match &target {
        StateMachineRef::Alias(_, name) => {
            let name = name.clone();
            Ok((target, name))
        }
        _ => Err(ApiError::ValidationException(format!(
            "Invalid alias ARN: '{arn}'"
        ))),
    }
}

fn check_alias_arn(v: &mut Violations, arn: &Option<String>) {
    v.required_member("stateMachineAliasArn", arn, ARN);
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineAliasInput {
    pub description: Option<String>,
    pub name: Option<String>,
    pub routing_configuration: Option<Vec<RoutingConfigurationListItem>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineAliasOutput {
    pub state_machine_alias_arn: String,
    pub creation_date: f64,
}

/// CreateStateMachineAlias: idempotent for an identical alias (original creation date);
/// the same name with any difference is a ConflictException.
pub async fn create_state_machine_alias(
    ctx: Ctx,
    input: CreateStateMachineAliasInput,
) -> Result<CreateStateMachineAliasOutput, ApiError> {
    let mut v = Violations::default();
    v.member("description", input.description.as_deref(), DESCRIPTION);
    v.required_member("name", &input.name, NAME);
    v.pattern(
        "name",
        input.name.as_deref(),
        ALIAS_NAME_PATTERN,
        is_valid_alias_name,
    );
    v.required("routingConfiguration", &input.routing_configuration);
    check_routing_model(&mut v, input.routing_configuration.as_deref());
    v.finish()?;
    let name = input.name.unwrap_or_default();
    let items = input.routing_configuration.unwrap_or_default();
    let routing = check_routing(&items)?;
    let description = input.description;
    let quota = ctx.limits.alias_quota;
    let scope = ctx.scope.clone();
    ctx.store
        .write(move |tx| {
            let (m, routes) = resolve_routes(tx, &scope, &routing)?;
            let alias_arn = routing.machine.alias(&name);
            if let Some(existing) = tx.aliases().find(m.key, &name)? {
                let current: Vec<(VersionKey, Weight)> =
                    tx.aliases().routes(existing.key)?.into_iter().map(|r| (r.version, r.weight)).collect();
                if existing.description != description || current != routes {
                    return Err(ApiError::ConflictException(
                        "Failed to create alias because an alias with the same name and a different routing configuration already exists.".into(),
                    ));
                }
                return Ok(CreateStateMachineAliasOutput {
                    state_machine_alias_arn: alias_arn,
                    creation_date: secs(existing.created_ms),
                });
            }
            if tx.aliases().count(m.key)? >= quota {
                return Err(ApiError::ServiceQuotaExceededException(format!(
                    "The maximum number of aliases ({quota}) for state machine '{}' has been reached.",
                    routing.machine
                )));
            }
            let now = now_millis();
            tx.aliases().insert(m.key, &name, description.as_deref(), &routes, now)?;
            Ok(CreateStateMachineAliasOutput { state_machine_alias_arn: alias_arn, creation_date: secs(now) })
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineAliasInput {
    pub state_machine_alias_arn: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineAliasOutput {
    pub state_machine_alias_arn: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub routing_configuration: Vec<RoutingConfigurationListItem>,
    pub creation_date: f64,
    pub update_date: f64,
}

fn find_alias(
    tx: &dyn Tx,
    scope: &Scope,
    target: &StateMachineRef,
    name: &str,
) -> Result<Option<(Machine, Alias)>, ApiError> {
    let Some(m) = owned_machine(tx, scope, target)? else {
        return Ok(None);
    };
    Ok(tx.aliases().find(m.key, name)?.map(|a| (m, a)))
}

fn routing_items(machine: &MachineArn, routes: Vec<Route>) -> Vec<RoutingConfigurationListItem> {
    routes
        .into_iter()
        .map(|r| RoutingConfigurationListItem {
            state_machine_version_arn: Some(machine.version(r.number)),
            weight: Some(r.weight.0),
        })
        .collect()
}

/// DescribeStateMachineAlias: the alias with its routing in the order last given.
pub async fn describe_state_machine_alias(
    ctx: Ctx,
    input: DescribeStateMachineAliasInput,
) -> Result<DescribeStateMachineAliasOutput, ApiError> {
    let mut v = Violations::default();
    check_alias_arn(&mut v, &input.state_machine_alias_arn);
    v.finish()?;
    let arn = input.state_machine_alias_arn.unwrap_or_default();
    let (target, name) = parse_alias_arn(&arn)?;
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let (_, alias) =
                find_alias(tx, &scope, &target, &name)?.ok_or_else(ApiError::alias_not_found)?;
            Ok(DescribeStateMachineAliasOutput {
                state_machine_alias_arn: arn.clone(),
                name: alias.name,
                description: alias.description,
                routing_configuration: routing_items(
                    target.machine(),
                    tx.aliases().routes(alias.key)?,
                ),
                creation_date: secs(alias.created_ms),
                update_date: secs(alias.updated_ms),
            })
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateMachineAliasInput {
    pub state_machine_alias_arn: Option<String>,
    pub description: Option<String>,
    pub routing_configuration: Option<Vec<RoutingConfigurationListItem>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateMachineAliasOutput {
    pub update_date: f64,
}

/// UpdateStateMachineAlias: changes the description, the routing or both; routing follows
/// every rule of create and must stay within the alias's machine.
pub async fn update_state_machine_alias(
    ctx: Ctx,
    input: UpdateStateMachineAliasInput,
) -> Result<UpdateStateMachineAliasOutput, ApiError> {
    let mut v = Violations::default();
    check_alias_arn(&mut v, &input.state_machine_alias_arn);
    v.member("description", input.description.as_deref(), DESCRIPTION);
    check_routing_model(&mut v, input.routing_configuration.as_deref());
    v.finish()?;
    let arn = input.state_machine_alias_arn.unwrap_or_default();
    let (target, name) = parse_alias_arn(&arn)?;
    if input.description.is_none() && input.routing_configuration.is_none() {
        return Err(ApiError::ValidationException(
            "Either the description or the RoutingConfiguration must be specified".into(),
        ));
    }
    let routing = match &input.routing_configuration {
        Some(items) => {
            let r = check_routing(items)?;
            if &r.machine != target.machine() {
                let received: Vec<&str> = items
                    .iter()
                    .map(|i| i.state_machine_version_arn.as_deref().unwrap_or_default())
                    .collect();
                return Err(ApiError::ValidationException(format!(
                    "Routing configuration must contain version ARNs of the same state machine. Received: [{}]",
                    received.join(", ")
                )));
            }
            Some(r)
        }
        None => None,
    };
    let description = input.description;
    let scope = ctx.scope.clone();
    ctx.store
        .write(move |tx| {
            let (_, alias) =
                find_alias(tx, &scope, &target, &name)?.ok_or_else(ApiError::alias_not_found)?;
            if let Some(routing) = &routing {
                let (_, routes) = resolve_routes(tx, &scope, routing)?;
                tx.aliases().set_routes(alias.key, &routes)?;
            }
            let now = now_millis();
            let description = description.clone().or(alias.description);
            tx.aliases()
                .update(alias.key, description.as_deref(), now)?;
            Ok(UpdateStateMachineAliasOutput {
                update_date: secs(now),
            })
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteStateMachineAliasInput {
    pub state_machine_alias_arn: Option<String>,
}

/// DeleteStateMachineAlias: idempotent; the versions it routed to stay.
pub async fn delete_state_machine_alias(
    ctx: Ctx,
    input: DeleteStateMachineAliasInput,
) -> Result<Empty, ApiError> {
    let mut v = Violations::default();
    check_alias_arn(&mut v, &input.state_machine_alias_arn);
    v.finish()?;
    let arn = input.state_machine_alias_arn.unwrap_or_default();
    let (target, name) = parse_alias_arn(&arn)?;
    let scope = ctx.scope.clone();
    ctx.store
        .write(move |tx| {
            if let Some((_, alias)) = find_alias(tx, &scope, &target, &name)? {
                tx.aliases().delete(alias.key)?;
            }
            Ok(Empty {})
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachineAliasesInput {
    pub state_machine_arn: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineAliasListItem {
    pub state_machine_alias_arn: String,
    pub creation_date: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachineAliasesOutput {
    pub state_machine_aliases: Vec<StateMachineAliasListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// ListStateMachineAliases: a machine's aliases oldest first; given a version ARN, only the
/// aliases that route to that version.
pub async fn list_state_machine_aliases(
    ctx: Ctx,
    input: ListStateMachineAliasesInput,
) -> Result<ListStateMachineAliasesOutput, ApiError> {
    let mut v = Violations::default();
    v.required_member("stateMachineArn", &input.state_machine_arn, ARN);
    check_paging(&mut v, input.max_results, input.next_token.as_deref());
    v.finish()?;
    let arn = input.state_machine_arn.unwrap_or_default();
    let target = parse_arn(&arn)?;
    let paging: Paging<AliasKey> = Paging::start(
        "ListStateMachineAliases",
        arn.clone(),
        input.max_results,
        input.next_token.as_deref(),
    )?;
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let missing = || ApiError::does_not_exist(&arn);
            if matches!(target, StateMachineRef::Alias(..)) {
                return Err(missing());
            }
            let m = owned_machine(tx, &scope, &target)?.ok_or_else(missing)?;
            let routing_to = match &target {
                StateMachineRef::Version(_, n) => Some(
                    tx.versions()
                        .find(m.key, *n)?
                        .ok_or_else(|| ApiError::resource_not_found(&arn))?
                        .key,
                ),
                _ => None,
            };
            let rows = tx
                .aliases()
                .list(m.key, routing_to, paging.after, paging.fetch())?;
            let (rows, next_token) = paging.finish(rows, |a| a.key);
            let machine = target.machine();
            Ok(ListStateMachineAliasesOutput {
                state_machine_aliases: rows
                    .into_iter()
                    .map(|a| StateMachineAliasListItem {
                        state_machine_alias_arn: machine.alias(&a.name),
                        creation_date: secs(a.created_ms),
                    })
                    .collect(),
                next_token,
            })
        })
        .await
}
