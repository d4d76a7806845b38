//! The WebSocket handshake on an HTTP request, for hyper and every framework built on it
//! (axum: the `chatcore_ws::axum::ChatUpgrade` extractor of feature `axum`): check the request and its origin, answer 101, and once the
//! server hands the connection over, serve the chat protocol on it with the limits of the
//! [`WsConfig`]. The shape follows tokio-tungstenite's `server-custom-accept` example.
//!
//! The server must serve its connections with upgrades enabled (hyper:
//! `serve_connection(..).with_upgrades()`; `axum::serve` does) and should bound how long a
//! client may take to send its request head (hyper: `http1::Builder::header_read_timeout`,
//! e.g. with [`WsConfig::handshake_timeout`]).

use std::future::Future;
use std::net::SocketAddr;

use chatcore::{Actor, Chat};
use http::header::{
    CONNECTION, COOKIE, HeaderMap, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{Extensions, Request, Response, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::connection::{Closed, serve_connection};
use crate::limits::{WsConfig, websocket_config};

/// A server-side WebSocket on an upgraded hyper connection.
pub type UpgradedSocket = WebSocketStream<TokioIo<Upgraded>>;

/// Why a request cannot be upgraded. Answer with [`status`](Self::status) and
/// [`code`](Self::code) (the stable error codes of `docs/api.md`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpgradeError {
    /// Not a WebSocket version 13 upgrade request; `field` names the header at fault.
    #[error("{message}")]
    NotWebSocket {
        /// The header that is missing or wrong.
        field: &'static str,
        /// What is wrong with it.
        message: &'static str,
    },
    /// A browser page from a foreign origin (see [`WsConfig::origins`]).
    #[error("request from a foreign origin refused")]
    BadOrigin,
    /// The server did not make the connection upgradeable (hyper without `with_upgrades`).
    #[error("this server cannot upgrade connections")]
    NotUpgradeable,
}

impl UpgradeError {
    /// The HTTP status to answer with: 400, 403, or 500 for a server without upgrades.
    pub fn status(&self) -> StatusCode {
        match self {
            UpgradeError::NotWebSocket { .. } => StatusCode::BAD_REQUEST,
            UpgradeError::BadOrigin => StatusCode::FORBIDDEN,
            UpgradeError::NotUpgradeable => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable error code: `invalid`, `bad_origin` or `internal`.
    pub fn code(&self) -> &'static str {
        match self {
            UpgradeError::NotWebSocket { .. } => "invalid",
            UpgradeError::BadOrigin => "bad_origin",
            UpgradeError::NotUpgradeable => "internal",
        }
    }

    /// The header at fault, for `invalid`.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            UpgradeError::NotWebSocket { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// An accepted upgrade request: the 101 answer to send, and the socket it becomes.
#[derive(Debug)]
pub struct Upgrade {
    accept: HeaderValue,
    on_upgrade: OnUpgrade,
    config: WsConfig,
}

/// Checks that `req` is a WebSocket upgrade from an allowed origin and takes over its
/// connection: [`upgrade_at`] for a server that does not know its listening address, with any
/// `Cookie` header counting as cookie authentication (so a request carrying cookies must name
/// an allowed `Origin`; one without cookies and without `Origin` is a non-browser client and
/// passes). Authenticate the request before or after, as the host likes; nothing is sent until
/// the returned [`Upgrade`]'s response is.
pub fn upgrade<B>(req: &mut Request<B>, config: &WsConfig) -> Result<Upgrade, UpgradeError> {
    let cookie_auth = req.headers().contains_key(COOKIE);
    upgrade_at(req, config, None, cookie_auth)
}

/// [`upgrade`] with the one origin check of [`Origins::check`](crate::Origins::check):
/// `local` is the listening address as the client reached it (its `http://` origin is the
/// server's own), and `cookie_auth` says whether the request authenticates with a cookie
/// (then it must carry an allowed `Origin`). A foreign origin is refused before anything else.
pub fn upgrade_at<B>(
    req: &mut Request<B>,
    config: &WsConfig,
    local: Option<SocketAddr>,
    cookie_auth: bool,
) -> Result<Upgrade, UpgradeError> {
    let accept = check(req.headers(), config, local, cookie_auth)?;
    Upgrade::take(accept, req.extensions_mut(), config)
}

/// The origin check, then the upgrade headers: the `Sec-WebSocket-Accept` answer.
pub(crate) fn check(
    headers: &HeaderMap,
    config: &WsConfig,
    local: Option<SocketAddr>,
    cookie_auth: bool,
) -> Result<HeaderValue, UpgradeError> {
    config
        .origins
        .check(headers, local, cookie_auth)
        .map_err(|_| UpgradeError::BadOrigin)?;
    accept_key(headers)
}

impl Upgrade {
    /// Takes the connection over from the request's extensions, where hyper left it.
    pub(crate) fn take(
        accept: HeaderValue,
        extensions: &mut Extensions,
        config: &WsConfig,
    ) -> Result<Self, UpgradeError> {
        let on_upgrade = extensions
            .remove::<OnUpgrade>()
            .ok_or(UpgradeError::NotUpgradeable)?;
        Ok(Upgrade {
            accept,
            on_upgrade,
            config: config.clone(),
        })
    }

    /// The `101 Switching Protocols` answer, with any body type that has an empty default
    /// (hyper's `Full<Bytes>`, axum's `Body`).
    pub fn response<B: Default>(&self) -> Response<B> {
        let mut res = Response::new(B::default());
        *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = res.headers_mut();
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(SEC_WEBSOCKET_ACCEPT, self.accept.clone());
        res
    }

    /// The WebSocket, once the response has been sent and the server handed the connection
    /// over, with the limits of [`websocket_config`].
    pub async fn socket(self) -> Result<UpgradedSocket, hyper::Error> {
        let upgraded = self.on_upgrade.await?;
        let settings = websocket_config(&self.config);
        Ok(
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(settings))
                .await,
        )
    }

    /// The 101 answer, and the connection to spawn (on the host's runtime, in its task set):
    /// it serves `actor` with [`serve_connection`] until the socket closes or `shutdown`
    /// completes, and yields how it ended (`None`: the upgrade itself failed).
    pub fn serve<B: Default>(
        self,
        chat: Chat,
        actor: Actor,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> (
        Response<B>,
        impl Future<Output = Option<Closed>> + Send + 'static,
    ) {
        let response = self.response();
        let connection = async move {
            let config = self.config.clone();
            let socket = match self.socket().await {
                Ok(socket) => socket,
                Err(err) => {
                    tracing::debug!(%err, "WebSocket upgrade failed");
                    return None;
                }
            };
            let user = actor.id();
            tracing::debug!(%user, "WebSocket open");
            let closed = serve_connection(socket, chat, actor, config, shutdown).await;
            tracing::debug!(%user, code = ?closed.code, reason = closed.reason, "WebSocket closed");
            Some(closed)
        };
        (response, connection)
    }
}

/// The `Sec-WebSocket-Accept` answer for a valid upgrade request.
fn accept_key(headers: &HeaderMap) -> Result<HeaderValue, UpgradeError> {
    let has_token = |name, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if !has_token(UPGRADE, "websocket") || !has_token(CONNECTION, "upgrade") {
        return Err(UpgradeError::NotWebSocket {
            field: "upgrade",
            message: "expected a WebSocket upgrade request",
        });
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return Err(UpgradeError::NotWebSocket {
            field: "sec-websocket-version",
            message: "only WebSocket version 13 is supported",
        });
    }
    let missing_key = UpgradeError::NotWebSocket {
        field: "sec-websocket-key",
        message: "missing or invalid",
    };
    let key = headers.get(SEC_WEBSOCKET_KEY).ok_or(missing_key.clone())?;
    // The accept value is base64, always a valid header value.
    HeaderValue::from_str(&derive_accept_key(key.as_bytes())).map_err(|_| missing_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request<()> {
        let mut req = Request::builder().uri("/ws");
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.body(()).unwrap()
    }

    const UPGRADE_HEADERS: [(&str, &str); 4] = [
        ("upgrade", "websocket"),
        ("connection", "keep-alive, Upgrade"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn the_accept_key_is_the_rfc_6455_example() {
        let accept = accept_key(request(&UPGRADE_HEADERS).headers()).unwrap();
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn requests_that_are_not_upgrades_name_the_header_at_fault() {
        let without = |skip: &str| {
            let headers: Vec<_> = UPGRADE_HEADERS
                .into_iter()
                .filter(|(name, _)| *name != skip)
                .collect();
            let mut req = request(&headers);
            upgrade(&mut req, &WsConfig::default()).unwrap_err()
        };
        assert_eq!(without("upgrade").field(), Some("upgrade"));
        assert_eq!(without("connection").field(), Some("upgrade"));
        assert_eq!(
            without("sec-websocket-version").field(),
            Some("sec-websocket-version")
        );
        let err = without("sec-websocket-key");
        assert_eq!(
            (err.status(), err.code()),
            (StatusCode::BAD_REQUEST, "invalid")
        );
        assert_eq!(err.field(), Some("sec-websocket-key"));
    }

    #[test]
    fn a_foreign_origin_is_refused_before_anything_else_happens() {
        let mut headers = UPGRADE_HEADERS.to_vec();
        headers.extend([("host", "chat.example"), ("origin", "https://evil.example")]);
        let err = upgrade(&mut request(&headers), &WsConfig::default()).unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (StatusCode::FORBIDDEN, "bad_origin")
        );
    }

    #[test]
    fn a_request_hyper_cannot_upgrade_is_a_server_error() {
        let mut headers = UPGRADE_HEADERS.to_vec();
        headers.extend([("host", "chat.example"), ("origin", "https://chat.example")]);
        let err = upgrade(&mut request(&headers), &WsConfig::default()).unwrap_err();
        assert_eq!(err, UpgradeError::NotUpgradeable);
    }

    #[test]
    fn the_listening_address_is_an_own_origin_whatever_the_host_says() {
        let mut headers = UPGRADE_HEADERS.to_vec();
        headers.extend([
            ("host", "chat.example"),
            ("origin", "http://127.0.0.1:8080"),
            ("cookie", "chat_session=x"),
        ]);
        let local = Some("127.0.0.1:8080".parse().unwrap());
        let config = WsConfig::default();
        // Past the origin check: what stops it is the missing hyper connection.
        let err = upgrade_at(&mut request(&headers), &config, local, true).unwrap_err();
        assert_eq!(err, UpgradeError::NotUpgradeable);
        // Without the listening address, that origin is foreign.
        let err = upgrade(&mut request(&headers), &config).unwrap_err();
        assert_eq!(err, UpgradeError::BadOrigin);
    }

    #[test]
    fn cookies_without_an_origin_are_refused_and_bearer_clients_pass() {
        let mut headers = UPGRADE_HEADERS.to_vec();
        headers.push(("host", "chat.example"));
        let config = WsConfig::default();
        let err = upgrade(&mut request(&headers), &config).unwrap_err();
        assert_eq!(
            err,
            UpgradeError::NotUpgradeable,
            "no cookie, no Origin: a bot"
        );
        headers.push(("cookie", "app_session=1"));
        let err = upgrade(&mut request(&headers), &config).unwrap_err();
        assert_eq!(
            err,
            UpgradeError::BadOrigin,
            "a cookie needs an allowed Origin"
        );
    }
}
