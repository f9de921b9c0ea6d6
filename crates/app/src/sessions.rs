//! Web sessions for the UI: a random session id in an HttpOnly cookie, its hash in the
//! database (shared by every server process), a per-session CSRF token that every
//! state-changing form carries, an idle and an absolute timeout, and a logout that ends the
//! session in the database, not just in the browser.

use time::{Duration, OffsetDateTime};

use crate::auth::{random_text, sha256_hex};
use crate::logins::LoginOutcome;
use crate::{App, Caller, Result};

/// A session unused this long has ended (Salesforce's default session timeout).
pub const IDLE_TIMEOUT: Duration = Duration::hours(2);
/// A session this old has ended, however busy.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(12);
/// Activity is written at most this often per session (not on every request).
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// A session just started: the id goes into the cookie, and nowhere else.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub csrf_token: String,
}

/// A valid session: who it is for and the token its forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub caller: Caller,
    /// The user's name, as the pages show it.
    pub name: String,
    pub csrf_token: String,
}

impl App {
    /// Checks a login (lockout, password, active user; recorded in the login history) and
    /// starts a session for it. `Err` carries why the login failed.
    pub async fn start_session(
        &self,
        email: &str,
        password: &str,
        source: &str,
    ) -> Result<std::result::Result<NewSession, LoginOutcome>> {
        let user = match self.login(email, password, "Web", source).await? {
            LoginOutcome::Success(user) => user,
            refused => return Ok(Err(refused)),
        };
        let session = NewSession {
            id: random_text(40)?,
            csrf_token: random_text(40)?,
        };
        store::sessions::insert(
            self.store(),
            &sha256_hex(&session.id),
            &user,
            &session.csrf_token,
            model::value::now_millis(),
            source,
        )
        .await?;
        Ok(Ok(session))
    }

    /// The session a cookie names, if it is open: not ended, not idle too long, not too
    /// old, and its user still active.
    pub async fn session(&self, id: &str) -> Result<Option<Session>> {
        let hash = sha256_hex(id);
        let Some(row) = store::sessions::get(self.store(), &hash).await? else {
            return Ok(None);
        };
        let now = OffsetDateTime::now_utc();
        if row.ended
            || now - row.last_seen_at > IDLE_TIMEOUT
            || now - row.created_at > ABSOLUTE_TIMEOUT
        {
            return Ok(None);
        }
        let Some((caller, name)) = self.active_user(&row.user).await? else {
            return Ok(None);
        };
        if now - row.last_seen_at > TOUCH_EVERY {
            store::sessions::touch(self.store(), &hash, now).await?;
        }
        Ok(Some(Session {
            caller,
            name,
            csrf_token: row.csrf_token,
        }))
    }

    /// Ends a session (logout); returns whether it was open.
    pub async fn end_session(&self, id: &str) -> Result<bool> {
        Ok(store::sessions::end(self.store(), &sha256_hex(id)).await?)
    }

    /// Ends every session of a user (after a password change by someone else, say).
    pub async fn end_sessions_of(&self, user: &model::RecordId) -> Result<u64> {
        Ok(store::sessions::end_all(self.store(), user).await?)
    }

    /// Forgets sessions that can no longer be used.
    pub async fn purge_sessions(&self) -> Result<u64> {
        let before = OffsetDateTime::now_utc() - ABSOLUTE_TIMEOUT;
        Ok(store::sessions::purge(self.store(), before).await?)
    }
}
