//! Tasks that call services outside sfnlite: where each call goes (the configured
//! endpoints), how it is framed and signed (the AWS protocols, SigV4 by `aws-sigv4`), and how
//! its answer or refusal becomes the task's output or error, as AWS names them. The engine
//! decides when a call is made and records what it answered ([`crate::engine::outside`]);
//! this module is the [`Outside`] it calls.
//!
//! - [`http_task`] makes `arn:aws:states:::http:invoke`;
//! - [`lambda`] makes `lambda:invoke` and bare function ARNs;
//! - [`aws`] makes the optimised SQS, SNS, DynamoDB and EventBridge integrations and
//!   `aws-sdk:<service>:<action>` (JSON-protocol services, SNS, S3), framing and signing;
//! - [`shapes`] knows what the operations answer, for TestState's check of mocked results.
//!
//! Knows HTTP and AWS's wire protocols; nothing of the store or of the interpreter.

pub mod aws;
pub mod http_task;
pub mod lambda;
pub mod settings;
pub mod shapes;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::asl::resource::Pattern;
use crate::engine::outside::{self, Answering, Outside, Request, Traced};
use crate::engine::step::CallAnswer;
pub use settings::{Connection, Connections, Endpoints};

/// How much longer than its task's time left a call may run (see [`Client::deadline`]).
const TIMEOUT_GRACE: Duration = Duration::from_secs(2);

/// The credentials outside calls are signed with.
#[derive(Clone)]
pub struct Signing {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Signing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signing")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The outside client: one connection pool for every integration.
pub struct Client {
    http: reqwest::Client,
    endpoints: Endpoints,
    signing: Signing,
    connections: Connections,
    /// OAuth tokens of HTTP Task connections, kept until they expire.
    tokens: Arc<http_task::Tokens>,
    /// Longest a call may take when its task has no shorter TimeoutSeconds.
    call_timeout: Duration,
    /// Calls on the wire at once; the others wait for a slot.
    slots: Arc<tokio::sync::Semaphore>,
}

/// What [`Client`] is built from.
pub struct Options {
    pub endpoints: Endpoints,
    pub signing: Signing,
    pub connections: Connections,
    pub call_timeout: Duration,
    pub concurrency: usize,
}

impl Client {
    pub fn new(o: Options) -> anyhow::Result<Arc<Self>> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Arc::new(Client {
            http,
            endpoints: o.endpoints,
            signing: o.signing,
            connections: o.connections,
            tokens: Arc::default(),
            call_timeout: o.call_timeout,
            slots: Arc::new(tokio::sync::Semaphore::new(o.concurrency.max(1))),
        }))
    }

    /// How long `request` may take: the configured limit (and the integration's `cap`), unless
    /// its task times out sooner — then a little longer than the task's time left, so that
    /// the task's own timeout (`States.Timeout`) is what ends it, never a race with ours.
    fn deadline(&self, request: &Request, cap: Option<Duration>) -> Duration {
        let mut d = self.call_timeout;
        if let Some(c) = cap {
            d = d.min(c);
        }
        match request.timeout_ms {
            Some(ms) if Duration::from_millis(ms.max(0) as u64) < d => {
                Duration::from_millis(ms.max(0) as u64) + TIMEOUT_GRACE
            }
            _ => d,
        }
    }
}

impl Client {
    fn http_task(&self, request: Request, trace: Option<bool>) -> Traced {
        let timeout = self.deadline(&request, Some(http_task::MAX_DURATION));
        let connections = self.connections.clone();
        let (http, tokens) = (self.http.clone(), self.tokens.clone());
        Box::pin(async move {
            http_task::invoke(&http, &connections, &tokens, request, timeout, trace).await
        })
    }

    /// The call itself, once it holds a slot.
    fn make(&self, request: Request) -> Answering {
        let integration = request.integration.clone();
        let (service, action) = split(&integration);
        let ctx = aws::Ctx {
            http: self.http.clone(),
            endpoints: self.endpoints.clone(),
            signing: self.signing.clone(),
        };
        match (service, action) {
            ("http", "invoke") => {
                let answering = self.http_task(request, None);
                Box::pin(async move { answering.await.0 })
            }
            ("lambda", _) => {
                let timeout = self.deadline(&request, None);
                Box::pin(async move { lambda::invoke(&ctx, request, timeout).await })
            }
            _ => {
                let timeout = self.deadline(&request, None);
                Box::pin(async move { aws::call(&ctx, request, timeout).await })
            }
        }
    }
}

impl Outside for Client {
    fn answer_now(&self, request: &Request) -> Option<CallAnswer> {
        if request.pattern == Pattern::Sync || request.pattern == Pattern::Sync2 {
            return Some(failed(
                "States.TaskFailed",
                format!(
                    "sfnlite does not run the .sync pattern of '{}' (only states:startExecution)",
                    request.resource
                ),
            ));
        }
        match split(&request.integration) {
            ("http", "invoke") => None,
            ("lambda", _) => self
                .endpoints
                .resolve("lambda", &request.region)
                .is_none()
                .then(|| outside::unreachable(&request.resource)),
            _ => aws::refuse_now(&self.endpoints, request),
        }
    }

    fn call(&self, request: Request) -> Answering {
        if let Some(a) = self.answer_now(&request) {
            return Box::pin(async move { a });
        }
        let slots = self.slots.clone();
        let making = self.make(request);
        Box::pin(async move {
            // A closed semaphore never happens (it lives as long as the client).
            let _slot = slots.acquire_owned().await;
            making.await
        })
    }

    fn traced(&self, request: Request, reveal: bool) -> Traced {
        if split(&request.integration) != ("http", "invoke") || self.answer_now(&request).is_some()
        {
            let answering = self.call(request);
            return Box::pin(async move { (answering.await, None) });
        }
        let slots = self.slots.clone();
        let making = self.http_task(request, Some(reveal));
        Box::pin(async move {
            let _slot = slots.acquire_owned().await;
            making.await
        })
    }
    fn lost(&self, integration: &str, resource: &str) -> CallAnswer {
        let (service, _) = split(integration);
        let cause = format!(
            "sfnlite stopped while this task's call to '{resource}' was in flight; the call may or may not have been made, so it is not made again"
        );
        let error = match service {
            "http" => "States.Http.Socket".to_owned(),
            "lambda" => "Lambda.SdkClientException".to_owned(),
            _ => format!("{}.SdkClientException", aws::error_prefix(integration)),
        };
        CallAnswer::Failed { error, cause }
    }
}

/// `(service, action)` of an integration name: `sqs:sendMessage`, `aws-sdk:s3:getObject`
/// (service `aws-sdk:s3`), `lambda:function` (a bare function ARN).
pub fn split(integration: &str) -> (&str, &str) {
    if let Some(rest) = integration.strip_prefix("aws-sdk:") {
        return match rest.split_once(':') {
            Some((service, action)) => (&integration[..8 + service.len()], action),
            None => (integration, ""),
        };
    }
    integration.split_once(':').unwrap_or((integration, ""))
}

/// A failure answer.
pub fn failed(error: impl Into<String>, cause: impl Into<String>) -> CallAnswer {
    CallAnswer::Failed {
        error: error.into(),
        cause: cause.into(),
    }
}

/// A body as the task sees it: JSON when it parses, else the text.
pub fn body_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}
