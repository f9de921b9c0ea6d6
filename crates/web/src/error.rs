//! API errors: Salesforce's JSON array of `{message, errorCode, fields}` with the code's HTTP
//! status. Internal causes are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use app::AppError;
use model::{ErrorCode, RecordError};

/// The content type of every API answer (jsforce parses bodies by it).
pub const JSON: &str = "application/json;charset=UTF-8";

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub errors: Vec<RecordError>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status: status_of(code),
            errors: vec![RecordError::new(code, message)],
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> ApiError {
        self.status = status;
        self
    }
}

fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> ApiError {
        if let AppError::Internal(cause) = &error {
            tracing::error!(error = %cause, "internal error");
        }
        ApiError {
            status: status_of(error.code()),
            errors: error.errors(),
        }
    }
}

/// A JSON answer with Salesforce's content type.
pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body: Vec<serde_json::Value> = self
            .errors
            .iter()
            .map(|e| serde_json::json!({"message": e.message, "errorCode": e.code.as_str(), "fields": e.fields}))
            .collect();
        json_response(self.status, &serde_json::Value::Array(body))
    }
}

/// Any path no route answers.
pub async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "The requested resource does not exist")
}

/// Answers that axum makes itself (405, extractor rejections) have plain-text bodies; clients
/// expect Salesforce's JSON error array on every error, so they are rewritten here.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() {
        return response;
    }
    // Only axum's own plain-text (or empty) answers are rewritten; JSON and SOAP stay.
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !plain {
        return response;
    }
    let code = match status.as_u16() {
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        413 => ErrorCode::RequestEntityTooLarge,
        s if s >= 500 => ErrorCode::UnknownException,
        _ => ErrorCode::JsonParserError,
    };
    let text = axum::body::to_bytes(response.into_body(), 16 * 1024)
        .await
        .unwrap_or_default();
    let message = match String::from_utf8_lossy(&text).trim() {
        "" => status.canonical_reason().unwrap_or("error").to_string(),
        text => text.to_string(),
    };
    ApiError {
        status,
        errors: vec![RecordError::new(code, message)],
    }
    .into_response()
}

/// A handler panicked: the server stays up and answers 500 UNKNOWN_EXCEPTION; the cause goes
/// to the log only.
pub fn panic_response(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("panic");
    tracing::error!(%detail, "handler panicked");
    ApiError::new(
        ErrorCode::UnknownException,
        "An unexpected error occurred; the cause is in the server log.",
    )
    .into_response()
}
