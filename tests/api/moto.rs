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

    /// Puts an S3 object (path-style `/<bucket>/<key>`) directly.
    async fn put_object(&self, path: &str, body: &str) {
        let resp = self
            .http
            .put(format!("{}{path}", self.url))
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
            )
            .header("content-type", "application/octet-stream")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
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

/// A Distributed Map whose items come from `reader` and whose children are Pass states.
fn s3_map(reader: Value, extra: Value) -> Value {
    let mut map = json!({"Type": "Map", "ItemReader": reader,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": true}}},
        "End": true});
    for (k, v) in extra.as_object().unwrap() {
        map[k] = v.clone();
    }
    json!({"StartAt": "Map", "States": {"Map": map}})
}

/// The map run an execution's MapRunStarted event names, described.
async fn described_run(app: &TestApp, events: &[Value]) -> Value {
    let started = events
        .iter()
        .find(|e| e["type"] == "MapRunStarted")
        .expect("MapRunStarted");
    let arn = &started["mapRunStartedEventDetails"]["mapRunArn"];
    let (status, body, _) = app.call("DescribeMapRun", json!({"mapRunArn": arn})).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["type"].as_str()).collect()
}

#[tokio::test]
#[ignore = "needs moto: scripts/test.sh runs it"]
async fn a_distributed_map_runs_a_child_for_each_item_of_a_json_object_in_s3() {
    let moto = Moto::start().await;
    let app = app_for(&moto).await;
    moto.raw("s3", "PUT", "/items", "").await;
    moto.put_object("/items/batch/1.json", r#"[{"n":1},{"n":2},{"n":3}]"#)
        .await;
    let reader = json!({"Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": "items", "Key.$": "$.key"}});
    let definition = s3_map(
        reader,
        json!({"ItemSelector": {"v.$": "$$.Map.Item.Value.n", "at.$": "$$.Map.Item.Index"}}),
    );
    let (done, events) = run(&app, "s3json", definition, json!({"key": "batch/1.json"})).await;
    assert_eq!(
        output(&done),
        json!([{"v": 1, "at": 0}, {"v": 2, "at": 1}, {"v": 3, "at": 2}])
    );
    let ks = kinds(&events);
    let from = ks.iter().position(|k| *k == "MapStateEntered").unwrap();
    assert_eq!(
        &ks[from..from + 6],
        [
            "MapStateEntered",
            "MapStateStarted",
            "MapRunStarted",
            "MapRunSucceeded",
            "MapStateSucceeded",
            "MapStateExited"
        ]
    );
    // The items are not known when the Map state starts (recorded: length 0 with a reader).
    let started = events
        .iter()
        .find(|e| e["type"] == "MapStateStarted")
        .unwrap();
    assert_eq!(started["mapStateStartedEventDetails"]["length"], 0);
    let run = described_run(&app, &events).await;
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["itemCounts"]["total"], 3);
    assert_eq!(run["itemCounts"]["succeeded"], 3);
}

#[tokio::test]
#[ignore = "needs moto: scripts/test.sh runs it"]
async fn csv_rows_and_bucket_listings_become_items_up_to_max_items() {
    let moto = Moto::start().await;
    let app = app_for(&moto).await;
    moto.raw("s3", "PUT", "/data", "").await;
    moto.put_object("/data/rows.csv", "id,name\n1,ann\n2,\"bo, b\"\n3,cy\n")
        .await;
    for key in ["logs/a.txt", "logs/b.txt", "other/c.txt"] {
        moto.put_object(&format!("/data/{key}"), "hello").await;
    }
    let csv = s3_map(
        json!({"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 2},
            "Parameters": {"Bucket": "data", "Key": "rows.csv"}}),
        json!({}),
    );
    let (done, _) = run(&app, "s3csv", csv, json!({})).await;
    assert_eq!(
        output(&done),
        json!([{"id": "1", "name": "ann"}, {"id": "2", "name": "bo, b"}])
    );
    let listing = s3_map(
        json!({"Resource": "arn:aws:states:::s3:listObjectsV2",
            "Parameters": {"Bucket": "data", "Prefix": "logs/"}}),
        json!({}),
    );
    let (done, _) = run(&app, "s3list", listing, json!({})).await;
    let out = output(&done);
    let keys: Vec<&str> = out
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["Key"].as_str())
        .collect();
    assert_eq!(keys, ["logs/a.txt", "logs/b.txt"]);
    let first = &out[0];
    assert_eq!(first["Size"], 5);
    assert_eq!(first["StorageClass"], "STANDARD");
    assert!(
        first["LastModified"]
            .as_i64()
            .is_some_and(|t| t > 1_700_000_000),
        "{first}"
    );
    assert!(
        first["Etag"].as_str().is_some_and(|e| e.starts_with('"')),
        "{first}"
    );
}

#[tokio::test]
#[ignore = "needs moto: scripts/test.sh runs it"]
async fn a_result_writer_puts_the_results_and_a_manifest_and_answers_where_they_are() {
    let moto = Moto::start().await;
    let app = app_for(&moto).await;
    moto.raw("s3", "PUT", "/results", "").await;
    let definition = json!({"StartAt": "Map", "States": {"Map": {"Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Check", "States": {
                "Check": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}], "Default": "Good"},
                "Bad": {"Type": "Fail", "Error": "Odd", "Cause": "two"},
                "Good": {"Type": "Pass", "End": true}}},
        "ToleratedFailureCount": 1,
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "results", "Prefix": "jobs"}},
        "End": true}}});
    let (done, events) = run(&app, "s3writer", definition, json!({"items": [1, 2, 3]})).await;
    let out = output(&done);
    let run_arn = out["MapRunArn"].as_str().unwrap().to_owned();
    let id = run_arn.rsplit(':').next().unwrap();
    let manifest_key = format!("jobs/{id}/manifest.json");
    assert_eq!(
        out["ResultWriterDetails"],
        json!({"Bucket": "results", "Key": manifest_key})
    );
    assert!(kinds(&events).contains(&"MapRunSucceeded"));
    let manifest: Value = serde_json::from_str(
        &moto
            .raw("s3", "GET", &format!("/results/{manifest_key}"), "")
            .await,
    )
    .unwrap();
    assert_eq!(manifest["MapRunArn"], run_arn);
    assert_eq!(manifest["DestinationBucket"], "results");
    let file = |group: &str| {
        manifest["ResultFiles"][group][0]["Key"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(file("SUCCEEDED"), format!("jobs/{id}/SUCCEEDED_0.json"));
    let succeeded: Value = serde_json::from_str(
        &moto
            .raw("s3", "GET", &format!("/results/{}", file("SUCCEEDED")), "")
            .await,
    )
    .unwrap();
    let outputs: Vec<&str> = succeeded
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["Output"].as_str())
        .collect();
    assert_eq!(outputs, ["1", "3"]);
    assert_eq!(succeeded[0]["Status"], "SUCCEEDED");
    let failed: Value = serde_json::from_str(
        &moto
            .raw("s3", "GET", &format!("/results/{}", file("FAILED")), "")
            .await,
    )
    .unwrap();
    assert_eq!(failed[0]["Error"], "Odd");
    assert_eq!(failed[0]["Input"], "2");
    let run = described_run(&app, &events).await;
    assert_eq!(run["status"], "SUCCEEDED");
}

#[tokio::test]
#[ignore = "needs moto: scripts/test.sh runs it"]
async fn an_unreadable_item_source_fails_the_run_with_item_reader_failed() {
    let moto = Moto::start().await;
    let app = app_for(&moto).await;
    moto.raw("s3", "PUT", "/src", "").await;
    moto.put_object("/src/object.json", r#"{"not": "a list"}"#)
        .await;
    let reader = json!({"Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": "src", "Key.$": "$.key"}});
    let mut definition = s3_map(
        reader,
        json!({"Catch": [{"ErrorEquals": ["States.ItemReaderFailed"], "Next": "Caught"}]}),
    );
    definition["States"]["Caught"] = json!({"Type": "Pass", "End": true});
    for (key, cause) in [
        ("object.json", "Attempting to map over non-iterable node."),
        ("missing.json", ""),
    ] {
        let name = format!("reader-{}", key.replace('.', "-"));
        let (done, events) = run(&app, &name, definition.clone(), json!({"key": key})).await;
        let out = output(&done);
        assert_eq!(out["Error"], "States.ItemReaderFailed", "{out}");
        if !cause.is_empty() {
            assert_eq!(out["Cause"], cause);
        } else {
            assert!(
                out["Cause"]
                    .as_str()
                    .is_some_and(|c| c.contains("NoSuchKey")),
                "{out}"
            );
        }
        let failed = events.iter().find(|e| e["type"] == "MapRunFailed").unwrap();
        assert_eq!(
            failed["mapRunFailedEventDetails"]["error"],
            "States.ItemReaderFailed"
        );
        assert_eq!(described_run(&app, &events).await["status"], "FAILED");
    }
}

/// Polls DescribeMapRun of the only map run of `execution` until `done` holds (bounded).
async fn run_until(app: &TestApp, execution: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, runs, _) = app
            .call("ListMapRuns", json!({"executionArn": execution}))
            .await;
        if let Some(arn) = runs["mapRuns"][0]["mapRunArn"].as_str() {
            let (_, run, _) = app.call("DescribeMapRun", json!({"mapRunArn": arn})).await;
            if done(&run) {
                return run;
            }
        }
        assert!(Instant::now() < deadline, "map run never got there: {runs}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
#[ignore = "needs moto: scripts/test.sh runs it"]
async fn runs_reading_or_writing_s3_when_sfnlite_is_killed_finish_after_the_restart() {
    use crate::helpers::{sfnlite_command, Binary};
    let moto = Moto::start().await;
    moto.raw("s3", "PUT", "/iobucket", "").await;
    moto.put_object("/iobucket/items.json", "[1,2,3,4]").await;
    // An S3 that accepts connections and never answers: the run's I/O is in flight when the
    // process dies.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().collect();
        drop(held);
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sfnlite.db");
    let serve = |endpoint: &str| {
        let mut cmd = sfnlite_command(&["--listen", "127.0.0.1:0", "--db"]);
        cmd.arg(&db)
            .args(["--endpoints", &format!("default={endpoint}")]);
        let mut b = Binary::start(cmd);
        b.drain_stderr();
        b
    };
    let server = serve(&silent_url);
    let app = TestApp::attach(&format!("http://{}", server.addr));
    let reading = s3_map(
        json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket": "iobucket", "Key": "items.json"}}),
        json!({}),
    );
    let writing = json!({"StartAt": "Map", "States": {"Map": {"Type": "Map",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "iobucket", "Prefix": "out"}},
        "End": true}}});
    let mut started = Vec::new();
    for (name, definition, input) in [
        ("reading", reading, "{}"),
        ("writing", writing, "[\"a\",\"b\"]"),
    ] {
        let machine = create(&app, name, &definition.to_string()).await;
        let (status, body, _) = app
            .call(
                "StartExecution",
                json!({"stateMachineArn": machine, "input": input}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        started.push(body["executionArn"].as_str().unwrap().to_owned());
    }
    // The first run waits for its items, the second (children done) for its write.
    let read = run_until(&app, &started[0], |r| r["status"] == "RUNNING").await;
    assert_eq!(read["itemCounts"]["total"], 0, "{read}");
    run_until(&app, &started[1], |r| {
        r["status"] == "RUNNING" && r["executionCounts"]["succeeded"] == 2
    })
    .await;
    server.kill();

    let server = serve(&moto.url);
    let app = TestApp::attach(&format!("http://{}", server.addr));
    let done = closed(&app, &started[0]).await;
    assert_eq!(output(&done), json!([1, 2, 3, 4]));
    let (_, children, _) = app
        .call(
            "ListExecutions",
            json!({"mapRunArn": run_until(&app, &started[0], |_| true).await["mapRunArn"]}),
        )
        .await;
    assert_eq!(
        children["executions"].as_array().unwrap().len(),
        4,
        "{children}"
    );
    let done = closed(&app, &started[1]).await;
    let out = output(&done);
    let key = out["ResultWriterDetails"]["Key"].as_str().unwrap();
    let manifest: Value =
        serde_json::from_str(&moto.raw("s3", "GET", &format!("/iobucket/{key}"), "").await)
            .unwrap();
    assert_eq!(manifest["MapRunArn"], out["MapRunArn"]);
    server.kill();
}

#[tokio::test]
#[ignore = "needs moto: scripts/test.sh runs it"]
async fn an_express_run_reads_its_map_items_from_s3_and_runs_them_inline() {
    let moto = Moto::start().await;
    let app = app_for(&moto).await;
    moto.raw("s3", "PUT", "/express", "").await;
    moto.put_object("/express/lines.jsonl", "{\"n\":1}\n{\"n\":2}\n")
        .await;
    let definition = s3_map(
        json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
            "Parameters": {"Bucket": "express", "Key.$": "$.key"}}),
        json!({"ItemSelector": {"twice.$": "States.MathAdd($$.Map.Item.Value.n, $$.Map.Item.Value.n)"}}),
    );
    let (status, body, _) = app
        .call(
            "CreateStateMachine",
            json!({"name": "express-reader", "type": "EXPRESS", "roleArn": crate::helpers::ROLE,
                "definition": definition.to_string()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let machine = body["stateMachineArn"].clone();
    let sync =
        |key: &str| json!({"stateMachineArn": machine, "input": json!({"key": key}).to_string()});
    let (_, done, _) = app.call("StartSyncExecution", sync("lines.jsonl")).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(parsed(&done["output"]), json!([{"twice": 2}, {"twice": 4}]));
    let (_, failed, _) = app.call("StartSyncExecution", sync("missing.jsonl")).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(failed["error"], "States.ItemReaderFailed");
}

#[tokio::test]
#[ignore = "needs moto: scripts/test.sh runs it"]
async fn a_bucket_listing_reads_every_page() {
    let moto = Moto::start().await;
    let app = app_for(&moto).await;
    moto.raw("s3", "PUT", "/pages", "").await;
    // More objects than one ListObjectsV2 page (1,000) holds.
    let n = 1_005;
    for i in 0..n {
        moto.put_object(&format!("/pages/k/{i:05}"), "x").await;
    }
    let listing = s3_map(
        json!({"Resource": "arn:aws:states:::s3:listObjectsV2",
            "Parameters": {"Bucket": "pages", "Prefix": "k/"}}),
        json!({"ItemSelector": {"key.$": "$$.Map.Item.Value.Key"}, "ResultSelector": {"n.$": "States.ArrayLength($)", "last.$": "$[-1:]"}}),
    );
    let (done, events) = run(&app, "s3pages", listing, json!({})).await;
    let out = output(&done);
    assert_eq!(out["n"], n);
    assert_eq!(out["last"], json!([{"key": "k/01004"}]));
    assert_eq!(described_run(&app, &events).await["itemCounts"]["total"], n);
}
