//! `GET /search?q=SOSL`: the records found, as `{"searchRecords": […]}` with each record in
//! the shape `/query` gives it.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};

use model::ErrorCode;

use crate::auth::Ctx;
use crate::error::{ApiError, json_response};
use crate::query::row_json;

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
}

pub async fn search(ctx: Ctx, Query(params): Query<SearchParams>) -> Result<Response, ApiError> {
    let text = params.q.filter(|q| !q.trim().is_empty()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::MalformedSearch,
            "No search term found. The search term must be enclosed in braces.",
        )
    })?;
    let rows = ctx.app.search(&ctx.caller, &text).await?;
    let records: Vec<JsonValue> = rows.iter().map(|r| row_json(&ctx.base, r)).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "searchRecords": records }),
    ))
}
