//! Mass operations over REST beside the sObject collections: `POST …/rapport/merge` merges
//! two or three duplicate accounts, contacts or leads; `POST …/rapport/transfer` gives many
//! records a new owner, with what their previous owner held on them.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::Response;
use model::ErrorCode;
use serde_json::{Map, Value as JsonValue, json};

use crate::auth::Ctx;
use crate::collections::result_json;
use crate::error::{ApiError, json_response};

/// Records one transfer request may name.
const MOST_TRANSFERRED: usize = 10_000;

fn body_of(
    body: Result<Json<JsonValue>, JsonRejection>,
) -> Result<Map<String, JsonValue>, ApiError> {
    let Json(value) = body.map_err(|e| ApiError::new(ErrorCode::JsonParserError, e.body_text()))?;
    match value {
        JsonValue::Object(map) => Ok(map),
        _ => Err(ApiError::new(
            ErrorCode::JsonParserError,
            "the request body must be a JSON object",
        )),
    }
}

fn ids_in(body: &Map<String, JsonValue>, key: &str) -> Result<Vec<String>, ApiError> {
    let Some(JsonValue::Array(items)) = body.get(key) else {
        return Err(ApiError::new(
            ErrorCode::JsonParserError,
            format!("{key}: a list of record ids is required"),
        ));
    };
    items
        .iter()
        .map(|item| {
            item.as_str().map(str::to_string).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::JsonParserError,
                    format!("{key}: every item must be a record id string"),
                )
            })
        })
        .collect()
}

/// `{"masterRecord": {"Id": "001…", "Phone": "…"}, "recordToMergeIds": ["001…"]}`: the
/// master takes the other fields given; answers with what was merged and re-pointed.
pub async fn merge(
    ctx: Ctx,
    body: Result<Json<JsonValue>, JsonRejection>,
) -> Result<Response, ApiError> {
    ctx.outside_composite("merge")?;
    let body = body_of(body)?;
    let Some(JsonValue::Object(master)) = body.get("masterRecord") else {
        return Err(ApiError::new(
            ErrorCode::JsonParserError,
            "masterRecord: an object with the master's Id (and the values it takes) is required",
        ));
    };
    let mut fields = master.clone();
    fields.remove("attributes");
    let Some(JsonValue::String(master_id)) = fields.remove("Id") else {
        return Err(ApiError::new(
            ErrorCode::JsonParserError,
            "masterRecord.Id: the master's id is required",
        ));
    };
    let request = app::merge::MergeRequest {
        master_id,
        merged_ids: ids_in(&body, "recordToMergeIds")?,
        fields,
    };
    let merged = ctx.app.merge(&ctx.caller, request).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "id": merged.id.to_18(),
            "success": true,
            "mergedRecordIds": merged.merged_ids.iter().map(|id| id.to_18()).collect::<Vec<_>>(),
            "updatedRelatedIds": merged.updated_related_ids.iter().map(|id| id.to_18()).collect::<Vec<_>>(),
            "errors": [],
        }),
    ))
}

/// `{"ids": [...], "ownerId": "005…", "transferOpenOpportunities": false}`: one result per
/// record, in order, as sObject collections answer.
pub async fn transfer(
    ctx: Ctx,
    body: Result<Json<JsonValue>, JsonRejection>,
) -> Result<Response, ApiError> {
    ctx.outside_composite("a transfer")?;
    let body = body_of(body)?;
    let ids = ids_in(&body, "ids")?;
    if ids.len() > MOST_TRANSFERRED {
        return Err(ApiError::new(
            ErrorCode::InvalidOperation,
            format!(
                "at most {MOST_TRANSFERRED} records per transfer, not {}",
                ids.len()
            ),
        ));
    }
    let Some(JsonValue::String(owner_id)) = body.get("ownerId") else {
        return Err(ApiError::new(
            ErrorCode::JsonParserError,
            "ownerId: the new owner's user id is required",
        ));
    };
    let open_opportunities = match body.get("transferOpenOpportunities") {
        None | Some(JsonValue::Null) => false,
        Some(JsonValue::Bool(value)) => *value,
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::JsonParserError,
                "transferOpenOpportunities: true or false",
            ));
        }
    };
    let transfer = app::transfer::Transfer {
        ids,
        owner_id: owner_id.clone(),
        open_opportunities,
    };
    let results = ctx.app.transfer(&ctx.caller, transfer).await?;
    Ok(json_response(
        StatusCode::OK,
        &JsonValue::Array(results.iter().map(result_json).collect()),
    ))
}
