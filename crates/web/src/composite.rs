//! `POST /composite` (up to 25 subrequests that may refer to earlier results with
//! `@{ref.field}`, all-or-none in one transaction) and `POST /composite/batch` (up to 25
//! independent subrequests). Subrequests go through the same router as any request, so each
//! resource behaves exactly as when called directly.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};
use tokio::sync::Mutex;
use tower::ServiceExt;

use model::ErrorCode;

use crate::AppState;
use crate::auth::{Ctx, SharedWork, Subrequest};
use crate::error::{ApiError, json_response};

/// Most subrequests in one composite or batch request.
pub const MAX_SUBREQUESTS: usize = 25;

/// What a subrequest answered.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: Option<JsonValue>,
}

/// Sends one subrequest through the router, as the caller, inside `work` when given.
async fn dispatch(
    state: &AppState,
    authorization: &HeaderValue,
    method: &str,
    url: &str,
    body: Option<&JsonValue>,
    work: Option<&SharedWork>,
) -> Answer {
    let halted = |status: StatusCode, code: ErrorCode, message: String| Answer {
        status,
        location: None,
        body: Some(json!([{"errorCode": code.as_str(), "message": message}])),
    };
    let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
        return halted(
            StatusCode::BAD_REQUEST,
            ErrorCode::MethodNotAllowed,
            format!("unknown method {method}"),
        );
    };
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url, None),
    };
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let uri = match query {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    };
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = match Request::builder()
        .method(method)
        .uri(&uri)
        .header(header::AUTHORIZATION, authorization.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(bytes))
    {
        Ok(request) => request,
        Err(error) => {
            return halted(
                StatusCode::BAD_REQUEST,
                ErrorCode::NotFound,
                format!("bad url {url}: {error}"),
            );
        }
    };
    request.extensions_mut().insert(Subrequest);
    if let Some(work) = work {
        request.extensions_mut().insert(work.clone());
    }
    let Some(router) = state.router.get().cloned() else {
        return halted(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::UnknownException,
            "router not ready".into(),
        );
    };
    let response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let body = if bytes.is_empty() {
        None
    } else {
        serde_json::from_slice(&bytes).ok()
    };
    Answer {
        status,
        location,
        body,
    }
}

/// Replaces `@{ref.path}` references with values from earlier answers. A string that is one
/// whole reference takes the referenced JSON value (a number stays a number).
fn resolve(value: &JsonValue, answers: &HashMap<String, JsonValue>) -> Result<JsonValue, String> {
    Ok(match value {
        JsonValue::String(text) => resolve_text(text, answers, true)?,
        JsonValue::Array(items) => JsonValue::Array(
            items
                .iter()
                .map(|v| resolve(v, answers))
                .collect::<Result<_, _>>()?,
        ),
        JsonValue::Object(map) => JsonValue::Object(
            map.iter()
                .map(|(k, v)| resolve(v, answers).map(|v| (k.clone(), v)))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

fn resolve_text(
    text: &str,
    answers: &HashMap<String, JsonValue>,
    whole_value: bool,
) -> Result<JsonValue, String> {
    if !text.contains("@{") {
        return Ok(JsonValue::String(text.to_string()));
    }
    if whole_value
        && text.starts_with("@{")
        && text.ends_with('}')
        && text.matches("@{").count() == 1
    {
        return lookup(&text[2..text.len() - 1], answers);
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unterminated reference in {text}"))?;
        match lookup(&after[..end], answers)? {
            JsonValue::String(s) => out.push_str(&s),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(JsonValue::String(out))
}

/// `ref.a.b[0].c` in the answers.
fn lookup(reference: &str, answers: &HashMap<String, JsonValue>) -> Result<JsonValue, String> {
    let missing = || format!("Invalid reference specified. No value for {reference} found");
    let mut parts = reference.split('.');
    let first = parts.next().unwrap_or("");
    let (name, first_index) = split_index(first);
    let mut current = answers.get(name).ok_or_else(missing)?;
    if let Some(i) = first_index {
        current = current.get(i).ok_or_else(missing)?;
    }
    for part in parts {
        let (key, index) = split_index(part);
        current = current.get(key).ok_or_else(missing)?;
        if let Some(i) = index {
            current = current.get(i).ok_or_else(missing)?;
        }
    }
    Ok(current.clone())
}

/// `records[0]` → (`records`, Some(0)).
fn split_index(part: &str) -> (&str, Option<usize>) {
    match part.split_once('[') {
        Some((key, rest)) => (key, rest.trim_end_matches(']').parse().ok()),
        None => (part, None),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeBody {
    #[serde(default)]
    all_or_none: bool,
    #[serde(default)]
    #[allow(dead_code)]
    collate_subrequests: Option<bool>,
    composite_request: Vec<CompositeSubrequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeSubrequest {
    method: String,
    url: String,
    reference_id: String,
    body: Option<JsonValue>,
}

fn authorization(headers: &HeaderMap) -> Result<HeaderValue, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .cloned()
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidSessionId, "Session expired or invalid"))
}

fn halted_body() -> JsonValue {
    json!([{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}])
}

/// `POST /composite`.
pub async fn composite(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<CompositeBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(crate::sobjects::json_rejection)?;
    if body.composite_request.is_empty() || body.composite_request.len() > MAX_SUBREQUESTS {
        return Err(ApiError::new(
            ErrorCode::JsonParserError,
            format!("compositeRequest needs 1 to {MAX_SUBREQUESTS} subrequests"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for sub in &body.composite_request {
        if !seen.insert(sub.reference_id.as_str()) {
            return Err(ApiError::new(
                ErrorCode::JsonParserError,
                format!(
                    "Duplicate referenceId provided in the request: {}",
                    sub.reference_id
                ),
            ));
        }
        if !sub.url.starts_with("/services/data/") {
            return Err(ApiError::new(
                ErrorCode::JsonParserError,
                format!(
                    "The url of {} must start with /services/data/",
                    sub.reference_id
                ),
            ));
        }
    }
    let authorization = authorization(&headers)?;
    // All-or-none: the subrequests share one transaction (or the enclosing one).
    let work = match (&ctx.work, body.all_or_none) {
        (Some(outer), _) => Some(outer.clone()),
        (None, true) => Some(SharedWork(Arc::new(Mutex::new(
            ctx.app.begin_work().await?,
        )))),
        (None, false) => None,
    };
    let mut answers: HashMap<String, JsonValue> = HashMap::new();
    let mut responses: Vec<(String, Answer)> = Vec::new();
    let mut failed = false;
    for sub in &body.composite_request {
        if failed && body.all_or_none {
            responses.push((
                sub.reference_id.clone(),
                Answer {
                    status: StatusCode::BAD_REQUEST,
                    location: None,
                    body: Some(halted_body()),
                },
            ));
            continue;
        }
        let resolved = resolve_text(&sub.url, &answers, false).and_then(|url| {
            let body = sub
                .body
                .as_ref()
                .map(|b| resolve(b, &answers))
                .transpose()?;
            Ok((url, body))
        });
        let answer = match resolved {
            Ok((JsonValue::String(url), body)) => {
                dispatch(
                    &state,
                    &authorization,
                    &sub.method,
                    &url,
                    body.as_ref(),
                    work.as_ref(),
                )
                .await
            }
            Ok(_) => Answer {
                status: StatusCode::BAD_REQUEST,
                location: None,
                body: Some(halted_body()),
            },
            Err(message) => Answer {
                status: StatusCode::BAD_REQUEST,
                location: None,
                body: Some(json!([{"errorCode": "PROCESSING_HALTED", "message": message}])),
            },
        };
        if answer.status.is_client_error() || answer.status.is_server_error() {
            failed = true;
        } else if let Some(body) = &answer.body {
            answers.insert(sub.reference_id.clone(), body.clone());
        }
        responses.push((sub.reference_id.clone(), answer));
    }
    if body.all_or_none
        && ctx.work.is_none()
        && let Some(SharedWork(work)) = work
    {
        let work = Arc::try_unwrap(work)
            .map_err(|_| {
                ApiError::new(ErrorCode::UnknownException, "a subrequest is still running")
            })?
            .into_inner();
        if failed {
            drop(work);
            // What had succeeded was rolled back with the rest.
            for (_, answer) in responses.iter_mut().filter(|(_, a)| a.status.is_success()) {
                *answer = Answer {
                    status: StatusCode::BAD_REQUEST,
                    location: None,
                    body: Some(halted_body()),
                };
            }
        } else {
            work.commit().await?;
        }
    }
    let composite_response: Vec<JsonValue> = responses
        .into_iter()
        .map(|(reference, answer)| {
            let headers = match answer.location {
                Some(location) => json!({"Location": location}),
                None => json!({}),
            };
            json!({"body": answer.body, "httpHeaders": headers, "httpStatusCode": answer.status.as_u16(), "referenceId": reference})
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"compositeResponse": composite_response}),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchBody {
    #[serde(default)]
    halt_on_error: bool,
    batch_requests: Vec<BatchSubrequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchSubrequest {
    method: String,
    url: String,
    rich_input: Option<JsonValue>,
}

/// `POST /composite/batch`: independent subrequests, each in its own transaction.
pub async fn batch(
    ctx: Ctx,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<BatchBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(crate::sobjects::json_rejection)?;
    if body.batch_requests.is_empty() || body.batch_requests.len() > MAX_SUBREQUESTS {
        return Err(ApiError::new(
            ErrorCode::JsonParserError,
            format!("batchRequests needs 1 to {MAX_SUBREQUESTS} subrequests"),
        ));
    }
    let authorization = authorization(&headers)?;
    let mut has_errors = false;
    let mut results = Vec::new();
    for sub in &body.batch_requests {
        if has_errors && body.halt_on_error {
            results.push(json!({"statusCode": 412, "result": [{"errorCode": "BATCH_PROCESSING_HALTED", "message": "Batch processing halted per request"}]}));
            continue;
        }
        // Batch urls are relative to /services/data/ ("v59.0/sobjects/…").
        let url = if sub.url.starts_with('/') {
            sub.url.clone()
        } else {
            format!("/services/data/{}", sub.url)
        };
        let answer = dispatch(
            &state,
            &authorization,
            &sub.method,
            &url,
            sub.rich_input.as_ref(),
            ctx.work.as_ref(),
        )
        .await;
        has_errors |= answer.status.is_client_error() || answer.status.is_server_error();
        results.push(json!({"statusCode": answer.status.as_u16(), "result": answer.body}));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({"hasErrors": has_errors, "results": results}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_inside_values_and_strings() {
        let mut answers = HashMap::new();
        answers.insert(
            "acct".to_string(),
            json!({"id": "001R00000000001AAA", "success": true}),
        );
        answers.insert(
            "q".to_string(),
            json!({"records": [{"Id": "003x", "Amount": 5}]}),
        );
        let body = json!({"AccountId": "@{acct.id}", "Amount": "@{q.records[0].Amount}", "Note": "for @{acct.id}!"});
        let resolved = resolve(&body, &answers).unwrap();
        assert_eq!(
            resolved,
            json!({"AccountId": "001R00000000001AAA", "Amount": 5, "Note": "for 001R00000000001AAA!"})
        );
        let url = resolve_text(
            "/services/data/v59.0/sobjects/Account/@{acct.id}",
            &answers,
            false,
        )
        .unwrap();
        assert_eq!(
            url,
            json!("/services/data/v59.0/sobjects/Account/001R00000000001AAA")
        );
        assert!(resolve(&json!("@{nope.id}"), &answers).is_err());
        assert!(resolve(&json!("@{acct.id"), &answers).is_err());
    }
}
