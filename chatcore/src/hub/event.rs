//! What the hub delivers: events, shared by every subscriber and encoded at most once.

use std::sync::OnceLock;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::chat::PublicUser;
use crate::model::{MemberSettings, Message, MessageReactions, RoomId, Sender, Seq, UserId};

/// A membership or room change, as announced to the room's live members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomChange {
    /// `user_id` became a member (also sent for a newly created room).
    Joined,
    /// `user_id` left on their own.
    Left,
    /// `user_id` was removed by an admin.
    Removed,
    /// The room was renamed.
    Renamed,
    /// `user_id`'s role changed.
    Role,
}

/// Something that happened in a room (or to a user) that live connections should see.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// A new message was stored.
    Message(Message),
    /// A message was edited.
    Edited {
        /// The message after the edit.
        message: Message,
        /// The members the edit names (see [`Message::mentions`]) whom the text before it did
        /// not, each once: clients notify them as they would of a new message naming them.
        newly_mentioned: Vec<UserId>,
    },
    /// A message was deleted (the tombstone).
    Deleted(Message),
    /// A member added or removed a reaction: the message's reactions now.
    Reactions(MessageReactions),
    /// A member is typing (not stored).
    Typing {
        /// The room.
        room_id: RoomId,
        /// Who is typing.
        user: Sender,
    },
    /// A user's first connection opened or last one closed.
    Presence {
        /// Whose presence changed.
        user_id: UserId,
        /// Whether they now have a live connection.
        online: bool,
    },
    /// A member's read marker moved.
    Read {
        /// The room.
        room_id: RoomId,
        /// Whose marker.
        user_id: UserId,
        /// The marker's new value.
        seq: Seq,
    },
    /// A user changed their own settings for a room (on any device). Only that user's live
    /// connections receive it.
    Settings {
        /// Whose settings.
        user_id: UserId,
        /// The room and the settings now.
        now: MemberSettings,
    },
    /// A user changed what others see of them (display name, picture): delivered to everyone
    /// who shares a room with them and to their own connections, once per connection.
    User(PublicUser),
    /// Membership or room metadata changed.
    Room {
        /// The room.
        room_id: RoomId,
        /// What changed.
        change: RoomChange,
        /// The member concerned (the actor for renames).
        user_id: UserId,
    },
}

/// An event as the hub fans it out: one allocation shared by every subscriber (`Arc<Event>`),
/// with a slot for its wire encoding so a transport serializes it once, not once per socket.
#[derive(Debug)]
pub struct Event {
    kind: EventKind,
    encoded: OnceLock<Bytes>,
}

impl Event {
    /// Wraps an event kind.
    pub fn new(kind: EventKind) -> Self {
        Event {
            kind,
            encoded: OnceLock::new(),
        }
    }

    /// What happened.
    pub fn kind(&self) -> &EventKind {
        &self.kind
    }

    /// The room this event belongs to, if any (presence belongs to a user).
    pub fn room_id(&self) -> Option<RoomId> {
        match &self.kind {
            EventKind::Message(m)
            | EventKind::Edited { message: m, .. }
            | EventKind::Deleted(m) => Some(m.room_id),
            EventKind::Reactions(r) => Some(r.room_id),
            EventKind::Settings { now, .. } => Some(now.room_id),
            EventKind::Typing { room_id, .. }
            | EventKind::Read { room_id, .. }
            | EventKind::Room { room_id, .. } => Some(*room_id),
            EventKind::Presence { .. } | EventKind::User(_) => None,
        }
    }

    /// The wire encoding of this event, computed by `encode` on first use and shared after.
    /// Every caller must pass the same encoder (a transport has exactly one).
    pub fn encoded(&self, encode: impl FnOnce(&EventKind) -> Bytes) -> Bytes {
        self.encoded.get_or_init(|| encode(&self.kind)).clone()
    }
}
