//! `GET /sobjects/{Type}/updated?start=…&end=…` and `/deleted`: what changed in a window.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use model::ErrorCode;
use model::value::{format_datetime, parse_datetime};

use crate::auth::Ctx;
use crate::error::{ApiError, json_response};

#[derive(Deserialize)]
pub struct Window {
    start: Option<String>,
    end: Option<String>,
}

fn window(params: &Window) -> Result<(time::OffsetDateTime, time::OffsetDateTime), ApiError> {
    let parse = |name: &str, value: &Option<String>| {
        let text = value.as_deref().ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidReplicationDate,
                format!("{name} is required"),
            )
        })?;
        // A '+' in a query string may arrive as a space.
        parse_datetime(&text.replace(' ', "+")).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidReplicationDate,
                format!("{name} is not a datetime: {text}"),
            )
        })
    };
    Ok((parse("start", &params.start)?, parse("end", &params.end)?))
}

pub async fn updated(
    ctx: Ctx,
    Path((_, object)): Path<(String, String)>,
    Query(params): Query<Window>,
) -> Result<Response, ApiError> {
    let (start, end) = window(&params)?;
    let ids = ctx
        .app
        .updated_ids(&ctx.caller, &object, start, end)
        .await?;
    let ids: Vec<String> = ids.iter().map(model::RecordId::to_18).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"ids": ids, "latestDateCovered": format_datetime(end)}),
    ))
}

pub async fn deleted(
    ctx: Ctx,
    Path((_, object)): Path<(String, String)>,
    Query(params): Query<Window>,
) -> Result<Response, ApiError> {
    let (start, end) = window(&params)?;
    let records = ctx
        .app
        .deleted_records(&ctx.caller, &object, start, end)
        .await?;
    let deleted: Vec<_> = records
        .iter()
        .map(|r| json!({"id": r.id.to_18(), "deletedDate": format_datetime(r.deleted_at)}))
        .collect();
    let earliest = records.first().map_or(start, |r| r.deleted_at);
    Ok(json_response(
        StatusCode::OK,
        &json!({"deletedRecords": deleted, "earliestDateAvailable": format_datetime(earliest), "latestDateCovered": format_datetime(end)}),
    ))
}
