//! The `invites` table: invite links by token hash (the token itself is never stored).

use chatcore::{
    Entity, Invite, InviteId, NewInvite, RoomId, StoreResult, Timestamp, Unique, UserId,
};

use crate::db::Cols;
use crate::dialect::Dialect;
use crate::sql::{Conn, Sql};

macro_rules! invite_columns {
    () => {
        "id, room_id, token_prefix, created_by, created_at, expires_at, max_uses, uses"
    };
}

/// `WHERE` text matching the links that still admit someone at the first `?` (a time).
macro_rules! usable {
    () => {
        "expires_at > ? AND (max_uses IS NULL OR uses < max_uses)"
    };
}

fn count(n: i64) -> Result<u32, sqlx::Error> {
    u32::try_from(n).map_err(|_| sqlx::Error::Decode("invite use count out of range".into()))
}

fn from_row<D: Dialect>(row: Cols<'_, D>) -> Result<Invite, sqlx::Error> {
    Ok(Invite {
        id: InviteId(row.get("id")?),
        room_id: RoomId(row.get("room_id")?),
        token_prefix: row.get("token_prefix")?,
        created_by: UserId(row.get("created_by")?),
        created_at: Timestamp(row.get("created_at")?),
        expires_at: Timestamp(row.get("expires_at")?),
        max_uses: row.get::<Option<i64>>("max_uses")?.map(count).transpose()?,
        uses: count(row.get("uses")?)?,
    })
}

/// Records a link (unused) and returns it.
pub async fn insert<D: Dialect>(conn: &mut Conn<D>, new: &NewInvite) -> StoreResult<Invite> {
    let id = Sql::<D>::new(
        "INSERT INTO invites (room_id, token_hash, token_prefix, created_by, created_at, \
         expires_at, max_uses, uses) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
    )
    .bind(new.room_id.0)
    .bind(&new.token_hash[..])
    .bind(new.token_prefix.as_str())
    .bind(new.created_by.0)
    .bind(new.created_at.0)
    .bind(new.expires_at.0)
    .bind(new.max_uses.map(i64::from))
    .unique(Unique::Invite)
    .references(Entity::User)
    .insert(conn)
    .await?;
    Ok(Invite {
        id: InviteId(id),
        room_id: new.room_id,
        token_prefix: new.token_prefix.clone(),
        created_by: new.created_by,
        created_at: new.created_at,
        expires_at: new.expires_at,
        max_uses: new.max_uses,
        uses: 0,
    })
}

/// Deletes the room's links that admit no one at `at`.
pub async fn delete_dead<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    at: Timestamp,
) -> StoreResult<()> {
    Sql::<D>::new(concat!(
        "DELETE FROM invites WHERE room_id = ? AND NOT (",
        usable!(),
        ")"
    ))
    .bind(room.0)
    .bind(at.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many of the room's links admit someone at `at`.
pub async fn count_usable<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    at: Timestamp,
) -> StoreResult<i64> {
    Sql::<D>::new(concat!(
        "SELECT COUNT(*) AS n FROM invites WHERE room_id = ? AND ",
        usable!()
    ))
    .bind(room.0)
    .bind(at.0)
    .fetch_one(conn, |row| row.get("n"))
    .await
}

/// Every link of a room, oldest first.
pub async fn of_room<D: Dialect>(conn: &mut Conn<D>, room: RoomId) -> StoreResult<Vec<Invite>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        invite_columns!(),
        " FROM invites WHERE room_id = ? ORDER BY id"
    ))
    .bind(room.0)
    .fetch_all(conn, from_row)
    .await
}

/// The link with this token hash.
pub async fn by_hash<D: Dialect>(
    conn: &mut Conn<D>,
    token_hash: &[u8; 32],
) -> StoreResult<Option<Invite>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        invite_columns!(),
        " FROM invites WHERE token_hash = ?"
    ))
    .bind(&token_hash[..])
    .fetch_optional(conn, from_row)
    .await
}

/// Deletes the room's link `id`; whether there was one.
pub async fn delete<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    id: InviteId,
) -> StoreResult<bool> {
    let deleted = Sql::<D>::new("DELETE FROM invites WHERE id = ? AND room_id = ?")
        .bind(id.0)
        .bind(room.0)
        .execute(conn)
        .await?;
    Ok(deleted > 0)
}

/// Counts one use of link `id` if it still admits someone at `at`; whether it did. The check
/// and the count are one statement, so two uses never share the last one.
pub async fn use_once<D: Dialect>(
    conn: &mut Conn<D>,
    id: InviteId,
    at: Timestamp,
) -> StoreResult<bool> {
    let used = Sql::<D>::new(concat!(
        "UPDATE invites SET uses = uses + 1 WHERE id = ? AND ",
        usable!()
    ))
    .bind(id.0)
    .bind(at.0)
    .execute(conn)
    .await?;
    Ok(used > 0)
}
