//! Record operations: create, read, update, validation errors that change nothing, bulk
//! results, stale updates, derived fields and history.

use app::records::{Update, WriteOptions};
use model::{ErrorCode, Value};
use serde_json::json;
use store::Filter;

use crate::support::{TestDb, id18, input};

crate::both_backends!(
    create_read_update,
    bad_input_is_refused_precisely_and_changes_nothing,
    bulk_partial_and_all_or_none,
    stale_updates_are_refused,
    stages_drive_probability_and_history_is_written,
    ids_are_accepted_in_both_forms,
    concurrent_single_creates_share_commits_but_not_fates,
);

async fn create_read_update(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let account = app
        .create(&admin, "account", input(json!({"name": "华为技术有限公司", "Industry": "Technology", "AnnualRevenue": 1234567, "NumberOfEmployees": 200})))
        .await
        .unwrap();
    assert_eq!(account.key_prefix(), "001");
    let record = app
        .get(&admin, "Account", &id18(&account), None)
        .await
        .unwrap();
    assert_eq!(
        record.get("Name"),
        Some(&Value::Text("华为技术有限公司".into()))
    );
    assert_eq!(
        record.get("OwnerId"),
        Some(&Value::Id(admin.user_id.clone().unwrap()))
    );
    assert_eq!(
        record.get("CreatedById"),
        Some(&Value::Id(admin.user_id.clone().unwrap()))
    );
    assert_eq!(record.get("IsDeleted"), Some(&Value::Bool(false)));
    assert_eq!(record.to_json()["AnnualRevenue"], json!(1234567));
    let created = record.get("CreatedDate").cloned();
    assert!(matches!(created, Some(Value::DateTime(_))));

    let contact = app
        .create(&admin, "Contact", input(json!({"FirstName": "建国", "LastName": "王", "AccountId": id18(&account), "Email": "wang@example.cn"})))
        .await
        .unwrap();
    let record = app
        .get(
            &admin,
            "Contact",
            &id18(&contact),
            Some(&["Name".into(), "AccountId".into()]),
        )
        .await
        .unwrap();
    assert_eq!(record.get("Name"), Some(&Value::Text("王建国".into())));
    assert_eq!(record.get("AccountId"), Some(&Value::Id(account.clone())));
    assert!(record.get("Id").is_some(), "Id is always returned");
    assert!(record.get("Email").is_none(), "only the fields asked for");

    let update = Update {
        id: id18(&account),
        input: input(json!({"Phone": "+86 755 1234 5678", "AnnualRevenue": 99.5})),
        if_unmodified_since: None,
    };
    app.update(&admin, "Account", update).await.unwrap();
    let record = app
        .get(&admin, "Account", &id18(&account), None)
        .await
        .unwrap();
    assert_eq!(
        record.get("Phone"),
        Some(&Value::Text("+86 755 1234 5678".into()))
    );
    // Currency(18,0): rounded half away from zero.
    assert_eq!(record.to_json()["AnnualRevenue"], json!(100));
    assert_eq!(record.get("CreatedDate").cloned(), created);
    assert!(
        record.get("SystemModstamp").and_then(Value::as_datetime)
            >= record.get("CreatedDate").and_then(Value::as_datetime)
    );

    let found = app
        .find(
            &admin,
            "Account",
            &["Id", "Name"],
            Some(Filter::eq("Industry", Value::Text("Technology".into()))),
            vec![],
            None,
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    // Lead status takes its default; Organization is refused to callers.
    let lead = app
        .create(
            &admin,
            "Lead",
            input(json!({"LastName": "Li", "Company": "Acme"})),
        )
        .await
        .unwrap();
    let lead = app
        .get(&admin, "Lead", &id18(&lead), Some(&["Status".into()]))
        .await
        .unwrap();
    assert_eq!(
        lead.get("Status"),
        Some(&Value::Text("Open - Not Contacted".into()))
    );
    let refused = app
        .create(&admin, "Organization", input(json!({"Name": "Another"})))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InvalidOperation);
}

async fn count(app: &app::App, admin: &app::Caller, object: &str) -> usize {
    app.find(admin, object, &["Id"], None, vec![], None)
        .await
        .unwrap()
        .len()
}

async fn bad_input_is_refused_precisely_and_changes_nothing(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let account = app
        .create(&admin, "Account", input(json!({"Name": "Acme"})))
        .await
        .unwrap();
    let contact = app
        .create(&admin, "Contact", input(json!({"LastName": "Smith"})))
        .await
        .unwrap();
    let before = app
        .get(&admin, "Account", &id18(&account), None)
        .await
        .unwrap();
    let accounts = count(&app, &admin, "Account").await;
    let opportunities = count(&app, &admin, "Opportunity").await;

    let cases: Vec<(&str, serde_json::Value, ErrorCode, &str)> = vec![
        (
            "Account",
            json!({"Name": "x", "NumberOfEmployees": "many"}),
            ErrorCode::InvalidTypeOnFieldInRecord,
            "NumberOfEmployees",
        ),
        (
            "Account",
            json!({"Name": "x".repeat(256)}),
            ErrorCode::StringTooLong,
            "Name",
        ),
        (
            "Account",
            json!({"Name": "x", "Colour__c": "red"}),
            ErrorCode::InvalidField,
            "Colour__c",
        ),
        (
            "Account",
            json!({"Industry": "Technology"}),
            ErrorCode::RequiredFieldMissing,
            "Name",
        ),
        (
            "Account",
            json!({"Name": "x", "ParentId": "001xx"}),
            ErrorCode::MalformedId,
            "ParentId",
        ),
        (
            "Account",
            json!({"Name": "x", "ParentId": "001R00000000zzz"}),
            ErrorCode::InvalidCrossReferenceKey,
            "ParentId",
        ),
        (
            "Account",
            json!({"Name": "x", "ParentId": id18(&contact)}),
            ErrorCode::FieldIntegrityException,
            "ParentId",
        ),
        (
            "Account",
            json!({"Name": "x", "CreatedDate": "2020-01-01T00:00:00Z"}),
            ErrorCode::InvalidFieldForInsertUpdate,
            "CreatedDate",
        ),
        (
            "Opportunity",
            json!({"Name": "x", "StageName": "Dreaming", "CloseDate": "2030-01-01"}),
            ErrorCode::InvalidOrNullForRestrictedPicklist,
            "StageName",
        ),
        (
            "Opportunity",
            json!({"Name": "x", "StageName": "Prospecting", "CloseDate": "2030-02-30"}),
            ErrorCode::InvalidTypeOnFieldInRecord,
            "CloseDate",
        ),
        (
            "Opportunity",
            json!({"Name": "x", "StageName": "Prospecting", "CloseDate": "2030-01-01", "Amount": 1e20}),
            ErrorCode::NumberOutsideValidRange,
            "Amount",
        ),
        (
            "Contact",
            json!({"LastName": "x", "Email": "not-an-email"}),
            ErrorCode::InvalidEmailAddress,
            "Email",
        ),
    ];
    for (object, body, code, field) in cases {
        let error = app
            .create(&admin, object, input(body.clone()))
            .await
            .unwrap_err();
        let errors = error.errors();
        assert_eq!(errors[0].code, code, "{object} {body}: {errors:?}");
        assert_eq!(errors[0].fields, vec![field.to_string()], "{object} {body}");
    }
    let error = app
        .create(
            &admin,
            "Account",
            input(json!({"Name": "x", "NumberOfEmployees": "many"})),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.errors()[0].message,
        "Employees: value not of required type: many"
    );
    let error = app
        .create(
            &admin,
            "Opportunity",
            input(json!({"Name": "x", "StageName": "Dreaming", "CloseDate": "2030-01-01"})),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.errors()[0].message,
        "Stage: bad value for restricted picklist field: Dreaming"
    );
    // The same mistakes on update leave the record as it was.
    for body in [
        json!({"NumberOfEmployees": "many"}),
        json!({"Name": null}),
        json!({"ParentId": "001R00000000zzz"}),
        json!({"Id": "x", "CreatedById": "005R00000000001"}),
    ] {
        let update = app::records::Update {
            id: id18(&account),
            input: input(body.clone()),
            if_unmodified_since: None,
        };
        let error = app.update(&admin, "Account", update).await.unwrap_err();
        assert_ne!(error.code(), ErrorCode::UnknownException, "{body}");
    }
    let malformed = app::records::Update {
        id: "001nope".into(),
        input: input(json!({"Name": "y"})),
        if_unmodified_since: None,
    };
    assert_eq!(
        app.update(&admin, "Account", malformed)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::MalformedId
    );
    let wrong_object = app::records::Update {
        id: id18(&contact),
        input: input(json!({"Name": "y"})),
        if_unmodified_since: None,
    };
    assert_eq!(
        app.update(&admin, "Account", wrong_object)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::MalformedId
    );
    let after = app
        .get(&admin, "Account", &id18(&account), None)
        .await
        .unwrap();
    assert_eq!(before.to_json(), after.to_json());
    assert_eq!(count(&app, &admin, "Account").await, accounts);
    assert_eq!(count(&app, &admin, "Opportunity").await, opportunities);
    // Several problems in one record are all reported.
    let error = app
        .create(
            &admin,
            "Account",
            input(json!({"Name": "x", "Foo": 1, "NumberOfEmployees": "many"})),
        )
        .await
        .unwrap_err();
    assert_eq!(error.errors().len(), 2);
}

async fn bulk_partial_and_all_or_none(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let inputs = vec![
        input(json!({"Name": "One"})),
        input(json!({"Industry": "Energy"})),
        input(json!({"Name": "Three"})),
    ];
    let results = app
        .create_many(
            &admin,
            "Account",
            inputs.clone(),
            WriteOptions { all_or_none: false },
        )
        .await
        .unwrap();
    assert!(results[0].is_ok() && results[2].is_ok());
    assert_eq!(
        results[1].as_ref().unwrap_err()[0].code,
        ErrorCode::RequiredFieldMissing
    );
    assert_eq!(count(&app, &admin, "Account").await, 2);

    let results = app
        .create_many(
            &admin,
            "Account",
            inputs,
            WriteOptions { all_or_none: true },
        )
        .await
        .unwrap();
    assert_eq!(
        results[0].as_ref().unwrap_err()[0].code,
        ErrorCode::AllOrNoneOperationRolledBack
    );
    assert_eq!(
        results[1].as_ref().unwrap_err()[0].code,
        ErrorCode::RequiredFieldMissing
    );
    assert_eq!(
        count(&app, &admin, "Account").await,
        2,
        "all-or-none wrote nothing"
    );

    let many: Vec<_> = (0..1500)
        .map(|i| input(json!({"Name": format!("Bulk {i}"), "NumberOfEmployees": i})))
        .collect();
    let results = app
        .create_many(&admin, "Account", many, WriteOptions { all_or_none: true })
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok));
    let ids: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 1500);
    assert_eq!(count(&app, &admin, "Account").await, 1502);

    let updates: Vec<_> = ids
        .iter()
        .take(300)
        .map(|id| Update {
            id: id18(id),
            input: input(json!({"Rating": "Hot"})),
            if_unmodified_since: None,
        })
        .collect();
    let results = app
        .update_many(
            &admin,
            "Account",
            updates,
            WriteOptions { all_or_none: false },
        )
        .await
        .unwrap();
    assert!(results.iter().all(Result::is_ok));
    let hot = app
        .find(
            &admin,
            "Account",
            &["Id"],
            Some(Filter::eq("Rating", Value::Text("Hot".into()))),
            vec![],
            None,
        )
        .await
        .unwrap();
    assert_eq!(hot.len(), 300);
    let results = app
        .delete_many(
            &admin,
            ids.iter()
                .take(100)
                .map(id18)
                .chain(["001nope".to_string()])
                .collect(),
            WriteOptions { all_or_none: false },
        )
        .await
        .unwrap();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 100);
    assert_eq!(count(&app, &admin, "Account").await, 1402);
}

async fn stale_updates_are_refused(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let id = app
        .create(&admin, "Account", input(json!({"Name": "Versioned"})))
        .await
        .unwrap();
    let read = app.get(&admin, "Account", &id18(&id), None).await.unwrap();
    let version = read
        .get("SystemModstamp")
        .and_then(Value::as_datetime)
        .unwrap();
    // Someone else changes it after we read it.
    crate::support::update(
        &app,
        &admin,
        "Account",
        &id18(&id),
        json!({"Site": "London"}),
    )
    .await
    .unwrap();
    let ours = Update {
        id: id18(&id),
        input: input(json!({"Site": "Paris"})),
        if_unmodified_since: Some(version),
    };
    let error = app.update(&admin, "Account", ours).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::EntityFailedIflastmodifiedOnUpdate);
    let now = app.get(&admin, "Account", &id18(&id), None).await.unwrap();
    assert_eq!(now.get("Site"), Some(&Value::Text("London".into())));
    // With the current version the update goes through, and the version moves on.
    let current = now
        .get("SystemModstamp")
        .and_then(Value::as_datetime)
        .unwrap();
    let ours = Update {
        id: id18(&id),
        input: input(json!({"Site": "Paris"})),
        if_unmodified_since: Some(current),
    };
    app.update(&admin, "Account", ours).await.unwrap();
    let after = app.get(&admin, "Account", &id18(&id), None).await.unwrap();
    assert!(
        after
            .get("SystemModstamp")
            .and_then(Value::as_datetime)
            .unwrap()
            > current
    );
}

async fn stages_drive_probability_and_history_is_written(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let id = app
        .create(&admin, "Opportunity", input(json!({"Name": "Big deal", "StageName": "Prospecting", "CloseDate": "2026-05-15", "Amount": 1000})))
        .await
        .unwrap();
    let fields: Vec<String> = [
        "Probability",
        "ForecastCategoryName",
        "IsClosed",
        "IsWon",
        "ExpectedRevenue",
        "FiscalYear",
        "FiscalQuarter",
    ]
    .map(String::from)
    .to_vec();
    let record = app
        .get(&admin, "Opportunity", &id18(&id), Some(&fields))
        .await
        .unwrap()
        .to_json();
    assert_eq!(record["Probability"], json!(10));
    assert_eq!(record["ForecastCategoryName"], json!("Pipeline"));
    assert_eq!(record["IsClosed"], json!(false));
    assert_eq!(record["ExpectedRevenue"], json!(100.0));
    assert_eq!(
        (
            record["FiscalYear"].clone(),
            record["FiscalQuarter"].clone()
        ),
        (json!(2026), json!(2))
    );
    crate::support::update(
        &app,
        &admin,
        "Opportunity",
        &id18(&id),
        json!({"StageName": "Closed Won"}),
    )
    .await
    .unwrap();
    let record = app
        .get(&admin, "Opportunity", &id18(&id), Some(&fields))
        .await
        .unwrap()
        .to_json();
    assert_eq!(
        (
            record["Probability"].clone(),
            record["IsClosed"].clone(),
            record["IsWon"].clone()
        ),
        (json!(100), json!(true), json!(true))
    );
    assert_eq!(record["ForecastCategoryName"], json!("Closed"));
    let history = app
        .find(
            &admin,
            "OpportunityFieldHistory",
            &["Field", "OldValue", "NewValue"],
            Some(Filter::eq("OpportunityId", Value::Id(id.clone()))),
            vec![],
            None,
        )
        .await
        .unwrap();
    let stage = history
        .iter()
        .find(|h| h.get("Field") == Some(&Value::Text("StageName".into())))
        .expect("stage change recorded");
    assert_eq!(
        stage.get("OldValue"),
        Some(&Value::Text("Prospecting".into()))
    );
    assert_eq!(
        stage.get("NewValue"),
        Some(&Value::Text("Closed Won".into()))
    );
    // The org's fiscal year moves the fiscal period.
    app.set_org(&admin, "fiscal-year-start-month", "4")
        .await
        .unwrap();
    crate::support::update(
        &app,
        &admin,
        "Opportunity",
        &id18(&id),
        json!({"CloseDate": "2026-03-31"}),
    )
    .await
    .unwrap();
    let record = app
        .get(&admin, "Opportunity", &id18(&id), Some(&fields))
        .await
        .unwrap()
        .to_json();
    assert_eq!(
        (
            record["FiscalYear"].clone(),
            record["FiscalQuarter"].clone()
        ),
        (json!(2026), json!(4))
    );
}

async fn ids_are_accepted_in_both_forms(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let id = app
        .create(&admin, "Account", input(json!({"Name": "Both"})))
        .await
        .unwrap();
    let eighteen = id18(&id);
    for form in [
        eighteen.clone(),
        eighteen.to_ascii_lowercase(),
        id.as_str15().to_string(),
    ] {
        let record = app.get(&admin, "Account", &form, None).await.unwrap();
        assert_eq!(record.to_json()["Id"], json!(eighteen), "{form}");
    }
    let contact = app
        .create(
            &admin,
            "Contact",
            input(json!({"LastName": "Ref", "AccountId": id.as_str15()})),
        )
        .await
        .unwrap();
    let record = app
        .get(
            &admin,
            "Contact",
            &id18(&contact),
            Some(&["AccountId".into()]),
        )
        .await
        .unwrap();
    assert_eq!(record.to_json()["AccountId"], json!(eighteen));
}

/// Single creates arriving together are committed together; each still gets its own result.
async fn concurrent_single_creates_share_commits_but_not_fates(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let (app, admin) = (app.clone(), admin.clone());
            tokio::spawn(async move {
                let body = match i % 3 {
                    0 => json!({"Name": format!("Group {i}")}),
                    1 => json!({"LastName": format!("Person {i}")}),
                    _ => json!({"Industry": "Energy"}),
                };
                let object = if i % 3 == 1 { "Contact" } else { "Account" };
                (i, app.create_one(&admin, object, input(body)).await)
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let (i, result) = task.await.unwrap();
        match i % 3 {
            2 => assert_eq!(
                result.unwrap_err().code(),
                ErrorCode::RequiredFieldMissing,
                "record {i}"
            ),
            _ => {
                let id = result.unwrap();
                assert_eq!(id.key_prefix(), if i % 3 == 1 { "003" } else { "001" });
                created += 1;
            }
        }
    }
    assert_eq!(created, 40);
    // Updates too, including several of one record at once: none is taken for stale.
    let target = app
        .create(&admin, "Account", input(json!({"Name": "Busy"})))
        .await
        .unwrap();
    let updates: Vec<_> = (0..30)
        .map(|i| {
            let (app, admin, id) = (app.clone(), admin.clone(), id18(&target));
            tokio::spawn(async move {
                let body = if i == 7 {
                    json!({"NumberOfEmployees": "many"})
                } else {
                    json!({"Phone": format!("{i}")})
                };
                (
                    i,
                    app.update_one(
                        &admin,
                        "Account",
                        Update {
                            id,
                            input: input(body),
                            if_unmodified_since: None,
                        },
                    )
                    .await,
                )
            })
        })
        .collect();
    for task in updates {
        let (i, result) = task.await.unwrap();
        if i == 7 {
            assert_eq!(
                result.unwrap_err().code(),
                ErrorCode::InvalidTypeOnFieldInRecord
            );
        } else {
            result.unwrap();
        }
    }
    let busy = app
        .get(&admin, "Account", &id18(&target), None)
        .await
        .unwrap();
    assert!(matches!(busy.get("Phone"), Some(Value::Text(_))));
    assert_eq!(
        count(&app, &admin, "Account").await + count(&app, &admin, "Contact").await,
        41
    );
    assert_eq!(
        app.create_one(&admin, "Organization", input(json!({"Name": "x"})))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidOperation
    );

    // A caller refused outright (a Read Only user may create nothing) shares commits with
    // others but not their refusal: each of theirs fails, each of the admin's succeeds.
    let reader = app
        .add_user(
            &app::Caller::system(),
            app::users::NewUser {
                email: "reader@example.com".into(),
                password: "secret123".into(),
                name: "Rita Reader".into(),
                profile: Some("Read Only".into()),
                role: None,
                language: model::Lang::En,
            },
        )
        .await
        .unwrap();
    let reader = app::Caller::user(reader, model::Lang::En);
    let mixed: Vec<_> = (0..60)
        .map(|i| {
            let (app, caller) = if i % 2 == 0 {
                (app.clone(), admin.clone())
            } else {
                (app.clone(), reader.clone())
            };
            tokio::spawn(async move {
                let body = json!({"Name": format!("Mixed {i}")});
                (i, app.create_one(&caller, "Account", input(body)).await)
            })
        })
        .collect();
    for task in mixed {
        let (i, result) = task.await.unwrap();
        if i % 2 == 0 {
            assert!(result.is_ok(), "record {i}: {result:?}");
        } else {
            assert_eq!(
                result.unwrap_err().code(),
                ErrorCode::InsufficientAccessOrReadonly,
                "record {i}"
            );
        }
    }
    assert_eq!(count(&app, &admin, "Account").await, 21 + 30);
}
