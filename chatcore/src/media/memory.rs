//! Media bytes kept in memory, for tests and embedding.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;

use crate::store::{MediaStore, StoreResult};

/// In-memory, non-persistent [`MediaStore`].
#[derive(Debug, Default)]
pub struct MemoryMediaStore {
    // A std Mutex: every critical section is a map lookup or insert, never across an await.
    files: Mutex<HashMap<String, Bytes>>,
}

impl MemoryMediaStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl MediaStore for MemoryMediaStore {
    async fn put(&self, sha256: &str, bytes: Bytes) -> StoreResult<()> {
        self.files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(sha256.to_owned())
            .or_insert(bytes);
        Ok(())
    }

    async fn get(&self, sha256: &str) -> StoreResult<Option<Bytes>> {
        Ok(self
            .files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(sha256)
            .cloned())
    }
}
