//! Migrations of Rapport's own tables, and the first load of the standard catalogue. Runs at
//! every start; each step runs once, in a transaction, recorded in `rapport_migration`.

use model::catalogue::Catalogue;

use crate::backend::Store;
use crate::sql::{Col, Dialect};
use crate::{Result, StoreError, ddl, metadata};

/// The system tables. The SQL is the subset both backends read the same way.
const SYSTEM_TABLES: &str = "
CREATE TABLE rapport_migration (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
CREATE TABLE rapport_setting (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO rapport_setting (name, value) VALUES ('schema_version', '1');
INSERT INTO rapport_setting (name, value) VALUES ('security_version', '1');
CREATE TABLE rapport_sequence (name TEXT PRIMARY KEY, next_value BIGINT NOT NULL);
INSERT INTO rapport_sequence (name, next_value) VALUES ('record', 1);
CREATE TABLE rapport_object (
    api_name TEXT PRIMARY KEY, position BIGINT NOT NULL, key_prefix TEXT NOT NULL,
    label_en TEXT NOT NULL, plural_en TEXT NOT NULL, label_zh TEXT NOT NULL, plural_zh TEXT NOT NULL,
    custom BIGINT NOT NULL, owned BIGINT NOT NULL, createable BIGINT NOT NULL, deletable BIGINT NOT NULL,
    history TEXT, history_parent TEXT);
CREATE TABLE rapport_field (
    object TEXT NOT NULL, api_name TEXT NOT NULL, position BIGINT NOT NULL, field_type TEXT NOT NULL,
    label_en TEXT NOT NULL, label_zh TEXT NOT NULL, length BIGINT, precision_digits BIGINT, scale BIGINT,
    required BIGINT NOT NULL, is_unique BIGINT NOT NULL, external_id BIGINT NOT NULL, default_value TEXT,
    reference_to TEXT, relationship TEXT, child_relationship TEXT, cascade_delete BIGINT NOT NULL,
    value_set TEXT, restricted BIGINT NOT NULL, readonly BIGINT NOT NULL, create_only BIGINT NOT NULL,
    tracked BIGINT NOT NULL, name_field BIGINT NOT NULL, custom BIGINT NOT NULL, autonumber_format TEXT,
    PRIMARY KEY (object, api_name));
CREATE TABLE rapport_picklist_value (
    value_set TEXT NOT NULL, value TEXT NOT NULL, position BIGINT NOT NULL,
    label_en TEXT NOT NULL, label_zh TEXT NOT NULL, is_default BIGINT NOT NULL, active BIGINT NOT NULL,
    probability BIGINT, forecast_category TEXT, closed BIGINT NOT NULL, won BIGINT NOT NULL,
    converted BIGINT NOT NULL, responded BIGINT NOT NULL,
    PRIMARY KEY (value_set, value));
CREATE TABLE rapport_recycle_bin (
    record_id TEXT PRIMARY KEY, object TEXT NOT NULL, root_id TEXT NOT NULL,
    deleted_by TEXT, deleted_at TEXT NOT NULL);
CREATE INDEX ix_recycle_bin_root ON rapport_recycle_bin (root_id);
CREATE INDEX ix_recycle_bin_deleted_at ON rapport_recycle_bin (deleted_at);
CREATE TABLE rapport_credential (user_id TEXT PRIMARY KEY, password_hash TEXT NOT NULL);
CREATE TABLE rapport_token (
    token_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT NOT NULL, client_id TEXT,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL, revoked BIGINT NOT NULL);
CREATE TABLE rapport_client_app (
    client_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL,
    run_as_user_id TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX ix_token_user ON rapport_token (user_id);
CREATE TABLE rapport_autonumber (object TEXT NOT NULL, field TEXT NOT NULL, next_value BIGINT NOT NULL,
    PRIMARY KEY (object, field))
";

enum Step {
    Sql(&'static str),
    /// A script for SQLite and one for PostgreSQL.
    PerDialect(&'static str, &'static str),
    /// Statements for SQLite and for PostgreSQL, each run whole (trigger bodies hold `;`).
    Statements(&'static [&'static str], &'static [&'static str]),
    /// Loads the standard catalogue: metadata rows and one table per object.
    StandardCatalogue,
    /// Creates and fills the full-text index of every searchable object (databases made
    /// before it existed; a new database gets the index tables with the objects' tables).
    SearchIndex,
    /// Drops the recycle bin's records and converted leads from the search index (it once
    /// kept them).
    LiveSearchIndex,
    /// Remakes optional lookups' indexes without their NULLs (`ddl::partial_lookup`).
    PartialLookupIndexes,
    /// Adds the `LOWER(name)` indexes and (PostgreSQL) the `LOWER(column)` statistics
    /// (databases made before they existed).
    LowerIndexes,
    OwnerNameIndexes,
    /// Stores every defined picklist value in its defined case (filters compare them as
    /// stored: `store::query`).
    CanonicalPicklists,
    /// Adds the standard objects a newer catalogue has and the database lacks (their
    /// metadata rows and tables).
    NewStandardObjects,
    /// Adds the indexes list views sort date fields by (databases made before them).
    OrderIndexes,
    /// Adds the fields a newer catalogue gives standard objects the database already has
    /// (their metadata rows and columns).
    NewStandardFields,
    /// Drops every share table and moves the sharing version: the rows are rebuilt in the
    /// new shape (marked owned or not), and reads use the conditions until they are.
    RebuiltShareRows,
    /// Adds each object's index of its recycle bin (`ddl::create_recycle_bin_index`).
    RecycleBinIndexes,
    /// Counts each object's records by picklist value and installs the triggers that keep
    /// the counts (`tally`).
    Tallies,
}

const LOGIN_TABLES: &str = "
CREATE TABLE rapport_login_history (login TEXT NOT NULL, user_id TEXT, at TEXT NOT NULL,
    source TEXT NOT NULL, method TEXT NOT NULL, result TEXT NOT NULL);
CREATE INDEX ix_rapport_login_history_user ON rapport_login_history (user_id, at);
CREATE TABLE rapport_login_failure (user_id TEXT PRIMARY KEY, failures BIGINT NOT NULL,
    locked_until TEXT)
";

const WEB_SESSION_TABLE: &str = "
CREATE TABLE rapport_web_session (session_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL, created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL,
    ended BIGINT NOT NULL, source TEXT NOT NULL);
CREATE INDEX ix_rapport_web_session_user ON rapport_web_session (user_id);
INSERT INTO rapport_setting (name, value) VALUES ('shares:@version', '1')
";

const LIST_VIEW_TABLE: &str = "
CREATE TABLE rapport_list_view (view_id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
    object_name TEXT NOT NULL, name TEXT NOT NULL, params TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX ix_rapport_list_view_user ON rapport_list_view (user_id, object_name)
";

/// The pipeline by owner and stage (the board, the home page's chart, forecasts): one range
/// of this index per owner and stage, in close-date order, and covering for the sums.
const PIPELINE_INDEX: &str = "
CREATE INDEX IF NOT EXISTS px_opportunity_pipeline ON opportunity
    (ownerid, stagename, closedate, isclosed, amount, isdeleted)
";

const RECENT_TABLE: &str = "
CREATE TABLE rapport_recent (user_id TEXT NOT NULL, record_id TEXT NOT NULL,
    object_name TEXT NOT NULL, viewed_at TEXT NOT NULL, PRIMARY KEY (user_id, record_id));
CREATE INDEX ix_rapport_recent_viewed ON rapport_recent (user_id, viewed_at)
";

const LEAD_MAPPING_TABLE: &str = "
CREATE TABLE rapport_lead_mapping (lead_field TEXT PRIMARY KEY, target_object TEXT NOT NULL,
    target_field TEXT NOT NULL)
";

/// The forecast: sums of one quarter by owner and category, from the index alone. SQLite,
/// with the grouping columns first, skip-scans the quarter's range of each (owner, category)
/// with no sort (it needs the table's statistics: `refresh_statistics`); PostgreSQL (before
/// 18, no skip scan) reads the quarter's range of close dates in an index-only scan and
/// hashes the groups.
const FORECAST_INDEX_SQLITE: &str = "
CREATE INDEX IF NOT EXISTS px_opportunity_forecast ON opportunity
    (ownerid, forecastcategoryname, closedate, amount, isdeleted)
";
const FORECAST_INDEX_POSTGRES: &str = "
CREATE INDEX IF NOT EXISTS px_opportunity_forecast ON opportunity
    (closedate) INCLUDE (ownerid, forecastcategoryname, amount, isdeleted)
";

/// The pipeline index again, with the id after the close date: the board's columns (one
/// owner's deals at a stage, soonest to close first, ties by id as keyset paging sorts them)
/// then read their first cards in index order instead of sorting each close date's deals.
const PIPELINE_ORDER_INDEX_SQLITE: &str = "
DROP INDEX IF EXISTS px_opportunity_pipeline;
CREATE INDEX px_opportunity_pipeline ON opportunity
    (ownerid, stagename, closedate, id, isclosed, amount, isdeleted)
";
const PIPELINE_ORDER_INDEX_POSTGRES: &str = "
DROP INDEX IF EXISTS px_opportunity_pipeline;
CREATE INDEX px_opportunity_pipeline ON opportunity
    (ownerid, stagename, closedate NULLS FIRST, id) INCLUDE (isclosed, amount, isdeleted)
";

/// A lead's or contact's campaign memberships go to the recycle bin with them and come back
/// with them, as in Salesforce (the catalogue says so for new orgs).
const MEMBERS_FOLLOW_PEOPLE: &str = "
UPDATE rapport_field SET cascade_delete = 1
    WHERE object = 'CampaignMember' AND api_name IN ('LeadId', 'ContactId')
";

/// Groups hold groups, and records are shared by hand with groups: both lookups point at
/// users or groups (as the catalogue now says for new orgs). A membership is made or
/// removed, never changed, and a group never becomes a queue or back (a queue cannot sit
/// inside a group).
const MEMBERS_MAY_BE_GROUPS: &str = "
UPDATE rapport_field SET reference_to = 'User,Group', label_en = 'User or Group', label_zh = '用户或小组'
    WHERE object IN ('GroupMember', 'RecordShare') AND api_name = 'UserOrGroupId';
UPDATE rapport_field SET create_only = 1
    WHERE (object = 'GroupMember' AND api_name IN ('GroupId', 'UserOrGroupId'))
        OR (object = 'Group' AND api_name = 'Type')
";

/// Who holds each background task's lease (see `lease`).
const LEASE_TABLE: &str = "
CREATE TABLE rapport_lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL)
";

const STEPS: [(i64, &str, Step); 31] = [
    (1, "system tables", Step::Sql(SYSTEM_TABLES)),
    (2, "standard catalogue", Step::StandardCatalogue),
    (3, "search index", Step::SearchIndex),
    (4, "case-insensitive indexes", Step::LowerIndexes),
    (5, "picklist values as defined", Step::CanonicalPicklists),
    (6, "object permissions", Step::NewStandardObjects),
    (7, "field permissions", Step::NewStandardObjects),
    (8, "login history and lockout", Step::Sql(LOGIN_TABLES)),
    (9, "group members", Step::NewStandardObjects),
    (10, "record shares", Step::NewStandardObjects),
    (11, "web sessions", Step::Sql(WEB_SESSION_TABLE)),
    (12, "date order indexes", Step::OrderIndexes),
    (13, "forecasting quotas", Step::NewStandardObjects),
    (14, "saved list views", Step::Sql(LIST_VIEW_TABLE)),
    (15, "pipeline index", Step::Sql(PIPELINE_INDEX)),
    (16, "owner and name indexes", Step::OwnerNameIndexes),
    (17, "recently viewed records", Step::Sql(RECENT_TABLE)),
    (18, "merged records' master", Step::NewStandardFields),
    (19, "lead field mappings", Step::Sql(LEAD_MAPPING_TABLE)),
    (20, "campaign member statuses", Step::NewStandardObjects),
    (
        21,
        "forecast index",
        Step::PerDialect(FORECAST_INDEX_SQLITE, FORECAST_INDEX_POSTGRES),
    ),
    (
        22,
        "pipeline summary",
        Step::Statements(crate::pipeline::SQLITE, crate::pipeline::POSTGRES),
    ),
    (
        23,
        "pipeline index in board order",
        Step::PerDialect(PIPELINE_ORDER_INDEX_SQLITE, PIPELINE_ORDER_INDEX_POSTGRES),
    ),
    (
        24,
        "memberships deleted with their person",
        Step::Sql(MEMBERS_FOLLOW_PEOPLE),
    ),
    (25, "background task leases", Step::Sql(LEASE_TABLE)),
    (26, "groups in groups", Step::Sql(MEMBERS_MAY_BE_GROUPS)),
    (
        27,
        "search index of searched records",
        Step::LiveSearchIndex,
    ),
    (
        28,
        "lookup indexes without nulls",
        Step::PartialLookupIndexes,
    ),
    (29, "share rows marked owned", Step::RebuiltShareRows),
    (30, "recycle bin indexes", Step::RecycleBinIndexes),
    (31, "picklist value tallies", Step::Tallies),
];

/// Serialises a startup task across processes starting together on one database, for the
/// rest of `tx`: PostgreSQL's advisory lock; SQLite's write transaction already does.
pub async fn lock_startup_task(tx: &mut crate::Tx) -> Result<()> {
    if tx.dialect() == Dialect::Postgres {
        let mut lock = tx.sql();
        lock.push("SELECT pg_advisory_xact_lock(7411008)");
        tx.execute(lock).await?;
    }
    Ok(())
}

impl Store {
    /// Brings the planner's statistics up to date where they are missing or stale (SQLite
    /// plans some queries, such as the forecast's skip-scan, only with them; PostgreSQL's
    /// autovacuum keeps its own, but a bulk load should not wait for it, and its index-only
    /// scans need the visibility map a VACUUM sets). Bounded on SQLite: it samples at most a
    /// few hundred rows per index.
    pub async fn refresh_statistics(&self) -> Result<()> {
        match self.dialect() {
            Dialect::Sqlite => {
                let mut tx = self.begin().await?;
                self.execute_script(
                    &mut tx,
                    "PRAGMA analysis_limit = 400; PRAGMA optimize = 0x10002",
                )
                .await?;
                tx.commit().await
            }
            // VACUUM cannot run inside a transaction.
            Dialect::Postgres => {
                // A bulk load leaves a change row per deal in the pipeline summary: fold
                // them, and rewrite the file their dead versions leave.
                self.compact_summaries().await?;
                let mut compact = self.sql();
                // (Writers of every object with a picklist wait the moment it takes.)
                compact.push("VACUUM FULL rapport_pipeline, rapport_tally");
                self.execute(compact).await?;
                let mut sql = self.sql();
                sql.push("VACUUM (ANALYZE)");
                self.execute(sql).await.map(drop)
            }
        }
    }

    /// Brings the database up to date. Safe to call from several processes at once: on
    /// PostgreSQL an advisory lock serialises them, on SQLite the write lock does.
    pub async fn migrate(&self) -> Result<()> {
        // A binary older than the database would write what the newer schema refuses or
        // misreads (share rows without their flags, say): it stops here instead.
        let known = STEPS
            .iter()
            .map(|(version, _, _)| *version)
            .max()
            .unwrap_or(0);
        let mut tx = self.begin().await?;
        let newest = newest_applied(&mut tx).await?;
        drop(tx);
        if newest > known {
            return Err(StoreError::Corrupt(format!(
                "this database was migrated by a newer Rapport (migration {newest}; this \
                 binary knows up to {known}): run that version or a newer one"
            )));
        }
        for (version, name, step) in STEPS {
            let mut tx = self.begin().await?;
            if tx.dialect() == Dialect::Postgres {
                let mut lock = tx.sql();
                lock.push("SELECT pg_advisory_xact_lock(7411007)");
                tx.execute(lock).await?;
            }
            if applied(&mut tx, version).await? {
                continue;
            }
            match step {
                Step::Sql(script) => self.execute_script(&mut tx, script).await?,
                Step::PerDialect(sqlite, postgres) => {
                    let script = match tx.dialect() {
                        Dialect::Sqlite => sqlite,
                        Dialect::Postgres => postgres,
                    };
                    self.execute_script(&mut tx, script).await?;
                }
                Step::Statements(sqlite, postgres) => {
                    let statements = match tx.dialect() {
                        Dialect::Sqlite => sqlite,
                        Dialect::Postgres => postgres,
                    };
                    for statement in statements {
                        let mut sql = tx.sql();
                        sql.push(statement);
                        tx.execute(sql).await?;
                    }
                }
                Step::StandardCatalogue => {
                    let catalogue =
                        Catalogue::standard().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    for (name, values) in &catalogue.value_sets {
                        metadata::write_value_set(&mut tx, name, values).await?;
                    }
                    for (position, object) in catalogue.objects.iter().enumerate() {
                        metadata::write_object(&mut tx, object, position as i64).await?;
                        ddl::create_table(&mut tx, object).await?;
                    }
                }
                Step::SearchIndex => {
                    let schema = self.load_schema().await?;
                    for object in &schema.objects {
                        crate::search::create_index(&mut tx, object).await?;
                        crate::search::rebuild(&mut tx, object).await?;
                    }
                }
                Step::PartialLookupIndexes => {
                    let schema = self.load_schema().await?;
                    for object in &schema.objects {
                        for field in &object.fields {
                            ddl::remake_lookup_index(&mut tx, object, field).await?;
                        }
                    }
                }
                Step::RebuiltShareRows => {
                    let schema = self.load_schema().await?;
                    for object in &schema.objects {
                        crate::shares::drop_table(&mut tx, object).await?;
                    }
                    crate::auth::bump_sharing_version_in(&mut tx).await?;
                }
                Step::LiveSearchIndex => {
                    let schema = self.load_schema().await?;
                    for object in &schema.objects {
                        crate::search::remove_unsearched(&mut tx, object).await?;
                    }
                }
                Step::NewStandardObjects => {
                    let schema = self.load_schema().await?;
                    let catalogue =
                        Catalogue::standard().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    for object in &catalogue.objects {
                        if schema.object(&object.name).is_some() {
                            continue;
                        }
                        let position = metadata::next_object_position(&mut tx).await?;
                        metadata::write_object(&mut tx, object, position).await?;
                        ddl::create_table(&mut tx, object).await?;
                    }
                }
                Step::NewStandardFields => {
                    let schema = self.load_schema().await?;
                    let catalogue =
                        Catalogue::standard().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    for wanted in &catalogue.objects {
                        let Some(stored) = schema.object(&wanted.name) else {
                            continue;
                        };
                        // The object as the fields added so far leave it: what follows a
                        // column (its tally's triggers) is written for all of them.
                        let mut stored = model::ObjectDef::clone(stored);
                        for field in &wanted.fields {
                            if stored.field(&field.name).is_some() {
                                continue;
                            }
                            let position =
                                metadata::next_field_position(&mut tx, &stored.name).await?;
                            metadata::write_field(&mut tx, &stored.name, field, position).await?;
                            ddl::add_column(&mut tx, &stored, field).await?;
                            stored.fields.push(field.clone());
                            stored.reindex();
                        }
                    }
                }
                Step::CanonicalPicklists => {
                    let schema = self.load_schema().await?;
                    let at = model::value::now_millis();
                    for object in &schema.objects {
                        for field in &object.fields {
                            if field.field_type != model::FieldType::Picklist {
                                continue;
                            }
                            let values: Vec<String> =
                                field.values.iter().map(|v| v.value.clone()).collect();
                            crate::records::canonicalize_picklist(
                                &mut tx, object, field, &values, at,
                            )
                            .await?;
                        }
                    }
                }
                Step::OrderIndexes => {
                    let schema = self.load_schema().await?;
                    for object in &schema.objects {
                        for field in &object.fields {
                            ddl::create_order_index(&mut tx, object, field).await?;
                        }
                    }
                }
                Step::RecycleBinIndexes => {
                    let schema = self.load_schema().await?;
                    for object in &schema.objects {
                        ddl::create_recycle_bin_index(&mut tx, object).await?;
                    }
                }
                Step::Tallies => {
                    let schema = self.load_schema().await?;
                    for object in &schema.objects {
                        crate::tally::install(&mut tx, object).await?;
                    }
                }
                Step::OwnerNameIndexes => {
                    let schema = self.load_schema().await?;
                    for object in &schema.objects {
                        ddl::create_owner_name_index(&mut tx, object).await?;
                    }
                }
                Step::LowerIndexes => {
                    let schema = self.load_schema().await?;
                    for object in &schema.objects {
                        for field in &object.fields {
                            if field.name_field
                                && crate::sql::Col::of(field) == crate::sql::Col::Text
                            {
                                ddl::create_lower_index(&mut tx, object, field).await?;
                            } else {
                                ddl::create_lower_statistics(&mut tx, object, field).await?;
                            }
                        }
                    }
                }
            }
            let mut record = tx.sql();
            record
                .push("INSERT INTO rapport_migration (version, name, applied_at) VALUES (")
                .int_param(version)
                .push(", ")
                .text_param(name)
                .push(", ")
                .text_param(&model::value::format_datetime(model::value::now_millis()))
                .push(")");
            tx.execute(record).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

/// The newest migration applied to the database (0 for a new one).
async fn newest_applied(tx: &mut crate::Tx) -> Result<i64> {
    if !has_migration_table(tx).await? {
        return Ok(0);
    }
    let mut newest = tx.sql();
    newest.push("SELECT COALESCE(MAX(version), 0) FROM rapport_migration");
    let rows = tx.fetch(newest, &[Col::Int]).await?;
    Ok(metadata::int_at(&rows, 0))
}

async fn has_migration_table(tx: &mut crate::Tx) -> Result<bool> {
    let mut exists = tx.sql();
    exists.push(match tx.dialect() {
        Dialect::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'rapport_migration'",
        Dialect::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'rapport_migration'"
        }
    });
    let rows = tx.fetch(exists, &[Col::Int]).await?;
    Ok(metadata::int_at(&rows, 0) > 0)
}

async fn applied(tx: &mut crate::Tx, version: i64) -> Result<bool> {
    if !has_migration_table(tx).await? {
        return Ok(false);
    }
    let mut done = tx.sql();
    done.push("SELECT COUNT(*) FROM rapport_migration WHERE version = ")
        .int_param(version);
    let rows = tx.fetch(done, &[Col::Int]).await?;
    Ok(metadata::int_at(&rows, 0) > 0)
}
