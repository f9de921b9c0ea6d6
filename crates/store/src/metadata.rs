//! The metadata tables: objects, fields and picklist values as rows, read into a [`Schema`]
//! and written back when an administrator changes them.

use std::collections::HashMap;
use std::sync::Arc;

use model::{FieldDef, FieldType, Label, ObjectDef, PicklistValue, Schema, Value};

use crate::backend::{Store, Tx};
use crate::sql::{Col, Param, Sql};
use crate::{Result, StoreError};

/// The integer in row 0, column `col` of `rows` (0 when absent).
pub fn int_at(rows: &[Vec<Value>], col: usize) -> i64 {
    rows.first()
        .and_then(|row| row.get(col))
        .map(int_of)
        .unwrap_or(0)
}

fn int_of(value: &Value) -> i64 {
    match value {
        Value::Decimal(d) => i64::try_from(*d).unwrap_or(0),
        _ => 0,
    }
}

fn bool_of(value: &Value) -> bool {
    int_of(value) != 0
}

fn text_of(value: &Value) -> Option<String> {
    value.as_text().map(str::to_string)
}

fn flag(b: bool) -> Param {
    Param::Int(Some(i64::from(b)))
}

fn opt_text(text: Option<&str>) -> Param {
    Param::Text(text.map(str::to_string))
}

fn opt_int(n: Option<impl Into<i64>>) -> Param {
    Param::Int(n.map(Into::into))
}

/// Writes one insert with `columns` and `params`, in order.
fn insert(tx: &Tx, table: &str, columns: &[&str], params: Vec<Param>) -> Sql {
    let mut sql = tx.sql();
    sql.push("INSERT INTO ").ident(table).push(" (");
    sql.comma_list(columns, |s, c| {
        s.ident(c);
    });
    sql.push(") VALUES (");
    sql.comma_list(params, |s, p| {
        s.param(p);
    });
    sql.push(")");
    sql
}

/// Stores the values of a value set, replacing what it held.
pub async fn write_value_set(tx: &mut Tx, name: &str, values: &[PicklistValue]) -> Result<()> {
    let mut delete = tx.sql();
    delete
        .push("DELETE FROM rapport_picklist_value WHERE value_set = ")
        .text_param(name);
    tx.execute(delete).await?;
    for (position, v) in values.iter().enumerate() {
        let sql = insert(
            tx,
            "rapport_picklist_value",
            &[
                "value_set",
                "value",
                "position",
                "label_en",
                "label_zh",
                "is_default",
                "active",
                "probability",
                "forecast_category",
                "closed",
                "won",
                "converted",
                "responded",
            ],
            vec![
                opt_text(Some(name)),
                opt_text(Some(&v.value)),
                Param::Int(Some(position as i64)),
                opt_text(Some(&v.label.en)),
                opt_text(Some(&v.label.zh)),
                flag(v.is_default),
                flag(v.active),
                Param::Int(v.probability),
                opt_text(v.forecast_category.as_deref()),
                flag(v.closed),
                flag(v.won),
                flag(v.converted),
                flag(v.responded),
            ],
        );
        tx.execute(sql).await?;
    }
    Ok(())
}

/// Stores an object and all its fields.
pub async fn write_object(tx: &mut Tx, object: &ObjectDef, position: i64) -> Result<()> {
    let sql = insert(
        tx,
        "rapport_object",
        &[
            "api_name",
            "position",
            "key_prefix",
            "label_en",
            "plural_en",
            "label_zh",
            "plural_zh",
            "custom",
            "owned",
            "createable",
            "deletable",
            "history",
            "history_parent",
        ],
        vec![
            opt_text(Some(&object.name)),
            Param::Int(Some(position)),
            opt_text(Some(&object.key_prefix)),
            opt_text(Some(&object.label.en)),
            opt_text(Some(&object.plural.en)),
            opt_text(Some(&object.label.zh)),
            opt_text(Some(&object.plural.zh)),
            flag(object.custom),
            flag(object.owned),
            flag(object.createable),
            flag(object.deletable),
            opt_text(object.history.as_deref()),
            opt_text(object.history_parent.as_deref()),
        ],
    );
    tx.execute(sql).await?;
    for (position, field) in object.fields.iter().enumerate() {
        write_field(tx, &object.name, field, position as i64).await?;
    }
    Ok(())
}

/// Stores one field's definition (insert; [`delete_field`] first to replace).
pub async fn write_field(tx: &mut Tx, object: &str, f: &FieldDef, position: i64) -> Result<()> {
    let reference_to = (!f.reference_to.is_empty()).then(|| f.reference_to.join(","));
    let sql = insert(
        tx,
        "rapport_field",
        &[
            "object",
            "api_name",
            "position",
            "field_type",
            "label_en",
            "label_zh",
            "length",
            "precision_digits",
            "scale",
            "required",
            "is_unique",
            "external_id",
            "default_value",
            "reference_to",
            "relationship",
            "child_relationship",
            "cascade_delete",
            "value_set",
            "restricted",
            "readonly",
            "create_only",
            "tracked",
            "name_field",
            "custom",
            "autonumber_format",
        ],
        vec![
            opt_text(Some(object)),
            opt_text(Some(&f.name)),
            Param::Int(Some(position)),
            opt_text(Some(f.field_type.as_str())),
            opt_text(Some(&f.label.en)),
            opt_text(Some(&f.label.zh)),
            opt_int(f.length),
            opt_int(f.precision),
            opt_int(f.scale),
            flag(f.required),
            flag(f.unique),
            flag(f.external_id),
            opt_text(f.default.as_deref()),
            opt_text(reference_to.as_deref()),
            opt_text(f.relationship.as_deref()),
            opt_text(f.child_relationship.as_deref()),
            flag(f.cascade_delete),
            opt_text(f.value_set.as_deref()),
            flag(f.restricted),
            flag(f.readonly),
            flag(f.create_only),
            flag(f.tracked),
            flag(f.name_field),
            flag(f.custom),
            opt_text(f.autonumber_format.as_deref()),
        ],
    );
    tx.execute(sql).await.map(drop)
}

/// The position a new field of `object` takes (after every existing one).
pub async fn next_field_position(tx: &mut Tx, object: &str) -> Result<i64> {
    let mut sql = tx.sql();
    sql.push("SELECT COALESCE(MAX(position), -1) + 1 FROM rapport_field WHERE object = ")
        .text_param(object);
    let rows = tx.fetch(sql, &[Col::Int]).await?;
    Ok(int_at(&rows, 0))
}

/// The position a new object takes.
pub async fn next_object_position(tx: &mut Tx) -> Result<i64> {
    let mut sql = tx.sql();
    sql.push("SELECT COALESCE(MAX(position), -1) + 1 FROM rapport_object");
    let rows = tx.fetch(sql, &[Col::Int]).await?;
    Ok(int_at(&rows, 0))
}

/// The position of an existing field (to rewrite it in place).
pub async fn field_position(tx: &mut Tx, object: &str, field: &str) -> Result<i64> {
    let mut sql = tx.sql();
    sql.push("SELECT position FROM rapport_field WHERE object = ")
        .text_param(object)
        .push(" AND api_name = ")
        .text_param(field);
    let rows = tx.fetch(sql, &[Col::Int]).await?;
    Ok(int_at(&rows, 0))
}

pub async fn delete_field(tx: &mut Tx, object: &str, field: &str) -> Result<()> {
    let mut sql = tx.sql();
    sql.push("DELETE FROM rapport_field WHERE object = ")
        .text_param(object)
        .push(" AND api_name = ")
        .text_param(field);
    tx.execute(sql).await.map(drop)
}

pub async fn delete_object(tx: &mut Tx, object: &str) -> Result<()> {
    for table in ["rapport_field", "rapport_object"] {
        let mut sql = tx.sql();
        sql.push("DELETE FROM ")
            .ident(table)
            .push(" WHERE ")
            .ident(if table == "rapport_field" {
                "object"
            } else {
                "api_name"
            });
        sql.push(" = ").text_param(object);
        tx.execute(sql).await?;
    }
    Ok(())
}

pub async fn delete_value_set(tx: &mut Tx, name: &str) -> Result<()> {
    let mut sql = tx.sql();
    sql.push("DELETE FROM rapport_picklist_value WHERE value_set = ")
        .text_param(name);
    tx.execute(sql).await.map(drop)
}

/// Renames an object's singular and plural labels in one language.
pub async fn set_object_label(
    tx: &mut Tx,
    object: &str,
    lang: model::Lang,
    singular: &str,
    plural: &str,
) -> Result<()> {
    let (label, plural_col) = match lang {
        model::Lang::En => ("label_en", "plural_en"),
        model::Lang::ZhCn => ("label_zh", "plural_zh"),
    };
    let mut sql = tx.sql();
    sql.push("UPDATE rapport_object SET ")
        .ident(label)
        .push(" = ")
        .text_param(singular)
        .push(", ")
        .ident(plural_col)
        .push(" = ")
        .text_param(plural)
        .push(" WHERE api_name = ")
        .text_param(object);
    tx.execute(sql).await.map(drop)
}

/// Renames a field's label in one language.
pub async fn set_field_label(
    tx: &mut Tx,
    object: &str,
    field: &str,
    lang: model::Lang,
    label: &str,
) -> Result<()> {
    let column = match lang {
        model::Lang::En => "label_en",
        model::Lang::ZhCn => "label_zh",
    };
    let mut sql = tx.sql();
    sql.push("UPDATE rapport_field SET ")
        .ident(column)
        .push(" = ")
        .text_param(label)
        .push(" WHERE object = ")
        .text_param(object)
        .push(" AND api_name = ")
        .text_param(field);
    tx.execute(sql).await.map(drop)
}

/// Increments the schema version inside the transaction that changed metadata; other
/// processes compare it with theirs to notice the change.
pub async fn bump_schema_version(tx: &mut Tx) -> Result<i64> {
    let mut sql = tx.sql();
    sql.push(match tx.dialect() {
        crate::Dialect::Sqlite => {
            "UPDATE rapport_setting SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE name = 'schema_version'"
        }
        crate::Dialect::Postgres => {
            "UPDATE rapport_setting SET value = (value::bigint + 1)::text WHERE name = 'schema_version'"
        }
    });
    tx.execute(sql).await?;
    let mut read = tx.sql();
    read.push("SELECT value FROM rapport_setting WHERE name = 'schema_version'");
    let rows = tx.fetch(read, &[Col::Text]).await?;
    parse_version(&rows)
}

fn parse_version(rows: &[Vec<Value>]) -> Result<i64> {
    rows.first()
        .and_then(|row| row.first())
        .and_then(Value::as_text)
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| StoreError::Corrupt("rapport_setting has no schema_version".into()))
}

impl Store {
    /// The database's schema version: one indexed read, cheap enough for every request.
    pub async fn schema_version(&self) -> Result<i64> {
        let mut sql = self.sql();
        sql.push("SELECT value FROM rapport_setting WHERE name = 'schema_version'");
        let rows = self.fetch(sql, &[Col::Text]).await?;
        parse_version(&rows)
    }

    /// Reads all metadata into a schema.
    pub async fn load_schema(&self) -> Result<Schema> {
        let version = self.schema_version().await?;
        let mut sql = self.sql();
        sql.push(
            "SELECT value_set, value, label_en, label_zh, is_default, active, probability, forecast_category, \
             closed, won, converted, responded FROM rapport_picklist_value ORDER BY value_set, position",
        );
        use Col::{Int, Text};
        let rows = self
            .fetch(
                sql,
                &[
                    Text, Text, Text, Text, Int, Int, Int, Text, Int, Int, Int, Int,
                ],
            )
            .await?;
        let mut sets: HashMap<String, Vec<PicklistValue>> = HashMap::new();
        for r in rows {
            let set = text_of(&r[0]).unwrap_or_default();
            sets.entry(set).or_default().push(PicklistValue {
                value: text_of(&r[1]).unwrap_or_default(),
                label: Label::new(
                    text_of(&r[2]).unwrap_or_default(),
                    text_of(&r[3]).unwrap_or_default(),
                ),
                is_default: bool_of(&r[4]),
                active: bool_of(&r[5]),
                probability: (!r[6].is_null()).then(|| int_of(&r[6])),
                forecast_category: text_of(&r[7]),
                closed: bool_of(&r[8]),
                won: bool_of(&r[9]),
                converted: bool_of(&r[10]),
                responded: bool_of(&r[11]),
            });
        }
        let value_sets: HashMap<String, model::ValueSet> = sets
            .into_iter()
            .map(|(name, values)| (name, Arc::new(values)))
            .collect();

        let mut sql = self.sql();
        sql.push(
            "SELECT object, api_name, field_type, label_en, label_zh, length, precision_digits, scale, required, \
             is_unique, external_id, default_value, reference_to, relationship, child_relationship, cascade_delete, \
             value_set, restricted, readonly, create_only, tracked, name_field, custom, autonumber_format \
             FROM rapport_field ORDER BY object, position",
        );
        let cols = [
            Text, Text, Text, Text, Text, Int, Int, Int, Int, Int, Int, Text, Text, Text, Text,
            Int, Text, Int, Int, Int, Int, Int, Int, Text,
        ];
        let mut fields: HashMap<String, Vec<FieldDef>> = HashMap::new();
        for r in self.fetch(sql, &cols).await? {
            let object = text_of(&r[0]).unwrap_or_default();
            let name = text_of(&r[1]).unwrap_or_default();
            let type_name = text_of(&r[2]).unwrap_or_default();
            let field_type = FieldType::parse(&type_name).ok_or_else(|| {
                StoreError::Corrupt(format!("{object}.{name} has unknown type {type_name}"))
            })?;
            let mut f = FieldDef::new(
                &name,
                field_type,
                Label::new(
                    text_of(&r[3]).unwrap_or_default(),
                    text_of(&r[4]).unwrap_or_default(),
                ),
            );
            let small = |v: &Value| (!v.is_null()).then(|| int_of(v));
            f.length = small(&r[5]).and_then(|n| u32::try_from(n).ok());
            f.precision = small(&r[6]).and_then(|n| u8::try_from(n).ok());
            f.scale = small(&r[7]).and_then(|n| u8::try_from(n).ok());
            f.required = bool_of(&r[8]);
            f.unique = bool_of(&r[9]);
            f.external_id = bool_of(&r[10]);
            f.default = text_of(&r[11]);
            f.reference_to = text_of(&r[12])
                .map(|t| t.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            f.relationship = text_of(&r[13]);
            f.child_relationship = text_of(&r[14]);
            f.cascade_delete = bool_of(&r[15]);
            f.value_set = text_of(&r[16]);
            if let Some(set) = &f.value_set {
                f.values = value_sets.get(set).cloned().unwrap_or_default();
            }
            f.restricted = bool_of(&r[17]);
            f.readonly = bool_of(&r[18]);
            f.create_only = bool_of(&r[19]);
            f.tracked = bool_of(&r[20]);
            f.name_field = bool_of(&r[21]);
            f.custom = bool_of(&r[22]);
            f.autonumber_format = text_of(&r[23]);
            fields.entry(object).or_default().push(f);
        }

        let mut sql = self.sql();
        sql.push(
            "SELECT api_name, key_prefix, label_en, plural_en, label_zh, plural_zh, custom, owned, createable, \
             deletable, history, history_parent FROM rapport_object ORDER BY position",
        );
        let mut objects = Vec::new();
        for r in self
            .fetch(
                sql,
                &[
                    Text, Text, Text, Text, Text, Text, Int, Int, Int, Int, Text, Text,
                ],
            )
            .await?
        {
            let name = text_of(&r[0]).unwrap_or_default();
            let object_fields = fields.remove(&name).unwrap_or_default();
            let mut object = ObjectDef::new(
                &name,
                &text_of(&r[1]).unwrap_or_default(),
                Label::new(
                    text_of(&r[2]).unwrap_or_default(),
                    text_of(&r[4]).unwrap_or_default(),
                ),
                Label::new(
                    text_of(&r[3]).unwrap_or_default(),
                    text_of(&r[5]).unwrap_or_default(),
                ),
                bool_of(&r[6]),
                bool_of(&r[7]),
                bool_of(&r[8]),
                text_of(&r[10]),
                text_of(&r[11]),
                object_fields,
            );
            object.deletable = bool_of(&r[9]);
            objects.push(object);
        }
        self.set_schema_version(version);
        Ok(Schema::new(version, objects, value_sets))
    }
}

impl Store {
    /// Claims a one-time task by name (such as seeding a new database): true for the one
    /// caller, in any process, that claims it first.
    pub async fn claim_once(&self, task: &str) -> Result<bool> {
        let mut sql = self.sql();
        sql.push("INSERT INTO rapport_setting (name, value) VALUES (")
            .text_param(task)
            .push(", '1') ON CONFLICT (name) DO NOTHING");
        Ok(self.execute(sql).await? == 1)
    }
}
