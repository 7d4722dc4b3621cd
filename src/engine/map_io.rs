//! The S3 reads and writes of a Distributed Map's runs (ItemReader, ResultWriter), made by
//! the runner outside any transaction through the [`Outside`] client, at the S3 endpoint the
//! configuration names. Both are repeatable — a read, or a put of the same keys — so a run
//! that was reading or writing when sfnlite stopped simply does it again after the restart
//! (unlike a Task's call, which is made at most once). Pure parts are [`super::items`]'s.
//!
//! Knows the engine's outside-call requests; nothing of the store or of HTTP.

use serde_json::{json, Value};

use super::items::{self, ReadSpec, ResultFiles, WriteSpec};
use super::outside::{self, Outside};
use super::step::CallAnswer;

/// Objects a listing reads per request, as S3 pages them.
const PAGE: &str = "1000";

/// What `outside` answered, or its failure as a cause (`<error>: <cause>`).
async fn call(
    outside: Option<&dyn Outside>,
    arn: &str,
    action: &str,
    parameters: Value,
) -> Result<Value, String> {
    let resource = format!("arn:aws:states:::s3:{action}");
    let Some(o) = outside else {
        return Err(format!(
            "sfnlite has no integration configured for the resource '{resource}'"
        ));
    };
    let request = outside::own_request(arn, &format!("aws-sdk:s3:{action}"), &resource, parameters);
    match o.call(request).await {
        CallAnswer::Returned { output } => Ok(output),
        CallAnswer::Failed { error, cause } if cause.is_empty() => Err(error),
        CallAnswer::Failed { error, cause } => Err(format!("{error}: {cause}")),
    }
}

/// The items run `arn` reads as `spec` says.
pub async fn read(
    outside: Option<&dyn Outside>,
    arn: &str,
    spec: &ReadSpec,
) -> Result<Vec<Value>, String> {
    if spec.action != "listObjectsV2" {
        let got = call(outside, arn, "getObject", spec.parameters.clone()).await?;
        let body = got.get("Body").and_then(Value::as_str).unwrap_or_default();
        return items::object_items(spec, body);
    }
    let limit = spec.max_items.map_or(usize::MAX, |n| n as usize);
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut p = spec.parameters.clone();
        if let Value::Object(o) = &mut p {
            o.insert("MaxKeys".into(), json!(PAGE));
            if let Some(t) = &token {
                o.insert("ContinuationToken".into(), json!(t));
            }
        }
        let page = call(outside, arn, "listObjectsV2", p).await?;
        found.extend(items::listed_items(page.get("Contents")));
        token = page
            .get("NextContinuationToken")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let truncated = page.get("IsTruncated").and_then(Value::as_str) == Some("true");
        if found.len() >= limit || !truncated || token.is_none() {
            break;
        }
    }
    found.truncate(limit);
    Ok(found)
}

/// Puts run `arn`'s result files and their manifest; the manifest's key once all are in.
pub async fn write(
    outside: Option<&dyn Outside>,
    arn: &str,
    spec: &WriteSpec,
    files: ResultFiles,
) -> Result<String, String> {
    for (key, body) in files.objects {
        let p = json!({"Bucket": spec.bucket, "Key": key, "Body": body});
        call(outside, arn, "putObject", p).await?;
    }
    Ok(files.manifest_key)
}
