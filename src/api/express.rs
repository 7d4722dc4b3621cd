//! EXPRESS executions (executions-api.md §6.2–§6.3): StartSyncExecution runs one to its end
//! and answers with how it ended (HTTP 200 even when it failed); StartExecution of an EXPRESS
//! machine answers at once with an `express:` ARN and runs it in the background. Neither is
//! stored: AWS offers no DescribeExecution, history or listing for them either.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::executions::{
    prepare, resolve_start, roll, Included, Prepared, Resolved, StartExecutionInput,
    StartExecutionOutput,
};
use super::integrations::InProcess;
use super::validate::{Violations, INCLUDED_DATA};
use super::{secs, ApiError, Ctx};
use crate::domain::now_millis;
use crate::domain::records::MachineType;
use crate::engine::express::{self, Ended, Express};
use crate::engine::runner::system_clock;
use crate::engine::step::ExecutionInfo;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartSyncExecutionInput {
    pub state_machine_arn: Option<String>,
    pub name: Option<String>,
    pub input: Option<String>,
    pub trace_header: Option<String>,
    pub included_data: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingDetails {
    pub billed_duration_in_milliseconds: i64,
    #[serde(rename = "billedMemoryUsedInMB")]
    pub billed_memory_used_in_mb: i64,
}

/// Members in the recorded (alphabetical) order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartSyncExecutionOutput {
    pub billing_details: BillingDetails,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub execution_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    pub input_details: Included,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    pub output_details: Included,
    pub start_date: f64,
    pub state_machine_arn: String,
    pub status: &'static str,
    pub stop_date: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
}

/// The ARN of an EXPRESS execution: `…:express:<machine>:<name>:<id>`.
fn express_arn(resolved: &Resolved, name: &str) -> String {
    let m = &resolved.machine;
    format!(
        "arn:{}:states:{}:{}:express:{}:{name}:{}",
        m.partition,
        m.region,
        m.account,
        m.name,
        uuid::Uuid::new_v4()
    )
}

/// Runs an EXPRESS execution to its end.
async fn run(
    ctx: &Ctx,
    p: &Prepared,
    resolved: &Resolved,
    execution_arn: &str,
    start_ms: i64,
    sync: bool,
) -> Result<Ended, ApiError> {
    let loaded = ctx
        .definitions
        .load(resolved.revision, &resolved.snapshot)
        .map_err(ApiError::InternalFailure)?;
    let mocks = ctx.mocks.current();
    if let Some(case) = &p.test_case {
        if mocks.test_case(&resolved.machine.name, case).is_none() {
            return Err(ApiError::ValidationException(format!(
                "Test case '{case}' of state machine '{}' is not in the mock configuration",
                resolved.machine.name
            )));
        }
    }
    let x = Express {
        info: ExecutionInfo {
            execution_arn: execution_arn.to_owned(),
            name: p.name.clone(),
            state_machine_arn: resolved.machine_arn.clone(),
            state_machine_name: resolved.machine.name.clone(),
            role_arn: resolved.snapshot.role_arn.clone(),
            input: p.parsed.clone(),
            start_ms,
            // Recorded: a synchronous run's context has no RedriveCount, an async one has 0.
            redrive_count: (!sync).then_some(0),
            redrive_ms: None,
            context: None,
        },
        test_case: p.test_case.clone(),
        mocks,
        time_scale: ctx.limits.time_scale,
        store: ctx.store.unbounded(),
        calls: Some(Arc::new(InProcess {
            definitions: ctx.definitions.clone(),
            mocks: ctx.mocks.clone(),
            time_scale: ctx.limits.time_scale,
        })),
        outside: Some(ctx.outside.clone()),
        clock: &system_clock,
    };
    Ok(express::run(&loaded.definition, x).await?)
}

/// StartSyncExecution: EXPRESS machines only (a STANDARD one is StateMachineTypeNotSupported).
pub async fn start_sync_execution(
    ctx: Ctx,
    input: StartSyncExecutionInput,
) -> Result<StartSyncExecutionOutput, ApiError> {
    let mut v = Violations::default();
    v.one_of(
        "includedData",
        input.included_data.as_deref(),
        INCLUDED_DATA,
    );
    v.finish()?;
    let metadata_only = input.included_data.as_deref() == Some("METADATA_ONLY");
    let mut start = StartExecutionInput {
        state_machine_arn: input.state_machine_arn,
        name: input.name,
        input: input.input,
        trace_header: input.trace_header,
    };
    if ctx.trace_id.is_some() {
        start.trace_header = ctx.trace_id.clone();
    }
    let p = prepare(start)?;
    let scope = ctx.scope.clone();
    let (target, arn_text) = (p.target.clone(), p.arn_text.clone());
    let r = roll();
    let resolved = ctx
        .store
        .read(move |tx| resolve_start(tx, &scope, &target, &arn_text, r))
        .await?;
    if resolved.kind != MachineType::Express {
        return Err(ApiError::type_not_supported());
    }
    let start_ms = now_millis();
    let execution_arn = express_arn(&resolved, &p.name);
    let ended = run(&ctx, &p, &resolved, &execution_arn, start_ms, true).await?;
    let stop_ms = now_millis();
    let billed = ((stop_ms - start_ms).max(1) + 99) / 100 * 100;
    let (status, output, error, cause) = match ended {
        Ended::Succeeded(out) => ("SUCCEEDED", Some(out.to_string()), None, None),
        Ended::Failed { error, cause } => ("FAILED", None, error, cause),
        Ended::TimedOut => ("TIMED_OUT", None, Some("States.Timeout".to_owned()), None),
    };
    Ok(StartSyncExecutionOutput {
        billing_details: BillingDetails {
            billed_duration_in_milliseconds: billed,
            billed_memory_used_in_mb: 64,
        },
        cause,
        error,
        execution_arn,
        input: (!metadata_only).then(|| p.input_text.clone()),
        input_details: Included {
            included: !metadata_only,
        },
        name: p.name.clone(),
        output: output.filter(|_| !metadata_only),
        output_details: Included {
            included: !metadata_only,
        },
        start_date: secs(start_ms),
        state_machine_arn: resolved.machine_arn.clone(),
        status,
        stop_date: secs(stop_ms),
        trace_header: p.trace_header.clone(),
    })
}

/// StartExecution of an EXPRESS machine: an `express:` ARN at once, the run in the
/// background (at least once, as AWS promises; never stored, so not after a restart).
pub(crate) fn start_async(
    ctx: &Ctx,
    p: Prepared,
    resolved: Resolved,
) -> Result<StartExecutionOutput, ApiError> {
    let start_ms = now_millis();
    let execution_arn = express_arn(&resolved, &p.name);
    let ctx = ctx.clone();
    let arn = execution_arn.clone();
    tokio::spawn(async move {
        if let Err(e) = run(&ctx, &p, &resolved, &arn, start_ms, false).await {
            tracing::warn!(execution = %arn, error = %e, "EXPRESS execution could not run");
        }
    });
    Ok(StartExecutionOutput {
        execution_arn,
        start_date: secs(start_ms),
    })
}
