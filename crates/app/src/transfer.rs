//! Transferring ownership of many records at once, as Salesforce's mass transfer does: each
//! record changes owner through the record path (the caller's transfer and edit rights, per
//! record), and what the previous owner held on it follows: their open tasks and future
//! events on the record; for an account, its contacts they owned and, if asked, their open
//! opportunities on it. Records succeed or fail one by one; what follows a record moves in
//! the same transaction as the record.

use std::collections::{BTreeMap, HashMap, HashSet};

use model::{ErrorCode, RecordError, RecordId, Value};
use store::{Filter, Op, Select};

use crate::records::{RecordInput, RecordResult, Update, WriteOptions};
use crate::work::Work;
use crate::{App, AppError, Caller, Result};

/// A mass transfer: the records, their new owner, and whether an account's open
/// opportunities owned by its previous owner go along.
#[derive(Debug, Clone, Default)]
pub struct Transfer {
    pub ids: Vec<String>,
    pub owner_id: String,
    pub open_opportunities: bool,
}

/// Records moved per statement.
const CHUNK: usize = 200;

impl App {
    /// Transfers records to a new owner; the outcome of each, in order.
    pub async fn transfer(&self, caller: &Caller, transfer: Transfer) -> Result<Vec<RecordResult>> {
        let schema = self.schema().await?;
        let owner = RecordId::parse(&transfer.owner_id).map_err(|_| {
            AppError::on_field(
                ErrorCode::MalformedId,
                "ownerId",
                format!("ownerId: invalid id: {}", transfer.owner_id),
            )
        })?;
        // A user, or a queue for the objects queues may own (the record path checks which).
        if schema
            .object_by_prefix(owner.key_prefix())
            .is_none_or(|o| o.name != "User" && o.name != "Group")
        {
            return Err(AppError::on_field(
                ErrorCode::FieldIntegrityException,
                "ownerId",
                format!("ownerId: {} is not a user or a queue", owner.to_18()),
            ));
        }
        let mut results: Vec<RecordResult> = Vec::with_capacity(transfer.ids.len());
        let mut by_object: BTreeMap<String, Vec<(usize, RecordId)>> = BTreeMap::new();
        for (i, text) in transfer.ids.iter().enumerate() {
            let Ok(id) = RecordId::parse(text) else {
                results.push(Err(vec![RecordError::new(
                    ErrorCode::MalformedId,
                    format!("invalid id: {text}"),
                )]));
                continue;
            };
            match schema.object_by_prefix(id.key_prefix()) {
                Some(object) if object.field("OwnerId").is_some() => {
                    by_object
                        .entry(object.name.clone())
                        .or_default()
                        .push((i, id.clone()));
                    results.push(Ok(id));
                }
                Some(object) => results.push(Err(vec![RecordError::new(
                    ErrorCode::InvalidOperation,
                    format!("{} records have no owner to transfer", object.name),
                )])),
                None => results.push(Err(vec![RecordError::new(
                    ErrorCode::NotFound,
                    format!("The requested resource does not exist: {text}"),
                )])),
            }
        }
        for (object_name, entries) in by_object {
            // One transaction per chunk: a long transfer holds no lock for long, and each
            // record moves together with what follows it.
            for chunk in entries.chunks(CHUNK) {
                let mut work = self.begin_work().await?;
                work.tx.savepoint("transfer_chunk").await?;
                let ids: Vec<RecordId> = chunk.iter().map(|(_, id)| id.clone()).collect();
                match self
                    .transfer_in(&mut work, caller, &object_name, &ids, &owner, &transfer)
                    .await
                {
                    Ok(outcomes) => {
                        work.tx.release("transfer_chunk").await?;
                        for ((i, _), outcome) in chunk.iter().zip(outcomes) {
                            results[*i] = outcome;
                        }
                    }
                    // Something that follows a record could not move: record by record,
                    // each with what follows it or not at all.
                    Err(AppError::Rejected(_)) => {
                        crate::records::roll_back_to(
                            &mut work.tx,
                            "transfer_chunk",
                            &mut work.numbers,
                        )
                        .await?;
                        for (i, id) in chunk {
                            work.tx.savepoint("transfer_one").await?;
                            let one = std::slice::from_ref(id);
                            match self
                                .transfer_in(
                                    &mut work,
                                    caller,
                                    &object_name,
                                    one,
                                    &owner,
                                    &transfer,
                                )
                                .await
                            {
                                Ok(mut outcome) => {
                                    work.tx.release("transfer_one").await?;
                                    results[*i] = outcome.pop().unwrap_or_else(|| Ok(id.clone()));
                                }
                                Err(AppError::Rejected(errors)) => {
                                    crate::records::roll_back_to(
                                        &mut work.tx,
                                        "transfer_one",
                                        &mut work.numbers,
                                    )
                                    .await?;
                                    results[*i] = Err(errors);
                                }
                                Err(other) => return Err(other),
                            }
                        }
                    }
                    Err(other) => return Err(other),
                }
                work.commit().await?;
            }
        }
        Ok(results)
    }

    /// Gives `ids` of `object` the new owner as the caller, and moves what follows the ones
    /// that changed hands; the outcome of each record, or the error of what could not follow.
    async fn transfer_in(
        &self,
        work: &mut Work,
        caller: &Caller,
        object: &str,
        ids: &[RecordId],
        owner: &RecordId,
        transfer: &Transfer,
    ) -> Result<Vec<RecordResult>> {
        let before = owners(work, object, ids).await?;
        let updates = ids
            .iter()
            .map(|id| Update {
                id: id.to_18(),
                input: owner_input(owner),
                if_unmodified_since: None,
            })
            .collect();
        let outcomes = self
            .update_many_in(
                work,
                caller,
                object,
                updates,
                WriteOptions { all_or_none: false },
            )
            .await?;
        let mut moved: HashMap<RecordId, RecordId> = HashMap::new();
        for (id, outcome) in ids.iter().zip(&outcomes) {
            if outcome.is_ok()
                && let Some(previous) = before.get(id)
                && previous != owner
            {
                moved.insert(id.clone(), previous.clone());
            }
        }
        self.move_what_follows(work, object, &moved, owner, transfer)
            .await?;
        Ok(outcomes)
    }

    /// Moves to `owner` what each record's previous owner held on it (see the module).
    async fn move_what_follows(
        &self,
        work: &mut Work,
        object: &str,
        moved: &HashMap<RecordId, RecordId>,
        owner: &RecordId,
        transfer: &Transfer,
    ) -> Result<()> {
        if moved.is_empty() {
            return Ok(());
        }
        let ids: Vec<Value> = moved.keys().cloned().map(Value::Id).collect();
        let now = model::value::now_millis();
        let mut follow: Vec<(&str, Filter, &[&str])> = vec![
            (
                "Task",
                Filter::And(vec![
                    Filter::Or(vec![
                        Filter::any_of("WhatId", ids.clone()),
                        Filter::any_of("WhoId", ids.clone()),
                    ]),
                    Filter::eq("IsClosed", Value::Bool(false)),
                ]),
                &["WhatId", "WhoId"],
            ),
            (
                "Event",
                Filter::And(vec![
                    Filter::Or(vec![
                        Filter::any_of("WhatId", ids.clone()),
                        Filter::any_of("WhoId", ids.clone()),
                    ]),
                    Filter::Compare {
                        field: "EndDateTime".into(),
                        op: Op::Ge,
                        value: Value::DateTime(now),
                    },
                ]),
                &["WhatId", "WhoId"],
            ),
        ];
        if object == "Account" {
            follow.push((
                "Contact",
                Filter::any_of("AccountId", ids.clone()),
                &["AccountId"],
            ));
            if transfer.open_opportunities {
                follow.push((
                    "Opportunity",
                    Filter::And(vec![
                        Filter::any_of("AccountId", ids.clone()),
                        Filter::eq("IsClosed", Value::Bool(false)),
                    ]),
                    &["AccountId"],
                ));
            }
        }
        for (child_name, filter, links) in follow {
            let Some(child) = work.schema.object(child_name).cloned() else {
                continue;
            };
            let mut names = vec!["Id", "OwnerId"];
            names.extend_from_slice(links);
            let fields: Vec<&model::FieldDef> =
                names.iter().filter_map(|f| child.field(f)).collect();
            if fields.len() != names.len() {
                continue;
            }
            let mut select = Select::new(&child, fields);
            select.filter = Some(filter);
            let rows = store::records::select_in(&mut work.tx, &select).await?;
            let mut seen = HashSet::new();
            let updates: Vec<Update> = rows
                .iter()
                .filter(|row| {
                    // Only what the record's previous owner held.
                    row[2..].iter().any(|link| {
                        link.as_id()
                            .and_then(|record| moved.get(record))
                            .is_some_and(|previous| row[1].as_id() == Some(previous))
                    })
                })
                .filter_map(|row| row[0].as_id().cloned())
                .filter(|id| seen.insert(id.clone()))
                .map(|id| Update {
                    id: id.to_18(),
                    input: owner_input(owner),
                    if_unmodified_since: None,
                })
                .collect();
            if updates.is_empty() {
                continue;
            }
            // What follows moves with the record whatever the caller's rights on it, as
            // lead conversion moves activities.
            for outcome in self
                .update_many_in(
                    work,
                    &Caller::system(),
                    child_name,
                    updates,
                    WriteOptions { all_or_none: true },
                )
                .await?
            {
                outcome.map_err(AppError::Rejected)?;
            }
        }
        Ok(())
    }
}

fn owner_input(owner: &RecordId) -> RecordInput {
    let mut input = RecordInput::new();
    input.insert("OwnerId".into(), owner.to_18().into());
    input
}

/// The owners of `ids` of `object`.
async fn owners(
    work: &mut Work,
    object: &str,
    ids: &[RecordId],
) -> Result<HashMap<RecordId, RecordId>> {
    let Some(object) = work.schema.object(object).cloned() else {
        return Ok(HashMap::new());
    };
    let (Some(id_field), Some(owner_field)) = (object.field("Id"), object.field("OwnerId")) else {
        return Ok(HashMap::new());
    };
    let mut select = Select::new(&object, vec![id_field, owner_field]);
    select.filter = Some(Filter::any_of(
        "Id",
        ids.iter().cloned().map(Value::Id).collect(),
    ));
    Ok(store::records::select_in(&mut work.tx, &select)
        .await?
        .into_iter()
        .filter_map(|row| Some((row[0].as_id()?.clone(), row[1].as_id()?.clone())))
        .collect())
}
