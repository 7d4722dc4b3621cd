//! The PostgreSQL backend (issue 20), first slice: its schema — the SQLite schema as a
//! PostgreSQL baseline in `migrations/postgres/`, applied by refinery like SQLite's — and the
//! connection to a server named by a `postgres://` URL. The repositories over it come next;
//! until then no command line selects it.
//!
//! Knows SQL and the `postgres` client; nothing of HTTP or the engine.

use super::StoreError;

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

fn unavailable(e: postgres::Error) -> StoreError {
    StoreError::Unavailable {
        cause: format!("PostgreSQL: {e}"),
        source: Some(std::sync::Arc::new(e)),
    }
}

/// Connects to `url` and applies the migrations it lacks (each in its own transaction);
/// returns the versions applied.
pub fn migrate(url: &str) -> Result<Vec<u32>, StoreError> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(unavailable)?;
    let report = embedded::migrations::runner()
        .run(&mut client)
        .map_err(|e| StoreError::internal(format!("PostgreSQL migrations: {e}")))?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| m.version() as u32)
        .collect())
}

/// Every table's columns, `table.column` sorted (refinery's own table left out): what the
/// contract test compares with the SQLite schema.
pub fn columns(url: &str) -> Result<Vec<String>, StoreError> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(unavailable)?;
    let rows = client
        .query(
            "SELECT table_name, column_name FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name != 'refinery_schema_history'
             ORDER BY table_name, column_name",
            &[],
        )
        .map_err(unavailable)?;
    Ok(rows
        .iter()
        .map(|r| format!("{}.{}", r.get::<_, String>(0), r.get::<_, String>(1)))
        .collect())
}
