//! Web sessions of the UI, kept in the database so that any number of server processes
//! share them. Only a hash of the session id is stored (as with API tokens); `app::sessions`
//! decides what a valid session is.

use model::{RecordId, Value};
use time::OffsetDateTime;

use crate::sql::Col;
use crate::{Result, Store};

/// A stored session.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: RecordId,
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub ended: bool,
}

fn at(time: OffsetDateTime) -> String {
    model::value::format_datetime(time)
}

pub async fn insert(
    store: &Store,
    hash: &str,
    user: &RecordId,
    csrf_token: &str,
    now: OffsetDateTime,
    source: &str,
) -> Result<()> {
    let mut sql = store.sql();
    sql.push("INSERT INTO rapport_web_session (session_hash, user_id, csrf_token, created_at, last_seen_at, ended, source) VALUES (")
        .text_param(hash)
        .push(", ")
        .id_param(user)
        .push(", ")
        .text_param(csrf_token)
        .push(", ")
        .text_param(&at(now))
        .push(", ")
        .text_param(&at(now))
        .push(", 0, ")
        .text_param(source)
        .push(")");
    store.execute(sql).await.map(drop)
}

pub async fn get(store: &Store, hash: &str) -> Result<Option<SessionRow>> {
    let mut sql = store.sql();
    sql.push("SELECT user_id, csrf_token, created_at, last_seen_at, ended FROM rapport_web_session WHERE session_hash = ")
        .text_param(hash);
    let rows = store
        .fetch(sql, &[Col::Id, Col::Text, Col::Text, Col::Text, Col::Int])
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|row| match row.as_slice() {
            [
                Value::Id(user),
                Value::Text(csrf),
                Value::Text(created),
                Value::Text(seen),
                ended,
            ] => Some(SessionRow {
                user: user.clone(),
                csrf_token: csrf.clone(),
                created_at: model::value::parse_datetime(created)?,
                last_seen_at: model::value::parse_datetime(seen)?,
                ended: *ended != Value::Decimal(0.into()),
            }),
            _ => None,
        }))
}

/// Records activity on a session (for the idle timeout).
pub async fn touch(store: &Store, hash: &str, now: OffsetDateTime) -> Result<()> {
    let mut sql = store.sql();
    sql.push("UPDATE rapport_web_session SET last_seen_at = ")
        .text_param(&at(now))
        .push(" WHERE session_hash = ")
        .text_param(hash);
    store.execute(sql).await.map(drop)
}

/// Ends a session; returns whether it was open.
pub async fn end(store: &Store, hash: &str) -> Result<bool> {
    let mut sql = store.sql();
    sql.push("UPDATE rapport_web_session SET ended = 1 WHERE ended = 0 AND session_hash = ")
        .text_param(hash);
    Ok(store.execute(sql).await? > 0)
}

/// Ends every open session of a user (a password change, a deactivation); returns how many.
pub async fn end_all(store: &Store, user: &RecordId) -> Result<u64> {
    let mut sql = store.sql();
    sql.push("UPDATE rapport_web_session SET ended = 1 WHERE ended = 0 AND user_id = ")
        .id_param(user);
    store.execute(sql).await
}

/// Removes sessions that ended or were last used before `before`.
pub async fn purge(store: &Store, before: OffsetDateTime) -> Result<u64> {
    let mut sql = store.sql();
    sql.push("DELETE FROM rapport_web_session WHERE ended = 1 OR last_seen_at < ")
        .text_param(&at(before));
    store.execute(sql).await
}
