//! SOQL's relative date literals (`TODAY`, `LAST_N_DAYS:30`, `THIS_FISCAL_QUARTER`…) as
//! half-open date ranges `[start, end)`, with the org's fiscal-year start month. Weeks start
//! on Sunday, as in Salesforce's default locale. Days are the caller's: "today" is the date in
//! the user's time zone, and on a datetime field a day runs from midnight there ([`Today`]).

use time::{Date, Duration, Month, OffsetDateTime};

/// Today as a user sees it, and where their days begin.
#[derive(Debug, Clone)]
pub struct Today {
    pub date: Date,
    zone: jiff::tz::TimeZone,
}

fn to_jiff(date: Date) -> Option<jiff::civil::Date> {
    jiff::civil::Date::new(
        i16::try_from(date.year()).ok()?,
        i8::try_from(u8::from(date.month())).ok()?,
        i8::try_from(date.day()).ok()?,
    )
    .ok()
}

fn from_jiff(date: jiff::civil::Date) -> Option<Date> {
    let month = Month::try_from(u8::try_from(date.month()).ok()?).ok()?;
    Date::from_calendar_date(
        i32::from(date.year()),
        month,
        u8::try_from(date.day()).ok()?,
    )
    .ok()
}

impl Today {
    /// Now, in the IANA time zone `name` (`Asia/Shanghai`); UTC when the name is unknown.
    pub fn in_zone(name: &str) -> Today {
        let zone = jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC);
        Today::at(jiff::Timestamp::now(), zone)
    }

    fn at(now: jiff::Timestamp, zone: jiff::tz::TimeZone) -> Today {
        let local = now.to_zoned_datetime(zone.clone()).date();
        let date = from_jiff(local).unwrap_or_else(|| OffsetDateTime::now_utc().date());
        Today { date, zone }
    }

    /// The instant `date` begins in the zone (where a clock change skips midnight, the first
    /// instant of the day that exists).
    pub fn start_of(&self, date: Date) -> OffsetDateTime {
        to_jiff(date)
            .and_then(|d| d.to_zoned_datetime(self.zone.clone()).ok())
            .and_then(|z| OffsetDateTime::from_unix_timestamp(z.timestamp().as_second()).ok())
            .unwrap_or_else(|| date.midnight().assume_utc())
    }
}

/// The period a literal counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Day,
    Week,
    Month,
    Quarter,
    Year,
    FiscalQuarter,
    FiscalYear,
}

fn first_of_month(year: i32, month0: i32) -> Option<Date> {
    // `month0` counts months from January = 0 and may run past 11 or below 0.
    let year = year + month0.div_euclid(12);
    let month = u8::try_from(month0.rem_euclid(12) + 1).ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, 1).ok()
}

fn month0(date: Date) -> i32 {
    i32::from(u8::from(date.month())) - 1
}

/// The first day of the period of `unit` containing `date`.
fn start(unit: Unit, date: Date, fiscal_start: u8) -> Option<Date> {
    let fiscal0 = i32::from(fiscal_start.clamp(1, 12)) - 1;
    match unit {
        Unit::Day => Some(date),
        Unit::Week => {
            Some(date - Duration::days(i64::from(date.weekday().number_days_from_sunday())))
        }
        Unit::Month => first_of_month(date.year(), month0(date)),
        Unit::Quarter => first_of_month(date.year(), month0(date) / 3 * 3),
        Unit::Year => first_of_month(date.year(), 0),
        Unit::FiscalQuarter => {
            let since = (month0(date) - fiscal0).rem_euclid(12);
            first_of_month(date.year(), month0(date) - since % 3)
        }
        Unit::FiscalYear => {
            let since = (month0(date) - fiscal0).rem_euclid(12);
            first_of_month(date.year(), month0(date) - since)
        }
    }
}

/// `start` moved by `count` periods of `unit` (`start` is a period start).
fn shift(unit: Unit, start: Date, count: i64) -> Option<Date> {
    let months = |k: i64| first_of_month(start.year(), month0(start) + i32::try_from(k).ok()?);
    match unit {
        Unit::Day => start.checked_add(Duration::days(count)),
        Unit::Week => start.checked_add(Duration::weeks(count)),
        Unit::Month => months(count),
        Unit::Quarter | Unit::FiscalQuarter => months(count.checked_mul(3)?),
        Unit::Year | Unit::FiscalYear => months(count.checked_mul(12)?),
    }
}

/// The range a relative date literal stands for, on `today`; `None` for an unknown literal
/// or a missing or unexpected `:n`.
pub fn range(name: &str, n: Option<i64>, today: Date, fiscal_start: u8) -> Option<(Date, Date)> {
    let name = name.to_ascii_uppercase();
    let fixed = |unit: Unit, offset: i64| {
        let this = start(unit, today, fiscal_start)?;
        Some((shift(unit, this, offset)?, shift(unit, this, offset + 1)?))
    };
    let plain = match name.as_str() {
        "YESTERDAY" => Some((Unit::Day, -1)),
        "TODAY" => Some((Unit::Day, 0)),
        "TOMORROW" => Some((Unit::Day, 1)),
        "LAST_WEEK" => Some((Unit::Week, -1)),
        "THIS_WEEK" => Some((Unit::Week, 0)),
        "NEXT_WEEK" => Some((Unit::Week, 1)),
        "LAST_MONTH" => Some((Unit::Month, -1)),
        "THIS_MONTH" => Some((Unit::Month, 0)),
        "NEXT_MONTH" => Some((Unit::Month, 1)),
        "LAST_QUARTER" => Some((Unit::Quarter, -1)),
        "THIS_QUARTER" => Some((Unit::Quarter, 0)),
        "NEXT_QUARTER" => Some((Unit::Quarter, 1)),
        "LAST_YEAR" => Some((Unit::Year, -1)),
        "THIS_YEAR" => Some((Unit::Year, 0)),
        "NEXT_YEAR" => Some((Unit::Year, 1)),
        "LAST_FISCAL_QUARTER" => Some((Unit::FiscalQuarter, -1)),
        "THIS_FISCAL_QUARTER" => Some((Unit::FiscalQuarter, 0)),
        "NEXT_FISCAL_QUARTER" => Some((Unit::FiscalQuarter, 1)),
        "LAST_FISCAL_YEAR" => Some((Unit::FiscalYear, -1)),
        "THIS_FISCAL_YEAR" => Some((Unit::FiscalYear, 0)),
        "NEXT_FISCAL_YEAR" => Some((Unit::FiscalYear, 1)),
        _ => None,
    };
    if let Some((unit, offset)) = plain {
        return if n.is_none() {
            fixed(unit, offset)
        } else {
            None
        };
    }
    match name.as_str() {
        "LAST_90_DAYS" if n.is_none() => {
            return Some((today.checked_sub(Duration::days(90))?, today.next_day()?));
        }
        "NEXT_90_DAYS" if n.is_none() => {
            return Some((today.next_day()?, today.checked_add(Duration::days(91))?));
        }
        _ => {}
    }
    let n = n.filter(|n| *n >= 0)?;
    let (direction, unit) = name
        .strip_prefix("LAST_N_")
        .map(|rest| ("last", rest))
        .or_else(|| name.strip_prefix("NEXT_N_").map(|rest| ("next", rest)))
        .or_else(|| {
            name.strip_prefix("N_")
                .and_then(|rest| rest.strip_suffix("_AGO"))
                .map(|rest| ("ago", rest))
        })?;
    let unit = match unit {
        "DAYS" => Unit::Day,
        "WEEKS" => Unit::Week,
        "MONTHS" => Unit::Month,
        "QUARTERS" => Unit::Quarter,
        "YEARS" => Unit::Year,
        "FISCAL_QUARTERS" => Unit::FiscalQuarter,
        "FISCAL_YEARS" => Unit::FiscalYear,
        _ => return None,
    };
    let this = start(unit, today, fiscal_start)?;
    match (direction, unit) {
        // LAST_N_DAYS:n counts today too: n + 1 calendar days.
        ("last", Unit::Day) => Some((today.checked_sub(Duration::days(n))?, today.next_day()?)),
        ("last", _) => Some((shift(unit, this, -n)?, this)),
        ("next", _) => Some((shift(unit, this, 1)?, shift(unit, this, 1 + n)?)),
        (_, _) => Some((shift(unit, this, -n)?, shift(unit, this, 1 - n)?)),
    }
}

/// The wall-clock time an instant shows in the IANA zone `zone` (UTC when unknown): how a
/// datetime is displayed to a user in their time zone.
pub fn local_time(t: OffsetDateTime, zone: &str) -> time::PrimitiveDateTime {
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let offset = jiff::Timestamp::from_second(t.unix_timestamp())
        .map(|ts| tz.to_offset(ts).seconds())
        .unwrap_or(0);
    let offset = time::UtcOffset::from_whole_seconds(offset).unwrap_or(time::UtcOffset::UTC);
    let local = t.to_offset(offset);
    time::PrimitiveDateTime::new(local.date(), local.time())
}

/// The instant a wall-clock time in `zone` names (the earlier one when a clock change makes
/// it ambiguous; `None` when it does not exist or the zone is unknown).
pub fn from_local(local: time::PrimitiveDateTime, zone: &str) -> Option<OffsetDateTime> {
    let tz = jiff::tz::TimeZone::get(zone).ok()?;
    let civil = jiff::civil::DateTime::new(
        i16::try_from(local.year()).ok()?,
        i8::try_from(u8::from(local.month())).ok()?,
        i8::try_from(local.day()).ok()?,
        i8::try_from(local.hour()).ok()?,
        i8::try_from(local.minute()).ok()?,
        0,
        0,
    )
    .ok()?;
    let zoned = tz.to_ambiguous_zoned_datetime(civil).compatible().ok()?;
    OffsetDateTime::from_unix_timestamp(zoned.timestamp().as_second()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn ranges_on_a_fixed_day() {
        let today = date!(2026 - 11 - 27); // a Friday
        assert_eq!(
            range("TODAY", None, today, 1),
            Some((today, date!(2026 - 11 - 28)))
        );
        assert_eq!(
            range("yesterday", None, today, 1),
            Some((date!(2026 - 11 - 26), today))
        );
        assert_eq!(
            range("THIS_WEEK", None, today, 1),
            Some((date!(2026 - 11 - 22), date!(2026 - 11 - 29)))
        );
        assert_eq!(
            range("LAST_MONTH", None, today, 1),
            Some((date!(2026 - 10 - 01), date!(2026 - 11 - 01)))
        );
        assert_eq!(
            range("THIS_QUARTER", None, today, 1),
            Some((date!(2026 - 10 - 01), date!(2027 - 01 - 01)))
        );
        assert_eq!(
            range("NEXT_YEAR", None, today, 1),
            Some((date!(2027 - 01 - 01), date!(2028 - 01 - 01)))
        );
        assert_eq!(
            range("LAST_N_DAYS", Some(30), today, 1),
            Some((date!(2026 - 10 - 28), date!(2026 - 11 - 28)))
        );
        assert_eq!(
            range("NEXT_N_DAYS", Some(2), today, 1),
            Some((date!(2026 - 11 - 28), date!(2026 - 11 - 30)))
        );
        assert_eq!(
            range("N_DAYS_AGO", Some(3), today, 1),
            Some((date!(2026 - 11 - 24), date!(2026 - 11 - 25)))
        );
        assert_eq!(
            range("LAST_N_MONTHS", Some(2), today, 1),
            Some((date!(2026 - 09 - 01), date!(2026 - 11 - 01)))
        );
        assert_eq!(
            range("N_QUARTERS_AGO", Some(1), today, 1),
            Some((date!(2026 - 07 - 01), date!(2026 - 10 - 01)))
        );
        // A fiscal year starting in April: FY runs April–March, Q3 is October–December.
        assert_eq!(
            range("THIS_FISCAL_QUARTER", None, today, 4),
            Some((date!(2026 - 10 - 01), date!(2027 - 01 - 01)))
        );
        assert_eq!(
            range("THIS_FISCAL_YEAR", None, today, 4),
            Some((date!(2026 - 04 - 01), date!(2027 - 04 - 01)))
        );
        assert_eq!(
            range("LAST_FISCAL_YEAR", None, date!(2026 - 02 - 10), 4),
            Some((date!(2024 - 04 - 01), date!(2025 - 04 - 01)))
        );
        assert_eq!(
            range("NEXT_N_FISCAL_QUARTERS", Some(2), today, 4),
            Some((date!(2027 - 01 - 01), date!(2027 - 07 - 01)))
        );
        assert!(range("TODAY", Some(1), today, 1).is_none());
        assert!(range("LAST_N_DAYS", None, today, 1).is_none());
        assert!(range("LAST_N_FORTNIGHTS", Some(1), today, 1).is_none());
    }

    #[test]
    fn days_begin_at_midnight_in_the_users_zone() {
        use time::macros::datetime;
        // 2026-11-27 20:00 UTC is already the 28th in Shanghai (UTC+8) but still the 27th in
        // Los Angeles (UTC-8).
        let now =
            jiff::Timestamp::from_second(datetime!(2026-11-27 20:00 UTC).unix_timestamp()).unwrap();
        let shanghai = Today::at(now, jiff::tz::TimeZone::get("Asia/Shanghai").unwrap());
        assert_eq!(shanghai.date, date!(2026 - 11 - 28));
        assert_eq!(
            shanghai.start_of(shanghai.date),
            datetime!(2026-11-27 16:00 UTC)
        );
        let la = Today::at(now, jiff::tz::TimeZone::get("America/Los_Angeles").unwrap());
        assert_eq!(la.date, date!(2026 - 11 - 27));
        assert_eq!(la.start_of(la.date), datetime!(2026-11-27 08:00 UTC));
        // Summer time: Los Angeles is UTC-7 in July.
        assert_eq!(
            la.start_of(date!(2026 - 07 - 01)),
            datetime!(2026-07-01 07:00 UTC)
        );
        assert_eq!(
            Today::in_zone("Not/AZone").start_of(date!(2026 - 01 - 01)),
            datetime!(2026-01-01 00:00 UTC)
        );
    }
}
