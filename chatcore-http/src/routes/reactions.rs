//! `/api/v1/rooms/{id}/messages/{seq}/reactions/{emoji}`: adding and taking back one's reaction.

use chatcore::{RoomId, Seq};

use crate::app::App;
use crate::http::{self, ApiError, HandlerResult, Request};

/// `PUT …/reactions/{emoji}` → 200 `{room_id, seq, reactions}` (the message's reactions now).
pub async fn add(
    app: &App,
    mut req: Request,
    room: RoomId,
    seq: Seq,
    emoji: &str,
) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let emoji = decoded(emoji)?;
    Ok(http::ok(
        &app.chat().react(&me.actor, room, seq, &emoji).await?,
    ))
}

/// `DELETE …/reactions/{emoji}` → 200 `{room_id, seq, reactions}`.
pub async fn remove(
    app: &App,
    mut req: Request,
    room: RoomId,
    seq: Seq,
    emoji: &str,
) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let emoji = decoded(emoji)?;
    Ok(http::ok(
        &app.chat().unreact(&me.actor, room, seq, &emoji).await?,
    ))
}

/// The emoji of a path segment, percent-decoded (`%F0%9F%91%8D` is 👍); chatcore checks that
/// it is one emoji.
fn decoded(segment: &str) -> Result<String, ApiError> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| ApiError::invalid("emoji", "emoji must be UTF-8"))
}
