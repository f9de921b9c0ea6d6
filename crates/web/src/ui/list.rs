//! List views, `/o/{Object}`: my records or all of them, or one record's related records;
//! columns that sort; keyset paging that costs the same on page 1 and page 1,000; and the
//! current view as CSV. Every row comes through `app`'s one query path, as the caller.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use model::{FieldDef, FieldType, ObjectDef, RecordId};
use serde::{Deserialize, Serialize};

use app::query::{QueryOptions, Row};

use super::context::{Chrome, Ui};
use super::fields::{Shown, list_columns, select_list, show};
use super::format::Formatter;
use super::pages::{not_found, render, server_error};
use super::session::{Checked, Signed};
use super::words::Words;
use crate::AppState;

/// Rows on one page of a list.
const PAGE_ROWS: usize = 50;
/// At most this many rows go into one CSV export.
const EXPORT_ROWS: usize = 50_000;

/// The state of a list view, all in its URL.
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct ListParams {
    /// `mine` or `all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    view: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sort: Option<String>,
    /// `asc` or `desc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dir: Option<String>,
    /// Related records: the lookup field and the parent's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<String>,
    /// Where the page starts: the sort key of the row before it, its position, and the total
    /// the first page counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
}

impl ListParams {
    fn href(&self, object: &str, suffix: &str) -> String {
        let query = serde_urlencoded::to_string(self).unwrap_or_default();
        if query.is_empty() {
            format!("/o/{object}{suffix}")
        } else {
            format!("/o/{object}{suffix}?{query}")
        }
    }

    /// The same view from its first page.
    fn first_page(&self) -> ListParams {
        ListParams {
            after: None,
            start: None,
            total: None,
            ..self.clone()
        }
    }
}

/// The view's SOQL, from what the URL asks for; fields and ids are checked against the
/// schema, never pasted in as given.
struct ListQuery {
    soql: String,
    /// The field sorted on and whether descending.
    sort: Option<(String, bool)>,
    /// The related view's lookup field and parent, when it is one.
    related: Option<(FieldDef, RecordId)>,
    mine: bool,
}

fn list_query(
    ui: &Ui,
    object: &ObjectDef,
    params: &ListParams,
    columns: &[FieldDef],
) -> Result<ListQuery, String> {
    let mut conditions = Vec::new();
    let related = match (&params.field, &params.parent) {
        (Some(field), Some(parent)) => {
            let field = object
                .field(field)
                .filter(|f| f.field_type == FieldType::Reference && !ui.hidden(object, &f.name))
                .ok_or_else(|| format!("no lookup {field} on {}", object.name))?;
            let parent = RecordId::parse(parent).map_err(|_| format!("bad id {parent}"))?;
            conditions.push(format!("{} = '{}'", field.name, parent.to_18()));
            Some((field.clone(), parent))
        }
        _ => None,
    };
    let mine = related.is_none() && object.owned && params.view.as_deref() != Some("all");
    if mine && let Some(me) = &ui.caller.user_id {
        conditions.push(format!("OwnerId = '{}'", me.to_18()));
    }
    let sort = params
        .sort
        .as_deref()
        .and_then(|name| object.field(name))
        .or_else(|| columns.first().and_then(|f| object.field(&f.name)))
        .filter(|f| sortable(ui, object, f))
        .map(|f| (f.name.clone(), params.dir.as_deref() == Some("desc")));
    let mut soql = format!(
        "SELECT {} FROM {}",
        select_list(ui, columns).join(", "),
        object.name
    );
    if !conditions.is_empty() {
        soql.push_str(" WHERE ");
        soql.push_str(&conditions.join(" AND "));
    }
    if let Some((field, descending)) = &sort {
        soql.push_str(&format!(
            " ORDER BY {field} {}",
            if *descending { "DESC" } else { "ASC" }
        ));
    }
    Ok(ListQuery {
        soql,
        sort,
        related,
        mine,
    })
}

/// A list sorts on its object's own fields that have one order (not lookups, long text or
/// multi-select picklists).
fn sortable(ui: &Ui, object: &ObjectDef, field: &FieldDef) -> bool {
    !ui.hidden(object, &field.name)
        && !matches!(
            field.field_type,
            FieldType::Reference | FieldType::LongTextArea | FieldType::MultiPicklist
        )
}

struct Column {
    label: String,
    href: Option<String>,
    arrow: &'static str,
}

struct ListRow {
    id: String,
    cells: Vec<Shown>,
}

struct ViewLink {
    href: String,
    label: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    w: Words,
    c: Chrome,
    title: String,
    object: String,
    can_create: bool,
    views: Vec<ViewLink>,
    count_text: String,
    columns: Vec<Column>,
    rows: Vec<ListRow>,
    next_href: Option<String>,
    first_href: Option<String>,
    export_href: String,
    /// Mass actions: the page's own address to come back to, and what the caller may do.
    here: String,
    can_delete: bool,
    can_transfer: bool,
    owner_label: String,
}

fn formatter(ui: &Ui) -> Formatter<'_> {
    Formatter {
        lang: ui.caller.lang,
        zone: ui.zone(),
        currency_symbol: &ui.org.currency_symbol,
    }
}

/// `GET /o/{Object}`.
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Path(object): Path<String>,
    Query(params): Query<ListParams>,
) -> Response {
    let ui = match Ui::load(&state, signed, Some(&object)).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some(object) = ui.readable(&object) else {
        return not_found(&ui);
    };
    let columns = list_columns(&ui, &object);
    let query = match list_query(&ui, &object, &params, &columns) {
        Ok(query) => query,
        Err(_) => return not_found(&ui),
    };
    let options = QueryOptions {
        include_deleted: false,
        start: params.start.unwrap_or(0),
        page_size: PAGE_ROWS,
        known_total: params.total,
        after: params.after.clone(),
    };
    let page = match ui.app.query(&ui.caller, &query.soql, options).await {
        Ok(page) => page,
        Err(error) => return server_error(&error),
    };
    let fmt = formatter(&ui);
    let w = ui.w;
    let lang = ui.caller.lang;
    let base = params.first_page();
    let header = columns
        .iter()
        .map(|field| {
            let sorted = query.sort.as_ref().filter(|(name, _)| *name == field.name);
            let href = sortable(&ui, &object, field).then(|| {
                let descending = sorted.is_some_and(|(_, d)| !d);
                ListParams {
                    sort: Some(field.name.clone()),
                    dir: descending.then(|| "desc".to_string()),
                    ..base.clone()
                }
                .href(&object.name, "")
            });
            Column {
                label: super::fields::label(field, lang),
                href,
                arrow: match sorted {
                    Some((_, true)) => " ↓",
                    Some((_, false)) => " ↑",
                    None => "",
                },
            }
        })
        .collect();
    let rows: Vec<ListRow> = page
        .rows
        .iter()
        .map(|row: &Row| ListRow {
            id: row.id.as_ref().map(|id| id.to_18()).unwrap_or_default(),
            cells: columns.iter().map(|f| show(&fmt, row, f)).collect(),
        })
        .collect();
    let next_href = page.next_start.map(|next| {
        ListParams {
            after: page.next_key.clone(),
            start: Some(next),
            total: Some(page.total_size),
            ..base.clone()
        }
        .href(&object.name, "")
    });
    let first_href = params
        .start
        .filter(|s| *s > 0)
        .map(|_| base.href(&object.name, ""));
    let mut views = Vec::new();
    let mut title = object.plural.get(lang).to_string();
    if let Some((field, _)) = &query.related {
        title = format!("{title} · {}", super::fields::label(field, lang));
    } else if object.owned {
        for (key, label) in [("mine", "view_mine"), ("all", "view_all")] {
            views.push(ViewLink {
                href: ListParams {
                    view: Some(key.to_string()),
                    ..Default::default()
                }
                .href(&object.name, ""),
                label: w.get(label).to_string(),
                current: (key == "mine") == query.mine,
            });
        }
    }
    let rights = ui.access.object(&object);
    let template = ListPage {
        here: params.href(&object.name, ""),
        can_delete: rights.delete && object.deletable,
        can_transfer: object.owned && rights.edit,
        owner_label: object
            .field("OwnerId")
            .map(|f| super::fields::label(f, lang))
            .unwrap_or_default(),
        count_text: format!("{} {}", page.total_size, w.get("items")),
        can_create: object.createable && ui.access.object(&object).create,
        export_href: base.href(&object.name, "/export.csv"),
        title,
        object: object.name.clone(),
        views,
        columns: header,
        rows,
        next_href,
        first_href,
        w,
        c: ui.chrome,
    };
    render(&template, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "mass_result.html")]
struct MassResultPage {
    w: Words,
    c: Chrome,
    done: usize,
    failures: Vec<String>,
    back: String,
}

/// `POST /o/{Object}/mass`: delete the checked records, or give them a new owner; `app`
/// checks each as if it were done one by one, and each succeeds or fails alone. Form fields: `sel_<Id>` per checked row, `action` (`delete` or `owner`),
/// `owner` (a user's name or id), `back` (the list to return to).
pub async fn mass_action(
    State(state): State<AppState>,
    Path(object): Path<String>,
    Checked { signed, form }: Checked<std::collections::HashMap<String, String>>,
) -> Response {
    let ui = match Ui::load(&state, signed, Some(&object)).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some(object) = ui.readable(&object) else {
        return not_found(&ui);
    };
    let ids: Vec<String> = form
        .keys()
        .filter_map(|k| k.strip_prefix("sel_"))
        .map(str::to_string)
        .collect();
    let back = form
        .get("back")
        .filter(|b| b.starts_with("/o/") && !b.starts_with("//"))
        .cloned()
        .unwrap_or_else(|| format!("/o/{}", object.name));
    let options = app::WriteOptions { all_or_none: false };
    let results = match form.get("action").map(String::as_str) {
        Some("delete") => ui.app.delete_many(&ui.caller, ids.clone(), options).await,
        Some("owner") => {
            let Some(owner_field) = object.field("OwnerId") else {
                return not_found(&ui);
            };
            let typed = form.get("owner").map(|s| s.trim()).unwrap_or_default();
            let owner = match super::form::find_one(&ui, owner_field, typed).await {
                Ok(owner) => owner,
                Err(problem) => {
                    return mass_result(ui, 0, vec![problem], back);
                }
            };
            let updates = ids
                .iter()
                .map(|id| app::records::Update {
                    id: id.clone(),
                    input: [(
                        "OwnerId".to_string(),
                        serde_json::Value::String(owner.clone()),
                    )]
                    .into_iter()
                    .collect(),
                    if_unmodified_since: None,
                })
                .collect();
            ui.app
                .update_many(&ui.caller, &object.name, updates, options)
                .await
        }
        _ => return not_found(&ui),
    };
    let results = match results {
        Ok(results) => results,
        Err(app::AppError::Rejected(errors)) => {
            let messages = errors.into_iter().map(|e| e.message).collect();
            return mass_result(ui, 0, messages, back);
        }
        Err(error) => return server_error(&error),
    };
    let mut done = 0;
    let mut failures = Vec::new();
    for (id, result) in ids.iter().zip(results) {
        match result {
            Ok(_) => done += 1,
            Err(errors) => {
                failures.extend(errors.into_iter().map(|e| format!("{id}: {}", e.message)))
            }
        }
    }
    mass_result(ui, done, failures, back)
}

fn mass_result(ui: Ui, done: usize, failures: Vec<String>, back: String) -> Response {
    let status = if failures.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    render(
        &MassResultPage {
            w: ui.w,
            c: ui.chrome,
            done,
            failures,
            back,
        },
        status,
    )
}

/// `GET /o/{Object}/export.csv`: the current view, every page of it (up to
/// [`EXPORT_ROWS`]), as the user sees it.
pub async fn export(
    State(state): State<AppState>,
    signed: Signed,
    Path(object): Path<String>,
    Query(params): Query<ListParams>,
) -> Response {
    let ui = match Ui::load(&state, signed, Some(&object)).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some(object) = ui.readable(&object) else {
        return not_found(&ui);
    };
    let columns = list_columns(&ui, &object);
    let Ok(query) = list_query(&ui, &object, &params.first_page(), &columns) else {
        return not_found(&ui);
    };
    let fmt = formatter(&ui);
    let mut csv = String::new();
    let labels: Vec<String> = columns
        .iter()
        .map(|f| super::fields::label(f, ui.caller.lang))
        .collect();
    push_csv_line(&mut csv, &labels);
    let mut options = QueryOptions {
        include_deleted: false,
        start: 0,
        page_size: app::query::MAX_PAGE,
        known_total: None,
        after: None,
    };
    let mut written = 0;
    loop {
        let page = match ui.app.query(&ui.caller, &query.soql, options.clone()).await {
            Ok(page) => page,
            Err(error) => return server_error(&error),
        };
        for row in &page.rows {
            let cells: Vec<String> = columns.iter().map(|f| show(&fmt, row, f).text).collect();
            push_csv_line(&mut csv, &cells);
        }
        written += page.rows.len();
        match page.next_start {
            Some(next) if written < EXPORT_ROWS => {
                options.start = next;
                options.after = page.next_key;
                options.known_total = Some(page.total_size);
            }
            _ => break,
        }
    }
    let filename = format!("attachment; filename=\"{}.csv\"", object.name);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        csv,
    )
        .into_response()
}

/// One CSV line (RFC 4180): a cell with a comma, quote or line break is quoted. A cell that
/// a spreadsheet would run as a formula is prefixed with `'`.
fn push_csv_line(out: &mut String, cells: &[String]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let formula = cell.starts_with(['=', '+', '-', '@']) && cell.parse::<f64>().is_err();
        let cell = if formula {
            format!("'{cell}")
        } else {
            cell.clone()
        };
        if cell.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&cell);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        let mut out = String::new();
        push_csv_line(
            &mut out,
            &[
                "Acme, Inc.".into(),
                "say \"hi\"".into(),
                "=HYPERLINK(1)".into(),
                "-12.5".into(),
            ],
        );
        assert_eq!(
            out,
            "\"Acme, Inc.\",\"say \"\"hi\"\"\",'=HYPERLINK(1),-12.5\r\n"
        );
    }
}
