//! Benchmarks of the read path (SOQL and SOSL) on a seeded org (`rapport seed --scale N`),
//! each beside the same question asked in hand-written SQL through the same driver, in the
//! same run, the two sides alternating so that machine noise hits both alike. Figures are
//! medians; the ratio is Rapport's median over the baseline's.

use std::time::{Duration, Instant};

use model::ErrorCode;
use store::Dialect;
use store::bench::Kind;

use crate::query::QueryOptions;
use crate::{App, AppError, Caller, Result};

/// Rows per page in the list benchmarks: Salesforce's smallest batch size, so that page 50
/// starts at row 9,800.
const LIST_PAGE: usize = 200;

/// One measured line.
#[derive(Debug, Clone)]
pub struct QueryBenchLine {
    pub name: String,
    /// Rows Rapport returned (summed over its statements for the baseline).
    pub rows: usize,
    pub rapport: Duration,
    pub baseline: Duration,
}

impl QueryBenchLine {
    pub fn ratio(&self) -> f64 {
        self.rapport.as_secs_f64() / self.baseline.as_secs_f64().max(1e-9)
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// A hand-written statement: SQL, its parameters, and the kinds of its columns. `ids`: bind
/// the previous statement's first column as an `IN (…)` list where the SQL says `{ids}`.
struct Statement {
    sql: String,
    params: Vec<String>,
    kinds: Vec<Kind>,
}

fn statement(sql: &str, params: &[&str], kinds: &[Kind]) -> Statement {
    Statement {
        sql: sql.to_string(),
        params: params.iter().map(|p| p.to_string()).collect(),
        kinds: kinds.to_vec(),
    }
}

/// What Rapport runs for one benchmark.
enum Work {
    Query {
        soql: String,
        options: QueryOptions,
    },
    Search(String),
    /// The current quarter's forecast for everyone the caller sees.
    Forecast,
}

struct Case {
    name: String,
    work: Work,
    baseline: Vec<Statement>,
}

impl App {
    /// Runs the read benchmarks as `caller`, `iterations` times each; with `only`, just those
    /// whose name contains it.
    pub async fn bench_queries(
        &self,
        caller: &Caller,
        iterations: usize,
        only: Option<&str>,
        mut report: impl FnMut(&QueryBenchLine),
    ) -> Result<Vec<QueryBenchLine>> {
        let accounts = self
            .query(
                caller,
                "SELECT COUNT() FROM Account",
                QueryOptions {
                    page_size: 1,
                    ..Default::default()
                },
            )
            .await?
            .total_size;
        if accounts < 20_000 {
            return Err(AppError::one(
                ErrorCode::InvalidOperation,
                format!(
                    "the read benchmarks need a seeded org (rapport seed --scale 1000000); this one has {accounts} accounts"
                ),
            ));
        }
        let sqlite = self.store().dialect() == Dialect::Sqlite;
        let quarter = self.forecast(caller, Default::default()).await?;
        let (quarter_start, quarter_end) = (
            model::value::format_date(quarter.period.start),
            model::value::format_date(quarter.period.end),
        );
        let (t, c, d) = (Kind::Text, Kind::Int, Kind::Decimal);
        let list_soql = "SELECT Id, Name, Industry, BillingCity, Phone FROM Account WHERE Industry = 'Energy' ORDER BY Name";
        // SOQL sorts text case-insensitively, nulls first: the hand-written SQL asks the same,
        // so both can walk the same index (`ORDER BY name` would sort every Energy account).
        let list_sql = "SELECT id, name, industry, billingcity, phone FROM account WHERE isdeleted = FALSE AND industry = ? ORDER BY LOWER(name) NULLS FIRST";
        // Page 50 is reached as a client reaches it: by following 49 nextRecordsUrls, each
        // carrying the last row's sort key and page 1's total.
        let mut page50 = QueryOptions {
            page_size: LIST_PAGE,
            ..Default::default()
        };
        let (mut last_name, mut last_id) = (String::new(), String::new());
        for _ in 0..49 {
            let page = self.query(caller, list_soql, page50.clone()).await?;
            let last = page.rows.last().ok_or_else(|| {
                AppError::one(
                    ErrorCode::InvalidOperation,
                    "too few accounts in Energy to page",
                )
            })?;
            last_id = last
                .id
                .as_ref()
                .map(|id| id.as_str15().to_string())
                .unwrap_or_default();
            last_name = last
                .cells
                .iter()
                .find(|(n, _)| &**n == "Name")
                .and_then(|(_, c)| match c {
                    crate::query::Cell::Value(model::Value::Text(t)) => Some(t.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            page50.start = page.next_start.unwrap_or(page50.start);
            page50.after = page.next_key.clone();
            page50.known_total = Some(page.total_size);
        }
        // A number that names exactly one seeded account ("Acme Systems 777777").
        let unique = (accounts * 7 / 9).to_string();
        let (match_one, match_word) = if sqlite {
            (format!("\"{unique}\""), "\"华为\"".to_string())
        } else {
            (format!("'{unique}'"), "'华为'".to_string())
        };
        let find_sql = if sqlite {
            "SELECT a.id, a.name FROM account__search s JOIN account a ON a.id = s.id WHERE account__search MATCH ? AND a.isdeleted = FALSE"
        } else {
            "SELECT a.id, a.name FROM account__search s JOIN account a ON a.id = s.id WHERE s.doc @@ CAST(? AS tsquery) AND a.isdeleted = FALSE"
        };
        // Ranked among the newest matches a search looks at, as Rapport ranks them
        // (`store::search::SEARCHED_MATCHES`); on PostgreSQL ranked before the join, so that
        // only the best 20 are looked up.
        let window = store::search::SEARCHED_MATCHES;
        let find_top_sql = if sqlite {
            format!(
                "SELECT a.id, a.name FROM (SELECT id, bm25(account__search, 0.0, 10.0, 4.0, 4.0, 1.0) AS rank FROM account__search WHERE account__search MATCH ? ORDER BY rowid DESC LIMIT {window}) s JOIN account a ON a.id = s.id WHERE a.isdeleted = FALSE ORDER BY s.rank LIMIT 20"
            )
        } else {
            format!(
                "SELECT a.id, a.name FROM (SELECT id, ts_rank(doc, CAST(? AS tsquery)) AS rank FROM (SELECT id, doc FROM account__search WHERE doc @@ CAST(? AS tsquery) ORDER BY id DESC LIMIT {window}) w ORDER BY rank DESC) s JOIN account a ON a.id = s.id WHERE a.isdeleted = FALSE ORDER BY s.rank DESC LIMIT 20"
            )
        };
        let find_top_params: Vec<&str> = if sqlite {
            vec![&match_word]
        } else {
            vec![&match_word, &match_word]
        };
        let cases = vec![
            Case {
                name: "list: first page (+ count)".into(),
                work: Work::Query {
                    soql: list_soql.into(),
                    options: QueryOptions {
                        page_size: LIST_PAGE,
                        ..Default::default()
                    },
                },
                baseline: vec![
                    statement(
                        &format!("{list_sql}, id LIMIT 201"),
                        &["Energy"],
                        &[t, t, t, t, t],
                    ),
                    // The count as Rapport takes it: from the picklist's tally (`store::tally`).
                    statement(
                        "SELECT CAST(COALESCE(SUM(live), 0) AS BIGINT) FROM rapport_tally WHERE tbl = 'account' AND col = 'industry' AND value IN (?)",
                        &["Energy"],
                        &[c],
                    ),
                ],
            },
            Case {
                name: "COUNT() of Energy accounts".into(),
                work: Work::Query {
                    soql: "SELECT COUNT() FROM Account WHERE Industry = 'Energy'".into(),
                    options: QueryOptions {
                        page_size: 1,
                        ..Default::default()
                    },
                },
                // The count as a query of the records takes it, for what the tally saves.
                baseline: vec![statement(
                    "SELECT COUNT(*) FROM account WHERE isdeleted = FALSE AND industry = ?",
                    &["Energy"],
                    &[c],
                )],
            },
            Case {
                name: "list: first 200 rows (no count)".into(),
                work: Work::Query {
                    soql: format!("{list_soql} LIMIT {LIST_PAGE}"),
                    options: QueryOptions {
                        page_size: LIST_PAGE,
                        ..Default::default()
                    },
                },
                baseline: vec![statement(
                    &format!("{list_sql}, id LIMIT {LIST_PAGE}"),
                    &["Energy"],
                    &[t, t, t, t, t],
                )],
            },
            Case {
                name: "list: page 50 (nextRecordsUrl)".into(),
                work: Work::Query {
                    soql: list_soql.into(),
                    options: page50,
                },
                // The same page by key in hand-written SQL: after the last row of page 49.
                baseline: vec![statement(
                    "SELECT id, name, industry, billingcity, phone FROM account WHERE isdeleted = FALSE AND industry = ? AND LOWER(name) >= LOWER(?) AND (LOWER(name) > LOWER(?) OR id > ?) ORDER BY LOWER(name) NULLS FIRST, id LIMIT 201",
                    &["Energy", &last_name, &last_name, &last_id],
                    &[t, t, t, t, t],
                )],
            },
            Case {
                name: "COUNT() of all accounts".into(),
                work: Work::Query {
                    soql: "SELECT COUNT() FROM Account".into(),
                    options: QueryOptions {
                        page_size: 1,
                        ..Default::default()
                    },
                },
                // Counted from the records, for what the tallies save (Rapport sums one
                // picklist's tallies).
                baseline: vec![statement(
                    "SELECT COUNT(*) FROM account WHERE isdeleted = FALSE",
                    &[],
                    &[c],
                )],
            },
            Case {
                name: "GROUP BY StageName".into(),
                work: Work::Query {
                    soql: "SELECT StageName, COUNT(Id), SUM(Amount) FROM Opportunity GROUP BY StageName".into(),
                    options: QueryOptions {
                        page_size: 2000,
                        ..Default::default()
                    },
                },
                baseline: vec![statement(
                    "SELECT stagename, COUNT(id), SUM(amount) FROM opportunity WHERE isdeleted = FALSE GROUP BY stagename",
                    &[],
                    &[t, c, d],
                )],
            },
            Case {
                name: "two parent paths".into(),
                work: Work::Query {
                    soql: "SELECT Id, Name, Account.Name, Owner.Name FROM Opportunity WHERE StageName = 'Prospecting' LIMIT 200".into(),
                    options: QueryOptions {
                        page_size: 2000,
                        ..Default::default()
                    },
                },
                // The parents' ids too: each parent in the answer carries its URL.
                baseline: vec![statement(
                    "SELECT o.id, o.name, a.name, a.id, u.name, u.id FROM opportunity o LEFT JOIN account a ON a.id = o.accountid LEFT JOIN \"user\" u ON u.id = o.ownerid WHERE o.isdeleted = FALSE AND o.stagename = ? LIMIT 200",
                    &["Prospecting"],
                    &[t, t, t, t, t, t],
                )],
            },
            Case {
                name: "child subquery, 2,000 parents".into(),
                work: Work::Query {
                    soql: "SELECT Id, Name, (SELECT Id, Name, Email FROM Contacts) FROM Account WHERE Industry = 'Energy' LIMIT 2000".into(),
                    options: QueryOptions {
                        page_size: 2000,
                        ..Default::default()
                    },
                },
                baseline: vec![
                    statement(
                        "SELECT id, name FROM account WHERE isdeleted = FALSE AND industry = ? LIMIT 2000",
                        &["Energy"],
                        &[t, t],
                    ),
                    statement(
                        "SELECT id, accountid, name, email FROM contact WHERE isdeleted = FALSE AND accountid IN ({ids})",
                        &[],
                        &[t, t, t, t],
                    ),
                ],
            },
            Case {
                name: format!("FIND {{{unique}}}: one account"),
                work: Work::Search(format!(
                    "FIND {{{unique}}} RETURNING Account(Id, Name)"
                )),
                baseline: vec![statement(find_sql, &[&match_one], &[t, t])],
            },
            Case {
                name: "forecast: this quarter, by owner and category".into(),
                work: Work::Forecast,
                // The sums and the quotas, as the forecast asks them, and the owners' names.
                baseline: vec![
                    statement(
                        &format!("SELECT ownerid, forecastcategoryname, SUM(amount) FROM opportunity WHERE isdeleted = FALSE AND closedate >= '{quarter_start}' AND closedate < '{quarter_end}' GROUP BY ownerid, forecastcategoryname"),
                        &[],
                        &[t, t, d],
                    ),
                    statement(
                        &format!("SELECT quotaownerid, SUM(quotaamount) FROM forecastingquota WHERE isdeleted = FALSE AND startdate >= '{quarter_start}' AND startdate < '{quarter_end}' GROUP BY quotaownerid"),
                        &[],
                        &[t, d],
                    ),
                    statement("SELECT id, name FROM \"user\"", &[], &[t, t]),
                ],
            },
            Case {
                name: "FIND {华为}: top 20 by rank".into(),
                work: Work::Search("FIND {华为} RETURNING Account(Id, Name LIMIT 20)".into()),
                baseline: vec![statement(&find_top_sql, &find_top_params, &[t, t])],
            },
        ];
        let mut lines = Vec::new();
        for case in cases {
            if only.is_some_and(|only| !case.name.contains(only)) {
                continue;
            }
            let mut rapport_times = Vec::new();
            let mut baseline_times = Vec::new();
            let mut rows = 0;
            // One untimed run each to warm the caches, then alternate.
            for round in 0..=iterations {
                let started = Instant::now();
                rows = match &case.work {
                    Work::Query { soql, options } => {
                        self.query(caller, soql, options.clone()).await?.rows.len()
                    }
                    Work::Search(sosl) => self.search(caller, sosl).await?.len(),
                    Work::Forecast => self.forecast(caller, Default::default()).await?.rows.len(),
                };
                let rapport = started.elapsed();
                let started = Instant::now();
                let mut ids: Vec<String> = Vec::new();
                for s in &case.baseline {
                    let (sql, params) = if s.sql.contains("{ids}") {
                        let marks = vec!["?"; ids.len().max(1)].join(", ");
                        (s.sql.replace("{ids}", &marks), std::mem::take(&mut ids))
                    } else {
                        (s.sql.clone(), s.params.clone())
                    };
                    let (first, _) = self.store().baseline_rows(&sql, &params, &s.kinds).await?;
                    ids = first;
                }
                let baseline = started.elapsed();
                if round > 0 {
                    rapport_times.push(rapport);
                    baseline_times.push(baseline);
                }
            }
            let line = QueryBenchLine {
                name: case.name,
                rows,
                rapport: median(rapport_times),
                baseline: median(baseline_times),
            };
            report(&line);
            lines.push(line);
        }
        Ok(lines)
    }
}

impl App {
    /// List views as a sales rep beside the same views as the administrator, on an org made
    /// by `rapport seed --scale N --users U` (and, to measure sharing, `rapport sharing
    /// default Account private`). `rapport` is the rep's median, `baseline` the admin's.
    pub async fn bench_sharing(
        &self,
        admin: &Caller,
        rep: &Caller,
        iterations: usize,
        mut report: impl FnMut(&QueryBenchLine),
    ) -> Result<Vec<QueryBenchLine>> {
        let cases = [
            (
                "accounts by name, first 200",
                "SELECT Id, Name, Industry FROM Account ORDER BY Name LIMIT 200",
            ),
            (
                "Energy accounts by name, first 200",
                "SELECT Id, Name, Industry FROM Account WHERE Industry = 'Energy' ORDER BY Name LIMIT 200",
            ),
            (
                "open opportunities by close date, 200",
                "SELECT Id, Name, Amount, Account.Name FROM Opportunity WHERE IsClosed = false ORDER BY CloseDate LIMIT 200",
            ),
            (
                "accounts by name, page 1 with count",
                "SELECT Id, Name, Industry FROM Account ORDER BY Name",
            ),
        ];
        let options = QueryOptions {
            page_size: LIST_PAGE,
            ..Default::default()
        };
        let mut lines = Vec::new();
        for (name, soql) in cases {
            let mut rep_times = Vec::new();
            let mut admin_times = Vec::new();
            let mut rows = 0;
            for round in 0..=iterations {
                let started = Instant::now();
                rows = self.query(rep, soql, options.clone()).await?.rows.len();
                let rep_time = started.elapsed();
                let started = Instant::now();
                self.query(admin, soql, options.clone()).await?;
                let admin_time = started.elapsed();
                if round > 0 {
                    rep_times.push(rep_time);
                    admin_times.push(admin_time);
                }
            }
            let line = QueryBenchLine {
                name: name.into(),
                rows,
                rapport: median(rep_times),
                baseline: median(admin_times),
            };
            report(&line);
            lines.push(line);
        }
        Ok(lines)
    }
}
