//! `/api/v1/me` (changes), the pictures of `/api/v1/me/avatar` and
//! `/api/v1/users/{id}/avatar/{avatar_id}`, and `/api/v1/users/{id}`: a user's own profile, and
//! what of it those who may see it see. Who may see what is decided by `chatcore`.

use chatcore::{AvatarId, ProfileChange, UserId};
use serde_json::{Map, Value};

use crate::app::App;
use crate::http::{self, ApiError, HandlerResult, Request, body};
use crate::routes::media::{Upload, extension, receive_upload, serve};

/// `PATCH /api/v1/me` `{display_name?, hide_last_seen?}` → 200 the user after the change.
pub async fn update(app: &App, mut req: Request) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let change = profile_change(body::json(req).await?)?;
    Ok(http::ok(
        &app.chat().update_profile(&me.actor, change).await?,
    ))
}

/// The change a `PATCH /api/v1/me` body asks for: at least one known field, each of its type.
fn profile_change(body: Map<String, Value>) -> Result<ProfileChange, ApiError> {
    if body.is_empty() {
        return Err(ApiError::invalid_request(
            "nothing to change: name display_name or hide_last_seen",
        ));
    }
    let mut change = ProfileChange::default();
    for (key, value) in body {
        match (key.as_str(), value) {
            ("display_name", Value::String(name)) => change.display_name = Some(name),
            ("display_name", _) => {
                return Err(ApiError::invalid("display_name", "must be a string"));
            }
            ("hide_last_seen", Value::Bool(hide)) => change.hide_last_seen = Some(hide),
            ("hide_last_seen", _) => {
                return Err(ApiError::invalid("hide_last_seen", "must be true or false"));
            }
            _ => {
                return Err(ApiError::invalid_request(format!(
                    "unknown field {key:?}: only display_name and hide_last_seen can change"
                )));
            }
        }
    }
    Ok(change)
}

/// `PUT /api/v1/me/avatar`: the picture's bytes with their `Content-Type`, or a multipart
/// form with a `file` field → 200 the user with the new `avatar`.
pub async fn set_avatar(app: &App, mut req: Request) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let check = async |len| app.chat().check_avatar_upload(len);
    let (staged, declared) = match receive_upload(app, req, check).await? {
        Upload::Staged(staged, declared) => (staged, declared),
        Upload::Refused(res) => return Ok(res),
    };
    let user = app
        .chat()
        .set_avatar_staged(&me.actor, staged, declared.as_deref())
        .await?;
    Ok(http::ok(&user))
}

/// `DELETE /api/v1/me/avatar` → 200 the user with `avatar: null` (also when there was none).
pub async fn remove_avatar(app: &App, mut req: Request) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    Ok(http::ok(&app.chat().remove_avatar(&me.actor).await?))
}

/// `GET /api/v1/users/{id}` → 200 the user as others see them, with `last_seen`; 404 unless
/// it is the caller or someone who shares a room with them.
pub async fn user(app: &App, mut req: Request, user: UserId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    Ok(http::ok(&app.chat().user_view(&me.actor, user).await?))
}

/// `GET /api/v1/users/{id}/avatar/{avatar_id}` → 200 the picture (206, 304 as for media),
/// cacheable for good: a new picture has a new id. 404 for anyone who may not see it, and for
/// a picture the user no longer has.
pub async fn avatar(app: &App, mut req: Request, user: UserId, avatar: &str) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    // A malformed id gets the very answer a stale one gets.
    let avatar: AvatarId = avatar
        .parse()
        .map_err(|_| chatcore::Error::NotFound("avatar"))?;
    let (avatar, file) = app.chat().open_avatar(&me.actor, user, avatar).await?;
    let name = format!("avatar-{}.{}", avatar.id, extension(&avatar.mime));
    let etag = format!("\"{}\"", avatar.id);
    serve(req.headers(), file, &avatar.mime, &etag, &name).await
}
