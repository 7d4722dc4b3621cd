//! TagResource, UntagResource and ListTagsForResource.

use aws_sdk_sfn::types::Tag;

use crate::helpers::*;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

#[tokio::test]
async fn tags_are_added_replaced_listed_and_removed() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = c
        .create_state_machine()
        .name("m")
        .definition(base_definition())
        .role_arn(ROLE)
        .tags(tag("team", "a"))
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    c.tag_resource()
        .resource_arn(&arn)
        .tags(tag("env", "dev"))
        .tags(tag("team", "b"))
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    let pairs: Vec<(String, String)> = tags
        .iter()
        .map(|t| (t.key.clone().unwrap(), t.value.clone().unwrap()))
        .collect();
    assert_eq!(
        pairs,
        [("env".into(), "dev".into()), ("team".into(), "b".into())]
    );
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .tag_keys("absent")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!(tags.len(), 1);
}

#[tokio::test]
async fn versions_aliases_and_missing_machines_cannot_be_tagged() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    let v = c
        .publish_state_machine_version()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap()
        .state_machine_version_arn;
    for target in [v, format!("{arn}:prod"), format!("{arn}-missing")] {
        let (code, message) = failure(
            c.tag_resource()
                .resource_arn(&target)
                .tags(tag("a", "b"))
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), message),
            (
                "ResourceNotFound",
                format!("Resource not found: '{target}'")
            )
        );
    }
    let (status, body, _) = app
        .call(
            "ListTagsForResource",
            serde_json::json!({"resourceArn": format!("{arn}:1")}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["resourceName"], format!("{arn}:1"));
}

#[tokio::test]
async fn more_than_fifty_tags_is_too_many_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    let mut req = c.tag_resource().resource_arn(&arn);
    for i in 0..50 {
        req = req.tags(tag(&format!("k{i}"), "v"));
    }
    req.send().await.unwrap();
    let (code, message) = failure(
        c.tag_resource()
            .resource_arn(&arn)
            .tags(tag("one-more", "v"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "TooManyTags",
            "Too many tags: a resource can have at most 50 tags."
        )
    );
    // Replacing an existing key is fine at the limit.
    c.tag_resource()
        .resource_arn(&arn)
        .tags(tag("k0", "new"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap()
            .tags
            .unwrap()
            .len(),
        50
    );
}

#[tokio::test]
async fn tag_keys_over_128_characters_are_validation_errors() {
    let app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    let key = "k".repeat(129);
    let (code, message) = failure(
        app.client()
            .tag_resource()
            .resource_arn(&arn)
            .tags(tag(&key, "v"))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        format!("1 validation error detected: Value '{key}' at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128")
    );
}
