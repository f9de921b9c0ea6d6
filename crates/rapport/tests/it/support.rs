//! Test databases (a temporary SQLite file, or a fresh PostgreSQL database), the app on them,
//! the `rapport` binary, and a server process.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use app::records::RecordInput;
use app::users::NewUser;
use app::{App, Caller};
use model::{Lang, RecordId};
use serde_json::Value as Json;

/// Runs a scenario `async fn(TestDb)` once per backend, as tests `sqlite` and `postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = $crate::support::TestDb::sqlite().await;
                    super::$name(db.clone()).await;
                    db.cleanup().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(db) = $crate::support::TestDb::postgres().await else { return };
                    super::$name(db.clone()).await;
                    db.cleanup().await;
                }
            }
        )*
    };
}

/// A database of one test.
#[derive(Clone)]
pub struct TestDb {
    pub url: String,
    /// For PostgreSQL: the server URL (to drop the database) and the database name.
    postgres: Option<(String, String)>,
    /// Keeps the SQLite file's folder alive.
    _dir: Option<std::sync::Arc<tempfile::TempDir>>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        TestDb {
            url,
            postgres: None,
            _dir: Some(std::sync::Arc::new(dir)),
        }
    }

    /// An existing database (not cleaned up).
    pub fn at(url: &str) -> TestDb {
        TestDb {
            url: url.to_string(),
            postgres: None,
            _dir: None,
        }
    }

    /// A new database on the server `RAPPORT_TEST_PG` names, or `None` when it is not set.
    pub async fn postgres() -> Option<TestDb> {
        let server = std::env::var("RAPPORT_TEST_PG")
            .ok()
            .filter(|s| !s.is_empty())?;
        let name = format!(
            "rapport_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            nanos()
        );
        let admin = store::Store::connect(&server)
            .await
            .expect("RAPPORT_TEST_PG must name a reachable PostgreSQL database");
        let mut sql = admin.sql();
        sql.push("CREATE DATABASE ").ident(&name);
        admin.execute(sql).await.unwrap();
        admin.close().await;
        let (base, _) = server
            .rsplit_once('/')
            .expect("RAPPORT_TEST_PG looks like postgres://user@host:port/db");
        Some(TestDb {
            url: format!("{base}/{name}"),
            postgres: Some((server, name)),
            _dir: None,
        })
    }

    pub async fn cleanup(&self) {
        if let Some((server, name)) = &self.postgres {
            let admin = store::Store::connect(server).await.unwrap();
            let mut sql = admin.sql();
            sql.push("DROP DATABASE IF EXISTS ")
                .ident(name)
                .push(" WITH (FORCE)");
            let _ = admin.execute(sql).await;
            admin.close().await;
        }
    }

    pub async fn app(&self) -> App {
        App::open(&self.url).await.unwrap()
    }

    /// The app with an administrator; returns it and the admin as a caller.
    pub async fn app_with_admin(&self) -> (App, Caller) {
        let app = self.app().await;
        let admin = app
            .add_user(
                &Caller::system(),
                NewUser {
                    email: "admin@example.com".into(),
                    password: "secret123".into(),
                    name: "Ada Admin".into(),
                    profile: None,
                    role: None,
                    language: Lang::En,
                },
            )
            .await
            .unwrap();
        (app, Caller::user(admin, Lang::En))
    }
}

/// A Standard User without a role ("Rex Rep"): a caller whose reads sharing restricts.
pub async fn rep(app: &App) -> Caller {
    let rep = app
        .add_user(
            &Caller::system(),
            NewUser {
                email: "rep@example.com".into(),
                password: "secret123".into(),
                name: "Rex Rep".into(),
                profile: Some("Standard User".into()),
                role: None,
                language: Lang::En,
            },
        )
        .await
        .unwrap();
    Caller::user(rep, Lang::En)
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000)
        .unwrap_or(0)
}

/// A record input from JSON.
pub fn input(value: serde_json::Value) -> RecordInput {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// Updates one record (`id` in 15 or 18 characters) with the fields of a JSON object, as
/// `caller`, without a version check.
pub async fn update(
    app: &App,
    caller: &Caller,
    object: &str,
    id: &str,
    fields: serde_json::Value,
) -> app::Result<()> {
    app.update(
        caller,
        object,
        app::records::Update {
            id: id.to_string(),
            input: input(fields),
            if_unmodified_since: None,
        },
    )
    .await
}

/// The id of the one record a query must find.
pub async fn one_id(app: &App, caller: &Caller, soql: &str) -> RecordId {
    let page = app
        .query(
            caller,
            soql,
            app::query::QueryOptions {
                page_size: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total_size, 1, "{soql}");
    page.rows[0].id.clone().unwrap()
}

pub fn id18(id: &RecordId) -> String {
    id.to_18()
}

/// The `rapport` binary built with this test.
pub fn rapport(db: &TestDb) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rapport"));
    command
        .env("RAPPORT_DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn");
    command
}

/// Runs `rapport ARGS` to completion; returns stdout, panicking with stderr on failure.
/// Adds a user through the CLI (password `choose1well`), with a profile and a role when
/// given (the first user of an org is its administrator).
pub fn cli_user(db: &TestDb, email: &str, name: &str, profile: Option<&str>, role: Option<&str>) {
    let mut args = vec![
        "user",
        "add",
        "--email",
        email,
        "--password",
        "choose1well",
        "--name",
        name,
    ];
    if let Some(profile) = profile {
        args.extend(["--profile", profile]);
    }
    if let Some(role) = role {
        args.extend(["--role", role]);
    }
    rapport_ok(db, &args);
}

pub fn rapport_ok(db: &TestDb, args: &[&str]) -> String {
    let output = rapport(db).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "rapport {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `rapport ARGS` expecting failure; returns stderr.
pub fn rapport_err(db: &TestDb, args: &[&str]) -> String {
    let output = rapport(db).args(args).output().unwrap();
    assert!(
        !output.status.success(),
        "rapport {args:?} should have failed"
    );
    String::from_utf8(output.stderr).unwrap()
}

/// A `rapport serve` process on a free port, stopped (SIGTERM) when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    /// A REST client for this server, signed in as `email` with a token the CLI made.
    pub fn api(&self, db: &TestDb, email: &str) -> Api {
        Api {
            client: reqwest::Client::new(),
            base: format!("{}/services/data/v59.0", self.base),
            token: rapport_ok(db, &["token", "--user", email])
                .trim()
                .to_string(),
        }
    }

    pub async fn start(db: &TestDb) -> Server {
        Server::start_with(db, &[]).await
    }

    /// Starts `rapport serve` with extra arguments.
    pub async fn start_with(db: &TestDb, extra: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = rapport(db)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Ok(response) = reqwest::get(format!("{base}/healthz")).await
                && response.status().is_success()
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Server { child, base }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        terminate(&self.child);
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

pub fn kill9(child: &Child) {
    let _ = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status();
}

/// A REST client for one user of a running server.
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    /// The one record a query must find.
    pub async fn one(&self, soql: &str) -> Json {
        let body = self.query(soql).await;
        assert_eq!(body["totalSize"], 1, "{soql}: {body}");
        body["records"][0].clone()
    }

    pub async fn post(&self, path: &str, body: Json) -> Json {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// Sends `method` to `path` with an optional JSON body: the status and the body (null
    /// when empty).
    pub async fn call(&self, method: &str, path: &str, body: Option<Json>) -> (u16, Json) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Json::Null))
    }

    pub async fn create(&self, object: &str, body: Json) -> String {
        self.post(&format!("/sobjects/{object}"), body).await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn query(&self, soql: &str) -> Json {
        let response = self
            .client
            .get(format!("{}/query", self.base))
            .query_pairs(soql)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Json = response.json().await.unwrap();
        assert!(status.is_success(), "{soql}: {status} {body}");
        body
    }

    pub async fn error(&self, soql: &str) -> (u16, String, String) {
        let response = self
            .client
            .get(format!("{}/query", self.base))
            .query_pairs(soql)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Json = response.json().await.unwrap();
        (
            status,
            body[0]["errorCode"].as_str().unwrap_or("").to_string(),
            body[0]["message"].as_str().unwrap_or("").to_string(),
        )
    }

    /// The values of `field` in the records of a query, in order.
    pub async fn column(&self, soql: &str, field: &str) -> Vec<Json> {
        self.query(soql).await["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[field].clone())
            .collect()
    }
    /// GETs `path` with one query parameter: the status and the JSON body.
    pub async fn get_with(&self, path: &str, key: &str, value: &str) -> (u16, Json) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .param(key, value)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }
}

/// reqwest is built without its `query` feature: encode `?q=` by hand.
pub trait QueryPairs {
    fn query_pairs(self, soql: &str) -> Self;
    fn param(self, key: &str, soql: &str) -> Self;
}

impl QueryPairs for reqwest::RequestBuilder {
    fn query_pairs(self, soql: &str) -> Self {
        self.param("q", soql)
    }

    fn param(self, key: &str, soql: &str) -> Self {
        let (client, request) = self.build_split();
        let mut request = request.unwrap();
        let encoded: String = soql
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        request
            .url_mut()
            .set_query(Some(&format!("{key}={encoded}")));
        reqwest::RequestBuilder::from_parts(client, request)
    }
}
