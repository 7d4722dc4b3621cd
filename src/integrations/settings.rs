//! The configuration of outside calls: endpoints per service and EventBridge-style
//! connections for HTTP Tasks. Parsed from the TOML file (tables) or from one flag or
//! environment variable each (`service=URL,…` and JSON).

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where each service's calls go: `service → URL`, with `default` for every service without
/// its own entry. `aws` as a URL means AWS's public endpoint in the execution's region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Endpoints(pub BTreeMap<String, String>);

/// Other names of a service's endpoint key: the optimised integration and the SDK one name
/// EventBridge differently.
fn aliases(service: &str) -> &'static [&'static str] {
    match service {
        "events" => &["eventbridge"],
        "eventbridge" => &["events"],
        _ => &[],
    }
}

/// The host name prefix of a service at AWS (`<prefix>.<region>.amazonaws.com`).
fn aws_host(service: &str) -> &str {
    match service {
        "eventbridge" => "events",
        "cloudwatchlogs" => "logs",
        "cognitoidentityprovider" => "cognito-idp",
        other => other,
    }
}

impl Endpoints {
    /// The base URL for `service` in `region`, if one is configured.
    pub fn resolve(&self, service: &str, region: &str) -> Option<String> {
        let url = std::iter::once(service)
            .chain(aliases(service).iter().copied())
            .chain(std::iter::once("default"))
            .find_map(|k| self.0.get(k))?;
        if url == "aws" {
            return Some(format!(
                "https://{}.{region}.amazonaws.com",
                aws_host(service)
            ));
        }
        Some(url.trim_end_matches('/').to_owned())
    }

    /// Every URL is http(s) or `aws`.
    pub fn check(&self) -> Result<(), String> {
        for (k, v) in &self.0 {
            if k.is_empty() {
                return Err("an endpoint entry has no service name".into());
            }
            if v != "aws" && !(v.starts_with("http://") || v.starts_with("https://")) {
                return Err(format!(
                    "the endpoint of '{k}' must be an http:// or https:// URL, or aws"
                ));
            }
        }
        Ok(())
    }
}

impl FromStr for Endpoints {
    type Err = String;

    /// `service=URL` pairs, comma-separated; a bare URL is the default.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut m = BTreeMap::new();
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (k, v) = match entry.split_once('=') {
                Some((k, v)) => (k.trim(), v.trim()),
                None => ("default", entry),
            };
            m.insert(k.to_owned(), v.to_owned());
        }
        let e = Endpoints(m);
        e.check()?;
        Ok(e)
    }
}

/// An EventBridge connection's authorization, as an HTTP Task's `Authentication.ConnectionArn`
/// names it; sfnlite has no EventBridge, so the parameters come from here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// API key authorization: the header and its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<ApiKey>,
    /// Basic authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic: Option<Basic>,
    /// OAuth client credentials: a token is fetched from the authorization endpoint (and kept
    /// until it expires) and sent as `Authorization: Bearer <token>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuth>,
    /// Invocation parameters: headers and query parameters added to every request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Basic {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth {
    /// The authorization endpoint (`AuthorizationEndpoint`).
    pub endpoint: String,
    /// `GET`, `POST` (default) or `PUT`.
    #[serde(default = "post")]
    pub method: String,
    pub client_id: String,
    pub client_secret: String,
    /// `OAuthHttpParameters`: body parameters (form-encoded), headers and query parameters
    /// of the token request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub body: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, String>,
}

fn post() -> String {
    "POST".into()
}

/// Connections by ARN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Connections(pub BTreeMap<String, Connection>);

impl FromStr for Connections {
    type Err = String;

    /// A JSON object: `{"<connection ARN>": {"api_key": {"name": …, "value": …}}, …}`.
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Ok(Connections::default());
        }
        serde_json::from_str(s).map_err(|e| format!("invalid connections: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_without_its_own_endpoint_uses_the_default_and_aws_means_the_public_endpoint() {
        let e: Endpoints = "default=http://127.0.0.1:4566/,lambda=http://127.0.0.1:3001,s3=aws"
            .parse()
            .unwrap();
        assert_eq!(
            e.resolve("sqs", "eu-west-1").as_deref(),
            Some("http://127.0.0.1:4566")
        );
        assert_eq!(
            e.resolve("lambda", "eu-west-1").as_deref(),
            Some("http://127.0.0.1:3001")
        );
        assert_eq!(
            e.resolve("s3", "eu-west-1").as_deref(),
            Some("https://s3.eu-west-1.amazonaws.com")
        );
        assert_eq!(Endpoints::default().resolve("sqs", "eu-west-1"), None);
        let only_events: Endpoints = "events=http://h:1".parse().unwrap();
        assert_eq!(
            only_events.resolve("eventbridge", "r").as_deref(),
            Some("http://h:1")
        );
    }

    #[test]
    fn an_endpoint_that_is_not_a_url_is_refused() {
        assert!("sqs=ftp://x".parse::<Endpoints>().is_err());
        assert!("=http://x".parse::<Endpoints>().is_err());
    }
}
