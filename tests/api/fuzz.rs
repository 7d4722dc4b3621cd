//! Structure-aware fuzzing of every operation through the real router (no sockets, so
//! 100,000 cases fit in CI): valid request shapes with hostile values, plus raw-byte
//! mutation of bodies and headers. Properties: no panic, no 5xx, bounded memory, and the
//! stored state unchanged by every rejected request. `SFNLITE_FUZZ_CASES` and
//! `SFNLITE_FUZZ_SEED` tune it; the seed is printed for replay.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use http::Request;
use serde_json::{json, Value};
use sfnlite::api::Limits;
use sfnlite::http::router;
use sfnlite::store::{Store, StoreOptions, Synchronous};
use tower::ServiceExt;

use crate::helpers::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const OPERATIONS: &[&str] = &[
    "CreateStateMachine",
    "DescribeStateMachine",
    "UpdateStateMachine",
    "DeleteStateMachine",
    "ListStateMachines",
    "ValidateStateMachineDefinition",
    "PublishStateMachineVersion",
    "ListStateMachineVersions",
    "DeleteStateMachineVersion",
    "CreateStateMachineAlias",
    "DescribeStateMachineAlias",
    "UpdateStateMachineAlias",
    "DeleteStateMachineAlias",
    "ListStateMachineAliases",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "StartExecution",
    "DescribeExecution",
    "ListExecutions",
    "StopExecution",
    "GetExecutionHistory",
    "DescribeStateMachineForExecution",
    "CreateActivity",
    "DescribeActivity",
    "DeleteActivity",
    "ListActivities",
    "SendTaskSuccess",
    "SendTaskFailure",
    "SendTaskHeartbeat",
    "StartSyncExecution",
    "TestState",
    "RedriveExecution",
];

const SM: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:fuzz";

/// A hostile value of any JSON type.
fn hostile(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 3 { 14 } else { 17 }) {
        0 => json!("x".repeat(*rng.pick(&[0usize, 1, 81, 257, 1025, 2001, 70_000]))),
        1 => json!(rng
            .pick(&[
                "\u{202e}rtl",
                "zero\u{200b}width",
                "emoji 🧨🚀",
                "nul\u{0}byte",
                "\u{ffff}",
                "ünïcödé",
                "a\nb\tc",
                "'; DROP TABLE versions; --",
                "%s%n",
                "../../etc/passwd"
            ])
            .to_string()),
        2 => json!(*rng.pick(&[
            i64::MAX,
            i64::MIN,
            -1,
            0,
            1,
            100,
            101,
            1000,
            1001,
            4_294_967_296
        ])),
        3 => json!(*rng.pick(&[1.5f64, -0.0, 1e308, f64::MIN_POSITIVE])),
        4 => json!(null),
        5 => json!(rng.below(2) == 0),
        6 => json!(*rng.pick(&[
            "",
            "INITIAL",
            "STANDARD",
            "EXPRESS",
            "OFF",
            "ALL",
            "METADATA_ONLY",
            "CUSTOMER_MANAGED_KMS_KEY",
            "FOO"
        ])),
        7..=13 => json!(arn(rng)),
        _ => {
            if rng.below(2) == 0 {
                Value::Array((0..rng.below(4)).map(|_| hostile(rng, depth + 1)).collect())
            } else {
                let mut m = serde_json::Map::new();
                for _ in 0..rng.below(4) {
                    m.insert(
                        rng.pick(&[
                            "key",
                            "value",
                            "weight",
                            "stateMachineVersionArn",
                            "level",
                            "type",
                            "enabled",
                            "x",
                        ])
                        .to_string(),
                        hostile(rng, depth + 1),
                    );
                }
                Value::Object(m)
            }
        }
    }
}

/// ARNs of every shape: machine, version, alias, other services, malformed.
fn arn(rng: &mut Rng) -> String {
    let n = rng.below(5);
    match rng.below(14) {
        0 => SM.to_owned(),
        1 => format!("{SM}:{n}"),
        2 => format!("{SM}:prod"),
        3 => format!("{SM}{n}"),
        4 => format!("arn:aws:states:eu-west-1:123456789012:stateMachine:fuzz:{n}"),
        5 => "arn:aws:states:us-east-1:999999999999:stateMachine:fuzz".into(),
        6 => "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
        7 => "arn:aws:states:us-east-1:123456789012:activity:a".into(),
        8 => format!("{SM}:{}", "9".repeat(40)),
        9 => format!("{SM}:a b"),
        10 => "arn:".into(),
        11 => "not-an-arn".into(),
        12 => format!("{SM}:1:2"),
        _ => format!(
            "arn:aws:states:us-east-1:123456789012:stateMachine:{}",
            "n".repeat(300)
        ),
    }
}

/// Execution ARNs of every shape: this machine's, another account's, express, malformed.
fn execution_arn(rng: &mut Rng) -> String {
    let n = rng.below(4);
    match rng.below(8) {
        0..=2 => format!("arn:aws:states:us-east-1:123456789012:execution:fuzz:e{n}"),
        3 => format!("arn:aws:states:us-east-1:999999999999:execution:fuzz:e{n}"),
        4 => format!("arn:aws:states:us-east-1:123456789012:express:fuzz:e{n}:1"),
        5 => format!("arn:aws:states:us-east-1:123456789012:execution:fuzz:e{n}:x"),
        6 => SM.to_owned(),
        _ => arn(rng),
    }
}

/// A valid-shaped request for `op`, some members replaced by hostile values.
fn request_body(rng: &mut Rng, op: &str) -> Value {
    let def = if rng.below(3) == 0 {
        hostile(rng, 0)
    } else {
        json!(definition(&format!("c{}", rng.below(4))))
    };
    let routing =
        json!([{"stateMachineVersionArn": format!("{SM}:{}", 1 + rng.below(3)), "weight": 100}]);
    let mut body = match op {
        "CreateStateMachine" => {
            json!({"name": "fuzz", "definition": def, "roleArn": ROLE, "publish": rng.below(2) == 0})
        }
        "UpdateStateMachine" => {
            json!({"stateMachineArn": SM, "definition": def, "publish": rng.below(2) == 0})
        }
        "PublishStateMachineVersion" => json!({"stateMachineArn": SM, "description": "d"}),
        "CreateStateMachineAlias" => json!({"name": "prod", "routingConfiguration": routing}),
        "UpdateStateMachineAlias" => {
            json!({"stateMachineAliasArn": format!("{SM}:prod"), "routingConfiguration": routing})
        }
        "DescribeStateMachineAlias" | "DeleteStateMachineAlias" => {
            json!({"stateMachineAliasArn": format!("{SM}:prod")})
        }
        "DeleteStateMachineVersion" => {
            json!({"stateMachineVersionArn": format!("{SM}:{}", rng.below(4))})
        }
        "TagResource" => json!({"resourceArn": SM, "tags": [{"key": "k", "value": "v"}]}),
        "UntagResource" => json!({"resourceArn": SM, "tagKeys": ["k"]}),
        "ListTagsForResource" => json!({"resourceArn": SM}),
        "ValidateStateMachineDefinition" => json!({"definition": def}),
        "ListStateMachines" | "ListActivities" => json!({"maxResults": 2}),
        "CreateActivity" => json!({"name": format!("a{}", rng.below(4)),
            "tags": [{"key": "k", "value": "v"}]}),
        "SendTaskSuccess" => {
            json!({"taskToken": format!("t{}", rng.below(4)), "output": hostile(rng, 0)})
        }
        "SendTaskFailure" => {
            json!({"taskToken": format!("t{}", rng.below(4)), "error": "E", "cause": "C"})
        }
        "SendTaskHeartbeat" => json!({"taskToken": format!("t{}", rng.below(4))}),
        "RedriveExecution" => {
            json!({"executionArn": execution_arn(rng), "clientToken": hostile(rng, 0)})
        }
        "StartSyncExecution" => json!({"stateMachineArn": arn(rng), "input": hostile(rng, 0),
            "includedData": rng.pick(&["ALL_DATA", "METADATA_ONLY", "x"])}),
        "TestState" => {
            // A whole machine, one of its states, or a hostile value, with hostile extras.
            let definition = match rng.below(3) {
                0 => def.clone(),
                1 => serde_json::from_str::<Value>(def.as_str().unwrap_or("{}"))
                    .ok()
                    .and_then(|d| {
                        d["States"]
                            .as_object()
                            .and_then(|m| m.values().next().cloned())
                    })
                    .map_or(json!("{}"), |s| json!(s.to_string())),
                _ => hostile(rng, 0),
            };
            json!({"definition": definition, "input": hostile(rng, 0),
                   "inspectionLevel": rng.pick(&["INFO", "DEBUG", "TRACE", "x"]),
                   "roleArn": "arn:aws:iam::123456789012:role/r",
                   "variables": hostile(rng, 0), "mock": hostile(rng, 1)})
        }
        "DescribeActivity" | "DeleteActivity" => json!({"activityArn":
            format!("arn:aws:states:us-east-1:123456789012:activity:a{}", rng.below(4))}),
        "StartExecution" => {
            let input = if rng.below(3) == 0 {
                hostile(rng, 0)
            } else {
                json!(json!({"n": rng.below(5)}).to_string())
            };
            json!({"stateMachineArn": arn(rng), "name": format!("e{}", rng.below(4)), "input": input})
        }
        "DescribeExecution" | "DescribeStateMachineForExecution" => {
            json!({"executionArn": execution_arn(rng)})
        }
        "StopExecution" => {
            json!({"executionArn": execution_arn(rng), "error": "E", "cause": "C"})
        }
        "GetExecutionHistory" => json!({"executionArn": execution_arn(rng), "maxResults": 2,
            "reverseOrder": rng.below(2) == 0, "includeExecutionData": rng.below(2) == 0}),
        "ListExecutions" => json!({"stateMachineArn": arn(rng), "maxResults": 2,
            "statusFilter": *rng.pick(&["RUNNING", "ABORTED", "SUCCEEDED", "PENDING_REDRIVE", "running"])}),
        _ => json!({"stateMachineArn": SM}),
    };
    let members = [
        "name",
        "definition",
        "roleArn",
        "type",
        "publish",
        "versionDescription",
        "stateMachineArn",
        "revisionId",
        "description",
        "maxResults",
        "nextToken",
        "routingConfiguration",
        "stateMachineAliasArn",
        "stateMachineVersionArn",
        "resourceArn",
        "tags",
        "tagKeys",
        "loggingConfiguration",
        "tracingConfiguration",
        "encryptionConfiguration",
        "includedData",
        "severity",
        "executionArn",
        "input",
        "statusFilter",
        "redriveFilter",
        "mapRunArn",
        "activityArn",
        "taskToken",
        "output",
        "workerName",
        "reverseOrder",
        "includeExecutionData",
        "error",
        "cause",
        "traceHeader",
    ];
    for _ in 0..rng.below(4) {
        body[*rng.pick(&members)] = hostile(rng, 0);
    }
    body
}

/// Raw-byte mutations: flips, insertions, deletions, truncation.
fn mutate_bytes(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..1 + rng.below(4) {
        let len = bytes.len().max(1);
        match rng.below(4) {
            0 if !bytes.is_empty() => {
                let i = rng.below(len);
                bytes[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len);
                bytes.insert(i.min(bytes.len()), *rng.pick(b"{}[]\",:\\\x00\xff0e-"));
            }
            2 if !bytes.is_empty() => {
                let i = rng.below(len);
                bytes.remove(i.min(bytes.len() - 1));
            }
            _ => bytes.truncate(rng.below(len)),
        }
    }
    bytes
}

/// A fingerprint of everything stored, to prove rejected requests change nothing.
fn fingerprint(c: &rusqlite::Connection) -> String {
    c.query_row(
        "SELECT (SELECT count(*) || ':' || total(last_version) FROM state_machines) || '|' ||
                (SELECT count(*) || ':' || total(id) FROM revisions) || '|' ||
                (SELECT count(*) || ':' || total(id) || ':' || coalesce(group_concat(description), '') FROM versions) || '|' ||
                (SELECT count(*) || ':' || total(updated_ms) || ':' || coalesce(group_concat(description), '') FROM aliases) || '|' ||
                (SELECT count(*) || ':' || total(version_id * 1000 + weight) FROM alias_routes) || '|' ||
                (SELECT count(*) || ':' || coalesce(group_concat(key || '=' || value), '') FROM tags) || '|' ||
                (SELECT count(*) || ':' || coalesce(group_concat(status), '') FROM executions) || '|' ||
                (SELECT total(last_event - first_event + 1) FROM history_chunks) || '|' ||
                (SELECT count(*) || ':' || coalesce(group_concat(name), '') FROM activities) || '|' ||
                (SELECT count(*) FROM activity_tags)",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_never_panic_never_5xx_and_change_nothing_when_rejected() {
    let cases: usize = std::env::var("SFNLITE_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let seed: u64 = std::env::var("SFNLITE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("fuzz: {cases} cases, seed {seed}");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fuzz.db");
    // Durability is not under test here; OFF keeps accepted writes cheap.
    let options = StoreOptions {
        synchronous: Synchronous::Off,
        ..StoreOptions::default()
    };
    let store = Store::open(&db, &options).unwrap();
    let mut config = sfnlite::Config::for_tests(std::path::Path::new("unused"));
    config.version_quota = 5;
    config.max_body_bytes = 256 * 1024;
    let mut state = sfnlite::app::app_state(store, &config).unwrap();
    state.limits = Arc::new(Limits {
        version_quota: 5,
        alias_quota: 3,
        time_scale: 1.0,
    });
    let app = router(state);
    let reader = rusqlite::Connection::open(&db).unwrap();
    let mut rng = Rng(seed | 1);
    let mut before = fingerprint(&reader);
    let rss_start = rss_kib();
    let started = Instant::now();
    let (mut accepted, mut rejected) = (0u64, 0u64);
    for case in 0..cases {
        let op = if rng.below(20) == 0 {
            "NoSuchOperation"
        } else {
            *rng.pick(OPERATIONS)
        };
        let mut body = serde_json::to_vec(&request_body(&mut rng, op)).unwrap();
        if rng.below(4) == 0 {
            body = mutate_bytes(&mut rng, body);
        }
        let mut req = Request::post("/");
        match rng.below(12) {
            0 => {}
            1 => req = req.header("x-amz-target", format!(" AWSStepFunctions.{op} ")),
            2 => req = req.header("x-amz-target", format!("awsstepfunctions.{op}")),
            _ => req = req.header("x-amz-target", format!("AWSStepFunctions.{op}")),
        }
        if rng.below(8) == 0 {
            let auth: &&str = rng.pick(&[
                "AWS4-HMAC-SHA256 Credential=/////",
                "Basic xyz",
                "AWS4-HMAC-SHA256 Credential=999999999999/20260101/../states/aws4_request",
                "AWS4-HMAC-SHA256 Credential=123456789012/20260101/cn-north-1/states/aws4_request",
            ]);
            req = req.header("authorization", *auth);
        }
        if rng.below(8) == 0 {
            req = req.header("content-type", "text/html; charset=utf-7");
        }
        let req = req
            .body(Body::from(body))
            .expect("every generated header is a valid header value");
        let resp = app
            .clone()
            .oneshot(req)
            .await
            .expect("router is infallible");
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(
            status < 500,
            "case {case} ({op}) answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
        let parsed: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("case {case}: body is not JSON"));
        if status == 200 {
            accepted += 1;
            before = fingerprint(&reader);
        } else {
            rejected += 1;
            assert!(
                parsed["__type"].is_string() && parsed["message"].is_string(),
                "case {case}: {parsed}"
            );
            let after = fingerprint(&reader);
            assert_eq!(
                before, after,
                "case {case} ({op}) was rejected ({parsed}) but changed the state"
            );
        }
    }
    let grown_mib = rss_kib().saturating_sub(rss_start) / 1024;
    println!(
        "fuzz: {cases} cases in {:.1} s ({accepted} accepted, {rejected} rejected), RSS grew {grown_mib} MiB",
        started.elapsed().as_secs_f64()
    );
    assert!(grown_mib < 256, "memory grew by {grown_mib} MiB");
}

/// Replaces, drops or wraps random nodes of a definition: the shapes a hand-edited or
/// generated definition goes wrong in.
fn mutate_definition(rng: &mut Rng, v: &mut Value, depth: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let key = rng.pick(&keys).clone();
            match rng.below(6) {
                0 => {
                    m.shift_remove(&key);
                }
                1 => {
                    m.insert(key, hostile(rng, 0));
                }
                2 => {
                    let field = rng.pick(&[
                        "Next",
                        "End",
                        "Type",
                        "Resource",
                        "Choices",
                        "Branches",
                        "Retry",
                        "Catch",
                        "Parameters",
                        "ResultPath",
                        "QueryLanguage",
                        "Label",
                        "Credentials",
                        "Timestamp",
                        "Seconds",
                        "ItemProcessor",
                        "x.$",
                    ]);
                    m.insert((*field).to_owned(), hostile(rng, 0));
                }
                3 => {
                    if let Some(inner) = m.get(&key).cloned() {
                        m.insert(format!("{key}2"), inner);
                    }
                }
                _ => {
                    if let Some(child) = m.get_mut(&key) {
                        if depth < 12 {
                            mutate_definition(rng, child, depth + 1);
                        }
                    }
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = rng.below(items.len());
            match rng.below(3) {
                0 => {
                    items.remove(i);
                }
                1 => items[i] = hostile(rng, 0),
                _ => mutate_definition(rng, &mut items[i], depth + 1),
            }
        }
        Value::String(s) => {
            *s = rng
                .pick(&[
                    "$.a[",
                    "States.Format('{}', $.x)",
                    "States.Nope()",
                    "2016-03-14 01:59:00Z",
                    "{% $states.input %}",
                    "arn:aws:states:::dynamodb:query",
                    "",
                    "$$.Execution.Id",
                ])
                .to_string();
        }
        other => *other = hostile(rng, 0),
    }
}

/// Definitions mutated from the corpus through the validator itself: never a panic, every
/// answer quick, and `parse` and `check` always agree. `SFNLITE_FUZZ_DEFINITIONS` sets the
/// count.
#[test]
fn mutated_definitions_never_panic_and_are_judged_quickly() {
    let cases: usize = std::env::var("SFNLITE_FUZZ_DEFINITIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("definition fuzz: {cases} cases, seed {seed}");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asl");
    let mut corpus = Vec::new();
    for kind in ["valid", "invalid"] {
        for entry in std::fs::read_dir(root.join(kind)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                corpus.push(v);
            }
        }
    }
    let mut rng = Rng(seed | 1);
    let started = Instant::now();
    let (mut valid, mut slowest) = (0usize, std::time::Duration::ZERO);
    for _ in 0..cases {
        let mut def = rng.pick(&corpus).clone();
        for _ in 0..=rng.below(3) {
            mutate_definition(&mut rng, &mut def, 0);
        }
        let mut text = def.to_string();
        if rng.below(5) == 0 {
            let bytes = mutate_bytes(&mut rng, text.into_bytes());
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        let t = Instant::now();
        let flavor = sfnlite::asl::Flavor::default();
        let parsed = sfnlite::asl::parse(&text, flavor);
        let errors = sfnlite::asl::check(&text, flavor)
            .into_iter()
            .filter(|d| d.severity == sfnlite::asl::Severity::Error)
            .count();
        slowest = slowest.max(t.elapsed());
        assert_eq!(parsed.is_ok(), errors == 0, "{text}");
        valid += usize::from(parsed.is_ok());
    }
    println!(
        "definition fuzz: {cases} cases in {:.1} s ({valid} valid), slowest {:?}",
        started.elapsed().as_secs_f64(),
        slowest
    );
    // 100 ms in release; the suite runs unoptimised.
    assert!(
        slowest < std::time::Duration::from_millis(500),
        "{slowest:?}"
    );
}
