//! The process's copy of the schema, swapped atomically and refreshed when the database's
//! schema version moves (another process changed metadata).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use model::Schema;
use store::Store;

use crate::Result;

/// How stale a process's schema may be: changes made elsewhere are seen within this time.
const CHECK_EVERY: Duration = Duration::from_millis(250);

pub(crate) struct SchemaCache {
    current: RwLock<(Arc<Schema>, Instant)>,
    reload: tokio::sync::Mutex<()>,
}

impl SchemaCache {
    pub fn new(schema: Schema) -> SchemaCache {
        SchemaCache {
            current: RwLock::new((Arc::new(schema), Instant::now())),
            reload: tokio::sync::Mutex::new(()),
        }
    }

    fn snapshot(&self) -> (Arc<Schema>, Instant) {
        match self.current.read() {
            Ok(guard) => (guard.0.clone(), guard.1),
            Err(poisoned) => {
                let guard = poisoned.into_inner();
                (guard.0.clone(), guard.1)
            }
        }
    }

    fn replace(&self, schema: Arc<Schema>) {
        let mut guard = match self.current.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = (schema, Instant::now());
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
        let version = store.schema_version().await?;
        if version == schema.version {
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
}
