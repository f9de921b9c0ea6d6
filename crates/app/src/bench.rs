//! Benchmarks of the record path against hand-written SQL through the same driver, in the
//! same run, interleaved in rounds so that machine noise hits both alike. The baseline writes
//! what the product writes: the record and its full-text index entry. Figures are
//! records per second; the ratio is baseline rate / Rapport rate (1.0 = as fast as
//! hand-written SQL, 1.5 = takes 50% longer).

use std::time::{Duration, Instant};

use model::{ErrorCode, RecordId};
use store::bench::BaselineAccount;

use crate::records::{RecordInput, WriteOptions};
use crate::{App, AppError, Caller, Result};

/// What to measure.
#[derive(Debug, Clone, Copy)]
pub struct BenchOptions {
    /// Records inserted by the bulk benchmark, by each side.
    pub bulk_records: u64,
    /// Records per bulk call.
    pub batch: u64,
    /// Single-record inserts, by each side.
    pub single_inserts: u64,
    /// Reads by id, by each side.
    pub reads: u64,
    /// Rounds each measurement is split into, alternating the two sides.
    pub rounds: u64,
}

impl Default for BenchOptions {
    fn default() -> BenchOptions {
        BenchOptions {
            bulk_records: 100_000,
            batch: 200,
            single_inserts: 2_000,
            reads: 20_000,
            rounds: 5,
        }
    }
}

/// One measured line.
#[derive(Debug, Clone)]
pub struct BenchLine {
    pub name: String,
    pub count: u64,
    pub rapport: Duration,
    pub baseline: Duration,
}

impl BenchLine {
    pub fn rapport_per_sec(&self) -> f64 {
        self.count as f64 / self.rapport.as_secs_f64().max(1e-9)
    }

    pub fn baseline_per_sec(&self) -> f64 {
        self.count as f64 / self.baseline.as_secs_f64().max(1e-9)
    }

    /// How many times longer Rapport takes than the baseline.
    pub fn ratio(&self) -> f64 {
        self.rapport.as_secs_f64() / self.baseline.as_secs_f64().max(1e-9)
    }
}

fn account_input(n: u64) -> RecordInput {
    let mut input = RecordInput::new();
    input.insert("Name".into(), format!("Bench Account {n}").into());
    input.insert("Industry".into(), "Technology".into());
    input.insert("Phone".into(), format!("+86 21 {n:08}").into());
    input
}

impl App {
    /// Runs the benchmarks as `caller` (whose user owns the records).
    pub async fn bench(
        &self,
        caller: &Caller,
        options: BenchOptions,
        mut report: impl FnMut(&BenchLine),
    ) -> Result<Vec<BenchLine>> {
        let owner = caller.user_id.clone().ok_or_else(|| {
            AppError::one(
                ErrorCode::InvalidOperation,
                "the benchmark needs a user to own its records",
            )
        })?;
        let rounds = options.rounds.max(1);
        let mut lines = Vec::new();
        let mut serial = 0u64;

        // Bulk insert: batches of `batch` records per call / per transaction.
        let mut line = BenchLine {
            name: format!("bulk insert ({} per call)", options.batch),
            count: 0,
            rapport: Duration::ZERO,
            baseline: Duration::ZERO,
        };
        let per_round = options.bulk_records / rounds;
        for _ in 0..rounds {
            let mut done = 0;
            while done < per_round {
                let n = options.batch.min(per_round - done);
                let rows = self.baseline_rows(&owner, n, &mut serial).await?;
                let started = Instant::now();
                self.store().baseline_insert_accounts(&rows).await?;
                line.baseline += started.elapsed();
                let inputs: Vec<RecordInput> = (0..n).map(|i| account_input(serial + i)).collect();
                serial += n;
                let started = Instant::now();
                let results = self
                    .create_many(
                        caller,
                        "Account",
                        inputs,
                        WriteOptions { all_or_none: true },
                    )
                    .await?;
                line.rapport += started.elapsed();
                ensure_ok(&results)?;
                done += n;
            }
            line.count += per_round;
        }
        report(&line);
        lines.push(line);

        // Single inserts: one record per call / per transaction.
        let mut line = BenchLine {
            name: "single insert".into(),
            count: 0,
            rapport: Duration::ZERO,
            baseline: Duration::ZERO,
        };
        let mut ids = Vec::new();
        for _ in 0..rounds {
            let n = options.single_inserts / rounds;
            for _ in 0..n {
                let rows = self.baseline_rows(&owner, 1, &mut serial).await?;
                let started = Instant::now();
                self.store().baseline_insert_accounts(&rows).await?;
                line.baseline += started.elapsed();
                ids.extend(rows.into_iter().map(|r| r.id));
                serial += 1;
                let started = Instant::now();
                self.create(caller, "Account", account_input(serial))
                    .await?;
                line.rapport += started.elapsed();
            }
            line.count += n;
        }
        report(&line);
        lines.push(line);

        // Reads by id of the same fields, alternating over the records just written.
        let fields: Vec<String> = [
            "Id",
            "OwnerId",
            "IsDeleted",
            "CreatedDate",
            "CreatedById",
            "LastModifiedDate",
            "LastModifiedById",
            "SystemModstamp",
            "Name",
            "Industry",
            "Phone",
        ]
        .iter()
        .map(|f| f.to_string())
        .collect();
        let mut line = BenchLine {
            name: "read by id (11 fields)".into(),
            count: 0,
            rapport: Duration::ZERO,
            baseline: Duration::ZERO,
        };
        if !ids.is_empty() {
            for _ in 0..rounds {
                let n = options.reads / rounds;
                let started = Instant::now();
                for i in 0..n {
                    let id = &ids[(i as usize) % ids.len()];
                    if !self.store().baseline_read_account(id).await? {
                        return Err(AppError::one(
                            ErrorCode::NotFound,
                            format!("baseline lost {id}"),
                        ));
                    }
                }
                line.baseline += started.elapsed();
                let started = Instant::now();
                for i in 0..n {
                    let id = &ids[(i as usize) % ids.len()];
                    self.get(caller, "Account", &id.to_18(), Some(&fields))
                        .await?;
                }
                line.rapport += started.elapsed();
                line.count += n;
            }
        }
        report(&line);
        lines.push(line);
        Ok(lines)
    }

    async fn baseline_rows(
        &self,
        owner: &RecordId,
        n: u64,
        serial: &mut u64,
    ) -> Result<Vec<BaselineAccount>> {
        let numbers = self.store().reserve_record_numbers(n).await?;
        let at = model::value::now_millis();
        let mut rows = Vec::with_capacity(n as usize);
        for number in numbers {
            let id = RecordId::from_number("001", number).ok_or_else(|| {
                AppError::one(ErrorCode::UnknownException, "record numbers exhausted")
            })?;
            *serial += 1;
            rows.push(BaselineAccount {
                id,
                owner: owner.clone(),
                at,
                name: format!("Baseline Account {serial}"),
                industry: "Technology".into(),
                phone: format!("+86 21 {serial:08}"),
            });
        }
        Ok(rows)
    }
}

fn ensure_ok(results: &[crate::RecordResult]) -> Result<()> {
    match results.iter().find_map(|r| r.as_ref().err()) {
        Some(errors) => Err(AppError::Rejected(errors.clone())),
        None => Ok(()),
    }
}
