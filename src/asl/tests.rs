//! The rules, one test each, on definitions small enough to read; the corpus under
//! `tests/asl/` on top.

use super::*;
use crate::domain::records::MachineType;

fn problems(def: &str) -> Vec<String> {
    check(def, Flavor::default())
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect()
}

fn express(def: &str) -> Vec<String> {
    check(
        def,
        Flavor {
            kind: MachineType::Express,
        },
    )
    .iter()
    .map(|d| d.to_string())
    .collect()
}

/// A one-state machine whose state is `state` (JSON text), named `S`.
fn one(state: &str) -> String {
    format!(r#"{{"StartAt":"S","States":{{"S":{state}}}}}"#)
}

#[test]
fn minimal_pass_machine_parses_into_the_model() {
    let d = parse(&one(r#"{"Type":"Pass","End":true}"#), Flavor::default()).unwrap();
    assert_eq!(d.machine.start_at, "S");
    assert!(matches!(
        d.machine.states[0].kind,
        model::StateKind::Pass {
            transition: model::Transition::End,
            ..
        }
    ));
}

#[test]
fn missing_top_level_fields_are_named_states_first() {
    assert_eq!(
        problems("{}"),
        ["SCHEMA_VALIDATION_FAILED: These fields are required: [States, StartAt] at /"]
    );
    assert_eq!(
        problems(r#"{"States":{"A":{"Type":"Succeed"}}}"#),
        ["SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /"]
    );
}

#[test]
fn empty_text_and_non_json_are_told_apart() {
    let empty = check("", Flavor::default());
    assert_eq!(empty[0].message, "Definition must be a valid JSON object");
    assert_eq!(empty[0].location, None);
    assert_eq!(
        check("{nope", Flavor::default())[0].code,
        codes::INVALID_JSON
    );
    assert_eq!(
        check("[1]", Flavor::default())[0].message,
        "Definition must be a valid JSON object"
    );
}

#[test]
fn dangling_next_and_unreachable_state_are_reported_like_aws() {
    let def =
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nope"},"B":{"Type":"Succeed"}}}"#;
    assert_eq!(
        problems(def),
        [
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /States/A/Next",
            "MISSING_TRANSITION_TARGET: State \"B\" is not reachable. at /States/B",
        ]
    );
}

#[test]
fn diagnostics_follow_document_order_not_alphabetical_order() {
    let def = r#"{"StartAt":"Z","States":{"Z":{"Type":"Pass","Next":"Y"},"Y":{"Type":"Pass","Bogus":1,"End":true},"A":{"Type":"Succeed"}}}"#;
    let p = problems(def);
    assert!(
        p[0].contains("'Bogus' is not supported at /States/Y"),
        "{p:?}"
    );
    assert!(
        p.last().unwrap().contains("\"A\" is not reachable"),
        "{p:?}"
    );
}

#[test]
fn loop_without_terminal_state_reports_only_missing_end_state() {
    let def = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}"#;
    assert_eq!(
        problems(def),
        ["MISSING_END_STATE: Workflow has no terminal state"]
    );
}

#[test]
fn duplicate_state_names_are_refused_across_scopes() {
    let def = r#"{"StartAt":"A","States":{"A":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}]}}}"#;
    assert_eq!(
        problems(def),
        ["DUPLICATE_STATE_NAME: Duplicate State name: A at /States/A/Branches[0]/States/A"]
    );
    let same_scope =
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"A":{"Type":"Succeed"}}}"#;
    assert_eq!(
        check(same_scope, Flavor::default())[0].code,
        codes::INVALID_JSON
    );
}

#[test]
fn wait_timestamps_must_be_rfc3339() {
    for good in [
        "2016-03-14T01:59:00Z",
        "2016-03-05T21:29:29.243167252Z",
        "2016-03-14T01:59:00+01:00",
    ] {
        assert_eq!(
            problems(&one(&format!(
                r#"{{"Type":"Wait","Timestamp":"{good}","End":true}}"#
            ))),
            Vec::<String>::new(),
            "{good}"
        );
    }
    for bad in [
        "2016-03-14 01:59:00Z",
        "2016-03-14T01:59:00",
        "2016-13-14T01:59:00Z",
        "2016-03-14T25:59:00Z",
        "14-03-2016T01:59:00Z",
        "{% $now() %}",
    ] {
        assert_eq!(
            problems(&one(&format!(r#"{{"Type":"Wait","Timestamp":"{bad}","End":true}}"#))),
            ["SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at /States/S/Timestamp"],
            "{bad}"
        );
    }
}

#[test]
fn credentials_need_a_role_arn() {
    for creds in ["{}", r#"{"InvalidField":"x"}"#] {
        let state = format!(
            r#"{{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Credentials":{creds},"End":true}}"#
        );
        assert_eq!(
            problems(&one(&state)),
            ["SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing at /States/S/Credentials"]
        );
    }
    let ok = one(
        r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Credentials":{"RoleArn.$":"$.role"},"End":true}"#,
    );
    assert!(problems(&ok).is_empty());
}

#[test]
fn unknown_integrations_are_not_recognized() {
    assert_eq!(
        problems(&one(r#"{"Type":"Task","Resource":"arn:aws:states:::dynamodb:query","End":true}"#)),
        ["SCHEMA_VALIDATION_FAILED: The resource provided arn:aws:states:::dynamodb:query is not recognized. The value is not a valid resource ARN, or the resource is not available in this region. at /States/S/Resource"]
    );
}

#[test]
fn express_machines_refuse_callbacks_sync_and_activities() {
    let task = |r: &str| one(&format!(r#"{{"Type":"Task","Resource":"{r}","End":true}}"#));
    assert_eq!(
        express(&task("arn:aws:states:::sqs:sendMessage.waitForTaskToken")),
        ["SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' service integration  at /States/S/Resource"]
    );
    assert_eq!(
        express(&task("arn:aws:states:::states:startExecution.sync")),
        ["SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at /States/S/Resource"]
    );
    assert_eq!(
        express(&task("arn:aws:states:us-east-1:123456789012:activity:a")),
        ["SCHEMA_VALIDATION_FAILED: Express state machine does not support Activity ARN at /States/S/Resource"]
    );
    assert!(problems(&task("arn:aws:states:::sqs:sendMessage.waitForTaskToken")).is_empty());
}

#[test]
fn dollar_fields_must_hold_a_path_or_an_intrinsic_call() {
    for bad in [
        "States.Format('a \\\" b')",
        "States.NoSuch()",
        "not a path",
        "States.UUID(1)",
    ] {
        let state = format!(
            r#"{{"Type":"Pass","Parameters":{{"nested":{{"parsed.$":{}}}}},"End":true}}"#,
            serde_json::to_string(bad).unwrap()
        );
        assert_eq!(
            problems(&one(&state)),
            ["SCHEMA_VALIDATION_FAILED: The value for the field 'parsed.$' must be a valid JSONPath or a valid intrinsic function call at /States/S/Parameters"],
            "{bad}"
        );
    }
    let ok = one(
        r#"{"Type":"Pass","Parameters":{"a.$":"$.x","b.$":"States.Format('{}', $$.Execution.Id)","c.$":"$var"},"End":true}"#,
    );
    assert!(problems(&ok).is_empty());
}

#[test]
fn query_language_may_be_raised_per_state_but_never_lowered() {
    let down = r#"{"QueryLanguage":"JSONata","StartAt":"Pass","States":{"Pass":{"Type":"Pass","QueryLanguage":"JSONPath","End":true}}}"#;
    assert_eq!(
        problems(down),
        ["SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine at /States/Pass"]
    );
    let up = r#"{"StartAt":"Pass","States":{"Pass":{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input %}","End":true}}}"#;
    assert!(problems(up).is_empty());
}

#[test]
fn each_language_refuses_the_other_languages_fields() {
    let jsonata = r#"{"QueryLanguage":"JSONata","StartAt":"S","States":{"S":{"Type":"Pass","InputPath":"$.a","End":true}}}"#;
    assert_eq!(
        problems(jsonata),
        ["SCHEMA_VALIDATION_FAILED: The field 'InputPath' is not supported when QueryLanguage is JSONata at /States/S"]
    );
    assert_eq!(
        problems(&one(r#"{"Type":"Pass","Output":{},"End":true}"#)),
        ["SCHEMA_VALIDATION_FAILED: The field 'Output' is not supported when QueryLanguage is JSONPath at /States/S"]
    );
}

#[test]
fn empty_parallel_branches_are_refused() {
    assert_eq!(
        problems(&one(r#"{"Type":"Parallel","Branches":[],"End":true}"#)),
        ["SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/S/Branches"]
    );
}

#[test]
fn map_labels_are_short_clean_and_unique() {
    let map = |label: &str| {
        one(&format!(
            r#"{{"Type":"Map","Label":{},"ItemProcessor":{{"StartAt":"I","States":{{"I":{{"Type":"Succeed"}}}}}},"End":true}}"#,
            serde_json::to_string(label).unwrap()
        ))
    };
    assert!(problems(&map("good-label_1")).is_empty());
    assert_eq!(
        problems(&map("")),
        ["INVALID_LABEL_NAME: Label cannot be empty at /States/S/Label"]
    );
    assert_eq!(
        problems(&map(&"x".repeat(41))),
        ["INVALID_LABEL_NAME: Label cannot exceed 40 characters at /States/S/Label"]
    );
    for c in [
        " ", "<", "{", "?", "*", "\"", "#", "%", "\\", "^", "|", "~", "$", "&", ",", ";", ":", "/",
        "`", "\u{7}", "\u{85}",
    ] {
        assert_eq!(
            problems(&map(&format!("a{c}b"))),
            [format!(
                "INVALID_LABEL_NAME: Label contains invalid character: '{c}' at /States/S/Label"
            )],
            "{c:?}"
        );
    }
}

#[test]
fn states_all_must_be_alone_and_last() {
    let task = |retry: &str| {
        one(&format!(
            r#"{{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Retry":{retry},"End":true}}"#
        ))
    };
    assert_eq!(
        problems(&task(r#"[{"ErrorEquals":["States.ALL","States.Timeout"]}]"#)),
        ["SCHEMA_VALIDATION_FAILED: The error 'States.ALL' must appear alone in ErrorEquals at /States/S/Retry[0]/ErrorEquals"]
    );
    assert_eq!(
        problems(&task(r#"[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["States.Timeout"]}]"#)),
        ["SCHEMA_VALIDATION_FAILED: The error 'States.ALL' may only appear in the last retrier or catcher at /States/S/Retry[0]/ErrorEquals"]
    );
    assert!(problems(&task(r#"[{"ErrorEquals":["States.Timeout"]},{"ErrorEquals":["States.ALL"],"MaxAttempts":0,"BackoffRate":1.5,"JitterStrategy":"FULL","MaxDelaySeconds":5}]"#)).is_empty());
}

#[test]
fn heartbeat_must_be_shorter_than_the_timeout() {
    assert_eq!(
        problems(&one(r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","TimeoutSeconds":10,"HeartbeatSeconds":10,"End":true}"#)),
        ["SCHEMA_VALIDATION_FAILED: The value of 'HeartbeatSeconds' must be less than the value of 'TimeoutSeconds' at /States/S/HeartbeatSeconds"]
    );
}

#[test]
fn map_numbers_are_range_checked() {
    let map = |extra: &str| {
        one(&format!(
            r#"{{"Type":"Map",{extra},"ItemProcessor":{{"StartAt":"I","States":{{"I":{{"Type":"Succeed"}}}}}},"End":true}}"#
        ))
    };
    assert!(problems(&map(
        r#""MaxConcurrency":0,"ToleratedFailurePercentage":100"#
    ))
    .is_empty());
    assert_eq!(problems(&map(r#""MaxConcurrency":-1"#)).len(), 1);
    assert_eq!(
        problems(&map(r#""ToleratedFailurePercentage":100.1"#)).len(),
        1
    );
    assert_eq!(problems(&map(r#""ToleratedFailureCount":-1"#)).len(), 1);
}

#[test]
fn choice_rules_check_operators_and_operand_types() {
    let choice = |rule: &str| {
        format!(
            r#"{{"StartAt":"C","States":{{"C":{{"Type":"Choice","Choices":[{rule}],"Default":"D"}},"D":{{"Type":"Succeed"}},"N":{{"Type":"Succeed"}}}}}}"#
        )
    };
    assert!(problems(&choice(
        r#"{"Variable":"$.x","NumericEquals":1,"Next":"N"}"#
    ))
    .is_empty());
    assert!(problems(&choice(r#"{"And":[{"Variable":"$.x","IsPresent":true},{"Not":{"Variable":"$.y","StringEqualsPath":"$.z"}}],"Next":"N"}"#)).is_empty());
    assert_eq!(
        problems(&choice(r#"{"Variable":"$.x","NumericEquals":"1","Next":"N"}"#)),
        ["SCHEMA_VALIDATION_FAILED: Expected value of type: Number at /States/C/Choices[0]/NumericEquals"]
    );
    assert_eq!(
        problems(&choice(r#"{"Variable":"$.x","TimestampEquals":"yesterday","Next":"N"}"#)),
        ["SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at /States/C/Choices[0]/TimestampEquals"]
    );
    assert_eq!(
        problems(&choice(r#"{"Variable":"$.x","Next":"N"}"#)).len(),
        1
    );
    assert_eq!(
        problems(&choice(r#"{"And":[{"Variable":"$.x","IsNull":true,"Next":"N"}],"Next":"N"}"#)),
        ["SCHEMA_VALIDATION_FAILED: Field 'Next' is not supported at /States/C/Choices[0]/And[0]"]
    );
}

#[test]
fn unsupported_field_and_unknown_type_are_schema_failures() {
    assert_eq!(
        problems(&one(r#"{"Type":"Pass","Resource":"x","End":true}"#)),
        ["SCHEMA_VALIDATION_FAILED: Field 'Resource' is not supported at /States/S"]
    );
    assert_eq!(
        problems(&one(r#"{"Type":"Bogus"}"#)),
        ["SCHEMA_VALIDATION_FAILED: The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map] at /States/S/Type"]
    );
}

#[test]
fn adversarial_definitions_are_answered_without_overflowing() {
    // 10,000 states in a chain.
    let mut states = String::new();
    for i in 0..10_000 {
        states.push_str(&format!(r#""S{i}":{{"Type":"Pass","Next":"S{}"}},"#, i + 1));
    }
    states.push_str(r#""S10000":{"Type":"Succeed"}"#);
    let def = format!(r#"{{"StartAt":"S0","States":{{{states}}}}}"#);
    assert!(problems(&def).is_empty());
    // Parallel nested deeper than the JSON parser follows.
    let mut nested = r#"{"Type":"Succeed"}"#.to_owned();
    for i in 0..100 {
        nested = format!(
            r#"{{"Type":"Parallel","End":true,"Branches":[{{"StartAt":"P{i}","States":{{"P{i}":{nested}}}}}]}}"#
        );
    }
    assert!(!problems(&one(&nested)).is_empty());
}

#[test]
fn corpus_valid_definitions_pass_and_invalid_ones_fail() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asl");
    let mut seen = 0;
    for (kind, expect_valid) in [("valid", true), ("invalid", false)] {
        for entry in std::fs::read_dir(root.join(kind)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let flavor = if path.to_string_lossy().contains("express-") {
                Flavor {
                    kind: MachineType::Express,
                }
            } else {
                Flavor::default()
            };
            let problems = parse(&text, flavor).err().unwrap_or_default();
            assert_eq!(
                problems.is_empty(),
                expect_valid,
                "{}: {problems:?}",
                path.display()
            );
            seen += 1;
        }
    }
    assert!(seen >= 40, "corpus too small: {seen}");
}

#[test]
fn a_plain_field_holding_a_path_is_a_warning_not_an_error() {
    let def = one(
        r#"{"Type":"Pass","Parameters":{"x":"$.a","y":"States.UUID()","z":"plain"},"End":true}"#,
    );
    assert!(parse(&def, Flavor::default()).is_ok());
    let all = check(&def, Flavor::default());
    let codes: Vec<(&str, Severity)> = all.iter().map(|d| (d.code, d.severity)).collect();
    assert_eq!(
        codes,
        [
            (codes::NO_DOLLAR, Severity::Warning),
            (codes::NO_DOLLAR, Severity::Warning)
        ]
    );
    assert_eq!(all[0].location.as_deref(), Some("/States/S/Parameters"));
}

#[test]
fn item_batcher_limits_are_checked() {
    let map = |batcher: &str| {
        one(&format!(
            r#"{{"Type":"Map","ItemBatcher":{batcher},"ItemProcessor":{{"ProcessorConfig":{{"Mode":"DISTRIBUTED"}},"StartAt":"I","States":{{"I":{{"Type":"Succeed"}}}}}},"End":true}}"#
        ))
    };
    assert!(problems(&map(
        r#"{"MaxItemsPerBatch":10,"MaxInputBytesPerBatch":262144,"BatchInput":{"a":1}}"#
    ))
    .is_empty());
    assert_eq!(
        problems(&map(r#"{"MaxInputBytesPerBatch":262145}"#)),
        ["SCHEMA_VALIDATION_FAILED: Expected value of type: Integer between 0 and 262144 at /States/S/ItemBatcher/MaxInputBytesPerBatch"]
    );
    assert_eq!(
        problems(&map(r#"{"Bogus":1}"#)),
        ["SCHEMA_VALIDATION_FAILED: Field 'Bogus' is not supported at /States/S/ItemBatcher"]
    );
}

#[test]
fn a_retrier_without_error_equals_is_reported() {
    // Found by the definition fuzz: the retrier was refused without a word.
    let def = one(
        r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Retry":[{}],"End":true}"#,
    );
    assert_eq!(
        problems(&def),
        ["SCHEMA_VALIDATION_FAILED: These fields are required: [ErrorEquals] at /States/S/Retry[0]"]
    );
}
