//! JSONata in states (asl-semantics.md §8): a field's value is a template — a string
//! `{% expression %}` is evaluated, anything else is literal, objects and arrays are templates
//! member by member (keys in their order) — evaluated with `$states` (`input`, `context`, and
//! `result` or `errorOutput` where the field has them) and the workflow variables as `$name`.
//! A failure is `States.QueryEvaluationError` with AWS's texts, naming the field by its slash
//! path inside the state (`Output/a/b[0]`, `Arguments/FunctionName`).

use serde_json::{Map, Value};

use super::dataflow::Failure;
use super::intrinsics::Entropy;
use super::step::Variables;
use crate::jsonata;

/// What `$states` holds for one field.
pub struct States<'a> {
    pub input: &'a Value,
    pub context: &'a Value,
    pub result: Option<&'a Value>,
    pub error_output: Option<&'a Value>,
}

impl<'a> States<'a> {
    /// `$states` of a field that has neither a result nor an error output.
    pub fn new(input: &'a Value, context: &'a Value) -> Self {
        States {
            input,
            context,
            result: None,
            error_output: None,
        }
    }

    /// `$states` for `expr`: only the members the expression can name are copied (the
    /// context object and the input can be large), all of them when it uses `$states` other
    /// than as `$states.<member>`.
    fn value(&self, expr: &str) -> Value {
        let whole = expr
            .match_indices("$states")
            .any(|(i, _)| !expr[i + 7..].starts_with('.'));
        let wants = |name: &str| whole || expr.contains(name);
        let mut m = Map::new();
        if wants("input") {
            m.insert("input".into(), self.input.clone());
        }
        if wants("context") {
            m.insert("context".into(), self.context.clone());
        }
        if let Some(r) = self.result.filter(|_| wants("result")) {
            m.insert("result".into(), r.clone());
        }
        if let Some(e) = self.error_output.filter(|_| wants("errorOutput")) {
            m.insert("errorOutput".into(), e.clone());
        }
        Value::Object(m)
    }
}

/// The expression of a `{% … %}` string, trimmed; `None` for a literal.
pub fn expression(s: &str) -> Option<&str> {
    s.strip_prefix("{%")?.strip_suffix("%}").map(str::trim)
}

fn failure(cause: String) -> Failure {
    Failure {
        error: "States.QueryEvaluationError",
        cause,
    }
}

/// Evaluates one expression for `field`; nothing (undefined) is an error.
pub fn evaluate(
    expr: &str,
    field: &str,
    states: &States<'_>,
    variables: &Variables,
    entropy: &mut dyn Entropy,
) -> Result<Value, Failure> {
    let threw = |e: jsonata::Error| {
        failure(format!(
            "The JSONata expression '{expr}' specified for the field '{field}' threw an error during evaluation. {e}"
        ))
    };
    let compiled = jsonata::compile_cached(expr).map_err(threw)?;
    let mut bindings: Vec<(&str, Value)> = Vec::new();
    if expr.contains("$states") {
        bindings.push(("states", states.value(expr)));
    }
    // Only variables the text names are bound (each binding is a copy of its value).
    for (k, v) in variables {
        if expr.contains(&format!("${k}")) {
            bindings.push((k.as_str(), v.clone()));
        }
    }
    let mut draw = || entropy.next_u64();
    match jsonata::evaluate(&compiled, states.input, &bindings, &mut draw).map_err(threw)? {
        Some(v) => Ok(v),
        None => Err(failure(format!(
            "The JSONata expression '{expr}' specified for the field '{field}' returned nothing (undefined)."
        ))),
    }
}

/// Evaluates a template for `field`.
pub fn template(
    t: &Value,
    field: &str,
    states: &States<'_>,
    variables: &Variables,
    entropy: &mut dyn Entropy,
) -> Result<Value, Failure> {
    match t {
        Value::String(s) => match expression(s) {
            Some(e) => evaluate(e, field, states, variables, entropy),
            None => Ok(t.clone()),
        },
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(
                    k.clone(),
                    template(v, &format!("{field}/{k}"), states, variables, entropy)?,
                );
            }
            Ok(Value::Object(out))
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| template(v, &format!("{field}[{i}]"), states, variables, entropy))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// A JSONata `Assign`: the variables it sets (none for `{}`).
pub fn assign(
    t: Option<&Value>,
    states: &States<'_>,
    variables: &Variables,
    entropy: &mut dyn Entropy,
) -> Result<Option<Variables>, Failure> {
    let Some(t) = t else { return Ok(None) };
    match template(t, "Assign", states, variables, entropy)? {
        Value::Object(m) if !m.is_empty() => super::step::check_assigned(m, variables).map(Some),
        _ => Ok(None),
    }
}
