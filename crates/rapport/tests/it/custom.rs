//! Custom fields and objects: add → write → filter → change → remove, as real columns.

use app::setup::{FieldChange, NewField};
use model::{ErrorCode, FieldType, Value};
use serde_json::json;
use store::{Filter, Op};

use crate::support::{TestDb, id18, input};

crate::both_backends!(
    custom_field_lifecycle,
    custom_object_lifecycle,
    field_definitions_are_validated,
    new_columns_are_seen_by_every_pooled_connection
);

fn field(object: &str, name: &str, field_type: FieldType) -> NewField {
    NewField {
        object: object.into(),
        name: name.into(),
        field_type: Some(field_type),
        ..Default::default()
    }
}

async fn custom_field_lifecycle(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let region = NewField {
        values: vec!["East".into(), "West".into(), "华南".into()],
        ..field("Account", "Region__c", FieldType::Picklist)
    };
    app.add_field(region).await.unwrap();
    app.add_field(NewField {
        precision: Some(10),
        scale: Some(2),
        ..field("Account", "Score__c", FieldType::Number)
    })
    .await
    .unwrap();
    app.add_field(NewField {
        length: Some(20),
        unique: true,
        external_id: true,
        ..field("Account", "Code__c", FieldType::Text)
    })
    .await
    .unwrap();
    app.add_field(NewField {
        tracked: true,
        ..field("Account", "Renewal__c", FieldType::Date)
    })
    .await
    .unwrap();

    let east = app.create(&admin, "Account", input(json!({"Name": "East Co", "Region__c": "East", "Score__c": 12.345, "Code__c": "E-1", "Renewal__c": "2027-01-31"}))).await.unwrap();
    let south = app
        .create(
            &admin,
            "Account",
            input(json!({"Name": "南方公司", "region__c": "华南", "Score__c": -3})),
        )
        .await
        .unwrap();
    app.create(&admin, "Account", input(json!({"Name": "No region"})))
        .await
        .unwrap();
    assert_eq!(
        app.create(
            &admin,
            "Account",
            input(json!({"Name": "Bad", "Region__c": "North"}))
        )
        .await
        .unwrap_err()
        .code(),
        ErrorCode::InvalidOrNullForRestrictedPicklist
    );
    let duplicate = app
        .create(
            &admin,
            "Account",
            input(json!({"Name": "Dup", "Code__c": "E-1"})),
        )
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), ErrorCode::DuplicateValue);
    assert!(
        duplicate.errors()[0].message.contains(&id18(&east)),
        "{duplicate:?}"
    );

    let record = app
        .get(&admin, "Account", &id18(&east), None)
        .await
        .unwrap()
        .to_json();
    assert_eq!(record["Score__c"], json!(12.35));
    assert_eq!(record["Region__c"], json!("East"));
    assert_eq!(record["Renewal__c"], json!("2027-01-31"));

    let found = app
        .find(
            &admin,
            "Account",
            &["Name"],
            Some(Filter::eq("Region__c", Value::Text("华南".into()))),
            vec![],
            None,
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].get("Name"), Some(&Value::Text("南方公司".into())));
    let high = Filter::Compare {
        field: "Score__c".into(),
        op: Op::Gt,
        value: Value::Decimal("0".parse().unwrap()),
    };
    let found = app
        .find(
            &admin,
            "Account",
            &["Id"],
            Some(high),
            vec![("Score__c".into(), true)],
            None,
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id(), Some(&east));

    // Tracked: changes go to AccountHistory.
    crate::support::update(
        &app,
        &admin,
        "Account",
        &id18(&east),
        json!({"Renewal__c": "2028-01-31"}),
    )
    .await
    .unwrap();
    let history = app
        .find(
            &admin,
            "AccountHistory",
            &["Field", "NewValue"],
            Some(Filter::eq("Field", Value::Text("Renewal__c".into()))),
            vec![],
            None,
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        history[0].get("NewValue"),
        Some(&Value::Text("2028-01-31".into()))
    );

    // Change: more digits and a finer scale keep the values; new picklist values; a label.
    let change = FieldChange {
        precision: Some(12),
        scale: Some(3),
        label: Some("Health Score".into()),
        ..Default::default()
    };
    app.change_field("Account", "Score__c", change)
        .await
        .unwrap();
    let record = app
        .get(&admin, "Account", &id18(&south), None)
        .await
        .unwrap()
        .to_json();
    assert_eq!(record["Score__c"], json!(-3.0));
    let record = app
        .get(&admin, "Account", &id18(&east), None)
        .await
        .unwrap()
        .to_json();
    assert_eq!(record["Score__c"], json!(12.35));
    let schema = app.schema().await.unwrap();
    assert_eq!(
        schema
            .object("Account")
            .unwrap()
            .field("Score__c")
            .unwrap()
            .label
            .en,
        "Health Score"
    );
    app.change_field(
        "Account",
        "Region__c",
        FieldChange {
            values: Some(vec!["East".into(), "North".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    app.create(
        &admin,
        "Account",
        input(json!({"Name": "Now fine", "Region__c": "North"})),
    )
    .await
    .unwrap();
    // West is retired: refused on new records, kept on old ones.
    assert_eq!(
        app.create(
            &admin,
            "Account",
            input(json!({"Name": "x", "Region__c": "West"}))
        )
        .await
        .unwrap_err()
        .code(),
        ErrorCode::InvalidOrNullForRestrictedPicklist
    );
    let still = app
        .get(&admin, "Account", &id18(&south), None)
        .await
        .unwrap()
        .to_json();
    assert_eq!(still["Region__c"], json!("华南"));
    // Shortening below stored data is refused and changes nothing.
    let error = app
        .change_field(
            "Account",
            "Code__c",
            FieldChange {
                length: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::StringTooLong);
    let error = app
        .change_field(
            "Account",
            "Score__c",
            FieldChange {
                field_type: Some(FieldType::Date),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidOperation);
    let error = app
        .change_field(
            "Account",
            "Score__c",
            FieldChange {
                precision: Some(3),
                scale: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::NumberOutsideValidRange);
    let error = app
        .change_field(
            "Account",
            "Code__c",
            FieldChange {
                field_type: Some(FieldType::Email),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidEmailAddress);
    // Text becomes a picklist whose values are the ones in use.
    app.add_field(field("Account", "Segment__c", FieldType::Text))
        .await
        .unwrap();
    crate::support::update(
        &app,
        &admin,
        "Account",
        &id18(&east),
        json!({"Segment__c": "SMB"}),
    )
    .await
    .unwrap();
    app.change_field(
        "Account",
        "Segment__c",
        FieldChange {
            field_type: Some(FieldType::Picklist),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let schema = app.schema().await.unwrap();
    let segment = schema
        .object("Account")
        .unwrap()
        .field("Segment__c")
        .unwrap()
        .clone();
    assert_eq!(
        segment
            .values
            .iter()
            .map(|v| v.value.as_str())
            .collect::<Vec<_>>(),
        vec!["SMB"]
    );
    assert_eq!(
        app.create(
            &admin,
            "Account",
            input(json!({"Name": "x", "Segment__c": "Enterprise"}))
        )
        .await
        .unwrap_err()
        .code(),
        ErrorCode::InvalidOrNullForRestrictedPicklist
    );

    // Remove: the column and its data go; writes naming it are refused.
    app.remove_field("Account", "Score__c").await.unwrap();
    assert_eq!(
        app.create(
            &admin,
            "Account",
            input(json!({"Name": "x", "Score__c": 1}))
        )
        .await
        .unwrap_err()
        .code(),
        ErrorCode::InvalidField
    );
    assert_eq!(
        app.remove_field("Account", "Industry")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidOperation
    );
    let record = app
        .get(&admin, "Account", &id18(&east), None)
        .await
        .unwrap()
        .to_json();
    assert!(record.get("Score__c").is_none());
    // The same name can be added again, empty.
    app.add_field(field("Account", "Score__c", FieldType::Checkbox))
        .await
        .unwrap();
    let record = app
        .get(&admin, "Account", &id18(&east), None)
        .await
        .unwrap()
        .to_json();
    assert_eq!(record["Score__c"], json!(null));
}

async fn custom_object_lifecycle(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let object = app
        .add_object(
            "Project__c",
            Some("Project"),
            Some("Projects"),
            Some("项目"),
            Some("项目"),
        )
        .await
        .unwrap();
    assert!(object.key_prefix.starts_with('a'));
    let lookup = NewField {
        reference_to: Some("Account".into()),
        ..field("Project__c", "Account__c", FieldType::Reference)
    };
    app.add_field(lookup).await.unwrap();
    app.add_field(NewField {
        precision: Some(16),
        scale: Some(2),
        tracked: true,
        ..field("Project__c", "Budget__c", FieldType::Currency)
    })
    .await
    .unwrap();
    let account = app
        .create(&admin, "Account", input(json!({"Name": "Client"})))
        .await
        .unwrap();
    let project = app
        .create(
            &admin,
            "Project__c",
            input(
                json!({"Name": "Roll-out", "Account__c": id18(&account), "Budget__c": 1234567.891}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(project.key_prefix(), object.key_prefix);
    let record = app
        .get(&admin, "Project__c", &id18(&project), None)
        .await
        .unwrap()
        .to_json();
    assert_eq!(record["Budget__c"], json!(1234567.89));
    assert_eq!(
        record["OwnerId"],
        json!(id18(admin.user_id.as_ref().unwrap()))
    );
    let schema = app.schema().await.unwrap();
    assert!(
        schema
            .child_relationships("Account")
            .iter()
            .any(|c| c.child_object == "Project__c")
    );

    crate::support::update(
        &app,
        &admin,
        "Project__c",
        &id18(&project),
        json!({"Budget__c": 10}),
    )
    .await
    .unwrap();
    let history = app
        .find(
            &admin,
            "Project__History",
            &["Field", "OldValue", "NewValue"],
            None,
            vec![],
            None,
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        history[0].get("OldValue"),
        Some(&Value::Text("1234567.89".into()))
    );
    let found = app
        .find(
            &admin,
            "Project__c",
            &["Id"],
            Some(Filter::eq("Account__c", Value::Id(account.clone()))),
            vec![],
            None,
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    // A dangling lookup is refused.
    let error = app
        .create(
            &admin,
            "Project__c",
            input(json!({"Name": "x", "Account__c": "001R00000000zzz"})),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidCrossReferenceKey);
    assert_eq!(
        app.add_object("Project__c", None, None, None, None)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::DuplicateValue
    );
    assert_eq!(
        app.remove_object("Account").await.unwrap_err().code(),
        ErrorCode::InvalidOperation
    );

    // An auto number added later numbers the existing records too.
    let second = app
        .create(&admin, "Project__c", input(json!({"Name": "Second"})))
        .await
        .unwrap();
    app.add_field(NewField {
        default: Some("PRJ-{0000}".into()),
        ..field("Project__c", "Number__c", FieldType::AutoNumber)
    })
    .await
    .unwrap();
    let third = app
        .create(&admin, "Project__c", input(json!({"Name": "Third"})))
        .await
        .unwrap();
    let numbers: Vec<_> = [&project, &second, &third]
        .iter()
        .map(|id| async {
            app.get(&admin, "Project__c", &id18(id), None)
                .await
                .unwrap()
                .to_json()["Number__c"]
                .clone()
        })
        .collect();
    let mut seen = Vec::new();
    for number in numbers {
        seen.push(number.await);
    }
    assert_eq!(
        seen,
        vec![json!("PRJ-0001"), json!("PRJ-0002"), json!("PRJ-0003")]
    );
    app.remove_object("Project__c").await.unwrap();
    let schema = app.schema().await.unwrap();
    assert!(schema.object("Project__c").is_none());
    assert!(schema.object("Project__History").is_none());
    assert_eq!(
        app.create(&admin, "Project__c", input(json!({"Name": "x"})))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    // And it can be made again from nothing.
    app.add_object("Project__c", None, None, None, None)
        .await
        .unwrap();
    assert!(
        app.find(&admin, "Project__c", &["Id"], None, vec![], None)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn field_definitions_are_validated(db: TestDb) {
    let (app, _) = db.app_with_admin().await;
    let cases = vec![
        (
            field("Account", "Region", FieldType::Text),
            ErrorCode::InvalidField,
        ),
        (
            field("Account", "1Region__c", FieldType::Text),
            ErrorCode::InvalidField,
        ),
        (
            field("Nothing", "Region__c", FieldType::Text),
            ErrorCode::InvalidType,
        ),
        (
            NewField {
                length: Some(300),
                ..field("Account", "Long__c", FieldType::Text)
            },
            ErrorCode::InvalidOperation,
        ),
        (
            NewField {
                precision: Some(19),
                ..field("Account", "Big__c", FieldType::Number)
            },
            ErrorCode::InvalidOperation,
        ),
        (
            field("Account", "Choice__c", FieldType::Picklist),
            ErrorCode::InvalidOperation,
        ),
        (
            field("Account", "Link__c", FieldType::Reference),
            ErrorCode::InvalidOperation,
        ),
        (
            NewField {
                reference_to: Some("Nowhere".into()),
                ..field("Account", "Link__c", FieldType::Reference)
            },
            ErrorCode::InvalidType,
        ),
        (
            NewField {
                unique: true,
                ..field("Account", "Flag__c", FieldType::Checkbox)
            },
            ErrorCode::InvalidOperation,
        ),
    ];
    for (spec, code) in cases {
        let name = spec.name.clone();
        assert_eq!(
            app.add_field(spec).await.unwrap_err().code(),
            code,
            "{name}"
        );
    }
    app.add_field(field("Account", "Region__c", FieldType::Text))
        .await
        .unwrap();
    assert_eq!(
        app.add_field(field("Account", "region__C", FieldType::Text))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidField
    );
    assert_eq!(
        app.add_field(field("Account", "REGION__c", FieldType::Text))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::DuplicateValue
    );
    let schema = app.schema().await.unwrap();
    assert_eq!(
        schema
            .object("Account")
            .unwrap()
            .fields
            .iter()
            .filter(|f| f.custom)
            .count(),
        1
    );
}

/// sqlx caches prepared statements per connection; after DDL every pooled connection must
/// see the new column (the probe found stale column lists without care).
async fn new_columns_are_seen_by_every_pooled_connection(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let id = app
        .create(&admin, "Account", input(json!({"Name": "Warm the pool"})))
        .await
        .unwrap();
    let read_concurrently = |n: usize| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (app, admin, id) = (app.clone(), admin.clone(), id18(&id));
                tokio::spawn(async move { app.get(&admin, "Account", &id, None).await })
            })
            .collect();
        async move {
            let mut records = Vec::new();
            for handle in handles {
                records.push(handle.await.unwrap().unwrap());
            }
            records
        }
    };
    read_concurrently(16).await;
    app.add_field(field("Account", "Tier__c", FieldType::Text))
        .await
        .unwrap();
    crate::support::update(
        &app,
        &admin,
        "Account",
        &id18(&id),
        json!({"Tier__c": "Gold"}),
    )
    .await
    .unwrap();
    for record in read_concurrently(32).await {
        assert_eq!(record.to_json()["Tier__c"], json!("Gold"));
    }
}

crate::both_backends!(optional_lookups_are_indexed_without_nulls);

/// An optional lookup's index leaves out the records that point nowhere, so a full ANALYZE
/// cannot make a child list scan the table (see `store::ddl::partial_lookup`); OwnerId's
/// index stays whole. Standard lookups and lookups added later alike.
async fn optional_lookups_are_indexed_without_nulls(db: TestDb) {
    let app = db.app().await;
    app.add_field(NewField {
        reference_to: Some("Account".into()),
        ..field("Contact", "Partner__c", FieldType::Reference)
    })
    .await
    .unwrap();
    let sqlite = app.store().dialect() == store::Dialect::Sqlite;
    let definition = |index: &'static str| {
        let app = app.clone();
        async move {
            let sql = if sqlite {
                "SELECT sql FROM sqlite_master WHERE name = ?"
            } else {
                "SELECT indexdef FROM pg_indexes WHERE indexname = ?"
            };
            let (rows, _) = app
                .store()
                .baseline_rows(sql, &[index.to_string()], &[store::bench::Kind::Text])
                .await
                .unwrap();
            rows.first().cloned().unwrap_or_default().to_lowercase()
        }
    };
    for index in [
        "ix_account_parentid",
        "ix_contact_accountid",
        "ix_contact_partner__c",
    ] {
        let sql = definition(index).await;
        assert!(sql.contains("is not null"), "{index}: {sql}");
    }
    let owner = definition("ix_account_ownerid").await;
    assert!(
        owner.contains("ownerid") && !owner.contains("is not null"),
        "{owner}"
    );
}
