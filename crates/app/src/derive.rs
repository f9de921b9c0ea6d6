//! Fields the system computes from others on every write: compound names, the flags a status
//! or stage implies (closed, won, probability, forecast category), expected revenue and the
//! fiscal period of a close date. Driven by picklist attributes in metadata, not by code per
//! value, so an administrator's own stages and statuses behave the same way. Positions are
//! worked out once per object and operation ([`Derivation::new`]), not per record.

use rust_decimal::Decimal;
use time::OffsetDateTime;

use model::{FieldType, ObjectDef, Value};

/// Which derived fields an object has, by position.
pub struct Derivation {
    /// Name, FirstName, LastName (people: Lead, Contact, User).
    compound_name: Option<(usize, Option<usize>, usize)>,
    /// The picklist whose values carry closed/won/probability attributes.
    status: Option<usize>,
    is_closed: Option<usize>,
    closed_date: Option<usize>,
    is_won: Option<usize>,
    probability: Option<usize>,
    forecast_category: Option<usize>,
    last_stage_change: Option<usize>,
    /// Priority and IsHighPriority.
    priority: Option<(usize, usize)>,
    /// ExpectedRevenue, Amount, Probability.
    expected_revenue: Option<(usize, usize, usize)>,
    /// CloseDate, FiscalYear, FiscalQuarter, Fiscal.
    fiscal: Option<(usize, usize, usize, usize)>,
    fiscal_year_start_month: u8,
    /// Events: StartDateTime, EndDateTime, DurationInMinutes, ActivityDate, ActivityDateTime.
    event_times: Option<[usize; 5]>,
    /// Campaign members: the status whose values say who responded, HasResponded and
    /// FirstRespondedDate.
    responded: Option<(usize, usize, Option<usize>)>,
}

impl Derivation {
    pub fn new(object: &ObjectDef, fiscal_year_start_month: u8) -> Derivation {
        let at = |name: &str| object.field_position(name);
        let system = |name: &str| at(name).filter(|&i| object.fields[i].readonly);
        let status = object.fields.iter().position(|f| {
            f.field_type == FieldType::Picklist
                && !f.custom
                && f.values.iter().any(|v| v.closed || v.probability.is_some())
        });
        Derivation {
            compound_name: match (system("Name"), at("LastName")) {
                (Some(name), Some(last)) => Some((name, at("FirstName"), last)),
                _ => None,
            },
            status,
            is_closed: system("IsClosed"),
            closed_date: system("ClosedDate"),
            is_won: system("IsWon"),
            probability: at("Probability").filter(|_| status.is_some()),
            forecast_category: at("ForecastCategoryName").filter(|_| status.is_some()),
            last_stage_change: system("LastStageChangeDate"),
            priority: at("Priority").zip(system("IsHighPriority")),
            expected_revenue: match (system("ExpectedRevenue"), at("Amount"), at("Probability")) {
                (Some(e), Some(a), Some(p)) => Some((e, a, p)),
                _ => None,
            },
            fiscal: match (
                at("CloseDate"),
                system("FiscalYear"),
                system("FiscalQuarter"),
                system("Fiscal"),
            ) {
                (Some(c), Some(y), Some(q), Some(f)) => Some((c, y, q, f)),
                _ => None,
            },
            fiscal_year_start_month,
            event_times: match (
                at("StartDateTime"),
                at("EndDateTime"),
                at("DurationInMinutes"),
                at("ActivityDate"),
                at("ActivityDateTime"),
            ) {
                (Some(s), Some(e), Some(d), Some(a), Some(t)) => Some([s, e, d, a, t]),
                _ => None,
            },
            responded: object
                .fields
                .iter()
                .position(|f| {
                    f.field_type == FieldType::Picklist && f.values.iter().any(|v| v.responded)
                })
                .zip(system("HasResponded"))
                .map(|(status, has)| (status, has, system("FirstRespondedDate"))),
        }
    }

    /// Recomputes the derived fields of `row`. `written` flags the fields the caller set in
    /// this operation (explicit values win over implied ones); `previous` is the stored row
    /// on update.
    pub fn apply(
        &self,
        object: &ObjectDef,
        row: &mut [Value],
        written: &[bool],
        previous: Option<&[Value]>,
        now: OffsetDateTime,
    ) {
        if let Some((name, first, last)) = self.compound_name {
            row[name] = compound_name(first.map(|i| &row[i]), &row[last]);
        }
        self.status_flags(object, row, written, previous, now);
        if let Some((priority, high)) = self.priority
            && let Some(text) = row[priority].as_text()
        {
            row[high] = Value::Bool(text == "High");
        }
        if let Some((expected, amount, probability)) = self.expected_revenue {
            row[expected] = match (&row[amount], &row[probability]) {
                (Value::Decimal(a), Value::Decimal(p)) => {
                    let mut revenue = (a * p / Decimal::from(100)).round_dp(2);
                    revenue.rescale(2);
                    Value::Decimal(revenue)
                }
                _ => Value::Null,
            };
        }
        if let Some(positions) = self.event_times {
            event_times(positions, row, written);
        }
        if let Some((status, has, first)) = self.responded {
            let responded = row[status]
                .as_text()
                .and_then(|text| object.fields[status].picklist_value(text))
                .is_some_and(|v| v.responded);
            row[has] = Value::Bool(responded);
            // The first response is remembered, whatever the status becomes later.
            if let Some(first) = first
                && responded
                && row[first].is_null()
            {
                row[first] = Value::Date(now.date());
            }
        }
        if let Some((close, year, quarter, fiscal)) = self.fiscal {
            if let Value::Date(date) = row[close] {
                let (y, q) = fiscal_year_and_quarter(date, self.fiscal_year_start_month);
                row[year] = Value::Decimal(Decimal::from(y));
                row[quarter] = Value::Decimal(Decimal::from(q));
                row[fiscal] = Value::Text(format!("{y} {q}"));
            } else {
                row[year] = Value::Null;
                row[quarter] = Value::Null;
                row[fiscal] = Value::Null;
            }
        }
    }

    /// The status value sets IsClosed/IsWon and, when the status changed and the caller did
    /// not say otherwise, Probability and ForecastCategoryName.
    fn status_flags(
        &self,
        object: &ObjectDef,
        row: &mut [Value],
        written: &[bool],
        previous: Option<&[Value]>,
        now: OffsetDateTime,
    ) {
        let Some(position) = self.status else { return };
        let Some(current) = row[position].as_text() else {
            return;
        };
        let Some(value) = object.fields[position].picklist_value(current).cloned() else {
            return;
        };
        let changed = previous.is_none_or(|p| p[position] != row[position]);
        if let Some(is_closed) = self.is_closed {
            let was_closed = previous.is_some_and(|p| p[is_closed] == Value::Bool(true));
            row[is_closed] = Value::Bool(value.closed);
            if let Some(closed_date) = self.closed_date {
                if value.closed && !was_closed {
                    row[closed_date] = Value::DateTime(now);
                } else if !value.closed {
                    row[closed_date] = Value::Null;
                }
            }
        }
        if let Some(is_won) = self.is_won {
            row[is_won] = Value::Bool(value.won);
        }
        if !changed {
            return;
        }
        if let (Some(p), Some(position)) = (value.probability, self.probability)
            && !written[position]
        {
            row[position] = Value::Decimal(Decimal::from(p));
        }
        if let (Some(category), Some(position)) = (value.forecast_category, self.forecast_category)
            && !written[position]
        {
            row[position] = Value::Text(category);
        }
        if let (Some(position), true) = (self.last_stage_change, previous.is_some()) {
            row[position] = Value::DateTime(now);
        }
    }
}

/// An event's end from its start and duration (a duration written wins), or its duration from
/// its start and end; its activity date and time are its start.
fn event_times([start, end, duration, date, at]: [usize; 5], row: &mut [Value], written: &[bool]) {
    let Value::DateTime(begins) = row[start] else {
        return;
    };
    let minutes = match &row[duration] {
        Value::Decimal(d) => i64::try_from(d.trunc().mantissa()).ok(),
        _ => None,
    };
    match (minutes, &row[end]) {
        (Some(m), Value::Null) => row[end] = Value::DateTime(begins + time::Duration::minutes(m)),
        (Some(m), _) if written[duration] => {
            row[end] = Value::DateTime(begins + time::Duration::minutes(m));
        }
        (_, Value::DateTime(ends)) => {
            row[duration] = Value::Decimal(Decimal::from((*ends - begins).whole_minutes()));
        }
        _ => {}
    }
    row[at] = Value::DateTime(begins);
    row[date] = Value::Date(begins.date());
}

/// First and last name as a full name. Chinese names read family name first, with no space:
/// 王 + 建国 → 王建国.
pub(crate) fn compound_name(first: Option<&Value>, last: &Value) -> Value {
    let part = |v: Option<&Value>| v.and_then(Value::as_text).unwrap_or("").trim().to_string();
    let (first, last) = (part(first), part(Some(last)));
    let full = if is_cjk(&first) && is_cjk(&last) {
        format!("{last}{first}")
    } else {
        [first, last]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    if full.is_empty() {
        Value::Null
    } else {
        Value::Text(full)
    }
}

/// Whether a name part is written in CJK ideographs (or empty).
fn is_cjk(text: &str) -> bool {
    text.chars().all(|c| matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F))
}

/// The fiscal year (named by the calendar year it ends in, Salesforce's default) and quarter.
pub fn fiscal_year_and_quarter(date: time::Date, start_month: u8) -> (i32, u8) {
    let start = i32::from(start_month.clamp(1, 12));
    let month = i32::from(u8::from(date.month()));
    let months_in = (month - start).rem_euclid(12);
    let quarter = (months_in / 3 + 1) as u8;
    let year = if start == 1 || month < start {
        date.year()
    } else {
        date.year() + 1
    };
    (year, quarter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn fiscal_quarters_follow_the_start_month() {
        assert_eq!(fiscal_year_and_quarter(date!(2025 - 01 - 15), 1), (2025, 1));
        assert_eq!(fiscal_year_and_quarter(date!(2025 - 12 - 31), 1), (2025, 4));
        assert_eq!(fiscal_year_and_quarter(date!(2025 - 04 - 01), 4), (2026, 1));
        assert_eq!(fiscal_year_and_quarter(date!(2025 - 03 - 31), 4), (2025, 4));
        assert_eq!(fiscal_year_and_quarter(date!(2025 - 02 - 01), 2), (2026, 1));
    }
}
