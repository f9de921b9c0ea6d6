//! Upsert by external id: records whose external id matches an existing record update it,
//! the others are created; one transaction, a result per record saying which happened.

use std::collections::HashMap;
use std::ops::Range;

use model::{ErrorCode, FieldType, RecordError, RecordId, Schema, Value};
use store::plan::Deleted;
use store::{Filter, Select, Tx};

use crate::records::{RecordInput, Update, WriteOptions, finish, rolled_back_error};
use crate::{App, AppError, Caller, Result};

/// The outcome for one record of an upsert: its id and whether it was created.
pub type UpsertResult = std::result::Result<(RecordId, bool), Vec<RecordError>>;

/// The error for a field that cannot key an upsert.
pub fn not_an_external_id(field: &str) -> AppError {
    AppError::one(
        ErrorCode::NotFound,
        format!("Provided external ID field does not exist or is not accessible: {field}"),
    )
}

impl App {
    /// Upserts records of `object` keyed by `external_field` (an external-id field, or Id).
    pub async fn upsert_many(
        &self,
        caller: &Caller,
        object: &str,
        external_field: &str,
        inputs: Vec<RecordInput>,
        options: WriteOptions,
    ) -> Result<Vec<UpsertResult>> {
        let schema = self.schema().await?;
        // Field history rows, and an opportunity's OpportunityHistory snapshot.
        let tracked = schema.object(object).map_or(0, |o| {
            o.fields.iter().filter(|f| f.tracked).count() + usize::from(o.name == "Opportunity")
        });
        let mut numbers = self
            .store()
            .reserve_record_numbers((inputs.len() * (1 + tracked)) as u64)
            .await?;
        let mut tx = self.store().begin().await?;
        let results = self
            .upsert_in(
                &mut tx,
                &schema,
                caller,
                object,
                external_field,
                inputs,
                options,
                &mut numbers,
            )
            .await?;
        // `finish` decides on commit from record results; give it the same verdict.
        let verdicts: Vec<crate::RecordResult> = results
            .iter()
            .map(|r| r.clone().map(|(id, _)| id))
            .collect();
        finish(tx, verdicts, options).await?;
        Ok(results)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn upsert_in(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        caller: &Caller,
        object: &str,
        external_field: &str,
        inputs: Vec<RecordInput>,
        options: WriteOptions,
        numbers: &mut Range<u64>,
    ) -> Result<Vec<UpsertResult>> {
        let object = schema.object(object).cloned().ok_or_else(|| {
            AppError::one(
                ErrorCode::NotFound,
                format!("sObject type '{object}' is not supported."),
            )
        })?;
        let key = object
            .field(external_field)
            .filter(|f| f.external_id || f.field_type == FieldType::Id)
            .cloned()
            .ok_or_else(|| not_an_external_id(external_field))?;
        let by_id = key.field_type == FieldType::Id;

        // The key value of each record.
        let mut results: Vec<Option<UpsertResult>> = vec![None; inputs.len()];
        let mut keys: Vec<Option<Value>> = vec![None; inputs.len()];
        for (i, input) in inputs.iter().enumerate() {
            let given = input
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&key.name))
                .map(|(_, v)| v);
            match given.map(|json| model::validate::coerce(&key, json)) {
                Some(Ok(value)) if !value.is_null() => keys[i] = Some(value),
                Some(Err(error)) => results[i] = Some(Err(vec![error])),
                // Upsert on Id without an Id creates the record.
                _ if by_id => {}
                _ => {
                    results[i] = Some(Err(vec![RecordError::on_field(
                        ErrorCode::RequiredFieldMissing,
                        &key.name,
                        format!("Required fields are missing: [{}]", key.name),
                    )]))
                }
            }
        }

        // Which records the keys name (several for one key: ambiguous).
        let mut matches: HashMap<Value, Vec<RecordId>> = HashMap::new();
        let wanted: Vec<Value> = keys.iter().flatten().cloned().collect();
        if let Some(id_field) = object.field("Id") {
            for chunk in wanted.chunks(1000) {
                let mut select = Select::new(&object, vec![id_field, &key]);
                select.filter = Some(Filter::any_of(&key.name, chunk.to_vec()));
                select.deleted = Deleted::Exclude;
                for row in store::records::select_in(tx, &select).await? {
                    if let [Value::Id(id), value] = row.as_slice() {
                        matches.entry(value.clone()).or_default().push(id.clone());
                    }
                }
            }
        }

        let mut creates: Vec<(usize, RecordInput)> = Vec::new();
        let mut updates: Vec<(usize, Update)> = Vec::new();
        let mut first_with_key: HashMap<Value, usize> = HashMap::new();
        for (i, input) in inputs.into_iter().enumerate() {
            if results[i].is_some() {
                continue;
            }
            if let Some(value) = &keys[i]
                && let Some(first) = first_with_key.insert(value.clone(), i)
            {
                results[i] = Some(Err(vec![RecordError::on_field(
                    ErrorCode::DuplicateExternalId,
                    &key.name,
                    format!(
                        "{} is given twice in this request (records {first} and {i})",
                        key.name
                    ),
                )]));
                continue;
            }
            let found = keys[i]
                .as_ref()
                .and_then(|v| matches.get(v))
                .cloned()
                .unwrap_or_default();
            let mut input = input;
            if by_id {
                input.retain(|k, _| !k.eq_ignore_ascii_case("Id"));
            }
            match found.as_slice() {
                [] if by_id && keys[i].is_some() => {
                    results[i] = Some(Err(vec![RecordError::new(
                        ErrorCode::NotFound,
                        "The requested resource does not exist",
                    )]));
                }
                [] => creates.push((i, input)),
                [id] => updates.push((
                    i,
                    Update {
                        id: id.to_18(),
                        input,
                        if_unmodified_since: None,
                    },
                )),
                several => {
                    let ids: Vec<String> = several.iter().map(RecordId::to_18).collect();
                    results[i] = Some(Err(vec![RecordError::on_field(
                        ErrorCode::DuplicateExternalId,
                        &key.name,
                        format!("{} matches several records: {}", key.name, ids.join(", ")),
                    )]));
                }
            }
        }
        if options.all_or_none && results.iter().any(|r| matches!(r, Some(Err(_)))) {
            return Ok(rolled_back(results));
        }

        let (create_positions, create_inputs): (Vec<usize>, Vec<RecordInput>) =
            creates.into_iter().unzip();
        let prepared = self
            .prepare_inserts(schema, caller, &object.name, create_inputs, options)
            .await?;
        let created = self
            .write_inserts(tx, schema, prepared, options, numbers)
            .await?;
        for (i, result) in create_positions.into_iter().zip(created) {
            results[i] = Some(result.map(|id| (id, true)));
        }
        let (update_positions, update_list): (Vec<usize>, Vec<Update>) =
            updates.into_iter().unzip();
        let prepared = self
            .prepare_updates(schema, &object.name, update_list, options)
            .await?;
        let updated = self
            .write_updates(tx, schema, caller, prepared, options, numbers)
            .await?;
        for (i, result) in update_positions.into_iter().zip(updated) {
            results[i] = Some(result.map(|id| (id, false)));
        }
        if options.all_or_none && results.iter().any(|r| matches!(r, Some(Err(_)))) {
            return Ok(rolled_back(results));
        }
        Ok(results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(vec![RecordError::new(
                        ErrorCode::UnknownException,
                        "no result",
                    )])
                })
            })
            .collect())
    }
}

/// All-or-none failed: the failures keep their errors, the rest are marked rolled back.
fn rolled_back(results: Vec<Option<UpsertResult>>) -> Vec<UpsertResult> {
    results
        .into_iter()
        .map(|r| match r {
            Some(Err(errors)) => Err(errors),
            _ => Err(vec![rolled_back_error()]),
        })
        .collect()
}
