//! A Distributed Map's items from S3 and its results to S3 (`ItemReader`, `ResultWriter`;
//! asl-semantics.md §6.3): what to read and where to write, as evaluated when the Map state
//! starts; how an object's text or a bucket listing becomes items; what the result files and
//! their manifest hold, and what the Map state answers with them. Pure: the runner makes the
//! S3 calls ([`super::map_io`]); the store keeps these specs on the run.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub const READER_FAILED: &str = "States.ItemReaderFailed";
pub const WRITER_FAILED: &str = "States.ResultWriterFailed";
/// The text AWS gives an object whose items are not an array (recorded).
pub const NOT_ITERABLE: &str = "Attempting to map over non-iterable node.";

/// What a run reads its items from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadSpec {
    /// `getObject` (one object's items) or `listObjectsV2` (the objects themselves).
    pub action: String,
    /// The evaluated Parameters: Bucket and Key (VersionId), or Bucket and Prefix.
    pub parameters: Value,
    /// `JSON`, `JSONL` or `CSV` (getObject).
    #[serde(default)]
    pub input_type: String,
    /// CSV headers given in the definition; none: the first row is the header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv_headers: Option<Vec<String>>,
    #[serde(default = "comma")]
    pub csv_delimiter: u8,
    /// A JSON pointer to the array inside a JSON object (`ItemsPointer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_pointer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
}

fn comma() -> u8 {
    b','
}

/// Where a run writes its results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteSpec {
    pub bucket: String,
    pub prefix: String,
    /// `JSON` (an array per file) or `JSONL` (an entry per line).
    pub output_type: String,
    /// `NONE` (each child's details), `COMPACT` (outputs) or `FLATTEN` (outputs, arrays
    /// flattened).
    pub transformation: String,
}

/// The ReadSpec of an ItemReader whose resource, Parameters and MaxItems were evaluated.
pub fn read_spec(
    resource: Option<&str>,
    parameters: Value,
    config: &Value,
    max_items: Option<i64>,
) -> Result<ReadSpec, String> {
    let action = match resource.and_then(|r| r.rsplit(':').next()) {
        Some(a @ ("getObject" | "listObjectsV2")) => a.to_owned(),
        _ => {
            return Err(format!(
                "sfnlite reads items with arn:aws:states:::s3:getObject and arn:aws:states:::s3:listObjectsV2, not '{}'",
                resource.unwrap_or_default()
            ))
        }
    };
    let text = |k: &str| config.get(k).and_then(Value::as_str);
    let input_type = text("InputType").unwrap_or("JSON").to_owned();
    if action == "getObject" && !matches!(input_type.as_str(), "JSON" | "JSONL" | "CSV") {
        return Err(format!(
            "sfnlite reads JSON, JSONL and CSV objects, not InputType {input_type}"
        ));
    }
    let csv_headers = match text("CSVHeaderLocation") {
        Some("GIVEN") => Some(
            config
                .get("CSVHeaders")
                .and_then(Value::as_array)
                .map(|h| {
                    h.iter()
                        .map(|v| v.as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default(),
        ),
        _ => None,
    };
    let csv_delimiter = match text("CSVDelimiter").unwrap_or("COMMA") {
        "PIPE" => b'|',
        "SEMICOLON" => b';',
        "SPACE" => b' ',
        "TAB" => b'\t',
        _ => b',',
    };
    let max_items = match max_items {
        None => None,
        Some(n) if n <= 0 => return Err("field MaxItems must be positive".to_owned()),
        Some(n) => Some(n as u64),
    };
    Ok(ReadSpec {
        action,
        parameters,
        input_type,
        csv_headers,
        csv_delimiter,
        items_pointer: text("ItemsPointer").map(str::to_owned),
        max_items,
    })
}

/// The items of an object's text as `spec` reads it.
pub fn object_items(spec: &ReadSpec, body: &str) -> Result<Vec<Value>, String> {
    let mut items = match spec.input_type.as_str() {
        "CSV" => csv_items(spec, body)?,
        "JSONL" => body
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| format!("Invalid JSON line: {e}")))
            .collect::<Result<_, _>>()?,
        _ => {
            let v: Value =
                serde_json::from_str(body).map_err(|e| format!("Invalid JSON object: {e}"))?;
            let v = match &spec.items_pointer {
                Some(p) => v.pointer(p).cloned().unwrap_or(Value::Null),
                None => v,
            };
            match v {
                Value::Array(items) => items,
                _ => return Err(NOT_ITERABLE.to_owned()),
            }
        }
    };
    if let Some(n) = spec.max_items {
        items.truncate(n as usize);
    }
    Ok(items)
}

/// A CSV object's rows as objects of text values, keyed by the header.
fn csv_items(spec: &ReadSpec, body: &str) -> Result<Vec<Value>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(spec.csv_delimiter)
        .from_reader(body.as_bytes());
    let mut rows = reader.records();
    let headers: Vec<String> = match &spec.csv_headers {
        Some(h) => h.clone(),
        None => match rows.next() {
            Some(r) => r
                .map_err(|e| format!("Invalid CSV: {e}"))?
                .iter()
                .map(str::to_owned)
                .collect(),
            None => Vec::new(),
        },
    };
    let mut seen = std::collections::HashSet::new();
    if !headers.iter().all(|h| seen.insert(h.as_str())) {
        return Err("CSV headers cannot contain duplicates.".to_owned());
    }
    let limit = spec.max_items.map_or(usize::MAX, |n| n as usize);
    let mut items = Vec::new();
    for row in rows.take(limit) {
        let row = row.map_err(|e| format!("Invalid CSV: {e}"))?;
        let item: Map<String, Value> = headers
            .iter()
            .zip(row.iter())
            .map(|(h, v)| (h.clone(), Value::String(v.to_owned())))
            .collect();
        items.push(Value::Object(item));
    }
    Ok(items)
}

/// The items of a listing's `Contents` (one object, or a list): each object's `Etag`, `Key`,
/// `LastModified` (epoch seconds), `Size` and `StorageClass`, as AWS hands them to children.
pub fn listed_items(contents: Option<&Value>) -> Vec<Value> {
    let one = |o: &Value| {
        let text = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
        let modified = time::OffsetDateTime::parse(
            text("LastModified"),
            &time::format_description::well_known::Rfc3339,
        )
        .map_or(0, |t| t.unix_timestamp());
        json!({
            "Etag": text("ETag"),
            "Key": text("Key"),
            "LastModified": modified,
            "Size": text("Size").parse::<u64>().unwrap_or(0),
            "StorageClass": text("StorageClass"),
        })
    };
    match contents {
        Some(Value::Array(list)) => list.iter().map(one).collect(),
        Some(o @ Value::Object(_)) => vec![one(o)],
        _ => Vec::new(),
    }
}

impl WriteSpec {
    /// Whether the results go to S3; otherwise (a ResultWriter with only a WriterConfig)
    /// they stay the Map's output, transformed.
    pub fn to_s3(&self) -> bool {
        !self.bucket.is_empty()
    }
}

/// The WriteSpec of a ResultWriter with a WriterConfig and no Resource: the results are
/// transformed and stay the Map's output.
pub fn inline_spec(config: &Value) -> Result<WriteSpec, String> {
    let mut spec = write_spec(&json!({"Bucket": ""}), config)?;
    spec.bucket.clear();
    Ok(spec)
}

/// The results as a ResultWriter without a Resource leaves them: each child's entry (see
/// [`result_files`]), in input order.
pub fn transformed(spec: &WriteSpec, children: &[ChildRecord<'_>]) -> Vec<Value> {
    children.iter().flat_map(|c| entry(spec, c)).collect()
}

/// The WriteSpec of a ResultWriter whose Parameters were evaluated.
pub fn write_spec(parameters: &Value, config: &Value) -> Result<WriteSpec, String> {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let bucket = text(parameters, "Bucket").ok_or("The ResultWriter needs a Bucket")?;
    let output_type = text(config, "OutputType").unwrap_or_else(|| "JSON".into());
    let transformation = text(config, "Transformation").unwrap_or_else(|| "NONE".into());
    if !matches!(output_type.as_str(), "JSON" | "JSONL")
        || !matches!(transformation.as_str(), "NONE" | "COMPACT" | "FLATTEN")
    {
        return Err(format!(
            "WriterConfig OutputType {output_type} / Transformation {transformation} is not one AWS offers"
        ));
    }
    Ok(WriteSpec {
        bucket,
        prefix: text(parameters, "Prefix").unwrap_or_default(),
        output_type,
        transformation,
    })
}

/// One child, as its run's result files describe it.
pub struct ChildRecord<'a> {
    pub arn: &'a str,
    pub name: &'a str,
    pub machine_arn: &'a str,
    pub status: &'a str,
    pub input: &'a str,
    pub output: Option<&'a str>,
    pub error: Option<&'a str>,
    pub cause: Option<&'a str>,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    pub redrive_count: u64,
}

/// The objects a run's results make: each result file and, last, the manifest; with the
/// manifest's key.
pub struct ResultFiles {
    pub objects: Vec<(String, String)>,
    pub manifest_key: String,
}

/// The result files of run `run_arn` for its children (in input order): `SUCCEEDED_0`,
/// `FAILED_0` (failed, timed out, aborted) under `<prefix>/<run id>/`, and `manifest.json`
/// naming them.
pub fn result_files(spec: &WriteSpec, run_arn: &str, children: &[ChildRecord<'_>]) -> ResultFiles {
    let id = run_arn.rsplit(':').next().unwrap_or_default();
    let base = if spec.prefix.is_empty() {
        format!("{id}/")
    } else {
        format!("{}/{id}/", spec.prefix.trim_end_matches('/'))
    };
    let extension = if spec.output_type == "JSONL" {
        "jsonl"
    } else {
        "json"
    };
    let mut files = Map::new();
    let mut objects = Vec::new();
    for (group, wanted) in [
        ("FAILED", &["FAILED", "TIMED_OUT", "ABORTED"][..]),
        ("PENDING", &[][..]),
        ("SUCCEEDED", &["SUCCEEDED"][..]),
    ] {
        let entries: Vec<Value> = children
            .iter()
            .filter(|c| wanted.contains(&c.status))
            .flat_map(|c| entry(spec, c))
            .collect();
        let mut listed = Vec::new();
        if !entries.is_empty() {
            let key = format!("{base}{group}_0.{extension}");
            let body = if spec.output_type == "JSONL" {
                entries.iter().map(|e| format!("{e}\n")).collect::<String>()
            } else {
                Value::Array(entries).to_string()
            };
            listed.push(json!({"Key": key, "Size": body.len()}));
            objects.push((key, body));
        }
        files.insert(group.to_owned(), Value::Array(listed));
    }
    let manifest_key = format!("{base}manifest.json");
    let manifest = json!({
        "DestinationBucket": spec.bucket,
        "MapRunArn": run_arn,
        "ResultFiles": files,
    });
    objects.push((manifest_key.clone(), manifest.to_string()));
    ResultFiles {
        objects,
        manifest_key,
    }
}

/// A child's entries in a result file: its details, or (COMPACT, FLATTEN) its output or
/// error — a FLATTENed array output gives one entry per element.
fn entry(spec: &WriteSpec, c: &ChildRecord<'_>) -> Vec<Value> {
    let output = || {
        c.output
            .and_then(|o| serde_json::from_str::<Value>(o).ok())
            .unwrap_or(Value::Null)
    };
    match spec.transformation.as_str() {
        "COMPACT" | "FLATTEN" if c.status != "SUCCEEDED" => {
            vec![json!({"Error": c.error, "Cause": c.cause})]
        }
        "COMPACT" => vec![output()],
        "FLATTEN" => match output() {
            Value::Array(items) => items,
            other => vec![other],
        },
        _ => {
            let mut e = Map::new();
            e.insert("ExecutionArn".into(), json!(c.arn));
            e.insert("Input".into(), json!(c.input));
            e.insert("InputDetails".into(), json!({"Included": true}));
            e.insert("Name".into(), json!(c.name));
            match c.output {
                Some(o) if c.status == "SUCCEEDED" => {
                    e.insert("Output".into(), json!(o));
                    e.insert("OutputDetails".into(), json!({"Included": true}));
                }
                _ => {
                    if let Some(err) = c.error {
                        e.insert("Error".into(), json!(err));
                    }
                    if let Some(cause) = c.cause {
                        e.insert("Cause".into(), json!(cause));
                    }
                }
            }
            e.insert("RedriveCount".into(), json!(c.redrive_count));
            if c.status == "SUCCEEDED" {
                e.insert("RedriveStatus".into(), json!("NOT_REDRIVABLE"));
                e.insert(
                    "RedriveStatusReason".into(),
                    json!("Execution is SUCCEEDED and cannot be redriven"),
                );
            } else {
                e.insert("RedriveStatus".into(), json!("REDRIVABLE_BY_MAP_RUN"));
            }
            e.insert("StartDate".into(), json!(super::step::iso(c.start_ms)));
            e.insert("StateMachineArn".into(), json!(c.machine_arn));
            e.insert("Status".into(), json!(c.status));
            if let Some(stop) = c.stop_ms {
                e.insert("StopDate".into(), json!(super::step::iso(stop)));
            }
            vec![Value::Object(e)]
        }
    }
}

/// What a Map state with a ResultWriter answers: the run and where its manifest is.
pub fn written_output(spec: &WriteSpec, run_arn: &str, manifest_key: &str) -> Value {
    json!({
        "MapRunArn": run_arn,
        "ResultWriterDetails": {"Bucket": spec.bucket, "Key": manifest_key},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(input_type: &str, config: Value) -> ReadSpec {
        let mut c = config;
        c["InputType"] = json!(input_type);
        read_spec(
            Some("arn:aws:states:::s3:getObject"),
            json!({"Bucket": "b", "Key": "k"}),
            &c,
            None,
        )
        .unwrap()
    }

    #[test]
    fn a_json_object_must_hold_an_array_of_items() {
        let s = spec("JSON", json!({}));
        assert_eq!(
            object_items(&s, "[1,{\"a\":2}]").unwrap(),
            vec![json!(1), json!({"a": 2})]
        );
        assert_eq!(object_items(&s, "{\"a\":1}").unwrap_err(), NOT_ITERABLE);
        let pointed = spec("JSON", json!({"ItemsPointer": "/data/list"}));
        assert_eq!(
            object_items(&pointed, "{\"data\":{\"list\":[true]}}").unwrap(),
            vec![json!(true)]
        );
    }

    #[test]
    fn csv_rows_become_objects_of_text_keyed_by_the_header() {
        let first = spec("CSV", json!({"CSVHeaderLocation": "FIRST_ROW"}));
        assert_eq!(
            object_items(&first, "id,name\n1,\"a, b\"\n2,c\n").unwrap(),
            vec![
                json!({"id": "1", "name": "a, b"}),
                json!({"id": "2", "name": "c"})
            ]
        );
        let given = spec(
            "CSV",
            json!({"CSVHeaderLocation": "GIVEN", "CSVHeaders": ["x", "y"], "CSVDelimiter": "PIPE"}),
        );
        assert_eq!(
            object_items(&given, "1|2\n").unwrap(),
            vec![json!({"x": "1", "y": "2"})]
        );
        assert_eq!(
            object_items(&first, "a,a\n1,2\n").unwrap_err(),
            "CSV headers cannot contain duplicates."
        );
    }

    #[test]
    fn max_items_keeps_the_first_items_and_must_be_positive() {
        let c = json!({"InputType": "JSONL"});
        let r = |n| read_spec(Some("arn:aws:states:::s3:getObject"), json!({}), &c, n);
        let s = r(Some(2)).unwrap();
        assert_eq!(
            object_items(&s, "1\n2\n\n3\n").unwrap(),
            vec![json!(1), json!(2)]
        );
        assert_eq!(r(Some(0)).unwrap_err(), "field MaxItems must be positive");
    }

    #[test]
    fn a_listing_gives_each_objects_details_with_epoch_seconds() {
        let contents = json!([{"Key": "a.txt", "ETag": "\"e\"", "LastModified": "2024-01-02T03:04:05.000Z", "Size": "12", "StorageClass": "STANDARD"}]);
        assert_eq!(
            listed_items(Some(&contents)),
            vec![
                json!({"Etag": "\"e\"", "Key": "a.txt", "LastModified": 1_704_164_645, "Size": 12, "StorageClass": "STANDARD"})
            ]
        );
        assert_eq!(listed_items(Some(&contents[0])).len(), 1);
        assert!(listed_items(None).is_empty());
    }

    #[test]
    fn result_files_group_children_by_status_under_the_run_id_with_a_manifest() {
        let w = write_spec(&json!({"Bucket": "out", "Prefix": "jobs"}), &Value::Null).unwrap();
        let child = |status, output, error| ChildRecord {
            arn: "arn:c",
            name: "c",
            machine_arn: "arn:m",
            status,
            input: "{}",
            output,
            error,
            cause: None,
            start_ms: 0,
            stop_ms: Some(1),
            redrive_count: 0,
        };
        let run = "arn:aws:states:us-east-1:1:mapRun:m/l:1234";
        let files = result_files(
            &w,
            run,
            &[
                child("SUCCEEDED", Some("1"), None),
                child("FAILED", None, Some("E")),
            ],
        );
        let keys: Vec<&str> = files.objects.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "jobs/1234/FAILED_0.json",
                "jobs/1234/SUCCEEDED_0.json",
                "jobs/1234/manifest.json"
            ]
        );
        let manifest: Value = serde_json::from_str(&files.objects[2].1).unwrap();
        assert_eq!(manifest["ResultFiles"]["PENDING"], json!([]));
        assert_eq!(
            manifest["ResultFiles"]["SUCCEEDED"][0]["Key"],
            "jobs/1234/SUCCEEDED_0.json"
        );
        let succeeded: Value = serde_json::from_str(&files.objects[1].1).unwrap();
        assert_eq!(succeeded[0]["Output"], "1");
        assert_eq!(succeeded[0]["Status"], "SUCCEEDED");
        let compact = WriteSpec {
            transformation: "FLATTEN".into(),
            ..w.clone()
        };
        let files = result_files(&compact, run, &[child("SUCCEEDED", Some("[1,2]"), None)]);
        assert_eq!(files.objects[0].1, "[1,2]");
        assert_eq!(
            written_output(&w, run, &files.manifest_key)["ResultWriterDetails"],
            json!({"Bucket": "out", "Key": "jobs/1234/manifest.json"})
        );
    }
}
