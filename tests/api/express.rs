//! EXPRESS executions: StartSyncExecution's answers as recorded (`express/test_express_sync.py`,
//! `test_start_sync_execution`), StartExecution's `express:` ARNs, and what the operations of
//! STANDARD executions answer for them (executions-api.md §6.2–§6.3).

use serde_json::{json, Value};

use crate::executions::closed;
use crate::helpers::{TestApp, ROLE};

async fn express(app: &TestApp, name: &str, definition: Value) -> String {
    let (status, body, _) = app
        .call(
            "CreateStateMachine",
            json!({"name": name, "definition": definition.to_string(), "roleArn": ROLE, "type": "EXPRESS"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["stateMachineArn"].as_str().unwrap().to_owned()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[tokio::test]
async fn a_sync_run_answers_with_its_output_and_billing_as_recorded() {
    let app = TestApp::spawn().await;
    let m = express(
        &app,
        "sync",
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.a", "Next": "B"},
            "B": {"Type": "Pass", "End": true}}}),
    )
    .await;
    let (status, body, _) = app
        .call(
            "StartSyncExecution",
            json!({"stateMachineArn": m, "name": "one", "input": "{\"x\": 1}"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        [
            "billingDetails",
            "executionArn",
            "input",
            "inputDetails",
            "name",
            "output",
            "outputDetails",
            "startDate",
            "stateMachineArn",
            "status",
            "stopDate"
        ]
    );
    assert_eq!(body["status"], "SUCCEEDED");
    assert_eq!(body["output"], r#"{"x":1,"a":{"n":1}}"#);
    assert_eq!(body["input"], r#"{"x": 1}"#);
    assert_eq!(body["inputDetails"], json!({"included": true}));
    assert_eq!(body["billingDetails"]["billedMemoryUsedInMB"], 64);
    let billed = body["billingDetails"]["billedDurationInMilliseconds"]
        .as_i64()
        .unwrap();
    assert!(billed >= 100 && billed % 100 == 0, "{billed}");
    let arn = body["executionArn"].as_str().unwrap();
    assert!(
        arn.starts_with("arn:aws:states:us-east-1:123456789012:express:sync:one:"),
        "{arn}"
    );
}

#[tokio::test]
async fn a_failed_sync_run_has_no_output_but_its_details() {
    let app = TestApp::spawn_with(|c| c.time_scale = 0.01).await;
    let m = express(
        &app,
        "fails",
        json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 1, "Next": "F"},
            "F": {"Type": "Fail", "Error": "Bad", "Cause": "because"}}}),
    )
    .await;
    let (status, body, _) = app
        .call("StartSyncExecution", json!({"stateMachineArn": m}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        [
            "billingDetails",
            "cause",
            "error",
            "executionArn",
            "input",
            "inputDetails",
            "name",
            "outputDetails",
            "startDate",
            "stateMachineArn",
            "status",
            "stopDate"
        ]
    );
    assert_eq!(
        (&body["status"], &body["error"], &body["cause"]),
        (&json!("FAILED"), &json!("Bad"), &json!("because"))
    );
    let (_, body, _) = app
        .call(
            "StartSyncExecution",
            json!({"stateMachineArn": m, "includedData": "METADATA_ONLY"}),
        )
        .await;
    assert!(body.get("input").is_none(), "{body}");
    let (status, body, _) = app
        .call(
            "StartSyncExecution",
            json!({"stateMachineArn": m, "includedData": "NONE"}),
        )
        .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("ValidationException"))
    );
}

#[tokio::test]
async fn standard_machines_refuse_sync_runs_and_express_ones_are_not_described() {
    let app = TestApp::spawn().await;
    let standard = app.create_machine("standard").await;
    let (status, body, _) = app
        .call("StartSyncExecution", json!({"stateMachineArn": standard}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "StateMachineTypeNotSupported");
    assert_eq!(
        body["message"],
        "This operation is not supported by this type of state machine"
    );
    let child = app.create_machine("child").await;
    let m = express(
        &app,
        "async",
        json!({"StartAt": "Start", "States": {
            "Start": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
                      "Parameters": {"StateMachineArn": child, "Name.$": "$.name"}, "End": true}}}),
    )
    .await;
    let (status, body, _) = app
        .call(
            "StartExecution",
            json!({"stateMachineArn": m, "name": "bg", "input": "{\"name\": \"from-express\"}"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let arn = body["executionArn"].as_str().unwrap();
    assert!(arn.contains(":express:async:bg:"), "{arn}");
    // Not stored, so not described: AWS's answer for express ARNs.
    let (status, body, _) = app
        .call("DescribeExecution", json!({"executionArn": arn}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "Invalid Arn: 'Resource type not valid in this context: express'"
    );
    let (_, body, _) = app
        .call("ListExecutions", json!({"stateMachineArn": m}))
        .await;
    assert_eq!(body["__type"], "StateMachineTypeNotSupported");
    // It ran: the STANDARD execution it started exists and ends.
    let started = "arn:aws:states:us-east-1:123456789012:execution:child:from-express";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, _, _) = app
            .call("DescribeExecution", json!({"executionArn": started}))
            .await;
        if status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the express run never started its child"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(closed(&app, started).await["status"], "SUCCEEDED");
}

#[tokio::test]
async fn a_sync_runs_context_has_no_redrive_count() {
    let app = TestApp::spawn().await;
    let m = express(
        &app,
        "context",
        json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Parameters": {"execution.$": "$$.Execution"}, "End": true}}}),
    )
    .await;
    let (_, body, _) = app
        .call("StartSyncExecution", json!({"stateMachineArn": m}))
        .await;
    let out: Value = serde_json::from_str(body["output"].as_str().unwrap()).unwrap();
    let execution = out["execution"].as_object().unwrap();
    // Recorded (test_query_runtime_memory): no RedriveCount in a synchronous run.
    assert!(!execution.contains_key("RedriveCount"), "{out}");
    assert_eq!(execution["Id"], body["executionArn"]);
}
