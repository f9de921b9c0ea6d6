//! SOSL: the full-text index kept in step with every write, Chinese found without spaces,
//! RETURNING as SOQL, scopes, operators, errors; `GET /search` in Salesforce's shape. On both
//! backends.

use app::{App, Caller};
use serde_json::json;

use crate::support::{Api, Server, TestDb, input, rapport_ok};

crate::both_backends!(sosl_search, a_common_term_searches_the_newest_matches);

/// What a search found: `Object:Name` (or `Object:Id` when Name was not asked for).
async fn found(app: &App, caller: &Caller, sosl: &str) -> Vec<String> {
    let rows = app
        .search(caller, sosl)
        .await
        .unwrap_or_else(|e| panic!("{sosl}: {e}"));
    rows.iter()
        .map(|row| {
            let name = row
                .cells
                .iter()
                .find(|(n, _)| &**n == "Name")
                .map(|(_, c)| match c {
                    app::query::Cell::Value(v) => v.to_json().as_str().unwrap_or("").to_string(),
                    _ => String::new(),
                })
                .unwrap_or_else(|| row.id.as_ref().map(|id| id.to_18()).unwrap_or_default());
            format!("{}:{name}", row.object)
        })
        .collect()
}

async fn error(app: &App, caller: &Caller, sosl: &str) -> (String, String) {
    let error = app
        .search(caller, sosl)
        .await
        .err()
        .unwrap_or_else(|| panic!("{sosl} should fail"));
    match error {
        app::AppError::Rejected(errors) => (
            errors[0].code.as_str().to_string(),
            errors[0].message.clone(),
        ),
        other => panic!("{sosl}: {other}"),
    }
}

async fn sosl_search(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    rapport_ok(&db, &["object", "add", "Project__c", "--label", "Project"]);
    rapport_ok(
        &db,
        &["field", "add", "Account", "Motto__c", "--type", "Text"],
    );
    // A new App sees the object and field the CLI added.
    drop(app);
    let app = db.app().await;
    let create = |object: &'static str, value: serde_json::Value| {
        let app = &app;
        let admin = &admin;
        async move { app.create(admin, object, input(value)).await.unwrap() }
    };
    let acme = create(
        "Account",
        json!({"Name": "Acme Corporation", "Phone": "(415) 555-1212", "Industry": "Technology", "Website": "www.acme.example.com"}),
    )
    .await;
    let huawei = create(
        "Account",
        json!({"Name": "华为技术有限公司", "BillingCity": "深圳", "Industry": "Technology"}),
    )
    .await;
    let globex = create(
        "Account",
        json!({"Name": "Globex", "Description": "Long-time acme partner", "Industry": "Energy", "Motto__c": "Unstoppable growth"}),
    )
    .await;
    let initech = create("Account", json!({"Name": "Initech"})).await;
    let ann = create(
        "Contact",
        json!({"FirstName": "Ann", "LastName": "Lee", "Email": "ann@acme.example.com", "AccountId": acme.to_18()}),
    )
    .await;
    create(
        "Contact",
        json!({"FirstName": "伟", "LastName": "王", "AccountId": huawei.to_18()}),
    )
    .await;
    create(
        "Lead",
        json!({"LastName": "Smith", "Company": "Acme Subsidiary", "Status": "Open - Not Contacted"}),
    )
    .await;
    create("Project__c", json!({"Name": "Acme rollout"})).await;

    // No RETURNING: every searchable object, ids only, grouped by object.
    let everything = app.search(&admin, "FIND {acme}").await.unwrap();
    let mut kinds: Vec<&str> = everything.iter().map(|r| &*r.object).collect();
    kinds.dedup();
    assert_eq!(kinds, ["Lead", "Account", "Contact", "Project__c"]);
    assert_eq!(everything.len(), 5);
    assert!(
        everything
            .iter()
            .all(|r| r.cells.len() == 1 && &*r.cells[0].0 == "Id")
    );
    assert!(everything.iter().any(|r| r.id.as_ref() == Some(&ann)));

    // RETURNING is SOQL: fields, WHERE, ORDER BY, LIMIT; best matches first without ORDER BY
    // (a name match outranks a description match).
    assert_eq!(
        found(&app, &admin, "FIND {acme} RETURNING Account(Name)").await,
        ["Account:Acme Corporation", "Account:Globex"]
    );
    assert_eq!(
        found(
            &app,
            &admin,
            "FIND {acme} RETURNING Account(Name ORDER BY Name DESC)"
        )
        .await,
        ["Account:Globex", "Account:Acme Corporation"]
    );
    assert_eq!(
        found(
            &app,
            &admin,
            "FIND {acme} RETURNING Account(Name WHERE Industry = 'Energy')"
        )
        .await,
        ["Account:Globex"]
    );
    assert_eq!(
        found(&app, &admin, "find {ACME} returning account(name limit 1)").await,
        ["Account:Acme Corporation"]
    );
    let contact = app
        .search(&admin, "FIND {ann} RETURNING Contact(Name, Account.Name)")
        .await
        .unwrap();
    assert_eq!(contact.len(), 1);
    assert!(
        format!("{:?}", contact[0].cells[1].1).contains("Acme Corporation"),
        "{:?}",
        contact[0]
    );
    assert_eq!(
        found(
            &app,
            &admin,
            "FIND {acme} RETURNING Account(Name), Contact(Name), Project__c(Name) LIMIT 3"
        )
        .await,
        [
            "Account:Acme Corporation",
            "Account:Globex",
            "Contact:Ann Lee"
        ]
    );

    // Scopes.
    assert_eq!(
        found(
            &app,
            &admin,
            "FIND {acme} IN NAME FIELDS RETURNING Account(Name), Contact(Name)"
        )
        .await,
        ["Account:Acme Corporation"]
    );
    assert_eq!(
        found(
            &app,
            &admin,
            "FIND {acme} IN EMAIL FIELDS RETURNING Account(Name), Contact(Name)"
        )
        .await,
        ["Contact:Ann Lee"]
    );
    for phone in ["4155551212", "555-1212", "\"415 555\""] {
        assert_eq!(
            found(
                &app,
                &admin,
                &format!("FIND {{{phone}}} IN PHONE FIELDS RETURNING Account(Name)")
            )
            .await,
            ["Account:Acme Corporation"],
            "{phone}"
        );
    }

    // Chinese, written without spaces: any run of two or more characters of a value is
    // found; one character finds the values it begins a pair in.
    for term in ["华为", "技术", "华为技术有限公司", "有限", "深圳"] {
        assert_eq!(
            found(
                &app,
                &admin,
                &format!("FIND {{{term}}} RETURNING Account(Name)")
            )
            .await,
            ["Account:华为技术有限公司"],
            "{term}"
        );
    }
    assert!(
        found(&app, &admin, "FIND {华为公司} RETURNING Account(Name)")
            .await
            .is_empty(),
        "characters that are not neighbours do not match"
    );
    assert_eq!(
        found(&app, &admin, "FIND {王伟} RETURNING Contact(Name)").await,
        ["Contact:王伟"]
    );

    // Operators, phrases, wildcards.
    assert_eq!(
        found(
            &app,
            &admin,
            "FIND {acme AND NOT partner} RETURNING Account(Name)"
        )
        .await,
        ["Account:Acme Corporation"]
    );
    assert_eq!(
        found(
            &app,
            &admin,
            "FIND {globex OR initech} RETURNING Account(Name ORDER BY Name)"
        )
        .await,
        ["Account:Globex", "Account:Initech"]
    );
    assert_eq!(
        found(
            &app,
            &admin,
            "FIND {(globex OR initech) AND growth} RETURNING Account(Name)"
        )
        .await,
        ["Account:Globex"],
        "a custom text field is indexed"
    );
    assert_eq!(
        found(
            &app,
            &admin,
            "FIND {\"acme corporation\"} RETURNING Account(Name)"
        )
        .await,
        ["Account:Acme Corporation"]
    );
    assert!(
        found(
            &app,
            &admin,
            "FIND {\"corporation acme\"} RETURNING Account(Name)"
        )
        .await
        .is_empty()
    );
    assert_eq!(
        found(&app, &admin, "FIND {glob*} RETURNING Account(Name)").await,
        ["Account:Globex"]
    );
    assert!(
        found(&app, &admin, "FIND {glob} RETURNING Account(Name)")
            .await
            .is_empty(),
        "without a wildcard, whole words only"
    );

    // The index follows every write: update, delete, undelete, purge.
    crate::support::update(
        &app,
        &admin,
        "Account",
        &initech.to_18(),
        json!({"Name": "Initrode"}),
    )
    .await
    .unwrap();
    assert!(
        found(&app, &admin, "FIND {initech} RETURNING Account(Name)")
            .await
            .is_empty()
    );
    assert_eq!(
        found(&app, &admin, "FIND {initrode} RETURNING Account(Name)").await,
        ["Account:Initrode"]
    );
    app.delete(&admin, &globex.to_18()).await.unwrap();
    assert_eq!(
        found(&app, &admin, "FIND {acme} RETURNING Account(Name)").await,
        ["Account:Acme Corporation"]
    );
    app.undelete(&admin, &globex.to_18()).await.unwrap();
    assert_eq!(
        found(&app, &admin, "FIND {partner} RETURNING Account(Name)").await,
        ["Account:Globex"]
    );
    app.delete(&admin, &globex.to_18()).await.unwrap();
    app.purge(&admin, &globex.to_18()).await.unwrap();
    app.undelete(&admin, &globex.to_18()).await.unwrap_err();
    assert!(
        found(&app, &admin, "FIND {partner} RETURNING Account(Name)")
            .await
            .is_empty()
    );

    // Mistakes, each named.
    let cases = [
        (
            "FIND acme",
            "MALFORMED_SEARCH",
            "No search term found. The search term must be enclosed in braces. at Row:1:Column:1",
        ),
        (
            "FIND {a}",
            "MALFORMED_SEARCH",
            "search term must be longer than one character at Row:1:Column:6",
        ),
        (
            "FIND {-- ++}",
            "MALFORMED_SEARCH",
            "search term must be longer than one character at Row:1:Column:6",
        ),
        (
            "FIND {acme} RETURNING Nothing__c",
            "INVALID_TYPE",
            "sObject type 'Nothing__c' is not supported.",
        ),
        (
            "FIND {acme} RETURNING AccountHistory",
            "INVALID_TYPE",
            "entity type AccountHistory does not support search",
        ),
        (
            "FIND {acme} RETURNING Account(Nme)",
            "INVALID_FIELD",
            "No such column 'Nme' on entity 'Account'.",
        ),
        (
            "FIND {acme} RETURNING Account(Id FORM)",
            "MALFORMED_SEARCH",
            "expecting a right parentheses, found 'FORM' at Row:1:Column:34",
        ),
        (
            "FIND {acme} RETURNING Account(COUNT(Id))",
            "MALFORMED_SEARCH",
            "aggregate",
        ),
    ];
    for (sosl, code, message) in cases {
        let (got_code, got_message) = error(&app, &admin, sosl).await;
        assert_eq!(got_code, code, "{sosl}: {got_message}");
        assert!(
            got_message.starts_with(message) || got_message.contains(message),
            "{sosl}: {got_message}"
        );
    }

    // Over HTTP, in Salesforce's shape.
    let token = rapport_ok(&db, &["token", "--user", "admin@example.com"])
        .trim()
        .to_string();
    let server = Server::start(&db).await;
    let api = Api {
        client: reqwest::Client::new(),
        base: format!("{}/services/data/v59.0", server.base),
        token,
    };
    let (status, body) = api
        .get_with(
            "/search",
            "q",
            "FIND {华为} IN ALL FIELDS RETURNING Account(Id, Name), Contact(Name)",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"searchRecords": [
            {"attributes": {"type": "Account", "url": format!("/services/data/v59.0/sobjects/Account/{}", huawei.to_18())},
             "Id": huawei.to_18(), "Name": "华为技术有限公司"}
        ]})
    );
    let (status, body) = api.get_with("/search", "q", "FIND {x").await;
    assert_eq!(status, 400);
    assert_eq!(body[0]["errorCode"], "MALFORMED_SEARCH");
    let (status, body) = api.get_with("/search", "q", "").await;
    assert_eq!(
        (status, body[0]["errorCode"].as_str()),
        (400, Some("MALFORMED_SEARCH"))
    );
}

/// A term matching more records than a search looks at (`store::search::SEARCHED_MATCHES`)
/// is ranked among the newest matches only, as Salesforce's search looks at 2,000: the best
/// match by rank, if older, is crowded out until the term is refined.
async fn a_common_term_searches_the_newest_matches(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let window = store::search::SEARCHED_MATCHES;
    // The best match (its whole name is the term) is the oldest.
    app.create(&admin, "Account", input(json!({"Name": "Crowd"})))
        .await
        .unwrap();
    let others: Vec<_> = (0..window)
        .map(|i| input(json!({"Name": format!("Crowd Filler Logistics Holdings {i}")})))
        .collect();
    let made = app
        .create_many(
            &admin,
            "Account",
            others,
            app::records::WriteOptions { all_or_none: true },
        )
        .await
        .unwrap();
    assert!(made.iter().all(Result::is_ok));
    let best = found(&app, &admin, "FIND {Crowd} RETURNING Account(Name LIMIT 1)").await;
    assert_eq!(best.len(), 1);
    assert_ne!(
        best,
        ["Account:Crowd"],
        "the oldest match is past the window"
    );
    assert_eq!(
        found(&app, &admin, "FIND {Crowd} RETURNING Account(Name)")
            .await
            .len(),
        window
    );
    // With one record fewer in the window's way, it is found and ranked first.
    let newest = made.last().unwrap().as_ref().unwrap();
    app.delete(&admin, &newest.to_18()).await.unwrap();
    assert_eq!(
        found(&app, &admin, "FIND {Crowd} RETURNING Account(Name LIMIT 1)").await,
        ["Account:Crowd"]
    );

    // Converted leads are not searched, and take no places: the oldest lead is found after
    // a window's worth of newer ones are converted.
    app.create(
        &admin,
        "Lead",
        input(json!({"LastName": "Throng", "Company": "Old Co"})),
    )
    .await
    .unwrap();
    let leads: Vec<_> = (0..window)
        .map(|i| input(json!({"LastName": format!("Throng Filler {i}"), "Company": "Filler Co"})))
        .collect();
    let leads = app
        .create_many(
            &admin,
            "Lead",
            leads,
            app::records::WriteOptions { all_or_none: true },
        )
        .await
        .unwrap();
    let converts = leads
        .iter()
        .map(|lead| app::convert::LeadConvert {
            lead_id: lead.as_ref().unwrap().to_18(),
            converted_status: "Closed - Converted".into(),
            do_not_create_opportunity: true,
            ..Default::default()
        })
        .collect();
    let converted = app.convert_leads(&admin, converts).await.unwrap();
    assert!(converted.iter().all(Result::is_ok));
    assert_eq!(
        found(&app, &admin, "FIND {Throng} RETURNING Lead(Name)").await,
        ["Lead:Throng"]
    );
}
