//! Validation of field definitions, custom API names, and field values against their field.
//! Every message names the field (by its label, as Salesforce does) and the rule.

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{ErrorCode, RecordError};
use crate::id::RecordId;
use crate::schema::{FieldDef, FieldType};
use crate::value::{Value, parse_date, parse_datetime};

/// The years a date or datetime may fall in (Salesforce's range).
pub const SUPPORTED_YEARS: std::ops::RangeInclusive<i32> = 1700..=4000;

/// Largest number of digits a number field may have (Salesforce's limit).
pub const MAX_PRECISION: u8 = 18;
/// Longest long text area.
pub const MAX_LONG_TEXT: u32 = 131_072;

/// Checks that a field definition is coherent: lengths and digits within limits, references
/// with targets, picklists with values.
pub fn check_field_definition(field: &FieldDef) -> Result<(), RecordError> {
    let bad = |message: String| {
        Err(RecordError::on_field(
            ErrorCode::InvalidOperation,
            &field.name,
            message,
        ))
    };
    match field.field_type {
        // Standard text fields may be longer (OpportunityLineItem.Name is 376); custom ones may not.
        FieldType::Text => match field.length {
            Some(1..=255) => {}
            Some(n) if !field.custom && n <= MAX_LONG_TEXT => {}
            _ => {
                return bad(format!(
                    "{}: a Text field needs a length from 1 to 255",
                    field.name
                ));
            }
        },
        FieldType::TextArea | FieldType::LongTextArea => match field.length {
            Some(n) if (1..=MAX_LONG_TEXT).contains(&n) => {}
            _ => {
                return bad(format!(
                    "{}: a text area needs a length from 1 to {MAX_LONG_TEXT}",
                    field.name
                ));
            }
        },
        t if t.is_numeric() => match (field.precision, field.scale) {
            (Some(p), Some(s)) if (1..=MAX_PRECISION).contains(&p) && s <= p => {}
            _ => {
                return bad(format!(
                    "{}: a number needs a precision from 1 to {MAX_PRECISION} and a scale no larger than the precision",
                    field.name
                ));
            }
        },
        FieldType::Reference if field.reference_to.is_empty() => {
            return bad(format!(
                "{}: a reference must name the object it points to",
                field.name
            ));
        }
        _ => {}
    }
    Ok(())
}

/// Checks the API name of a custom field or object: letters, digits and single underscores,
/// starting with a letter, ending in `__c`, at most 40 characters before the suffix.
pub fn check_custom_name(name: &str) -> Result<(), String> {
    let Some(stem) = name.strip_suffix("__c") else {
        return Err(format!("{name}: a custom API name must end in __c"));
    };
    let valid = !stem.is_empty()
        && stem.len() <= 40
        && stem.starts_with(|c: char| c.is_ascii_alphabetic())
        && !stem.ends_with('_')
        && !stem.contains("__")
        && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{name}: a custom API name starts with a letter, has only letters, digits and single underscores, \
             does not end with an underscore before __c, and has at most 40 characters before __c"
        ))
    }
}

/// Turns a JSON value from a caller into the field's value, or says precisely what is wrong.
/// Required-ness and references' existence are checked by the caller, which sees the whole record.
pub fn coerce(field: &FieldDef, input: &serde_json::Value) -> Result<Value, RecordError> {
    use serde_json::Value as J;
    if input.is_null() {
        // Salesforce stores false for a checkbox set to null.
        return Ok(if field.field_type == FieldType::Checkbox {
            Value::Bool(false)
        } else {
            Value::Null
        });
    }
    let label = &field.label.en;
    let wrong_type = || {
        RecordError::on_field(
            ErrorCode::InvalidTypeOnFieldInRecord,
            &field.name,
            format!("{label}: value not of required type: {}", display(input)),
        )
    };
    match field.field_type {
        FieldType::Checkbox => match input {
            J::Bool(b) => Ok(Value::Bool(*b)),
            J::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            J::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(wrong_type()),
        },
        FieldType::Number | FieldType::Currency | FieldType::Percent => {
            let number = match input {
                J::Number(n) => parse_decimal(&n.to_string()),
                J::String(s) => parse_decimal(s.trim()),
                _ => None,
            }
            .ok_or_else(wrong_type)?;
            check_digits(field, number).map(Value::Decimal)
        }
        FieldType::Date => match input {
            J::String(s) => parse_date(s)
                .or_else(|| parse_datetime(s).map(|t| t.date()))
                .filter(|d| SUPPORTED_YEARS.contains(&d.year()))
                .map(Value::Date)
                .ok_or_else(wrong_type),
            _ => Err(wrong_type()),
        },
        FieldType::DateTime => match input {
            J::String(s) => parse_datetime(s)
                .filter(|t| SUPPORTED_YEARS.contains(&t.year()))
                .map(Value::DateTime)
                .ok_or_else(wrong_type),
            _ => Err(wrong_type()),
        },
        FieldType::Id | FieldType::Reference => match input {
            J::String(s) if s.is_empty() => Ok(Value::Null),
            J::String(s) => RecordId::parse(s).map(Value::Id).map_err(|_| {
                RecordError::on_field(
                    ErrorCode::MalformedId,
                    &field.name,
                    format!("{label}: id value of incorrect type: {s}"),
                )
            }),
            _ => Err(wrong_type()),
        },
        _ => {
            let text = match input {
                J::String(s) => s.clone(),
                J::Number(n) => n.to_string(),
                J::Bool(b) => b.to_string(),
                _ => return Err(wrong_type()),
            };
            coerce_text(field, text)
        }
    }
}

fn coerce_text(field: &FieldDef, text: String) -> Result<Value, RecordError> {
    let label = &field.label.en;
    if text.is_empty() {
        return Ok(Value::Null);
    }
    if text.contains('\0') {
        // PostgreSQL cannot store NUL in text; no client means to send one.
        return Err(RecordError::on_field(
            ErrorCode::InvalidTypeOnFieldInRecord,
            &field.name,
            format!("{label}: text may not contain the NUL character"),
        ));
    }
    let text = match field.field_type {
        FieldType::Picklist => canonical_picklist_value(field, &text)?,
        FieldType::MultiPicklist => {
            let mut chosen: Vec<String> = Vec::new();
            for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                let value = canonical_picklist_value(field, part)?;
                if !chosen.contains(&value) {
                    chosen.push(value);
                }
            }
            if chosen.is_empty() {
                return Ok(Value::Null);
            }
            chosen.join(";")
        }
        FieldType::Email => {
            if !looks_like_email(&text) {
                return Err(RecordError::on_field(
                    ErrorCode::InvalidEmailAddress,
                    &field.name,
                    format!("{label}: invalid email address: {text}"),
                ));
            }
            text
        }
        _ => text,
    };
    if let Some(max) = field.max_length() {
        let chars = text.chars().count();
        if chars > max as usize {
            return Err(RecordError::on_field(
                ErrorCode::StringTooLong,
                &field.name,
                format!(
                    "{label}: data value too large: {} (max length={max})",
                    shorten(&text)
                ),
            ));
        }
    }
    Ok(Value::Text(text))
}

fn canonical_picklist_value(field: &FieldDef, text: &str) -> Result<String, RecordError> {
    match field.picklist_value(text) {
        Some(v) if v.active || !field.restricted => Ok(v.value.clone()),
        _ if !field.restricted => Ok(text.to_string()),
        _ => Err(RecordError::on_field(
            ErrorCode::InvalidOrNullForRestrictedPicklist,
            &field.name,
            format!(
                "{}: bad value for restricted picklist field: {text}",
                field.label.en
            ),
        )),
    }
}

fn parse_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

/// Rounds to the field's scale (half away from zero, as Salesforce does) and checks that the
/// integer part fits in precision − scale digits.
fn check_digits(field: &FieldDef, number: Decimal) -> Result<Decimal, RecordError> {
    let scale = field.scale.unwrap_or(0);
    let precision = field.precision.unwrap_or(MAX_PRECISION);
    let rounded =
        number.round_dp_with_strategy(u32::from(scale), RoundingStrategy::MidpointAwayFromZero);
    let integer_digits = rounded
        .trunc()
        .abs()
        .to_string()
        .trim_start_matches('0')
        .len();
    if integer_digits > usize::from(precision - scale) {
        return Err(RecordError::on_field(
            ErrorCode::NumberOutsideValidRange,
            &field.name,
            format!(
                "{}: value outside of valid range on numeric field: {number} (at most {} digits before the decimal point)",
                field.label.en,
                precision - scale
            ),
        ));
    }
    let mut rounded = rounded;
    rounded.rescale(u32::from(scale));
    Ok(rounded)
}

fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.contains(char::is_whitespace)
        && !domain.contains('@')
}

fn display(input: &serde_json::Value) -> String {
    match input {
        serde_json::Value::String(s) => shorten(s),
        other => shorten(&other.to_string()),
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Label, PicklistValue};
    use serde_json::json;
    use std::sync::Arc;

    fn field(t: FieldType) -> FieldDef {
        FieldDef::new("F__c", t, Label::new("F", "F"))
    }

    #[test]
    fn text_is_limited_by_length_in_characters() {
        let mut f = field(FieldType::Text);
        f.length = Some(3);
        assert_eq!(
            coerce(&f, &json!("华为技")).unwrap(),
            Value::Text("华为技".into())
        );
        let err = coerce(&f, &json!("abcd")).unwrap_err();
        assert_eq!(err.code, ErrorCode::StringTooLong);
        assert_eq!(err.fields, vec!["F__c"]);
    }

    #[test]
    fn numbers_are_rounded_to_scale_and_limited_in_digits() {
        let mut f = field(FieldType::Currency);
        f.precision = Some(5);
        f.scale = Some(2);
        assert_eq!(
            coerce(&f, &json!(123.456)).unwrap(),
            Value::Decimal(Decimal::new(12346, 2))
        );
        assert_eq!(
            coerce(&f, &json!("-1.005")).unwrap(),
            Value::Decimal(Decimal::new(-101, 2))
        );
        assert_eq!(
            coerce(&f, &json!(1234.5)).unwrap_err().code,
            ErrorCode::NumberOutsideValidRange
        );
        assert_eq!(
            coerce(&f, &json!("lots")).unwrap_err().code,
            ErrorCode::InvalidTypeOnFieldInRecord
        );
        assert_eq!(
            coerce(&f, &json!(true)).unwrap_err().code,
            ErrorCode::InvalidTypeOnFieldInRecord
        );
    }

    #[test]
    fn restricted_picklists_take_only_their_values() {
        let mut f = field(FieldType::Picklist);
        f.restricted = true;
        f.values = Arc::new(vec![
            PicklistValue {
                value: "Hot".into(),
                active: true,
                ..Default::default()
            },
            PicklistValue {
                value: "Old".into(),
                active: false,
                ..Default::default()
            },
        ]);
        assert_eq!(
            coerce(&f, &json!("hot")).unwrap(),
            Value::Text("Hot".into())
        );
        assert_eq!(
            coerce(&f, &json!("Tepid")).unwrap_err().code,
            ErrorCode::InvalidOrNullForRestrictedPicklist
        );
        assert_eq!(
            coerce(&f, &json!("Old")).unwrap_err().code,
            ErrorCode::InvalidOrNullForRestrictedPicklist
        );
        f.field_type = FieldType::MultiPicklist;
        assert_eq!(
            coerce(&f, &json!("Hot;hot")).unwrap(),
            Value::Text("Hot".into())
        );
    }

    #[test]
    fn references_must_be_well_formed_ids() {
        let mut f = field(FieldType::Reference);
        f.reference_to = vec!["Account".into()];
        assert_eq!(
            coerce(&f, &json!("001xx")).unwrap_err().code,
            ErrorCode::MalformedId
        );
        assert!(matches!(
            coerce(&f, &json!("001A0000006Vm9rIAC")).unwrap(),
            Value::Id(_)
        ));
    }

    #[test]
    fn emails_dates_and_checkboxes() {
        assert_eq!(
            coerce(&field(FieldType::Email), &json!("not an email"))
                .unwrap_err()
                .code,
            ErrorCode::InvalidEmailAddress
        );
        assert!(coerce(&field(FieldType::Email), &json!("a@b.cn")).is_ok());
        assert_eq!(
            coerce(&field(FieldType::Date), &json!("2024-13-01"))
                .unwrap_err()
                .code,
            ErrorCode::InvalidTypeOnFieldInRecord
        );
        assert_eq!(
            coerce(&field(FieldType::Checkbox), &json!(null)).unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            coerce(&field(FieldType::Checkbox), &json!(1))
                .unwrap_err()
                .code,
            ErrorCode::InvalidTypeOnFieldInRecord
        );
    }

    #[test]
    fn custom_names() {
        assert!(check_custom_name("Region__c").is_ok());
        for bad in [
            "Region",
            "__c",
            "1Region__c",
            "Re__gion__c",
            "Region___c",
            "Région__c",
            "a b__c",
        ] {
            assert!(check_custom_name(bad).is_err(), "{bad}");
        }
    }
}
