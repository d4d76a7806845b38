//! Wire frames: the JSON text frames of `docs/protocol.md`, in both directions.
//!
//! The server decodes [`ClientFrame`]s with [`decode`] and encodes its answers with
//! [`Outgoing`]; hub events are encoded once with [`encode_event`]. The Rust client does the
//! opposite and decodes [`ServerFrame`]s. A round-trip test keeps the two sides in one shape.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bytes::Bytes;
use chatcore::{
    AvatarId, EventKind, MediaId, Message, PublicUser, Reaction, RoomChange, RoomId, RoomSettings,
    Sender, Seq, User, UserId,
};
use serde::{Deserialize, Serialize};

mod de;

pub use de::{MediaRefFrame, WireUser};

/// A frame sent by a client. Strings borrow from the input where they can.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientFrame<'a> {
    /// Store a message; answered with `ack` (or `error` with `ref` = `client_id`).
    Send {
        /// Target room.
        room_id: RoomId,
        /// Text (may be empty with media).
        #[serde(borrow)]
        body: Cow<'a, str>,
        /// The sender's idempotency key (1–64 of `[A-Za-z0-9._:-]`).
        #[serde(borrow)]
        client_id: Cow<'a, str>,
        /// Media uploaded to the same room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media_id: Option<MediaId>,
        /// Seq of the quoted message in the same room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<Seq>,
        /// A custom kind the server's host registered; absent for text and media.
        #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
        kind: Option<Cow<'a, str>>,
        /// The custom kind's JSON payload; only with `kind`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload: Option<serde_json::Value>,
    },
    /// Edit an own message.
    Edit {
        /// The room.
        room_id: RoomId,
        /// The message's seq.
        seq: Seq,
        /// The new text.
        #[serde(borrow)]
        body: Cow<'a, str>,
    },
    /// Delete an own message (leaves a tombstone).
    Delete {
        /// The room.
        room_id: RoomId,
        /// The message's seq.
        seq: Seq,
    },
    /// Add the user's reaction to a message.
    React {
        /// The room.
        room_id: RoomId,
        /// The message's seq.
        seq: Seq,
        /// The emoji.
        #[serde(borrow)]
        emoji: Cow<'a, str>,
    },
    /// Take the user's reaction back.
    Unreact {
        /// The room.
        room_id: RoomId,
        /// The message's seq.
        seq: Seq,
        /// The emoji.
        #[serde(borrow)]
        emoji: Cow<'a, str>,
    },
    /// Tell the other members the user is typing.
    Typing {
        /// The room.
        room_id: RoomId,
    },
    /// Move the read marker forward.
    Read {
        /// The room.
        room_id: RoomId,
        /// The newest seq the user has read.
        seq: Seq,
    },
    /// Resume: the last seq seen per room.
    Sync {
        /// Room id → last seen seq (JSON object keys are the ids as strings).
        #[serde(deserialize_with = "de::room_map")]
        rooms: BTreeMap<RoomId, Seq>,
    },
    /// Liveness check; answered with `pong`.
    Ping,
}

/// Why a client frame could not be decoded. Answered with an `error` frame, code `invalid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// A short human explanation (never longer than 200 characters).
    pub message: String,
    /// The `client_id` of the frame, if one could be read, to echo as `ref`.
    pub client_id: Option<String>,
}

/// Decodes one text frame. Never panics, whatever the input.
pub fn decode(text: &str) -> Result<ClientFrame<'_>, DecodeError> {
    serde_json::from_str(text).map_err(|err| {
        let message = if err.is_data() {
            let mut m = format!("invalid frame: {err}");
            truncate(&mut m, 200);
            m
        } else {
            "malformed JSON: expected one object with a \"type\"".to_owned()
        };
        #[derive(Deserialize)]
        struct RefOnly {
            client_id: Option<String>,
        }
        let client_id = serde_json::from_str::<RefOnly>(text)
            .ok()
            .and_then(|r| r.client_id)
            .filter(|id| id.len() <= 64);
        DecodeError { message, client_id }
    })
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// A room and its newest seq, as listed in `hello`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSeq {
    /// The room.
    pub room_id: RoomId,
    /// Its newest seq when the connection opened.
    pub last_seq: Seq,
}

/// A frame the server sends that is not a hub event: borrowed, encoded per connection.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outgoing<'a> {
    /// Right after connect.
    Hello {
        /// The connected user.
        user: HelloUser<'a>,
        /// The user's rooms and their newest seq.
        rooms: &'a [RoomSeq],
    },
    /// A `send` was committed.
    Ack {
        /// The request's idempotency key.
        client_id: &'a str,
        /// The stored message.
        message: &'a Message,
    },
    /// A stored message, delivered by resume or backfill (live ones go through [`encode_event`]).
    Message {
        /// The message.
        message: &'a Message,
    },
    /// Every missed message of a `sync` has been sent.
    Synced {
        /// Room id → the last seq delivered on this connection.
        rooms: &'a BTreeMap<RoomId, Seq>,
    },
    /// The gap was too large: page history over REST up to `last_seq`.
    Resync {
        /// The room.
        room_id: RoomId,
        /// Everything up to here must be fetched over REST; live delivery continues after it.
        last_seq: Seq,
    },
    /// A request failed.
    Error {
        /// Stable machine-readable code, e.g. `forbidden`.
        code: &'a str,
        /// Human message.
        message: &'a str,
        /// The failed request's `client_id`, when it had one.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a str>,
        /// The offending field, for validation errors.
        #[serde(skip_serializing_if = "Option::is_none")]
        field: Option<&'a str>,
    },
    /// Answer to `ping`.
    Pong,
}

/// The user in `hello`: the public fields plus the server-admin flag and the user's own
/// settings.
#[derive(Debug, Serialize)]
pub struct HelloUser<'a> {
    /// The user's id.
    pub id: UserId,
    /// Login name, if any.
    pub username: Option<&'a str>,
    /// Shown name.
    pub display_name: &'a str,
    /// Whether this is a guest.
    pub guest: bool,
    /// Whether the user is a server admin.
    pub admin: bool,
    /// The current profile picture's id, if any.
    pub avatar: Option<AvatarId>,
    /// Whether the user hides when they were last seen.
    pub hide_last_seen: bool,
}

impl<'a> From<&'a User> for HelloUser<'a> {
    fn from(u: &'a User) -> Self {
        HelloUser {
            id: u.id,
            username: u.username.as_deref(),
            display_name: &u.display_name,
            guest: u.is_guest,
            admin: u.is_server_admin,
            avatar: u.avatar.as_ref().map(|a| a.id),
            hide_last_seen: u.hide_last_seen,
        }
    }
}

impl Outgoing<'_> {
    /// The JSON text of this frame.
    pub fn encode(&self) -> Bytes {
        Bytes::from(to_json(self))
    }
}

/// The same shapes as [`Outgoing`] for hub events, borrowed from the event.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum EventFrame<'a> {
    Message {
        message: &'a Message,
    },
    Edited {
        message: &'a Message,
        newly_mentioned: &'a [UserId],
    },
    Deleted {
        message: &'a Message,
    },
    Reactions {
        room_id: RoomId,
        seq: Seq,
        reactions: &'a [Reaction],
    },
    Typing {
        room_id: RoomId,
        user: &'a Sender,
    },
    Presence {
        user_id: UserId,
        online: bool,
    },
    Read {
        room_id: RoomId,
        user_id: UserId,
        seq: Seq,
    },
    Room {
        room_id: RoomId,
        event: RoomChange,
        user_id: UserId,
    },
    RoomSettings {
        room_id: RoomId,
        #[serde(flatten)]
        settings: RoomSettings,
    },
    User {
        user: &'a PublicUser,
    },
}

/// Encodes a hub event as its wire frame. Pass this to [`chatcore::Event::encoded`] so every
/// event is serialized once and the bytes shared by every socket. Event kinds this version does
/// not know encode as `{"type":"unknown"}`, which clients ignore.
pub fn encode_event(kind: &EventKind) -> Bytes {
    let frame = match kind {
        EventKind::Message(message) => EventFrame::Message { message },
        EventKind::Edited {
            message,
            newly_mentioned,
        } => EventFrame::Edited {
            message,
            newly_mentioned,
        },
        EventKind::Deleted(message) => EventFrame::Deleted { message },
        EventKind::Reactions(r) => EventFrame::Reactions {
            room_id: r.room_id,
            seq: r.seq,
            reactions: &r.reactions,
        },
        EventKind::Typing { room_id, user } => EventFrame::Typing {
            room_id: *room_id,
            user,
        },
        EventKind::Presence { user_id, online } => EventFrame::Presence {
            user_id: *user_id,
            online: *online,
        },
        EventKind::Read {
            room_id,
            user_id,
            seq,
        } => EventFrame::Read {
            room_id: *room_id,
            user_id: *user_id,
            seq: *seq,
        },
        EventKind::Room {
            room_id,
            change,
            user_id,
        } => EventFrame::Room {
            room_id: *room_id,
            event: *change,
            user_id: *user_id,
        },
        EventKind::Settings { now, .. } => EventFrame::RoomSettings {
            room_id: now.room_id,
            settings: now.settings,
        },
        EventKind::User(user) => EventFrame::User { user },
        _ => return Bytes::from_static(br#"{"type":"unknown"}"#),
    };
    Bytes::from(to_json(&frame))
}

fn to_json(value: &impl Serialize) -> Vec<u8> {
    // Serializing these plain structs to a Vec cannot fail: no maps with non-string keys other
    // than integer ids, no I/O.
    serde_json::to_vec(value).unwrap_or_else(|err| {
        tracing::error!(%err, "frame encoding failed");
        br#"{"type":"error","code":"internal","message":"encoding failed"}"#.to_vec()
    })
}

/// A frame received by a client (the Rust [`Client`](crate::Client) decodes these).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ServerFrame {
    /// Right after connect: who the connection is, and each room's newest seq.
    Hello {
        /// The connected user.
        user: WireUser,
        /// The user's rooms.
        rooms: Vec<RoomSeq>,
    },
    /// A `send` of this connection was committed.
    Ack {
        /// The request's idempotency key.
        client_id: String,
        /// The stored message.
        #[serde(with = "de::message")]
        message: Message,
    },
    /// A new message (live, resumed or backfilled), in seq order per room.
    Message {
        /// The message.
        #[serde(with = "de::message")]
        message: Message,
    },
    /// A message was edited.
    Edited {
        /// The message after the edit.
        #[serde(with = "de::message")]
        message: Message,
        /// The members the edit names whom the text before it did not: they are told as of a
        /// new message naming them.
        #[serde(default)]
        newly_mentioned: Vec<UserId>,
    },
    /// A message was deleted.
    Deleted {
        /// The tombstone.
        #[serde(with = "de::message")]
        message: Message,
    },
    /// A message's reactions changed.
    Reactions {
        /// The message's room.
        room_id: RoomId,
        /// The message's seq.
        seq: Seq,
        /// All its reactions now.
        reactions: Vec<Reaction>,
    },
    /// Another member is typing.
    Typing {
        /// The room.
        room_id: RoomId,
        /// Who.
        #[serde(with = "de::sender")]
        user: Sender,
    },
    /// A user sharing a room went on- or offline.
    Presence {
        /// Who.
        user_id: UserId,
        /// Whether they are online now.
        online: bool,
    },
    /// A member's read marker moved.
    Read {
        /// The room.
        room_id: RoomId,
        /// Whose marker.
        user_id: UserId,
        /// The new marker.
        seq: Seq,
    },
    /// Membership or room metadata changed.
    Room {
        /// The room.
        room_id: RoomId,
        /// `joined`, `left`, `removed`, `renamed` or `role`.
        event: String,
        /// The member concerned.
        user_id: UserId,
    },
    /// This user changed their own settings for a room (on this or another device).
    RoomSettings {
        /// The room.
        room_id: RoomId,
        /// Whether the user muted it.
        muted: bool,
        /// Whether the user archived it.
        archived: bool,
    },
    /// A user sharing a room (or this user, on another device) changed their display name or
    /// picture: what others see of them now. Idempotent: apply it by user id.
    User {
        /// The user's public fields (`admin` and `hide_last_seen` are never sent: false).
        user: WireUser,
    },
    /// All missed messages of a `sync` were sent.
    Synced {
        /// Room id → last seq delivered.
        #[serde(deserialize_with = "de::room_map")]
        rooms: BTreeMap<RoomId, Seq>,
    },
    /// Page history over REST up to `last_seq`; live delivery continues after it.
    Resync {
        /// The room.
        room_id: RoomId,
        /// The last seq to fetch over REST.
        last_seq: Seq,
    },
    /// A request failed.
    Error {
        /// Stable code.
        code: String,
        /// Human message.
        message: String,
        /// The failed request's `client_id`.
        #[serde(rename = "ref", default)]
        reference: Option<String>,
        /// The offending field, for validation errors.
        #[serde(default)]
        field: Option<String>,
    },
    /// Answer to `ping`.
    Pong,
    /// A frame type this client version does not know (ignored).
    #[serde(other)]
    Unknown,
}

impl ServerFrame {
    /// Decodes one text frame from the server.
    pub fn decode(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests;
