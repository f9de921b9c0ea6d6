//! `GET /query?q=SOQL`, `GET /queryAll?q=SOQL` and the pages after the first,
//! `GET /query/{locator}`. A locator is self-contained (the query and where the next page
//! starts), so any server process can answer it.

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value as JsonValue, json};

use app::query::{Cell, QueryOptions, QueryPage, Row};
use model::ErrorCode;

use crate::auth::Ctx;
use crate::error::{ApiError, json_response};

#[derive(Deserialize)]
pub struct QueryParams {
    q: Option<String>,
    explain: Option<String>,
}

/// `batchSize=N` of `Sforce-Query-Options` (200–2000; a hint).
fn page_size(headers: &HeaderMap) -> usize {
    headers
        .get("sforce-query-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|part| part.trim().strip_prefix("batchSize="))
        })
        .and_then(|n| n.trim().parse::<usize>().ok())
        .map_or(app::query::MAX_PAGE, |n| n.clamp(200, app::query::MAX_PAGE))
}

pub(crate) fn row_json(base: &str, row: &Row) -> JsonValue {
    let mut map = Map::new();
    let attributes = match &row.id {
        Some(id) => {
            json!({"type": &*row.object, "url": format!("{base}/sobjects/{}/{}", row.object, id.to_18())})
        }
        // Aggregate rows have a type and no url.
        None => json!({"type": &*row.object}),
    };
    map.insert("attributes".into(), attributes);
    for (name, cell) in &row.cells {
        let value = match cell {
            Cell::Value(value) => value.to_json(),
            Cell::Parent(None) => JsonValue::Null,
            Cell::Parent(Some(parent)) => row_json(base, parent),
            Cell::Children(None) => JsonValue::Null,
            Cell::Children(Some(rows)) => {
                let records: Vec<JsonValue> = rows.iter().map(|r| row_json(base, r)).collect();
                json!({"totalSize": records.len(), "done": true, "records": records})
            }
        };
        map.insert(name.to_string(), value);
    }
    JsonValue::Object(map)
}

/// Where a page starts, the total the first page reported, and the sort key of the row
/// before it (all carried in the locator).
#[derive(Clone, Default)]
struct Cursor {
    start: u64,
    total: Option<u64>,
    after: Option<String>,
}

/// `q|a` + base64url(query) + [`~` + base64url(sort key of the last row)] + `-start.total`;
/// `~` and `.` are outside the base64url alphabet, and the part after the last `-` is digits.
fn locator(all: bool, text: &str, key: Option<&str>, start: u64, total: u64) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s.as_bytes());
    let key = key.map(|k| format!("~{}", b64(k))).unwrap_or_default();
    format!(
        "{}{}{key}-{start}.{total}",
        if all { 'a' } else { 'q' },
        b64(text)
    )
}

fn page_json(base: &str, all: bool, text: &str, page: &QueryPage) -> JsonValue {
    let records: Vec<JsonValue> = page.rows.iter().map(|r| row_json(base, r)).collect();
    let mut body = json!({"totalSize": page.total_size, "done": page.next_start.is_none(), "records": records});
    if let (Some(next), JsonValue::Object(map)) = (page.next_start, &mut body) {
        map.insert(
            "nextRecordsUrl".into(),
            json!(format!(
                "{base}/query/{}",
                locator(all, text, page.next_key.as_deref(), next, page.total_size)
            )),
        );
    }
    body
}

async fn run(
    ctx: &Ctx,
    headers: &HeaderMap,
    text: &str,
    all: bool,
    cursor: Cursor,
) -> Result<Response, ApiError> {
    let options = QueryOptions {
        include_deleted: all,
        start: cursor.start,
        page_size: page_size(headers),
        known_total: cursor.total,
        after: cursor.after,
        count: true,
    };
    let page = ctx.app.query(&ctx.caller, text, options).await?;
    Ok(json_response(
        StatusCode::OK,
        &page_json(&ctx.base, all, text, &page),
    ))
}

fn query_text(params: QueryParams) -> Result<String, ApiError> {
    params.q.filter(|q| !q.trim().is_empty()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::MalformedQuery,
            "A query string is required: ?q=SELECT …",
        )
    })
}

pub async fn query(
    ctx: Ctx,
    headers: HeaderMap,
    Query(params): Query<QueryParams>,
) -> Result<Response, ApiError> {
    if let Some(text) = params.explain.as_deref().filter(|t| !t.trim().is_empty()) {
        return explain(&ctx, text).await;
    }
    run(
        &ctx,
        &headers,
        &query_text(params)?,
        false,
        Cursor::default(),
    )
    .await
}

/// `?explain=SOQL`: the query plan in Salesforce's shape, with the SQL we run as a note.
async fn explain(ctx: &Ctx, text: &str) -> Result<Response, ApiError> {
    let plan = ctx.app.explain(&ctx.caller, text).await?;
    let relative_cost = if plan.object_cardinality == 0 {
        0.0
    } else {
        plan.cardinality as f64 / plan.object_cardinality as f64
    };
    let body = json!({"plans": [{
        "cardinality": plan.cardinality,
        "fields": plan.fields,
        "leadingOperationType": if plan.leading_index { "Index" } else { "TableScan" },
        "notes": [{"description": plan.sql, "fields": [], "tableEnumOrId": plan.object}],
        "relativeCost": relative_cost,
        "sobjectCardinality": plan.object_cardinality,
        "sobjectType": plan.object,
    }]});
    Ok(json_response(StatusCode::OK, &body))
}

pub async fn query_all(
    ctx: Ctx,
    headers: HeaderMap,
    Query(params): Query<QueryParams>,
) -> Result<Response, ApiError> {
    run(
        &ctx,
        &headers,
        &query_text(params)?,
        true,
        Cursor::default(),
    )
    .await
}

/// The next page: `/query/{locator}` (jsforce asks here for queryAll cursors too).
pub async fn query_more(
    ctx: Ctx,
    headers: HeaderMap,
    Path((_, locator)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let invalid = || ApiError::new(ErrorCode::InvalidQueryLocator, "invalid query locator");
    let (head, position) = locator.rsplit_once('-').ok_or_else(invalid)?;
    let (start, total) = match position.split_once('.') {
        Some((start, total)) => (start, Some(total.parse().map_err(|_| invalid())?)),
        None => (position, None),
    };
    let all = match head.chars().next() {
        Some('q') => false,
        Some('a') => true,
        _ => return Err(invalid()),
    };
    let unb64 = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(invalid)
    };
    let (query, key) = match head[1..].split_once('~') {
        Some((query, key)) => (query, Some(unb64(key)?)),
        None => (&head[1..], None),
    };
    let text = unb64(query)?;
    let cursor = Cursor {
        start: start.parse().map_err(|_| invalid())?,
        total,
        after: key,
    };
    run(&ctx, &headers, &text, all, cursor).await
}
