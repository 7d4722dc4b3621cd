//! Distributed Map through the service: each item runs as a child execution of a map run;
//! the parent's history shows only MapRun* events (asl-semantics.md §6.3, recorded in
//! LocalStack's `test_map_state_label` and `test_sfn_api_map_run.py` snapshots), and
//! DescribeMapRun, ListMapRuns, UpdateMapRun and ListExecutions(mapRunArn) show the run.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::executions::{chain, closed, create, history, kinds, parsed, start};
use crate::helpers::TestApp;

const ACTIVITY: &str = "arn:aws:states:us-east-1:123456789012:activity:item";

fn distributed(processor: Value, extra: Value) -> String {
    let mut map = json!({
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Item",
            "States": {"Item": processor}
        },
        "End": true
    });
    map.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"StartAt": "Map", "States": {"Map": map}}).to_string()
}

fn pass() -> Value {
    json!({"Type": "Pass", "End": true})
}

async fn map_run_of(app: &TestApp, execution: &str) -> String {
    let (status, body, _) = app
        .call("ListMapRuns", json!({"executionArn": execution}))
        .await;
    assert_eq!(status, 200, "{body}");
    body["mapRuns"][0]["mapRunArn"]
        .as_str()
        .expect("a map run")
        .to_owned()
}

async fn describe_run(app: &TestApp, run: &str) -> Value {
    let (status, body, _) = app.call("DescribeMapRun", json!({"mapRunArn": run})).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Polls DescribeMapRun until `done` holds of it (bounded: a hang fails the test).
async fn run_until(app: &TestApp, run: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = describe_run(app, run).await;
        if done(&d) {
            return d;
        }
        assert!(Instant::now() < deadline, "map run not there yet: {d}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_distributed_map_runs_each_item_as_a_child_and_shows_only_map_run_events() {
    let app = TestApp::spawn().await;
    let m = create(
        &app,
        "dist",
        &distributed(pass(), json!({"Label": "TestMap", "MaxConcurrency": 1})),
    )
    .await;
    let e = start(&app, &m, "run", Some(r#"{"items":["Hello","World"]}"#)).await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(parsed(&d["output"]), json!(["Hello", "World"]));
    let h = history(&app, &e, json!({})).await;
    assert_eq!(
        chain(&h),
        [
            (1, "ExecutionStarted".to_owned(), 0),
            (2, "MapStateEntered".to_owned(), 0),
            (3, "MapStateStarted".to_owned(), 2),
            (4, "MapRunStarted".to_owned(), 3),
            (5, "MapRunSucceeded".to_owned(), 4),
            (6, "MapStateSucceeded".to_owned(), 5),
            (7, "MapStateExited".to_owned(), 5),
            (8, "ExecutionSucceeded".to_owned(), 7),
        ]
    );
    assert_eq!(h[2]["mapStateStartedEventDetails"]["length"], 2);
    let run = h[3]["mapRunStartedEventDetails"]["mapRunArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let prefix = "arn:aws:states:us-east-1:123456789012:mapRun:dist/TestMap:";
    assert!(run.starts_with(prefix), "{run}");
    assert_eq!(
        run.len(),
        prefix.len() + 36,
        "a UUID follows the label: {run}"
    );

    let (_, list, _) = app.call("ListMapRuns", json!({"executionArn": e})).await;
    let runs = list["mapRuns"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["mapRunArn"], json!(run));
    assert_eq!(runs[0]["executionArn"], json!(e));
    assert_eq!(
        runs[0]["stateMachineArn"],
        "arn:aws:states:us-east-1:123456789012:stateMachine:dist/TestMap"
    );
    assert!(runs[0]["startDate"].is_number() && runs[0]["stopDate"].is_number());

    // As recorded: both counts the same, results written for each child.
    let d = describe_run(&app, &run).await;
    let counts = json!({"aborted": 0, "failed": 0, "pending": 0, "resultsWritten": 2,
        "running": 0, "succeeded": 2, "timedOut": 0, "total": 2,
        "failuresNotRedrivable": 0, "pendingRedrive": 0});
    assert_eq!(d["itemCounts"], counts);
    assert_eq!(d["executionCounts"], counts);
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["executionArn"], json!(e));
    assert_eq!(d["maxConcurrency"], 1);
    assert_eq!(d["toleratedFailureCount"], 0);
    assert_eq!(d["toleratedFailurePercentage"], 0.0);

    let (status, children, _) = app.call("ListExecutions", json!({"mapRunArn": run})).await;
    assert_eq!(status, 200, "{children}");
    let children = children["executions"].as_array().unwrap().clone();
    assert_eq!(children.len(), 2);
    for c in &children {
        assert_eq!(c["mapRunArn"], json!(run));
        assert_eq!(c["itemCount"], 1);
        assert_eq!(c["status"], "SUCCEEDED");
        assert_eq!(
            c["stateMachineArn"],
            "arn:aws:states:us-east-1:123456789012:stateMachine:dist/TestMap"
        );
        let arn = c["executionArn"].as_str().unwrap();
        assert!(
            arn.starts_with("arn:aws:states:us-east-1:123456789012:execution:dist/TestMap:"),
            "{arn}"
        );
    }
    // Each child is an execution of its own, with its own history and description.
    let mut inputs = Vec::new();
    for c in &children {
        let arn = c["executionArn"].as_str().unwrap();
        let (_, d, _) = app
            .call("DescribeExecution", json!({"executionArn": arn}))
            .await;
        assert_eq!(d["mapRunArn"], json!(run));
        assert_eq!(d["input"], d["output"]);
        // The child's state machine is the Map state's ItemProcessor.
        let (_, sm, _) = app
            .call(
                "DescribeStateMachineForExecution",
                json!({"executionArn": arn}),
            )
            .await;
        assert_eq!(sm["mapRunArn"], json!(run));
        assert_eq!(sm["label"], "TestMap");
        assert_eq!(parsed(&sm["definition"])["StartAt"], "Item", "{sm}");
        inputs.push(parsed(&d["input"]));
        assert_eq!(
            kinds(&history(&app, arn, json!({})).await),
            [
                "ExecutionStarted",
                "PassStateEntered",
                "PassStateExited",
                "ExecutionSucceeded"
            ]
        );
    }
    inputs.sort_by_key(|v| v.to_string());
    assert_eq!(inputs, [json!("Hello"), json!("World")]);
}

#[tokio::test]
async fn a_failing_child_fails_the_run_beyond_its_tolerance_and_the_parent_can_catch_it() {
    let app = TestApp::spawn().await;
    // Fails on items named "bad".
    let processor = json!({"Type": "Choice",
        "Choices": [{"Variable": "$", "StringEquals": "bad", "Next": "Boom"}],
        "Default": "Fine"});
    let def = |extra: Value| {
        let mut d: Value = serde_json::from_str(&distributed(processor.clone(), extra)).unwrap();
        let states = d["States"]["Map"]["ItemProcessor"]["States"]
            .as_object_mut()
            .unwrap();
        states.insert(
            "Boom".into(),
            json!({"Type": "Fail", "Error": "Bad", "Cause": "bad item"}),
        );
        states.insert("Fine".into(), json!({"Type": "Succeed"}));
        d.to_string()
    };
    let strict = create(&app, "strict", &def(json!({}))).await;
    let e = start(&app, &strict, "run", Some(r#"{"items":["a","bad","c"]}"#)).await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.ExceedToleratedFailureThreshold");
    assert_eq!(
        d["cause"],
        "The specified tolerated failure threshold was exceeded"
    );
    let h = history(&app, &e, json!({})).await;
    let failed = h.iter().find(|ev| ev["type"] == "MapRunFailed").unwrap();
    assert_eq!(
        failed["mapRunFailedEventDetails"],
        json!({"error": "States.ExceedToleratedFailureThreshold",
               "cause": "The specified tolerated failure threshold was exceeded"})
    );
    assert_eq!(
        kinds(&h)[3..],
        [
            "MapRunStarted",
            "MapRunFailed",
            "MapStateFailed",
            "ExecutionFailed"
        ]
    );
    let run = map_run_of(&app, &e).await;
    let r = describe_run(&app, &run).await;
    assert_eq!(r["status"], "FAILED");
    assert!(r["executionCounts"]["failed"].as_u64().unwrap() >= 1, "{r}");

    // One failure of three is tolerated by a count of 1 and by 34 %; the run succeeds and the
    // failed item's place holds its error.
    for (name, extra) in [
        ("count", json!({"ToleratedFailureCount": 1})),
        ("share", json!({"ToleratedFailurePercentage": 34})),
    ] {
        let m = create(&app, name, &def(extra)).await;
        let e = start(&app, &m, "run", Some(r#"{"items":["a","bad","c"]}"#)).await;
        let d = closed(&app, &e).await;
        assert_eq!(d["status"], "SUCCEEDED", "{name}: {d}");
        assert_eq!(
            parsed(&d["output"]),
            json!(["a", {"Error": "Bad", "Cause": "bad item"}, "c"]),
            "{name}"
        );
        let r = describe_run(&app, &map_run_of(&app, &e).await).await;
        assert_eq!(r["executionCounts"]["failed"], 1, "{name}: {r}");
        assert_eq!(r["executionCounts"]["succeeded"], 2, "{name}: {r}");
    }

    // A catcher on the Map state handles the run's failure.
    let mut caught: Value = serde_json::from_str(&def(json!({}))).unwrap();
    caught["States"]["Map"]["Catch"] =
        json!([{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "Handled"}]);
    caught["States"]["Handled"] = json!({"Type": "Pass", "End": true});
    let m = create(&app, "caught", &caught.to_string()).await;
    let e = start(&app, &m, "run", Some(r#"{"items":["bad"]}"#)).await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(
        parsed(&d["output"])["Error"],
        "States.ExceedToleratedFailureThreshold"
    );
}

#[tokio::test]
async fn bad_tolerated_failure_values_fail_at_run_time_with_the_recorded_texts() {
    let app = TestApp::spawn().await;
    for (name, extra, input, cause) in [
        (
            "count-path",
            json!({"ToleratedFailureCountPath": "$.ToleratedFailureCount"}),
            json!({"items": [1], "ToleratedFailureCount": {}}),
            "The ToleratedFailureCountPath field refers to value \"{}\" which is not a valid integer: $.ToleratedFailureCount",
        ),
        (
            "count-negative",
            json!({"ToleratedFailureCountPath": "$.ToleratedFailureCount"}),
            json!({"items": [1], "ToleratedFailureCount": -1}),
            "ToleratedFailureCount cannot be negative.",
        ),
        (
            "share-path",
            json!({"ToleratedFailurePercentagePath": "$.ToleratedFailurePercentage"}),
            json!({"items": [1], "ToleratedFailurePercentage": "NoNumber"}),
            "The ToleratedFailurePercentagePath field refers to value \"NoNumber\" which is not a valid float: $.ToleratedFailurePercentage",
        ),
        (
            "share-range",
            json!({"ToleratedFailurePercentagePath": "$.ToleratedFailurePercentage"}),
            json!({"items": [1], "ToleratedFailurePercentage": 100.1}),
            "ToleratedFailurePercentage must be between 0 and 100.",
        ),
    ] {
        let m = create(&app, name, &distributed(pass(), extra)).await;
        let e = start(&app, &m, "run", Some(&input.to_string())).await;
        let d = closed(&app, &e).await;
        assert_eq!(d["status"], "FAILED", "{name}: {d}");
        assert_eq!(d["error"], "States.Runtime", "{name}");
        assert_eq!(
            d["cause"],
            format!("An error occurred while executing the state 'Map' (entered at the event id #2). {cause}"),
            "{name}"
        );
        let h = history(&app, &e, json!({})).await;
        assert!(
            !kinds(&h).contains(&"MapRunStarted".to_owned()),
            "{name}: no run starts"
        );
    }
}

#[tokio::test]
async fn express_children_have_express_arns_and_can_be_described() {
    let app = TestApp::spawn().await;
    let mut d: Value = serde_json::from_str(&distributed(
        json!({"Type": "Pass", "Parameters": {"n.$": "$"}, "End": true}),
        json!({}),
    ))
    .unwrap();
    d["States"]["Map"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = json!("EXPRESS");
    let m = create(&app, "fast", &d.to_string()).await;
    let e = start(&app, &m, "run", Some(r#"{"items":[1,2,3]}"#)).await;
    let out = closed(&app, &e).await;
    assert_eq!(out["status"], "SUCCEEDED", "{out}");
    assert_eq!(
        parsed(&out["output"]),
        json!([{"n": 1}, {"n": 2}, {"n": 3}])
    );
    let run = map_run_of(&app, &e).await;
    let (_, children, _) = app.call("ListExecutions", json!({"mapRunArn": run})).await;
    let children = children["executions"].as_array().unwrap();
    assert_eq!(children.len(), 3);
    // Without a Label the run's label is a generated UUID.
    let label = run.split('/').nth(1).unwrap().split(':').next().unwrap();
    assert_eq!(label.len(), 36, "{run}");
    for c in children {
        let arn = c["executionArn"].as_str().unwrap();
        assert!(
            arn.starts_with(&format!(
                "arn:aws:states:us-east-1:123456789012:express:fast/{label}:"
            )),
            "{arn}"
        );
        let (status, d, _) = app
            .call("DescribeExecution", json!({"executionArn": arn}))
            .await;
        assert_eq!(status, 200, "{d}");
        assert_eq!(d["status"], "SUCCEEDED");
        assert_eq!(d["mapRunArn"], json!(run));
    }
}

#[tokio::test]
async fn max_concurrency_bounds_running_children_and_update_map_run_raises_it() {
    let app = TestApp::spawn().await;
    app.call("CreateActivity", json!({"name": "item"})).await;
    let m = create(
        &app,
        "bounded",
        &distributed(
            json!({"Type": "Task", "Resource": ACTIVITY, "End": true}),
            json!({"MaxConcurrency": 1}),
        ),
    )
    .await;
    let e = start(&app, &m, "run", Some(r#"{"items":[1,2,3,4]}"#)).await;
    let run = loop {
        let (_, list, _) = app.call("ListMapRuns", json!({"executionArn": e})).await;
        if let Some(r) = list["mapRuns"][0]["mapRunArn"].as_str() {
            break r.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let d = run_until(&app, &run, |d| d["executionCounts"]["running"] == 1).await;
    assert_eq!(d["executionCounts"]["pending"], 3, "{d}");
    assert_eq!(d["status"], "RUNNING");
    // Answer the first child: only then does the next one start.
    let token = crate::redrive::take_from(&app, ACTIVITY).await;
    app.call(
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "\"one\""}),
    )
    .await;
    let d = run_until(&app, &run, |d| d["executionCounts"]["succeeded"] == 1).await;
    assert!(
        d["executionCounts"]["running"].as_u64().unwrap() <= 1,
        "{d}"
    );

    // None of the three limits: the model's reason says which rule was broken.
    let (status, body, _) = app.call("UpdateMapRun", json!({"mapRunArn": run})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["__type"], "ValidationException");
    assert_eq!(body["reason"], "MISSING_REQUIRED_PARAMETER");
    let (status, body, _) = app
        .call(
            "UpdateMapRun",
            json!({"mapRunArn": run, "maxConcurrency": 3}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let d = run_until(&app, &run, |d| d["executionCounts"]["running"] == 3).await;
    assert_eq!(d["maxConcurrency"], 3);
    assert_eq!(d["executionCounts"]["pending"], 0, "{d}");

    // Stopping the parent aborts the run and its running children.
    app.call("StopExecution", json!({"executionArn": e})).await;
    let d = run_until(&app, &run, |d| d["status"] != "RUNNING").await;
    assert_eq!(d["status"], "ABORTED", "{d}");
    assert_eq!(d["executionCounts"]["aborted"], 3, "{d}");
    assert_eq!(d["executionCounts"]["running"], 0, "{d}");
    let (_, children, _) = app
        .call(
            "ListExecutions",
            json!({"mapRunArn": run, "statusFilter": "ABORTED"}),
        )
        .await;
    assert_eq!(children["executions"].as_array().unwrap().len(), 3);
    let (status, body, _) = app
        .call(
            "UpdateMapRun",
            json!({"mapRunArn": run, "maxConcurrency": 5}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["reason"], "CANNOT_UPDATE_COMPLETED_MAP_RUN");
}

#[tokio::test]
async fn a_map_run_with_waiting_children_finishes_after_a_restart() {
    let mut app = TestApp::spawn_with(|c| c.time_scale = 0.02).await;
    let m = create(
        &app,
        "durable",
        &distributed(
            json!({"Type": "Wait", "Seconds": 10, "End": true}),
            json!({"MaxConcurrency": 2}),
        ),
    )
    .await;
    let e = start(&app, &m, "run", Some(r#"{"items":[1,2,3,4,5]}"#)).await;
    let run = map_run_of(&app, &e).await;
    app.restart().await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(parsed(&d["output"]), json!([1, 2, 3, 4, 5]));
    let r = describe_run(&app, &run).await;
    assert_eq!(r["executionCounts"]["succeeded"], 5, "{r}");
    assert_eq!(r["executionCounts"]["total"], 5, "{r}");
}

#[tokio::test]
async fn unknown_map_runs_are_resource_not_found() {
    let app = TestApp::spawn().await;
    let arn =
        "arn:aws:states:us-east-1:123456789012:mapRun:m/l:5a4f0a3e-0000-4000-8000-000000000000";
    for (op, body) in [
        ("DescribeMapRun", json!({"mapRunArn": arn})),
        (
            "UpdateMapRun",
            json!({"mapRunArn": arn, "maxConcurrency": 1}),
        ),
        ("ListExecutions", json!({"mapRunArn": arn})),
    ] {
        let (status, body, _) = app.call(op, body).await;
        assert_eq!(status, 400, "{op}: {body}");
        assert_eq!(body["__type"], "ResourceNotFound", "{op}");
        assert_eq!(body["message"], format!("Resource not found: '{arn}'"));
    }
    let (status, body, _) = app
        .call(
            "ListMapRuns",
            json!({"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:none"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "ExecutionDoesNotExist");
}

#[tokio::test]
async fn an_item_batcher_hands_each_child_a_batch_with_its_batch_input() {
    let app = TestApp::spawn().await;
    let m = create(
        &app,
        "batched",
        &distributed(
            pass(),
            json!({"ItemBatcher": {"MaxItemsPerBatch": 2,
                                   "BatchInput": {"job.$": "$.job", "fixed": 1}}}),
        ),
    )
    .await;
    let e = start(&app, &m, "run", Some(r#"{"job":"j1","items":[1,2,3,4,5]}"#)).await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let batch = |items: Value| json!({"BatchInput": {"job": "j1", "fixed": 1}, "Items": items});
    assert_eq!(
        parsed(&d["output"]),
        json!([
            batch(json!([1, 2])),
            batch(json!([3, 4])),
            batch(json!([5]))
        ])
    );
    let h = history(&app, &e, json!({})).await;
    assert_eq!(h[2]["mapStateStartedEventDetails"]["length"], 5);
    let run = map_run_of(&app, &e).await;
    let r = describe_run(&app, &run).await;
    // Three children hold the five items.
    assert_eq!(r["executionCounts"]["total"], 3, "{r}");
    assert_eq!(r["executionCounts"]["succeeded"], 3, "{r}");
    assert_eq!(r["itemCounts"]["total"], 5, "{r}");
    assert_eq!(r["itemCounts"]["succeeded"], 5, "{r}");
    let (_, children, _) = app.call("ListExecutions", json!({"mapRunArn": run})).await;
    let mut counts: Vec<u64> = children["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["itemCount"].as_u64().unwrap())
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, [1, 2, 2]);

    // A byte limit cuts batches too: each item here is 12 bytes with its comma.
    let m = create(
        &app,
        "by-bytes",
        &distributed(
            pass(),
            json!({"ItemBatcher": {"MaxInputBytesPerBatchPath": "$.bytes"}}),
        ),
    )
    .await;
    let e = start(
        &app,
        &m,
        "run",
        Some(r#"{"bytes":40,"items":["aaaaaaaaa","bbbbbbbbb","ccccccccc"]}"#),
    )
    .await;
    let d = closed(&app, &e).await;
    assert_eq!(
        parsed(&d["output"]),
        json!([{"Items": ["aaaaaaaaa", "bbbbbbbbb"]}, {"Items": ["ccccccccc"]}]),
        "{d}"
    );
}

/// Answers an activity task: succeeded with `out`, or failed (`Flaky`) without.
async fn answer(app: &TestApp, token: String, out: Option<&str>) {
    let (status, body, _) = match out {
        Some(o) => {
            app.call("SendTaskSuccess", json!({"taskToken": token, "output": o}))
                .await
        }
        None => {
            app.call(
                "SendTaskFailure",
                json!({"taskToken": token, "error": "Flaky", "cause": "once"}),
            )
            .await
        }
    };
    assert_eq!(status, 200, "{body}");
}

/// The next activity task: its token and input (bounded wait).
async fn next_task(app: &TestApp) -> (String, Value) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body, _) = app
            .call("GetActivityTask", json!({"activityArn": ACTIVITY}))
            .await;
        if let Some(t) = body["taskToken"].as_str() {
            return (t.to_owned(), parsed(&body["input"]));
        }
        assert!(Instant::now() < deadline, "no activity task came");
    }
}

#[tokio::test]
async fn redriving_the_parent_redrives_its_failed_map_run_and_reruns_only_what_did_not_succeed() {
    let app = TestApp::spawn_with(|c| c.time_scale = 0.01).await;
    app.call("CreateActivity", json!({"name": "item"})).await;
    let task = json!({"Type": "Task", "Resource": ACTIVITY, "End": true});
    let m = create(
        &app,
        "redrive-map",
        &distributed(task, json!({"MaxConcurrency": 1})),
    )
    .await;
    let e = start(&app, &m, "run", Some(r#"{"items": [1, 2, 3]}"#)).await;
    // Item 1 succeeds, item 2 fails: the run fails, item 3 never started.
    let (t, input) = next_task(&app).await;
    assert_eq!(input, json!(1));
    answer(&app, t, Some("\"one\"")).await;
    let (t, input) = next_task(&app).await;
    assert_eq!(input, json!(2));
    answer(&app, t, None).await;
    let failed = closed(&app, &e).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(failed["error"], "States.ExceedToleratedFailureThreshold");
    let run = map_run_of(&app, &e).await;
    let (_, children, _) = app.call("ListExecutions", json!({"mapRunArn": run})).await;
    let failed_child = children["executions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "FAILED")
        .unwrap()["executionArn"]
        .clone();
    // A child is redriven through its run, not by itself.
    let (_, child, _) = app
        .call("DescribeExecution", json!({"executionArn": failed_child}))
        .await;
    assert_eq!(child["redriveStatus"], "REDRIVABLE_BY_MAP_RUN", "{child}");
    let (status, body, _) = app
        .call("RedriveExecution", json!({"executionArn": failed_child}))
        .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("ExecutionNotRedrivable"))
    );

    let (status, body, _) = app
        .call("RedriveExecution", json!({"executionArn": e}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (t, input) = next_task(&app).await;
    assert_eq!(input, json!(2));
    answer(&app, t, Some("\"two\"")).await;
    let (t, input) = next_task(&app).await;
    assert_eq!(input, json!(3));
    answer(&app, t, Some("\"three\"")).await;
    let done = closed(&app, &e).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(parsed(&done["output"]), json!(["one", "two", "three"]));

    let events = history(&app, &e, json!({})).await;
    let ks = kinds(&events);
    let redriven = ks.iter().position(|k| *k == "ExecutionRedriven").unwrap();
    assert_eq!(
        &ks[redriven..],
        [
            "ExecutionRedriven",
            "MapRunRedriven",
            "MapRunSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(
        events[redriven + 1]["mapRunRedrivenEventDetails"],
        json!({"mapRunArn": run, "redriveCount": 1})
    );
    chain(&events);
    let described = describe_run(&app, &run).await;
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    assert_eq!(described["redriveCount"], 1);
    assert!(described["redriveDate"].is_number(), "{described}");
    assert_eq!(described["executionCounts"]["succeeded"], 3);
    assert_eq!(described["executionCounts"]["total"], 3);
    // Three children in all: the failed one ran again under its own ARN.
    let (_, children, _) = app.call("ListExecutions", json!({"mapRunArn": run})).await;
    let children = children["executions"].as_array().unwrap();
    assert_eq!(children.len(), 3);
    let again: Vec<_> = children.iter().filter(|c| c["redriveCount"] == 1).collect();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["executionArn"], failed_child);
}

#[tokio::test]
async fn a_result_writer_without_a_resource_transforms_the_results_in_place() {
    let app = TestApp::spawn().await;
    let pair = json!({"Type": "Pass", "Parameters": {"v.$": "States.Array($, $)"}, "OutputPath": "$.v", "End": true});
    for (transformation, expected) in [
        ("COMPACT", json!([[1, 1], [2, 2]])),
        ("FLATTEN", json!([1, 1, 2, 2])),
    ] {
        let m = create(
            &app,
            &format!("writer-{transformation}"),
            &distributed(
                pair.clone(),
                json!({"ResultWriter": {"WriterConfig": {"Transformation": transformation, "OutputType": "JSON"}}}),
            ),
        )
        .await;
        let e = start(&app, &m, "run", Some(r#"{"items": [1, 2]}"#)).await;
        let done = closed(&app, &e).await;
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        assert_eq!(parsed(&done["output"]), expected, "{transformation}");
    }
    let m = create(
        &app,
        "writer-none",
        &distributed(
            pass(),
            json!({"ResultWriter": {"WriterConfig": {"Transformation": "NONE"}}}),
        ),
    )
    .await;
    let e = start(&app, &m, "run", Some(r#"{"items": ["a"]}"#)).await;
    let done = closed(&app, &e).await;
    let out = parsed(&done["output"]);
    assert_eq!(out[0]["Status"], "SUCCEEDED", "{out}");
    assert_eq!(out[0]["Output"], "\"a\"");
    assert_eq!(out[0]["Input"], "\"a\"");
}
