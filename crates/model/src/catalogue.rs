//! The standard catalogue: the objects, fields and picklists of a new org, kept as data in
//! `catalogue/standard.json` and turned into [`ObjectDef`]s here. The store seeds every new
//! database from it.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::schema::{FieldDef, FieldType, Label, ObjectDef, PicklistValue, ValueSet};

const STANDARD: &str = include_str!("../catalogue/standard.json");

/// The parsed catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub objects: Vec<ObjectDef>,
    pub value_sets: HashMap<String, ValueSet>,
}

/// Why the catalogue file is not usable. This is a bug in the shipped file, found by tests.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("catalogue is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    #[error("catalogue object {object}, field {field}: {problem}")]
    Field {
        object: String,
        field: String,
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileValue {
    value: String,
    label_zh: String,
    #[serde(default)]
    default: bool,
    #[serde(default = "yes")]
    active: bool,
    probability: Option<i64>,
    forecast: Option<String>,
    #[serde(default)]
    closed: bool,
    #[serde(default)]
    won: bool,
    #[serde(default)]
    converted: bool,
    #[serde(default)]
    responded: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileObject {
    name: String,
    prefix: String,
    label: String,
    plural: String,
    label_zh: String,
    plural_zh: String,
    #[serde(default)]
    owned: bool,
    #[serde(default)]
    owner_to: Vec<String>,
    history: Option<String>,
    history_parent: Option<String>,
    #[serde(default = "yes")]
    createable: bool,
    deletable: Option<bool>,
    fields: Vec<FileField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileField {
    name: String,
    #[serde(rename = "type")]
    field_type: String,
    label: String,
    label_zh: String,
    length: Option<u32>,
    precision: Option<u8>,
    scale: Option<u8>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    external_id: bool,
    default: Option<String>,
    #[serde(default)]
    to: Vec<String>,
    relationship: Option<String>,
    child: Option<String>,
    #[serde(default)]
    cascade_delete: bool,
    values: Option<String>,
    #[serde(default)]
    restricted: bool,
    #[serde(default)]
    readonly: bool,
    #[serde(default)]
    create_only: bool,
    #[serde(default)]
    tracked: bool,
    #[serde(default)]
    name_field: bool,
    format: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    value_sets: HashMap<String, Vec<FileValue>>,
    objects: Vec<FileObject>,
}

impl Catalogue {
    /// The catalogue shipped with this build.
    pub fn standard() -> Result<Catalogue, CatalogueError> {
        Catalogue::parse(STANDARD)
    }

    /// Parses a catalogue file.
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        let file: File = serde_json::from_str(text)?;
        let value_sets: HashMap<String, ValueSet> = file
            .value_sets
            .into_iter()
            .map(|(name, values)| {
                let values = values
                    .into_iter()
                    .map(|v| PicklistValue {
                        label: Label::new(v.value.clone(), v.label_zh),
                        value: v.value,
                        is_default: v.default,
                        active: v.active,
                        probability: v.probability,
                        forecast_category: v.forecast,
                        closed: v.closed,
                        won: v.won,
                        converted: v.converted,
                        responded: v.responded,
                    })
                    .collect();
                (name, Arc::new(values))
            })
            .collect();
        let mut objects = Vec::new();
        for object in file.objects {
            let deletable = object.deletable.unwrap_or(object.createable);
            let mut fields = ObjectDef::system_fields(object.owned, &object.owner_to);
            for f in object.fields {
                fields.push(field_from_file(&object.name, f, &value_sets)?);
            }
            let mut def = ObjectDef::new(
                &object.name,
                &object.prefix,
                Label::new(object.label, object.label_zh),
                Label::new(object.plural, object.plural_zh),
                false,
                object.owned,
                object.createable,
                object.history,
                object.history_parent,
                fields,
            );
            def.deletable = deletable;
            objects.push(def);
        }
        Ok(Catalogue {
            objects,
            value_sets,
        })
    }
}

fn field_from_file(
    object: &str,
    f: FileField,
    value_sets: &HashMap<String, ValueSet>,
) -> Result<FieldDef, CatalogueError> {
    let problem = |problem: String| CatalogueError::Field {
        object: object.to_string(),
        field: f.name.clone(),
        problem,
    };
    let field_type = FieldType::parse(&f.field_type)
        .ok_or_else(|| problem(format!("unknown type {}", f.field_type)))?;
    let mut field = FieldDef::new(
        &f.name,
        field_type,
        Label::new(f.label.clone(), f.label_zh.clone()),
    );
    field.length = f.length;
    field.precision = f.precision;
    field.scale = f.scale;
    field.required = f.required;
    field.unique = f.unique;
    field.external_id = f.external_id;
    field.default = f.default.clone();
    field.reference_to = f.to.clone();
    field.relationship = f.relationship.clone();
    field.child_relationship = f.child.clone();
    field.cascade_delete = f.cascade_delete;
    field.restricted = f.restricted;
    field.readonly = f.readonly;
    field.create_only = f.create_only;
    field.tracked = f.tracked;
    field.name_field = f.name_field;
    field.autonumber_format = f.format.clone();
    if let Some(set) = &f.values {
        field.values = value_sets
            .get(set)
            .cloned()
            .ok_or_else(|| problem(format!("unknown value set {set}")))?;
        field.value_set = Some(set.clone());
    }
    crate::validate::check_field_definition(&field).map_err(|e| problem(e.message))?;
    Ok(field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    #[test]
    fn the_standard_catalogue_loads_and_is_consistent() {
        let catalogue = Catalogue::standard().unwrap();
        let schema = Schema::new(1, catalogue.objects.clone(), catalogue.value_sets.clone());
        for name in [
            "Lead",
            "Account",
            "Contact",
            "Opportunity",
            "OpportunityContactRole",
            "OpportunityLineItem",
            "Product2",
            "Pricebook2",
            "PricebookEntry",
            "Campaign",
            "CampaignMember",
            "Task",
            "Event",
            "Case",
            "Note",
            "User",
            "UserRole",
            "Profile",
            "Organization",
            "AccountHistory",
            "OpportunityHistory",
        ] {
            let object = schema
                .object(name)
                .unwrap_or_else(|| panic!("{name} missing"));
            assert!(!object.label.zh.is_empty(), "{name} has no Chinese label");
        }
        for object in &schema.objects {
            for field in &object.fields {
                for target in &field.reference_to {
                    assert!(
                        schema.object(target).is_some(),
                        "{}.{} points to unknown {target}",
                        object.name,
                        field.name
                    );
                }
            }
            if let Some(history) = &object.history {
                let history = schema.object(history).unwrap();
                assert!(
                    history
                        .field(history.history_parent.as_deref().unwrap())
                        .is_some()
                );
            }
        }
        assert_eq!(schema.object("account").unwrap().key_prefix, "001");
        assert_eq!(schema.object_by_prefix("00Q").unwrap().name, "Lead");
        let stage = schema
            .object("Opportunity")
            .unwrap()
            .field("StageName")
            .unwrap();
        assert_eq!(stage.values.len(), 10);
        assert!(
            stage
                .values
                .iter()
                .any(|v| v.value == "Closed Won" && v.won && v.closed)
        );
        let status = schema.object("Lead").unwrap().field("Status").unwrap();
        assert_eq!(
            status.default_picklist_value().unwrap().value,
            "Open - Not Contacted"
        );
        assert!(
            schema
                .child_relationships("Account")
                .iter()
                .any(|c| c.name.as_deref() == Some("Contacts"))
        );
        let who = schema.object("Task").unwrap().field("WhoId").unwrap();
        assert_eq!(who.reference_to.len(), 2);
    }
}
