//! Sales-process rules that span records, applied in the write's transaction.

use model::{FieldDef, ObjectDef, RecordId, Value};
use store::Tx;
use time::OffsetDateTime;

use crate::Result;

/// Flags only one record of a group may carry: an opportunity's primary contact role, a
/// campaign's default member status. (object, flag, group field).
const ONE_PER_GROUP: [(&str, &str, &str); 2] = [
    ("OpportunityContactRole", "IsPrimary", "OpportunityId"),
    ("CampaignMemberStatus", "IsDefault", "CampaignId"),
];

/// Whether writes to `object` may need [`keep_one_flagged`].
pub(crate) fn keeps_one_flagged(object: &str) -> bool {
    ONE_PER_GROUP.iter().any(|(o, _, _)| *o == object)
}

/// A record written with the flag set takes it from the other records of its group (as
/// Salesforce does for a primary contact role or a default member status).
pub(crate) async fn keep_one_flagged(
    tx: &mut Tx,
    object: &ObjectDef,
    written: &[(&RecordId, &Vec<Value>)],
    at: OffsetDateTime,
) -> Result<()> {
    let Some((_, flag_name, group_name)) = ONE_PER_GROUP.iter().find(|(o, _, _)| *o == object.name)
    else {
        return Ok(());
    };
    let (Some(flag), Some(group)) = (
        object.field_position(flag_name),
        object.field_position(group_name),
    ) else {
        return Ok(());
    };
    let fields: Vec<&FieldDef> = ["Id", group_name, flag_name]
        .iter()
        .filter_map(|f| object.field(f))
        .collect();
    let stamps: Vec<&FieldDef> = ["LastModifiedDate", "SystemModstamp"]
        .iter()
        .filter_map(|f| object.field(f))
        .collect();
    let Some(flag_field) = object.field(flag_name) else {
        return Ok(());
    };
    for (id, row) in written {
        if row.get(flag) != Some(&Value::Bool(true)) {
            continue;
        }
        let Some(Value::Id(parent)) = row.get(group) else {
            continue;
        };
        let mut select = store::Select::new(object, fields.clone());
        select.filter = Some(store::Filter::And(vec![
            store::Filter::eq(group_name, Value::Id(parent.clone())),
            store::Filter::eq(flag_name, Value::Bool(true)),
        ]));
        for other in store::records::select_in(tx, &select).await? {
            let Some(Value::Id(other)) = other.first() else {
                continue;
            };
            if other == *id {
                continue;
            }
            let mut sets = vec![(flag_field, Value::Bool(false))];
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
