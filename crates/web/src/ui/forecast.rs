//! The forecast page, `/forecast?period=2026-Q4`: `app::forecast` for the caller and the
//! users below them, one row per owner with the sums by forecast category, their quota and
//! how much of it is closed; the quarters before and after one click away.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use rust_decimal::Decimal;
use serde::Deserialize;

use app::forecast::{CATEGORIES, ForecastScope};

use super::context::{Chrome, Ui};
use super::pages::{render, server_error};
use super::session::Signed;
use super::words::Words;
use crate::AppState;

pub struct ForecastLine {
    pub name: String,
    pub href: String,
    pub amounts: Vec<String>,
    pub quota: String,
    pub attainment: String,
}

#[derive(Template)]
#[template(path = "forecast.html")]
struct ForecastPage {
    w: Words,
    c: Chrome,
    period: String,
    range: String,
    owner_label: String,
    categories: Vec<String>,
    lines: Vec<ForecastLine>,
    totals: ForecastLine,
    previous: Option<String>,
    next: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ForecastParams {
    #[serde(default)]
    period: Option<String>,
}

/// `closed / quota` as a whole percentage.
fn attainment(closed: Decimal, quota: Option<Decimal>) -> String {
    match quota {
        Some(q) if !q.is_zero() => format!("{}%", (closed * Decimal::from(100) / q).round()),
        _ => String::new(),
    }
}

/// `GET /forecast`.
pub async fn forecast(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<ForecastParams>,
) -> Response {
    let mut ui = match Ui::load(&state, signed, None).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    ui.chrome.here = "forecast";
    let scope = ForecastScope {
        period: params.period.clone(),
        ..ForecastScope::default()
    };
    let (forecast, error) = match ui.app.forecast(&ui.caller, scope).await {
        Ok(forecast) => (Some(forecast), None),
        Err(app::AppError::Rejected(errors)) => {
            (None, errors.into_iter().next().map(|e| e.message))
        }
        Err(error) => return server_error(&error),
    };
    let fmt = ui.formatter();
    let lang = ui.caller.lang;
    let category_field = ui
        .schema
        .object("Opportunity")
        .and_then(|o| o.field("ForecastCategoryName"))
        .cloned();
    let categories = CATEGORIES
        .iter()
        .map(|(value, _)| match &category_field {
            Some(field) => fmt.picklist(field, value),
            None => (*value).to_string(),
        })
        .collect();
    let closed_slot = CATEGORIES
        .iter()
        .position(|(value, _)| *value == "Closed")
        .unwrap_or(3);
    let line =
        |name: String, href: String, amounts: &[Decimal; 5], quota: Option<Decimal>| ForecastLine {
            name,
            href,
            amounts: amounts.iter().map(|a| fmt.money(*a)).collect(),
            quota: quota.map(|q| fmt.money(q)).unwrap_or_default(),
            attainment: attainment(amounts[closed_slot], quota),
        };
    let org_start = ui.org.fiscal_year_start_month;
    let (period, range, lines, totals, previous, next) = match &forecast {
        Some(f) => (
            f.period.name.clone(),
            format!(
                "{} – {}",
                fmt.date(f.period.start),
                fmt.date(f.period.last_day())
            ),
            f.rows
                .iter()
                .map(|r| {
                    line(
                        r.name.clone(),
                        format!("/r/{}", r.owner_id.to_18()),
                        &r.amounts,
                        r.quota,
                    )
                })
                .collect(),
            line(
                ui.w.get("total").to_string(),
                String::new(),
                &f.totals,
                f.quota,
            ),
            f.period.shifted(-1, org_start).map(|p| p.name),
            f.period.shifted(1, org_start).map(|p| p.name),
        ),
        None => (
            params.period.unwrap_or_default(),
            String::new(),
            Vec::new(),
            line(String::new(), String::new(), &[Decimal::ZERO; 5], None),
            None,
            None,
        ),
    };
    let owner_label = ui
        .schema
        .object("Opportunity")
        .and_then(|o| o.field("OwnerId"))
        .map(|f| super::fields::label(f, lang))
        .unwrap_or_default();
    render(
        &ForecastPage {
            owner_label,
            w: ui.w,
            period,
            range,
            categories,
            lines,
            totals,
            previous,
            next,
            error,
            c: ui.chrome,
        },
        if forecast.is_some() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        },
    )
}
