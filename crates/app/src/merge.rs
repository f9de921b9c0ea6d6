//! Merging duplicates: two or three accounts, contacts or leads become one. The master
//! record keeps its id and takes the field values the caller chose; everything that pointed
//! at the others (contacts, opportunities, cases, activities, campaign memberships, child
//! accounts…) points at the master; the others go to the recycle bin with `MasterRecordId`
//! naming the master. One transaction: all or nothing. The caller must be able to edit the
//! master and delete the others, as for any edit and delete.

use std::collections::HashSet;

use model::{ErrorCode, RecordId, Value};
use store::{Filter, Select};

use crate::records::{RecordInput, Update, WriteOptions, first_error};
use crate::{App, AppError, Caller, Result};

/// The objects whose duplicates can be merged.
pub const MERGEABLE: [&str; 3] = ["Account", "Contact", "Lead"];

/// At most this many records are merged into the master.
const MOST_MERGED: usize = 2;

/// What to merge: the master, the records merged into it, and field values the master
/// takes (chosen from any of them).
#[derive(Debug, Clone, Default)]
pub struct MergeRequest {
    pub master_id: String,
    pub merged_ids: Vec<String>,
    pub fields: RecordInput,
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub id: RecordId,
    pub merged_ids: Vec<RecordId>,
    /// Records that pointed at a merged record and now point at the master.
    pub updated_related_ids: Vec<RecordId>,
}

fn invalid(message: String) -> AppError {
    AppError::one(ErrorCode::InvalidOperation, message)
}

fn parse(text: &str) -> Result<RecordId> {
    RecordId::parse(text)
        .map_err(|_| AppError::one(ErrorCode::MalformedId, format!("invalid id: {text}")))
}

impl App {
    /// Merges records into a master (see the module's description).
    pub async fn merge(&self, caller: &Caller, request: MergeRequest) -> Result<Merged> {
        let schema = self.schema().await?;
        let master = parse(&request.master_id)?;
        let object = schema
            .object_by_prefix(master.key_prefix())
            .cloned()
            .ok_or_else(crate::records::not_found)?;
        if !MERGEABLE.contains(&object.name.as_str()) {
            return Err(invalid(format!(
                "merge: only accounts, contacts and leads can be merged, not {}",
                object.name
            )));
        }
        if request.merged_ids.is_empty() || request.merged_ids.len() > MOST_MERGED {
            return Err(invalid(format!(
                "merge: name one or two records to merge into the master (three at most in all), not {}",
                request.merged_ids.len()
            )));
        }
        let mut merged = Vec::with_capacity(request.merged_ids.len());
        for text in &request.merged_ids {
            let id = parse(text)?;
            if id.key_prefix() != master.key_prefix() {
                let other = schema
                    .object_by_prefix(id.key_prefix())
                    .map_or("an unknown object", |o| o.name.as_str());
                return Err(invalid(format!(
                    "merge: {} is a record of {other}; only records of one object ({}) can be merged",
                    id.to_18(),
                    object.name
                )));
            }
            if id == master || merged.contains(&id) {
                return Err(invalid(format!("merge: {} is named twice", id.to_18())));
            }
            merged.push(id);
        }

        let mut work = self.begin_work().await?;
        // Every record must be there and visible; converted leads are final.
        let mut everyone = vec![master.clone()];
        everyone.extend(merged.iter().cloned());
        for id in &everyone {
            self.get_in_work(
                &mut work,
                caller,
                &object.name,
                &id.to_18(),
                Some(&["Id".to_string()]),
            )
            .await?;
        }
        if object.name == "Lead" {
            let converted = self.converted_leads(&mut work, &everyone).await?;
            if let Some(id) = converted.first() {
                return Err(AppError::one(
                    ErrorCode::CannotUpdateConvertedLead,
                    format!(
                        "merge: lead {} is converted and cannot be merged",
                        id.to_18()
                    ),
                ));
            }
        }
        self.require_editable(
            Some(&mut work.tx),
            caller,
            &object,
            std::slice::from_ref(&master),
        )
        .await?;

        // The master's chosen values, through the record path (validation, history).
        let options = WriteOptions { all_or_none: true };
        let update = Update {
            id: master.to_18(),
            input: request.fields,
            if_unmodified_since: None,
        };
        first_error(
            self.update_many_in(&mut work, caller, &object.name, vec![update], options)
                .await?,
        )?;

        let updated_related_ids = self
            .repoint_children(&mut work, caller, &object.name, &master, &merged)
            .await?;
        if let Some(link) = match object.name.as_str() {
            "Lead" => Some("LeadId"),
            "Contact" => Some("ContactId"),
            _ => None,
        } {
            self.drop_duplicate_memberships(&mut work, link, &master)
                .await?;
        }

        // The merged records name their master, then go to the recycle bin.
        if let Some(position) = object.field_position("MasterRecordId") {
            let values = merged
                .iter()
                .map(|id| (id.clone(), vec![(position, Value::Id(master.clone()))]))
                .collect();
            self.write_system_values(
                &mut work.write_context(caller, model::value::now_millis()),
                &object,
                values,
            )
            .await?;
        }
        let deleted = self
            .delete_many_in(
                &mut work,
                caller,
                merged.iter().map(RecordId::to_18).collect(),
                options,
            )
            .await?;
        for result in deleted {
            result.map_err(AppError::Rejected)?;
        }
        work.commit().await?;
        Ok(Merged {
            id: master,
            merged_ids: merged,
            updated_related_ids,
        })
    }

    /// A campaign lists a person once: when the merged records were members of the same
    /// campaigns, the master keeps its oldest membership of each (the others go to the bin).
    async fn drop_duplicate_memberships(
        &self,
        work: &mut crate::work::Work,
        link: &str,
        master: &RecordId,
    ) -> Result<()> {
        let Some(members) = work.schema.object("CampaignMember").cloned() else {
            return Ok(());
        };
        let fields: Vec<&model::FieldDef> = ["Id", "CampaignId"]
            .iter()
            .filter_map(|f| members.field(f))
            .collect();
        if fields.len() != 2 {
            return Ok(());
        }
        let mut select = Select::new(&members, fields);
        select.filter = Some(Filter::eq(link, Value::Id(master.clone())));
        select.order_by = vec![("CreatedDate".into(), false), ("Id".into(), false)];
        let mut seen = HashSet::new();
        let duplicates: Vec<String> = store::records::select_in(&mut work.tx, &select)
            .await?
            .into_iter()
            .filter_map(|row| {
                let id = row.first()?.as_id()?.clone();
                let campaign = row.get(1)?.as_id()?.clone();
                (!seen.insert(campaign)).then(|| id.to_18())
            })
            .collect();
        if duplicates.is_empty() {
            return Ok(());
        }
        for result in self
            .delete_many_in(
                work,
                &Caller::system(),
                duplicates,
                WriteOptions { all_or_none: true },
            )
            .await?
        {
            result.map_err(AppError::Rejected)?;
        }
        Ok(())
    }

    /// The leads of `ids` that are converted.
    async fn converted_leads(
        &self,
        work: &mut crate::work::Work,
        ids: &[RecordId],
    ) -> Result<Vec<RecordId>> {
        let Some(leads) = work.schema.object("Lead").cloned() else {
            return Ok(Vec::new());
        };
        let Some(id_field) = leads.field("Id") else {
            return Ok(Vec::new());
        };
        let mut select = Select::new(&leads, vec![id_field]);
        select.filter = Some(Filter::And(vec![
            Filter::any_of("Id", ids.iter().cloned().map(Value::Id).collect()),
            Filter::eq("IsConverted", Value::Bool(true)),
        ]));
        Ok(store::records::select_in(&mut work.tx, &select)
            .await?
            .into_iter()
            .filter_map(|row| row.first().and_then(Value::as_id).cloned())
            .collect())
    }

    /// Points every live record that references one of `merged` at `master` instead, and
    /// recomputes the sharing those moves change. History rows keep their record.
    async fn repoint_children(
        &self,
        work: &mut crate::work::Work,
        caller: &Caller,
        object: &str,
        master: &RecordId,
        merged: &[RecordId],
    ) -> Result<Vec<RecordId>> {
        let schema = work.schema.clone();
        let merged_set: HashSet<&RecordId> = merged.iter().collect();
        let merged_values: Vec<Value> = merged.iter().cloned().map(Value::Id).collect();
        let now = model::value::now_millis();
        let mut moved = Vec::new();
        for relation in schema.child_relationships(object) {
            let Some(child) = schema.object(&relation.child_object).cloned() else {
                continue;
            };
            if child.history_parent.is_some() || relation.field == "MasterRecordId" {
                continue;
            }
            let (Some(id_field), Some(position)) =
                (child.field("Id"), child.field_position(&relation.field))
            else {
                continue;
            };
            let mut select = Select::new(&child, vec![id_field]);
            select.filter = Some(Filter::any_of(&relation.field, merged_values.clone()));
            let ids: Vec<RecordId> = store::records::select_in(&mut work.tx, &select)
                .await?
                .into_iter()
                .filter_map(|row| row.first().and_then(Value::as_id).cloned())
                .filter(|id| !merged_set.contains(id))
                .collect();
            if ids.is_empty() {
                continue;
            }
            let values = ids
                .iter()
                .map(|id| {
                    // The master cannot become its own parent.
                    let to = if id == master {
                        Value::Null
                    } else {
                        Value::Id(master.clone())
                    };
                    (id.clone(), vec![(position, to)])
                })
                .collect();
            let changed = self
                .write_system_values(&mut work.write_context(caller, now), &child, values)
                .await?;
            let before =
                App::parents_before(&schema, &child, changed.iter().map(|(_, old, _)| old));
            let ids: Vec<RecordId> = changed.into_iter().map(|(id, _, _)| id).collect();
            self.reshare_after_write(&mut work.tx, &schema, &child, &ids, before)
                .await?;
            moved.extend(ids);
        }
        Ok(moved)
    }
}
