/// What went wrong in the database, classified where callers act on the difference.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique index refused a value. `detail` is the index name (PostgreSQL) or the message
    /// naming `table.column` (SQLite); [`StoreError::is_duplicate_of`] interprets it.
    #[error("duplicate value: {detail}")]
    Duplicate { detail: String },
    /// The URL does not name a database Rapport can use.
    #[error("unsupported database URL {0}: use sqlite://FILE or postgres://…")]
    UnsupportedUrl(String),
    /// A plan names a field the object does not have (a bug in the caller, which resolves
    /// names against the same schema first).
    #[error("no such field {0}")]
    UnknownField(String),
    /// The database stayed busy with other writers for too long.
    #[error("the database is busy: another write held it too long")]
    Busy,
    /// Stored data that Rapport cannot read back (a bug or a hand edit).
    #[error("unreadable stored data: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(sqlx::Error),
}

impl StoreError {
    /// Whether a lock was not granted within the transaction's lock timeout (PostgreSQL's
    /// `lock_not_available`; see `shares::wait_for_locks_at_most`).
    pub fn is_lock_timeout(&self) -> bool {
        match self {
            StoreError::Database(error) => error
                .as_database_error()
                .and_then(|db| db.code())
                .is_some_and(|code| code == "55P03"),
            _ => false,
        }
    }

    /// Whether this is a unique violation on `table.column`.
    pub fn is_duplicate_of(&self, table: &str, column: &str) -> bool {
        match self {
            StoreError::Duplicate { detail } => {
                detail == &unique_index_name(table, column)
                    || detail.contains(&format!("{table}.{column}"))
            }
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> StoreError {
        if let Some(db) = error.as_database_error()
            && db.is_unique_violation()
        {
            let detail = db
                .constraint()
                .map(str::to_string)
                .unwrap_or_else(|| db.message().to_string());
            return StoreError::Duplicate { detail };
        }
        StoreError::Database(error)
    }
}

/// The name of the unique index on `table.column`.
pub(crate) fn unique_index_name(table: &str, column: &str) -> String {
    index_name("ux", table, column)
}

/// `<kind>_<table>_<column>`, or, past PostgreSQL's 63-byte identifier limit (which would
/// silently truncate it and make two long names collide), `<kind>_` and a hash of both.
pub(crate) fn index_name(kind: &str, table: &str, column: &str) -> String {
    let name = format!("{kind}_{table}_{column}");
    if name.len() <= 63 {
        return name;
    }
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{kind}_{}_{hash:016x}", &table[..table.len().min(24)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_attributed_on_both_backends() {
        let pg = StoreError::Duplicate {
            detail: unique_index_name("project__c", "code__c"),
        };
        assert!(pg.is_duplicate_of("project__c", "code__c"));
        assert!(!pg.is_duplicate_of("project__c", "name"));
        let sqlite = StoreError::Duplicate {
            detail: "UNIQUE constraint failed: account.ext__c".into(),
        };
        assert!(sqlite.is_duplicate_of("account", "ext__c"));
    }
}
