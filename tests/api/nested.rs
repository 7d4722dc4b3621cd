//! Workflows that start workflows (`arn:aws:states:::states:startExecution`, `.sync`,
//! `.sync:2`, `.waitForTaskToken`) and call Step Functions through `aws-sdk:sfn`, against the
//! histories AWS recorded (LocalStack's `services/test_sfn_task_service.py` and
//! `callback/test_callback.py` snapshots): event chains, outputs, error names and the
//! parent/child links — a `.sync` parent ends with its child, a stopped parent stops it.

use serde_json::{json, Value};

use crate::executions::{chain, closed, create, history, kinds, parsed, start};
use crate::helpers::TestApp;

const MACHINES: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:";

fn parent(resource: &str, parameters: Value) -> String {
    json!({"StartAt": "StartExecution", "States": {
        "StartExecution": {
            "Type": "Task",
            "Resource": resource,
            "Parameters": parameters,
            "End": true
        }
    }})
    .to_string()
}

fn pass_child() -> String {
    json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": true}
    }})
    .to_string()
}

fn details<'a>(events: &'a [Value], kind: &str) -> &'a Value {
    let e = events
        .iter()
        .find(|e| e["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {events:?}"));
    let member = e
        .as_object()
        .unwrap()
        .keys()
        .find(|k| k.ends_with("EventDetails"))
        .unwrap();
    &e[member]
}

#[tokio::test]
async fn start_execution_answers_the_childs_arn_and_leaves_it_running_on_its_own() {
    let app = TestApp::spawn().await;
    let child = create(
        &app,
        "TestStartTarget",
        &json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}})
            .to_string(),
    )
    .await;
    let machine = create(
        &app,
        "parent",
        &parent(
            "arn:aws:states:::states:startExecution",
            json!({"StateMachineArn": child, "Input": null, "Name": "TestStartTarget"}),
        ),
    )
    .await;
    let run = start(&app, &machine, "run", None).await;
    let done = closed(&app, &run).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let events = history(&app, &run, json!({})).await;
    assert_eq!(
        chain(&events),
        [
            (1, "ExecutionStarted".into(), 0),
            (2, "TaskStateEntered".into(), 0),
            (3, "TaskScheduled".into(), 2),
            (4, "TaskStarted".into(), 3),
            (5, "TaskSucceeded".into(), 4),
            (6, "TaskStateExited".into(), 5),
            (7, "ExecutionSucceeded".into(), 6),
        ]
    );
    let scheduled = details(&events, "TaskScheduled");
    assert_eq!(scheduled["resource"], "startExecution");
    assert_eq!(scheduled["resourceType"], "states");
    assert_eq!(scheduled["region"], "us-east-1");
    assert_eq!(
        details(&events, "TaskStarted"),
        &json!({"resource": "startExecution", "resourceType": "states"})
    );
    let output = parsed(&details(&events, "TaskSucceeded")["output"]);
    let child_run =
        "arn:aws:states:us-east-1:123456789012:execution:TestStartTarget:TestStartTarget";
    assert_eq!(output["ExecutionArn"], child_run);
    let keys: Vec<&String> = output.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "ExecutionArn",
            "SdkHttpMetadata",
            "SdkResponseMetadata",
            "StartDate"
        ]
    );
    assert_eq!(output["SdkHttpMetadata"]["HttpStatusCode"], 200);
    // The child runs on its own: an absent (null) Input is `{}`.
    let (_, child_desc, _) = app
        .call("DescribeExecution", json!({"executionArn": child_run}))
        .await;
    assert_eq!(child_desc["status"], "RUNNING");
    assert_eq!(child_desc["input"], "{}");
}

#[tokio::test]
async fn a_sync2_task_waits_for_its_child_and_gets_its_description_as_json() {
    let app = TestApp::spawn().await;
    let child = create(&app, "TestStartTarget", &pass_child()).await;
    let machine = create(
        &app,
        "parent",
        &parent(
            "arn:aws:states:::states:startExecution.sync:2",
            json!({"StateMachineArn": child, "Input": null, "Name": "TestStartTarget"}),
        ),
    )
    .await;
    let run = start(&app, &machine, "run", None).await;
    let done = closed(&app, &run).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let events = history(&app, &run, json!({})).await;
    assert_eq!(
        kinds(&events),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(
        parsed(&details(&events, "TaskSubmitted")["output"])["ExecutionArn"],
        "arn:aws:states:us-east-1:123456789012:execution:TestStartTarget:TestStartTarget"
    );
    let output = parsed(&done["output"]);
    let keys: Vec<&String> = output.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "ExecutionArn",
            "Input",
            "InputDetails",
            "Name",
            "Output",
            "OutputDetails",
            "StartDate",
            "StateMachineArn",
            "Status",
            "StopDate"
        ]
    );
    assert_eq!(output["Input"], json!({}));
    assert_eq!(output["Output"], json!({"Arg1": "argument1"}));
    assert_eq!(output["InputDetails"], json!({"Included": true}));
    assert_eq!(output["Status"], "SUCCEEDED");
    assert_eq!(
        output["StateMachineArn"],
        format!("{MACHINES}TestStartTarget")
    );
    assert!(output["StartDate"].as_i64().unwrap() <= output["StopDate"].as_i64().unwrap());
}

#[tokio::test]
async fn a_sync_task_gets_json_texts_and_fails_with_the_description_when_the_child_fails() {
    let app = TestApp::spawn().await;
    let ok = create(&app, "ok", &pass_child()).await;
    let failing = create(
        &app,
        "failing",
        &json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 0, "Next": "F"},
            "F": {"Type": "Fail", "Error": "States.Timeout", "Cause": "slow"}
        }})
        .to_string(),
    )
    .await;
    let machine = create(
        &app,
        "parent",
        &parent(
            "arn:aws:states:::states:startExecution.sync",
            json!({"StateMachineArn.$": "$.target", "Input": {"Payload": null}, "Name": "child"}),
        ),
    )
    .await;
    let run = start(
        &app,
        &machine,
        "good",
        Some(&json!({"target": ok}).to_string()),
    )
    .await;
    let done = closed(&app, &run).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output = parsed(&done["output"]);
    assert_eq!(output["Input"], "{\"Payload\":null}");
    assert_eq!(output["Output"], "{\"Arg1\":\"argument1\"}");

    let run = start(
        &app,
        &machine,
        "bad",
        Some(&json!({"target": failing}).to_string()),
    )
    .await;
    let done = closed(&app, &run).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    assert_eq!(done["error"], "States.TaskFailed");
    let cause: Value = serde_json::from_str(done["cause"].as_str().unwrap()).unwrap();
    let keys: Vec<&String> = cause.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "Cause",
            "Error",
            "ExecutionArn",
            "Input",
            "InputDetails",
            "Name",
            "StartDate",
            "StateMachineArn",
            "Status",
            "StopDate"
        ]
    );
    assert_eq!(cause["Error"], "States.Timeout");
    assert_eq!(cause["Status"], "FAILED");
    let events = history(&app, &run, json!({})).await;
    let failed = details(&events, "TaskFailed");
    assert_eq!(failed["error"], "States.TaskFailed");
    assert_eq!(failed["resource"], "startExecution.sync");
    assert_eq!(failed["resourceType"], "states");
    assert_eq!(
        kinds(&events)[4..],
        ["TaskSubmitted", "TaskFailed", "ExecutionFailed"]
    );
}

#[tokio::test]
async fn a_refused_start_fails_the_task_with_the_step_functions_error_name() {
    let app = TestApp::spawn().await;
    let child = create(&app, "child", &pass_child()).await;
    let definition = json!({"StartAt": "Start", "States": {
        "Start": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution",
            "Parameters": {"StateMachineArn": child, "Name": "same"},
            "Catch": [{"ErrorEquals": ["StepFunctions.ExecutionAlreadyExistsException"], "ResultPath": "$.caught", "Next": "Caught"}],
            "End": true
        },
        "Caught": {"Type": "Pass", "End": true}
    }})
    .to_string();
    let machine = create(&app, "parent", &definition).await;
    let first = start(&app, &machine, "first", None).await;
    assert_eq!(closed(&app, &first).await["status"], "SUCCEEDED");
    // The child of that name has ended: a second start of it is refused, and caught.
    let second = start(&app, &machine, "second", None).await;
    let done = closed(&app, &second).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let caught = &parsed(&done["output"])["caught"];
    assert_eq!(
        caught["Error"],
        "StepFunctions.ExecutionAlreadyExistsException"
    );
    let cause = caught["Cause"].as_str().unwrap();
    assert!(
        cause.starts_with("Execution Already Exists: 'arn:aws:states:us-east-1:123456789012:execution:child:same' (Service: AWSStepFunctions; Status Code: 400; Error Code: ExecutionAlreadyExists; Request ID: "),
        "{cause}"
    );
    assert!(cause.ends_with("; Proxy: null)"), "{cause}");
    // A machine that does not exist.
    let missing = create(
        &app,
        "missing",
        &parent(
            "arn:aws:states:::states:startExecution",
            json!({"StateMachineArn": format!("{MACHINES}nope")}),
        ),
    )
    .await;
    let run = start(&app, &missing, "run", None).await;
    let done = closed(&app, &run).await;
    assert_eq!(
        done["error"],
        "StepFunctions.StateMachineDoesNotExistException"
    );
    let cause = done["cause"].as_str().unwrap();
    assert!(
        cause.starts_with(&format!("State Machine Does Not Exist: '{MACHINES}nope' (Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist; Request ID: ")),
        "{cause}"
    );
}

#[tokio::test]
async fn a_callback_task_waits_for_the_token_its_child_sends_back_through_aws_sdk_sfn() {
    let app = TestApp::spawn().await;
    // The child answers its parent's token itself.
    let child = create(
        &app,
        "answering",
        &json!({"StartAt": "Answer", "States": {
            "Answer": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
                "Parameters": {"TaskToken.$": "$.token", "Output.$": "States.JsonToString($.message)"},
                "End": true
            }
        }})
        .to_string(),
    )
    .await;
    let machine = create(
        &app,
        "parent",
        &json!({"StartAt": "Call", "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                "Parameters": {
                    "StateMachineArn": child,
                    "Input": {"token.$": "$$.Task.Token", "message": "test_message_txt",
                              "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}
                },
                "End": true
            }
        }})
        .to_string(),
    )
    .await;
    let run = start(&app, &machine, "run", None).await;
    let done = closed(&app, &run).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["output"], "\"test_message_txt\"");
    let events = history(&app, &run, json!({})).await;
    assert_eq!(
        kinds(&events),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let succeeded = details(&events, "TaskSucceeded");
    assert_eq!(succeeded["output"], "\"test_message_txt\"");
    assert_eq!(succeeded["resource"], "startExecution.waitForTaskToken");
    // The token in the parameters is the one the child got.
    let parameters = parsed(&details(&events, "TaskScheduled")["parameters"]);
    let token = parameters["Input"]["token"].as_str().unwrap().to_owned();
    assert!(!token.is_empty());
    // The token is answered: answering again is TaskTimedOut; an unknown one fails the
    // calling task with the SDK's error name.
    let (status, body, _) = app
        .call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{}"}),
        )
        .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("TaskTimedOut"))
    );
    let bad = create(
        &app,
        "bad",
        &json!({"StartAt": "Answer", "States": {
            "Answer": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
                "Parameters": {"TaskToken": "not-a-real-token", "Output": "{}"},
                "End": true
            }
        }})
        .to_string(),
    )
    .await;
    let run = start(&app, &bad, "run", None).await;
    let done = closed(&app, &run).await;
    assert_eq!(done["error"], "Sfn.InvalidTokenException");
    let cause = done["cause"].as_str().unwrap();
    assert!(
        cause.starts_with(
            "Invalid Token: 'Invalid token' (Service: Sfn, Status Code: 400, Request ID: "
        ),
        "{cause}"
    );
}

#[tokio::test]
async fn a_callback_token_answered_by_a_client_with_failure_reaches_the_catcher() {
    let app = TestApp::spawn().await;
    let child = create(
        &app,
        "holder",
        &json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}})
            .to_string(),
    )
    .await;
    let machine = create(
        &app,
        "parent",
        &json!({"StartAt": "Call", "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                "Parameters": {"StateMachineArn": child, "Name": "holder-run", "Input": {"token.$": "$$.Task.Token"}},
                "HeartbeatSeconds": 600,
                "Catch": [{"ErrorEquals": ["Failure error"], "Next": "Caught"}],
                "End": true
            },
            "Caught": {"Type": "Pass", "End": true}
        }})
        .to_string(),
    )
    .await;
    let run = start(&app, &machine, "run", None).await;
    // The client reads the token from the child's input, as a worker would from a queue.
    let child_run = "arn:aws:states:us-east-1:123456789012:execution:holder:holder-run";
    let token = loop {
        let (status, body, _) = app
            .call("DescribeExecution", json!({"executionArn": child_run}))
            .await;
        if status == 200 {
            break parsed(&body["input"])["token"].as_str().unwrap().to_owned();
        }
        tokio::task::yield_now().await;
    };
    let (status, _, _) = app
        .call("SendTaskHeartbeat", json!({"taskToken": token}))
        .await;
    assert_eq!(status, 200);
    let (status, body, _) = app
        .call(
            "SendTaskFailure",
            json!({"taskToken": token, "error": "Failure error", "cause": "Failure cause"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = closed(&app, &run).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(
        parsed(&done["output"]),
        json!({"Error": "Failure error", "Cause": "Failure cause"})
    );
    let events = history(&app, &run, json!({})).await;
    let failed = details(&events, "TaskFailed");
    assert_eq!(
        failed,
        &json!({"cause": "Failure cause", "error": "Failure error",
                "resource": "startExecution.waitForTaskToken", "resourceType": "states"})
    );
    let scheduled = details(&events, "TaskScheduled");
    assert_eq!(scheduled["heartbeatInSeconds"], 600);
}

#[tokio::test]
async fn stopping_a_sync_parent_stops_its_child() {
    let app = TestApp::spawn().await;
    let child = create(
        &app,
        "long",
        &json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}})
            .to_string(),
    )
    .await;
    let machine = create(
        &app,
        "parent",
        &parent(
            "arn:aws:states:::states:startExecution.sync:2",
            json!({"StateMachineArn": child, "Name": "long-run"}),
        ),
    )
    .await;
    let run = start(&app, &machine, "run", None).await;
    let child_run = "arn:aws:states:us-east-1:123456789012:execution:long:long-run";
    // Submitted: the child runs and the parent waits for it.
    loop {
        let events = history(&app, &run, json!({})).await;
        if kinds(&events).iter().any(|k| k == "TaskSubmitted") {
            break;
        }
        tokio::task::yield_now().await;
    }
    let (_, body, _) = app
        .call("DescribeExecution", json!({"executionArn": child_run}))
        .await;
    assert_eq!(body["status"], "RUNNING");
    let (status, _, _) = app
        .call("StopExecution", json!({"executionArn": run}))
        .await;
    assert_eq!(status, 200);
    let child_done = closed(&app, child_run).await;
    assert_eq!(child_done["status"], "ABORTED");
    let events = history(&app, child_run, json!({})).await;
    assert_eq!(kinds(&events).last().unwrap(), "ExecutionAborted");
}

#[tokio::test]
async fn a_sync_child_that_outlives_a_restart_still_answers_its_parent() {
    let mut app = TestApp::spawn_with(|c| c.time_scale = 0.01).await;
    let child = create(
        &app,
        "slow",
        &json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 100, "Next": "P"},
            "P": {"Type": "Pass", "Result": "done", "End": true}
        }})
        .to_string(),
    )
    .await;
    let machine = create(
        &app,
        "parent",
        &parent(
            "arn:aws:states:::states:startExecution.sync:2",
            json!({"StateMachineArn": child, "Name": "slow-run"}),
        ),
    )
    .await;
    let run = start(&app, &machine, "run", None).await;
    loop {
        let events = history(&app, &run, json!({})).await;
        if kinds(&events).iter().any(|k| k == "TaskSubmitted") {
            break;
        }
        tokio::task::yield_now().await;
    }
    app.restart().await;
    let done = closed(&app, &run).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(parsed(&done["output"])["Output"], "done");
    // One child, started once.
    let (_, listed, _) = app
        .call("ListExecutions", json!({"stateMachineArn": child}))
        .await;
    assert_eq!(listed["executions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn aws_sdk_sfn_describes_and_stops_executions_in_pascal_case() {
    let app = TestApp::spawn().await;
    let target = create(
        &app,
        "target",
        &json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}})
            .to_string(),
    )
    .await;
    let machine = create(
        &app,
        "driver",
        &json!({"StartAt": "Start", "States": {
            "Start": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sfn:startExecution",
                "Parameters": {"StateMachineArn": target, "Name": "t1", "Input": "{\"a\":1}"},
                "ResultPath": "$.started",
                "Next": "Describe"
            },
            "Describe": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sfn:describeExecution",
                "Parameters": {"ExecutionArn.$": "$.started.ExecutionArn"},
                "ResultSelector": {"Status.$": "$.Status", "Input.$": "$.Input", "Name.$": "$.Name"},
                "ResultPath": "$.described",
                "Next": "Stop"
            },
            "Stop": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sfn:stopExecution",
                "Parameters": {"ExecutionArn.$": "$.started.ExecutionArn", "Cause": "done with it"},
                "ResultPath": null,
                "Next": "Again"
            },
            "Again": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sfn:describeExecution",
                "Parameters": {"ExecutionArn.$": "$.started.ExecutionArn"},
                "ResultSelector": {"Status.$": "$.Status", "Cause.$": "$.Cause"},
                "ResultPath": "$.after",
                "End": true
            }
        }})
        .to_string(),
    )
    .await;
    let run = start(&app, &machine, "run", None).await;
    let done = closed(&app, &run).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let out = parsed(&done["output"]);
    assert_eq!(
        out["started"]["ExecutionArn"],
        "arn:aws:states:us-east-1:123456789012:execution:target:t1"
    );
    assert_eq!(
        out["described"],
        json!({"Status": "RUNNING", "Input": "{\"a\":1}", "Name": "t1"})
    );
    assert_eq!(
        out["after"],
        json!({"Status": "ABORTED", "Cause": "done with it"})
    );
    let events = history(&app, &run, json!({})).await;
    let scheduled = details(&events, "TaskScheduled");
    assert_eq!(scheduled["resource"], "startExecution");
    assert_eq!(scheduled["resourceType"], "aws-sdk:sfn");
}

#[tokio::test]
async fn aws_sdk_sfn_get_activity_task_takes_a_waiting_task_or_none() {
    let app = TestApp::spawn().await;
    app.call("CreateActivity", json!({"name": "work"})).await;
    let activity = "arn:aws:states:us-east-1:123456789012:activity:work";
    let worker = create(
        &app,
        "worker",
        &json!({"StartAt": "Get", "States": {
            "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:getActivityTask",
                    "Parameters": {"ActivityArn": activity, "WorkerName": "in-a-workflow"}, "End": true}}})
        .to_string(),
    )
    .await;
    // Nothing waiting: an answer without a task, at once.
    let run = start(&app, &worker, "empty", None).await;
    assert_eq!(closed(&app, &run).await["output"], "{}");
    // A task waiting: the workflow takes it, and the task's execution records the pickup.
    let waiting = create(
        &app,
        "waiting",
        &json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": activity, "End": true}}})
            .to_string(),
    )
    .await;
    let task_run = start(&app, &waiting, "task", Some(r#"{"job": 1}"#)).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let events = history(&app, &task_run, json!({})).await;
        if kinds(&events).iter().any(|k| k == "ActivityScheduled") {
            break;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::task::yield_now().await;
    }
    let run = start(&app, &worker, "full", None).await;
    let out = parsed(&closed(&app, &run).await["output"]);
    assert_eq!(out["Input"], r#"{"job":1}"#);
    let token = out["TaskToken"].as_str().unwrap();
    let (status, _, _) = app
        .call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "\"done\""}),
        )
        .await;
    assert_eq!(status, 200);
    let done = closed(&app, &task_run).await;
    assert_eq!(done["output"], "\"done\"");
    let events = history(&app, &task_run, json!({})).await;
    let started = details(&events, "ActivityStarted");
    assert_eq!(started, &json!({"workerName": "in-a-workflow"}));
}
