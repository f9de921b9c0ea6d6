//! Forecasts over REST: a period's sums by forecast category per owner beside their quotas;
//! a manager sees the reps below them, a rep only themselves; bad periods and owners outside
//! one's hierarchy are refused. On both backends.

use serde_json::{Value as Json, json};

use crate::support::{Api, Server, TestDb, cli_user, rapport_ok};

crate::both_backends!(forecasts_follow_the_role_hierarchy);

/// `GET /rapport/forecast?{query}` (the query already encoded).
async fn forecast(api: &Api, query: &str) -> (u16, Json) {
    let response = api
        .client
        .get(format!("{}/rapport/forecast?{query}", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn row<'a>(forecast: &'a Json, name: &str) -> &'a Json {
    forecast["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no row for {name}: {forecast}"))
}

async fn forecasts_follow_the_role_hierarchy(db: TestDb) {
    cli_user(&db, "admin@f.example", "Ada Admin", None, None);
    rapport_ok(&db, &["role", "add", "VP Sales"]);
    rapport_ok(&db, &["role", "add", "Rep", "--parent", "VP Sales"]);
    cli_user(
        &db,
        "vp@f.example",
        "Vera VP",
        Some("Standard User"),
        Some("VP Sales"),
    );
    cli_user(
        &db,
        "rep1@f.example",
        "Rami One",
        Some("Standard User"),
        Some("Rep"),
    );
    cli_user(
        &db,
        "rep2@f.example",
        "Rosa Two",
        Some("Standard User"),
        Some("Rep"),
    );
    cli_user(
        &db,
        "solo@f.example",
        "Sam Solo",
        Some("Standard User"),
        None,
    );
    let server = Server::start(&db).await;
    let api = |email: &str| server.api(&db, email);
    let (admin, vp, rep1, rep2) = (
        api("admin@f.example"),
        api("vp@f.example"),
        api("rep1@f.example"),
        api("rep2@f.example"),
    );
    for (who, name, stage, category, amount, close) in [
        (
            &rep1,
            "R1 pipeline",
            "Prospecting",
            None,
            100.0,
            "2026-11-10",
        ),
        (
            &rep1,
            "R1 commit",
            "Negotiation/Review",
            Some("Commit"),
            200.5,
            "2026-12-31",
        ),
        (&rep1, "R1 won", "Closed Won", None, 300.0, "2026-10-01"),
        (
            &rep1,
            "R1 next quarter",
            "Prospecting",
            None,
            9999.0,
            "2027-01-01",
        ),
        (
            &rep2,
            "R2 best",
            "Proposal/Price Quote",
            Some("Best Case"),
            400.0,
            "2026-11-30",
        ),
        (&rep2, "R2 lost", "Closed Lost", None, 50.0, "2026-11-15"),
    ] {
        let mut body =
            json!({"Name": name, "StageName": stage, "Amount": amount, "CloseDate": close});
        if let Some(category) = category {
            body["ForecastCategoryName"] = json!(category);
        }
        who.create("Opportunity", body).await;
    }
    let rep1_id = rep1
        .query("SELECT Id FROM User WHERE Username = 'rep1@f.example'")
        .await["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let rep2_id = rep1
        .query("SELECT Id FROM User WHERE Username = 'rep2@f.example'")
        .await["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    // Quotas are set per month by an administrator; a quarter's is the sum of its months'.
    for month in ["2026-10-01", "2026-11-01", "2026-12-01"] {
        admin
            .create(
                "ForecastingQuota",
                json!({"QuotaOwnerId": rep1_id, "StartDate": month, "QuotaAmount": 1000}),
            )
            .await;
    }
    let (status, refused) = rep1
        .get_with("/query", "q", "SELECT Id FROM ForecastingQuota")
        .await;
    assert_eq!(status, 400, "a rep cannot read quotas directly: {refused}");
    assert_eq!(refused[0]["errorCode"], "INVALID_TYPE");

    let (status, q4) = forecast(&vp, "period=2026-Q4").await;
    assert_eq!(status, 200, "{q4}");
    assert_eq!(q4["period"], "2026-Q4");
    assert_eq!(
        (q4["start"].clone(), q4["end"].clone()),
        (json!("2026-10-01"), json!("2026-12-31"))
    );
    let names: Vec<&str> = q4["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Rami One", "Rosa Two", "Vera VP"]);
    let r1 = row(&q4, "Rami One");
    assert_eq!(r1["Pipeline"], 100.0);
    assert_eq!(r1["Commit"], 200.5);
    assert_eq!(r1["Closed"], 300.0);
    assert_eq!(r1["BestCase"], 0.0);
    assert_eq!(r1["quota"], 3000.0);
    let r2 = row(&q4, "Rosa Two");
    assert_eq!(r2["BestCase"], 400.0);
    assert_eq!(r2["Omitted"], 50.0);
    assert_eq!(r2["quota"], Json::Null);
    assert_eq!(q4["totals"]["Pipeline"], 100.0);
    assert_eq!(q4["totals"]["Closed"], 300.0);
    assert_eq!(q4["totals"]["quota"], 3000.0);

    // A month, one owner.
    let (status, nov) = forecast(&rep1, "period=2026-11").await;
    assert_eq!(status, 200, "{nov}");
    assert_eq!(
        nov["rows"].as_array().unwrap().len(),
        1,
        "a rep sees only themselves"
    );
    assert_eq!(row(&nov, "Rami One")["Pipeline"], 100.0);
    assert_eq!(row(&nov, "Rami One")["Commit"], 0.0);
    assert_eq!(row(&nov, "Rami One")["quota"], 1000.0);

    // Out of one's hierarchy: refused; a manager may ask for one rep or a role.
    let (status, error) = forecast(&rep1, &format!("ownerId={rep2_id}")).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error[0]["errorCode"], "INSUFFICIENT_ACCESS_OR_READONLY");
    let (status, one) = forecast(&vp, &format!("period=2026-Q4&ownerId={rep2_id}")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["rows"].as_array().unwrap().len(), 1);
    assert_eq!(one["totals"]["BestCase"], 400.0);
    let role = admin
        .query("SELECT Id FROM UserRole WHERE Name = 'Rep'")
        .await["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, reps) = forecast(&vp, &format!("period=2026-Q4&roleId={role}")).await;
    assert_eq!(status, 200, "{reps}");
    assert_eq!(reps["rows"].as_array().unwrap().len(), 2);
    let solo = api("solo@f.example");
    let (status, error) = forecast(&solo, &format!("roleId={role}")).await;
    assert_eq!(
        error[0]["errorCode"], "INSUFFICIENT_ACCESS_OR_READONLY",
        "{status}"
    );

    // Bad input names the parameter.
    for bad in ["2026-Q5", "next quarter", "2026-13"] {
        let (status, error) = forecast(&vp, &format!("period={bad}")).await;
        assert_eq!(status, 400, "{bad}: {error}");
        assert_eq!(error[0]["errorCode"], "INVALID_FIELD");
        assert!(error[0]["message"].as_str().unwrap().starts_with("period:"));
    }
    let (status, error) = forecast(&vp, "ownerId=001000000000001").await;
    assert_eq!(status, 400, "{error}");

    // The administrator sees everyone's; by default the current quarter.
    let (status, all) = forecast(&admin, "x=").await;
    assert_eq!(status, 200, "{all}");
    assert!(all["period"].as_str().unwrap().contains("-Q"));
}
