//! Read latency of `SqliteStore`: the room list of a user in 200 rooms of 100 members, and a
//! history page of 50 from a room of 1,000,000 messages.
//!
//! Run with `cargo bench -p chatcore-sqlite --bench reads` (release build). Set
//! `CHATCORE_BENCH_HISTORY` to change the size of the history room.

#![allow(missing_docs)]

#[path = "bench_mode.rs"]
mod bench_mode;
#[path = "reads_driver.rs"]
mod driver;

use std::sync::Arc;

use chatcore::Store;
use chatcore_sqlite::{SqliteOptions, SqliteStore};

#[tokio::main]
async fn main() {
    if !bench_mode::requested() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let open = |name: &str| {
        let path = dir.path().join(name);
        async move {
            let store =
                SqliteStore::open(path.to_str().expect("utf-8 path"), SqliteOptions::default())
                    .await
                    .expect("open");
            Arc::new(store) as Arc<dyn Store>
        }
    };
    println!("SQLite (file, synchronous = FULL)");
    driver::room_list(&open("rooms.db").await, 200, 100).await;
    driver::history(&open("history.db").await, driver::history_size()).await;
}
