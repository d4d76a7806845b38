//! `GET /api/v1/ws`: authenticate and check the origin, then hand the socket to `chatcore-ws`.
//!
//! The handshake follows tokio-tungstenite's `server-custom-accept` example: answer 101 here,
//! and once hyper hands over the upgraded connection, wrap it in a `WebSocketStream` with the
//! limits of `chatcore_ws::websocket_config` and let `chatcore_ws::serve_connection` drive it.

use std::net::SocketAddr;

use bytes::Bytes;
use chatcore::Actor;
use chatcore_ws::tokio_tungstenite::WebSocketStream;
use chatcore_ws::tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use chatcore_ws::tokio_tungstenite::tungstenite::protocol::Role;
use http_body_util::Full;
use hyper::StatusCode;
use hyper::header::{
    CONNECTION, HeaderMap, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use hyper_util::rt::TokioIo;

use crate::app::App;
use crate::http::cookies::Credential;
use crate::http::{ApiError, HandlerResult, Request, Response};

/// `GET /api/v1/ws` → 101 and the chat protocol of `docs/protocol.md`; 401/403 before upgrading.
pub async fn upgrade(app: &App, mut req: Request, local: SocketAddr) -> HandlerResult {
    let me = app.authenticate(req.headers()).await?;
    let cookie_auth = matches!(me.credential, Credential::Cookie(_));
    app.check_origin(req.headers(), local, cookie_auth)?;
    let accept = accept_key(req.headers())?;
    let on_upgrade = hyper::upgrade::on(&mut req);
    let (app, actor) = (app.clone(), me.actor);
    app.sockets().spawn({
        let app = app.clone();
        async move {
            match on_upgrade.await {
                Ok(upgraded) => serve(app, actor, TokioIo::new(upgraded)).await,
                Err(e) => tracing::debug!(error = %e, "WebSocket upgrade failed"),
            }
        }
    });
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = res.headers_mut();
    headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    Ok(res)
}

async fn serve(app: App, actor: Actor, io: TokioIo<hyper::upgrade::Upgraded>) {
    let config = app.ws_config().clone();
    let stream = WebSocketStream::from_raw_socket(
        io,
        Role::Server,
        Some(chatcore_ws::websocket_config(&config)),
    )
    .await;
    let user = actor.id();
    tracing::debug!(%user, "WebSocket open");
    let stopping = app.stopping().clone().cancelled_owned();
    let closed =
        chatcore_ws::serve_connection(stream, app.chat().clone(), actor, config, stopping).await;
    tracing::debug!(%user, code = ?closed.code, reason = closed.reason, "WebSocket closed");
}

/// The `Sec-WebSocket-Accept` answer for a valid upgrade request, or 400.
fn accept_key(headers: &HeaderMap) -> Result<HeaderValue, ApiError> {
    let has_token = |name, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if !has_token(UPGRADE, "websocket") || !has_token(CONNECTION, "upgrade") {
        return Err(ApiError::invalid(
            "upgrade",
            "expected a WebSocket upgrade request",
        ));
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return Err(ApiError::invalid(
            "sec-websocket-version",
            "only WebSocket version 13 is supported",
        ));
    }
    let key = headers
        .get(SEC_WEBSOCKET_KEY)
        .ok_or_else(|| ApiError::invalid("sec-websocket-key", "missing"))?;
    HeaderValue::from_str(&derive_accept_key(key.as_bytes())).map_err(ApiError::internal)
}
