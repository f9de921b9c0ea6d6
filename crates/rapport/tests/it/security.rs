//! Object permissions: what a profile may do with each object, enforced on every path that
//! reads or writes records (SOQL with its parent paths, child subqueries, semi-joins and
//! aggregates; SOSL; REST reads; creates, updates, deletes, undeletes) and changed by an
//! administrator with immediate effect. On both backends.

use app::query::{Cell, QueryOptions};
use app::records::Update;
use app::users::NewUser;
use app::{App, Caller};
use model::Lang;
use serde_json::json;

use crate::support::{Api, Server, TestDb, input, rapport_ok};

crate::both_backends!(object_permissions_hold_on_every_path);

async fn code(app: &App, caller: &Caller, soql: &str) -> String {
    match app
        .query(
            caller,
            soql,
            QueryOptions {
                page_size: 200,
                ..Default::default()
            },
        )
        .await
    {
        Ok(page) => format!("ok:{}", page.total_size),
        Err(app::AppError::Rejected(errors)) => errors[0].code.as_str().to_string(),
        Err(other) => panic!("{soql}: {other}"),
    }
}

/// Adds a user (password `secret123`) and returns them as a caller.
async fn add_user(
    app: &App,
    admin: &Caller,
    email: &str,
    profile: Option<&str>,
    role: Option<&str>,
) -> Caller {
    app.add_user(
        admin,
        NewUser {
            email: email.into(),
            password: "secret123".into(),
            name: format!("User {email}"),
            profile: profile.map(str::to_string),
            role: role.map(str::to_string),
            language: Lang::En,
        },
    )
    .await
    .unwrap();
    app.cli_caller(Some(email)).await.unwrap()
}

fn error_code<T: std::fmt::Debug>(result: app::Result<T>) -> String {
    match result {
        Ok(value) => format!("ok:{value:?}"),
        Err(app::AppError::Rejected(errors)) => errors[0].code.as_str().to_string(),
        Err(other) => panic!("{other}"),
    }
}

async fn object_permissions_hold_on_every_path(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    for (email, profile) in [
        ("rep@example.com", "Standard User"),
        ("reader@example.com", "Read Only"),
    ] {
        app.add_user(
            &admin,
            NewUser {
                email: email.into(),
                password: "secret123".into(),
                name: "Some One".into(),
                profile: Some(profile.into()),
                role: None,
                language: Lang::En,
            },
        )
        .await
        .unwrap();
    }
    let rep = app.cli_caller(Some("rep@example.com")).await.unwrap();
    let reader = app.cli_caller(Some("reader@example.com")).await.unwrap();

    // A new org's defaults: the rep works with sales records; the reader only reads.
    let account = app
        .create(&rep, "Account", input(json!({"Name": "Deal Co"})))
        .await
        .unwrap();
    let opportunity = app
        .create(
            &rep,
            "Opportunity",
            input(json!({"Name": "Big deal", "StageName": "Prospecting", "CloseDate": "2030-01-01", "AccountId": account.to_18()})),
        )
        .await
        .unwrap();
    app.create(
        &rep,
        "Contact",
        input(json!({"LastName": "Buyer", "AccountId": account.to_18()})),
    )
    .await
    .unwrap();
    app.create(
        &admin,
        "Task",
        input(json!({"Subject": "Call about the deal", "WhatId": opportunity.to_18()})),
    )
    .await
    .unwrap();
    assert_eq!(
        code(&app, &reader, "SELECT Name FROM Account").await,
        "ok:1"
    );
    assert_eq!(
        error_code(
            app.create(&reader, "Account", input(json!({"Name": "Nope"})))
                .await
        ),
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );
    assert_eq!(
        error_code(
            crate::support::update(
                &app,
                &reader,
                "Account",
                &account.to_18(),
                json!({"Name": "Renamed"})
            )
            .await
        ),
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );
    assert_eq!(
        error_code(app.delete(&reader, &account.to_18()).await),
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );
    // Object permissions are the administrators': a standard user cannot read them, or give
    // themselves more.
    assert_eq!(
        code(&app, &rep, "SELECT Id FROM ObjectPermissions").await,
        "INVALID_TYPE"
    );
    assert_eq!(
        error_code(
            app.change_object_permissions(
                &rep,
                "Standard User",
                "Account",
                &["modify-all".into()],
                true
            )
            .await
        ),
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );

    // The administrator takes Opportunity away from standard users (read, and with it
    // everything that needs read).
    let left = app
        .change_object_permissions(
            &admin,
            "Standard User",
            "Opportunity",
            &["read".into()],
            false,
        )
        .await
        .unwrap();
    assert_eq!(left, app::access::ObjectAccess::default());
    for soql in [
        "SELECT Id FROM Opportunity",
        "SELECT COUNT() FROM Opportunity",
        "SELECT StageName, COUNT(Id) FROM Opportunity GROUP BY StageName",
        "SELECT Name, (SELECT Name FROM Opportunities) FROM Account",
        "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity)",
        "SELECT Id, Opportunity.Name FROM OpportunityContactRole",
    ] {
        assert_eq!(code(&app, &rep, soql).await, "INVALID_TYPE", "{soql}");
        assert!(
            code(&app, &admin, soql).await.starts_with("ok:"),
            "the administrator still can: {soql}"
        );
    }
    assert_eq!(
        error_code(app.explain(&rep, "SELECT Id FROM Opportunity").await),
        "INVALID_TYPE"
    );
    assert_eq!(
        error_code(
            app.get(&rep, "Opportunity", &opportunity.to_18(), None)
                .await
        ),
        "INVALID_TYPE"
    );
    assert_eq!(
        error_code(
            app.create(
                &rep,
                "Opportunity",
                input(json!({"Name": "Another", "StageName": "Prospecting", "CloseDate": "2030-01-01"}))
            )
            .await
        ),
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );
    assert_eq!(
        error_code(app.delete(&rep, &opportunity.to_18()).await),
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );
    // SOSL: named, refused; not named, not searched.
    assert_eq!(
        error_code(
            app.search(&rep, "FIND {deal} RETURNING Opportunity(Name)")
                .await
        ),
        "INVALID_TYPE"
    );
    let found: Vec<String> = app
        .search(&rep, "FIND {deal}")
        .await
        .unwrap()
        .iter()
        .map(|r| r.object.to_string())
        .collect();
    assert_eq!(found, ["Account", "Task"]);
    let found: Vec<String> = app
        .search(&admin, "FIND {deal}")
        .await
        .unwrap()
        .iter()
        .map(|r| r.object.to_string())
        .collect();
    assert_eq!(found, ["Account", "Opportunity", "Task"]);
    // A polymorphic parent the caller may not read reads as empty.
    let what = |caller: &Caller| {
        let app = app.clone();
        let caller = caller.clone();
        async move {
            let page = app
                .query(
                    &caller,
                    "SELECT Subject, What.Name FROM Task",
                    QueryOptions {
                        page_size: 10,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            format!("{:?}", page.rows[0].cells[1].1)
        }
    };
    assert!(what(&admin).await.contains("Big deal"));
    assert_eq!(what(&rep).await, format!("{:?}", Cell::Parent(None)));

    // Read Only loses Account: a parent path to it is refused, the rest still reads.
    app.change_object_permissions(&admin, "Read Only", "Account", &["read".into()], false)
        .await
        .unwrap();
    assert_eq!(
        code(&app, &reader, "SELECT LastName FROM Contact").await,
        "ok:1"
    );
    assert_eq!(
        code(&app, &reader, "SELECT LastName, Account.Name FROM Contact").await,
        "INVALID_TYPE"
    );
    // Over REST the object is not there for them: not in describe, 404 by URL.
    let token = rapport_ok(&db, &["token", "--user", "reader@example.com"])
        .trim()
        .to_string();
    let server = Server::start(&db).await;
    let api = Api {
        client: reqwest::Client::new(),
        base: format!("{}/services/data/v59.0", server.base),
        token,
    };
    let (status, global) = api.get_with("/sobjects", "x", "").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = global["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert!(
        names.contains(&"Contact") && !names.contains(&"Account"),
        "{names:?}"
    );
    assert!(!names.contains(&"ObjectPermissions"));
    for path in [
        "/sobjects/Account/describe".to_string(),
        format!("/sobjects/Account/{}", account.to_18()),
    ] {
        let (status, body) = api.get_with(&path, "x", "").await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    drop(server);

    // Granting delete brings read and edit with it, not create; the CLI does the same, and
    // another process sees it.
    let back = app
        .change_object_permissions(
            &admin,
            "Standard User",
            "Opportunity",
            &["delete".into()],
            true,
        )
        .await
        .unwrap();
    assert!(back.read && back.edit && back.delete && !back.create && !back.view_all);
    assert_eq!(code(&app, &rep, "SELECT Id FROM Opportunity").await, "ok:1");
    assert_eq!(
        error_code(
            app.create(
                &rep,
                "Opportunity",
                input(json!({"Name": "Another", "StageName": "Prospecting", "CloseDate": "2030-01-01"}))
            )
            .await
        ),
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );
    let printed = rapport_ok(
        &db,
        &[
            "profile",
            "object",
            "standard user",
            "opportunity",
            "--grant",
            "create",
        ],
    );
    assert_eq!(
        printed.trim(),
        "standard user on opportunity: read, create, edit, delete"
    );
    // The CLI was another process: this one sees the change within a quarter second.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.create(
        &rep,
        "Opportunity",
        input(json!({"Name": "Another", "StageName": "Prospecting", "CloseDate": "2030-01-01"})),
    )
    .await
    .unwrap();
    app.delete(&rep, &opportunity.to_18()).await.unwrap();
    assert_eq!(code(&app, &rep, "SELECT Id FROM Opportunity").await, "ok:1");

    // Custom objects start with each profile's Account permissions.
    rapport_ok(&db, &["object", "add", "Widget__c", "--label", "Widget"]);
    let app = db.app().await;
    app.create(&rep, "Widget__c", input(json!({"Name": "W1"})))
        .await
        .unwrap();
    assert_eq!(code(&app, &rep, "SELECT Name FROM Widget__c").await, "ok:1");
    assert_eq!(
        code(&app, &reader, "SELECT Name FROM Widget__c").await,
        "INVALID_TYPE",
        "Read Only had lost Account, so it has no Widget access either"
    );
    let error = crate::support::rapport_err(
        &db,
        &[
            "profile",
            "object",
            "Standard User",
            "Account",
            "--grant",
            "fly",
        ],
    );
    assert!(error.contains("unknown object permission 'fly'"), "{error}");
}

crate::both_backends!(records_are_shared_by_owner_role_and_default);

/// Two branches of a role tree (East and West, each a manager over a rep) under a CEO. With
/// accounts private, each sees their own and their subordinates' records, on every read path;
/// implicit sharing, public-read-only opportunities, activities controlled by their parent,
/// and an administrator's change taking effect at once.
async fn records_are_shared_by_owner_role_and_default(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    app.add_role(&admin, "CEO", None).await.unwrap();
    for (role, parent) in [("East Manager", "CEO"), ("West Manager", "CEO")] {
        app.add_role(&admin, role, Some(parent)).await.unwrap();
    }
    for (role, parent) in [("East Rep", "East Manager"), ("West Rep", "West Manager")] {
        app.add_role(&admin, role, Some(parent)).await.unwrap();
    }
    let mut callers = std::collections::HashMap::new();
    for (email, role) in [
        ("ceo@example.com", "CEO"),
        ("east.manager@example.com", "East Manager"),
        ("east.rep@example.com", "East Rep"),
        ("west.rep@example.com", "West Rep"),
    ] {
        add_user(&app, &admin, email, Some("Standard User"), Some(role)).await;
        callers.insert(email, app.cli_caller(Some(email)).await.unwrap());
    }
    let [ceo, manager, east, west] = [
        "ceo@example.com",
        "east.manager@example.com",
        "east.rep@example.com",
        "west.rep@example.com",
    ]
    .map(|e| callers[e].clone());
    rapport_ok(&db, &["sharing", "default", "Account", "private"]);
    // The CLI is another process; this one sees the change within a quarter second.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let create = |caller: &Caller, object: &'static str, value: serde_json::Value| {
        let app = app.clone();
        let caller = caller.clone();
        async move { app.create(&caller, object, input(value)).await.unwrap() }
    };
    let east_account = create(&east, "Account", json!({"Name": "East Co"})).await;
    let west_account = create(&west, "Account", json!({"Name": "West Co"})).await;
    create(&manager, "Account", json!({"Name": "Manager Co"})).await;
    // The east rep owns a contact at West Co: West Co becomes readable to them (implicitly).
    let shared = create(&west, "Account", json!({"Name": "Shared Co"})).await;
    // (An administrator puts it there: the rep may not link to an account they cannot see.)
    create(
        &admin,
        "Contact",
        json!({"LastName": "Inside", "AccountId": shared.to_18(), "OwnerId": east.user_id.clone().unwrap().to_18()}),
    )
    .await;
    let west_deal = create(
        &west,
        "Opportunity",
        json!({"Name": "West deal", "StageName": "Prospecting", "CloseDate": "2030-01-01", "AccountId": west_account.to_18()}),
    )
    .await;
    create(
        &admin,
        "Task",
        json!({"Subject": "Call East", "WhatId": east_account.to_18()}),
    )
    .await;

    let names = |caller: &Caller, soql: &'static str| {
        let app = app.clone();
        let caller = caller.clone();
        async move {
            app.query(
                &caller,
                soql,
                QueryOptions {
                    page_size: 200,
                    ..Default::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{soql}: {e}"))
            .rows
            .iter()
            .map(|r| match &r.cells[0].1 {
                Cell::Value(v) => v.to_display(),
                other => format!("{other:?}"),
            })
            .collect::<Vec<String>>()
        }
    };
    let accounts = "SELECT Name FROM Account ORDER BY Name";
    assert_eq!(names(&east, accounts).await, ["East Co", "Shared Co"]);
    assert_eq!(names(&west, accounts).await, ["Shared Co", "West Co"]);
    assert_eq!(
        names(&manager, accounts).await,
        ["East Co", "Manager Co", "Shared Co"],
        "the manager sees their rep's accounts, and the one shared with the rep"
    );
    assert_eq!(
        names(&ceo, accounts).await,
        ["East Co", "Manager Co", "Shared Co", "West Co"]
    );
    assert_eq!(names(&admin, accounts).await.len(), 4);
    // The CLI's `query --as` sees what that user sees.
    let printed = rapport_ok(
        &db,
        &[
            "query",
            "SELECT Name FROM Account ORDER BY Name",
            "--as",
            "east.rep@example.com",
            "--format",
            "csv",
        ],
    );
    assert_eq!(printed.trim(), "Name\nEast Co\nShared Co", "{printed}");
    // Counts, aggregates, semi-joins, parent paths and child subqueries see the same rows.
    assert_eq!(
        code(&app, &east, "SELECT COUNT() FROM Account").await,
        "ok:2"
    );
    assert_eq!(names(&west, "SELECT COUNT(Id) FROM Account").await, ["2"]);
    assert_eq!(
        names(
            &east,
            "SELECT Name FROM Opportunity WHERE AccountId IN (SELECT Id FROM Account)"
        )
        .await,
        Vec::<String>::new(),
        "the west deal's account is hidden from the east rep"
    );
    // Opportunities are public read only: the east rep reads the west deal, with its account
    // hidden, and cannot change it.
    let deal = app
        .query(
            &east,
            "SELECT Name, Account.Name FROM Opportunity",
            QueryOptions {
                page_size: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(deal.rows.len(), 1);
    assert_eq!(deal.rows[0].cells[1].1, Cell::Parent(None));
    assert_eq!(
        names(&west, "SELECT Account.Name FROM Opportunity").await,
        [format!(
            "{:?}",
            Cell::Parent(Some(app::query::Row {
                object: "Account".into(),
                id: Some(west_account.clone()),
                cells: vec![(
                    "Name".into(),
                    Cell::Value(model::Value::Text("West Co".into()))
                )],
            }))
        )]
    );
    assert_eq!(
        error_code(
            crate::support::update(
                &app,
                &east,
                "Opportunity",
                &west_deal.to_18(),
                json!({"StageName": "Closed Won"})
            )
            .await
        ),
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );
    // REST reads and writes of hidden records.
    assert_eq!(
        error_code(app.get(&east, "Account", &west_account.to_18(), None).await),
        "NOT_FOUND"
    );
    assert!(
        app.get(&ceo, "Account", &west_account.to_18(), None)
            .await
            .is_ok()
    );
    assert_eq!(
        error_code(app.delete(&east, &west_account.to_18()).await),
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );
    assert_eq!(
        error_code(
            crate::support::update(
                &app,
                &east,
                "Account",
                &shared.to_18(),
                json!({"Name": "Mine now"})
            )
            .await
        ),
        "INSUFFICIENT_ACCESS_OR_READONLY",
        "implicit sharing gives read, not edit"
    );
    // A lookup may not name a record the caller cannot see (it would open the record to them
    // through implicit sharing).
    assert_eq!(
        error_code(
            app.create(
                &east,
                "Contact",
                input(json!({"LastName": "Spy", "AccountId": west_account.to_18()})),
            )
            .await
        ),
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"
    );
    assert_eq!(
        names(&east, "SELECT Name FROM Account WHERE Name = 'West Co'").await,
        Vec::<String>::new()
    );
    // Collections report refusals record by record when not all-or-none.
    let codes = |results: Vec<app::RecordResult>| -> Vec<String> {
        results
            .into_iter()
            .map(|r| match r {
                Ok(_) => "ok".to_string(),
                Err(errors) => errors[0].code.as_str().to_string(),
            })
            .collect()
    };
    let updates = app
        .update_many(
            &west,
            "Account",
            [&west_account, &east_account]
                .iter()
                .map(|id| Update {
                    id: id.to_18(),
                    input: input(json!({"Phone": "555"})),
                    if_unmodified_since: None,
                })
                .collect(),
            app::WriteOptions { all_or_none: false },
        )
        .await
        .unwrap();
    assert_eq!(codes(updates), ["ok", "INSUFFICIENT_ACCESS_OR_READONLY"]);
    let deletes = app
        .delete_many(
            &east,
            vec![west_account.to_18()],
            app::WriteOptions { all_or_none: false },
        )
        .await
        .unwrap();
    assert_eq!(codes(deletes), ["INSUFFICIENT_ACCESS_OR_READONLY"]);
    crate::support::update(
        &app,
        &manager,
        "Account",
        &east_account.to_18(),
        json!({"Phone": "123"}),
    )
    .await
    .expect("a manager edits their rep's account");
    // SOSL finds only what the caller sees.
    let found: Vec<String> = app
        .search(&east, "FIND {co} RETURNING Account(Name ORDER BY Name)")
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{:?}", r.cells[0].1))
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    // Activities follow their record: the task on East Co is the east rep's to see.
    assert_eq!(
        names(&east, "SELECT Subject FROM Task").await,
        ["Call East"]
    );
    assert!(names(&west, "SELECT Subject FROM Task").await.is_empty());

    // Moving the west rep under the east manager moves their records into that branch.
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
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        names(&manager, accounts).await,
        ["East Co", "Manager Co", "Shared Co", "West Co"]
    );
    let error = crate::support::rapport_err(
        &db,
        &["user", "update", "nobody@example.com", "--role", "CEO"],
    );
    assert!(error.contains("no user with the login"), "{error}");

    // Back to public: everyone sees every account at once.
    rapport_ok(&db, &["sharing", "default", "Account", "public-read-write"]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(names(&east, accounts).await.len(), 4);
    // Public read/write lets anyone edit, not take over: changing the owner needs ownership
    // (or a place above the owner), Transfer Record, or Modify All.
    let give = |caller: &Caller, record: &model::RecordId, to: &Caller| {
        let app = app.clone();
        let caller = caller.clone();
        let id = record.to_18();
        let to = to.user_id.clone().unwrap().to_18();
        async move {
            error_code(
                app.update(
                    &caller,
                    "Account",
                    Update {
                        id,
                        input: input(json!({ "OwnerId": to })),
                        if_unmodified_since: None,
                    },
                )
                .await,
            )
        }
    };
    assert_eq!(
        give(&west, &east_account, &west).await,
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );
    assert_eq!(give(&east, &east_account, &west).await, "ok:()");
    assert_eq!(give(&admin, &east_account, &east).await, "ok:()");
    let error = crate::support::rapport_err(&db, &["sharing", "default", "Account", "secret"]);
    assert!(error.contains("unknown sharing level 'secret'"), "{error}");
    assert_eq!(
        error_code(app.set_sharing_default(&east, "Account", "private").await),
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );
}

crate::both_backends!(fields_are_hidden_or_read_only_by_profile);

/// Field-level security: a hidden field is not there for the profile (not selectable,
/// filterable, sortable or groupable, through parents and children too; not in REST reads
/// or describe); a read-only one is read but never written.
async fn fields_are_hidden_or_read_only_by_profile(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    add_user(&app, &admin, "rep@example.com", None, None).await;
    let rep = app.cli_caller(Some("rep@example.com")).await.unwrap();
    rapport_ok(
        &db,
        &[
            "profile",
            "field",
            "Standard User",
            "Account.Site",
            "--access",
            "hidden",
        ],
    );
    rapport_ok(
        &db,
        &[
            "profile",
            "field",
            "Standard User",
            "account.rating",
            "--access",
            "read-only",
        ],
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let account = app
        .create(
            &admin,
            "Account",
            input(
                json!({"Name": "Acme", "Site": "HQ Zeppelin", "Rating": "Hot", "ParentId": null}),
            ),
        )
        .await
        .unwrap();
    app.create(
        &admin,
        "Contact",
        input(json!({"LastName": "Lee", "AccountId": account.to_18()})),
    )
    .await
    .unwrap();
    for soql in [
        "SELECT Name, Site FROM Account",
        "SELECT Name FROM Account WHERE Site = 'HQ'",
        "SELECT Name FROM Account ORDER BY Site",
        "SELECT Site, COUNT(Id) FROM Account GROUP BY Site",
        "SELECT LastName, Account.Site FROM Contact",
        "SELECT Name, (SELECT Site FROM ChildAccounts) FROM Account",
        "SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account WHERE Site = 'HQ')",
    ] {
        assert_eq!(code(&app, &rep, soql).await, "INVALID_FIELD", "{soql}");
        assert!(code(&app, &admin, soql).await.starts_with("ok:"), "{soql}");
    }
    assert_eq!(
        code(&app, &rep, "SELECT Name, Rating FROM Account").await,
        "ok:1"
    );
    // Search does not match on a hidden field (that would tell what it holds).
    let found = |caller: &Caller, sosl: &'static str| {
        let app = app.clone();
        let caller = caller.clone();
        async move { app.search(&caller, sosl).await.unwrap().len() }
    };
    assert_eq!(
        found(&admin, "FIND {zeppelin} RETURNING Account(Name)").await,
        1
    );
    assert_eq!(
        found(&rep, "FIND {zeppelin} RETURNING Account(Name)").await,
        0
    );
    assert_eq!(found(&rep, "FIND {acme} RETURNING Account(Name)").await, 1);
    // Nor does a record vanish because a hidden field holds an excluded word.
    assert_eq!(
        found(
            &admin,
            "FIND {acme AND NOT zeppelin} RETURNING Account(Name)"
        )
        .await,
        0
    );
    assert_eq!(
        found(&rep, "FIND {acme AND NOT zeppelin} RETURNING Account(Name)").await,
        1,
        "the rep cannot see Site: as far as they know, nothing says zeppelin"
    );
    // A limit counts what the caller may find, not what the index proposes: with accounts
    // matching only through the hidden field sorted first, the visible match still comes
    // back.
    let mut hangars = Vec::new();
    for n in 0..3 {
        hangars.push(
            app.create(
                &admin,
                "Account",
                input(json!({"Name": format!("Dock {n}"), "Site": "hangar"})),
            )
            .await
            .unwrap(),
        );
    }
    hangars.push(
        app.create(&admin, "Account", input(json!({"Name": "Hangar Visible"})))
            .await
            .unwrap(),
    );
    assert_eq!(
        found(
            &rep,
            "FIND {hangar} RETURNING Account(Name ORDER BY Name LIMIT 1)"
        )
        .await,
        1
    );
    assert_eq!(
        found(&admin, "FIND {hangar} RETURNING Account(Name)").await,
        4
    );
    for hangar in hangars {
        app.delete(&admin, &hangar.to_18()).await.unwrap();
    }
    let all = app
        .query(
            &rep,
            "SELECT FIELDS(ALL) FROM Account LIMIT 1",
            QueryOptions {
                page_size: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let names: Vec<&str> = all.rows[0].cells.iter().map(|(n, _)| &**n).collect();
    assert!(
        names.contains(&"Rating") && !names.contains(&"Site"),
        "{names:?}"
    );
    // REST reads leave it out, and refuse it by name.
    let record = app
        .get(&rep, "Account", &account.to_18(), None)
        .await
        .unwrap();
    assert!(record.get("Site").is_none() && record.get("Rating").is_some());
    assert_eq!(
        error_code(
            app.get(
                &rep,
                "Account",
                &account.to_18(),
                Some(&["Site".to_string()])
            )
            .await
        ),
        "INVALID_FIELD"
    );
    // Writes to either are refused; without them, the write goes through.
    for body in [
        json!({"Name": "B", "Site": "x"}),
        json!({"Name": "B", "rating": "Cold"}),
    ] {
        assert_eq!(
            error_code(app.create(&rep, "Account", input(body.clone())).await),
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "{body}"
        );
    }
    assert_eq!(
        error_code(
            crate::support::update(
                &app,
                &rep,
                "Account",
                &account.to_18(),
                json!({"Rating": "Cold"})
            )
            .await
        ),
        "INVALID_FIELD_FOR_INSERT_UPDATE"
    );
    app.create(&rep, "Account", input(json!({"Name": "Fine"})))
        .await
        .unwrap();
    // Describe, over HTTP, for the rep.
    let token = rapport_ok(&db, &["token", "--user", "rep@example.com"])
        .trim()
        .to_string();
    let server = Server::start(&db).await;
    let api = Api {
        client: reqwest::Client::new(),
        base: format!("{}/services/data/v59.0", server.base),
        token,
    };
    let (status, describe) = api.get_with("/sobjects/Account/describe", "x", "").await;
    assert_eq!(status, 200);
    let field = |name: &str| {
        describe["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
    };
    assert!(field("Site").is_none());
    assert_eq!(field("Rating").unwrap()["updateable"], false);
    assert_eq!(field("Industry").unwrap()["updateable"], true);
    drop(server);
    // Back to editable: at once in this process.
    app.set_field_access(
        &admin,
        "Standard User",
        "Account.Site",
        app::access::FieldAccess::Edit,
    )
    .await
    .unwrap();
    assert_eq!(
        code(&app, &rep, "SELECT Name, Site FROM Account").await,
        "ok:2"
    );
    // A hidden lookup hides the relationship both ways: no parent path, no child subquery.
    app.set_field_access(
        &admin,
        "Standard User",
        "Contact.AccountId",
        app::access::FieldAccess::Hidden,
    )
    .await
    .unwrap();
    for soql in [
        "SELECT LastName, Account.Name FROM Contact",
        "SELECT Name, (SELECT LastName FROM Contacts) FROM Account",
    ] {
        assert_eq!(code(&app, &rep, soql).await, "INVALID_FIELD", "{soql}");
        assert!(code(&app, &admin, soql).await.starts_with("ok:"), "{soql}");
    }
    // Field history shows only the changes of fields the caller may see.
    rapport_ok(
        &db,
        &[
            "profile",
            "field",
            "Standard User",
            "Account.Type",
            "--access",
            "hidden",
        ],
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    crate::support::update(
        &app,
        &admin,
        "Account",
        &account.to_18(),
        json!({"Type": "Customer", "Rating": "Warm"}),
    )
    .await
    .unwrap();
    let changed = |caller: &Caller| {
        let app = app.clone();
        let caller = caller.clone();
        async move {
            let page = app
                .query(
                    &caller,
                    "SELECT Field, OldValue, NewValue FROM AccountHistory ORDER BY Field",
                    QueryOptions {
                        page_size: 50,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            page.rows
                .iter()
                .map(|r| format!("{:?}", r.cells[0].1))
                .collect::<Vec<_>>()
                .join(",")
        }
    };
    let admin_sees = changed(&admin).await;
    assert!(
        admin_sees.contains("Type") && admin_sees.contains("Rating"),
        "{admin_sees}"
    );
    let rep_sees = changed(&rep).await;
    assert!(rep_sees.contains("Rating"), "{rep_sees}");
    assert!(
        !rep_sees.contains("Type"),
        "a hidden field's history leaks: {rep_sees}"
    );
    let error = crate::support::rapport_err(
        &db,
        &[
            "profile",
            "field",
            "Standard User",
            "Account.Name",
            "--access",
            "hidden",
        ],
    );
    assert!(error.contains("system, required or name field"), "{error}");
}

crate::both_backends!(scale_seed_spreads_records_over_users_in_roles);

/// `seed --scale N --users U --roles R`: the org the sharing benchmark runs on.
async fn scale_seed_spreads_records_over_users_in_roles(db: TestDb) {
    let (app, _admin) = db.app_with_admin().await;
    drop(app);
    rapport_ok(
        &db,
        &[
            "seed", "--scale", "30", "--users", "5", "--roles", "3", "--batch", "7",
        ],
    );
    let app = db.app().await;
    let admin = app.cli_caller(Some("admin@example.com")).await.unwrap();
    let page = app
        .query(
            &admin,
            "SELECT Owner.Name, COUNT(Id) FROM Account GROUP BY Owner.Name ORDER BY Owner.Name",
            QueryOptions {
                page_size: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let groups: Vec<String> = page
        .rows
        .iter()
        .map(|r| {
            r.cells
                .iter()
                .map(|(_, c)| match c {
                    Cell::Value(v) => v.to_display(),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
                .join("=")
        })
        .collect();
    assert_eq!(
        groups,
        [
            "Scale User0=6",
            "Scale User1=6",
            "Scale User2=6",
            "Scale User3=6",
            "Scale User4=6"
        ]
    );
    // A user in a role below another's: the one above sees their records once accounts are
    // private.
    rapport_ok(&db, &["sharing", "default", "Account", "private"]);
    let top = app
        .cli_caller(Some("scale.user0@example.com"))
        .await
        .unwrap();
    let leaf = app
        .cli_caller(Some("scale.user2@example.com"))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        code(&app, &leaf, "SELECT COUNT() FROM Account").await,
        "ok:6"
    );
    // Users go round the roles: 0 and 3 share the top role, 1 and 4 one below it, 2 the
    // other. The top user sees their own and those below; not user 3's, a peer's.
    assert_eq!(
        code(&app, &top, "SELECT COUNT() FROM Account").await,
        "ok:24",
        "the top role sees everything below it, not a peer's"
    );
}

crate::both_backends!(logins_lock_out_and_are_recorded);

/// Over HTTP: ten wrong passwords lock a user out (the right one is then refused too, with a
/// clear message); every attempt is in the login history with its address and method; an
/// administrator's reset, under the password policy, lets them in again.
async fn logins_lock_out_and_are_recorded(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    add_user(&app, &admin, "rep@example.com", None, None).await;
    assert_eq!(
        error_code(
            app.add_user(
                &admin,
                NewUser {
                    email: "weak@example.com".into(),
                    password: "short".into(),
                    name: "Weak One".into(),
                    profile: None,
                    role: None,
                    language: Lang::En,
                },
            )
            .await
        ),
        "INVALID_NEW_PASSWORD"
    );
    let app_text = rapport_ok(&db, &["app", "add", "--name", "Login test"]);
    let field = |name: &str| {
        app_text
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .trim()
            .to_string()
    };
    let (client_id, secret) = (field("client_id:"), field("client_secret:"));
    let server = Server::start(&db).await;
    let client = reqwest::Client::new();
    let login = |password: &'static str| {
        let client = client.clone();
        let url = format!("{}/services/oauth2/token", server.base);
        let body = format!(
            "grant_type=password&client_id={client_id}&client_secret={secret}&username=rep%40example.com&password={password}"
        );
        async move {
            let response = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body)
        }
    };
    let (status, _) = login("secret123").await;
    assert_eq!(status, 200);
    for attempt in 1..=9 {
        let (status, body) = login("wrong1234").await;
        assert_eq!(status, 400, "attempt {attempt}");
        assert_eq!(body["error_description"], "authentication failure");
    }
    let (_, body) = login("wrong1234").await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("Password Lockout"),
        "{body}"
    );
    let (status, body) = login("secret123").await;
    assert_eq!(status, 400, "locked out, even with the right password");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("try again after"),
        "{body}"
    );
    let history = rapport_ok(&db, &["user", "logins", "rep@example.com", "--limit", "50"]);
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 12, "{history}");
    assert!(lines[0].contains("127.0.0.1") && lines[0].contains("OAuth password"));
    assert!(lines[0].contains("Password Lockout"), "{}", lines[0]);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("Invalid Password"))
            .count(),
        9
    );
    assert!(lines[11].ends_with("Success"), "{}", lines[11]);
    // The administrator's reset must meet the policy, and ends the lockout.
    let error = crate::support::rapport_err(
        &db,
        &[
            "user",
            "update",
            "rep@example.com",
            "--password",
            "password",
        ],
    );
    assert!(
        error.contains("at least 8 characters, including a letter and a digit"),
        "{error}"
    );
    rapport_ok(
        &db,
        &[
            "user",
            "update",
            "rep@example.com",
            "--password",
            "newpass2026",
        ],
    );
    let (status, body) = login("newpass2026").await;
    assert_eq!(status, 200, "{body}");
    // A deactivated user cannot log in.
    rapport_ok(
        &db,
        &["user", "update", "rep@example.com", "--active", "false"],
    );
    let (status, body) = login("newpass2026").await;
    assert_eq!(status, 400);
    assert_eq!(body["error_description"], "User is inactive");
}

crate::both_backends!(sharing_rules_widen_private_defaults);

/// Owner-based and criteria-based sharing rules open private records to another branch of
/// the role tree (and, through the hierarchy, to those above the role shared with); read
/// rules do not allow edits; removing a rule takes the access back.
async fn sharing_rules_widen_private_defaults(db: TestDb) {
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
    for (email, role) in [
        ("east.rep@example.com", "East Rep"),
        ("west.manager@example.com", "West Manager"),
        ("west.rep@example.com", "West Rep"),
    ] {
        add_user(&app, &admin, email, Some("Standard User"), Some(role)).await;
    }
    let east = app.cli_caller(Some("east.rep@example.com")).await.unwrap();
    let manager = app
        .cli_caller(Some("west.manager@example.com"))
        .await
        .unwrap();
    let west = app.cli_caller(Some("west.rep@example.com")).await.unwrap();
    app.set_sharing_default(&admin, "Account", "private")
        .await
        .unwrap();
    let energy = app
        .create(
            &east,
            "Account",
            input(json!({"Name": "East Energy", "Industry": "Energy"})),
        )
        .await
        .unwrap();
    let retail = app
        .create(
            &east,
            "Account",
            input(json!({"Name": "East Retail", "Industry": "Retail"})),
        )
        .await
        .unwrap();
    let names = |caller: &Caller| {
        let app = app.clone();
        let caller = caller.clone();
        async move {
            app.query(
                &caller,
                "SELECT Name FROM Account ORDER BY Name",
                QueryOptions {
                    page_size: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .rows
            .iter()
            .map(|r| match &r.cells[0].1 {
                Cell::Value(v) => v.to_display(),
                other => format!("{other:?}"),
            })
            .collect::<Vec<String>>()
        }
    };
    assert!(names(&manager).await.is_empty());
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
            "edit",
        ],
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(names(&manager).await, ["East Energy", "East Retail"]);
    assert_eq!(names(&west).await, ["East Energy"]);
    let rename = |caller: &Caller, to: &'static str| {
        let app = app.clone();
        let caller = caller.clone();
        let id = energy.to_18();
        async move {
            error_code(
                app.update(
                    &caller,
                    "Account",
                    Update {
                        id,
                        input: input(json!({ "Phone": to })),
                        if_unmodified_since: None,
                    },
                )
                .await,
            )
        }
    };
    assert_eq!(
        rename(&west, "1").await,
        "ok:()",
        "an edit rule allows edits"
    );
    assert_eq!(
        rename(&manager, "2").await,
        "ok:()",
        "the hierarchy passes the west rep's access up"
    );
    let listed = rapport_ok(&db, &["sharing", "rule", "list", "Account"]);
    assert!(
        listed.contains("Account.EastToWest: owned by East Rep -> West Manager (read)")
            && listed.contains("Account.Energy: where Industry = 'Energy' -> West Rep (edit)"),
        "{listed}"
    );
    // Rules follow their roles by id: renaming the roles keeps the rules, and a new role
    // given an old name does not take a rule over.
    for (from, to) in [("East Rep", "East Sales"), ("West Manager", "West Lead")] {
        let role = crate::support::one_id(
            &app,
            &admin,
            &format!("SELECT Id FROM UserRole WHERE Name = '{from}'"),
        )
        .await;
        crate::support::update(
            &app,
            &admin,
            "UserRole",
            &role.to_18(),
            json!({ "Name": to }),
        )
        .await
        .unwrap();
    }
    app.create(
        &admin,
        "UserRole",
        input(json!({"Name": "West Manager", "DeveloperName": "West_Manager_Again"})),
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(names(&manager).await, ["East Energy", "East Retail"]);
    let listed = rapport_ok(&db, &["sharing", "rule", "list", "Account"]);
    assert!(
        listed.contains("Account.EastToWest: owned by East Sales -> West Lead (read)"),
        "{listed}"
    );
    app.create(
        &admin,
        "UserRole",
        input(json!({"Name": "west manager", "DeveloperName": "West_Manager_Third"})),
    )
    .await
    .unwrap();
    let error = crate::support::rapport_err(
        &db,
        &[
            "sharing",
            "rule",
            "add",
            "Account",
            "--name",
            "Ambiguous",
            "--owned-by-role",
            "west MANAGER",
            "--share-with-role",
            "CEO",
            "--access",
            "read",
        ],
    );
    assert!(
        error.contains("several UserRole records are named west MANAGER"),
        "{error}"
    );
    // Nor does a user join a role by a name several roles have (none spelled exactly so).
    let error = crate::support::rapport_err(
        &db,
        &[
            "user",
            "add",
            "--email",
            "late@example.com",
            "--name",
            "Late Comer",
            "--password",
            "choose1well",
            "--role",
            "west MANAGER",
        ],
    );
    assert!(
        error.contains("several UserRole records are named west MANAGER"),
        "{error}"
    );
    rapport_ok(&db, &["sharing", "rule", "remove", "Account", "EastToWest"]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(names(&manager).await, ["East Energy"]);
    // Manual sharing: the owner shares one record; read, then edit.
    let retail_id = retail.to_18();
    let share = |access: &'static str, who: &'static str| {
        [
            "share".to_string(),
            retail_id.clone(),
            "--with".into(),
            "west.rep@example.com".into(),
            "--access".into(),
            access.into(),
            "--as".into(),
            who.into(),
        ]
    };
    let args = share("read", "east.rep@example.com");
    rapport_ok(&db, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(names(&west).await, ["East Energy", "East Retail"]);
    let edit_retail = |caller: &Caller| {
        let app = app.clone();
        let caller = caller.clone();
        let id = retail.to_18();
        async move {
            error_code(
                app.update(
                    &caller,
                    "Account",
                    Update {
                        id,
                        input: input(json!({"Phone": "9"})),
                        if_unmodified_since: None,
                    },
                )
                .await,
            )
        }
    };
    assert_eq!(edit_retail(&west).await, "INSUFFICIENT_ACCESS_OR_READONLY");
    let args = share("edit", "east.rep@example.com");
    rapport_ok(&db, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(edit_retail(&west).await, "ok:()");
    let args = share("edit", "west.rep@example.com");
    let error =
        crate::support::rapport_err(&db, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(error.contains("only the owner"), "{error}");
    for (args, message) in [
        (
            vec!["--owned-by-role", "Nobody", "--share-with-role", "CEO"],
            "no role named Nobody",
        ),
        (
            vec!["--where", "Owner.Name = 'x'", "--share-with-role", "CEO"],
            "not parent paths",
        ),
    ] {
        let mut full = vec!["sharing", "rule", "add", "Account", "--name", "Bad"];
        full.extend(args);
        let error = crate::support::rapport_err(&db, &full);
        assert!(error.contains(message), "{error}");
    }
    let error = crate::support::rapport_err(
        &db,
        &[
            "sharing",
            "rule",
            "add",
            "Contact",
            "--name",
            "Bad",
            "--owned-by-role",
            "CEO",
            "--share-with-role",
            "CEO",
        ],
    );
    assert!(error.contains("follow their parent"), "{error}");
}

crate::both_backends!(queues_and_groups_share_records);

/// A queue owns private leads that its members (and only they) see and work; a sharing rule
/// with a public group reaches its members.
async fn queues_and_groups_share_records(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let member = add_user(&app, &admin, "member@example.com", None, None).await;
    let outsider = add_user(&app, &admin, "outsider@example.com", None, None).await;
    app.set_sharing_default(&admin, "Lead", "private")
        .await
        .unwrap();
    app.set_sharing_default(&admin, "Account", "private")
        .await
        .unwrap();
    rapport_ok(&db, &["group", "add", "Inbound Leads", "--queue"]);
    rapport_ok(
        &db,
        &[
            "group",
            "member",
            "add",
            "Inbound Leads",
            "member@example.com",
        ],
    );
    rapport_ok(&db, &["group", "add", "Partners Team"]);
    rapport_ok(
        &db,
        &[
            "group",
            "member",
            "add",
            "Partners Team",
            "outsider@example.com",
        ],
    );
    let queue = crate::support::one_id(
        &app,
        &admin,
        "SELECT Id FROM Group WHERE Name = 'Inbound Leads'",
    )
    .await;
    let lead = app
        .create(
            &admin,
            "Lead",
            input(json!({"LastName": "Queued", "Company": "Q Co", "OwnerId": queue.to_18()})),
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(code(&app, &member, "SELECT Id FROM Lead").await, "ok:1");
    assert_eq!(code(&app, &outsider, "SELECT Id FROM Lead").await, "ok:0");
    crate::support::update(
        &app,
        &member,
        "Lead",
        &lead.to_18(),
        json!({"Status": "Working - Contacted"}),
    )
    .await
    .expect("a queue member works the queue's leads");
    // A rule sharing the admin's accounts whose industry is Energy with a public group.
    app.create(
        &admin,
        "Account",
        input(json!({"Name": "Grid Co", "Industry": "Energy"})),
    )
    .await
    .unwrap();
    assert_eq!(
        code(&app, &outsider, "SELECT Id FROM Account").await,
        "ok:0"
    );
    rapport_ok(
        &db,
        &[
            "sharing",
            "rule",
            "add",
            "Account",
            "--name",
            "ToPartners",
            "--where",
            "Industry = 'Energy'",
            "--share-with-group",
            "Partners Team",
            "--access",
            "read",
        ],
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        code(&app, &outsider, "SELECT Id FROM Account").await,
        "ok:1"
    );
    assert_eq!(code(&app, &member, "SELECT Id FROM Account").await, "ok:0");
    // Groups, memberships and roles are the administrators' to change: a user cannot join a
    // group to reach its rules.
    let group = crate::support::one_id(
        &app,
        &admin,
        "SELECT Id FROM Group WHERE Name = 'Partners Team'",
    )
    .await;
    assert_eq!(
        error_code(
            app.create(
                &member,
                "GroupMember",
                input(json!({"GroupId": group.to_18(), "UserOrGroupId": member.user_id.clone().unwrap().to_18()})),
            )
            .await
        ),
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );
    assert_eq!(
        error_code(app.add_role(&member, "Sneaky", None).await),
        "INSUFFICIENT_ACCESS_OR_READONLY"
    );
    // The record-listing paths under REST (child records, replication) see the same rows.
    let listed = app
        .find(
            &outsider,
            "Account",
            &["Id", "Name"],
            None,
            Vec::new(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        app.find(&member, "Account", &["Id"], None, Vec::new(), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        error_code(
            app.find(
                &member,
                "ObjectPermissions",
                &["Id"],
                None,
                Vec::new(),
                None
            )
            .await
            .map(|r| r.len())
        ),
        "INVALID_TYPE"
    );
    let error = crate::support::rapport_err(
        &db,
        &[
            "sharing",
            "rule",
            "add",
            "Account",
            "--name",
            "Bad",
            "--where",
            "Industry = 'x'",
            "--share-with-group",
            "Nobody",
        ],
    );
    assert!(error.contains("no group named Nobody"), "{error}");
    // The replication endpoint for deletions lists only what the caller could see.
    let private = app
        .create(
            &admin,
            "Lead",
            input(json!({"LastName": "Private", "Company": "P Co"})),
        )
        .await
        .unwrap();
    app.delete(&admin, &private.to_18()).await.unwrap();
    app.delete(&admin, &lead.to_18()).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    let window = (
        now - time::Duration::hours(1),
        now + time::Duration::minutes(1),
    );
    let deleted = |caller: &Caller| {
        let app = app.clone();
        let caller = caller.clone();
        async move {
            app.deleted_records(&caller, "Lead", window.0, window.1)
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(deleted(&admin).await, 2);
    assert_eq!(
        deleted(&member).await,
        1,
        "the queue's lead, not the admin's own"
    );
    assert_eq!(deleted(&outsider).await, 0);
    assert_eq!(
        error_code(
            app.deleted_records(&member, "ObjectPermissions", window.0, window.1)
                .await
                .map(|d| d.len())
        ),
        "INVALID_TYPE"
    );
    // Taking a user out of a group takes its shares away (the delete moves the security
    // version like any other change to a membership).
    let memberships = app
        .query(
            &admin,
            "SELECT Id FROM GroupMember WHERE Group.Name = 'Partners Team'",
            QueryOptions {
                page_size: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let membership = memberships.rows[0].id.clone().unwrap();
    let other = db.app().await;
    assert_eq!(
        code(&other, &outsider, "SELECT Id FROM Account").await,
        "ok:1"
    );
    app.delete(&admin, &membership.to_18()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        code(&other, &outsider, "SELECT Id FROM Account").await,
        "ok:0"
    );
}

crate::both_backends!(groups_inside_groups);

/// A public group inside another passes on what is shared with the outer one (sharing
/// rules, queue ownership), and manual shares reach a group's members; cycles, queues inside
/// groups and repeated members are refused; taking a group out takes its access away. Each
/// answer is checked through the sharing conditions (rows stale) and through rebuilt rows.
async fn groups_inside_groups(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let inner = add_user(&app, &admin, "inner@example.com", None, None).await;
    let outer = add_user(&app, &admin, "outer@example.com", None, None).await;
    let outsider = add_user(&app, &admin, "outsider@example.com", None, None).await;
    for object in ["Account", "Lead"] {
        app.set_sharing_default(&admin, object, "private")
            .await
            .unwrap();
    }
    for args in [
        &["group", "add", "Outer"][..],
        &["group", "add", "Inner"],
        &["group", "add", "Desk", "--queue"],
        &["group", "member", "add", "Outer", "outer@example.com"],
        &["group", "member", "add", "Inner", "inner@example.com"],
        &["group", "member", "add", "Outer", "Inner"],
        &["group", "member", "add", "Desk", "Inner"],
    ] {
        rapport_ok(&db, args);
    }
    rapport_ok(
        &db,
        &[
            "sharing",
            "rule",
            "add",
            "Account",
            "--name",
            "EnergyToOuter",
            "--where",
            "Industry = 'Energy'",
            "--share-with-group",
            "Outer",
            "--access",
            "read",
        ],
    );
    app.create(
        &admin,
        "Account",
        input(json!({"Name": "Grid Co", "Industry": "Energy"})),
    )
    .await
    .unwrap();
    let solo = app
        .create(&admin, "Account", input(json!({"Name": "Solo Co"})))
        .await
        .unwrap();
    let desk =
        crate::support::one_id(&app, &admin, "SELECT Id FROM Group WHERE Name = 'Desk'").await;
    app.create(
        &admin,
        "Lead",
        input(json!({"LastName": "Queued", "Company": "Q Co", "OwnerId": desk.to_18()})),
    )
    .await
    .unwrap();
    rapport_ok(
        &db,
        &[
            "share",
            &solo.to_18(),
            "--with",
            "Inner",
            "--access",
            "read",
        ],
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // (accounts, leads) each user reads.
    let seen = |app: App| {
        let (inner, outer, outsider) = (inner.clone(), outer.clone(), outsider.clone());
        async move {
            let mut seen = Vec::new();
            for caller in [&inner, &outer, &outsider] {
                seen.push((
                    code(&app, caller, "SELECT Id FROM Account").await,
                    code(&app, caller, "SELECT Id FROM Lead").await,
                ));
            }
            seen
        }
    };
    let pair = |a: &str, l: &str| (a.to_string(), l.to_string());
    let expected = vec![
        // the rule through Outer, the manual share to Inner; the queue's lead through Inner
        pair("ok:2", "ok:1"),
        // the rule only: a share with Inner does not reach the group holding it
        pair("ok:1", "ok:0"),
        pair("ok:0", "ok:0"),
    ];
    assert_eq!(seen(app.clone()).await, expected, "by the conditions");
    app.rebuild_shares().await.unwrap();
    assert_eq!(seen(db.app().await).await, expected, "by the share rows");

    // What cannot be a member.
    for (args, says) in [
        (["Inner", "Outer"], "member of itself"),
        (["Inner", "Inner"], "member of itself"),
        (["Outer", "Desk"], "a queue cannot be a member of a group"),
        (["Outer", "Inner"], "is already a member of group"),
    ] {
        let error = crate::support::rapport_err(&db, &["group", "member", "add", args[0], args[1]]);
        assert!(error.contains(says), "{args:?}: {error}");
    }
    let memberships = app
        .query(
            &admin,
            "SELECT Id FROM GroupMember WHERE Group.Name = 'Outer'",
            QueryOptions {
                page_size: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(memberships.total_size, 2, "nothing refused was written");
    // A membership is made or removed, never changed.
    let first = memberships.rows[0].id.clone().unwrap();
    assert_eq!(
        error_code(
            app.update(
                &admin,
                "GroupMember",
                Update {
                    id: first.to_18(),
                    input: input(
                        json!({"UserOrGroupId": outsider.user_id.clone().unwrap().to_18()})
                    ),
                    if_unmodified_since: None,
                },
            )
            .await
        ),
        "INVALID_FIELD_FOR_INSERT_UPDATE"
    );

    // Taking Inner out of Outer and the queue takes the rule and the lead from its members;
    // the manual share to Inner stays.
    rapport_ok(&db, &["group", "member", "remove", "Outer", "Inner"]);
    rapport_ok(&db, &["group", "member", "remove", "Desk", "Inner"]);
    let error = crate::support::rapport_err(&db, &["group", "member", "remove", "Outer", "Inner"]);
    assert!(error.contains("Inner is not a member of Outer"), "{error}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let expected = vec![
        pair("ok:1", "ok:0"),
        pair("ok:1", "ok:0"),
        pair("ok:0", "ok:0"),
    ];
    assert_eq!(seen(app.clone()).await, expected, "by the conditions");
    app.rebuild_shares().await.unwrap();
    assert_eq!(seen(db.app().await).await, expected, "by the share rows");

    // The recycle bin is no way around the checks: with Outer now inside Inner, bringing
    // back "Inner inside Outer" would make a cycle, and the undelete is refused whole.
    rapport_ok(&db, &["group", "member", "add", "Inner", "Outer"]);
    let removed = app
        .query(
            &admin,
            "SELECT Id FROM GroupMember WHERE IsDeleted = true AND Group.Name = 'Outer'",
            QueryOptions {
                page_size: 10,
                include_deleted: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(removed.total_size, 1);
    let removed = removed.rows[0].id.clone().unwrap();
    match app.undelete(&admin, &removed.to_18()).await {
        Err(app::AppError::Rejected(errors)) => {
            // Both groups of the cycle are named, each in an error of its own.
            assert_eq!(errors.len(), 2, "{errors:?}");
            for error in &errors {
                assert_eq!(error.code.as_str(), "FIELD_INTEGRITY_EXCEPTION");
                assert!(error.message.contains("member of itself"), "{errors:?}");
            }
            assert_ne!(errors[0].message, errors[1].message);
        }
        other => panic!("undelete made a cycle: {other:?}"),
    }
    assert_eq!(
        code(
            &app,
            &admin,
            "SELECT Id FROM GroupMember WHERE Group.Name = 'Outer'"
        )
        .await,
        "ok:1",
        "nothing came back"
    );
    // A group never turns into a queue (a queue cannot sit inside a group) nor back; and a
    // record is shared with users and public groups, not queues.
    let inner_group =
        crate::support::one_id(&app, &admin, "SELECT Id FROM Group WHERE Name = 'Inner'").await;
    assert_eq!(
        error_code(
            crate::support::update(
                &app,
                &admin,
                "Group",
                &inner_group.to_18(),
                json!({"Type": "Queue"})
            )
            .await
        ),
        "INVALID_FIELD_FOR_INSERT_UPDATE"
    );
    let error = crate::support::rapport_err(
        &db,
        &["share", &solo.to_18(), "--with", "Desk", "--access", "read"],
    );
    assert!(error.contains("Desk is a queue"), "{error}");

    // A sharing rule shares with a role or a public group: not with a queue, and not with a
    // name two groups answer to. It follows its group by id: another group taking the same
    // name does not capture it, and renaming the group keeps it.
    let rule_with = |name: &str, group: &str| {
        crate::support::rapport_err(
            &db,
            &[
                "sharing",
                "rule",
                "add",
                "Account",
                "--name",
                name,
                "--where",
                "Industry = 'Energy'",
                "--share-with-group",
                group,
                "--access",
                "read",
            ],
        )
    };
    let error = rule_with("ToDesk", "Desk");
    assert!(error.contains("Desk is a queue"), "{error}");
    let energy = "SELECT Id FROM Account WHERE Industry = 'Energy'";
    assert_eq!(
        code(&app, &outer, energy).await,
        "ok:1",
        "the rule through Outer"
    );
    app.create(
        &admin,
        "Group",
        input(json!({"Name": "OUTER", "DeveloperName": "Outer_Again", "Type": "Regular"})),
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let error = rule_with("ToOuter", "Outer");
    assert!(error.contains("several groups are named Outer"), "{error}");
    let outer_group = crate::support::one_id(
        &app,
        &admin,
        "SELECT Id FROM Group WHERE DeveloperName = 'Outer'",
    )
    .await;
    crate::support::update(
        &app,
        &admin,
        "Group",
        &outer_group.to_18(),
        json!({"Name": "Outer Ring"}),
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let rules = rapport_ok(&db, &["sharing", "rule", "list", "Account"]);
    assert!(
        rules.contains("EnergyToOuter: where Industry = 'Energy' -> Outer Ring"),
        "{rules}"
    );
    assert_eq!(
        code(&app, &outer, energy).await,
        "ok:1",
        "by the conditions"
    );
    app.rebuild_shares().await.unwrap();
    assert_eq!(
        code(&db.app().await, &outer, energy).await,
        "ok:1",
        "by the rows"
    );

    // A rule stored before rules kept ids names its group only: it is matched by name while
    // one group has that name, and shares with nobody once two do.
    assert_eq!(code(&app, &inner, energy).await, "ok:0");
    app.store()
        .set_security_setting(
            "sharing-rule:account:legacy",
            &json!({
                "object": "Account", "name": "Legacy", "owned_by_role": null,
                "include_subordinates": false, "criteria": "Industry = 'Energy'",
                "share_with_role": null, "share_with_group": "Inner",
                "share_with_subordinates": false, "access": "read"
            })
            .to_string(),
        )
        .await
        .unwrap();
    app.store().bump_sharing_version().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(code(&app, &inner, energy).await, "ok:1", "matched by name");
    app.create(
        &admin,
        "Group",
        input(json!({"Name": "INNER", "DeveloperName": "Inner_Again", "Type": "Regular"})),
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        code(&app, &inner, energy).await,
        "ok:0",
        "an ambiguous name"
    );
}

crate::both_backends!(duplicate_values_name_only_visible_records);

/// A unique value already held by a record the caller cannot read is refused without
/// naming that record; one they can read is named, as Salesforce does.
async fn duplicate_values_name_only_visible_records(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let rep = add_user(&app, &admin, "rep@example.com", None, None).await;
    app.add_field(app::setup::NewField {
        object: "Account".into(),
        name: "Code__c".into(),
        field_type: Some(model::FieldType::Text),
        length: Some(20),
        unique: true,
        ..Default::default()
    })
    .await
    .unwrap();
    app.set_sharing_default(&admin, "Account", "private")
        .await
        .unwrap();
    let hidden = app
        .create(
            &admin,
            "Account",
            input(json!({"Name": "Hidden Co", "Code__c": "H-1"})),
        )
        .await
        .unwrap();
    let own = app
        .create(
            &rep,
            "Account",
            input(json!({"Name": "Own Co", "Code__c": "O-1"})),
        )
        .await
        .unwrap();
    let message = |result: app::Result<model::RecordId>| match result {
        Err(app::AppError::Rejected(errors)) => {
            assert_eq!(errors[0].code.as_str(), "DUPLICATE_VALUE");
            errors[0].message.clone()
        }
        other => panic!("expected DUPLICATE_VALUE, got {other:?}"),
    };
    let hidden_clash = message(
        app.create(
            &rep,
            "Account",
            input(json!({"Name": "Mine", "Code__c": "H-1"})),
        )
        .await,
    );
    assert!(
        hidden_clash.ends_with("duplicates value on another record")
            && !hidden_clash.contains(hidden.as_str15()),
        "{hidden_clash}"
    );
    let own_clash = message(
        app.create(
            &rep,
            "Account",
            input(json!({"Name": "Mine", "Code__c": "O-1"})),
        )
        .await,
    );
    assert!(own_clash.contains(own.as_str15()), "{own_clash}");
    // The administrator reads every record, so is told which one.
    let admin_clash = message(
        app.create(
            &admin,
            "Account",
            input(json!({"Name": "Theirs", "Code__c": "H-1"})),
        )
        .await,
    );
    assert!(admin_clash.contains(hidden.as_str15()), "{admin_clash}");
}
