//! The AWS operations: one async fn per operation with typed input and output, the error
//! vocabulary and model-constraint checks. Knows no HTTP types; `http` turns bytes into a
//! call to [`dispatch`] and its result back into a response.

pub mod activities;
pub mod admin;
pub mod aliases;
pub mod cache;
pub mod error;
pub mod executions;
pub mod express;
pub mod integrations;
pub mod map_runs;
pub mod paging;
pub mod state_machines;
pub mod tags;
pub mod tasks;
pub mod test_state;
pub mod validate;
pub mod versions;

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::domain::arn::{parse_state_machine_arn, StateMachineRef};
use crate::domain::records::Machine;
use crate::domain::scope::Scope;
use crate::store::{Store, StoreError, Tx};
pub use error::ApiError;

/// Per-deployment limits the operations enforce.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Versions per state machine (AWS: 1000).
    pub version_quota: i64,
    /// Aliases per state machine (AWS: 100).
    pub alias_quota: i64,
    /// The executions' time scale (Waits, retry intervals, timeouts; 1 but in tests).
    pub time_scale: f64,
}

/// What every operation needs: the store, the caller's scope and the limits.
#[derive(Clone)]
pub struct Ctx {
    pub store: Store,
    pub scope: Scope,
    pub limits: Arc<Limits>,
    /// Hot read answers, valid only for the store's current commit epoch.
    pub cache: Arc<cache::ResponseCache>,
    /// Told after an execution starts, so the runner takes it at once.
    pub runner: Arc<tokio::sync::Notify>,
    /// Told when activity tasks were queued (by the runner or a start).
    pub tasks: Arc<tokio::sync::Notify>,
    /// Parsed definitions, shared with the runner.
    pub definitions: Arc<crate::engine::definitions::Definitions>,
    /// GetActivityTask calls waiting, per activity (the 1,000-worker limit).
    pub pollers: Arc<tasks::Pollers>,
    /// Makes Tasks' calls to outside services.
    pub outside: Arc<dyn crate::engine::outside::Outside>,
    /// The mock configuration in force, for `…#<TestCase>` starts.
    pub mocks: crate::engine::mocks::Mocks,
    /// The request's `X-Amzn-Trace-Id` header: StartExecution's trace header, over the body's.
    pub trace_id: Option<String>,
}

macro_rules! operations {
    ($($op:ident),* $(,)?) => {
        /// Every operation sfnlite implements, named exactly as in the service model.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Operation { $($op),* }

        impl Operation {
            /// The operation named `name` (the part of `X-Amz-Target` after the prefix).
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $(stringify!($op) => Some(Operation::$op),)* _ => None }
            }
            pub fn name(self) -> &'static str {
                match self { $(Operation::$op => stringify!($op)),* }
            }
        }
    };
}

operations!(
    CreateStateMachine,
    DescribeStateMachine,
    UpdateStateMachine,
    DeleteStateMachine,
    ListStateMachines,
    ValidateStateMachineDefinition,
    PublishStateMachineVersion,
    ListStateMachineVersions,
    DeleteStateMachineVersion,
    CreateStateMachineAlias,
    DescribeStateMachineAlias,
    UpdateStateMachineAlias,
    DeleteStateMachineAlias,
    ListStateMachineAliases,
    TagResource,
    UntagResource,
    ListTagsForResource,
    StartExecution,
    DescribeExecution,
    ListExecutions,
    StopExecution,
    GetExecutionHistory,
    DescribeStateMachineForExecution,
    CreateActivity,
    DescribeActivity,
    DeleteActivity,
    ListActivities,
    GetActivityTask,
    SendTaskSuccess,
    SendTaskFailure,
    SendTaskHeartbeat,
    StartSyncExecution,
    TestState,
    RedriveExecution,
    DescribeMapRun,
    ListMapRuns,
    UpdateMapRun,
);

pub const TARGET_PREFIX: &str = "AWSStepFunctions.";

/// Resolves an `X-Amz-Target` header value to an operation.
pub fn operation_for(target: Option<&str>) -> Result<Operation, ApiError> {
    let target = target.unwrap_or("");
    let name = target.strip_prefix(TARGET_PREFIX);
    if let Some(op) = name.and_then(Operation::from_name) {
        return Ok(op);
    }
    Err(ApiError::UnknownOperationException(format!(
        "Unknown operation: '{target}'"
    )))
}

/// Runs operation `op` on a raw JSON body; returns the JSON response body.
pub async fn dispatch(ctx: Ctx, op: Operation, body: &[u8]) -> Result<Bytes, ApiError> {
    use Operation::*;
    match op {
        CreateStateMachine => call(ctx, body, state_machines::create_state_machine).await,
        DescribeStateMachine => {
            state_machines::describe_state_machine_cached(ctx, decode(body)?).await
        }
        UpdateStateMachine => call(ctx, body, state_machines::update_state_machine).await,
        DeleteStateMachine => call(ctx, body, state_machines::delete_state_machine).await,
        ListStateMachines => call(ctx, body, state_machines::list_state_machines).await,
        ValidateStateMachineDefinition => {
            call(ctx, body, state_machines::validate_state_machine_definition).await
        }
        PublishStateMachineVersion => {
            versions::publish_state_machine_version_cached(ctx, decode(body)?).await
        }
        ListStateMachineVersions => call(ctx, body, versions::list_state_machine_versions).await,
        DeleteStateMachineVersion => call(ctx, body, versions::delete_state_machine_version).await,
        CreateStateMachineAlias => call(ctx, body, aliases::create_state_machine_alias).await,
        DescribeStateMachineAlias => call(ctx, body, aliases::describe_state_machine_alias).await,
        UpdateStateMachineAlias => call(ctx, body, aliases::update_state_machine_alias).await,
        DeleteStateMachineAlias => call(ctx, body, aliases::delete_state_machine_alias).await,
        ListStateMachineAliases => call(ctx, body, aliases::list_state_machine_aliases).await,
        TagResource => call(ctx, body, tags::tag_resource).await,
        UntagResource => call(ctx, body, tags::untag_resource).await,
        ListTagsForResource => call(ctx, body, tags::list_tags_for_resource).await,
        StartExecution => call(ctx, body, executions::start_execution).await,
        DescribeExecution => call(ctx, body, executions::describe_execution).await,
        ListExecutions => call(ctx, body, executions::list_executions).await,
        StopExecution => call(ctx, body, executions::stop_execution).await,
        GetExecutionHistory => call(ctx, body, executions::get_execution_history).await,
        DescribeStateMachineForExecution => {
            call(ctx, body, executions::describe_state_machine_for_execution).await
        }
        CreateActivity => call(ctx, body, activities::create_activity).await,
        DescribeActivity => call(ctx, body, activities::describe_activity).await,
        DeleteActivity => call(ctx, body, activities::delete_activity).await,
        ListActivities => call(ctx, body, activities::list_activities).await,
        GetActivityTask => call(ctx, body, tasks::get_activity_task).await,
        SendTaskSuccess => call(ctx, body, tasks::send_task_success).await,
        SendTaskFailure => call(ctx, body, tasks::send_task_failure).await,
        SendTaskHeartbeat => call(ctx, body, tasks::send_task_heartbeat).await,
        StartSyncExecution => call(ctx, body, express::start_sync_execution).await,
        TestState => call(ctx, body, test_state::test_state).await,
        RedriveExecution => call(ctx, body, executions::redrive_execution).await,
        DescribeMapRun => call(ctx, body, map_runs::describe_map_run).await,
        ListMapRuns => call(ctx, body, map_runs::list_map_runs).await,
        UpdateMapRun => call(ctx, body, map_runs::update_map_run).await,
    }
}

async fn call<I, O, F, Fut>(ctx: Ctx, body: &[u8], op: F) -> Result<Bytes, ApiError>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(Ctx, I) -> Fut,
    Fut: Future<Output = Result<O, ApiError>>,
{
    let input = decode(body)?;
    let output = op(ctx, input).await?;
    encode(&output)
}

/// Serialises a response body.
pub fn encode<O: Serialize>(output: &O) -> Result<Bytes, ApiError> {
    serde_json::to_vec(output)
        .map(Bytes::from)
        .map_err(|e| ApiError::InternalFailure(format!("encoding response: {e}")))
}

/// Decodes a request body: empty means `{}`; anything but a JSON object, or a member of
/// the wrong type, is a SerializationException.
fn decode<I: DeserializeOwned>(body: &[u8]) -> Result<I, ApiError> {
    let trimmed = body.trim_ascii_start();
    if trimmed.is_empty() {
        return serde_json::from_slice(b"{}")
            .map_err(|e| ApiError::SerializationException(e.to_string()));
    }
    // serde would also accept a JSON array for a struct; the protocol allows only objects.
    if trimmed[0] != b'{' {
        return Err(ApiError::SerializationException(
            "Request body must be a JSON object".into(),
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::SerializationException(serialization_reason(&e)))
}

fn serialization_reason(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => format!("Invalid request member: {e}"),
        _ => format!("Request body is not valid JSON: {e}"),
    }
}

/// Epoch milliseconds as the protocol's epoch-seconds number.
pub fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Parses a state machine ARN sent by the client.
pub fn parse_arn(arn: &str) -> Result<StateMachineRef, ApiError> {
    Ok(parse_state_machine_arn(arn)?)
}

/// Refuses changes to a machine being deleted (it waits for its running executions):
/// `State machine '<arn>' is being deleted.` (aws-behavior.md §13.5 item 21).
pub fn not_deleting(m: &Machine) -> Result<(), ApiError> {
    if m.deleting {
        return Err(ApiError::StateMachineDeleting(format!(
            "State machine '{}' is being deleted.",
            m.arn
        )));
    }
    Ok(())
}

/// Finds the caller's machine for an ARN; ARNs outside the caller's scope find nothing.
pub fn owned_machine(
    tx: &dyn Tx,
    scope: &Scope,
    r: &StateMachineRef,
) -> Result<Option<Machine>, StoreError> {
    if !scope.owns(r.machine()) {
        return Ok(None);
    }
    tx.machines().find(&r.machine().to_string())
}
