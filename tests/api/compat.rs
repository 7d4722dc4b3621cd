//! The compatibility suite: one scenario run through four real clients — aws-sdk-sfn
//! (here, in-process), boto3, the AWS CLI v1 and the JavaScript SDK v3 (scripts under
//! `compat/`) — against one server, printed as a client × step table; and the README's
//! client snippets, which are the files under `compat/snippets/` and are run here too.
//!
//! The clients are pinned and installed by `scripts/test.sh` (`compat/.venv`,
//! `compat/node_modules`), which runs this with `--ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::types::RoutingConfigurationListItem;
use serde_json::Value;

use crate::helpers::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

type Outcome = Result<(), String>;

fn check(cond: bool, what: impl std::fmt::Debug) -> Outcome {
    if cond {
        Ok(())
    } else {
        Err(format!("{what:?}"))
    }
}

fn error_of<T, E: ProvideErrorMetadata>(r: Result<T, E>) -> (String, String) {
    match r {
        Ok(_) => (String::new(), "the call succeeded".into()),
        Err(e) => (
            e.code().unwrap_or_default().to_owned(),
            e.message().unwrap_or_default().to_owned(),
        ),
    }
}

fn def(c: &str) -> String {
    serde_json::json!({"Comment": c, "StartAt": "S", "States": {"S": {"Type": "Pass", "End": true}}}).to_string()
}

/// The scenario through aws-sdk-sfn, step by step.
async fn rust_scenario(app: &TestApp) -> Vec<(String, Outcome)> {
    let sfn = app.client_as("AKIDCOMPAT", "us-east-1");
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:compat-rust".to_string();
    let mut rev = String::new();
    let route = |n: u32, w: i32| {
        RoutingConfigurationListItem::builder()
            .state_machine_version_arn(format!("{arn}:{n}"))
            .weight(w)
            .build()
            .unwrap()
    };
    let mut out = Vec::new();
    macro_rules! step {
        ($name:expr, $body:expr) => {{
            let r: Outcome = async { $body }.await;
            out.push(($name.to_string(), r));
        }};
    }
    step!("create", {
        let r = sfn
            .create_state_machine()
            .name("compat-rust")
            .definition(def("v0"))
            .role_arn(ROLE)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        check(r.state_machine_arn == arn, &r)
    });
    step!("update", {
        let r = sfn
            .update_state_machine()
            .state_machine_arn(&arn)
            .definition(def("v1"))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        rev = r.revision_id.clone().unwrap_or_default();
        check(rev.len() == 36, &r)
    });
    step!("publish", {
        let r = sfn
            .publish_state_machine_version()
            .state_machine_arn(&arn)
            .description("first")
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        check(r.state_machine_version_arn == format!("{arn}:1"), &r)
    });
    step!("describe version", {
        let d = sfn
            .describe_state_machine()
            .state_machine_arn(format!("{arn}:1"))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        check(
            d.state_machine_arn == format!("{arn}:1")
                && d.revision_id.as_deref() == Some(rev.as_str())
                && d.description.as_deref() == Some("first")
                && d.definition == def("v1"),
            &d,
        )
    });
    step!("list versions, 2 pages", {
        for c in ["v2", "v3"] {
            sfn.update_state_machine()
                .state_machine_arn(&arn)
                .definition(def(c))
                .publish(true)
                .send()
                .await
                .map_err(|e| format!("{e:?}"))?;
        }
        let p1 = sfn
            .list_state_machine_versions()
            .state_machine_arn(&arn)
            .max_results(2)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let ends: Vec<String> = p1
            .state_machine_versions
            .iter()
            .map(|v| {
                v.state_machine_version_arn[v.state_machine_version_arn.len() - 2..].to_owned()
            })
            .collect();
        check(ends == [":3", ":2"], &p1)?;
        let p2 = sfn
            .list_state_machine_versions()
            .state_machine_arn(&arn)
            .max_results(2)
            .next_token(p1.next_token.clone().unwrap_or_default())
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        check(
            p2.state_machine_versions.len() == 1 && p2.next_token.is_none(),
            &p2,
        )
    });
    step!("alias create", {
        let r = sfn
            .create_state_machine_alias()
            .name("prod")
            .routing_configuration(route(1, 100))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        check(r.state_machine_alias_arn == format!("{arn}:prod"), &r)
    });
    step!("alias update", {
        sfn.update_state_machine_alias()
            .state_machine_alias_arn(format!("{arn}:prod"))
            .routing_configuration(route(1, 50))
            .routing_configuration(route(2, 50))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let d = sfn
            .describe_state_machine_alias()
            .state_machine_alias_arn(format!("{arn}:prod"))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let weights: Vec<i32> = d
            .routing_configuration
            .iter()
            .flatten()
            .map(|r| r.weight)
            .collect();
        check(weights == [50, 50] && d.update_date >= d.creation_date, &d)
    });
    step!("delete version: conflict", {
        let got = error_of(
            sfn.delete_state_machine_version()
                .state_machine_version_arn(format!("{arn}:1"))
                .send()
                .await,
        );
        let want = ("ConflictException".to_string(), "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [prod]".to_string());
        check(got == want, got)
    });
    step!("alias delete", {
        sfn.delete_state_machine_alias()
            .state_machine_alias_arn(format!("{arn}:prod"))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        sfn.delete_state_machine_version()
            .state_machine_version_arn(format!("{arn}:1"))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let l = sfn
            .list_state_machine_aliases()
            .state_machine_arn(&arn)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        check(l.state_machine_aliases.is_empty(), &l)
    });
    step!("error: does not exist", {
        let missing = format!("{arn}-missing");
        let got = error_of(
            sfn.describe_state_machine()
                .state_machine_arn(&missing)
                .send()
                .await,
        );
        check(
            got == (
                "StateMachineDoesNotExist".into(),
                format!("State Machine Does Not Exist: '{missing}'"),
            ),
            got,
        )
    });
    step!("error: invalid ARN", {
        let got = error_of(
            sfn.describe_state_machine()
                .state_machine_arn("nope")
                .send()
                .await,
        );
        check(
            got == (
                "InvalidArn".into(),
                "Invalid Arn: 'Invalid ARN prefix: nope'".into(),
            ),
            got,
        )
    });
    step!("error: validation", {
        let got = error_of(
            sfn.list_state_machine_versions()
                .state_machine_arn(&arn)
                .max_results(1001)
                .send()
                .await,
        );
        let want = "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000";
        check(got == ("ValidationException".into(), want.into()), got)
    });
    step!("error: revision conflict", {
        let got = error_of(
            sfn.publish_state_machine_version()
                .state_machine_arn(&arn)
                .revision_id("INITIAL")
                .send()
                .await,
        );
        check(
            got.0 == "ConflictException"
                && got.1.starts_with(
                    "Failed to publish the State Machine version for revision INITIAL.",
                ),
            got,
        )
    });
    step!("delete machine", {
        sfn.delete_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let got = error_of(
            sfn.describe_state_machine()
                .state_machine_arn(&arn)
                .send()
                .await,
        );
        check(got.0 == "StateMachineDoesNotExist", got)
    });
    out
}

/// Runs a client's scenario script and reads its JSON lines.
fn external_scenario(mut cmd: Command) -> Vec<(String, Outcome)> {
    let o = cmd.output().expect("scenario runs");
    assert!(
        o.status.success(),
        "scenario failed to run: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: Value =
                serde_json::from_str(l).unwrap_or_else(|_| panic!("not a step line: {l}"));
            let outcome = if v["ok"] == true {
                Ok(())
            } else {
                Err(v["detail"].as_str().unwrap_or("").to_owned())
            };
            (v["step"].as_str().unwrap().to_owned(), outcome)
        })
        .collect()
}

fn venv_bin() -> PathBuf {
    root().join("compat/.venv/bin")
}

fn with_endpoint(mut cmd: Command, app: &TestApp) -> Command {
    let path = format!(
        "{}:{}",
        venv_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env("SFNLITE_ENDPOINT", &app.url)
        .env("PATH", path)
        .env("NODE_NO_WARNINGS", "1");
    cmd
}

fn require_clients() {
    assert!(
        venv_bin().join("python").exists() && root().join("compat/node_modules/@aws-sdk/client-sfn").exists(),
        "the pinned clients are not installed: run scripts/test.sh (it installs compat/.venv and compat/node_modules)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the pinned Python and JavaScript clients; scripts/test.sh installs them and runs this"]
async fn four_clients_pass_the_same_scenario() {
    require_clients();
    let app = TestApp::spawn().await;
    let scenarios = root().join("compat/scenarios");
    let mut results: Vec<(&str, Vec<(String, Outcome)>)> =
        vec![("aws-sdk-sfn", rust_scenario(&app).await)];
    let mut boto3 = Command::new(venv_bin().join("python"));
    boto3.arg(scenarios.join("boto3_scenario.py"));
    let mut cli = Command::new(venv_bin().join("python"));
    cli.arg(scenarios.join("cli_scenario.py"))
        .env("AWS_CLI", venv_bin().join("aws"));
    let mut js = Command::new("node");
    js.arg(scenarios.join("js_scenario.mjs"));
    for (name, cmd) in [("boto3", boto3), ("aws-cli v1", cli), ("js sdk v3", js)] {
        let cmd = with_endpoint(cmd, &app);
        results.push((
            name,
            tokio::task::spawn_blocking(move || external_scenario(cmd))
                .await
                .unwrap(),
        ));
    }

    let steps: Vec<String> = results[0].1.iter().map(|(s, _)| s.clone()).collect();
    let mut table = format!(
        "| step | {} |\n|---|{}\n",
        results.iter().map(|r| r.0).collect::<Vec<_>>().join(" | "),
        "---|".repeat(results.len())
    );
    let mut failures = Vec::new();
    for step in &steps {
        let cells: Vec<&str> = results
            .iter()
            .map(
                |(client, outcomes)| match outcomes.iter().find(|(s, _)| s == step) {
                    Some((_, Ok(()))) => "pass",
                    Some((_, Err(e))) => {
                        failures.push(format!("{client} / {step}: {e}"));
                        "FAIL"
                    }
                    None => {
                        failures.push(format!("{client} / {step}: step missing"));
                        "missing"
                    }
                },
            )
            .collect();
        table.push_str(&format!("| {step} | {} |\n", cells.join(" | ")));
    }
    println!("{table}");
    assert!(steps.len() >= 14, "the scenario lost steps: {steps:?}");
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the pinned Python and JavaScript clients; scripts/test.sh installs them and runs this"]
async fn the_readme_snippets_run_against_sfnlite() {
    require_clients();
    let app = TestApp::spawn().await;
    let snippets = root().join("compat/snippets");
    let cases = [
        (
            "boto3_quickstart.py",
            venv_bin().join("python").display().to_string(),
            "hello-boto3",
        ),
        ("cli_quickstart.sh", "bash".to_string(), "hello-cli"),
        ("js_quickstart.mjs", "node".to_string(), "hello-js"),
    ];
    for (file, runner, name) in cases {
        let mut cmd = Command::new(runner);
        cmd.arg(snippets.join(file));
        let mut cmd = with_endpoint(cmd, &app);
        let o = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            stdout.trim(),
            format!("arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{name}:1"),
            "{file}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the pinned Python client; scripts/test.sh installs it and runs this"]
async fn the_readme_activity_worker_completes_its_execution() {
    require_clients();
    let app = TestApp::spawn().await;
    let mut cmd = Command::new(venv_bin().join("python"));
    cmd.arg(root().join("compat/snippets/boto3_activity_worker.py"));
    let mut cmd = with_endpoint(cmd, &app);
    let o = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        r#"{"greeting":"hello, world"}"#
    );
}

/// The README shows each snippet file verbatim after a `<!-- snippet: PATH -->` marker, so the
/// documentation cannot drift from what the suite runs.
#[test]
fn readme_snippets_are_the_files_the_suite_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut seen = 0;
    for (i, _) in readme.match_indices("<!-- snippet: ") {
        let rest = &readme[i + "<!-- snippet: ".len()..];
        let path = &rest[..rest.find(" -->").unwrap()];
        let fence_start = rest.find("```").unwrap();
        let body_start = fence_start + rest[fence_start..].find('\n').unwrap() + 1;
        let body_end = body_start + rest[body_start..].find("```").unwrap();
        let file = std::fs::read_to_string(root().join(Path::new(path)))
            .unwrap_or_else(|_| panic!("{path} is missing"));
        assert_eq!(
            &rest[body_start..body_end],
            file,
            "README block for {path} differs from the file"
        );
        seen += 1;
    }
    assert!(
        seen >= 3,
        "expected the boto3, CLI and JavaScript snippets, found {seen}"
    );
}
