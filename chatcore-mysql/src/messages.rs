//! SQL for the `messages` table: appends (one or a batch per transaction), history pages,
//! edits and unread counts.

use chatcore::{
    AppendResult, Entity, MediaId, MediaRef, Message, MessageId, NewMessage, RoomId, Sender, Seq,
    StoreError, StoreResult, Timestamp, UserId,
};
use sqlx::mysql::MySqlRow;
use sqlx::{Connection, MySqlConnection, MySqlExecutor, MySqlPool, Row};

use crate::error::{backend, is_unique_violation, missing_ref, utf8};
use crate::rooms;

/// A message joined with its sender's current display name and its media, as the store
/// returns it; queries append their `WHERE`.
macro_rules! select_message {
    () => {
        "SELECT m.id, m.room_id, m.seq, m.sender_id, u.display_name, m.body, m.media_id, md.mime, md.size, \
         m.reply_to, m.client_id, m.created_at, m.edited_at, m.deleted \
         FROM messages m JOIN users u ON u.id = m.sender_id LEFT JOIN media md ON md.id = m.media_id"
    };
}

fn from_row(row: &MySqlRow) -> Result<Message, sqlx::Error> {
    let media_id: Option<i64> = row.try_get("media_id")?;
    let mime: Option<String> = row.try_get("mime")?;
    let size: Option<u64> = row.try_get("size")?;
    let media = match (media_id, mime, size) {
        (Some(id), Some(mime), Some(size)) => Some(MediaRef {
            id: MediaId(id),
            mime,
            size,
        }),
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
        client_id: utf8(row.try_get("client_id")?)?,
        created_at: Timestamp(row.try_get("created_at")?),
        edited_at: row.try_get::<Option<i64>, _>("edited_at")?.map(Timestamp),
        deleted: row.try_get("deleted")?,
    })
}

// ---- appends ----

/// Appends `msgs` in one transaction, one savepoint per message so that a message that breaks
/// a rule (missing room, unknown sender) is rolled back alone. If the transaction itself fails
/// (a deadlock, a lost connection), each message is retried in a transaction of its own, so
/// one bad apple never fails the others.
pub(crate) async fn append_batch(pool: &MySqlPool, msgs: Vec<NewMessage>) -> Vec<AppendResult> {
    chatcore::append_or_retry_each(&msgs, |batch| append_in_one_transaction(pool, batch)).await
}

async fn append_in_one_transaction(
    pool: &MySqlPool,
    msgs: &[NewMessage],
) -> StoreResult<Vec<AppendResult>> {
    let mut tx = pool.begin().await.map_err(backend)?;
    // Lock every room's counter up front, in id order: two batches touching the same rooms
    // then queue behind each other instead of deadlocking.
    let mut rooms: Vec<RoomId> = msgs.iter().map(|m| m.room_id).collect();
    rooms.sort_unstable();
    rooms.dedup();
    for &room in &rooms {
        rooms::lock_last_seq(&mut tx, room).await?;
    }
    let mut results = Vec::with_capacity(msgs.len());
    for msg in msgs {
        let mut savepoint = tx.begin().await.map_err(backend)?;
        match append_one(&mut savepoint, msg).await {
            Ok(appended) => {
                savepoint.commit().await.map_err(backend)?;
                results.push(Ok(appended));
            }
            Err(err @ (StoreError::Missing(_) | StoreError::Duplicate(_))) => {
                savepoint.rollback().await.map_err(backend)?;
                results.push(Err(err));
            }
            Err(err) => return Err(err),
        }
    }
    tx.commit().await.map_err(backend)?;
    Ok(results)
}

/// One append inside the caller's transaction.
async fn append_one(conn: &mut MySqlConnection, msg: &NewMessage) -> AppendResult {
    // With the room's counter row locked (and READ COMMITTED reads), no other append to this
    // room is in flight anywhere, so the client_id check sees every committed send.
    let last = rooms::lock_last_seq(&mut *conn, msg.room_id)
        .await?
        .ok_or(StoreError::Missing(Entity::Room))?;
    if rooms::member(&mut *conn, msg.room_id, msg.sender_id)
        .await?
        .is_none()
    {
        return Err(StoreError::Missing(Entity::Member));
    }
    if let Some(first) = by_client_id(&mut *conn, msg).await? {
        return Ok((first, false));
    }
    let seq = last + 1;
    if let Err(err) = insert(&mut *conn, msg, seq).await {
        // Only a writer that skipped the room lock could have raced us to the same client_id.
        if is_unique_violation(&err)
            && let Some(first) = by_client_id(&mut *conn, msg).await?
        {
            return Ok((first, false));
        }
        // The sender is a member, so a missing reference can only be the media.
        return Err(missing_ref(Entity::Media)(err));
    }
    rooms::set_last_seq(conn, msg.room_id, seq).await?;
    let stored = at_seq(conn, msg.room_id, seq).await?;
    Ok((stored.ok_or(StoreError::Missing(Entity::Message))?, true))
}

async fn by_client_id(
    ex: impl MySqlExecutor<'_>,
    msg: &NewMessage,
) -> StoreResult<Option<Message>> {
    sqlx::query(concat!(
        select_message!(),
        " WHERE m.room_id = ? AND m.sender_id = ? AND m.client_id = ?"
    ))
    .bind(msg.room_id.0)
    .bind(msg.sender_id.0)
    .bind(msg.client_id.as_bytes())
    .try_map(|row: MySqlRow| from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

async fn insert(ex: impl MySqlExecutor<'_>, msg: &NewMessage, seq: Seq) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO messages (room_id, seq, sender_id, body, media_id, reply_to, client_id, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(msg.room_id.0)
    .bind(seq)
    .bind(msg.sender_id.0)
    .bind(&msg.body)
    .bind(msg.media_id.map(|m| m.0))
    .bind(msg.reply_to)
    .bind(msg.client_id.as_bytes())
    .bind(msg.created_at.0)
    .execute(ex)
    .await?;
    Ok(())
}

// ---- reads ----

pub(crate) async fn at_seq(
    ex: impl MySqlExecutor<'_>,
    room: RoomId,
    seq: Seq,
) -> StoreResult<Option<Message>> {
    sqlx::query(concat!(
        select_message!(),
        " WHERE m.room_id = ? AND m.seq = ?"
    ))
    .bind(room.0)
    .bind(seq)
    .try_map(|row: MySqlRow| from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

/// Newest first: the caller reverses the page.
pub(crate) async fn before(
    ex: impl MySqlExecutor<'_>,
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
    .try_map(|row: MySqlRow| from_row(&row))
    .fetch_all(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn after(
    ex: impl MySqlExecutor<'_>,
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
    .try_map(|row: MySqlRow| from_row(&row))
    .fetch_all(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn count_unread(
    ex: impl MySqlExecutor<'_>,
    room: RoomId,
    user: UserId,
    after: Seq,
) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE room_id = ? AND seq > ? AND sender_id <> ? AND deleted = FALSE",
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
    ex: impl MySqlExecutor<'_>,
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
    ex: impl MySqlExecutor<'_>,
    room: RoomId,
    seq: Seq,
    at: Timestamp,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE messages SET body = '', media_id = NULL, deleted = TRUE, edited_at = ? WHERE room_id = ? AND seq = ?",
    )
    .bind(at.0)
    .bind(room.0)
    .bind(seq)
    .execute(ex)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}
