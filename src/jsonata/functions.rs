//! JSONata's built-in functions and the ones AWS adds (`$partition`, `$range`, `$hash`,
//! `$random`, `$uuid`, `$parse`; asl-semantics.md §8.3).

use base64::Engine as _;
use serde_json::{Map, Value};

use super::eval::{deep_equal, err, items, number, truthy, Eval, V};
use super::Error;

const NAMES: &[&str] = &[
    "string",
    "length",
    "substring",
    "substringBefore",
    "substringAfter",
    "uppercase",
    "lowercase",
    "trim",
    "contains",
    "split",
    "join",
    "replace",
    "base64encode",
    "base64decode",
    "number",
    "abs",
    "floor",
    "ceil",
    "round",
    "power",
    "sqrt",
    "sum",
    "max",
    "min",
    "average",
    "count",
    "boolean",
    "not",
    "exists",
    "append",
    "reverse",
    "sort",
    "distinct",
    "zip",
    "keys",
    "lookup",
    "merge",
    "each",
    "spread",
    "type",
    "sift",
    "error",
    "assert",
    "map",
    "filter",
    "reduce",
    "single",
    "partition",
    "range",
    "hash",
    "random",
    "uuid",
    "parse",
    "shuffle",
];

/// The built-in function called `name`, if there is one.
pub fn builtin(name: &str) -> Option<&'static str> {
    NAMES.iter().copied().find(|n| *n == name)
}

/// A number as JavaScript prints it, after JSONata's 15-significant-digit rounding.
fn js_number(f: f64) -> String {
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    if rounded == 0.0 {
        return "0".into();
    }
    if rounded.fract() == 0.0 && rounded.abs() < 1e21 {
        return format!("{rounded:.0}");
    }
    let exp = rounded.abs().log10().floor() as i32;
    if (-7..21).contains(&exp) {
        return format!("{rounded}");
    }
    let s = format!("{rounded:e}");
    match s.split_once('e') {
        Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
        _ => s,
    }
}

/// `$string`: strings as they are, anything else as compact JSON with numbers rounded to 15
/// significant digits.
pub fn stringify(v: &Value) -> Result<String, Error> {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Number(n) => out.push_str(&js_number(n.as_f64().unwrap_or(0.0))),
            Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            Value::Object(m) => {
                out.push('{');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(x, out);
                }
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    match v {
        Value::String(s) => Ok(s.clone()),
        other => {
            let mut out = String::new();
            write(other, &mut out);
            Ok(out)
        }
    }
}

fn json(v: V) -> Result<Value, Error> {
    v.into_json()
}

fn some(v: Value) -> Result<Option<V>, Error> {
    Ok(Some(V::Json(v)))
}

fn signature(name: &str, n: usize) -> Error {
    err(
        "T0410",
        format!("Argument {n} of function \"{name}\" does not match function signature"),
    )
}

fn arg_str(name: &str, args: &[Option<V>], i: usize) -> Result<Option<String>, Error> {
    match args.get(i) {
        None | Some(None) => Ok(None),
        Some(Some(V::Json(Value::String(s)))) => Ok(Some(s.clone())),
        _ => Err(signature(name, i + 1)),
    }
}

fn arg_num(name: &str, args: &[Option<V>], i: usize) -> Result<Option<f64>, Error> {
    match args.get(i) {
        None | Some(None) => Ok(None),
        Some(Some(V::Json(Value::Number(n)))) => Ok(n.as_f64()),
        _ => Err(signature(name, i + 1)),
    }
}

fn numbers(name: &str, v: Option<V>) -> Result<Option<Vec<f64>>, Error> {
    if v.is_none() {
        return Ok(None);
    }
    items(v)?
        .iter()
        .map(|x| x.as_f64().ok_or_else(|| signature(name, 1)))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Calls a function value on (value, index, array) as many as it takes.
fn call_each(
    ev: &mut Eval<'_>,
    f: &Option<V>,
    v: &Value,
    i: usize,
    all: &[Value],
    ctx: &Option<V>,
) -> Result<Option<V>, Error> {
    let arity = match f {
        Some(V::Func(func)) => match &**func {
            super::eval::Func::Lambda { params, .. } => params.len(),
            super::eval::Func::Builtin(_) => 1,
        },
        _ => 1,
    };
    let mut args = vec![Some(V::Json(v.clone()))];
    if arity > 1 {
        args.push(Some(V::Json(number(i as f64))));
    }
    if arity > 2 {
        args.push(Some(V::Json(Value::Array(all.to_vec()))));
    }
    ev.apply(f.clone(), args, ctx)
}

fn round_half_even(x: f64, places: i32) -> f64 {
    let m = 10f64.powi(places);
    let y = x * m;
    let r = y.round();
    let r = if (y - y.trunc()).abs() == 0.5 {
        // A tie goes to the even neighbour.
        2.0 * (y / 2.0).round()
    } else {
        r
    };
    r / m
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// Runs the built-in `name`.
pub fn call(
    ev: &mut Eval<'_>,
    name: &str,
    args: Vec<Option<V>>,
    ctx: &Option<V>,
) -> Result<Option<V>, Error> {
    let first = args.first().cloned().flatten();
    match name {
        "string" => match first {
            None => Ok(None),
            Some(V::Func(_)) => some(Value::String(String::new())),
            Some(v) => {
                let j = json(v)?;
                if let Value::Number(n) = &j {
                    if !n.as_f64().is_some_and(f64::is_finite) {
                        return Err(err(
                            "D3001",
                            "Attempting to invoke string function on Infinity or NaN",
                        ));
                    }
                }
                some(Value::String(stringify(&j)?))
            }
        },
        "length" => match arg_str(name, &args, 0)? {
            None => Ok(None),
            Some(s) => some(number(s.chars().count() as f64)),
        },
        "substring" => {
            let Some(s) = arg_str(name, &args, 0)? else {
                return Ok(None);
            };
            let c = chars(&s);
            let len = c.len() as f64;
            let mut start = arg_num(name, &args, 1)?.ok_or_else(|| signature(name, 2))?;
            if start < 0.0 {
                start = (len + start).max(0.0);
            }
            let end = match arg_num(name, &args, 2)? {
                Some(l) if l <= 0.0 => start,
                Some(l) => (start + l).min(len),
                None => len,
            };
            let (a, b) = (start.min(len) as usize, end.max(start).min(len) as usize);
            some(Value::String(c[a..b].iter().collect()))
        }
        "substringBefore" | "substringAfter" => {
            let Some(s) = arg_str(name, &args, 0)? else {
                return Ok(None);
            };
            let chars = arg_str(name, &args, 1)?.ok_or_else(|| signature(name, 2))?;
            let out = match s.find(&chars) {
                None => s.clone(),
                Some(i) if name == "substringBefore" => s[..i].to_owned(),
                Some(i) => s[i + chars.len()..].to_owned(),
            };
            some(Value::String(out))
        }
        "uppercase" | "lowercase" | "trim" => match arg_str(name, &args, 0)? {
            None => Ok(None),
            Some(s) => some(Value::String(match name {
                "uppercase" => s.to_uppercase(),
                "lowercase" => s.to_lowercase(),
                _ => s.split_whitespace().collect::<Vec<_>>().join(" "),
            })),
        },
        "contains" => {
            let Some(s) = arg_str(name, &args, 0)? else {
                return Ok(None);
            };
            let found = match args.get(1).cloned().flatten() {
                Some(V::Regex(re)) => re.is_match(&s),
                Some(V::Json(Value::String(p))) => s.contains(&p),
                _ => return Err(signature(name, 2)),
            };
            some(Value::Bool(found))
        }
        "split" => {
            let Some(s) = arg_str(name, &args, 0)? else {
                return Ok(None);
            };
            let limit = arg_num(name, &args, 2)?.map(|l| l.max(0.0) as usize);
            let mut parts: Vec<Value> = match args.get(1).cloned().flatten() {
                Some(V::Regex(re)) => re.split(&s).map(|p| Value::String(p.into())).collect(),
                Some(V::Json(Value::String(sep))) if sep.is_empty() => {
                    s.chars().map(|c| Value::String(c.to_string())).collect()
                }
                Some(V::Json(Value::String(sep))) => s
                    .split(sep.as_str())
                    .map(|p| Value::String(p.into()))
                    .collect(),
                _ => return Err(signature(name, 2)),
            };
            if let Some(l) = limit {
                parts.truncate(l);
            }
            Ok(Some(V::Cons(parts)))
        }
        "join" => {
            if first.is_none() {
                return Ok(None);
            }
            let sep = arg_str(name, &args, 1)?.unwrap_or_default();
            let parts = items(first)?
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(signature(name, 1)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            some(Value::String(parts.join(&sep)))
        }
        "replace" => {
            let Some(s) = arg_str(name, &args, 0)? else {
                return Ok(None);
            };
            let replacement = arg_str(name, &args, 2)?.ok_or_else(|| signature(name, 3))?;
            let limit = arg_num(name, &args, 3)?.map(|l| l as usize);
            let out = match args.get(1).cloned().flatten() {
                Some(V::Regex(re)) => {
                    let rep = replacement.replace("$&", "${0}");
                    match limit {
                        Some(l) => re.replacen(&s, l, rep.as_str()).into_owned(),
                        None => re.replace_all(&s, rep.as_str()).into_owned(),
                    }
                }
                Some(V::Json(Value::String(p))) if !p.is_empty() => match limit {
                    Some(l) => s.replacen(&p, &replacement, l),
                    None => s.replace(&p, &replacement),
                },
                _ => return Err(signature(name, 2)),
            };
            some(Value::String(out))
        }
        "base64encode" => match arg_str(name, &args, 0)? {
            None => Ok(None),
            Some(s) => some(Value::String(
                base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
            )),
        },
        "base64decode" => match arg_str(name, &args, 0)? {
            None => Ok(None),
            Some(s) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(s.as_bytes())
                    .map_err(|e| err("D3137", e.to_string()))?;
                some(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            }
        },
        "number" => match first {
            None => Ok(None),
            Some(V::Json(Value::Number(n))) => some(Value::Number(n)),
            Some(V::Json(Value::Bool(b))) => some(number(if b { 1.0 } else { 0.0 })),
            Some(V::Json(Value::String(s))) => {
                // As JSONata: a JSON number, or 0x / 0b / 0o integers; no spaces around.
                let t = s.as_str();
                let parsed = if t.trim() != t {
                    None
                } else if let Some(h) = t.strip_prefix("0x") {
                    i64::from_str_radix(h, 16).ok().map(|i| i as f64)
                } else if let Some(b) = t.strip_prefix("0b") {
                    i64::from_str_radix(b, 2).ok().map(|i| i as f64)
                } else if let Some(o) = t.strip_prefix("0o") {
                    i64::from_str_radix(o, 8).ok().map(|i| i as f64)
                } else {
                    serde_json::from_str::<f64>(t).ok()
                };
                match parsed {
                    Some(f) => some(number(f)),
                    None => Err(err(
                        "D3030",
                        format!("Unable to cast value to a number: {}", Value::String(s)),
                    )),
                }
            }
            Some(other) => Err(err(
                "D3030",
                format!("Unable to cast value to a number: {}", json(other)?),
            )),
        },
        "abs" | "floor" | "ceil" | "sqrt" => match arg_num(name, &args, 0)? {
            None => Ok(None),
            Some(f) => {
                if name == "sqrt" && f < 0.0 {
                    return Err(err(
                        "D3060",
                        format!(
                            "The sqrt function cannot be applied to a negative number: {}",
                            js_number(f)
                        ),
                    ));
                }
                some(number(match name {
                    "abs" => f.abs(),
                    "floor" => f.floor(),
                    "ceil" => f.ceil(),
                    _ => f.sqrt(),
                }))
            }
        },
        "round" => match arg_num(name, &args, 0)? {
            None => Ok(None),
            Some(f) => {
                let places = arg_num(name, &args, 1)?.unwrap_or(0.0) as i32;
                some(number(round_half_even(f, places)))
            }
        },
        "power" => {
            let Some(b) = arg_num(name, &args, 0)? else {
                return Ok(None);
            };
            let e = arg_num(name, &args, 1)?.ok_or_else(|| signature(name, 2))?;
            let r = b.powf(e);
            if !r.is_finite() {
                return Err(err("D3061", format!("The power function has resulted in a value that cannot be represented as a JSON number: base={}, exponent={}", js_number(b), js_number(e))));
            }
            some(number(r))
        }
        "sum" | "max" | "min" | "average" => {
            let Some(ns) = numbers(name, first)? else {
                return Ok(None);
            };
            match name {
                "sum" => some(number(ns.iter().sum())),
                _ if ns.is_empty() => Ok(None),
                "max" => some(number(ns.iter().copied().fold(f64::MIN, f64::max))),
                "min" => some(number(ns.iter().copied().fold(f64::MAX, f64::min))),
                _ => some(number(ns.iter().sum::<f64>() / ns.len() as f64)),
            }
        }
        "count" => some(number(items(first)?.len() as f64)),
        "boolean" => match first {
            None => Ok(None),
            v => some(Value::Bool(truthy(&v))),
        },
        "not" => match first {
            None => Ok(None),
            v => some(Value::Bool(!truthy(&v))),
        },
        "exists" => some(Value::Bool(first.is_some())),
        "append" => {
            let second = args.get(1).cloned().flatten();
            match (first, second) {
                (None, None) => Ok(None),
                (a, None) => Ok(a),
                (None, b) => Ok(b),
                (a, b) => {
                    let mut out = items(a)?;
                    out.extend(items(b)?);
                    Ok(Some(V::Cons(out)))
                }
            }
        }
        "reverse" => {
            if first.is_none() {
                return Ok(None);
            }
            let mut out = items(first)?;
            out.reverse();
            Ok(Some(V::Cons(out)))
        }
        "distinct" => {
            if first.is_none() {
                return Ok(None);
            }
            let mut out: Vec<Value> = Vec::new();
            for v in items(first)? {
                if !out.iter().any(|o| deep_equal(o, &v)) {
                    out.push(v);
                }
            }
            Ok(Some(V::Cons(out)))
        }
        "shuffle" => {
            if first.is_none() {
                return Ok(None);
            }
            let mut out = items(first)?;
            for i in (1..out.len()).rev() {
                let j = ((ev.entropy)() % (i as u64 + 1)) as usize;
                out.swap(i, j);
            }
            Ok(Some(V::Cons(out)))
        }
        "sort" => {
            if first.is_none() {
                return Ok(None);
            }
            let list = items(first)?;
            let f = args.get(1).cloned().flatten();
            let mut out = list;
            match f {
                None => {
                    if out.iter().all(Value::is_number) {
                        out.sort_by(|a, b| {
                            a.as_f64()
                                .partial_cmp(&b.as_f64())
                                .unwrap_or(std::cmp::Ordering::Equal)
                        });
                    } else if out.iter().all(Value::is_string) {
                        out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                    } else {
                        return Err(err("D3070", "The single argument form of the sort function can only be applied to an array of strings or an array of numbers.  Use the second argument to specify a comparison function"));
                    }
                }
                Some(f) => {
                    // Insertion sort with the comparator's "swap" answer keeps it stable.
                    let mut sorted: Vec<Value> = Vec::with_capacity(out.len());
                    for v in out {
                        let mut at = sorted.len();
                        while at > 0 {
                            let after = ev.apply(
                                Some(f.clone()),
                                vec![
                                    Some(V::Json(sorted[at - 1].clone())),
                                    Some(V::Json(v.clone())),
                                ],
                                ctx,
                            )?;
                            if truthy(&after) {
                                at -= 1;
                            } else {
                                break;
                            }
                        }
                        sorted.insert(at, v);
                    }
                    out = sorted;
                }
            }
            Ok(Some(V::Cons(out)))
        }
        "zip" => {
            let lists = args.into_iter().map(items).collect::<Result<Vec<_>, _>>()?;
            let n = lists.iter().map(Vec::len).min().unwrap_or(0);
            let out = (0..n)
                .map(|i| Value::Array(lists.iter().map(|l| l[i].clone()).collect()))
                .collect();
            Ok(Some(V::Cons(out)))
        }
        "keys" => {
            let mut out: Vec<Value> = Vec::new();
            for v in items(first)? {
                if let Value::Object(m) = v {
                    for k in m.keys() {
                        let k = Value::String(k.clone());
                        if !out.contains(&k) {
                            out.push(k);
                        }
                    }
                }
            }
            match out.len() {
                0 => Ok(None),
                1 => some(out.remove(0)),
                _ => Ok(Some(V::Cons(out))),
            }
        }
        "lookup" => {
            let key = arg_str(name, &args, 1)?.ok_or_else(|| signature(name, 2))?;
            let mut out = Vec::new();
            for v in items(first)? {
                if let Value::Object(m) = v {
                    if let Some(x) = m.get(&key) {
                        out.push(x.clone());
                    }
                }
            }
            match out.len() {
                0 => Ok(None),
                1 => some(out.remove(0)),
                _ => Ok(Some(V::Seq(out, false))),
            }
        }
        "merge" => {
            if first.is_none() {
                return Ok(None);
            }
            let mut m = Map::new();
            for v in items(first)? {
                match v {
                    Value::Object(o) => m.extend(o),
                    _ => return Err(signature(name, 1)),
                }
            }
            some(Value::Object(m))
        }
        "spread" => {
            let mut out = Vec::new();
            for v in items(first.clone())? {
                match v {
                    Value::Object(o) => {
                        for (k, x) in o {
                            let mut one = Map::new();
                            one.insert(k, x);
                            out.push(Value::Object(one));
                        }
                    }
                    other => out.push(other),
                }
            }
            Ok(Some(V::Cons(out)))
        }
        "each" | "sift" => {
            let Some(V::Json(Value::Object(m))) = first else {
                return if first.is_none() {
                    Ok(None)
                } else {
                    Err(signature(name, 1))
                };
            };
            let f = args.get(1).cloned().flatten();
            let obj = Value::Object(m.clone());
            let mut list = Vec::new();
            let mut kept = Map::new();
            for (k, v) in &m {
                let r = ev.apply(
                    f.clone(),
                    vec![
                        Some(V::Json(v.clone())),
                        Some(V::Json(Value::String(k.clone()))),
                        Some(V::Json(obj.clone())),
                    ],
                    ctx,
                )?;
                if name == "each" {
                    if let Some(r) = r {
                        list.push(json(r)?);
                    }
                } else if truthy(&r) {
                    kept.insert(k.clone(), v.clone());
                }
            }
            if name == "each" {
                Ok(Some(V::Cons(list)))
            } else if kept.is_empty() {
                Ok(None)
            } else {
                some(Value::Object(kept))
            }
        }
        "type" => Ok(first.map(|v| {
            V::Json(Value::String(
                match v {
                    V::Func(_) | V::Regex(_) => "function",
                    V::Cons(_) | V::Seq(..) => "array",
                    V::Json(Value::Null) => "null",
                    V::Json(Value::Bool(_)) => "boolean",
                    V::Json(Value::Number(_)) => "number",
                    V::Json(Value::String(_)) => "string",
                    V::Json(Value::Array(_)) => "array",
                    V::Json(Value::Object(_)) => "object",
                }
                .into(),
            ))
        })),
        "error" => Err(err(
            "D3137",
            arg_str(name, &args, 0)?.unwrap_or_else(|| "$error() function evaluated".into()),
        )),
        "assert" => {
            if truthy(&first) {
                Ok(None)
            } else {
                Err(err(
                    "D3141",
                    arg_str(name, &args, 1)?.unwrap_or_else(|| "$assert() statement failed".into()),
                ))
            }
        }
        "map" | "filter" => {
            if first.is_none() {
                return Ok(None);
            }
            let list = items(first)?;
            let f = args.get(1).cloned().flatten();
            let mut out = Vec::new();
            for (i, v) in list.iter().enumerate() {
                let r = call_each(ev, &f, v, i, &list, ctx)?;
                if name == "map" {
                    if let Some(r) = r {
                        out.push(json(r)?);
                    }
                } else if truthy(&r) {
                    out.push(v.clone());
                }
            }
            Ok(match out.len() {
                0 => None,
                1 => Some(V::Json(out.remove(0))),
                _ => Some(V::Seq(out, false)),
            })
        }
        "single" => {
            let list = items(first)?;
            let f = args.get(1).cloned().flatten();
            let mut found = Vec::new();
            for (i, v) in list.iter().enumerate() {
                let keep = match &f {
                    None => true,
                    Some(_) => truthy(&call_each(ev, &f, v, i, &list, ctx)?),
                };
                if keep {
                    found.push(v.clone());
                }
            }
            match found.len() {
                1 => some(found.remove(0)),
                0 => Err(err("D3139", "The $single() function expected exactly 1 matching result.  Instead it matched 0.")),
                _ => Err(err("D3138", "The $single() function expected exactly 1 matching result.  Instead it matched more.")),
            }
        }
        "reduce" => {
            if first.is_none() {
                return Ok(None);
            }
            let list = items(first)?;
            let f = args.get(1).cloned().flatten();
            let mut iter = list.into_iter();
            let mut acc = match args.get(2).cloned().flatten() {
                Some(init) => Some(init),
                None => iter.next().map(V::Json),
            };
            for v in iter {
                acc = ev.apply(f.clone(), vec![acc, Some(V::Json(v))], ctx)?;
            }
            Ok(acc)
        }
        "partition" => {
            let list = items(first)?;
            let size = arg_num(name, &args, 1)?.ok_or_else(|| signature(name, 2))?;
            if size < 1.0 || size.fract() != 0.0 {
                return Err(signature(name, 2));
            }
            let out = list
                .chunks(size as usize)
                .map(|c| Value::Array(c.to_vec()))
                .collect();
            Ok(Some(V::Cons(out)))
        }
        "range" => {
            let start = arg_num(name, &args, 0)?.ok_or_else(|| signature(name, 1))?;
            let end = arg_num(name, &args, 1)?.ok_or_else(|| signature(name, 2))?;
            let step = arg_num(name, &args, 2)?.unwrap_or(1.0);
            if step == 0.0 || !step.is_finite() {
                return Err(signature(name, 3));
            }
            let count = ((end - start) / step).floor() + 1.0;
            if count > 1_000_000.0 {
                return Err(err(
                    "D2014",
                    "The size of the sequence allocated by the range function must not exceed 1e6",
                ));
            }
            let mut out = Vec::new();
            let mut x = start;
            while (step > 0.0 && x <= end) || (step < 0.0 && x >= end) {
                out.push(number(x));
                x += step;
            }
            Ok(match out.len() {
                0 => None,
                1 => Some(V::Json(out.remove(0))),
                _ => Some(V::Seq(out, false)),
            })
        }
        "hash" => {
            let Some(v) = first else { return Ok(None) };
            let text = stringify(&json(v)?)?;
            let algorithm = arg_str(name, &args, 1)?.unwrap_or_else(|| "SHA-256".into());
            let digest = match algorithm.as_str() {
                "MD5" => {
                    use md5::Digest;
                    hex::encode(md5::Md5::digest(text.as_bytes()))
                }
                "SHA-1" => {
                    use sha1::Digest;
                    hex::encode(sha1::Sha1::digest(text.as_bytes()))
                }
                "SHA-256" => {
                    use sha2::Digest;
                    hex::encode(sha2::Sha256::digest(text.as_bytes()))
                }
                "SHA-384" => {
                    use sha2::Digest;
                    hex::encode(sha2::Sha384::digest(text.as_bytes()))
                }
                "SHA-512" => {
                    use sha2::Digest;
                    hex::encode(sha2::Sha512::digest(text.as_bytes()))
                }
                _ => return Err(signature(name, 2)),
            };
            some(Value::String(digest))
        }
        "random" => {
            let r = ((ev.entropy)() >> 11) as f64 / (1u64 << 53) as f64;
            some(number(r))
        }
        "uuid" => {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&(ev.entropy)().to_le_bytes());
            bytes[8..].copy_from_slice(&(ev.entropy)().to_le_bytes());
            some(Value::String(
                uuid::Builder::from_random_bytes(bytes)
                    .into_uuid()
                    .to_string(),
            ))
        }
        "parse" => match arg_str(name, &args, 0)? {
            None => Ok(None),
            Some(s) => {
                let v: Value = serde_json::from_str(&s).map_err(|e| {
                    err("D3140", format!("Unable to parse the string as JSON: {e}"))
                })?;
                // JSON text's numbers become JSONata numbers (`-0` is `0`).
                some(renumber(v))
            }
        },
        _ => Err(err("T1006", "Attempted to invoke a non-function")),
    }
}

fn renumber(v: Value) -> Value {
    match v {
        Value::Number(n) => number(n.as_f64().unwrap_or(0.0)),
        Value::Array(a) => Value::Array(a.into_iter().map(renumber).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, renumber(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_prints_them_after_rounding() {
        assert_eq!(js_number(0.1 + 0.2), "0.3");
        assert_eq!(js_number(7.0), "7");
        assert_eq!(js_number(1e21), "1e+21");
        assert_eq!(js_number(1.5e-8), "1.5e-8");
        assert_eq!(js_number(-2.25), "-2.25");
        assert_eq!(round_half_even(2.5, 0), 2.0);
        assert_eq!(round_half_even(3.5, 0), 4.0);
        assert_eq!(round_half_even(1.235, 2), 1.24);
    }
}
