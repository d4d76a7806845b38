//! The `users` table.

use chatcore::{
    Among, Avatar, Entity, NewUser, StoreError, StoreResult, Timestamp, Unique, User, UserId,
};

use crate::db::Cols;
use crate::dialect::Dialect;
use crate::queries::in_list;
use crate::sql::{Conn, Sql};

/// The columns [`from_row`] reads, as a literal so `concat!` can build queries from it.
macro_rules! user_columns {
    () => {
        "id, username, display_name, is_guest, is_server_admin, disabled, external_id, created_at, \
         last_active_at, avatar_id, avatar_mime, hide_last_seen"
    };
}

/// Reads a row of [`user_columns!`].
fn from_row<D: Dialect>(row: Cols<'_, D>) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(row.get("id")?),
        username: row.get("username")?,
        display_name: row.get("display_name")?,
        is_guest: row.get("is_guest")?,
        is_server_admin: row.get("is_server_admin")?,
        disabled: row.get("disabled")?,
        external_id: row.get("external_id")?,
        created_at: Timestamp(row.get("created_at")?),
        last_active_at: Timestamp(row.get("last_active_at")?),
        avatar: avatar(row.get("avatar_id")?, row.get("avatar_mime")?)?,
        hide_last_seen: row.get("hide_last_seen")?,
    })
}

/// The avatar named by the `avatar_id` and `avatar_mime` columns (both NULL without one).
fn avatar(id: Option<String>, mime: Option<String>) -> Result<Option<Avatar>, sqlx::Error> {
    let (Some(id), Some(mime)) = (id, mime) else {
        return Ok(None);
    };
    let id = id.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(Some(Avatar { id, mime }))
}

/// Prefix search runs on display names lowercased here, by Rust, so that it folds case exactly
/// like chatcore does, whatever the database's own `lower()` knows.
fn search_key(display_name: &str) -> String {
    display_name.to_lowercase()
}

/// A `LIKE` pattern matching strings that start with `prefix` taken literally (`!` escapes).
fn like_prefix(prefix: &str) -> String {
    format!("{}%", crate::queries::like::escaped(prefix))
}

/// Inserts the user. A taken username or external id is `Duplicate` of the one that is taken.
pub async fn insert<D: Dialect>(conn: &mut Conn<D>, new: NewUser) -> StoreResult<User> {
    let inserted = Sql::<D>::new(
        "INSERT INTO users (username, display_name, display_name_lower, password_hash, is_guest, \
         external_id, created_at, last_active_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(new.username.as_deref())
    .bind(new.display_name.as_str())
    .bind(search_key(&new.display_name).as_str())
    .bind(new.password_hash.as_deref())
    .bind(new.is_guest)
    .bind(new.external_id.as_deref())
    .bind(new.created_at.0)
    .bind(new.created_at.0)
    .unique(Unique::Username)
    .insert(conn)
    .await;
    let id = match inserted {
        Err(StoreError::Duplicate(_)) => return Err(which_is_taken::<D>(conn, &new).await?),
        other => other?,
    };
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
        avatar: None,
        hide_last_seen: false,
    })
}

/// After a refused insert: which of the user's unique keys another user holds.
async fn which_is_taken<D: Dialect>(conn: &mut Conn<D>, new: &NewUser) -> StoreResult<StoreError> {
    let external_taken = match &new.external_id {
        Some(id) => by_external_id::<D>(conn, id).await?.is_some(),
        None => false,
    };
    Ok(StoreError::Duplicate(if external_taken {
        Unique::ExternalId
    } else {
        Unique::Username
    }))
}

/// The user with this id.
pub async fn by_id<D: Dialect>(conn: &mut Conn<D>, id: UserId) -> StoreResult<Option<User>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = ?"
    ))
    .bind(id.0)
    .fetch_optional(conn, from_row)
    .await
}

/// The user with this (lowercase) username and their password hash.
pub async fn by_username<D: Dialect>(
    conn: &mut Conn<D>,
    username: &str,
) -> StoreResult<Option<(User, Option<String>)>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        user_columns!(),
        ", password_hash FROM users WHERE username = ?"
    ))
    .bind(username)
    .fetch_optional(conn, |row| Ok((from_row(row)?, row.get("password_hash")?)))
    .await
}

/// The user the host application knows by `external_id` (compared byte for byte).
pub async fn by_external_id<D: Dialect>(
    conn: &mut Conn<D>,
    external_id: &str,
) -> StoreResult<Option<User>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE external_id = ?"
    ))
    .bind(external_id)
    .fetch_optional(conn, from_row)
    .await
}

/// The user's password hash, if they exist and have one.
pub async fn password_hash<D: Dialect>(
    conn: &mut Conn<D>,
    id: UserId,
) -> StoreResult<Option<String>> {
    let hash: Option<Option<String>> =
        Sql::<D>::new("SELECT password_hash FROM users WHERE id = ?")
            .bind(id.0)
            .fetch_optional(conn, |row| row.get("password_hash"))
            .await?;
    Ok(hash.flatten())
}

/// The ids of everyone who shares a room with the user bound to its `?` (the user too).
macro_rules! roommates {
    () => {
        "SELECT theirs.user_id FROM members mine \
         JOIN members theirs ON theirs.room_id = mine.room_id WHERE mine.user_id = ?"
    };
}

/// The search's `WHERE` before its scope: enabled, and a name starting with the pattern.
macro_rules! search_head {
    () => {
        concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE disabled = FALSE \
             AND (username LIKE ? ESCAPE '!' OR display_name_lower LIKE ? ESCAPE '!')"
        )
    };
}

/// Enabled users `among` those named whose username or display name starts with `prefix`, by
/// id.
pub async fn search<D: Dialect>(
    conn: &mut Conn<D>,
    prefix: &str,
    among: Among,
    limit: u32,
) -> StoreResult<Vec<User>> {
    // Both sides are lowercase, so whatever case folding LIKE does changes nothing.
    let pattern = like_prefix(&prefix.to_lowercase());
    let (text, me) = match among {
        Among::Everyone => (concat!(search_head!(), " ORDER BY id LIMIT ?"), None),
        Among::RegisteredOrRoommatesOf(me) => (
            concat!(
                search_head!(),
                " AND (is_guest = FALSE OR (id <> ? AND id IN (",
                roommates!(),
                "))) ORDER BY id LIMIT ?"
            ),
            Some(me),
        ),
        Among::RoommatesOf(me) => (
            concat!(
                search_head!(),
                " AND id <> ? AND id IN (",
                roommates!(),
                ") ORDER BY id LIMIT ?"
            ),
            Some(me),
        ),
    };
    let mut sql = Sql::<D>::new(text)
        .bind(pattern.as_str())
        .bind(pattern.as_str());
    if let Some(me) = me {
        sql = sql.bind(me.0).bind(me.0);
    }
    sql.bind(i64::from(limit)).fetch_all(conn, from_row).await
}

/// Whether the two users are members of one room.
pub async fn share_a_room<D: Dialect>(
    conn: &mut Conn<D>,
    a: UserId,
    b: UserId,
) -> StoreResult<bool> {
    Ok(Sql::<D>::new(
        "SELECT 1 AS one FROM members mine \
         JOIN members theirs ON theirs.room_id = mine.room_id \
         WHERE mine.user_id = ? AND theirs.user_id = ? LIMIT 1",
    )
    .bind(a.0)
    .bind(b.0)
    .fetch_optional(conn, |_| Ok(()))
    .await?
    .is_some())
}

/// Everyone in a room with `user` (`user` too, when in any room), each once, in no promised
/// order.
pub async fn in_rooms_of<D: Dialect>(conn: &mut Conn<D>, user: UserId) -> StoreResult<Vec<User>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id IN (SELECT theirs.user_id FROM members mine \
           JOIN members theirs ON theirs.room_id = mine.room_id WHERE mine.user_id = ?)"
    ))
    .bind(user.0)
    .fetch_all(conn, from_row)
    .await
}

/// Users with id greater than `after`, by id.
pub async fn list<D: Dialect>(
    conn: &mut Conn<D>,
    after: UserId,
    limit: u32,
) -> StoreResult<Vec<User>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id > ? ORDER BY id LIMIT ?"
    ))
    .bind(after.0)
    .bind(i64::from(limit))
    .fetch_all(conn, from_row)
    .await
}

/// `Missing(User)` unless the statement matched the user's row.
fn one_user(matched: u64) -> StoreResult<()> {
    if matched == 0 {
        Err(StoreError::Missing(Entity::User))
    } else {
        Ok(())
    }
}

/// Replaces the display name (and its search key).
pub async fn set_display_name<D: Dialect>(
    conn: &mut Conn<D>,
    id: UserId,
    display_name: &str,
) -> StoreResult<()> {
    one_user(
        Sql::<D>::new("UPDATE users SET display_name = ?, display_name_lower = ? WHERE id = ?")
            .bind(display_name)
            .bind(search_key(display_name).as_str())
            .bind(id.0)
            .execute(conn)
            .await?,
    )
}

/// Sets whether the user hides when they were last seen.
pub async fn set_hide_last_seen<D: Dialect>(
    conn: &mut Conn<D>,
    id: UserId,
    hide: bool,
) -> StoreResult<()> {
    one_user(
        Sql::<D>::new("UPDATE users SET hide_last_seen = ? WHERE id = ?")
            .bind(hide)
            .bind(id.0)
            .execute(conn)
            .await?,
    )
}

/// Locks the user's row until the caller's transaction ends and returns their avatar; `None`
/// when the user is absent.
pub async fn lock_avatar<D: Dialect>(
    conn: &mut Conn<D>,
    id: UserId,
) -> StoreResult<Option<Option<Avatar>>> {
    Sql::<D>::new("SELECT avatar_id, avatar_mime FROM users WHERE id = ? FOR UPDATE")
        .bind(id.0)
        .fetch_optional(conn, |row| {
            avatar(row.get("avatar_id")?, row.get("avatar_mime")?)
        })
        .await
}

/// Points the user at `avatar` (`None`: no picture).
pub async fn set_avatar<D: Dialect>(
    conn: &mut Conn<D>,
    id: UserId,
    avatar: Option<&Avatar>,
) -> StoreResult<()> {
    let avatar_id = avatar.map(|a| a.id.to_string());
    one_user(
        Sql::<D>::new("UPDATE users SET avatar_id = ?, avatar_mime = ? WHERE id = ?")
            .bind(avatar_id.as_deref())
            .bind(avatar.map(|a| a.mime.as_str()))
            .bind(id.0)
            .execute(conn)
            .await?,
    )
}

/// Replaces the password hash.
pub async fn set_password_hash<D: Dialect>(
    conn: &mut Conn<D>,
    id: UserId,
    hash: &str,
) -> StoreResult<()> {
    one_user(
        Sql::<D>::new("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(id.0)
            .execute(conn)
            .await?,
    )
}

/// Gives a guest a username and password; `false` when the user is absent or not a guest. The
/// row lock the update takes makes a concurrent upgrade wait, then find no guest.
pub async fn upgrade_guest<D: Dialect>(
    conn: &mut Conn<D>,
    id: UserId,
    username: &str,
    hash: &str,
) -> StoreResult<bool> {
    let matched = Sql::<D>::new(
        "UPDATE users SET username = ?, password_hash = ?, is_guest = FALSE \
         WHERE id = ? AND is_guest = TRUE",
    )
    .bind(username)
    .bind(hash)
    .bind(id.0)
    .unique(Unique::Username)
    .execute(conn)
    .await?;
    Ok(matched > 0)
}

/// Enables or disables a user.
pub async fn set_disabled<D: Dialect>(
    conn: &mut Conn<D>,
    id: UserId,
    disabled: bool,
) -> StoreResult<()> {
    one_user(
        Sql::<D>::new("UPDATE users SET disabled = ? WHERE id = ?")
            .bind(disabled)
            .bind(id.0)
            .execute(conn)
            .await?,
    )
}

/// Grants or revokes the server admin role.
pub async fn set_server_admin<D: Dialect>(
    conn: &mut Conn<D>,
    id: UserId,
    admin: bool,
) -> StoreResult<()> {
    one_user(
        Sql::<D>::new("UPDATE users SET is_server_admin = ? WHERE id = ?")
            .bind(admin)
            .bind(id.0)
            .execute(conn)
            .await?,
    )
}

/// Moves the last activity forward to `at` (never back).
pub async fn touch<D: Dialect>(conn: &mut Conn<D>, id: UserId, at: Timestamp) -> StoreResult<()> {
    one_user(
        Sql::<D>::new("UPDATE users SET last_active_at = GREATEST(last_active_at, ?) WHERE id = ?")
            .bind(at.0)
            .bind(id.0)
            .execute(conn)
            .await?,
    )
}

/// Locks and returns the enabled guests inactive since before `inactive_since`, by id.
pub async fn lock_inactive_guests<D: Dialect>(
    conn: &mut Conn<D>,
    inactive_since: Timestamp,
) -> StoreResult<Vec<UserId>> {
    Sql::<D>::new(
        "SELECT id FROM users WHERE is_guest = TRUE AND disabled = FALSE AND last_active_at < ? \
         ORDER BY id FOR UPDATE",
    )
    .bind(inactive_since.0)
    .fetch_all(conn, |row| Ok(UserId(row.get("id")?)))
    .await
}

/// Disables every user in `ids`.
pub async fn disable_all<D: Dialect>(conn: &mut Conn<D>, ids: &[UserId]) -> StoreResult<()> {
    for chunk in ids.chunks(in_list::MAX) {
        in_list::bind(
            Sql::<D>::built(format!(
                "UPDATE users SET disabled = TRUE WHERE id IN ({})",
                in_list::placeholders(chunk.len(), 1)
            )),
            chunk,
            |sql, id| sql.bind(id.0),
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Locks the user's row until the caller's transaction ends; `false` if the user is absent.
/// Uploads take this lock, which serializes one user's quota checks across connections and
/// server nodes.
pub async fn lock<D: Dialect>(conn: &mut Conn<D>, id: UserId) -> StoreResult<bool> {
    Ok(
        Sql::<D>::new("SELECT 1 AS one FROM users WHERE id = ? FOR UPDATE")
            .bind(id.0)
            .fetch_optional(conn, |_| Ok(()))
            .await?
            .is_some(),
    )
}

/// Whether the user exists.
pub async fn exists<D: Dialect>(conn: &mut Conn<D>, id: UserId) -> StoreResult<bool> {
    Ok(Sql::<D>::new("SELECT 1 AS one FROM users WHERE id = ?")
        .bind(id.0)
        .fetch_optional(conn, |_| Ok(()))
        .await?
        .is_some())
}
