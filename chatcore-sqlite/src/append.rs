//! Appends: a whole batch of messages per `BEGIN IMMEDIATE` transaction, in a handful of
//! statements whatever the batch size.
//!
//! Every statement is a round trip to sqlx's SQLite worker thread, so the common case is
//! planned to need few: one query checks every message's room, membership, sender and media
//! and reads the counters; Rust assigns seqs and ids; multi-row inserts store the messages;
//! one update moves the room counters. Retries are recognised by [`RecentKeys`], the writer's
//! table of the window's idempotency keys, instead of a unique index in the database (see
//! [`crate::recent_keys`] for why); a retry is answered with the first message and takes no seq.
//!
//! The search index is not written here: the same writer indexes the new messages later, in
//! bulk (see [`crate::search_tail`]).

use std::collections::HashMap;
use std::sync::LazyLock;

use chatcore::{
    AppendResult, Entity, MediaRef, Message, MessageId, NewMessage, RoomId, Sender, Seq,
    StoreError, StoreResult, Timestamp, UserId,
};
use chatcore_sql::queries::messages;
use chatcore_sql::{BatchAppend, backend};
use futures::TryStreamExt;
use futures::future::BoxFuture;
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::Mutex;

use crate::Sqlite;
use crate::recent_keys::RecentKeys;
use crate::search_tail::SearchTail;

/// SQLite's batch append, on the store's writer connection (which every other write of the
/// store queues for too).
pub(crate) struct SqliteAppends {
    pool: SqlitePool,
    /// Held for a whole transaction: a batch looks keys up and records its new ones before the
    /// next batch (or a concurrent `append_messages`) looks.
    keys: Mutex<RecentKeys>,
    /// The messages committed but not yet in the search index.
    search_tail: SearchTail,
}

impl SqliteAppends {
    /// Appends on `pool`, after reading the idempotency keys of the window from its database:
    /// the messages created within the window of the newest one.
    pub(crate) async fn open(pool: SqlitePool) -> StoreResult<Self> {
        let mut keys = RecentKeys::default();
        let mut conn = pool.acquire().await.map_err(backend)?;
        let newest: Option<i64> =
            sqlx::query_scalar("SELECT created_at FROM messages ORDER BY id DESC LIMIT 1")
                .fetch_optional(&mut *conn)
                .await
                .map_err(backend)?;
        if let Some(newest) = newest {
            // The window starts after the newest message created before it: a backward scan of
            // the window's rows, not of the table.
            let mut rows = sqlx::query_as::<_, (i64, i64, i64, String, i64)>(
                "SELECT id, room_id, sender_id, client_id, created_at FROM messages \
                 WHERE id > coalesce((SELECT id FROM messages WHERE created_at < ? \
                                      ORDER BY id DESC LIMIT 1), 0) \
                 ORDER BY id",
            )
            .bind(RecentKeys::cutoff(Timestamp(newest)).0)
            .fetch(&mut *conn);
            while let Some((id, room, sender, client_id, created_at)) =
                rows.try_next().await.map_err(backend)?
            {
                let fingerprint = keys.fingerprint(RoomId(room), UserId(sender), &client_id);
                keys.insert(fingerprint, MessageId(id), Timestamp(created_at));
            }
        }
        drop(conn);
        let search_tail = SearchTail::open(&pool).await?;
        Ok(SqliteAppends {
            pool,
            keys: Mutex::new(keys),
            search_tail,
        })
    }

    /// One transaction for `msgs`; the keys it stored are recorded once it committed.
    async fn in_one_transaction(&self, msgs: &[NewMessage]) -> StoreResult<Vec<AppendResult>> {
        let mut keys = self.keys.lock().await;
        // IMMEDIATE takes the write lock up front: the counters read below cannot change under
        // us, which is what makes seqs gapless and the ids we assign free.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend)?;
        let results = append_planned(&mut tx, &keys, msgs).await?;
        tx.commit().await.map_err(backend)?;
        for (message, _) in results.iter().flatten().filter(|(_, created)| *created) {
            let fingerprint =
                keys.fingerprint(message.room_id, message.sender.id, &message.client_id);
            keys.insert(fingerprint, message.id, message.created_at);
        }
        Ok(results)
    }
}

impl BatchAppend for SqliteAppends {
    /// Appends `msgs` in one transaction and answers for each, in order. If the transaction
    /// fails, each message is retried in a transaction of its own, so one bad apple never fails
    /// the others. When the search index's tail is due, one indexing transaction runs first;
    /// if it fails, the batch is appended all the same and the tail waits for the next one.
    fn append_batch(&self, msgs: Vec<NewMessage>) -> BoxFuture<'_, Vec<AppendResult>> {
        Box::pin(async move {
            if let Err(err) = self.search_tail.index_if_due(&self.pool).await {
                tracing::warn!(%err, "indexing the search tail failed; retried before a later batch");
            }
            let results =
                chatcore::append_or_retry_each(&msgs, |batch| self.in_one_transaction(batch)).await;
            let created = results
                .iter()
                .flatten()
                .filter(|(_, created)| *created)
                .count();
            self.search_tail.committed(created).await;
            results
        })
    }

    /// Indexes every committed message, on this writer's connection, so the search that
    /// follows sees them all. Concurrent calls coalesce: they queue for one pass, and the
    /// later ones find nothing left to index.
    fn before_search(&self) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(self.search_tail.index_all(&self.pool))
    }
}

// ---- the planned path ----

/// What the store knows about one message's room, sender and media before appending it.
struct Check {
    /// The room's counter; `None` when the room does not exist.
    last_seq: Option<Seq>,
    is_member: bool,
    display_name: String,
    /// The media's row id (what `messages.media_id` holds) and how messages show it.
    media: Option<(i64, MediaRef)>,
    /// The highest message id ever used (SQLite's AUTOINCREMENT counter).
    last_id: i64,
}

/// One query for the whole batch: each message's room counter, membership, sender name and
/// media, in batch order. The ids go in as one JSON array of triples (room, sender, hex media
/// id), so the statement
/// text (and its cached prepared statement) is the same for every batch size, and the answer
/// comes back as one row holding a JSON array, because every row is a hand-off between sqlx's
/// SQLite thread and the runtime. The display name travels hex-encoded: SQLite's JSON functions
/// would cut a text at a NUL byte.
async fn check(conn: &mut SqliteConnection, msgs: &[NewMessage]) -> StoreResult<Vec<Check>> {
    let keys: Vec<(i64, i64, Option<String>)> = msgs
        .iter()
        .map(|m| (m.room_id.0, m.sender_id.0, m.media_id.map(|id| hex(&id.0))))
        .collect();
    let keys = serde_json::to_string(&keys).map_err(StoreError::backend)?;
    let (last_id, rows): (i64, String) = sqlx::query_as(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0), \
                json_group_array(json_array(j.key, r.last_seq, mb.user_id IS NOT NULL, \
                                            hex(u.display_name), md.id, md.mime, md.size, \
                                            md.width, md.height, md.duration_ms, \
                                            md.thumbnail_mime)) \
         FROM json_each(?) j \
         LEFT JOIN rooms r ON r.id = j.value ->> 0 \
         LEFT JOIN members mb ON mb.room_id = j.value ->> 0 AND mb.user_id = j.value ->> 1 \
         LEFT JOIN users u ON u.id = j.value ->> 1 \
         LEFT JOIN media md ON md.public_id = unhex(j.value ->> 2)",
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
        .zip(msgs)
        .map(|(row, msg)| {
            let (
                _,
                last_seq,
                is_member,
                name,
                media_row,
                mime,
                size,
                width,
                height,
                duration_ms,
                thumbnail_mime,
            ) = row;
            let media = match (msg.media_id, media_row, mime, size) {
                (Some(id), Some(row), Some(mime), Some(size)) => Some((
                    row,
                    MediaRef {
                        id,
                        mime,
                        size,
                        width,
                        height,
                        duration_ms,
                        thumbnail: thumbnail_mime.is_some(),
                    },
                )),
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
/// hex display name, media row id, mime, size, and width, height, duration and thumbnail type.
type CheckRow = (
    usize,
    Option<Seq>,
    u8,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<u64>,
    Option<u32>,
    Option<u32>,
    Option<u64>,
    Option<String>,
);

/// Lowercase hex, as SQLite's `unhex()` reads it.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

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
        mentions: msg.mentions.clone(),
        media: check
            .media
            .as_ref()
            .map(|(_, media)| Box::new(media.clone())),
        reply_to: msg.reply_to,
        custom: msg.custom.clone().map(Box::new),
        client_id: msg.client_id.clone(),
        created_at: msg.created_at,
        edited_at: None,
        deleted: false,
        reactions: Vec::new(),
    }
}

/// The whole batch in a few statements: refusals, retries (answered with the first message) and
/// new messages with their seqs.
async fn append_planned(
    conn: &mut SqliteConnection,
    keys: &RecentKeys,
    msgs: &[NewMessage],
) -> StoreResult<Vec<AppendResult>> {
    let checks = check(conn, msgs).await?;
    let earlier = earlier_sends(conn, keys, msgs).await?;
    let mut next_id = checks.first().map_or(0, |c| c.last_id);
    let mut counters: HashMap<RoomId, Seq> = HashMap::new();
    let mut in_batch: HashMap<(RoomId, UserId, &str), usize> = HashMap::new();
    let mut results: Vec<AppendResult> = Vec::with_capacity(msgs.len());
    for ((msg, check), earlier) in msgs.iter().zip(&checks).zip(earlier) {
        let key = (msg.room_id, msg.sender_id, msg.client_id.as_str());
        let result = if let Some(err) = refusal(msg, check) {
            Err(err)
        } else if let Some(first) = earlier {
            Ok((first, false))
        } else if let Some(&first) = in_batch.get(&key) {
            match &results[first] {
                Ok((message, _)) => Ok((message.clone(), false)),
                Err(_) => return Err(StoreError::broken("a batch repeats a refused message")),
            }
        } else {
            let counter = counters
                .entry(msg.room_id)
                .or_insert(check.last_seq.unwrap_or_default());
            *counter += 1;
            next_id += 1;
            in_batch.insert(key, results.len());
            Ok((stored(msg, check, next_id, *counter), true))
        };
        results.push(result);
    }
    let media_rows: HashMap<_, _> = checks
        .iter()
        .filter_map(|c| c.media.as_ref().map(|(row, media)| (media.id, *row)))
        .collect();
    let rows: Vec<(&Message, Option<i64>)> = results
        .iter()
        .flatten()
        .filter(|(_, created)| *created)
        .map(|(m, _)| {
            (
                m,
                m.media
                    .as_ref()
                    .and_then(|md| media_rows.get(&md.id).copied()),
            )
        })
        .collect();
    insert_rows(conn, &rows).await?;
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
    Ok(results)
}

/// For each message, the stored message it retries, if any. Only keys whose fingerprint
/// [`RecentKeys`] holds cost a query.
async fn earlier_sends(
    conn: &mut SqliteConnection,
    keys: &RecentKeys,
    msgs: &[NewMessage],
) -> StoreResult<Vec<Option<Message>>> {
    let mut found = Vec::with_capacity(msgs.len());
    for msg in msgs {
        found.push(earlier_send(conn, keys, msg).await?);
    }
    Ok(found)
}

/// The stored message `msg` retries, if any: each message of the window stored under `msg`'s
/// key fingerprint (almost always none or one) is read and its key compared. Every key of the
/// window is in `keys`, so no match means no earlier send.
async fn earlier_send(
    conn: &mut SqliteConnection,
    keys: &RecentKeys,
    msg: &NewMessage,
) -> StoreResult<Option<Message>> {
    let fingerprint = keys.fingerprint(msg.room_id, msg.sender_id, &msg.client_id);
    let candidates: Vec<MessageId> = keys.candidates(fingerprint).collect();
    for id in candidates {
        match messages::by_id::<Sqlite>(&mut *conn, id).await? {
            Some(stored) if is_retry_of(msg, &stored) => return Ok(Some(stored)),
            _ => {}
        }
    }
    Ok(None)
}

/// Whether `msg` carries the idempotency key `stored` was stored under.
fn is_retry_of(msg: &NewMessage, stored: &Message) -> bool {
    (msg.room_id, msg.sender_id, msg.client_id.as_str())
        == (stored.room_id, stored.sender.id, stored.client_id.as_str())
}

/// Multi-row `INSERT`s in chunks of 2^k rows (the binary digits of `rows.len()`), so at most
/// [`CHUNK_SIZES`] distinct statements are ever prepared. Each row is a message and its media's
/// row id.
async fn insert_rows(
    conn: &mut SqliteConnection,
    rows: &[(&Message, Option<i64>)],
) -> StoreResult<()> {
    let mut rest = rows;
    for (k, sql) in INSERTS.iter().enumerate().rev() {
        let size = 1 << k;
        while rest.len() >= size {
            let (chunk, tail) = rest.split_at(size);
            rest = tail;
            let mut query = sqlx::query(sql.as_str());
            for (m, media_row) in chunk {
                let (kind, payload) = messages::kind_columns(m.custom.as_deref());
                query = query
                    .bind(m.id.0)
                    .bind(m.room_id.0)
                    .bind(m.seq)
                    .bind(m.sender.id.0)
                    .bind(&m.body)
                    .bind(messages::mentions_column(&m.mentions))
                    .bind(*media_row)
                    .bind(m.reply_to)
                    .bind(kind)
                    .bind(payload)
                    .bind(&m.client_id)
                    .bind(m.created_at.0);
            }
            query.execute(&mut *conn).await.map_err(backend)?;
        }
    }
    Ok(())
}

/// How many chunk sizes there are: 1, 2, 4, … 256 rows (the default `max_batch` is 256).
const CHUNK_SIZES: usize = 9;

/// `INSERTS[k]` inserts 2^k rows.
static INSERTS: LazyLock<[String; CHUNK_SIZES]> = LazyLock::new(|| {
    std::array::from_fn(|k| {
        let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        let rows = vec![row; 1 << k].join(", ");
        format!(
            "INSERT INTO messages \
             (id, room_id, seq, sender_id, body, mentions, media_id, reply_to, kind, payload, \
             client_id, created_at) \
             VALUES {rows}"
        )
    })
});
