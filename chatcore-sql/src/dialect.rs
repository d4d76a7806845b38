//! The seam between the shared SQL and one database: what really differs, and nothing else.

use std::borrow::Cow;
use std::future::Future;

use sqlx::{Database, Pool, Transaction};

use crate::db::{Row, SqlDb};
use crate::store::SqlStore;

/// How a database hands back the id of a row it just inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewIds {
    /// `INSERT … RETURNING id` (SQLite, PostgreSQL).
    Returning,
    /// `LAST_INSERT_ID()` of the statement (MySQL, MariaDB).
    LastInsertId,
}

/// How a database looks up the text of messages (see [`crate::queries::search`]). Whatever
/// the kind, a search sees every committed message as it is now (see
/// [`crate::BatchAppend::before_search`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextIndex {
    /// An FTS5 table `messages_fts` with the trigram tokenizer (SQLite), filled in bulk after
    /// appends commit and brought up to date before each search, and kept by triggers on edits
    /// and deletes: the text is looked up as one quoted phrase, which is a case-insensitive
    /// substring match.
    Fts5Trigram,
    /// A FULLTEXT index on `messages.body` (MySQL, MariaDB): the text's words narrow the rows
    /// down, then `LIKE` on the lowercased body decides.
    Fulltext,
    /// A `pg_trgm` GIN index on `messages.body` (PostgreSQL), which `ILIKE` uses.
    Trigram,
}

/// One database's differences from the shared SQL. Implemented by each backend crate on a unit
/// type (`chatcore_sqlite::Sqlite`, …); everything else is written once in this crate.
///
/// The shared SQL is written with `?` placeholders, `GREATEST(a, b)` and `SELECT … FOR UPDATE`
/// row locks; [`Dialect::render`] adapts that text where the database spells it differently.
pub trait Dialect: Send + Sync + Sized + 'static {
    /// The sqlx database.
    type DB: SqlDb;

    /// How [`SqlStore::connect`] connects (pool size, timeouts, durability, …).
    type Options: Default + Send;

    /// Connects with `options` (creating the database where it can), brings the schema up to
    /// date, and builds the store with [`SqlStore::from_pools`].
    fn connect(
        url: &str,
        options: Self::Options,
    ) -> impl Future<Output = Result<SqlStore<Self>, chatcore::StoreError>> + Send;

    /// How new ids come back.
    const NEW_IDS: NewIds;

    /// How message text is searched.
    const TEXT_INDEX: TextIndex;

    /// The type `CAST(… AS …)` names to turn a `SUM` (a decimal on MySQL and PostgreSQL) into
    /// a 64-bit integer.
    const INTEGER_CAST: &'static str;

    /// An aggregate that gathers a `GROUP BY` group into one JSON array, read as text: one item
    /// per row of the group, each item the JSON array of `columns` (SQL expressions separated by
    /// commas), e.g. `[[1,"admin"],[2,"member"]]`; or `None` where the database hands over
    /// the rows themselves faster, and the query answers them instead.
    ///
    /// A row of the answer can cost far more than its bytes (on SQLite every row is a hand-off
    /// between sqlx's thread and the runtime), so a query that would answer many small rows
    /// answers one per group instead where that pays; where the database builds JSON slowly
    /// (MariaDB, item by item), it does not. The items come in no promised order, and the
    /// columns must be numbers or text without NUL (SQLite's JSON functions cut text at a NUL
    /// byte).
    fn json_rows(columns: &str) -> Option<String>;

    /// The database's spelling of `sql`, e.g. `$1, $2` placeholders on PostgreSQL, `max()`
    /// for `GREATEST()` and no `FOR UPDATE` on SQLite (whose write transactions already hold
    /// the only write lock). Text that needs no change comes back borrowed.
    fn render(sql: Cow<'static, str>) -> Cow<'static, str>;

    /// Begins a transaction that will write, taking whatever lock the database needs up front
    /// (SQLite: `BEGIN IMMEDIATE`).
    fn begin_write(
        pool: &Pool<Self::DB>,
    ) -> impl Future<Output = Result<Transaction<'static, Self::DB>, sqlx::Error>> + Send;

    /// The rows an `UPDATE` or `DELETE` matched.
    fn rows_affected(done: &<Self::DB as Database>::QueryResult) -> u64;

    /// The id an `INSERT` produced, for [`NewIds::LastInsertId`] databases.
    fn last_insert_id(done: &<Self::DB as Database>::QueryResult) -> Option<i64>;

    /// Reads a text column. MySQL overrides it: byte-exact ids live in `VARBINARY` columns,
    /// which its driver hands over as bytes.
    fn text(row: &Row<Self>, column: &str) -> Result<String, sqlx::Error> {
        Self::DB::get_string(row, column)
    }

    /// Reads a nullable text column (see [`Dialect::text`]).
    fn opt_text(row: &Row<Self>, column: &str) -> Result<Option<String>, sqlx::Error> {
        Self::DB::get_opt_string(row, column)
    }

    /// The statement that moves `table`'s id generator past the largest `id` in it, for
    /// databases whose generator does not notice rows inserted with their ids given (see
    /// [`crate::transfer`]); `None` (the default) when inserting already does (SQLite's
    /// `AUTOINCREMENT`, MySQL's `AUTO_INCREMENT`). `table` is one of the schema's own names.
    fn advance_ids(table: &str) -> Option<String> {
        let _ = table;
        None
    }
}

/// A database that can also live in memory only (SQLite), for [`SqlStore::in_memory`].
pub trait InMemory: Dialect {
    /// The URL of a fresh private in-memory database.
    const IN_MEMORY_URL: &'static str;
}
