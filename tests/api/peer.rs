//! A small HTTP service of our own on loopback, the outside service HTTP Tasks and Lambda
//! Tasks call in these tests: it echoes requests, answers any status, never answers on
//! `/slow`, answers `/delay/<ms>/…` late, and serves Lambda's Invoke API for three functions
//! (`echo`, `boom`, and any other name: not found). It records every request as it arrives.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use serde_json::{json, Map, Value};

/// One request as the peer received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub headers: Map<String, Value>,
    pub body: String,
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Seen>>>);

impl Log {
    fn push(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Seen {
        let seen = Seen {
            method: method.to_string(),
            uri: uri.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        json!(String::from_utf8_lossy(v.as_bytes())),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(body).into_owned(),
        };
        self.0.lock().unwrap().push(seen.clone());
        seen
    }
}

pub struct Peer {
    pub url: String,
    log: Log,
    _task: tokio::task::JoinHandle<()>,
}

impl Peer {
    pub async fn start() -> Peer {
        let log = Log::default();
        let app = Router::new()
            .route("/echo", any(echo))
            .route("/echo/{*rest}", any(echo))
            .route("/status/{n}", get(status).post(status))
            .route("/slow", any(slow))
            .route("/delay/{ms}/{*rest}", any(delay))
            .route("/oauth/token", post(token))
            .route("/2015-03-31/functions/{name}/invocations", post(invoke))
            .with_state(log.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Peer {
            url,
            log,
            _task: task,
        }
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.log.0.lock().unwrap().clone()
    }

    /// How many requests had exactly this URI.
    pub fn calls_to(&self, uri: &str) -> usize {
        self.seen().iter().filter(|s| s.uri == uri).count()
    }

    /// How many requests reached `path` or below.
    pub fn hits(&self, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.uri.starts_with(path))
            .count()
    }
}

/// Every handler's request, recorded in the log as it arrives (before any delay).
impl FromRequest<Log> for Seen {
    type Rejection = Response;

    async fn from_request(req: Request, log: &Log) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()).into_response())?;
        Ok(log.push(&parts.method, &parts.uri, &parts.headers, &body))
    }
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(Value::as_str)
    }
}

async fn echo(seen: Seen) -> Response {
    let answer = json!({
        "method": seen.method,
        "uri": seen.uri,
        "headers": seen.headers,
        "body": seen.body,
    });
    (
        [("content-type", "application/json"), ("x-peer", "echo")],
        answer.to_string(),
    )
        .into_response()
}

async fn status(Path(n): Path<u16>, _: Seen) -> Response {
    let code = StatusCode::from_u16(n).unwrap_or(StatusCode::BAD_REQUEST);
    (
        code,
        [("content-type", "application/json")],
        json!({"status": n}).to_string(),
    )
        .into_response()
}

async fn slow(_: Seen) -> Response {
    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    StatusCode::OK.into_response()
}

/// An OAuth authorization endpoint: client `c1` with secret `s1` gets token `t-<n>`.
async fn token(State(log): State<Log>, seen: Seen) -> Response {
    let expected = "Basic YzE6czE="; // c1:s1
    if seen.header("authorization") != Some(expected) {
        return (StatusCode::UNAUTHORIZED, r#"{"error":"invalid_client"}"#).into_response();
    }
    let n = log
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.uri.starts_with("/oauth/token"))
        .count();
    (
        [("content-type", "application/json")],
        json!({"access_token": format!("t-{n}"), "token_type": "Bearer", "expires_in": 3600})
            .to_string(),
    )
        .into_response()
}

/// Echoes after `ms` milliseconds (calls that are in flight for a while).
async fn delay(Path((ms, _)): Path<(u64, String)>, seen: Seen) -> Response {
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    echo(seen).await
}

async fn invoke(Path(name): Path<String>, seen: Seen) -> Response {
    let function = name.rsplit(':').next().unwrap_or(&name).to_owned();
    let request_id = uuid::Uuid::new_v4().to_string();
    match function.as_str() {
        "echo" => {
            let payload = if seen.body.is_empty() {
                "null".to_owned()
            } else {
                seen.body.clone()
            };
            let mut r = (
                [
                    ("content-type", "application/json"),
                    ("x-amz-executed-version", "$LATEST"),
                    ("x-amzn-requestid", request_id.as_str()),
                ],
                payload,
            )
                .into_response();
            // The last 4 KB of the log, base64, when asked for (`LogType: Tail`).
            if seen.header("x-amz-log-type") == Some("Tail") {
                r.headers_mut()
                    .insert("x-amz-log-result", "U1RBUlQgZWNobw==".parse().unwrap());
            }
            r
        }
        "boom" => (
            [
                ("content-type", "application/json"),
                ("x-amz-executed-version", "$LATEST"),
                ("x-amz-function-error", "Unhandled"),
                ("x-amzn-requestid", request_id.as_str()),
            ],
            r#"{"errorMessage":"it broke","errorType":"ValueError","stackTrace":["line 1"]}"#,
        )
            .into_response(),
        _ => (
            StatusCode::NOT_FOUND,
            [
                ("content-type", "application/json"),
                (
                    "x-amzn-errortype",
                    "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.awslambda/",
                ),
                ("x-amzn-requestid", request_id.as_str()),
            ],
            json!({"Type": "User", "message": format!("Function not found: arn:aws:lambda:us-east-1:123456789012:function:{function}")}).to_string(),
        )
            .into_response(),
    }
}
