//! The Amazon States Language: a definition's text parsed into the typed model of [`model`]
//! — the one representation CreateStateMachine, ValidateStateMachineDefinition and the
//! interpreter use. Parse, don't validate: [`parse`] returns a [`Definition`] only when the
//! text is valid, and every problem otherwise, in AWS's codes, texts and locations.
//!
//! Knows nothing of HTTP, storage or execution; pure functions of the text and the machine
//! type (EXPRESS machines refuse some integrations).
//!
//! - [`json`]: strict, order-keeping JSON (a key given twice is refused);
//! - [`build`]: the rules, state by state and scope by scope;
//! - [`path`], [`intrinsic`], [`resource`]: the small languages inside field values.

pub mod build;
pub mod diagnostic;
pub mod intrinsic;
pub mod json;
pub mod model;
pub mod path;
pub mod references;
pub mod resource;

pub use diagnostic::{codes, Diagnostic, Severity};
pub use model::Definition;

use crate::domain::records::MachineType;

/// An RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, real calendar values)
/// as nanoseconds since the epoch: the one reading of timestamps for Wait fields at creation
/// and for Timestamp* comparisons and waits at run time.
pub fn timestamp_nanos(s: &str) -> Option<i128> {
    // RFC 3339 lets applications write a space for the `T`; AWS does not.
    if s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

/// What the rules depend on besides the text.
#[derive(Debug, Clone, Copy)]
pub struct Flavor {
    pub kind: MachineType,
}

impl Default for Flavor {
    fn default() -> Self {
        Flavor {
            kind: MachineType::Standard,
        }
    }
}

/// Parses and validates a definition: the model, or every error found.
pub fn parse(text: &str, flavor: Flavor) -> Result<Definition, Vec<Diagnostic>> {
    let (definition, diagnostics) = validate(text, flavor);
    definition.ok_or_else(|| {
        diagnostics
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect()
    })
}

/// Every diagnostic of a definition, errors then warnings (empty when it is valid and
/// clean).
pub fn check(text: &str, flavor: Flavor) -> Vec<Diagnostic> {
    validate(text, flavor).1
}

/// The model when the definition is valid, and every diagnostic either way.
pub fn validate(text: &str, flavor: Flavor) -> (Option<Definition>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    if text.trim().is_empty() {
        out.push(Diagnostic::error(
            codes::SCHEMA,
            "Definition must be a valid JSON object",
            None,
        ));
        return (None, out);
    }
    let root = match json::parse(text) {
        Ok(v) => v,
        Err(e) => {
            out.push(Diagnostic::error(
                codes::INVALID_JSON,
                &e.to_string(),
                Some("/".into()),
            ));
            return (None, out);
        }
    };
    let mut warnings = Vec::new();
    let definition = build::build(&root, flavor, &mut out, &mut warnings);
    let definition = definition.filter(|_| out.is_empty());
    out.extend(warnings);
    (definition, out)
}

#[cfg(test)]
mod tests;
