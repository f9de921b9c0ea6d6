//! Renames, org settings, users and tokens, through the CLI as an administrator uses them.

use model::{Lang, Value};
use serde_json::json;

use crate::support::{TestDb, rapport_err, rapport_ok};

crate::both_backends!(cli_administration, demo_and_scale_seeding);

async fn cli_administration(db: TestDb) {
    let first = rapport_ok(
        &db,
        &[
            "user",
            "add",
            "--email",
            "Boss@Example.com",
            "--password",
            "secret123",
            "--name",
            "Big Boss",
        ],
    );
    assert_eq!(first.trim().len(), 18);
    rapport_ok(&db, &["role", "add", "Sales"]);
    rapport_ok(&db, &["role", "add", "Sales East", "--parent", "sales"]);
    rapport_ok(
        &db,
        &[
            "user",
            "add",
            "--email",
            "rep@example.com",
            "--password",
            "secret123",
            "--name",
            "小 李",
            "--role",
            "Sales East",
            "--language",
            "zh_CN",
        ],
    );
    let error = rapport_err(
        &db,
        &[
            "user",
            "add",
            "--email",
            "x@example.com",
            "--password",
            "short",
            "--name",
            "X",
        ],
    );
    assert!(error.contains("at least 8 characters"), "{error}");
    let error = rapport_err(
        &db,
        &[
            "user",
            "add",
            "--email",
            "y@example.com",
            "--password",
            "secret123",
            "--name",
            "Y",
            "--role",
            "Nowhere",
        ],
    );
    assert!(error.contains("no role named Nowhere"), "{error}");
    let token = rapport_ok(&db, &["token", "--user", "rep@example.com"]);
    assert!(token.trim().len() > 40);

    rapport_ok(
        &db,
        &[
            "label",
            "set",
            "Account",
            "--singular",
            "Company",
            "--plural",
            "Companies",
        ],
    );
    rapport_ok(
        &db,
        &[
            "label",
            "set",
            "Account",
            "--singular",
            "公司",
            "--lang",
            "zh_CN",
        ],
    );
    rapport_ok(
        &db,
        &["label", "set", "Account.Industry", "--singular", "Sector"],
    );
    let error = rapport_err(&db, &["label", "set", "Account.Nope", "--singular", "X"]);
    assert!(error.contains("INVALID_FIELD"), "{error}");
    rapport_ok(&db, &["org", "set", "name", "Rapport 示例公司"]);
    rapport_ok(&db, &["org", "set", "fiscal-year-start-month", "4"]);
    rapport_ok(&db, &["org", "set", "currency", "CNY"]);
    let error = rapport_err(&db, &["org", "set", "fiscal-year-start-month", "13"]);
    assert!(error.contains("NUMBER_OUTSIDE_VALID_RANGE"), "{error}");
    let error = rapport_err(&db, &["org", "set", "currency", "XYZ"]);
    assert!(
        error.contains("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
        "{error}"
    );
    let shown = rapport_ok(&db, &["org", "show"]);
    assert!(
        shown.contains("name: Rapport 示例公司")
            && shown.contains("fiscal-year-start-month: 4")
            && shown.contains("currency: CNY"),
        "{shown}"
    );

    rapport_ok(
        &db,
        &[
            "field",
            "add",
            "Account",
            "Region__c",
            "--type",
            "picklist",
            "--values",
            "East,West",
            "--label",
            "Region",
            "--label-zh",
            "区域",
        ],
    );
    rapport_ok(
        &db,
        &[
            "field",
            "change",
            "Account",
            "Region__c",
            "--values",
            "East,West,North",
        ],
    );
    let error = rapport_err(&db, &["field", "add", "Account", "Bad", "--type", "Text"]);
    assert!(error.contains("__c"), "{error}");
    let error = rapport_err(
        &db,
        &["field", "add", "Account", "Bad__c", "--type", "Hologram"],
    );
    assert!(error.contains("unknown field type"), "{error}");
    rapport_ok(
        &db,
        &[
            "object",
            "add",
            "Project__c",
            "--label",
            "Project",
            "--label-zh",
            "项目",
        ],
    );
    rapport_ok(
        &db,
        &[
            "field",
            "add",
            "Project__c",
            "Account__c",
            "--type",
            "Lookup",
            "--to",
            "Account",
        ],
    );

    let app = db.app().await;
    let schema = app.schema().await.unwrap();
    let account = schema.object("Account").unwrap();
    assert_eq!(
        (account.label.get(Lang::En), account.plural.get(Lang::En)),
        ("Company", "Companies")
    );
    assert_eq!(account.label.get(Lang::ZhCn), "公司");
    assert_eq!(account.field("Industry").unwrap().label.en, "Sector");
    assert_eq!(account.field("Region__c").unwrap().label.zh, "区域");
    assert_eq!(account.field("Region__c").unwrap().values.len(), 3);
    let rep = app.authenticate_token(token.trim()).await.unwrap().unwrap();
    assert_eq!(rep.lang, Lang::ZhCn);
    let user = app
        .get(&rep, "User", &rep.user_id.clone().unwrap().to_18(), None)
        .await
        .unwrap();
    // Chinese names read family name first.
    assert_eq!(user.get("Name"), Some(&Value::Text("李小".into())));
    assert!(user.get("UserRoleId").is_some_and(|v| !v.is_null()));
    let boss = app
        .get(&rep, "User", first.trim(), None)
        .await
        .unwrap()
        .to_json();
    assert_eq!(boss["Username"], json!("boss@example.com"));
    let profiles = app
        .find(&rep, "Profile", &["Name"], None, vec![], None)
        .await
        .unwrap();
    assert_eq!(profiles.len(), 6);
    assert!(
        app.verify_password("rep@example.com", "secret123")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        app.verify_password("rep@example.com", "secret124")
            .await
            .unwrap()
            .is_none()
    );
    assert!(app.revoke_token(token.trim()).await.unwrap());
    assert!(
        app.authenticate_token(token.trim())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        app.authenticate_token("00D!made-up")
            .await
            .unwrap()
            .is_none()
    );
    app.close().await;
}

async fn demo_and_scale_seeding(db: TestDb) {
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
    let out = rapport_ok(&db, &["seed", "--demo"]);
    for count in [
        "Opportunity: 30",
        "Campaign: 3",
        "CampaignMember: 12",
        "Product2: 7",
        "PricebookEntry: 11",
        "OpportunityLineItem: 15",
        "Converted leads: 3",
        "Case: 6",
    ] {
        assert!(out.contains(count), "{count} in {out}");
    }
    let demo_query = |soql: &str| -> serde_json::Value {
        let out = rapport_ok(&db, &["query", soql, "--format", "json"]);
        serde_json::from_str(&out).unwrap()
    };
    let expo = demo_query(
        "SELECT NumberOfLeads, NumberOfContacts, NumberOfResponses, NumberOfConvertedLeads, NumberOfOpportunities FROM Campaign WHERE Type = 'Trade Show'",
    );
    assert_eq!(
        [
            &expo[0]["NumberOfLeads"],
            &expo[0]["NumberOfContacts"],
            &expo[0]["NumberOfResponses"],
            &expo[0]["NumberOfConvertedLeads"],
            &expo[0]["NumberOfOpportunities"],
        ],
        [&json!(3), &json!(3), &json!(3), &json!(1), &json!(3)],
        "{expo}"
    );
    // The deal with products takes its amount from them: 3 × 240,000 × 95% + 24 × 12,000 ×
    // 95% + 400 × 1,800 × 90% + 60 × 6,000.
    let deal = demo_query(
        "SELECT Amount, HasOpportunityLineItem FROM Opportunity WHERE Name LIKE '华锐重工 - %' AND StageName = 'Proposal/Price Quote'",
    );
    assert_eq!(deal[0]["HasOpportunityLineItem"], true, "{deal}");
    assert_eq!(deal[0]["Amount"].as_f64(), Some(1_965_600.0), "{deal}");
    let history = demo_query("SELECT COUNT(Id) n FROM OpportunityHistory");
    assert!(history[0]["n"].as_i64().unwrap() > 46, "{history}");
    let converted = demo_query("SELECT COUNT(Id) n FROM Lead WHERE IsConverted = true");
    assert_eq!(converted[0]["n"], 3);
    let out = rapport_ok(&db, &["seed", "--scale", "3000", "--batch", "1000"]);
    assert!(
        out.contains("Account: 3000")
            && out.contains("Contact: 3000")
            && out.contains("Opportunity: 3000"),
        "{out}"
    );
    // rapport query: every page, as a table, CSV or JSON.
    let table = rapport_ok(
        &db,
        &[
            "query",
            "SELECT Name, Account.Name FROM Opportunity WHERE Account.Name != null ORDER BY Name LIMIT 3",
        ],
    );
    assert!(
        table.starts_with("Name")
            && table.contains("Account.Name")
            && table.trim_end().ends_with("(3 rows)"),
        "{table}"
    );
    let csv = rapport_ok(
        &db,
        &[
            "query",
            "SELECT Name FROM Account ORDER BY Name",
            "--format",
            "csv",
        ],
    );
    assert_eq!(
        csv.lines().count(),
        3024,
        "a header and every account (the demo's 20, 3 from its conversions, the scale's 3000), over two pages"
    );
    let json_out = rapport_ok(
        &db,
        &[
            "query",
            "SELECT COUNT(Id) n FROM Contact",
            "--format",
            "json",
        ],
    );
    let parsed: serde_json::Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(parsed[0]["n"], 3043);
    let error = crate::support::rapport_err(&db, &["query", "SELECT Id FORM Account"]);
    assert!(
        error.contains("MALFORMED_QUERY") && error.contains("Row:1:Column:11"),
        "{error}"
    );

    let app = db.app().await;
    let admin = app.cli_caller(None).await.unwrap();
    let opportunities = app
        .find(
            &admin,
            "Opportunity",
            &["StageName", "IsWon"],
            None,
            vec![],
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        opportunities.len(),
        3033,
        "the demo's 30, 3 from its conversions, the scale's 3000"
    );
    let stages: std::collections::HashSet<_> = opportunities
        .iter()
        .filter_map(|o| {
            o.get("StageName")
                .and_then(Value::as_text)
                .map(str::to_string)
        })
        .collect();
    assert_eq!(stages.len(), 10, "every stage is represented");
    let chinese = app
        .find(&admin, "Account", &["Name"], None, vec![], None)
        .await
        .unwrap()
        .iter()
        .filter(|a| {
            a.get("Name")
                .and_then(Value::as_text)
                .is_some_and(|n| n.chars().any(|c| c as u32 > 0x4E00))
        })
        .count();
    assert!(chinese > 10);
    app.close().await;
}
