//! The real Salesforce client libraries against a running server: simple-salesforce (Python)
//! and jsforce (Node), pinned and installed outside the repository by
//! `tests/clients/install.sh`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use crate::support::{Server, TestDb, rapport_ok};

crate::both_backends!(simple_salesforce_and_jsforce);

fn clients_dir() -> PathBuf {
    std::env::var_os("RAPPORT_CLIENTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/rapport-clients")
        })
}

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients")
}

/// Installs the clients once per test process (tests run in parallel threads).
fn install() {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    if *installed {
        return;
    }
    let output = Command::new("bash")
        .arg(scripts().join("install.sh"))
        .arg(clients_dir())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "installing the clients failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    *installed = true;
}

fn run(mut command: Command, what: &str) {
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{what}: {stdout}");
}

async fn simple_salesforce_and_jsforce(db: TestDb) {
    install();
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
    rapport_ok(
        &db,
        &[
            "field",
            "add",
            "Account",
            "Ext__c",
            "--type",
            "Text",
            "--unique",
            "true",
            "--external-id",
            "true",
        ],
    );
    let token = rapport_ok(&db, &["token", "--user", "admin@example.com"])
        .trim()
        .to_string();
    let app = rapport_ok(&db, &["app", "add", "--name", "Client tests"]);
    let field = |name: &str| {
        app.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .trim()
            .to_string()
    };
    let (client_id, client_secret) = (field("client_id:"), field("client_secret:"));
    let server = Server::start(&db).await;
    let args = [
        server.base.clone(),
        token,
        "admin@example.com".into(),
        "secret123".into(),
        client_id,
        client_secret,
    ];

    let mut python = Command::new(clients_dir().join("venv/bin/python"));
    python
        .arg(scripts().join("simple_salesforce_test.py"))
        .args(&args);
    run(python, "simple-salesforce");

    let mut node = Command::new("node");
    node.arg(scripts().join("jsforce_test.mjs"))
        .args(&args)
        .env("JSFORCE_DIR", clients_dir().join("node/node_modules"));
    run(node, "jsforce");
    assert!(server.stop().success());
}
