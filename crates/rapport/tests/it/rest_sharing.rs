//! Sharing holds on the REST API's many-record paths: sObject Collections (retrieve, update,
//! delete), `/composite` (its GET, PATCH and query subrequests, and all-or-none rollback
//! when one of them is refused) and `/composite/batch`. A rep in one branch of the role tree,
//! with accounts private, can neither see nor change nor delete another branch's account
//! through any of them, and a refused record leaves everything as it was. Both backends.

use serde_json::{Value as Json, json};

use crate::support::{Api, Server, TestDb, cli_user, rapport_ok};

crate::both_backends!(sharing_holds_through_collections_and_composite);

/// The account's name and phone as its owner reads them (null once deleted).
async fn as_owner_sees(owner: &Api, id: &str) -> Json {
    let (status, body) = owner
        .call(
            "GET",
            &format!("/sobjects/Account/{id}?fields=Name,Phone"),
            None,
        )
        .await;
    if status == 404 {
        return Json::Null;
    }
    json!({"Name": body["Name"], "Phone": body["Phone"]})
}

async fn sharing_holds_through_collections_and_composite(db: TestDb) {
    cli_user(&db, "admin@s.example", "Ada Admin", None, None);
    rapport_ok(&db, &["role", "add", "Sales VP"]);
    rapport_ok(&db, &["role", "add", "East Rep", "--parent", "Sales VP"]);
    rapport_ok(&db, &["role", "add", "West Rep", "--parent", "Sales VP"]);
    cli_user(
        &db,
        "east@s.example",
        "east@s.example",
        Some("Standard User"),
        Some("East Rep"),
    );
    cli_user(
        &db,
        "west@s.example",
        "west@s.example",
        Some("Standard User"),
        Some("West Rep"),
    );
    rapport_ok(&db, &["sharing", "default", "Account", "private"]);
    let server = Server::start(&db).await;
    let east = server.api(&db, "east@s.example");
    let west = server.api(&db, "west@s.example");

    let secret = west
        .create(
            "Account",
            json!({"Name": "West Secret", "Phone": "+1 555 0100"}),
        )
        .await;
    let own = east.create("Account", json!({"Name": "East Own"})).await;
    let untouched = json!({"Name": "West Secret", "Phone": "+1 555 0100"});

    // Collections, retrieve: the other branch's record reads as missing (null).
    let (status, found) = east
        .call(
            "GET",
            &format!("/composite/sobjects/Account?ids={secret},{own}&fields=Name,Phone"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found[0], Json::Null, "{found}");
    assert_eq!(found[1]["Name"], "East Own");
    let (status, found) = east
        .call(
            "POST",
            "/composite/sobjects/Account",
            Some(json!({"ids": [secret], "fields": ["Name"]})),
        )
        .await;
    assert_eq!((status, &found[0]), (200, &Json::Null), "{found}");

    // Collections, update: refused for that record only; the own record changes.
    let (status, results) = east
        .call(
            "PATCH",
            "/composite/sobjects",
            Some(json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Account"}, "id": secret, "Name": "Taken"},
                {"attributes": {"type": "Account"}, "id": own, "Phone": "+1 555 0199"},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(results[0]["success"], false, "{results}");
    assert!(
        [
            "INSUFFICIENT_ACCESS_OR_READONLY",
            "ENTITY_IS_DELETED",
            "NOT_FOUND"
        ]
        .contains(&results[0]["errors"][0]["statusCode"].as_str().unwrap_or("")),
        "{results}"
    );
    assert_eq!(results[1]["success"], true, "{results}");
    assert_eq!(as_owner_sees(&west, &secret).await, untouched);

    // All or none: the refused record takes the allowed one back with it.
    let (status, results) = east
        .call(
            "PATCH",
            "/composite/sobjects",
            Some(json!({"allOrNone": true, "records": [
                {"attributes": {"type": "Account"}, "id": own, "Phone": "+1 555 0200"},
                {"attributes": {"type": "Account"}, "id": secret, "Phone": "+1 555 0666"},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(
        (&results[0]["success"], &results[1]["success"]),
        (&json!(false), &json!(false)),
        "{results}"
    );
    assert_eq!(as_owner_sees(&east, &own).await["Phone"], "+1 555 0199");
    assert_eq!(as_owner_sees(&west, &secret).await, untouched);

    // Collections, delete: refused; the record stays.
    let (status, results) = east
        .call(
            "DELETE",
            &format!("/composite/sobjects?ids={secret}&allOrNone=false"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(results[0]["success"], false, "{results}");
    assert_eq!(as_owner_sees(&west, &secret).await, untouched);

    // Composite: a GET of it is 404, a query does not list it, and an all-or-none request
    // with a PATCH of it changes nothing, not even the subrequests before it.
    let base = "/services/data/v59.0";
    let (status, answer) = east
        .call(
            "POST",
            "/composite",
            Some(json!({"allOrNone": true, "compositeRequest": [
                {"method": "PATCH", "url": format!("{base}/sobjects/Account/{own}"), "referenceId": "mine", "body": {"Phone": "+1 555 0300"}},
                {"method": "GET", "url": format!("{base}/sobjects/Account/{secret}"), "referenceId": "peek"},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let responses = &answer["compositeResponse"];
    assert_eq!(responses[1]["httpStatusCode"], 404, "{answer}");
    assert_eq!(as_owner_sees(&east, &own).await["Phone"], "+1 555 0199");

    let (status, answer) = east
        .call(
            "POST",
            "/composite",
            Some(json!({"allOrNone": false, "compositeRequest": [
                {"method": "GET", "url": format!("{base}/query?q=SELECT+Name,+Phone+FROM+Account+ORDER+BY+Name"), "referenceId": "list"},
                {"method": "PATCH", "url": format!("{base}/sobjects/Account/{secret}"), "referenceId": "take", "body": {"Name": "Taken"}},
                {"method": "DELETE", "url": format!("{base}/sobjects/Account/{secret}"), "referenceId": "drop"},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let responses = &answer["compositeResponse"];
    let listed: Vec<&str> = responses[0]["body"]["records"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .filter_map(|r| r["Name"].as_str())
        .collect();
    assert_eq!(listed, ["East Own"], "{answer}");
    for refused in [&responses[1], &responses[2]] {
        let code = refused["httpStatusCode"].as_u64().unwrap_or(0);
        assert!(code == 404 || code == 403 || code == 400, "{answer}");
    }
    assert_eq!(as_owner_sees(&west, &secret).await, untouched);

    // Composite batch: each subrequest alone, the same answers.
    let (status, answer) = east
        .call(
            "POST",
            "/composite/batch",
            Some(json!({"batchRequests": [
                {"method": "GET", "url": format!("v59.0/sobjects/Account/{secret}")},
                {"method": "PATCH", "url": format!("v59.0/sobjects/Account/{secret}"), "richInput": {"Name": "Taken"}},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["hasErrors"], true, "{answer}");
    let statuses: Vec<u64> = answer["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|r| r["statusCode"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(statuses[0], 404, "{answer}");
    assert!(
        statuses[1] == 404 || statuses[1] == 403 || statuses[1] == 400,
        "{answer}"
    );
    assert_eq!(as_owner_sees(&west, &secret).await, untouched);
}
