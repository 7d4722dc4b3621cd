//! Drives executions through the store: takes the RUNNING executions that are due, runs
//! one step of each, and commits the step's history events together with the new position
//! (or the closing) in one write — so after a crash every execution resumes from its last
//! committed step, with its history continuing at the next event id. Waiting is the
//! execution's due time in the store; nothing sleeps per execution.
//!
//! The clock is read here, once per step, and handed to the pure [`super::step`].

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::intrinsics::Entropy;
use super::step::{self, Env, Event, ExecutionInfo, Next, Progress};
use crate::asl::{self, Definition};
use crate::domain::records::{Closing, Execution, ExecutionStatus, HistoryEvent, RevisionKey};
use crate::store::{Store, StoreError};

/// How many due executions one pass takes.
const BATCH: usize = 64;

/// Randomness for intrinsic functions, from the operating system's generator.
struct SystemEntropy;

impl Entropy for SystemEntropy {
    fn next_u64(&mut self) -> u64 {
        let b = *uuid::Uuid::new_v4().as_bytes();
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }
}

/// Why a pass could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("execution {0}: {1}")]
    Corrupt(String, String),
}

/// Steps due executions; keeps parsed definitions per revision.
pub struct Runner {
    store: Store,
    definitions: HashMap<RevisionKey, Arc<Definition>>,
    clock: Box<dyn FnMut() -> i64 + Send>,
}

impl Runner {
    /// A runner on `store` reading time from `clock` (milliseconds since the epoch).
    pub fn new(store: Store, clock: impl FnMut() -> i64 + Send + 'static) -> Self {
        Runner {
            store,
            definitions: HashMap::new(),
            clock: Box::new(clock),
        }
    }

    /// Runs one step of every execution due now; returns how many steps were taken.
    pub async fn pass(&mut self) -> Result<usize, RunnerError> {
        let now = (self.clock)();
        let due = self
            .store
            .read(move |tx| tx.executions().due(now, BATCH))
            .await?;
        let mut steps = 0;
        for execution in due {
            self.step(execution).await?;
            steps += 1;
        }
        Ok(steps)
    }

    /// The earliest time a waiting execution becomes due.
    pub async fn next_due(&self) -> Result<Option<i64>, RunnerError> {
        Ok(self.store.read(|tx| tx.executions().next_due()).await?)
    }

    async fn definition(&mut self, revision: RevisionKey) -> Result<Arc<Definition>, RunnerError> {
        if let Some(d) = self.definitions.get(&revision) {
            return Ok(d.clone());
        }
        let text = self
            .store
            .read(move |tx| tx.machines().revision(revision))
            .await?
            .snapshot
            .definition;
        // A revision was valid when it was stored; the kind's extra rules were checked then.
        let d = asl::parse(&text, asl::Flavor::default())
            .map_err(|e| RunnerError::Corrupt(format!("revision {revision}"), format!("{e:?}")))?;
        let d = Arc::new(d);
        self.definitions.insert(revision, d.clone());
        Ok(d)
    }

    async fn step(&mut self, e: Execution) -> Result<(), RunnerError> {
        let definition = self.definition(e.revision).await?;
        let corrupt = |what: &str| RunnerError::Corrupt(e.arn.clone(), what.to_owned());
        let progress: Progress = e
            .position
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .ok_or_else(|| corrupt("no readable position"))?;
        let input: Value =
            serde_json::from_str(&e.input).map_err(|_| corrupt("input is not JSON"))?;
        let info = ExecutionInfo {
            execution_arn: e.arn.clone(),
            name: e.name.clone(),
            state_machine_arn: e.machine_arn.clone(),
            state_machine_name: e.machine_arn.rsplit(':').next().unwrap_or("").to_owned(),
            role_arn: String::new(),
            input,
            start_ms: e.start_ms,
        };
        let now = (self.clock)();
        let mut entropy = SystemEntropy;
        let mut env = Env {
            execution: &info,
            now_ms: now,
            entropy: &mut entropy,
        };
        let (events, next) = step::step(&definition, progress, &mut env);
        let events: Vec<HistoryEvent> = events.into_iter().map(|ev| stored(ev, now)).collect();
        let key = e.key;
        match next {
            Next::Continue(p) => {
                let position = serde_json::to_string(&p).unwrap_or_default();
                self.store
                    .write(move |tx| tx.executions().advance(key, &events, &position, None))
                    .await?
            }
            Next::WaitUntil(p, due) => {
                let position = serde_json::to_string(&p).unwrap_or_default();
                self.store
                    .write(move |tx| tx.executions().advance(key, &events, &position, Some(due)))
                    .await?
            }
            Next::Succeeded(output) => {
                let closing = Closing {
                    status: ExecutionStatus::Succeeded,
                    output: Some(output.to_string()),
                    error: None,
                    cause: None,
                    stop_ms: now,
                };
                self.store
                    .write(move |tx| tx.executions().close(key, &events, &closing))
                    .await?
            }
            Next::Failed { error, cause } => {
                let closing = Closing {
                    status: ExecutionStatus::Failed,
                    output: None,
                    error,
                    cause,
                    stop_ms: now,
                };
                self.store
                    .write(move |tx| tx.executions().close(key, &events, &closing))
                    .await?
            }
        }
        Ok(())
    }
}

/// An engine event as the store keeps it.
fn stored(e: Event, timestamp_ms: i64) -> HistoryEvent {
    HistoryEvent {
        id: e.id,
        previous_id: e.previous,
        kind: e.kind.to_owned(),
        timestamp_ms,
        details: e.details.map(|(member, v)| {
            let mut m = serde_json::Map::new();
            m.insert(member.to_owned(), v);
            Value::Object(m).to_string()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::{MachineType, NewExecution, NewMachine, Snapshot};
    use crate::store::StoreOptions;
    use serde_json::json;
    use std::sync::atomic::{AtomicI64, Ordering};

    const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
    const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:m:run";
    const T0: i64 = 1_764_600_000_000;

    fn definition() -> String {
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.a", "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 2, "Next": "C"},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.a.n", "NumericEquals": 1, "Next": "Done"}], "Default": "Bad"},
            "Bad": {"Type": "Fail", "Error": "Bad"},
            "Done": {"Type": "Succeed"}}})
        .to_string()
    }

    /// A store holding one machine and one RUNNING execution of it, not yet stepped.
    async fn started(path: &std::path::Path) -> Store {
        let store = Store::open(path, &StoreOptions::default()).unwrap();
        let text = definition();
        let d = asl::parse(&text, asl::Flavor::default()).unwrap();
        let position = serde_json::to_string(&step::start(&d, json!({"x": 1}))).unwrap();
        store
            .write(move |tx| {
                let m = tx.machines().insert(&NewMachine {
                    arn: MACHINE,
                    account: "123456789012",
                    region: "us-east-1",
                    name: "m",
                    kind: MachineType::Standard,
                    created_ms: T0,
                })?;
                let snapshot = Snapshot {
                    definition: text,
                    role_arn: "arn:aws:iam::123456789012:role/r".into(),
                    logging: "{}".into(),
                    tracing: "{}".into(),
                    encryption: "{}".into(),
                };
                let revision = tx.machines().add_revision(m.key, None, &snapshot, T0)?;
                tx.executions().start(
                    &NewExecution {
                        arn: EXECUTION,
                        machine_arn: MACHINE,
                        name: "run",
                        version_arn: None,
                        alias_arn: None,
                        revision: revision.key,
                        input: "{\"x\": 1}",
                        trace_header: None,
                        start_ms: T0,
                        position: &position,
                    },
                    &HistoryEvent {
                        id: 1,
                        previous_id: 0,
                        kind: "ExecutionStarted".into(),
                        timestamp_ms: T0,
                        details: None,
                    },
                )?;
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
        store
    }

    async fn history(store: &Store) -> Vec<(u64, String, u64)> {
        store
            .read(|tx| {
                let e = tx.executions().find(EXECUTION)?.unwrap();
                tx.executions().history(e.key, None, false, 1000)
            })
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.id, e.kind, e.previous_id))
            .collect()
    }

    fn clock(at: &Arc<AtomicI64>) -> impl FnMut() -> i64 + Send + 'static {
        let at = at.clone();
        move || at.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn an_execution_runs_to_its_end_one_committed_step_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = started(&dir.path().join("r.db")).await;
        let now = Arc::new(AtomicI64::new(T0));
        let mut runner = Runner::new(store.clone(), clock(&now));
        while runner.pass().await.unwrap() > 0 {}
        // Waiting: nothing is due before the Wait's time, however often the runner looks.
        let due = runner.next_due().await.unwrap().unwrap();
        assert_eq!(due, T0 + 2000);
        now.store(due - 1, Ordering::SeqCst);
        assert_eq!(runner.pass().await.unwrap(), 0);
        now.store(due, Ordering::SeqCst);
        while runner.pass().await.unwrap() > 0 {}
        let h = history(&store).await;
        let kinds: Vec<&str> = h.iter().map(|(_, k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "ExecutionStarted",
                "PassStateEntered",
                "PassStateExited",
                "WaitStateEntered",
                "WaitStateExited",
                "ChoiceStateEntered",
                "ChoiceStateExited",
                "SucceedStateEntered",
                "SucceedStateExited",
                "ExecutionSucceeded"
            ]
        );
        let e = store
            .read(|tx| tx.executions().find(EXECUTION))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(e.status, ExecutionStatus::Succeeded);
        assert_eq!(e.output.as_deref(), Some("{\"x\":1,\"a\":{\"n\":1}}"));
        assert_eq!(e.stop_ms, Some(T0 + 2000));
    }

    #[tokio::test]
    async fn after_a_restart_an_execution_resumes_where_its_last_commit_left_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let now = Arc::new(AtomicI64::new(T0));
        {
            // Steps until the Wait is entered, then the process "dies": the runner and every
            // store handle go away.
            let store = started(&path).await;
            let mut runner = Runner::new(store, clock(&now));
            while runner.pass().await.unwrap() > 0 {}
            assert_eq!(runner.next_due().await.unwrap(), Some(T0 + 2000));
        }
        let store = Store::open(&path, &StoreOptions::default()).unwrap();
        assert_eq!(history(&store).await.len(), 4);
        let mut runner = Runner::new(store.clone(), clock(&now));
        // The service was down past the Wait's due time: it fires at once after the restart.
        now.store(T0 + 60_000, Ordering::SeqCst);
        while runner.pass().await.unwrap() > 0 {}
        let h = history(&store).await;
        let ids: Vec<u64> = h.iter().map(|(id, _, _)| *id).collect();
        assert_eq!(ids, (1..=10).collect::<Vec<u64>>());
        assert_eq!(h[3], (4, "WaitStateEntered".to_owned(), 3));
        assert_eq!(h[9].1, "ExecutionSucceeded");
    }
}
