//! Hand-written SQL for benchmark baselines: the same writes and reads the generic record
//! path makes for accounts, written the way a developer would for one known table. The
//! benchmark runs both through the same driver in the same run and reports the ratio.

use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;

use model::RecordId;

use crate::Result;
use crate::backend::Store;
use crate::sql::{Dialect, sqlite_text};

/// One account as the baseline writes it.
#[derive(Debug, Clone)]
pub struct BaselineAccount {
    pub id: RecordId,
    pub owner: RecordId,
    pub at: OffsetDateTime,
    pub name: String,
    pub industry: String,
    pub phone: String,
}

const COLUMNS: &str = "id, ownerid, isdeleted, createddate, createdbyid, lastmodifieddate, lastmodifiedbyid, systemmodstamp, name, industry, phone";
const PER_ROW: usize = 11;

fn placeholders(dialect: Dialect, rows: usize) -> String {
    let mut text = String::new();
    for r in 0..rows {
        text.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..PER_ROW {
            if c > 0 {
                text.push_str(", ");
            }
            match dialect {
                Dialect::Sqlite => text.push('?'),
                Dialect::Postgres => text.push_str(&format!("${}", r * PER_ROW + c + 1)),
            }
        }
        text.push(')');
    }
    text
}

/// The search-index entries of baseline accounts: the name and the phone are the indexed
/// fields the baseline writes (industry is a picklist, which is not indexed).
fn search_entries(rows: &[BaselineAccount]) -> Vec<crate::search::IndexEntry> {
    use crate::search::{Bucket, index_entry};
    rows.iter()
        .map(|r| index_entry(&r.id, &[(Bucket::Name, &r.name), (Bucket::Phone, &r.phone)]))
        .collect()
}

impl Store {
    /// Inserts accounts, and their search-index entries, with one multi-row INSERT each in
    /// one transaction.
    pub async fn baseline_insert_accounts(&self, rows: &[BaselineAccount]) -> Result<()> {
        let sql = format!(
            "INSERT INTO account ({COLUMNS}) VALUES {}",
            placeholders(self.dialect(), rows.len())
        );
        match self.pool_ref() {
            crate::backend::PoolRef::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for r in rows {
                    let at = sqlite_text::datetime(r.at);
                    let owner = r.owner.as_str15().to_string();
                    query = query
                        .bind(r.id.as_str15().to_string())
                        .bind(owner.clone())
                        .bind(false)
                        .bind(at.clone())
                        .bind(owner.clone())
                        .bind(at.clone())
                        .bind(owner)
                        .bind(at)
                        .bind(r.name.clone())
                        .bind(r.industry.clone())
                        .bind(r.phone.clone());
                }
                query.execute(&mut *tx).await?;
                // The search index, as the product keeps it: one FTS5 row per account.
                let entries = search_entries(rows);
                let mut index = sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO account__search (rowid, id, name, email, phone, other) VALUES {}",
                    vec!["(?, ?, ?, ?, ?, ?)"; rows.len()].join(", ")
                )));
                for (r, entry) in rows.iter().zip(entries) {
                    let [name, email, phone, other] = entry.columns;
                    index = index
                        .bind(entry.rowid)
                        .bind(r.id.as_str15().to_string())
                        .bind(name)
                        .bind(email)
                        .bind(phone)
                        .bind(other);
                }
                index.execute(&mut *tx).await?;
                tx.commit().await?;
            }
            crate::backend::PoolRef::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for r in rows {
                    let owner = r.owner.as_str15().to_string();
                    query = query
                        .bind(r.id.as_str15().to_string())
                        .bind(owner.clone())
                        .bind(false)
                        .bind(r.at)
                        .bind(owner.clone())
                        .bind(r.at)
                        .bind(owner)
                        .bind(r.at)
                        .bind(r.name.clone())
                        .bind(r.industry.clone())
                        .bind(r.phone.clone());
                }
                query.execute(&mut *tx).await?;
                let entries = search_entries(rows);
                let values: Vec<String> = (0..rows.len())
                    .map(|i| format!("(${}, CAST(${} AS tsvector))", 2 * i + 1, 2 * i + 2))
                    .collect();
                let mut index = sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO account__search (id, doc) VALUES {}",
                    values.join(", ")
                )));
                for (r, entry) in rows.iter().zip(entries) {
                    index = index.bind(r.id.as_str15().to_string()).bind(entry.tsvector);
                }
                index.execute(&mut *tx).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Reads one live account's columns by id; returns whether it was found.
    pub async fn baseline_read_account(&self, id: &RecordId) -> Result<bool> {
        match self.pool_ref() {
            crate::backend::PoolRef::Sqlite(pool) => {
                let row = sqlx::query(
                    "SELECT id, ownerid, isdeleted, createddate, createdbyid, lastmodifieddate, lastmodifiedbyid, systemmodstamp, name, industry, phone FROM account WHERE id = ? AND isdeleted = ?",
                )
                .bind(id.as_str15().to_string())
                .bind(false)
                .fetch_optional(pool)
                .await?;
                Ok(match row {
                    Some(row) => {
                        let _: (Option<String>, Option<String>, Option<bool>, Option<String>) = (
                            row.try_get(0)?,
                            row.try_get(1)?,
                            row.try_get(2)?,
                            row.try_get(3)?,
                        );
                        let _: (
                            Option<String>,
                            Option<String>,
                            Option<String>,
                            Option<String>,
                        ) = (
                            row.try_get(4)?,
                            row.try_get(5)?,
                            row.try_get(6)?,
                            row.try_get(7)?,
                        );
                        let _: (Option<String>, Option<String>, Option<String>) =
                            (row.try_get(8)?, row.try_get(9)?, row.try_get(10)?);
                        true
                    }
                    None => false,
                })
            }
            crate::backend::PoolRef::Postgres(pool) => {
                let row = sqlx::query(
                    "SELECT id, ownerid, isdeleted, createddate, createdbyid, lastmodifieddate, lastmodifiedbyid, systemmodstamp, name, industry, phone FROM account WHERE id = $1 AND isdeleted = $2",
                )
                .bind(id.as_str15().to_string())
                .bind(false)
                .fetch_optional(pool)
                .await?;
                Ok(match row {
                    Some(row) => {
                        let _: (
                            Option<String>,
                            Option<String>,
                            Option<bool>,
                            Option<OffsetDateTime>,
                        ) = (
                            row.try_get(0)?,
                            row.try_get(1)?,
                            row.try_get(2)?,
                            row.try_get(3)?,
                        );
                        let _: (
                            Option<String>,
                            Option<OffsetDateTime>,
                            Option<String>,
                            Option<OffsetDateTime>,
                        ) = (
                            row.try_get(4)?,
                            row.try_get(5)?,
                            row.try_get(6)?,
                            row.try_get(7)?,
                        );
                        let _: (Option<String>, Option<String>, Option<String>) =
                            (row.try_get(8)?, row.try_get(9)?, row.try_get(10)?);
                        true
                    }
                    None => false,
                })
            }
        }
    }
}

/// How a baseline query's column is decoded (as the driver gives it: the work a hand-written
/// program does too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    /// Currency and numbers: 10^-scale integers on SQLite, NUMERIC on PostgreSQL.
    Decimal,
}

impl Store {
    /// Runs hand-written SQL (`?` placeholders, turned into `$n` for PostgreSQL) with text
    /// parameters, decoding every column; returns the rows' first column as text (ids, for a
    /// follow-up query) and the row count.
    pub async fn baseline_rows(
        &self,
        sql: &str,
        params: &[String],
        kinds: &[Kind],
    ) -> Result<(Vec<String>, usize)> {
        let mut first = Vec::new();
        let mut count = 0;
        match self.pool_ref() {
            crate::backend::PoolRef::Sqlite(pool) => {
                let mut query = sqlx::query(AssertSqlSafe(sql.to_string()));
                for p in params {
                    query = query.bind(p.clone());
                }
                for row in query.fetch_all(pool).await? {
                    for (i, kind) in kinds.iter().enumerate() {
                        match kind {
                            Kind::Text => {
                                let text: Option<String> = row.try_get(i)?;
                                if i == 0 {
                                    first.extend(text);
                                }
                            }
                            Kind::Int | Kind::Decimal => {
                                let _: Option<i64> = row.try_get(i)?;
                            }
                        }
                    }
                    count += 1;
                }
            }
            crate::backend::PoolRef::Postgres(pool) => {
                let mut numbered = String::with_capacity(sql.len() + 16);
                let mut n = 0;
                for c in sql.chars() {
                    if c == '?' {
                        n += 1;
                        numbered.push_str(&format!("${n}"));
                    } else {
                        numbered.push(c);
                    }
                }
                let mut query = sqlx::query(AssertSqlSafe(numbered));
                for p in params {
                    query = query.bind(p.clone());
                }
                for row in query.fetch_all(pool).await? {
                    for (i, kind) in kinds.iter().enumerate() {
                        match kind {
                            Kind::Text => {
                                let text: Option<String> = row.try_get(i)?;
                                if i == 0 {
                                    first.extend(text);
                                }
                            }
                            Kind::Int => {
                                let _: Option<i64> = row.try_get(i)?;
                            }
                            Kind::Decimal => {
                                let _: Option<rust_decimal::Decimal> = row.try_get(i)?;
                            }
                        }
                    }
                    count += 1;
                }
            }
        }
        Ok((first, count))
    }
}

/// One opportunity's stage move as the baseline writes it, with the ids its history rows get.
#[derive(Debug, Clone)]
pub struct BaselineStageMove {
    pub opportunity: RecordId,
    pub snapshot: RecordId,
    pub stage_change: RecordId,
    pub probability_change: RecordId,
}

/// What a stage means, as the baseline writes it.
#[derive(Debug, Clone)]
pub struct BaselineStage<'a> {
    pub name: &'a str,
    pub probability: u8,
    pub forecast_category: &'a str,
}

const HISTORY_COLUMNS: &str =
    "id, isdeleted, createddate, createdbyid, lastmodifieddate, lastmodifiedbyid, systemmodstamp";

impl Store {
    /// Moves opportunities to a stage in hand-written SQL, in one transaction, as a developer
    /// would for this one table: read their stage, probability, amount and close date; one
    /// UPDATE (stage, probability, category, expected revenue, stamps); one multi-row INSERT
    /// of stage snapshots and one of field history (stage and probability).
    pub async fn baseline_move_stage(
        &self,
        moves: &[BaselineStageMove],
        stage: &BaselineStage<'_>,
        user: &RecordId,
        at: OffsetDateTime,
    ) -> Result<()> {
        use std::collections::HashMap;

        use model::Value;
        use rust_decimal::Decimal;

        use crate::sql::{Col, Param};

        if moves.is_empty() {
            return Ok(());
        }
        let ids = |sql: &mut crate::Sql| {
            for (i, m) in moves.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.id_param(&m.opportunity);
            }
        };
        let mut tx = self.begin().await?;
        let mut read = tx.sql();
        read.push(
            "SELECT id, stagename, probability, amount, closedate FROM opportunity WHERE id IN (",
        );
        ids(&mut read);
        read.push(")");
        let cols = [
            Col::Id,
            Col::Text,
            Col::Decimal(0),
            Col::Decimal(2),
            Col::Date,
        ];
        let old: HashMap<RecordId, Vec<Value>> = tx
            .fetch(read, &cols)
            .await?
            .into_iter()
            .filter_map(|row| Some((row.first()?.as_id()?.clone(), row)))
            .collect();
        let probability = Decimal::from(stage.probability);
        let stamp = Param::DateTime(Some(at));
        let mut update = tx.sql();
        update
            .push("UPDATE opportunity SET stagename = ")
            .text_param(stage.name)
            .push(", probability = ")
            .param(Param::Decimal(Some(probability), 0))
            .push(", forecastcategoryname = ")
            .text_param(stage.forecast_category)
            .push(", expectedrevenue = amount * ")
            .int_param(i64::from(stage.probability))
            .push(" / 100, laststagechangedate = ")
            .param(stamp.clone())
            .push(", lastmodifieddate = ")
            .param(stamp.clone())
            .push(", lastmodifiedbyid = ")
            .id_param(user)
            .push(", systemmodstamp = ")
            .param(stamp.clone())
            .push(" WHERE id IN (");
        ids(&mut update);
        update.push(")");
        tx.execute(update).await?;

        let system = |sql: &mut crate::Sql, id: &RecordId| {
            sql.id_param(id)
                .push(", ")
                .param(Param::Bool(Some(false)))
                .push(", ")
                .param(stamp.clone())
                .push(", ")
                .id_param(user)
                .push(", ")
                .param(stamp.clone())
                .push(", ")
                .id_param(user)
                .push(", ")
                .param(stamp.clone());
        };
        let mut snapshots = tx.sql();
        snapshots.push(&format!(
            "INSERT INTO opportunityhistory ({HISTORY_COLUMNS}, opportunityid, stagename, amount, expectedrevenue, closedate, probability, forecastcategory, prevamount, prevclosedate) VALUES "
        ));
        let mut changes = tx.sql();
        changes.push(&format!(
            "INSERT INTO opportunityfieldhistory ({HISTORY_COLUMNS}, opportunityid, field, datatype, oldvalue, newvalue) VALUES "
        ));
        let mut first = true;
        for m in moves {
            let Some(row) = old.get(&m.opportunity) else {
                continue;
            };
            let amount = match &row[3] {
                Value::Decimal(d) => Some(*d),
                _ => None,
            };
            let expected = amount.map(|a| (a * probability / Decimal::from(100)).round_dp(2));
            let close = match &row[4] {
                Value::Date(d) => Some(*d),
                _ => None,
            };
            if !first {
                snapshots.push(", ");
                changes.push(", ");
            }
            first = false;
            snapshots.push("(");
            system(&mut snapshots, &m.snapshot);
            snapshots
                .push(", ")
                .id_param(&m.opportunity)
                .push(", ")
                .text_param(stage.name)
                .push(", ")
                .param(Param::Decimal(amount, 2))
                .push(", ")
                .param(Param::Decimal(expected, 2))
                .push(", ")
                .param(Param::Date(close))
                .push(", ")
                .param(Param::Decimal(Some(probability), 0))
                .push(", ")
                .text_param(stage.forecast_category)
                .push(", ")
                .param(Param::Decimal(amount, 2))
                .push(", ")
                .param(Param::Date(close))
                .push(")");
            let old_stage = row[1].as_text().unwrap_or_default().to_string();
            let old_probability = match &row[2] {
                Value::Decimal(d) => d.to_string(),
                _ => String::new(),
            };
            for (k, (id, field, data_type, before, after)) in [
                (
                    &m.stage_change,
                    "StageName",
                    "Picklist",
                    old_stage,
                    stage.name.to_string(),
                ),
                (
                    &m.probability_change,
                    "Probability",
                    "Percent",
                    old_probability,
                    stage.probability.to_string(),
                ),
            ]
            .into_iter()
            .enumerate()
            {
                if k > 0 {
                    changes.push(", ");
                }
                changes.push("(");
                system(&mut changes, id);
                changes
                    .push(", ")
                    .id_param(&m.opportunity)
                    .push(", ")
                    .text_param(field)
                    .push(", ")
                    .text_param(data_type)
                    .push(", ")
                    .text_param(&before)
                    .push(", ")
                    .text_param(&after)
                    .push(")");
            }
        }
        if !first {
            tx.execute(snapshots).await?;
            tx.execute(changes).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
