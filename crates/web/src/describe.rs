//! Describe: `GET /sobjects`, `/sobjects/{Type}` and `/sobjects/{Type}/describe`, built from
//! the current schema in the caller's language.

use std::sync::Arc;

use serde_json::{Value as Json, json};

use model::{FieldDef, FieldType, Lang, ObjectDef, Schema};

/// The describe `type` and `soapType` of a field.
fn describe_type(field: &FieldDef) -> (&'static str, &'static str) {
    match field.field_type {
        FieldType::Id => ("id", "tns:ID"),
        FieldType::Reference => ("reference", "tns:ID"),
        FieldType::Text | FieldType::AutoNumber => ("string", "xsd:string"),
        FieldType::TextArea | FieldType::LongTextArea => ("textarea", "xsd:string"),
        FieldType::Email => ("email", "xsd:string"),
        FieldType::Phone => ("phone", "xsd:string"),
        FieldType::Url => ("url", "xsd:string"),
        FieldType::Picklist => ("picklist", "xsd:string"),
        FieldType::MultiPicklist => ("multipicklist", "xsd:string"),
        FieldType::Checkbox => ("boolean", "xsd:boolean"),
        FieldType::Number if field.scale == Some(0) && field.precision.unwrap_or(18) <= 9 => {
            ("int", "xsd:int")
        }
        FieldType::Number => ("double", "xsd:double"),
        FieldType::Currency => ("currency", "xsd:double"),
        FieldType::Percent => ("percent", "xsd:double"),
        FieldType::Date => ("date", "xsd:date"),
        FieldType::DateTime => ("datetime", "xsd:dateTime"),
    }
}

fn urls(base: &str, object: &ObjectDef) -> Json {
    json!({
        "sobject": format!("{base}/sobjects/{}", object.name),
        "describe": format!("{base}/sobjects/{}/describe", object.name),
        "rowTemplate": format!("{base}/sobjects/{}/{{ID}}", object.name),
    })
}

/// The object-level keys shared by describe global and describe.
pub fn object_summary(base: &str, object: &ObjectDef, lang: Lang) -> Json {
    let history = object.history_parent.is_some() || object.name == "OpportunityHistory";
    json!({
        "name": object.name,
        "label": object.label.get(lang),
        "labelPlural": object.plural.get(lang),
        "keyPrefix": object.key_prefix,
        "custom": object.custom,
        "customSetting": false,
        "createable": object.createable,
        "updateable": !history,
        "deletable": object.createable,
        "undeletable": object.createable,
        "queryable": true,
        "retrieveable": true,
        "searchable": object.searchable(),
        "replicateable": true,
        "triggerable": !history,
        "mergeable": matches!(object.name.as_str(), "Account" | "Contact" | "Lead"),
        "layoutable": !history,
        "activateable": false,
        "feedEnabled": false,
        "mruEnabled": !history,
        "deprecatedAndHidden": false,
        "urls": urls(base, object),
    })
}

fn field_json(field: &FieldDef, lang: Lang) -> Json {
    let (kind, soap) = describe_type(field);
    let length = if field.field_type.is_numeric()
        || matches!(
            field.field_type,
            FieldType::Checkbox | FieldType::Date | FieldType::DateTime
        ) {
        0
    } else {
        field.max_length().unwrap_or(0)
    };
    let (precision, scale) = if field.field_type.is_numeric() {
        (field.precision.unwrap_or(18), field.scale.unwrap_or(0))
    } else {
        (0, 0)
    };
    let digits = if kind == "int" { precision } else { 0 };
    let defaulted = field.default.is_some()
        || field.default_picklist_value().is_some()
        || field.is_system()
        || field.field_type == FieldType::Checkbox;
    let picklist: Vec<Json> = field
        .values
        .iter()
        .map(|v| json!({"active": v.active, "defaultValue": v.is_default, "label": v.label.get(lang), "validFor": null, "value": v.value}))
        .collect();
    let is_text = matches!(
        kind,
        "string"
            | "textarea"
            | "email"
            | "phone"
            | "url"
            | "picklist"
            | "multipicklist"
            | "id"
            | "reference"
    );
    let long_text = field.field_type == FieldType::LongTextArea;
    json!({
        "name": field.name,
        "label": field.label.get(lang),
        "type": kind,
        "soapType": soap,
        "length": length,
        "byteLength": if is_text { length * 3 } else { 0 },
        "precision": precision,
        "scale": scale,
        "digits": digits,
        "nillable": !field.required && field.field_type != FieldType::Checkbox && field.field_type != FieldType::Id,
        "createable": field.createable(),
        "updateable": field.updateable(),
        "defaultedOnCreate": defaulted,
        "defaultValue": field.default_picklist_value().map(|v| Json::String(v.value.clone())).or_else(|| field.default.clone().map(Json::String)),
        "calculated": field.readonly && !field.is_system(),
        "autoNumber": field.field_type == FieldType::AutoNumber,
        "unique": field.unique,
        // Unique indexes compare text exactly.
        "caseSensitive": field.unique && is_text,
        "externalId": field.external_id,
        "idLookup": field.field_type == FieldType::Id || field.external_id || field.name_field,
        "filterable": !long_text,
        "sortable": !long_text && field.field_type != FieldType::MultiPicklist,
        "groupable": is_text && !long_text && field.field_type != FieldType::MultiPicklist || matches!(kind, "boolean" | "date"),
        "aggregatable": !long_text,
        "referenceTo": field.reference_to,
        "relationshipName": field.relationship,
        "relationshipOrder": null,
        "cascadeDelete": field.cascade_delete,
        "restrictedDelete": false,
        "namePointing": field.reference_to.len() > 1,
        "polymorphicForeignKey": field.reference_to.len() > 1,
        "picklistValues": picklist,
        "restrictedPicklist": field.restricted,
        "dependentPicklist": false,
        "controllerName": null,
        "nameField": field.name_field,
        "custom": field.custom,
        "deprecatedAndHidden": false,
        "htmlFormatted": false,
        "inlineHelpText": null,
        "compoundFieldName": null,
        "encrypted": false,
        "permissionable": !field.required && !field.is_system(),
        "writeRequiresMasterRead": false,
        "highScaleNumber": false,
        "extraTypeInfo": null,
        "mask": null,
        "maskType": null,
        "queryByDistance": false,
        "referenceTargetField": null,
        "filteredLookupInfo": null,
        "displayLocationInDecimal": false,
        "calculatedFormula": null,
        "defaultValueFormula": null,
    })
}

/// `GET /sobjects`.
pub fn global<'o>(
    base: &str,
    objects: impl Iterator<Item = &'o Arc<ObjectDef>>,
    lang: Lang,
) -> Json {
    let sobjects: Vec<Json> = objects.map(|o| object_summary(base, o, lang)).collect();
    json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects})
}

/// `GET /sobjects/{Type}/describe`.
/// Fields the caller's profile hides are left out; read-only ones are neither createable nor
/// updateable.
pub fn object(
    base: &str,
    schema: &Schema,
    object: &ObjectDef,
    lang: Lang,
    rules: &app::access::FieldRules,
) -> Json {
    let mut body = object_summary(base, object, lang);
    let fields: Vec<Json> = object
        .fields
        .iter()
        .filter(|f| !rules.hidden(&object.name, &f.name))
        .map(|f| {
            let mut json = field_json(f, lang);
            if rules.read_only(&object.name, &f.name)
                && let Json::Object(map) = &mut json
            {
                map.insert("createable".into(), Json::Bool(false));
                map.insert("updateable".into(), Json::Bool(false));
            }
            json
        })
        .collect();
    let children: Vec<Json> = schema
        .child_relationships(&object.name)
        .iter()
        .map(|c| {
            json!({
                "childSObject": c.child_object, "field": c.field, "relationshipName": c.name,
                "cascadeDelete": c.cascade_delete, "restrictedDelete": false, "deprecatedAndHidden": false,
                "junctionIdListNames": [], "junctionReferenceTo": [],
            })
        })
        .collect();
    if let Json::Object(map) = &mut body {
        map.insert("fields".into(), Json::Array(fields));
        map.insert("childRelationships".into(), Json::Array(children));
        map.insert(
            "recordTypeInfos".into(),
            json!([{"name": "Master", "recordTypeId": "012000000000000AAA", "available": true, "defaultRecordTypeMapping": true, "master": true}]),
        );
        map.insert("compactLayoutable".into(), Json::Bool(true));
        map.insert("listviewable".into(), Json::Bool(true));
        map.insert("lookupLayoutable".into(), Json::Bool(true));
        map.insert("searchLayoutable".into(), Json::Bool(true));
        map.insert("namedLayoutInfos".into(), json!([]));
        map.insert("actionOverrides".into(), json!([]));
        map.insert("networkScopeFieldName".into(), Json::Null);
        map.insert("supportedScopes".into(), json!([]));
    }
    body
}
