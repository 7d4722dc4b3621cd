//! Evaluates intrinsic function calls (`States.Format`, `States.Array`, …) with the results
//! AWS records (../shared/spec/asl-semantics.md §3). Randomness (`MathRandom`, `UUID`) comes
//! from the caller's [`Entropy`], so evaluation stays a pure function of its inputs.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{Map, Number, Value};
use sha2::Digest;

use super::jsonpath::{self, Roots};
use super::order::java_hash_order;
use crate::asl::intrinsic::{Arg, Call, Function};

/// Where randomness comes from; the interpreter records what it drew.
pub trait Entropy {
    fn next_u64(&mut self) -> u64;
}

/// A version 4 UUID drawn from `entropy`.
pub fn uuid(entropy: &mut dyn Entropy) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&entropy.next_u64().to_le_bytes());
    bytes[8..].copy_from_slice(&entropy.next_u64().to_le_bytes());
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Why a call failed (`States.IntrinsicFailure`): the function and a short reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrinsicError {
    pub function: Function,
    pub reason: String,
}

impl IntrinsicError {
    /// The cause after AWS's state prefix: `Invalid arguments in States.X: <reason>`.
    pub fn cause_suffix(&self) -> String {
        format!(
            "Invalid arguments in {}: {}",
            self.function.name(),
            self.reason
        )
    }
}

/// Largest input of the string functions (AWS's limit).
const MAX_TEXT: usize = 10_000;
/// Most items `States.ArrayRange` may produce.
const MAX_RANGE: usize = 1000;

/// Evaluates `call` with paths resolved against `roots`.
pub fn evaluate(
    call: &Call,
    roots: Roots<'_>,
    entropy: &mut dyn Entropy,
) -> Result<Value, IntrinsicError> {
    let fail = |reason: &str| IntrinsicError {
        function: call.function,
        reason: reason.to_owned(),
    };
    let mut args = Vec::with_capacity(call.args.len());
    for a in &call.args {
        args.push(match a {
            Arg::String(s) => Value::String(s.clone()),
            Arg::Number(n) => Value::Number(n.clone()),
            Arg::Bool(b) => Value::Bool(*b),
            Arg::Null => Value::Null,
            Arg::Path(p) => jsonpath::select(p, roots)
                .map_err(|m| fail(&format!("{} ({})", m.jayway_text(), p)))?
                .into_value(),
            Arg::Call(inner) => evaluate(inner, roots, entropy)?,
        });
    }
    let f = call.function;
    use Function as F;
    match f {
        F::Format => format(&args)
            .ok_or_else(|| fail("the number of arguments does not match the placeholders")),
        F::StringToJson => {
            let s = str_arg(&args[0]).ok_or_else(|| fail("the argument must be a string"))?;
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_str::<Value>(s)
                .map(normalize_negative_zero)
                .map_err(|_| fail("the argument is not valid JSON"))
        }
        F::JsonToString => Ok(Value::String(args[0].to_string())),
        F::Array => Ok(Value::Array(args)),
        F::ArrayPartition => {
            let items =
                array_arg(&args[0]).ok_or_else(|| fail("the first argument must be an array"))?;
            let size = rounded(&args[1])
                .filter(|n| *n > 0)
                .ok_or_else(|| fail("the chunk size must be a positive integer"))?;
            Ok(Value::Array(
                items
                    .chunks(size as usize)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            ))
        }
        F::ArrayContains => {
            let items =
                array_arg(&args[0]).ok_or_else(|| fail("the first argument must be an array"))?;
            Ok(Value::Bool(items.iter().any(|i| json_equal(i, &args[1]))))
        }
        F::ArrayRange => {
            let (start, end, step) = match (rounded(&args[0]), rounded(&args[1]), rounded(&args[2]))
            {
                (Some(s), Some(e), Some(st)) if st != 0 => (s, e, st),
                _ => return Err(fail("start, end and a non-zero step must be integers")),
            };
            let mut out = Vec::new();
            let mut i = start;
            while (step > 0 && i <= end) || (step < 0 && i >= end) {
                out.push(Value::from(i));
                if out.len() > MAX_RANGE {
                    return Err(fail("the range would hold more than 1000 items"));
                }
                i += step;
            }
            Ok(Value::Array(out))
        }
        F::ArrayGetItem => {
            let items =
                array_arg(&args[0]).ok_or_else(|| fail("the first argument must be an array"))?;
            let i = rounded(&args[1])
                .filter(|i| *i >= 0)
                .ok_or_else(|| fail("the index must be a non-negative integer"))?;
            items
                .get(i as usize)
                .cloned()
                .ok_or_else(|| fail("the index is out of bounds"))
        }
        F::ArrayLength => {
            let items = array_arg(&args[0]).ok_or_else(|| fail("the argument must be an array"))?;
            Ok(Value::from(items.len()))
        }
        F::ArrayUnique => {
            let items = array_arg(&args[0]).ok_or_else(|| fail("the argument must be an array"))?;
            let mut out: Vec<Value> = Vec::new();
            for i in items {
                if !out.iter().any(|o| json_equal(o, i)) {
                    out.push(i.clone());
                }
            }
            Ok(Value::Array(out))
        }
        F::Base64Encode => {
            let s = text_arg(&args[0])
                .ok_or_else(|| fail("the argument must be a string of at most 10000 characters"))?;
            Ok(Value::String(BASE64.encode(s)))
        }
        F::Base64Decode => {
            let s = text_arg(&args[0])
                .ok_or_else(|| fail("the argument must be a string of at most 10000 characters"))?;
            let bytes = BASE64
                .decode(s)
                .map_err(|_| fail("the argument is not base64"))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| fail("the decoded data is not UTF-8 text"))
        }
        F::Hash => {
            let data = match &args[0] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if data.chars().count() > MAX_TEXT {
                return Err(fail("the data must be at most 10000 characters"));
            }
            let digest = match str_arg(&args[1]) {
                Some("MD5") => hex::encode(md5::Md5::digest(data.as_bytes())),
                Some("SHA-1") => hex::encode(sha1::Sha1::digest(data.as_bytes())),
                Some("SHA-256") => hex::encode(sha2::Sha256::digest(data.as_bytes())),
                Some("SHA-384") => hex::encode(sha2::Sha384::digest(data.as_bytes())),
                Some("SHA-512") => hex::encode(sha2::Sha512::digest(data.as_bytes())),
                _ => {
                    return Err(fail(
                        "the algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512",
                    ))
                }
            };
            Ok(Value::String(digest))
        }
        F::JsonMerge => {
            let (Value::Object(a), Value::Object(b)) = (&args[0], &args[1]) else {
                return Err(fail("the first two arguments must be objects"));
            };
            if args[2] != Value::Bool(false) {
                return Err(fail(
                    "deep merging is not supported: the third argument must be false",
                ));
            }
            let mut merged: Vec<(String, Value)> =
                a.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            for (k, v) in b {
                match merged.iter_mut().find(|(mk, _)| mk == k) {
                    Some(slot) => slot.1 = v.clone(),
                    None => merged.push((k.clone(), v.clone())),
                }
            }
            // AWS builds the result in a Java HashMap: its iteration order, not insertion order.
            let order = java_hash_order(merged.iter().map(|(k, _)| k.as_str()));
            Ok(Value::Object(
                order
                    .into_iter()
                    .map(|i| merged[i].clone())
                    .collect::<Map<_, _>>(),
            ))
        }
        F::MathRandom => {
            let (start, end) = match (rounded(&args[0]), rounded(&args[1])) {
                (Some(s), Some(e)) if s < e => (s, e),
                _ => return Err(fail("start and end must be integers with start below end")),
            };
            let draw = match args.get(2) {
                Some(seed) => {
                    let seed = rounded(seed).ok_or_else(|| fail("the seed must be an integer"))?;
                    splitmix(seed as u64)
                }
                None => entropy.next_u64(),
            };
            Ok(Value::from(start + (draw % (end - start) as u64) as i64))
        }
        F::MathAdd => {
            let (Some(a), Some(b)) = (java_round(&args[0]), java_round(&args[1])) else {
                return Err(fail("both arguments must be numbers"));
            };
            let sum = a + b;
            if sum < i64::from(i32::MIN) || sum > i64::from(i32::MAX) {
                return Err(fail("the result is out of the integer range"));
            }
            Ok(Value::from(sum))
        }
        F::StringSplit => {
            let (Some(s), Some(d)) = (str_arg(&args[0]), str_arg(&args[1])) else {
                return Err(fail("both arguments must be strings"));
            };
            Ok(Value::Array(
                s.split(|c| d.contains(c))
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_owned()))
                    .collect(),
            ))
        }
        F::Uuid => Ok(Value::String(uuid(entropy))),
    }
}

fn str_arg(v: &Value) -> Option<&str> {
    v.as_str()
}

fn text_arg(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| s.chars().count() <= MAX_TEXT)
}

fn array_arg(v: &Value) -> Option<&Vec<Value>> {
    v.as_array()
}

/// A number rounded to the nearest integer (half away from zero).
fn rounded(v: &Value) -> Option<i64> {
    v.as_f64().map(|f| f.round() as i64)
}

/// Java's `Math.round`: half up toward positive infinity (`-1.5` → `-1`, `-2.5` → `-2`).
fn java_round(v: &Value) -> Option<i64> {
    v.as_f64().map(|f| (f + 0.5).floor() as i64)
}

/// Equality as AWS compares JSON: numbers by value (`1` equals `1.0`), the rest structurally.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// `-0` parses as `0`, as AWS's parser gives it.
fn normalize_negative_zero(v: Value) -> Value {
    match v {
        Value::Number(n) if n.as_f64() == Some(0.0) && n.to_string().starts_with('-') => {
            Value::Number(Number::from(0))
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(normalize_negative_zero).collect())
        }
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (k, normalize_negative_zero(v)))
                .collect(),
        ),
        other => other,
    }
}

/// `States.Format`: each `{}` takes the next argument; `\{` and `\}` are literal braces.
fn format(args: &[Value]) -> Option<Value> {
    let template = args[0].as_str()?;
    let mut rest = args[1..].iter();
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('{' | '}')) => out.push(chars.next()?),
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push_str(&java_string(rest.next()?));
            }
            other => out.push(other),
        }
    }
    rest.next().is_none().then_some(Value::String(out))
}

/// How Java's `toString` shows a value inside `States.Format`: strings raw, objects as
/// `{k=v, …}`, lists as `[a, b]`.
fn java_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(java_string).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{k}={}", java_string(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// A seeded draw: the same seed always gives the same number.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Deterministic entropy for tests: 1, 2, 3, …
#[cfg(test)]
pub(crate) struct Counter(pub u64);

#[cfg(test)]
impl Entropy for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::engine::intrinsics::Counter;

    fn eval(call: &str, input: Value) -> Result<Value, IntrinsicError> {
        let empty = Map::new();
        let roots = Roots {
            input: &input,
            context: &json!({"StateMachine": {"Id": "arn:sm", "Name": "sm"}}),
            variables: &empty,
        };
        evaluate(
            &crate::asl::intrinsic::parse(call).unwrap(),
            roots,
            &mut Counter(0),
        )
    }

    #[test]
    fn format_renders_like_aws() {
        assert_eq!(
            eval(
                "States.Format('Hello {}, {} {}', $.s, $.n, $.z)",
                json!({"s": "x", "n": 1.1, "z": null})
            )
            .unwrap(),
            json!("Hello x, 1.1 null")
        );
        assert_eq!(
            eval(
                "States.Format('{}', $.o)",
                json!({"o": {"Arg1": 1, "Arg2": []}})
            )
            .unwrap(),
            json!("{Arg1=1, Arg2=[]}")
        );
        assert_eq!(
            eval("States.Format('{}', $$.StateMachine)", json!({})).unwrap(),
            json!("{Id=arn:sm, Name=sm}")
        );
        assert_eq!(
            eval("States.Format('\\{\\} {}', 'a')", json!({})).unwrap(),
            json!("{} a")
        );
        assert!(eval("States.Format('{} {}', 'a')", json!({})).is_err());
    }

    #[test]
    fn json_functions_match_the_recordings() {
        for (text, expected) in [
            ("", json!(null)),
            (" ", json!(null)),
            ("-0", json!(0)),
            ("1.1", json!(1.1)),
            ("[1, 2, \"x\"]", json!([1, 2, "x"])),
        ] {
            assert_eq!(
                eval("States.StringToJson($.t)", json!({"t": text})).unwrap(),
                expected,
                "{text}"
            );
        }
        assert_eq!(
            eval(
                "States.JsonToString($.o)",
                json!({"o": {"Arg1": 1, "Arg2": []}})
            )
            .unwrap(),
            json!("{\"Arg1\":1,\"Arg2\":[]}")
        );
        assert_eq!(
            eval("States.JsonToString($.s)", json!({"s": "HelloWorld"})).unwrap(),
            json!("\"HelloWorld\"")
        );
        let merged = eval(
            "States.JsonMerge($.a, $.b, false)",
            json!({"a": {"a": {"a1": 1}, "b": 2}, "b": {"a": {"a3": 1, "a4": 2}, "c": 3, "d": 4}}),
        )
        .unwrap();
        assert_eq!(
            merged,
            json!({"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3, "d": 4})
        );
        let keys: Vec<&String> = merged.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["a", "b", "c", "d"]);
    }

    #[test]
    fn array_functions_match_the_recordings() {
        assert_eq!(eval("States.Array()", json!({})).unwrap(), json!([]));
        assert_eq!(
            eval("States.ArrayPartition($.a, 2)", json!({"a": [0, 1, 2]})).unwrap(),
            json!([[0, 1], [2]])
        );
        assert_eq!(
            eval("States.ArrayPartition($.a, 2)", json!({"a": []})).unwrap(),
            json!([])
        );
        assert_eq!(
            eval(
                "States.ArrayContains($.a, false)",
                json!({"a": [true, false]})
            )
            .unwrap(),
            json!(true)
        );
        assert_eq!(
            eval("States.ArrayRange(0, 9, 3)", json!({})).unwrap(),
            json!([0, 3, 6, 9])
        );
        assert_eq!(
            eval("States.ArrayRange(0, 10, 3)", json!({})).unwrap(),
            json!([0, 3, 6, 9])
        );
        assert_eq!(
            eval("States.ArrayRange(1, 9, 9)", json!({})).unwrap(),
            json!([1])
        );
        assert!(eval("States.ArrayRange(0, 5000, 1)", json!({})).is_err());
        let nine = json!({"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]});
        assert_eq!(
            eval("States.ArrayGetItem($.a, 5)", nine.clone()).unwrap(),
            json!(6)
        );
        assert_eq!(eval("States.ArrayLength($.a)", nine).unwrap(), json!(9));
        assert_eq!(
            eval("States.ArrayUnique($.a)", json!({"a": [1, 2, 2, 3, 3, 4]})).unwrap(),
            json!([1, 2, 3, 4])
        );
    }

    #[test]
    fn string_math_and_hash_functions_match_the_recordings() {
        assert_eq!(
            eval("States.Base64Encode('Data to encode')", json!({})).unwrap(),
            json!("RGF0YSB0byBlbmNvZGU=")
        );
        assert_eq!(
            eval("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", json!({})).unwrap(),
            json!("Data to encode")
        );
        assert_eq!(
            eval("States.Base64Encode('')", json!({})).unwrap(),
            json!("")
        );
        for (a, b, sum) in [
            (1.49, 1.5, 3),
            (-1.5, 0.0, -1),
            (-0.5, 0.5, 1),
            (-2.5, 0.0, -2),
        ] {
            assert_eq!(
                eval(&format!("States.MathAdd({a}, {b})"), json!({})).unwrap(),
                json!(sum),
                "{a} + {b}"
            );
        }
        assert_eq!(
            eval("States.StringSplit(',,,,', ',')", json!({})).unwrap(),
            json!([])
        );
        assert_eq!(
            eval("States.StringSplit(', , ,', ',')", json!({})).unwrap(),
            json!([" ", " "])
        );
        assert_eq!(
            eval(
                "States.StringSplit('This.is+a,test=string', '.+,=')",
                json!({})
            )
            .unwrap(),
            json!(["This", "is", "a", "test", "string"])
        );
        assert_eq!(
            eval("States.Hash('abc', 'SHA-256')", json!({})).unwrap(),
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            eval("States.Hash('abc', 'MD5')", json!({})).unwrap(),
            json!("900150983cd24fb0d6963f7d28e17f72")
        );
        assert!(eval("States.Hash('abc', 'CRC32')", json!({})).is_err());
        let r = eval("States.MathRandom(1, 10)", json!({}))
            .unwrap()
            .as_i64()
            .unwrap();
        assert!((1..10).contains(&r));
        assert_eq!(
            eval("States.MathRandom(1, 1000, 7)", json!({})),
            eval("States.MathRandom(1, 1000, 7)", json!({}))
        );
        let id = eval("States.UUID()", json!({})).unwrap();
        assert_eq!(
            uuid::Uuid::parse_str(id.as_str().unwrap())
                .unwrap()
                .get_version_num(),
            4
        );
    }
}
