//! The `rooms` and `members` tables.

use chatcore::{
    Entity, Member, NewRoom, Role, Room, RoomId, RoomKind, RoomSettings, Seq, StoreError,
    StoreResult, Timestamp, Unique, UserId,
};

use crate::db::Cols;
use crate::dialect::Dialect;
use crate::sql::{Conn, Sql};

macro_rules! room_columns {
    () => {
        "r.id, r.kind, r.name, r.last_seq, r.created_at"
    };
}

macro_rules! member_columns {
    () => {
        "m.room_id, m.user_id, m.role, m.joined_at, m.last_read_seq, m.muted, m.archived"
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

fn room_from_row<D: Dialect>(row: Cols<'_, D>) -> Result<Room, sqlx::Error> {
    let kind = match row.get::<String>("kind")?.as_str() {
        "direct" => RoomKind::Direct,
        "group" => RoomKind::Group,
        other => {
            return Err(sqlx::Error::Decode(
                format!("unknown room kind {other:?}").into(),
            ));
        }
    };
    Ok(Room {
        id: RoomId(row.get("id")?),
        kind,
        name: row.get("name")?,
        last_seq: row.get("last_seq")?,
        created_at: Timestamp(row.get("created_at")?),
    })
}

/// The role a `role` column names.
fn role_from_text(text: &str) -> Result<Role, sqlx::Error> {
    match text {
        "admin" => Ok(Role::Admin),
        "member" => Ok(Role::Member),
        other => Err(sqlx::Error::Decode(
            format!("unknown role {other:?}").into(),
        )),
    }
}

fn member_from_row<D: Dialect>(row: Cols<'_, D>) -> Result<Member, sqlx::Error> {
    Ok(Member {
        room_id: RoomId(row.get("room_id")?),
        user_id: UserId(row.get("user_id")?),
        role: role_from_text(&row.get::<String>("role")?)?,
        joined_at: Timestamp(row.get("joined_at")?),
        last_read_seq: row.get("last_read_seq")?,
        settings: RoomSettings {
            muted: row.get("muted")?,
            archived: row.get("archived")?,
        },
    })
}

/// Inserts the room and its members; the caller holds the transaction.
pub async fn insert<D: Dialect>(conn: &mut Conn<D>, new: NewRoom) -> StoreResult<Room> {
    let id =
        Sql::<D>::new("INSERT INTO rooms (kind, name, direct_key, created_at) VALUES (?, ?, ?, ?)")
            .bind(kind_text(new.kind))
            .bind(new.name.as_deref())
            .bind(new.direct_key.as_deref())
            .bind(new.created_at.0)
            .unique(Unique::DirectRoom)
            .insert(conn)
            .await?;
    let room = RoomId(id);
    for &(user, role) in &new.members {
        insert_member::<D>(conn, room, user, role, new.created_at).await?;
    }
    Ok(Room {
        id: room,
        kind: new.kind,
        name: new.name,
        last_seq: 0,
        created_at: new.created_at,
    })
}

/// The room with this id.
pub async fn by_id<D: Dialect>(conn: &mut Conn<D>, id: RoomId) -> StoreResult<Option<Room>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        room_columns!(),
        " FROM rooms r WHERE r.id = ?"
    ))
    .bind(id.0)
    .fetch_optional(conn, room_from_row)
    .await
}

/// The direct room with this key.
pub async fn by_direct_key<D: Dialect>(conn: &mut Conn<D>, key: &str) -> StoreResult<Option<Room>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        room_columns!(),
        " FROM rooms r WHERE r.direct_key = ?"
    ))
    .bind(key)
    .fetch_optional(conn, room_from_row)
    .await
}

/// Whether the room exists.
pub async fn exists<D: Dialect>(conn: &mut Conn<D>, id: RoomId) -> StoreResult<bool> {
    Ok(Sql::<D>::new("SELECT 1 AS one FROM rooms WHERE id = ?")
        .bind(id.0)
        .fetch_optional(conn, |_| Ok(()))
        .await?
        .is_some())
}

/// Locks the room's row until the caller's transaction ends and returns its counter (`None` if
/// the room is absent). Appends and membership changes take this lock first, which serializes
/// them per room across connections and server nodes.
pub async fn lock<D: Dialect>(conn: &mut Conn<D>, room: RoomId) -> StoreResult<Option<Seq>> {
    Sql::<D>::new("SELECT last_seq FROM rooms WHERE id = ? FOR UPDATE")
        .bind(room.0)
        .fetch_optional(conn, |row| row.get("last_seq"))
        .await
}

/// Renames the room.
pub async fn rename<D: Dialect>(conn: &mut Conn<D>, id: RoomId, name: &str) -> StoreResult<()> {
    let matched = Sql::<D>::new("UPDATE rooms SET name = ? WHERE id = ?")
        .bind(name)
        .bind(id.0)
        .execute(conn)
        .await?;
    if matched == 0 {
        return Err(StoreError::Missing(Entity::Room));
    }
    Ok(())
}

/// Rooms after `after` by id, with their newest seq.
pub async fn heads<D: Dialect>(
    conn: &mut Conn<D>,
    after: RoomId,
    limit: u32,
) -> StoreResult<Vec<(RoomId, Seq)>> {
    Sql::<D>::new("SELECT id, last_seq FROM rooms WHERE id > ? ORDER BY id LIMIT ?")
        .bind(after.0)
        .bind(i64::from(limit))
        .fetch_all(conn, |row| {
            Ok((RoomId(row.get("id")?), row.get("last_seq")?))
        })
        .await
}

/// The rooms of a user with their membership, by room id.
pub async fn of_user<D: Dialect>(
    conn: &mut Conn<D>,
    user: UserId,
) -> StoreResult<Vec<(Room, Member)>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        room_columns!(),
        ", ",
        member_columns!(),
        " FROM members m JOIN rooms r ON r.id = m.room_id WHERE m.user_id = ? ORDER BY r.id"
    ))
    .bind(user.0)
    .fetch_all(conn, |row| Ok((room_from_row(row)?, member_from_row(row)?)))
    .await
}

/// Every member of every room of `user`, by room (ascending id), each room's members in join
/// order.
///
/// One row per member with their account made the list of a user in 200 rooms of 100 members
/// take 176 ms on SQLite, so the accounts are read once each, by the caller, and the members
/// come as small values only, in the shape the database hands over fastest (see
/// [`Dialect::json_rows`]): one row per room holding its members as JSON, or a row per member.
/// Either way the order is made here, not in SQL.
pub async fn members_of_rooms_of<D: Dialect>(
    conn: &mut Conn<D>,
    user: UserId,
) -> StoreResult<Vec<(RoomId, Vec<Member>)>> {
    let mut members = match D::json_rows(
        "m.id, m.user_id, m.role, m.joined_at, m.last_read_seq, \
         CASE WHEN m.muted THEN 1 ELSE 0 END, CASE WHEN m.archived THEN 1 ELSE 0 END",
    ) {
        Some(members) => members_as_json::<D>(conn, user, &members).await?,
        None => members_as_rows::<D>(conn, user).await?,
    };
    members.sort_unstable_by_key(|(id, member)| (member.room_id, *id));
    let mut rooms: Vec<(RoomId, Vec<Member>)> = Vec::new();
    for (_, member) in members {
        match rooms.last_mut() {
            Some((room, in_room)) if *room == member.room_id => in_room.push(member),
            _ => rooms.push((member.room_id, vec![member])),
        }
    }
    Ok(rooms)
}

/// The rooms of the user bound to its `?`, for [`members_of_rooms_of`].
macro_rules! rooms_of_user {
    () => {
        "SELECT room_id FROM members WHERE user_id = ?"
    };
}

/// [`members_of_rooms_of`]'s members as a row per room holding a JSON array, each with its
/// membership id (join order).
async fn members_as_json<D: Dialect>(
    conn: &mut Conn<D>,
    user: UserId,
    members: &str,
) -> StoreResult<Vec<(i64, Member)>> {
    let rooms = Sql::<D>::built(format!(
        concat!(
            "SELECT m.room_id, {} AS members FROM members m WHERE m.room_id IN (",
            rooms_of_user!(),
            ") GROUP BY m.room_id"
        ),
        members
    ))
    .bind(user.0)
    .fetch_all(conn, |row| {
        members_from_json(RoomId(row.get("room_id")?), &row.get::<String>("members")?)
    })
    .await?;
    Ok(rooms.into_iter().flatten().collect())
}

/// [`members_of_rooms_of`]'s members as a row each, with its membership id (join order).
async fn members_as_rows<D: Dialect>(
    conn: &mut Conn<D>,
    user: UserId,
) -> StoreResult<Vec<(i64, Member)>> {
    Sql::<D>::new(concat!(
        "SELECT m.id, ",
        member_columns!(),
        " FROM members m WHERE m.room_id IN (",
        rooms_of_user!(),
        ")"
    ))
    .bind(user.0)
    .fetch_all(conn, |row| Ok((row.get("id")?, member_from_row(row)?)))
    .await
}

/// One member in [`members_as_json`]'s JSON: membership id (join order), user id, role,
/// joined at, last read seq, muted and archived (0 or 1).
type MemberItem<'a> = (i64, i64, &'a str, i64, Seq, u8, u8);

/// The members of `room` from [`members_as_json`]'s JSON, each with its membership id.
fn members_from_json(room: RoomId, json: &str) -> Result<Vec<(i64, Member)>, sqlx::Error> {
    let items: Vec<MemberItem<'_>> =
        serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(e.into()))?;
    items
        .into_iter()
        .map(
            |(id, user, role, joined_at, last_read_seq, muted, archived)| {
                let member = Member {
                    room_id: room,
                    user_id: UserId(user),
                    role: role_from_text(role)?,
                    joined_at: Timestamp(joined_at),
                    last_read_seq,
                    settings: RoomSettings {
                        muted: muted != 0,
                        archived: archived != 0,
                    },
                };
                Ok((id, member))
            },
        )
        .collect()
}

/// Every member of a room, in join order.
pub async fn members<D: Dialect>(conn: &mut Conn<D>, room: RoomId) -> StoreResult<Vec<Member>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        member_columns!(),
        " FROM members m WHERE m.room_id = ? ORDER BY m.id"
    ))
    .bind(room.0)
    .fetch_all(conn, member_from_row)
    .await
}

/// One membership.
pub async fn member<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    user: UserId,
) -> StoreResult<Option<Member>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        member_columns!(),
        " FROM members m WHERE m.room_id = ? AND m.user_id = ?"
    ))
    .bind(room.0)
    .bind(user.0)
    .fetch_optional(conn, member_from_row)
    .await
}

/// Adds a membership.
pub async fn insert_member<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    user: UserId,
    role: Role,
    at: Timestamp,
) -> StoreResult<()> {
    Sql::<D>::new("INSERT INTO members (room_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)")
        .bind(room.0)
        .bind(user.0)
        .bind(role_text(role))
        .bind(at.0)
        .unique(Unique::Member)
        .references(Entity::User)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a membership.
pub async fn delete_member<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    user: UserId,
) -> StoreResult<()> {
    Sql::<D>::new("DELETE FROM members WHERE room_id = ? AND user_id = ?")
        .bind(room.0)
        .bind(user.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many members the room has, and how many of them are admins.
pub async fn head_count<D: Dialect>(conn: &mut Conn<D>, room: RoomId) -> StoreResult<(i64, i64)> {
    Sql::<D>::new(
        "SELECT COUNT(*) AS members, COUNT(CASE WHEN role = 'admin' THEN 1 END) AS admins \
         FROM members WHERE room_id = ?",
    )
    .bind(room.0)
    .fetch_one(conn, |row| Ok((row.get("members")?, row.get("admins")?)))
    .await
}

/// Sets a member's role; whether there was such a membership.
pub async fn set_role<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    user: UserId,
    role: Role,
) -> StoreResult<bool> {
    Ok(
        Sql::<D>::new("UPDATE members SET role = ? WHERE room_id = ? AND user_id = ?")
            .bind(role_text(role))
            .bind(room.0)
            .bind(user.0)
            .execute(conn)
            .await?
            > 0,
    )
}

/// Makes the oldest full member (not a guest, not disabled) admin and returns them, if any.
/// The caller holds the room's lock.
pub async fn promote_heir<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
) -> StoreResult<Option<UserId>> {
    let heir = Sql::<D>::new(
        "SELECT m.user_id FROM members m JOIN users u ON u.id = m.user_id \
         WHERE m.room_id = ? AND u.is_guest = FALSE AND u.disabled = FALSE \
         ORDER BY m.id LIMIT 1",
    )
    .bind(room.0)
    .fetch_optional(conn, |row| Ok(UserId(row.get("user_id")?)))
    .await?;
    if let Some(heir) = heir {
        set_role::<D>(conn, room, heir, Role::Admin).await?;
    }
    Ok(heir)
}

/// Raises the member's read marker to `seq` (never lowers it) and returns the marker now
/// stored, or `None` when there is no such membership.
pub async fn mark_read<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    user: UserId,
    seq: Seq,
) -> StoreResult<Option<Seq>> {
    Sql::<D>::new(
        "UPDATE members SET last_read_seq = GREATEST(last_read_seq, ?) \
         WHERE room_id = ? AND user_id = ?",
    )
    .bind(seq)
    .bind(room.0)
    .bind(user.0)
    .execute(conn)
    .await?;
    Ok(member::<D>(conn, room, user)
        .await?
        .map(|m| m.last_read_seq))
}

/// Locks a membership for the rest of the transaction and returns its settings (`None` when
/// there is no such membership).
pub async fn lock_settings<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    user: UserId,
) -> StoreResult<Option<RoomSettings>> {
    Sql::<D>::new(
        "SELECT muted, archived FROM members WHERE room_id = ? AND user_id = ? FOR UPDATE",
    )
    .bind(room.0)
    .bind(user.0)
    .fetch_optional(conn, |row| {
        Ok(RoomSettings {
            muted: row.get("muted")?,
            archived: row.get("archived")?,
        })
    })
    .await
}

/// Replaces a membership's settings.
pub async fn set_settings<D: Dialect>(
    conn: &mut Conn<D>,
    room: RoomId,
    user: UserId,
    settings: RoomSettings,
) -> StoreResult<()> {
    Sql::<D>::new("UPDATE members SET muted = ?, archived = ? WHERE room_id = ? AND user_id = ?")
        .bind(settings.muted)
        .bind(settings.archived)
        .bind(room.0)
        .bind(user.0)
        .execute(conn)
        .await?;
    Ok(())
}
