//! Media bytes kept in memory, for tests and embedding.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::{Entity, StoreError};
use crate::store::{MediaFile, MediaStore, StoreResult};

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

    /// How many files are stored (tests check that deletions delete).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no file is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bytes>> {
        self.files.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl MediaStore for MemoryMediaStore {
    async fn put(&self, key: &str, bytes: Bytes) -> StoreResult<()> {
        if !super::is_store_key(key) {
            return Err(StoreError::Missing(Entity::Media));
        }
        self.lock().insert(key.to_owned(), bytes);
        Ok(())
    }

    async fn open(&self, key: &str) -> StoreResult<Option<MediaFile>> {
        Ok(self.lock().get(key).cloned().map(|bytes| MediaFile {
            len: bytes.len() as u64,
            reader: Box::new(std::io::Cursor::new(bytes)),
        }))
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.lock().remove(key);
        Ok(())
    }
}
