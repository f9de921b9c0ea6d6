//! The lead conversion page, `/r/{Id}/convert`: the converted status, a new or a matching
//! existing account and contact (the matches `app` finds by name, email and website), the
//! opportunity's name or none. Converting is `app::convert_lead`: one transaction.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use model::Value;
use serde::Deserialize;

use app::convert::LeadConvert;
use app::query::QueryOptions;

use super::context::{Chrome, Ui};
use super::fields::value;
use super::form::Choice;
use super::pages::{not_found, render, server_error};
use super::record::record_object;
use super::session::{Checked, Signed};
use super::words::Words;
use crate::AppState;

#[derive(Template)]
#[template(path = "convert.html")]
struct ConvertPage {
    w: Words,
    c: Chrome,
    id: String,
    name: String,
    company: String,
    account_label: String,
    contact_label: String,
    opportunity_label: String,
    opportunity_name_label: String,
    statuses: Vec<Choice>,
    accounts: Vec<Choice>,
    contacts: Vec<Choice>,
    new_account: bool,
    new_contact: bool,
    opportunity_name: String,
    no_opportunity: bool,
    errors: Vec<String>,
}

#[derive(Deserialize, Default)]
pub struct ConvertForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    opportunity_name: String,
    #[serde(default)]
    no_opportunity: Option<String>,
}

/// The page, with what was chosen kept and `errors` shown.
async fn convert_page(
    mut ui: Ui,
    id: &str,
    chosen: ConvertForm,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let Some((lead_id, object)) = record_object(&ui, id) else {
        return not_found(&ui);
    };
    if object.name != "Lead" || !ui.access.converts_leads() {
        return not_found(&ui);
    }
    ui.mark_tab("Lead");
    let soql = format!(
        "SELECT Name, Company, Status, IsConverted FROM Lead WHERE Id = '{}'",
        lead_id.to_18()
    );
    let row = match ui
        .app
        .query(&ui.caller, &soql, QueryOptions::default())
        .await
    {
        Ok(page) => match page.rows.into_iter().next() {
            Some(row) => row,
            None => return not_found(&ui),
        },
        Err(error) => return server_error(&error),
    };
    if value(&row, "IsConverted") == Some(&Value::Bool(true)) {
        return Redirect::to(&format!("/r/{id}")).into_response();
    }
    let text = |name: &str| value(&row, name).map(Value::to_display).unwrap_or_default();
    let matches = match ui.app.conversion_matches(&ui.caller, id).await {
        Ok(matches) => matches,
        Err(error) => return server_error(&error),
    };
    let lang = ui.caller.lang;
    let statuses = object
        .field("Status")
        .map(|f| {
            f.values
                .iter()
                .filter(|v| v.active && v.converted)
                .enumerate()
                .map(|(i, v)| Choice {
                    value: v.value.clone(),
                    label: v.label.get(lang).to_string(),
                    selected: v.value == chosen.status || (chosen.status.is_empty() && i == 0),
                })
                .collect()
        })
        .unwrap_or_default();
    let accounts: Vec<Choice> = matches
        .accounts
        .iter()
        .map(|(id, name)| Choice {
            value: id.clone(),
            label: name.clone(),
            selected: *id == chosen.account,
        })
        .collect();
    let contacts: Vec<Choice> = matches
        .contacts
        .iter()
        .map(|(id, name, _)| Choice {
            value: id.clone(),
            label: name.clone(),
            selected: *id == chosen.contact,
        })
        .collect();
    let company = text("Company");
    let opportunity_name = if chosen.opportunity_name.is_empty() {
        company.clone()
    } else {
        chosen.opportunity_name
    };
    let label = |object: &str| {
        ui.schema
            .object(object)
            .map(|o| o.label.get(lang).to_string())
            .unwrap_or_default()
    };
    let opportunity_name_label = ui
        .schema
        .object("Opportunity")
        .and_then(|o| o.field("Name"))
        .map(|f| f.label.get(lang).to_string())
        .unwrap_or_default();
    render(
        &ConvertPage {
            account_label: label("Account"),
            contact_label: label("Contact"),
            opportunity_label: label("Opportunity"),
            opportunity_name_label,
            id: lead_id.to_18(),
            name: text("Name"),
            company,
            statuses,
            new_account: !accounts.iter().any(|a| a.selected),
            new_contact: !contacts.iter().any(|a| a.selected),
            accounts,
            contacts,
            opportunity_name,
            no_opportunity: chosen.no_opportunity.is_some(),
            errors,
            w: ui.w,
            c: ui.chrome,
        },
        status,
    )
}

/// `GET /r/{Id}/convert`.
pub async fn convert_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    match Ui::load(&state, signed, Some("Lead")).await {
        Ok(ui) => convert_page(ui, &id, ConvertForm::default(), Vec::new(), StatusCode::OK).await,
        Err(response) => response,
    }
}

/// `POST /r/{Id}/convert`: converts, then shows the lead with links to what it became.
pub async fn convert(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked { signed, form }: Checked<ConvertForm>,
) -> Response {
    let ui = match Ui::load(&state, signed, Some("Lead")).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let chosen = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let request = LeadConvert {
        lead_id: id.clone(),
        converted_status: form.status.clone(),
        account_id: chosen(&form.account),
        contact_id: chosen(&form.contact),
        do_not_create_opportunity: form.no_opportunity.is_some(),
        opportunity_name: chosen(form.opportunity_name.trim()),
        ..LeadConvert::default()
    };
    match ui.app.convert_lead(&ui.caller, request).await {
        Ok(_) => Redirect::to(&format!("/r/{id}")).into_response(),
        Err(app::AppError::Rejected(errors)) => {
            let messages = errors.into_iter().map(|e| e.message).collect();
            convert_page(ui, &id, form, messages, StatusCode::BAD_REQUEST).await
        }
        Err(error) => server_error(&error),
    }
}
