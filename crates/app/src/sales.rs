//! Sales-process rules that span records, applied in the write's transaction.

use model::{FieldDef, ObjectDef, RecordId, Value};
use store::Tx;
use time::OffsetDateTime;

use crate::Result;

/// An opportunity has at most one primary contact: a contact role written as primary makes
/// the opportunity's other roles not primary (as Salesforce does).
pub(crate) async fn keep_one_primary_contact(
    tx: &mut Tx,
    object: &ObjectDef,
    written: &[(&RecordId, &Vec<Value>)],
    at: OffsetDateTime,
) -> Result<()> {
    if object.name != "OpportunityContactRole" {
        return Ok(());
    }
    let (Some(primary), Some(opportunity)) = (
        object.field_position("IsPrimary"),
        object.field_position("OpportunityId"),
    ) else {
        return Ok(());
    };
    let fields: Vec<&FieldDef> = ["Id", "OpportunityId", "IsPrimary"]
        .iter()
        .filter_map(|f| object.field(f))
        .collect();
    let stamps: Vec<&FieldDef> = ["LastModifiedDate", "SystemModstamp"]
        .iter()
        .filter_map(|f| object.field(f))
        .collect();
    let (Some(primary_field), Some(_)) = (object.field("IsPrimary"), object.field("Id")) else {
        return Ok(());
    };
    for (id, row) in written {
        if row.get(primary) != Some(&Value::Bool(true)) {
            continue;
        }
        let Some(Value::Id(deal)) = row.get(opportunity) else {
            continue;
        };
        let mut select = store::Select::new(object, fields.clone());
        select.filter = Some(store::Filter::And(vec![
            store::Filter::eq("OpportunityId", Value::Id(deal.clone())),
            store::Filter::eq("IsPrimary", Value::Bool(true)),
        ]));
        for other in store::records::select_in(tx, &select).await? {
            let Some(Value::Id(other)) = other.first() else {
                continue;
            };
            if other == *id {
                continue;
            }
            let mut sets = vec![(primary_field, Value::Bool(false))];
            sets.extend(stamps.iter().map(|f| (*f, Value::DateTime(at))));
            store::records::update(tx, object, other, &sets, None).await?;
        }
    }
    Ok(())
}

/// The longest loss reason kept in a task's subject (the whole reason is its description).
const REASON_IN_SUBJECT: usize = 200;

impl crate::App {
    /// Closes an opportunity as lost, saying why: the stage change and a completed task on
    /// the opportunity carrying the reason (its activity history keeps it), in one
    /// transaction. `stage` must be a closed stage that is not won.
    pub async fn close_lost(
        &self,
        caller: &crate::Caller,
        id: &str,
        stage: &str,
        reason: &str,
    ) -> Result<()> {
        use crate::AppError;
        use crate::records::{RecordInput, Update, WriteOptions, first_error};
        use model::ErrorCode;

        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::on_field(
                ErrorCode::RequiredFieldMissing,
                "reason",
                "reason: say why the deal was lost",
            ));
        }
        let schema = self.schema().await?;
        let lost = schema
            .object("Opportunity")
            .and_then(|o| o.field("StageName"))
            .and_then(|f| f.picklist_value(stage))
            .is_some_and(|v| v.closed && !v.won);
        if !lost {
            return Err(AppError::on_field(
                ErrorCode::InvalidField,
                "StageName",
                format!("StageName: {stage} is not a stage that closes a deal as lost"),
            ));
        }
        let options = WriteOptions { all_or_none: true };
        let mut work = self.begin_work().await?;
        let mut stage_input = RecordInput::new();
        stage_input.insert("StageName".into(), stage.into());
        let update = Update {
            id: id.to_string(),
            input: stage_input,
            if_unmodified_since: None,
        };
        first_error(
            self.update_many_in(&mut work, caller, "Opportunity", vec![update], options)
                .await?,
        )?;
        let subject: String = reason.chars().take(REASON_IN_SUBJECT).collect();
        let zone = match &caller.time_zone {
            Some(zone) => zone.clone(),
            None => self.org_settings().await?.time_zone,
        };
        let today = crate::dates::Today::in_zone(&zone).date;
        let mut task = RecordInput::new();
        task.insert("WhatId".into(), id.into());
        task.insert("Subject".into(), subject.into());
        task.insert("Description".into(), reason.into());
        task.insert("Status".into(), "Completed".into());
        task.insert(
            "ActivityDate".into(),
            model::value::format_date(today).into(),
        );
        first_error(
            self.create_many_in(&mut work, caller, "Task", vec![task], options)
                .await?,
        )?;
        work.commit().await
    }
}
