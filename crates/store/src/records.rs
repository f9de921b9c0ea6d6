//! Writing records: multi-row inserts, updates guarded by the version the caller read,
//! recycle-bin moves and purges. Reads are plans ([`crate::plan`]).

use time::OffsetDateTime;

use model::{FieldDef, ObjectDef, RecordId, Value};

use crate::Result;
use crate::backend::{Store, Tx};
use crate::plan::Select;
use crate::search;
use crate::sql::{Col, Param};

/// Most parameters one statement binds (SQLite allows 32,766; PostgreSQL 65,535).
const MAX_PARAMS: usize = 30_000;

/// Inserts `rows` (values in `fields` order) with as few statements as the parameter limit
/// allows.
pub async fn insert(
    tx: &mut Tx,
    object: &ObjectDef,
    fields: &[&FieldDef],
    rows: &[Vec<Value>],
) -> Result<()> {
    insert_with(tx, object, fields, rows, |row, i| &row[i]).await
}

/// Inserts full rows (one value per field of the object, in the object's order), writing only
/// the columns at `positions`. Saves copying rows into a narrower shape first.
pub async fn insert_columns(
    tx: &mut Tx,
    object: &ObjectDef,
    positions: &[usize],
    rows: &[Vec<Value>],
) -> Result<()> {
    let fields: Vec<&FieldDef> = positions.iter().map(|&p| &object.fields[p]).collect();
    insert_with(tx, object, &fields, rows, |row, i| &row[positions[i]]).await
}

async fn insert_with<R>(
    tx: &mut Tx,
    object: &ObjectDef,
    fields: &[&FieldDef],
    rows: &[R],
    value: impl Fn(&R, usize) -> &Value,
) -> Result<()> {
    if rows.is_empty() || fields.is_empty() {
        return Ok(());
    }
    search::index_new(tx, object, fields, rows, &value).await?;
    let cols: Vec<Col> = fields.iter().map(|f| Col::of(f)).collect();
    let per_statement = (MAX_PARAMS / fields.len()).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut sql = tx.sql();
        sql.text.reserve(chunk.len() * fields.len() * 4 + 64);
        sql.params.reserve(chunk.len() * fields.len());
        sql.push("INSERT INTO ").ident(&object.table).push(" (");
        sql.comma_list(fields, |s, f| {
            s.ident(&f.column);
        });
        sql.push(") VALUES ");
        for (r, row) in chunk.iter().enumerate() {
            sql.push(if r == 0 { "(" } else { ", (" });
            sql.comma_list(cols.iter().enumerate(), |s, (i, col)| {
                s.param(Param::from_value(value(row, i), *col));
            });
            sql.push(")");
        }
        tx.execute(sql).await?;
    }
    Ok(())
}

/// Updates one record. With `expected_modstamp`, the update applies only if the record's
/// SystemModstamp is still that value; the result tells whether a row was changed.
pub async fn update(
    tx: &mut Tx,
    object: &ObjectDef,
    id: &RecordId,
    sets: &[(&FieldDef, Value)],
    expected_modstamp: Option<OffsetDateTime>,
) -> Result<bool> {
    let mut sql = tx.sql();
    sql.push("UPDATE ").ident(&object.table).push(" SET ");
    sql.comma_list(sets, |s, (field, value)| {
        s.ident(&field.column)
            .push(" = ")
            .param(Param::from_value(value, Col::of(field)));
    });
    sql.push(" WHERE ").ident("id").push(" = ").id_param(id);
    if let Some(stamp) = expected_modstamp {
        sql.push(" AND ")
            .ident("systemmodstamp")
            .push(" = ")
            .param(Param::DateTime(Some(stamp)));
    }
    let changed = tx.execute(sql).await? == 1;
    // An indexed field changed, or a lead was converted (search no longer finds it).
    if changed
        && sets
            .iter()
            .any(|(f, _)| search::bucket(f).is_some() || f.name == "IsConverted")
    {
        search::reindex(tx, object, std::slice::from_ref(id)).await?;
    }
    Ok(changed)
}

/// Ids bound per statement by the id-list writes below.
const IDS_PER_STATEMENT: usize = 10_000;

/// Moves records into or out of the recycle bin (the IsDeleted flag and the audit fields),
/// and out of or back into the search index.
pub async fn set_deleted(
    tx: &mut Tx,
    object: &ObjectDef,
    ids: &[RecordId],
    deleted: bool,
    by: Option<&RecordId>,
    at: OffsetDateTime,
) -> Result<u64> {
    let mut changed = 0;
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let mut sql = tx.sql();
        sql.push("UPDATE ")
            .ident(&object.table)
            .push(" SET isdeleted = ")
            .param(Param::Bool(Some(deleted)))
            .push(", lastmodifieddate = ")
            .param(Param::DateTime(Some(at)))
            .push(", systemmodstamp = ")
            .param(Param::DateTime(Some(at)))
            .push(", lastmodifiedbyid = ")
            .param(Param::Text(by.map(|id| id.as_str15().to_string())))
            .push(" WHERE id IN (");
        sql.comma_list(chunk, |s, id| {
            s.id_param(id);
        });
        sql.push(") AND isdeleted = ")
            .param(Param::Bool(Some(!deleted)));
        changed += tx.execute(sql).await?;
    }
    // Search finds live records only: the recycle bin's would take places among the
    // matches a search looks at (`search::SEARCHED_MATCHES`).
    if deleted {
        search::remove(tx, object, ids).await?;
    } else {
        search::reindex(tx, object, ids).await?;
    }
    Ok(changed)
}

/// Removes records for good.
pub async fn purge(tx: &mut Tx, object: &ObjectDef, ids: &[RecordId]) -> Result<u64> {
    let mut removed = 0;
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let mut sql = tx.sql();
        sql.push("DELETE FROM ")
            .ident(&object.table)
            .push(" WHERE id IN (");
        sql.comma_list(chunk, |s, id| {
            s.id_param(id);
        });
        sql.push(")");
        removed += tx.execute(sql).await?;
    }
    search::remove(tx, object, ids).await?;
    Ok(removed)
}

/// Sets `field` to null on every record of `object` that points to one of `ids` (a purged
/// parent leaves no dangling lookups), stamping the records as changed.
pub async fn clear_references(
    tx: &mut Tx,
    object: &ObjectDef,
    field: &FieldDef,
    ids: &[RecordId],
    at: OffsetDateTime,
) -> Result<u64> {
    let mut changed = 0;
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let mut sql = tx.sql();
        sql.push("UPDATE ")
            .ident(&object.table)
            .push(" SET ")
            .ident(&field.column)
            .push(" = NULL");
        if object.field("SystemModstamp").is_some() {
            sql.push(", systemmodstamp = ")
                .param(Param::DateTime(Some(at)));
        }
        sql.push(" WHERE ").ident(&field.column).push(" IN (");
        sql.comma_list(chunk, |s, id| {
            s.id_param(id);
        });
        sql.push(")");
        changed += tx.execute(sql).await?;
    }
    Ok(changed)
}

/// Stores each of `values` (defined values of a picklist) in its defined case in `field`'s
/// column: records holding one in another case (written before the picklist defined it) are
/// converted, so filters can compare picklist values as stored (`store::query`). Returns the
/// records changed.
pub async fn canonicalize_picklist(
    tx: &mut Tx,
    object: &ObjectDef,
    field: &FieldDef,
    values: &[String],
    at: OffsetDateTime,
) -> Result<u64> {
    let mut changed = 0;
    for chunk in values.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let mut sql = tx.sql();
        sql.push("UPDATE ")
            .ident(&object.table)
            .push(" SET ")
            .ident(&field.column)
            .push(" = CASE LOWER(")
            .ident(&field.column)
            .push(")");
        for value in chunk {
            sql.push(" WHEN LOWER(")
                .text_param(value)
                .push(") THEN ")
                .text_param(value);
        }
        sql.push(" ELSE ").ident(&field.column).push(" END");
        if object.field("SystemModstamp").is_some() {
            sql.push(", systemmodstamp = ")
                .param(Param::DateTime(Some(at)));
        }
        sql.push(" WHERE LOWER(")
            .ident(&field.column)
            .push(") IN (");
        sql.comma_list(chunk, |s, v| {
            s.push("LOWER(").text_param(v).push(")");
        });
        sql.push(") AND ").ident(&field.column).push(" NOT IN (");
        sql.comma_list(chunk, |s, v| {
            s.text_param(v);
        });
        sql.push(")");
        changed += tx.execute(sql).await?;
    }
    Ok(changed)
}

/// One entry of the recycle bin.
#[derive(Debug, Clone, PartialEq)]
pub struct BinEntry {
    pub record_id: RecordId,
    pub object: String,
    /// The record whose deletion took this one along (itself when deleted directly).
    pub root_id: RecordId,
    pub deleted_by: Option<RecordId>,
    pub deleted_at: OffsetDateTime,
}

pub async fn add_to_bin(tx: &mut Tx, entries: &[BinEntry]) -> Result<()> {
    for chunk in entries.chunks(MAX_PARAMS / 5) {
        if chunk.is_empty() {
            continue;
        }
        let mut sql = tx.sql();
        sql.push("INSERT INTO rapport_recycle_bin (record_id, object, root_id, deleted_by, deleted_at) VALUES ");
        sql.comma_list(chunk, |s, e| {
            s.push("(")
                .id_param(&e.record_id)
                .push(", ")
                .text_param(&e.object)
                .push(", ")
                .id_param(&e.root_id)
                .push(", ")
                .param(Param::Text(
                    e.deleted_by.as_ref().map(|id| id.as_str15().to_string()),
                ))
                .push(", ")
                .text_param(&model::value::format_datetime(e.deleted_at))
                .push(")");
        });
        tx.execute(sql).await?;
    }
    Ok(())
}

/// The bin entries deleted together with `root` (including itself).
pub async fn bin_entries_of_root(tx: &mut Tx, root: &RecordId) -> Result<Vec<BinEntry>> {
    let mut sql = tx.sql();
    sql.push("SELECT record_id, object, root_id, deleted_by, deleted_at FROM rapport_recycle_bin WHERE root_id = ")
        .id_param(root);
    let rows = tx
        .fetch(sql, &[Col::Id, Col::Text, Col::Id, Col::Id, Col::Text])
        .await?;
    Ok(rows.into_iter().filter_map(bin_row).collect())
}

/// The bin entry of one record, if it is in the bin.
pub async fn bin_entry(tx: &mut Tx, id: &RecordId) -> Result<Option<BinEntry>> {
    let mut sql = tx.sql();
    sql.push("SELECT record_id, object, root_id, deleted_by, deleted_at FROM rapport_recycle_bin WHERE record_id = ")
        .id_param(id);
    let rows = tx
        .fetch(sql, &[Col::Id, Col::Text, Col::Id, Col::Id, Col::Text])
        .await?;
    Ok(rows.into_iter().find_map(bin_row))
}

/// Root records deleted before `cutoff` (their whole group is due for purging).
pub async fn bin_roots_older_than(store: &Store, cutoff: OffsetDateTime) -> Result<Vec<RecordId>> {
    let mut sql = store.sql();
    sql.push("SELECT DISTINCT root_id FROM rapport_recycle_bin WHERE deleted_at < ")
        .text_param(&model::value::format_datetime(cutoff));
    let rows = store.fetch(sql, &[Col::Id]).await?;
    Ok(rows
        .into_iter()
        .filter_map(|mut r| r.pop().and_then(|v| v.as_id().cloned()))
        .collect())
}

pub async fn remove_from_bin(tx: &mut Tx, ids: &[RecordId]) -> Result<()> {
    for chunk in ids.chunks(MAX_PARAMS) {
        if chunk.is_empty() {
            continue;
        }
        let mut sql = tx.sql();
        sql.push("DELETE FROM rapport_recycle_bin WHERE record_id IN (");
        sql.comma_list(chunk, |s, id| {
            s.id_param(id);
        });
        sql.push(")");
        tx.execute(sql).await?;
    }
    Ok(())
}

fn bin_row(row: Vec<Value>) -> Option<BinEntry> {
    let mut row = row.into_iter();
    let record_id = row.next()?.as_id()?.clone();
    let object = row.next()?.as_text()?.to_string();
    let root_id = row.next()?.as_id()?.clone();
    let deleted_by = row.next()?.as_id().cloned();
    let deleted_at = model::value::parse_datetime(row.next()?.as_text()?)?;
    Some(BinEntry {
        record_id,
        object,
        root_id,
        deleted_by,
        deleted_at,
    })
}

/// Runs a plan in a transaction.
pub async fn select_in(tx: &mut Tx, select: &Select<'_>) -> Result<Vec<Vec<Value>>> {
    let sql = select.to_sql(tx.dialect())?;
    tx.fetch(sql, &select.cols()).await
}

/// Runs a plan outside any transaction.
pub async fn select(store: &Store, select: &Select<'_>) -> Result<Vec<Vec<Value>>> {
    let sql = select.to_sql(store.dialect())?;
    store.fetch(sql, &select.cols()).await
}

/// Takes `count` values of an auto-number field; returns the first. The counter row is
/// created on first use without a race (two first inserts at once both succeed).
pub async fn next_autonumber(tx: &mut Tx, object: &str, field: &str, count: i64) -> Result<i64> {
    let mut create = tx.sql();
    create
        .push("INSERT INTO rapport_autonumber (object, field, next_value) VALUES (")
        .text_param(object)
        .push(", ")
        .text_param(field)
        .push(", 1) ON CONFLICT (object, field) DO NOTHING");
    tx.execute(create).await?;
    let mut sql = tx.sql();
    sql.push("UPDATE rapport_autonumber SET next_value = next_value + ")
        .int_param(count)
        .push(" WHERE object = ")
        .text_param(object)
        .push(" AND field = ")
        .text_param(field)
        .push(" RETURNING next_value");
    let rows = tx.fetch(sql, &[Col::Int]).await?;
    Ok(crate::metadata::int_at(&rows, 0) - count)
}

/// Drops the bin entries of an object whose table is going away.
pub async fn remove_bin_entries_of_object(tx: &mut Tx, object: &str) -> Result<()> {
    let mut sql = tx.sql();
    sql.push("DELETE FROM rapport_recycle_bin WHERE object = ")
        .text_param(object);
    tx.execute(sql).await.map(drop)
}

/// The bin entries of `object` deleted in `[start, end)`, oldest first.
pub async fn bin_entries_between(
    store: &Store,
    object: &str,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<Vec<BinEntry>> {
    let mut sql = store.sql();
    sql.push("SELECT record_id, object, root_id, deleted_by, deleted_at FROM rapport_recycle_bin WHERE object = ")
        .text_param(object)
        .push(" AND deleted_at >= ")
        .text_param(&model::value::format_datetime(start))
        .push(" AND deleted_at < ")
        .text_param(&model::value::format_datetime(end))
        .push(" ORDER BY deleted_at, record_id");
    let rows = store
        .fetch(sql, &[Col::Id, Col::Text, Col::Id, Col::Id, Col::Text])
        .await?;
    Ok(rows.into_iter().filter_map(bin_row).collect())
}
