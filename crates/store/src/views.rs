//! Saved list views: a user's named list of one object, kept as the list page's own URL
//! parameters (filters, columns, sort), which the UI validates against the schema each time
//! it shows the view.

use model::{RecordId, Value};

use crate::sql::Col;
use crate::{Result, Store};

/// A saved view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListView {
    pub id: String,
    pub object: String,
    pub name: String,
    pub params: String,
}

pub async fn insert(
    store: &Store,
    id: &str,
    user: &RecordId,
    object: &str,
    name: &str,
    params: &str,
    created_at: &str,
) -> Result<()> {
    let mut sql = store.sql();
    sql.push("INSERT INTO rapport_list_view (view_id, user_id, object_name, name, params, created_at) VALUES (")
        .text_param(id)
        .push(", ")
        .id_param(user)
        .push(", ")
        .text_param(object)
        .push(", ")
        .text_param(name)
        .push(", ")
        .text_param(params)
        .push(", ")
        .text_param(created_at)
        .push(")");
    store.execute(sql).await.map(drop)
}

/// A user's views of an object, by name.
pub async fn of_user(store: &Store, user: &RecordId, object: &str) -> Result<Vec<ListView>> {
    let mut sql = store.sql();
    sql.push("SELECT view_id, object_name, name, params FROM rapport_list_view WHERE user_id = ")
        .id_param(user)
        .push(" AND object_name = ")
        .text_param(object)
        .push(" ORDER BY name, view_id");
    let rows = store
        .fetch(sql, &[Col::Text, Col::Text, Col::Text, Col::Text])
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [
                Value::Text(id),
                Value::Text(object),
                Value::Text(name),
                Value::Text(params),
            ] => Some(ListView {
                id: id.clone(),
                object: object.clone(),
                name: name.clone(),
                params: params.clone(),
            }),
            _ => None,
        })
        .collect())
}

/// Deletes one of a user's views; whether there was one.
pub async fn delete(store: &Store, user: &RecordId, id: &str) -> Result<bool> {
    let mut sql = store.sql();
    sql.push("DELETE FROM rapport_list_view WHERE view_id = ")
        .text_param(id)
        .push(" AND user_id = ")
        .id_param(user);
    Ok(store.execute(sql).await? > 0)
}
