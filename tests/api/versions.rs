//! PublishStateMachineVersion and its family (aws-behavior.md §2–7, §13.1–13.2).

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn repeated_publish_returns_the_same_version_and_original_date() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    let first = c
        .publish_state_machine_version()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(first.state_machine_version_arn, format!("{arn}:1"));
    let again = c
        .publish_state_machine_version()
        .state_machine_arn(&arn)
        .description("ignored")
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.state_machine_version_arn,
        first.state_machine_version_arn
    );
    assert_eq!(again.creation_date, first.creation_date);
    let list = c
        .list_state_machine_versions()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(list.state_machine_versions.len(), 1);
    // The repeat's description is not applied.
    let d = c
        .describe_state_machine()
        .state_machine_arn(format!("{arn}:1"))
        .send()
        .await
        .unwrap();
    assert_eq!(d.description, None);
}

#[tokio::test]
async fn publish_response_has_exactly_date_and_version_arn() {
    let app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    let (status, r, _) = app
        .call(
            "PublishStateMachineVersion",
            json!({"stateMachineArn": arn}),
        )
        .await;
    assert_eq!(status, 200);
    let mut keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["creationDate", "stateMachineVersionArn"]);
}

#[tokio::test]
async fn versions_snapshot_their_revision_and_description() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    let u1 = c
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(definition("R1"))
        .send()
        .await
        .unwrap();
    let v1 = c
        .publish_state_machine_version()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    let u2 = c
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(definition("R2"))
        .send()
        .await
        .unwrap();
    let v2 = c
        .publish_state_machine_version()
        .state_machine_arn(&arn)
        .description("PublishedV2Description")
        .send()
        .await
        .unwrap();
    assert_eq!(v2.state_machine_version_arn, format!("{arn}:2"));

    let (_, d1, _) = app
        .call(
            "DescribeStateMachine",
            json!({"stateMachineArn": v1.state_machine_version_arn}),
        )
        .await;
    assert_eq!(d1["stateMachineArn"], format!("{arn}:1"));
    assert_eq!(d1["name"], "m");
    assert_eq!(d1["revisionId"], u1.revision_id.clone().unwrap());
    assert_eq!(d1["definition"], definition("R1"));
    assert!(d1.get("description").is_none());
    assert!(d1.get("updateDate").is_none());
    assert_eq!(
        d1["creationDate"].as_f64().unwrap(),
        v1.creation_date.as_secs_f64()
    );

    let d2 = c
        .describe_state_machine()
        .state_machine_arn(&v2.state_machine_version_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(d2.revision_id, u2.revision_id);
    assert_eq!(d2.description.as_deref(), Some("PublishedV2Description"));
    // The base never shows a version's description.
    let base = c
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(base.description, None);
    assert_eq!(base.revision_id, u2.revision_id);
}

#[tokio::test]
async fn numbers_are_never_reused_after_deletes() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    app.update_and_publish(&arn, "a").await;
    let v2 = app.update_and_publish(&arn, "b").await;
    c.delete_state_machine_version()
        .state_machine_version_arn(&v2)
        .send()
        .await
        .unwrap();
    // The current revision lost its version: publishing it again takes a new number.
    let v3 = c
        .publish_state_machine_version()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(v3.state_machine_version_arn, format!("{arn}:3"));
    let (code, message) = failure(
        c.describe_state_machine()
            .state_machine_arn(&v2)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message),
        (
            "StateMachineDoesNotExist",
            format!("State Machine Does Not Exist: '{v2}'")
        )
    );
}

#[tokio::test]
async fn revision_id_guard_conflicts_with_exact_text() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    // INITIAL names the never-revised configuration.
    let v = c
        .publish_state_machine_version()
        .state_machine_arn(&arn)
        .revision_id("INITIAL")
        .send()
        .await
        .unwrap();
    assert_eq!(v.state_machine_version_arn, format!("{arn}:1"));
    let (code, message) = failure(
        c.publish_state_machine_version()
            .state_machine_arn(&arn)
            .revision_id("abc")
            .send()
            .await,
    );
    assert_eq!(code, "ConflictException");
    assert_eq!(message, "Failed to publish the State Machine version for revision abc. The current State Machine revision is INITIAL.");

    let rev = c
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(definition("R1"))
        .send()
        .await
        .unwrap()
        .revision_id
        .unwrap();
    let (code, message) = failure(
        c.publish_state_machine_version()
            .state_machine_arn(&arn)
            .revision_id("INITIAL")
            .send()
            .await,
    );
    assert_eq!(code, "ConflictException");
    assert_eq!(message, format!("Failed to publish the State Machine version for revision INITIAL. The current State Machine revision is {rev}."));
    let (status, body, _) = app
        .call(
            "PublishStateMachineVersion",
            json!({"stateMachineArn": arn, "revisionId": "other"}),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["__type"], "ConflictException");
    let ok = c
        .publish_state_machine_version()
        .state_machine_arn(&arn)
        .revision_id(&rev)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.state_machine_version_arn, format!("{arn}:2"));
}

#[tokio::test]
async fn create_with_publish_makes_version_one_without_revision_id() {
    let app = TestApp::spawn().await;
    let c = app.client();
    for (name, kind) in [("std", "STANDARD"), ("exp", "EXPRESS")] {
        let r = c
            .create_state_machine()
            .name(name)
            .definition(base_definition())
            .role_arn(ROLE)
            .r#type(kind.into())
            .publish(true)
            .version_description("HelloWorld!")
            .send()
            .await
            .unwrap();
        let v = r.state_machine_version_arn.unwrap();
        assert_eq!(v, format!("{}:1", r.state_machine_arn));
        let d = c
            .describe_state_machine()
            .state_machine_arn(&v)
            .send()
            .await
            .unwrap();
        assert_eq!(d.revision_id, None);
        assert_eq!(d.description.as_deref(), Some("HelloWorld!"));
        let base = c
            .describe_state_machine()
            .state_machine_arn(&r.state_machine_arn)
            .send()
            .await
            .unwrap();
        assert_eq!(base.revision_id, None);
    }
}

#[tokio::test]
async fn identical_create_with_publish_returns_the_current_version() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let first = c
        .create_state_machine()
        .name("m")
        .definition(base_definition())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap();
    let again = c
        .create_state_machine()
        .name("m")
        .definition(base_definition())
        .role_arn(ROLE)
        .publish(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.state_machine_version_arn,
        Some(format!("{}:1", first.state_machine_arn))
    );
    assert_eq!(again.creation_date, first.creation_date);
    let third = c
        .create_state_machine()
        .name("m")
        .definition(base_definition())
        .role_arn(ROLE)
        .publish(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        third.state_machine_version_arn,
        again.state_machine_version_arn
    );
}

#[tokio::test]
async fn no_op_update_with_publish_returns_the_current_revisions_version() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    for _ in 0..2 {
        let (status, r, _) = app
            .call(
                "UpdateStateMachine",
                json!({"stateMachineArn": arn, "definition": base_definition(), "publish": true}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(r["stateMachineVersionArn"], format!("{arn}:1"));
        assert!(r.get("revisionId").is_none(), "{r}");
    }
    // A real change with publish: a new revision and the next number.
    let r = c
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(definition("R1"))
        .publish(true)
        .send()
        .await
        .unwrap();
    assert_eq!(r.state_machine_version_arn, Some(format!("{arn}:2")));
    let rev = r.revision_id.unwrap();
    // No change again, now on a revised machine: the same revision and version.
    let r = c
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(definition("R1"))
        .publish(true)
        .send()
        .await
        .unwrap();
    assert_eq!(r.revision_id.as_deref(), Some(rev.as_str()));
    assert_eq!(r.state_machine_version_arn, Some(format!("{arn}:2")));
    assert_eq!(
        c.list_state_machine_versions()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap()
            .state_machine_versions
            .len(),
        2
    );
}

#[tokio::test]
async fn machine_created_with_publish_does_not_publish_again_on_no_op_update() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = c
        .create_state_machine()
        .name("m")
        .definition(base_definition())
        .role_arn(ROLE)
        .publish(true)
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    let r = c
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(base_definition())
        .publish(true)
        .send()
        .await
        .unwrap();
    assert_eq!(r.state_machine_version_arn, Some(format!("{arn}:1")));
    assert_eq!(r.revision_id, None);
}

#[tokio::test]
async fn version_description_without_publish_is_rejected_on_update_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    let (code, message) = failure(
        c.update_state_machine()
            .state_machine_arn(&arn)
            .definition(definition("X"))
            .version_description("d")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ValidationException",
            "Version description can only be set when publish is true"
        )
    );
    let d = c
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(d.definition, base_definition());
}

#[tokio::test]
async fn quota_refuses_more_versions_and_a_failed_update_changes_nothing() {
    let app = TestApp::spawn_with(|c| c.version_quota = 3).await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    for i in 1..=3 {
        assert_eq!(
            app.update_and_publish(&arn, &format!("r{i}")).await,
            format!("{arn}:{i}")
        );
    }
    let before = c
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    let (status, r, _) = app
        .call(
            "UpdateStateMachine",
            json!({"stateMachineArn": arn, "definition": definition("r4"), "publish": true}),
        )
        .await;
    assert_eq!(status, 402);
    assert_eq!(r["__type"], "ServiceQuotaExceededException");
    assert_eq!(
        r["message"],
        format!("The maximum number of versions (3) for state machine '{arn}' has been reached. Delete unused versions.")
    );
    let after = c
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(before.revision_id, after.revision_id);
    assert_eq!(after.definition, definition("r3"));

    c.update_state_machine()
        .state_machine_arn(&arn)
        .definition(definition("r4"))
        .send()
        .await
        .unwrap();
    let (code, _) = failure(
        c.publish_state_machine_version()
            .state_machine_arn(&arn)
            .send()
            .await,
    );
    assert_eq!(code, "ServiceQuotaExceededException");
    // Deleting one frees room; the number still moves on.
    c.delete_state_machine_version()
        .state_machine_version_arn(format!("{arn}:1"))
        .send()
        .await
        .unwrap();
    let v = c
        .publish_state_machine_version()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(v.state_machine_version_arn, format!("{arn}:4"));
}

#[tokio::test]
async fn the_real_quota_is_one_thousand_versions() {
    let app = TestApp::spawn_with(|c| c.synchronous = sfnlite::store::Synchronous::Normal).await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    for i in 1..=1000 {
        let v = app.update_and_publish(&arn, &format!("r{i}")).await;
        assert_eq!(v, format!("{arn}:{i}"));
    }
    c.update_state_machine()
        .state_machine_arn(&arn)
        .definition(definition("over"))
        .send()
        .await
        .unwrap();
    let (code, message) = failure(
        c.publish_state_machine_version()
            .state_machine_arn(&arn)
            .send()
            .await,
    );
    assert_eq!(code, "ServiceQuotaExceededException");
    assert_eq!(message, format!("The maximum number of versions (1000) for state machine '{arn}' has been reached. Delete unused versions."));
    let all = c
        .list_state_machine_versions()
        .state_machine_arn(&arn)
        .max_results(1000)
        .send()
        .await
        .unwrap();
    assert_eq!(all.state_machine_versions.len(), 1000);
    assert_eq!(all.next_token, None);
}

#[tokio::test]
async fn list_versions_pages_newest_first_and_survives_deletes_between_pages() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    for i in 1..=13 {
        app.update_and_publish(&arn, &format!("r{i}")).await;
    }
    let p1 = c
        .list_state_machine_versions()
        .state_machine_arn(&arn)
        .max_results(10)
        .send()
        .await
        .unwrap();
    let got: Vec<String> = p1
        .state_machine_versions
        .iter()
        .map(|v| v.state_machine_version_arn.clone())
        .collect();
    let want: Vec<String> = (4..=13).rev().map(|n| format!("{arn}:{n}")).collect();
    assert_eq!(got, want);
    let token = p1.next_token.unwrap();
    c.delete_state_machine_version()
        .state_machine_version_arn(format!("{arn}:2"))
        .send()
        .await
        .unwrap();
    let p2 = c
        .list_state_machine_versions()
        .state_machine_arn(&arn)
        .max_results(3)
        .next_token(&token)
        .send()
        .await
        .unwrap();
    let got: Vec<String> = p2
        .state_machine_versions
        .iter()
        .map(|v| v.state_machine_version_arn.clone())
        .collect();
    assert_eq!(got, [format!("{arn}:3"), format!("{arn}:1")]);
    assert_eq!(p2.next_token, None);

    let all = c
        .list_state_machine_versions()
        .state_machine_arn(&arn)
        .max_results(0)
        .send()
        .await
        .unwrap();
    assert_eq!(all.state_machine_versions.len(), 12);
    assert_eq!(all.next_token, None);

    let (code, message) = failure(
        c.list_state_machine_versions()
            .state_machine_arn(&arn)
            .max_results(1001)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(message, "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000");
    let long = "a".repeat(1025);
    let (code, message) = failure(
        c.list_state_machine_versions()
            .state_machine_arn(&arn)
            .next_token(&long)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(message, format!("1 validation error detected: Value '{long}' at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to 1024"));
    let (code, message) = failure(
        c.list_state_machine_versions()
            .state_machine_arn(&arn)
            .next_token("garbage")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidToken", "Invalid Token: 'Invalid token'")
    );
    // A token is bound to its machine.
    let other = app.create_machine("other").await;
    let (code, _) = failure(
        c.list_state_machine_versions()
            .state_machine_arn(&other)
            .next_token(&token)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidToken");
}

#[tokio::test]
async fn list_versions_of_missing_or_qualified_arns_does_not_exist() {
    let app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    let c = app.client();
    assert!(c
        .list_state_machine_versions()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap()
        .state_machine_versions
        .is_empty());
    for target in [format!("{arn}:1"), format!("{arn}x")] {
        let (code, message) = failure(
            c.list_state_machine_versions()
                .state_machine_arn(&target)
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), message),
            (
                "StateMachineDoesNotExist",
                format!("State Machine Does Not Exist: '{target}'")
            )
        );
    }
}

#[tokio::test]
async fn delete_version_is_idempotent_and_needs_a_version_arn() {
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
    let (status, body, _) = app
        .call(
            "DeleteStateMachineVersion",
            json!({"stateMachineVersionArn": v}),
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    c.delete_state_machine_version()
        .state_machine_version_arn(&v)
        .send()
        .await
        .unwrap();
    assert!(c
        .list_state_machine_versions()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap()
        .state_machine_versions
        .is_empty());
    for target in [arn.clone(), format!("{arn}:prod")] {
        let (code, message) = failure(
            c.delete_state_machine_version()
                .state_machine_version_arn(&target)
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), message),
            (
                "ValidationException",
                format!("Invalid version ARN: '{target}'")
            )
        );
    }
    let (code, message) = failure(
        c.delete_state_machine_version()
            .state_machine_version_arn("invalid_arn")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidArn",
            "Invalid Arn: 'Invalid ARN prefix: invalid_arn'"
        )
    );
}

#[tokio::test]
async fn publish_errors_follow_aws() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    let (code, message) = failure(
        c.publish_state_machine_version()
            .state_machine_arn("invalid_arn")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidArn",
            "Invalid Arn: 'Invalid ARN prefix: invalid_arn'"
        )
    );
    for target in [
        format!("{arn}:1"),
        format!("{arn}:prod"),
        format!("{arn}-missing"),
    ] {
        let (code, message) = failure(
            c.publish_state_machine_version()
                .state_machine_arn(&target)
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), message),
            (
                "StateMachineDoesNotExist",
                format!("State Machine Does Not Exist: '{target}'")
            )
        );
    }
    let (code, message) = failure(
        c.publish_state_machine_version()
            .state_machine_arn(&arn)
            .description("d".repeat(257))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(message, "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 256");
    let (code, _) = failure(
        c.describe_state_machine()
            .state_machine_arn(format!("{arn}:prod"))
            .send()
            .await,
    );
    assert_eq!(code, "StateMachineDoesNotExist");
}

#[tokio::test]
async fn numbering_continues_across_a_restart_in_mid_sequence() {
    let mut app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    app.update_and_publish(&arn, "a").await;
    let v2 = app.update_and_publish(&arn, "b").await;
    app.client()
        .delete_state_machine_version()
        .state_machine_version_arn(&v2)
        .send()
        .await
        .unwrap();
    app.restart().await;
    // Same revision re-published after the restart: the high-water mark was durable.
    let v = app
        .client()
        .publish_state_machine_version()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(v.state_machine_version_arn, format!("{arn}:3"));
    app.restart().await;
    let again = app
        .client()
        .publish_state_machine_version()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(again.state_machine_version_arn, v.state_machine_version_arn);
    assert_eq!(again.creation_date, v.creation_date);
}

#[tokio::test]
async fn cached_answers_never_outlive_a_commit() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    // Warm the hot-read answers twice each, then change what they describe.
    for _ in 0..2 {
        assert_eq!(
            c.publish_state_machine_version()
                .state_machine_arn(&arn)
                .send()
                .await
                .unwrap()
                .state_machine_version_arn,
            format!("{arn}:1")
        );
        assert_eq!(
            c.describe_state_machine()
                .state_machine_arn(&arn)
                .send()
                .await
                .unwrap()
                .revision_id,
            None
        );
        c.describe_state_machine()
            .state_machine_arn(format!("{arn}:1"))
            .send()
            .await
            .unwrap();
    }
    let rev = c
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(definition("next"))
        .send()
        .await
        .unwrap()
        .revision_id;
    assert_eq!(
        c.describe_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap()
            .revision_id,
        rev
    );
    let (code, _) = failure(
        c.publish_state_machine_version()
            .state_machine_arn(&arn)
            .revision_id("INITIAL")
            .send()
            .await,
    );
    assert_eq!(code, "ConflictException");
    assert_eq!(
        c.publish_state_machine_version()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap()
            .state_machine_version_arn,
        format!("{arn}:2")
    );
    c.delete_state_machine_version()
        .state_machine_version_arn(format!("{arn}:1"))
        .send()
        .await
        .unwrap();
    let (code, _) = failure(
        c.describe_state_machine()
            .state_machine_arn(format!("{arn}:1"))
            .send()
            .await,
    );
    assert_eq!(code, "StateMachineDoesNotExist");
    c.delete_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    let (code, _) = failure(
        c.publish_state_machine_version()
            .state_machine_arn(&arn)
            .send()
            .await,
    );
    assert_eq!(code, "StateMachineDoesNotExist");
}
