//! The Step Functions actions a workflow calls on sfnlite itself — the optimised
//! `states:startExecution` (request/response, `.sync`, `.sync:2`, `.waitForTaskToken`) and
//! `aws-sdk:sfn:<action>` — run in-process, in the caller's account and region, inside the
//! runner's write (see [`crate::engine::calls`]). They are the operations of this layer with
//! the same checks and texts; only the envelope differs: PascalCase members, and a refusal
//! becomes the task's error `StepFunctions.<Code>Exception` (optimised) or
//! `Sfn.<Code>Exception` (SDK) with the operation's message as the cause, followed by the
//! service-error suffix of the AWS Java SDK the integration is made with.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::executions::{self, StartExecutionInput};
use super::tasks;
use super::ApiError;
use crate::asl::resource::Pattern;
use crate::domain::arn::parse_execution_arn;
use crate::domain::scope::Scope;
use crate::engine::calls::{Caller, Calls};
use crate::engine::definitions::Definitions;
use crate::engine::step::{CallAnswer, ServiceCall, TaskOutcome};
use crate::store::{StoreError, Tx};

/// The in-process integrations, as the runner's [`Calls`].
pub struct InProcess {
    pub definitions: Arc<Definitions>,
    /// For children started with a test case (`<arn>#<TestCase>`).
    pub mocks: crate::engine::mocks::Mocks,
    pub time_scale: f64,
}

impl Calls for InProcess {
    fn call(
        &self,
        tx: &dyn Tx,
        caller: &Caller<'_>,
        call: &ServiceCall,
    ) -> Result<CallAnswer, StoreError> {
        let scope = scope_of(caller.execution_arn);
        let (prefix, result) = match call.integration.as_str() {
            "states:startExecution" => ("StepFunctions", self.start(tx, &scope, caller, call)),
            other => {
                let action = other.strip_prefix("aws-sdk:sfn:").unwrap_or(other);
                ("Sfn", self.sdk(tx, &scope, caller, action, &call.request))
            }
        };
        match result {
            Ok(output) => Ok(CallAnswer::Returned { output }),
            // The store failed: nothing of this commit stays, the step is taken again.
            Err(ApiError::ServiceUnavailable(m) | ApiError::InternalFailure(m)) => {
                Err(StoreError::internal(m))
            }
            Err(e) => {
                let code = e.code();
                let suffix = if code.ends_with("Exception") {
                    ""
                } else {
                    "Exception"
                };
                // The cause is the message as AWS's Java SDKs print a service error: v1 for
                // the optimised integration, v2 for the SDK one.
                let cause = if prefix == "Sfn" {
                    format!(
                        "{e} (Service: Sfn, Status Code: 400, Request ID: {})",
                        request_id()
                    )
                } else {
                    format!(
                        "{e} (Service: AWSStepFunctions; Status Code: 400; Error Code: {code}; Request ID: {}; Proxy: null)",
                        request_id()
                    )
                };
                Ok(CallAnswer::Failed {
                    error: format!("{prefix}.{code}{suffix}"),
                    cause,
                })
            }
        }
    }
}

/// The caller's scope, from its execution ARN.
fn scope_of(execution_arn: &str) -> Scope {
    let parts: Vec<&str> = execution_arn.split(':').collect();
    Scope::new(
        parts.get(3).copied().unwrap_or(""),
        parts.get(4).copied().unwrap_or(""),
    )
}

/// A string member of the request.
fn text(request: &Value, member: &str) -> Option<String> {
    match request.get(member)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl InProcess {
    /// `states:startExecution`: `Input` may be JSON (sent as its text) or a string of
    /// JSON; absent or null it is `{}`. A `.sync` child is linked to the waiting task.
    fn start(
        &self,
        tx: &dyn Tx,
        scope: &Scope,
        caller: &Caller<'_>,
        call: &ServiceCall,
    ) -> Result<Value, ApiError> {
        let r = &call.request;
        let input = StartExecutionInput {
            state_machine_arn: text(r, "StateMachineArn"),
            name: text(r, "Name"),
            input: text(r, "Input"),
            trace_header: text(r, "TraceHeader"),
        };
        let parent = matches!(call.pattern, Pattern::Sync | Pattern::Sync2).then_some(caller.token);
        let (arn, start_ms) = executions::start_in(
            tx,
            &self.definitions,
            &self.mocks.current(),
            self.time_scale,
            scope,
            input,
            parent,
            caller.now_ms,
        )?;
        let body = json!({"executionArn": arn, "startDate": start_ms as f64 / 1000.0}).to_string();
        Ok(json!({
            "ExecutionArn": arn,
            "SdkHttpMetadata": http_metadata(body.len()),
            "SdkResponseMetadata": {"RequestId": request_id()},
            "StartDate": start_ms,
        }))
    }

    /// `aws-sdk:sfn:<action>`: the operation's request members in PascalCase.
    fn sdk(
        &self,
        tx: &dyn Tx,
        scope: &Scope,
        caller: &Caller<'_>,
        action: &str,
        r: &Value,
    ) -> Result<Value, ApiError> {
        let token = || text(r, "TaskToken").unwrap_or_default();
        match action {
            "startExecution" => {
                let input = StartExecutionInput {
                    state_machine_arn: text(r, "StateMachineArn"),
                    name: text(r, "Name"),
                    input: text(r, "Input"),
                    trace_header: text(r, "TraceHeader"),
                };
                let (arn, start_ms) = executions::start_in(
                    tx,
                    &self.definitions,
                    &self.mocks.current(),
                    self.time_scale,
                    scope,
                    input,
                    None,
                    caller.now_ms,
                )?;
                Ok(json!({"ExecutionArn": arn, "StartDate": start_ms}))
            }
            "describeExecution" => {
                let arn = text(r, "ExecutionArn").unwrap_or_default();
                parse_execution_arn(&arn)?;
                let e = executions::owned_execution(tx, scope, &arn)?;
                let metadata_only = text(r, "IncludedData").as_deref() == Some("METADATA_ONLY");
                let d = serde_json::to_value(executions::describe(e, metadata_only))
                    .map_err(|e| ApiError::InternalFailure(e.to_string()))?;
                Ok(pascal(d))
            }
            "stopExecution" => {
                let arn = text(r, "ExecutionArn").unwrap_or_default();
                parse_execution_arn(&arn)?;
                let e = executions::owned_execution(tx, scope, &arn)?;
                let stop_ms = match e.stop_ms {
                    Some(s) => s,
                    None => {
                        crate::engine::tasks::stop(
                            tx,
                            &e,
                            text(r, "Error"),
                            text(r, "Cause"),
                            caller.now_ms,
                        )?;
                        caller.now_ms
                    }
                };
                Ok(json!({"StopDate": stop_ms}))
            }
            "sendTaskSuccess" => {
                let output = text(r, "Output").unwrap_or_default();
                serde_json::from_str::<Value>(&output)
                    .map_err(|e| ApiError::InvalidOutput(format!("Invalid Output: '{e}'")))?;
                tasks::answer_in(tx, &token(), TaskOutcome::Succeeded { output })?;
                Ok(json!({}))
            }
            "sendTaskFailure" => {
                let outcome = TaskOutcome::Failed {
                    error: text(r, "Error"),
                    cause: text(r, "Cause"),
                };
                tasks::answer_in(tx, &token(), outcome)?;
                Ok(json!({}))
            }
            // No long poll inside a step: the oldest waiting task, or none at once.
            "getActivityTask" => {
                let arn = text(r, "ActivityArn").unwrap_or_default();
                let activity = super::activities::owned_activity(tx, scope, &arn)?;
                match tasks::take_next(tx, &activity.arn, text(r, "WorkerName"))? {
                    Some((token, input)) => Ok(json!({"Input": input, "TaskToken": token})),
                    None => Ok(json!({})),
                }
            }
            "sendTaskHeartbeat" => {
                tasks::heartbeat_in(tx, &token())?;
                Ok(json!({}))
            }
            other => Err(ApiError::UnsupportedOperation(format!(
                "sfnlite does not serve aws-sdk:sfn:{other}"
            ))),
        }
    }
}

/// An operation's answer with its members in PascalCase, as SDK integrations return it.
fn pascal(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let key = c
                        .next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default();
                    (key, pascal(v))
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(pascal).collect()),
        other => other,
    }
}

/// A fresh request id, as the AWS SDK reports it.
fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The HTTP metadata the optimised integrations add to a call's result (recorded shape:
/// multi-valued headers, then the same headers single-valued in case-insensitive order).
fn http_metadata(content_length: usize) -> Value {
    let id = request_id();
    let date = httpdate_now();
    let len = content_length.to_string();
    json!({
        "AllHttpHeaders": {
            "x-amzn-RequestId": [id],
            "connection": ["keep-alive"],
            "Content-Length": [len],
            "Date": [date],
            "Content-Type": ["application/x-amz-json-1.0"]
        },
        "HttpHeaders": {
            "connection": "keep-alive",
            "Content-Length": len,
            "Content-Type": "application/x-amz-json-1.0",
            "Date": date,
            "x-amzn-RequestId": id
        },
        "HttpStatusCode": 200
    })
}

/// Now as an HTTP date (`Tue, 01 Dec 2026 10:00:00 GMT`).
fn httpdate_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    now.format(&fmt).unwrap_or_default()
}
