//! What a parsed path selects, with Jayway JsonPath's semantics as AWS uses them: a definite
//! path (names and indexes only) selects one value or fails, naming where it failed; an
//! indefinite one (wildcard, slice, union, filter, descent) selects a possibly empty list and
//! never fails.

use serde_json::{Map, Value};

use crate::asl::path::{Path, Root, Step};

/// What a path selected.
#[derive(Debug, Clone, PartialEq)]
pub enum Selected {
    One(Value),
    Many(Vec<Value>),
}

impl Selected {
    /// As one JSON value: a list selection becomes an array.
    pub fn into_value(self) -> Value {
        match self {
            Selected::One(v) => v,
            Selected::Many(items) => Value::Array(items),
        }
    }
}

/// Why a definite path selected nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// The last step found nothing: `No results for path: $['a']['b']`.
    NoResults { normalized: String },
    /// An earlier step found nothing: `Missing property in path $['a']`.
    MissingProperty { normalized: String },
    /// `$name` names no variable.
    UndefinedVariable { name: String },
}

impl Miss {
    /// Jayway's words, as AWS quotes them after `Invalid path '<path>' : `.
    pub fn jayway_text(&self) -> String {
        match self {
            Miss::NoResults { normalized } => format!("No results for path: {normalized}"),
            Miss::MissingProperty { normalized } => {
                format!("Missing property in path {normalized}")
            }
            Miss::UndefinedVariable { name } => format!("The variable '{name}' is not defined"),
        }
    }
}

/// Where paths start: the value `$` names, the context object, the variables in scope.
#[derive(Debug, Clone, Copy)]
pub struct Roots<'a> {
    pub input: &'a Value,
    pub context: &'a Value,
    pub variables: &'a Map<String, Value>,
}

/// Selects `path` from `roots`.
pub fn select(path: &Path, roots: Roots<'_>) -> Result<Selected, Miss> {
    let root = match &path.root {
        Root::Input => roots.input,
        Root::Context => roots.context,
        Root::Variable(name) => roots
            .variables
            .get(name)
            .ok_or_else(|| Miss::UndefinedVariable { name: name.clone() })?,
    };
    if path.is_definite() {
        definite(root, &path.steps).map(Selected::One)
    } else {
        let mut current = vec![root.clone()];
        for step in &path.steps {
            current = current.iter().flat_map(|v| apply(step, v)).collect();
        }
        Ok(Selected::Many(current))
    }
}

fn definite(root: &Value, steps: &[Step]) -> Result<Value, Miss> {
    let mut current = root;
    let mut normalized = String::from("$");
    for (i, step) in steps.iter().enumerate() {
        let next = match step {
            Step::Field(name) => {
                normalized.push_str(&format!("['{name}']"));
                current.as_object().and_then(|o| o.get(name))
            }
            Step::Index(n) => {
                normalized.push_str(&format!("[{n}]"));
                current
                    .as_array()
                    .and_then(|a| index(a, *n))
                    .map(|i| &current[i])
            }
            _ => unreachable!("definite paths hold names and indexes only"),
        };
        match next {
            Some(v) => current = v,
            None if i + 1 == steps.len() => return Err(Miss::NoResults { normalized }),
            None => return Err(Miss::MissingProperty { normalized }),
        }
    }
    Ok(current.clone())
}

/// A possibly negative index into a list of `len` items.
fn index(items: &[Value], n: i64) -> Option<usize> {
    let len = items.len() as i64;
    let i = if n < 0 { len + n } else { n };
    (0..len).contains(&i).then_some(i as usize)
}

/// One indefinite step applied to one value: everything it selects there.
fn apply(step: &Step, v: &Value) -> Vec<Value> {
    match step {
        Step::Field(name) => v
            .as_object()
            .and_then(|o| o.get(name))
            .cloned()
            .into_iter()
            .collect(),
        Step::Index(n) => v
            .as_array()
            .and_then(|a| index(a, *n).map(|i| a[i].clone()))
            .into_iter()
            .collect(),
        Step::Wildcard => children(v),
        Step::Descendants(name) => {
            let mut out = Vec::new();
            descend(v, name.as_deref(), &mut out);
            out
        }
        Step::Slice(start, end, stride) => v
            .as_array()
            .map(|a| slice(a, *start, *end, *stride))
            .unwrap_or_default(),
        Step::Union(steps) => steps.iter().flat_map(|s| apply(s, v)).collect(),
        Step::Filter(expr) => children(v)
            .into_iter()
            .filter(|item| filter_matches(expr, item))
            .collect(),
    }
}

fn children(v: &Value) -> Vec<Value> {
    match v {
        Value::Object(o) => o.values().cloned().collect(),
        Value::Array(a) => a.clone(),
        _ => Vec::new(),
    }
}

fn descend(v: &Value, name: Option<&str>, out: &mut Vec<Value>) {
    match name {
        None => {
            for child in children(v) {
                out.push(child.clone());
                descend(&child, None, out);
            }
        }
        Some(name) => {
            if let Some(found) = v.as_object().and_then(|o| o.get(name)) {
                out.push(found.clone());
            }
            for child in children(v) {
                descend(&child, Some(name), out);
            }
        }
    }
}

fn slice(a: &[Value], start: Option<i64>, end: Option<i64>, stride: Option<i64>) -> Vec<Value> {
    let len = a.len() as i64;
    let clamp = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) };
    let (start, end) = (clamp(start.unwrap_or(0)), clamp(end.unwrap_or(len)));
    let stride = stride.unwrap_or(1).max(1) as usize;
    (start..end)
        .step_by(stride)
        .map(|i| a[i as usize].clone())
        .collect()
}

/// A filter `@.path`, `@.path <op> literal` or `@ <op> literal` on one item.
fn filter_matches(expr: &str, item: &Value) -> bool {
    let expr = expr.trim();
    for op in ["==", "!=", "<=", ">=", "<", ">"] {
        if let Some((left, right)) = expr.split_once(op) {
            let Some(l) = operand(left.trim(), item) else {
                return false;
            };
            let Some(r) = operand(right.trim(), item) else {
                return false;
            };
            return compare(&l, op, &r);
        }
    }
    operand(expr, item).is_some_and(|v| !v.is_null() && v != Value::Bool(false))
}

fn operand(text: &str, item: &Value) -> Option<Value> {
    if let Some(rest) = text.strip_prefix('@') {
        let path = crate::asl::path::parse(&format!("${rest}")).ok()?;
        let empty = Map::new();
        let roots = Roots {
            input: item,
            context: &Value::Null,
            variables: &empty,
        };
        return select(&path, roots).ok().map(Selected::into_value);
    }
    if let Some(s) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        return Some(Value::String(s.to_owned()));
    }
    serde_json::from_str(text).ok()
}

fn compare(l: &Value, op: &str, r: &Value) -> bool {
    use std::cmp::Ordering;
    let ordering = match (l, r) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match op {
        "==" => ordering.map_or(l == r, |o| o == Ordering::Equal),
        "!=" => ordering.map_or(l != r, |o| o != Ordering::Equal),
        "<" => ordering == Some(Ordering::Less),
        "<=" => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
        ">" => ordering == Some(Ordering::Greater),
        ">=" => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(path: &str, input: &Value) -> Result<Value, Miss> {
        let vars = Map::from_iter([("v".to_owned(), json!({"k": 7}))]);
        let roots = Roots {
            input,
            context: &json!({"Execution": {"Id": "arn:x"}}),
            variables: &vars,
        };
        select(&crate::asl::path::parse(path).unwrap(), roots).map(Selected::into_value)
    }

    #[test]
    fn definite_paths_select_one_value_or_name_where_they_failed() {
        let input = json!({"a": {"b": [10, 20, 30]}, "Test\\\"\"Name\"": 1});
        assert_eq!(sel("$", &input).unwrap(), input);
        assert_eq!(sel("$.a.b[1]", &input).unwrap(), json!(20));
        assert_eq!(sel("$.a.b[-1]", &input).unwrap(), json!(30));
        assert_eq!(sel("$$.Execution.Id", &input).unwrap(), json!("arn:x"));
        assert_eq!(sel("$v.k", &input).unwrap(), json!(7));
        assert_eq!(
            sel("$.NoSuchInputPath", &input).unwrap_err().jayway_text(),
            "No results for path: $['NoSuchInputPath']"
        );
        assert_eq!(
            sel("$.no.such.result.path", &input)
                .unwrap_err()
                .jayway_text(),
            "Missing property in path $['no']"
        );
        assert!(matches!(
            sel("$nope", &input),
            Err(Miss::UndefinedVariable { .. })
        ));
    }

    #[test]
    fn indefinite_paths_never_fail_and_give_lists() {
        // Recorded: `$[*]` on `{}` and `$.items[1:].itemValue` without items give [].
        assert_eq!(sel("$[*]", &json!({})).unwrap(), json!([]));
        assert_eq!(sel("$.items[1:].itemValue", &json!({})).unwrap(), json!([]));
        let input = json!({"items": [{"x": 1, "n": "a"}, {"x": 5, "n": "b"}, {"x": 0, "n": "c"}]});
        assert_eq!(sel("$.items[*].n", &input).unwrap(), json!(["a", "b", "c"]));
        assert_eq!(sel("$.items[1:].n", &input).unwrap(), json!(["b", "c"]));
        assert_eq!(sel("$.items[:1].n", &input).unwrap(), json!(["a"]));
        assert_eq!(sel("$.items[?(@.x == 0)].n", &input).unwrap(), json!(["c"]));
        assert_eq!(
            sel("$.items[?(@.x <= 1)].n", &input).unwrap(),
            json!(["a", "c"])
        );
        assert_eq!(sel("$.items[?(@.n == 'b')].x", &input).unwrap(), json!([5]));
        assert_eq!(sel("$..n", &input).unwrap(), json!(["a", "b", "c"]));
        assert_eq!(sel("$.items[0,2].x", &input).unwrap(), json!([1, 0]));
    }
}
