//! Choice rules (asl-semantics.md §4): first matching rule wins; a type mismatch is simply
//! false; a `Variable` that selects nothing fails every operator but `IsPresent`.

use serde_json::Value;

use super::dataflow::Failure;
use super::jsonpath::{self, Roots, Selected};
use crate::asl::model::{Condition, Operand, Operator};
use crate::asl::timestamp_nanos;

/// Whether `condition` holds for `roots`.
pub fn holds(condition: &Condition, roots: Roots<'_>) -> Result<bool, Failure> {
    match condition {
        Condition::And(all) => {
            for c in all {
                if !holds(c, roots)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Condition::Or(any) => {
            for c in any {
                if holds(c, roots)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Condition::Not(c) => Ok(!holds(c, roots)?),
        Condition::Compare {
            variable,
            operator,
            operand,
        } => {
            let value = jsonpath::select(variable, roots)
                .ok()
                .map(Selected::into_value);
            if *operator == Operator::IsPresent {
                return Ok(value.is_some() == (operand_value(operand, roots)? == Value::Bool(true)));
            }
            let Some(value) = value else {
                return Err(Failure {
                    error: "States.Runtime",
                    cause: format!(
                        "Invalid path '{variable}': The choice state's condition path references an invalid value."
                    ),
                });
            };
            let other = operand_value(operand, roots)?;
            Ok(compare(*operator, &value, &other))
        }
        // JSONata conditions arrive with the JSONata evaluator (issue 16).
        Condition::Jsonata(v) => Ok(v == &Value::Bool(true)),
    }
}

fn operand_value(operand: &Operand, roots: Roots<'_>) -> Result<Value, Failure> {
    match operand {
        Operand::Literal(v) => Ok(v.clone()),
        Operand::Path(p) => jsonpath::select(p, roots)
            .map(Selected::into_value)
            .map_err(|m| Failure {
                error: "States.Runtime",
                cause: format!("Invalid path '{p}' : {}", m.jayway_text()),
            }),
    }
}

fn compare(op: Operator, v: &Value, other: &Value) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    use Operator as O;
    let flag = other == &Value::Bool(true);
    match op {
        O::IsNull => v.is_null() == flag,
        O::IsNumeric => v.is_number() == flag,
        O::IsString => v.is_string() == flag,
        O::IsBoolean => v.is_boolean() == flag,
        O::IsTimestamp => v.as_str().and_then(timestamp_nanos).is_some() == flag,
        O::IsPresent => flag,
        O::BooleanEquals => v.is_boolean() && v == other,
        O::StringMatches => match (v.as_str(), other.as_str()) {
            (Some(s), Some(p)) => wildcard(s, p),
            _ => false,
        },
        _ => {
            let ordering = match op {
                O::StringEquals
                | O::StringLessThan
                | O::StringGreaterThan
                | O::StringLessThanEquals
                | O::StringGreaterThanEquals => match (v.as_str(), other.as_str()) {
                    (Some(a), Some(b)) => Some(a.cmp(b)),
                    _ => None,
                },
                O::NumericEquals
                | O::NumericLessThan
                | O::NumericGreaterThan
                | O::NumericLessThanEquals
                | O::NumericGreaterThanEquals => match (v.as_f64(), other.as_f64()) {
                    (Some(a), Some(b)) => a.partial_cmp(&b),
                    _ => None,
                },
                _ => match (
                    v.as_str().and_then(timestamp_nanos),
                    other.as_str().and_then(timestamp_nanos),
                ) {
                    (Some(a), Some(b)) => Some(a.cmp(&b)),
                    _ => None,
                },
            };
            let Some(o) = ordering else { return false };
            match op {
                O::StringEquals | O::NumericEquals | O::TimestampEquals => o == Equal,
                O::StringLessThan | O::NumericLessThan | O::TimestampLessThan => o == Less,
                O::StringGreaterThan | O::NumericGreaterThan | O::TimestampGreaterThan => {
                    o == Greater
                }
                O::StringLessThanEquals | O::NumericLessThanEquals | O::TimestampLessThanEquals => {
                    o != Greater
                }
                _ => o != Less,
            }
        }
    }
}

/// `StringMatches`: `*` matches any run of characters; `\*` and `\\` are literal.
fn wildcard(s: &str, pattern: &str) -> bool {
    enum Tok {
        Star,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) => toks.push(Tok::Char(e)),
                None => toks.push(Tok::Char('\\')),
            },
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Char(c)),
        }
    }
    let s: Vec<char> = s.chars().collect();
    // Classic two-pointer glob match with backtracking to the last star.
    let (mut si, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None, 0usize);
    while si < s.len() {
        match toks.get(ti) {
            Some(Tok::Char(c)) if *c == s[si] => {
                si += 1;
                ti += 1;
            }
            Some(Tok::Star) => {
                star = Some(ti);
                mark = si;
                ti += 1;
            }
            _ => match star {
                Some(st) => {
                    ti = st + 1;
                    mark += 1;
                    si = mark;
                }
                None => return false,
            },
        }
    }
    toks[ti..].iter().all(|t| matches!(t, Tok::Star))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    fn rule(r: Value) -> Condition {
        let def = json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Next": "D", "Variable": "$.v"}], "Default": "D"},
            "D": {"Type": "Succeed"}}});
        let mut def = def;
        let mut full = r.as_object().unwrap().clone();
        full.insert("Next".into(), json!("D"));
        def["States"]["C"]["Choices"] = json!([full]);
        let d = crate::asl::parse(&def.to_string(), crate::asl::Flavor::default()).unwrap();
        match &d.machine.states[0].kind {
            crate::asl::model::StateKind::Choice { choices, .. } => choices[0].condition.clone(),
            _ => unreachable!(),
        }
    }

    fn check(r: Value, input: Value) -> Result<bool, Failure> {
        let empty = Map::new();
        let ctx = json!({});
        holds(
            &rule(r),
            Roots {
                input: &input,
                context: &ctx,
                variables: &empty,
            },
        )
    }

    #[test]
    fn type_mismatches_are_false_not_errors() {
        for v in [json!(null), json!(""), json!([]), json!({}), json!(true)] {
            assert!(!check(
                json!({"Variable": "$.v", "NumericEquals": 1}),
                json!({"v": v})
            )
            .unwrap());
        }
        assert!(!check(
            json!({"Variable": "$.v", "StringEquals": "1"}),
            json!({"v": 1})
        )
        .unwrap());
        assert!(!check(
            json!({"Variable": "$.v", "TimestampEquals": "2023-02-24T12:15:56Z"}),
            json!({"v": "2023-02-24 12:15:56.832957"})
        )
        .unwrap());
    }

    #[test]
    fn numbers_strings_and_timestamps_compare_as_recorded() {
        assert!(check(
            json!({"Variable": "$.v", "NumericEquals": 0.0}),
            json!({"v": -0})
        )
        .unwrap());
        assert!(check(
            json!({"Variable": "$.v", "NumericEquals": 1}),
            json!({"v": 1.0})
        )
        .unwrap());
        assert!(!check(
            json!({"Variable": "$.v", "StringEquals": " "}),
            json!({"v": "     "})
        )
        .unwrap());
        assert!(check(
            json!({"Variable": "$.v", "StringGreaterThanEquals": "A"}),
            json!({"v": "AB"})
        )
        .unwrap());
        assert!(check(
            json!({"Variable": "$.v", "StringLessThanEquals": ""}),
            json!({"v": ""})
        )
        .unwrap());
        assert!(check(
            json!({"Variable": "$.v", "TimestampLessThan": "2020-01-01T00:00:56Z"}),
            json!({"v": "2020-01-01T00:00:55Z"})
        )
        .unwrap());
        assert!(check(
            json!({"Variable": "$.v", "NumericLessThanPath": "$.w"}),
            json!({"v": 1, "w": 2})
        )
        .unwrap());
    }

    #[test]
    fn presence_and_type_tests() {
        assert!(check(
            json!({"Variable": "$.v", "IsPresent": true}),
            json!({"v": null})
        )
        .unwrap());
        assert!(check(json!({"Variable": "$.v", "IsPresent": false}), json!({})).unwrap());
        assert!(check(
            json!({"Variable": "$.v", "IsNull": true}),
            json!({"v": null})
        )
        .unwrap());
        assert!(check(
            json!({"Variable": "$.v", "IsNumeric": true}),
            json!({"v": 1.1})
        )
        .unwrap());
        assert!(check(
            json!({"Variable": "$.v", "IsString": false}),
            json!({"v": 1})
        )
        .unwrap());
        let missing = check(json!({"Variable": "$.x", "IsNull": true}), json!({})).unwrap_err();
        assert_eq!(
            missing.cause,
            "Invalid path '$.x': The choice state's condition path references an invalid value."
        );
    }

    #[test]
    fn string_matches_knows_stars_and_escapes() {
        assert!(wildcard("log-2020.txt", "log-*.txt"));
        assert!(wildcard("anything", "*"));
        assert!(!wildcard("log.csv", "log-*.txt"));
        assert!(wildcard("a*b", "a\\*b"));
        assert!(!wildcard("axb", "a\\*b"));
        assert!(check(
            json!({"And": [{"Variable": "$.v", "StringMatches": "*.txt"}, {"Not": {"Variable": "$.v", "StringEquals": "a.txt"}}]}),
            json!({"v": "b.txt"})
        )
        .unwrap());
    }
}
