//! The crash harness: runs the sfnlite binary with concurrent writers, kills it with SIGKILL
//! at random moments, restarts it on the same database and checks that every acknowledged
//! write is there exactly once with its exact snapshot, that numbering continues above every
//! number ever issued, that nothing unacknowledged is half-present, and that SQLite's
//! integrity check passes.
//!
//! `SFNLITE_CRASH_CYCLES` (default 20), `SFNLITE_CRASH_SEED` (default: from the clock,
//! printed) and `SFNLITE_BIN` (default: this build's binary; the test script passes the
//! release build) tune it.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

/// xorshift64*: a seeded generator, so a failing run can be replayed with its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `SFNLITE_CRASH_CYCLES`, `SFNLITE_CRASH_SEED` and `SFNLITE_BIN`, with their defaults.
fn settings() -> (usize, u64, String) {
    let cycles = std::env::var("SFNLITE_CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let seed = std::env::var("SFNLITE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let bin =
        std::env::var("SFNLITE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sfnlite").to_owned());
    (cycles, seed, bin)
}

struct Server {
    binary: Binary,
    url: String,
}

impl Server {
    fn start(bin: &str, db: &std::path::Path) -> Server {
        Self::start_with(bin, db, &[])
    }

    fn start_with(bin: &str, db: &std::path::Path, extra: &[&str]) -> Server {
        let mut cmd = Command::new(bin);
        cmd.args(extra);
        cmd.args([
            "--listen",
            "127.0.0.1:0",
            "--version-quota",
            "1000000",
            "--log",
            "warn",
            "--db",
        ])
        .arg(db);
        let mut binary = Binary::start(cmd);
        binary.drain_stderr();
        let url = format!("http://{}/", binary.addr);
        Server { binary, url }
    }

    /// SIGKILL: `Child::kill` sends it on Unix.
    fn kill(self) {
        self.binary.kill();
    }
}

/// A version the harness knows about: its definition and revisionId.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    definition: String,
    revision_id: Option<String>,
}

/// What the harness knows for certain, plus the one write per writer that was in flight
/// when the process died (it may or may not have committed).
#[derive(Default)]
struct Model {
    /// machine ARN -> version number -> snapshot, acknowledged (or found committed later).
    versions: BTreeMap<String, BTreeMap<i64, Snapshot>>,
    /// machine ARN -> definition of a publish that was in flight at the kill.
    uncertain_version: BTreeMap<String, String>,
    /// Highest number ever seen per machine: every new version must be above it.
    high_water: BTreeMap<String, i64>,
    /// alias name -> routed version number (None once deleted).
    aliases: BTreeMap<String, Option<i64>>,
    /// alias name -> state an in-flight alias write would have left.
    uncertain_alias: BTreeMap<String, Option<i64>>,
    /// machine ARN -> highest number whose snapshot was read back after a restart.
    verified_upto: BTreeMap<String, i64>,
    acknowledged: u64,
    checked: u64,
}

async fn call(http: &reqwest::Client, url: &str, op: &str, body: Value) -> Option<Value> {
    let resp = http
        .post(url)
        .header("x-amz-target", format!("AWSStepFunctions.{op}"))
        .body(body.to_string())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.ok()?;
    assert!(status == 200, "{op} answered {status}: {body}");
    Some(body)
}

fn number_of(version_arn: &str) -> i64 {
    version_arn.rsplit(':').next().unwrap().parse().unwrap()
}

/// Update with publish=true until the process dies.
async fn update_publish_writer(
    http: reqwest::Client,
    url: String,
    arn: String,
    cycle: usize,
    model: Arc<Mutex<Model>>,
) {
    for k in 0.. {
        let def = definition(&format!("up-{cycle}-{k}"));
        model
            .lock()
            .unwrap()
            .uncertain_version
            .insert(arn.clone(), def.clone());
        let body = json!({"stateMachineArn": arn, "definition": def, "publish": true});
        let Some(r) = call(&http, &url, "UpdateStateMachine", body).await else {
            return;
        };
        let n = number_of(r["stateMachineVersionArn"].as_str().unwrap());
        let rev = r["revisionId"].as_str().map(str::to_owned);
        record(
            &model,
            &arn,
            n,
            Snapshot {
                definition: def,
                revision_id: rev,
            },
        );
    }
}

/// Update (no publish), then PublishStateMachineVersion, until the process dies.
async fn publish_writer(
    http: reqwest::Client,
    url: String,
    arn: String,
    cycle: usize,
    model: Arc<Mutex<Model>>,
) {
    for k in 0.. {
        let def = definition(&format!("pub-{cycle}-{k}"));
        let Some(u) = call(
            &http,
            &url,
            "UpdateStateMachine",
            json!({"stateMachineArn": arn, "definition": def}),
        )
        .await
        else {
            return;
        };
        model
            .lock()
            .unwrap()
            .uncertain_version
            .insert(arn.clone(), def.clone());
        let Some(r) = call(
            &http,
            &url,
            "PublishStateMachineVersion",
            json!({"stateMachineArn": arn}),
        )
        .await
        else {
            return;
        };
        let n = number_of(r["stateMachineVersionArn"].as_str().unwrap());
        let rev = u["revisionId"].as_str().map(str::to_owned);
        record(
            &model,
            &arn,
            n,
            Snapshot {
                definition: def,
                revision_id: rev,
            },
        );
    }
}

fn record(model: &Mutex<Model>, arn: &str, n: i64, snap: Snapshot) {
    let mut m = model.lock().unwrap();
    let high = m.high_water.get(arn).copied().unwrap_or(0);
    assert!(
        n > high,
        "version {n} of {arn} is not above the highest number seen ({high})"
    );
    m.high_water.insert(arn.to_owned(), n);
    m.versions
        .entry(arn.to_owned())
        .or_default()
        .insert(n, snap);
    m.uncertain_version.remove(arn);
    m.acknowledged += 1;
}

/// Creates, re-points and deletes aliases of `arn` among its acknowledged versions.
async fn alias_writer(
    http: reqwest::Client,
    url: String,
    arn: String,
    seed: u64,
    model: Arc<Mutex<Model>>,
) {
    let mut rng = Rng(seed | 1);
    loop {
        let choice = {
            let m = model.lock().unwrap();
            let versions: Vec<i64> = m
                .versions
                .get(&arn)
                .map(|v| v.keys().copied().collect())
                .unwrap_or_default();
            (!versions.is_empty()).then(|| {
                let name = format!("alias-{}", rng.below(6));
                let existing = m.aliases.get(&name).copied().flatten();
                // Delete about a third of the time when it exists; else route to a random version.
                let target = if existing.is_some() && rng.below(3) == 0 {
                    None
                } else {
                    Some(versions[rng.below(versions.len() as u64) as usize])
                };
                (name, target)
            })
        };
        let Some((name, target)) = choice else {
            tokio::time::sleep(Duration::from_millis(2)).await;
            continue;
        };
        let existing = model.lock().unwrap().aliases.get(&name).copied().flatten();
        model
            .lock()
            .unwrap()
            .uncertain_alias
            .insert(name.clone(), target);
        let alias_arn = format!("{arn}:{name}");
        let done = match (existing, target) {
            (_, None) => {
                call(
                    &http,
                    &url,
                    "DeleteStateMachineAlias",
                    json!({"stateMachineAliasArn": alias_arn}),
                )
                .await
            }
            (None, Some(n)) => {
                let routing =
                    json!([{"stateMachineVersionArn": format!("{arn}:{n}"), "weight": 100}]);
                call(
                    &http,
                    &url,
                    "CreateStateMachineAlias",
                    json!({"name": name, "routingConfiguration": routing}),
                )
                .await
            }
            (Some(_), Some(n)) => {
                let routing =
                    json!([{"stateMachineVersionArn": format!("{arn}:{n}"), "weight": 100}]);
                call(
                    &http,
                    &url,
                    "UpdateStateMachineAlias",
                    json!({"stateMachineAliasArn": alias_arn, "routingConfiguration": routing}),
                )
                .await
            }
        };
        if done.is_none() {
            return;
        }
        let mut m = model.lock().unwrap();
        m.aliases.insert(name.clone(), target);
        m.uncertain_alias.remove(&name);
        m.acknowledged += 1;
    }
}

/// Checks the restarted server against the model, then folds in whatever in-flight writes
/// turned out to have committed.
async fn verify(http: &reqwest::Client, url: &str, model: &Mutex<Model>, alias_machine: &str) {
    let machines: Vec<String> = model.lock().unwrap().versions.keys().cloned().collect();
    for arn in machines {
        let mut listed = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({"stateMachineArn": arn, "maxResults": 1000});
            if let Some(t) = &token {
                body["nextToken"] = json!(t);
            }
            let page = call(http, url, "ListStateMachineVersions", body)
                .await
                .expect("server up");
            listed.extend(
                page["stateMachineVersions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| number_of(v["stateMachineVersionArn"].as_str().unwrap())),
            );
            token = page["nextToken"].as_str().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        let mut distinct = listed.clone();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            listed.len(),
            "a version is listed twice: {listed:?}"
        );
        let (known, uncertain, since) = {
            let mut m = model.lock().unwrap();
            let known = m.versions.get(&arn).cloned().unwrap_or_default();
            let uncertain = m.uncertain_version.remove(&arn);
            // Snapshots acknowledged since the last check are all read back; older ones
            // (already read back once) by a sample, so long runs stay linear.
            let since = m.verified_upto.get(&arn).copied().unwrap_or(0);
            (known, uncertain, since)
        };
        for n in known.keys() {
            assert!(
                listed.contains(n),
                "acknowledged version {arn}:{n} is missing"
            );
        }
        let extra: Vec<i64> = listed
            .iter()
            .copied()
            .filter(|n| !known.contains_key(n))
            .collect();
        assert!(
            extra.len() <= 1,
            "more than the one in-flight version appeared: {extra:?}"
        );
        for n in extra {
            let def = uncertain
                .clone()
                .unwrap_or_else(|| panic!("unacknowledged version {arn}:{n} exists"));
            let d = call(
                http,
                url,
                "DescribeStateMachine",
                json!({"stateMachineArn": format!("{arn}:{n}")}),
            )
            .await
            .unwrap();
            assert_eq!(
                d["definition"], def,
                "an in-flight version committed with the wrong snapshot"
            );
            let rev = d["revisionId"].as_str().map(str::to_owned);
            let mut m = model.lock().unwrap();
            let high = m.high_water.get(&arn).copied().unwrap_or(0);
            assert!(n > high, "in-flight version {n} reused a number");
            m.high_water.insert(arn.clone(), n);
            m.versions.entry(arn.clone()).or_default().insert(
                n,
                Snapshot {
                    definition: def,
                    revision_id: rev,
                },
            );
        }
        let newest = known.keys().max().copied().unwrap_or(0);
        model
            .lock()
            .unwrap()
            .verified_upto
            .insert(arn.clone(), newest);
        let older: Vec<i64> = known.keys().copied().filter(|n| *n <= since).collect();
        let sample: Vec<i64> = (0..older.len().min(25))
            .map(|i| older[(i * 7919 + since as usize) % older.len()])
            .collect();
        for (n, snap) in known
            .into_iter()
            .filter(|(n, _)| *n > since || sample.contains(n))
        {
            let d = call(
                http,
                url,
                "DescribeStateMachine",
                json!({"stateMachineArn": format!("{arn}:{n}")}),
            )
            .await
            .unwrap();
            assert_eq!(
                d["definition"], snap.definition,
                "{arn}:{n} snapshot changed"
            );
            assert_eq!(
                d["revisionId"].as_str().map(str::to_owned),
                snap.revision_id,
                "{arn}:{n} revision changed"
            );
            model.lock().unwrap().checked += 1;
        }
    }

    let names: Vec<String> = {
        let m = model.lock().unwrap();
        m.aliases
            .keys()
            .chain(m.uncertain_alias.keys())
            .cloned()
            .collect()
    };
    for name in names {
        let resp = http
            .post(url)
            .header("x-amz-target", "AWSStepFunctions.DescribeStateMachineAlias")
            .body(json!({"stateMachineAliasArn": format!("{alias_machine}:{name}")}).to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        let actual = match status {
            200 => {
                let routes = body["routingConfiguration"].as_array().unwrap();
                assert_eq!(routes.len(), 1);
                Some(number_of(
                    routes[0]["stateMachineVersionArn"].as_str().unwrap(),
                ))
            }
            400 if body["__type"] == "ResourceNotFound" => None,
            other => panic!("DescribeStateMachineAlias answered {other}: {body}"),
        };
        let mut m = model.lock().unwrap();
        let acked = m.aliases.get(&name).copied().flatten();
        let in_flight = m.uncertain_alias.remove(&name);
        assert!(
            actual == acked || in_flight == Some(actual),
            "alias {name} is {actual:?}; acknowledged {acked:?}, in flight {in_flight:?}"
        );
        m.aliases.insert(name, actual);
        m.checked += 1;
    }
}

fn integrity_check(db: &std::path::Path) {
    let c = rusqlite::Connection::open(db).unwrap();
    let r: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(r, "ok", "integrity check after SIGKILL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_at_random_moments_loses_nothing_acknowledged() {
    let (cycles, seed, bin) = settings();
    println!("crash harness: {cycles} cycles, seed {seed}, binary {bin}");
    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sfnlite.db");
    let http = reqwest::Client::new();
    let model = Arc::new(Mutex::new(Model::default()));

    let server = Server::start(&bin, &db);
    let mut machines = Vec::new();
    for name in ["update-publish", "publish"] {
        let r = call(
            &http,
            &server.url,
            "CreateStateMachine",
            json!({"name": name, "definition": base_definition(), "roleArn": ROLE}),
        )
        .await
        .unwrap();
        machines.push(r["stateMachineArn"].as_str().unwrap().to_owned());
    }
    for arn in &machines {
        model
            .lock()
            .unwrap()
            .versions
            .insert(arn.clone(), BTreeMap::new());
    }
    let mut server = Some(server);
    for cycle in 0..cycles {
        let s = match server.take() {
            Some(s) => s,
            None => Server::start(&bin, &db),
        };
        if cycle > 0 {
            verify(&http, &s.url, &model, &machines[0]).await;
        }
        let tasks = vec![
            tokio::spawn(update_publish_writer(
                http.clone(),
                s.url.clone(),
                machines[0].clone(),
                cycle,
                model.clone(),
            )),
            tokio::spawn(publish_writer(
                http.clone(),
                s.url.clone(),
                machines[1].clone(),
                cycle,
                model.clone(),
            )),
            tokio::spawn(alias_writer(
                http.clone(),
                s.url.clone(),
                machines[0].clone(),
                rng.next(),
                model.clone(),
            )),
        ];
        tokio::time::sleep(Duration::from_millis(20 + rng.below(250))).await;
        s.kill();
        for t in tasks {
            t.await.expect("writer task");
        }
        integrity_check(&db);
    }
    let s = Server::start(&bin, &db);
    verify(&http, &s.url, &model, &machines[0]).await;
    s.kill();
    integrity_check(&db);
    let m = model.lock().unwrap();
    println!(
        "crash harness: {cycles} SIGKILLs, {} acknowledged writes, {} checks of durable state, all held",
        m.acknowledged, m.checked
    );
    assert!(
        m.acknowledged > cycles as u64,
        "too few writes were acknowledged to prove anything"
    );
}

/// The workflow the execution harness runs: a Parallel with a Wait in one branch, a Map of
/// waiting iterations two at a time, a Task retried twice (no integration is reachable, so
/// every attempt fails) and caught; variables assigned before the waits (top level, in each
/// iteration, by the catcher) are what the last state reads. With `--time-scale 0.01` it takes about 0.6 s.
fn crash_workflow() -> String {
    json!({"StartAt": "Prep", "States": {
        "Prep": {"Type": "Pass", "Parameters": {"i.$": "$.i", "items.$": "States.ArrayRange(1, 3, 1)"}, "Assign": {"seen.$": "$.i"}, "Next": "Fan"},
        "Fan": {"Type": "Parallel", "ResultPath": "$.fan", "Next": "Each", "Branches": [
            {"StartAt": "W1", "States": {"W1": {"Type": "Wait", "Seconds": 20, "Next": "B1"}, "B1": {"Type": "Pass", "Result": "b1", "End": true}}},
            {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "Result": "b2", "End": true}}}]},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ResultPath": "$.each", "Next": "Flaky",
            "ItemProcessor": {"StartAt": "IW", "States": {
                "IW": {"Type": "Wait", "Seconds": 5, "Assign": {"mine.$": "$"}, "Next": "IP"},
                "IP": {"Type": "Pass", "Parameters": {"v.$": "$mine"}, "End": true}}}},
        "Flaky": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "nowhere"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Assign": {"caught.$": "$.Error"}, "Next": "Done"}], "End": true},
        "Done": {"Type": "Pass", "Parameters": {"i.$": "$seen", "fan.$": "$.fan", "each.$": "$.each", "error.$": "$caught"}, "Next": "J"},
        "J": {"Type": "Pass", "QueryLanguage": "JSONata", "Assign": {"n": "{% $count($states.input.each) %}"},
              "Output": "{% $merge([$states.input, {'i': $seen}]) %}", "Next": "K"},
        "K": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $n = 3 ? $states.input : 'wrong' %}", "End": true}
    }})
    .to_string()
}

/// Seconds each Wait of the workflow lasts at time scale 0.01, by state name.
const CRASH_WAITS: &[(&str, f64)] = &[("W1", 0.2), ("IW", 0.05)];
/// The retry back-offs at time scale 0.01 (10 s, then 20 s).
const CRASH_BACKOFFS: &[f64] = &[0.1, 0.2];

fn crash_output(i: u64) -> Value {
    json!({"i": i, "fan": ["b1", "b2"], "each": [{"v": 1}, {"v": 2}, {"v": 3}], "error": "States.TaskFailed"})
}

/// Starts executions one after another until the server stops answering; returns the
/// acknowledged ones and the one in flight at the kill, if any.
async fn starter(
    http: reqwest::Client,
    url: String,
    machine: String,
    first: u64,
) -> (Vec<u64>, Option<u64>) {
    let mut acknowledged = Vec::new();
    let mut i = first;
    loop {
        let body = json!({"stateMachineArn": machine, "name": format!("x{i}"), "input": json!({"i": i}).to_string()});
        match call(&http, &url, "StartExecution", body).await {
            Some(_) => acknowledged.push(i),
            None => return (acknowledged, Some(i)),
        }
        i += 1;
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
}

/// `cycles` times: starts executions of `machine` one after another, SIGKILLs the server
/// after `pause(rng)` milliseconds, checks the file and starts it again. Returns the server
/// running at the end, the acknowledged executions and the ones in flight at a kill.
#[allow(clippy::too_many_arguments)]
async fn start_and_kill(
    mut server: Server,
    (bin, db, args): (&str, &std::path::Path, &[&str]),
    http: &reqwest::Client,
    machine: &str,
    cycles: usize,
    rng: &mut Rng,
    pause: impl Fn(&mut Rng) -> u64,
) -> (Server, Vec<u64>, Vec<u64>) {
    let (mut acknowledged, mut uncertain) = (Vec::new(), Vec::new());
    let mut next = 0;
    for _ in 0..cycles {
        let starting = tokio::spawn(starter(
            http.clone(),
            server.url.clone(),
            machine.to_owned(),
            next,
        ));
        tokio::time::sleep(Duration::from_millis(pause(rng))).await;
        server.kill();
        let (acked, in_flight) = starting.await.unwrap();
        next = in_flight.map_or_else(|| acked.last().map_or(next, |l| l + 1), |i| i + 1);
        acknowledged.extend(acked);
        uncertain.extend(in_flight);
        integrity_check(db);
        server = Server::start_with(bin, db, args);
    }
    (server, acknowledged, uncertain)
}

/// The description of execution `arn` once it is no longer RUNNING (at most 60 s).
async fn ended(http: &reqwest::Client, url: &str, arn: &str) -> Value {
    ended_within(http, url, arn, Duration::from_secs(60)).await
}

/// The description of execution `arn` once it is no longer RUNNING (at most `limit`).
async fn ended_within(http: &reqwest::Client, url: &str, arn: &str, limit: Duration) -> Value {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let d = call(http, url, "DescribeExecution", json!({"executionArn": arn}))
            .await
            .unwrap();
        if d["status"] != "RUNNING" {
            return d;
        }
        assert!(std::time::Instant::now() < deadline, "{arn} still running");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every execution of the machine, by name.
async fn listed(
    http: &reqwest::Client,
    url: &str,
    machine: &str,
    status: Option<&str>,
) -> Vec<Value> {
    let mut filter = json!({"stateMachineArn": machine});
    if let Some(s) = status {
        filter["statusFilter"] = json!(s);
    }
    listed_by(http, url, filter).await
}

/// The event types of a history, counted.
fn type_counts(events: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in events {
        *counts
            .entry(e["type"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    counts
}

/// Checks one finished execution against the uninterrupted reference run: same output,
/// same events (gap-free, each once), no Wait or back-off shorter than it should be.
fn check_execution(i: u64, d: &Value, events: &[Value], reference: &BTreeMap<String, usize>) {
    assert_eq!(d["status"], "SUCCEEDED", "execution x{i}: {d}");
    let output: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
    assert_eq!(output, crash_output(i), "execution x{i}");
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(
        ids,
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "execution x{i}: ids with a gap or a duplicate"
    );
    assert_eq!(
        &type_counts(events),
        reference,
        "execution x{i}: events differ"
    );
    let at = |id: u64| events[id as usize - 1]["timestamp"].as_f64().unwrap();
    let mut backoffs = Vec::new();
    for e in events {
        let id = e["id"].as_u64().unwrap();
        let prev = e["previousEventId"].as_u64().unwrap();
        assert!(prev < id, "execution x{i}: event {id} follows {prev}");
        if e["type"] == "WaitStateExited" {
            let name = e["stateExitedEventDetails"]["name"].as_str().unwrap();
            let seconds = CRASH_WAITS.iter().find(|(n, _)| *n == name).unwrap().1;
            assert!(
                at(id) - at(prev) >= seconds - 0.0015,
                "execution x{i}: Wait {name} fired early ({} s)",
                at(id) - at(prev)
            );
        }
        if e["type"] == "TaskScheduled" && events[prev as usize - 1]["type"] == "TaskFailed" {
            backoffs.push(at(id) - at(prev));
        }
    }
    assert_eq!(backoffs.len(), CRASH_BACKOFFS.len(), "execution x{i}");
    for (took, want) in backoffs.iter().zip(CRASH_BACKOFFS) {
        assert!(
            *took >= want - 0.0015,
            "execution x{i}: a retry came early ({took} s)"
        );
    }
}

async fn full_history(http: &reqwest::Client, url: &str, arn: &str) -> Vec<Value> {
    let h = call(
        http,
        url,
        "GetExecutionHistory",
        json!({"executionArn": arn, "maxResults": 1000}),
    )
    .await
    .unwrap();
    assert!(h.get("nextToken").is_none());
    h["events"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_while_executions_run_loses_no_step_and_repeats_none() {
    let (cycles, seed, bin) = settings();
    println!("execution crash harness: {cycles} cycles, seed {seed}, binary {bin}");
    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sfnlite.db");
    let http = reqwest::Client::new();
    let args = ["--time-scale", "0.01"];

    // The uninterrupted run every other execution is compared with.
    let server = Server::start_with(&bin, &db, &args);
    let machine = call(
        &http,
        &server.url,
        "CreateStateMachine",
        json!({"name": "crash-workflow", "definition": crash_workflow(), "roleArn": ROLE}),
    )
    .await
    .unwrap()["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let reference_arn = call(
        &http,
        &server.url,
        "StartExecution",
        json!({"stateMachineArn": machine, "name": "x0", "input": "{\"i\": 0}"}),
    )
    .await
    .unwrap()["executionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let reference = loop {
        let d = call(
            &http,
            &server.url,
            "DescribeExecution",
            json!({"executionArn": reference_arn}),
        )
        .await
        .unwrap();
        if d["status"] != "RUNNING" {
            let events = full_history(&http, &server.url, &reference_arn).await;
            let counts = type_counts(&events);
            check_execution(0, &d, &events, &counts);
            break counts;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the reference run never ends"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    let mut acknowledged: Vec<u64> = vec![0];
    let mut uncertain: Vec<u64> = Vec::new();
    let mut next = 1;
    let mut server = Some(server);
    for _ in 0..cycles {
        let s = match server.take() {
            Some(s) => s,
            None => Server::start_with(&bin, &db, &args),
        };
        // Nothing acknowledged is ever missing, whatever state it is in.
        let present: std::collections::BTreeSet<String> = listed(&http, &s.url, &machine, None)
            .await
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect();
        for i in &acknowledged {
            assert!(
                present.contains(&format!("x{i}")),
                "acknowledged execution x{i} is gone"
            );
        }
        let task = tokio::spawn(starter(http.clone(), s.url.clone(), machine.clone(), next));
        tokio::time::sleep(Duration::from_millis(50 + rng.below(400))).await;
        s.kill();
        let (acked, in_flight) = task.await.unwrap();
        next = acked
            .last()
            .copied()
            .unwrap_or(next - 1)
            .max(in_flight.unwrap_or(0))
            + 1;
        acknowledged.extend(acked);
        uncertain.extend(in_flight);
        integrity_check(&db);
    }

    let s = Server::start_with(&bin, &db, &args);
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !listed(&http, &s.url, &machine, Some("RUNNING"))
        .await
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "executions never finish after the restarts"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut checked = 0;
    let mut events_checked = 0;
    let base = reference_arn.trim_end_matches("x0").to_owned();
    for (i, must_exist) in acknowledged
        .iter()
        .map(|i| (*i, true))
        .chain(uncertain.iter().map(|i| (*i, false)))
    {
        let arn = format!("{base}x{i}");
        let resp = http
            .post(&s.url)
            .header("x-amz-target", "AWSStepFunctions.DescribeExecution")
            .body(json!({"executionArn": arn}).to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let d: Value = resp.json().await.unwrap();
        if status == 400 && d["__type"] == "ExecutionDoesNotExist" && !must_exist {
            continue;
        }
        assert_eq!(status, 200, "x{i}: {d}");
        let events = full_history(&http, &s.url, &arn).await;
        check_execution(i, &d, &events, &reference);
        checked += 1;
        events_checked += events.len();
    }
    s.kill();
    integrity_check(&db);
    println!(
        "execution crash harness: {cycles} SIGKILLs, {} executions acknowledged, {checked} finished exactly once with the reference output, {events_checked} events checked",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() > cycles,
        "too few executions were started to prove anything"
    );
}

/// Takes one task of `activity` into `handed` (by execution number); false when none waits.
/// A task handed out twice fails the test.
async fn take_task(
    http: &reqwest::Client,
    url: &str,
    activity: &str,
    handed: &mut BTreeMap<u64, String>,
) -> bool {
    let t = call(
        http,
        url,
        "GetActivityTask",
        json!({"activityArn": activity, "workerName": "w"}),
    )
    .await
    .unwrap();
    let Some(token) = t["taskToken"].as_str() else {
        return false;
    };
    let input: Value = serde_json::from_str(t["input"].as_str().unwrap()).unwrap();
    let i = input["i"].as_u64().unwrap();
    assert!(
        handed.insert(i, token.to_owned()).is_none(),
        "task of t{i} handed out twice"
    );
    true
}

/// Executions waiting on activity tasks survive SIGKILL in every phase of a worker's work:
/// tasks not yet taken are handed out after the restart, tasks taken before it are completed
/// by the worker's SendTaskSuccess after it, and each task is handed out and completed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_while_tasks_wait_at_workers_loses_none_and_hands_out_each_once() {
    let (cycles, seed, bin) = settings();
    println!("activity crash harness: {cycles} cycles, seed {seed}, binary {bin}");
    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sfnlite.db");
    let http = reqwest::Client::new();
    let args = ["--time-scale", "0.01"];
    let mut server = Server::start_with(&bin, &db, &args);
    let activity = call(
        &http,
        &server.url,
        "CreateActivity",
        json!({"name": "work"}),
    )
    .await
    .unwrap()["activityArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let definition = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": activity, "ResultPath": "$.r", "End": true}}});
    let machine = call(
        &http,
        &server.url,
        "CreateStateMachine",
        json!({"name": "tasks", "definition": definition.to_string(), "roleArn": ROLE}),
    )
    .await
    .unwrap()["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let total = (cycles * 3).max(6) as u64;
    for i in 0..total {
        call(
            &http,
            &server.url,
            "StartExecution",
            json!({"stateMachineArn": machine, "name": format!("t{i}"), "input": json!({"i": i}).to_string()}),
        )
        .await
        .unwrap();
    }
    // Tokens handed out (by execution number) and answers acknowledged.
    let mut handed: BTreeMap<u64, String> = BTreeMap::new();
    let mut answered: BTreeMap<u64, ()> = BTreeMap::new();
    for _ in 0..cycles {
        // Take a few tasks and answer a few of those held, in random order, then SIGKILL.
        for _ in 0..rng.below(4) {
            if !take_task(&http, &server.url, &activity, &mut handed).await {
                break;
            }
        }
        let held: Vec<u64> = handed
            .keys()
            .copied()
            .filter(|i| !answered.contains_key(i))
            .collect();
        for i in held.into_iter().take(rng.below(3) as usize) {
            call(
                &http,
                &server.url,
                "SendTaskSuccess",
                json!({"taskToken": handed[&i], "output": json!({"done": i}).to_string()}),
            )
            .await
            .unwrap();
            answered.insert(i, ());
        }
        server.kill();
        integrity_check(&db);
        server = Server::start_with(&bin, &db, &args);
    }
    // Finish: hand out and answer everything left, after one more restart.
    while take_task(&http, &server.url, &activity, &mut handed).await {}
    assert_eq!(handed.len() as u64, total, "every task is handed out");
    for (i, token) in &handed {
        if !answered.contains_key(i) {
            call(
                &http,
                &server.url,
                "SendTaskSuccess",
                json!({"taskToken": token, "output": json!({"done": i}).to_string()}),
            )
            .await
            .unwrap();
        }
    }
    for i in 0..total {
        let arn = format!("{}:t{i}", machine.replace(":stateMachine:", ":execution:"));
        let d = ended_within(&http, &server.url, &arn, Duration::from_secs(30)).await;
        assert_eq!(d["status"], "SUCCEEDED", "t{i}: {d}");
        assert_eq!(
            serde_json::from_str::<Value>(d["output"].as_str().unwrap()).unwrap(),
            json!({"i": i, "r": {"done": i}})
        );
        let counts = type_counts(&full_history(&http, &server.url, &arn).await);
        for kind in ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"] {
            assert_eq!(counts.get(kind), Some(&1), "t{i}: {counts:?}");
        }
    }
    println!(
        "activity crash harness: {total} tasks over {cycles} SIGKILLs, {} answered before a kill",
        answered.len()
    );
    server.kill();
}

#[tokio::test]
async fn sigkill_while_parents_wait_for_sync_children_starts_each_child_once() {
    let (cycles, seed, bin) = settings();
    println!("nested crash harness: {cycles} cycles, seed {seed}, binary {bin}");
    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sfnlite.db");
    let http = reqwest::Client::new();
    let args = ["--time-scale", "0.01"];
    let server = Server::start_with(&bin, &db, &args);
    let create = |name: &str, definition: Value| {
        let (http, url) = (http.clone(), server.url.clone());
        let body = json!({"name": name, "definition": definition.to_string(), "roleArn": ROLE});
        async move {
            call(&http, &url, "CreateStateMachine", body).await.unwrap()["stateMachineArn"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let children = create(
        "children",
        json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
            "P": {"Type": "Pass", "Parameters": {"parent.$": "$.parent"}, "End": true}}}),
    )
    .await;
    let parents = create(
        "parents",
        json!({"StartAt": "Run", "States": {
            "Run": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                    "Parameters": {"StateMachineArn": children, "Input": {"parent.$": "$$.Execution.Id"}},
                    "ResultSelector": {"child.$": "$.Output.parent"}, "End": true}}}),
    )
    .await;
    let (server, acknowledged, uncertain) = start_and_kill(
        server,
        (&bin, &db, &args),
        &http,
        &parents,
        cycles,
        &mut rng,
        |rng| 20 + rng.below(60),
    )
    .await;
    let parent_arn = |i: u64| format!("{}:x{i}", parents.replace(":stateMachine:", ":execution:"));
    for &i in &acknowledged {
        let arn = parent_arn(i);
        let d = ended(&http, &server.url, &arn).await;
        assert_eq!(d["status"], "SUCCEEDED", "x{i}: {d}");
        let out: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
        assert_eq!(out, json!({"child": arn}), "x{i}");
        let counts = type_counts(&full_history(&http, &server.url, &arn).await);
        for kind in ["TaskScheduled", "TaskSubmitted", "TaskSucceeded"] {
            assert_eq!(counts.get(kind), Some(&1), "x{i}: {counts:?}");
        }
    }
    // Each parent started its child exactly once: children by the parent they name.
    let mut by_parent: BTreeMap<String, usize> = BTreeMap::new();
    for c in listed(&http, &server.url, &children, None).await {
        let d = call(
            &http,
            &server.url,
            "DescribeExecution",
            json!({"executionArn": c["executionArn"]}),
        )
        .await
        .unwrap();
        let input: Value = serde_json::from_str(d["input"].as_str().unwrap()).unwrap();
        *by_parent
            .entry(input["parent"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    for (parent, n) in &by_parent {
        assert_eq!(*n, 1, "{parent} started {n} children");
    }
    for &i in &acknowledged {
        assert!(by_parent.contains_key(&parent_arn(i)), "x{i} has no child");
    }
    println!(
        "nested crash harness: {} parents acknowledged ({} uncertain) over {cycles} SIGKILLs, {} children, each started once",
        acknowledged.len(),
        uncertain.len(),
        by_parent.len()
    );
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_while_calls_are_in_flight_makes_each_call_at_most_once() {
    let (cycles, seed, bin) = settings();
    println!("outside-call crash harness: {cycles} cycles, seed {seed}, binary {bin}");
    let mut rng = Rng(seed | 1);
    let peer = crate::peer::Peer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sfnlite.db");
    let http = reqwest::Client::new();
    let endpoints = format!("default={}", peer.url);
    let args = ["--endpoints", endpoints.as_str()];
    let server = Server::start_with(&bin, &db, &args);
    // Each call takes 150 ms, so a kill usually finds some in flight. No Retry: a lost call
    // must end in the Catch, never be made again.
    let definition = json!({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
            "Parameters": {"ApiEndpoint.$": format!("States.Format('{}/delay/150/{{}}', $$.Execution.Name)", peer.url), "Method": "POST", "RequestBody.$": "$"},
            "ResultSelector": {"answered.$": "$.ResponseBody.uri"},
            "Catch": [{"ErrorEquals": ["States.Http.Socket"], "Next": "Lost"}], "End": true},
        "Lost": {"Type": "Pass", "End": true}}});
    let body = json!({"name": "calls", "definition": definition.to_string(), "roleArn": ROLE});
    let machine = call(&http, &server.url, "CreateStateMachine", body)
        .await
        .unwrap()["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let (server, acknowledged, _) = start_and_kill(
        server,
        (&bin, &db, &args),
        &http,
        &machine,
        cycles,
        &mut rng,
        |rng| 100 + rng.below(200),
    )
    .await;
    let execution = |i: u64| format!("{}:x{i}", machine.replace(":stateMachine:", ":execution:"));
    let (mut answered, mut lost) = (0, 0);
    for &i in &acknowledged {
        let arn = execution(i);
        let d = ended(&http, &server.url, &arn).await;
        assert_eq!(d["status"], "SUCCEEDED", "x{i}: {d}");
        let hits = peer.calls_to(&format!("/delay/150/x{i}"));
        let out: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
        let counts = type_counts(&full_history(&http, &server.url, &arn).await);
        assert_eq!(counts.get("TaskScheduled"), Some(&1), "x{i}: {counts:?}");
        if out.get("answered").is_some() {
            assert_eq!(out["answered"], format!("/delay/150/x{i}"));
            assert_eq!(hits, 1, "x{i} answered after {hits} calls");
            answered += 1;
        } else {
            // The call was in flight at a kill: it failed, and was made at most once.
            assert_eq!(out["Error"], "States.Http.Socket", "x{i}: {out}");
            assert!(
                out["Cause"].as_str().unwrap().contains("not made again"),
                "x{i}: {out}"
            );
            assert!(hits <= 1, "x{i} was called {hits} times");
            lost += 1;
        }
    }
    assert!(
        lost > 0,
        "no call was ever in flight at a kill; the harness proved nothing"
    );
    println!(
        "outside-call crash harness: {} executions over {cycles} SIGKILLs: {answered} answered once, {lost} lost in flight and never called again",
        acknowledged.len()
    );
    server.kill();
}

/// Every execution listed by `filter` (a `stateMachineArn` or `mapRunArn` member), any order.
async fn listed_by(http: &reqwest::Client, url: &str, filter: Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = filter.clone();
        body["maxResults"] = json!(1000);
        if let Some(t) = &token {
            body["nextToken"] = json!(t);
        }
        let page = call(http, url, "ListExecutions", body).await.unwrap();
        out.extend(page["executions"].as_array().unwrap().iter().cloned());
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return out,
        }
    }
}

/// A Distributed Map of `SFNLITE_CRASH_MAP_ITEMS` items (default 10,000) whose children wait,
/// SIGKILLed again and again while they run: after the restarts every item has run in exactly
/// one child, the run counts each once, and the results come back in item order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_while_a_distributed_map_runs_hands_each_item_to_exactly_one_child() {
    let (cycles, seed, bin) = settings();
    let items: u64 = std::env::var("SFNLITE_CRASH_MAP_ITEMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    println!("map crash harness: {items} items, {cycles} cycles, seed {seed}, binary {bin}");
    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sfnlite.db");
    let http = reqwest::Client::new();
    let args = ["--time-scale", "0.01"];
    let mut server = Server::start_with(&bin, &db, &args);
    let definition = json!({"StartAt": "Map", "States": {"Map": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1000,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "W",
            "States": {
                "W": {"Type": "Wait", "Seconds": 20, "Next": "P"},
                "P": {"Type": "Pass", "Parameters": {"i.$": "$"}, "End": true}}},
        "End": true}}});
    let machine = call(
        &http,
        &server.url,
        "CreateStateMachine",
        json!({"name": "wide", "definition": definition.to_string(), "roleArn": ROLE}),
    )
    .await
    .unwrap()["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let input = json!({"items": (0..items).collect::<Vec<u64>>()}).to_string();
    let execution = call(
        &http,
        &server.url,
        "StartExecution",
        json!({"stateMachineArn": machine, "name": "wide", "input": input}),
    )
    .await
    .unwrap()["executionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    // Kills that land while the run is part done: a harness that never does proves nothing.
    let mut mid_run = 0;
    for _ in 0..cycles {
        tokio::time::sleep(Duration::from_millis(30 + rng.below(200))).await;
        let runs = call(
            &http,
            &server.url,
            "ListMapRuns",
            json!({"executionArn": execution}),
        )
        .await;
        if let Some(run) = runs
            .as_ref()
            .and_then(|r| r["mapRuns"][0]["mapRunArn"].as_str())
        {
            let r = call(
                &http,
                &server.url,
                "DescribeMapRun",
                json!({"mapRunArn": run}),
            )
            .await;
            let done = r
                .as_ref()
                .and_then(|r| r["executionCounts"]["succeeded"].as_u64());
            if done.is_some_and(|n| n > 0 && n < items) {
                mid_run += 1;
            }
        }
        server.kill();
        integrity_check(&db);
        server = Server::start_with(&bin, &db, &args);
    }
    assert!(mid_run > 0, "no SIGKILL landed while the run was part done");
    let d = ended_within(&http, &server.url, &execution, Duration::from_secs(600)).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let output: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
    let expected: Vec<Value> = (0..items).map(|i| json!({"i": i})).collect();
    assert!(
        output == json!(expected),
        "results out of item order or missing"
    );
    let runs = call(
        &http,
        &server.url,
        "ListMapRuns",
        json!({"executionArn": execution}),
    )
    .await
    .unwrap();
    let runs = runs["mapRuns"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "one run for one Map state");
    let run = runs[0]["mapRunArn"].as_str().unwrap();
    let r = call(
        &http,
        &server.url,
        "DescribeMapRun",
        json!({"mapRunArn": run}),
    )
    .await
    .unwrap();
    let c = &r["executionCounts"];
    assert_eq!(r["status"], "SUCCEEDED", "{r}");
    assert_eq!(
        (c["succeeded"].as_u64(), c["total"].as_u64()),
        (Some(items), Some(items)),
        "{r}"
    );
    assert_eq!(
        (
            c["running"].as_u64(),
            c["pending"].as_u64(),
            c["failed"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{r}"
    );
    // Exactly one child per item: as many children as items, each finished once.
    let children = listed_by(&http, &server.url, json!({"mapRunArn": run})).await;
    assert_eq!(children.len() as u64, items, "children started for the run");
    assert!(children.iter().all(|c| c["status"] == "SUCCEEDED"));
    let counts = type_counts(&full_history(&http, &server.url, &execution).await);
    for kind in ["MapRunStarted", "MapRunSucceeded", "ExecutionSucceeded"] {
        assert_eq!(counts.get(kind), Some(&1), "{counts:?}");
    }
    integrity_check(&db);
    println!(
        "map crash harness: {items} items over {cycles} SIGKILLs ({mid_run} while the run was part done), each run by exactly one child"
    );
    server.kill();
}
