//! Lambda's Invoke API at the configured endpoint (AWS, LocalStack, SAM's `start-lambda`,
//! moto, or any server of that API): `arn:aws:states:::lambda:invoke` and Tasks whose
//! resource is a function ARN. A function error (`X-Amz-Function-Error`) fails the task with
//! the function's `errorType` as the error (`Lambda.Unknown` when it names none) and its
//! payload as the cause — compact for `lambda:invoke`, spaced as Python's `json.dumps`
//! prints it for a function ARN (recorded) — and a refusal of the Invoke call itself is
//! `Lambda.<Code>`. `lambda:invoke`'s output members are in AWS's (alphabetical) order, with
//! `LogResult` when the function was asked for its log tail (recorded).

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

use super::aws::{json_error, refusal, sdk_metadata, send, Ctx, Transport};
use super::{body_value, failed};
use crate::engine::outside::{unreachable, Request, LEGACY_LAMBDA};
use crate::engine::step::CallAnswer;

const NAME: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub async fn invoke(ctx: &Ctx, r: Request, timeout: Duration) -> CallAnswer {
    let legacy = r.integration == LEGACY_LAMBDA;
    let Some(base) = ctx.endpoints.resolve("lambda", &r.region) else {
        return unreachable(&r.resource);
    };
    let text = |k: &str| {
        r.parameters
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (function, payload, mut headers) = if legacy {
        (r.resource.clone(), r.parameters.to_string(), Vec::new())
    } else {
        let Some(function) = text("FunctionName") else {
            return failed(
                "States.Runtime",
                format!(
                    "The Parameters '{}' could not be used to start the Task: [The field \"FunctionName\" is required]",
                    r.parameters
                ),
            );
        };
        let payload = match r.parameters.get("Payload") {
            None => String::new(),
            Some(v) => v.to_string(),
        };
        let mut headers = Vec::new();
        for (member, header) in [
            ("InvocationType", "x-amz-invocation-type"),
            ("LogType", "x-amz-log-type"),
            ("ClientContext", "x-amz-client-context"),
        ] {
            if let Some(v) = text(member) {
                headers.push((header.to_owned(), v));
            }
        }
        (function, payload, headers)
    };
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    let mut url = format!(
        "{base}/2015-03-31/functions/{}/invocations",
        utf8_percent_encode(&function, NAME)
    );
    if let Some(q) = text("Qualifier").filter(|_| !legacy) {
        url.push_str(&format!("?Qualifier={}", utf8_percent_encode(&q, NAME)));
    }
    let signing = Some((&ctx.signing, "lambda", r.region.as_str()));
    let a = match send(
        &ctx.http,
        signing,
        "POST",
        &url,
        headers,
        payload.into_bytes(),
        timeout,
    )
    .await
    {
        Ok(a) => a,
        Err(Transport(cause)) => return failed("Lambda.SdkClientException", cause),
    };
    if a.status >= 300 {
        let (code, message) = json_error(&a);
        return refusal("Lambda", Some("AWSLambda"), &code, &message, &a);
    }
    let result = if a.body.is_empty() {
        Value::Null
    } else {
        body_value(&a.body)
    };
    if a.header("x-amz-function-error").is_some() {
        let error = result
            .get("errorType")
            .and_then(Value::as_str)
            .unwrap_or("Lambda.Unknown")
            .to_owned();
        let cause = match &result {
            Value::String(s) => s.clone(),
            v if legacy => spaced(v),
            v => v.to_string(),
        };
        return failed(error, cause);
    }
    if legacy {
        return CallAnswer::Returned { output: result };
    }
    let mut out = Map::new();
    out.insert(
        "ExecutedVersion".into(),
        Value::String(
            a.header("x-amz-executed-version")
                .unwrap_or("$LATEST")
                .to_owned(),
        ),
    );
    if let Some(log) = a.header("x-amz-log-result") {
        out.insert("LogResult".into(), Value::String(log.to_owned()));
    }
    out.insert(
        "Payload".into(),
        if a.body.is_empty() {
            Value::String(String::new())
        } else {
            result
        },
    );
    sdk_metadata(&mut out, &a);
    out.insert("StatusCode".into(), Value::from(a.status));
    CallAnswer::Returned {
        output: Value::Object(out),
    }
}

/// JSON with `", "` and `": "` separators, as Python's `json.dumps` writes it.
pub fn spaced(v: &Value) -> String {
    struct Spaced;
    fn separator<W: ?Sized + std::io::Write>(w: &mut W, first: bool) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    impl serde_json::ser::Formatter for Spaced {
        fn begin_array_value<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            separator(w, first)
        }
        fn begin_object_key<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            separator(w, first)
        }
        fn begin_object_value<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W,
        ) -> std::io::Result<()> {
            w.write_all(b": ")
        }
    }
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Spaced);
    if serde::Serialize::serialize(v, &mut ser).is_err() {
        return v.to_string();
    }
    String::from_utf8(out).unwrap_or_else(|_| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_spacing_separates_members_and_items() {
        let v: Value =
            serde_json::from_str(r#"{"errorMessage":"x","errorType":"E","stackTrace":[1,2]}"#)
                .unwrap();
        assert_eq!(
            spaced(&v),
            r#"{"errorMessage": "x", "errorType": "E", "stackTrace": [1, 2]}"#
        );
    }
}
