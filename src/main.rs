//! The `sfnlite` binary: `sfnlite [serve] [flags]` starts the service; `sfnlite export` and
//! `sfnlite import` move the whole state between databases.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use sfnlite::config::{Cli, Command, ExportArgs, ImportArgs, LogFormat};
use sfnlite::{App, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line an operator can act on (file and cause), never a backtrace.
            let _ = writeln!(std::io::stderr(), "sfnlite: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse_with_defaults();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        Some(Command::Export(args)) => return export(&args),
        Some(Command::Import(args)) => return import(&args).await,
        None => cli.serve,
    };
    let config = Config::resolve(&args)?;
    init_logs(&config.log, config.log_format == LogFormat::Json)?;

    let app = App::build(&config).await?;
    let addr = app.local_addr();
    // Printed verbatim whatever the log format, so scripts and tests can find the port.
    let _ = writeln!(std::io::stderr(), "listening on {addr}");
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "listening beyond loopback: anyone who can reach this address can use the API");
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        listen = %addr,
        db = %config.db.display(),
        "sfnlite started"
    );
    app.run_until(shutdown_signal()).await?;
    tracing::info!("sfnlite stopped");
    Ok(())
}

/// Logs to stderr, coloured only on a terminal. The migration library's own chatter is kept
/// below the default level: sfnlite logs one line per migration it applies.
fn init_logs(filter: &str, json: bool) -> anyhow::Result<()> {
    let quiet = format!("{filter},refinery=warn,refinery_core=warn");
    let filter = EnvFilter::try_new(if filter.contains("refinery") {
        filter
    } else {
        &quiet
    })
    .with_context(|| format!("invalid log filter '{filter}'"))?;
    // A closed stderr (a supervisor that stopped reading) must never take the service down:
    // write errors are dropped instead of being reported through a panicking eprintln!.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .log_internal_errors(false);
    if json {
        logs.json().init();
    } else {
        logs.init();
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

fn export(args: &ExportArgs) -> anyhow::Result<()> {
    match &args.out {
        Some(path) => {
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?,
            );
            sfnlite::transfer::export(&args.db, &mut file)?;
            file.flush()?;
        }
        None => {
            sfnlite::transfer::export(&args.db, &mut std::io::stdout().lock())?;
        }
    }
    Ok(())
}

async fn import(args: &ImportArgs) -> anyhow::Result<()> {
    match &args.input {
        Some(path) => {
            let mut file = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            sfnlite::transfer::import(&args.db, &mut file, args.replace).await
        }
        None => {
            sfnlite::transfer::import(&args.db, &mut std::io::stdin().lock(), args.replace).await
        }
    }
}
