//! Storage faults, ownership and shutdown (issue: crash safety). Each fault gives a clear
//! refusal at start-up or a 503 ServiceUnavailable per request, and never a corrupted
//! database. None of these relies on file permissions, which root ignores.

use std::time::Duration;

use serde_json::json;
use sfnlite::{App, Config};

use crate::helpers::*;

fn integrity_ok(path: &std::path::Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    let r: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(r, "ok");
}

async fn build_error(config: &Config) -> String {
    match App::build(config).await {
        Ok(_) => panic!("start-up should be refused"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn a_second_sfnlite_on_the_same_database_refuses_to_start() {
    let mut app = TestApp::spawn().await;
    let err = build_error(&app.config).await;
    assert!(
        err.contains("is in use by another sfnlite process"),
        "{err}"
    );
    // Once the owner stops, the lock is released.
    app.stop().await;
    let again = App::build(&app.config)
        .await
        .expect("starts after the owner stopped");
    drop(again);
}

#[tokio::test]
async fn a_parent_path_that_is_a_regular_file_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let err = build_error(&Config::for_tests(&file.join("sfnlite.db"))).await;
    assert!(err.contains("cannot create database folder"), "{err}");
}

#[tokio::test]
async fn a_corrupt_file_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sfnlite.db");
    std::fs::write(&db, vec![0x5a; 16 * 1024]).unwrap();
    let err = build_error(&Config::for_tests(&db)).await;
    assert!(err.contains("corrupt or not an SQLite database"), "{err}");
}

#[tokio::test]
async fn a_schema_newer_than_the_binary_refuses_to_start() {
    let mut app = TestApp::spawn().await;
    app.create_machine("m").await;
    app.stop().await;
    let c = rusqlite::Connection::open(&app.config.db).unwrap();
    c.execute(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (99, 'future', 'now', '0')",
        [],
    )
    .unwrap();
    drop(c);
    let err = build_error(&app.config).await;
    assert!(
        err.contains("schema version 99 is newer than this sfnlite knows"),
        "{err}"
    );
}

#[tokio::test]
async fn corruption_found_on_first_use_answers_503() {
    let mut app = TestApp::spawn().await;
    let filler = "f".repeat(3000);
    let mut arns = Vec::new();
    for i in 0..40 {
        let r = app
            .call("CreateStateMachine", json!({"name": format!("m{i}"), "definition": definition(&filler), "roleArn": ROLE}))
            .await;
        arns.push(r.1["stateMachineArn"].as_str().unwrap().to_owned());
    }
    app.stop().await;
    // Pages are allocated in order in a fresh file: trash the last third (the newest
    // revisions) and keep the schema and early pages, so opening needs no repair and does
    // no slow full check, and the damage is met on first use.
    let mut bytes = std::fs::read(&app.config.db).unwrap();
    let cut = bytes.len() / 3 * 2;
    for b in &mut bytes[cut..] {
        *b = 0xff;
    }
    std::fs::write(&app.config.db, bytes).unwrap();
    app.restart().await;
    let mut unavailable = 0;
    for arn in arns.iter().rev() {
        let r = app
            .call("DescribeStateMachine", json!({"stateMachineArn": arn}))
            .await;
        match r.0 {
            200 => assert_eq!(
                r.1["definition"],
                definition(&filler),
                "served data must be intact"
            ),
            503 => {
                assert_error(
                    &r,
                    503,
                    "ServiceUnavailable",
                    "Service unavailable: database is corrupt",
                );
                unavailable += 1;
            }
            other => panic!("unexpected status {other}: {:?}", r.1),
        }
    }
    assert!(unavailable > 0, "the corrupt pages were never met");
}

#[tokio::test]
async fn a_full_database_answers_503_and_changes_nothing() {
    let app = TestApp::spawn_with(|c| c.max_db_bytes = 256 * 1024).await;
    let big_comment = "x".repeat(8 * 1024);
    let mut created = 0;
    let failure = loop {
        let r = app
            .call(
                "CreateStateMachine",
                json!({"name": format!("m{created}"), "definition": definition(&big_comment), "roleArn": ROLE}),
            )
            .await;
        if r.0 != 200 {
            break r;
        }
        created += 1;
        assert!(created < 100, "the size cap never took effect");
    };
    assert_error(
        &failure,
        503,
        "ServiceUnavailable",
        "Service unavailable: database or disk is full",
    );
    // The failed request left nothing behind, and the service still answers reads.
    let (_, list, _) = app
        .call("ListStateMachines", json!({"maxResults": 1000}))
        .await;
    assert_eq!(list["stateMachines"].as_array().unwrap().len(), created);
    let (status, _, _) = app.call("DescribeStateMachine", json!({"stateMachineArn": format!("arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:m{created}")})).await;
    assert_eq!(status, 400);
    integrity_ok(&app.config.db);
}

#[tokio::test]
async fn a_read_only_database_serves_reads_and_answers_writes_with_503() {
    let mut app = TestApp::spawn().await;
    let arn = app.create_machine("m").await;
    app.stop().await;
    app.config.read_only = true;
    app.restart().await;
    let c = app.client();
    c.describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    let r = app
        .call(
            "PublishStateMachineVersion",
            json!({"stateMachineArn": arn}),
        )
        .await;
    assert_error(
        &r,
        503,
        "ServiceUnavailable",
        "Service unavailable: database is read-only",
    );
    app.stop().await;
    integrity_ok(&app.config.db);
}

#[tokio::test]
async fn a_file_locked_by_another_process_answers_503_until_released() {
    let app = TestApp::spawn_with(|c| c.busy_timeout_ms = 200).await;
    let arn = app.create_machine("m").await;
    let other = rusqlite::Connection::open(&app.config.db).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let started = std::time::Instant::now();
    let r = app
        .call(
            "PublishStateMachineVersion",
            json!({"stateMachineArn": arn}),
        )
        .await;
    assert_error(
        &r,
        503,
        "ServiceUnavailable",
        "Service unavailable: database is locked",
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the wait is bounded by busy_timeout"
    );
    other.execute_batch("ROLLBACK").unwrap();
    let r = app
        .call(
            "PublishStateMachineVersion",
            json!({"stateMachineArn": arn}),
        )
        .await;
    assert_eq!(r.0, 200);
    assert_eq!(r.1["stateMachineVersionArn"], format!("{arn}:1"));
}

#[tokio::test]
async fn a_file_locked_at_start_up_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sfnlite.db");
    let other = rusqlite::Connection::open(&db).unwrap();
    other.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);").unwrap();
    let mut config = Config::for_tests(&db);
    config.busy_timeout_ms = 200;
    let err = build_error(&config).await;
    assert!(err.contains("locked by another process"), "{err}");
}

#[tokio::test]
async fn sigterm_finishes_cleanly_with_exit_code_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sfnlite.db");
    let mut cmd = sfnlite_command(&["--listen", "127.0.0.1:0", "--db"]);
    cmd.arg(&db);
    let mut server = Binary::start(cmd);
    server.drain_stderr();
    let addr = server.addr.clone();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("http://{addr}/"))
        .header("x-amz-target", "AWSStepFunctions.CreateStateMachine")
        .body(json!({"name": "kept", "definition": base_definition(), "roleArn": ROLE}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "{exit:?}");
    // Checkpointed: the WAL is empty and the main file alone holds the data.
    let wal = std::fs::metadata(dir.path().join("sfnlite.db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(wal, 0);
    let c = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM state_machines WHERE name = 'kept'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}
