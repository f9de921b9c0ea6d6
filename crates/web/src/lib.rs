//! HTTP: the Salesforce-compatible REST API (and, later, the UI). Speaks HTTP and JSON, calls
//! `app` for everything, builds no SQL.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

mod auth;
mod describe;
mod error;
mod oauth;
mod soap;
mod sobjects;
mod versions;

use std::future::Future;

use axum::Router;
use axum::routing::{get, post};
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
        .route("/services/oauth2/token", post(oauth::token))
        .route(
            "/services/oauth2/revoke",
            post(oauth::revoke).get(oauth::revoke),
        )
        .route(
            "/services/oauth2/userinfo",
            get(oauth::userinfo).post(oauth::userinfo),
        )
        .route("/id/{org}/{user}", get(oauth::identity))
        .route("/services/Soap/u/{version}", post(soap::login))
        .route("/services/data", get(versions::versions_list))
        .route("/services/data/", get(versions::versions_list))
        .route("/services/data/{version}", get(versions::resources_list))
        .route("/services/data/{version}/", get(versions::resources_list))
        .route(
            "/services/data/{version}/sobjects",
            get(sobjects::describe_global),
        )
        .route(
            "/services/data/{version}/sobjects/",
            get(sobjects::describe_global),
        )
        .route(
            "/services/data/{version}/sobjects/{object}",
            get(sobjects::sobject_info).merge(post(sobjects::sobject_create)),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/describe",
            get(sobjects::sobject_describe),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/describe/",
            get(sobjects::sobject_describe),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/{id}",
            get(sobjects::sobject_get)
                .patch(sobjects::sobject_update)
                .delete(sobjects::sobject_delete),
        )
        .fallback(error::not_found)
        .layer(axum::middleware::map_response(error::json_errors))
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
