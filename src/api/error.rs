//! The service's error vocabulary. Variant names are the model's exception names (plus the
//! protocol errors of aws-behavior.md §13.3), so `code()` is a plain table and grepping an
//! AWS error name finds the one place that builds it. HTTP statuses live in `http::error`.

use crate::domain::arn::ArnError;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// A model constraint (Coral framing) or a documented rule was broken.
    #[error("{0}")]
    ValidationException(String),
    /// A ValidationException carrying the model's `reason` member (UpdateMapRun).
    #[error("{message}")]
    ValidationWithReason {
        message: String,
        reason: &'static str,
    },
    /// A malformed ARN: `Invalid Arn: '<reason>'`.
    #[error("{0}")]
    InvalidArn(String),
    /// A state machine name within length but with forbidden characters.
    #[error("{0}")]
    InvalidName(String),
    /// The definition is not valid Amazon States Language.
    #[error("{0}")]
    InvalidDefinition(String),
    #[error("{0}")]
    InvalidLoggingConfiguration(String),
    #[error("{0}")]
    InvalidTracingConfiguration(String),
    #[error("{0}")]
    InvalidEncryptionConfiguration(String),
    /// A pagination token this listing did not mint.
    #[error("{0}")]
    InvalidToken(String),
    #[error("{0}")]
    StateMachineDoesNotExist(String),
    #[error("{0}")]
    StateMachineAlreadyExists(String),
    /// A write to a machine that waits for its running executions before it goes (executions-api.md §12).
    #[error("{0}")]
    StateMachineDeleting(String),
    /// StartExecution of a name already used by another execution of the machine.
    #[error("{0}")]
    ExecutionAlreadyExists(String),
    #[error("{0}")]
    ExecutionDoesNotExist(String),
    #[error("{0}")]
    ActivityDoesNotExist(String),
    /// CreateActivity of a name already used with another encryption configuration.
    #[error("{0}")]
    ActivityAlreadyExists(String),
    /// The activity quota of an account and region is reached.
    #[error("{0}")]
    ActivityLimitExceeded(String),
    /// RedriveExecution of an execution that cannot be redriven.
    #[error("{0}")]
    ExecutionNotRedrivable(String),
    /// GetActivityTask while 1,000 workers already poll the activity.
    #[error("{0}")]
    ActivityWorkerLimitExceeded(String),
    /// A task token that was never issued.
    #[error("{0}")]
    TaskDoesNotExist(String),
    /// A task token whose task is over (answered, timed out, its execution ended).
    #[error("{0}")]
    TaskTimedOut(String),
    /// SendTaskSuccess output that is not JSON.
    #[error("{0}")]
    InvalidOutput(String),
    /// An execution input that is not JSON.
    #[error("{0}")]
    InvalidExecutionInput(String),
    /// An operation that one type of state machine (STANDARD or EXPRESS) does not offer.
    #[error("{0}")]
    StateMachineTypeNotSupported(String),
    /// UpdateStateMachine with nothing to update.
    #[error("{0}")]
    MissingRequiredParameter(String),
    /// revisionId mismatch, a version still routed to, or an alias re-created differently (409).
    #[error("{0}")]
    ConflictException(String),
    /// Version or alias quota of a machine reached (402).
    #[error("{0}")]
    ServiceQuotaExceededException(String),
    #[error("{message}")]
    ResourceNotFound {
        message: String,
        resource_name: Option<String>,
    },
    #[error("{message}")]
    TooManyTags {
        message: String,
        resource_name: String,
    },
    /// Missing or unknown `X-Amz-Target`.
    #[error("{0}")]
    UnknownOperationException(String),
    /// An operation of the model that sfnlite does not implement.
    #[error("{0}")]
    UnsupportedOperation(String),
    /// A body that is not a JSON object or has a member of the wrong type.
    #[error("{0}")]
    SerializationException(String),
    /// A body over the configured limit (413).
    #[error("{0}")]
    RequestEntityTooLargeException(String),
    /// A path other than `/` and the admin paths (404).
    #[error("{0}")]
    NotFoundException(String),
    /// A method other than POST on `/` (405).
    #[error("{0}")]
    MethodNotAllowedException(String),
    /// A request body that stalled past the idle timeout, or a request that ran past the
    /// request timeout (408; SDKs retry it).
    #[error("{0}")]
    RequestTimeoutException(String),
    /// `auth_mode = sigv4` and no Authorization header (403).
    #[error("{0}")]
    MissingAuthenticationTokenException(String),
    /// A malformed SigV4 Authorization header (400).
    #[error("{0}")]
    IncompleteSignatureException(String),
    /// An access key sfnlite does not know (403).
    #[error("{0}")]
    UnrecognizedClientException(String),
    /// A signature that does not verify, or a request signed too long ago (403).
    #[error("{0}")]
    InvalidSignatureException(String),
    /// Storage busy, locked, full, read-only or failing (503): clients retry.
    #[error("{0}")]
    ServiceUnavailable(String),
    /// A bug of ours (500). The detail is logged, never sent.
    #[error("{0}")]
    InternalFailure(String),
}

impl ApiError {
    /// The error code clients match on: the `__type` of the body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::ValidationException(_) | ApiError::ValidationWithReason { .. } => {
                "ValidationException"
            }
            ApiError::InvalidArn(_) => "InvalidArn",
            ApiError::InvalidName(_) => "InvalidName",
            ApiError::InvalidDefinition(_) => "InvalidDefinition",
            ApiError::InvalidLoggingConfiguration(_) => "InvalidLoggingConfiguration",
            ApiError::InvalidTracingConfiguration(_) => "InvalidTracingConfiguration",
            ApiError::InvalidEncryptionConfiguration(_) => "InvalidEncryptionConfiguration",
            ApiError::InvalidToken(_) => "InvalidToken",
            ApiError::StateMachineDoesNotExist(_) => "StateMachineDoesNotExist",
            ApiError::StateMachineAlreadyExists(_) => "StateMachineAlreadyExists",
            ApiError::StateMachineDeleting(_) => "StateMachineDeleting",
            ApiError::ExecutionAlreadyExists(_) => "ExecutionAlreadyExists",
            ApiError::ExecutionDoesNotExist(_) => "ExecutionDoesNotExist",
            ApiError::ActivityDoesNotExist(_) => "ActivityDoesNotExist",
            ApiError::ActivityAlreadyExists(_) => "ActivityAlreadyExists",
            ApiError::ActivityLimitExceeded(_) => "ActivityLimitExceeded",
            ApiError::ActivityWorkerLimitExceeded(_) => "ActivityWorkerLimitExceeded",
            ApiError::ExecutionNotRedrivable(_) => "ExecutionNotRedrivable",
            ApiError::TaskDoesNotExist(_) => "TaskDoesNotExist",
            ApiError::TaskTimedOut(_) => "TaskTimedOut",
            ApiError::InvalidOutput(_) => "InvalidOutput",
            ApiError::InvalidExecutionInput(_) => "InvalidExecutionInput",
            ApiError::StateMachineTypeNotSupported(_) => "StateMachineTypeNotSupported",
            ApiError::MissingRequiredParameter(_) => "MissingRequiredParameter",
            ApiError::ConflictException(_) => "ConflictException",
            ApiError::ServiceQuotaExceededException(_) => "ServiceQuotaExceededException",
            ApiError::ResourceNotFound { .. } => "ResourceNotFound",
            ApiError::TooManyTags { .. } => "TooManyTags",
            ApiError::UnknownOperationException(_) => "UnknownOperationException",
            ApiError::UnsupportedOperation(_) => "UnsupportedOperation",
            ApiError::SerializationException(_) => "SerializationException",
            ApiError::RequestEntityTooLargeException(_) => "RequestEntityTooLargeException",
            ApiError::NotFoundException(_) => "NotFoundException",
            ApiError::MethodNotAllowedException(_) => "MethodNotAllowedException",
            ApiError::RequestTimeoutException(_) => "RequestTimeoutException",
            ApiError::MissingAuthenticationTokenException(_) => {
                "MissingAuthenticationTokenException"
            }
            ApiError::IncompleteSignatureException(_) => "IncompleteSignatureException",
            ApiError::UnrecognizedClientException(_) => "UnrecognizedClientException",
            ApiError::InvalidSignatureException(_) => "InvalidSignatureException",
            ApiError::ServiceUnavailable(_) => "ServiceUnavailable",
            ApiError::InternalFailure(_) => "InternalFailure",
        }
    }

    /// `State Machine Does Not Exist: '<arn as sent>'`.
    pub fn does_not_exist(arn: &str) -> Self {
        ApiError::StateMachineDoesNotExist(format!("State Machine Does Not Exist: '{arn}'"))
    }

    /// `Activity Does Not Exist: '<arn as sent>'`.
    pub fn activity_does_not_exist(arn: &str) -> Self {
        ApiError::ActivityDoesNotExist(format!("Activity Does Not Exist: '{arn}'"))
    }

    /// `Execution Does Not Exist: '<arn as sent>'`.
    pub fn execution_does_not_exist(arn: &str) -> Self {
        ApiError::ExecutionDoesNotExist(format!("Execution Does Not Exist: '{arn}'"))
    }

    /// `Execution Already Exists: '<execution arn>'`.
    pub fn execution_already_exists(arn: &str) -> Self {
        ApiError::ExecutionAlreadyExists(format!("Execution Already Exists: '{arn}'"))
    }

    /// The text AWS gives for an operation of the other machine type.
    pub fn type_not_supported() -> Self {
        ApiError::StateMachineTypeNotSupported(
            "This operation is not supported by this type of state machine".into(),
        )
    }

    /// `Resource not found: '<arn>'`, carrying `resourceName`.
    pub fn resource_not_found(arn: &str) -> Self {
        ApiError::ResourceNotFound {
            message: format!("Resource not found: '{arn}'"),
            resource_name: Some(arn.to_owned()),
        }
    }

    /// The alias operations' text for a missing alias.
    pub fn alias_not_found() -> Self {
        ApiError::ResourceNotFound {
            message: "Request references a resource that does not exist.".into(),
            resource_name: None,
        }
    }

    /// The request ran past `request_timeout_ms`; nothing it asked for was written.
    pub fn request_timeout() -> Self {
        ApiError::RequestTimeoutException("Request did not complete within its time limit".into())
    }

    /// `Invalid Token: 'Invalid token'`.
    pub fn invalid_token() -> Self {
        ApiError::InvalidToken("Invalid Token: 'Invalid token'".into())
    }
}

impl From<ArnError> for ApiError {
    fn from(e: ArnError) -> Self {
        ApiError::InvalidArn(format!("Invalid Arn: '{e}'"))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable { cause, .. } => {
                ApiError::ServiceUnavailable(format!("Service unavailable: {cause}"))
            }
            // The whole chain goes to the log line; the client sees only "Internal failure".
            StoreError::Internal { ref detail, .. } => {
                let mut text = detail.clone();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    let s_text = s.to_string();
                    if !text.contains(&s_text) {
                        text.push_str(": ");
                        text.push_str(&s_text);
                    }
                    source = s.source();
                }
                ApiError::InternalFailure(text)
            }
            StoreError::Timeout => ApiError::request_timeout(),
        }
    }
}
