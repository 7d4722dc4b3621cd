//! The AWS integrations against a real AWS emulator: moto in server mode (pinned in
//! `tests/moto/requirements.lock`, installed into `tests/moto/.venv` by `scripts/test.sh`),
//! one per test on a free loopback port. SQS (with `.waitForTaskToken` and a worker that
//! reads the queue and answers on the token), SNS, DynamoDB, EventBridge and S3, their
//! outputs and their error names. Run by `scripts/test.sh` (`--ignored`), as they need moto.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::executions::{chain, closed, create, history, parsed};
use crate::helpers::TestApp;
use crate::outside::run;

/// A moto server for one test, killed when dropped.
struct Moto {
    url: String,
    child: Child,
    http: reqwest::Client,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    async fn start() -> Moto {
        let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/moto/.venv/bin/moto_server");
        assert!(
            bin.exists(),
            "moto is not installed: scripts/test.sh installs it into tests/moto/.venv"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto {
            url: format!("http://127.0.0.1:{port}"),
            child,
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while moto
            .http
            .get(format!("{}/moto-api/", moto.url))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "moto did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        moto
    }

    /// A JSON-protocol call made directly, to set up or look at what sfnlite did.
    async fn json(&self, service: &str, target: &str, version: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(format!("{}/", self.url))
            .header("x-amz-target", target)
            .header("content-type", format!("application/x-amz-json-{version}"))
            .header(
                "authorization",
                format!("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"),
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{target}: {}", resp.status());
        resp.json().await.unwrap()
    }

    /// A query-protocol or REST call made directly; returns the body text.
    async fn raw(&self, service: &str, method: &str, path: &str, body: &str) -> String {
        let resp = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url))
            .header(
                "authorization",
                format!("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.text().await.unwrap()
    }

    async fn queue(&self, name: &str) -> String {
        self.json(
            "sqs",
            "AmazonSQS.CreateQueue",
            "1.0",
            json!({"QueueName": name}),
        )
        .await["QueueUrl"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The next message of a queue (waiting up to 10 s).
    async fn receive(&self, queue_url: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self
                .json(
                    "sqs",
                    "AmazonSQS.ReceiveMessage",
                    "1.0",
                    json!({"QueueUrl": queue_url, "MaxNumberOfMessages": 1, "WaitTimeSeconds": 1}),
                )
                .await;
            if let Some(m) = got["Messages"].as_array().and_then(|m| m.first()) {
                return m.clone();
            }
            assert!(Instant::now() < deadline, "no message on {queue_url}");
        }
    }
}

async fn app_for(moto: &Moto) -> TestApp {
    let url = moto.url.clone();
    TestApp::spawn_with(move |c| c.endpoints = format!("default={url}").parse().unwrap()).await
}

fn output(done: &Value) -> Value {
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    serde_json::from_str(done["output"].as_str().unwrap()).unwrap()
}

#[tokio::test]
#[ignore = "needs moto: scripts/test.sh runs it"]
async fn sqs_send_message_delivers_the_body_as_text_and_returns_its_md5_and_id() {
    let moto = Moto::start().await;
    let app = app_for(&moto).await;
    let queue = moto.queue("orders").await;
    let definition = json!({"StartAt": "Send", "States": {"Send": {"Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": queue, "MessageBody": {"order.$": "$.order"},
            "MessageSystemAttribute": {"AWSTraceHeader": "test"}}, "End": true}}});
    let (done, events) = run(&app, "sqs", definition, json!({"order": 42})).await;
    // An unsupported member is dropped before scheduling (recorded).
    let scheduled = events
        .iter()
        .find(|e| e["type"] == "TaskScheduled")
        .unwrap();
    assert_eq!(
        parsed(&scheduled["taskScheduledEventDetails"]["parameters"]),
        json!({"QueueUrl": queue, "MessageBody": {"order": 42}})
    );
    let out = output(&done);
    let message = moto.receive(&queue).await;
    assert_eq!(message["Body"], r#"{"order":42}"#);
    assert_eq!(out["MessageId"], message["MessageId"]);
    assert_eq!(out["MD5OfMessageBody"], message["MD5OfBody"]);
    assert_eq!(out["SdkHttpMetadata"]["HttpStatusCode"], 200);
    assert!(out["SdkResponseMetadata"]["RequestId"].is_string());
    let succeeded = events
        .iter()
        .find(|e| e["type"] == "TaskSucceeded")
        .unwrap();
    let d = &succeeded["taskSucceededEventDetails"];
    assert_eq!(
        (d["resource"].as_str(), d["resourceType"].as_str()),
        (Some("sendMessage"), Some("sqs"))
    );
}

#[tokio::test]
#[ignore = "needs moto: scripts/test.sh runs it"]
async fn a_callback_through_sqs_resumes_when_a_worker_answers_on_the_token() {
    let moto = Moto::start().await;
    let app = app_for(&moto).await;
    let queue = moto.queue("work").await;
    let definition = json!({"StartAt": "Ask", "States": {"Ask": {"Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token", "n.$": "$.n"}},
        "TimeoutSeconds": 60, "End": true}}});
    let machine = create(&app, "callback", &definition.to_string()).await;
    let (_, started, _) = app
        .call(
            "StartExecution",
            json!({"stateMachineArn": machine, "input": "{\"n\": 20}"}),
        )
        .await;
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    // The worker: reads the queue, doubles n, answers on the token.
    let message = moto.receive(&queue).await;
    let body: Value = serde_json::from_str(message["Body"].as_str().unwrap()).unwrap();
    app.client()
        .send_task_success()
        .task_token(body["token"].as_str().unwrap())
        .output(json!({"doubled": body["n"].as_i64().unwrap() * 2}).to_string())
        .send()
        .await
        .unwrap();
    let done = closed(&app, &arn).await;
    assert_eq!(output(&done), json!({"doubled": 40}));
    let kinds: Vec<String> = chain(&history(&app, &arn, json!({})).await)
        .into_iter()
        .map(|(_, k, _)| k)
        .collect();
    assert_eq!(
        kinds,
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
}

#[tokio::test]
#[ignore = "needs moto: scripts/test.sh runs it"]
async fn dynamodb_items_are_put_read_updated_and_deleted_and_refusals_are_named_by_service() {
    let moto = Moto::start().await;
    let app = app_for(&moto).await;
    moto.json(
        "dynamodb",
        "DynamoDB_20120810.CreateTable",
        "1.0",
        json!({"TableName": "items", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}),
    )
    .await;
    let key = json!({"pk": {"S": "a"}});
    let definition = json!({"StartAt": "Put", "States": {
        "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
            "Parameters": {"TableName": "items", "Item": {"pk": {"S": "a"}, "n": {"N": "1"}}},
            "ResultPath": null, "Next": "Get"},
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
            "Parameters": {"TableName": "items", "Key": key},
            "ResultSelector": {"item.$": "$.Item", "status.$": "$.SdkHttpMetadata.HttpStatusCode"}, "ResultPath": "$.got", "Next": "Update"},
        "Update": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {"TableName": "items", "Key": key, "UpdateExpression": "SET n = n + :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "UPDATED_NEW"},
            "ResultSelector": {"n.$": "$.Attributes.n.N"}, "ResultPath": "$.updated", "Next": "Delete"},
        "Delete": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:deleteItem",
            "Parameters": {"TableName": "items", "Key": key}, "ResultPath": null, "Next": "Guarded"},
        "Guarded": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {"TableName": "items", "Key": key, "UpdateExpression": "SET n = :one",
                "ConditionExpression": "attribute_exists(pk)", "ExpressionAttributeValues": {":one": {"N": "1"}}},
            "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.refused", "Next": "Sdk"}],
            "End": true},
        "Sdk": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem",
            "Parameters": {"TableName": "missing", "Key": key},
            "Catch": [{"ErrorEquals": ["DynamoDb.ResourceNotFoundException"], "ResultPath": "$.sdk", "Next": "Done"}],
            "End": true},
        "Done": {"Type": "Succeed"}}});
    let (done, _) = run(&app, "ddb", definition, json!({})).await;
    let out = output(&done);
    assert_eq!(
        out["got"],
        json!({"item": {"pk": {"S": "a"}, "n": {"N": "1"}}, "status": 200})
    );
    assert_eq!(out["updated"], json!({"n": "2"}));
    assert_eq!(
        out["refused"]["Error"],
        "DynamoDB.ConditionalCheckFailedException"
    );
    let cause = out["refused"]["Cause"].as_str().unwrap();
    assert!(
        cause.contains("(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: "),
        "{cause}"
    );
    assert_eq!(out["sdk"]["Error"], "DynamoDb.ResourceNotFoundException");
    let cause = out["sdk"]["Cause"].as_str().unwrap();
    assert!(
        cause.contains("(Service: DynamoDb, Status Code: 400, Request ID: "),
        "{cause}"
    );
    // The item is gone: the delete ran, the guarded update did not recreate it.
    let left = moto
        .json(
            "dynamodb",
            "DynamoDB_20120810.GetItem",
            "1.0",
            json!({"TableName": "items", "Key": key}),
        )
        .await;
    assert!(left.get("Item").is_none(), "{left}");
}

#[tokio::test]
#[ignore = "needs moto: scripts/test.sh runs it"]
async fn sns_publish_and_eventbridge_put_events_reach_their_services() {
    let moto = Moto::start().await;
    let app = app_for(&moto).await;
    let topic = moto
        .raw(
            "sns",
            "POST",
            "/",
            "Action=CreateTopic&Name=news&Version=2010-03-31",
        )
        .await;
    let topic = topic
        .split("<TopicArn>")
        .nth(1)
        .and_then(|t| t.split("</TopicArn>").next())
        .unwrap()
        .to_owned();
    let definition = json!({"StartAt": "Publish", "States": {
        "Publish": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": topic, "Message": {"hello.$": "$.who"},
                "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "greeting"}}},
            "ResultPath": "$.published", "Next": "Events"},
        "Events": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
            "Parameters": {"Entries": [{"Source": "orders", "DetailType": "created", "Detail": {"id.$": "$.who"}}]},
            "ResultPath": "$.events", "Next": "Missing"},
        "Missing": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:nope", "Message": "x"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.missing", "Next": "Done"}], "End": true},
        "Done": {"Type": "Succeed"}}});
    let (done, _) = run(&app, "fanout", definition, json!({"who": "world"})).await;
    let out = output(&done);
    assert!(
        out["published"]["MessageId"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{out}"
    );
    assert_eq!(out["published"]["SdkHttpMetadata"]["HttpStatusCode"], 200);
    assert_eq!(out["events"]["FailedEntryCount"], 0);
    assert!(out["events"]["Entries"][0]["EventId"].is_string(), "{out}");
    // Optimised EventBridge output carries no SDK metadata (recorded).
    assert!(out["events"].get("SdkHttpMetadata").is_none());
    assert_eq!(out["missing"]["Error"], "SNS.NotFoundException", "{out}");
}

#[tokio::test]
#[ignore = "needs moto: scripts/test.sh runs it"]
async fn s3_objects_are_written_and_read_through_the_sdk_integration() {
    let moto = Moto::start().await;
    let app = app_for(&moto).await;
    moto.raw("s3", "PUT", "/reports", "").await;
    let definition = json!({"StartAt": "Put", "States": {
        "Put": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
            "Parameters": {"Bucket": "reports", "Key": "2026/12/summary.json", "Body.$": "$.report", "ContentType": "application/json"},
            "ResultPath": "$.put", "Next": "Get"},
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": "reports", "Key": "2026/12/summary.json"},
            "ResultPath": "$.got", "Next": "Missing"},
        "Missing": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": "reports", "Key": "nope"},
            "Catch": [{"ErrorEquals": ["S3.NoSuchKeyException"], "ResultPath": "$.missing", "Next": "Done"}], "End": true},
        "Done": {"Type": "Succeed"}}});
    let (done, events) = run(&app, "s3", definition, json!({"report": {"total": 3}})).await;
    let out = output(&done);
    assert!(
        out["put"]["ETag"]
            .as_str()
            .is_some_and(|e| e.starts_with('"')),
        "{out}"
    );
    assert_eq!(out["got"]["Body"], r#"{"total":3}"#);
    assert_eq!(out["got"]["ContentType"], "application/json");
    assert_eq!(out["got"]["ETag"], out["put"]["ETag"]);
    assert_eq!(out["missing"]["Error"], "S3.NoSuchKeyException");
    let scheduled = events
        .iter()
        .find(|e| e["type"] == "TaskScheduled")
        .unwrap();
    let d = &scheduled["taskScheduledEventDetails"];
    assert_eq!(
        (d["resource"].as_str(), d["resourceType"].as_str()),
        (Some("putObject"), Some("aws-sdk:s3"))
    );
    assert_eq!(parsed(&d["parameters"])["Bucket"], "reports");
}
