//! Deleting to the recycle bin, undeleting and purging. A delete takes along the records
//! whose reference to it cascades (line items of an opportunity, members of a campaign,
//! history rows); undeleting the record brings them back; purging removes them for good and
//! clears lookups that pointed at them.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use model::{ErrorCode, ObjectDef, RecordError, RecordId, Schema, Value};
use store::plan::Deleted;
use store::records::BinEntry;
use store::{Filter, Select, Tx};

use crate::records::{
    RECYCLE_BIN_DAYS, RecordResult, WriteContext, WriteOptions, finish, not_found, roll_back_all,
};
use crate::{App, AppError, Caller, Result};

/// Record numbers reserved per record deleted, for the history its roll-ups write on parents
/// (a deleted product line changes its opportunity's amount).
const ROLLUP_NUMBERS_PER_DELETE: u64 = 2;

/// Record numbers reserved for an undelete's roll-ups (the size of the group is known only
/// inside the transaction, where SQLite cannot reserve more).
const UNDELETE_ROLLUP_NUMBERS: u64 = 4096;

/// Finds the live or deleted state of `ids` of one object: id → is deleted.
async fn states(
    tx: &mut Tx,
    object: &ObjectDef,
    ids: &[RecordId],
) -> Result<HashMap<RecordId, bool>> {
    let (Some(id_field), Some(deleted_field)) = (object.field("Id"), object.field("IsDeleted"))
    else {
        return Ok(HashMap::new());
    };
    let mut found = HashMap::new();
    for chunk in ids.chunks(1000) {
        let mut select = Select::new(object, vec![id_field, deleted_field]);
        select.filter = Some(Filter::any_of(
            "Id",
            chunk.iter().cloned().map(Value::Id).collect(),
        ));
        select.deleted = Deleted::Include;
        select.lock = store::plan::Lock::Update;
        for row in store::records::select_in(tx, &select).await? {
            if let [Value::Id(id), deleted] = row.as_slice() {
                found.insert(id.clone(), *deleted == Value::Bool(true));
            }
        }
    }
    Ok(found)
}

/// Cascades that stop at children another parent has taken over: a converted lead's campaign
/// memberships are its contact's (ContactId set) and stay when the lead goes.
const TAKEN_OVER: [(&str, &str, &str); 1] = [("CampaignMember", "LeadId", "ContactId")];

/// The live records whose cascading references point at `parents` (of `parent_object`),
/// recursively, each with the root it is deleted with.
async fn cascade(
    tx: &mut Tx,
    schema: &Schema,
    parent_object: &str,
    parents: Vec<(RecordId, RecordId)>,
) -> Result<Vec<(Arc<ObjectDef>, RecordId, RecordId)>> {
    let mut found = Vec::new();
    let mut frontier: Vec<(String, Vec<(RecordId, RecordId)>)> =
        vec![(parent_object.to_string(), parents)];
    while let Some((object_name, parents)) = frontier.pop() {
        let root_of: HashMap<RecordId, RecordId> = parents.iter().cloned().collect();
        for relation in schema
            .child_relationships(&object_name)
            .iter()
            .filter(|r| r.cascade_delete)
        {
            let Some(child) = schema.object(&relation.child_object) else {
                continue;
            };
            let (Some(id_field), Some(link)) = (child.field("Id"), child.field(&relation.field))
            else {
                continue;
            };
            let mut children = Vec::new();
            for chunk in parents.chunks(1000) {
                let mut select = Select::new(child, vec![id_field, link]);
                let linked = Filter::any_of(
                    &relation.field,
                    chunk.iter().map(|(id, _)| Value::Id(id.clone())).collect(),
                );
                select.filter = Some(
                    match TAKEN_OVER
                        .iter()
                        .find(|(o, l, _)| *o == child.name && *l == relation.field)
                    {
                        Some((_, _, other)) => {
                            Filter::And(vec![linked, Filter::eq(other, Value::Null)])
                        }
                        None => linked,
                    },
                );
                for row in store::records::select_in(tx, &select).await? {
                    if let [Value::Id(id), Value::Id(parent)] = row.as_slice()
                        && let Some(root) = root_of.get(parent)
                    {
                        children.push((id.clone(), root.clone()));
                        found.push((child.clone(), id.clone(), root.clone()));
                    }
                }
            }
            if !children.is_empty() {
                frontier.push((child.name.clone(), children));
            }
        }
    }
    Ok(found)
}

impl App {
    /// Deletes one record to the recycle bin.
    pub async fn delete(&self, caller: &Caller, id: &str) -> Result<()> {
        match self
            .delete_many(
                caller,
                vec![id.to_string()],
                WriteOptions { all_or_none: true },
            )
            .await?
            .pop()
        {
            Some(Ok(_)) => Ok(()),
            Some(Err(errors)) => Err(AppError::Rejected(errors)),
            None => Err(not_found()),
        }
    }

    /// Deletes records (of any objects) to the recycle bin, in one transaction.
    pub async fn delete_many(
        &self,
        caller: &Caller,
        ids: Vec<String>,
        options: WriteOptions,
    ) -> Result<Vec<RecordResult>> {
        let schema = self.schema().await?;
        let (mut results, by_object) = parse_delete_ids(&schema, &ids);
        if options.all_or_none && results.iter().any(Result::is_err) {
            roll_back_all(&mut results);
            return Ok(results);
        }
        let mut numbers = self
            .store
            .reserve_record_numbers(ROLLUP_NUMBERS_PER_DELETE * ids.len() as u64)
            .await?;
        let mut tx = self.store.begin().await?;
        let results = self
            .write_deletes(
                &mut tx,
                &schema,
                caller,
                results,
                by_object,
                options,
                &mut numbers,
            )
            .await?;
        finish(tx, results, options).await
    }

    /// Deletes parsed ids in `tx`, with what cascades from them.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn write_deletes(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        caller: &Caller,
        mut results: Vec<RecordResult>,
        by_object: IdsByObject,
        options: WriteOptions,
        numbers: &mut Range<u64>,
    ) -> Result<Vec<RecordResult>> {
        let now = model::value::now_millis();
        let mut doomed: Vec<(Arc<ObjectDef>, RecordId, RecordId)> = Vec::new();
        // Each root's place in the results.
        let mut root_index: HashMap<RecordId, usize> = HashMap::new();
        for (object_name, entries) in by_object {
            let Some(object) = schema.object(&object_name).cloned() else {
                continue;
            };
            self.require(caller, &object, crate::access::Need::Delete)
                .await?;
            crate::records::moves_security(tx, &object, true).await?;
            let ids: Vec<RecordId> = entries.iter().map(|(_, id)| id.clone()).collect();
            // Records the caller may not edit fail one by one.
            let refused = self
                .refused_edits(Some(&mut *tx), caller, &object, &ids)
                .await?;
            let state = states(tx, &object, &ids).await?;
            let mut roots = Vec::new();
            for (i, id) in entries {
                match state.get(&id) {
                    Some(false) if refused.contains_key(&id) => {
                        results[i] = Err(vec![refused[&id].clone()]);
                    }
                    Some(false) => {
                        root_index.insert(id.clone(), i);
                        roots.push((id.clone(), id.clone()));
                        doomed.push((object.clone(), id.clone(), id));
                    }
                    Some(true) => {
                        results[i] = Err(vec![RecordError::new(
                            ErrorCode::EntityIsDeleted,
                            "entity is deleted",
                        )])
                    }
                    None => {
                        results[i] = Err(vec![RecordError::new(
                            ErrorCode::NotFound,
                            format!("The requested resource does not exist: {id}"),
                        )])
                    }
                }
            }
            doomed.extend(cascade(tx, schema, &object.name, roots).await?);
        }
        let mut refused = self.price_rules_on_delete(tx, schema, &doomed).await?;
        for (root, error) in self.campaign_rules_on_delete(tx, schema, &doomed).await? {
            refused.entry(root).or_insert(error);
        }
        if !refused.is_empty() {
            doomed.retain(|(_, _, root)| !refused.contains_key(root));
            for (root, error) in refused {
                if let Some(&i) = root_index.get(&root) {
                    results[i] = Err(vec![error]);
                }
            }
        }
        if options.all_or_none && results.iter().any(Result::is_err) {
            roll_back_all(&mut results);
            return Ok(results);
        }
        let mut grouped: HashMap<String, (Arc<ObjectDef>, Vec<RecordId>)> = HashMap::new();
        // A record can be reached twice (listed twice, or listed and also a cascade child):
        // it is deleted once, with the first root that reached it.
        let mut seen = HashSet::new();
        doomed.retain(|(_, id, _)| seen.insert(id.clone()));
        let mut bin = Vec::with_capacity(doomed.len());
        for (object, id, root) in doomed {
            bin.push(BinEntry {
                record_id: id.clone(),
                object: object.name.clone(),
                root_id: root,
                deleted_by: caller.user_id.clone(),
                deleted_at: now,
            });
            grouped
                .entry(object.name.clone())
                .or_insert_with(|| (object.clone(), Vec::new()))
                .1
                .push(id);
        }
        for (object, ids) in grouped.values() {
            store::records::set_deleted(tx, object, ids, true, caller.user_id.as_ref(), now)
                .await?;
            self.reshare_after_write(tx, schema, object, ids, Vec::new())
                .await?;
        }
        let mut w = WriteContext {
            tx,
            schema,
            numbers,
            caller,
            now,
        };
        for (object, ids) in grouped.values() {
            self.rollups_of_binned(&mut w, object, ids).await?;
        }
        store::records::add_to_bin(tx, &bin).await?;
        Ok(results)
    }

    /// Recomputes the roll-ups that records just deleted or undeleted were counted in.
    async fn rollups_of_binned(
        &self,
        w: &mut WriteContext<'_>,
        object: &ObjectDef,
        ids: &[RecordId],
    ) -> Result<()> {
        if !crate::rollup::is_child(&object.name) {
            return Ok(());
        }
        let fields: Vec<&model::FieldDef> = object.fields.iter().collect();
        for chunk in ids.chunks(1000) {
            let mut select = Select::new(object, fields.clone());
            select.filter = Some(Filter::any_of(
                "Id",
                chunk.iter().cloned().map(Value::Id).collect(),
            ));
            select.deleted = Deleted::Include;
            let rows = store::records::select_in(w.tx, &select).await?;
            let rows: Vec<crate::rollup::ChildRow<'_>> =
                rows.iter().map(|row| (None, row.as_slice())).collect();
            self.rollups_after(w, object, &rows).await?;
        }
        Ok(())
    }

    /// Restores a record from the recycle bin, with the records deleted along with it.
    pub async fn undelete(&self, caller: &Caller, id: &str) -> Result<()> {
        let schema = self.schema().await?;
        let id = RecordId::parse(id)
            .map_err(|_| AppError::one(ErrorCode::MalformedId, format!("invalid id: {id}")))?;
        let object = schema
            .object_by_prefix(id.key_prefix())
            .cloned()
            .ok_or_else(not_found)?;
        self.require(caller, &object, crate::access::Need::Delete)
            .await?;
        self.require_editable(None, caller, &object, std::slice::from_ref(&id))
            .await?;
        let now = model::value::now_millis();
        let mut numbers = self
            .store
            .reserve_record_numbers(UNDELETE_ROLLUP_NUMBERS)
            .await?;
        let mut tx = self.store.begin().await?;
        let entries = self.bin_group(&mut tx, &object, &id, "undelete").await?;
        let groups = group_entries(&schema, &entries);
        for (object, ids) in &groups {
            crate::records::moves_security(&mut tx, object, true).await?;
            store::records::set_deleted(&mut tx, object, ids, false, caller.user_id.as_ref(), now)
                .await?;
            self.reshare_after_write(&mut tx, &schema, object, ids, Vec::new())
                .await?;
        }
        if groups
            .iter()
            .any(|(object, _)| object.name == "GroupMember")
        {
            crate::groups::refuse_invalid_memberships(&mut tx, &schema).await?;
        }
        let mut w = WriteContext {
            tx: &mut tx,
            schema: &schema,
            numbers: &mut numbers,
            caller,
            now,
        };
        for (object, ids) in &groups {
            self.rollups_of_binned(&mut w, object, ids).await?;
        }
        let ids: Vec<RecordId> = entries.iter().map(|e| e.record_id.clone()).collect();
        store::records::remove_from_bin(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a record in the recycle bin for good, with the records deleted along with it.
    pub async fn purge(&self, caller: &Caller, id: &str) -> Result<()> {
        let schema = self.schema().await?;
        let id = RecordId::parse(id)
            .map_err(|_| AppError::one(ErrorCode::MalformedId, format!("invalid id: {id}")))?;
        let object = schema
            .object_by_prefix(id.key_prefix())
            .cloned()
            .ok_or_else(not_found)?;
        self.require(caller, &object, crate::access::Need::Delete)
            .await?;
        self.require_editable(None, caller, &object, std::slice::from_ref(&id))
            .await?;
        let mut tx = self.store.begin().await?;
        let entries = self.bin_group(&mut tx, &object, &id, "purge").await?;
        purge_entries(self, &mut tx, &schema, &entries).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Purges everything that has been in the recycle bin longer than its retention; returns
    /// how many records went.
    pub async fn purge_expired(&self) -> Result<usize> {
        self.purge_deleted_before(model::value::now_millis() - Duration::days(RECYCLE_BIN_DAYS))
            .await
    }

    /// Purges what was deleted before `cutoff`.
    pub async fn purge_deleted_before(&self, cutoff: OffsetDateTime) -> Result<usize> {
        let schema = self.schema().await?;
        let mut purged = 0;
        for root in store::records::bin_roots_older_than(&self.store, cutoff).await? {
            let mut tx = self.store.begin().await?;
            let entries = store::records::bin_entries_of_root(&mut tx, &root).await?;
            purge_entries(self, &mut tx, &schema, &entries).await?;
            tx.commit().await?;
            purged += entries.len();
        }
        Ok(purged)
    }

    /// The bin entries deleted together with `id`, which must be the record the user deleted.
    async fn bin_group(
        &self,
        tx: &mut Tx,
        object: &ObjectDef,
        id: &RecordId,
        verb: &str,
    ) -> Result<Vec<BinEntry>> {
        match store::records::bin_entry(tx, id).await? {
            Some(entry) if &entry.root_id == id => {
                Ok(store::records::bin_entries_of_root(tx, id).await?)
            }
            Some(entry) => Err(AppError::one(
                ErrorCode::InvalidOperation,
                format!(
                    "cannot {verb} {id} alone: it was deleted with {}; {verb} that record instead",
                    entry.root_id
                ),
            )),
            None => {
                let state = states(tx, object, std::slice::from_ref(id)).await?;
                match state.get(id) {
                    Some(_) => Err(AppError::one(
                        ErrorCode::InvalidOperation,
                        format!("cannot {verb} {id}: it is not in the recycle bin"),
                    )),
                    None => Err(not_found()),
                }
            }
        }
    }
}

/// Ids to delete, by object name, each with its position in the request.
pub(crate) type IdsByObject = HashMap<String, Vec<(usize, RecordId)>>;

/// Sorts ids to delete by object; ids that cannot be deleted get their error at once.
pub(crate) fn parse_delete_ids(
    schema: &Schema,
    ids: &[String],
) -> (Vec<RecordResult>, IdsByObject) {
    let mut results: Vec<RecordResult> = Vec::with_capacity(ids.len());
    let mut by_object: HashMap<String, Vec<(usize, RecordId)>> = HashMap::new();
    for (i, text) in ids.iter().enumerate() {
        let parsed = RecordId::parse(text).map_err(|_| {
            vec![RecordError::new(
                ErrorCode::MalformedId,
                format!("invalid id: {text}"),
            )]
        });
        let id = match parsed {
            Ok(id) => id,
            Err(e) => {
                results.push(Err(e));
                continue;
            }
        };
        match schema.object_by_prefix(id.key_prefix()) {
            Some(object) if object.deletable => {
                by_object
                    .entry(object.name.clone())
                    .or_default()
                    .push((i, id.clone()));
                results.push(Ok(id));
            }
            Some(object) => results.push(Err(vec![RecordError::new(
                ErrorCode::InvalidOperation,
                format!("entity type cannot be deleted: {}", object.name),
            )])),
            None => results.push(Err(vec![RecordError::new(
                ErrorCode::NotFound,
                format!("The requested resource does not exist: {text}"),
            )])),
        }
    }
    (results, by_object)
}

fn group_entries(schema: &Schema, entries: &[BinEntry]) -> Vec<(Arc<ObjectDef>, Vec<RecordId>)> {
    let mut grouped: HashMap<String, (Arc<ObjectDef>, Vec<RecordId>)> = HashMap::new();
    for entry in entries {
        if let Some(object) = schema.object(&entry.object) {
            grouped
                .entry(object.name.clone())
                .or_insert_with(|| (object.clone(), Vec::new()))
                .1
                .push(entry.record_id.clone());
        }
    }
    grouped.into_values().collect()
}

async fn purge_entries(
    app: &App,
    tx: &mut Tx,
    schema: &Schema,
    entries: &[BinEntry],
) -> Result<()> {
    for (object, ids) in group_entries(schema, entries) {
        for relation in schema
            .child_relationships(&object.name)
            .iter()
            .filter(|r| !r.cascade_delete)
        {
            let Some(child) = schema.object(&relation.child_object) else {
                continue;
            };
            let Some(field) = child.field(&relation.field) else {
                continue;
            };
            // A child that loses its lookup may leave a roll-up (a purged lead's campaign
            // memberships): recount with its rows before and after.
            let before = if crate::rollup::is_child(&child.name) {
                rows_pointing_at(tx, child, &relation.field, &ids).await?
            } else {
                Vec::new()
            };
            let now = model::value::now_millis();
            store::records::clear_references(tx, child, field, &ids, now).await?;
            if !before.is_empty() {
                let id_position = child.field_position("Id").unwrap_or(0);
                let changed: Vec<RecordId> = before
                    .iter()
                    .filter_map(|row| row[id_position].as_id().cloned())
                    .collect();
                let after = rows_by_id(tx, child, &changed).await?;
                let pairs: Vec<crate::rollup::ChildRow<'_>> = before
                    .iter()
                    .zip(&after)
                    .map(|(old, new)| (Some(old.as_slice()), new.as_slice()))
                    .collect();
                let mut w = WriteContext {
                    tx,
                    schema,
                    numbers: &mut (0..0),
                    caller: &Caller::system(),
                    now,
                };
                app.rollups_after(&mut w, child, &pairs).await?;
            }
        }
        store::records::purge(tx, &object, &ids).await?;
        app.unshare_purged(tx, &object, &ids).await?;
    }
    let ids: Vec<RecordId> = entries.iter().map(|e| e.record_id.clone()).collect();
    store::records::remove_from_bin(tx, &ids).await?;
    Ok(())
}

/// Every row (all fields, the recycle bin's too) of `object` whose `field` names one of `ids`,
/// in id order.
async fn rows_pointing_at(
    tx: &mut Tx,
    object: &ObjectDef,
    field: &str,
    ids: &[RecordId],
) -> Result<Vec<Vec<Value>>> {
    let fields: Vec<&model::FieldDef> = object.fields.iter().collect();
    let mut rows = Vec::new();
    for chunk in ids.chunks(1000) {
        let mut select = Select::new(object, fields.clone());
        select.filter = Some(Filter::any_of(
            field,
            chunk.iter().cloned().map(Value::Id).collect(),
        ));
        select.deleted = Deleted::Include;
        select.order_by = vec![("Id".into(), false)];
        rows.extend(store::records::select_in(tx, &select).await?);
    }
    rows.sort_by_key(|row| id_key(row, object));
    Ok(rows)
}

/// Rows of `ids` (all fields, the recycle bin's too), in id order.
async fn rows_by_id(tx: &mut Tx, object: &ObjectDef, ids: &[RecordId]) -> Result<Vec<Vec<Value>>> {
    rows_pointing_at(tx, object, "Id", ids).await
}

fn id_key(row: &[Value], object: &ObjectDef) -> String {
    object
        .field_position("Id")
        .and_then(|p| row.get(p)?.as_id())
        .map(|id| id.as_str15().to_string())
        .unwrap_or_default()
}
