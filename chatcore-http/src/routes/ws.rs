//! `GET /api/v1/ws`: identify the user, then let `chatcore_ws::upgrade_at` check the origin,
//! answer 101 and serve the chat protocol on the socket.

use crate::app::App;
use crate::http::{HandlerResult, Request};
use crate::router::Conn;

/// `GET /api/v1/ws` → 101 and the chat protocol of `docs/protocol.md`; 401/403 before upgrading.
///
/// The origin is checked once, by `chatcore_ws`'s origin policy, with what the request says
/// (`Origin`, `Host`, whether it rides on a cookie) and the listening address when known.
/// The socket keeps the HTTP connection's place among its address's open connections
/// (`--max-connections-per-ip`) until it closes.
pub async fn upgrade(app: &App, mut req: Request, conn: Option<Conn>) -> HandlerResult {
    let me = app.authenticate(&mut req).await?;
    let cookie_auth = app.rides_on_cookie(req.headers());
    let local = conn.as_ref().map(|c| c.local);
    let upgrade = chatcore_ws::upgrade_at(&mut req, app.ws_config(), local, cookie_auth)?;
    let stopping = app.stopping().clone().cancelled_owned();
    let (response, connection) = upgrade.serve(app.chat().clone(), me.actor, stopping);
    let place = conn.and_then(|c| c.slot);
    app.sockets().spawn(async move {
        connection.await;
        drop(place);
    });
    Ok(response)
}
