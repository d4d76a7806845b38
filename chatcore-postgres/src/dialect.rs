//! [`Postgres`]: how PostgreSQL differs from the shared SQL, and how the store connects.

use std::borrow::Cow;
use std::str::FromStr;

use chatcore::StoreError;
use chatcore_sql::{Dialect, NewIds, ServerOptions, SqlStore, TextIndex, backend};
use sqlx::postgres::{PgConnectOptions, PgQueryResult};
use sqlx::{Pool, Transaction};

/// The PostgreSQL dialect of `chatcore-sql`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Postgres;

impl Dialect for Postgres {
    type DB = sqlx::Postgres;
    type Options = ServerOptions;

    const NEW_IDS: NewIds = NewIds::Returning;

    const TEXT_INDEX: TextIndex = TextIndex::Trigram;

    const INTEGER_CAST: &'static str = "BIGINT";

    async fn connect(url: &str, options: ServerOptions) -> Result<SqlStore<Self>, StoreError> {
        let connect = PgConnectOptions::from_str(url).map_err(backend)?;
        let pool = options
            .pool::<sqlx::Postgres>()
            .connect_with(connect)
            .await
            .map_err(backend)?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(SqlStore::from_pools(pool.clone(), pool, options.max_batch)
            .with_append_lanes(options.append_lanes))
    }

    /// None: the rows are faster. `json_agg(json_build_array(…))` of the members of 200 rooms
    /// of 100 took the server 25 ms to run, the same 20,000 rows as they are 3.4 ms, and the
    /// room list got 2–3× faster without it (see `docs/performance.md`, "Reads: room list").
    fn json_rows(_columns: &str) -> Option<String> {
        None
    }

    fn render(sql: Cow<'static, str>) -> Cow<'static, str> {
        Cow::Owned(numbered_placeholders(&sql))
    }

    async fn begin_write(
        pool: &Pool<sqlx::Postgres>,
    ) -> Result<Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        pool.begin().await
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    fn last_insert_id(_: &PgQueryResult) -> Option<i64> {
        None
    }

    /// Identities hand out values from a sequence that rows inserted with their ids given do
    /// not move: set it to continue after the largest id.
    fn advance_ids(table: &str) -> Option<String> {
        Some(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) \
             FROM {table}"
        ))
    }
}

/// The shared SQL's `?` placeholders as PostgreSQL's `$1, $2, …` (quoted text left alone).
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::numbered_placeholders;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered_placeholders(
                "SELECT a FROM t WHERE b = ? AND c LIKE ? ESCAPE '!' AND d = '?'"
            ),
            "SELECT a FROM t WHERE b = $1 AND c LIKE $2 ESCAPE '!' AND d = '?'"
        );
        assert_eq!(
            numbered_placeholders("UPDATE t SET a = '' WHERE b = ?"),
            "UPDATE t SET a = '' WHERE b = $1"
        );
    }
}
