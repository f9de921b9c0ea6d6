//! Real processes: the server's lifecycle, two servers sharing one database, and a bulk
//! insert killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use model::Value;
use serde_json::Value as Json;

use crate::support::{Server, TestDb, kill9, rapport, rapport_err, rapport_ok};

crate::both_backends!(
    server_starts_answers_and_stops_on_sigterm,
    metadata_changes_reach_every_process_within_a_second,
    killed_bulk_insert_loses_no_committed_batch,
    backup_while_serving,
    processes_starting_together_on_a_new_database_seed_it_once,
    postgres_connections_cost_parallel_workers_unless_the_operator_did,
    a_database_from_a_newer_rapport_is_refused,
);

async fn server_starts_answers_and_stops_on_sigterm(db: TestDb) {
    let server = Server::start(&db).await;
    let health: Json = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let response = reqwest::get(format!("{}/services/data/", server.base))
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/json;charset=UTF-8"
    );
    let versions: Json = response.json().await.unwrap();
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.first().unwrap()["version"], "42.0");
    assert_eq!(versions.last().unwrap()["version"], "62.0");
    assert_eq!(
        versions.iter().find(|v| v["version"] == "59.0").unwrap()["label"],
        "Winter '24"
    );
    let without_slash: Json = reqwest::get(format!("{}/services/data", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(without_slash.as_array().unwrap().len(), versions.len());
    let status = server.stop();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
}

async fn describe_has_field(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    field: &str,
) -> Option<String> {
    let describe: Json = client
        .get(format!(
            "{base}/services/data/v59.0/sobjects/Account/describe"
        ))
        .bearer_auth(token)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    describe["fields"]
        .as_array()?
        .iter()
        .find(|f| f["name"] == field)
        .map(|f| f["label"].as_str().unwrap_or("").to_string())
}

async fn metadata_changes_reach_every_process_within_a_second(db: TestDb) {
    rapport_ok(
        &db,
        &[
            "user",
            "add",
            "--email",
            "admin@example.com",
            "--password",
            "secret123",
            "--name",
            "Ada Admin",
        ],
    );
    let token = rapport_ok(&db, &["token", "--user", "admin@example.com"])
        .trim()
        .to_string();
    let (a, b) = (Server::start(&db).await, Server::start(&db).await);
    let client = reqwest::Client::new();
    for server in [&a, &b] {
        assert!(
            describe_has_field(&client, &server.base, &token, "Region__c")
                .await
                .is_none()
        );
    }
    // A third process (the CLI) changes metadata; both servers must see it within a second.
    rapport_ok(
        &db,
        &[
            "field",
            "add",
            "Account",
            "Region__c",
            "--type",
            "Text",
            "--label",
            "Region",
        ],
    );
    let changed = Instant::now();
    for server in [&a, &b] {
        loop {
            if describe_has_field(&client, &server.base, &token, "Region__c")
                .await
                .as_deref()
                == Some("Region")
            {
                break;
            }
            assert!(
                changed.elapsed() < Duration::from_secs(1),
                "{} did not see the new field within a second",
                server.base
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // A rename too, and a write of the new field through one process read through the other.
    rapport_ok(
        &db,
        &[
            "label",
            "set",
            "Account.Region__c",
            "--singular",
            "Territory",
        ],
    );
    let renamed = Instant::now();
    for server in [&a, &b] {
        while describe_has_field(&client, &server.base, &token, "Region__c")
            .await
            .as_deref()
            != Some("Territory")
        {
            assert!(
                renamed.elapsed() < Duration::from_secs(1),
                "{} did not see the rename within a second",
                server.base
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let created: Json = client
        .post(format!("{}/services/data/v59.0/sobjects/Account", a.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({"Name": "Shared", "Region__c": "APAC"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let read: Json = client
        .get(format!(
            "{}/services/data/v59.0/sobjects/Account/{id}",
            b.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["Region__c"], "APAC");
    assert!(a.stop().success());
    assert!(b.stop().success());
}

async fn killed_bulk_insert_loses_no_committed_batch(db: TestDb) {
    rapport_ok(
        &db,
        &[
            "user",
            "add",
            "--email",
            "admin@example.com",
            "--password",
            "secret123",
            "--name",
            "Ada Admin",
        ],
    );
    let batch = 500u64;
    let mut child = rapport(&db)
        .args(["seed", "--scale", "1000000", "--batch", &batch.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    // Kill it after it has committed a few batches, in the middle of the next.
    let mut committed_lines = 0;
    for line in BufReader::new(stderr).lines() {
        if line.unwrap().starts_with("committed") {
            committed_lines += 1;
            if committed_lines == 3 {
                std::thread::sleep(Duration::from_millis(5));
                kill9(&child);
                break;
            }
        }
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the seeding process was killed");
    let app = db.app().await;
    let admin = app.cli_caller(None).await.unwrap();
    let accounts = app
        .find(&admin, "Account", &["Id"], None, vec![], None)
        .await
        .unwrap();
    let contacts = app
        .find(&admin, "Contact", &["AccountId"], None, vec![], None)
        .await
        .unwrap();
    let opportunities = app
        .find(&admin, "Opportunity", &["AccountId"], None, vec![], None)
        .await
        .unwrap();
    let n = accounts.len() as u64;
    assert!(n >= 3 * batch, "the committed batches are all there ({n})");
    assert!(n < 1_000_000);
    assert_eq!(n % batch, 0, "no half-written batch ({n} accounts)");
    assert_eq!(contacts.len() as u64, n);
    assert_eq!(opportunities.len() as u64, n);
    let ids: std::collections::HashSet<_> =
        accounts.iter().filter_map(|a| a.id().cloned()).collect();
    assert!(
        contacts
            .iter()
            .all(|c| matches!(c.get("AccountId"), Some(Value::Id(id)) if ids.contains(id)))
    );
    // The database is still healthy and writable.
    let more = rapport_ok(&db, &["seed", "--scale", "10", "--batch", "10"]);
    assert!(more.contains("Account: 10"));
    app.close().await;
}

async fn backup_while_serving(db: TestDb) {
    rapport_ok(
        &db,
        &[
            "user",
            "add",
            "--email",
            "admin@example.com",
            "--password",
            "secret123",
            "--name",
            "Ada Admin",
        ],
    );
    rapport_ok(&db, &["seed", "--scale", "200", "--batch", "100"]);
    let server = Server::start(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.out");
    let file = file.to_str().unwrap();
    rapport_ok(&db, &["backup", file]);
    assert!(
        rapport(&db)
            .args(["backup", file])
            .output()
            .unwrap()
            .status
            .code()
            != Some(0),
        "an existing file is not overwritten"
    );
    let written = std::fs::read(file).unwrap();
    if db.url.starts_with("sqlite:") {
        let copy = TestDb::at(&format!("sqlite://{file}"));
        let app = copy.app().await;
        let admin = app.cli_caller(None).await.unwrap();
        assert_eq!(
            app.find(&admin, "Account", &["Id"], None, vec![], None)
                .await
                .unwrap()
                .len(),
            200
        );
        app.close().await;
    } else {
        let text = String::from_utf8_lossy(&written);
        assert!(
            text.contains("CREATE TABLE public.account"),
            "a pg_dump script"
        );
    }
    assert!(server.stop().success());
}

async fn processes_starting_together_on_a_new_database_seed_it_once(db: TestDb) {
    let children: Vec<_> = (0..3)
        .map(|_| {
            rapport(&db)
                .arg("migrate")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let app = db.app().await;
    let system = app::Caller::system();
    assert_eq!(
        app.find(&system, "Organization", &["Id"], None, vec![], None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.find(&system, "Profile", &["Id"], None, vec![], None)
            .await
            .unwrap()
            .len(),
        6
    );
    app.close().await;
}

/// On PostgreSQL every connection costs parallel workers at 4000 (their start doubled a
/// page-sized read), unless the operator has set the cost: then their value stands.
async fn postgres_connections_cost_parallel_workers_unless_the_operator_did(db: TestDb) {
    let app = db.app().await;
    if app.store().dialect() != store::Dialect::Postgres {
        return;
    }
    let setting = |app: app::App| async move {
        let (rows, _) = app
            .store()
            .baseline_rows(
                "SELECT current_setting('parallel_setup_cost') || ' ' || current_database()",
                &[],
                &[store::bench::Kind::Text],
            )
            .await
            .unwrap();
        rows[0].clone()
    };
    let answer = setting(app.clone()).await;
    let (cost, database) = answer.split_once(' ').unwrap();
    assert_eq!(cost, "4000");
    let mut sql = app.store().sql();
    sql.push("ALTER DATABASE ")
        .ident(database)
        .push(" SET parallel_setup_cost = 1234");
    app.store().execute(sql).await.unwrap();
    app.close().await;
    let answer = setting(db.app().await).await;
    assert!(answer.starts_with("1234 "), "{answer}");
}

/// A binary older than its database stops before writing what the newer schema would refuse
/// or misread.
async fn a_database_from_a_newer_rapport_is_refused(db: TestDb) {
    let app = db.app().await;
    let mut sql = app.store().sql();
    sql.push("INSERT INTO rapport_migration (version, name, applied_at) VALUES (9999, 'from the future', '2030-01-01')");
    app.store().execute(sql).await.unwrap();
    app.close().await;
    let refused = rapport_err(&db, &["migrate"]);
    assert!(
        refused.contains("migrated by a newer Rapport (migration 9999"),
        "{refused}"
    );
}
