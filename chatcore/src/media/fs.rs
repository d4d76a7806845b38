//! Media bytes on the filesystem, content-addressed by SHA-256.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use crate::error::{Entity, StoreError};
use crate::store::{MediaStore, StoreResult};

/// A [`MediaStore`] in a directory: `<dir>/ab/abcdef…` per file.
///
/// Writes go to a temporary file in `<dir>/tmp`, are synced, then renamed into place, so a crash
/// never leaves partial bytes under a real key. Keys that are not 64 hex digits are refused, so a
/// key can never name a path outside the directory.
#[derive(Debug, Clone)]
pub struct FsMediaStore {
    dir: PathBuf,
}

impl FsMediaStore {
    /// Opens (creating if needed) a media directory.
    pub async fn open(dir: impl Into<PathBuf>) -> StoreResult<Self> {
        let dir = dir.into();
        tokio::fs::create_dir_all(dir.join("tmp"))
            .await
            .map_err(StoreError::backend)?;
        Ok(FsMediaStore { dir })
    }

    fn path_of(&self, key: &str) -> StoreResult<PathBuf> {
        if !super::is_content_key(key) {
            return Err(StoreError::Missing(Entity::Media));
        }
        Ok(self.dir.join(&key[..2]).join(key))
    }
}

#[async_trait]
impl MediaStore for FsMediaStore {
    async fn put(&self, sha256: &str, bytes: Bytes) -> StoreResult<()> {
        let path = self.path_of(sha256)?;
        if tokio::fs::try_exists(&path)
            .await
            .map_err(StoreError::backend)?
        {
            return Ok(());
        }
        let tmp = self
            .dir
            .join("tmp")
            .join(format!("{sha256}.{}", crate::token::hex(&random_suffix())));
        write_synced(&tmp, &bytes)
            .await
            .map_err(StoreError::backend)?;
        let parent = path.parent().unwrap_or(Path::new("."));
        let moved = async {
            tokio::fs::create_dir_all(parent).await?;
            tokio::fs::rename(&tmp, &path).await
        }
        .await;
        if let Err(e) = moved {
            // Best effort: the temp file is garbage either way, and the error that matters is `e`.
            tokio::fs::remove_file(&tmp).await.ok();
            return Err(StoreError::backend(e));
        }
        Ok(())
    }

    async fn get(&self, sha256: &str) -> StoreResult<Option<Bytes>> {
        let path = match self.path_of(sha256) {
            Ok(p) => p,
            Err(_) => return Ok(None),
        };
        match tokio::fs::read(&path).await {
            Ok(data) => Ok(Some(Bytes::from(data))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::backend(e)),
        }
    }
}

async fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = tokio::fs::File::create(path).await?;
    file.write_all(bytes).await?;
    file.sync_all().await
}

fn random_suffix() -> [u8; 8] {
    let mut b = [0u8; 8];
    crate::token::fill_random(&mut b);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::content_key;

    #[tokio::test]
    async fn round_trip_dedup_and_refuse_bad_keys() {
        let dir = std::env::temp_dir().join(format!(
            "chatcore-fs-{}",
            crate::token::hex(&random_suffix())
        ));
        let store = FsMediaStore::open(&dir).await.unwrap();
        let bytes = Bytes::from_static(b"\x89PNG\r\n\x1a\nhello");
        let key = content_key(&bytes);
        store.put(&key, bytes.clone()).await.unwrap();
        store.put(&key, bytes.clone()).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), Some(bytes));
        assert_eq!(store.get(&content_key(b"other")).await.unwrap(), None);
        assert_eq!(store.get("../../etc/passwd").await.unwrap(), None);
        assert!(store.put("../evil", Bytes::new()).await.is_err());
        let leftovers = std::fs::read_dir(dir.join("tmp")).unwrap().count();
        assert_eq!(leftovers, 0, "no temp files left behind");
        std::fs::remove_dir_all(dir).ok();
    }
}
