//! The `media` table (metadata only; the bytes live in a `MediaStore`).

use chatcore::{
    Entity, Media, MediaId, NewMedia, RoomId, StoreError, StoreResult, Timestamp, UserId,
};

use crate::db::Cols;
use crate::dialect::Dialect;
use crate::sql::{Conn, Sql};

fn from_row<D: Dialect>(row: Cols<'_, D>) -> Result<Media, sqlx::Error> {
    let size: i64 = row.get("size")?;
    Ok(Media {
        id: MediaId(row.get("id")?),
        room_id: RoomId(row.get("room_id")?),
        uploader_id: UserId(row.get("uploader_id")?),
        mime: row.get("mime")?,
        size: u64::try_from(size).map_err(|e| sqlx::Error::Decode(e.into()))?,
        sha256: row.get("sha256")?,
        created_at: Timestamp(row.get("created_at")?),
    })
}

/// Inserts the metadata; the caller has checked that the room exists, so a missing foreign row
/// is the uploader.
pub async fn insert<D: Dialect>(conn: &mut Conn<D>, new: NewMedia) -> StoreResult<Media> {
    let size = i64::try_from(new.size).map_err(StoreError::backend)?;
    let id = Sql::<D>::new(
        "INSERT INTO media (room_id, uploader_id, mime, size, sha256, created_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(new.room_id.0)
    .bind(new.uploader_id.0)
    .bind(new.mime.as_str())
    .bind(size)
    .bind(new.sha256.as_str())
    .bind(new.created_at.0)
    .references(Entity::User)
    .insert(conn)
    .await?;
    Ok(Media {
        id: MediaId(id),
        room_id: new.room_id,
        uploader_id: new.uploader_id,
        mime: new.mime,
        size: new.size,
        sha256: new.sha256,
        created_at: new.created_at,
    })
}

/// Media metadata by id.
pub async fn by_id<D: Dialect>(conn: &mut Conn<D>, id: MediaId) -> StoreResult<Option<Media>> {
    Sql::<D>::new(
        "SELECT id, room_id, uploader_id, mime, size, sha256, created_at FROM media WHERE id = ?",
    )
    .bind(id.0)
    .fetch_optional(conn, from_row)
    .await
}
