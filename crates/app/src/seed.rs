//! Seeding: a realistic demo company in both languages (`rapport seed --demo`, through the
//! ordinary validated create path), and synthetic volume for benchmarks (`rapport seed
//! --scale N`, written in large batches straight to the store, one transaction per batch).

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use model::{ErrorCode, FieldDef, Lang, ObjectDef, RecordId, Value};

use crate::records::{RecordInput, WriteOptions};
use crate::users::NewUser;
use crate::{App, AppError, Caller, Result};

const DEMO: &str = include_str!("../seed/demo.json");

/// The password every demo user gets (printed by the CLI).
pub const DEMO_PASSWORD: &str = "Rapport2026demo";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Demo {
    roles: Vec<DemoRole>,
    users: Vec<DemoUser>,
    accounts: Vec<DemoAccount>,
    contacts: Vec<DemoContact>,
    leads: Vec<DemoLead>,
    opportunities: Vec<DemoOpportunity>,
    tasks: Vec<DemoActivity>,
    events: Vec<DemoEvent>,
    campaigns: Vec<crate::seed_sales::DemoCampaign>,
    campaign_members: Vec<crate::seed_sales::DemoMember>,
    products: Vec<crate::seed_sales::DemoProduct>,
    partner_price_book: RecordInput,
    line_items: Vec<crate::seed_sales::DemoLineItem>,
    conversions: Vec<crate::seed_sales::DemoConversion>,
    cases: Vec<crate::seed_sales::DemoCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoRole {
    name: String,
    parent: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoUser {
    key: String,
    email: String,
    first_name: String,
    last_name: String,
    title: String,
    role: String,
    profile: String,
    language: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoAccount {
    key: String,
    owner: String,
    parent: Option<String>,
    fields: RecordInput,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoContact {
    key: String,
    account: Option<String>,
    owner: String,
    fields: RecordInput,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoLead {
    /// Campaigns and conversions name a lead by its key.
    #[serde(default)]
    key: Option<String>,
    owner: String,
    fields: RecordInput,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoOpportunity {
    key: String,
    account: Option<String>,
    owner: String,
    close_in_days: i64,
    /// The stages the deal went through, the last being where it is (its history).
    #[serde(default)]
    path: Vec<String>,
    /// Its primary campaign source.
    #[serde(default)]
    campaign: Option<String>,
    fields: RecordInput,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoActivity {
    owner: String,
    who: Option<String>,
    what: Option<String>,
    due_in_days: i64,
    fields: RecordInput,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoEvent {
    owner: String,
    who: Option<String>,
    what: Option<String>,
    start_in_days: i64,
    start_hour: u8,
    duration_minutes: i64,
    fields: RecordInput,
}

/// What a seeding run created.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub counts: Vec<(String, u64)>,
}

/// Keys of the demo file to the ids they became.
#[derive(Default)]
pub(crate) struct Keys(pub(crate) HashMap<String, RecordId>);

impl Keys {
    pub(crate) fn id(&self, key: &str) -> Result<String> {
        self.0.get(key).map(RecordId::to_18).ok_or_else(|| {
            AppError::one(
                ErrorCode::InvalidCrossReferenceKey,
                format!("demo data names unknown key {key}"),
            )
        })
    }

    pub(crate) fn put(
        &self,
        input: &mut RecordInput,
        field: &str,
        key: Option<&str>,
    ) -> Result<()> {
        if let Some(key) = key {
            input.insert(field.to_string(), self.id(key)?.into());
        }
        Ok(())
    }
}

pub(crate) fn date_in(days: i64) -> String {
    model::value::format_date((OffsetDateTime::now_utc() + Duration::days(days)).date())
}

impl App {
    /// Loads the demo company. Users that already exist (by login) are reused.
    pub async fn seed_demo(&self, caller: &Caller) -> Result<SeedReport> {
        let demo: Demo = serde_json::from_str(DEMO).map_err(|e| {
            AppError::one(
                ErrorCode::JsonParserError,
                format!("the shipped demo data is unreadable: {e}"),
            )
        })?;
        let mut report = SeedReport::default();
        for role in &demo.roles {
            match self
                .add_role(caller, &role.name, role.parent.as_deref())
                .await
            {
                Ok(_) => {}
                // The role is there already (by name, or by DeveloperName when another
                // process seeds at the same time). An ambiguous parent name is no such case.
                Err(AppError::Rejected(errors))
                    if errors
                        .iter()
                        .all(|e| e.code == ErrorCode::DuplicateValue && !e.fields.is_empty()) => {}
                Err(other) => return Err(other),
            }
        }
        report
            .counts
            .push(("UserRole".into(), demo.roles.len() as u64));
        let mut keys = Keys::default();
        for user in &demo.users {
            let id = match self.user_id_by_email(&user.email).await? {
                Some(id) => id,
                None => {
                    let id = self
                        .add_user(
                            caller,
                            NewUser {
                                email: user.email.clone(),
                                password: DEMO_PASSWORD.into(),
                                name: format!("{} {}", user.first_name, user.last_name),
                                profile: Some(user.profile.clone()),
                                role: Some(user.role.clone()),
                                language: Lang::parse(&user.language).unwrap_or_default(),
                            },
                        )
                        .await?;
                    let mut title = RecordInput::new();
                    title.insert("Title".into(), user.title.clone().into());
                    self.update(
                        caller,
                        "User",
                        crate::records::Update {
                            id: id.to_18(),
                            input: title,
                            if_unmodified_since: None,
                        },
                    )
                    .await?;
                    id
                }
            };
            keys.0.insert(user.key.clone(), id);
        }
        report.counts.push(("User".into(), demo.users.len() as u64));

        // Parents before children: accounts without a parent first.
        let (roots, children): (Vec<_>, Vec<_>) =
            demo.accounts.iter().partition(|a| a.parent.is_none());
        for group in [roots, children] {
            let mut inputs = Vec::new();
            for account in &group {
                let mut input = account.fields.clone();
                keys.put(&mut input, "OwnerId", Some(&account.owner))?;
                keys.put(&mut input, "ParentId", account.parent.as_deref())?;
                inputs.push(input);
            }
            let ids = self.create_all(caller, "Account", inputs).await?;
            for (account, id) in group.iter().zip(ids) {
                keys.0.insert(account.key.clone(), id);
            }
        }
        report
            .counts
            .push(("Account".into(), demo.accounts.len() as u64));

        let mut inputs = Vec::new();
        for contact in &demo.contacts {
            let mut input = contact.fields.clone();
            keys.put(&mut input, "OwnerId", Some(&contact.owner))?;
            keys.put(&mut input, "AccountId", contact.account.as_deref())?;
            inputs.push(input);
        }
        for (contact, id) in demo
            .contacts
            .iter()
            .zip(self.create_all(caller, "Contact", inputs).await?)
        {
            keys.0.insert(contact.key.clone(), id);
        }
        report
            .counts
            .push(("Contact".into(), demo.contacts.len() as u64));

        let mut inputs = Vec::new();
        for lead in &demo.leads {
            let mut input = lead.fields.clone();
            keys.put(&mut input, "OwnerId", Some(&lead.owner))?;
            inputs.push(input);
        }
        for (lead, id) in demo
            .leads
            .iter()
            .zip(self.create_all(caller, "Lead", inputs).await?)
        {
            if let Some(key) = &lead.key {
                keys.0.insert(key.clone(), id);
            }
        }
        report.counts.push(("Lead".into(), demo.leads.len() as u64));

        self.seed_campaigns(
            caller,
            &demo.campaigns,
            &demo.campaign_members,
            &mut keys,
            &mut report,
        )
        .await?;

        let mut inputs = Vec::new();
        for opportunity in &demo.opportunities {
            let mut input = opportunity.fields.clone();
            keys.put(&mut input, "OwnerId", Some(&opportunity.owner))?;
            keys.put(&mut input, "AccountId", opportunity.account.as_deref())?;
            keys.put(&mut input, "CampaignId", opportunity.campaign.as_deref())?;
            input.insert(
                "CloseDate".into(),
                date_in(opportunity.close_in_days).into(),
            );
            // A deal with a path starts at its first stage and moves on below.
            if let Some(first) = opportunity.path.first() {
                input.insert("StageName".into(), first.clone().into());
            }
            inputs.push(input);
        }
        for (opportunity, id) in demo
            .opportunities
            .iter()
            .zip(self.create_all(caller, "Opportunity", inputs).await?)
        {
            keys.0.insert(opportunity.key.clone(), id);
        }
        for opportunity in &demo.opportunities {
            let id = keys.id(&opportunity.key)?;
            for stage in opportunity.path.iter().skip(1) {
                let mut input = RecordInput::new();
                input.insert("StageName".into(), stage.clone().into());
                self.update(
                    caller,
                    "Opportunity",
                    crate::records::Update {
                        id: id.clone(),
                        input,
                        if_unmodified_since: None,
                    },
                )
                .await?;
            }
        }
        report
            .counts
            .push(("Opportunity".into(), demo.opportunities.len() as u64));
        self.seed_products(
            caller,
            &demo.products,
            &demo.partner_price_book,
            &demo.line_items,
            &mut keys,
            &mut report,
        )
        .await?;
        self.seed_conversions(caller, &demo.conversions, &keys, &mut report)
            .await?;

        let mut inputs = Vec::new();
        for task in &demo.tasks {
            let mut input = task.fields.clone();
            keys.put(&mut input, "OwnerId", Some(&task.owner))?;
            keys.put(&mut input, "WhoId", task.who.as_deref())?;
            keys.put(&mut input, "WhatId", task.what.as_deref())?;
            input.insert("ActivityDate".into(), date_in(task.due_in_days).into());
            inputs.push(input);
        }
        self.create_all(caller, "Task", inputs).await?;
        report.counts.push(("Task".into(), demo.tasks.len() as u64));

        let mut inputs = Vec::new();
        for event in &demo.events {
            let mut input = event.fields.clone();
            keys.put(&mut input, "OwnerId", Some(&event.owner))?;
            keys.put(&mut input, "WhoId", event.who.as_deref())?;
            keys.put(&mut input, "WhatId", event.what.as_deref())?;
            let day = (OffsetDateTime::now_utc() + Duration::days(event.start_in_days)).date();
            let start = day
                .with_hms(event.start_hour.min(23), 0, 0)
                .map_err(|e| AppError::one(ErrorCode::InvalidTypeOnFieldInRecord, e.to_string()))?
                .assume_utc();
            let end = start + Duration::minutes(event.duration_minutes.max(0));
            input.insert(
                "StartDateTime".into(),
                model::value::format_datetime(start).into(),
            );
            input.insert(
                "EndDateTime".into(),
                model::value::format_datetime(end).into(),
            );
            input.insert("ActivityDate".into(), model::value::format_date(day).into());
            input.insert(
                "ActivityDateTime".into(),
                model::value::format_datetime(start).into(),
            );
            input.insert("DurationInMinutes".into(), event.duration_minutes.into());
            inputs.push(input);
        }
        self.create_all(caller, "Event", inputs).await?;
        report
            .counts
            .push(("Event".into(), demo.events.len() as u64));
        self.seed_cases(caller, &demo.cases, &keys, &mut report)
            .await?;
        Ok(report)
    }

    /// Creates records all-or-none and returns their ids, or the first record's errors.
    pub(crate) async fn create_all(
        &self,
        caller: &Caller,
        object: &str,
        inputs: Vec<RecordInput>,
    ) -> Result<Vec<RecordId>> {
        let results = self
            .create_many(caller, object, inputs, WriteOptions { all_or_none: true })
            .await?;
        let mut ids = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(id) => ids.push(id),
                Err(errors) => {
                    let real: Vec<_> = errors
                        .into_iter()
                        .filter(|e| e.code != ErrorCode::AllOrNoneOperationRolledBack)
                        .collect();
                    if !real.is_empty() {
                        return Err(AppError::Rejected(real));
                    }
                }
            }
        }
        Ok(ids)
    }
}

/// Options of synthetic seeding.
#[derive(Debug, Clone, Copy)]
pub struct ScaleOptions {
    pub accounts: u64,
    pub contacts_per_account: u32,
    pub opportunities_per_account: u32,
    /// Accounts per transaction.
    pub batch: u64,
    /// Users to create and spread the records over (0: the caller owns everything).
    pub users: u32,
    /// Roles to put them in: one at the top, a few under it, the rest under those.
    pub roles: u32,
}

/// A small deterministic generator (xorshift), so scale data is the same on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const COMPANY_WORDS: [&str; 12] = [
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "华为", "腾飞",
    "长城", "东方",
];
const COMPANY_KINDS: [&str; 6] = [
    "Industries",
    "Systems",
    "Logistics",
    "Software",
    "科技有限公司",
    "集团",
];
const FIRST_NAMES: [&str; 10] = [
    "Alice", "Bob", "Carol", "David", "Emma", "伟", "芳", "娜", "强", "静",
];
const LAST_NAMES: [&str; 10] = [
    "Smith", "Jones", "Brown", "Taylor", "Wilson", "王", "李", "张", "刘", "陈",
];

/// Row builder over an object's fields by name.
struct Rows<'a> {
    object: &'a ObjectDef,
    fields: Vec<&'a FieldDef>,
    rows: Vec<Vec<Value>>,
}

impl<'a> Rows<'a> {
    fn new(object: &'a ObjectDef, names: &[&str]) -> Result<Rows<'a>> {
        let fields = names
            .iter()
            .map(|n| {
                object.field(n).ok_or_else(|| {
                    AppError::one(
                        ErrorCode::InvalidField,
                        format!("{}.{n} is missing", object.name),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Rows {
            object,
            fields,
            rows: Vec::new(),
        })
    }
}

impl App {
    /// Writes `accounts` synthetic accounts with their contacts and opportunities, one
    /// transaction per batch; returns the counts. `progress` is told after each batch.
    /// Makes `users` users (`scale.user{i}@example.com`, Standard User) in a role tree of
    /// `roles` roles: one at the top, up to four under it, the rest spread under those.
    async fn seed_scale_users(
        &self,
        caller: &Caller,
        users: u32,
        roles: u32,
    ) -> Result<Vec<RecordId>> {
        let mut names: Vec<String> = Vec::new();
        for r in 0..roles {
            let name = format!("Scale Role {r}");
            let parent = match r {
                0 => None,
                1..=4 => Some("Scale Role 0".to_string()),
                _ => Some(format!("Scale Role {}", 1 + (r - 5) % 4.min(roles - 1))),
            };
            if self.id_by_name("UserRole", &name).await?.is_none() {
                self.add_role(caller, &name, parent.as_deref()).await?;
            }
            names.push(name);
        }
        let mut ids = Vec::with_capacity(users as usize);
        for u in 0..users {
            let email = format!("scale.user{u}@example.com");
            let id = match self.user_id_by_email(&email).await? {
                Some(id) => id,
                None => {
                    self.add_user(
                        caller,
                        crate::users::NewUser {
                            email,
                            password: DEMO_PASSWORD.into(),
                            name: format!("Scale User{u}"),
                            profile: Some("Standard User".into()),
                            role: Some(names[(u % roles) as usize].clone()),
                            language: model::Lang::En,
                        },
                    )
                    .await?
                }
            };
            ids.push(id);
        }
        Ok(ids)
    }

    pub async fn seed_scale(
        &self,
        caller: &Caller,
        options: ScaleOptions,
        mut progress: impl FnMut(u64),
    ) -> Result<SeedReport> {
        let schema = self.schema().await?;
        let get = |name: &str| {
            schema
                .object(name)
                .cloned()
                .ok_or_else(|| AppError::one(ErrorCode::InvalidType, format!("no {name} object")))
        };
        let (account, contact, opportunity) =
            (get("Account")?, get("Contact")?, get("Opportunity")?);
        let stages: Vec<model::PicklistValue> = opportunity
            .field("StageName")
            .map(|f| f.values.iter().filter(|v| v.active).cloned().collect())
            .unwrap_or_default();
        if stages.is_empty() {
            return Err(AppError::one(
                ErrorCode::InvalidOperation,
                "Opportunity.StageName has no active stages to seed with",
            ));
        }
        let fiscal_start = self.org_settings().await?.fiscal_year_start_month;
        let creator = caller.user_id.clone().map_or(Value::Null, Value::Id);
        let owners: Vec<Value> = if options.users == 0 {
            vec![creator.clone()]
        } else {
            self.seed_scale_users(caller, options.users, options.roles.max(1))
                .await?
                .into_iter()
                .map(Value::Id)
                .collect()
        };
        let system = [
            "Id",
            "OwnerId",
            "IsDeleted",
            "CreatedDate",
            "CreatedById",
            "LastModifiedDate",
            "LastModifiedById",
            "SystemModstamp",
        ];
        let with = |extra: &[&'static str]| -> Vec<&'static str> {
            system
                .iter()
                .copied()
                .chain(extra.iter().copied())
                .collect()
        };
        let account_fields = with(&[
            "Name",
            "Industry",
            "Type",
            "Rating",
            "AnnualRevenue",
            "NumberOfEmployees",
            "BillingCity",
            "BillingCountry",
            "Phone",
        ]);
        let contact_fields = with(&[
            "AccountId",
            "FirstName",
            "LastName",
            "Name",
            "Email",
            "Title",
        ]);
        let opportunity_fields = with(&[
            "AccountId",
            "Name",
            "StageName",
            "CloseDate",
            "Amount",
            "Probability",
            "ForecastCategoryName",
            "IsClosed",
            "IsWon",
            "ExpectedRevenue",
            "FiscalYear",
            "FiscalQuarter",
            "Fiscal",
        ]);
        let industries = [
            "Technology",
            "Manufacturing",
            "Finance",
            "Retail",
            "Healthcare",
            "Energy",
        ];
        let cities = [
            "Shanghai", "Beijing", "Shenzhen", "London", "New York", "Berlin",
        ];
        let mut random = Random(0x9E37_79B9_7F4A_7C15);
        let mut created = (0u64, 0u64, 0u64);
        let mut done = 0u64;
        while done < options.accounts {
            let batch = options.batch.max(1).min(options.accounts - done);
            let per_account = 1
                + u64::from(options.contacts_per_account)
                + u64::from(options.opportunities_per_account);
            let mut numbers = self
                .store()
                .reserve_record_numbers(batch * per_account)
                .await?;
            let now = model::value::now_millis();
            let mut accounts = Rows::new(&account, &account_fields)?;
            let mut contacts = Rows::new(&contact, &contact_fields)?;
            let mut opportunities = Rows::new(&opportunity, &opportunity_fields)?;
            let mut next_id = |object: &ObjectDef| -> Result<RecordId> {
                numbers
                    .next()
                    .and_then(|n| RecordId::from_number(&object.key_prefix, n))
                    .ok_or_else(|| {
                        AppError::one(ErrorCode::UnknownException, "record numbers exhausted")
                    })
            };
            let audit = |id: RecordId, owner: &Value| {
                vec![
                    Value::Id(id),
                    owner.clone(),
                    Value::Bool(false),
                    Value::DateTime(now),
                    creator.clone(),
                    Value::DateTime(now),
                    creator.clone(),
                    Value::DateTime(now),
                ]
            };
            for i in 0..batch {
                let n = done + i;
                let account_id = next_id(&account)?;
                let name = format!(
                    "{} {} {n}",
                    random.pick(&COMPANY_WORDS),
                    random.pick(&COMPANY_KINDS)
                );
                let owner = &owners[(n % owners.len() as u64) as usize];
                let mut row = audit(account_id.clone(), owner);
                row.extend([
                    Value::Text(name.clone()),
                    Value::Text(random.pick(&industries).into()),
                    Value::Text("Prospect".into()),
                    Value::Text(random.pick(&["Hot", "Warm", "Cold"]).into()),
                    Value::Decimal(Decimal::from(random.next() % 500_000_000)),
                    Value::Decimal(Decimal::from(random.next() % 50_000)),
                    Value::Text(random.pick(&cities).into()),
                    Value::Text("China".into()),
                    Value::Text(format!("+86 21 {:08}", random.next() % 100_000_000)),
                ]);
                accounts.rows.push(row);
                for c in 0..options.contacts_per_account {
                    let (first, last) = (random.pick(&FIRST_NAMES), random.pick(&LAST_NAMES));
                    let mut row = audit(next_id(&contact)?, owner);
                    row.extend([
                        Value::Id(account_id.clone()),
                        Value::Text(first.into()),
                        Value::Text(last.into()),
                        crate::derive::compound_name(
                            Some(&Value::Text(first.into())),
                            &Value::Text(last.into()),
                        ),
                        Value::Text(format!("contact{n}.{c}@scale.example.com")),
                        Value::Text("Buyer".into()),
                    ]);
                    contacts.rows.push(row);
                }
                for o in 0..options.opportunities_per_account {
                    let stage = &stages[(random.next() % stages.len().max(1) as u64) as usize
                        % stages.len().max(1)];
                    let close = (now + Duration::days((random.next() % 540) as i64 - 180)).date();
                    let amount = Decimal::new((random.next() % 100_000_000) as i64, 2);
                    let probability = Decimal::from(stage.probability.unwrap_or(0));
                    let (year, quarter) =
                        crate::derive::fiscal_year_and_quarter(close, fiscal_start);
                    let mut expected = (amount * probability / Decimal::from(100)).round_dp(2);
                    expected.rescale(2);
                    let mut row = audit(next_id(&opportunity)?, owner);
                    row.extend([
                        Value::Id(account_id.clone()),
                        Value::Text(format!("{name} - Deal {o}")),
                        Value::Text(stage.value.clone()),
                        Value::Date(close),
                        Value::Decimal(amount),
                        Value::Decimal(probability),
                        stage
                            .forecast_category
                            .clone()
                            .map_or(Value::Null, Value::Text),
                        Value::Bool(stage.closed),
                        Value::Bool(stage.won),
                        Value::Decimal(expected),
                        Value::Decimal(Decimal::from(year)),
                        Value::Decimal(Decimal::from(quarter)),
                        Value::Text(format!("{year} {quarter}")),
                    ]);
                    opportunities.rows.push(row);
                }
            }
            let mut tx = self.store().begin().await?;
            for rows in [&accounts, &contacts, &opportunities] {
                store::records::insert(&mut tx, rows.object, &rows.fields, &rows.rows).await?;
            }
            tx.commit().await?;
            created.0 += accounts.rows.len() as u64;
            created.1 += contacts.rows.len() as u64;
            created.2 += opportunities.rows.len() as u64;
            done += batch;
            progress(done);
        }
        // The rows went straight to the store, past the share rows: make them stale, so
        // they are rebuilt (and reads use the sharing conditions until then).
        self.store().bump_sharing_version().await?;
        // A bulk load leaves the planner's statistics behind.
        self.store().refresh_statistics().await?;
        Ok(SeedReport {
            counts: vec![
                ("Account".into(), created.0),
                ("Contact".into(), created.1),
                ("Opportunity".into(), created.2),
            ],
        })
    }
}
