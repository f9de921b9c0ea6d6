//! Credentials, API tokens and OAuth client applications: hashes of passwords, tokens and
//! client secrets, never the secrets themselves.

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

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Sent as `Authorization: Bearer` on API calls.
    Access,
    /// Exchanged for new access tokens at the OAuth token endpoint.
    Refresh,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }
}

/// A stored token.
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub user_id: RecordId,
    pub client_id: Option<String>,
    pub expires_at: String,
    pub revoked: bool,
}

/// A new token's record.
pub struct NewToken<'a> {
    pub hash: &'a str,
    pub kind: TokenKind,
    pub user: &'a RecordId,
    pub client_id: Option<&'a str>,
    pub created_at: &'a str,
    pub expires_at: &'a str,
}

pub async fn insert_token(store: &Store, token: NewToken<'_>) -> Result<()> {
    let mut sql = store.sql();
    sql.push("INSERT INTO rapport_token (token_hash, kind, user_id, client_id, created_at, expires_at, revoked) VALUES (")
        .text_param(token.hash)
        .push(", ")
        .text_param(token.kind.as_str())
        .push(", ")
        .id_param(token.user)
        .push(", ")
        .param(Param::Text(token.client_id.map(str::to_string)))
        .push(", ")
        .text_param(token.created_at)
        .push(", ")
        .text_param(token.expires_at)
        .push(", ")
        .param(Param::Int(Some(0)))
        .push(")");
    store.execute(sql).await.map(drop)
}

/// The token with this hash and kind.
pub async fn token(store: &Store, hash: &str, kind: TokenKind) -> Result<Option<TokenRow>> {
    let mut sql = store.sql();
    sql.push(
        "SELECT user_id, client_id, expires_at, revoked FROM rapport_token WHERE token_hash = ",
    )
    .text_param(hash)
    .push(" AND kind = ")
    .text_param(kind.as_str());
    let rows = store
        .fetch(sql, &[Col::Id, Col::Text, Col::Text, Col::Int])
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|row| match row.as_slice() {
            [Value::Id(user), client, Value::Text(expires), revoked] => Some(TokenRow {
                user_id: user.clone(),
                client_id: client.as_text().map(str::to_string),
                expires_at: expires.clone(),
                revoked: *revoked != Value::Decimal(0.into()),
            }),
            _ => None,
        }))
}

/// Revokes a token of any kind; returns whether it existed.
pub async fn revoke_token(store: &Store, hash: &str) -> Result<bool> {
    let mut sql = store.sql();
    sql.push("UPDATE rapport_token SET revoked = 1 WHERE token_hash = ")
        .text_param(hash);
    Ok(store.execute(sql).await? > 0)
}

/// A registered OAuth client application.
#[derive(Debug, Clone)]
pub struct ClientApp {
    pub client_id: String,
    pub name: String,
    pub secret_hash: String,
    /// The user the client-credentials grant acts as.
    pub run_as: RecordId,
}

pub async fn insert_client_app(store: &Store, app: &ClientApp, created_at: &str) -> Result<()> {
    let mut sql = store.sql();
    sql.push("INSERT INTO rapport_client_app (client_id, name, secret_hash, run_as_user_id, created_at) VALUES (")
        .text_param(&app.client_id)
        .push(", ")
        .text_param(&app.name)
        .push(", ")
        .text_param(&app.secret_hash)
        .push(", ")
        .id_param(&app.run_as)
        .push(", ")
        .text_param(created_at)
        .push(")");
    store.execute(sql).await.map(drop)
}

pub async fn client_app(store: &Store, client_id: &str) -> Result<Option<ClientApp>> {
    let mut sql = store.sql();
    sql.push("SELECT client_id, name, secret_hash, run_as_user_id FROM rapport_client_app WHERE client_id = ")
        .text_param(client_id);
    let rows = store
        .fetch(sql, &[Col::Text, Col::Text, Col::Text, Col::Id])
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|row| match row.as_slice() {
            [
                Value::Text(client_id),
                Value::Text(name),
                Value::Text(secret_hash),
                Value::Id(run_as),
            ] => Some(ClientApp {
                client_id: client_id.clone(),
                name: name.clone(),
                secret_hash: secret_hash.clone(),
                run_as: run_as.clone(),
            }),
            _ => None,
        }))
}

impl Store {
    /// The schema and security versions, in one read (see `app`'s version watch).
    pub async fn versions(&self) -> Result<(i64, i64)> {
        let mut sql = self.sql();
        sql.push("SELECT name, value FROM rapport_setting WHERE name IN ('schema_version', 'security_version')");
        let rows = self.fetch(sql, &[Col::Text, Col::Text]).await?;
        let mut versions = (0, 0);
        for row in rows {
            let number = row[1].as_text().and_then(|v| v.parse().ok()).unwrap_or(0);
            match row[0].as_text() {
                Some("schema_version") => versions.0 = number,
                Some("security_version") => versions.1 = number,
                _ => {}
            }
        }
        Ok(versions)
    }

    /// The settings whose names start with `prefix`, as (name, value).
    pub async fn settings_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let mut sql = self.sql();
        sql.push("SELECT name, value FROM rapport_setting WHERE name LIKE ")
            .text_param(&format!("{prefix}%"));
        let rows = self.fetch(sql, &[Col::Text, Col::Text]).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let name = row.first()?.as_text()?.to_string();
                let value = row.get(1)?.as_text()?.to_string();
                Some((name, value))
            })
            .collect())
    }

    /// Sets a setting, in the transaction that moves the security version with it.
    pub async fn set_security_setting(&self, name: &str, value: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let mut sql = tx.sql();
        sql.push("INSERT INTO rapport_setting (name, value) VALUES (")
            .text_param(name)
            .push(", ")
            .text_param(value)
            .push(") ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value");
        tx.execute(sql).await?;
        bump_security_version_in(&mut tx).await?;
        bump_sharing_version_in(&mut tx).await?;
        tx.commit().await
    }

    /// Removes a setting with the security version; returns whether it existed.
    pub async fn remove_security_setting(&self, name: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let mut sql = tx.sql();
        sql.push("DELETE FROM rapport_setting WHERE name = ")
            .text_param(name);
        let removed = tx.execute(sql).await? > 0;
        bump_security_version_in(&mut tx).await?;
        bump_sharing_version_in(&mut tx).await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// Moves the sharing version on: every object's share rows are stale until rebuilt
    /// (after records were written past them, by the scale seed).
    pub async fn bump_sharing_version(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        bump_sharing_version_in(&mut tx).await?;
        tx.commit().await
    }

    /// Moves the security version on after a revocation or a user change, so that every
    /// process drops the tokens it has cached.
    pub async fn bump_security_version(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        bump_security_version_in(&mut tx).await?;
        tx.commit().await
    }
}

/// The setting holding the sharing version: it moves with every change to who may read
/// what (roles, a user's role, groups, sharing defaults and rules); share rows built for an
/// older one are stale (`app::shares`).
pub const SHARING_VERSION: &str = "shares:@version";

/// Moves the sharing version inside a transaction (with the change that moves it).
pub async fn bump_sharing_version_in(tx: &mut crate::Tx) -> Result<()> {
    tx.sharing_version = None;
    let mut sql = tx.sql();
    sql.push("INSERT INTO rapport_setting (name, value) VALUES (")
        .text_param(SHARING_VERSION)
        .push(", '1') ON CONFLICT (name) DO UPDATE SET value = ");
    sql.push(match tx.dialect() {
        crate::Dialect::Sqlite => "CAST(CAST(rapport_setting.value AS INTEGER) + 1 AS TEXT)",
        crate::Dialect::Postgres => "(rapport_setting.value::bigint + 1)::text",
    });
    tx.execute(sql).await.map(drop)
}

/// Moves the security version inside a transaction (with the change that moves it).
pub async fn bump_security_version_in(tx: &mut crate::Tx) -> Result<()> {
    let mut sql = tx.sql();
    sql.push(match tx.dialect() {
        crate::Dialect::Sqlite => {
            "UPDATE rapport_setting SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE name = 'security_version'"
        }
        crate::Dialect::Postgres => {
            "UPDATE rapport_setting SET value = (value::bigint + 1)::text WHERE name = 'security_version'"
        }
    });
    tx.execute(sql).await.map(drop)
}

/// One login attempt, as the history keeps it.
#[derive(Debug, Clone)]
pub struct LoginEntry {
    pub login: String,
    pub user: Option<RecordId>,
    pub at: time::OffsetDateTime,
    pub source: String,
    pub method: String,
    pub result: String,
}

pub async fn record_login(store: &Store, entry: &LoginEntry) -> Result<()> {
    let mut sql = store.sql();
    sql.push(
        "INSERT INTO rapport_login_history (login, user_id, at, source, method, result) VALUES (",
    )
    .text_param(&entry.login)
    .push(", ")
    .param(crate::sql::Param::Text(
        entry.user.as_ref().map(|u| u.as_str15().to_string()),
    ))
    .push(", ")
    .text_param(&model::value::format_datetime(entry.at))
    .push(", ")
    .text_param(&entry.source)
    .push(", ")
    .text_param(&entry.method)
    .push(", ")
    .text_param(&entry.result)
    .push(")");
    store.execute(sql).await.map(drop)
}

/// A user's logins, newest first.
pub async fn login_history(store: &Store, user: &RecordId, limit: i64) -> Result<Vec<LoginEntry>> {
    let mut sql = store.sql();
    sql.push("SELECT login, user_id, at, source, method, result FROM rapport_login_history WHERE user_id = ")
        .id_param(user)
        .push(" ORDER BY at DESC LIMIT ")
        .int_param(limit);
    let rows = store
        .fetch(
            sql,
            &[
                Col::Text,
                Col::Id,
                Col::Text,
                Col::Text,
                Col::Text,
                Col::Text,
            ],
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let text = |i: usize| row.get(i).and_then(|v| v.as_text()).map(str::to_string);
            Some(LoginEntry {
                login: text(0)?,
                user: row.get(1).and_then(|v| v.as_id()).cloned(),
                at: model::value::parse_datetime(&text(2)?)?,
                source: text(3)?,
                method: text(4)?,
                result: text(5)?,
            })
        })
        .collect())
}

/// A user's consecutive failed logins and the end of their lockout, if any.
pub async fn lockout(
    store: &Store,
    user: &RecordId,
) -> Result<Option<(i64, Option<time::OffsetDateTime>)>> {
    let mut sql = store.sql();
    sql.push("SELECT failures, locked_until FROM rapport_login_failure WHERE user_id = ")
        .id_param(user);
    let rows = store.fetch(sql, &[Col::Int, Col::Text]).await?;
    Ok(rows.first().map(|row| {
        let failures = crate::metadata::int_at(&rows, 0);
        let until = row
            .get(1)
            .and_then(|v| v.as_text())
            .and_then(model::value::parse_datetime);
        (failures, until)
    }))
}

pub async fn set_lockout(
    store: &Store,
    user: &RecordId,
    failures: i64,
    until: Option<time::OffsetDateTime>,
) -> Result<()> {
    let mut sql = store.sql();
    sql.push("INSERT INTO rapport_login_failure (user_id, failures, locked_until) VALUES (")
        .id_param(user)
        .push(", ")
        .int_param(failures)
        .push(", ")
        .param(crate::sql::Param::Text(
            until.map(model::value::format_datetime),
        ))
        .push(") ON CONFLICT (user_id) DO UPDATE SET failures = EXCLUDED.failures, locked_until = EXCLUDED.locked_until");
    store.execute(sql).await.map(drop)
}
