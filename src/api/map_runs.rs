//! DescribeMapRun, ListMapRuns and UpdateMapRun (executions-api.md §9): what a Distributed
//! Map's run looks like from outside. Runs are made and ended by the engine
//! (`engine::map_runs`); an update here changes only the limits the engine reads when it
//! hands out the next inputs and counts the next failure.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::executions::owned_execution;
use super::paging::Paging;
use super::validate::{Violations, ARN, LONG_ARN, PAGE_TOKEN};
use super::{secs, ApiError, Ctx};
use crate::domain::arn::parse_map_run_arn;
use crate::domain::records::{ExecutionStatus, MapRun, MapRunKey, MapRunStatus};
use crate::domain::scope::Scope;
use crate::engine::map_runs;
use crate::store::Tx;

/// Finds the caller's map run; an ARN of another account or region finds nothing.
pub(crate) fn owned_run(tx: &dyn Tx, scope: &Scope, arn: &str) -> Result<MapRun, ApiError> {
    let parsed = parse_map_run_arn(arn)?;
    let missing = || ApiError::resource_not_found(arn);
    if !scope.owns(&parsed.machine) {
        return Err(missing());
    }
    tx.map_runs().find(arn)?.ok_or_else(missing)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeMapRunInput {
    pub map_run_arn: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeMapRunOutput {
    pub map_run_arn: String,
    pub execution_arn: String,
    pub status: &'static str,
    pub start_date: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<f64>,
    pub max_concurrency: u64,
    pub tolerated_failure_percentage: f64,
    pub tolerated_failure_count: u64,
    pub item_counts: Value,
    pub execution_counts: Value,
    pub redrive_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_date: Option<f64>,
}

/// A run's children by state, as DescribeMapRun counts them. Results count as written once a
/// child closed.
fn execution_counts(run: &MapRun) -> Value {
    let c = &run.counts;
    counts_of(
        run.total - c.started,
        [c.running, c.succeeded, c.failed, c.timed_out, c.aborted],
        run.total,
        run.not_redrivable,
    )
}

/// The items by the state of the child holding them (an ItemBatcher puts several in one).
fn item_counts(run: &MapRun, by_status: &[(ExecutionStatus, u64)]) -> Value {
    let of = |s: ExecutionStatus| {
        by_status
            .iter()
            .filter(|(k, _)| *k == s)
            .map(|(_, n)| n)
            .sum::<u64>()
    };
    let started: u64 = by_status.iter().map(|(_, n)| n).sum();
    counts_of(
        run.items.saturating_sub(started),
        [
            of(ExecutionStatus::Running),
            of(ExecutionStatus::Succeeded),
            of(ExecutionStatus::Failed),
            of(ExecutionStatus::TimedOut),
            of(ExecutionStatus::Aborted),
        ],
        run.items,
        run.not_redrivable,
    )
}

fn counts_of(
    pending: u64,
    [running, succeeded, failed, timed_out, aborted]: [u64; 5],
    total: u64,
    not_redrivable: u64,
) -> Value {
    json!({
        "pending": pending,
        "running": running,
        "succeeded": succeeded,
        "failed": failed,
        "timedOut": timed_out,
        "aborted": aborted,
        "total": total,
        "resultsWritten": succeeded + failed + timed_out + aborted,
        "failuresNotRedrivable": not_redrivable,
        "pendingRedrive": 0,
    })
}

pub async fn describe_map_run(
    ctx: Ctx,
    input: DescribeMapRunInput,
) -> Result<DescribeMapRunOutput, ApiError> {
    let mut v = Violations::default();
    v.required_member("mapRunArn", &input.map_run_arn, LONG_ARN);
    v.finish()?;
    let arn = input.map_run_arn.unwrap_or_default();
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let run = owned_run(tx, &scope, &arn)?;
            let parent = tx
                .executions()
                .get(run.execution)?
                .ok_or_else(|| ApiError::resource_not_found(&arn))?;
            Ok(DescribeMapRunOutput {
                map_run_arn: run.arn.clone(),
                execution_arn: parent.arn,
                status: run.status.as_str(),
                start_date: secs(run.start_ms),
                stop_date: run.stop_ms.map(secs),
                max_concurrency: run.max_concurrency,
                tolerated_failure_percentage: run.tolerated_percentage.unwrap_or(0.0),
                tolerated_failure_count: run.tolerated_count.unwrap_or(0),
                item_counts: item_counts(&run, &tx.map_runs().item_counts(run.key)?),
                execution_counts: execution_counts(&run),
                redrive_count: run.redrive_count,
                redrive_date: run.redrive_ms.map(secs),
            })
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMapRunsInput {
    pub execution_arn: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MapRunListItem {
    pub execution_arn: String,
    pub map_run_arn: String,
    pub state_machine_arn: String,
    pub start_date: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<f64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMapRunsOutput {
    pub map_runs: Vec<MapRunListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// ListMapRuns: an execution's runs in the order they started.
pub async fn list_map_runs(
    ctx: Ctx,
    input: ListMapRunsInput,
) -> Result<ListMapRunsOutput, ApiError> {
    let mut v = Violations::default();
    v.required_member("executionArn", &input.execution_arn, ARN);
    v.range("maxResults", input.max_results, 0, 1000);
    v.member("nextToken", input.next_token.as_deref(), PAGE_TOKEN);
    v.finish()?;
    let arn = input.execution_arn.unwrap_or_default();
    let paging: Paging<MapRunKey> = Paging::start(
        "ListMapRuns",
        arn.clone(),
        input.max_results,
        input.next_token.as_deref(),
    )?;
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let e = owned_execution(tx, &scope, &arn)?;
            let rows = tx.map_runs().list(e.key, paging.after, paging.fetch())?;
            let (rows, next_token) = paging.finish(rows, |r| r.key);
            Ok(ListMapRunsOutput {
                map_runs: rows
                    .into_iter()
                    .map(|r| MapRunListItem {
                        execution_arn: e.arn.clone(),
                        map_run_arn: r.arn,
                        state_machine_arn: r.machine_arn,
                        start_date: secs(r.start_ms),
                        stop_date: r.stop_ms.map(secs),
                    })
                    .collect(),
                next_token,
            })
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMapRunInput {
    pub map_run_arn: Option<String>,
    pub max_concurrency: Option<i64>,
    pub tolerated_failure_percentage: Option<f64>,
    pub tolerated_failure_count: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct UpdateMapRunOutput {}

/// UpdateMapRun: new limits for a RUNNING run, in force from its next hand-out and its next
/// counted failure (a lower tolerance can fail the run at once).
pub async fn update_map_run(
    ctx: Ctx,
    input: UpdateMapRunInput,
) -> Result<UpdateMapRunOutput, ApiError> {
    let mut v = Violations::default();
    v.required_member("mapRunArn", &input.map_run_arn, LONG_ARN);
    v.range("maxConcurrency", input.max_concurrency, 0, i64::MAX);
    v.range(
        "toleratedFailureCount",
        input.tolerated_failure_count,
        0,
        i64::MAX,
    );
    if let Some(p) = input.tolerated_failure_percentage {
        if !(0.0..=100.0).contains(&p) {
            v.custom(
                "toleratedFailurePercentage",
                &p.to_string(),
                "Member must have value between 0 and 100",
            );
        }
    }
    v.finish()?;
    if input.max_concurrency.is_none()
        && input.tolerated_failure_count.is_none()
        && input.tolerated_failure_percentage.is_none()
    {
        return Err(ApiError::ValidationWithReason {
            message: "At least one of maxConcurrency, toleratedFailureCount or toleratedFailurePercentage must be provided".into(),
            reason: "MISSING_REQUIRED_PARAMETER",
        });
    }
    let arn = input.map_run_arn.unwrap_or_default();
    let scope = ctx.scope.clone();
    ctx.store
        .write(move |tx| {
            let mut run = owned_run(tx, &scope, &arn)?;
            if run.status != MapRunStatus::Running {
                return Err(ApiError::ValidationWithReason {
                    message: format!("Map Run {arn} is not running and cannot be updated"),
                    reason: "CANNOT_UPDATE_COMPLETED_MAP_RUN",
                });
            }
            if let Some(n) = input.max_concurrency {
                run.max_concurrency = n as u64;
            }
            if let Some(n) = input.tolerated_failure_count {
                run.tolerated_count = Some(n as u64);
            }
            if let Some(p) = input.tolerated_failure_percentage {
                run.tolerated_percentage = Some(p);
            }
            map_runs::update(tx, run, crate::engine::runner::system_clock())?;
            Ok(UpdateMapRunOutput {})
        })
        .await?;
    // A raised MaxConcurrency lets the runner hand out more inputs now.
    ctx.runner.notify_one();
    Ok(UpdateMapRunOutput {})
}
