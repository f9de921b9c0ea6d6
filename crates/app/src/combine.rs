//! Group commit for single-record creates and updates. Concurrent one-record writes (the REST
//! `POST /sobjects/{Type}` and `PATCH /sobjects/{Type}/{Id}` most integrations send) queue
//! here; whoever holds the flush lock writes everything queued in one transaction, with a
//! result per record, and answers each waiter. A transaction costs far more than a row
//! (SQLite allows one writer; PostgreSQL flushes its log per commit), so under load N waiting
//! writes cost one commit instead of N. A lone write is written at once, as before.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use tokio::sync::oneshot;

use model::{ErrorCode, RecordError, RecordId};

use crate::records::{RecordInput, RecordResult, Update, WriteOptions};
use crate::{App, AppError, Caller, Result};

/// Most records one group commit writes.
const MAX_BATCH: usize = 500;

/// One queued write and where its result goes.
struct Pending<T> {
    caller: Caller,
    object: String,
    write: T,
    reply: oneshot::Sender<RecordResult>,
}

/// Writes waiting for a group commit, and the lock whose holder commits them.
pub(crate) struct Queue<T> {
    pending: Mutex<Vec<Pending<T>>>,
    flush: tokio::sync::Mutex<()>,
}

impl<T> Default for Queue<T> {
    fn default() -> Queue<T> {
        Queue {
            pending: Mutex::new(Vec::new()),
            flush: tokio::sync::Mutex::new(()),
        }
    }
}

impl<T> Queue<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Pending<T>>> {
        match self.pending.lock() {
            Ok(queue) => queue,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn push(&self, pending: Pending<T>) {
        self.lock().push(pending);
    }
}

impl<T: Queued> Queue<T> {
    /// Takes up to a batch of queued writes, in order; a second write of a record already in
    /// the batch stays queued for the next one.
    fn take(&self) -> Vec<Pending<T>> {
        let mut queue = self.lock();
        let mut taken = Vec::new();
        let mut kept = Vec::new();
        let mut records = HashSet::new();
        for pending in queue.drain(..) {
            let fresh = pending.write.record().is_none_or(|id| records.insert(id));
            if taken.len() < MAX_BATCH && fresh {
                taken.push(pending);
            } else {
                kept.push(pending);
            }
        }
        *queue = kept;
        taken
    }
}

/// A kind of write that can be queued: creates name no record yet, updates name theirs.
pub(crate) trait Queued: Sized + Send + 'static {
    fn record(&self) -> Option<String>;
}

impl Queued for RecordInput {
    fn record(&self) -> Option<String> {
        None
    }
}

impl Queued for Update {
    fn record(&self) -> Option<String> {
        Some(
            RecordId::parse(&self.id)
                .map(|id| id.as_str15().to_string())
                .unwrap_or_else(|_| self.id.clone()),
        )
    }
}

/// Groups a batch by object and caller (one prepared write each), keeping request order inside.
fn by_object_and_caller<T>(batch: Vec<Pending<T>>) -> Vec<Vec<Pending<T>>> {
    let mut groups: BTreeMap<(String, Option<RecordId>), Vec<Pending<T>>> = BTreeMap::new();
    for pending in batch {
        groups
            .entry((pending.object.clone(), pending.caller.user_id.clone()))
            .or_default()
            .push(pending);
    }
    groups.into_values().collect()
}

/// Each caller's group is written in a savepoint of the shared transaction, so that a
/// refusal of one caller's whole write (no permission on the object, say) reaches only them.
const GROUP_SAVEPOINT: &str = "queued_group";

/// A refusal of one group's whole write stays that group's; any other failure is the
/// transaction's.
fn own_refusal<T>(result: Result<T>) -> Result<std::result::Result<T, Vec<RecordError>>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(AppError::Rejected(errors)) => Ok(Err(errors)),
        Err(other) => Err(other),
    }
}

/// Ends a group's savepoint: kept when the group's write ran, rolled back when it was refused.
async fn close_group(
    tx: &mut store::Tx,
    written: Result<Vec<RecordResult>>,
    numbers: &mut std::ops::Range<u64>,
) -> Result<std::result::Result<Vec<RecordResult>, Vec<RecordError>>> {
    match own_refusal(written)? {
        Ok(results) => {
            tx.release(GROUP_SAVEPOINT).await?;
            Ok(Ok(results))
        }
        Err(refusal) => {
            crate::records::roll_back_to(tx, GROUP_SAVEPOINT, numbers).await?;
            Ok(Err(refusal))
        }
    }
}

/// A group's results: its own per record, or its refusal for each of its records.
fn results_of<T>(
    group: &[Pending<T>],
    written: std::result::Result<Vec<RecordResult>, Vec<RecordError>>,
) -> Vec<RecordResult> {
    match written {
        Ok(results) => results,
        Err(refusal) => group.iter().map(|_| Err(refusal.clone())).collect(),
    }
}

/// Sends each waiter its result; a failure of the whole transaction reaches them all.
fn answer<T>(groups: Vec<Vec<Pending<T>>>, outcome: Result<Vec<Vec<RecordResult>>>) {
    let outcome = outcome.unwrap_or_else(|error| {
        if let AppError::Internal(cause) = &error {
            tracing::error!(%cause, "group commit failed");
        }
        groups
            .iter()
            .map(|g| g.iter().map(|_| Err(error.errors())).collect())
            .collect()
    });
    for (group, results) in groups.into_iter().zip(outcome) {
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

impl App {
    fn object_for_write(&self, schema: &model::Schema, object: &str) -> Result<String> {
        schema
            .object(object)
            .map(|o| o.name.clone())
            .ok_or_else(|| {
                AppError::one(
                    ErrorCode::NotFound,
                    format!("sObject type '{object}' is not supported."),
                )
            })
    }

    /// Creates one record, committed together with whatever other single creates are waiting.
    pub async fn create_one(
        &self,
        caller: &Caller,
        object: &str,
        input: RecordInput,
    ) -> Result<RecordId> {
        let schema = self.schema().await?;
        let name = self.object_for_write(&schema, object)?;
        if schema.object(&name).is_some_and(|o| !o.createable) {
            return Err(AppError::one(
                ErrorCode::InvalidOperation,
                format!("entity type cannot be inserted: {name}"),
            ));
        }
        let (reply, mut answer) = oneshot::channel();
        self.creates.push(Pending {
            caller: caller.clone(),
            object: name,
            write: input,
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
                self.write_queued_creates(batch).await;
            }
        }
    }

    /// Updates one record, committed together with whatever other single updates are waiting.
    /// Two updates of one record never share a batch: the second sees the first's result.
    pub async fn update_one(&self, caller: &Caller, object: &str, update: Update) -> Result<()> {
        let schema = self.schema().await?;
        let name = self.object_for_write(&schema, object)?;
        let (reply, mut answer) = oneshot::channel();
        self.updates.push(Pending {
            caller: caller.clone(),
            object: name,
            write: update,
            reply,
        });
        loop {
            if let Ok(result) = answer.try_recv() {
                return result.map(drop).map_err(AppError::Rejected);
            }
            let _flushing = self.updates.flush.lock().await;
            if let Ok(result) = answer.try_recv() {
                return result.map(drop).map_err(AppError::Rejected);
            }
            let batch = self.updates.take();
            if !batch.is_empty() {
                self.write_queued_updates(batch).await;
            }
        }
    }

    async fn write_queued_creates(&self, batch: Vec<Pending<RecordInput>>) {
        let groups = by_object_and_caller(batch);
        let outcome = async {
            let schema = self.schema().await?;
            let options = WriteOptions { all_or_none: false };
            let mut prepared = Vec::with_capacity(groups.len());
            let mut count = 0u64;
            for group in &groups {
                let Some(first) = group.first() else {
                    prepared.push(Err(Vec::new()));
                    continue;
                };
                let inputs = group.iter().map(|p| p.write.clone()).collect();
                let batch = own_refusal(
                    self.prepare_inserts(&schema, &first.caller, &first.object, inputs, options)
                        .await,
                )?;
                if let Ok(batch) = &batch {
                    count += batch.numbers_needed();
                }
                prepared.push(batch);
            }
            let mut numbers = self.store().reserve_record_numbers(count).await?;
            let mut tx = self.store().begin().await?;
            let mut results = Vec::with_capacity(prepared.len());
            for (group, batch) in groups.iter().zip(prepared) {
                let written = match batch {
                    Ok(batch) => {
                        tx.savepoint(GROUP_SAVEPOINT).await?;
                        let written = self
                            .write_inserts(&mut tx, &schema, batch, options, &mut numbers)
                            .await;
                        close_group(&mut tx, written, &mut numbers).await?
                    }
                    Err(refusal) => Err(refusal),
                };
                results.push(results_of(group, written));
            }
            tx.commit().await?;
            Ok(results)
        }
        .await;
        answer(groups, outcome);
    }

    async fn write_queued_updates(&self, batch: Vec<Pending<Update>>) {
        let groups = by_object_and_caller(batch);
        let outcome = async {
            let schema = self.schema().await?;
            let options = WriteOptions { all_or_none: false };
            let mut prepared = Vec::with_capacity(groups.len());
            let mut history_rows = 0u64;
            for group in &groups {
                let Some(first) = group.first() else {
                    prepared.push(Err(Vec::new()));
                    continue;
                };
                let updates = group.iter().map(|p| p.write.clone()).collect();
                let batch = own_refusal(
                    self.prepare_updates(&schema, &first.object, updates, options)
                        .await,
                )?;
                if let Ok(batch) = &batch {
                    history_rows += batch.history_rows();
                }
                prepared.push(batch.map(|batch| (first.caller.clone(), batch)));
            }
            let mut numbers = self.store().reserve_record_numbers(history_rows).await?;
            let mut tx = self.store().begin().await?;
            let mut results = Vec::with_capacity(prepared.len());
            for (group, batch) in groups.iter().zip(prepared) {
                let written = match batch {
                    Ok((caller, batch)) => {
                        tx.savepoint(GROUP_SAVEPOINT).await?;
                        let written = self
                            .write_updates(&mut tx, &schema, &caller, batch, options, &mut numbers)
                            .await;
                        close_group(&mut tx, written, &mut numbers).await?
                    }
                    Err(refusal) => Err(refusal),
                };
                results.push(results_of(group, written));
            }
            tx.commit().await?;
            Ok(results)
        }
        .await;
        answer(groups, outcome);
    }
}
