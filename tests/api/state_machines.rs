//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines and ValidateStateMachineDefinition (aws-behavior.md §1–3, §13.1).

use aws_sdk_sfn::types::{LogLevel, LoggingConfiguration, StateMachineType, TracingConfiguration};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn describe_of_a_new_machine_shows_defaults_and_no_revision() {
    let app = TestApp::spawn().await;
    let arn = app.create_machine("demo").await;
    assert_eq!(
        arn,
        format!("arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:demo")
    );
    let (status, d, _) = app
        .call("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(status, 200);
    let mut keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "creationDate",
            "definition",
            "encryptionConfiguration",
            "loggingConfiguration",
            "name",
            "roleArn",
            "stateMachineArn",
            "status",
            "tracingConfiguration",
            "type"
        ]
    );
    assert_eq!(
        d["loggingConfiguration"],
        json!({"level": "OFF", "includeExecutionData": false})
    );
    assert_eq!(d["tracingConfiguration"], json!({"enabled": false}));
    assert_eq!(
        d["encryptionConfiguration"],
        json!({"type": "AWS_OWNED_KEY"})
    );
    assert_eq!(d["status"], "ACTIVE");
    assert_eq!(d["type"], "STANDARD");
    assert_eq!(d["definition"], base_definition());
}

#[tokio::test]
async fn create_response_has_no_version_arn_without_publish() {
    let app = TestApp::spawn().await;
    let (_, r, _) = app
        .call(
            "CreateStateMachine",
            json!({"name": "m", "definition": base_definition(), "roleArn": ROLE}),
        )
        .await;
    let mut keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["creationDate", "stateMachineArn"]);
}

#[tokio::test]
async fn identical_create_returns_the_existing_machine_and_its_creation_date() {
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
    // roleArn and tags are ignored by the idempotency check.
    let again = c
        .create_state_machine()
        .name("m")
        .definition(base_definition())
        .role_arn("arn:aws:iam::123456789012:role/Other")
        .send()
        .await
        .unwrap();
    assert_eq!(first.state_machine_arn, again.state_machine_arn);
    assert_eq!(first.creation_date, again.creation_date);
    assert_eq!(
        c.list_state_machines()
            .send()
            .await
            .unwrap()
            .state_machines
            .len(),
        1
    );
}

#[tokio::test]
async fn create_with_a_textually_different_definition_already_exists() {
    let app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    let reformatted = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(&base_definition()).unwrap(),
    )
    .unwrap();
    let (code, message) = failure(
        app.client()
            .create_state_machine()
            .name("m")
            .definition(reformatted)
            .role_arn(ROLE)
            .send()
            .await,
    );
    assert_eq!(code, "StateMachineAlreadyExists");
    assert_eq!(message, format!("State Machine Already Exists: '{arn}'"));
    let (code, _) = failure(
        app.client()
            .create_state_machine()
            .name("m")
            .definition(base_definition())
            .role_arn(ROLE)
            .r#type(StateMachineType::Express)
            .send()
            .await,
    );
    assert_eq!(code, "StateMachineAlreadyExists");
}

#[tokio::test]
async fn version_description_without_publish_is_rejected_on_create() {
    let app = TestApp::spawn().await;
    let (code, message) = failure(
        app.client()
            .create_state_machine()
            .name("m")
            .definition(base_definition())
            .role_arn(ROLE)
            .version_description("HelloWorld!")
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "Version description can only be set when publish is true"
    );
    assert!(app
        .client()
        .list_state_machines()
        .send()
        .await
        .unwrap()
        .state_machines
        .is_empty());
}

#[tokio::test]
async fn names_too_long_are_validation_errors_and_bad_characters_are_invalid_names() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(81);
    let (code, message) = failure(
        app.client()
            .create_state_machine()
            .name(&long)
            .definition(base_definition())
            .role_arn(ROLE)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        format!("1 validation error detected: Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80")
    );
    let (code, message) = failure(
        app.client()
            .create_state_machine()
            .name("a b")
            .definition(base_definition())
            .role_arn(ROLE)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidName");
    assert_eq!(message, "Invalid Name: 'a b'");
}

#[tokio::test]
async fn invalid_definitions_are_refused_in_aws_form() {
    let app = TestApp::spawn().await;
    let def = r#"{"StartAt":"pass1","States":{"pass1":{"Type":"Pass","Next":"pass3"},"pass2":{"Type":"Pass","End":true}}}"#;
    let (code, message) = failure(
        app.client()
            .create_state_machine()
            .name("m")
            .definition(def)
            .role_arn(ROLE)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidDefinition");
    assert_eq!(
        message,
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, \
         MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2'"
    );
    let arn = app.create_machine("ok").await;
    let (code, _) = failure(
        app.client()
            .update_state_machine()
            .state_machine_arn(&arn)
            .definition("{}")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidDefinition");
}

#[tokio::test]
async fn update_with_a_real_change_creates_a_revision_and_a_no_op_keeps_it() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;

    // No change on a never-revised machine: no revisionId at all.
    let r = c
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(base_definition())
        .send()
        .await
        .unwrap();
    assert_eq!(r.revision_id, None);
    assert_eq!(r.state_machine_version_arn, None);

    let r1 = c
        .update_state_machine()
        .state_machine_arn(&arn)
        .role_arn("arn:aws:iam::123456789012:role/B")
        .send()
        .await
        .unwrap();
    let rev1 = r1.revision_id.expect("a new revision");
    assert_eq!(rev1.len(), 36);

    // Same values again: the current revision, no new one.
    let same = c
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(base_definition())
        .role_arn("arn:aws:iam::123456789012:role/B")
        .send()
        .await
        .unwrap();
    assert_eq!(same.revision_id.as_deref(), Some(rev1.as_str()));

    let logging = LoggingConfiguration::builder()
        .level(LogLevel::Off)
        .include_execution_data(true)
        .build();
    let r2 = c
        .update_state_machine()
        .state_machine_arn(&arn)
        .logging_configuration(logging)
        .send()
        .await
        .unwrap();
    let rev2 = r2.revision_id.unwrap();
    assert_ne!(rev1, rev2);
    let tracing = TracingConfiguration::builder().enabled(true).build();
    let r3 = c
        .update_state_machine()
        .state_machine_arn(&arn)
        .tracing_configuration(tracing)
        .send()
        .await
        .unwrap();
    assert_ne!(r3.revision_id.as_deref(), Some(rev2.as_str()));

    let d = c
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(d.revision_id, r3.revision_id);
    assert_eq!(d.role_arn, "arn:aws:iam::123456789012:role/B");
    assert!(d.tracing_configuration.unwrap().enabled);
    assert!(d.logging_configuration.unwrap().include_execution_data);
}

#[tokio::test]
async fn update_with_nothing_to_update_is_missing_required_parameter() {
    let app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    let (code, message) = failure(
        app.client()
            .update_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await,
    );
    assert_eq!(code, "MissingRequiredParameter");
    assert_eq!(
        message,
        "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified"
    );
}

#[tokio::test]
async fn update_of_a_version_alias_or_missing_machine_does_not_exist() {
    let app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    for target in [
        format!("{arn}:2"),
        format!("{arn}:prod"),
        format!("{arn}-nope"),
    ] {
        let (code, message) = failure(
            app.client()
                .update_state_machine()
                .state_machine_arn(&target)
                .definition(definition("x"))
                .publish(true)
                .send()
                .await,
        );
        assert_eq!(code, "StateMachineDoesNotExist");
        assert_eq!(message, format!("State Machine Does Not Exist: '{target}'"));
    }
}

#[tokio::test]
async fn describe_errors_name_the_arn_as_sent() {
    let app = TestApp::spawn().await;
    let (code, message) = failure(
        app.client()
            .describe_state_machine()
            .state_machine_arn("not_a_valid_arn")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidArn",
            "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'"
        )
    );
    let bad = "arn:aws:lambda:us-east-1:123456789012:function:f";
    let (code, message) = failure(
        app.client()
            .describe_state_machine()
            .state_machine_arn(bad)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message),
        ("InvalidArn", format!("Invalid Arn: 'Invalid ARN: {bad}'"))
    );
    let missing = format!("arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:missing");
    let (code, message) = failure(
        app.client()
            .describe_state_machine()
            .state_machine_arn(&missing)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message),
        (
            "StateMachineDoesNotExist",
            format!("State Machine Does Not Exist: '{missing}'")
        )
    );
}

#[tokio::test]
async fn delete_is_idempotent_and_refuses_versions_and_aliases() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    let (code, message) = failure(
        c.delete_state_machine()
            .state_machine_arn(format!("{arn}:1"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message),
        (
            "ValidationException",
            format!("Use DeleteStateMachineVersion to delete a state machine version: '{arn}:1'")
        )
    );
    let (code, message) = failure(
        c.delete_state_machine()
            .state_machine_arn(format!("{arn}:prod"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message),
        (
            "ValidationException",
            format!("Use DeleteStateMachineAlias to delete a state machine alias: '{arn}:prod'")
        )
    );
    c.delete_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    c.delete_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    let (code, _) = failure(
        c.describe_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await,
    );
    assert_eq!(code, "StateMachineDoesNotExist");
}

#[tokio::test]
async fn a_recreated_machine_starts_again_at_version_one() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let arn = app.create_machine("m").await;
    app.update_and_publish(&arn, "a").await;
    assert_eq!(app.update_and_publish(&arn, "b").await, format!("{arn}:2"));
    c.delete_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    app.create_machine("m").await;
    assert!(c
        .list_state_machine_versions()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap()
        .state_machine_versions
        .is_empty());
    assert_eq!(app.update_and_publish(&arn, "c").await, format!("{arn}:1"));
}

#[tokio::test]
async fn list_state_machines_pages_with_tokens_across_deletes() {
    let app = TestApp::spawn().await;
    let c = app.client();
    for i in 0..5 {
        app.create_machine(&format!("m{i}")).await;
    }
    let p1 = c.list_state_machines().max_results(2).send().await.unwrap();
    let names: Vec<String> = p1.state_machines.iter().map(|m| m.name.clone()).collect();
    assert_eq!(names, ["m0", "m1"]);
    // A machine deleted between pages does not disturb the next page.
    c.delete_state_machine()
        .state_machine_arn(&p1.state_machines[1].state_machine_arn)
        .send()
        .await
        .unwrap();
    let p2 = c
        .list_state_machines()
        .max_results(2)
        .next_token(p1.next_token.unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<String> = p2.state_machines.iter().map(|m| m.name.clone()).collect();
    assert_eq!(names, ["m2", "m3"]);
    let p3 = c
        .list_state_machines()
        .next_token(p2.next_token.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(p3.state_machines.len(), 1);
    assert_eq!(p3.next_token, None);
    assert_eq!(p3.state_machines[0].r#type, StateMachineType::Standard);

    let (code, message) = failure(
        c.list_state_machines()
            .next_token("InvalidToken")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidToken", "Invalid Token: 'Invalid token'")
    );
    let (code, message) = failure(c.list_state_machines().max_results(1001).send().await);
    assert_eq!(code, "ValidationException");
    assert_eq!(message, "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000");
}

#[tokio::test]
async fn validate_definition_reports_ok_or_fail_with_diagnostics() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let ok = c
        .validate_state_machine_definition()
        .definition(base_definition())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.result.as_str(), "OK");
    assert!(ok.diagnostics.is_empty());
    let bad = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}"#;
    let (status, r, _) = app
        .call("ValidateStateMachineDefinition", json!({"definition": bad}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        r,
        json!({"result": "FAIL", "truncated": false, "diagnostics": [
            {"severity": "ERROR", "code": "MISSING_END_STATE", "message": "Workflow has no terminal state"}]})
    );
}

#[tokio::test]
async fn state_survives_a_restart() {
    let mut app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    let v1 = app.update_and_publish(&arn, "r1").await;
    let before = app
        .client()
        .describe_state_machine()
        .state_machine_arn(&v1)
        .send()
        .await
        .unwrap();
    app.restart().await;
    let after = app
        .client()
        .describe_state_machine()
        .state_machine_arn(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(before.revision_id, after.revision_id);
    assert_eq!(before.creation_date, after.creation_date);
    assert_eq!(before.definition, after.definition);
    assert_eq!(app.update_and_publish(&arn, "r2").await, format!("{arn}:2"));
}

#[tokio::test]
async fn machines_are_listed_by_name_in_byte_order_with_stable_pages() {
    let app = TestApp::spawn().await;
    // Created out of order. Byte order: upper case before lower case, and
    // `statemachine_1` < `statemachine_10` < `statemachine_2`.
    for name in [
        "statemachine_2",
        "statemachine_10",
        "Zeta",
        "statemachine_1",
        "alpha",
    ] {
        app.create_machine(name).await;
    }
    let page = |token: Option<String>| {
        let c = app.client();
        async move {
            let r = c
                .list_state_machines()
                .max_results(2)
                .set_next_token(token)
                .send()
                .await
                .unwrap();
            let names: Vec<String> = r.state_machines.into_iter().map(|m| m.name).collect();
            (names, r.next_token)
        }
    };
    let (first, token) = page(None).await;
    assert_eq!(first, ["Zeta", "alpha"]);
    // A machine created before the cursor and one deleted after it, between pages: the
    // listing goes on after the last name served, never repeating or skipping.
    app.create_machine("aardvark").await;
    app.client()
        .delete_state_machine()
        .state_machine_arn(format!(
            "arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:statemachine_1"
        ))
        .send()
        .await
        .unwrap();
    let (second, token) = page(token).await;
    assert_eq!(second, ["statemachine_10", "statemachine_2"]);
    assert_eq!(token, None);
    let all: Vec<String> = app
        .client()
        .list_state_machines()
        .send()
        .await
        .unwrap()
        .state_machines
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(
        all,
        [
            "Zeta",
            "aardvark",
            "alpha",
            "statemachine_10",
            "statemachine_2"
        ]
    );
}

#[tokio::test]
async fn arns_carry_the_partition_of_their_region() {
    let app = TestApp::spawn().await;
    for (region, partition) in [
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
        ("eu-isoe-west-1", "aws-iso-e"),
        ("us-isof-south-1", "aws-iso-f"),
        ("eusc-de-east-1", "aws-eusc"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("eu-west-1", "aws"),
    ] {
        let c = app.client_as(ACCOUNT, region);
        let arn = c
            .create_state_machine()
            .name("p")
            .definition(base_definition())
            .role_arn(format!("arn:{partition}:iam::{ACCOUNT}:role/r"))
            .send()
            .await
            .unwrap()
            .state_machine_arn;
        assert_eq!(
            arn,
            format!("arn:{partition}:states:{region}:{ACCOUNT}:stateMachine:p")
        );
        c.describe_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn role_arns_must_name_an_iam_role_on_create_and_update() {
    let app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    for bad in [
        "arn:aws:iam::123456789012:policy/P",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::1234:role/r",
        "not-an-arn",
    ] {
        let (code, message) = failure(
            app.client()
                .create_state_machine()
                .name("n")
                .definition(base_definition())
                .role_arn(bad)
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), message),
            ("InvalidArn", format!("Invalid Role Arn: '{bad}'"))
        );
        let (code, message) = failure(
            app.client()
                .update_state_machine()
                .state_machine_arn(&arn)
                .role_arn(bad)
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), message),
            ("InvalidArn", format!("Invalid Role Arn: '{bad}'"))
        );
    }
    let d = app
        .client()
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(d.role_arn, ROLE);
}

#[tokio::test]
async fn a_log_group_arn_without_the_star_qualifier_gets_aws_text() {
    let app = TestApp::spawn().await;
    let r = app
        .call(
            "CreateStateMachine",
            json!({
                "name": "logs",
                "definition": base_definition(),
                "roleArn": ROLE,
                "loggingConfiguration": {
                    "level": "ALL",
                    "destinations": [{"cloudWatchLogsLogGroup": {
                        "logGroupArn": format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g")
                    }}]
                }
            }),
        )
        .await;
    assert_error(
        &r,
        400,
        "InvalidLoggingConfiguration",
        "Invalid Logging Configuration: Log Group ARN must be provided with '*' qualifier.",
    );
}
