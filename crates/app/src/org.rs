//! The organisation: its one `Organization` record (name, currency, fiscal year, language,
//! locale, time zone) and the records every new org starts with (the standard profiles).

use model::{ErrorCode, Value};
use rust_decimal::Decimal;

use crate::records::{RecordInput, Update};
use crate::{App, AppError, Caller, Result};

/// The org's settings, as SOQL date literals, forecasts and new users read them.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgSettings {
    pub id: model::RecordId,
    pub name: String,
    pub currency: String,
    pub currency_symbol: String,
    pub fiscal_year_start_month: u8,
    pub language: String,
    pub locale: String,
    pub time_zone: String,
}

/// The profiles of a new org, with the system permissions each has.
const STANDARD_PROFILES: [(&str, &str, &[&str]); 6] = [
    (
        "System Administrator",
        "Full access to every record and setting.",
        &[
            "PermissionsModifyAllData",
            "PermissionsViewAllData",
            "PermissionsManageUsers",
            "PermissionsCustomizeApplication",
            "PermissionsApiEnabled",
            "PermissionsTransferAnyEntity",
            "PermissionsConvertLeads",
            "PermissionsTransferAnyLead",
            "PermissionsViewSetup",
        ],
    ),
    (
        "Standard User",
        "Creates and edits the records of daily sales work.",
        &["PermissionsApiEnabled", "PermissionsConvertLeads"],
    ),
    (
        "Read Only",
        "Views records; changes nothing.",
        &["PermissionsApiEnabled"],
    ),
    (
        "Marketing User",
        "Standard user who also manages campaigns and imports leads.",
        &["PermissionsApiEnabled", "PermissionsConvertLeads"],
    ),
    (
        "Contract Manager",
        "Standard user who also manages contracts.",
        &["PermissionsApiEnabled", "PermissionsConvertLeads"],
    ),
    (
        "Solution Manager",
        "Standard user who also manages solutions.",
        &["PermissionsApiEnabled", "PermissionsConvertLeads"],
    ),
];

/// The settings `rapport org set` accepts, and the Organization field each sets.
pub const ORG_KEYS: [(&str, &str); 7] = [
    ("name", "Name"),
    ("currency", "DefaultCurrencyIsoCode"),
    ("currency-symbol", "CurrencySymbol"),
    ("fiscal-year-start-month", "FiscalYearStartMonth"),
    ("language", "LanguageLocaleKey"),
    ("locale", "DefaultLocaleSidKey"),
    ("time-zone", "TimeZoneSidKey"),
];

fn json_map(pairs: &[(&str, serde_json::Value)]) -> RecordInput {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Creates the Organization record and the standard profiles in a new database.
pub(crate) async fn ensure_seeded(app: &App) -> Result<()> {
    let existing = app
        .find(
            &Caller::system(),
            "Organization",
            &["Id"],
            None,
            Vec::new(),
            Some(1),
        )
        .await?;
    if !existing.is_empty() {
        return Ok(());
    }
    // Several processes may start on a new database at once: one seeds, the others wait.
    if !app.store().claim_once("org_seeded").await? {
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            if !app
                .find(
                    &Caller::system(),
                    "Organization",
                    &["Id"],
                    None,
                    Vec::new(),
                    Some(1),
                )
                .await?
                .is_empty()
            {
                return Ok(());
            }
        }
        // The process that claimed the seeding died before finishing: seed here.
    }
    let org = json_map(&[
        ("Name", "My Company".into()),
        ("DefaultCurrencyIsoCode", "USD".into()),
        ("CurrencySymbol", "$".into()),
        ("FiscalYearStartMonth", 1.into()),
        ("LanguageLocaleKey", "en_US".into()),
        ("DefaultLocaleSidKey", "en_US".into()),
        ("TimeZoneSidKey", "America/Los_Angeles".into()),
    ]);
    let profiles = STANDARD_PROFILES
        .iter()
        .map(|(name, description, permissions)| {
            let mut input = json_map(&[
                ("Name", (*name).into()),
                ("Description", (*description).into()),
            ]);
            for permission in *permissions {
                input.insert(permission.to_string(), true.into());
            }
            input
        })
        .collect();
    // The organisation and its profiles in one transaction: a crash leaves neither.
    let system = Caller::system();
    let schema = app.schema().await?;
    let mut numbers = app
        .store()
        .reserve_record_numbers(1 + STANDARD_PROFILES.len() as u64)
        .await?;
    let mut tx = app.store().begin().await?;
    app.insert_all_in(
        &mut tx,
        &schema,
        &system,
        "Organization",
        vec![org],
        &mut numbers,
    )
    .await?;
    app.insert_all_in(&mut tx, &schema, &system, "Profile", profiles, &mut numbers)
        .await?;
    tx.commit().await?;
    Ok(())
}

impl App {
    /// The org's settings. Every query reads them (fiscal year), so they are kept for as long
    /// as the schema is (`schema_cache::CHECK_EVERY`): a change made by another process is
    /// seen within that time, one made here at once.
    pub async fn org_settings(&self) -> Result<OrgSettings> {
        if let Ok(cached) = self.org.lock()
            && let Some((read, settings)) = cached.as_ref()
            && read.elapsed() < crate::schema_cache::CHECK_EVERY
        {
            return Ok(settings.clone());
        }
        let read = std::time::Instant::now();
        let settings = self.read_org_settings().await?;
        if let Ok(mut cached) = self.org.lock() {
            *cached = Some((read, settings.clone()));
        }
        Ok(settings)
    }

    pub(crate) fn forget_org_settings(&self) {
        if let Ok(mut cached) = self.org.lock() {
            *cached = None;
        }
    }

    async fn read_org_settings(&self) -> Result<OrgSettings> {
        let fields: Vec<&str> = std::iter::once("Id")
            .chain(ORG_KEYS.iter().map(|(_, f)| *f))
            .collect();
        let record = self
            .find(
                &Caller::system(),
                "Organization",
                &fields,
                None,
                Vec::new(),
                Some(1),
            )
            .await?
            .pop()
            .ok_or_else(|| {
                AppError::one(ErrorCode::NotFound, "the Organization record is missing")
            })?;
        let text = |name: &str| {
            record
                .get(name)
                .and_then(Value::as_text)
                .unwrap_or_default()
                .to_string()
        };
        let month = match record.get("FiscalYearStartMonth") {
            Some(Value::Decimal(d)) => u8::try_from(*d).unwrap_or(1),
            _ => 1,
        };
        Ok(OrgSettings {
            id: record.id().cloned().ok_or_else(crate::records::not_found)?,
            name: text("Name"),
            currency: text("DefaultCurrencyIsoCode"),
            currency_symbol: text("CurrencySymbol"),
            fiscal_year_start_month: month,
            language: text("LanguageLocaleKey"),
            locale: text("DefaultLocaleSidKey"),
            time_zone: text("TimeZoneSidKey"),
        })
    }

    /// Sets one org setting (`rapport org set KEY VALUE`), validated like any field write.
    pub async fn set_org(&self, caller: &Caller, key: &str, value: &str) -> Result<()> {
        let Some((_, field)) = ORG_KEYS
            .iter()
            .find(|(k, f)| k.eq_ignore_ascii_case(key) || f.eq_ignore_ascii_case(key))
        else {
            let keys: Vec<&str> = ORG_KEYS.iter().map(|(k, _)| *k).collect();
            return Err(AppError::one(
                ErrorCode::InvalidField,
                format!("unknown org setting {key}; use one of: {}", keys.join(", ")),
            ));
        };
        let json = if *field == "FiscalYearStartMonth" {
            let month: Decimal = value.parse().map_err(|_| {
                AppError::on_field(
                    ErrorCode::InvalidTypeOnFieldInRecord,
                    field,
                    format!("fiscal-year-start-month must be a month number 1-12, not {value}"),
                )
            })?;
            if !(Decimal::ONE..=Decimal::from(12)).contains(&month) || !month.fract().is_zero() {
                return Err(AppError::on_field(
                    ErrorCode::NumberOutsideValidRange,
                    field,
                    format!("fiscal-year-start-month must be 1-12, not {value}"),
                ));
            }
            serde_json::Value::from(i64::try_from(month).unwrap_or(1))
        } else {
            serde_json::Value::from(value)
        };
        let org = self.org_settings().await?;
        let input = json_map(&[(field, json)]);
        let updated = self
            .update(
                caller,
                "Organization",
                Update {
                    id: org.id.to_18(),
                    input,
                    if_unmodified_since: None,
                },
            )
            .await;
        self.forget_org_settings();
        updated
    }
}
