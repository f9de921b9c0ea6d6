//! Roll-ups: parent fields counted or summed from child records (an opportunity's amount and
//! quantity from its products; a campaign's leads, contacts, responses, converted leads,
//! opportunities and won amounts). They are declared here as data and recomputed in the
//! write's own transaction, after every write that could move them, by aggregate queries
//! through the one query planner over the affected parents only, never by counting up and
//! down (a counter drifts; a recount cannot). A parent that changes may itself be a child
//! (an opportunity's amount moves its campaign's), so roll-ups cascade.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rust_decimal::Decimal;

use model::{FieldDef, FieldType, ObjectDef, RecordId, Schema, Value};
use store::Tx;

use crate::records::WriteContext;
use crate::{App, Result};

/// One aggregate query from a child object onto its parent.
struct Rollup {
    child: &'static str,
    /// The child's reference to the parent.
    link: &'static str,
    parent: &'static str,
    /// Child fields whose change moves this roll-up (besides the link itself).
    watched: &'static [&'static str],
    /// Which children count (a SOQL condition), or all of them.
    condition: Option<&'static str>,
    /// (SOQL aggregate, parent field it sets).
    aggregates: &'static [(&'static str, &'static str)],
}

const ROLLUPS: &[Rollup] = &[
    Rollup {
        child: "OpportunityLineItem",
        link: "OpportunityId",
        parent: "Opportunity",
        watched: &["Quantity", "TotalPrice"],
        condition: None,
        aggregates: &[
            ("SUM(TotalPrice)", "Amount"),
            ("SUM(Quantity)", "TotalOpportunityQuantity"),
            ("COUNT(Id)", "HasOpportunityLineItem"),
        ],
    },
    Rollup {
        child: "CampaignMember",
        link: "CampaignId",
        parent: "Campaign",
        watched: &["LeadId", "ContactId"],
        condition: None,
        aggregates: &[
            ("COUNT(LeadId)", "NumberOfLeads"),
            ("COUNT(ContactId)", "NumberOfContacts"),
        ],
    },
    Rollup {
        child: "CampaignMember",
        link: "CampaignId",
        parent: "Campaign",
        watched: &["HasResponded"],
        condition: Some("HasResponded = true"),
        aggregates: &[("COUNT(Id)", "NumberOfResponses")],
    },
    Rollup {
        child: "CampaignMember",
        link: "CampaignId",
        parent: "Campaign",
        watched: &["LeadId"],
        condition: Some("Lead.IsConverted = true"),
        aggregates: &[("COUNT(Id)", "NumberOfConvertedLeads")],
    },
    Rollup {
        child: "Opportunity",
        link: "CampaignId",
        parent: "Campaign",
        watched: &["Amount"],
        condition: None,
        aggregates: &[
            ("COUNT(Id)", "NumberOfOpportunities"),
            ("SUM(Amount)", "AmountAllOpportunities"),
        ],
    },
    Rollup {
        child: "Opportunity",
        link: "CampaignId",
        parent: "Campaign",
        watched: &["Amount", "IsWon"],
        condition: Some("IsWon = true"),
        aggregates: &[
            ("COUNT(Id)", "NumberOfWonOpportunities"),
            ("SUM(Amount)", "AmountWonOpportunities"),
        ],
    },
];

/// How many parents' ids one aggregate query names.
const PARENTS_PER_QUERY: usize = 500;

/// Whether writes to `object` can move a roll-up.
pub(crate) fn is_child(object: &str) -> bool {
    ROLLUPS.iter().any(|r| r.child == object)
}

/// Record numbers a write of one `object` record is expected to need for the history its
/// roll-ups write on parents (an opportunity's amount: a field-history row and an
/// OpportunityHistory row), reserved before the write; more tracked fields take more, found
/// inside the transaction (`records::ensure_numbers`).
pub(crate) fn numbers_per_child_write(object: &str) -> u64 {
    if object == "OpportunityLineItem" {
        2
    } else {
        0
    }
}

/// A child record written: its row before (none when created, deleted or undeleted: every
/// roll-up it is in moves) and its row now.
pub(crate) type ChildRow<'a> = (Option<&'a [Value]>, &'a [Value]);

impl App {
    /// Recomputes the roll-ups that the writes of `rows` of `object` may have moved, and
    /// those of the parents that moved in turn.
    pub(crate) async fn rollups_after(
        &self,
        w: &mut WriteContext<'_>,
        object: &ObjectDef,
        rows: &[ChildRow<'_>],
    ) -> Result<()> {
        let mut parents: BTreeMap<&'static str, BTreeSet<RecordId>> = BTreeMap::new();
        for rollup in ROLLUPS.iter().filter(|r| r.child == object.name) {
            let Some(link) = object.field_position(rollup.link) else {
                continue;
            };
            let watched: Vec<usize> = rollup
                .watched
                .iter()
                .filter_map(|f| object.field_position(f))
                .chain([link])
                .collect();
            let affected = parents.entry(rollup.parent).or_default();
            for (old, new) in rows {
                let moved = old.is_none_or(|old| watched.iter().any(|&p| old[p] != new[p]));
                if !moved {
                    continue;
                }
                affected.extend(new[link].as_id().cloned());
                if let Some(old) = old {
                    affected.extend(old[link].as_id().cloned());
                }
            }
        }
        for (parent, ids) in parents {
            if ids.is_empty() {
                continue;
            }
            let ids: Vec<RecordId> = ids.into_iter().collect();
            self.refresh_rollups(w, parent, Some(&object.name), &ids)
                .await?;
        }
        Ok(())
    }

    /// Recomputes the roll-ups onto records `ids` of `parent` (from every child object, or
    /// from `from` only), writes those that changed, and goes on to their own parents.
    pub(crate) async fn refresh_rollups(
        &self,
        w: &mut WriteContext<'_>,
        parent: &str,
        from: Option<&str>,
        ids: &[RecordId],
    ) -> Result<()> {
        let schema = w.schema;
        let Some(parent_object) = schema.object(parent).cloned() else {
            return Ok(());
        };
        let fiscal_start = self.fiscal_year_start_month_for(&parent_object).await?;
        lock_parents(w.tx, &parent_object, ids).await?;
        let mut values: BTreeMap<RecordId, Vec<(usize, Value)>> = BTreeMap::new();
        for rollup in ROLLUPS
            .iter()
            .filter(|r| r.parent == parent && from.is_none_or(|f| f == r.child))
        {
            let Some(child) = schema.object(rollup.child).cloned() else {
                continue;
            };
            let targets: Vec<(usize, &FieldDef)> = rollup
                .aggregates
                .iter()
                .filter_map(|(_, field)| {
                    let p = parent_object.field_position(field)?;
                    Some((p, &parent_object.fields[p]))
                })
                .collect();
            if targets.len() != rollup.aggregates.len() {
                continue;
            }
            for chunk in ids.chunks(PARENTS_PER_QUERY) {
                let found = aggregate(w.tx, schema, &child, rollup, chunk, fiscal_start).await?;
                for id in chunk {
                    let row = found.get(id);
                    let sets = values.entry(id.clone()).or_default();
                    for (k, (position, field)) in targets.iter().enumerate() {
                        let number = row.and_then(|r| r.get(k).copied()).unwrap_or_default();
                        sets.push((*position, rolled_up(field, number)));
                    }
                }
            }
        }
        let changed = self
            .write_system_values(w, &parent_object, values.into_iter().collect())
            .await?;
        if changed.is_empty() || !is_child(parent) {
            return Ok(());
        }
        let rows: Vec<ChildRow<'_>> = changed
            .iter()
            .map(|(_, old, new)| (Some(old.as_slice()), new.as_slice()))
            .collect();
        Box::pin(self.rollups_after(w, &parent_object, &rows)).await
    }
}

/// Locks the parents whose roll-ups are about to be recounted, in id order, before counting:
/// on PostgreSQL two writers recounting one parent then take turns, and the second counts
/// what the first committed (counting first and locking after, both would count alike and
/// one child would go uncounted). `NO KEY UPDATE` leaves other writers' `KEY SHARE` (their
/// new children's lookups) alone. SQLite's single writer needs none of this.
async fn lock_parents(tx: &mut Tx, parent: &ObjectDef, ids: &[RecordId]) -> Result<()> {
    if tx.dialect() != store::Dialect::Postgres {
        return Ok(());
    }
    let Some(id_field) = parent.field("Id") else {
        return Ok(());
    };
    let mut sorted: Vec<&RecordId> = ids.iter().collect();
    sorted.sort_by(|a, b| a.as_str15().cmp(b.as_str15()));
    for chunk in sorted.chunks(1000) {
        let mut select = store::Select::new(parent, vec![id_field]);
        select.filter = Some(store::Filter::any_of(
            "Id",
            chunk.iter().map(|id| Value::Id((*id).clone())).collect(),
        ));
        select.order_by = vec![("Id".into(), false)];
        select.lock = store::plan::Lock::NoKeyUpdate;
        store::records::select_in(tx, &select).await?;
    }
    Ok(())
}

/// Runs one roll-up's aggregate query for some parents: each parent's aggregates, in order.
async fn aggregate(
    tx: &mut Tx,
    schema: &Schema,
    child: &Arc<ObjectDef>,
    rollup: &Rollup,
    parents: &[RecordId],
    fiscal_start: u8,
) -> Result<BTreeMap<RecordId, Vec<Decimal>>> {
    let ids: Vec<String> = parents
        .iter()
        .map(|id| soql::quote_string(&id.to_18()))
        .collect();
    let aggregates: Vec<&str> = rollup.aggregates.iter().map(|(a, _)| *a).collect();
    let condition = rollup
        .condition
        .map(|c| format!(" AND ({c})"))
        .unwrap_or_default();
    let text = format!(
        "SELECT {link}, {aggregates} FROM {child} WHERE {link} IN ({ids}){condition} GROUP BY {link}",
        link = rollup.link,
        aggregates = aggregates.join(", "),
        child = child.name,
        ids = ids.join(", "),
    );
    let plan = crate::query::plan_system_grouped(schema, child, &text, fiscal_start)?;
    let mut found = BTreeMap::new();
    for row in store::Store::group_rows_in(tx, &plan).await? {
        let Some(Value::Id(parent)) = row.first() else {
            continue;
        };
        let numbers = row[1..].iter().map(number_of).collect();
        found.insert(parent.clone(), numbers);
    }
    Ok(found)
}

fn number_of(value: &Value) -> Decimal {
    match value {
        Value::Decimal(d) => *d,
        _ => Decimal::ZERO,
    }
}

/// An aggregate as the parent field holds it: a checkbox says whether any child counted; a
/// number has the field's decimal places.
fn rolled_up(field: &FieldDef, number: Decimal) -> Value {
    if field.field_type == FieldType::Checkbox {
        return Value::Bool(!number.is_zero());
    }
    let places = u32::from(field.scale.unwrap_or(0));
    let mut number = number.round_dp(places);
    number.rescale(places);
    Value::Decimal(number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Label;

    #[test]
    fn aggregates_take_the_parent_fields_shape() {
        let mut amount = FieldDef::new("Amount", FieldType::Currency, Label::new("A", "A"));
        amount.scale = Some(2);
        let has = FieldDef::new("HasLines", FieldType::Checkbox, Label::new("H", "H"));
        let count = FieldDef::new("Count", FieldType::Number, Label::new("C", "C"));
        assert_eq!(
            rolled_up(&amount, Decimal::new(12345, 1)),
            Value::Decimal(Decimal::new(123450, 2))
        );
        assert_eq!(rolled_up(&has, Decimal::ZERO), Value::Bool(false));
        assert_eq!(rolled_up(&has, Decimal::from(3)), Value::Bool(true));
        assert_eq!(
            rolled_up(&count, Decimal::from(7)),
            Value::Decimal(Decimal::from(7))
        );
    }

    #[test]
    fn every_rollup_names_its_child_parent_and_fields() {
        let catalogue = model::catalogue::Catalogue::standard().unwrap();
        let schema = Schema::new(1, catalogue.objects.clone(), catalogue.value_sets.clone());
        for rollup in ROLLUPS {
            let child = schema.object(rollup.child).unwrap();
            let parent = schema.object(rollup.parent).unwrap();
            assert!(
                child.field(rollup.link).is_some(),
                "{}.{}",
                rollup.child,
                rollup.link
            );
            for field in rollup.watched {
                assert!(child.field(field).is_some(), "{}.{field}", rollup.child);
            }
            for (_, target) in rollup.aggregates {
                assert!(parent.field(target).is_some(), "{}.{target}", rollup.parent);
            }
        }
    }
}
