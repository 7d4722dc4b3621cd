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

struct Server {
    binary: Binary,
    url: String,
}

impl Server {
    fn start(bin: &str, db: &std::path::Path) -> Server {
        let mut cmd = Command::new(bin);
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
    let cycles: usize = std::env::var("SFNLITE_CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("SFNLITE_CRASH_SEED")
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
