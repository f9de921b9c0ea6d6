//! Lead conversion: a lead becomes an account (new, or an existing one filled where empty),
//! a contact (likewise, on that account) and, unless asked not to, an opportunity; its
//! activities and campaign memberships follow the new records; the lead is marked converted
//! and read-only from then on. One lead converts all or nothing (a savepoint per lead, so a
//! bulk conversion reports each lead's outcome). Every record is written through the same
//! record path as the API's writes: validation, field-level security, sharing, history.

use std::collections::HashMap;

use model::{ErrorCode, FieldType, ObjectDef, RecordError, RecordId, Value};

use crate::records::{RecordInput, Update, roll_back_to};
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
        for chunk in converts.chunks(SET) {
            let mut work = self.begin_work().await?;
            work.tx.savepoint("convert_set").await?;
            match self.convert_set(&mut work, caller, chunk, &context).await {
                Ok(converted) => {
                    work.tx.release("convert_set").await?;
                    outcomes.extend(converted.into_iter().map(Ok));
                }
                Err(AppError::Rejected(errors)) => {
                    roll_back_to(&mut work.tx, "convert_set", &mut work.numbers).await?;
                    if let [_] = chunk {
                        outcomes.push(Err(errors));
                    } else {
                        // Some lead of the set cannot convert: convert them one by one, so
                        // that each lead gets its own outcome.
                        for convert in chunk {
                            outcomes.push(
                                self.convert_alone(&mut work, caller, convert, &context)
                                    .await?,
                            );
                        }
                    }
                }
                Err(other) => return Err(other),
            }
            work.commit().await?;
        }
        Ok(outcomes)
    }

    /// Converts one lead inside the unit of work, all or nothing.
    async fn convert_alone(
        &self,
        work: &mut Work,
        caller: &Caller,
        convert: &LeadConvert,
        context: &Context,
    ) -> Result<std::result::Result<Converted, Vec<RecordError>>> {
        work.tx.savepoint("convert_lead").await?;
        match self
            .convert_set(work, caller, std::slice::from_ref(convert), context)
            .await
        {
            Ok(mut converted) => {
                work.tx.release("convert_lead").await?;
                converted.pop().map(Ok).ok_or_else(|| {
                    AppError::one(ErrorCode::UnknownException, "nothing was converted")
                })
            }
            Err(AppError::Rejected(errors)) => {
                roll_back_to(&mut work.tx, "convert_lead", &mut work.numbers).await?;
                Ok(Err(errors))
            }
            Err(other) => Err(other),
        }
    }

    /// Converts a set of leads together: each kind of record is written in one bulk call
    /// for the whole set (the same record path, a handful of statements per set instead of
    /// dozens per lead). Any lead's failure fails the set; the caller then converts the
    /// leads one by one.
    async fn convert_set(
        &self,
        work: &mut Work,
        caller: &Caller,
        converts: &[LeadConvert],
        context: &Context,
    ) -> Result<Vec<Converted>> {
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
        // The leads: visible and editable to the caller, not yet converted, each once.
        let asked: Vec<&str> = converts.iter().map(|c| c.lead_id.as_str()).collect();
        let leads = self
            .get_many_in(Some(&mut work.tx), &schema, caller, "Lead", &asked, None)
            .await?;
        let lead_ids: Vec<RecordId> = leads.iter().filter_map(|l| l.id().cloned()).collect();
        let distinct: std::collections::HashSet<&RecordId> = lead_ids.iter().collect();
        if distinct.len() != lead_ids.len() || lead_ids.len() != converts.len() {
            return Err(AppError::one(
                ErrorCode::DuplicateValue,
                "a lead is named more than once",
            ));
        }
        self.require_editable(Some(&mut work.tx), caller, &lead_object, &lead_ids)
            .await?;
        let plans = converts
            .iter()
            .zip(&leads)
            .map(|(convert, lead)| Plan::of(&lead_object, convert, lead))
            .collect::<Result<Vec<Plan>>>()?;
        let to_account = context.mapping(&TO_ACCOUNT, "Account");
        let to_contact = context.mapping(&TO_CONTACT, "Contact");
        let to_opportunity = context.mapping(&[], "Opportunity");

        // The accounts: an existing one filled where empty, or a new one.
        let mut accounts: Vec<Option<RecordId>> = vec![None; plans.len()];
        let mut new_accounts = Vec::new();
        for (i, (plan, lead)) in plans.iter().zip(&leads).enumerate() {
            match &plan.convert.account_id {
                Some(id) => {
                    let existing = self
                        .existing(work, caller, "Account", id, "accountId")
                        .await?;
                    let fill =
                        fill_empty(&account_object, &existing, lead, &to_account, &[], false);
                    accounts[i] = Some(self.fill_in(work, caller, &existing, fill).await?);
                }
                None => {
                    let mut input = mapped(&account_object, lead, &to_account);
                    input.insert("OwnerId".into(), plan.owner.to_18().into());
                    new_accounts.push((i, input));
                }
            }
        }
        self.create_into(work, caller, "Account", new_accounts, &mut accounts)
            .await?;
        let accounts = all_made(accounts)?;

        // The contacts: an existing one of that account filled where empty, or a new one.
        let mut contacts: Vec<Option<RecordId>> = vec![None; plans.len()];
        let mut new_contacts = Vec::new();
        for (i, ((plan, lead), account)) in plans.iter().zip(&leads).zip(&accounts).enumerate() {
            match &plan.convert.contact_id {
                Some(id) => {
                    let existing = self
                        .existing(work, caller, "Contact", id, "contactId")
                        .await?;
                    if existing.get("AccountId").and_then(Value::as_id) != Some(account) {
                        return Err(rejected(
                            ErrorCode::InvalidCrossReferenceKey,
                            Some("contactId"),
                            "the contact must belong to the account the lead converts into",
                        ));
                    }
                    let fill = fill_empty(
                        &contact_object,
                        &existing,
                        lead,
                        &to_contact,
                        &KEPT_ON_EXISTING_CONTACT,
                        plan.convert.overwrite_lead_source,
                    );
                    contacts[i] = Some(self.fill_in(work, caller, &existing, fill).await?);
                }
                None => {
                    let mut input = mapped(&contact_object, lead, &to_contact);
                    input.insert("AccountId".into(), account.to_18().into());
                    input.insert("OwnerId".into(), plan.owner.to_18().into());
                    new_contacts.push((i, input));
                }
            }
        }
        self.create_into(work, caller, "Contact", new_contacts, &mut contacts)
            .await?;
        let contacts = all_made(contacts)?;

        // The opportunities: named for the company, at the first stage, closing at the end
        // of the fiscal quarter, from the lead's most recent campaign.
        let makes_opportunities = plans.iter().any(|p| !p.convert.do_not_create_opportunity);
        let campaign_of = if makes_opportunities && opportunity_object.field("CampaignId").is_some()
        {
            self.latest_campaigns(work, &lead_ids).await?
        } else {
            HashMap::new()
        };
        let stage = opportunity_object
            .field("StageName")
            .and_then(|f| f.values.iter().find(|v| v.active))
            .map(|v| v.value.clone())
            .unwrap_or_default();
        let mut opportunities: Vec<Option<RecordId>> = vec![None; plans.len()];
        let mut new_opportunities = Vec::new();
        for (i, ((plan, lead), account)) in plans.iter().zip(&leads).zip(&accounts).enumerate() {
            if plan.convert.do_not_create_opportunity {
                continue;
            }
            let lead_value = |field: &str| lead.get(field).filter(|v| !v.is_null());
            let name = plan
                .convert
                .opportunity_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .or_else(|| text_of(lead_value("Company")))
                .unwrap_or_default();
            let mut input = mapped(&opportunity_object, lead, &to_opportunity);
            input.insert("Name".into(), name.into());
            input.insert("StageName".into(), stage.clone().into());
            input.insert(
                "CloseDate".into(),
                model::value::format_date(context.close_date).into(),
            );
            input.insert("AccountId".into(), account.to_18().into());
            input.insert("OwnerId".into(), plan.owner.to_18().into());
            if let Some(source) = lead_value("LeadSource")
                && opportunity_object.field("LeadSource").is_some()
            {
                input.insert("LeadSource".into(), source.to_json());
            }
            if let Some(campaign) = campaign_of.get(&lead_ids[i]) {
                input.insert("CampaignId".into(), campaign.to_18().into());
            }
            new_opportunities.push((i, input));
        }
        self.create_into(
            work,
            caller,
            "Opportunity",
            new_opportunities,
            &mut opportunities,
        )
        .await?;

        // What hung off the leads now hangs off the new records.
        let targets: HashMap<RecordId, Target> = plans
            .iter()
            .zip(&lead_ids)
            .zip(contacts.iter().zip(&opportunities))
            .map(|((plan, lead), (contact, opportunity))| {
                (
                    lead.clone(),
                    Target {
                        contact: contact.clone(),
                        opportunity: opportunity.clone(),
                        new_owner: plan.new_owner.clone(),
                    },
                )
            })
            .collect();
        self.move_activities(work, &targets).await?;
        let campaigns = self.move_memberships(work, &targets).await?;

        // The leads: the converted status (through the record path: validation, history),
        // then the conversion fields, which no caller may write.
        let updates = plans
            .iter()
            .zip(&lead_ids)
            .map(|(plan, id)| {
                let mut input = RecordInput::new();
                input.insert("Status".into(), plan.status.clone().into());
                Update {
                    id: id.to_18(),
                    input,
                    if_unmodified_since: None,
                }
            })
            .collect();
        self.update_all_in(work, &Caller::system(), "Lead", updates)
            .await?;
        let field = |name: &str| {
            lead_object.field(name).ok_or_else(|| {
                AppError::one(ErrorCode::InvalidField, format!("Lead has no {name} field"))
            })
        };
        let (
            is_converted,
            converted_date,
            converted_account,
            converted_contact,
            converted_opportunity,
        ) = (
            field("IsConverted")?,
            field("ConvertedDate")?,
            field("ConvertedAccountId")?,
            field("ConvertedContactId")?,
            field("ConvertedOpportunityId")?,
        );
        let mut converted = Vec::with_capacity(plans.len());
        for ((lead_id, account), (contact, opportunity)) in lead_ids
            .iter()
            .zip(accounts)
            .zip(contacts.into_iter().zip(opportunities))
        {
            let sets = vec![
                (is_converted, Value::Bool(true)),
                (converted_date, Value::Date(context.today)),
                (converted_account, Value::Id(account.clone())),
                (converted_contact, Value::Id(contact.clone())),
                (
                    converted_opportunity,
                    opportunity.clone().map_or(Value::Null, Value::Id),
                ),
            ];
            store::records::update(&mut work.tx, &lead_object, lead_id, &sets, None).await?;
            converted.push(Converted {
                lead_id: lead_id.to_18(),
                account_id: account.to_18(),
                contact_id: contact.to_18(),
                opportunity_id: opportunity.map(|id| id.to_18()),
            });
        }
        self.count_converted_in_campaigns(work, caller, &campaigns)
            .await?;
        Ok(converted)
    }

    /// Writes the fields a lead fills into an existing record (when there are any); its id.
    async fn fill_in(
        &self,
        work: &mut Work,
        caller: &Caller,
        existing: &crate::Record,
        fill: RecordInput,
    ) -> Result<RecordId> {
        let id = existing
            .id()
            .cloned()
            .ok_or_else(crate::records::not_found)?;
        if !fill.is_empty() {
            self.update_one_in(work, caller, &existing.object.name, &id, fill)
                .await?;
        }
        Ok(id)
    }

    /// An existing record a lead converts into, as the caller sees it (an id the caller
    /// cannot read is refused as an invalid reference, naming the parameter).
    async fn existing(
        &self,
        work: &mut Work,
        caller: &Caller,
        object: &str,
        id: &str,
        parameter: &str,
    ) -> Result<crate::Record> {
        self.get_in_work(work, caller, object, id, None)
            .await
            .map_err(|_| {
                rejected(
                    ErrorCode::InvalidCrossReferenceKey,
                    Some(parameter),
                    format!("invalid {parameter}: {id}"),
                )
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
        self.refresh_rollups(
            &mut work.write_context(caller, model::value::now_millis()),
            "Campaign",
            Some("CampaignMember"),
            campaigns,
        )
        .await
    }

    /// Creates the records of `inputs` in one bulk call, all or none, putting each new id
    /// in its lead's slot of `made`.
    async fn create_into(
        &self,
        work: &mut Work,
        caller: &Caller,
        object: &str,
        inputs: Vec<(usize, RecordInput)>,
        made: &mut [Option<RecordId>],
    ) -> Result<()> {
        if inputs.is_empty() {
            return Ok(());
        }
        let (slots, inputs): (Vec<usize>, Vec<RecordInput>) = inputs.into_iter().unzip();
        let results = self
            .create_many_in(
                work,
                caller,
                object,
                inputs,
                WriteOptions { all_or_none: true },
            )
            .await?;
        for (slot, result) in slots.into_iter().zip(results) {
            let id = result.map_err(AppError::Rejected)?;
            if let Some(place) = made.get_mut(slot) {
                *place = Some(id);
            }
        }
        Ok(())
    }

    /// Updates records in one bulk call, all or none.
    async fn update_all_in(
        &self,
        work: &mut Work,
        caller: &Caller,
        object: &str,
        updates: Vec<Update>,
    ) -> Result<()> {
        if updates.is_empty() {
            return Ok(());
        }
        for result in self
            .update_many_in(
                work,
                caller,
                object,
                updates,
                WriteOptions { all_or_none: true },
            )
            .await?
        {
            result.map_err(AppError::Rejected)?;
        }
        Ok(())
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

    /// The campaign of each lead's most recent membership.
    async fn latest_campaigns(
        &self,
        work: &mut Work,
        leads: &[RecordId],
    ) -> Result<HashMap<RecordId, RecordId>> {
        let Some(members) = work.schema.object("CampaignMember").cloned() else {
            return Ok(HashMap::new());
        };
        let (Some(lead_field), Some(campaign), Some(created)) = (
            members.field("LeadId"),
            members.field("CampaignId"),
            members.field("CreatedDate"),
        ) else {
            return Ok(HashMap::new());
        };
        let mut select = store::Select::new(&members, vec![lead_field, campaign]);
        select.filter = Some(of_leads(&lead_field.name, leads));
        select.order_by = vec![(created.name.clone(), true)];
        let mut latest = HashMap::new();
        for row in store::records::select_in(&mut work.tx, &select).await? {
            if let (Some(Value::Id(lead)), Some(Value::Id(campaign))) = (row.first(), row.get(1)) {
                // Newest first: the first membership seen is the lead's latest.
                latest
                    .entry(lead.clone())
                    .or_insert_with(|| campaign.clone());
            }
        }
        Ok(latest)
    }

    /// Tasks and events of the leads move to their contacts (and to their opportunities
    /// where they had no related record); with a new owner, open tasks go to them too.
    async fn move_activities(
        &self,
        work: &mut Work,
        targets: &HashMap<RecordId, Target>,
    ) -> Result<()> {
        let leads: Vec<RecordId> = targets.keys().cloned().collect();
        for object_name in ["Task", "Event"] {
            let Some(object) = work.schema.object(object_name).cloned() else {
                continue;
            };
            let wanted: Vec<&model::FieldDef> = ["Id", "WhoId", "WhatId", "IsClosed"]
                .iter()
                .filter_map(|f| object.field(f))
                .collect();
            let mut select = store::Select::new(&object, wanted.clone());
            select.filter = Some(of_leads("WhoId", &leads));
            let rows = store::records::select_in(&mut work.tx, &select).await?;
            let mut updates = Vec::new();
            for row in rows {
                let value = |name: &str| {
                    wanted
                        .iter()
                        .position(|f| f.name == name)
                        .and_then(|p| row.get(p))
                };
                let (Some(Value::Id(id)), Some(Value::Id(who))) = (value("Id"), value("WhoId"))
                else {
                    continue;
                };
                let Some(target) = targets.get(who) else {
                    continue;
                };
                let mut input = RecordInput::new();
                input.insert("WhoId".into(), target.contact.to_18().into());
                if let Some(opportunity) = &target.opportunity
                    && value("WhatId").is_none_or(Value::is_null)
                {
                    input.insert("WhatId".into(), opportunity.to_18().into());
                }
                let open = value("IsClosed") != Some(&Value::Bool(true));
                if let Some(owner) = &target.new_owner
                    && open
                    && object_name == "Task"
                {
                    input.insert("OwnerId".into(), owner.to_18().into());
                }
                updates.push(Update {
                    id: id.to_18(),
                    input,
                    if_unmodified_since: None,
                });
            }
            self.update_all_in(work, &Caller::system(), object_name, updates)
                .await?;
        }
        Ok(())
    }

    /// The leads' campaign memberships become their contacts'; the campaigns they were in.
    async fn move_memberships(
        &self,
        work: &mut Work,
        targets: &HashMap<RecordId, Target>,
    ) -> Result<Vec<RecordId>> {
        let Some(members) = work.schema.object("CampaignMember").cloned() else {
            return Ok(Vec::new());
        };
        let (Some(id), Some(lead), Some(campaign)) = (
            members.field("Id"),
            members.field("LeadId"),
            members.field("CampaignId"),
        ) else {
            return Ok(Vec::new());
        };
        let leads: Vec<RecordId> = targets.keys().cloned().collect();
        let mut select = store::Select::new(&members, vec![id, lead, campaign]);
        select.filter = Some(of_leads(&lead.name, &leads));
        let mut campaigns = Vec::new();
        let mut updates = Vec::new();
        for row in store::records::select_in(&mut work.tx, &select).await? {
            let (Some(Value::Id(member)), Some(Value::Id(lead)), Some(Value::Id(campaign))) =
                (row.first(), row.get(1), row.get(2))
            else {
                continue;
            };
            let Some(target) = targets.get(lead) else {
                continue;
            };
            if !campaigns.contains(campaign) {
                campaigns.push(campaign.clone());
            }
            let mut input = RecordInput::new();
            input.insert("ContactId".into(), target.contact.to_18().into());
            updates.push(Update {
                id: member.to_18(),
                input,
                if_unmodified_since: None,
            });
        }
        self.update_all_in(work, &Caller::system(), "CampaignMember", updates)
            .await?;
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

/// Leads converted together in one set (as many as a bulk API call takes).
const SET: usize = 200;

/// What one lead's conversion was asked, checked against the lead.
struct Plan<'c> {
    convert: &'c LeadConvert,
    status: String,
    /// The owner of what is made: a user, never a queue.
    owner: RecordId,
    /// The owner given, when it is not the lead's own (open tasks go to them).
    new_owner: Option<RecordId>,
}

impl<'c> Plan<'c> {
    /// Refuses a converted lead, a status that is not a converted one and a queue owner.
    fn of(lead_object: &ObjectDef, convert: &'c LeadConvert, lead: &crate::Record) -> Result<Self> {
        let lead_id = lead.id().ok_or_else(crate::records::not_found)?;
        if lead.get("IsConverted") == Some(&Value::Bool(true)) {
            return Err(rejected(
                ErrorCode::CannotUpdateConvertedLead,
                None,
                format!("The lead {} is already converted", lead_id.to_18()),
            ));
        }
        let converted_statuses = || -> Vec<&model::PicklistValue> {
            lead_object
                .field("Status")
                .map(|f| {
                    f.values
                        .iter()
                        .filter(|v| v.converted && v.active)
                        .collect()
                })
                .unwrap_or_default()
        };
        let status = lead_object
            .field("Status")
            .and_then(|f| f.picklist_value(&convert.converted_status))
            .filter(|v| v.converted && v.active)
            .map(|v| v.value.clone())
            .ok_or_else(|| {
                let listed: Vec<String> = converted_statuses()
                    .iter()
                    .map(|v| format!("'{}'", v.value))
                    .collect();
                rejected(
                    ErrorCode::InvalidStatus,
                    Some("convertedStatus"),
                    format!(
                        "invalid convertedStatus: '{}' is not a converted lead status (use {})",
                        convert.converted_status,
                        listed.join(" or ")
                    ),
                )
            })?;
        let lead_owner = lead.get("OwnerId").and_then(Value::as_id);
        let owner = match &convert.owner_id {
            Some(owner) => RecordId::parse(owner).map_err(|_| {
                rejected(
                    ErrorCode::MalformedId,
                    Some("ownerId"),
                    format!("invalid ownerId: {owner}"),
                )
            })?,
            None => lead_owner.cloned().ok_or_else(|| {
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
        let new_owner =
            (convert.owner_id.is_some() && lead_owner != Some(&owner)).then(|| owner.clone());
        Ok(Plan {
            convert,
            status,
            owner,
            new_owner,
        })
    }
}

/// Where one converted lead's children go.
struct Target {
    contact: RecordId,
    opportunity: Option<RecordId>,
    new_owner: Option<RecordId>,
}

/// Every lead's record, once each step has made or found it.
fn all_made(made: Vec<Option<RecordId>>) -> Result<Vec<RecordId>> {
    made.into_iter()
        .map(|id| {
            id.ok_or_else(|| AppError::one(ErrorCode::UnknownException, "nothing was written"))
        })
        .collect()
}

/// `field` is one of the leads.
fn of_leads(field: &str, leads: &[RecordId]) -> store::Filter {
    store::Filter::any_of(field, leads.iter().cloned().map(Value::Id).collect())
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
