//! The client's network side, with no terminal: log in over REST, list rooms and load
//! history over REST, and [`run`] the loop that feeds keys and live events into the
//! [`State`] and hands it to a drawing function after each change.

use std::time::Duration;

use chatcore::{RoomId, Seq, UserId};
use chatcore_ws::client::ClientEvent;
use chatcore_ws::frames::ServerFrame;
use chatcore_ws::{Client, ClientError, Connect};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::state::{Action, Incoming, Key, RoomEntry, State};

/// Errors of the example, in words.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How to log in.
#[derive(Debug, Clone)]
pub enum Login {
    /// A password account.
    Password {
        /// The username.
        username: String,
        /// Its password.
        password: String,
    },
    /// A guest with this display name.
    Guest(String),
}

/// A logged-in user of one server: its REST API and the token for the WebSocket.
#[derive(Debug, Clone)]
pub struct Session {
    http: reqwest::Client,
    api: String,
    token: String,
    me: UserId,
}

/// How many messages of a room's history are loaded when it is opened.
const HISTORY: usize = 50;

impl Session {
    /// Logs in at `server` (e.g. `http://127.0.0.1:8080`).
    pub async fn login(server: &str, login: &Login) -> Result<Session, BoxError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let api = format!("{}/api/v1", server.trim_end_matches('/'));
        let request = match login {
            Login::Password { username, password } => http
                .post(format!("{api}/auth/login"))
                .json(&json!({ "username": username, "password": password })),
            Login::Guest(name) => http
                .post(format!("{api}/auth/guest"))
                .json(&json!({ "display_name": name })),
        };
        let answer = ok_json(request.send().await?).await?;
        let token = answer["token"].as_str().ok_or("no token in the answer")?;
        let me = answer["user"]["id"]
            .as_i64()
            .ok_or("no user in the answer")?;
        Ok(Session {
            token: token.to_owned(),
            me: UserId(me),
            http,
            api,
        })
    }

    /// The session token (tests find the user by it).
    #[cfg(test)]
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The logged-in user.
    pub fn me(&self) -> UserId {
        self.me
    }

    /// Opens the live connection (reconnecting and resuming on its own).
    pub async fn connect(&self) -> Result<Client, ClientError> {
        let ws = format!("{}/ws", self.api);
        let ws = match ws.strip_prefix("http") {
            Some(rest) => format!("ws{rest}"), // http → ws, https → wss
            None => ws,
        };
        Connect::bearer(ws, &self.token).connect().await
    }

    /// The user's rooms, most recently active first, named for this user.
    pub async fn rooms(&self) -> Result<Vec<RoomEntry>, BoxError> {
        let answer = self.get(format!("{}/rooms", self.api)).await?;
        let rooms: Vec<WireRoom> = serde_json::from_value(answer["rooms"].clone())?;
        Ok(rooms.iter().map(|room| room.entry(self.me)).collect())
    }

    /// The newest messages of `room`, oldest first.
    pub async fn history(&self, room: RoomId) -> Result<Vec<Incoming>, BoxError> {
        let url = format!("{}/rooms/{}/messages?limit={HISTORY}", self.api, room.0);
        let answer = self.get(url).await?;
        let messages: Vec<WireMessage> = serde_json::from_value(answer["messages"].clone())?;
        Ok(messages.into_iter().map(Incoming::from).collect())
    }

    async fn get(&self, url: String) -> Result<Value, BoxError> {
        let request = self.http.get(url).bearer_auth(&self.token);
        ok_json(request.send().await?).await
    }
}

/// The JSON of a successful answer, or the API's error (`code: message`) as the error.
async fn ok_json(res: reqwest::Response) -> Result<Value, BoxError> {
    let status = res.status();
    let body: Value = res.json().await?;
    if status.is_success() {
        return Ok(body);
    }
    let error = &body["error"];
    let code = error["code"].as_str().unwrap_or("error");
    let message = error["message"].as_str().unwrap_or("");
    Err(format!("{status}: {code}: {message}").into())
}

/// A room as the REST API describes it (the fields this client uses).
#[derive(Deserialize)]
struct WireRoom {
    id: RoomId,
    name: Option<String>,
    members: Vec<WireMember>,
    unread: u32,
}

#[derive(Deserialize)]
struct WireMember {
    id: UserId,
    display_name: String,
}

impl WireRoom {
    /// A group by its name, a direct room by the other member's.
    fn entry(&self, me: UserId) -> RoomEntry {
        let other = self.members.iter().find(|m| m.id != me);
        let name = match (&self.name, other) {
            (Some(name), _) => name.as_str(),
            (None, Some(other)) => other.display_name.as_str(),
            (None, None) => "(just you)",
        };
        RoomEntry::new(self.id, name, self.unread)
    }
}

/// A message as the REST API describes it (the fields this client uses).
#[derive(Deserialize)]
struct WireMessage {
    room_id: RoomId,
    seq: Seq,
    sender: WireMember,
    body: String,
    deleted: bool,
    /// `null` (read as `None`) or the attachment, which a terminal does not show.
    media: Option<Value>,
}

impl From<WireMessage> for Incoming {
    fn from(m: WireMessage) -> Self {
        Incoming {
            room: m.room_id,
            seq: m.seq,
            sender_id: m.sender.id,
            sender: m.sender.display_name,
            body: m.body,
            deleted: m.deleted,
            media: m.media.is_some(),
        }
    }
}

/// Runs the client until the user quits or the keys end: each key goes through
/// [`State::on_key`] (sends go out in tasks of their own, so the screen keeps up while one
/// waits for its ack), each server event into the state, and `draw` gets the state after
/// every change. History is loaded when a room is first shown; the read marker follows what
/// the shown room shows.
pub async fn run(
    session: &Session,
    client: &mut Client,
    state: &mut State,
    keys: &mut mpsc::Receiver<Key>,
    mut draw: impl FnMut(&State) -> std::io::Result<()>,
) -> Result<(), BoxError> {
    let mut sends = JoinSet::new();
    if let Some(room) = state.room() {
        load(session, state, room).await;
    }
    loop {
        if let Some((room, seq)) = state.read_to_tell()
            && let Err(err) = client.handle().mark_read(room, seq).await
        {
            state.set_status(&format!("read marker: {err}"));
        }
        draw(state)?;
        tokio::select! {
            key = keys.recv() => match key.map(|key| state.on_key(key)) {
                None | Some(Action::Quit) => return Ok(()),
                Some(Action::Send { room, body }) => {
                    let sender = client.handle();
                    sends.spawn(async move { sender.send(room, &body).await });
                }
                Some(Action::Open(room)) if !state.is_loaded(room) => {
                    load(session, state, room).await;
                }
                Some(Action::Open(_) | Action::Nothing) => {}
            },
            event = client.next_event() => {
                let event = event.ok_or("the connection ended")?;
                on_event(session, state, event).await;
            }
            Some(sent) = sends.join_next() => match sent {
                // The message itself arrives like everyone else's, as a `message` event.
                Ok(Ok(_)) => {}
                Ok(Err(err)) => state.set_status(&format!("not sent: {err}")),
                Err(err) => state.set_status(&format!("not sent: {err}")),
            },
        }
    }
}

async fn on_event(session: &Session, state: &mut State, event: ClientEvent) {
    match event {
        ClientEvent::Frame(
            ServerFrame::Message { message }
            | ServerFrame::Edited { message, .. }
            | ServerFrame::Deleted { message },
        ) => {
            let message = Incoming::from(&message);
            let known = state.on_message(&message);
            if !known {
                // A room this list does not have yet: someone added us.
                reload_rooms(session, state).await;
                state.on_message(&message);
            }
        }
        ClientEvent::Frame(ServerFrame::Room { .. }) => reload_rooms(session, state).await,
        // The server skipped live messages of this room: read them over REST.
        ClientEvent::Frame(ServerFrame::Resync { room_id, .. }) => {
            load(session, state, room_id).await;
        }
        ClientEvent::Frame(ServerFrame::Error { code, message, .. }) => {
            state.set_status(&format!("{code}: {message}"));
        }
        ClientEvent::Closed { reason, .. } => state.set_status(&format!("offline: {reason}")),
        ClientEvent::Resumed => state.set_status("back online"),
        _ => {}
    }
}

async fn load(session: &Session, state: &mut State, room: RoomId) {
    match session.history(room).await {
        Ok(messages) => state.on_history(room, &messages),
        Err(err) => state.set_status(&format!("history: {err}")),
    }
}

async fn reload_rooms(session: &Session, state: &mut State) {
    match session.rooms().await {
        Ok(rooms) => state.set_rooms(rooms),
        Err(err) => state.set_status(&format!("rooms: {err}")),
    }
}
