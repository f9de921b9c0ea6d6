//! API tokens and OAuth 2.0: tokens issued by the CLI and by the OAuth grants (password,
//! refresh token, client credentials) for registered client applications, checked on every
//! API call through a cache that every process drops when the security version moves.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use model::{ErrorCode, Lang, RecordId, Value};
use store::auth::{ClientApp, NewToken, TokenKind};

use crate::{App, AppError, Caller, Result};

/// How long a token from `rapport token` lasts unless told otherwise.
pub const DEFAULT_TOKEN_DAYS: i64 = 30;
/// How long an OAuth access token lasts (Salesforce's default session timeout).
pub const ACCESS_TOKEN_HOURS: i64 = 2;
/// How long an OAuth refresh token lasts.
pub const REFRESH_TOKEN_DAYS: i64 = 365;
/// Tokens the cache holds before it starts over.
const CACHE_LIMIT: usize = 50_000;

/// SHA-256 in hex.
pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// HMAC-SHA256 (RFC 2104), for the `signature` of an OAuth token response.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// `count` random characters of base 62.
pub fn random_text(count: usize) -> Result<String> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut bytes = vec![0u8; count];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::one(ErrorCode::UnknownException, format!("no randomness: {e}")))?;
    // The modulo bias of 256 % 62 costs well under a bit per character at these lengths.
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

/// Checked tokens by hash: the caller and when the token expires.
type CheckedTokens = HashMap<String, (Caller, OffsetDateTime)>;

/// Tokens already checked, valid while the security version they were checked at holds.
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: Mutex<(i64, CheckedTokens)>,
}

impl TokenCache {
    fn get(&self, security_version: i64, hash: &str) -> Option<Caller> {
        let mut guard = match self.entries.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if guard.0 != security_version {
            *guard = (security_version, HashMap::new());
            return None;
        }
        match guard.1.get(hash) {
            Some((caller, expires)) if *expires > OffsetDateTime::now_utc() => Some(caller.clone()),
            _ => None,
        }
    }

    fn put(&self, security_version: i64, hash: String, caller: Caller, expires: OffsetDateTime) {
        let mut guard = match self.entries.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if guard.0 != security_version || guard.1.len() >= CACHE_LIMIT {
            *guard = (security_version, HashMap::new());
        }
        guard.1.insert(hash, (caller, expires));
    }
}

/// What an OAuth grant hands out.
#[derive(Debug, Clone)]
pub struct Grant {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub user_id: RecordId,
    pub org_id: RecordId,
    pub issued_at: OffsetDateTime,
    /// Base64 of HMAC-SHA256(identity URL + issued_at, client secret), computed by the web
    /// layer which knows the identity URL; this is the key.
    pub signing_key: String,
}

/// Why an OAuth request was refused, in OAuth's own error vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// `invalid_grant`, `invalid_client`, `unsupported_grant_type`, `invalid_request`.
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            error,
            description: description.into(),
        }
    }
}

impl App {
    async fn store_token(
        &self,
        kind: TokenKind,
        user: &RecordId,
        client_id: Option<&str>,
        lifetime: Duration,
    ) -> Result<String> {
        let org = self.org_settings().await?;
        let token = format!("{}!{}", org.id.as_str15(), random_text(96)?);
        let now = model::value::now_millis();
        let created = model::value::format_datetime(now);
        let expires = model::value::format_datetime(now + lifetime);
        let hash = sha256_hex(&token);
        store::auth::insert_token(
            self.store(),
            NewToken {
                hash: &hash,
                kind,
                user,
                client_id,
                created_at: &created,
                expires_at: &expires,
            },
        )
        .await?;
        Ok(token)
    }

    /// Issues an API token for a user (`rapport token`); only its hash is stored.
    pub async fn issue_token(&self, email: &str, days: i64) -> Result<String> {
        let user = self.user_id_by_email(email).await?.ok_or_else(|| {
            AppError::one(
                ErrorCode::NotFound,
                format!("no user with the login {email}"),
            )
        })?;
        self.store_token(
            TokenKind::Access,
            &user,
            None,
            Duration::days(days.clamp(1, 3650)),
        )
        .await
    }

    /// The caller a token stands for, if the token is valid (known, not revoked, not expired,
    /// its user active). Cached; a revocation anywhere is seen within a quarter second.
    pub async fn authenticate_token(&self, token: &str) -> Result<Option<Caller>> {
        self.schema().await?;
        let security_version = self.schema.security_version();
        let hash = sha256_hex(token);
        if let Some(caller) = self.tokens.get(security_version, &hash) {
            return Ok(Some(caller));
        }
        let Some(row) = store::auth::token(self.store(), &hash, TokenKind::Access).await? else {
            return Ok(None);
        };
        let Some(expires) = model::value::parse_datetime(&row.expires_at) else {
            return Ok(None);
        };
        if row.revoked || expires <= OffsetDateTime::now_utc() {
            return Ok(None);
        }
        let Some(caller) = self.active_caller(&row.user_id).await? else {
            return Ok(None);
        };
        self.tokens
            .put(security_version, hash, caller.clone(), expires);
        Ok(Some(caller))
    }

    /// The caller for an active user, in the user's language.
    pub(crate) async fn active_caller(&self, user: &RecordId) -> Result<Option<Caller>> {
        Ok(self.active_user(user).await?.map(|(caller, _)| caller))
    }

    /// An active user as a caller, with their name (one read of their record).
    pub(crate) async fn active_user(&self, user: &RecordId) -> Result<Option<(Caller, String)>> {
        let fields = [
            "IsActive".to_string(),
            "LanguageLocaleKey".to_string(),
            "TimeZoneSidKey".to_string(),
            "Name".to_string(),
        ];
        let Ok(record) = self
            .get(&Caller::system(), "User", &user.to_18(), Some(&fields))
            .await
        else {
            return Ok(None);
        };
        if record.get("IsActive") != Some(&Value::Bool(true)) {
            return Ok(None);
        }
        let lang = record
            .get("LanguageLocaleKey")
            .and_then(Value::as_text)
            .and_then(Lang::parse)
            .unwrap_or_default();
        let zone = record
            .get("TimeZoneSidKey")
            .and_then(Value::as_text)
            .map(str::to_string);
        let name = record
            .get("Name")
            .and_then(Value::as_text)
            .unwrap_or_default()
            .to_string();
        Ok(Some((
            Caller::user(user.clone(), lang).in_time_zone(zone),
            name,
        )))
    }

    /// Revokes a token (access or refresh); returns whether it existed. Every process stops
    /// accepting it within a quarter second.
    pub async fn revoke_token(&self, token: &str) -> Result<bool> {
        let revoked = store::auth::revoke_token(self.store(), &sha256_hex(token)).await?;
        if revoked {
            self.store().bump_security_version().await?;
            self.schema.refresh_security(self.store()).await?;
        }
        Ok(revoked)
    }

    /// Registers an OAuth client application; returns its client id and secret (shown once).
    pub async fn add_client_app(
        &self,
        name: &str,
        run_as_email: Option<&str>,
    ) -> Result<(String, String)> {
        let run_as = match run_as_email {
            Some(email) => self.user_id_by_email(email).await?,
            None => self.cli_caller(None).await?.user_id,
        }
        .ok_or_else(|| {
            AppError::one(
                ErrorCode::NotFound,
                "the client application needs a user to run as; add one first",
            )
        })?;
        let client_id = format!("3MVG9R{}", random_text(79)?);
        let secret = random_text(64)?;
        let app = ClientApp {
            client_id: client_id.clone(),
            name: name.trim().to_string(),
            secret_hash: sha256_hex(&secret),
            run_as,
        };
        store::auth::insert_client_app(
            self.store(),
            &app,
            &model::value::format_datetime(model::value::now_millis()),
        )
        .await?;
        Ok((client_id, secret))
    }

    /// The client application, if the id is known and the secret (when given) matches.
    async fn client(
        &self,
        client_id: &str,
        secret: Option<&str>,
    ) -> Result<std::result::Result<ClientApp, OAuthError>> {
        let Some(client) = store::auth::client_app(self.store(), client_id).await? else {
            return Ok(Err(OAuthError::new(
                "invalid_client_id",
                "client identifier invalid",
            )));
        };
        if let Some(secret) = secret
            && sha256_hex(secret) != client.secret_hash
        {
            return Ok(Err(OAuthError::new(
                "invalid_client",
                "invalid client credentials",
            )));
        }
        Ok(Ok(client))
    }

    async fn grant(
        &self,
        user: &RecordId,
        client_id: &str,
        signing_key: &str,
        with_refresh: bool,
    ) -> Result<Grant> {
        let access_token = self
            .store_token(
                TokenKind::Access,
                user,
                Some(client_id),
                Duration::hours(ACCESS_TOKEN_HOURS),
            )
            .await?;
        let refresh_token = if with_refresh {
            Some(
                self.store_token(
                    TokenKind::Refresh,
                    user,
                    Some(client_id),
                    Duration::days(REFRESH_TOKEN_DAYS),
                )
                .await?,
            )
        } else {
            None
        };
        Ok(Grant {
            access_token,
            refresh_token,
            user_id: user.clone(),
            org_id: self.org_settings().await?.id,
            issued_at: model::value::now_millis(),
            signing_key: signing_key.to_string(),
        })
    }

    /// The OAuth password grant.
    pub async fn oauth_password(
        &self,
        client_id: &str,
        client_secret: Option<&str>,
        username: &str,
        password: &str,
        source: &str,
    ) -> Result<std::result::Result<Grant, OAuthError>> {
        let client = match self.client(client_id, client_secret).await? {
            Ok(client) => client,
            Err(error) => return Ok(Err(error)),
        };
        let user = match self
            .login(username, password, "OAuth password", source)
            .await?
        {
            crate::logins::LoginOutcome::Success(user) => user,
            crate::logins::LoginOutcome::Failed => {
                return Ok(Err(OAuthError::new(
                    "invalid_grant",
                    "authentication failure",
                )));
            }
            outcome => {
                return Ok(Err(OAuthError::new("invalid_grant", outcome.description())));
            }
        };
        Ok(Ok(self
            .grant(
                &user,
                &client.client_id,
                client_secret.unwrap_or_default(),
                true,
            )
            .await?))
    }

    /// The OAuth refresh-token grant.
    pub async fn oauth_refresh(
        &self,
        client_id: &str,
        client_secret: Option<&str>,
        refresh_token: &str,
    ) -> Result<std::result::Result<Grant, OAuthError>> {
        let client = match self.client(client_id, client_secret).await? {
            Ok(client) => client,
            Err(error) => return Ok(Err(error)),
        };
        let row = store::auth::token(self.store(), &sha256_hex(refresh_token), TokenKind::Refresh)
            .await?;
        let valid = row.filter(|r| {
            !r.revoked
                && r.client_id.as_deref() == Some(client.client_id.as_str())
                && model::value::parse_datetime(&r.expires_at)
                    .is_some_and(|t| t > OffsetDateTime::now_utc())
        });
        let Some(row) = valid else {
            return Ok(Err(OAuthError::new(
                "invalid_grant",
                "expired access/refresh token",
            )));
        };
        if self.active_caller(&row.user_id).await?.is_none() {
            return Ok(Err(OAuthError::new("invalid_grant", "user is inactive")));
        }
        Ok(Ok(self
            .grant(
                &row.user_id,
                &client.client_id,
                client_secret.unwrap_or_default(),
                false,
            )
            .await?))
    }

    /// The OAuth client-credentials grant: the application acts as its run-as user.
    pub async fn oauth_client_credentials(
        &self,
        client_id: &str,
        client_secret: &str,
    ) -> Result<std::result::Result<Grant, OAuthError>> {
        let client = match self.client(client_id, Some(client_secret)).await? {
            Ok(client) => client,
            Err(error) => return Ok(Err(error)),
        };
        if self.active_caller(&client.run_as).await?.is_none() {
            return Ok(Err(OAuthError::new(
                "invalid_grant",
                "the application's run-as user is inactive",
            )));
        }
        Ok(Ok(self
            .grant(&client.run_as, &client.client_id, client_secret, false)
            .await?))
    }

    /// A login with username and password outside OAuth (the SOAP `login()` call): a token
    /// for the user, or `None` when the credentials are wrong.
    pub async fn password_login(
        &self,
        username: &str,
        password: &str,
        source: &str,
    ) -> Result<Option<Grant>> {
        let crate::logins::LoginOutcome::Success(user) =
            self.login(username, password, "SOAP", source).await?
        else {
            return Ok(None);
        };
        let access_token = self
            .store_token(
                TokenKind::Access,
                &user,
                None,
                Duration::hours(ACCESS_TOKEN_HOURS),
            )
            .await?;
        Ok(Some(Grant {
            access_token,
            refresh_token: None,
            user_id: user,
            org_id: self.org_settings().await?.id,
            issued_at: model::value::now_millis(),
            signing_key: String::new(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
