//! Credentials and API tokens: password hashes and token hashes, never the secrets.

use model::{RecordId, Value};

use crate::Result;
use crate::backend::{Store, Tx};
use crate::sql::{Col, Param};

/// Stores (or replaces) a user's password hash.
pub async fn set_password_hash(tx: &mut Tx, user: &RecordId, hash: &str) -> Result<()> {
    let mut delete = tx.sql();
    delete
        .push("DELETE FROM rapport_credential WHERE user_id = ")
        .id_param(user);
    tx.execute(delete).await?;
    let mut insert = tx.sql();
    insert
        .push("INSERT INTO rapport_credential (user_id, password_hash) VALUES (")
        .id_param(user)
        .push(", ")
        .text_param(hash)
        .push(")");
    tx.execute(insert).await.map(drop)
}

pub async fn password_hash(store: &Store, user: &RecordId) -> Result<Option<String>> {
    let mut sql = store.sql();
    sql.push("SELECT password_hash FROM rapport_credential WHERE user_id = ")
        .id_param(user);
    let rows = store.fetch(sql, &[Col::Text]).await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|mut r| r.pop())
        .and_then(|v| v.as_text().map(str::to_string)))
}

/// A stored token.
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub user_id: RecordId,
    pub expires_at: String,
    pub revoked: bool,
}

pub async fn insert_token(
    store: &Store,
    hash: &str,
    user: &RecordId,
    label: &str,
    created: &str,
    expires: &str,
) -> Result<()> {
    let mut sql = store.sql();
    sql.push("INSERT INTO rapport_token (token_hash, user_id, label, created_at, expires_at, revoked) VALUES (")
        .text_param(hash)
        .push(", ")
        .id_param(user)
        .push(", ")
        .text_param(label)
        .push(", ")
        .text_param(created)
        .push(", ")
        .text_param(expires)
        .push(", ")
        .param(Param::Int(Some(0)))
        .push(")");
    store.execute(sql).await.map(drop)
}

pub async fn token(store: &Store, hash: &str) -> Result<Option<TokenRow>> {
    let mut sql = store.sql();
    sql.push("SELECT user_id, expires_at, revoked FROM rapport_token WHERE token_hash = ")
        .text_param(hash);
    let rows = store.fetch(sql, &[Col::Id, Col::Text, Col::Int]).await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|row| match row.as_slice() {
            [Value::Id(user), Value::Text(expires), revoked] => Some(TokenRow {
                user_id: user.clone(),
                expires_at: expires.clone(),
                revoked: *revoked != Value::Decimal(0.into()),
            }),
            _ => None,
        }))
}

/// Revokes a token; returns whether it existed.
pub async fn revoke_token(store: &Store, hash: &str) -> Result<bool> {
    let mut sql = store.sql();
    sql.push("UPDATE rapport_token SET revoked = 1 WHERE token_hash = ")
        .text_param(hash);
    Ok(store.execute(sql).await? > 0)
}
