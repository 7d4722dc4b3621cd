//! The execution store's contract, through the backend-neutral boundary: what any backend
//! must guarantee (one execution per name, gap-free histories, position and events moving
//! together, listing newest first, due times as data). On SQLite by default; with
//! `SFNLITE_TEST_POSTGRES` naming a PostgreSQL server, each test on a fresh database there
//! (scripts/test.sh runs both).

use super::*;
use crate::domain::records::{
    Begin, Closing, ExecutionKey, ExecutionStatus, HistoryEvent, MachineType, NewExecution,
    NewMachine, RevisionKey, Snapshot,
};

async fn store_with_machine() -> (tempfile::TempDir, Store, RevisionKey) {
    let dir = tempfile::tempdir().unwrap();
    let db = match std::env::var("SFNLITE_TEST_POSTGRES") {
        Ok(server) => std::path::PathBuf::from(fresh_postgres_database(server)),
        Err(_) => dir.path().join("s.db"),
    };
    let store = Store::open(&db, &StoreOptions::default()).unwrap();
    let revision = store
        .write(|tx| {
            let m = tx.machines().insert(&NewMachine {
                arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m",
                account: "123456789012",
                region: "us-east-1",
                name: "m",
                kind: MachineType::Standard,
                created_ms: 1,
            })?;
            let snapshot = Snapshot {
                definition: "{}".into(),
                role_arn: "r".into(),
                logging: "{}".into(),
                tracing: "{}".into(),
                encryption: "{}".into(),
            };
            Ok::<_, StoreError>(tx.machines().add_revision(m.key, None, &snapshot, 1)?.key)
        })
        .await
        .unwrap();
    (dir, store, revision)
}

/// A new database on the PostgreSQL server `server` names; its URL.
fn fresh_postgres_database(server: String) -> String {
    std::thread::spawn(move || {
        let name = format!("c_{}", uuid::Uuid::new_v4().simple());
        let mut c = ::postgres::Client::connect(&server, ::postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
        format!("{base}/{name}")
    })
    .join()
    .unwrap()
}

const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:m";

fn event(id: u64, previous_id: u64, kind: &str) -> HistoryEvent {
    HistoryEvent {
        id,
        previous_id,
        kind: kind.into(),
        timestamp_ms: 1000 + id as i64,
        details: None,
    }
}

async fn start(
    store: &Store,
    revision: RevisionKey,
    name: &str,
    at: i64,
) -> Result<ExecutionKey, StoreError> {
    let name = name.to_owned();
    store
        .write(move |tx| {
            let arn = format!("arn:aws:states:us-east-1:123456789012:execution:m:{name}");
            let e = tx.executions().start(
                &NewExecution {
                    arn: &arn,
                    machine_arn: MACHINE,
                    name: &name,
                    version_arn: None,
                    alias_arn: None,
                    revision,
                    input: "{ \"kept\": true }",
                    trace_header: None,
                    start_ms: at,
                    parent_token: None,
                    map_run: None,
                },
                &[event(1, 0, "ExecutionStarted")],
                Begin::Running {
                    position: "{}",
                    due_ms: at,
                },
            )?;
            e.ok_or_else(|| StoreError::internal("the name is taken"))
        })
        .await
}

#[tokio::test]
async fn one_execution_per_name_and_the_input_kept_verbatim() {
    let (_dir, store, revision) = store_with_machine().await;
    let key = start(&store, revision, "a", 10).await.unwrap();
    assert!(start(&store, revision, "a", 11).await.is_err());
    let e = store
        .read(move |tx| {
            tx.executions()
                .find("arn:aws:states:us-east-1:123456789012:execution:m:a")
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (e.key, e.status, e.last_event),
        (key, ExecutionStatus::Running, 1)
    );
    assert_eq!(e.input, "{ \"kept\": true }");
}

#[tokio::test]
async fn history_ids_are_gap_free_and_move_with_the_position() {
    let (_dir, store, revision) = store_with_machine().await;
    let key = start(&store, revision, "a", 10).await.unwrap();
    store
        .write(move |tx| {
            tx.executions().advance(
                key,
                1,
                0,
                &[
                    event(2, 0, "PassStateEntered"),
                    event(3, 2, "PassStateExited"),
                ],
                "{\"at\":\"B\"}",
                5000,
            )
        })
        .await
        .unwrap();
    // A gap is refused, and the refused write changes nothing, position included.
    let gap = store
        .write(move |tx| {
            tx.executions()
                .advance(key, 3, 1, &[event(5, 3, "X")], "{\"at\":\"C\"}", 0)
        })
        .await;
    assert!(gap.is_err());
    // A step computed from an older reading (last event 1, not 3) does not apply.
    let stale = store
        .write(move |tx| {
            tx.executions()
                .advance(key, 1, 1, &[event(2, 0, "X")], "{\"at\":\"C\"}", 0)
        })
        .await
        .unwrap();
    assert!(!stale);
    // Nor one computed before another write of the position (a worker's), same last event.
    let overtaken = store
        .write(move |tx| {
            tx.executions()
                .advance(key, 3, 0, &[event(4, 3, "X")], "{\"at\":\"C\"}", 0)
        })
        .await
        .unwrap();
    assert!(!overtaken);
    let e = store
        .read(move |tx| {
            tx.executions()
                .find("arn:aws:states:us-east-1:123456789012:execution:m:a")
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (e.last_event, e.position.as_deref(), e.due_ms),
        (3, Some("{\"at\":\"B\"}"), Some(5000))
    );
    let ids = |reverse: bool, after: Option<u64>| {
        let store = store.clone();
        async move {
            store
                .read(move |tx| tx.executions().history(key, after, reverse, 2))
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(false, None).await, [1, 2]);
    assert_eq!(ids(false, Some(2)).await, [3]);
    assert_eq!(ids(true, None).await, [3, 2]);
    assert_eq!(ids(true, Some(2)).await, [1]);
    assert_eq!(ids(true, Some(3)).await, [2, 1]);
    assert_eq!(ids(false, Some(1)).await, [2, 3]);
    assert_eq!(ids(false, Some(3)).await, Vec::<u64>::new());
}

#[tokio::test]
async fn a_start_can_store_an_execution_already_finished_and_a_taken_name_is_none() {
    let (_dir, store, revision) = store_with_machine().await;
    let arn = "arn:aws:states:us-east-1:123456789012:execution:m:done";
    let new = move |tx: &dyn crate::store::Tx| {
        let closing = Closing {
            status: ExecutionStatus::Succeeded,
            output: Some("{\"a\":1}".into()),
            error: None,
            cause: None,
            stop_ms: 20,
            resume: None,
        };
        tx.executions().start(
            &NewExecution {
                arn,
                machine_arn: MACHINE,
                name: "done",
                version_arn: None,
                alias_arn: None,
                revision,
                input: "{}",
                trace_header: None,
                start_ms: 10,
                parent_token: None,
                map_run: None,
            },
            &[
                event(1, 0, "ExecutionStarted"),
                event(2, 0, "PassStateEntered"),
                event(3, 2, "PassStateExited"),
                event(4, 3, "ExecutionSucceeded"),
            ],
            Begin::Closed(&closing),
        )
    };
    assert!(store.write(new).await.unwrap().is_some());
    assert_eq!(store.write(new).await.unwrap(), None);
    let (e, events, due) = store
        .read(move |tx| {
            let e = tx.executions().find(arn)?.unwrap();
            let events = tx.executions().history(e.key, None, false, 100)?;
            Ok::<_, StoreError>((e, events, tx.executions().next_due()?))
        })
        .await
        .unwrap();
    assert_eq!(
        (
            e.status,
            e.output.as_deref(),
            e.stop_ms,
            e.position,
            e.due_ms,
            e.last_event
        ),
        (
            ExecutionStatus::Succeeded,
            Some("{\"a\":1}"),
            Some(20),
            None,
            None,
            4
        )
    );
    assert_eq!(
        events.iter().map(|e| e.id).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(due, None);
}

#[tokio::test]
async fn due_times_are_data_and_closing_ends_them() {
    let (_dir, store, revision) = store_with_machine().await;
    let now = start(&store, revision, "now", 10).await.unwrap();
    let later = start(&store, revision, "later", 11).await.unwrap();
    store
        .write(move |tx| {
            tx.executions()
                .advance(later, 1, 0, &[event(2, 0, "WaitStateEntered")], "{}", 9000)
        })
        .await
        .unwrap();
    let due = |at: i64| {
        let store = store.clone();
        async move {
            store
                .read(move |tx| tx.executions().due(at, 10))
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.key)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(due(9).await, Vec::<ExecutionKey>::new());
    assert_eq!(due(8999).await, [now]);
    assert_eq!(due(9000).await, [now, later]);
    // A new execution is due when it started.
    assert_eq!(
        store.read(|tx| tx.executions().next_due()).await.unwrap(),
        Some(10)
    );
    store
        .write(move |tx| {
            tx.executions().close(
                later,
                2,
                1,
                &[event(3, 2, "ExecutionAborted")],
                &Closing {
                    status: ExecutionStatus::Aborted,
                    output: None,
                    error: None,
                    cause: None,
                    stop_ms: 20,
                    resume: None,
                },
            )
        })
        .await
        .unwrap();
    assert_eq!(due(i64::MAX).await, [now]);
    assert_eq!(
        store
            .read(|tx| tx.executions().running(MACHINE))
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn executions_list_newest_first_with_a_stable_cursor() {
    let (_dir, store, revision) = store_with_machine().await;
    for (i, name) in ["a", "b", "c", "d"].into_iter().enumerate() {
        start(&store, revision, name, 100 + (i as i64 / 2))
            .await
            .unwrap();
    }
    let page = |after: Option<(i64, ExecutionKey)>| {
        let store = store.clone();
        async move {
            store
                .read(move |tx| tx.executions().list(MACHINE, None, None, None, after, 3))
                .await
                .unwrap()
        }
    };
    let first = page(None).await;
    let names: Vec<&str> = first.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["d", "c", "b"]);
    let last = first.last().unwrap();
    let rest = page(Some((last.start_ms, last.key))).await;
    assert_eq!(
        rest.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["a"]
    );
    let running = store
        .read(|tx| {
            tx.executions().list(
                MACHINE,
                None,
                Some(ExecutionStatus::Succeeded),
                None,
                None,
                10,
            )
        })
        .await
        .unwrap();
    assert!(running.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_on_one_key_follow_each_other_and_lose_no_conflict() {
    let (_dir, store, _) = store_with_machine().await;
    // Sixteen read-modify-writes of one row at once: queued on the key, each reads what the
    // one before committed, so every increment lands and none lost a conflict on the way.
    let writers: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write_on(MACHINE.to_owned(), |tx| {
                        let m = tx.machines().find(MACHINE)?.expect("the machine");
                        let n = tx
                            .tags()
                            .list(m.key)?
                            .into_iter()
                            .find(|t| t.key == "n")
                            .map_or(0, |t| t.value.parse::<u32>().unwrap());
                        tx.tags().put(m.key, "n", &(n + 1).to_string())?;
                        Ok::<_, StoreError>(())
                    })
                    .await
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap().unwrap();
    }
    let n = store
        .read(|tx| {
            let m = tx.machines().find(MACHINE)?.expect("the machine");
            tx.tags().list(m.key)
        })
        .await
        .unwrap();
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].value, "16");
    assert_eq!(store.lost_conflicts(), 0);
}
