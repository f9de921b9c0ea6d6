//! The query plan: what to read from one object (fields, filter, order, limit), compiled here
//! to SQL. Every read of records goes through a plan; the SOQL compiler and the access rules
//! produce and rewrite plans, never SQL.

use model::{FieldDef, ObjectDef, Value};

use crate::sql::{Col, Dialect, Param, Sql};
use crate::{Result, StoreError};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// SQL LIKE with `%` and `_`, case-insensitive on both backends.
    Like,
}

/// A condition on the records of the plan's object, by field API name.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        field: String,
        op: Op,
        value: Value,
    },
    In {
        field: String,
        values: Vec<Value>,
        negated: bool,
    },
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
}

impl Filter {
    pub fn eq(field: &str, value: Value) -> Filter {
        Filter::Compare {
            field: field.to_string(),
            op: Op::Eq,
            value,
        }
    }

    pub fn any_of(field: &str, values: Vec<Value>) -> Filter {
        Filter::In {
            field: field.to_string(),
            values,
            negated: false,
        }
    }
}

/// Which records, by their recycle-bin state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deleted {
    /// Live records only (what every ordinary read sees).
    #[default]
    Exclude,
    /// Live and recycle-bin records (`queryAll`).
    Include,
    /// Recycle-bin records only.
    Only,
}

impl Deleted {
    /// The value `IsDeleted` must have, if one.
    pub fn is_deleted(self) -> Option<bool> {
        match self {
            Deleted::Exclude => Some(false),
            Deleted::Only => Some(true),
            Deleted::Include => None,
        }
    }
}

/// A read of one object.
#[derive(Debug, Clone)]
pub struct Select<'a> {
    pub object: &'a ObjectDef,
    pub fields: Vec<&'a FieldDef>,
    pub filter: Option<Filter>,
    pub order_by: Vec<(String, bool)>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub deleted: Deleted,
    /// Row locks held for the rest of the transaction (PostgreSQL; SQLite's write
    /// transaction already excludes other writers).
    pub lock: Lock,
}

/// Row locks a read takes on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lock {
    #[default]
    None,
    /// The rows are about to change (`FOR UPDATE`).
    Update,
    /// The rows are about to change, but not their ids (`FOR NO KEY UPDATE`): a parent
    /// whose roll-ups are recounted, which other writers may hold `KEY SHARE` on as the
    /// target of their new children's lookups.
    NoKeyUpdate,
    /// The rows must not disappear while the transaction points at them (`FOR KEY SHARE`:
    /// a reference check against a concurrent delete).
    KeyShare,
}

impl<'a> Select<'a> {
    pub fn new(object: &'a ObjectDef, fields: Vec<&'a FieldDef>) -> Select<'a> {
        Select {
            object,
            fields,
            filter: None,
            order_by: Vec::new(),
            limit: None,
            offset: None,
            deleted: Deleted::Exclude,
            lock: Lock::None,
        }
    }

    /// The column kinds of the result, in field order.
    pub fn cols(&self) -> Vec<Col> {
        self.fields.iter().map(|f| Col::of(f)).collect()
    }

    /// Compiles the plan for `dialect`.
    pub fn to_sql(&self, dialect: Dialect) -> Result<Sql> {
        let mut sql = Sql::new(dialect);
        sql.push("SELECT ");
        sql.comma_list(&self.fields, |s, f| {
            s.ident(&f.column);
        });
        sql.push(" FROM ").ident(&self.object.table);
        let mut conditions = Vec::new();
        if let Some(deleted) = self.deleted.is_deleted() {
            conditions.push(Filter::eq("IsDeleted", Value::Bool(deleted)));
        }
        conditions.extend(self.filter.clone());
        if !conditions.is_empty() {
            sql.push(" WHERE ");
            self.condition(&mut sql, &Filter::And(conditions))?;
        }
        if self.order_by.is_empty() && self.lock != Lock::None && dialect == Dialect::Postgres {
            // Lock in one order everywhere, so that two overlapping bulk writes cannot deadlock.
            sql.push(" ORDER BY ").ident("id");
        }
        if !self.order_by.is_empty() {
            sql.push(" ORDER BY ");
            for (i, (name, descending)) in self.order_by.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                let field = self.field(name)?;
                sql.ident(&field.column)
                    .push(if *descending { " DESC" } else { " ASC" });
            }
        }
        sql.limit_offset(self.limit, self.offset);
        match (self.lock, dialect) {
            (Lock::Update, Dialect::Postgres) => {
                sql.push(" FOR UPDATE");
            }
            (Lock::NoKeyUpdate, Dialect::Postgres) => {
                sql.push(" FOR NO KEY UPDATE");
            }
            (Lock::KeyShare, Dialect::Postgres) => {
                sql.push(" FOR KEY SHARE");
            }
            _ => {}
        }
        Ok(sql)
    }

    fn field(&self, name: &str) -> Result<&'a FieldDef> {
        self.object
            .field(name)
            .ok_or_else(|| StoreError::UnknownField(format!("{}.{name}", self.object.name)))
    }

    fn condition(&self, sql: &mut Sql, filter: &Filter) -> Result<()> {
        match filter {
            Filter::Compare { field, op, value } => {
                let field = self.field(field)?;
                let col = Col::of(field);
                if value.is_null() && matches!(op, Op::Eq | Op::Ne) {
                    sql.ident(&field.column).push(if *op == Op::Eq {
                        " IS NULL"
                    } else {
                        " IS NOT NULL"
                    });
                    return Ok(());
                }
                let operator = match (op, sql.dialect) {
                    (Op::Eq, _) => " = ",
                    (Op::Ne, _) => " <> ",
                    (Op::Lt, _) => " < ",
                    (Op::Le, _) => " <= ",
                    (Op::Gt, _) => " > ",
                    (Op::Ge, _) => " >= ",
                    (Op::Like, Dialect::Sqlite) => " LIKE ",
                    (Op::Like, Dialect::Postgres) => " ILIKE ",
                };
                if *op == Op::Ne {
                    // SOQL's != matches nulls too.
                    sql.push("(").ident(&field.column).push(" IS NULL OR ");
                    sql.ident(&field.column)
                        .push(operator)
                        .param(Param::from_value(value, col))
                        .push(")");
                } else {
                    sql.ident(&field.column)
                        .push(operator)
                        .param(Param::from_value(value, col));
                }
            }
            Filter::In {
                field,
                values,
                negated,
            } => {
                let field = self.field(field)?;
                let col = Col::of(field);
                if values.is_empty() {
                    sql.push(if *negated { "1 = 1" } else { "1 = 0" });
                    return Ok(());
                }
                sql.ident(&field.column)
                    .push(if *negated { " NOT IN (" } else { " IN (" });
                sql.comma_list(values, |s, v| {
                    s.param(Param::from_value(v, col));
                });
                sql.push(")");
            }
            Filter::And(parts) | Filter::Or(parts) => {
                let joiner = if matches!(filter, Filter::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                if parts.is_empty() {
                    sql.push(if matches!(filter, Filter::And(_)) {
                        "1 = 1"
                    } else {
                        "1 = 0"
                    });
                    return Ok(());
                }
                sql.push("(");
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        sql.push(joiner);
                    }
                    self.condition(sql, part)?;
                }
                sql.push(")");
            }
            Filter::Not(inner) => {
                sql.push("NOT (");
                self.condition(sql, inner)?;
                sql.push(")");
            }
        }
        Ok(())
    }
}
