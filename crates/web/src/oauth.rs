//! OAuth 2.0 and identity: `POST /services/oauth2/token` (password, refresh_token and
//! client_credentials grants), `/services/oauth2/revoke`, `/services/oauth2/userinfo`, and
//! the identity URL `/id/{orgId}/{userId}`. OAuth errors use OAuth's own JSON shape
//! (`{"error", "error_description"}`), as Salesforce does.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use app::auth::{Grant, OAuthError, hmac_sha256};
use app::{App, Caller};
use model::Value;

use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::{ApiError, json_response};

/// `http://host:port` of the request, as the client reached us (`X-Forwarded-Proto` honoured
/// behind a TLS proxy).
pub fn instance_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

fn identity_url(instance: &str, grant: &Grant) -> String {
    format!(
        "{instance}/id/{}/{}",
        grant.org_id.to_18(),
        grant.user_id.to_18()
    )
}

fn oauth_error(status: StatusCode, error: &OAuthError) -> Response {
    json_response(
        status,
        &json!({"error": error.error, "error_description": error.description}),
    )
}

/// The token response: what Salesforce answers.
pub fn grant_response(instance: &str, grant: &Grant) -> Response {
    let id = identity_url(instance, grant);
    let issued_at = (grant.issued_at.unix_timestamp_nanos() / 1_000_000).to_string();
    let signature = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(
        grant.signing_key.as_bytes(),
        format!("{id}{issued_at}").as_bytes(),
    ));
    let mut body = json!({
        "access_token": grant.access_token,
        "instance_url": instance,
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": signature,
        "scope": "api refresh_token",
    });
    if let (Some(refresh), serde_json::Value::Object(map)) = (&grant.refresh_token, &mut body) {
        map.insert("refresh_token".into(), json!(refresh));
    }
    json_response(StatusCode::OK, &body)
}

#[derive(Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
}

/// `client_id:client_secret` from HTTP Basic authentication, which the client-credentials
/// grant may use instead of form fields.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// The client's address, for the login history ("" when unknown: a request made in-process).
pub(crate) fn source(
    connect: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
) -> String {
    connect.map_or_else(String::new, |c| c.0.0.ip().to_string())
}

pub async fn token(
    State(state): State<AppState>,
    connect: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let bad = |description: &str| {
        oauth_error(
            StatusCode::BAD_REQUEST,
            &OAuthError {
                error: "invalid_request",
                description: description.into(),
            },
        )
    };
    let Ok(Form(request)) = form else {
        return Ok(bad("the body must be application/x-www-form-urlencoded"));
    };
    let basic = basic_credentials(&headers);
    let client_id = request
        .client_id
        .clone()
        .or_else(|| basic.as_ref().map(|b| b.0.clone()));
    let client_secret = request
        .client_secret
        .clone()
        .or_else(|| basic.as_ref().map(|b| b.1.clone()));
    let Some(client_id) = client_id else {
        return Ok(bad("client_id is missing"));
    };
    let outcome = match request.grant_type.as_deref() {
        Some("password") => {
            let (Some(username), Some(password)) =
                (request.username.as_deref(), request.password.as_deref())
            else {
                return Ok(bad("username and password are required"));
            };
            state
                .app
                .oauth_password(
                    &client_id,
                    client_secret.as_deref(),
                    username,
                    password,
                    &source(connect),
                )
                .await?
        }
        Some("refresh_token") => {
            let Some(refresh) = request.refresh_token.as_deref() else {
                return Ok(bad("refresh_token is missing"));
            };
            state
                .app
                .oauth_refresh(&client_id, client_secret.as_deref(), refresh)
                .await?
        }
        Some("client_credentials") => {
            let Some(secret) = client_secret.as_deref() else {
                return Ok(bad("client_secret is missing"));
            };
            state
                .app
                .oauth_client_credentials(&client_id, secret)
                .await?
        }
        Some(other) => {
            let error = OAuthError {
                error: "unsupported_grant_type",
                description: format!("grant type not supported: {other}"),
            };
            return Ok(oauth_error(StatusCode::BAD_REQUEST, &error));
        }
        None => return Ok(bad("grant_type is missing")),
    };
    Ok(match outcome {
        Ok(grant) => grant_response(&instance_url(&headers), &grant),
        Err(error) => oauth_error(StatusCode::BAD_REQUEST, &error),
    })
}

#[derive(Deserialize)]
pub struct RevokeRequest {
    token: Option<String>,
}

/// Revokes an access or refresh token: 200 with an empty body, as Salesforce answers.
pub async fn revoke(
    State(state): State<AppState>,
    query: axum::extract::Query<RevokeRequest>,
    form: Result<Form<RevokeRequest>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let token = form
        .ok()
        .and_then(|Form(f)| f.token)
        .or_else(|| query.0.token.clone());
    let Some(token) = token else {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            &OAuthError {
                error: "invalid_request",
                description: "token is missing".into(),
            },
        ));
    };
    if !state.app.revoke_token(&token).await? {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            &OAuthError {
                error: "invalid_token",
                description: "invalid token".into(),
            },
        ));
    }
    Ok(StatusCode::OK.into_response())
}

/// The signed-in user as identity and userinfo report them.
async fn user_json(
    app: &App,
    caller: &Caller,
    instance: &str,
) -> Result<serde_json::Value, ApiError> {
    let user_id = caller.user_id.clone().ok_or_else(|| {
        ApiError::new(
            model::ErrorCode::InvalidSessionId,
            "Session expired or invalid",
        )
    })?;
    let fields: Vec<String> = [
        "Username",
        "Email",
        "FirstName",
        "LastName",
        "Name",
        "LanguageLocaleKey",
        "LocaleSidKey",
        "TimeZoneSidKey",
        "IsActive",
        "LastModifiedDate",
    ]
    .map(String::from)
    .to_vec();
    let user = app
        .get(caller, "User", &user_id.to_18(), Some(&fields))
        .await?;
    let org = app.org_settings().await?;
    let text = |name: &str| {
        user.get(name)
            .and_then(Value::as_text)
            .unwrap_or_default()
            .to_string()
    };
    let id = format!("{instance}/id/{}/{}", org.id.to_18(), user_id.to_18());
    let base = format!("{instance}/services/data/v{{version}}");
    Ok(json!({
        "id": id,
        "sub": id,
        "asserted_user": true,
        "user_id": user_id.to_18(),
        "organization_id": org.id.to_18(),
        "username": text("Username"),
        "preferred_username": text("Username"),
        "nick_name": text("Username").split('@').next().unwrap_or_default(),
        "display_name": text("Name"),
        "name": text("Name"),
        "given_name": text("FirstName"),
        "family_name": text("LastName"),
        "email": text("Email"),
        "email_verified": true,
        "active": user.get("IsActive") == Some(&Value::Bool(true)),
        "user_type": "STANDARD",
        "language": text("LanguageLocaleKey"),
        "locale": text("LocaleSidKey"),
        "zoneinfo": text("TimeZoneSidKey"),
        "utcOffset": 0,
        "last_modified_date": user.get("LastModifiedDate").map(Value::to_json),
        "is_app_installed": true,
        "urls": {
            "enterprise": format!("{instance}/services/Soap/c/{{version}}/{}", org.id.as_str15()),
            "partner": format!("{instance}/services/Soap/u/{{version}}/{}", org.id.as_str15()),
            "rest": format!("{base}/"),
            "sobjects": format!("{base}/sobjects/"),
            "query": format!("{base}/query/"),
            "search": format!("{base}/search/"),
            "recent": format!("{base}/recent/"),
            "profile": format!("{instance}/{}", user_id.to_18()),
        },
    }))
}

pub async fn userinfo(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let body = user_json(&state.app, &caller, &instance_url(&headers)).await?;
    Ok(json_response(StatusCode::OK, &body))
}

/// The identity URL: only the token's own user may read it.
pub async fn identity(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    headers: HeaderMap,
    Path((_org, user)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let own = caller
        .user_id
        .as_ref()
        .is_some_and(|id| model::RecordId::parse(&user).is_ok_and(|u| &u == id));
    if !own {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            errors: vec![model::RecordError::new(
                model::ErrorCode::InsufficientAccessOrReadonly,
                "Bad_Id",
            )],
        });
    }
    let body = user_json(&state.app, &caller, &instance_url(&headers)).await?;
    Ok(json_response(StatusCode::OK, &body))
}
