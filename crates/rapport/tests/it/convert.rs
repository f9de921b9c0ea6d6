//! Lead conversion over REST against a running server: new records and existing ones filled
//! where empty, the opportunity's defaults, activities and campaign members following the
//! lead, the lead marked converted and read-only, queue-owned leads, bulk conversion with
//! per-lead outcomes, and every failure a clear error that changes nothing. Both backends.

use serde_json::{Value as Json, json};

use crate::support::{Api, Server, TestDb, rapport_err, rapport_ok};

crate::both_backends!(
    leads_convert_into_accounts_contacts_and_opportunities,
    custom_lead_fields_follow_their_mappings
);

async fn post(api: &Api, path: &str, body: Json) -> (u16, Json) {
    let response = api
        .client
        .post(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn get(api: &Api, path: &str) -> Json {
    let response = api
        .client
        .get(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

async fn count(api: &Api, soql: &str) -> u64 {
    api.query(soql).await["totalSize"].as_u64().unwrap()
}

/// The last day of the current calendar quarter (a new org's fiscal year is the calendar
/// year), in UTC.
fn end_of_quarter() -> String {
    let today = time::OffsetDateTime::now_utc().date();
    let last_month = ((u8::from(today.month()) - 1) / 3) * 3 + 3;
    let month = time::Month::try_from(last_month).unwrap();
    let day = month.length(today.year());
    format!("{}-{:02}-{:02}", today.year(), last_month, day)
}

async fn leads_convert_into_accounts_contacts_and_opportunities(db: TestDb) {
    for (email, profile) in [
        ("admin@example.com", "System Administrator"),
        ("rep@example.com", "Standard User"),
        ("viewer@example.com", "Read Only"),
        ("other.rep@example.com", "Standard User"),
    ] {
        rapport_ok(
            &db,
            &[
                "user",
                "add",
                "--email",
                email,
                "--password",
                "secret123",
                "--name",
                "Some One",
                "--profile",
                profile,
            ],
        );
    }
    rapport_ok(&db, &["group", "add", "Lead Queue", "--queue"]);
    let token = |email: &str| {
        rapport_ok(&db, &["token", "--user", email])
            .trim()
            .to_string()
    };
    let server = Server::start(&db).await;
    let api = |token: String| Api {
        client: reqwest::Client::new(),
        base: format!("{}/services/data/v59.0", server.base),
        token,
    };
    let (admin, rep, viewer) = (
        api(token("admin@example.com")),
        api(token("rep@example.com")),
        api(token("viewer@example.com")),
    );
    let rep_id = admin
        .one("SELECT Id FROM User WHERE Email = 'rep@example.com'")
        .await["Id"]
        .as_str()
        .unwrap()
        .to_string();

    let lead = rep
        .create(
            "Lead",
            json!({"FirstName": "Wei", "LastName": "Li", "Company": "Huawei", "Email": "li.wei@huawei.com",
                   "Phone": "+86 755 2878 0808", "Website": "https://www.huawei.com", "Industry": "Technology",
                   "LeadSource": "Web", "City": "Shenzhen", "Title": "CIO", "NumberOfEmployees": 195000}),
        )
        .await;
    let open_task = rep
        .create("Task", json!({"Subject": "Call Li Wei", "WhoId": lead}))
        .await;
    let done_task = rep
        .create(
            "Task",
            json!({"Subject": "Emailed", "WhoId": lead, "Status": "Completed"}),
        )
        .await;
    let campaign = admin
        .create("Campaign", json!({"Name": "Spring Expo"}))
        .await;
    let member = admin
        .create(
            "CampaignMember",
            json!({"CampaignId": campaign, "LeadId": lead}),
        )
        .await;
    let convert = |id: &str| format!("/rapport/leads/{id}/convert");

    // Nothing to match yet; a status that is not a converted one fails and changes nothing.
    let matches = get(&rep, &format!("/rapport/leads/{lead}/matches")).await;
    assert_eq!(matches["accounts"], json!([]));
    let (status, body) = post(
        &rep,
        &convert(&lead),
        json!({"convertedStatus": "Working - Contacted"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body[0]["errorCode"], "INVALID_STATUS");
    assert!(
        body[0]["message"]
            .as_str()
            .unwrap()
            .contains("'Closed - Converted'"),
        "{body}"
    );
    assert_eq!(count(&admin, "SELECT Id FROM Account").await, 0);
    // A user without Convert Leads may not.
    let (status, body) = post(
        &viewer,
        &convert(&lead),
        json!({"convertedStatus": "Closed - Converted"}),
    )
    .await;
    assert_eq!(
        (status, body[0]["errorCode"].clone()),
        (400, json!("INSUFFICIENT_ACCESS_OR_READONLY")),
        "{body}"
    );

    // Converted: an account, a contact and an opportunity made from the lead.
    let (status, done) = post(
        &rep,
        &convert(&lead),
        json!({"convertedStatus": "Closed - Converted"}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    let (account, contact, opportunity) = (
        done["accountId"].as_str().unwrap().to_string(),
        done["contactId"].as_str().unwrap().to_string(),
        done["opportunityId"].as_str().unwrap().to_string(),
    );
    let a = rep.one(&format!("SELECT Name, Industry, Phone, Website, BillingCity, NumberOfEmployees, OwnerId FROM Account WHERE Id = '{account}'")).await;
    assert_eq!(
        (
            &a["Name"],
            &a["Industry"],
            &a["BillingCity"],
            &a["NumberOfEmployees"],
            &a["OwnerId"]
        ),
        (
            &json!("Huawei"),
            &json!("Technology"),
            &json!("Shenzhen"),
            &json!(195000),
            &json!(rep_id)
        )
    );
    let c = rep.one(&format!("SELECT FirstName, LastName, Email, Title, MailingCity, AccountId, LeadSource FROM Contact WHERE Id = '{contact}'")).await;
    assert_eq!(
        (
            &c["FirstName"],
            &c["LastName"],
            &c["Email"],
            &c["Title"],
            &c["AccountId"],
            &c["LeadSource"]
        ),
        (
            &json!("Wei"),
            &json!("Li"),
            &json!("li.wei@huawei.com"),
            &json!("CIO"),
            &json!(account),
            &json!("Web")
        )
    );
    let o = rep.one(&format!("SELECT Name, StageName, CloseDate, AccountId, LeadSource, CampaignId FROM Opportunity WHERE Id = '{opportunity}'")).await;
    assert_eq!(
        (
            &o["Name"],
            &o["StageName"],
            &o["AccountId"],
            &o["LeadSource"],
            &o["CampaignId"]
        ),
        (
            &json!("Huawei"),
            &json!("Prospecting"),
            &json!(account),
            &json!("Web"),
            &json!(campaign)
        )
    );
    assert_eq!(o["CloseDate"], json!(end_of_quarter()));
    let l = rep.one(&format!("SELECT Status, IsConverted, ConvertedDate, ConvertedAccountId, ConvertedContactId, ConvertedOpportunityId FROM Lead WHERE Id = '{lead}'")).await;
    assert_eq!(
        (
            &l["Status"],
            &l["IsConverted"],
            &l["ConvertedAccountId"],
            &l["ConvertedContactId"],
            &l["ConvertedOpportunityId"]
        ),
        (
            &json!("Closed - Converted"),
            &json!(true),
            &json!(account),
            &json!(contact),
            &json!(opportunity)
        )
    );
    assert!(l["ConvertedDate"].is_string());
    // The activities and the campaign membership followed.
    for task in [&open_task, &done_task] {
        let t = rep
            .one(&format!(
                "SELECT WhoId, WhatId FROM Task WHERE Id = '{task}'"
            ))
            .await;
        assert_eq!(
            (&t["WhoId"], &t["WhatId"]),
            (&json!(contact), &json!(opportunity))
        );
    }
    let m = admin
        .one(&format!(
            "SELECT ContactId FROM CampaignMember WHERE Id = '{member}'"
        ))
        .await;
    assert_eq!(m["ContactId"], json!(contact));

    // A member's status says whether they responded; the first response date stays.
    let set_status = |status: &'static str| {
        let client = admin.client.clone();
        let url = format!("{}/sobjects/CampaignMember/{member}", admin.base);
        let token = admin.token.clone();
        async move {
            let response = client
                .patch(url)
                .bearer_auth(token)
                .json(&json!({"Status": status}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 204);
        }
    };
    let responded = |member: String| {
        let admin = &admin;
        async move {
            admin.one(&format!(
                    "SELECT Status, HasResponded, FirstRespondedDate FROM CampaignMember WHERE Id = '{member}'"
                ),
            )
            .await
        }
    };
    let before = responded(member.clone()).await;
    assert_eq!(
        (&before["Status"], &before["HasResponded"]),
        (&json!("Sent"), &json!(false))
    );
    assert_eq!(before["FirstRespondedDate"], Json::Null);
    set_status("Responded").await;
    let after = responded(member.clone()).await;
    let today = time::OffsetDateTime::now_utc().date();
    assert_eq!(after["HasResponded"], true);
    assert_eq!(
        after["FirstRespondedDate"],
        json!(model::value::format_date(today))
    );
    set_status("Sent").await;
    let again = responded(member.clone()).await;
    assert_eq!(again["HasResponded"], false);
    assert_eq!(again["FirstRespondedDate"], after["FirstRespondedDate"]);

    // The opportunity's stage history: a snapshot when created, and on each change of
    // stage, amount, probability, close date or forecast category (not of other fields).
    let patch = |id: String, body: Json| {
        let rep = &rep;
        async move {
            let response = rep
                .client
                .patch(format!("{}/sobjects/Opportunity/{id}", rep.base))
                .bearer_auth(&rep.token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 204);
        }
    };
    patch(
        opportunity.clone(),
        json!({"StageName": "Qualification", "Amount": 120000}),
    )
    .await;
    patch(
        opportunity.clone(),
        json!({"Description": "Phones for the Shenzhen office"}),
    )
    .await;
    patch(opportunity.clone(), json!({"Amount": 150000})).await;
    let history = rep
        .query(&format!("SELECT StageName, Amount, PrevAmount, Probability, ForecastCategory, CloseDate FROM OpportunityHistory WHERE OpportunityId = '{opportunity}' ORDER BY CreatedDate, Amount NULLS FIRST"))
        .await;
    let rows: Vec<(Json, Json, Json)> = history["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["StageName"].clone(),
                r["Amount"].clone(),
                r["PrevAmount"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (json!("Prospecting"), Json::Null, Json::Null),
            (json!("Qualification"), json!(120000.0), Json::Null),
            (json!("Qualification"), json!(150000.0), json!(120000.0)),
        ],
        "{history}"
    );
    assert_eq!(history["records"][1]["Probability"], json!(10), "{history}");

    // One primary contact per opportunity: a new primary role takes over from the last.
    let other = rep
        .create("Contact", json!({"LastName": "Zhou", "AccountId": account}))
        .await;
    let first_role = rep
        .create("OpportunityContactRole", json!({"OpportunityId": opportunity, "ContactId": contact, "Role": "Decision Maker", "IsPrimary": true}))
        .await;
    let second_role = rep
        .create(
            "OpportunityContactRole",
            json!({"OpportunityId": opportunity, "ContactId": other, "IsPrimary": true}),
        )
        .await;
    let primaries = || {
        let rep = &rep;
        let opportunity = opportunity.clone();
        async move {
            rep.column(
                &format!("SELECT Id FROM OpportunityContactRole WHERE OpportunityId = '{opportunity}' AND IsPrimary = true"),
                "Id",
            )
            .await
        }
    };
    assert_eq!(primaries().await, [json!(second_role)]);
    let response = rep
        .client
        .patch(format!(
            "{}/sobjects/OpportunityContactRole/{first_role}",
            rep.base
        ))
        .bearer_auth(&rep.token)
        .json(&json!({"IsPrimary": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(primaries().await, [json!(first_role)]);

    // A converted lead is read-only and cannot be converted again.
    let (status, body) = post(
        &rep,
        &convert(&lead),
        json!({"convertedStatus": "Closed - Converted"}),
    )
    .await;
    assert_eq!(
        (status, body[0]["errorCode"].clone()),
        (400, json!("CANNOT_UPDATE_CONVERTED_LEAD"))
    );
    let patched = rep
        .client
        .patch(format!("{}/sobjects/Lead/{lead}", rep.base))
        .bearer_auth(&rep.token)
        .json(&json!({"Title": "CEO"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status().as_u16(), 400);
    let body: Json = patched.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "CANNOT_UPDATE_CONVERTED_LEAD");

    // The same person again: the account and contact are offered, and converting into them
    // fills only what they lack (and makes no opportunity when asked not to).
    let again = rep
        .create(
            "Lead",
            json!({"FirstName": "Wei", "LastName": "Li", "Company": "Huawei", "Email": "li.wei@huawei.com",
                   "Title": "CTO", "Fax": "+86 755 0000", "Industry": "Telecommunications", "MobilePhone": "+86 139"}),
        )
        .await;
    let matches = get(&rep, &format!("/rapport/leads/{again}/matches")).await;
    assert_eq!(matches["accounts"][0]["id"], json!(account), "{matches}");
    assert_eq!(matches["contacts"][0]["id"], json!(contact), "{matches}");
    let elsewhere = rep.create("Account", json!({"Name": "Elsewhere"})).await;
    let (status, body) = post(
        &rep,
        &convert(&again),
        json!({"convertedStatus": "Closed - Converted", "accountId": elsewhere, "contactId": contact}),
    )
    .await;
    assert_eq!(
        (status, body[0]["errorCode"].clone()),
        (400, json!("INVALID_CROSS_REFERENCE_KEY")),
        "{body}"
    );
    assert_eq!(
        count(&rep, "SELECT Id FROM Lead WHERE IsConverted = true").await,
        1
    );
    let (status, done) = post(
        &rep,
        &convert(&again),
        json!({"convertedStatus": "Closed - Converted", "accountId": account, "contactId": contact, "doNotCreateOpportunity": true}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["opportunityId"], Json::Null);
    assert_eq!(
        (&done["accountId"], &done["contactId"]),
        (&json!(account), &json!(contact))
    );
    let a = rep
        .one(&format!(
            "SELECT Industry, Fax FROM Account WHERE Id = '{account}'"
        ))
        .await;
    assert_eq!(
        (&a["Industry"], &a["Fax"]),
        (&json!("Technology"), &json!("+86 755 0000"))
    );
    let c = rep
        .one(&format!(
            "SELECT Title, MobilePhone FROM Contact WHERE Id = '{contact}'"
        ))
        .await;
    assert_eq!(
        (&c["Title"], &c["MobilePhone"]),
        (&json!("CIO"), &json!("+86 139"))
    );
    assert_eq!(count(&rep, "SELECT Id FROM Opportunity").await, 1);

    // A queue's lead needs a user to own what it becomes.
    let queue = admin
        .one("SELECT Id FROM Group WHERE Name = 'Lead Queue'")
        .await["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let queued = admin
        .create(
            "Lead",
            json!({"LastName": "Zhang", "Company": "Xiaomi", "OwnerId": queue}),
        )
        .await;
    let (status, body) = post(
        &admin,
        &convert(&queued),
        json!({"convertedStatus": "Closed - Converted"}),
    )
    .await;
    assert_eq!(
        (status, body[0]["errorCode"].clone()),
        (400, json!("INVALID_CROSS_REFERENCE_KEY")),
        "{body}"
    );
    let (status, done) = post(
        &admin,
        &convert(&queued),
        json!({"convertedStatus": "Closed - Converted", "ownerId": rep_id, "opportunityName": "Xiaomi phones"}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    let o = admin
        .one(&format!(
            "SELECT Name, OwnerId FROM Opportunity WHERE Id = '{}'",
            done["opportunityId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (&o["Name"], &o["OwnerId"]),
        (&json!("Xiaomi phones"), &json!(rep_id))
    );

    // Many at once: each lead on its own.
    let mut leads = Vec::new();
    for company in ["Lenovo", "BYD", "Haier"] {
        leads.push(
            rep.create("Lead", json!({"LastName": "Wang", "Company": company}))
                .await,
        );
    }
    let (status, results) = post(
        &rep,
        "/rapport/leads/convert",
        json!({"leads": [
            {"leadId": leads[0], "convertedStatus": "Closed - Converted"},
            {"leadId": leads[1], "convertedStatus": "Closed - Not Converted"},
            {"leadId": leads[2], "convertedStatus": "Closed - Converted", "doNotCreateOpportunity": true},
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{results}");
    let outcomes: Vec<(bool, Json)> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["success"].as_bool().unwrap(),
                r["errors"][0]["statusCode"].clone(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (true, Json::Null),
            (false, json!("INVALID_STATUS")),
            (true, Json::Null)
        ]
    );
    assert_eq!(
        count(
            &rep,
            "SELECT Id FROM Account WHERE Name IN ('Lenovo', 'BYD', 'Haier')"
        )
        .await,
        2
    );
    let byd = rep
        .one(&format!(
            "SELECT IsConverted, Status FROM Lead WHERE Id = '{}'",
            leads[1]
        ))
        .await;
    assert_eq!(
        (&byd["IsConverted"], &byd["Status"]),
        (&json!(false), &json!("Open - Not Contacted"))
    );

    // A set that converts together: each lead's task and memberships go to its own contact,
    // each opportunity gets its lead's campaign, the campaign counts both conversions.
    let fair = rep.create("Campaign", json!({"Name": "Autumn Fair"})).await;
    let mut set = Vec::new();
    for company in ["Meituan", "Didi"] {
        let lead = rep
            .create("Lead", json!({"LastName": company, "Company": company}))
            .await;
        let task = rep
            .create(
                "Task",
                json!({"Subject": format!("Call {company}"), "WhoId": lead}),
            )
            .await;
        let member = rep
            .create(
                "CampaignMember",
                json!({"CampaignId": fair, "LeadId": lead}),
            )
            .await;
        set.push((lead, task, member));
    }
    let (status, results) = post(
        &rep,
        "/rapport/leads/convert",
        json!({"leads": set.iter().map(|(lead, _, _)| json!({"leadId": lead, "convertedStatus": "Closed - Converted"})).collect::<Vec<_>>()}),
    )
    .await;
    assert_eq!(status, 200, "{results}");
    for ((lead, task, member), result) in set.iter().zip(results.as_array().unwrap()) {
        assert_eq!(result["success"], json!(true), "{results}");
        let made = rep.one(&format!("SELECT ConvertedContactId, ConvertedOpportunityId, ConvertedAccount.Name FROM Lead WHERE Id = '{lead}'"),
        )
        .await;
        let contact = &made["ConvertedContactId"];
        let moved = rep
            .one(&format!(
                "SELECT WhoId, WhatId FROM Task WHERE Id = '{task}'"
            ))
            .await;
        assert_eq!(
            (&moved["WhoId"], &moved["WhatId"]),
            (contact, &made["ConvertedOpportunityId"])
        );
        let membership = rep
            .one(&format!(
                "SELECT ContactId FROM CampaignMember WHERE Id = '{member}'"
            ))
            .await;
        assert_eq!(&membership["ContactId"], contact);
        let deal = rep
            .one(&format!(
                "SELECT CampaignId, Name FROM Opportunity WHERE Id = '{}'",
                made["ConvertedOpportunityId"].as_str().unwrap()
            ))
            .await;
        assert_eq!(
            (&deal["CampaignId"], &deal["Name"]),
            (&json!(fair), &made["ConvertedAccount"]["Name"])
        );
    }
    let counted = rep
        .one(&format!(
            "SELECT NumberOfConvertedLeads FROM Campaign WHERE Id = '{fair}'"
        ))
        .await;
    assert_eq!(counted["NumberOfConvertedLeads"], json!(2));

    // The same lead twice in one call: it converts once; the second is refused.
    let twice = rep
        .create("Lead", json!({"LastName": "Twice", "Company": "Twice Ltd"}))
        .await;
    let (status, results) = post(
        &rep,
        "/rapport/leads/convert",
        json!({"leads": [
            {"leadId": twice, "convertedStatus": "Closed - Converted"},
            {"leadId": twice, "convertedStatus": "Closed - Converted"},
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(
        (
            &results[0]["success"],
            &results[1]["errors"][0]["statusCode"]
        ),
        (&json!(true), &json!("CANNOT_UPDATE_CONVERTED_LEAD")),
        "{results}"
    );
    assert_eq!(
        count(&rep, "SELECT Id FROM Account WHERE Name = 'Twice Ltd'").await,
        1
    );

    // With opportunities private, another rep sees neither the deal nor what belongs to it:
    // its stage history and its contact roles.
    let other = api(token("other.rep@example.com"));
    let belongings = [
        format!("SELECT Id FROM Opportunity WHERE Id = '{opportunity}'"),
        format!("SELECT Id FROM OpportunityHistory WHERE OpportunityId = '{opportunity}'"),
        format!("SELECT Id FROM OpportunityContactRole WHERE OpportunityId = '{opportunity}'"),
    ];
    for soql in &belongings {
        assert!(count(&other, soql).await > 0, "public read: {soql}");
    }
    rapport_ok(&db, &["sharing", "default", "Opportunity", "private"]);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    for soql in &belongings {
        assert_eq!(count(&other, soql).await, 0, "{soql}");
        assert!(count(&rep, soql).await > 0, "{soql}");
    }
}

async fn custom_lead_fields_follow_their_mappings(db: TestDb) {
    rapport_ok(
        &db,
        &[
            "user",
            "add",
            "--email",
            "admin@map.example",
            "--password",
            "secret123",
            "--name",
            "Ada Admin",
        ],
    );
    for (object, field, field_type, length) in [
        ("Lead", "Region__c", "Text", Some("40")),
        ("Account", "Region__c", "Text", Some("80")),
        ("Lead", "Budget__c", "Currency", None),
        ("Opportunity", "Budget__c", "Currency", None),
        ("Lead", "Notes__c", "LongTextArea", Some("5000")),
        ("Contact", "Short__c", "Text", Some("20")),
        ("Lead", "Vip__c", "Checkbox", None),
        ("Lead", "Tier__c", "Text", Some("10")),
        ("Contact", "Tier__c", "Text", Some("10")),
    ] {
        let mut args = vec!["field", "add", object, field, "--type", field_type];
        if let Some(length) = length {
            args.extend(["--length", length]);
        }
        rapport_ok(&db, &args);
    }
    // Refusals name the rule.
    for (from, to, needle) in [
        ("Lead.Notes__c", "Contact.Short__c", "only 20"),
        (
            "Lead.Vip__c",
            "Account.Region__c",
            "a Checkbox field cannot map to a Text field",
        ),
        ("Lead.Company", "Account.Region__c", "standard field"),
        (
            "Lead.Region__c",
            "Case.Subject",
            "Account, Contact or Opportunity",
        ),
        (
            "Lead.Region__c",
            "Account.Nope__c",
            "No such column 'Nope__c'",
        ),
        ("Lead.Region__c", "Region__c", "not Object.Field"),
    ] {
        let error = rapport_err(&db, &["field", "map", from, to]);
        assert!(error.contains(needle), "{from} → {to}: {error}");
    }
    rapport_ok(
        &db,
        &["field", "map", "Lead.Region__c", "Account.Region__c"],
    );
    rapport_ok(&db, &["field", "map", "Budget__c", "Opportunity.Budget__c"]);
    rapport_ok(&db, &["field", "map", "Lead.Tier__c", "Contact.Tier__c"]);
    let listed = rapport_ok(&db, &["field", "mappings"]);
    assert!(
        listed.contains("Lead.Region__c → Account.Region__c")
            && listed.contains("Lead.Budget__c → Opportunity.Budget__c")
            && listed.contains("Lead.Tier__c → Contact.Tier__c"),
        "{listed}"
    );
    // A field removed takes its mappings along.
    rapport_ok(&db, &["field", "remove", "Contact", "Tier__c"]);
    assert!(!rapport_ok(&db, &["field", "mappings"]).contains("Tier__c"));

    let server = Server::start(&db).await;
    let api = Api {
        client: reqwest::Client::new(),
        base: format!("{}/services/data/v59.0", server.base),
        token: rapport_ok(&db, &["token", "--user", "admin@map.example"])
            .trim()
            .to_string(),
    };
    let lead = api
        .create(
            "Lead",
            json!({"LastName": "Zhou", "Company": "Zhou Motors", "Region__c": "华东", "Budget__c": 125000, "Tier__c": "A"}),
        )
        .await;
    let (status, converted) = post(
        &api,
        &format!("/rapport/leads/{lead}/convert"),
        json!({"convertedStatus": "Closed - Converted"}),
    )
    .await;
    assert_eq!(status, 200, "{converted}");
    let account = api
        .one(&format!(
            "SELECT Region__c FROM Account WHERE Id = '{}'",
            converted["accountId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(account["Region__c"], "华东");
    let deal = api
        .one(&format!(
            "SELECT Budget__c FROM Opportunity WHERE Id = '{}'",
            converted["opportunityId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(deal["Budget__c"].as_f64(), Some(125000.0));

    // Unmapped, the value stays on the lead only.
    rapport_ok(&db, &["field", "unmap", "Lead.Region__c"]);
    assert!(rapport_err(&db, &["field", "unmap", "Lead.Region__c"]).contains("not mapped"));
    let second = api
        .create(
            "Lead",
            json!({"LastName": "Qian", "Company": "Qian Foods", "Region__c": "华南"}),
        )
        .await;
    let (status, converted) = post(
        &api,
        &format!("/rapport/leads/{second}/convert"),
        json!({"convertedStatus": "Closed - Converted"}),
    )
    .await;
    assert_eq!(status, 200, "{converted}");
    let account = api
        .one(&format!(
            "SELECT Region__c FROM Account WHERE Id = '{}'",
            converted["accountId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(account["Region__c"], Json::Null);
}
