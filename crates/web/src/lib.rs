//! HTTP: the Salesforce-compatible REST API (and, later, the UI). Speaks HTTP and JSON, calls
//! `app` for everything, builds no SQL.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

mod auth;
mod collections;
mod composite;
mod describe;
mod error;
mod forecast;
mod leads;
mod limits;
mod mass;
mod oauth;
mod query;
pub mod routes;
mod search;
mod soap;
mod sobjects;
mod sync;
mod ui;
mod versions;

use std::future::Future;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::Request;
use axum::http::header::HeaderName;
use axum::response::Response;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

pub use error::ApiError;
pub use limits::LimitSettings;

/// The state every handler sees.
#[derive(Clone)]
pub struct AppState {
    pub app: app::App,
    pub limits: Arc<limits::Limits>,
    /// The router itself, for `/composite` to send subrequests through.
    router: Arc<OnceLock<Router>>,
}

/// All routes, with their middleware.
pub fn router(app: app::App, settings: LimitSettings) -> Router {
    let state = AppState {
        app,
        limits: Arc::new(limits::Limits::new(settings)),
        router: Arc::new(OnceLock::new()),
    };
    let router = routes::router()
        .merge(ui::router())
        .fallback(error::not_found)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            settings.max_body_bytes,
        ))
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            usage_header,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        .with_state(state.clone());
    let _ = state.router.set(router.clone());
    router
}

/// `Sforce-Limit-Info` on every answer, as clients read it.
async fn usage_header(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut response: Response,
) -> Response {
    response.headers_mut().insert(
        HeaderName::from_static("sforce-limit-info"),
        state.limits.usage_header(),
    );
    response
}

/// Serves until `shutdown` resolves, then finishes the requests in flight. A trailing slash
/// never changes the answer (simple-salesforce sends `…/sobjects/Account/`).
pub async fn serve(
    app: app::App,
    listener: TcpListener,
    settings: LimitSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = NormalizePathLayer::trim_trailing_slash().layer(router(app, settings));
    // The peer's address reaches handlers (the login history records it).
    let service = axum::ServiceExt::<Request>::into_make_service_with_connect_info::<
        std::net::SocketAddr,
    >(service);
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}
