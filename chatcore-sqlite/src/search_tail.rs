//! The search index's tail: messages are written into the FTS5 index after their append
//! committed, many at a time, instead of one small index segment per group commit.
//!
//! `messages_fts_mark.indexed_up_to` (migration 0013) splits the messages in two: every one
//! at or below the mark is in `messages_fts`, none above it. The store's writer moves the mark
//! in transactions of their own: before a batch, when the tail is [`DUE_ROWS`] long or
//! [`DUE_AGE`] old (so an append waits for at most one such transaction), and before every
//! search, which indexes the whole tail first. Searching is therefore exact: a message is found
//! right after its append was acked, and edits and deletes stay exact because the triggers
//! only touch the index at or below the mark, while a row above it is indexed later with
//! whatever body it has then.

use std::time::{Duration, Instant};

use chatcore::{StoreError, StoreResult};
use chatcore_sql::backend;
use sqlx::SqlitePool;
use tokio::sync::Mutex;

/// A tail this long is indexed before the next batch: bulk inserts into FTS5 cost about a
/// fifth per row of what one segment per group commit did (see `docs/performance.md`).
const DUE_ROWS: u64 = 4096;

/// A tail this old is indexed before the next batch, so a quiet store does not keep one for
/// the next search to pay for. Short, because the batch that finds the tail due waits for its
/// indexing: at 2,000 messages a second a 1 s tail took 10–13 ms to index, a 50 ms one
/// 3–4 ms, and that wait was the p99 of every send (see `docs/performance.md`).
const DUE_AGE: Duration = Duration::from_millis(50);

/// Most rows indexed by one transaction before a batch, so an append never waits long behind
/// a tail left by a restart or a `migrate-store` copy.
const MAX_ROWS: i64 = 4 * DUE_ROWS as i64;

/// The writer's view of the unindexed tail. The database's mark is the truth; this only says
/// when indexing is due.
pub(crate) struct SearchTail {
    /// Held while indexing, so concurrent searches wait for one pass instead of each running
    /// their own: the second finds nothing left to index.
    tail: Mutex<Tail>,
}

struct Tail {
    /// Messages appended since the last indexing (an estimate: counted by the writer, which
    /// does not see rows other connections insert).
    rows: u64,
    /// When the oldest of them was committed.
    since: Option<Instant>,
}

impl SearchTail {
    /// The tail of the database `pool` opens, as a restart or a crash between a commit and its
    /// indexing left it.
    pub(crate) async fn open(pool: &SqlitePool) -> StoreResult<Self> {
        let (mark, newest) = mark_and_newest(pool).await?;
        let rows = u64::try_from(newest - mark).unwrap_or(0);
        Ok(SearchTail {
            tail: Mutex::new(Tail {
                rows,
                since: (rows > 0).then(Instant::now),
            }),
        })
    }

    /// Records that `rows` new messages were committed.
    pub(crate) async fn committed(&self, rows: usize) {
        if rows == 0 {
            return;
        }
        let mut tail = self.tail.lock().await;
        tail.rows += rows as u64;
        tail.since.get_or_insert_with(Instant::now);
    }

    /// Indexes up to [`MAX_ROWS`] of the tail if it is long or old enough.
    pub(crate) async fn index_if_due(&self, pool: &SqlitePool) -> StoreResult<()> {
        let mut tail = self.tail.lock().await;
        let due = tail.rows >= DUE_ROWS || tail.since.is_some_and(|t| t.elapsed() >= DUE_AGE);
        if !due {
            return Ok(());
        }
        let indexed = index(pool, Some(MAX_ROWS)).await?;
        tail.rows = tail.rows.saturating_sub(indexed);
        if indexed < MAX_ROWS as u64 {
            // The whole tail was indexed, whatever the estimate said.
            tail.rows = 0;
        }
        tail.since = (tail.rows > 0).then(Instant::now);
        Ok(())
    }

    /// Indexes every message committed so far, so a search that starts now sees them all.
    /// Cheap when there is nothing to index: one lookup of the mark and the newest id.
    pub(crate) async fn index_all(&self, pool: &SqlitePool) -> StoreResult<()> {
        let mut tail = self.tail.lock().await;
        let (mark, newest) = mark_and_newest(pool).await?;
        if newest > mark {
            index(pool, None).await?;
        }
        *tail = Tail {
            rows: 0,
            since: None,
        };
        Ok(())
    }
}

/// The mark and the newest message id (0 without messages).
async fn mark_and_newest(pool: &SqlitePool) -> StoreResult<(i64, i64)> {
    sqlx::query_as(
        "SELECT indexed_up_to, coalesce((SELECT max(id) FROM messages), 0) \
         FROM messages_fts_mark",
    )
    .fetch_one(pool)
    .await
    .map_err(backend)
}

/// One transaction: indexes the messages above the mark, at most `limit` of them (all without
/// one), in id order, and moves the mark past them. Returns how many were indexed.
async fn index(pool: &SqlitePool, limit: Option<i64>) -> StoreResult<u64> {
    // IMMEDIATE: no edit or delete can change a row between being read here and the mark
    // moving past it.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    let (count, upto): (i64, Option<i64>) = sqlx::query_as(
        "SELECT count(*), max(id) FROM (SELECT id FROM messages \
         WHERE id > (SELECT indexed_up_to FROM messages_fts_mark) ORDER BY id LIMIT ?)",
    )
    .bind(limit.unwrap_or(-1))
    .fetch_one(&mut *tx)
    .await
    .map_err(backend)?;
    let Some(upto) = upto else {
        return Ok(0);
    };
    sqlx::query(
        "INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages \
         WHERE id > (SELECT indexed_up_to FROM messages_fts_mark) AND id <= ? ORDER BY id",
    )
    .bind(upto)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    sqlx::query("UPDATE messages_fts_mark SET indexed_up_to = ?")
        .bind(upto)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    u64::try_from(count).map_err(|_| StoreError::broken("a negative row count"))
}
