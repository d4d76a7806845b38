//! Test databases for this crate's tests and for anyone testing against MariaDB/MySQL (feature
//! `testing`): each test gets its own uniquely named database on the server named by
//! `CHATCORE_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`), dropped when its guard is
//! dropped. Without a server the tests are skipped with a printed reason, except under
//! `CI=true`, where they fail.

#![allow(clippy::expect_used)] // test support: a broken test database setup should panic loudly

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

/// The server under test, as given by the environment.
pub fn server_options() -> MySqlConnectOptions {
    let url = std::env::var("CHATCORE_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned());
    MySqlConnectOptions::from_str(&url).expect("CHATCORE_TEST_MYSQL_URL is a mysql:// URL")
}

/// A database that exists for one test; dropping the guard drops the database.
#[derive(Debug)]
pub struct TestDb {
    name: String,
}

impl TestDb {
    /// Creates a fresh empty database, or returns `None` (after saying why) when no server
    /// answers outside CI. Panics when no server answers and `CI=true`.
    pub async fn create() -> Option<TestDb> {
        let mut admin = match admin_connection().await {
            Ok(conn) => conn,
            Err(reason) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("CI=true but the MySQL test server is unreachable: {reason}")
            }
            Err(reason) => {
                eprintln!(
                    "skipping MySQL test: server unreachable ({reason}); set CHATCORE_TEST_MYSQL_URL"
                );
                return None;
            }
        };
        let name = unique_name();
        sqlx::query(AssertSqlSafe(format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        )))
        .execute(&mut admin)
        .await
        .expect("create test database");
        admin.close().await.expect("close admin connection");
        Some(TestDb { name })
    }

    /// The URL of this database, reached through `port` (the server's own port, or a proxy's).
    pub fn url_via(&self, port: u16) -> String {
        server_options()
            .port(port)
            .database(&self.name)
            .to_url_lossy()
            .to_string()
    }

    /// The URL of this database.
    pub fn url(&self) -> String {
        self.url_via(server_options().get_port())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread with a
        // small runtime of its own.
        let name = std::mem::take(&mut self.name);
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let mut admin = admin_connection().await?;
                sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
                    .execute(&mut admin)
                    .await?;
                admin.close().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!("could not drop test database: {err}"),
            Err(_) => eprintln!("could not drop test database: dropping thread panicked"),
        }
    }
}

async fn admin_connection() -> Result<MySqlConnection, Box<dyn std::error::Error + Send + Sync>> {
    let options = server_options();
    let connect = MySqlConnection::connect_with(&options);
    Ok(tokio::time::timeout(Duration::from_secs(5), connect).await??)
}

fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let noise = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("chatcore_test_{}_{n}_{noise:x}", std::process::id())
}
