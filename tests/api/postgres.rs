//! The PostgreSQL backend against a real server: PostgreSQL from Debian's packages, started on
//! loopback in a temporary folder by `scripts/postgres.sh` (one per test). Run by
//! `scripts/test.sh` (`--ignored`), as they need the server.

use std::path::Path;

use sfnlite::store::postgres;

/// A PostgreSQL server for one test, stopped when dropped.
struct Server {
    dir: tempfile::TempDir,
    url: String,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(script())
            .arg("start")
            .arg(dir.path())
            .output()
            .expect("scripts/postgres.sh runs");
        assert!(
            out.status.success(),
            "PostgreSQL did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        Server { dir, url }
    }

    fn client(&self) -> ::postgres::Client {
        ::postgres::Client::connect(&self.url, ::postgres::NoTls).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::process::Command::new(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres.sh")
}

/// `table.column` of every table of an SQLite database, sorted.
fn sqlite_columns(db: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'refinery_schema_history'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut columns = Vec::new();
    for t in tables {
        let names: Vec<String> = c
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        columns.extend(names.into_iter().map(|n| format!("{t}.{n}")));
    }
    columns.sort();
    columns
}

#[tokio::test]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn the_postgres_schema_migrates_once_and_has_every_sqlite_table_and_column() {
    let server = Server::start();
    let url = server.url.clone();
    // The postgres client blocks: off the async threads, as the store runs it.
    let (first, again, columns) = tokio::task::spawn_blocking(move || {
        let first = postgres::migrate(&url).unwrap();
        let again = postgres::migrate(&url).unwrap();
        (first, again, postgres::columns(&url).unwrap())
    })
    .await
    .unwrap();
    assert_eq!(first, vec![1, 2, 3]);
    assert!(again.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    drop(sfnlite::store::Store::open(&db, &Default::default()).unwrap());
    // What only replicas sharing a database need: their registry, leases, calls' owners;
    // and the column by which PostgreSQL chains a history's chunks (SQLite's single writer
    // checks the order with a trigger).
    let shared_only = [
        "calls_in_flight.owner",
        "executions.lease_epoch",
        "executions.lease_owner",
        "executions.lease_until",
        "history_chunks.after_event",
        "replicas.id",
        "replicas.seen_ms",
        "replicas.started_ms",
    ];
    let common: Vec<String> = columns
        .iter()
        .filter(|c| !shared_only.contains(&c.as_str()))
        .cloned()
        .collect();
    assert_eq!(common, sqlite_columns(&db));
    assert_eq!(columns.len() - common.len(), shared_only.len());
}

#[test]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
fn the_postgres_constraints_keep_publishing_idempotent_and_histories_gap_free() {
    let server = Server::start();
    postgres::migrate(&server.url).unwrap();
    let mut c = server.client();
    let machine: i64 = c
        .query_one(
            "INSERT INTO state_machines (arn, account, region, name, type, created_ms)
             VALUES ('arn:m', '1', 'r', 'm', 'STANDARD', 0) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    let revision: i64 = c
        .query_one(
            "INSERT INTO revisions (state_machine_id, definition, role_arn, logging, tracing, encryption, created_ms)
             VALUES ($1, '{}', 'role', '{}', '{}', '{}', 0) RETURNING id",
            &[&machine],
        )
        .unwrap()
        .get(0);
    // Two replicas publishing one revision at once: one version, the other insert refused.
    let url = server.url.clone();
    let publishers: Vec<_> = (1..=2_i64)
        .map(|n| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
                c.execute(
                    "INSERT INTO versions (state_machine_id, revision, number, created_ms) VALUES ($1, $2, $3, 0)",
                    &[&machine, &revision, &n],
                )
                .is_ok()
            })
        })
        .collect();
    let published = publishers
        .into_iter()
        .map(|p| p.join().unwrap_or(false))
        .filter(|ok| *ok)
        .count();
    assert_eq!(published, 1);
    let count: i64 = c
        .query_one(
            "SELECT version_count FROM state_machines WHERE id = $1",
            &[&machine],
        )
        .unwrap()
        .get(0);
    assert_eq!(count, 1, "the trigger counts the version");
    let execution: i64 = c
        .query_one(
            "INSERT INTO executions (arn, machine_arn, name, revision, status, input, start_ms)
             VALUES ('arn:e', 'arn:m', 'e', $1, 'RUNNING', '{}', 0) RETURNING id",
            &[&revision],
        )
        .unwrap()
        .get(0);
    let chunk = |first: i64, last: i64, events: &str| {
        format!("INSERT INTO history_chunks (execution_id, first_event, last_event, events) VALUES ({execution}, {first}, {last}, '{events}')")
    };
    c.batch_execute(&chunk(1, 2, "[[0,\"A\",0,null],[1,\"B\",0,null]]"))
        .unwrap();
    let refused = |e: ::postgres::Error| {
        let d = e.as_db_error().expect("refused by the server");
        (d.code().code().to_owned(), d.message().to_owned())
    };
    // A chunk follows the one ending right before it (23503: foreign_key_violation), so
    // neither a gap nor an overlap is stored; two chunks never start at one event (23505).
    let in_order = |e: (String, String)| {
        assert_eq!(e.0, "23503", "{e:?}");
        assert!(e.1.contains("history_chunks_in_order"), "{e:?}");
    };
    in_order(refused(
        c.batch_execute(&chunk(4, 4, "[[3,\"D\",0,null]]"))
            .unwrap_err(),
    ));
    in_order(refused(
        c.batch_execute(&chunk(2, 3, "[[1,\"B\",0,null],[2,\"C\",0,null]]"))
            .unwrap_err(),
    ));
    let twice = refused(
        c.batch_execute(&chunk(1, 1, "[[0,\"A\",0,null]]"))
            .unwrap_err(),
    );
    assert_eq!(twice.0, "23505", "{twice:?}");
    c.batch_execute(&chunk(3, 3, "[[2,\"C\",0,null]]"))
        .expect("the next chunk is stored");
    // A chunk must hold exactly its events (23514: check_violation).
    let short = refused(
        c.batch_execute(&chunk(4, 5, "[[3,\"D\",0,null]]"))
            .unwrap_err(),
    );
    assert_eq!(short.0, "23514", "{short:?}");
}

// ---- Several sfnlite processes on one PostgreSQL database ----

/// An sfnlite process serving the shared database, SIGKILLed when dropped (a test that
/// fails leaves no process behind).
struct Replica {
    binary: Option<crate::helpers::Binary>,
    url: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(b) = self.binary.take() {
            b.kill();
        }
    }
}

/// The binary replicas run: `SFNLITE_BIN` (scripts/test.sh passes the release build) or
/// this build's.
fn replica_binary() -> String {
    std::env::var("SFNLITE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sfnlite").to_owned())
}

impl Replica {
    fn start(db: &str) -> Replica {
        let mut cmd = std::process::Command::new(replica_binary());
        cmd.args([
            "--listen",
            "127.0.0.1:0",
            "--log",
            "warn",
            "--time-scale",
            "0.01",
            "--lease-ms",
            "1000",
            "--db",
            db,
        ]);
        let mut binary = crate::helpers::Binary::start(cmd);
        binary.drain_stderr();
        let url = format!("http://{}/", binary.addr);
        Replica {
            binary: Some(binary),
            url,
        }
    }
}

/// One AWS JSON call: the status and the body (None when the connection failed).
async fn call(
    http: &reqwest::Client,
    url: &str,
    op: &str,
    body: serde_json::Value,
) -> Option<(u16, serde_json::Value)> {
    let r = http
        .post(url)
        .header("x-amz-target", format!("AWSStepFunctions.{op}"))
        .header("content-type", "application/x-amz-json-1.0")
        .body(body.to_string())
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    Some((status, r.json().await.unwrap_or(serde_json::Value::Null)))
}

/// A call that must answer 200; its body.
async fn ok(
    http: &reqwest::Client,
    url: &str,
    op: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let (status, body) = call(http, url, op, body)
        .await
        .expect("the replica answers");
    assert_eq!(status, 200, "{op}: {body}");
    body
}

/// `n` replicas on a fresh database of a fresh server.
async fn replicas(n: usize) -> (Server, String, Vec<Replica>) {
    let server = tokio::task::spawn_blocking(Server::start).await.unwrap();
    let db = crate::helpers::fresh_postgres_database(&server.url).await;
    // The first applies the migrations; the others find them applied.
    let replicas = (0..n).map(|_| Replica::start(&db)).collect();
    (server, db, replicas)
}

const MACHINE_ROLE: &str = "arn:aws:iam::123456789012:role/r";

fn pass_definition(tag: &str) -> String {
    serde_json::json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": tag, "End": true}}}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn replicas_publish_one_version_per_revision_and_number_concurrent_updates_gap_free() {
    let (_server, _db, rs) = replicas(3).await;
    let http = reqwest::Client::new();
    let created = ok(
        &http,
        &rs[0].url,
        "CreateStateMachine",
        serde_json::json!({
        "name": "m", "definition": pass_definition("v0"), "roleArn": MACHINE_ROLE}),
    )
    .await;
    let machine = created["stateMachineArn"].as_str().unwrap().to_owned();
    // The same revision published through every replica at once: one version.
    let publishes = (0..24).map(|i| {
        let (http, url, machine) = (http.clone(), rs[i % 3].url.clone(), machine.clone());
        tokio::spawn(async move {
            ok(
                &http,
                &url,
                "PublishStateMachineVersion",
                serde_json::json!({"stateMachineArn": machine}),
            )
            .await["stateMachineVersionArn"]
                .as_str()
                .unwrap()
                .to_owned()
        })
    });
    let mut arns = std::collections::BTreeSet::new();
    for p in publishes {
        arns.insert(p.await.unwrap());
    }
    assert_eq!(
        arns.into_iter().collect::<Vec<_>>(),
        vec![format!("{machine}:1")]
    );
    // Updates with publish from 48 writers over every replica at once, all on one row:
    // each succeeds (none runs out of retries), numbers distinct, none skipped.
    let writers = (0..48).map(|w| {
        let (http, url, machine) = (http.clone(), rs[w % 3].url.clone(), machine.clone());
        tokio::spawn(async move {
            let mut numbers = Vec::new();
            for k in 0..20 {
                let body = ok(&http, &url, "UpdateStateMachine", serde_json::json!({
                    "stateMachineArn": machine, "definition": pass_definition(&format!("w{w}k{k}")), "publish": true})).await;
                let arn = body["stateMachineVersionArn"].as_str().unwrap();
                numbers.push(arn.rsplit(':').next().unwrap().parse::<i64>().unwrap());
            }
            numbers
        })
    });
    let mut numbers = Vec::new();
    for w in writers {
        numbers.extend(w.await.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (2..=961).collect::<Vec<i64>>());
    let listed = ok(
        &http,
        &rs[2].url,
        "ListStateMachineVersions",
        serde_json::json!({"stateMachineArn": machine, "maxResults": 1000}),
    )
    .await;
    assert_eq!(
        listed["stateMachineVersions"].as_array().unwrap().len(),
        961
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn an_alias_moved_on_one_replica_is_seen_moved_from_the_others_at_once() {
    let (_server, _db, rs) = replicas(3).await;
    let http = reqwest::Client::new();
    let created = ok(&http, &rs[0].url, "CreateStateMachine", serde_json::json!({
        "name": "m", "definition": pass_definition("one"), "roleArn": MACHINE_ROLE, "publish": true})).await;
    let machine = created["stateMachineArn"].as_str().unwrap().to_owned();
    ok(
        &http,
        &rs[1].url,
        "UpdateStateMachine",
        serde_json::json!({
        "stateMachineArn": machine, "definition": pass_definition("two"), "publish": true}),
    )
    .await;
    let alias = ok(&http, &rs[2].url, "CreateStateMachineAlias", serde_json::json!({
        "name": "live", "routingConfiguration": [{"stateMachineVersionArn": format!("{machine}:1"), "weight": 100}]})).await;
    let alias = alias["stateMachineAliasArn"].as_str().unwrap().to_owned();
    for k in 0..6 {
        let version = format!("{machine}:{}", k % 2 + 1);
        ok(&http, &rs[k % 3].url, "UpdateStateMachineAlias", serde_json::json!({
            "stateMachineAliasArn": alias, "routingConfiguration": [{"stateMachineVersionArn": version, "weight": 100}]})).await;
        for r in &rs {
            let d = ok(
                &http,
                &r.url,
                "DescribeStateMachineAlias",
                serde_json::json!({"stateMachineAliasArn": alias}),
            )
            .await;
            assert_eq!(
                d["routingConfiguration"][0]["stateMachineVersionArn"],
                version.as_str(),
                "move {k}"
            );
        }
        // An execution started through the alias elsewhere runs the version it routes to.
        let e = ok(
            &http,
            &rs[(k + 1) % 3].url,
            "StartExecution",
            serde_json::json!({"stateMachineArn": alias}),
        )
        .await;
        let d = finished(
            &http,
            &rs[(k + 2) % 3].url,
            e["executionArn"].as_str().unwrap(),
        )
        .await;
        assert_eq!(d["stateMachineVersionArn"], version.as_str(), "move {k}");
        let expected = if k % 2 == 0 { "\"one\"" } else { "\"two\"" };
        assert_eq!(d["output"], expected, "move {k}");
    }
}

/// The description of an execution once it has ended (within 60 s).
async fn finished(http: &reqwest::Client, url: &str, arn: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let d = ok(
            http,
            url,
            "DescribeExecution",
            serde_json::json!({"executionArn": arn}),
        )
        .await;
        if d["status"] != "RUNNING" {
            return d;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{arn} still running: {d}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Every event of an execution's history, read through `url`.
async fn history(http: &reqwest::Client, url: &str, arn: &str) -> Vec<serde_json::Value> {
    let h = ok(
        http,
        url,
        "GetExecutionHistory",
        serde_json::json!({"executionArn": arn, "maxResults": 1000}),
    )
    .await;
    assert!(h.get("nextToken").is_none());
    h["events"].as_array().unwrap().clone()
}

/// A workflow of several committed steps: waits (at time scale 0.01), a Parallel, an
/// inline Map and variables.
fn stepping_definition() -> String {
    serde_json::json!({"StartAt": "Prep", "States": {
        "Prep": {"Type": "Pass", "Parameters": {"i.$": "$.i", "items.$": "States.ArrayRange(1, 3, 1)"}, "Assign": {"seen.$": "$.i"}, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 20, "Next": "Fan"},
        "Fan": {"Type": "Parallel", "ResultPath": "$.fan", "Next": "Each", "Branches": [
            {"StartAt": "W1", "States": {"W1": {"Type": "Wait", "Seconds": 10, "Next": "B1"}, "B1": {"Type": "Pass", "Result": "b1", "End": true}}},
            {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "Result": "b2", "End": true}}}]},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.each", "Next": "Done",
            "ItemProcessor": {"StartAt": "IW", "States": {"IW": {"Type": "Wait", "Seconds": 5, "Next": "IP"}, "IP": {"Type": "Pass", "End": true}}}},
        "Done": {"Type": "Pass", "Parameters": {"i.$": "$seen", "fan.$": "$.fan", "each.$": "$.each"}, "End": true}
    }}).to_string()
}

fn stepping_output(i: u64) -> serde_json::Value {
    serde_json::json!({"i": i, "fan": ["b1", "b2"], "each": [1, 2, 3]})
}

/// The event types of a history, counted.
fn type_counts(events: &[serde_json::Value]) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for e in events {
        *counts
            .entry(e["type"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    counts
}

/// Checks a finished execution of [`stepping_definition`]: its output, and a history with
/// ids 1..n and the reference's events, each once.
fn check_stepped(
    i: u64,
    d: &serde_json::Value,
    events: &[serde_json::Value],
    reference: &std::collections::BTreeMap<String, usize>,
) {
    assert_eq!(d["status"], "SUCCEEDED", "x{i}: {d}");
    let output: serde_json::Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
    assert_eq!(output, stepping_output(i), "x{i}");
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(
        ids,
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "x{i}: ids with a gap or a repeat"
    );
    assert_eq!(
        &type_counts(events),
        reference,
        "x{i}: a step lost or repeated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn executions_started_on_one_replica_complete_and_read_the_same_from_another() {
    let (_server, _db, rs) = replicas(2).await;
    let http = reqwest::Client::new();
    let created = ok(
        &http,
        &rs[0].url,
        "CreateStateMachine",
        serde_json::json!({
        "name": "m", "definition": stepping_definition(), "roleArn": MACHINE_ROLE}),
    )
    .await;
    let machine = created["stateMachineArn"].as_str().unwrap().to_owned();
    let mut arns = Vec::new();
    for i in 0..20u64 {
        let e = ok(&http, &rs[0].url, "StartExecution", serde_json::json!({
            "stateMachineArn": machine, "name": format!("x{i}"), "input": serde_json::json!({"i": i}).to_string()})).await;
        arns.push(e["executionArn"].as_str().unwrap().to_owned());
    }
    let mut reference = None;
    for (i, arn) in arns.iter().enumerate() {
        let d = finished(&http, &rs[1].url, arn).await;
        let seen_here = history(&http, &rs[1].url, arn).await;
        let seen_there = history(&http, &rs[0].url, arn).await;
        assert_eq!(seen_here, seen_there);
        let reference = reference.get_or_insert_with(|| type_counts(&seen_here));
        check_stepped(i as u64, &d, &seen_here, reference);
    }
}

/// How many executions the SIGKILL test starts: `SFNLITE_REPLICA_EXECUTIONS` (default 1000).
fn replica_executions() -> u64 {
    std::env::var("SFNLITE_REPLICA_EXECUTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// Starts executions `from..to` of `machine` through the first of `urls` that answers: a
/// replica that stops answering is left for the next, and the start it was making is sent
/// again there (it answers 200, or ExecutionAlreadyExists when the dead one had committed
/// it and it has already ended). Returns how many starts had to move.
async fn start_range(
    http: reqwest::Client,
    urls: Vec<String>,
    machine: String,
    from: u64,
    to: u64,
) -> usize {
    let mut at = 0;
    let mut moved = 0;
    for i in from..to {
        let body = serde_json::json!({"stateMachineArn": machine, "name": format!("x{i}"), "input": serde_json::json!({"i": i}).to_string()});
        loop {
            match call(&http, &urls[at], "StartExecution", body.clone()).await {
                Some((200, _)) => break,
                Some((400, b)) if moved > 0 && b["__type"] == "ExecutionAlreadyExists" => break,
                Some((status, b)) => panic!("x{i}: {status} {b}"),
                None => {
                    at += 1;
                    moved += 1;
                    assert!(at < urls.len(), "no replica answers");
                }
            }
        }
    }
    moved
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_replica_killed_amid_a_thousand_executions_leaves_each_to_finish_once_on_the_others() {
    let n = replica_executions();
    let (_server, _db, mut rs) = replicas(3).await;
    let http = reqwest::Client::new();
    let created = ok(
        &http,
        &rs[1].url,
        "CreateStateMachine",
        serde_json::json!({
        "name": "m", "definition": stepping_definition(), "roleArn": MACHINE_ROLE}),
    )
    .await;
    let machine = created["stateMachineArn"].as_str().unwrap().to_owned();
    let account = machine.clone();
    // Every replica starts a share, 8 starters each; those of the replica that dies go on
    // through a survivor.
    let mut starters = Vec::new();
    let per = n.div_ceil(24);
    for s in 0..24u64 {
        let first = (s % 3) as usize;
        let urls: Vec<String> = (0..3).map(|k| rs[(first + k) % 3].url.clone()).collect();
        let (from, to) = ((s * per).min(n), ((s + 1) * per).min(n));
        starters.push(tokio::spawn(start_range(
            http.clone(),
            urls,
            account.clone(),
            from,
            to,
        )));
    }
    // Replica 0 dies while executions are starting and running everywhere.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let listed = ok(
            &http,
            &rs[1].url,
            "ListExecutions",
            serde_json::json!({"stateMachineArn": machine, "maxResults": 1000}),
        )
        .await;
        if listed["executions"].as_array().unwrap().len() as u64 >= n / 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "executions do not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let killed_at = std::time::Instant::now();
    // SIGKILL (dropping a replica kills it).
    drop(rs.remove(0));
    let mut moved = 0;
    for s in starters {
        moved += s.await.unwrap();
    }
    // Every execution ends, stepped by the survivors: none is left RUNNING.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    loop {
        let running = ok(&http, &rs[0].url, "ListExecutions", serde_json::json!({"stateMachineArn": machine, "statusFilter": "RUNNING", "maxResults": 1000})).await;
        if running["executions"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "executions still running 180 s after the kill"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    println!(
        "{n} executions, {moved} starters moved to a survivor at the kill; all ended {:.1} s after it",
        killed_at.elapsed().as_secs_f64()
    );
    let mut count = 0;
    let mut token = None;
    loop {
        let mut q = serde_json::json!({"stateMachineArn": machine, "maxResults": 1000});
        if let Some(t) = token {
            q["nextToken"] = t;
        }
        let page = ok(&http, &rs[1].url, "ListExecutions", q).await;
        count += page["executions"].as_array().unwrap().len() as u64;
        token = page.get("nextToken").cloned();
        if token.is_none() {
            break;
        }
    }
    assert_eq!(count, n, "one execution per name started, none twice");
    let mut reference = None;
    for i in 0..n {
        let arn = format!("{}:x{i}", machine.replace(":stateMachine:", ":execution:"));
        let url = &rs[(i % 2) as usize].url;
        let d = ok(
            &http,
            url,
            "DescribeExecution",
            serde_json::json!({"executionArn": arn}),
        )
        .await;
        let events = history(&http, url, &arn).await;
        let reference = reference.get_or_insert_with(|| type_counts(&events));
        check_stepped(i, &d, &events, reference);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_postgres_restart_under_load_answers_503_at_worst_and_loses_nothing_acknowledged() {
    let (server, _db, rs) = replicas(2).await;
    let http = reqwest::Client::new();
    let created = ok(
        &http,
        &rs[0].url,
        "CreateStateMachine",
        serde_json::json!({
        "name": "m", "definition": stepping_definition(), "roleArn": MACHINE_ROLE}),
    )
    .await;
    let machine = created["stateMachineArn"].as_str().unwrap().to_owned();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let starters: Vec<_> = (0..4u64)
        .map(|s| {
            let (http, url, machine, stop) = (http.clone(), rs[(s % 2) as usize].url.clone(), machine.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut acked, mut refused) = (Vec::new(), 0);
                let mut i = s * 1_000_000;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let body = serde_json::json!({"stateMachineArn": machine, "name": format!("x{i}"), "input": serde_json::json!({"i": i}).to_string()});
                    match call(&http, &url, "StartExecution", body).await {
                        Some((200, _)) => acked.push(i),
                        Some((503, _)) => {
                            refused += 1;
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        }
                        other => panic!("x{i}: {other:?} (only 200 or 503 is acceptable)"),
                    }
                    i += 1;
                }
                (acked, refused)
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let dir = server.dir.path().to_owned();
    let restarted = tokio::task::spawn_blocking(move || {
        std::process::Command::new(script())
            .arg("restart")
            .arg(&dir)
            .status()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(restarted.success());
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (mut acked, mut refused) = (Vec::new(), 0);
    for s in starters {
        let (a, r) = s.await.unwrap();
        acked.extend(a);
        refused += r;
    }
    println!(
        "{} starts acknowledged, {refused} answered 503 around the restart",
        acked.len()
    );
    assert!(!acked.is_empty());
    let mut reference = None;
    for i in &acked {
        let arn = format!("{}:x{i}", machine.replace(":stateMachine:", ":execution:"));
        let d = finished(&http, &rs[(i % 2) as usize].url, &arn).await;
        let events = history(&http, &rs[0].url, &arn).await;
        let reference = reference.get_or_insert_with(|| type_counts(&events));
        check_stepped(*i, &d, &events, reference);
    }
}
