//! chatcore's storage conformance suite, each case on a fresh MariaDB/MySQL database.

use std::sync::Arc;

use chatcore::Store;
use chatcore_mysql::testing::TestDb;
use chatcore_mysql::{MySqlOptions, MySqlStore};

async fn make_store() -> Option<(Arc<dyn Store>, TestDb)> {
    let db = TestDb::create().await?;
    let store = MySqlStore::connect(&db.url(), MySqlOptions::default())
        .await
        .expect("connect");
    Some((Arc::new(store), db))
}

fn main() {
    chatcore::testing::harness::run(
        &[chatcore_mysql::testing::needs()],
        chatcore::store_conformance_tests!(make_store, harness),
    );
}
