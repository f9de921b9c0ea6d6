//! The query plan SOQL compiles to: a root object, the parents its paths reach (each a LEFT
//! JOIN, only the ones needed), the columns to read, a typed condition tree, order, limit and
//! offset; compiled here to SQL for either backend, every value bound.

use model::{FieldDef, FieldType, ObjectDef, RecordId, Value};

use crate::plan::Deleted;
use crate::search::Search;
use crate::sql::{Col, Dialect, Param, Sql, bool_literal};

/// A table in the query: the root (index 0) or a parent reached through a lookup.
#[derive(Debug, Clone)]
pub struct Source {
    /// Shared with the schema: plans are made per query, and objects are large.
    pub object: std::sync::Arc<ObjectDef>,
    /// For a parent: the source it hangs off and the lookup field there.
    pub parent_of: Option<(usize, FieldDef)>,
    /// For a parent: which of its records the caller may see (the others read as null).
    pub visible: Option<Cond>,
}

/// A column of one source.
#[derive(Debug, Clone)]
pub struct Column {
    pub source: usize,
    pub field: FieldDef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A condition on columns, with values already typed for their fields.
#[derive(Debug, Clone)]
pub enum Cond {
    Compare {
        column: Column,
        op: Compare,
        value: Value,
    },
    /// A date part of a column compared with a value (`CALENDAR_YEAR(CloseDate) = 2024`).
    DatePart {
        part: DatePart,
        column: Column,
        op: Compare,
        value: Value,
    },
    /// A multi-select picklist holds `value` among its `;`-separated values.
    Holds {
        column: Column,
        value: String,
    },
    /// `value` is a SQL LIKE pattern (`%`, `_`, escaped with `\`).
    Like {
        column: Column,
        pattern: String,
    },
    /// The column's value is (or, `negated`, is not) among a nested query's single column.
    InQuery {
        column: Column,
        plan: Box<QueryPlan>,
        negated: bool,
    },
    In {
        column: Column,
        values: Vec<Value>,
    },
    /// The column (a record id) is among the records a user has share rows for.
    Shared {
        column: Column,
        with: SharedWith,
    },
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

/// The records of an object a user may read, kept as share rows (see `shares`).
#[derive(Debug, Clone)]
pub struct SharedWith {
    pub object: std::sync::Arc<ObjectDef>,
    pub user: RecordId,
}

/// One ORDER BY item.
#[derive(Debug, Clone)]
pub struct Order {
    pub column: Column,
    pub descending: bool,
    pub nulls_last: bool,
    /// Columns that stand in, in turn, where `column` is null: the same field of each other
    /// object a polymorphic lookup can point to (`ORDER BY What.Name`). Usually empty.
    pub or_else: Vec<Column>,
}

/// A compiled SOQL query over one object and its parents.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    pub sources: Vec<Source>,
    pub columns: Vec<Column>,
    pub filter: Option<Cond>,
    pub order: Vec<Order>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub deleted: Deleted,
    /// Table aliases count from here (`t0`, or `t50` for a plan nested in another).
    pub alias_base: usize,
    /// A full-text search the root's records must match (SOSL); without an ORDER BY, the
    /// best matches come first.
    pub search: Option<Search>,
    /// The root's records are only those this user has share rows for: an inner join to the
    /// share table, whose index yields a user's records in name order.
    pub shared: Option<SharedWith>,
}

/// The stored form of a value the picklist defines (matched case-insensitively, as SOQL
/// compares). Writes store a defined value in its defined case, and adding a value to a set
/// converts the records holding it in another case (`app` setup), so `industry = 'Energy'`
/// finds exactly what `LOWER(industry) = 'energy'` would, with no LOWER per row (which
/// PostgreSQL computes slowly) and through a plain index.
pub(crate) fn canonical_picklist_value(field: &FieldDef, value: &Value) -> Option<String> {
    if field.field_type != FieldType::Picklist {
        return None;
    }
    let Value::Text(text) = value else {
        return None;
    };
    field.picklist_value(text).map(|v| v.value.clone())
}

/// Text-like fields compare case-insensitively in SOQL.
fn is_text(field: &FieldDef) -> bool {
    matches!(
        field.field_type,
        FieldType::Text
            | FieldType::TextArea
            | FieldType::LongTextArea
            | FieldType::Email
            | FieldType::Phone
            | FieldType::Url
            | FieldType::Picklist
            | FieldType::MultiPicklist
            | FieldType::AutoNumber
    )
}

/// An ORDER BY item's direction and the place of its nulls.
fn write_direction(sql: &mut Sql, order: &Order) {
    sql.push(if order.descending { " DESC" } else { " ASC" });
    // The root's own id is never null, so it needs no NULLS clause; without one,
    // PostgreSQL's plain ascending index on it (nulls last) serves the order, as
    // the tie-break after a sorted column of every keyset page.
    let never_null = order.or_else.is_empty()
        && order.column.source == 0
        && order.column.field.field_type == FieldType::Id;
    if !never_null {
        sql.push(if order.nulls_last {
            " NULLS LAST"
        } else {
            " NULLS FIRST"
        });
    }
}

/// Which of the root's share rows a read joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ShareRows {
    All,
    /// Those of records the user does not own (the others are read by owner).
    NotOwned,
}

fn alias(base: usize, source: usize) -> String {
    format!("t{}", base + source)
}

fn share_alias(base: usize) -> String {
    format!("s{base}")
}

impl QueryPlan {
    /// The column kinds of a row, in `columns` order.
    pub fn cols(&self) -> Vec<Col> {
        self.columns.iter().map(|c| Col::of(&c.field)).collect()
    }

    fn column(&self, sql: &mut Sql, column: &Column) {
        if self.reads_share_row(column) && column.field.field_type == FieldType::Id {
            // The same value, read from the share row: the index then also covers id order.
            sql.ident(&share_alias(self.alias_base)).push(".record_id");
            return;
        }
        sql.ident(&alias(self.alias_base, column.source))
            .push(".")
            .ident(&column.field.column);
    }

    /// Whether a root column has a copy in the joined share row.
    fn reads_share_row(&self, column: &Column) -> bool {
        self.shared.is_some() && column.source == 0
    }

    /// A text column lowered, as SOQL compares and sorts text; the root's name is read from
    /// the share row's sort key when the share table is joined.
    fn lowered(&self, sql: &mut Sql, column: &Column) {
        if self.reads_share_row(column) && column.field.name_field {
            sql.ident(&share_alias(self.alias_base)).push(".sort_key");
            return;
        }
        sql.push("LOWER(");
        self.column(sql, column);
        sql.push(")");
    }

    /// For a grouped read: no search ranks its rows.
    fn tables_and_conditions(&self, sql: &mut Sql) {
        self.tables_and_conditions_for(sql, None, ShareRows::All, false);
    }

    /// Whether the rows come best search match first (a search without an ORDER BY): then
    /// the search's window is ranked as it is joined (`Search::write_join`).
    fn ranked_by_search(&self) -> bool {
        self.search.is_some() && self.order.is_empty()
    }

    /// The sources a condition reads (not those of plans nested in it).
    fn sources_read(cond: &Cond, out: &mut Vec<usize>) {
        match cond {
            Cond::Compare { column, .. }
            | Cond::DatePart { column, .. }
            | Cond::Holds { column, .. }
            | Cond::Like { column, .. }
            | Cond::InQuery { column, .. }
            | Cond::In { column, .. }
            | Cond::Shared { column, .. } => out.push(column.source),
            Cond::And(parts) | Cond::Or(parts) => {
                for part in parts {
                    Self::sources_read(part, out);
                }
            }
            Cond::Not(inner) => Self::sources_read(inner, out),
        }
    }

    /// The parents a count must join: those its filter reads, and the parents they hang off.
    /// (A parent is a LEFT JOIN on its id: joined or not, the root's rows are the same.)
    fn joined_for_count(&self) -> Vec<bool> {
        let mut needed = vec![false; self.sources.len()];
        let mut read = Vec::new();
        if let Some(filter) = &self.filter {
            Self::sources_read(filter, &mut read);
        }
        for mut source in read {
            while source < needed.len() && !needed[source] {
                needed[source] = true;
                match &self.sources[source].parent_of {
                    Some((parent, _)) => source = *parent,
                    None => break,
                }
            }
        }
        needed
    }

    fn tables_and_conditions_for(
        &self,
        sql: &mut Sql,
        only: Option<&[bool]>,
        rows: ShareRows,
        ranked: bool,
    ) {
        let Some(root) = self.sources.first() else {
            return;
        };
        sql.push(" FROM ")
            .ident(&root.object.table)
            .push(" ")
            .ident(&alias(self.alias_base, 0));
        if let Some(shared) = &self.shared {
            let share = share_alias(self.alias_base);
            sql.push(" JOIN ")
                .ident(&crate::shares::table(&shared.object))
                .push(" ")
                .ident(&share)
                .push(" ON ")
                .ident(&share)
                .push(".user_id = ")
                .id_param(&shared.user)
                .push(" AND ")
                .ident(&share)
                .push(".record_id = ")
                .ident(&alias(self.alias_base, 0))
                .push(".id");
            if rows == ShareRows::NotOwned {
                // A constant, not a parameter: PostgreSQL's plan for the prepared statement
                // then knows which part of the user's range it reads (see `to_sql`).
                let not_owned = bool_literal(sql.dialect, false);
                sql.push(" AND ")
                    .ident(&share)
                    .push(".owned = ")
                    .push(not_owned);
            }
            if sql.dialect == Dialect::Sqlite {
                // One lookup by rowid instead of two through the id index (see
                // `shares::RecordFacts::rowid`); the id test above stays.
                sql.push(" AND ")
                    .ident(&alias(self.alias_base, 0))
                    .push(".rowid = ")
                    .ident(&share)
                    .push(".record_key");
            }
        }
        if let Some(search) = &self.search {
            search.write_join(sql, &root.object, &alias(self.alias_base, 0), ranked);
        }
        for (i, source) in self.sources.iter().enumerate().skip(1) {
            let Some((parent_of, field)) = &source.parent_of else {
                continue;
            };
            if only.is_some_and(|only| !only.get(i).copied().unwrap_or(true)) {
                continue;
            }
            sql.push(" LEFT JOIN ")
                .ident(&source.object.table)
                .push(" ")
                .ident(&alias(self.alias_base, i))
                .push(" ON ");
            sql.ident(&alias(self.alias_base, i))
                .push(".")
                .ident("id")
                .push(" = ")
                .ident(&alias(self.alias_base, *parent_of))
                .push(".")
                .ident(&field.column);
            match &source.visible {
                // A parent's share rows, probed for each joined row: a page reads a few
                // hundred parents, and gathering every record the user may read first
                // would cost more than probing those.
                Some(Cond::Shared { column, with }) => {
                    sql.push(" AND ");
                    self.share_probe(sql, column, with);
                }
                Some(visible) => {
                    sql.push(" AND ");
                    self.condition(sql, visible);
                }
                None => {}
            }
        }
        let mut clauses = 0;
        if let Some(deleted) = self.deleted.is_deleted() {
            let deleted = bool_literal(sql.dialect, deleted);
            sql.push(" WHERE ")
                .ident(&alias(self.alias_base, 0))
                .push(".")
                .ident("isdeleted")
                .push(" = ")
                // Our own constant, written out: the planner then knows which rows it reads
                // (SQLite ran the two-parent-paths query 4% faster than with it bound).
                .push(deleted);
            clauses += 1;
        }
        if let Some(filter) = &self.filter {
            sql.push(if clauses == 0 { " WHERE " } else { " AND " });
            self.condition(sql, filter);
        }
    }

    /// A part of a date or datetime column, as an integer (a date for DAY_ONLY). SQLite keeps
    /// dates as `YYYY-MM-DD…` text, PostgreSQL as DATE/TIMESTAMPTZ (read in UTC).
    pub fn date_part(&self, sql: &mut Sql, part: DatePart, column: &Column) {
        let sqlite = sql.dialect == Dialect::Sqlite;
        let text = |sql: &mut Sql, from: usize, length: usize| {
            sql.push("CAST(SUBSTR(");
            self.column(sql, column);
            sql.push(&format!(", {from}, {length}) AS INTEGER)"));
        };
        let extract = |sql: &mut Sql, what: &str| {
            sql.push(&format!("CAST(EXTRACT({what} FROM "));
            if column.field.field_type == FieldType::DateTime {
                sql.push("(");
                self.column(sql, column);
                sql.push(" AT TIME ZONE 'UTC')");
            } else {
                self.column(sql, column);
            }
            sql.push(") AS BIGINT)");
        };
        let month = |sql: &mut Sql| {
            if sqlite {
                text(sql, 6, 2)
            } else {
                extract(sql, "MONTH")
            }
        };
        let year = |sql: &mut Sql| {
            if sqlite {
                text(sql, 1, 4)
            } else {
                extract(sql, "YEAR")
            }
        };
        match part {
            DatePart::CalendarYear => year(sql),
            DatePart::CalendarMonth => month(sql),
            DatePart::CalendarQuarter => {
                sql.push("((");
                month(sql);
                sql.push(" + 2) / 3)");
            }
            DatePart::DayInMonth if sqlite => text(sql, 9, 2),
            DatePart::DayInMonth => extract(sql, "DAY"),
            DatePart::HourInDay if sqlite => text(sql, 12, 2),
            DatePart::HourInDay => extract(sql, "HOUR"),
            DatePart::DayInWeek if sqlite => {
                sql.push("(CAST(STRFTIME('%w', SUBSTR(");
                self.column(sql, column);
                sql.push(", 1, 10)) AS INTEGER) + 1)");
            }
            DatePart::DayInWeek => {
                sql.push("(");
                extract(sql, "DOW");
                sql.push(" + 1)");
            }
            DatePart::DayInYear if sqlite => {
                sql.push("CAST(STRFTIME('%j', SUBSTR(");
                self.column(sql, column);
                sql.push(", 1, 10)) AS INTEGER)");
            }
            DatePart::DayInYear => extract(sql, "DOY"),
            DatePart::DayOnly if sqlite => {
                sql.push("SUBSTR(");
                self.column(sql, column);
                sql.push(", 1, 10)");
            }
            DatePart::DayOnly => {
                sql.push("CAST((");
                self.column(sql, column);
                sql.push(" AT TIME ZONE 'UTC') AS DATE)");
            }
            DatePart::FiscalMonth(start) => {
                // Months since the fiscal year began, counted from 1.
                sql.push("(((");
                month(sql);
                sql.push(&format!(" - {start} + 12) % 12) + 1)"));
            }
            DatePart::FiscalQuarter(start) => {
                sql.push("((((");
                month(sql);
                sql.push(&format!(" - {start} + 12) % 12) / 3) + 1)"));
            }
            DatePart::FiscalYear(start) => {
                // Named by the calendar year the fiscal year ends in.
                sql.push("(");
                year(sql);
                if start > 1 {
                    sql.push(" + CASE WHEN ");
                    month(sql);
                    sql.push(&format!(" >= {start} THEN 1 ELSE 0 END"));
                }
                sql.push(")");
            }
        }
    }

    /// `SELECT columns FROM … WHERE … ORDER BY … LIMIT … OFFSET …`.
    pub fn to_sql(&self, dialect: Dialect) -> Sql {
        let mut sql = Sql::new(dialect);
        match self.owned_part() {
            Some(owned) => self.write_in_two_parts(&mut sql, &owned),
            None => self.write_select(&mut sql),
        }
        sql
    }

    /// Writes the SELECT into `sql` (also inside another statement: parameters keep counting).
    pub fn write_select(&self, sql: &mut Sql) {
        sql.push("SELECT ");
        self.write_columns(sql, false);
        self.tables_and_conditions_for(sql, None, ShareRows::All, self.ranked_by_search());
        self.write_order(sql);
        sql.limit_offset(self.limit, self.offset);
    }

    /// The part of a sorted read of the root's share rows that the user owns: the same plan
    /// without the share rows, filtered by `OwnerId = user`, which reads the records' own
    /// indexes (`(OwnerId, LOWER(name), id)` for a list by name) as an administrator's list
    /// does, with no lookup of each record by id. `None` when the plan reads no share rows in
    /// order.
    fn owned_part(&self) -> Option<QueryPlan> {
        let shared = self.shared.as_ref()?;
        if self.order.is_empty() || self.search.is_some() {
            return None;
        }
        let owner = self.sources.first()?.object.field("OwnerId")?.clone();
        let mine = Cond::Compare {
            column: Column {
                source: 0,
                field: owner,
            },
            op: Compare::Eq,
            value: Value::Id(shared.user.clone()),
        };
        let mut owned = self.clone();
        owned.shared = None;
        owned.filter = Some(match owned.filter.take() {
            Some(filter) => Cond::And(vec![mine, filter]),
            None => mine,
        });
        Some(owned)
    }

    /// A sorted read of share rows as two sorted parts, each cut to the rows the page could
    /// need, merged: the records the user owns (`owned`) and the others, through the share
    /// rows not marked owned. A rep's own records are most of what they read; through the
    /// share rows, each would cost a lookup by id that an administrator's index walk does not
    /// make (measured on PostgreSQL: a rep's Energy accounts by name took 3.9 times an
    /// administrator's). Each part carries its sort keys as extra columns for the merge.
    ///
    /// The limits are numbers in the text (`Sql::limit_offset`), so PostgreSQL's generic plan
    /// for the statement is this merge of two index walks, each stopping at the limit, which
    /// suits any user; while the limit was a parameter it planned every read (0.64 ms of
    /// planning beside 0.82 ms of running, for a rep's first 200 by name).
    fn write_in_two_parts(&self, sql: &mut Sql, owned: &QueryPlan) {
        let needed = self
            .limit
            .map(|limit| limit.saturating_add(self.offset.unwrap_or(0)));
        let parts = [(owned, ShareRows::All), (self, ShareRows::NotOwned)];
        for (i, (part, rows)) in parts.into_iter().enumerate() {
            if i > 0 {
                sql.push(" UNION ALL ");
            }
            sql.push("SELECT * FROM (SELECT ");
            part.write_columns(sql, true);
            part.tables_and_conditions_for(sql, None, rows, part.ranked_by_search());
            part.write_order(sql);
            sql.limit_offset(needed, None);
            sql.push(") ").push(&format!("p{i}"));
        }
        sql.push(" ORDER BY ");
        for (i, order) in self.order.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push(&(self.columns.len() + i + 1).to_string());
            write_direction(sql, order);
        }
        sql.limit_offset(self.limit, self.offset);
    }

    /// The select list; with `keys`, named `c0…`, followed by the sort keys (`k0…`).
    fn write_columns(&self, sql: &mut Sql, keys: bool) {
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            self.column(sql, column);
            if keys {
                sql.push(&format!(" AS c{i}"));
            }
        }
        if keys {
            for (i, order) in self.order.iter().enumerate() {
                sql.push(", ");
                self.write_order_key(sql, order);
                sql.push(&format!(" AS k{i}"));
            }
        }
    }

    fn write_order(&self, sql: &mut Sql) {
        if let (Some(search), true) = (&self.search, self.ranked_by_search()) {
            sql.push(" ORDER BY ");
            search.write_rank_order(sql);
        }
        if !self.order.is_empty() {
            sql.push(" ORDER BY ");
            for (i, order) in self.order.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                self.write_order_key(sql, order);
                write_direction(sql, order);
            }
        }
    }

    /// What an ORDER BY item sorts by.
    fn write_order_key(&self, sql: &mut Sql, order: &Order) {
        if !order.or_else.is_empty() {
            sql.push("COALESCE(");
        }
        for (k, column) in std::iter::once(&order.column)
            .chain(&order.or_else)
            .enumerate()
        {
            if k > 0 {
                sql.push(", ");
            }
            if is_text(&column.field) {
                // Text sorts case-insensitively in SOQL.
                self.lowered(sql, column);
            } else {
                self.column(sql, column);
            }
        }
        if !order.or_else.is_empty() {
            sql.push(")");
        }
    }

    /// `SELECT COUNT(*)` of the same rows (without limit and offset).
    pub fn to_count_sql(&self, dialect: Dialect) -> Sql {
        if let Some(tally) = self.tally_count_sql(dialect) {
            // Nothing to test but picklist values, or nothing at all (`store::tally`).
            return tally;
        }
        let mut sql = Sql::new(dialect);
        if let (Some(shared), None, None) = (&self.shared, &self.filter, &self.search) {
            // Every record the user reads, with no other condition: their share rows, counted
            // in the index (which knows which records are in the recycle bin) without
            // reading one record. A manager who reads 955,000 accounts waited a second for
            // the join that checked each one.
            sql.push("SELECT COUNT(*) FROM ")
                .ident(&crate::shares::table(&shared.object))
                .push(" WHERE user_id = ")
                .id_param(&shared.user);
            if let Some(deleted) = self.deleted.is_deleted() {
                sql.push(" AND deleted = ")
                    .push(bool_literal(dialect, deleted));
            }
            return sql;
        }
        if let (Some(root), None, None, None) = (
            self.sources.first(),
            &self.shared,
            &self.filter,
            &self.search,
        ) && let Some(is_deleted) = root.object.field("IsDeleted")
        {
            // Every record, or every live one of an object without a picklist (the tallies
            // count the others), with nothing else to test: SQLite counts a
            // table's entries page by page without reading a row (5 ms for 1,000,000
            // accounts, against 180 ms testing each one's IsDeleted), and the recycle bin
            // is counted in its own small index (`ddl::create_recycle_bin_index`).
            // PostgreSQL reads a narrow index instead of the table (56–70 ms, against
            // 104–174 ms).
            let in_bin = |sql: &mut Sql| {
                sql.push("SELECT COUNT(*) FROM ")
                    .ident(&root.object.table)
                    .push(" WHERE ")
                    .ident(&is_deleted.column)
                    .push(" = ")
                    .push(bool_literal(dialect, true));
            };
            match self.deleted {
                Deleted::Include => {
                    sql.push("SELECT COUNT(*) FROM ").ident(&root.object.table);
                }
                Deleted::Only => in_bin(&mut sql),
                Deleted::Exclude => {
                    sql.push("SELECT (SELECT COUNT(*) FROM ")
                        .ident(&root.object.table)
                        .push(") - (");
                    in_bin(&mut sql);
                    sql.push(")");
                }
            }
            return sql;
        }
        sql.push("SELECT COUNT(*)");
        let joined = self.joined_for_count();
        self.tables_and_conditions_for(&mut sql, Some(&joined), ShareRows::All, false);
        sql
    }

    /// `column` (a record id) has a share row for the user: probed per row through the
    /// share table's `(record_id, user_id)` index.
    fn share_probe(&self, sql: &mut Sql, column: &Column, with: &SharedWith) {
        sql.push("EXISTS (SELECT 1 FROM ")
            .ident(&crate::shares::table(&with.object))
            .push(" sp WHERE sp.record_id = ");
        self.column(sql, column);
        sql.push(" AND sp.user_id = ")
            .id_param(&with.user)
            .push(")");
    }

    fn condition(&self, sql: &mut Sql, cond: &Cond) {
        match cond {
            Cond::Compare { column, op, value } => {
                let col = Col::of(&column.field);
                if value.is_null() {
                    self.column(sql, column);
                    sql.push(match op {
                        Compare::Ne => " IS NOT NULL",
                        _ => " IS NULL",
                    });
                    return;
                }
                let operator = match op {
                    Compare::Eq => " = ",
                    Compare::Ne => " <> ",
                    Compare::Lt => " < ",
                    Compare::Le => " <= ",
                    Compare::Gt => " > ",
                    Compare::Ge => " >= ",
                };
                if *op == Compare::Ne {
                    // SOQL's != also matches nulls.
                    sql.push("(");
                    self.column(sql, column);
                    sql.push(" IS NULL OR ");
                }
                let canonical = matches!(op, Compare::Eq | Compare::Ne)
                    .then(|| canonical_picklist_value(&column.field, value))
                    .flatten();
                if let Some(canonical) = canonical {
                    self.column(sql, column);
                    sql.push(operator).text_param(&canonical);
                } else if is_text(&column.field) {
                    self.lowered(sql, column);
                    sql.push(operator)
                        .push("LOWER(")
                        .param(Param::from_value(value, col))
                        .push(")");
                } else {
                    self.column(sql, column);
                    sql.push(operator).param(Param::from_value(value, col));
                }
                if *op == Compare::Ne {
                    sql.push(")");
                }
            }
            Cond::InQuery {
                column,
                plan,
                negated,
            } => {
                sql.push("(");
                if *negated {
                    // NOT IN over a null is unknown in SQL; in SOQL a null is not among them.
                    self.column(sql, column);
                    sql.push(" IS NULL OR ");
                }
                self.column(sql, column);
                sql.push(if *negated { " NOT IN (" } else { " IN (" });
                plan.write_select(sql);
                sql.push("))");
            }
            Cond::DatePart {
                part,
                column,
                op,
                value,
            } => {
                self.date_part(sql, *part, column);
                let col = if *part == DatePart::DayOnly {
                    Col::Date
                } else {
                    Col::Int
                };
                if value.is_null() {
                    sql.push(if *op == Compare::Ne {
                        " IS NOT NULL"
                    } else {
                        " IS NULL"
                    });
                    return;
                }
                sql.push(match op {
                    Compare::Eq => " = ",
                    Compare::Ne => " <> ",
                    Compare::Lt => " < ",
                    Compare::Le => " <= ",
                    Compare::Gt => " > ",
                    Compare::Ge => " >= ",
                });
                sql.param(Param::from_value(value, col));
            }
            Cond::Holds { column, value } => {
                // ';a;b;c;' LIKE '%;b;%', case-insensitively, wildcards in the value escaped.
                let escaped: String = value
                    .to_lowercase()
                    .chars()
                    .flat_map(|c| match c {
                        '%' | '_' | '\\' => vec!['\\', c],
                        c => vec![c],
                    })
                    .collect();
                sql.push("(';' || LOWER(");
                self.column(sql, column);
                sql.push(") || ';') LIKE ")
                    .param(Param::Text(Some(format!("%;{escaped};%"))))
                    .push(" ESCAPE '\\'");
            }
            Cond::Like { column, pattern } => {
                self.column(sql, column);
                let like = match sql.dialect {
                    Dialect::Sqlite => " LIKE ",
                    Dialect::Postgres => " ILIKE ",
                };
                sql.push(like);
                sql.param(Param::Text(Some(pattern.clone())))
                    .push(" ESCAPE '\\'");
            }
            Cond::In { column, values } => {
                let col = Col::of(&column.field);
                let nulls = values.iter().any(Value::is_null);
                let present: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
                sql.push("(");
                // Picklist values the field defines are compared as stored (see
                // `canonical_picklist_value`); any others case-insensitively.
                let (exact, present): (Vec<String>, Vec<&Value>) = {
                    let mut exact = Vec::new();
                    let mut rest = Vec::new();
                    for value in present {
                        match canonical_picklist_value(&column.field, value) {
                            Some(canonical) => exact.push(canonical),
                            None => rest.push(value),
                        }
                    }
                    (exact, rest)
                };
                if !exact.is_empty() {
                    self.column(sql, column);
                    sql.push(" IN (");
                    sql.comma_list(&exact, |s, v| {
                        s.text_param(v);
                    });
                    sql.push(")");
                    if !present.is_empty() {
                        sql.push(" OR ");
                    }
                }
                if present.is_empty() {
                    if exact.is_empty() {
                        sql.push("1 = 0");
                    }
                } else {
                    let text = is_text(&column.field);
                    if text {
                        sql.push("LOWER(");
                        self.column(sql, column);
                        sql.push(")");
                    } else {
                        self.column(sql, column);
                    }
                    sql.push(" IN (");
                    for (i, value) in present.iter().enumerate() {
                        if i > 0 {
                            sql.push(", ");
                        }
                        if text {
                            sql.push("LOWER(")
                                .param(Param::from_value(value, col))
                                .push(")");
                        } else {
                            sql.param(Param::from_value(value, col));
                        }
                    }
                    sql.push(")");
                }
                if nulls {
                    sql.push(" OR ");
                    self.column(sql, column);
                    sql.push(" IS NULL");
                }
                sql.push(")");
            }
            Cond::And(parts) | Cond::Or(parts) => {
                let joiner = if matches!(cond, Cond::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                if parts.is_empty() {
                    sql.push(if matches!(cond, Cond::And(_)) {
                        "1 = 1"
                    } else {
                        "1 = 0"
                    });
                    return;
                }
                sql.push("(");
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        sql.push(joiner);
                    }
                    self.condition(sql, part);
                }
                sql.push(")");
            }
            // The root's own id (a related list's rows, a search's matches): probe each row's
            // share entry. As an IN list, SQLite may instead walk every record the user may
            // read (its statistics cannot tell that a parent has few children: a lookup that
            // is mostly empty looks like one value held by all rows).
            Cond::Shared { column, with }
                if column.source == 0 && column.field.field_type == FieldType::Id =>
            {
                self.share_probe(sql, column, with);
            }
            // A lookup, against the parent's share rows as a set.
            Cond::Shared { column, with } => {
                self.column(sql, column);
                sql.push(" IN (SELECT record_id FROM ")
                    .ident(&crate::shares::table(&with.object))
                    .push(" WHERE user_id = ")
                    .id_param(&with.user)
                    .push(")");
            }
            Cond::Not(inner) => {
                // NOT over a comparison with a null column would be null in SQL (neither true
                // nor false); SOQL treats the row as not matching the inner condition.
                sql.push("NOT COALESCE((");
                self.condition(sql, inner);
                let false_value = match sql.dialect {
                    Dialect::Sqlite => "0",
                    Dialect::Postgres => "FALSE",
                };
                sql.push("), ").push(false_value).push(")");
            }
        }
    }
}

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
}

/// A date function of SOQL: a part of a date or datetime column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePart {
    CalendarYear,
    CalendarQuarter,
    CalendarMonth,
    DayInMonth,
    DayInWeek,
    DayInYear,
    HourInDay,
    /// The date of a datetime.
    DayOnly,
    /// Fiscal periods, with the org's fiscal-year start month (1–12).
    FiscalYear(u8),
    FiscalQuarter(u8),
    FiscalMonth(u8),
}

/// One output of a grouped query: a grouped column, a date part of one, or an aggregate
/// (`COUNT()` has no column).
#[derive(Debug, Clone)]
pub enum Output {
    Column(Column),
    DatePart {
        part: DatePart,
        column: Column,
    },
    Aggregate {
        function: Aggregate,
        column: Option<Column>,
    },
}

impl Output {
    /// The column kind of the output.
    pub fn col(&self) -> Col {
        match self {
            Output::DatePart {
                part: DatePart::DayOnly,
                ..
            } => Col::Date,
            Output::DatePart { .. } => Col::Int,
            Output::Column(column) => Col::of(&column.field),
            Output::Aggregate {
                function: Aggregate::Count | Aggregate::CountDistinct,
                ..
            }
            | Output::Aggregate { column: None, .. } => Col::Int,
            Output::Aggregate {
                function: Aggregate::Avg,
                column: Some(column),
            } => match Col::of(&column.field) {
                Col::Decimal(scale) => Col::Average(scale),
                other => other,
            },
            Output::Aggregate {
                column: Some(column),
                ..
            } => Col::of(&column.field),
        }
    }
}

/// A condition of HAVING: outputs against values.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // a handful per query; boxing would only add noise
pub enum Having {
    Compare {
        output: Output,
        op: Compare,
        value: Value,
    },
    And(Vec<Having>),
    Or(Vec<Having>),
    Not(Box<Having>),
}

/// A grouped (aggregate) query: the rows of `base` (its sources, filter and recycle-bin
/// scope), grouped, aggregated, filtered by HAVING, ordered by outputs.
#[derive(Debug, Clone)]
pub struct GroupPlan {
    pub base: QueryPlan,
    pub outputs: Vec<Output>,
    pub group_by: Vec<Output>,
    pub having: Option<Having>,
    /// (output position, descending, nulls last).
    pub order: Vec<(usize, bool, bool)>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

impl GroupPlan {
    pub fn cols(&self) -> Vec<Col> {
        self.outputs.iter().map(Output::col).collect()
    }

    fn output(&self, sql: &mut Sql, output: &Output) {
        match output {
            Output::Column(column) => self.base.column(sql, column),
            Output::DatePart { part, column } => self.base.date_part(sql, *part, column),
            Output::Aggregate { function, column } => {
                let name = match function {
                    Aggregate::Count | Aggregate::CountDistinct => "COUNT(",
                    Aggregate::Sum => "SUM(",
                    Aggregate::Avg => "AVG(",
                    Aggregate::Min => "MIN(",
                    Aggregate::Max => "MAX(",
                };
                sql.push(name);
                if *function == Aggregate::CountDistinct {
                    sql.push("DISTINCT ");
                }
                match column {
                    Some(column) => self.base.column(sql, column),
                    None => {
                        sql.push("*");
                    }
                }
                sql.push(")");
            }
        }
    }

    fn having(&self, sql: &mut Sql, having: &Having) {
        match having {
            Having::Compare { output, op, value } => {
                if value.is_null() {
                    self.output(sql, output);
                    sql.push(if *op == Compare::Ne {
                        " IS NOT NULL"
                    } else {
                        " IS NULL"
                    });
                    return;
                }
                self.output(sql, output);
                sql.push(match op {
                    Compare::Eq => " = ",
                    Compare::Ne => " <> ",
                    Compare::Lt => " < ",
                    Compare::Le => " <= ",
                    Compare::Gt => " > ",
                    Compare::Ge => " >= ",
                });
                // Aggregates of fixed-point columns compare in the column's stored units.
                let col = match output.col() {
                    Col::Average(scale) => Col::Decimal(scale),
                    other => other,
                };
                sql.param(Param::from_value(value, col));
            }
            Having::And(parts) | Having::Or(parts) => {
                let joiner = if matches!(having, Having::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                sql.push("(");
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        sql.push(joiner);
                    }
                    self.having(sql, part);
                }
                sql.push(")");
            }
            Having::Not(inner) => {
                sql.push("NOT (");
                self.having(sql, inner);
                sql.push(")");
            }
        }
    }

    /// The SQL that answers the plan: from a summary that keeps the answer when there is
    /// one (the pipeline's), otherwise from the records.
    pub fn answer_sql(&self, dialect: Dialect) -> Sql {
        self.pipeline_sql(dialect)
            .unwrap_or_else(|| self.to_sql(dialect))
    }

    pub fn to_sql(&self, dialect: Dialect) -> Sql {
        let mut sql = Sql::new(dialect);
        sql.push("SELECT ");
        for (i, output) in self.outputs.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            self.output(&mut sql, output);
        }
        self.base.tables_and_conditions(&mut sql);
        if !self.group_by.is_empty() {
            sql.push(" GROUP BY ");
            for (i, key) in self.group_by.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                self.output(&mut sql, key);
            }
        }
        if let Some(having) = &self.having {
            sql.push(" HAVING ");
            self.having(&mut sql, having);
        }
        if !self.order.is_empty() {
            sql.push(" ORDER BY ");
            for (i, (output, descending, nulls_last)) in self.order.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                if let Some(output) = self.outputs.get(*output) {
                    self.output(&mut sql, output);
                }
                sql.push(if *descending { " DESC" } else { " ASC" });
                sql.push(if *nulls_last {
                    " NULLS LAST"
                } else {
                    " NULLS FIRST"
                });
            }
        }
        sql.limit_offset(self.limit, self.offset);
        sql
    }
}

impl crate::backend::Store {
    /// Runs a grouped query.
    pub async fn group_rows(&self, plan: &GroupPlan) -> crate::Result<Vec<Vec<Value>>> {
        let sql = plan.answer_sql(self.dialect());
        self.fetch(sql, &plan.cols()).await
    }

    /// Runs a grouped query inside a transaction (seeing what it wrote).
    pub async fn group_rows_in(
        tx: &mut crate::Tx,
        plan: &GroupPlan,
    ) -> crate::Result<Vec<Vec<Value>>> {
        let sql = plan.answer_sql(tx.dialect());
        tx.fetch(sql, &plan.cols()).await
    }

    /// Runs a query plan inside a transaction (seeing what it wrote).
    pub async fn query_rows_in(
        tx: &mut crate::Tx,
        plan: &QueryPlan,
    ) -> crate::Result<Vec<Vec<Value>>> {
        let sql = plan.to_sql(tx.dialect());
        tx.fetch(sql, &plan.cols()).await
    }

    /// Runs a query plan.
    pub async fn query_rows(&self, plan: &QueryPlan) -> crate::Result<Vec<Vec<Value>>> {
        let sql = plan.to_sql(self.dialect());
        self.fetch(sql, &plan.cols()).await
    }

    /// Counts the rows a plan matches (ignoring its limit and offset).
    pub async fn query_count(&self, plan: &QueryPlan) -> crate::Result<u64> {
        let sql = plan.to_count_sql(self.dialect());
        let rows = self.fetch(sql, &[Col::Int]).await?;
        Ok(u64::try_from(crate::metadata::int_at(&rows, 0)).unwrap_or(0))
    }
}
