//! Leases: a background task that any process may do, done by one at a time. A row names
//! the holder until it expires; the holder renews it while it works, and another process
//! takes it over only once it has expired (its holder stopped or died).

use crate::{Result, Tx};

/// Takes or renews the lease `name` for `holder` until `expires_at` (Unix milliseconds);
/// false when another holder's lease has not expired by `now`.
pub async fn take(
    tx: &mut Tx,
    name: &str,
    holder: &str,
    now: i64,
    expires_at: i64,
) -> Result<bool> {
    let mut sql = tx.sql();
    sql.push("INSERT INTO rapport_lease (name, holder, expires_at) VALUES (")
        .text_param(name)
        .push(", ")
        .text_param(holder)
        .push(", ")
        .int_param(expires_at)
        .push(
            ") ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at \
             WHERE rapport_lease.holder = excluded.holder OR rapport_lease.expires_at < ",
        )
        .int_param(now);
    Ok(tx.execute(sql).await? > 0)
}

/// Gives the lease up, if `holder` has it.
pub async fn release(tx: &mut Tx, name: &str, holder: &str) -> Result<()> {
    let mut sql = tx.sql();
    sql.push("DELETE FROM rapport_lease WHERE name = ")
        .text_param(name)
        .push(" AND holder = ")
        .text_param(holder);
    tx.execute(sql).await.map(drop)
}
