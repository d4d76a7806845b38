//! Appends: a whole batch of messages per `BEGIN IMMEDIATE` transaction, in a handful of
//! statements whatever the batch size.
//!
//! Every statement is a round trip to sqlx's SQLite worker thread, so the common case is
//! planned to need few: one query checks every message's room, membership, sender and media
//! and reads the counters; Rust assigns seqs and ids; multi-row inserts store the messages;
//! one update moves the room counters. A retried `client_id` (rare: a client resending after a
//! lost ack) takes the careful path instead, one savepoint per message, which answers the retry
//! with the first message and gives no seq away.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use chatcore::{
    AppendResult, Entity, MediaId, MediaRef, Message, MessageId, NewMessage, RoomId, Sender, Seq,
    StoreError, StoreResult, UserId,
};
use sqlx::{Connection, SqliteConnection, SqlitePool};

use chatcore_sql::backend;
use chatcore_sql::queries::messages;

use crate::Sqlite;

/// Appends `msgs` in one transaction and answers for each, in order. If the transaction fails,
/// each message is retried in a transaction of its own, so one bad apple never fails the others.
pub(crate) async fn append_batch(pool: &SqlitePool, msgs: Vec<NewMessage>) -> Vec<AppendResult> {
    chatcore::append_or_retry_each(&msgs, |batch| append_in_one_transaction(pool, batch)).await
}

async fn append_in_one_transaction(
    pool: &SqlitePool,
    msgs: &[NewMessage],
) -> StoreResult<Vec<AppendResult>> {
    // IMMEDIATE takes the write lock up front: the counters read below cannot change under us,
    // which is what makes seqs gapless and the ids we assign free.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    let results = match append_planned(&mut tx, msgs).await? {
        Some(results) => results,
        None => {
            // A retry of a stored message: undo everything and take the careful path.
            tx.rollback().await.map_err(backend)?;
            tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
            append_one_by_one(&mut tx, msgs).await?
        }
    };
    tx.commit().await.map_err(backend)?;
    Ok(results)
}

// ---- the planned path ----

/// What the store knows about one message's room, sender and media before appending it.
struct Check {
    /// The room's counter; `None` when the room does not exist.
    last_seq: Option<Seq>,
    is_member: bool,
    display_name: String,
    media: Option<MediaRef>,
    /// The highest message id ever used (SQLite's AUTOINCREMENT counter).
    last_id: i64,
}

/// One query for the whole batch: each message's room counter, membership, sender name and
/// media, in batch order. The ids go in as one JSON array of integer triples, so the statement
/// text (and its cached prepared statement) is the same for every batch size, and the answer
/// comes back as one row holding a JSON array, because every row is a hand-off between sqlx's
/// SQLite thread and the runtime. The display name travels hex-encoded: SQLite's JSON functions
/// would cut a text at a NUL byte.
async fn check(conn: &mut SqliteConnection, msgs: &[NewMessage]) -> StoreResult<Vec<Check>> {
    let keys: Vec<(i64, i64, Option<i64>)> = msgs
        .iter()
        .map(|m| (m.room_id.0, m.sender_id.0, m.media_id.map(|id| id.0)))
        .collect();
    let keys = serde_json::to_string(&keys).map_err(StoreError::backend)?;
    let (last_id, rows): (i64, String) = sqlx::query_as(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0), \
                json_group_array(json_array(j.key, r.last_seq, mb.user_id IS NOT NULL, \
                                            hex(u.display_name), md.id, md.mime, md.size)) \
         FROM json_each(?) j \
         LEFT JOIN rooms r ON r.id = j.value ->> 0 \
         LEFT JOIN members mb ON mb.room_id = j.value ->> 0 AND mb.user_id = j.value ->> 1 \
         LEFT JOIN users u ON u.id = j.value ->> 1 \
         LEFT JOIN media md ON md.id = j.value ->> 2",
    )
    .bind(keys)
    .fetch_one(conn)
    .await
    .map_err(backend)?;
    let mut rows: Vec<CheckRow> = serde_json::from_str(&rows).map_err(StoreError::backend)?;
    // Aggregation order follows the scan in practice; the index makes it certain.
    rows.sort_unstable_by_key(|row| row.0);
    if rows.len() != msgs.len() {
        return Err(StoreError::backend(std::io::Error::other(
            "append check returned the wrong number of rows",
        )));
    }
    rows.into_iter()
        .map(|(_, last_seq, is_member, name, media_id, mime, size)| {
            let media = match (media_id, mime, size) {
                (Some(id), Some(mime), Some(size)) => Some(MediaRef {
                    id: MediaId(id),
                    mime,
                    size,
                }),
                _ => None,
            };
            Ok(Check {
                last_seq,
                is_member: is_member != 0,
                display_name: from_hex(name.as_deref().unwrap_or_default())?,
                media,
                last_id,
            })
        })
        .collect()
}

/// One message's answer in [`check`]: its index in the batch, room counter, is-member (0/1),
/// hex display name, media id, mime and size.
type CheckRow = (
    usize,
    Option<Seq>,
    u8,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<u64>,
);

/// Decodes SQLite's `hex()` of a text back into the text.
fn from_hex(hex: &str) -> StoreResult<String> {
    let bad = || StoreError::backend(std::io::Error::other("bad hex from SQLite"));
    let bytes = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(bad)
        })
        .collect::<StoreResult<Vec<u8>>>()?;
    String::from_utf8(bytes).map_err(|_| bad())
}

/// The rule a message breaks, if any: the room must exist, the sender be a member, the media
/// exist.
fn refusal(msg: &NewMessage, check: &Check) -> Option<StoreError> {
    if check.last_seq.is_none() {
        Some(StoreError::Missing(Entity::Room))
    } else if !check.is_member {
        Some(StoreError::Missing(Entity::Member))
    } else if msg.media_id.is_some() && check.media.is_none() {
        Some(StoreError::Missing(Entity::Media))
    } else {
        None
    }
}

/// The message as it will be stored at `id` and `seq`, built from the input and the check
/// instead of read back.
fn stored(msg: &NewMessage, check: &Check, id: i64, seq: Seq) -> Message {
    Message {
        id: MessageId(id),
        room_id: msg.room_id,
        seq,
        sender: Sender {
            id: msg.sender_id,
            display_name: check.display_name.clone(),
        },
        body: msg.body.clone(),
        media: check.media.clone(),
        reply_to: msg.reply_to,
        client_id: msg.client_id.clone(),
        created_at: msg.created_at,
        edited_at: None,
        deleted: false,
    }
}

/// The common case in a few statements; `None` (nothing written that the caller keeps) when a
/// message repeats a `client_id`, within the batch or of a stored message.
async fn append_planned(
    conn: &mut SqliteConnection,
    msgs: &[NewMessage],
) -> StoreResult<Option<Vec<AppendResult>>> {
    let checks = check(conn, msgs).await?;
    let mut next_id = checks.first().map_or(0, |c| c.last_id);
    let mut counters: HashMap<RoomId, Seq> = HashMap::new();
    let mut keys: HashSet<(RoomId, UserId, &str)> = HashSet::new();
    let mut results = Vec::with_capacity(msgs.len());
    for (msg, check) in msgs.iter().zip(&checks) {
        if let Some(err) = refusal(msg, check) {
            results.push(Err(err));
            continue;
        }
        if !keys.insert((msg.room_id, msg.sender_id, msg.client_id.as_str())) {
            return Ok(None);
        }
        let counter = counters
            .entry(msg.room_id)
            .or_insert(check.last_seq.unwrap_or_default());
        *counter += 1;
        next_id += 1;
        let message = stored(msg, check, next_id, *counter);
        results.push(Ok((message, true)));
    }
    let rows: Vec<&Message> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|(message, _)| message))
        .collect();
    if insert_rows(conn, &rows).await? < rows.len() as u64 {
        return Ok(None);
    }
    if !counters.is_empty() {
        let counters: Vec<(i64, Seq)> = counters.into_iter().map(|(r, s)| (r.0, s)).collect();
        let counters = serde_json::to_string(&counters).map_err(StoreError::backend)?;
        sqlx::query(
            "UPDATE rooms SET last_seq = j.value ->> 1 FROM json_each(?) j WHERE rooms.id = j.value ->> 0",
        )
        .bind(counters)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    }
    Ok(Some(results))
}

/// Multi-row `INSERT`s in chunks of 2^k rows (the binary digits of `rows.len()`), so at most
/// [`CHUNK_SIZES`] distinct statements are ever prepared. Returns the rows inserted; fewer than
/// given means a `client_id` was already stored.
async fn insert_rows(conn: &mut SqliteConnection, rows: &[&Message]) -> StoreResult<u64> {
    let mut inserted = 0;
    let mut rest = rows;
    for (k, sql) in INSERTS.iter().enumerate().rev() {
        let size = 1 << k;
        while rest.len() >= size {
            let (chunk, tail) = rest.split_at(size);
            rest = tail;
            let mut query = sqlx::query(sql.as_str());
            for m in chunk {
                query = query
                    .bind(m.id.0)
                    .bind(m.room_id.0)
                    .bind(m.seq)
                    .bind(m.sender.id.0)
                    .bind(&m.body)
                    .bind(m.media.as_ref().map(|md| md.id.0))
                    .bind(m.reply_to)
                    .bind(&m.client_id)
                    .bind(m.created_at.0);
            }
            inserted += query
                .execute(&mut *conn)
                .await
                .map_err(backend)?
                .rows_affected();
        }
    }
    Ok(inserted)
}

/// How many chunk sizes there are: 1, 2, 4, … 256 rows (the default `max_batch` is 256).
const CHUNK_SIZES: usize = 9;

/// `INSERTS[k]` inserts 2^k rows; a row that repeats a stored `client_id` is skipped.
static INSERTS: LazyLock<[String; CHUNK_SIZES]> = LazyLock::new(|| {
    std::array::from_fn(|k| {
        let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
        let rows = vec![row; 1 << k].join(", ");
        format!(
            "INSERT INTO messages \
             (id, room_id, seq, sender_id, body, media_id, reply_to, client_id, created_at) \
             VALUES {rows} ON CONFLICT (client_id, sender_id, room_id) DO NOTHING"
        )
    })
});

// ---- the careful path ----

/// One savepoint per message: a retried `client_id` is answered with the first message and the
/// seq it took is given back; a message that breaks a rule is rolled back alone.
async fn append_one_by_one(
    tx: &mut SqliteConnection,
    msgs: &[NewMessage],
) -> StoreResult<Vec<AppendResult>> {
    let mut results = Vec::with_capacity(msgs.len());
    for msg in msgs {
        let mut savepoint = tx.begin().await.map_err(backend)?;
        match append_planned(&mut savepoint, std::slice::from_ref(msg)).await? {
            Some(mut one) => {
                savepoint.commit().await.map_err(backend)?;
                results.push(one.pop().unwrap_or(Err(StoreError::broken(
                    "an append of one message answered nothing",
                ))));
            }
            None => {
                savepoint.rollback().await.map_err(backend)?;
                let first = messages::by_client_id::<Sqlite>(&mut *tx, msg).await?;
                results.push(
                    first
                        .map(|m| (m, false))
                        .ok_or(StoreError::broken("a repeated client_id names no message")),
                );
            }
        }
    }
    Ok(results)
}
