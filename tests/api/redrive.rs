//! RedriveExecution (executions-api.md §7): a failed or stopped execution runs again from the
//! state it ended in — same ARN, history and variables, successful states not run again.

use serde_json::{json, Value};

use crate::executions::{chain, closed, create, history, kinds, start};
use crate::helpers::TestApp;

const ACTIVITY: &str = "arn:aws:states:us-east-1:123456789012:activity:work";

async fn take(app: &TestApp) -> String {
    take_from(app, ACTIVITY).await
}

/// The next task of `activity`, polling until one comes.
pub(crate) async fn take_from(app: &TestApp, activity: &str) -> String {
    loop {
        let (_, body, _) = app
            .call("GetActivityTask", json!({"activityArn": activity}))
            .await;
        if let Some(t) = body["taskToken"].as_str() {
            return t.to_owned();
        }
    }
}

#[tokio::test]
async fn a_failed_execution_resumes_at_its_failed_state_with_its_variables() {
    let app = TestApp::spawn_with(|c| c.time_scale = 0.01).await;
    app.call("CreateActivity", json!({"name": "work"})).await;
    let m = create(
        &app,
        "redrive",
        &json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "T"},
            "T": {"Type": "Task", "Resource": ACTIVITY, "ResultPath": "$.r", "Next": "B"},
            "B": {"Type": "Pass", "Parameters": {"x.$": "$x", "r.$": "$.r", "n.$": "$$.Execution.RedriveCount"}, "End": true}}})
        .to_string(),
    )
    .await;
    let e = start(&app, &m, "run", Some("{}")).await;
    let token = take(&app).await;
    app.call(
        "SendTaskFailure",
        json!({"taskToken": token, "error": "Flaky", "cause": "try again"}),
    )
    .await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "FAILED");
    assert_eq!(d["redriveStatus"], "REDRIVABLE");
    let (status, body, _) = app
        .call("RedriveExecution", json!({"executionArn": e}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["redriveDate"].is_number());
    let (_, d, _) = app
        .call("DescribeExecution", json!({"executionArn": e}))
        .await;
    assert_eq!(d["status"], "RUNNING", "{d}");
    assert_eq!(d["redriveCount"], 1);
    assert!(d.get("stopDate").is_none());
    let token = take(&app).await;
    app.call(
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "\"ok\""}),
    )
    .await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let out: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
    assert_eq!(out, json!({"x": 1, "r": "ok", "n": 1}));
    // ListExecutions' redriveFilter: the redriven one, and a never-redriven one apart.
    let other = start(&app, &m, "other", Some("{}")).await;
    for (filter, expected) in [("REDRIVEN", &e), ("NOT_REDRIVEN", &other)] {
        let (status, page, _) = app
            .call(
                "ListExecutions",
                json!({"stateMachineArn": m, "redriveFilter": filter}),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let arns: Vec<&str> = page["executions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["executionArn"].as_str().unwrap())
            .collect();
        assert_eq!(arns, [expected.as_str()], "{filter}");
    }
    let events = history(&app, &e, json!({})).await;
    let k = kinds(&events);
    // A ran once; T was scheduled again after the redrive.
    assert_eq!(k.iter().filter(|k| *k == "PassStateEntered").count(), 2);
    assert_eq!(k.iter().filter(|k| *k == "ActivityScheduled").count(), 2);
    let failed = k.iter().position(|k| k == "ExecutionFailed").unwrap();
    assert_eq!(k[failed + 1], "ExecutionRedriven");
    let redriven = &events[failed + 1];
    assert_eq!(redriven["previousEventId"], events[failed]["id"]);
    assert_eq!(
        redriven["executionRedrivenEventDetails"],
        json!({"redriveCount": 1})
    );
    assert_eq!(k[failed + 2], "TaskStateEntered");
    // Ids stay gap-free across the redrive.
    let ids: Vec<u64> = chain(&events).iter().map(|c| c.0).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_stopped_execution_resumes_and_a_succeeded_one_is_not_redrivable() {
    let app = TestApp::spawn_with(|c| c.time_scale = 0.01).await;
    let m = create(
        &app,
        "stopped",
        &json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 3600, "Next": "P"},
            "P": {"Type": "Pass", "Result": "after", "End": true}}})
        .to_string(),
    )
    .await;
    let e = start(&app, &m, "run", None).await;
    app.call("StopExecution", json!({"executionArn": e})).await;
    assert_eq!(closed(&app, &e).await["status"], "ABORTED");
    let (status, _, _) = app
        .call("RedriveExecution", json!({"executionArn": e}))
        .await;
    assert_eq!(status, 200);
    let (_, d, _) = app
        .call("DescribeExecution", json!({"executionArn": e}))
        .await;
    assert_eq!(d["status"], "RUNNING");
    app.call("StopExecution", json!({"executionArn": e})).await;
    let (_, d, _) = app
        .call("DescribeExecution", json!({"executionArn": e}))
        .await;
    assert_eq!(
        (d["status"].as_str(), d["redriveCount"].as_i64()),
        (Some("ABORTED"), Some(1))
    );

    let done = create(
        &app,
        "done",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}).to_string(),
    )
    .await;
    let e = start(&app, &done, "run", None).await;
    closed(&app, &e).await;
    let (status, body, _) = app
        .call("RedriveExecution", json!({"executionArn": e}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "ExecutionNotRedrivable");
    assert_eq!(
        body["message"],
        "Execution is SUCCEEDED and cannot be redriven"
    );
}

/// Fails the next activity task once, redrives `e`, answers the task it runs again with
/// `out`; returns the closed execution and the history after the redrive.
async fn fail_then_redrive(app: &TestApp, e: &str, out: &str) -> (Value, Vec<String>) {
    let token = take(app).await;
    app.call(
        "SendTaskFailure",
        json!({"taskToken": token, "error": "Flaky", "cause": "once"}),
    )
    .await;
    assert_eq!(closed(app, e).await["status"], "FAILED");
    let (status, body, _) = app
        .call("RedriveExecution", json!({"executionArn": e}))
        .await;
    assert_eq!(status, 200, "{body}");
    let token = take(app).await;
    app.call(
        "SendTaskSuccess",
        json!({"taskToken": token, "output": out}),
    )
    .await;
    let done = closed(app, e).await;
    let events = history(app, e, json!({})).await;
    chain(&events);
    let ks = kinds(&events);
    let from = ks.iter().position(|k| *k == "ExecutionRedriven").unwrap();
    (done, ks[from..].iter().map(|k| k.to_string()).collect())
}

#[tokio::test]
async fn a_redriven_parallel_reruns_only_its_unsuccessful_branches() {
    let app = TestApp::spawn_with(|c| c.time_scale = 0.01).await;
    app.call("CreateActivity", json!({"name": "work"})).await;
    let m = create(
        &app,
        "redrive-parallel",
        &json!({"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": ACTIVITY, "End": true}}}]}}})
        .to_string(),
    )
    .await;
    let e = start(&app, &m, "run", Some("{}")).await;
    let (done, after) = fail_then_redrive(&app, &e, "\"b\"").await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["output"], "[\"a\",\"b\"]");
    assert_eq!(
        after,
        [
            "ExecutionRedriven",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "ParallelStateSucceeded",
            "ParallelStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[tokio::test]
async fn a_redriven_inline_map_reruns_only_its_unsuccessful_iterations() {
    let app = TestApp::spawn_with(|c| c.time_scale = 0.01).await;
    app.call("CreateActivity", json!({"name": "work"})).await;
    let m = create(
        &app,
        "redrive-inline-map",
        &json!({"StartAt": "Each", "States": {"Each": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "Which", "States": {
                "Which": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Work"}], "Default": "Done"},
                "Work": {"Type": "Task", "Resource": ACTIVITY, "End": true},
                "Done": {"Type": "Pass", "End": true}}}}}})
        .to_string(),
    )
    .await;
    let e = start(&app, &m, "run", Some("[1, 2, 3]")).await;
    let (done, after) = fail_then_redrive(&app, &e, "\"two\"").await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["output"], "[1,\"two\",3]");
    // Iterations 1 and 3 had finished: only iteration 2's task runs again.
    assert!(
        !after.iter().any(|k| k == "ChoiceStateEntered"),
        "{after:?}"
    );
    assert_eq!(after.iter().filter(|k| *k == "TaskStateEntered").count(), 1);
    assert_eq!(after.last().map(String::as_str), Some("ExecutionSucceeded"));
}
