//! SOQL through `/query`, `/queryAll` and `/query/{locator}`: results checked row by row over a
//! seeded dataset, on both backends.

use serde_json::{Value as Json, json};

use crate::support::{Api, QueryPairs, Server, TestDb, rapport_ok};

crate::both_backends!(soql_queries);

fn names(values: Vec<Json>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| v.as_str().unwrap_or("<null>").to_string())
        .collect()
}

async fn soql_queries(db: TestDb) {
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
    let token = rapport_ok(&db, &["token", "--user", "admin@example.com"])
        .trim()
        .to_string();
    rapport_ok(
        &db,
        &[
            "field",
            "add",
            "Account",
            "Interests__c",
            "--type",
            "MultiPicklist",
            "--values",
            "Golf,Tennis,Chess",
        ],
    );
    rapport_ok(
        &db,
        &[
            "user",
            "add",
            "--email",
            "zh@example.com",
            "--password",
            "secret123",
            "--name",
            "四 李",
            "--language",
            "zh_CN",
        ],
    );
    let zh_token = rapport_ok(&db, &["token", "--user", "zh@example.com"])
        .trim()
        .to_string();
    let server = Server::start(&db).await;
    let api = Api {
        client: reqwest::Client::new(),
        base: format!("{}/services/data/v59.0", server.base),
        token,
    };

    let acme = api.create("Account", json!({"Name": "Acme", "Industry": "Technology", "AnnualRevenue": 5000000, "Rating": "Hot", "Interests__c": "Golf;Chess"})).await;
    let huawei = api.create("Account", json!({"Name": "华为技术有限公司", "Industry": "Technology", "AnnualRevenue": 900000000, "Interests__c": "Tennis"})).await;
    let globex = api
        .create(
            "Account",
            json!({"Name": "Globex", "Industry": "Energy", "ParentId": acme}),
        )
        .await;
    let initech = api
        .create(
            "Account",
            json!({"Name": "initech", "Industry": "Retail", "AnnualRevenue": 100}),
        )
        .await;
    api.create("Contact", json!({"FirstName": "Ann", "LastName": "Lee", "AccountId": acme, "Email": "ann@acme.example.com"})).await;
    api.create(
        "Contact",
        json!({"FirstName": "伟", "LastName": "王", "AccountId": huawei}),
    )
    .await;
    api.create("Contact", json!({"LastName": "Loner"})).await;
    // Users get the org's time zone (America/Los_Angeles): TODAY is the date there.
    let today = app::dates::Today::in_zone("America/Los_Angeles").date;
    let day = |offset: i64| model::value::format_date(today + time::Duration::days(offset));
    api.create("Opportunity", json!({"Name": "Big", "StageName": "Prospecting", "CloseDate": day(0), "Amount": 1000.5, "AccountId": acme})).await;
    api.create("Opportunity", json!({"Name": "Won", "StageName": "Closed Won", "CloseDate": day(-400), "Amount": 200, "AccountId": huawei})).await;
    api.create("Opportunity", json!({"Name": "Later", "StageName": "Qualification", "CloseDate": "2030-01-01", "AccountId": globex})).await;

    // Text equality and LIKE are case-insensitive; Chinese text matches.
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account WHERE Industry = 'technology' ORDER BY Name",
                "Name"
            )
            .await
        ),
        ["Acme", "华为技术有限公司"]
    );
    assert_eq!(
        names(
            api.column("SELECT Name FROM Account WHERE Name LIKE 'ACME%'", "Name")
                .await
        ),
        ["Acme"]
    );
    assert_eq!(
        names(
            api.column("SELECT Name FROM Account WHERE Name LIKE '华为%'", "Name")
                .await
        ),
        ["华为技术有限公司"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account WHERE Name LIKE '%tech' ORDER BY Name",
                "Name"
            )
            .await
        ),
        ["initech"]
    );
    // Ordering: case-insensitive text, nulls first unless told otherwise, DESC, LIMIT/OFFSET.
    assert_eq!(
        names(
            api.column("SELECT Name FROM Account ORDER BY Name", "Name")
                .await
        ),
        ["Acme", "Globex", "initech", "华为技术有限公司"]
    );
    assert_eq!(
        names(
            api.column("SELECT Name FROM Account ORDER BY AnnualRevenue", "Name")
                .await
        ),
        ["Globex", "initech", "Acme", "华为技术有限公司"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account ORDER BY AnnualRevenue DESC NULLS LAST",
                "Name"
            )
            .await
        ),
        ["华为技术有限公司", "Acme", "initech", "Globex"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account ORDER BY Name DESC LIMIT 2 OFFSET 1",
                "Name"
            )
            .await
        ),
        ["initech", "Globex"]
    );
    // Numbers, nulls, IN, NOT, AND/OR.
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account WHERE AnnualRevenue > 1000 ORDER BY Name",
                "Name"
            )
            .await
        ),
        ["Acme", "华为技术有限公司"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account WHERE AnnualRevenue = null",
                "Name"
            )
            .await
        ),
        ["Globex"]
    );
    assert_eq!(
        names(
            api.column("SELECT Name FROM Account WHERE ParentId != null", "Name")
                .await
        ),
        ["Globex"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account WHERE Industry IN ('Energy', 'retail') ORDER BY Name",
                "Name"
            )
            .await
        ),
        ["Globex", "initech"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account WHERE Industry NOT IN ('Technology') ORDER BY Name",
                "Name"
            )
            .await
        ),
        ["Globex", "initech"]
    );
    assert_eq!(
        names(api.column("SELECT Name FROM Account WHERE (Industry = 'Technology' AND AnnualRevenue < 10000000) OR Name = 'initech' ORDER BY Name", "Name").await),
        ["Acme", "initech"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account WHERE NOT (Industry = 'Technology') ORDER BY Name",
                "Name"
            )
            .await
        ),
        ["Globex", "initech"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account WHERE Rating != 'Hot' ORDER BY Name",
                "Name"
            )
            .await
        ),
        ["Globex", "initech", "华为技术有限公司"]
    );
    assert_eq!(
        names(
            api.column(
                &format!("SELECT Name FROM Account WHERE Id = '{}'", &acme[..15]),
                "Name"
            )
            .await
        ),
        ["Acme"]
    );
    // Dates: literals and relative literals.
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Opportunity WHERE CloseDate = 2030-01-01",
                "Name"
            )
            .await
        ),
        ["Later"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Opportunity WHERE CloseDate = TODAY",
                "Name"
            )
            .await
        ),
        ["Big"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Opportunity WHERE CloseDate = LAST_N_DAYS:500 ORDER BY Name",
                "Name"
            )
            .await
        ),
        ["Big", "Won"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Opportunity WHERE CloseDate > NEXT_N_YEARS:1",
                "Name"
            )
            .await
        ),
        ["Later"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Opportunity WHERE CloseDate < THIS_YEAR",
                "Name"
            )
            .await
        ),
        ["Won"]
    );
    assert_eq!(
        api.column(
            "SELECT Name FROM Opportunity WHERE CreatedDate > 2020-01-01T00:00:00Z",
            "Name"
        )
        .await
        .len(),
        3
    );
    assert_eq!(
        api.column(
            "SELECT Name FROM Opportunity WHERE CreatedDate = TODAY",
            "Name"
        )
        .await
        .len(),
        3
    );
    // Booleans and derived fields.
    assert_eq!(
        names(
            api.column("SELECT Name FROM Opportunity WHERE IsWon = true", "Name")
                .await
        ),
        ["Won"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Opportunity WHERE Amount >= 1000.5",
                "Name"
            )
            .await
        ),
        ["Big"]
    );

    // Polymorphic parents: Who, What and a lead's Owner (a user or a queue), read after the page.
    api.create(
        "Task",
        json!({"Subject": "Call Ann", "WhatId": acme, "Status": "Not Started", "Priority": "High"}),
    )
    .await;
    let lead = api
        .create("Lead", json!({"LastName": "Poly", "Company": "Poly Co"}))
        .await;
    api.create(
        "Task",
        json!({"Subject": "Qualify", "WhoId": lead, "Status": "Not Started", "Priority": "Normal"}),
    )
    .await;
    let tasks = api
        .query(
            "SELECT Subject, What.Name, What.Type, Who.Name, Owner.Name FROM Task ORDER BY Subject",
        )
        .await;
    let tasks = tasks["records"].as_array().unwrap();
    assert_eq!(tasks[0]["Subject"], "Call Ann");
    assert_eq!(tasks[0]["What"]["attributes"]["type"], "Account");
    assert_eq!(tasks[0]["What"]["Name"], "Acme");
    assert_eq!(tasks[0]["What"]["Type"], "Account");
    assert_eq!(tasks[0]["Who"], Json::Null);
    assert_eq!(tasks[0]["Owner"]["Name"], "Ada Admin");
    assert_eq!(tasks[1]["Who"]["attributes"]["type"], "Lead");
    assert_eq!(tasks[1]["Who"]["Name"], "Poly");
    assert_eq!(tasks[1]["What"], Json::Null);
    let leads = api
        .query("SELECT LastName, Owner.Name FROM Lead WHERE Company = 'Poly Co'")
        .await;
    assert_eq!(leads["records"][0]["Owner"]["Name"], "Ada Admin");
    // Filters through a polymorphic parent: a semi-join per object it can point to.
    assert_eq!(
        names(
            api.column(
                "SELECT Subject FROM Task WHERE What.Name = 'acme'",
                "Subject"
            )
            .await
        ),
        ["Call Ann"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT LastName FROM Lead WHERE Owner.Name LIKE 'Ada%' AND Company = 'Poly Co'",
                "LastName"
            )
            .await
        ),
        ["Poly"]
    );
    assert!(
        api.column(
            "SELECT Subject FROM Task WHERE What.Name IN ('Globex')",
            "Subject"
        )
        .await
        .is_empty()
    );
    // Those that an empty lookup would also match, and Type, are refused by name.
    let (status, code, message) = api
        .error("SELECT Subject FROM Task WHERE What.Name != 'Acme'")
        .await;
    assert_eq!((status, code.as_str()), (400, "INVALID_FIELD"));
    assert!(message.contains("polymorphic What"), "{message}");
    assert_eq!(
        names(
            api.column(
                "SELECT Subject FROM Task WHERE What.Type = 'account' OR Who.Type IN ('Lead') ORDER BY Subject",
                "Subject"
            )
            .await
        ),
        ["Call Ann", "Qualify"]
    );
    assert!(
        api.column(
            "SELECT Subject FROM Task WHERE What.Type = 'Opportunity'",
            "Subject"
        )
        .await
        .is_empty()
    );
    assert_eq!(
        api.error("SELECT Subject FROM Task WHERE What.Type = 'Nope'")
            .await
            .1,
        "INVALID_QUERY_FILTER_OPERATOR"
    );
    assert_eq!(
        api.error("SELECT Subject FROM Task WHERE What.Type != 'Account'")
            .await
            .1,
        "INVALID_FIELD"
    );

    // Semi- and anti-joins.
    assert_eq!(names(api.column("SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE LastName = 'Lee')", "Name").await), ["Acme"]);
    assert_eq!(names(api.column("SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Opportunity) ORDER BY Name", "Name").await), ["initech"]);
    assert_eq!(names(api.column("SELECT LastName FROM Contact WHERE AccountId IN (SELECT Id FROM Account WHERE Industry = 'Technology') ORDER BY LastName", "LastName").await), ["Lee", "王"]);
    assert_eq!(
        api.error("SELECT Name FROM Account WHERE Name IN (SELECT LastName FROM Contact)")
            .await
            .1,
        "INVALID_QUERY_FILTER_OPERATOR"
    );

    // Multi-select picklists: 'a;b' needs both, a list needs any.
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account WHERE Interests__c INCLUDES ('golf')",
                "Name"
            )
            .await
        ),
        ["Acme"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account WHERE Interests__c INCLUDES ('Golf;Tennis')",
                "Name"
            )
            .await
        ),
        Vec::<String>::new()
    );
    assert_eq!(names(api.column("SELECT Name FROM Account WHERE Interests__c INCLUDES ('Golf;Chess', 'Tennis') ORDER BY Name", "Name").await), ["Acme", "华为技术有限公司"]);
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account WHERE Interests__c EXCLUDES ('Tennis') ORDER BY Name",
                "Name"
            )
            .await
        ),
        ["Acme", "Globex", "initech"]
    );
    assert_eq!(
        api.error("SELECT Name FROM Account WHERE Industry INCLUDES ('Energy')")
            .await
            .1,
        "INVALID_QUERY_FILTER_OPERATOR"
    );
    // toLabel: the value's label in the caller's language.
    let zh = Api {
        client: api.client.clone(),
        base: api.base.clone(),
        token: zh_token,
    };
    let labelled = zh
        .query("SELECT Name, toLabel(StageName) FROM Opportunity WHERE Name = 'Won'")
        .await;
    let label = labelled["records"][0]["StageName"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        label != "Closed Won" && label.chars().any(|c| c as u32 >= 0x4E00),
        "{label}"
    );
    assert_eq!(
        api.query("SELECT toLabel(StageName) FROM Opportunity WHERE Name = 'Won'")
            .await["records"][0]["StageName"],
        "Closed Won"
    );

    // Parent paths: nested records, null lookups, filters through joins, aliases.
    let contacts = api
        .query("SELECT LastName, Account.Name, Account.Owner.Name FROM Contact ORDER BY LastName")
        .await;
    let records = contacts["records"].as_array().unwrap();
    assert_eq!(contacts["totalSize"], 3, "{contacts}");
    assert_eq!(records[0]["LastName"], "Lee");
    assert_eq!(records[0]["Account"]["attributes"]["type"], "Account");
    assert_eq!(
        records[0]["Account"]["attributes"]["url"],
        format!("/services/data/v59.0/sobjects/Account/{acme}")
    );
    assert_eq!(records[0]["Account"]["Name"], "Acme");
    assert_eq!(records[0]["Account"]["Owner"]["attributes"]["type"], "User");
    assert_eq!(records[0]["Account"]["Owner"]["Name"], "Ada Admin");
    assert_eq!(records[1]["LastName"], "Loner");
    assert_eq!(records[1]["Account"], Json::Null);
    assert_eq!(records[2]["LastName"], "王");
    assert_eq!(records[2]["Account"]["Name"], "华为技术有限公司");
    assert_eq!(names(api.column("SELECT LastName FROM Contact WHERE Account.Industry = 'Technology' ORDER BY LastName", "LastName").await), ["Lee", "王"]);
    assert_eq!(
        names(
            api.column(
                "SELECT LastName FROM Contact WHERE Account.Parent.Name = null ORDER BY LastName",
                "LastName"
            )
            .await
        ),
        ["Lee", "Loner", "王"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT Name FROM Account WHERE Parent.Name = 'Acme'",
                "Name"
            )
            .await
        ),
        ["Globex"]
    );
    assert_eq!(
        names(
            api.column(
                "SELECT c.LastName FROM Contact c WHERE c.Account.Name = 'Acme'",
                "LastName"
            )
            .await
        ),
        ["Lee"]
    );
    assert_eq!(
        names(
            api.column("SELECT name FROM ACCOUNT where INDUSTRY = 'Energy'", "Name")
                .await
        ),
        ["Globex"],
        "names in any case; canonical in the answer"
    );
    let opportunity = api
        .query("SELECT Name, Account.Name FROM Opportunity ORDER BY Account.Name NULLS LAST")
        .await;
    assert_eq!(opportunity["records"][0]["Account"]["Name"], "Acme");

    // Child subqueries: a nested result per parent, null when there are none.
    api.create(
        "Contact",
        json!({"FirstName": "Bob", "LastName": "Adams", "AccountId": acme}),
    )
    .await;
    let with_children = api.query("SELECT Name, (SELECT LastName, Account.Name FROM Contacts ORDER BY LastName) FROM Account WHERE Industry IN ('Technology', 'Energy') ORDER BY Name").await;
    let parents = with_children["records"].as_array().unwrap();
    assert_eq!(parents[0]["Name"], "Acme");
    assert_eq!(parents[0]["Contacts"]["totalSize"], 2);
    assert_eq!(parents[0]["Contacts"]["done"], true);
    assert_eq!(parents[0]["Contacts"]["records"][0]["LastName"], "Adams");
    assert_eq!(parents[0]["Contacts"]["records"][1]["LastName"], "Lee");
    assert_eq!(
        parents[0]["Contacts"]["records"][0]["Account"]["Name"],
        "Acme"
    );
    assert_eq!(
        parents[0]["Contacts"]["records"][0]["attributes"]["type"],
        "Contact"
    );
    assert_eq!(parents[1]["Name"], "Globex");
    assert_eq!(parents[1]["Contacts"], Json::Null);
    assert_eq!(parents[2]["Contacts"]["records"][0]["LastName"], "王");
    let limited = api.query("SELECT Name, (SELECT LastName FROM Contacts WHERE LastName != 'Adams' LIMIT 1), (SELECT Name FROM Opportunities) FROM Account WHERE Name = 'Acme'").await;
    assert_eq!(limited["records"][0]["Contacts"]["totalSize"], 1);
    assert_eq!(
        limited["records"][0]["Contacts"]["records"][0]["LastName"],
        "Lee"
    );
    assert_eq!(
        limited["records"][0]["Opportunities"]["records"][0]["Name"],
        "Big"
    );
    assert_eq!(
        api.error("SELECT Name, (SELECT Id FROM Nothings) FROM Account")
            .await
            .1,
        "INVALID_TYPE"
    );
    assert_eq!(
        api.error("SELECT Name, (SELECT Id, (SELECT Id FROM Notes) FROM Contacts) FROM Account")
            .await
            .1,
        "MALFORMED_QUERY"
    );

    // Aggregates: GROUP BY, HAVING, aliases and exprN names, ordering by aggregates.
    let stages = api.query("SELECT StageName, COUNT(Id), SUM(Amount) total FROM Opportunity GROUP BY StageName ORDER BY StageName").await;
    assert_eq!(stages["totalSize"], 3);
    let rows = stages["records"].as_array().unwrap();
    assert_eq!(
        rows[0],
        json!({"attributes": {"type": "AggregateResult"}, "StageName": "Closed Won", "expr0": 1, "total": 200.0})
    );
    assert_eq!(rows[1]["StageName"], "Prospecting");
    assert_eq!(rows[1]["total"], 1000.5);
    assert_eq!(rows[2]["total"], Json::Null);
    let overall = api.query("SELECT COUNT(Id) cnt, MAX(AnnualRevenue) top, MIN(Name), AVG(AnnualRevenue) FROM Account").await;
    assert_eq!(overall["records"][0]["expr1"].as_f64(), Some(301_666_700.0));
    assert_eq!(overall["records"][0]["cnt"], 4);
    assert_eq!(overall["records"][0]["top"], 900000000);
    assert_eq!(overall["records"][0]["expr0"], "Acme");
    let average = api
        .query("SELECT AVG(Amount) average FROM Opportunity WHERE Amount != null")
        .await;
    assert_eq!(average["records"][0]["average"], 600.25);
    let busy = api
        .query("SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry HAVING COUNT(Id) > 1")
        .await;
    assert_eq!(
        busy["records"],
        json!([{"attributes": {"type": "AggregateResult"}, "Industry": "Technology", "expr0": 2}])
    );
    let by_parent = api.query("SELECT Account.Name, COUNT(Id) n FROM Contact GROUP BY Account.Name ORDER BY COUNT(Id) DESC, Account.Name").await;
    assert_eq!(by_parent["records"][0]["Name"], "Acme");
    assert_eq!(by_parent["records"][0]["n"], 2);
    let big_sums = api.query("SELECT AccountId, SUM(Amount) FROM Opportunity GROUP BY AccountId HAVING SUM(Amount) > 500").await;
    assert_eq!(big_sums["records"].as_array().unwrap().len(), 1);
    assert_eq!(big_sums["records"][0]["AccountId"], acme);
    assert_eq!(
        api.error("SELECT Name, COUNT(Id) FROM Account").await.1,
        "MALFORMED_QUERY"
    );
    assert_eq!(
        api.error("SELECT SUM(Name) FROM Account").await.1,
        "MALFORMED_QUERY"
    );
    // ROLLUP and CUBE add subtotal rows, with GROUPING() marking them.
    let rollup = api.query("SELECT Industry, Rating, COUNT(Id) n, GROUPING(Industry) gi FROM Account GROUP BY ROLLUP(Industry, Rating)").await;
    let rows = rollup["records"].as_array().unwrap();
    let total = rows
        .iter()
        .find(|r| r["Industry"].is_null() && r["Rating"].is_null() && r["gi"] == 1)
        .expect("a grand total row");
    assert_eq!(total["n"], 4);
    let technology = rows.iter().find(|r| {
        r["Industry"] == "Technology" && r["Rating"].is_null() && r["gi"] == 0 && r["n"] == 2
    });
    assert!(technology.is_some(), "a Technology subtotal: {rollup}");
    let cube = api
        .query("SELECT Industry, Rating, COUNT(Id) FROM Account GROUP BY CUBE(Industry, Rating)")
        .await;
    assert!(
        cube["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["Industry"].is_null() && r["Rating"] == "Hot" && r["expr0"] == 1),
        "{cube}"
    );
    let keys_only = api
        .query("SELECT Industry FROM Account GROUP BY ROLLUP(Industry)")
        .await;
    assert_eq!(
        keys_only["totalSize"], 4,
        "three industries and the total: {keys_only}"
    );
    // LIMIT and OFFSET count rows of the whole result, subtotals included.
    let limited = api
        .query("SELECT Industry FROM Account GROUP BY ROLLUP(Industry) LIMIT 2")
        .await;
    assert_eq!(limited["totalSize"], 2, "{limited}");
    let last = api
        .query(
            "SELECT Industry, COUNT(Id) n FROM Account GROUP BY ROLLUP(Industry) LIMIT 5 OFFSET 3",
        )
        .await;
    assert_eq!(last["totalSize"], 1, "only the grand total is left: {last}");
    assert_eq!(last["records"][0]["n"], 4, "{last}");
    // ORDER BY sorts subtotal rows in with the rest (each grouping set is its own query).
    assert_eq!(
        names(
            api.column(
                "SELECT Industry, COUNT(Id) n FROM Account GROUP BY ROLLUP(Industry) ORDER BY Industry NULLS LAST",
                "Industry"
            )
            .await
        ),
        ["Energy", "Retail", "Technology", "<null>"]
    );
    let by_count = api
        .query("SELECT Industry, COUNT(Id) n FROM Account GROUP BY ROLLUP(Industry) ORDER BY COUNT(Id) DESC, Industry DESC LIMIT 3")
        .await;
    let ordered: Vec<(Json, Json)> = by_count["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["Industry"].clone(), r["n"].clone()))
        .collect();
    assert_eq!(
        ordered,
        [
            (Json::Null, json!(4)),
            (json!("Technology"), json!(2)),
            (json!("Retail"), json!(1))
        ],
        "{by_count}"
    );

    // COUNT(), FIELDS(), attributes.
    let count = api
        .query("SELECT COUNT() FROM Account WHERE Industry = 'Technology'")
        .await;
    assert_eq!(
        (count["totalSize"].clone(), count["records"].clone()),
        (json!(2), json!([]))
    );
    let fields = api
        .query("SELECT FIELDS(STANDARD) FROM Account WHERE Name = 'Acme'")
        .await;
    assert_eq!(fields["records"][0]["Rating"], "Hot");
    assert_eq!(
        fields["records"][0]["attributes"]["url"],
        format!("/services/data/v59.0/sobjects/Account/{acme}")
    );

    // queryAll includes the recycle bin.
    api.client
        .delete(format!("{}/sobjects/Account/{initech}", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.column("SELECT Name FROM Account", "Name").await.len(),
        3
    );
    let all = api
        .client
        .get(format!("{}/queryAll", api.base))
        .query_pairs("SELECT Name, IsDeleted FROM Account WHERE Name = 'initech'")
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let all: Json = all.json().await.unwrap();
    assert_eq!(all["records"][0]["IsDeleted"], true);

    // Paging: 2,000 a page by default, batchSize honoured, locators answer from any page.
    let records: Vec<Json> = (0..200).map(|i| json!({"attributes": {"type": "Lead"}, "LastName": format!("L{i:04}"), "Company": "Paging"})).collect();
    for _ in 0..11 {
        api.post(
            "/composite/sobjects",
            json!({"allOrNone": true, "records": records}),
        )
        .await;
    }
    let first = api
        .query("SELECT LastName FROM Lead WHERE Company = 'Paging' ORDER BY LastName, Id")
        .await;
    assert_eq!(first["totalSize"], 2200);
    assert_eq!(first["done"], false);
    assert_eq!(first["records"].as_array().unwrap().len(), 2000);
    let next = first["nextRecordsUrl"].as_str().unwrap();
    assert!(next.starts_with("/services/data/v59.0/query/"));
    assert!(next.contains('~'), "a sorted query pages by key: {next}");
    let second: Json = api
        .client
        .get(format!("{}{next}", server.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["done"], true);
    assert_eq!(second["records"].as_array().unwrap().len(), 200);
    assert!(second.get("nextRecordsUrl").is_none());
    assert_eq!(
        second["totalSize"], 2200,
        "every page reports the cursor's total"
    );
    // The first page's total rides in the locator, so later pages need no COUNT; a locator
    // without it (as issued by earlier builds) is still answered, by counting.
    let (head, position) = next.rsplit_once('-').unwrap();
    assert_eq!(position, "2000.2200");
    let old_style: Json = api
        .client
        .get(format!("{}{head}-2000", server.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(old_style["totalSize"], 2200, "{old_style}");
    assert_eq!(old_style["records"].as_array().unwrap().len(), 200);
    let small = api
        .client
        .get(format!("{}/query", api.base))
        .query_pairs("SELECT Id FROM Lead WHERE Company = 'Paging' LIMIT 700")
        .header("Sforce-Query-Options", "batchSize=300")
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let small: Json = small.json().await.unwrap();
    assert_eq!(
        (
            small["totalSize"].clone(),
            small["records"].as_array().unwrap().len()
        ),
        (json!(700), 300)
    );

    // Later pages of a sorted query start after the previous page's last row (its sort key
    // rides in the locator): with ties (11 leads per LastName), descending and mixed orders,
    // and null keys (which fall back to counting from the top), every row comes exactly once.
    let walk = |soql: &'static str, by_key: bool| {
        let api = &api;
        let base = server.base.clone();
        async move {
            let mut records: Vec<Json> = Vec::new();
            let mut url = format!("{}/query", api.base);
            let mut first = true;
            loop {
                let mut request = api.client.get(&url);
                if first {
                    request = request.query_pairs(soql);
                }
                let page: Json = request
                    .header("Sforce-Query-Options", "batchSize=200")
                    .bearer_auth(&api.token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(page["totalSize"], 2200, "{soql}: {page}");
                records.extend(page["records"].as_array().unwrap().iter().cloned());
                match page["nextRecordsUrl"].as_str() {
                    Some(next) => {
                        assert_eq!(next.contains('~'), by_key, "{soql}: {next}");
                        url = format!("{base}{next}");
                    }
                    None => break,
                }
                first = false;
            }
            records
        }
    };
    let distinct = |records: &[Json]| {
        let ids: std::collections::HashSet<&str> =
            records.iter().map(|r| r["Id"].as_str().unwrap()).collect();
        ids.len()
    };
    let names = |records: &[Json]| -> Vec<String> {
        records
            .iter()
            .map(|r| r["LastName"].as_str().unwrap().to_string())
            .collect()
    };
    let by_name = walk(
        "SELECT Id, LastName FROM Lead WHERE Company = 'Paging' ORDER BY LastName",
        true,
    )
    .await;
    assert_eq!((by_name.len(), distinct(&by_name)), (2200, 2200));
    let mut sorted = names(&by_name);
    sorted.sort();
    assert_eq!(names(&by_name), sorted);
    let descending = walk("SELECT Id, LastName FROM Lead WHERE Company = 'Paging' ORDER BY LastName DESC, CreatedDate", true).await;
    assert_eq!((descending.len(), distinct(&descending)), (2200, 2200));
    sorted.reverse();
    assert_eq!(names(&descending), sorted);
    let null_keys = walk("SELECT Id, LastName FROM Lead WHERE Company = 'Paging' ORDER BY FirstName DESC NULLS FIRST, LastName", false).await;
    assert_eq!((null_keys.len(), distinct(&null_keys)), (2200, 2200));
    let bad_key = format!(
        "{}~{}-200.2200",
        head.split_once('~').map_or(head, |(q, _)| q),
        "bm90IGEga2V5"
    );
    let response = api
        .client
        .get(format!("{}{bad_key}", server.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Json = response.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "INVALID_QUERY_LOCATOR");

    // Errors: Salesforce's codes, with positions for syntax.
    let (status, code, message) = api.error("SELECT Id FORM Account").await;
    assert_eq!((status, code.as_str()), (400, "MALFORMED_QUERY"));
    assert!(
        message.contains("FORM") && message.contains("Row:1:Column:11"),
        "{message}"
    );
    let (_, code, message) = api.error("SELECT Colour__c FROM Account").await;
    assert_eq!(code, "INVALID_FIELD");
    assert!(
        message.contains("No such column 'Colour__c' on entity 'Account'"),
        "{message}"
    );
    assert_eq!(
        api.error("SELECT Id FROM Nothing__c").await.1,
        "INVALID_TYPE"
    );
    assert_eq!(
        api.error("SELECT Id FROM Account WHERE AnnualRevenue = 'lots'")
            .await
            .1,
        "INVALID_QUERY_FILTER_OPERATOR"
    );
    assert_eq!(
        api.error("SELECT Id FROM Account WHERE Id = 'not-an-id'")
            .await
            .1,
        "INVALID_QUERY_FILTER_OPERATOR"
    );
    assert_eq!(
        api.error("SELECT Id FROM Contact WHERE Account.Nope.Name = 'x'")
            .await
            .1,
        "INVALID_FIELD"
    );
    assert_eq!(
        api.error("SELECT Id FROM Account OFFSET 2001").await.1,
        "MALFORMED_QUERY"
    );
    let bad_locator = api
        .client
        .get(format!("{}/query/zzz-10", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let body: Json = bad_locator.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "INVALID_QUERY_LOCATOR");
    // `?explain=`: the plan in Salesforce's shape, counted against the real table.
    let explain = |soql: &'static str| {
        api.client
            .get(format!("{}/query", api.base))
            .param("explain", soql)
            .bearer_auth(&api.token)
            .send()
    };
    let all_accounts = api.query("SELECT COUNT() FROM Account").await["totalSize"].clone();
    let plan: Json = explain("SELECT Id FROM Account WHERE Name = 'Acme'")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let plan = &plan["plans"][0];
    assert_eq!(plan["sobjectType"], "Account");
    assert_eq!(plan["sobjectCardinality"], all_accounts);
    assert_eq!(plan["cardinality"], 1, "{plan}");
    assert_eq!(plan["leadingOperationType"], "Index");
    assert_eq!(plan["fields"], json!(["Name"]));
    let plan: Json = explain("SELECT Id FROM Account WHERE Industry = 'Nope'")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plan["plans"][0]["cardinality"], 0);
    assert_eq!(plan["plans"][0]["leadingOperationType"], "TableScan");
    let bad = explain("SELECT Id FROM Nope").await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let _ = huawei;
    assert!(server.stop().success());
}

crate::both_backends!(date_literals_follow_the_users_time_zone);

/// TODAY is today where the user is: on a datetime field, a day from their midnight to the
/// next. Shanghai (UTC+8) and Honolulu (UTC-10) keep no summer time, so the test can say
/// which instants fall on whose today.
async fn date_literals_follow_the_users_time_zone(db: TestDb) {
    use app::records::Update;
    use time::{Duration, OffsetDateTime, UtcOffset};

    let (app, admin) = db.app_with_admin().await;
    rapport_ok(
        &db,
        &[
            "field",
            "add",
            "Account",
            "Meeting__c",
            "--type",
            "DateTime",
        ],
    );
    let app = {
        drop(app);
        db.app().await
    };
    let now = OffsetDateTime::now_utc();
    let shanghai = UtcOffset::from_hms(8, 0, 0).unwrap();
    let honolulu = UtcOffset::from_hms(-10, 0, 0).unwrap();
    // Instants around the start of today in Shanghai.
    let shanghai_midnight = now
        .to_offset(shanghai)
        .date()
        .midnight()
        .assume_offset(shanghai);
    let instants = [
        ("before", shanghai_midnight - Duration::minutes(1)),
        ("after", shanghai_midnight + Duration::minutes(1)),
        ("late", shanghai_midnight + Duration::hours(23)),
    ];
    for (name, at) in &instants {
        let at = at.to_offset(UtcOffset::UTC);
        let value = format!(
            "{}Z",
            at.format(&time::format_description::well_known::Rfc3339)
                .unwrap()
                .trim_end_matches('Z')
        );
        app.create(
            &admin,
            "Account",
            crate::support::input(json!({"Name": name, "Meeting__c": value})),
        )
        .await
        .unwrap();
    }
    let admin_id = admin.user_id.clone().unwrap();
    for (zone, offset) in [("Asia/Shanghai", shanghai), ("Pacific/Honolulu", honolulu)] {
        app.update(
            &admin,
            "User",
            Update {
                id: admin_id.to_18(),
                input: crate::support::input(json!({"TimeZoneSidKey": zone})),
                if_unmodified_since: None,
            },
        )
        .await
        .unwrap();
        let caller = app.cli_caller(Some("admin@example.com")).await.unwrap();
        assert_eq!(caller.time_zone.as_deref(), Some(zone));
        let page = app
            .query(
                &caller,
                "SELECT Name FROM Account WHERE Meeting__c = TODAY ORDER BY Name",
                app::query::QueryOptions {
                    page_size: 200,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let got: Vec<String> = page
            .rows
            .iter()
            .map(|r| match &r.cells[0].1 {
                app::query::Cell::Value(v) => v.to_display(),
                _ => String::new(),
            })
            .collect();
        let today = now.to_offset(offset).date();
        let mut expected: Vec<String> = instants
            .iter()
            .filter(|(_, at)| at.to_offset(offset).date() == today)
            .map(|(name, _)| name.to_string())
            .collect();
        expected.sort();
        assert_eq!(got, expected, "{zone}");
    }
}

crate::both_backends!(picklist_filters_match_values_in_any_case);

/// Picklist filters compare defined values as stored (fast, indexable) and others
/// case-insensitively; a value added to a picklist is stored as defined in every record and
/// every field of the value set that held it in another case.
async fn picklist_filters_match_values_in_any_case(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let create = |object: &'static str, value: Json| {
        let app = &app;
        let admin = &admin;
        async move {
            app.create(admin, object, crate::support::input(value))
                .await
                .unwrap()
        }
    };
    create(
        "Account",
        json!({"Name": "Q1", "Industry": "quantum computing"}),
    )
    .await;
    create("Account", json!({"Name": "E1", "Industry": "ENERGY"})).await;
    create(
        "Lead",
        json!({"LastName": "L1", "Company": "C", "Industry": "QUANTUM computing"}),
    )
    .await;
    let rows = |app: &app::App, soql: &'static str| {
        let app = app.clone();
        let admin = admin.clone();
        async move {
            app.query(
                &admin,
                soql,
                app::query::QueryOptions {
                    page_size: 200,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .rows
            .iter()
            .map(|r| {
                r.cells
                    .iter()
                    .map(|(_, c)| match c {
                        app::query::Cell::Value(v) => v.to_display(),
                        _ => String::new(),
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect::<Vec<String>>()
        }
    };
    assert_eq!(
        rows(
            &app,
            "SELECT Name, Industry FROM Account WHERE Industry = 'energy'"
        )
        .await,
        ["E1|Energy"]
    );
    assert_eq!(
        rows(
            &app,
            "SELECT Name FROM Account WHERE Industry = 'Quantum Computing'"
        )
        .await,
        ["Q1"]
    );
    assert_eq!(
        rows(
            &app,
            "SELECT Name FROM Account WHERE Industry IN ('energy', 'QUANTUM COMPUTING') ORDER BY Name"
        )
        .await,
        ["E1", "Q1"]
    );
    assert_eq!(
        rows(&app, "SELECT Name FROM Account WHERE Industry != 'Energy'").await,
        ["Q1"]
    );
    let schema = app.schema().await.unwrap();
    let mut values: Vec<String> = schema
        .object("Account")
        .unwrap()
        .field("Industry")
        .unwrap()
        .values
        .iter()
        .filter(|v| v.active)
        .map(|v| v.value.clone())
        .collect();
    values.push("Quantum Computing".into());
    rapport_ok(
        &db,
        &[
            "field",
            "change",
            "Account",
            "Industry",
            "--values",
            &values.join(","),
        ],
    );
    let app = db.app().await;
    assert_eq!(
        rows(
            &app,
            "SELECT Name, Industry FROM Account WHERE Industry = 'quantum computing'"
        )
        .await,
        ["Q1|Quantum Computing"]
    );
    assert_eq!(
        rows(
            &app,
            "SELECT LastName, Industry FROM Lead WHERE Industry = 'Quantum Computing'"
        )
        .await,
        ["L1|Quantum Computing"],
        "the Lead field shares the value set"
    );
}
