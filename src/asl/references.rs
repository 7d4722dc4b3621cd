//! Which workflow variables each state reads: DescribeStateMachine's `variableReferences`.
//! A reference is a JSONPath path rooted at `$name` anywhere a JSONPath state evaluates one
//! (InputPath, OutputPath, `.$` template values and intrinsic arguments, Choice variables and
//! `…Path` operands, `*Path` fields, Assign); literal strings that merely look like a path are
//! not, and neither is anything inside a JSONata expression (asl-semantics.md §9, recorded by
//! `test_sfn_api_variable_references.py`). States of every scope are listed by name. Also
//! the activities a definition's Task states name, which a step needs to know exist.

use std::collections::{BTreeMap, BTreeSet};

use super::intrinsic::{Arg, Call};
use super::model::{
    Catcher, Condition, Definition, Number, Operand, Scope, State, StateKind, Template, Text,
    WaitFor,
};
use super::path::{Path, Root};

/// State name → the variable names it reads, sorted; states that read none are absent.
pub fn variable_references(definition: &Definition) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    scope(&definition.machine, &mut out);
    out
}

/// The activity ARNs the definition's Task states name, in every scope, each once.
pub fn activity_resources(definition: &Definition) -> Vec<String> {
    fn walk(s: &Scope, out: &mut BTreeSet<String>) {
        for state in &s.states {
            match &state.kind {
                StateKind::Task(t) => {
                    if let super::resource::Resource::Activity(arn) = &t.resource {
                        out.insert(arn.clone());
                    }
                }
                StateKind::Parallel(p) => p.branches.iter().for_each(|b| walk(b, out)),
                StateKind::Map(m) => walk(&m.processor, out),
                _ => {}
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&definition.machine, &mut out);
    out.into_iter().collect()
}

fn scope(s: &Scope, out: &mut BTreeMap<String, Vec<String>>) {
    for state in &s.states {
        let mut names = BTreeSet::new();
        read_state(state, &mut names);
        if !names.is_empty() {
            out.insert(state.name.clone(), names.into_iter().collect());
        }
        match &state.kind {
            StateKind::Parallel(p) => p.branches.iter().for_each(|b| scope(b, out)),
            StateKind::Map(m) => scope(&m.processor, out),
            _ => {}
        }
    }
}

fn read_state(state: &State, names: &mut BTreeSet<String>) {
    let mut r = Reads(names);
    for p in [&state.input_path, &state.output_path]
        .into_iter()
        .flatten()
    {
        r.optional_path(p.as_ref());
    }
    r.template(state.assign.as_ref());
    match &state.kind {
        StateKind::Pass { parameters, .. } => r.template(parameters.as_ref()),
        StateKind::Task(t) => {
            r.template(t.parameters.as_ref());
            r.template(t.result_selector.as_ref());
            r.template(t.credentials.as_ref());
            r.number(t.timeout_seconds.as_ref());
            r.number(t.heartbeat_seconds.as_ref());
            r.catchers(&t.catch);
        }
        StateKind::Choice { choices, .. } => {
            for rule in choices {
                r.condition(&rule.condition);
                r.template(rule.assign.as_ref());
            }
        }
        StateKind::Wait { wait, .. } => match wait {
            WaitFor::Seconds(n) => r.number(Some(n)),
            WaitFor::Timestamp(t) => r.text(Some(t)),
        },
        StateKind::Succeed => {}
        StateKind::Fail { error, cause } => {
            r.text(error.as_ref());
            r.text(cause.as_ref());
        }
        StateKind::Parallel(p) => {
            r.template(p.parameters.as_ref());
            r.template(p.result_selector.as_ref());
            r.catchers(&p.catch);
        }
        StateKind::Map(m) => {
            r.optional_path(m.items_path.as_ref());
            r.template(m.item_selector.as_ref());
            r.template(m.result_selector.as_ref());
            r.number(m.max_concurrency.as_ref());
            r.number(m.tolerated_failure_count.as_ref());
            r.number(m.tolerated_failure_percentage.as_ref());
            r.catchers(&m.catch);
        }
    }
}

/// Collects the variables the parts of one state read.
struct Reads<'a>(&'a mut BTreeSet<String>);

impl Reads<'_> {
    fn path(&mut self, p: &Path) {
        if let Root::Variable(name) = &p.root {
            self.0.insert(name.clone());
        }
    }

    fn optional_path(&mut self, p: Option<&Path>) {
        if let Some(p) = p {
            self.path(p);
        }
    }

    fn call(&mut self, c: &Call) {
        for a in &c.args {
            match a {
                Arg::Path(p) => self.path(p),
                Arg::Call(inner) => self.call(inner),
                Arg::String(_) | Arg::Number(_) | Arg::Bool(_) | Arg::Null => {}
            }
        }
    }

    fn template(&mut self, t: Option<&Template>) {
        match t {
            None | Some(Template::Value(_)) => {}
            Some(Template::Object(fields)) => {
                for (_, v) in fields {
                    self.template(Some(v));
                }
            }
            Some(Template::Array(items)) => {
                for v in items {
                    self.template(Some(v));
                }
            }
            Some(Template::Path(p)) => self.path(p),
            Some(Template::Call(c)) => self.call(c),
        }
    }

    fn number(&mut self, n: Option<&Number>) {
        if let Some(Number::Path(p)) = n {
            self.path(p);
        }
    }

    fn text(&mut self, t: Option<&Text>) {
        match t {
            Some(Text::Path(p)) => self.path(p),
            Some(Text::Call(c)) => self.call(c),
            _ => {}
        }
    }

    fn condition(&mut self, c: &Condition) {
        match c {
            Condition::And(all) | Condition::Or(all) => all.iter().for_each(|c| self.condition(c)),
            Condition::Not(inner) => self.condition(inner),
            Condition::Compare {
                variable, operand, ..
            } => {
                self.path(variable);
                if let Operand::Path(p) = operand {
                    self.path(p);
                }
            }
            Condition::Jsonata(_) => {}
        }
    }

    fn catchers(&mut self, catchers: &[Catcher]) {
        for c in catchers {
            self.template(c.assign.as_ref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn references(definition: serde_json::Value) -> BTreeMap<String, Vec<String>> {
        let d = crate::asl::parse(&definition.to_string(), crate::asl::Flavor::default()).unwrap();
        variable_references(&d)
    }

    fn expect(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(s, v)| ((*s).to_owned(), v.iter().map(|n| (*n).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn a_literal_that_looks_like_a_variable_is_no_reference() {
        // Recorded: BASE_REFERENCE_IN_PARAMETERS.
        let refs = references(json!({"StartAt": "State0", "States": {
            "State0": {"Type": "Pass", "Parameters": {"result": "$result"}, "Assign": {"result": "foobar"}, "Next": "State1"},
            "State1": {"Type": "Pass", "ResultPath": "$.result", "Parameters": {"result.$": "$result"}, "End": true}}}));
        assert_eq!(refs, expect(&[("State1", &["result"])]));
    }

    #[test]
    fn choice_operands_and_assign_values_are_references() {
        // Recorded: BASE_REFERENCE_IN_CHOICE.
        let refs = references(json!({"StartAt": "Setup", "States": {
            "Setup": {"Type": "Pass", "Assign": {"guess": "the_guess", "answer": "the_answer"}, "Next": "CheckAnswer"},
            "CheckAnswer": {"Type": "Choice", "Choices": [
                {"Variable": "$guess", "StringEqualsPath": "$answer", "Next": "CorrectAnswer"}], "Default": "WrongAnswer"},
            "CorrectAnswer": {"Type": "Pass", "Result": {"state": "CORRECT"}, "End": true},
            "WrongAnswer": {"Type": "Pass", "Assign": {"guess.$": "$answer"}, "Result": {"state": "WRONG"}, "Next": "CheckAnswer"}}}));
        assert_eq!(
            refs,
            expect(&[
                ("CheckAnswer", &["answer", "guess"]),
                ("WrongAnswer", &["answer"])
            ])
        );
    }

    #[test]
    fn states_of_nested_scopes_are_listed_with_intrinsic_arguments() {
        // Recorded: BASE_REFERENCE_IN_ITERATOR_OUTER_SCOPE.
        let refs = references(json!({"StartAt": "Input", "States": {
            "Input": {"Type": "Pass", "Result": [[9, 44, 6]], "Assign": {"bias": 4.3}, "Next": "IterateLevels"},
            "IterateLevels": {"Type": "Map", "MaxConcurrency": 1, "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "AssignCurrentVector", "States": {
                    "AssignCurrentVector": {"Type": "Pass", "Assign": {"xCurrent.$": "$[0]", "yCurrent.$": "$[1]", "zCurrent.$": "$[2]"}, "Next": "Calculate"},
                    "Calculate": {"Type": "Map", "MaxConcurrency": 1, "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Summate", "States": {
                            "Summate": {"Type": "Pass", "Assign": {"Sum.$": "States.MathAdd(States.MathAdd(States.MathAdd($yCurrent, $xCurrent), $zCurrent), $bias)"}, "End": true}}},
                        "End": true}}},
                "End": true}}}));
        assert_eq!(
            refs,
            expect(&[("Summate", &["bias", "xCurrent", "yCurrent", "zCurrent"])])
        );
    }

    #[test]
    fn wait_paths_are_references() {
        // Recorded: BASE_REFERENCE_IN_WAIT (SecondsPath).
        let refs = references(json!({"StartAt": "Start", "States": {
            "Start": {"Type": "Pass", "Assign": {"waitTime": 0}, "Next": "WaitSecondsState"},
            "WaitSecondsState": {"Type": "Wait", "SecondsPath": "$waitTime", "End": true}}}));
        assert_eq!(refs, expect(&[("WaitSecondsState", &["waitTime"])]));
    }
}
