//! The web UI: server-rendered pages from compiled, auto-escaping templates (`templates/`),
//! one stylesheet, words from one catalogue in English and Chinese. A second client of
//! `app`, beside the REST API: every rule it applies is `app`'s.

mod board;
mod context;
mod convert;
mod fields;
mod forecast;
mod form;
mod format;
mod home;
mod list;
mod pages;
mod record;
mod recycle;
mod search;
mod session;
mod view;
mod words;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

/// A static file served under a name with its content's hash, so that it is cached for good.
struct Asset {
    name: &'static str,
    extension: &'static str,
    content_type: &'static str,
    body: &'static str,
    path: std::sync::OnceLock<String>,
}

impl Asset {
    /// `/static/<name>-<hash>.<extension>`.
    fn path(&self) -> &str {
        self.path.get_or_init(|| {
            use sha2::{Digest, Sha256};
            let hash = Sha256::digest(self.body.as_bytes());
            let short: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
            format!("/static/{}-{short}.{}", self.name, self.extension)
        })
    }
}

static ASSETS: [Asset; 2] = [
    Asset {
        name: "app",
        extension: "css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../static/app.css"),
        path: std::sync::OnceLock::new(),
    },
    Asset {
        name: "app",
        extension: "js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/app.js"),
        path: std::sync::OnceLock::new(),
    },
];

/// The stylesheet's path.
pub fn stylesheet_path() -> &'static str {
    ASSETS[0].path()
}

/// The script's path.
pub fn script_path() -> &'static str {
    ASSETS[1].path()
}

async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let wanted = format!("/static/{name}");
    let Some(asset) = ASSETS.iter().find(|a| a.path() == wanted) else {
        return (axum::http::StatusCode::NOT_FOUND, "no such file").into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        asset.body,
    )
        .into_response()
}

/// The UI's routes.
pub fn router() -> Router<AppState> {
    use axum::routing::post;
    Router::new()
        .route("/", get(home::home))
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/logout", post(pages::logout))
        .route(
            "/settings",
            get(pages::settings_page).post(pages::save_settings),
        )
        .route("/settings/password", post(pages::change_password))
        .route("/search", get(search::search))
        .route("/lookup", get(form::lookup))
        .route("/forecast", get(forecast::forecast))
        .route("/o/Opportunity/board", get(board::board))
        .route("/o/{object}", get(list::list))
        .route("/o/{object}/export.csv", get(list::export))
        .route("/o/{object}/mass", post(list::mass_action))
        .route("/o/{object}/views", post(list::save_view))
        .route("/o/{object}/views/{id}/delete", post(list::delete_view))
        .route("/recycle-bin", get(recycle::recycle_bin))
        .route("/r/{id}/undelete", post(recycle::undelete))
        .route("/o/{object}/new", get(form::new_form).post(form::create))
        .route("/r/{id}", get(record::record))
        .route("/r/{id}/edit", get(form::edit_form).post(form::save))
        .route("/r/{id}/set", post(record::set_field))
        .route("/r/{id}/sharing", get(record::sharing).post(record::share))
        .route("/r/{id}/activity", post(record::add_activity))
        .route("/r/{id}/delete", post(record::delete))
        .route(
            "/r/{id}/convert",
            get(convert::convert_form).post(convert::convert),
        )
        .route("/static/{name}", get(asset))
}
