//! Saved list views (see `store::views`): each user's own, per object.

use model::ErrorCode;

use crate::auth::random_text;
use crate::{App, AppError, Caller, Result};

pub use store::views::ListView;

/// The longest name a view may have.
const NAME_LENGTH: usize = 80;
/// The longest parameters a view may keep.
const PARAMS_LENGTH: usize = 2000;
/// Views one user may keep of one object.
const VIEWS_PER_OBJECT: usize = 50;

fn user_of(caller: &Caller) -> Result<&model::RecordId> {
    caller.user_id.as_ref().ok_or_else(|| {
        AppError::one(
            ErrorCode::InsufficientAccessOrReadonly,
            "list views belong to users",
        )
    })
}

impl App {
    /// Saves a view of `object` for the caller; its id.
    pub async fn save_list_view(
        &self,
        caller: &Caller,
        object: &str,
        name: &str,
        params: &str,
    ) -> Result<String> {
        let user = user_of(caller)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > NAME_LENGTH {
            return Err(AppError::on_field(
                ErrorCode::StringTooLong,
                "name",
                format!("name: a view's name has 1 to {NAME_LENGTH} characters"),
            ));
        }
        if params.len() > PARAMS_LENGTH {
            return Err(AppError::on_field(
                ErrorCode::StringTooLong,
                "params",
                format!("params: a view keeps at most {PARAMS_LENGTH} characters of filters"),
            ));
        }
        let existing = store::views::of_user(self.store(), user, object).await?;
        if existing.len() >= VIEWS_PER_OBJECT {
            return Err(AppError::one(
                ErrorCode::InvalidOperation,
                format!("at most {VIEWS_PER_OBJECT} saved views per object"),
            ));
        }
        if existing.iter().any(|v| v.name.eq_ignore_ascii_case(name)) {
            return Err(AppError::on_field(
                ErrorCode::DuplicateValue,
                "name",
                format!("name: you already have a view named {name}"),
            ));
        }
        let id = random_text(16)?;
        let now = model::value::format_datetime(model::value::now_millis());
        store::views::insert(self.store(), &id, user, object, name, params, &now).await?;
        Ok(id)
    }

    /// The caller's saved views of `object`.
    pub async fn list_views(&self, caller: &Caller, object: &str) -> Result<Vec<ListView>> {
        let Some(user) = &caller.user_id else {
            return Ok(Vec::new());
        };
        Ok(store::views::of_user(self.store(), user, object).await?)
    }

    /// Deletes one of the caller's views.
    pub async fn delete_list_view(&self, caller: &Caller, id: &str) -> Result<()> {
        let user = user_of(caller)?;
        if store::views::delete(self.store(), user, id).await? {
            Ok(())
        } else {
            Err(AppError::one(ErrorCode::NotFound, "no such view"))
        }
    }
}
