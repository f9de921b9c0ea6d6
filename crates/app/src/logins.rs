//! Logins with a password: the password policy, lockout after repeated failures, and the
//! login history (time, source address, method, result) that administrators read with
//! `rapport user logins EMAIL`.

use time::{Duration, OffsetDateTime};

use model::{ErrorCode, RecordId};

use crate::{App, AppError, Result};

/// Consecutive failures that lock a user out (Salesforce's default).
pub const MAX_FAILURES: i64 = 10;
/// How long a lockout lasts (Salesforce's default).
pub const LOCKOUT_MINUTES: i64 = 15;

/// How a login attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    Success(RecordId),
    /// Unknown login or wrong password (never said which).
    Failed,
    /// Too many failures: refused until then, even with the right password.
    LockedOut(OffsetDateTime),
    Inactive,
}

impl LoginOutcome {
    /// What the history records, and what a client is told.
    pub fn description(&self) -> String {
        match self {
            LoginOutcome::Success(_) => "Success".into(),
            LoginOutcome::Failed => "Invalid Password".into(),
            LoginOutcome::LockedOut(until) => format!(
                "Password Lockout: too many failed logins; try again after {} UTC or ask an administrator to reset the password",
                model::value::format_datetime(*until)
            ),
            LoginOutcome::Inactive => "User is inactive".into(),
        }
    }
}

/// The password policy: at least 8 characters, with a letter and a digit.
pub fn check_password_policy(password: &str) -> Result<()> {
    let long = password.chars().count() >= 8;
    let letter = password.chars().any(char::is_alphabetic);
    let digit = password.chars().any(|c| c.is_ascii_digit());
    if long && letter && digit {
        Ok(())
    } else {
        Err(AppError::on_field(
            ErrorCode::InvalidNewPassword,
            "Password",
            "the password must have at least 8 characters, including a letter and a digit",
        ))
    }
}

/// One line of a user's login history.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    pub at: String,
    pub login: String,
    pub source: String,
    pub method: String,
    pub result: String,
}

impl App {
    /// Checks a login: the lockout first, then the password, then whether the user is
    /// active; records the attempt either way.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        method: &str,
        source: &str,
    ) -> Result<LoginOutcome> {
        let now = model::value::now_millis();
        let user = self.user_id_by_email(email).await?;
        let outcome = match &user {
            None => LoginOutcome::Failed,
            Some(user) => match store::auth::lockout(self.store(), user).await? {
                Some((_, Some(until))) if until > now => LoginOutcome::LockedOut(until),
                state => {
                    let failures = state.map_or(0, |(failures, _)| failures);
                    if self.verify_password(email, password).await?.is_none() {
                        let failures = failures + 1;
                        let until = (failures >= MAX_FAILURES)
                            .then(|| now + Duration::minutes(LOCKOUT_MINUTES));
                        store::auth::set_lockout(self.store(), user, failures, until).await?;
                        match until {
                            Some(until) => LoginOutcome::LockedOut(until),
                            None => LoginOutcome::Failed,
                        }
                    } else {
                        if failures > 0 {
                            store::auth::set_lockout(self.store(), user, 0, None).await?;
                        }
                        if self.active_caller(user).await?.is_some() {
                            LoginOutcome::Success(user.clone())
                        } else {
                            LoginOutcome::Inactive
                        }
                    }
                }
            },
        };
        store::auth::record_login(
            self.store(),
            &store::auth::LoginEntry {
                login: email.to_string(),
                user: user.clone(),
                at: now,
                source: source.to_string(),
                method: method.to_string(),
                result: outcome.description(),
            },
        )
        .await?;
        Ok(outcome)
    }

    /// A user's logins, newest first (at most `limit`).
    pub async fn login_history(&self, email: &str, limit: i64) -> Result<Vec<LoginRecord>> {
        let user = self.user_id_by_email(email).await?.ok_or_else(|| {
            AppError::one(
                ErrorCode::NotFound,
                format!("no user with the login {email}"),
            )
        })?;
        Ok(store::auth::login_history(self.store(), &user, limit)
            .await?
            .into_iter()
            .map(|e| LoginRecord {
                at: model::value::format_datetime(e.at),
                login: e.login,
                source: e.source,
                method: e.method,
                result: e.result,
            })
            .collect())
    }

    /// Sets a user's password (an administrator's reset), under the policy; ends any lockout.
    pub async fn reset_password(&self, email: &str, password: &str) -> Result<()> {
        check_password_policy(password)?;
        let user = self.user_id_by_email(email).await?.ok_or_else(|| {
            AppError::one(
                ErrorCode::NotFound,
                format!("no user with the login {email}"),
            )
        })?;
        let hash = crate::users::hash_password(password.to_string()).await?;
        let mut tx = self.store().begin().await?;
        store::auth::set_password_hash(&mut tx, &user, &hash).await?;
        tx.commit().await?;
        store::auth::set_lockout(self.store(), &user, 0, None).await?;
        // Whoever held the old password may hold a session made with it.
        self.end_sessions_of(&user).await?;
        Ok(())
    }
}
