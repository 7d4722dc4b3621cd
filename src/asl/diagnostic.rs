//! One problem found in a definition, in AWS's terms: a code, a text and a JSON-pointer-like
//! location in AWS's spelling (`/States/C/Choices[0]/Next`). CreateStateMachine joins them
//! into `Invalid State Machine Definition: '<CODE>: <text> at <location>, …'`;
//! ValidateStateMachineDefinition returns them one by one.

use std::fmt;

/// The diagnostic codes AWS uses.
pub mod codes {
    pub const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";
    pub const INVALID_JSON: &str = "INVALID_JSON_DESCRIPTION";
    pub const MISSING_TRANSITION_TARGET: &str = "MISSING_TRANSITION_TARGET";
    pub const MISSING_END_STATE: &str = "MISSING_END_STATE";
    pub const DUPLICATE_STATE_NAME: &str = "DUPLICATE_STATE_NAME";
    pub const INVALID_LABEL_NAME: &str = "INVALID_LABEL_NAME";
    pub const DUPLICATE_LABEL_NAME: &str = "DUPLICATE_LABEL_NAME";
    /// Warning: a plain field whose value looks like a path.
    pub const NO_DOLLAR: &str = "NO_DOLLAR";
}

/// How serious a diagnostic is; only errors make a definition invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
        }
    }
}

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub message: String,
    /// Absent for whole-workflow problems such as a missing terminal state (AWS sends no location).
    pub location: Option<String>,
    pub severity: Severity,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: &str, location: Option<String>) -> Self {
        Diagnostic {
            code,
            message: message.to_owned(),
            location,
            severity: Severity::Error,
        }
    }

    /// A SCHEMA_VALIDATION_FAILED error at `location` (`""` is the root, `/`).
    pub fn schema(message: &str, location: &str) -> Self {
        let location = if location.is_empty() { "/" } else { location };
        Diagnostic::error(codes::SCHEMA, message, Some(location.to_owned()))
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{}: {} at {}", self.code, self.message, loc),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}
