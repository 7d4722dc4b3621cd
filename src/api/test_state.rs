//! TestState (executions-api.md §10): one state tested on its own — a single state's
//! definition (tested as a machine whose only state is `StateName`) or a whole machine's with
//! `stateName` — through the executions' interpreter ([`crate::engine::testing`]), with an
//! optional mocked result or error for Task states.

use crate::asl::resource::Pattern;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::integrations::InProcess;
use super::state_machines::check_definition;
use super::validate::Violations;
use super::{ApiError, Ctx};
use crate::asl::model::StateKind;
use crate::asl::{self, resource::Resource};
use crate::domain::now_millis;
use crate::domain::records::MachineType;
use crate::engine::mocks::MockConfig;
use crate::engine::step::ExecutionInfo;
use crate::engine::testing::{self, TestRun};
use crate::integrations::shapes;

/// The name a single-state definition's state is tested under (recorded).
const SINGLE_STATE: &str = "StateName";

const INSPECTION_LEVELS: &[&str] = &["INFO", "DEBUG", "TRACE"];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestStateInput {
    pub definition: Option<String>,
    pub role_arn: Option<String>,
    pub input: Option<String>,
    pub inspection_level: Option<String>,
    pub reveal_secrets: Option<bool>,
    pub variables: Option<String>,
    pub state_name: Option<String>,
    pub mock: Option<Mock>,
    pub context: Option<String>,
    pub state_configuration: Option<StateConfiguration>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mock {
    pub result: Option<String>,
    pub error_output: Option<MockError>,
    pub field_validation_mode: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MockError {
    pub error: Option<String>,
    pub cause: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateConfiguration {
    pub retrier_retry_count: Option<u64>,
    pub error_caused_by_state: Option<String>,
    pub map_iteration_failure_count: Option<u64>,
    pub map_item_reader_data: Option<String>,
}

#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TestStateOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection_data: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_state: Option<String>,
    pub status: &'static str,
}

fn validation(text: &str) -> ApiError {
    ApiError::ValidationException(text.to_owned())
}

/// The states a single state's transitions name, added as Succeed states so that it
/// validates alone (TestState reports where it would go; it never goes there).
fn with_targets(name: &str, state: &Value) -> Value {
    let mut states = Map::new();
    states.insert(name.to_owned(), state.clone());
    let mut targets = Vec::new();
    if let Some(n) = state.get("Next").and_then(Value::as_str) {
        targets.push(n.to_owned());
    }
    if let Some(n) = state.get("Default").and_then(Value::as_str) {
        targets.push(n.to_owned());
    }
    for list in ["Choices", "Catch"] {
        for item in state
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(n) = item.get("Next").and_then(Value::as_str) {
                targets.push(n.to_owned());
            }
        }
    }
    for t in targets {
        states
            .entry(t)
            .or_insert_with(|| json!({"Type": "Succeed"}));
    }
    json!({"StartAt": name, "States": states})
}

/// TestState.
pub async fn test_state(ctx: Ctx, input: TestStateInput) -> Result<TestStateOutput, ApiError> {
    let mut v = Violations::default();
    v.required_member("definition", &input.definition, super::validate::DEFINITION);
    v.one_of(
        "inspectionLevel",
        input.inspection_level.as_deref(),
        INSPECTION_LEVELS,
    );
    v.one_of(
        "mock.fieldValidationMode",
        input
            .mock
            .as_ref()
            .and_then(|m| m.field_validation_mode.as_deref()),
        shapes::MODES,
    );
    v.finish()?;
    let text = input.definition.unwrap_or_default();
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        ApiError::InvalidDefinition(format!(
            "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {e}'"
        ))
    })?;
    // A whole machine (with `States`) is tested at `stateName` (or its StartAt); a single
    // state is tested as `StateName`.
    let (machine, state_name) = if doc.get("States").is_some() {
        let name = match &input.state_name {
            Some(n) => n.clone(),
            None => doc
                .get("StartAt")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        };
        if doc["States"].get(&name).is_none() {
            return Err(validation("State not found in definition"));
        }
        (doc.clone(), name)
    } else {
        (with_targets(SINGLE_STATE, &doc), SINGLE_STATE.to_owned())
    };
    let machine_text = machine.to_string();
    check_definition(&machine_text, MachineType::Standard)?;
    let definition = asl::parse(&machine_text, asl::Flavor::default())
        .map_err(|_| ApiError::InternalFailure("a checked definition did not parse".into()))?;
    let state = definition
        .machine
        .state(&state_name)
        .ok_or_else(|| validation("State not found in definition"))?;
    let is_task = matches!(state.kind, StateKind::Task(_));
    let forks = matches!(state.kind, StateKind::Map(_) | StateKind::Parallel(_));
    let type_name = match &state.kind {
        StateKind::Pass { .. } => "Pass",
        StateKind::Succeed => "Succeed",
        StateKind::Fail { .. } => "Fail",
        StateKind::Choice { .. } => "Choice",
        StateKind::Wait { .. } => "Wait",
        StateKind::Task(_) => "Task",
        StateKind::Parallel(_) => "Parallel",
        StateKind::Map(_) => "Map",
    };
    // The mock: a result or an error, never both, for Task states only here.
    let mock = match &input.mock {
        None => None,
        Some(m) => {
            if !is_task && !forks {
                return Err(validation(&format!(
                    "State type '{type_name}' is not supported when a mock is specified"
                )));
            }
            if input.reveal_secrets == Some(true) {
                return Err(validation(
                    "TestState does not support RevealSecrets when a mock is specified.",
                ));
            }
            match (&m.result, &m.error_output) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err(validation(
                        "A test mock should have only one of the following fields: [result, errorOutput].",
                    ))
                }
                (Some(r), None) => {
                    let v: Value = serde_json::from_str(r)
                        .map_err(|_| validation("Mocked result must be valid JSON"))?;
                    // A Task's result must be one its integration could answer.
                    if let StateKind::Task(t) = &state.kind {
                        let mode = shapes::Mode::parse(m.field_validation_mode.as_deref())
                            .unwrap_or(shapes::Mode::Strict);
                        shapes::check(&t.resource, &v, mode).map_err(|e| validation(&e))?;
                    }
                    Some(json!({"Return": v}))
                }
                (None, Some(e)) => Some(json!({"Throw": {
                    "Error": e.error.clone().unwrap_or_default(),
                    "Cause": e.cause.clone().unwrap_or_default()}})),
            }
        }
    };
    if forks && mock.is_none() {
        return Err(ApiError::InvalidDefinition(
            "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]".into(),
        ));
    }
    if let (Some(m), true) = (&mock, forks) {
        if let Some(r) = m.get("Return") {
            let writes = matches!(&state.kind, StateKind::Map(m) if m.writes_results());
            if writes {
                if !r.is_object() {
                    return Err(validation("Mocked result must be a JSON object."));
                }
            } else if !r.is_array() {
                return Err(validation("Mocked result must be an array."));
            }
            let items = r.as_array().map_or(0, Vec::len);
            if let StateKind::Parallel(p) = &state.kind {
                if items != p.branches.len() {
                    return Err(validation(
                        "Mocked result must contain the same number of items as number of Parallel branches.",
                    ));
                }
            }
        }
    }
    if is_task && input.role_arn.is_none() {
        return Err(validation(
            "RoleArn must be specified when testing a Task state",
        ));
    }
    if let StateKind::Task(t) = &state.kind {
        let callback = t.resource.pattern() != asl::resource::Pattern::RequestResponse;
        if mock.is_none() && (matches!(t.resource, Resource::Activity(_)) || callback) {
            return Err(validation(
                "TestState does not support Activity tasks or the .sync and .waitForTaskToken patterns without a mock",
            ));
        }
    }
    if input
        .state_configuration
        .as_ref()
        .and_then(|c| c.map_iteration_failure_count)
        .is_some()
        && mock.is_none()
    {
        return Err(validation(
            "TestState does not support MapIterationFailureCount when a mock is not specified.",
        ));
    }
    let state_input: Value = match &input.input {
        None => json!({}),
        Some(t) => serde_json::from_str(t).map_err(|e| {
            ApiError::InvalidExecutionInput(format!("Invalid State Machine Execution Input: '{e}'"))
        })?,
    };
    let variables = match &input.variables {
        None => Map::new(),
        Some(t) => match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(m)) => m,
            _ => return Err(validation("Variables must be a JSON object")),
        },
    };
    let mock_config = match &mock {
        Some(m) => MockConfig::parse(
            &json!({"StateMachines": {"test": {"TestCases": {"test": {state_name.clone(): "mock"}}}},
                    "MockedResponses": {"mock": {"0": m}}})
            .to_string(),
        )
        .map_err(ApiError::InternalFailure)?,
        None => MockConfig::default(),
    };
    let case = mock_config.test_case("test", "test");
    let now = now_millis();
    let scope = &ctx.scope;
    let info = ExecutionInfo {
        execution_arn: format!(
            "arn:{}:states:{}:{}:express:test-state:{}:{}",
            scope.partition,
            scope.region,
            scope.account,
            uuid::Uuid::new_v4(),
            uuid::Uuid::new_v4()
        ),
        name: uuid::Uuid::new_v4().to_string(),
        state_machine_arn: scope.machine_arn("test-state").to_string(),
        state_machine_name: "test-state".into(),
        role_arn: input.role_arn.clone().unwrap_or_default(),
        input: state_input.clone(),
        start_ms: now,
        redrive_count: Some(0),
        redrive_ms: None,
        context: given_context(input.context.as_deref(), &state.kind)?,
    };
    let inspect = matches!(input.inspection_level.as_deref(), Some("DEBUG" | "TRACE"));
    let tested = testing::test_state(TestRun {
        definition: &definition,
        state: &state_name,
        input: state_input,
        variables,
        info,
        retries: input
            .state_configuration
            .as_ref()
            .and_then(|c| c.retrier_retry_count)
            .unwrap_or(0),
        mocks: case.map(|c| (&mock_config, c)),
        inspect,
        time_scale: ctx.limits.time_scale,
        store: ctx.store.clone(),
        calls: Some(Arc::new(InProcess {
            definitions: ctx.definitions.clone(),
            mocks: ctx.mocks.clone(),
            time_scale: ctx.limits.time_scale,
        })),
        outside: Some(ctx.outside.clone()),
        trace: (input.inspection_level.as_deref() == Some("TRACE"))
            .then_some(input.reveal_secrets == Some(true)),
        reader_data: input
            .state_configuration
            .as_ref()
            .and_then(|c| c.map_item_reader_data.as_deref()),
        now_ms: now,
    })
    .await?;
    // Inspection data members are JSON texts (SensitiveData strings in the model), but for
    // an HTTP Task's `request` and `response` and the `errorDetails` (structures) and a Map's
    // numbers.
    let inspection_data = tested.inspection.map(|m| {
        m.into_iter()
            .map(|(k, v)| match k.as_str() {
                "request"
                | "response"
                | "errorDetails"
                | "maxConcurrency"
                | "toleratedFailureCount"
                | "toleratedFailurePercentage" => (k, v),
                _ => (k, Value::String(v.to_string())),
            })
            .collect()
    });
    // A mocked Parallel or Map error leaves no failure event with details (AWS's XStateFailed
    // has none): the mock itself names it.
    let (error, cause) = match (&tested.error, &input.mock) {
        (
            None,
            Some(Mock {
                error_output: Some(e),
                ..
            }),
        ) if tested.status != "SUCCEEDED" => (e.error.clone(), e.cause.clone()),
        _ => (tested.error, tested.cause),
    };
    Ok(TestStateOutput {
        output: tested.output.map(|v| v.to_string()),
        error,
        cause,
        inspection_data,
        next_state: tested.next_state,
        status: tested.status,
    })
}

/// The fields a given context object may hold, per member (recorded: anything else is
/// `Field '<name>' is not allowed`; `Map` has its own text).
const CONTEXT_FIELDS: &[(&str, &[&str])] = &[
    (
        "Execution",
        &[
            "Id",
            "Input",
            "Name",
            "RoleArn",
            "StartTime",
            "RedriveCount",
            "RedriveTime",
        ],
    ),
    ("State", &["EnteredTime", "Name", "RetryCount"]),
    ("StateMachine", &["Id", "Name"]),
    ("Task", &["Token"]),
];

/// TestState's `context`: a JSON object that replaces the context object (`$$`) of the test,
/// checked as recorded — known members and fields only, strings where AWS keeps strings, and
/// `Task` only for a Task with a `.sync` or `.waitForTaskToken` integration.
fn given_context(text: Option<&str>, kind: &StateKind) -> Result<Option<Value>, ApiError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let invalid = |detail: &str| validation(&format!("Invalid Context object provided: {detail}"));
    let Ok(Value::Object(members)) = serde_json::from_str::<Value>(text) else {
        return Err(invalid("the Context object must be a JSON object"));
    };
    for (member, v) in &members {
        if member == "Map" {
            return Err(invalid(
                "'Map' field is not supported when mocking a Context object",
            ));
        }
        let Some((_, fields)) = CONTEXT_FIELDS.iter().find(|(m, _)| m == member) else {
            return Err(invalid(&format!("Field '{member}' is not allowed")));
        };
        if member == "Task" {
            let waits = matches!(kind, StateKind::Task(t) if t.resource.pattern() != Pattern::RequestResponse);
            if !waits {
                return Err(invalid("Context object contains 'Task' when state is not a Task state with a '.sync' or '.waitForTaskToken' service integration pattern"));
            }
        }
        let Value::Object(m) = v else {
            return Err(invalid(&format!("{member} must be an object")));
        };
        for (field, value) in m {
            if !fields.contains(&field.as_str()) {
                return Err(invalid(&format!("Field '{field}' is not allowed")));
            }
            let numeric = matches!(field.as_str(), "RetryCount" | "RedriveCount");
            let input = field == "Input";
            if !input && !numeric && !value.is_string() {
                return Err(invalid(&format!("{member}.{field} must be a string")));
            }
            if numeric && !value.is_u64() {
                return Err(invalid(&format!("{member}.{field} must be an integer")));
            }
        }
    }
    Ok(Some(Value::Object(members)))
}
