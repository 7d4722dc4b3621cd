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
    assert_eq!(first, vec![1, 2]);
    assert!(again.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    drop(sfnlite::store::Store::open(&db, &Default::default()).unwrap());
    // What only replicas sharing a database need: their registry, leases, calls' owners.
    let shared_only = [
        "calls_in_flight.owner",
        "executions.lease_epoch",
        "executions.lease_owner",
        "executions.lease_until",
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
    let gap = refused(
        c.batch_execute(&chunk(4, 4, "[[3,\"D\",0,null]]"))
            .unwrap_err(),
    );
    assert_eq!(gap.1, "history event out of order");
    // A chunk must hold exactly its events (23514: check_violation).
    let short = refused(
        c.batch_execute(&chunk(3, 4, "[[2,\"C\",0,null]]"))
            .unwrap_err(),
    );
    assert_eq!(short.0, "23514", "{short:?}");
}
