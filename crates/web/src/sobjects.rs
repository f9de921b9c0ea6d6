//! Records by REST: `POST /sobjects/{Type}`, `GET|PATCH|DELETE /sobjects/{Type}/{Id}`, upsert
//! and reads by external id (`/sobjects/{Type}/{Field}/{value}`), child records
//! (`/sobjects/{Type}/{Id}/{ChildRelationship}`), and the describe resources.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};

use app::Filter;
use app::records::{Record, RecordInput, Update, WriteOptions};
use model::{ErrorCode, ObjectDef, RecordId, Value};

use crate::AppState;
use crate::auth::{ApiCaller, Ctx};
use crate::error::{ApiError, json_response};
use crate::versions::parse_version;

/// The version prefix of a request's paths (`/services/data/v59.0`).
pub fn base(version: &str) -> Result<String, ApiError> {
    let major = parse_version(version).ok_or_else(not_found)?;
    Ok(format!("/services/data/v{major}.0"))
}

pub fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "The requested resource does not exist")
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

/// The JSON object body of a write.
pub fn body_object(body: Result<Json<JsonValue>, JsonRejection>) -> Result<RecordInput, ApiError> {
    match body {
        Ok(Json(JsonValue::Object(map))) => Ok(map),
        Ok(_) => Err(ApiError::new(
            ErrorCode::JsonParserError,
            "The request body must be a JSON object of field values",
        )),
        Err(rejection) => Err(json_rejection(rejection)),
    }
}

/// A body that is not JSON, or too large.
pub fn json_rejection(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(ErrorCode::RequestEntityTooLarge, rejection.body_text());
    }
    ApiError::new(ErrorCode::JsonParserError, rejection.body_text())
}

/// The object a path names, or 404 (also for an object the caller's profile cannot read:
/// to them it does not exist).
async fn object_named(ctx: &Ctx, name: &str) -> Result<std::sync::Arc<ObjectDef>, ApiError> {
    let schema = ctx.app.schema().await?;
    let object = schema.object(name).cloned().ok_or_else(not_found)?;
    if ctx.app.access(&ctx.caller).await?.object(&object).read {
        Ok(object)
    } else {
        Err(not_found())
    }
}

/// Ids in a URL that are not ids of the object answer 404, as Salesforce does.
fn id_errors_are_not_found(error: app::AppError) -> ApiError {
    match error.code() {
        ErrorCode::MalformedId => not_found(),
        _ => error.into(),
    }
}

/// The single result of a one-record write, or its errors.
fn single(results: Vec<app::RecordResult>) -> Result<RecordId, ApiError> {
    match results.into_iter().next() {
        Some(Ok(id)) => Ok(id),
        Some(Err(errors)) => Err(app::AppError::Rejected(errors).into()),
        None => Err(not_found()),
    }
}

fn created(ctx: &Ctx, object: &str, id: &RecordId) -> Response {
    let mut response = json_response(
        StatusCode::CREATED,
        &json!({"id": id.to_18(), "success": true, "errors": []}),
    );
    if let Ok(location) = format!("{}/sobjects/{object}/{}", ctx.base, id.to_18()).parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

pub async fn describe_global(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(version): Path<String>,
) -> Result<Response, ApiError> {
    let base = base(&version)?;
    let schema = state.app.schema().await?;
    let access = state.app.access(&caller).await?;
    let readable = schema.objects.iter().filter(|o| access.object(o).read);
    Ok(json_response(
        StatusCode::OK,
        &crate::describe::global(&base, readable, caller.lang),
    ))
}

pub async fn sobject_info(
    ctx: Ctx,
    Path((_, object)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let object = object_named(&ctx, &object).await?;
    let body = json!({"objectDescribe": crate::describe::object_summary(&ctx.base, &object, ctx.caller.lang), "recentItems": []});
    Ok(json_response(StatusCode::OK, &body))
}

pub async fn sobject_describe(
    ctx: Ctx,
    Path((_, object)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let schema = ctx.app.schema().await?;
    let object = object_named(&ctx, &object).await?;
    let access = ctx.app.access(&ctx.caller).await?;
    Ok(json_response(
        StatusCode::OK,
        &crate::describe::object(&ctx.base, &schema, &object, ctx.caller.lang, &access.fields),
    ))
}

pub async fn sobject_create(
    ctx: Ctx,
    Path((_, object)): Path<(String, String)>,
    body: Result<Json<JsonValue>, JsonRejection>,
) -> Result<Response, ApiError> {
    let input = body_object(body)?;
    let object = object_named(&ctx, &object).await?;
    let id = ctx.create_one(&object.name, input).await?;
    Ok(created(&ctx, &object.name, &id))
}

/// `POST /sobjects/{Type}/Id`: a create through the upsert resource (v37+).
pub async fn sobject_create_by_id(
    ctx: Ctx,
    Path((_, object, id)): Path<(String, String, String)>,
    body: Result<Json<JsonValue>, JsonRejection>,
) -> Result<Response, ApiError> {
    if !id.eq_ignore_ascii_case("Id") {
        return Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            "HTTP Method 'POST' not allowed. Allowed are GET,PATCH,DELETE",
        )
        .with_status(StatusCode::METHOD_NOT_ALLOWED));
    }
    sobject_create(ctx, Path((String::new(), object)), body).await
}

#[derive(Deserialize)]
pub struct FieldsParam {
    fields: Option<String>,
}

fn field_list(params: &FieldsParam) -> Option<Vec<String>> {
    params.fields.as_ref().map(|f| {
        f.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

pub async fn sobject_get(
    ctx: Ctx,
    Path((_, object, id)): Path<(String, String, String)>,
    Query(params): Query<FieldsParam>,
) -> Result<Response, ApiError> {
    let object = object_named(&ctx, &object).await?;
    if RecordId::parse(&id).is_err() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("Provided external ID field does not exist or is not accessible: {id}"),
        ));
    }
    let record = ctx
        .get(&object.name, &id, field_list(&params).as_deref())
        .await
        .map_err(id_errors_are_not_found)?;
    Ok(json_response(
        StatusCode::OK,
        &record_json(&ctx.base, &record),
    ))
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

pub async fn sobject_update(
    ctx: Ctx,
    Path((_, object, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Result<Json<JsonValue>, JsonRejection>,
) -> Result<Response, ApiError> {
    let input = body_object(body)?;
    let object = object_named(&ctx, &object).await?;
    let update = Update {
        id,
        input,
        if_unmodified_since: unmodified_since(&headers)?,
    };
    ctx.update_one(&object.name, update)
        .await
        .map_err(id_errors_are_not_found)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn sobject_delete(
    ctx: Ctx,
    Path((_, object, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let object = object_named(&ctx, &object).await?;
    let parsed = RecordId::parse(&id).map_err(|_| not_found())?;
    if parsed.key_prefix() != object.key_prefix {
        return Err(not_found());
    }
    single(
        ctx.delete_many(vec![id], WriteOptions { all_or_none: true })
            .await?,
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The live records of `object` whose `field` holds `value`.
async fn find_by_external_id(
    ctx: &Ctx,
    object: &ObjectDef,
    field: &str,
    value: &str,
) -> Result<Vec<RecordId>, ApiError> {
    let key = object
        .field(field)
        .filter(|f| f.external_id || f.field_type == model::FieldType::Id)
        .ok_or_else(|| ApiError::from(app::upsert::not_an_external_id(field)))?;
    let value = model::validate::coerce(key, &JsonValue::String(value.to_string()))
        .map_err(app::AppError::from)?;
    let filter = Filter::eq(&key.name, value);
    let found = ctx
        .app
        .find(
            &ctx.caller,
            &object.name,
            &["Id"],
            Some(filter),
            vec![],
            Some(2000),
        )
        .await?;
    Ok(found.iter().filter_map(|r| r.id().cloned()).collect())
}

/// 300 Multiple Choices: the URLs of the records an external id matches.
fn multiple_choices(ctx: &Ctx, object: &str, ids: &[RecordId]) -> Response {
    let urls: Vec<String> = ids
        .iter()
        .map(|id| format!("{}/sobjects/{object}/{}", ctx.base, id.to_18()))
        .collect();
    json_response(StatusCode::MULTIPLE_CHOICES, &json!(urls))
}

/// `GET /sobjects/{Type}/{Id}/{ChildRelationship}` or `GET /sobjects/{Type}/{Field}/{value}`.
pub async fn sobject_get_related_or_by_external_id(
    ctx: Ctx,
    Path((_, object, first, second)): Path<(String, String, String, String)>,
    Query(params): Query<FieldsParam>,
) -> Result<Response, ApiError> {
    let object = object_named(&ctx, &object).await?;
    let fields = field_list(&params);
    if let Ok(id) = RecordId::parse(&first)
        && id.key_prefix() == object.key_prefix
    {
        return child_records(&ctx, &object, &id, &second, fields.as_deref()).await;
    }
    match find_by_external_id(&ctx, &object, &first, &second)
        .await?
        .as_slice()
    {
        [] => Err(not_found()),
        [id] => {
            let record = ctx
                .get(&object.name, &id.to_18(), fields.as_deref())
                .await?;
            Ok(json_response(
                StatusCode::OK,
                &record_json(&ctx.base, &record),
            ))
        }
        several => Ok(multiple_choices(&ctx, &object.name, several)),
    }
}

async fn child_records(
    ctx: &Ctx,
    object: &ObjectDef,
    id: &RecordId,
    relationship: &str,
    fields: Option<&[String]>,
) -> Result<Response, ApiError> {
    let schema = ctx.app.schema().await?;
    let relation = schema
        .child_relationships(&object.name)
        .iter()
        .find(|c| {
            c.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(relationship))
        })
        .cloned()
        .ok_or_else(not_found)?;
    ctx.get(&object.name, &id.to_18(), Some(&["Id".to_string()]))
        .await
        .map_err(id_errors_are_not_found)?;
    let child = schema
        .object(&relation.child_object)
        .cloned()
        .ok_or_else(not_found)?;
    // Every field the caller may see (`find` checks the object, the fields named and which
    // records they may see).
    let rules = ctx.app.access(&ctx.caller).await?.fields.clone();
    let names: Vec<String> = match fields {
        Some(list) => list.to_vec(),
        None => child
            .fields
            .iter()
            .filter(|f| !rules.hidden(&child.name, &f.name))
            .map(|f| f.name.clone())
            .collect(),
    };
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let filter = Filter::eq(&relation.field, Value::Id(id.clone()));
    let records = ctx
        .app
        .find(
            &ctx.caller,
            &child.name,
            &names,
            Some(filter),
            vec![("Id".into(), false)],
            Some(2000),
        )
        .await?;
    let rows: Vec<JsonValue> = records.iter().map(|r| record_json(&ctx.base, r)).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"totalSize": rows.len(), "done": true, "records": rows}),
    ))
}

/// `PATCH /sobjects/{Type}/{Field}/{value}`: upsert by external id.
pub async fn sobject_upsert(
    ctx: Ctx,
    Path((version, object, field, value)): Path<(String, String, String, String)>,
    body: Result<Json<JsonValue>, JsonRejection>,
) -> Result<Response, ApiError> {
    let mut input = body_object(body)?;
    let object = object_named(&ctx, &object).await?;
    let key = object
        .field(&field)
        .cloned()
        .ok_or_else(|| ApiError::from(app::upsert::not_an_external_id(&field)))?;
    if let Some((_, given)) = input
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&key.name))
    {
        let same = match given {
            JsonValue::String(s) => s == &value,
            other => *other == value,
        };
        if !same {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                format!(
                    "The value of {} in the body ({given}) differs from the one in the URL ({value})",
                    key.name
                ),
            ));
        }
    }
    let existing = find_by_external_id(&ctx, &object, &key.name, &value).await?;
    if existing.len() > 1 {
        return Ok(multiple_choices(&ctx, &object.name, &existing));
    }
    input.retain(|k, _| !k.eq_ignore_ascii_case(&key.name));
    if key.field_type != model::FieldType::Id {
        input.insert(key.name.clone(), JsonValue::String(value));
    } else {
        input.insert("Id".into(), JsonValue::String(value));
    }
    let result = ctx
        .upsert_many(
            &object.name,
            &key.name,
            vec![input],
            WriteOptions { all_or_none: true },
        )
        .await?;
    let (id, was_created) = match result.into_iter().next() {
        Some(Ok(outcome)) => outcome,
        Some(Err(errors)) => return Err(app::AppError::Rejected(errors).into()),
        None => return Err(not_found()),
    };
    let major = parse_version(&version).unwrap_or(crate::versions::NEWEST);
    let body = json!({"id": id.to_18(), "success": true, "errors": [], "created": was_created});
    Ok(match (was_created, major >= 46) {
        (true, _) => {
            let mut response = json_response(StatusCode::CREATED, &body);
            if let Ok(location) =
                format!("{}/sobjects/{}/{}", ctx.base, object.name, id.to_18()).parse()
            {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        (false, true) => json_response(StatusCode::OK, &body),
        (false, false) => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `DELETE /sobjects/{Type}/{Field}/{value}`.
pub async fn sobject_delete_by_external_id(
    ctx: Ctx,
    Path((_, object, field, value)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let object = object_named(&ctx, &object).await?;
    match find_by_external_id(&ctx, &object, &field, &value)
        .await?
        .as_slice()
    {
        [] => Err(not_found()),
        [id] => {
            single(
                ctx.delete_many(vec![id.to_18()], WriteOptions { all_or_none: true })
                    .await?,
            )?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        several => Ok(multiple_choices(&ctx, &object.name, several)),
    }
}
