//! CreateActivity, DescribeActivity, DeleteActivity, ListActivities and activity tags,
//! against the recorded answers of executions-api.md §8.1.

use aws_sdk_sfn::types::Tag;
use serde_json::json;

use crate::helpers::*;

const PREFIX: &str = "arn:aws:states:us-east-1:123456789012:activity:";

#[tokio::test]
async fn an_activity_is_created_once_by_name_described_and_deleted_twice() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let created = c
        .create_activity()
        .name("work.queue-1_a")
        .tags(Tag::builder().key("team").value("core").build())
        .send()
        .await
        .unwrap();
    assert_eq!(created.activity_arn, format!("{PREFIX}work.queue-1_a"));
    // A repeat answers the same activity (tags ignored, not updated).
    let again = c
        .create_activity()
        .name("work.queue-1_a")
        .tags(Tag::builder().key("team").value("other").build())
        .send()
        .await
        .unwrap();
    assert_eq!(again.activity_arn, created.activity_arn);
    assert_eq!(again.creation_date, created.creation_date);
    let (status, body, _) = app
        .call(
            "DescribeActivity",
            json!({"activityArn": created.activity_arn}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "activityArn",
            "name",
            "creationDate",
            "encryptionConfiguration"
        ]
    );
    assert_eq!(
        body["encryptionConfiguration"],
        json!({"type": "AWS_OWNED_KEY"})
    );
    assert_eq!(body["name"], "work.queue-1_a");
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&created.activity_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags()
            .iter()
            .map(|t| (t.key(), t.value()))
            .collect::<Vec<_>>(),
        [(Some("team"), Some("core"))]
    );
    for _ in 0..2 {
        let (status, body, _) = app
            .call(
                "DeleteActivity",
                json!({"activityArn": created.activity_arn}),
            )
            .await;
        assert_eq!((status, body), (200, json!({})));
    }
    let gone = app
        .call(
            "DescribeActivity",
            json!({"activityArn": created.activity_arn}),
        )
        .await;
    assert_error(
        &gone,
        400,
        "ActivityDoesNotExist",
        &format!("Activity Does Not Exist: '{}'", created.activity_arn),
    );
}

#[tokio::test]
async fn names_and_arns_are_checked_as_aws_checks_them() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(80);
    let ok = app.call("CreateActivity", json!({"name": long})).await;
    assert_eq!(ok.0, 200);
    for bad in [
        "a b", "a<b", "a{b", "a?b", "a*b", "a\"b", "a#b", "a%b", "a\\b", "a^b", "a|b", "a~b",
        "a$b", "a&b", "a,b", "a;b", "a:b", "a/b", "a`b", "a\u{0}b", "a\u{1f}b", "a\u{7f}b",
    ] {
        let r = app.call("CreateActivity", json!({"name": bad})).await;
        assert_error(&r, 400, "InvalidName", &format!("Invalid Name: '{bad}'"));
    }
    let r = app
        .call(
            "DescribeActivity",
            json!({"activityArn": "no_an_activity_arn"}),
        )
        .await;
    assert_error(
        &r,
        400,
        "InvalidArn",
        "Invalid Arn: 'Invalid ARN prefix: no_an_activity_arn'",
    );
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
    let r = app
        .call("DescribeActivity", json!({"activityArn": machine}))
        .await;
    assert_error(
        &r,
        400,
        "InvalidArn",
        "Invalid Arn: 'Resource type not valid in this context: stateMachine'",
    );
    // Another account's activity does not exist for the caller.
    let other = "arn:aws:states:us-east-1:999999999999:activity:a";
    let r = app
        .call("DescribeActivity", json!({"activityArn": other}))
        .await;
    assert_error(
        &r,
        400,
        "ActivityDoesNotExist",
        &format!("Activity Does Not Exist: '{other}'"),
    );
}

#[tokio::test]
async fn another_encryption_for_a_taken_name_is_activity_already_exists() {
    let app = TestApp::spawn().await;
    app.call("CreateActivity", json!({"name": "enc"})).await;
    let r = app
        .call(
            "CreateActivity",
            json!({"name": "enc", "encryptionConfiguration": {"type": "CUSTOMER_MANAGED_KMS_KEY",
                "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k"}}),
        )
        .await;
    assert_eq!(r.1["__type"], "ActivityAlreadyExists");
    let r = app
        .call(
            "CreateActivity",
            json!({"name": "enc2", "encryptionConfiguration": {"type": "CUSTOMER_MANAGED_KMS_KEY"}}),
        )
        .await;
    assert_error(
        &r,
        400,
        "InvalidEncryptionConfiguration",
        "Invalid Encryption Configuration: kmsKeyId is required when type is CUSTOMER_MANAGED_KMS_KEY.",
    );
}

#[tokio::test]
async fn activities_list_by_name_in_pages_and_take_tags() {
    let app = TestApp::spawn().await;
    let c = app.client();
    for name in ["c", "a", "b"] {
        c.create_activity().name(name).send().await.unwrap();
    }
    let first = c.list_activities().max_results(2).send().await.unwrap();
    let names: Vec<&str> = first.activities().iter().map(|a| a.name()).collect();
    assert_eq!(names, ["a", "b"]);
    let rest = c
        .list_activities()
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = rest.activities().iter().map(|a| a.name()).collect();
    assert_eq!(names, ["c"]);
    assert_eq!(rest.next_token(), None);
    let arn = format!("{PREFIX}a");
    c.tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("k").value("v").build())
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("k")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(tags.tags().is_empty());
    let missing = app
        .call(
            "ListTagsForResource",
            json!({"resourceArn": format!("{PREFIX}nobody")}),
        )
        .await;
    assert_eq!(missing.1["__type"], "ResourceNotFound");
}

use crate::executions::{chain, closed, create, history, start};

/// A machine of one Task on activity `work`, with `extra` Task fields.
async fn activity_machine(app: &TestApp, name: &str, extra: serde_json::Value) -> String {
    app.call("CreateActivity", json!({"name": "work"})).await;
    let mut task = json!({"Type": "Task", "Resource": format!("{PREFIX}work"), "End": true});
    task.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    create(
        app,
        name,
        &json!({"StartAt": "ActivityTask", "States": {"ActivityTask": task}}).to_string(),
    )
    .await
}

/// GetActivityTask until a task comes: its token and input.
async fn take(app: &TestApp, worker: Option<&str>) -> (String, String) {
    let t = app
        .client()
        .get_activity_task()
        .activity_arn(format!("{PREFIX}work"))
        .set_worker_name(worker.map(str::to_owned))
        .send()
        .await
        .unwrap();
    (
        t.task_token.expect("a task"),
        t.input.expect("the task's input"),
    )
}

#[tokio::test]
async fn a_worker_takes_the_task_and_its_answer_completes_the_execution() {
    let app = TestApp::spawn().await;
    let machine = activity_machine(
        &app,
        "acts",
        json!({"TimeoutSeconds": 60, "HeartbeatSeconds": 10}),
    )
    .await;
    let e = start(&app, &machine, "one", Some(r#"{"Value1": "HelloWorld"}"#)).await;
    let (token, input) = take(&app, Some("w1")).await;
    assert_eq!(input, r#"{"Value1":"HelloWorld"}"#);
    app.client()
        .send_task_success()
        .task_token(&token)
        .output(r#"{"ok": 1}"#)
        .send()
        .await
        .unwrap();
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"], r#"{"ok":1}"#);
    // Recorded: activities/test_activities.py (success, with heartbeat).
    let events = history(&app, &e, json!({})).await;
    assert_eq!(
        chain(&events),
        [
            (1, "ExecutionStarted".into(), 0),
            (2, "TaskStateEntered".into(), 0),
            (3, "ActivityScheduled".into(), 2),
            (4, "ActivityStarted".into(), 3),
            (5, "ActivitySucceeded".into(), 4),
            (6, "TaskStateExited".into(), 5),
            (7, "ExecutionSucceeded".into(), 6)
        ]
    );
    assert_eq!(
        events[2]["activityScheduledEventDetails"],
        json!({"resource": format!("{PREFIX}work"), "input": "{\"Value1\":\"HelloWorld\"}",
               "inputDetails": {"truncated": false}, "timeoutInSeconds": 60, "heartbeatInSeconds": 10})
    );
    assert_eq!(
        events[3]["activityStartedEventDetails"],
        json!({"workerName": "w1"})
    );
    assert_eq!(
        events[4]["activitySucceededEventDetails"],
        json!({"output": "{\"ok\": 1}", "outputDetails": {"truncated": false}})
    );
    // The task is over: its token answers TaskTimedOut now.
    let again = app
        .call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{}"}),
        )
        .await;
    assert_eq!(again.1["__type"], "TaskTimedOut");
}

#[tokio::test]
async fn a_failure_fails_the_execution_with_the_workers_error_and_cause() {
    let app = TestApp::spawn().await;
    let machine = activity_machine(&app, "fails", json!({})).await;
    let e = start(&app, &machine, "one", None).await;
    let (token, _) = take(&app, None).await;
    app.client()
        .send_task_failure()
        .task_token(&token)
        .error("Programmatic Error")
        .cause("{\"why\": 1}")
        .send()
        .await
        .unwrap();
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "FAILED");
    assert_eq!(
        (d["error"].as_str(), d["cause"].as_str()),
        (Some("Programmatic Error"), Some("{\"why\": 1}"))
    );
    let events = history(&app, &e, json!({})).await;
    let kinds: Vec<String> = chain(&events).into_iter().map(|c| c.1).collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivityFailed",
            "ExecutionFailed"
        ]
    );
    // No worker name: empty details (recorded: test_activity_task_no_worker_name).
    assert_eq!(events[3]["activityStartedEventDetails"], json!({}));
    assert_eq!(
        events[4]["activityFailedEventDetails"],
        json!({"error": "Programmatic Error", "cause": "{\"why\": 1}"})
    );
}

#[tokio::test]
async fn a_workers_answer_records_what_follows_in_the_same_commit() {
    let app = TestApp::spawn().await;
    app.call("CreateActivity", json!({"name": "work"})).await;
    let definition = json!({"StartAt": "ActivityTask", "States": {
        "ActivityTask": {"Type": "Task", "Resource": format!("{PREFIX}work"), "Next": "After"},
        "After": {"Type": "Pass", "Result": "after", "End": true}}});
    let machine = create(&app, "inline", &definition.to_string()).await;
    let e = start(&app, &machine, "one", None).await;
    let (token, _) = take(&app, None).await;
    app.client()
        .send_task_success()
        .task_token(&token)
        .output("{}")
        .send()
        .await
        .unwrap();
    // No waiting for the runner: once SendTaskSuccess answered, the execution has ended.
    let (_, d, _) = app
        .call("DescribeExecution", json!({"executionArn": e}))
        .await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(d["output"], "\"after\"");
}

#[tokio::test]
async fn a_failure_without_error_or_cause_reaches_the_catcher_as_nulls() {
    let app = TestApp::spawn().await;
    app.call("CreateActivity", json!({"name": "work"})).await;
    let definition = json!({"StartAt": "ActivityTask", "States": {
        "ActivityTask": {"Type": "Task", "Resource": format!("{PREFIX}work"),
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
        "Caught": {"Type": "Pass", "End": true}}});
    let machine = create(&app, "bare-caught", &definition.to_string()).await;
    let e = start(&app, &machine, "one", None).await;
    let (token, _) = take(&app, None).await;
    app.client()
        .send_task_failure()
        .task_token(&token)
        .send()
        .await
        .unwrap();
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    // Recorded: callback/test_sqs_failure_in_wait_for_task_tok_no_error_field.
    assert_eq!(d["output"], r#"{"Error":null,"Cause":null}"#);
    let events = history(&app, &e, json!({})).await;
    assert_eq!(events[4]["activityFailedEventDetails"], json!({}));
}

#[tokio::test]
async fn heartbeats_keep_a_task_alive_and_a_silent_worker_times_out() {
    // 50 s × 0.01: a heartbeat is due within 500 ms. The worker beats every 20 ms for 800 ms
    // in all, longer than one heartbeat window, so only the heartbeats keep the task alive —
    // and a beat can be late by far more than a loaded machine delays it.
    let app = TestApp::spawn_with(|c| c.time_scale = 0.01).await;
    let machine = activity_machine(
        &app,
        "beats",
        json!({"TimeoutSeconds": 600, "HeartbeatSeconds": 50}),
    )
    .await;
    let alive = start(&app, &machine, "alive", None).await;
    let (token, _) = take(&app, None).await;
    let c = app.client();
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        c.send_task_heartbeat()
            .task_token(&token)
            .send()
            .await
            .unwrap();
    }
    c.send_task_success()
        .task_token(&token)
        .output("\"done\"")
        .send()
        .await
        .unwrap();
    assert_eq!(closed(&app, &alive).await["status"], "SUCCEEDED");
    let silent = start(&app, &machine, "silent", None).await;
    let (token, _) = take(&app, None).await;
    let d = closed(&app, &silent).await;
    assert_eq!(
        (d["status"].as_str(), d["error"].as_str()),
        (Some("FAILED"), Some("States.Timeout"))
    );
    let events = history(&app, &silent, json!({})).await;
    assert_eq!(events[4]["type"], "ActivityTimedOut");
    assert_eq!(
        events[4]["activityTimedOutEventDetails"],
        json!({"error": "States.Timeout"})
    );
    let late = app
        .call("SendTaskHeartbeat", json!({"taskToken": token}))
        .await;
    assert_eq!(late.1["__type"], "TaskTimedOut");
}

#[tokio::test]
async fn tokens_and_outputs_are_checked_as_aws_checks_them() {
    let app = TestApp::spawn_with(|c| c.time_scale = 0.01).await;
    let r = app
        .call(
            "SendTaskSuccess",
            json!({"taskToken": "nope", "output": "{}"}),
        )
        .await;
    assert_error(&r, 400, "InvalidToken", "Invalid Token: 'Invalid token'");
    let r = app
        .call("SendTaskFailure", json!({"taskToken": "nope"}))
        .await;
    assert_error(&r, 400, "InvalidToken", "Invalid Token: 'Invalid token'");
    let machine = activity_machine(&app, "checks", json!({})).await;
    start(&app, &machine, "one", None).await;
    let (token, _) = take(&app, None).await;
    let r = app
        .call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{nope"}),
        )
        .await;
    assert_eq!(r.1["__type"], "InvalidOutput");
    // Nothing waits now: the long poll (60 s × 0.01) ends without a token.
    let (status, body, _) = app
        .call(
            "GetActivityTask",
            json!({"activityArn": format!("{PREFIX}work")}),
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    let r = app
        .call(
            "GetActivityTask",
            json!({"activityArn": format!("{PREFIX}nobody")}),
        )
        .await;
    assert_error(
        &r,
        400,
        "ActivityDoesNotExist",
        &format!("Activity Does Not Exist: '{PREFIX}nobody'"),
    );
}

#[tokio::test]
async fn a_pending_task_survives_restarts_and_its_worker_still_completes_it() {
    let mut app = TestApp::spawn().await;
    let machine = activity_machine(&app, "durable", json!({"ResultPath": "$.r"})).await;
    let e = start(&app, &machine, "one", Some(r#"{"n": 1}"#)).await;
    app.restart().await;
    let (token, _) = take(&app, Some("w")).await;
    app.restart().await;
    app.client()
        .send_task_success()
        .task_token(&token)
        .output("[1, 2]")
        .send()
        .await
        .unwrap();
    let d = closed(&app, &e).await;
    assert_eq!(d["output"], r#"{"n":1,"r":[1,2]}"#);
    let kinds: Vec<String> = chain(&history(&app, &e, json!({})).await)
        .into_iter()
        .map(|c| c.1)
        .collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[tokio::test]
async fn a_long_poll_outlasts_the_request_timeout_and_answers_without_a_task() {
    // A 1.8 s long poll (60 s × 0.03), which looks again after 1 s, against a 200 ms request
    // timeout: the second look comes after the request's deadline.
    let app = TestApp::spawn_with(|c| {
        c.time_scale = 0.03;
        c.request_timeout_ms = 200;
    })
    .await;
    app.call("CreateActivity", json!({"name": "work"})).await;
    let started = std::time::Instant::now();
    let (status, body, _) = app
        .call(
            "GetActivityTask",
            json!({"activityArn": format!("{PREFIX}work")}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({}));
    assert!(started.elapsed() >= std::time::Duration::from_millis(1700));
}
