//! SQL for the `rooms` and `members` tables.

use chatcore::{
    Entity, Member, NewRoom, Role, Room, RoomId, RoomKind, Seq, StoreError, StoreResult, Timestamp,
    Unique, UserId,
};
use sqlx::mysql::MySqlRow;
use sqlx::{MySqlConnection, MySqlExecutor, Row};

use crate::error::{backend, conflict};
use crate::users::inserted_id;

macro_rules! room_columns {
    () => {
        "r.id, r.kind, r.name, r.last_seq, r.created_at"
    };
}

macro_rules! member_columns {
    () => {
        "m.room_id, m.user_id, m.role, m.joined_at, m.last_read_seq"
    };
}

fn kind_text(kind: RoomKind) -> &'static str {
    match kind {
        RoomKind::Direct => "direct",
        RoomKind::Group => "group",
    }
}

fn role_text(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Member => "member",
    }
}

fn room_from_row(row: &MySqlRow) -> Result<Room, sqlx::Error> {
    let kind = match row.try_get::<&str, _>("kind")? {
        "direct" => RoomKind::Direct,
        "group" => RoomKind::Group,
        other => {
            return Err(sqlx::Error::Decode(
                format!("unknown room kind {other:?}").into(),
            ));
        }
    };
    Ok(Room {
        id: RoomId(row.try_get("id")?),
        kind,
        name: row.try_get("name")?,
        last_seq: row.try_get("last_seq")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

fn member_from_row(row: &MySqlRow) -> Result<Member, sqlx::Error> {
    let role = match row.try_get::<&str, _>("role")? {
        "admin" => Role::Admin,
        "member" => Role::Member,
        other => {
            return Err(sqlx::Error::Decode(
                format!("unknown role {other:?}").into(),
            ));
        }
    };
    Ok(Member {
        room_id: RoomId(row.try_get("room_id")?),
        user_id: UserId(row.try_get("user_id")?),
        role,
        joined_at: Timestamp(row.try_get("joined_at")?),
        last_read_seq: row.try_get("last_read_seq")?,
    })
}

/// Inserts the room and its members; the caller holds the transaction.
pub(crate) async fn insert(conn: &mut MySqlConnection, new: NewRoom) -> StoreResult<Room> {
    let done =
        sqlx::query("INSERT INTO rooms (kind, name, direct_key, created_at) VALUES (?, ?, ?, ?)")
            .bind(kind_text(new.kind))
            .bind(&new.name)
            .bind(&new.direct_key)
            .bind(new.created_at.0)
            .execute(&mut *conn)
            .await
            .map_err(conflict(Unique::DirectRoom, Entity::Room))?;
    let room = RoomId(inserted_id(&done)?);
    for &(user, role) in &new.members {
        insert_member(&mut *conn, room, user, role, new.created_at).await?;
    }
    Ok(Room {
        id: room,
        kind: new.kind,
        name: new.name,
        last_seq: 0,
        created_at: new.created_at,
    })
}

pub(crate) async fn by_id(ex: impl MySqlExecutor<'_>, id: RoomId) -> StoreResult<Option<Room>> {
    sqlx::query(concat!(
        "SELECT ",
        room_columns!(),
        " FROM rooms r WHERE r.id = ?"
    ))
    .bind(id.0)
    .try_map(|row: MySqlRow| room_from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn by_direct_key(
    ex: impl MySqlExecutor<'_>,
    key: &str,
) -> StoreResult<Option<Room>> {
    sqlx::query(concat!(
        "SELECT ",
        room_columns!(),
        " FROM rooms r WHERE r.direct_key = ?"
    ))
    .bind(key)
    .try_map(|row: MySqlRow| room_from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn exists(ex: impl MySqlExecutor<'_>, id: RoomId) -> StoreResult<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM rooms WHERE id = ?)")
        .bind(id.0)
        .fetch_one(ex)
        .await
        .map_err(backend)
}

pub(crate) async fn rename(ex: impl MySqlExecutor<'_>, id: RoomId, name: &str) -> StoreResult<()> {
    let done = sqlx::query("UPDATE rooms SET name = ? WHERE id = ?")
        .bind(name)
        .bind(id.0)
        .execute(ex)
        .await
        .map_err(backend)?;
    if done.rows_affected() == 0 {
        Err(StoreError::Missing(Entity::Room))
    } else {
        Ok(())
    }
}

pub(crate) async fn of_user(
    ex: impl MySqlExecutor<'_>,
    user: UserId,
) -> StoreResult<Vec<(Room, Member)>> {
    sqlx::query(concat!(
        "SELECT ",
        room_columns!(),
        ", ",
        member_columns!(),
        " FROM members m JOIN rooms r ON r.id = m.room_id WHERE m.user_id = ? ORDER BY r.id"
    ))
    .bind(user.0)
    .try_map(|row: MySqlRow| Ok((room_from_row(&row)?, member_from_row(&row)?)))
    .fetch_all(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn members(ex: impl MySqlExecutor<'_>, room: RoomId) -> StoreResult<Vec<Member>> {
    sqlx::query(concat!(
        "SELECT ",
        member_columns!(),
        " FROM members m WHERE m.room_id = ? ORDER BY m.id"
    ))
    .bind(room.0)
    .try_map(|row: MySqlRow| member_from_row(&row))
    .fetch_all(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn member(
    ex: impl MySqlExecutor<'_>,
    room: RoomId,
    user: UserId,
) -> StoreResult<Option<Member>> {
    sqlx::query(concat!(
        "SELECT ",
        member_columns!(),
        " FROM members m WHERE m.room_id = ? AND m.user_id = ?"
    ))
    .bind(room.0)
    .bind(user.0)
    .try_map(|row: MySqlRow| member_from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn insert_member(
    ex: impl MySqlExecutor<'_>,
    room: RoomId,
    user: UserId,
    role: Role,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO members (room_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)")
        .bind(room.0)
        .bind(user.0)
        .bind(role_text(role))
        .bind(at.0)
        .execute(ex)
        .await
        .map_err(conflict(Unique::Member, Entity::User))?;
    Ok(())
}

pub(crate) async fn delete_member(
    ex: impl MySqlExecutor<'_>,
    room: RoomId,
    user: UserId,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM members WHERE room_id = ? AND user_id = ?")
        .bind(room.0)
        .bind(user.0)
        .execute(ex)
        .await
        .map_err(backend)?;
    Ok(())
}

/// How many members the room has, and how many of them are admins.
pub(crate) async fn head_count(
    ex: impl MySqlExecutor<'_>,
    room: RoomId,
) -> StoreResult<(i64, i64)> {
    sqlx::query_as(
        "SELECT COUNT(*), COUNT(CASE WHEN role = 'admin' THEN 1 END) FROM members WHERE room_id = ?",
    )
    .bind(room.0)
    .fetch_one(ex)
    .await
    .map_err(backend)
}

/// Makes the oldest full member (not a guest, not disabled) admin and returns them, if any.
/// The caller holds the room's lock.
pub(crate) async fn promote_heir(
    conn: &mut MySqlConnection,
    room: RoomId,
) -> StoreResult<Option<UserId>> {
    let heir: Option<i64> = sqlx::query_scalar(
        "SELECT m.user_id FROM members m JOIN users u ON u.id = m.user_id \
         WHERE m.room_id = ? AND u.is_guest = FALSE AND u.disabled = FALSE ORDER BY m.id LIMIT 1",
    )
    .bind(room.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    let Some(heir) = heir.map(UserId) else {
        return Ok(None);
    };
    set_role(conn, room, heir, Role::Admin).await?;
    Ok(Some(heir))
}

/// Whether the role was set (`false`: no such membership).
pub(crate) async fn set_role(
    ex: impl MySqlExecutor<'_>,
    room: RoomId,
    user: UserId,
    role: Role,
) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE members SET role = ? WHERE room_id = ? AND user_id = ?")
        .bind(role_text(role))
        .bind(room.0)
        .bind(user.0)
        .execute(ex)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

/// Raises the marker (never lowers it); the caller reads it back with [`member`].
pub(crate) async fn raise_read_marker(
    ex: impl MySqlExecutor<'_>,
    room: RoomId,
    user: UserId,
    seq: Seq,
) -> StoreResult<()> {
    sqlx::query("UPDATE members SET last_read_seq = GREATEST(last_read_seq, ?) WHERE room_id = ? AND user_id = ?")
        .bind(seq)
        .bind(room.0)
        .bind(user.0)
        .execute(ex)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Locks the room's counter row until the caller's transaction ends and returns it (`None`
/// if the room is absent). Every append takes this lock first, which serializes appends to one
/// room across connections and server nodes.
pub(crate) async fn lock_last_seq(
    conn: &mut MySqlConnection,
    room: RoomId,
) -> StoreResult<Option<Seq>> {
    sqlx::query_scalar("SELECT last_seq FROM rooms WHERE id = ? FOR UPDATE")
        .bind(room.0)
        .fetch_optional(conn)
        .await
        .map_err(backend)
}

pub(crate) async fn set_last_seq(
    conn: &mut MySqlConnection,
    room: RoomId,
    seq: Seq,
) -> StoreResult<()> {
    sqlx::query("UPDATE rooms SET last_seq = ? WHERE id = ?")
        .bind(seq)
        .bind(room.0)
        .execute(conn)
        .await
        .map_err(backend)?;
    Ok(())
}
