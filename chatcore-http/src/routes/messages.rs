//! `/api/v1/rooms/{id}/messages`, `/read` and `/typing`: history, sending, editing and
//! deleting over REST, read markers and typing notices, so an HTTP-only client can do what a
//! WebSocket client can.

use chatcore::{MediaId, RoomId, SendMessage, Seq};
use serde::Deserialize;

use crate::app::App;
use crate::http::{self, ApiError, HandlerResult, Request, body, query};

/// History page size when the client does not say.
const DEFAULT_LIMIT: u32 = 50;

#[derive(Deserialize)]
struct NewMessage {
    #[serde(default)]
    body: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    media_id: Option<MediaId>,
    #[serde(default)]
    reply_to: Option<Seq>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    payload: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Edit {
    body: String,
}

#[derive(Deserialize)]
struct Read {
    seq: Seq,
}

/// `GET /api/v1/rooms/{id}/messages?before=<seq>&limit=<n>` → 200 `{messages, has_more}`;
/// with `around=<seq>` or `after=<seq>` instead of `before` → 200 `{messages, has_more,
/// has_newer}` (at most one of the three).
pub async fn history(app: &App, mut req: Request, room: RoomId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let q = req.uri().query();
    let before = query::number::<Seq>(q, "before")?;
    let around = query::number::<Seq>(q, "around")?;
    let after = query::number::<Seq>(q, "after")?;
    let limit = query::number(q, "limit")?.unwrap_or(DEFAULT_LIMIT);
    if [before, around, after].iter().flatten().count() > 1 {
        let reason = "give at most one of before, around and after";
        return Err(ApiError::invalid("around", reason));
    }
    let chat = app.chat();
    Ok(match (around, after) {
        (Some(seq), _) => http::ok(&chat.history_around(&me.actor, room, seq, limit).await?),
        (_, Some(seq)) => http::ok(&chat.history_after(&me.actor, room, seq, limit).await?),
        _ => http::ok(&chat.history(&me.actor, room, before, limit).await?),
    })
}

/// `POST /api/v1/rooms/{id}/messages` `{body, client_id?, media_id?, reply_to?, kind?,
/// payload?}` → 201 message.
pub async fn send(app: &App, mut req: Request, room: RoomId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let body: NewMessage = body::json(req).await?;
    let message = SendMessage {
        room_id: room,
        body: body.body,
        client_id: body.client_id,
        media_id: body.media_id,
        reply_to: body.reply_to,
        kind: body.kind,
        payload: body.payload,
    };
    Ok(http::created(&app.chat().send(&me.actor, message).await?))
}

/// `PATCH /api/v1/rooms/{id}/messages/{seq}` `{body}` → 200 the edited message.
pub async fn edit(app: &App, mut req: Request, room: RoomId, seq: Seq) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let body: Edit = body::json(req).await?;
    Ok(http::ok(
        &app.chat().edit(&me.actor, room, seq, &body.body).await?,
    ))
}

/// `DELETE /api/v1/rooms/{id}/messages/{seq}` → 200 the tombstone.
pub async fn delete(app: &App, mut req: Request, room: RoomId, seq: Seq) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    Ok(http::ok(&app.chat().delete(&me.actor, room, seq).await?))
}

/// `POST /api/v1/rooms/{id}/typing` → 204.
pub async fn typing(app: &App, mut req: Request, room: RoomId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    app.chat().typing(&me.actor, room).await?;
    Ok(http::no_content())
}

/// `POST /api/v1/rooms/{id}/read` `{seq}` → 204.
pub async fn mark_read(app: &App, mut req: Request, room: RoomId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let body: Read = body::json(req).await?;
    app.chat().mark_read(&me.actor, room, body.seq).await?;
    Ok(http::no_content())
}
