//! The web UI in a real headless Chromium, as a Standard User works in it: sign in, create a
//! lead through the form, convert it, drag the opportunity across the board to Closed Won,
//! log a call, find the account with global search (the `/` shortcut), see a rename made by
//! the CLI on every page, switch to 简体中文 and find no English word of the UI left, and fail
//! to open another rep's private account by URL. Screenshots of the main pages go to
//! `target/screenshots/`; any JavaScript console error fails the test.

use serde_json::json;

use crate::support::{Server, TestDb, cli_user, rapport_ok};
use crate::webdriver::Browser;

crate::both_backends!(a_rep_works_a_lead_into_a_won_deal_in_the_browser);

/// Saves a screenshot of the page shown and fails on any text in it below WCAG AA contrast.
async fn capture(browser: &Browser, name: &str) {
    browser.screenshot(name).await;
    let failures = browser.contrast_failures().await;
    assert!(failures.is_empty(), "{name}: low contrast {failures:#?}");
}

/// Fails on any console error of the page just shown.
async fn no_console_errors(browser: &Browser, page: &str) {
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "{page}: console errors {errors:?}");
}

async fn a_rep_works_a_lead_into_a_won_deal_in_the_browser(db: TestDb) {
    let backend = if db.url.starts_with("postgres") {
        "pg"
    } else {
        "sqlite"
    };
    cli_user(&db, "admin@ui.example", "Ada Admin", None, None);
    for (email, name) in [
        ("rep@ui.example", "Rita Rep"),
        ("other@ui.example", "Omar Other"),
    ] {
        cli_user(&db, email, name, Some("Standard User"), None);
    }
    rapport_ok(&db, &["sharing", "default", "Account", "private"]);
    let server = Server::start(&db).await;
    let api = |email: &str| server.api(&db, email);
    let other = api("other@ui.example");
    let secret = other
        .create("Account", json!({"Name": "Omar's Secret Account"}))
        .await;
    let rep = api("rep@ui.example");
    let hostile = rep
        .create(
            "Account",
            json!({"Name": "<script>alert(1)</script>", "Industry": "Energy"}),
        )
        .await;

    let browser = Browser::start().await;
    let base = &server.base;
    let shot = |name: &str| format!("{backend}-{name}");

    // Sign in.
    browser.goto(&format!("{base}/")).await;
    browser.wait_for_url("/login").await;
    capture(&browser, &shot("login")).await;
    // The contrast check itself catches faint text (grey #aaa on the page's #f6f7f9 is 2.17:1).
    browser
        .script("const p = document.createElement('p'); p.id = 'faint'; p.style.color = '#aaaaaa'; p.textContent = 'faint text'; document.body.append(p);")
        .await;
    let faint = browser.contrast_failures().await;
    assert!(
        faint.len() == 1 && faint[0].contains("faint text") && faint[0].contains("2.17:1"),
        "{faint:?}"
    );
    browser
        .script("document.getElementById('faint').remove();")
        .await;
    browser.fill("#email", "rep@ui.example").await;
    browser.fill("#password", "choose1well").await;
    browser.click("form[action=\"/login\"] button").await;
    browser.wait_for_text("body", "Welcome, Rita Rep").await;
    capture(&browser, &shot("home")).await;
    no_console_errors(&browser, "home").await;

    // Create a lead through the form; a missing required field is shown beside the field.
    browser.click(".tabs a[href=\"/o/Lead\"]").await;
    browser.wait_for_url("/o/Lead").await;
    browser.click("a[href=\"/o/Lead/new\"]").await;
    browser.fill("#f_FirstName", "Lin").await;
    browser.fill("#f_Company", "Northwind Robotics").await;
    browser.fill("#f_Email", "lin@northwind.example").await;
    browser.fill("#f_AnnualRevenue", "2,500,000").await;
    capture(&browser, &shot("lead-form")).await;
    // Without the browser's own check of required fields, the server's error shows.
    browser
        .script("document.querySelector('#f_LastName').removeAttribute('required')")
        .await;
    browser.click(".record-form button[type=submit]").await;
    let error = browser.text("#e_LastName").await;
    assert_eq!(error, "Enter a value.");
    assert_eq!(
        browser.script("return document.activeElement.id").await,
        json!("f_LastName")
    );
    browser.fill("#f_LastName", "Zhang").await;
    browser.click(".record-form button[type=submit]").await;
    let lead_url = browser.wait_for_url("/r/00Q").await;
    let lead_id = lead_url.rsplit('/').next().unwrap().to_string();
    let heading = browser.text("h1").await;
    assert_eq!(heading, "Lin Zhang");
    assert!(browser.page_text().await.contains("$2,500,000.00"));
    capture(&browser, &shot("lead")).await;
    no_console_errors(&browser, "lead").await;

    // Convert it.
    browser
        .click(&format!("a[href=\"/r/{lead_id}/convert\"]"))
        .await;
    browser.fill("#opportunity_name", "Northwind - Arms").await;
    capture(&browser, &shot("convert")).await;
    browser
        .click("form[action$=\"/convert\"] button[type=submit]")
        .await;
    // The convert page's own address starts with the lead's: wait for what the lead shows.
    browser
        .wait_for_text("body", "This lead was converted into:")
        .await;
    let converted = browser.page_text().await;
    assert!(
        converted.contains("This lead was converted into:"),
        "{converted}"
    );
    assert!(converted.contains("Northwind - Arms"));
    let opportunity = rep
        .query(&format!(
            "SELECT ConvertedOpportunityId, ConvertedAccountId FROM Lead WHERE Id = '{lead_id}'"
        ))
        .await;
    let opportunity_id = opportunity["records"][0]["ConvertedOpportunityId"]
        .as_str()
        .unwrap()
        .to_string();
    let account_id = opportunity["records"][0]["ConvertedAccountId"]
        .as_str()
        .unwrap()
        .to_string();

    // Drag the opportunity across the board to Closed Won.
    let mut extra = Vec::new();
    for name in ["Second deal", "Third deal"] {
        extra.push(
            rep.create(
                "Opportunity",
                json!({"Name": name, "StageName": "Prospecting", "CloseDate": "2027-01-15", "Amount": 1000}),
            )
            .await,
        );
    }
    browser.goto(&format!("{base}/o/Opportunity/board")).await;
    assert_eq!(
        browser
            .count("[data-stage=\"Prospecting\"] [data-card]")
            .await,
        3
    );
    assert!(
        browser
            .text("[data-stage=\"Prospecting\"] header")
            .await
            .contains("$2,000")
    );
    let card = format!("[data-card=\"{opportunity_id}\"]");
    assert_eq!(
        browser
            .count(&format!("[data-stage=\"Prospecting\"] {card}"))
            .await,
        1
    );
    capture(&browser, &shot("board")).await;
    browser
        .drag(
            &format!("{card} p.figure"),
            "[data-stage=\"Closed Won\"] header",
        )
        .await;
    browser
        .find(&format!("[data-stage=\"Closed Won\"] {card}"))
        .await;
    let stage = rep
        .query(&format!(
            "SELECT StageName, IsWon, IsClosed FROM Opportunity WHERE Id = '{opportunity_id}'"
        ))
        .await;
    assert_eq!(stage["records"][0]["StageName"], "Closed Won");
    assert_eq!(stage["records"][0]["IsWon"], true);
    let won_card = browser
        .text(&format!("[data-stage=\"Closed Won\"] {card}"))
        .await;
    assert!(won_card.contains("Northwind Robotics"), "{won_card}");
    capture(&browser, &shot("board-won")).await;
    // Closing a deal as lost asks why, and keeps the answer in its activity history.
    let lost = format!("[data-card=\"{}\"]", extra[0]);
    browser
        .drag(
            &format!("{lost} p.figure"),
            "[data-stage=\"Closed Lost\"] header",
        )
        .await;
    browser.fill("#reason", "Chose a cheaper vendor").await;
    capture(&browser, &shot("lost-reason")).await;
    browser
        .click("form[action$=\"/set\"] button[type=submit]")
        .await;
    browser
        .find(&format!("[data-stage=\"Closed Lost\"] {lost}"))
        .await;
    let why = rep
        .query(&format!(
            "SELECT Description, Status FROM Task WHERE WhatId = '{}'",
            extra[0]
        ))
        .await;
    assert_eq!(why["records"][0]["Description"], "Chose a cheaper vendor");
    assert_eq!(why["records"][0]["Status"], "Completed");
    no_console_errors(&browser, "board").await;

    // The forecast of the quarter the deals close in.
    browser
        .goto(&format!("{base}/forecast?period=2027-Q1"))
        .await;
    let forecast = browser.text("table.list").await;
    assert!(
        forecast.contains("Rita Rep") && forecast.contains("$1,000"),
        "{forecast}"
    );
    browser.click("a[rel=prev]").await;
    browser.wait_for_url("period=2026-Q4").await;
    capture(&browser, &shot("forecast")).await;
    no_console_errors(&browser, "forecast").await;

    // At a phone's width nothing is wider than the screen (tables scroll in their own box).
    browser.resize(390, 844).await;
    for (name, path) in [
        ("phone-home", "/".to_string()),
        ("phone-list", "/o/Opportunity".to_string()),
        ("phone-record", format!("/r/{opportunity_id}")),
        ("phone-board", "/o/Opportunity/board".to_string()),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        let overflow = browser
            .script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            .await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{path} is {overflow} px too wide for a phone"
        );
        capture(&browser, &shot(name)).await;
    }
    browser.resize(1280, 1000).await;

    // Log a call on the account.
    browser.goto(&format!("{base}/r/{account_id}")).await;
    browser
        .fill("#activity-subject", "Discussed the second plant")
        .await;
    browser
        .fill("#activity-description", "Wants a quote by Friday")
        .await;
    browser.click(".activity-form button[type=submit]").await;
    let timeline = browser
        .wait_for_text(".timeline", "Discussed the second plant")
        .await;
    assert!(
        timeline.contains("Discussed the second plant"),
        "{timeline}"
    );
    browser
        .click(&format!("a[href=\"/r/{account_id}/sharing\"]"))
        .await;
    let sharing = browser.text(".sharing").await;
    assert!(
        sharing.contains("Private") && sharing.contains("Rita Rep"),
        "{sharing}"
    );
    capture(&browser, &shot("sharing")).await;
    // Sharing by hand: a name nobody has is refused on the page; a user's login shares it,
    // and that user then reads and edits the account through the API.
    let path = format!("/sobjects/Account/{account_id}");
    assert_eq!(other.call("GET", &path, None).await.0, 404);
    browser.fill("#share-with", "nobody@ui.example").await;
    browser.click(".share-form button[type=submit]").await;
    let refused = browser.wait_for_text(".error", "nobody@ui.example").await;
    assert!(refused.contains("no user with the login"), "{refused}");
    browser.fill("#share-with", "other@ui.example").await;
    browser.select("#share-access", "edit").await;
    browser.click(".share-form button[type=submit]").await;
    let sharing = browser.wait_for_text(".sharing", "Omar Other").await;
    assert!(sharing.contains("Shared by hand"), "{sharing}");
    assert_eq!(other.call("GET", &path, None).await.0, 200);
    let (status, body) = other
        .call(
            "PATCH",
            &path,
            Some(json!({"Description": "Edited by Omar"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    // Taking the share away takes the access away.
    browser.fill("#share-with", "other@ui.example").await;
    browser.select("#share-access", "none").await;
    browser.click(".share-form button[type=submit]").await;
    let started = std::time::Instant::now();
    while browser.text(".sharing").await.contains("Omar Other") {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the share is still listed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(other.call("GET", &path, None).await.0, 404);
    browser.goto(&format!("{base}/r/{account_id}")).await;
    capture(&browser, &shot("account")).await;
    no_console_errors(&browser, "account").await;

    // A lookup offers matches as one types; the one picked is saved.
    browser.goto(&format!("{base}/o/Contact/new")).await;
    browser.fill("#f_LastName", "Chen").await;
    browser.fill("#f_AccountId", "Northw").await;
    browser.click(".lookup-list button").await;
    assert_eq!(
        browser
            .script("return document.querySelector('input[name=id_AccountId]').value")
            .await,
        json!(account_id)
    );
    browser.click(".record-form button[type=submit]").await;
    browser.wait_for_url("/r/003").await;
    assert!(browser.page_text().await.contains("Northwind Robotics"));
    no_console_errors(&browser, "contact").await;

    // Find the account with global search, from the keyboard.
    browser.goto(&format!("{base}/o/Contact")).await;
    browser.keys("/").await;
    assert_eq!(
        browser.script("return document.activeElement.id").await,
        json!("global-search")
    );
    browser.keys("Northwind\u{E007}").await;
    browser.wait_for_url("/search?q=Northwind").await;
    let results = browser.page_text().await;
    assert!(results.contains("Northwind Robotics"), "{results}");
    // The account itself, and as the account of the contact and the deal found too.
    assert_eq!(
        browser.count(&format!("a[href=\"/r/{account_id}\"]")).await,
        3
    );
    capture(&browser, &shot("search")).await;
    no_console_errors(&browser, "search").await;

    // What users typed is shown as text, never run.
    browser.goto(&format!("{base}/r/{hostile}")).await;
    assert_eq!(browser.text("h1").await, "<script>alert(1)</script>");
    no_console_errors(&browser, "hostile record").await;

    // Deleted to the recycle bin, and back.
    browser.click("form[action$=\"/delete\"] button").await;
    browser.wait_for_url("/o/Account").await;
    browser.click("a[href=\"/recycle-bin\"]").await;
    assert!(
        browser
            .page_text()
            .await
            .contains("<script>alert(1)</script>")
    );
    capture(&browser, &shot("recycle-bin")).await;
    browser
        .click(&format!("form[action=\"/r/{hostile}/undelete\"] button"))
        .await;
    browser.wait_for_url(&format!("/r/{hostile}")).await;
    assert_eq!(browser.text("h1").await, "<script>alert(1)</script>");

    // A campaign member's form offers its campaign's own statuses, starting at its default.
    let campaign = rep.create("Campaign", json!({"Name": "Roadshow"})).await;
    rep.create(
        "CampaignMemberStatus",
        json!({"CampaignId": campaign, "Label": "Attended", "HasResponded": true, "IsDefault": true, "SortOrder": 3}),
    )
    .await;
    browser
        .goto(&format!(
            "{base}/o/CampaignMember/new?CampaignId={campaign}"
        ))
        .await;
    assert_eq!(
        browser.count("#f_Status option:not([value=''])").await,
        3,
        "Sent, Responded, Attended"
    );
    assert_eq!(browser.text("#f_Status option[selected]").await, "Attended");
    no_console_errors(&browser, "campaign member form").await;

    // A mass update of one field from the list, typed as on the edit form.
    browser.goto(&format!("{base}/o/Account")).await;
    browser
        .click(&format!("input[name=\"sel_{hostile}\"]"))
        .await;
    browser.select("#mass-action", "field").await;
    browser.select("#mass-field", "Industry").await;
    browser.fill("#mass-value", "Energy").await;
    browser.click(".mass-bar button").await;
    browser.wait_for_url("/o/Account/mass").await;
    let result = browser.page_text().await;
    assert!(result.contains("Records changed: 1"), "{result}");
    let industry = rep
        .query(&format!(
            "SELECT Industry FROM Account WHERE Id = '{hostile}'"
        ))
        .await;
    assert_eq!(industry["records"][0]["Industry"], "Energy");

    // A mass change of owner from the list; the account then belongs to a rep whose private
    // accounts this rep cannot see.
    browser.goto(&format!("{base}/o/Account")).await;
    browser
        .click(&format!("input[name=\"sel_{hostile}\"]"))
        .await;
    browser.select("#mass-action", "owner").await;
    browser.fill("#mass-owner", "Omar Other").await;
    browser.click(".mass-bar button").await;
    browser.wait_for_url("/o/Account/mass").await;
    let result = browser.page_text().await;
    assert!(result.contains("Records changed: 1"), "{result}");
    browser.goto(&format!("{base}/r/{hostile}")).await;
    assert!(browser.page_text().await.contains("Not found"));

    // An event scheduled through the API ends when its duration says.
    let event = rep
        .create(
            "Event",
            json!({"Subject": "Site visit", "WhatId": account_id,
                   "StartDateTime": "2026-12-01T02:00:00.000+0000", "DurationInMinutes": 90}),
        )
        .await;
    let times = rep
        .query(&format!(
            "SELECT EndDateTime, ActivityDate FROM Event WHERE Id = '{event}'"
        ))
        .await;
    assert_eq!(
        times["records"][0]["EndDateTime"],
        "2026-12-01T03:30:00.000+0000"
    );
    assert_eq!(times["records"][0]["ActivityDate"], "2026-12-01");

    // Another rep's private account is not found by URL, and says nothing of itself.
    browser.goto(&format!("{base}/r/{secret}")).await;
    let refused = browser.page_text().await;
    assert!(refused.contains("Not found"), "{refused}");
    assert!(!refused.contains("Omar's Secret Account"));
    browser.goto(&format!("{base}/r/{secret}/edit")).await;
    assert!(browser.page_text().await.contains("Not found"));

    // A list filtered and with chosen columns, saved as a view, and shown again from it.
    rep.create(
        "Account",
        json!({"Name": "Sunrise Power", "Industry": "Energy", "Phone": "+86 21 5555 0100"}),
    )
    .await;
    browser
        .goto(&format!(
            "{base}/o/Account?view=all&f1=Industry&o1=eq&v1=Energy&col=Name&col=Industry&col=Phone"
        ))
        .await;
    let filtered = browser.text("table.list").await;
    assert!(
        filtered.contains("<script>alert(1)</script>") || filtered.contains("Energy"),
        "{filtered}"
    );
    assert!(!filtered.contains("Northwind Robotics"), "{filtered}");
    browser.fill("#view-name", "Energy accounts").await;
    browser.click(".save-view button").await;
    // The page after saving shows the new view as the current one (the URL alone cannot
    // tell: the filtered page had the same parameters).
    assert_eq!(
        browser.text(".views a[aria-current=page]").await,
        "Energy accounts"
    );
    browser.goto(&format!("{base}/o/Account")).await;
    browser
        .click(".views a:not([aria-current])[href*=\"Energy\"]")
        .await;
    browser.wait_for_url("v1=Energy").await;
    assert_eq!(
        browser.text(".views a[aria-current=page]").await,
        "Energy accounts"
    );
    assert_eq!(browser.count("table.list thead th a").await, 3);
    // A filter that cannot be asked says why, beside the form.
    browser
        .goto(&format!("{base}/o/Account?f1=AnnualRevenue&o1=gt&v1=lots"))
        .await;
    assert!(
        browser
            .text("[role=alert]")
            .await
            .contains("Annual Revenue")
    );
    capture(&browser, &shot("list-filtered")).await;

    // Home lists the records viewed last that the rep may still see (not the account given
    // away, nor the one refused).
    browser.goto(&format!("{base}/")).await;
    let recent = browser.text(".recent").await;
    assert!(recent.contains("Northwind Robotics"), "{recent}");
    assert!(!recent.contains("<script>"), "{recent}");
    assert!(!recent.contains("Secret"), "{recent}");

    // A rename by the CLI shows on every page.
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
    // The server sees another process's metadata change within a quarter of a second.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    for path in [
        "/".to_string(),
        "/o/Account".to_string(),
        format!("/r/{account_id}"),
        format!("/r/{opportunity_id}"),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        let text = browser.page_text().await;
        assert!(text.contains("Companies"), "{path}: {text}");
        assert!(!text.contains("Accounts"), "{path}: {text}");
    }

    // 简体中文: every word of the UI in Chinese.
    browser.goto(&format!("{base}/settings")).await;
    browser.select("#language", "zh_CN").await;
    browser.click("form[action=\"/settings\"] button").await;
    browser.wait_for_url("saved=1").await;
    let english = [
        "Home",
        "Search",
        "Sign out",
        "Settings",
        "Leads",
        "Contacts",
        "Opportunities",
        "Edit",
        "Delete",
        "Details",
        "System information",
        "Owner",
        "Created",
        "Stage",
        "Amount",
        "Close Date",
        "Next page",
        "Board",
        "Activity",
        "Log a call",
        "Subject",
        "Save",
        "Convert",
        "New",
        "Mine",
        "All",
        "Export",
    ];
    for (name, path) in [
        ("zh-home", "/".to_string()),
        ("zh-list", "/o/Opportunity?view=all".to_string()),
        ("zh-record", format!("/r/{opportunity_id}")),
        ("zh-board", "/o/Opportunity/board".to_string()),
        ("zh-lead", format!("/r/{lead_id}")),
        ("zh-forecast", "/forecast?period=2027-Q1".to_string()),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        let text = browser.page_text().await;
        for word in english {
            // Whole words only: names of records (data, not UI) may contain anything.
            let found = text
                .split(|c: char| !c.is_ascii_alphabetic() && c != ' ')
                .any(|piece| piece.trim() == word);
            assert!(!found, "{path}: English word {word:?} left in:\n{text}");
        }
        assert!(text.contains("主页"), "{path}: {text}");
        capture(&browser, &shot(name)).await;
        no_console_errors(&browser, name).await;
    }
    browser.quit().await;
}
