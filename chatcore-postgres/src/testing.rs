//! Test databases on the PostgreSQL server named by `CHATCORE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432`), for this crate's tests and for anyone testing against
//! PostgreSQL (feature `testing`). See `chatcore_sql::testing` for the rules.

use std::str::FromStr;

use chatcore_sql::testing::{SetupError, TestServer};
use sqlx::postgres::PgConnectOptions;

/// The PostgreSQL test server.
#[derive(Debug)]
pub struct PostgresServer;

/// A database that exists for one test; dropping the guard drops the database.
pub type TestDb = chatcore_sql::testing::TestDb<PostgresServer>;

/// What tests on this backend need, for `chatcore::testing::harness::run`: the PostgreSQL test
/// server (without it, outside CI, the tests are reported ignored).
pub fn needs() -> chatcore::testing::harness::Needs {
    chatcore_sql::testing::needs::<PostgresServer>()
}

impl TestServer for PostgresServer {
    type DB = sqlx::Postgres;
    const URL_VAR: &'static str = "CHATCORE_TEST_POSTGRES_URL";
    const DEFAULT_URL: &'static str = "postgres://postgres@127.0.0.1:5432";
    const NAME: &'static str = "PostgreSQL";

    /// Administration runs in the `postgres` database, which every server has.
    fn options(
        server_url: &str,
        database: Option<&str>,
        port: Option<u16>,
    ) -> Result<PgConnectOptions, SetupError> {
        let options =
            PgConnectOptions::from_str(server_url)?.database(database.unwrap_or("postgres"));
        Ok(match port {
            Some(port) => options.port(port),
            None => options,
        })
    }

    fn create_sql(name: &str) -> String {
        format!("CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    }

    fn drop_sql(name: &str) -> String {
        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")
    }
}
