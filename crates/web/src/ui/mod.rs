//! The web UI: server-rendered pages from compiled, auto-escaping templates (`templates/`),
//! one stylesheet, words from one catalogue in English and Chinese. A second client of
//! `app`, beside the REST API: every rule it applies is `app`'s.

mod pages;
mod session;
mod words;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

/// The stylesheet, named by a hash of its content so that it can be cached for good.
const STYLESHEET: &str = include_str!("../../static/app.css");

/// `/static/app-<hash>.css`.
pub fn stylesheet_path() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        use sha2::{Digest, Sha256};
        let hash = Sha256::digest(STYLESHEET.as_bytes());
        let short: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
        format!("/static/app-{short}.css")
    })
}

async fn stylesheet(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    if format!("/static/{name}") != stylesheet_path() {
        return (axum::http::StatusCode::NOT_FOUND, "no such file").into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// The UI's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/logout", axum::routing::post(pages::logout))
        .route(
            "/settings",
            get(pages::settings_page).post(pages::save_settings),
        )
        .route(
            "/settings/password",
            axum::routing::post(pages::change_password),
        )
        .route("/static/{name}", get(stylesheet))
}
