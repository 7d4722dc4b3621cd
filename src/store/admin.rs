//! SQL for operator features: reset and the figures `/metrics` reports.

use rusqlite::Connection;

use super::StoreError;

/// Deletes every state machine of every account and region, with everything they own.
pub fn reset(c: &Connection) -> Result<(), StoreError> {
    // Aliases first: their routes reference versions without a cascade.
    c.execute_batch("DELETE FROM aliases; DELETE FROM state_machines;")?;
    Ok(())
}

/// Size of the database in bytes (pages in use times page size).
pub fn database_bytes(c: &Connection) -> Result<i64, StoreError> {
    let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(pages * size)
}

/// Versions stored, across all accounts and regions.
pub fn versions_stored(c: &Connection) -> Result<i64, StoreError> {
    Ok(c.prepare_cached("SELECT COUNT(*) FROM versions")?
        .query_row([], |r| r.get(0))?)
}
