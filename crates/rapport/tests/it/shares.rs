//! Share rows (materialised sharing) answer exactly as the sharing conditions do: the same
//! users' queries, searches and pages give the same rows whether the rows are current or
//! stale, every write keeps them current, and a change of rules makes them stale (reads fall
//! back to the conditions at once) until they are rebuilt. On both backends.

use std::collections::BTreeMap;

use app::query::{Cell, QueryOptions};
use app::records::Update;
use app::users::NewUser;
use app::{App, Caller};
use model::Lang;
use serde_json::json;

use crate::support::{TestDb, input, rapport_ok};

crate::both_backends!(
    share_rows_answer_as_the_sharing_rules_do,
    an_object_made_private_before_its_first_record_builds,
    owners_changing_during_rebuilds_leave_the_rows_right,
);

const QUERIES: [&str; 11] = [
    "SELECT Name FROM Account ORDER BY Name",
    "SELECT Name FROM Account WHERE Industry = 'Energy' ORDER BY Name DESC",
    "SELECT COUNT() FROM Account",
    "SELECT LastName, Account.Name FROM Contact ORDER BY LastName",
    "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account ORDER BY Name",
    "SELECT Name FROM Opportunity WHERE AccountId IN (SELECT Id FROM Account) ORDER BY Name",
    "SELECT Subject FROM Task ORDER BY Subject",
    "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry ORDER BY Industry",
    "SELECT Name FROM Account WHERE Name > 'b' ORDER BY Name LIMIT 3",
    // A sorted read of share rows is the user's own records merged with the others: sorted
    // by a parent's field, then by one with nulls, each cut and offset.
    "SELECT Name, Owner.Name FROM Account ORDER BY Owner.Name DESC, Name LIMIT 4 OFFSET 1",
    "SELECT Name FROM Account ORDER BY Industry NULLS LAST, Name DESC LIMIT 5",
];

/// Every user's answers to every query, a SOSL search and a walk through all pages of the
/// accounts two at a time.
async fn answers(app: &App, users: &[(&str, Caller)]) -> BTreeMap<String, String> {
    let mut all = BTreeMap::new();
    for (name, caller) in users {
        for soql in QUERIES {
            let page = app
                .query(
                    caller,
                    soql,
                    QueryOptions {
                        page_size: 200,
                        ..Default::default()
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("{soql}: {e}"));
            let rows: Vec<String> = page.rows.iter().map(|r| format!("{:?}", r.cells)).collect();
            all.insert(
                format!("{name}: {soql}"),
                format!("{} {rows:?}", page.total_size),
            );
        }
        let found: Vec<String> = app
            .search(caller, "FIND {co} RETURNING Account(Name ORDER BY Name)")
            .await
            .unwrap()
            .iter()
            .map(|r| format!("{:?}", r.cells))
            .collect();
        all.insert(format!("{name}: search"), format!("{found:?}"));
        // Counts of every account the user reads, with and without the recycle bin's (a
        // first page of one row counts the rest).
        for include_deleted in [false, true] {
            let page = app
                .query(
                    caller,
                    "SELECT Name FROM Account",
                    QueryOptions {
                        page_size: 1,
                        include_deleted,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            all.insert(
                format!("{name}: count, recycle bin too: {include_deleted}"),
                page.total_size.to_string(),
            );
        }
        let mut pages = Vec::new();
        let mut options = QueryOptions {
            page_size: 2,
            ..Default::default()
        };
        loop {
            let page = app
                .query(
                    caller,
                    "SELECT Name FROM Account ORDER BY Name",
                    options.clone(),
                )
                .await
                .unwrap();
            pages.push(
                page.rows
                    .iter()
                    .map(|r| match &r.cells[0].1 {
                        Cell::Value(v) => v.to_display(),
                        other => format!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            );
            let Some(start) = page.next_start else {
                break;
            };
            options.start = start;
            options.after = page.next_key;
            options.known_total = Some(page.total_size);
        }
        all.insert(format!("{name}: pages"), pages.join(" | "));
    }
    all
}

/// Whether reads of accounts use the share rows now.
async fn uses_share_rows(app: &App, caller: &Caller) -> bool {
    app.explain(caller, "SELECT Name FROM Account ORDER BY Name")
        .await
        .unwrap()
        .sql
        .contains("__share")
}

/// Lets this process see a change made elsewhere (its security version is re-read every
/// few hundred milliseconds).
async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

async fn share_rows_answer_as_the_sharing_rules_do(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    app.add_role(&admin, "CEO", None).await.unwrap();
    for (role, parent) in [
        ("East Manager", "CEO"),
        ("West Manager", "CEO"),
        ("East Rep", "East Manager"),
        ("West Rep", "West Manager"),
    ] {
        app.add_role(&admin, role, Some(parent)).await.unwrap();
    }
    let mut users = Vec::new();
    for (email, role) in [
        ("ceo@example.com", "CEO"),
        ("east.manager@example.com", "East Manager"),
        ("east.rep@example.com", "East Rep"),
        ("west.manager@example.com", "West Manager"),
        ("west.rep@example.com", "West Rep"),
    ] {
        app.add_user(
            &admin,
            NewUser {
                email: email.into(),
                password: "secret123".into(),
                name: format!("User {email}"),
                profile: Some("Standard User".into()),
                role: Some(role.into()),
                language: Lang::En,
            },
        )
        .await
        .unwrap();
        users.push((email, app.cli_caller(Some(email)).await.unwrap()));
    }
    let caller = |email: &str| users.iter().find(|(e, _)| *e == email).unwrap().1.clone();
    let (east, west, east_manager) = (
        caller("east.rep@example.com"),
        caller("west.rep@example.com"),
        caller("east.manager@example.com"),
    );
    app.set_sharing_default(&admin, "Account", "private")
        .await
        .unwrap();
    let create = |caller: &Caller, object: &'static str, value: serde_json::Value| {
        let app = app.clone();
        let caller = caller.clone();
        async move { app.create(&caller, object, input(value)).await.unwrap() }
    };
    let user_id = |c: &Caller| c.user_id.clone().unwrap().to_18();
    let east_co = create(
        &east,
        "Account",
        json!({"Name": "East Co", "Industry": "Energy"}),
    )
    .await;
    let west_co = create(&west, "Account", json!({"Name": "west co"})).await;
    let beta = create(&west, "Account", json!({"Name": "Beta Co"})).await;
    let alpha = create(
        &west,
        "Account",
        json!({"Name": "Alpha Co", "Industry": "Energy"}),
    )
    .await;
    create(&east_manager, "Account", json!({"Name": "Manager Co"})).await;
    create(&admin, "Account", json!({"Name": "Zeta Co"})).await;
    // The east rep owns a contact at Alpha Co (implicit sharing) …
    let inside = create(
        &admin,
        "Contact",
        json!({"LastName": "Inside", "AccountId": alpha.to_18(), "OwnerId": user_id(&east)}),
    )
    .await;
    create(
        &west,
        "Contact",
        json!({"LastName": "Westerly", "AccountId": west_co.to_18()}),
    )
    .await;
    create(
        &west,
        "Opportunity",
        json!({"Name": "West deal", "StageName": "Prospecting", "CloseDate": "2030-01-01", "AccountId": west_co.to_18()}),
    )
    .await;
    create(
        &admin,
        "Task",
        json!({"Subject": "Call East", "WhatId": east_co.to_18()}),
    )
    .await;
    // … and West Co is shared with the east manager by hand.
    app.share_record(&west, &west_co.to_18(), "east.manager@example.com", "read")
        .await
        .unwrap();
    // A criteria rule and an owner rule.
    rapport_ok(
        &db,
        &[
            "sharing",
            "rule",
            "add",
            "Account",
            "--name",
            "Energy",
            "--where",
            "Industry = 'Energy'",
            "--share-with-role",
            "West Rep",
            "--access",
            "read",
        ],
    );
    rapport_ok(
        &db,
        &[
            "sharing",
            "rule",
            "add",
            "Account",
            "--name",
            "EastToWest",
            "--owned-by-role",
            "East Rep",
            "--share-with-role",
            "West Manager",
            "--access",
            "read",
        ],
    );
    settle().await;

    // Stale rows: the conditions answer. Then built: the rows answer, the same.
    assert!(!uses_share_rows(&app, &east).await);
    let by_conditions = answers(&app, &users).await;
    assert!(
        by_conditions["east.rep@example.com: SELECT Name FROM Account ORDER BY Name"]
            .contains("Alpha Co"),
        "{by_conditions:#?}"
    );
    // Servers rebuild one at a time: while another process holds the rebuild lease, this
    // one's periodic rebuild does nothing; once that lease expires, it takes over.
    let store = store::Store::connect(&db.url).await.unwrap();
    let lease = async |expires_at: i64| {
        let mut tx = store.begin().await.unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        let held = store::lease::take(
            &mut tx,
            "share rebuild",
            "another server",
            now,
            now + expires_at,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        held
    };
    assert!(lease(600_000).await);
    assert_eq!(app.rebuild_shares_as_leader().await.unwrap(), []);
    assert!(!uses_share_rows(&app, &east).await);
    assert!(lease(-1_000).await, "the holder renews its own lease");
    let built = app.rebuild_shares_as_leader().await.unwrap();
    assert_eq!(built, [("Account".to_string(), 6)]);
    assert!(lease(600_000).await, "released once the rebuild is done");
    assert!(lease(-1_000).await);
    assert!(uses_share_rows(&app, &east).await);
    assert!(
        !uses_share_rows(&app, &admin).await,
        "admins read every row as it is"
    );
    assert_eq!(answers(&app, &users).await, by_conditions);
    assert_eq!(app.check_shares().await.unwrap(), Vec::<String>::new());
    // The check reads a snapshot: a write can begin and commit while one is open.
    let mut snapshot = store.begin_snapshot().await.unwrap();
    store::shares::sharing_version_in(&mut snapshot)
        .await
        .unwrap();
    let mut write = tokio::time::timeout(std::time::Duration::from_secs(2), store.begin())
        .await
        .expect("a write begins beside a snapshot")
        .unwrap();
    store::lease::take(&mut write, "a test", "a writer", 0, 1)
        .await
        .unwrap();
    write.commit().await.unwrap();
    drop(snapshot);

    // Writes keep the rows current: a new account, a rename (the sort key), a transfer, a
    // contact moved to another account, a deleted and restored contact, a manual share.
    create(&east, "Account", json!({"Name": "Gamma Co"})).await;
    let rename = |id: &model::RecordId, fields: serde_json::Value| Update {
        id: id.to_18(),
        input: input(fields),
        if_unmodified_since: None,
    };
    app.update(
        &west,
        "Account",
        rename(&west_co, json!({"Name": "Aardvark Co"})),
    )
    .await
    .unwrap();
    // A manual share goes with its owner: shared with the east rep by the west rep, Beta Co
    // is the east rep's to read until the CEO takes it over.
    app.share_record(&west, &beta.to_18(), "east.rep@example.com", "read")
        .await
        .unwrap();
    let east_accounts = || {
        let app = app.clone();
        let east = east.clone();
        async move {
            let page = app
                .query(
                    &east,
                    "SELECT Name FROM Account",
                    QueryOptions {
                        page_size: 50,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            format!("{:?}", page.rows)
        }
    };
    assert!(east_accounts().await.contains("Beta Co"));
    // Who can see a record, and why: the owner's line, implicit sharing, rules, manual shares.
    let why = |caller: &Caller, id: &model::RecordId| {
        let app = app.clone();
        let caller = caller.clone();
        let id = id.to_18();
        async move {
            app.explain_sharing(&caller, "Account", &id).await.map(|e| {
                e.reasons
                    .into_iter()
                    .map(|(reason, users)| {
                        let kind = match reason {
                            app::shares::ReadReason::Owner(_) => "owner".to_string(),
                            app::shares::ReadReason::Related { object, .. } => object,
                            app::shares::ReadReason::Manual(_) => "manual".to_string(),
                            app::shares::ReadReason::Rule(name) => format!("rule {name}"),
                        };
                        let names: Vec<String> = users.into_iter().map(|(_, n)| n).collect();
                        format!("{kind}: {}", names.join(", "))
                    })
                    .collect::<Vec<_>>()
            })
        }
    };
    let alpha_why = why(&east, &alpha).await.unwrap();
    assert!(
        alpha_why.iter().any(|l| l.starts_with("owner: ")),
        "{alpha_why:?}"
    );
    assert!(
        alpha_why.iter().any(|l| l.starts_with("Contact: ")),
        "{alpha_why:?}"
    );
    assert!(
        alpha_why.iter().any(|l| l.starts_with("rule Energy: ")),
        "{alpha_why:?}"
    );
    let beta_why = why(&west, &beta).await.unwrap();
    assert!(
        beta_why.iter().any(|l| l.starts_with("manual: ")),
        "{beta_why:?}"
    );
    assert!(
        why(&east, &west_co).await.is_err(),
        "no explanation for a record one cannot see"
    );
    app.update(
        &admin,
        "Account",
        rename(
            &beta,
            json!({"OwnerId": user_id(&caller("ceo@example.com"))}),
        ),
    )
    .await
    .unwrap();
    assert!(!east_accounts().await.contains("Beta Co"));
    app.update(
        &admin,
        "Contact",
        rename(&inside, json!({"AccountId": west_co.to_18()})),
    )
    .await
    .unwrap();
    let outside = create(
        &admin,
        "Contact",
        json!({"LastName": "Outside", "AccountId": alpha.to_18(), "OwnerId": user_id(&east_manager)}),
    )
    .await;
    app.delete(&admin, &outside.to_18()).await.unwrap();
    app.share_record(&admin, &alpha.to_18(), "ceo@example.com", "edit")
        .await
        .unwrap();
    // Field history is read with its record: the west rep's rename is not the east rep's
    // to see, and is the west manager's.
    let hidden = create(&west, "Account", json!({"Name": "Hidden Co"})).await;
    app.update(
        &west,
        "Account",
        rename(&hidden, json!({"Name": "Hidden Co 2"})),
    )
    .await
    .unwrap();
    let renames = |caller: &Caller| {
        let app = app.clone();
        let caller = caller.clone();
        async move {
            let page = app
                .query(
                    &caller,
                    "SELECT OldValue FROM AccountHistory WHERE Field = 'Name'",
                    QueryOptions {
                        page_size: 50,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            format!("{:?}", page.rows)
        }
    };
    assert!(!renames(&east).await.contains("Hidden Co"));
    assert!(
        renames(&caller("west.manager@example.com"))
            .await
            .contains("Hidden Co")
    );
    // An account in the recycle bin: counted by queryAll only.
    app.delete(&west, &hidden.to_18()).await.unwrap();
    assert!(
        uses_share_rows(&app, &east).await,
        "writes keep the rows current"
    );
    assert_eq!(app.check_shares().await.unwrap(), Vec::<String>::new());
    let by_rows = answers(&app, &users).await;
    assert!(
        !by_rows["east.rep@example.com: SELECT Name FROM Account ORDER BY Name"]
            .contains("Alpha Co"),
        "the contact that opened Alpha Co moved away"
    );
    app.undelete(&admin, &outside.to_18()).await.unwrap();
    assert_eq!(app.check_shares().await.unwrap(), Vec::<String>::new());
    app.delete(&admin, &outside.to_18()).await.unwrap();
    // The conditions agree with the rows the writes left.
    app.store().bump_sharing_version().await.unwrap();
    settle().await;
    assert!(!uses_share_rows(&app, &east).await);
    assert_eq!(answers(&app, &users).await, by_rows);

    // A rule removed takes effect at once (the rows go stale), and again once rebuilt.
    rapport_ok(&db, &["sharing", "rule", "remove", "Account", "Energy"]);
    settle().await;
    let without_rule = answers(&app, &users).await;
    assert_ne!(without_rule, by_rows);
    let energy = "west.rep@example.com: SELECT Name FROM Account WHERE Industry = 'Energy' ORDER BY Name DESC";
    assert!(by_rows[energy].contains("East Co"), "{}", by_rows[energy]);
    assert!(
        !without_rule[energy].contains("East Co"),
        "{}",
        without_rule[energy]
    );
    let printed = rapport_ok(&db, &["sharing", "rebuild"]);
    assert!(printed.contains("Account: share rows rebuilt"), "{printed}");
    settle().await;
    assert!(uses_share_rows(&app, &east).await);
    assert_eq!(answers(&app, &users).await, without_rule);
    let printed = rapport_ok(&db, &["sharing", "check"]);
    assert!(printed.contains("share rows match"), "{printed}");

    // A role change moves a rep's records into another branch at once.
    let manager_accounts = "east.manager@example.com: SELECT Name FROM Account ORDER BY Name";
    assert!(!without_rule[manager_accounts].contains("Alpha Co"));
    rapport_ok(
        &db,
        &[
            "user",
            "update",
            "west.rep@example.com",
            "--role",
            "East Rep",
        ],
    );
    settle().await;
    let moved = answers(&app, &users).await;
    assert!(
        moved[manager_accounts].contains("Alpha Co"),
        "{}",
        moved[manager_accounts]
    );
    app.rebuild_shares().await.unwrap();
    assert_eq!(answers(&app, &users).await, moved);
    assert_eq!(app.check_shares().await.unwrap(), Vec::<String>::new());
}

/// Rows are built for an object made private while it has no records (there is no share
/// table to analyse yet), and the object's first record then reads through them.
async fn an_object_made_private_before_its_first_record_builds(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    app.set_sharing_default(&admin, "Case", "private")
        .await
        .unwrap();
    let built = app.rebuild_shares().await.unwrap();
    assert!(
        built
            .iter()
            .any(|(object, records)| object == "Case" && *records == 0),
        "{built:?}"
    );
    app.create(&admin, "Case", input(json!({"Subject": "First"})))
        .await
        .unwrap();
    app.add_user(
        &admin,
        NewUser {
            email: "rep@example.com".into(),
            password: "secret123".into(),
            name: "Rep".into(),
            profile: Some("Standard User".into()),
            role: None,
            language: Lang::En,
        },
    )
    .await
    .unwrap();
    let rep = app.cli_caller(Some("rep@example.com")).await.unwrap();
    settle().await;
    app.rebuild_shares().await.unwrap();
    let seen = app
        .query(
            &rep,
            "SELECT Id FROM Case",
            QueryOptions {
                page_size: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(seen.total_size, 0, "a private case of the admin's");
}

/// Owners change while rebuilds run: neither side may write rows computed from facts the
/// other has changed since it read them (on PostgreSQL a rebuild batch once read an owner,
/// a transfer committed its rows, and the batch then replaced them with the old owner's).
async fn owners_changing_during_rebuilds_leave_the_rows_right(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let mut owners = Vec::new();
    for email in ["one@example.com", "two@example.com"] {
        app.add_user(
            &admin,
            NewUser {
                email: email.into(),
                password: "secret123".into(),
                name: email.into(),
                profile: Some("Standard User".into()),
                role: None,
                language: Lang::En,
            },
        )
        .await
        .unwrap();
        let caller = app.cli_caller(Some(email)).await.unwrap();
        owners.push(caller.user_id.clone().unwrap().to_18());
    }
    app.set_sharing_default(&admin, "Account", "private")
        .await
        .unwrap();
    let mut accounts = Vec::new();
    for i in 0..120 {
        let id = app
            .create(
                &admin,
                "Account",
                input(json!({"Name": format!("Co {i}"), "OwnerId": owners[i % 2]})),
            )
            .await
            .unwrap();
        accounts.push(id.to_18());
    }
    app.rebuild_shares().await.unwrap();
    let writer = {
        let (app, admin) = (app.clone(), admin.clone());
        tokio::spawn(async move {
            for round in 0..4 {
                for (i, id) in accounts.iter().enumerate() {
                    let owner = &owners[(i + round + 1) % 2];
                    crate::support::update(&app, &admin, "Account", id, json!({"OwnerId": owner}))
                        .await
                        .unwrap();
                }
            }
        })
    };
    // Rebuilds one after another while the writer runs (the graph does not change, so rows
    // built for any version must be the right ones).
    while !writer.is_finished() {
        app.store().bump_sharing_version().await.unwrap();
        app.rebuild_shares().await.unwrap();
    }
    writer.await.unwrap();
    assert_eq!(app.check_shares().await.unwrap(), Vec::<String>::new());
}
