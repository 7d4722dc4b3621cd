//! AWS services at configured endpoints: the optimised integrations (`sqs:sendMessage`,
//! `sns:publish`, `dynamodb:getItem|putItem|updateItem|deleteItem`, `events:putEvents`) and
//! `aws-sdk:<service>:<action>` for JSON-protocol services, SNS (query protocol) and S3
//! (object reads and writes). Requests are SigV4-signed as an AWS SDK signs them; answers
//! become task outputs (optimised integrations add `SdkHttpMetadata` and
//! `SdkResponseMetadata`, as AWS's Java SDK v1 reports them), refusals become
//! `<Service>.<Code>` errors with the cause as the Java SDK prints a service error (v1 for
//! optimised integrations, v2 for `aws-sdk:`).

use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};

use super::{body_value, failed, split, Endpoints, Signing};
use crate::engine::outside::{unreachable, Request};
use crate::engine::step::CallAnswer;

/// What a call needs from the client.
pub struct Ctx {
    pub http: reqwest::Client,
    pub endpoints: Endpoints,
    pub signing: Signing,
}

/// How a service is spoken to.
#[derive(Debug, Clone, Copy)]
enum Protocol {
    /// `POST /` with `X-Amz-Target: <target>.<Operation>`, JSON `1.0` or `1.1`.
    Json {
        version: &'static str,
        target: &'static str,
    },
    /// `POST /` with form parameters `Action` and `Version`, XML answers.
    Query { version: &'static str },
    /// S3's REST/XML, path-style.
    S3,
}

/// A service sfnlite can call.
#[derive(Debug, Clone, Copy)]
struct Service {
    /// The endpoint key and SigV4 signing name.
    key: &'static str,
    signing: &'static str,
    protocol: Protocol,
    /// Error prefix of the optimised integration (`DynamoDB.`) and of `aws-sdk:` (`DynamoDb.`).
    optimised: &'static str,
    sdk: &'static str,
    /// The service name the Java SDK v1 prints in an error (`AmazonDynamoDBv2`).
    v1: &'static str,
}

const fn json(
    key: &'static str,
    signing: &'static str,
    version: &'static str,
    target: &'static str,
    sdk: &'static str,
) -> Service {
    Service {
        key,
        signing,
        protocol: Protocol::Json { version, target },
        optimised: sdk,
        sdk,
        v1: sdk,
    }
}

/// The services by the name their resource ARNs use (optimised, then `aws-sdk:` names).
const SERVICES: &[(&str, Service)] = &[
    (
        "sqs",
        Service {
            key: "sqs",
            signing: "sqs",
            protocol: Protocol::Json {
                version: "1.0",
                target: "AmazonSQS",
            },
            optimised: "SQS",
            sdk: "Sqs",
            v1: "AmazonSQS",
        },
    ),
    (
        "sns",
        Service {
            key: "sns",
            signing: "sns",
            protocol: Protocol::Query {
                version: "2010-03-31",
            },
            optimised: "SNS",
            sdk: "Sns",
            v1: "AmazonSNS",
        },
    ),
    (
        "dynamodb",
        Service {
            key: "dynamodb",
            signing: "dynamodb",
            protocol: Protocol::Json {
                version: "1.0",
                target: "DynamoDB_20120810",
            },
            optimised: "DynamoDB",
            sdk: "DynamoDb",
            v1: "AmazonDynamoDBv2",
        },
    ),
    (
        "events",
        Service {
            key: "events",
            signing: "events",
            protocol: Protocol::Json {
                version: "1.1",
                target: "AWSEvents",
            },
            optimised: "EventBridge",
            sdk: "EventBridge",
            v1: "AmazonEventBridge",
        },
    ),
    (
        "s3",
        Service {
            key: "s3",
            signing: "s3",
            protocol: Protocol::S3,
            optimised: "S3",
            sdk: "S3",
            v1: "Amazon S3",
        },
    ),
    (
        "kinesis",
        json("kinesis", "kinesis", "1.1", "Kinesis_20131202", "Kinesis"),
    ),
    (
        "firehose",
        json(
            "firehose",
            "firehose",
            "1.1",
            "Firehose_20150804",
            "Firehose",
        ),
    ),
    (
        "secretsmanager",
        json(
            "secretsmanager",
            "secretsmanager",
            "1.1",
            "secretsmanager",
            "SecretsManager",
        ),
    ),
    ("ssm", json("ssm", "ssm", "1.1", "AmazonSSM", "Ssm")),
    ("kms", json("kms", "kms", "1.1", "TrentService", "Kms")),
    (
        "cloudwatchlogs",
        json(
            "cloudwatchlogs",
            "logs",
            "1.1",
            "Logs_20140328",
            "CloudWatchLogs",
        ),
    ),
    (
        "athena",
        json("athena", "athena", "1.0", "AmazonAthena", "Athena"),
    ),
    ("glue", json("glue", "glue", "1.1", "AWSGlue", "Glue")),
    (
        "ecs",
        json(
            "ecs",
            "ecs",
            "1.1",
            "AmazonEC2ContainerServiceV20141113",
            "Ecs",
        ),
    ),
    (
        "codebuild",
        json(
            "codebuild",
            "codebuild",
            "1.1",
            "CodeBuild_20161006",
            "CodeBuild",
        ),
    ),
    (
        "cognitoidentityprovider",
        json(
            "cognitoidentityprovider",
            "cognito-idp",
            "1.1",
            "AWSCognitoIdentityProviderService",
            "CognitoIdentityProvider",
        ),
    ),
];

fn service(name: &str) -> Option<Service> {
    // The SDK integration calls EventBridge `eventbridge`, the optimised one `events`; the
    // endpoint keys are aliases of each other (`Endpoints::resolve`).
    let name = if name == "eventbridge" {
        "events"
    } else {
        name
    };
    SERVICES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The optimised integrations sfnlite makes, by `service:action`.
const OPTIMISED: &[&str] = &[
    "sqs:sendMessage",
    "sns:publish",
    "dynamodb:getItem",
    "dynamodb:putItem",
    "dynamodb:updateItem",
    "dynamodb:deleteItem",
    "events:putEvents",
];

/// The error-name prefix of an integration (`DynamoDB`, `DynamoDb`, `Lambda`, …).
pub fn error_prefix(integration: &str) -> String {
    let (svc, _) = split(integration);
    match svc.strip_prefix("aws-sdk:") {
        Some(name) => service(name).map_or_else(|| pascal(name), |s| s.sdk.to_owned()),
        None => service(svc).map_or_else(|| pascal(svc), |s| s.optimised.to_owned()),
    }
}

/// `getItem` → `GetItem`.
pub fn pascal(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// An HTTP answer, read whole.
pub struct Answer {
    pub status: u16,
    pub reason: String,
    /// Headers in the order received (names as received).
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn request_id(&self) -> String {
        ["x-amzn-RequestId", "x-amz-request-id", "x-amzn-requestid"]
            .iter()
            .find_map(|h| self.header(h))
            .unwrap_or_default()
            .to_owned()
    }
}

/// Why no answer came.
#[derive(Debug)]
pub struct Transport(pub String);

/// Sends one request (signed for `signing_name` when `sign` is set) and reads the answer.
#[allow(clippy::too_many_arguments)]
pub async fn send(
    http: &reqwest::Client,
    signing: Option<(&Signing, &str, &str)>,
    method: &str,
    url: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Answer, Transport> {
    let mut headers = headers;
    if let Some((keys, name, region)) = signing {
        headers.extend(sign(keys, name, region, method, url, &headers, &body)?);
    }
    let method =
        reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| Transport(e.to_string()))?;
    let mut req = http.request(method, url).timeout(timeout);
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    let resp = req
        .body(body)
        .send()
        .await
        .map_err(|e| Transport(describe(&e)))?;
    let status = resp.status();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = resp.text().await.map_err(|e| Transport(describe(&e)))?;
    Ok(Answer {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_owned(),
        headers,
        body,
    })
}

/// A transport failure as the Java SDK reports one.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "Unable to execute HTTP request: Read timed out".into()
    } else if e.is_connect() {
        let mut source: Option<&dyn std::error::Error> = Some(e);
        let mut last = e.to_string();
        while let Some(s) = source {
            last = s.to_string();
            source = s.source();
        }
        format!("Unable to execute HTTP request: Connect failed: {last}")
    } else {
        format!("Unable to execute HTTP request: {e}")
    }
}

/// The SigV4 headers for a request, as an AWS SDK adds them.
fn sign(
    keys: &Signing,
    name: &str,
    region: &str,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Vec<(String, String)>, Transport> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
    let identity: aws_smithy_runtime_api::client::identity::Identity =
        aws_credential_types::Credentials::new(
            &keys.access_key_id,
            &keys.secret_access_key,
            keys.session_token.clone(),
            None,
            "sfnlite",
        )
        .into();
    let mut settings = SigningSettings::default();
    if name == "s3" {
        settings.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
        settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
        settings.uri_path_normalization_mode =
            aws_sigv4::http_request::UriPathNormalizationMode::Disabled;
    }
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(name)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| Transport(format!("cannot sign: {e}")))?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| Transport(format!("cannot sign: {e}")))?;
    let (instructions, _) = aws_sigv4::http_request::sign(signable, &params)
        .map_err(|e| Transport(format!("cannot sign: {e}")))?
        .into_parts();
    let (out, _) = instructions.into_parts();
    Ok(out
        .into_iter()
        .map(|h| (h.name().to_owned(), h.value().to_owned()))
        .collect())
}

/// `SdkHttpMetadata` and `SdkResponseMetadata` of an answer, as AWS adds them to an optimised
/// integration's output.
pub fn sdk_metadata(out: &mut Map<String, Value>, a: &Answer) {
    let mut all = Map::new();
    let mut single = Map::new();
    for (k, v) in &a.headers {
        let entry = all.entry(k.clone()).or_insert_with(|| json!([]));
        if let Value::Array(vs) = entry {
            vs.push(json!(v));
        }
        single.entry(k.clone()).or_insert_with(|| json!(v));
    }
    out.insert(
        "SdkHttpMetadata".into(),
        json!({"AllHttpHeaders": all, "HttpHeaders": single, "HttpStatusCode": a.status}),
    );
    out.insert(
        "SdkResponseMetadata".into(),
        json!({"RequestId": a.request_id()}),
    );
}

/// A service refusal: `<prefix>.<Code>` (with `Exception` appended as AWS's SDKs name
/// exception classes), the message with the Java SDK's suffix as the cause.
pub fn refusal(
    prefix: &str,
    v1_name: Option<&str>,
    code: &str,
    message: &str,
    a: &Answer,
) -> CallAnswer {
    let suffix = if code.ends_with("Exception") {
        ""
    } else {
        "Exception"
    };
    let id = a.request_id();
    let cause = match v1_name {
        Some(v1) => format!(
            "{message} (Service: {v1}; Status Code: {}; Error Code: {code}; Request ID: {id}; Proxy: null)",
            a.status
        ),
        None => format!(
            "{message} (Service: {prefix}, Status Code: {}, Request ID: {id})",
            a.status
        ),
    };
    failed(format!("{prefix}.{code}{suffix}"), cause)
}

/// The code and message of a JSON-protocol error answer.
pub fn json_error(a: &Answer) -> (String, String) {
    let v: Value = serde_json::from_str(&a.body).unwrap_or(Value::Null);
    let raw = v
        .get("__type")
        .and_then(Value::as_str)
        .or_else(|| a.header("x-amzn-ErrorType"))
        .unwrap_or("UnknownError");
    let code = raw
        .rsplit('#')
        .next()
        .unwrap_or(raw)
        .split(':')
        .next()
        .unwrap_or(raw)
        .to_owned();
    let message = ["message", "Message", "errorMessage"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .unwrap_or("")
        .to_owned();
    (code, message)
}

/// The service of a call and whether it is an `aws-sdk:` one, or why it cannot be made
/// (an unknown service or optimised action, no endpoint) — known before anything is sent.
fn route(endpoints: &Endpoints, r: &Request) -> Result<(Service, bool, String), CallAnswer> {
    let (svc, action) = split(&r.integration);
    let (name, sdk) = match svc.strip_prefix("aws-sdk:") {
        Some(n) => (n, true),
        None => (svc, false),
    };
    let Some(service) = service(name) else {
        return Err(failed(
            "States.TaskFailed",
            format!(
                "sfnlite cannot call the service '{name}' of the resource '{}': it speaks the JSON protocols, SNS and S3",
                r.resource
            ),
        ));
    };
    if !sdk && !OPTIMISED.contains(&format!("{svc}:{action}").as_str()) {
        return Err(failed(
            "States.TaskFailed",
            format!("sfnlite has no optimised integration '{svc}:{action}'"),
        ));
    }
    let Some(base) = endpoints.resolve(service.key, &r.region) else {
        return Err(unreachable(&r.resource));
    };
    Ok((service, sdk, base))
}

/// Why a call cannot be made at all, if it cannot (see [`route`]).
pub fn refuse_now(endpoints: &Endpoints, r: &Request) -> Option<CallAnswer> {
    route(endpoints, r).err()
}

/// Makes an optimised or `aws-sdk:` call.
pub async fn call(ctx: &Ctx, r: Request, timeout: Duration) -> CallAnswer {
    let (svc, action) = split(&r.integration);
    let (service, sdk, base) = match route(&ctx.endpoints, &r) {
        Ok(routed) => routed,
        Err(refused) => return refused,
    };
    let (prefix, v1) = if sdk {
        (service.sdk, None)
    } else {
        (service.optimised, Some(service.v1))
    };
    let parameters = if sdk {
        r.parameters.clone()
    } else {
        optimised_parameters(svc, action, &r)
    };
    let signing = Some((&ctx.signing, service.signing, r.region.as_str()));
    let (headers, body) = match service.protocol {
        Protocol::Json { version, target } => {
            let body = parameters.to_string().into_bytes();
            let headers = vec![
                (
                    "content-type".to_owned(),
                    format!("application/x-amz-json-{version}"),
                ),
                (
                    "x-amz-target".to_owned(),
                    format!("{target}.{}", pascal(action)),
                ),
            ];
            (headers, body)
        }
        Protocol::Query { version } => {
            let mut form = vec![
                ("Action".to_owned(), pascal(action)),
                ("Version".to_owned(), version.to_owned()),
            ];
            flatten_query("", &parameters, &mut form);
            let body = form_encode(&form).into_bytes();
            let headers = vec![(
                "content-type".to_owned(),
                "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
            )];
            (headers, body)
        }
        Protocol::S3 => return s3(ctx, &base, action, &r, &parameters, timeout).await,
    };
    let sent = send(
        &ctx.http,
        signing,
        "POST",
        &format!("{base}/"),
        headers,
        body,
        timeout,
    )
    .await;
    let a = match sent {
        Ok(a) => a,
        Err(Transport(cause)) => return failed(format!("{prefix}.SdkClientException"), cause),
    };
    if a.status >= 300 {
        let (code, message) = match service.protocol {
            Protocol::Json { .. } => json_error(&a),
            _ => xml_error(&a.body),
        };
        return refusal(prefix, v1, &code, &message, &a);
    }
    let mut out = match service.protocol {
        Protocol::Json { .. } => match body_value(&a.body) {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => {
                let mut m = Map::new();
                m.insert("Body".into(), other);
                m
            }
        },
        _ => query_result(&a.body),
    };
    if svc == "events" && action == "putEvents" {
        let failed_entries = out
            .get("FailedEntryCount")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if failed_entries > 0 {
            return failed("EventBridge.FailedEntry", Value::Object(out).to_string());
        }
        return CallAnswer::Returned {
            output: Value::Object(out),
        };
    }
    if !sdk {
        sdk_metadata(&mut out, &a);
    }
    CallAnswer::Returned {
        output: Value::Object(out),
    }
}

/// An optimised integration's parameters as the service receives them: a message body or
/// event detail given as JSON is sent as its text, and EventBridge events name the state
/// machine and execution among their resources (as AWS adds them).
fn optimised_parameters(svc: &str, action: &str, r: &Request) -> Value {
    let mut p = r.parameters.clone();
    let as_text = |v: &mut Value| {
        if !v.is_string() {
            *v = Value::String(v.to_string());
        }
    };
    match (svc, action) {
        ("sqs", "sendMessage") => {
            if let Some(b) = p.get_mut("MessageBody") {
                as_text(b);
            }
        }
        ("sns", "publish") => {
            if let Some(b) = p.get_mut("Message") {
                as_text(b);
            }
        }
        ("events", "putEvents") => {
            let machine = machine_of(&r.execution_arn);
            if let Some(Value::Array(entries)) = p.get_mut("Entries") {
                for e in entries.iter_mut() {
                    if let Some(d) = e.get_mut("Detail") {
                        as_text(d);
                    }
                    if let Value::Object(m) = e {
                        let res = m.entry("Resources").or_insert_with(|| json!([]));
                        if let Value::Array(list) = res {
                            list.push(json!(machine));
                            list.push(json!(r.execution_arn));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    p
}

/// The state machine ARN of an execution ARN.
fn machine_of(execution_arn: &str) -> String {
    let parts: Vec<&str> = execution_arn.split(':').collect();
    if parts.len() >= 7 {
        format!("{}:stateMachine:{}", parts[..5].join(":"), parts[6])
    } else {
        execution_arn.to_owned()
    }
}

/// Query-protocol parameters: nested members joined with `.`, lists as `member.N`, and
/// `MessageAttributes` (a map) as `entry.N.Name` / `entry.N.Value.*`.
fn flatten_query(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "MessageAttributes" {
                    if let Value::Object(attrs) = v {
                        for (i, (name, value)) in attrs.iter().enumerate() {
                            let base = format!("{}.entry.{}", join(k), i + 1);
                            out.push((format!("{base}.Name"), name.clone()));
                            flatten_query(&format!("{base}.Value"), value, out);
                        }
                    }
                    continue;
                }
                flatten_query(&join(k), v, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten_query(&format!("{prefix}.member.{}", i + 1), item, out);
            }
        }
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        Value::Null => {}
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

fn form_encode(pairs: &[(String, String)]) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const FORM: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, FORM),
                utf8_percent_encode(v, FORM)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// An XML document as JSON: elements with children become objects (repeated names and
/// `member` lists arrays), text elements strings.
fn xml_value(body: &str) -> Value {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(body);
    reader.config_mut().trim_text(true);
    // (name, children, text) per open element.
    type Open = (String, Vec<(String, Value)>, String);
    let mut stack: Vec<Open> = vec![(String::new(), Vec::new(), String::new())];
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push((name, Vec::new(), String::new()));
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if let Some(top) = stack.last_mut() {
                    top.1.push((name, Value::String(String::new())));
                }
            }
            Ok(Event::Text(t)) => {
                if let (Some(top), Ok(s)) = (stack.last_mut(), t.decode()) {
                    top.2
                        .push_str(&quick_xml::escape::unescape(&s).unwrap_or(s.clone()));
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let (Some(top), Ok(name)) = (stack.last_mut(), r.decode()) {
                    let ch = match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    };
                    top.2.push_str(ch);
                }
            }
            Ok(Event::End(_)) => {
                let Some((name, children, text)) = stack.pop() else {
                    break;
                };
                let v = if children.is_empty() {
                    Value::String(text)
                } else {
                    group(children)
                };
                if let Some(top) = stack.last_mut() {
                    top.1.push((name, v));
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    stack
        .pop()
        .map(|(_, children, _)| group(children))
        .unwrap_or(Value::Null)
}

/// Children as an object; `member` children (or a repeated name) as an array.
fn group(children: Vec<(String, Value)>) -> Value {
    if children.iter().all(|(n, _)| n == "member") {
        return Value::Array(children.into_iter().map(|(_, v)| v).collect());
    }
    let mut m = Map::new();
    for (name, v) in children {
        match m.get_mut(&name) {
            Some(Value::Array(a)) => a.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = json!([first, v]);
            }
            None => {
                m.insert(name, v);
            }
        }
    }
    Value::Object(m)
}

/// The `<Action>Result` of a query-protocol answer.
fn query_result(body: &str) -> Map<String, Value> {
    let doc = xml_value(body);
    doc.as_object()
        .and_then(|root| root.values().next())
        .and_then(Value::as_object)
        .and_then(|response| {
            response
                .iter()
                .find(|(k, _)| k.ends_with("Result"))
                .map(|(_, v)| v.clone())
        })
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

/// The code and message of an XML error answer (query protocol, S3).
fn xml_error(body: &str) -> (String, String) {
    let doc = xml_value(body);
    let err = doc
        .pointer("/ErrorResponse/Error")
        .or_else(|| doc.pointer("/Error"))
        .cloned()
        .unwrap_or(Value::Null);
    let text = |k: &str| err.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let code = text("Code");
    (
        if code.is_empty() {
            "UnknownError".into()
        } else {
            code
        },
        text("Message"),
    )
}

/// `aws-sdk:s3:getObject|putObject|deleteObject|headObject|listObjectsV2` (path-style).
async fn s3(
    ctx: &Ctx,
    base: &str,
    action: &str,
    r: &Request,
    p: &Value,
    timeout: Duration,
) -> CallAnswer {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const KEY: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    // Query values: unreserved characters as they are, `/` encoded too.
    const QUERY: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let text = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let bucket = text("Bucket");
    let key = text("Key");
    let object = format!(
        "{base}/{}/{}",
        utf8_percent_encode(&bucket, KEY),
        utf8_percent_encode(&key, KEY)
    );
    let (method, url, body, headers) = match action {
        "getObject" => ("GET", object, Vec::new(), Vec::new()),
        "headObject" => ("HEAD", object, Vec::new(), Vec::new()),
        "deleteObject" => ("DELETE", object, Vec::new(), Vec::new()),
        "putObject" => {
            let body = match p.get("Body") {
                Some(Value::String(s)) => s.clone().into_bytes(),
                Some(other) => other.to_string().into_bytes(),
                None => Vec::new(),
            };
            let mut headers = Vec::new();
            if let Some(ct) = p.get("ContentType").and_then(Value::as_str) {
                headers.push(("content-type".to_owned(), ct.to_owned()));
            }
            ("PUT", object, body, headers)
        }
        "listObjectsV2" => {
            let mut url = format!("{base}/{}?list-type=2", utf8_percent_encode(&bucket, KEY));
            for (member, query) in [
                ("Prefix", "prefix"),
                ("ContinuationToken", "continuation-token"),
                ("MaxKeys", "max-keys"),
                ("StartAfter", "start-after"),
            ] {
                if let Some(v) = p.get(member).and_then(Value::as_str) {
                    let v = utf8_percent_encode(v, QUERY);
                    url.push_str(&format!("&{query}={v}"));
                }
            }
            ("GET", url, Vec::new(), Vec::new())
        }
        other => {
            return failed(
                "States.TaskFailed",
                format!(
                    "sfnlite cannot make the S3 action '{other}' of the resource '{}'",
                    r.resource
                ),
            )
        }
    };
    let signing = Some((&ctx.signing, "s3", r.region.as_str()));
    let a = match send(&ctx.http, signing, method, &url, headers, body, timeout).await {
        Ok(a) => a,
        Err(Transport(cause)) => return failed("S3.SdkClientException", cause),
    };
    if a.status >= 300 {
        let (code, message) = if a.body.is_empty() {
            (
                match a.status {
                    404 => "NoSuchKey".to_owned(),
                    _ => a.reason.replace(' ', ""),
                },
                String::new(),
            )
        } else {
            xml_error(&a.body)
        };
        return refusal("S3", None, &code, &message, &a);
    }
    let mut out = Map::new();
    let header = |name: &str| a.header(name).map(str::to_owned);
    match action {
        "getObject" | "headObject" => {
            if let Some(v) = header("accept-ranges") {
                out.insert("AcceptRanges".into(), json!(v));
            }
            if action == "getObject" {
                out.insert("Body".into(), json!(a.body));
            }
            if let Some(v) = header("content-length").and_then(|v| v.parse::<u64>().ok()) {
                out.insert("ContentLength".into(), json!(v));
            }
            if let Some(v) = header("content-type") {
                out.insert("ContentType".into(), json!(v));
            }
            if let Some(v) = header("etag") {
                out.insert("ETag".into(), json!(v));
            }
            if let Some(v) = header("last-modified") {
                out.insert("LastModified".into(), json!(v));
            }
            let metadata: Map<String, Value> = a
                .headers
                .iter()
                .filter_map(|(k, v)| {
                    k.to_ascii_lowercase()
                        .strip_prefix("x-amz-meta-")
                        .map(|n| (n.to_owned(), json!(v)))
                })
                .collect();
            out.insert("Metadata".into(), Value::Object(metadata));
        }
        "putObject" => {
            if let Some(v) = header("etag") {
                out.insert("ETag".into(), json!(v));
            }
        }
        "listObjectsV2" => {
            if let Some(Value::Object(m)) = xml_value(&a.body).get("ListBucketResult") {
                out = m.clone();
            }
        }
        _ => {}
    }
    CallAnswer::Returned {
        output: Value::Object(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_answer_becomes_its_result_members() {
        let body = "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>";
        assert_eq!(
            Value::Object(query_result(body)),
            json!({"MessageId": "m-1"})
        );
    }

    #[test]
    fn an_xml_error_gives_its_code_and_message() {
        let body = "<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error></ErrorResponse>";
        assert_eq!(
            xml_error(body),
            ("NotFound".into(), "Topic does not exist".into())
        );
        let s3 = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>";
        assert_eq!(xml_error(s3).0, "NoSuchBucket");
    }

    #[test]
    fn query_parameters_flatten_members_lists_and_message_attributes() {
        let mut out = Vec::new();
        flatten_query(
            "",
            &json!({"TopicArn": "t", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}, "L": ["a"]}),
            &mut out,
        );
        assert_eq!(
            out,
            vec![
                ("TopicArn".to_owned(), "t".to_owned()),
                ("MessageAttributes.entry.1.Name".to_owned(), "k".to_owned()),
                (
                    "MessageAttributes.entry.1.Value.DataType".to_owned(),
                    "String".to_owned()
                ),
                (
                    "MessageAttributes.entry.1.Value.StringValue".to_owned(),
                    "v".to_owned()
                ),
                ("L.member.1".to_owned(), "a".to_owned()),
            ]
        );
    }

    #[test]
    fn error_prefixes_follow_the_integration_kind() {
        assert_eq!(error_prefix("dynamodb:getItem"), "DynamoDB");
        assert_eq!(error_prefix("aws-sdk:dynamodb:getItem"), "DynamoDb");
        assert_eq!(error_prefix("aws-sdk:s3:getObject"), "S3");
        assert_eq!(error_prefix("aws-sdk:newthing:doIt"), "Newthing");
    }

    #[test]
    fn the_machine_arn_of_an_execution() {
        assert_eq!(
            machine_of("arn:aws:states:us-east-1:123456789012:execution:m:run"),
            "arn:aws:states:us-east-1:123456789012:stateMachine:m"
        );
    }
}
