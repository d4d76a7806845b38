//! Invite links: `/api/v1/rooms/{id}/invites…` for the group's admins, and
//! `/api/v1/invites/{token}…` for whoever holds a link.
//!
//! The two token routes count a link that admits no one (`404 not_found`) against the
//! client's address ([`Limits::invite_failures`](crate::app::Limits::invite_failures)); over
//! it, `429 rate_limited` before anything is looked up. Joining is also counted per user in
//! `chatcore`.

use std::borrow::Cow;
use std::net::IpAddr;
use std::time::Duration;

use chatcore::{InviteId, InviteOptions, InviteView, RoomId};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::http::{self, HandlerResult, Request, body};
use crate::routes::auth::counted;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewInvite {
    /// How long the link works, in seconds.
    expires_in_secs: Option<u64>,
    /// How many people it may admit.
    max_uses: Option<u32>,
}

#[derive(Serialize)]
struct Invites {
    invites: Vec<InviteView>,
}

/// `POST /api/v1/rooms/{id}/invites` `{expires_in_secs?, max_uses?}` → 201 the link with its
/// `token` (shown this once). A refused option is named by its body key.
pub async fn create(app: &App, mut req: Request, room: RoomId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let body: NewInvite = body::json_or_default(req).await?;
    let options = InviteOptions {
        lifetime: body.expires_in_secs.map(Duration::from_secs),
        max_uses: body.max_uses,
    };
    let created = app
        .chat()
        .create_invite(&me.actor, room, options)
        .await
        .map_err(named_by_body_key)?;
    Ok(http::created(&created))
}

/// `err` with the option it refuses named as the body names it: chatcore calls the lifetime
/// [`InviteOptions::lifetime`], the body `expires_in_secs` (`max_uses` is the same in both).
fn named_by_body_key(err: chatcore::Error) -> chatcore::Error {
    match err {
        chatcore::Error::Invalid {
            field: "lifetime",
            reason,
        } => chatcore::Error::Invalid {
            field: "expires_in_secs",
            reason,
        },
        other => other,
    }
}

/// `GET /api/v1/rooms/{id}/invites` → 200 `{invites}`, oldest first, each with its `state`.
pub async fn list(app: &App, mut req: Request, room: RoomId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let invites = app.chat().invites(&me.actor, room).await?;
    Ok(http::ok(&Invites { invites }))
}

/// `DELETE /api/v1/rooms/{id}/invites/{invite_id}` → 204.
pub async fn revoke(app: &App, mut req: Request, room: RoomId, invite: InviteId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    app.chat().revoke_invite(&me.actor, room, invite).await?;
    Ok(http::no_content())
}

/// `GET /api/v1/invites/{token}` → 200 `{room_name, member_count, expires_at}`; no session
/// needed (the token is the permission).
pub async fn preview(app: &App, token: &str, ip: IpAddr) -> HandlerResult {
    let preview = counted(
        &app.limits().invite_failures,
        ip,
        is_dead_link,
        app.chat().preview_invite(token),
    )
    .await?;
    Ok(http::ok(&preview))
}

/// `POST /api/v1/invites/{token}/join` → 200 the room (also for a member already in it).
pub async fn join(app: &App, mut req: Request, token: &str, ip: IpAddr) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let room = counted(
        &app.limits().invite_failures,
        ip,
        is_dead_link,
        app.chat().join_by_invite(&me.actor, token),
    )
    .await?;
    Ok(http::ok(&room))
}

fn is_dead_link<T>(result: &chatcore::Result<T>) -> bool {
    matches!(result, Err(chatcore::Error::NotFound(_)))
}

/// `path` fit for a log line: the token of an invite link (`/api/v1/invites/{token}…`, and the
/// web client's `/join/{token}`) is a secret, and becomes `…`.
pub fn redacted(path: &str) -> Cow<'_, str> {
    for prefix in ["/api/v1/invites/", "/join/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            return Cow::Owned(format!("{prefix}…{tail}"));
        }
    }
    Cow::Borrowed(path)
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn tokens_never_reach_the_log() {
        let token = "Qx3_k9aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        assert_eq!(
            redacted(&format!("/api/v1/invites/{token}")),
            "/api/v1/invites/…"
        );
        assert_eq!(
            redacted(&format!("/api/v1/invites/{token}/join")),
            "/api/v1/invites/…/join"
        );
        assert_eq!(redacted(&format!("/join/{token}")), "/join/…");
        assert_eq!(
            redacted("/api/v1/rooms/3/invites/7"),
            "/api/v1/rooms/3/invites/7"
        );
    }
}
