//! Configuration: defaults built into the binary, then an optional TOML file (`--config`),
//! then `SFNLITE_*` environment variables, then command-line flags — each layer overriding
//! the one before. Every setting is declared once, in [`settings!`] below: its type,
//! default, environment variable, flag and help come from that one line, and tests check
//! that `config/sfnlite.toml` and the README's table list exactly these keys and defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::domain::arn::{is_account, is_region};
use crate::http::sigv4::{Keys, Secret};
use crate::integrations::{Connections, Endpoints, Signing};
use crate::store::{StoreOptions, Synchronous};

/// Where the database lives unless told otherwise (serve, export and import alike).
pub const DEFAULT_DB: &str = "./sfnlite-data/sfnlite.db";

/// hyper cannot buffer a request head in less.
pub const MIN_HEADER_BYTES: usize = 8192;

/// sfnlite: the AWS Step Functions API for state machines, versions, aliases and executions, on SQLite.
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

/// Declares every setting once. From each entry come: the field of [`Config`] with its
/// default, the optional field of [`Layer`] (the flag with its environment variable, and
/// the TOML key), the merge of layers, and the entry of [`SETTINGS`].
macro_rules! settings {
    ($(
        $(#[doc = $doc:literal])+
        $name:ident: $ty:ty = $default:expr, env $env:literal $([$($arg:tt)+])?;
    )*) => {
        /// The resolved configuration.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        pub struct Config {
            $($(#[doc = $doc])+ pub $name: $ty,)*
        }

        impl Default for Config {
            fn default() -> Self {
                Config { $($name: $default,)* }
            }
        }

        /// One layer of settings, each optional: the flags with their environment variables
        /// (clap), or the configuration file (serde, unknown keys refused so typos fail at
        /// start-up).
        #[derive(Debug, Default, Clone, Args, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Layer {
            $(
                $(#[doc = $doc])+
                #[arg(long, env = $env $(, $($arg)+)?)]
                #[serde(default)]
                pub $name: Option<$ty>,
            )*
        }

        impl Layer {
            /// This layer over `below`: what this one sets wins.
            pub fn over(self, below: Layer) -> Layer {
                Layer { $($name: self.$name.or(below.$name),)* }
            }

            /// The settings of this layer over the built-in defaults.
            pub fn over_defaults(self) -> Config {
                let d = Config::default();
                Config { $($name: self.$name.unwrap_or(d.$name),)* }
            }
        }

        /// Every setting's key and environment variable, in declaration order.
        pub const SETTINGS: &[(&str, &str)] = &[$((stringify!($name), $env),)*];
    };
}

settings! {
    /// Address to listen on; port 0 picks a free port.
    listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8083)), env "SFNLITE_LISTEN" [value_name = "ADDR"];
    /// SQLite database file (its folder is created), or a postgres:// URL: several replicas share one PostgreSQL.
    db: PathBuf = PathBuf::from(DEFAULT_DB), env "SFNLITE_DB" [value_name = "PATH"];
    /// Region for requests that carry no SigV4 credential scope.
    region: String = "us-east-1".into(), env "SFNLITE_REGION";
    /// Account for requests whose access key id is not 12 digits.
    account_id: String = "123456789012".into(), env "SFNLITE_ACCOUNT_ID" [value_name = "ID"];
    /// SQLite synchronous level; full fsyncs every commit.
    synchronous: Synchronous = Synchronous::Full, env "SFNLITE_SYNCHRONOUS" [value_name = "LEVEL"];
    /// Largest accepted request body in bytes; larger ones get 413.
    max_body_bytes: usize = 8 * 1024 * 1024, env "SFNLITE_MAX_BODY_BYTES" [value_name = "BYTES"];
    /// Versions allowed per state machine.
    version_quota: i64 = 1000, env "SFNLITE_VERSION_QUOTA" [value_name = "N"];
    /// Aliases allowed per state machine.
    alias_quota: i64 = 100, env "SFNLITE_ALIAS_QUOTA" [value_name = "N"];
    /// Executions stepped together; their steps share one commit.
    execution_batch: usize = 256, env "SFNLITE_EXECUTION_BATCH" [value_name = "N"];
    /// Test aid: multiplies Wait seconds, retry intervals, timeouts and the GetActivityTask long poll (0.01: 10 s → 100 ms).
    time_scale: f64 = 1.0, env "SFNLITE_TIME_SCALE" [value_name = "FACTOR"];
    /// Test aid: a mock configuration file in Step Functions Local's format, read at start-up and on SIGHUP; empty: none.
    mock_config: String = String::new(), env "SFNLITE_MOCK_CONFIG" [value_name = "FILE"];
    /// Where Task integrations call outside services: service=URL pairs, comma-separated (default for any service; aws: AWS itself); none: such Tasks fail.
    endpoints: Endpoints = Endpoints::default(), env "SFNLITE_ENDPOINTS" [value_name = "LIST"];
    /// Credentials outside calls are signed with, AKID:SECRET[:SESSION_TOKEN]; empty: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else test/test.
    call_credentials: String = String::new(), env "SFNLITE_CALL_CREDENTIALS" [value_name = "KEYS", hide_env_values = true];
    /// Longest an outside call may take when its Task has no shorter TimeoutSeconds (HTTP Tasks: at most 60 s).
    call_timeout_ms: u64 = 60_000, env "SFNLITE_CALL_TIMEOUT_MS" [value_name = "MS"];
    /// Outside calls made at once; more wait for a free slot (bounds sockets and memory under a wide Map).
    call_concurrency: usize = 256, env "SFNLITE_CALL_CONCURRENCY" [value_name = "N"];
    /// HTTP Task connections by ARN, with the authorization EventBridge would keep (JSON in a flag or variable).
    connections: Connections = Connections::default(), env "SFNLITE_CONNECTIONS" [value_name = "JSON", hide_env_values = true];
    /// PostgreSQL: how long a replica's lease on an execution lasts, and how long a replica may go unseen before others take over its executions and calls.
    lease_ms: u64 = 5000, env "SFNLITE_LEASE_MS" [value_name = "MS"];
    /// How long a write waits for another process's lock on the file before answering 503.
    busy_timeout_ms: u64 = 5000, env "SFNLITE_BUSY_TIMEOUT_MS" [value_name = "MS"];
    /// Cap on the database size in bytes; writes beyond it answer 503 and change nothing. 0 = no cap.
    max_db_bytes: u64 = 0, env "SFNLITE_MAX_DB_BYTES" [value_name = "BYTES"];
    /// Serve the database read-only: reads work, writes answer 503.
    read_only: bool = false, env "SFNLITE_READ_ONLY" [value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new()];
    /// Longest wait for in-flight requests at shutdown before closing anyway.
    shutdown_grace_ms: u64 = 10_000, env "SFNLITE_SHUTDOWN_GRACE_MS" [value_name = "MS"];
    /// Largest request head (request line and headers) in bytes; at least 8192.
    max_header_bytes: usize = 16 * 1024, env "SFNLITE_MAX_HEADER_BYTES" [value_name = "BYTES"];
    /// Longest a whole request may take before it answers 408.
    request_timeout_ms: u64 = 30_000, env "SFNLITE_REQUEST_TIMEOUT_MS" [value_name = "MS"];
    /// A connection that trickles its headers or body longer than this is dropped.
    idle_timeout_ms: u64 = 10_000, env "SFNLITE_IDLE_TIMEOUT_MS" [value_name = "MS"];
    /// Deepest JSON nesting accepted in a request body.
    max_json_depth: usize = 64, env "SFNLITE_MAX_JSON_DEPTH" [value_name = "N"];
    /// Request authentication: off, or sigv4 (verify every signature).
    auth_mode: AuthMode = AuthMode::Off, env "SFNLITE_AUTH_MODE" [value_name = "MODE"];
    /// Credentials accepted in sigv4 mode: AKID:SECRET[:SESSION_TOKEN][@ACCOUNT], comma-separated.
    access_keys: Vec<String> = Vec::new(), env "SFNLITE_ACCESS_KEYS" [value_name = "LIST", value_delimiter = ',', hide_env_values = true];
    /// Serve POST /_sfnlite/reset and POST /moto-api/reset, which wipe all state.
    enable_reset: bool = false, env "SFNLITE_ENABLE_RESET" [value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new()];
    /// Origins allowed to call from a browser (CORS), comma-separated; * allows any.
    cors_origins: Vec<String> = Vec::new(), env "SFNLITE_CORS_ORIGINS" [value_name = "LIST", value_delimiter = ','];
    /// Log format.
    log_format: LogFormat = LogFormat::Text, env "SFNLITE_LOG_FORMAT" [value_name = "FORMAT"];
    /// Log filter (tracing syntax: error, warn, info, debug, or per-module); per-call lines are at debug.
    log: String = "info".into(), env "SFNLITE_LOG" [value_name = "FILTER"];
}

/// Request authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Any request is accepted; the signature only names the caller's account and region.
    Off,
    /// Every request must carry a valid SigV4 signature by one of `access_keys`.
    Sigv4,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// A default as `--help`, `config/sfnlite.toml`'s comments and the README show it: strings
/// bare, an empty list as `none`.
fn shown_default(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(a) if a.is_empty() => "none".into(),
        toml::Value::Table(t) if t.is_empty() => "none".into(),
        other => other.to_string(),
    }
}

impl Cli {
    /// Parses the command line, with every setting's help ending in its built-in default
    /// (taken from [`Config::default`], so the help never disagrees with it).
    pub fn parse_with_defaults() -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
        let annotate = |cmd: clap::Command| {
            SETTINGS.iter().fold(cmd, |cmd, (key, _)| {
                let Some(shown) = defaults.get(*key).map(shown_default) else {
                    return cmd;
                };
                cmd.mut_arg(*key, |arg| {
                    let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                    arg.help(format!("{help} [default: {shown}]"))
                })
            })
        };
        let cmd = annotate(Cli::command()).mut_subcommand("serve", annotate);
        let matches = cmd.get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// The flags of `sfnlite` / `sfnlite serve`: the configuration file, and every setting.
#[derive(Debug, Args, Default, Clone)]
pub struct ServeArgs {
    /// TOML file with any of the keys below (see config/sfnlite.toml).
    #[arg(long, env = "SFNLITE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub settings: Layer,
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

impl Config {
    /// How the store is opened.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            synchronous: self.synchronous,
            busy_timeout: std::time::Duration::from_millis(self.busy_timeout_ms),
            max_db_bytes: (self.max_db_bytes > 0).then_some(self.max_db_bytes),
            read_only: self.read_only,
            postgres: crate::store::PgOptions {
                lease: std::time::Duration::from_millis(self.lease_ms.max(100)),
                ..crate::store::PgOptions::default()
            },
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

    /// Resolves flags (already merged with the environment by clap) over the file over the
    /// defaults, and checks the result.
    pub fn resolve(args: &ServeArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str::<Layer>(&text)
                    .with_context(|| format!("invalid config file {}", path.display()))?
            }
            None => Layer::default(),
        };
        let config = args.settings.clone().over(file).over_defaults();
        config.check()?;
        Ok(config)
    }

    /// The rules a configuration must follow, whichever layers it came from.
    pub fn check(&self) -> anyhow::Result<()> {
        if !is_region(&self.region) {
            bail!("invalid region '{}'", self.region);
        }
        if !is_account(&self.account_id) {
            bail!(
                "invalid account id '{}': it must be 12 digits",
                self.account_id
            );
        }
        if self.version_quota < 1 {
            bail!("version_quota must be at least 1");
        }
        if self.alias_quota < 1 {
            bail!("alias_quota must be at least 1");
        }
        if self.execution_batch < 1 {
            bail!("execution_batch must be at least 1");
        }
        if !(self.time_scale.is_finite() && self.time_scale >= 0.0) {
            bail!(
                "time_scale must be a number at least 0 (got {})",
                self.time_scale
            );
        }
        if self.max_header_bytes < MIN_HEADER_BYTES {
            bail!(
                "max_header_bytes must be at least {MIN_HEADER_BYTES} (got {})",
                self.max_header_bytes
            );
        }
        if self.call_timeout_ms == 0 {
            bail!("call_timeout_ms must be at least 1");
        }
        if self.call_concurrency == 0 {
            bail!("call_concurrency must be at least 1");
        }
        self.endpoints.check().map_err(|e| anyhow::anyhow!(e))?;
        self.call_signing()?;
        self.keys().map(|_| ())
    }

    /// The mock configuration `mock_config` names (none when empty); a malformed file is an
    /// error naming its line.
    pub fn mock_config(&self) -> anyhow::Result<crate::engine::mocks::MockConfig> {
        if self.mock_config.is_empty() {
            return Ok(Default::default());
        }
        crate::engine::mocks::MockConfig::load(&self.mock_config)
            .map_err(|e| anyhow::anyhow!("mock_config: {e}"))
    }

    /// The credentials outside calls are signed with: `call_credentials`, else the standard
    /// AWS environment variables, else `test`/`test` (what local emulators accept).
    pub fn call_signing(&self) -> anyhow::Result<Signing> {
        if !self.call_credentials.is_empty() {
            let mut parts = self.call_credentials.splitn(3, ':');
            let (Some(id), Some(secret)) = (parts.next(), parts.next()) else {
                bail!("invalid call_credentials (expected AKID:SECRET[:SESSION_TOKEN])");
            };
            if id.is_empty() || secret.is_empty() {
                bail!("invalid call_credentials (expected AKID:SECRET[:SESSION_TOKEN])");
            }
            return Ok(Signing {
                access_key_id: id.to_owned(),
                secret_access_key: secret.to_owned(),
                session_token: parts.next().map(str::to_owned),
            });
        }
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Ok(
            match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
                (Some(id), Some(secret)) => Signing {
                    access_key_id: id,
                    secret_access_key: secret,
                    session_token: env("AWS_SESSION_TOKEN"),
                },
                _ => Signing {
                    access_key_id: "test".into(),
                    secret_access_key: "test".into(),
                    session_token: None,
                },
            },
        )
    }

    /// The outside client this configuration describes.
    pub fn outside(&self) -> anyhow::Result<std::sync::Arc<crate::integrations::Client>> {
        crate::integrations::Client::new(crate::integrations::Options {
            endpoints: self.endpoints.clone(),
            signing: self.call_signing()?,
            connections: self.connections.clone(),
            call_timeout: std::time::Duration::from_millis(self.call_timeout_ms),
            concurrency: self.call_concurrency,
        })
    }

    /// The keys requests must be signed with, when `auth_mode = sigv4`.
    pub fn keys(&self) -> anyhow::Result<Option<Keys>> {
        match self.auth_mode {
            AuthMode::Off => Ok(None),
            AuthMode::Sigv4 => {
                let keys = parse_keys(
                    self.access_keys.iter().map(String::as_str),
                    &self.account_id,
                )?;
                if keys.is_empty() {
                    bail!("auth_mode = sigv4 needs at least one access key (access_keys or SFNLITE_ACCESS_KEYS)");
                }
                Ok(Some(keys))
            }
        }
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
            settings: Layer {
                version_quota: Some(7),
                ..Layer::default()
            },
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
            config: None,
            settings: Layer {
                max_header_bytes: Some(100),
                ..Layer::default()
            },
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "max_header_bytes must be at least 8192 (got 100)"
        );
    }

    fn defaults() -> toml::Table {
        toml::Table::try_from(Config::default()).unwrap()
    }

    #[test]
    fn the_documented_config_file_lists_exactly_the_settings() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/sfnlite.toml");
        let file: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let keys: Vec<&str> = file.keys().map(String::as_str).collect();
        let mut declared: Vec<&str> = SETTINGS.iter().map(|(k, _)| *k).collect();
        declared.sort_unstable();
        let mut listed = keys.clone();
        listed.sort_unstable();
        assert_eq!(listed, declared);
        assert_eq!(file, defaults());
    }

    #[test]
    fn the_readme_table_lists_every_setting_with_its_env_flag_and_default() {
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
                .unwrap();
        let rows: Vec<Vec<String>> = readme
            .lines()
            .skip_while(|l| !l.starts_with("| key | env | flag | default |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                l.trim_matches('|')
                    .split('|')
                    .map(|c| c.trim().to_owned())
                    .collect()
            })
            .collect();
        let defaults = defaults();
        assert_eq!(rows.len(), SETTINGS.len(), "{rows:?}");
        for (row, (key, env)) in rows.iter().zip(SETTINGS) {
            assert_eq!(row[0], *key);
            assert_eq!(row[1], *env, "{key}");
            assert_eq!(row[2], format!("--{}", key.replace('_', "-")), "{key}");
            let default = shown_default(&defaults[*key]);
            assert!(
                row[3].starts_with(&default),
                "{key}: the README says '{}', the default is '{default}'",
                row[3]
            );
        }
    }
}
