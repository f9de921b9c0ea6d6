//! The recycle bin: delete, undelete (with what was deleted along), purge.

use app::records::WriteOptions;
use model::{ErrorCode, Value};
use serde_json::json;
use store::Filter;

use crate::support::{TestDb, id18, input};

crate::both_backends!(
    delete_undelete_purge,
    deleting_a_parent_takes_its_details_along,
    deletes_that_reach_a_record_twice_and_users,
    counts_leave_the_recycle_bin_out,
);

/// Counts with nothing to test but the recycle bin: from the tallies for an object with a
/// picklist (Account), as a table's count less the bin's for one without (a custom object;
/// `QueryPlan::to_count_sql`). Checked against records going in and out of the bin.
async fn counts_leave_the_recycle_bin_out(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    app.add_object("Widget__c", None, None, None, None)
        .await
        .unwrap();
    for object in ["Account", "Widget__c"] {
        counts_of(&app, &admin, object).await;
    }
}

async fn counts_of(app: &app::App, admin: &app::Caller, object: &'static str) {
    let mut ids = Vec::new();
    for name in ["A", "B", "C", "D", "E"] {
        let id = app
            .create(admin, object, input(json!({"Name": name})))
            .await
            .unwrap();
        ids.push(id18(&id));
    }
    app.delete(admin, &ids[1]).await.unwrap();
    app.delete(admin, &ids[3]).await.unwrap();
    let count = |soql: String, include_deleted: bool, page_size: usize| {
        let (app, admin) = (app.clone(), admin.clone());
        async move {
            let page = app
                .query(
                    &admin,
                    &soql,
                    app::query::QueryOptions {
                        page_size,
                        include_deleted,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            (page.total_size, page.rows.len())
        }
    };
    let all = || format!("SELECT COUNT() FROM {object}");
    let ordered = || format!("SELECT Id FROM {object} ORDER BY Name");
    assert_eq!(count(all(), false, 10).await.0, 3, "{object}");
    assert_eq!(count(all(), true, 10).await.0, 5, "{object}");
    assert_eq!(
        count(format!("{} WHERE IsDeleted = true", all()), true, 10)
            .await
            .0,
        2,
        "{object}"
    );
    // A first page counts the whole result the same way.
    assert_eq!(count(ordered(), false, 2).await, (3, 2), "{object}");
    assert_eq!(count(ordered(), true, 2).await, (5, 2), "{object}");
    app.undelete(admin, &ids[1]).await.unwrap();
    app.purge(admin, &ids[3]).await.unwrap();
    assert_eq!(count(all(), false, 10).await.0, 4, "{object}");
    assert_eq!(count(all(), true, 10).await.0, 4, "{object}");
    assert_eq!(
        count(
            format!("SELECT Id FROM {object} LIMIT 3 OFFSET 2"),
            false,
            10
        )
        .await,
        (2, 2),
        "{object}"
    );
}

async fn delete_undelete_purge(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let account = app
        .create(&admin, "Account", input(json!({"Name": "Binned"})))
        .await
        .unwrap();
    let contact = app
        .create(
            &admin,
            "Contact",
            input(json!({"LastName": "Kept", "AccountId": id18(&account)})),
        )
        .await
        .unwrap();
    app.delete(&admin, &id18(&account)).await.unwrap();
    assert_eq!(
        app.get(&admin, "Account", &id18(&account), None)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        app.delete(&admin, &id18(&account))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::EntityIsDeleted
    );
    // A reference to a record in the bin is refused with the reason.
    let error = app
        .create(
            &admin,
            "Contact",
            input(json!({"LastName": "x", "AccountId": id18(&account)})),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::EntityIsDeleted);
    let update = app::records::Update {
        id: id18(&account),
        input: input(json!({"Name": "x"})),
        if_unmodified_since: None,
    };
    assert_eq!(
        app.update(&admin, "Account", update)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::EntityIsDeleted
    );

    app.undelete(&admin, &id18(&account)).await.unwrap();
    let record = app
        .get(&admin, "Account", &id18(&account), None)
        .await
        .unwrap();
    assert_eq!(record.get("IsDeleted"), Some(&Value::Bool(false)));
    assert_eq!(
        app.undelete(&admin, &id18(&account))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidOperation
    );

    app.delete(&admin, &id18(&account)).await.unwrap();
    app.purge(&admin, &id18(&account)).await.unwrap();
    assert_eq!(
        app.undelete(&admin, &id18(&account))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    // The contact survives its purged account, with the lookup cleared.
    let contact = app
        .get(&admin, "Contact", &id18(&contact), None)
        .await
        .unwrap();
    assert_eq!(contact.get("AccountId"), Some(&Value::Null));

    // Retention: what is older than the cutoff goes.
    let old = app
        .create(&admin, "Account", input(json!({"Name": "Old"})))
        .await
        .unwrap();
    app.delete(&admin, &id18(&old)).await.unwrap();
    assert_eq!(app.purge_expired().await.unwrap(), 0);
    let later = model::value::now_millis() + time::Duration::seconds(1);
    assert_eq!(app.purge_deleted_before(later).await.unwrap(), 1);
    assert_eq!(
        app.undelete(&admin, &id18(&old)).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
}

async fn deleting_a_parent_takes_its_details_along(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
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
    let member = app
        .create(
            &admin,
            "CampaignMember",
            input(json!({"CampaignId": id18(&campaign), "LeadId": id18(&lead)})),
        )
        .await
        .unwrap();
    let results = app
        .delete_many(&admin, vec![id18(&campaign)], WriteOptions::default())
        .await
        .unwrap();
    assert!(results[0].is_ok());
    assert_eq!(
        app.get(&admin, "CampaignMember", &id18(&member), None)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        app.undelete(&admin, &id18(&member))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidOperation,
        "a detail comes back with its parent only"
    );
    app.undelete(&admin, &id18(&campaign)).await.unwrap();
    let members = app
        .find(
            &admin,
            "CampaignMember",
            &["Id"],
            Some(Filter::eq("CampaignId", Value::Id(campaign.clone()))),
            vec![],
            None,
        )
        .await
        .unwrap();
    assert_eq!(members.len(), 1);
}

async fn deletes_that_reach_a_record_twice_and_users(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let account = app
        .create(&admin, "Account", input(json!({"Name": "Parent"})))
        .await
        .unwrap();
    let note = app
        .create(
            &admin,
            "Note",
            input(json!({"Title": "Call notes", "ParentId": id18(&account)})),
        )
        .await
        .unwrap();
    // The same id twice, and a parent with a required child: one bin row each, no error.
    let results = app
        .delete_many(
            &admin,
            vec![id18(&account), id18(&account)],
            WriteOptions::default(),
        )
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        app.get(&admin, "Note", &id18(&note), None)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound,
        "a note goes with its parent"
    );
    app.undelete(&admin, &id18(&account)).await.unwrap();
    app.get(&admin, "Note", &id18(&note), None).await.unwrap();
    app.delete(&admin, &id18(&account)).await.unwrap();
    app.purge(&admin, &id18(&account)).await.unwrap();
    assert_eq!(
        app.undelete(&admin, &id18(&note)).await.unwrap_err().code(),
        ErrorCode::NotFound,
        "purged with its parent"
    );
    // Users are deactivated, never deleted.
    let error = app
        .delete(&admin, &id18(admin.user_id.as_ref().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidOperation);
}
