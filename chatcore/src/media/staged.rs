//! An upload's bytes on their way into the media store: written to a temporary file as they
//! arrive, counted against the upload limit and hashed, with every file operation and the
//! hashing on the blocking pool, so a large upload is neither held in memory nor blocks the
//! async runtime.
//!
//! The temporary file is created in the store's
//! [`staging_dir`](crate::store::MediaStore::staging_dir) (for
//! [`FsMediaStore`](super::FsMediaStore) beside the stored files, so keeping it is an atomic
//! rename). It is removed whenever it is not kept: an upload refused for its size, a client that
//! goes away mid-body (the [`Staging`] is dropped, or the future writing to it), an upload
//! refused for its type or content (the [`Staged`] is dropped).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result, StoreError};

/// Received bytes are written in pieces of about this size (fewer trips to the blocking pool
/// than one per network read).
const WRITE_CHUNK: usize = 64 * 1024;

/// An upload being received. Dropping it removes what was written.
#[derive(Debug)]
pub struct Staging {
    /// `None` once a write failed: the upload cannot be completed.
    writer: Option<Writer>,
    pending: BytesMut,
    head: Vec<u8>,
    len: u64,
    limit: usize,
}

/// The temporary file and the hash of what was written to it so far.
#[derive(Debug)]
struct Writer {
    temp: TempFile,
    hash: Sha256,
}

impl Staging {
    /// Creates a temporary file in `dir` for an upload of at most `limit` bytes.
    pub async fn start(dir: PathBuf, limit: usize) -> Result<Staging> {
        let temp = blocking(move || TempFile::create(&dir)).await?;
        Ok(Staging {
            writer: Some(Writer {
                temp,
                hash: Sha256::new(),
            }),
            pending: BytesMut::new(),
            head: Vec::with_capacity(super::SNIFF_LEN),
            len: 0,
            limit,
        })
    }

    /// Appends `chunk`. `TooLarge` (and nothing more is written) as soon as the upload passes
    /// the limit.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.len += chunk.len() as u64;
        if self.len > self.limit as u64 {
            self.writer = None;
            return Err(Error::TooLarge {
                what: "upload",
                limit: self.limit,
            });
        }
        let wanted = super::SNIFF_LEN.saturating_sub(self.head.len());
        self.head
            .extend_from_slice(&chunk[..wanted.min(chunk.len())]);
        self.pending.extend_from_slice(chunk);
        if self.pending.len() >= WRITE_CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes out what is pending, syncs the file and returns the complete upload.
    pub async fn finish(mut self) -> Result<Staged> {
        self.flush().await?;
        let Writer { temp, hash } = self.writer.take().ok_or_else(failed)?;
        let (head, len) = (std::mem::take(&mut self.head), self.len);
        blocking(move || {
            temp.file.sync_all()?;
            Ok(Staged {
                temp,
                head,
                len,
                sha256: crate::token::hex(&hash.finalize()),
            })
        })
        .await
    }

    /// Writes and hashes the pending bytes on the blocking pool. If this future is dropped
    /// mid-way, the file is dropped (removed) with the task.
    async fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let bytes: Bytes = self.pending.split().freeze();
        let mut writer = self.writer.take().ok_or_else(failed)?;
        self.writer = Some(
            blocking(move || {
                writer.temp.file.write_all(&bytes)?;
                writer.hash.update(&bytes);
                Ok(writer)
            })
            .await?,
        );
        Ok(())
    }
}

fn failed() -> Error {
    Error::Internal("the upload's temporary file failed earlier".to_owned())
}

/// A complete upload in its temporary file, with its length, SHA-256 and first bytes.
/// Dropping it removes the file; [`Staged::persist`] keeps it.
#[derive(Debug)]
pub struct Staged {
    temp: TempFile,
    head: Vec<u8>,
    len: u64,
    sha256: String,
}

impl Staged {
    /// How many bytes were uploaded.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the upload is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first [`SNIFF_LEN`](super::SNIFF_LEN) bytes (all of them if fewer): enough to
    /// [`classify`](super::classify) the upload.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// Lowercase hex SHA-256 of the whole upload (the same as
    /// [`content_key`](super::content_key) of its bytes).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The file, rewound, to read in place. Blocking: call it on the blocking pool.
    pub fn reader(&self) -> io::Result<File> {
        let mut file = self.temp.file.try_clone()?;
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    }

    /// Reads the whole upload into memory (it is at most the upload limit). Blocking.
    pub fn read_all(&self) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(usize::try_from(self.len).unwrap_or(0));
        self.reader()?.read_to_end(&mut out)?;
        Ok(out)
    }

    /// Moves the file to `to` (a rename: atomic when `to` is on the same filesystem as the
    /// staging directory). On failure the file is removed. Blocking.
    pub fn persist(mut self, to: &Path) -> io::Result<()> {
        std::fs::rename(&self.temp.path, to)?;
        self.temp.kept = true;
        Ok(())
    }
}

/// The name every upload's temporary file starts with.
const TEMP_PREFIX: &str = "upload-";

/// Removes the temporary files of uploads in `dir` that nothing wrote to for `idle` before
/// `now`, and returns how many. An upload that ends removes its own file, so these are the files
/// of uploads a crash or a kill interrupted; a live upload writes at least every
/// [`WRITE_CHUNK`] bytes, and a client that stops sending is cut off long before an `idle` of an
/// hour. Only files named like an upload's are touched (the default staging directory is the
/// system's). Blocking.
pub(crate) fn sweep_abandoned(dir: &Path, idle: Duration, now: SystemTime) -> io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let meta = entry.metadata()?;
        let quiet = meta
            .modified()
            .ok()
            .and_then(|at| now.duration_since(at).ok());
        if meta.is_file() && quiet.is_some_and(|quiet| quiet >= idle) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                // Another node sharing the directory took it first.
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(err),
            }
        }
    }
    Ok(removed)
}

/// A file removed when dropped, unless kept.
#[derive(Debug)]
struct TempFile {
    path: PathBuf,
    file: File,
    kept: bool,
}

impl TempFile {
    fn create(dir: &Path) -> io::Result<TempFile> {
        let mut suffix = [0u8; 12];
        crate::token::fill_random(&mut suffix);
        let path = dir.join(format!("{TEMP_PREFIX}{}", crate::token::hex(&suffix)));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(TempFile {
            path,
            file,
            kept: false,
        })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            // Nothing refers to the file any more; if it cannot be removed there is nobody to
            // tell but the log.
            if let Err(err) = std::fs::remove_file(&self.path) {
                tracing::warn!(path = %self.path.display(), error = %err, "temporary upload not removed");
            }
        }
    }
}

/// Runs file work on the blocking pool; I/O errors are storage errors.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(format!("upload task failed: {e}")))?
        .map_err(|e| Error::Storage(StoreError::backend(e)))
}

#[cfg(test)]
mod tests;
