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

crate::both_backends!(
    bad_requests_get_precise_answers,
    random_bodies_never_cause_a_server_error
);

async fn admin_token_and_server(db: &TestDb, extra: &[&str]) -> (String, Server) {
    rapport_ok(
        db,
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
        db,
        &[
            "field",
            "add",
            "Account",
            "Ext__c",
            "--type",
            "Text",
            "--external-id",
            "true",
        ],
    );
    let token = rapport_ok(db, &["token", "--user", "admin@example.com"])
        .trim()
        .to_string();
    let server = if extra.is_empty() {
        Server::start(db).await
    } else {
        Server::start_with(db, extra).await
    };
    (token, server)
}

async fn bad_requests_get_precise_answers(db: TestDb) {
    let (token, server) =
        admin_token_and_server(&db, &["--max-body-mb", "1", "--rate-limit", "1000"]).await;
    let client = reqwest::Client::new();
    let api = format!("{}/services/data/v59.0", server.base);
    let post = |path: &str| client.post(format!("{api}{path}")).bearer_auth(&token);
    let expect = async |response: reqwest::Response, status: u16, code: &str| {
        assert_eq!(response.status(), status, "{code}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json;charset=UTF-8"
        );
        let body: Json = response.json().await.unwrap();
        assert_eq!(body[0]["errorCode"], code, "{body}");
    };
    expect(
        post("/sobjects/Account")
            .header("content-type", "text/plain")
            .body(r#"{"Name":"x"}"#)
            .send()
            .await
            .unwrap(),
        400,
        "JSON_PARSER_ERROR",
    )
    .await;
    expect(
        post("/sobjects/Account")
            .json(&json!(["not", "an", "object"]))
            .send()
            .await
            .unwrap(),
        400,
        "JSON_PARSER_ERROR",
    )
    .await;
    // An oversized body is refused from its Content-Length, before it is sent (a raw request:
    // an HTTP client writing the whole body would meet the closed connection).
    let answer = raw_request(
        &server.base,
        &format!(
            "POST /services/data/v59.0/sobjects/Account HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{",
            2 * 1024 * 1024
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("REQUEST_ENTITY_TOO_LARGE"), "{answer}");
    expect(
        post("/sobjects/Nothing")
            .json(&json!({"Name": "x"}))
            .send()
            .await
            .unwrap(),
        404,
        "NOT_FOUND",
    )
    .await;
    expect(
        post("/sobjects/Account")
            .json(&json!({"Name": "x", "LastModifiedDate": "2020-01-01T00:00:00Z"}))
            .send()
            .await
            .unwrap(),
        400,
        "INVALID_FIELD_FOR_INSERT_UPDATE",
    )
    .await;
    let created: Json = post("/sobjects/Account")
        .json(&json!({"Name": "Real", "Ext__c": "D-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    // A 15-character id works as the 18-character one does.
    let short = client
        .get(format!("{api}/sobjects/Account/{}", &id[..15]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), 200);
    let body: Json = short.json().await.unwrap();
    assert_eq!(body["Id"], id);
    // The same external id on two records: an upsert cannot tell which to update.
    post("/sobjects/Account")
        .json(&json!({"Name": "Twin", "Ext__c": "D-1"}))
        .send()
        .await
        .unwrap();
    let ambiguous = client
        .patch(format!("{api}/sobjects/Account/Ext__c/D-1"))
        .bearer_auth(&token)
        .json(&json!({"Name": "?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ambiguous.status(), 300);
    let urls: Json = ambiguous.json().await.unwrap();
    assert_eq!(urls.as_array().unwrap().len(), 2);
    let not_external = client
        .patch(format!("{api}/sobjects/Account/Name/Real"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(not_external.status(), 404);
    // Collections: more than 200 records, and all-or-none.
    let records: Vec<Json> = (0..201)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("N{i}")}))
        .collect();
    expect(
        post("/composite/sobjects")
            .json(&json!({"records": records}))
            .send()
            .await
            .unwrap(),
        400,
        "JSON_PARSER_ERROR",
    )
    .await;
    let mixed = json!({"allOrNone": true, "records": [
        {"attributes": {"type": "Account"}, "Name": "Kept?"},
        {"attributes": {"type": "Contact"}, "LastName": "Kept?"},
        {"attributes": {"type": "Contact"}, "Email": "bad"},
    ]});
    let results: Json = post("/composite/sobjects")
        .json(&mixed)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        results[0]["errors"][0]["statusCode"], "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "{results}"
    );
    assert_eq!(
        results[1]["errors"][0]["statusCode"], "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "{results}"
    );
    let app = db.app().await;
    let admin = app.cli_caller(None).await.unwrap();
    let kept = app
        .find(
            &admin,
            "Account",
            &["Id"],
            Some(app::Filter::eq("Name", model::Value::Text("Kept?".into()))),
            vec![],
            None,
        )
        .await
        .unwrap();
    assert!(
        kept.is_empty(),
        "all-or-none across objects rolled the account back too"
    );
    // Replication windows.
    let window = client
        // As simple-salesforce sends them: offsets escaped.
        .get(format!("{api}/sobjects/Account/updated?start=2000-01-01T00%3A00%3A00%2B00%3A00&end=2100-01-01T00%3A00%3A00%2B00%3A00"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let updated: Json = window.json().await.unwrap();
    assert!(
        updated["ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == &json!(id))
    );
    client
        .delete(format!("{api}/sobjects/Account/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let deleted: Json = client
        .get(format!(
            "{api}/sobjects/Account/deleted?start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(deleted["deletedRecords"][0]["id"], id);
    let backwards = client
        .get(format!(
            "{api}/sobjects/Account/updated?start=2100-01-01T00:00:00Z&end=2000-01-01T00:00:00Z"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    expect(backwards, 400, "INVALID_REPLICATION_DATE").await;
    // The OpenAPI document lists what the router serves.
    let openapi: Json = client
        .get(format!("{}/services/data/openapi.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(openapi["paths"]["/services/data/{version}/composite"]["post"].is_object());
    let docs = client
        .get(format!("{}/services/data/docs", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(docs.contains("curl -X POST") && docs.contains("/composite/sobjects"));
    app.close().await;
    assert!(server.stop().success());

    // The rate limit: a burst beyond the token's allowance gets 429 REQUEST_LIMIT_EXCEEDED.
    let limited = Server::start_with(&db, &["--rate-limit", "5"]).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let response = client
            .get(format!("{}/services/data/v59.0/limits", limited.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            let body: Json = response.json().await.unwrap();
            assert_eq!(body[0]["errorCode"], "REQUEST_LIMIT_EXCEEDED");
        }
    }
    assert!(
        statuses.contains(&200) && statuses.contains(&429),
        "{statuses:?}"
    );
    assert!(limited.stop().success());
}

/// Random JSON bodies (random shapes, known and unknown field names, values of every JSON
/// type) to create, update and upsert: the server answers each with a 2xx or a 4xx, never a
/// 5xx, and keeps running.
async fn random_bodies_never_cause_a_server_error(db: TestDb) {
    let (token, server) = admin_token_and_server(&db, &[]).await;
    let client = reqwest::Client::new();
    let api = format!("{}/services/data/v59.0", server.base);
    let created: Json = client
        .post(format!("{api}/sobjects/Opportunity"))
        .bearer_auth(&token)
        .json(&json!({"Name": "Target", "StageName": "Prospecting", "CloseDate": "2030-01-01"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let target = created["id"].as_str().unwrap().to_string();
    let fields = [
        "Name",
        "StageName",
        "CloseDate",
        "Amount",
        "Probability",
        "AccountId",
        "IsPrivate",
        "Description",
        "Type",
        "NextStep",
        "Id",
        "attributes",
        "Nope__c",
        "名称",
        "",
    ];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    fn value(next: &mut impl FnMut() -> u64, depth: u32) -> Json {
        match next() % if depth > 2 { 6 } else { 8 } {
            0 => Json::Null,
            1 => json!(next().is_multiple_of(2)),
            2 => json!((next() % 2_000_001) as i64 - 1_000_000),
            3 => json!(
                f64::from_bits(next() & 0x7FEF_FFFF_FFFF_FFFF)
                    * if next().is_multiple_of(2) { 1.0 } else { -1.0 }
            ),
            4 => json!(
                [
                    "2030-02-30",
                    "1e400",
                    "001R00000000001AAA",
                    "",
                    "\u{0}",
                    "Prospecting",
                    "-0",
                    "9999-12-31T23:59:59-05:00",
                    "🙂华为"
                ][(next() % 9) as usize]
            ),
            5 => json!("x".repeat((next() % 300) as usize)),
            6 => Json::Array((0..next() % 3).map(|_| value(next, depth + 1)).collect()),
            _ => Json::Object(
                (0..next() % 3)
                    .map(|i| (format!("k{i}"), value(next, depth + 1)))
                    .collect(),
            ),
        }
    }
    for round in 0..300 {
        let mut body = serde_json::Map::new();
        for _ in 0..(next() % 5) {
            body.insert(
                fields[(next() % fields.len() as u64) as usize].to_string(),
                value(&mut next, 0),
            );
        }
        let body = if round % 17 == 0 {
            value(&mut next, 0)
        } else {
            Json::Object(body)
        };
        let request = match round % 3 {
            0 => client.post(format!("{api}/sobjects/Opportunity")),
            1 => client.patch(format!("{api}/sobjects/Opportunity/{target}")),
            _ => client.patch(format!("{api}/sobjects/Account/Ext__c/R-{}", round % 5)),
        };
        let response = request
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(
            status < 500,
            "{status} for {body}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    let health = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(server.stop().success());
}

/// Sends raw bytes to the server and returns everything it answers.
fn raw_request(base: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let address = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

crate::both_backends!(oauth_grants_and_more_resources);

async fn oauth_grants_and_more_resources(db: TestDb) {
    let (token, server) = admin_token_and_server(&db, &[]).await;
    let app_text = rapport_ok(&db, &["app", "add", "--name", "Integration"]);
    let field = |name: &str| {
        app_text
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .trim()
            .to_string()
    };
    let (client_id, secret) = (field("client_id:"), field("client_secret:"));
    let client = reqwest::Client::new();
    let token_url = format!("{}/services/oauth2/token", server.base);
    let form = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace('@', "%40").replace('+', "%2B")))
            .collect::<Vec<_>>()
            .join("&")
    };
    let grant = async |body: String| {
        let response = client
            .post(&token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Json>().await.unwrap())
    };
    let (status, password) = grant(form(&[
        ("grant_type", "password"),
        ("client_id", &client_id),
        ("client_secret", &secret),
        ("username", "admin@example.com"),
        ("password", "secret123"),
    ]))
    .await;
    assert_eq!(status, 200, "{password}");
    assert_eq!(password["token_type"], "Bearer");
    assert_eq!(password["instance_url"], server.base);
    assert!(password["id"].as_str().unwrap().contains("/id/00D"));
    assert!(
        password["issued_at"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert!(!password["signature"].as_str().unwrap().is_empty());
    let access = password["access_token"].as_str().unwrap().to_string();
    let refresh = password["refresh_token"].as_str().unwrap().to_string();
    let api = format!("{}/services/data/v59.0", server.base);
    assert_eq!(
        client
            .get(format!("{api}/limits"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let (status, refreshed) = grant(form(&[
        ("grant_type", "refresh_token"),
        ("client_id", &client_id),
        ("client_secret", &secret),
        ("refresh_token", &refresh),
    ]))
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let refreshed_token = refreshed["access_token"].as_str().unwrap().to_string();
    assert_ne!(refreshed_token, access);
    let basic = client
        .post(&token_url)
        .basic_auth(&client_id, Some(&secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
    let (status, error) = grant(form(&[
        ("grant_type", "password"),
        ("client_id", &client_id),
        ("client_secret", "wrong"),
        ("username", "admin@example.com"),
        ("password", "secret123"),
    ]))
    .await;
    assert_eq!(
        (status, error["error"].as_str().unwrap()),
        (400, "invalid_client")
    );
    let (status, error) = grant(form(&[
        ("grant_type", "password"),
        ("client_id", &client_id),
        ("client_secret", &secret),
        ("username", "admin@example.com"),
        ("password", "wrong"),
    ]))
    .await;
    assert_eq!(
        (status, error["error"].as_str().unwrap()),
        (400, "invalid_grant")
    );
    let (status, error) = grant(form(&[
        ("grant_type", "authorization_code"),
        ("client_id", &client_id),
    ]))
    .await;
    assert_eq!(
        (status, error["error"].as_str().unwrap()),
        (400, "unsupported_grant_type")
    );

    let userinfo: Json = client
        .get(format!("{}/services/oauth2/userinfo", server.base))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["preferred_username"], "admin@example.com");
    let identity = client
        .get(password["id"].as_str().unwrap())
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(identity.status(), 200);
    // Revoked: refused within a quarter second, here at once.
    let revoked = client
        .post(format!("{}/services/oauth2/revoke", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let after = client
        .get(format!("{api}/limits"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    assert_eq!(
        client
            .get(format!("{api}/limits"))
            .bearer_auth(&refreshed_token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Child records and /composite/batch.
    let account: Json = client
        .post(format!("{api}/sobjects/Account"))
        .bearer_auth(&token)
        .json(&json!({"Name": "Parent"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let account_id = account["id"].as_str().unwrap().to_string();
    for name in ["Li", "Wang"] {
        client
            .post(format!("{api}/sobjects/Contact"))
            .bearer_auth(&token)
            .json(&json!({"LastName": name, "AccountId": account_id}))
            .send()
            .await
            .unwrap();
    }
    let children: Json = client
        .get(format!(
            "{api}/sobjects/Account/{account_id}/Contacts?fields=LastName"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(children["totalSize"], 2, "{children}");
    assert_eq!(children["done"], true);
    let unknown = client
        .get(format!("{api}/sobjects/Account/{account_id}/Nothing"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let batch: Json = client
        .post(format!("{api}/composite/batch"))
        .bearer_auth(&token)
        .json(&json!({"haltOnError": true, "batchRequests": [
            {"method": "PATCH", "url": format!("v59.0/sobjects/Account/{account_id}"), "richInput": {"Phone": "123"}},
            {"method": "GET", "url": format!("v59.0/sobjects/Account/{account_id}?fields=Phone")},
            {"method": "POST", "url": "v59.0/sobjects/Account", "richInput": {"Nope__c": 1}},
            {"method": "GET", "url": "v59.0/limits"},
        ]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let statuses: Vec<u64> = batch["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![204, 200, 400, 412], "{batch}");
    assert_eq!(batch["hasErrors"], true);
    assert_eq!(batch["results"][1]["result"]["Phone"], "123");
    assert!(server.stop().success());
}
