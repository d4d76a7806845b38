//! SQL for the `rooms` and `members` tables.

use chatcore::{
    Entity, Member, NewRoom, Role, Room, RoomId, RoomKind, Seq, StoreError, StoreResult, Timestamp,
    Unique, UserId,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqliteExecutor};

use crate::error::{backend, conflict};

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

fn room_from_row(row: &SqliteRow) -> Result<Room, sqlx::Error> {
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

fn role_from_text(text: &str) -> Result<Role, sqlx::Error> {
    match text {
        "admin" => Ok(Role::Admin),
        "member" => Ok(Role::Member),
        other => Err(sqlx::Error::Decode(
            format!("unknown role {other:?}").into(),
        )),
    }
}

fn member_from_row(row: &SqliteRow) -> Result<Member, sqlx::Error> {
    let role = role_from_text(row.try_get("role")?)?;
    Ok(Member {
        room_id: RoomId(row.try_get("room_id")?),
        user_id: UserId(row.try_get("user_id")?),
        role,
        joined_at: Timestamp(row.try_get("joined_at")?),
        last_read_seq: row.try_get("last_read_seq")?,
    })
}

/// Inserts the room and its members; the caller holds the transaction.
pub(crate) async fn insert(conn: &mut SqliteConnection, new: NewRoom) -> StoreResult<Room> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO rooms (kind, name, direct_key, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(kind_text(new.kind))
    .bind(&new.name)
    .bind(&new.direct_key)
    .bind(new.created_at.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(conflict(Unique::DirectRoom, Entity::Room))?;
    let room = RoomId(id);
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

pub(crate) async fn by_id(ex: impl SqliteExecutor<'_>, id: RoomId) -> StoreResult<Option<Room>> {
    sqlx::query(concat!(
        "SELECT ",
        room_columns!(),
        " FROM rooms r WHERE r.id = ?"
    ))
    .bind(id.0)
    .try_map(|row: SqliteRow| room_from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn by_direct_key(
    ex: impl SqliteExecutor<'_>,
    key: &str,
) -> StoreResult<Option<Room>> {
    sqlx::query(concat!(
        "SELECT ",
        room_columns!(),
        " FROM rooms r WHERE r.direct_key = ?"
    ))
    .bind(key)
    .try_map(|row: SqliteRow| room_from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn exists(ex: impl SqliteExecutor<'_>, id: RoomId) -> StoreResult<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM rooms WHERE id = ?)")
        .bind(id.0)
        .fetch_one(ex)
        .await
        .map_err(backend)
}

pub(crate) async fn rename(ex: impl SqliteExecutor<'_>, id: RoomId, name: &str) -> StoreResult<()> {
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
    ex: impl SqliteExecutor<'_>,
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
    .try_map(|row: SqliteRow| Ok((room_from_row(&row)?, member_from_row(&row)?)))
    .fetch_all(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn members(ex: impl SqliteExecutor<'_>, room: RoomId) -> StoreResult<Vec<Member>> {
    sqlx::query(concat!(
        "SELECT ",
        member_columns!(),
        " FROM members m WHERE m.room_id = ? ORDER BY m.id"
    ))
    .bind(room.0)
    .try_map(|row: SqliteRow| member_from_row(&row))
    .fetch_all(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn member(
    ex: impl SqliteExecutor<'_>,
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
    .try_map(|row: SqliteRow| member_from_row(&row))
    .fetch_optional(ex)
    .await
    .map_err(backend)
}

pub(crate) async fn insert_member(
    ex: impl SqliteExecutor<'_>,
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

/// Deletes the membership and returns the role it had (`None`: no such membership).
pub(crate) async fn delete_member(
    ex: impl SqliteExecutor<'_>,
    room: RoomId,
    user: UserId,
) -> StoreResult<Option<Role>> {
    let role: Option<String> =
        sqlx::query_scalar("DELETE FROM members WHERE room_id = ? AND user_id = ? RETURNING role")
            .bind(room.0)
            .bind(user.0)
            .fetch_optional(ex)
            .await
            .map_err(backend)?;
    role.as_deref()
        .map(role_from_text)
        .transpose()
        .map_err(backend)
}

/// How many members the room has, and how many of them are admins.
pub(crate) async fn head_count(
    ex: impl SqliteExecutor<'_>,
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
pub(crate) async fn promote_heir(
    ex: impl SqliteExecutor<'_>,
    room: RoomId,
) -> StoreResult<Option<UserId>> {
    let heir: Option<i64> = sqlx::query_scalar(
        "UPDATE members SET role = 'admin' WHERE id = (\
             SELECT m.id FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.room_id = ? AND u.is_guest = 0 AND u.disabled = 0 ORDER BY m.id LIMIT 1) \
         RETURNING user_id",
    )
    .bind(room.0)
    .fetch_optional(ex)
    .await
    .map_err(backend)?;
    Ok(heir.map(UserId))
}

/// Whether the role was set (`false`: no such membership).
pub(crate) async fn set_role(
    ex: impl SqliteExecutor<'_>,
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

/// The marker now stored, or `None` when there is no such membership.
pub(crate) async fn mark_read(
    ex: impl SqliteExecutor<'_>,
    room: RoomId,
    user: UserId,
    seq: Seq,
) -> StoreResult<Option<Seq>> {
    sqlx::query_scalar(
        "UPDATE members SET last_read_seq = max(last_read_seq, ?) WHERE room_id = ? AND user_id = ? \
         RETURNING last_read_seq",
    )
    .bind(seq)
    .bind(room.0)
    .bind(user.0)
    .fetch_optional(ex)
    .await
    .map_err(backend)
}
