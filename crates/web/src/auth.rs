//! The caller of an API request: `Authorization: Bearer TOKEN` (or the legacy `OAuth TOKEN`),
//! checked against the tokens in the database (through the app's cache), counted against the
//! request limits; and [`Ctx`], what record handlers work with: the app, the caller, the API
//! version, and the unit of work of an all-or-none composite request when they run inside one.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use tokio::sync::Mutex;

use app::records::{Record, RecordInput, RecordResult, Update, WriteOptions};
use app::upsert::UpsertResult;
use app::work::Work;
use app::{App, Caller};
use model::ErrorCode;

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller of an API request.
pub struct ApiCaller(pub Caller);

fn unauthorized() -> ApiError {
    ApiError::new(ErrorCode::InvalidSessionId, "Session expired or invalid")
}

/// Marks a request made by `/composite` or `/composite/batch` on the caller's behalf: it was
/// counted against the limits as part of that request.
#[derive(Clone)]
pub struct Subrequest;

/// The unit of work an all-or-none `/composite` request runs its subrequests in.
#[derive(Clone)]
pub struct SharedWork(pub Arc<Mutex<Work>>);

/// The bearer token of a request.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let header = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = header.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim())
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ApiCaller, ApiError> {
        let token = bearer_token(parts).ok_or_else(unauthorized)?;
        let caller = state
            .app
            .authenticate_token(token)
            .await?
            .ok_or_else(unauthorized)?;
        if parts.extensions.get::<Subrequest>().is_none() {
            state.limits.admit(token)?;
        }
        Ok(ApiCaller(caller))
    }
}

/// What a record handler works with.
pub struct Ctx {
    pub app: App,
    pub caller: Caller,
    /// `/services/data/vNN.0`.
    pub base: String,
    pub work: Option<SharedWork>,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Ctx, ApiError> {
        let version = parts
            .uri
            .path()
            .strip_prefix("/services/data/")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("")
            .to_string();
        let base = crate::sobjects::base(&version)?;
        let ApiCaller(caller) = ApiCaller::from_request_parts(parts, state).await?;
        let work = parts.extensions.get::<SharedWork>().cloned();
        Ok(Ctx {
            app: state.app.clone(),
            caller,
            base,
            work,
        })
    }
}

impl Ctx {
    /// Refuses an operation that runs in its own transaction(s) when called inside an
    /// allOrNone composite request (whose unit of work it could not join).
    pub fn outside_composite(&self, what: &str) -> Result<(), ApiError> {
        if self.work.is_some() {
            return Err(ApiError::new(
                model::ErrorCode::InvalidOperation,
                format!(
                    "{what} runs in its own transaction: not inside an allOrNone composite request"
                ),
            ));
        }
        Ok(())
    }

    pub async fn create_many(
        &self,
        object: &str,
        inputs: Vec<RecordInput>,
        options: WriteOptions,
    ) -> app::Result<Vec<RecordResult>> {
        match &self.work {
            Some(work) => {
                self.app
                    .create_many_in(
                        &mut *work.0.lock().await,
                        &self.caller,
                        object,
                        inputs,
                        options,
                    )
                    .await
            }
            None => {
                self.app
                    .create_many(&self.caller, object, inputs, options)
                    .await
            }
        }
    }

    /// Creates one record: inside the unit of work when there is one, else by group commit.
    pub async fn create_one(
        &self,
        object: &str,
        input: RecordInput,
    ) -> app::Result<model::RecordId> {
        match &self.work {
            Some(work) => {
                let results = self
                    .app
                    .create_many_in(
                        &mut *work.0.lock().await,
                        &self.caller,
                        object,
                        vec![input],
                        WriteOptions { all_or_none: true },
                    )
                    .await?;
                match results.into_iter().next() {
                    Some(Ok(id)) => Ok(id),
                    Some(Err(errors)) => Err(app::AppError::Rejected(errors)),
                    None => Err(app::AppError::one(ErrorCode::UnknownException, "no result")),
                }
            }
            None => self.app.create_one(&self.caller, object, input).await,
        }
    }

    /// Updates one record: inside the unit of work when there is one, else by group commit.
    pub async fn update_one(&self, object: &str, update: Update) -> app::Result<()> {
        match &self.work {
            Some(work) => {
                let results = self
                    .app
                    .update_many_in(
                        &mut *work.0.lock().await,
                        &self.caller,
                        object,
                        vec![update],
                        WriteOptions { all_or_none: true },
                    )
                    .await?;
                match results.into_iter().next() {
                    Some(Ok(_)) => Ok(()),
                    Some(Err(errors)) => Err(app::AppError::Rejected(errors)),
                    None => Err(app::AppError::one(ErrorCode::UnknownException, "no result")),
                }
            }
            None => self.app.update_one(&self.caller, object, update).await,
        }
    }

    pub async fn update_many(
        &self,
        object: &str,
        updates: Vec<Update>,
        options: WriteOptions,
    ) -> app::Result<Vec<RecordResult>> {
        match &self.work {
            Some(work) => {
                self.app
                    .update_many_in(
                        &mut *work.0.lock().await,
                        &self.caller,
                        object,
                        updates,
                        options,
                    )
                    .await
            }
            None => {
                self.app
                    .update_many(&self.caller, object, updates, options)
                    .await
            }
        }
    }

    pub async fn delete_many(
        &self,
        ids: Vec<String>,
        options: WriteOptions,
    ) -> app::Result<Vec<RecordResult>> {
        match &self.work {
            Some(work) => {
                self.app
                    .delete_many_in(&mut *work.0.lock().await, &self.caller, ids, options)
                    .await
            }
            None => self.app.delete_many(&self.caller, ids, options).await,
        }
    }

    pub async fn upsert_many(
        &self,
        object: &str,
        field: &str,
        inputs: Vec<RecordInput>,
        options: WriteOptions,
    ) -> app::Result<Vec<UpsertResult>> {
        match &self.work {
            Some(work) => {
                self.app
                    .upsert_many_in(
                        &mut *work.0.lock().await,
                        &self.caller,
                        object,
                        field,
                        inputs,
                        options,
                    )
                    .await
            }
            None => {
                self.app
                    .upsert_many(&self.caller, object, field, inputs, options)
                    .await
            }
        }
    }

    pub async fn get(
        &self,
        object: &str,
        id: &str,
        fields: Option<&[String]>,
    ) -> app::Result<Record> {
        match &self.work {
            Some(work) => {
                self.app
                    .get_in_work(&mut *work.0.lock().await, &self.caller, object, id, fields)
                    .await
            }
            None => self.app.get(&self.caller, object, id, fields).await,
        }
    }
}
