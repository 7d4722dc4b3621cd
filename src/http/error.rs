//! Renders an [`ApiError`] as an AWS JSON 1.0 error response: the status table, the body
//! `{"__type", "message", …}` and the `x-amzn-ErrorType` header.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use crate::api::ApiError;

/// The HTTP status of each error (aws-behavior.md §13.3 item 11).
pub fn status(e: &ApiError) -> StatusCode {
    match e {
        ApiError::ConflictException(_) => StatusCode::CONFLICT,
        ApiError::ServiceQuotaExceededException(_) => StatusCode::PAYMENT_REQUIRED,
        ApiError::RequestEntityTooLargeException(_) => StatusCode::PAYLOAD_TOO_LARGE,
        ApiError::NotFoundException(_) => StatusCode::NOT_FOUND,
        ApiError::MethodNotAllowedException(_) => StatusCode::METHOD_NOT_ALLOWED,
        ApiError::RequestTimeoutException(_) => StatusCode::REQUEST_TIMEOUT,
        ApiError::MissingAuthenticationTokenException(_)
        | ApiError::UnrecognizedClientException(_)
        | ApiError::InvalidSignatureException(_) => StatusCode::FORBIDDEN,
        ApiError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        ApiError::InternalFailure(_) => StatusCode::INTERNAL_SERVER_ERROR,
        // Listed one by one, so a new error has to be given its status on purpose.
        ApiError::ValidationException(_)
        | ApiError::ValidationWithReason { .. }
        | ApiError::InvalidArn(_)
        | ApiError::InvalidName(_)
        | ApiError::InvalidDefinition(_)
        | ApiError::InvalidLoggingConfiguration(_)
        | ApiError::InvalidTracingConfiguration(_)
        | ApiError::InvalidEncryptionConfiguration(_)
        | ApiError::InvalidToken(_)
        | ApiError::StateMachineDoesNotExist(_)
        | ApiError::StateMachineAlreadyExists(_)
        | ApiError::StateMachineDeleting(_)
        | ApiError::ExecutionAlreadyExists(_)
        | ApiError::ExecutionDoesNotExist(_)
        | ApiError::ActivityDoesNotExist(_)
        | ApiError::ActivityAlreadyExists(_)
        | ApiError::ActivityLimitExceeded(_)
        | ApiError::ActivityWorkerLimitExceeded(_)
        | ApiError::ExecutionNotRedrivable(_)
        | ApiError::TaskDoesNotExist(_)
        | ApiError::TaskTimedOut(_)
        | ApiError::InvalidOutput(_)
        | ApiError::InvalidExecutionInput(_)
        | ApiError::StateMachineTypeNotSupported(_)
        | ApiError::MissingRequiredParameter(_)
        | ApiError::ResourceNotFound { .. }
        | ApiError::TooManyTags { .. }
        | ApiError::UnknownOperationException(_)
        | ApiError::UnsupportedOperation(_)
        | ApiError::SerializationException(_)
        | ApiError::IncompleteSignatureException(_) => StatusCode::BAD_REQUEST,
    }
}

/// The JSON body: the bare error name in `__type`, the text in `message`, and the modelled
/// extra members.
pub fn body(e: &ApiError) -> Vec<u8> {
    let message = match e {
        // The detail is for the log, not for the client.
        ApiError::InternalFailure(_) => "Internal failure".to_owned(),
        other => other.to_string(),
    };
    let mut obj = Map::new();
    obj.insert("__type".into(), json!(e.code()));
    obj.insert("message".into(), json!(message));
    match e {
        ApiError::ResourceNotFound {
            resource_name: Some(name),
            ..
        }
        | ApiError::TooManyTags {
            resource_name: name,
            ..
        } => {
            obj.insert("resourceName".into(), json!(name));
        }
        ApiError::ValidationWithReason { reason, .. } => {
            obj.insert("reason".into(), json!(reason));
        }
        _ => {}
    }
    serde_json::to_vec(&Value::Object(obj)).unwrap_or_default()
}
