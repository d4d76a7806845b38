//! Throwaway databases on a real server, for the tests of the server backends and of anyone
//! testing against them (feature `testing`). Each test gets its own uniquely named database,
//! dropped when its guard is dropped. Test files run with `chatcore::testing::harness` and
//! [`needs`], so that without a server their tests are reported ignored, except under
//! `CI=true`, where they fail.

#![allow(clippy::expect_used)] // test support: a broken test database setup should panic loudly

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{ConnectOptions, Connection, Database};

use crate::db::SqlDb;

/// An error while creating or dropping a test database.
pub type SetupError = Box<dyn std::error::Error + Send + Sync>;

/// Connection options of a test server's database.
pub type Options<S> = <<<S as TestServer>::DB as Database>::Connection as Connection>::Options;

/// A kind of database server tests can create databases on.
pub trait TestServer: Sized + Send + 'static {
    /// The sqlx database.
    type DB: SqlDb;
    /// The environment variable naming the server, e.g. `CHATCORE_TEST_MYSQL_URL`.
    const URL_VAR: &'static str;
    /// The server when the variable is not set, e.g. `mysql://root@127.0.0.1:3306`.
    const DEFAULT_URL: &'static str;
    /// The server's name in messages.
    const NAME: &'static str;

    /// How to reach `database` on the server at `server_url` (`None`: a database that always
    /// exists there, for administration), through `port` when given.
    fn options(
        server_url: &str,
        database: Option<&str>,
        port: Option<u16>,
    ) -> Result<Options<Self>, SetupError>;
    /// The statement that creates the database `name`.
    fn create_sql(name: &str) -> String;
    /// The statement that drops the database `name`, even while connections to it are open.
    fn drop_sql(name: &str) -> String;
}

/// Runs one administrative statement (`CREATE DATABASE …`) on the server, giving up after a
/// few seconds.
async fn admin<S: TestServer>(sql: String) -> Result<(), SetupError> {
    let options = S::options(&server_url::<S>(), None, None)?;
    let connect = <<S::DB as Database>::Connection as Connection>::connect_with(&options);
    let mut conn = tokio::time::timeout(Duration::from_secs(5), connect).await??;
    S::DB::execute(&mut conn, Cow::Owned(sql), Default::default()).await?;
    conn.close().await?;
    Ok(())
}

/// What the tests need: the server `S`, as its environment variable names it.
pub fn needs<S: TestServer>() -> chatcore::testing::harness::Needs {
    chatcore::testing::harness::Needs::service(S::NAME, S::URL_VAR, S::DEFAULT_URL)
}

/// The server under test, as the environment names it.
pub fn server_url<S: TestServer>() -> String {
    std::env::var(S::URL_VAR).unwrap_or_else(|_| S::DEFAULT_URL.to_owned())
}

/// A database that exists for one test; dropping the guard drops the database.
#[derive(Debug)]
pub struct TestDb<S: TestServer> {
    name: String,
    server: PhantomData<S>,
}

impl<S: TestServer> TestDb<S> {
    /// Creates a fresh empty database, or returns `None` (after saying why) when no server
    /// answers outside CI. Panics when no server answers and `CI=true`.
    pub async fn create() -> Option<Self> {
        let name = unique_name();
        match admin::<S>(S::create_sql(&name)).await {
            Ok(()) => Some(TestDb {
                name,
                server: PhantomData,
            }),
            Err(reason) if std::env::var("CI").as_deref() == Ok("true") => panic!(
                "CI=true but the {} test server is unreachable: {reason}",
                S::NAME
            ),
            Err(reason) => {
                eprintln!(
                    "skipping {} test: server unreachable ({reason}); set {}",
                    S::NAME,
                    S::URL_VAR
                );
                None
            }
        }
    }

    /// The URL of this database.
    pub fn url(&self) -> String {
        self.url_through(None)
    }

    /// The URL of this database, reached through `port` (a proxy's, say).
    pub fn url_via(&self, port: u16) -> String {
        self.url_through(Some(port))
    }

    fn url_through(&self, port: Option<u16>) -> String {
        S::options(&server_url::<S>(), Some(&self.name), port)
            .expect("the test server URL is valid")
            .to_url_lossy()
            .to_string()
    }

    /// The database's name on the server.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<S: TestServer> Drop for TestDb<S> {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread with a
        // small runtime of its own.
        let sql = S::drop_sql(&self.name);
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(admin::<S>(sql))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!("could not drop test database: {err}"),
            Err(_) => eprintln!("could not drop test database: dropping thread panicked"),
        }
    }
}

fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let noise = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("chatcore_test_{}_{n}_{noise:x}", std::process::id())
}
