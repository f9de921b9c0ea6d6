//! Records each user viewed last (the home page's "recently viewed"): one row per user and
//! record with when, the oldest dropped beyond [`KEPT`].

use model::{RecordId, Value};

use crate::sql::Col;
use crate::{Result, Store};

/// Views kept per user.
pub const KEPT: i64 = 50;

/// Notes that `user` viewed `record` (of `object`) at `at`.
pub async fn viewed(
    store: &Store,
    user: &RecordId,
    record: &RecordId,
    object: &str,
    at: &str,
) -> Result<()> {
    let mut sql = store.sql();
    sql.push("INSERT INTO rapport_recent (user_id, record_id, object_name, viewed_at) VALUES (")
        .id_param(user)
        .push(", ")
        .id_param(record)
        .push(", ")
        .text_param(object)
        .push(", ")
        .text_param(at)
        .push(") ON CONFLICT (user_id, record_id) DO UPDATE SET viewed_at = excluded.viewed_at");
    store.execute(sql).await?;
    let mut prune = store.sql();
    prune
        .push("DELETE FROM rapport_recent WHERE user_id = ")
        .id_param(user)
        .push(" AND viewed_at < (SELECT viewed_at FROM rapport_recent WHERE user_id = ")
        .id_param(user)
        .push(" ORDER BY viewed_at DESC LIMIT 1 OFFSET ")
        .push(&(KEPT - 1).to_string())
        .push(")");
    store.execute(prune).await.map(drop)
}

/// The records `user` viewed last, newest first: (object, record).
pub async fn of_user(
    store: &Store,
    user: &RecordId,
    limit: i64,
) -> Result<Vec<(String, RecordId)>> {
    let mut sql = store.sql();
    sql.push("SELECT object_name, record_id FROM rapport_recent WHERE user_id = ")
        .id_param(user)
        .push(" ORDER BY viewed_at DESC LIMIT ")
        .push(&limit.to_string());
    let rows = store.fetch(sql, &[Col::Text, Col::Id]).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [Value::Text(object), Value::Id(id)] => Some((object.clone(), id.clone())),
            _ => None,
        })
        .collect())
}
