//! The opportunity board, `/o/Opportunity/board`: a column per stage with its count and
//! total, and the first cards of each (soonest to close first). A card is dragged to another
//! column by our script, which submits the same form the record page's path uses; without
//! JavaScript, a card's link leads to that path.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use model::Value;
use rust_decimal::Decimal;
use serde::Deserialize;

use app::query::QueryOptions;

use super::context::{Chrome, Ui};
use super::fields::{show, value};
use super::pages::{not_found, render, server_error};
use super::session::Signed;
use super::words::Words;
use crate::AppState;

/// Cards shown per column (the rest are a click away, in the list).
const CARDS: usize = 10;

pub struct Card {
    pub id: String,
    pub name: String,
    pub account: String,
    pub amount: String,
    pub close: String,
    pub owner: String,
}

pub struct StageColumn {
    pub value: String,
    pub label: String,
    pub count: u64,
    pub total: String,
    /// `open`, `won` or `lost`.
    pub kind: &'static str,
    pub cards: Vec<Card>,
    pub more: bool,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    w: Words,
    c: Chrome,
    title: String,
    mine: bool,
    columns: Vec<StageColumn>,
}

#[derive(Deserialize, Default)]
pub struct BoardParams {
    #[serde(default)]
    view: Option<String>,
}

/// `GET /o/Opportunity/board`.
pub async fn board(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<BoardParams>,
) -> Response {
    let ui = match Ui::load(&state, signed, Some("Opportunity")).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some(object) = ui.readable("Opportunity") else {
        return not_found(&ui);
    };
    let Some(stage) = object
        .field("StageName")
        .filter(|f| !ui.hidden(&object, &f.name))
    else {
        return not_found(&ui);
    };
    let mine = params.view.as_deref() != Some("all");
    let owner_filter = match (&ui.caller.user_id, mine) {
        (Some(me), true) => format!("OwnerId = '{}'", me.to_18()),
        _ => String::new(),
    };
    let amount_visible = !ui.hidden(&object, "Amount");
    // COUNT(StageName), a required field, counts the deals as COUNT(Id) would, and lets the
    // pipeline index answer the sums without reading the records.
    let mut totals_soql = format!(
        "SELECT StageName, COUNT(StageName) n{} FROM Opportunity",
        if amount_visible {
            ", SUM(Amount) total"
        } else {
            ""
        }
    );
    if !owner_filter.is_empty() {
        totals_soql.push_str(&format!(" WHERE {owner_filter}"));
    }
    totals_soql.push_str(" GROUP BY StageName");
    let totals = match ui
        .app
        .query(&ui.caller, &totals_soql, QueryOptions::default())
        .await
    {
        Ok(page) => page.rows,
        Err(error) => return server_error(&error),
    };
    let fmt = ui.formatter();
    // On my own board every card's owner is me: not read, not shown.
    let card_fields: Vec<_> = ["Name", "AccountId", "Amount", "CloseDate", "OwnerId"]
        .iter()
        .filter(|n| !(mine && **n == "OwnerId"))
        .filter_map(|n| object.field(n))
        .filter(|f| !ui.hidden(&object, &f.name))
        .cloned()
        .collect();
    // Lookups are read as ids here; their names come after, all in one query (a parent path
    // in each column's query would join and check the parent once per column).
    let select = std::iter::once("Id".to_string())
        .chain(card_fields.iter().map(|f| f.name.clone()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut lookups: Vec<String> = Vec::new();
    let mut columns = Vec::new();
    for v in stage.values.iter().filter(|v| v.active) {
        let summary = totals
            .iter()
            .find(|row| value(row, "StageName").and_then(Value::as_text) == Some(&v.value));
        let count = summary
            .and_then(|row| value(row, "n"))
            .and_then(|n| match n {
                Value::Decimal(d) => u64::try_from(*d).ok(),
                _ => None,
            })
            .unwrap_or(0);
        let total = summary
            .and_then(|row| value(row, "total"))
            .and_then(|t| match t {
                Value::Decimal(d) => Some(*d),
                _ => None,
            })
            .unwrap_or(Decimal::ZERO);
        let mut cards = Vec::new();
        if count > 0 {
            let mut filter = format!("StageName = {}", soql::quote_string(&v.value));
            if !owner_filter.is_empty() {
                filter.push_str(&format!(" AND {owner_filter}"));
            }
            let soql = format!(
                "SELECT {select} FROM Opportunity WHERE {filter} ORDER BY CloseDate ASC LIMIT {CARDS}"
            );
            let rows = match ui
                .app
                .query(&ui.caller, &soql, QueryOptions::default())
                .await
            {
                Ok(page) => page.rows,
                Err(error) => return server_error(&error),
            };
            for row in &rows {
                let text = |name: &str| {
                    card_fields
                        .iter()
                        .find(|f| f.name == name)
                        .map(|f| show(&fmt, row, f).text)
                        .unwrap_or_default()
                };
                let (account, owner) = (text("AccountId"), text("OwnerId"));
                lookups.extend(
                    [account.clone(), owner.clone()]
                        .into_iter()
                        .filter(|t| !t.is_empty()),
                );
                cards.push(Card {
                    id: row.id.as_ref().map(|id| id.to_18()).unwrap_or_default(),
                    name: text("Name"),
                    account,
                    amount: text("Amount"),
                    close: text("CloseDate"),
                    owner,
                });
            }
        }
        columns.push(StageColumn {
            value: v.value.clone(),
            label: v.label.get(ui.caller.lang).to_string(),
            more: count > cards.len() as u64,
            count,
            total: if amount_visible {
                fmt.money(total)
            } else {
                String::new()
            },
            kind: match (v.closed, v.won) {
                (true, true) => "won",
                (true, false) => "lost",
                _ => "open",
            },
            cards,
        });
    }
    // The cards' accounts and owners by name, one query per object; a parent the user may
    // not see shows no name.
    let names = match super::fields::record_names(&ui, &lookups).await {
        Ok(names) => names,
        Err(error) => return server_error(&error),
    };
    for card in columns.iter_mut().flat_map(|c| c.cards.iter_mut()) {
        card.account = names.get(&card.account).cloned().unwrap_or_default();
        card.owner = names.get(&card.owner).cloned().unwrap_or_default();
    }
    render(
        &BoardPage {
            title: format!(
                "{} · {}",
                object.plural.get(ui.caller.lang),
                ui.w.get("board")
            ),
            w: ui.w,
            mine,
            columns,
            c: ui.chrome,
        },
        StatusCode::OK,
    )
}
