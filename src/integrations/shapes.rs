//! The output shapes of AWS operations, for TestState's check of a mocked Task result against
//! what the integration could have answered (`mock.fieldValidationMode`, executions-api.md §10):
//! STRICT checks the fields the shape names (types, enum values, lengths, ranges) and its
//! required fields, PRESENT only the fields present, NONE nothing. Fields the shape does not
//! name pass (recorded). The shapes are `shapes.json`, written by `scripts/shapes.py` from the
//! service models botocore ships.
//!
//! Knows the Task resources and JSON; nothing of the engine or the store.

use std::sync::OnceLock;

use serde_json::Value;

use crate::asl::resource::{Pattern, Resource};

const SHAPES: &str = include_str!("shapes.json");

fn models() -> &'static Value {
    static MODELS: OnceLock<Value> = OnceLock::new();
    // The file is generated and checked by the tests: it always parses.
    MODELS.get_or_init(|| serde_json::from_str(SHAPES).unwrap_or(Value::Null))
}

/// How closely a mocked result is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Strict,
    Present,
    None,
}

/// `fieldValidationMode`'s values, as the model's enum lists them.
pub const MODES: &[&str] = &["STRICT", "PRESENT", "NONE"];

impl Mode {
    /// The mode named (STRICT when none is); None for a name not in [`MODES`].
    pub fn parse(s: Option<&str>) -> Option<Mode> {
        match s {
            None | Some("STRICT") => Some(Mode::Strict),
            Some("PRESENT") => Some(Mode::Present),
            Some("NONE") => Some(Mode::None),
            Some(_) => None,
        }
    }
}

/// The (botocore service, operation) whose output a Task of `resource` answers with.
fn operation(resource: &Resource) -> Option<(&'static str, String)> {
    let (service, action, pattern) = match resource {
        Resource::Service {
            service,
            action,
            pattern,
            ..
        }
        | Resource::Sdk {
            service,
            action,
            pattern,
            ..
        } => (service, action, *pattern),
        _ => return None,
    };
    let boto: &'static str = models()["services"][service.as_str()].as_str()?;
    let mut op = super::aws::pascal(action);
    // `.sync` of an execution answers with the ended execution's description.
    if boto == "stepfunctions"
        && action == "startExecution"
        && matches!(pattern, Pattern::Sync | Pattern::Sync2)
    {
        op = "DescribeExecution".into();
    }
    Some((boto, op))
}

/// Checks `result` as the mocked answer of a Task of `resource`; the error text is AWS's
/// (`Mock result schema validation error: …`). Operations without a known shape pass.
pub fn check(resource: &Resource, result: &Value, mode: Mode) -> Result<(), String> {
    if mode == Mode::None {
        return Ok(());
    }
    let Some((service, op)) = operation(resource) else {
        return Ok(());
    };
    let model = &models()["models"][service];
    let Some(output) = model["ops"][op.as_str()].as_str() else {
        return Ok(());
    };
    // The optimised Lambda integration answers the function's payload as JSON, not a blob.
    let lenient = matches!(resource, Resource::Service { service, .. } if service == "lambda");
    let c = Checker {
        shapes: &model["shapes"],
        strict: mode == Mode::Strict,
        lenient,
    };
    if !result.is_object() {
        return Ok(());
    }
    c.value(output, result, None)
        .map_err(|e| format!("Mock result schema validation error: {e}"))
}

struct Checker<'a> {
    shapes: &'a Value,
    strict: bool,
    lenient: bool,
}

impl Checker<'_> {
    /// Checks `v` against shape `name`; `field` names it in the messages.
    fn value(&self, name: &str, v: &Value, field: Option<&str>) -> Result<(), String> {
        let s = &self.shapes[name];
        let field = field.unwrap_or(name);
        let kind = |what: &str| format!("Field '{field}' must be {what}");
        match s["t"].as_str().unwrap_or("any") {
            "o" => {
                let Value::Object(o) = v else {
                    return Err(kind("an object"));
                };
                for m in s["m"].as_array().into_iter().flatten() {
                    let (Some(member), Some(shape)) = (m[0].as_str(), m[1].as_str()) else {
                        continue;
                    };
                    match o.get(member) {
                        Some(_) if self.lenient && member == "Payload" => {}
                        Some(inner) => self.value(shape, inner, Some(member))?,
                        None => {
                            let required = s["r"]
                                .as_array()
                                .is_some_and(|r| r.iter().any(|x| x == member));
                            if self.strict && required {
                                return Err(format!("Required field '{member}' is missing"));
                            }
                        }
                    }
                }
                Ok(())
            }
            "a" => {
                let Value::Array(items) = v else {
                    return Err(kind("an array"));
                };
                let item = s["i"].as_str().unwrap_or_default();
                items
                    .iter()
                    .try_for_each(|x| self.value(item, x, Some(field)))
            }
            "m" => {
                let Value::Object(o) = v else {
                    return Err(kind("an object"));
                };
                let value = s["v"].as_str().unwrap_or_default();
                o.values()
                    .try_for_each(|x| self.value(value, x, Some(field)))
            }
            "s" => {
                let Value::String(text) = v else {
                    return Err(kind("a string"));
                };
                if let Some(e) = s["e"].as_array() {
                    if !e.iter().any(|x| x == text) {
                        return Err(format!("Field '{field}' is not an expected value"));
                    }
                }
                if s["n"]
                    .as_u64()
                    .is_some_and(|n| (text.chars().count() as u64) < n)
                {
                    return Err(format!(
                        "Field '{field}' is smaller than the minimum length"
                    ));
                }
                Ok(())
            }
            "n" => {
                let Some(x) = v.as_f64() else {
                    return Err(kind("a number"));
                };
                if s["n"].as_f64().is_some_and(|n| x < n) {
                    return Err(format!("Field '{field}' is less than the minimum value"));
                }
                if s["x"].as_f64().is_some_and(|n| x > n) {
                    return Err(format!("Field '{field}' exceeds the maximum value"));
                }
                Ok(())
            }
            "b" => match v {
                Value::Bool(_) => Ok(()),
                _ => Err(kind("a boolean")),
            },
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(arn: &str) -> Resource {
        crate::asl::resource::parse(arn).unwrap()
    }

    #[test]
    fn the_shapes_file_parses_and_names_its_services() {
        assert!(models()["models"]["stepfunctions"]["ops"]["StartExecution"].is_string());
    }

    #[test]
    fn strict_checks_required_fields_and_types_present_only_types() {
        let start = resource("arn:aws:states:::states:startExecution");
        let check = |v: Value, m| check(&start, &v, m);
        assert_eq!(
            check(serde_json::json!({}), Mode::Strict).unwrap_err(),
            "Mock result schema validation error: Required field 'ExecutionArn' is missing"
        );
        assert!(check(serde_json::json!({}), Mode::Present).is_ok());
        assert_eq!(
            check(
                serde_json::json!({"ExecutionArn": "a", "StartDate": true}),
                Mode::Strict
            )
            .unwrap_err(),
            "Mock result schema validation error: Field 'StartDate' must be a string"
        );
        assert!(check(serde_json::json!({"ExecutionArn": 1}), Mode::None).is_ok());
    }

    #[test]
    fn nested_fields_enums_and_numbers_are_named_in_the_error() {
        let events = resource("arn:aws:states:::events:putEvents");
        assert_eq!(
            check(
                &events,
                &serde_json::json!({"Entries": [{"EventId": "a"}, {"EventId": [1]}]}),
                Mode::Strict
            )
            .unwrap_err(),
            "Mock result schema validation error: Field 'EventId' must be a string"
        );
        let s3 = resource("arn:aws:states:::aws-sdk:s3:getObject");
        assert_eq!(
            check(
                &s3,
                &serde_json::json!({"StorageClass": "Papyrus"}),
                Mode::Present
            )
            .unwrap_err(),
            "Mock result schema validation error: Field 'StorageClass' is not an expected value"
        );
        let lambda = resource("arn:aws:states:::lambda:invoke");
        assert_eq!(
            check(
                &lambda,
                &serde_json::json!({"StatusCode": "200"}),
                Mode::Strict
            )
            .unwrap_err(),
            "Mock result schema validation error: Field 'StatusCode' must be a number"
        );
        assert!(check(
            &lambda,
            &serde_json::json!({"StatusCode": 200, "Payload": {"a": 1}}),
            Mode::Strict
        )
        .is_ok());
        let get = resource("arn:aws:states:::aws-sdk:lambda:getFunction");
        assert_eq!(
            check(&get, &serde_json::json!({"Configuration": {"MemorySize": 127}}), Mode::Strict).unwrap_err(),
            "Mock result schema validation error: Field 'MemorySize' is less than the minimum value"
        );
        // Fields the shape does not name pass.
        assert!(check(
            &events,
            &serde_json::json!({"random": "json"}),
            Mode::Strict
        )
        .is_ok());
    }
}
