//! The route table: every endpoint once, with its summary and an example. The router, the
//! OpenAPI document (`/services/data/openapi.json`) and the human page (`/services/data/docs`)
//! are all generated from it, so they cannot drift apart.

use std::collections::BTreeMap;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post};
use serde_json::{Value as JsonValue, json};

use crate::error::json_response;
use crate::{
    AppState, collections, composite, forecast, leads, limits, mass, oauth, query, search, soap,
    sobjects, sync, versions,
};

/// One endpoint.
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// Needs `Authorization: Bearer TOKEN`.
    pub auth: bool,
    /// An example request body (JSON, or a form for OAuth).
    pub example: Option<&'static str>,
    pub route: fn() -> MethodRouter<AppState>,
}

const V: &str = "/services/data/{version}";

macro_rules! endpoints {
    ($($method:literal $path:expr, $auth:literal, $summary:literal, $example:expr, $route:expr;)*) => {
        /// Every endpoint of the API.
        pub const ENDPOINTS: &[Endpoint] = &[
            $(Endpoint { method: $method, path: $path, summary: $summary, auth: $auth, example: $example, route: || $route },)*
        ];
    };
}

endpoints! {
    "GET" "/healthz", false, "Health: 200 when the database answers.", None, get(versions::health);
    "GET" "/services/data", false, "The API versions served (42.0 to 62.0, all alike).", None, get(versions::versions_list);
    "GET" "/services/data/openapi.json", false, "This API as an OpenAPI 3 document.", None, get(openapi);
    "GET" "/services/data/docs", false, "This API as a page, with curl examples.", None, get(docs);
    "GET" V, false, "The resources of a version.", None, get(versions::resources_list);
    "POST" "/services/oauth2/token", false, "OAuth 2.0 token: password, refresh_token and client_credentials grants.",
        Some("grant_type=password&client_id=ID&client_secret=SECRET&username=you@example.com&password=PASSWORD"), post(oauth::token);
    "POST" "/services/oauth2/revoke", false, "Revokes an access or refresh token.", Some("token=TOKEN"), post(oauth::revoke);
    "GET" "/services/oauth2/revoke", false, "Revokes an access or refresh token (?token=).", None, get(oauth::revoke);
    "GET" "/services/oauth2/userinfo", true, "The signed-in user (OpenID Connect userinfo).", None, get(oauth::userinfo);
    "POST" "/services/oauth2/userinfo", true, "The signed-in user (OpenID Connect userinfo).", None, post(oauth::userinfo);
    "GET" "/id/{org}/{user}", true, "The identity URL of the signed-in user.", None, get(oauth::identity);
    "POST" "/services/Soap/u/{version}", false, "SOAP login(): username and password in, session id and server URL out.",
        Some("<Envelope><Body><login><username>you@example.com</username><password>PASSWORD</password></login></Body></Envelope>"), post(soap::login);
    "GET" "/services/data/{version}/sobjects", true, "Describe global: every object.", None, get(sobjects::describe_global);
    "GET" "/services/data/{version}/sobjects/{object}", true, "An object's basic information.", None, get(sobjects::sobject_info);
    "POST" "/services/data/{version}/sobjects/{object}", true, "Creates a record.", Some(r#"{"Name": "Acme"}"#), post(sobjects::sobject_create);
    "GET" "/services/data/{version}/sobjects/{object}/describe", true, "Describes an object: fields, picklists, relationships.", None, get(sobjects::sobject_describe);
    "GET" "/services/data/{version}/sobjects/{object}/updated", true, "Ids of records changed between start and end.", None, get(sync::updated);
    "GET" "/services/data/{version}/sobjects/{object}/deleted", true, "Records deleted between start and end.", None, get(sync::deleted);
    "GET" "/services/data/{version}/sobjects/{object}/{id}", true, "Reads a record (?fields=A,B).", None, get(sobjects::sobject_get);
    "POST" "/services/data/{version}/sobjects/{object}/{id}", true, "Creates a record through /sobjects/{object}/Id.", Some(r#"{"Name": "Acme"}"#), post(sobjects::sobject_create_by_id);
    "PATCH" "/services/data/{version}/sobjects/{object}/{id}", true, "Updates a record (If-Unmodified-Since guards a stale read).", Some(r#"{"Phone": "+86 21 5555 0000"}"#), patch(sobjects::sobject_update);
    "DELETE" "/services/data/{version}/sobjects/{object}/{id}", true, "Deletes a record to the recycle bin.", None, delete(sobjects::sobject_delete);
    "GET" "/services/data/{version}/sobjects/{object}/{id}/{relationship}", true, "Child records of a record (/Account/ID/Contacts), or a record by external id (/Account/Ext__c/VALUE).", None, get(sobjects::sobject_get_related_or_by_external_id);
    "PATCH" "/services/data/{version}/sobjects/{object}/{id}/{relationship}", true, "Upsert by external id: 201 created, 200 updated, 300 several matches.", Some(r#"{"Name": "Acme"}"#), patch(sobjects::sobject_upsert);
    "DELETE" "/services/data/{version}/sobjects/{object}/{id}/{relationship}", true, "Deletes a record found by external id.", None, delete(sobjects::sobject_delete_by_external_id);
    "POST" "/services/data/{version}/composite/sobjects", true, "Creates up to 200 records (allOrNone).", Some(r#"{"allOrNone": false, "records": [{"attributes": {"type": "Account"}, "Name": "A"}]}"#), post(collections::collection_create);
    "PATCH" "/services/data/{version}/composite/sobjects", true, "Updates up to 200 records (allOrNone).", Some(r#"{"allOrNone": false, "records": [{"attributes": {"type": "Account"}, "id": "001…", "Name": "B"}]}"#), patch(collections::collection_update);
    "DELETE" "/services/data/{version}/composite/sobjects", true, "Deletes up to 200 records (?ids=a,b&allOrNone=true).", None, delete(collections::collection_delete);
    "GET" "/services/data/{version}/composite/sobjects/{object}", true, "Reads records by id (?ids=a,b&fields=Name).", None, get(collections::collection_retrieve_get);
    "POST" "/services/data/{version}/composite/sobjects/{object}", true, "Reads records by id.", Some(r#"{"ids": ["001…"], "fields": ["Name"]}"#), post(collections::collection_retrieve_post);
    "PATCH" "/services/data/{version}/composite/sobjects/{object}/{field}", true, "Upserts up to 200 records by external id.", Some(r#"{"allOrNone": false, "records": [{"attributes": {"type": "Account"}, "Ext__c": "A-1", "Name": "A"}]}"#), patch(collections::collection_upsert);
    "POST" "/services/data/{version}/composite", true, "Up to 25 subrequests with @{ref.field} references; allOrNone runs them in one transaction.",
        Some(r#"{"allOrNone": true, "compositeRequest": [{"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "acct", "body": {"Name": "A"}}, {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "con", "body": {"LastName": "B", "AccountId": "@{acct.id}"}}]}"#),
        post(composite::composite);
    "POST" "/services/data/{version}/composite/batch", true, "Up to 25 independent subrequests.", Some(r#"{"haltOnError": false, "batchRequests": [{"method": "GET", "url": "v59.0/sobjects/Account/describe"}]}"#), post(composite::batch);
    "GET" "/services/data/{version}/query", true, "Runs a SOQL query (?q=SELECT …); pages of up to 2,000 rows.", None, get(query::query);
    "GET" "/services/data/{version}/queryAll", true, "Runs a SOQL query including recycle-bin records.", None, get(query::query_all);
    "GET" "/services/data/{version}/query/{locator}", true, "The next page of a query (its nextRecordsUrl).", None, get(query::query_more);
    "GET" "/services/data/{version}/search", true, "Runs a SOSL search (?q=FIND {term} IN ALL FIELDS RETURNING Account(Id, Name), Contact); Chinese text is found without spaces.", None, get(search::search);
    "GET" "/services/data/{version}/limits", true, "API limits and what is left of them.", None, get(limits::limits);
    "POST" "/services/data/{version}/rapport/leads/{id}/convert", true, "Converts a lead: a new or existing account and contact, an optional opportunity; one transaction.",
        Some(r#"{"convertedStatus": "Closed - Converted", "accountId": null, "contactId": null, "doNotCreateOpportunity": false, "opportunityName": "Acme deal", "ownerId": null}"#), post(leads::convert_one);
    "POST" "/services/data/{version}/rapport/leads/convert", true, "Converts up to 200 leads, each all or nothing; one result per lead.",
        Some(r#"{"leads": [{"leadId": "00Q…", "convertedStatus": "Closed - Converted"}]}"#), post(leads::convert_many);
    "GET" "/services/data/{version}/rapport/leads/{id}/matches", true, "Existing accounts and contacts to offer before converting a lead.", None, get(leads::matches);
    "POST" "/services/data/{version}/rapport/merge", true, "Merges one or two duplicate accounts, contacts or leads into a master: it takes the values given, what pointed at the others points at it, and they go to the recycle bin with MasterRecordId set. All or nothing.",
        Some(r#"{"masterRecord": {"Id": "001…", "Phone": "+86 10 5555 0100"}, "recordToMergeIds": ["001…"]}"#), post(mass::merge);
    "POST" "/services/data/{version}/rapport/transfer", true, "Gives up to 10,000 records a new owner, with the open tasks and future events their previous owner held on them (an account's contacts too, and its open opportunities if asked); one result per record.",
        Some(r#"{"ids": ["001…"], "ownerId": "005…", "transferOpenOpportunities": false}"#), post(mass::transfer);
    "GET" "/services/data/{version}/rapport/forecast", true, "A period's forecast (default: the current fiscal quarter; ?period=2026-Q4 or 2026-11), per owner (the caller and the users below them, or ?ownerId= / ?roleId=): sums by forecast category beside quotas.", None, get(forecast::forecast);
}

/// The router for every endpoint of the table.
pub fn router() -> Router<AppState> {
    let mut by_path: BTreeMap<&str, MethodRouter<AppState>> = BTreeMap::new();
    for endpoint in ENDPOINTS {
        let route = (endpoint.route)();
        let merged = match by_path.remove(endpoint.path) {
            Some(existing) => existing.merge(route),
            None => route,
        };
        by_path.insert(endpoint.path, merged);
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, route)| {
            router.route(path, route)
        })
}

/// The `{name}` parameters of a path.
fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// The OpenAPI 3 document.
pub fn openapi_document() -> JsonValue {
    let mut paths = serde_json::Map::new();
    for endpoint in ENDPOINTS {
        let parameters: Vec<JsonValue> = path_parameters(endpoint.path)
            .into_iter()
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "example": if name == "version" { "v59.0" } else { "" }}))
            .collect();
        let mut operation = json!({
            "summary": endpoint.summary,
            "operationId": format!("{}_{}", endpoint.method.to_ascii_lowercase(), endpoint.path.trim_matches('/').replace(['/', '{', '}', '.'], "_")),
            "parameters": parameters,
            "responses": {
                "200": {"description": "Success", "content": {"application/json": {}}},
                "4XX": {"description": "Salesforce error array", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
            },
        });
        if let (Some(example), JsonValue::Object(map)) = (endpoint.example, &mut operation) {
            let content_type = if endpoint.path.contains("oauth2") {
                "application/x-www-form-urlencoded"
            } else if endpoint.path.contains("Soap") {
                "text/xml"
            } else {
                "application/json"
            };
            let example: JsonValue =
                serde_json::from_str(example).unwrap_or(JsonValue::String(example.to_string()));
            map.insert(
                "requestBody".into(),
                json!({"content": {content_type: {"example": example}}}),
            );
        }
        if let (true, JsonValue::Object(map)) = (endpoint.auth, &mut operation) {
            map.insert("security".into(), json!([{"bearer": []}]));
        }
        let item = paths
            .entry(endpoint.path.to_string())
            .or_insert_with(|| json!({}));
        if let JsonValue::Object(item) = item {
            item.insert(endpoint.method.to_ascii_lowercase(), operation);
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Rapport REST API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "A Salesforce-compatible REST API. Record paths, JSON shapes, status codes and error codes follow Salesforce's."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Errors": {"type": "array", "items": {"type": "object", "properties": {
                "message": {"type": "string"}, "errorCode": {"type": "string"}, "fields": {"type": "array", "items": {"type": "string"}}}}}},
        },
    })
}

async fn openapi() -> Response {
    json_response(StatusCode::OK, &openapi_document())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A curl command for an endpoint, against a local server.
fn curl(endpoint: &Endpoint) -> String {
    let path = endpoint
        .path
        .replace("{version}", "v59.0")
        .replace("{object}", "Account");
    let mut command = format!("curl -X {} 'http://127.0.0.1:8080{path}'", endpoint.method);
    if endpoint.auth {
        command.push_str(" -H \"Authorization: Bearer $TOKEN\"");
    }
    if let Some(example) = endpoint.example {
        if endpoint.path.contains("oauth2") {
            command.push_str(&format!(" -d '{example}'"));
        } else if endpoint.path.contains("Soap") {
            command.push_str(&format!(" -H 'Content-Type: text/xml' -d '{example}'"));
        } else {
            command.push_str(&format!(
                " -H 'Content-Type: application/json' -d '{example}'"
            ));
        }
    }
    command
}

async fn docs() -> Response {
    let mut rows = String::new();
    for endpoint in ENDPOINTS {
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}{}</td></tr><tr class=\"curl\"><td colspan=\"3\"><pre>{}</pre></td></tr>\n",
            escape(endpoint.method),
            escape(endpoint.path),
            escape(endpoint.summary),
            if endpoint.auth { " <em>(bearer token)</em>" } else { "" },
            escape(&curl(endpoint)),
        ));
    }
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Rapport API</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:2rem;max-width:70rem}}td{{padding:.3rem .6rem;vertical-align:top}}\
         tr.curl pre{{margin:0 0 .8rem;background:#f4f5f7;padding:.4rem;overflow-x:auto}}</style></head><body>\
         <h1>Rapport REST API</h1><p>Salesforce-compatible. Get a token with <code>rapport token --user EMAIL</code> or the OAuth \
         token endpoint; the machine-readable form is <a href=\"/services/data/openapi.json\">openapi.json</a>.</p>\
         <table>{rows}</table></body></html>"
    );
    let mut response = (StatusCode::OK, page).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}
