//! Records by REST: `POST /sobjects/{Type}`, `GET|PATCH|DELETE /sobjects/{Type}/{Id}`, and the
//! describe resources.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};

use app::records::{Record, RecordInput, Update};
use model::ErrorCode;

use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::{ApiError, json_response};
use crate::versions::parse_version;

/// The version prefix of a request's paths (`/services/data/v59.0`).
pub fn base(version: &str) -> Result<String, ApiError> {
    let major = parse_version(version).ok_or_else(|| {
        ApiError::new(ErrorCode::NotFound, "The requested resource does not exist")
    })?;
    Ok(format!("/services/data/v{major}.0"))
}

/// A record as Salesforce's JSON shows it: `attributes` first, then the fields.
pub fn record_json(base: &str, record: &Record) -> JsonValue {
    let mut map = serde_json::Map::new();
    let url = record
        .id()
        .map(|id| format!("{base}/sobjects/{}/{}", record.object.name, id.to_18()));
    map.insert(
        "attributes".into(),
        json!({"type": record.object.name, "url": url}),
    );
    map.extend(record.to_json());
    JsonValue::Object(map)
}

fn body_object(
    body: Result<Json<JsonValue>, axum::extract::rejection::JsonRejection>,
) -> Result<RecordInput, ApiError> {
    match body {
        Ok(Json(JsonValue::Object(map))) => Ok(map),
        Ok(_) => Err(ApiError::new(
            ErrorCode::JsonParserError,
            "The request body must be a JSON object of field values",
        )),
        Err(rejection) => Err(ApiError::new(
            ErrorCode::JsonParserError,
            rejection.body_text(),
        )),
    }
}

pub async fn describe_global(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(version): Path<String>,
) -> Result<Response, ApiError> {
    let base = base(&version)?;
    let schema = state.app.schema().await?;
    Ok(json_response(
        StatusCode::OK,
        &crate::describe::global(&base, &schema, caller.lang),
    ))
}

pub async fn sobject_info(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((version, object)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let base = base(&version)?;
    let schema = state.app.schema().await?;
    let object = schema.object(&object).ok_or_else(not_found)?;
    let body = json!({"objectDescribe": crate::describe::object_summary(&base, object, caller.lang), "recentItems": []});
    Ok(json_response(StatusCode::OK, &body))
}

pub async fn sobject_describe(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((version, object)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let base = base(&version)?;
    let schema = state.app.schema().await?;
    let object = schema.object(&object).ok_or_else(not_found)?;
    Ok(json_response(
        StatusCode::OK,
        &crate::describe::object(&base, &schema, object, caller.lang),
    ))
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "The requested resource does not exist")
}

pub async fn sobject_create(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((version, object)): Path<(String, String)>,
    body: Result<Json<JsonValue>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let base = base(&version)?;
    let input = body_object(body)?;
    let schema = state.app.schema().await?;
    let name = schema.object(&object).ok_or_else(not_found)?.name.clone();
    let id = state.app.create(&caller, &name, input).await?;
    let mut response = json_response(
        StatusCode::CREATED,
        &json!({"id": id.to_18(), "success": true, "errors": []}),
    );
    if let Ok(location) = format!("{base}/sobjects/{name}/{}", id.to_18()).parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct FieldsParam {
    fields: Option<String>,
}

pub async fn sobject_get(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((version, object, id)): Path<(String, String, String)>,
    Query(params): Query<FieldsParam>,
) -> Result<Response, ApiError> {
    let base = base(&version)?;
    let schema = state.app.schema().await?;
    let object = schema.object(&object).ok_or_else(not_found)?;
    if model::RecordId::parse(&id).is_err() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("Provided external ID field does not exist or is not accessible: {id}"),
        ));
    }
    let fields: Option<Vec<String>> = params.fields.map(|f| {
        f.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let record = state
        .app
        .get(&caller, &object.name, &id, fields.as_deref())
        .await
        .map_err(id_errors_are_not_found)?;
    Ok(json_response(StatusCode::OK, &record_json(&base, &record)))
}

/// `If-Unmodified-Since` (HTTP date or ISO 8601) guards an update against a stale read.
fn unmodified_since(headers: &HeaderMap) -> Result<Option<time::OffsetDateTime>, ApiError> {
    let Some(value) = headers.get(header::IF_UNMODIFIED_SINCE) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| {
        ApiError::new(
            ErrorCode::JsonParserError,
            "If-Unmodified-Since is not text",
        )
    })?;
    if let Some(t) = model::value::parse_datetime(text) {
        return Ok(Some(t));
    }
    // An HTTP date counts whole seconds: the record is unmodified if it last changed at any
    // moment of that second.
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc2822)
        .map(|t| Some(t + time::Duration::milliseconds(999)))
        .map_err(|_| {
            ApiError::new(
                ErrorCode::JsonParserError,
                format!("If-Unmodified-Since is not a date: {text}"),
            )
        })
}

/// Ids in a URL that are not ids of the object answer 404, as Salesforce does.
fn id_errors_are_not_found(error: app::AppError) -> ApiError {
    match error.code() {
        ErrorCode::MalformedId => not_found(),
        _ => error.into(),
    }
}

pub async fn sobject_update(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((version, object, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Result<Json<JsonValue>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    base(&version)?;
    let input = body_object(body)?;
    let schema = state.app.schema().await?;
    let object = schema.object(&object).ok_or_else(not_found)?;
    let update = Update {
        id,
        input,
        if_unmodified_since: unmodified_since(&headers)?,
    };
    state
        .app
        .update(&caller, &object.name, update)
        .await
        .map_err(id_errors_are_not_found)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn sobject_delete(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((version, object, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    base(&version)?;
    let schema = state.app.schema().await?;
    let object = schema.object(&object).ok_or_else(not_found)?;
    let parsed = model::RecordId::parse(&id).map_err(|_| not_found())?;
    if parsed.key_prefix() != object.key_prefix {
        return Err(not_found());
    }
    state.app.delete(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
