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
