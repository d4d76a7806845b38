//! The WebSocket handshake on a hyper request, following tokio-tungstenite's
//! `server-custom-accept` example: answer 101 here, and once hyper hands over the upgraded
//! connection, wrap it in a `WebSocketStream` with the limits of
//! `chatcore_ws::websocket_config`. The chat route and the conformance tests' echo endpoint
//! both go through here, so the tests exercise the production settings.

use std::future::Future;

use bytes::Bytes;
use chatcore_ws::WsConfig;
use chatcore_ws::tokio_tungstenite::WebSocketStream;
use chatcore_ws::tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use chatcore_ws::tokio_tungstenite::tungstenite::protocol::Role;
use hyper::StatusCode;
use hyper::header::{
    CONNECTION, HeaderMap, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio_util::task::TaskTracker;

use super::{ApiError, HandlerResult, Request, Response};

/// A server-side WebSocket on an upgraded hyper connection.
pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// Answers a valid upgrade request with 101 and, once the connection is handed over, runs
/// `serve` on it with the limits of `config`, as a task of `tasks` (so shutdown can wait for
/// it). A request that is not a WebSocket version 13 upgrade gets 400 `invalid`.
pub fn upgrade<F, Fut>(
    req: &mut Request,
    config: &WsConfig,
    tasks: &TaskTracker,
    serve: F,
) -> HandlerResult
where
    F: FnOnce(Socket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let accept = accept_key(req.headers())?;
    let on_upgrade = hyper::upgrade::on(req);
    let settings = chatcore_ws::websocket_config(config);
    tasks.spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let io = TokioIo::new(upgraded);
                serve(WebSocketStream::from_raw_socket(io, Role::Server, Some(settings)).await)
                    .await;
            }
            Err(e) => tracing::debug!(error = %e, "WebSocket upgrade failed"),
        }
    });
    let mut res = Response::new(crate::http::full(Bytes::new()));
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = res.headers_mut();
    headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    Ok(res)
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
