//! The shared batch append plan: a whole batch in one transaction and a fixed handful of
//! statements, whatever its size (MySQL/MariaDB and PostgreSQL run it; SQLite has a plan of its
//! own tuned to its single writer).
//!
//! 1. lock the batch's rooms (`SELECT … FOR UPDATE`, in id order, so two batches touching the
//!    same rooms queue instead of deadlocking) and read their counters;
//! 2. read which senders are members, with their names;
//! 3. read the attached media;
//! 4. read the messages already stored under the batch's `client_id`s (retries);
//! 5. decide in Rust: refusals, retries, seqs;
//! 6. insert the new messages with multi-row `INSERT`s and learn their ids;
//! 7. move every room counter in one `UPDATE`.
//!
//! With the rooms locked, no other append to them is in flight anywhere, so what steps 2–4 read
//! stays true until the commit: seqs stay gapless and a retried `client_id` is answered with
//! the first message, also across server nodes.

use std::collections::HashMap;

use chatcore::{
    AppendResult, Entity, MediaId, MediaRef, Message, MessageId, NewMessage, RoomId, Sender, Seq,
    StoreError, StoreResult, UserId,
};
use sqlx::Pool;

use crate::dialect::{Dialect, NewIds};
use crate::queries::in_list;
use crate::queries::messages::{self, select_message};
use crate::sql::{Conn, Sql, backend};

/// Appends `msgs` in one transaction and answers for each, in order. If the transaction fails,
/// each message is retried in a transaction of its own, so one bad apple never fails the others.
pub async fn append_batch<D: Dialect>(
    pool: &Pool<D::DB>,
    msgs: Vec<NewMessage>,
) -> Vec<AppendResult> {
    chatcore::append_or_retry_each(&msgs, |batch| in_one_transaction::<D>(pool, batch)).await
}

async fn in_one_transaction<D: Dialect>(
    pool: &Pool<D::DB>,
    msgs: &[NewMessage],
) -> StoreResult<Vec<AppendResult>> {
    let mut tx = D::begin_write(pool).await.map_err(backend)?;
    let results = append_locked::<D>(&mut tx, msgs).await?;
    tx.commit().await.map_err(backend)?;
    Ok(results)
}

/// The key that makes a send idempotent.
type Key = (RoomId, UserId, String);

/// What one message of the batch will be answered with, before the new ids are known.
enum Answer {
    Refused(StoreError),
    Stored(Box<Message>),
    /// The `n`th row inserted by this batch (`true`: this message created it).
    Row(usize, bool),
}

async fn append_locked<D: Dialect>(
    conn: &mut Conn<D>,
    msgs: &[NewMessage],
) -> StoreResult<Vec<AppendResult>> {
    let mut counters = lock_rooms::<D>(conn, msgs).await?;
    let senders = member_names::<D>(conn, msgs, &counters).await?;
    let media = media_of::<D>(conn, msgs).await?;
    let mut stored = retried::<D>(conn, msgs).await?;

    let mut rows: Vec<Message> = Vec::new();
    let mut new_keys: HashMap<Key, usize> = HashMap::new();
    let mut answers = Vec::with_capacity(msgs.len());
    for msg in msgs {
        let key = (msg.room_id, msg.sender_id, msg.client_id.clone());
        let answer = if !counters.contains_key(&msg.room_id) {
            Answer::Refused(StoreError::Missing(Entity::Room))
        } else if !senders.contains_key(&(msg.room_id, msg.sender_id)) {
            Answer::Refused(StoreError::Missing(Entity::Member))
        } else if msg.media_id.is_some_and(|id| !media.contains_key(&id)) {
            Answer::Refused(StoreError::Missing(Entity::Media))
        } else if let Some(first) = stored.remove(&key) {
            // Answer later repeats of the key in this batch with the same message.
            stored.insert(key, first.clone());
            Answer::Stored(Box::new(first))
        } else if let Some(&row) = new_keys.get(&key) {
            Answer::Row(row, false)
        } else {
            let seq = counters.entry(msg.room_id).or_default();
            *seq += 1;
            let display_name = senders[&(msg.room_id, msg.sender_id)].clone();
            let media = msg
                .media_id
                .and_then(|id| media.get(&id))
                .map(|(_, m)| m.clone());
            rows.push(new_row(msg, *seq, display_name, media));
            new_keys.insert(key, rows.len() - 1);
            Answer::Row(rows.len() - 1, true)
        };
        answers.push(answer);
    }
    insert_rows::<D>(conn, &mut rows, &media).await?;
    move_counters::<D>(conn, &rows).await?;
    Ok(answers
        .into_iter()
        .map(|answer| match answer {
            Answer::Refused(err) => Err(err),
            Answer::Stored(first) => Ok((*first, false)),
            Answer::Row(n, created) => Ok((rows[n].clone(), created)),
        })
        .collect())
}

/// The message as it will be stored at `seq` (its id is filled in by [`insert_rows`]).
fn new_row(msg: &NewMessage, seq: Seq, display_name: String, media: Option<MediaRef>) -> Message {
    Message {
        id: MessageId(0),
        room_id: msg.room_id,
        seq,
        sender: Sender {
            id: msg.sender_id,
            display_name,
        },
        body: msg.body.clone(),
        mentions: msg.mentions.clone(),
        media: media.map(Box::new),
        reply_to: msg.reply_to,
        custom: msg.custom.clone().map(Box::new),
        client_id: msg.client_id.clone(),
        created_at: msg.created_at,
        edited_at: None,
        deleted: false,
        reactions: Vec::new(),
    }
}

fn distinct<T: Ord + Copy>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut items: Vec<T> = items.collect();
    items.sort_unstable();
    items.dedup();
    items
}

/// Step 1: locks the batch's rooms in id order and returns the counters of those that exist.
async fn lock_rooms<D: Dialect>(
    conn: &mut Conn<D>,
    msgs: &[NewMessage],
) -> StoreResult<HashMap<RoomId, Seq>> {
    let rooms = distinct(msgs.iter().map(|m| m.room_id));
    let mut counters = HashMap::new();
    for chunk in rooms.chunks(in_list::MAX) {
        let sql = Sql::<D>::built(format!(
            "SELECT id, last_seq FROM rooms WHERE id IN ({}) ORDER BY id FOR UPDATE",
            in_list::placeholders(chunk.len(), 1)
        ));
        let locked = in_list::bind(sql, chunk, |sql, room| sql.bind(room.0))
            .fetch_all(conn, |row| {
                Ok((RoomId(row.get("id")?), row.get("last_seq")?))
            })
            .await?;
        counters.extend(locked);
    }
    Ok(counters)
}

/// Step 2: the senders who are members of the room they write to, with their display names.
async fn member_names<D: Dialect>(
    conn: &mut Conn<D>,
    msgs: &[NewMessage],
    rooms: &HashMap<RoomId, Seq>,
) -> StoreResult<HashMap<(RoomId, UserId), String>> {
    let pairs = distinct(
        msgs.iter()
            .filter(|m| rooms.contains_key(&m.room_id))
            .map(|m| (m.room_id, m.sender_id)),
    );
    let mut names = HashMap::new();
    for chunk in pairs.chunks(in_list::MAX) {
        let sql = Sql::<D>::built(format!(
            "SELECT mb.room_id, mb.user_id, u.display_name \
             FROM members mb JOIN users u ON u.id = mb.user_id \
             WHERE (mb.room_id, mb.user_id) IN ({})",
            in_list::placeholders(chunk.len(), 2)
        ));
        let found = in_list::bind(sql, chunk, |sql, (room, user)| {
            sql.bind(room.0).bind(user.0)
        })
        .fetch_all(conn, |row| {
            let key = (RoomId(row.get("room_id")?), UserId(row.get("user_id")?));
            Ok((key, row.get("display_name")?))
        })
        .await?;
        names.extend(found);
    }
    Ok(names)
}

/// Step 3: the media the batch attaches, with their row ids (what `messages.media_id` holds).
async fn media_of<D: Dialect>(
    conn: &mut Conn<D>,
    msgs: &[NewMessage],
) -> StoreResult<HashMap<MediaId, (i64, MediaRef)>> {
    let ids = distinct(msgs.iter().filter_map(|m| m.media_id));
    let mut media = HashMap::new();
    for chunk in ids.chunks(in_list::MAX) {
        let sql = Sql::<D>::built(format!(
            "SELECT md.id, md.public_id AS media_public_id, md.mime, md.size, md.width, \
             md.height, md.duration_ms, md.thumbnail_mime FROM media md \
             WHERE md.public_id IN ({})",
            in_list::placeholders(chunk.len(), 1)
        ));
        let found = in_list::bind(sql, chunk, |sql, id| sql.bind(&id.0[..]))
            .fetch_all(conn, |row| {
                let row_id: i64 = row.get("id")?;
                let media = crate::queries::media::media_ref(row)?
                    .ok_or_else(|| sqlx::Error::Decode("media without a public id".into()))?;
                Ok((media.id, (row_id, media)))
            })
            .await?;
        media.extend(found);
    }
    Ok(media)
}

/// Step 4: messages already stored under one of the batch's idempotency keys.
///
/// The keys arrive as a derived table (`SELECT ? AS client_id, … UNION ALL …`) joined to
/// `messages` on the unique key: one index lookup per key (`eq_ref`), whatever the key's shape,
/// however many messages each sender has. Two simpler forms were slower or unsafe on MariaDB: a
/// list of `(client_id, sender_id, room_id)` row values cost 30–80 ms of planning per batch of
/// 256 (its range optimizer weighs every index with a room or sender column against the whole
/// list), most of a batch's time in scenario B, against 2–6 ms this way; and `client_id IN (…)`
/// alone, though faster still, reads every sender's rows under an id that many clients use
/// ("1", or one chosen to be shared), which anyone could make cost every batch. A retry is rare,
/// so the full rows are read by id, and only when there is one.
async fn retried<D: Dialect>(
    conn: &mut Conn<D>,
    msgs: &[NewMessage],
) -> StoreResult<HashMap<Key, Message>> {
    let keys: Vec<(&str, UserId, RoomId)> = distinct(
        msgs.iter()
            .map(|m| (m.client_id.as_str(), m.sender_id, m.room_id)),
    );
    let int = D::INTEGER_CAST;
    let mut ids = Vec::new();
    for chunk in keys.chunks(in_list::MAX) {
        let first = format!(
            "SELECT ? AS client_id, CAST(? AS {int}) AS sender_id, CAST(? AS {int}) AS room_id"
        );
        let next = format!(" UNION ALL SELECT ?, CAST(? AS {int}), CAST(? AS {int})");
        let sql = Sql::<D>::built(format!(
            "SELECT m.id FROM ({first}{}) k JOIN messages m ON m.client_id = k.client_id \
             AND m.sender_id = k.sender_id AND m.room_id = k.room_id",
            next.repeat(chunk.len().next_power_of_two() - 1)
        ));
        let found = in_list::bind(sql, chunk, |sql, (client_id, sender, room)| {
            sql.bind(*client_id).bind(sender.0).bind(room.0)
        })
        .fetch_all(conn, |row| row.get::<i64>("id"))
        .await?;
        ids.extend(found);
    }
    let ids = distinct(ids.into_iter());
    let mut stored = HashMap::new();
    for chunk in ids.chunks(in_list::MAX) {
        let sql = Sql::<D>::built(format!(
            "{} WHERE m.id IN ({})",
            select_message!(),
            in_list::placeholders(chunk.len(), 1)
        ));
        let found = in_list::bind(sql, chunk, |sql, id| sql.bind(*id))
            .fetch_all(conn, messages::from_row)
            .await?;
        stored.extend(
            found
                .into_iter()
                .map(|m| ((m.room_id, m.sender.id, m.client_id.clone()), m)),
        );
    }
    Ok(stored)
}

/// Step 6: multi-row `INSERT`s in chunks of 2^k rows (the binary digits of `rows.len()`, so
/// few distinct statements are ever prepared), then the ids they produced.
async fn insert_rows<D: Dialect>(
    conn: &mut Conn<D>,
    rows: &mut [Message],
    media: &HashMap<MediaId, (i64, MediaRef)>,
) -> StoreResult<()> {
    let mut ids: HashMap<(RoomId, Seq), i64> = HashMap::with_capacity(rows.len());
    let mut start = 0;
    while start < rows.len() {
        let size = 1 << (rows.len() - start).ilog2().min(in_list::MAX.ilog2());
        let chunk = &rows[start..start + size];
        start += size;
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; size].join(", ");
        let mut sql = format!(
            "INSERT INTO messages \
             (room_id, seq, sender_id, body, mentions, media_id, reply_to, kind, payload, \
             client_id, created_at) \
             VALUES {values}"
        );
        if D::NEW_IDS == NewIds::Returning {
            sql.push_str(" RETURNING id, room_id, seq");
        }
        let mut insert = Sql::<D>::built(sql).references(Entity::Media);
        for m in chunk {
            let (kind, payload) = messages::kind_columns(m.custom.as_deref());
            let mentions = messages::mentions_column(&m.mentions);
            insert = insert
                .bind(m.room_id.0)
                .bind(m.seq)
                .bind(m.sender.id.0)
                .bind(m.body.as_str())
                .bind(mentions.as_deref())
                .bind(
                    m.media
                        .as_ref()
                        .and_then(|md| media.get(&md.id))
                        .map(|(row, _)| *row),
                )
                .bind(m.reply_to)
                .bind(kind)
                .bind(payload.as_deref())
                .bind(m.client_id.as_str())
                .bind(m.created_at.0);
        }
        let keys = chunk.iter().map(|m| (m.room_id, m.seq)).collect::<Vec<_>>();
        let inserted = match D::NEW_IDS {
            NewIds::Returning => insert.fetch_all(conn, id_row).await?,
            NewIds::LastInsertId => {
                insert.execute(conn).await?;
                ids_at::<D>(conn, &keys).await?
            }
        };
        ids.extend(inserted);
    }
    for m in rows.iter_mut() {
        m.id = MessageId(
            *ids.get(&(m.room_id, m.seq))
                .ok_or_else(|| StoreError::broken("an inserted message has no id"))?,
        );
    }
    Ok(())
}

fn id_row<D: Dialect>(row: crate::db::Cols<'_, D>) -> Result<((RoomId, Seq), i64), sqlx::Error> {
    Ok((
        (RoomId(row.get("room_id")?), row.get("seq")?),
        row.get("id")?,
    ))
}

/// The ids of the messages at these (room, seq) places.
async fn ids_at<D: Dialect>(
    conn: &mut Conn<D>,
    keys: &[(RoomId, Seq)],
) -> StoreResult<Vec<((RoomId, Seq), i64)>> {
    let sql = Sql::<D>::built(format!(
        "SELECT id, room_id, seq FROM messages WHERE (room_id, seq) IN ({})",
        in_list::placeholders(keys.len(), 2)
    ));
    in_list::bind(sql, keys, |sql, (room, seq)| sql.bind(room.0).bind(*seq))
        .fetch_all(conn, id_row)
        .await
}

/// Step 7: every room's counter moves to the last seq the batch gave it, in one statement.
async fn move_counters<D: Dialect>(conn: &mut Conn<D>, rows: &[Message]) -> StoreResult<()> {
    let mut last: HashMap<RoomId, Seq> = HashMap::new();
    for m in rows {
        last.insert(m.room_id, m.seq);
    }
    let counters: Vec<(RoomId, Seq)> = distinct(last.into_iter());
    for chunk in counters.chunks(in_list::MAX) {
        let padded = chunk.len().next_power_of_two();
        let sql = Sql::<D>::built(format!(
            "UPDATE rooms SET last_seq = CASE id {} END WHERE id IN ({})",
            vec!["WHEN ? THEN ?"; padded].join(" "),
            in_list::placeholders(chunk.len(), 1)
        ));
        let sql = in_list::bind(sql, chunk, |sql, (room, seq)| sql.bind(room.0).bind(*seq));
        in_list::bind(sql, chunk, |sql, (room, _)| sql.bind(room.0))
            .execute(conn)
            .await?;
    }
    Ok(())
}
