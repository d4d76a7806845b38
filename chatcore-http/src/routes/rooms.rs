//! `/api/v1/rooms…`: room list, groups, direct chats, renaming and membership.

use chatcore::{Role, RoomId, RoomView, UserId};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::http::{self, HandlerResult, Request, body};

#[derive(Serialize)]
struct Rooms {
    rooms: Vec<RoomView>,
}

#[derive(Deserialize)]
struct NewGroup {
    name: String,
    #[serde(default)]
    members: Vec<UserId>,
}

#[derive(Deserialize)]
struct Direct {
    user_id: UserId,
}

#[derive(Deserialize)]
struct Rename {
    name: String,
}

#[derive(Deserialize)]
struct NewMember {
    user_id: UserId,
    #[serde(default)]
    role: Option<Role>,
}

#[derive(Deserialize)]
struct RoleChange {
    role: Role,
}

/// `GET /api/v1/rooms` → 200 `{rooms}`, most recently active first.
pub async fn list(app: &App, mut req: Request) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    Ok(http::ok(&Rooms {
        rooms: app.chat().rooms(&me.actor).await?,
    }))
}

/// `POST /api/v1/rooms` `{name, members}` → 201 room (a group with the caller as admin).
pub async fn create_group(app: &App, mut req: Request) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let body: NewGroup = body::json(req).await?;
    Ok(http::created(
        &app.chat()
            .create_group(&me.actor, &body.name, &body.members)
            .await?,
    ))
}

/// `POST /api/v1/rooms/direct` `{user_id}` → 200 room (the same one from either side).
pub async fn open_direct(app: &App, mut req: Request) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let body: Direct = body::json(req).await?;
    Ok(http::ok(
        &app.chat().open_direct(&me.actor, body.user_id).await?,
    ))
}

/// `GET /api/v1/rooms/{id}` → 200 room.
pub async fn get(app: &App, mut req: Request, room: RoomId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    Ok(http::ok(&app.chat().room(&me.actor, room).await?))
}

/// `PATCH /api/v1/rooms/{id}` `{name}` → 200 room.
pub async fn rename(app: &App, mut req: Request, room: RoomId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let body: Rename = body::json(req).await?;
    Ok(http::ok(
        &app.chat().rename_room(&me.actor, room, &body.name).await?,
    ))
}

/// `POST /api/v1/rooms/{id}/members` `{user_id, role?}` → 204.
pub async fn add_member(app: &App, mut req: Request, room: RoomId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let body: NewMember = body::json(req).await?;
    let role = body.role.unwrap_or(Role::Member);
    app.chat()
        .add_member(&me.actor, room, body.user_id, role)
        .await?;
    Ok(http::no_content())
}

/// `PATCH /api/v1/rooms/{id}/members/{user_id}` `{role}` → 204.
pub async fn set_role(app: &App, mut req: Request, room: RoomId, user: UserId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let body: RoleChange = body::json(req).await?;
    app.chat()
        .set_role(&me.actor, room, user, body.role)
        .await?;
    Ok(http::no_content())
}

/// `DELETE /api/v1/rooms/{id}/members/{user_id}` → 204 (remove someone, or leave).
pub async fn remove_member(
    app: &App,
    mut req: Request,
    room: RoomId,
    user: UserId,
) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    app.chat().remove_member(&me.actor, room, user).await?;
    Ok(http::no_content())
}
