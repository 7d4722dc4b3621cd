//! Mocked responses from a mock configuration file in Step Functions Local's format:
//! `…:stateMachine:<name>#<TestCase>` runs the test case's mocked Task states with the events
//! the real integration records, retries take the next invocation's entry, a missing test case
//! is refused at the start, a malformed file stops the start-up naming its line, and SIGHUP
//! reloads the file.

use serde_json::{json, Value};

use crate::executions::{closed, create, history, kinds};
use crate::helpers::{sfnlite_command, Binary, TestApp};

fn mock_file(dir: &std::path::Path, config: &Value) -> String {
    let path = dir.join("MockConfigFile.json");
    std::fs::write(&path, serde_json::to_string_pretty(config).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The README's example file (`compat/snippets/MockConfigFile.json`), which these tests run.
fn config() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("compat/snippets/MockConfigFile.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn definition() -> String {
    json!({"StartAt": "LambdaState", "States": {
        "LambdaState": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "HelloWorldFunction", "Payload.$": "$"},
            "ResultSelector": {"body.$": "$.Payload.body"},
            "Retry": [{"ErrorEquals": ["Lambda.ResourceNotReadyException", "Lambda.TimeoutException"],
                       "IntervalSeconds": 1, "BackoffRate": 1, "MaxAttempts": 3}],
            "Catch": [{"ErrorEquals": ["Lambda.Unknown"], "ResultPath": "$.error", "Next": "Caught"}],
            "Next": "SQSState"
        },
        "SQSState": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "MessageBody.$": "$.body"},
            "End": true
        },
        "Caught": {"Type": "Pass", "End": true}
    }})
    .to_string()
}

async fn run(app: &TestApp, machine: &str, name: &str) -> (Value, Vec<Value>) {
    let (status, body, _) = app
        .call(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": name}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let arn = body["executionArn"].as_str().unwrap().to_owned();
    let done = closed(app, &arn).await;
    (done, history(app, &arn, json!({})).await)
}

#[tokio::test]
async fn a_test_case_answers_its_mocked_states_with_the_integrations_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = mock_file(dir.path(), &config());
    let app = TestApp::spawn_with(|c| {
        c.mock_config = path;
        c.time_scale = 0.01;
    })
    .await;
    let machine = create(&app, "LambdaSQSIntegration", &definition()).await;
    let (done, events) = run(&app, &format!("{machine}#HappyPath"), "happy").await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    // The execution is an ordinary one of the machine.
    assert_eq!(done["stateMachineArn"], machine);
    assert_eq!(
        done["executionArn"],
        "arn:aws:states:us-east-1:123456789012:execution:LambdaSQSIntegration:happy"
    );
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(
        output,
        json!({"MD5OfMessageBody": "3bcb6e8e", "MessageId": "3bcb6e8e-8b51"})
    );
    assert_eq!(
        kinds(&events),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let succeeded = &events[4]["taskSucceededEventDetails"];
    assert_eq!(succeeded["resource"], "invoke");
    assert_eq!(succeeded["resourceType"], "lambda");
    assert_eq!(
        serde_json::from_str::<Value>(succeeded["output"].as_str().unwrap()).unwrap()["Payload"]
            ["body"],
        "Hello from Lambda!"
    );
    let sqs_parameters: Value = serde_json::from_str(
        events[7]["taskScheduledEventDetails"]["parameters"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(sqs_parameters["MessageBody"], "Hello from Lambda!");

    // Without a test case the same machine calls the (unreachable) integrations.
    let (done, _) = run(&app, &machine, "real").await;
    assert_eq!(done["status"], "FAILED");
    assert_eq!(done["error"], "States.TaskFailed");
}

#[tokio::test]
async fn retries_take_the_next_invocations_entry_and_throws_meet_catchers() {
    let dir = tempfile::tempdir().unwrap();
    let path = mock_file(dir.path(), &config());
    let app = TestApp::spawn_with(|c| {
        c.mock_config = path;
        c.time_scale = 0.01;
    })
    .await;
    let machine = create(&app, "LambdaSQSIntegration", &definition()).await;
    let (done, events) = run(&app, &format!("{machine}#RetryPath"), "retry").await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let failures: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "TaskFailed")
        .map(|e| e["taskFailedEventDetails"]["error"].as_str().unwrap())
        .collect();
    // Invocation 0, then the range 1-2, then 3 succeeds.
    assert_eq!(
        failures,
        [
            "Lambda.ResourceNotReadyException",
            "Lambda.TimeoutException",
            "Lambda.TimeoutException"
        ]
    );
    let lambda_successes = events
        .iter()
        .filter(|e| {
            e["type"] == "TaskSucceeded" && e["taskSucceededEventDetails"]["resource"] == "invoke"
        })
        .count();
    assert_eq!(lambda_successes, 1);

    let (done, events) = run(&app, &format!("{machine}#FailPath"), "fail").await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(
        output["error"],
        json!({"Error": "Lambda.Unknown", "Cause": "boom"})
    );
    assert_eq!(
        events[4]["taskFailedEventDetails"],
        json!({"cause": "boom", "error": "Lambda.Unknown", "resource": "invoke", "resourceType": "lambda"})
    );

    // A test case naming a response the file lacks fails the state when it is reached.
    let (done, _) = run(&app, &format!("{machine}#Dangling"), "dangling").await;
    assert_eq!(done["status"], "FAILED");
    assert_eq!(done["error"], "States.Runtime");
    assert!(done["cause"]
        .as_str()
        .unwrap()
        .ends_with("The mocked response 'NoSuchResponse' is not in the mock configuration."));

    // A test case the file does not have is refused at the start.
    let (status, body, _) = app
        .call(
            "StartExecution",
            json!({"stateMachineArn": format!("{machine}#Nope"), "name": "nope"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["__type"], "ValidationException");
}

#[tokio::test]
async fn a_mocked_legacy_lambda_arn_records_lambda_function_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = mock_file(
        dir.path(),
        &json!({
            "StateMachines": {"legacy": {"TestCases": {"T": {"L": "R"}}}},
            "MockedResponses": {"R": {"0": {"Return": {"hello": "world"}}}}
        }),
    );
    let app = TestApp::spawn_with(|c| c.mock_config = path).await;
    let machine = create(
        &app,
        "legacy",
        &json!({"StartAt": "L", "States": {"L": {"Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": true}}})
        .to_string(),
    )
    .await;
    let (done, events) = run(&app, &format!("{machine}#T"), "t").await;
    assert_eq!(done["output"], "{\"hello\":\"world\"}");
    assert_eq!(
        kinds(&events)[2..5],
        [
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded"
        ]
    );
}

#[tokio::test]
async fn a_malformed_mock_file_stops_the_start_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(
        &path,
        "{\n  \"MockedResponses\": {\n    \"R\": {\"first\": {\"Return\": 1}}\n  }\n}\n",
    )
    .unwrap();
    let mut config = sfnlite::config::Config::for_tests(&dir.path().join("db/sfnlite.db"));
    config.mock_config = path.to_str().unwrap().to_owned();
    let e = sfnlite::app::App::build(&config).await.err().unwrap();
    let text = format!("{e:#}");
    assert!(
        text.contains("mock_config") && text.contains("line 3") && text.contains("'first'"),
        "{text}"
    );
}

#[tokio::test]
async fn sighup_reloads_the_mock_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = mock_file(
        dir.path(),
        &json!({"StateMachines": {"m": {"TestCases": {"A": {"T": "R"}}}},
                "MockedResponses": {"R": {"0": {"Return": "first"}}}}),
    );
    let db = dir.path().join("db/sfnlite.db");
    let mut server = Binary::start(sfnlite_command(&[
        "--listen",
        "127.0.0.1:0",
        "--db",
        db.to_str().unwrap(),
        "--mock-config",
        &path,
    ]));
    server.drain_stderr();
    let app = TestApp::attach(&format!("http://{}", server.addr));
    let machine = create(
        &app,
        "m",
        &json!({"StartAt": "T", "States": {"T": {"Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"}, "End": true}}})
        .to_string(),
    )
    .await;
    let (done, _) = run(&app, &format!("{machine}#A"), "one").await;
    assert_eq!(done["output"], "\"first\"");
    mock_file(
        dir.path(),
        &json!({"StateMachines": {"m": {"TestCases": {"A": {"T": "R"}, "B": {"T": "R"}}}},
                "MockedResponses": {"R": {"0": {"Return": "second"}}}}),
    );
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    // The reload is asynchronous: the new test case appears once the file is read again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut attempt = 0;
    let done = loop {
        attempt += 1;
        let (status, body, _) = app
            .call(
                "StartExecution",
                json!({"stateMachineArn": format!("{machine}#B"), "name": format!("two-{attempt}")}),
            )
            .await;
        if status == 200 {
            break closed(&app, body["executionArn"].as_str().unwrap()).await;
        }
        assert_eq!(body["__type"], "ValidationException");
        assert!(std::time::Instant::now() < deadline, "never reloaded");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(done["output"], "\"second\"");
    server.kill();
}

#[tokio::test]
async fn a_mocked_callback_task_is_submitted_then_answered_by_the_mock() {
    let dir = tempfile::tempdir().unwrap();
    let path = mock_file(
        dir.path(),
        &json!({
            "StateMachines": {"callback": {"TestCases": {"T": {"SendMessageWithWait": "R"}}}},
            "MockedResponses": {"R": {"0": {"Return": "string-literal"}}}
        }),
    );
    let app = TestApp::spawn_with(|c| c.mock_config = path).await;
    let machine = create(
        &app,
        "callback",
        &json!({"StartAt": "SendMessageWithWait", "States": {"SendMessageWithWait": {"Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody": {"TaskToken.$": "$$.Task.Token"}}, "End": true}}})
        .to_string(),
    )
    .await;
    let (done, events) = run(&app, &format!("{machine}#T"), "t").await;
    assert_eq!(done["output"], "\"string-literal\"");
    assert_eq!(
        kinds(&events)[2..7],
        [
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited"
        ]
    );
}
