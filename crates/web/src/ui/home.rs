//! The home page: my open tasks, today's events and my open pipeline by stage (a bar chart
//! drawn on the server as SVG, with its numbers as a table too).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use model::Value;
use rust_decimal::Decimal;

use app::query::{QueryOptions, Row};

use super::context::{Chrome, Ui};
use super::fields::{Shown, show, value};
use super::pages::{render, server_error};
use super::session::Signed;
use super::words::Words;
use crate::AppState;

/// Rows in each of the home page's lists.
const HOME_ROWS: usize = 10;
/// The chart's drawing width for the longest bar.
const BAR_WIDTH: i64 = 240;

pub struct Bar {
    pub label: String,
    pub amount: String,
    pub count: String,
    pub width: i64,
    pub y: i64,
}

pub struct RecentLink {
    pub object: String,
    pub name: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    recent: Vec<RecentLink>,
    w: Words,
    c: Chrome,
    tasks: Vec<Vec<Shown>>,
    task_columns: Vec<String>,
    events: Vec<Vec<Shown>>,
    event_columns: Vec<String>,
    bars: Vec<Bar>,
    chart_height: i64,
    stage_label: String,
    amount_label: String,
}

/// A short list of the caller's records of `object` (nothing when they may not read it).
async fn my_list(
    ui: &Ui,
    object: &str,
    fields: &[&str],
    filter: &str,
    order: &str,
) -> Result<(Vec<String>, Vec<Vec<Shown>>), app::AppError> {
    let (Some(object), Some(me)) = (ui.readable(object), &ui.caller.user_id) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let fields: Vec<_> = fields
        .iter()
        .filter_map(|n| object.field(n))
        .filter(|f| !ui.hidden(&object, &f.name))
        .cloned()
        .collect();
    let soql = format!(
        "SELECT {} FROM {} WHERE OwnerId = '{}' AND {filter} ORDER BY {order} LIMIT {HOME_ROWS}",
        super::fields::select_list(ui, &fields).join(", "),
        object.name,
        me.to_18()
    );
    let page = ui
        .app
        .query(&ui.caller, &soql, QueryOptions::default())
        .await?;
    let fmt = ui.formatter();
    let rows = page
        .rows
        .iter()
        .map(|row| fields.iter().map(|f| show(&fmt, row, f)).collect())
        .collect();
    let labels = fields
        .iter()
        .map(|f| super::fields::label(f, ui.caller.lang))
        .collect();
    Ok((labels, rows))
}

/// My open pipeline: open opportunities' amounts and counts by stage, in stage order.
async fn pipeline(ui: &Ui) -> Result<Vec<Bar>, app::AppError> {
    let (Some(object), Some(me)) = (ui.readable("Opportunity"), &ui.caller.user_id) else {
        return Ok(Vec::new());
    };
    let Some(stage) = object.field("StageName") else {
        return Ok(Vec::new());
    };
    if ui.hidden(&object, "Amount") || ui.hidden(&object, "StageName") {
        return Ok(Vec::new());
    }
    let soql = format!(
        "SELECT StageName, SUM(Amount) total, COUNT(StageName) n FROM Opportunity WHERE OwnerId = '{}' AND IsClosed = false GROUP BY StageName",
        me.to_18()
    );
    let rows: Vec<Row> = ui
        .app
        .query(&ui.caller, &soql, QueryOptions::default())
        .await?
        .rows;
    let fmt = ui.formatter();
    let number = |row: &Row, name: &str| match value(row, name) {
        Some(Value::Decimal(d)) => *d,
        _ => Decimal::ZERO,
    };
    let mut stages: Vec<(String, Decimal, Decimal)> = stage
        .values
        .iter()
        .filter_map(|v| {
            let row = rows
                .iter()
                .find(|r| value(r, "StageName").and_then(Value::as_text) == Some(&v.value))?;
            Some((
                v.label.get(ui.caller.lang).to_string(),
                number(row, "total"),
                number(row, "n"),
            ))
        })
        .collect();
    stages.retain(|(_, _, n)| !n.is_zero());
    let largest = stages
        .iter()
        .map(|(_, t, _)| *t)
        .max()
        .unwrap_or(Decimal::ZERO);
    Ok(stages
        .into_iter()
        .enumerate()
        .map(|(i, (label, total, n))| {
            let width = if largest.is_zero() {
                0
            } else {
                i64::try_from(
                    (total * Decimal::from(BAR_WIDTH) / largest)
                        .round()
                        .mantissa(),
                )
                .unwrap_or(0)
            };
            Bar {
                label,
                amount: fmt.money(total),
                count: n.to_string(),
                width: width.max(2),
                y: i64::try_from(i).unwrap_or(0) * 28,
            }
        })
        .collect())
}

/// `GET /`.
pub async fn home(State(state): State<AppState>, signed: Signed) -> Response {
    let mut ui = match Ui::load(&state, signed, None).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    ui.chrome.here = "home";
    let loaded = async {
        let tasks = my_list(
            &ui,
            "Task",
            &["Subject", "ActivityDate", "Status", "WhoId", "WhatId"],
            "IsClosed = false",
            "ActivityDate ASC NULLS LAST",
        )
        .await?;
        let events = my_list(
            &ui,
            "Event",
            &["Subject", "StartDateTime", "EndDateTime", "Location"],
            "ActivityDate = TODAY",
            "StartDateTime ASC",
        )
        .await?;
        let bars = pipeline(&ui).await?;
        let recent = ui.app.recently_viewed(&ui.caller, HOME_ROWS).await?;
        Ok::<_, app::AppError>((tasks, events, bars, recent))
    };
    let ((task_columns, tasks), (event_columns, events), bars, recent) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return server_error(&error),
    };
    let chart_height = i64::try_from(bars.len()).unwrap_or(0) * 28;
    let label = |field: &str| {
        ui.schema
            .object("Opportunity")
            .and_then(|o| o.field(field))
            .map(|f| f.label.get(ui.caller.lang).to_string())
            .unwrap_or_default()
    };
    let (stage_label, amount_label) = (label("StageName"), label("Amount"));
    render(
        &HomePage {
            recent: recent
                .into_iter()
                .map(|v| RecentLink {
                    object: ui.schema.object(&v.object).map_or(v.object.clone(), |o| {
                        o.label.get(ui.caller.lang).to_string()
                    }),
                    href: format!("/r/{}", v.id.to_18()),
                    name: v.name,
                })
                .collect(),
            w: ui.w,
            c: ui.chrome,
            tasks,
            task_columns,
            events,
            event_columns,
            bars,
            chart_height,
            stage_label,
            amount_label,
        },
        StatusCode::OK,
    )
}
