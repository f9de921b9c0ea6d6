//! The recycle bin, `/recycle-bin`: the deleted records the caller may see (through
//! `queryAll`'s path, so sharing applies), newest first per object, each with Undelete.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use model::Value;

use app::query::QueryOptions;

use super::context::{Chrome, Ui};
use super::fields::value;
use super::pages::{render, server_error};
use super::record::NoFields;
use super::session::{Checked, Signed};
use super::words::Words;
use crate::AppState;

/// Deleted records shown per object.
const PER_OBJECT: usize = 50;

pub struct Deleted {
    pub id: String,
    pub name: String,
    pub deleted: String,
}

pub struct BinGroup {
    pub title: String,
    pub records: Vec<Deleted>,
}

#[derive(Template)]
#[template(path = "recycle.html")]
struct RecyclePage {
    w: Words,
    c: Chrome,
    groups: Vec<BinGroup>,
    errors: Vec<String>,
}

/// `GET /recycle-bin`.
pub async fn recycle_bin(State(state): State<AppState>, signed: Signed) -> Response {
    match Ui::load(&state, signed, None).await {
        Ok(ui) => bin_page(ui, Vec::new(), StatusCode::OK).await,
        Err(response) => response,
    }
}

async fn bin_page(ui: Ui, errors: Vec<String>, status: StatusCode) -> Response {
    let fmt = ui.formatter();
    let mut groups = Vec::new();
    let objects: Vec<_> = ui
        .chrome
        .tabs
        .iter()
        .filter_map(|tab| tab.href.strip_prefix("/o/"))
        .filter_map(|name| ui.readable(name))
        .filter(|o| o.deletable)
        .collect();
    for object in objects {
        let Some(name_field) = object.name_field() else {
            continue;
        };
        let soql = format!(
            "SELECT Id, {n}, LastModifiedDate FROM {o} WHERE IsDeleted = true ORDER BY LastModifiedDate DESC LIMIT {PER_OBJECT}",
            n = name_field.name,
            o = object.name
        );
        let options = QueryOptions {
            include_deleted: true,
            ..QueryOptions::default()
        };
        let rows = match ui.app.query(&ui.caller, &soql, options).await {
            Ok(page) => page.rows,
            Err(error) => return server_error(&error),
        };
        if rows.is_empty() {
            continue;
        }
        groups.push(BinGroup {
            title: object.plural.get(ui.caller.lang).to_string(),
            records: rows
                .iter()
                .map(|row| Deleted {
                    id: row.id.as_ref().map(|id| id.to_18()).unwrap_or_default(),
                    name: value(row, &name_field.name)
                        .map(Value::to_display)
                        .unwrap_or_default(),
                    deleted: match value(row, "LastModifiedDate") {
                        Some(Value::DateTime(t)) => fmt.datetime(*t),
                        _ => String::new(),
                    },
                })
                .collect(),
        });
    }
    render(
        &RecyclePage {
            w: ui.w,
            groups,
            errors,
            c: ui.chrome,
        },
        status,
    )
}

/// `POST /r/{Id}/undelete`: back from the recycle bin, to its page.
pub async fn undelete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked { signed, .. }: Checked<NoFields>,
) -> Response {
    let ui = match Ui::load(&state, signed, None).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    match ui.app.undelete(&ui.caller, &id).await {
        Ok(()) => Redirect::to(&format!("/r/{id}")).into_response(),
        Err(app::AppError::Rejected(errors)) => {
            let messages = errors.into_iter().map(|e| e.message).collect();
            bin_page(ui, messages, StatusCode::BAD_REQUEST).await
        }
        Err(error) => server_error(&error),
    }
}
