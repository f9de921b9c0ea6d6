//! Rapport's use cases. Every read and write from the web layer and the CLI goes through an
//! [`App`]: record operations, setup (metadata), users and tokens, seeding and benchmarks.
#![forbid(unsafe_code)]

pub mod access;
pub mod auth;
pub mod bench;
pub mod bench_convert;
pub mod bench_query;
mod campaigns;
mod combine;
pub mod convert;
pub mod dates;
pub mod derive;
pub mod error;
pub mod forecast;
mod groups;
mod keyset;
pub mod lead_map;
pub mod logins;
pub mod merge;
pub mod org;
pub mod products;
pub mod query;
pub mod recent;
pub mod records;
pub(crate) mod recycle;
mod rollup;
pub(crate) mod sales;
pub mod search;
pub mod seed;
mod seed_sales;
pub mod sessions;
pub mod setup;
pub mod shares;
pub mod sharing;
pub mod sync;
pub mod transfer;
pub mod upsert;
pub mod users;
pub mod views;
pub mod work;

mod schema_cache;

use std::sync::Arc;

use model::{Lang, RecordId, Schema};
use store::Store;

pub use error::{AppError, Result};
pub use records::{Record, RecordResult, WriteOptions};
pub use store::{Filter, Op, redact_url, split_password};

/// Who a use case runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user; `None` for the system itself (migrations, seeding before any user exists).
    pub user_id: Option<RecordId>,
    pub lang: Lang,
    /// The user's IANA time zone (`Asia/Shanghai`): SOQL's TODAY is today there. `None`: the
    /// org's.
    pub time_zone: Option<String>,
}

impl Caller {
    pub fn system() -> Caller {
        Caller {
            user_id: None,
            lang: Lang::En,
            time_zone: None,
        }
    }

    pub fn user(user_id: RecordId, lang: Lang) -> Caller {
        Caller {
            user_id: Some(user_id),
            lang,
            time_zone: None,
        }
    }

    /// The same caller in a time zone.
    pub fn in_time_zone(mut self, time_zone: Option<String>) -> Caller {
        self.time_zone = time_zone;
        self
    }
}

/// The application: one database and its current schema. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Store,
    schema: Arc<schema_cache::SchemaCache>,
    /// Tokens already checked.
    tokens: Arc<auth::TokenCache>,
    /// Single-record creates and updates waiting for a group commit.
    creates: Arc<combine::Queue<records::RecordInput>>,
    updates: Arc<combine::Queue<records::Update>>,
    /// Serialises metadata changes made by this process (DDL must not interleave).
    setup_lock: Arc<tokio::sync::Mutex<()>>,
    /// What each user may do, per security version (see `access`).
    access: Arc<access::AccessCache>,
    /// The org's settings as last read, and when (see `App::org_settings`).
    org: Arc<std::sync::Mutex<Option<(std::time::Instant, org::OrgSettings)>>>,
    /// Share rows: the graph they are computed from and which objects' rows are current.
    shares: Arc<shares::SharesState>,
}

impl App {
    /// Folds the change rows of the summaries the database keeps (the pipeline's and the
    /// picklist tallies, on PostgreSQL), so that reading them stays a read of a few rows.
    /// The server runs it every few seconds; it is safe beside any writer.
    pub async fn compact_summaries(&self) -> Result<()> {
        self.store.compact_summaries().await?;
        Ok(())
    }

    /// Opens a database, creating or migrating it, and loads its schema.
    pub async fn open(url: &str) -> Result<App> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        if store.dialect() == store::Dialect::Sqlite {
            store.refresh_statistics().await?;
        }
        // Writes made with no server running (the CLI) leave change rows too.
        store.compact_summaries().await?;
        let schema = store.load_schema().await?;
        let app = App {
            store,
            schema: Arc::new(schema_cache::SchemaCache::new(schema)),
            tokens: Arc::new(auth::TokenCache::default()),
            creates: Arc::new(combine::Queue::default()),
            updates: Arc::new(combine::Queue::default()),
            setup_lock: Arc::new(tokio::sync::Mutex::new(())),
            org: Arc::default(),
            access: Arc::default(),
            shares: Arc::default(),
        };
        org::ensure_seeded(&app).await?;
        app.ensure_standard_price_book().await?;
        app.ensure_campaign_statuses().await?;
        access::ensure_object_permissions(&app).await?;
        Ok(app)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The current schema. At most every few hundred milliseconds it checks the database's
    /// schema version and reloads when another process changed metadata.
    pub async fn schema(&self) -> Result<Arc<Schema>> {
        self.schema.current(&self.store).await
    }

    /// Reloads the schema now (after this process changed metadata).
    pub(crate) async fn reload_schema(&self) -> Result<Arc<Schema>> {
        self.schema.reload(&self.store).await
    }

    pub async fn close(&self) {
        self.store.close().await;
    }
}
