//! Invite links: what stores keep of them. The token itself is never stored, only its SHA-256
//! and a few leading characters an admin recognises the link by.

use serde::{Deserialize, Serialize};

use super::{RoomId, Timestamp, UserId};

id_type!(
    /// Identifies an invite link (what admins list and revoke it by; never what joins).
    InviteId
);

/// An invite link to a group, as stored and as its admins list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invite {
    /// The invite's id.
    pub id: InviteId,
    /// The group it admits to (only ever this one).
    pub room_id: RoomId,
    /// The first characters of the token, to tell links apart; not enough to join with.
    pub token_prefix: String,
    /// The admin who created it.
    pub created_by: UserId,
    /// When it was created.
    pub created_at: Timestamp,
    /// From this moment on it admits no one.
    pub expires_at: Timestamp,
    /// How many people it may admit in all; `None` for no limit before it expires.
    pub max_uses: Option<u32>,
    /// How many people it has admitted (existing members who follow it are not counted).
    pub uses: u32,
}

impl Invite {
    /// Whether the link still admits someone at `now`: not expired, uses left.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        now < self.expires_at && self.max_uses.is_none_or(|max| self.uses < max)
    }
}

/// What a store needs to record a new invite link.
#[derive(Debug, Clone)]
pub struct NewInvite {
    /// The group.
    pub room_id: RoomId,
    /// SHA-256 of the token (the token itself is never stored).
    pub token_hash: [u8; 32],
    /// The token's first characters (see [`Invite::token_prefix`]).
    pub token_prefix: String,
    /// The admin creating it.
    pub created_by: UserId,
    /// Now.
    pub created_at: Timestamp,
    /// When it stops admitting.
    pub expires_at: Timestamp,
    /// The most people it may admit; `None` for no limit.
    pub max_uses: Option<u32>,
}

/// What [`Store::redeem_invite`](crate::Store::redeem_invite) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redeemed {
    /// The group the invite admits to.
    pub room_id: RoomId,
    /// `true` when the user became a member (and a use was counted); `false` when they already
    /// were one (nothing changed).
    pub joined: bool,
}
