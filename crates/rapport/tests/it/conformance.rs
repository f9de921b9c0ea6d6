//! The SOQL and SOSL conformance suite: over 300 queries over one seeded dataset, each
//! with the exact result it must give (rows in order, or the count, or the error code), on
//! both backends. Every mismatch is collected and reported together.
//!
//! Results are written compactly: a row's selected values joined by `|`, rows by `; `, a
//! parent record as `(…)`, a child subquery's records as `[…, …]` (or `null` when there are
//! none); `#N` is a COUNT() query's total; `!CODE` an error with that code.

use app::query::{Cell, QueryOptions, Row};
use app::{App, Caller};
use serde_json::{Value as Json, json};

use crate::support::{TestDb, input};

crate::both_backends!(soql_conformance);

fn render_value(value: &Json) -> String {
    match value {
        Json::Null => "null".into(),
        Json::String(s) => s.clone(),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            (None, Some(f)) => format!("{f}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn render_row(row: &Row) -> String {
    row.cells
        .iter()
        .map(|(_, cell)| match cell {
            Cell::Value(v) => render_value(&v.to_json()),
            Cell::Parent(None) | Cell::Children(None) => "null".into(),
            Cell::Parent(Some(parent)) => format!("({})", render_row(parent)),
            Cell::Children(Some(rows)) => format!(
                "[{}]",
                rows.iter().map(render_row).collect::<Vec<_>>().join(", ")
            ),
        })
        .collect::<Vec<_>>()
        .join("|")
}

async fn run(app: &App, caller: &Caller, soql: &str, expected: &str) -> Result<String, String> {
    if let Some(search) = soql.strip_prefix("SOSL ") {
        return match app.search(caller, search).await {
            Ok(rows) => Ok(rows
                .iter()
                .map(|r| format!("{}:{}", r.object, render_row(r)))
                .collect::<Vec<_>>()
                .join("; ")),
            Err(app::AppError::Rejected(errors)) => Ok(format!("!{}", errors[0].code.as_str())),
            Err(other) => Err(other.to_string()),
        };
    }
    let options = QueryOptions {
        page_size: 2000,
        ..Default::default()
    };
    match app.query(caller, soql, options).await {
        Ok(page) if expected.starts_with('#') => Ok(format!("#{}", page.total_size)),
        Ok(page) => Ok(page
            .rows
            .iter()
            .map(render_row)
            .collect::<Vec<_>>()
            .join("; ")),
        Err(app::AppError::Rejected(errors)) => Ok(format!("!{}", errors[0].code.as_str())),
        Err(other) => Err(other.to_string()),
    }
}

/// (query, expected result).
const CASES: &[(&str, &str)] = &[
    // ----- field lists and ORDER BY -----
    (
        "SELECT Name FROM Account ORDER BY Name",
        "Acme; Globex; Hooli; Initech; stark industries; Umbrella; Wayne; Zeta; 华为技术有限公司; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account ORDER BY Name DESC LIMIT 3",
        "腾飞科技; 华为技术有限公司; Zeta",
    ),
    (
        "select name, industry from account where rating = 'hot' order by name",
        "Acme|Technology; stark industries|Manufacturing; 华为技术有限公司|Technology",
    ),
    (
        "SELECT Name, Rating FROM Account ORDER BY Rating, Name",
        "Umbrella|null; Zeta|null; Initech|Cold; Wayne|Cold; 腾飞科技|Cold; Acme|Hot; stark industries|Hot; 华为技术有限公司|Hot; Globex|Warm; Hooli|Warm",
    ),
    (
        "SELECT Name, Rating FROM Account ORDER BY Rating NULLS LAST, Name LIMIT 4",
        "Initech|Cold; Wayne|Cold; 腾飞科技|Cold; Acme|Hot",
    ),
    (
        "SELECT Name, Rating FROM Account ORDER BY Rating DESC, Name LIMIT 4",
        "Umbrella|null; Zeta|null; Globex|Warm; Hooli|Warm",
    ),
    (
        "SELECT Name FROM Account ORDER BY Rating DESC NULLS FIRST, Name LIMIT 3",
        "Umbrella; Zeta; Globex",
    ),
    (
        "SELECT Name, AnnualRevenue FROM Account WHERE AnnualRevenue != null ORDER BY AnnualRevenue DESC LIMIT 3",
        "华为技术有限公司|900000000; stark industries|300000000; Wayne|75000000",
    ),
    (
        "SELECT Name FROM Account ORDER BY NumberOfEmployees LIMIT 3",
        "Zeta; 腾飞科技; Initech",
    ),
    (
        "SELECT Name, NumberOfEmployees FROM Account ORDER BY NumberOfEmployees DESC NULLS LAST LIMIT 2",
        "华为技术有限公司|190000; Hooli|9000",
    ),
    (
        "SELECT LastName, FirstName FROM Contact ORDER BY LastName, FirstName",
        "Doe|Jane; Kim|Dana; Lee|Ann; Lee|Eve; Park|Finn; Smith|Bob; Zhou|Carl; 王|伟",
    ),
    (
        "SELECT Name FROM Contact ORDER BY LastName DESC, FirstName DESC LIMIT 4",
        "王伟; Carl Zhou; Bob Smith; Finn Park",
    ),
    (
        "SELECT Name, Title FROM Contact WHERE Title != null ORDER BY Title, Name",
        "Carl Zhou|Buyer; Eve Lee|Buyer; Ann Lee|CEO; Bob Smith|CTO; Dana Kim|VP Sales; 王伟|经理",
    ),
    (
        "SELECT Name, CloseDate FROM Opportunity ORDER BY CloseDate LIMIT 3",
        "Stark - Armor|2023-06-30; Globex - Expansion|2023-12-31; Hooli - Search|2024-01-10",
    ),
    (
        "SELECT Name FROM Opportunity ORDER BY CloseDate DESC LIMIT 2",
        "Initech - TPS; Stark - Arc",
    ),
    (
        "SELECT Name, Amount FROM Opportunity ORDER BY Amount DESC NULLS LAST LIMIT 3",
        "华为 - 云服务|2500000; Stark - Armor|1000000; Stark - Arc|450000",
    ),
    (
        "SELECT Name, Amount FROM Opportunity ORDER BY Amount LIMIT 2",
        "Initech - TPS|null; No Account Deal|500",
    ),
    (
        "SELECT Company FROM Lead ORDER BY Company",
        "Black Inc; Brown Co; Green Ltd; White LLC; 东方公司",
    ),
    (
        "SELECT Subject FROM Case ORDER BY Subject",
        "Billing question; Feature request; Login broken; Outage",
    ),
    (
        "SELECT Subject, ActivityDate FROM Task ORDER BY ActivityDate, Subject",
        "Follow up lead|null; Call Ann|2024-03-01; Send proposal|2024-11-25; Review case|2024-12-02",
    ),
    // ----- text comparisons -----
    ("SELECT Name FROM Account WHERE Name = 'acme'", "Acme"),
    ("SELECT Name FROM Account WHERE Name = 'ACME'", "Acme"),
    (
        "SELECT Name FROM Account WHERE Name = 'Stark Industries'",
        "stark industries",
    ),
    (
        "SELECT Name FROM Account WHERE Name = '华为技术有限公司'",
        "华为技术有限公司",
    ),
    ("SELECT Name FROM Account WHERE Name = 'Acme '", ""),
    (
        "SELECT Name FROM Account WHERE Name != 'Acme' AND Industry = 'Technology' ORDER BY Name",
        "Hooli; 华为技术有限公司; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE Industry != 'Technology' ORDER BY Name",
        "Globex; Initech; stark industries; Umbrella; Wayne; Zeta",
    ),
    (
        "SELECT Name FROM Account WHERE Industry <> 'Technology' AND Industry != null ORDER BY Name",
        "Globex; Initech; stark industries; Umbrella; Wayne",
    ),
    ("SELECT Name FROM Account WHERE Name LIKE 'A%'", "Acme"),
    ("SELECT Name FROM Account WHERE Name LIKE 'a%'", "Acme"),
    (
        "SELECT Name FROM Account WHERE Name LIKE '%o%' ORDER BY Name",
        "Globex; Hooli",
    ),
    ("SELECT Name FROM Account WHERE Name LIKE '_ooli'", "Hooli"),
    (
        "SELECT Name FROM Account WHERE Name LIKE '华为%'",
        "华为技术有限公司",
    ),
    (
        "SELECT Name FROM Account WHERE Name LIKE '%科技'",
        "腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE NOT Name LIKE '%e%' ORDER BY Name",
        "Hooli; 华为技术有限公司; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE Name LIKE '%industries' AND Name LIKE 'stark%'",
        "stark industries",
    ),
    (
        "SELECT Name FROM Account WHERE Industry IN ('Energy', 'Retail') ORDER BY Name",
        "Globex; Initech",
    ),
    (
        "SELECT Name FROM Account WHERE Industry IN ('energy', 'RETAIL', 'Nothing') ORDER BY Name",
        "Globex; Initech",
    ),
    (
        "SELECT Name FROM Account WHERE Industry NOT IN ('Technology', 'Energy') ORDER BY Name",
        "Initech; stark industries; Umbrella; Wayne; Zeta",
    ),
    (
        "SELECT Name FROM Account WHERE BillingCountry IN ('China') ORDER BY Name",
        "Acme; 华为技术有限公司; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE BillingCity = '深圳'",
        "华为技术有限公司",
    ),
    (
        "SELECT Name FROM Contact WHERE Email LIKE '%@acme.example.com' ORDER BY Name",
        "Ann Lee; Bob Smith",
    ),
    (
        "SELECT Name FROM Contact WHERE Email = 'ANN@ACME.EXAMPLE.COM'",
        "Ann Lee",
    ),
    (
        "SELECT Name FROM Contact WHERE Title = null ORDER BY Name",
        "Finn Park; Jane Doe",
    ),
    (
        "SELECT Name FROM Contact WHERE LeadSource = 'Web' ORDER BY Name",
        "Ann Lee; Carl Zhou; Dana Kim",
    ),
    (
        "SELECT Name FROM Contact WHERE LeadSource != 'Web' ORDER BY Name",
        "Bob Smith; Eve Lee; Finn Park; Jane Doe; 王伟",
    ),
    ("SELECT Name FROM Contact WHERE LastName = '王'", "王伟"),
    (
        "SELECT Name FROM Contact WHERE Name LIKE '%Lee' ORDER BY Name",
        "Ann Lee; Eve Lee",
    ),
    (
        "SELECT Company FROM Lead WHERE Status = 'Open - Not Contacted' ORDER BY Company",
        "Brown Co; 东方公司",
    ),
    (
        "SELECT Company FROM Lead WHERE Status LIKE 'Working%' ORDER BY Company",
        "Black Inc; Green Ltd",
    ),
    (
        "SELECT Company FROM Lead WHERE Email = null ORDER BY Company",
        "White LLC; 东方公司",
    ),
    (
        "SELECT Company FROM Lead WHERE Industry = null",
        "White LLC",
    ),
    (
        "SELECT Subject FROM Case WHERE Status IN ('New', 'Working', 'Escalated') ORDER BY Subject",
        "Feature request; Login broken; Outage",
    ),
    (
        "SELECT Subject FROM Case WHERE Priority = 'High' AND Origin = 'Email'",
        "Outage",
    ),
    // ----- numbers, currency, nulls -----
    (
        "SELECT Name FROM Account WHERE AnnualRevenue > 50000000 ORDER BY Name",
        "stark industries; Wayne; 华为技术有限公司",
    ),
    (
        "SELECT Name FROM Account WHERE AnnualRevenue >= 50000000 ORDER BY Name",
        "Hooli; stark industries; Wayne; 华为技术有限公司",
    ),
    (
        "SELECT Name FROM Account WHERE AnnualRevenue < 2000000 ORDER BY Name",
        "Initech; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE AnnualRevenue <= 2000000 ORDER BY Name",
        "Globex; Initech; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE AnnualRevenue = null ORDER BY Name",
        "Umbrella; Zeta",
    ),
    (
        "SELECT Name FROM Account WHERE AnnualRevenue != null AND AnnualRevenue < 1000.5 ORDER BY Name",
        "Initech; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE AnnualRevenue = 100",
        "Initech",
    ),
    (
        "SELECT Name FROM Account WHERE AnnualRevenue = 100.00",
        "Initech",
    ),
    (
        "SELECT Name FROM Account WHERE AnnualRevenue = 1e2",
        "Initech",
    ),
    (
        "SELECT Name FROM Account WHERE AnnualRevenue != 100 ORDER BY Name",
        "Acme; Globex; Hooli; stark industries; Umbrella; Wayne; Zeta; 华为技术有限公司; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE AnnualRevenue IN (100, 1000) ORDER BY Name",
        "Initech; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE NumberOfEmployees > 100 AND NumberOfEmployees < 6000 ORDER BY Name",
        "Acme; stark industries; Umbrella; Wayne",
    ),
    (
        "SELECT Name FROM Account WHERE NumberOfEmployees = 3",
        "腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE NumberOfEmployees >= -1 AND AnnualRevenue = null",
        "Umbrella",
    ),
    (
        "SELECT Name FROM Opportunity WHERE Amount > 100000 ORDER BY Amount",
        "Hooli - Search; Stark - Arc; Stark - Armor; 华为 - 云服务",
    ),
    (
        "SELECT Name FROM Opportunity WHERE Amount = null",
        "Initech - TPS",
    ),
    (
        "SELECT Name FROM Opportunity WHERE Amount < 10000",
        "No Account Deal",
    ),
    (
        "SELECT Name, Probability FROM Opportunity WHERE Probability >= 75 ORDER BY Probability DESC, Name",
        "Acme - Platform|100; Hooli - Search|100; Stark - Armor|100; Acme - Renewal|90; Stark - Arc|75",
    ),
    (
        "SELECT Name FROM Opportunity WHERE Probability = 0",
        "Globex - Expansion",
    ),
    (
        "SELECT Name, ExpectedRevenue FROM Opportunity WHERE ExpectedRevenue > 300000 ORDER BY ExpectedRevenue",
        "Stark - Arc|337500; Stark - Armor|1000000; 华为 - 云服务|1250000",
    ),
    (
        "SELECT Name FROM Opportunity WHERE ExpectedRevenue = null",
        "Initech - TPS",
    ),
    (
        "SELECT Company, AnnualRevenue FROM Lead WHERE AnnualRevenue > 1000 ORDER BY AnnualRevenue",
        "东方公司|5000; Brown Co|100000; White LLC|250000; Black Inc|750000",
    ),
    (
        "SELECT Company FROM Lead WHERE NumberOfEmployees < 20 ORDER BY Company",
        "Brown Co; 东方公司",
    ),
    // ----- booleans and derived fields -----
    (
        "SELECT Name FROM Opportunity WHERE IsClosed = true ORDER BY Name",
        "Acme - Platform; Globex - Expansion; Hooli - Search; Stark - Armor",
    ),
    (
        "SELECT Name FROM Opportunity WHERE IsWon = TRUE ORDER BY Name",
        "Acme - Platform; Hooli - Search; Stark - Armor",
    ),
    (
        "SELECT Name FROM Opportunity WHERE IsClosed = false ORDER BY Name",
        "Acme - Renewal; Globex - Pilot; Initech - TPS; No Account Deal; Stark - Arc; 华为 - 云服务",
    ),
    (
        "SELECT Name FROM Opportunity WHERE IsClosed = true AND IsWon = false",
        "Globex - Expansion",
    ),
    (
        "SELECT Name FROM Opportunity WHERE IsWon != true AND IsClosed = true",
        "Globex - Expansion",
    ),
    (
        "SELECT Name, IsWon, IsClosed FROM Opportunity WHERE Name = 'Stark - Arc'",
        "Stark - Arc|false|false",
    ),
    (
        "SELECT Name FROM Opportunity WHERE StageName = 'closed won' ORDER BY CloseDate",
        "Stark - Armor; Hooli - Search; Acme - Platform",
    ),
    (
        "SELECT Name FROM Opportunity WHERE StageName LIKE 'Closed%' ORDER BY Name",
        "Acme - Platform; Globex - Expansion; Hooli - Search; Stark - Armor",
    ),
    (
        "SELECT Subject, IsClosed FROM Case WHERE IsClosed = true",
        "Billing question|true",
    ),
    (
        "SELECT Subject FROM Case WHERE IsClosed = false ORDER BY Subject",
        "Feature request; Login broken; Outage",
    ),
    ("SELECT Subject FROM Task WHERE IsClosed = true", "Call Ann"),
    (
        "SELECT Company FROM Lead WHERE IsConverted = false ORDER BY Company LIMIT 2",
        "Black Inc; Brown Co",
    ),
    ("SELECT COUNT() FROM Lead WHERE IsConverted = true", "#0"),
    ("SELECT COUNT() FROM Account WHERE IsDeleted = false", "#10"),
    // ----- dates -----
    (
        "SELECT Name FROM Opportunity WHERE CloseDate = 2024-03-15",
        "Acme - Platform",
    ),
    (
        "SELECT Name FROM Opportunity WHERE CloseDate > 2024-11-01 ORDER BY CloseDate",
        "Acme - Renewal; Stark - Arc; Initech - TPS",
    ),
    (
        "SELECT Name FROM Opportunity WHERE CloseDate >= 2024-01-01 AND CloseDate <= 2024-06-30 ORDER BY CloseDate",
        "Hooli - Search; Acme - Platform; No Account Deal",
    ),
    (
        "SELECT Name FROM Opportunity WHERE CloseDate < 2024-01-01 ORDER BY CloseDate",
        "Stark - Armor; Globex - Expansion",
    ),
    (
        "SELECT Name FROM Opportunity WHERE CloseDate != 2024-03-15 AND IsWon = true ORDER BY Name",
        "Hooli - Search; Stark - Armor",
    ),
    (
        "SELECT Name FROM Opportunity WHERE CALENDAR_YEAR(CloseDate) = 2023 ORDER BY Name",
        "Globex - Expansion; Stark - Armor",
    ),
    (
        "SELECT Name FROM Opportunity WHERE CALENDAR_YEAR(CloseDate) > 2024",
        "Initech - TPS",
    ),
    (
        "SELECT Name FROM Opportunity WHERE CALENDAR_MONTH(CloseDate) = 12 ORDER BY Name",
        "Globex - Expansion; Stark - Arc",
    ),
    (
        "SELECT Name FROM Opportunity WHERE CALENDAR_QUARTER(CloseDate) = 3 ORDER BY Name",
        "Globex - Pilot; 华为 - 云服务",
    ),
    (
        "SELECT Name FROM Opportunity WHERE CALENDAR_QUARTER(CloseDate) = 4 AND CALENDAR_YEAR(CloseDate) = 2024 ORDER BY Name",
        "Acme - Renewal; Stark - Arc",
    ),
    (
        "SELECT Name FROM Opportunity WHERE DAY_IN_MONTH(CloseDate) = 1 ORDER BY Name",
        "Globex - Pilot; Stark - Arc",
    ),
    (
        "SELECT Name FROM Opportunity WHERE DAY_IN_MONTH(CloseDate) >= 30 ORDER BY Name",
        "Globex - Expansion; Stark - Armor; 华为 - 云服务",
    ),
    (
        "SELECT Name FROM Opportunity WHERE FISCAL_YEAR(CloseDate) = 2024 ORDER BY CloseDate",
        "Hooli - Search; Acme - Platform; No Account Deal; Globex - Pilot; 华为 - 云服务; Acme - Renewal; Stark - Arc",
    ),
    (
        "SELECT Name FROM Opportunity WHERE FISCAL_QUARTER(CloseDate) = 1 ORDER BY Name",
        "Acme - Platform; Hooli - Search; Initech - TPS",
    ),
    (
        "SELECT Name FROM Opportunity WHERE DAY_IN_WEEK(CloseDate) = 1 ORDER BY Name",
        "Globex - Expansion; No Account Deal; Stark - Arc",
    ),
    (
        "SELECT Name FROM Contact WHERE Birthdate = 2000-02-29",
        "Jane Doe",
    ),
    (
        "SELECT Name FROM Contact WHERE Birthdate < 1985-01-01 ORDER BY Birthdate",
        "Bob Smith; Ann Lee",
    ),
    (
        "SELECT Name FROM Contact WHERE Birthdate = null ORDER BY Name",
        "Carl Zhou; Finn Park",
    ),
    (
        "SELECT Name FROM Contact WHERE CALENDAR_MONTH(Birthdate) <= 2 ORDER BY Name",
        "Jane Doe; 王伟",
    ),
    (
        "SELECT Name FROM Opportunity WHERE CloseDate = LAST_N_YEARS:50 AND CloseDate < 2023-07-01",
        "Stark - Armor",
    ),
    (
        "SELECT Name FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:3",
        "",
    ),
    (
        "SELECT Subject FROM Task WHERE ActivityDate = null",
        "Follow up lead",
    ),
    (
        "SELECT Subject FROM Task WHERE ActivityDate > 2024-11-24 ORDER BY ActivityDate",
        "Send proposal; Review case",
    ),
    (
        "SELECT COUNT() FROM Account WHERE CreatedDate = TODAY",
        "#10",
    ),
    (
        "SELECT COUNT() FROM Account WHERE CreatedDate = LAST_N_DAYS:1",
        "#10",
    ),
    (
        "SELECT COUNT() FROM Account WHERE CreatedDate < YESTERDAY",
        "#0",
    ),
    (
        "SELECT COUNT() FROM Account WHERE CreatedDate > 2020-01-01T00:00:00Z",
        "#10",
    ),
    (
        "SELECT COUNT() FROM Account WHERE CreatedDate = THIS_YEAR AND CreatedDate = THIS_MONTH",
        "#10",
    ),
    // ----- AND, OR, NOT -----
    (
        "SELECT Name FROM Account WHERE Industry = 'Technology' AND Rating = 'Hot' ORDER BY Name",
        "Acme; 华为技术有限公司",
    ),
    (
        "SELECT Name FROM Account WHERE Industry = 'Energy' OR Rating = 'Cold' ORDER BY Name",
        "Globex; Initech; Wayne; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE (Industry = 'Technology' OR Industry = 'Banking') AND Rating = 'Cold' ORDER BY Name",
        "Wayne; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE Industry = 'Technology' OR (Industry = 'Banking' AND Rating = 'Cold') ORDER BY Name",
        "Acme; Hooli; Wayne; 华为技术有限公司; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE NOT Industry = 'Technology' ORDER BY Name",
        "Globex; Initech; stark industries; Umbrella; Wayne; Zeta",
    ),
    (
        "SELECT Name FROM Account WHERE NOT (Industry = 'Technology' OR Industry = null) ORDER BY Name",
        "Globex; Initech; stark industries; Umbrella; Wayne",
    ),
    (
        "SELECT Name FROM Account WHERE NOT (Rating = 'Hot') AND Industry = 'Technology' ORDER BY Name",
        "Hooli; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE ((Rating = 'Hot')) ORDER BY Name",
        "Acme; stark industries; 华为技术有限公司",
    ),
    (
        "SELECT Name FROM Account WHERE Rating = 'Hot' AND (BillingCountry = 'USA' OR NumberOfEmployees > 100000) ORDER BY Name",
        "stark industries; 华为技术有限公司",
    ),
    (
        "SELECT Name FROM Account WHERE (Rating = 'Warm' OR Rating = 'Cold') AND (BillingCountry = 'USA' OR BillingCountry = 'UK') ORDER BY Name",
        "Globex; Hooli; Initech; Wayne",
    ),
    (
        "SELECT Name FROM Contact WHERE (LastName = 'Lee' AND FirstName = 'Eve') OR LastName = 'Kim' ORDER BY Name",
        "Dana Kim; Eve Lee",
    ),
    (
        "SELECT Name FROM Opportunity WHERE IsClosed = false AND (Amount > 400000 OR Amount = null) ORDER BY Name",
        "Initech - TPS; Stark - Arc; 华为 - 云服务",
    ),
    (
        "SELECT Name FROM Opportunity WHERE NOT IsClosed = true AND Amount < 20000 ORDER BY Name",
        "Globex - Pilot; No Account Deal",
    ),
    (
        "SELECT Company FROM Lead WHERE Rating = 'Warm' OR Rating = 'Hot' OR Rating = null ORDER BY Company",
        "Black Inc; Brown Co; Green Ltd; White LLC",
    ),
    // ----- parent paths -----
    (
        "SELECT Name, Account.Name FROM Contact ORDER BY Name",
        "Ann Lee|(Acme); Bob Smith|(Acme); Carl Zhou|(Globex); Dana Kim|(Hooli); Eve Lee|(Initech); Finn Park|(stark industries); Jane Doe|null; 王伟|(华为技术有限公司)",
    ),
    (
        "SELECT Name FROM Contact WHERE Account.Name = 'Acme' ORDER BY Name",
        "Ann Lee; Bob Smith",
    ),
    (
        "SELECT Name FROM Contact WHERE Account.Industry = 'Technology' ORDER BY Name",
        "Ann Lee; Bob Smith; Dana Kim; 王伟",
    ),
    (
        "SELECT Name FROM Contact WHERE Account.Name = null",
        "Jane Doe",
    ),
    (
        "SELECT Name FROM Contact WHERE AccountId = null",
        "Jane Doe",
    ),
    (
        "SELECT Name, Account.Name, Account.Parent.Name FROM Contact WHERE Account.ParentId != null ORDER BY Name",
        "Carl Zhou|(Globex|(Acme)); Dana Kim|(Hooli|(华为技术有限公司))",
    ),
    (
        "SELECT Name FROM Contact WHERE Account.Parent.Name = 'Acme'",
        "Carl Zhou",
    ),
    (
        "SELECT Name, Parent.Name FROM Account WHERE ParentId != null ORDER BY Name",
        "Globex|(Acme); Hooli|(华为技术有限公司); Wayne|(stark industries)",
    ),
    (
        "SELECT Name FROM Account WHERE Parent.Industry = 'Technology' ORDER BY Name",
        "Globex; Hooli",
    ),
    (
        "SELECT Name FROM Account WHERE Parent.Rating = 'Hot' AND Rating = 'Cold'",
        "Wayne",
    ),
    (
        "SELECT Name, Account.Name, Account.Rating FROM Opportunity WHERE Account.Rating = 'Warm' ORDER BY Name",
        "Globex - Expansion|(Globex|Warm); Globex - Pilot|(Globex|Warm); Hooli - Search|(Hooli|Warm)",
    ),
    (
        "SELECT Name FROM Opportunity WHERE Account.BillingCountry = 'China' AND IsWon = true",
        "Acme - Platform",
    ),
    (
        "SELECT Name, Account.Parent.Name FROM Opportunity WHERE Account.Parent.Name != null ORDER BY Name",
        "Globex - Expansion|((Acme)); Globex - Pilot|((Acme)); Hooli - Search|((华为技术有限公司))",
    ),
    (
        "SELECT Name FROM Opportunity WHERE Account.Name LIKE 'Stark%' ORDER BY Amount",
        "Stark - Arc; Stark - Armor",
    ),
    (
        "SELECT Name, Account.Name FROM Opportunity WHERE AccountId = null",
        "No Account Deal|null",
    ),
    (
        "SELECT Subject, Account.Name, Contact.Name FROM Case ORDER BY Subject",
        "Billing question|(Acme)|(Bob Smith); Feature request|(Globex)|(Carl Zhou); Login broken|(Acme)|(Ann Lee); Outage|(华为技术有限公司)|(王伟)",
    ),
    (
        "SELECT Subject FROM Case WHERE Contact.Account.Name = 'Acme' ORDER BY Subject",
        "Billing question; Login broken",
    ),
    (
        "SELECT Name FROM Contact ORDER BY Account.Name, Name LIMIT 3",
        "Jane Doe; Ann Lee; Bob Smith",
    ),
    (
        "SELECT Name FROM Opportunity WHERE IsClosed = false ORDER BY Account.Name DESC, Name LIMIT 3",
        "No Account Deal; 华为 - 云服务; Stark - Arc",
    ),
    (
        "SELECT c.Name, c.Account.Name FROM Contact c WHERE c.Account.Name = 'Hooli'",
        "Dana Kim|(Hooli)",
    ),
    (
        "SELECT Name, Owner.Name FROM Account WHERE Name = 'Acme'",
        "Acme|(Ada Admin)",
    ),
    (
        "SELECT Name FROM Account WHERE Owner.Name = 'Ada Admin' AND Rating = 'Hot' ORDER BY Name",
        "Acme; stark industries; 华为技术有限公司",
    ),
    // ----- child subqueries -----
    (
        "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account WHERE Industry = 'Technology' ORDER BY Name",
        "Acme|[Lee, Smith]; Hooli|[Kim]; 华为技术有限公司|[王]; 腾飞科技|null",
    ),
    (
        "SELECT Name, (SELECT Name FROM Opportunities WHERE IsWon = true) FROM Account WHERE Name IN ('Acme', 'Globex') ORDER BY Name",
        "Acme|[Acme - Platform]; Globex|null",
    ),
    (
        "SELECT Name, (SELECT Name FROM Opportunities ORDER BY CloseDate DESC LIMIT 1) FROM Account WHERE Name LIKE 'Stark%'",
        "stark industries|[Stark - Arc]",
    ),
    (
        "SELECT Name, (SELECT Name, Amount FROM Opportunities ORDER BY Amount DESC) FROM Account WHERE Name = 'Globex'",
        "Globex|[Globex - Expansion|75000, Globex - Pilot|10000]",
    ),
    (
        "SELECT Name, (SELECT Subject FROM Cases ORDER BY Subject), (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account WHERE Name = 'Acme'",
        "Acme|[Billing question, Login broken]|[Lee, Smith]",
    ),
    (
        "SELECT Name, (SELECT Name FROM ChildAccounts) FROM Account WHERE ParentId = null AND Rating = 'Hot' ORDER BY Name",
        "Acme|[Globex]; stark industries|[Wayne]; 华为技术有限公司|[Hooli]",
    ),
    (
        "SELECT Name, (SELECT Name FROM Contacts WHERE Title = 'CTO') FROM Account WHERE Name = 'Acme'",
        "Acme|[Bob Smith]",
    ),
    (
        "SELECT Name, (SELECT Subject FROM Cases WHERE IsClosed = false) FROM Contact WHERE Account.Name = 'Acme' ORDER BY Name",
        "Ann Lee|[Login broken]; Bob Smith|null",
    ),
    (
        "SELECT Name, (SELECT Subject FROM Tasks) FROM Account WHERE Name = 'Acme'",
        "Acme|[Call Ann]",
    ),
    (
        "SELECT Name, (SELECT Subject FROM Tasks) FROM Contact WHERE Name = 'Finn Park'",
        "Finn Park|[Send proposal]",
    ),
    (
        "SELECT Name, (SELECT Subject FROM Tasks) FROM Opportunity WHERE Name = 'Stark - Arc'",
        "Stark - Arc|[Send proposal]",
    ),
    (
        "SELECT Name, Parent.Name, (SELECT LastName FROM Contacts) FROM Account WHERE Name = 'Zeta'",
        "Zeta|null|null",
    ),
    (
        "SELECT Name, (SELECT Name, Account.Name FROM Contacts) FROM Account WHERE Name = 'Hooli'",
        "Hooli|[Dana Kim|(Hooli)]",
    ),
    (
        "SELECT Name, (SELECT LastName FROM Contacts LIMIT 1) FROM Account WHERE Name = 'Acme'",
        "Acme|[Lee]",
    ),
    // ----- semi-joins and anti-joins -----
    (
        "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity WHERE IsWon = true) ORDER BY Name",
        "Acme; Hooli; stark industries",
    ),
    (
        "SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact WHERE AccountId != null) ORDER BY Name",
        "Umbrella; Wayne; Zeta; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Case) ORDER BY Name",
        "Acme; Globex; 华为技术有限公司",
    ),
    (
        "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE LeadSource = 'Web') AND Rating = 'Hot'",
        "Acme",
    ),
    (
        "SELECT Name FROM Contact WHERE AccountId IN (SELECT Id FROM Account WHERE BillingCountry = 'USA') ORDER BY Name",
        "Dana Kim; Eve Lee; Finn Park",
    ),
    (
        "SELECT Name FROM Contact WHERE Id IN (SELECT ContactId FROM Case WHERE Priority = 'High') ORDER BY Name",
        "Ann Lee; 王伟",
    ),
    (
        "SELECT Name FROM Contact WHERE Id NOT IN (SELECT ContactId FROM Case WHERE ContactId != null) ORDER BY Name",
        "Dana Kim; Eve Lee; Finn Park; Jane Doe",
    ),
    (
        "SELECT Name FROM Opportunity WHERE AccountId IN (SELECT Id FROM Account WHERE ParentId != null) ORDER BY Name",
        "Globex - Expansion; Globex - Pilot; Hooli - Search",
    ),
    (
        "SELECT Name FROM Account WHERE Id IN (SELECT ParentId FROM Account) ORDER BY Name",
        "Acme; stark industries; 华为技术有限公司",
    ),
    (
        "SELECT Name FROM Account WHERE Id IN (SELECT WhatId FROM Task)",
        "Acme",
    ),
    // ----- aggregates -----
    ("SELECT COUNT() FROM Account", "#10"),
    ("SELECT COUNT() FROM Contact WHERE AccountId != null", "#7"),
    ("SELECT COUNT(Id) FROM Opportunity", "10"),
    ("SELECT COUNT(Amount) FROM Opportunity", "9"),
    ("SELECT COUNT(Rating) FROM Account", "8"),
    ("SELECT COUNT_DISTINCT(Rating) FROM Account", "3"),
    ("SELECT COUNT_DISTINCT(Industry) FROM Account", "6"),
    ("SELECT SUM(Amount) FROM Opportunity", "4485500"),
    (
        "SELECT SUM(Amount) FROM Opportunity WHERE IsWon = true",
        "1400000",
    ),
    (
        "SELECT MAX(Amount), MIN(Amount) FROM Opportunity",
        "2500000|500",
    ),
    (
        "SELECT AVG(Amount) FROM Opportunity WHERE IsClosed = true",
        "368750",
    ),
    (
        "SELECT AVG(NumberOfEmployees) FROM Account WHERE BillingCountry = 'USA'",
        "3262",
    ),
    (
        "SELECT MIN(CloseDate), MAX(CloseDate) FROM Opportunity",
        "2023-06-30|2025-02-14",
    ),
    (
        "SELECT MIN(Name), MAX(Name) FROM Contact WHERE AccountId != null",
        "Ann Lee|王伟",
    ),
    (
        "SELECT StageName, COUNT(Id) FROM Opportunity GROUP BY StageName ORDER BY StageName",
        "Closed Lost|1; Closed Won|3; Negotiation/Review|1; Proposal/Price Quote|1; Prospecting|2; Qualification|1; Value Proposition|1",
    ),
    (
        "SELECT StageName, SUM(Amount) total FROM Opportunity GROUP BY StageName ORDER BY SUM(Amount) DESC LIMIT 3",
        "Qualification|null; Value Proposition|2500000; Closed Won|1400000",
    ),
    (
        "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry ORDER BY COUNT(Id) DESC, Industry LIMIT 2",
        "Technology|4; null|1",
    ),
    (
        "SELECT Industry, COUNT(Id) FROM Account WHERE Industry != null GROUP BY Industry HAVING COUNT(Id) > 1",
        "Technology|4",
    ),
    (
        "SELECT Rating, COUNT(Id) n FROM Account GROUP BY Rating HAVING COUNT(Id) >= 3 ORDER BY Rating",
        "Cold|3; Hot|3",
    ),
    (
        "SELECT Rating, MAX(AnnualRevenue) FROM Account WHERE Rating != null GROUP BY Rating ORDER BY MAX(AnnualRevenue)",
        "Warm|50000000; Cold|75000000; Hot|900000000",
    ),
    (
        "SELECT BillingCountry, COUNT(Id), SUM(NumberOfEmployees) FROM Account WHERE BillingCountry != null GROUP BY BillingCountry ORDER BY BillingCountry",
        "China|3|190123; UK|1|50; USA|5|16310",
    ),
    (
        "SELECT Account.Name, COUNT(Id) FROM Contact WHERE AccountId != null GROUP BY Account.Name ORDER BY COUNT(Id) DESC, Account.Name LIMIT 2",
        "Acme|2; Globex|1",
    ),
    (
        "SELECT CALENDAR_YEAR(CloseDate), COUNT(Id) FROM Opportunity GROUP BY CALENDAR_YEAR(CloseDate) ORDER BY CALENDAR_YEAR(CloseDate)",
        "2023|2; 2024|7; 2025|1",
    ),
    (
        "SELECT CALENDAR_QUARTER(CloseDate) q, SUM(Amount) FROM Opportunity WHERE CALENDAR_YEAR(CloseDate) = 2024 GROUP BY CALENDAR_QUARTER(CloseDate) ORDER BY CALENDAR_QUARTER(CloseDate)",
        "1|400000; 2|500; 3|2510000; 4|500000",
    ),
    (
        "SELECT IsWon, COUNT(Id) FROM Opportunity WHERE IsClosed = true GROUP BY IsWon ORDER BY IsWon",
        "false|1; true|3",
    ),
    (
        "SELECT LeadSource, COUNT(Id) FROM Contact GROUP BY LeadSource ORDER BY LeadSource NULLS LAST",
        "Other|1; Partner Referral|1; Phone Inquiry|1; Purchased List|1; Web|3; null|1",
    ),
    (
        "SELECT Status, COUNT(Id) FROM Lead GROUP BY Status HAVING COUNT(Id) = 2 ORDER BY Status",
        "Open - Not Contacted|2; Working - Contacted|2",
    ),
    (
        "SELECT Rating, Industry, COUNT(Id) FROM Account WHERE Rating = 'Hot' GROUP BY Rating, Industry ORDER BY Industry",
        "Hot|Manufacturing|1; Hot|Technology|2",
    ),
    (
        "SELECT Rating, COUNT(Id) FROM Account WHERE Rating != null GROUP BY ROLLUP(Rating) ORDER BY Rating NULLS LAST",
        "Cold|3; Hot|3; Warm|2; null|8",
    ),
    (
        "SELECT Rating, GROUPING(Rating) g, COUNT(Id) FROM Account WHERE Rating = 'Warm' GROUP BY ROLLUP(Rating) ORDER BY Rating NULLS LAST",
        "Warm|0|2; null|1|2",
    ),
    (
        "SELECT COUNT(Id) cnt, SUM(Amount) s FROM Opportunity WHERE Account.Industry = 'Technology'",
        "4|2950000",
    ),
    (
        "SELECT MAX(Account.NumberOfEmployees) FROM Opportunity",
        "190000",
    ),
    (
        "SELECT Account.Rating, SUM(Amount) FROM Opportunity WHERE AccountId != null GROUP BY Account.Rating ORDER BY Account.Rating",
        "Cold|null; Hot|4100000; Warm|385000",
    ),
    // ----- LIMIT and OFFSET -----
    (
        "SELECT Name FROM Account ORDER BY Name LIMIT 2",
        "Acme; Globex",
    ),
    (
        "SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 2",
        "Hooli; Initech",
    ),
    (
        "SELECT Name FROM Account ORDER BY Name OFFSET 8",
        "华为技术有限公司; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account ORDER BY Name LIMIT 5 OFFSET 20",
        "",
    ),
    ("SELECT Name FROM Account ORDER BY Name LIMIT 0", ""),
    ("SELECT COUNT() FROM Account LIMIT 3", "#3"),
    ("SELECT COUNT() FROM Account LIMIT 30 OFFSET 7", "#3"),
    (
        "SELECT Name FROM Opportunity WHERE IsWon = true ORDER BY Amount DESC LIMIT 1 OFFSET 1",
        "Hooli - Search",
    ),
    (
        "SELECT Name FROM Contact WHERE LastName = 'Lee' ORDER BY FirstName DESC LIMIT 1",
        "Eve Lee",
    ),
    (
        "SELECT Name FROM Account ORDER BY Name LIMIT 1 FOR VIEW",
        "Acme",
    ),
    (
        "SELECT Name FROM Account ORDER BY Name LIMIT 1 FOR REFERENCE",
        "Acme",
    ),
    // ----- toLabel, FIELDS, polymorphic parents -----
    (
        "SELECT Name, toLabel(Industry) FROM Account WHERE Name = 'Globex'",
        "Globex|Energy",
    ),
    (
        "SELECT toLabel(StageName) FROM Opportunity WHERE Name = 'Acme - Platform'",
        "Closed Won",
    ),
    (
        "SELECT Subject, What.Name, Who.Name FROM Task ORDER BY Subject",
        "Call Ann|(Acme)|(Ann Lee); Follow up lead|null|(Brown); Review case|(00000003)|null; Send proposal|(Stark - Arc)|(Finn Park)",
    ),
    (
        "SELECT Subject, What.Type, Who.Type FROM Task ORDER BY Subject",
        "Call Ann|(Account)|(Contact); Follow up lead|null|(Lead); Review case|(Case)|null; Send proposal|(Opportunity)|(Contact)",
    ),
    (
        "SELECT Subject FROM Task WHERE What.Type = 'Opportunity'",
        "Send proposal",
    ),
    (
        "SELECT Subject FROM Task WHERE Who.Type IN ('Lead') ",
        "Follow up lead",
    ),
    (
        "SELECT Subject FROM Task WHERE What.Name = 'Acme'",
        "Call Ann",
    ),
    (
        "SELECT Subject FROM Task WHERE Who.Name LIKE '%Park' OR What.Name = '00000003' ORDER BY Subject",
        "Review case; Send proposal",
    ),
    (
        "SELECT Subject, TYPEOF What WHEN Account THEN Name, Industry WHEN Opportunity THEN Name, Amount ELSE Name END FROM Task WHERE WhatId != null ORDER BY Subject",
        "Call Ann|(Acme|Technology); Review case|(00000003); Send proposal|(Stark - Arc|450000)",
    ),
    (
        "SELECT Subject FROM Task WHERE WhatId != null ORDER BY What.Name",
        "Review case; Call Ann; Send proposal",
    ),
    (
        "SELECT Subject, Who.Name FROM Task ORDER BY Who.Name DESC, Subject",
        "Review case|null; Send proposal|(Finn Park); Follow up lead|(Brown); Call Ann|(Ann Lee)",
    ),
    (
        "SELECT Subject FROM Task ORDER BY What.Type",
        "!INVALID_FIELD",
    ),
    (
        "SELECT Subject FROM Task ORDER BY What.Nope",
        "!INVALID_FIELD",
    ),
    // ----- errors -----
    ("SELECT Id FORM Account", "!MALFORMED_QUERY"),
    ("SELECT FROM Account", "!MALFORMED_QUERY"),
    ("SELECT Name FROM Account WHERE", "!MALFORMED_QUERY"),
    ("SELECT Name FROM Account WHERE Name = ", "!MALFORMED_QUERY"),
    (
        "SELECT Name FROM Account WHERE Name = 'unterminated",
        "!MALFORMED_QUERY",
    ),
    ("SELECT Name FROM Account ORDER BY", "!MALFORMED_QUERY"),
    ("SELECT Name FROM Account LIMIT -1", "!MALFORMED_QUERY"),
    ("SELECT Name FROM Account LIMIT x", "!MALFORMED_QUERY"),
    ("SELECT Name FROM Account OFFSET 2001", "!MALFORMED_QUERY"),
    (
        "SELECT Name FROM Account WHERE Name = 'a' AND",
        "!MALFORMED_QUERY",
    ),
    (
        "SELECT Name FROM Account WHERE (Name = 'a'",
        "!MALFORMED_QUERY",
    ),
    (
        "SELECT Name FROM Opportunity WHERE CloseDate = 2024-13-01",
        "!INVALID_QUERY_FILTER_OPERATOR",
    ),
    ("SELECT Name FROM Account GROUP BY", "!MALFORMED_QUERY"),
    ("SELECT Nope FROM Account", "!INVALID_FIELD"),
    ("SELECT Name FROM Account WHERE Nope = 1", "!INVALID_FIELD"),
    ("SELECT Name FROM Account ORDER BY Nope", "!INVALID_FIELD"),
    ("SELECT Account.Nope FROM Contact", "!INVALID_FIELD"),
    ("SELECT Nope.Name FROM Contact", "!INVALID_FIELD"),
    (
        "SELECT Name, (SELECT Name FROM Nopes) FROM Account",
        "!INVALID_TYPE",
    ),
    ("SELECT Name FROM Nope__c", "!INVALID_TYPE"),
    (
        "SELECT Name FROM Account WHERE AnnualRevenue = 'lots'",
        "!INVALID_QUERY_FILTER_OPERATOR",
    ),
    (
        "SELECT Name FROM Account WHERE Name = 5",
        "!INVALID_QUERY_FILTER_OPERATOR",
    ),
    (
        "SELECT Name FROM Opportunity WHERE CloseDate = 'yesterday'",
        "!INVALID_QUERY_FILTER_OPERATOR",
    ),
    (
        "SELECT Name FROM Account WHERE Name INCLUDES ('a')",
        "!INVALID_QUERY_FILTER_OPERATOR",
    ),
    (
        "SELECT Industry, Name FROM Account GROUP BY Industry",
        "!MALFORMED_QUERY",
    ),
    ("SELECT SUM(Name) FROM Account", "!MALFORMED_QUERY"),
    // ----- SOSL -----
    ("SOSL FIND {acme} RETURNING Account(Name)", "Account:Acme"),
    (
        "SOSL FIND {acme} RETURNING Contact(Name ORDER BY Name)",
        "Contact:Ann Lee; Contact:Bob Smith",
    ),
    (
        "SOSL FIND {华为} RETURNING Account(Name), Contact(Name)",
        "Account:华为技术有限公司",
    ),
    (
        "SOSL FIND {技术有限} RETURNING Account(Name)",
        "Account:华为技术有限公司",
    ),
    (
        "SOSL FIND {腾飞} RETURNING Account(Name)",
        "Account:腾飞科技",
    ),
    (
        "SOSL FIND {腾} RETURNING Account(Name)",
        "!MALFORMED_SEARCH",
    ),
    (
        "SOSL FIND {深圳} RETURNING Account(Name), Contact(Name)",
        "Account:华为技术有限公司; Contact:王伟",
    ),
    (
        "SOSL FIND {lee} IN NAME FIELDS RETURNING Contact(Name ORDER BY Name), Lead(Company)",
        "Contact:Ann Lee; Contact:Eve Lee",
    ),
    (
        "SOSL FIND {stark*} RETURNING Account(Name)",
        "Account:stark industries",
    ),
    (
        "SOSL FIND {outage OR billing} RETURNING Case(Subject ORDER BY Subject)",
        "Case:Billing question; Case:Outage",
    ),
    (
        "SOSL FIND {acme} RETURNING Opportunity(Name WHERE IsWon = true)",
        "Opportunity:Acme - Platform",
    ),
    (
        "SOSL FIND {\"send proposal\"} RETURNING Task(Subject)",
        "Task:Send proposal",
    ),
    (
        "SOSL FIND {example AND NOT acme} IN EMAIL FIELDS RETURNING Contact(Name ORDER BY Name LIMIT 2)",
        "Contact:Carl Zhou; Contact:Dana Kim",
    ),
    ("SOSL FIND {brown} RETURNING Lead(Company)", "Lead:Brown Co"),
    ("SOSL FIND {nothingmatches} RETURNING Account(Name)", ""),
    ("SOSL FIND {acme} RETURNING Account(Nope)", "!INVALID_FIELD"),
    ("SOSL FIND {x}", "!MALFORMED_SEARCH"),
    ("SOSL FIND acme", "!MALFORMED_SEARCH"),
    // ----- picklist filters (counts the tallies answer, and their neighbours that count
    // the records) -----
    (
        "SELECT COUNT() FROM Account WHERE Industry = 'Technology'",
        "#4",
    ),
    (
        "SELECT COUNT() FROM Account WHERE Industry = 'technology'",
        "#4",
    ),
    (
        "SELECT COUNT() FROM Account WHERE Industry IN ('Energy', 'Retail')",
        "#2",
    ),
    (
        "SELECT COUNT() FROM Account WHERE Industry IN ('Energy', null)",
        "#2",
    ),
    (
        "SELECT COUNT() FROM Account WHERE Industry IN ('Energy', 'Energy')",
        "#1",
    ),
    ("SELECT COUNT() FROM Account WHERE Rating = 'Hot'", "#3"),
    (
        "SELECT COUNT() FROM Account WHERE Industry = 'Agriculture'",
        "#0",
    ),
    (
        "SELECT COUNT() FROM Account WHERE Industry = 'Not An Industry'",
        "#0",
    ),
    (
        "SELECT COUNT() FROM Account WHERE Industry != 'Technology'",
        "#6",
    ),
    ("SELECT COUNT() FROM Account WHERE Industry = null", "#1"),
    (
        "SELECT COUNT() FROM Account WHERE Industry = 'Technology' AND Rating = 'Hot'",
        "#2",
    ),
    (
        "SELECT COUNT() FROM Account WHERE Industry = 'Technology' OR Rating = 'Hot'",
        "#5",
    ),
    (
        "SELECT COUNT() FROM Account WHERE Industry = 'Technology' AND IsDeleted = false",
        "#4",
    ),
    ("SELECT COUNT() FROM Account WHERE Type = 'Prospect'", "#4"),
    (
        "SELECT COUNT() FROM Account WHERE Type IN ('Customer - Direct', 'Customer - Channel')",
        "#3",
    ),
    (
        "SELECT Name FROM Account WHERE Industry = 'Technology' ORDER BY Name",
        "Acme; Hooli; 华为技术有限公司; 腾飞科技",
    ),
    (
        "SELECT Name FROM Account WHERE Industry = 'Technology' ORDER BY Name LIMIT 2 OFFSET 1",
        "Hooli; 华为技术有限公司",
    ),
    (
        "SELECT Name FROM Account WHERE Rating = 'Cold' ORDER BY AnnualRevenue DESC",
        "Wayne; 腾飞科技; Initech",
    ),
    (
        "SELECT Rating, COUNT(Id) n FROM Account WHERE Industry = 'Technology' GROUP BY Rating ORDER BY Rating",
        "Cold|1; Hot|2; Warm|1",
    ),
    ("SELECT COUNT() FROM Contact WHERE LeadSource = 'Web'", "#3"),
    (
        "SELECT COUNT() FROM Contact WHERE LeadSource IN ('Web', 'Other')",
        "#4",
    ),
    (
        "SELECT COUNT() FROM Contact WHERE Account.Industry = 'Technology'",
        "#4",
    ),
    (
        "SELECT Name, Account.Name FROM Contact WHERE Account.Industry = 'Technology' ORDER BY Name",
        "Ann Lee|(Acme); Bob Smith|(Acme); Dana Kim|(Hooli); 王伟|(华为技术有限公司)",
    ),
    (
        "SELECT Name, (SELECT LastName FROM Contacts WHERE LeadSource = 'Web' ORDER BY LastName) FROM Account WHERE Industry = 'Technology' ORDER BY Name",
        "Acme|[Lee]; Hooli|[Kim]; 华为技术有限公司|null; 腾飞科技|null",
    ),
    (
        "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE LeadSource = 'Web') ORDER BY Name",
        "Acme; Globex; Hooli",
    ),
    (
        "SELECT COUNT() FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)",
        "#4",
    ),
    (
        "SELECT COUNT() FROM Opportunity WHERE StageName = 'Closed Won'",
        "#3",
    ),
    (
        "SELECT COUNT() FROM Opportunity WHERE StageName IN ('Prospecting', 'Qualification')",
        "#3",
    ),
    (
        "SELECT Name FROM Opportunity WHERE StageName = 'closed won' ORDER BY Amount DESC",
        "Stark - Armor; Hooli - Search; Acme - Platform",
    ),
    (
        "SELECT COUNT() FROM Opportunity WHERE LeadSource = 'Web'",
        "#2",
    ),
    (
        "SELECT COUNT() FROM Opportunity WHERE ForecastCategoryName = 'Closed'",
        "#3",
    ),
    (
        "SELECT StageName, COUNT(Id) FROM Opportunity WHERE StageName IN ('Closed Won', 'Prospecting') GROUP BY StageName ORDER BY StageName",
        "Closed Won|3; Prospecting|2",
    ),
    (
        "SELECT COUNT() FROM Opportunity WHERE StageName = 'Prospecting' AND Account.Industry = 'Energy'",
        "#1",
    ),
    (
        "SELECT COUNT() FROM Account WHERE Industry = ",
        "!MALFORMED_QUERY",
    ),
    (
        "SELECT COUNT() FROM Account WHERE Industri = 'Energy'",
        "!INVALID_FIELD",
    ),
    (
        "SELECT COUNT() FROM Acount WHERE Industry = 'Energy'",
        "!INVALID_TYPE",
    ),
];

async fn soql_conformance(db: TestDb) {
    let (app, admin) = db.app_with_admin().await;
    let create = |object: &'static str, value: Json| {
        let app = &app;
        let admin = &admin;
        async move {
            app.create(admin, object, input(value))
                .await
                .unwrap_or_else(|e| panic!("{object}: {e}"))
                .to_18()
        }
    };
    let acme = create("Account", json!({"Name": "Acme", "Industry": "Technology", "Rating": "Hot", "Type": "Customer - Direct", "AnnualRevenue": 5000000, "NumberOfEmployees": 120, "BillingCity": "Shanghai", "BillingCountry": "China", "Phone": "(415) 555-0101", "Website": "acme.example.com"})).await;
    let globex = create("Account", json!({"Name": "Globex", "Industry": "Energy", "Rating": "Warm", "Type": "Prospect", "AnnualRevenue": 2000000, "NumberOfEmployees": 50, "BillingCity": "London", "BillingCountry": "UK", "ParentId": acme})).await;
    let initech = create("Account", json!({"Name": "Initech", "Industry": "Retail", "Rating": "Cold", "Type": "Prospect", "AnnualRevenue": 100, "NumberOfEmployees": 10, "BillingCity": "Austin", "BillingCountry": "USA"})).await;
    let huawei = create("Account", json!({"Name": "华为技术有限公司", "Industry": "Technology", "Rating": "Hot", "Type": "Customer - Channel", "AnnualRevenue": 900000000, "NumberOfEmployees": 190000, "BillingCity": "深圳", "BillingCountry": "China"})).await;
    create("Account", json!({"Name": "Umbrella", "Industry": "Healthcare", "NumberOfEmployees": 300, "BillingCity": "Raccoon City", "BillingCountry": "USA"})).await;
    let hooli = create("Account", json!({"Name": "Hooli", "Industry": "Technology", "Rating": "Warm", "Type": "Prospect", "AnnualRevenue": 50000000, "NumberOfEmployees": 9000, "BillingCity": "Palo Alto", "BillingCountry": "USA", "ParentId": huawei})).await;
    let stark = create("Account", json!({"Name": "stark industries", "Industry": "Manufacturing", "Rating": "Hot", "Type": "Customer - Direct", "AnnualRevenue": 300000000, "NumberOfEmployees": 5000, "BillingCity": "New York", "BillingCountry": "USA"})).await;
    create("Account", json!({"Name": "Wayne", "Industry": "Banking", "Rating": "Cold", "Type": "Other", "AnnualRevenue": 75000000, "NumberOfEmployees": 2000, "BillingCity": "Gotham", "BillingCountry": "USA", "ParentId": stark})).await;
    create("Account", json!({"Name": "腾飞科技", "Industry": "Technology", "Rating": "Cold", "Type": "Prospect", "AnnualRevenue": 1000, "NumberOfEmployees": 3, "BillingCity": "北京", "BillingCountry": "China"})).await;
    create("Account", json!({"Name": "Zeta"})).await;

    let ann = create("Contact", json!({"FirstName": "Ann", "LastName": "Lee", "AccountId": acme, "Email": "ann@acme.example.com", "Title": "CEO", "LeadSource": "Web", "Birthdate": "1980-05-17", "MailingCity": "Shanghai"})).await;
    let bob = create("Contact", json!({"FirstName": "Bob", "LastName": "Smith", "AccountId": acme, "Email": "bob@acme.example.com", "Title": "CTO", "LeadSource": "Phone Inquiry", "Birthdate": "1975-11-02", "MailingCity": "Shanghai"})).await;
    let carl = create("Contact", json!({"FirstName": "Carl", "LastName": "Zhou", "AccountId": globex, "Email": "carl@globex.example.com", "Title": "Buyer", "LeadSource": "Web", "MailingCity": "London"})).await;
    let wei = create("Contact", json!({"FirstName": "伟", "LastName": "王", "AccountId": huawei, "Email": "wei@huawei.example.com", "Title": "经理", "LeadSource": "Partner Referral", "Birthdate": "1990-01-30", "MailingCity": "深圳"})).await;
    create("Contact", json!({"FirstName": "Jane", "LastName": "Doe", "Email": "jane@example.com", "LeadSource": "Other", "Birthdate": "2000-02-29"})).await;
    create("Contact", json!({"FirstName": "Dana", "LastName": "Kim", "AccountId": hooli, "Email": "dana@hooli.example.com", "Title": "VP Sales", "LeadSource": "Web", "Birthdate": "1985-07-04", "MailingCity": "Palo Alto"})).await;
    create("Contact", json!({"FirstName": "Eve", "LastName": "Lee", "AccountId": initech, "Email": "eve@initech.example.com", "Title": "Buyer", "Birthdate": "1992-12-31", "MailingCity": "Austin"})).await;
    let finn = create("Contact", json!({"FirstName": "Finn", "LastName": "Park", "AccountId": stark, "Email": "finn@stark.example.com", "LeadSource": "Purchased List", "MailingCity": "New York"})).await;

    let opportunity = |name: &'static str,
                       account: Option<&str>,
                       stage: &'static str,
                       close: &'static str,
                       amount: Option<i64>,
                       source: Option<&'static str>| {
        let mut value = json!({"Name": name, "StageName": stage, "CloseDate": close});
        if let Some(account) = account {
            value["AccountId"] = json!(account);
        }
        if let Some(amount) = amount {
            value["Amount"] = json!(amount);
        }
        if let Some(source) = source {
            value["LeadSource"] = json!(source);
        }
        create("Opportunity", value)
    };
    opportunity(
        "Acme - Platform",
        Some(&acme),
        "Closed Won",
        "2024-03-15",
        Some(100000),
        Some("Web"),
    )
    .await;
    opportunity(
        "Acme - Renewal",
        Some(&acme),
        "Negotiation/Review",
        "2024-11-20",
        Some(50000),
        None,
    )
    .await;
    opportunity(
        "Globex - Pilot",
        Some(&globex),
        "Prospecting",
        "2024-07-01",
        Some(10000),
        Some("Phone Inquiry"),
    )
    .await;
    opportunity(
        "Globex - Expansion",
        Some(&globex),
        "Closed Lost",
        "2023-12-31",
        Some(75000),
        None,
    )
    .await;
    opportunity(
        "华为 - 云服务",
        Some(&huawei),
        "Value Proposition",
        "2024-09-30",
        Some(2500000),
        Some("Partner Referral"),
    )
    .await;
    opportunity(
        "Hooli - Search",
        Some(&hooli),
        "Closed Won",
        "2024-01-10",
        Some(300000),
        Some("Web"),
    )
    .await;
    opportunity(
        "Initech - TPS",
        Some(&initech),
        "Qualification",
        "2025-02-14",
        None,
        None,
    )
    .await;
    opportunity(
        "Stark - Armor",
        Some(&stark),
        "Closed Won",
        "2023-06-30",
        Some(1000000),
        Some("Other"),
    )
    .await;
    let arc = opportunity(
        "Stark - Arc",
        Some(&stark),
        "Proposal/Price Quote",
        "2024-12-01",
        Some(450000),
        None,
    )
    .await;
    opportunity(
        "No Account Deal",
        None,
        "Prospecting",
        "2024-05-05",
        Some(500),
        None,
    )
    .await;

    let brown = create("Lead", json!({"LastName": "Brown", "Company": "Brown Co", "Status": "Open - Not Contacted", "Industry": "Technology", "Rating": "Hot", "LeadSource": "Web", "AnnualRevenue": 100000, "Email": "brown@brown.example.com", "NumberOfEmployees": 10})).await;
    create("Lead", json!({"LastName": "Green", "Company": "Green Ltd", "Status": "Working - Contacted", "Industry": "Energy", "Rating": "Warm", "LeadSource": "Phone Inquiry", "Email": "green@green.example.com"})).await;
    create("Lead", json!({"LastName": "李", "Company": "东方公司", "Status": "Open - Not Contacted", "Industry": "Retail", "Rating": "Cold", "LeadSource": "Partner Referral", "AnnualRevenue": 5000, "NumberOfEmployees": 5})).await;
    create("Lead", json!({"LastName": "White", "Company": "White LLC", "Status": "Closed - Not Converted", "LeadSource": "Other", "AnnualRevenue": 250000, "NumberOfEmployees": 100})).await;
    create("Lead", json!({"LastName": "Black", "Company": "Black Inc", "Status": "Working - Contacted", "Industry": "Technology", "Rating": "Warm", "LeadSource": "Web", "AnnualRevenue": 750000, "Email": "black@black.example.com", "NumberOfEmployees": 50})).await;

    create("Case", json!({"Subject": "Login broken", "AccountId": acme, "ContactId": ann, "Status": "New", "Priority": "High", "Origin": "Web"})).await;
    create("Case", json!({"Subject": "Billing question", "AccountId": acme, "ContactId": bob, "Status": "Closed", "Priority": "Low", "Origin": "Phone"})).await;
    let outage = create("Case", json!({"Subject": "Outage", "AccountId": huawei, "ContactId": wei, "Status": "Escalated", "Priority": "High", "Origin": "Email"})).await;
    create("Case", json!({"Subject": "Feature request", "AccountId": globex, "ContactId": carl, "Status": "Working", "Priority": "Medium", "Origin": "Web"})).await;

    create("Task", json!({"Subject": "Call Ann", "WhatId": acme, "WhoId": ann, "Status": "Completed", "Priority": "Normal", "ActivityDate": "2024-03-01"})).await;
    create("Task", json!({"Subject": "Send proposal", "WhatId": arc, "WhoId": finn, "Status": "Not Started", "Priority": "High", "ActivityDate": "2024-11-25"})).await;
    create("Task", json!({"Subject": "Follow up lead", "WhoId": brown, "Status": "In Progress", "Priority": "Normal"})).await;
    create("Task", json!({"Subject": "Review case", "WhatId": outage, "Status": "Not Started", "Priority": "High", "ActivityDate": "2024-12-02"})).await;

    let mut failures = Vec::new();
    for (soql, expected) in CASES {
        match run(&app, &admin, soql, expected).await {
            Ok(got) if got == *expected => {}
            Ok(got) => failures.push(format!(
                "{soql}\n    expected: {expected}\n    got:      {got}"
            )),
            Err(e) => failures.push(format!("{soql}\n    internal error: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} queries gave the wrong result:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
    assert!(CASES.len() >= 300, "{}", CASES.len());
}
