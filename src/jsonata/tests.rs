use serde_json::{json, Value};

use super::*;

fn run(expr: &str, input: Value) -> Result<Option<Value>, Error> {
    let mut n = 0u64;
    let mut entropy = || {
        n += 1;
        n
    };
    evaluate(&compile(expr)?, &input, &[], &mut entropy)
}

fn ok(expr: &str, input: Value) -> Value {
    run(expr, input)
        .unwrap()
        .unwrap_or(Value::String("<undefined>".into()))
}

#[test]
fn paths_map_over_arrays_and_one_result_is_that_result() {
    let input = json!({"a": [{"b": 1}, {"b": [2, 3]}, {"c": 4}], "x": {"y": "z"}});
    assert_eq!(ok("a.b", input.clone()), json!([1, 2, 3]));
    assert_eq!(ok("x.y", input.clone()), json!("z"));
    assert_eq!(ok("a[0].b", input.clone()), json!(1));
    assert_eq!(ok("a[-1].c", input.clone()), json!(4));
    assert_eq!(ok("a[b = 1].b", input.clone()), json!(1));
    assert_eq!(ok("a[$exists(c)].c", input.clone()), json!(4));
    assert_eq!(ok("nothing", input.clone()), json!("<undefined>"));
    assert_eq!(ok("a.c[]", input.clone()), json!([4]));
    assert_eq!(ok("$count(a)", input), json!(3));
}

#[test]
fn operators_follow_jsonata_precedence_and_types() {
    assert_eq!(ok("1 + 2 * 3", json!({})), json!(7));
    assert_eq!(ok("(1 + 2) * 3", json!({})), json!(9));
    assert_eq!(ok("7 % 3 & 'x'", json!({})), json!("1x"));
    assert_eq!(ok("$sum([1,2,3]) + 1", json!({})), json!(7));
    assert_eq!(ok("0.1", json!({})), json!(0.1));
    assert_eq!(ok("a = 1 and b != 2", json!({"a": 1, "b": 3})), json!(true));
    assert_eq!(ok("'b' in ['a','b']", json!({})), json!(true));
    assert_eq!(ok("a > 1 ? 'big' : 'small'", json!({"a": 5})), json!("big"));
    assert_eq!(ok("[1..4]", json!({})), json!([1, 2, 3, 4]));
    let e = run("'a' + 1", json!({})).unwrap_err();
    assert_eq!(e.code, "T2001");
}

#[test]
fn constructors_keep_their_key_order_and_skip_undefined() {
    assert_eq!(
        ok("{'z': 1, 'a': x, 'm': nothing}", json!({"x": [1]})),
        json!({"z": 1, "a": [1]})
    );
    let v = ok("{'z': 1, 'a': 2}", json!({}));
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["z", "a"]
    );
}

#[test]
fn functions_lambdas_and_bindings() {
    assert_eq!(
        ok("$map([1,2,3], function($v){ $v * 2 })", json!({})),
        json!([2, 4, 6])
    );
    assert_eq!(
        ok("$filter([1,2,3], function($v){ $v > 1 })", json!({})),
        json!([2, 3])
    );
    assert_eq!(
        ok("$reduce([1,2,3], function($a, $b){ $a + $b })", json!({})),
        json!(6)
    );
    assert_eq!(ok("($x := 3; $x * $x)", json!({})), json!(9));
    assert_eq!(ok("'hello' ~> $uppercase()", json!({})), json!("HELLO"));
    assert_eq!(
        ok("$string({'a': 0.1 + 0.2})", json!({})),
        json!("{\"a\":0.3}")
    );
    assert_eq!(ok("$join(['a','b'], '-')", json!({})), json!("a-b"));
    assert_eq!(ok("$split('a,b', ',')", json!({})), json!(["a", "b"]));
    assert_eq!(ok("$contains('abc', /B/i)", json!({})), json!(true));
    assert_eq!(
        ok("$merge([{'a':1},{'b':2}])", json!({})),
        json!({"a": 1, "b": 2})
    );
    let e = run("$nope()", json!({})).unwrap_err();
    assert_eq!(e.to_string(), "T1006: Attempted to invoke a non-function");
}

#[test]
fn aws_functions_follow_the_recorded_answers() {
    assert_eq!(ok("$range(1, 9, 9)", json!({})), json!(1));
    assert_eq!(ok("$range(0, 10, 5)", json!({})), json!([0, 5, 10]));
    assert_eq!(ok("$partition([0], 4)", json!({})), json!([[0]]));
    assert_eq!(
        ok("$partition([1,2,3], 2)", json!({})),
        json!([[1, 2], [3]])
    );
    assert_eq!(ok("$parse('-0')", json!({})), json!(0));
    assert_eq!(ok("$parse('[1, 2, \"x\"]')", json!({})), json!([1, 2, "x"]));
    assert_eq!(
        ok("$hash('abc', 'SHA-256')", json!({})),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(ok("$type($uuid())", json!({})), json!("string"));
    assert_eq!(
        run("$randomSeeded(1)", json!({})).unwrap_err().code,
        "T1006"
    );
}

#[test]
fn runaway_expressions_stop_within_their_budget() {
    let e = run("($f := function($n){ $f($n + 1) }; $f(0))", json!({})).unwrap_err();
    assert_eq!(e.code, "U1001");
    let e = run("$count([1..9999999])", json!({})).unwrap_err();
    assert_eq!(e.code, "D1001");
    let deep = format!("{}1{}", "(".repeat(300), ")".repeat(300));
    assert!(run(&deep, json!({})).is_err());
}

/// Equal as AWS would print them: the same keys in the same order, numbers by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k, v), (l, w))| k == l && same(v, w))
        }
        _ => a == b,
    }
}

/// The differential corpus (tests/jsonata): every case evaluated here must give what the
/// reference package gave (expected.json, kept current by `reference.js --check`), except
/// the cases disagreements.json lists with the reason.
#[test]
fn the_corpus_agrees_with_the_reference_implementation() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jsonata");
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap()
    };
    let corpus = read("corpus.json");
    let expected = read("expected.json");
    let known = read("disagreements.json");
    let known = known.as_object().unwrap();
    let bindings: Vec<(&str, Value)> = corpus["bindings"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let mut agree = 0;
    let mut unexplained = Vec::new();
    let cases = expected.as_array().unwrap();
    for case in cases {
        let expr = case["expr"].as_str().unwrap();
        let input = &corpus["inputs"][case["input"].as_str().unwrap()];
        let mut n = 0u64;
        let mut entropy = || {
            n += 1;
            n
        };
        let got = compile(expr).and_then(|c| evaluate(&c, input, &bindings, &mut entropy));
        let ok = match (&got, case.get("result"), case.get("error")) {
            (Ok(Some(v)), Some(want), _) => same(v, want),
            (Ok(None), None, None) => case["undefined"] == true,
            (Err(e), None, Some(code)) => code == e.code,
            _ => false,
        };
        let key = format!("{} @ {}", expr, case["input"].as_str().unwrap());
        match (ok, known.contains_key(&key)) {
            (true, false) => agree += 1,
            (true, true) => unexplained.push(format!("{key}: listed as a disagreement but agrees")),
            (false, true) => {}
            (false, false) => unexplained.push(format!("{key}: got {got:?}, reference {case}")),
        }
    }
    println!(
        "jsonata differential corpus: {agree} of {} cases agree with jsonata 2.0.6, {} listed disagreements",
        cases.len(),
        known.len()
    );
    assert!(unexplained.is_empty(), "{}", unexplained.join("\n"));
}
