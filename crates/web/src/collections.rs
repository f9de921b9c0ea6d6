//! sObject Collections: `/composite/sobjects` — create, update, upsert, delete and retrieve up
//! to 200 records in one call, with a result per record (`statusCode` in errors, as in SOAP)
//! and `allOrNone`.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Mutex;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};

use app::records::{RecordInput, Update, WriteOptions};
use model::{ErrorCode, RecordError};

use crate::auth::{Ctx, SharedWork};
use crate::error::{ApiError, json_response};
use crate::sobjects::{not_found, record_json};

/// Most records one collection call takes.
pub const MAX_RECORDS: usize = 200;

fn error_json(e: &RecordError) -> JsonValue {
    json!({"statusCode": e.code.as_str(), "message": e.message, "fields": e.fields})
}

pub(crate) fn result_json(result: &app::RecordResult) -> JsonValue {
    match result {
        Ok(id) => json!({"id": id.to_18(), "success": true, "errors": []}),
        Err(errors) => {
            json!({"success": false, "errors": errors.iter().map(error_json).collect::<Vec<_>>()})
        }
    }
}

#[derive(Deserialize)]
pub struct RecordsBody {
    #[serde(rename = "allOrNone", default)]
    all_or_none: bool,
    records: Vec<JsonValue>,
}

fn parse_body(body: Result<Json<JsonValue>, JsonRejection>) -> Result<RecordsBody, ApiError> {
    let Json(value) = body.map_err(crate::sobjects::json_rejection)?;
    let body: RecordsBody = serde_json::from_value(value).map_err(|e| {
        ApiError::new(
            ErrorCode::JsonParserError,
            format!("expected {{\"allOrNone\": bool, \"records\": [...]}}: {e}"),
        )
    })?;
    if body.records.len() > MAX_RECORDS {
        return Err(ApiError::new(
            ErrorCode::JsonParserError,
            format!(
                "at most {MAX_RECORDS} records per call, got {}",
                body.records.len()
            ),
        ));
    }
    Ok(body)
}

/// A record of a collection: its object (from `attributes.type`) and fields.
fn split_record(record: JsonValue) -> Result<(String, RecordInput), RecordError> {
    let JsonValue::Object(mut map) = record else {
        return Err(RecordError::new(
            ErrorCode::JsonParserError,
            "each record must be a JSON object",
        ));
    };
    let object = map
        .remove("attributes")
        .and_then(|a| {
            a.get("type")
                .and_then(JsonValue::as_str)
                .map(str::to_string)
        })
        .ok_or_else(|| {
            RecordError::new(ErrorCode::InvalidType, "each record needs attributes.type")
        })?;
    Ok((object, map))
}

/// Runs a write per object over records of several objects, keeping request order. With
/// all-or-none, every object's records are written in one transaction (the composite
/// request's, or one of our own), so a failure anywhere rolls every record back.
async fn by_object<T>(
    ctx: &Ctx,
    records: Vec<JsonValue>,
    all_or_none: bool,
    prepare: impl Fn(&str, RecordInput) -> Result<T, RecordError>,
    write: impl AsyncFn(&Ctx, &str, Vec<T>, WriteOptions) -> app::Result<Vec<app::RecordResult>>,
) -> Result<Vec<app::RecordResult>, ApiError> {
    let mut results: Vec<Option<app::RecordResult>> = vec![None; records.len()];
    let mut groups: BTreeMap<String, Vec<(usize, T)>> = BTreeMap::new();
    for (i, record) in records.into_iter().enumerate() {
        match split_record(record)
            .and_then(|(object, input)| prepare(&object, input).map(|item| (object, item)))
        {
            Ok((object, item)) => groups.entry(object).or_default().push((i, item)),
            Err(error) => results[i] = Some(Err(vec![error])),
        }
    }
    if all_or_none && results.iter().any(Option::is_some) {
        return Ok(rolled_back(results));
    }
    let own_work = if all_or_none && ctx.work.is_none() && groups.len() > 1 {
        Some(SharedWork(Arc::new(Mutex::new(
            ctx.app.begin_work().await?,
        ))))
    } else {
        None
    };
    let scoped = Ctx {
        app: ctx.app.clone(),
        caller: ctx.caller.clone(),
        base: ctx.base.clone(),
        work: own_work.clone().or_else(|| ctx.work.clone()),
    };
    let options = WriteOptions { all_or_none };
    for (object, items) in groups {
        let (positions, items): (Vec<usize>, Vec<T>) = items.into_iter().unzip();
        let written = match write(&scoped, &object, items, options).await {
            Ok(written) => written,
            // The object itself is wrong (unknown type…): every record of it gets the error.
            Err(app::AppError::Rejected(errors)) => {
                positions.iter().map(|_| Err(errors.clone())).collect()
            }
            Err(internal) => return Err(internal.into()),
        };
        for (i, result) in positions.into_iter().zip(written) {
            results[i] = Some(result);
        }
        if all_or_none && results.iter().flatten().any(Result::is_err) {
            return Ok(rolled_back(results));
        }
    }
    drop(scoped);
    if let Some(SharedWork(work)) = own_work
        && let Ok(work) = Arc::try_unwrap(work)
    {
        work.into_inner().commit().await?;
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(vec![app_rolled_back()])))
        .collect())
}

fn app_rolled_back() -> RecordError {
    RecordError::new(
        ErrorCode::AllOrNoneOperationRolledBack,
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
    )
}

fn rolled_back(results: Vec<Option<app::RecordResult>>) -> Vec<app::RecordResult> {
    results
        .into_iter()
        .map(|r| match r {
            Some(Err(errors))
                if errors
                    .iter()
                    .any(|e| e.code != ErrorCode::AllOrNoneOperationRolledBack) =>
            {
                Err(errors)
            }
            _ => Err(vec![app_rolled_back()]),
        })
        .collect()
}

fn results_response(results: &[app::RecordResult]) -> Response {
    json_response(
        StatusCode::OK,
        &JsonValue::Array(results.iter().map(result_json).collect()),
    )
}

/// `POST /composite/sobjects`: create.
pub async fn collection_create(
    ctx: Ctx,
    body: Result<Json<JsonValue>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body = parse_body(body)?;
    let results = by_object(
        &ctx,
        body.records,
        body.all_or_none,
        |_, input| {
            if input.keys().any(|k| k.eq_ignore_ascii_case("Id")) {
                return Err(RecordError::on_field(
                    ErrorCode::InvalidFieldForInsertUpdate,
                    "Id",
                    "cannot specify Id in an insert call",
                ));
            }
            Ok(input)
        },
        async |ctx: &Ctx, object: &str, inputs, options| {
            ctx.create_many(object, inputs, options).await
        },
    )
    .await?;
    Ok(results_response(&results))
}

/// `PATCH /composite/sobjects`: update (each record carries its `id`).
pub async fn collection_update(
    ctx: Ctx,
    body: Result<Json<JsonValue>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body = parse_body(body)?;
    let results = by_object(
        &ctx,
        body.records,
        body.all_or_none,
        |_, mut input| {
            let key = input.keys().find(|k| k.eq_ignore_ascii_case("Id")).cloned();
            let id = key
                .and_then(|k| input.remove(&k))
                .and_then(|v| v.as_str().map(str::to_string));
            let id = id.ok_or_else(|| {
                RecordError::new(ErrorCode::MalformedId, "each record needs an id")
            })?;
            Ok(Update {
                id,
                input,
                if_unmodified_since: None,
            })
        },
        async |ctx: &Ctx, object: &str, updates, options| {
            ctx.update_many(object, updates, options).await
        },
    )
    .await?;
    Ok(results_response(&results))
}

/// `PATCH /composite/sobjects/{Type}/{ExternalIdField}`: upsert (v46+).
pub async fn collection_upsert(
    ctx: Ctx,
    Path((_, object, field)): Path<(String, String, String)>,
    body: Result<Json<JsonValue>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body = parse_body(body)?;
    let mut results: Vec<Option<JsonValue>> = vec![None; body.records.len()];
    let mut inputs = Vec::new();
    let mut positions = Vec::new();
    for (i, record) in body.records.into_iter().enumerate() {
        match split_record(record) {
            Ok((kind, input)) if kind.eq_ignore_ascii_case(&object) => {
                positions.push(i);
                inputs.push(input);
            }
            Ok((kind, _)) => {
                let error = RecordError::new(
                    ErrorCode::InvalidType,
                    format!("record type {kind} does not match the URL's {object}"),
                );
                results[i] = Some(json!({"success": false, "errors": [error_json(&error)]}));
            }
            Err(error) => {
                results[i] = Some(json!({"success": false, "errors": [error_json(&error)]}))
            }
        }
    }
    if body.all_or_none && results.iter().any(Option::is_some) {
        let rolled = json!({"success": false, "errors": [error_json(&app_rolled_back())]});
        return Ok(json_response(
            StatusCode::OK,
            &JsonValue::Array(
                results
                    .into_iter()
                    .map(|r| r.unwrap_or_else(|| rolled.clone()))
                    .collect(),
            ),
        ));
    }
    let upserted = ctx
        .upsert_many(
            &object,
            &field,
            inputs,
            WriteOptions {
                all_or_none: body.all_or_none,
            },
        )
        .await?;
    for (i, result) in positions.into_iter().zip(upserted) {
        results[i] = Some(match result {
            Ok((id, created)) => {
                json!({"id": id.to_18(), "success": true, "errors": [], "created": created})
            }
            Err(errors) => {
                json!({"success": false, "errors": errors.iter().map(error_json).collect::<Vec<_>>()})
            }
        });
    }
    Ok(json_response(
        StatusCode::OK,
        &JsonValue::Array(results.into_iter().flatten().collect()),
    ))
}

#[derive(Deserialize)]
pub struct DeleteParams {
    ids: Option<String>,
    #[serde(rename = "allOrNone")]
    all_or_none: Option<bool>,
}

/// `DELETE /composite/sobjects?ids=…&allOrNone=…`.
pub async fn collection_delete(
    ctx: Ctx,
    Query(params): Query<DeleteParams>,
) -> Result<Response, ApiError> {
    let ids: Vec<String> = params
        .ids
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if ids.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MalformedId,
            "ids is required: ?ids=id1,id2",
        ));
    }
    if ids.len() > MAX_RECORDS {
        return Err(ApiError::new(
            ErrorCode::JsonParserError,
            format!("at most {MAX_RECORDS} ids per call"),
        ));
    }
    let results = ctx
        .delete_many(
            ids,
            WriteOptions {
                all_or_none: params.all_or_none.unwrap_or(false),
            },
        )
        .await?;
    Ok(results_response(&results))
}

#[derive(Deserialize)]
pub struct RetrieveParams {
    ids: Option<String>,
    fields: Option<String>,
}

#[derive(Deserialize)]
pub struct RetrieveBody {
    ids: Vec<String>,
    fields: Vec<String>,
}

async fn retrieve(
    ctx: &Ctx,
    object: &str,
    ids: Vec<String>,
    fields: Vec<String>,
) -> Result<Response, ApiError> {
    if ids.len() > 2000 {
        return Err(ApiError::new(
            ErrorCode::JsonParserError,
            "at most 2000 ids per call",
        ));
    }
    let schema = ctx.app.schema().await?;
    let object = schema.object(object).cloned().ok_or_else(not_found)?;
    for field in &fields {
        if object.field(field).is_none() {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                format!("No such column '{field}' on entity '{}'", object.name),
            ));
        }
    }
    let fields = if fields.is_empty() {
        None
    } else {
        Some(fields)
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match ctx.get(&object.name, &id, fields.as_deref()).await {
            Ok(record) => out.push(record_json(&ctx.base, &record)),
            Err(error) if matches!(error.code(), ErrorCode::NotFound | ErrorCode::MalformedId) => {
                out.push(JsonValue::Null)
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(json_response(StatusCode::OK, &JsonValue::Array(out)))
}

fn split_list(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `GET /composite/sobjects/{Type}?ids=…&fields=…`.
pub async fn collection_retrieve_get(
    ctx: Ctx,
    Path((_, object)): Path<(String, String)>,
    Query(params): Query<RetrieveParams>,
) -> Result<Response, ApiError> {
    retrieve(
        &ctx,
        &object,
        split_list(params.ids),
        split_list(params.fields),
    )
    .await
}

/// `POST /composite/sobjects/{Type}` with `{"ids": […], "fields": […]}`.
pub async fn collection_retrieve_post(
    ctx: Ctx,
    Path((_, object)): Path<(String, String)>,
    body: Result<Json<RetrieveBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(crate::sobjects::json_rejection)?;
    retrieve(&ctx, &object, body.ids, body.fields).await
}
