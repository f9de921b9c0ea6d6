//! `rapport bench http`: a load tool of our own. It starts the server in this process on a
//! free port (or targets `--url`), then for a fixed time keeps N keep-alive connections busy
//! with one kind of request each round, and prints requests per second with the 50th and 99th
//! percentile latencies. The baseline is `GET /services/data` in the same run: the HTTP stack
//! with no database work, the ceiling for everything else.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use app::App;

/// What to run.
pub struct LoadOptions {
    pub connections: usize,
    pub seconds: f64,
    pub rate_limit: u32,
}

pub(crate) struct Round {
    pub name: &'static str,
    pub requests: u64,
    pub records: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub latencies: Vec<u32>,
}

impl Round {
    pub fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies[index]) / 1000.0
    }
}

/// The kinds of request measured.
#[derive(Clone, Copy)]
enum Kind {
    Versions,
    Read,
    Create,
    Update,
    Collection,
}

struct Target {
    client: reqwest::Client,
    api: String,
    base: String,
    token: String,
    ids: Vec<String>,
}

fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Sends one request of `kind`; returns how many records it wrote or read, or `None` on error.
async fn one(target: &Target, kind: Kind, n: u64) -> Option<u64> {
    let id = || &target.ids[(n % target.ids.len() as u64) as usize];
    let request = match kind {
        Kind::Versions => target.client.get(format!("{}/services/data", target.base)),
        Kind::Read => target
            .client
            .get(format!("{}/sobjects/Account/{}", target.api, id()))
            .bearer_auth(&target.token),
        Kind::Create => target
            .client
            .post(format!("{}/sobjects/Account", target.api))
            .bearer_auth(&target.token)
            .json(&json!({"Name": format!("Load {n}"), "Industry": "Technology"})),
        Kind::Update => target
            .client
            .patch(format!("{}/sobjects/Account/{}", target.api, id()))
            .bearer_auth(&target.token)
            .json(&json!({"Phone": format!("+86 21 {:08}", n % 100_000_000)})),
        Kind::Collection => {
            let records: Vec<Value> = (0..200)
                .map(
                    |i| json!({"attributes": {"type": "Account"}, "Name": format!("Load {n}-{i}")}),
                )
                .collect();
            target
                .client
                .post(format!("{}/composite/sobjects", target.api))
                .bearer_auth(&target.token)
                .json(&json!({"allOrNone": true, "records": records}))
        }
    };
    let response = request.send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body = response.bytes().await.ok()?;
    drop(body);
    Some(if matches!(kind, Kind::Collection) {
        200
    } else {
        1
    })
}

/// Keeps `connections` workers busy for `seconds`, each sending one request after another
/// with `send(target, n)` (`n` a fresh pseudo-random number), which answers how many records
/// the request handled, or `None` on error.
pub(crate) async fn timed<T, F, Fut>(
    target: Arc<T>,
    name: &'static str,
    connections: usize,
    seconds: f64,
    send: F,
) -> Round
where
    T: Send + Sync + 'static,
    F: Fn(Arc<T>, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Option<u64>> + Send,
{
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|w| {
            let target = target.clone();
            let send = send.clone();
            tokio::spawn(async move {
                let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ ((w as u64 + 1) << 17);
                let (mut requests, mut records, mut errors, mut latencies) =
                    (0u64, 0u64, 0u64, Vec::new());
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match send(target.clone(), next(&mut seed)).await {
                        Some(count) => records += count,
                        None => errors += 1,
                    }
                    latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                    requests += 1;
                }
                (requests, records, errors, latencies)
            })
        })
        .collect();
    let mut result = Round {
        name,
        requests: 0,
        records: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for worker in workers {
        if let Ok((requests, records, errors, latencies)) = worker.await {
            result.requests += requests;
            result.records += records;
            result.errors += errors;
            result.latencies.extend(latencies);
        }
    }
    result.elapsed = started.elapsed();
    result.latencies.sort_unstable();
    result
}

/// Runs the load against a server of this process on `app`'s database.
pub async fn run(app: &App, options: LoadOptions, out: &mut impl Write) -> anyhow::Result<()> {
    let caller = app.cli_caller(None).await.map_err(crate::cli::explain)?;
    let Some(user) = caller.user_id.clone() else {
        bail!("the load test needs a user: add one with `rapport user add`")
    };
    let email = app
        .get(
            &caller,
            "User",
            &user.to_18(),
            Some(&["Username".to_string()]),
        )
        .await
        .map_err(crate::cli::explain)?
        .get("Username")
        .and_then(model::Value::as_text)
        .unwrap_or_default()
        .to_string();
    let token = app
        .issue_token(&email, 1)
        .await
        .map_err(crate::cli::explain)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = web::LimitSettings {
        requests_per_second: options.rate_limit,
        ..web::LimitSettings::default()
    };
    let server = tokio::spawn(web::serve(app.clone(), listener, settings, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.connections * 2)
        .build()?;
    let api = format!("{base}/services/data/v59.0");
    // Records to read and update.
    let mut ids = Vec::new();
    for batch in 0..10 {
        let records: Vec<Value> = (0..200).map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("Fixture {batch}-{i}")})).collect();
        let results: Value = client
            .post(format!("{api}/composite/sobjects"))
            .bearer_auth(&token)
            .json(&json!({"allOrNone": true, "records": records}))
            .send()
            .await?
            .json()
            .await
            .context("creating the fixture records")?;
        ids.extend(
            results
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["id"].as_str().map(str::to_string)),
        );
    }
    if ids.is_empty() {
        bail!("could not create the fixture records");
    }
    let target = Arc::new(Target {
        client,
        api,
        base,
        token,
        ids,
    });
    writeln!(
        out,
        "backend: {:?}; {} connections, {:.0} s per round",
        app.store().dialect(),
        options.connections,
        options.seconds
    )?;
    writeln!(
        out,
        "{:<34} {:>9} {:>10} {:>11} {:>8} {:>8} {:>7}",
        "round", "requests", "req/s", "records/s", "p50 ms", "p99 ms", "errors"
    )?;
    for (name, kind) in [
        ("baseline: GET /services/data", Kind::Versions),
        ("read by id (all fields)", Kind::Read),
        ("create (one record)", Kind::Create),
        ("update (one field)", Kind::Update),
        ("/composite/sobjects create (200)", Kind::Collection),
    ] {
        let result = timed(
            target.clone(),
            name,
            options.connections,
            options.seconds,
            move |target, n| async move { one(&target, kind, n).await },
        )
        .await;
        let seconds = result.elapsed.as_secs_f64().max(1e-9);
        writeln!(
            out,
            "{:<34} {:>9} {:>10.0} {:>11.0} {:>8.2} {:>8.2} {:>7}",
            result.name,
            result.requests,
            result.requests as f64 / seconds,
            result.records as f64 / seconds,
            result.percentile(0.50),
            result.percentile(0.99),
            result.errors
        )?;
        out.flush()?;
    }
    let _ = stop.send(());
    let _ = server.await;
    Ok(())
}
