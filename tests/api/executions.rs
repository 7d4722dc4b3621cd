//! Executions through the SDK and raw calls: StartExecution, DescribeExecution,
//! ListExecutions, StopExecution, GetExecutionHistory and DescribeStateMachineForExecution,
//! with the statuses, texts and histories AWS recorded (executions-api.md; LocalStack's
//! recorded snapshots of `test_sfn_api*.py` and `test_wait.py`).

use std::time::{Duration, Instant};

use aws_sdk_sfn::types::{ExecutionStatus, RoutingConfigurationListItem};
use serde_json::{json, Value};

use crate::helpers::{assert_error, failure, TestApp, ACCOUNT, ROLE};

const WAIT_LONG: &str =
    r#"{"StartAt":"State_1","States":{"State_1":{"Type":"Wait","Seconds":3600,"End":true}}}"#;

fn wait_then_pass(seconds: u64) -> String {
    json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": seconds, "Next": "P"},
        "P": {"Type": "Pass", "Result": {"done": true}, "End": true}
    }})
    .to_string()
}

pub(crate) async fn create(app: &TestApp, name: &str, definition: &str) -> String {
    app.client()
        .create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn(ROLE)
        .send()
        .await
        .expect("create")
        .state_machine_arn
}

pub(crate) async fn start(app: &TestApp, machine: &str, name: &str, input: Option<&str>) -> String {
    app.client()
        .start_execution()
        .state_machine_arn(machine)
        .name(name)
        .set_input(input.map(str::to_owned))
        .send()
        .await
        .expect("start execution")
        .execution_arn
}

/// Polls DescribeExecution until the execution is closed (bounded: a hang fails the test).
pub(crate) async fn closed(app: &TestApp, execution: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body, _) = app
            .call("DescribeExecution", json!({"executionArn": execution}))
            .await;
        assert_eq!(status, 200, "{body}");
        if body["status"] != "RUNNING" {
            return body;
        }
        assert!(Instant::now() < deadline, "execution still running: {body}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub(crate) async fn history(app: &TestApp, execution: &str, extra: Value) -> Vec<Value> {
    let mut body = json!({"executionArn": execution});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, body, _) = app.call("GetExecutionHistory", body).await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().unwrap().clone()
}

/// The value of a JSON text (outputs, inputs and event details keep JSON as text).
pub(crate) fn parsed(v: &Value) -> Value {
    serde_json::from_str(v.as_str().expect("a JSON text")).expect("valid JSON")
}

/// The type of each event.
pub(crate) fn kinds(events: &[Value]) -> Vec<String> {
    chain(events).into_iter().map(|(_, k, _)| k).collect()
}

/// `(id, type, previousEventId)` of each event.
pub(crate) fn chain(events: &[Value]) -> Vec<(u64, String, u64)> {
    events
        .iter()
        .map(|e| {
            (
                e["id"].as_u64().unwrap(),
                e["type"].as_str().unwrap().to_owned(),
                e["previousEventId"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[tokio::test]
async fn a_pass_machine_succeeds_with_the_recorded_description_and_history() {
    let app = TestApp::spawn().await;
    let machine = app.create_machine("sm").await;
    let started = app
        .call(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": "run"}),
        )
        .await;
    assert_eq!(started.0, 200);
    assert_eq!(keys(&started.1), ["executionArn", "startDate"]);
    let execution = started.1["executionArn"].as_str().unwrap().to_owned();
    assert_eq!(
        execution,
        format!("arn:aws:states:us-east-1:{ACCOUNT}:execution:sm:run")
    );
    let d = closed(&app, &execution).await;
    assert_eq!(
        keys(&d),
        [
            "executionArn",
            "input",
            "inputDetails",
            "name",
            "output",
            "outputDetails",
            "redriveCount",
            "redriveStatus",
            "redriveStatusReason",
            "startDate",
            "stateMachineArn",
            "status",
            "stopDate"
        ]
    );
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["input"], "{}");
    assert_eq!(d["output"], r#"{"Arg1":"argument1"}"#);
    assert_eq!(d["inputDetails"], json!({"included": true}));
    assert_eq!(d["redriveStatus"], "NOT_REDRIVABLE");
    assert_eq!(
        d["redriveStatusReason"],
        "Execution is SUCCEEDED and cannot be redriven"
    );
    let events = history(&app, &execution, json!({})).await;
    assert_eq!(
        chain(&events),
        [
            (1, "ExecutionStarted".into(), 0),
            (2, "PassStateEntered".into(), 0),
            (3, "PassStateExited".into(), 2),
            (4, "ExecutionSucceeded".into(), 3)
        ]
    );
    assert_eq!(
        events[0]["executionStartedEventDetails"],
        json!({"input": "{}", "inputDetails": {"truncated": false}, "roleArn": ROLE})
    );
    assert_eq!(
        events[1]["stateEnteredEventDetails"],
        json!({"name": "State_1", "input": "{}", "inputDetails": {"truncated": false}})
    );
    assert_eq!(
        events[3]["executionSucceededEventDetails"],
        json!({"output": r#"{"Arg1":"argument1"}"#, "outputDetails": {"truncated": false}})
    );
    assert!(events[0]["timestamp"].as_f64().unwrap() > 1.7e9);
    // The SDK parses all of it.
    let h = app
        .client()
        .get_execution_history()
        .execution_arn(&execution)
        .send()
        .await
        .unwrap();
    assert_eq!(h.events.len(), 4);
}

#[tokio::test]
async fn the_input_is_kept_verbatim_and_any_json_value_is_accepted() {
    let app = TestApp::spawn().await;
    let machine = app.create_machine("sm").await;
    for (i, input) in ["[\"Hello\", \"World\"]", "2", "\"some text\"", "null"]
        .iter()
        .enumerate()
    {
        let e = start(&app, &machine, &format!("e{i}"), Some(input)).await;
        let d = closed(&app, &e).await;
        assert_eq!(d["input"], *input);
        let events = history(&app, &e, json!({})).await;
        assert_eq!(events[0]["executionStartedEventDetails"]["input"], *input);
    }
}

#[tokio::test]
async fn invalid_input_names_and_arns_get_aws_errors() {
    let app = TestApp::spawn().await;
    let machine = app.create_machine("sm").await;
    let s = |body: Value| app.call("StartExecution", body);
    for (input, reason) in [
        ("not some json", "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"),
        ("{'not': 'json'", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"),
        ("", "Invalid execution input."),
    ] {
        assert_error(
            &s(json!({"stateMachineArn": machine, "input": input})).await,
            400,
            "InvalidExecutionInput",
            &format!("Invalid State Machine Execution Input: '{reason}'"),
        );
    }
    assert_error(
        &s(json!({"stateMachineArn": machine, "input": format!("\"{}\"", "x".repeat(262_144))})).await,
        400,
        "ValidationException",
        "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144",
    );
    let long = "n".repeat(81);
    assert_error(
        &s(json!({"stateMachineArn": machine, "name": long})).await,
        400,
        "ValidationException",
        &format!("1 validation error detected: Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80"),
    );
    for bad in ["a b", "a:b", "a/b", "x\u{7}", "e#1"] {
        assert_error(
            &s(json!({"stateMachineArn": machine, "name": bad})).await,
            400,
            "InvalidName",
            &format!("Invalid Name: '{bad}'"),
        );
    }
    let missing = format!("{machine}_gone");
    assert_error(
        &s(json!({"stateMachineArn": missing})).await,
        400,
        "StateMachineDoesNotExist",
        &format!("State Machine Does Not Exist: '{missing}'"),
    );
    assert_error(
        &s(json!({"stateMachineArn": format!("{machine}:9")})).await,
        400,
        "StateMachineDoesNotExist",
        &format!("State Machine Does Not Exist: '{machine}:9'"),
    );
    assert_error(
        &s(json!({"stateMachineArn": "invalid_arn"})).await,
        400,
        "InvalidArn",
        "Invalid Arn: 'Invalid ARN prefix: invalid_arn'",
    );
    let d = |arn: &str| app.call("DescribeExecution", json!({"executionArn": arn}));
    assert_error(
        &d("invalid_arn").await,
        400,
        "InvalidArn",
        "Invalid Arn: 'Invalid ARN prefix: invalid_arn'",
    );
    let express = format!("arn:aws:states:us-east-1:{ACCOUNT}:express:sm:n:1");
    assert_error(
        &d(&express).await,
        400,
        "InvalidArn",
        "Invalid Arn: 'Resource type not valid in this context: express'",
    );
    let unknown = format!("arn:aws:states:us-east-1:{ACCOUNT}:execution:sm:nope");
    for op in [
        "DescribeExecution",
        "GetExecutionHistory",
        "StopExecution",
        "DescribeStateMachineForExecution",
    ] {
        assert_error(
            &app.call(op, json!({"executionArn": unknown})).await,
            400,
            "ExecutionDoesNotExist",
            &format!("Execution Does Not Exist: '{unknown}'"),
        );
    }
}

#[tokio::test]
async fn an_execution_of_another_account_does_not_exist_for_the_caller() {
    let app = TestApp::spawn().await;
    let machine = app.create_machine("sm").await;
    let e = start(&app, &machine, "mine", None).await;
    let other = app.client_as("111122223333", "us-east-1");
    let (code, message) = failure(other.describe_execution().execution_arn(&e).send().await);
    assert_eq!(code, "ExecutionDoesNotExist");
    assert_eq!(message, format!("Execution Does Not Exist: '{e}'"));
}

#[tokio::test]
async fn a_start_is_idempotent_only_for_the_same_name_and_input_while_running() {
    let app = TestApp::spawn().await;
    let machine = create(&app, "waits", WAIT_LONG).await;
    let first = app
        .call(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": "once", "input": "{\"a\": 1}"}),
        )
        .await;
    let again = app
        .call(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": "once", "input": "{\"a\": 1}"}),
        )
        .await;
    assert_eq!(first.1, again.1);
    let arn = first.1["executionArn"].as_str().unwrap().to_owned();
    let message = format!("Execution Already Exists: '{arn}'");
    assert_error(
        &app.call(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": "once", "input": "{\"a\":1}"}),
        )
        .await,
        400,
        "ExecutionAlreadyExists",
        &message,
    );
    app.client()
        .stop_execution()
        .execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_error(
        &app.call(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": "once", "input": "{\"a\": 1}"}),
        )
        .await,
        400,
        "ExecutionAlreadyExists",
        &message,
    );
}

#[tokio::test]
async fn stopping_a_waiting_execution_records_one_aborted_event() {
    let app = TestApp::spawn().await;
    let machine = create(&app, "waits", WAIT_LONG).await;
    let e = start(&app, &machine, "stopme", None).await;
    // The Wait is entered once the runner took its first step.
    let deadline = Instant::now() + Duration::from_secs(30);
    while history(&app, &e, json!({})).await.len() < 2 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let running = app
        .call("DescribeExecution", json!({"executionArn": e}))
        .await
        .1;
    assert_eq!(running["status"], "RUNNING");
    assert_eq!(
        running["redriveStatusReason"],
        "Execution is RUNNING and cannot be redriven"
    );
    assert!(running.get("stopDate").is_none());
    let stop = app.call("StopExecution", json!({"executionArn": e})).await;
    assert_eq!(stop.0, 200);
    assert_eq!(keys(&stop.1), ["stopDate"]);
    let events = history(&app, &e, json!({})).await;
    assert_eq!(
        chain(&events),
        [
            (1, "ExecutionStarted".into(), 0),
            (2, "WaitStateEntered".into(), 0),
            (3, "ExecutionAborted".into(), 0)
        ]
    );
    assert_eq!(events[2]["executionAbortedEventDetails"], json!({}));
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "ABORTED");
    assert_eq!(d["redriveStatus"], "REDRIVABLE");
    assert!(d.get("output").is_none() && d.get("redriveStatusReason").is_none());
    // A second stop changes nothing and answers the first stop's date.
    let again = app.call("StopExecution", json!({"executionArn": e})).await;
    assert_eq!(again.1, stop.1);
    assert_eq!(history(&app, &e, json!({})).await.len(), 3);
    // With an error and a cause, both are kept.
    let e2 = start(&app, &machine, "stopme2", None).await;
    app.client()
        .stop_execution()
        .execution_arn(&e2)
        .error("Manual")
        .cause("probe")
        .send()
        .await
        .unwrap();
    let d = closed(&app, &e2).await;
    assert_eq!(
        (d["error"].as_str(), d["cause"].as_str()),
        (Some("Manual"), Some("probe"))
    );
    let last = history(&app, &e2, json!({"reverseOrder": true, "maxResults": 1})).await;
    assert_eq!(
        last[0]["executionAbortedEventDetails"],
        json!({"error": "Manual", "cause": "probe"})
    );
}

#[tokio::test]
async fn a_fail_state_fails_the_execution_with_the_recorded_description() {
    let app = TestApp::spawn().await;
    let machine = create(
        &app,
        "fails",
        r#"{"StartAt":"FailState","States":{"FailState":{"Type":"Fail","Error":"SomeFailure","Cause":"This state machines raises a 'SomeFailure' failure."}}}"#,
    )
    .await;
    let e = start(&app, &machine, "f", None).await;
    let d = closed(&app, &e).await;
    assert_eq!(
        keys(&d),
        [
            "cause",
            "error",
            "executionArn",
            "input",
            "inputDetails",
            "name",
            "redriveCount",
            "redriveStatus",
            "startDate",
            "stateMachineArn",
            "status",
            "stopDate"
        ]
    );
    assert_eq!(d["error"], "SomeFailure");
    let events = history(&app, &e, json!({})).await;
    assert_eq!(
        chain(&events),
        [
            (1, "ExecutionStarted".into(), 0),
            (2, "FailStateEntered".into(), 0),
            (3, "ExecutionFailed".into(), 2)
        ]
    );
    assert_eq!(
        events[2]["executionFailedEventDetails"],
        json!({"error": "SomeFailure", "cause": "This state machines raises a 'SomeFailure' failure."})
    );
}

#[tokio::test]
async fn history_pages_in_either_order_and_can_leave_data_out() {
    let app = TestApp::spawn().await;
    let machine = create(
        &app,
        "chain",
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"C"},"C":{"Type":"Pass","End":true}}}"#,
    )
    .await;
    let e = start(&app, &machine, "c", Some("{\"k\": [1, 2]}")).await;
    closed(&app, &e).await;
    let all = history(&app, &e, json!({})).await;
    assert_eq!(all.len(), 8);
    let reversed = history(&app, &e, json!({"reverseOrder": true})).await;
    let mut expected = all.clone();
    expected.reverse();
    assert_eq!(reversed, expected);
    // Pages of three, forwards and backwards, cover everything exactly once.
    for reverse in [false, true] {
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut req = app
                .client()
                .get_execution_history()
                .execution_arn(&e)
                .max_results(3)
                .reverse_order(reverse);
            if let Some(t) = &token {
                req = req.next_token(t);
            }
            let page = req.send().await.unwrap();
            ids.extend(page.events.iter().map(|ev| ev.id));
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        let mut want: Vec<i64> = (1..=8).collect();
        if reverse {
            want.reverse();
        }
        assert_eq!(ids, want);
    }
    // The state's entered input is compact; the execution's started input verbatim.
    assert_eq!(all[1]["stateEnteredEventDetails"]["input"], "{\"k\":[1,2]}");
    let lean = history(&app, &e, json!({"includeExecutionData": false})).await;
    assert_eq!(
        lean[0]["executionStartedEventDetails"],
        json!({"inputDetails": {"truncated": false}, "roleArn": ROLE})
    );
    assert_eq!(
        lean[2]["stateExitedEventDetails"],
        json!({"name": "A", "outputDetails": {"truncated": false}})
    );
    assert_error(
        &app.call(
            "GetExecutionHistory",
            json!({"executionArn": e, "nextToken": "garbage"}),
        )
        .await,
        400,
        "InvalidToken",
        "Invalid Token: 'Invalid token'",
    );
}

#[tokio::test]
async fn list_executions_is_newest_first_with_aws_paging_and_filters() {
    let app = TestApp::spawn().await;
    let machine = app.create_machine("sm").await;
    let mut started = Vec::new();
    for i in 0..13 {
        let e = start(&app, &machine, &format!("e{i:02}"), None).await;
        closed(&app, &e).await;
        started.push(e);
    }
    let c = app.client();
    let first = c
        .list_executions()
        .state_machine_arn(&machine)
        .max_results(10)
        .send()
        .await
        .unwrap();
    assert_eq!(first.executions.len(), 10);
    let rest = c
        .list_executions()
        .state_machine_arn(&machine)
        .max_results(10)
        .next_token(first.next_token.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.executions.len(), 3);
    assert!(rest.next_token.is_none());
    let listed: Vec<String> = first
        .executions
        .iter()
        .chain(rest.executions.iter())
        .map(|e| e.execution_arn.clone())
        .collect();
    let mut newest_first = started.clone();
    newest_first.reverse();
    assert_eq!(listed, newest_first);
    let running = c
        .list_executions()
        .state_machine_arn(&machine)
        .status_filter(ExecutionStatus::Running)
        .send()
        .await
        .unwrap();
    assert!(running.executions.is_empty());
    let (status, item, _) = app
        .call(
            "ListExecutions",
            json!({"stateMachineArn": machine, "maxResults": 1}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        keys(&item["executions"][0]),
        [
            "executionArn",
            "name",
            "redriveCount",
            "startDate",
            "stateMachineArn",
            "status",
            "stopDate"
        ]
    );
    assert_error(
        &app.call("ListExecutions", json!({"stateMachineArn": machine, "statusFilter": "succeeded"})).await,
        400,
        "ValidationException",
        "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]",
    );
    assert_error(
        &app.call("ListExecutions", json!({"stateMachineArn": machine, "maxResults": 1001})).await,
        400,
        "ValidationException",
        "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000",
    );
    assert_error(
        &app.call("ListExecutions", json!({"stateMachineArn": machine, "nextToken": "x".repeat(3097)})).await,
        400,
        "ValidationException",
        &format!("1 validation error detected: Value '{}' at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to 3096", "x".repeat(3097)),
    );
    let missing = format!("{machine}x");
    assert_error(
        &app.call("ListExecutions", json!({"stateMachineArn": missing}))
            .await,
        400,
        "StateMachineDoesNotExist",
        &format!("State Machine Does Not Exist: '{missing}'"),
    );
}

#[tokio::test]
async fn versions_and_aliases_run_their_own_definitions_and_are_shown_on_executions() {
    let app = TestApp::spawn().await;
    let machine = app.create_machine("sm").await;
    let v1 = app.update_and_publish(&machine, "one").await;
    let v2 = app.update_and_publish(&machine, "two").await;
    let c = app.client();
    // The machine moves on; an execution of v1 still runs (and describes) v1.
    app.update_and_publish(&machine, "three").await;
    let e1 = start(&app, &v1, "by-version", None).await;
    let d = closed(&app, &e1).await;
    assert_eq!(d["stateMachineArn"], machine.as_str());
    assert_eq!(d["stateMachineVersionArn"], v1.as_str());
    assert!(d.get("stateMachineAliasArn").is_none());
    let sm = c
        .describe_state_machine_for_execution()
        .execution_arn(&e1)
        .send()
        .await
        .unwrap();
    assert!(sm.definition.contains("\"one\""), "{}", sm.definition);
    assert_eq!(sm.state_machine_arn, machine);
    let events = history(&app, &e1, json!({})).await;
    assert_eq!(
        events[0]["executionStartedEventDetails"]["stateMachineVersionArn"],
        v1.as_str()
    );
    // An alias splits starts by weight.
    let alias = c
        .create_state_machine_alias()
        .name("prod")
        .routing_configuration(
            RoutingConfigurationListItem::builder()
                .state_machine_version_arn(&v1)
                .weight(30)
                .build()
                .unwrap(),
        )
        .routing_configuration(
            RoutingConfigurationListItem::builder()
                .state_machine_version_arn(&v2)
                .weight(70)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .state_machine_alias_arn;
    let mut to_v1 = 0;
    let starts = 200;
    for i in 0..starts {
        let e = start(&app, &alias, &format!("a{i}"), None).await;
        let d = c
            .describe_execution()
            .execution_arn(&e)
            .send()
            .await
            .unwrap();
        assert_eq!(d.state_machine_alias_arn.as_deref(), Some(alias.as_str()));
        match d.state_machine_version_arn.as_deref() {
            Some(v) if v == v1 => to_v1 += 1,
            Some(v) => assert_eq!(v, v2),
            None => panic!("an alias execution names its version"),
        }
    }
    // 30 % of 200 is 60; binomial sd ≈ 6.5, so 30–90 is beyond 4.5 sd.
    assert!((30..=90).contains(&to_v1), "{to_v1} of {starts} went to v1");
    let by_alias = c
        .list_executions()
        .state_machine_arn(&alias)
        .max_results(1000)
        .send()
        .await
        .unwrap();
    assert_eq!(by_alias.executions.len(), starts);
    let by_v1 = c
        .list_executions()
        .state_machine_arn(&v1)
        .max_results(1000)
        .send()
        .await
        .unwrap();
    assert_eq!(by_v1.executions.len(), to_v1 + 1);
    let unqualified = c
        .list_executions()
        .state_machine_arn(&machine)
        .max_results(1000)
        .send()
        .await
        .unwrap();
    assert_eq!(unqualified.executions.len(), starts + 1);
}

#[tokio::test]
async fn a_waiting_execution_resumes_after_a_restart_without_firing_early() {
    let mut app = TestApp::spawn_with(|c| c.time_scale = 0.05).await;
    // 6 s × 0.05 = 300 ms of waiting.
    let machine = create(&app, "waits", &wait_then_pass(6)).await;
    let e = start(&app, &machine, "resume", None).await;
    app.restart().await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"], r#"{"done":true}"#);
    let events = history(&app, &e, json!({})).await;
    assert_eq!(
        chain(&events),
        [
            (1, "ExecutionStarted".into(), 0),
            (2, "WaitStateEntered".into(), 0),
            (3, "WaitStateExited".into(), 2),
            (4, "PassStateEntered".into(), 3),
            (5, "PassStateExited".into(), 4),
            (6, "ExecutionSucceeded".into(), 5)
        ]
    );
    // In whole milliseconds: seconds since 1970 as f64 are only good to a few tenths of a µs.
    let at = |i: usize| (events[i]["timestamp"].as_f64().unwrap() * 1000.0).round() as i64;
    assert!(at(2) - at(1) >= 300, "the Wait fired early");
}

#[tokio::test]
async fn variables_assigned_before_a_restart_are_read_after_it() {
    let mut app = TestApp::spawn_with(|c| c.time_scale = 0.05).await;
    let definition = json!({"StartAt": "Keep", "States": {
        "Keep": {"Type": "Pass", "Assign": {"kept.$": "$.n", "label": "before"}, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 6, "Next": "Read"},
        "Read": {"Type": "Pass", "Parameters": {"kept.$": "$kept", "label.$": "$label"}, "End": true}
    }})
    .to_string();
    let machine = create(&app, "keeps", &definition).await;
    let e = start(&app, &machine, "kept", Some(r#"{"n": [1, 2]}"#)).await;
    app.restart().await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "SUCCEEDED");
    // `.$` members come out in Java HashMap order (asl-semantics.md §2.2).
    assert_eq!(d["output"], r#"{"label":"before","kept":[1,2]}"#);
    let events = history(&app, &e, json!({})).await;
    let keep = &events[2]["stateExitedEventDetails"];
    assert_eq!(
        keep["assignedVariables"],
        json!({"kept": "[1,2]", "label": "\"before\""})
    );
    assert_eq!(
        keep["assignedVariablesDetails"],
        json!({"truncated": false})
    );
    // includeExecutionData=false leaves the values out, as it does inputs and outputs.
    let lean = history(&app, &e, json!({"includeExecutionData": false})).await;
    assert_eq!(
        lean[2]["stateExitedEventDetails"].get("assignedVariables"),
        None
    );
}

#[tokio::test]
async fn describe_lists_the_variables_each_state_reads() {
    let app = TestApp::spawn().await;
    let c = app.client();
    // Recorded: test_sfn_api_variable_references.py[BASE_REFERENCE_IN_CHOICE].
    let definition = json!({"StartAt": "Setup", "States": {
        "Setup": {"Type": "Pass", "Assign": {"guess": "the_guess", "answer": "the_answer"}, "Next": "CheckAnswer"},
        "CheckAnswer": {"Type": "Choice", "Choices": [
            {"Variable": "$guess", "StringEqualsPath": "$answer", "Next": "CorrectAnswer"}], "Default": "WrongAnswer"},
        "CorrectAnswer": {"Type": "Pass", "Result": {"state": "CORRECT"}, "End": true},
        "WrongAnswer": {"Type": "Pass", "Assign": {"guess.$": "$answer"}, "Result": {"state": "WRONG"}, "Next": "CheckAnswer"}
    }})
    .to_string();
    let machine = create(&app, "refs", &definition).await;
    let expected: std::collections::HashMap<String, Vec<String>> = [
        (
            "CheckAnswer".to_owned(),
            vec!["answer".to_owned(), "guess".to_owned()],
        ),
        ("WrongAnswer".to_owned(), vec!["answer".to_owned()]),
    ]
    .into();
    let d = c
        .describe_state_machine()
        .state_machine_arn(&machine)
        .send()
        .await
        .unwrap();
    assert_eq!(d.variable_references(), Some(&expected));
    let lean = c
        .describe_state_machine()
        .state_machine_arn(&machine)
        .included_data(aws_sdk_sfn::types::IncludedData::MetadataOnly)
        .send()
        .await
        .unwrap();
    assert_eq!(lean.variable_references(), None);
    let e = start(&app, &machine, "refs", None).await;
    closed(&app, &e).await;
    let f = c
        .describe_state_machine_for_execution()
        .execution_arn(&e)
        .send()
        .await
        .unwrap();
    assert_eq!(f.variable_references(), Some(&expected));
    // A machine that reads no variable has none to list.
    let plain = create(&app, "plain", &wait_then_pass(0)).await;
    let d = c
        .describe_state_machine()
        .state_machine_arn(&plain)
        .send()
        .await
        .unwrap();
    assert_eq!(d.variable_references(), None);
}

#[tokio::test]
async fn deleting_a_machine_with_running_executions_waits_for_them() {
    let app = TestApp::spawn_with(|c| c.time_scale = 0.1).await;
    let c = app.client();
    let parked = create(&app, "parked", WAIT_LONG).await;
    let e = start(&app, &parked, "p", None).await;
    c.delete_state_machine()
        .state_machine_arn(&parked)
        .send()
        .await
        .unwrap();
    let d = c
        .describe_state_machine()
        .state_machine_arn(&parked)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status.unwrap().as_str(), "DELETING");
    let message = format!("State machine '{parked}' is being deleted.");
    assert_eq!(
        failure(c.start_execution().state_machine_arn(&parked).send().await),
        ("StateMachineDeleting".to_owned(), message.clone())
    );
    assert_eq!(
        failure(
            c.publish_state_machine_version()
                .state_machine_arn(&parked)
                .send()
                .await
        ),
        ("StateMachineDeleting".to_owned(), message)
    );
    // Its execution is still there until it ends; its end takes the machine away.
    c.stop_execution().execution_arn(&e).send().await.unwrap();
    let (code, _) = failure(
        c.describe_state_machine()
            .state_machine_arn(&parked)
            .send()
            .await,
    );
    assert_eq!(code, "StateMachineDoesNotExist");
    // An execution that moves on after the deletion fails at that transition. (Its machine
    // may well reuse the deleted machine's internal revision key: the runner must run this
    // definition, not the one it cached for the key.)
    let moving = create(&app, "moving", &wait_then_pass(3)).await;
    let e = start(&app, &moving, "m", None).await;
    c.delete_state_machine()
        .state_machine_arn(&moving)
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = c
            .describe_state_machine()
            .state_machine_arn(&moving)
            .send()
            .await;
        if r.is_err() {
            assert_eq!(failure(r).0, "StateMachineDoesNotExist");
            break;
        }
        assert!(Instant::now() < deadline, "the machine is never deleted");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Its executions went with it.
    let (code, _) = failure(c.describe_execution().execution_arn(&e).send().await);
    assert_eq!(code, "ExecutionDoesNotExist");
}

#[tokio::test]
async fn parallel_map_retry_and_catch_run_through_the_service() {
    let app = TestApp::spawn_with(|c| c.time_scale = 0.01).await;
    let definition = json!({"StartAt": "Fan", "States": {
        "Fan": {"Type": "Parallel", "ResultPath": "$.fan", "Next": "Each", "Branches": [
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "Next": "One"}, "One": {"Type": "Pass", "Result": 1, "End": true}}},
            {"StartAt": "Two", "States": {"Two": {"Type": "Pass", "Result": 2, "End": true}}}]},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ResultPath": "$.each", "Next": "Flaky",
            "ItemProcessor": {"StartAt": "Double", "States": {"Double": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": true}}}},
        "Flaky": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "nowhere"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 5, "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}], "End": true},
        "Done": {"Type": "Succeed"}}})
    .to_string();
    let machine = create(&app, "fan", &definition).await;
    let e = start(&app, &machine, "f", Some(r#"{"items": [1, 2, 3]}"#)).await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let out: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
    assert_eq!(out["fan"], json!([1, 2]));
    assert_eq!(out["each"], json!([{"v": 1}, {"v": 2}, {"v": 3}]));
    assert_eq!(out["error"]["Error"], "States.TaskFailed");
    let events = history(&app, &e, json!({})).await;
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=events.len() as u64).collect::<Vec<_>>());
    let count = |kind: &str| events.iter().filter(|e| e["type"] == kind).count();
    assert_eq!(count("MapIterationSucceeded"), 3);
    assert_eq!(count("TaskScheduled"), 3, "one attempt and two retries");
    assert_eq!(count("ParallelStateSucceeded"), 1);
    // The SDK knows every event type and details shape sfnlite writes.
    let h = app
        .client()
        .get_execution_history()
        .execution_arn(&e)
        .max_results(1000)
        .send()
        .await
        .unwrap();
    assert_eq!(h.events.len(), events.len());
    assert!(h.events.iter().any(|ev| ev
        .map_state_started_event_details
        .as_ref()
        .map(|d| d.length)
        == Some(3)));
}

#[tokio::test]
async fn a_machine_timeout_ends_the_execution_timed_out() {
    let app = TestApp::spawn_with(|c| c.time_scale = 0.01).await;
    let machine = create(
        &app,
        "slow",
        r#"{"TimeoutSeconds": 20, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}"#,
    )
    .await;
    let e = start(&app, &machine, "t", None).await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "TIMED_OUT");
    assert!(d.get("error").is_none() && d.get("cause").is_none());
    assert_eq!(d["redriveStatus"], "REDRIVABLE");
    let events = history(&app, &e, json!({})).await;
    let last = events.last().unwrap();
    assert_eq!(
        (last["type"].as_str(), last["previousEventId"].as_u64()),
        (Some("ExecutionTimedOut"), Some(0))
    );
    assert_eq!(
        last["executionTimedOutEventDetails"],
        json!({"error": "States.Timeout"})
    );
}

#[tokio::test]
async fn the_trace_header_is_kept_and_the_x_ray_header_wins() {
    let app = TestApp::spawn().await;
    let machine = app.create_machine("sm").await;
    let c = app.client();
    let e = c
        .start_execution()
        .state_machine_arn(&machine)
        .trace_header("Root=1-body")
        .send()
        .await
        .unwrap()
        .execution_arn;
    let d = c
        .describe_execution()
        .execution_arn(&e)
        .send()
        .await
        .unwrap();
    assert_eq!(d.trace_header.as_deref(), Some("Root=1-body"));
    let plain = start(&app, &machine, "plain", None).await;
    let d = app
        .call("DescribeExecution", json!({"executionArn": plain}))
        .await
        .1;
    assert!(d.get("traceHeader").is_none());
    let resp = reqwest::Client::new()
        .post(format!("{}/", app.url))
        .header("x-amz-target", "AWSStepFunctions.StartExecution")
        .header("x-amzn-trace-id", "Root=1-header")
        .body(json!({"stateMachineArn": machine, "traceHeader": "Root=1-body"}).to_string())
        .send()
        .await
        .unwrap();
    let arn = resp.json::<Value>().await.unwrap()["executionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = c
        .describe_execution()
        .execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(d.trace_header.as_deref(), Some("Root=1-header"));
    assert_error(
        &app.call("StartExecution", json!({"stateMachineArn": machine, "traceHeader": "é"})).await,
        400,
        "ValidationException",
        "1 validation error detected: Value 'é' at 'traceHeader' failed to satisfy constraint: Member must satisfy regular expression pattern: \\p{ASCII}*",
    );
}

#[tokio::test]
async fn starts_through_deleted_versions_and_aliases_find_no_machine() {
    let app = TestApp::spawn().await;
    let machine = app.create_machine("sm").await;
    let v1 = app.update_and_publish(&machine, "one").await;
    let v2 = app.update_and_publish(&machine, "two").await;
    let c = app.client();
    let alias = c
        .create_state_machine_alias()
        .name("prod")
        .routing_configuration(
            RoutingConfigurationListItem::builder()
                .state_machine_version_arn(&v2)
                .weight(100)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .state_machine_alias_arn;
    c.delete_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .send()
        .await
        .unwrap();
    c.delete_state_machine_version()
        .state_machine_version_arn(&v1)
        .send()
        .await
        .unwrap();
    for gone in [&alias, &v1] {
        assert_eq!(
            failure(c.start_execution().state_machine_arn(gone).send().await),
            (
                "StateMachineDoesNotExist".to_owned(),
                format!("State Machine Does Not Exist: '{gone}'")
            )
        );
    }
    // Another machine's version number does not exist for this one.
    let other = create(&app, "other", WAIT_LONG).await;
    let foreign = format!("{other}:2");
    assert_eq!(
        failure(c.start_execution().state_machine_arn(&foreign).send().await).0,
        "StateMachineDoesNotExist"
    );
}
