//! SQL for the `sessions` table. Only SHA-256 hashes of tokens are ever stored.

use chatcore::{Entity, Session, StoreResult, Timestamp, Unique, UserId};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteExecutor};

use crate::error::{backend, conflict};

/// A row's `token_hash` and `user_id`.
fn from_row_key(row: &SqliteRow) -> Result<([u8; 32], UserId), sqlx::Error> {
    let hash: Vec<u8> = row.try_get("token_hash")?;
    let hash = hash
        .try_into()
        .map_err(|_| sqlx::Error::Decode("token_hash is not 32 bytes".into()))?;
    Ok((hash, UserId(row.try_get("user_id")?)))
}

fn from_row(row: &SqliteRow) -> Result<Session, sqlx::Error> {
    let (token_hash, user_id) = from_row_key(row)?;
    Ok(Session {
        token_hash,
        user_id,
        created_at: Timestamp(row.try_get("created_at")?),
        last_seen_at: Timestamp(row.try_get("last_seen_at")?),
    })
}

pub(crate) async fn insert(ex: impl SqliteExecutor<'_>, s: &Session) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
    )
    .bind(&s.token_hash[..])
    .bind(s.user_id.0)
    .bind(s.created_at.0)
    .bind(s.last_seen_at.0)
    .execute(ex)
    .await
    .map_err(conflict(Unique::Session, Entity::User))?;
    Ok(())
}

pub(crate) async fn get(
    ex: impl SqliteExecutor<'_>,
    token_hash: &[u8; 32],
) -> StoreResult<Option<Session>> {
    sqlx::query(
        "SELECT token_hash, user_id, created_at, last_seen_at FROM sessions WHERE token_hash = ?",
    )
    .bind(&token_hash[..])
    .try_map(|row: SqliteRow| from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn touch(
    ex: impl SqliteExecutor<'_>,
    token_hash: &[u8; 32],
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE token_hash = ?")
        .bind(at.0)
        .bind(&token_hash[..])
        .execute(ex)
        .await
        .map_err(backend)?;
    Ok(())
}

pub(crate) async fn delete(
    ex: impl SqliteExecutor<'_>,
    token_hash: &[u8; 32],
) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
        .bind(&token_hash[..])
        .execute(ex)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn delete_of_user(
    ex: impl SqliteExecutor<'_>,
    user: UserId,
    keep: Option<&[u8; 32]>,
) -> StoreResult<Vec<[u8; 32]>> {
    let hashes: Vec<Vec<u8>> = sqlx::query_scalar(
        "DELETE FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR token_hash <> ?2) RETURNING token_hash",
    )
    .bind(user.0)
    .bind(keep.map(|k| &k[..]))
    .fetch_all(ex)
    .await
    .map_err(backend)?;
    Ok(hashes
        .into_iter()
        .filter_map(|h| h.try_into().ok())
        .collect())
}

/// Deletes up to `limit` sessions idle since before `idle_before` or created before
/// `created_before`, returning their hashes and users.
pub(crate) async fn delete_expired(
    ex: impl SqliteExecutor<'_>,
    idle_before: Timestamp,
    created_before: Timestamp,
    limit: u32,
) -> StoreResult<Vec<([u8; 32], UserId)>> {
    sqlx::query(
        "DELETE FROM sessions WHERE token_hash IN (\
             SELECT token_hash FROM sessions WHERE last_seen_at < ? OR created_at < ? LIMIT ?) \
         RETURNING token_hash, user_id",
    )
    .bind(idle_before.0)
    .bind(created_before.0)
    .bind(limit)
    .try_map(|row: SqliteRow| from_row_key(&row))
    .fetch_all(ex)
    .await
    .map_err(backend)
}
