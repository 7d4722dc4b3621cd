//! The HTTP Task (`arn:aws:states:::http:invoke`): `ApiEndpoint`, `Method`, `Headers`,
//! `QueryParameters`, `RequestBody` and `Transform` (URL-encoded bodies with the four array
//! formats) sent as AWS sends them, the answer as `{Headers, ResponseBody, StatusCode,
//! StatusText}`, a status outside 2xx as `States.Http.StatusCode.<n>` and no answer at all
//! as `States.Http.Socket`. `Authentication.ConnectionArn` names a connection of sfnlite's
//! configuration (there is no EventBridge here), whose API key, basic credentials and
//! invocation headers and query parameters are added to the request.

use std::time::{Duration, Instant};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Map, Value};

use super::aws::{send, Transport};
use super::settings::OAuth;
use super::{body_value, failed, Connections};
use crate::engine::outside::Request;
use crate::engine::step::CallAnswer;

/// AWS's limit on one HTTP Task request.
pub const MAX_DURATION: Duration = Duration::from_secs(60);

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];

const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// A parameter value as text: strings bare, anything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The parameters could not start the task (AWS's runtime text for optimised integrations).
fn unusable(parameters: &Value, reason: &str) -> CallAnswer {
    failed(
        "States.Runtime",
        format!("The Parameters '{parameters}' could not be used to start the Task: [{reason}]"),
    )
}

/// Form-encodes an object; arrays as `ArrayFormat` says (INDICES `a[0]=x`, REPEAT `a=x&a=y`,
/// COMMAS `a=x,y`, BRACKETS `a[]=x`).
fn url_encoded(body: &Value, array_format: &str) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    fn walk(prefix: &str, v: &Value, fmt: &str, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}[{k}]")
                    };
                    walk(&key, v, fmt, out);
                }
            }
            Value::Array(items) => match fmt {
                "REPEAT" => items.iter().for_each(|i| walk(prefix, i, fmt, out)),
                "COMMAS" => out.push((
                    prefix.to_owned(),
                    items.iter().map(text).collect::<Vec<_>>().join(","),
                )),
                "BRACKETS" => items
                    .iter()
                    .for_each(|i| walk(&format!("{prefix}[]"), i, fmt, out)),
                _ => items
                    .iter()
                    .enumerate()
                    .for_each(|(n, i)| walk(&format!("{prefix}[{n}]"), i, fmt, out)),
            },
            other => out.push((prefix.to_owned(), text(other))),
        }
    }
    walk("", body, array_format, &mut pairs);
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Makes the call; with `trace`, also returns TestState's `request` and `response` as
/// `inspectionData` shows them (`trace == Some(true)`: with what the connection added).
pub async fn invoke(
    http: &reqwest::Client,
    connections: &Connections,
    tokens: &Tokens,
    r: Request,
    timeout: Duration,
    trace: Option<bool>,
) -> (CallAnswer, Option<Value>) {
    let mut traced = None;
    let answer = exchange(http, connections, tokens, r, timeout, trace, &mut traced).await;
    (answer, traced)
}

/// OAuth access tokens by connection ARN, with when they expire.
#[derive(Default)]
pub struct Tokens(std::sync::Mutex<std::collections::HashMap<String, (String, Instant)>>);

/// A token for the OAuth connection `arn`: the kept one while it is valid, else a fresh one
/// from the authorization endpoint (client credentials as basic authorization, as
/// EventBridge sends them). A refusal fails the task as the authorization endpoint's status.
async fn oauth_token(
    http: &reqwest::Client,
    tokens: &Tokens,
    arn: &str,
    o: &OAuth,
    timeout: Duration,
) -> Result<String, CallAnswer> {
    if let Some((t, until)) = tokens.0.lock().unwrap_or_else(|p| p.into_inner()).get(arn) {
        if *until > Instant::now() {
            return Ok(t.clone());
        }
    }
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", o.client_id, o.client_secret));
    let mut headers: Vec<(String, String)> = vec![
        ("authorization".to_owned(), format!("Basic {basic}")),
        (
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        ),
    ];
    headers.extend(
        o.headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone())),
    );
    let mut form = vec![("grant_type".to_owned(), "client_credentials".to_owned())];
    form.extend(o.body.iter().map(|(k, v)| (k.clone(), v.clone())));
    let body = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut url = o.endpoint.clone();
    if !o.query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(
            &o.query
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>()
                .join("&"),
        );
    }
    let a = send(
        http,
        None,
        &o.method.to_ascii_uppercase(),
        &url,
        headers,
        body.into_bytes(),
        timeout,
    )
    .await
    .map_err(|Transport(cause)| failed("States.Http.Socket", cause))?;
    let v = body_value(&a.body);
    match (a.status, v.get("access_token").and_then(Value::as_str)) {
        (200..=299, Some(t)) => {
            let secs = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
            // Renewed a little before it expires, as a client should.
            let until = Instant::now() + Duration::from_secs(secs.saturating_sub(30).max(1));
            tokens
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(arn.to_owned(), (t.to_owned(), until));
            Ok(t.to_owned())
        }
        (status, _) => Err(failed(
            format!("States.Http.StatusCode.{}", if (200..300).contains(&status) { 401 } else { status }),
            format!(
                "The OAuth authorization endpoint of the connection '{arn}' gave no access token (status {status}): {}",
                a.body
            ),
        )),
    }
}

#[allow(clippy::too_many_arguments)]
async fn exchange(
    http: &reqwest::Client,
    connections: &Connections,
    tokens: &Tokens,
    r: Request,
    timeout: Duration,
    trace: Option<bool>,
    traced: &mut Option<Value>,
) -> CallAnswer {
    let p = &r.parameters;
    let Some(endpoint) = p.get("ApiEndpoint").and_then(Value::as_str) else {
        return unusable(p, "The field \"ApiEndpoint\" is required");
    };
    let Some(method) = p.get("Method").and_then(Value::as_str) else {
        return unusable(p, "The field \"Method\" is required");
    };
    let method = method.to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return unusable(p, &format!("The Method \"{method}\" is not supported"));
    }
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return unusable(
            p,
            &format!("The ApiEndpoint \"{endpoint}\" is not an http or https URL"),
        );
    }
    let connection = match p
        .pointer("/Authentication/ConnectionArn")
        .and_then(Value::as_str)
    {
        Some(arn) => match connections.0.get(arn) {
            Some(c) => Some(c),
            None => {
                return failed(
                    "States.TaskFailed",
                    format!(
                        "The connection '{arn}' is not in sfnlite's configuration (connections)"
                    ),
                )
            }
        },
        None => None,
    };
    let mut query: Vec<(String, String)> = Vec::new();
    if let Some(Value::Object(q)) = p.get("QueryParameters") {
        for (k, v) in q {
            match v {
                Value::Array(items) => items.iter().for_each(|i| query.push((k.clone(), text(i)))),
                other => query.push((k.clone(), text(other))),
            }
        }
    }
    let mut headers: Vec<(String, String)> = vec![(
        "user-agent".to_owned(),
        format!("Amazon|StepFunctions|HttpInvoke|{}", r.region),
    )];
    if let Some(Value::Object(h)) = p.get("Headers") {
        for (k, v) in h {
            headers.push((k.to_ascii_lowercase(), text(v)));
        }
    }
    // What the connection adds is a secret: TestState shows it only with revealSecrets.
    let (own_query, own_headers) = (query.len(), headers.len());
    if let Some(c) = connection {
        for (k, v) in &c.query {
            query.push((k.clone(), v.clone()));
        }
        for (k, v) in &c.headers {
            headers.push((k.to_ascii_lowercase(), v.clone()));
        }
        if let Some(k) = &c.api_key {
            headers.push((k.name.to_ascii_lowercase(), k.value.clone()));
        }
        if let Some(b) = &c.basic {
            use base64::Engine;
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", b.username, b.password));
            headers.push(("authorization".to_owned(), format!("Basic {token}")));
        }
        if let Some(o) = &c.oauth {
            let arn = p
                .pointer("/Authentication/ConnectionArn")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match oauth_token(http, tokens, arn, o, timeout).await {
                Ok(t) => headers.push(("authorization".to_owned(), format!("Bearer {t}"))),
                Err(refused) => return refused,
            }
        }
    }
    let connection_end = headers.len();
    let has = |headers: &[(String, String)], name: &str| headers.iter().any(|(k, _)| k == name);
    let encoding = p
        .pointer("/Transform/RequestBodyEncoding")
        .and_then(Value::as_str)
        .unwrap_or("NONE");
    let body = match p.get("RequestBody") {
        None => Vec::new(),
        Some(b) if encoding == "URL_ENCODED" => {
            let fmt = p
                .pointer("/Transform/RequestEncodingOptions/ArrayFormat")
                .and_then(Value::as_str)
                .unwrap_or("INDICES");
            if !has(&headers, "content-type") {
                headers.push((
                    "content-type".to_owned(),
                    "application/x-www-form-urlencoded".to_owned(),
                ));
            }
            url_encoded(b, fmt).into_bytes()
        }
        Some(b) => {
            if !has(&headers, "content-type") {
                headers.push((
                    "content-type".to_owned(),
                    "application/json; charset=UTF-8".to_owned(),
                ));
            }
            b.to_string().into_bytes()
        }
    };
    let with_query = |query: &[(String, String)]| {
        let mut url = endpoint.to_owned();
        if !query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(
                &query
                    .iter()
                    .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                    .collect::<Vec<_>>()
                    .join("&"),
            );
        }
        url
    };
    let url = with_query(&query);
    let mut request_trace = None;
    if let Some(reveal) = trace {
        let connection_headers = own_headers..connection_end;
        let shown: Map<String, Value> = headers
            .iter()
            .enumerate()
            .filter(|(i, _)| reveal || !connection_headers.contains(i))
            .map(|(_, (k, v))| (k.clone(), json!(v)))
            .collect();
        request_trace = Some(json!({
            "protocol": if endpoint.starts_with("https://") { "https" } else { "http" },
            "method": method,
            "url": if reveal { url.clone() } else { with_query(&query[..own_query]) },
            "headers": Value::Object(shown).to_string(),
            "body": String::from_utf8_lossy(&body),
        }));
    }
    let sent = send(http, None, &method, &url, headers, body, timeout).await;
    if let Some(request) = request_trace {
        let response = match &sent {
            Ok(a) => {
                let h: Map<String, Value> = a
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect();
                json!({
                    "protocol": if endpoint.starts_with("https://") { "https" } else { "http" },
                    "statusCode": a.status.to_string(),
                    "statusMessage": a.reason,
                    "headers": Value::Object(h).to_string(),
                    "body": a.body,
                })
            }
            Err(_) => Value::Null,
        };
        *traced = Some(json!({"request": request, "response": response}));
    }
    let a = match sent {
        Ok(a) => a,
        Err(Transport(cause)) => return failed("States.Http.Socket", cause),
    };
    let mut response_headers = Map::new();
    for (k, v) in &a.headers {
        let entry = response_headers
            .entry(k.clone())
            .or_insert_with(|| json!([]));
        if let Value::Array(vs) = entry {
            vs.push(json!(v));
        }
    }
    let response = json!({
        "Headers": response_headers,
        "ResponseBody": if a.body.is_empty() { json!({}) } else { body_value(&a.body) },
        "StatusCode": a.status,
        "StatusText": a.reason,
    });
    if !(200..300).contains(&a.status) {
        return failed(
            format!("States.Http.StatusCode.{}", a.status),
            response.to_string(),
        );
    }
    CallAnswer::Returned { output: response }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_bodies_spell_arrays_as_the_array_format_says() {
        let b = json!({"a": ["x", "y"], "b": "1 2"});
        assert_eq!(url_encoded(&b, "INDICES"), "a%5B0%5D=x&a%5B1%5D=y&b=1%202");
        assert_eq!(url_encoded(&b, "REPEAT"), "a=x&a=y&b=1%202");
        assert_eq!(url_encoded(&b, "COMMAS"), "a=x%2Cy&b=1%202");
        assert_eq!(url_encoded(&b, "BRACKETS"), "a%5B%5D=x&a%5B%5D=y&b=1%202");
    }
}
