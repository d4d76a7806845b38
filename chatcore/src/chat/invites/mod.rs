//! Invite links: a group admin hands out a link that lets whoever holds it join the group.
//!
//! The link carries a 256-bit token; stores keep only its SHA-256 (and its first characters,
//! so admins can tell links apart). A link admits to its own group only, until it expires, is
//! used up or is revoked. Whoever presents a link that does not admit (unknown, malformed,
//! expired, used up, revoked) gets the same `NotFound("invite")`: a holder of a dead link
//! learns nothing about which it was, or whether it ever existed; admins see each link's
//! state in their list. Failed presentations are counted per user
//! ([`ChatConfig::invite_failures_per_user`](super::ChatConfig::invite_failures_per_user)),
//! transports count them per address too, so tokens cannot be guessed.

mod token;

use std::time::Duration;

use serde::Serialize;

use super::views::RoomView;
use super::{Actor, Chat};
use crate::error::{Entity, Error, Result, StoreError};
use crate::hub::RoomChange;
use crate::model::{Invite, InviteId, NewInvite, RoomId, Timestamp};
use token::InviteToken;

/// How long a link works when its creator does not say (7 days).
pub const DEFAULT_INVITE_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// The shortest and the longest a link may work (1 minute, 30 days).
pub const INVITE_LIFETIMES: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(60)..=Duration::from_secs(30 * 24 * 3600);
/// The most people one link may be limited to admitting.
pub const MAX_INVITE_USES: u32 = 100_000;

/// What a new invite link should allow.
#[derive(Debug, Clone, Copy, Default)]
pub struct InviteOptions {
    /// How long it works ([`DEFAULT_INVITE_LIFETIME`] when `None`; within [`INVITE_LIFETIMES`]).
    pub lifetime: Option<Duration>,
    /// How many people it may admit (1 to [`MAX_INVITE_USES`]); `None` for no limit.
    pub max_uses: Option<u32>,
}

/// An invite link as its group's admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InviteView {
    /// The stored link.
    #[serde(flatten)]
    pub invite: Invite,
    /// Whether it admits anyone now.
    pub state: InviteState,
}

/// Whether a link admits anyone now, and if not why (shown to admins only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteState {
    /// It admits.
    Active,
    /// Its time is up.
    Expired,
    /// It admitted as many people as it may.
    UsedUp,
}

/// A link just created: the only time its token is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedInvite {
    /// The link as admins list it.
    #[serde(flatten)]
    pub view: InviteView,
    /// The secret that goes into the link (43 characters of URL-safe base64).
    pub token: String,
}

/// What a link shows before anyone follows it: enough to decide, nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvitePreview {
    /// The group's name.
    pub room_name: String,
    /// How many members it has.
    pub member_count: usize,
    /// When the link stops working.
    pub expires_at: Timestamp,
}

impl Chat {
    /// Creates an invite link to a group (group admins only; `Forbidden` for others and for
    /// direct chats, `NotFound("room")` for non-members). Refused as `Invalid("lifetime")` or
    /// `Invalid("max_uses")` outside the documented bounds, and as `Conflict("invite")` when
    /// the group already has [`max_invites_per_room`](super::ChatConfig::max_invites_per_room)
    /// usable links (creating one clears the group's expired and used-up links).
    pub async fn create_invite(
        &self,
        actor: &Actor,
        room: RoomId,
        options: InviteOptions,
    ) -> Result<CreatedInvite> {
        let lifetime = options.lifetime.unwrap_or(DEFAULT_INVITE_LIFETIME);
        if !INVITE_LIFETIMES.contains(&lifetime) {
            return Err(Error::invalid(
                "lifetime",
                "an invite link works for 1 minute to 30 days",
            ));
        }
        if options
            .max_uses
            .is_some_and(|n| !(1..=MAX_INVITE_USES).contains(&n))
        {
            return Err(Error::invalid(
                "max_uses",
                format!("an invite link admits 1 to {MAX_INVITE_USES} people, or any number"),
            ));
        }
        self.require_invite_admin(actor, room).await?;
        let token = InviteToken::generate();
        let now = self.now();
        let new = NewInvite {
            room_id: room,
            token_hash: token.hash(),
            token_prefix: token.prefix(),
            created_by: actor.id(),
            created_at: now,
            expires_at: now.plus(lifetime),
            max_uses: options.max_uses,
        };
        let max = self.config().max_invites_per_room;
        let invite = self
            .store()
            .create_invite(new, max)
            .await
            .map_err(|err| match err {
                StoreError::TooManyInvites => Error::Conflict {
                    field: "invite",
                    reason: "the group has the most invite links allowed; revoke one first",
                },
                other => other.into(),
            })?;
        Ok(CreatedInvite {
            view: self.invite_view(invite),
            token: token.as_str().to_owned(),
        })
    }

    /// Every invite link of a group with its state, oldest first (group admins only, refused
    /// as for [`Chat::create_invite`]).
    pub async fn invites(&self, actor: &Actor, room: RoomId) -> Result<Vec<InviteView>> {
        self.require_invite_admin(actor, room).await?;
        let invites = self.store().invites(room).await?;
        Ok(invites.into_iter().map(|i| self.invite_view(i)).collect())
    }

    /// Revokes an invite link of a group: from now on it admits no one (group admins only,
    /// refused as for [`Chat::create_invite`]; `NotFound("invite")` when the group has no such
    /// link, including another group's link).
    pub async fn revoke_invite(&self, actor: &Actor, room: RoomId, invite: InviteId) -> Result<()> {
        self.require_invite_admin(actor, room).await?;
        if !self.store().delete_invite(room, invite).await? {
            return Err(Error::NotFound("invite"));
        }
        Ok(())
    }

    /// What the link with `token` leads to, for anyone holding it (no session needed: the
    /// token is the permission). `NotFound("invite")` when it admits no one (see the module
    /// docs). Callers without a user count failures themselves (the HTTP routes do, per
    /// address).
    pub async fn preview_invite(&self, token: &str) -> Result<InvitePreview> {
        let invite = self.usable_invite(token).await?;
        let room = self.store().room(invite.room_id).await?;
        let room_name = room.and_then(|r| r.name).ok_or(Error::NotFound("invite"))?;
        let member_count = self.store().members(invite.room_id).await?.len();
        Ok(InvitePreview {
            room_name,
            member_count,
            expires_at: invite.expires_at,
        })
    }

    /// Joins the actor to the group of the link with `token` and returns the room. Following a
    /// link of a group one is already in changes nothing and succeeds (also when the link is
    /// used up or expired since). `NotFound("invite")` when it admits no one;
    /// `Conflict("room")` when the group is full. Each `NotFound` counts against the actor's
    /// [`invite_failures_per_user`](super::ChatConfig::invite_failures_per_user); over it,
    /// `RateLimited` without looking.
    pub async fn join_by_invite(&self, actor: &Actor, token: &str) -> Result<RoomView> {
        let throttle = &self.inner.invite_failures;
        let attempt = throttle
            .acquire(actor.id(), self.now())
            .await
            .map_err(|retry_after| Error::RateLimited { retry_after })?;
        let result = self.redeem(actor, token).await;
        if !matches!(result, Err(Error::NotFound(_))) {
            throttle.release(&actor.id(), attempt).await;
        }
        let room = result?;
        self.room_view(actor, room).await
    }

    async fn redeem(&self, actor: &Actor, token: &str) -> Result<RoomId> {
        let token = InviteToken::presented(token).ok_or(Error::NotFound("invite"))?;
        let max = self.config().max_group_members;
        let redeemed = self
            .store()
            .redeem_invite(&token.hash(), actor.id(), self.now(), max)
            .await
            .map_err(|err| match err {
                StoreError::Missing(Entity::Invite | Entity::Room) => Error::NotFound("invite"),
                StoreError::RoomFull => Error::Conflict {
                    field: "room",
                    reason: "the group is full",
                },
                other => other.into(),
            })?;
        if redeemed.joined {
            tracing::info!(user = %actor.id(), room = %redeemed.room_id, "joined by invite");
            self.hub().join(actor.id(), redeemed.room_id);
            self.announce(redeemed.room_id, RoomChange::Joined, actor.id());
        }
        Ok(redeemed.room_id)
    }

    /// The link with `token` if it admits someone now, else `NotFound("invite")`.
    async fn usable_invite(&self, token: &str) -> Result<Invite> {
        let token = InviteToken::presented(token).ok_or(Error::NotFound("invite"))?;
        match self.store().invite_by_hash(&token.hash()).await? {
            Some(invite) if invite.is_usable(self.now()) => Ok(invite),
            _ => Err(Error::NotFound("invite")),
        }
    }

    /// The actor may manage the group's links: a member (`NotFound("room")` otherwise), of a
    /// group, as its admin (`Forbidden` otherwise).
    async fn require_invite_admin(&self, actor: &Actor, room: RoomId) -> Result<()> {
        let me = self.membership(actor, room).await?;
        self.require_group_admin(&me).await
    }

    fn invite_view(&self, invite: Invite) -> InviteView {
        let now = self.now();
        let state = if now >= invite.expires_at {
            InviteState::Expired
        } else if !invite.is_usable(now) {
            InviteState::UsedUp
        } else {
            InviteState::Active
        };
        InviteView { invite, state }
    }
}

#[cfg(test)]
mod tests;
