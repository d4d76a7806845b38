//! SQL for the `users` table.

use chatcore::{Entity, NewUser, StoreError, StoreResult, Timestamp, Unique, User, UserId};
use sqlx::mysql::{MySqlQueryResult, MySqlRow};
use sqlx::{MySqlConnection, MySqlExecutor, Row};

use crate::error::{backend, conflict, utf8};

/// The columns [`from_row`] reads, as a literal so `concat!` can build queries from it.
macro_rules! user_columns {
    () => {
        "id, username, display_name, is_guest, is_server_admin, disabled, external_id, created_at, last_active_at"
    };
}

fn from_row(row: &MySqlRow) -> Result<User, sqlx::Error> {
    let external_id: Option<Vec<u8>> = row.try_get("external_id")?;
    Ok(User {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        is_guest: row.try_get("is_guest")?,
        is_server_admin: row.try_get("is_server_admin")?,
        disabled: row.try_get("disabled")?,
        external_id: external_id.map(utf8).transpose()?,
        created_at: Timestamp(row.try_get("created_at")?),
        last_active_at: Timestamp(row.try_get("last_active_at")?),
    })
}

/// Prefix search runs on display names lowercased here, by Rust, so that it folds case
/// exactly like chatcore does, whatever the server's collations know.
fn search_key(display_name: &str) -> String {
    display_name.to_lowercase()
}

/// A `LIKE` pattern matching strings that start with `prefix` taken literally (`!` escapes).
fn like_prefix(prefix: &str) -> String {
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

pub(crate) async fn insert(ex: impl MySqlExecutor<'_>, new: NewUser) -> StoreResult<User> {
    let done = sqlx::query(
        "INSERT INTO users (username, display_name, display_name_lower, password_hash, is_guest, \
         external_id, created_at, last_active_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&new.username)
    .bind(&new.display_name)
    .bind(search_key(&new.display_name))
    .bind(&new.password_hash)
    .bind(new.is_guest)
    .bind(new.external_id.as_deref().map(str::as_bytes))
    .bind(new.created_at.0)
    .bind(new.created_at.0)
    .execute(ex)
    .await
    .map_err(|e| match e.as_database_error() {
        Some(db) if db.is_unique_violation() && db.message().contains("external_id") => {
            StoreError::Duplicate(Unique::ExternalId)
        }
        _ => conflict(Unique::Username, Entity::User)(e),
    })?;
    Ok(User {
        id: UserId(inserted_id(&done)?),
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

/// The `AUTO_INCREMENT` id an `INSERT` produced.
pub(crate) fn inserted_id(done: &MySqlQueryResult) -> StoreResult<i64> {
    i64::try_from(done.last_insert_id()).map_err(StoreError::backend)
}

pub(crate) async fn by_id(ex: impl MySqlExecutor<'_>, id: UserId) -> StoreResult<Option<User>> {
    sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = ?"
    ))
    .bind(id.0)
    .try_map(|row: MySqlRow| from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn by_username(
    ex: impl MySqlExecutor<'_>,
    username: &str,
) -> StoreResult<Option<(User, Option<String>)>> {
    sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        ", password_hash FROM users WHERE username = ?"
    ))
    .bind(username)
    .try_map(|row: MySqlRow| Ok((from_row(&row)?, row.try_get("password_hash")?)))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn by_external_id(
    ex: impl MySqlExecutor<'_>,
    external_id: &str,
) -> StoreResult<Option<User>> {
    sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE external_id = ?"
    ))
    .bind(external_id.as_bytes())
    .try_map(|row: MySqlRow| from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn password_hash(
    ex: impl MySqlExecutor<'_>,
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
    ex: impl MySqlExecutor<'_>,
    prefix: &str,
    limit: u32,
) -> StoreResult<Vec<User>> {
    let pattern = like_prefix(&prefix.to_lowercase());
    sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE disabled = FALSE AND (username LIKE ? ESCAPE '!' OR display_name_lower LIKE ? ESCAPE '!') \
         ORDER BY id LIMIT ?"
    ))
    .bind(&pattern)
    .bind(&pattern)
    .bind(limit)
    .try_map(|row: MySqlRow| from_row(&row))
    .fetch_all(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn list(
    ex: impl MySqlExecutor<'_>,
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
    .try_map(|row: MySqlRow| from_row(&row))
    .fetch_all(ex)
    .await
    .map_err(backend)
}

/// `Missing(Entity::User)` unless the user's row was matched (the driver reports found rows, not
/// changed ones, so setting a flag to its current value still counts).
fn one_user(result: MySqlQueryResult) -> StoreResult<()> {
    if result.rows_affected() == 0 {
        Err(StoreError::Missing(Entity::User))
    } else {
        Ok(())
    }
}

pub(crate) async fn set_password_hash(
    ex: impl MySqlExecutor<'_>,
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

/// Gives a guest a username and password; `false` when the user is absent or not a guest. The
/// row lock the update takes makes a concurrent upgrade wait and then find no guest.
pub(crate) async fn upgrade_guest(
    ex: impl MySqlExecutor<'_>,
    id: UserId,
    username: &str,
    hash: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE users SET username = ?, password_hash = ?, is_guest = FALSE WHERE id = ? AND is_guest = TRUE",
    )
    .bind(username)
    .bind(hash)
    .bind(id.0)
    .execute(ex)
    .await
    .map_err(conflict(Unique::Username, Entity::User))?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn set_disabled(
    ex: impl MySqlExecutor<'_>,
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
    ex: impl MySqlExecutor<'_>,
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
    ex: impl MySqlExecutor<'_>,
    id: UserId,
    at: Timestamp,
) -> StoreResult<()> {
    one_user(
        sqlx::query("UPDATE users SET last_active_at = GREATEST(last_active_at, ?) WHERE id = ?")
            .bind(at.0)
            .bind(id.0)
            .execute(ex)
            .await
            .map_err(backend)?,
    )
}

/// Locks and returns the enabled guests inactive since before `inactive_since`, by id.
pub(crate) async fn lock_inactive_guests(
    conn: &mut MySqlConnection,
    inactive_since: Timestamp,
) -> StoreResult<Vec<UserId>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM users WHERE is_guest = TRUE AND disabled = FALSE AND last_active_at < ? ORDER BY id FOR UPDATE",
    )
    .bind(inactive_since.0)
    .fetch_all(conn)
    .await
    .map_err(backend)?;
    Ok(ids.into_iter().map(UserId).collect())
}

pub(crate) async fn exists(ex: impl MySqlExecutor<'_>, id: UserId) -> StoreResult<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)")
        .bind(id.0)
        .fetch_one(ex)
        .await
        .map_err(backend)
}
