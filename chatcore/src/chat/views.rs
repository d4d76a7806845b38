//! Read models: what a user sees of rooms and other users.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Message, Role, RoomId, RoomKind, RoomSettings, Seq, Timestamp, User, UserId};

/// A user as other users see them (no admin flag, no disabled state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicUser {
    /// The user's id.
    pub id: UserId,
    /// Login name, if the account has one.
    pub username: Option<String>,
    /// Shown name.
    pub display_name: String,
    /// Whether this is a guest.
    pub guest: bool,
}

impl From<&User> for PublicUser {
    fn from(u: &User) -> Self {
        PublicUser {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            guest: u.is_guest,
        }
    }
}

/// A member of a room as shown in room details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberView {
    /// Who.
    #[serde(flatten)]
    pub user: PublicUser,
    /// Their role in the room.
    pub role: Role,
    /// Whether they have a live connection right now.
    pub online: bool,
}

/// A room as one member sees it in the room list or details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoomView {
    /// The room's id.
    pub id: RoomId,
    /// Direct or group.
    pub kind: RoomKind,
    /// Group name; `None` for direct rooms (show the other member's name).
    pub name: Option<String>,
    /// Every member, oldest first.
    pub members: Vec<MemberView>,
    /// The viewer's role.
    pub role: Role,
    /// The newest seq in the room.
    pub last_seq: Seq,
    /// The newest message, if any.
    pub last_message: Option<Message>,
    /// Messages from others after the viewer's read marker (deleted ones excluded).
    pub unread: u64,
    /// Each member's read marker (user id → seq), for read receipts.
    pub read_markers: BTreeMap<UserId, Seq>,
    /// The viewer's own settings for the room: `muted` and `archived` (flattened).
    #[serde(flatten)]
    pub settings: RoomSettings,
    /// When the room was created.
    pub created_at: Timestamp,
}

impl RoomView {
    /// When something last happened in the room (its newest message, or its creation).
    pub fn last_activity(&self) -> Timestamp {
        self.last_message
            .as_ref()
            .map_or(self.created_at, |m| m.created_at)
    }
}
