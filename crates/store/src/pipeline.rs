//! The pipeline summary: for each owner, stage and closed-or-not, the number of live
//! opportunities, how many have an amount, and the sum of their amounts (on PostgreSQL, as
//! change rows that sum to them). Triggers on the
//! opportunity table keep it, so every write reaches it (the record path, bulk seeding, a
//! renamed stage, a purge) in the same transaction. It answers the pipeline questions the
//! home page and the board ask of every page view (`SELECT StageName, COUNT(…), SUM(Amount)
//! … GROUP BY StageName`, for one owner or all) without reading the owner's deals, which at a
//! million of them takes seconds.
//!
//! Only a grouped plan that asks exactly what the summary keeps is answered from it: live
//! records of Opportunity alone, grouped by StageName, filtered by nothing but OwnerId and
//! IsClosed equalities. A caller whose reads are restricted by sharing carries the
//! restriction in the plan's filter, so their plan does not match and reads the records.

use model::{FieldDef, Value};

use crate::plan::Deleted;
use crate::query::{Aggregate, Column, Compare, Cond, GroupPlan, Output};
use crate::sql::{Col, Dialect, Param, Sql};

/// The summary table and its triggers on SQLite (opportunity columns as the catalogue names
/// them). A null owner or stage is kept as '' (a key cannot be null).
pub(crate) const SQLITE: &[&str] = &[
    "CREATE TABLE rapport_pipeline (
        owner_id TEXT NOT NULL, stage_name TEXT NOT NULL, is_closed INTEGER NOT NULL,
        deals BIGINT NOT NULL, priced BIGINT NOT NULL, amount BIGINT NOT NULL,
        PRIMARY KEY (owner_id, stage_name, is_closed))",
    "INSERT INTO rapport_pipeline (owner_id, stage_name, is_closed, deals, priced, amount)
        SELECT COALESCE(ownerid, ''), COALESCE(stagename, ''), COALESCE(isclosed, 0),
            COUNT(*), COUNT(amount), COALESCE(SUM(amount), 0)
        FROM opportunity WHERE NOT isdeleted
        GROUP BY COALESCE(ownerid, ''), COALESCE(stagename, ''), COALESCE(isclosed, 0)",
    "CREATE TRIGGER tr_opportunity_pipeline_insert AFTER INSERT ON opportunity
        WHEN NOT NEW.isdeleted
    BEGIN
        INSERT INTO rapport_pipeline (owner_id, stage_name, is_closed, deals, priced, amount)
        VALUES (COALESCE(NEW.ownerid, ''), COALESCE(NEW.stagename, ''),
            COALESCE(NEW.isclosed, 0), 1, NEW.amount IS NOT NULL, COALESCE(NEW.amount, 0))
        ON CONFLICT (owner_id, stage_name, is_closed) DO UPDATE SET
            deals = deals + excluded.deals, priced = priced + excluded.priced,
            amount = amount + excluded.amount;
    END",
    "CREATE TRIGGER tr_opportunity_pipeline_delete AFTER DELETE ON opportunity
        WHEN NOT OLD.isdeleted
    BEGIN
        UPDATE rapport_pipeline SET deals = deals - 1,
            priced = priced - (OLD.amount IS NOT NULL), amount = amount - COALESCE(OLD.amount, 0)
        WHERE owner_id = COALESCE(OLD.ownerid, '') AND stage_name = COALESCE(OLD.stagename, '')
            AND is_closed = COALESCE(OLD.isclosed, 0);
    END",
    "CREATE TRIGGER tr_opportunity_pipeline_update AFTER UPDATE ON opportunity
        WHEN OLD.ownerid IS NOT NEW.ownerid OR OLD.stagename IS NOT NEW.stagename
            OR OLD.isclosed IS NOT NEW.isclosed OR OLD.amount IS NOT NEW.amount
            OR OLD.isdeleted IS NOT NEW.isdeleted
    BEGIN
        UPDATE rapport_pipeline SET deals = deals - 1,
            priced = priced - (OLD.amount IS NOT NULL), amount = amount - COALESCE(OLD.amount, 0)
        WHERE NOT OLD.isdeleted AND owner_id = COALESCE(OLD.ownerid, '')
            AND stage_name = COALESCE(OLD.stagename, '') AND is_closed = COALESCE(OLD.isclosed, 0);
        INSERT INTO rapport_pipeline (owner_id, stage_name, is_closed, deals, priced, amount)
        SELECT COALESCE(NEW.ownerid, ''), COALESCE(NEW.stagename, ''),
            COALESCE(NEW.isclosed, 0), 1, NEW.amount IS NOT NULL, COALESCE(NEW.amount, 0)
        WHERE NOT NEW.isdeleted
        ON CONFLICT (owner_id, stage_name, is_closed) DO UPDATE SET
            deals = deals + excluded.deals, priced = priced + excluded.priced,
            amount = amount + excluded.amount;
    END",
];

/// The same on PostgreSQL, where writers run concurrently: the triggers only append change
/// rows (-1 for the old key, +1 for the new), so no two transactions ever wait on one summary
/// row or lock two in opposite orders; reads sum the rows, and `Store::compact_summaries`
/// folds them together now and then. The backfill runs under a lock that keeps writers out
/// until the triggers exist, so no write falls between the two.
pub(crate) const POSTGRES: &[&str] = &[
    "LOCK TABLE opportunity IN SHARE ROW EXCLUSIVE MODE",
    "CREATE TABLE rapport_pipeline (
        owner_id TEXT NOT NULL, stage_name TEXT NOT NULL, is_closed BOOLEAN NOT NULL,
        deals BIGINT NOT NULL, priced BIGINT NOT NULL, amount NUMERIC NOT NULL)",
    "CREATE INDEX ix_rapport_pipeline ON rapport_pipeline (owner_id, stage_name, is_closed)",
    "INSERT INTO rapport_pipeline (owner_id, stage_name, is_closed, deals, priced, amount)
        SELECT COALESCE(ownerid, ''), COALESCE(stagename, ''), COALESCE(isclosed, false),
            COUNT(*), COUNT(amount), COALESCE(SUM(amount), 0)
        FROM opportunity WHERE NOT isdeleted
        GROUP BY COALESCE(ownerid, ''), COALESCE(stagename, ''), COALESCE(isclosed, false)",
    "CREATE FUNCTION rapport_pipeline_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND NOT OLD.isdeleted THEN
            INSERT INTO rapport_pipeline (owner_id, stage_name, is_closed, deals, priced, amount)
            VALUES (COALESCE(OLD.ownerid, ''), COALESCE(OLD.stagename, ''),
                COALESCE(OLD.isclosed, false), -1, CASE WHEN OLD.amount IS NULL THEN 0 ELSE -1 END,
                -COALESCE(OLD.amount, 0));
        END IF;
        IF TG_OP <> 'DELETE' AND NOT NEW.isdeleted THEN
            INSERT INTO rapport_pipeline (owner_id, stage_name, is_closed, deals, priced, amount)
            VALUES (COALESCE(NEW.ownerid, ''), COALESCE(NEW.stagename, ''),
                COALESCE(NEW.isclosed, false), 1, CASE WHEN NEW.amount IS NULL THEN 0 ELSE 1 END,
                COALESCE(NEW.amount, 0));
        END IF;
        RETURN NULL;
    END $$",
    "CREATE TRIGGER tr_opportunity_pipeline_insert AFTER INSERT ON opportunity
        FOR EACH ROW WHEN (NOT NEW.isdeleted) EXECUTE FUNCTION rapport_pipeline_change()",
    "CREATE TRIGGER tr_opportunity_pipeline_delete AFTER DELETE ON opportunity
        FOR EACH ROW WHEN (NOT OLD.isdeleted) EXECUTE FUNCTION rapport_pipeline_change()",
    "CREATE TRIGGER tr_opportunity_pipeline_update AFTER UPDATE ON opportunity
        FOR EACH ROW WHEN (OLD.ownerid IS DISTINCT FROM NEW.ownerid
            OR OLD.stagename IS DISTINCT FROM NEW.stagename
            OR OLD.isclosed IS DISTINCT FROM NEW.isclosed
            OR OLD.amount IS DISTINCT FROM NEW.amount
            OR OLD.isdeleted IS DISTINCT FROM NEW.isdeleted)
        EXECUTE FUNCTION rapport_pipeline_change()",
];

/// Folds PostgreSQL's change rows into one row per key, in one statement: rows appended
/// meanwhile by other transactions are not in its snapshot and stay for the next time.
const COMPACT_POSTGRES: &str = "
WITH gone AS (
    DELETE FROM rapport_pipeline
    RETURNING owner_id, stage_name, is_closed, deals, priced, amount)
INSERT INTO rapport_pipeline (owner_id, stage_name, is_closed, deals, priced, amount)
SELECT owner_id, stage_name, is_closed, SUM(deals), SUM(priced), SUM(amount)
FROM gone GROUP BY owner_id, stage_name, is_closed HAVING SUM(deals) <> 0";

impl crate::backend::Store {
    /// Folds the change rows of the pipeline summary and of the tallies (`tally`) together
    /// (PostgreSQL; SQLite keeps one row per key already). Run by the server every few
    /// seconds and after a bulk load.
    pub async fn compact_summaries(&self) -> crate::Result<()> {
        if self.dialect() == Dialect::Postgres {
            for statement in [COMPACT_POSTGRES, crate::tally::COMPACT_POSTGRES] {
                let mut sql = self.sql();
                sql.push(statement);
                self.execute(sql).await?;
            }
        }
        Ok(())
    }
}

/// A filter the summary can apply: `OwnerId = …` or `IsClosed = …`.
enum Key<'p> {
    Owner(&'p FieldDef, &'p Value),
    Closed(&'p FieldDef, &'p Value),
}

/// The conjuncts of a filter, if each is a key equality.
fn keys<'p>(filter: &'p Cond, out: &mut Vec<Key<'p>>) -> Option<()> {
    match filter {
        Cond::And(parts) => parts.iter().try_for_each(|part| keys(part, out)),
        Cond::Compare {
            column,
            op: Compare::Eq,
            value,
        } if column.source == 0 && !value.is_null() => {
            out.push(match column.field.name.as_str() {
                "OwnerId" => Key::Owner(&column.field, value),
                "IsClosed" => Key::Closed(&column.field, value),
                _ => return None,
            });
            Some(())
        }
        _ => None,
    }
}

fn is_field(column: &Column, name: &str) -> bool {
    column.source == 0 && column.field.name == name
}

impl GroupPlan {
    /// The plan's answer read from the pipeline summary, when the plan asks only what the
    /// summary keeps (rows come back as the plan's own SQL would give them).
    pub(crate) fn pipeline_sql(&self, dialect: Dialect) -> Option<Sql> {
        let base = &self.base;
        let plain = base.sources.len() == 1
            && base.sources.first()?.object.name == "Opportunity"
            && base.deleted == Deleted::Exclude
            && base.search.is_none()
            && base.shared.is_none()
            && base.limit.is_none()
            && base.offset.is_none()
            && self.having.is_none()
            && self.order.is_empty()
            && self.limit.is_none()
            && self.offset.is_none();
        let by_stage =
            matches!(self.group_by.as_slice(), [Output::Column(c)] if is_field(c, "StageName"));
        if !plain || !by_stage {
            return None;
        }
        let mut filter = Vec::new();
        if let Some(cond) = &base.filter {
            keys(cond, &mut filter)?;
        }
        let mut sql = Sql::new(dialect);
        sql.push("SELECT ");
        for (i, output) in self.outputs.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push(match output {
                Output::Column(c) if is_field(c, "StageName") => "NULLIF(stage_name, '')",
                Output::Aggregate {
                    function: Aggregate::Count,
                    column: None,
                } => "CAST(SUM(deals) AS BIGINT)",
                Output::Aggregate {
                    function: Aggregate::Count,
                    column: Some(c),
                } if is_field(c, "Id") => "CAST(SUM(deals) AS BIGINT)",
                Output::Aggregate {
                    function: Aggregate::Count,
                    column: Some(c),
                } if is_field(c, "StageName") => {
                    "CAST(SUM(CASE WHEN stage_name = '' THEN 0 ELSE deals END) AS BIGINT)"
                }
                Output::Aggregate {
                    function: Aggregate::Count,
                    column: Some(c),
                } if is_field(c, "Amount") => "CAST(SUM(priced) AS BIGINT)",
                Output::Aggregate {
                    function: Aggregate::Sum,
                    column: Some(c),
                } if is_field(c, "Amount") => {
                    "CASE WHEN SUM(priced) = 0 THEN NULL ELSE SUM(amount) END"
                }
                _ => return None,
            });
        }
        sql.push(" FROM rapport_pipeline");
        for (i, key) in filter.into_iter().enumerate() {
            let (column, field, value) = match key {
                Key::Owner(field, value) => ("owner_id", field, value),
                Key::Closed(field, value) => ("is_closed", field, value),
            };
            sql.push(if i == 0 { " WHERE " } else { " AND " })
                .push(column)
                .push(" = ")
                .param(Param::from_value(value, Col::of(field)));
        }
        // Keys whose deals all went (and, on PostgreSQL, change rows not yet folded) sum to 0.
        sql.push(" GROUP BY stage_name HAVING SUM(deals) > 0");
        Some(sql)
    }
}
