//! Users, passwords and API tokens. Passwords are kept as Argon2id hashes; tokens as SHA-256
//! hashes, so a copy of the database reveals neither.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};

use model::{ErrorCode, Lang, RecordId, Value};
use store::Filter;

use crate::records::RecordInput;
use crate::{App, AppError, Caller, Result};

/// What `update_user` changes; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub role: Option<String>,
    pub profile: Option<String>,
    pub time_zone: Option<String>,
    pub active: Option<bool>,
}

/// A user to add.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    /// "First Last"; a single word is the last name.
    pub name: String,
    pub profile: Option<String>,
    pub role: Option<String>,
    pub language: Lang,
}

fn split_name(name: &str) -> (Option<String>, String) {
    let name = name.trim();
    match name.rsplit_once(char::is_whitespace) {
        Some((first, last)) => (Some(first.trim().to_string()), last.trim().to_string()),
        None => (None, name.to_string()),
    }
}

impl App {
    /// Finds a record id by its Name, case-insensitively (profiles, roles, groups). Names are
    /// not unique through the API: where several match, the one spelled exactly so is taken,
    /// and without one such a name is refused rather than guessed (`DUPLICATE_VALUE`).
    pub(crate) async fn id_by_name(&self, object: &str, name: &str) -> Result<Option<RecordId>> {
        let name = name.trim();
        let named: Vec<(RecordId, String)> = self
            .names(object)
            .await?
            .into_iter()
            .filter(|(_, n)| n.eq_ignore_ascii_case(name))
            .collect();
        if let [(id, _)] = named.as_slice() {
            return Ok(Some(id.clone()));
        }
        let mut exact = named.iter().filter(|(_, n)| n == name);
        match (exact.next(), exact.next(), named.is_empty()) {
            (_, _, true) => Ok(None),
            (Some((id, _)), None, _) => Ok(Some(id.clone())),
            _ => Err(AppError::one(
                ErrorCode::DuplicateValue,
                format!("several {object} records are named {name}: rename one first"),
            )),
        }
    }

    /// Every record of an object (live ones) with its Name: for the small setup objects
    /// (profiles, roles, groups) that are named rather than found.
    pub(crate) async fn names(&self, object: &str) -> Result<Vec<(RecordId, String)>> {
        Ok(self
            .find(
                &Caller::system(),
                object,
                &["Id", "Name"],
                None,
                Vec::new(),
                None,
            )
            .await?
            .into_iter()
            .filter_map(|r| {
                let name = r.get("Name").and_then(Value::as_text)?.to_string();
                r.id().cloned().map(|id| (id, name))
            })
            .collect())
    }

    /// The id of the active user with this email (the login name).
    pub async fn user_id_by_email(&self, email: &str) -> Result<Option<RecordId>> {
        let filter = Filter::eq("Username", Value::Text(email.trim().to_ascii_lowercase()));
        let records = self
            .find(
                &Caller::system(),
                "User",
                &["Id"],
                Some(filter),
                Vec::new(),
                Some(1),
            )
            .await?;
        Ok(records.first().and_then(|r| r.id().cloned()))
    }

    /// Adds a user. The first user of a database is its System Administrator.
    pub async fn add_user(&self, caller: &Caller, user: NewUser) -> Result<RecordId> {
        crate::logins::check_password_policy(&user.password)?;
        let email = user.email.trim().to_ascii_lowercase();
        if self.user_id_by_email(&email).await?.is_some() {
            return Err(AppError::on_field(
                ErrorCode::DuplicateValue,
                "Username",
                format!("a user with the login {email} already exists"),
            ));
        }
        let first_user = self
            .find(
                &Caller::system(),
                "User",
                &["Id"],
                None,
                Vec::new(),
                Some(1),
            )
            .await?
            .is_empty();
        let profile_name = if first_user {
            "System Administrator".to_string()
        } else {
            user.profile
                .clone()
                .unwrap_or_else(|| "Standard User".into())
        };
        let profile = self
            .id_by_name("Profile", &profile_name)
            .await?
            .ok_or_else(|| {
                AppError::on_field(
                    ErrorCode::InvalidCrossReferenceKey,
                    "ProfileId",
                    format!("no profile named {profile_name}"),
                )
            })?;
        let role = match &user.role {
            Some(role) => Some(self.id_by_name("UserRole", role).await?.ok_or_else(|| {
                AppError::on_field(
                    ErrorCode::InvalidCrossReferenceKey,
                    "UserRoleId",
                    format!("no role named {role}; add it with `rapport role add {role}`"),
                )
            })?),
            None => None,
        };
        let org = self.org_settings().await?;
        let (first, last) = split_name(&user.name);
        if last.is_empty() {
            return Err(AppError::on_field(
                ErrorCode::RequiredFieldMissing,
                "LastName",
                "Required fields are missing: [LastName]",
            ));
        }
        let alias: String = first
            .iter()
            .flat_map(|f| f.chars().take(1))
            .chain(last.chars())
            .filter(|c| !c.is_whitespace())
            .take(8)
            .collect();
        let nickname: String = email
            .split('@')
            .next()
            .unwrap_or(&email)
            .chars()
            .take(40)
            .collect();
        let mut input = RecordInput::new();
        let mut put = |k: &str, v: serde_json::Value| {
            input.insert(k.to_string(), v);
        };
        put("Username", email.clone().into());
        put("Email", email.clone().into());
        if let Some(first) = first {
            put("FirstName", first.into());
        }
        put("LastName", last.into());
        put("Alias", alias.into());
        put("CommunityNickname", nickname.into());
        put("IsActive", true.into());
        put("ProfileId", profile.to_18().into());
        if let Some(role) = role {
            put("UserRoleId", role.to_18().into());
        }
        put("LanguageLocaleKey", user.language.locale_key().into());
        put(
            "LocaleSidKey",
            (if org.locale.is_empty() {
                "en_US".to_string()
            } else {
                org.locale.clone()
            })
            .into(),
        );
        put("TimeZoneSidKey", org.time_zone.clone().into());
        put("DefaultCurrencyIsoCode", org.currency.clone().into());
        // The user and the password hash are written together: no user without a password.
        let hash = hash_password(user.password).await?;
        let schema = self.schema().await?;
        let mut numbers = self.store().reserve_record_numbers(1).await?;
        let mut tx = self.store().begin().await?;
        let id = self
            .insert_all_in(&mut tx, &schema, caller, "User", vec![input], &mut numbers)
            .await?
            .pop()
            .ok_or_else(crate::records::not_found)?;
        store::auth::set_password_hash(&mut tx, &id, &hash).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Checks a login; returns the user on success.
    pub async fn verify_password(&self, email: &str, password: &str) -> Result<Option<RecordId>> {
        let Some(user) = self.user_id_by_email(email).await? else {
            return Ok(None);
        };
        let Some(hash) = store::auth::password_hash(self.store(), &user).await? else {
            return Ok(None);
        };
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false);
        Ok(ok.then_some(user))
    }

    /// Adds a role under an optional parent role.
    pub async fn add_role(
        &self,
        caller: &Caller,
        name: &str,
        parent: Option<&str>,
    ) -> Result<RecordId> {
        if self.id_by_name("UserRole", name).await?.is_some() {
            return Err(AppError::on_field(
                ErrorCode::DuplicateValue,
                "Name",
                format!("a role named {name} already exists"),
            ));
        }
        let mut input = RecordInput::new();
        input.insert("Name".into(), name.trim().into());
        let developer_name: String = name
            .trim()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        input.insert("DeveloperName".into(), developer_name.into());
        if let Some(parent) = parent {
            let parent_id = self.id_by_name("UserRole", parent).await?.ok_or_else(|| {
                AppError::on_field(
                    ErrorCode::InvalidCrossReferenceKey,
                    "ParentRoleId",
                    format!("no role named {parent}"),
                )
            })?;
            input.insert("ParentRoleId".into(), parent_id.to_18().into());
        }
        self.create(caller, "UserRole", input).await
    }

    /// Changes a user's role, profile, time zone or active flag (each optional). Validated
    /// like any write to the User object; what the user may see changes at once.
    pub async fn update_user(
        &self,
        caller: &Caller,
        email: &str,
        change: UserChange,
    ) -> Result<()> {
        let user = self.user_id_by_email(email).await?.ok_or_else(|| {
            AppError::one(
                ErrorCode::NotFound,
                format!("no user with the login {email}"),
            )
        })?;
        let mut input = RecordInput::new();
        if let Some(role) = &change.role {
            let id = self.id_by_name("UserRole", role).await?.ok_or_else(|| {
                AppError::on_field(
                    ErrorCode::InvalidCrossReferenceKey,
                    "UserRoleId",
                    format!("no role named {role}"),
                )
            })?;
            input.insert("UserRoleId".into(), id.to_18().into());
        }
        if let Some(profile) = &change.profile {
            let id = self.id_by_name("Profile", profile).await?.ok_or_else(|| {
                AppError::on_field(
                    ErrorCode::InvalidCrossReferenceKey,
                    "ProfileId",
                    format!("no profile named {profile}"),
                )
            })?;
            input.insert("ProfileId".into(), id.to_18().into());
        }
        if let Some(zone) = &change.time_zone {
            input.insert("TimeZoneSidKey".into(), zone.clone().into());
        }
        if let Some(active) = change.active {
            input.insert("IsActive".into(), active.into());
        }
        if input.is_empty() {
            return Err(AppError::one(
                ErrorCode::InvalidOperation,
                "nothing to change: give --role, --profile, --time-zone or --active",
            ));
        }
        self.update(
            caller,
            "User",
            crate::records::Update {
                id: user.to_18(),
                input,
                if_unmodified_since: None,
            },
        )
        .await?;
        self.forget_access();
        Ok(())
    }

    /// The caller for the CLI: the given user, or the first System Administrator, or the system.
    pub async fn cli_caller(&self, email: Option<&str>) -> Result<Caller> {
        if let Some(email) = email {
            let user = self.user_id_by_email(email).await?.ok_or_else(|| {
                AppError::one(
                    ErrorCode::NotFound,
                    format!("no user with the login {email}"),
                )
            })?;
            // As the user, in their language and time zone (an inactive user still can be
            // named here: the CLI is the administrator's).
            return Ok(self
                .active_caller(&user)
                .await?
                .unwrap_or_else(|| Caller::user(user, Lang::En)));
        }
        let users = self
            .find(
                &Caller::system(),
                "User",
                &["Id"],
                None,
                vec![("CreatedDate".into(), false)],
                Some(1),
            )
            .await?;
        Ok(users
            .first()
            .and_then(|u| u.id().cloned())
            .map_or_else(Caller::system, |id| Caller::user(id, Lang::En)))
    }
}

pub(crate) async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| {
        AppError::one(
            ErrorCode::UnknownException,
            format!("password hashing stopped: {e}"),
        )
    })?
    .map_err(|e| {
        AppError::one(
            ErrorCode::UnknownException,
            format!("password hashing failed: {e}"),
        )
    })
}

/// The signed-in user as the UI shows them, with their own settings.
#[derive(Debug, Clone)]
pub struct Me {
    pub id: RecordId,
    pub name: String,
    pub email: String,
    /// A `LanguageLocaleKey` value (`en_US`, `zh_CN`).
    pub language: String,
    /// A `TimeZoneSidKey` value (`Asia/Shanghai`).
    pub time_zone: String,
}

impl App {
    /// The caller's own user record.
    pub async fn me(&self, caller: &Caller) -> Result<Me> {
        let id = caller
            .user_id
            .clone()
            .ok_or_else(|| AppError::one(ErrorCode::InvalidOperation, "not signed in as a user"))?;
        let fields = ["Name", "Email", "LanguageLocaleKey", "TimeZoneSidKey"].map(String::from);
        let record = self
            .get(&Caller::system(), "User", &id.to_18(), Some(&fields))
            .await?;
        let text = |field: &str| {
            record
                .get(field)
                .and_then(Value::as_text)
                .unwrap_or_default()
                .to_string()
        };
        Ok(Me {
            name: text("Name"),
            email: text("Email"),
            language: text("LanguageLocaleKey"),
            time_zone: text("TimeZoneSidKey"),
            id,
        })
    }

    /// Changes the caller's own language and time zone (any user may; the values are
    /// checked as any write to the User object checks them).
    pub async fn update_my_settings(
        &self,
        caller: &Caller,
        language: &str,
        time_zone: &str,
    ) -> Result<()> {
        let me = self.me(caller).await?;
        let mut input = RecordInput::new();
        input.insert("LanguageLocaleKey".into(), language.into());
        input.insert("TimeZoneSidKey".into(), time_zone.into());
        // As the system: a Standard User may not edit User records, but their own settings
        // are theirs to set; only these two fields are written.
        self.update(
            &Caller::system(),
            "User",
            crate::records::Update {
                id: me.id.to_18(),
                input,
                if_unmodified_since: None,
            },
        )
        .await
    }

    /// Changes the caller's own password: the current one first, then the policy. Every
    /// session of the user ends (they sign in again with the new password).
    pub async fn change_my_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
    ) -> Result<()> {
        let me = self.me(caller).await?;
        if self.verify_password(&me.email, current).await?.is_none() {
            return Err(AppError::on_field(
                ErrorCode::InvalidOperation,
                "CurrentPassword",
                "The current password is not right.",
            ));
        }
        self.reset_password(&me.email, new).await
    }
}
