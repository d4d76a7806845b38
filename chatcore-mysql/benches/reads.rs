//! Read latency of `MySqlStore`: the room list of a user in 200 rooms of 100 members, and a
//! history page of 50 from a room of 1,000,000 messages, each on a fresh database of the server
//! named by `CHATCORE_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`).
//!
//! Run with `cargo bench -p chatcore-mysql --bench reads` (release build). Set
//! `CHATCORE_BENCH_HISTORY` to change the size of the history room.

#![allow(missing_docs)]

#[path = "../../chatcore-sqlite/benches/bench_mode.rs"]
mod bench_mode;
#[path = "../../chatcore-sqlite/benches/reads_driver.rs"]
mod driver;

use std::sync::Arc;

use chatcore::Store;
use chatcore_mysql::testing::TestDb;
use chatcore_mysql::{MySqlOptions, MySqlStore};

async fn open(db: &TestDb) -> Arc<dyn Store> {
    let store = MySqlStore::connect(&db.url(), MySqlOptions::default())
        .await
        .expect("connect");
    Arc::new(store) as Arc<dyn Store>
}

#[tokio::main]
async fn main() {
    if !bench_mode::requested() {
        return;
    }
    let rooms = TestDb::create().await.expect("a MySQL server to benchmark");
    let history = TestDb::create().await.expect("a MySQL server to benchmark");
    println!("MySQL/MariaDB");
    driver::room_list(&open(&rooms).await, 200, 100).await;
    driver::history(&open(&history).await, driver::history_size()).await;
}
