//! Calls to services outside sfnlite: HTTP endpoints (`http:invoke`), Lambda (`lambda:invoke`
//! and bare function ARNs), SQS, SNS, DynamoDB, EventBridge, S3 and any `aws-sdk:` service
//! at the endpoint the configuration names. The engine owns when a call is made and what
//! its answer means; how a call travels (endpoints, protocols, signing, error names) is the
//! [`Outside`] implementation's (`crate::integrations`), which the engine never sees.
//!
//! At most once across crashes: the runner marks a call `sent` and indexes it in
//! `calls_in_flight` in a commit *before* handing it to the network, and the answer is
//! recorded by a later write that removes the row. A row found at start-up is a call whose
//! fate is unknown: it is not sent again — its task fails with the integration's
//! "no response" error ([`Outside::lost`]), so only the workflow's Retry can repeat it (AWS:
//! a task is never run more than once unless a Retry says so).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

use super::step::{self, CallAnswer, Position, ServiceCall};
use crate::asl::resource::Pattern;
use crate::domain::records::ExecutionKey;
use crate::store::{StoreError, Tx};

/// The integration name of a Task whose resource is a bare Lambda function ARN.
pub const LEGACY_LAMBDA: &str = "lambda:function";

/// One call, as the runner hands it to the network.
#[derive(Debug, Clone)]
pub struct Request {
    /// `http:invoke`, `lambda:invoke`, `sqs:sendMessage`, `aws-sdk:dynamodb:getItem`, or
    /// [`LEGACY_LAMBDA`].
    pub integration: String,
    pub pattern: Pattern,
    /// The Task's resource ARN (the function ARN for [`LEGACY_LAMBDA`]).
    pub resource: String,
    /// The effective parameters (Parameters / Arguments evaluated).
    pub parameters: Value,
    /// The calling execution's region and account: the call is made there.
    pub region: String,
    pub account: String,
    pub execution_arn: String,
    /// The task's token; a `.waitForTaskToken` call carries it in its parameters already.
    pub token: String,
    /// Milliseconds left before the task times out, when it has a TimeoutSeconds.
    pub timeout_ms: Option<i64>,
}

/// A call's answer, some time later.
pub type Answering = Pin<Box<dyn Future<Output = CallAnswer> + Send>>;

/// A call's answer with its trace (see [`Outside::traced`]).
pub type Traced = Pin<Box<dyn Future<Output = (CallAnswer, Option<Value>)> + Send>>;

/// Makes outside calls.
pub trait Outside: Send + Sync {
    /// Makes `request`; every failure (refusal, error status, timeout, no connection, no
    /// endpoint configured) is an answer with the error name AWS gives it.
    fn call(&self, request: Request) -> Answering;
    /// The answer of a call that needs no network (no endpoint configured for its service,
    /// a pattern or action not made), known before anything is sent: the runner records it
    /// in the commit that would have marked the call sent.
    fn answer_now(&self, request: &Request) -> Option<CallAnswer>;
    /// [`Outside::call`], and for TestState's TRACE level the HTTP `request` and `response`
    /// (HTTP Tasks only; `reveal`: with what a connection adds). Others trace nothing.
    fn traced(&self, request: Request, reveal: bool) -> Traced {
        let _ = reveal;
        let answering = self.call(request);
        Box::pin(async move { (answering.await, None) })
    }
    /// What a call gets whose answer will never come (it was in flight when sfnlite stopped).
    fn lost(&self, integration: &str, resource: &str) -> CallAnswer;
}

/// The answer for a call no [`Outside`] can make: the integration is not reachable from here.
pub fn unreachable(resource: &str) -> CallAnswer {
    CallAnswer::Failed {
        error: "States.TaskFailed".into(),
        cause: format!("sfnlite has no integration configured for the resource '{resource}'"),
    }
}

/// The `region` and `account` of an execution ARN.
fn scope(execution_arn: &str) -> (String, String) {
    let mut parts = execution_arn.split(':').skip(3);
    let region = parts.next().unwrap_or_default().to_owned();
    let account = parts.next().unwrap_or_default().to_owned();
    (region, account)
}

/// A request-response call the engine makes for itself (a Distributed Map's S3 reads and
/// writes), in the region and account of `arn` (any ARN of the execution's scope).
pub fn own_request(arn: &str, integration: &str, resource: &str, parameters: Value) -> Request {
    let (region, account) = scope(arn);
    Request {
        integration: integration.to_owned(),
        pattern: Pattern::RequestResponse,
        resource: resource.to_owned(),
        parameters,
        region,
        account,
        execution_arn: arn.to_owned(),
        token: String::new(),
        timeout_ms: None,
    }
}

/// Marks every unsent outside call of `position` sent and returns them as requests.
pub fn mark_sent(position: &mut Position, execution_arn: &str, now_ms: i64) -> Vec<Request> {
    let (region, account) = scope(execution_arn);
    step::unsent_calls(position)
        .into_iter()
        .filter_map(|t| {
            let timeout_ms = t.timeout_due.map(|d| (d - now_ms).max(0));
            let token = t.token.clone();
            let resource = t.activity.clone();
            let c = t.call.as_deref_mut()?;
            c.sent = true;
            Some(Request {
                integration: c.integration.clone(),
                pattern: c.pattern,
                resource,
                parameters: c.request.clone(),
                region: region.clone(),
                account: account.clone(),
                execution_arn: execution_arn.to_owned(),
                token,
                timeout_ms,
            })
        })
        .collect()
}

/// Answers every unsent outside call of `position` at once with `answer` (no [`Outside`]).
pub fn answer_unsent(position: &mut Position, answer: impl Fn(&str) -> CallAnswer) -> bool {
    let tasks = step::unsent_calls(position);
    let any = !tasks.is_empty();
    for t in tasks {
        let a = answer(&t.activity);
        if let Some(c) = t.call.as_deref_mut() {
            c.sent = true;
            c.answer = Some(a);
        }
    }
    any
}

/// Records `answer` for the call of `token` and takes it off `calls_in_flight`; returns the
/// execution to step when the answer reached its task (not when the task is over: timed
/// out, its execution stopped).
pub fn answer(
    tx: &dyn Tx,
    token: &str,
    answer: CallAnswer,
    now: i64,
) -> Result<Option<ExecutionKey>, StoreError> {
    answer_with(tx, token, now, |_, _| answer)
}

/// [`answer`] with the answer made from the call and its resource ARN, once its task is
/// found still waiting.
fn answer_with(
    tx: &dyn Tx,
    token: &str,
    now: i64,
    make: impl FnOnce(&ServiceCall, &str) -> CallAnswer,
) -> Result<Option<ExecutionKey>, StoreError> {
    tx.activities().call_answered(token)?;
    let Some(key) = tx.activities().task_execution(token)? else {
        return Ok(None);
    };
    let reached = super::tasks::with_task(tx, token, now, |t, now| {
        let resource = t.activity.clone();
        match t.call.as_deref_mut() {
            Some(c) if c.in_flight() => {
                c.answer = Some(make(c, &resource));
                Ok(Some((now, ())))
            }
            _ => Ok::<_, super::tasks::TaskError>(None),
        }
    });
    match reached {
        Ok(Some(())) => Ok(Some(key)),
        Ok(None) | Err(super::tasks::TaskError::Invalid | super::tasks::TaskError::Gone) => {
            Ok(None)
        }
        Err(super::tasks::TaskError::Store(e)) => Err(e),
    }
}

/// After a restart: every call that was in flight fails its task with what `outside` says
/// a lost call gets. Returns the executions to step.
pub fn recover(
    tx: &dyn Tx,
    outside: Option<&dyn Outside>,
    now: i64,
) -> Result<Vec<ExecutionKey>, StoreError> {
    let mut keys = Vec::new();
    for token in tx.activities().calls_in_flight()? {
        let lost = |c: &ServiceCall, resource: &str| match outside {
            Some(o) => o.lost(&c.integration, resource),
            None => unreachable(resource),
        };
        keys.extend(answer_with(tx, &token, now, lost)?);
    }
    Ok(keys)
}

/// Makes the outside calls of a run that is not stored (EXPRESS, TestState) and keeps their
/// answers in `position`; nothing to make at most once here, as nothing survives the process.
/// With `trace` (TestState at TRACE: `Some(reveal secrets)`), the traces of the calls made
/// are added to `traces`.
pub async fn perform_unstored(
    outside: Option<&Arc<dyn Outside>>,
    position: &mut Position,
    execution_arn: &str,
    now_ms: i64,
    trace: Option<(bool, &mut Vec<Value>)>,
) -> bool {
    let Some(o) = outside else {
        return answer_unsent(position, unreachable);
    };
    let requests = mark_sent(position, execution_arn, now_ms);
    if requests.is_empty() {
        return false;
    }
    let reveal = trace.as_ref().map(|(r, _)| *r);
    let mut answers = Vec::with_capacity(requests.len());
    let calls: Vec<_> = requests
        .into_iter()
        .map(|r| {
            let token = r.token.clone();
            let traced = match reveal {
                Some(reveal) => o.traced(r, reveal),
                None => {
                    let answering = o.call(r);
                    Box::pin(async move { (answering.await, None) })
                }
            };
            (token, tokio::spawn(traced))
        })
        .collect();
    let mut traces = Vec::new();
    for (token, handle) in calls {
        let (a, t) = handle.await.unwrap_or_else(|e| {
            (
                CallAnswer::Failed {
                    error: "States.TaskFailed".into(),
                    cause: format!("the call could not complete: {e}"),
                },
                None,
            )
        });
        traces.extend(t);
        answers.push((token, a));
    }
    if let Some((_, out)) = trace {
        out.extend(traces);
    }
    for (token, a) in answers {
        if let Some(t) = step::task_mut(position, &token) {
            if let Some(c) = t.call.as_deref_mut() {
                c.answer = Some(a);
            }
        }
    }
    true
}
