//! The socket the connection driver speaks through: receive a frame, send a batch, close.
//!
//! [`serve_connection`](crate::serve_connection) depends on these traits only, so any
//! WebSocket implementation can carry the chat protocol: a tokio-tungstenite stream (provided
//! below; [`upgrade`](crate::upgrade) and [`accept`](crate::accept) make one), another
//! framework's socket behind a small adapter, or a simulated one in tests. The driver keeps
//! every promise of `docs/protocol.md` (limits, pacing, slow-reader policy, timeouts) above
//! this seam; an implementation only moves frames.

use std::error::Error as StdError;
use std::future::Future;

use bytes::Bytes;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes, error::CapacityError};

/// A frame read from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Inbound {
    /// A text frame: one JSON request.
    Text(String),
    /// A binary frame (the protocol has none; the driver answers with an error).
    Binary(Bytes),
    /// A ping or pong: proves the peer is alive. Answering pings is the socket's job.
    Control,
    /// The peer closed the connection.
    Close,
}

impl Inbound {
    /// Payload bytes, counted against the read-ahead limit.
    pub fn len(&self) -> usize {
        match self {
            Inbound::Text(text) => text.len(),
            Inbound::Binary(bytes) => bytes.len(),
            Inbound::Control | Inbound::Close => 0,
        }
    }

    /// Whether the frame carries no payload.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A frame for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outbound {
    /// A text frame holding encoded JSON (always valid UTF-8). Cloning shares the buffer, so
    /// an event fanned out to many sockets is encoded once.
    Text(Bytes),
    /// A ping: the driver's heartbeat on a quiet connection.
    Ping,
}

/// Why a socket operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SocketError {
    /// The client sent a message larger than the limit; the driver closes with 1009.
    #[error("message too big")]
    TooBig,
    /// The socket failed (reset, protocol violation, closed underneath).
    #[error("socket failed")]
    Failed(#[source] Box<dyn StdError + Send + Sync>),
}

/// A WebSocket connection the driver can serve: it splits into a reading and a writing half,
/// which the driver uses from two tasks.
pub trait Socket: Send + 'static {
    /// The reading half.
    type Reader: SocketReader;
    /// The writing half.
    type Writer: SocketWriter;
    /// Splits the connection into its halves.
    fn split(self) -> (Self::Reader, Self::Writer);
}

/// The reading half of a [`Socket`].
pub trait SocketReader: Send + 'static {
    /// The next frame, or `None` once the connection is gone.
    ///
    /// Must be cancel-safe: the driver races it against other events, and a frame must not be
    /// lost when the returned future is dropped before completing.
    fn recv(&mut self) -> impl Future<Output = Option<Result<Inbound, SocketError>>> + Send;
}

/// The writing half of a [`Socket`].
pub trait SocketWriter: Send + 'static {
    /// Writes `frames` in order and flushes them to the peer. The driver bounds the call with
    /// its write timeout; an error ends the connection.
    fn send_batch(
        &mut self,
        frames: Vec<Outbound>,
    ) -> impl Future<Output = Result<(), SocketError>> + Send;

    /// Sends a close frame: with `code` and `reason` when the server ends the connection, an
    /// empty one (`None`) to answer a peer that closed first (a no-op if the implementation
    /// answered already). Nothing is sent after it.
    fn close(
        &mut self,
        frame: Option<(u16, &'static str)>,
    ) -> impl Future<Output = Result<(), SocketError>> + Send;
}

impl<S> Socket for WebSocketStream<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Reader = SplitStream<WebSocketStream<S>>;
    type Writer = SplitSink<WebSocketStream<S>, Message>;

    fn split(self) -> (Self::Reader, Self::Writer) {
        let (sink, stream) = StreamExt::split(self);
        (stream, sink)
    }
}

impl<S> SocketReader for SplitStream<WebSocketStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // `StreamExt::next` on a tungstenite stream is cancel-safe: a frame is only taken out of
    // its buffer when the future completes.
    async fn recv(&mut self) -> Option<Result<Inbound, SocketError>> {
        let frame = match self.next().await? {
            Ok(Message::Text(text)) => Inbound::Text(text.as_str().to_owned()),
            Ok(Message::Binary(bytes)) => Inbound::Binary(bytes),
            Ok(Message::Close(_)) => Inbound::Close,
            // tungstenite answers pings itself when it reads them.
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => Inbound::Control,
            Err(WsError::Capacity(CapacityError::MessageTooLong { .. })) => {
                return Some(Err(SocketError::TooBig));
            }
            Err(err) => return Some(Err(SocketError::Failed(err.into()))),
        };
        Some(Ok(frame))
    }
}

impl<S> SocketWriter for SplitSink<WebSocketStream<S>, Message>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Frames are fed into tungstenite's write buffer and flushed once, so a batch becomes few
    // socket writes (tungstenite still writes whenever its buffer passes `write_buffer_size`).
    async fn send_batch(&mut self, frames: Vec<Outbound>) -> Result<(), SocketError> {
        for frame in frames {
            let msg = match frame {
                Outbound::Text(json) => Message::Text(
                    Utf8Bytes::try_from(json).map_err(|err| SocketError::Failed(err.into()))?,
                ),
                Outbound::Ping => Message::Ping(Bytes::new()),
            };
            self.feed(msg).await.map_err(failed)?;
        }
        self.flush().await.map_err(failed)
    }

    async fn close(&mut self, frame: Option<(u16, &'static str)>) -> Result<(), SocketError> {
        let frame = frame.map(|(code, reason)| CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        });
        self.send(Message::Close(frame)).await.map_err(failed)
    }
}

fn failed(err: WsError) -> SocketError {
    SocketError::Failed(err.into())
}
