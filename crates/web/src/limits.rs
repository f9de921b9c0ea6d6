//! Request limits: a per-token rate limit (token bucket; 429 `REQUEST_LIMIT_EXCEEDED`), the
//! daily API request count reported by `GET /limits` and on every API answer as
//! `Sforce-Limit-Info: api-usage=USED/MAX`. Counts are kept per process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;

use model::ErrorCode;

use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::{ApiError, json_response};

/// The limits a server enforces.
#[derive(Debug, Clone, Copy)]
pub struct LimitSettings {
    /// Sustained API requests per second per token (0: no limit).
    pub requests_per_second: u32,
    /// API requests a day (reported; beyond it requests are refused).
    pub daily_requests: u64,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
}

impl Default for LimitSettings {
    fn default() -> LimitSettings {
        LimitSettings {
            requests_per_second: 0,
            daily_requests: 5_000_000,
            max_body_bytes: 20 * 1024 * 1024,
        }
    }
}

struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// The counters of one server process.
pub struct Limits {
    pub settings: LimitSettings,
    buckets: Mutex<HashMap<String, Bucket>>,
    day: Mutex<(i64, u64)>,
    used_today: AtomicU64,
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Limits {
        Limits {
            settings,
            buckets: Mutex::new(HashMap::new()),
            day: Mutex::new((0, 0)),
            used_today: AtomicU64::new(0),
        }
    }

    /// Counts one API request by `token`; refuses it when the token is over its rate or the
    /// day's allowance is spent.
    pub fn admit(&self, token: &str) -> Result<(), ApiError> {
        let today = time::OffsetDateTime::now_utc().unix_timestamp() / 86_400;
        {
            let mut day = match self.day.lock() {
                Ok(day) => day,
                Err(poisoned) => poisoned.into_inner(),
            };
            if day.0 != today {
                *day = (today, 0);
                self.used_today.store(0, Ordering::Relaxed);
            }
            day.1 += 1;
            self.used_today.store(day.1, Ordering::Relaxed);
            if day.1 > self.settings.daily_requests {
                return Err(exceeded("TotalRequests Limit exceeded."));
            }
        }
        let rate = f64::from(self.settings.requests_per_second);
        if rate == 0.0 {
            return Ok(());
        }
        let mut buckets = match self.buckets.lock() {
            Ok(buckets) => buckets,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() > 100_000 {
            buckets.clear();
        }
        let now = Instant::now();
        // A burst of up to one second's worth of requests.
        let bucket = buckets.entry(token.to_string()).or_insert(Bucket {
            tokens: rate,
            refilled: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.refilled).as_secs_f64() * rate).min(rate);
        bucket.refilled = now;
        if bucket.tokens < 1.0 {
            return Err(exceeded(&format!(
                "Request rate limit exceeded: at most {} requests per second per token",
                self.settings.requests_per_second
            )));
        }
        bucket.tokens -= 1.0;
        Ok(())
    }

    /// `api-usage=USED/MAX`.
    pub fn usage_header(&self) -> HeaderValue {
        let text = format!(
            "api-usage={}/{}",
            self.used_today.load(Ordering::Relaxed),
            self.settings.daily_requests
        );
        HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("api-usage=0/0"))
    }
}

fn exceeded(message: &str) -> ApiError {
    ApiError {
        status: StatusCode::TOO_MANY_REQUESTS,
        errors: vec![model::RecordError::new(
            ErrorCode::RequestLimitExceeded,
            message,
        )],
    }
}

/// `GET /limits`.
pub async fn limits(
    State(state): State<AppState>,
    ApiCaller(_): ApiCaller,
    Path(version): Path<String>,
) -> Result<Response, ApiError> {
    crate::sobjects::base(&version)?;
    let max = state.limits.settings.daily_requests;
    let used = state.limits.used_today.load(Ordering::Relaxed);
    let body = json!({
        "DailyApiRequests": {"Max": max, "Remaining": max.saturating_sub(used)},
        "MaxRequestBodyBytes": {"Max": state.limits.settings.max_body_bytes, "Remaining": state.limits.settings.max_body_bytes},
        "PerTokenRequestsPerSecond": {"Max": state.limits.settings.requests_per_second, "Remaining": state.limits.settings.requests_per_second},
    });
    Ok(json_response(StatusCode::OK, &body))
}
