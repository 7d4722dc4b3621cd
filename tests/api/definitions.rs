//! Every States Language rule through the API, with AWS's texts: CreateStateMachine answers
//! `InvalidDefinition` with `Invalid State Machine Definition: '<CODE>: <text> at <location>'`,
//! and ValidateStateMachineDefinition returns the same findings as diagnostics. Texts marked
//! [R] were recorded against AWS (LocalStack's snapshots); the others follow
//! ../shared/spec/asl-semantics.md §1 where AWS's words are not recorded.

use serde_json::{json, Value};

use crate::helpers::*;

/// One rule: a definition of `kind` and the problems AWS reports for it, in order.
struct Case {
    name: &'static str,
    kind: &'static str,
    definition: Value,
    problems: &'static [(&'static str, &'static str, Option<&'static str>)],
}

const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";

fn one(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            // [R] test_sfn_api_validation::…[EMPTY_DICT]
            name: "empty object",
            kind: "STANDARD",
            definition: json!({}),
            problems: &[(SCHEMA, "These fields are required: [States, StartAt]", Some("/"))],
        },
        Case {
            // [R] …[INVALID_BASE_NO_STARTAT]
            name: "no StartAt",
            kind: "STANDARD",
            definition: json!({"States": {"A": {"Type": "Succeed"}}}),
            problems: &[(SCHEMA, "These fields are required: [StartAt]", Some("/"))],
        },
        Case {
            // [R] credentials::test_invalid_credentials_field[EMPTY_CREDENTIALS]
            name: "empty credentials",
            kind: "STANDARD",
            definition: json!({"StartAt": "State0", "States": {"State0": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Credentials": {}, "End": true}}}),
            problems: &[(
                SCHEMA,
                "The field 'RoleArn' is required but was missing",
                Some("/States/State0/Credentials"),
            )],
        },
        Case {
            // [R] …[INVALID_CREDENTIALS_FIELD]: the unknown field is not reported on its own.
            name: "credentials without RoleArn",
            kind: "STANDARD",
            definition: json!({"StartAt": "State0", "States": {"State0": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Credentials": {"InvalidField": "x"}, "End": true}}}),
            problems: &[(
                SCHEMA,
                "The field 'RoleArn' is required but was missing",
                Some("/States/State0/Credentials"),
            )],
        },
        Case {
            // [R] scenarios::test_wait_timestamp_invalid[*]
            name: "wait timestamp with a space",
            kind: "STANDARD",
            definition: json!({"StartAt": "WaitUntil", "States": {"WaitUntil": {
                "Type": "Wait", "Timestamp": "2016-03-14 01:59:00Z", "End": true}}}),
            problems: &[(
                SCHEMA,
                "String does not match RFC3339 timestamp",
                Some("/States/WaitUntil/Timestamp"),
            )],
        },
        Case {
            name: "wait timestamp month 13",
            kind: "STANDARD",
            definition: json!({"StartAt": "WaitUntil", "States": {"WaitUntil": {
                "Type": "Wait", "Timestamp": "2016-13-14T01:59:00Z", "End": true}}}),
            problems: &[(
                SCHEMA,
                "String does not match RFC3339 timestamp",
                Some("/States/WaitUntil/Timestamp"),
            )],
        },
        Case {
            name: "JSONata timestamp in a JSONPath state",
            kind: "STANDARD",
            definition: json!({"StartAt": "WaitUntil", "States": {"WaitUntil": {
                "Type": "Wait", "Timestamp": "{% $now() %}", "End": true}}}),
            problems: &[(
                SCHEMA,
                "String does not match RFC3339 timestamp",
                Some("/States/WaitUntil/Timestamp"),
            )],
        },
        Case {
            // [R] scenarios::test_illegal_escapes[*]
            name: "illegal escape in an intrinsic",
            kind: "STANDARD",
            definition: json!({"StartAt": "IntrinsicEscape", "States": {"IntrinsicEscape": {
                "Type": "Pass", "Parameters": {"parsed.$": "States.StringToJson('{\\\"a\\\": 1}')"},
                "End": true}}}),
            problems: &[(
                SCHEMA,
                "The value for the field 'parsed.$' must be a valid JSONPath or a valid intrinsic function call",
                Some("/States/IntrinsicEscape/Parameters"),
            )],
        },
        Case {
            name: "unknown intrinsic",
            kind: "STANDARD",
            definition: one(json!({"Type": "Pass", "Parameters": {"x.$": "States.Nope($.a)"}, "End": true})),
            problems: &[(
                SCHEMA,
                "The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call",
                Some("/States/S/Parameters"),
            )],
        },
        Case {
            name: "intrinsic with the wrong arity",
            kind: "STANDARD",
            definition: one(json!({"Type": "Pass", "Parameters": {"x.$": "States.ArrayRange(1, 2)"}, "End": true})),
            problems: &[(
                SCHEMA,
                "The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call",
                Some("/States/S/Parameters"),
            )],
        },
        Case {
            name: "malformed JSONPath",
            kind: "STANDARD",
            definition: one(json!({"Type": "Pass", "Parameters": {"x.$": "$.a["}, "End": true})),
            problems: &[(
                SCHEMA,
                "The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call",
                Some("/States/S/Parameters"),
            )],
        },
        Case {
            // [R] services/test_dynamodb_task_service::test_invalid_integration
            name: "unknown optimised integration",
            kind: "STANDARD",
            definition: json!({"StartAt": "Query", "States": {"Query": {
                "Type": "Task", "Resource": "arn:aws:states:::dynamodb:query", "End": true}}}),
            problems: &[(
                SCHEMA,
                "The resource provided arn:aws:states:::dynamodb:query is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.",
                Some("/States/Query/Resource"),
            )],
        },
        Case {
            // [R] test_sfn_api_express::test_illegal_callbacks[WAIT_FOR_TASK_TOKEN]
            name: "express callback",
            kind: "EXPRESS",
            definition: json!({"StartAt": "Publish", "States": {"Publish": {
                "Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken", "End": true}}}),
            problems: &[(
                SCHEMA,
                "Express state machine does not support '.waitForTaskToken' service integration ",
                Some("/States/Publish/Resource"),
            )],
        },
        Case {
            // [R] …[SYNC]
            name: "express sync",
            kind: "EXPRESS",
            definition: json!({"StartAt": "StartExecution", "States": {"StartExecution": {
                "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync", "End": true}}}),
            problems: &[(
                SCHEMA,
                "Express state machine does not support '.sync' service integration",
                Some("/States/StartExecution/Resource"),
            )],
        },
        Case {
            // [R] test_sfn_api_express::test_illegal_activity_task
            name: "express activity",
            kind: "EXPRESS",
            definition: json!({"StartAt": "ActivityTask", "States": {"ActivityTask": {
                "Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:a", "End": true}}}),
            problems: &[(
                SCHEMA,
                "Express state machine does not support Activity ARN",
                Some("/States/ActivityTask/Resource"),
            )],
        },
        Case {
            // [R] test_sfn_api_validation::…[INVALID_DOWNGRADE_QUERY_LANGUAGE]
            name: "query language downgrade",
            kind: "STANDARD",
            definition: json!({"QueryLanguage": "JSONata", "StartAt": "Pass", "States": {"Pass": {
                "Type": "Pass", "QueryLanguage": "JSONPath", "End": true}}}),
            problems: &[(
                SCHEMA,
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
                Some("/States/Pass"),
            )],
        },
        Case {
            // [R] test_state/test_state_mock_validation::test_parallel_state_empty_branches
            name: "empty branches",
            kind: "STANDARD",
            definition: json!({"StartAt": "StateName", "States": {"StateName": {
                "Type": "Parallel", "Branches": [], "End": true}}}),
            problems: &[(SCHEMA, "Value cannot be empty", Some("/States/StateName/Branches"))],
        },
        Case {
            name: "label too long",
            kind: "STANDARD",
            definition: one(json!({"Type": "Map", "Label": "x".repeat(41),
                "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}, "End": true})),
            problems: &[(
                "INVALID_LABEL_NAME",
                "Label cannot exceed 40 characters",
                Some("/States/S/Label"),
            )],
        },
        Case {
            name: "label with a forbidden character",
            kind: "STANDARD",
            definition: one(json!({"Type": "Map", "Label": "a:b",
                "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}, "End": true})),
            problems: &[(
                "INVALID_LABEL_NAME",
                "Label contains invalid character: ':'",
                Some("/States/S/Label"),
            )],
        },
        Case {
            name: "States.ALL not alone",
            kind: "STANDARD",
            definition: one(json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Catch": [{"ErrorEquals": ["States.ALL", "X"], "Next": "S"}], "End": true})),
            problems: &[(
                SCHEMA,
                "The error 'States.ALL' must appear alone in ErrorEquals",
                Some("/States/S/Catch[0]/ErrorEquals"),
            )],
        },
        Case {
            name: "heartbeat not below timeout",
            kind: "STANDARD",
            definition: one(json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "TimeoutSeconds": 5, "HeartbeatSeconds": 9, "End": true})),
            problems: &[(
                SCHEMA,
                "The value of 'HeartbeatSeconds' must be less than the value of 'TimeoutSeconds'",
                Some("/States/S/HeartbeatSeconds"),
            )],
        },
        Case {
            name: "several problems, in document order",
            kind: "STANDARD",
            definition: json!({"StartAt": "A", "States": {
                "A": {"Type": "Pass", "Next": "Missing"},
                "B": {"Type": "Succeed"}}}),
            problems: &[
                ("MISSING_TRANSITION_TARGET", "Missing 'Next' target: Missing", Some("/States/A/Next")),
                ("MISSING_TRANSITION_TARGET", "State \"B\" is not reachable.", Some("/States/B")),
            ],
        },
    ]
}

#[tokio::test]
async fn every_rule_answers_with_aws_texts_on_create_and_validate() {
    let app = TestApp::spawn().await;
    for (i, case) in cases().into_iter().enumerate() {
        let definition = case.definition.to_string();
        let joined: Vec<String> = case
            .problems
            .iter()
            .map(|(code, message, location)| match location {
                Some(l) => format!("{code}: {message} at {l}"),
                None => format!("{code}: {message}"),
            })
            .collect();
        let created = app
            .call(
                "CreateStateMachine",
                json!({"name": format!("m{i}"), "definition": definition, "roleArn": ROLE, "type": case.kind}),
            )
            .await;
        assert_error(
            &created,
            400,
            "InvalidDefinition",
            &format!("Invalid State Machine Definition: '{}'", joined.join(", ")),
        );
        let validated = app
            .call(
                "ValidateStateMachineDefinition",
                json!({"definition": definition, "type": case.kind}),
            )
            .await;
        assert_eq!(validated.0, 200, "{}", case.name);
        assert_eq!(validated.1["result"], "FAIL", "{}", case.name);
        let expected: Vec<Value> = case
            .problems
            .iter()
            .map(|(code, message, location)| {
                let mut d = json!({"code": code, "message": message, "severity": "ERROR"});
                if let Some(l) = location {
                    d["location"] = json!(l);
                }
                d
            })
            .collect();
        assert_eq!(validated.1["diagnostics"], json!(expected), "{}", case.name);
        assert_eq!(validated.1["truncated"], false, "{}", case.name);
    }
}

#[tokio::test]
async fn express_rules_apply_to_updates_of_express_machines_only() {
    let app = TestApp::spawn().await;
    let callback = one(json!({"Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": true}))
    .to_string();
    for (kind, expected) in [("STANDARD", 200), ("EXPRESS", 400)] {
        let arn = app
            .call(
                "CreateStateMachine",
                json!({"name": format!("u-{kind}"), "definition": base_definition(), "roleArn": ROLE, "type": kind}),
            )
            .await
            .1["stateMachineArn"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = app
            .call(
                "UpdateStateMachine",
                json!({"stateMachineArn": arn, "definition": callback}),
            )
            .await;
        assert_eq!(r.0, expected, "{kind}: {:?}", r.1);
    }
}

#[tokio::test]
async fn validate_honours_max_results_and_reports_truncation() {
    let app = TestApp::spawn().await;
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "X1"},
        "B": {"Type": "Pass", "Next": "X2"},
        "C": {"Type": "Succeed"}}})
    .to_string();
    let all = app
        .call("ValidateStateMachineDefinition", json!({"definition": def}))
        .await;
    let count = all.1["diagnostics"].as_array().unwrap().len();
    assert!(count >= 3, "{:?}", all.1);
    let cut = app
        .call(
            "ValidateStateMachineDefinition",
            json!({"definition": def, "maxResults": 1}),
        )
        .await;
    assert_eq!(cut.1["diagnostics"].as_array().unwrap().len(), 1);
    assert_eq!(cut.1["truncated"], true);
    assert_eq!(cut.1["diagnostics"][0], all.1["diagnostics"][0]);
    let ok = app
        .call(
            "ValidateStateMachineDefinition",
            json!({"definition": base_definition(), "severity": "WARNING"}),
        )
        .await;
    assert_eq!(
        ok.1,
        json!({"result": "OK", "diagnostics": [], "truncated": false})
    );
}

#[tokio::test]
async fn definitions_are_kept_byte_for_byte() {
    let app = TestApp::spawn().await;
    let text = "{\n  \"Comment\": \"kept as sent\",\n  \"StartAt\" : \"A\",\n  \"States\": {\"A\": {\"Type\": \"Pass\", \"End\": true, \"Result\": 1.50}}\n}\n";
    let arn = app
        .call(
            "CreateStateMachine",
            json!({"name": "bytes", "definition": text, "roleArn": ROLE}),
        )
        .await
        .1["stateMachineArn"]
        .clone();
    let d = app
        .call("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(d.1["definition"], text);
}

#[tokio::test]
async fn adversarial_definitions_are_answered_quickly() {
    let app = TestApp::spawn().await;
    let mut nested = json!({"Type": "Succeed"});
    for i in 0..100 {
        nested = json!({"Type": "Parallel", "End": true,
            "Branches": [{"StartAt": format!("P{i}"), "States": {format!("P{i}"): nested}}]});
    }
    let mut states = serde_json::Map::new();
    for i in 0..10_000 {
        states.insert(
            format!("S{i}"),
            json!({"Type": "Pass", "Next": format!("S{}", i + 1)}),
        );
    }
    states.insert("S10000".into(), json!({"Type": "Succeed"}));
    for def in [
        one(nested).to_string(),
        json!({"StartAt": "S0", "States": states}).to_string(),
        one(json!({"Type": "Pass", "Result": "x".repeat(1_000_000), "End": true})).to_string(),
        one(json!({"Type": "Pass", "Output": format!("{{% {} %}}", "(".repeat(10_000)), "QueryLanguage": "JSONata", "End": true})).to_string(),
    ] {
        let started = std::time::Instant::now();
        let r = app
            .call("ValidateStateMachineDefinition", json!({"definition": def}))
            .await;
        assert_eq!(r.0, 200, "{:?}", r.1);
        // Debug builds run the suite; a release build is several times faster.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn validate_judges_every_corpus_definition_like_create_does() {
    let app = TestApp::spawn().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asl");
    let mut seen = 0;
    for (dir, expect) in [("valid", "OK"), ("invalid", "FAIL")] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let kind = if file.starts_with("express-") {
                "EXPRESS"
            } else {
                "STANDARD"
            };
            let v = app
                .call(
                    "ValidateStateMachineDefinition",
                    json!({"definition": text, "type": kind}),
                )
                .await;
            assert_eq!(v.1["result"], expect, "{dir}/{file}: {:?}", v.1);
            let diagnostics = v.1["diagnostics"].as_array().unwrap();
            assert_eq!(diagnostics.is_empty(), expect == "OK", "{dir}/{file}");
            let created = app
                .call(
                    "CreateStateMachine",
                    json!({"name": format!("c{seen}"), "definition": text, "roleArn": ROLE, "type": kind}),
                )
                .await;
            if expect == "OK" {
                assert_eq!(created.0, 200, "{dir}/{file}: {:?}", created.1);
            } else {
                assert_eq!(created.1["__type"], "InvalidDefinition", "{dir}/{file}");
                // The first diagnostic leads Create's message.
                let d = &diagnostics[0];
                let first = match d["location"].as_str() {
                    Some(l) => format!(
                        "{}: {} at {l}",
                        d["code"].as_str().unwrap(),
                        d["message"].as_str().unwrap()
                    ),
                    None => format!(
                        "{}: {}",
                        d["code"].as_str().unwrap(),
                        d["message"].as_str().unwrap()
                    ),
                };
                let message = created.1["message"].as_str().unwrap();
                assert!(
                    message.starts_with(&format!("Invalid State Machine Definition: '{first}")),
                    "{dir}/{file}: {message} / {first}"
                );
            }
            seen += 1;
        }
    }
    assert!(seen >= 80, "{seen}");
}
