//! Read models: what a user sees of rooms and other users.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{
    AvatarId, Message, Role, RoomId, RoomKind, RoomSettings, Seq, Timestamp, User, UserId,
};

/// A user as other users see them (no admin flag, no disabled state, no settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicUser {
    /// The user's id.
    pub id: UserId,
    /// Login name, if the account has one.
    pub username: Option<String>,
    /// Shown name.
    pub display_name: String,
    /// Whether this is a guest.
    pub guest: bool,
    /// The current profile picture's id (fetch it at
    /// `/api/v1/users/{id}/avatar/{avatar}`), `None` without one.
    pub avatar: Option<AvatarId>,
}

impl From<&User> for PublicUser {
    fn from(u: &User) -> Self {
        PublicUser {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            guest: u.is_guest,
            avatar: u.avatar.as_ref().map(|a| a.id),
        }
    }
}

/// A user on their own, as someone who may see them sees them (`GET /api/v1/users/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserView {
    /// Who.
    #[serde(flatten)]
    pub user: PublicUser,
    /// When they were last seen, under the rule of [`MemberView::last_seen`]: only when the
    /// viewer shares a direct room with them and neither hides it.
    pub last_seen: Option<Timestamp>,
}

/// When `user` was last seen, as `viewer` may see it where the two are together in a room that
/// is `direct` or not: only in a direct room, never of oneself, and only when neither hides
/// it (reciprocal: who hides their own sees nobody's).
pub(super) fn last_seen(direct: bool, viewer: &User, user: &User) -> Option<Timestamp> {
    (direct && viewer.id != user.id && !viewer.hide_last_seen && !user.hide_last_seen)
        .then_some(user.last_active_at)
}

/// A member of a room as shown in room details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberView {
    /// Who.
    #[serde(flatten)]
    pub user: PublicUser,
    /// Their role in the room.
    pub role: Role,
    /// Whether they have a live connection right now (shown to every member, whatever
    /// anyone's `hide_last_seen`).
    pub online: bool,
    /// When they were last seen (their last activity, or when their last connection closed):
    /// only in a direct room, only for the other member, and only when neither of the two
    /// hides it (reciprocal: who hides their own sees nobody's). `None` otherwise.
    pub last_seen: Option<Timestamp>,
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
