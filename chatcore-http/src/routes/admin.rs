//! `/api/v1/admin/*`: user management for server admins.

use chatcore::{User, UserId};
use serde::Serialize;

use crate::app::App;
use crate::http::{self, HandlerResult, Request, query};

#[derive(Serialize)]
struct Users {
    users: Vec<User>,
}

/// `GET /api/v1/admin/users?after=<id>&limit=<n>` → 200 `{users}` (with `disabled`, `created_at`).
pub async fn list_users(app: &App, mut req: Request) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let after = UserId(query::number(req.uri().query(), "after")?.unwrap_or(0));
    let limit = query::number(req.uri().query(), "limit")?.unwrap_or(200);
    Ok(http::ok(&Users {
        users: app.chat().admin_list_users(&me.actor, after, limit).await?,
    }))
}

/// `POST /api/v1/admin/users/{id}/disable` → 204.
pub async fn disable_user(app: &App, mut req: Request, user: UserId) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    app.chat().admin_disable_user(&me.actor, user).await?;
    tracing::info!(admin = %me.actor.id(), user = %user, "user disabled");
    Ok(http::no_content())
}
