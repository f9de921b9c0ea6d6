//! Create and edit forms, built from metadata: `/o/{Object}/new` (also a clone, or a new
//! related record with its lookup filled) and `/r/{Id}/edit`. What is valid is `app`'s to
//! say: a refused save shows each error beside its field, with what the user typed kept.
//! A lookup is typed as a name and resolved to one record on save, through a search that
//! reads a handful of matches; when several match, the user picks one.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use model::{FieldDef, FieldType, ObjectDef, RecordId, Value};

use app::query::QueryOptions;

use super::context::{Chrome, Ui};
use super::fields::{select_list, value};
use super::format::input_value;
use super::pages::{not_found, render, server_error};
use super::record::record_object;
use super::session::{Checked, Signed};
use super::words::Words;
use crate::AppState;

/// Lookup matches offered when a typed name matches several records.
const LOOKUP_MATCHES: usize = 10;

/// Fields a form never shows: the owner is the creator (ownership moves by transfer).
const NOT_ON_FORMS: [&str; 1] = ["OwnerId"];

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One field of a form.
pub struct Input {
    pub name: String,
    pub label: String,
    /// `text`, `email`, `tel`, `url`, `number`, `date`, `datetime-local`, `textarea`,
    /// `select`, `multi`, `checkbox` or `lookup`.
    pub kind: &'static str,
    pub value: String,
    pub required: bool,
    pub max_length: Option<u32>,
    pub choices: Vec<Choice>,
    /// For lookups: the chosen record's id, and the name it was shown with.
    pub lookup_id: String,
    /// For lookups: `Object.Field`, for the script's search as you type.
    pub lookup: String,
    pub error: Option<String>,
    /// The first field with an error takes the focus.
    pub focus: bool,
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage {
    w: Words,
    c: Chrome,
    title: String,
    action: String,
    cancel: String,
    inputs: Vec<Input>,
    errors: Vec<String>,
}

fn kind_of(field: &FieldDef) -> &'static str {
    match field.field_type {
        FieldType::Email => "email",
        FieldType::Phone => "tel",
        FieldType::Url => "url",
        FieldType::TextArea | FieldType::LongTextArea => "textarea",
        FieldType::Picklist => "select",
        FieldType::MultiPicklist => "multi",
        FieldType::Checkbox => "checkbox",
        FieldType::Number | FieldType::Currency | FieldType::Percent => "number",
        FieldType::Date => "date",
        FieldType::DateTime => "datetime-local",
        FieldType::Reference => "lookup",
        _ => "text",
    }
}

/// The fields the caller may fill on this form.
pub(super) fn form_fields(ui: &Ui, object: &ObjectDef, creating: bool) -> Vec<FieldDef> {
    object
        .fields
        .iter()
        .filter(|f| {
            let writable = if creating {
                f.createable()
            } else {
                f.updateable()
            };
            writable
                && !f.is_system()
                && !NOT_ON_FORMS.contains(&f.name.as_str())
                && !ui.hidden(object, &f.name)
                && !ui.access.fields.read_only(&object.name, &f.name)
        })
        .cloned()
        .collect()
}

/// What the form shows for each field: typed text by field name, and lookups' ids.
#[derive(Default)]
pub(super) struct Shown {
    text: HashMap<String, String>,
    ids: HashMap<String, String>,
}

fn inputs(
    ui: &Ui,
    object: &str,
    fields: &[FieldDef],
    shown: &Shown,
    errors: &HashMap<String, String>,
) -> Vec<Input> {
    let lang = ui.caller.lang;
    fields
        .iter()
        .map(|f| {
            let value = shown.text.get(&f.name).cloned().unwrap_or_default();
            let choices = match f.field_type {
                FieldType::Picklist | FieldType::MultiPicklist => {
                    let chosen: Vec<&str> = value.split(';').collect();
                    f.values
                        .iter()
                        .filter(|v| v.active || chosen.contains(&v.value.as_str()))
                        .map(|v| Choice {
                            value: v.value.clone(),
                            label: v.label.get(lang).to_string(),
                            selected: chosen.contains(&v.value.as_str()),
                        })
                        .collect()
                }
                _ => Vec::new(),
            };
            Input {
                name: f.name.clone(),
                label: super::fields::label(f, lang),
                kind: kind_of(f),
                required: f.required && f.field_type != FieldType::Checkbox,
                max_length: f.max_length(),
                choices,
                lookup_id: shown.ids.get(&f.name).cloned().unwrap_or_default(),
                lookup: format!("{object}.{}", f.name),
                error: errors.get(&f.name).cloned(),
                focus: false,
                value,
            }
        })
        .collect()
}

/// The values of a record as a form shows them (lookups by their parent's name).
async fn current_values(
    ui: &Ui,
    object: &ObjectDef,
    id: &RecordId,
    fields: &[FieldDef],
) -> Result<Option<Shown>, app::AppError> {
    let soql = format!(
        "SELECT {} FROM {} WHERE Id = '{}'",
        select_list(ui, fields).join(", "),
        object.name,
        id.to_18()
    );
    let page = ui
        .app
        .query(&ui.caller, &soql, QueryOptions::default())
        .await?;
    let Some(row) = page.rows.into_iter().next() else {
        return Ok(None);
    };
    let fmt = ui.formatter();
    let mut shown = Shown::default();
    for field in fields {
        let raw = value(&row, &field.name).cloned().unwrap_or(Value::Null);
        if field.field_type == FieldType::Reference {
            if let Value::Id(parent) = &raw {
                let name = super::fields::show(&fmt, &row, field).text;
                shown.ids.insert(field.name.clone(), parent.to_18());
                shown.text.insert(field.name.clone(), name);
            }
        } else {
            shown
                .text
                .insert(field.name.clone(), input_value(&raw, ui.zone()));
        }
    }
    Ok(Some(shown))
}

#[derive(serde::Deserialize, Default)]
pub struct NewParams {
    #[serde(default)]
    clone: Option<String>,
    #[serde(flatten)]
    preset: HashMap<String, String>,
}

/// `GET /o/{Object}/new`: empty, a clone of `?clone=ID`, or with lookups preset
/// (`?AccountId=…` from a related list).
pub async fn new_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(object): Path<String>,
    Query(params): Query<NewParams>,
) -> Response {
    let ui = match Ui::load(&state, signed, Some(&object)).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some(object) = ui.readable(&object) else {
        return not_found(&ui);
    };
    if !object.createable || !ui.access.object(&object).create {
        return not_found(&ui);
    }
    let mut fields = form_fields(&ui, &object, true);
    let mut shown = Shown::default();
    if let Some(source) = params
        .clone
        .as_deref()
        .and_then(|id| record_object(&ui, id))
    {
        match current_values(&ui, &object, &source.0, &fields).await {
            Ok(Some(values)) => shown = values,
            Ok(None) => return not_found(&ui),
            Err(error) => return server_error(&error),
        }
    } else {
        // Defaults: picklists' default values, fields' literal defaults, preset lookups.
        for field in &fields {
            if let Some(default) = field.default_picklist_value() {
                shown.text.insert(field.name.clone(), default.value.clone());
            } else if let Some(default) = &field.default {
                shown.text.insert(field.name.clone(), default.clone());
            }
        }
        for (name, id) in &params.preset {
            let Some(field) = object.field(name) else {
                continue;
            };
            if let Some((parent, parent_object)) = record_object(&ui, id)
                && field.reference_to.contains(&parent_object.name)
            {
                let name = super::fields::record_name(&ui, &parent)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| parent.to_18());
                shown.ids.insert(field.name.clone(), parent.to_18());
                shown.text.insert(field.name.clone(), name);
            }
        }
    }
    let campaign = shown.ids.get("CampaignId").cloned();
    offer_campaign_statuses(
        &ui,
        &object,
        &mut fields,
        &mut shown,
        campaign,
        params.clone.is_none(),
    )
    .await;
    let title = format!("{} {}", ui.w.get("new"), object.label.get(ui.caller.lang));
    show_form(
        ui,
        &object.name,
        title,
        format!("/o/{}/new", object.name),
        format!("/o/{}", object.name),
        &fields,
        &shown,
        Vec::new(),
        HashMap::new(),
        StatusCode::OK,
    )
}

#[allow(clippy::too_many_arguments)]
fn show_form(
    ui: Ui,
    object: &str,
    title: String,
    action: String,
    cancel: String,
    fields: &[FieldDef],
    shown: &Shown,
    errors: Vec<String>,
    field_errors: HashMap<String, String>,
    status: StatusCode,
) -> Response {
    let mut inputs = inputs(&ui, object, fields, shown, &field_errors);
    if let Some(first) = inputs.iter_mut().find(|i| i.error.is_some()) {
        first.focus = true;
    }
    render(
        &FormPage {
            w: ui.w,
            title,
            action,
            cancel,
            inputs,
            errors,
            c: ui.chrome,
        },
        status,
    )
}

/// `GET /r/{Id}/edit`.
pub async fn edit_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let mut ui = match Ui::load(&state, signed, None).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some((record_id, object)) = record_object(&ui, &id) else {
        return not_found(&ui);
    };
    ui.mark_tab(&object.name);
    let mut fields = form_fields(&ui, &object, false);
    let mut shown = match current_values(&ui, &object, &record_id, &fields).await {
        Ok(Some(shown)) => shown,
        Ok(None) => return not_found(&ui),
        Err(error) => return server_error(&error),
    };
    let campaign = member_campaign(&ui, &object, &record_id).await;
    offer_campaign_statuses(&ui, &object, &mut fields, &mut shown, campaign, false).await;
    let title = format!("{} {}", ui.w.get("edit"), object.label.get(ui.caller.lang));
    show_form(
        ui,
        &object.name,
        title,
        format!("/r/{id}/edit"),
        format!("/r/{id}"),
        &fields,
        &shown,
        Vec::new(),
        HashMap::new(),
        StatusCode::OK,
    )
}

/// A campaign member's status is one of its campaign's own (CampaignMemberStatus), not the
/// picklist's: the form offers those, in the campaign's order, and a new member starts at the
/// campaign's default (`fresh`: a new, empty form). `campaign` is the member's campaign,
/// when known.
async fn offer_campaign_statuses(
    ui: &Ui,
    object: &ObjectDef,
    fields: &mut [FieldDef],
    shown: &mut Shown,
    campaign: Option<String>,
    fresh: bool,
) {
    if object.name != "CampaignMember" {
        return;
    }
    let Some(campaign) = campaign.and_then(|c| RecordId::parse(&c).ok()) else {
        return;
    };
    let soql = format!(
        "SELECT Label, IsDefault FROM CampaignMemberStatus WHERE CampaignId = '{}' ORDER BY SortOrder, Label",
        campaign.to_18()
    );
    let Ok(page) = ui
        .app
        .query(&ui.caller, &soql, QueryOptions::default())
        .await
    else {
        return;
    };
    let values: Vec<model::PicklistValue> = page
        .rows
        .iter()
        .filter_map(|row| {
            let Some(Value::Text(label)) = value(row, "Label") else {
                return None;
            };
            Some(model::PicklistValue {
                value: label.clone(),
                label: model::Label::new(label.clone(), label.clone()),
                is_default: value(row, "IsDefault") == Some(&Value::Bool(true)),
                active: true,
                ..Default::default()
            })
        })
        .collect();
    if values.is_empty() {
        return;
    }
    let current = shown.text.get("Status").cloned().unwrap_or_default();
    if (fresh || !values.iter().any(|v| v.value == current))
        && let Some(default) = values.iter().find(|v| v.is_default)
    {
        shown.text.insert("Status".into(), default.value.clone());
    }
    for field in fields.iter_mut().filter(|f| f.name == "Status") {
        field.values = values.clone().into();
    }
}

/// The campaign of a campaign member, for its form.
async fn member_campaign(ui: &Ui, object: &ObjectDef, member: &RecordId) -> Option<String> {
    if object.name != "CampaignMember" {
        return None;
    }
    let soql = format!(
        "SELECT CampaignId FROM CampaignMember WHERE Id = '{}'",
        member.to_18()
    );
    let page = ui
        .app
        .query(&ui.caller, &soql, QueryOptions::default())
        .await
        .ok()?;
    match value(page.rows.first()?, "CampaignId") {
        Some(Value::Id(id)) => Some(id.to_18()),
        _ => None,
    }
}

/// A submitted form: `f_<Field>` values, `id_<Field>`/`was_<Field>` for lookups,
/// `pick_<Field>` for a lookup match chosen, `m_<Field>_<n>` for multi-select values.
pub(super) type Submitted = HashMap<String, String>;

/// What the user submitted, as `app` input, with lookups resolved; or the errors of the
/// lookups that did not resolve to one record (and the matches to pick from).
pub(super) async fn read_submitted(
    ui: &Ui,
    fields: &[FieldDef],
    form: &Submitted,
    creating: bool,
) -> (app::records::RecordInput, Shown, HashMap<String, String>) {
    let mut input = serde_json::Map::new();
    let mut shown = Shown::default();
    let mut errors = HashMap::new();
    let text = |s: &str| serde_json::Value::String(s.to_string());
    for field in fields {
        let key = format!("f_{}", field.name);
        let typed = form
            .get(&key)
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let value = match field.field_type {
            FieldType::Checkbox => {
                shown.text.insert(
                    field.name.clone(),
                    if form.contains_key(&key) {
                        "true"
                    } else {
                        "false"
                    }
                    .into(),
                );
                serde_json::Value::Bool(form.contains_key(&key))
            }
            FieldType::MultiPicklist => {
                let prefix = format!("m_{}_", field.name);
                let mut chosen: Vec<&str> = form
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .map(|(_, v)| v.as_str())
                    .collect();
                chosen.sort_by_key(|v| field.values.iter().position(|p| p.value == *v));
                let joined = chosen.join(";");
                shown.text.insert(field.name.clone(), joined.clone());
                if joined.is_empty() {
                    serde_json::Value::Null
                } else {
                    text(&joined)
                }
            }
            FieldType::Reference => {
                shown.text.insert(field.name.clone(), typed.clone());
                match resolve_lookup(ui, field, form, &typed).await {
                    Ok(Some(id)) => {
                        shown.ids.insert(field.name.clone(), id.clone());
                        text(&id)
                    }
                    Ok(None) => serde_json::Value::Null,
                    Err(problem) => {
                        errors.insert(field.name.clone(), problem);
                        continue;
                    }
                }
            }
            _ => {
                shown.text.insert(field.name.clone(), typed.clone());
                if typed.is_empty() {
                    serde_json::Value::Null
                } else if field.field_type.is_numeric() {
                    // People type digit groups; the API takes plain numbers.
                    text(&typed.replace([',', ' ', '_'], ""))
                } else if field.field_type == FieldType::DateTime {
                    match local_datetime(&typed, ui.zone()) {
                        Some(utc) => text(&utc),
                        None => {
                            errors.insert(field.name.clone(), ui.w.get("bad_datetime").into());
                            continue;
                        }
                    }
                } else {
                    text(&typed)
                }
            }
        };
        // On create an empty field is left to its default; on edit it is cleared.
        if creating && value.is_null() {
            continue;
        }
        input.insert(field.name.clone(), value);
    }
    (input, shown, errors)
}

/// `2026-11-27T14:05` in the user's zone, as the API's UTC datetime.
pub fn local_datetime(text: &str, zone: &str) -> Option<String> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let local = time::PrimitiveDateTime::parse(text, &format).ok()?;
    app::dates::from_local(local, zone).map(model::value::format_datetime)
}

/// A lookup's record: kept when the name shown is unchanged, picked from matches, pasted as
/// an id, or found by its name. `Err` says why none could be chosen.
async fn resolve_lookup(
    ui: &Ui,
    field: &FieldDef,
    form: &Submitted,
    typed: &str,
) -> Result<Option<String>, String> {
    let name = &field.name;
    let get = |prefix: &str| form.get(&format!("{prefix}_{name}")).map(String::as_str);
    if let Some(picked) = get("pick").filter(|p| !p.is_empty()) {
        return Ok(Some(picked.to_string()));
    }
    if typed.is_empty() {
        return Ok(None);
    }
    if let (Some(id), Some(was)) = (get("id"), get("was"))
        && !id.is_empty()
        && was == typed
    {
        return Ok(Some(id.to_string()));
    }
    find_one(ui, field, typed).await.map(Some)
}

/// The one record a lookup's typed text names: an id pasted, or a name that matches one
/// record (or exactly one of several). `Err` says why none could be chosen.
pub async fn find_one(ui: &Ui, field: &FieldDef, typed: &str) -> Result<String, String> {
    if let Ok(id) = RecordId::parse(typed)
        && ui
            .schema
            .object_by_prefix(id.key_prefix())
            .is_some_and(|o| field.reference_to.contains(&o.name))
    {
        return Ok(id.to_18());
    }
    let matches = lookup_matches(ui, field, typed).await;
    let exact: Vec<&(String, String)> = matches
        .iter()
        .filter(|(_, n)| n.eq_ignore_ascii_case(typed))
        .collect();
    match (matches.len(), exact.as_slice()) {
        (1, _) => Ok(matches[0].0.clone()),
        (_, [one]) => Ok(one.0.clone()),
        (0, _) => Err(format!("{} “{typed}”", ui.w.get("lookup_none"))),
        (_, _) => Err(format!(
            "{} {}",
            ui.w.get("lookup_several"),
            matches
                .iter()
                .take(LOOKUP_MATCHES)
                .map(|(id, n)| format!("{n} ({id})"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The records of a lookup's objects whose names start with `typed` (a page of them, by
/// name), as the caller may see them: (id, name).
async fn lookup_matches(ui: &Ui, field: &FieldDef, typed: &str) -> Vec<(String, String)> {
    let mut matches = Vec::new();
    for target in &field.reference_to {
        let Some(object) = ui.readable(target) else {
            continue;
        };
        // A name hidden from the caller cannot be searched (nor shown).
        let Some(name_field) = object.name_field().filter(|f| !ui.hidden(&object, &f.name)) else {
            continue;
        };
        let soql = format!(
            "SELECT Id, {n} FROM {o} WHERE {n} LIKE {pattern} ORDER BY {n} LIMIT {limit}",
            n = name_field.name,
            o = object.name,
            pattern = super::view::like_literal(typed, false),
            limit = LOOKUP_MATCHES + 1,
        );
        match ui
            .app
            .query(&ui.caller, &soql, QueryOptions::default())
            .await
        {
            Ok(page) => {
                for row in page.rows {
                    if let Some(id) = &row.id {
                        let shown = value(&row, &name_field.name)
                            .map(Value::to_display)
                            .unwrap_or_default();
                        matches.push((id.to_18(), shown));
                    }
                }
            }
            // One object's search failing leaves the others' matches; the cause is logged,
            // and the user sees no match from it.
            Err(error) => tracing::warn!(%error, object = %object.name, "a lookup search failed"),
        }
    }
    matches
}

#[derive(serde::Deserialize)]
pub struct LookupParams {
    /// `Object.Field` of the lookup being filled.
    #[serde(default)]
    field: String,
    #[serde(default)]
    q: String,
}

/// `GET /lookup?field=Contact.AccountId&q=Nor`: a page of records the lookup may point to,
/// whose names start with what was typed, as JSON `[{id, name}]` for the form's script.
pub async fn lookup(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<LookupParams>,
) -> Response {
    let ui = match Ui::load(&state, signed, None).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let field = params.field.split_once('.').and_then(|(object, field)| {
        let object = ui.readable(object)?;
        object
            .field(field)
            .filter(|f| f.field_type == FieldType::Reference && !ui.hidden(&object, &f.name))
            .cloned()
    });
    let Some(field) = field else {
        return (StatusCode::NOT_FOUND, axum::Json(serde_json::json!([]))).into_response();
    };
    let typed = params.q.trim();
    let matches = if typed.is_empty() {
        Vec::new()
    } else {
        lookup_matches(&ui, &field, typed).await
    };
    let body: Vec<serde_json::Value> = matches
        .into_iter()
        .take(LOOKUP_MATCHES)
        .map(|(id, name)| serde_json::json!({"id": id, "name": name}))
        .collect();
    axum::Json(body).into_response()
}

/// Splits `app`'s errors into those of a field on the form and the rest.
fn place_errors(
    w: Words,
    error: &app::AppError,
    fields: &[FieldDef],
    field_errors: &mut HashMap<String, String>,
) -> Vec<String> {
    let mut general = Vec::new();
    for e in error.errors() {
        let on_form = e
            .fields
            .iter()
            .find_map(|name| fields.iter().find(|f| f.name.eq_ignore_ascii_case(name)));
        match on_form {
            Some(field) => {
                // The API's wording names the field; beside the field, plain words say it.
                let message = if e.code == model::ErrorCode::RequiredFieldMissing {
                    w.get("required_field").to_string()
                } else {
                    e.message
                };
                field_errors.entry(field.name.clone()).or_insert(message);
            }
            None => general.push(e.message),
        }
    }
    general
}

/// `POST /o/{Object}/new`.
pub async fn create(
    State(state): State<AppState>,
    Path(object): Path<String>,
    Checked { signed, form }: Checked<Submitted>,
) -> Response {
    let ui = match Ui::load(&state, signed, Some(&object)).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some(object) = ui.readable(&object) else {
        return not_found(&ui);
    };
    let mut fields = form_fields(&ui, &object, true);
    let (input, mut shown, mut field_errors) = read_submitted(&ui, &fields, &form, true).await;
    let mut errors = Vec::new();
    if field_errors.is_empty() {
        match ui.app.create(&ui.caller, &object.name, input).await {
            Ok(id) => return Redirect::to(&format!("/r/{}", id.to_18())).into_response(),
            Err(app::AppError::Internal(e)) => {
                return server_error(&app::AppError::Internal(e));
            }
            Err(error) => errors = place_errors(ui.w, &error, &fields, &mut field_errors),
        }
    }
    let campaign = shown.ids.get("CampaignId").cloned();
    offer_campaign_statuses(&ui, &object, &mut fields, &mut shown, campaign, false).await;
    let title = format!("{} {}", ui.w.get("new"), object.label.get(ui.caller.lang));
    show_form(
        ui,
        &object.name,
        title,
        format!("/o/{}/new", object.name),
        format!("/o/{}", object.name),
        &fields,
        &shown,
        errors,
        field_errors,
        StatusCode::BAD_REQUEST,
    )
}

/// `POST /r/{Id}/edit`.
pub async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked { signed, form }: Checked<Submitted>,
) -> Response {
    let mut ui = match Ui::load(&state, signed, None).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let Some((record_id, object)) = record_object(&ui, &id) else {
        return not_found(&ui);
    };
    ui.mark_tab(&object.name);
    let mut fields = form_fields(&ui, &object, false);
    let (input, mut shown, mut field_errors) = read_submitted(&ui, &fields, &form, false).await;
    let mut errors = Vec::new();
    if field_errors.is_empty() {
        let update = app::records::Update {
            id: record_id.to_18(),
            input,
            if_unmodified_since: None,
        };
        match ui.app.update(&ui.caller, &object.name, update).await {
            Ok(()) => return Redirect::to(&format!("/r/{id}")).into_response(),
            Err(app::AppError::Internal(e)) => {
                return server_error(&app::AppError::Internal(e));
            }
            Err(error) => errors = place_errors(ui.w, &error, &fields, &mut field_errors),
        }
    }
    let campaign = member_campaign(&ui, &object, &record_id).await;
    offer_campaign_statuses(&ui, &object, &mut fields, &mut shown, campaign, false).await;
    let title = format!("{} {}", ui.w.get("edit"), object.label.get(ui.caller.lang));
    show_form(
        ui,
        &object.name,
        title,
        format!("/r/{id}/edit"),
        format!("/r/{id}"),
        &fields,
        &shown,
        errors,
        field_errors,
        StatusCode::BAD_REQUEST,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_datetimes_become_utc() {
        assert_eq!(
            local_datetime("2026-11-27T14:05", "Asia/Shanghai").as_deref(),
            Some("2026-11-27T06:05:00.000+0000")
        );
        assert_eq!(local_datetime("yesterday", "UTC"), None);
    }
}
