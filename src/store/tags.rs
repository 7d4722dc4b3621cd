//! SQL for state machine tags.

use rusqlite::{params, Connection};

use super::StoreError;

/// A machine's tags, ordered by key.
pub fn list_tags(c: &Connection, machine_id: i64) -> Result<Vec<(String, String)>, StoreError> {
    let mut st =
        c.prepare_cached("SELECT key, value FROM tags WHERE state_machine_id = ?1 ORDER BY key")?;
    let rows = st.query_map([machine_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Sets a tag, replacing the value of an existing key.
pub fn put_tag(c: &Connection, machine_id: i64, key: &str, value: &str) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO tags (state_machine_id, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (state_machine_id, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![machine_id, key, value])?;
    Ok(())
}

/// Removes a tag; removing a key that is not there is not an error.
pub fn delete_tag(c: &Connection, machine_id: i64, key: &str) -> Result<(), StoreError> {
    c.prepare_cached("DELETE FROM tags WHERE state_machine_id = ?1 AND key = ?2")?
        .execute(params![machine_id, key])?;
    Ok(())
}
