//! The sales-process write benchmarks. Lead conversion: N leads converted in bulk (200 per call, as the API takes
//! them), beside the same records written by plain bulk calls in the same run (N accounts,
//! N contacts on them, N opportunities on them, N leads' status), so the figure shows what
//! conversion itself costs over the writes it makes.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::convert::LeadConvert;
use crate::records::{RecordInput, Update};
use model::{ErrorCode, RecordId};

use crate::{App, AppError, Caller, Result, WriteOptions};

/// Records per call, as the REST collections and the bulk conversion take them.
const BATCH: usize = 200;

/// What the benchmark measured.
#[derive(Debug, Clone)]
pub struct ConvertBench {
    pub leads: usize,
    pub converted: usize,
    pub rapport: Duration,
    pub baseline: Duration,
}

fn input(value: serde_json::Value) -> RecordInput {
    match value {
        serde_json::Value::Object(map) => map,
        _ => RecordInput::new(),
    }
}

impl App {
    /// Makes `n` leads for each side (untimed), then times converting one set against the
    /// plain bulk writes for the other.
    pub async fn bench_convert(&self, caller: &Caller, n: usize) -> Result<ConvertBench> {
        let options = WriteOptions { all_or_none: false };
        let make_leads = async |tag: &str| -> Result<Vec<String>> {
            let mut ids = Vec::with_capacity(n);
            let mut start = 0;
            while start < n {
                let inputs = (start..(start + BATCH).min(n))
                    .map(|i| {
                        input(json!({"LastName": format!("Lead {i}"), "FirstName": "Bench",
                            "Company": format!("{tag} Company {i}"), "Email": format!("lead{i}@{tag}.example.com"),
                            "Phone": "+86 21 5555 0000", "Industry": "Technology", "LeadSource": "Web"}))
                    })
                    .collect();
                for result in self.create_many(caller, "Lead", inputs, options).await? {
                    ids.push(result.map_err(AppError::Rejected)?.to_18());
                }
                start += BATCH;
            }
            Ok(ids)
        };
        let converting = make_leads("convert").await?;
        let plain = make_leads("plain").await?;

        let started = Instant::now();
        let mut converted = 0;
        for chunk in converting.chunks(BATCH) {
            let converts = chunk
                .iter()
                .map(|id| LeadConvert {
                    lead_id: id.clone(),
                    converted_status: "Closed - Converted".into(),
                    ..Default::default()
                })
                .collect();
            converted += self
                .convert_leads(caller, converts)
                .await?
                .iter()
                .filter(|r| r.is_ok())
                .count();
        }
        let rapport = started.elapsed();

        let started = Instant::now();
        for (k, chunk) in plain.chunks(BATCH).enumerate() {
            let base = k * BATCH;
            let accounts: Vec<RecordInput> = (0..chunk.len())
                .map(|i| input(json!({"Name": format!("plain Company {}", base + i), "Industry": "Technology", "Phone": "+86 21 5555 0000"})))
                .collect();
            let accounts: Vec<String> = self
                .create_many(caller, "Account", accounts, options)
                .await?
                .into_iter()
                .filter_map(|r| r.ok().map(|id| id.to_18()))
                .collect();
            let contacts = accounts
                .iter()
                .enumerate()
                .map(|(i, account)| input(json!({"FirstName": "Bench", "LastName": format!("Lead {}", base + i), "AccountId": account, "Email": format!("lead{}@plain.example.com", base + i), "Phone": "+86 21 5555 0000", "LeadSource": "Web"})))
                .collect();
            self.create_many(caller, "Contact", contacts, options)
                .await?;
            let opportunities = accounts
                .iter()
                .enumerate()
                .map(|(i, account)| input(json!({"Name": format!("plain Company {}", base + i), "AccountId": account, "StageName": "Prospecting", "CloseDate": "2030-03-31", "LeadSource": "Web"})))
                .collect();
            self.create_many(caller, "Opportunity", opportunities, options)
                .await?;
            let updates = chunk
                .iter()
                .map(|id| Update {
                    id: id.clone(),
                    input: input(json!({"Status": "Closed - Converted"})),
                    if_unmodified_since: None,
                })
                .collect();
            self.update_many(caller, "Lead", updates, options).await?;
        }
        let baseline = started.elapsed();
        Ok(ConvertBench {
            leads: n,
            converted,
            rapport,
            baseline,
        })
    }
}

/// What the stage-move benchmark measured.
#[derive(Debug, Clone)]
pub struct StageBench {
    pub opportunities: usize,
    pub moved: usize,
    pub rapport: Duration,
    pub baseline: Duration,
}

impl App {
    /// Makes `n` opportunities for each side (untimed), then times moving one set to the
    /// next stage through bulk updates of 200 (as sObject collections take them: derived
    /// probability and category, field history, stage snapshots, sharing, roll-ups) against
    /// the same writes in hand-written SQL for the other set.
    pub async fn bench_stage_moves(&self, caller: &Caller, n: usize) -> Result<StageBench> {
        let options = WriteOptions { all_or_none: false };
        let schema = self.schema().await?;
        let stage = schema
            .object("Opportunity")
            .and_then(|o| o.field("StageName"))
            .and_then(|f| f.picklist_value("Qualification"))
            .cloned()
            .ok_or_else(|| AppError::one(ErrorCode::InvalidField, "no Qualification stage"))?;
        let make =
            async |tag: &str| -> Result<Vec<String>> {
                let mut ids = Vec::with_capacity(n);
                let mut start = 0;
                while start < n {
                    let inputs = (start..(start + BATCH).min(n))
                    .map(|i| {
                        input(json!({"Name": format!("{tag} deal {i}"), "StageName": "Prospecting",
                            "CloseDate": "2030-03-31", "Amount": 1000 + i, "LeadSource": "Web"}))
                    })
                    .collect();
                    for result in self
                        .create_many(caller, "Opportunity", inputs, options)
                        .await?
                    {
                        ids.push(result.map_err(AppError::Rejected)?.to_18());
                    }
                    start += BATCH;
                }
                Ok(ids)
            };
        let moving = make("moved").await?;
        let plain = make("plain").await?;

        let started = Instant::now();
        let mut moved = 0;
        for chunk in moving.chunks(BATCH) {
            let updates = chunk
                .iter()
                .map(|id| Update {
                    id: id.clone(),
                    input: input(json!({"StageName": stage.value})),
                    if_unmodified_since: None,
                })
                .collect();
            moved += self
                .update_many(caller, "Opportunity", updates, options)
                .await?
                .iter()
                .filter(|r| r.is_ok())
                .count();
        }
        let rapport = started.elapsed();

        let prefix = |name: &str| {
            schema
                .object(name)
                .map(|o| o.key_prefix.clone())
                .unwrap_or_default()
        };
        let (snapshot_prefix, change_prefix) = (
            prefix("OpportunityHistory"),
            prefix("OpportunityFieldHistory"),
        );
        let user = caller
            .user_id
            .clone()
            .ok_or_else(|| AppError::one(ErrorCode::InvalidOperation, "run as a user"))?;
        let category = stage.forecast_category.clone().unwrap_or_default();
        let baseline_stage = store::bench::BaselineStage {
            name: &stage.value,
            probability: stage
                .probability
                .and_then(|p| u8::try_from(p).ok())
                .unwrap_or_default(),
            forecast_category: &category,
        };
        let started = Instant::now();
        for chunk in plain.chunks(BATCH) {
            let mut numbers = self
                .store()
                .reserve_record_numbers(3 * chunk.len() as u64)
                .await?;
            let mut next = |prefix: &str| -> Result<RecordId> {
                numbers
                    .next()
                    .and_then(|n| RecordId::from_number(prefix, n))
                    .ok_or_else(|| AppError::one(ErrorCode::UnknownException, "no record numbers"))
            };
            let mut moves = Vec::with_capacity(chunk.len());
            for id in chunk {
                moves.push(store::bench::BaselineStageMove {
                    opportunity: RecordId::parse(id).map_err(|_| {
                        AppError::one(ErrorCode::MalformedId, format!("invalid id: {id}"))
                    })?,
                    snapshot: next(&snapshot_prefix)?,
                    stage_change: next(&change_prefix)?,
                    probability_change: next(&change_prefix)?,
                });
            }
            self.store()
                .baseline_move_stage(&moves, &baseline_stage, &user, model::value::now_millis())
                .await?;
        }
        let baseline = started.elapsed();
        Ok(StageBench {
            opportunities: n,
            moved,
            rapport,
            baseline,
        })
    }
}
