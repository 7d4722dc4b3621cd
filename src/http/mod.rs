//! The AWS JSON 1.0 protocol: `POST /` with `X-Amz-Target: AWSStepFunctions.<Operation>`,
//! the caller's scope from the SigV4 `Authorization` header, body limits, request ids and
//! error rendering, plus `GET /health`. Knows HTTP, nothing about SQL.

pub mod error;
pub mod metrics;
pub mod sigv4;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};
use axum::Router;
use http_body_util::BodyExt;

use crate::api::{self, ApiError, Ctx, Limits};
use crate::domain::arn::{is_account, is_region};
use crate::domain::scope::Scope;
use crate::store::Store;

const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// Limits on what one request may cost.
#[derive(Debug, Clone)]
pub struct RequestLimits {
    /// Largest body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Longest a body may stall between chunks (408 and the connection is dropped).
    pub idle_timeout: Duration,
    /// Longest a whole request may take (408).
    pub request_timeout: Duration,
    /// Deepest JSON nesting accepted in a body or a definition.
    pub max_json_depth: usize,
}

/// What the protocol layer needs for every request.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub limits: Arc<Limits>,
    pub default_region: String,
    pub default_account: String,
    pub requests: Arc<RequestLimits>,
    /// `Some` when `auth_mode = sigv4`: every API request must be signed by one of these keys.
    pub keys: Option<Arc<sigv4::Keys>>,
    /// Whether the reset paths are served.
    pub enable_reset: bool,
    pub metrics: Arc<metrics::Metrics>,
    /// Browser origins allowed by CORS (`*` for any); empty sends no CORS headers.
    pub cors_origins: Vec<String>,
    pub cache: Arc<crate::api::cache::ResponseCache>,
    /// Wakes the execution runner.
    pub runner: Arc<tokio::sync::Notify>,
    /// Told when activity tasks were queued, so waiting GetActivityTask calls look again.
    pub tasks: Arc<tokio::sync::Notify>,
    pub definitions: Arc<crate::engine::definitions::Definitions>,
    /// The mock configuration in force (`mock_config`; reloaded on SIGHUP).
    pub mocks: crate::engine::mocks::Mocks,
    /// GetActivityTask calls waiting, per activity.
    pub pollers: Arc<crate::api::tasks::Pollers>,
    /// Makes Tasks' calls to outside services (shared with the runner).
    pub outside: Arc<dyn crate::engine::outside::Outside>,
}

/// The service's router: every request goes through [`handle`], so no path or method ever
/// falls through to a framework default (HTML, empty bodies).
pub fn router(state: AppState) -> Router {
    let cors = cors_layer(&state.cors_origins);
    // Shared behind one Arc: the handler's state is cloned on every request.
    let router = Router::new().fallback(handle).with_state(Arc::new(state));
    match cors {
        Some(layer) => router.layer(layer),
        None => router,
    }
}

/// CORS for the JavaScript SDK in a browser: it sends preflights for POST with its own
/// headers, and reads the request id and error type from the response headers.
fn cors_layer(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    let headers = [
        "authorization",
        "content-type",
        "x-amz-target",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-user-agent",
        "x-amz-content-sha256",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
    ];
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::POST, Method::GET])
            .allow_headers(headers.map(header::HeaderName::from_static))
            .expose_headers(
                ["x-amzn-requestid", "x-amzn-errortype", "date"]
                    .map(header::HeaderName::from_static),
            )
            .max_age(Duration::from_secs(600)),
    )
}

async fn handle(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let started = Instant::now();
    let mut response = match (uri.path(), &method) {
        ("/", &Method::POST) => {
            serve_api(&state, &method, &uri, &headers, body, &request_id, started).await
        }
        ("/health", &Method::GET) => health(&state).await,
        ("/metrics", &Method::GET) => render_metrics(&state).await,
        ("/_sfnlite/reset" | "/moto-api/reset", &Method::POST) if state.enable_reset => {
            reset(&state).await
        }
        ("/", _) => unread_body(
            &headers,
            error_response(&ApiError::MethodNotAllowedException(format!(
                "Method {method} is not allowed on /"
            ))),
        ),
        (path, _) => unread_body(
            &headers,
            error_response(&ApiError::NotFoundException(format!(
                "No such path: {path}"
            ))),
        ),
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-RequestId", v);
    }
    response
}

/// Whether the request announces a body (a length above zero, or chunked).
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// An answer given without reading the request's body closes the connection: otherwise the
/// unread bytes would be taken for the client's next request on it.
fn unread_body(headers: &HeaderMap, mut response: Response<Body>) -> Response<Body> {
    if has_body(headers) {
        close_connection(&mut response);
    }
    response
}

fn close_connection(response: &mut Response<Body>) {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
}

/// Reads a body up to `limit` bytes, giving each chunk at most `idle` to arrive: a client
/// that trickles its body is cut off instead of holding a task forever.
async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limits: &RequestLimits,
) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::RequestEntityTooLargeException(format!(
            "Request body is larger than the limit of {} bytes",
            limits.max_body_bytes
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return Err(too_large());
    }
    let mut body = body;
    let mut out = Vec::with_capacity(declared.unwrap_or(0) as usize);
    loop {
        let frame = match tokio::time::timeout(limits.idle_timeout, body.frame()).await {
            Err(_) => {
                return Err(ApiError::RequestTimeoutException(format!(
                    "Request body stalled for more than {} ms",
                    limits.idle_timeout.as_millis()
                )))
            }
            Ok(None) => return Ok(out),
            Ok(Some(Err(e))) => {
                return Err(ApiError::SerializationException(format!(
                    "Could not read the request body: {e}"
                )))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limits.max_body_bytes {
                return Err(too_large());
            }
            out.extend_from_slice(&data);
        }
    }
}

/// The API path: read the body, authenticate, decode the target, dispatch, log one line.
/// The body is read before anything is decided, so every answer leaves the connection clean
/// for the next request; an answer given before the whole body arrived (too large, stalled,
/// out of time) closes the connection.
async fn serve_api(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    request_id: &str,
    started: Instant,
) -> Response<Body> {
    let deadline = tokio::time::Instant::from_std(started) + state.requests.request_timeout;
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let operation = api::operation_for(target);
    let mut body_read = false;
    let mut scope = None;
    let outcome =
        async {
            let bytes =
                match tokio::time::timeout_at(deadline, read_body(body, headers, &state.requests))
                    .await
                {
                    Ok(read) => read?,
                    Err(_) => return Err(ApiError::request_timeout()),
                };
            body_read = true;
            let caller = caller_scope(state, method, uri, headers, &bytes)?;
            scope = Some(caller.clone());
            let op = operation.clone()?;
            if crate::domain::json_depth_exceeds(&bytes, state.requests.max_json_depth) {
                return Err(ApiError::SerializationException(format!(
                    "Request body nests JSON deeper than {} levels",
                    state.requests.max_json_depth
                )));
            }
            let ctx = Ctx {
                store: state.store.until(deadline),
                scope: caller,
                limits: state.limits.clone(),
                cache: state.cache.clone(),
                runner: state.runner.clone(),
                tasks: state.tasks.clone(),
                definitions: state.definitions.clone(),
                mocks: state.mocks.clone(),
                pollers: state.pollers.clone(),
                outside: state.outside.clone(),
                trace_id: headers
                    .get("x-amzn-trace-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            };
            api::dispatch(ctx, op, &bytes).await
        }
        .await;
    let elapsed = started.elapsed();
    let elapsed_us = elapsed.as_micros() as u64;
    // Only known operations become metric labels, so hostile targets cannot grow the registry.
    let operation = operation.map(|op| op.name()).unwrap_or("-");
    let outcome_label = match &outcome {
        Ok(_) => "ok",
        Err(e) => e.code(),
    };
    state
        .metrics
        .observe(operation, outcome_label, elapsed.as_secs_f64());
    let (account, region) = scope
        .as_ref()
        .map_or(("-", "-"), |s| (s.account.as_str(), s.region.as_str()));
    match outcome {
        Ok(body) => {
            tracing::debug!(
                request_id,
                operation,
                account,
                region,
                outcome = "ok",
                elapsed_us
            );
            json_response(StatusCode::OK, body)
        }
        Err(e) => {
            match &e {
                ApiError::InternalFailure(detail) => {
                    tracing::error!(request_id, operation, detail = %detail, "internal failure")
                }
                ApiError::ServiceUnavailable(cause) => {
                    tracing::warn!(request_id, operation, cause = %cause, "storage unavailable")
                }
                _ => {
                    tracing::debug!(
                        request_id,
                        operation,
                        account,
                        region,
                        outcome = e.code(),
                        elapsed_us
                    )
                }
            }
            let mut response = error_response(&e);
            if !body_read {
                close_connection(&mut response);
            }
            response
        }
    }
}

/// The scope a request acts in. With `auth_mode = sigv4`, only a verified signature names
/// it: the key's own account and the signed region. Otherwise the same parser reads the
/// credential scope, and a header that repeats a component is refused in both modes.
fn caller_scope(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Scope, ApiError> {
    let region_or_default = |r: &str| {
        if is_region(r) {
            r.to_owned()
        } else {
            state.default_region.clone()
        }
    };
    if let Some(keys) = &state.keys {
        let verified = sigv4::verify(
            keys,
            method,
            uri,
            headers,
            body,
            time::OffsetDateTime::now_utc(),
        )
        .map_err(auth_error)?;
        return Ok(Scope::new(
            &region_or_default(&verified.region),
            &verified.account,
        ));
    }
    unsigned_scope(headers, &state.default_region, &state.default_account)
}

fn missing_token() -> ApiError {
    ApiError::MissingAuthenticationTokenException("Missing Authentication Token".into())
}

fn auth_error(e: sigv4::AuthError) -> ApiError {
    match e {
        sigv4::AuthError::Missing => missing_token(),
        sigv4::AuthError::Incomplete(m) | sigv4::AuthError::Repeated(m) => {
            ApiError::IncompleteSignatureException(m)
        }
        sigv4::AuthError::UnknownKey => ApiError::UnrecognizedClientException(
            "The security token included in the request is invalid.".into(),
        ),
        sigv4::AuthError::BadSignature(m) => ApiError::InvalidSignatureException(m),
    }
}

async fn reset(state: &AppState) -> Response<Body> {
    match api::admin::reset(&state.store).await {
        Ok(()) => {
            tracing::info!("state reset");
            json_response(StatusCode::OK, br#"{"status":"ok"}"#.to_vec())
        }
        Err(e) => error_response(&e),
    }
}

async fn render_metrics(state: &AppState) -> Response<Body> {
    match api::admin::storage_figures(&state.store).await {
        Ok(f) => {
            let text = state.metrics.render(&f);
            let mut r = Response::new(Body::from(text));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            r
        }
        Err(e) => error_response(&e),
    }
}

async fn health(state: &AppState) -> Response<Body> {
    match api::admin::health(&state.store).await {
        Ok(h) => json_response(
            StatusCode::OK,
            serde_json::to_vec(&h).unwrap_or_else(|_| br#"{"status":"ok"}"#.to_vec()),
        ),
        Err(e) => error_response(&e),
    }
}

fn json_response(status: StatusCode, body: impl Into<Body>) -> Response<Body> {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    r
}

/// An AWS-shaped error response.
pub fn error_response(e: &ApiError) -> Response<Body> {
    let mut r = json_response(error::status(e), error::body(e));
    r.headers_mut()
        .insert("x-amzn-ErrorType", HeaderValue::from_static(e.code()));
    r
}

/// The caller's scope with `auth_mode = off` (aws-behavior.md §13.2 item 10): region from the
/// SigV4 credential scope, account from a 12-digit access key id; the configured defaults
/// otherwise, and for a header that is not SigV4 at all. A header that repeats a component
/// is refused, as it is when signatures are verified.
pub fn unsigned_scope(
    headers: &HeaderMap,
    default_region: &str,
    default_account: &str,
) -> Result<Scope, ApiError> {
    let credential = match sigv4::authorization(headers) {
        Ok(c) => c,
        Err(sigv4::AuthError::Repeated(m)) => {
            return Err(ApiError::IncompleteSignatureException(m))
        }
        Err(_) => None,
    };
    let (access_key, region) = credential.map_or(("", ""), |c| (c.access_key, c.region));
    let region = if is_region(region) {
        region
    } else {
        default_region
    };
    let account = if is_account(access_key) {
        access_key
    } else {
        default_account
    };
    Ok(Scope::new(region, account))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
        h
    }

    #[test]
    fn scope_comes_from_the_sigv4_credential() {
        let h = headers("AWS4-HMAC-SHA256 Credential=111122223333/20260101/eu-west-1/states/aws4_request, SignedHeaders=host, Signature=x");
        assert_eq!(
            unsigned_scope(&h, "us-east-1", "123456789012").unwrap(),
            Scope::new("eu-west-1", "111122223333")
        );
    }

    #[test]
    fn non_numeric_access_key_uses_the_default_account() {
        let h = headers("AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/cn-north-1/states/aws4_request, SignedHeaders=host, Signature=x");
        let s = unsigned_scope(&h, "us-east-1", "123456789012").unwrap();
        assert_eq!(
            (s.account.as_str(), s.region.as_str(), s.partition.as_str()),
            ("123456789012", "cn-north-1", "aws-cn")
        );
    }

    #[test]
    fn no_authorization_uses_the_defaults() {
        assert_eq!(
            unsigned_scope(&HeaderMap::new(), "us-west-2", "123456789012").unwrap(),
            Scope::new("us-west-2", "123456789012")
        );
    }
}
