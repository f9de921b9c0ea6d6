//! SOQL in: parse, resolve names against the schema (case-insensitively), compile to a
//! [`QueryPlan`] (parents reached by paths become joins, only the ones needed), run, and
//! assemble rows with nested parents; paging by offset. The one read path of the API.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use model::{ErrorCode, FieldDef, FieldType, ObjectDef, RecordId, Schema, Value};
use soql::{CompareOp, Condition, Expr, Ident, Literal, LiteralKind, Path, SelectItem};
use store::plan::Deleted;
use store::query::{
    Aggregate, Column, Compare, Cond, DatePart, GroupPlan, Having, Order, Output, QueryPlan, Source,
};

use crate::access::FieldRules;
use crate::dates::Today;
use crate::{App, AppError, Caller, Result};

/// Most rows a page holds (Salesforce's default and maximum).
pub const MAX_PAGE: usize = 2000;
/// Largest OFFSET a query may give.
pub const MAX_OFFSET: u64 = 2000;
/// Deepest parent path (`Account.Owner.Manager.Name` is 3 levels).
const MAX_DEPTH: usize = 5;

/// What to read and which page.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// `queryAll`: records in the recycle bin too.
    pub include_deleted: bool,
    /// Rows of the result to skip (the position a `nextRecordsUrl` points at).
    pub start: u64,
    pub page_size: usize,
    /// `totalSize` reported by the first page. Later pages repeat it instead of counting the
    /// whole result again (a COUNT over a large table costs more than most pages), and so
    /// every page of one cursor reports the same total, as Salesforce's do.
    pub known_total: Option<u64>,
    /// The sort key of the last row before this page (from the locator): the page starts
    /// right after it instead of counting `start` rows from the top.
    pub after: Option<String>,
    /// Whether a first page with more rows after it counts the whole result for `totalSize`
    /// (a COUNT over everything the query matches). Without it, `total_size` is the rows up
    /// to this page's end, and `next_start` says there are more: what a list page needs,
    /// without paying for a count over a million rows on every view.
    pub count: bool,
}

impl Default for QueryOptions {
    /// The first page, of the largest size.
    fn default() -> QueryOptions {
        QueryOptions {
            include_deleted: false,
            start: 0,
            page_size: MAX_PAGE,
            known_total: None,
            after: None,
            count: true,
        }
    }
}

/// A value in a result row: a field, or a parent record (null when the lookup is empty).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Value(Value),
    Parent(Option<Row>),
    /// A child subquery's records (`None` when there are none, as Salesforce answers null).
    Children(Option<Vec<Row>>),
}

/// A record of a result: its object, id, and the selected values in select order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub object: Arc<str>,
    pub id: Option<RecordId>,
    /// Cell names are shared by every row of a result (one allocation per query, not per
    /// row and cell).
    pub cells: Vec<(Arc<str>, Cell)>,
}

/// One page of a result.
#[derive(Debug, Clone)]
pub struct QueryPage {
    pub object: String,
    pub rows: Vec<Row>,
    /// Rows in the whole result, or, when not `counted`, rows up to this page's end.
    pub total_size: u64,
    /// Whether `total_size` is the whole result's: counted, carried from the first page, or
    /// reached (this page is the last).
    pub counted: bool,
    /// Where the next page starts, when there is one.
    pub next_start: Option<u64>,
    /// The sort key of this page's last row, when the query pages by key.
    pub next_key: Option<String>,
}

fn malformed(message: impl Into<String>) -> AppError {
    AppError::one(ErrorCode::MalformedQuery, message)
}

fn no_such_column(name: &str, object: &str) -> AppError {
    AppError::one(
        ErrorCode::InvalidField,
        format!(
            "No such column '{name}' on entity '{object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
        ),
    )
}

/// A parent reached from a source through a lookup: node of the select tree.
#[derive(Debug, Default)]
struct Node {
    /// Child entries in first-seen order: a field (column position) or a parent node.
    entries: Vec<(Arc<str>, Entry)>,
}

#[derive(Debug)]
enum Entry {
    Field(usize),
    /// `toLabel(field)`: the picklist value's label in the caller's language.
    Label(usize, Box<FieldDef>),
    /// A child subquery, by its position in the query's subqueries.
    Children(usize),
    /// A polymorphic parent (`What`, `Who`, `Owner` of a lead): the lookup's column and the
    /// fields asked of it, read after the page by one query per object the ids point to.
    Polymorphic {
        id_column: usize,
        fields: Vec<String>,
        /// TYPEOF: the fields asked of each object (`WHEN Account THEN Name, Phone`); an
        /// object not listed gets `fields` (the ELSE list, or the plain `What.Name` paths).
        by_type: Vec<(String, Vec<String>)>,
    },
    Parent {
        /// The parent's object, named in its rows.
        object: Arc<str>,
        id_column: usize,
        node: Node,
    },
}

/// What a plan depends on besides the query: the caller's today and their field-level
/// security.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    today: Today,
    fields: Arc<FieldRules>,
}

/// Builds the plan: sources (with joins), columns, and the select tree.
struct Planner<'s> {
    schema: &'s Schema,
    sources: Vec<Source>,
    columns: Vec<Column>,
    joins: HashMap<(usize, String), usize>,
    alias: Option<String>,
    fiscal_start: u8,
    context: Context,
}

impl<'s> Planner<'s> {
    /// A planner for a query over `root`, with no joins made yet.
    fn new(
        schema: &'s Schema,
        root: &Arc<ObjectDef>,
        query: &soql::Query,
        fiscal_start: u8,
        context: &Context,
    ) -> Self {
        Planner {
            schema,
            sources: vec![Source {
                object: root.clone(),
                parent_of: None,
                visible: None,
            }],
            columns: Vec::new(),
            joins: HashMap::new(),
            alias: query.alias.as_ref().map(|a| a.text.clone()),
            fiscal_start,
            context: context.clone(),
        }
    }

    fn object(&self, source: usize) -> &ObjectDef {
        &self.sources[source].object
    }

    /// The source a relationship of `source` leads to, joined once.
    fn join(&mut self, source: usize, relationship: &str) -> Result<usize> {
        let object = self.sources[source].object.clone();
        let field = object
            .fields
            .iter()
            .find(|f| f.relationship.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(relationship)))
            .filter(|f| !self.context.fields.hidden(&object.name, &f.name))
            .cloned()
            .ok_or_else(|| {
                AppError::one(
                    ErrorCode::InvalidField,
                    format!("Didn't understand relationship '{relationship}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name."),
                )
            })?;
        if let Some(&joined) = self.joins.get(&(source, field.name.clone())) {
            return Ok(joined);
        }
        let [target] = field.reference_to.as_slice() else {
            return Err(AppError::one(
                ErrorCode::InvalidField,
                format!(
                    "{relationship} is polymorphic: a filter or ORDER BY through it is not supported yet; compare its Id, or read its fields in the SELECT list (or with TYPEOF)"
                ),
            ));
        };
        let parent = self.schema.object(target).ok_or_else(|| {
            AppError::one(
                ErrorCode::InvalidType,
                format!("sObject type '{target}' is not supported."),
            )
        })?;
        self.sources.push(Source {
            object: parent.clone(),
            parent_of: Some((source, field.clone())),
            visible: None,
        });
        let joined = self.sources.len() - 1;
        self.joins.insert((source, field.name), joined);
        Ok(joined)
    }

    /// The path's parts without a leading alias of the root.
    fn parts<'p>(&self, path: &'p Path) -> &'p [soql::Ident] {
        match (&self.alias, path.parts.split_first()) {
            (Some(alias), Some((first, rest)))
                if !rest.is_empty() && first.text.eq_ignore_ascii_case(alias) =>
            {
                rest
            }
            _ => &path.parts,
        }
    }

    /// Resolves a field path to (source, field), joining parents on the way.
    fn resolve(&mut self, path: &Path) -> Result<(usize, FieldDef)> {
        let parts = self.parts(path).to_vec();
        let Some((last, relationships)) = parts.split_last() else {
            return Err(malformed("empty field path"));
        };
        if relationships.len() > MAX_DEPTH {
            return Err(malformed(format!(
                "a field path may cross at most {MAX_DEPTH} relationships at {}",
                path.span
            )));
        }
        let mut source = 0;
        for relationship in relationships {
            source = self.join(source, &relationship.text)?;
        }
        let object = self.object(source);
        let field = object
            .field(&last.text)
            .filter(|f| !self.context.fields.hidden(&object.name, &f.name))
            .cloned()
            .ok_or_else(|| no_such_column(&last.text, &object.name))?;
        Ok((source, field))
    }

    fn add_column(&mut self, source: usize, field: FieldDef) -> usize {
        if let Some(i) = self
            .columns
            .iter()
            .position(|c| c.source == source && c.field.name == field.name)
        {
            return i;
        }
        self.columns.push(Column { source, field });
        self.columns.len() - 1
    }

    /// Adds a selected path to the select tree.
    fn select(&mut self, root: &mut Node, path: &Path) -> Result<()> {
        if let Some((lookup, wanted)) = self.polymorphic(path) {
            let column = self.add_column(0, lookup.clone());
            let name = lookup
                .relationship
                .clone()
                .unwrap_or_else(|| lookup.name.clone());
            match root.entries.iter_mut().find(|(n, _)| **n == *name) {
                Some((_, Entry::Polymorphic { fields, .. })) => {
                    if !fields.iter().any(|f| f.eq_ignore_ascii_case(&wanted)) {
                        fields.push(wanted);
                    }
                }
                _ => root.entries.push((
                    name.into(),
                    Entry::Polymorphic {
                        id_column: column,
                        fields: vec![wanted],
                        by_type: Vec::new(),
                    },
                )),
            }
            return Ok(());
        }
        let (source, field) = self.resolve(path)?;
        let column = self.add_column(source, field.clone());
        // Walk the tree along the path's relationships, creating parent nodes as needed.
        let parts = self.parts(path).to_vec();
        let mut node = root;
        let mut at = 0usize;
        for relationship in &parts[..parts.len() - 1] {
            let next = self.join(at, &relationship.text)?;
            let name = self.sources[at]
                .object
                .fields
                .iter()
                .find_map(|f| {
                    f.relationship
                        .clone()
                        .filter(|r| r.eq_ignore_ascii_case(&relationship.text))
                })
                .unwrap_or_else(|| relationship.text.clone());
            let id_field = self.sources[next]
                .object
                .field("Id")
                .cloned()
                .ok_or_else(|| malformed("parent has no Id"))?;
            let id_column = self.add_column(next, id_field);
            let position = node
                .entries
                .iter()
                .position(|(n, e)| **n == *name && matches!(e, Entry::Parent { .. }));
            let position = match position {
                Some(p) => p,
                None => {
                    node.entries.push((
                        name.into(),
                        Entry::Parent {
                            object: self.sources[next].object.name.as_str().into(),
                            id_column,
                            node: Node::default(),
                        },
                    ));
                    node.entries.len() - 1
                }
            };
            node = match &mut node.entries[position].1 {
                Entry::Parent { node, .. } => node,
                Entry::Field(_)
                | Entry::Label(..)
                | Entry::Children(_)
                | Entry::Polymorphic { .. } => {
                    return Err(malformed("a path crosses a field"));
                }
            };
            at = next;
        }
        if !node.entries.iter().any(|(n, _)| **n == *field.name) {
            node.entries
                .push((field.name.as_str().into(), Entry::Field(column)));
        }
        Ok(())
    }

    /// `What.Name`: a root lookup to several objects and the field asked of it.
    fn polymorphic(&self, path: &Path) -> Option<(FieldDef, String)> {
        let [relationship, field] = self.parts(path) else {
            return None;
        };
        let root = &self.sources[0].object;
        let lookup = root.fields.iter().find(|f| {
            f.relationship
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(&relationship.text))
                && !self.context.fields.hidden(&root.name, &f.name)
        })?;
        (lookup.reference_to.len() > 1).then(|| (lookup.clone(), field.text.clone()))
    }

    /// `What.Name = 'Acme'`: no one join reaches a polymorphic parent, so the condition becomes
    /// the lookup's id among the matching ids of each object it can point to (semi-joins,
    /// OR-ed). Only conditions that can hold for a set parent are rewritten; the others
    /// (`!=`, NOT LIKE, NOT IN, which Salesforce also lets match an empty lookup) and `Type`
    /// are refused by name.
    fn through_polymorphic(&self, condition: &Condition) -> Result<Option<Condition>> {
        let (left, span, positive) = match condition {
            Condition::Compare { left, op, span, .. } => (left, *span, *op != CompareOp::Ne),
            Condition::Like {
                left,
                negated,
                span,
                ..
            }
            | Condition::In {
                left,
                negated,
                span,
                ..
            } => (left, *span, !negated),
            _ => return Ok(None),
        };
        let Expr::Field(path) = left else {
            return Ok(None);
        };
        let Some((lookup, field)) = self.polymorphic(path) else {
            return Ok(None);
        };
        let relationship = lookup.relationship.clone().unwrap_or_default();
        // `What.Type = 'Account'`, `IN (…)`: the object names asked for, when that is the form.
        let types: Option<Vec<&str>> = match condition {
            _ if !field.eq_ignore_ascii_case("Type") => None,
            Condition::Compare {
                op: CompareOp::Eq,
                right,
                ..
            } => Some(vec![right]),
            Condition::In {
                values,
                negated: false,
                ..
            } => Some(values.iter().collect()),
            _ => None,
        }
        .and_then(|literals| {
            literals
                .into_iter()
                .map(|l| match &l.kind {
                    LiteralKind::String(text) => Some(text.as_str()),
                    _ => None,
                })
                .collect()
        });
        if !positive || (field.eq_ignore_ascii_case("Type") && types.is_none()) {
            return Err(AppError::one(
                ErrorCode::InvalidField,
                format!(
                    "{relationship}.{field}: a filter through the polymorphic {relationship} supports =, <, >, LIKE and IN on a field of its objects and Type = or IN with object names (not !=, NOT LIKE or NOT IN) at {span}"
                ),
            ));
        }
        let at = |text: &str| {
            Expr::Field(Path {
                parts: vec![Ident {
                    text: text.to_string(),
                    span,
                }],
                span,
            })
        };
        let mut alternatives = Vec::new();
        for target in &lookup.reference_to {
            let Some(object) = self.schema.object(target) else {
                continue;
            };
            let wanted = match &types {
                Some(types) => types.iter().any(|t| t.eq_ignore_ascii_case(&object.name)),
                None => polymorphic_field(object, &field)
                    .is_some_and(|f| !self.context.fields.hidden(&object.name, &f.name)),
            };
            if !wanted {
                continue;
            }
            let mut inner = condition.clone();
            if let Condition::Compare { left, .. }
            | Condition::Like { left, .. }
            | Condition::In { left, .. } = &mut inner
            {
                *left = at(polymorphic_field(object, &field).map_or(&field, |f| &f.name));
            }
            // Parsed, then renamed: an object may be called `Group`, a SOQL keyword.
            let mut query =
                soql::parse("SELECT Id FROM Account").map_err(|e| malformed(e.to_string()))?;
            query.from = Ident {
                text: object.name.clone(),
                span,
            };
            // Type needs no filter: every record of the object is of that type.
            query.filter = types.is_none().then_some(inner);
            alternatives.push(Condition::InQuery {
                left: at(&lookup.name),
                negated: false,
                query: Box::new(query),
                span,
            });
        }
        match alternatives.len() {
            0 if types.is_some() => Err(AppError::one(
                ErrorCode::InvalidQueryFilterOperator,
                format!(
                    "{relationship}.Type names no object {relationship} can point to ({}) at {span}",
                    lookup.reference_to.join(", ")
                ),
            )),
            0 => Err(AppError::one(
                ErrorCode::InvalidField,
                format!(
                    "No such column '{field}' on the objects {relationship} can point to at {span}"
                ),
            )),
            1 => Ok(alternatives.pop()),
            _ => Ok(Some(Condition::Or(alternatives))),
        }
    }

    /// A literal as a value of `field`'s type.
    fn value(&self, field: &FieldDef, literal: &Literal) -> Result<Value> {
        let wrong = || {
            AppError::one(
                ErrorCode::InvalidQueryFilterOperator,
                format!(
                    "value of filter criterion for field '{}' must be of type {} and should not be enclosed in quotes at {}",
                    field.name,
                    describe_kind(field),
                    literal.span
                ),
            )
        };
        Ok(match (&literal.kind, field.field_type) {
            (LiteralKind::Null, _) => Value::Null,
            (LiteralKind::String(text), FieldType::Id | FieldType::Reference) => {
                match RecordId::parse(text) {
                    Ok(id) => Value::Id(id),
                    Err(_) => {
                        return Err(AppError::one(
                            ErrorCode::InvalidQueryFilterOperator,
                            format!("invalid ID field: {text}"),
                        ));
                    }
                }
            }
            (LiteralKind::String(text), t)
                if !t.is_numeric()
                    && !matches!(
                        t,
                        FieldType::Checkbox | FieldType::Date | FieldType::DateTime
                    ) =>
            {
                Value::Text(text.clone())
            }
            (LiteralKind::Boolean(b), FieldType::Checkbox) => Value::Bool(*b),
            (LiteralKind::Number(text), t) if t.is_numeric() => text
                .parse::<Decimal>()
                .map(Value::Decimal)
                .map_err(|_| wrong())?,
            (LiteralKind::Currency { amount, .. }, FieldType::Currency) => amount
                .parse::<Decimal>()
                .map(Value::Decimal)
                .map_err(|_| wrong())?,
            (LiteralKind::Date(text), FieldType::Date) => model::value::parse_date(text)
                .map(Value::Date)
                .ok_or_else(wrong)?,
            (LiteralKind::DateTime(text), FieldType::DateTime) => {
                model::value::parse_datetime(text)
                    .map(Value::DateTime)
                    .ok_or_else(wrong)?
            }
            _ => return Err(wrong()),
        })
    }

    /// The `[start, end)` of a relative date literal, typed for `field`.
    fn date_range(&self, field: &FieldDef, name: &str, n: Option<i64>) -> Result<(Value, Value)> {
        let (start, end) = crate::dates::range(name, n, self.context.today.date, self.fiscal_start)
            .ok_or_else(|| malformed(format!("unknown date literal {name}")))?;
        Ok(match field.field_type {
            FieldType::Date => (Value::Date(start), Value::Date(end)),
            FieldType::DateTime => (
                Value::DateTime(self.context.today.start_of(start)),
                Value::DateTime(self.context.today.start_of(end)),
            ),
            _ => {
                return Err(AppError::one(
                    ErrorCode::InvalidQueryFilterOperator,
                    format!(
                        "a date literal needs a date or datetime field, and '{}' is not one",
                        field.name
                    ),
                ));
            }
        })
    }

    fn condition(&mut self, condition: &Condition) -> Result<Cond> {
        if let Some(rewritten) = self.through_polymorphic(condition)? {
            return self.condition(&rewritten);
        }
        Ok(match condition {
            Condition::And(parts) => Cond::And(
                parts
                    .iter()
                    .map(|p| self.condition(p))
                    .collect::<Result<_>>()?,
            ),
            Condition::Or(parts) => Cond::Or(
                parts
                    .iter()
                    .map(|p| self.condition(p))
                    .collect::<Result<_>>()?,
            ),
            Condition::Not(inner) => Cond::Not(Box::new(self.condition(inner)?)),
            Condition::Compare {
                left,
                op,
                right,
                span,
            } => {
                if let Expr::Function { name, args, .. } = left
                    && let Some((part, column)) = self.date_function(name, args, *span)?
                {
                    let value = match (&right.kind, part) {
                        (LiteralKind::Null, _) => Value::Null,
                        (LiteralKind::Date(text), DatePart::DayOnly) => {
                            model::value::parse_date(text)
                                .map(Value::Date)
                                .ok_or_else(|| malformed(format!("not a date: {text}")))?
                        }
                        (LiteralKind::Number(n), part) if part != DatePart::DayOnly => n
                            .parse::<Decimal>()
                            .map(Value::Decimal)
                            .map_err(|_| malformed(format!("not a number: {n}")))?,
                        _ => {
                            return Err(AppError::one(
                                ErrorCode::InvalidQueryFilterOperator,
                                format!(
                                    "{} compares with a {} at {span}",
                                    name.text,
                                    if part == DatePart::DayOnly {
                                        "date"
                                    } else {
                                        "number"
                                    }
                                ),
                            ));
                        }
                    };
                    return Ok(Cond::DatePart {
                        part,
                        column,
                        op: compare_op(*op),
                        value,
                    });
                }
                let column = self.column_of(left)?;
                let compare = match op {
                    CompareOp::Eq => Compare::Eq,
                    CompareOp::Ne => Compare::Ne,
                    CompareOp::Lt => Compare::Lt,
                    CompareOp::Le => Compare::Le,
                    CompareOp::Gt => Compare::Gt,
                    CompareOp::Ge => Compare::Ge,
                };
                if let LiteralKind::DateLiteral { name, n } = &right.kind {
                    let (start, end) = self.date_range(&column.field, name, *n)?;
                    let at = |op: Compare, value: Value| Cond::Compare {
                        column: column.clone(),
                        op,
                        value,
                    };
                    return Ok(match compare {
                        Compare::Eq => {
                            Cond::And(vec![at(Compare::Ge, start), at(Compare::Lt, end)])
                        }
                        Compare::Ne => Cond::Or(vec![
                            at(Compare::Lt, start),
                            at(Compare::Ge, end),
                            at(Compare::Eq, Value::Null),
                        ]),
                        Compare::Lt => at(Compare::Lt, start),
                        Compare::Le => at(Compare::Lt, end),
                        Compare::Gt => at(Compare::Ge, end),
                        Compare::Ge => at(Compare::Ge, start),
                    });
                }
                let value = self.value(&column.field, right)?;
                Cond::Compare {
                    column,
                    op: compare,
                    value,
                }
            }
            Condition::Like {
                left,
                negated,
                pattern,
                ..
            } => {
                let column = self.column_of(left)?;
                let LiteralKind::String(text) = &pattern.kind else {
                    return Err(AppError::one(
                        ErrorCode::InvalidQueryFilterOperator,
                        "LIKE needs a quoted pattern",
                    ));
                };
                let like = Cond::Like {
                    column,
                    pattern: text.clone(),
                };
                if *negated {
                    Cond::Not(Box::new(like))
                } else {
                    like
                }
            }
            Condition::In {
                left,
                negated,
                values,
                ..
            } => {
                let column = self.column_of(left)?;
                let values = values
                    .iter()
                    .map(|v| self.value(&column.field, v))
                    .collect::<Result<Vec<_>>>()?;
                let within = Cond::In { column, values };
                if *negated {
                    Cond::Not(Box::new(within))
                } else {
                    within
                }
            }
            Condition::InQuery {
                left,
                negated,
                query,
                span,
            } => {
                let column = self.column_of(left)?;
                let plan = self.semi_join(query, *span)?;
                let (wanted, given) = (&column.field, &plan.columns[0].field);
                let id_like =
                    |f: &FieldDef| matches!(f.field_type, FieldType::Id | FieldType::Reference);
                if !id_like(wanted) || !id_like(given) {
                    return Err(AppError::one(
                        ErrorCode::InvalidQueryFilterOperator,
                        format!(
                            "a semi-join compares ids: {} IN (SELECT {} …) at {span}",
                            wanted.name, given.name
                        ),
                    ));
                }
                Cond::InQuery {
                    column,
                    plan: Box::new(plan),
                    negated: *negated,
                }
            }
            Condition::Includes {
                left,
                excludes,
                values,
                ..
            } => {
                let column = self.column_of(left)?;
                if column.field.field_type != FieldType::MultiPicklist {
                    return Err(AppError::one(
                        ErrorCode::InvalidQueryFilterOperator,
                        format!(
                            "INCLUDES and EXCLUDES work on multi-select picklists only, and '{}' is not one",
                            column.field.name
                        ),
                    ));
                }
                // 'a;b' means both a and b; several literals mean any of them.
                let mut any = Vec::with_capacity(values.len());
                for value in values {
                    let LiteralKind::String(text) = &value.kind else {
                        return Err(AppError::one(
                            ErrorCode::InvalidQueryFilterOperator,
                            "INCLUDES takes quoted values",
                        ));
                    };
                    let all: Vec<Cond> = text
                        .split(';')
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(|v| Cond::Holds {
                            column: column.clone(),
                            value: v.to_string(),
                        })
                        .collect();
                    any.push(Cond::And(all));
                }
                let includes = Cond::Or(any);
                if *excludes {
                    Cond::Not(Box::new(includes))
                } else {
                    includes
                }
            }
        })
    }

    /// The plan of a semi-join's subquery: one id or lookup field of one object.
    fn semi_join(&self, query: &soql::Query, span: soql::Span) -> Result<QueryPlan> {
        let object = object_named(self.schema, &query.from.text)?;
        let [
            SelectItem::Expr {
                expr: Expr::Field(path),
                alias: None,
            },
        ] = query.select.as_slice()
        else {
            return Err(malformed(format!(
                "a semi-join selects exactly one id or lookup field at {span}"
            )));
        };
        let mut inner = Planner::new(
            self.schema,
            &object,
            query,
            self.fiscal_start,
            &self.context,
        );
        let (source, field) = inner.resolve(path)?;
        let mut conditions = vec![Cond::Compare {
            column: Column {
                source,
                field: field.clone(),
            },
            op: Compare::Ne,
            value: Value::Null,
        }];
        if let Some(filter) = &query.filter {
            if contains_subquery(filter) {
                return Err(malformed(format!("semi-joins cannot be nested at {span}")));
            }
            conditions.push(inner.condition(filter)?);
        }
        let Planner { sources, .. } = inner;
        Ok(QueryPlan {
            sources,
            columns: vec![Column { source, field }],
            filter: Some(Cond::And(conditions)),
            order: Vec::new(),
            limit: None,
            offset: None,
            deleted: Deleted::Exclude,
            // Apart from the outer query's tables.
            alias_base: 50,
            search: None,
            shared: None,
        })
    }

    /// `ORDER BY What.Name`: the field of each object the lookup can point to, each reached
    /// by its own join on the lookup (a record's id matches at most one of them).
    fn polymorphic_order(&mut self, path: &Path) -> Result<(Column, Vec<Column>)> {
        let Some((lookup, wanted)) = self.polymorphic(path) else {
            return Err(malformed("not a polymorphic path"));
        };
        if wanted.eq_ignore_ascii_case("Type") {
            return Err(AppError::one(
                ErrorCode::InvalidField,
                format!(
                    "ORDER BY {}.Type is not supported; order by a field of the objects instead",
                    lookup.relationship.clone().unwrap_or_default()
                ),
            ));
        }
        let mut columns: Vec<Column> = Vec::new();
        for target in &lookup.reference_to {
            let Some(object) = self.schema.object(target).cloned() else {
                continue;
            };
            let Some(field) = polymorphic_field(&object, &wanted)
                .filter(|f| !self.context.fields.hidden(&object.name, &f.name))
                .cloned()
            else {
                continue;
            };
            let key = (0, format!("{}>{}", lookup.name, object.name));
            let source = match self.joins.get(&key) {
                Some(&joined) => joined,
                None => {
                    self.sources.push(Source {
                        object,
                        parent_of: Some((0, lookup.clone())),
                        visible: None,
                    });
                    let joined = self.sources.len() - 1;
                    self.joins.insert(key, joined);
                    joined
                }
            };
            columns.push(Column { source, field });
        }
        let relationship = lookup.relationship.clone().unwrap_or_default();
        if columns.is_empty() {
            return Err(no_such_column(&wanted, &relationship));
        }
        let kinds: Vec<store::Col> = columns.iter().map(|c| store::Col::of(&c.field)).collect();
        if kinds.iter().any(|k| *k != kinds[0]) {
            return Err(AppError::one(
                ErrorCode::InvalidField,
                format!(
                    "ORDER BY {relationship}.{wanted}: the objects {relationship} can point to hold different kinds of value there"
                ),
            ));
        }
        let first = columns.remove(0);
        Ok((first, columns))
    }

    fn column_of(&mut self, expr: &Expr) -> Result<Column> {
        match expr {
            Expr::Field(path) => {
                let (source, field) = self.resolve(path)?;
                Ok(Column { source, field })
            }
            Expr::Function { name, span, .. } => Err(malformed(format!(
                "{} is not supported in this position yet at {span}",
                name.text
            ))),
        }
    }
}

fn compare_op(op: CompareOp) -> Compare {
    match op {
        CompareOp::Eq => Compare::Eq,
        CompareOp::Ne => Compare::Ne,
        CompareOp::Lt => Compare::Lt,
        CompareOp::Le => Compare::Le,
        CompareOp::Gt => Compare::Gt,
        CompareOp::Ge => Compare::Ge,
    }
}

fn contains_subquery(condition: &Condition) -> bool {
    match condition {
        Condition::InQuery { .. } => true,
        Condition::And(parts) | Condition::Or(parts) => parts.iter().any(contains_subquery),
        Condition::Not(inner) => contains_subquery(inner),
        _ => false,
    }
}

fn describe_kind(field: &FieldDef) -> &'static str {
    match field.field_type {
        FieldType::Checkbox => "boolean",
        FieldType::Date => "date",
        FieldType::DateTime => "dateTime",
        t if t.is_numeric() => "number",
        FieldType::Id | FieldType::Reference => "id",
        _ => "string",
    }
}

/// Turns a raw row into a result row by the select tree.
fn assemble(
    object: &Arc<str>,
    node: &Node,
    raw: &[Value],
    id_column: Option<usize>,
    lang: model::Lang,
) -> Row {
    let id = id_column
        .and_then(|i| raw.get(i))
        .and_then(Value::as_id)
        .cloned();
    let cells = node
        .entries
        .iter()
        .map(|(name, entry)| {
            let cell = match entry {
                Entry::Field(i) => Cell::Value(raw.get(*i).cloned().unwrap_or(Value::Null)),
                Entry::Label(i, field) => Cell::Value(match raw.get(*i) {
                    Some(Value::Text(text)) => Value::Text(
                        text.split(';')
                            .map(|v| field.picklist_value(v).map_or(v, |p| p.label.get(lang)))
                            .collect::<Vec<_>>()
                            .join(";"),
                    ),
                    other => other.cloned().unwrap_or(Value::Null),
                }),
                Entry::Children(_) => Cell::Children(None),
                // Filled in after the page is read (see `App::resolve_polymorphic`).
                Entry::Polymorphic { id_column, .. } => match raw.get(*id_column) {
                    Some(Value::Id(id)) => Cell::Parent(Some(Row {
                        object: "".into(),
                        id: Some(id.clone()),
                        cells: Vec::new(),
                    })),
                    _ => Cell::Parent(None),
                },
                Entry::Parent {
                    object,
                    id_column,
                    node: child,
                } => {
                    if raw.get(*id_column).is_none_or(Value::is_null) {
                        Cell::Parent(None)
                    } else {
                        Cell::Parent(Some(assemble(object, child, raw, Some(*id_column), lang)))
                    }
                }
            };
            (name.clone(), cell)
        })
        .collect();
    Row {
        object: object.clone(),
        id,
        cells,
    }
}

/// A child subquery, planned: the child object's query, the lookup that links it to the
/// parent, and the per-parent limit.
struct ChildQuery {
    plan: QueryPlan,
    tree: Node,
    id_column: usize,
    link_column: usize,
    link: Column,
    limit: Option<u64>,
}

/// The aggregate function a name stands for.
fn aggregate(name: &str) -> Option<Aggregate> {
    Some(match name.to_ascii_uppercase().as_str() {
        "COUNT" => Aggregate::Count,
        "COUNT_DISTINCT" => Aggregate::CountDistinct,
        "SUM" => Aggregate::Sum,
        "AVG" => Aggregate::Avg,
        "MIN" => Aggregate::Min,
        "MAX" => Aggregate::Max,
        _ => return None,
    })
}

/// The date function a name stands for, with the org's fiscal-year start.
fn date_part(name: &str, fiscal_start: u8) -> Option<DatePart> {
    Some(match name.to_ascii_uppercase().as_str() {
        "CALENDAR_YEAR" => DatePart::CalendarYear,
        "CALENDAR_QUARTER" => DatePart::CalendarQuarter,
        "CALENDAR_MONTH" => DatePart::CalendarMonth,
        "DAY_IN_MONTH" => DatePart::DayInMonth,
        "DAY_IN_WEEK" => DatePart::DayInWeek,
        "DAY_IN_YEAR" => DatePart::DayInYear,
        "HOUR_IN_DAY" => DatePart::HourInDay,
        "DAY_ONLY" => DatePart::DayOnly,
        "FISCAL_YEAR" => DatePart::FiscalYear(fiscal_start),
        "FISCAL_QUARTER" => DatePart::FiscalQuarter(fiscal_start),
        "FISCAL_MONTH" => DatePart::FiscalMonth(fiscal_start),
        _ => return None,
    })
}

/// Whether a query groups or aggregates (then it answers AggregateResult rows).
pub(crate) fn is_aggregate(query: &soql::Query) -> bool {
    query.group_by.is_some()
        || query.select.iter().any(|item| {
            matches!(item, SelectItem::Expr { expr: Expr::Function { name, args, .. }, .. }
                if aggregate(&name.text).is_some() && !(args.is_empty() && query.select.len() == 1 && query.group_by.is_none()))
        })
}

impl Planner<'_> {
    /// The date part and the date or datetime column of `CALENDAR_YEAR(CloseDate)`; the
    /// argument may be wrapped in `convertTimezone()` (times are UTC for now).
    fn date_function(
        &mut self,
        name: &soql::Ident,
        args: &[Expr],
        span: soql::Span,
    ) -> Result<Option<(DatePart, Column)>> {
        let Some(part) = date_part(&name.text, self.fiscal_start) else {
            return Ok(None);
        };
        let argument = match args {
            [Expr::Function { name, args, .. }]
                if name.text.eq_ignore_ascii_case("convertTimezone") =>
            {
                args.first()
            }
            [argument] => Some(argument),
            _ => None,
        };
        let Some(Expr::Field(path)) = argument else {
            return Err(malformed(format!(
                "{} takes one date or datetime field at {span}",
                name.text
            )));
        };
        let (source, field) = self.resolve(path)?;
        let fits = match part {
            DatePart::DayOnly | DatePart::HourInDay => field.field_type == FieldType::DateTime,
            _ => matches!(field.field_type, FieldType::Date | FieldType::DateTime),
        };
        if !fits {
            return Err(malformed(format!(
                "{} cannot be applied to {} at {span}",
                name.text, field.name
            )));
        }
        Ok(Some((part, Column { source, field })))
    }

    /// An output of a grouped query: a field, a date part of one, or an aggregate.
    fn output(&mut self, expr: &Expr) -> Result<Output> {
        if let Expr::Function { name, args, span } = expr
            && let Some((part, column)) = self.date_function(name, args, *span)?
        {
            return Ok(Output::DatePart { part, column });
        }
        match expr {
            Expr::Field(path) => {
                let (source, field) = self.resolve(path)?;
                Ok(Output::Column(Column { source, field }))
            }
            Expr::Function { name, args, span } => {
                let function = aggregate(&name.text).ok_or_else(|| {
                    malformed(format!("{} is not supported yet at {span}", name.text))
                })?;
                let column = match args.as_slice() {
                    [] if function == Aggregate::Count => None,
                    [Expr::Field(path)] => {
                        let (source, field) = self.resolve(path)?;
                        if matches!(function, Aggregate::Sum | Aggregate::Avg)
                            && !field.field_type.is_numeric()
                        {
                            return Err(malformed(format!(
                                "field {} does not support aggregate operator {} at {span}",
                                field.name,
                                name.text.to_ascii_uppercase()
                            )));
                        }
                        Some(Column { source, field })
                    }
                    _ => {
                        return Err(malformed(format!(
                            "{} takes one field at {span}",
                            name.text
                        )));
                    }
                };
                Ok(Output::Aggregate { function, column })
            }
        }
    }

    fn having(&mut self, condition: &Condition) -> Result<Having> {
        Ok(match condition {
            Condition::And(parts) => Having::And(
                parts
                    .iter()
                    .map(|p| self.having(p))
                    .collect::<Result<_>>()?,
            ),
            Condition::Or(parts) => Having::Or(
                parts
                    .iter()
                    .map(|p| self.having(p))
                    .collect::<Result<_>>()?,
            ),
            Condition::Not(inner) => Having::Not(Box::new(self.having(inner)?)),
            Condition::Compare {
                left, op, right, ..
            } => {
                let output = self.output(left)?;
                let value = match (&output, &right.kind) {
                    (_, LiteralKind::Null) => Value::Null,
                    (
                        Output::Aggregate {
                            function: Aggregate::Count | Aggregate::CountDistinct,
                            ..
                        }
                        | Output::Aggregate { column: None, .. },
                        LiteralKind::Number(n),
                    ) => n
                        .parse::<Decimal>()
                        .map(Value::Decimal)
                        .map_err(|_| malformed(format!("not a number: {n}")))?,
                    (
                        Output::Column(column)
                        | Output::Aggregate {
                            column: Some(column),
                            ..
                        },
                        _,
                    ) => self.value(&column.field, right)?,
                    _ => {
                        return Err(AppError::one(
                            ErrorCode::InvalidQueryFilterOperator,
                            "a count compares with a number",
                        ));
                    }
                };
                let op = match op {
                    CompareOp::Eq => Compare::Eq,
                    CompareOp::Ne => Compare::Ne,
                    CompareOp::Lt => Compare::Lt,
                    CompareOp::Le => Compare::Le,
                    CompareOp::Gt => Compare::Gt,
                    CompareOp::Ge => Compare::Ge,
                };
                Having::Compare { output, op, value }
            }
            _ => return Err(malformed("HAVING takes comparisons")),
        })
    }
}

/// Two outputs are the same column or the same aggregate of the same column.
fn same_output(a: &Output, b: &Output) -> bool {
    let same_column = |x: &Column, y: &Column| x.source == y.source && x.field.name == y.field.name;
    match (a, b) {
        (Output::Column(x), Output::Column(y)) => same_column(x, y),
        (Output::DatePart { part: p, column: x }, Output::DatePart { part: q, column: y }) => {
            p == q && same_column(x, y)
        }
        (
            Output::Aggregate {
                function: f,
                column: x,
            },
            Output::Aggregate {
                function: g,
                column: y,
            },
        ) => {
            f == g
                && match (x, y) {
                    (Some(x), Some(y)) => same_column(x, y),
                    (None, None) => true,
                    _ => false,
                }
        }
        _ => false,
    }
}

/// A planned aggregate query: the plan, and the names of the visible outputs.
struct Grouped {
    plan: GroupPlan,
    names: Vec<String>,
    /// What each visible item shows, in select order.
    slots: Vec<Slot>,
    /// ROLLUP / CUBE: the grouping sets, as positions in `plan.group_by`.
    sets: Option<Vec<Vec<usize>>>,
}

/// A visible item of an aggregate query.
enum Slot {
    /// An output of the SQL, by position.
    Output(usize),
    /// `GROUPING(field)`: 1 on rows where that group key is rolled up.
    Grouping(Box<Output>),
}

fn plan_grouped(
    schema: &Schema,
    root: &Arc<ObjectDef>,
    query: &soql::Query,
    fiscal_start: u8,
    context: &Context,
) -> Result<Grouped> {
    let mut planner = Planner::new(schema, root, query, fiscal_start, context);
    let mut outputs = Vec::new();
    let mut names = Vec::new();
    let mut slots = Vec::new();
    let mut unnamed = 0;
    for item in &query.select {
        let SelectItem::Expr { expr, alias } = item else {
            return Err(malformed(
                "an aggregate query selects fields and aggregates only",
            ));
        };
        if let Expr::Function { name, args, span } = expr
            && name.text.eq_ignore_ascii_case("GROUPING")
        {
            let [key] = args.as_slice() else {
                return Err(malformed(format!("GROUPING takes one field at {span}")));
            };
            let key = planner.output(key)?;
            unnamed += 1;
            names.push(
                alias
                    .as_ref()
                    .map_or_else(|| format!("expr{}", unnamed - 1), |a| a.text.clone()),
            );
            slots.push(Slot::Grouping(Box::new(key)));
            continue;
        }
        let output = planner.output(expr)?;
        slots.push(Slot::Output(outputs.len()));
        let name = match (alias, expr) {
            (Some(alias), _) => alias.text.clone(),
            (None, Expr::Field(_)) => match &output {
                Output::Column(column) => column.field.name.clone(),
                Output::Aggregate { .. } | Output::DatePart { .. } => String::new(),
            },
            (None, Expr::Function { .. }) => {
                unnamed += 1;
                format!("expr{}", unnamed - 1)
            }
        };
        outputs.push(output);
        names.push(name);
    }
    let mut group_by = Vec::new();
    let (keys, kind) = match &query.group_by {
        Some(soql::GroupBy::Plain(exprs)) => (exprs.as_slice(), None),
        Some(soql::GroupBy::Rollup(exprs)) => (exprs.as_slice(), Some(false)),
        Some(soql::GroupBy::Cube(exprs)) => (exprs.as_slice(), Some(true)),
        None => (&[][..], None),
    };
    for expr in keys {
        match planner.output(expr)? {
            Output::Aggregate { .. } => return Err(malformed("cannot GROUP BY an aggregate")),
            key => group_by.push(key),
        }
    }
    // ROLLUP(a, b): (a, b), (a), (); CUBE(a, b): every subset.
    let sets = kind.map(|cube| {
        let n = group_by.len();
        if cube {
            (0..(1u32 << n))
                .rev()
                .map(|mask| (0..n).filter(|i| mask & (1 << i) != 0).collect())
                .collect()
        } else {
            (0..=n)
                .rev()
                .map(|len| (0..len).collect())
                .collect::<Vec<Vec<usize>>>()
        }
    });
    for slot in &slots {
        if let Slot::Grouping(key) = slot
            && !group_by.iter().any(|g| same_output(g, key))
        {
            return Err(malformed("GROUPING takes a field of the GROUP BY"));
        }
    }
    for (slot, name) in slots.iter().zip(&names) {
        let Slot::Output(i) = slot else { continue };
        let output = &outputs[*i];
        let grouped = matches!(output, Output::Aggregate { .. })
            || group_by.iter().any(|key| same_output(key, output));
        if !grouped {
            return Err(malformed(format!(
                "Field must be grouped or aggregated: {name}"
            )));
        }
    }
    let filter = query
        .filter
        .as_ref()
        .map(|c| planner.condition(c))
        .transpose()?;
    let having = query
        .having
        .as_ref()
        .map(|c| planner.having(c))
        .transpose()?;
    let mut order = Vec::new();
    for item in &query.order_by {
        let wanted = planner.output(&item.expr)?;
        let position = match outputs.iter().position(|o| same_output(o, &wanted)) {
            Some(position) => position,
            None => {
                let grouped = matches!(wanted, Output::Aggregate { .. })
                    || group_by.iter().any(|key| same_output(key, &wanted));
                if !grouped {
                    return Err(malformed("Ordered field must be grouped or aggregated"));
                }
                outputs.push(wanted);
                outputs.len() - 1
            }
        };
        order.push((position, item.descending, item.nulls_last.unwrap_or(false)));
    }
    let Planner {
        sources, columns, ..
    } = planner;
    let base = QueryPlan {
        sources,
        columns,
        filter,
        order: Vec::new(),
        limit: None,
        offset: None,
        deleted: Deleted::Exclude,
        alias_base: 0,
        search: None,
        shared: None,
    };
    Ok(Grouped {
        plan: GroupPlan {
            base,
            outputs,
            group_by,
            having,
            order,
            limit: query.limit,
            offset: query.offset,
        },
        names,
        slots,
        sets,
    })
}

/// Orders two rows by their ORDER BY values as the SQL of a plan would: nulls first unless
/// NULLS LAST, whatever the direction; text ignoring case. Used for ROLLUP and CUBE, whose
/// grouping sets are separate queries sorted together here.
fn order_values(order: &[(usize, bool, bool)], a: &[Value], b: &[Value]) -> Ordering {
    for (k, &(_, descending, nulls_last)) in order.iter().enumerate() {
        let (x, y) = (&a[k], &b[k]);
        let ordering = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) if nulls_last => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, true) if nulls_last => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) if descending => compare_values(x, y).reverse(),
            (false, false) => compare_values(x, y),
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

/// Two non-null values of one column, in SOQL's order.
fn compare_values(x: &Value, y: &Value) -> Ordering {
    match (x, y) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Decimal(x), Value::Decimal(y)) => x.cmp(y),
        (Value::Text(x), Value::Text(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        (Value::Id(x), Value::Id(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// A planned query: what to read and how to shape it.
struct Planned {
    plan: QueryPlan,
    tree: Node,
    id_column: usize,
    children: Vec<ChildQuery>,
    count_only: bool,
}

/// Plans `SELECT Id FROM … WHERE criteria` for a sharing rule: as the system, in UTC.
pub(crate) async fn plan_for_rule(
    app: &App,
    schema: &Schema,
    root: &Arc<ObjectDef>,
    text: &str,
) -> Result<QueryPlan> {
    let query = soql::parse(text).map_err(|e| malformed(e.to_string()))?;
    let fiscal_start = app.org_settings().await?.fiscal_year_start_month;
    let context = Context {
        today: Today::in_zone("UTC"),
        fields: Arc::new(FieldRules::default()),
    };
    Ok(plan_query(schema, root, &query, false, fiscal_start, &context)?.plan)
}

/// Plans an aggregate query as the system (no sharing, no field rules), in UTC: the roll-ups
/// of child records onto their parents. Its outputs are its select items, in order.
pub(crate) fn plan_system_grouped(
    schema: &Schema,
    root: &Arc<ObjectDef>,
    text: &str,
    fiscal_start: u8,
) -> Result<GroupPlan> {
    let query = soql::parse(text).map_err(|e| malformed(e.to_string()))?;
    let context = Context {
        today: Today::in_zone("UTC"),
        fields: Arc::new(FieldRules::default()),
    };
    Ok(plan_grouped(schema, root, &query, fiscal_start, &context)?.plan)
}

/// A field asked of a polymorphic parent: `Name` is the record's name whatever the object
/// calls it (a case's `CaseNumber`, a task's `Subject`), as Salesforce's Name object has it.
fn polymorphic_field<'o>(object: &'o ObjectDef, wanted: &str) -> Option<&'o FieldDef> {
    object.field(wanted).or_else(|| {
        wanted
            .eq_ignore_ascii_case("Name")
            .then(|| object.fields.iter().find(|f| f.name_field))
            .flatten()
    })
}

/// The object of a query's FROM.
pub(crate) fn object_named(schema: &Schema, name: &str) -> Result<Arc<ObjectDef>> {
    schema.object(name).cloned().ok_or_else(|| {
        AppError::one(
            ErrorCode::InvalidType,
            format!(
                "sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
            ),
        )
    })
}

/// Plans a query over `root`; `nested` is true for a child subquery (no deeper subqueries).
fn plan_query(
    schema: &Schema,
    root: &Arc<ObjectDef>,
    query: &soql::Query,
    nested: bool,
    fiscal_start: u8,
    context: &Context,
) -> Result<Planned> {
    let mut planner = Planner::new(schema, root, query, fiscal_start, context);
    let mut tree = Node::default();
    let mut count_only = false;
    let mut children = Vec::new();
    for item in &query.select {
        match item {
            SelectItem::Expr {
                expr: Expr::Field(path),
                alias: None,
            } => planner.select(&mut tree, path)?,
            SelectItem::Expr {
                expr: Expr::Function { name, args, .. },
                ..
            } if name.text.eq_ignore_ascii_case("COUNT")
                && args.is_empty()
                && query.select.len() == 1
                && !nested =>
            {
                count_only = true;
            }
            SelectItem::Fields { kind, .. } => {
                let wanted = kind.text.to_ascii_uppercase();
                let fields = planner.context.fields.clone();
                for field in root.fields.iter().filter(|f| {
                    !fields.hidden(&root.name, &f.name)
                        && match wanted.as_str() {
                            "CUSTOM" => f.custom,
                            "STANDARD" => !f.custom,
                            _ => true,
                        }
                }) {
                    let path = Path {
                        parts: vec![soql::Ident {
                            text: field.name.clone(),
                            span: soql::Span::default(),
                        }],
                        span: soql::Span::default(),
                    };
                    planner.select(&mut tree, &path)?;
                }
            }
            SelectItem::Expr {
                expr: Expr::Function { name, args, span },
                alias: None,
            } if name.text.eq_ignore_ascii_case("toLabel") => {
                let [Expr::Field(path)] = args.as_slice() else {
                    return Err(malformed(format!("toLabel takes one field at {span}")));
                };
                let (source, field) = planner.resolve(path)?;
                if source != 0
                    || !matches!(
                        field.field_type,
                        FieldType::Picklist | FieldType::MultiPicklist
                    )
                {
                    return Err(malformed(format!(
                        "toLabel takes a picklist field of {} at {span}",
                        root.name
                    )));
                }
                let column = planner.add_column(0, field.clone());
                tree.entries.push((
                    field.name.as_str().into(),
                    Entry::Label(column, Box::new(field)),
                ));
            }
            SelectItem::Subquery(sub) if !nested => {
                let relation = schema
                    .child_relationships(&root.name)
                    .iter()
                    .find(|c| c.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&sub.from.text)))
                    .cloned()
                    .ok_or_else(|| {
                        AppError::one(
                            ErrorCode::InvalidType,
                            format!("Didn't understand relationship '{}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name.", sub.from.text),
                        )
                    })?;
                let child_object = object_named(schema, &relation.child_object)?;
                let mut child =
                    plan_query(schema, &child_object, sub, true, fiscal_start, context)?;
                let link_field = child_object
                    .field(&relation.field)
                    .cloned()
                    .ok_or_else(|| malformed("the child relationship has no field"))?;
                // A hidden link would tell which parent each child belongs to.
                if context.fields.hidden(&child_object.name, &link_field.name) {
                    return Err(no_such_column(&sub.from.text, &root.name));
                }
                let link = Column {
                    source: 0,
                    field: link_field,
                };
                child.plan.columns.push(link.clone());
                let link_column = child.plan.columns.len() - 1;
                tree.entries.push((
                    relation
                        .name
                        .clone()
                        .unwrap_or_else(|| sub.from.text.clone())
                        .into(),
                    Entry::Children(children.len()),
                ));
                children.push(ChildQuery {
                    plan: child.plan,
                    tree: child.tree,
                    id_column: child.id_column,
                    link_column,
                    link,
                    limit: sub.limit,
                });
            }
            SelectItem::Subquery(sub) => {
                return Err(malformed(format!(
                    "subqueries cannot be nested at {}",
                    sub.span
                )));
            }
            SelectItem::Expr { expr, .. } => {
                return Err(malformed(format!(
                    "this function needs GROUP BY, or is not supported yet, at {}",
                    expr.span()
                )));
            }
            SelectItem::TypeOf {
                relationship,
                whens,
                otherwise,
                span,
            } => {
                let lookup = root
                    .fields
                    .iter()
                    .find(|f| {
                        f.relationship
                            .as_deref()
                            .is_some_and(|r| r.eq_ignore_ascii_case(&relationship.text))
                    })
                    .filter(|f| {
                        f.reference_to.len() > 1 && !context.fields.hidden(&root.name, &f.name)
                    })
                    .cloned()
                    .ok_or_else(|| {
                        malformed(format!(
                            "TYPEOF needs a polymorphic relationship of {}, not {} at {span}",
                            root.name, relationship.text
                        ))
                    })?;
                let single = |paths: &[Path]| -> Result<Vec<String>> {
                    paths
                        .iter()
                        .map(|p| match p.parts.as_slice() {
                            [field] => Ok(field.text.clone()),
                            _ => Err(malformed(format!(
                                "TYPEOF lists fields of the object itself at {}",
                                p.span
                            ))),
                        })
                        .collect()
                };
                let mut by_type = Vec::new();
                for (object, paths) in whens {
                    let target = lookup
                        .reference_to
                        .iter()
                        .find(|t| t.eq_ignore_ascii_case(&object.text))
                        .ok_or_else(|| {
                            malformed(format!(
                                "{} cannot be a {} at {}",
                                relationship.text, object.text, object.span
                            ))
                        })?;
                    by_type.push((target.clone(), single(paths)?));
                }
                let column = planner.add_column(0, lookup.clone());
                let name = lookup
                    .relationship
                    .clone()
                    .unwrap_or_else(|| lookup.name.clone());
                tree.entries.push((
                    name.into(),
                    Entry::Polymorphic {
                        id_column: column,
                        fields: single(otherwise)?,
                        by_type,
                    },
                ));
            }
        }
    }
    let filter = query
        .filter
        .as_ref()
        .map(|c| planner.condition(c))
        .transpose()?;
    let mut order = Vec::with_capacity(query.order_by.len());
    for item in &query.order_by {
        let (column, or_else) = match &item.expr {
            Expr::Field(path) if planner.polymorphic(path).is_some() => {
                planner.polymorphic_order(path)?
            }
            expr => (planner.column_of(expr)?, Vec::new()),
        };
        // Salesforce puts nulls first unless told otherwise, in either direction.
        order.push(Order {
            column,
            descending: item.descending,
            nulls_last: item.nulls_last.unwrap_or(false),
            or_else,
        });
    }
    let root_id = root
        .field("Id")
        .cloned()
        .ok_or_else(|| malformed("the object has no Id"))?;
    let id_column = planner.add_column(0, root_id);
    let Planner {
        sources, columns, ..
    } = planner;
    let plan = QueryPlan {
        sources,
        columns,
        filter,
        order,
        limit: None,
        offset: None,
        deleted: Deleted::Exclude,
        alias_base: 0,
        search: None,
        shared: None,
    };
    Ok(Planned {
        plan,
        tree,
        id_column,
        children,
        count_only,
    })
}

impl App {
    /// Runs a SOQL query and returns one page of its result.
    pub async fn query(
        &self,
        caller: &Caller,
        text: &str,
        options: QueryOptions,
    ) -> Result<QueryPage> {
        let query = soql::parse(text).map_err(|e| malformed(e.to_string()))?;
        let schema = self.schema().await?;
        let root = object_named(&schema, &query.from.text)?;
        if is_aggregate(&query) {
            let fiscal_start = self.org_settings().await?.fiscal_year_start_month;
            let Grouped {
                mut plan,
                names,
                slots,
                sets,
            } = plan_grouped(
                &schema,
                &root,
                &query,
                fiscal_start,
                &self.plan_context(caller).await?,
            )?;
            let names: Vec<Arc<str>> = names.iter().map(|n| n.as_str().into()).collect();
            self.require_plan(caller, &plan.base).await?;
            self.restrict_plan(caller, &mut plan.base).await?;
            if options.include_deleted {
                plan.base.deleted = Deleted::Include;
            }
            let mut rows: Vec<Row> = Vec::new();
            // The ORDER BY values of each row, for sorting rows of every grouping set together.
            let mut sort_keys: Vec<Vec<Value>> = Vec::new();
            let all_keys: Vec<usize> = (0..plan.group_by.len()).collect();
            let grouping_sets = sets.is_some();
            for set in sets.unwrap_or_else(|| vec![all_keys.clone()]) {
                // Keys rolled up in this set are not selected; they read as null.
                let rolled: Vec<&Output> = all_keys
                    .iter()
                    .filter(|k| !set.contains(k))
                    .map(|&k| &plan.group_by[k])
                    .collect();
                let kept: Vec<Option<usize>> = {
                    let mut next = 0;
                    plan.outputs
                        .iter()
                        .map(|o| {
                            if rolled.iter().any(|r| same_output(r, o)) {
                                None
                            } else {
                                next += 1;
                                Some(next - 1)
                            }
                        })
                        .collect()
                };
                let mut level = plan.clone();
                if grouping_sets {
                    // LIMIT and OFFSET apply to the whole result, not to each grouping set.
                    // So does ORDER BY, sorted below across the sets (positions in the
                    // outputs would shift per set anyway).
                    level.limit = None;
                    level.offset = None;
                    level.order = Vec::new();
                }
                level.outputs = plan
                    .outputs
                    .iter()
                    .filter(|o| !rolled.iter().any(|r| same_output(r, o)))
                    .cloned()
                    .collect();
                level.group_by = set.iter().map(|&k| plan.group_by[k].clone()).collect();
                if level.outputs.is_empty() {
                    // Every selected key is rolled up: SQL still needs something to select.
                    level.outputs.push(Output::Aggregate {
                        function: Aggregate::Count,
                        column: None,
                    });
                }
                for values in self.store().group_rows(&level).await? {
                    if grouping_sets {
                        sort_keys.push(
                            plan.order
                                .iter()
                                .map(|(position, _, _)| {
                                    kept.get(*position)
                                        .copied()
                                        .flatten()
                                        .and_then(|j| values.get(j).cloned())
                                        .unwrap_or(Value::Null)
                                })
                                .collect(),
                        );
                    }
                    let cells = slots
                        .iter()
                        .zip(&names)
                        .map(|(slot, name)| {
                            let value = match slot {
                                Slot::Output(i) => kept
                                    .get(*i)
                                    .copied()
                                    .flatten()
                                    .and_then(|j| values.get(j).cloned())
                                    .unwrap_or(Value::Null),
                                Slot::Grouping(key) => Value::Decimal(Decimal::from(i64::from(
                                    rolled.iter().any(|r| same_output(r, key)),
                                ))),
                            };
                            (name.clone(), Cell::Value(value))
                        })
                        .collect();
                    rows.push(Row {
                        object: "AggregateResult".into(),
                        id: None,
                        cells,
                    });
                }
            }
            if grouping_sets && !plan.order.is_empty() {
                let mut keyed: Vec<(Vec<Value>, Row)> = sort_keys.into_iter().zip(rows).collect();
                keyed.sort_by(|(a, _), (b, _)| order_values(&plan.order, a, b));
                rows = keyed.into_iter().map(|(_, row)| row).collect();
            }
            if grouping_sets {
                let skip = plan.offset.unwrap_or(0) as usize;
                let take = plan.limit.map_or(usize::MAX, |l| l as usize);
                rows = rows.into_iter().skip(skip).take(take).collect();
            }
            rows.truncate(MAX_PAGE);
            return Ok(QueryPage {
                object: "AggregateResult".into(),
                total_size: rows.len() as u64,
                counted: true,
                rows,
                next_start: None,
                next_key: None,
            });
        }
        self.query_records(caller, &schema, &root, &query, options, |_| {})
            .await
    }

    /// Runs a query that is not an aggregate and returns one page of records. `refine`
    /// adjusts the plan before it runs (SOSL adds its full-text search there).
    pub(crate) async fn query_records(
        &self,
        caller: &Caller,
        schema: &Schema,
        root: &Arc<ObjectDef>,
        query: &soql::Query,
        options: QueryOptions,
        refine: impl FnOnce(&mut QueryPlan),
    ) -> Result<QueryPage> {
        let fiscal_start = self.org_settings().await?.fiscal_year_start_month;
        let Planned {
            mut plan,
            tree,
            id_column,
            children,
            count_only,
        } = plan_query(
            schema,
            root,
            query,
            false,
            fiscal_start,
            &self.plan_context(caller).await?,
        )?;
        refine(&mut plan);
        self.require_plan(caller, &plan).await?;
        self.restrict_plan(caller, &mut plan).await?;
        let mut children = children;
        for child in &mut children {
            self.require_plan(caller, &child.plan).await?;
            self.restrict_child_plan(caller, &mut child.plan).await?;
        }
        if options.include_deleted {
            plan.deleted = Deleted::Include;
        }
        let offset = query.offset.unwrap_or(0);
        if offset > MAX_OFFSET {
            return Err(malformed(format!(
                "Maximum SOQL offset allowed is {MAX_OFFSET}"
            )));
        }
        let limit = query.limit.unwrap_or(u64::MAX);
        if count_only {
            // The whole result's size: the matching rows, less OFFSET, at most LIMIT.
            let total = self
                .store()
                .query_count(&plan)
                .await?
                .saturating_sub(offset)
                .min(limit);
            return Ok(QueryPage {
                object: root.name.clone(),
                rows: Vec::new(),
                total_size: total,
                counted: true,
                next_start: None,
                next_key: None,
            });
        }
        let page = options.page_size.clamp(1, MAX_PAGE) as u64;
        let start = options.start.min(limit);
        let keyset = crate::keyset::prepare(&mut plan);
        // The count (first page only) is of the whole result, before a key narrows it.
        let counted = plan.clone();
        let by_key = match (&keyset, options.after.as_deref()) {
            (Some(keyset), Some(key)) if start > 0 => {
                if !keyset.start_after(&mut plan, key) {
                    return Err(AppError::one(
                        ErrorCode::InvalidQueryLocator,
                        "invalid query locator",
                    ));
                }
                true
            }
            _ => false,
        };
        // One row more than a page tells whether there is more; only then, and only on the
        // first page, is the whole result counted.
        plan.offset = Some(if by_key { 0 } else { offset + start });
        plan.limit = Some(page.saturating_add(1).min(limit - start));
        let mut raw = self.store().query_rows(&plan).await?;
        let more = raw.len() as u64 > page;
        raw.truncate(usize::try_from(page).unwrap_or(usize::MAX));
        let take = raw.len() as u64;
        let next_key = match (&keyset, raw.last()) {
            (Some(keyset), Some(last)) if more => keyset.key_of(last),
            _ => None,
        };
        let (total, counted) = match options.known_total {
            Some(total) if start > 0 => (total, true),
            _ if !more => (start + take, true),
            // A count the tallies answer costs no more than the page: taken even when a list
            // did not ask for it.
            _ if !options.count && !counted.counts_cheaply() => (start + take, false),
            _ => {
                let total = self.store().query_count(&counted).await?;
                (total.saturating_sub(offset).min(limit), true)
            }
        };
        let object: Arc<str> = root.name.as_str().into();
        let mut rows: Vec<Row> = raw
            .iter()
            .map(|values| assemble(&object, &tree, values, Some(id_column), caller.lang))
            .collect();
        self.resolve_polymorphic(caller, schema, &tree, &mut rows)
            .await?;
        // Each child subquery is one more query for the whole page, never one per row.
        let ids: Vec<Value> = rows
            .iter()
            .filter_map(|r| r.id.clone())
            .map(Value::Id)
            .collect();
        for (index, child) in children.into_iter().enumerate() {
            let mut by_parent = self.child_rows(&child, &ids, caller.lang).await?;
            let Some(position) = tree
                .entries
                .iter()
                .position(|(_, e)| matches!(e, Entry::Children(i) if *i == index))
            else {
                continue;
            };
            for row in &mut rows {
                // Each parent's rows move to it (a page holds each parent once).
                let found = row.id.as_ref().and_then(|id| by_parent.remove(id));
                row.cells[position].1 = Cell::Children(found.filter(|rows| !rows.is_empty()));
            }
        }
        let next = start + take;
        Ok(QueryPage {
            object: root.name.clone(),
            rows,
            total_size: total,
            counted,
            next_start: more.then_some(next),
            next_key,
        })
    }

    /// Today in the caller's time zone (the org's, for a caller without one).
    pub(crate) async fn today_for(&self, caller: &Caller) -> Result<Today> {
        Ok(match &caller.time_zone {
            Some(zone) => Today::in_zone(zone),
            None => Today::in_zone(&self.org_settings().await?.time_zone),
        })
    }

    /// What planning needs to know of the caller: their today, and the fields hidden from them.
    pub(crate) async fn plan_context(&self, caller: &Caller) -> Result<Context> {
        Ok(Context {
            today: self.today_for(caller).await?,
            fields: self.access(caller).await?.fields.clone(),
        })
    }

    /// Fills the polymorphic parents of a page: one query per object the ids point to.
    async fn resolve_polymorphic(
        &self,
        caller: &Caller,
        schema: &Schema,
        tree: &Node,
        rows: &mut [Row],
    ) -> Result<()> {
        for (position, (_, entry)) in tree.entries.iter().enumerate() {
            let Entry::Polymorphic {
                fields: common,
                by_type,
                ..
            } = entry
            else {
                continue;
            };
            let mut by_object: HashMap<String, Vec<Value>> = HashMap::new();
            for row in rows.iter() {
                let Some((_, Cell::Parent(Some(stub)))) = row.cells.get(position) else {
                    continue;
                };
                let Some(id) = stub.id.clone() else { continue };
                if let Some(object) = schema.object_by_prefix(id.key_prefix()) {
                    by_object
                        .entry(object.name.clone())
                        .or_default()
                        .push(Value::Id(id));
                }
            }
            let mut found: HashMap<RecordId, Row> = HashMap::new();
            let access = self.access(caller).await?;
            for (object_name, ids) in by_object {
                let Some(object) = schema.object(&object_name) else {
                    continue;
                };
                // A parent of an object the caller may not read stays null.
                if !access.object(object).read {
                    continue;
                }
                let fields = by_type
                    .iter()
                    .find(|(t, _)| t == &object.name)
                    .map_or(common, |(_, f)| f);
                // The fields the object has; `Type` is the object's name; others stay null.
                let present: Vec<FieldDef> = fields
                    .iter()
                    .filter_map(|f| polymorphic_field(object, f).cloned())
                    .filter(|f| !access.fields.hidden(&object.name, &f.name))
                    .collect();
                let mut columns = vec![Column {
                    source: 0,
                    field: object
                        .field("Id")
                        .cloned()
                        .ok_or_else(|| malformed("no Id"))?,
                }];
                columns.extend(present.iter().map(|f| Column {
                    source: 0,
                    field: f.clone(),
                }));
                for chunk in ids.chunks(1000) {
                    let mut plan = QueryPlan {
                        sources: vec![Source {
                            object: object.clone(),
                            parent_of: None,
                            visible: None,
                        }],
                        columns: columns.clone(),
                        filter: Some(Cond::In {
                            column: columns[0].clone(),
                            values: chunk.to_vec(),
                        }),
                        order: Vec::new(),
                        limit: None,
                        offset: None,
                        deleted: Deleted::Include,
                        alias_base: 0,
                        search: None,
                        shared: None,
                    };
                    // A parent the caller may not see reads as null, as a hidden joined one does.
                    self.restrict_plan(caller, &mut plan).await?;
                    for values in self.store().query_rows(&plan).await? {
                        let Some(Value::Id(id)) = values.first().cloned() else {
                            continue;
                        };
                        let cells = fields
                            .iter()
                            .map(|wanted| {
                                let value = if wanted.eq_ignore_ascii_case("Type") {
                                    Value::Text(object.name.clone())
                                } else {
                                    polymorphic_field(object, wanted)
                                        .and_then(|w| present.iter().position(|f| f.name == w.name))
                                        .and_then(|i| values.get(i + 1).cloned())
                                        .unwrap_or(Value::Null)
                                };
                                let name = object
                                    .field(wanted)
                                    .map_or_else(|| wanted.clone(), |f| f.name.clone());
                                (
                                    if wanted.eq_ignore_ascii_case("Type") {
                                        "Type".into()
                                    } else {
                                        name.into()
                                    },
                                    Cell::Value(value),
                                )
                            })
                            .collect();
                        found.insert(
                            id.clone(),
                            Row {
                                object: object.name.as_str().into(),
                                id: Some(id),
                                cells,
                            },
                        );
                    }
                }
            }
            for row in rows.iter_mut() {
                if let Some((_, cell)) = row.cells.get_mut(position)
                    && let Cell::Parent(Some(stub)) = cell
                {
                    let resolved = stub.id.as_ref().and_then(|id| found.get(id)).cloned();
                    *cell = Cell::Parent(resolved);
                }
            }
        }
        Ok(())
    }

    /// The rows of a child subquery for all `parents`, grouped by parent, each group cut to
    /// the subquery's LIMIT.
    async fn child_rows(
        &self,
        child: &ChildQuery,
        parents: &[Value],
        lang: model::Lang,
    ) -> Result<HashMap<RecordId, Vec<Row>>> {
        let mut grouped: HashMap<RecordId, Vec<Row>> = HashMap::new();
        let object: Arc<str> = child
            .plan
            .sources
            .first()
            .map_or("", |s| s.object.name.as_str())
            .into();
        // A page holds at most MAX_PAGE parents: one query for the whole page.
        for chunk in parents.chunks(MAX_PAGE) {
            let mut plan = child.plan.clone();
            let within = Cond::In {
                column: child.link.clone(),
                values: chunk.to_vec(),
            };
            plan.filter = Some(match plan.filter.take() {
                Some(filter) => Cond::And(vec![within, filter]),
                None => within,
            });
            for values in self.store().query_rows(&plan).await? {
                let Some(Value::Id(parent)) = values.get(child.link_column).cloned() else {
                    continue;
                };
                let rows = grouped.entry(parent).or_default();
                if child.limit.is_some_and(|limit| rows.len() as u64 >= limit) {
                    continue;
                }
                rows.push(assemble(
                    &object,
                    &child.tree,
                    &values,
                    Some(child.id_column),
                    lang,
                ));
            }
        }
        Ok(grouped)
    }
}

/// What `explain` tells about a query: how many rows it matches among how many, whether an
/// index can lead, which fields the filter reads, and the SQL it runs.
#[derive(Debug, Clone)]
pub struct Explain {
    pub object: String,
    pub cardinality: u64,
    pub object_cardinality: u64,
    pub leading_index: bool,
    pub fields: Vec<String>,
    pub sql: String,
}

/// Fields compared for equality at the top of a filter, and whether one is indexed.
fn leading_fields(cond: &Cond, out: &mut Vec<(String, bool)>) {
    match cond {
        Cond::And(parts) => parts.iter().for_each(|p| leading_fields(p, out)),
        Cond::Compare {
            column,
            op: Compare::Eq,
            ..
        }
        | Cond::In { column, .. } => {
            let f = &column.field;
            let indexed = column.source == 0
                && (matches!(f.field_type, FieldType::Id | FieldType::Reference)
                    || f.unique
                    || f.external_id
                    || f.name_field);
            out.push((f.name.clone(), indexed));
        }
        _ => {}
    }
}

impl App {
    /// Explains a SOQL query without returning its rows (`/query?explain=`).
    pub async fn explain(&self, caller: &Caller, text: &str) -> Result<Explain> {
        let query = soql::parse(text).map_err(|e| malformed(e.to_string()))?;
        let schema = self.schema().await?;
        let root = object_named(&schema, &query.from.text)?;
        let fiscal_start = self.org_settings().await?.fiscal_year_start_month;
        let context = self.plan_context(caller).await?;
        let plan = if is_aggregate(&query) {
            plan_grouped(&schema, &root, &query, fiscal_start, &context)?
                .plan
                .base
        } else {
            plan_query(&schema, &root, &query, false, fiscal_start, &context)?.plan
        };
        self.require_plan(caller, &plan).await?;
        // The object's cardinality is of the records the caller may see, too.
        let mut everything = plan.clone();
        everything.filter = None;
        everything.sources.truncate(1);
        self.restrict_plan(caller, &mut everything).await?;
        let mut plan = plan;
        self.restrict_plan(caller, &mut plan).await?;
        let mut leading = Vec::new();
        if let Some(filter) = &plan.filter {
            leading_fields(filter, &mut leading);
        }
        Ok(Explain {
            object: root.name.clone(),
            cardinality: self.store().query_count(&plan).await?,
            object_cardinality: self.store().query_count(&everything).await?,
            leading_index: leading.iter().any(|(_, indexed)| *indexed),
            fields: leading.into_iter().map(|(name, _)| name).collect(),
            sql: plan.to_sql(self.store().dialect()).text,
        })
    }
}
