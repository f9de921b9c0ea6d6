//! Replication helpers: which records changed or were deleted in a time window (the REST
//! `/sobjects/{Type}/updated` and `/deleted` resources that sync jobs poll).

use time::OffsetDateTime;

use model::{ErrorCode, RecordId, Value};
use store::{Filter, Op};

use crate::{App, AppError, Caller, Result};

/// A record deleted in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedRecord {
    pub id: RecordId,
    pub deleted_at: OffsetDateTime,
}

fn window(start: OffsetDateTime, end: OffsetDateTime) -> Result<()> {
    if start >= end {
        return Err(AppError::one(
            ErrorCode::InvalidReplicationDate,
            "start must be before end",
        ));
    }
    Ok(())
}

impl App {
    /// Ids of live records of `object` changed (SystemModstamp) in `[start, end)`.
    pub async fn updated_ids(
        &self,
        caller: &Caller,
        object: &str,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<RecordId>> {
        window(start, end)?;
        let filter = Filter::And(vec![
            Filter::Compare {
                field: "SystemModstamp".into(),
                op: Op::Ge,
                value: Value::DateTime(start),
            },
            Filter::Compare {
                field: "SystemModstamp".into(),
                op: Op::Lt,
                value: Value::DateTime(end),
            },
        ]);
        let records = self
            .find(
                caller,
                object,
                &["Id"],
                Some(filter),
                vec![("SystemModstamp".into(), false)],
                Some(600_000),
            )
            .await?;
        Ok(records.iter().filter_map(|r| r.id().cloned()).collect())
    }

    /// Records of `object` deleted in `[start, end)` that are still in the recycle bin (those
    /// the caller could see).
    pub async fn deleted_records(
        &self,
        caller: &Caller,
        object: &str,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<DeletedRecord>> {
        window(start, end)?;
        let schema = self.schema().await?;
        let object = schema
            .object(object)
            .ok_or_else(crate::records::not_found)?;
        self.require(caller, object, crate::access::Need::Read)
            .await?;
        let entries =
            store::records::bin_entries_between(self.store(), &object.name, start, end).await?;
        let ids: Vec<RecordId> = entries.iter().map(|e| e.record_id.clone()).collect();
        let visible = self.readable_ids(caller, object, &ids).await?;
        Ok(entries
            .into_iter()
            .filter(|e| visible.as_ref().is_none_or(|v| v.contains(&e.record_id)))
            .map(|e| DeletedRecord {
                id: e.record_id,
                deleted_at: e.deleted_at,
            })
            .collect())
    }
}
