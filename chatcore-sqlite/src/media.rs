//! SQL for the `media` table (metadata only; the bytes live in a `MediaStore`).

use chatcore::{Entity, Media, MediaId, NewMedia, RoomId, StoreResult, Timestamp, UserId};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteExecutor};

use crate::error::{backend, missing_ref};

fn from_row(row: &SqliteRow) -> Result<Media, sqlx::Error> {
    let size: i64 = row.try_get("size")?;
    Ok(Media {
        id: MediaId(row.try_get("id")?),
        room_id: RoomId(row.try_get("room_id")?),
        uploader_id: UserId(row.try_get("uploader_id")?),
        mime: row.try_get("mime")?,
        size: u64::try_from(size).map_err(|e| sqlx::Error::Decode(e.into()))?,
        sha256: row.try_get("sha256")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

/// Inserts the metadata; the caller has checked that the room exists, so a missing foreign
/// row is the uploader.
pub(crate) async fn insert(ex: impl SqliteExecutor<'_>, new: NewMedia) -> StoreResult<Media> {
    let size = i64::try_from(new.size).map_err(chatcore::StoreError::backend)?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO media (room_id, uploader_id, mime, size, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?) \
         RETURNING id",
    )
    .bind(new.room_id.0)
    .bind(new.uploader_id.0)
    .bind(&new.mime)
    .bind(size)
    .bind(&new.sha256)
    .bind(new.created_at.0)
    .fetch_one(ex)
    .await
    .map_err(missing_ref(Entity::User))?;
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

pub(crate) async fn by_id(ex: impl SqliteExecutor<'_>, id: MediaId) -> StoreResult<Option<Media>> {
    sqlx::query(
        "SELECT id, room_id, uploader_id, mime, size, sha256, created_at FROM media WHERE id = ?",
    )
    .bind(id.0)
    .try_map(|row: SqliteRow| from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}
