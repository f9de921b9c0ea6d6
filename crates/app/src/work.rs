//! A unit of work: several record operations in one transaction, committed together or not
//! at all (the REST `/composite` request with `allOrNone`). Reads inside it see its writes.

use std::ops::Range;
use std::sync::Arc;

use model::{ErrorCode, Schema};
use store::Tx;

use crate::records::{Record, RecordInput, RecordResult, Update, WriteOptions};
use crate::upsert::UpsertResult;
use crate::{App, AppError, Caller, Result};

/// Record numbers one unit of work may use: a composite request holds at most 25
/// subrequests of at most 200 records each, with room for their history rows.
const WORK_NUMBERS: u64 = 25 * 200 * 4;

/// Operations sharing one transaction.
pub struct Work {
    pub(crate) tx: Tx,
    pub(crate) schema: Arc<Schema>,
    /// Reserved before the transaction began (reserving inside it would wait on SQLite's
    /// write lock, which the transaction holds).
    pub(crate) numbers: Range<u64>,
}

impl App {
    /// Begins a unit of work.
    pub async fn begin_work(&self) -> Result<Work> {
        let schema = self.schema().await?;
        let numbers = self.store().reserve_record_numbers(WORK_NUMBERS).await?;
        let tx = self.store().begin().await?;
        Ok(Work {
            tx,
            schema,
            numbers,
        })
    }

    pub async fn create_many_in(
        &self,
        work: &mut Work,
        caller: &Caller,
        object: &str,
        inputs: Vec<RecordInput>,
        options: WriteOptions,
    ) -> Result<Vec<RecordResult>> {
        let target = work.schema.object(object).ok_or_else(|| {
            AppError::one(
                ErrorCode::NotFound,
                format!("sObject type '{object}' is not supported."),
            )
        })?;
        if !target.createable {
            return Err(AppError::one(
                ErrorCode::InvalidOperation,
                format!("entity type cannot be inserted: {}", target.name),
            ));
        }
        let prepared = self
            .prepare_inserts(&work.schema, caller, object, inputs, options)
            .await?;
        self.write_inserts(
            &mut work.tx,
            &work.schema,
            prepared,
            options,
            &mut work.numbers,
        )
        .await
    }

    pub async fn update_many_in(
        &self,
        work: &mut Work,
        caller: &Caller,
        object: &str,
        updates: Vec<Update>,
        options: WriteOptions,
    ) -> Result<Vec<RecordResult>> {
        let prepared = self
            .prepare_updates(&work.schema, object, updates, options)
            .await?;
        self.write_updates(
            &mut work.tx,
            &work.schema,
            caller,
            prepared,
            options,
            &mut work.numbers,
        )
        .await
    }

    pub async fn delete_many_in(
        &self,
        work: &mut Work,
        caller: &Caller,
        ids: Vec<String>,
        options: WriteOptions,
    ) -> Result<Vec<RecordResult>> {
        let (results, by_object) = crate::recycle::parse_delete_ids(&work.schema, &ids);
        self.write_deletes(
            &mut work.tx,
            &work.schema,
            caller,
            results,
            by_object,
            options,
            &mut work.numbers,
        )
        .await
    }

    pub async fn upsert_many_in(
        &self,
        work: &mut Work,
        caller: &Caller,
        object: &str,
        external_field: &str,
        inputs: Vec<RecordInput>,
        options: WriteOptions,
    ) -> Result<Vec<UpsertResult>> {
        self.upsert_in(
            &mut work.tx,
            &work.schema,
            caller,
            object,
            external_field,
            inputs,
            options,
            &mut work.numbers,
        )
        .await
    }

    pub async fn get_in_work(
        &self,
        work: &mut Work,
        caller: &Caller,
        object: &str,
        id: &str,
        fields: Option<&[String]>,
    ) -> Result<Record> {
        self.get_in(Some(&mut work.tx), &work.schema, caller, object, id, fields)
            .await
    }
}

impl Work {
    /// The context of system writes made inside this unit of work, as `caller`, at `now`.
    pub(crate) fn write_context<'w>(
        &'w mut self,
        caller: &'w Caller,
        now: time::OffsetDateTime,
    ) -> crate::records::WriteContext<'w> {
        crate::records::WriteContext {
            tx: &mut self.tx,
            schema: &self.schema,
            numbers: &mut self.numbers,
            caller,
            now,
        }
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
