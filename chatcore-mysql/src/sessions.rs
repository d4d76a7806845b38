//! SQL for the `sessions` table. Only SHA-256 hashes of tokens are ever stored.

use chatcore::{Entity, Session, StoreResult, Timestamp, Unique, UserId};
use sqlx::mysql::MySqlRow;
use sqlx::{MySqlConnection, MySqlExecutor, Row};

use crate::error::{backend, conflict};

fn hash_from(bytes: Vec<u8>) -> Result<[u8; 32], sqlx::Error> {
    bytes
        .try_into()
        .map_err(|_| sqlx::Error::Decode("token_hash is not 32 bytes".into()))
}

/// A row's `token_hash` and `user_id`.
fn key_from_row(row: &MySqlRow) -> Result<([u8; 32], UserId), sqlx::Error> {
    Ok((
        hash_from(row.try_get("token_hash")?)?,
        UserId(row.try_get("user_id")?),
    ))
}

fn from_row(row: &MySqlRow) -> Result<Session, sqlx::Error> {
    Ok(Session {
        token_hash: hash_from(row.try_get("token_hash")?)?,
        user_id: UserId(row.try_get("user_id")?),
        created_at: Timestamp(row.try_get("created_at")?),
        last_seen_at: Timestamp(row.try_get("last_seen_at")?),
    })
}

pub(crate) async fn insert(ex: impl MySqlExecutor<'_>, s: &Session) -> StoreResult<()> {
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
    ex: impl MySqlExecutor<'_>,
    token_hash: &[u8; 32],
) -> StoreResult<Option<Session>> {
    sqlx::query(
        "SELECT token_hash, user_id, created_at, last_seen_at FROM sessions WHERE token_hash = ?",
    )
    .bind(&token_hash[..])
    .try_map(|row: MySqlRow| from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn touch(
    ex: impl MySqlExecutor<'_>,
    token_hash: &[u8; 32],
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, ?) WHERE token_hash = ?",
    )
    .bind(at.0)
    .bind(&token_hash[..])
    .execute(ex)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(crate) async fn delete(ex: impl MySqlExecutor<'_>, token_hash: &[u8; 32]) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
        .bind(&token_hash[..])
        .execute(ex)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

/// Deletes the user's sessions except `keep` and returns their hashes; the caller holds the
/// transaction (MySQL has no `DELETE … RETURNING`, so the rows are locked and read first).
pub(crate) async fn delete_of_user(
    conn: &mut MySqlConnection,
    user: UserId,
    keep: Option<&[u8; 32]>,
) -> StoreResult<Vec<[u8; 32]>> {
    let keep = keep.map(|k| &k[..]);
    let hashes: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT token_hash FROM sessions WHERE user_id = ? AND (? IS NULL OR token_hash <> ?) FOR UPDATE",
    )
    .bind(user.0)
    .bind(keep)
    .bind(keep)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    sqlx::query("DELETE FROM sessions WHERE user_id = ? AND (? IS NULL OR token_hash <> ?)")
        .bind(user.0)
        .bind(keep)
        .bind(keep)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    hashes
        .into_iter()
        .map(hash_from)
        .collect::<Result<_, _>>()
        .map_err(backend)
}

/// Deletes up to `limit` sessions idle since before `idle_before` or created before
/// `created_before`, returning their hashes and users; the caller holds the transaction (the
/// rows are locked and read first, then deleted by key).
pub(crate) async fn delete_expired(
    conn: &mut MySqlConnection,
    idle_before: Timestamp,
    created_before: Timestamp,
    limit: u32,
) -> StoreResult<Vec<([u8; 32], UserId)>> {
    let doomed: Vec<([u8; 32], UserId)> = sqlx::query(
        "SELECT token_hash, user_id FROM sessions WHERE last_seen_at < ? OR created_at < ? LIMIT ? FOR UPDATE",
    )
    .bind(idle_before.0)
    .bind(created_before.0)
    .bind(limit)
    .try_map(|row: MySqlRow| key_from_row(&row))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    if doomed.is_empty() {
        return Ok(doomed);
    }
    let mut delete = sqlx::QueryBuilder::new("DELETE FROM sessions WHERE token_hash IN (");
    let mut hashes = delete.separated(", ");
    for (hash, _) in &doomed {
        hashes.push_bind(&hash[..]);
    }
    delete.push(")");
    delete.build().execute(conn).await.map_err(backend)?;
    Ok(doomed)
}
