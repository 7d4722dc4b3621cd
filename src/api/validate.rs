//! Model-constraint checks in AWS's Coral framing (aws-behavior.md §13.3 item 13):
//! `N validation error(s) detected: Value '<v>' at '<path>' failed to satisfy constraint: <text>`,
//! several joined with `; ` in model order, and the value left out for sensitive members.

use super::error::ApiError;

/// A string shape of the model: its length bounds and whether it is `sensitive`.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub min: usize,
    pub max: usize,
    pub sensitive: bool,
}

/// The model's `Arn` (and the ARN members of the same bounds).
pub const ARN: Shape = Shape {
    min: 1,
    max: 256,
    sensitive: false,
};
/// `LongArn`: version ARNs in DeleteStateMachineVersion.
pub const LONG_ARN: Shape = Shape {
    min: 1,
    max: 2000,
    sensitive: false,
};
/// `Name` and `CharacterRestrictedName`.
pub const NAME: Shape = Shape {
    min: 1,
    max: 80,
    sensitive: false,
};
/// `VersionDescription` and `AliasDescription` (sensitive).
pub const DESCRIPTION: Shape = Shape {
    min: 0,
    max: 256,
    sensitive: true,
};
/// `Definition` (sensitive).
pub const DEFINITION: Shape = Shape {
    min: 1,
    max: 1_048_576,
    sensitive: true,
};
/// `TagKey`.
pub const TAG_KEY: Shape = Shape {
    min: 1,
    max: 128,
    sensitive: false,
};
/// `TagValue`.
pub const TAG_VALUE: Shape = Shape {
    min: 0,
    max: 256,
    sensitive: false,
};
/// `KmsKeyId`.
pub const KMS_KEY_ID: Shape = Shape {
    min: 1,
    max: 2048,
    sensitive: false,
};
/// `PageToken`.
pub const PAGE_TOKEN: Shape = Shape {
    min: 1,
    max: 1024,
    sensitive: false,
};

/// `SensitiveData`: execution input and output.
pub const SENSITIVE_DATA: Shape = Shape {
    min: 0,
    max: 262_144,
    sensitive: true,
};
/// `TraceHeader`.
pub const TRACE_HEADER: Shape = Shape {
    min: 0,
    max: 256,
    sensitive: false,
};
/// `SensitiveError`.
pub const SENSITIVE_ERROR: Shape = Shape {
    min: 0,
    max: 256,
    sensitive: true,
};
/// `SensitiveCause`.
pub const SENSITIVE_CAUSE: Shape = Shape {
    min: 0,
    max: 32_768,
    sensitive: true,
};
/// `TaskToken`.
pub const TASK_TOKEN: Shape = Shape {
    min: 1,
    max: 2048,
    sensitive: false,
};
/// `ListExecutionsPageToken`: longer than the other listings' tokens.
pub const LIST_EXECUTIONS_TOKEN: Shape = Shape {
    min: 1,
    max: 3096,
    sensitive: false,
};
/// `IncludedData`: what a describe may leave out.
pub const INCLUDED_DATA: &[&str] = &["ALL_DATA", "METADATA_ONLY"];

/// Collects constraint violations of one request, then turns them into one error.
#[derive(Default)]
pub struct Violations(Vec<String>);

impl Violations {
    fn push(&mut self, value: Option<&str>, path: &str, constraint: String) {
        self.0.push(match value {
            Some(v) => {
                format!("Value '{v}' at '{path}' failed to satisfy constraint: {constraint}")
            }
            None => format!("Value at '{path}' failed to satisfy constraint: {constraint}"),
        });
    }

    /// A required member that is absent.
    pub fn required<T>(&mut self, path: &str, value: &Option<T>) {
        if value.is_none() {
            self.0.push(format!(
                "Value null at '{path}' failed to satisfy constraint: Member must not be null"
            ));
        }
    }

    /// String length in characters within `min..=max`. Sensitive members hide their value.
    pub fn length(
        &mut self,
        path: &str,
        value: Option<&str>,
        min: usize,
        max: usize,
        sensitive: bool,
    ) {
        let Some(v) = value else { return };
        let n = v.chars().count();
        let shown = (!sensitive).then_some(v);
        if n > max {
            self.push(
                shown,
                path,
                format!("Member must have length less than or equal to {max}"),
            );
        } else if n < min {
            self.push(
                shown,
                path,
                format!("Member must have length greater than or equal to {min}"),
            );
        }
    }

    /// An optional member of string shape `shape`.
    pub fn member(&mut self, path: &str, value: Option<&str>, shape: Shape) {
        self.length(path, value, shape.min, shape.max, shape.sensitive);
    }

    /// A required member of string shape `shape`: absent, or out of bounds, is a violation.
    pub fn required_member(&mut self, path: &str, value: &Option<String>, shape: Shape) {
        self.required(path, value);
        self.member(path, value.as_deref(), shape);
    }

    /// Integer value within `min..=max`.
    pub fn range(&mut self, path: &str, value: Option<i64>, min: i64, max: i64) {
        let Some(v) = value else { return };
        let text = v.to_string();
        if v > max {
            self.push(
                Some(&text),
                path,
                format!("Member must have value less than or equal to {max}"),
            );
        } else if v < min {
            self.push(
                Some(&text),
                path,
                format!("Member must have value greater than or equal to {min}"),
            );
        }
    }

    /// One of an enum's values.
    pub fn one_of(&mut self, path: &str, value: Option<&str>, set: &[&str]) {
        if let Some(v) = value.filter(|v| !set.contains(v)) {
            self.push(
                Some(v),
                path,
                format!("Member must satisfy enum value set: [{}]", set.join(", ")),
            );
        }
    }

    /// A regular-expression constraint, checked by `ok`; `pattern` is quoted in the text.
    pub fn pattern(
        &mut self,
        path: &str,
        value: Option<&str>,
        pattern: &str,
        ok: impl Fn(&str) -> bool,
    ) {
        if let Some(v) = value.filter(|v| !ok(v)) {
            self.push(
                Some(v),
                path,
                format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
    }

    /// A violation whose value is rendered by the caller (lists, structures).
    pub fn custom(&mut self, path: &str, value: &str, constraint: &str) {
        self.push(Some(value), path, constraint.to_owned());
    }

    /// `Ok` when nothing was violated, else one ValidationException naming every violation.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(ApiError::ValidationException(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(ApiError::ValidationException(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_violation_uses_the_singular_coral_framing() {
        let mut v = Violations::default();
        v.range("maxResults", Some(1001), 0, 1000);
        assert_eq!(
            v.finish().unwrap_err().to_string(),
            "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
        );
    }

    #[test]
    fn sensitive_members_hide_their_value_and_several_join_with_semicolons() {
        let mut v = Violations::default();
        v.length("description", Some(&"x".repeat(257)), 0, 256, true);
        v.required("stateMachineArn", &None::<String>);
        assert_eq!(
            v.finish().unwrap_err().to_string(),
            "2 validation errors detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 256; \
             Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null"
        );
    }
}
