//! The errors an action answers with: an EC2 error code, a message and the HTTP status.
//!
//! AWS answers a client error with HTTP 400 (401 for `AuthFailure`, 503 only for
//! throttling) and a body `<Response><Errors><Error><Code>..</Code><Message>..</Message>
//! </Error></Errors><RequestID>..</RequestID></Response>`. A server error (500) is never
//! used for a client's mistake: clients retry a 500 many times (Terraform 25 times with
//! backoff). The codes follow AWS's: `AuthFailure`, `InvalidAction`,
//! `MissingParameter`, `InvalidParameterValue`, `InvalidParameterCombination`,
//! `Invalid<Kind>ID.NotFound`, `Invalid<Kind>ID.Malformed`, `DependencyViolation`,
//! `InvalidVpc.Range`, `InvalidSubnet.Range`, `InvalidSubnet.Conflict`, ...

/// An EC2 error: what [`crate::Api::handle`] answers instead of a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The HTTP status: 400, 401 for `AuthFailure`.
    pub status: u16,
    /// AWS's error code, e.g. `InvalidVpcID.NotFound`.
    pub code: String,
    /// The message, a sentence.
    pub message: String,
}

impl ApiError {
    /// A client error (HTTP 400) with `code`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            code: code.into(),
            message: message.into(),
        }
    }

    /// `AuthFailure` (HTTP 401).
    pub fn auth(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 401,
            code: "AuthFailure".to_owned(),
            message: message.into(),
        }
    }

    /// `InvalidParameterValue`.
    pub fn invalid_value(message: impl Into<String>) -> ApiError {
        ApiError::new("InvalidParameterValue", message)
    }

    /// `MissingParameter`.
    pub fn missing(message: impl Into<String>) -> ApiError {
        ApiError::new("MissingParameter", message)
    }

    /// `DependencyViolation`.
    pub fn dependency(message: impl Into<String>) -> ApiError {
        ApiError::new("DependencyViolation", message)
    }

    /// `InvalidAction`: an action vpcd does not implement (or that does not exist).
    pub fn invalid_action(action: &str) -> ApiError {
        ApiError::new(
            "InvalidAction",
            format!("The action {action} is not valid for this web service."),
        )
    }
}
