//! Connections, transactions and the two places where parameters are bound and rows decoded,
//! one per backend.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use rust_decimal::Decimal;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, PgPool, Postgres, Row, Sqlite, SqlitePool, Transaction};
use tokio::sync::OwnedMutexGuard;

use model::{RecordId, Value};

use crate::Result;
use crate::error::StoreError;
use crate::ids::IdAllocator;
use crate::sql::{Col, Dialect, Param, Sql, sqlite_text};

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A borrowed pool, for the hand-written benchmark baselines.
pub(crate) enum PoolRef<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

/// A handle on one database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    url: Arc<str>,
    /// The schema version statements are tagged with (see [`Store::tag`]).
    schema_version: Arc<AtomicI64>,
    pub(crate) ids: Arc<IdAllocator>,
    /// Serialises this process's SQLite write transactions (see [`Store::begin`]).
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.dialect())
            .finish_non_exhaustive()
    }
}

/// Run on each new PostgreSQL connection. Rapport's reads are mostly a page of rows, and
/// starting parallel workers took 12–15 ms on the 2-core benchmark machine, which the
/// planner's default cost (1000) undervalues: it chose a parallel plan for a rep's filtered
/// list that ran in 20.7 ms against 8.9 ms without workers. 4000 keeps workers for scans of
/// hundreds of thousands of rows (counts, reports), where they pay. Only a server default is
/// replaced: a value the operator set (configuration file, `ALTER DATABASE`/`ALTER ROLE …
/// SET`, the URL's `options`) stands. A `SET` rather than a startup option, so connection
/// poolers accept it.
const TUNE_PARALLEL_SETUP: &str = "SELECT set_config('parallel_setup_cost', '4000', false) \
    FROM pg_settings WHERE name = 'parallel_setup_cost' AND source = 'default'";

/// Each SQLite connection's page cache, in KiB (negative, as the pragma takes it): 64 MiB,
/// filled only as pages are read. SQLite's default of 2 MiB holds 500 pages, fewer than one
/// filtered list of a large org touches (a rep's 200 Energy accounts read ~1,400 rows), so
/// every query re-read its pages from the operating system.
const SQLITE_CACHE_SIZE: &str = "-65536";

/// How much of a SQLite file each connection reads through a memory map instead of `read()`
/// into its own page cache: 2 GiB, the most the bundled SQLite maps. The pool's eight
/// connections then share the operating system's cache of the file instead of each warming a
/// copy of its own, so a query's cost no longer depends on which connection it lands on
/// (pages still in the WAL are read as before). The cost: a failing disk, or another program
/// truncating the file, stops the process (SIGBUS) instead of failing one statement.
const SQLITE_MMAP_SIZE: &str = "2147418112";

/// How many rows a SQLite connection's thread may run ahead of the task reading them. sqlx
/// hands each row across threads through a channel of 50 by default; when it fills, the
/// SQLite thread sleeps until the reader drains it, and every page of 200 rows paid several
/// of those round trips. A channel as long as the longest page (2,000 rows, plus the one
/// that says there is more) lets a page's statement run to its end in one go. It holds only
/// the rows not yet read.
const SQLITE_ROW_CHANNEL: usize = 2001;

/// How long opening a SQLite file waits for other processes, as the busy timeout does.
const SQLITE_OPEN_PATIENCE: Duration = Duration::from_secs(10);

/// Opens the pool, retrying while the file is locked. The first connection to a new file
/// switches it to WAL, which needs the file to itself; when several processes start together
/// SQLite answers the losers `SQLITE_BUSY` at once, without calling the busy handler (the
/// switch runs inside a read transaction, and SQLite never waits there, to avoid deadlock).
/// Once the file is in WAL mode the switch is a no-op, so only opening needs this.
async fn open_sqlite(options: SqliteConnectOptions) -> Result<SqlitePool> {
    let deadline = tokio::time::Instant::now() + SQLITE_OPEN_PATIENCE;
    loop {
        match SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await
        {
            Err(e) if is_sqlite_busy(&e) && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            opened => return Ok(opened?),
        }
    }
}

/// SQLITE_BUSY, or one of its extended codes (the primary code is the low byte).
fn is_sqlite_busy(error: &sqlx::Error) -> bool {
    const SQLITE_BUSY: i64 = 5;
    match error {
        sqlx::Error::Database(e) => e
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            .is_some_and(|code| code & 0xff == SQLITE_BUSY),
        _ => false,
    }
}

impl Store {
    /// Opens `sqlite://FILE` (created if missing; WAL, foreign keys, busy timeout) or
    /// `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_OPEN_PATIENCE)
                .pragma("cache_size", SQLITE_CACHE_SIZE)
                .pragma("mmap_size", SQLITE_MMAP_SIZE)
                .row_buffer_size(SQLITE_ROW_CHANNEL);
            Pool::Sqlite(open_sqlite(options).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(10)
                    .after_connect(|connection, _| {
                        Box::pin(async move {
                            sqlx::query(TUNE_PARALLEL_SETUP)
                                .execute(connection)
                                .await
                                .map(drop)
                        })
                    })
                    .connect_with(options)
                    .await?,
            )
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        Ok(Store {
            pool,
            url: Arc::from(url),
            schema_version: Arc::new(AtomicI64::new(0)),
            ids: Arc::new(IdAllocator::default()),
            writer: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.pool {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new statement for this backend.
    pub fn sql(&self) -> Sql {
        Sql::new(self.dialect())
    }

    /// Records the schema version that statements built from now on are built against.
    pub fn set_schema_version(&self, version: i64) {
        self.schema_version.store(version, Ordering::Release);
    }

    /// Statement text as sent: tagged with the schema version. Both drivers cache prepared
    /// statements by text; after a metadata change (here or in another process) the tag
    /// changes, so a statement prepared against an older table shape is never reused.
    fn tag(&self, sql: &Sql) -> String {
        format!(
            "/*s{}*/ {}",
            self.schema_version.load(Ordering::Acquire),
            sql.text
        )
    }

    /// Starts a transaction that only reads, from one snapshot of the database: on SQLite a
    /// deferred transaction, which takes no write lock (writers go on beside it); on
    /// PostgreSQL a repeatable-read one. A long consistency check runs in one.
    pub async fn begin_snapshot(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => Tx::new(
                Conn::Sqlite(pool.begin_with("BEGIN DEFERRED").await?, self.clone()),
                None,
            ),
            Pool::Postgres(pool) => Tx::new(
                Conn::Postgres(
                    pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ")
                        .await?,
                    self.clone(),
                ),
                None,
            ),
        })
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so a transaction that reads then writes cannot fail half-way on a lock.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => {
                // One writer at a time within the process, queued on an async lock: SQLite
                // allows one writer anyway, and its own busy handler waits by sleeping and
                // polling, which under load costs far more than an orderly queue.
                let writer = tokio::time::timeout(WRITER_WAIT, self.writer.clone().lock_owned())
                    .await
                    .map_err(|_| StoreError::Busy)?;
                Tx::new(
                    Conn::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?, self.clone()),
                    Some(writer),
                )
            }
            Pool::Postgres(pool) => {
                Tx::new(Conn::Postgres(pool.begin().await?, self.clone()), None)
            }
        })
    }

    /// Runs a statement outside any transaction; returns the rows affected.
    pub async fn execute(&self, sql: Sql) -> Result<u64> {
        let text = self.tag(&sql);
        Ok(match &self.pool {
            Pool::Sqlite(pool) => sqlite_query(text, sql.params)
                .execute(pool)
                .await?
                .rows_affected(),
            Pool::Postgres(pool) => pg_query(text, sql.params)
                .execute(pool)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a query outside any transaction and decodes each row by `cols`.
    pub async fn fetch(&self, sql: Sql, cols: &[Col]) -> Result<Vec<Vec<Value>>> {
        let text = self.tag(&sql);
        match &self.pool {
            Pool::Sqlite(pool) => {
                let rows = sqlite_query(text, sql.params).fetch_all(pool).await?;
                rows.iter().map(|row| decode_sqlite(row, cols)).collect()
            }
            Pool::Postgres(pool) => {
                let rows = pg_query(text, sql.params).fetch_all(pool).await?;
                rows.iter().map(|row| decode_pg(row, cols)).collect()
            }
        }
    }

    /// Runs a script of fixed statements (migrations), separated by `;`.
    pub(crate) async fn execute_script(&self, tx: &mut Tx, script: &str) -> Result<()> {
        for statement in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let mut sql = self.sql();
            sql.push(statement);
            tx.execute(sql).await?;
        }
        Ok(())
    }

    /// Writes a consistent copy of the database to `path` while others keep using it
    /// (SQLite's `VACUUM INTO`). PostgreSQL databases are backed up with `pg_dump`.
    pub async fn backup_sqlite(&self, path: &str) -> Result<bool> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query("VACUUM INTO ?")
                    .bind(path.to_string())
                    .execute(pool)
                    .await?;
                Ok(true)
            }
            Pool::Postgres(_) => Ok(false),
        }
    }

    pub(crate) fn pool_ref(&self) -> PoolRef<'_> {
        match &self.pool {
            Pool::Sqlite(pool) => PoolRef::Sqlite(pool),
            Pool::Postgres(pool) => PoolRef::Postgres(pool),
        }
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// How long a write waits for the SQLite writer before giving up (a transaction that outlives
/// this is a bug: a nested transaction, or a stuck client).
const WRITER_WAIT: Duration = Duration::from_secs(30);

/// An open write transaction. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    conn: Conn,
    /// On SQLite the process's writer lock, held for the transaction's life (declared after
    /// `conn`, so the transaction ends before the lock is let go).
    _writer: Option<OwnedMutexGuard<()>>,
    /// The sharing version this transaction read (`shares::sharing_version_in`). Once read
    /// it cannot move under the transaction (SQLite's write lock; PostgreSQL's `FOR SHARE`),
    /// only by the transaction's own bump or a rollback to a savepoint, which forget it.
    pub(crate) sharing_version: Option<i64>,
}

enum Conn {
    Sqlite(Transaction<'static, Sqlite>, Store),
    Postgres(Transaction<'static, Postgres>, Store),
}

impl Tx {
    fn new(conn: Conn, writer: Option<OwnedMutexGuard<()>>) -> Tx {
        Tx {
            conn,
            _writer: writer,
            sharing_version: None,
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self.conn {
            Conn::Sqlite(..) => Dialect::Sqlite,
            Conn::Postgres(..) => Dialect::Postgres,
        }
    }

    pub fn sql(&self) -> Sql {
        Sql::new(self.dialect())
    }

    pub fn store(&self) -> &Store {
        match &self.conn {
            Conn::Sqlite(_, store) | Conn::Postgres(_, store) => store,
        }
    }

    pub async fn execute(&mut self, sql: Sql) -> Result<u64> {
        let text = self.store().tag(&sql);
        Ok(match &mut self.conn {
            Conn::Sqlite(tx, _) => sqlite_query(text, sql.params)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            Conn::Postgres(tx, _) => pg_query(text, sql.params)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    pub async fn fetch(&mut self, sql: Sql, cols: &[Col]) -> Result<Vec<Vec<Value>>> {
        let text = self.store().tag(&sql);
        match &mut self.conn {
            Conn::Sqlite(tx, _) => {
                let rows = sqlite_query(text, sql.params).fetch_all(&mut **tx).await?;
                rows.iter().map(|row| decode_sqlite(row, cols)).collect()
            }
            Conn::Postgres(tx, _) => {
                let rows = pg_query(text, sql.params).fetch_all(&mut **tx).await?;
                rows.iter().map(|row| decode_pg(row, cols)).collect()
            }
        }
    }

    /// Marks a point the transaction can return to with [`Tx::rollback_to`].
    pub async fn savepoint(&mut self, name: &str) -> Result<()> {
        let mut sql = self.sql();
        sql.push("SAVEPOINT ").ident(name);
        self.execute(sql).await.map(drop)
    }

    pub async fn rollback_to(&mut self, name: &str) -> Result<()> {
        self.sharing_version = None;
        let mut sql = self.sql();
        sql.push("ROLLBACK TO SAVEPOINT ").ident(name);
        self.execute(sql).await.map(drop)
    }

    pub async fn release(&mut self, name: &str) -> Result<()> {
        let mut sql = self.sql();
        sql.push("RELEASE SAVEPOINT ").ident(name);
        self.execute(sql).await.map(drop)
    }

    pub async fn commit(self) -> Result<()> {
        match self.conn {
            Conn::Sqlite(tx, _) => tx.commit().await?,
            Conn::Postgres(tx, _) => tx.commit().await?,
        }
        Ok(())
    }
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>;
type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn sqlite_query<'q>(text: String, params: Vec<Param>) -> SqliteQuery<'q> {
    let mut query = sqlx::query(AssertSqlSafe(text));
    for param in params {
        query = match param {
            Param::Text(v) => query.bind(v),
            Param::Int(v) => query.bind(v),
            Param::Bool(v) => query.bind(v),
            Param::Decimal(v, scale) => query.bind(v.and_then(|d| scaled_integer(d, scale))),
            Param::Date(v) => query.bind(v.map(sqlite_text::date)),
            Param::DateTime(v) => query.bind(v.map(sqlite_text::datetime)),
        };
    }
    query
}

fn pg_query<'q>(text: String, params: Vec<Param>) -> PgQuery<'q> {
    let mut query = sqlx::query(AssertSqlSafe(text));
    for param in params {
        query = match param {
            Param::Text(v) => query.bind(v),
            Param::Int(v) => query.bind(v),
            Param::Bool(v) => query.bind(v),
            Param::Decimal(v, _) => query.bind(v),
            Param::Date(v) => query.bind(v),
            Param::DateTime(v) => query.bind(v),
        };
    }
    query
}

/// Fixed-point numbers live in SQLite as integers counted in units of 10^-scale, so that
/// sums and sorts are exact.
fn scaled_integer(mut d: Decimal, scale: u8) -> Option<i64> {
    d.rescale(u32::from(scale));
    i64::try_from(d.mantissa()).ok()
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

/// An id read in place from the row (an id is 15 bytes inline: no string is allocated).
fn decode_id(text: Option<&str>) -> Result<Value> {
    match text {
        None => Ok(Value::Null),
        Some(text) => RecordId::parse(text)
            .map(Value::Id)
            .map_err(|e| corrupt("id column", e)),
    }
}

fn decode_sqlite(row: &SqliteRow, cols: &[Col]) -> Result<Vec<Value>> {
    let mut values = Vec::with_capacity(cols.len());
    for (i, col) in cols.iter().enumerate() {
        let value = match col {
            Col::Text => row
                .try_get::<Option<String>, _>(i)?
                .map_or(Value::Null, Value::Text),
            Col::Id => decode_id(row.try_get::<Option<&str>, _>(i)?)?,
            Col::Bool => row
                .try_get::<Option<bool>, _>(i)?
                .map_or(Value::Null, Value::Bool),
            Col::Decimal(scale) => row.try_get::<Option<i64>, _>(i)?.map_or(Value::Null, |n| {
                Value::Decimal(Decimal::new(n, u32::from(*scale)))
            }),
            Col::Int => row
                .try_get::<Option<i64>, _>(i)?
                .map_or(Value::Null, |n| Value::Decimal(Decimal::from(n))),
            Col::Average(scale) => match row.try_get::<Option<f64>, _>(i)? {
                None => Value::Null,
                Some(units) => {
                    use rust_decimal::prelude::FromPrimitive;
                    let value = Decimal::from_f64(units / 10f64.powi(i32::from(*scale)))
                        .unwrap_or_default();
                    Value::Decimal(value.round_dp(u32::from(*scale) + 6))
                }
            },
            Col::Date => match row.try_get::<Option<&str>, _>(i)? {
                None => Value::Null,
                Some(text) => Value::Date(
                    model::value::parse_date(text).ok_or_else(|| corrupt("date column", text))?,
                ),
            },
            Col::DateTime => match row.try_get::<Option<&str>, _>(i)? {
                None => Value::Null,
                Some(text) => Value::DateTime(
                    model::value::parse_datetime(text)
                        .ok_or_else(|| corrupt("datetime column", text))?,
                ),
            },
        };
        values.push(value);
    }
    Ok(values)
}

fn decode_pg(row: &PgRow, cols: &[Col]) -> Result<Vec<Value>> {
    let mut values = Vec::with_capacity(cols.len());
    for (i, col) in cols.iter().enumerate() {
        let value = match col {
            Col::Text => row
                .try_get::<Option<String>, _>(i)?
                .map_or(Value::Null, Value::Text),
            Col::Id => decode_id(row.try_get::<Option<&str>, _>(i)?)?,
            Col::Bool => row
                .try_get::<Option<bool>, _>(i)?
                .map_or(Value::Null, Value::Bool),
            Col::Decimal(_) => row
                .try_get::<Option<Decimal>, _>(i)?
                .map_or(Value::Null, Value::Decimal),
            Col::Int => row
                .try_get::<Option<i64>, _>(i)?
                .map_or(Value::Null, |n| Value::Decimal(Decimal::from(n))),
            Col::Average(scale) => row
                .try_get::<Option<Decimal>, _>(i)?
                .map_or(Value::Null, |d| {
                    Value::Decimal(d.round_dp(u32::from(*scale) + 6))
                }),
            Col::Date => row
                .try_get::<Option<time::Date>, _>(i)?
                .map_or(Value::Null, Value::Date),
            Col::DateTime => row
                .try_get::<Option<time::OffsetDateTime>, _>(i)?
                .map_or(Value::Null, Value::DateTime),
        };
        values.push(value);
    }
    Ok(values)
}

/// A database URL with its password taken out, and the password: for logs, error messages
/// and command lines (where `ps` would show it).
pub fn split_password(url: &str) -> (String, Option<String>) {
    let mut password = None;
    let mut out = url.to_string();
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, tail) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if let Some((credentials, host)) = authority.rsplit_once('@')
            && let Some((user, secret)) = credentials.split_once(':')
        {
            password = Some(secret.to_string());
            out = format!("{scheme}://{user}@{host}{tail}");
        }
    }
    // `?password=…` in the query string.
    if let Some((base, query)) = out.clone().split_once('?') {
        let mut kept = Vec::new();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some((key, value)) if key.eq_ignore_ascii_case("password") => {
                    password = Some(value.to_string())
                }
                _ => kept.push(pair),
            }
        }
        out = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
    }
    (out, password)
}

/// The URL as it may be shown: without its password.
pub fn redact_url(url: &str) -> String {
    split_password(url).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_taken_out_of_urls() {
        assert_eq!(
            split_password("postgres://u:s3cret@db:5432/crm"),
            ("postgres://u@db:5432/crm".into(), Some("s3cret".into()))
        );
        assert_eq!(
            split_password("postgres://u@db/crm?password=x&sslmode=require"),
            (
                "postgres://u@db/crm?sslmode=require".into(),
                Some("x".into())
            )
        );
        assert_eq!(
            split_password("sqlite://rapport.db"),
            ("sqlite://rapport.db".into(), None)
        );
    }
}
