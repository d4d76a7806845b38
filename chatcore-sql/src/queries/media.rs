//! The `media` table (metadata only; the bytes live in a `MediaStore`).
//!
//! Rows keep an integer primary key (what `messages.media_id` refers to); the world only ever
//! sees `public_id`, 16 random bytes ([`MediaId`]).

use chatcore::{
    Entity, Media, MediaDetails, MediaId, MediaRef, NewMedia, RoomId, StoreError, StoreResult,
    Timestamp, Unique, UserId,
};

use crate::db::Cols;
use crate::dialect::Dialect;
use crate::sql::{Conn, Sql};

/// Reads a 16-byte public id column.
pub fn media_id(bytes: Vec<u8>) -> Result<MediaId, sqlx::Error> {
    let bytes: [u8; 16] = bytes
        .try_into()
        .map_err(|_| sqlx::Error::Decode("a media public_id is not 16 bytes".into()))?;
    Ok(MediaId(bytes))
}

fn non_negative<T: TryFrom<i64>>(value: i64) -> Result<T, sqlx::Error>
where
    T::Error: std::error::Error + Send + Sync + 'static,
{
    T::try_from(value).map_err(|e| sqlx::Error::Decode(e.into()))
}

fn opt<T: TryFrom<i64>>(value: Option<i64>) -> Result<Option<T>, sqlx::Error>
where
    T::Error: std::error::Error + Send + Sync + 'static,
{
    value.map(non_negative).transpose()
}

/// The dimensions, duration and thumbnail columns of a row (named `width`, `height`,
/// `duration_ms`, `thumbnail_mime`).
pub fn details<D: Dialect>(row: Cols<'_, D>) -> Result<MediaDetails, sqlx::Error> {
    Ok(MediaDetails {
        width: opt(row.get("width")?)?,
        height: opt(row.get("height")?)?,
        duration_ms: opt(row.get("duration_ms")?)?,
        thumbnail_mime: row.get("thumbnail_mime")?,
    })
}

/// A message's media from the columns `media_public_id`, `mime`, `size` and [`details`]'s;
/// `None` when the message carries none.
pub fn media_ref<D: Dialect>(row: Cols<'_, D>) -> Result<Option<MediaRef>, sqlx::Error> {
    let Some(id) = row.get::<Option<Vec<u8>>>("media_public_id")? else {
        return Ok(None);
    };
    let media = Media {
        id: media_id(id)?,
        room_id: RoomId(0),
        uploader_id: UserId(0),
        mime: row.get("mime")?,
        size: non_negative(row.get("size")?)?,
        sha256: String::new(),
        key: String::new(),
        details: details(row)?,
        created_at: Timestamp(0),
    };
    Ok(Some(MediaRef::from(&media)))
}

fn from_row<D: Dialect>(row: Cols<'_, D>) -> Result<Media, sqlx::Error> {
    Ok(Media {
        id: media_id(row.get("public_id")?)?,
        room_id: RoomId(row.get("room_id")?),
        uploader_id: UserId(row.get("uploader_id")?),
        mime: row.get("mime")?,
        size: non_negative(row.get("size")?)?,
        sha256: row.get("sha256")?,
        key: row.get("file_key")?,
        details: details(row)?,
        created_at: Timestamp(row.get("created_at")?),
    })
}

fn to_i64<T: TryInto<i64>>(value: T) -> StoreResult<i64>
where
    T::Error: std::error::Error + Send + Sync + 'static,
{
    value.try_into().map_err(StoreError::backend)
}

/// Inserts the metadata; the caller has checked that the room exists, so a missing foreign row
/// is the uploader.
pub async fn insert<D: Dialect>(conn: &mut Conn<D>, new: NewMedia) -> StoreResult<Media> {
    let d = &new.details;
    Sql::<D>::new(
        "INSERT INTO media (public_id, room_id, uploader_id, mime, size, sha256, file_key, \
         width, height, duration_ms, thumbnail_mime, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&new.id.0[..])
    .bind(new.room_id.0)
    .bind(new.uploader_id.0)
    .bind(new.mime.as_str())
    .bind(to_i64(new.size)?)
    .bind(new.sha256.as_str())
    .bind(new.key.as_str())
    .bind(d.width.map(i64::from))
    .bind(d.height.map(i64::from))
    .bind(d.duration_ms.map(to_i64).transpose()?)
    .bind(d.thumbnail_mime.as_deref())
    .bind(new.created_at.0)
    .unique(Unique::Media)
    .references(Entity::User)
    .execute(conn)
    .await?;
    Ok(Media {
        id: new.id,
        room_id: new.room_id,
        uploader_id: new.uploader_id,
        mime: new.mime,
        size: new.size,
        sha256: new.sha256,
        key: new.key,
        details: new.details,
        created_at: new.created_at,
    })
}

/// Media metadata by public id.
pub async fn by_id<D: Dialect>(conn: &mut Conn<D>, id: MediaId) -> StoreResult<Option<Media>> {
    Sql::<D>::new(
        "SELECT public_id, room_id, uploader_id, mime, size, sha256, file_key, width, height, \
         duration_ms, thumbnail_mime, created_at FROM media WHERE public_id = ?",
    )
    .bind(&id.0[..])
    .fetch_optional(conn, from_row)
    .await
}

/// Whether a message carries the media.
pub async fn attached<D: Dialect>(conn: &mut Conn<D>, id: MediaId) -> StoreResult<bool> {
    Sql::<D>::new(
        "SELECT COUNT(*) AS n FROM messages m JOIN media md ON md.id = m.media_id \
         WHERE md.public_id = ?",
    )
    .bind(&id.0[..])
    .fetch_one(conn, |row| Ok(row.get::<i64>("n")? > 0))
    .await
}

/// Deletes the row if no message carries it; its file key when it was deleted.
pub async fn delete_unattached<D: Dialect>(
    conn: &mut Conn<D>,
    id: MediaId,
) -> StoreResult<Option<String>> {
    let key = Sql::<D>::new("SELECT file_key FROM media WHERE public_id = ?")
        .bind(&id.0[..])
        .fetch_optional(conn, |row| row.get::<String>("file_key"))
        .await?;
    let Some(key) = key else {
        return Ok(None);
    };
    let deleted = Sql::<D>::new(
        "DELETE FROM media WHERE public_id = ? \
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.media_id = media.id)",
    )
    .bind(&id.0[..])
    .execute(conn)
    .await?;
    Ok((deleted > 0).then_some(key))
}

/// Whether any row keeps its bytes under `key`.
pub async fn key_in_use<D: Dialect>(conn: &mut Conn<D>, key: &str) -> StoreResult<bool> {
    Sql::<D>::new("SELECT COUNT(*) AS n FROM media WHERE file_key = ?")
        .bind(key)
        .fetch_one(conn, |row| Ok(row.get::<i64>("n")? > 0))
        .await
}

/// Up to `limit` uploads older than `before` that no message carries, oldest first.
pub async fn unattached<D: Dialect>(
    conn: &mut Conn<D>,
    before: Timestamp,
    limit: u32,
) -> StoreResult<Vec<MediaId>> {
    Sql::<D>::new(
        "SELECT public_id FROM media md WHERE md.created_at < ? \
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.media_id = md.id) \
         ORDER BY md.created_at LIMIT ?",
    )
    .bind(before.0)
    .bind(i64::from(limit))
    .fetch_all(conn, |row| media_id(row.get("public_id")?))
    .await
}

/// The total size of `user`'s uploads since `since` that still exist.
pub async fn bytes_since<D: Dialect>(
    conn: &mut Conn<D>,
    user: UserId,
    since: Timestamp,
) -> StoreResult<u64> {
    Sql::<D>::built(format!(
        "SELECT CAST(COALESCE(SUM(size), 0) AS {}) AS total FROM media \
         WHERE uploader_id = ? AND created_at >= ?",
        D::INTEGER_CAST
    ))
    .bind(user.0)
    .bind(since.0)
    .fetch_one(conn, |row| non_negative(row.get("total")?))
    .await
}
