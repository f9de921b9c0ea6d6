//! Picklist tallies answer the counts of lists filtered by picklist values (`totalSize` of
//! `WHERE Industry = 'Energy'`). After every kind of write — create, update, a bulk update,
//! delete (and its cascade), undelete, purge — and every change to the fields and objects —
//! a picklist added, a text field turned picklist and back, a picklist removed, an object
//! removed and made again — their answers equal the same counts read from the records.
//! Both backends.

use app::records::{Update, WriteOptions};
use app::setup::{FieldChange, NewField};
use app::{App, Caller};
use model::FieldType;
use serde_json::json;

use crate::support::{TestDb, id18, input};

crate::both_backends!(
    tallies_follow_every_write,
    tallies_hold_under_concurrent_writers
);

/// Filters the tallies answer ("" for none: every live record).
const FILTERS: &[&str] = &[
    "Industry = 'Energy'",
    "Industry = 'energy'",
    "Industry IN ('Energy', 'Banking')",
    "Rating = 'Hot'",
    "Industry = 'Not A Defined Industry'",
    "",
    "Industry = null",
];

async fn total(app: &App, caller: &Caller, soql: &str) -> u64 {
    total_of(app, caller, soql, false).await
}

/// `include_deleted`: as `queryAll` asks, with the recycle bin.
async fn total_of(app: &App, caller: &Caller, soql: &str, include_deleted: bool) -> u64 {
    app.query(
        caller,
        soql,
        app::query::QueryOptions {
            page_size: 1,
            include_deleted,
            ..Default::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{soql}: {e}"))
    .total_size
}

/// Each filter's count and a list's first-page `totalSize`, beside the count of a twin the
/// tallies cannot answer (an extra condition true of every record), which reads the records.
/// Returns the counts.
async fn agree(app: &App, caller: &Caller, filters: &[&str], step: &str) -> Vec<u64> {
    agree_on(app, caller, "Account", filters, step).await
}

async fn agree_on(
    app: &App,
    caller: &Caller,
    object: &str,
    filters: &[&str],
    step: &str,
) -> Vec<u64> {
    let mut counts = Vec::new();
    for filter in filters {
        let (tallied, twin) = if filter.is_empty() {
            (String::new(), " WHERE Id != null".to_string())
        } else {
            (
                format!(" WHERE {filter}"),
                format!(" WHERE {filter} AND Id != null"),
            )
        };
        let twin = total(app, caller, &format!("SELECT COUNT() FROM {object}{twin}")).await;
        for soql in [
            format!("SELECT COUNT() FROM {object}{tallied}"),
            format!("SELECT Id FROM {object}{tallied} ORDER BY Id"),
        ] {
            assert_eq!(
                total(app, caller, &soql).await,
                twin,
                "after {step}: {soql}"
            );
        }
        counts.push(twin);
    }
    counts
}

async fn add_picklist(app: &App, object: &str, name: &str, values: &[&str]) {
    app.add_field(NewField {
        object: object.into(),
        name: name.into(),
        field_type: Some(FieldType::Picklist),
        values: values.iter().map(|v| v.to_string()).collect(),
        ..Default::default()
    })
    .await
    .unwrap();
}

async fn retype(app: &App, field: &str, field_type: FieldType) {
    let change = FieldChange {
        field_type: Some(field_type),
        ..Default::default()
    };
    app.change_field("Account", field, change).await.unwrap();
}

fn update(id: &str, fields: serde_json::Value) -> Update {
    Update {
        id: id.to_string(),
        input: input(fields),
        if_unmodified_since: None,
    }
}

async fn tallies_follow_every_write(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let accounts = [
        json!({"Name": "A", "Industry": "Energy", "Rating": "Hot"}),
        json!({"Name": "B", "Industry": "energy"}),
        json!({"Name": "C", "Industry": "Banking", "Rating": "Hot"}),
        json!({"Name": "D", "Rating": "Cold"}),
        json!({"Name": "E", "Industry": "Energy", "Rating": "Warm"}),
    ];
    let mut ids = Vec::new();
    for account in accounts {
        let id = app.create(&admin, "Account", input(account)).await.unwrap();
        ids.push(id18(&id));
    }
    assert_eq!(
        agree(&app, &admin, FILTERS, "creates").await,
        [3, 3, 4, 2, 0, 5, 1],
        "a value given in another case is stored as the picklist defines it"
    );
    // A list that does not ask for its count gets it all the same when a tally answers it,
    // and otherwise learns only that there are more rows.
    for (filter, counted, total) in [("Industry = 'Energy'", true, 3), ("Name != 'Z'", false, 1)] {
        let page = app
            .query(
                &admin,
                &format!("SELECT Id FROM Account WHERE {filter} ORDER BY Name"),
                app::query::QueryOptions {
                    page_size: 1,
                    count: false,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (page.counted, page.total_size),
            (counted, total),
            "{filter}"
        );
    }
    // A null among the values is no picklist value: the records are counted.
    assert_eq!(
        agree(&app, &admin, &["Industry IN ('Energy', null)"], "creates").await,
        [4]
    );

    app.update(
        &admin,
        "Account",
        update(&ids[0], json!({"Industry": null})),
    )
    .await
    .unwrap();
    app.update(
        &admin,
        "Account",
        update(&ids[3], json!({"Industry": "Energy", "Rating": "Hot"})),
    )
    .await
    .unwrap();
    // A change to neither picklist moves nothing.
    app.update(&admin, "Account", update(&ids[4], json!({"Name": "E2"})))
        .await
        .unwrap();
    assert_eq!(
        agree(&app, &admin, FILTERS, "updates").await,
        [3, 3, 4, 3, 0, 5, 1]
    );

    app.update_many(
        &admin,
        "Account",
        ids.iter()
            .map(|id| update(id, json!({"Rating": "Warm"})))
            .collect(),
        WriteOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        agree(&app, &admin, FILTERS, "a bulk update").await,
        [3, 3, 4, 0, 0, 5, 1]
    );

    // A campaign's member, which goes to the recycle bin with the campaign.
    let campaign = app
        .create(&admin, "Campaign", input(json!({"Name": "Expo"})))
        .await
        .unwrap();
    let lead = app
        .create(
            &admin,
            "Lead",
            input(json!({"LastName": "Zhao", "Company": "Acme"})),
        )
        .await
        .unwrap();
    app.create(
        &admin,
        "CampaignMember",
        input(json!({"CampaignId": id18(&campaign), "LeadId": id18(&lead), "Status": "Responded"})),
    )
    .await
    .unwrap();
    let responded = ["Status = 'Responded'"];
    assert_eq!(
        agree_on(&app, &admin, "CampaignMember", &responded, "a member").await,
        [1]
    );
    app.delete(&admin, &id18(&campaign)).await.unwrap();
    app.delete(&admin, &ids[1]).await.unwrap();
    app.delete(&admin, &ids[2]).await.unwrap();
    assert_eq!(
        agree(&app, &admin, FILTERS, "deletes").await,
        [2, 2, 2, 0, 0, 3, 1]
    );
    assert_eq!(
        agree_on(&app, &admin, "CampaignMember", &responded, "a cascade").await,
        [0]
    );
    // queryAll counts the recycle bin too, from the records.
    let energy_all = "SELECT COUNT() FROM Account WHERE Industry = 'Energy'";
    assert_eq!(total_of(&app, &admin, energy_all, true).await, 3);
    app.undelete(&admin, &ids[2]).await.unwrap();
    app.purge(&admin, &ids[1]).await.unwrap();
    assert_eq!(
        agree(&app, &admin, FILTERS, "an undelete and a purge").await,
        [2, 2, 3, 0, 0, 4, 1]
    );
    app.undelete(&admin, &id18(&campaign)).await.unwrap();
    assert_eq!(
        agree_on(&app, &admin, "CampaignMember", &responded, "an undelete").await,
        [1]
    );

    // A picklist added to accounts that exist, then set on some of them.
    add_picklist(&app, "Account", "Tier__c", &["Gold", "Silver"]).await;
    let tier = ["Tier__c = 'Gold'", "Tier__c IN ('Gold', 'Silver')"];
    assert_eq!(agree(&app, &admin, &tier, "a new picklist").await, [0, 0]);
    app.update(
        &admin,
        "Account",
        update(&ids[0], json!({"Tier__c": "Gold"})),
    )
    .await
    .unwrap();
    app.update(
        &admin,
        "Account",
        update(&ids[2], json!({"Tier__c": "Silver"})),
    )
    .await
    .unwrap();
    assert_eq!(agree(&app, &admin, &tier, "tiers set").await, [1, 2]);

    // A text field holding values, turned into a picklist of the values in use.
    app.add_field(NewField {
        object: "Account".into(),
        name: "Segment__c".into(),
        field_type: Some(FieldType::Text),
        length: Some(40),
        ..Default::default()
    })
    .await
    .unwrap();
    for id in [&ids[0], &ids[3]] {
        app.update(
            &admin,
            "Account",
            update(id, json!({"Segment__c": "Retail"})),
        )
        .await
        .unwrap();
    }
    retype(&app, "Segment__c", FieldType::Picklist).await;
    let segment = ["Segment__c = 'Retail'"];
    assert_eq!(
        agree(&app, &admin, &segment, "a text field made picklist").await,
        [2]
    );

    // A picklist removed takes its tallies along; the others keep counting.
    app.remove_field("Account", "Tier__c").await.unwrap();
    app.update(
        &admin,
        "Account",
        update(&ids[0], json!({"Industry": "Banking"})),
    )
    .await
    .unwrap();
    assert_eq!(
        agree(&app, &admin, FILTERS, "a picklist removed").await,
        [2, 2, 4, 0, 0, 4, 0]
    );
    assert_eq!(
        agree(&app, &admin, &segment, "a picklist removed").await,
        [2]
    );
    // And a picklist made text again is counted from the records, its tallies gone.
    retype(&app, "Segment__c", FieldType::Text).await;
    assert_eq!(
        agree(&app, &admin, &segment, "a picklist made text").await,
        [2]
    );

    // An object removed takes its tallies along: made again, it starts from none.
    for round in ["made", "made again"] {
        app.add_object("Gadget__c", None, None, None, None)
            .await
            .unwrap();
        add_picklist(&app, "Gadget__c", "Kind__c", &["A", "B"]).await;
        let kind = ["Kind__c = 'A'"];
        assert_eq!(agree_on(&app, &admin, "Gadget__c", &kind, round).await, [0]);
        for name in ["G1", "G2"] {
            app.create(
                &admin,
                "Gadget__c",
                input(json!({"Name": name, "Kind__c": "A"})),
            )
            .await
            .unwrap();
        }
        assert_eq!(agree_on(&app, &admin, "Gadget__c", &kind, round).await, [2]);
        app.remove_object("Gadget__c").await.unwrap();
    }

    // The counts do come from the tallies: counts planted there show in the tallied answers
    // and in none of the records'.
    let store = store::Store::connect(&db.url).await.unwrap();
    store.compact_summaries().await.unwrap();
    let mut left = store.sql();
    left.push("SELECT CAST(COALESCE(SUM(live), 0) AS BIGINT) FROM rapport_tally WHERE col IN ('segment__c', 'tier__c') OR tbl = 'gadget__c'");
    let left = store.fetch(left, &[store::Col::Int]).await.unwrap();
    assert_eq!(
        left,
        [[model::Value::Decimal(0.into())]],
        "tallies of fields and objects gone"
    );
    let mut plant = store.sql();
    plant.push("UPDATE rapport_tally SET live = live + 1000 WHERE col = 'industry'");
    store.execute(plant).await.unwrap();
    let energy = "SELECT Id FROM Account WHERE Industry = 'Energy' ORDER BY Name";
    assert_eq!(total(&app, &admin, energy).await, 1002);
    assert_eq!(
        total(
            &app,
            &admin,
            "SELECT Id FROM Account WHERE Industry = 'Energy' AND Name != null"
        )
        .await,
        2
    );

    // A caller whose sharing restricts them counts the records they read, not the tallies:
    // with accounts private, a rep sees none of the admin's.
    let rep = crate::support::rep(&app).await;
    crate::support::rapport_ok(&db, &["sharing", "default", "Account", "private"]);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(total(&app, &rep, energy).await, 0);
    plant = store.sql();
    plant.push("UPDATE rapport_tally SET live = live - 1000 WHERE col = 'industry'");
    store.execute(plant).await.unwrap();
    store.close().await;
}

/// Writers moving records between values at once, a picklist added meanwhile (its triggers
/// rewritten under the table's lock), and the fold of PostgreSQL's change rows running all
/// the while: afterwards the tallies still equal the records.
async fn tallies_hold_under_concurrent_writers(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let mut ids = Vec::new();
    for i in 0..40 {
        let id = app
            .create(
                &admin,
                "Account",
                input(json!({"Name": format!("Co {i}"), "Industry": "Energy"})),
            )
            .await
            .unwrap();
        ids.push(id18(&id));
    }
    let ids = std::sync::Arc::new(ids);
    let store = store::Store::connect(&db.url).await.unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let folder = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            let mut folds = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                store.compact_summaries().await.unwrap();
                folds += 1;
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            folds
        })
    };
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let (app, admin, ids) = (app.clone(), admin.clone(), ids.clone());
            tokio::spawn(async move {
                for j in 0..25usize {
                    let id = &ids[(w * 7 + j * 3) % ids.len()];
                    let industry = ["Energy", "Banking", "Retail", ""][(w + j) % 4];
                    let rating = ["Hot", "Warm"][j % 2];
                    let fields = if industry.is_empty() {
                        json!({"Industry": null, "Rating": rating})
                    } else {
                        json!({"Industry": industry, "Rating": rating})
                    };
                    app.update(&admin, "Account", update(id, fields))
                        .await
                        .unwrap();
                    if j % 5 == 0 {
                        app.create(
                            &admin,
                            "Account",
                            input(json!({"Name": format!("New {w} {j}"), "Industry": "Retail"})),
                        )
                        .await
                        .unwrap();
                    }
                }
            })
        })
        .collect();
    add_picklist(&app, "Account", "Tier__c", &["Gold", "Silver"]).await;
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(folder.await.unwrap() > 0);
    store.compact_summaries().await.unwrap();
    let filters = [
        "Industry = 'Energy'",
        "Industry = 'Banking'",
        "Industry = 'Retail'",
        "Rating IN ('Hot', 'Warm')",
        "Tier__c = 'Gold'",
    ];
    let counts = agree(&app, &admin, &filters, "concurrent writers").await;
    // 40 accounts plus 30 new ones (all Retail when made), every one counted once.
    assert_eq!(
        counts[..3].iter().sum::<u64>()
            + total(
                &app,
                &admin,
                "SELECT COUNT() FROM Account WHERE Industry = null"
            )
            .await,
        70
    );
    store.close().await;
}
