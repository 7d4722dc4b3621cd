//! Configuration: defaults built into the binary, then an optional TOML file (`--config`),
//! then `SFNLITE_*` environment variables, then command-line flags — each layer overriding
//! the one before. `config/sfnlite.toml` documents every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

use crate::domain::arn::{is_account, is_region};
use crate::http::sigv4::{Keys, Secret};
use crate::store::{StoreOptions, Synchronous};

/// sfnlite: the AWS Step Functions API for state machines, versions and aliases, on SQLite.
#[derive(Debug, Parser)]
#[command(name = "sfnlite", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

// Parsed once at start-up, so the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the service (the default when no command is given).
    Serve(ServeArgs),
    /// Write the whole state (every account and region) as JSON.
    Export(ExportArgs),
    /// Load a state written by `export` into a database.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Database to read (it may be in use by a running sfnlite).
    #[arg(long, env = "SFNLITE_DB", value_name = "PATH", default_value = DEFAULT_DB)]
    pub db: PathBuf,
    /// Output file. [default: stdout]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Database to load into; created if missing. Refused while another sfnlite owns it.
    #[arg(long, env = "SFNLITE_DB", value_name = "PATH", default_value = DEFAULT_DB)]
    pub db: PathBuf,
    /// Input file. [default: stdin]
    #[arg(long = "in", value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Replace the database's current state; without it a non-empty database is refused.
    #[arg(long)]
    pub replace: bool,
}

/// Settings of the service. Each flag also reads its environment variable; unset values come
/// from the `--config` file, then from the built-in defaults.
#[derive(Debug, Args, Default, Clone)]
pub struct ServeArgs {
    /// TOML file with any of the keys below (see config/sfnlite.toml).
    #[arg(long, env = "SFNLITE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port. [default: 127.0.0.1:8083]
    #[arg(long, env = "SFNLITE_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// SQLite database file; its folder is created. [default: ./sfnlite-data/sfnlite.db]
    #[arg(long, env = "SFNLITE_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Region for requests that carry no SigV4 credential scope. [default: us-east-1]
    #[arg(long, env = "SFNLITE_REGION")]
    pub region: Option<String>,
    /// Account for requests whose access key id is not 12 digits. [default: 123456789012]
    #[arg(long, env = "SFNLITE_ACCOUNT_ID", value_name = "ID")]
    pub account_id: Option<String>,
    /// SQLite synchronous level: off, normal, full or extra; full fsyncs every commit. [default: full]
    #[arg(long, env = "SFNLITE_SYNCHRONOUS", value_name = "LEVEL")]
    pub synchronous: Option<String>,
    /// Largest accepted request body in bytes; larger ones get 413. [default: 8388608]
    #[arg(long, env = "SFNLITE_MAX_BODY_BYTES", value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Versions allowed per state machine. [default: 1000]
    #[arg(long, env = "SFNLITE_VERSION_QUOTA", value_name = "N")]
    pub version_quota: Option<i64>,
    /// Aliases allowed per state machine. [default: 100]
    #[arg(long, env = "SFNLITE_ALIAS_QUOTA", value_name = "N")]
    pub alias_quota: Option<i64>,
    /// How long a write waits for another process's lock on the file before answering 503. [default: 5000]
    #[arg(long, env = "SFNLITE_BUSY_TIMEOUT_MS", value_name = "MS")]
    pub busy_timeout_ms: Option<u64>,
    /// Cap on the database size in bytes; writes beyond it answer 503 and change nothing. 0 = no cap. [default: 0]
    #[arg(long, env = "SFNLITE_MAX_DB_BYTES", value_name = "BYTES")]
    pub max_db_bytes: Option<u64>,
    /// Serve the database read-only: reads work, writes answer 503. [default: false]
    #[arg(long, env = "SFNLITE_READ_ONLY", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub read_only: Option<bool>,
    /// Longest wait for in-flight requests at shutdown before closing anyway. [default: 10000]
    #[arg(long, env = "SFNLITE_SHUTDOWN_GRACE_MS", value_name = "MS")]
    pub shutdown_grace_ms: Option<u64>,
    /// Largest request head (request line and headers) in bytes; at least 8192. [default: 16384]
    #[arg(long, env = "SFNLITE_MAX_HEADER_BYTES", value_name = "BYTES")]
    pub max_header_bytes: Option<usize>,
    /// Longest a whole request may take before it answers 408. [default: 30000]
    #[arg(long, env = "SFNLITE_REQUEST_TIMEOUT_MS", value_name = "MS")]
    pub request_timeout_ms: Option<u64>,
    /// A connection that trickles its headers or body longer than this is dropped. [default: 10000]
    #[arg(long, env = "SFNLITE_IDLE_TIMEOUT_MS", value_name = "MS")]
    pub idle_timeout_ms: Option<u64>,
    /// Deepest JSON nesting accepted in a request body. [default: 64]
    #[arg(long, env = "SFNLITE_MAX_JSON_DEPTH", value_name = "N")]
    pub max_json_depth: Option<usize>,
    /// Request authentication: off, or sigv4 (verify every signature). [default: off]
    #[arg(long, env = "SFNLITE_AUTH_MODE", value_name = "MODE")]
    pub auth_mode: Option<String>,
    /// Credentials accepted in sigv4 mode: AKID:SECRET[:SESSION_TOKEN], comma-separated.
    #[arg(
        long,
        env = "SFNLITE_ACCESS_KEYS",
        value_name = "LIST",
        hide_env_values = true
    )]
    pub access_keys: Option<String>,
    /// Serve POST /_sfnlite/reset and POST /moto-api/reset, which wipe all state. [default: false]
    #[arg(long, env = "SFNLITE_ENABLE_RESET", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub enable_reset: Option<bool>,
    /// Origins allowed to call from a browser (CORS), comma-separated; * allows any. [default: none]
    #[arg(long, env = "SFNLITE_CORS_ORIGINS", value_name = "LIST")]
    pub cors_origins: Option<String>,
    /// Log format: text or json. [default: text]
    #[arg(long, env = "SFNLITE_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Log filter (tracing syntax: error, warn, info, debug, or per-module); per-call lines are at debug. [default: info]
    #[arg(long, env = "SFNLITE_LOG", value_name = "FILTER")]
    pub log: Option<String>,
}

/// Where the database lives unless told otherwise (serve, export and import alike).
pub const DEFAULT_DB: &str = "./sfnlite-data/sfnlite.db";

/// hyper cannot buffer a request head in less.
pub const MIN_HEADER_BYTES: usize = 8192;

/// The keys of the configuration file; unknown keys are an error so typos fail at start-up.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    db: Option<PathBuf>,
    region: Option<String>,
    account_id: Option<String>,
    synchronous: Option<String>,
    max_body_bytes: Option<usize>,
    version_quota: Option<i64>,
    alias_quota: Option<i64>,
    busy_timeout_ms: Option<u64>,
    max_db_bytes: Option<u64>,
    read_only: Option<bool>,
    shutdown_grace_ms: Option<u64>,
    max_header_bytes: Option<usize>,
    request_timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    max_json_depth: Option<usize>,
    auth_mode: Option<String>,
    access_keys: Option<Vec<String>>,
    enable_reset: Option<bool>,
    cors_origins: Option<Vec<String>>,
    log_format: Option<String>,
    log: Option<String>,
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    pub db: PathBuf,
    pub region: String,
    pub account_id: String,
    pub synchronous: Synchronous,
    pub max_body_bytes: usize,
    pub version_quota: i64,
    pub alias_quota: i64,
    pub busy_timeout_ms: u64,
    /// 0 means no cap.
    pub max_db_bytes: u64,
    pub read_only: bool,
    pub shutdown_grace_ms: u64,
    pub max_header_bytes: usize,
    pub request_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub max_json_depth: usize,
    pub auth: AuthMode,
    pub enable_reset: bool,
    /// Browser origins allowed by CORS; `*` allows any; empty sends no CORS headers.
    pub cors_origins: Vec<String>,
    /// `text` or `json`.
    pub log_format: String,
    pub log: String,
}

/// Request authentication.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum AuthMode {
    /// Any request is accepted; the signature only names the caller's account and region.
    #[default]
    Off,
    /// Every request must carry a valid SigV4 signature by one of these keys.
    SigV4(Keys),
}

impl std::fmt::Debug for AuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthMode::Off => f.write_str("Off"),
            AuthMode::SigV4(keys) => write!(f, "SigV4({} keys, secrets redacted)", keys.len()),
        }
    }
}

/// Parses `AKID:SECRET[:TOKEN][@ACCOUNT]` entries. Each key belongs to one account: the one
/// after `@`, else the key id itself when it is 12 digits, else `default_account`. Requests
/// signed with a key act in its account whatever else their headers say.
fn parse_keys<'a>(
    entries: impl IntoIterator<Item = &'a str>,
    default_account: &str,
) -> anyhow::Result<Keys> {
    let invalid =
        || anyhow::anyhow!("invalid access key entry (expected AKID:SECRET[:TOKEN][@ACCOUNT])");
    let mut keys = Keys::new();
    for entry in entries.into_iter().map(str::trim).filter(|e| !e.is_empty()) {
        // Secrets and session tokens are base64, which has no '@'.
        let (credential, account) = match entry.rsplit_once('@') {
            Some((c, a)) if is_account(a) => (c, Some(a)),
            Some(_) => bail!("invalid access key entry: the account after '@' must be 12 digits"),
            None => (entry, None),
        };
        let mut parts = credential.splitn(3, ':');
        let (Some(id), Some(secret)) = (parts.next(), parts.next()) else {
            return Err(invalid());
        };
        if id.is_empty() || secret.is_empty() {
            return Err(invalid());
        }
        let account = account
            .or(is_account(id).then_some(id))
            .unwrap_or(default_account);
        keys.insert(
            id.to_owned(),
            Secret {
                secret_access_key: secret.to_owned(),
                session_token: parts.next().map(str::to_owned),
                account: account.to_owned(),
            },
        );
    }
    Ok(keys)
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8083)),
            db: PathBuf::from(DEFAULT_DB),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            synchronous: Synchronous::Full,
            max_body_bytes: 8 * 1024 * 1024,
            version_quota: 1000,
            alias_quota: 100,
            busy_timeout_ms: 5000,
            max_db_bytes: 0,
            read_only: false,
            shutdown_grace_ms: 10_000,
            max_header_bytes: 16 * 1024,
            request_timeout_ms: 30_000,
            idle_timeout_ms: 10_000,
            max_json_depth: 64,
            auth: AuthMode::Off,
            enable_reset: false,
            cors_origins: Vec::new(),
            log_format: "text".into(),
            log: "info".into(),
        }
    }
}

impl Config {
    /// How the store is opened.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            synchronous: self.synchronous,
            busy_timeout: std::time::Duration::from_millis(self.busy_timeout_ms),
            max_db_bytes: (self.max_db_bytes > 0).then_some(self.max_db_bytes),
            read_only: self.read_only,
        }
    }

    /// A configuration for tests and embedding: defaults, a free loopback port, this database.
    pub fn for_tests(db: &Path) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            db: db.to_owned(),
            ..Config::default()
        }
    }

    /// Resolves flags (already merged with the environment by clap) over the file over defaults.
    pub fn resolve(args: &ServeArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("invalid config file {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let d = Config::default();
        let listen = args.listen.clone().or(file.listen);
        let listen = match listen {
            Some(s) => s
                .parse()
                .with_context(|| format!("invalid listen address '{s}'"))?,
            None => d.listen,
        };
        let region = args.region.clone().or(file.region).unwrap_or(d.region);
        if !is_region(&region) {
            bail!("invalid region '{region}'");
        }
        let account_id = args
            .account_id
            .clone()
            .or(file.account_id)
            .unwrap_or(d.account_id);
        if !is_account(&account_id) {
            bail!("invalid account id '{account_id}': it must be 12 digits");
        }
        let synchronous = match args.synchronous.clone().or(file.synchronous) {
            Some(s) => Synchronous::parse(&s)
                .with_context(|| format!("invalid synchronous level '{s}'"))?,
            None => d.synchronous,
        };
        let version_quota = args
            .version_quota
            .or(file.version_quota)
            .unwrap_or(d.version_quota);
        if version_quota < 1 {
            bail!("version_quota must be at least 1");
        }
        let alias_quota = args
            .alias_quota
            .or(file.alias_quota)
            .unwrap_or(d.alias_quota);
        if alias_quota < 1 {
            bail!("alias_quota must be at least 1");
        }
        let max_header_bytes = args
            .max_header_bytes
            .or(file.max_header_bytes)
            .unwrap_or(d.max_header_bytes);
        if max_header_bytes < MIN_HEADER_BYTES {
            bail!("max_header_bytes must be at least {MIN_HEADER_BYTES} (got {max_header_bytes})");
        }
        let auth = match args.auth_mode.clone().or(file.auth_mode).as_deref() {
            None | Some("off") => AuthMode::Off,
            Some("sigv4") => {
                let keys = match &args.access_keys {
                    Some(list) => parse_keys(list.split(','), &account_id)?,
                    None => parse_keys(
                        file.access_keys.iter().flatten().map(String::as_str),
                        &account_id,
                    )?,
                };
                if keys.is_empty() {
                    bail!("auth_mode = sigv4 needs at least one access key (access_keys or SFNLITE_ACCESS_KEYS)");
                }
                AuthMode::SigV4(keys)
            }
            Some(other) => bail!("invalid auth_mode '{other}': use off or sigv4"),
        };
        let log_format = args
            .log_format
            .clone()
            .or(file.log_format)
            .unwrap_or(d.log_format.clone());
        if !matches!(log_format.as_str(), "text" | "json") {
            bail!("invalid log_format '{log_format}': use text or json");
        }
        let max_body_bytes = args
            .max_body_bytes
            .or(file.max_body_bytes)
            .unwrap_or(d.max_body_bytes);
        Ok(Config {
            listen,
            db: args.db.clone().or(file.db).unwrap_or(d.db),
            region,
            account_id,
            synchronous,
            max_body_bytes,
            version_quota,
            alias_quota,
            busy_timeout_ms: args
                .busy_timeout_ms
                .or(file.busy_timeout_ms)
                .unwrap_or(d.busy_timeout_ms),
            max_db_bytes: args
                .max_db_bytes
                .or(file.max_db_bytes)
                .unwrap_or(d.max_db_bytes),
            read_only: args.read_only.or(file.read_only).unwrap_or(d.read_only),
            shutdown_grace_ms: args
                .shutdown_grace_ms
                .or(file.shutdown_grace_ms)
                .unwrap_or(d.shutdown_grace_ms),
            max_header_bytes,
            request_timeout_ms: args
                .request_timeout_ms
                .or(file.request_timeout_ms)
                .unwrap_or(d.request_timeout_ms),
            idle_timeout_ms: args
                .idle_timeout_ms
                .or(file.idle_timeout_ms)
                .unwrap_or(d.idle_timeout_ms),
            max_json_depth: args
                .max_json_depth
                .or(file.max_json_depth)
                .unwrap_or(d.max_json_depth),
            auth,
            enable_reset: args
                .enable_reset
                .or(file.enable_reset)
                .unwrap_or(d.enable_reset),
            cors_origins: match &args.cors_origins {
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(str::to_owned)
                    .collect(),
                None => file.cors_origins.unwrap_or(d.cors_origins),
            },
            log_format,
            log: args.log.clone().or(file.log).unwrap_or(d.log),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_and_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "region = \"eu-west-1\"\nversion_quota = 5\n").unwrap();
        let args = ServeArgs {
            config: Some(file),
            version_quota: Some(7),
            ..ServeArgs::default()
        };
        let c = Config::resolve(&args).unwrap();
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.version_quota, 7);
        assert_eq!(c.account_id, "123456789012");
    }

    #[test]
    fn unknown_file_keys_fail_at_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "regoin = \"eu-west-1\"\n").unwrap();
        assert!(Config::resolve(&ServeArgs {
            config: Some(file),
            ..ServeArgs::default()
        })
        .is_err());
    }

    #[test]
    fn the_documented_config_file_holds_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/sfnlite.toml");
        let c = Config::resolve(&ServeArgs {
            config: Some(path),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(c, Config::default());
    }

    #[test]
    fn each_access_key_belongs_to_one_account() {
        let keys = parse_keys(
            [
                "AKIDBOUND:s1@111122223333",
                "222233334444:s2",
                "AKIDPLAIN:s3:tok+/=",
                "ASIAX:s4:tok@555566667777",
            ],
            "123456789012",
        )
        .unwrap();
        assert_eq!(keys["AKIDBOUND"].account, "111122223333");
        assert_eq!(keys["222233334444"].account, "222233334444");
        assert_eq!(keys["AKIDPLAIN"].account, "123456789012");
        assert_eq!(keys["AKIDPLAIN"].session_token.as_deref(), Some("tok+/="));
        assert_eq!(keys["ASIAX"].account, "555566667777");
        assert_eq!(keys["ASIAX"].session_token.as_deref(), Some("tok"));
        assert!(parse_keys(["AKID:s@1234"], "123456789012").is_err());
    }

    #[test]
    fn a_request_head_limit_below_the_minimum_is_refused() {
        let err = Config::resolve(&ServeArgs {
            max_header_bytes: Some(100),
            ..ServeArgs::default()
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "max_header_bytes must be at least 8192 (got 100)"
        );
    }
}
