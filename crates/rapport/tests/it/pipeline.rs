//! The pipeline summary answers the home page's and the board's questions (counts and sums
//! of opportunities by stage, for one owner or all, open or not). After every kind of write —
//! create, stage and amount changes, a transfer, delete, undelete, purge, an account's
//! cascade — its answers equal the same questions asked of the records themselves. Both
//! backends.

use app::records::Update;
use app::transfer::Transfer;
use app::users::NewUser;
use app::{App, Caller};
use model::Lang;
use serde_json::json;

use crate::support::{TestDb, input};

crate::both_backends!(pipeline_summary_follows_every_write);

/// The questions the summary answers, each beside a twin it cannot answer (an extra
/// condition true of every record), which reads the records.
fn questions(owner: &str) -> Vec<(String, String)> {
    let select = "SELECT StageName, COUNT(StageName) n, SUM(Amount) total, COUNT(Id) deals, COUNT(Amount) priced, COUNT() FROM Opportunity";
    [
        String::new(),
        format!(" WHERE OwnerId = '{owner}'"),
        format!(" WHERE OwnerId = '{owner}' AND IsClosed = false"),
        " WHERE IsClosed = true".to_string(),
    ]
    .into_iter()
    .map(|filter| {
        let twin = if filter.is_empty() {
            " WHERE Name != null".to_string()
        } else {
            format!("{filter} AND Name != null")
        };
        (
            format!("{select}{filter} GROUP BY StageName"),
            format!("{select}{twin} GROUP BY StageName"),
        )
    })
    .collect()
}

async fn answer(app: &App, caller: &Caller, soql: &str) -> Vec<String> {
    let page = app
        .query(caller, soql, Default::default())
        .await
        .unwrap_or_else(|e| panic!("{soql}: {e}"));
    let mut rows: Vec<String> = page
        .rows
        .iter()
        .map(|row| format!("{:?}", row.cells))
        .collect();
    rows.sort();
    rows
}

async fn agree(app: &App, caller: &Caller, owner: &str, step: &str) {
    for (summary, records) in questions(owner) {
        assert_eq!(
            answer(app, caller, &summary).await,
            answer(app, caller, &records).await,
            "after {step}: {summary}"
        );
    }
}

async fn pipeline_summary_follows_every_write(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let me = admin.user_id.clone().unwrap().to_18();
    let other = app
        .add_user(
            &Caller::system(),
            NewUser {
                email: "other@example.com".into(),
                password: "secret123".into(),
                name: "Otto Other".into(),
                profile: None,
                role: None,
                language: Lang::En,
            },
        )
        .await
        .unwrap()
        .to_18();
    agree(&app, &admin, &me, "nothing").await;

    let deals = [
        json!({"Name": "A", "StageName": "Prospecting", "CloseDate": "2030-01-31", "Amount": 100.5}),
        json!({"Name": "B", "StageName": "Prospecting", "CloseDate": "2030-01-31", "Amount": 200}),
        json!({"Name": "C", "StageName": "Qualification", "CloseDate": "2030-01-31"}),
        json!({"Name": "D", "StageName": "Closed Won", "CloseDate": "2030-01-31", "Amount": 500}),
        json!({"Name": "E", "StageName": "Closed Lost", "CloseDate": "2030-01-31", "Amount": 50}),
    ];
    let mut ids = Vec::new();
    for deal in deals {
        ids.push(
            app.create(&admin, "Opportunity", input(deal))
                .await
                .unwrap()
                .to_18(),
        );
    }
    agree(&app, &admin, &me, "creates").await;

    let update = |id: &String, fields: serde_json::Value| Update {
        id: id.clone(),
        input: input(fields),
        if_unmodified_since: None,
    };
    app.update(
        &admin,
        "Opportunity",
        update(&ids[0], json!({"StageName": "Negotiation/Review"})),
    )
    .await
    .unwrap();
    app.update(
        &admin,
        "Opportunity",
        update(&ids[1], json!({"Amount": null})),
    )
    .await
    .unwrap();
    app.update(
        &admin,
        "Opportunity",
        update(&ids[2], json!({"Amount": 75})),
    )
    .await
    .unwrap();
    app.update(
        &admin,
        "Opportunity",
        update(&ids[3], json!({"Name": "D renamed"})),
    )
    .await
    .unwrap();
    agree(&app, &admin, &me, "updates").await;

    app.transfer(
        &admin,
        Transfer {
            ids: vec![ids[2].clone()],
            owner_id: other.clone(),
            open_opportunities: false,
        },
    )
    .await
    .unwrap();
    agree(&app, &admin, &me, "a transfer").await;
    agree(&app, &admin, &other, "a transfer (new owner)").await;

    app.delete(&admin, &ids[0]).await.unwrap();
    agree(&app, &admin, &me, "a delete").await;
    app.undelete(&admin, &ids[0]).await.unwrap();
    agree(&app, &admin, &me, "an undelete").await;
    app.delete(&admin, &ids[4]).await.unwrap();
    app.purge(&admin, &ids[4]).await.unwrap();
    agree(&app, &admin, &me, "a purge").await;

    // An account's deals go to the recycle bin with it, and come back with it.
    let account = app
        .create(&admin, "Account", input(json!({"Name": "Cascade Co"})))
        .await
        .unwrap()
        .to_18();
    app.create(
        &admin,
        "Opportunity",
        input(json!({"Name": "F", "StageName": "Prospecting", "CloseDate": "2030-01-31", "Amount": 9, "AccountId": account})),
    )
    .await
    .unwrap();
    agree(&app, &admin, &me, "a deal on an account").await;
    app.delete(&admin, &account).await.unwrap();
    agree(&app, &admin, &me, "the account's delete").await;
    app.undelete(&admin, &account).await.unwrap();
    agree(&app, &admin, &me, "the account's undelete").await;

    // The summary's answers are the records': a spot check of the numbers themselves.
    let open = answer(
        &app,
        &admin,
        &format!("SELECT StageName, COUNT(Id) n, SUM(Amount) total FROM Opportunity WHERE OwnerId = '{me}' AND IsClosed = false GROUP BY StageName"),
    )
    .await;
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(
        open.iter().any(|row| row.contains("Negotiation/Review")
            && row.contains("Decimal(1)")
            && row.contains("Decimal(100.50)")),
        "{open:?}"
    );

    // And they do come from the summary: counts planted there show in each of its answers,
    // and in none of the records'.
    let store = store::Store::connect(&db.url).await.unwrap();
    store.compact_summaries().await.unwrap();
    let mut plant = store.sql();
    plant.push("UPDATE rapport_pipeline SET deals = deals + 1000");
    store.execute(plant).await.unwrap();
    for (summary, records) in questions(&me) {
        let planted = answer(&app, &admin, &summary).await;
        assert_ne!(planted, answer(&app, &admin, &records).await, "{summary}");
    }

    // A caller whose sharing restricts them reads the records, not the summary: with
    // opportunities private, a rep sees none of the admin's deals.
    let rep = crate::support::rep(&app).await;
    crate::support::rapport_ok(&db, &["sharing", "default", "Opportunity", "private"]);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    for (summary, _) in questions(&me) {
        assert_eq!(
            answer(&app, &rep, &summary).await,
            Vec::<String>::new(),
            "{summary}"
        );
    }
}
