//! `/api/v1/rooms/{id}/settings`: the caller's own settings for a room (mute, archive).

use chatcore::{RoomId, SettingsChange};

use crate::app::App;
use crate::http::{self, HandlerResult, Request, body};

/// `PATCH /api/v1/rooms/{id}/settings` `{muted?, archived?}` → 200 `{room_id, muted,
/// archived}` (the settings now; the caller's other connections receive `room_settings`).
pub async fn change(app: &App, mut req: Request, room: RoomId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let change: SettingsChange = body::json(req).await?;
    Ok(http::ok(
        &app.chat()
            .set_room_settings(&me.actor, room, change)
            .await?,
    ))
}
