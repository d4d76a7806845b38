//! SQL for the `users` table.

use chatcore::{Entity, NewUser, StoreError, StoreResult, Timestamp, Unique, User, UserId};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqliteExecutor};

use crate::error::{backend, conflict};

/// The columns [`from_row`] reads, as a literal so `concat!` can build queries from it.
macro_rules! user_columns {
    () => {
        "id, username, display_name, is_guest, is_server_admin, disabled, external_id, created_at, last_active_at"
    };
}

fn from_row(row: &SqliteRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        is_guest: row.try_get("is_guest")?,
        is_server_admin: row.try_get("is_server_admin")?,
        disabled: row.try_get("disabled")?,
        external_id: row.try_get("external_id")?,
        created_at: Timestamp(row.try_get("created_at")?),
        last_active_at: Timestamp(row.try_get("last_active_at")?),
    })
}

/// Prefix search runs on display names lowercased here, by Rust, because SQLite's `lower()`
/// only knows ASCII.
fn search_key(display_name: &str) -> String {
    display_name.to_lowercase()
}

/// A `LIKE` pattern matching strings that start with `prefix` taken literally (`!` escapes).
pub(crate) fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '!') {
            pattern.push('!');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

pub(crate) async fn insert(ex: impl SqliteExecutor<'_>, new: NewUser) -> StoreResult<User> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (username, display_name, display_name_lower, password_hash, is_guest, \
         external_id, created_at, last_active_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&new.username)
    .bind(&new.display_name)
    .bind(search_key(&new.display_name))
    .bind(&new.password_hash)
    .bind(new.is_guest)
    .bind(&new.external_id)
    .bind(new.created_at.0)
    .bind(new.created_at.0)
    .fetch_one(ex)
    .await
    .map_err(|e| match e.as_database_error() {
        Some(db) if db.is_unique_violation() && db.message().contains("external_id") => {
            StoreError::Duplicate(Unique::ExternalId)
        }
        _ => conflict(Unique::Username, Entity::User)(e),
    })?;
    Ok(User {
        id: UserId(id),
        username: new.username,
        display_name: new.display_name,
        is_guest: new.is_guest,
        is_server_admin: false,
        disabled: false,
        external_id: new.external_id,
        created_at: new.created_at,
        last_active_at: new.created_at,
    })
}

pub(crate) async fn by_id(ex: impl SqliteExecutor<'_>, id: UserId) -> StoreResult<Option<User>> {
    sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = ?"
    ))
    .bind(id.0)
    .try_map(|row: SqliteRow| from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn by_username(
    ex: impl SqliteExecutor<'_>,
    username: &str,
) -> StoreResult<Option<(User, Option<String>)>> {
    sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        ", password_hash FROM users WHERE username = ?"
    ))
    .bind(username)
    .try_map(|row: SqliteRow| Ok((from_row(&row)?, row.try_get("password_hash")?)))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn by_external_id(
    ex: impl SqliteExecutor<'_>,
    external_id: &str,
) -> StoreResult<Option<User>> {
    sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE external_id = ?"
    ))
    .bind(external_id)
    .try_map(|row: SqliteRow| from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn password_hash(
    ex: impl SqliteExecutor<'_>,
    id: UserId,
) -> StoreResult<Option<String>> {
    let hash: Option<Option<String>> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?")
            .bind(id.0)
            .fetch_optional(ex)
            .await
            .map_err(backend)?;
    Ok(hash.flatten())
}

pub(crate) async fn search(
    ex: impl SqliteExecutor<'_>,
    prefix: &str,
    limit: u32,
) -> StoreResult<Vec<User>> {
    // Both sides are lowercase, so LIKE's ASCII case folding changes nothing.
    sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE disabled = 0 AND (username LIKE ?1 ESCAPE '!' OR display_name_lower LIKE ?1 ESCAPE '!') \
         ORDER BY id LIMIT ?2"
    ))
    .bind(like_prefix(&prefix.to_lowercase()))
    .bind(limit)
    .try_map(|row: SqliteRow| from_row(&row))
    .fetch_all(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn list(
    ex: impl SqliteExecutor<'_>,
    after: UserId,
    limit: u32,
) -> StoreResult<Vec<User>> {
    sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id > ? ORDER BY id LIMIT ?"
    ))
    .bind(after.0)
    .bind(limit)
    .try_map(|row: SqliteRow| from_row(&row))
    .fetch_all(ex)
    .await
    .map_err(backend)
}

/// `Missing(Entity::User)` unless exactly the user's row was changed.
fn one_user(result: sqlx::sqlite::SqliteQueryResult) -> StoreResult<()> {
    if result.rows_affected() == 0 {
        Err(StoreError::Missing(Entity::User))
    } else {
        Ok(())
    }
}

pub(crate) async fn set_password_hash(
    ex: impl SqliteExecutor<'_>,
    id: UserId,
    hash: &str,
) -> StoreResult<()> {
    one_user(
        sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(id.0)
            .execute(ex)
            .await
            .map_err(backend)?,
    )
}

/// Gives a guest a username and password; `None` when the user is absent or not a guest.
pub(crate) async fn upgrade_guest(
    ex: impl SqliteExecutor<'_>,
    id: UserId,
    username: &str,
    hash: &str,
) -> StoreResult<Option<User>> {
    sqlx::query(concat!(
        "UPDATE users SET username = ?, password_hash = ?, is_guest = 0 WHERE id = ? AND is_guest = 1 RETURNING ",
        user_columns!()
    ))
    .bind(username)
    .bind(hash)
    .bind(id.0)
    .try_map(|row: SqliteRow| from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(conflict(Unique::Username, Entity::User))
}

pub(crate) async fn set_disabled(
    ex: impl SqliteExecutor<'_>,
    id: UserId,
    disabled: bool,
) -> StoreResult<()> {
    one_user(
        sqlx::query("UPDATE users SET disabled = ? WHERE id = ?")
            .bind(disabled)
            .bind(id.0)
            .execute(ex)
            .await
            .map_err(backend)?,
    )
}

pub(crate) async fn set_server_admin(
    ex: impl SqliteExecutor<'_>,
    id: UserId,
    admin: bool,
) -> StoreResult<()> {
    one_user(
        sqlx::query("UPDATE users SET is_server_admin = ? WHERE id = ?")
            .bind(admin)
            .bind(id.0)
            .execute(ex)
            .await
            .map_err(backend)?,
    )
}

pub(crate) async fn touch(
    ex: impl SqliteExecutor<'_>,
    id: UserId,
    at: Timestamp,
) -> StoreResult<()> {
    one_user(
        sqlx::query("UPDATE users SET last_active_at = max(last_active_at, ?) WHERE id = ?")
            .bind(at.0)
            .bind(id.0)
            .execute(ex)
            .await
            .map_err(backend)?,
    )
}

/// Disables the inactive guests and returns their ids; the caller deletes their sessions in
/// the same transaction.
pub(crate) async fn disable_inactive_guests(
    conn: &mut SqliteConnection,
    inactive_since: Timestamp,
) -> StoreResult<Vec<UserId>> {
    let mut ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE users SET disabled = 1 WHERE is_guest = 1 AND disabled = 0 AND last_active_at < ? RETURNING id",
    )
    .bind(inactive_since.0)
    .fetch_all(conn)
    .await
    .map_err(backend)?;
    ids.sort_unstable();
    Ok(ids.into_iter().map(UserId).collect())
}

pub(crate) async fn exists(ex: impl SqliteExecutor<'_>, id: UserId) -> StoreResult<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)")
        .bind(id.0)
        .fetch_one(ex)
        .await
        .map_err(backend)
}
