//! A tiny test server: chatcore's in-memory `Chat` behind raw TCP on 127.0.0.1:0 (no HTTP),
//! plus helpers that read like the scenarios they prove.
#![allow(dead_code, clippy::unwrap_used, missing_docs)]

use std::future::Future;
use std::time::Duration;

use chatcore::{Actor, Chat, ChatConfig, Message, RoomId, Seq, SessionToken, UserId};
use chatcore_ws::client::ClientEvent;
use chatcore_ws::frames::ServerFrame;
use chatcore_ws::{Client, Closed, Connect, WsConfig};
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Safety net for every wait; never a synchronization tool.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

pub struct Server {
    pub chat: Chat,
    pub url: String,
    kick: broadcast::Sender<()>,
    closed: mpsc::UnboundedReceiver<(UserId, Closed)>,
}

pub fn chat_config() -> ChatConfig {
    let mut config = ChatConfig::default();
    config.guests_can_create_groups = true;
    config
}

impl Server {
    pub async fn start() -> Server {
        Self::with(chat_config(), WsConfig::default()).await
    }

    pub async fn with(chat_config: ChatConfig, ws: WsConfig) -> Server {
        Self::serve(Chat::in_memory_with(chat_config), ws).await
    }

    pub async fn serve(chat: Chat, ws: WsConfig) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/ws", listener.local_addr().unwrap());
        let (kick, _) = broadcast::channel(4);
        let (closed_tx, closed) = mpsc::unbounded_channel();
        let (chat2, kick2) = (chat.clone(), kick.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (chat, ws, closed_tx) = (chat2.clone(), ws.clone(), closed_tx.clone());
                let mut kicked = kick2.subscribe();
                tokio::spawn(async move {
                    let Ok((stream, actor)) = chatcore_ws::accept(tcp, &chat, &ws).await else {
                        return;
                    };
                    let user = actor.id();
                    let shutdown = async move {
                        let _ = kicked.recv().await;
                    };
                    let closed =
                        chatcore_ws::serve_connection(stream, chat, actor, ws, shutdown).await;
                    let _ = closed_tx.send((user, closed));
                });
            }
        });
        Server {
            chat,
            url,
            kick,
            closed,
        }
    }

    /// Closes every current connection with 1001, as a restarting server would.
    pub fn kick_all(&self) {
        self.kick.send(()).unwrap();
    }

    /// Waits until the server reports a connection of `user` ended, and how.
    pub async fn closed_for(&mut self, user: UserId) -> Closed {
        within("a server-side close", async {
            loop {
                let (who, closed) = self.closed.recv().await.unwrap();
                if who == user {
                    return closed;
                }
            }
        })
        .await
    }

    /// The close code of the next server-side close of `user`'s connections.
    pub async fn closed_for_code(&mut self, user: UserId) -> Option<u16> {
        self.closed_for(user).await.code
    }

    pub async fn user(&self, name: &str) -> (Actor, SessionToken) {
        self.chat.guest(Some(name)).await.unwrap()
    }

    pub async fn client(&self, token: &SessionToken) -> Client {
        within(
            "connect",
            Connect::bearer(&self.url, token.as_str()).connect(),
        )
        .await
        .unwrap()
    }

    pub async fn raw(&self, token: &SessionToken) -> Raw {
        Raw::connect(&self.url, token).await
    }

    pub async fn history(&self, actor: &Actor, room: RoomId) -> Vec<Message> {
        self.chat
            .history(actor, room, None, 100)
            .await
            .unwrap()
            .messages
    }
}

/// The next event matching `pick`, skipping others.
pub async fn wait_for<T>(
    client: &mut Client,
    what: &str,
    mut pick: impl FnMut(ClientEvent) -> Option<T>,
) -> T {
    within(what, async {
        loop {
            let event = client
                .next_event()
                .await
                .unwrap_or_else(|| panic!("client ended waiting for {what}"));
            if let Some(found) = pick(event) {
                return found;
            }
        }
    })
    .await
}

/// The next `n` messages, skipping other frames.
pub async fn messages(client: &mut Client, n: usize) -> Vec<Message> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        out.push(
            wait_for(client, "a message", |e| match e {
                ClientEvent::Frame(ServerFrame::Message { message }) => Some(message),
                _ => None,
            })
            .await,
        );
    }
    out
}

/// Pings and returns every message that arrived before the pong. The server handles queued
/// events before client frames, so after the pong nothing already published is outstanding.
pub async fn messages_until_pong(client: &mut Client) -> Vec<Message> {
    client.ping().await.unwrap();
    let mut out = Vec::new();
    within("pong", async {
        loop {
            match client.next_event().await.unwrap() {
                ClientEvent::Frame(ServerFrame::Pong) => return,
                ClientEvent::Frame(ServerFrame::Message { message }) => out.push(message),
                _ => {}
            }
        }
    })
    .await;
    out
}

pub fn seqs(messages: &[Message]) -> Vec<Seq> {
    messages.iter().map(|m| m.seq).collect()
}

/// A raw protocol client, for what the real client would never do (oversized frames, not
/// reading, garbage).
pub struct Raw {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Raw {
    pub async fn connect(url: &str, token: &SessionToken) -> Raw {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", token.as_str()).parse().unwrap(),
        );
        let (ws, _) = within("raw connect", tokio_tungstenite::connect_async(request))
            .await
            .unwrap();
        let mut raw = Raw { ws };
        let hello = raw.frame().await;
        assert!(matches!(hello, ServerFrame::Hello { .. }), "{hello:?}");
        raw
    }

    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.ws.send(WsMessage::text(text.into())).await.unwrap();
    }

    /// The next JSON frame; panics on close.
    pub async fn frame(&mut self) -> ServerFrame {
        match self.next().await {
            Ok(frame) => frame,
            Err(close) => panic!("closed: {close:?}"),
        }
    }

    /// The next JSON frame, or the close code.
    pub async fn next(&mut self) -> Result<ServerFrame, Option<u16>> {
        within("a raw frame", async {
            loop {
                match self.ws.next().await {
                    Some(Ok(WsMessage::Text(text))) => {
                        return Ok(ServerFrame::decode(&text).unwrap());
                    }
                    Some(Ok(WsMessage::Close(frame))) => {
                        return Err(frame.map(|f| u16::from(f.code)));
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return Err(None),
                }
            }
        })
        .await
    }

    /// Reads until the server closes; returns the close code.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            if let Err(code) = self.next().await {
                return code;
            }
        }
    }

    /// Reads until a message frame, skipping others.
    pub async fn message(&mut self) -> Message {
        loop {
            if let ServerFrame::Message { message } = self.frame().await {
                return message;
            }
        }
    }
}
