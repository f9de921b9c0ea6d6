//! Mapping custom lead fields to custom fields of the records a conversion makes (Salesforce's
//! "Map Lead Fields"): the standard fields map themselves (`convert.rs`); an administrator
//! says where each custom lead field's value goes, to a field of a type that can hold it.

use model::{ErrorCode, FieldDef, FieldType};

pub use store::lead_map::LeadMapping;

use crate::{App, AppError, Result};

/// The objects a conversion makes, which a lead field can map to.
const TARGETS: [&str; 3] = ["Account", "Contact", "Opportunity"];

fn invalid(field: &str, message: String) -> AppError {
    AppError::on_field(ErrorCode::InvalidField, field, message)
}

/// Whether a field's type holds text a text field can take.
fn is_text(field_type: FieldType) -> bool {
    matches!(
        field_type,
        FieldType::Text
            | FieldType::TextArea
            | FieldType::LongTextArea
            | FieldType::Email
            | FieldType::Phone
            | FieldType::Url
            | FieldType::Picklist
    )
}

/// Why `from`'s values cannot go to `to`, if they cannot: the same type (text no longer
/// than the target takes), or any text into a text field long enough.
fn incompatibility(from: &FieldDef, to: &FieldDef) -> Option<String> {
    let into_text = matches!(
        to.field_type,
        FieldType::Text | FieldType::TextArea | FieldType::LongTextArea
    );
    let same = from.field_type == to.field_type;
    let fits = same || (into_text && is_text(from.field_type));
    if !fits {
        return Some(format!(
            "a {} field cannot map to a {} field",
            from.field_type.as_str(),
            to.field_type.as_str()
        ));
    }
    if let (Some(from_length), Some(to_length)) = (from.length, to.length)
        && is_text(from.field_type)
        && to_length < from_length
    {
        return Some(format!(
            "{} holds up to {from_length} characters, {} only {to_length}",
            from.name, to.name
        ));
    }
    if same && from.field_type == FieldType::Reference && from.reference_to != to.reference_to {
        return Some("the lookups point to different objects".into());
    }
    None
}

impl App {
    /// Every lead field mapping.
    pub async fn lead_mappings(&self) -> Result<Vec<LeadMapping>> {
        Ok(store::lead_map::all(self.store()).await?)
    }

    /// Maps custom lead field `lead_field` (`Region__c` or `Lead.Region__c`) to `target`
    /// (`Account.Region__c`), replacing its mapping if it had one.
    pub async fn map_lead_field(&self, lead_field: &str, target: &str) -> Result<LeadMapping> {
        let schema = self.schema().await?;
        let lead = schema
            .object("Lead")
            .ok_or_else(|| AppError::one(ErrorCode::InvalidType, "no Lead object"))?;
        let name = lead_field
            .strip_prefix("Lead.")
            .or_else(|| lead_field.strip_prefix("lead."))
            .unwrap_or(lead_field);
        let source = lead
            .field(name)
            .ok_or_else(|| invalid(name, format!("No such column '{name}' on entity 'Lead'")))?;
        if !source.custom {
            return Err(invalid(
                &source.name,
                format!(
                    "Lead.{} is a standard field: conversion maps standard fields itself; map custom fields",
                    source.name
                ),
            ));
        }
        let (object_name, field_name) = target.split_once('.').ok_or_else(|| {
            invalid(
                "target",
                format!("target: '{target}' is not Object.Field (e.g. Account.Region__c)"),
            )
        })?;
        let object = schema
            .object(object_name)
            .filter(|o| TARGETS.contains(&o.name.as_str()))
            .ok_or_else(|| {
                invalid(
                    "target",
                    format!(
                        "target: a lead field maps to a field of Account, Contact or Opportunity, not {object_name}"
                    ),
                )
            })?;
        let field = object.field(field_name).ok_or_else(|| {
            invalid(
                field_name,
                format!("No such column '{field_name}' on entity '{}'", object.name),
            )
        })?;
        if !field.custom || !field.createable() {
            return Err(invalid(
                &field.name,
                format!(
                    "{}.{} cannot receive lead values: map to a custom field that can be written",
                    object.name, field.name
                ),
            ));
        }
        if let Some(why) = incompatibility(source, field) {
            return Err(invalid(
                &field.name,
                format!(
                    "Lead.{} to {}.{}: {why}",
                    source.name, object.name, field.name
                ),
            ));
        }
        let mapping = LeadMapping {
            lead_field: source.name.clone(),
            object: object.name.clone(),
            field: field.name.clone(),
        };
        let mut tx = self.store().begin().await?;
        store::lead_map::set(&mut tx, &mapping).await?;
        tx.commit().await?;
        Ok(mapping)
    }

    /// Removes a lead field's mapping; whether it had one.
    pub async fn unmap_lead_field(&self, lead_field: &str) -> Result<bool> {
        let name = lead_field.strip_prefix("Lead.").unwrap_or(lead_field);
        let canonical = self
            .schema()
            .await?
            .object("Lead")
            .and_then(|o| o.field(name))
            .map_or_else(|| name.to_string(), |f| f.name.clone());
        let mut tx = self.store().begin().await?;
        let removed = store::lead_map::remove(&mut tx, &canonical).await?;
        tx.commit().await?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Label;

    fn field(name: &str, field_type: FieldType, length: Option<u32>) -> FieldDef {
        let mut field = FieldDef::new(name, field_type, Label::new(name, name));
        field.length = length;
        field
    }

    #[test]
    fn a_lead_field_maps_to_a_field_that_can_hold_its_values() {
        let text40 = field("Region__c", FieldType::Text, Some(40));
        let text80 = field("Region__c", FieldType::Text, Some(80));
        let text20 = field("Short__c", FieldType::Text, Some(20));
        let email = field("Mail__c", FieldType::Email, Some(80));
        let check = field("Vip__c", FieldType::Checkbox, None);
        let money = field("Budget__c", FieldType::Currency, None);
        assert_eq!(incompatibility(&text40, &text80), None);
        assert_eq!(incompatibility(&email, &text80), None, "any text into text");
        assert!(incompatibility(&text40, &text20).is_some_and(|w| w.contains("only 20")));
        assert!(incompatibility(&check, &text80).is_some_and(|w| w.contains("Checkbox")));
        assert!(incompatibility(&text40, &money).is_some());
        assert_eq!(incompatibility(&money, &money), None);
    }
}
