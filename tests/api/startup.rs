//! What an operator sees when starting the binary: the log lines, refusals of bad settings
//! and of a taken port, and the defaults shared by `serve`, `export` and `import`.

use std::io::BufRead;
use std::process::Stdio;

use crate::helpers::*;

/// Starts `sfnlite` with `args` in `cwd` and returns its stderr lines up to and including
/// the "sfnlite started" line, then stops it.
fn start_up_lines(cwd: &std::path::Path, args: &[&str]) -> Vec<String> {
    let mut child = sfnlite_command(args)
        .current_dir(cwd)
        .stderr(Stdio::piped())
        .spawn()
        .expect("sfnlite starts");
    let mut lines = Vec::new();
    for line in std::io::BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        let done = line.contains("sfnlite started");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn start_up_logs_one_line_per_migration_applied_and_none_when_current() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--listen", "127.0.0.1:0", "--db", "data/s.db"];
    let first = start_up_lines(dir.path(), &args);
    let migrations: Vec<&String> = first
        .iter()
        .filter(|l| l.contains("applied migration"))
        .collect();
    let known = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    assert_eq!(migrations.len(), known, "{first:#?}");
    for lines in [&first, &start_up_lines(dir.path(), &args)] {
        assert!(lines.iter().all(|l| !l.trim().is_empty()), "{lines:#?}");
        assert!(lines.iter().all(|l| !l.contains("refinery")), "{lines:#?}");
        // stderr is a pipe here, not a terminal: no colour codes.
        assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "{lines:#?}");
        let started = lines.last().unwrap();
        assert!(started.contains(env!("CARGO_PKG_VERSION")), "{started}");
        assert!(started.contains("listen=127.0.0.1:"), "{started}");
        assert!(started.contains("db=data/s.db"), "{started}");
    }
    let second = start_up_lines(dir.path(), &args);
    assert!(
        second.iter().all(|l| !l.contains("applied migration")),
        "{second:#?}"
    );
}

#[test]
fn a_taken_port_is_refused_before_any_database_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let db = dir.path().join("fresh/s.db");
    let out = sfnlite_command(&["--listen", &addr, "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert!(!db.exists());
    assert!(!dir.path().join("fresh").exists());
}

#[test]
fn a_request_head_limit_below_the_minimum_is_refused_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = sfnlite_command(&["--listen", "127.0.0.1:0", "--max-header-bytes", "100"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "sfnlite: max_header_bytes must be at least 8192 (got 100)"
    );
}

#[test]
fn export_reads_the_database_serve_uses_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let out = sfnlite_command(&["export"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("./sfnlite-data/sfnlite.db does not exist")
    );
    start_up_lines(dir.path(), &["--listen", "127.0.0.1:0"]);
    let out = sfnlite_command(&["export"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "exported 0 state machines, 0 versions, 0 aliases, 0 executions, 0 activities"
    );
}
