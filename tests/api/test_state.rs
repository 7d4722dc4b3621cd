//! TestState against the recorded answers (LocalStack's `test_state/*` snapshots, Nov 2025):
//! statuses, outputs, next states, inspection data and the validation texts.

use serde_json::{json, Value};

use crate::executions::parsed;
use crate::helpers::{TestApp, ROLE};

async fn test(app: &TestApp, body: Value) -> (u16, Value) {
    let (status, body, _) = app.call("TestState", body).await;
    (status, body)
}

#[tokio::test]
async fn pass_states_answer_their_output_and_their_stages() {
    let app = TestApp::spawn().await;
    let input = r#"{"Value": "HelloWorld"}"#;
    let (status, body) = test(
        &app,
        json!({"definition": json!({"Type": "Pass", "End": true}).to_string(), "input": input}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "SUCCEEDED");
    assert_eq!(parsed(&body["output"]), json!({"Value": "HelloWorld"}));
    assert!(body.get("inspectionData").is_none());
    // DEBUG: every stage of a plain Pass.
    let (_, body) = test(
        &app,
        json!({"definition": json!({"Type": "Pass", "End": true}).to_string(), "input": input,
               "inspectionLevel": "DEBUG"}),
    )
    .await;
    let mut stages: Vec<&String> = body["inspectionData"].as_object().unwrap().keys().collect();
    stages.sort();
    assert_eq!(
        stages,
        [
            "afterInputPath",
            "afterParameters",
            "afterResultPath",
            "afterResultSelector",
            "input"
        ]
    );
    // A Result: no input stages, the result instead.
    let (_, body) = test(
        &app,
        json!({"definition": json!({"Type": "Pass", "Result": {"resultKey": "result value"}, "End": true}).to_string(),
               "input": input, "inspectionLevel": "TRACE"}),
    )
    .await;
    let data = &body["inspectionData"];
    let mut stages: Vec<&String> = data.as_object().unwrap().keys().collect();
    stages.sort();
    assert_eq!(
        stages,
        ["afterResultPath", "afterResultSelector", "input", "result"]
    );
    assert_eq!(
        parsed(&data["result"]),
        json!({"resultKey": "result value"})
    );
    // InputPath, Parameters and ResultPath.
    let (_, body) = test(
        &app,
        json!({"definition": json!({"Type": "Pass", "InputPath": "$.initialData",
                  "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
                  "ResultPath": "$.modifiedData", "End": true}).to_string(),
               "input": json!({"initialData": {"fieldFromInput": "value from input", "otherField": "other"},
                               "unrelatedData": {"someOtherField": 1234}}).to_string(),
               "inspectionLevel": "DEBUG"}),
    )
    .await;
    let data = &body["inspectionData"];
    assert_eq!(
        parsed(&data["afterInputPath"]),
        json!({"fieldFromInput": "value from input", "otherField": "other"})
    );
    assert_eq!(
        parsed(&data["afterParameters"]),
        json!({"staticValue": "some value", "inputValue": "value from input"})
    );
    assert_eq!(
        parsed(&body["output"])["modifiedData"],
        json!({"staticValue": "some value", "inputValue": "value from input"})
    );
}

#[tokio::test]
async fn choice_fail_and_wait_states_answer_where_they_go() {
    let app = TestApp::spawn().await;
    let choice = json!({"Type": "Choice", "Choices": [
        {"Variable": "$.value", "NumericGreaterThanEquals": 20, "Next": "ValueInTwenties"}],
        "Default": "Other"});
    let (_, body) = test(
        &app,
        json!({"definition": choice.to_string(), "input": r#"{"type": "Private", "value": 22}"#}),
    )
    .await;
    assert_eq!(body["status"], "SUCCEEDED", "{body}");
    assert_eq!(body["nextState"], "ValueInTwenties");
    assert_eq!(
        parsed(&body["output"]),
        json!({"type": "Private", "value": 22})
    );
    let fail = json!({"Type": "Fail", "Error": "SomeFailure",
                      "Cause": "This state machines raises a 'SomeFailure' failure."});
    let (_, body) = test(&app, json!({"definition": fail.to_string()})).await;
    assert_eq!(
        (&body["status"], &body["error"], &body["cause"]),
        (
            &json!("FAILED"),
            &json!("SomeFailure"),
            &json!("This state machines raises a 'SomeFailure' failure.")
        )
    );
    let wait = json!({"Type": "Wait", "Seconds": 3600, "Next": "After"});
    let (_, body) = test(
        &app,
        json!({"definition": wait.to_string(), "input": "{\"a\": 1}"}),
    )
    .await;
    assert_eq!(body["nextState"], "After", "{body}");
    // A whole machine, tested at one of its states.
    let machine = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Pass", "Result": 1, "End": true}}});
    let (_, body) = test(
        &app,
        json!({"definition": machine.to_string(), "stateName": "B"}),
    )
    .await;
    assert_eq!(body["output"], "1", "{body}");
    let (status, body) = test(
        &app,
        json!({"definition": machine.to_string(), "stateName": "Nope"}),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("State not found in definition"))
    );
}

#[tokio::test]
async fn mocked_tasks_succeed_are_caught_or_retried() {
    let app = TestApp::spawn().await;
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f"},
        "Retry": [{"ErrorEquals": ["Retriable"], "MaxAttempts": 2}],
        "Catch": [{"ErrorEquals": ["Caught"], "Next": "Handler"}],
        "End": true});
    let (_, body) = test(
        &app,
        json!({"definition": task.to_string(), "roleArn": ROLE,
               "mock": {"result": "{\"Payload\": {\"ok\": true}}"}, "inspectionLevel": "DEBUG"}),
    )
    .await;
    assert_eq!(body["status"], "SUCCEEDED", "{body}");
    assert_eq!(parsed(&body["output"]), json!({"Payload": {"ok": true}}));
    assert_eq!(
        parsed(&body["inspectionData"]["afterParameters"]),
        json!({"FunctionName": "f"})
    );
    let (_, body) = test(
        &app,
        json!({"definition": task.to_string(), "roleArn": ROLE,
               "mock": {"errorOutput": {"error": "Caught", "cause": "it broke"}}}),
    )
    .await;
    assert_eq!(body["status"], "CAUGHT_ERROR", "{body}");
    assert_eq!(body["nextState"], "Handler");
    assert_eq!(
        (&body["error"], &body["cause"]),
        (&json!("Caught"), &json!("it broke"))
    );
    assert_eq!(
        parsed(&body["output"]),
        json!({"Error": "Caught", "Cause": "it broke"})
    );
    let retriable = json!({"definition": task.to_string(), "roleArn": ROLE,
                           "mock": {"errorOutput": {"error": "Retriable", "cause": "again"}}});
    let (_, body) = test(&app, retriable.clone()).await;
    assert_eq!(body["status"], "RETRIABLE", "{body}");
    assert_eq!(body["error"], "Retriable");
    // Its retries spent, the error is the state's failure.
    let mut spent = retriable;
    spent["stateConfiguration"] = json!({"retrierRetryCount": 2});
    let (_, body) = test(&app, spent).await;
    assert_eq!(body["status"], "FAILED", "{body}");
}

#[tokio::test]
async fn requests_are_checked_with_the_recorded_texts() {
    let app = TestApp::spawn().await;
    let pass = json!({"Type": "Pass", "End": true}).to_string();
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                      "Parameters": {"FunctionName": "f"}, "End": true})
    .to_string();
    for (body, text) in [
        (
            json!({"definition": pass, "mock": {"result": "{}"}}),
            "State type 'Pass' is not supported when a mock is specified",
        ),
        (
            json!({"definition": task, "roleArn": ROLE, "mock": {"result": "{}", "errorOutput": {"error": "E"}}}),
            "A test mock should have only one of the following fields: [result, errorOutput].",
        ),
        (
            json!({"definition": task, "roleArn": ROLE, "mock": {"result": "{nope"}}),
            "Mocked result must be valid JSON",
        ),
        (
            json!({"definition": task, "roleArn": ROLE, "revealSecrets": true, "mock": {"result": "{}"}}),
            "TestState does not support RevealSecrets when a mock is specified.",
        ),
        (
            json!({"definition": task}),
            "RoleArn must be specified when testing a Task state",
        ),
    ] {
        let (status, answer) = test(&app, body).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["__type"], "ValidationException");
        assert_eq!(answer["message"], text);
    }
    let map = json!({"Type": "Map", "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}}, "End": true});
    let (status, answer) = test(&app, json!({"definition": map.to_string()})).await;
    assert_eq!(status, 400);
    assert_eq!(answer["__type"], "InvalidDefinition");
    assert_eq!(
        answer["message"],
        "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]"
    );
}

#[tokio::test]
async fn mocked_parallel_and_map_states_take_their_result_as_the_branches_outputs() {
    let app = TestApp::spawn().await;
    let parallel = json!({"Type": "Parallel", "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}],
        "ResultSelector": {"first.$": "$[0]"}, "Next": "After"});
    let (_, body) = test(
        &app,
        json!({"definition": parallel.to_string(), "mock": {"result": "[1, 2]"}}),
    )
    .await;
    assert_eq!(body["status"], "SUCCEEDED", "{body}");
    assert_eq!(parsed(&body["output"]), json!({"first": 1}));
    assert_eq!(body["nextState"], "After");
    let (status, body) = test(
        &app,
        json!({"definition": parallel.to_string(), "mock": {"result": "[1]"}}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "Mocked result must contain the same number of items as number of Parallel branches."
    );
    let map = json!({"Type": "Map", "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}},
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handler"}], "End": true});
    let (_, body) = test(
        &app,
        json!({"definition": map.to_string(), "input": "[1, 2]", "mock": {"result": "[\"a\", \"b\"]"}}),
    )
    .await;
    assert_eq!(parsed(&body["output"]), json!(["a", "b"]), "{body}");
    let (status, body) = test(
        &app,
        json!({"definition": map.to_string(), "mock": {"result": "{}"}}),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Mocked result must be an array."))
    );
    let (_, body) = test(
        &app,
        json!({"definition": map.to_string(), "input": "[1, 2]", "mock": {"errorOutput": {"error": "Boom", "cause": "c"}}}),
    )
    .await;
    assert_eq!(body["status"], "CAUGHT_ERROR", "{body}");
    assert_eq!(body["nextState"], "Handler");
    assert_eq!(
        (&body["error"], &body["cause"]),
        (&json!("Boom"), &json!("c"))
    );
}

#[tokio::test]
async fn error_details_name_the_retrier_or_catcher_that_decided() {
    let app = TestApp::spawn().await;
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f"},
        "Retry": [{"ErrorEquals": ["Other"], "MaxAttempts": 1},
                  {"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 2}],
        "Catch": [{"ErrorEquals": ["Other"], "Next": "A"}, {"ErrorEquals": ["States.ALL"], "Next": "B"}],
        "End": true});
    let request = |retries: u64| {
        json!({"definition": task.to_string(), "roleArn": ROLE, "inspectionLevel": "DEBUG",
            "mock": {"errorOutput": {"error": "Boom", "cause": "c"}},
            "stateConfiguration": {"retrierRetryCount": retries}})
    };
    let (_, body) = test(&app, request(1)).await;
    assert_eq!(body["status"], "RETRIABLE", "{body}");
    // The second retrier matched; its second back-off is 2 × 3 s.
    assert_eq!(
        body["inspectionData"]["errorDetails"],
        json!({"retryIndex": 1, "retryBackoffIntervalSeconds": 6})
    );
    let (_, body) = test(&app, request(2)).await;
    assert_eq!(body["status"], "CAUGHT_ERROR", "{body}");
    assert_eq!(body["nextState"], "B");
    assert_eq!(
        body["inspectionData"]["errorDetails"],
        json!({"catchIndex": 1})
    );
}

#[tokio::test]
async fn a_jsonata_task_shows_its_arguments_and_result() {
    let app = TestApp::spawn().await;
    let task = json!({"Type": "Task", "QueryLanguage": "JSONata",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "f", "Payload": "{% $states.input.n + 1 %}"},
        "Output": "{% $states.result.Payload %}", "End": true});
    let (_, body) = test(
        &app,
        json!({"definition": task.to_string(), "roleArn": ROLE, "inspectionLevel": "DEBUG",
            "input": "{\"n\": 1}", "mock": {"result": "{\"Payload\": 7}"}}),
    )
    .await;
    assert_eq!(body["status"], "SUCCEEDED", "{body}");
    let data = &body["inspectionData"];
    assert_eq!(parsed(&data["input"]), json!({"n": 1}));
    assert_eq!(
        parsed(&data["afterArguments"]),
        json!({"FunctionName": "f", "Payload": 2})
    );
    assert_eq!(parsed(&data["result"]), json!({"Payload": 7}));
    assert!(data.get("afterParameters").is_none(), "{data}");
    assert_eq!(body["output"], "7");
}

#[tokio::test]
async fn a_given_context_object_is_the_whole_of_dollar_dollar_and_is_checked_as_recorded() {
    let app = TestApp::spawn().await;
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload": {"Input.$": "$"}},
        "ResultSelector": {"ContextObjectValue.$": "$$", "LambdaOutput.$": "$"}, "End": true});
    let with = |context: Value| {
        json!({"definition": task.to_string(), "roleArn": ROLE, "input": "{}",
            "mock": {"result": "{\"pokemon\": \"pikachu\"}"}, "context": context.to_string()})
    };
    let context = json!({"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:M:e", "Name": "e"},
        "State": {"Name": "MyTaskState", "RetryCount": 0}, "StateMachine": {"Name": "M"}});
    let (status, body) = test(&app, with(context.clone())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        parsed(&body["output"]),
        json!({"ContextObjectValue": context, "LambdaOutput": {"pokemon": "pikachu"}})
    );
    let (_, body) = test(&app, with(json!({}))).await;
    assert_eq!(parsed(&body["output"])["ContextObjectValue"], json!({}));
    for (context, message) in [
        (json!({"Pokedex": {}}), "Invalid Context object provided: Field 'Pokedex' is not allowed"),
        (json!({"Execution": {"pokemon": 1}}), "Invalid Context object provided: Field 'pokemon' is not allowed"),
        (json!({"Execution": {"Id": 7}}), "Invalid Context object provided: Execution.Id must be a string"),
        (json!({"Map": {}}), "Invalid Context object provided: 'Map' field is not supported when mocking a Context object"),
        (json!({"Task": {"Token": "t"}}), "Invalid Context object provided: Context object contains 'Task' when state is not a Task state with a '.sync' or '.waitForTaskToken' service integration pattern"),
    ] {
        let (status, body) = test(&app, with(context)).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["__type"], "ValidationException");
        assert_eq!(body["message"], message);
    }
    // A callback task keeps the token the context names.
    let wait = json!({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"TaskToken.$": "$$.Task.Token"}}, "End": true});
    let (_, body) = test(
        &app,
        json!({"definition": wait.to_string(), "roleArn": ROLE, "inspectionLevel": "DEBUG",
            "mock": {"result": "{}"}, "context": json!({"Task": {"Token": "abcd123"}}).to_string()}),
    )
    .await;
    assert_eq!(body["status"], "SUCCEEDED", "{body}");
    assert_eq!(
        parsed(&body["inspectionData"]["afterParameters"])["MessageBody"]["TaskToken"],
        "abcd123"
    );
}

#[tokio::test]
async fn a_map_shows_its_items_and_limits_as_recorded() {
    let app = TestApp::spawn().await;
    let map = json!({"Type": "Map", "InputPath": "$", "ItemsPath": "$.Values",
        "ToleratedFailureCount": 2,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true});
    let (_, body) = test(
        &app,
        json!({"definition": map.to_string(), "inspectionLevel": "DEBUG",
            "input": "{\"Values\": [\"first\", \"second\", \"third\"]}", "mock": {"result": "[1, 1, 1]"}}),
    )
    .await;
    assert_eq!(body["status"], "SUCCEEDED", "{body}");
    let data = &body["inspectionData"];
    assert_eq!(
        parsed(&data["afterItemsPath"]),
        json!(["first", "second", "third"])
    );
    assert_eq!(
        parsed(&data["afterInputPath"]),
        json!({"Values": ["first", "second", "third"]})
    );
    assert_eq!(data["maxConcurrency"], 0);
    assert_eq!(data["toleratedFailureCount"], 2);
    // Without InputPath or ItemsPath, neither stage is shown (recorded).
    let plain = json!({"Type": "Map",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true});
    let (_, body) = test(
        &app,
        json!({"definition": plain.to_string(), "inspectionLevel": "DEBUG",
            "input": "[1, 2]", "mock": {"result": "[1, 2]"}}),
    )
    .await;
    let mut stages: Vec<&String> = body["inspectionData"].as_object().unwrap().keys().collect();
    stages.sort();
    assert_eq!(stages, ["input", "maxConcurrency"], "{body}");
    // Mocked or not, a Map reads its items first (recorded: a non-array fails).
    let (_, body) = test(
        &app,
        json!({"definition": plain.to_string(), "input": "{}", "mock": {"result": "[1]"}}),
    )
    .await;
    assert_eq!(body["status"], "FAILED", "{body}");
    assert_eq!(body["error"], "States.Runtime");
    assert!(body["cause"]
        .as_str()
        .unwrap()
        .ends_with("Reference path \"$\" must point to array."));
}

#[tokio::test]
async fn a_map_with_an_item_reader_takes_its_items_from_the_given_reader_data() {
    let app = TestApp::spawn().await;
    let map = json!({"Type": "Map",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            "Parameters": {"Bucket": "b", "Key": "rows.csv"}},
        "ItemSelector": {"name.$": "$$.Map.Item.Value.name", "index.$": "$$.Map.Item.Index"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true});
    let (status, body) = test(
        &app,
        json!({"definition": map.to_string(), "roleArn": ROLE, "input": "{}",
            "inspectionLevel": "DEBUG", "mock": {"result": "[1, 2]"},
            "stateConfiguration": {"mapItemReaderData": "id,name\n1,ann\n2,bo\n"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "SUCCEEDED", "{body}");
    assert_eq!(
        parsed(&body["inspectionData"]["afterItemSelector"]),
        json!([{"name": "ann", "index": 0}, {"name": "bo", "index": 1}])
    );
    // Without the data, nothing can be read here: the reader's error, not a guess.
    let (_, body) = test(
        &app,
        json!({"definition": map.to_string(), "roleArn": ROLE, "input": "{}", "mock": {"result": "[1, 2]"}}),
    )
    .await;
    assert_eq!(body["status"], "FAILED", "{body}");
    assert_eq!(body["error"], "States.ItemReaderFailed");
}

#[tokio::test]
async fn a_mocked_map_with_a_result_writer_answers_an_object_as_recorded() {
    let app = TestApp::spawn().await;
    let map = json!({"Type": "Map",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "out", "Prefix": "jobs"}},
        "End": true});
    let written = json!({"MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:m/l:1",
        "ResultWriterDetails": {"Bucket": "out", "Key": "jobs/1/manifest.json"}});
    let (_, body) = test(
        &app,
        json!({"definition": map.to_string(), "input": "[1]", "mock": {"result": written.to_string()}}),
    )
    .await;
    assert_eq!(body["status"], "SUCCEEDED", "{body}");
    assert_eq!(parsed(&body["output"]), written);
    let (status, body) = test(
        &app,
        json!({"definition": map.to_string(), "input": "[1]", "mock": {"result": "[1]"}}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "Mocked result must be a JSON object.");
}

#[tokio::test]
async fn mocked_task_results_are_checked_against_the_integrations_output_as_recorded() {
    let app = TestApp::spawn().await;
    let start = json!({"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
        "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:T"}, "End": true});
    let events = json!({"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
        "Parameters": {"Entries": [{"Detail": "d", "DetailType": "t", "Source": "s"}]}, "End": true});
    let tested = |state: &Value, result: Value, mode: Option<&str>| {
        let mut mock = json!({"result": result.to_string()});
        if let Some(m) = mode {
            mock["fieldValidationMode"] = json!(m);
        }
        json!({"definition": state.to_string(), "roleArn": ROLE, "input": "{}", "mock": mock})
    };
    let refused = [
        (
            &start,
            json!({}),
            None,
            "Required field 'ExecutionArn' is missing",
        ),
        (
            &start,
            json!({"executionArn": "a", "startDate": "b"}),
            Some("STRICT"),
            "Required field 'ExecutionArn' is missing",
        ),
        (
            &start,
            json!({"ExecutionArn": "a", "StartDate": 1_764_103_483}),
            None,
            "Field 'StartDate' must be a string",
        ),
        (
            &start,
            json!({"StartDate": true}),
            Some("PRESENT"),
            "Field 'StartDate' must be a string",
        ),
        (
            &events,
            json!({"Entries": "not a list"}),
            None,
            "Field 'Entries' must be an array",
        ),
        (
            &events,
            json!({"Entries": [{"EventId": "ok"}, {"EventId": ["no"]}]}),
            Some("PRESENT"),
            "Field 'EventId' must be a string",
        ),
    ];
    for (state, result, mode, detail) in refused {
        let (status, body) = test(&app, tested(state, result.clone(), mode)).await;
        assert_eq!(status, 400, "{result}: {body}");
        assert_eq!(body["__type"], "ValidationException");
        assert_eq!(
            body["message"],
            format!("Mock result schema validation error: {detail}"),
            "{result}"
        );
    }
    let passed = [
        (&events, json!({"random": "json"}), None),
        (&events, json!({}), None),
        (&start, json!({}), Some("PRESENT")),
        (&start, json!({"ExecutionArn": 1}), Some("NONE")),
    ];
    for (state, result, mode) in passed {
        let (status, body) = test(&app, tested(state, result.clone(), mode)).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("SUCCEEDED")),
            "{result}: {body}"
        );
        assert_eq!(parsed(&body["output"]), result);
    }
    let (status, body) = test(&app, tested(&events, json!({}), Some("LOOSE"))).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "1 validation error detected: Value 'LOOSE' at 'mock.fieldValidationMode' failed to satisfy constraint: Member must satisfy enum value set: [STRICT, PRESENT, NONE]"
    );
}
