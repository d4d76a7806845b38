//! `/api/v1/auth/*`: register, login, guest, upgrade, logout.

use std::net::IpAddr;

use chatcore::{Actor, SessionToken, User};
use hyper::StatusCode;
use hyper::header::SET_COOKIE;
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::http::{self, ApiError, HandlerResult, Request, body, cookies};

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

#[derive(Serialize)]
struct UserOnly<'a> {
    user: &'a User,
}

/// `POST /api/v1/auth/register` → 201 `{user, token}` and the session cookie.
pub async fn register(app: &App, req: Request, ip: IpAddr) -> HandlerResult {
    app.limits()
        .register
        .check(ip)
        .map_err(ApiError::rate_limited)?;
    let body: Credentials = body::json(req).await?;
    let (actor, token) = app
        .chat()
        .register(&body.username, &body.password, body.display_name.as_deref())
        .await?;
    app.limits().register.record(ip);
    tracing::info!(user = %actor.id(), %ip, "registered");
    Ok(session(app, StatusCode::CREATED, &actor, &token))
}

/// `POST /api/v1/auth/login` → 200 `{user, token}` and the session cookie.
pub async fn login(app: &App, req: Request, ip: IpAddr) -> HandlerResult {
    app.limits()
        .login_failures
        .check(ip)
        .map_err(ApiError::rate_limited)?;
    let body: Credentials = body::json(req).await?;
    match app.chat().login(&body.username, &body.password).await {
        Ok((actor, token)) => Ok(session(app, StatusCode::OK, &actor, &token)),
        Err(e @ chatcore::Error::Unauthenticated(_)) => {
            app.limits().login_failures.record(ip);
            tracing::info!(%ip, "login failed");
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/v1/auth/guest` → 201 `{user, token}` (a guest) and the session cookie.
pub async fn guest(app: &App, req: Request, ip: IpAddr) -> HandlerResult {
    app.limits()
        .guest
        .check(ip)
        .map_err(ApiError::rate_limited)?;
    let body: GuestBody = body::json_or_default(req).await?;
    let (actor, token) = app.chat().guest(body.display_name.as_deref()).await?;
    app.limits().guest.record(ip);
    tracing::info!(user = %actor.id(), %ip, "guest entered");
    Ok(session(app, StatusCode::CREATED, &actor, &token))
}

/// `POST /api/v1/auth/upgrade` → 200 `{user}`: the acting guest becomes a full account.
pub async fn upgrade(app: &App, req: Request) -> HandlerResult {
    let me = app.authenticate(req.headers()).await?;
    let body: Credentials = body::json(req).await?;
    let user = app
        .chat()
        .upgrade_guest(&me.actor, &body.username, &body.password)
        .await?;
    Ok(http::ok(&UserOnly { user: &user }))
}

/// `POST /api/v1/auth/logout` → 204; the token stops working and the cookie is cleared.
pub async fn logout(app: &App, req: Request) -> HandlerResult {
    let me = app.authenticate(req.headers()).await?;
    app.chat().logout(me.credential.token()).await?;
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
