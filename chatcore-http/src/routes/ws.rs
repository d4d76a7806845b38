//! `GET /api/v1/ws`: identify the user, then let `chatcore_ws::upgrade_at` check the origin,
//! answer 101 and serve the chat protocol on the socket.

use futures::FutureExt;

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
    app.sockets().spawn(socket_task(connection, place));
    Ok(response)
}

/// A socket's task: the connection (how it closed is the connection's to log), then its place
/// given back. A combinator, not an `async`
/// block: an async block keeps a future it awaits twice (the captured value and the one being
/// polled), and the connection's future is most of what an idle socket holds.
fn socket_task<F, P>(connection: F, place: P) -> impl Future<Output = ()> + Send + 'static
where
    F: Future + Send + 'static,
    P: Send + 'static,
{
    connection.map(move |_closed| drop(place))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A future holding `N` bytes across an await, like a connection's.
    async fn holding<const N: usize>() {
        let bytes = [7u8; N];
        tokio::task::yield_now().await;
        std::hint::black_box(&bytes);
    }

    #[test]
    fn a_socket_task_holds_its_connection_once() {
        let connection = holding::<4096>();
        let alone = std::mem::size_of_val(&connection);
        let place = std::sync::Arc::new(());
        let task = socket_task(connection, place);
        assert!(
            std::mem::size_of_val(&task) < alone + 64,
            "{} bytes for a connection of {alone}",
            std::mem::size_of_val(&task)
        );
    }
}
