//! JSONata states through the SDK: Output, Assign, Arguments, Choice conditions, Fail and
//! Wait fields and catchers, with `$states.input`, `$states.result`, `$states.errorOutput`,
//! `$states.context` and variables, and `States.QueryEvaluationError` with AWS's texts
//! (asl-semantics.md §8; LocalStack's recorded `query_language/`, `assign/` and
//! `evaluate_jsonata/` snapshots).

use serde_json::{json, Value};

use crate::executions::{closed, create, history, start};
use crate::helpers::TestApp;

fn machine(states: Value) -> String {
    json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": states}).to_string()
}

fn output(d: &Value) -> Value {
    serde_json::from_str(d["output"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn output_and_assign_templates_evaluate_only_their_expressions_in_key_order() {
    let app = TestApp::spawn().await;
    let m = create(
        &app,
        "templates",
        &machine(json!({
            "P": {"Type": "Pass",
                  "Assign": {"x": "{% $states.input.a + 1 %}", "lit": "$states.input"},
                  "Output": {"sum": "{% $states.input.a * 2 %}", "lit": "$states.input",
                             "spaced": " {% 1 %} ", "name": ["{% $states.context.Execution.Name %}"],
                             "z": 1, "a": 2},
                  "Next": "Q"},
            "Q": {"Type": "Pass", "Output": "{% [$x, $lit, $states.input.sum] %}", "End": true}
        })),
    )
    .await;
    let e = start(&app, &m, "run", Some(r#"{"a": 2}"#)).await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(output(&d), json!([3, "$states.input", 4]));
    let events = history(&app, &e, json!({})).await;
    let exited = &events[2]["stateExitedEventDetails"];
    assert_eq!(
        exited["output"],
        r#"{"sum":4,"lit":"$states.input","spaced":" {% 1 %} ","name":["run"],"z":1,"a":2}"#
    );
    assert_eq!(
        exited["assignedVariables"],
        json!({"lit": "\"$states.input\"", "x": "3"})
    );
}

#[tokio::test]
async fn choice_conditions_pick_the_rule_and_its_output_and_assign() {
    let app = TestApp::spawn().await;
    let m = create(
        &app,
        "choices",
        &machine(json!({
            "P": {"Type": "Choice", "Choices": [
                    {"Condition": "{% $states.input.n > 10 %}", "Next": "Big", "Output": {"size": "big"}},
                    {"Condition": "{% $states.input.n > 1 %}", "Next": "Small", "Assign": {"seen": "{% $states.input.n %}"}}
                  ], "Default": "Big"},
            "Big": {"Type": "Succeed"},
            "Small": {"Type": "Pass", "Output": "{% 'small ' & $seen %}", "End": true}
        })),
    )
    .await;
    let e = start(&app, &m, "big", Some(r#"{"n": 20}"#)).await;
    assert_eq!(output(&closed(&app, &e).await), json!({"size": "big"}));
    let e = start(&app, &m, "small", Some(r#"{"n": 5}"#)).await;
    assert_eq!(output(&closed(&app, &e).await), json!("small 5"));
    let e = start(&app, &m, "default", Some(r#"{"n": 0}"#)).await;
    assert_eq!(output(&closed(&app, &e).await), json!({"n": 0}));
}

#[tokio::test]
async fn an_undefined_result_fails_the_state_with_the_recorded_text() {
    let app = TestApp::spawn().await;
    let m = create(
        &app,
        "undefined",
        &machine(json!({
            "P": {"Type": "Pass", "Output": {"v": "{% $states.input.missing %}"}, "End": true}
        })),
    )
    .await;
    let e = start(&app, &m, "run", None).await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "FAILED");
    assert_eq!(d["error"], "States.QueryEvaluationError");
    assert_eq!(
        d["cause"],
        "An error occurred while executing the state 'P' (entered at the event id #2). The JSONata expression '$states.input.missing' specified for the field 'Output/v' returned nothing (undefined)."
    );
    // Recorded: EvaluationFailed (after what the Entered event followed), then ExecutionFailed.
    let events = history(&app, &e, json!({})).await;
    let chain = crate::executions::chain(&events);
    assert_eq!(
        chain[1..],
        [
            (2, "PassStateEntered".to_owned(), 0),
            (3, "EvaluationFailed".to_owned(), 0),
            (4, "ExecutionFailed".to_owned(), 3)
        ]
    );
    assert_eq!(
        events[2]["evaluationFailedEventDetails"],
        json!({"error": "States.QueryEvaluationError", "cause": d["cause"],
               "location": "Output/v", "state": "P"})
    );
    assert_eq!(
        events[3]["executionFailedEventDetails"],
        json!({"error": "States.QueryEvaluationError", "cause": d["cause"]})
    );
    // A call of something that is not a function, and a runaway recursion, fail the same way.
    let m = create(
        &app,
        "threw",
        &machine(json!({
            "P": {"Type": "Pass", "Output": {"r": "{% $nope() %}"}, "Next": "Q"},
            "Q": {"Type": "Pass", "End": true}
        })),
    )
    .await;
    let d = closed(&app, &start(&app, &m, "run", None).await).await;
    assert!(d["cause"].as_str().unwrap().ends_with(
        "The JSONata expression '$nope()' specified for the field 'Output/r' threw an error during evaluation. T1006: Attempted to invoke a non-function"
    ), "{d}");
    let m = create(
        &app,
        "runaway",
        &machine(json!({
            "P": {"Type": "Pass", "Output": "{% ($f := function($n){ $f($n + 1) }; $f(0)) %}", "End": true}
        })),
    )
    .await;
    let d = closed(&app, &start(&app, &m, "run", None).await).await;
    assert_eq!(d["error"], "States.QueryEvaluationError", "{d}");
    assert!(d["cause"].as_str().unwrap().contains("U1001"), "{d}");
}

#[tokio::test]
async fn task_arguments_result_and_catcher_error_output() {
    let app = TestApp::spawn().await;
    let child = create(
        &app,
        "child",
        &json!({"StartAt": "C", "States": {"C": {"Type": "Pass", "End": true}}}).to_string(),
    )
    .await;
    let m = create(
        &app,
        "tasks",
        &machine(json!({
            "P": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                  "Arguments": {"StateMachineArn": child, "Input": {"doubled": "{% $states.input.n * 2 %}"}},
                  "Assign": {"status": "{% $states.result.Status %}"},
                  "Output": "{% $states.result.Output %}",
                  "Next": "Call"},
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "Arguments": {"FunctionName": "nowhere"},
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done",
                                "Output": {"error": "{% $states.errorOutput.Error %}", "before": "{% $states.input %}", "status": "{% $status %}"}}],
                     "End": true},
            "Done": {"Type": "Succeed"}
        })),
    )
    .await;
    let e = start(&app, &m, "run", Some(r#"{"n": 21}"#)).await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(
        output(&d),
        json!({"error": "States.TaskFailed", "before": {"doubled": 42}, "status": "SUCCEEDED"})
    );
}

#[tokio::test]
async fn fail_and_wait_fields_take_expressions() {
    let app = TestApp::spawn_with(|c| c.time_scale = 0.01).await;
    let m = create(
        &app,
        "fields",
        &machine(json!({
            "P": {"Type": "Wait", "Seconds": "{% $states.input.wait %}", "Next": "F"},
            "F": {"Type": "Fail", "Error": "{% 'E' & $states.input.code %}", "Cause": "{% $string($states.input) %}"}
        })),
    )
    .await;
    let e = start(&app, &m, "run", Some(r#"{"wait": 1, "code": 7}"#)).await;
    let d = closed(&app, &e).await;
    assert_eq!(d["status"], "FAILED");
    assert_eq!(d["error"], "E7");
    assert_eq!(d["cause"], r#"{"wait":1,"code":7}"#);
}

#[tokio::test]
async fn map_items_item_selector_and_parallel_arguments_in_jsonata() {
    let app = TestApp::spawn().await;
    let m = create(
        &app,
        "forks",
        &machine(json!({
            "P": {"Type": "Map", "Items": "{% $states.input.list %}",
                  "ItemSelector": {"v": "{% $states.context.Map.Item.Value * 10 %}", "i": "{% $states.context.Map.Item.Index %}"},
                  "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Output": "{% $states.input.v + $states.input.i %}", "End": true}}},
                  "Output": {"sum": "{% $sum($states.result) %}"},
                  "Next": "Par"},
            "Par": {"Type": "Parallel", "Arguments": {"base": "{% $states.input.sum %}"},
                    "Branches": [
                        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% $states.input.base + 1 %}", "End": true}}},
                        {"StartAt": "B", "States": {"B": {"Type": "Pass", "Output": "{% $states.input.base * 2 %}", "End": true}}}
                    ],
                    "Output": "{% $states.result %}",
                    "Next": "Bad"},
            "Bad": {"Type": "Map", "Items": "{% $states.input[0] %}",
                    "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}},
                    "End": true}
        })),
    )
    .await;
    let e = start(&app, &m, "run", Some(r#"{"list": [1, 2, 3]}"#)).await;
    let d = closed(&app, &e).await;
    // 10+0, 20+1, 30+2 = 63; branches 64 and 126; then Items is a number, not an array.
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.QueryEvaluationError");
    assert_eq!(
        d["cause"],
        "An error occurred while executing the state 'Bad' (entered at the event id #26). The JSONata expression '$states.input[0]' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'number' for value: 64"
    );
    let events = history(&app, &e, json!({})).await;
    let par = events
        .iter()
        .find(|e| e["type"] == "ParallelStateExited")
        .unwrap();
    assert_eq!(par["stateExitedEventDetails"]["output"], "[64,126]");
    let map = events
        .iter()
        .find(|e| e["type"] == "MapStateExited")
        .unwrap();
    assert_eq!(map["stateExitedEventDetails"]["output"], r#"{"sum":63}"#);
}

#[tokio::test]
async fn a_variable_over_256_kib_fails_the_state() {
    let app = TestApp::spawn().await;
    let m = create(
        &app,
        "big",
        &machine(json!({
            "P": {"Type": "Pass",
                  "Assign": {"big": "{% $join($map([1..30000], function($i) { '0123456789' }), '') %}"},
                  "End": true}
        })),
    )
    .await;
    let d = closed(&app, &start(&app, &m, "run", None).await).await;
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.DataLimitExceeded");
    assert_eq!(
        d["cause"],
        "The value assigned to the variable 'big' is 300002 bytes, over the limit of 262144 bytes."
    );
}

#[tokio::test]
async fn variable_names_are_identifiers_of_at_most_80_characters() {
    let app = TestApp::spawn().await;
    for (language, key) in [
        ("JSONata", "1bad"),
        ("JSONPath", "has space.$"),
        ("JSONata", &*"v".repeat(81)),
    ] {
        let definition = json!({"QueryLanguage": language, "StartAt": "P", "States": {
            "P": {"Type": "Pass", "Assign": {key: 1}, "End": true}}});
        let (status, body, _) = app
            .call(
                "CreateStateMachine",
                json!({"name": "names", "definition": definition.to_string(),
                       "roleArn": "arn:aws:iam::123456789012:role/r"}),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["__type"], "InvalidDefinition");
        let name = key.strip_suffix(".$").unwrap_or(key);
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("The variable name '{name}' is not valid"))
                && message.contains("at /States/P/Assign"),
            "{message}"
        );
    }
    // Letters of any script, digits after the first, underscores are fine.
    let ok = json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Assign": {"_größe2": 1, "ok_name": 2}, "End": true}}});
    create(&app, "fine", &ok.to_string()).await;
}

#[tokio::test]
async fn timeout_and_heartbeat_expressions_are_echoed_resolved() {
    let app = TestApp::spawn().await;
    let m = create(
        &app,
        "timeouts",
        &machine(json!({
            "P": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Arguments": {"FunctionName": "f", "Payload": {}},
                  "TimeoutSeconds": "{% $states.input.t %}", "HeartbeatSeconds": "{% $states.input.t - 1 %}",
                  "End": true}
        })),
    )
    .await;
    let e = start(&app, &m, "run", Some(r#"{"t": 3}"#)).await;
    closed(&app, &e).await;
    let events = history(&app, &e, json!({})).await;
    let scheduled = &events[2]["taskScheduledEventDetails"];
    // Recorded: evaluate_jsonata/test_base_task[TIMEOUT_SECONDS].
    assert_eq!(scheduled["timeoutInSeconds"], 3);
    assert_eq!(scheduled["heartbeatInSeconds"], 2);
    assert_eq!(
        scheduled["parameters"],
        r#"{"FunctionName":"f","Payload":{}}"#
    );
}

#[tokio::test]
async fn aws_functions_answer_as_recorded() {
    let app = TestApp::spawn().await;
    let m = create(
        &app,
        "functions",
        &machine(json!({
            "P": {"Type": "Pass", "Output": {
                "range": "{% $range(1, 9, 9) %}",
                "ranges": "{% $range(0, 10, 5) %}",
                "partition": "{% $partition([0], 4) %}",
                "parsed": "{% $parse('[1, 2, \"x\"]') %}",
                "zero": "{% $parse('-0') %}",
                "hash": "{% $hash('abc', 'SHA-256') %}",
                "uuid": "{% $length($uuid()) %}",
                "random": "{% $random() < 1 %}",
                "sum": "{% $sum([1,2,3]) + 1 %}",
                "fraction": "{% 0.1 %}"
            }, "Next": "Q"},
            "Q": {"Type": "Pass", "Output": "{% $randomSeeded(1) %}", "End": true}
        })),
    )
    .await;
    let e = start(&app, &m, "run", None).await;
    let d = closed(&app, &e).await;
    let events = history(&app, &e, json!({})).await;
    let out: Value = serde_json::from_str(
        events[2]["stateExitedEventDetails"]["output"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"range": 1, "ranges": [0, 5, 10], "partition": [[0]], "parsed": [1, 2, "x"],
               "zero": 0, "hash": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
               "uuid": 36, "random": true, "sum": 7, "fraction": 0.1})
    );
    // Recorded (test_math_operations_jsonata): $randomSeeded does not exist.
    assert_eq!(d["error"], "States.QueryEvaluationError");
    assert!(d["cause"]
        .as_str()
        .unwrap()
        .ends_with("threw an error during evaluation. T1006: Attempted to invoke a non-function"));
}

#[tokio::test]
async fn uncaught_evaluation_failures_of_tasks_and_maps_record_evaluation_failed() {
    let app = TestApp::spawn().await;
    let m = create(
        &app,
        "task-eval",
        &json!({"QueryLanguage": "JSONata", "StartAt": "Before", "States": {
            "Before": {"Type": "Pass", "Next": "P"},
            "P": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Arguments": {"FunctionName": "{% $states.input.nope %}"}, "End": true}}})
        .to_string(),
    )
    .await;
    let e = start(&app, &m, "run", None).await;
    let d = closed(&app, &e).await;
    let events = history(&app, &e, json!({})).await;
    let chain = crate::executions::chain(&events);
    // EvaluationFailed follows what TaskStateEntered followed (Before's Exited, event 3).
    assert_eq!(
        chain[3..],
        [
            (4, "TaskStateEntered".to_owned(), 3),
            (5, "EvaluationFailed".to_owned(), 3),
            (6, "ExecutionFailed".to_owned(), 5)
        ]
    );
    assert_eq!(
        events[4]["evaluationFailedEventDetails"]["location"],
        "Arguments/FunctionName"
    );
    assert_eq!(d["error"], "States.QueryEvaluationError");

    let m = create(
        &app,
        "map-eval",
        &machine(json!({
            "P": {"Type": "Map", "Items": "{% $states.input.nope %}",
                  "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}},
                  "End": true}
        })),
    )
    .await;
    let e = start(&app, &m, "run", None).await;
    closed(&app, &e).await;
    let chain = crate::executions::chain(&history(&app, &e, json!({})).await);
    assert_eq!(
        chain[1..],
        [
            (2, "MapStateEntered".to_owned(), 0),
            (3, "EvaluationFailed".to_owned(), 0),
            (4, "MapStateFailed".to_owned(), 3),
            (5, "ExecutionFailed".to_owned(), 4)
        ]
    );
}

#[tokio::test]
async fn an_executions_variables_stop_at_10_mib() {
    let app = TestApp::spawn().await;
    // Variables of 250,002 bytes each pass the 256 KiB limit one by one; the 42nd passes 10 MiB.
    let mut states = serde_json::Map::new();
    for i in 0..45 {
        let next = if i < 44 {
            json!({"Next": format!("S{}", i + 1)})
        } else {
            json!({"End": true})
        };
        let mut s = json!({"Type": "Pass",
            "Assign": {format!("v{i}"): "{% $join($map([1..25000], function($i) { '0123456789' }), '') %}"}});
        s.as_object_mut()
            .unwrap()
            .extend(next.as_object().unwrap().clone());
        states.insert(format!("S{i}"), s);
    }
    let m = create(
        &app,
        "many",
        &json!({"QueryLanguage": "JSONata", "StartAt": "S0", "States": states}).to_string(),
    )
    .await;
    let d = closed(&app, &start(&app, &m, "run", None).await).await;
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.DataLimitExceeded");
    assert_eq!(
        d["cause"],
        "The execution's variables would be 10500084 bytes, over the limit of 10485760 bytes."
    );
}
