//! Merging duplicates and transferring ownership over REST: what pointed at the merged
//! records points at the master, they go to the recycle bin naming it; a transfer moves the
//! open activities, contacts and (if asked) open opportunities the previous owner held;
//! refusals name the rule and change nothing. Both backends.

use serde_json::{Value as Json, json};

use crate::support::{Api, Server, TestDb, cli_user, rapport_ok};

crate::both_backends!(
    duplicates_merge_into_a_master,
    ownership_transfers_with_what_follows
);

/// One field of one record, through a query (`queryAll` to see the recycle bin).
async fn field_of(api: &Api, object: &str, id: &str, field: &str) -> Json {
    let (status, body) = api
        .call(
            "GET",
            &format!(
                "/queryAll?q={}",
                urlencode(&format!("SELECT {field} FROM {object} WHERE Id = '{id}'"))
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["records"][0][field].clone()
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn duplicates_merge_into_a_master(db: TestDb) {
    cli_user(&db, "admin@m.example", "Ada Admin", None, None);
    cli_user(&db, "rep@m.example", "Rex Rep", Some("Standard User"), None);
    rapport_ok(&db, &["sharing", "default", "Account", "private"]);
    let server = Server::start(&db).await;
    let api = server.api(&db, "admin@m.example");
    let master = api.create("Account", json!({"Name": "Acme"})).await;
    let second = api
        .create(
            "Account",
            json!({"Name": "ACME Inc.", "Phone": "+1 555 0100"}),
        )
        .await;
    let third = api.create("Account", json!({"Name": "Acme Corp"})).await;
    let on_second = api
        .create("Contact", json!({"LastName": "Lee", "AccountId": second}))
        .await;
    let on_third = api
        .create("Contact", json!({"LastName": "Kim", "AccountId": third}))
        .await;
    let deal = api
        .create(
            "Opportunity",
            json!({"Name": "Acme deal", "AccountId": second, "StageName": "Prospecting", "CloseDate": "2026-12-31"}),
        )
        .await;
    let task = api
        .create("Task", json!({"Subject": "Call", "WhatId": second}))
        .await;
    let branch = api
        .create(
            "Account",
            json!({"Name": "Acme Shanghai", "ParentId": third}),
        )
        .await;

    // Refusals first: each names the rule, and nothing changes.
    for (body, needle) in [
        (
            json!({"masterRecord": {"Id": master}, "recordToMergeIds": [on_second]}),
            "only records of one object",
        ),
        (
            json!({"masterRecord": {"Id": master}, "recordToMergeIds": [master]}),
            "named twice",
        ),
        (
            json!({"masterRecord": {"Id": master}, "recordToMergeIds": [second, third, branch]}),
            "one or two records",
        ),
        (
            json!({"masterRecord": {"Id": deal}, "recordToMergeIds": [deal]}),
            "only accounts, contacts and leads",
        ),
    ] {
        let (status, answer) = api.call("POST", "/rapport/merge", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer[0]["errorCode"], "INVALID_OPERATION", "{body}");
        let message = answer[0]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message}");
    }
    assert_eq!(
        field_of(&api, "Contact", &on_second, "AccountId").await,
        second.as_str()
    );
    assert_eq!(field_of(&api, "Account", &second, "IsDeleted").await, false);

    let (status, merged) = api
        .call(
            "POST",
            "/rapport/merge",
            Some(json!({"masterRecord": {"Id": master, "Phone": "+1 555 0100"}, "recordToMergeIds": [second, third]})),
        )
        .await;
    assert_eq!(status, 200, "{merged}");
    assert_eq!(merged["mergedRecordIds"], json!([second, third]));
    let related: Vec<&str> = merged["updatedRelatedIds"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Json::as_str)
        .collect();
    for id in [&on_second, &on_third, &deal, &task, &branch] {
        assert!(related.contains(&id.as_str()), "{id} in {related:?}");
    }
    assert_eq!(
        field_of(&api, "Account", &master, "Phone").await,
        "+1 555 0100"
    );
    assert_eq!(
        field_of(&api, "Contact", &on_second, "AccountId").await,
        master.as_str()
    );
    assert_eq!(
        field_of(&api, "Contact", &on_third, "AccountId").await,
        master.as_str()
    );
    assert_eq!(
        field_of(&api, "Opportunity", &deal, "AccountId").await,
        master.as_str()
    );
    assert_eq!(
        field_of(&api, "Task", &task, "WhatId").await,
        master.as_str()
    );
    assert_eq!(
        field_of(&api, "Account", &branch, "ParentId").await,
        master.as_str()
    );
    for loser in [&second, &third] {
        assert_eq!(field_of(&api, "Account", loser, "IsDeleted").await, true);
        assert_eq!(
            field_of(&api, "Account", loser, "MasterRecordId").await,
            master.as_str()
        );
    }

    // Leads: the campaign membership follows the master; a converted lead cannot merge.
    let campaign = api.create("Campaign", json!({"Name": "Expo"})).await;
    let lead = api
        .create("Lead", json!({"LastName": "Wu", "Company": "Wu Ltd"}))
        .await;
    let twin = api
        .create(
            "Lead",
            json!({"LastName": "Wu", "Company": "Wu Limited", "Email": "wu@wu.example"}),
        )
        .await;
    api.create(
        "CampaignMember",
        json!({"CampaignId": campaign, "LeadId": lead}),
    )
    .await;
    let member = api
        .create(
            "CampaignMember",
            json!({"CampaignId": campaign, "LeadId": twin}),
        )
        .await;
    let (status, answer) = api
        .call(
            "POST",
            "/rapport/merge",
            Some(json!({"masterRecord": {"Id": lead, "Email": "wu@wu.example"}, "recordToMergeIds": [twin]})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        field_of(&api, "CampaignMember", &member, "LeadId").await,
        lead.as_str()
    );
    // Both were members of the campaign: the master is listed once, and counted once.
    let listed = api
        .query(&format!(
            "SELECT Id FROM CampaignMember WHERE CampaignId = '{campaign}' AND LeadId = '{lead}'"
        ))
        .await;
    assert_eq!(listed["totalSize"], 1, "{listed}");
    assert_eq!(
        field_of(&api, "Campaign", &campaign, "NumberOfLeads").await,
        1
    );
    assert_eq!(
        field_of(&api, "Lead", &lead, "Email").await,
        "wu@wu.example"
    );
    let other = api
        .create("Lead", json!({"LastName": "Wu", "Company": "Wu Trading"}))
        .await;
    let (status, _) = api
        .call(
            "POST",
            &format!("/rapport/leads/{other}/convert"),
            Some(json!({"convertedStatus": "Closed - Converted"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, answer) = api
        .call(
            "POST",
            "/rapport/merge",
            Some(json!({"masterRecord": {"Id": lead}, "recordToMergeIds": [other]})),
        )
        .await;
    assert_eq!(
        (status, answer[0]["errorCode"].as_str()),
        (400, Some("CANNOT_UPDATE_CONVERTED_LEAD"))
    );
    assert_eq!(field_of(&api, "Lead", &other, "IsDeleted").await, false);

    // A rep cannot merge away an account they cannot see: it is not found, and stays.
    let rep = server.api(&db, "rep@m.example");
    let own = rep.create("Account", json!({"Name": "Rex Holdings"})).await;
    let hidden = api
        .create("Account", json!({"Name": "Rex Holdings Ltd"}))
        .await;
    let (status, answer) = rep
        .call(
            "POST",
            "/rapport/merge",
            Some(json!({"masterRecord": {"Id": own}, "recordToMergeIds": [hidden]})),
        )
        .await;
    assert_eq!(
        (status, answer[0]["errorCode"].as_str()),
        (404, Some("NOT_FOUND")),
        "{answer}"
    );
    assert_eq!(field_of(&api, "Account", &hidden, "IsDeleted").await, false);
    assert_eq!(field_of(&api, "Account", &own, "IsDeleted").await, false);
}

async fn ownership_transfers_with_what_follows(db: TestDb) {
    cli_user(&db, "admin@t.example", "Ada Admin", None, None);
    cli_user(&db, "rep@t.example", "Rex Rep", Some("Standard User"), None);
    let server = Server::start(&db).await;
    let admin = server.api(&db, "admin@t.example");
    let rep = server.api(&db, "rep@t.example");
    let rep_id = admin
        .query("SELECT Id FROM User WHERE Username = 'rep@t.example'")
        .await["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin_id = admin
        .query("SELECT Id FROM User WHERE Username = 'admin@t.example'")
        .await["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let account = admin.create("Account", json!({"Name": "Globex"})).await;
    let other = admin.create("Account", json!({"Name": "Initech"})).await;
    let contact = admin
        .create(
            "Contact",
            json!({"LastName": "Simpson", "AccountId": account}),
        )
        .await;
    let open_task = admin
        .create("Task", json!({"Subject": "Follow up", "WhatId": account}))
        .await;
    let done_task = admin
        .create(
            "Task",
            json!({"Subject": "Intro call", "WhatId": account, "Status": "Completed"}),
        )
        .await;
    let open_deal = admin
        .create(
            "Opportunity",
            json!({"Name": "Globex renewal", "AccountId": account, "StageName": "Prospecting", "CloseDate": "2026-12-31"}),
        )
        .await;
    let won_deal = admin
        .create(
            "Opportunity",
            json!({"Name": "Globex first order", "AccountId": account, "StageName": "Closed Won", "CloseDate": "2026-06-30"}),
        )
        .await;

    // A new owner that is not a user: refused, nothing moves.
    let (status, answer) = admin
        .call(
            "POST",
            "/rapport/transfer",
            Some(json!({"ids": [account], "ownerId": contact})),
        )
        .await;
    assert_eq!(
        (status, answer[0]["errorCode"].as_str()),
        (400, Some("FIELD_INTEGRITY_EXCEPTION"))
    );
    assert_eq!(
        field_of(&admin, "Account", &account, "OwnerId").await,
        admin_id.as_str()
    );

    // A rep cannot give away what is not theirs.
    let (status, answer) = rep
        .call(
            "POST",
            "/rapport/transfer",
            Some(json!({"ids": [other], "ownerId": rep_id})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer[0]["success"], false, "{answer}");
    assert_eq!(
        field_of(&admin, "Account", &other, "OwnerId").await,
        admin_id.as_str()
    );

    let (status, answer) = admin
        .call(
            "POST",
            "/rapport/transfer",
            Some(json!({"ids": [account, other, "not-an-id"], "ownerId": rep_id, "transferOpenOpportunities": true})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer[0]["success"], true, "{answer}");
    assert_eq!(answer[1]["success"], true, "{answer}");
    assert_eq!(answer[2]["errors"][0]["statusCode"], "MALFORMED_ID");
    for (object, id, owner) in [
        ("Account", &account, &rep_id),
        ("Account", &other, &rep_id),
        ("Contact", &contact, &rep_id),
        ("Task", &open_task, &rep_id),
        ("Task", &done_task, &admin_id),
        ("Opportunity", &open_deal, &rep_id),
        ("Opportunity", &won_deal, &admin_id),
    ] {
        assert_eq!(
            field_of(&admin, object, id, "OwnerId").await,
            owner.as_str(),
            "{object} {id}"
        );
    }
    // The new owner sees what they were given.
    assert_eq!(
        rep.query(&format!("SELECT Id FROM Task WHERE Id = '{open_task}'"))
            .await["totalSize"],
        1
    );
}
