//! HTTP: the Salesforce-compatible REST API (and, later, the UI). Speaks HTTP and JSON, calls
//! `app` for everything, builds no SQL.
#![forbid(unsafe_code)]

mod error;
mod versions;

use std::future::Future;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;

pub use error::ApiError;

/// The state every handler sees.
#[derive(Clone)]
pub struct AppState {
    pub app: app::App,
}

/// All routes.
pub fn router(app: app::App) -> Router {
    Router::new()
        .route("/healthz", get(versions::health))
        .route("/services/data", get(versions::versions_list))
        .route("/services/data/", get(versions::versions_list))
        .route("/services/data/{version}", get(versions::resources_list))
        .route("/services/data/{version}/", get(versions::resources_list))
        .fallback(error::not_found)
        .with_state(AppState { app })
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    app: app::App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await
}
