//! Accepting WebSocket connections straight from a socket (no HTTP server): tests, and
//! embedding without a web framework.
//!
//! The request head is read first so the session can be checked asynchronously with
//! [`Chat::authenticate`]; the tungstenite handshake then replays those bytes and its
//! header callback refuses an unauthenticated request with HTTP 401 before the upgrade
//! completes. A hyper server does the same with its own request instead (see the crate docs).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use chatcore::{Actor, Chat, SessionToken};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

use crate::limits::{WsConfig, websocket_config};

/// Largest request head accepted before the upgrade.
const MAX_HEAD: usize = 8 * 1024;

/// Why a raw WebSocket accept failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// No valid session in the request (or a cookie from a disallowed origin); the peer got
    /// HTTP 401 or 403.
    #[error("refused: {0}")]
    Refused(&'static str),
    /// The socket failed or the request was not a valid WebSocket upgrade.
    #[error("handshake failed")]
    Handshake(#[source] tokio_tungstenite::tungstenite::Error),
    /// Reading the request failed.
    #[error("reading the request failed")]
    Io(#[source] io::Error),
    /// The handshake did not complete within `WsConfig::handshake_timeout`; the socket was
    /// dropped.
    #[error("the handshake took too long")]
    Timeout,
}

/// A stream that first yields bytes already read from `inner` (the request head), then `inner`.
#[derive(Debug)]
pub struct Rewind<S> {
    prefix: Bytes,
    inner: S,
}

impl<S> Rewind<S> {
    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.prefix.has_remaining() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..n]);
            self.prefix.advance(n);
            if !self.prefix.has_remaining() {
                // Free the head's buffer: a long-lived connection should not carry it.
                self.prefix = Bytes::new();
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Accepts a WebSocket upgrade on a raw socket, authenticating the request first.
///
/// The session token comes from `Authorization: Bearer <token>` or, failing that, the
/// `config.session_cookie` cookie. `config.origins` decides which pages may connect: a foreign
/// `Origin` is refused, and a cookie only counts with an allowed `Origin`, so a foreign web
/// page cannot ride a user's cookie.
/// A request without a valid session is answered with HTTP 401 (403 for a bad origin) and
/// never upgraded. On success the stream carries the limits of [`websocket_config`]; pass it
/// and the actor to [`serve_connection`](crate::serve_connection).
///
/// The whole handshake must complete within `config.handshake_timeout` (`Timeout` otherwise):
/// a client that connects and stays silent, or trickles its request, is dropped. Cap how many
/// sockets one address may hold open with [`ConnectionsPerAddress`](crate::ConnectionsPerAddress).
pub async fn accept<S>(
    io: S,
    chat: &Chat,
    config: &WsConfig,
) -> Result<(WebSocketStream<Rewind<S>>, Actor), AcceptError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    tokio::time::timeout(config.handshake_timeout, handshake(io, chat, config))
        .await
        .map_err(|_| AcceptError::Timeout)?
}

async fn handshake<S>(
    mut io: S,
    chat: &Chat,
    config: &WsConfig,
) -> Result<(WebSocketStream<Rewind<S>>, Actor), AcceptError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let head = read_head(&mut io).await.map_err(AcceptError::Io)?;
    let verdict = authenticate(&head, chat, config).await;
    let refusal = verdict.as_ref().err().copied();
    // The signature is tungstenite's `Callback`; the large error type is theirs.
    #[allow(clippy::result_large_err)]
    let callback = move |_: &Request, response: Response| -> Result<Response, ErrorResponse> {
        match refusal {
            None => Ok(response),
            Some((status, why)) => {
                let mut refused = ErrorResponse::new(Some(why.to_owned()));
                *refused.status_mut() = status;
                Err(refused)
            }
        }
    };
    let io = Rewind {
        prefix: head.freeze(),
        inner: io,
    };
    let ws = tokio_tungstenite::accept_hdr_async_with_config(
        io,
        callback,
        Some(websocket_config(config)),
    )
    .await
    .map_err(|err| match refusal {
        Some((_, why)) => AcceptError::Refused(why),
        None => AcceptError::Handshake(err),
    })?;
    match verdict {
        Ok(actor) => Ok((ws, actor)),
        Err((_, why)) => Err(AcceptError::Refused(why)),
    }
}

/// Reads until the end of the HTTP request head (or `MAX_HEAD` bytes).
async fn read_head<S: AsyncRead + Unpin>(io: &mut S) -> io::Result<BytesMut> {
    let mut buf = BytesMut::with_capacity(1024);
    loop {
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() >= MAX_HEAD {
            return Ok(buf);
        }
        if io.read_buf(&mut buf).await? == 0 {
            return Ok(buf);
        }
    }
}

/// The value of the first header `name` (case-insensitive) in a raw request head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

fn cookie<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    header(head, "cookie")?.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim())
    })
}

async fn authenticate(
    head: &[u8],
    chat: &Chat,
    config: &WsConfig,
) -> Result<Actor, (StatusCode, &'static str)> {
    let head = std::str::from_utf8(head).map_err(|_| (StatusCode::BAD_REQUEST, "bad request"))?;
    let bearer = header(head, "authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let token = bearer
        .or_else(|| cookie(head, &config.session_cookie))
        .ok_or((StatusCode::UNAUTHORIZED, "not logged in"))?;
    // A cookie rides along with any page's request, so it only counts from an allowed origin
    // (this is what stops cross-site WebSocket hijacking).
    config
        .origins
        .check_values(
            header(head, "origin"),
            header(head, "host"),
            None,
            bearer.is_none(),
        )
        .map_err(|_| (StatusCode::FORBIDDEN, "origin not allowed"))?;
    chat.authenticate(&SessionToken::from_presented(token))
        .await
        .map_err(|_| (StatusCode::UNAUTHORIZED, "not logged in"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "GET /ws HTTP/1.1\r\nHost: x\r\nAUTHORIZATION: Bearer abc \r\nCookie: a=1; chat_session=tok; b=2\r\n\r\n";

    #[test]
    fn headers_and_cookies_are_found_case_insensitively() {
        assert_eq!(header(HEAD, "authorization"), Some("Bearer abc"));
        assert_eq!(cookie(HEAD, "chat_session"), Some("tok"));
        assert_eq!(cookie(HEAD, "missing"), None);
        assert_eq!(header(HEAD, "origin"), None);
    }

    #[tokio::test]
    async fn a_cookie_counts_only_from_an_allowed_origin() {
        let chat = Chat::in_memory();
        let (alice, token) = chat.guest(Some("Alice")).await.unwrap();
        let config = WsConfig {
            origins: crate::Origins::new(["https://chat.example"]),
            ..WsConfig::default()
        };
        let head = |origin: &str| {
            format!(
                "GET /ws HTTP/1.1\r\nHost: x\r\n{origin}Cookie: chat_session={}\r\n\r\n",
                token.as_str()
            )
        };
        let ok = authenticate(
            head("Origin: https://chat.example\r\n").as_bytes(),
            &chat,
            &config,
        )
        .await;
        assert_eq!(ok.unwrap().id(), alice.id());
        for origin in ["Origin: https://evil.example\r\n", ""] {
            let refused = authenticate(head(origin).as_bytes(), &chat, &config).await;
            assert_eq!(refused.unwrap_err().0, StatusCode::FORBIDDEN, "{origin:?}");
        }
    }

    #[tokio::test]
    async fn a_bearer_token_needs_no_origin_but_a_foreign_one_is_refused() {
        let chat = Chat::in_memory();
        let (alice, token) = chat.guest(Some("Alice")).await.unwrap();
        let head = |origin: &str| {
            format!(
                "GET /ws HTTP/1.1\r\nHost: x\r\n{origin}Authorization: Bearer {}\r\n\r\n",
                token.as_str()
            )
        };
        let config = WsConfig::default();
        let ok = authenticate(head("").as_bytes(), &chat, &config).await;
        assert_eq!(ok.unwrap().id(), alice.id());
        let refused = authenticate(
            head("Origin: https://evil.example\r\n").as_bytes(),
            &chat,
            &config,
        )
        .await;
        assert_eq!(refused.unwrap_err().0, StatusCode::FORBIDDEN);
    }
}
