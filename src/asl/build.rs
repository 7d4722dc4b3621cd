//! Builds the typed model from a definition's JSON, reporting every problem in AWS's words
//! (see `super::diagnostic`). Each scope — the top level, every Parallel branch and every
//! Map processor — is checked on its own, because transitions never cross scopes; state
//! names and Map labels are unique across the whole definition.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::diagnostic::{codes, Diagnostic};
use super::model::*;
use super::{intrinsic, path, resource, Flavor};
use crate::domain::records::MachineType;

const STATE_TYPES: &str = "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]";
const TOP_LEVEL_FIELDS: &[&str] = &[
    "Comment",
    "StartAt",
    "States",
    "TimeoutSeconds",
    "Version",
    "QueryLanguage",
];
/// Fields every state type accepts (subject to the query-language rules below).
const COMMON: &[&str] = &[
    "Type",
    "Comment",
    "QueryLanguage",
    "InputPath",
    "OutputPath",
    "Output",
    "Assign",
];
/// Fields JSONata states may not use.
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "ItemsPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
    "ErrorPath",
    "CausePath",
];
/// Fields JSONPath states may not use.
const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items"];
/// AWS's bound on TimeoutSeconds and friends.
const MAX_SECONDS: u64 = 99_999_999;
/// Map labels: at most this many characters.
const MAX_LABEL: usize = 40;

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

/// Checks a parsed definition; the model when nothing is wrong.
/// Errors go to `out`, warnings (which never make a definition invalid) to `warnings`.
pub(super) fn build(
    root: &Value,
    flavor: Flavor,
    out: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Definition> {
    let Value::Object(obj) = root else {
        out.push(Diagnostic::error(
            codes::SCHEMA,
            "Definition must be a valid JSON object",
            None,
        ));
        return None;
    };
    let mut b = Builder {
        out,
        warnings,
        flavor,
        names: HashSet::new(),
        labels: HashSet::new(),
    };
    for key in obj.keys() {
        if !TOP_LEVEL_FIELDS.contains(&key.as_str()) {
            b.schema(&format!("Field '{key}' is not supported"), "");
        }
    }
    let query_language = match obj.get("QueryLanguage") {
        None => QueryLanguage::JsonPath,
        Some(v) => b
            .query_language(v, "/QueryLanguage")
            .unwrap_or(QueryLanguage::JsonPath),
    };
    let timeout_seconds = match obj.get("TimeoutSeconds") {
        None => None,
        Some(t) => match t.as_u64().filter(|n| *n <= MAX_SECONDS) {
            Some(n) => Some(n),
            None => {
                b.schema(
                    "Expected value of type: Integer between 0 and 99999999",
                    "/TimeoutSeconds",
                );
                None
            }
        },
    };
    let comment = b.optional_string(obj, "Comment", "");
    let version = b.optional_string(obj, "Version", "");
    let machine = b.scope(obj, "", query_language);
    let clean = b.out.is_empty();
    let machine = machine?;
    clean.then_some(Definition {
        comment,
        version,
        timeout_seconds,
        query_language,
        machine,
    })
}

struct Builder<'o> {
    out: &'o mut Vec<Diagnostic>,
    warnings: &'o mut Vec<Diagnostic>,
    flavor: Flavor,
    /// Every state name seen so far, in any scope.
    names: HashSet<String>,
    /// Every Map label seen so far.
    labels: HashSet<String>,
}

impl Builder<'_> {
    fn schema(&mut self, message: &str, location: &str) {
        self.out.push(Diagnostic::schema(message, location));
    }

    fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    fn optional_string(
        &mut self,
        obj: &Map<String, Value>,
        field: &str,
        at: &str,
    ) -> Option<String> {
        match obj.get(field)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.schema("Expected value of type: String", &format!("{at}/{field}"));
                None
            }
        }
    }

    fn query_language(&mut self, v: &Value, at: &str) -> Option<QueryLanguage> {
        match v.as_str() {
            Some("JSONPath") => Some(QueryLanguage::JsonPath),
            Some("JSONata") => Some(QueryLanguage::Jsonata),
            _ => {
                self.schema(
                    "The field 'QueryLanguage' should have one of these values: [JSONPath, JSONata]",
                    at,
                );
                None
            }
        }
    }

    /// One `{StartAt, States}` scope at pointer `base` ("" for the top level).
    fn scope(
        &mut self,
        scope: &Map<String, Value>,
        base: &str,
        language: QueryLanguage,
    ) -> Option<Scope> {
        // AWS names the missing fields in this order.
        let missing: Vec<&str> = ["States", "StartAt"]
            .into_iter()
            .filter(|f| !scope.contains_key(*f))
            .collect();
        if !missing.is_empty() {
            self.schema(
                &format!("These fields are required: [{}]", missing.join(", ")),
                base,
            );
        }
        let start_at = match scope.get("StartAt") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.schema("Expected value of type: String", &format!("{base}/StartAt"));
                None
            }
            None => None,
        };
        let states = match scope.get("States") {
            Some(Value::Object(m)) => m,
            Some(_) => {
                self.schema("Expected value of type: Object", &format!("{base}/States"));
                return None;
            }
            None => return None,
        };
        if states.is_empty() {
            self.schema("At least one state is required", &format!("{base}/States"));
            return None;
        }
        let mut built = Vec::new();
        let mut edges: HashMap<&str, Vec<(String, String)>> = HashMap::new();
        let mut has_terminal = false;
        // A state whose type is unknown has unknown transitions: no graph verdicts then.
        let mut graph_known = true;
        let mut complete = true;
        for (name, state) in states {
            let at = format!("{base}/States/{name}");
            self.state_name(name, &at);
            let Value::Object(state) = state else {
                self.schema("Expected value of type: Object", &at);
                complete = false;
                continue;
            };
            let typed = state
                .get("Type")
                .and_then(Value::as_str)
                .is_some_and(|t| fields_of(t).is_some());
            graph_known &= typed;
            let (built_state, targets, terminal) = self.state(name, state, &at, language);
            has_terminal |= terminal;
            edges.insert(name.as_str(), targets);
            match built_state {
                Some(s) => built.push(s),
                None => complete = false,
            }
        }
        // Transitions of this scope, in document order, after the states' own problems.
        if let Some(s) = &start_at {
            if !states.contains_key(s) {
                self.push(missing_target(s, format!("{base}/StartAt")));
            }
        }
        for name in states.keys() {
            for (target, loc) in edges.get(name.as_str()).into_iter().flatten() {
                if !states.contains_key(target) {
                    self.push(missing_target(target, loc.clone()));
                }
            }
        }
        if !graph_known {
            return None;
        }
        if !has_terminal {
            // AWS reports this once, without a location, and skips the reachability walk.
            self.push(Diagnostic::error(
                codes::MISSING_END_STATE,
                "Workflow has no terminal state",
                None,
            ));
            return None;
        }
        if let Some(start) = start_at.as_deref().filter(|s| states.contains_key(*s)) {
            let mut seen: HashSet<&str> = HashSet::from([start]);
            let mut stack = vec![start];
            while let Some(s) = stack.pop() {
                for (t, _) in edges.get(s).into_iter().flatten() {
                    if let Some((key, _)) = states.get_key_value(t.as_str()) {
                        if seen.insert(key.as_str()) {
                            stack.push(key.as_str());
                        }
                    }
                }
            }
            for name in states.keys() {
                if !seen.contains(name.as_str()) {
                    self.push(Diagnostic::error(
                        codes::MISSING_TRANSITION_TARGET,
                        &format!("State \"{name}\" is not reachable."),
                        Some(format!("{base}/States/{name}")),
                    ));
                }
            }
        }
        let start_at = start_at?;
        complete.then_some(Scope {
            start_at,
            states: built,
            processor: None,
        })
    }

    fn state_name(&mut self, name: &str, at: &str) {
        if name.is_empty() || name.chars().count() > 80 {
            self.schema("State name must be between 1 and 80 characters", at);
        }
        if !self.names.insert(name.to_owned()) {
            self.push(Diagnostic::error(
                codes::DUPLICATE_STATE_NAME,
                &format!("Duplicate State name: {name}"),
                Some(at.to_owned()),
            ));
        }
    }

    /// One state: the model (when it is valid), its transition targets with their
    /// locations, and whether it ends its scope.
    fn state(
        &mut self,
        name: &str,
        state: &Map<String, Value>,
        at: &str,
        machine_language: QueryLanguage,
    ) -> (Option<State>, Vec<(String, String)>, bool) {
        let mut targets = Vec::new();
        let before = self.out.len();
        let kind = match state.get("Type") {
            None => {
                self.schema("These fields are required: [Type]", at);
                return (None, targets, false);
            }
            Some(t) => t.as_str().unwrap_or(""),
        };
        let Some(fields) = fields_of(kind) else {
            self.schema(
                &format!("The field 'Type' should have one of these values: {STATE_TYPES}"),
                &format!("{at}/Type"),
            );
            return (None, targets, false);
        };
        let language = match state.get("QueryLanguage") {
            None => machine_language,
            Some(v) => match self.query_language(v, &format!("{at}/QueryLanguage")) {
                Some(QueryLanguage::JsonPath) if machine_language == QueryLanguage::Jsonata => {
                    self.schema(
                        "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
                        at,
                    );
                    machine_language
                }
                Some(l) => l,
                None => machine_language,
            },
        };
        for key in state.keys() {
            let key = key.as_str();
            if !COMMON.contains(&key) && !fields.contains(&key) {
                self.schema(&format!("Field '{key}' is not supported"), at);
            } else if language == QueryLanguage::Jsonata && JSONPATH_ONLY.contains(&key) {
                self.schema(
                    &format!("The field '{key}' is not supported when QueryLanguage is JSONata"),
                    at,
                );
            } else if language == QueryLanguage::JsonPath && JSONATA_ONLY.contains(&key) {
                self.schema(
                    &format!("The field '{key}' is not supported when QueryLanguage is JSONPath"),
                    at,
                );
            }
        }
        let mut terminal = false;
        let transition = if fields.contains(&"Next") {
            self.transition(state, at, &mut targets, &mut terminal)
        } else {
            if matches!(kind, "Succeed" | "Fail") {
                terminal = true;
            }
            None
        };
        let f = Fields {
            state,
            at,
            language,
        };
        let body = match kind {
            "Pass" => self.pass(&f, transition),
            "Task" => self.task(&f, transition, &mut targets),
            "Choice" => self.choice(&f, &mut targets),
            "Wait" => self.wait(&f, transition),
            "Succeed" => Some(StateKind::Succeed),
            "Fail" => self.fail(&f),
            "Parallel" => self.parallel(&f, transition, &mut targets),
            "Map" => self.map(&f, transition, &mut targets),
            _ => None,
        };
        let input_path = self.optional_path_or_null(&f, "InputPath");
        let output_path = self.optional_path_or_null(&f, "OutputPath");
        let comment = self.optional_string(state, "Comment", at);
        let built = body.filter(|_| self.out.len() == before).map(|kind| State {
            name: name.to_owned(),
            comment,
            query_language: language,
            input_path,
            output_path,
            output: state.get("Output").cloned(),
            assign: self.assign(language, state, at),
            kind,
        });
        (built, targets, terminal)
    }

    /// Exactly one of `Next` (a state name) or `End: true`.
    fn transition(
        &mut self,
        state: &Map<String, Value>,
        at: &str,
        targets: &mut Vec<(String, String)>,
        terminal: &mut bool,
    ) -> Option<Transition> {
        match (state.get("Next"), state.get("End")) {
            (Some(_), Some(_)) => {
                self.schema(
                    "There should only be one of the following fields: [Next, End]",
                    at,
                );
                None
            }
            (None, None) => {
                self.schema(
                    "There should be exactly one of the following fields: [Next, End]",
                    at,
                );
                None
            }
            (None, Some(Value::Bool(true))) => {
                *terminal = true;
                Some(Transition::End)
            }
            (None, Some(_)) => {
                self.schema("Expected value of type: Boolean true", &format!("{at}/End"));
                None
            }
            (Some(Value::String(n)), None) => {
                targets.push((n.clone(), format!("{at}/Next")));
                Some(Transition::Next(n.clone()))
            }
            (Some(_), None) => {
                self.schema("Expected value of type: String", &format!("{at}/Next"));
                None
            }
        }
    }

    fn require(&mut self, f: &Fields<'_>, names: &[&str]) -> bool {
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !f.state.contains_key(*n))
            .collect();
        if missing.is_empty() {
            return true;
        }
        self.schema(
            &format!("These fields are required: [{}]", missing.join(", ")),
            f.at,
        );
        false
    }

    fn pass(&mut self, f: &Fields<'_>, transition: Option<Transition>) -> Option<StateKind> {
        let parameters = self.template_field(f, "Parameters");
        let result_path = self.result_path(f);
        Some(StateKind::Pass {
            transition: transition?,
            parameters,
            result: f.state.get("Result").cloned(),
            result_path,
        })
    }

    fn task(
        &mut self,
        f: &Fields<'_>,
        transition: Option<Transition>,
        targets: &mut Vec<(String, String)>,
    ) -> Option<StateKind> {
        let resource = if self.require(f, &["Resource"]) {
            self.resource(f)
        } else {
            None
        };
        let parameters = self.template_field(f, "Parameters");
        let result_selector = self.template_field(f, "ResultSelector");
        let result_path = self.result_path(f);
        let timeout_seconds = self.seconds(f, "TimeoutSeconds", 1);
        let heartbeat_seconds = self.seconds(f, "HeartbeatSeconds", 1);
        if let (Some(Number::Literal(t)), Some(Number::Literal(h))) =
            (&timeout_seconds, &heartbeat_seconds)
        {
            if h.as_u64() >= t.as_u64() {
                self.schema(
                    "The value of 'HeartbeatSeconds' must be less than the value of 'TimeoutSeconds'",
                    &format!("{}/HeartbeatSeconds", f.at),
                );
            }
        }
        let credentials = self.credentials(f);
        let retry = self.retriers(f);
        let catch = self.catchers(f, targets);
        Some(StateKind::Task(Box::new(Task {
            transition: transition?,
            resource: resource?,
            parameters,
            arguments: f.state.get("Arguments").cloned(),
            result_selector,
            result_path,
            retry: retry?,
            catch: catch?,
            timeout_seconds,
            heartbeat_seconds,
            credentials,
        })))
    }

    fn resource(&mut self, f: &Fields<'_>) -> Option<resource::Resource> {
        let at = format!("{}/Resource", f.at);
        let Some(Value::String(arn)) = f.state.get("Resource") else {
            self.schema("Expected value of type: String", &at);
            return None;
        };
        let Some(r) = resource::parse(arn) else {
            self.schema(&resource::not_recognized(arn), &at);
            return None;
        };
        if self.flavor.kind == MachineType::Express {
            let refused = match (&r, r.pattern()) {
                (resource::Resource::Activity(_), _) => {
                    Some("Express state machine does not support Activity ARN")
                }
                // AWS's text has a space before its location here.
                (_, resource::Pattern::WaitForTaskToken) => Some(
                    "Express state machine does not support '.waitForTaskToken' service integration ",
                ),
                (_, resource::Pattern::Sync | resource::Pattern::Sync2) => {
                    Some("Express state machine does not support '.sync' service integration")
                }
                _ => None,
            };
            if let Some(message) = refused {
                self.schema(message, &at);
                return None;
            }
        }
        Some(r)
    }

    /// `Credentials`: a template that names the role to assume.
    fn credentials(&mut self, f: &Fields<'_>) -> Option<Template> {
        let v = f.state.get("Credentials")?;
        let at = format!("{}/Credentials", f.at);
        let Value::Object(c) = v else {
            self.schema("Expected value of type: Object", &at);
            return None;
        };
        if !c.contains_key("RoleArn") && !c.contains_key("RoleArn.$") {
            self.schema("The field 'RoleArn' is required but was missing", &at);
            return None;
        }
        if f.language == QueryLanguage::Jsonata {
            return Some(Template::Value(v.clone()));
        }
        self.template(v, &at)
    }

    /// A `…Seconds` field (or its `…SecondsPath` twin) of at least `min`.
    fn seconds(&mut self, f: &Fields<'_>, field: &str, min: u64) -> Option<Number> {
        let path_field = format!("{field}Path");
        if let Some(v) = f.state.get(field) {
            if f.state.contains_key(&path_field) {
                self.schema(
                    &format!(
                        "There should only be one of the following fields: [{field}, {path_field}]"
                    ),
                    f.at,
                );
                return None;
            }
            if let Some(expr) = jsonata(f, v) {
                return Some(Number::Jsonata(expr));
            }
            return match v.as_u64().filter(|n| (min..=MAX_SECONDS).contains(n)) {
                Some(_) => Some(Number::Literal(v.clone())),
                None => {
                    self.schema(
                        &format!("Expected value of type: Integer between {min} and {MAX_SECONDS}"),
                        &format!("{}/{field}", f.at),
                    );
                    None
                }
            };
        }
        self.path_field(f, &path_field).map(Number::Path)
    }

    fn choice(&mut self, f: &Fields<'_>, targets: &mut Vec<(String, String)>) -> Option<StateKind> {
        let at = f.at;
        let choices = match f.state.get("Choices") {
            Some(Value::Array(rules)) if !rules.is_empty() => {
                let mut built = Some(Vec::new());
                for (i, rule) in rules.iter().enumerate() {
                    let rule_at = format!("{at}/Choices[{i}]");
                    let r = self.top_rule(f, rule, &rule_at, targets);
                    match (&mut built, r) {
                        (Some(v), Some(r)) => v.push(r),
                        _ => built = None,
                    }
                }
                built
            }
            Some(_) => {
                self.schema(
                    "Expected value of type: non-empty Array",
                    &format!("{at}/Choices"),
                );
                None
            }
            None => {
                self.require(f, &["Choices"]);
                None
            }
        };
        let default = match f.state.get("Default") {
            None => None,
            Some(Value::String(d)) => {
                targets.push((d.clone(), format!("{at}/Default")));
                Some(d.clone())
            }
            Some(_) => {
                self.schema("Expected value of type: String", &format!("{at}/Default"));
                None
            }
        };
        Some(StateKind::Choice {
            choices: choices?,
            default,
        })
    }

    fn top_rule(
        &mut self,
        f: &Fields<'_>,
        rule: &Value,
        at: &str,
        targets: &mut Vec<(String, String)>,
    ) -> Option<ChoiceRule> {
        let Value::Object(r) = rule else {
            self.schema("Expected value of type: Object", at);
            return None;
        };
        let next = match r.get("Next") {
            Some(Value::String(n)) => {
                targets.push((n.clone(), format!("{at}/Next")));
                Some(n.clone())
            }
            Some(_) => {
                self.schema("Expected value of type: String", &format!("{at}/Next"));
                None
            }
            None => {
                self.schema("These fields are required: [Next]", at);
                None
            }
        };
        let condition = self.condition(f, r, at, true);
        Some(ChoiceRule {
            condition: condition?,
            next: next?,
            assign: self.assign(f.language, r, at),
            output: r.get("Output").cloned(),
        })
    }

    /// A Choice condition; `top` rules carry `Next` (and may carry Assign/Output/Comment).
    fn condition(
        &mut self,
        f: &Fields<'_>,
        r: &Map<String, Value>,
        at: &str,
        top: bool,
    ) -> Option<Condition> {
        if !top && r.contains_key("Next") {
            self.schema("Field 'Next' is not supported", at);
            return None;
        }
        if f.language == QueryLanguage::Jsonata {
            return match r.get("Condition") {
                Some(c @ Value::Bool(_)) => Some(Condition::Jsonata(c.clone())),
                Some(c @ Value::String(s)) if is_expression(s) => {
                    Some(Condition::Jsonata(c.clone()))
                }
                Some(_) => {
                    self.schema(
                        "The field 'Condition' must be a JSONata expression or a boolean",
                        &format!("{at}/Condition"),
                    );
                    None
                }
                None => {
                    self.schema("These fields are required: [Condition]", at);
                    None
                }
            };
        }
        for (combinator, build) in [
            ("And", Condition::And as fn(Vec<Condition>) -> Condition),
            ("Or", Condition::Or),
        ] {
            if let Some(v) = r.get(combinator) {
                let Value::Array(items) = v else {
                    self.schema(
                        "Expected value of type: non-empty Array",
                        &format!("{at}/{combinator}"),
                    );
                    return None;
                };
                if items.is_empty() {
                    self.schema("Value cannot be empty", &format!("{at}/{combinator}"));
                    return None;
                }
                let mut built = Some(Vec::new());
                for (i, item) in items.iter().enumerate() {
                    let item_at = format!("{at}/{combinator}[{i}]");
                    let c = match item {
                        Value::Object(o) => self.condition(f, o, &item_at, false),
                        _ => {
                            self.schema("Expected value of type: Object", &item_at);
                            None
                        }
                    };
                    match (&mut built, c) {
                        (Some(v), Some(c)) => v.push(c),
                        _ => built = None,
                    }
                }
                return built.map(build);
            }
        }
        if let Some(v) = r.get("Not") {
            return match v {
                Value::Object(o) => self
                    .condition(f, o, &format!("{at}/Not"), false)
                    .map(|c| Condition::Not(Box::new(c))),
                _ => {
                    self.schema("Expected value of type: Object", &format!("{at}/Not"));
                    None
                }
            };
        }
        self.comparison(r, at)
    }

    fn comparison(&mut self, r: &Map<String, Value>, at: &str) -> Option<Condition> {
        let operators: Vec<(&str, &Value)> = r
            .iter()
            .filter(|(k, _)| operator(k).is_some())
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        if operators.len() != 1 {
            self.schema(
                "A Choice rule must have exactly one comparison operator or one of [And, Or, Not]",
                at,
            );
            return None;
        }
        let (name, value) = operators[0];
        let variable = match r.get("Variable") {
            Some(Value::String(v)) => match path::parse(v) {
                Ok(p) => Some(p),
                Err(_) => {
                    self.schema(
                        "The value for the field 'Variable' must be a valid JSONPath",
                        &format!("{at}/Variable"),
                    );
                    None
                }
            },
            Some(_) => {
                self.schema("Expected value of type: String", &format!("{at}/Variable"));
                None
            }
            None => {
                self.schema("These fields are required: [Variable]", at);
                None
            }
        };
        let (op, kind) = operator(name)?;
        let value_at = format!("{at}/{name}");
        let operand = match kind {
            OperandKind::Path => match value.as_str().map(path::parse) {
                Some(Ok(p)) => Some(Operand::Path(p)),
                _ => {
                    self.schema(
                        &format!("The value for the field '{name}' must be a valid JSONPath"),
                        &value_at,
                    );
                    None
                }
            },
            OperandKind::String if value.is_string() => Some(Operand::Literal(value.clone())),
            OperandKind::Number if value.is_number() => Some(Operand::Literal(value.clone())),
            OperandKind::Boolean if value.is_boolean() => Some(Operand::Literal(value.clone())),
            OperandKind::Timestamp if value.as_str().is_some_and(is_rfc3339) => {
                Some(Operand::Literal(value.clone()))
            }
            OperandKind::String => self.operand_type(&value_at, "String"),
            OperandKind::Number => self.operand_type(&value_at, "Number"),
            OperandKind::Boolean => self.operand_type(&value_at, "Boolean"),
            OperandKind::Timestamp => {
                self.schema("String does not match RFC3339 timestamp", &value_at);
                None
            }
        };
        Some(Condition::Compare {
            variable: variable?,
            operator: op,
            operand: operand?,
        })
    }

    fn operand_type(&mut self, at: &str, kind: &str) -> Option<Operand> {
        self.schema(&format!("Expected value of type: {kind}"), at);
        None
    }

    fn wait(&mut self, f: &Fields<'_>, transition: Option<Transition>) -> Option<StateKind> {
        let given: Vec<&str> = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"]
            .into_iter()
            .filter(|k| f.state.contains_key(*k))
            .collect();
        if given.len() != 1 {
            self.schema(
                "There should be exactly one of the following fields: [Seconds, Timestamp, SecondsPath, TimestampPath]",
                f.at,
            );
            return None;
        }
        let wait = match given[0] {
            "Seconds" | "SecondsPath" => self.seconds(f, "Seconds", 0).map(WaitFor::Seconds),
            "Timestamp" => {
                let v = &f.state["Timestamp"];
                let at = format!("{}/Timestamp", f.at);
                if let Some(expr) = jsonata(f, v) {
                    Some(WaitFor::Timestamp(Text::Jsonata(expr)))
                } else {
                    match v.as_str() {
                        Some(t) if is_rfc3339(t) => {
                            Some(WaitFor::Timestamp(Text::Literal(t.to_owned())))
                        }
                        Some(_) => {
                            self.schema("String does not match RFC3339 timestamp", &at);
                            None
                        }
                        None => {
                            self.schema("Expected value of type: String", &at);
                            None
                        }
                    }
                }
            }
            _ => self
                .path_field(f, "TimestampPath")
                .map(|p| WaitFor::Timestamp(Text::Path(p))),
        };
        Some(StateKind::Wait {
            transition: transition?,
            wait: wait?,
        })
    }

    fn fail(&mut self, f: &Fields<'_>) -> Option<StateKind> {
        let error = self.text_field(f, "Error");
        let cause = self.text_field(f, "Cause");
        Some(StateKind::Fail { error, cause })
    }

    /// `Error`/`Cause` of a Fail state: a literal (or JSONata), or `ErrorPath`/`CausePath`
    /// (a path or an intrinsic call).
    fn text_field(&mut self, f: &Fields<'_>, field: &str) -> Option<Text> {
        let path_field = format!("{field}Path");
        match (f.state.get(field), f.state.get(&path_field)) {
            (Some(_), Some(_)) => {
                self.schema(
                    &format!(
                        "There should only be one of the following fields: [{field}, {path_field}]"
                    ),
                    f.at,
                );
                None
            }
            (Some(v), None) => {
                if let Some(expr) = jsonata(f, v) {
                    return Some(Text::Jsonata(expr));
                }
                match v.as_str() {
                    Some(s) => Some(Text::Literal(s.to_owned())),
                    None => {
                        self.schema(
                            "Expected value of type: String",
                            &format!("{}/{field}", f.at),
                        );
                        None
                    }
                }
            }
            (None, Some(v)) => {
                let at = format!("{}/{path_field}", f.at);
                match v.as_str() {
                    Some(s) if intrinsic::looks_like_call(s) => match intrinsic::parse(s) {
                        Ok(c) => Some(Text::Call(c)),
                        Err(_) => {
                            self.invalid_path_or_call(&path_field, &at);
                            None
                        }
                    },
                    Some(s) => match path::parse(s) {
                        Ok(p) => Some(Text::Path(p)),
                        Err(_) => {
                            self.invalid_path_or_call(&path_field, &at);
                            None
                        }
                    },
                    None => {
                        self.schema("Expected value of type: String", &at);
                        None
                    }
                }
            }
            (None, None) => None,
        }
    }

    fn invalid_path_or_call(&mut self, field: &str, at: &str) {
        self.schema(
            &format!("The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call"),
            at,
        );
    }

    fn parallel(
        &mut self,
        f: &Fields<'_>,
        transition: Option<Transition>,
        targets: &mut Vec<(String, String)>,
    ) -> Option<StateKind> {
        let at = f.at;
        let branches = match f.state.get("Branches") {
            Some(Value::Array(branches)) if !branches.is_empty() => {
                let mut built = Some(Vec::new());
                for (i, b) in branches.iter().enumerate() {
                    let b_at = format!("{at}/Branches[{i}]");
                    let scope = match b {
                        Value::Object(b) => self.nested(b, &b_at, f.language),
                        _ => {
                            self.schema("Expected value of type: Object", &b_at);
                            None
                        }
                    };
                    match (&mut built, scope) {
                        (Some(v), Some(s)) => v.push(s),
                        _ => built = None,
                    }
                }
                built
            }
            Some(Value::Array(_)) => {
                self.schema("Value cannot be empty", &format!("{at}/Branches"));
                None
            }
            Some(_) => {
                self.schema(
                    "Expected value of type: non-empty Array",
                    &format!("{at}/Branches"),
                );
                None
            }
            None => {
                self.require(f, &["Branches"]);
                None
            }
        };
        let parameters = self.template_field(f, "Parameters");
        let result_selector = self.template_field(f, "ResultSelector");
        let result_path = self.result_path(f);
        let retry = self.retriers(f);
        let catch = self.catchers(f, targets);
        Some(StateKind::Parallel(Box::new(Parallel {
            transition: transition?,
            branches: branches?,
            parameters,
            arguments: f.state.get("Arguments").cloned(),
            result_selector,
            result_path,
            retry: retry?,
            catch: catch?,
        })))
    }

    fn map(
        &mut self,
        f: &Fields<'_>,
        transition: Option<Transition>,
        targets: &mut Vec<(String, String)>,
    ) -> Option<StateKind> {
        let processor = f
            .state
            .get("ItemProcessor")
            .map(|p| ("ItemProcessor", p))
            .or_else(|| f.state.get("Iterator").map(|p| ("Iterator", p)));
        let processor = match processor {
            Some((field, Value::Object(p))) => {
                let at = format!("{}/{field}", f.at);
                let config = self.processor_config(p, &at);
                self.nested(p, &at, f.language).map(|s| Scope {
                    processor: config,
                    ..s
                })
            }
            Some((field, _)) => {
                self.schema(
                    "Expected value of type: Object",
                    &format!("{}/{field}", f.at),
                );
                None
            }
            None => {
                self.require(f, &["ItemProcessor"]);
                None
            }
        };
        let items_path = self.path_field(f, "ItemsPath");
        // `Parameters` is the legacy name of `ItemSelector`.
        let item_selector = self
            .template_field(f, "ItemSelector")
            .or_else(|| self.template_field(f, "Parameters"));
        let result_selector = self.template_field(f, "ResultSelector");
        let result_path = self.result_path(f);
        let max_concurrency = self.count(f, "MaxConcurrency");
        let tolerated_failure_count = self.count(f, "ToleratedFailureCount");
        let tolerated_failure_percentage = self.percentage(f);
        let label = self.label(f);
        let batcher_ok = self.item_batcher(f);
        let batch_input = match f.state.get("ItemBatcher").and_then(|b| b.get("BatchInput")) {
            None => None,
            Some(_) if f.language == QueryLanguage::Jsonata => f
                .state
                .get("ItemBatcher")
                .and_then(|b| b.get("BatchInput"))
                .map(|v| Template::Value(v.clone())),
            Some(v) => self.template(v, &format!("{}/ItemBatcher/BatchInput", f.at)),
        };
        let retry = self.retriers(f);
        let catch = self.catchers(f, targets);
        batcher_ok?;
        Some(StateKind::Map(Box::new(MapState {
            transition: transition?,
            processor: processor?,
            items_path,
            items: f.state.get("Items").cloned(),
            item_selector,
            result_selector,
            result_path,
            max_concurrency,
            tolerated_failure_count,
            tolerated_failure_percentage,
            label,
            item_reader: self.s3_io(f, "ItemReader", "ReaderConfig"),
            item_batcher: f.state.get("ItemBatcher").cloned(),
            batch_input,
            result_writer: self.s3_io(f, "ResultWriter", "WriterConfig"),
            retry: retry?,
            catch: catch?,
        })))
    }

    fn processor_config(&mut self, p: &Map<String, Value>, at: &str) -> Option<ProcessorConfig> {
        let config = p.get("ProcessorConfig")?;
        let at = format!("{at}/ProcessorConfig");
        let Value::Object(c) = config else {
            self.schema("Expected value of type: Object", &at);
            return None;
        };
        let distributed = match c.get("Mode").map(Value::as_str) {
            None | Some(Some("INLINE")) => false,
            Some(Some("DISTRIBUTED")) => true,
            Some(_) => {
                self.schema(
                    "The field 'Mode' should have one of these values: [INLINE, DISTRIBUTED]",
                    &format!("{at}/Mode"),
                );
                return None;
            }
        };
        let execution_type = match c.get("ExecutionType").map(Value::as_str) {
            None => None,
            Some(Some(t @ ("STANDARD" | "EXPRESS"))) => Some(t.to_owned()),
            Some(_) => {
                self.schema(
                    "The field 'ExecutionType' should have one of these values: [STANDARD, EXPRESS]",
                    &format!("{at}/ExecutionType"),
                );
                return None;
            }
        };
        Some(ProcessorConfig {
            distributed,
            execution_type,
        })
    }

    /// A Map's `ItemProcessor`/`Iterator` or a Parallel branch: a scope of its own, whose
    /// states inherit the enclosing query language.
    fn nested(
        &mut self,
        scope: &Map<String, Value>,
        at: &str,
        language: QueryLanguage,
    ) -> Option<Scope> {
        for key in scope.keys() {
            if !matches!(
                key.as_str(),
                "StartAt" | "States" | "Comment" | "ProcessorConfig"
            ) {
                self.schema(&format!("Field '{key}' is not supported"), at);
            }
        }
        self.scope(scope, at, language)
    }

    /// A non-negative integer field (or its `…Path` twin, or JSONata).
    fn count(&mut self, f: &Fields<'_>, field: &str) -> Option<Number> {
        let path_field = format!("{field}Path");
        match f.state.get(field) {
            Some(v) => {
                if let Some(expr) = jsonata(f, v) {
                    return Some(Number::Jsonata(expr));
                }
                if v.as_u64().is_some() {
                    Some(Number::Literal(v.clone()))
                } else {
                    self.schema(
                        "Expected value of type: Integer greater than or equal to 0",
                        &format!("{}/{field}", f.at),
                    );
                    None
                }
            }
            None => self.path_field(f, &path_field).map(Number::Path),
        }
    }

    fn percentage(&mut self, f: &Fields<'_>) -> Option<Number> {
        let field = "ToleratedFailurePercentage";
        match f.state.get(field) {
            Some(v) => {
                if let Some(expr) = jsonata(f, v) {
                    return Some(Number::Jsonata(expr));
                }
                if v.as_f64().is_some_and(|p| (0.0..=100.0).contains(&p)) {
                    Some(Number::Literal(v.clone()))
                } else {
                    self.schema(
                        "Expected value of type: Number between 0 and 100",
                        &format!("{}/{field}", f.at),
                    );
                    None
                }
            }
            None => self
                .path_field(f, "ToleratedFailurePercentagePath")
                .map(Number::Path),
        }
    }

    /// `ItemBatcher`: batch limits are non-negative integers (or paths), the byte limit at
    /// most 256 KiB.
    fn item_batcher(&mut self, f: &Fields<'_>) -> Option<()> {
        let Some(v) = f.state.get("ItemBatcher") else {
            return Some(());
        };
        let at = format!("{}/ItemBatcher", f.at);
        let Value::Object(b) = v else {
            self.schema("Expected value of type: Object", &at);
            return None;
        };
        let mut ok = true;
        for key in b.keys() {
            if !matches!(
                key.as_str(),
                "MaxItemsPerBatch"
                    | "MaxItemsPerBatchPath"
                    | "MaxInputBytesPerBatch"
                    | "MaxInputBytesPerBatchPath"
                    | "BatchInput"
            ) {
                self.schema(&format!("Field '{key}' is not supported"), &at);
                ok = false;
            }
        }
        for (field, max) in [
            ("MaxItemsPerBatch", u64::from(u32::MAX)),
            ("MaxInputBytesPerBatch", 262_144),
        ] {
            let Some(n) = b.get(field) else { continue };
            if jsonata(f, n).is_some() {
                continue;
            }
            if n.as_u64().is_none_or(|n| n > max) {
                self.schema(
                    &format!("Expected value of type: Integer between 0 and {max}"),
                    &format!("{at}/{field}"),
                );
                ok = false;
            }
        }
        ok.then_some(())
    }

    /// A Map `Label`: at most 40 characters, none of the forbidden ones, unique.
    /// `ItemReader` / `ResultWriter`: its resource, its parameters as a payload template
    /// (`Arguments`, literal, in JSONata states) and its config as written.
    fn s3_io(&mut self, f: &Fields<'_>, field: &str, config: &str) -> Option<S3Io> {
        let Value::Object(o) = f.state.get(field)? else {
            return None;
        };
        let (name, parameters) = match f.language {
            QueryLanguage::Jsonata => ("Arguments", o.get("Arguments")),
            QueryLanguage::JsonPath => ("Parameters", o.get("Parameters")),
        };
        let parameters = match parameters {
            None => None,
            Some(v) if f.language == QueryLanguage::Jsonata => Some(Template::Value(v.clone())),
            Some(v) => self.template(v, &format!("{}/{field}/{name}", f.at)),
        };
        Some(S3Io {
            resource: o.get("Resource").and_then(Value::as_str).map(str::to_owned),
            parameters,
            config: o.get(config).cloned().unwrap_or(Value::Null),
        })
    }

    fn label(&mut self, f: &Fields<'_>) -> Option<String> {
        let v = f.state.get("Label")?;
        let at = format!("{}/Label", f.at);
        let Some(label) = v.as_str() else {
            self.schema("Expected value of type: String", &at);
            return None;
        };
        let problem = if label.is_empty() {
            Some("Label cannot be empty".to_owned())
        } else if label.chars().count() > MAX_LABEL {
            Some(format!("Label cannot exceed {MAX_LABEL} characters"))
        } else {
            label
                .chars()
                .find(|c| forbidden_in_label(*c))
                .map(|c| format!("Label contains invalid character: '{c}'"))
        };
        if let Some(message) = problem {
            self.push(Diagnostic::error(
                codes::INVALID_LABEL_NAME,
                &message,
                Some(at),
            ));
            return None;
        }
        if !self.labels.insert(label.to_owned()) {
            self.push(Diagnostic::error(
                codes::DUPLICATE_LABEL_NAME,
                &format!("Duplicate Label: {label}"),
                Some(at),
            ));
            return None;
        }
        Some(label.to_owned())
    }

    fn retriers(&mut self, f: &Fields<'_>) -> Option<Vec<Retrier>> {
        let Some(v) = f.state.get("Retry") else {
            return Some(Vec::new());
        };
        let at = format!("{}/Retry", f.at);
        let Value::Array(items) = v else {
            self.schema("Expected value of type: Array", &at);
            return None;
        };
        let mut built = Some(Vec::new());
        for (i, item) in items.iter().enumerate() {
            let r_at = format!("{at}[{i}]");
            let r = self.retrier(item, &r_at, i + 1 == items.len());
            match (&mut built, r) {
                (Some(v), Some(r)) => v.push(r),
                _ => built = None,
            }
        }
        built
    }

    fn retrier(&mut self, item: &Value, at: &str, last: bool) -> Option<Retrier> {
        let Value::Object(r) = item else {
            self.schema("Expected value of type: Object", at);
            return None;
        };
        for key in r.keys() {
            if !matches!(
                key.as_str(),
                "ErrorEquals"
                    | "IntervalSeconds"
                    | "MaxAttempts"
                    | "BackoffRate"
                    | "MaxDelaySeconds"
                    | "JitterStrategy"
                    | "Comment"
            ) {
                self.schema(&format!("Field '{key}' is not supported"), at);
            }
        }
        if !r.contains_key("ErrorEquals") {
            self.schema("These fields are required: [ErrorEquals]", at);
        }
        let errors = self.error_equals(r, at, last);
        let int = |b: &mut Self, field: &str, min: u64, default: u64| -> Option<u64> {
            match r.get(field) {
                None => Some(default),
                Some(v) => {
                    match v.as_u64().filter(|n| (min..=MAX_SECONDS).contains(n)) {
                        Some(n) => Some(n),
                        None => {
                            b.schema(
                            &format!("Expected value of type: Integer between {min} and {MAX_SECONDS}"),
                            &format!("{at}/{field}"),
                        );
                            None
                        }
                    }
                }
            }
        };
        let interval_seconds = int(self, "IntervalSeconds", 1, 1);
        let max_attempts = int(self, "MaxAttempts", 0, 3);
        let max_delay_seconds = match r.get("MaxDelaySeconds") {
            None => Some(None),
            Some(_) => int(self, "MaxDelaySeconds", 1, 1).map(Some),
        };
        let backoff_rate = match r.get("BackoffRate") {
            None => Some(2.0),
            Some(v) => match v.as_f64().filter(|b| *b >= 1.0) {
                Some(b) => Some(b),
                None => {
                    self.schema(
                        "Expected value of type: Number greater than or equal to 1.0",
                        &format!("{at}/BackoffRate"),
                    );
                    None
                }
            },
        };
        let jitter = match r.get("JitterStrategy").map(Value::as_str) {
            None | Some(Some("NONE")) => Some(Jitter::None),
            Some(Some("FULL")) => Some(Jitter::Full),
            Some(_) => {
                self.schema(
                    "The field 'JitterStrategy' should have one of these values: [FULL, NONE]",
                    &format!("{at}/JitterStrategy"),
                );
                None
            }
        };
        Some(Retrier {
            error_equals: errors?,
            interval_seconds: interval_seconds?,
            max_attempts: max_attempts?,
            backoff_rate: backoff_rate?,
            max_delay_seconds: max_delay_seconds?,
            jitter: jitter?,
        })
    }

    /// `ErrorEquals`: a non-empty list of names; `States.ALL` alone, in the last entry.
    fn error_equals(
        &mut self,
        r: &Map<String, Value>,
        at: &str,
        last: bool,
    ) -> Option<Vec<String>> {
        let v = r.get("ErrorEquals")?;
        let e_at = format!("{at}/ErrorEquals");
        let names: Option<Vec<String>> = match v {
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => None,
        };
        let Some(names) = names else {
            self.schema("Expected value of type: non-empty Array of Strings", &e_at);
            return None;
        };
        if names.iter().any(|n| n == "States.ALL") {
            if names.len() > 1 {
                self.schema(
                    "The error 'States.ALL' must appear alone in ErrorEquals",
                    &e_at,
                );
                return None;
            }
            if !last {
                self.schema(
                    "The error 'States.ALL' may only appear in the last retrier or catcher",
                    &e_at,
                );
                return None;
            }
        }
        Some(names)
    }

    fn catchers(
        &mut self,
        f: &Fields<'_>,
        targets: &mut Vec<(String, String)>,
    ) -> Option<Vec<Catcher>> {
        let Some(v) = f.state.get("Catch") else {
            return Some(Vec::new());
        };
        let at = format!("{}/Catch", f.at);
        let Value::Array(items) = v else {
            self.schema("Expected value of type: Array", &at);
            return None;
        };
        let mut built = Some(Vec::new());
        for (i, item) in items.iter().enumerate() {
            let c_at = format!("{at}[{i}]");
            let c = self.catcher(f, item, &c_at, i + 1 == items.len(), targets);
            match (&mut built, c) {
                (Some(v), Some(c)) => v.push(c),
                _ => built = None,
            }
        }
        built
    }

    fn catcher(
        &mut self,
        f: &Fields<'_>,
        item: &Value,
        at: &str,
        last: bool,
        targets: &mut Vec<(String, String)>,
    ) -> Option<Catcher> {
        let Value::Object(c) = item else {
            self.schema("Expected value of type: Object", at);
            return None;
        };
        let missing: Vec<&str> = ["ErrorEquals", "Next"]
            .into_iter()
            .filter(|k| !c.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            self.schema(
                &format!("These fields are required: [{}]", missing.join(", ")),
                at,
            );
        }
        let next = match c.get("Next") {
            Some(Value::String(n)) => {
                targets.push((n.clone(), format!("{at}/Next")));
                Some(n.clone())
            }
            Some(_) => {
                self.schema("Expected value of type: String", &format!("{at}/Next"));
                None
            }
            None => None,
        };
        let errors = self.error_equals(c, at, last);
        let result_path = match c.get("ResultPath") {
            None => None,
            Some(v) => self.result_path_value(v, &format!("{at}/ResultPath")),
        };
        if f.language == QueryLanguage::Jsonata && c.contains_key("ResultPath") {
            self.schema(
                "The field 'ResultPath' is not supported when QueryLanguage is JSONata",
                at,
            );
        }
        Some(Catcher {
            error_equals: errors?,
            next: next?,
            result_path,
            assign: self.assign(f.language, c, at),
            output: c.get("Output").cloned(),
        })
    }

    fn result_path(&mut self, f: &Fields<'_>) -> Option<ResultPath> {
        let v = f.state.get("ResultPath")?;
        self.result_path_value(v, &format!("{}/ResultPath", f.at))
    }

    fn result_path_value(&mut self, v: &Value, at: &str) -> Option<ResultPath> {
        match v {
            Value::Null => Some(None),
            Value::String(s) => match path::parse_reference(s) {
                Ok(p) if p.root == path::Root::Input => Some(Some(p)),
                _ => {
                    self.schema(
                        "The value for the field 'ResultPath' must be a valid ReferencePath",
                        at,
                    );
                    None
                }
            },
            _ => {
                self.schema("Expected value of type: String", at);
                None
            }
        }
    }

    /// `InputPath`/`OutputPath`: a path, or `null`.
    fn optional_path_or_null(&mut self, f: &Fields<'_>, field: &str) -> Option<Option<path::Path>> {
        match f.state.get(field)? {
            Value::Null => Some(None),
            Value::String(s) => match path::parse(s) {
                Ok(p) => Some(Some(p)),
                Err(_) => {
                    self.schema(
                        &format!("The value for the field '{field}' must be a valid JSONPath"),
                        &format!("{}/{field}", f.at),
                    );
                    None
                }
            },
            _ => {
                self.schema(
                    "Expected value of type: String",
                    &format!("{}/{field}", f.at),
                );
                None
            }
        }
    }

    /// A `…Path` field: a path.
    fn path_field(&mut self, f: &Fields<'_>, field: &str) -> Option<path::Path> {
        let v = f.state.get(field)?;
        let at = format!("{}/{field}", f.at);
        match v.as_str().map(path::parse) {
            Some(Ok(p)) => Some(p),
            _ => {
                self.schema(
                    &format!("The value for the field '{field}' must be a valid JSONPath"),
                    &at,
                );
                None
            }
        }
    }

    fn template_field(&mut self, f: &Fields<'_>, field: &str) -> Option<Template> {
        let v = f.state.get(field)?;
        if f.language == QueryLanguage::Jsonata {
            return Some(Template::Value(v.clone()));
        }
        self.template(v, &format!("{}/{field}", f.at))
    }

    /// `Assign` of a state, Choice rule or catcher: in a JSONPath state a payload template
    /// whose `.$` members must parse, literals otherwise — and literals that look like paths
    /// are ordinary values there, so they draw no warning (asl-semantics.md §9).
    fn assign(
        &mut self,
        language: QueryLanguage,
        obj: &serde_json::Map<String, Value>,
        at: &str,
    ) -> Option<Template> {
        let v = obj.get("Assign")?;
        if let Value::Object(vars) = v {
            for key in vars.keys() {
                let name = match language {
                    QueryLanguage::JsonPath => key.strip_suffix(".$").unwrap_or(key),
                    QueryLanguage::Jsonata => key,
                };
                if !is_variable_name(name) {
                    self.schema(
                        &format!("The variable name '{name}' is not valid: variable names start with a letter or '_', continue with letters, digits or '_', and have at most 80 characters"),
                        &format!("{at}/Assign"),
                    );
                }
            }
        }
        if language == QueryLanguage::Jsonata {
            return Some(Template::Value(v.clone()));
        }
        let warnings = self.warnings.len();
        let built = self.template(v, &format!("{at}/Assign"));
        self.warnings.truncate(warnings);
        built
    }

    /// A JSONPath payload template: `.$` fields must hold a path or an intrinsic call.
    /// Problems are reported at the template's own field, as AWS does.
    fn template(&mut self, v: &Value, at: &str) -> Option<Template> {
        match v {
            Value::Object(obj) => {
                let mut fields = Some(Vec::new());
                for (key, value) in obj {
                    let built = match key.strip_suffix(".$") {
                        Some(name) => self.dynamic(key, value, at).map(|t| (name.to_owned(), t)),
                        None => {
                            self.no_dollar(key, value, at);
                            self.template(value, at).map(|t| (key.clone(), t))
                        }
                    };
                    match (&mut fields, built) {
                        (Some(v), Some(t)) => v.push(t),
                        _ => fields = None,
                    }
                }
                fields.map(Template::Object)
            }
            Value::Array(items) => {
                let built: Option<Vec<Template>> =
                    items.iter().map(|i| self.template(i, at)).collect();
                built.map(Template::Array)
            }
            other => Some(Template::Value(other.clone())),
        }
    }

    /// NO_DOLLAR: a plain field whose value reads like a path or an intrinsic call is passed
    /// on as text, which is rarely what was meant.
    fn no_dollar(&mut self, key: &str, value: &Value, at: &str) {
        let Some(s) = value.as_str() else { return };
        let looks_dynamic = (s.starts_with('$') && path::parse(s).is_ok())
            || (intrinsic::looks_like_call(s) && intrinsic::parse(s).is_ok());
        if looks_dynamic {
            self.warnings.push(Diagnostic {
                code: codes::NO_DOLLAR,
                message: format!(
                    "The value of the field '{key}' looks like a JSONPath or an intrinsic function call, but the field name does not end with '.$': the value is used as a plain string"
                ),
                location: Some(at.to_owned()),
                severity: super::diagnostic::Severity::Warning,
            });
        }
    }

    fn dynamic(&mut self, key: &str, value: &Value, at: &str) -> Option<Template> {
        let built = match value.as_str() {
            Some(s) if intrinsic::looks_like_call(s) => {
                intrinsic::parse(s).ok().map(Template::Call)
            }
            Some(s) => path::parse(s).ok().map(Template::Path),
            None => None,
        };
        if built.is_none() {
            self.invalid_path_or_call(key, at);
        }
        built
    }
}

/// The fields of one state, and where and in which language they are written.
struct Fields<'a> {
    state: &'a Map<String, Value>,
    at: &'a str,
    language: QueryLanguage,
}

/// Whether a string is a JSONata expression: `{%` … `%}`, nothing around.
pub(super) fn is_expression(s: &str) -> bool {
    s.len() >= 4 && s.starts_with("{%") && s.ends_with("%}")
}

/// The expression of a JSONata field value, when the state speaks JSONata and the value is one.
fn jsonata(f: &Fields<'_>, v: &Value) -> Option<String> {
    if f.language != QueryLanguage::Jsonata {
        return None;
    }
    v.as_str()
        .filter(|s| is_expression(s))
        .map(|s| s[2..s.len() - 2].trim().to_owned())
}

fn missing_target(target: &str, location: String) -> Diagnostic {
    // AWS says 'Next' for every transition field (StartAt, Default, Choices, Catch).
    Diagnostic::error(
        codes::MISSING_TRANSITION_TARGET,
        &format!("Missing 'Next' target: {target}"),
        Some(location),
    )
}

/// Characters a Map label may not hold (AWS's documentation).
fn forbidden_in_label(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '<' | '>'
                | '{'
                | '}'
                | '['
                | ']'
                | '?'
                | '*'
                | '"'
                | '#'
                | '%'
                | '\\'
                | '^'
                | '|'
                | '~'
                | '$'
                | '&'
                | ','
                | ';'
                | ':'
                | '/'
                | '`'
        )
        || ('\u{0}'..='\u{1f}').contains(&c)
        || ('\u{7f}'..='\u{9f}').contains(&c)
}

fn is_rfc3339(s: &str) -> bool {
    super::timestamp_nanos(s).is_some()
}

#[derive(Clone, Copy)]
enum OperandKind {
    String,
    Number,
    Boolean,
    Timestamp,
    Path,
}

/// A comparison operator's name → the operator and what its operand must be.
fn operator(name: &str) -> Option<(Operator, OperandKind)> {
    use OperandKind as K;
    use Operator as O;
    let (base, path) = match name.strip_suffix("Path") {
        Some(b) if b != "String" && b != "Numeric" => (b, true),
        _ => (name, false),
    };
    let (op, kind) = match base {
        "StringEquals" => (O::StringEquals, K::String),
        "StringLessThan" => (O::StringLessThan, K::String),
        "StringGreaterThan" => (O::StringGreaterThan, K::String),
        "StringLessThanEquals" => (O::StringLessThanEquals, K::String),
        "StringGreaterThanEquals" => (O::StringGreaterThanEquals, K::String),
        "StringMatches" if !path => (O::StringMatches, K::String),
        "NumericEquals" => (O::NumericEquals, K::Number),
        "NumericLessThan" => (O::NumericLessThan, K::Number),
        "NumericGreaterThan" => (O::NumericGreaterThan, K::Number),
        "NumericLessThanEquals" => (O::NumericLessThanEquals, K::Number),
        "NumericGreaterThanEquals" => (O::NumericGreaterThanEquals, K::Number),
        "BooleanEquals" => (O::BooleanEquals, K::Boolean),
        "TimestampEquals" => (O::TimestampEquals, K::Timestamp),
        "TimestampLessThan" => (O::TimestampLessThan, K::Timestamp),
        "TimestampGreaterThan" => (O::TimestampGreaterThan, K::Timestamp),
        "TimestampLessThanEquals" => (O::TimestampLessThanEquals, K::Timestamp),
        "TimestampGreaterThanEquals" => (O::TimestampGreaterThanEquals, K::Timestamp),
        "IsNull" if !path => (O::IsNull, K::Boolean),
        "IsPresent" if !path => (O::IsPresent, K::Boolean),
        "IsNumeric" if !path => (O::IsNumeric, K::Boolean),
        "IsString" if !path => (O::IsString, K::Boolean),
        "IsBoolean" if !path => (O::IsBoolean, K::Boolean),
        "IsTimestamp" if !path => (O::IsTimestamp, K::Boolean),
        _ => return None,
    };
    Some((op, if path { K::Path } else { kind }))
}

/// Whether `name` may name a workflow variable (asl-semantics.md §9: Unicode identifier rules,
/// at most 80 characters).
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    name.chars().count() <= 80
        && (first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}
