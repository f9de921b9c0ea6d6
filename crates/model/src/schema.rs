//! Metadata as data: objects, fields, picklist values, and the in-memory [`Schema`] that every
//! layer reads. A schema is immutable; a change builds a new one that replaces the old atomically.

use std::collections::HashMap;
use std::sync::Arc;

/// A language the product speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    ZhCn,
}

impl Lang {
    /// Accepts `en`, `en_US`, `zh_CN`, `zh-CN`, `zh` (case-insensitive).
    pub fn parse(text: &str) -> Option<Lang> {
        match text.to_ascii_lowercase().replace('-', "_").as_str() {
            "en" | "en_us" | "en_gb" => Some(Lang::En),
            "zh" | "zh_cn" => Some(Lang::ZhCn),
            _ => None,
        }
    }

    /// The Salesforce `LanguageLocaleKey` value.
    pub fn locale_key(self) -> &'static str {
        match self {
            Lang::En => "en_US",
            Lang::ZhCn => "zh_CN",
        }
    }
}

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Label {
    pub en: String,
    pub zh: String,
}

impl Label {
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Label {
        Label {
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// The text in `lang`, falling back to English when no translation exists.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhCn if !self.zh.is_empty() => &self.zh,
            _ => &self.en,
        }
    }

    pub fn set(&mut self, lang: Lang, text: String) {
        match lang {
            Lang::En => self.en = text,
            Lang::ZhCn => self.zh = text,
        }
    }
}

/// The type of a field, as an administrator chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Id,
    Reference,
    Text,
    TextArea,
    LongTextArea,
    Email,
    Phone,
    Url,
    Picklist,
    MultiPicklist,
    Checkbox,
    Number,
    Currency,
    Percent,
    Date,
    DateTime,
    AutoNumber,
}

/// How a field's values are held in the database; the store maps each to a column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Storage {
    Text,
    Bool,
    /// A fixed-point number with this many decimal places.
    Decimal {
        scale: u8,
    },
    Date,
    DateTime,
}

impl FieldType {
    pub const ALL: [FieldType; 17] = [
        FieldType::Id,
        FieldType::Reference,
        FieldType::Text,
        FieldType::TextArea,
        FieldType::LongTextArea,
        FieldType::Email,
        FieldType::Phone,
        FieldType::Url,
        FieldType::Picklist,
        FieldType::MultiPicklist,
        FieldType::Checkbox,
        FieldType::Number,
        FieldType::Currency,
        FieldType::Percent,
        FieldType::Date,
        FieldType::DateTime,
        FieldType::AutoNumber,
    ];

    /// The name used in the catalogue, the metadata tables and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Id => "Id",
            FieldType::Reference => "Reference",
            FieldType::Text => "Text",
            FieldType::TextArea => "TextArea",
            FieldType::LongTextArea => "LongTextArea",
            FieldType::Email => "Email",
            FieldType::Phone => "Phone",
            FieldType::Url => "Url",
            FieldType::Picklist => "Picklist",
            FieldType::MultiPicklist => "MultiPicklist",
            FieldType::Checkbox => "Checkbox",
            FieldType::Number => "Number",
            FieldType::Currency => "Currency",
            FieldType::Percent => "Percent",
            FieldType::Date => "Date",
            FieldType::DateTime => "DateTime",
            FieldType::AutoNumber => "AutoNumber",
        }
    }

    /// Parses a type name case-insensitively, with the names Salesforce's setup UI and API
    /// also use (`Lookup`, `String`, `Boolean`, `Double`, `Int`, `Date/Time`, `Text Area (Long)`).
    pub fn parse(text: &str) -> Option<FieldType> {
        let key: String = text
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let found = match key.as_str() {
            "id" => FieldType::Id,
            "reference" | "lookup" | "masterdetail" => FieldType::Reference,
            "text" | "string" => FieldType::Text,
            "textarea" => FieldType::TextArea,
            "longtextarea" | "textarealong" => FieldType::LongTextArea,
            "email" => FieldType::Email,
            "phone" => FieldType::Phone,
            "url" => FieldType::Url,
            "picklist" => FieldType::Picklist,
            "multipicklist" | "multiselectpicklist" => FieldType::MultiPicklist,
            "checkbox" | "boolean" => FieldType::Checkbox,
            "number" | "double" | "int" | "integer" => FieldType::Number,
            "currency" => FieldType::Currency,
            "percent" => FieldType::Percent,
            "date" => FieldType::Date,
            "datetime" => FieldType::DateTime,
            "autonumber" => FieldType::AutoNumber,
            _ => return None,
        };
        Some(found)
    }

    /// The storage kind, given the field's scale for numbers.
    pub fn storage(self, scale: u8) -> Storage {
        match self {
            FieldType::Checkbox => Storage::Bool,
            FieldType::Number | FieldType::Currency | FieldType::Percent => {
                Storage::Decimal { scale }
            }
            FieldType::Date => Storage::Date,
            FieldType::DateTime => Storage::DateTime,
            _ => Storage::Text,
        }
    }

    /// True for the types whose values are numbers with precision and scale.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Number | FieldType::Currency | FieldType::Percent
        )
    }

    /// True for the types whose values are strings limited by a length.
    pub fn has_length(self) -> bool {
        matches!(
            self,
            FieldType::Text | FieldType::TextArea | FieldType::LongTextArea
        )
    }

    /// The length implied by the type when the field does not give one.
    pub fn implied_length(self) -> Option<u32> {
        match self {
            FieldType::Email => Some(80),
            FieldType::Phone => Some(40),
            FieldType::Url | FieldType::Picklist => Some(255),
            FieldType::MultiPicklist => Some(4099),
            FieldType::Id | FieldType::Reference => Some(18),
            FieldType::AutoNumber => Some(30),
            _ => None,
        }
    }

    /// Whether values of `self` can be kept when a field changes to `other` without touching
    /// the column: both are held as text (or both are the same kind of number).
    pub fn converts_in_place_to(self, other: FieldType) -> bool {
        let text_like = |t: FieldType| {
            matches!(
                t,
                FieldType::Text
                    | FieldType::TextArea
                    | FieldType::LongTextArea
                    | FieldType::Email
                    | FieldType::Phone
                    | FieldType::Url
                    | FieldType::Picklist
                    | FieldType::MultiPicklist
            )
        };
        self == other
            || (text_like(self) && text_like(other))
            || (self.is_numeric() && other.is_numeric())
    }
}

/// One value of a picklist, with the attributes the sales process reads from it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PicklistValue {
    /// The API value, stored in records; also the English label unless renamed.
    pub value: String,
    pub label: Label,
    pub is_default: bool,
    pub active: bool,
    /// Opportunity stages: the probability implied by the stage.
    pub probability: Option<i64>,
    /// Opportunity stages: the forecast category implied by the stage.
    pub forecast_category: Option<String>,
    /// Stages, task and case statuses: the value closes the record.
    pub closed: bool,
    /// Stages: the value means the deal was won.
    pub won: bool,
    /// Lead statuses: a status a converted lead may take.
    pub converted: bool,
    /// Campaign member statuses: the member responded.
    pub responded: bool,
}

/// The values of a picklist, shared by every field that uses the same value set.
pub type ValueSet = Arc<Vec<PicklistValue>>;

/// A field of an object.
#[derive(Debug, Clone)]
pub struct FieldDef {
    /// API name, canonical casing (`AccountId`, `Region__c`).
    pub name: String,
    /// The database column (the API name in lower case).
    pub column: String,
    pub field_type: FieldType,
    pub label: Label,
    /// Maximum characters, for text-like types.
    pub length: Option<u32>,
    /// Total digits, for numbers.
    pub precision: Option<u8>,
    /// Digits after the decimal point, for numbers.
    pub scale: Option<u8>,
    pub required: bool,
    pub unique: bool,
    pub external_id: bool,
    /// A literal default for new records (picklists take the value set's default instead).
    pub default: Option<String>,
    /// For references: the objects a value may point to (several for polymorphic fields).
    pub reference_to: Vec<String>,
    /// For references: the name used to traverse to the parent (`Account`, `Owner`).
    pub relationship: Option<String>,
    /// For references: the name of the child relationship seen from the parent (`Contacts`).
    pub child_relationship: Option<String>,
    /// For references: deleting the parent deletes this record too.
    pub cascade_delete: bool,
    /// For picklists: the name of the value set the values come from.
    pub value_set: Option<String>,
    pub values: ValueSet,
    /// For picklists: only the listed active values are accepted.
    pub restricted: bool,
    /// Computed or maintained by the system; never written by callers.
    pub readonly: bool,
    /// Written on create only.
    pub create_only: bool,
    /// Changes are recorded in the object's history.
    pub tracked: bool,
    /// The record's name, shown in lists and lookups.
    pub name_field: bool,
    pub custom: bool,
    /// For auto numbers: the display format, `{00000000}` or `CASE-{0000}`.
    pub autonumber_format: Option<String>,
}

impl FieldDef {
    /// A new field with everything optional off; callers set what applies.
    pub fn new(name: &str, field_type: FieldType, label: Label) -> FieldDef {
        FieldDef {
            name: name.to_string(),
            column: name.to_ascii_lowercase(),
            field_type,
            label,
            length: None,
            precision: None,
            scale: None,
            required: false,
            unique: false,
            external_id: false,
            default: None,
            reference_to: Vec::new(),
            relationship: None,
            child_relationship: None,
            cascade_delete: false,
            value_set: None,
            values: Arc::new(Vec::new()),
            restricted: false,
            readonly: false,
            create_only: false,
            tracked: false,
            name_field: false,
            custom: false,
            autonumber_format: None,
        }
    }

    pub fn storage(&self) -> Storage {
        self.field_type.storage(self.scale.unwrap_or(0))
    }

    /// The maximum length, given or implied by the type.
    pub fn max_length(&self) -> Option<u32> {
        self.length.or(self.field_type.implied_length())
    }

    /// The active value matching `text` (case-insensitively), if any.
    pub fn picklist_value(&self, text: &str) -> Option<&PicklistValue> {
        self.values.iter().find(|v| v.value == text).or_else(|| {
            self.values
                .iter()
                .find(|v| v.value.eq_ignore_ascii_case(text))
        })
    }

    /// The value set's default value, if it has one.
    pub fn default_picklist_value(&self) -> Option<&PicklistValue> {
        self.values.iter().find(|v| v.is_default && v.active)
    }

    /// Whether callers may give this field a value on create.
    pub fn createable(&self) -> bool {
        !self.readonly
            && self.field_type != FieldType::Id
            && self.field_type != FieldType::AutoNumber
    }

    /// Whether callers may change this field on update.
    pub fn updateable(&self) -> bool {
        self.createable() && !self.create_only
    }

    pub fn is_system(&self) -> bool {
        SYSTEM_FIELDS
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&self.name))
    }
}

/// The fields every object has, maintained by the system.
pub const SYSTEM_FIELDS: [&str; 8] = [
    "Id",
    "OwnerId",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
];

/// An object (a kind of record) and its fields.
#[derive(Debug, Clone)]
pub struct ObjectDef {
    /// API name, canonical casing (`Account`, `Project__c`).
    pub name: String,
    /// The database table (the API name in lower case).
    pub table: String,
    pub key_prefix: String,
    pub label: Label,
    pub plural: Label,
    pub custom: bool,
    /// Records have an owner (OwnerId).
    pub owned: bool,
    /// Callers may create records (false for history objects and Organization).
    pub createable: bool,
    /// Callers may delete records (false also for User and Profile: users are deactivated).
    pub deletable: bool,
    /// The object that records changes to tracked fields, if any.
    pub history: Option<String>,
    /// On a field-history object: the field that points to the changed record.
    pub history_parent: Option<String>,
    pub fields: Vec<FieldDef>,
    /// Field positions by API name as written, then by lower-case name: the common exact
    /// lookup allocates nothing.
    exact: HashMap<String, usize>,
    index: HashMap<String, usize>,
}

impl ObjectDef {
    /// Builds an object from its parts; the field index is derived here.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        key_prefix: &str,
        label: Label,
        plural: Label,
        custom: bool,
        owned: bool,
        createable: bool,
        history: Option<String>,
        history_parent: Option<String>,
        fields: Vec<FieldDef>,
    ) -> ObjectDef {
        let mut object = ObjectDef {
            name: name.to_string(),
            table: name.to_ascii_lowercase(),
            key_prefix: key_prefix.to_string(),
            label,
            plural,
            custom,
            owned,
            createable,
            deletable: createable,
            history,
            history_parent,
            fields,
            exact: HashMap::new(),
            index: HashMap::new(),
        };
        object.reindex();
        object
    }

    /// Rebuilds the name indexes after `fields` changed.
    pub fn reindex(&mut self) {
        self.exact = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        self.index = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.to_ascii_lowercase(), i))
            .collect();
    }

    /// Whether records are in the full-text index (SOSL and global search): objects people
    /// create records of and find by name; not history objects or Organization.
    pub fn searchable(&self) -> bool {
        self.createable && self.history_parent.is_none() && self.fields.iter().any(|f| f.name_field)
    }

    /// The field with this API name, case-insensitively.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.field_position(name).map(|i| &self.fields[i])
    }

    pub fn field_position(&self, name: &str) -> Option<usize> {
        self.exact
            .get(name)
            .or_else(|| self.index.get(&name.to_ascii_lowercase()))
            .copied()
    }

    /// The record-name field (`Name`, `Subject`, `CaseNumber`…).
    pub fn name_field(&self) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name_field)
    }

    /// The standard fields every object gets, in the order the API lists them.
    pub fn system_fields(owned: bool, owner_to: &[String]) -> Vec<FieldDef> {
        let mut fields = Vec::new();
        let mut id = FieldDef::new("Id", FieldType::Id, Label::new("Record ID", "记录 ID"));
        id.readonly = true;
        fields.push(id);
        if owned {
            let mut owner = FieldDef::new(
                "OwnerId",
                FieldType::Reference,
                Label::new("Owner ID", "所有人 ID"),
            );
            owner.reference_to = if owner_to.is_empty() {
                vec!["User".to_string()]
            } else {
                owner_to.to_vec()
            };
            owner.relationship = Some("Owner".to_string());
            fields.push(owner);
        }
        let mut deleted = FieldDef::new(
            "IsDeleted",
            FieldType::Checkbox,
            Label::new("Deleted", "已删除"),
        );
        deleted.readonly = true;
        fields.push(deleted);
        for (name, en, zh, is_user) in [
            ("CreatedDate", "Created Date", "创建日期", false),
            ("CreatedById", "Created By ID", "创建人 ID", true),
            (
                "LastModifiedDate",
                "Last Modified Date",
                "上次修改日期",
                false,
            ),
            (
                "LastModifiedById",
                "Last Modified By ID",
                "上次修改人 ID",
                true,
            ),
            ("SystemModstamp", "System Modstamp", "系统修改时间戳", false),
        ] {
            let mut field = if is_user {
                let mut f = FieldDef::new(name, FieldType::Reference, Label::new(en, zh));
                f.reference_to = vec!["User".to_string()];
                f.relationship = Some(name.trim_end_matches("Id").to_string());
                f
            } else {
                FieldDef::new(name, FieldType::DateTime, Label::new(en, zh))
            };
            field.readonly = true;
            fields.push(field);
        }
        fields
    }
}

/// A child relationship, seen from the parent object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRelationship {
    /// `Contacts`, `Opportunities`…
    pub name: Option<String>,
    pub child_object: String,
    pub field: String,
    pub cascade_delete: bool,
}

/// Every object and value set of one database at one schema version.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Increases with every metadata change; compared with the database's to notice changes
    /// made by other processes.
    pub version: i64,
    pub objects: Vec<Arc<ObjectDef>>,
    pub value_sets: HashMap<String, ValueSet>,
    by_name: HashMap<String, usize>,
    by_prefix: HashMap<String, usize>,
    children: HashMap<String, Vec<ChildRelationship>>,
}

impl Schema {
    pub fn new(
        version: i64,
        objects: Vec<ObjectDef>,
        value_sets: HashMap<String, ValueSet>,
    ) -> Schema {
        let objects: Vec<Arc<ObjectDef>> = objects.into_iter().map(Arc::new).collect();
        let mut by_name = HashMap::new();
        let mut by_prefix = HashMap::new();
        let mut children: HashMap<String, Vec<ChildRelationship>> = HashMap::new();
        for (i, object) in objects.iter().enumerate() {
            by_name.insert(object.name.to_ascii_lowercase(), i);
            // History objects share the 017 prefix; the first one registered answers for it.
            by_prefix.entry(object.key_prefix.clone()).or_insert(i);
            for field in &object.fields {
                if field.field_type != FieldType::Reference || field.is_system() {
                    continue;
                }
                for parent in &field.reference_to {
                    children
                        .entry(parent.to_ascii_lowercase())
                        .or_default()
                        .push(ChildRelationship {
                            name: field.child_relationship.clone(),
                            child_object: object.name.clone(),
                            field: field.name.clone(),
                            // A required lookup cannot be cleared: its record goes with the parent.
                            cascade_delete: field.cascade_delete || field.required,
                        });
                }
            }
        }
        Schema {
            version,
            objects,
            value_sets,
            by_name,
            by_prefix,
            children,
        }
    }

    /// The object with this API name, case-insensitively.
    pub fn object(&self, name: &str) -> Option<&Arc<ObjectDef>> {
        self.by_name
            .get(&name.to_ascii_lowercase())
            .map(|&i| &self.objects[i])
    }

    /// The object whose records have ids with this key prefix.
    pub fn object_by_prefix(&self, prefix: &str) -> Option<&Arc<ObjectDef>> {
        self.by_prefix.get(prefix).map(|&i| &self.objects[i])
    }

    /// The child relationships of an object: every reference field pointing at it.
    pub fn child_relationships(&self, object: &str) -> &[ChildRelationship] {
        self.children
            .get(&object.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}
