//! Mocked Task responses in the format of AWS Step Functions Local's mock configuration
//! file: `StateMachines` → machine name → `TestCases` → test case → state name → mocked
//! response name, and `MockedResponses` → name → invocation (`"0"`, or a range `"1-2"`) →
//! `{"Return": <JSON>}` or `{"Throw": {"Error", "Cause"}}`. An execution started as
//! `…:stateMachine:<name>#<TestCase>` answers the named Task states from the file instead of
//! calling anything; each invocation of a state (retries included) takes the next entry.
//!
//! Pure data: loading reads the file; nothing here knows HTTP or the store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use serde::Deserialize;
use serde_json::Value;

/// One mocked answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Mocked {
    Return(Value),
    Throw(Thrown),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thrown {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

/// Invocations `first..=last`, from a key `"N"` or `"N-M"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Invocations {
    first: u64,
    last: u64,
}

impl<'de> Deserialize<'de> for Invocations {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let number = |s: &str| s.parse::<u64>().ok();
        let parsed = match text.split_once('-') {
            None => number(&text).map(|n| (n, n)),
            Some((a, b)) => number(a).zip(number(b)),
        };
        match parsed {
            Some((first, last)) if first <= last => Ok(Invocations { first, last }),
            _ => Err(serde::de::Error::custom(format!(
                "invocation key '{text}' is neither a number (\"0\") nor a range (\"1-2\")"
            ))),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Machine {
    #[serde(rename = "TestCases", default)]
    test_cases: HashMap<String, HashMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "StateMachines", default)]
    machines: HashMap<String, Machine>,
    #[serde(rename = "MockedResponses", default)]
    responses: HashMap<String, BTreeMap<Invocations, Mocked>>,
}

/// A loaded mock configuration.
#[derive(Debug, Default)]
pub struct MockConfig {
    file: File,
}

/// The mocked states of one test case: state name → mocked response name.
pub type TestCase = HashMap<String, String>;

/// What a mocked state answers at one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer<'a> {
    Mocked(&'a Mocked),
    /// The test case names a response the file does not have, or the response has no entry
    /// for this invocation: the state fails (`States.Runtime`), as in Step Functions Local.
    Missing(String),
}

impl MockConfig {
    /// Parses a mock configuration; a malformed one is an error naming its line and column.
    pub fn parse(text: &str) -> Result<MockConfig, String> {
        let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(MockConfig { file })
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &str) -> Result<MockConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        MockConfig::parse(&text).map_err(|e| format!("{path}: {e}"))
    }

    /// The test case `case` of the machine called `machine`.
    pub fn test_case(&self, machine: &str, case: &str) -> Option<&TestCase> {
        self.file.machines.get(machine)?.test_cases.get(case)
    }

    /// What the response `name` answers at invocation `n` (from 0).
    pub fn answer(&self, name: &str, n: u64) -> Answer<'_> {
        let Some(entries) = self.file.responses.get(name) else {
            return Answer::Missing(format!(
                "The mocked response '{name}' is not in the mock configuration."
            ));
        };
        entries
            .iter()
            .find(|(k, _)| k.first <= n && n <= k.last)
            .map_or_else(
                || {
                    Answer::Missing(format!(
                        "The mocked response '{name}' has no entry for invocation {n}."
                    ))
                },
                |(_, m)| Answer::Mocked(m),
            )
    }
}

/// The configuration in force, replaced as a whole on reload (SIGHUP).
#[derive(Debug, Default, Clone)]
pub struct Mocks(Arc<RwLock<Arc<MockConfig>>>);

impl Mocks {
    pub fn new(config: MockConfig) -> Self {
        Mocks(Arc::new(RwLock::new(Arc::new(config))))
    }

    /// The configuration now in force.
    pub fn current(&self) -> Arc<MockConfig> {
        self.0.read().map(|c| c.clone()).unwrap_or_default()
    }

    /// Puts `config` in force for the steps that follow.
    pub fn replace(&self, config: MockConfig) {
        if let Ok(mut c) = self.0.write() {
            *c = Arc::new(config);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> MockConfig {
        MockConfig::parse(
            &json!({
                "StateMachines": {"M": {"TestCases": {"Happy": {"L": "Retry"}}}},
                "MockedResponses": {"Retry": {
                    "0": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "slow down"}},
                    "1-2": {"Throw": {"Error": "Lambda.TimeoutException"}},
                    "3": {"Return": {"StatusCode": 200, "Payload": [1]}}
                }}
            })
            .to_string(),
        )
        .unwrap()
    }

    #[test]
    fn invocations_take_their_entry_and_ranges_cover_each_number_in_them() {
        let c = config();
        let case = c.test_case("M", "Happy").unwrap();
        let name = &case["L"];
        let error = |n| match c.answer(name, n) {
            Answer::Mocked(Mocked::Throw(t)) => t.error.clone(),
            other => format!("{other:?}"),
        };
        assert_eq!(error(0), "Lambda.TooManyRequestsException");
        assert_eq!(error(1), "Lambda.TimeoutException");
        assert_eq!(error(2), "Lambda.TimeoutException");
        assert_eq!(
            c.answer(name, 3),
            Answer::Mocked(&Mocked::Return(json!({"StatusCode": 200, "Payload": [1]})))
        );
        assert!(matches!(c.answer(name, 4), Answer::Missing(_)));
        assert!(matches!(c.answer("Nope", 0), Answer::Missing(_)));
        assert!(c.test_case("M", "Sad").is_none());
    }

    #[test]
    fn a_malformed_file_is_refused_with_its_line() {
        let bad = "{\n  \"MockedResponses\": {\n    \"R\": {\"x\": {\"Return\": 1}}\n  }\n}";
        let e = MockConfig::parse(bad).unwrap_err();
        assert!(
            e.contains("invocation key 'x'") && e.contains("line 3"),
            "{e}"
        );
        let both = r#"{"MockedResponses": {"R": {"0": {"Return": 1, "Throw": {"Error": "E"}}}}}"#;
        assert!(MockConfig::parse(both).is_err());
        let e = MockConfig::parse("{\n\"StateMachines\": [}").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(MockConfig::parse(r#"{"Extra": {}}"#).is_err());
    }
}
