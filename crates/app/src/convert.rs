//! Lead conversion: a lead becomes an account (new, or an existing one filled where empty),
//! a contact (likewise, on that account) and, unless asked not to, an opportunity; its
//! activities and campaign memberships follow the new records; the lead is marked converted
//! and read-only from then on. One lead converts all or nothing (a savepoint per lead, so a
//! bulk conversion reports each lead's outcome). Every record is written through the same
//! record path as the API's writes: validation, field-level security, sharing, history.

use model::{ErrorCode, FieldType, ObjectDef, RecordError, RecordId, Value};
use serde_json::Value as Json;

use crate::records::{RecordInput, Update};
use crate::work::Work;
use crate::{App, AppError, Caller, Result, WriteOptions};

/// Lead fields and the account fields they fill.
const TO_ACCOUNT: [(&str, &str); 14] = [
    ("Company", "Name"),
    ("Phone", "Phone"),
    ("Fax", "Fax"),
    ("Website", "Website"),
    ("Industry", "Industry"),
    ("AnnualRevenue", "AnnualRevenue"),
    ("NumberOfEmployees", "NumberOfEmployees"),
    ("Rating", "Rating"),
    ("Street", "BillingStreet"),
    ("City", "BillingCity"),
    ("State", "BillingState"),
    ("PostalCode", "BillingPostalCode"),
    ("Country", "BillingCountry"),
    ("LeadSource", "AccountSource"),
];

/// Lead fields and the contact fields they fill.
const TO_CONTACT: [(&str, &str); 18] = [
    ("Salutation", "Salutation"),
    ("FirstName", "FirstName"),
    ("LastName", "LastName"),
    ("Title", "Title"),
    ("Street", "MailingStreet"),
    ("City", "MailingCity"),
    ("State", "MailingState"),
    ("PostalCode", "MailingPostalCode"),
    ("Country", "MailingCountry"),
    ("Phone", "Phone"),
    ("Fax", "Fax"),
    ("MobilePhone", "MobilePhone"),
    ("Email", "Email"),
    ("Description", "Description"),
    ("LeadSource", "LeadSource"),
    ("HasOptedOutOfEmail", "HasOptedOutOfEmail"),
    ("HasOptedOutOfFax", "HasOptedOutOfFax"),
    ("DoNotCall", "DoNotCall"),
];

/// Contact fields an existing contact keeps as they are (the person's own choices).
const KEPT_ON_EXISTING_CONTACT: [&str; 3] = ["HasOptedOutOfEmail", "HasOptedOutOfFax", "DoNotCall"];

/// One lead to convert, as `convertLead` takes it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadConvert {
    #[serde(default)]
    pub lead_id: String,
    #[serde(default)]
    pub converted_status: String,
    /// Convert into this existing account instead of a new one.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Convert into this existing contact (of `account_id`) instead of a new one.
    #[serde(default)]
    pub contact_id: Option<String>,
    #[serde(default)]
    pub do_not_create_opportunity: bool,
    /// The new opportunity's name (default: the lead's company).
    #[serde(default)]
    pub opportunity_name: Option<String>,
    /// The owner of the records created (default: the lead's owner; required when a queue
    /// owns the lead).
    #[serde(default)]
    pub owner_id: Option<String>,
    /// Also replace LeadSource on an existing contact.
    #[serde(default)]
    pub overwrite_lead_source: bool,
}

/// What a conversion made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    pub lead_id: String,
    pub account_id: String,
    pub contact_id: String,
    pub opportunity_id: Option<String>,
}

/// Existing records a lead may be converted into.
#[derive(Debug, Clone, Default)]
pub struct Matches {
    /// (id, name): accounts named as the lead's company, or whose website has its domain.
    pub accounts: Vec<(String, String)>,
    /// (id, name, account id): contacts with the lead's email, or its first and last name.
    pub contacts: Vec<(String, String, Option<String>)>,
}

fn rejected(code: ErrorCode, field: Option<&str>, message: impl Into<String>) -> AppError {
    match field {
        Some(field) => AppError::on_field(code, field, message),
        None => AppError::one(code, message),
    }
}

/// The first error of a single-record write, as the conversion's error.
fn first_result(results: Vec<crate::RecordResult>) -> Result<RecordId> {
    match results.into_iter().next() {
        Some(Ok(id)) => Ok(id),
        Some(Err(errors)) => Err(AppError::Rejected(errors)),
        None => Err(AppError::one(
            ErrorCode::UnknownException,
            "nothing was written",
        )),
    }
}

fn text_of(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_text).map(str::to_string)
}

impl App {
    /// Converts one lead (`POST …/rapport/leads/{id}/convert`).
    pub async fn convert_lead(&self, caller: &Caller, convert: LeadConvert) -> Result<Converted> {
        let mut results = self.convert_leads(caller, vec![convert]).await?;
        match results.pop() {
            Some(Ok(converted)) => Ok(converted),
            Some(Err(errors)) => Err(AppError::Rejected(errors)),
            None => Err(AppError::one(
                ErrorCode::UnknownException,
                "nothing was converted",
            )),
        }
    }

    /// Converts leads, each all or nothing; the outcome of each, in order.
    pub async fn convert_leads(
        &self,
        caller: &Caller,
        converts: Vec<LeadConvert>,
    ) -> Result<Vec<std::result::Result<Converted, Vec<RecordError>>>> {
        let access = self.access(caller).await?;
        if caller.user_id.is_some() && !access.converts_leads() {
            return Err(AppError::one(
                ErrorCode::InsufficientAccessOrReadonly,
                "converting leads needs the Convert Leads permission",
            ));
        }
        let today = self.today_for(caller).await?.date;
        let fiscal_start = self.org_settings().await?.fiscal_year_start_month;
        let close_date = crate::dates::range("THIS_FISCAL_QUARTER", None, today, fiscal_start)
            // The range ends the day after the quarter's last day.
            .and_then(|(_, after)| after.previous_day())
            .unwrap_or(today);
        let context = Context {
            today,
            close_date,
            mappings: self.lead_mappings().await?,
        };
        let mut outcomes = Vec::with_capacity(converts.len());
        // A unit of work holds a bounded block of record numbers: a few dozen leads each.
        for chunk in converts.chunks(50) {
            let mut work = self.begin_work().await?;
            for convert in chunk {
                work.tx.savepoint("convert_lead").await?;
                match self.convert_one(&mut work, caller, convert, &context).await {
                    Ok(converted) => {
                        work.tx.release("convert_lead").await?;
                        outcomes.push(Ok(converted));
                    }
                    Err(AppError::Rejected(errors)) => {
                        work.tx.rollback_to("convert_lead").await?;
                        outcomes.push(Err(errors));
                    }
                    Err(other) => return Err(other),
                }
            }
            work.commit().await?;
        }
        Ok(outcomes)
    }

    async fn convert_one(
        &self,
        work: &mut Work,
        caller: &Caller,
        convert: &LeadConvert,
        context: &Context,
    ) -> Result<Converted> {
        let schema = work.schema.clone();
        let object = |name: &str| {
            schema
                .object(name)
                .cloned()
                .ok_or_else(|| AppError::one(ErrorCode::InvalidType, format!("no {name} object")))
        };
        let (lead_object, account_object, contact_object, opportunity_object) = (
            object("Lead")?,
            object("Account")?,
            object("Contact")?,
            object("Opportunity")?,
        );
        // The lead: visible and editable to the caller, not yet converted.
        let lead = self
            .get_in_work(work, caller, "Lead", &convert.lead_id, None)
            .await?;
        let lead_id = lead
            .id()
            .cloned()
            .ok_or_else(|| AppError::one(ErrorCode::NotFound, "no such lead"))?;
        self.require_editable(
            Some(&mut work.tx),
            caller,
            &lead_object,
            std::slice::from_ref(&lead_id),
        )
        .await?;
        if lead.get("IsConverted") == Some(&Value::Bool(true)) {
            return Err(rejected(
                ErrorCode::CannotUpdateConvertedLead,
                None,
                format!("The lead {} is already converted", lead_id.to_18()),
            ));
        }
        let status = lead_object
            .field("Status")
            .and_then(|f| f.picklist_value(&convert.converted_status))
            .filter(|v| v.converted && v.active)
            .ok_or_else(|| {
                let converted: Vec<String> = lead_object
                    .field("Status")
                    .map(|f| {
                        f.values
                            .iter()
                            .filter(|v| v.converted && v.active)
                            .map(|v| format!("'{}'", v.value))
                            .collect()
                    })
                    .unwrap_or_default();
                rejected(
                    ErrorCode::InvalidStatus,
                    Some("convertedStatus"),
                    format!(
                        "invalid convertedStatus: '{}' is not a converted lead status (use {})",
                        convert.converted_status,
                        converted.join(" or ")
                    ),
                )
            })?
            .value
            .clone();
        // The owner of what is made: a user, never a queue.
        let owner = match &convert.owner_id {
            Some(owner) => RecordId::parse(owner).map_err(|_| {
                rejected(
                    ErrorCode::MalformedId,
                    Some("ownerId"),
                    format!("invalid ownerId: {owner}"),
                )
            })?,
            None => lead
                .get("OwnerId")
                .and_then(Value::as_id)
                .cloned()
                .ok_or_else(|| {
                    rejected(
                        ErrorCode::RequiredFieldMissing,
                        Some("ownerId"),
                        "the lead has no owner",
                    )
                })?,
        };
        if owner.key_prefix() != "005" {
            return Err(rejected(
                ErrorCode::InvalidCrossReferenceKey,
                Some("ownerId"),
                "Converted records can only be owned by users: the lead is owned by a queue, so give the ownerId of a user",
            ));
        }
        let owner_json = Json::from(owner.to_18());
        let to_account = context.mapping(&TO_ACCOUNT, "Account");
        let to_contact = context.mapping(&TO_CONTACT, "Contact");
        let to_opportunity = context.mapping(&[], "Opportunity");
        let lead_value = |field: &str| lead.get(field).filter(|v| !v.is_null());

        // The account: an existing one filled where empty, or a new one.
        let account_id = match &convert.account_id {
            Some(id) => {
                let existing = self
                    .get_in_work(work, caller, "Account", id, None)
                    .await
                    .map_err(|_| {
                        rejected(
                            ErrorCode::InvalidCrossReferenceKey,
                            Some("accountId"),
                            format!("invalid accountId: {id}"),
                        )
                    })?;
                let account_id = existing
                    .id()
                    .cloned()
                    .ok_or_else(crate::records::not_found)?;
                let fill = fill_empty(&account_object, &existing, &lead, &to_account, &[], false);
                if !fill.is_empty() {
                    self.update_one_in(work, caller, "Account", &account_id, fill)
                        .await?;
                }
                account_id
            }
            None => {
                let mut input = mapped(&account_object, &lead, &to_account);
                input.insert("OwnerId".into(), owner_json.clone());
                self.create_one_in(work, caller, "Account", input).await?
            }
        };

        // The contact: an existing one of that account filled where empty, or a new one.
        let contact_id = match &convert.contact_id {
            Some(id) => {
                let existing = self
                    .get_in_work(work, caller, "Contact", id, None)
                    .await
                    .map_err(|_| {
                        rejected(
                            ErrorCode::InvalidCrossReferenceKey,
                            Some("contactId"),
                            format!("invalid contactId: {id}"),
                        )
                    })?;
                let contact_id = existing
                    .id()
                    .cloned()
                    .ok_or_else(crate::records::not_found)?;
                if existing.get("AccountId").and_then(Value::as_id) != Some(&account_id) {
                    return Err(rejected(
                        ErrorCode::InvalidCrossReferenceKey,
                        Some("contactId"),
                        "the contact must belong to the account the lead converts into",
                    ));
                }
                let fill = fill_empty(
                    &contact_object,
                    &existing,
                    &lead,
                    &to_contact,
                    &KEPT_ON_EXISTING_CONTACT,
                    convert.overwrite_lead_source,
                );
                if !fill.is_empty() {
                    self.update_one_in(work, caller, "Contact", &contact_id, fill)
                        .await?;
                }
                contact_id
            }
            None => {
                let mut input = mapped(&contact_object, &lead, &to_contact);
                input.insert("AccountId".into(), account_id.to_18().into());
                input.insert("OwnerId".into(), owner_json.clone());
                self.create_one_in(work, caller, "Contact", input).await?
            }
        };

        // The opportunity: named for the company, at the first stage, closing at the end of
        // the fiscal quarter, from the lead's most recent campaign.
        let opportunity_id = if convert.do_not_create_opportunity {
            None
        } else {
            let name = convert
                .opportunity_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .or_else(|| text_of(lead_value("Company")))
                .unwrap_or_default();
            let stage = opportunity_object
                .field("StageName")
                .and_then(|f| f.values.iter().find(|v| v.active))
                .map(|v| v.value.clone())
                .unwrap_or_default();
            let mut input = mapped(&opportunity_object, &lead, &to_opportunity);
            input.insert("Name".into(), name.into());
            input.insert("StageName".into(), stage.into());
            input.insert(
                "CloseDate".into(),
                model::value::format_date(context.close_date).into(),
            );
            input.insert("AccountId".into(), account_id.to_18().into());
            input.insert("OwnerId".into(), owner_json.clone());
            if let Some(source) = lead_value("LeadSource")
                && opportunity_object.field("LeadSource").is_some()
            {
                input.insert("LeadSource".into(), source.to_json());
            }
            if opportunity_object.field("CampaignId").is_some()
                && let Some(campaign) = self.latest_campaign(work, &lead_id).await?
            {
                input.insert("CampaignId".into(), campaign.to_18().into());
            }
            Some(
                self.create_one_in(work, caller, "Opportunity", input)
                    .await?,
            )
        };

        // What hung off the lead now hangs off the new records.
        let campaigns = self
            .move_lead_children(work, &lead, &contact_id, opportunity_id.as_ref(), convert)
            .await?;

        // The lead: the converted status (through the record path: validation, history),
        // then the conversion fields, which no caller may write.
        let mut input = RecordInput::new();
        input.insert("Status".into(), status.into());
        self.update_one_in(work, &Caller::system(), "Lead", &lead_id, input)
            .await?;
        let field = |name: &str| {
            lead_object.field(name).ok_or_else(|| {
                AppError::one(ErrorCode::InvalidField, format!("Lead has no {name} field"))
            })
        };
        let sets = vec![
            (field("IsConverted")?, Value::Bool(true)),
            (field("ConvertedDate")?, Value::Date(context.today)),
            (field("ConvertedAccountId")?, Value::Id(account_id.clone())),
            (field("ConvertedContactId")?, Value::Id(contact_id.clone())),
            (
                field("ConvertedOpportunityId")?,
                opportunity_id.clone().map_or(Value::Null, Value::Id),
            ),
        ];
        store::records::update(&mut work.tx, &lead_object, &lead_id, &sets, None).await?;
        self.count_converted_in_campaigns(work, caller, &campaigns)
            .await?;
        Ok(Converted {
            lead_id: lead_id.to_18(),
            account_id: account_id.to_18(),
            contact_id: contact_id.to_18(),
            opportunity_id: opportunity_id.map(|id| id.to_18()),
        })
    }

    /// A converted lead counts as converted in the campaigns it is a member of.
    async fn count_converted_in_campaigns(
        &self,
        work: &mut Work,
        caller: &Caller,
        campaigns: &[RecordId],
    ) -> Result<()> {
        if campaigns.is_empty() {
            return Ok(());
        }
        let schema = work.schema.clone();
        self.refresh_rollups(
            &mut work.tx,
            &schema,
            "Campaign",
            Some("CampaignMember"),
            campaigns,
            &mut work.numbers,
            caller,
            model::value::now_millis(),
        )
        .await
    }

    async fn create_one_in(
        &self,
        work: &mut Work,
        caller: &Caller,
        object: &str,
        input: RecordInput,
    ) -> Result<RecordId> {
        let results = self
            .create_many_in(
                work,
                caller,
                object,
                vec![input],
                WriteOptions { all_or_none: true },
            )
            .await?;
        first_result(results)
    }

    async fn update_one_in(
        &self,
        work: &mut Work,
        caller: &Caller,
        object: &str,
        id: &RecordId,
        input: RecordInput,
    ) -> Result<RecordId> {
        let results = self
            .update_many_in(
                work,
                caller,
                object,
                vec![Update {
                    id: id.to_18(),
                    input,
                    if_unmodified_since: None,
                }],
                WriteOptions { all_or_none: true },
            )
            .await?;
        first_result(results)
    }

    /// The campaign of the lead's most recent membership.
    async fn latest_campaign(&self, work: &mut Work, lead: &RecordId) -> Result<Option<RecordId>> {
        let Some(members) = work.schema.object("CampaignMember").cloned() else {
            return Ok(None);
        };
        let (Some(lead_field), Some(campaign), Some(created)) = (
            members.field("LeadId"),
            members.field("CampaignId"),
            members.field("CreatedDate"),
        ) else {
            return Ok(None);
        };
        let mut select = store::Select::new(&members, vec![campaign]);
        select.filter = Some(store::Filter::eq(&lead_field.name, Value::Id(lead.clone())));
        select.order_by = vec![(created.name.clone(), true)];
        select.limit = Some(1);
        Ok(store::records::select_in(&mut work.tx, &select)
            .await?
            .into_iter()
            .next()
            .and_then(|row| row.first().and_then(Value::as_id).cloned()))
    }

    /// Activities and campaign memberships of the lead move to the contact (and to the
    /// opportunity where they had no related record); with a new owner, open tasks go to
    /// them too.
    async fn move_lead_children(
        &self,
        work: &mut Work,
        lead: &crate::Record,
        contact: &RecordId,
        opportunity: Option<&RecordId>,
        convert: &LeadConvert,
    ) -> Result<Vec<RecordId>> {
        let Some(lead_id) = lead.id().cloned() else {
            return Ok(Vec::new());
        };
        let system = Caller::system();
        let new_owner = convert.owner_id.as_ref().filter(|owner| {
            lead.get("OwnerId")
                .and_then(Value::as_id)
                .map(RecordId::to_18)
                != RecordId::parse(owner).ok().map(|id| id.to_18())
        });
        for object_name in ["Task", "Event"] {
            let Some(object) = work.schema.object(object_name).cloned() else {
                continue;
            };
            let wanted: Vec<&model::FieldDef> = ["Id", "WhatId", "IsClosed"]
                .iter()
                .filter_map(|f| object.field(f))
                .collect();
            let mut select = store::Select::new(&object, wanted.clone());
            select.filter = Some(store::Filter::eq("WhoId", Value::Id(lead_id.clone())));
            let rows = store::records::select_in(&mut work.tx, &select).await?;
            let mut updates = Vec::new();
            for row in rows {
                let value = |name: &str| {
                    wanted
                        .iter()
                        .position(|f| f.name == name)
                        .and_then(|p| row.get(p))
                };
                let Some(Value::Id(id)) = value("Id") else {
                    continue;
                };
                let mut input = RecordInput::new();
                input.insert("WhoId".into(), contact.to_18().into());
                if let Some(opportunity) = opportunity
                    && value("WhatId").is_none_or(Value::is_null)
                {
                    input.insert("WhatId".into(), opportunity.to_18().into());
                }
                let open = value("IsClosed") != Some(&Value::Bool(true));
                if let Some(owner) = new_owner
                    && open
                    && object_name == "Task"
                {
                    input.insert("OwnerId".into(), owner.clone().into());
                }
                updates.push(Update {
                    id: id.to_18(),
                    input,
                    if_unmodified_since: None,
                });
            }
            if !updates.is_empty() {
                let results = self
                    .update_many_in(
                        work,
                        &system,
                        object_name,
                        updates,
                        WriteOptions { all_or_none: true },
                    )
                    .await?;
                for result in results {
                    result.map_err(AppError::Rejected)?;
                }
            }
        }
        let mut campaigns = Vec::new();
        if let Some(members) = work.schema.object("CampaignMember").cloned()
            && let (Some(id), Some(campaign)) = (members.field("Id"), members.field("CampaignId"))
        {
            let mut select = store::Select::new(&members, vec![id, campaign]);
            select.filter = Some(store::Filter::eq("LeadId", Value::Id(lead_id.clone())));
            let rows = store::records::select_in(&mut work.tx, &select).await?;
            campaigns.extend(rows.iter().filter_map(|row| row.get(1)?.as_id().cloned()));
            let updates: Vec<Update> = rows
                .into_iter()
                .filter_map(|row| row.first().and_then(Value::as_id).cloned())
                .map(|id| {
                    let mut input = RecordInput::new();
                    input.insert("ContactId".into(), contact.to_18().into());
                    Update {
                        id: id.to_18(),
                        input,
                        if_unmodified_since: None,
                    }
                })
                .collect();
            if !updates.is_empty() {
                for result in self
                    .update_many_in(
                        work,
                        &system,
                        "CampaignMember",
                        updates,
                        WriteOptions { all_or_none: true },
                    )
                    .await?
                {
                    result.map_err(AppError::Rejected)?;
                }
            }
        }
        Ok(campaigns)
    }

    /// Existing accounts and contacts a lead may be converted into, among those the caller
    /// sees: accounts named as the company (or with the website's domain), contacts with the
    /// email (or the same first and last name).
    pub async fn conversion_matches(&self, caller: &Caller, lead_id: &str) -> Result<Matches> {
        let lead = self.get(caller, "Lead", lead_id, None).await?;
        let text = |f: &str| text_of(lead.get(f)).filter(|t| !t.trim().is_empty());
        let mut matches = Matches::default();
        let mut account_filters = Vec::new();
        if let Some(company) = text("Company") {
            account_filters.push(format!("Name = {}", soql::quote_string(&company)));
        }
        if let Some(domain) = text("Website").as_deref().and_then(website_domain) {
            account_filters.push(format!(
                "Website LIKE {}",
                soql::quote_string(&format!("%{domain}%"))
            ));
        }
        let options = crate::query::QueryOptions {
            page_size: 20,
            ..Default::default()
        };
        let cell = |row: &crate::query::Row, i: usize| match row.cells.get(i).map(|c| &c.1) {
            Some(crate::query::Cell::Value(v)) => v
                .as_text()
                .map(str::to_string)
                .or_else(|| v.as_id().map(RecordId::to_18)),
            _ => None,
        };
        if !account_filters.is_empty() {
            let soql = format!(
                "SELECT Id, Name FROM Account WHERE {} ORDER BY Name LIMIT 20",
                account_filters.join(" OR ")
            );
            for row in self.query(caller, &soql, options.clone()).await?.rows {
                if let (Some(id), Some(name)) = (row.id.as_ref(), cell(&row, 1)) {
                    matches.accounts.push((id.to_18(), name));
                }
            }
        }
        let mut contact_filters = Vec::new();
        if let Some(email) = text("Email") {
            contact_filters.push(format!("Email = {}", soql::quote_string(&email)));
        }
        if let (Some(first), Some(last)) = (text("FirstName"), text("LastName")) {
            contact_filters.push(format!(
                "(FirstName = {} AND LastName = {})",
                soql::quote_string(&first),
                soql::quote_string(&last)
            ));
        }
        if !contact_filters.is_empty() {
            let soql = format!(
                "SELECT Id, Name, AccountId FROM Contact WHERE {} ORDER BY Name LIMIT 20",
                contact_filters.join(" OR ")
            );
            for row in self.query(caller, &soql, options).await?.rows {
                if let (Some(id), Some(name)) = (row.id.as_ref(), cell(&row, 1)) {
                    matches.contacts.push((id.to_18(), name, cell(&row, 2)));
                }
            }
        }
        Ok(matches)
    }
}

/// What a conversion needs to know of today.
struct Context {
    today: time::Date,
    close_date: time::Date,
    /// The administrator's custom lead field mappings.
    mappings: Vec<crate::lead_map::LeadMapping>,
}

impl Context {
    /// A standard mapping to `object` with the custom fields mapped to it.
    fn mapping<'c>(
        &'c self,
        standard: &[(&'c str, &'c str)],
        object: &str,
    ) -> Vec<(&'c str, &'c str)> {
        standard
            .iter()
            .copied()
            .chain(
                self.mappings
                    .iter()
                    .filter(|m| m.object == object)
                    .map(|m| (m.lead_field.as_str(), m.field.as_str())),
            )
            .collect()
    }
}

/// `example.com` of `https://www.example.com/about`.
fn website_domain(website: &str) -> Option<String> {
    let rest = website
        .trim()
        .split_once("://")
        .map_or(website.trim(), |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    host.contains('.').then_some(host)
}

/// A new record's fields from the lead, through a mapping (fields the target lacks, and
/// values the lead lacks, are left out).
fn mapped(target: &ObjectDef, lead: &crate::Record, mapping: &[(&str, &str)]) -> RecordInput {
    let mut input = RecordInput::new();
    for (from, to) in mapping {
        let Some(field) = target.field(to) else {
            continue;
        };
        if field.field_type == FieldType::Id || !field.createable() {
            continue;
        }
        if let Some(value) = lead.get(from).filter(|v| !v.is_null()) {
            input.insert(field.name.clone(), value.to_json());
        }
    }
    input
}

/// The fields of an existing record the lead fills: only empty ones (never `kept`), and
/// LeadSource also when `overwrite_source`.
fn fill_empty(
    target: &ObjectDef,
    existing: &crate::Record,
    lead: &crate::Record,
    mapping: &[(&str, &str)],
    kept: &[&str],
    overwrite_source: bool,
) -> RecordInput {
    let mut input = RecordInput::new();
    for (from, to) in mapping {
        let Some(field) = target.field(to) else {
            continue;
        };
        if kept.contains(to) || !field.updateable() {
            continue;
        }
        let Some(value) = lead.get(from).filter(|v| !v.is_null()) else {
            continue;
        };
        let empty = existing.get(to).is_none_or(Value::is_null);
        let overwrite = overwrite_source && *to == "LeadSource";
        if empty || overwrite {
            input.insert(field.name.clone(), value.to_json());
        }
    }
    input
}

#[cfg(test)]
mod tests {
    use super::website_domain;

    #[test]
    fn website_domains() {
        assert_eq!(
            website_domain("https://www.Example.com/about").as_deref(),
            Some("example.com")
        );
        assert_eq!(website_domain("huawei.com").as_deref(), Some("huawei.com"));
        assert_eq!(website_domain("localhost"), None);
    }
}
