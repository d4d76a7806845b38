//! `/api/v1/auth/*`: register, login, guest, upgrade, logout.

use std::net::IpAddr;

use ::http::StatusCode;
use ::http::header::SET_COOKIE;
use chatcore::{Actor, SessionToken, User};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::http::{self, ApiError, HandlerResult, Request, body, cookies};
use crate::ratelimit::Limiter;

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize, Default)]
struct GuestBody {
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Serialize)]
struct Session<'a> {
    user: &'a User,
    token: &'a str,
}

/// `POST /api/v1/auth/register` → 201 `{user, token}` and the session cookie.
pub async fn register(app: &App, req: Request, ip: IpAddr) -> HandlerResult {
    let body: Credentials = body::json(req).await?;
    let (actor, token) = counted(&app.limits().register, ip, |r| r.is_ok(), async {
        app.chat()
            .register(&body.username, &body.password, body.display_name.as_deref())
            .await
    })
    .await?;
    tracing::info!(user = %actor.id(), %ip, "registered");
    Ok(session(app, StatusCode::CREATED, &actor, &token))
}

/// `POST /api/v1/auth/login` → 200 `{user, token}` and the session cookie.
pub async fn login(app: &App, req: Request, ip: IpAddr) -> HandlerResult {
    let body: Credentials = body::json(req).await?;
    let failed = |r: &chatcore::Result<_>| matches!(r, Err(chatcore::Error::Unauthenticated(_)));
    let login = app.chat().login(&body.username, &body.password);
    let (actor, token) = counted(&app.limits().login_failures, ip, failed, login)
        .await
        .inspect_err(|e| {
            if e.status() == StatusCode::UNAUTHORIZED {
                tracing::info!(%ip, "login failed");
            }
        })?;
    Ok(session(app, StatusCode::OK, &actor, &token))
}

/// `POST /api/v1/auth/guest` → 201 `{user, token}` (a guest) and the session cookie.
pub async fn guest(app: &App, req: Request, ip: IpAddr) -> HandlerResult {
    let body: GuestBody = body::json_or_default(req).await?;
    let guest = app.chat().guest(body.display_name.as_deref());
    let (actor, token) = counted(&app.limits().guest, ip, |r| r.is_ok(), guest).await?;
    tracing::info!(user = %actor.id(), %ip, "guest entered");
    Ok(session(app, StatusCode::CREATED, &actor, &token))
}

/// Runs `work` with one event of `limiter` reserved for `ip` first, so parallel requests share
/// the budget: 429 when it is used up, and the event is given back unless `counts` says the
/// result counts. A request abandoned half way keeps its event.
pub(crate) async fn counted<T>(
    limiter: &Limiter,
    ip: IpAddr,
    counts: impl FnOnce(&chatcore::Result<T>) -> bool,
    work: impl Future<Output = chatcore::Result<T>>,
) -> Result<T, ApiError> {
    let attempt = limiter.acquire(ip).await.map_err(ApiError::rate_limited)?;
    let result = work.await;
    if !counts(&result) {
        limiter.release(ip, attempt).await;
    }
    Ok(result?)
}

/// `POST /api/v1/auth/upgrade` → 200 `{user, token}` and a new session cookie: the acting
/// guest becomes a full account, every guest session ends. Counts as a registration of `ip`.
pub async fn upgrade(app: &App, mut req: Request, ip: IpAddr) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let body: Credentials = body::json(req).await?;
    let upgrade = app
        .chat()
        .upgrade_guest(&me.actor, &body.username, &body.password);
    let (actor, token) = counted(&app.limits().register, ip, |r| r.is_ok(), upgrade).await?;
    tracing::info!(user = %actor.id(), %ip, "guest upgraded");
    Ok(session(app, StatusCode::OK, &actor, &token))
}

/// `POST /api/v1/auth/logout` → 204; the token stops working and the cookie is cleared.
pub async fn logout(app: &App, mut req: Request) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let credential = me.credential.ok_or_else(ApiError::unauthenticated)?;
    app.chat().logout(credential.token()).await?;
    let mut res = http::no_content();
    res.headers_mut().insert(
        SET_COOKIE,
        cookies::clear_session(app.settings().secure_cookie),
    );
    Ok(res)
}

fn session(app: &App, status: StatusCode, actor: &Actor, token: &SessionToken) -> http::Response {
    let mut res = http::json(
        status,
        &Session {
            user: actor.user(),
            token: token.as_str(),
        },
    );
    let cookie = cookies::set_session(token, app.cookie_max_age(), app.settings().secure_cookie);
    res.headers_mut().insert(SET_COOKIE, cookie);
    res
}
