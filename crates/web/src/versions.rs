//! `GET /services/data/` (the API versions), `GET /services/data/vNN.N/` (the resources of a
//! version) and the health check.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use model::ErrorCode;

use crate::AppState;
use crate::error::{ApiError, json_response};

/// The versions Rapport answers to; all behave alike.
pub const OLDEST: u32 = 42;
pub const NEWEST: u32 = 62;

/// Salesforce's release name of an API version: v42.0 was Spring '18, three releases a year.
fn release_label(major: u32) -> String {
    let index = major - OLDEST;
    let season = ["Spring", "Summer", "Winter"][(index % 3) as usize];
    format!("{season} '{:02}", 18 + (index + 1) / 3)
}

/// Parses `v59.0` (also `59.0`, `latest`) into a major version Rapport serves.
pub fn parse_version(segment: &str) -> Option<u32> {
    if segment.eq_ignore_ascii_case("latest") {
        return Some(NEWEST);
    }
    let number = segment.strip_prefix('v').unwrap_or(segment);
    let (major, minor) = number.split_once('.')?;
    let major: u32 = major.parse().ok()?;
    (minor == "0" && (OLDEST..=NEWEST).contains(&major)).then_some(major)
}

pub async fn versions_list() -> Response {
    let versions: Vec<serde_json::Value> = (OLDEST..=NEWEST)
        .map(|v| json!({"label": release_label(v), "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0")}))
        .collect();
    json_response(StatusCode::OK, &serde_json::Value::Array(versions))
}

pub async fn resources_list(Path(version): Path<String>) -> Result<Response, ApiError> {
    let major = parse_version(&version).ok_or_else(|| {
        ApiError::new(ErrorCode::NotFound, "The requested resource does not exist")
    })?;
    let base = format!("/services/data/v{major}.0");
    // Only what is implemented: clients discover resources here.
    let body = json!({
        "sobjects": format!("{base}/sobjects"),
        "query": format!("{base}/query"),
        "queryAll": format!("{base}/queryAll"),
        "composite": format!("{base}/composite"),
        "limits": format!("{base}/limits"),
    });
    Ok(json_response(StatusCode::OK, &body))
}

/// Healthy when the database answers.
pub async fn health(State(state): State<AppState>) -> Response {
    match state.app.store().schema_version().await {
        Ok(version) => json_response(
            StatusCode::OK,
            &json!({"status": "ok", "schemaVersion": version}),
        ),
        Err(error) => {
            tracing::error!(%error, "health check failed");
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({"status": "unavailable"}),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_their_release_names() {
        assert_eq!(release_label(42), "Spring '18");
        assert_eq!(release_label(50), "Winter '21");
        assert_eq!(release_label(59), "Winter '24");
        assert_eq!(release_label(60), "Spring '24");
        assert_eq!(parse_version("v59.0"), Some(59));
        assert_eq!(parse_version("latest"), Some(62));
        assert_eq!(parse_version("v41.0"), None);
        assert_eq!(parse_version("v59.1"), None);
        assert_eq!(parse_version("vx"), None);
    }
}
