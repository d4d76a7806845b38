//! [`Sqlite`]: how SQLite differs from the shared SQL, and how the store opens its file.

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;

use chatcore::{StoreError, StoreResult};
use chatcore_sql::{Dialect, InMemory, NewIds, SqlStore, TextIndex, backend};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult};
use sqlx::{Pool, Transaction};

use crate::append::SqliteAppends;
use crate::options::SqliteOptions;

/// The SQLite dialect of `chatcore-sql`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sqlite;

impl Dialect for Sqlite {
    type DB = sqlx::Sqlite;
    type Options = SqliteOptions;

    const NEW_IDS: NewIds = NewIds::Returning;

    const TEXT_INDEX: TextIndex = TextIndex::Fts5Trigram;

    const INTEGER_CAST: &'static str = "INTEGER";

    /// Opens the database at `path_or_url`, creating it (and its parent directories) if
    /// needed. Accepts a plain path (`./data/chat.db`) or an sqlx URL (`sqlite://data/chat.db`,
    /// `sqlite::memory:`).
    async fn connect(
        path_or_url: &str,
        options: SqliteOptions,
    ) -> Result<SqlStore<Self>, StoreError> {
        let in_memory = is_in_memory(path_or_url);
        let connect = connect_options(path_or_url, &options)?;
        if !in_memory {
            create_parent_dir(connect.get_filename()).await?;
        }
        // Every connection to `:memory:` would be a database of its own, and the database
        // vanishes with its last connection: keep exactly one, forever.
        let pool = if in_memory {
            one_connection()
        } else {
            SqlitePoolOptions::new().max_connections(options.max_connections)
        }
        .connect_with(connect.clone())
        .await
        .map_err(backend)?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(StoreError::backend)?;
        // Writes get a connection of their own (`SqlStore` runs every write on the appender):
        // SQLite drops a connection's page cache whenever another connection committed, so a
        // writer that shares the pool re-reads the pages it just wrote on every batch, and two
        // writing connections meet each other's lock and sleep in the busy handler.
        let appender = if in_memory {
            pool.clone()
        } else {
            // Writers queue for this one connection, as they would for the write lock: the
            // busy timeout bounds both waits.
            one_connection()
                .acquire_timeout(options.busy_timeout)
                .connect_with(connect)
                .await
                .map_err(backend)?
        };
        let appends = SqliteAppends::open(appender.clone()).await?;
        Ok(
            SqlStore::with_batch_append(pool, appender, options.max_batch, appends)
                .with_append_lanes(options.append_lanes),
        )
    }

    fn json_rows(columns: &str) -> Option<String> {
        Some(format!("json_group_array(json_array({columns}))"))
    }

    /// SQLite spells `GREATEST` as `max`, and has no `FOR UPDATE`: a write transaction began
    /// with `BEGIN IMMEDIATE` already holds the database's only write lock.
    fn render(sql: Cow<'static, str>) -> Cow<'static, str> {
        if !sql.contains("GREATEST(") && !sql.contains(" FOR UPDATE") {
            return sql;
        }
        Cow::Owned(sql.replace("GREATEST(", "max(").replace(" FOR UPDATE", ""))
    }

    /// `BEGIN IMMEDIATE` takes SQLite's write lock up front, so what the transaction reads
    /// cannot change before it commits.
    async fn begin_write(
        pool: &Pool<sqlx::Sqlite>,
    ) -> Result<Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    fn last_insert_id(done: &SqliteQueryResult) -> Option<i64> {
        Some(done.last_insert_rowid())
    }
}

impl InMemory for Sqlite {
    const IN_MEMORY_URL: &'static str = "sqlite::memory:";
}

/// A pool of exactly one connection that is never closed for idleness or age.
fn one_connection() -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
}

fn is_in_memory(path_or_url: &str) -> bool {
    path_or_url.contains(":memory:") || path_or_url.contains("mode=memory")
}

fn connect_options(
    path_or_url: &str,
    options: &SqliteOptions,
) -> StoreResult<SqliteConnectOptions> {
    let base = if path_or_url.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(path_or_url).map_err(backend)?
    } else {
        SqliteConnectOptions::new().filename(path_or_url)
    };
    Ok(base
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(options.durability.synchronous())
        .foreign_keys(true)
        .busy_timeout(options.busy_timeout)
        // Statement journals (SQLite's undo log for one multi-row statement, which the batch
        // inserts need) stay in memory instead of a temp file: they were most of the writes.
        .pragma("temp_store", "memory"))
}

async fn create_parent_dir(file: &Path) -> StoreResult<()> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => tokio::fs::create_dir_all(dir)
            .await
            .map_err(StoreError::backend),
        _ => Ok(()),
    }
}
