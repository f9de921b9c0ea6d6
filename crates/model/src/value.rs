//! Field values: parsed from API input by field type, and written back as Salesforce's JSON does.

use rust_decimal::Decimal;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::id::RecordId;

/// A value of one field of one record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    Bool(bool),
    Decimal(Decimal),
    Text(String),
    Date(Date),
    /// Always UTC, to the millisecond.
    DateTime(OffsetDateTime),
    Id(RecordId),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_id(&self) -> Option<&RecordId> {
        match self {
            Value::Id(id) => Some(id),
            _ => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_datetime(&self) -> Option<OffsetDateTime> {
        match self {
            Value::DateTime(t) => Some(*t),
            _ => None,
        }
    }

    /// The value as Salesforce's JSON shows it: ids in 18 characters, dates `YYYY-MM-DD`,
    /// datetimes `YYYY-MM-DDThh:mm:ss.000+0000`, numbers as numbers.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Decimal(d) => decimal_to_json(*d),
            Value::Text(text) => serde_json::Value::String(text.clone()),
            Value::Date(date) => serde_json::Value::String(format_date(*date)),
            Value::DateTime(t) => serde_json::Value::String(format_datetime(*t)),
            Value::Id(id) => serde_json::Value::String(id.to_18()),
        }
    }

    /// The value as plain text, for history rows and messages.
    pub fn to_display(&self) -> String {
        match self.to_json() {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }
    }
}

fn decimal_to_json(d: Decimal) -> serde_json::Value {
    use rust_decimal::prelude::ToPrimitive;
    // Whole numbers of scale-0 fields are integers in JSON; everything else a double.
    if d.scale() == 0
        && let Some(i) = d.to_i64()
    {
        return serde_json::Value::from(i);
    }
    d.to_f64()
        .map(serde_json::Value::from)
        .unwrap_or(serde_json::Value::Null)
}

/// `YYYY-MM-DD`.
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// `YYYY-MM-DDThh:mm:ss.mmm+0000`, in UTC.
pub fn format_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{}T{:02}:{:02}:{:02}.{:03}+0000",
        format_date(t.date()),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year: i32 = text.get(0..4)?.parse().ok()?;
    let month: u8 = text.get(5..7)?.parse().ok()?;
    let day: u8 = text.get(8..10)?.parse().ok()?;
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// Parses the ISO-8601 forms clients send: `2024-05-01T10:00:00Z`, `…T10:00:00.000+0000`,
/// `…T10:00:00+08:00`, `…T10:00:00` (UTC). The result is UTC, truncated to milliseconds.
pub fn parse_datetime(text: &str) -> Option<OffsetDateTime> {
    let (date_part, rest) = text.split_once(['T', ' '])?;
    let date = parse_date(date_part)?;
    let (clock, offset) = split_offset(rest)?;
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, fraction)) => (hms, fraction),
        None => (clock, ""),
    };
    let mut parts = hms.split(':');
    let hour: u8 = parts.next()?.parse().ok()?;
    let minute: u8 = parts.next()?.parse().ok()?;
    let second: u8 = match parts.next() {
        Some(s) => s.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let millis: u16 = if fraction.is_empty() {
        0
    } else {
        format!("{:0<3}", &fraction[..fraction.len().min(3)])
            .parse()
            .ok()?
    };
    let time = time::Time::from_hms_milli(hour, minute, second, millis).ok()?;
    // Checked: an offset can push a date past the last representable year.
    date.with_time(time)
        .assume_offset(offset)
        .checked_to_offset(UtcOffset::UTC)
}

fn split_offset(rest: &str) -> Option<(&str, UtcOffset)> {
    if let Some(clock) = rest.strip_suffix('Z').or_else(|| rest.strip_suffix('z')) {
        return Some((clock, UtcOffset::UTC));
    }
    if let Some(pos) = rest.rfind(['+', '-']) {
        let (clock, offset) = rest.split_at(pos);
        let sign: i8 = if offset.starts_with('-') { -1 } else { 1 };
        let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let hours: i8 = digits[..2].parse().ok()?;
        let minutes: i8 = digits[2..].parse().ok()?;
        return Some((
            clock,
            UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?,
        ));
    }
    Some((rest, UtcOffset::UTC))
}

/// Now, in UTC, truncated to milliseconds as Salesforce keeps datetimes.
pub fn now_millis() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    let millis = now.millisecond();
    now.replace_millisecond(millis).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_parse_in_every_form_clients_send() {
        let expected = "2024-05-01T10:00:00.000+0000";
        for text in [
            "2024-05-01T10:00:00Z",
            "2024-05-01T10:00:00.000+0000",
            "2024-05-01T18:00:00+08:00",
            "2024-05-01T10:00:00",
            "2024-05-01T05:00:00-0500",
        ] {
            assert_eq!(
                format_datetime(parse_datetime(text).unwrap()),
                expected,
                "{text}"
            );
        }
        assert_eq!(
            format_datetime(parse_datetime("2024-05-01T10:00:00.1234Z").unwrap()),
            "2024-05-01T10:00:00.123+0000"
        );
        for bad in [
            "2024-05-01",
            "2024-13-01T00:00:00Z",
            "2024-05-01T25:00:00Z",
            "yesterday",
            "2024-05-01T10:00:00+8",
        ] {
            assert!(parse_datetime(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(format_date(parse_date("2024-02-29").unwrap()), "2024-02-29");
        for bad in ["2023-02-29", "2024-2-1", "20240201", ""] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn numbers_come_back_as_json_numbers() {
        assert_eq!(
            Value::Decimal(Decimal::new(1234, 0)).to_json(),
            serde_json::json!(1234)
        );
        assert_eq!(
            Value::Decimal(Decimal::new(123450, 2)).to_json(),
            serde_json::json!(1234.5)
        );
    }
}
