//! chatcore's storage conformance suite, each case on a fresh PostgreSQL database.

use std::sync::Arc;

use chatcore::Store;
use chatcore_postgres::testing::TestDb;
use chatcore_postgres::{PostgresOptions, PostgresStore};

async fn make_store() -> Option<(Arc<dyn Store>, TestDb)> {
    let db = TestDb::create().await?;
    let store = PostgresStore::connect(&db.url(), PostgresOptions::default())
        .await
        .expect("connect");
    Some((Arc::new(store), db))
}

fn main() {
    chatcore::testing::harness::run(
        &[chatcore_postgres::testing::needs()],
        chatcore::store_conformance_tests!(make_store, harness),
    );
}
