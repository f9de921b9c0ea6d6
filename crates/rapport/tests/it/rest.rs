//! The REST resources that exist so far: describe and records, with Salesforce's JSON,
//! status codes and error bodies.

use serde_json::{Value as Json, json};

use crate::support::{Server, TestDb, rapport_ok};

crate::both_backends!(rest_records_and_describe);

async fn rest_records_and_describe(db: TestDb) {
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
    let token = rapport_ok(&db, &["token", "--user", "admin@example.com"])
        .trim()
        .to_string();
    let server = Server::start(&db).await;
    let client = reqwest::Client::new();
    let api = format!("{}/services/data/v59.0", server.base);

    let unauthorized = client.get(format!("{api}/sobjects")).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    let body: Json = unauthorized.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "INVALID_SESSION_ID");
    let wrong = client
        .get(format!("{api}/sobjects"))
        .header("Authorization", "Bearer nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let global: Json = client
        .get(format!("{api}/sobjects"))
        .header("Authorization", format!("OAuth {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let account = global["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Account")
        .unwrap();
    assert_eq!(account["label"], "Company");
    assert_eq!(account["keyPrefix"], "001");
    let describe: Json = client
        .get(format!("{api}/sobjects/account/describe/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(describe["name"], "Account");
    let industry = describe["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Industry")
        .unwrap();
    assert_eq!(industry["type"], "picklist");
    assert!(industry["picklistValues"].as_array().unwrap().len() >= 30);
    let owner = describe["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "OwnerId")
        .unwrap();
    assert_eq!(owner["relationshipName"], "Owner");
    assert!(
        describe["childRelationships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["relationshipName"] == "Contacts")
    );

    let created = client
        .post(format!("{api}/sobjects/Account"))
        .bearer_auth(&token)
        .json(&json!({"Name": "Acme", "AnnualRevenue": 5000}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let created: Json = created.json().await.unwrap();
    assert_eq!(created["success"], true);
    let id = created["id"].as_str().unwrap().to_string();
    assert!(location.ends_with(&id));
    let record: Json = client
        .get(format!(
            "{api}/sobjects/Account/{id}?fields=Name,AnnualRevenue"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(record["attributes"]["type"], "Account");
    assert_eq!(
        record["attributes"]["url"],
        format!("/services/data/v59.0/sobjects/Account/{id}")
    );
    assert_eq!(record["Name"], "Acme");
    assert_eq!(record["AnnualRevenue"], 5000);
    assert_eq!(record["Id"], id);

    let patched = client
        .patch(format!("{api}/sobjects/Account/{id}"))
        .bearer_auth(&token)
        .json(&json!({"Name": "Acme Corp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 204);
    let stale = client
        .patch(format!("{api}/sobjects/Account/{id}"))
        .bearer_auth(&token)
        .header("If-Unmodified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")
        .json(&json!({"Name": "Too late"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    let bad = client
        .post(format!("{api}/sobjects/Account"))
        .bearer_auth(&token)
        .json(&json!({"Name": "x", "Nope__c": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.headers()["content-type"],
        "application/json;charset=UTF-8"
    );
    let body: Json = bad.json().await.unwrap();
    assert_eq!(
        body,
        json!([{"message": "No such column 'Nope__c' on sobject of type Account", "errorCode": "INVALID_FIELD", "fields": ["Nope__c"]}])
    );
    let garbage = client
        .post(format!("{api}/sobjects/Account"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let body: Json = garbage.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "JSON_PARSER_ERROR");

    let deleted = client
        .delete(format!("{api}/sobjects/Account/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let again = client
        .delete(format!("{api}/sobjects/Account/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    let body: Json = again.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "ENTITY_IS_DELETED");
    let gone = client
        .get(format!("{api}/sobjects/Account/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let unknown = client
        .get(format!("{api}/sobjects/Nothing/describe"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let old = client
        .get(format!("{}/services/data/v30.0/sobjects", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 404);
    assert!(server.stop().success());
}
