//! A Rust client for the WebSocket protocol: bots, tests and load generation.
//!
//! [`Connect`] opens a connection (bearer token or session cookie) and waits for `hello`.
//! [`Client::send`](ClientHandle::send) picks a `client_id`, sends, and resolves with the
//! stored message once the server acks (or with the `error` frame that refers to it);
//! [`Client::handle`] sends the same way from other tasks. [`Client::next_event`] yields
//! everything else, with `message`s de-duplicated and in seq order per room. When the
//! connection drops for a reason worth retrying (lagged, server restart, network), the client
//! reconnects, sends `sync` with the last seq it saw per room, and re-sends unacked requests
//! with the same `client_id` (exactly once).
//!
//! ```no_run
//! # async fn demo() -> Result<(), chatcore_ws::ClientError> {
//! use chatcore_ws::{Connect, client::ClientEvent};
//! let mut client = Connect::bearer("ws://127.0.0.1:8080/api/v1/ws", "token").connect().await?;
//! let room = client.rooms()[0].room_id;
//! let stored = client.send(room, "hello").await?;
//! while let Some(event) = client.next_event().await {
//!     if let ClientEvent::Frame(frame) = event { println!("{frame:?}") }
//! }
//! # let _ = stored; Ok(()) }
//! ```

mod task;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chatcore::{MediaId, Message, RoomId, Seq};
use tokio::sync::{mpsc, oneshot};

use crate::frames::{ClientFrame, RoomSeq, ServerFrame, WireUser};

/// What the client hands to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// Nearly every event is a frame, moved once through a bounded channel: boxing it would cost an
// allocation per frame and every caller its pattern matches, to shrink the rare `Closed`.
#[allow(clippy::large_enum_variant)]
pub enum ClientEvent {
    /// A frame from the server (acks are consumed by [`Client::send`](ClientHandle::send),
    /// duplicate `message`s dropped).
    Frame(ServerFrame),
    /// The connection closed; `reconnecting` says whether the client is resuming on its own.
    Closed {
        /// The server's close code, if it sent one.
        code: Option<u16>,
        /// The close reason or the transport error, in words.
        reason: String,
        /// Whether a reconnect with `sync` follows.
        reconnecting: bool,
    },
    /// A reconnect succeeded and `sync` was sent; the missed messages follow.
    Resumed,
}

/// Why a client operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The connection could not be opened.
    #[error("connect failed: {0}")]
    Connect(String),
    /// The server refused the upgrade with this HTTP status (401: bad token).
    #[error("refused with HTTP {0}")]
    Refused(u16),
    /// The server answered the request with an `error` frame.
    #[error("{code}: {message}")]
    Rejected {
        /// The stable error code, e.g. `not_found`.
        code: String,
        /// The server's message.
        message: String,
        /// The offending field, for validation errors.
        field: Option<String>,
    },
    /// The connection is closed for good (closed by the application, or by the server for a
    /// reason that must not be retried, such as 4001 session ended).
    #[error("connection closed: {0}")]
    Closed(String),
    /// The server broke the protocol (e.g. no `hello`).
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl ClientError {
    /// The server's error code, when the server rejected the request.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// How to authenticate the upgrade request.
#[derive(Debug, Clone)]
enum Auth {
    Bearer(String),
    Cookie(String),
}

/// Options for opening a [`Client`].
#[derive(Debug, Clone)]
pub struct Connect {
    url: String,
    auth: Auth,
    reconnect: bool,
    events: bool,
    event_queue: usize,
    max_message_size: usize,
}

impl Connect {
    /// Connect to `url` (e.g. `ws://127.0.0.1:8080/api/v1/ws`) with `Authorization: Bearer`.
    pub fn bearer(url: impl Into<String>, token: impl Into<String>) -> Self {
        Self::new(url.into(), Auth::Bearer(token.into()))
    }

    /// Connect with a session cookie, e.g. `cookie(url, "chat_session", token)`.
    pub fn cookie(url: impl Into<String>, name: &str, value: &str) -> Self {
        Self::new(url.into(), Auth::Cookie(format!("{name}={value}")))
    }

    fn new(url: String, auth: Auth) -> Self {
        Connect {
            url,
            auth,
            reconnect: true,
            events: true,
            event_queue: 4096,
            max_message_size: 16 << 20,
        }
    }

    /// Whether to reconnect and resume after a retryable close (default true).
    pub fn reconnect(mut self, on: bool) -> Self {
        self.reconnect = on;
        self
    }

    /// Whether to queue events for [`Client::next_event`] (default true). Turn off for clients
    /// that only send (load generators): otherwise unread events eventually stall the client.
    pub fn events(mut self, on: bool) -> Self {
        self.events = on;
        self
    }

    /// Events queued for the application before the client stops reading the socket
    /// (default 4,096).
    pub fn event_queue(mut self, n: usize) -> Self {
        self.event_queue = n.max(1);
        self
    }

    /// Opens the connection and waits for `hello`.
    pub async fn connect(self) -> Result<Client, ClientError> {
        task::start(self).await
    }
}

/// A request for the client task.
pub(crate) enum Command {
    /// A `send`: resolved by the `ack` or `error` whose `ref` is `client_id`.
    Send {
        client_id: String,
        json: String,
        reply: oneshot::Sender<Result<Message, ClientError>>,
    },
    /// Any other frame, fire and forget.
    Frame(String),
    /// Close the connection (1000) and stop.
    Close,
}

/// A connected client. Dropping it (and every [`ClientHandle`] of it) closes the connection.
///
/// It reads events ([`next_event`](Self::next_event)) and derefs to its [`ClientHandle`], so
/// every sending method is available on it too.
#[derive(Debug)]
pub struct Client {
    handle: ClientHandle,
    events: mpsc::Receiver<ClientEvent>,
    user: WireUser,
    rooms: Vec<RoomSeq>,
}

/// Sends on a [`Client`]'s connection from any task while the client itself waits for events
/// (e.g. a terminal UI that keeps drawing while a send waits for its ack). Cloning is
/// shallow; sends from every clone share one connection and one `client_id` sequence.
#[derive(Debug, Clone)]
pub struct ClientHandle {
    commands: mpsc::Sender<Command>,
    ids: Arc<ClientIds>,
}

/// Where a client's `client_id`s come from.
#[derive(Debug)]
struct ClientIds {
    prefix: String,
    next: AtomicU64,
}

/// A message to send with options beyond room and text.
#[derive(Debug, Clone, Default)]
pub struct SendRequest {
    /// Target room.
    pub room_id: RoomId,
    /// Text.
    pub body: String,
    /// Idempotency key; generated when `None`.
    pub client_id: Option<String>,
    /// Media uploaded to the room.
    pub media_id: Option<MediaId>,
    /// Seq of the quoted message.
    pub reply_to: Option<Seq>,
    /// A custom kind the server's host registered (`None` for text and media).
    pub kind: Option<String>,
    /// The custom kind's JSON payload; only with `kind`.
    pub payload: Option<serde_json::Value>,
}

impl Client {
    fn new(
        commands: mpsc::Sender<Command>,
        events: mpsc::Receiver<ClientEvent>,
        user: WireUser,
        rooms: Vec<RoomSeq>,
    ) -> Self {
        let ids = ClientIds {
            prefix: id_prefix(),
            next: AtomicU64::new(1),
        };
        Client {
            handle: ClientHandle {
                commands,
                ids: Arc::new(ids),
            },
            events,
            user,
            rooms,
        }
    }

    /// The connected user, as `hello` described it.
    pub fn user(&self) -> &WireUser {
        &self.user
    }

    /// The user's rooms and their newest seq as of the first `hello`.
    pub fn rooms(&self) -> &[RoomSeq] {
        &self.rooms
    }

    /// A handle that sends on this connection from other tasks.
    pub fn handle(&self) -> ClientHandle {
        self.handle.clone()
    }

    /// The next event, or `None` once the client stopped for good.
    pub async fn next_event(&mut self) -> Option<ClientEvent> {
        self.events.recv().await
    }
}

impl std::ops::Deref for Client {
    type Target = ClientHandle;

    fn deref(&self) -> &ClientHandle {
        &self.handle
    }
}

impl ClientHandle {
    /// Sends `body` to `room` and waits until the server stored it.
    pub async fn send(&self, room: RoomId, body: &str) -> Result<Message, ClientError> {
        self.send_message(SendRequest {
            room_id: room,
            body: body.to_owned(),
            ..SendRequest::default()
        })
        .await
    }

    /// Sends a message with options and waits for the ack. Retried across reconnects with
    /// the same `client_id`, so it is stored exactly once.
    pub async fn send_message(&self, msg: SendRequest) -> Result<Message, ClientError> {
        let client_id = msg.client_id.unwrap_or_else(|| self.new_client_id());
        let frame = ClientFrame::Send {
            room_id: msg.room_id,
            body: msg.body.into(),
            client_id: client_id.as_str().into(),
            media_id: msg.media_id,
            reply_to: msg.reply_to,
            kind: msg.kind.map(Into::into),
            payload: msg.payload,
        };
        let json = encode(&frame)?;
        let (reply, answer) = oneshot::channel();
        self.command(Command::Send {
            client_id,
            json,
            reply,
        })
        .await?;
        answer
            .await
            .map_err(|_| ClientError::Closed("client stopped".to_owned()))?
    }

    /// Edits an own message; the result arrives as an `edited` (or `error`) event.
    pub async fn edit(&self, room_id: RoomId, seq: Seq, body: &str) -> Result<(), ClientError> {
        self.frame(&ClientFrame::Edit {
            room_id,
            seq,
            body: body.into(),
        })
        .await
    }

    /// Deletes an own message; the result arrives as a `deleted` (or `error`) event.
    pub async fn delete(&self, room_id: RoomId, seq: Seq) -> Result<(), ClientError> {
        self.frame(&ClientFrame::Delete { room_id, seq }).await
    }

    /// Adds this user's `emoji` reaction to a message; the result arrives as a `reactions` (or
    /// `error`) event.
    pub async fn react(&self, room_id: RoomId, seq: Seq, emoji: &str) -> Result<(), ClientError> {
        self.frame(&ClientFrame::React {
            room_id,
            seq,
            emoji: emoji.into(),
        })
        .await
    }

    /// Takes this user's `emoji` reaction back; the result arrives as a `reactions` event.
    pub async fn unreact(&self, room_id: RoomId, seq: Seq, emoji: &str) -> Result<(), ClientError> {
        self.frame(&ClientFrame::Unreact {
            room_id,
            seq,
            emoji: emoji.into(),
        })
        .await
    }

    /// Tells the room's other members this user is typing.
    pub async fn typing(&self, room_id: RoomId) -> Result<(), ClientError> {
        self.frame(&ClientFrame::Typing { room_id }).await
    }

    /// Moves this user's read marker in `room_id` to `seq`.
    pub async fn mark_read(&self, room_id: RoomId, seq: Seq) -> Result<(), ClientError> {
        self.frame(&ClientFrame::Read { room_id, seq }).await
    }

    /// Sends `ping`; the `pong` arrives as an event.
    pub async fn ping(&self) -> Result<(), ClientError> {
        self.frame(&ClientFrame::Ping).await
    }

    /// Closes the connection with 1000 and stops reconnecting.
    pub async fn close(&self) {
        if self.commands.send(Command::Close).await.is_err() {
            tracing::debug!("client already stopped");
        }
    }

    async fn frame(&self, frame: &ClientFrame<'_>) -> Result<(), ClientError> {
        let json = encode(frame)?;
        self.command(Command::Frame(json)).await
    }

    async fn command(&self, command: Command) -> Result<(), ClientError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| ClientError::Closed("client stopped".to_owned()))
    }

    /// The current time (milliseconds, fixed-width hex, so ids sort by time: the store indexes
    /// them cheaply), then this client's prefix and counter (so ids never repeat).
    fn new_client_id(&self) -> String {
        let n = self.ids.next.fetch_add(1, Ordering::Relaxed);
        format!("{:012x}-{}-{n:x}", unix_millis(), self.ids.prefix)
    }
}

fn encode(frame: &ClientFrame<'_>) -> Result<String, ClientError> {
    serde_json::to_string(frame).map_err(|e| ClientError::Protocol(e.to_string()))
}

/// A `client_id` prefix unlikely to repeat across processes and clients: time, process id and
/// a per-process counter, as hex.
fn id_prefix() -> String {
    static CLIENTS: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos() as u64;
    let n = CLIENTS.fetch_add(1, Ordering::Relaxed);
    format!("c{:x}{:x}{n:x}", nanos & 0xffff_ffff, std::process::id())
}

fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as u64
}
