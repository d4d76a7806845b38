//! Uploads and downloads of media, checked against room membership.

use bytes::Bytes;

use super::{Actor, Chat};
use crate::error::{Error, Result};
use crate::media::{classify, content_key};
use crate::model::{Media, MediaId, NewMedia, RoomId};

impl Chat {
    /// Stores an upload for `room`. The type is decided by sniffing the bytes; a `declared`
    /// type that disagrees, an unaccepted format or an empty file is `UnsupportedMedia`; more
    /// than `max_upload_bytes` is `TooLarge`. Not a member: `NotFound`.
    pub async fn upload(
        &self,
        actor: &Actor,
        room: RoomId,
        bytes: Bytes,
        declared: Option<&str>,
    ) -> Result<Media> {
        self.membership(actor, room).await?;
        let limit = self.config().max_upload_bytes;
        if bytes.len() > limit {
            return Err(Error::TooLarge {
                what: "upload",
                limit,
            });
        }
        let mime = classify(&bytes, declared)?;
        let sha256 = content_key(&bytes);
        let size = bytes.len() as u64;
        self.inner.media.put(&sha256, bytes).await?;
        let new = NewMedia {
            room_id: room,
            uploader_id: actor.id(),
            mime: mime.to_owned(),
            size,
            sha256,
            created_at: self.now(),
        };
        Ok(self.store().create_media(new).await?)
    }

    /// The metadata and bytes of media, for members of the room it was uploaded to. Anyone
    /// else gets `NotFound`, exactly as for an id that does not exist.
    pub async fn download(&self, actor: &Actor, id: MediaId) -> Result<(Media, Bytes)> {
        let media = self
            .store()
            .media(id)
            .await?
            .ok_or(Error::NotFound("media"))?;
        self.membership(actor, media.room_id)
            .await
            .map_err(|_| Error::NotFound("media"))?;
        let bytes = self
            .inner
            .media
            .get(&media.sha256)
            .await?
            .ok_or(Error::NotFound("media"))?;
        Ok((media, bytes))
    }
}
