//! What chatcore-sql needs from a sqlx database, named once.
//!
//! Code generic over `sqlx::Database` has to prove a dozen facts at every call (`i64: Encode<DB>`,
//! `&mut DB::Connection: Executor<DB>`, `&str: ColumnIndex<DB::Row>`, …), and Rust does not carry
//! such `where` bounds along with a trait: every generic function would repeat them all. So
//! [`SqlDb`] states them exactly once, on its blanket impl, and turns each into a plain method.
//! Generic code only ever says `D: Dialect`; [`Param`] and [`Column`] give it `bind(value)` and
//! `get(column)` for the handful of Rust types the schema uses.

use std::borrow::Cow;

use futures::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::{
    Arguments, AssertSqlSafe, ColumnIndex, Database, Decode, Encode, Executor, IntoArguments,
    Row as _, Type,
};

use crate::dialect::Dialect;

/// A sqlx database chatcore-sql can run on: every `sqlx::Database` whose driver handles the
/// types below (SQLite, MySQL/MariaDB and PostgreSQL do). Implemented by the blanket impl only.
pub trait SqlDb: Database {
    /// Appends an `i64` argument.
    fn add_i64(args: &mut Self::Arguments, value: i64) -> Result<(), BoxDynError>;
    /// Appends a nullable `i64` argument.
    fn add_opt_i64(args: &mut Self::Arguments, value: Option<i64>) -> Result<(), BoxDynError>;
    /// Appends a boolean argument.
    fn add_bool(args: &mut Self::Arguments, value: bool) -> Result<(), BoxDynError>;
    /// Appends a text argument.
    fn add_str(args: &mut Self::Arguments, value: &str) -> Result<(), BoxDynError>;
    /// Appends a nullable text argument.
    fn add_opt_str(args: &mut Self::Arguments, value: Option<&str>) -> Result<(), BoxDynError>;
    /// Appends a byte-string argument.
    fn add_bytes(args: &mut Self::Arguments, value: &[u8]) -> Result<(), BoxDynError>;

    /// Reads an `i64` column.
    fn get_i64(row: &Self::Row, column: &str) -> Result<i64, sqlx::Error>;
    /// Reads a nullable `i64` column.
    fn get_opt_i64(row: &Self::Row, column: &str) -> Result<Option<i64>, sqlx::Error>;
    /// Reads a boolean column.
    fn get_bool(row: &Self::Row, column: &str) -> Result<bool, sqlx::Error>;
    /// Reads a text column.
    fn get_string(row: &Self::Row, column: &str) -> Result<String, sqlx::Error>;
    /// Reads a nullable text column.
    fn get_opt_string(row: &Self::Row, column: &str) -> Result<Option<String>, sqlx::Error>;
    /// Reads a byte-string column.
    fn get_bytes(row: &Self::Row, column: &str) -> Result<Vec<u8>, sqlx::Error>;
    /// Reads a nullable byte-string column.
    fn get_opt_bytes(row: &Self::Row, column: &str) -> Result<Option<Vec<u8>>, sqlx::Error>;

    /// Runs a statement for its effect.
    fn execute<'c>(
        conn: &'c mut Self::Connection,
        sql: Cow<'static, str>,
        args: Self::Arguments,
    ) -> BoxFuture<'c, Result<Self::QueryResult, sqlx::Error>>;
    /// Runs a query and returns its first row, if any.
    fn fetch_optional<'c>(
        conn: &'c mut Self::Connection,
        sql: Cow<'static, str>,
        args: Self::Arguments,
    ) -> BoxFuture<'c, Result<Option<Self::Row>, sqlx::Error>>;
    /// Runs a query and returns all its rows.
    fn fetch_all<'c>(
        conn: &'c mut Self::Connection,
        sql: Cow<'static, str>,
        args: Self::Arguments,
    ) -> BoxFuture<'c, Result<Vec<Self::Row>, sqlx::Error>>;
}

impl<DB> SqlDb for DB
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'n> &'n str: ColumnIndex<DB::Row>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'r> i64: Decode<'r, DB>,
    for<'r> bool: Decode<'r, DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
{
    fn add_i64(args: &mut Self::Arguments, value: i64) -> Result<(), BoxDynError> {
        args.add(value)
    }

    fn add_opt_i64(args: &mut Self::Arguments, value: Option<i64>) -> Result<(), BoxDynError> {
        args.add(value)
    }

    fn add_bool(args: &mut Self::Arguments, value: bool) -> Result<(), BoxDynError> {
        args.add(value)
    }

    fn add_str(args: &mut Self::Arguments, value: &str) -> Result<(), BoxDynError> {
        args.add(value)
    }

    fn add_opt_str(args: &mut Self::Arguments, value: Option<&str>) -> Result<(), BoxDynError> {
        args.add(value)
    }

    fn add_bytes(args: &mut Self::Arguments, value: &[u8]) -> Result<(), BoxDynError> {
        args.add(value)
    }

    fn get_i64(row: &Self::Row, column: &str) -> Result<i64, sqlx::Error> {
        row.try_get(column)
    }

    fn get_opt_i64(row: &Self::Row, column: &str) -> Result<Option<i64>, sqlx::Error> {
        row.try_get(column)
    }

    fn get_bool(row: &Self::Row, column: &str) -> Result<bool, sqlx::Error> {
        row.try_get(column)
    }

    fn get_string(row: &Self::Row, column: &str) -> Result<String, sqlx::Error> {
        row.try_get(column)
    }

    fn get_opt_string(row: &Self::Row, column: &str) -> Result<Option<String>, sqlx::Error> {
        row.try_get(column)
    }

    fn get_bytes(row: &Self::Row, column: &str) -> Result<Vec<u8>, sqlx::Error> {
        row.try_get(column)
    }

    fn get_opt_bytes(row: &Self::Row, column: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
        row.try_get(column)
    }

    fn execute<'c>(
        conn: &'c mut Self::Connection,
        sql: Cow<'static, str>,
        args: Self::Arguments,
    ) -> BoxFuture<'c, Result<Self::QueryResult, sqlx::Error>> {
        // Every statement text comes from this crate or a dialect: constant SQL whose values
        // are all bound, never user text.
        Box::pin(sqlx::query_with(AssertSqlSafe(sql), args).execute(conn))
    }

    fn fetch_optional<'c>(
        conn: &'c mut Self::Connection,
        sql: Cow<'static, str>,
        args: Self::Arguments,
    ) -> BoxFuture<'c, Result<Option<Self::Row>, sqlx::Error>> {
        Box::pin(sqlx::query_with(AssertSqlSafe(sql), args).fetch_optional(conn))
    }

    fn fetch_all<'c>(
        conn: &'c mut Self::Connection,
        sql: Cow<'static, str>,
        args: Self::Arguments,
    ) -> BoxFuture<'c, Result<Vec<Self::Row>, sqlx::Error>> {
        Box::pin(sqlx::query_with(AssertSqlSafe(sql), args).fetch_all(conn))
    }
}

/// A Rust value that can be bound to a `?` of a statement.
pub trait Param: Send {
    /// Appends the value to `args`.
    fn add_to<DB: SqlDb>(self, args: &mut DB::Arguments) -> Result<(), BoxDynError>;
}

impl Param for i64 {
    fn add_to<DB: SqlDb>(self, args: &mut DB::Arguments) -> Result<(), BoxDynError> {
        DB::add_i64(args, self)
    }
}

impl Param for Option<i64> {
    fn add_to<DB: SqlDb>(self, args: &mut DB::Arguments) -> Result<(), BoxDynError> {
        DB::add_opt_i64(args, self)
    }
}

impl Param for bool {
    fn add_to<DB: SqlDb>(self, args: &mut DB::Arguments) -> Result<(), BoxDynError> {
        DB::add_bool(args, self)
    }
}

impl Param for &str {
    fn add_to<DB: SqlDb>(self, args: &mut DB::Arguments) -> Result<(), BoxDynError> {
        DB::add_str(args, self)
    }
}

impl Param for Option<&str> {
    fn add_to<DB: SqlDb>(self, args: &mut DB::Arguments) -> Result<(), BoxDynError> {
        DB::add_opt_str(args, self)
    }
}

impl Param for &[u8] {
    fn add_to<DB: SqlDb>(self, args: &mut DB::Arguments) -> Result<(), BoxDynError> {
        DB::add_bytes(args, self)
    }
}

/// A Rust value a column can be read as.
pub trait Column: Sized {
    /// Reads `column` of `row`.
    fn get<D: Dialect>(row: &Row<D>, column: &str) -> Result<Self, sqlx::Error>;
}

/// A row of a dialect's database.
pub type Row<D> = <<D as Dialect>::DB as Database>::Row;

/// A row being mapped: `row.get("column")` reads the column as any [`Column`] type.
pub struct Cols<'r, D: Dialect>(&'r Row<D>);

impl<D: Dialect> Clone for Cols<'_, D> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D: Dialect> Copy for Cols<'_, D> {}

impl<'r, D: Dialect> Cols<'r, D> {
    /// Wraps a row.
    pub fn new(row: &'r Row<D>) -> Self {
        Cols(row)
    }

    /// Reads `column` as a `T`.
    pub fn get<T: Column>(&self, column: &str) -> Result<T, sqlx::Error> {
        T::get::<D>(self.0, column)
    }

    /// The underlying sqlx row, for dialect-specific reads.
    pub fn row(&self) -> &'r Row<D> {
        self.0
    }
}

impl Column for i64 {
    fn get<D: Dialect>(row: &Row<D>, column: &str) -> Result<Self, sqlx::Error> {
        D::DB::get_i64(row, column)
    }
}

impl Column for Option<i64> {
    fn get<D: Dialect>(row: &Row<D>, column: &str) -> Result<Self, sqlx::Error> {
        D::DB::get_opt_i64(row, column)
    }
}

impl Column for bool {
    fn get<D: Dialect>(row: &Row<D>, column: &str) -> Result<Self, sqlx::Error> {
        D::DB::get_bool(row, column)
    }
}

impl Column for String {
    fn get<D: Dialect>(row: &Row<D>, column: &str) -> Result<Self, sqlx::Error> {
        D::text(row, column)
    }
}

impl Column for Option<String> {
    fn get<D: Dialect>(row: &Row<D>, column: &str) -> Result<Self, sqlx::Error> {
        D::opt_text(row, column)
    }
}

impl Column for Vec<u8> {
    fn get<D: Dialect>(row: &Row<D>, column: &str) -> Result<Self, sqlx::Error> {
        D::DB::get_bytes(row, column)
    }
}

impl Column for Option<Vec<u8>> {
    fn get<D: Dialect>(row: &Row<D>, column: &str) -> Result<Self, sqlx::Error> {
        D::DB::get_opt_bytes(row, column)
    }
}
