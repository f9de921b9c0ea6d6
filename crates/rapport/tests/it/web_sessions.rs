//! Web sessions over HTTP against a running `rapport serve`: signing in (with the login
//! form's own CSRF token), the session cookie's attributes, lockout after repeated failures,
//! CSRF and cross-site rejection of every state-changing form, idle and absolute expiry,
//! a logout that ends the session in the database, a password change that ends them all,
//! auto-escaping of what users typed, and the count a list view shows. On both backends.

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Client, StatusCode};

use serde_json::json;

use crate::support::{Server, TestDb, cli_user, rapport_ok};

crate::both_backends!(web_sessions_sign_in_expire_and_end);
crate::both_backends!(only_those_who_may_share_see_the_share_form);
crate::both_backends!(lists_show_the_count_a_tally_answers);

/// `application/x-www-form-urlencoded` of some pairs.
fn form(pairs: &[(&str, &str)]) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of a `name="csrf"` hidden field in a page.
fn csrf_in(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a csrf field") + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

/// The `Set-Cookie` headers of a response, as text.
fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn cookie_value(set: &[String], name: &str) -> Option<String> {
    set.iter().find_map(|c| {
        let first = c.split(';').next()?;
        let (n, v) = first.split_once('=')?;
        (n == name && !v.is_empty()).then(|| v.to_string())
    })
}

struct Browser {
    client: Client,
    base: String,
}

impl Browser {
    /// A client that does not follow redirects (the tests look at them).
    fn new(base: &str) -> Browser {
        Browser {
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
        }
    }

    async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, cookie: &str, body: String) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Signs in through the form; returns the session cookie (`rapport_session=…`).
    async fn sign_in(&self, email: &str, password: &str) -> Result<String, (StatusCode, String)> {
        let page = self.get("/login", "").await;
        let login_cookie = cookie_value(&set_cookies(&page), "rapport_login_csrf").unwrap();
        let token = csrf_in(&page.text().await.unwrap());
        let response = self
            .post(
                "/login",
                &format!("rapport_login_csrf={login_cookie}"),
                form(&[("csrf", &token), ("email", email), ("password", password)]),
            )
            .await;
        let status = response.status();
        match cookie_value(&set_cookies(&response), "rapport_session") {
            Some(session) if status == StatusCode::SEE_OTHER => {
                Ok(format!("rapport_session={session}"))
            }
            _ => Err((status, response.text().await.unwrap())),
        }
    }
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn web_sessions_sign_in_expire_and_end(db: TestDb) {
    rapport_ok(
        &db,
        &[
            "user",
            "add",
            "--email",
            "admin@example.com",
            "--name",
            "Ad Min",
            "--password",
            "secret123",
        ],
    );
    rapport_ok(
        &db,
        &[
            "user",
            "add",
            "--email",
            "rep@example.com",
            "--name",
            "<b>Rep</b> Li",
            "--password",
            "secret123",
            "--profile",
            "Standard User",
        ],
    );
    rapport_ok(
        &db,
        &[
            "user",
            "add",
            "--email",
            "locked@example.com",
            "--name",
            "Lock Ed",
            "--password",
            "secret123",
            "--profile",
            "Standard User",
        ],
    );
    let server = Server::start_with(&db, &[]).await;
    let browser = Browser::new(&server.base);

    // Not signed in: pages send you to the login form.
    let home = browser.get("/", "").await;
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&home), "/login");

    // The login form needs its own token: a forged post (no cookie, or another site) fails.
    let page = browser.get("/login", "").await;
    assert_eq!(page.status(), StatusCode::OK);
    let login_set = set_cookies(&page);
    assert!(
        login_set[0].contains("HttpOnly") && login_set[0].contains("SameSite=Strict"),
        "{login_set:?}"
    );
    let token = csrf_in(&page.text().await.unwrap());
    let forged = browser
        .post(
            "/login",
            "",
            form(&[
                ("csrf", &token),
                ("email", "rep@example.com"),
                ("password", "secret123"),
            ]),
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // A wrong password says nothing of which part was wrong; ten lock the user out, and the
    // right password is refused until the lockout ends.
    let (status, text) = browser
        .sign_in("rep@example.com", "wrong-one1")
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        text.contains("That email and password do not match a user."),
        "{text}"
    );
    for _ in 0..10 {
        let _ = browser.sign_in("locked@example.com", "wrong-one1").await;
    }
    let (status, text) = browser
        .sign_in("locked@example.com", "secret123")
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(text.contains("Too many failed sign-ins"), "{text}");
    let history = rapport_ok(&db, &["user", "logins", "locked@example.com"]);
    assert!(history.contains("Web"), "{history}");

    // Signing in: an HttpOnly, SameSite session cookie; the home page greets the user, with
    // what they typed as their name shown as text, not markup.
    let response = {
        let page = browser.get("/login", "").await;
        let login_cookie = cookie_value(&set_cookies(&page), "rapport_login_csrf").unwrap();
        let token = csrf_in(&page.text().await.unwrap());
        browser
            .post(
                "/login",
                &format!("rapport_login_csrf={login_cookie}"),
                form(&[
                    ("csrf", &token),
                    ("email", "rep@example.com"),
                    ("password", "secret123"),
                ]),
            )
            .await
    };
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let session_set = set_cookies(&response);
    let session_header = session_set
        .iter()
        .find(|c| c.starts_with("rapport_session="))
        .unwrap();
    assert!(
        session_header.contains("HttpOnly") && session_header.contains("SameSite=Lax"),
        "{session_header}"
    );
    let session = format!(
        "rapport_session={}",
        cookie_value(&session_set, "rapport_session").unwrap()
    );
    let home = browser.get("/", &session).await;
    assert_eq!(home.status(), StatusCode::OK);
    let html = home.text().await.unwrap();
    assert!(html.contains("&#60;b&#62;Rep&#60;/b&#62; Li"), "{html}");
    assert!(!html.contains("<b>Rep</b>"));

    // Every state-changing form needs the session's token, and a cross-site origin fails
    // even with it.
    let settings = browser.get("/settings", &session).await;
    let page = settings.text().await.unwrap();
    let csrf = csrf_in(&page);
    assert!(
        page.contains("Asia/Shanghai"),
        "time zones come from metadata"
    );
    let change = [("language", "zh_CN"), ("time_zone", "Asia/Shanghai")];
    let without = browser.post("/settings", &session, form(&change)).await;
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let mut wrong = change.to_vec();
    wrong.push(("csrf", "not-the-token"));
    assert_eq!(
        browser
            .post("/settings", &session, form(&wrong))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let mut right = change.to_vec();
    right.push(("csrf", &csrf));
    let cross_site = browser
        .client
        .post(format!("{}/settings", server.base))
        .header(COOKIE, &session)
        .header(ORIGIN, "https://evil.example.com")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&right))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let me = rapport_ok(
        &db,
        &[
            "query",
            "SELECT LanguageLocaleKey FROM User WHERE Email = 'rep@example.com'",
            "--format",
            "csv",
        ],
    );
    assert!(me.contains("en_US"), "nothing changed: {me}");
    // With the token: saved, and the next page is in Chinese.
    let saved = browser.post("/settings", &session, form(&right)).await;
    assert_eq!(
        saved.status(),
        StatusCode::SEE_OTHER,
        "{}",
        saved.text().await.unwrap()
    );
    let page = browser
        .get("/settings?saved=1", &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("设置已保存") && page.contains("lang=\"zh-CN\""),
        "{page}"
    );
    // A value the User object does not accept is refused beside its field.
    let mut bad = vec![
        ("language", "zh_CN"),
        ("time_zone", "Mars/Olympus"),
        ("csrf", &csrf),
    ];
    let refused = browser.post("/settings", &session, form(&bad)).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("field-error"));
    bad.clear();

    // Logging out ends the session in the database: the old cookie no longer works.
    let out = browser
        .post("/logout", &session, form(&[("csrf", &csrf)]))
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(
        set_cookies(&out)
            .iter()
            .any(|c| c.starts_with("rapport_session=;"))
    );
    let after = browser.get("/", &session).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&after), "/login?ended=1");

    // Idle and absolute timeouts (the clock moved by rewriting the session's times).
    let app = db.app().await;
    let age = |column: &'static str, hours: i64| {
        let app = app.clone();
        async move {
            let at = model::value::format_datetime(
                time::OffsetDateTime::now_utc() - time::Duration::hours(hours),
            );
            let mut sql = app.store().sql();
            sql.push("UPDATE rapport_web_session SET ")
                .push(column)
                .push(" = ")
                .text_param(&at)
                .push(" WHERE ended = 0");
            app.store().execute(sql).await.unwrap();
        }
    };
    let session = browser
        .sign_in("rep@example.com", "secret123")
        .await
        .unwrap();
    assert_eq!(browser.get("/", &session).await.status(), StatusCode::OK);
    age("last_seen_at", 3).await;
    assert_eq!(
        browser.get("/", &session).await.status(),
        StatusCode::SEE_OTHER
    );
    let session = browser
        .sign_in("rep@example.com", "secret123")
        .await
        .unwrap();
    age("created_at", 13).await;
    assert_eq!(
        browser.get("/", &session).await.status(),
        StatusCode::SEE_OTHER
    );

    // A password change ends every session of the user.
    let first = browser
        .sign_in("rep@example.com", "secret123")
        .await
        .unwrap();
    let second = browser
        .sign_in("rep@example.com", "secret123")
        .await
        .unwrap();
    let csrf = csrf_in(&browser.get("/settings", &first).await.text().await.unwrap());
    let mismatch = browser
        .post(
            "/settings/password",
            &first,
            form(&[
                ("csrf", &csrf),
                ("current", "secret123"),
                ("new", "newpass123"),
                ("repeat", "other123"),
            ]),
        )
        .await;
    assert_eq!(mismatch.status(), StatusCode::BAD_REQUEST);
    let weak = browser
        .post(
            "/settings/password",
            &first,
            form(&[
                ("csrf", &csrf),
                ("current", "secret123"),
                ("new", "short"),
                ("repeat", "short"),
            ]),
        )
        .await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    let changed = browser
        .post(
            "/settings/password",
            &first,
            form(&[
                ("csrf", &csrf),
                ("current", "secret123"),
                ("new", "newpass123"),
                ("repeat", "newpass123"),
            ]),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&changed), "/login?changed=1");
    assert_eq!(
        browser.get("/", &first).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        browser.get("/", &second).await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(
        browser
            .sign_in("rep@example.com", "secret123")
            .await
            .is_err()
    );
    assert!(
        browser
            .sign_in("rep@example.com", "newpass123")
            .await
            .is_ok()
    );

    // The stylesheet is named by its content and cached for good.
    let page = browser.get("/login", "").await.text().await.unwrap();
    let href = page
        .split("href=\"/static/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let css = browser.get(&format!("/static/{href}"), "").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    server.stop();
}

/// The record's "Who can see this" page offers sharing by hand only to those who may share
/// (the owner, someone above them, an administrator); a reader who may not share sees no
/// form, and a form posted anyway is refused with nothing shared.
async fn only_those_who_may_share_see_the_share_form(db: TestDb) {
    cli_user(
        &db,
        "owner@example.com",
        "Olga Owner",
        Some("Standard User"),
        None,
    );
    cli_user(
        &db,
        "reader@example.com",
        "Rui Reader",
        Some("Standard User"),
        None,
    );
    cli_user(
        &db,
        "third@example.com",
        "Tao Third",
        Some("Standard User"),
        None,
    );
    rapport_ok(&db, &["sharing", "default", "Account", "public-read-only"]);
    let server = Server::start(&db).await;
    let created = server
        .api(&db, "owner@example.com")
        .post("/sobjects/Account", json!({"Name": "Shared Co"}))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let browser = Browser::new(&server.base);
    let page = format!("/r/{id}/sharing");
    let owner = browser
        .sign_in("owner@example.com", "choose1well")
        .await
        .unwrap();
    let shown = browser.get(&page, &owner).await.text().await.unwrap();
    assert!(shown.contains("share-form"), "the owner may share");
    let reader = browser
        .sign_in("reader@example.com", "choose1well")
        .await
        .unwrap();
    let response = browser.get(&page, &reader).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the reader reads the page"
    );
    let shown = response.text().await.unwrap();
    assert!(shown.contains("Public Read Only"), "{shown}");
    assert!(!shown.contains("share-form"), "a reader may not share");
    let refused = browser
        .post(
            &page,
            &reader,
            form(&[
                ("csrf", &csrf_in(&shown)),
                ("with", "third@example.com"),
                ("access", "edit"),
            ]),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("may share it"), "{refused}");
    let third = server.api(&db, "third@example.com");
    let (status, body) = third
        .call(
            "PATCH",
            &format!("/sobjects/Account/{id}"),
            Some(json!({"Description": "edited"})),
        )
        .await;
    assert_eq!(status, 400, "nothing was shared: {body}");
    assert_eq!(
        body[0]["errorCode"], "INSUFFICIENT_ACCESS_OR_READONLY",
        "{body}"
    );
}

/// A list view tells how many records it holds when the tallies answer at no cost (a
/// picklist filter, or none), and otherwise which rows these are, offering to count.
async fn lists_show_the_count_a_tally_answers(db: TestDb) {
    cli_user(&db, "admin@example.com", "Ada Admin", None, None);
    let server = Server::start(&db).await;
    let api = server.api(&db, "admin@example.com");
    for i in 0..60 {
        let industry = if i < 55 { "Energy" } else { "Retail" };
        api.post(
            "/sobjects/Account",
            json!({"Name": format!("Co {i:02}"), "Industry": industry}),
        )
        .await;
    }
    let browser = Browser::new(&server.base);
    let admin = browser
        .sign_in("admin@example.com", "choose1well")
        .await
        .unwrap();
    let page = |path: &'static str| {
        let (browser, admin) = (&browser, &admin);
        async move { browser.get(path, admin).await.text().await.unwrap() }
    };
    let energy = page("/o/Account?view=all&f1=Industry&o1=eq&v1=Energy").await;
    assert!(energy.contains("55 items"), "{energy}");
    // Every record: each picklist's tallies sum to them.
    assert!(page("/o/Account?view=all").await.contains("60 items"));
    let named = page("/o/Account?view=all&f1=Name&o1=ne&v1=Nobody").await;
    assert!(
        named.contains("1–50 · more after these") && !named.contains("60 items"),
        "{named}"
    );
    let counted = page("/o/Account?view=all&f1=Name&o1=ne&v1=Nobody&count=1").await;
    assert!(counted.contains("60 items"), "{counted}");
}
