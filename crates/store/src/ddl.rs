//! Tables and columns for objects and fields: one table per object, one typed column per
//! field, indexes on lookups, unique and external-id fields. Runs inside the transaction that
//! changes the metadata, so a failed change leaves neither half.

use model::{FieldDef, FieldType, ObjectDef};

use crate::Result;
use crate::backend::Tx;
use crate::error::{index_name, unique_index_name};
use crate::sql::{Col, Dialect};

fn column_type(dialect: Dialect, field: &FieldDef) -> String {
    Col::of(field).sql_type(dialect, field.precision.unwrap_or(18))
}

/// Creates the table of an object with a column per field, and its indexes.
pub async fn create_table(tx: &mut Tx, object: &ObjectDef) -> Result<()> {
    let dialect = tx.dialect();
    let mut sql = tx.sql();
    sql.push("CREATE TABLE ").ident(&object.table).push(" (");
    sql.comma_list(&object.fields, |s, field| {
        s.ident(&field.column)
            .push(" ")
            .push(&column_type(dialect, field));
        if field.field_type == FieldType::Id {
            s.push(" PRIMARY KEY");
        } else if field.name == "IsDeleted" {
            s.push(" NOT NULL");
        }
    });
    sql.push(")");
    tx.execute(sql).await?;
    for field in &object.fields {
        create_indexes(tx, object, field).await?;
    }
    create_owner_name_index(tx, object).await?;
    create_recycle_bin_index(tx, object).await?;
    crate::tally::install(tx, object).await?;
    crate::search::create_index(tx, object).await
}

/// An index of the records in the recycle bin alone: a handful where the table holds
/// millions. The count of live records is then the table's count less this index's
/// (`QueryPlan::to_count_sql`), and neither reads a record. Its condition is written as the
/// count writes it (`bool_literal`), which SQLite needs to see that the index serves it.
pub async fn create_recycle_bin_index(tx: &mut Tx, object: &ObjectDef) -> Result<()> {
    let Some(is_deleted) = object.field("IsDeleted") else {
        return Ok(());
    };
    let mut sql = tx.sql();
    sql.push("CREATE INDEX IF NOT EXISTS ")
        .ident(&index_name("bx", &object.table, &is_deleted.column))
        .push(" ON ")
        .ident(&object.table)
        .push(" (id) WHERE ")
        .ident(&is_deleted.column)
        .push(" = ")
        .push(crate::sql::bool_literal(tx.dialect(), true));
    tx.execute(sql).await.map(drop)
}

pub async fn drop_table(tx: &mut Tx, object: &ObjectDef) -> Result<()> {
    crate::tally::remove(tx, object).await?;
    crate::search::drop_index(tx, object).await?;
    crate::shares::drop_table(tx, object).await?;
    let mut sql = tx.sql();
    sql.push("DROP TABLE ").ident(&object.table);
    tx.execute(sql).await.map(drop)
}

/// Whether a field gets an ordinary index: lookups (not the audit references, which nobody
/// filters on and which would slow every insert), the record name, and external ids.
fn wants_index(field: &FieldDef) -> bool {
    let audit = matches!(field.name.as_str(), "CreatedById" | "LastModifiedById");
    (field.field_type == FieldType::Reference && !audit) || field.name_field || field.external_id
}

/// An optional lookup's index holds only the records that point somewhere. Most records of
/// a lookup such as ParentId point nowhere, and a full `ANALYZE` (which an administrator may
/// run by hand) counts those NULLs as one value "a million rows long": SQLite then walks
/// the whole name index for an account's child accounts (2.3 s on a 1M org) instead of
/// this index. Without the NULLs the statistics tell the truth; every `col = …` still
/// finds the index (it implies `col IS NOT NULL`).
fn partial_lookup(field: &FieldDef) -> bool {
    // OwnerId (a system field) is never null: its index stays whole.
    field.field_type == FieldType::Reference
        && !field.required
        && !field.unique
        && !field.is_system()
}

/// `ix_<table>_<column>`: a lookup's, the record name's or an external id's index.
async fn create_plain_index(tx: &mut Tx, object: &ObjectDef, field: &FieldDef) -> Result<()> {
    let mut sql = tx.sql();
    sql.push("CREATE INDEX ")
        .ident(&index_name("ix", &object.table, &field.column))
        .push(" ON ")
        .ident(&object.table)
        .push(" (")
        .ident(&field.column)
        .push(")");
    if partial_lookup(field) {
        sql.push(" WHERE ")
            .ident(&field.column)
            .push(" IS NOT NULL");
    }
    tx.execute(sql).await.map(drop)
}

/// Remakes an optional lookup's index without its NULLs (databases made before; see
/// `partial_lookup`).
pub async fn remake_lookup_index(tx: &mut Tx, object: &ObjectDef, field: &FieldDef) -> Result<()> {
    if !wants_index(field) || !partial_lookup(field) {
        return Ok(());
    }
    let mut sql = tx.sql();
    sql.push("DROP INDEX IF EXISTS ")
        .ident(&index_name("ix", &object.table, &field.column));
    tx.execute(sql).await?;
    create_plain_index(tx, object, field).await
}

/// Creates the indexes a field needs.
pub async fn create_indexes(tx: &mut Tx, object: &ObjectDef, field: &FieldDef) -> Result<()> {
    if field.unique {
        let mut sql = tx.sql();
        sql.push("CREATE UNIQUE INDEX ")
            .ident(&unique_index_name(&object.table, &field.column))
            .push(" ON ")
            .ident(&object.table)
            .push(" (")
            .ident(&field.column)
            .push(")");
        tx.execute(sql).await?;
    } else if wants_index(field) {
        create_plain_index(tx, object, field).await?;
    }
    if field.name_field && Col::of(field) == Col::Text {
        create_lower_index(tx, object, field).await?;
    } else {
        create_lower_statistics(tx, object, field).await?;
    }
    create_order_index(tx, object, field).await
}

/// Date fields are what list views sort by after the name (close dates, due dates, birthdays):
/// an index in SOQL's order (nulls first ascending, then the id, as keyset paging sorts ties)
/// lets a sorted page read its rows in order instead of sorting the whole table.
pub async fn create_order_index(tx: &mut Tx, object: &ObjectDef, field: &FieldDef) -> Result<()> {
    if field.field_type != FieldType::Date {
        return Ok(());
    }
    let mut sql = tx.sql();
    sql.push("CREATE INDEX IF NOT EXISTS ")
        .ident(&index_name("ox", &object.table, &field.column))
        .push(" ON ")
        .ident(&object.table)
        .push(" (")
        .ident(&field.column);
    if tx.dialect() == Dialect::Postgres {
        sql.push(" NULLS FIRST");
    }
    sql.push(", id)");
    tx.execute(sql).await.map(drop)
}

/// Text that filters compare case-insensitively, as `LOWER(column) = LOWER(value)`.
fn compared_lower(field: &FieldDef) -> bool {
    matches!(
        field.field_type,
        FieldType::Text
            | FieldType::Email
            | FieldType::Phone
            | FieldType::Url
            | FieldType::Picklist
    )
}

/// PostgreSQL keeps no statistics on `LOWER(column)` by itself, guesses that 0.5% of rows
/// match `LOWER(stagename) = 'prospecting'` (10% do), and plans a short LIMIT query as a
/// parallel scan five times slower than the plain one. Statistics on the expression (PostgreSQL
/// 14 and later; they cost nothing on writes) give it the true figure. SQLite needs none.
pub async fn create_lower_statistics(
    tx: &mut Tx,
    object: &ObjectDef,
    field: &FieldDef,
) -> Result<()> {
    if tx.dialect() != Dialect::Postgres || !compared_lower(field) {
        return Ok(());
    }
    let mut version = tx.sql();
    version.push("SELECT CAST(current_setting('server_version_num') AS BIGINT)");
    let rows = tx.fetch(version, &[Col::Int]).await?;
    if crate::metadata::int_at(&rows, 0) < 140_000 {
        return Ok(());
    }
    let mut sql = tx.sql();
    sql.push("CREATE STATISTICS IF NOT EXISTS ")
        .ident(&index_name("sx", &object.table, &field.column))
        .push(" ON (LOWER(")
        .ident(&field.column)
        .push(")) FROM ")
        .ident(&object.table);
    tx.execute(sql).await.map(drop)
}

/// "My records by name" is every object's first list view: an index on
/// `(OwnerId, LOWER(name), id)` reads one owner's page in order instead of fetching and
/// sorting all their records.
pub async fn create_owner_name_index(tx: &mut Tx, object: &ObjectDef) -> Result<()> {
    let (Some(owner), Some(name)) = (object.field("OwnerId"), object.name_field()) else {
        return Ok(());
    };
    if !object.owned || Col::of(name) != Col::Text {
        return Ok(());
    }
    let mut sql = tx.sql();
    sql.push("CREATE INDEX IF NOT EXISTS ")
        .ident(&index_name("on", &object.table, &name.column))
        .push(" ON ")
        .ident(&object.table)
        .push(" (")
        .ident(&owner.column)
        .push(", LOWER(")
        .ident(&name.column)
        .push(")");
    if tx.dialect() == Dialect::Postgres {
        sql.push(" NULLS FIRST");
    }
    sql.push(", id)");
    tx.execute(sql).await.map(drop)
}

/// An index on `(LOWER(column), id)`: SOQL compares and sorts text case-insensitively, so
/// `Name = 'acme'` and `ORDER BY Name` are `LOWER(name)` in SQL, which a plain index cannot
/// serve. The record name gets one (lists sort by it; lookups search it).
pub async fn create_lower_index(tx: &mut Tx, object: &ObjectDef, field: &FieldDef) -> Result<()> {
    let mut sql = tx.sql();
    sql.push("CREATE INDEX IF NOT EXISTS ")
        .ident(&index_name("lx", &object.table, &field.column))
        .push(" ON ")
        .ident(&object.table)
        .push(" (LOWER(")
        .ident(&field.column)
        .push(")");
    if tx.dialect() == Dialect::Postgres {
        // SOQL sorts nulls first ascending (and last descending, this index read backwards);
        // PostgreSQL's indexes put them last unless told.
        sql.push(" NULLS FIRST");
    }
    // Then the id: SOQL paging sorts ties by id (see app's keyset paging).
    sql.push(", id)");
    tx.execute(sql).await.map(drop)
}

/// Drops a field's indexes, if any.
pub async fn drop_indexes(tx: &mut Tx, object: &ObjectDef, field: &FieldDef) -> Result<()> {
    for name in [
        unique_index_name(&object.table, &field.column),
        index_name("ix", &object.table, &field.column),
        index_name("lx", &object.table, &field.column),
        index_name("ox", &object.table, &field.column),
    ] {
        let mut sql = tx.sql();
        sql.push("DROP INDEX IF EXISTS ").ident(&name);
        tx.execute(sql).await?;
    }
    if tx.dialect() == Dialect::Postgres {
        let mut sql = tx.sql();
        sql.push("DROP STATISTICS IF EXISTS ").ident(&index_name(
            "sx",
            &object.table,
            &field.column,
        ));
        tx.execute(sql).await?;
    }
    Ok(())
}

/// Adds the column of a new field, and its indexes. Cheap on both backends: neither rewrites
/// the table for a nullable column without a default.
pub async fn add_column(tx: &mut Tx, object: &ObjectDef, field: &FieldDef) -> Result<()> {
    let dialect = tx.dialect();
    let mut sql = tx.sql();
    sql.push("ALTER TABLE ")
        .ident(&object.table)
        .push(" ADD COLUMN ")
        .ident(&field.column)
        .push(" ")
        .push(&column_type(dialect, field));
    tx.execute(sql).await?;
    create_indexes(tx, object, field).await?;
    if crate::tally::is_tallied(field) {
        let mut grown = object.clone();
        grown.fields.push(field.clone());
        grown.reindex();
        crate::tally::field_changed(tx, &grown, field).await?;
    }
    Ok(())
}

/// Drops the column of a removed field (its indexes and tally triggers first: SQLite
/// refuses otherwise).
pub async fn drop_column(tx: &mut Tx, object: &ObjectDef, field: &FieldDef) -> Result<()> {
    drop_indexes(tx, object, field).await?;
    if crate::tally::is_tallied(field) {
        let mut shrunk = object.clone();
        shrunk.fields.retain(|f| f.name != field.name);
        shrunk.reindex();
        crate::tally::field_changed(tx, &shrunk, field).await?;
    }
    let mut sql = tx.sql();
    sql.push("ALTER TABLE ")
        .ident(&object.table)
        .push(" DROP COLUMN ")
        .ident(&field.column);
    tx.execute(sql).await.map(drop)
}

/// A field whose type changed in place (its column stays, as text to picklist does): its
/// tally comes or goes with it.
pub async fn retype_column(
    tx: &mut Tx,
    object: &ObjectDef,
    old: &FieldDef,
    new: &FieldDef,
) -> Result<()> {
    if crate::tally::is_tallied(old) == crate::tally::is_tallied(new) {
        return Ok(());
    }
    let mut changed = object.clone();
    for field in &mut changed.fields {
        if field.name == new.name {
            *field = new.clone();
        }
    }
    crate::tally::field_changed(tx, &changed, new).await
}

/// Changes the digits of a number column. PostgreSQL alters the NUMERIC type (rounding);
/// SQLite holds scaled integers, so the stored integers are rescaled.
pub async fn change_number_scale(
    tx: &mut Tx,
    object: &ObjectDef,
    old: &FieldDef,
    new: &FieldDef,
) -> Result<()> {
    let old_scale = i32::from(old.scale.unwrap_or(0));
    let new_scale = i32::from(new.scale.unwrap_or(0));
    match tx.dialect() {
        Dialect::Postgres => {
            let mut sql = tx.sql();
            sql.push("ALTER TABLE ")
                .ident(&object.table)
                .push(" ALTER COLUMN ")
                .ident(&new.column)
                .push(" TYPE ")
                .push(&column_type(Dialect::Postgres, new));
            tx.execute(sql).await.map(drop)
        }
        Dialect::Sqlite if new_scale != old_scale => {
            let mut sql = tx.sql();
            let column = &new.column;
            sql.push("UPDATE ")
                .ident(&object.table)
                .push(" SET ")
                .ident(column)
                .push(" = ");
            if new_scale > old_scale {
                sql.ident(column)
                    .push(" * ")
                    .int_param(10i64.pow((new_scale - old_scale) as u32));
            } else {
                // Integer arithmetic, rounding half away from zero as the API does on input
                // (through REAL, integers past 2^53 would lose digits).
                let factor = 10i64.pow((old_scale - new_scale) as u32);
                sql.push("(")
                    .ident(column)
                    .push(" + SIGN(")
                    .ident(column)
                    .push(") * ")
                    .int_param(factor / 2);
                sql.push(") / ").int_param(factor);
            }
            tx.execute(sql).await.map(drop)
        }
        Dialect::Sqlite => Ok(()),
    }
}

/// How many records hold a text longer than `length` characters in `field` (before a length
/// is reduced).
pub async fn count_longer_than(
    tx: &mut Tx,
    object: &ObjectDef,
    field: &FieldDef,
    length: u32,
) -> Result<i64> {
    let mut sql = tx.sql();
    sql.push("SELECT COUNT(*) FROM ")
        .ident(&object.table)
        .push(" WHERE LENGTH(")
        .ident(&field.column)
        .push(") > ")
        .int_param(i64::from(length));
    let rows = tx.fetch(sql, &[Col::Int]).await?;
    Ok(crate::metadata::int_at(&rows, 0))
}

/// How many records hold a number with more integer digits than `precision - scale` allows.
pub async fn count_too_large(
    tx: &mut Tx,
    object: &ObjectDef,
    field: &FieldDef,
    precision: u8,
    scale: u8,
) -> Result<i64> {
    let integer_digits = u32::from(precision.saturating_sub(scale));
    let stored_scale = u32::from(field.scale.unwrap_or(0));
    // SQLite stores units of 10^-scale of the old field; PostgreSQL stores the number itself.
    let limit = match tx.dialect() {
        Dialect::Sqlite => 10i128.pow(integer_digits + stored_scale),
        Dialect::Postgres => 10i128.pow(integer_digits),
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut sql = tx.sql();
    sql.push("SELECT COUNT(*) FROM ")
        .ident(&object.table)
        .push(" WHERE ABS(")
        .ident(&field.column)
        .push(") >= ")
        .int_param(limit);
    let rows = tx.fetch(sql, &[Col::Int]).await?;
    Ok(crate::metadata::int_at(&rows, 0))
}
