//! How errors look on the wire: JSON with a message and, for invalid input,
//! every field error. A client's mistake is a 4xx that says what is wrong;
//! only the service's own faults are 5xx, and those never leak internals.

use crate::app::AppError;
use crate::domain::errors::with_causes;
use crate::domain::{ConfigErrors, FieldError};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    pub fn invalid(errors: ConfigErrors) -> Self {
        let n = errors.len();
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: format!(
                "the request has {n} problem{}",
                if n == 1 { "" } else { "s" }
            ),
            errors: errors.0,
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "missing or unknown bearer token")
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(errs) => ApiError::invalid(errs),
            AppError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, m),
            AppError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            AppError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, m),
            AppError::Key(e) => {
                tracing::error!(error = %e, "the organisation's data key does not open");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "stored data could not be decrypted: check MOMENTUM_SECRET_KEY",
                )
            }
            AppError::Store(e) => {
                tracing::error!(error = %with_causes(&e), "storage failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage is unavailable; nothing was changed, try again",
                )
            }
            AppError::TimedOut(what) => {
                tracing::error!(what, "timed out");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the service is busy; nothing was changed, try again",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.message,
                errors: self.errors,
            }),
        )
            .into_response()
    }
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route")
}
