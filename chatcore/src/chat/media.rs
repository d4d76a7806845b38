//! Uploads and downloads of media, checked against room membership; media lives as long as a
//! message carries it.
//!
//! Who may fetch media: members of its room who can see a message carrying it, and its
//! uploader until it is sent. An upload never sent is deleted after
//! [`ChatConfig::unattached_media_grace`](super::ChatConfig::unattached_media_grace); deleting
//! the last message that carries media deletes its row and its bytes.

use bytes::Bytes;

use super::{Actor, Chat};
use crate::error::{Error, Result, StoreError};
use crate::media::{
    Staged, Staging, audio, classify, content_key, reencode, sweep_abandoned, thumbnail_key,
};
use crate::model::{Media, MediaDetails, MediaId, NewMedia, RoomId, UploadQuota};
use crate::store::MediaFile;

/// How many unattached uploads one sweep deletes at most (the next sweep takes the rest).
const SWEEP_BATCH: u32 = 500;

/// How long an upload's staging file may go unwritten before a sweep takes it for the file of an
/// upload a crash interrupted. Live uploads write far more often, and a client that stops
/// sending is cut off long before this.
const ABANDONED_UPLOAD_IDLE: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Which of a media's files to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaVariant {
    /// The stored file itself.
    Original,
    /// The small preview (`NotFound` when the media has none).
    Thumbnail,
}

impl Chat {
    /// Checks what can be checked before an upload's bytes are read: the actor is a member of
    /// `room` (else `NotFound("room")`), `declared_len` (if known) is within
    /// `max_upload_bytes` (else `TooLarge`) and within what is left of the actor's daily quota
    /// (else `QuotaExceeded`). Transports call it before reading the body, so a refused sender
    /// hears so while still sending; [`Chat::upload`] checks all of it again.
    pub async fn check_upload(
        &self,
        actor: &Actor,
        room: RoomId,
        declared_len: Option<u64>,
    ) -> Result<()> {
        self.membership(actor, room).await?;
        let limit = self.config().max_upload_bytes;
        if declared_len.is_some_and(|len| len > limit as u64) {
            return Err(Error::TooLarge {
                what: "upload",
                limit,
            });
        }
        self.check_quota(actor, declared_len.unwrap_or(0)).await
    }

    /// Starts receiving an upload's bytes (after [`Chat::check_upload`]): they go to a
    /// temporary file of the media store as they are written, hashed on the way, and are
    /// refused with `TooLarge` past `max_upload_bytes`. Give the finished upload to
    /// [`Chat::upload_staged`]; dropping it at any point removes the file.
    pub async fn stage_upload(&self) -> Result<Staging> {
        Staging::start(
            self.inner.media.staging_dir(),
            self.config().max_upload_bytes,
        )
        .await
    }

    /// Stores an upload whose bytes are all in memory: [`Chat::upload_staged`] after writing
    /// them to a [staging](Chat::stage_upload) file.
    pub async fn upload(
        &self,
        actor: &Actor,
        room: RoomId,
        bytes: Bytes,
        declared: Option<&str>,
    ) -> Result<Media> {
        self.check_upload(actor, room, Some(bytes.len() as u64))
            .await?;
        let mut staging = self.stage_upload().await?;
        staging.write(&bytes).await?;
        let staged = staging.finish().await?;
        self.upload_staged(actor, room, staged, declared).await
    }

    /// Stores an upload for `room`. The type is decided by sniffing the bytes; a `declared`
    /// type that disagrees, an unaccepted format or an empty file is `UnsupportedMedia`; more
    /// than `max_upload_bytes` is `TooLarge`; past the daily quota `QuotaExceeded`. Images are
    /// re-encoded (see [`reencode`](crate::media::reencode())): more than `max_image_pixels` is
    /// `TooManyPixels`, an animation `Invalid`. Audio is demuxed to its end (see
    /// [`audio::probe`]): a malformed container is `UnsupportedMedia`, more than
    /// `max_audio_duration` `TooLong`. Not a member: `NotFound("room")`.
    ///
    /// Audio is read where it was staged and kept as it is (moved, not copied, by a store on
    /// files); an image is read into memory to be decoded, and its fresh encoding stored. The
    /// staged file is removed on every error. The media gets a fresh random id; nobody but the
    /// uploader can fetch it until a message carries it.
    pub async fn upload_staged(
        &self,
        actor: &Actor,
        room: RoomId,
        staged: Staged,
        declared: Option<&str>,
    ) -> Result<Media> {
        self.check_upload(actor, room, Some(staged.len())).await?;
        let mime = classify(staged.head(), declared)?;
        let stored = if mime.starts_with("image/") {
            self.reencode_image(staged, mime).await?
        } else {
            self.probe_audio(staged, mime).await?
        };
        let id = MediaId::generate();
        let key = id.to_string();
        let new = NewMedia {
            id,
            room_id: room,
            uploader_id: actor.id(),
            mime: stored.mime.to_owned(),
            size: stored.size,
            sha256: stored.sha256,
            key: key.clone(),
            details: stored.details,
            created_at: self.now(),
        };
        if let Some(thumbnail) = stored.thumbnail {
            self.inner
                .media
                .put(&thumbnail_key(&key), thumbnail)
                .await?;
        }
        let put = match stored.content {
            Content::Bytes(bytes) => self.inner.media.put(&key, bytes).await,
            Content::Staged(staged) => self.inner.media.put_staged(&key, staged).await,
        };
        if let Err(err) = put {
            self.delete_bytes(&key).await;
            return Err(err.into());
        }
        let quota = self.upload_quota(actor);
        match self.store().create_media(new, quota).await {
            Ok(media) => Ok(media),
            Err(err) => {
                self.delete_bytes(&key).await;
                Err(match err {
                    StoreError::QuotaExceeded => Error::QuotaExceeded { limit: quota.limit },
                    other => other.into(),
                })
            }
        }
    }

    /// The metadata of media and its bytes opened for streaming, for those who may see it (see
    /// the module docs). Anyone else gets `NotFound("media")`, exactly as for an id that does
    /// not exist or media that was deleted.
    pub async fn open_media(
        &self,
        actor: &Actor,
        id: MediaId,
        variant: MediaVariant,
    ) -> Result<(Media, MediaFile)> {
        let not_found = || Error::NotFound("media");
        let media = self.store().media(id).await?.ok_or_else(not_found)?;
        self.membership(actor, media.room_id)
            .await
            .map_err(|_| not_found())?;
        if media.uploader_id != actor.id() && !self.store().media_attached(id).await? {
            return Err(not_found());
        }
        let key = match variant {
            MediaVariant::Original => media.key.clone(),
            MediaVariant::Thumbnail if media.details.thumbnail_mime.is_some() => {
                thumbnail_key(&media.key)
            }
            MediaVariant::Thumbnail => return Err(not_found()),
        };
        let file = self.inner.media.open(&key).await?.ok_or_else(not_found)?;
        Ok((media, file))
    }

    /// Deletes uploads no message carried within
    /// [`unattached_media_grace`](super::ChatConfig::unattached_media_grace) (a batch per call)
    /// and returns how many. A started chat runs it every
    /// [`media_sweep_interval`](super::ChatConfig::media_sweep_interval).
    ///
    /// It also removes the temporary files of uploads that a crash interrupted (left in the
    /// media store's staging directory, untouched for an hour); they are logged, not counted.
    pub async fn sweep_unattached_media(&self) -> Result<usize> {
        self.sweep_abandoned_uploads().await;
        let before = self.now().minus(self.config().unattached_media_grace);
        let candidates = self.store().unattached_media(before, SWEEP_BATCH).await?;
        let mut deleted = 0;
        for id in candidates {
            // Released only if still unattached: a send may have attached it since.
            if let Some(key) = self.store().release_media(id).await? {
                self.delete_bytes(&key).await;
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// Removes the staging files of interrupted uploads. A failure is logged: the sweep of
    /// unattached media goes on either way.
    async fn sweep_abandoned_uploads(&self) {
        let dir = self.inner.media.staging_dir();
        let now = std::time::SystemTime::now();
        let swept =
            tokio::task::spawn_blocking(move || sweep_abandoned(&dir, ABANDONED_UPLOAD_IDLE, now))
                .await
                .map_err(std::io::Error::other)
                .and_then(|swept| swept);
        match swept {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "removed interrupted uploads' files"),
            Err(err) => tracing::warn!(error = %err, "sweep of interrupted uploads failed"),
        }
    }

    /// After a message carrying `id` was deleted: deletes the media if no message carries it
    /// any more. A failure is logged, not returned: the message is deleted either way, and an
    /// orphaned row is unreachable (nobody can see it) until a later sweep takes it.
    pub(super) async fn release_media(&self, id: MediaId) {
        match self.store().release_media(id).await {
            Ok(Some(key)) => self.delete_bytes(&key).await,
            Ok(None) => {}
            Err(err) => tracing::warn!(media = %id, error = %err, "media release failed"),
        }
    }

    /// Deletes a media file and its thumbnail, logging failures (their row is gone already,
    /// so nothing can reach them).
    async fn delete_bytes(&self, key: &str) {
        for key in [key.to_owned(), thumbnail_key(key)] {
            if let Err(err) = self.inner.media.delete(&key).await {
                tracing::warn!(error = %err, "media bytes could not be deleted");
            }
        }
    }

    /// The actor's upload quota: their kind of user's daily bytes, over the last 24 hours.
    fn upload_quota(&self, actor: &Actor) -> UploadQuota {
        let limit = if actor.user().is_guest {
            self.config().guest_upload_quota_per_day
        } else {
            self.config().upload_quota_per_day
        };
        let since = self.now().minus(std::time::Duration::from_secs(24 * 3600));
        UploadQuota { since, limit }
    }

    /// `QuotaExceeded` unless `more` bytes fit in what is left of the actor's daily quota: an
    /// early answer, before the bytes are read. The store checks again, atomically, when the
    /// upload is recorded.
    async fn check_quota(&self, actor: &Actor, more: u64) -> Result<()> {
        let quota = self.upload_quota(actor);
        let used = self
            .store()
            .uploaded_bytes_since(actor.id(), quota.since)
            .await?;
        if used.saturating_add(more) > quota.limit {
            return Err(Error::QuotaExceeded { limit: quota.limit });
        }
        Ok(())
    }

    /// Reads an audio file's container where it was staged, on the blocking pool (a read of
    /// the file, no decoding), and keeps the file as it was sent, with its duration.
    async fn probe_audio(&self, staged: Staged, mime: &'static str) -> Result<Stored> {
        let max = self.config().max_audio_duration;
        let (staged, probed) = tokio::task::spawn_blocking(move || {
            // On an error the staged file is dropped (removed) here, off the runtime.
            let file = staged.reader().map_err(io_error)?;
            let probed = audio::probe_file(file, mime, max)?;
            Ok::<_, Error>((staged, probed))
        })
        .await
        .map_err(|e| Error::Internal(format!("audio task failed: {e}")))??;
        Ok(Stored {
            size: staged.len(),
            sha256: staged.sha256().to_owned(),
            content: Content::Staged(staged),
            mime,
            details: MediaDetails {
                duration_ms: Some(probed.duration_ms),
                ..MediaDetails::default()
            },
            thumbnail: None,
        })
    }

    /// Runs `work` (decoding and encoding an image) over a staged upload's bytes on the
    /// blocking pool, at most one image per CPU at once. The upload is read into memory for
    /// that (it is within the upload limit, and its pixels are checked against the pixel
    /// limit before decoding); the staged file is removed once read.
    pub(super) async fn decode_image<T: Send + 'static>(
        &self,
        staged: Staged,
        work: impl FnOnce(&[u8]) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _slot = self
            .inner
            .image_slots
            .acquire()
            .await
            .map_err(|_| Error::Unavailable("the chat is shutting down"))?;
        tokio::task::spawn_blocking(move || {
            let bytes = staged.read_all().map_err(io_error)?;
            drop(staged);
            work(&bytes)
        })
        .await
        .map_err(|e| Error::Internal(format!("image task failed: {e}")))?
    }

    /// Re-encodes an image (see [`Chat::decode_image`]).
    async fn reencode_image(&self, staged: Staged, mime: &'static str) -> Result<Stored> {
        let max_pixels = self.config().max_image_pixels;
        let out = self
            .decode_image(staged, move |bytes| reencode(bytes, mime, max_pixels))
            .await?;
        let thumbnail_mime = out.thumbnail.as_ref().map(|(_, m)| (*m).to_owned());
        Ok(Stored {
            size: out.bytes.len() as u64,
            sha256: content_key(&out.bytes),
            content: Content::Bytes(Bytes::from(out.bytes)),
            mime: out.mime,
            details: MediaDetails {
                width: Some(out.width),
                height: Some(out.height),
                duration_ms: None,
                thumbnail_mime,
            },
            thumbnail: out.thumbnail.map(|(b, _)| Bytes::from(b)),
        })
    }
}

fn io_error(err: std::io::Error) -> Error {
    Error::Storage(StoreError::backend(err))
}

/// What an upload becomes in the media store.
struct Stored {
    content: Content,
    size: u64,
    sha256: String,
    mime: &'static str,
    details: MediaDetails,
    thumbnail: Option<Bytes>,
}

/// The bytes to store: a fresh encoding in memory, or the upload as it was staged.
enum Content {
    Bytes(Bytes),
    Staged(Staged),
}

#[cfg(test)]
mod tests;
