//! Group commit for single-record creates. Concurrent one-record creates (the REST `POST
//! /sobjects/{Type}` most integrations send) queue here; whoever holds the flush lock writes
//! everything queued in one transaction, with a result per record, and answers each waiter.
//! A transaction costs far more than a row (SQLite allows one writer; PostgreSQL flushes its
//! log per commit), so under load N waiting creates cost one commit instead of N. A lone
//! create is written at once, as before.

use std::collections::BTreeMap;
use std::sync::Mutex;

use tokio::sync::oneshot;

use model::{ErrorCode, RecordError, RecordId};

use crate::records::{RecordInput, RecordResult, WriteOptions};
use crate::{App, AppError, Caller, Result};

/// Most records one group commit writes.
const MAX_BATCH: usize = 500;

struct Pending {
    caller: Caller,
    object: String,
    input: RecordInput,
    reply: oneshot::Sender<RecordResult>,
}

#[derive(Default)]
pub(crate) struct CreateQueue {
    pending: Mutex<Vec<Pending>>,
    flush: tokio::sync::Mutex<()>,
}

impl CreateQueue {
    fn push(&self, pending: Pending) {
        let mut queue = match self.pending.lock() {
            Ok(queue) => queue,
            Err(poisoned) => poisoned.into_inner(),
        };
        queue.push(pending);
    }

    fn take(&self) -> Vec<Pending> {
        let mut queue = match self.pending.lock() {
            Ok(queue) => queue,
            Err(poisoned) => poisoned.into_inner(),
        };
        let count = queue.len().min(MAX_BATCH);
        queue.drain(..count).collect()
    }
}

impl App {
    /// Creates one record, committed together with whatever other single creates are waiting.
    pub async fn create_one(
        &self,
        caller: &Caller,
        object: &str,
        input: RecordInput,
    ) -> Result<RecordId> {
        let schema = self.schema().await?;
        let target = schema.object(object).ok_or_else(|| {
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
        let (reply, mut answer) = oneshot::channel();
        self.creates.push(Pending {
            caller: caller.clone(),
            object: target.name.clone(),
            input,
            reply,
        });
        loop {
            if let Ok(result) = answer.try_recv() {
                return result.map_err(AppError::Rejected);
            }
            let _flushing = self.creates.flush.lock().await;
            if let Ok(result) = answer.try_recv() {
                return result.map_err(AppError::Rejected);
            }
            let batch = self.creates.take();
            if !batch.is_empty() {
                self.write_queued(batch).await;
            }
        }
    }

    /// Writes queued creates in one transaction, grouped by object and caller.
    async fn write_queued(&self, batch: Vec<Pending>) {
        let mut groups: BTreeMap<(String, Option<RecordId>), Vec<Pending>> = BTreeMap::new();
        for pending in batch {
            groups
                .entry((pending.object.clone(), pending.caller.user_id.clone()))
                .or_default()
                .push(pending);
        }
        let groups: Vec<Vec<Pending>> = groups.into_values().collect();
        let outcome = self.write_groups(&groups).await;
        for (group, results) in groups
            .into_iter()
            .zip(outcome.into_iter().chain(std::iter::repeat_with(Vec::new)))
        {
            let mut results = results.into_iter();
            for pending in group {
                let result = results.next().unwrap_or_else(|| {
                    Err(vec![RecordError::new(
                        ErrorCode::UnknownException,
                        "the write failed",
                    )])
                });
                let _ = pending.reply.send(result);
            }
        }
    }

    /// One result list per group; on a failure of the transaction itself, every record gets it.
    async fn write_groups(&self, groups: &[Vec<Pending>]) -> Vec<Vec<RecordResult>> {
        let fail_all = |error: AppError| -> Vec<Vec<RecordResult>> {
            if let AppError::Internal(cause) = &error {
                tracing::error!(%cause, "group commit failed");
            }
            groups
                .iter()
                .map(|g| g.iter().map(|_| Err(error.errors())).collect())
                .collect()
        };
        let attempt = async {
            let schema = self.schema().await?;
            let options = WriteOptions { all_or_none: false };
            let mut prepared = Vec::with_capacity(groups.len());
            let mut count = 0u64;
            for group in groups {
                let inputs: Vec<RecordInput> = group.iter().map(|p| p.input.clone()).collect();
                let Some(first) = group.first() else { continue };
                let batch = self
                    .prepare_inserts(&schema, &first.caller, &first.object, inputs, options)
                    .await?;
                count += batch.row_count() as u64;
                prepared.push(batch);
            }
            let mut numbers = self.store().reserve_record_numbers(count).await?;
            let mut tx = self.store().begin().await?;
            let mut results = Vec::with_capacity(prepared.len());
            for batch in prepared {
                results.push(
                    self.write_inserts(&mut tx, &schema, batch, options, &mut numbers)
                        .await?,
                );
            }
            tx.commit().await?;
            Ok::<_, AppError>(results)
        };
        attempt.await.unwrap_or_else(fail_all)
    }
}
