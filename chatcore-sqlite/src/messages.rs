//! SQL for the `messages` table: single messages, history pages, edits and unread counts
//! (appends are in [`crate::append`]).

use chatcore::{
    MediaId, MediaRef, Message, MessageId, NewMessage, RoomId, Sender, Seq, StoreResult, Timestamp,
    UserId,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteExecutor};

use crate::error::backend;

/// A message joined with its sender's current display name and its media, as the store
/// returns it; queries append their `WHERE`.
macro_rules! select_message {
    () => {
        "SELECT m.id, m.room_id, m.seq, m.sender_id, u.display_name, m.body, m.media_id, md.mime, md.size, \
         m.reply_to, m.client_id, m.created_at, m.edited_at, m.deleted \
         FROM messages m JOIN users u ON u.id = m.sender_id LEFT JOIN media md ON md.id = m.media_id"
    };
}

fn from_row(row: &SqliteRow) -> Result<Message, sqlx::Error> {
    let media_id: Option<i64> = row.try_get("media_id")?;
    let mime: Option<String> = row.try_get("mime")?;
    let media = match (media_id, mime) {
        (Some(id), Some(mime)) => {
            let size: i64 = row.try_get("size")?;
            let size = u64::try_from(size).map_err(|e| sqlx::Error::Decode(e.into()))?;
            Some(MediaRef {
                id: MediaId(id),
                mime,
                size,
            })
        }
        _ => None,
    };
    Ok(Message {
        id: MessageId(row.try_get("id")?),
        room_id: RoomId(row.try_get("room_id")?),
        seq: row.try_get("seq")?,
        sender: Sender {
            id: UserId(row.try_get("sender_id")?),
            display_name: row.try_get("display_name")?,
        },
        body: row.try_get("body")?,
        media,
        reply_to: row.try_get("reply_to")?,
        client_id: row.try_get("client_id")?,
        created_at: Timestamp(row.try_get("created_at")?),
        edited_at: row.try_get::<Option<i64>, _>("edited_at")?.map(Timestamp),
        deleted: row.try_get("deleted")?,
    })
}

// ---- reads ----

/// The message `msg`'s sender stored under `msg.client_id` in its room, if any.
pub(crate) async fn by_client_id(
    ex: impl SqliteExecutor<'_>,
    msg: &NewMessage,
) -> StoreResult<Option<Message>> {
    sqlx::query(concat!(
        select_message!(),
        " WHERE m.room_id = ? AND m.sender_id = ? AND m.client_id = ?"
    ))
    .bind(msg.room_id.0)
    .bind(msg.sender_id.0)
    .bind(&msg.client_id)
    .try_map(|row: SqliteRow| from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn at_seq(
    ex: impl SqliteExecutor<'_>,
    room: RoomId,
    seq: Seq,
) -> StoreResult<Option<Message>> {
    sqlx::query(concat!(
        select_message!(),
        " WHERE m.room_id = ? AND m.seq = ?"
    ))
    .bind(room.0)
    .bind(seq)
    .try_map(|row: SqliteRow| from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

/// Newest first: the caller reverses the page.
pub(crate) async fn before(
    ex: impl SqliteExecutor<'_>,
    room: RoomId,
    before: Seq,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    sqlx::query(concat!(
        select_message!(),
        " WHERE m.room_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"
    ))
    .bind(room.0)
    .bind(before)
    .bind(limit)
    .try_map(|row: SqliteRow| from_row(&row))
    .fetch_all(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn after(
    ex: impl SqliteExecutor<'_>,
    room: RoomId,
    after: Seq,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    sqlx::query(concat!(
        select_message!(),
        " WHERE m.room_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?"
    ))
    .bind(room.0)
    .bind(after)
    .bind(limit)
    .try_map(|row: SqliteRow| from_row(&row))
    .fetch_all(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn count_unread(
    ex: impl SqliteExecutor<'_>,
    room: RoomId,
    user: UserId,
    after: Seq,
) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE room_id = ? AND seq > ? AND sender_id <> ? AND deleted = 0",
    )
    .bind(room.0)
    .bind(after)
    .bind(user.0)
    .fetch_one(ex)
    .await
    .map_err(backend)?;
    Ok(n.unsigned_abs())
}

// ---- changes ----

/// Whether a message was changed (`false`: no message at that seq).
pub(crate) async fn edit(
    ex: impl SqliteExecutor<'_>,
    room: RoomId,
    seq: Seq,
    body: &str,
    at: Timestamp,
) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE messages SET body = ?, edited_at = ? WHERE room_id = ? AND seq = ?")
            .bind(body)
            .bind(at.0)
            .bind(room.0)
            .bind(seq)
            .execute(ex)
            .await
            .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

/// Turns the message into a tombstone; whether there was one.
pub(crate) async fn tombstone(
    ex: impl SqliteExecutor<'_>,
    room: RoomId,
    seq: Seq,
    at: Timestamp,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE messages SET body = '', media_id = NULL, deleted = 1, edited_at = ? WHERE room_id = ? AND seq = ?",
    )
    .bind(at.0)
    .bind(room.0)
    .bind(seq)
    .execute(ex)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}
