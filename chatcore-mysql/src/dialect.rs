//! [`MySql`]: how MySQL and MariaDB differ from the shared SQL, and how the store connects.

use std::borrow::Cow;
use std::str::FromStr;

use chatcore::StoreError;
use chatcore_sql::{Dialect, NewIds, Row, ServerOptions, SqlDb, SqlStore, TextIndex, backend};
use sqlx::mysql::{MySqlConnectOptions, MySqlQueryResult};
use sqlx::{Pool, Transaction};

/// The MySQL/MariaDB dialect of `chatcore-sql`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MySql;

impl Dialect for MySql {
    type DB = sqlx::MySql;
    type Options = ServerOptions;

    const NEW_IDS: NewIds = NewIds::LastInsertId;

    const TEXT_INDEX: TextIndex = TextIndex::Fulltext;

    const INTEGER_CAST: &'static str = "SIGNED";

    /// Connects to the database named in `url` (`mysql://user:password@host:3306/chat`); nodes
    /// starting together take turns through the migrator's lock.
    async fn connect(url: &str, options: ServerOptions) -> Result<SqlStore<Self>, StoreError> {
        let connect = MySqlConnectOptions::from_str(url).map_err(backend)?;
        let pool = options
            .pool::<sqlx::MySql>()
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // Reads inside a transaction see the latest committed rows, not a snapshot
                    // from its start: an append holding a room's lock sees every send committed
                    // before it, and joins see media uploaded a moment ago.
                    sqlx::query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                        .execute(conn)
                        .await?;
                    Ok(())
                })
            })
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

    /// None: MariaDB builds JSON item by item, slowly. `JSON_ARRAYAGG(JSON_ARRAY(…))` of the
    /// members of 200 rooms of 100 took 52–78 ms of the server's time, more than the rows
    /// themselves take to read and send (see `docs/performance.md`, "Reads: room list").
    fn json_rows(_columns: &str) -> Option<String> {
        None
    }

    fn render(sql: Cow<'static, str>) -> Cow<'static, str> {
        sql
    }

    async fn begin_write(
        pool: &Pool<sqlx::MySql>,
    ) -> Result<Transaction<'static, sqlx::MySql>, sqlx::Error> {
        pool.begin().await
    }

    fn rows_affected(done: &MySqlQueryResult) -> u64 {
        // The driver asks for found rows, not changed ones: setting a value to what it already
        // was still counts, as on the other databases.
        done.rows_affected()
    }

    fn last_insert_id(done: &MySqlQueryResult) -> Option<i64> {
        i64::try_from(done.last_insert_id()).ok()
    }

    /// Ids compared byte for byte (`client_id`, `external_id`) are `VARBINARY`, because binary
    /// collations pad spaces on MariaDB, and the driver hands those over as bytes: every text
    /// column is read as bytes and checked to be UTF-8.
    fn text(row: &Row<Self>, column: &str) -> Result<String, sqlx::Error> {
        utf8(sqlx::MySql::get_bytes(row, column)?)
    }

    fn opt_text(row: &Row<Self>, column: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::MySql::get_opt_bytes(row, column)?
            .map(utf8)
            .transpose()
    }
}

fn utf8(bytes: Vec<u8>) -> Result<String, sqlx::Error> {
    String::from_utf8(bytes).map_err(|e| sqlx::Error::Decode(e.into()))
}
