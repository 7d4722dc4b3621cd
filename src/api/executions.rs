//! StartExecution, DescribeExecution, ListExecutions, StopExecution, GetExecutionHistory and
//! DescribeStateMachineForExecution (executions-api.md §1–§6). An execution is committed
//! before StartExecution answers; the engine's runner takes it from there.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::paging::Paging;
use super::validate::{
    Violations, ARN, INCLUDED_DATA, LIST_EXECUTIONS_TOKEN, NAME, PAGE_TOKEN, SENSITIVE_CAUSE,
    SENSITIVE_DATA, SENSITIVE_ERROR, TRACE_HEADER,
};
use super::{not_deleting, owned_machine, parse_arn, secs, ApiError, Ctx};
use crate::domain::arn::{parse_execution_arn, ExecutionArn, StateMachineRef};
use crate::domain::names::is_valid_machine_name;
use crate::domain::now_millis;
use crate::domain::records::{
    pick_route, Begin, Execution, ExecutionKey, ExecutionStatus, HistoryEvent, MachineType,
    NewExecution,
};
use crate::domain::scope::Scope;
use crate::engine::mocks::MockConfig;
use crate::engine::runner::{self, Applied, SystemEntropy};
use crate::engine::step::{self, Env, ExecutionInfo};
use crate::store::Tx;

/// `ExecutionStatus` in the order AWS's message lists it (not the model's).
const STATUS_FILTER: &[&str] = &[
    "SUCCEEDED",
    "TIMED_OUT",
    "PENDING_REDRIVE",
    "ABORTED",
    "FAILED",
    "RUNNING",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartExecutionInput {
    pub state_machine_arn: Option<String>,
    pub name: Option<String>,
    pub input: Option<String>,
    pub trace_header: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartExecutionOutput {
    pub execution_arn: String,
    pub start_date: f64,
}

/// Why an execution input is not JSON, in the words of AWS's parser (Jackson), inside
/// `Invalid State Machine Execution Input: '<reason>'` (executions-api.md §1.3).
fn input_error(text: &str, e: &serde_json::Error) -> ApiError {
    let reason = if text.trim().is_empty() {
        "Invalid execution input.".to_owned()
    } else if e.classify() == serde_json::error::Category::Eof {
        "Unexpected end-of-input: expected close marker".to_owned()
    } else {
        let at = byte_offset(text, e.line(), e.column());
        let rest = &text[at.min(text.len())..];
        let c = rest.chars().next().unwrap_or(' ');
        let message = e.to_string();
        if message.starts_with("key must be a string") {
            format!(
                "Unexpected character ('{c}' (code {})): was expecting double-quote to start field name",
                c as u32
            )
        } else if c.is_alphabetic() {
            // serde_json stops inside a word it took for `null`/`true`/`false`; Jackson
            // names the whole word.
            let start = text[..at.min(text.len())]
                .char_indices()
                .rev()
                .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
                .last()
                .map_or(at, |(i, _)| i);
            let token: String = text[start..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            format!("Unrecognized token '{token}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
        } else {
            format!("Unexpected character ('{c}' (code {})): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')", c as u32)
        }
    };
    ApiError::InvalidExecutionInput(format!("Invalid State Machine Execution Input: '{reason}'"))
}

/// The byte offset of serde_json's (1-based line, column) error position: the offending
/// character (serde_json counts the column up to and including it).
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let in_line = &text[line_start..];
    let col = column.saturating_sub(1);
    line_start
        + in_line
            .char_indices()
            .nth(col)
            .map_or(in_line.len(), |(i, _)| i)
}

/// The pattern of `TraceHeader` is `\p{ASCII}*`.
fn is_ascii(s: &str) -> bool {
    s.is_ascii()
}

/// What StartExecution resolved its ARN to.
pub(crate) struct Resolved {
    pub(crate) kind: MachineType,
    pub(crate) machine: crate::domain::arn::MachineArn,
    pub(crate) machine_arn: String,
    pub(crate) revision: crate::domain::records::RevisionKey,
    pub(crate) snapshot: crate::domain::records::Snapshot,
    pub(crate) version_arn: Option<String>,
    pub(crate) alias_arn: Option<String>,
}

/// The revision a start runs: the machine's latest, a version's, or (weighted by `roll`)
/// one of an alias's versions.
pub(crate) fn resolve_start(
    tx: &dyn Tx,
    scope: &Scope,
    target: &StateMachineRef,
    arn_text: &str,
    roll: u64,
) -> Result<Resolved, ApiError> {
    let missing = || ApiError::does_not_exist(arn_text);
    let m = owned_machine(tx, scope, target)?.ok_or_else(missing)?;
    not_deleting(&m)?;
    let machine = target.machine();
    let (revision, version_arn, alias_arn) = match target {
        StateMachineRef::Machine(_) => (tx.machines().current_revision(m.key)?, None, None),
        StateMachineRef::Version(_, n) => {
            let ver = tx.versions().find(m.key, *n)?.ok_or_else(missing)?;
            (
                tx.machines().revision(ver.revision)?,
                Some(arn_text.to_owned()),
                None,
            )
        }
        StateMachineRef::Alias(_, a) => {
            let alias = tx.aliases().find(m.key, a)?.ok_or_else(missing)?;
            let routes = tx.aliases().routes(alias.key)?;
            let route = pick_route(&routes, roll).ok_or_else(missing)?;
            let ver = tx
                .versions()
                .find(m.key, route.number)?
                .ok_or_else(missing)?;
            (
                tx.machines().revision(ver.revision)?,
                Some(machine.version(route.number)),
                Some(arn_text.to_owned()),
            )
        }
    };
    Ok(Resolved {
        kind: m.kind,
        machine: machine.clone(),
        machine_arn: m.arn,
        revision: revision.key,
        snapshot: revision.snapshot,
        version_arn,
        alias_arn,
    })
}

/// A checked StartExecution request.
pub(crate) struct Prepared {
    pub(crate) arn_text: String,
    /// The mock configuration's test case, from `<arn>#<TestCase>`.
    pub(crate) test_case: Option<String>,
    pub(crate) target: StateMachineRef,
    pub(crate) name: String,
    pub(crate) input_text: String,
    pub(crate) parsed: Value,
    pub(crate) trace_header: Option<String>,
}

/// StartExecution's checks of the request itself (§1.1–§1.3, §1.5).
pub(crate) fn prepare(input: StartExecutionInput) -> Result<Prepared, ApiError> {
    let mut v = Violations::default();
    v.required_member("stateMachineArn", &input.state_machine_arn, ARN);
    v.member("name", input.name.as_deref(), NAME);
    v.member("input", input.input.as_deref(), SENSITIVE_DATA);
    v.member("traceHeader", input.trace_header.as_deref(), TRACE_HEADER);
    v.pattern(
        "traceHeader",
        input.trace_header.as_deref(),
        r"\p{ASCII}*",
        is_ascii,
    );
    v.finish()?;
    let arn_text = input.state_machine_arn.unwrap_or_default();
    let (arn_text, test_case) = match arn_text.split_once('#') {
        Some((arn, case)) => (arn.to_owned(), Some(case.to_owned())),
        None => (arn_text, None),
    };
    let target = parse_arn(&arn_text)?;
    let name = match input.name {
        Some(n) if !is_valid_machine_name(&n) => {
            return Err(ApiError::InvalidName(format!("Invalid Name: '{n}'")))
        }
        Some(n) => n,
        None => uuid::Uuid::new_v4().to_string(),
    };
    // An absent input is `{}`; a given one is kept exactly as sent.
    let input_text = input.input.unwrap_or_else(|| "{}".to_owned());
    let parsed: Value =
        serde_json::from_str(&input_text).map_err(|e| input_error(&input_text, &e))?;
    Ok(Prepared {
        arn_text,
        test_case,
        target,
        name,
        input_text,
        parsed,
        trace_header: input.trace_header,
    })
}

/// A random number for an alias's weighted routing.
pub(crate) fn roll() -> u64 {
    u64::from_le_bytes(
        uuid::Uuid::new_v4().as_bytes()[..8]
            .try_into()
            .unwrap_or([0; 8]),
    )
}

/// A start, computed: the new execution's ARN and its first transitions.
struct Begun {
    execution_arn: String,
    first: Vec<HistoryEvent>,
    moved: Applied,
}

/// The first transitions that need no time (a chain of Pass states, a Choice, up to the
/// first Wait or Task), run before the start is written and committed with it: one write
/// for what would otherwise be a start and a step.
fn begin(
    p: &Prepared,
    resolved: &Resolved,
    loaded: &crate::engine::definitions::Loaded,
    existing: &std::collections::HashSet<String>,
    mocks: &MockConfig,
    time_scale: f64,
    now: i64,
) -> Result<Begun, ApiError> {
    let case = match &p.test_case {
        Some(c) => Some(mocks.test_case(&resolved.machine.name, c).ok_or_else(|| {
            ApiError::ValidationException(format!(
                "Test case '{c}' of state machine '{}' is not in the mock configuration",
                resolved.machine.name
            ))
        })?),
        None => None,
    };
    let execution_arn = ExecutionArn {
        machine: resolved.machine.clone(),
        name: p.name.clone(),
    }
    .to_string();
    let info = ExecutionInfo {
        execution_arn: execution_arn.clone(),
        name: p.name.clone(),
        state_machine_arn: resolved.machine_arn.clone(),
        state_machine_name: resolved.machine.name.clone(),
        role_arn: resolved.snapshot.role_arn.clone(),
        input: p.parsed.clone(),
        start_ms: now,
        redrive_count: Some(0),
        redrive_ms: None,
        context: None,
    };
    let mut resume = None;
    let mut entropy = SystemEntropy;
    let exists = |arn: &str| existing.contains(arn);
    let mut env = Env {
        time_scale,
        activity_exists: &exists,
        mocks: case.map(|c| (mocks, c)),
        resume: Some(&mut resume),
        map_runs: true,
        ..Env::new(&info, now, &mut entropy)
    };
    let mut progress = step::start();
    progress.test_case = p.test_case.clone();
    let (first, next) = runner::transitions(&loaded.definition, progress, &mut env);
    let (first, moved) = runner::applied(first, next, now, resume);
    Ok(Begun {
        execution_arn,
        first,
        moved,
    })
}

/// Writes a computed start: the execution with its ExecutionStarted event and first
/// transitions, RUNNING or already closed. A repeat with the same name and input while it
/// runs answers the original (§1.4). Returns the execution's ARN and start time.
fn commit_start(
    tx: &dyn Tx,
    p: &Prepared,
    resolved: &Resolved,
    begun: &Begun,
    parent_token: Option<&str>,
    now: i64,
) -> Result<(String, i64), ApiError> {
    let m = tx
        .machines()
        .find(&resolved.machine_arn)?
        .ok_or_else(|| ApiError::does_not_exist(&p.arn_text))?;
    not_deleting(&m)?;
    let mut details = Map::new();
    details.insert("input".into(), json!(p.input_text));
    details.insert("inputDetails".into(), json!({"truncated": false}));
    details.insert("roleArn".into(), json!(resolved.snapshot.role_arn));
    if let Some(v) = &resolved.version_arn {
        details.insert("stateMachineVersionArn".into(), json!(v));
    }
    if let Some(a) = &resolved.alias_arn {
        details.insert("stateMachineAliasArn".into(), json!(a));
    }
    let mut events = Vec::with_capacity(1 + begun.first.len());
    events.push(HistoryEvent {
        id: 1,
        previous_id: 0,
        kind: "ExecutionStarted".into(),
        timestamp_ms: now,
        details: Some(json!({"executionStartedEventDetails": details}).to_string()),
    });
    events.extend_from_slice(&begun.first);
    let (begin, tasks) = match &begun.moved {
        Applied::Advance {
            position,
            due,
            tasks,
            ..
        } => (
            Begin::Running {
                position,
                due_ms: *due,
            },
            tasks.as_slice(),
        ),
        Applied::Close(closing) => (Begin::Closed(closing), &[][..]),
    };
    let new = NewExecution {
        arn: &begun.execution_arn,
        machine_arn: &m.arn,
        name: &p.name,
        version_arn: resolved.version_arn.as_deref(),
        alias_arn: resolved.alias_arn.as_deref(),
        revision: resolved.revision,
        input: &p.input_text,
        trace_header: p.trace_header.as_deref(),
        start_ms: now,
        parent_token,
        map_run: None,
    };
    if let Some(key) = tx.executions().start(&new, &events, begin)? {
        runner::index_tasks(tx, key, tasks, now)?;
        if matches!(&begun.moved, Applied::Advance { map_runs: true, .. }) {
            crate::engine::map_runs::create_stored(tx, key, now)?;
        }
        return Ok((begun.execution_arn.clone(), now));
    }
    // The name is taken: idempotent only while running and only for the very same input text.
    let existing = tx
        .executions()
        .find_by_name(&m.arn, &p.name)?
        .ok_or_else(|| ApiError::InternalFailure("an execution name is taken by none".into()))?;
    if existing.status == ExecutionStatus::Running && existing.input == p.input_text {
        return Ok((existing.arn, existing.start_ms));
    }
    Err(ApiError::execution_already_exists(&existing.arn))
}

/// StartExecution: picks the revision (latest, a version's, or an alias's routed version's),
/// commits the RUNNING execution with its ExecutionStarted event, then wakes the runner.
pub async fn start_execution(
    ctx: Ctx,
    input: StartExecutionInput,
) -> Result<StartExecutionOutput, ApiError> {
    // An X-Amzn-Trace-Id header wins over the body's member (executions-api.md §1.5).
    let mut input = input;
    if ctx.trace_id.is_some() {
        input.trace_header = ctx.trace_id.clone();
    }
    let p = prepare(input)?;
    let scope = ctx.scope.clone();
    let roll = roll();
    // Resolving the ARN is a read, done off the writer; the write re-checks only what a
    // concurrent request could have changed (the machine, the name).
    let (target, arn_for_read) = (p.target.clone(), p.arn_text.clone());
    let resolved = ctx
        .store
        .read(move |tx| resolve_start(tx, &scope, &target, &arn_for_read, roll))
        .await?;
    if resolved.kind == MachineType::Express {
        return super::express::start_async(&ctx, p, resolved);
    }
    let loaded = ctx
        .definitions
        .load(resolved.revision, &resolved.snapshot)
        .map_err(ApiError::InternalFailure)?;
    let existing = if loaded.activities.is_empty() {
        std::collections::HashSet::new()
    } else {
        let named = loaded.activities.clone();
        ctx.store
            .read(move |tx| runner::existing_activities(tx, &named))
            .await?
    };
    let now = now_millis();
    let mocks = ctx.mocks.current();
    let begun = begin(
        &p,
        &resolved,
        &loaded,
        &existing,
        &mocks,
        ctx.limits.time_scale,
        now,
    )?;
    let still_running = matches!(begun.moved, Applied::Advance { .. });
    let queued = begun.moved.queues_work();
    let started = ctx
        .store
        .write(move |tx| commit_start(tx, &p, &resolved, &begun, None, now))
        .await?;
    if still_running {
        ctx.runner.notify_one();
    }
    if queued {
        ctx.tasks.notify_waiters();
    }
    Ok(StartExecutionOutput {
        execution_arn: started.0,
        start_date: secs(started.1),
    })
}

/// StartExecution made by a workflow (`states:startExecution`, `aws-sdk:sfn:startExecution`)
/// inside the runner's write: the same checks and records as the operation, all in `tx`.
/// `parent_token` links a `.sync` child to the task waiting for it.
#[allow(clippy::too_many_arguments)]
pub fn start_in(
    tx: &dyn Tx,
    definitions: &crate::engine::definitions::Definitions,
    mocks: &MockConfig,
    time_scale: f64,
    scope: &Scope,
    input: StartExecutionInput,
    parent_token: Option<&str>,
    now: i64,
) -> Result<(String, i64), ApiError> {
    let p = prepare(input)?;
    let resolved = resolve_start(tx, scope, &p.target, &p.arn_text, roll())?;
    if resolved.kind == MachineType::Express {
        // An EXPRESS child runs outside the store; a workflow's call is made inside a write.
        return Err(ApiError::type_not_supported());
    }
    let loaded = definitions
        .load(resolved.revision, &resolved.snapshot)
        .map_err(ApiError::InternalFailure)?;
    let existing = runner::existing_activities(tx, &loaded.activities)?;
    let begun = begin(&p, &resolved, &loaded, &existing, mocks, time_scale, now)?;
    commit_start(tx, &p, &resolved, &begun, parent_token, now)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeExecutionInput {
    pub execution_arn: Option<String>,
    pub included_data: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Included {
    pub(crate) included: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeExecutionOutput {
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub status: &'static str,
    pub start_date: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    pub input_details: Included,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_details: Option<Included>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_alias_arn: Option<String>,
    pub redrive_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_date: Option<f64>,
    pub redrive_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_status_reason: Option<String>,
    /// A map run's child names its run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
}

/// Finds the caller's execution; an ARN of another account or region finds nothing.
pub(crate) fn owned_execution(
    tx: &dyn Tx,
    scope: &Scope,
    arn: &str,
) -> Result<Execution, ApiError> {
    // A map run's EXPRESS children are stored, and described, as executions.
    let parsed = match parse_execution_arn(arn) {
        Ok(p) => p,
        Err(e) => crate::domain::arn::parse_express_child_arn(arn).ok_or(e)?,
    };
    let missing = || ApiError::execution_does_not_exist(arn);
    if !scope.owns(&parsed.machine) {
        return Err(missing());
    }
    tx.executions().find(arn)?.ok_or_else(missing)
}

/// Checks the `executionArn` member every execution operation requires.
fn check_execution_arn(v: &mut Violations, arn: &Option<String>) {
    v.required_member("executionArn", arn, ARN);
}

/// DescribeExecution (§2.1): what is absent is left out, never null.
pub async fn describe_execution(
    ctx: Ctx,
    input: DescribeExecutionInput,
) -> Result<DescribeExecutionOutput, ApiError> {
    let mut v = Violations::default();
    check_execution_arn(&mut v, &input.execution_arn);
    v.one_of(
        "includedData",
        input.included_data.as_deref(),
        INCLUDED_DATA,
    );
    v.finish()?;
    let arn = input.execution_arn.unwrap_or_default();
    let metadata_only = input.included_data.as_deref() == Some("METADATA_ONLY");
    let scope = ctx.scope.clone();
    let (e, run) = ctx
        .store
        .read(move |tx| {
            let e = owned_execution(tx, &scope, &arn)?;
            let run = match e.map_run {
                Some(c) => tx.map_runs().get(c.run)?.map(|r| r.arn),
                None => None,
            };
            Ok::<_, ApiError>((e, run))
        })
        .await?;
    Ok(DescribeExecutionOutput {
        map_run_arn: run,
        ..describe(e, metadata_only)
    })
}

/// DescribeExecution's answer for an execution.
pub(crate) fn describe(e: Execution, metadata_only: bool) -> DescribeExecutionOutput {
    let succeeded = e.status == ExecutionStatus::Succeeded;
    let (redrive_status, redrive_status_reason) = match not_redrivable(&e, now_millis()) {
        Some(reason) => ("NOT_REDRIVABLE", Some(reason)),
        // A map run's child is run again by redriving its parent, which redrives the run.
        None if e.map_run.is_some() => ("REDRIVABLE_BY_MAP_RUN", None),
        None => ("REDRIVABLE", None),
    };
    DescribeExecutionOutput {
        execution_arn: e.arn,
        state_machine_arn: e.machine_arn,
        name: e.name,
        status: e.status.as_str(),
        start_date: secs(e.start_ms),
        stop_date: e.stop_ms.map(secs),
        input: (!metadata_only).then_some(e.input),
        input_details: Included { included: true },
        output: if metadata_only { None } else { e.output },
        output_details: succeeded.then_some(Included { included: true }),
        error: e.error,
        cause: e.cause,
        trace_header: e.trace_header,
        state_machine_version_arn: e.version_arn,
        state_machine_alias_arn: e.alias_arn,
        redrive_count: e.redrive_count as i64,
        redrive_date: e.redrive_ms.map(secs),
        redrive_status,
        redrive_status_reason,
        map_run_arn: None,
    }
}

/// How long after its stop an execution may be redriven (AWS: 14 days).
const REDRIVE_WINDOW_MS: i64 = 14 * 24 * 3600 * 1000;

/// Why an execution cannot be redriven now, if it cannot (executions-api.md §7): it runs or
/// succeeded, its stop is older than 14 days, its history has no room, or nothing records
/// where it would resume.
fn not_redrivable(e: &Execution, now: i64) -> Option<String> {
    match e.status {
        ExecutionStatus::Running | ExecutionStatus::Succeeded => Some(format!(
            "Execution is {} and cannot be redriven",
            e.status.as_str()
        )),
        _ if e.stop_ms.is_some_and(|s| now - s > REDRIVE_WINDOW_MS) => {
            Some("Execution was stopped more than 14 days ago and cannot be redriven".into())
        }
        _ if e.last_event + 2 > step::MAX_EVENTS => Some(
            "Execution has reached the maximum number of history events and cannot be redriven"
                .into(),
        ),
        _ if e.resume.is_none() => Some("Execution cannot be redriven".into()),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedriveExecutionInput {
    pub execution_arn: Option<String>,
    pub client_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedriveExecutionOutput {
    pub redrive_date: f64,
}

/// RedriveExecution (§7): a FAILED, TIMED_OUT or ABORTED execution runs again from the state
/// it ended in, with the same ARN, input and history (`ExecutionRedriven` appended), its
/// successful states not run again.
pub async fn redrive_execution(
    ctx: Ctx,
    input: RedriveExecutionInput,
) -> Result<RedriveExecutionOutput, ApiError> {
    let mut v = Violations::default();
    check_execution_arn(&mut v, &input.execution_arn);
    v.finish()?;
    let arn = input.execution_arn.unwrap_or_default();
    let scope = ctx.scope.clone();
    let now = now_millis();
    let redriven = ctx
        .store
        .write(move |tx| {
            let e = owned_execution(tx, &scope, &arn)?;
            if let Some(reason) = not_redrivable(&e, now) {
                return Err(ApiError::ExecutionNotRedrivable(reason));
            }
            if e.map_run.is_some() {
                return Err(ApiError::ExecutionNotRedrivable(
                    "Execution is a map run's child: it is redriven by redriving the execution that started the map run".into(),
                ));
            }
            let m = tx.machines().find(&e.machine_arn)?;
            if m.is_none_or(|m| m.deleting) {
                return Err(ApiError::ExecutionNotRedrivable(
                    "Execution cannot be redriven: its state machine is being deleted".into(),
                ));
            }
            if !crate::engine::tasks::redrive(tx, &e, now)? {
                return Err(ApiError::ExecutionNotRedrivable(
                    "Execution cannot be redriven".into(),
                ));
            }
            Ok::<_, ApiError>(now)
        })
        .await?;
    ctx.runner.notify_one();
    Ok(RedriveExecutionOutput {
        redrive_date: secs(redriven),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListExecutionsInput {
    pub state_machine_arn: Option<String>,
    pub status_filter: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub map_run_arn: Option<String>,
    pub redrive_filter: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionListItem {
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub status: &'static str,
    pub start_date: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_alias_arn: Option<String>,
    pub redrive_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_date: Option<f64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListExecutionsOutput {
    pub executions: Vec<ExecutionListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// ListExecutions' item for an execution.
fn list_item(e: crate::domain::records::ExecutionSummary) -> ExecutionListItem {
    ExecutionListItem {
        execution_arn: e.arn,
        state_machine_arn: e.machine_arn,
        name: e.name,
        status: e.status.as_str(),
        start_date: secs(e.start_ms),
        stop_date: e.stop_ms.map(secs),
        map_run_arn: None,
        item_count: None,
        state_machine_version_arn: e.version_arn,
        state_machine_alias_arn: e.alias_arn,
        redrive_count: e.redrive_count as i64,
        redrive_date: e.redrive_ms.map(secs),
    }
}

/// The keyset position of ListExecutions: the last execution's start time and key.
#[derive(Debug, Clone, Copy)]
struct Cursor(i64, ExecutionKey);

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.0, self.1 .0)
    }
}

impl std::str::FromStr for Cursor {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let (start, key) = s.split_once('/').ok_or(())?;
        Ok(Cursor(
            start.parse().map_err(|_| ())?,
            ExecutionKey(key.parse().map_err(|_| ())?),
        ))
    }
}

/// ListExecutions of a map run: its children newest first, each with its run and the items
/// it ran.
async fn list_map_run_children(
    ctx: Ctx,
    map_run: String,
    status_filter: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
) -> Result<ListExecutionsOutput, ApiError> {
    let status = status_filter.as_deref().and_then(ExecutionStatus::parse);
    let paging: Paging<Cursor> = Paging::start(
        "ListExecutions",
        format!("{map_run}|{}", status_filter.as_deref().unwrap_or("")),
        max_results,
        next_token.as_deref(),
    )?;
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let run = super::map_runs::owned_run(tx, &scope, &map_run)?;
            // PENDING_REDRIVE: nothing of a run waits for a redrive.
            let rows = if status_filter.as_deref() == Some("PENDING_REDRIVE") {
                Vec::new()
            } else {
                tx.executions().list_children(
                    run.key,
                    status,
                    paging.after.map(|c| (c.0, c.1)),
                    paging.fetch(),
                )?
            };
            let (rows, next_token) = paging.finish(rows, |e| Cursor(e.start_ms, e.key));
            Ok(ListExecutionsOutput {
                executions: rows
                    .into_iter()
                    .map(|e| ExecutionListItem {
                        item_count: e.map_run.map(|c| c.items),
                        map_run_arn: Some(run.arn.clone()),
                        ..list_item(e)
                    })
                    .collect(),
                next_token,
            })
        })
        .await
}

/// ListExecutions (§3): newest first by start; by a version ARN only the executions that
/// ran that version (directly or through an alias), by an alias ARN those started through it.
pub async fn list_executions(
    ctx: Ctx,
    input: ListExecutionsInput,
) -> Result<ListExecutionsOutput, ApiError> {
    let mut v = Violations::default();
    v.member("stateMachineArn", input.state_machine_arn.as_deref(), ARN);
    v.one_of(
        "statusFilter",
        input.status_filter.as_deref(),
        STATUS_FILTER,
    );
    v.range("maxResults", input.max_results, 0, 1000);
    v.member(
        "nextToken",
        input.next_token.as_deref(),
        LIST_EXECUTIONS_TOKEN,
    );
    v.member(
        "mapRunArn",
        input.map_run_arn.as_deref(),
        super::validate::LONG_ARN,
    );
    v.one_of(
        "redriveFilter",
        input.redrive_filter.as_deref(),
        &["REDRIVEN", "NOT_REDRIVEN"],
    );
    v.finish()?;
    let arn_text = match (input.state_machine_arn, input.map_run_arn) {
        (Some(arn), None) => arn,
        (None, Some(map_run)) => {
            return list_map_run_children(
                ctx,
                map_run,
                input.status_filter,
                input.max_results,
                input.next_token,
            )
            .await;
        }
        _ => {
            return Err(ApiError::ValidationException(
                "Must provide a StateMachine ARN or MapRun ARN".into(),
            ))
        }
    };
    if input.status_filter.as_deref() == Some("PENDING_REDRIVE") {
        return Err(ApiError::ValidationException(
            "The statusFilter PENDING_REDRIVE is only valid with a mapRunArn".into(),
        ));
    }
    let target = parse_arn(&arn_text)?;
    let status = input
        .status_filter
        .as_deref()
        .and_then(ExecutionStatus::parse);
    let redriven = match input.redrive_filter.as_deref() {
        Some("REDRIVEN") => Some(true),
        Some("NOT_REDRIVEN") => Some(false),
        _ => None,
    };
    let paging: Paging<Cursor> = Paging::start(
        "ListExecutions",
        format!(
            "{arn_text}|{}|{}",
            input.status_filter.as_deref().unwrap_or(""),
            input.redrive_filter.as_deref().unwrap_or("")
        ),
        input.max_results,
        input.next_token.as_deref(),
    )?;
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let missing = || ApiError::does_not_exist(&arn_text);
            let m = owned_machine(tx, &scope, &target)?.ok_or_else(missing)?;
            if m.kind == MachineType::Express {
                return Err(ApiError::type_not_supported());
            }
            let qualifier = match &target {
                StateMachineRef::Machine(_) => None,
                StateMachineRef::Version(_, n) => {
                    tx.versions().find(m.key, *n)?.ok_or_else(missing)?;
                    Some(arn_text.as_str())
                }
                StateMachineRef::Alias(_, a) => {
                    tx.aliases().find(m.key, a)?.ok_or_else(missing)?;
                    Some(arn_text.as_str())
                }
            };
            let rows = tx.executions().list(
                &m.arn,
                qualifier,
                status,
                redriven,
                paging.after.map(|c| (c.0, c.1)),
                paging.fetch(),
            )?;
            let (rows, next_token) = paging.finish(rows, |e| Cursor(e.start_ms, e.key));
            Ok(ListExecutionsOutput {
                executions: rows.into_iter().map(list_item).collect(),
                next_token,
            })
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopExecutionInput {
    pub execution_arn: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StopExecutionOutput {
    pub stop_date: f64,
}

/// StopExecution (§4): one ExecutionAborted event (previous id 0) and status ABORTED, in
/// one commit; whatever the stopped state was about to do is never recorded. A closed
/// execution stays as it is and answers its own stop date.
pub async fn stop_execution(
    ctx: Ctx,
    input: StopExecutionInput,
) -> Result<StopExecutionOutput, ApiError> {
    let mut v = Violations::default();
    check_execution_arn(&mut v, &input.execution_arn);
    v.member("error", input.error.as_deref(), SENSITIVE_ERROR);
    v.member("cause", input.cause.as_deref(), SENSITIVE_CAUSE);
    v.finish()?;
    let arn = input.execution_arn.unwrap_or_default();
    let (error, cause) = (input.error, input.cause);
    let scope = ctx.scope.clone();
    let stop_ms = ctx
        .store
        .write(move |tx| {
            let e = owned_execution(tx, &scope, &arn)?;
            if let Some(stopped) = e.stop_ms {
                return Ok(stopped);
            }
            let now = now_millis();
            crate::engine::tasks::stop(tx, &e, error.clone(), cause.clone(), now)?;
            Ok::<_, ApiError>(now)
        })
        .await?;
    Ok(StopExecutionOutput {
        stop_date: secs(stop_ms),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetExecutionHistoryInput {
    pub execution_arn: Option<String>,
    pub max_results: Option<i64>,
    pub reverse_order: Option<bool>,
    pub next_token: Option<String>,
    pub include_execution_data: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetExecutionHistoryOutput {
    pub events: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// The data members `includeExecutionData = false` leaves out (§5); the `*Details`
/// objects stay.
const DATA_MEMBERS: &[&str] = &["input", "output", "parameters", "assignedVariables"];

/// One history event as the API shows it.
fn event_json(e: HistoryEvent, include_data: bool) -> Value {
    let mut obj = Map::new();
    obj.insert("timestamp".into(), json!(secs(e.timestamp_ms)));
    obj.insert("type".into(), json!(e.kind));
    obj.insert("id".into(), json!(e.id));
    obj.insert("previousEventId".into(), json!(e.previous_id));
    if let Some(Ok(Value::Object(details))) = e.details.as_deref().map(serde_json::from_str) {
        for (member, mut value) in details {
            if !include_data {
                if let Value::Object(fields) = &mut value {
                    fields.retain(|k, _| !DATA_MEMBERS.contains(&k.as_str()));
                }
            }
            obj.insert(member, value);
        }
    }
    Value::Object(obj)
}

/// GetExecutionHistory (§5): ascending ids, or the exact reverse; readable while running.
pub async fn get_execution_history(
    ctx: Ctx,
    input: GetExecutionHistoryInput,
) -> Result<GetExecutionHistoryOutput, ApiError> {
    let mut v = Violations::default();
    check_execution_arn(&mut v, &input.execution_arn);
    v.range("maxResults", input.max_results, 0, 1000);
    v.member("nextToken", input.next_token.as_deref(), PAGE_TOKEN);
    v.finish()?;
    let arn = input.execution_arn.unwrap_or_default();
    let reverse = input.reverse_order.unwrap_or(false);
    let include_data = input.include_execution_data.unwrap_or(true);
    parse_execution_arn(&arn)?;
    let paging: Paging<u64> = Paging::start(
        "GetExecutionHistory",
        format!("{arn}|{reverse}"),
        input.max_results,
        input.next_token.as_deref(),
    )?;
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let e = owned_execution(tx, &scope, &arn)?;
            let rows = tx
                .executions()
                .history(e.key, paging.after, reverse, paging.fetch())?;
            let (rows, next_token) = paging.finish(rows, |ev| ev.id);
            Ok(GetExecutionHistoryOutput {
                events: rows
                    .into_iter()
                    .map(|ev| event_json(ev, include_data))
                    .collect(),
                next_token,
            })
        })
        .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineForExecutionInput {
    pub execution_arn: Option<String>,
    pub included_data: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineForExecutionOutput {
    pub state_machine_arn: String,
    pub name: String,
    pub definition: String,
    pub role_arn: String,
    pub update_date: f64,
    pub logging_configuration: Value,
    pub tracing_configuration: Value,
    pub encryption_configuration: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variable_references: Option<super::state_machines::VariableReferences>,
    /// A map run's child: its run, and the label its machine ARN ends with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// The `ItemProcessor` (or `Iterator`) of the Map state called `name` anywhere in a
/// definition, as JSON text.
fn processor_text(definition: &Value, name: &str) -> Option<String> {
    let states = definition.get("States")?.as_object()?;
    for (state_name, state) in states {
        let processor = state.get("ItemProcessor").or_else(|| state.get("Iterator"));
        if state_name == name {
            if let Some(p) = processor {
                return Some(p.to_string());
            }
        }
        let inner = processor.into_iter().chain(
            state
                .get("Branches")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
        for scope in inner {
            if let Some(t) = processor_text(scope, name) {
                return Some(t);
            }
        }
    }
    None
}

/// DescribeStateMachineForExecution (§6.1): the revision the execution runs, even after
/// the machine was updated; for a version's execution, that version's.
pub async fn describe_state_machine_for_execution(
    ctx: Ctx,
    input: DescribeStateMachineForExecutionInput,
) -> Result<DescribeStateMachineForExecutionOutput, ApiError> {
    let mut v = Violations::default();
    check_execution_arn(&mut v, &input.execution_arn);
    v.one_of(
        "includedData",
        input.included_data.as_deref(),
        INCLUDED_DATA,
    );
    v.finish()?;
    let arn = input.execution_arn.unwrap_or_default();
    let metadata_only = input.included_data.as_deref() == Some("METADATA_ONLY");
    let scope = ctx.scope.clone();
    let definitions = ctx.definitions.clone();
    ctx.store
        .read(move |tx| {
            let e = owned_execution(tx, &scope, &arn)?;
            let revision = tx.machines().revision(e.revision)?;
            let name = e.machine_name().to_owned();
            let variable_references =
                super::state_machines::variable_references(&definitions, &revision, metadata_only);
            let s = revision.snapshot;
            let json = super::state_machines::parse_json;
            // A map run's child runs its Map state's ItemProcessor.
            let run = match e.map_run {
                Some(c) => tx.map_runs().get(c.run)?,
                None => None,
            };
            let definition = match &run {
                Some(r) => serde_json::from_str::<Value>(&s.definition)
                    .ok()
                    .and_then(|d| processor_text(&d, &r.map_state))
                    .unwrap_or_else(|| s.definition.clone()),
                None => s.definition.clone(),
            };
            let label = run
                .as_ref()
                .and_then(|r| r.machine_arn.rsplit_once('/').map(|(_, l)| l.to_owned()));
            Ok(DescribeStateMachineForExecutionOutput {
                state_machine_arn: e.machine_arn,
                name,
                definition: if metadata_only {
                    "{}".into()
                } else {
                    definition
                },
                map_run_arn: run.map(|r| r.arn),
                label,
                role_arn: s.role_arn,
                update_date: secs(revision.created_ms),
                logging_configuration: json(&s.logging),
                tracing_configuration: json(&s.tracing),
                encryption_configuration: json(&s.encryption),
                revision_id: revision.revision_id.map(|r| r.0),
                variable_references,
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> String {
        let e = serde_json::from_str::<Value>(text).unwrap_err();
        input_error(text, &e).to_string()
    }

    #[test]
    fn invalid_inputs_are_described_as_aws_parser_describes_them() {
        assert_eq!(
            reason("not some json"),
            "Invalid State Machine Execution Input: 'Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')'"
        );
        assert_eq!(
            reason("{'not': 'json'"),
            "Invalid State Machine Execution Input: 'Unexpected character (''' (code 39)): was expecting double-quote to start field name'"
        );
        assert_eq!(
            reason(""),
            "Invalid State Machine Execution Input: 'Invalid execution input.'"
        );
    }

    #[test]
    fn list_cursor_round_trips() {
        let c: Cursor = Cursor(1_764_600_000_123, ExecutionKey(42))
            .to_string()
            .parse()
            .unwrap();
        assert_eq!((c.0, c.1), (1_764_600_000_123, ExecutionKey(42)));
        assert!("x/1".parse::<Cursor>().is_err());
    }
}
