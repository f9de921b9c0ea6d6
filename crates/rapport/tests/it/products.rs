//! Products, price books and roll-ups over REST: the standard price comes first, a price book
//! lists a product once, entries may follow the standard price; product lines are priced and
//! come from the opportunity's price book; the opportunity's amount, quantity and history
//! follow its lines; what is in use cannot be deleted; a campaign counts its leads,
//! contacts, responses, converted leads and (won) opportunities; each campaign has its own
//! member statuses. Every refusal names the rule and changes nothing. Both backends.

use serde_json::{Value as Json, json};

use crate::support::{Api, Server, TestDb, rapport_ok};

crate::both_backends!(
    products_price_books_and_line_items,
    campaigns_roll_up_members_and_opportunities,
    each_campaign_has_its_own_member_statuses
);

/// The admin's API on a fresh server.
async fn admin_api(db: &TestDb) -> (Server, Api) {
    rapport_ok(
        db,
        &[
            "user",
            "add",
            "--email",
            "admin@p.example",
            "--password",
            "choose1well",
            "--name",
            "Ada Admin",
        ],
    );
    let server = Server::start(db).await;
    let api = Api {
        client: reqwest::Client::new(),
        base: format!("{}/services/data/v59.0", server.base),
        token: rapport_ok(db, &["token", "--user", "admin@p.example"])
            .trim()
            .to_string(),
    };
    (server, api)
}

/// The one record a query finds.
/// A refused write: its status, error code and fields.
async fn refused(api: &Api, method: &str, path: &str, body: Option<Json>) -> (u16, String, Json) {
    let (status, answer) = api.call(method, path, body).await;
    (
        status,
        answer[0]["errorCode"].as_str().unwrap_or("").to_string(),
        answer[0]["fields"].clone(),
    )
}

async fn products_price_books_and_line_items(db: TestDb) {
    let (_server, api) = admin_api(&db).await;
    let standard = api
        .one("SELECT Id, Name, IsActive FROM Pricebook2 WHERE IsStandard = true")
        .await;
    assert_eq!(standard["Name"], "Standard Price Book");
    let standard = standard["Id"].as_str().unwrap().to_string();
    let router = api
        .create(
            "Product2",
            json!({"Name": "Router", "ProductCode": "R-1", "IsActive": true}),
        )
        .await;
    let switch = api
        .create("Product2", json!({"Name": "Switch", "IsActive": true}))
        .await;
    let partners = api
        .create("Pricebook2", json!({"Name": "Partners", "IsActive": true}))
        .await;

    // A custom price needs the standard price first.
    let early =
        json!({"Pricebook2Id": partners, "Product2Id": router, "UnitPrice": 90, "IsActive": true});
    let (status, code, fields) = refused(
        &api,
        "POST",
        "/sobjects/PricebookEntry",
        Some(early.clone()),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "STANDARD_PRICE_NOT_DEFINED"));
    assert_eq!(fields, json!(["Product2Id"]));
    assert_eq!(
        api.query("SELECT Id FROM PricebookEntry").await["totalSize"],
        0
    );

    let router_standard = api
        .create(
            "PricebookEntry",
            json!({"Pricebook2Id": standard, "Product2Id": router, "UnitPrice": 100, "IsActive": true}),
        )
        .await;
    api.create(
        "PricebookEntry",
        json!({"Pricebook2Id": standard, "Product2Id": switch, "UnitPrice": 50, "IsActive": true}),
    )
    .await;
    let entry = api
        .one(&format!(
            "SELECT Name, ProductCode, UnitPrice FROM PricebookEntry WHERE Id = '{router_standard}'"
        ))
        .await;
    assert_eq!(
        (entry["Name"].as_str(), entry["ProductCode"].as_str()),
        (Some("Router"), Some("R-1"))
    );
    let (status, code, _) = refused(
        &api,
        "POST",
        "/sobjects/PricebookEntry",
        Some(json!({"Pricebook2Id": standard, "Product2Id": router, "UnitPrice": 1})),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "DUPLICATE_VALUE"));

    // A partner entry follows the standard price; an inactive one cannot be sold.
    let router_partner = api
        .create(
            "PricebookEntry",
            json!({"Pricebook2Id": partners, "Product2Id": router, "UnitPrice": 1, "UseStandardPrice": true, "IsActive": true}),
        )
        .await;
    let switch_partner = api
        .create(
            "PricebookEntry",
            json!({"Pricebook2Id": partners, "Product2Id": switch, "UnitPrice": 45, "IsActive": false}),
        )
        .await;
    let price_of = |id: &str| format!("SELECT UnitPrice FROM PricebookEntry WHERE Id = '{id}'");
    assert_eq!(
        api.one(&price_of(&router_partner)).await["UnitPrice"],
        100.0
    );

    let deal = api
        .create(
            "Opportunity",
            json!({"Name": "Big deal", "StageName": "Prospecting", "CloseDate": "2026-12-31", "Amount": 999}),
        )
        .await;
    let line = api
        .create(
            "OpportunityLineItem",
            json!({"OpportunityId": deal, "PricebookEntryId": router_partner, "Quantity": 3, "Discount": 10}),
        )
        .await;
    let line_query = format!(
        "SELECT Name, Product2Id, ProductCode, ListPrice, UnitPrice, Subtotal, TotalPrice FROM OpportunityLineItem WHERE Id = '{line}'"
    );
    let priced = api.one(&line_query).await;
    assert_eq!(priced["Name"], "Big deal Router");
    assert_eq!(priced["Product2Id"], router.as_str());
    assert_eq!(priced["ProductCode"], "R-1");
    let prices: Vec<f64> = ["ListPrice", "UnitPrice", "Subtotal", "TotalPrice"]
        .iter()
        .map(|f| priced[f].as_f64().unwrap())
        .collect();
    assert_eq!(prices, [100.0, 100.0, 300.0, 270.0]);
    let deal_query = format!(
        "SELECT Amount, TotalOpportunityQuantity, HasOpportunityLineItem, Pricebook2Id, ExpectedRevenue FROM Opportunity WHERE Id = '{deal}'"
    );
    let rolled = api.one(&deal_query).await;
    assert_eq!(rolled["Amount"], 270.0);
    assert_eq!(rolled["TotalOpportunityQuantity"], 3.0);
    assert_eq!(rolled["HasOpportunityLineItem"], true);
    assert_eq!(rolled["Pricebook2Id"], partners.as_str());
    assert_eq!(rolled["ExpectedRevenue"], 27.0, "10% of 270");
    let amounts = api
        .column(
            &format!("SELECT Amount FROM OpportunityHistory WHERE OpportunityId = '{deal}' ORDER BY CreatedDate, Amount"),
            "Amount",
        )
        .await;
    assert!(
        amounts.contains(&json!(270.0)),
        "history keeps the rolled-up amount: {amounts:?}"
    );

    // Lines from another price book, inactive entries, two prices at once: refused.
    let standard_switch = api.one(&format!("SELECT Id FROM PricebookEntry WHERE Pricebook2Id = '{standard}' AND Product2Id = '{switch}'"),
    )
    .await["Id"]
        .as_str()
        .unwrap()
        .to_string();
    for (body, field) in [
        (
            json!({"OpportunityId": deal, "PricebookEntryId": standard_switch, "Quantity": 1}),
            "PricebookEntryId",
        ),
        (
            json!({"OpportunityId": deal, "PricebookEntryId": switch_partner, "Quantity": 1}),
            "PricebookEntryId",
        ),
        (
            json!({"OpportunityId": deal, "PricebookEntryId": router_partner, "Quantity": 1, "UnitPrice": 5, "TotalPrice": 5}),
            "TotalPrice",
        ),
        (
            json!({"OpportunityId": deal, "PricebookEntryId": router_partner, "Quantity": 0}),
            "Quantity",
        ),
    ] {
        let (status, code, fields) = refused(
            &api,
            "POST",
            "/sobjects/OpportunityLineItem",
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (status, code.as_str()),
            (400, "FIELD_INTEGRITY_EXCEPTION"),
            "{body}"
        );
        assert_eq!(fields, json!([field]), "{body}");
    }
    assert_eq!(
        api.query(&format!(
            "SELECT Id FROM OpportunityLineItem WHERE OpportunityId = '{deal}'"
        ))
        .await["totalSize"],
        1
    );

    // The amount and the price book belong to the lines now.
    for body in [json!({"Amount": 5}), json!({"Pricebook2Id": standard})] {
        let (status, code, _) = refused(
            &api,
            "PATCH",
            &format!("/sobjects/Opportunity/{deal}"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (status, code.as_str()),
            (400, "FIELD_INTEGRITY_EXCEPTION"),
            "{body}"
        );
    }
    assert_eq!(api.one(&deal_query).await["Amount"], 270.0);

    // Changing a line reprices it and moves the amount.
    let (status, _) = api
        .call(
            "PATCH",
            &format!("/sobjects/OpportunityLineItem/{line}"),
            Some(json!({"Quantity": 5})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(api.one(&line_query).await["TotalPrice"], 450.0);
    assert_eq!(api.one(&deal_query).await["Amount"], 450.0);
    let (status, _) = api
        .call(
            "PATCH",
            &format!("/sobjects/OpportunityLineItem/{line}"),
            Some(json!({"TotalPrice": 360})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        api.one(&line_query).await["UnitPrice"],
        80.0,
        "360 / (5 × 90%)"
    );

    // A new standard price moves the entries that follow it.
    let (status, _) = api
        .call(
            "PATCH",
            &format!("/sobjects/PricebookEntry/{router_standard}"),
            Some(json!({"UnitPrice": 120})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        api.one(&price_of(&router_partner)).await["UnitPrice"],
        120.0
    );

    // What is in use stays.
    for id in [&router_partner, &router_standard, &standard] {
        let kind = if *id == standard {
            "Pricebook2"
        } else {
            "PricebookEntry"
        };
        let (status, code, _) =
            refused(&api, "DELETE", &format!("/sobjects/{kind}/{id}"), None).await;
        assert_eq!(
            (status, code.as_str()),
            (400, "DELETE_FAILED"),
            "{kind} {id}"
        );
    }
    assert_eq!(
        api.one(&price_of(&router_partner)).await["UnitPrice"],
        120.0
    );

    // Without lines the opportunity's amount is theirs no more.
    let (status, _) = api
        .call(
            "DELETE",
            &format!("/sobjects/OpportunityLineItem/{line}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let emptied = api.one(&deal_query).await;
    assert_eq!(emptied["Amount"], 0.0);
    assert_eq!(emptied["HasOpportunityLineItem"], false);
    let app = db.app().await;
    app.undelete(&app::Caller::system(), &line).await.unwrap();
    assert_eq!(api.one(&deal_query).await["Amount"], 360.0);

    // A product deleted takes its price book entries along, once no line uses them.
    let (status, _) = api
        .call("DELETE", &format!("/sobjects/Product2/{switch}"), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        api.query(&format!(
            "SELECT Id FROM PricebookEntry WHERE Product2Id = '{switch}'"
        ))
        .await["totalSize"],
        0
    );
}

async fn campaigns_roll_up_members_and_opportunities(db: TestDb) {
    let (_server, api) = admin_api(&db).await;
    let campaign = api
        .create("Campaign", json!({"Name": "Spring expo", "IsActive": true}))
        .await;
    let lead = api
        .create(
            "Lead",
            json!({"LastName": "Li", "FirstName": "Lei", "Company": "Lei Trading", "Status": "Open - Not Contacted"}),
        )
        .await;
    let account = api.create("Account", json!({"Name": "Acme"})).await;
    let contact = api
        .create("Contact", json!({"LastName": "Chen", "AccountId": account}))
        .await;
    api.create(
        "CampaignMember",
        json!({"CampaignId": campaign, "LeadId": lead, "Status": "Responded"}),
    )
    .await;
    let member = api
        .create(
            "CampaignMember",
            json!({"CampaignId": campaign, "ContactId": contact}),
        )
        .await;
    let counts = format!(
        "SELECT NumberOfLeads, NumberOfContacts, NumberOfResponses, NumberOfConvertedLeads, NumberOfOpportunities, NumberOfWonOpportunities, AmountAllOpportunities, AmountWonOpportunities FROM Campaign WHERE Id = '{campaign}'"
    );
    let numbers = |row: &Json| -> Vec<f64> {
        [
            "NumberOfLeads",
            "NumberOfContacts",
            "NumberOfResponses",
            "NumberOfConvertedLeads",
            "NumberOfOpportunities",
            "NumberOfWonOpportunities",
            "AmountAllOpportunities",
            "AmountWonOpportunities",
        ]
        .iter()
        .map(|f| row[f].as_f64().unwrap_or(-1.0))
        .collect()
    };
    assert_eq!(
        numbers(&api.one(&counts).await),
        [1.0, 1.0, 1.0, 0.0, -1.0, -1.0, -1.0, -1.0],
        "members counted; opportunities not yet"
    );

    // A response, an opportunity, a win.
    let (status, _) = api
        .call(
            "PATCH",
            &format!("/sobjects/CampaignMember/{member}"),
            Some(json!({"Status": "Responded"})),
        )
        .await;
    assert_eq!(status, 204);
    let deal = api
        .create(
            "Opportunity",
            json!({"Name": "Acme deal", "AccountId": account, "StageName": "Prospecting", "CloseDate": "2026-12-31", "Amount": 1000, "CampaignId": campaign}),
        )
        .await;
    let (status, _) = api
        .call(
            "PATCH",
            &format!("/sobjects/Opportunity/{deal}"),
            Some(json!({"StageName": "Closed Won"})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        numbers(&api.one(&counts).await),
        [1.0, 1.0, 2.0, 0.0, 1.0, 1.0, 1000.0, 1000.0]
    );

    // Converting the lead: it counts as converted; its member becomes a contact too, and the
    // new opportunity takes the campaign as its source.
    let (status, converted) = api
        .call(
            "POST",
            &format!("/rapport/leads/{lead}/convert"),
            Some(json!({"convertedStatus": "Closed - Converted"})),
        )
        .await;
    assert_eq!(status, 200, "{converted}");
    assert_eq!(
        numbers(&api.one(&counts).await),
        [1.0, 2.0, 2.0, 1.0, 2.0, 1.0, 1000.0, 1000.0]
    );

    // Deleting the won deal takes it out; undeleting brings it back.
    let (status, _) = api
        .call("DELETE", &format!("/sobjects/Opportunity/{deal}"), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(numbers(&api.one(&counts).await)[4..], [1.0, 0.0, 0.0, 0.0]);
    let app = db.app().await;
    app.undelete(&app::Caller::system(), &deal).await.unwrap();
    assert_eq!(
        numbers(&api.one(&counts).await)[4..],
        [2.0, 1.0, 1000.0, 1000.0]
    );

    // A contact's membership goes to the recycle bin with it, and comes back with it.
    app.delete(&app::Caller::system(), &contact).await.unwrap();
    assert_eq!(numbers(&api.one(&counts).await)[1], 1.0);
    assert_eq!(
        api.query(&format!(
            "SELECT Id FROM CampaignMember WHERE Id = '{member}'"
        ))
        .await["totalSize"],
        0
    );
    app.undelete(&app::Caller::system(), &contact)
        .await
        .unwrap();
    assert_eq!(numbers(&api.one(&counts).await)[1], 2.0);
    assert_eq!(
        field_of_member(&api, &member).await,
        json!({"Status": "Responded", "ContactId": contact})
    );
    // Purged for good, both are gone.
    app.delete(&app::Caller::system(), &contact).await.unwrap();
    app.purge(&app::Caller::system(), &contact).await.unwrap();
    assert_eq!(numbers(&api.one(&counts).await)[1], 1.0);
    let (status, _) = api
        .call("GET", &format!("/sobjects/CampaignMember/{member}"), None)
        .await;
    assert_eq!(status, 404);

    // So does a lead's.
    let other_lead = api
        .create("Lead", json!({"LastName": "Wu", "Company": "Wu Ltd"}))
        .await;
    api.create(
        "CampaignMember",
        json!({"CampaignId": campaign, "LeadId": other_lead}),
    )
    .await;
    assert_eq!(numbers(&api.one(&counts).await)[0], 2.0);
    app.delete(&app::Caller::system(), &other_lead)
        .await
        .unwrap();
    assert_eq!(numbers(&api.one(&counts).await)[0], 1.0);
    app.undelete(&app::Caller::system(), &other_lead)
        .await
        .unwrap();
    assert_eq!(numbers(&api.one(&counts).await)[0], 2.0);

    // A converted lead's membership is its contact's: deleting the lead leaves it.
    let members = format!("SELECT Id FROM CampaignMember WHERE CampaignId = '{campaign}'");
    assert_eq!(api.query(&members).await["totalSize"], 2);
    app.delete(&app::Caller::system(), &lead).await.unwrap();
    assert_eq!(api.query(&members).await["totalSize"], 2);
}

/// A membership's status and person.
async fn field_of_member(api: &Api, member: &str) -> Json {
    let row = api
        .one(&format!(
            "SELECT Status, ContactId FROM CampaignMember WHERE Id = '{member}'"
        ))
        .await;
    json!({"Status": row["Status"], "ContactId": row["ContactId"]})
}

async fn each_campaign_has_its_own_member_statuses(db: TestDb) {
    let (_server, api) = admin_api(&db).await;
    let campaign = api
        .create("Campaign", json!({"Name": "Roadshow", "IsActive": true}))
        .await;
    let statuses = api
        .query(&format!(
            "SELECT Id, Label, IsDefault, HasResponded, SortOrder FROM CampaignMemberStatus WHERE CampaignId = '{campaign}' ORDER BY SortOrder"
        ))
        .await;
    let found: Vec<(String, bool, bool)> = statuses["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["Label"].as_str().unwrap().to_string(),
                r["IsDefault"].as_bool().unwrap(),
                r["HasResponded"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("Sent".to_string(), true, false),
            ("Responded".to_string(), false, true)
        ],
        "a new campaign starts with Sent (default) and Responded"
    );
    let sent = statuses["records"][0]["Id"].as_str().unwrap().to_string();
    let attended = api
        .create(
            "CampaignMemberStatus",
            json!({"CampaignId": campaign, "Label": "Attended", "HasResponded": true, "SortOrder": 3}),
        )
        .await;
    let (status, code, _) = refused(
        &api,
        "POST",
        "/sobjects/CampaignMemberStatus",
        Some(json!({"CampaignId": campaign, "Label": "attended"})),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "DUPLICATE_VALUE"));

    let lead = |name: &str| json!({"LastName": name, "Company": format!("{name} Ltd")});
    let (a, b, c) = (
        api.create("Lead", lead("Ann")).await,
        api.create("Lead", lead("Bo")).await,
        api.create("Lead", lead("Cy")).await,
    );
    let first = api
        .create(
            "CampaignMember",
            json!({"CampaignId": campaign, "LeadId": a}),
        )
        .await;
    let second = api
        .create(
            "CampaignMember",
            json!({"CampaignId": campaign, "LeadId": b, "Status": "attended"}),
        )
        .await;
    let (status, code, fields) = refused(
        &api,
        "POST",
        "/sobjects/CampaignMember",
        Some(json!({"CampaignId": campaign, "LeadId": c, "Status": "Registered"})),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "INVALID_STATUS"));
    assert_eq!(fields, json!(["Status"]));
    let member = |id: &str| {
        format!(
            "SELECT Status, HasResponded, FirstRespondedDate FROM CampaignMember WHERE Id = '{id}'"
        )
    };
    let m1 = api.one(&member(&first)).await;
    assert_eq!(
        (m1["Status"].as_str(), m1["HasResponded"].as_bool()),
        (Some("Sent"), Some(false))
    );
    let m2 = api.one(&member(&second)).await;
    assert_eq!(
        (m2["Status"].as_str(), m2["HasResponded"].as_bool()),
        (Some("Attended"), Some(true)),
        "the status is the campaign's, in its own case"
    );
    assert!(m2["FirstRespondedDate"].is_string());
    let responses = format!("SELECT NumberOfResponses FROM Campaign WHERE Id = '{campaign}'");
    assert_eq!(api.one(&responses).await["NumberOfResponses"], 1);

    // A status that stops counting as a response moves its members and the count.
    let (status, _) = api
        .call(
            "PATCH",
            &format!("/sobjects/CampaignMemberStatus/{attended}"),
            Some(json!({"HasResponded": false})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(api.one(&member(&second)).await["HasResponded"], false);
    assert_eq!(api.one(&responses).await["NumberOfResponses"], 0);

    // One default: making Attended the default takes it from Sent; Sent, in use, stays.
    let (status, _) = api
        .call(
            "PATCH",
            &format!("/sobjects/CampaignMemberStatus/{attended}"),
            Some(json!({"IsDefault": true})),
        )
        .await;
    assert_eq!(status, 204);
    let defaults = api
        .column(
            &format!("SELECT Label FROM CampaignMemberStatus WHERE CampaignId = '{campaign}' AND IsDefault = true"),
            "Label",
        )
        .await;
    assert_eq!(defaults, [json!("Attended")]);
    for (path, body) in [
        (format!("/sobjects/CampaignMemberStatus/{sent}"), None),
        (format!("/sobjects/CampaignMemberStatus/{attended}"), None),
    ] {
        let (status, code, _) = refused(&api, "DELETE", &path, body).await;
        assert_eq!((status, code.as_str()), (400, "DELETE_FAILED"), "{path}");
    }
    let (status, code, _) = refused(
        &api,
        "PATCH",
        &format!("/sobjects/CampaignMemberStatus/{sent}"),
        Some(json!({"Label": "Mailed"})),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "FIELD_INTEGRITY_EXCEPTION"));
    let third = api
        .create(
            "CampaignMember",
            json!({"CampaignId": campaign, "LeadId": c}),
        )
        .await;
    assert_eq!(
        api.one(&member(&third)).await["Status"],
        "Attended",
        "the new default"
    );

    // The campaign goes with its statuses.
    let (status, _) = api
        .call("DELETE", &format!("/sobjects/Campaign/{campaign}"), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        api.query(&format!(
            "SELECT Id FROM CampaignMemberStatus WHERE CampaignId = '{campaign}'"
        ))
        .await["totalSize"],
        0
    );
}
