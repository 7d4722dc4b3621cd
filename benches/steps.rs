//! What the interpreter's pure step costs, without HTTP or SQL: `cargo bench --bench steps`.
//! A three-Pass workflow in JSONata against its JSONPath twin (issue 16's goal: within 1.5×).

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use sfnlite::asl::{self, Flavor};
use sfnlite::engine::intrinsics::Entropy;
use sfnlite::engine::runner::transitions;
use sfnlite::engine::step::{self, Env, ExecutionInfo};

struct Counter(u64);

impl Entropy for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

fn run(definition: &asl::Definition, info: &ExecutionInfo) {
    let mut entropy = Counter(0);
    let mut env = Env::new(info, 1_764_600_000_000, &mut entropy);
    let (events, next) = transitions(definition, step::start(), &mut env);
    assert!(matches!(next, step::Next::Succeeded(_)), "{next:?}");
    std::hint::black_box(events);
}

fn benches(c: &mut Criterion) {
    let jsonpath = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Pass", "Next": "C"},
        "C": {"Type": "Pass", "End": true}}});
    let jsonata = json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Output": "{% $merge([$states.input, {'a': {'n': 1}}]) %}", "Next": "B"},
        "B": {"Type": "Pass", "Next": "C"},
        "C": {"Type": "Pass", "End": true}}});
    let info = ExecutionInfo {
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:m:run".into(),
        name: "run".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m".into(),
        state_machine_name: "m".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        input: json!({"x": 1, "items": [1, 2, 3]}),
        start_ms: 1_764_600_000_000,
        redrive_count: Some(0),
        redrive_ms: None,
        context: None,
    };
    for (name, def) in [("JSONPath", jsonpath), ("JSONata", jsonata)] {
        let d = asl::parse(&def.to_string(), Flavor::default()).unwrap();
        c.bench_function(&format!("3 Pass states in {name}, start to end"), |b| {
            b.iter(|| run(&d, &info))
        });
    }
}

criterion_group!(all, benches);
criterion_main!(all);
