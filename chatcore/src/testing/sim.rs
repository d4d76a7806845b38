//! A simulated network between clients and a [`Chat`]: every frame either way may be dropped,
//! duplicated, held back behind the next one (reordered) or end the connection, as a bad
//! mobile link would. [`SimClient`] speaks through it the way a real client must (a
//! `client_id` on every send and retries until acked, `seq` to drop duplicates and find gaps,
//! history reads to fill them and to resume after a reconnect), so a test can prove the
//! delivery promises hold under it: every acked message is delivered to every member once, in
//! seq order.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use chatcore::{Chat, SendMessage};
//! use chatcore::testing::{Faults, SimClient, SimNetwork};
//!
//! let chat = Chat::in_memory();
//! let ann = chat.external_user("app:1", "Ann").await.unwrap();
//! let bob = chat.external_user("app:2", "Bob").await.unwrap();
//! let room = chat.open_direct(&ann, bob.id()).await.unwrap().id;
//!
//! let net = SimNetwork::new(Faults { drop: 0.1, duplicate: 0.1, reorder: 0.1, disconnect: 0.02 }, 1);
//! let mut client = SimClient::new(&net, &chat, ann);
//! let sent = client
//!     .send(SendMessage { room_id: room, body: "hi".into(), client_id: Some("m1".into()), ..Default::default() })
//!     .await
//!     .unwrap();
//! client.catch_up(room).await;
//! assert_eq!(client.delivered(room), &[sent][..]);
//! # }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::rng::Rng;
use crate::chat::{Actor, Chat, SendMessage};
use crate::hub::EventKind;
use crate::model::{Message, RoomId, Seq};

/// How long a [`SimClient`] waits for an answer before it asks again (a lost frame is
/// indistinguishable from a slow one). Under `tokio::time::pause` this costs no real time.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Messages per history page a [`SimClient`] asks for.
const PAGE: u32 = 100;

/// Frames queued per direction of one connection.
const LINK_CAPACITY: usize = 1024;

/// The chance of each fault, per frame and direction (each between 0 and 1).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// The frame is lost.
    pub drop: f64,
    /// The frame arrives twice.
    pub duplicate: f64,
    /// The frame is held back and arrives after the next frame (lost if none follows).
    pub reorder: f64,
    /// The connection breaks instead of carrying the frame.
    pub disconnect: f64,
}

/// The network every [`SimClient`] of a test connects through: the faults and the one seeded
/// random source they are drawn from, so a run can be replayed.
pub struct SimNetwork {
    faults: Faults,
    rng: Mutex<Rng>,
}

impl SimNetwork {
    /// A network with these faults, drawn from a generator seeded with `seed`.
    pub fn new(faults: Faults, seed: u64) -> Arc<Self> {
        Arc::new(SimNetwork {
            faults,
            rng: Mutex::new(Rng::new(seed)),
        })
    }

    fn roll(&self) -> Fate {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let f = self.faults;
        if rng.chance(f.disconnect) {
            Fate::Disconnect
        } else if rng.chance(f.drop) {
            Fate::Drop
        } else if rng.chance(f.duplicate) {
            Fate::Duplicate
        } else if rng.chance(f.reorder) {
            Fate::HoldBack
        } else {
            Fate::Deliver
        }
    }
}

enum Fate {
    Deliver,
    Drop,
    Duplicate,
    HoldBack,
    Disconnect,
}

/// The connection broke.
struct Broken;

/// One direction of a connection, applying the network's faults to what is sent.
struct Lossy<T> {
    tx: mpsc::Sender<T>,
    net: Arc<SimNetwork>,
    held: Option<T>,
}

impl<T: Clone> Lossy<T> {
    async fn send(&mut self, frame: T) -> Result<(), Broken> {
        match self.net.roll() {
            Fate::Disconnect => return Err(Broken),
            Fate::Drop => return Ok(()),
            Fate::HoldBack if self.held.is_none() => {
                self.held = Some(frame);
                return Ok(());
            }
            Fate::Duplicate => {
                self.tx.send(frame.clone()).await.map_err(|_| Broken)?;
                self.tx.send(frame).await.map_err(|_| Broken)?;
            }
            Fate::HoldBack | Fate::Deliver => self.tx.send(frame).await.map_err(|_| Broken)?,
        }
        if let Some(held) = self.held.take() {
            self.tx.send(held).await.map_err(|_| Broken)?;
        }
        Ok(())
    }
}

/// Client to chat.
#[derive(Debug, Clone)]
enum Up {
    Send(SendMessage),
    Sync { room: RoomId, after: Seq },
}

/// Chat to client.
#[derive(Debug, Clone)]
enum Down {
    Sent {
        client_id: Option<String>,
        result: Result<Message, &'static str>,
    },
    Message(Message),
    Page {
        room: RoomId,
        after: Seq,
        messages: Vec<Message>,
    },
}

/// The client's end of one connection; dropping it ends the connection.
struct Connection {
    up: Lossy<Up>,
    down: mpsc::Receiver<Down>,
}

impl Connection {
    fn open(net: &Arc<SimNetwork>, chat: &Chat, actor: &Actor) -> Self {
        let (up_tx, up_rx) = mpsc::channel(LINK_CAPACITY);
        let (down_tx, down) = mpsc::channel(LINK_CAPACITY);
        let down_tx = Lossy {
            tx: down_tx,
            net: net.clone(),
            held: None,
        };
        tokio::spawn(serve(chat.clone(), actor.clone(), up_rx, down_tx));
        Connection {
            up: Lossy {
                tx: up_tx,
                net: net.clone(),
                held: None,
            },
            down,
        }
    }
}

/// The chat's end of a connection: what a transport does, over the lossy links. Ends when
/// either link breaks, the client goes away or the chat closes the subscription.
async fn serve(chat: Chat, actor: Actor, mut up: mpsc::Receiver<Up>, mut down: Lossy<Down>) {
    let Ok((mut feed, _rooms)) = chat.connect(&actor).await else {
        return;
    };
    loop {
        let frame = tokio::select! {
            request = up.recv() => match request {
                None => return,
                Some(Up::Send(msg)) => {
                    let client_id = msg.client_id.clone();
                    let result = chat.send(&actor, msg).await.map_err(|e| e.code());
                    Down::Sent { client_id, result }
                }
                Some(Up::Sync { room, after }) => {
                    match chat.messages_after(&actor, room, after, PAGE).await {
                        Ok(messages) => Down::Page { room, after, messages },
                        // The client asks again when no page comes.
                        Err(_) => continue,
                    }
                }
            },
            event = feed.recv() => match event {
                Err(_closed) => return,
                Ok(event) => match event.kind() {
                    EventKind::Message(m) => Down::Message(m.clone()),
                    _ => continue,
                },
            },
        };
        if down.send(frame).await.is_err() {
            return;
        }
    }
}

/// A chat client over a [`SimNetwork`] that keeps the client's side of the delivery contract:
/// it reconnects when the connection breaks, retries a send with the same `client_id` until it
/// is answered, keeps each room's messages in seq order without duplicates, and reads history
/// to fill a gap or to catch up.
pub struct SimClient {
    net: Arc<SimNetwork>,
    chat: Chat,
    actor: Actor,
    conn: Option<Connection>,
    delivered: HashMap<RoomId, Vec<Message>>,
    connections: u64,
}

impl SimClient {
    /// A client of `actor`'s, not connected yet (it connects on first use).
    pub fn new(net: &Arc<SimNetwork>, chat: &Chat, actor: Actor) -> Self {
        SimClient {
            net: net.clone(),
            chat: chat.clone(),
            actor,
            conn: None,
            delivered: HashMap::new(),
            connections: 0,
        }
    }

    /// The messages of `room` this client has been delivered, in seq order, each once.
    pub fn delivered(&self, room: RoomId) -> &[Message] {
        self.delivered.get(&room).map_or(&[], Vec::as_slice)
    }

    /// How many connections this client opened (one more after every break).
    pub fn connections(&self) -> u64 {
        self.connections
    }

    /// Sends `msg` until the chat answers it, over as many retries and reconnects as it takes;
    /// `msg.client_id` must be set, so that retries store it once. Returns the stored message,
    /// or the code of an error a retry would not cure (`storage`, `unavailable` and
    /// `rate_limited` are retried).
    pub async fn send(&mut self, msg: SendMessage) -> Result<Message, &'static str> {
        assert!(msg.client_id.is_some(), "a retried send needs a client_id");
        loop {
            self.request(Up::Send(msg.clone())).await;
            while let Some(frame) = self.next_frame().await {
                match frame {
                    Down::Sent { client_id, result } if client_id == msg.client_id => {
                        match result {
                            Err("storage" | "unavailable" | "rate_limited") => break,
                            done => return done,
                        }
                    }
                    other => self.take(other).await,
                }
            }
        }
    }

    /// Reads `room`'s history after the last message delivered until there is no more, as a
    /// client does after a reconnect.
    pub async fn catch_up(&mut self, room: RoomId) {
        loop {
            let after = self.last_seq(room);
            self.request(Up::Sync { room, after }).await;
            while let Some(frame) = self.next_frame().await {
                match frame {
                    Down::Page {
                        room: r,
                        after: a,
                        messages,
                    } if r == room && a == after => {
                        if messages.is_empty() {
                            return;
                        }
                        self.accept_page(room, messages);
                        break;
                    }
                    other => self.take(other).await,
                }
            }
        }
    }

    fn last_seq(&self, room: RoomId) -> Seq {
        self.delivered(room).last().map_or(0, |m| m.seq)
    }

    /// Sends a frame, connecting first if needed; a break drops the connection (the frame is
    /// lost, and the caller's wait for an answer times out).
    async fn request(&mut self, frame: Up) {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => {
                self.connections += 1;
                self.conn
                    .insert(Connection::open(&self.net, &self.chat, &self.actor))
            }
        };
        if conn.up.send(frame).await.is_err() {
            self.conn = None;
        }
    }

    /// The next frame from the chat, or `None` after [`RETRY_AFTER`] without one or when the
    /// connection broke (then it is dropped, and the next request reconnects).
    async fn next_frame(&mut self) -> Option<Down> {
        let conn = self.conn.as_mut()?;
        match tokio::time::timeout(RETRY_AFTER, conn.down.recv()).await {
            Ok(Some(frame)) => Some(frame),
            Ok(None) => {
                self.conn = None;
                None
            }
            Err(_elapsed) => None,
        }
    }

    /// Handles a frame that answers nothing being waited for.
    async fn take(&mut self, frame: Down) {
        match frame {
            Down::Message(m) => {
                let room = m.room_id;
                if m.seq > self.last_seq(room) + 1 {
                    // A gap: ask for what is missing (if this is lost, the next message or a
                    // catch-up asks again).
                    let after = self.last_seq(room);
                    self.request(Up::Sync { room, after }).await;
                } else {
                    self.accept(m);
                }
            }
            Down::Page { room, messages, .. } => self.accept_page(room, messages),
            // The answer to a send given up on, or repeated by the network.
            Down::Sent { .. } => {}
        }
    }

    fn accept_page(&mut self, room: RoomId, messages: Vec<Message>) {
        for m in messages.into_iter().filter(|m| m.room_id == room) {
            self.accept(m);
        }
    }

    /// Keeps `m` if it is the room's next message; a duplicate or one past a gap is dropped.
    fn accept(&mut self, m: Message) {
        if m.seq == self.last_seq(m.room_id) + 1 {
            self.delivered.entry(m.room_id).or_default().push(m);
        }
    }
}
