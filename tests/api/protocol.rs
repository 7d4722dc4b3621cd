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

/// The operations of the service model (`stepfunctions-service-2.json`).
const MODEL_OPERATIONS: [&str; 37] = [
    "CreateActivity",
    "CreateStateMachine",
    "CreateStateMachineAlias",
    "DeleteActivity",
    "DeleteStateMachine",
    "DeleteStateMachineAlias",
    "DeleteStateMachineVersion",
    "DescribeActivity",
    "DescribeExecution",
    "DescribeMapRun",
    "DescribeStateMachine",
    "DescribeStateMachineAlias",
    "DescribeStateMachineForExecution",
    "GetActivityTask",
    "GetExecutionHistory",
    "ListActivities",
    "ListExecutions",
    "ListMapRuns",
    "ListStateMachineAliases",
    "ListStateMachineVersions",
    "ListStateMachines",
    "ListTagsForResource",
    "PublishStateMachineVersion",
    "RedriveExecution",
    "SendTaskFailure",
    "SendTaskHeartbeat",
    "SendTaskSuccess",
    "StartExecution",
    "StartSyncExecution",
    "StopExecution",
    "TagResource",
    "TestState",
    "UntagResource",
    "UpdateMapRun",
    "UpdateStateMachine",
    "UpdateStateMachineAlias",
    "ValidateStateMachineDefinition",
];

#[tokio::test]
async fn every_operation_of_the_model_is_served() {
    let app = TestApp::spawn().await;
    for name in MODEL_OPERATIONS {
        let r = app.call(name, json!({})).await;
        assert_ne!(
            r.1["__type"], "UnknownOperationException",
            "{name}: {:?}",
            r.1
        );
        assert_ne!(r.1["__type"], "UnsupportedOperation", "{name}: {:?}", r.1);
    }
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
async fn health_answers_ok_and_names_the_database_when_it_answers() {
    let app = TestApp::spawn().await;
    let r = reqwest::get(format!("{}/health", app.url)).await.unwrap();
    assert_eq!(r.status(), 200);
    let health = r.json::<serde_json::Value>().await.unwrap();
    if app.on_postgres() {
        let replica = health["replica"].as_str().unwrap_or_default().to_owned();
        assert!(uuid::Uuid::parse_str(&replica).is_ok(), "{health}");
        assert_eq!(
            health,
            json!({"status": "ok", "database": "postgresql", "replica": replica})
        );
    } else {
        assert_eq!(health, json!({"status": "ok", "database": "sqlite"}));
    }
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

/// Reads one HTTP/1.1 response (head and Content-Length body) from a raw socket.
fn read_response(reader: &mut std::io::BufReader<std::net::TcpStream>) -> (String, String) {
    use std::io::{BufRead, Read};
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).unwrap();
        assert!(
            n > 0,
            "connection closed without a response; head so far: {head:?}"
        );
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (head, String::from_utf8(body).unwrap())
}

async fn early_answer_leaves_the_connection_usable(target: &'static str) {
    use std::io::Write;
    let app = TestApp::spawn().await;
    let addr = app.url.trim_start_matches("http://").to_owned();
    let (first, second) = tokio::task::spawn_blocking(move || {
        let stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = std::io::BufReader::new(stream);
        let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(200 * 1024));
        write!(
            writer,
            "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {target}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        writer.write_all(&body.as_bytes()[..1024]).unwrap();
        writer.flush().unwrap();
        writer.write_all(&body.as_bytes()[1024..]).unwrap();
        write!(
            writer,
            "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{{}}"
        )
        .unwrap();
        writer.flush().unwrap();
        (read_response(&mut reader), read_response(&mut reader))
    })
    .await
    .unwrap();
    assert!(first.0.starts_with("HTTP/1.1 400"), "{first:?}");
    assert!(second.0.starts_with("HTTP/1.1 200"), "{second:?}");
    assert!(second.1.contains("stateMachines"), "{second:?}");
}

#[tokio::test]
async fn an_unknown_target_with_a_large_body_leaves_the_connection_usable() {
    early_answer_leaves_the_connection_usable("AWSStepFunctions.NoSuchOperation").await;
    early_answer_leaves_the_connection_usable("X.Y").await;
}

#[tokio::test]
async fn an_operation_not_served_yet_leaves_the_connection_usable() {
    early_answer_leaves_the_connection_usable("AWSStepFunctions.TestState").await;
}

#[tokio::test]
async fn an_answer_before_the_body_is_read_closes_the_connection() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 1024).await;
    let r = reqwest::Client::new()
        .post(format!("{}/", app.url))
        .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
        .body("x".repeat(4096))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["connection"], "close");
    let r = reqwest::Client::new()
        .put(format!("{}/", app.url))
        .body("x".repeat(100))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["connection"], "close");
}
