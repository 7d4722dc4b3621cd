//! Hostile input and access: SigV4 verification, request limits, tenant isolation and the
//! network-exposure warning.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_sfn::config::{retry::RetryConfig, BehaviorVersion, Credentials, Region};
use serde_json::json;
use sfnlite::config::AuthMode;

use crate::helpers::*;

/// The keys of the sigv4 tests, in the configuration's own form.
fn keys() -> Vec<String> {
    [
        // No account named: a key id that is not 12 digits belongs to account_id.
        "AKIDTEST:secret-one",
        // A 12-digit key id is its own account.
        "111122223333:secret-two",
        "ASIATEMP:secret-three:token-3",
        "AKIDBOUND:secret-four@444455556666",
    ]
    .map(str::to_owned)
    .to_vec()
}

async fn sigv4_app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.auth_mode = AuthMode::Sigv4;
        c.access_keys = keys();
    })
    .await
}

fn client(app: &TestApp, id: &str, secret: &str, token: Option<&str>) -> aws_sdk_sfn::Client {
    let conf = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&app.url)
        .credentials_provider(Credentials::new(
            id,
            secret,
            token.map(str::to_owned),
            None,
            "tests",
        ))
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_sfn::Client::from_conf(conf)
}

/// Signs a raw request with the aws-sigv4 crate (an implementation independent of ours).
fn signed_request(
    app: &TestApp,
    body: &str,
    secret: &str,
    at: SystemTime,
) -> reqwest::RequestBuilder {
    let (req, _) = signed_as(app, ("AKIDTEST", secret), "ListStateMachines", body, at);
    req
}

/// Signs `target` with `body` as key `(id, secret)` in us-east-1; also returns the headers.
fn signed_as(
    app: &TestApp,
    (id, secret): (&str, &str),
    target: &str,
    body: &str,
    at: SystemTime,
) -> (reqwest::RequestBuilder, Vec<(String, String)>) {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    let identity = aws_credential_types::Credentials::new(id, secret, None, None, "tests").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("states")
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let url = format!("{}/", app.url);
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let target = format!("AWSStepFunctions.{target}");
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", target.as_str()),
    ];
    let signable = SignableRequest::new(
        "POST",
        &url,
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut all: Vec<(String, String)> = headers
        .iter()
        .skip(1)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in instructions.headers() {
        all.push((k.to_string(), v.to_string()));
    }
    let mut req = reqwest::Client::new().post(&url).body(body.to_owned());
    for (k, v) in &all {
        req = req.header(k, v);
    }
    (req, all)
}

/// Sends `target` signed as `key`, with its Authorization header passed through `edit`.
async fn send_with_edited_authorization(
    app: &TestApp,
    key: (&str, &str),
    target: &str,
    body: &str,
    edit: impl Fn(&str) -> String,
) -> (u16, serde_json::Value) {
    let (_, headers) = signed_as(app, key, target, body, SystemTime::now());
    let mut req = reqwest::Client::new()
        .post(format!("{}/", app.url))
        .body(body.to_owned());
    for (k, v) in &headers {
        let v = if k == "authorization" {
            edit(v)
        } else {
            v.clone()
        };
        req = req.header(k, v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn a_signed_key_never_reaches_another_accounts_machines_by_any_header_trick() {
    let app = sigv4_app().await;
    // Arrange: a machine in account 111122223333, created with that account's own key.
    let owner = client(&app, "111122223333", "secret-two", None);
    let arn = owner
        .create_state_machine()
        .name("private")
        .definition(base_definition())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    let describe = json!({ "stateMachineArn": arn }).to_string();
    let key = ("AKIDTEST", "secret-one");

    // Each trick, and AWS's answer to it.
    type Edit = fn(&str) -> String;
    let tricks: [(&str, Edit, u16, &str); 4] = [
        (
            // The request that used to get through: a forged Credential (the victim's account
            // and region) before the attacker's own, validly signed one. The scope took the
            // first, the verifier the last.
            "forged credential first",
            |auth| {
                auth.replacen(
                    "Credential=",
                    "Credential=111122223333/20260101/us-east-1/states/aws4_request, Credential=",
                    1,
                )
            },
            400,
            "IncompleteSignatureException",
        ),
        (
            "forged credential last",
            |auth| {
                auth.replacen(
                    ", SignedHeaders=",
                    ", Credential=111122223333/20260101/us-east-1/states/aws4_request, SignedHeaders=",
                    1,
                )
            },
            400,
            "IncompleteSignatureException",
        ),
        (
            "victim's key id with the attacker's signature",
            |auth| auth.replacen("AKIDTEST/", "111122223333/", 1),
            403,
            "InvalidSignatureException",
        ),
        (
            "credential smuggled into SignedHeaders",
            |auth| {
                auth.replacen(
                    "SignedHeaders=",
                    "SignedHeaders=x-credential=111122223333/20260101/us-east-1/states/aws4_request;",
                    1,
                )
            },
            403,
            "InvalidSignatureException",
        ),
    ];
    for (what, edit, status, code) in tricks {
        let (got, body) =
            send_with_edited_authorization(&app, key, "DescribeStateMachine", &describe, edit)
                .await;
        assert_eq!(
            (got, body["__type"].as_str()),
            (status, Some(code)),
            "{what}: {body}"
        );
    }
    // Signed honestly, the key acts in its own account, where the ARN names nothing.
    let (status, body) =
        send_with_edited_authorization(&app, key, "DescribeStateMachine", &describe, str::to_owned)
            .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("StateMachineDoesNotExist")),
        "{body}"
    );

    // A key bound to an account acts there, whatever its id looks like.
    let bound = client(&app, "AKIDBOUND", "secret-four", None);
    let bound_arn = bound
        .create_state_machine()
        .name("mine")
        .definition(base_definition())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    assert_eq!(
        bound_arn,
        "arn:aws:states:us-east-1:444455556666:stateMachine:mine"
    );
    let (code, _) = failure(
        bound
            .describe_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await,
    );
    assert_eq!(code, "StateMachineDoesNotExist");
    // The owner still has its machine, untouched.
    owner
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_repeated_credential_is_refused_even_without_signature_checks() {
    let app = TestApp::spawn().await;
    let r = reqwest::Client::new()
        .post(format!("{}/", app.url))
        .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=111111111111/20260101/us-east-1/states/aws4_request, Credential=222222222222/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=abc",
        )
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["__type"], "IncompleteSignatureException");
}

#[tokio::test]
async fn sigv4_accepts_correctly_signed_sdk_requests() {
    let app = sigv4_app().await;
    let c = client(&app, "AKIDTEST", "secret-one", None);
    let arn = c
        .create_state_machine()
        .name("m")
        .definition(base_definition())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    assert_eq!(
        arn,
        format!("arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:m")
    );
    // A 12-digit key id is still the caller's account.
    let c2 = client(&app, "111122223333", "secret-two", None);
    let arn2 = c2
        .create_state_machine()
        .name("m")
        .definition(base_definition())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    assert_eq!(arn2, "arn:aws:states:us-east-1:111122223333:stateMachine:m");
    let t = client(&app, "ASIATEMP", "secret-three", Some("token-3"));
    t.list_state_machines().send().await.unwrap();
}

#[tokio::test]
async fn sigv4_refuses_bad_credentials_with_aws_errors() {
    let app = sigv4_app().await;
    let (code, message) = failure(
        client(&app, "AKIDTEST", "wrong", None)
            .list_state_machines()
            .send()
            .await,
    );
    assert_eq!(code, "InvalidSignatureException");
    assert!(
        message.starts_with("The request signature we calculated does not match"),
        "{message}"
    );
    let (code, message) = failure(
        client(&app, "AKIDNOBODY", "x", None)
            .list_state_machines()
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "UnrecognizedClientException",
            "The security token included in the request is invalid."
        )
    );
    let (code, _) = failure(
        client(&app, "ASIATEMP", "secret-three", Some("stolen"))
            .list_state_machines()
            .send()
            .await,
    );
    assert_eq!(code, "UnrecognizedClientException");

    let r = app.call("ListStateMachines", json!({})).await;
    assert_error(
        &r,
        403,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    );
    let r = reqwest::Client::new()
        .post(format!("{}/", app.url))
        .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc",
        )
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["__type"], "IncompleteSignatureException");
}

#[tokio::test]
async fn sigv4_refuses_stale_signatures_and_tampered_bodies() {
    let app = sigv4_app().await;
    let fresh = signed_request(&app, "{}", "secret-one", SystemTime::now())
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    let old = SystemTime::now() - Duration::from_secs(600);
    let r = signed_request(&app, "{}", "secret-one", old)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["__type"], "InvalidSignatureException");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Signature expired: "),
        "{body}"
    );
    // The signature covers the body.
    let tampered = signed_request(&app, "{}", "secret-one", SystemTime::now())
        .body(r#"{"maxResults":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 403);
}

fn raw_stream(app: &TestApp) -> TcpStream {
    let s = TcpStream::connect(app.url.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_dropped_after_the_idle_timeout() {
    let app = TestApp::spawn_with(|c| c.idle_timeout_ms = 200).await;
    let started = Instant::now();
    let outcome = tokio::task::spawn_blocking({
        let mut s = raw_stream(&app);
        move || {
            s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n").unwrap();
            let mut buf = [0u8; 512];
            s.read(&mut buf)
                .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
        }
    })
    .await
    .unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(3),
        "dropped after {elapsed:?}"
    );
    // The server either closed the connection or answered 408 before closing it.
    if let Ok(text) = outcome {
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 408"),
            "{text}"
        );
    }
    assert_eq!(app.call("ListStateMachines", json!({})).await.0, 200);
}

#[tokio::test]
async fn a_client_trickling_its_body_gets_408() {
    let app = TestApp::spawn_with(|c| c.idle_timeout_ms = 200).await;
    let text = tokio::task::spawn_blocking({
        let mut s = raw_stream(&app);
        move || {
            s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\nContent-Length: 100\r\n\r\n{\"max").unwrap();
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            out
        }
    })
    .await
    .unwrap();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("RequestTimeoutException"), "{text}");
}

#[tokio::test]
async fn an_oversized_request_head_is_refused_and_the_service_stays_up() {
    let app = TestApp::spawn_with(|c| c.max_header_bytes = 8192).await;
    let text = tokio::task::spawn_blocking({
        let mut s = raw_stream(&app);
        move || {
            let big = "a".repeat(64 * 1024);
            let _ = s.write_all(
                format!("POST / HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes(),
            );
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            out
        }
    })
    .await
    .unwrap();
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "{text}"
    );
    assert_eq!(app.call("ListStateMachines", json!({})).await.0, 200);
}

#[tokio::test]
async fn a_request_over_the_request_timeout_gets_408_and_never_commits_afterwards() {
    let app = TestApp::spawn_with(|c| {
        c.request_timeout_ms = 200;
        c.busy_timeout_ms = 5000;
    })
    .await;
    let arn = app.create_machine("m").await;
    let other = rusqlite::Connection::open(&app.config.db).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let started = Instant::now();
    let r = app
        .call(
            "PublishStateMachineVersion",
            json!({"stateMachineArn": arn}),
        )
        .await;
    assert_eq!(r.0, 408);
    assert_eq!(r.1["__type"], "RequestTimeoutException");
    // A pure write waits in the writer's queue behind the lock, then is abandoned.
    let late = app
        .call(
            "CreateStateMachine",
            json!({"name": "late", "definition": base_definition(), "roleArn": ROLE}),
        )
        .await;
    assert_eq!(late.0, 408, "{:?}", late.1);
    assert!(started.elapsed() < Duration::from_secs(3));
    other.execute_batch("ROLLBACK").unwrap();
    // The writer answers in queue order: once this create is acknowledged, anything queued
    // before it has been decided.
    app.create_machine("after").await;
    let names: Vec<String> = app.call("ListStateMachines", json!({})).await.1["stateMachines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["after", "m"]);
    let versions = app
        .call("ListStateMachineVersions", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(versions.1["stateMachineVersions"], json!([]));
}

#[tokio::test]
async fn deeply_nested_json_is_a_serialization_exception() {
    let app = TestApp::spawn().await;
    let deep = format!("{{\"x\":{}1{}}}", "[".repeat(100), "]".repeat(100));
    let r = app
        .raw(
            Some("AWSStepFunctions.ListStateMachines"),
            deep.into_bytes(),
        )
        .await;
    assert_error(
        &r,
        400,
        "SerializationException",
        "Request body nests JSON deeper than 64 levels",
    );
    let deep_definition = format!("{{\"StartAt\":\"A\",\"States\":{{\"A\":{{\"Type\":\"Pass\",\"End\":true,\"Result\":{}1{}}}}}}}", "[".repeat(500), "]".repeat(500));
    let r = app
        .call(
            "CreateStateMachine",
            json!({"name": "deep", "definition": deep_definition, "roleArn": ROLE}),
        )
        .await;
    assert_eq!(r.0, 400);
    assert_eq!(r.1["__type"], "InvalidDefinition");
}

#[tokio::test]
async fn binding_beyond_loopback_warns_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = sfnlite_command(&["--listen", "0.0.0.0:0", "--db"]);
    cmd.arg(dir.path().join("db"));
    let mut server = Binary::start(cmd);
    let lines: Vec<String> = server
        .log_lines()
        .take_while(|l| !l.contains("sfnlite started"))
        .collect();
    server.kill();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("listening beyond loopback")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn accounts_and_regions_never_see_each_other() {
    let app = TestApp::spawn().await;
    let a = app.client_as("111111111111", "us-east-1");
    let b = app.client_as("222222222222", "us-east-1");
    let a_west = app.client_as("111111111111", "us-west-2");
    let arn = a
        .create_state_machine()
        .name("shared-name")
        .definition(base_definition())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    assert_eq!(
        arn,
        "arn:aws:states:us-east-1:111111111111:stateMachine:shared-name"
    );
    a.publish_state_machine_version()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();

    for other in [&b, &a_west] {
        assert!(other
            .list_state_machines()
            .send()
            .await
            .unwrap()
            .state_machines
            .is_empty());
        let (code, _) = failure(
            other
                .describe_state_machine()
                .state_machine_arn(&arn)
                .send()
                .await,
        );
        assert_eq!(code, "StateMachineDoesNotExist");
        let (code, _) = failure(
            other
                .publish_state_machine_version()
                .state_machine_arn(&arn)
                .send()
                .await,
        );
        assert_eq!(code, "StateMachineDoesNotExist");
        let (code, _) = failure(
            other
                .list_tags_for_resource()
                .resource_arn(&arn)
                .send()
                .await,
        );
        assert_eq!(code, "ResourceNotFound");
        // Deleting another tenant's machine is a no-op for the owner.
        other
            .delete_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap();
    }
    // The same name is free in another account.
    let b_arn = b
        .create_state_machine()
        .name("shared-name")
        .definition(base_definition())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap();
    assert_eq!(
        b_arn.state_machine_arn,
        "arn:aws:states:us-east-1:222222222222:stateMachine:shared-name"
    );
    let d = a
        .describe_state_machine()
        .state_machine_arn(format!("{arn}:1"))
        .send()
        .await
        .unwrap();
    assert_eq!(d.state_machine_arn, format!("{arn}:1"));
}

#[tokio::test]
async fn tenants_never_touch_each_others_versions_aliases_or_tags() {
    let app = TestApp::spawn().await;
    let owner = app.client_as("111111111111", "us-east-1");
    let arn = owner
        .create_state_machine()
        .name("m")
        .definition(base_definition())
        .role_arn(ROLE)
        .publish(true)
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    let v1 = format!("{arn}:1");
    let item = aws_sdk_sfn::types::RoutingConfigurationListItem::builder()
        .state_machine_version_arn(&v1)
        .weight(100)
        .build()
        .unwrap();
    let alias = owner
        .create_state_machine_alias()
        .name("prod")
        .routing_configuration(item.clone())
        .send()
        .await
        .unwrap()
        .state_machine_alias_arn;
    owner
        .tag_resource()
        .resource_arn(&arn)
        .tags(
            aws_sdk_sfn::types::Tag::builder()
                .key("k")
                .value("v")
                .build(),
        )
        .send()
        .await
        .unwrap();

    for intruder in [
        app.client_as("222222222222", "us-east-1"),
        app.client_as("111111111111", "eu-west-1"),
    ] {
        let (code, _) = failure(
            intruder
                .describe_state_machine()
                .state_machine_arn(&v1)
                .send()
                .await,
        );
        assert_eq!(code, "StateMachineDoesNotExist");
        let (code, _) = failure(
            intruder
                .list_state_machine_versions()
                .state_machine_arn(&arn)
                .send()
                .await,
        );
        assert_eq!(code, "StateMachineDoesNotExist");
        let (code, _) = failure(
            intruder
                .list_state_machine_aliases()
                .state_machine_arn(&arn)
                .send()
                .await,
        );
        assert_eq!(code, "StateMachineDoesNotExist");
        let (code, _) = failure(
            intruder
                .describe_state_machine_alias()
                .state_machine_alias_arn(&alias)
                .send()
                .await,
        );
        assert_eq!(code, "ResourceNotFound");
        let (code, _) = failure(
            intruder
                .update_state_machine_alias()
                .state_machine_alias_arn(&alias)
                .description("x")
                .send()
                .await,
        );
        assert_eq!(code, "ResourceNotFound");
        let (code, _) = failure(
            intruder
                .create_state_machine_alias()
                .name("steal")
                .routing_configuration(item.clone())
                .send()
                .await,
        );
        assert_eq!(code, "ResourceNotFound");
        let (code, _) = failure(
            intruder
                .update_state_machine()
                .state_machine_arn(&arn)
                .definition(definition("x"))
                .send()
                .await,
        );
        assert_eq!(code, "StateMachineDoesNotExist");
        let (code, _) = failure(
            intruder
                .untag_resource()
                .resource_arn(&arn)
                .tag_keys("k")
                .send()
                .await,
        );
        assert_eq!(code, "ResourceNotFound");
        // Deletes by an intruder are no-ops for the owner.
        intruder
            .delete_state_machine_alias()
            .state_machine_alias_arn(&alias)
            .send()
            .await
            .unwrap();
        intruder
            .delete_state_machine_version()
            .state_machine_version_arn(&v1)
            .send()
            .await
            .unwrap();
        intruder
            .delete_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap();
    }
    owner
        .describe_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .send()
        .await
        .unwrap();
    owner
        .describe_state_machine()
        .state_machine_arn(&v1)
        .send()
        .await
        .unwrap();
    let tags = owner
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!(tags.len(), 1);
}
