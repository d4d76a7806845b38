//! Media bytes on the filesystem, one file per key.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use super::Staged;
use crate::error::{Entity, StoreError};
use crate::store::{MediaFile, MediaStore, StoreResult};

/// A [`MediaStore`] in a directory: `<dir>/ab/abcdef…` per key.
///
/// Writes go to a temporary file in `<dir>/tmp`, are synced, then renamed into place, so a crash
/// never leaves partial bytes under a real key. Keys that are not [valid store
/// keys](super::is_store_key) are refused, so a key can never name a path outside the directory.
/// Reads stream from the file: nothing is loaded whole.
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
        if !super::is_store_key(key) {
            return Err(StoreError::Missing(Entity::Media));
        }
        Ok(self.dir.join(&key[..2]).join(key))
    }
}

#[async_trait]
impl MediaStore for FsMediaStore {
    async fn put(&self, key: &str, bytes: Bytes) -> StoreResult<()> {
        let path = self.path_of(key)?;
        let tmp = self
            .dir
            .join("tmp")
            .join(format!("{key}.{}", crate::token::hex(&random_suffix())));
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

    fn staging_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    /// Keeps the staged file by renaming it into place (the staging directory is inside the
    /// media directory, so the rename is atomic).
    async fn put_staged(&self, key: &str, staged: Staged) -> StoreResult<()> {
        let path = self.path_of(key)?;
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
            staged.persist(&path)
        })
        .await
        .map_err(|e| StoreError::backend(std::io::Error::other(e)))?
        .map_err(StoreError::backend)
    }

    async fn open(&self, key: &str) -> StoreResult<Option<MediaFile>> {
        let Ok(path) = self.path_of(key) else {
            return Ok(None);
        };
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::backend(e)),
        };
        let len = file.metadata().await.map_err(StoreError::backend)?.len();
        Ok(Some(MediaFile {
            len,
            reader: Box::new(file),
        }))
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        let Ok(path) = self.path_of(key) else {
            return Ok(());
        };
        match tokio::fs::remove_file(&path).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::backend(e)),
            _ => Ok(()),
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
    use tokio::io::{AsyncReadExt, AsyncSeekExt};

    use super::*;

    async fn read_all(store: &FsMediaStore, key: &str) -> Option<Vec<u8>> {
        let mut file = store.open(key).await.unwrap()?;
        let mut out = Vec::new();
        file.reader.read_to_end(&mut out).await.unwrap();
        assert_eq!(file.len, out.len() as u64);
        Some(out)
    }

    #[tokio::test]
    async fn round_trip_seek_delete_and_refuse_bad_keys() {
        let dir = std::env::temp_dir().join(format!(
            "chatcore-fs-{}",
            crate::token::hex(&random_suffix())
        ));
        let store = FsMediaStore::open(&dir).await.unwrap();
        let key = crate::MediaId::generate().to_string();
        store.put(&key, Bytes::from_static(b"first")).await.unwrap();
        store
            .put(&key, Bytes::from_static(b"\x89PNG\r\n\x1a\nhello"))
            .await
            .unwrap();
        assert_eq!(
            read_all(&store, &key).await.as_deref(),
            Some(&b"\x89PNG\r\n\x1a\nhello"[..])
        );
        let mut file = store.open(&key).await.unwrap().unwrap();
        file.reader.seek(std::io::SeekFrom::Start(8)).await.unwrap();
        let mut tail = String::new();
        file.reader.read_to_string(&mut tail).await.unwrap();
        assert_eq!(tail, "hello");

        // A staged upload is kept by a rename out of the staging directory.
        let mut staging = crate::media::Staging::start(store.staging_dir(), 64)
            .await
            .unwrap();
        staging.write(b"streamed").await.unwrap();
        store
            .put_staged(&key, staging.finish().await.unwrap())
            .await
            .unwrap();
        assert_eq!(
            read_all(&store, &key).await.as_deref(),
            Some(&b"streamed"[..])
        );

        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert_eq!(read_all(&store, &key).await, None);
        assert!(store.open("../../etc/passwd").await.unwrap().is_none());
        assert!(store.put("../evil", Bytes::new()).await.is_err());
        let leftovers = std::fs::read_dir(dir.join("tmp")).unwrap().count();
        assert_eq!(leftovers, 0, "no temp files left behind");
        std::fs::remove_dir_all(dir).ok();
    }
}
