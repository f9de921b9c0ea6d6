//! Values as a person reads them: picklist labels in their language, numbers with digit
//! groups, currency with the org's symbol, dates and times in their language and time zone.
//! One function per kind, used by every page, so the same thing looks the same everywhere.

use model::{FieldDef, FieldType, Lang, Value};
use time::{Date, OffsetDateTime};

/// How values are shown to one user.
pub struct Formatter<'a> {
    pub lang: Lang,
    pub zone: &'a str,
    pub currency_symbol: &'a str,
}

impl Formatter<'_> {
    /// A field's value as text (references are shown by their parent's name elsewhere).
    pub fn value(&self, field: &FieldDef, value: &Value) -> String {
        match (field.field_type, value) {
            (_, Value::Null) => String::new(),
            (FieldType::Picklist, Value::Text(text)) => self.picklist(field, text),
            (FieldType::MultiPicklist, Value::Text(text)) => text
                .split(';')
                .map(|v| self.picklist(field, v))
                .collect::<Vec<_>>()
                .join("; "),
            (_, Value::Bool(on)) => match (self.lang, on) {
                (Lang::En, true) => "Yes".into(),
                (Lang::En, false) => "No".into(),
                (Lang::ZhCn, true) => "是".into(),
                (Lang::ZhCn, false) => "否".into(),
            },
            (FieldType::Currency, Value::Decimal(d)) => {
                format!(
                    "{}{}",
                    self.currency_symbol,
                    group_digits(&format!("{d:.2}"))
                )
            }
            (FieldType::Percent, Value::Decimal(d)) => format!("{}%", group_digits(&d.to_string())),
            // A year is a number read without digit groups.
            (_, Value::Decimal(d)) if field.name.ends_with("Year") => d.to_string(),
            (_, Value::Decimal(d)) => group_digits(&d.to_string()),
            (_, Value::Date(date)) => self.date(*date),
            (_, Value::DateTime(t)) => self.datetime(*t),
            (_, Value::Id(id)) => id.to_18(),
            (_, Value::Text(text)) => text.clone(),
        }
    }

    /// A picklist value's label in the user's language (the value itself when it is not, or
    /// no longer, one of the field's values).
    pub fn picklist(&self, field: &FieldDef, value: &str) -> String {
        field
            .picklist_value(value)
            .map_or_else(|| value.to_string(), |v| v.label.get(self.lang).to_string())
    }

    pub fn date(&self, date: Date) -> String {
        match self.lang {
            Lang::En => format!(
                "{} {}, {}",
                MONTHS[usize::from(u8::from(date.month())) - 1],
                date.day(),
                date.year()
            ),
            Lang::ZhCn => format!(
                "{}年{}月{}日",
                date.year(),
                u8::from(date.month()),
                date.day()
            ),
        }
    }

    pub fn datetime(&self, t: OffsetDateTime) -> String {
        let local = app::dates::local_time(t, self.zone);
        format!(
            "{} {:02}:{:02}",
            self.date(local.date()),
            local.hour(),
            local.minute()
        )
    }

    /// An amount in the org's currency.
    pub fn money(&self, amount: rust_decimal::Decimal) -> String {
        format!(
            "{}{}",
            self.currency_symbol,
            group_digits(&format!("{:.0}", amount))
        )
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `1234567.5` → `1,234,567.5`.
fn group_digits(number: &str) -> String {
    let (sign, rest) = number
        .strip_prefix('-')
        .map_or(("", number), |rest| ("-", rest));
    let (whole, fraction) = rest
        .split_once('.')
        .map_or((rest, None), |(w, f)| (w, Some(f)));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// The value a form field shows for editing: plain, not formatted (`1234.5`, `2026-11-27`,
/// `2026-11-27T14:05` in the user's zone for datetimes).
pub fn input_value(value: &Value, zone: &str) -> String {
    match value {
        Value::Null => String::new(),
        Value::DateTime(t) => {
            let local = app::dates::local_time(*t, zone);
            format!(
                "{}T{:02}:{:02}",
                model::value::format_date(local.date()),
                local.hour(),
                local.minute()
            )
        }
        Value::Id(id) => id.to_18(),
        other => other.to_display(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped_by_three() {
        assert_eq!(group_digits("0"), "0");
        assert_eq!(group_digits("999"), "999");
        assert_eq!(group_digits("1000"), "1,000");
        assert_eq!(group_digits("-1234567.50"), "-1,234,567.50");
    }

    #[test]
    fn datetimes_show_in_the_users_zone_and_language() {
        let t = OffsetDateTime::from_unix_timestamp(1_795_000_000).expect("instant");
        let en = Formatter {
            lang: Lang::En,
            zone: "UTC",
            currency_symbol: "$",
        };
        let zh = Formatter {
            lang: Lang::ZhCn,
            zone: "Asia/Shanghai",
            currency_symbol: "¥",
        };
        assert_eq!(en.datetime(t), "Nov 18, 2026 11:06");
        assert_eq!(zh.datetime(t), "2026年11月18日 19:06");
        assert_eq!(
            zh.money(rust_decimal::Decimal::new(1_250_000, 0)),
            "¥1,250,000"
        );
    }
}
