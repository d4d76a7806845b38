//! The client's background task: owns the socket, matches acks to sends, drops duplicate
//! messages, and reconnects with `sync`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chatcore::{Message, RoomId, Seq};
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::{
    CloseFrame, WebSocketConfig, frame::coding::CloseCode,
};
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{Auth, Client, ClientError, ClientEvent, Command, Connect};
use crate::close;
use crate::frames::{ClientFrame, RoomSeq, ServerFrame, WireUser};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Longest wait between reconnect attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A `send` waiting for its ack, kept (with its encoded frame) to re-send after a reconnect.
struct Pending {
    client_id: String,
    frame: Utf8Bytes,
    reply: oneshot::Sender<Result<Message, ClientError>>,
}

struct State {
    opts: Connect,
    /// The last seq seen per room: older or repeated `message`s are dropped.
    last: HashMap<RoomId, Seq>,
    /// Unacked sends, oldest first (few: the ones in flight).
    pending: Vec<Pending>,
    events: mpsc::Sender<ClientEvent>,
    /// Between a reconnect's `sync` and the server's `synced`: live messages that arrived on
    /// the new connection before the server read our `sync` may run ahead of what we have.
    /// The sync re-sends everything after our last seq in order, so until `synced` only the
    /// next seq of a room is accepted.
    resuming: bool,
}

/// How one connection ended.
enum End {
    /// The application closed the client.
    ByApp,
    /// The server closed it or the transport failed.
    Closed(Option<u16>, String),
}

pub(super) async fn start(opts: Connect) -> Result<Client, ClientError> {
    let (ws, user, rooms) = open(&opts).await?;
    let (commands, command_rx) = mpsc::channel(64);
    let (events_tx, events) = mpsc::channel(opts.event_queue);
    let state = State {
        last: rooms.iter().map(|r| (r.room_id, r.last_seq)).collect(),
        opts,
        pending: Vec::new(),
        events: events_tx,
        resuming: false,
    };
    tokio::spawn(run(state, ws, command_rx));
    Ok(Client::new(commands, events, user, rooms))
}

/// Connects and reads the `hello`.
async fn open(opts: &Connect) -> Result<(Ws, WireUser, Vec<RoomSeq>), ClientError> {
    let mut request = opts
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| ClientError::Connect(e.to_string()))?;
    let (name, value) = match &opts.auth {
        Auth::Bearer(token) => ("authorization", format!("Bearer {token}")),
        Auth::Cookie(pair) => ("cookie", pair.clone()),
    };
    let value = HeaderValue::from_str(&value).map_err(|e| ClientError::Connect(e.to_string()))?;
    request.headers_mut().insert(name, value);
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(opts.max_message_size))
        .max_frame_size(Some(opts.max_message_size));
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
        .await
        .map_err(|e| match e {
            WsError::Http(response) => ClientError::Refused(response.status().as_u16()),
            other => ClientError::Connect(other.to_string()),
        })?;
    loop {
        match ws.next().await {
            Some(Ok(WsMessage::Text(text))) => {
                return match ServerFrame::decode(&text) {
                    Ok(ServerFrame::Hello { user, rooms }) => Ok((ws, user, rooms)),
                    _ => Err(ClientError::Protocol(format!(
                        "expected hello, got {}",
                        text.as_str()
                    ))),
                };
            }
            Some(Ok(WsMessage::Close(frame))) => {
                let why = frame.map_or_else(
                    || "closed".to_owned(),
                    |f| format!("{}: {}", u16::from(f.code), f.reason),
                );
                return Err(ClientError::Closed(why));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(ClientError::Connect(e.to_string())),
            None => return Err(ClientError::Closed("closed before hello".to_owned())),
        }
    }
}

async fn run(mut state: State, mut ws: Ws, mut commands: mpsc::Receiver<Command>) {
    loop {
        let (code, reason) = match state.serve(&mut ws, &mut commands).await {
            End::ByApp => break,
            End::Closed(code, reason) => (code, reason),
        };
        let retry = state.opts.reconnect && retryable(code);
        state
            .emit(ClientEvent::Closed {
                code,
                reason: reason.clone(),
                reconnecting: retry,
            })
            .await;
        if !retry {
            break;
        }
        match state.reconnect().await {
            Some(new) => ws = new,
            None => break,
        }
    }
    for p in state.pending.drain(..) {
        if p.reply
            .send(Err(ClientError::Closed("connection closed".to_owned())))
            .is_err()
        {
            tracing::debug!(client_id = %p.client_id, "sender gave up waiting");
        }
    }
}

/// Whether a close is worth a reconnect: not for policy (1008), too big (1009) or a session
/// that ended (4001), which would only fail again.
fn retryable(code: Option<u16>) -> bool {
    !matches!(
        code,
        Some(close::POLICY | close::TOO_BIG | close::SESSION_ENDED)
    )
}

impl State {
    async fn serve(&mut self, ws: &mut Ws, commands: &mut mpsc::Receiver<Command>) -> End {
        loop {
            tokio::select! {
                command = commands.recv() => {
                    let result = match command {
                        None | Some(Command::Close) => {
                            let bye = CloseFrame { code: CloseCode::Normal, reason: "bye".into() };
                            if let Err(err) = ws.close(Some(bye)).await {
                                tracing::debug!(%err, "close failed");
                            }
                            return End::ByApp;
                        }
                        Some(Command::Send { client_id, json, reply }) => {
                            let frame = Utf8Bytes::from(json);
                            self.pending.push(Pending { client_id, frame: frame.clone(), reply });
                            ws.send(WsMessage::Text(frame)).await
                        }
                        Some(Command::Frame(json)) => ws.send(WsMessage::text(json)).await,
                    };
                    if let Err(err) = result {
                        return End::Closed(None, err.to_string());
                    }
                }
                frame = ws.next() => match frame {
                    Some(Ok(WsMessage::Text(text))) => self.on_text(&text).await,
                    Some(Ok(WsMessage::Close(frame))) => {
                        return match frame {
                            Some(f) => End::Closed(Some(u16::from(f.code)), f.reason.to_string()),
                            None => End::Closed(None, "closed without a code".to_owned()),
                        };
                    }
                    Some(Ok(_)) => {}
                    Some(Err(err)) => return End::Closed(None, err.to_string()),
                    None => return End::Closed(None, "connection closed".to_owned()),
                },
            }
        }
    }

    async fn on_text(&mut self, text: &str) {
        let frame = match ServerFrame::decode(text) {
            Ok(frame) => frame,
            Err(err) => {
                tracing::warn!(%err, "undecodable frame from the server");
                return;
            }
        };
        match frame {
            ServerFrame::Ack { client_id, message } => self.resolve(&client_id, Ok(message)),
            ServerFrame::Error {
                code,
                message,
                reference: Some(r),
                field,
            } if self.pending.iter().any(|p| p.client_id == r) => {
                self.resolve(
                    &r,
                    Err(ClientError::Rejected {
                        code,
                        message,
                        field,
                    }),
                );
            }
            ServerFrame::Message { message } => {
                let last = self.last.get(&message.room_id).copied();
                let skip =
                    |last: Seq| message.seq <= last || (self.resuming && message.seq > last + 1);
                if last.is_some_and(skip) {
                    return;
                }
                self.last.insert(message.room_id, message.seq);
                self.emit(ClientEvent::Frame(ServerFrame::Message { message }))
                    .await;
            }
            ServerFrame::Synced { .. } => {
                self.resuming = false;
                self.emit(ClientEvent::Frame(frame)).await;
            }
            ServerFrame::Resync { room_id, last_seq } => {
                self.last.insert(room_id, last_seq);
                self.emit(ClientEvent::Frame(frame)).await;
            }
            other => self.emit(ClientEvent::Frame(other)).await,
        }
    }

    fn resolve(&mut self, client_id: &str, result: Result<Message, ClientError>) {
        if let Some(i) = self.pending.iter().position(|p| p.client_id == client_id) {
            let p = self.pending.remove(i);
            if p.reply.send(result).is_err() {
                tracing::debug!(%client_id, "sender gave up waiting");
            }
        }
    }

    async fn emit(&self, event: ClientEvent) {
        // A dropped receiver means the application stopped listening: nothing to do.
        if self.opts.events && self.events.send(event).await.is_err() {
            tracing::trace!("event receiver dropped");
        }
    }

    /// Reconnects (at once, then with doubling backoff), sends `sync` and re-sends unacked
    /// requests. `None` when the server refuses us for good.
    async fn reconnect(&mut self) -> Option<Ws> {
        let mut backoff = Duration::from_millis(50);
        loop {
            match open(&self.opts).await {
                Ok((mut ws, _user, rooms)) => {
                    for r in rooms {
                        self.last.entry(r.room_id).or_insert(r.last_seq);
                    }
                    if self.resume(&mut ws).await.is_ok() {
                        self.resuming = true;
                        self.emit(ClientEvent::Resumed).await;
                        return Some(ws);
                    }
                }
                Err(ClientError::Refused(status)) => {
                    tracing::info!(status, "reconnect refused; giving up");
                    return None;
                }
                Err(err) => tracing::debug!(%err, "reconnect failed"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    async fn resume(&self, ws: &mut Ws) -> Result<(), WsError> {
        let rooms: BTreeMap<RoomId, Seq> = self.last.iter().map(|(&r, &s)| (r, s)).collect();
        let sync = serde_json::to_string(&ClientFrame::Sync { rooms })
            .map_err(|e| WsError::Io(e.into()))?;
        ws.feed(WsMessage::text(sync)).await?;
        for p in &self.pending {
            ws.feed(WsMessage::Text(p.frame.clone())).await?;
        }
        ws.flush().await
    }
}
