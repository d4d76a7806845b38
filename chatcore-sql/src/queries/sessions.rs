//! The `sessions` table. Only SHA-256 hashes of tokens are ever stored.

use chatcore::{Entity, Session, StoreResult, Timestamp, Unique, UserId};

use crate::db::Cols;
use crate::dialect::Dialect;
use crate::queries::in_list;
use crate::sql::{Conn, Sql};

fn hash_from(bytes: Vec<u8>) -> Result<[u8; 32], sqlx::Error> {
    bytes
        .try_into()
        .map_err(|_| sqlx::Error::Decode("token_hash is not 32 bytes".into()))
}

/// A row's `token_hash` and `user_id`.
fn key_from_row<D: Dialect>(row: Cols<'_, D>) -> Result<([u8; 32], UserId), sqlx::Error> {
    Ok((
        hash_from(row.get("token_hash")?)?,
        UserId(row.get("user_id")?),
    ))
}

fn from_row<D: Dialect>(row: Cols<'_, D>) -> Result<Session, sqlx::Error> {
    let (token_hash, user_id) = key_from_row(row)?;
    Ok(Session {
        token_hash,
        user_id,
        created_at: Timestamp(row.get("created_at")?),
        last_seen_at: Timestamp(row.get("last_seen_at")?),
    })
}

/// Stores a session.
pub async fn insert<D: Dialect>(conn: &mut Conn<D>, s: &Session) -> StoreResult<()> {
    Sql::<D>::new(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
    )
    .bind(&s.token_hash[..])
    .bind(s.user_id.0)
    .bind(s.created_at.0)
    .bind(s.last_seen_at.0)
    .unique(Unique::Session)
    .references(Entity::User)
    .execute(conn)
    .await?;
    Ok(())
}

/// The session with this token hash.
pub async fn get<D: Dialect>(
    conn: &mut Conn<D>,
    token_hash: &[u8; 32],
) -> StoreResult<Option<Session>> {
    Sql::<D>::new(
        "SELECT token_hash, user_id, created_at, last_seen_at FROM sessions WHERE token_hash = ?",
    )
    .bind(&token_hash[..])
    .fetch_optional(conn, from_row)
    .await
}

/// Moves the session's last use forward to `at` (never back).
pub async fn touch<D: Dialect>(
    conn: &mut Conn<D>,
    token_hash: &[u8; 32],
    at: Timestamp,
) -> StoreResult<()> {
    Sql::<D>::new(
        "UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, ?) WHERE token_hash = ?",
    )
    .bind(at.0)
    .bind(&token_hash[..])
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes one session; whether it existed.
pub async fn delete<D: Dialect>(conn: &mut Conn<D>, token_hash: &[u8; 32]) -> StoreResult<bool> {
    Ok(Sql::<D>::new("DELETE FROM sessions WHERE token_hash = ?")
        .bind(&token_hash[..])
        .execute(conn)
        .await?
        > 0)
}

/// Deletes the user's sessions except `keep` and returns their hashes; the caller holds a write
/// transaction (the rows are locked and read first, then deleted).
pub async fn delete_of_user<D: Dialect>(
    conn: &mut Conn<D>,
    user: UserId,
    keep: Option<&[u8; 32]>,
) -> StoreResult<Vec<[u8; 32]>> {
    let doomed: Vec<[u8; 32]> = Sql::<D>::new(
        "SELECT token_hash, user_id FROM sessions WHERE user_id = ? ORDER BY token_hash FOR UPDATE",
    )
    .bind(user.0)
    .fetch_all(conn, |row| Ok(key_from_row(row)?.0))
    .await?
    .into_iter()
    .filter(|hash| Some(hash) != keep)
    .collect();
    delete_all::<D>(conn, &doomed).await?;
    Ok(doomed)
}

/// Deletes up to `limit` sessions idle since before `idle_before` or created before
/// `created_before`, returning their hashes and users; the caller holds a write transaction.
pub async fn delete_expired<D: Dialect>(
    conn: &mut Conn<D>,
    idle_before: Timestamp,
    created_before: Timestamp,
    limit: u32,
) -> StoreResult<Vec<([u8; 32], UserId)>> {
    let doomed = Sql::<D>::new(
        "SELECT token_hash, user_id FROM sessions WHERE last_seen_at < ? OR created_at < ? \
         LIMIT ? FOR UPDATE",
    )
    .bind(idle_before.0)
    .bind(created_before.0)
    .bind(i64::from(limit))
    .fetch_all(conn, key_from_row)
    .await?;
    let hashes: Vec<[u8; 32]> = doomed.iter().map(|(hash, _)| *hash).collect();
    delete_all::<D>(conn, &hashes).await?;
    Ok(doomed)
}

/// Deletes the sessions of every user in `users`.
pub async fn delete_of_users<D: Dialect>(conn: &mut Conn<D>, users: &[UserId]) -> StoreResult<()> {
    for chunk in users.chunks(in_list::MAX) {
        in_list::bind(
            Sql::<D>::built(format!(
                "DELETE FROM sessions WHERE user_id IN ({})",
                in_list::placeholders(chunk.len(), 1)
            )),
            chunk,
            |sql, user| sql.bind(user.0),
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}

async fn delete_all<D: Dialect>(conn: &mut Conn<D>, hashes: &[[u8; 32]]) -> StoreResult<()> {
    for chunk in hashes.chunks(in_list::MAX) {
        in_list::bind(
            Sql::<D>::built(format!(
                "DELETE FROM sessions WHERE token_hash IN ({})",
                in_list::placeholders(chunk.len(), 1)
            )),
            chunk,
            |sql, hash| sql.bind(&hash[..]),
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}
