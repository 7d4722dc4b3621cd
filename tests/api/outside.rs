//! Tasks that call outside services, against a real HTTP service on loopback (`peer`): the
//! HTTP Task's request and response shapes and its error names, Lambda's Invoke API for
//! `lambda:invoke` and bare function ARNs (payloads, function errors, refusals, SigV4), no
//! endpoint configured, a call outlasting its task's timeout, and EXPRESS and TestState
//! making the same calls.

use serde_json::{json, Value};

use crate::executions::{closed, create, history, kinds, parsed};
use crate::helpers::TestApp;
use crate::peer::Peer;

/// A server whose Lambda (and every other AWS service) endpoint is the peer.
async fn app_for(peer: &Peer) -> TestApp {
    let url = peer.url.clone();
    TestApp::spawn_with(move |c| {
        c.endpoints = format!("default={url}").parse().unwrap();
        c.connections = format!(
            r#"{{"arn:aws:events:us-east-1:123456789012:connection/api/1": {{"api_key": {{"name": "X-Api-Key", "value": "k1"}}, "query": {{"tenant": "t1"}}}},
                "arn:aws:events:us-east-1:123456789012:connection/oauth/1": {{"oauth": {{"endpoint": "{url}/oauth/token", "client_id": "c1", "client_secret": "s1", "body": {{"scope": "orders"}}}}}},
                "arn:aws:events:us-east-1:123456789012:connection/oauth/bad": {{"oauth": {{"endpoint": "{url}/oauth/token", "client_id": "c1", "client_secret": "wrong"}}}}}}"#
        )
        .parse()
        .unwrap();
    })
    .await
}

/// Creates a machine, runs one execution of it to its end: its description and history.
pub(crate) async fn run(
    app: &TestApp,
    name: &str,
    definition: Value,
    input: Value,
) -> (Value, Vec<Value>) {
    let machine = create(app, name, &definition.to_string()).await;
    let (status, body, _) = app
        .call(
            "StartExecution",
            json!({"stateMachineArn": machine, "input": input.to_string()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let arn = body["executionArn"].as_str().unwrap().to_owned();
    let done = closed(app, &arn).await;
    (done, history(app, &arn, json!({})).await)
}

fn event<'a>(events: &'a [Value], kind: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {events:?}"))
}

#[tokio::test]
async fn an_http_task_sends_method_headers_query_and_body_and_returns_the_response() {
    let peer = Peer::start().await;
    let app = app_for(&peer).await;
    let definition = json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {
            "ApiEndpoint": format!("{}/echo/orders", peer.url),
            "Method": "POST",
            "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/api/1"},
            "Headers": {"X-Trace": "abc"},
            "QueryParameters": {"page": "2"},
            "RequestBody": {"id.$": "$.id", "items": [1, 2]}
        },
        "End": true}}});
    let (done, events) = run(&app, "http", definition, json!({"id": 7})).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(
        kinds(&events),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let scheduled = &event(&events, "TaskScheduled")["taskScheduledEventDetails"];
    assert_eq!(scheduled["resource"], "invoke");
    assert_eq!(scheduled["resourceType"], "http");
    let succeeded = &event(&events, "TaskSucceeded")["taskSucceededEventDetails"];
    assert_eq!(succeeded["resourceType"], "http");
    let out = parsed(&succeeded["output"]);
    assert_eq!(out["StatusCode"], 200);
    assert_eq!(out["StatusText"], "OK");
    assert_eq!(out["Headers"]["x-peer"], json!(["echo"]));
    let echoed = &out["ResponseBody"];
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["uri"], "/echo/orders?page=2&tenant=t1");
    assert_eq!(echoed["headers"]["x-api-key"], "k1");
    assert_eq!(echoed["headers"]["x-trace"], "abc");
    assert_eq!(
        echoed["headers"]["content-type"],
        "application/json; charset=UTF-8"
    );
    assert_eq!(
        serde_json::from_str::<Value>(echoed["body"].as_str().unwrap()).unwrap(),
        json!({"id": 7, "items": [1, 2]})
    );
    assert_eq!(peer.hits("/echo"), 1);
}

#[tokio::test]
async fn an_http_task_url_encodes_its_body_when_the_transform_says_so() {
    let peer = Peer::start().await;
    let app = app_for(&peer).await;
    let definition = json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {
            "ApiEndpoint": format!("{}/echo", peer.url), "Method": "PUT",
            "RequestBody": {"a": ["x", "y"], "b": "1"},
            "Transform": {"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": "BRACKETS"}}
        },
        "OutputPath": "$.ResponseBody", "End": true}}});
    let (done, _) = run(&app, "form", definition, json!({})).await;
    let out: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(out["body"], "a%5B%5D=x&a%5B%5D=y&b=1");
    assert_eq!(
        out["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
}

#[tokio::test]
async fn an_http_status_outside_2xx_fails_with_its_code_and_catch_sees_the_response() {
    let peer = Peer::start().await;
    let app = app_for(&peer).await;
    let definition = json!({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
            "Parameters": {"ApiEndpoint": format!("{}/status/404", peer.url), "Method": "GET"},
            "Catch": [{"ErrorEquals": ["States.Http.StatusCode.404"], "Next": "Missing"}], "End": true},
        "Missing": {"Type": "Pass", "End": true}}});
    let (done, events) = run(&app, "status", definition, json!({})).await;
    assert_eq!(done["status"], "SUCCEEDED");
    let failed = &event(&events, "TaskFailed")["taskFailedEventDetails"];
    assert_eq!(failed["error"], "States.Http.StatusCode.404");
    let cause = parsed(&failed["cause"]);
    assert_eq!(cause["StatusCode"], 404);
    assert_eq!(cause["StatusText"], "Not Found");
    assert_eq!(cause["ResponseBody"], json!({"status": 404}));
    let out: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(out["Error"], "States.Http.StatusCode.404");
}

#[tokio::test]
async fn an_http_endpoint_that_refuses_connections_fails_with_states_http_socket() {
    let peer = Peer::start().await;
    let app = app_for(&peer).await;
    // A port nothing listens on: bound, then released.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let definition = json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint": format!("http://127.0.0.1:{closed_port}/x"), "Method": "GET"},
        "End": true}}});
    let (done, _) = run(&app, "socket", definition, json!({})).await;
    assert_eq!(done["status"], "FAILED");
    assert_eq!(done["error"], "States.Http.Socket");
    assert!(
        done["cause"]
            .as_str()
            .unwrap()
            .contains("Unable to execute HTTP request"),
        "{done}"
    );
}

#[tokio::test]
async fn lambda_invoke_returns_the_payload_with_the_sdk_metadata_and_signs_the_call() {
    let peer = Peer::start().await;
    let app = app_for(&peer).await;
    let definition = json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "echo", "Payload": {"n.$": "$.n"}, "LogType": "Tail"},
        "End": true}}});
    let (done, events) = run(&app, "invoke", definition, json!({"n": 3})).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let out: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    let members: Vec<&str> = out
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        members,
        [
            "ExecutedVersion",
            "LogResult",
            "Payload",
            "SdkHttpMetadata",
            "SdkResponseMetadata",
            "StatusCode"
        ]
    );
    assert_eq!(out["LogResult"], "U1RBUlQgZWNobw==");
    assert_eq!(out["ExecutedVersion"], "$LATEST");
    assert_eq!(out["Payload"], json!({"n": 3}));
    assert_eq!(out["StatusCode"], 200);
    assert_eq!(out["SdkHttpMetadata"]["HttpStatusCode"], 200);
    assert_eq!(
        out["SdkHttpMetadata"]["AllHttpHeaders"]["x-amz-executed-version"],
        json!(["$LATEST"])
    );
    assert_eq!(
        out["SdkResponseMetadata"]["RequestId"],
        out["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-requestid"]
    );
    let scheduled = &event(&events, "TaskScheduled")["taskScheduledEventDetails"];
    assert_eq!(
        (
            scheduled["resource"].as_str(),
            scheduled["resourceType"].as_str()
        ),
        (Some("invoke"), Some("lambda"))
    );
    // Signed as an AWS SDK signs: the test/test default credentials, the caller's region.
    let call = peer
        .seen()
        .into_iter()
        .find(|s| s.uri.starts_with("/2015-03-31/functions/echo/invocations"))
        .unwrap();
    let auth = call.headers["authorization"].as_str().unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=test/"),
        "{auth}"
    );
    assert!(auth.contains("/us-east-1/lambda/aws4_request"), "{auth}");
    assert!(call.headers.contains_key("x-amz-date"));
}

#[tokio::test]
async fn a_function_error_fails_the_task_with_its_error_type_and_payload_as_cause() {
    let peer = Peer::start().await;
    let app = app_for(&peer).await;
    let definition = json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "boom", "Payload": {}},
        "Retry": [{"ErrorEquals": ["ValueError"], "MaxAttempts": 1, "IntervalSeconds": 1}],
        "End": true}}});
    let (done, events) = run(&app, "boom", definition, json!({})).await;
    assert_eq!(done["status"], "FAILED");
    assert_eq!(done["error"], "ValueError");
    assert_eq!(
        done["cause"],
        r#"{"errorMessage":"it broke","errorType":"ValueError","stackTrace":["line 1"]}"#
    );
    // The retrier matched the function's error type: two calls, two TaskFailed.
    assert_eq!(
        kinds(&events).iter().filter(|k| *k == "TaskFailed").count(),
        2
    );
    assert_eq!(peer.hits("/2015-03-31/functions/boom"), 2);
}

#[tokio::test]
async fn a_function_arn_as_resource_records_lambda_function_events() {
    let peer = Peer::start().await;
    let app = app_for(&peer).await;
    let fail = json!({"StartAt": "F", "States": {"F": {"Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:boom", "End": true}}});
    let (done, events) = run(&app, "legacy-boom", fail, json!({"a": 1})).await;
    assert_eq!(
        kinds(&events),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionFailed",
            "ExecutionFailed"
        ]
    );
    assert_eq!(done["error"], "ValueError");
    // A function ARN's cause is spaced as Python prints JSON (recorded).
    assert_eq!(
        done["cause"],
        r#"{"errorMessage": "it broke", "errorType": "ValueError", "stackTrace": ["line 1"]}"#
    );
    let started = event(&events, "LambdaFunctionStarted");
    assert!(started.get("lambdaFunctionStartedEventDetails").is_none());
    let ok = json!({"StartAt": "F", "States": {"F": {"Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo", "TimeoutSeconds": 30, "End": true}}});
    let (done, events) = run(&app, "legacy-echo", ok, json!({"a": 1})).await;
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(done["output"], r#"{"a":1}"#);
    let scheduled =
        &event(&events, "LambdaFunctionScheduled")["lambdaFunctionScheduledEventDetails"];
    assert_eq!(
        scheduled["resource"],
        "arn:aws:lambda:us-east-1:123456789012:function:echo"
    );
    assert_eq!(scheduled["timeoutInSeconds"], 30);
    let succeeded =
        &event(&events, "LambdaFunctionSucceeded")["lambdaFunctionSucceededEventDetails"];
    assert_eq!(succeeded["output"], r#"{"a":1}"#);
}

#[tokio::test]
async fn a_missing_function_is_lambda_resource_not_found_with_the_sdk_cause() {
    let peer = Peer::start().await;
    let app = app_for(&peer).await;
    let definition = json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "nope"}, "End": true}}});
    let (done, _) = run(&app, "missing", definition, json!({})).await;
    assert_eq!(done["error"], "Lambda.ResourceNotFoundException");
    let cause = done["cause"].as_str().unwrap();
    assert!(
        cause.starts_with("Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: "),
        "{cause}"
    );
}

#[tokio::test]
async fn a_task_whose_service_has_no_endpoint_fails_at_once() {
    let app = TestApp::spawn().await;
    let definition = json!({"StartAt": "Send", "States": {"Send": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": "http://q", "MessageBody": "m"}, "End": true}}});
    let (done, events) = run(&app, "unset", definition, json!({})).await;
    assert_eq!(done["status"], "FAILED");
    assert_eq!(done["error"], "States.TaskFailed");
    assert_eq!(
        done["cause"],
        "sfnlite has no integration configured for the resource 'arn:aws:states:::sqs:sendMessage'"
    );
    assert_eq!(
        kinds(&events)[2..5],
        ["TaskScheduled", "TaskStarted", "TaskFailed"]
    );
}

#[tokio::test]
async fn a_call_that_outlasts_its_task_timeout_times_the_task_out() {
    let peer = Peer::start().await;
    let app = app_for(&peer).await;
    let definition = json!({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
            "Parameters": {"ApiEndpoint": format!("{}/slow", peer.url), "Method": "POST"},
            "TimeoutSeconds": 1,
            "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}], "End": true},
        "Late": {"Type": "Pass", "End": true}}});
    let (done, events) = run(&app, "late", definition, json!({})).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let timed_out = &event(&events, "TaskTimedOut")["taskTimedOutEventDetails"];
    assert_eq!(timed_out["error"], "States.Timeout");
    assert_eq!(peer.hits("/slow"), 1);
}

#[tokio::test]
async fn express_runs_and_test_state_make_outside_calls_too() {
    let peer = Peer::start().await;
    let app = app_for(&peer).await;
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "echo", "Payload.$": "$"},
        "OutputPath": "$.Payload", "End": true});
    let machine = app
        .client()
        .create_state_machine()
        .name("x")
        .definition(json!({"StartAt": "Call", "States": {"Call": task}}).to_string())
        .role_arn(crate::helpers::ROLE)
        .r#type(aws_sdk_sfn::types::StateMachineType::Express)
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    let (status, body, _) = app
        .call(
            "StartSyncExecution",
            json!({"stateMachineArn": machine, "input": "{\"k\":1}"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "SUCCEEDED", "{body}");
    assert_eq!(body["output"], r#"{"k":1}"#);
    let (status, body, _) = app
        .call(
            "TestState",
            json!({"definition": task.to_string(), "roleArn": crate::helpers::ROLE, "input": "{\"t\":2}"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "SUCCEEDED", "{body}");
    assert_eq!(body["output"], r#"{"t":2}"#);
    assert_eq!(peer.hits("/2015-03-31/functions/echo"), 2);
}

#[tokio::test]
async fn lambda_wait_for_task_token_resumes_when_the_function_answers_on_the_token() {
    let peer = Peer::start().await;
    let app = app_for(&peer).await;
    let definition = json!({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "echo", "Payload": {"token.$": "$$.Task.Token"}},
        "End": true}}});
    let machine = create(&app, "callback", &definition.to_string()).await;
    let (_, started, _) = app
        .call("StartExecution", json!({"stateMachineArn": machine}))
        .await;
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    // The function got the token in its payload; it answers later, out of band.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let token = loop {
        if let Some(s) = peer
            .seen()
            .into_iter()
            .find(|s| s.uri.starts_with("/2015-03-31/functions/echo"))
        {
            let payload: Value = serde_json::from_str(&s.body).unwrap();
            break payload["token"].as_str().unwrap().to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the function was never invoked"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    // The peer saw the request before its answer reached sfnlite: the token is sent once the
    // invocation's answer is recorded, as a function that answers later would.
    while !kinds(&history(&app, &arn, json!({})).await)
        .iter()
        .any(|k| k == "TaskSubmitted")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the invocation's answer was never recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    app.client()
        .send_task_success()
        .task_token(token)
        .output(r#"{"done":true}"#)
        .send()
        .await
        .unwrap();
    let done = closed(&app, &arn).await;
    assert_eq!(done["output"], r#"{"done":true}"#);
    let events = history(&app, &arn, json!({})).await;
    assert_eq!(
        kinds(&events)[2..6],
        [
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded"
        ]
    );
    // The submission's output is what Invoke answered.
    let submitted = parsed(&event(&events, "TaskSubmitted")["taskSubmittedEventDetails"]["output"]);
    assert_eq!(submitted["StatusCode"], 200);
}

#[tokio::test]
async fn a_graceful_restart_lets_a_call_in_flight_finish_and_records_its_answer() {
    let peer = Peer::start().await;
    let mut app = app_for(&peer).await;
    let definition = json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint": format!("{}/delay/300/graceful", peer.url), "Method": "POST"},
        "OutputPath": "$.StatusCode", "End": true}}});
    let machine = create(&app, "graceful", &definition.to_string()).await;
    let (_, started, _) = app
        .call("StartExecution", json!({"stateMachineArn": machine}))
        .await;
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while peer.calls_to("/delay/300/graceful") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the call was never made"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    app.restart().await;
    let done = closed(&app, &arn).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["output"], "200");
    assert_eq!(peer.calls_to("/delay/300/graceful"), 1);
}

#[tokio::test]
async fn test_state_at_trace_shows_the_http_request_and_response_and_hides_connection_secrets() {
    let peer = Peer::start().await;
    let app = app_for(&peer).await;
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint": format!("{}/echo/t", peer.url), "Method": "POST",
            "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/api/1"},
            "Headers": {"X-Own": "1"}, "RequestBody": {"a": 1}},
        "End": true});
    let test = |reveal: bool| {
        json!({"definition": task.to_string(), "roleArn": crate::helpers::ROLE,
            "inspectionLevel": "TRACE", "revealSecrets": reveal})
    };
    let (status, body, _) = app.call("TestState", test(false)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "SUCCEEDED", "{body}");
    let data = &body["inspectionData"];
    let request = &data["request"];
    assert_eq!(request["method"], "POST");
    assert_eq!(request["protocol"], "http");
    assert_eq!(request["url"], format!("{}/echo/t", peer.url));
    assert_eq!(request["body"], r#"{"a":1}"#);
    let headers: Value = serde_json::from_str(request["headers"].as_str().unwrap()).unwrap();
    assert_eq!(headers["x-own"], "1");
    assert!(headers.get("x-api-key").is_none(), "{headers}");
    let response = &data["response"];
    assert_eq!(response["statusCode"], "200");
    assert_eq!(response["statusMessage"], "OK");
    assert!(response["body"]
        .as_str()
        .unwrap()
        .contains("/echo/t?tenant=t1"));
    // The call itself carried the connection's key and query either way.
    assert!(data["result"].as_str().unwrap().contains("k1"));
    let (_, body, _) = app.call("TestState", test(true)).await;
    let request = &body["inspectionData"]["request"];
    assert_eq!(request["url"], format!("{}/echo/t?tenant=t1", peer.url));
    let headers: Value = serde_json::from_str(request["headers"].as_str().unwrap()).unwrap();
    assert_eq!(headers["x-api-key"], "k1");
    // DEBUG shows no request or response.
    let (_, body, _) = app
        .call(
            "TestState",
            json!({"definition": task.to_string(), "roleArn": crate::helpers::ROLE, "inspectionLevel": "DEBUG"}),
        )
        .await;
    assert!(body["inspectionData"].get("request").is_none(), "{body}");
}

#[tokio::test]
async fn an_oauth_connection_fetches_a_token_once_and_sends_it_as_bearer() {
    let peer = Peer::start().await;
    let app = app_for(&peer).await;
    let call = |connection: &str| {
        json!({"StartAt": "Call", "States": {"Call": {
            "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
            "Parameters": {"ApiEndpoint": format!("{}/echo/secure", peer.url), "Method": "GET",
                "Authentication": {"ConnectionArn": format!("arn:aws:events:us-east-1:123456789012:connection/{connection}")}},
            "OutputPath": "$.ResponseBody.headers", "End": true}}})
    };
    let (first, _) = run(&app, "oauth-1", call("oauth/1"), json!({})).await;
    let (second, _) = run(&app, "oauth-2", call("oauth/1"), json!({})).await;
    for done in [&first, &second] {
        let headers: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
        assert_eq!(headers["authorization"], "Bearer t-1", "{done}");
    }
    // One token request, form-encoded client credentials grant with the extra body.
    let asked: Vec<_> = peer
        .seen()
        .into_iter()
        .filter(|s| s.uri == "/oauth/token")
        .collect();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].body, "grant_type=client_credentials&scope=orders");
    let (refused, _) = run(&app, "oauth-bad", call("oauth/bad"), json!({})).await;
    assert_eq!(refused["status"], "FAILED");
    assert_eq!(refused["error"], "States.Http.StatusCode.401");
    assert_eq!(peer.calls_to("/echo/secure"), 2);
}

#[tokio::test]
async fn calls_beyond_call_concurrency_wait_for_a_free_slot() {
    let peer = Peer::start().await;
    let url = peer.url.clone();
    let app = TestApp::spawn_with(move |c| {
        c.endpoints = format!("default={url}").parse().unwrap();
        c.call_concurrency = 1;
    })
    .await;
    let call = |path: &str, timeout: u64| {
        json!({"StartAt": "Call", "States": {"Call": {
            "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
            "Parameters": {"ApiEndpoint": format!("{}{path}", peer.url), "Method": "POST"},
            "TimeoutSeconds": timeout,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "End": true},
            "Done": {"Type": "Pass", "End": true}}})
    };
    let hog = create(&app, "hog", &call("/slow", 1).to_string()).await;
    let (_, started, _) = app
        .call("StartExecution", json!({"stateMachineArn": hog}))
        .await;
    let hog_arn = started["executionArn"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while peer.calls_to("/slow") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the first call was never made"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let t0 = std::time::Instant::now();
    let (done, _) = run(&app, "queued", call("/echo/queued", 30), json!({})).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    // The only slot was held until the first call gave up: its task's 1 s and the 2 s the
    // client waits beyond it.
    assert!(
        t0.elapsed() >= std::time::Duration::from_millis(1500),
        "the second call did not wait for the slot ({:?})",
        t0.elapsed()
    );
    assert_eq!(peer.calls_to("/echo/queued"), 1);
    let hog = closed(&app, &hog_arn).await;
    assert_eq!(hog["status"], "SUCCEEDED");
}
