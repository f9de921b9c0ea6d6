//! The caller of an API request: `Authorization: Bearer TOKEN` (or the legacy `OAuth TOKEN`),
//! checked against the tokens in the database on every request.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use app::Caller;
use model::ErrorCode;

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller of an API request.
pub struct ApiCaller(pub Caller);

fn unauthorized() -> ApiError {
    ApiError::new(ErrorCode::InvalidSessionId, "Session expired or invalid")
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ApiCaller, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthorized)?;
        let (scheme, token) = header.trim().split_once(' ').ok_or_else(unauthorized)?;
        if !scheme.eq_ignore_ascii_case("bearer") && !scheme.eq_ignore_ascii_case("oauth") {
            return Err(unauthorized());
        }
        match state.app.authenticate_token(token.trim()).await? {
            Some(caller) => Ok(ApiCaller(caller)),
            None => Err(unauthorized()),
        }
    }
}
