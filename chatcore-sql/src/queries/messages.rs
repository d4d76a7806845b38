//! The `messages` table: single messages, history pages, edits and unread counts (appends are in
//! [`crate::append`]).

use chatcore::{
    Custom, Mention, Message, MessageId, RoomId, Sender, Seq, StoreResult, Timestamp, UserId,
};

use crate::db::Cols;
use crate::dialect::Dialect;
use crate::sql::{Conn, Sql};

/// The columns [`from_row`] reads: a message (`m`), its sender's current display name (`u`) and
/// its media (`md`), joined by [`message_joins!`].
macro_rules! message_columns {
    () => {
        "m.id, m.room_id, m.seq, m.sender_id, u.display_name, m.body, m.mentions, \
         md.public_id AS media_public_id, md.mime, md.size, md.width, md.height, md.duration_ms, \
         md.thumbnail_mime, m.reply_to, m.kind, m.payload, m.client_id, m.created_at, \
         m.edited_at, m.deleted"
    };
}

/// The sender and media of message `m`.
macro_rules! message_joins {
    () => {
        " JOIN users u ON u.id = m.sender_id LEFT JOIN media md ON md.id = m.media_id"
    };
}

/// A message joined with its sender's current display name and its media, as the store returns
/// it; queries append their `WHERE`.
macro_rules! select_message {
    () => {
        concat!(
            "SELECT ",
            $crate::queries::messages::message_columns!(),
            " FROM messages m",
            $crate::queries::messages::message_joins!()
        )
    };
}

/// The messages whose ids `$page` selects (a query on `messages` alone), with what
/// [`select_message!`] joins, in seq order `$order`. A history page is picked this way, by the
/// `(room_id, seq)` index before any join, because given the joins MariaDB may read the room's
/// messages by `room_id` alone and sort them: 0.5–0.9 s for a page in the middle of a room of
/// 1,000,000 messages, against about a millisecond for the page picked first.
macro_rules! select_page {
    ($page:literal, $order:literal) => {
        concat!(
            "SELECT ",
            message_columns!(),
            " FROM (",
            $page,
            ") chosen JOIN messages m ON m.id = chosen.id",
            message_joins!(),
            " ORDER BY m.seq ",
            $order
        )
    };
}

pub(crate) use {message_columns, message_joins, select_message};

/// Reads a row of `select_message!`.
pub fn from_row<D: Dialect>(row: Cols<'_, D>) -> Result<Message, sqlx::Error> {
    let media = crate::queries::media::media_ref(row)?;
    Ok(Message {
        id: MessageId(row.get("id")?),
        room_id: RoomId(row.get("room_id")?),
        seq: row.get("seq")?,
        sender: Sender {
            id: UserId(row.get("sender_id")?),
            display_name: row.get("display_name")?,
        },
        body: row.get("body")?,
        mentions: mentions(row.get("mentions")?)?,
        media: media.map(Box::new),
        reply_to: row.get("reply_to")?,
        custom: custom(row.get("kind")?, row.get("payload")?)?.map(Box::new),
        client_id: row.get("client_id")?,
        created_at: Timestamp(row.get("created_at")?),
        edited_at: row.get::<Option<i64>>("edited_at")?.map(Timestamp),
        deleted: row.get("deleted")?,
        // Filled in by `reactions::attach` where the store's contract asks for them.
        reactions: Vec::new(),
    })
}

/// The mentions of a row from its `mentions` column (JSON text, as stored by
/// [`mentions_column`]; `NULL` for none).
fn mentions(text: Option<String>) -> Result<Vec<Mention>, sqlx::Error> {
    match text {
        Some(text) => serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(e.into())),
        None => Ok(Vec::new()),
    }
}

/// The `mentions` column of a message: its mentions as compact JSON text, `NULL` when it has
/// none (most messages), so they cost nothing to store or read.
pub fn mentions_column(mentions: &[Mention]) -> Option<String> {
    if mentions.is_empty() {
        return None;
    }
    // Serializing numbers into a string cannot fail.
    serde_json::to_string(mentions).ok()
}

/// The custom kind of a row from its `kind` and `payload` columns (JSON text, as stored by
/// [`kind_columns`]).
fn custom(kind: Option<String>, payload: Option<String>) -> Result<Option<Custom>, sqlx::Error> {
    let Some(kind) = kind else {
        return Ok(None);
    };
    let payload = match payload {
        Some(text) => serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(e.into()))?,
        None => serde_json::Value::Null,
    };
    Ok(Some(Custom { kind, payload }))
}

/// The `kind` and `payload` columns of a message: its custom kind's name and payload as compact
/// JSON text, both `NULL` for a built-in message.
pub fn kind_columns(custom: Option<&Custom>) -> (Option<&str>, Option<String>) {
    match custom {
        Some(c) => (Some(c.kind.as_str()), Some(c.payload.to_string())),
        None => (None, None),
    }
}

// ---- reads ----

/// The message with id `id`, if any.
pub async fn by_id<D: Dialect>(conn: &mut Conn<D>, id: MessageId) -> StoreResult<Option<Message>> {
    Sql::<D>::new(concat!(select_message!(), " WHERE m.id = ?"))
        .bind(id.0)
        .fetch_optional(conn, from_row)
        .await
}

/// The message at `seq` in `room`.
pub async fn at_seq<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    seq: Seq,
) -> StoreResult<Option<Message>> {
    Sql::<D>::new(concat!(
        select_message!(),
        " WHERE m.room_id = ? AND m.seq = ?"
    ))
    .bind(room.0)
    .bind(seq)
    .fetch_optional(conn, from_row)
    .await
}

/// Up to `limit` messages with seq < `before`, newest first (the caller reverses the page).
pub async fn before<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    before: Seq,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    Sql::<D>::new(select_page!(
        "SELECT id FROM messages WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
        "DESC"
    ))
    .bind(room.0)
    .bind(before)
    .bind(i64::from(limit))
    .fetch_all(conn, from_row)
    .await
}

/// Up to `limit` messages with seq > `after`, oldest first.
pub async fn after<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    after: Seq,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    Sql::<D>::new(select_page!(
        "SELECT id FROM messages WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        "ASC"
    ))
    .bind(room.0)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(conn, from_row)
    .await
}

/// The newest message of every room of `user` that has one.
pub async fn newest_in_rooms_of<D: Dialect>(
    conn: &mut Conn<D>,
    user: UserId,
) -> StoreResult<Vec<Message>> {
    Sql::<D>::new(concat!(
        select_message!(),
        " JOIN members mb ON mb.room_id = m.room_id AND mb.user_id = ? \
          JOIN rooms r ON r.id = m.room_id AND r.last_seq = m.seq"
    ))
    .bind(user.0)
    .fetch_all(conn, from_row)
    .await
}

/// For every room of `user` with unread messages: how many messages after the user's read
/// marker others sent and did not delete (rooms without any are left out).
pub async fn unread_in_rooms_of<D: Dialect>(
    conn: &mut Conn<D>,
    user: UserId,
) -> StoreResult<Vec<(RoomId, u64)>> {
    Sql::<D>::new(
        "SELECT m.room_id, COUNT(*) AS n FROM members mb \
         JOIN messages m ON m.room_id = mb.room_id AND m.seq > mb.last_read_seq \
         WHERE mb.user_id = ? AND m.sender_id <> ? AND m.deleted = FALSE \
         GROUP BY m.room_id",
    )
    .bind(user.0)
    .bind(user.0)
    .fetch_all(conn, |row| {
        let n: i64 = row.get("n")?;
        let n = u64::try_from(n).map_err(|e| sqlx::Error::Decode(e.into()))?;
        Ok((RoomId(row.get("room_id")?), n))
    })
    .await
}

/// Messages after `after` sent by someone other than `user` and not deleted.
pub async fn count_unread<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    user: UserId,
    after: Seq,
) -> StoreResult<u64> {
    let n: i64 = Sql::<D>::new(
        "SELECT COUNT(*) AS n FROM messages \
         WHERE room_id = ? AND seq > ? AND sender_id <> ? AND deleted = FALSE",
    )
    .bind(room.0)
    .bind(after)
    .bind(user.0)
    .fetch_one(conn, |row| row.get("n"))
    .await?;
    Ok(n.unsigned_abs())
}

/// Locks the message at `seq` for the rest of the transaction and returns its id, unless there
/// is none or it is deleted.
pub async fn lock_live<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    seq: Seq,
) -> StoreResult<Option<MessageId>> {
    Sql::<D>::new(
        "SELECT id FROM messages WHERE room_id = ? AND seq = ? AND deleted = FALSE FOR UPDATE",
    )
    .bind(room.0)
    .bind(seq)
    .fetch_optional(conn, |row| Ok(MessageId(row.get("id")?)))
    .await
}

// ---- changes ----

/// Replaces a message's body and mentions; whether there was a message at that seq.
pub async fn edit<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    seq: Seq,
    body: &str,
    mentions: &[Mention],
    at: Timestamp,
) -> StoreResult<bool> {
    let mentions = mentions_column(mentions);
    Ok(Sql::<D>::new(
        "UPDATE messages SET body = ?, mentions = ?, edited_at = ? WHERE room_id = ? AND seq = ?",
    )
    .bind(body)
    .bind(mentions.as_deref())
    .bind(at.0)
    .bind(room.0)
    .bind(seq)
    .execute(conn)
    .await?
        > 0)
}

/// Turns the message into a tombstone; whether there was one.
pub async fn tombstone<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    seq: Seq,
    at: Timestamp,
) -> StoreResult<bool> {
    Ok(Sql::<D>::new(
        "UPDATE messages SET body = '', mentions = NULL, media_id = NULL, kind = NULL, \
         payload = NULL, \
         deleted = TRUE, edited_at = ? \
         WHERE room_id = ? AND seq = ?",
    )
    .bind(at.0)
    .bind(room.0)
    .bind(seq)
    .execute(conn)
    .await?
        > 0)
}
