//! SQL for the `media` table (metadata only; the bytes live in a `MediaStore`).

use chatcore::{Entity, Media, MediaId, NewMedia, RoomId, StoreResult, Timestamp, UserId};
use sqlx::mysql::MySqlRow;
use sqlx::{MySqlExecutor, Row};

use crate::error::{backend, missing_ref};
use crate::users::inserted_id;

fn from_row(row: &MySqlRow) -> Result<Media, sqlx::Error> {
    Ok(Media {
        id: MediaId(row.try_get("id")?),
        room_id: RoomId(row.try_get("room_id")?),
        uploader_id: UserId(row.try_get("uploader_id")?),
        mime: row.try_get("mime")?,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

/// Inserts the metadata; the caller has checked that the room exists, so a missing foreign
/// row is the uploader.
pub(crate) async fn insert(ex: impl MySqlExecutor<'_>, new: NewMedia) -> StoreResult<Media> {
    let done = sqlx::query(
        "INSERT INTO media (room_id, uploader_id, mime, size, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(new.room_id.0)
    .bind(new.uploader_id.0)
    .bind(&new.mime)
    .bind(new.size)
    .bind(&new.sha256)
    .bind(new.created_at.0)
    .execute(ex)
    .await
    .map_err(missing_ref(Entity::User))?;
    Ok(Media {
        id: MediaId(inserted_id(&done)?),
        room_id: new.room_id,
        uploader_id: new.uploader_id,
        mime: new.mime,
        size: new.size,
        sha256: new.sha256,
        created_at: new.created_at,
    })
}

pub(crate) async fn by_id(ex: impl MySqlExecutor<'_>, id: MediaId) -> StoreResult<Option<Media>> {
    sqlx::query(
        "SELECT id, room_id, uploader_id, mime, size, sha256, created_at FROM media WHERE id = ?",
    )
    .bind(id.0)
    .try_map(|row: MySqlRow| from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}
