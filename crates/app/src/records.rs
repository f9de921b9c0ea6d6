//! Record operations: create, read, update, delete to the recycle bin, undelete, purge, in
//! single and bulk forms with per-record results. Every write is one transaction; a rejected
//! record changes nothing.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use model::{ErrorCode, FieldDef, FieldType, ObjectDef, RecordError, RecordId, Schema, Value};
use store::plan::Deleted;
use store::{Filter, Select, Tx};

use crate::access::{Need, SECURITY_OBJECTS};
use crate::derive::Derivation;
use crate::rollup::ChildRow;
use crate::{App, AppError, Caller, Result};

impl App {
    /// Lookups that name records the caller may not see (linking a contact to a private
    /// account would open the account to them through implicit sharing). Records not yet
    /// committed (made earlier in the same unit of work) are the caller's own and pass.
    async fn invisible_references(
        &self,
        caller: &Caller,
        schema: &Schema,
        object: &ObjectDef,
        rows: &[&Vec<Value>],
        positions: &[usize],
    ) -> Result<HashMap<usize, Vec<RecordError>>> {
        let mut errors: HashMap<usize, Vec<RecordError>> = HashMap::new();
        if caller.user_id.is_none() {
            return Ok(errors);
        }
        let mut by_target: HashMap<String, Vec<(usize, usize, RecordId)>> = HashMap::new();
        for (r, row) in rows.iter().enumerate() {
            for &p in positions {
                if object.fields[p].name == "OwnerId" {
                    continue;
                }
                if let Some(id) = row[p].as_id()
                    && let Some(target) = schema.object_by_prefix(id.key_prefix())
                {
                    by_target
                        .entry(target.name.clone())
                        .or_default()
                        .push((r, p, id.clone()));
                }
            }
        }
        for (target, refs) in by_target {
            let Some(target) = schema.object(&target).cloned() else {
                continue;
            };
            let ids: Vec<RecordId> = refs.iter().map(|(_, _, id)| id.clone()).collect();
            let Some(visible) = self.readable_ids(caller, &target, &ids).await? else {
                continue;
            };
            let existing: HashSet<RecordId> = self
                .find(
                    &Caller::system(),
                    &target.name,
                    &["Id"],
                    Some(Filter::any_of(
                        "Id",
                        ids.iter().cloned().map(Value::Id).collect(),
                    )),
                    Vec::new(),
                    None,
                )
                .await?
                .iter()
                .filter_map(|r| r.id().cloned())
                .collect();
            for (r, p, id) in refs {
                if existing.contains(&id) && !visible.contains(&id) {
                    errors.entry(r).or_default().push(RecordError::on_field(
                        ErrorCode::InsufficientAccessOnCrossReferenceEntity,
                        &object.fields[p].name,
                        format!(
                            "insufficient access rights on cross-reference id: {}",
                            id.to_18()
                        ),
                    ));
                }
            }
        }
        Ok(errors)
    }
}

/// Refuses a write to fields the caller's profile hides or makes read-only.
fn refuse_protected<'n>(
    object: &ObjectDef,
    rules: &crate::access::FieldRules,
    names: impl Iterator<Item = &'n str>,
) -> Result<()> {
    for name in names {
        let canonical = object.field(name).map_or(name, |f| f.name.as_str());
        if rules.read_only(&object.name, canonical) {
            return Err(AppError::on_field(
                ErrorCode::InvalidFieldForInsertUpdate,
                canonical,
                format!(
                    "Unable to create/update fields: {canonical}. Please check the security settings of this field and verify that it is read/write for your profile."
                ),
            ));
        }
    }
    Ok(())
}

/// A write to a user, profile, role or object permission changes what callers may do: move
/// the security version in the same transaction, so every process recomputes (see `access`).
/// A write to a role, a group or its members, or a user's role (`user_role` says whether the
/// write may set one) changes who reads which records: it moves the sharing version too,
/// making share rows stale (see `shares`).
pub(crate) async fn moves_security(tx: &mut Tx, object: &ObjectDef, user_role: bool) -> Result<()> {
    if SECURITY_OBJECTS.contains(&object.name.as_str()) {
        store::auth::bump_security_version_in(tx).await?;
    }
    let sharing = match object.name.as_str() {
        "UserRole" | "Group" | "GroupMember" => true,
        "User" => user_role,
        _ => false,
    };
    if sharing {
        store::auth::bump_sharing_version_in(tx).await?;
    }
    Ok(())
}

/// A record as a caller sends it: field API names (any case) to JSON values.
pub type RecordInput = serde_json::Map<String, serde_json::Value>;

/// The outcome for one record of a bulk operation.
pub type RecordResult = std::result::Result<RecordId, Vec<RecordError>>;

/// How long deleted records stay in the recycle bin.
pub const RECYCLE_BIN_DAYS: i64 = 15;

/// Options of a bulk write.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// Either every record is written or none is.
    pub all_or_none: bool,
}

/// One update of a bulk update.
#[derive(Debug, Clone)]
pub struct Update {
    pub id: String,
    pub input: RecordInput,
    /// The SystemModstamp the caller read; if the record changed since, the update is refused.
    pub if_unmodified_since: Option<OffsetDateTime>,
}

/// A record read back: its object and the values of the fields asked for, in order.
#[derive(Debug, Clone)]
pub struct Record {
    pub object: Arc<ObjectDef>,
    pub values: Vec<(String, Value)>,
}

impl Record {
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(field))
            .map(|(_, v)| v)
    }

    pub fn id(&self) -> Option<&RecordId> {
        self.get("Id").and_then(Value::as_id)
    }

    /// The record as a JSON object of field values (without `attributes`).
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.values
            .iter()
            .map(|(name, value)| (name.clone(), value.to_json()))
            .collect()
    }
}

fn object_of<'s>(schema: &'s Schema, name: &str) -> Result<&'s Arc<ObjectDef>> {
    schema.object(name).ok_or_else(|| {
        AppError::one(
            ErrorCode::NotFound,
            format!("sObject type '{name}' is not supported."),
        )
    })
}

fn parse_id(text: &str, label: &str) -> std::result::Result<RecordId, RecordError> {
    RecordId::parse(text).map_err(|_| {
        RecordError::new(
            ErrorCode::MalformedId,
            format!("{label}: id value of incorrect type: {text}"),
        )
    })
}

/// The id must be one of `object`'s.
fn id_of_object(object: &ObjectDef, text: &str) -> std::result::Result<RecordId, RecordError> {
    let id = parse_id(text, &format!("{} ID", object.label.en))?;
    if id.key_prefix() != object.key_prefix {
        return Err(RecordError::new(
            ErrorCode::MalformedId,
            format!("{} ID: id value of incorrect type: {text}", object.label.en),
        ));
    }
    Ok(id)
}

enum Mode {
    Create,
    Update,
}

/// Parses the caller's fields into positions and values, collecting every error.
fn parse_input(
    object: &ObjectDef,
    input: &RecordInput,
    mode: Mode,
) -> std::result::Result<Vec<(usize, Value)>, Vec<RecordError>> {
    let mut parsed = Vec::with_capacity(input.len());
    let mut errors = Vec::new();
    for (name, json) in input {
        if name == "attributes" {
            continue;
        }
        let Some(position) = object.field_position(name) else {
            errors.push(RecordError::on_field(
                ErrorCode::InvalidField,
                name,
                format!("No such column '{name}' on sobject of type {}", object.name),
            ));
            continue;
        };
        let field = &object.fields[position];
        // The Id in an update body is the record's own: accepted and ignored, as Salesforce does.
        if field.field_type == FieldType::Id && matches!(mode, Mode::Update) {
            continue;
        }
        let writable = match mode {
            Mode::Create => field.createable(),
            Mode::Update => field.updateable(),
        };
        if !writable {
            errors.push(RecordError::on_field(
                ErrorCode::InvalidFieldForInsertUpdate,
                &field.name,
                format!(
                    "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                    field.name
                ),
            ));
            continue;
        }
        match model::validate::coerce(field, json) {
            Ok(value) => parsed.push((position, value)),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors)
    }
}

/// Required fields with no value.
fn missing_required(object: &ObjectDef, row: &[Value]) -> Option<RecordError> {
    let missing: Vec<String> = object
        .fields
        .iter()
        .zip(row)
        .filter(|(f, v)| f.required && !f.readonly && v.is_null())
        .map(|(f, _)| f.name.clone())
        .collect();
    (!missing.is_empty()).then(|| RecordError {
        code: ErrorCode::RequiredFieldMissing,
        message: format!("Required fields are missing: [{}]", missing.join(", ")),
        fields: missing,
    })
}

/// The default value of a field on a new record.
fn default_value(object: &ObjectDef, field: &FieldDef) -> Value {
    // A campaign member's status defaults to its campaign's default status (`campaigns`),
    // not to the picklist's.
    if object.name == "CampaignMember" && field.name == "Status" {
        return Value::Null;
    }
    if let Some(v) = field.default_picklist_value() {
        return Value::Text(v.value.clone());
    }
    match &field.default {
        Some(text) => model::validate::coerce(field, &serde_json::Value::String(text.clone()))
            .unwrap_or(Value::Null),
        None if field.field_type == FieldType::Checkbox => Value::Bool(false),
        None => Value::Null,
    }
}

/// Stamps the audit fields of a row.
fn stamp(object: &ObjectDef, row: &mut [Value], caller: &Caller, at: OffsetDateTime, create: bool) {
    let user = caller.user_id.clone().map_or(Value::Null, Value::Id);
    let mut put = |name: &str, value: Value| {
        if let Some(i) = object.field_position(name) {
            row[i] = value;
        }
    };
    if create {
        put("CreatedDate", Value::DateTime(at));
        put("CreatedById", user.clone());
        put("IsDeleted", Value::Bool(false));
    }
    put("LastModifiedDate", Value::DateTime(at));
    put("LastModifiedById", user);
    put("SystemModstamp", Value::DateTime(at));
}

/// A reference to check: which record (row index in the batch), which field, which id.
struct RefCheck {
    row: usize,
    field: usize,
    id: RecordId,
}

/// Checks that every reference of `rows` names a live record of an allowed object. Returns
/// the errors per row.
async fn check_references(
    tx: &mut Tx,
    schema: &Schema,
    object: &ObjectDef,
    rows: &[&Vec<Value>],
    positions: &[usize],
) -> Result<HashMap<usize, Vec<RecordError>>> {
    let mut errors: HashMap<usize, Vec<RecordError>> = HashMap::new();
    let mut by_target: HashMap<String, Vec<RefCheck>> = HashMap::new();
    for (r, row) in rows.iter().enumerate() {
        for &p in positions {
            let field = &object.fields[p];
            let Some(id) = row[p].as_id() else { continue };
            let target = schema.object_by_prefix(id.key_prefix()).filter(|t| {
                field
                    .reference_to
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(&t.name))
            });
            match target {
                Some(target) => by_target
                    .entry(target.name.clone())
                    .or_default()
                    .push(RefCheck {
                        row: r,
                        field: p,
                        id: id.clone(),
                    }),
                None => errors.entry(r).or_default().push(RecordError::on_field(
                    ErrorCode::FieldIntegrityException,
                    &field.name,
                    format!(
                        "{}: id value of incorrect type: {} (must be the id of a {})",
                        field.label.en,
                        id,
                        field.reference_to.join(" or ")
                    ),
                )),
            }
        }
    }
    for (target, checks) in by_target {
        let Some(target) = schema.object(&target) else {
            continue;
        };
        let (Some(id_field), Some(deleted_field)) = (target.field("Id"), target.field("IsDeleted"))
        else {
            continue;
        };
        let mut found: HashMap<RecordId, bool> = HashMap::new();
        let ids: Vec<Value> = checks
            .iter()
            .map(|c| Value::Id(c.id.clone()))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for chunk in ids.chunks(1000) {
            let mut select = Select::new(target, vec![id_field, deleted_field]);
            select.filter = Some(Filter::any_of("Id", chunk.to_vec()));
            select.deleted = Deleted::Include;
            select.lock = store::plan::Lock::KeyShare;
            for row in store::records::select_in(tx, &select).await? {
                if let [Value::Id(id), deleted] = row.as_slice() {
                    found.insert(id.clone(), *deleted == Value::Bool(true));
                }
            }
        }
        for check in checks {
            let field = &object.fields[check.field];
            let error = match found.get(&check.id) {
                Some(false) => continue,
                Some(true) => RecordError::on_field(
                    ErrorCode::EntityIsDeleted,
                    &field.name,
                    format!("{}: entity is deleted: {}", field.label.en, check.id),
                ),
                None => RecordError::on_field(
                    ErrorCode::InvalidCrossReferenceKey,
                    &field.name,
                    format!(
                        "{}: invalid cross reference id: {}",
                        field.label.en, check.id
                    ),
                ),
            };
            errors.entry(check.row).or_default().push(error);
        }
    }
    Ok(errors)
}

impl App {
    /// Checks unique fields against each other within the batch and against stored records.
    /// The error names the record that holds the value only when the caller may read it:
    /// naming a record they cannot see would tell them it exists.
    async fn check_unique(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        object: &ObjectDef,
        rows: &[&Vec<Value>],
        own_ids: &[&RecordId],
    ) -> Result<HashMap<usize, Vec<RecordError>>> {
        let mut errors: HashMap<usize, Vec<RecordError>> = HashMap::new();
        let Some(id_field) = object.field("Id") else {
            return Ok(errors);
        };
        let duplicate = |field: &FieldDef, other: Option<&RecordId>| {
            let on = match other {
                Some(other) => format!("record with id: {other}"),
                None => "another record".to_string(),
            };
            RecordError::on_field(
                ErrorCode::DuplicateValue,
                &field.name,
                format!(
                    "duplicate value found: {} duplicates value on {on}",
                    field.name
                ),
            )
        };
        // (row, field, the stored record holding the value)
        let mut stored_clashes: Vec<(usize, &FieldDef, RecordId)> = Vec::new();
        for (p, field) in object.fields.iter().enumerate().filter(|(_, f)| f.unique) {
            let mut seen: HashMap<&Value, usize> = HashMap::new();
            let mut values = Vec::new();
            for (r, row) in rows.iter().enumerate() {
                let value = &row[p];
                if value.is_null() {
                    continue;
                }
                if let Some(&first) = seen.get(value) {
                    errors
                        .entry(r)
                        .or_default()
                        .push(duplicate(field, Some(own_ids[first])));
                    continue;
                }
                seen.insert(value, r);
                values.push(value.clone());
            }
            for chunk in values.chunks(1000) {
                let mut select = Select::new(object, vec![id_field, field]);
                select.filter = Some(Filter::any_of(&field.name, chunk.to_vec()));
                select.deleted = Deleted::Include;
                for stored in store::records::select_in(tx, &select).await? {
                    let (Some(Value::Id(stored_id)), Some(value)) = (stored.first(), stored.get(1))
                    else {
                        continue;
                    };
                    if let Some(&r) = seen.get(value)
                        && own_ids[r] != stored_id
                    {
                        stored_clashes.push((r, field, stored_id.clone()));
                    }
                }
            }
        }
        if stored_clashes.is_empty() {
            return Ok(errors);
        }
        let ids: Vec<RecordId> = stored_clashes.iter().map(|(_, _, id)| id.clone()).collect();
        let readable = self.readable_ids_in(tx, caller, object, &ids).await?;
        for (r, field, other) in stored_clashes {
            let named = readable.as_ref().is_none_or(|ids| ids.contains(&other));
            errors
                .entry(r)
                .or_default()
                .push(duplicate(field, named.then_some(&other)));
        }
        Ok(errors)
    }
}

/// Rows for the history object of `object`: one per tracked field that changed (or one
/// "created" row for a new record).
struct HistoryRow {
    parent: RecordId,
    field: String,
    data_type: String,
    old: Value,
    new: Value,
}

/// The fields whose value differs between a record's stored row and its new one, with the
/// new values: what an UPDATE sets.
fn changed_sets<'o>(
    object: &'o ObjectDef,
    new: &[Value],
    old: &[Value],
) -> Vec<(&'o FieldDef, Value)> {
    object
        .fields
        .iter()
        .zip(new.iter().zip(old))
        .filter(|(_, (new, old))| new != old)
        .map(|(f, (new, _))| (f, new.clone()))
        .collect()
}

/// The field-history rows of a change: one per tracked field whose value moved.
fn tracked_changes(
    object: &ObjectDef,
    id: &RecordId,
    new: &[Value],
    old: &[Value],
) -> Vec<HistoryRow> {
    object
        .fields
        .iter()
        .zip(new.iter().zip(old))
        .filter(|(field, (new, old))| field.tracked && new != old)
        .map(|(field, (new, old))| HistoryRow {
            parent: id.clone(),
            field: field.name.clone(),
            data_type: field.field_type.as_str().to_string(),
            old: old.clone(),
            new: new.clone(),
        })
        .collect()
}

/// The stamp of a change made at `now` to a record last stamped `stored`: SystemModstamp
/// stays strictly increasing, so that a version read is never reused.
fn next_stamp(stored: Option<OffsetDateTime>, now: OffsetDateTime) -> OffsetDateTime {
    match stored {
        Some(stamp) if stamp >= now => stamp + Duration::milliseconds(1),
        _ => now,
    }
}

async fn write_history(
    tx: &mut Tx,
    schema: &Schema,
    object: &ObjectDef,
    entries: Vec<HistoryRow>,
    numbers: &mut std::ops::Range<u64>,
    caller: &Caller,
    at: OffsetDateTime,
) -> Result<()> {
    let Some(history) = object.history.as_deref().and_then(|h| schema.object(h)) else {
        return Ok(());
    };
    let Some(parent_field) = history.history_parent.as_deref() else {
        return Ok(());
    };
    if entries.is_empty() {
        return Ok(());
    }
    ensure_numbers(tx, numbers, entries.len()).await?;
    let names = [
        "Id",
        "IsDeleted",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
        parent_field,
        "Field",
        "DataType",
        "OldValue",
        "NewValue",
    ];
    let fields: Vec<&FieldDef> = names.iter().filter_map(|n| history.field(n)).collect();
    if fields.len() != names.len() {
        return Ok(());
    }
    let user = caller.user_id.clone().map_or(Value::Null, Value::Id);
    let clip = |v: Value| match v.to_display() {
        s if s.is_empty() => Value::Null,
        s => Value::Text(s.chars().take(255).collect()),
    };
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        let mut row = history_row_start(history, numbers, &user, at)?;
        row.extend([
            Value::Id(entry.parent),
            Value::Text(entry.field),
            Value::Text(entry.data_type),
            clip(entry.old),
            clip(entry.new),
        ]);
        rows.push(row);
    }
    store::records::insert(tx, history, &fields, &rows).await?;
    Ok(())
}

/// The first columns of a history row (Id, IsDeleted, CreatedDate, CreatedById,
/// LastModifiedDate, LastModifiedById, SystemModstamp), its id from `numbers`.
fn history_row_start(
    history: &ObjectDef,
    numbers: &mut Range<u64>,
    user: &Value,
    at: OffsetDateTime,
) -> Result<Vec<Value>> {
    let number = numbers
        .next()
        .ok_or_else(|| store::StoreError::Corrupt("history ids exhausted".into()))?;
    let id = RecordId::from_number(&history.key_prefix, number)
        .ok_or_else(|| store::StoreError::Corrupt("record numbers exhausted".into()))?;
    Ok(vec![
        Value::Id(id),
        Value::Bool(false),
        Value::DateTime(at),
        user.clone(),
        Value::DateTime(at),
        user.clone(),
        Value::DateTime(at),
    ])
}

/// Formats an auto-number: `{00000000}` → zero-padded to 8 digits; text around it is kept.
pub(crate) fn format_autonumber(format: Option<&str>, n: i64) -> String {
    let format = format.unwrap_or("{0}");
    match (format.find('{'), format.find('}')) {
        (Some(open), Some(close)) if open < close => {
            let width = close - open - 1;
            format!(
                "{}{:0width$}{}",
                &format[..open],
                n,
                &format[close + 1..],
                width = width
            )
        }
        _ => format!("{format}{n}"),
    }
}

fn modstamp_of(object: &ObjectDef, row: &[Value]) -> Option<OffsetDateTime> {
    object
        .field_position("SystemModstamp")
        .and_then(|i| row[i].as_datetime())
}

/// The fields a read returns: all, or the ones named (without repeats) plus Id.
fn select_fields<'o>(
    object: &'o ObjectDef,
    fields: Option<&[String]>,
) -> Result<Vec<&'o FieldDef>> {
    let Some(names) = fields else {
        return Ok(object.fields.iter().collect());
    };
    let mut selected: Vec<&FieldDef> = Vec::with_capacity(names.len() + 1);
    for name in names {
        let field = object.field(name.trim()).ok_or_else(|| {
            AppError::on_field(
                ErrorCode::InvalidField,
                name,
                format!("No such column '{name}' on entity '{}'", object.name),
            )
        })?;
        if !selected.iter().any(|f| f.name == field.name) {
            selected.push(field);
        }
    }
    if !selected.iter().any(|f| f.name == "Id") {
        selected.extend(object.field("Id"));
    }
    Ok(selected)
}

/// Validated new records, ready to be written.
pub(crate) struct PreparedInserts {
    object: Arc<ObjectDef>,
    results: Vec<RecordResult>,
    rows: Vec<Vec<Value>>,
    index_map: Vec<usize>,
    /// Who writes: lookups may only name records they may see.
    caller: Caller,
}

/// Parsed updates, ready to be applied.
pub(crate) struct PreparedUpdates {
    object: Arc<ObjectDef>,
    fiscal_start: u8,
    results: Vec<RecordResult>,
    parsed: Vec<ParsedUpdate>,
}

impl PreparedUpdates {
    /// The most history rows the updates can write (one per tracked field per record).
    pub(crate) fn history_rows(&self) -> u64 {
        let tracked = if self.object.history.is_none() {
            0
        } else {
            self.object.fields.iter().filter(|f| f.tracked).count()
        };
        (self.parsed.len() * (tracked + snapshots(&self.object))) as u64
            + self.parsed.len() as u64 * crate::rollup::numbers_per_child_write(&self.object.name)
    }
}

impl PreparedInserts {
    /// The record numbers the inserts need: one per valid record, and one more per
    /// opportunity for its OpportunityHistory snapshot.
    pub(crate) fn numbers_needed(&self) -> u64 {
        let starting_statuses = if self.object.name == "Campaign" {
            crate::campaigns::STARTING_STATUS_NUMBERS
        } else {
            0
        };
        (self.rows.len() * (1 + snapshots(&self.object))) as u64
            + self.rows.len() as u64
                * (crate::rollup::numbers_per_child_write(&self.object.name) + starting_statuses)
    }
}

/// Opportunity fields whose change writes an OpportunityHistory row (a snapshot of the deal,
/// as Salesforce's stage history shows it).
const SNAPSHOT_FIELDS: [&str; 5] = [
    "StageName",
    "Amount",
    "Probability",
    "CloseDate",
    "ForecastCategoryName",
];

/// A record written, for its snapshot: its id, its row before (none when created), after.
type Snapshot<'a> = (&'a RecordId, Option<&'a Vec<Value>>, &'a Vec<Value>);

/// How many snapshot rows one write of a record of `object` may add (1 for opportunities).
fn snapshots(object: &ObjectDef) -> usize {
    usize::from(object.name == "Opportunity")
}

/// Writes an OpportunityHistory row for each opportunity created, and for each whose stage,
/// amount, probability, close date or forecast category changed: the new values, with the
/// previous amount and close date.
async fn write_snapshots(
    tx: &mut Tx,
    schema: &Schema,
    object: &ObjectDef,
    changes: &[Snapshot<'_>],
    numbers: &mut Range<u64>,
    caller: &Caller,
    at: OffsetDateTime,
) -> Result<()> {
    if snapshots(object) == 0 {
        return Ok(());
    }
    let Some(history) = schema.object("OpportunityHistory") else {
        return Ok(());
    };
    ensure_numbers(tx, numbers, changes.len()).await?;
    let of = |row: &Vec<Value>, name: &str| {
        object
            .field_position(name)
            .and_then(|p| row.get(p).cloned())
            .unwrap_or(Value::Null)
    };
    let user = caller.user_id.clone().map_or(Value::Null, Value::Id);
    let columns = [
        "Id",
        "IsDeleted",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
        "OpportunityId",
        "StageName",
        "Amount",
        "ExpectedRevenue",
        "CloseDate",
        "Probability",
        "ForecastCategory",
        "PrevAmount",
        "PrevCloseDate",
    ];
    let fields: Vec<&FieldDef> = columns.iter().filter_map(|c| history.field(c)).collect();
    if fields.len() != columns.len() {
        return Ok(());
    }
    let mut rows = Vec::new();
    for (id, old, new) in changes {
        let changed = match old {
            None => true,
            Some(old) => SNAPSHOT_FIELDS.iter().any(|f| of(old, f) != of(new, f)),
        };
        if !changed {
            continue;
        }
        let previous = |name: &str| old.map_or(Value::Null, |old| of(old, name));
        let mut row = history_row_start(history, numbers, &user, at)?;
        row.extend([
            Value::Id((*id).clone()),
            of(new, "StageName"),
            of(new, "Amount"),
            of(new, "ExpectedRevenue"),
            of(new, "CloseDate"),
            of(new, "Probability"),
            of(new, "ForecastCategoryName"),
            previous("Amount"),
            previous("CloseDate"),
        ]);
        rows.push(row);
    }
    if !rows.is_empty() {
        store::records::insert(tx, history, &fields, &rows).await?;
    }
    Ok(())
}

/// Commits a bulk write's transaction unless all-or-none failed (then it rolls back).
pub(crate) async fn finish(
    tx: Tx,
    results: Vec<RecordResult>,
    options: WriteOptions,
) -> Result<Vec<RecordResult>> {
    if options.all_or_none && results.iter().any(Result::is_err) {
        drop(tx);
    } else {
        tx.commit().await?;
    }
    Ok(results)
}

/// Every record of a bulk write fails when one does and the caller asked for all or none.
pub(crate) fn roll_back_all(results: &mut [RecordResult]) {
    for result in results.iter_mut().filter(|r| r.is_ok()) {
        *result = Err(vec![rolled_back_error()]);
    }
}

/// The error of a record that was valid but rolled back with an all-or-none write.
pub(crate) fn rolled_back_error() -> RecordError {
    RecordError::new(
        ErrorCode::AllOrNoneOperationRolledBack,
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
    )
}

pub(crate) fn first_error(results: Vec<RecordResult>) -> Result<RecordId> {
    match results.into_iter().next() {
        Some(Ok(id)) => Ok(id),
        Some(Err(errors)) => Err(AppError::Rejected(errors)),
        None => Err(AppError::one(ErrorCode::UnknownException, "no result")),
    }
}

/// Builds the full row of a new record: defaults, the caller's values, owner, audit fields,
/// derived fields; then checks required fields.
fn prepare_new_row(
    object: &ObjectDef,
    input: &RecordInput,
    caller: &Caller,
    now: OffsetDateTime,
    defaults: &[Value],
    derivation: &Derivation,
) -> std::result::Result<Vec<Value>, Vec<RecordError>> {
    let parsed = parse_input(object, input, Mode::Create)?;
    let mut row: Vec<Value> = defaults.to_vec();
    let mut written = vec![false; row.len()];
    for (p, value) in parsed {
        row[p] = value;
        written[p] = true;
    }
    if let Some(owner) = object.field_position("OwnerId")
        && row[owner].is_null()
    {
        row[owner] = caller.user_id.clone().map_or(Value::Null, Value::Id);
    }
    stamp(object, &mut row, caller, now, true);
    derivation.apply(object, &mut row, &written, None, now);
    match missing_required(object, &row) {
        Some(error) => Err(vec![error]),
        None => Ok(row),
    }
}

/// Positions of the reference fields callers write (the audit references are the system's).
fn reference_positions(object: &ObjectDef) -> Vec<usize> {
    object
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.field_type == FieldType::Reference
                && !matches!(f.name.as_str(), "CreatedById" | "LastModifiedById")
        })
        .map(|(i, _)| i)
        .collect()
}

/// Makes sure `numbers` holds at least `needed` more. Writes reserve what they expect before
/// their transaction begins; follow-on rows an administrator's settings multiply (tracked
/// fields, roll-ups, a campaign's starting statuses) may need more, taken inside the
/// transaction (`store::ids::reserve_in`).
pub(crate) async fn ensure_numbers(
    tx: &mut Tx,
    numbers: &mut Range<u64>,
    needed: usize,
) -> Result<()> {
    let needed = needed as u64;
    if numbers.end.saturating_sub(numbers.start) < needed {
        *numbers = store::ids::reserve_in(tx, needed.max(NUMBERS_TOPPED_UP)).await?;
    }
    Ok(())
}

/// Record numbers taken at once when a write runs short inside its transaction.
const NUMBERS_TOPPED_UP: u64 = 256;

fn new_id(object: &ObjectDef, numbers: &mut Range<u64>) -> Result<RecordId> {
    numbers
        .next()
        .and_then(|n| RecordId::from_number(&object.key_prefix, n))
        .ok_or_else(|| {
            AppError::Internal(store::StoreError::Corrupt(
                "record numbers exhausted".into(),
            ))
        })
}

/// The error for a unique violation the database caught (a concurrent writer got there first).
fn duplicate_from_store(object: &ObjectDef, error: &store::StoreError) -> Option<RecordError> {
    object
        .fields
        .iter()
        .find(|f| f.unique && error.is_duplicate_of(&object.table, &f.column))
        .map(|f| {
            RecordError::on_field(
                ErrorCode::DuplicateValue,
                &f.name,
                format!(
                    "duplicate value found: {} duplicates value on another record",
                    f.name
                ),
            )
        })
}

fn merge_errors(
    results: &mut [RecordResult],
    index_map: &[usize],
    errors: HashMap<usize, Vec<RecordError>>,
) {
    for (r, mut errs) in errors {
        let original = index_map[r];
        match &mut results[original] {
            Err(existing) => existing.append(&mut errs),
            ok => *ok = Err(errs),
        }
    }
}

impl App {
    /// The org's fiscal-year start month, read only for objects with fiscal fields.
    pub(crate) async fn fiscal_year_start_month_for(&self, object: &ObjectDef) -> Result<u8> {
        if object.field("FiscalYear").is_none() {
            return Ok(1);
        }
        Ok(self.org_settings().await?.fiscal_year_start_month)
    }

    /// Creates one record.
    pub async fn create(
        &self,
        caller: &Caller,
        object: &str,
        input: RecordInput,
    ) -> Result<RecordId> {
        first_error(
            self.create_many(
                caller,
                object,
                vec![input],
                WriteOptions { all_or_none: true },
            )
            .await?,
        )
    }

    /// Creates records in one transaction, with a result per record in input order.
    pub async fn create_many(
        &self,
        caller: &Caller,
        object: &str,
        inputs: Vec<RecordInput>,
        options: WriteOptions,
    ) -> Result<Vec<RecordResult>> {
        let schema = self.schema().await?;
        let target = object_of(&schema, object)?;
        if !target.createable {
            return Err(AppError::one(
                ErrorCode::InvalidOperation,
                format!("entity type cannot be inserted: {}", target.name),
            ));
        }
        self.insert_records(caller, object, inputs, options).await
    }

    /// Creates records of any object, including those callers may not create (the system's
    /// own: Organization, history).
    pub(crate) async fn insert_records(
        &self,
        caller: &Caller,
        object: &str,
        inputs: Vec<RecordInput>,
        options: WriteOptions,
    ) -> Result<Vec<RecordResult>> {
        let schema = self.schema().await?;
        let prepared = self
            .prepare_inserts(&schema, caller, object, inputs, options)
            .await?;
        if prepared.rows.is_empty() {
            return Ok(prepared.results);
        }
        // Numbers are reserved before the transaction: on SQLite, reserving inside it would
        // wait for the write lock the transaction itself holds.
        let mut numbers = self
            .store
            .reserve_record_numbers(prepared.numbers_needed())
            .await?;
        let mut tx = self.store.begin().await?;
        let results = self
            .write_inserts(&mut tx, &schema, prepared, options, &mut numbers)
            .await?;
        finish(tx, results, options).await
    }

    /// Creates records all-or-none inside `tx`, with ids from `numbers` (reserved before the
    /// transaction began); returns their ids, or the errors of the records that failed.
    pub(crate) async fn insert_all_in(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        caller: &Caller,
        object: &str,
        inputs: Vec<RecordInput>,
        numbers: &mut Range<u64>,
    ) -> Result<Vec<RecordId>> {
        let options = WriteOptions { all_or_none: true };
        let prepared = self
            .prepare_inserts(schema, caller, object, inputs, options)
            .await?;
        let results = self
            .write_inserts(tx, schema, prepared, options, numbers)
            .await?;
        let mut ids = Vec::with_capacity(results.len());
        let mut errors = Vec::new();
        for result in results {
            match result {
                Ok(id) => ids.push(id),
                Err(errs) => errors.extend(
                    errs.into_iter()
                        .filter(|e| e.code != ErrorCode::AllOrNoneOperationRolledBack),
                ),
            }
        }
        if errors.is_empty() {
            Ok(ids)
        } else {
            Err(AppError::Rejected(errors))
        }
    }

    /// Validates new records and builds their rows, without touching the database.
    pub(crate) async fn prepare_inserts(
        &self,
        schema: &Schema,
        caller: &Caller,
        object: &str,
        inputs: Vec<RecordInput>,
        options: WriteOptions,
    ) -> Result<PreparedInserts> {
        let object = object_of(schema, object)?.clone();
        self.require(caller, &object, Need::Create).await?;
        let rules = self.access(caller).await?.fields.clone();
        for input in &inputs {
            refuse_protected(&object, &rules, input.keys().map(String::as_str))?;
        }
        let now = model::value::now_millis();
        let fiscal_start = self.fiscal_year_start_month_for(&object).await?;
        let mut results: Vec<RecordResult> = Vec::with_capacity(inputs.len());
        let mut rows: Vec<Vec<Value>> = Vec::with_capacity(inputs.len());
        let mut index_map: Vec<usize> = Vec::with_capacity(inputs.len());
        let placeholder = RecordId::from_number(&object.key_prefix, 0).ok_or_else(|| {
            AppError::Internal(store::StoreError::Corrupt(format!(
                "bad key prefix {}",
                object.key_prefix
            )))
        })?;
        let defaults: Vec<Value> = object
            .fields
            .iter()
            .map(|f| default_value(&object, f))
            .collect();
        let derivation = Derivation::new(&object, fiscal_start);
        for (i, input) in inputs.iter().enumerate() {
            match prepare_new_row(&object, input, caller, now, &defaults, &derivation) {
                Ok(row) => {
                    rows.push(row);
                    index_map.push(i);
                    results.push(Ok(placeholder.clone()));
                }
                Err(errors) => results.push(Err(errors)),
            }
        }
        if options.all_or_none && results.iter().any(Result::is_err) {
            roll_back_all(&mut results);
            rows.clear();
        }
        Ok(PreparedInserts {
            object,
            results,
            rows,
            index_map,
            caller: caller.clone(),
        })
    }

    /// Writes prepared records in `tx`: ids, reference and unique checks against the
    /// database, auto numbers, the insert. With all-or-none, a failure leaves every result an
    /// error and the caller rolls back.
    pub(crate) async fn write_inserts(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        prepared: PreparedInserts,
        options: WriteOptions,
        numbers: &mut Range<u64>,
    ) -> Result<Vec<RecordResult>> {
        let PreparedInserts {
            object,
            mut results,
            mut rows,
            index_map,
            caller,
        } = prepared;
        if rows.is_empty() {
            return Ok(results);
        }
        moves_security(tx, &object, true).await?;

        let id_position = object.field_position("Id").unwrap_or(0);
        ensure_numbers(tx, numbers, rows.len()).await?;
        let mut ids = Vec::with_capacity(rows.len());
        for (row, &original) in rows.iter_mut().zip(&index_map) {
            let id = new_id(&object, numbers)?;
            row[id_position] = Value::Id(id.clone());
            results[original] = Ok(id.clone());
            ids.push(id);
        }

        let row_refs: Vec<&Vec<Value>> = rows.iter().collect();
        let id_refs: Vec<&RecordId> = ids.iter().collect();
        let mut errors = check_references(
            tx,
            schema,
            &object,
            &row_refs,
            &reference_positions(&object),
        )
        .await?;
        for (r, mut errs) in self
            .invisible_references(
                &caller,
                schema,
                &object,
                &row_refs,
                &reference_positions(&object),
            )
            .await?
        {
            errors.entry(r).or_default().append(&mut errs);
        }
        for (r, mut errs) in self
            .check_unique(tx, &caller, &object, &row_refs, &id_refs)
            .await?
        {
            errors.entry(r).or_default().append(&mut errs);
        }
        let failed: HashSet<usize> = errors.keys().copied().collect();
        let now = model::value::now_millis();
        for (r, mut errs) in self
            .price_rules_on_insert(
                &mut WriteContext {
                    tx,
                    schema,
                    numbers,
                    caller: &caller,
                    now,
                },
                &object,
                &mut rows,
                &failed,
            )
            .await?
        {
            errors.entry(r).or_default().append(&mut errs);
        }
        for (r, mut errs) in self
            .campaign_rules_on_insert(tx, schema, &object, &mut rows, &failed, now)
            .await?
        {
            errors.entry(r).or_default().append(&mut errs);
        }
        for (r, mut errs) in
            crate::groups::membership_rules_on_insert(tx, schema, &object, &rows, &failed).await?
        {
            errors.entry(r).or_default().append(&mut errs);
        }
        let failed: HashSet<usize> = errors.keys().copied().collect();
        merge_errors(&mut results, &index_map, errors);
        if options.all_or_none && !failed.is_empty() {
            roll_back_all(&mut results);
            return Ok(results);
        }
        let mut kept: Vec<Vec<Value>> = Vec::with_capacity(rows.len());
        let mut kept_index: Vec<usize> = Vec::with_capacity(rows.len());
        for (r, row) in rows.into_iter().enumerate() {
            if !failed.contains(&r) {
                kept.push(row);
                kept_index.push(index_map[r]);
            }
        }
        if kept.is_empty() {
            return Ok(results);
        }
        for (p, field) in object
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.field_type == FieldType::AutoNumber)
        {
            let first =
                store::records::next_autonumber(tx, &object.name, &field.name, kept.len() as i64)
                    .await?;
            for (k, row) in kept.iter_mut().enumerate() {
                row[p] = Value::Text(format_autonumber(
                    field.autonumber_format.as_deref(),
                    first + k as i64,
                ));
            }
        }

        // Only the columns some record sets: a narrower statement binds far fewer nulls.
        let columns: Vec<usize> = (0..object.fields.len())
            .filter(|&p| kept.iter().any(|row| !row[p].is_null()))
            .collect();
        // A savepoint lets a partial-success write recover from a unique value that a
        // concurrent writer took meanwhile; all-or-none writes simply fail.
        let recoverable = !options.all_or_none && object.fields.iter().any(|f| f.unique);
        if recoverable {
            tx.savepoint("bulk_insert").await?;
        }
        match store::records::insert_columns(tx, &object, &columns, &kept).await {
            Ok(()) if recoverable => tx.release("bulk_insert").await?,
            Ok(()) => {}
            Err(error) => {
                let Some(duplicate) = duplicate_from_store(&object, &error) else {
                    return Err(error.into());
                };
                if !recoverable {
                    results[kept_index[0]] = Err(vec![duplicate]);
                    roll_back_all(&mut results);
                    return Ok(results);
                }
                tx.rollback_to("bulk_insert").await?;
                // Find which records conflict, one by one.
                for (k, row) in kept.iter().enumerate() {
                    tx.savepoint("one_insert").await?;
                    match store::records::insert_columns(
                        tx,
                        &object,
                        &columns,
                        std::slice::from_ref(row),
                    )
                    .await
                    {
                        Ok(()) => tx.release("one_insert").await?,
                        Err(error) => match duplicate_from_store(&object, &error) {
                            Some(duplicate) => {
                                tx.rollback_to("one_insert").await?;
                                results[kept_index[k]] = Err(vec![duplicate]);
                            }
                            None => return Err(error.into()),
                        },
                    }
                }
            }
        }
        let inserted: Vec<RecordId> = kept_index
            .iter()
            .filter_map(|&i| results[i].as_ref().ok().cloned())
            .collect();
        let created: Vec<Snapshot<'_>> = kept_index
            .iter()
            .zip(&kept)
            .filter_map(|(&i, row)| Some((results[i].as_ref().ok()?, None, row)))
            .collect();
        let at = object
            .field_position("CreatedDate")
            .and_then(|p| kept.first()?.get(p)?.as_datetime())
            .unwrap_or_else(model::value::now_millis);
        write_snapshots(tx, schema, &object, &created, numbers, &caller, at).await?;
        let written: Vec<(&RecordId, &Vec<Value>)> =
            created.iter().map(|(id, _, row)| (*id, *row)).collect();
        crate::sales::keep_one_flagged(tx, &object, &written, at).await?;
        if crate::rollup::is_child(&object.name) {
            let rows: Vec<ChildRow<'_>> = created
                .iter()
                .map(|(_, _, row)| (None, row.as_slice()))
                .collect();
            let mut w = WriteContext {
                tx,
                schema,
                numbers,
                caller: &caller,
                now: at,
            };
            self.rollups_after(&mut w, &object, &rows).await?;
        }
        if object.name == "Campaign" {
            self.add_starting_statuses(tx, schema, &inserted, numbers)
                .await?;
        }
        self.reshare_after_write(tx, schema, &object, &inserted, Vec::new())
            .await?;
        Ok(results)
    }

    /// Reads one record: all fields, or the ones named (Id is always included).
    pub async fn get(
        &self,
        caller: &Caller,
        object: &str,
        id: &str,
        fields: Option<&[String]>,
    ) -> Result<Record> {
        let schema = self.schema().await?;
        self.get_in(None, &schema, caller, object, id, fields).await
    }

    /// Reads one record, inside `tx` when given (to see what the transaction wrote).
    pub(crate) async fn get_in(
        &self,
        tx: Option<&mut Tx>,
        schema: &Schema,
        caller: &Caller,
        object: &str,
        id: &str,
        fields: Option<&[String]>,
    ) -> Result<Record> {
        self.get_many_in(tx, schema, caller, object, &[id], fields)
            .await?
            .pop()
            .ok_or_else(not_found)
    }

    /// Reads records by id in one query, in the order asked, inside `tx` when given. Any id
    /// that is malformed, of another object, missing or not visible to the caller fails the
    /// whole read, as reading that one record alone would.
    pub(crate) async fn get_many_in(
        &self,
        mut tx: Option<&mut Tx>,
        schema: &Schema,
        caller: &Caller,
        object: &str,
        ids: &[&str],
        fields: Option<&[String]>,
    ) -> Result<Vec<Record>> {
        let object = object_of(schema, object)?.clone();
        self.require(caller, &object, Need::Read).await?;
        let ids = ids
            .iter()
            .map(|id| id_of_object(&object, id))
            .collect::<std::result::Result<Vec<RecordId>, RecordError>>()
            .map_err(|error| AppError::Rejected(vec![error]))?;
        let rules = self.access(caller).await?.fields.clone();
        let mut selected = select_fields(&object, fields)?;
        if fields.is_some()
            && let Some(hidden) = selected
                .iter()
                .find(|f| rules.hidden(&object.name, &f.name))
        {
            return Err(AppError::on_field(
                ErrorCode::InvalidField,
                &hidden.name,
                format!(
                    "No such column '{}' on entity '{}'",
                    hidden.name, object.name
                ),
            ));
        }
        selected.retain(|f| !rules.hidden(&object.name, &f.name));
        let mut select = Select::new(&object, selected.clone());
        select.filter = Some(match ids.as_slice() {
            [id] => Filter::eq("Id", Value::Id(id.clone())),
            _ => Filter::any_of("Id", ids.iter().cloned().map(Value::Id).collect()),
        });
        let rows = match tx.as_deref_mut() {
            Some(tx) => store::records::select_in(tx, &select).await?,
            None => store::records::select(&self.store, &select).await?,
        };
        let id_at = selected.iter().position(|f| f.name == "Id");
        let by_id: HashMap<RecordId, Vec<Value>> = rows
            .into_iter()
            .filter_map(|row| Some((id_at.and_then(|i| row.get(i))?.as_id()?.clone(), row)))
            .collect();
        if ids.iter().any(|id| !by_id.contains_key(id)) {
            return Err(not_found());
        }
        self.require_readable(tx, caller, &object, &ids).await?;
        let names: Vec<String> = selected.iter().map(|f| f.name.clone()).collect();
        ids.iter()
            .map(|id| {
                let row = by_id.get(id).ok_or_else(not_found)?;
                Ok(Record {
                    object: object.clone(),
                    values: names.iter().cloned().zip(row.iter().cloned()).collect(),
                })
            })
            .collect()
    }

    /// Reads records matching a filter, in order, at most `limit`.
    /// For a user (not the system): the object must be readable, no named field may be hidden
    /// from them, and only the records they may see come back.
    pub async fn find(
        &self,
        caller: &Caller,
        object: &str,
        fields: &[&str],
        filter: Option<Filter>,
        order_by: Vec<(String, bool)>,
        limit: Option<u64>,
    ) -> Result<Vec<Record>> {
        let schema = self.schema().await?;
        let object = object_of(&schema, object)?.clone();
        let rules = if caller.user_id.is_some() {
            self.require(caller, &object, Need::Read).await?;
            Some(self.access(caller).await?.fields.clone())
        } else {
            None
        };
        let hidden = |name: &str| rules.as_ref().is_some_and(|r| r.hidden(&object.name, name));
        let mut selected = Vec::with_capacity(fields.len());
        for name in fields {
            selected.push(
                object
                    .field(name)
                    .filter(|f| !hidden(&f.name))
                    .ok_or_else(|| {
                        AppError::on_field(
                            ErrorCode::InvalidField,
                            name,
                            format!("No such column '{name}' on entity '{}'", object.name),
                        )
                    })?,
            );
        }
        for name in filter
            .iter()
            .flat_map(filter_fields)
            .chain(order_by.iter().map(|(n, _)| n.clone()))
        {
            if object.field(&name).is_none_or(|f| hidden(&f.name)) {
                return Err(AppError::on_field(
                    ErrorCode::InvalidField,
                    &name,
                    format!("No such column '{name}' on entity '{}'", object.name),
                ));
            }
        }
        let mut select = Select::new(&object, selected.clone());
        select.filter = filter;
        select.order_by = order_by;
        select.limit = limit;
        let rows = store::records::select(&self.store, &select).await?;
        let names: Vec<String> = selected.iter().map(|f| f.name.clone()).collect();
        let mut records: Vec<Record> = rows
            .into_iter()
            .map(|row| Record {
                object: object.clone(),
                values: names.iter().cloned().zip(row).collect(),
            })
            .collect();
        if caller.user_id.is_some() {
            let ids: Vec<RecordId> = records.iter().filter_map(|r| r.id().cloned()).collect();
            if let Some(visible) = self.readable_ids(caller, &object, &ids).await? {
                records.retain(|r| r.id().is_some_and(|id| visible.contains(id)));
            }
        }
        Ok(records)
    }

    /// Updates one record.
    pub async fn update(&self, caller: &Caller, object: &str, update: Update) -> Result<()> {
        first_error(
            self.update_many(
                caller,
                object,
                vec![update],
                WriteOptions { all_or_none: true },
            )
            .await?,
        )
        .map(drop)
    }

    /// Updates records in one transaction, with a result per record.
    pub async fn update_many(
        &self,
        caller: &Caller,
        object: &str,
        updates: Vec<Update>,
        options: WriteOptions,
    ) -> Result<Vec<RecordResult>> {
        let schema = self.schema().await?;
        let prepared = self
            .prepare_updates(&schema, object, updates, options)
            .await?;
        if prepared.parsed.is_empty() {
            return Ok(prepared.results);
        }
        let mut numbers = self
            .store
            .reserve_record_numbers(prepared.history_rows())
            .await?;
        let mut tx = self.store.begin().await?;
        let results = self
            .write_updates(&mut tx, &schema, caller, prepared, options, &mut numbers)
            .await?;
        let finished = finish(tx, results, options).await;
        if object.eq_ignore_ascii_case("Organization") {
            // The org's settings are that record, cached by `org_settings`.
            self.forget_org_settings();
        }
        finished
    }

    /// Parses updates without touching the database.
    pub(crate) async fn prepare_updates(
        &self,
        schema: &Schema,
        object: &str,
        updates: Vec<Update>,
        options: WriteOptions,
    ) -> Result<PreparedUpdates> {
        let object = object_of(schema, object)?.clone();
        let fiscal_start = self.fiscal_year_start_month_for(&object).await?;
        let mut results: Vec<RecordResult> = Vec::with_capacity(updates.len());
        let mut parsed: Vec<ParsedUpdate> = Vec::new();
        for (i, update) in updates.iter().enumerate() {
            let id = id_of_object(&object, &update.id).map_err(|e| vec![e]);
            let fields = parse_input(&object, &update.input, Mode::Update);
            match (id, fields) {
                (Ok(id), Ok(fields)) => {
                    results.push(Ok(id.clone()));
                    parsed.push((i, id, fields, update.if_unmodified_since));
                }
                (Err(mut a), Err(mut b)) => {
                    a.append(&mut b);
                    results.push(Err(a));
                }
                (Err(e), _) | (_, Err(e)) => results.push(Err(e)),
            }
        }
        if options.all_or_none && results.iter().any(Result::is_err) {
            roll_back_all(&mut results);
            parsed.clear();
        }
        Ok(PreparedUpdates {
            object,
            fiscal_start,
            results,
            parsed,
        })
    }

    /// Applies prepared updates in `tx`: reads the records (locking them), merges, derives,
    /// checks references and unique values, writes, records history.
    pub(crate) async fn write_updates(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        caller: &Caller,
        prepared: PreparedUpdates,
        options: WriteOptions,
        numbers: &mut Range<u64>,
    ) -> Result<Vec<RecordResult>> {
        let PreparedUpdates {
            object,
            fiscal_start,
            mut results,
            parsed,
        } = prepared;
        self.require(caller, &object, Need::Edit).await?;
        if parsed.is_empty() {
            return Ok(results);
        }
        let rules = self.access(caller).await?.fields.clone();
        for (_, _, sets, _) in &parsed {
            let names = sets
                .iter()
                .filter_map(|(position, _)| object.fields.get(*position))
                .map(|f| f.name.as_str());
            refuse_protected(&object, &rules, names)?;
        }
        // Records the caller may not edit (or whose owner they may not change) fail one by
        // one, as Salesforce reports them.
        let ids: Vec<RecordId> = parsed.iter().map(|p| p.1.clone()).collect();
        let mut refused = self
            .refused_edits(Some(&mut *tx), caller, &object, &ids)
            .await?;
        if let Some(owner) = object.field_position("OwnerId") {
            let transfers: Vec<RecordId> = parsed
                .iter()
                .filter(|(_, _, sets, _)| sets.iter().any(|(p, _)| *p == owner))
                .map(|p| p.1.clone())
                .collect();
            for (id, error) in self
                .refused_transfers(Some(&mut *tx), caller, &object, &transfers)
                .await?
            {
                refused.entry(id).or_insert(error);
            }
        }
        let role_position = object.field_position("UserRoleId");
        let user_role = parsed
            .iter()
            .any(|(_, _, sets, _)| sets.iter().any(|(p, _)| Some(*p) == role_position));
        moves_security(tx, &object, user_role).await?;
        let now = model::value::now_millis();
        let all_fields: Vec<&FieldDef> = object.fields.iter().collect();
        let mut current: HashMap<RecordId, Vec<Value>> = HashMap::new();
        let id_position = object.field_position("Id").unwrap_or(0);
        let ids: Vec<Value> = parsed
            .iter()
            .map(|(_, id, _, _)| Value::Id(id.clone()))
            .collect();
        for chunk in ids.chunks(1000) {
            let mut select = Select::new(&object, all_fields.clone());
            select.filter = Some(Filter::any_of("Id", chunk.to_vec()));
            select.deleted = Deleted::Include;
            select.lock = store::plan::Lock::Update;
            for row in store::records::select_in(tx, &select).await? {
                if let Some(id) = row[id_position].as_id().cloned() {
                    current.insert(id, row);
                }
            }
        }
        let deleted_position = object.field_position("IsDeleted").unwrap_or(0);
        // A converted lead is read-only.
        let converted_position = (object.name == "Lead")
            .then(|| object.field_position("IsConverted"))
            .flatten();
        let derivation = Derivation::new(&object, fiscal_start);
        // (original index, id, old row, new row, expected modstamp)
        let mut changes: Vec<(usize, RecordId, Vec<Value>, Vec<Value>)> = Vec::new();
        for (i, id, fields, since) in parsed {
            let Some(old) = current.get(&id) else {
                results[i] = Err(vec![RecordError::new(
                    ErrorCode::NotFound,
                    format!("The requested resource does not exist: {id}"),
                )]);
                continue;
            };
            if old[deleted_position] == Value::Bool(true) {
                results[i] = Err(vec![RecordError::new(
                    ErrorCode::EntityIsDeleted,
                    "entity is deleted",
                )]);
                continue;
            }
            if converted_position.is_some_and(|p| old[p] == Value::Bool(true)) {
                results[i] = Err(vec![RecordError::new(
                    ErrorCode::CannotUpdateConvertedLead,
                    format!("cannot reference converted lead: {id} is converted and read-only"),
                )]);
                continue;
            }
            if let Some(error) = refused.remove(&id) {
                results[i] = Err(vec![error]);
                continue;
            }
            let old_stamp = modstamp_of(&object, old);
            if let (Some(since), Some(stamp)) = (since, old_stamp)
                && stamp > since
            {
                results[i] = Err(vec![stale(&id, stamp)]);
                continue;
            }
            let mut row = old.clone();
            let mut written = vec![false; row.len()];
            for (p, value) in fields {
                row[p] = value;
                written[p] = true;
            }
            let at = next_stamp(old_stamp, now);
            stamp(&object, &mut row, caller, at, false);
            derivation.apply(&object, &mut row, &written, Some(old), at);
            if let Some(error) = missing_required(&object, &row) {
                results[i] = Err(vec![error]);
                continue;
            }
            changes.push((i, id, old.clone(), row));
        }
        // Only references that changed need checking.
        let positions = reference_positions(&object);
        let check_rows: Vec<Vec<Value>> = changes
            .iter()
            .map(|(_, _, old, new)| {
                new.iter()
                    .enumerate()
                    .map(|(p, v)| {
                        if positions.contains(&p) && old[p] != *v {
                            v.clone()
                        } else {
                            Value::Null
                        }
                    })
                    .collect()
            })
            .collect();
        let check_refs: Vec<&Vec<Value>> = check_rows.iter().collect();
        let index_map: Vec<usize> = changes.iter().map(|(i, ..)| *i).collect();
        let mut errors = check_references(tx, schema, &object, &check_refs, &positions).await?;
        for (r, mut errs) in self
            .invisible_references(caller, schema, &object, &check_refs, &positions)
            .await?
        {
            errors.entry(r).or_default().append(&mut errs);
        }
        let new_rows: Vec<&Vec<Value>> = changes.iter().map(|(_, _, _, new)| new).collect();
        let own_ids: Vec<&RecordId> = changes.iter().map(|(_, id, _, _)| id).collect();
        for (r, mut errs) in self
            .check_unique(tx, caller, &object, &new_rows, &own_ids)
            .await?
        {
            errors.entry(r).or_default().append(&mut errs);
        }
        for (r, mut errs) in self
            .price_rules_on_update(
                &mut WriteContext {
                    tx,
                    schema,
                    numbers,
                    caller,
                    now,
                },
                &object,
                &mut changes,
            )
            .await?
        {
            errors.entry(r).or_default().append(&mut errs);
        }
        for (r, mut errs) in self
            .campaign_rules_on_update(tx, schema, &object, &mut changes, now)
            .await?
        {
            errors.entry(r).or_default().append(&mut errs);
        }
        let failed: HashSet<usize> = errors.keys().copied().collect();
        merge_errors(&mut results, &index_map, errors);
        if options.all_or_none && results.iter().any(Result::is_err) {
            roll_back_all(&mut results);
            return Ok(results);
        }
        let recoverable = !options.all_or_none && object.fields.iter().any(|f| f.unique);
        let mut history = Vec::new();
        let mut updated = Vec::with_capacity(changes.len());
        let mut snapshot_rows: Vec<(RecordId, Vec<Value>, Vec<Value>)> = Vec::new();
        let mut written_rows: Vec<(RecordId, Vec<Value>)> = Vec::new();
        let keeps_before_after =
            crate::rollup::is_child(&object.name) || object.name == "CampaignMemberStatus";
        let mut before_after: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
        let mut transferred = Vec::new();
        let owner_position = object.field_position("OwnerId");
        let parents_before =
            App::parents_before(schema, &object, changes.iter().map(|(_, _, old, _)| old));
        for (r, (i, id, old, new)) in changes.into_iter().enumerate() {
            if failed.contains(&r) {
                continue;
            }
            let sets = changed_sets(&object, &new, &old);
            if recoverable {
                tx.savepoint("one_update").await?;
            }
            match store::records::update(tx, &object, &id, &sets, modstamp_of(&object, &old)).await
            {
                Ok(true) if recoverable => tx.release("one_update").await?,
                Ok(true) => {}
                Ok(false) => {
                    // Nothing was written: the row changed under us (another process).
                    if recoverable {
                        tx.release("one_update").await?;
                    }
                    results[i] = Err(vec![stale(&id, modstamp_of(&object, &old).unwrap_or(now))]);
                    continue;
                }
                Err(error) => match duplicate_from_store(&object, &error) {
                    Some(duplicate) if recoverable => {
                        tx.rollback_to("one_update").await?;
                        results[i] = Err(vec![duplicate]);
                        continue;
                    }
                    Some(duplicate) => {
                        results[i] = Err(vec![duplicate]);
                        roll_back_all(&mut results);
                        return Ok(results);
                    }
                    None => return Err(error.into()),
                },
            }
            if owner_position.is_some_and(|p| old[p] != new[p]) {
                transferred.push(id.clone());
            }
            if snapshots(&object) > 0 {
                snapshot_rows.push((id.clone(), old.clone(), new.clone()));
            }
            if crate::sales::keeps_one_flagged(&object.name) {
                written_rows.push((id.clone(), new.clone()));
            }
            if keeps_before_after {
                before_after.push((old.clone(), new.clone()));
            }
            updated.push(id.clone());
            history.extend(tracked_changes(&object, &id, &new, &old));
        }
        if options.all_or_none && results.iter().any(Result::is_err) {
            roll_back_all(&mut results);
            return Ok(results);
        }
        // A new owner starts afresh: the old owner's manual shares go (as in Salesforce).
        remove_manual_shares(tx, schema, &transferred).await?;
        let snapshot_refs: Vec<Snapshot<'_>> = snapshot_rows
            .iter()
            .map(|(id, old, new)| (id, Some(old), new))
            .collect();
        write_snapshots(tx, schema, &object, &snapshot_refs, numbers, caller, now).await?;
        let written: Vec<(&RecordId, &Vec<Value>)> =
            written_rows.iter().map(|(id, row)| (id, row)).collect();
        crate::sales::keep_one_flagged(tx, &object, &written, now).await?;
        self.reshare_after_write(tx, schema, &object, &updated, parents_before)
            .await?;
        write_history(tx, schema, &object, history, numbers, caller, now).await?;
        let rows: Vec<ChildRow<'_>> = before_after
            .iter()
            .map(|(old, new)| (Some(old.as_slice()), new.as_slice()))
            .collect();
        let mut w = WriteContext {
            tx,
            schema,
            numbers,
            caller,
            now,
        };
        self.rollups_after(&mut w, &object, &rows).await?;
        self.campaign_rules_after_update(&mut w, &object, &before_after)
            .await?;
        Ok(results)
    }
}

/// A record the system changed: its id, its row before and after.
pub(crate) type Changed = (RecordId, Vec<Value>, Vec<Value>);

/// What the work that follows a write inside its transaction shares: the transaction, the
/// schema the write was checked against, the record numbers reserved for it, who writes and
/// when. The hooks (roll-ups, price book and campaign rules, system values) take it whole.
pub(crate) struct WriteContext<'w> {
    pub(crate) tx: &'w mut Tx,
    pub(crate) schema: &'w Schema,
    pub(crate) numbers: &'w mut Range<u64>,
    pub(crate) caller: &'w Caller,
    pub(crate) now: OffsetDateTime,
}

impl App {
    /// Writes values the system computes (roll-ups of child records, the price book a first
    /// product brings) onto live records of `object`, as an update would: derived fields,
    /// stamps, field history and opportunity history follow. No permission check: the write
    /// that caused it was checked. Returns the records that changed.
    pub(crate) async fn write_system_values(
        &self,
        w: &mut WriteContext<'_>,
        object: &ObjectDef,
        values: Vec<(RecordId, Vec<(usize, Value)>)>,
    ) -> Result<Vec<Changed>> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let (schema, caller, now) = (w.schema, w.caller, w.now);
        let all_fields: Vec<&FieldDef> = object.fields.iter().collect();
        let id_position = object.field_position("Id").unwrap_or(0);
        let mut current: HashMap<RecordId, Vec<Value>> = HashMap::new();
        let ids: Vec<Value> = values.iter().map(|(id, _)| Value::Id(id.clone())).collect();
        for chunk in ids.chunks(1000) {
            let mut select = Select::new(object, all_fields.clone());
            select.filter = Some(Filter::any_of("Id", chunk.to_vec()));
            select.lock = store::plan::Lock::NoKeyUpdate;
            for row in store::records::select_in(w.tx, &select).await? {
                if let Some(id) = row[id_position].as_id().cloned() {
                    current.insert(id, row);
                }
            }
        }
        let derivation = Derivation::new(object, self.fiscal_year_start_month_for(object).await?);
        let mut changed = Vec::new();
        let mut history = Vec::new();
        for (id, sets) in values {
            // A parent deleted along with its children has nothing to roll up onto.
            let Some(old) = current.remove(&id) else {
                continue;
            };
            let mut row = old.clone();
            let mut written = vec![false; row.len()];
            for (p, value) in sets {
                row[p] = value;
                written[p] = true;
            }
            derivation.apply(object, &mut row, &written, Some(&old), now);
            if row == old {
                continue;
            }
            let at = next_stamp(modstamp_of(object, &old), now);
            stamp(object, &mut row, caller, at, false);
            let sets = changed_sets(object, &row, &old);
            store::records::update(w.tx, object, &id, &sets, None).await?;
            history.extend(tracked_changes(object, &id, &row, &old));
            changed.push((id, old, row));
        }
        let snapshot_refs: Vec<Snapshot<'_>> = changed
            .iter()
            .map(|(id, old, new)| (id, Some(old), new))
            .collect();
        write_snapshots(w.tx, schema, object, &snapshot_refs, w.numbers, caller, now).await?;
        write_history(w.tx, schema, object, history, w.numbers, caller, now).await?;
        Ok(changed)
    }
}

/// Removes the manual shares (RecordShare rows) of records whose owner changed.
async fn remove_manual_shares(tx: &mut Tx, schema: &Schema, records: &[RecordId]) -> Result<()> {
    let Some(shares) = schema.object("RecordShare") else {
        return Ok(());
    };
    let (Some(record), Some(id)) = (shares.field("RecordId"), shares.field("Id")) else {
        return Ok(());
    };
    if records.is_empty() {
        return Ok(());
    }
    let doomed: Vec<RecordId> = store::shares::pairs(tx, shares, record, id, records)
        .await?
        .into_iter()
        .map(|(_, share)| share)
        .collect();
    store::records::purge(tx, shares, &doomed).await?;
    Ok(())
}

/// An update whose input parsed: (input position, id, field values, version read).
type ParsedUpdate = (usize, RecordId, Vec<(usize, Value)>, Option<OffsetDateTime>);

fn stale(id: &RecordId, stamp: OffsetDateTime) -> RecordError {
    RecordError::new(
        ErrorCode::EntityFailedIflastmodifiedOnUpdate,
        format!(
            "The record {id} was modified at {} after the version you read; read it again and reapply your change",
            model::value::format_datetime(stamp)
        ),
    )
}

/// Rolls back to a savepoint and forgets the record numbers in hand: some may have been
/// reserved inside it (`ensure_numbers` tops up inside the transaction), and the rollback
/// gave them back to the sequence, so another writer may be handed them next. A write that
/// goes on reserves afresh.
pub(crate) async fn roll_back_to(
    tx: &mut Tx,
    savepoint: &str,
    numbers: &mut Range<u64>,
) -> Result<()> {
    tx.rollback_to(savepoint).await?;
    *numbers = 0..0;
    Ok(())
}

pub(crate) fn not_found() -> AppError {
    AppError::one(ErrorCode::NotFound, "The requested resource does not exist")
}

fn filter_fields(filter: &Filter) -> Vec<String> {
    match filter {
        Filter::Compare { field, .. } | Filter::In { field, .. } => vec![field.clone()],
        Filter::And(parts) | Filter::Or(parts) => parts.iter().flat_map(filter_fields).collect(),
        Filter::Not(inner) => filter_fields(inner),
    }
}
