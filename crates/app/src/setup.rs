//! Setup: custom fields and objects, field changes, renames. Each change is one transaction
//! holding both the metadata rows and the DDL, followed by a schema version bump that every
//! process notices.

use std::sync::Arc;

use model::validate::check_custom_name;
use model::{ErrorCode, FieldDef, FieldType, Label, Lang, ObjectDef, PicklistValue};
use store::{ddl, metadata};

use crate::{App, AppError, Result};

/// A new custom field, as an administrator describes it.
#[derive(Debug, Clone, Default)]
pub struct NewField {
    pub object: String,
    pub name: String,
    pub field_type: Option<FieldType>,
    pub label: Option<String>,
    pub label_zh: Option<String>,
    pub length: Option<u32>,
    pub precision: Option<u8>,
    pub scale: Option<u8>,
    /// Picklist values, in order.
    pub values: Vec<String>,
    pub required: bool,
    pub unique: bool,
    pub external_id: bool,
    /// For lookups: the object it points to.
    pub reference_to: Option<String>,
    pub default: Option<String>,
    pub tracked: bool,
}

/// A change to an existing field; `None` keeps what is there.
#[derive(Debug, Clone, Default)]
pub struct FieldChange {
    pub field_type: Option<FieldType>,
    pub label: Option<String>,
    pub label_zh: Option<String>,
    pub length: Option<u32>,
    pub precision: Option<u8>,
    pub scale: Option<u8>,
    /// Replaces the picklist's values (values no longer listed become inactive, so existing
    /// records keep theirs).
    pub values: Option<Vec<String>>,
    pub required: Option<bool>,
    pub unique: Option<bool>,
    pub external_id: Option<bool>,
    pub tracked: Option<bool>,
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::one(ErrorCode::InvalidOperation, message)
}

/// A label from an API name: `Region__c` → `Region`, `Deal_Size__c` → `Deal Size`.
fn label_from_name(name: &str) -> String {
    name.trim_end_matches("__c").replace('_', " ")
}

fn value_set_name(object: &str, field: &str) -> String {
    format!("{object}.{field}")
}

fn picklist_values(values: &[String], previous: &[PicklistValue]) -> Vec<PicklistValue> {
    let mut out: Vec<PicklistValue> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(|v| {
            let kept = previous.iter().find(|p| p.value == v);
            PicklistValue {
                value: v.to_string(),
                label: kept
                    .map(|p| p.label.clone())
                    .unwrap_or_else(|| Label::new(v, "")),
                active: true,
                ..kept.cloned().unwrap_or_default()
            }
        })
        .collect();
    for old in previous {
        if !out.iter().any(|v| v.value == old.value) {
            out.push(PicklistValue {
                active: false,
                ..old.clone()
            });
        }
    }
    out
}

impl App {
    fn object_for_setup(schema: &model::Schema, name: &str) -> Result<Arc<ObjectDef>> {
        schema
            .object(name)
            .cloned()
            .ok_or_else(|| AppError::one(ErrorCode::InvalidType, format!("no object named {name}")))
    }

    /// Adds a custom field: its metadata and its column, in one transaction.
    pub async fn add_field(&self, spec: NewField) -> Result<FieldDef> {
        let _setup = self.setup_lock.lock().await;
        let schema = self.reload_schema().await?;
        let object = Self::object_for_setup(&schema, &spec.object)?;
        check_custom_name(&spec.name)
            .map_err(|m| AppError::on_field(ErrorCode::InvalidField, &spec.name, m))?;
        if object.field(&spec.name).is_some() {
            return Err(AppError::on_field(
                ErrorCode::DuplicateValue,
                &spec.name,
                format!("{} already has a field named {}", object.name, spec.name),
            ));
        }
        let field_type = spec
            .field_type
            .ok_or_else(|| invalid("a new field needs a type"))?;
        if matches!(field_type, FieldType::Id) {
            return Err(invalid("a custom field cannot be of type Id"));
        }
        let label = spec
            .label
            .clone()
            .unwrap_or_else(|| label_from_name(&spec.name));
        let mut field = FieldDef::new(
            &spec.name,
            field_type,
            Label::new(label, spec.label_zh.clone().unwrap_or_default()),
        );
        field.custom = true;
        field.required = spec.required;
        field.unique = spec.unique;
        field.external_id = spec.external_id;
        field.tracked = spec.tracked;
        field.default = spec.default.clone();
        match field_type {
            FieldType::Text => field.length = Some(spec.length.unwrap_or(255)),
            FieldType::TextArea => field.length = Some(spec.length.unwrap_or(255)),
            FieldType::LongTextArea => field.length = Some(spec.length.unwrap_or(32_768)),
            FieldType::Number => {
                (field.precision, field.scale) = (
                    Some(spec.precision.unwrap_or(18)),
                    Some(spec.scale.unwrap_or(0)),
                )
            }
            FieldType::Currency => {
                (field.precision, field.scale) = (
                    Some(spec.precision.unwrap_or(18)),
                    Some(spec.scale.unwrap_or(2)),
                )
            }
            FieldType::Percent => {
                (field.precision, field.scale) = (
                    Some(spec.precision.unwrap_or(5)),
                    Some(spec.scale.unwrap_or(2)),
                )
            }
            FieldType::AutoNumber => {
                field.autonumber_format =
                    Some(spec.default.clone().unwrap_or_else(|| "{000000}".into()));
                field.default = None;
            }
            FieldType::Picklist | FieldType::MultiPicklist => {
                if spec.values.is_empty() {
                    return Err(invalid(format!(
                        "{}: a picklist needs values (--values a,b,c)",
                        spec.name
                    )));
                }
                field.value_set = Some(value_set_name(&object.name, &spec.name));
                field.values = Arc::new(picklist_values(&spec.values, &[]));
                field.restricted = true;
            }
            FieldType::Reference => {
                let target_name = spec.reference_to.as_deref().ok_or_else(|| {
                    invalid(format!(
                        "{}: a lookup needs the object it points to (--to Account)",
                        spec.name
                    ))
                })?;
                let target = Self::object_for_setup(&schema, target_name)?;
                field.reference_to = vec![target.name.clone()];
                field.relationship = Some(format!("{}__r", spec.name.trim_end_matches("__c")));
                let plural: String = object
                    .plural
                    .en
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect();
                let child = format!(
                    "{}__r",
                    if plural.is_empty() {
                        object.name.trim_end_matches("__c").to_string()
                    } else {
                        plural
                    }
                );
                let taken = schema
                    .child_relationships(&target.name)
                    .iter()
                    .any(|c| c.name.as_deref() == Some(child.as_str()));
                field.child_relationship = Some(if taken {
                    format!(
                        "{}_{}",
                        child.trim_end_matches("__r"),
                        field.relationship.clone().unwrap_or_default()
                    )
                } else {
                    child
                });
            }
            _ => {}
        }
        if spec.unique
            && !matches!(
                field_type,
                FieldType::Text | FieldType::Email | FieldType::Number | FieldType::AutoNumber
            )
        {
            return Err(invalid(format!(
                "{}: only Text, Email, Number and Auto Number fields can be unique",
                spec.name
            )));
        }
        if spec.external_id
            && !matches!(
                field_type,
                FieldType::Text | FieldType::Email | FieldType::Number | FieldType::AutoNumber
            )
        {
            return Err(invalid(format!(
                "{}: only Text, Email, Number and Auto Number fields can be external ids",
                spec.name
            )));
        }
        model::validate::check_field_definition(&field).map_err(AppError::from)?;
        if let Some(default) = &field.default {
            model::validate::coerce(&field, &serde_json::Value::String(default.clone())).map_err(
                |e| {
                    invalid(format!(
                        "{}: the default value is not valid: {}",
                        spec.name, e.message
                    ))
                },
            )?;
        }

        let mut tx = self.store().begin().await?;
        let position = metadata::next_field_position(&mut tx, &object.name).await?;
        if let Some(set) = &field.value_set {
            metadata::write_value_set(&mut tx, set, &field.values).await?;
        }
        metadata::write_field(&mut tx, &object.name, &field, position).await?;
        ddl::add_column(&mut tx, &object, &field).await?;
        if field.field_type == FieldType::AutoNumber {
            number_existing_records(&mut tx, &object, &field).await?;
        }
        metadata::bump_schema_version(&mut tx).await?;
        tx.commit().await?;
        self.reload_schema().await?;
        Ok(field)
    }

    /// Changes a field. Type changes are allowed between types stored alike (text-like types
    /// among themselves, numbers among themselves); shortening a field is refused while
    /// records hold longer values.
    pub async fn change_field(
        &self,
        object: &str,
        name: &str,
        change: FieldChange,
    ) -> Result<FieldDef> {
        let _setup = self.setup_lock.lock().await;
        let schema = self.reload_schema().await?;
        let object = Self::object_for_setup(&schema, object)?;
        let old = object.field(name).cloned().ok_or_else(|| {
            AppError::on_field(
                ErrorCode::InvalidField,
                name,
                format!("No such column '{name}' on entity '{}'", object.name),
            )
        })?;
        let structural = change.field_type.is_some()
            || change.length.is_some()
            || change.precision.is_some()
            || change.scale.is_some()
            || change.unique.is_some()
            || change.required.is_some();
        if !old.custom && structural {
            return Err(invalid(format!(
                "{}.{} is a standard field: only its label, values and history tracking can change",
                object.name, old.name
            )));
        }
        let mut new = old.clone();
        if let Some(t) = change.field_type {
            if !old.field_type.converts_in_place_to(t) {
                return Err(invalid(format!(
                    "{}: cannot change a {} field to {}; add a new field and copy the data instead",
                    old.name,
                    old.field_type.as_str(),
                    t.as_str()
                )));
            }
            new.field_type = t;
            if t.has_length() && new.length.is_none() {
                new.length = Some(255);
            }
            if !t.has_length() {
                new.length = None;
            }
            if matches!(t, FieldType::Picklist | FieldType::MultiPicklist)
                && new.value_set.is_none()
            {
                new.value_set = Some(value_set_name(&object.name, &old.name));
                new.restricted = true;
            }
        }
        if let Some(label) = change.label {
            new.label.en = label;
        }
        if let Some(label) = change.label_zh {
            new.label.zh = label;
        }
        new.length = change.length.or(new.length);
        new.precision = change.precision.or(new.precision);
        new.scale = change.scale.or(new.scale);
        new.required = change.required.unwrap_or(new.required);
        new.unique = change.unique.unwrap_or(new.unique);
        new.external_id = change.external_id.unwrap_or(new.external_id);
        new.tracked = change.tracked.unwrap_or(new.tracked);
        if let Some(values) = &change.values {
            if !matches!(
                new.field_type,
                FieldType::Picklist | FieldType::MultiPicklist
            ) {
                return Err(invalid(format!("{}: only picklists have values", old.name)));
            }
            new.values = Arc::new(picklist_values(values, &old.values));
        }
        model::validate::check_field_definition(&new).map_err(AppError::from)?;

        let mut tx = self.store().begin().await?;
        if new.field_type != old.field_type {
            let stored = distinct_values(&mut tx, &object, &old).await?;
            if new.field_type == FieldType::Email {
                let invalid = stored
                    .iter()
                    .filter(|v| {
                        model::validate::coerce(&new, &serde_json::Value::String((*v).clone()))
                            .is_err()
                    })
                    .count();
                if invalid > 0 {
                    return Err(AppError::on_field(
                        ErrorCode::InvalidEmailAddress,
                        &old.name,
                        format!(
                            "{}: {invalid} stored value(s) are not email addresses; correct them first",
                            old.name
                        ),
                    ));
                }
            }
            if matches!(
                new.field_type,
                FieldType::Picklist | FieldType::MultiPicklist
            ) && change.values.is_none()
                && old.values.is_empty()
            {
                // The values in use become the picklist's values, as Salesforce does.
                let in_use: Vec<String> = if new.field_type == FieldType::MultiPicklist {
                    let mut parts: Vec<String> = stored
                        .iter()
                        .flat_map(|v| v.split(';').map(str::to_string))
                        .collect();
                    parts.sort();
                    parts.dedup();
                    parts
                } else {
                    stored.clone()
                };
                new.values = Arc::new(picklist_values(&in_use, &[]));
            }
        }
        if let (Some(length), true) = (
            new.max_length(),
            new.field_type.has_length() || new.field_type != old.field_type,
        ) && old.max_length().is_none_or(|l| length < l)
        {
            let longer = ddl::count_longer_than(&mut tx, &object, &old, length).await?;
            if longer > 0 {
                return Err(AppError::on_field(
                    ErrorCode::StringTooLong,
                    &old.name,
                    format!(
                        "{}: {longer} record(s) hold values longer than {length} characters; shorten them first",
                        old.name
                    ),
                ));
            }
        }
        if new.field_type.is_numeric() && (new.precision != old.precision || new.scale != old.scale)
        {
            let (p, s) = (new.precision.unwrap_or(18), new.scale.unwrap_or(0));
            let too_large = ddl::count_too_large(&mut tx, &object, &old, p, s).await?;
            if too_large > 0 {
                return Err(AppError::on_field(
                    ErrorCode::NumberOutsideValidRange,
                    &old.name,
                    format!(
                        "{}: {too_large} record(s) hold numbers with more than {} digits before the decimal point",
                        old.name,
                        p - s
                    ),
                ));
            }
            ddl::change_number_scale(&mut tx, &object, &old, &new).await?;
        }
        if new.unique != old.unique || new.external_id != old.external_id {
            ddl::drop_indexes(&mut tx, &object, &old).await?;
            if let Err(error) = ddl::create_indexes(&mut tx, &object, &new).await {
                return Err(match error {
                    store::StoreError::Duplicate { .. } => AppError::on_field(
                        ErrorCode::DuplicateValue,
                        &old.name,
                        format!(
                            "{}: cannot make the field unique: records share values",
                            old.name
                        ),
                    ),
                    other => other.into(),
                });
            }
        }
        if let Some(set) = &new.value_set
            && (change.values.is_some()
                || new.value_set != old.value_set
                || new.values != old.values)
        {
            metadata::write_value_set(&mut tx, set, &new.values).await?;
            // Values new to the set may already be stored in another case (an unrestricted
            // picklist keeps what it is given): store them as defined, in every field that
            // shares the set.
            let known: Vec<&str> = if new.value_set == old.value_set {
                old.values.iter().map(|v| v.value.as_str()).collect()
            } else {
                Vec::new()
            };
            let added: Vec<String> = new
                .values
                .iter()
                .filter(|v| !known.contains(&v.value.as_str()))
                .map(|v| v.value.clone())
                .collect();
            if !added.is_empty() {
                let at = model::value::now_millis();
                for other in &schema.objects {
                    for f in other.fields.iter().filter(|f| {
                        f.field_type == FieldType::Picklist && f.value_set.as_ref() == Some(set)
                    }) {
                        store::records::canonicalize_picklist(&mut tx, other, f, &added, at)
                            .await?;
                    }
                }
                if new.field_type == FieldType::Picklist
                    && !object
                        .fields
                        .iter()
                        .any(|f| f.name == new.name && f.value_set.as_ref() == Some(set))
                {
                    store::records::canonicalize_picklist(&mut tx, &object, &new, &added, at)
                        .await?;
                }
            }
        }
        ddl::retype_column(&mut tx, &object, &old, &new).await?;
        let position = metadata::field_position(&mut tx, &object.name, &old.name).await?;
        metadata::delete_field(&mut tx, &object.name, &old.name).await?;
        metadata::write_field(&mut tx, &object.name, &new, position).await?;
        metadata::bump_schema_version(&mut tx).await?;
        tx.commit().await?;
        self.reload_schema().await?;
        Ok(new)
    }

    /// Removes a custom field and its column (and its data).
    pub async fn remove_field(&self, object: &str, name: &str) -> Result<()> {
        let _setup = self.setup_lock.lock().await;
        let schema = self.reload_schema().await?;
        let object = Self::object_for_setup(&schema, object)?;
        let field = object.field(name).cloned().ok_or_else(|| {
            AppError::on_field(
                ErrorCode::InvalidField,
                name,
                format!("No such column '{name}' on entity '{}'", object.name),
            )
        })?;
        if !field.custom {
            return Err(invalid(format!(
                "{}.{} is a standard field and cannot be removed",
                object.name, field.name
            )));
        }
        let mut tx = self.store().begin().await?;
        ddl::drop_column(&mut tx, &object, &field).await?;
        metadata::delete_field(&mut tx, &object.name, &field.name).await?;
        store::lead_map::forget_field(&mut tx, &object.name, &field.name).await?;
        if let Some(set) = &field.value_set
            && set == &value_set_name(&object.name, &field.name)
        {
            metadata::delete_value_set(&mut tx, set).await?;
        }
        metadata::bump_schema_version(&mut tx).await?;
        tx.commit().await?;
        self.reload_schema().await?;
        Ok(())
    }

    /// Adds a custom object with a Name field, an owner, and a history object for its
    /// tracked fields.
    pub async fn add_object(
        &self,
        name: &str,
        label: Option<&str>,
        plural: Option<&str>,
        label_zh: Option<&str>,
        plural_zh: Option<&str>,
    ) -> Result<Arc<ObjectDef>> {
        let _setup = self.setup_lock.lock().await;
        let schema = self.reload_schema().await?;
        check_custom_name(name).map_err(|m| AppError::one(ErrorCode::InvalidType, m))?;
        if schema.object(name).is_some() {
            return Err(AppError::one(
                ErrorCode::DuplicateValue,
                format!("an object named {name} already exists"),
            ));
        }
        let stem = name.trim_end_matches("__c");
        let label = label
            .map(str::to_string)
            .unwrap_or_else(|| label_from_name(name));
        let plural = plural
            .map(str::to_string)
            .unwrap_or_else(|| format!("{label}s"));
        let prefix = free_key_prefix(&schema)
            .ok_or_else(|| invalid("no key prefix is left for a new object"))?;
        let history_name = format!("{stem}__History");

        let mut fields = ObjectDef::system_fields(true, &[]);
        let mut name_field = FieldDef::new(
            "Name",
            FieldType::Text,
            Label::new(
                format!("{label} Name"),
                label_zh.map(|l| format!("{l}名称")).unwrap_or_default(),
            ),
        );
        name_field.length = Some(80);
        name_field.required = true;
        name_field.name_field = true;
        fields.push(name_field);
        let object = ObjectDef::new(
            name,
            &prefix,
            Label::new(label.clone(), label_zh.unwrap_or_default()),
            Label::new(plural, plural_zh.or(label_zh).unwrap_or_default()),
            true,
            true,
            true,
            Some(history_name.clone()),
            None,
            fields,
        );

        let mut history_fields = ObjectDef::system_fields(false, &[]);
        let mut parent = FieldDef::new(
            "ParentId",
            FieldType::Reference,
            Label::new("Parent ID", "父记录 ID"),
        );
        parent.reference_to = vec![name.to_string()];
        parent.relationship = Some("Parent".into());
        parent.child_relationship = Some("Histories".into());
        parent.cascade_delete = true;
        parent.required = true;
        parent.readonly = true;
        history_fields.push(parent);
        for (field, en, zh, length) in [
            ("Field", "Changed Field", "更改的字段", 255),
            ("DataType", "Data Type", "数据类型", 40),
            ("OldValue", "Old Value", "旧值", 255),
            ("NewValue", "New Value", "新值", 255),
        ] {
            let mut f = FieldDef::new(field, FieldType::Text, Label::new(en, zh));
            f.length = Some(length);
            f.readonly = true;
            history_fields.push(f);
        }
        let history = ObjectDef::new(
            &history_name,
            "017",
            Label::new(
                format!("{label} History"),
                label_zh.map(|l| format!("{l}历史记录")).unwrap_or_default(),
            ),
            Label::new(
                format!("{label} History"),
                label_zh.map(|l| format!("{l}历史记录")).unwrap_or_default(),
            ),
            true,
            false,
            false,
            None,
            Some("ParentId".into()),
            history_fields,
        );

        let mut tx = self.store().begin().await?;
        let position = metadata::next_object_position(&mut tx).await?;
        metadata::write_object(&mut tx, &object, position).await?;
        ddl::create_table(&mut tx, &object).await?;
        metadata::write_object(&mut tx, &history, position + 1).await?;
        ddl::create_table(&mut tx, &history).await?;
        metadata::bump_schema_version(&mut tx).await?;
        tx.commit().await?;
        self.reload_schema().await?;
        self.grant_like_account(&[object.name.as_str(), history.name.as_str()])
            .await?;
        let schema = self.reload_schema().await?;
        schema
            .object(name)
            .cloned()
            .ok_or_else(|| invalid("the new object did not load"))
    }

    /// Removes a custom object, its history and all their records. Refused while other
    /// objects have lookups to it.
    pub async fn remove_object(&self, name: &str) -> Result<()> {
        let _setup = self.setup_lock.lock().await;
        let schema = self.reload_schema().await?;
        let object = Self::object_for_setup(&schema, name)?;
        if !object.custom || object.history_parent.is_some() {
            return Err(invalid(format!(
                "{} is a standard object and cannot be removed",
                object.name
            )));
        }
        let history = object
            .history
            .as_deref()
            .and_then(|h| schema.object(h))
            .cloned();
        let blockers: Vec<String> = schema
            .child_relationships(&object.name)
            .iter()
            .filter(|c| {
                Some(c.child_object.as_str()) != history.as_ref().map(|h| h.name.as_str())
                    && c.child_object != object.name
            })
            .map(|c| format!("{}.{}", c.child_object, c.field))
            .collect();
        if !blockers.is_empty() {
            return Err(invalid(format!(
                "{} is still referenced by {}; remove those fields first",
                object.name,
                blockers.join(", ")
            )));
        }
        let mut tx = self.store().begin().await?;
        for o in std::iter::once(&object).chain(history.as_ref()) {
            ddl::drop_table(&mut tx, o).await?;
            for field in o.fields.iter().filter_map(|f| f.value_set.as_ref()) {
                if field.starts_with(&format!("{}.", o.name)) {
                    metadata::delete_value_set(&mut tx, field).await?;
                }
            }
            metadata::delete_object(&mut tx, &o.name).await?;
            store::records::remove_bin_entries_of_object(&mut tx, &o.name).await?;
        }
        metadata::bump_schema_version(&mut tx).await?;
        tx.commit().await?;
        self.reload_schema().await?;
        Ok(())
    }

    /// Renames an object (`rapport label set Account --singular Company --plural Companies`)
    /// or a field (`Account.Industry`). API names never change.
    pub async fn set_label(
        &self,
        target: &str,
        lang: Lang,
        singular: &str,
        plural: Option<&str>,
    ) -> Result<()> {
        let _setup = self.setup_lock.lock().await;
        let schema = self.reload_schema().await?;
        let singular = singular.trim();
        if singular.is_empty() || singular.chars().count() > 80 {
            return Err(invalid("a label needs 1 to 80 characters"));
        }
        let mut tx = self.store().begin().await?;
        match target.split_once('.') {
            Some((object, field)) => {
                let object = Self::object_for_setup(&schema, object)?;
                let field = object.field(field).ok_or_else(|| {
                    AppError::on_field(
                        ErrorCode::InvalidField,
                        field,
                        format!("No such column '{field}' on entity '{}'", object.name),
                    )
                })?;
                metadata::set_field_label(&mut tx, &object.name, &field.name, lang, singular)
                    .await?;
            }
            None => {
                let object = Self::object_for_setup(&schema, target)?;
                let plural = plural
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| match lang {
                        Lang::En => format!("{singular}s"),
                        Lang::ZhCn => singular.to_string(),
                    });
                metadata::set_object_label(&mut tx, &object.name, lang, singular, &plural).await?;
            }
        }
        metadata::bump_schema_version(&mut tx).await?;
        tx.commit().await?;
        self.reload_schema().await?;
        Ok(())
    }
}

/// Gives the records that exist when an auto-number field is added their numbers, oldest
/// first, as Salesforce does.
async fn number_existing_records(
    tx: &mut store::Tx,
    object: &ObjectDef,
    field: &FieldDef,
) -> Result<()> {
    let Some(id_field) = object.field("Id") else {
        return Ok(());
    };
    let mut select = store::Select::new(object, vec![id_field]);
    select.order_by = vec![("CreatedDate".into(), false), ("Id".into(), false)];
    select.deleted = store::plan::Deleted::Include;
    let ids: Vec<model::RecordId> = store::records::select_in(tx, &select)
        .await?
        .into_iter()
        .filter_map(|mut r| r.pop())
        .filter_map(|v| v.as_id().cloned())
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let first =
        store::records::next_autonumber(tx, &object.name, &field.name, ids.len() as i64).await?;
    for (n, id) in ids.iter().enumerate() {
        let value = model::Value::Text(crate::records::format_autonumber(
            field.autonumber_format.as_deref(),
            first + n as i64,
        ));
        store::records::update(tx, object, id, &[(field, value)], None).await?;
    }
    Ok(())
}

/// The distinct non-null text values a field holds (for type changes; an admin operation
/// that reads the whole column).
async fn distinct_values(
    tx: &mut store::Tx,
    object: &ObjectDef,
    field: &FieldDef,
) -> Result<Vec<String>> {
    let mut select = store::Select::new(object, vec![field]);
    select.filter = Some(store::Filter::Not(Box::new(store::Filter::eq(
        &field.name,
        model::Value::Null,
    ))));
    select.deleted = store::plan::Deleted::Include;
    let rows = store::records::select_in(tx, &select).await?;
    let mut values: Vec<String> = rows
        .into_iter()
        .filter_map(|mut r| r.pop())
        .filter_map(|v| v.as_text().map(str::to_string))
        .collect();
    values.sort();
    values.dedup();
    Ok(values)
}

/// The first unused key prefix of the custom range `a00`…`aZz`.
fn free_key_prefix(schema: &model::Schema) -> Option<String> {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for &second in DIGITS {
        for &third in DIGITS {
            let prefix = format!("a{}{}", second as char, third as char);
            if schema.object_by_prefix(&prefix).is_none() {
                return Some(prefix);
            }
        }
    }
    None
}
