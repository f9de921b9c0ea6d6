//! `GET …/rapport/forecast[?period=2026-Q4|2026-11][&ownerId=…|&roleId=…]`: the sums by
//! forecast category per owner beside their quotas, for dashboards (`app::forecast`).

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value as JsonValue, json};

use app::forecast::{CATEGORIES, ForecastScope};
use model::Value;

use crate::auth::Ctx;
use crate::error::{ApiError, json_response};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForecastParams {
    period: Option<String>,
    owner_id: Option<String>,
    role_id: Option<String>,
}

fn amount(d: rust_decimal::Decimal) -> JsonValue {
    Value::Decimal(d).to_json()
}

fn amounts(
    values: &[rust_decimal::Decimal; 5],
    quota: Option<rust_decimal::Decimal>,
) -> Map<String, JsonValue> {
    let mut map = Map::new();
    for ((_, key), value) in CATEGORIES.iter().zip(values) {
        map.insert((*key).to_string(), amount(*value));
    }
    map.insert("quota".into(), quota.map_or(JsonValue::Null, amount));
    map
}

pub async fn forecast(
    ctx: Ctx,
    Query(params): Query<ForecastParams>,
) -> Result<Response, ApiError> {
    let scope = ForecastScope {
        period: params.period,
        owner_id: params.owner_id,
        role_id: params.role_id,
    };
    let forecast = ctx.app.forecast(&ctx.caller, scope).await?;
    let rows: Vec<JsonValue> = forecast
        .rows
        .iter()
        .map(|row| {
            let mut map = Map::new();
            map.insert("ownerId".into(), json!(row.owner_id.to_18()));
            map.insert("name".into(), json!(row.name));
            map.extend(amounts(&row.amounts, row.quota));
            JsonValue::Object(map)
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "period": forecast.period.name,
            "start": model::value::format_date(forecast.period.start),
            "end": model::value::format_date(forecast.period.last_day()),
            "rows": rows,
            "totals": amounts(&forecast.totals, forecast.quota),
        }),
    ))
}
