//! `sfnlite export` and `sfnlite import`: the whole state as one JSON document. Export reads a
//! consistent snapshot (it works beside a running sfnlite); import takes the owner lock, so it
//! is refused while another sfnlite owns the database, and loads everything in one
//! transaction.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{bail, Context};
use rusqlite::{Connection, OpenFlags};

use crate::store::transfer::{self, Export};
use crate::store::{ImportError, Store, StoreOptions};

/// Machines between two progress lines on stderr.
const PROGRESS_EVERY: usize = 1000;

fn progress(verb: &'static str) -> impl FnMut(usize) + Send + 'static {
    move |done| {
        if done % PROGRESS_EVERY == 0 {
            eprintln_quiet(&format!(
                "{verb} {}…",
                counted(done, "state machine", "state machines")
            ));
        }
    }
}

/// `1 alias`, `2 aliases`.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn eprintln_quiet(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Writes the state of the database at `db` to `out`.
pub fn export(db: &Path, out: &mut dyn Write) -> anyhow::Result<Export> {
    if !db.exists() {
        bail!("database {} does not exist", db.display());
    }
    let mut conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open database {}", db.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // One read transaction: a consistent snapshot even while a server writes.
    let tx = conn.transaction()?;
    let data = transfer::export(&tx, progress("exported"))
        .map_err(|e| anyhow::anyhow!("cannot export {}: {e}", db.display()))?;
    serde_json::to_writer_pretty(&mut *out, &data)?;
    writeln!(out)?;
    let versions = data.state_machines.iter().map(|m| m.versions.len()).sum();
    let aliases = data.state_machines.iter().map(|m| m.aliases.len()).sum();
    let executions = data.state_machines.iter().map(|m| m.executions.len()).sum();
    eprintln_quiet(&format!(
        "exported {}, {}, {}, {}, {}",
        counted(data.state_machines.len(), "state machine", "state machines"),
        counted(versions, "version", "versions"),
        counted(aliases, "alias", "aliases"),
        counted(executions, "execution", "executions"),
        counted(data.activities.len(), "activity", "activities")
    ));
    Ok(data)
}

/// Loads an export from `input` into the database at `db`.
pub async fn import(db: &Path, input: &mut dyn Read, replace: bool) -> anyhow::Result<()> {
    let mut text = String::new();
    input
        .read_to_string(&mut text)
        .context("cannot read the export")?;
    let data: Export = serde_json::from_str(&text).context("the input is not an sfnlite export")?;
    if data.format != transfer::FORMAT || data.format_version > transfer::FORMAT_VERSION {
        bail!(
            "unsupported export format {} version {}",
            data.format,
            data.format_version
        );
    }
    let store = Store::open(db, &StoreOptions::default())?;
    let machines = data.state_machines.len();
    store
        .import(data, replace, progress("imported"))
        .await
        .map_err(|e| match e {
            ImportError::NotEmpty => anyhow::anyhow!(
                "database {} already holds state; pass --replace to overwrite it",
                db.display()
            ),
            ImportError::Store(e) => anyhow::anyhow!("cannot import into {}: {e}", db.display()),
        })?;
    store.checkpoint().ok();
    eprintln_quiet(&format!(
        "imported {}",
        counted(machines, "state machine", "state machines")
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn counts_read_as_english() {
        assert_eq!(counted(1, "alias", "aliases"), "1 alias");
        assert_eq!(counted(0, "alias", "aliases"), "0 aliases");
        assert_eq!(counted(2, "version", "versions"), "2 versions");
    }
}
