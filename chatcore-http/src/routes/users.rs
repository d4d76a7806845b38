//! `/api/v1/me` and `/api/v1/users`: who am I, and finding people to chat with.

use chatcore::PublicUser;
use serde::Serialize;

use crate::app::App;
use crate::http::{self, HandlerResult, Request, query};

#[derive(Serialize)]
struct Users {
    users: Vec<PublicUser>,
}

/// `GET /api/v1/me` → 200 the current user (with `admin`).
pub async fn me(app: &App, mut req: Request) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    Ok(http::ok(me.actor.user()))
}

/// `GET /api/v1/users?q=<prefix>&limit=<n>` → 200 `{users}`.
pub async fn search(app: &App, mut req: Request) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let q = query::param(req.uri().query(), "q").unwrap_or_default();
    let limit = query::number(req.uri().query(), "limit")?.unwrap_or(20);
    let found = app.chat().search_users(&me.actor, &q, limit).await?;
    Ok(http::ok(&Users {
        users: found.iter().map(PublicUser::from).collect(),
    }))
}
