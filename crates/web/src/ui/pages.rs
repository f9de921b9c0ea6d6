//! The pages of signing in and out, the home page and the user's own settings.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use cookie::SameSite;
use model::Lang;
use serde::Deserialize;

use super::context::{Chrome, Ui};
use super::session::{
    Checked, LOGIN_CSRF_COOKIE, SESSION_COOKIE, Signed, clear_cookie, cookie, same_origin,
    set_cookie, tokens_match,
};
use super::words::Words;
use crate::AppState;

/// Renders a page, or the error page when the template fails.
pub(super) fn render(template: &impl Template, status: StatusCode) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be shown",
            )
                .into_response()
        }
    }
}

/// A failure of the server (never of the user's input): logged, and a plain page.
pub fn server_error(error: &app::AppError) -> Response {
    tracing::error!(%error, "a page failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html("<!doctype html><title>Error</title><p>Something went wrong on the server. Try again in a moment.</p>"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    w: Words,
    c: Chrome,
}

/// A record or object that does not exist, or that the caller may not see: the same page,
/// so that a URL tells nothing about records one may not read.
pub(super) fn not_found(ui: &Ui) -> Response {
    let mut c = ui.chrome.clone();
    for tab in &mut c.tabs {
        tab.current = false;
    }
    render(&NotFoundPage { w: ui.w, c }, StatusCode::NOT_FOUND)
}

#[derive(Template)]
#[template(path = "forbidden.html")]
struct ForbiddenPage {
    w: Words,
    c: Chrome,
}

/// A state-changing request without a valid CSRF token or from another site.
pub fn forbidden(lang: Lang) -> Response {
    render(
        &ForbiddenPage {
            w: Words::new(lang),
            c: Chrome::bare(),
        },
        StatusCode::FORBIDDEN,
    )
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    w: Words,
    c: Chrome,
    csrf: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LoginNotice {
    #[serde(default)]
    ended: Option<String>,
    #[serde(default)]
    out: Option<String>,
    #[serde(default)]
    changed: Option<String>,
}

/// The login form; a new double-submit CSRF token each time it is shown.
pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(notice): Query<LoginNotice>,
) -> Response {
    if let Some(id) = cookie(&headers, SESSION_COOKIE)
        && let Ok(Some(_)) = state.app.session(&id).await
    {
        return Redirect::to("/").into_response();
    }
    let w = Words::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let notice = if notice.changed.is_some() {
        Some(w.get("password_changed"))
    } else if notice.out.is_some() {
        Some(w.get("signed_out"))
    } else if notice.ended.is_some() {
        Some(w.get("session_over"))
    } else {
        None
    };
    login_form(&headers, w, String::new(), None, notice.map(str::to_string))
}

fn login_form(
    headers: &HeaderMap,
    w: Words,
    email: String,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let csrf = match app::auth::random_text(32) {
        Ok(token) => token,
        Err(error) => return server_error(&error),
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let mut response = render(
        &LoginPage {
            w,
            c: Chrome::bare(),
            csrf: csrf.clone(),
            email,
            error,
            notice,
        },
        status,
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(headers, LOGIN_CSRF_COOKIE, &csrf, SameSite::Strict),
    );
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Signs in: the lockout, the password and the user's state are `app`'s to check.
pub async fn login(
    State(state): State<AppState>,
    connect: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let w = Words::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !same_origin(&headers) || !tokens_match(&form.csrf, &expected) {
        return forbidden(w.lang);
    }
    let source = crate::oauth::source(connect);
    let started = match state
        .app
        .start_session(form.email.trim(), &form.password, &source)
        .await
    {
        Ok(started) => started,
        Err(error) => return server_error(&error),
    };
    match started {
        Ok(session) => {
            let mut response = Redirect::to("/").into_response();
            let cookies = response.headers_mut();
            cookies.append(
                header::SET_COOKIE,
                set_cookie(&headers, SESSION_COOKIE, &session.id, SameSite::Lax),
            );
            cookies.append(header::SET_COOKIE, clear_cookie(LOGIN_CSRF_COOKIE));
            response
        }
        Err(refused) => {
            let error = match refused {
                app::logins::LoginOutcome::LockedOut(until) => format!(
                    "{} {} {}",
                    w.get("login_locked"),
                    model::value::format_datetime(until),
                    w.get("login_locked_tail")
                ),
                app::logins::LoginOutcome::Inactive => w.get("login_inactive").to_string(),
                _ => w.get("login_failed").to_string(),
            };
            login_form(&headers, w, form.email, Some(error), None)
        }
    }
}

#[derive(Deserialize)]
pub struct NoFields {}

/// Signs out: the session ends in the database (the cookie alone would not be enough).
pub async fn logout(State(state): State<AppState>, checked: Checked<NoFields>) -> Response {
    if let Err(error) = state.app.end_session(&checked.signed.id).await {
        return server_error(&error);
    }
    let mut response = Redirect::to("/login?out=1").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
    response
}

/// One `<option>`.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    w: Words,
    c: Chrome,
    notice: Option<String>,
    languages: Vec<Choice>,
    time_zones: Vec<Choice>,
    language_error: Option<String>,
    time_zone_error: Option<String>,
    current_error: Option<String>,
    new_error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct SettingsNotice {
    #[serde(default)]
    saved: Option<String>,
}

/// Errors shown beside the settings' fields, by the field `app` names.
#[derive(Default)]
struct FieldErrors {
    language: Option<String>,
    time_zone: Option<String>,
    current: Option<String>,
    new: Option<String>,
}

impl FieldErrors {
    fn from_app(error: &app::AppError) -> Option<FieldErrors> {
        let app::AppError::Rejected(errors) = error else {
            return None;
        };
        let mut found = FieldErrors::default();
        for error in errors {
            let message = Some(error.message.clone());
            match error.fields.first().map(String::as_str) {
                Some("LanguageLocaleKey") => found.language = message,
                Some("TimeZoneSidKey") => found.time_zone = message,
                Some("CurrentPassword") => found.current = message,
                _ => found.new = message,
            }
        }
        Some(found)
    }
}

async fn settings_response(
    state: &AppState,
    signed: Signed,
    notice: Option<String>,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let ui = match Ui::load(state, signed, None).await {
        Ok(ui) => ui,
        Err(response) => return response,
    };
    let caller = &ui.caller;
    let w = ui.w;
    let schema = &ui.schema;
    let me = match state.app.me(caller).await {
        Ok(me) => me,
        Err(error) => return server_error(&error),
    };
    // The choices are the User object's picklists: what the object accepts, labelled in
    // the user's language.
    let choices = |field: &str, current: &str| -> Vec<Choice> {
        schema
            .object("User")
            .and_then(|user| user.field(field))
            .map(|f| {
                f.values
                    .iter()
                    .filter(|v| v.active)
                    .map(|v| Choice {
                        value: v.value.clone(),
                        label: v.label.get(caller.lang).to_string(),
                        selected: v.value == current,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    render(
        &SettingsPage {
            languages: choices("LanguageLocaleKey", &me.language),
            time_zones: choices("TimeZoneSidKey", &me.time_zone),
            w,
            notice,
            language_error: errors.language,
            time_zone_error: errors.time_zone,
            current_error: errors.current,
            new_error: errors.new,
            c: ui.chrome,
        },
        status,
    )
}

pub async fn settings_page(
    State(state): State<AppState>,
    signed: Signed,
    Query(notice): Query<SettingsNotice>,
) -> Response {
    let w = Words::new(signed.session.caller.lang);
    let notice = notice.saved.map(|_| w.get("saved").to_string());
    settings_response(
        &state,
        signed,
        notice,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    language: String,
    #[serde(default)]
    time_zone: String,
}

/// Saves the user's language and time zone; the next page is in the new language.
pub async fn save_settings(
    State(state): State<AppState>,
    Checked { signed, form }: Checked<SettingsForm>,
) -> Response {
    match state
        .app
        .update_my_settings(&signed.session.caller, &form.language, &form.time_zone)
        .await
    {
        Ok(()) => Redirect::to("/settings?saved=1").into_response(),
        Err(error) => match FieldErrors::from_app(&error) {
            Some(errors) => {
                settings_response(&state, signed, None, errors, StatusCode::BAD_REQUEST).await
            }
            None => server_error(&error),
        },
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// Changes the user's password; every session of theirs ends, this one too.
pub async fn change_password(
    State(state): State<AppState>,
    Checked { signed, form }: Checked<PasswordForm>,
) -> Response {
    let w = Words::new(signed.session.caller.lang);
    if form.new != form.repeat {
        let errors = FieldErrors {
            new: Some(w.get("passwords_differ").to_string()),
            ..Default::default()
        };
        return settings_response(&state, signed, None, errors, StatusCode::BAD_REQUEST).await;
    }
    match state
        .app
        .change_my_password(&signed.session.caller, &form.current, &form.new)
        .await
    {
        Ok(()) => {
            let mut response = Redirect::to("/login?changed=1").into_response();
            response
                .headers_mut()
                .append(header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
            response
        }
        Err(error) => match FieldErrors::from_app(&error) {
            Some(errors) => {
                settings_response(&state, signed, None, errors, StatusCode::BAD_REQUEST).await
            }
            None => server_error(&error),
        },
    }
}
