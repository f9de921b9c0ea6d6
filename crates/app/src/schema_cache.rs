//! The process's copy of the schema, swapped atomically and refreshed when the database's
//! schema version moves (another process changed metadata); and the security version, which
//! moves when a token is revoked or a user changes, so cached tokens are dropped.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use model::Schema;
use store::Store;

use crate::Result;

/// How stale a process's view may be: changes made elsewhere are seen within this time.
pub(crate) const CHECK_EVERY: Duration = Duration::from_millis(250);

pub(crate) struct SchemaCache {
    current: RwLock<(Arc<Schema>, Instant)>,
    security_version: AtomicI64,
    reload: tokio::sync::Mutex<()>,
}

impl SchemaCache {
    pub fn new(schema: Schema) -> SchemaCache {
        SchemaCache {
            current: RwLock::new((Arc::new(schema), Instant::now())),
            security_version: AtomicI64::new(0),
            reload: tokio::sync::Mutex::new(()),
        }
    }

    fn snapshot(&self) -> (Arc<Schema>, Instant) {
        let guard = match self.current.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        (guard.0.clone(), guard.1)
    }

    fn replace(&self, schema: Arc<Schema>) {
        let mut guard = match self.current.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = (schema, Instant::now());
    }

    /// The security version last read from the database.
    pub fn security_version(&self) -> i64 {
        self.security_version.load(Ordering::Acquire)
    }

    pub async fn current(&self, store: &Store) -> Result<Arc<Schema>> {
        let (schema, checked) = self.snapshot();
        if checked.elapsed() < CHECK_EVERY {
            return Ok(schema);
        }
        let _one_at_a_time = self.reload.lock().await;
        let (schema, checked) = self.snapshot();
        if checked.elapsed() < CHECK_EVERY {
            return Ok(schema);
        }
        let (schema_version, security_version) = store.versions().await?;
        self.security_version
            .store(security_version, Ordering::Release);
        if schema_version == schema.version {
            self.replace(schema.clone());
            return Ok(schema);
        }
        let fresh = Arc::new(store.load_schema().await?);
        self.replace(fresh.clone());
        Ok(fresh)
    }

    pub async fn reload(&self, store: &Store) -> Result<Arc<Schema>> {
        let _one_at_a_time = self.reload.lock().await;
        let fresh = Arc::new(store.load_schema().await?);
        self.replace(fresh.clone());
        Ok(fresh)
    }

    /// Reads the security version now (after this process changed it).
    pub async fn refresh_security(&self, store: &Store) -> Result<()> {
        let (_, security_version) = store.versions().await?;
        self.security_version
            .store(security_version, Ordering::Release);
        Ok(())
    }
}
