//! Lead conversion over REST: `POST …/rapport/leads/{id}/convert` for one lead,
//! `POST …/rapport/leads/convert` for many, `GET …/rapport/leads/{id}/matches` for the
//! existing accounts and contacts to offer before converting.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::Response;
use model::ErrorCode;
use serde_json::{Value as JsonValue, json};

use crate::auth::Ctx;
use crate::error::{ApiError, json_response};

fn parse<T: serde::de::DeserializeOwned>(
    body: Result<Json<JsonValue>, JsonRejection>,
) -> Result<T, ApiError> {
    let Json(value) = body.map_err(|e| ApiError::new(ErrorCode::JsonParserError, e.body_text()))?;
    serde_json::from_value(value)
        .map_err(|e| ApiError::new(ErrorCode::JsonParserError, e.to_string()))
}

pub async fn convert_one(
    ctx: Ctx,
    Path((_, lead)): Path<(String, String)>,
    body: Result<Json<JsonValue>, JsonRejection>,
) -> Result<Response, ApiError> {
    ctx.outside_composite("lead conversion")?;
    let mut convert: app::convert::LeadConvert = parse(body)?;
    convert.lead_id = lead;
    let converted = ctx.app.convert_lead(&ctx.caller, convert).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "leadId": converted.lead_id,
            "accountId": converted.account_id,
            "contactId": converted.contact_id,
            "opportunityId": converted.opportunity_id,
        }),
    ))
}

#[derive(serde::Deserialize)]
struct ConvertMany {
    leads: Vec<app::convert::LeadConvert>,
}

/// Up to 200 leads, each converted or not on its own: one result per lead, in order.
pub async fn convert_many(
    ctx: Ctx,
    body: Result<Json<JsonValue>, JsonRejection>,
) -> Result<Response, ApiError> {
    ctx.outside_composite("lead conversion")?;
    let ConvertMany { leads } = parse(body)?;
    if leads.len() > 200 {
        return Err(ApiError::new(
            ErrorCode::InvalidOperation,
            format!("at most 200 leads per request, not {}", leads.len()),
        ));
    }
    let ids: Vec<String> = leads.iter().map(|l| l.lead_id.clone()).collect();
    let outcomes = ctx.app.convert_leads(&ctx.caller, leads).await?;
    let results: Vec<JsonValue> = outcomes
        .into_iter()
        .zip(ids)
        .map(|(outcome, lead)| match outcome {
            Ok(converted) => json!({
                "leadId": converted.lead_id,
                "success": true,
                "accountId": converted.account_id,
                "contactId": converted.contact_id,
                "opportunityId": converted.opportunity_id,
                "errors": [],
            }),
            Err(errors) => json!({
                "leadId": lead,
                "success": false,
                "errors": errors.iter().map(|e| json!({
                    "statusCode": e.code.as_str(),
                    "message": e.message,
                    "fields": e.fields,
                })).collect::<Vec<_>>(),
            }),
        })
        .collect();
    Ok(json_response(StatusCode::OK, &JsonValue::Array(results)))
}

pub async fn matches(
    ctx: Ctx,
    Path((_, lead)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let found = ctx.app.conversion_matches(&ctx.caller, &lead).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "accounts": found.accounts.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
            "contacts": found.contacts.iter().map(|(id, name, account)| json!({"id": id, "name": name, "accountId": account})).collect::<Vec<_>>(),
        }),
    ))
}
