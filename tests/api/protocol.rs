//! The AWS JSON 1.0 protocol edges that SDKs never produce (aws-behavior.md §13.3).

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn unknown_target_is_unknown_operation_exception() {
    let app = TestApp::spawn().await;
    let r = app
        .raw(Some("AWSStepFunctions.Frobnicate"), b"{}".to_vec())
        .await;
    assert_error(
        &r,
        400,
        "UnknownOperationException",
        "Unknown operation: 'AWSStepFunctions.Frobnicate'",
    );
}

#[tokio::test]
async fn missing_target_is_unknown_operation_exception() {
    let app = TestApp::spawn().await;
    let r = app.raw(None, b"{}".to_vec()).await;
    assert_error(
        &r,
        400,
        "UnknownOperationException",
        "Unknown operation: ''",
    );
}

#[tokio::test]
async fn model_operation_not_implemented_is_unsupported_operation() {
    let app = TestApp::spawn().await;
    let r = app.call("CreateActivity", json!({"name": "a"})).await;
    assert_error(
        &r,
        400,
        "UnsupportedOperation",
        "CreateActivity is not supported by sfnlite",
    );
}

#[tokio::test]
async fn empty_body_is_an_empty_object() {
    let app = TestApp::spawn().await;
    let r = app
        .raw(Some("AWSStepFunctions.ListStateMachines"), Vec::new())
        .await;
    assert_eq!(r.0, 200);
    assert_eq!(r.1, json!({"stateMachines": []}));
}

#[tokio::test]
async fn body_that_is_not_a_json_object_is_a_serialization_exception() {
    let app = TestApp::spawn().await;
    for body in [&b"not json"[..], b"[1,2]", b"\"s\"", b"{\"maxResults\":"] {
        let r = app
            .raw(Some("AWSStepFunctions.ListStateMachines"), body.to_vec())
            .await;
        assert_eq!(r.0, 400, "{body:?}");
        assert_eq!(r.1["__type"], "SerializationException", "{body:?}");
    }
}

#[tokio::test]
async fn member_of_the_wrong_type_is_a_serialization_exception() {
    let app = TestApp::spawn().await;
    let r = app
        .call("ListStateMachines", json!({"maxResults": "ten"}))
        .await;
    assert_eq!(r.0, 400);
    assert_eq!(r.1["__type"], "SerializationException");
    let r = app.call("CreateStateMachine", json!({"name": "x", "definition": base_definition(), "roleArn": ROLE, "publish": "yes"})).await;
    assert_eq!(r.1["__type"], "SerializationException");
}

#[tokio::test]
async fn unknown_members_are_ignored() {
    let app = TestApp::spawn().await;
    let r = app
        .call("ListStateMachines", json!({"someFutureMember": 1}))
        .await;
    assert_eq!(r.0, 200);
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 1024).await;
    let big = json!({"name": "x".repeat(2000)}).to_string().into_bytes();
    let r = app
        .raw(Some("AWSStepFunctions.CreateStateMachine"), big)
        .await;
    assert_eq!(r.0, 413);
    assert_eq!(r.1["__type"], "RequestEntityTooLargeException");
    // The service is still up and the rejected request changed nothing.
    let r = app.call("ListStateMachines", json!({})).await;
    assert_eq!(r.1, json!({"stateMachines": []}));
}

#[tokio::test]
async fn other_methods_and_paths_get_json_errors() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let r = http.get(format!("{}/", app.url)).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.headers().contains_key("x-amzn-requestid"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["__type"], "MethodNotAllowedException");
    let r = http
        .post(format!("{}/nope", app.url))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["__type"], "NotFoundException");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_the_json_content_type() {
    let app = TestApp::spawn().await;
    for r in [
        app.call("ListStateMachines", json!({})).await,
        app.raw(None, vec![]).await,
    ] {
        let id =
            r.2.get("x-amzn-requestid")
                .expect("request id")
                .to_str()
                .unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(
            r.2.get("content-type").unwrap(),
            "application/x-amz-json-1.0"
        );
    }
}

#[tokio::test]
async fn health_answers_ok_when_the_database_does() {
    let app = TestApp::spawn().await;
    let r = reqwest::get(format!("{}/health", app.url)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap(),
        json!({"status": "ok"})
    );
}

#[tokio::test]
async fn timestamps_are_epoch_seconds_numbers() {
    let app = TestApp::spawn().await;
    let r = app
        .call(
            "CreateStateMachine",
            json!({"name": "t", "definition": base_definition(), "roleArn": ROLE}),
        )
        .await;
    let date = r.1["creationDate"].as_f64().expect("a JSON number");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - date).abs() < 60.0, "{date} vs {now}");
}

#[tokio::test]
async fn missing_required_members_are_reported_in_the_coral_framing() {
    let app = TestApp::spawn().await;
    let r = app.call("CreateStateMachine", json!({"name": "x"})).await;
    assert_error(
        &r,
        400,
        "ValidationException",
        "2 validation errors detected: Value null at 'definition' failed to satisfy constraint: Member must not be null; \
         Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
    );
}

#[tokio::test]
async fn the_binary_prints_its_port_and_serves_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = sfnlite_command(&["serve", "--listen", "127.0.0.1:0", "--db"]);
    cmd.arg(dir.path().join("db/sfnlite.db"));
    let mut server = Binary::start(cmd);
    server.drain_stderr();
    let r = reqwest::get(format!("http://{}/health", server.addr))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    server.kill();
}

#[tokio::test]
async fn cors_lets_configured_browser_origins_call_the_api() {
    let app = TestApp::spawn_with(|c| c.cors_origins = vec!["http://localhost:5173".into()]).await;
    let http = reqwest::Client::new();
    // The preflight the JavaScript SDK's POST triggers in a browser.
    let pre = http
        .request(reqwest::Method::OPTIONS, format!("{}/", app.url))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-date,x-amz-target,x-amz-user-agent",
        )
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success(), "{}", pre.status());
    assert_eq!(
        pre.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let allowed = pre.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    for h in ["x-amz-target", "authorization", "amz-sdk-invocation-id"] {
        assert!(allowed.contains(h), "{allowed}");
    }
    let r = http
        .post(format!("{}/", app.url))
        .header("origin", "http://localhost:5173")
        .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    assert!(r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("x-amzn-requestid"));
    let other = http
        .post(format!("{}/", app.url))
        .header("origin", "http://evil.example")
        .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn without_configured_origins_no_cors_headers_are_sent() {
    let app = TestApp::spawn().await;
    let r = reqwest::Client::new()
        .post(format!("{}/", app.url))
        .header("origin", "http://localhost:5173")
        .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(!r.headers().contains_key("access-control-allow-origin"));
}
