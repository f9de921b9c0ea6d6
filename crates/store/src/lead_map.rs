//! Lead field mappings: which custom field of an account, contact or opportunity receives a
//! custom lead field's value when a lead is converted (Salesforce's "Map Lead Fields"). One
//! row per mapped lead field.

use model::Value;

use crate::sql::Col;
use crate::{Result, Store, Tx};

/// One custom lead field and where its value goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadMapping {
    pub lead_field: String,
    pub object: String,
    pub field: String,
}

/// Every mapping, by lead field.
pub async fn all(store: &Store) -> Result<Vec<LeadMapping>> {
    let mut sql = store.sql();
    sql.push("SELECT lead_field, target_object, target_field FROM rapport_lead_mapping ORDER BY lead_field");
    let rows = store.fetch(sql, &[Col::Text, Col::Text, Col::Text]).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [
                Value::Text(lead_field),
                Value::Text(object),
                Value::Text(field),
            ] => Some(LeadMapping {
                lead_field: lead_field.clone(),
                object: object.clone(),
                field: field.clone(),
            }),
            _ => None,
        })
        .collect())
}

/// Maps a lead field (replacing its mapping, if it had one).
pub async fn set(tx: &mut Tx, mapping: &LeadMapping) -> Result<()> {
    remove(tx, &mapping.lead_field).await?;
    let mut sql = tx.sql();
    sql.push("INSERT INTO rapport_lead_mapping (lead_field, target_object, target_field) VALUES (")
        .text_param(&mapping.lead_field)
        .push(", ")
        .text_param(&mapping.object)
        .push(", ")
        .text_param(&mapping.field)
        .push(")");
    tx.execute(sql).await.map(drop)
}

/// Removes a lead field's mapping; whether it had one.
pub async fn remove(tx: &mut Tx, lead_field: &str) -> Result<bool> {
    let mut sql = tx.sql();
    sql.push("DELETE FROM rapport_lead_mapping WHERE lead_field = ")
        .text_param(lead_field);
    Ok(tx.execute(sql).await? > 0)
}

/// Forgets the mappings from or to a field that is being removed.
pub async fn forget_field(tx: &mut Tx, object: &str, field: &str) -> Result<()> {
    let mut sql = tx.sql();
    if object == "Lead" {
        sql.push("DELETE FROM rapport_lead_mapping WHERE lead_field = ")
            .text_param(field);
    } else {
        sql.push("DELETE FROM rapport_lead_mapping WHERE target_object = ")
            .text_param(object)
            .push(" AND target_field = ")
            .text_param(field);
    }
    tx.execute(sql).await.map(drop)
}
