//! chatcore's storage conformance suite, on a database file and in memory.

use std::sync::Arc;

use chatcore::Store;
use chatcore_sqlite::{SqliteOptions, SqliteStore};

mod on_file {
    use super::*;

    /// A fresh database in its own temporary directory, deleted with the guard.
    async fn make_store() -> (Arc<dyn Store>, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nested/dirs/chat.db");
        let path = path.to_str().expect("utf-8 temp path");
        let store = SqliteStore::open(path, SqliteOptions::default())
            .await
            .expect("open");
        (Arc::new(store), dir)
    }

    chatcore::store_conformance_tests!(make_store);
}

mod in_memory {
    use super::*;

    async fn make_store() -> (Arc<dyn Store>, ()) {
        (Arc::new(SqliteStore::in_memory().await.expect("open")), ())
    }

    chatcore::store_conformance_tests!(make_store);
}
