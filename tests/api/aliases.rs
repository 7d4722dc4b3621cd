//! The alias operations (aws-behavior.md §1.3, §8, §13.4).

use aws_sdk_sfn::types::RoutingConfigurationListItem;
use serde_json::json;

use crate::helpers::*;

fn route(arn: &str, weight: i32) -> RoutingConfigurationListItem {
    RoutingConfigurationListItem::builder()
        .state_machine_version_arn(arn)
        .weight(weight)
        .build()
        .unwrap()
}

/// A machine with versions :1 and :2.
async fn machine_with_two_versions(app: &TestApp, name: &str) -> String {
    let arn = app.create_machine(name).await;
    app.update_and_publish(&arn, "v1").await;
    app.update_and_publish(&arn, "v2").await;
    arn
}

#[tokio::test]
async fn create_then_describe_an_alias() {
    let app = TestApp::spawn().await;
    let arn = machine_with_two_versions(&app, "m").await;
    let created = app
        .client()
        .create_state_machine_alias()
        .name("prod")
        .routing_configuration(route(&format!("{arn}:1"), 90))
        .routing_configuration(route(&format!("{arn}:2"), 10))
        .send()
        .await
        .unwrap();
    assert_eq!(created.state_machine_alias_arn, format!("{arn}:prod"));
    let (status, d, _) = app
        .call(
            "DescribeStateMachineAlias",
            json!({"stateMachineAliasArn": created.state_machine_alias_arn}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(d["name"], "prod");
    assert!(d.get("description").is_none());
    assert_eq!(d["creationDate"], d["updateDate"]);
    assert_eq!(
        d["routingConfiguration"],
        json!([{"stateMachineVersionArn": format!("{arn}:1"), "weight": 90}, {"stateMachineVersionArn": format!("{arn}:2"), "weight": 10}])
    );
}

#[tokio::test]
async fn identical_create_is_idempotent_and_any_difference_conflicts() {
    let app = TestApp::spawn().await;
    let arn = machine_with_two_versions(&app, "m").await;
    let c = app.client();
    let create = |desc: &str, version: &str| {
        c.create_state_machine_alias()
            .name("prod")
            .description(desc)
            .routing_configuration(route(&format!("{arn}:{version}"), 100))
            .send()
    };
    let first = create("d", "1").await.unwrap();
    let again = create("d", "1").await.unwrap();
    assert_eq!(first.state_machine_alias_arn, again.state_machine_alias_arn);
    assert_eq!(first.creation_date, again.creation_date);
    for (desc, version) in [("other", "1"), ("d", "2")] {
        let (code, message) = failure(create(desc, version).await);
        assert_eq!(code, "ConflictException");
        assert_eq!(message, "Failed to create alias because an alias with the same name and a different routing configuration already exists.");
    }
    // Another name with the same routing is a second alias.
    c.create_state_machine_alias()
        .name("prod-2")
        .description("d")
        .routing_configuration(route(&format!("{arn}:1"), 100))
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.list_state_machine_aliases()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap()
            .state_machine_aliases
            .len(),
        2
    );
}

#[tokio::test]
async fn routing_rules_use_the_recorded_texts() {
    let app = TestApp::spawn().await;
    let arn = machine_with_two_versions(&app, "m").await;
    app.update_and_publish(&arn, "v3").await;
    let (v1, v2, v3) = (format!("{arn}:1"), format!("{arn}:2"), format!("{arn}:3"));
    let cases: Vec<(serde_json::Value, String)> = vec![
        (json!([{"stateMachineVersionArn": arn, "weight": 100}]), format!("Routing configuration must contain state machine version ARNs. Received: [{arn}]")),
        (json!([{"stateMachineVersionArn": arn, "weight": 70}, {"stateMachineVersionArn": v2, "weight": 30}]), format!("Routing configuration must contain state machine version ARNs. Received: [{arn}, {v2}]")),
        (json!([{"stateMachineVersionArn": v1, "weight": 50}, {"stateMachineVersionArn": v2, "weight": 30}, {"stateMachineVersionArn": v3, "weight": 20}]),
            format!("1 validation error detected: Value '[RoutingConfigurationListItem(stateMachineVersionArn={v1}, weight=50), RoutingConfigurationListItem(stateMachineVersionArn={v2}, weight=30), RoutingConfigurationListItem(stateMachineVersionArn={v3}, weight=20)]' at 'routingConfiguration' failed to satisfy constraint: Member must have length less than or equal to 2")),
        (json!([{"stateMachineVersionArn": v1, "weight": 50}, {"stateMachineVersionArn": v1, "weight": 50}]), format!("Routing configuration must contain distinct state machine version ARNs. Received: [{v1}, {v1}]")),
        (json!([{"stateMachineVersionArn": v1, "weight": 101}]), "1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' failed to satisfy constraint: Member must have value less than or equal to 100".into()),
        (json!([{"stateMachineVersionArn": v1, "weight": 70}, {"stateMachineVersionArn": v2, "weight": 29}]), "Sum of routing configuration weights must equal 100. Received: [70, 29]".into()),
        (json!([{"stateMachineVersionArn": v1, "weight": 70}, {"stateMachineVersionArn": v2, "weight": 31}]), "Sum of routing configuration weights must equal 100. Received: [70, 31]".into()),
    ];
    for (routing, message) in cases {
        let r = app
            .call(
                "CreateStateMachineAlias",
                json!({"name": "a", "routingConfiguration": routing}),
            )
            .await;
        assert_error(&r, 400, "ValidationException", &message);
    }
    let pattern = r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$";
    for name in ["123", "INVALID ALIAS", "!INVALID", "ALIAS@"] {
        let r = app.call("CreateStateMachineAlias", json!({"name": name, "routingConfiguration": [{"stateMachineVersionArn": v1, "weight": 100}]})).await;
        let message = format!("1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}");
        assert_error(&r, 400, "ValidationException", &message);
    }
    let long = "A".repeat(81);
    let r = app.call("CreateStateMachineAlias", json!({"name": long, "routingConfiguration": [{"stateMachineVersionArn": v1, "weight": 100}]})).await;
    assert_error(&r, 400, "ValidationException", &format!("1 validation error detected: Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80"));
    assert!(app
        .client()
        .list_state_machine_aliases()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap()
        .state_machine_aliases
        .is_empty());
}

#[tokio::test]
async fn missing_versions_and_mixed_machines_are_refused() {
    let app = TestApp::spawn().await;
    let a = machine_with_two_versions(&app, "a").await;
    let b = machine_with_two_versions(&app, "b").await;
    let c = app.client();
    let (code, message) = failure(
        c.create_state_machine_alias()
            .name("x")
            .routing_configuration(route(&format!("{a}:9"), 100))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message),
        ("ResourceNotFound", format!("Resource not found: '{a}:9'"))
    );
    let (code, message) = failure(
        c.create_state_machine_alias()
            .name("x")
            .routing_configuration(route(&format!("{a}:1"), 50))
            .routing_configuration(route(&format!("{b}:1"), 50))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(message, format!("Routing configuration must contain version ARNs of the same state machine. Received: [{a}:1, {b}:1]"));
}

#[tokio::test]
async fn update_changes_only_what_is_given() {
    let app = TestApp::spawn().await;
    let arn = machine_with_two_versions(&app, "m").await;
    let c = app.client();
    let alias = c
        .create_state_machine_alias()
        .name("prod")
        .description("old")
        .routing_configuration(route(&format!("{arn}:1"), 100))
        .send()
        .await
        .unwrap()
        .state_machine_alias_arn;
    let (status, r, _) = app
        .call(
            "UpdateStateMachineAlias",
            json!({"stateMachineAliasArn": alias, "description": "new description"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        r.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["updateDate"]
    );
    c.update_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .routing_configuration(route(&format!("{arn}:1"), 50))
        .routing_configuration(route(&format!("{arn}:2"), 50))
        .send()
        .await
        .unwrap();
    let d = c
        .describe_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .send()
        .await
        .unwrap();
    assert_eq!(d.description.as_deref(), Some("new description"));
    assert_eq!(d.routing_configuration.unwrap().len(), 2);
    assert!(d.update_date.unwrap() >= d.creation_date.unwrap());

    let (code, message) = failure(
        c.update_state_machine_alias()
            .state_machine_alias_arn(&alias)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ValidationException",
            "Either the description or the RoutingConfiguration must be specified"
        )
    );
    let (code, message) = failure(
        c.update_state_machine_alias()
            .state_machine_alias_arn(&alias)
            .routing_configuration(route(&format!("{arn}:1"), 60))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ValidationException",
            "Sum of routing configuration weights must equal 100. Received: [60]"
        )
    );
    let other = machine_with_two_versions(&app, "other").await;
    let (code, _) = failure(
        c.update_state_machine_alias()
            .state_machine_alias_arn(&alias)
            .routing_configuration(route(&format!("{other}:1"), 100))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    let (code, message) = failure(
        c.update_state_machine_alias()
            .state_machine_alias_arn(format!("{arn}:nope"))
            .description("d")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ResourceNotFound",
            "Request references a resource that does not exist."
        )
    );
}

#[tokio::test]
async fn delete_is_idempotent_and_describe_of_a_missing_alias_is_not_found() {
    let app = TestApp::spawn().await;
    let arn = machine_with_two_versions(&app, "m").await;
    let c = app.client();
    let alias = c
        .create_state_machine_alias()
        .name("prod")
        .routing_configuration(route(&format!("{arn}:1"), 100))
        .send()
        .await
        .unwrap()
        .state_machine_alias_arn;
    c.delete_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .send()
        .await
        .unwrap();
    c.delete_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .send()
        .await
        .unwrap();
    let (code, message) = failure(
        c.describe_state_machine_alias()
            .state_machine_alias_arn(&alias)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ResourceNotFound",
            "Request references a resource that does not exist."
        )
    );
    // The versions it routed to stay.
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
async fn a_routed_version_cannot_be_deleted_until_re_pointed() {
    let app = TestApp::spawn().await;
    let arn = machine_with_two_versions(&app, "m").await;
    let c = app.client();
    let v1 = format!("{arn}:1");
    for name in ["zeta", "alpha"] {
        c.create_state_machine_alias()
            .name(name)
            .routing_configuration(route(&v1, 100))
            .send()
            .await
            .unwrap();
    }
    let (status, body, _) = app
        .call(
            "DeleteStateMachineVersion",
            json!({"stateMachineVersionArn": v1}),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["message"], "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [zeta, alpha]");
    for name in ["zeta", "alpha"] {
        c.update_state_machine_alias()
            .state_machine_alias_arn(format!("{arn}:{name}"))
            .routing_configuration(route(&format!("{arn}:2"), 100))
            .send()
            .await
            .unwrap();
    }
    c.delete_state_machine_version()
        .state_machine_version_arn(&v1)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn deleting_the_machine_removes_its_aliases() {
    let app = TestApp::spawn().await;
    let arn = machine_with_two_versions(&app, "m").await;
    let c = app.client();
    c.create_state_machine_alias()
        .name("prod")
        .routing_configuration(route(&format!("{arn}:1"), 100))
        .send()
        .await
        .unwrap();
    c.delete_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    let arn2 = machine_with_two_versions(&app, "m").await;
    assert_eq!(arn, arn2);
    assert!(c
        .list_state_machine_aliases()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap()
        .state_machine_aliases
        .is_empty());
    let (code, _) = failure(
        c.describe_state_machine_alias()
            .state_machine_alias_arn(format!("{arn}:prod"))
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFound");
}

#[tokio::test]
async fn list_aliases_oldest_first_with_tokens_and_by_version() {
    let mut app = TestApp::spawn().await;
    let arn = machine_with_two_versions(&app, "m").await;
    let c = app.client();
    for (name, v) in [("c-first", 1), ("b-second", 2), ("a-third", 1)] {
        c.create_state_machine_alias()
            .name(name)
            .routing_configuration(route(&format!("{arn}:{v}"), 100))
            .send()
            .await
            .unwrap();
    }
    let p1 = c
        .list_state_machine_aliases()
        .state_machine_arn(&arn)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        p1.state_machine_aliases[0].state_machine_alias_arn,
        format!("{arn}:c-first")
    );
    app.restart().await;
    let c = app.client();
    let p2 = c
        .list_state_machine_aliases()
        .state_machine_arn(&arn)
        .next_token(p1.next_token.unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<String> = p2
        .state_machine_aliases
        .iter()
        .map(|a| a.state_machine_alias_arn.clone())
        .collect();
    assert_eq!(names, [format!("{arn}:b-second"), format!("{arn}:a-third")]);
    assert_eq!(p2.next_token, None);
    let by_v1 = c
        .list_state_machine_aliases()
        .state_machine_arn(format!("{arn}:1"))
        .send()
        .await
        .unwrap();
    let names: Vec<String> = by_v1
        .state_machine_aliases
        .iter()
        .map(|a| a.state_machine_alias_arn.clone())
        .collect();
    assert_eq!(names, [format!("{arn}:c-first"), format!("{arn}:a-third")]);

    let (code, message) = failure(
        c.list_state_machine_aliases()
            .state_machine_arn(&arn)
            .next_token("InvalidToken")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidToken", "Invalid Token: 'Invalid token'")
    );
    let (code, _) = failure(
        c.list_state_machine_aliases()
            .state_machine_arn(&arn)
            .max_results(1001)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    let (code, _) = failure(
        c.list_state_machine_aliases()
            .state_machine_arn(format!("{arn}-missing"))
            .send()
            .await,
    );
    assert_eq!(code, "StateMachineDoesNotExist");
}

#[tokio::test]
async fn one_hundred_aliases_per_machine() {
    let app = TestApp::spawn_with(|c| c.synchronous = sfnlite::store::Synchronous::Normal).await;
    let arn = machine_with_two_versions(&app, "m").await;
    let c = app.client();
    for i in 0..100 {
        c.create_state_machine_alias()
            .name(format!("a{i}"))
            .routing_configuration(route(&format!("{arn}:1"), 100))
            .send()
            .await
            .unwrap();
    }
    let (status, body, _) = app
        .call("CreateStateMachineAlias", json!({"name": "one-more", "routingConfiguration": [{"stateMachineVersionArn": format!("{arn}:1"), "weight": 100}]}))
        .await;
    assert_eq!(status, 402);
    assert_eq!(body["__type"], "ServiceQuotaExceededException");
    assert_eq!(
        body["message"],
        format!("The maximum number of aliases (100) for state machine '{arn}' has been reached.")
    );
}
