//! Append throughput of `MySqlStore`, in messages per second, each scenario on a fresh
//! database of the server named by `CHATCORE_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306`).
//!
//! Run with `cargo bench -p chatcore-mysql --bench append` (release build). Set
//! `CHATCORE_BENCH_MESSAGES` to change the messages per scenario (default 2000).

#![allow(missing_docs)]

#[path = "../../chatcore-sqlite/benches/bench_mode.rs"]
mod bench_mode;
#[path = "../../chatcore-sqlite/benches/append_driver.rs"]
mod driver;

use std::sync::{Arc, Mutex};

use chatcore::Store;
use chatcore_mysql::testing::TestDb;
use chatcore_mysql::{MySqlOptions, MySqlStore};

#[tokio::main]
async fn main() {
    if !bench_mode::requested() {
        return;
    }
    let total = std::env::var("CHATCORE_BENCH_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    // Databases live until the end of the run, then their guards drop them.
    let databases = Mutex::new(Vec::new());
    let open = |max_batch: usize| {
        let databases = &databases;
        async move {
            let db = TestDb::create().await.expect("a MySQL server to benchmark");
            let options = MySqlOptions::default().max_batch(max_batch);
            let store = MySqlStore::connect(&db.url(), options)
                .await
                .expect("connect");
            databases.lock().unwrap_or_else(|p| p.into_inner()).push(db);
            Arc::new(store) as Arc<dyn Store>
        }
    };
    println!("MySQL/MariaDB, {total} messages per scenario, one room");
    driver::run(
        vec![
            ("group commit", Box::new(|| open(128)) as Box<dyn Fn() -> _>),
            ("no group commit (batch 1)", Box::new(|| open(1))),
        ],
        total,
    )
    .await;
}
