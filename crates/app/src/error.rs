use model::{ErrorCode, RecordError};
use store::StoreError;

/// Why a use case failed: errors the caller can act on, each with its Salesforce code, or an
/// internal failure whose cause is logged and never shown.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{}", .0.first().map(ToString::to_string).unwrap_or_default())]
    Rejected(Vec<RecordError>),
    #[error("internal error: {0}")]
    Internal(#[from] StoreError),
}

impl AppError {
    pub fn one(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError::Rejected(vec![RecordError::new(code, message)])
    }

    pub fn on_field(code: ErrorCode, field: &str, message: impl Into<String>) -> AppError {
        AppError::Rejected(vec![RecordError::on_field(code, field, message)])
    }

    /// The code of the first error (UNKNOWN_EXCEPTION for internal failures).
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Rejected(errors) => errors
                .first()
                .map_or(ErrorCode::UnknownException, |e| e.code),
            AppError::Internal(_) => ErrorCode::UnknownException,
        }
    }

    /// The errors to show the caller.
    pub fn errors(&self) -> Vec<RecordError> {
        match self {
            AppError::Rejected(errors) => errors.clone(),
            AppError::Internal(_) => vec![RecordError::new(
                ErrorCode::UnknownException,
                "An unexpected error occurred; the cause is in the server log.",
            )],
        }
    }
}

impl From<RecordError> for AppError {
    fn from(error: RecordError) -> AppError {
        AppError::Rejected(vec![error])
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// A record error for a write that breaks a rule between records, named by its field
/// (`FIELD_INTEGRITY_EXCEPTION`, in Salesforce's wording).
pub(crate) fn integrity(field: &str, why: impl std::fmt::Display) -> model::RecordError {
    model::RecordError::on_field(
        model::ErrorCode::FieldIntegrityException,
        field,
        format!("field integrity exception: {field} ({why})"),
    )
}

/// A record error for a delete that others depend on (`DELETE_FAILED`).
pub(crate) fn delete_failed(why: impl std::fmt::Display) -> model::RecordError {
    model::RecordError::new(
        model::ErrorCode::DeleteFailed,
        format!("Unable to delete: {why}"),
    )
}
