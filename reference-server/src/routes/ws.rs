//! `GET /api/v1/ws`: authenticate and check the origin, then upgrade (see
//! [`http::websocket`](crate::http::websocket)) and let `chatcore_ws::serve_connection` drive
//! the socket.

use chatcore::Actor;

use crate::app::App;
use crate::http::cookies::Credential;
use crate::http::websocket::{self, Socket};
use crate::http::{HandlerResult, Request};
use crate::router::Conn;

/// `GET /api/v1/ws` → 101 and the chat protocol of `docs/protocol.md`; 401/403 before upgrading.
///
/// The socket keeps the HTTP connection's place among its address's open connections
/// (`--max-connections-per-ip`) until it closes.
pub async fn upgrade(app: &App, mut req: Request, conn: Conn) -> HandlerResult {
    let me = app.authenticate(req.headers()).await?;
    let cookie_auth = matches!(me.credential, Credential::Cookie(_));
    app.check_origin(req.headers(), conn.local, cookie_auth)?;
    let (task_app, actor, place) = (app.clone(), me.actor, conn.slot);
    websocket::upgrade(
        &mut req,
        app.ws_config(),
        app.sockets(),
        move |stream| async move {
            serve(task_app, actor, stream).await;
            drop(place);
        },
    )
}

async fn serve(app: App, actor: Actor, stream: Socket) {
    let config = app.ws_config().clone();
    let user = actor.id();
    tracing::debug!(%user, "WebSocket open");
    let stopping = app.stopping().clone().cancelled_owned();
    let closed =
        chatcore_ws::serve_connection(stream, app.chat().clone(), actor, config, stopping).await;
    tracing::debug!(%user, code = ?closed.code, reason = closed.reason, "WebSocket closed");
}
