//! Record numbers for new ids, handed out in blocks so that a bulk insert does not touch the
//! sequence row per record, and so that several processes sharing one database never hand out
//! the same number.

use std::ops::Range;
use std::sync::Mutex;

use crate::backend::Store;
use crate::sql::{Col, Sql};
use crate::{Result, StoreError};

/// Numbers taken from the database at a time.
const BLOCK: u64 = 10_000;

#[derive(Default)]
pub(crate) struct IdAllocator {
    cached: Mutex<Range<u64>>,
}

impl Store {
    /// Reserves `count` record numbers. Call it before beginning the transaction that uses
    /// them: on SQLite the reservation needs the write lock for a moment. Numbers a failed
    /// transaction did not use are never reused; ids have gaps, as Salesforce's do.
    pub async fn reserve_record_numbers(&self, count: u64) -> Result<Range<u64>> {
        {
            let mut cached = self
                .ids
                .cached
                .lock()
                .map_err(|_| StoreError::Corrupt("id allocator lock poisoned".into()))?;
            if cached.end - cached.start >= count {
                let start = cached.start;
                cached.start += count;
                return Ok(start..start + count);
            }
        }
        let size = count.max(BLOCK);
        let rows = self.fetch(advance(self.sql(), size)?, &[Col::Int]).await?;
        let block = advanced(&rows, size)?;
        let mut cached = self
            .ids
            .cached
            .lock()
            .map_err(|_| StoreError::Corrupt("id allocator lock poisoned".into()))?;
        // Keep the rest of the new block for later calls.
        *cached = block.start + count..block.end;
        Ok(block.start..block.start + count)
    }
}

/// Reserves `count` more record numbers inside a transaction, for a write whose follow-on
/// rows (history, roll-ups) outgrew what was reserved before it began. The numbers are
/// taken with the transaction: if it rolls back, so does the reservation (nothing used
/// them). On PostgreSQL the sequence row stays locked until the transaction ends, so this is
/// the exception, not the rule.
pub async fn reserve_in(tx: &mut crate::Tx, count: u64) -> Result<Range<u64>> {
    let size = count.max(1);
    let rows = tx.fetch(advance(tx.sql(), size)?, &[Col::Int]).await?;
    advanced(&rows, size)
}

/// The statement that moves the record sequence on by `size`, returning where it now ends.
fn advance(mut sql: Sql, size: u64) -> Result<Sql> {
    sql.push("UPDATE rapport_sequence SET next_value = next_value + ")
        .int_param(
            i64::try_from(size).map_err(|_| StoreError::Corrupt("id block too large".into()))?,
        )
        .push(" WHERE name = 'record' RETURNING next_value");
    Ok(sql)
}

/// The `size` numbers that `advance` reserved, from the end it returned.
fn advanced(rows: &[Vec<model::Value>], size: u64) -> Result<Range<u64>> {
    let end = rows
        .first()
        .and_then(|row| row.first())
        .and_then(|v| match v {
            model::Value::Decimal(d) => u64::try_from(*d).ok(),
            _ => None,
        })
        .ok_or_else(|| StoreError::Corrupt("rapport_sequence has no 'record' row".into()))?;
    Ok(end - size..end)
}
