//! A state machine's revisable configuration besides its definition and role: logging,
//! tracing and encryption. Each has the model's wire shape (all members optional, as clients
//! send them) and a normalised form with AWS's defaults filled in, which is what revisions
//! store, compare (aws-behavior.md §13.1 items 3 and 6) and describe.

use serde::{Deserialize, Serialize};

/// `LoggingConfiguration`. Normalised: `level` and `includeExecutionData` always present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LoggingConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_execution_data: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destinations: Option<Vec<LogDestination>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogDestination {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_log_group: Option<CloudWatchLogsLogGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudWatchLogsLogGroup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_arn: Option<String>,
}

impl LoggingConfiguration {
    /// Absent members take AWS's defaults (`OFF`, `false`); an empty destination list is the
    /// same as none.
    pub fn normalized(&self) -> Self {
        LoggingConfiguration {
            level: Some(self.level.clone().unwrap_or_else(|| "OFF".into())),
            include_execution_data: Some(self.include_execution_data.unwrap_or(false)),
            destinations: self.destinations.clone().filter(|d| !d.is_empty()),
        }
    }
}

/// `TracingConfiguration` (X-Ray). Normalised: `enabled` always present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TracingConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

impl TracingConfiguration {
    pub fn normalized(&self) -> Self {
        TracingConfiguration {
            enabled: Some(self.enabled.unwrap_or(false)),
        }
    }
}

/// `EncryptionConfiguration`. Normalised: an absent configuration is the AWS-owned key, and a
/// customer-managed key without a reuse period gets AWS's default of 300 seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_data_key_reuse_period_seconds: Option<i64>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

pub const AWS_OWNED_KEY: &str = "AWS_OWNED_KEY";
pub const CUSTOMER_MANAGED_KMS_KEY: &str = "CUSTOMER_MANAGED_KMS_KEY";

impl EncryptionConfiguration {
    pub fn normalized(&self) -> Self {
        match self.kind.as_deref() {
            Some(CUSTOMER_MANAGED_KMS_KEY) => EncryptionConfiguration {
                kms_key_id: self.kms_key_id.clone(),
                kms_data_key_reuse_period_seconds: Some(
                    self.kms_data_key_reuse_period_seconds.unwrap_or(300),
                ),
                kind: self.kind.clone(),
            },
            _ => EncryptionConfiguration {
                kms_key_id: None,
                kms_data_key_reuse_period_seconds: None,
                kind: Some(AWS_OWNED_KEY.into()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_logging_equals_explicit_defaults() {
        let explicit = LoggingConfiguration {
            level: Some("OFF".into()),
            include_execution_data: Some(false),
            destinations: Some(vec![]),
        };
        assert_eq!(
            LoggingConfiguration::default().normalized(),
            explicit.normalized()
        );
        assert_eq!(
            serde_json::to_string(&LoggingConfiguration::default().normalized()).unwrap(),
            r#"{"level":"OFF","includeExecutionData":false}"#
        );
    }

    #[test]
    fn absent_encryption_is_the_aws_owned_key() {
        assert_eq!(
            serde_json::to_string(&EncryptionConfiguration::default().normalized()).unwrap(),
            r#"{"type":"AWS_OWNED_KEY"}"#
        );
    }
}
