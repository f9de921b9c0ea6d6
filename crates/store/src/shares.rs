//! Share rows: materialised read access to the records of private objects. One row per
//! (user, record) the user may read, carrying the record's sort key (its lowered name), so a
//! user's list view sorted by name reads that user's rows in order through one index instead
//! of walking every record and testing each against the sharing rules. A row says whether the
//! user owns the record: a sorted list reads the user's own records through the records'
//! indexes, as an administrator's list does, and only the others through the share rows
//! (`query::QueryPlan::to_sql`). `app::shares` decides who may read what and when the rows
//! are current; this module only keeps them.

use model::{FieldDef, ObjectDef, RecordId, Value};

use crate::Result;
use crate::backend::Tx;
use crate::error::index_name;
use crate::sql::{Col, Dialect, Sql};

/// Rows per INSERT statement (six parameters each).
const INSERT_CHUNK: usize = 300;
/// Ids per `IN (…)` list.
const KEY_CHUNK: usize = 500;

/// The share table of an object.
pub fn table(object: &ObjectDef) -> String {
    format!("{}__share", object.table)
}

/// Creates an object's share table and its indexes when missing.
pub async fn ensure_table(tx: &mut Tx, object: &ObjectDef) -> Result<()> {
    let table = table(object);
    let mut sql = tx.sql();
    let bool_type = Col::Bool.sql_type(tx.dialect(), 0);
    sql.push("CREATE TABLE IF NOT EXISTS ")
        .ident(&table)
        .push(" (user_id TEXT NOT NULL, owned ")
        .push(&bool_type)
        .push(" NOT NULL, sort_key TEXT, record_id TEXT NOT NULL, record_key BIGINT, deleted ")
        .push(&bool_type)
        .push(" NOT NULL)");
    tx.execute(sql).await?;
    let mut sql = tx.sql();
    sql.push("CREATE INDEX IF NOT EXISTS ")
        .ident(&index_name("su", &table, "user_id"))
        .push(" ON ")
        .ident(&table)
        // The records a user reads but does not own, in name order, are one range.
        .push(" (user_id, owned, sort_key");
    if tx.dialect() == Dialect::Postgres {
        // As the records' own name index: SOQL sorts nulls first ascending.
        sql.push(" NULLS FIRST");
    }
    // SQLite: the record's rowid too, so the index covers the join (see
    // `RecordFacts::rowid`); and whether the record is in the recycle bin, so the index alone
    // counts a user's records.
    sql.push(", record_id, record_key, deleted)");
    tx.execute(sql).await?;
    // By record, then user: a write replaces a record's rows, and a page probes whether a
    // user may read a parent it shows.
    let mut sql = tx.sql();
    sql.push("CREATE INDEX IF NOT EXISTS ")
        .ident(&index_name("sk", &table, "record_id"))
        .push(" ON ")
        .ident(&table)
        .push(" (record_id, user_id)");
    tx.execute(sql).await.map(drop)
}

/// Refreshes PostgreSQL's statistics of a share table while a rebuild fills it: planned as
/// the empty table it was, each batch's `DELETE … WHERE record_id IN (…)` would scan it.
pub async fn analyze(tx: &mut Tx, object: &ObjectDef) -> Result<()> {
    if tx.dialect() != Dialect::Postgres {
        return Ok(());
    }
    let mut sql = tx.sql();
    sql.push("ANALYZE ").ident(&table(object));
    tx.execute(sql).await.map(drop)
}

/// After a full rebuild on PostgreSQL: sets the visibility map of the share table (a
/// VACUUM, which cannot run inside a transaction) so a rep's list reads the rows it walks
/// from the index alone. Autovacuum would get there too, but not soon after millions of
/// inserts: measured on a 1M-account org, a rep's Energy list made 1,357 heap fetches
/// (12.3 ms) before and none (8.9 ms) after.
pub async fn settle(store: &crate::Store, object: &ObjectDef) -> Result<()> {
    if store.dialect() != Dialect::Postgres {
        return Ok(());
    }
    let mut sql = store.sql();
    // The rebuild's last batch has analysed it already.
    sql.push("VACUUM ").ident(&table(object));
    store.execute(sql).await.map(drop)
}

/// Locks records whose share rows are about to be recomputed, in id order, until the
/// transaction ends (PostgreSQL; SQLite has one writer at a time). Two computations of one
/// record's rows then take turns, and the second reads what the first committed: without
/// it, a rebuild batch could read an owner, a transfer commit its new rows, and the batch
/// then replace them with rows for the old owner, which would stand until the next rebuild.
/// `NO KEY UPDATE` leaves reference checks (`KEY SHARE`) free.
pub async fn lock_records(tx: &mut Tx, object: &ObjectDef, ids: &[RecordId]) -> Result<()> {
    if tx.dialect() != Dialect::Postgres || ids.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<&RecordId> = ids.iter().collect();
    ids.sort_by(|a, b| a.as_str15().cmp(b.as_str15()));
    ids.dedup();
    for chunk in ids.chunks(KEY_CHUNK) {
        let mut sql = tx.sql();
        sql.push("SELECT id FROM ")
            .ident(&object.table)
            .push(" WHERE id IN (");
        sql.comma_list(chunk, |s, id| {
            s.id_param(id);
        });
        sql.push(") ORDER BY id FOR NO KEY UPDATE");
        tx.execute(sql).await?;
    }
    Ok(())
}

/// Makes the rest of a transaction give up on a lock after `millis` (PostgreSQL): a rebuild
/// batch steps aside for writers instead of holding their records' locks while it waits for
/// one of theirs (`StoreError::is_lock_timeout` tells the batch to try again).
pub async fn wait_for_locks_at_most(tx: &mut Tx, millis: u32) -> Result<()> {
    if tx.dialect() != Dialect::Postgres {
        return Ok(());
    }
    let mut sql = tx.sql();
    sql.push("SELECT set_config('lock_timeout', ")
        .text_param(&format!("{millis}ms"))
        .push(", true)");
    tx.execute(sql).await.map(drop)
}

/// Drops an object's share table (with the object).
pub async fn drop_table(tx: &mut Tx, object: &ObjectDef) -> Result<()> {
    let mut sql = tx.sql();
    sql.push("DROP TABLE IF EXISTS ").ident(&table(object));
    tx.execute(sql).await.map(drop)
}

/// Who may read one record, and what its share rows say of it.
#[derive(Debug, Clone)]
pub struct Readers {
    /// The record's id, sort key, rowid and recycle-bin flag; `owner` only when the owner
    /// is one of `users` (a queue's members read its records but own none of them): their
    /// row is marked owned.
    pub record: RecordFacts,
    pub users: Vec<RecordId>,
}

/// Replaces the share rows of the records given with `readers` (a record absent from
/// `readers` is left with none).
pub async fn replace(
    tx: &mut Tx,
    object: &ObjectDef,
    records: &[RecordId],
    readers: &[Readers],
) -> Result<()> {
    remove(tx, object, records).await?;
    // (readers of a record, one of them)
    let rows: Vec<(&Readers, &RecordId)> = readers
        .iter()
        .flat_map(|r| r.users.iter().map(move |user| (r, user)))
        .collect();
    let table = table(object);
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut sql = tx.sql();
        sql.push("INSERT INTO ")
            .ident(&table)
            .push(" (user_id, owned, sort_key, record_id, record_key, deleted) VALUES ");
        sql.comma_list(chunk, |s, (r, user)| {
            let record = &r.record;
            s.push("(")
                .id_param(user)
                .push(", ")
                .param(crate::Param::Bool(Some(
                    record.owner.as_ref() == Some(*user),
                )))
                .push(", ");
            match &record.sort_key {
                Some(key) => s.text_param(key),
                None => s.param(crate::Param::Text(None)),
            };
            s.push(", ")
                .id_param(&record.id)
                .push(", ")
                .param(crate::Param::Int(record.rowid))
                .push(", ")
                .param(crate::Param::Bool(Some(record.deleted)))
                .push(")");
        });
        tx.execute(sql).await?;
    }
    Ok(())
}

/// Removes the share rows of records (purged ones).
pub async fn remove(tx: &mut Tx, object: &ObjectDef, records: &[RecordId]) -> Result<()> {
    let table = table(object);
    for chunk in records.chunks(KEY_CHUNK) {
        let mut sql = tx.sql();
        sql.push("DELETE FROM ")
            .ident(&table)
            .push(" WHERE record_id IN (");
        sql.comma_list(chunk, |s, id| {
            s.id_param(id);
        });
        sql.push(")");
        tx.execute(sql).await?;
    }
    Ok(())
}

/// What a record's share rows are made from.
#[derive(Debug, Clone)]
pub struct RecordFacts {
    pub id: RecordId,
    pub owner: Option<RecordId>,
    /// The lowered name.
    pub sort_key: Option<String>,
    /// On SQLite, the record's rowid: a share row finds its record with one lookup instead
    /// of two (the id index, then the row), which is what keeps a rep's list as fast as an
    /// administrator's walk of the name index. Joins check the id as well, so a rowid that
    /// changed (SQLite may renumber on VACUUM) never shows another record; until the rows
    /// are rebuilt, such a record is missing from lists read through share rows, though
    /// its owner still sees it (read by owner) and counts still count it (share rows
    /// alone). `None` on PostgreSQL.
    pub rowid: Option<i64>,
    /// The record is in the recycle bin.
    pub deleted: bool,
}

/// Records of an object with their owner, sort key and rowid, deleted ones too.
pub async fn owners(tx: &mut Tx, object: &ObjectDef, ids: &[RecordId]) -> Result<Vec<RecordFacts>> {
    let Some(owner) = object.field("OwnerId") else {
        return Ok(Vec::new());
    };
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(KEY_CHUNK) {
        let mut sql = tx.sql();
        sql.push("SELECT id, ").ident(&owner.column).push(", ");
        write_sort_key(&mut sql, object);
        sql.push(match tx.dialect() {
            Dialect::Sqlite => ", rowid",
            Dialect::Postgres => ", NULL",
        });
        sql.push(", isdeleted");
        sql.push(" FROM ")
            .ident(&object.table)
            .push(" WHERE id IN (");
        sql.comma_list(chunk, |s, id| {
            s.id_param(id);
        });
        sql.push(")");
        for row in tx
            .fetch(sql, &[Col::Id, Col::Id, Col::Text, Col::Int, Col::Bool])
            .await?
        {
            let mut row = row.into_iter();
            let (Some(Value::Id(id)), Some(owner), Some(key), Some(rowid), Some(deleted)) =
                (row.next(), row.next(), row.next(), row.next(), row.next())
            else {
                continue;
            };
            found.push(RecordFacts {
                id,
                owner: owner.as_id().cloned(),
                sort_key: key.as_text().map(str::to_string),
                rowid: match rowid {
                    Value::Decimal(n) => i64::try_from(n).ok(),
                    _ => None,
                },
                deleted: matches!(deleted, Value::Bool(true)),
            });
        }
    }
    Ok(found)
}

/// The sort key of a record, as the share rows keep it and list views sort by it.
fn write_sort_key(sql: &mut Sql, object: &ObjectDef) {
    match object.name_field() {
        Some(name) => {
            sql.push("LOWER(").ident(&name.column).push(")");
        }
        None => {
            sql.push("NULL");
        }
    }
}

/// `(key, value)` of the live records whose `key` field is among `keys`: the owners of an
/// account's contacts (`AccountId`, `OwnerId`), the users a record is shared with by hand.
pub async fn pairs(
    tx: &mut Tx,
    object: &ObjectDef,
    key: &FieldDef,
    value: &FieldDef,
    keys: &[RecordId],
) -> Result<Vec<(RecordId, RecordId)>> {
    let mut found = Vec::new();
    for chunk in keys.chunks(KEY_CHUNK) {
        let mut sql = tx.sql();
        sql.push("SELECT ")
            .ident(&key.column)
            .push(", ")
            .ident(&value.column)
            .push(" FROM ")
            .ident(&object.table)
            .push(" WHERE isdeleted = ")
            .param(crate::Param::Bool(Some(false)))
            .push(" AND ")
            .ident(&key.column)
            .push(" IN (");
        sql.comma_list(chunk, |s, id| {
            s.id_param(id);
        });
        sql.push(")");
        for row in tx.fetch(sql, &[Col::Id, Col::Id]).await? {
            if let [Value::Id(k), Value::Id(v)] = row.as_slice() {
                found.push((k.clone(), v.clone()));
            }
        }
    }
    Ok(found)
}

/// A field's values on some records (deleted ones too): the accounts of contacts being
/// written, the records manual shares point to.
pub async fn values_of(
    tx: &mut Tx,
    object: &ObjectDef,
    field: &FieldDef,
    ids: &[RecordId],
) -> Result<Vec<RecordId>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(KEY_CHUNK) {
        let mut sql = tx.sql();
        sql.push("SELECT ")
            .ident(&field.column)
            .push(" FROM ")
            .ident(&object.table)
            .push(" WHERE id IN (");
        sql.comma_list(chunk, |s, id| {
            s.id_param(id);
        });
        sql.push(")");
        for row in tx.fetch(sql, &[Col::Id]).await? {
            if let Some(Value::Id(id)) = row.into_iter().next() {
                found.push(id);
            }
        }
    }
    Ok(found)
}

/// The next `limit` record ids after `after`, in id order, deleted records too: the batches
/// of a rebuild.
pub async fn ids_after(
    tx: &mut Tx,
    object: &ObjectDef,
    after: Option<&RecordId>,
    limit: usize,
) -> Result<Vec<RecordId>> {
    let mut sql = tx.sql();
    sql.push("SELECT id FROM ").ident(&object.table);
    if let Some(after) = after {
        sql.push(" WHERE id > ").id_param(after);
    }
    sql.push(" ORDER BY id LIMIT ")
        .int_param(i64::try_from(limit).unwrap_or(i64::MAX));
    Ok(tx
        .fetch(sql, &[Col::Id])
        .await?
        .into_iter()
        .filter_map(|row| row.into_iter().next()?.as_id().cloned())
        .collect())
}

/// Reads the sharing version inside a transaction, holding it (on PostgreSQL) until the
/// transaction ends, so that share rows written in it are computed against the sharing in
/// force when they commit: a concurrent change of roles or rules waits, or is seen.
pub async fn sharing_version_in(tx: &mut Tx) -> Result<i64> {
    if let Some(version) = tx.sharing_version {
        return Ok(version);
    }
    let mut sql = tx.sql();
    sql.push("SELECT value FROM rapport_setting WHERE name = ")
        .text_param(crate::auth::SHARING_VERSION);
    if tx.dialect() == Dialect::Postgres {
        sql.push(" FOR SHARE");
    }
    let rows = tx.fetch(sql, &[Col::Text]).await?;
    let version = rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_text)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    tx.sharing_version = Some(version);
    Ok(version)
}

/// Records that an object's rows were built for a security version (setting `name`).
pub async fn mark_built(tx: &mut Tx, name: &str, version: i64) -> Result<()> {
    let mut sql = tx.sql();
    sql.push("INSERT INTO rapport_setting (name, value) VALUES (")
        .text_param(name)
        .push(", ")
        .text_param(&version.to_string())
        .push(") ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value");
    tx.execute(sql).await.map(drop)
}

/// A share row: user, record, owned, sort key, record key, deleted.
pub type ShareRow = (RecordId, RecordId, bool, Option<String>, Option<i64>, bool);

/// Every share row of an object. For checking the rows.
pub async fn all_rows(tx: &mut Tx, object: &ObjectDef) -> Result<Vec<ShareRow>> {
    let mut sql = tx.sql();
    sql.push("SELECT user_id, record_id, owned, sort_key, record_key, deleted FROM ")
        .ident(&table(object));
    Ok(tx
        .fetch(
            sql,
            &[Col::Id, Col::Id, Col::Bool, Col::Text, Col::Int, Col::Bool],
        )
        .await?
        .into_iter()
        .filter_map(|row| {
            let mut row = row.into_iter();
            let user = row.next()?.as_id().cloned()?;
            let record = row.next()?.as_id().cloned()?;
            let owned = matches!(row.next()?, Value::Bool(true));
            let key = row.next()?.as_text().map(str::to_string);
            let record_key = match row.next()? {
                Value::Decimal(n) => i64::try_from(n).ok(),
                _ => None,
            };
            let deleted = matches!(row.next()?, Value::Bool(true));
            Some((user, record, owned, key, record_key, deleted))
        })
        .collect())
}
