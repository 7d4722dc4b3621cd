//! The JSONPath data flow of one state (asl-semantics.md §2): InputPath, payload templates
//! (Parameters, ItemSelector, ResultSelector), ResultPath and OutputPath, with the texts AWS
//! gives when a path finds nothing. Pure: values in, values or causes out.

use serde_json::{Map, Value};

use super::intrinsics::{self, Entropy, IntrinsicError};
use super::jsonpath::{self, Miss, Roots};
use super::order::java_hash_order;
use crate::asl::model::{ResultPath, Template};
use crate::asl::path::{Path, Root, Step};

/// Why a step of the data flow failed: the error name and the cause after AWS's
/// `An error occurred while executing the state '<S>' (entered at the event id #<n>). ` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: &'static str,
    pub cause: String,
}

impl Failure {
    fn runtime(cause: String) -> Self {
        Failure {
            error: "States.Runtime",
            cause,
        }
    }
}

impl From<IntrinsicError> for Failure {
    fn from(e: IntrinsicError) -> Self {
        Failure {
            error: "States.IntrinsicFailure",
            cause: e.cause_suffix(),
        }
    }
}

/// InputPath or OutputPath: `None` keeps the value, `Some(None)` (`null`) gives `{}`.
pub fn apply_path(path: Option<&Option<Path>>, roots: Roots<'_>) -> Result<Value, Failure> {
    match path {
        None => Ok(roots.input.clone()),
        Some(None) => Ok(Value::Object(Map::new())),
        Some(Some(p)) => jsonpath::select(p, roots)
            .map(jsonpath::Selected::into_value)
            .map_err(|m| Failure::runtime(format!("Invalid path '{p}' : {}", m.jayway_text()))),
    }
}

/// A payload template evaluated against `roots`. Literal members keep their place and come
/// first; `.$` members follow in the order AWS's Java map gives them.
pub fn evaluate(
    template: &Template,
    roots: Roots<'_>,
    entropy: &mut dyn Entropy,
) -> Result<Value, Failure> {
    match template {
        Template::Value(v) => Ok(v.clone()),
        Template::Array(items) => items
            .iter()
            .map(|t| evaluate(t, roots, entropy))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Template::Path(p) => select_field(p, "", roots),
        Template::Call(c) => Ok(intrinsics::evaluate(c, roots, entropy)?),
        Template::Object(fields) => {
            let mut out = Map::new();
            let mut dynamic = Vec::new();
            for (name, t) in fields {
                match t {
                    Template::Path(p) => dynamic.push((name, select_field(p, name, roots)?)),
                    Template::Call(c) => {
                        dynamic.push((name, intrinsics::evaluate(c, roots, entropy)?))
                    }
                    literal => {
                        out.insert(name.clone(), evaluate(literal, roots, entropy)?);
                    }
                }
            }
            let order = java_hash_order(dynamic.iter().map(|(n, _)| n.as_str()));
            let mut dynamic: Vec<Option<(&String, Value)>> =
                dynamic.into_iter().map(Some).collect();
            for i in order {
                if let Some((name, v)) = dynamic[i].take() {
                    out.insert(name.clone(), v);
                }
            }
            Ok(Value::Object(out))
        }
    }
}

/// A `.$` member's path: a miss names the field and the input it looked in.
fn select_field(p: &Path, name: &str, roots: Roots<'_>) -> Result<Value, Failure> {
    jsonpath::select(p, roots)
        .map(jsonpath::Selected::into_value)
        .map_err(|m| match m {
            Miss::UndefinedVariable { .. } => Failure::runtime(m.jayway_text()),
            _ => Failure::runtime(format!(
                "The JSONPath '{p}' specified for the field '{name}.$' could not be found in the input '{}'",
                roots.input
            )),
        })
}

/// ResultPath: where `result` goes in the state's raw input. Absent: the result replaces the
/// input; `null`: the input passes through; a path: the result is placed there, creating the
/// objects on the way.
pub fn apply_result_path(
    raw_input: &Value,
    result: Value,
    result_path: Option<&ResultPath>,
) -> Result<Value, Failure> {
    let path = match result_path {
        None => return Ok(result),
        Some(None) => return Ok(raw_input.clone()),
        Some(Some(p)) => p,
    };
    let unable = || Failure {
        error: "States.ResultPathMatchFailure",
        cause: format!("Unable to apply ResultPath \"{path}\" to input \"{raw_input}\""),
    };
    if path.root != Root::Input {
        return Err(unable());
    }
    if path.steps.is_empty() {
        return Ok(result);
    }
    let mut output = raw_input.clone();
    let mut slot = &mut output;
    let last = path.steps.len() - 1;
    for (i, step) in path.steps.iter().enumerate() {
        let Step::Field(name) = step else {
            return Err(unable());
        };
        let Value::Object(obj) = slot else {
            return Err(unable());
        };
        if i == last {
            obj.insert(name.clone(), result);
            return Ok(output);
        }
        slot = obj
            .entry(name.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::path::parse;
    use serde_json::json;

    use crate::engine::intrinsics::Counter;

    fn roots<'a>(input: &'a Value, context: &'a Value, vars: &'a Map<String, Value>) -> Roots<'a> {
        Roots {
            input,
            context,
            variables: vars,
        }
    }

    /// A template parsed the way the validator builds it.
    fn template(v: Value) -> Template {
        let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": v, "End": true}}});
        let d = crate::asl::parse(&def.to_string(), crate::asl::Flavor::default()).unwrap();
        match &d.machine.states[0].kind {
            crate::asl::model::StateKind::Pass {
                parameters: Some(t),
                ..
            } => t.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn templates_put_literals_first_and_dollar_members_in_java_map_order() {
        let input = json!({"arn": "arn:sm", "in": {"a": 1}, "name": "n"});
        let empty = Map::new();
        let ctx = json!({});
        let t = template(json!({
            "StateMachineArn.$": "$.arn", "Input.$": "$.in", "Name.$": "$.name",
            "Literal": "$.not-a-path", "Nested": {"x.$": "$.in.a"}
        }));
        let out = evaluate(&t, roots(&input, &ctx, &empty), &mut Counter(0)).unwrap();
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["Literal", "Nested", "Input", "StateMachineArn", "Name"]
        );
        assert_eq!(out["Nested"], json!({"x": 1}));
        assert_eq!(out["Literal"], json!("$.not-a-path"));
    }

    #[test]
    fn missing_paths_fail_with_aws_texts() {
        let input = json!({"a": 1});
        let empty = Map::new();
        let ctx = json!({});
        let t = template(json!({"value.$": "$.no_such_jsonpath"}));
        assert_eq!(
            evaluate(&t, roots(&input, &ctx, &empty), &mut Counter(0)).unwrap_err(),
            Failure {
                error: "States.Runtime",
                cause: "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"a\":1}'".into()
            }
        );
        let p = Some(parse("$.NoSuchInputPath").unwrap());
        assert_eq!(
            apply_path(Some(&p), roots(&input, &ctx, &empty))
                .unwrap_err()
                .cause,
            "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
        );
        assert_eq!(
            apply_path(Some(&None), roots(&input, &ctx, &empty)).unwrap(),
            json!({})
        );
        assert_eq!(
            apply_path(None, roots(&input, &ctx, &empty)).unwrap(),
            input
        );
    }

    #[test]
    fn result_path_places_discards_or_replaces() {
        let input = json!({"a": {"b": 1}, "n": 3});
        let r = json!("R");
        assert_eq!(apply_result_path(&input, r.clone(), None).unwrap(), r);
        assert_eq!(
            apply_result_path(&input, r.clone(), Some(&None)).unwrap(),
            input
        );
        let at = |p: &str| Some(Some(parse(p).unwrap()));
        assert_eq!(
            apply_result_path(&input, r.clone(), at("$").as_ref()).unwrap(),
            r
        );
        assert_eq!(
            apply_result_path(&input, r.clone(), at("$.a.c").as_ref()).unwrap(),
            json!({"a": {"b": 1, "c": "R"}, "n": 3})
        );
        assert_eq!(
            apply_result_path(&input, r.clone(), at("$.x.y").as_ref()).unwrap(),
            json!({"a": {"b": 1}, "n": 3, "x": {"y": "R"}})
        );
        let fail = apply_result_path(&input, r, at("$.n.m").as_ref()).unwrap_err();
        assert_eq!(fail.error, "States.ResultPathMatchFailure");
        assert_eq!(
            fail.cause,
            "Unable to apply ResultPath \"$.n.m\" to input \"{\"a\":{\"b\":1},\"n\":3}\""
        );
    }

    #[test]
    fn intrinsic_failures_are_intrinsic_failures() {
        let input = json!({"a": "x"});
        let empty = Map::new();
        let ctx = json!({});
        let t = template(json!({"n.$": "States.ArrayLength($.a)"}));
        let e = evaluate(&t, roots(&input, &ctx, &empty), &mut Counter(0)).unwrap_err();
        assert_eq!(e.error, "States.IntrinsicFailure");
        assert!(
            e.cause
                .starts_with("Invalid arguments in States.ArrayLength"),
            "{}",
            e.cause
        );
    }
}
