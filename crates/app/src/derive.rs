//! Fields the system computes from others on every write: compound names, the flags a status
//! or stage implies (closed, won, probability, forecast category), expected revenue and the
//! fiscal period of a close date. Driven by picklist attributes in metadata, not by code per
//! value, so an administrator's own stages and statuses behave the same way.

use rust_decimal::Decimal;
use time::OffsetDateTime;

use model::{FieldType, ObjectDef, Value};

/// What the caller wrote in this operation (field positions), so that explicit values win
/// over implied ones.
pub struct Written<'a>(pub &'a [bool]);

impl Written<'_> {
    fn has(&self, object: &ObjectDef, name: &str) -> bool {
        object
            .field_position(name)
            .is_some_and(|i| self.0.get(i).copied().unwrap_or(false))
    }
}

fn set(object: &ObjectDef, row: &mut [Value], name: &str, value: Value) {
    if let Some(i) = object.field_position(name) {
        row[i] = value;
    }
}

fn get<'r>(object: &ObjectDef, row: &'r [Value], name: &str) -> Option<&'r Value> {
    object.field_position(name).map(|i| &row[i])
}

/// Recomputes derived fields of `row`. `previous` is the stored row on update.
pub fn derive(
    object: &ObjectDef,
    row: &mut [Value],
    written: &Written<'_>,
    previous: Option<&[Value]>,
    fiscal_year_start_month: u8,
    now: OffsetDateTime,
) {
    compound_name(object, row);
    status_flags(object, row, written, previous, now);
    if let Some(priority) = get(object, row, "Priority")
        .and_then(Value::as_text)
        .map(str::to_string)
        && object.field("IsHighPriority").is_some_and(|f| f.readonly)
    {
        set(
            object,
            row,
            "IsHighPriority",
            Value::Bool(priority == "High"),
        );
    }
    expected_revenue(object, row);
    fiscal_period(object, row, fiscal_year_start_month);
}

/// `Name` on people (Lead, Contact, User): first and last name.
fn compound_name(object: &ObjectDef, row: &mut [Value]) {
    let is_compound =
        object.field("Name").is_some_and(|f| f.readonly) && object.field("LastName").is_some();
    if !is_compound {
        return;
    }
    let part = |name: &str| {
        get(object, row, name)
            .and_then(Value::as_text)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let (first, last) = (part("FirstName"), part("LastName"));
    // Chinese names read family name first, with no space: 王 + 建国 → 王建国.
    let full = if is_cjk(&first) && is_cjk(&last) {
        format!("{last}{first}")
    } else {
        [first, last]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    set(
        object,
        row,
        "Name",
        if full.is_empty() {
            Value::Null
        } else {
            Value::Text(full)
        },
    );
}

/// Whether a name part is written in CJK ideographs (or empty).
fn is_cjk(text: &str) -> bool {
    text.chars().all(|c| matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F))
}

/// The status picklist of an object is the one whose values carry closed/won/probability
/// attributes (StageName, Task.Status, Case.Status). Its value sets IsClosed/IsWon and, when
/// the status changed and the caller did not say otherwise, Probability and ForecastCategoryName.
fn status_flags(
    object: &ObjectDef,
    row: &mut [Value],
    written: &Written<'_>,
    previous: Option<&[Value]>,
    now: OffsetDateTime,
) {
    let Some((position, field)) = object.fields.iter().enumerate().find(|(_, f)| {
        f.field_type == FieldType::Picklist
            && !f.custom
            && f.values.iter().any(|v| v.closed || v.probability.is_some())
    }) else {
        return;
    };
    let Some(current) = row[position].as_text().map(str::to_string) else {
        return;
    };
    let Some(value) = field.picklist_value(&current).cloned() else {
        return;
    };
    let changed = previous.is_none_or(|p| p[position] != row[position]);
    if object.field("IsClosed").is_some_and(|f| f.readonly) {
        let was_closed = previous
            .and_then(|p| {
                object
                    .field_position("IsClosed")
                    .map(|i| p[i] == Value::Bool(true))
            })
            .unwrap_or(false);
        set(object, row, "IsClosed", Value::Bool(value.closed));
        if object.field("ClosedDate").is_some_and(|f| f.readonly) {
            if value.closed && !was_closed {
                set(object, row, "ClosedDate", Value::DateTime(now));
            } else if !value.closed {
                set(object, row, "ClosedDate", Value::Null);
            }
        }
    }
    if object.field("IsWon").is_some_and(|f| f.readonly) {
        set(object, row, "IsWon", Value::Bool(value.won));
    }
    if changed {
        if let Some(p) = value.probability
            && !written.has(object, "Probability")
            && object.field("Probability").is_some()
        {
            set(object, row, "Probability", Value::Decimal(Decimal::from(p)));
        }
        if let Some(category) = value.forecast_category
            && !written.has(object, "ForecastCategoryName")
            && object.field("ForecastCategoryName").is_some()
        {
            set(object, row, "ForecastCategoryName", Value::Text(category));
        }
        if object
            .field("LastStageChangeDate")
            .is_some_and(|f| f.readonly)
            && previous.is_some()
        {
            set(object, row, "LastStageChangeDate", Value::DateTime(now));
        }
    }
}

/// Amount × Probability / 100.
fn expected_revenue(object: &ObjectDef, row: &mut [Value]) {
    if !object.field("ExpectedRevenue").is_some_and(|f| f.readonly) {
        return;
    }
    let amount = get(object, row, "Amount").cloned();
    let probability = get(object, row, "Probability").cloned();
    let value = match (amount, probability) {
        (Some(Value::Decimal(a)), Some(Value::Decimal(p))) => {
            let mut revenue = (a * p / Decimal::from(100)).round_dp(2);
            revenue.rescale(2);
            Value::Decimal(revenue)
        }
        _ => Value::Null,
    };
    set(object, row, "ExpectedRevenue", value);
}

/// FiscalYear, FiscalQuarter and Fiscal ("2025 3") of the close date, with the org's
/// fiscal-year start month. A fiscal year is named after the calendar year it ends in.
fn fiscal_period(object: &ObjectDef, row: &mut [Value], start_month: u8) {
    if !object.field("FiscalYear").is_some_and(|f| f.readonly) {
        return;
    }
    let Some(Value::Date(close)) = get(object, row, "CloseDate").cloned() else {
        for name in ["FiscalYear", "FiscalQuarter", "Fiscal"] {
            set(object, row, name, Value::Null);
        }
        return;
    };
    let (year, quarter) = fiscal_year_and_quarter(close, start_month);
    set(
        object,
        row,
        "FiscalYear",
        Value::Decimal(Decimal::from(year)),
    );
    set(
        object,
        row,
        "FiscalQuarter",
        Value::Decimal(Decimal::from(quarter)),
    );
    set(
        object,
        row,
        "Fiscal",
        Value::Text(format!("{year} {quarter}")),
    );
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
