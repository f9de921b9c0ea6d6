//! The record page, `/r/{Id}`: a header with the record's name, key fields and actions; the
//! path of its stage or status; its fields in sections; its activities and related lists
//! (a few rows each, read in one batched query, never all of them); its field history.
//! And the small forms on it: move along the path, log a call, add a task, delete.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use model::{FieldDef, FieldType, ObjectDef, RecordId, Value};
use serde::Deserialize;

use app::query::{Cell, QueryOptions, Row};

use super::context::{Chrome, Ui};
use super::fields::{Shown, list_columns, row_name, select_list, show, value};
use super::format::Formatter;
use super::pages::{not_found, render, server_error};
use super::session::{Checked, Signed};
use super::words::Words;
use crate::AppState;

/// Rows each related list shows (one more is read to know whether there are more).
const RELATED_ROWS: usize = 5;
/// Related lists on one page, at most.
const RELATED_LISTS: usize = 8;
/// Field changes shown.
const HISTORY_ROWS: usize = 20;

/// Fields shown under "System information" rather than with the record's details.
const SYSTEM_FIELDS: [&str; 4] = [
    "CreatedById",
    "CreatedDate",
    "LastModifiedById",
    "LastModifiedDate",
];
/// Fields never shown on the page.
const UNSHOWN_FIELDS: [&str; 3] = ["Id", "IsDeleted", "SystemModstamp"];

/// The field whose values make an object's path.
fn path_field(object: &str) -> Option<&'static str> {
    match object {
        "Opportunity" => Some("StageName"),
        "Lead" | "Case" | "Campaign" => Some("Status"),
        _ => None,
    }
}

pub struct FieldView {
    pub label: String,
    pub shown: Shown,
}

pub struct SectionView {
    pub title: String,
    pub fields: Vec<FieldView>,
}

pub struct PathStep {
    pub value: String,
    pub label: String,
    /// `done`, `current`, `todo`, `won` or `lost`.
    pub state: &'static str,
}

pub struct RelatedView {
    pub title: String,
    pub all_href: String,
    pub new_href: Option<String>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Shown>>,
    pub more: bool,
    pub activity: bool,
}

/// One line of "who can see this and why".
pub struct SharingLine {
    pub why: String,
    pub who: String,
}

pub struct SharingView {
    pub default_text: String,
    pub lines: Vec<SharingLine>,
    /// Whether the caller may share by hand, and doing so can give anyone more than the
    /// default does.
    pub shareable: bool,
}

/// Names shown per reason before "and N more".
const SHARING_NAMES: usize = 20;

/// Who can see the record and why, in words (for owned objects).
async fn sharing_view(ui: &Ui, object: &ObjectDef, id: &RecordId) -> Option<SharingView> {
    if !object.owned {
        return None;
    }
    let explained = match ui
        .app
        .explain_sharing(&ui.caller, &object.name, &id.to_18())
        .await
    {
        Ok(explained) => explained,
        Err(error) => {
            tracing::warn!(%error, "who can see a record could not be explained");
            return None;
        }
    };
    let w = ui.w;
    let default_text = w
        .get(match explained.default {
            app::sharing::Sharing::Private => "sharing_private",
            app::sharing::Sharing::PublicRead => "sharing_public_read",
            app::sharing::Sharing::PublicReadWrite => "sharing_public_read_write",
            app::sharing::Sharing::ControlledByParent => "sharing_by_parent",
        })
        .to_string();
    let lines = explained
        .reasons
        .into_iter()
        .map(|(reason, users)| {
            let why = match reason {
                app::shares::ReadReason::Owner(_) => w.get("why_owner").to_string(),
                app::shares::ReadReason::Related { object, .. } => format!(
                    "{} {}",
                    w.get("why_related"),
                    ui.schema
                        .object(&object)
                        .map_or(object.clone(), |o| o.label.get(ui.caller.lang).to_string())
                ),
                app::shares::ReadReason::Manual(_) => w.get("why_manual").to_string(),
                app::shares::ReadReason::Rule(name) => format!("{} {name}", w.get("why_rule")),
            };
            let mut who: Vec<String> = users
                .iter()
                .take(SHARING_NAMES)
                .map(|(_, name)| name.clone())
                .collect();
            if users.len() > SHARING_NAMES {
                who.push(format!("+{}", users.len() - SHARING_NAMES));
            }
            SharingLine {
                why,
                who: who.join(", "),
            }
        })
        .collect();
    // The form shows only where sharing can give more than the default, and to those who
    // may share (`share_record` checks again on submit).
    let widens = matches!(
        explained.default,
        app::sharing::Sharing::Private | app::sharing::Sharing::PublicRead
    );
    let shareable = widens
        && ui
            .app
            .may_share(&ui.caller, &object.name, id)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "whether the caller may share could not be decided");
                false
            });
    Some(SharingView {
        default_text,
        lines,
        shareable,
    })
}

pub struct HistoryLine {
    pub when: String,
    pub field: String,
    pub old: String,
    pub new: String,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    w: Words,
    c: Chrome,
    id: String,
    object: String,
    object_label: String,
    name: String,
    highlights: Vec<FieldView>,
    path: Vec<PathStep>,
    path_field: String,
    path_editable: bool,
    converted: Vec<FieldView>,
    sections: Vec<SectionView>,
    related: Vec<RelatedView>,
    history: Vec<HistoryLine>,
    /// Whether "who can see this" applies (owned objects).
    explains_sharing: bool,
    can_edit: bool,
    can_delete: bool,
    can_convert: bool,
    can_clone: bool,
    logs_calls: bool,
    errors: Vec<String>,
}

/// A record's id and object from the URL, if it names an object the caller may read.
pub fn record_object(ui: &Ui, id: &str) -> Option<(RecordId, Arc<ObjectDef>)> {
    let id = RecordId::parse(id).ok()?;
    let object = ui.schema.object_by_prefix(id.key_prefix())?.clone();
    ui.readable(&object.name).map(|o| (id, o))
}

/// The child relationships shown as related lists: readable objects, not field history.
fn related_lists(ui: &Ui, object: &ObjectDef) -> Vec<(String, Arc<ObjectDef>, FieldDef)> {
    let mut lists = Vec::new();
    for relationship in ui.schema.child_relationships(&object.name) {
        let Some(name) = &relationship.name else {
            continue;
        };
        let Some(child) = ui.readable(&relationship.child_object) else {
            continue;
        };
        if child.history_parent.is_some() || child.name.ends_with("History") {
            continue;
        }
        let Some(field) = child.field(&relationship.field) else {
            continue;
        };
        if ui.hidden(&child, &field.name) || lists.iter().any(|(n, _, _)| n == name) {
            continue;
        }
        lists.push((name.clone(), child.clone(), field.clone()));
        if lists.len() == RELATED_LISTS {
            break;
        }
    }
    lists
}

/// The fields the page shows: every field the caller may see, but the unshown ones.
fn shown_fields(ui: &Ui, object: &ObjectDef) -> Vec<FieldDef> {
    object
        .fields
        .iter()
        .filter(|f| !UNSHOWN_FIELDS.contains(&f.name.as_str()) && !ui.hidden(object, &f.name))
        .cloned()
        .collect()
}

/// The record with its related lists' first rows: one query, whose child subqueries the
/// query engine reads in one batch each.
async fn read_record(
    ui: &Ui,
    object: &ObjectDef,
    id: &RecordId,
    fields: &[FieldDef],
    lists: &[(String, Arc<ObjectDef>, FieldDef)],
) -> Result<Option<Row>, app::AppError> {
    let mut select = select_list(ui, fields);
    for (name, child, back) in lists {
        let columns: Vec<FieldDef> = list_columns(ui, child)
            .into_iter()
            .filter(|f| f.name != back.name)
            .collect();
        let order = if child.field("CreatedDate").is_some() {
            " ORDER BY CreatedDate DESC"
        } else {
            ""
        };
        select.push(format!(
            "(SELECT {} FROM {name}{order} LIMIT {})",
            select_list(ui, &columns).join(", "),
            RELATED_ROWS + 1
        ));
    }
    let soql = format!(
        "SELECT {} FROM {} WHERE Id = '{}'",
        select.join(", "),
        object.name,
        id.to_18()
    );
    let page = ui
        .app
        .query(&ui.caller, &soql, QueryOptions::default())
        .await?;
    Ok(page.rows.into_iter().next())
}

/// The record's last field changes, newest first.
async fn read_history(
    ui: &Ui,
    object: &ObjectDef,
    id: &RecordId,
) -> Result<Vec<HistoryLine>, app::AppError> {
    let Some(history) = object.history.as_deref().and_then(|h| ui.readable(h)) else {
        return Ok(Vec::new());
    };
    let Some(parent) = history.history_parent.as_deref() else {
        return Ok(Vec::new());
    };
    let soql = format!(
        "SELECT Field, OldValue, NewValue, CreatedDate FROM {} WHERE {parent} = '{}' ORDER BY CreatedDate DESC LIMIT {HISTORY_ROWS}",
        history.name,
        id.to_18()
    );
    let page = ui
        .app
        .query(&ui.caller, &soql, QueryOptions::default())
        .await?;
    let fmt = ui.formatter();
    let text = |row: &Row, name: &str| value(row, name).map(Value::to_display).unwrap_or_default();
    Ok(page
        .rows
        .iter()
        .map(|row| {
            let field_name = text(row, "Field");
            let field = object.field(&field_name);
            let shown = |raw: String| match field {
                Some(f) if f.field_type == FieldType::Picklist => fmt.picklist(f, &raw),
                _ => raw,
            };
            HistoryLine {
                when: value(row, "CreatedDate")
                    .map(|v| match v {
                        Value::DateTime(t) => fmt.datetime(*t),
                        other => other.to_display(),
                    })
                    .unwrap_or_default(),
                field: field.map_or(field_name.clone(), |f| {
                    f.label.get(ui.caller.lang).to_string()
                }),
                old: shown(text(row, "OldValue")),
                new: shown(text(row, "NewValue")),
            }
        })
        .collect())
}

fn path_steps(fmt: &Formatter<'_>, field: &FieldDef, current: &str) -> Vec<PathStep> {
    let values: Vec<_> = field.values.iter().filter(|v| v.active).collect();
    let position = values.iter().position(|v| v.value == current);
    values
        .iter()
        .enumerate()
        .map(|(i, v)| PathStep {
            value: v.value.clone(),
            label: v.label.get(fmt.lang).to_string(),
            state: match position {
                Some(p) if p == i && v.closed && v.won => "won",
                Some(p) if p == i && v.closed && field.name == "StageName" => "lost",
                Some(p) if p == i => "current",
                Some(p) if i < p && !v.closed => "done",
                _ => "todo",
            },
        })
        .collect()
}

/// Renders the record page, with `errors` from a form on it that was refused.
async fn record_page(ui: Ui, id: &str, errors: Vec<String>, status: StatusCode) -> Response {
    let Some((id, object)) = record_object(&ui, id) else {
        return not_found(&ui);
    };
    let fields = shown_fields(&ui, &object);
    let lists = related_lists(&ui, &object);
    let row = match read_record(&ui, &object, &id, &fields, &lists).await {
        Ok(Some(row)) => row,
        Ok(None) => return not_found(&ui),
        Err(error) => return server_error(&error),
    };
    let history = match read_history(&ui, &object, &id).await {
        Ok(history) => history,
        Err(error) => return server_error(&error),
    };
    if status == StatusCode::OK
        && let Err(error) = ui.app.note_viewed(&ui.caller, &object.name, &id).await
    {
        // Forgetting a view costs the user a shortcut, not the page.
        tracing::warn!(%error, "a record view could not be noted");
    }
    let fmt = ui.formatter();
    let lang = ui.caller.lang;
    let w = ui.w;
    let view = |f: &FieldDef| FieldView {
        label: super::fields::label(f, lang),
        shown: show(&fmt, &row, f),
    };
    let converted = value(&row, "IsConverted") == Some(&Value::Bool(true));
    let highlights: Vec<FieldView> = list_columns(&ui, &object)
        .iter()
        .filter(|f| !f.name_field)
        .map(view)
        .collect();
    let path_def = path_field(&object.name).and_then(|name| object.field(name));
    let path = path_def
        .filter(|f| !ui.hidden(&object, &f.name))
        .map(|f| {
            let current = value(&row, &f.name)
                .map(Value::to_display)
                .unwrap_or_default();
            path_steps(&fmt, f, &current)
        })
        .unwrap_or_default();
    let rights = ui.access.object(&object);
    let path_editable = rights.edit
        && !converted
        && path_def
            .is_some_and(|f| f.updateable() && !ui.access.fields.read_only(&object.name, &f.name));
    let converted_fields = if converted {
        [
            "ConvertedAccountId",
            "ConvertedContactId",
            "ConvertedOpportunityId",
        ]
        .iter()
        .filter_map(|name| fields.iter().find(|f| f.name == *name))
        .map(view)
        .filter(|v| !v.shown.text.is_empty())
        .collect()
    } else {
        Vec::new()
    };
    let (system, details): (Vec<&FieldDef>, Vec<&FieldDef>) = fields
        .iter()
        .partition(|f| SYSTEM_FIELDS.contains(&f.name.as_str()));
    let sections = vec![
        SectionView {
            title: w.get("details").to_string(),
            fields: details.into_iter().map(view).collect(),
        },
        SectionView {
            title: w.get("system_information").to_string(),
            fields: system.into_iter().map(view).collect(),
        },
    ];
    let related = lists
        .iter()
        .map(|(name, child, back)| {
            let columns: Vec<FieldDef> = list_columns(&ui, child)
                .into_iter()
                .filter(|f| f.name != back.name)
                .collect();
            let rows: Vec<Row> = row
                .cells
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .and_then(|(_, c)| match c {
                    Cell::Children(Some(rows)) => Some(rows.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            let more = rows.len() > RELATED_ROWS;
            RelatedView {
                title: child.plural.get(lang).to_string(),
                all_href: format!(
                    "/o/{}?field={}&parent={}",
                    child.name,
                    back.name,
                    id.to_18()
                ),
                new_href: (child.createable && ui.access.object(child).create)
                    .then(|| format!("/o/{}/new?{}={}", child.name, back.name, id.to_18())),
                columns: columns
                    .iter()
                    .map(|f| super::fields::label(f, lang))
                    .collect(),
                rows: rows
                    .iter()
                    .take(RELATED_ROWS)
                    .map(|r| columns.iter().map(|f| show(&fmt, r, f)).collect())
                    .collect(),
                more,
                activity: matches!(child.name.as_str(), "Task" | "Event"),
            }
        })
        .collect();
    let task = ui.readable("Task");
    let logs_calls =
        task.is_some_and(|t| ui.access.object(&t).create) && activity_link(&ui, &object).is_some();
    let template = RecordPage {
        id: id.to_18(),
        object: object.name.clone(),
        object_label: object.label.get(lang).to_string(),
        name: row_name(&fmt, &row, &object),
        highlights,
        path,
        path_field: path_def.map(|f| f.name.clone()).unwrap_or_default(),
        path_editable,
        converted: converted_fields,
        sections,
        related,
        history,
        explains_sharing: object.owned,
        can_edit: rights.edit && !converted,
        can_delete: rights.delete && object.deletable,
        can_convert: object.name == "Lead" && !converted && ui.access.converts_leads(),
        can_clone: object.createable && rights.create,
        logs_calls,
        errors,
        w,
        c: ui.chrome,
    };
    render(&template, status)
}

#[derive(Template)]
#[template(path = "sharing.html")]
struct SharingPage {
    w: Words,
    c: Chrome,
    id: String,
    name: String,
    sharing: SharingView,
    /// Whether a manual share could add anything (not under Public Read/Write or
    /// Controlled by Parent); the app still decides who may share.
    can_share: bool,
    errors: Vec<String>,
}

/// `GET /r/{Id}/sharing`: who can see the record and why (its own page: working it out
/// reads the role tree, related records, rules and manual shares, which most views of a
/// record do not need), and a form to share it by hand.
pub async fn sharing(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    match Ui::load(&state, signed, None).await {
        Ok(ui) => sharing_page(ui, &id, Vec::new(), StatusCode::OK).await,
        Err(response) => response,
    }
}

async fn sharing_page(mut ui: Ui, id: &str, errors: Vec<String>, status: StatusCode) -> Response {
    let Some((record_id, object)) = record_object(&ui, id) else {
        return not_found(&ui);
    };
    ui.mark_tab(&object.name);
    let Some(sharing) = sharing_view(&ui, &object, &record_id).await else {
        return not_found(&ui);
    };
    let name = match super::fields::record_name(&ui, &record_id).await {
        Ok(name) => name.unwrap_or_else(|| record_id.to_18()),
        Err(error) => return server_error(&error),
    };
    render(
        &SharingPage {
            w: ui.w,
            id: record_id.to_18(),
            name,
            can_share: sharing.shareable,
            sharing,
            errors,
            c: ui.chrome,
        },
        status,
    )
}

#[derive(Deserialize)]
pub struct ShareForm {
    /// A user's login or a public group's name.
    #[serde(default)]
    with: String,
    /// read, edit, or none (take the share away).
    #[serde(default)]
    access: String,
}

/// `POST /r/{Id}/sharing`: shares the record by hand with a user or a public group (its
/// owner, someone above them or an administrator may), then shows who can see it.
pub async fn share(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked { signed, form }: Checked<ShareForm>,
) -> Response {
    let ui = match Ui::load(&state, signed, None).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some((record_id, _)) = record_object(&ui, &id) else {
        return not_found(&ui);
    };
    let with = form.with.trim();
    if with.is_empty() {
        let message = ui.w.get("share_with_missing").to_string();
        return sharing_page(ui, &id, vec![message], StatusCode::BAD_REQUEST).await;
    }
    match ui
        .app
        .share_record(&ui.caller, &record_id.to_18(), with, &form.access)
        .await
    {
        Ok(()) => Redirect::to(&format!("/r/{}/sharing", record_id.to_18())).into_response(),
        Err(app::AppError::Rejected(errors)) => {
            let messages = errors.into_iter().map(|e| e.message).collect();
            sharing_page(ui, &id, messages, StatusCode::BAD_REQUEST).await
        }
        Err(error) => server_error(&error),
    }
}

/// `GET /r/{Id}`.
pub async fn record(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    match Ui::load(&state, signed, None).await {
        Ok(mut ui) => {
            if let Some((_, object)) = record_object(&ui, &id) {
                ui.mark_tab(&object.name);
            }
            record_page(ui, &id, Vec::new(), StatusCode::OK).await
        }
        Err(response) => response,
    }
}

/// Shows a refused form's errors on the record page, or fails.
async fn refused(ui: Ui, id: &str, error: app::AppError) -> Response {
    match &error {
        app::AppError::Rejected(errors) => {
            let messages = errors.iter().map(|e| e.message.clone()).collect();
            record_page(ui, id, messages, StatusCode::BAD_REQUEST).await
        }
        app::AppError::Internal(_) => server_error(&error),
    }
}

#[derive(Deserialize)]
pub struct SetForm {
    #[serde(default)]
    field: String,
    #[serde(default)]
    value: String,
    /// Where to go after: a path of this site (the board), else the record.
    #[serde(default)]
    back: String,
    /// Why a deal was lost, when the value closes it as lost (asked for first).
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Template)]
#[template(path = "lost.html")]
struct LostPage {
    w: Words,
    c: Chrome,
    id: String,
    name: String,
    stage: String,
    stage_label: String,
    back: String,
    errors: Vec<String>,
}

/// Whether moving an opportunity's stage to `value` closes it as lost.
fn closes_lost(object: &ObjectDef, field: &str, value: &str) -> bool {
    object.name == "Opportunity"
        && field == "StageName"
        && object
            .field("StageName")
            .and_then(|f| f.picklist_value(value))
            .is_some_and(|v| v.closed && !v.won)
}

/// The page that asks why a deal was lost, before closing it.
async fn ask_why_lost(mut ui: Ui, id: &RecordId, form: &SetForm, errors: Vec<String>) -> Response {
    ui.mark_tab("Opportunity");
    let name = match super::fields::record_name(&ui, id).await {
        Ok(Some(name)) => name,
        Ok(None) => return not_found(&ui),
        Err(error) => return server_error(&error),
    };
    let stage_label = ui
        .schema
        .object("Opportunity")
        .and_then(|o| o.field("StageName"))
        .map(|f| ui.formatter().picklist(f, &form.value))
        .unwrap_or_default();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    render(
        &LostPage {
            w: ui.w,
            id: id.to_18(),
            name,
            stage: form.value.clone(),
            stage_label,
            back: form.back.clone(),
            errors,
            c: ui.chrome,
        },
        status,
    )
}

/// A path of this site to return to (never another site's address).
fn local_path(back: &str) -> Option<&str> {
    (back.starts_with('/') && !back.starts_with("//") && !back.contains('\\')).then_some(back)
}

/// `POST /r/{Id}/set`: one field to one value (a step of the path, a card moved on the
/// board). `app` checks the permission, the field and the value.
pub async fn set_field(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked { signed, form }: Checked<SetForm>,
) -> Response {
    let back = match local_path(&form.back) {
        Some(path) => Redirect::to(path).into_response(),
        None => Redirect::to(&format!("/r/{id}")).into_response(),
    };
    let ui = match Ui::load(&state, signed, None).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some((record_id, object)) = record_object(&ui, &id) else {
        return not_found(&ui);
    };
    if closes_lost(&object, &form.field, &form.value) {
        let Some(reason) = form.reason.as_deref() else {
            return ask_why_lost(ui, &record_id, &form, Vec::new()).await;
        };
        return match ui
            .app
            .close_lost(&ui.caller, &record_id.to_18(), &form.value, reason)
            .await
        {
            Ok(()) => back,
            Err(app::AppError::Rejected(errors)) => {
                let messages = errors.into_iter().map(|e| e.message).collect();
                ask_why_lost(ui, &record_id, &form, messages).await
            }
            Err(error) => server_error(&error),
        };
    }
    let mut input = serde_json::Map::new();
    input.insert(form.field, serde_json::Value::String(form.value));
    let update = app::records::Update {
        id: record_id.to_18(),
        input,
        if_unmodified_since: None,
    };
    match ui.app.update(&ui.caller, &object.name, update).await {
        Ok(()) => back,
        Err(error) => refused(ui, &id, error).await,
    }
}

/// Which lookup of a task points at a record of this object: `WhoId` for people, `WhatId`
/// for things.
fn activity_link(ui: &Ui, object: &ObjectDef) -> Option<&'static str> {
    let task = ui.schema.object("Task")?;
    ["WhoId", "WhatId"].into_iter().find(|name| {
        task.field(name)
            .is_some_and(|f| f.reference_to.contains(&object.name))
    })
}

#[derive(Deserialize)]
pub struct ActivityForm {
    /// `call` (logged, completed), `task` (to do) or `event` (in the calendar).
    #[serde(default)]
    kind: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    due: String,
    /// For events: when it starts, in the user's time zone, and how many minutes it lasts.
    #[serde(default)]
    start: String,
    #[serde(default)]
    minutes: String,
}

/// `POST /r/{Id}/activity`: logs a call, adds a task or schedules an event on the record.
pub async fn add_activity(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked { signed, form }: Checked<ActivityForm>,
) -> Response {
    let ui = match Ui::load(&state, signed, None).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some((record_id, object)) = record_object(&ui, &id) else {
        return not_found(&ui);
    };
    let Some(link) = activity_link(&ui, &object) else {
        return not_found(&ui);
    };
    let today = app::dates::Today::in_zone(ui.zone()).date;
    let mut input = serde_json::Map::new();
    let text = |s: &str| serde_json::Value::String(s.to_string());
    input.insert(link.into(), text(&record_id.to_18()));
    let subject = form.subject.trim();
    let (target, subject) = match form.kind.as_str() {
        "task" => ("Task", subject),
        "event" => ("Event", subject),
        _ if subject.is_empty() => ("Task", ui.w.get("call")),
        _ => ("Task", subject),
    };
    input.insert("Subject".into(), text(subject));
    if !form.description.trim().is_empty() {
        input.insert("Description".into(), text(form.description.trim()));
    }
    match form.kind.as_str() {
        "task" => {
            if !form.due.is_empty() {
                input.insert("ActivityDate".into(), text(&form.due));
            }
        }
        "event" => {
            let Some(start) = super::form::local_datetime(&form.start, ui.zone()) else {
                let message = ui.w.get("bad_datetime").to_string();
                return record_page(ui, &id, vec![message], StatusCode::BAD_REQUEST).await;
            };
            let minutes = form.minutes.trim().parse::<u32>().unwrap_or(60);
            input.insert("StartDateTime".into(), text(&start));
            input.insert("DurationInMinutes".into(), serde_json::Value::from(minutes));
        }
        _ => {
            input.insert("Status".into(), text("Completed"));
            input.insert("TaskSubtype".into(), text("Call"));
            input.insert(
                "ActivityDate".into(),
                text(&model::value::format_date(today)),
            );
        }
    }
    match ui.app.create(&ui.caller, target, input).await {
        Ok(_) => Redirect::to(&format!("/r/{id}")).into_response(),
        Err(error) => refused(ui, &id, error).await,
    }
}

#[derive(Deserialize)]
pub struct NoFields {}

/// `POST /r/{Id}/delete`: to the recycle bin, then to the object's list.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked { signed, .. }: Checked<NoFields>,
) -> Response {
    let ui = match Ui::load(&state, signed, None).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some((record_id, object)) = record_object(&ui, &id) else {
        return not_found(&ui);
    };
    match ui.app.delete(&ui.caller, &record_id.to_18()).await {
        Ok(()) => Redirect::to(&format!("/o/{}", object.name)).into_response(),
        Err(error) => refused(ui, &id, error).await,
    }
}
