//! The Amazon States Language checker behind InvalidDefinition and
//! ValidateStateMachineDefinition. It reports problems the way AWS does (aws-behavior.md
//! §13.3 item 14): a code (`SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET`,
//! `MISSING_END_STATE`, `INVALID_JSON_DESCRIPTION`), a text and a JSON-pointer-like location
//! in AWS's spelling (`/States/C/Choices[0]/Next`). Each scope — the top level, every
//! `Parallel` branch and every `Map` processor — is checked on its own, because transitions
//! never cross scopes.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub message: String,
    /// Absent for whole-workflow problems such as a missing terminal state (AWS sends no location).
    pub location: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{}: {} at {}", self.code, self.message, loc),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

const STATE_TYPES: &str = "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]";
const TOP_LEVEL_FIELDS: &[&str] = &[
    "Comment",
    "StartAt",
    "States",
    "TimeoutSeconds",
    "Version",
    "QueryLanguage",
];
const COMMON: &[&str] = &[
    "Type",
    "Comment",
    "QueryLanguage",
    "InputPath",
    "OutputPath",
    "Output",
    "Assign",
];

/// The fields each state type accepts beyond [`COMMON`]; AWS refuses any other field with
/// `Field '<name>' is not supported`.
fn fields_of(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pass" => &["Next", "End", "Parameters", "ResultPath", "Result"],
        "Task" => &[
            "Next",
            "End",
            "Resource",
            "Parameters",
            "Arguments",
            "ResultPath",
            "ResultSelector",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Credentials",
        ],
        "Choice" => &["Choices", "Default"],
        "Wait" => &[
            "Next",
            "End",
            "Seconds",
            "Timestamp",
            "SecondsPath",
            "TimestampPath",
        ],
        "Succeed" => &[],
        "Fail" => &["Error", "Cause", "ErrorPath", "CausePath"],
        "Parallel" => &[
            "Next",
            "End",
            "Branches",
            "Parameters",
            "Arguments",
            "ResultPath",
            "ResultSelector",
            "Retry",
            "Catch",
        ],
        "Map" => &[
            "Next",
            "End",
            "ItemProcessor",
            "Iterator",
            "ItemsPath",
            "Items",
            "ItemSelector",
            "Parameters",
            "ResultPath",
            "ResultSelector",
            "Retry",
            "Catch",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ItemReader",
            "ItemBatcher",
            "ResultWriter",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "Label",
        ],
        _ => return None,
    })
}

/// Checks a definition and returns every problem found, in document order per scope.
/// An empty list means the definition is valid.
pub fn check(definition: &str) -> Vec<Diagnostic> {
    let root = match parse_strict(definition) {
        Ok(v) => v,
        Err(e) => {
            return vec![Diagnostic {
                code: "INVALID_JSON_DESCRIPTION",
                message: e.to_string(),
                location: Some("/".into()),
            }]
        }
    };
    let mut out = Vec::new();
    let Value::Object(obj) = &root else {
        out.push(schema("Expected value of type: Object", ""));
        return out;
    };
    for key in obj.keys() {
        if !TOP_LEVEL_FIELDS.contains(&key.as_str()) {
            out.push(schema(&format!("Field '{key}' is not supported"), ""));
        }
    }
    if let Some(ql) = obj.get("QueryLanguage") {
        if !matches!(ql.as_str(), Some("JSONPath" | "JSONata")) {
            out.push(schema(
                "The field 'QueryLanguage' should have one of these values: [JSONPath, JSONata]",
                "/QueryLanguage",
            ));
        }
    }
    if let Some(t) = obj.get("TimeoutSeconds") {
        if t.as_u64().is_none_or(|n| n > 99_999_999) {
            out.push(schema(
                "Expected value of type: Integer between 0 and 99999999",
                "/TimeoutSeconds",
            ));
        }
    }
    check_scope(obj, "", &mut out);
    out
}

fn schema(message: &str, location: &str) -> Diagnostic {
    Diagnostic {
        code: "SCHEMA_VALIDATION_FAILED",
        message: message.to_owned(),
        location: Some(if location.is_empty() {
            "/".into()
        } else {
            location.to_owned()
        }),
    }
}

fn missing_target(target: &str, location: String) -> Diagnostic {
    // AWS says 'Next' for every transition field (StartAt, Default, Choices, Catch).
    Diagnostic {
        code: "MISSING_TRANSITION_TARGET",
        message: format!("Missing 'Next' target: {target}"),
        location: Some(location),
    }
}

/// Checks one `{StartAt, States}` scope at pointer `base` ("" for the top level).
fn check_scope(scope: &Map<String, Value>, base: &str, out: &mut Vec<Diagnostic>) {
    let mut required = Vec::new();
    if !scope.contains_key("StartAt") {
        required.push("StartAt");
    }
    if !scope.contains_key("States") {
        required.push("States");
    }
    if !required.is_empty() {
        out.push(schema(
            &format!("These fields are required: [{}]", required.join(", ")),
            base,
        ));
    }
    let start_at = match scope.get("StartAt") {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            out.push(schema(
                "Expected value of type: String",
                &format!("{base}/StartAt"),
            ));
            None
        }
        None => None,
    };
    let states = match scope.get("States") {
        Some(Value::Object(m)) => m,
        Some(_) => {
            out.push(schema(
                "Expected value of type: Object",
                &format!("{base}/States"),
            ));
            return;
        }
        None => return,
    };
    if states.is_empty() {
        out.push(schema(
            "At least one state is required",
            &format!("{base}/States"),
        ));
        return;
    }

    // Per-state schema, then the transition graph of this scope.
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut has_terminal = false;
    let mut dangling = Vec::new();
    if let Some(s) = start_at {
        if !states.contains_key(s) {
            dangling.push(missing_target(s, format!("{base}/StartAt")));
        }
    }
    for (name, state) in states {
        let at = format!("{base}/States/{name}");
        if name.is_empty() || name.chars().count() > 80 {
            out.push(schema(
                "State name must be between 1 and 80 characters",
                &at,
            ));
        }
        let Value::Object(state) = state else {
            out.push(schema("Expected value of type: Object", &at));
            continue;
        };
        let targets = check_state(state, &at, out, &mut has_terminal);
        for (target, loc) in &targets {
            if !states.contains_key(*target) {
                dangling.push(missing_target(target, loc.clone()));
            }
        }
        edges.insert(name.as_str(), targets.into_iter().map(|(t, _)| t).collect());
    }
    out.extend(dangling);

    if !has_terminal {
        // AWS reports this once, without a location, and skips the reachability walk.
        out.push(Diagnostic {
            code: "MISSING_END_STATE",
            message: "Workflow has no terminal state".into(),
            location: None,
        });
        return;
    }
    let Some(start) = start_at.filter(|s| states.contains_key(*s)) else {
        return;
    };
    let mut seen: HashSet<&str> = HashSet::from([start]);
    let mut stack = vec![start];
    while let Some(s) = stack.pop() {
        for &t in edges.get(s).into_iter().flatten() {
            if states.contains_key(t) && seen.insert(t) {
                stack.push(t);
            }
        }
    }
    for name in states.keys() {
        if !seen.contains(name.as_str()) {
            out.push(Diagnostic {
                code: "MISSING_TRANSITION_TARGET",
                message: format!("State \"{name}\" is not reachable."),
                location: Some(format!("{base}/States/{name}")),
            });
        }
    }
}

/// Checks one state's fields; returns its transition targets with their locations.
/// Where a state sends control: the target name and the location that names it.
type Targets<'a> = Vec<(&'a str, String)>;

fn check_state<'a>(
    state: &'a Map<String, Value>,
    at: &str,
    out: &mut Vec<Diagnostic>,
    has_terminal: &mut bool,
) -> Targets<'a> {
    let mut targets = Vec::new();
    let kind = match state.get("Type") {
        None => {
            out.push(schema("These fields are required: [Type]", at));
            return targets;
        }
        Some(t) => t.as_str().unwrap_or(""),
    };
    let Some(fields) = fields_of(kind) else {
        out.push(schema(
            &format!("The field 'Type' should have one of these values: {STATE_TYPES}"),
            &format!("{at}/Type"),
        ));
        return targets;
    };
    for key in state.keys() {
        if !COMMON.contains(&key.as_str()) && !fields.contains(&key.as_str()) {
            out.push(schema(&format!("Field '{key}' is not supported"), at));
        }
    }
    // Pass, Task, Wait, Parallel and Map continue with exactly one of Next or End.
    if fields.contains(&"Next") {
        check_transition(state, at, out, has_terminal, &mut targets);
    }
    match kind {
        "Succeed" | "Fail" => *has_terminal = true,
        "Task" => require(state, &["Resource"], at, out),
        "Wait" => check_wait(state, at, out),
        "Choice" => check_choices(state, at, out, &mut targets),
        "Parallel" => check_branches(state, at, out),
        "Map" => check_processor(state, at, out),
        _ => {}
    }
    if state.contains_key("Default") {
        match state.get("Default") {
            Some(Value::String(d)) => targets.push((d.as_str(), format!("{at}/Default"))),
            _ => out.push(schema(
                "Expected value of type: String",
                &format!("{at}/Default"),
            )),
        }
    }
    if let Some(catch) = state.get("Catch") {
        check_catchers(catch, at, out, &mut targets);
    }
    targets
}

/// `These fields are required: [..]` for the `names` the state lacks.
fn require(state: &Map<String, Value>, names: &[&str], at: &str, out: &mut Vec<Diagnostic>) {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !state.contains_key(*n))
        .collect();
    if !missing.is_empty() {
        out.push(schema(
            &format!("These fields are required: [{}]", missing.join(", ")),
            at,
        ));
    }
}

/// Exactly one of `Next` (a state name) or `End: true`.
fn check_transition<'a>(
    state: &'a Map<String, Value>,
    at: &str,
    out: &mut Vec<Diagnostic>,
    has_terminal: &mut bool,
    targets: &mut Targets<'a>,
) {
    match (state.get("Next"), state.get("End")) {
        (Some(_), Some(_)) => out.push(schema(
            "There should only be one of the following fields: [Next, End]",
            at,
        )),
        (None, None) => out.push(schema(
            "There should be exactly one of the following fields: [Next, End]",
            at,
        )),
        (None, Some(Value::Bool(true))) => *has_terminal = true,
        (None, Some(_)) => out.push(schema(
            "Expected value of type: Boolean true",
            &format!("{at}/End"),
        )),
        (Some(Value::String(n)), None) => targets.push((n.as_str(), format!("{at}/Next"))),
        (Some(_), None) => out.push(schema(
            "Expected value of type: String",
            &format!("{at}/Next"),
        )),
    }
}

/// Exactly one of the four ways to wait.
fn check_wait(state: &Map<String, Value>, at: &str, out: &mut Vec<Diagnostic>) {
    let n = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"]
        .iter()
        .filter(|f| state.contains_key(**f))
        .count();
    if n != 1 {
        out.push(schema(
            "There should be exactly one of the following fields: [Seconds, Timestamp, SecondsPath, TimestampPath]",
            at,
        ));
    }
}

/// A non-empty `Choices` array whose rules each name a `Next` state.
fn check_choices<'a>(
    state: &'a Map<String, Value>,
    at: &str,
    out: &mut Vec<Diagnostic>,
    targets: &mut Targets<'a>,
) {
    match state.get("Choices") {
        Some(Value::Array(rules)) if !rules.is_empty() => {
            for (i, rule) in rules.iter().enumerate() {
                let rule_at = format!("{at}/Choices[{i}]");
                match rule.get("Next") {
                    Some(Value::String(n)) => targets.push((n.as_str(), format!("{rule_at}/Next"))),
                    Some(_) => out.push(schema(
                        "Expected value of type: String",
                        &format!("{rule_at}/Next"),
                    )),
                    None => out.push(schema("These fields are required: [Next]", &rule_at)),
                }
            }
        }
        Some(_) => out.push(schema(
            "Expected value of type: non-empty Array",
            &format!("{at}/Choices"),
        )),
        None => require(state, &["Choices"], at, out),
    }
}

/// A non-empty `Branches` array of nested state machines.
fn check_branches(state: &Map<String, Value>, at: &str, out: &mut Vec<Diagnostic>) {
    match state.get("Branches") {
        Some(Value::Array(branches)) if !branches.is_empty() => {
            for (i, b) in branches.iter().enumerate() {
                let b_at = format!("{at}/Branches[{i}]");
                match b {
                    Value::Object(b) => check_nested(b, &b_at, out),
                    _ => out.push(schema("Expected value of type: Object", &b_at)),
                }
            }
        }
        Some(_) => out.push(schema(
            "Expected value of type: non-empty Array",
            &format!("{at}/Branches"),
        )),
        None => require(state, &["Branches"], at, out),
    }
}

/// A Map's `ItemProcessor` (or the older `Iterator`): a nested state machine.
fn check_processor(state: &Map<String, Value>, at: &str, out: &mut Vec<Diagnostic>) {
    let processor = state
        .get("ItemProcessor")
        .map(|p| ("ItemProcessor", p))
        .or_else(|| state.get("Iterator").map(|p| ("Iterator", p)));
    match processor {
        Some((field, Value::Object(p))) => check_nested(p, &format!("{at}/{field}"), out),
        Some((field, _)) => out.push(schema(
            "Expected value of type: Object",
            &format!("{at}/{field}"),
        )),
        None => require(state, &["ItemProcessor"], at, out),
    }
}

/// A `Catch` array whose catchers each have `ErrorEquals` and a `Next` state.
fn check_catchers<'a>(
    catch: &'a Value,
    at: &str,
    out: &mut Vec<Diagnostic>,
    targets: &mut Targets<'a>,
) {
    let Value::Array(catchers) = catch else {
        out.push(schema(
            "Expected value of type: Array",
            &format!("{at}/Catch"),
        ));
        return;
    };
    for (i, c) in catchers.iter().enumerate() {
        let c_at = format!("{at}/Catch[{i}]");
        let missing: Vec<&str> = ["ErrorEquals", "Next"]
            .into_iter()
            .filter(|f| c.get(*f).is_none())
            .collect();
        if !missing.is_empty() {
            out.push(schema(
                &format!("These fields are required: [{}]", missing.join(", ")),
                &c_at,
            ));
        }
        if let Some(Value::String(n)) = c.get("Next") {
            targets.push((n.as_str(), format!("{c_at}/Next")));
        }
    }
}

fn check_nested(scope: &Map<String, Value>, at: &str, out: &mut Vec<Diagnostic>) {
    for key in scope.keys() {
        if !matches!(
            key.as_str(),
            "StartAt" | "States" | "Comment" | "ProcessorConfig"
        ) {
            out.push(schema(&format!("Field '{key}' is not supported"), at));
        }
    }
    check_scope(scope, at, out);
}

/// Parses JSON like `serde_json` but refuses duplicate object keys, which AWS's parser
/// rejects and `serde_json::Value` would silently merge (last one wins) — a duplicate state
/// name must not hide a state.
fn parse_strict(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = StrictValue.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictValue)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut obj = Map::new();
        let mut keys = BTreeSet::new();
        while let Some(k) = map.next_key::<String>()? {
            if !keys.insert(k.clone()) {
                return Err(de::Error::custom(format!("Duplicate field '{k}'")));
            }
            let v = map.next_value_seed(StrictValue)?;
            obj.insert(k, v);
        }
        Ok(Value::Object(obj))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(def: &str) -> Vec<String> {
        check(def).iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn minimal_pass_machine_is_valid() {
        assert!(check(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#).is_empty());
    }

    #[test]
    fn dangling_next_and_unreachable_state_are_reported_like_aws() {
        let def = r#"{"StartAt":"pass1","States":{"pass1":{"Type":"Pass","Next":"pass3"},"pass2":{"Type":"Pass","End":true}}}"#;
        assert_eq!(
            codes(def),
            vec![
                "MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next",
                "MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2",
            ]
        );
    }

    #[test]
    fn loop_without_terminal_state_reports_only_missing_end_state() {
        let def = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"},"C":{"Type":"Pass","Next":"A"}}}"#;
        assert_eq!(
            codes(def),
            vec!["MISSING_END_STATE: Workflow has no terminal state"]
        );
    }

    #[test]
    fn choice_default_and_catch_targets_use_next_wording() {
        let def = r#"{"StartAt":"C","States":{
            "C":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"X"}],"Default":"Y"},
            "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Z"}]}}}"#;
        let got = codes(def);
        assert!(got.contains(
            &"MISSING_TRANSITION_TARGET: Missing 'Next' target: X at /States/C/Choices[0]/Next"
                .to_string()
        ));
        assert!(got.contains(
            &"MISSING_TRANSITION_TARGET: Missing 'Next' target: Y at /States/C/Default".to_string()
        ));
        assert!(got.contains(
            &"MISSING_TRANSITION_TARGET: Missing 'Next' target: Z at /States/T/Catch[0]/Next"
                .to_string()
        ));
    }

    #[test]
    fn nested_scopes_are_checked_on_their_own() {
        let def = r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
            {"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Outer"}}}]},"Outer":{"Type":"Succeed"}}}"#;
        let got = codes(def);
        assert!(got.contains(&"MISSING_TRANSITION_TARGET: Missing 'Next' target: Outer at /States/P/Branches[0]/States/A/Next".to_string()), "{got:?}");
    }

    #[test]
    fn duplicate_state_names_are_refused() {
        let def =
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"A":{"Type":"Succeed"}}}"#;
        assert_eq!(check(def)[0].code, "INVALID_JSON_DESCRIPTION");
    }

    #[test]
    fn unknown_type_and_missing_fields_are_schema_failures() {
        let got = codes(r#"{"StartAt":"A","States":{"A":{"Type":"Nope","End":true}}}"#);
        assert_eq!(got[0], format!("SCHEMA_VALIDATION_FAILED: The field 'Type' should have one of these values: {STATE_TYPES} at /States/A/Type"));
        let got = codes(r#"{"StartAt":"A","States":{"A":{"Type":"Task","End":true}}}"#);
        assert_eq!(
            got,
            vec!["SCHEMA_VALIDATION_FAILED: These fields are required: [Resource] at /States/A"]
        );
        let got = codes(r#"{"States":{"A":{"Type":"Succeed"}}}"#);
        assert_eq!(
            got,
            vec!["SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /"]
        );
    }

    #[test]
    fn unsupported_field_on_a_state_is_refused() {
        let got = codes(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"TimeoutSeconds":3}}}"#,
        );
        assert_eq!(
            got,
            vec!["SCHEMA_VALIDATION_FAILED: Field 'TimeoutSeconds' is not supported at /States/A"]
        );
    }

    /// The corpus in `tests/asl/` is also run through the asl-validator package
    /// (`tests/asl/crosscheck.js`), so both checkers agree on it.
    #[test]
    fn corpus_valid_definitions_pass_and_invalid_ones_fail() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asl");
        let mut seen = 0;
        for (kind, expect_valid) in [("valid", true), ("invalid", false)] {
            for entry in std::fs::read_dir(root.join(kind)).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                let problems = check(&text);
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
    fn not_json_is_an_invalid_json_description() {
        assert_eq!(check("{nope")[0].code, "INVALID_JSON_DESCRIPTION");
    }
}
