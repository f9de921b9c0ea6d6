//! Campaign member statuses. Each campaign has its own list (CampaignMemberStatus records):
//! a new campaign starts with the values of the org's CampaignMemberStatus picklist ("Sent",
//! the default, and "Responded", which counts as a response), and its owner adds, renames
//! and reorders them. A member's status must be one of its campaign's (the default when none
//! is given), and whether the member responded follows the status, now and when the status
//! changes its mind. A campaign keeps one default; a status in use, or the default, stays.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use time::OffsetDateTime;

use model::{ErrorCode, FieldDef, ObjectDef, RecordError, RecordId, Schema, Value};
use store::{Filter, Select, Tx};

use crate::error::{delete_failed, integrity};
use crate::records::{RecordInput, WriteContext};
use crate::{App, Caller, Result};

/// Errors of a batch, by row.
type RowErrors = HashMap<usize, Vec<RecordError>>;

/// Record numbers a new campaign's starting statuses may take.
pub(crate) const STARTING_STATUS_NUMBERS: u64 = 8;

/// One status of one campaign.
struct Status {
    label: String,
    is_default: bool,
    responded: bool,
}

/// The statuses of `campaigns`, in sort order.
async fn statuses_of(
    tx: &mut Tx,
    schema: &Schema,
    campaigns: Vec<Value>,
) -> Result<HashMap<RecordId, Vec<Status>>> {
    let mut found: HashMap<RecordId, Vec<Status>> = HashMap::new();
    let Some(object) = schema.object("CampaignMemberStatus") else {
        return Ok(found);
    };
    let names = ["CampaignId", "Label", "IsDefault", "HasResponded"];
    let fields: Vec<&FieldDef> = names.iter().filter_map(|f| object.field(f)).collect();
    if fields.len() != names.len() || campaigns.is_empty() {
        return Ok(found);
    }
    for chunk in campaigns.chunks(500) {
        let mut select = Select::new(object, fields.clone());
        select.filter = Some(Filter::any_of("CampaignId", chunk.to_vec()));
        select.order_by = vec![("SortOrder".into(), false), ("Label".into(), false)];
        for row in store::records::select_in(tx, &select).await? {
            let Some(campaign) = row[0].as_id() else {
                continue;
            };
            found.entry(campaign.clone()).or_default().push(Status {
                label: row[1].as_text().unwrap_or_default().to_string(),
                is_default: row[2] == Value::Bool(true),
                responded: row[3] == Value::Bool(true),
            });
        }
    }
    Ok(found)
}

fn distinct_ids(rows: impl Iterator<Item = Value>) -> Vec<Value> {
    let mut seen = HashSet::new();
    rows.filter(|v| v.as_id().is_some() && seen.insert(v.clone()))
        .collect()
}

/// Positions of a member's status fields.
struct MemberPositions {
    campaign: usize,
    status: usize,
    responded: usize,
    first_responded: Option<usize>,
}

impl MemberPositions {
    fn of(object: &ObjectDef) -> Option<MemberPositions> {
        Some(MemberPositions {
            campaign: object.field_position("CampaignId")?,
            status: object.field_position("Status")?,
            responded: object.field_position("HasResponded")?,
            first_responded: object.field_position("FirstRespondedDate"),
        })
    }

    /// Checks and completes one member's status against its campaign's list.
    fn apply(
        &self,
        row: &mut [Value],
        statuses: Option<&Vec<Status>>,
        today: time::Date,
    ) -> std::result::Result<(), RecordError> {
        // A campaign without a list (made before lists existed, being repaired) keeps the
        // picklist's own rule.
        let Some(statuses) = statuses.filter(|s| !s.is_empty()) else {
            return Ok(());
        };
        let chosen = match row[self.status].as_text() {
            None => statuses.iter().find(|s| s.is_default),
            Some(text) => statuses
                .iter()
                .find(|s| s.label.eq_ignore_ascii_case(text.trim())),
        };
        let Some(chosen) = chosen else {
            let labels: Vec<&str> = statuses.iter().map(|s| s.label.as_str()).collect();
            return Err(RecordError::on_field(
                ErrorCode::InvalidStatus,
                "Status",
                format!(
                    "Status: '{}' is not a member status of this campaign ({})",
                    row[self.status].as_text().unwrap_or_default(),
                    labels.join(", ")
                ),
            ));
        };
        row[self.status] = Value::Text(chosen.label.clone());
        row[self.responded] = Value::Bool(chosen.responded);
        if let Some(first) = self.first_responded
            && chosen.responded
            && row[first].is_null()
        {
            row[first] = Value::Date(today);
        }
        Ok(())
    }
}

impl App {
    /// Members and statuses about to be created: a member's status is its campaign's; a
    /// campaign's status labels are distinct.
    pub(crate) async fn campaign_rules_on_insert(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        object: &ObjectDef,
        rows: &mut [Vec<Value>],
        failed: &HashSet<usize>,
        now: OffsetDateTime,
    ) -> Result<RowErrors> {
        let mut errors = RowErrors::new();
        match object.name.as_str() {
            "CampaignMember" => {
                let Some(at) = MemberPositions::of(object) else {
                    return Ok(errors);
                };
                let campaigns = distinct_ids(rows.iter().map(|r| r[at.campaign].clone()));
                let statuses = statuses_of(tx, schema, campaigns).await?;
                for (r, row) in rows.iter_mut().enumerate() {
                    if failed.contains(&r) {
                        continue;
                    }
                    let list = row[at.campaign].as_id().and_then(|c| statuses.get(c));
                    if let Err(error) = at.apply(row, list, now.date()) {
                        errors.entry(r).or_default().push(error);
                    }
                }
            }
            "CampaignMemberStatus" => {
                let (Some(campaign), Some(label)) = (
                    object.field_position("CampaignId"),
                    object.field_position("Label"),
                ) else {
                    return Ok(errors);
                };
                let campaigns = distinct_ids(rows.iter().map(|r| r[campaign].clone()));
                let existing = statuses_of(tx, schema, campaigns).await?;
                let mut taken: HashSet<(RecordId, String)> = existing
                    .iter()
                    .flat_map(|(c, list)| list.iter().map(|s| (c.clone(), s.label.to_lowercase())))
                    .collect();
                for (r, row) in rows.iter_mut().enumerate() {
                    if failed.contains(&r) {
                        continue;
                    }
                    let (Some(c), Some(text)) = (row[campaign].as_id(), row[label].as_text())
                    else {
                        continue;
                    };
                    let text = text.trim().to_string();
                    if !taken.insert((c.clone(), text.to_lowercase())) {
                        errors.entry(r).or_default().push(RecordError::on_field(
                            ErrorCode::DuplicateValue,
                            "Label",
                            format!("duplicate value found: the campaign already has a member status '{text}'"),
                        ));
                        continue;
                    }
                    row[label] = Value::Text(text);
                }
            }
            _ => {}
        }
        Ok(errors)
    }

    /// Members and statuses about to be updated (`changes`: index, id, stored row, new row).
    pub(crate) async fn campaign_rules_on_update(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        object: &ObjectDef,
        changes: &mut [(usize, RecordId, Vec<Value>, Vec<Value>)],
        now: OffsetDateTime,
    ) -> Result<RowErrors> {
        let mut errors = RowErrors::new();
        match object.name.as_str() {
            "CampaignMember" => {
                let Some(at) = MemberPositions::of(object) else {
                    return Ok(errors);
                };
                let campaigns = distinct_ids(
                    changes
                        .iter()
                        .filter(|(_, _, old, new)| old[at.status] != new[at.status])
                        .map(|(_, _, _, new)| new[at.campaign].clone()),
                );
                let statuses = statuses_of(tx, schema, campaigns).await?;
                for (r, (_, _, old, new)) in changes.iter_mut().enumerate() {
                    if old[at.status] == new[at.status] {
                        continue;
                    }
                    let list = new[at.campaign].as_id().and_then(|c| statuses.get(c));
                    if let Err(error) = at.apply(new, list, now.date()) {
                        errors.entry(r).or_default().push(error);
                    }
                }
            }
            "CampaignMemberStatus" => {
                let at = |name: &str| object.field_position(name);
                let (Some(campaign), Some(label), Some(is_default)) =
                    (at("CampaignId"), at("Label"), at("IsDefault"))
                else {
                    return Ok(errors);
                };
                for (r, (_, _, old, new)) in changes.iter_mut().enumerate() {
                    if old[is_default] == Value::Bool(true) && new[is_default] != Value::Bool(true)
                    {
                        errors.entry(r).or_default().push(integrity(
                            "IsDefault",
                            "a campaign keeps one default status: make another status the default instead",
                        ));
                        continue;
                    }
                    if old[label] == new[label] {
                        continue;
                    }
                    if let Some(text) = new[label].as_text() {
                        new[label] = Value::Text(text.trim().to_string());
                    }
                    let (Some(c), Some(before)) = (old[campaign].as_id(), old[label].as_text())
                    else {
                        continue;
                    };
                    let after = new[label].as_text().unwrap_or_default().to_lowercase();
                    if after != before.to_lowercase() {
                        let list = statuses_of(tx, schema, vec![Value::Id(c.clone())]).await?;
                        if list
                            .values()
                            .flatten()
                            .any(|s| s.label.to_lowercase() == after)
                        {
                            errors.entry(r).or_default().push(RecordError::on_field(
                                ErrorCode::DuplicateValue,
                                "Label",
                                format!("duplicate value found: the campaign already has a member status '{after}'"),
                            ));
                            continue;
                        }
                    }
                    if members_with(tx, schema, c, before).await? > 0 {
                        errors.entry(r).or_default().push(integrity(
                            "Label",
                            format!("members of the campaign have the status '{before}'; give them another status first"),
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(errors)
    }

    /// After statuses are written: a status whose "responded" changed moves its members
    /// (and the campaign's count of responses).
    pub(crate) async fn campaign_rules_after_update(
        &self,
        w: &mut WriteContext<'_>,
        object: &ObjectDef,
        changed: &[(Vec<Value>, Vec<Value>)],
    ) -> Result<()> {
        if object.name != "CampaignMemberStatus" {
            return Ok(());
        }
        let (schema, now) = (w.schema, w.now);
        let at = |name: &str| object.field_position(name);
        let (Some(campaign), Some(label), Some(responded)) =
            (at("CampaignId"), at("Label"), at("HasResponded"))
        else {
            return Ok(());
        };
        let Some(members) = schema.object("CampaignMember").cloned() else {
            return Ok(());
        };
        let Some(member_at) = MemberPositions::of(&members) else {
            return Ok(());
        };
        for (old, new) in changed {
            if old[responded] == new[responded] {
                continue;
            }
            let (Some(c), Some(text)) = (new[campaign].as_id(), new[label].as_text()) else {
                continue;
            };
            let (Some(id_field), Some(first_field)) =
                (members.field("Id"), members.field("FirstRespondedDate"))
            else {
                continue;
            };
            let mut select = Select::new(&members, vec![id_field, first_field]);
            select.filter = Some(Filter::And(vec![
                Filter::eq("CampaignId", Value::Id(c.clone())),
                Filter::eq("Status", Value::Text(text.to_string())),
            ]));
            let now_responded = new[responded] == Value::Bool(true);
            let values: Vec<(RecordId, Vec<(usize, Value)>)> =
                store::records::select_in(w.tx, &select)
                    .await?
                    .into_iter()
                    .filter_map(|row| {
                        let id = row[0].as_id()?.clone();
                        let mut sets = vec![(member_at.responded, Value::Bool(now_responded))];
                        if let Some(first) = member_at.first_responded
                            && now_responded
                            && row[1].is_null()
                        {
                            sets.push((first, Value::Date(now.date())));
                        }
                        Some((id, sets))
                    })
                    .collect();
            let changed = self.write_system_values(w, &members, values).await?;
            let rows: Vec<crate::rollup::ChildRow<'_>> = changed
                .iter()
                .map(|(_, old, new)| (Some(old.as_slice()), new.as_slice()))
                .collect();
            self.rollups_after(w, &members, &rows).await?;
        }
        Ok(())
    }

    /// Statuses that cannot go, by the root each was reached from: one members have, or
    /// the campaign's default, unless the campaign goes too.
    pub(crate) async fn campaign_rules_on_delete(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        doomed: &[(Arc<ObjectDef>, RecordId, RecordId)],
    ) -> Result<HashMap<RecordId, RecordError>> {
        let mut refused = HashMap::new();
        let going: HashSet<&RecordId> = doomed.iter().map(|(_, id, _)| id).collect();
        let statuses: Vec<(&RecordId, &RecordId)> = doomed
            .iter()
            .filter(|(o, _, _)| o.name == "CampaignMemberStatus")
            .map(|(_, id, root)| (id, root))
            .collect();
        let Some(object) = schema.object("CampaignMemberStatus") else {
            return Ok(refused);
        };
        let names = ["Id", "CampaignId", "Label", "IsDefault"];
        let fields: Vec<&FieldDef> = names.iter().filter_map(|f| object.field(f)).collect();
        if statuses.is_empty() || fields.len() != names.len() {
            return Ok(refused);
        }
        for chunk in statuses.chunks(500) {
            let roots: HashMap<&RecordId, &RecordId> = chunk.iter().copied().collect();
            let mut select = Select::new(object, fields.clone());
            select.filter = Some(Filter::any_of(
                "Id",
                chunk
                    .iter()
                    .map(|(id, _)| Value::Id((*id).clone()))
                    .collect(),
            ));
            for row in store::records::select_in(tx, &select).await? {
                let (Some(id), Some(campaign), Some(label)) =
                    (row[0].as_id(), row[1].as_id(), row[2].as_text())
                else {
                    continue;
                };
                // Deleting the campaign takes its statuses along.
                if going.contains(campaign) {
                    continue;
                }
                let Some(root) = roots.get(id) else { continue };
                if row[3] == Value::Bool(true) {
                    refused.insert((*root).clone(), delete_failed(format!("'{label}' is the campaign's default status; make another status the default first")));
                } else if members_with(tx, schema, campaign, label).await? > 0 {
                    refused.insert((*root).clone(), delete_failed(format!("members of the campaign have the status '{label}'; give them another status first")));
                }
            }
        }
        Ok(refused)
    }

    /// New campaigns get the starting statuses: the org's CampaignMemberStatus picklist
    /// values, with their default and "responded" flags.
    pub(crate) async fn add_starting_statuses(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        campaigns: &[RecordId],
        numbers: &mut Range<u64>,
    ) -> Result<()> {
        let Some(values) = schema
            .object("CampaignMember")
            .and_then(|o| o.field("Status"))
            .map(|f| {
                f.values
                    .iter()
                    .filter(|v| v.active)
                    .cloned()
                    .collect::<Vec<_>>()
            })
        else {
            return Ok(());
        };
        if values.is_empty() || schema.object("CampaignMemberStatus").is_none() {
            return Ok(());
        }
        let has_default = values.iter().any(|v| v.is_default);
        let mut inputs = Vec::new();
        for campaign in campaigns {
            for (k, value) in values.iter().enumerate() {
                let mut input = RecordInput::new();
                input.insert("CampaignId".into(), campaign.to_18().into());
                input.insert("Label".into(), value.value.clone().into());
                input.insert("SortOrder".into(), (k + 1).into());
                input.insert(
                    "IsDefault".into(),
                    (value.is_default || (!has_default && k == 0)).into(),
                );
                input.insert("HasResponded".into(), value.responded.into());
                inputs.push(input);
            }
        }
        Box::pin(self.insert_all_in(
            tx,
            schema,
            &Caller::system(),
            "CampaignMemberStatus",
            inputs,
            numbers,
        ))
        .await?;
        Ok(())
    }

    /// Gives campaigns made before member status lists existed their starting statuses
    /// (every campaign without one, in the recycle bin too), once, whichever process starts
    /// first.
    pub(crate) async fn ensure_campaign_statuses(&self) -> Result<()> {
        let schema = self.schema().await?;
        let (Some(campaigns), Some(statuses)) = (
            schema.object("Campaign"),
            schema.object("CampaignMemberStatus"),
        ) else {
            return Ok(());
        };
        let (Some(id), Some(campaign_id)) = (campaigns.field("Id"), statuses.field("CampaignId"))
        else {
            return Ok(());
        };
        let select_ids = |object, field| {
            let mut select = Select::new(object, vec![field]);
            select.deleted = store::plan::Deleted::Include;
            select
        };
        let ids = |rows: Vec<Vec<Value>>| -> HashSet<RecordId> {
            rows.into_iter()
                .filter_map(|row| row.first().and_then(Value::as_id).cloned())
                .collect()
        };
        // Most starts find nothing to do: one anti-join, before taking the write lock.
        let missing = self
            .query(
                &Caller::system(),
                "SELECT Id FROM Campaign WHERE Id NOT IN (SELECT CampaignId FROM CampaignMemberStatus) LIMIT 1",
                crate::query::QueryOptions {
                    include_deleted: true,
                    page_size: 1,
                    ..Default::default()
                },
            )
            .await?;
        if missing.rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.store().begin().await?;
        store::migrate::lock_startup_task(&mut tx).await?;
        // Again under the lock: another process may have done it meanwhile.
        let listed =
            ids(store::records::select_in(&mut tx, &select_ids(statuses, campaign_id)).await?);
        let without: Vec<RecordId> =
            ids(store::records::select_in(&mut tx, &select_ids(campaigns, id)).await?)
                .into_iter()
                .filter(|c| !listed.contains(c))
                .collect();
        if without.is_empty() {
            return Ok(());
        }
        // The numbers are taken inside the transaction (`records::ensure_numbers`).
        let mut numbers = 0..0;
        self.add_starting_statuses(&mut tx, &schema, &without, &mut numbers)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// How many live members of `campaign` have the status `label`.
async fn members_with(
    tx: &mut Tx,
    schema: &Schema,
    campaign: &RecordId,
    label: &str,
) -> Result<usize> {
    let Some(members) = schema.object("CampaignMember") else {
        return Ok(0);
    };
    let Some(id_field) = members.field("Id") else {
        return Ok(0);
    };
    let mut select = Select::new(members, vec![id_field]);
    select.filter = Some(Filter::And(vec![
        Filter::eq("CampaignId", Value::Id(campaign.clone())),
        Filter::eq("Status", Value::Text(label.to_string())),
    ]));
    select.limit = Some(1);
    Ok(store::records::select_in(tx, &select).await?.len())
}
