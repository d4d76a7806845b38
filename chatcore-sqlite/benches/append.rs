//! Append throughput of `SqliteStore`, in messages per second.
//!
//! Run with `cargo bench -p chatcore-sqlite --bench append` (release build). Set
//! `CHATCORE_BENCH_MESSAGES` to change the messages per scenario (default 2000).

#![allow(missing_docs)]

#[path = "bench_mode.rs"]
mod bench_mode;
#[path = "append_driver.rs"]
mod driver;

use std::sync::Arc;

use chatcore::Store;
use chatcore_sqlite::{Durability, SqliteOptions, SqliteStore};

#[tokio::main]
async fn main() {
    if !bench_mode::requested() {
        return;
    }
    let total = std::env::var("CHATCORE_BENCH_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().expect("temp dir");
    let runs = std::sync::atomic::AtomicUsize::new(0);
    let open = |durability: Durability, max_batch: usize| {
        let path = dir.path().join(format!(
            "bench-{}.db",
            runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        async move {
            let options = SqliteOptions::default()
                .durability(durability)
                .max_batch(max_batch);
            let store = SqliteStore::open(path.to_str().expect("utf-8 path"), options)
                .await
                .expect("open");
            Arc::new(store) as Arc<dyn Store>
        }
    };
    println!("SQLite, {total} messages per scenario, one room");
    driver::run(
        vec![
            (
                "FULL, group commit",
                Box::new(|| open(Durability::Full, 256)) as Box<dyn Fn() -> _>,
            ),
            (
                "FULL, no group commit (batch 1)",
                Box::new(|| open(Durability::Full, 1)),
            ),
            (
                "NORMAL, group commit",
                Box::new(|| open(Durability::Normal, 256)),
            ),
            (
                "NORMAL, no group commit (batch 1)",
                Box::new(|| open(Durability::Normal, 1)),
            ),
        ],
        total,
    )
    .await;
}
