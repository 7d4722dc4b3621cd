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
pub mod resource;

pub use diagnostic::{codes, Diagnostic, Severity};
pub use model::Definition;

use crate::domain::records::MachineType;

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

/// Parses and validates a definition.
pub fn parse(text: &str, flavor: Flavor) -> Result<Definition, Vec<Diagnostic>> {
    let mut out = Vec::new();
    if text.trim().is_empty() {
        out.push(Diagnostic::error(
            codes::SCHEMA,
            "Definition must be a valid JSON object",
            None,
        ));
        return Err(out);
    }
    let root = match json::parse(text) {
        Ok(v) => v,
        Err(e) => {
            out.push(Diagnostic::error(
                codes::INVALID_JSON,
                &e.to_string(),
                Some("/".into()),
            ));
            return Err(out);
        }
    };
    match build::build(&root, flavor, &mut out) {
        Some(d) if out.is_empty() => Ok(d),
        _ => Err(out),
    }
}

/// Every problem of a definition (empty when it is valid).
pub fn check(text: &str, flavor: Flavor) -> Vec<Diagnostic> {
    parse(text, flavor).err().unwrap_or_default()
}

#[cfg(test)]
mod tests;
