//! `rapport bench ui`: the web UI's pages under load, as one signed-in user (signed in through
//! the login form, like a browser) on N keep-alive connections: the home page, a list view,
//! a record page and the opportunity board, with the 50th, 95th and 99th percentile times.
//! Baselines in the same run: `GET /services/data` (the HTTP stack, no database work) and the
//! list view's own question asked through the REST API's `/query` (the same data work,
//! without the page).

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, bail};
use serde_json::Value;

use app::App;

/// What to run.
pub struct UiLoadOptions {
    pub connections: usize,
    pub seconds: f64,
    pub email: String,
    pub password: String,
}

/// The requests measured, one kind per round.
#[derive(Clone, Copy)]
enum Page {
    Versions,
    ListQuery,
    Home,
    List,
    Record,
    Board,
    BoardAll,
}

struct Target {
    client: reqwest::Client,
    base: String,
    cookie: String,
    token: String,
    /// Records of the user's list, for record pages.
    ids: Vec<String>,
    list_soql: String,
}

/// `/services/data/v59.0/query?q=…`.
fn query_url(base: &str, soql: &str) -> String {
    let q = serde_urlencoded::to_string([("q", soql)]).unwrap_or_default();
    format!("{base}/services/data/v59.0/query?{q}")
}

async fn one(target: &Target, page: Page, n: u64) -> Option<u64> {
    let get = |path: String| {
        target
            .client
            .get(format!("{}{path}", target.base))
            .header(reqwest::header::COOKIE, &target.cookie)
    };
    let request = match page {
        Page::Versions => target.client.get(format!("{}/services/data", target.base)),
        Page::ListQuery => target
            .client
            .get(query_url(&target.base, &target.list_soql))
            .bearer_auth(&target.token),
        Page::Home => get("/".into()),
        Page::List => get("/o/Account".into()),
        Page::Record => get(format!(
            "/r/{}",
            target.ids[(n % target.ids.len() as u64) as usize]
        )),
        Page::Board => get("/o/Opportunity/board".into()),
        Page::BoardAll => get("/o/Opportunity/board?view=all".into()),
    };
    match request.send().await {
        Ok(response) if response.status().is_success() => response.bytes().await.ok().map(|_| 1),
        _ => None,
    }
}

/// Signs in through the login form as a browser does; returns the session cookie.
async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    options: &UiLoadOptions,
) -> anyhow::Result<String> {
    let page = client.get(format!("{base}/login")).send().await?;
    let login_cookie = page
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rapport_login_csrf="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
        .context("the login page set no CSRF cookie")?;
    let csrf = login_cookie
        .trim_start_matches("rapport_login_csrf=")
        .to_string();
    let response = client
        .post(format!("{base}/login"))
        .header(reqwest::header::COOKIE, &login_cookie)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(serde_urlencoded::to_string([
            ("csrf", csrf.as_str()),
            ("email", options.email.as_str()),
            ("password", options.password.as_str()),
        ])?)
        .send()
        .await?;
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rapport_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
        .with_context(|| {
            format!(
                "signing in as {} failed ({})",
                options.email,
                response.status()
            )
        })
}

/// Runs the load against a server of this process on `app`'s database.
pub async fn run(app: &App, options: UiLoadOptions, out: &mut impl Write) -> anyhow::Result<()> {
    let token = app
        .issue_token(&options.email, 1)
        .await
        .map_err(crate::cli::explain)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(web::serve(
        app.clone(),
        listener,
        web::LimitSettings::default(),
        async {
            let _ = stopped.await;
        },
    ));
    // No redirects: a failed sign-in must not look like a page.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.connections * 2)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie = sign_in(&client, &base, &options).await?;
    // The list view's question: the user's accounts by name, first page.
    let me = app
        .user_id_by_email(&options.email)
        .await
        .map_err(crate::cli::explain)?
        .context("no such user")?;
    let list_soql = format!(
        "SELECT Id, Name, Type, Industry, Phone, OwnerId, Owner.Name FROM Account WHERE OwnerId = '{}' ORDER BY Name ASC LIMIT 50",
        me.to_18()
    );
    let ids: Vec<String> = {
        let body: Value = client
            .get(query_url(&base, &list_soql))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        body["records"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["Id"].as_str().map(str::to_string))
            .collect()
    };
    if ids.is_empty() {
        bail!(
            "{} owns no accounts to open: seed an org first (`rapport seed --scale N --users M`)",
            options.email
        );
    }
    let target = Arc::new(Target {
        client,
        base,
        cookie,
        token,
        ids,
        list_soql,
    });
    writeln!(
        out,
        "backend: {:?}; as {}; {} connections, {:.0} s per round",
        app.store().dialect(),
        options.email,
        options.connections,
        options.seconds
    )?;
    writeln!(
        out,
        "{:<40} {:>9} {:>8} {:>8} {:>8} {:>8} {:>7}",
        "round", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"
    )?;
    for (name, page) in [
        ("baseline: GET /services/data", Page::Versions),
        ("baseline: the list's SOQL via /query", Page::ListQuery),
        ("home /", Page::Home),
        ("list view /o/Account (mine, by name)", Page::List),
        ("record page /r/{id} (an account)", Page::Record),
        ("board /o/Opportunity/board (mine)", Page::Board),
        ("board ?view=all", Page::BoardAll),
    ] {
        let result = crate::load::timed(
            target.clone(),
            name,
            options.connections,
            options.seconds,
            move |target, n| async move { one(&target, page, n).await },
        )
        .await;
        let seconds = result.elapsed.as_secs_f64().max(1e-9);
        writeln!(
            out,
            "{:<40} {:>9} {:>8.0} {:>8.2} {:>8.2} {:>8.2} {:>7}",
            name,
            result.requests,
            result.requests as f64 / seconds,
            result.percentile(0.50),
            result.percentile(0.95),
            result.percentile(0.99),
            result.errors
        )?;
        out.flush()?;
    }
    let _ = stop.send(());
    let _ = server.await;
    Ok(())
}
