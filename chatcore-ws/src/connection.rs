//! The connection driver: one task per socket reads client frames and hub events, calls
//! [`Chat`], and hands encoded frames to a writer task (see [`writer`]).
//!
//! Split: this task owns the read half, the hub [`Subscription`] and the per-room cursors; the
//! writer task owns the write half and nothing else. No chat rule lives here: every request is
//! a `Chat` call with the connection's [`Actor`], which checks membership at that moment.

mod delivery;
mod intake;
mod requests;
mod session;
mod writer;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use chatcore::{Actor, Chat, CloseReason, Subscription};
use tokio::time::{Instant, MissedTickBehavior, timeout};

use crate::close;
use crate::frames::{HelloUser, Outgoing, RoomSeq};
use crate::limits::WsConfig;
use crate::resume::Cursors;
use crate::socket::{Inbound, Outbound, Socket, SocketError, SocketReader};
use intake::Intake;
use writer::Outbox;

/// How long a closing connection waits for the peer's close reply before dropping the socket.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How a connection ended, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Closed {
    /// The close code the server sent, or `None` when the peer closed or vanished first.
    pub code: Option<u16>,
    /// Why, in words.
    pub reason: &'static str,
}

/// Why the connection loop stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Send this close frame, then drop the socket.
    Close(u16, &'static str),
    /// The peer closed or the socket failed: nothing more to send.
    Gone,
}

impl Stop {
    pub(crate) fn hub(reason: CloseReason) -> Self {
        let (code, text) = close::for_hub(reason);
        Stop::Close(code, text)
    }
}

/// Serves one authenticated WebSocket connection until it closes, then returns why.
///
/// Sends `hello`, then answers client frames and delivers the user's room events with the
/// guarantees of `docs/protocol.md`: acks after commit, per-room seq order with no gap and no
/// duplicate, resume with `sync`, bounded memory (a slow reader is closed with 4000), limits
/// from `config`, and close 4001 within moments of the session being revoked.
///
/// `socket` is any [`Socket`]: a tokio-tungstenite stream from [`upgrade`](crate::upgrade) or
/// [`accept`](crate::accept) (created with [`websocket_config`](crate::websocket_config) of the
/// same `config`), or another implementation. `actor` must come from `Chat` (e.g.
/// [`Chat::authenticate`] of the request's token). When `shutdown` completes, the connection
/// closes with 1001.
pub async fn serve_connection<S: Socket>(
    socket: S,
    chat: Chat,
    actor: Actor,
    config: WsConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Closed {
    let (mut stream, sink) = socket.split();
    let (out, closer, writer) = writer::spawn(sink, config.outbound_queue, config.write_timeout);
    // A future is as large as the largest state it can be in, and this one lives as long as
    // the connection: the steps that run once (connecting, `hello`, closing) and the handling
    // of a client's frame are boxed while they run, so an idle connection does not carry
    // their space ("WebSocket connections" in docs/performance.md).
    let stop = match Box::pin(chat.connect(&actor)).await {
        Ok((sub, rooms)) => {
            let mut conn = Conn::new(chat, actor, config.clone(), sub, out, &rooms);
            let stop = match Box::pin(conn.start(&rooms)).await {
                Ok(()) => conn.run(&mut stream, shutdown).await,
                Err(stop) => stop,
            };
            // The subscription ends here: the user's presence updates at once.
            Box::pin(conn.disconnect()).await;
            stop
        }
        Err(err) => {
            tracing::warn!(%err, "could not register the connection");
            Stop::Close(close::INTERNAL, "storage unavailable")
        }
    };
    Box::pin(finish(stop, closer, writer, stream, &config)).await
}

/// Sends the close frame (if any), waits for the writer, and lets the peer answer the close.
async fn finish<R: SocketReader>(
    stop: Stop,
    closer: writer::Closer,
    writer: tokio::task::JoinHandle<()>,
    mut stream: R,
    config: &WsConfig,
) -> Closed {
    let closed = match stop {
        Stop::Close(code, reason) => {
            closer.close(code, reason);
            Closed {
                code: Some(code),
                reason,
            }
        }
        Stop::Gone => {
            drop(closer);
            Closed {
                code: None,
                reason: "peer closed",
            }
        }
    };
    if timeout(config.write_timeout + CLOSE_GRACE, writer)
        .await
        .is_err()
    {
        tracing::debug!("writer did not finish in time");
    }
    if closed.code.is_some() {
        // Read (and discard) until the peer answers the close, so the socket closes cleanly
        // instead of with a reset that could swallow the close frame.
        let drain = async {
            while let Some(Ok(frame)) = stream.recv().await {
                if frame == Inbound::Close {
                    break;
                }
            }
        };
        if timeout(CLOSE_GRACE, drain).await.is_err() {
            tracing::debug!("peer did not answer the close in time");
        }
    }
    closed
}

/// The state of one connection, owned by its task.
pub(crate) struct Conn {
    chat: Chat,
    actor: Actor,
    config: WsConfig,
    sub: Subscription,
    out: Outbox,
    cursors: Cursors,
    intake: Intake,
    bad_frames: u32,
    last_seen: Instant,
    /// When the session expires unless it is used meanwhile (`None`: no session).
    expiry: Option<Instant>,
    /// When the session was last checked (and so counted as used).
    revalidated: Instant,
}

impl Conn {
    fn new(
        chat: Chat,
        actor: Actor,
        config: WsConfig,
        sub: Subscription,
        out: Outbox,
        rooms: &[(chatcore::RoomId, chatcore::Seq)],
    ) -> Self {
        let intake = Intake::new(&config);
        let expiry = session::deadline(&chat, &actor);
        let revalidated = session::spread(&actor);
        Conn {
            chat,
            actor,
            config,
            sub,
            out,
            cursors: Cursors::new(rooms.iter().copied()),
            intake,
            bad_frames: 0,
            last_seen: Instant::now(),
            expiry,
            revalidated,
        }
    }

    /// Ends the subscription; the user's last connection records when they were last seen.
    async fn disconnect(self) {
        if let Err(err) = self.chat.disconnect(self.sub).await {
            tracing::warn!(%err, "could not record when the user was last seen");
        }
    }

    /// Checks the per-user connection limit and sends `hello`.
    async fn start(&mut self, rooms: &[(chatcore::RoomId, chatcore::Seq)]) -> Result<(), Stop> {
        if self.chat.connections_of(self.actor.id()) > self.config.max_connections_per_user {
            return Err(Stop::Close(
                close::POLICY,
                "too many connections for this user",
            ));
        }
        let rooms: Vec<RoomSeq> = rooms
            .iter()
            .map(|&(room_id, last_seq)| RoomSeq { room_id, last_seq })
            .collect();
        let hello = Outgoing::Hello {
            user: HelloUser::from(self.actor.user()),
            rooms: &rooms,
        }
        .encode();
        self.send_bytes(hello).await?;
        self.out.flush(&self.sub).await
    }

    async fn run<R: SocketReader>(
        &mut self,
        stream: &mut R,
        shutdown: impl Future<Output = ()>,
    ) -> Stop {
        let mut shutdown = std::pin::pin!(shutdown);
        let every = self.config.ping_interval;
        let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // Two timers, moved (not recreated) when what they wait for moves: the session's
        // deadline, and the next thing due for frames read ahead (a token, or 4002).
        let never = Instant::now() + Duration::from_secs(100 * 365 * 86_400);
        let mut expiry = std::pin::pin!(tokio::time::sleep_until(self.expiry.unwrap_or(never)));
        let mut due = std::pin::pin!(tokio::time::sleep_until(never));
        loop {
            let step = match self.intake.next() {
                // A frame whose turn has come is handled before anything else is awaited.
                Some(msg) => Box::pin(self.on_message(msg)).await,
                None => {
                    let due_at = self.intake.wake_at();
                    if let Some(at) = due_at
                        && due.deadline() != at
                    {
                        due.as_mut().reset(at);
                    }
                    tokio::select! {
                        biased;
                        () = &mut shutdown => {
                            Err(Stop::Close(close::GOING_AWAY, "server shutting down"))
                        }
                        event = self.sub.recv() => match event {
                            Ok(event) => self.on_events(&event).await,
                            Err(reason) => Err(Stop::hub(reason)),
                        },
                        frame = stream.recv(), if self.intake.wants_read() => self.on_read(frame),
                        _ = ticks.tick() => self.on_tick().await,
                        () = &mut expiry, if self.expiry.is_some() => {
                            Box::pin(self.on_session_deadline()).await
                        }
                        () = &mut due, if due_at.is_some() => self.intake.check(),
                    }
                }
            };
            if let Some(at) = self.expiry
                && expiry.deadline() != at
            {
                expiry.as_mut().reset(at);
            }
            // Whatever the step produced goes to the writer together.
            if let Err(stop) = step.and(self.out.flush(&self.sub).await) {
                return stop;
            }
        }
    }

    /// A frame read from the socket waits its turn in the intake; a close ends the
    /// connection at once (frames still waiting are dropped: nobody would read the answers).
    fn on_read(&mut self, frame: Option<Result<Inbound, SocketError>>) -> Result<(), Stop> {
        let msg = match frame {
            None => return Err(Stop::Gone),
            Some(Ok(msg)) => msg,
            Some(Err(SocketError::TooBig)) => {
                return Err(Stop::Close(close::TOO_BIG, "message too big"));
            }
            Some(Err(err)) => {
                tracing::debug!(%err, "websocket read failed");
                return Err(Stop::Gone);
            }
        };
        self.last_seen = Instant::now();
        if msg == Inbound::Close {
            return Err(Stop::Gone);
        }
        self.intake.push(msg);
        Ok(())
    }

    /// Handles a frame whose turn has come (its token is spent).
    async fn on_message(&mut self, msg: Inbound) -> Result<(), Stop> {
        match msg {
            Inbound::Text(text) => self.on_text(&text).await,
            Inbound::Binary(_) => {
                self.bad_frame("binary frames are not supported; send JSON text", None)
                    .await
            }
            Inbound::Close => Err(Stop::Gone),
            // The socket answers pings; a ping or pong only proves liveness.
            Inbound::Control => Ok(()),
        }
    }

    /// Pings a quiet connection; closes one that stayed silent too long.
    async fn on_tick(&mut self) -> Result<(), Stop> {
        let quiet = self.last_seen.elapsed();
        if quiet >= self.config.idle_timeout {
            return Err(Stop::Close(close::NORMAL, "idle timeout"));
        }
        if quiet >= self.config.ping_interval {
            return self.out.push(&self.sub, Outbound::Ping).await;
        }
        Ok(())
    }

    /// Queues an already-encoded JSON frame.
    async fn send_bytes(&mut self, json: Bytes) -> Result<(), Stop> {
        self.out.push(&self.sub, Outbound::Text(json)).await
    }

    /// Encodes and queues a per-connection frame.
    async fn send(&mut self, frame: &Outgoing<'_>) -> Result<(), Stop> {
        self.send_bytes(frame.encode()).await
    }

    /// Queues an `error` frame for a failed chat operation.
    async fn send_error(
        &mut self,
        err: &chatcore::Error,
        reference: Option<&str>,
    ) -> Result<(), Stop> {
        let message = err.to_string();
        self.send(&Outgoing::Error {
            code: err.code(),
            message: &message,
            reference,
            field: err.field(),
        })
        .await
    }
}
