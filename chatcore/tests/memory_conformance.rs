//! The in-memory store passes the storage conformance suite.

use std::sync::Arc;

async fn make_store() -> (Arc<dyn chatcore::Store>, ()) {
    (Arc::new(chatcore::MemoryStore::new()), ())
}

chatcore::store_conformance_tests!(make_store);
