//! Who may find whom, and who may start a conversation with whom: [`Discovery`].

use std::fmt;
use std::str::FromStr;

use super::Chat;
use crate::error::{Error, Result};
use crate::model::{User, UserId};
use crate::store::Among;

/// Who may find and contact whom: the operator's answer to "can a stranger list my users and
/// write to them?" (see [`ChatConfig::discovery`](super::ChatConfig::discovery)).
///
/// One rule covers all three ways of reaching someone new: finding them with
/// [`Chat::search_users`], opening a direct chat ([`Chat::open_direct`]) and adding them to a
/// group ([`Chat::create_group`], [`Chat::add_member`]). A search lists exactly the users the
/// searcher may then open a chat with. Sharing a room (of any kind) always counts: people who
/// are already talking can find each other. A direct chat that exists stays usable whatever the
/// setting, and server admins reach everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discovery {
    /// Every user may find and contact every other user.
    Everyone,
    /// Registered users may find and contact each other; a guest finds, and is found by, only
    /// people they share a room with. Anonymous visitors can neither list the server's users
    /// nor write to strangers: the choice for a public server that admits guests.
    Registered,
    /// Users find and contact only people they share a room with; new contacts are made by
    /// someone who already knows both (or by a server admin).
    SharedRooms,
}

impl Discovery {
    /// The setting's name, as [`FromStr`] reads it: `everyone`, `registered`, `shared-rooms`.
    pub fn as_str(self) -> &'static str {
        match self {
            Discovery::Everyone => "everyone",
            Discovery::Registered => "registered",
            Discovery::SharedRooms => "shared-rooms",
        }
    }

    /// Whom a search by `actor` looks among.
    fn among(self, actor: &User) -> Among {
        match self {
            _ if actor.is_server_admin => Among::Everyone,
            Discovery::Everyone => Among::Everyone,
            Discovery::Registered if !actor.is_guest => Among::RegisteredOrRoommatesOf(actor.id),
            Discovery::Registered | Discovery::SharedRooms => Among::RoommatesOf(actor.id),
        }
    }
}

impl fmt::Display for Discovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`Discovery`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected everyone, registered or shared-rooms, not {0:?}")]
pub struct UnknownDiscovery(pub String);

impl FromStr for Discovery {
    type Err = UnknownDiscovery;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        [
            Discovery::Everyone,
            Discovery::Registered,
            Discovery::SharedRooms,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
        .ok_or_else(|| UnknownDiscovery(s.to_owned()))
    }
}

impl Chat {
    /// Whether `actor` may start a conversation with `other` under the configured
    /// [`Discovery`].
    async fn may_reach(&self, actor: &User, other: &User) -> Result<bool> {
        let registered_pair = !actor.is_guest && !other.is_guest;
        Ok(match self.config().discovery {
            _ if actor.is_server_admin => true,
            Discovery::Everyone => true,
            Discovery::Registered if registered_pair => true,
            Discovery::Registered | Discovery::SharedRooms => {
                self.store().share_a_room(actor.id, other.id).await?
            }
        })
    }

    /// The enabled user `id`, if `actor` may reach them; `NotFound` otherwise, exactly as if
    /// there were no such user.
    pub(super) async fn reachable_user(&self, actor: &User, id: UserId) -> Result<User> {
        let other = self.enabled_user(id).await?;
        if self.may_reach(actor, &other).await? {
            Ok(other)
        } else {
            Err(Error::NotFound("user"))
        }
    }

    /// Up to `limit` enabled users whose name starts with `prefix` and whom `actor` may reach,
    /// never `actor`.
    pub(super) async fn find_reachable(
        &self,
        actor: &User,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<User>> {
        let among = self.config().discovery.among(actor);
        // One more than asked, in case the actor is among them.
        let mut found = self
            .store()
            .search_users(prefix, among, limit.saturating_add(1))
            .await?;
        found.retain(|u| u.id != actor.id);
        found.truncate(limit as usize);
        Ok(found)
    }
}
