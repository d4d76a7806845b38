//! Test databases on the MariaDB/MySQL server named by `CHATCORE_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306`), for this crate's tests and for anyone testing against
//! MariaDB/MySQL (feature `testing`). See `chatcore_sql::testing` for the rules.

use std::str::FromStr;

use chatcore_sql::testing::{SetupError, TestServer, server_url};
use sqlx::mysql::MySqlConnectOptions;

/// The MariaDB/MySQL test server.
#[derive(Debug)]
pub struct MySqlServer;

/// A database that exists for one test; dropping the guard drops the database.
pub type TestDb = chatcore_sql::testing::TestDb<MySqlServer>;

/// What tests on this backend need, for `chatcore::testing::harness::run`: the MariaDB/MySQL test
/// server (without it, outside CI, the tests are reported ignored).
pub fn needs() -> chatcore::testing::harness::Needs {
    chatcore_sql::testing::needs::<MySqlServer>()
}

/// The server under test, as given by the environment.
#[allow(clippy::expect_used)] // test support: a bad test server URL should panic loudly
pub fn server_options() -> MySqlConnectOptions {
    MySqlConnectOptions::from_str(&server_url::<MySqlServer>())
        .expect("CHATCORE_TEST_MYSQL_URL is a mysql:// URL")
}

impl TestServer for MySqlServer {
    type DB = sqlx::MySql;
    const URL_VAR: &'static str = "CHATCORE_TEST_MYSQL_URL";
    const DEFAULT_URL: &'static str = "mysql://root@127.0.0.1:3306";
    const NAME: &'static str = "MySQL";

    fn options(
        server_url: &str,
        database: Option<&str>,
        port: Option<u16>,
    ) -> Result<MySqlConnectOptions, SetupError> {
        let mut options = MySqlConnectOptions::from_str(server_url)?;
        if let Some(database) = database {
            options = options.database(database);
        }
        Ok(match port {
            Some(port) => options.port(port),
            None => options,
        })
    }

    fn create_sql(name: &str) -> String {
        format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    }

    fn drop_sql(name: &str) -> String {
        format!("DROP DATABASE IF EXISTS `{name}`")
    }
}
