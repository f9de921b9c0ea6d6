//! Forecasts: for a period (a fiscal quarter or a calendar month), the amounts of the
//! opportunities closing in it, per owner and forecast category, beside each owner's quota.
//! Whose numbers a user sees follows the role hierarchy, as Salesforce's forecasts do: their
//! own and those of the users in the roles below theirs (everyone's with View All Data),
//! whatever the sharing of the opportunities themselves.

use std::collections::HashMap;

use rust_decimal::Decimal;
use time::{Date, Month};

use model::{ErrorCode, RecordId, Value};

use crate::query::{Cell, QueryOptions};
use crate::{App, AppError, Caller, Result};

/// The forecast categories reported, in order: (picklist value, JSON key).
pub const CATEGORIES: [(&str, &str); 5] = [
    ("Pipeline", "Pipeline"),
    ("Best Case", "BestCase"),
    ("Commit", "Commit"),
    ("Closed", "Closed"),
    ("Omitted", "Omitted"),
];

/// A forecast period: `[start, end)` and its name (`2026-Q4`, `2026-11`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub name: String,
    pub start: Date,
    /// The day after the period.
    pub end: Date,
}

fn month_start(year: i32, month: i32) -> Option<Date> {
    let (year, month) = (
        year + (month - 1).div_euclid(12),
        (month - 1).rem_euclid(12) + 1,
    );
    Date::from_calendar_date(year, Month::try_from(u8::try_from(month).ok()?).ok()?, 1).ok()
}

impl Period {
    /// Fiscal quarter `q` of fiscal year `year` (named, as Salesforce does by default, by the
    /// calendar year it ends in).
    pub fn fiscal_quarter(year: i32, quarter: u8, start_month: u8) -> Option<Period> {
        if !(1..=4).contains(&quarter) {
            return None;
        }
        let start_month = i32::from(start_month.clamp(1, 12));
        let first_year = if start_month == 1 { year } else { year - 1 };
        let first = start_month + 3 * (i32::from(quarter) - 1);
        Some(Period {
            name: format!("{year}-Q{quarter}"),
            start: month_start(first_year, first)?,
            end: month_start(first_year, first + 3)?,
        })
    }

    /// A calendar month.
    pub fn month(year: i32, month: u8) -> Option<Period> {
        if !(1..=12).contains(&month) {
            return None;
        }
        Some(Period {
            name: format!("{year}-{month:02}"),
            start: month_start(year, i32::from(month))?,
            end: month_start(year, i32::from(month) + 1)?,
        })
    }

    /// `2026-Q4` or `2026-11`.
    pub fn parse(text: &str, start_month: u8) -> Option<Period> {
        let (year, rest) = text.trim().split_once('-')?;
        let year: i32 = year.parse().ok().filter(|y| (1900..=9999).contains(y))?;
        match rest.strip_prefix(['Q', 'q']) {
            Some(q) => Period::fiscal_quarter(year, q.parse().ok()?, start_month),
            None if rest.len() == 2 => Period::month(year, rest.parse().ok()?),
            None => None,
        }
    }

    /// The fiscal quarter `today` falls in.
    pub fn current_quarter(today: Date, start_month: u8) -> Option<Period> {
        let (year, quarter) = crate::derive::fiscal_year_and_quarter(today, start_month);
        Period::fiscal_quarter(year, quarter, start_month)
    }

    /// The period `by` periods of the same kind away (the quarter before is `-1`).
    pub fn shifted(&self, by: i32, start_month: u8) -> Option<Period> {
        let (year, rest) = self.name.split_once('-')?;
        let year: i32 = year.parse().ok()?;
        match rest.strip_prefix('Q') {
            Some(q) => {
                let index = year * 4 + i32::from(q.parse::<u8>().ok()?) - 1 + by;
                let quarter = u8::try_from(index.rem_euclid(4) + 1).ok()?;
                Period::fiscal_quarter(index.div_euclid(4), quarter, start_month)
            }
            None => {
                let index = year * 12 + i32::from(rest.parse::<u8>().ok()?) - 1 + by;
                Period::month(
                    index.div_euclid(12),
                    u8::try_from(index.rem_euclid(12) + 1).ok()?,
                )
            }
        }
    }

    /// The last day of the period.
    pub fn last_day(&self) -> Date {
        self.end.previous_day().unwrap_or(self.end)
    }
}

/// Whose forecast: one user, a role's subtree, or (neither) the caller and those below them.
#[derive(Debug, Clone, Default)]
pub struct ForecastScope {
    pub period: Option<String>,
    pub owner_id: Option<String>,
    pub role_id: Option<String>,
}

/// One owner's line.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastRow {
    pub owner_id: RecordId,
    pub name: String,
    /// Sums in [`CATEGORIES`] order.
    pub amounts: [Decimal; 5],
    pub quota: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub period: Period,
    pub rows: Vec<ForecastRow>,
    pub totals: [Decimal; 5],
    pub quota: Option<Decimal>,
}

fn bad_request(field: &str, message: impl Into<String>) -> AppError {
    AppError::on_field(ErrorCode::InvalidField, field, message)
}

fn decimal(value: Option<&Cell>) -> Decimal {
    match value {
        Some(Cell::Value(Value::Decimal(d))) => *d,
        _ => Decimal::ZERO,
    }
}

fn cell<'r>(row: &'r crate::query::Row, name: &str) -> Option<&'r Cell> {
    row.cells
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, c)| c)
}

impl App {
    /// The users whose forecast the caller may see: themselves and the users in the roles
    /// below theirs; everyone for View All Data.
    async fn forecast_users(&self, caller: &Caller) -> Result<Option<Vec<RecordId>>> {
        let Some(me) = &caller.user_id else {
            return Ok(None);
        };
        if self.access(caller).await?.views_all_data() {
            return Ok(None);
        }
        let graph = self.current_share_graph().await?;
        let mut users = vec![me.clone()];
        users.extend(graph.users_below(me));
        Ok(Some(users))
    }

    /// The forecast of a period for the scope asked for, as the caller may see it.
    pub async fn forecast(&self, caller: &Caller, scope: ForecastScope) -> Result<Forecast> {
        let org = self.org_settings().await?;
        let start_month = org.fiscal_year_start_month;
        let period = match &scope.period {
            Some(text) => Period::parse(text, start_month).ok_or_else(|| {
                bad_request(
                    "period",
                    format!(
                        "period: '{text}' is not a fiscal quarter (2026-Q4) or a month (2026-11)"
                    ),
                )
            })?,
            None => {
                let zone = caller.time_zone.as_deref().unwrap_or(&org.time_zone);
                let today = crate::dates::Today::in_zone(zone).date;
                Period::current_quarter(today, start_month)
                    .ok_or_else(|| bad_request("period", "no current quarter"))?
            }
        };
        let visible = self.forecast_users(caller).await?;
        let graph = self.current_share_graph().await?;
        let wanted: Option<Vec<RecordId>> = match (&scope.owner_id, &scope.role_id) {
            (Some(_), Some(_)) => {
                return Err(bad_request("ownerId", "give ownerId or roleId, not both"));
            }
            (Some(owner), None) => {
                let id = RecordId::parse(owner)
                    .ok()
                    .filter(|id| id.key_prefix() == "005")
                    .ok_or_else(|| {
                        bad_request("ownerId", format!("ownerId: not a user id: {owner}"))
                    })?;
                Some(vec![id])
            }
            (None, Some(role)) => {
                let id = RecordId::parse(role)
                    .ok()
                    .filter(|id| id.key_prefix() == "00E")
                    .ok_or_else(|| {
                        bad_request("roleId", format!("roleId: not a role id: {role}"))
                    })?;
                Some(graph.users_in_role_tree(&id))
            }
            (None, None) => visible.clone(),
        };
        let users: Option<Vec<RecordId>> = match (wanted, &visible) {
            (Some(wanted), Some(visible)) => {
                if let Some(hidden) = wanted.iter().find(|u| !visible.contains(u)) {
                    return Err(AppError::one(
                        ErrorCode::InsufficientAccessOrReadonly,
                        format!(
                            "insufficient access rights to the forecast of {}",
                            hidden.to_18()
                        ),
                    ));
                }
                Some(wanted)
            }
            (wanted, _) => wanted,
        };
        // Forecasts follow the hierarchy, not the sharing of each deal: read as the system.
        let system = Caller::system();
        let owner_filter = match &users {
            Some(users) if users.is_empty() => return Ok(self.empty_forecast(period)),
            Some(users) => format!(
                " AND OwnerId IN ({})",
                users
                    .iter()
                    .map(|u| format!("'{}'", u.to_18()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => String::new(),
        };
        let dates = format!(
            "CloseDate >= {} AND CloseDate < {}",
            model::value::format_date(period.start),
            model::value::format_date(period.end)
        );
        let sums = self
            .query(
                &system,
                &format!(
                    "SELECT OwnerId, ForecastCategoryName, SUM(Amount) amount FROM Opportunity WHERE {dates}{owner_filter} GROUP BY OwnerId, ForecastCategoryName"
                ),
                QueryOptions::default(),
            )
            .await?;
        let quota_filter = owner_filter.replace("OwnerId", "QuotaOwnerId");
        let quotas = self
            .query(
                &system,
                &format!(
                    "SELECT QuotaOwnerId, SUM(QuotaAmount) quota FROM ForecastingQuota WHERE StartDate >= {} AND StartDate < {}{quota_filter} GROUP BY QuotaOwnerId",
                    model::value::format_date(period.start),
                    model::value::format_date(period.end)
                ),
                QueryOptions::default(),
            )
            .await?;
        let mut rows: HashMap<RecordId, ForecastRow> = HashMap::new();
        let new_row = |id: &RecordId| ForecastRow {
            owner_id: id.clone(),
            name: String::new(),
            amounts: [Decimal::ZERO; 5],
            quota: None,
        };
        for user in users.iter().flatten() {
            rows.entry(user.clone()).or_insert_with(|| new_row(user));
        }
        for sum in &sums.rows {
            let Some(Cell::Value(Value::Id(owner))) = cell(sum, "OwnerId") else {
                continue;
            };
            let category = match cell(sum, "ForecastCategoryName") {
                Some(Cell::Value(Value::Text(c))) => c.as_str(),
                _ => "",
            };
            let Some(slot) = CATEGORIES.iter().position(|(value, _)| *value == category) else {
                continue;
            };
            let row = rows.entry(owner.clone()).or_insert_with(|| new_row(owner));
            row.amounts[slot] += decimal(cell(sum, "amount"));
        }
        for quota in &quotas.rows {
            let Some(Cell::Value(Value::Id(owner))) = cell(quota, "QuotaOwnerId") else {
                continue;
            };
            let row = rows.entry(owner.clone()).or_insert_with(|| new_row(owner));
            row.quota = Some(decimal(cell(quota, "quota")));
        }
        let ids: Vec<String> = rows.keys().map(|id| format!("'{}'", id.to_18())).collect();
        if !ids.is_empty() {
            let names = self
                .query(
                    &system,
                    &format!("SELECT Id, Name FROM User WHERE Id IN ({})", ids.join(", ")),
                    QueryOptions::default(),
                )
                .await?;
            for user in &names.rows {
                if let (Some(id), Some(Cell::Value(Value::Text(name)))) =
                    (&user.id, cell(user, "Name"))
                    && let Some(row) = rows.get_mut(id)
                {
                    row.name = name.clone();
                }
            }
        }
        let mut rows: Vec<ForecastRow> = rows.into_values().collect();
        rows.sort_by_key(|r| (r.name.clone(), r.owner_id.to_18()));
        let mut totals = [Decimal::ZERO; 5];
        for row in &rows {
            for (total, amount) in totals.iter_mut().zip(row.amounts) {
                *total += amount;
            }
        }
        let quota = rows.iter().filter_map(|r| r.quota).reduce(|a, b| a + b);
        Ok(Forecast {
            period,
            rows,
            totals,
            quota,
        })
    }

    fn empty_forecast(&self, period: Period) -> Forecast {
        Forecast {
            period,
            rows: Vec::new(),
            totals: [Decimal::ZERO; 5],
            quota: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn periods_follow_the_fiscal_year() {
        let q4 = Period::parse("2026-Q4", 1).unwrap();
        assert_eq!(
            (q4.start, q4.end),
            (date!(2026 - 10 - 01), date!(2027 - 01 - 01))
        );
        // A fiscal year starting in April is named by the year it ends in.
        let q1 = Period::parse("2026-Q1", 4).unwrap();
        assert_eq!(
            (q1.start, q1.end),
            (date!(2025 - 04 - 01), date!(2025 - 07 - 01))
        );
        let nov = Period::parse("2026-11", 4).unwrap();
        assert_eq!(
            (nov.start, nov.last_day()),
            (date!(2026 - 11 - 01), date!(2026 - 11 - 30))
        );
        assert_eq!(
            Period::current_quarter(date!(2026 - 11 - 27), 4)
                .unwrap()
                .name,
            "2027-Q3"
        );
        assert_eq!(q4.shifted(1, 1).unwrap().name, "2027-Q1");
        assert_eq!(q1.shifted(-1, 4).unwrap().name, "2025-Q4");
        assert_eq!(nov.shifted(2, 4).unwrap().name, "2027-01");
        for bad in ["2026-Q5", "2026-13", "2026", "Q4-2026", "20x6-11", "2026-1"] {
            assert_eq!(Period::parse(bad, 1), None, "{bad}");
        }
    }
}
