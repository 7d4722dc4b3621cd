//! CreateActivity, DescribeActivity, DeleteActivity, ListActivities and activity tags,
//! against the recorded answers of executions-api.md §8.1.

use aws_sdk_sfn::types::Tag;
use serde_json::json;

use crate::helpers::*;

const PREFIX: &str = "arn:aws:states:us-east-1:123456789012:activity:";

#[tokio::test]
async fn an_activity_is_created_once_by_name_described_and_deleted_twice() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let created = c
        .create_activity()
        .name("work.queue-1_a")
        .tags(Tag::builder().key("team").value("core").build())
        .send()
        .await
        .unwrap();
    assert_eq!(created.activity_arn, format!("{PREFIX}work.queue-1_a"));
    // A repeat answers the same activity (tags ignored, not updated).
    let again = c
        .create_activity()
        .name("work.queue-1_a")
        .tags(Tag::builder().key("team").value("other").build())
        .send()
        .await
        .unwrap();
    assert_eq!(again.activity_arn, created.activity_arn);
    assert_eq!(again.creation_date, created.creation_date);
    let (status, body, _) = app
        .call(
            "DescribeActivity",
            json!({"activityArn": created.activity_arn}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "activityArn",
            "name",
            "creationDate",
            "encryptionConfiguration"
        ]
    );
    assert_eq!(
        body["encryptionConfiguration"],
        json!({"type": "AWS_OWNED_KEY"})
    );
    assert_eq!(body["name"], "work.queue-1_a");
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&created.activity_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags()
            .iter()
            .map(|t| (t.key(), t.value()))
            .collect::<Vec<_>>(),
        [(Some("team"), Some("core"))]
    );
    for _ in 0..2 {
        let (status, body, _) = app
            .call(
                "DeleteActivity",
                json!({"activityArn": created.activity_arn}),
            )
            .await;
        assert_eq!((status, body), (200, json!({})));
    }
    let gone = app
        .call(
            "DescribeActivity",
            json!({"activityArn": created.activity_arn}),
        )
        .await;
    assert_error(
        &gone,
        400,
        "ActivityDoesNotExist",
        &format!("Activity Does Not Exist: '{}'", created.activity_arn),
    );
}

#[tokio::test]
async fn names_and_arns_are_checked_as_aws_checks_them() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(80);
    let ok = app.call("CreateActivity", json!({"name": long})).await;
    assert_eq!(ok.0, 200);
    for bad in [
        "a b", "a<b", "a{b", "a?b", "a*b", "a\"b", "a#b", "a%b", "a\\b", "a^b", "a|b", "a~b",
        "a$b", "a&b", "a,b", "a;b", "a:b", "a/b", "a`b", "a\u{0}b", "a\u{1f}b", "a\u{7f}b",
    ] {
        let r = app.call("CreateActivity", json!({"name": bad})).await;
        assert_error(&r, 400, "InvalidName", &format!("Invalid Name: '{bad}'"));
    }
    let r = app
        .call(
            "DescribeActivity",
            json!({"activityArn": "no_an_activity_arn"}),
        )
        .await;
    assert_error(
        &r,
        400,
        "InvalidArn",
        "Invalid Arn: 'Invalid ARN prefix: no_an_activity_arn'",
    );
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
    let r = app
        .call("DescribeActivity", json!({"activityArn": machine}))
        .await;
    assert_error(
        &r,
        400,
        "InvalidArn",
        "Invalid Arn: 'Resource type not valid in this context: stateMachine'",
    );
    // Another account's activity does not exist for the caller.
    let other = "arn:aws:states:us-east-1:999999999999:activity:a";
    let r = app
        .call("DescribeActivity", json!({"activityArn": other}))
        .await;
    assert_error(
        &r,
        400,
        "ActivityDoesNotExist",
        &format!("Activity Does Not Exist: '{other}'"),
    );
}

#[tokio::test]
async fn another_encryption_for_a_taken_name_is_activity_already_exists() {
    let app = TestApp::spawn().await;
    app.call("CreateActivity", json!({"name": "enc"})).await;
    let r = app
        .call(
            "CreateActivity",
            json!({"name": "enc", "encryptionConfiguration": {"type": "CUSTOMER_MANAGED_KMS_KEY",
                "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k"}}),
        )
        .await;
    assert_eq!(r.1["__type"], "ActivityAlreadyExists");
    let r = app
        .call(
            "CreateActivity",
            json!({"name": "enc2", "encryptionConfiguration": {"type": "CUSTOMER_MANAGED_KMS_KEY"}}),
        )
        .await;
    assert_error(
        &r,
        400,
        "InvalidEncryptionConfiguration",
        "Invalid Encryption Configuration: kmsKeyId is required when type is CUSTOMER_MANAGED_KMS_KEY.",
    );
}

#[tokio::test]
async fn activities_list_by_name_in_pages_and_take_tags() {
    let app = TestApp::spawn().await;
    let c = app.client();
    for name in ["c", "a", "b"] {
        c.create_activity().name(name).send().await.unwrap();
    }
    let first = c.list_activities().max_results(2).send().await.unwrap();
    let names: Vec<&str> = first.activities().iter().map(|a| a.name()).collect();
    assert_eq!(names, ["a", "b"]);
    let rest = c
        .list_activities()
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = rest.activities().iter().map(|a| a.name()).collect();
    assert_eq!(names, ["c"]);
    assert_eq!(rest.next_token(), None);
    let arn = format!("{PREFIX}a");
    c.tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("k").value("v").build())
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("k")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(tags.tags().is_empty());
    let missing = app
        .call(
            "ListTagsForResource",
            json!({"resourceArn": format!("{PREFIX}nobody")}),
        )
        .await;
    assert_eq!(missing.1["__type"], "ResourceNotFound");
}
