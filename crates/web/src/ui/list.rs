//! List views, `/o/{Object}`: my records or all of them, or one record's related records;
//! columns that sort; keyset paging that costs the same on page 1 and page 1,000; and the
//! current view as CSV. Every row comes through `app`'s one query path, as the caller.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use app::query::{QueryOptions, Row};

use super::context::{Chrome, Ui};
use super::fields::{Shown, show};
use super::form::Choice;
use super::pages::{not_found, render, server_error};
use super::session::{Checked, Signed};
use super::view::{FILTERS, OPERATORS, ViewParams, filterable, sortable, view_columns, view_query};
use super::words::Words;
use crate::AppState;

/// Rows on one page of a list.
const PAGE_ROWS: usize = 50;
/// At most this many rows go into one CSV export.
const EXPORT_ROWS: usize = 50_000;

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
    /// A saved view's id (for its delete button).
    saved: Option<String>,
}

/// One row of the filter form.
struct FilterRow {
    n: usize,
    field: String,
    op: String,
    value: String,
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
    /// Counts the whole view, when not counted yet.
    count_href: Option<String>,
    columns: Vec<Column>,
    rows: Vec<ListRow>,
    next_href: Option<String>,
    first_href: Option<String>,
    export_href: String,
    /// The filter form: the rows, the fields and operators to choose from, the columns.
    filters: Vec<FilterRow>,
    /// Whether the view has filters or chosen columns (the filter form starts open).
    filtered: bool,
    field_choices: Vec<Choice>,
    operators: Vec<Choice>,
    column_choices: Vec<Choice>,
    /// What the view keeps when saved (its parameters from the first page).
    view_state: String,
    /// Hidden inputs that keep the view's scope when filters are applied.
    scope: Vec<(String, String)>,
    error: Option<String>,
    /// Mass actions: the page's own address to come back to, and what the caller may do.
    here: String,
    can_delete: bool,
    can_transfer: bool,
    /// Fields the mass update offers (none without edit rights).
    mass_fields: Vec<Choice>,
    owner_label: String,
}

/// `GET /o/{Object}`.
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Path(object): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let ui = match Ui::load(&state, signed, Some(&object)).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some(object) = ui.readable(&object) else {
        return not_found(&ui);
    };
    let params = ViewParams::parse(raw.as_deref());
    let saved = match ui.app.list_views(&ui.caller, &object.name).await {
        Ok(saved) => saved,
        Err(error) => return server_error(&error),
    };
    let (query, error) = match view_query(&ui, &object, &params) {
        Ok(query) => (Some(query), None),
        Err(problem) => (None, Some(problem)),
    };
    let page = match &query {
        Some(query) => {
            let options = QueryOptions {
                include_deleted: false,
                start: params.start.unwrap_or(0),
                page_size: PAGE_ROWS,
                known_total: params.total,
                after: params.after.clone(),
                count: params.count,
            };
            match ui.app.query(&ui.caller, &query.soql, options).await {
                Ok(page) => Some(page),
                Err(error) => return server_error(&error),
            }
        }
        None => None,
    };
    let fmt = ui.formatter();
    let w = ui.w;
    let lang = ui.caller.lang;
    let base = params.first_page();
    let columns = match &query {
        Some(query) => query.columns.clone(),
        None => view_columns(&ui, &object, &params),
    };
    let header = columns
        .iter()
        .map(|field| {
            let sorted = query
                .as_ref()
                .and_then(|q| q.sort.as_ref())
                .filter(|(name, _)| *name == field.name);
            let href = sortable(&ui, &object, field).then(|| {
                let descending = sorted.is_some_and(|(_, d)| !d);
                ViewParams {
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
        .iter()
        .flat_map(|p| &p.rows)
        .map(|row: &Row| ListRow {
            id: row.id.as_ref().map(|id| id.to_18()).unwrap_or_default(),
            cells: columns.iter().map(|f| show(&fmt, row, f)).collect(),
        })
        .collect();
    // The total is known when it was counted (asked for, by the first page, or because the
    // tallies answer it at no cost), or when this page is the last; otherwise the list says
    // which rows these are and offers to count.
    let counted = page.as_ref().is_some_and(|p| p.counted);
    let next_href = page.as_ref().and_then(|page| {
        page.next_start.map(|next| {
            ViewParams {
                after: page.next_key.clone(),
                start: Some(next),
                total: counted.then_some(page.total_size),
                ..base.clone()
            }
            .href(&object.name, "")
        })
    });
    let count_href = ViewParams {
        count: true,
        ..base.clone()
    }
    .href(&object.name, "");
    let count_text = match &page {
        Some(p) if counted || p.next_start.is_none() => {
            format!("{} {}", p.total_size, w.get("items"))
        }
        Some(p) => format!(
            "{}–{} · {}",
            params.start.unwrap_or(0) + 1,
            params.start.unwrap_or(0) + p.rows.len() as u64,
            w.get("more_items")
        ),
        None => String::new(),
    };
    let can_count = page
        .as_ref()
        .is_some_and(|p| !counted && p.next_start.is_some());
    let first_href = params
        .start
        .filter(|s| *s > 0)
        .map(|_| base.href(&object.name, ""));
    let mut views = Vec::new();
    let mut title = object.plural.get(lang).to_string();
    let related = query.as_ref().and_then(|q| q.related.as_ref());
    if let Some((field, _)) = related {
        title = format!("{title} · {}", super::fields::label(field, lang));
    } else {
        let current = base.query_string();
        if object.owned {
            for (key, label) in [("mine", "view_mine"), ("all", "view_all")] {
                let link = ViewParams {
                    view: Some(key.to_string()),
                    ..Default::default()
                };
                views.push(ViewLink {
                    current: current == link.query_string()
                        || (key == "mine" && current.is_empty()),
                    href: link.href(&object.name, ""),
                    label: w.get(label).to_string(),
                    saved: None,
                });
            }
        }
        for view in &saved {
            views.push(ViewLink {
                href: format!("/o/{}?{}", object.name, view.params),
                label: view.name.clone(),
                current: view.params == current,
                saved: Some(view.id.clone()),
            });
        }
    }
    let rights = ui.access.object(&object);
    let mut filters: Vec<FilterRow> = params
        .filters
        .iter()
        .enumerate()
        .map(|(i, f)| FilterRow {
            n: i + 1,
            field: f.field.clone(),
            op: f.op.clone(),
            value: f.value.clone(),
        })
        .collect();
    while filters.len() < FILTERS {
        filters.push(FilterRow {
            n: filters.len() + 1,
            field: String::new(),
            op: String::new(),
            value: String::new(),
        });
    }
    let field_choices = filterable(&ui, &object)
        .into_iter()
        .map(|f| Choice {
            value: f.name.clone(),
            label: super::fields::label(f, lang),
            selected: false,
        })
        .collect();
    let operators = OPERATORS
        .iter()
        .map(|(value, key)| Choice {
            value: (*value).to_string(),
            label: w.get(key).to_string(),
            selected: false,
        })
        .collect();
    let column_choices = object
        .fields
        .iter()
        .filter(|f| f.name != "Id" && !ui.hidden(&object, &f.name))
        .map(|f| Choice {
            value: f.name.clone(),
            label: super::fields::label(f, lang),
            selected: columns.iter().any(|c| c.name == f.name),
        })
        .collect();
    let scope: Vec<(String, String)> = [
        ("view", &base.view),
        ("field", &base.field),
        ("parent", &base.parent),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
    .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let template = ListPage {
        here: params.href(&object.name, ""),
        can_delete: rights.delete && object.deletable,
        can_transfer: object.owned && rights.edit,
        mass_fields: if rights.edit {
            super::form::form_fields(&ui, &object, false)
                .iter()
                .filter(|f| mass_editable(f))
                .map(|f| Choice {
                    value: f.name.clone(),
                    label: super::fields::label(f, lang),
                    selected: false,
                })
                .collect()
        } else {
            Vec::new()
        },
        owner_label: object
            .field("OwnerId")
            .map(|f| super::fields::label(f, lang))
            .unwrap_or_default(),
        count_text,
        count_href: can_count.then_some(count_href),
        can_create: object.createable && rights.create,
        export_href: base.href(&object.name, "/export.csv"),
        view_state: ViewParams {
            sort: None,
            dir: None,
            ..base.clone()
        }
        .query_string(),
        title,
        object: object.name.clone(),
        views,
        columns: header,
        rows,
        next_href,
        first_href,
        filtered: !params.filters.is_empty() || !params.columns.is_empty(),
        filters,
        field_choices,
        operators,
        column_choices,
        scope,
        error,
        w,
        c: ui.chrome,
    };
    render(&template, status)
}

#[derive(serde::Deserialize)]
pub struct SaveViewForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    params: String,
}

/// `POST /o/{Object}/views`: saves the current view under a name, then shows it.
pub async fn save_view(
    State(state): State<AppState>,
    Path(object): Path<String>,
    Checked { signed, form }: Checked<SaveViewForm>,
) -> Response {
    let ui = match Ui::load(&state, signed, Some(&object)).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some(object) = ui.readable(&object) else {
        return not_found(&ui);
    };
    // Kept as the parameters the list page itself reads, re-checked each time it is shown.
    let params = ViewParams::parse(Some(&form.params)).first_page();
    match ui
        .app
        .save_list_view(&ui.caller, &object.name, &form.name, &params.query_string())
        .await
    {
        Ok(_) => Redirect::to(&params.href(&object.name, "")).into_response(),
        Err(app::AppError::Rejected(errors)) => {
            let messages = errors.into_iter().map(|e| e.message).collect();
            mass_result(ui, 0, messages, params.href(&object.name, ""))
        }
        Err(error) => server_error(&error),
    }
}

/// `POST /o/{Object}/views/{id}/delete`.
pub async fn delete_view(
    State(state): State<AppState>,
    Path((object, id)): Path<(String, String)>,
    Checked { signed, .. }: Checked<super::record::NoFields>,
) -> Response {
    let ui = match Ui::load(&state, signed, Some(&object)).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    match ui.app.delete_list_view(&ui.caller, &id).await {
        Ok(()) => Redirect::to(&format!("/o/{object}")).into_response(),
        Err(app::AppError::Rejected(_)) => not_found(&ui),
        Err(error) => server_error(&error),
    }
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
            // A transfer: the open activities (and an account's contacts) the previous
            // owner held go along, as the API's mass transfer does.
            let transfer = app::transfer::Transfer {
                ids: ids.clone(),
                owner_id: owner,
                open_opportunities: false,
            };
            ui.app.transfer(&ui.caller, transfer).await
        }
        Some("field") => {
            // One value for one field of every selected record, typed as the edit form
            // takes it and checked by the same record path.
            let editable = super::form::form_fields(&ui, &object, false);
            let Some(field) = form.get("field").and_then(|name| {
                editable
                    .iter()
                    .find(|f| &f.name == name && mass_editable(f))
            }) else {
                let problem = ui.w.get("choose_field").to_string();
                return mass_result(ui, 0, vec![problem], back);
            };
            let key = format!("f_{}", field.name);
            let typed = form.get("value").map(|v| v.trim()).unwrap_or_default();
            let mut submitted = super::form::Submitted::new();
            if field.field_type != model::FieldType::Checkbox {
                submitted.insert(key, typed.to_string());
            } else if matches!(
                typed.to_lowercase().as_str(),
                "true" | "yes" | "1" | "on" | "是"
            ) {
                submitted.insert(key, "on".into());
            }
            let (input, _, errors) =
                super::form::read_submitted(&ui, std::slice::from_ref(field), &submitted, false)
                    .await;
            if let Some(problem) = errors.into_values().next() {
                return mass_result(ui, 0, vec![problem], back);
            }
            let updates = ids
                .iter()
                .map(|id| app::records::Update {
                    id: id.clone(),
                    input: input.clone(),
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

/// Fields a list's mass update offers: one typed value suits them (not the owner, which
/// has its own action, nor multi-select picklists or long text).
fn mass_editable(field: &model::FieldDef) -> bool {
    use model::FieldType;
    field.name != "OwnerId"
        && !matches!(
            field.field_type,
            FieldType::MultiPicklist | FieldType::LongTextArea | FieldType::TextArea
        )
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
    RawQuery(raw): RawQuery,
) -> Response {
    let ui = match Ui::load(&state, signed, Some(&object)).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some(object) = ui.readable(&object) else {
        return not_found(&ui);
    };
    let params = ViewParams::parse(raw.as_deref()).first_page();
    let query = match view_query(&ui, &object, &params) {
        Ok(query) => query,
        Err(problem) => return mass_result(ui, 0, vec![problem], params.href(&object.name, "")),
    };
    let columns = query.columns.clone();
    let fmt = ui.formatter();
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
        count: false,
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
