//! Global search, `/search?q=`: one SOSL search across the objects of the top bar the caller
//! may read, through `app`'s search (the full-text index, the caller's sharing), results
//! grouped by object.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use model::FieldDef;
use serde::Deserialize;

use super::context::{Chrome, Ui};
use super::fields::{Shown, list_columns, select_list, show};
use super::pages::{render, server_error};
use super::session::Signed;
use super::words::Words;
use crate::AppState;

/// Records shown per object.
const PER_OBJECT: usize = 20;

pub struct Group {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Shown>>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    w: Words,
    c: Chrome,
    q: String,
    groups: Vec<Group>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
}

/// The term as a SOSL `{…}` literal: every character SOSL reserves is escaped, so what was
/// typed is searched as words, never as search syntax.
fn sosl_term(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('{');
    for c in text.chars().filter(|c| !c.is_control()) {
        if "?&|!{}[]()^~*:\\\"'+-".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('}');
    out
}

/// `GET /search?q=`.
pub async fn search(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<SearchParams>,
) -> Response {
    let mut ui = match Ui::load(&state, signed, None).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let q = params.q.trim().to_string();
    ui.chrome.q = q.clone();
    let mut groups = Vec::new();
    let mut error = None;
    let objects: Vec<_> = ui
        .chrome
        .tabs
        .iter()
        .filter_map(|tab| tab.href.strip_prefix("/o/"))
        .filter_map(|name| ui.readable(name))
        .filter(|o| o.searchable())
        .collect();
    if !q.is_empty() && !objects.is_empty() {
        let columns: Vec<Vec<FieldDef>> = objects.iter().map(|o| list_columns(&ui, o)).collect();
        let returning: Vec<String> = objects
            .iter()
            .zip(&columns)
            .map(|(o, c)| {
                format!(
                    "{}({} LIMIT {PER_OBJECT})",
                    o.name,
                    select_list(&ui, c).join(", ")
                )
            })
            .collect();
        let sosl = format!(
            "FIND {} IN ALL FIELDS RETURNING {}",
            sosl_term(&q),
            returning.join(", ")
        );
        match ui.app.search(&ui.caller, &sosl).await {
            Ok(rows) => {
                let fmt = ui.formatter();
                let lang = ui.caller.lang;
                for (object, columns) in objects.iter().zip(&columns) {
                    let found: Vec<Vec<Shown>> = rows
                        .iter()
                        .filter(|r| *r.object == *object.name)
                        .map(|r| columns.iter().map(|f| show(&fmt, r, f)).collect())
                        .collect();
                    if !found.is_empty() {
                        groups.push(Group {
                            title: object.plural.get(lang).to_string(),
                            columns: columns
                                .iter()
                                .map(|f| super::fields::label(f, lang))
                                .collect(),
                            rows: found,
                        });
                    }
                }
            }
            // A term with nothing to search for (only punctuation) is the user's to fix.
            Err(app::AppError::Rejected(_)) => {
                error = Some(ui.w.get("search_unusable").to_string())
            }
            Err(e) => return server_error(&e),
        }
    }
    render(
        &SearchPage {
            w: ui.w,
            q,
            groups,
            error,
            c: ui.chrome,
        },
        StatusCode::OK,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_syntax_typed_is_searched_as_text() {
        assert_eq!(sosl_term("华为"), "{华为}");
        assert_eq!(sosl_term("a} OR {b*"), "{a\\} OR \\{b\\*}");
    }
}
