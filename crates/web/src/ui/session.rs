//! The UI's session cookie and CSRF protection. Every page behind sign-in takes a
//! [`Signed`] (no session: to the login page); every state-changing form is read through
//! [`Checked`], which refuses it (403) unless it carries the session's CSRF token and, when
//! the browser names an origin, comes from this site.

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::pages;
use crate::AppState;

/// The session cookie: an opaque random id (its hash is in the database).
pub const SESSION_COOKIE: &str = "rapport_session";
/// Before sign-in there is no session to hold a CSRF token: the login form's token is
/// also set as this cookie, and the two must match (a double-submit token).
pub const LOGIN_CSRF_COOKIE: &str = "rapport_login_csrf";

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// `Set-Cookie` for a cookie only the server reads: HttpOnly, SameSite, whole-site path,
/// `Secure` when the request came over HTTPS (directly or through a proxy that says so).
pub fn set_cookie(
    headers: &HeaderMap,
    name: &str,
    value: &str,
    same_site: SameSite,
) -> HeaderValue {
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let cookie = Cookie::build((name, value))
        .http_only(true)
        .same_site(same_site)
        .path("/")
        .secure(secure)
        .build();
    header_value(&cookie.to_string())
}

/// `Set-Cookie` that removes a cookie.
pub fn clear_cookie(name: &str) -> HeaderValue {
    let mut cookie = Cookie::build((name, "")).path("/").http_only(true).build();
    cookie.make_removal();
    header_value(&cookie.to_string())
}

fn header_value(text: &str) -> HeaderValue {
    // Cookie values here are our own random text: always a valid header.
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether a state-changing request may come from where it says it comes from: a browser
/// sends `Origin` on a cross-site POST; when it does, it must be this host.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin_host = origin
        .split_once("://")
        .map_or(origin, |(_, rest)| rest)
        .trim_end_matches('/');
    origin_host.eq_ignore_ascii_case(host)
}

/// A request from a signed-in user: the session and its cookie's id.
pub struct Signed {
    pub session: app::sessions::Session,
    pub id: String,
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || Redirect::to("/login?ended=1").into_response();
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to("/login").into_response());
        };
        match state.app.session(&id).await {
            Ok(Some(session)) => Ok(Signed { session, id }),
            Ok(None) => Err(to_login()),
            Err(error) => Err(pages::server_error(&error)),
        }
    }
}

/// A form with the CSRF token that must come with it.
#[derive(Deserialize)]
struct WithToken<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: T,
}

/// A state-changing form from a signed-in user, its CSRF token and origin checked.
pub struct Checked<T> {
    pub signed: Signed,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Checked<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let lang = signed.session.caller.lang;
        if !same_origin(&parts.headers) {
            return Err(pages::forbidden(lang));
        }
        let request = Request::from_parts(parts, body);
        let Form(WithToken { csrf, form }) = Form::<WithToken<T>>::from_request(request, state)
            .await
            .map_err(|_| (StatusCode::BAD_REQUEST, "the form could not be read").into_response())?;
        if !tokens_match(&csrf, &signed.session.csrf_token) {
            return Err(pages::forbidden(lang));
        }
        Ok(Checked { signed, form })
    }
}

/// Compares tokens in time independent of where they differ.
pub fn tokens_match(given: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    if expected.is_empty() {
        return false;
    }
    // Hashing first makes the comparison length-independent as well.
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given
        .iter()
        .zip(expected.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}
