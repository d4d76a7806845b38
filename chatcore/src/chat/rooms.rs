//! Rooms and membership: direct and group rooms, admins, joining and leaving, live connections.

use std::collections::HashMap;

use super::views::{self, MemberView, PublicUser, RoomView};
use super::{Actor, Chat};
use crate::error::{Error, Result, StoreError};
use crate::hub::{Event, EventKind, RoomChange, Subscription};
use crate::model::{Member, NewRoom, Role, Room, RoomId, RoomKind, RoomListEntry, Seq, UserId};
use crate::sanitize;
use crate::throttle::Budget;

/// The key that makes a direct room unique per pair of users, whichever side asks.
pub fn direct_key(a: UserId, b: UserId) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("{lo}:{hi}")
}

impl Chat {
    /// The direct room between the actor and `other`, created on first use. Asking again, from
    /// either side, returns the same room. Creating it needs `other` to be reachable under
    /// [`ChatConfig::discovery`](super::ChatConfig::discovery) and the host's
    /// [`Policy::can_open_direct`](crate::policy::Policy::can_open_direct); refused, `other`
    /// is `NotFound` to the actor.
    pub async fn open_direct(&self, actor: &Actor, other: UserId) -> Result<RoomView> {
        if other == actor.id() {
            return Err(Error::invalid(
                "user_id",
                "you cannot start a chat with yourself",
            ));
        }
        let other_user = self.enabled_user(other).await?;
        let key = direct_key(actor.id(), other);
        let room = match self.store().direct_room(&key).await? {
            Some(room) => room,
            None => {
                self.reachable_user(actor.user(), other).await?;
                if let Some(policy) = &self.inner.policy
                    && !policy.can_open_direct(actor.user(), &other_user).await
                {
                    return Err(Error::NotFound("user"));
                }
                let new = NewRoom {
                    kind: RoomKind::Direct,
                    name: None,
                    direct_key: Some(key.clone()),
                    members: vec![(actor.id(), Role::Member), (other, Role::Member)],
                    created_at: self.now(),
                };
                match self.store().create_room(new).await {
                    Ok(room) => {
                        self.announce_new_room(&room, &[actor.id(), other]);
                        room
                    }
                    // Both sides opened it at once: the other request created it.
                    Err(StoreError::Duplicate(_)) => self
                        .store()
                        .direct_room(&key)
                        .await?
                        .ok_or(Error::NotFound("room"))?,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        self.room_view(actor, room.id).await
    }

    /// Creates a group named `name` with the actor as admin and `members` as members.
    /// Guests may not create groups unless the config allows it. Every member must be
    /// reachable by the actor under [`ChatConfig::discovery`](super::ChatConfig::discovery)
    /// (`NotFound` for the first who is not; nothing is created). Spends one unit of the
    /// actor's [`group_rate`](super::ChatConfig::group_rate) and one
    /// [`member_add_rate`](super::ChatConfig::member_add_rate) unit per member;
    /// `RateLimited` when either is used up.
    pub async fn create_group(
        &self,
        actor: &Actor,
        name: &str,
        members: &[UserId],
    ) -> Result<RoomView> {
        if actor.user().is_guest && !self.config().guests_can_create_groups {
            return Err(Error::Forbidden(
                "guests cannot create groups; create an account first",
            ));
        }
        let name = sanitize::room_name(name)?;
        let mut ids: Vec<UserId> = members
            .iter()
            .copied()
            .filter(|&m| m != actor.id())
            .collect();
        ids.sort();
        ids.dedup();
        if ids.len() + 1 > self.config().max_group_members {
            return Err(Error::invalid("members", "too many members"));
        }
        self.spend_on_group(actor, ids.len()).await?;
        for &id in &ids {
            self.reachable_user(actor.user(), id).await?;
        }
        // A guest creator (when allowed) is a plain member: guests never hold an admin role.
        let creator_role = if actor.user().is_guest {
            Role::Member
        } else {
            Role::Admin
        };
        let mut all = vec![(actor.id(), creator_role)];
        all.extend(ids.iter().map(|&id| (id, Role::Member)));
        let room = self
            .store()
            .create_room(NewRoom {
                kind: RoomKind::Group,
                name: Some(name),
                direct_key: None,
                members: all.clone(),
                created_at: self.now(),
            })
            .await?;
        let everyone: Vec<UserId> = all.iter().map(|(id, _)| *id).collect();
        self.announce_new_room(&room, &everyone);
        self.room_view(actor, room.id).await
    }

    /// Spends one group and `members` member adds of the actor's budgets (both or neither).
    async fn spend_on_group(&self, actor: &Actor, members: usize) -> Result<()> {
        self.spend(actor, Budget::Groups, 1).await?;
        let adds = u32::try_from(members).unwrap_or(u32::MAX);
        if adds > 0
            && let Err(err) = self.spend(actor, Budget::MemberAdds, adds).await
        {
            self.refund(actor, Budget::Groups, 1).await;
            return Err(err);
        }
        Ok(())
    }

    /// One room as the actor sees it. Not a member: `NotFound`.
    pub async fn room(&self, actor: &Actor, room: RoomId) -> Result<RoomView> {
        self.membership(actor, room).await?;
        self.room_view(actor, room).await
    }

    /// Every room of the actor, most recently active first (one [`Store::room_list`](crate::Store::room_list) read).
    pub async fn rooms(&self, actor: &Actor) -> Result<Vec<RoomView>> {
        let entries = self.store().room_list(actor.id()).await?;
        let mut views: Vec<RoomView> = entries.into_iter().map(|e| self.build_view(e)).collect();
        views.sort_by_key(|v| std::cmp::Reverse((v.last_activity(), v.id)));
        Ok(views)
    }

    /// The newest seq of every room the actor is a member of, in one store read: what a
    /// resuming connection compares the client's last seen seqs with. Rooms the client lists
    /// that are not in here are not the actor's, and get nothing.
    pub async fn room_heads(&self, actor: &Actor) -> Result<HashMap<RoomId, Seq>> {
        let rooms = self.store().rooms_of_user(actor.id()).await?;
        Ok(rooms.into_iter().map(|(r, _)| (r.id, r.last_seq)).collect())
    }

    /// Renames a group (admins only).
    pub async fn rename_room(&self, actor: &Actor, room: RoomId, name: &str) -> Result<RoomView> {
        let me = self.membership(actor, room).await?;
        let name = sanitize::room_name(name)?;
        self.require_group_admin(&me).await?;
        self.store().rename_room(room, &name).await?;
        self.announce(room, RoomChange::Renamed, actor.id());
        self.room_view(actor, room).await
    }

    /// Adds `user` to a group (admins only). Guests can be added, but never as admins. `user`
    /// must be reachable by the actor under [`ChatConfig::discovery`](super::ChatConfig::discovery)
    /// (`NotFound` otherwise). Each add spends one unit of the actor's
    /// [`member_add_rate`](super::ChatConfig::member_add_rate).
    pub async fn add_member(
        &self,
        actor: &Actor,
        room: RoomId,
        user: UserId,
        role: Role,
    ) -> Result<()> {
        let me = self.membership(actor, room).await?;
        self.require_group_admin(&me).await?;
        self.spend(actor, Budget::MemberAdds, 1).await?;
        let target = self.reachable_user(actor.user(), user).await?;
        if target.is_guest && role == Role::Admin {
            return Err(Error::Forbidden("guests cannot be admins"));
        }
        let max = self.config().max_group_members;
        self.store()
            .add_member(room, user, role, self.now(), max)
            .await
            .map_err(|e| match e {
                StoreError::Duplicate(_) => Error::Conflict {
                    field: "user_id",
                    reason: "already a member",
                },
                StoreError::RoomFull => Error::invalid("user_id", "the group is full"),
                other => other.into(),
            })?;
        self.hub().join(user, room);
        self.announce(room, RoomChange::Joined, user);
        Ok(())
    }

    /// Removes `user` from a group: admins may remove anyone, anyone may remove themselves
    /// (leave). When the last admin goes, the oldest remaining full member becomes admin.
    pub async fn remove_member(&self, actor: &Actor, room: RoomId, user: UserId) -> Result<()> {
        let me = self.membership(actor, room).await?;
        let leaving = user == actor.id();
        if !leaving {
            self.require_group_admin(&me).await?;
        } else if self.kind_of(room).await? == RoomKind::Direct {
            return Err(Error::Forbidden("you cannot leave a direct chat"));
        }
        let removed = self
            .store()
            .remove_member(room, user)
            .await?
            .ok_or(Error::NotFound("member"))?;
        let change = if leaving {
            RoomChange::Left
        } else {
            RoomChange::Removed
        };
        // Announce before unrouting, so the removed user's connections learn why it stops.
        self.announce(room, change, user);
        self.hub().leave(user, room);
        if let Some(heir) = removed.promoted {
            self.announce(room, RoomChange::Role, heir);
        }
        Ok(())
    }

    /// Changes a member's role (admins only). Guests cannot be made admins, and the last admin
    /// cannot step down (promote someone first, or leave).
    pub async fn set_role(
        &self,
        actor: &Actor,
        room: RoomId,
        user: UserId,
        role: Role,
    ) -> Result<()> {
        let me = self.membership(actor, room).await?;
        self.require_group_admin(&me).await?;
        if self.store().member(room, user).await?.is_none() {
            return Err(Error::NotFound("member"));
        }
        if role == Role::Admin && self.enabled_user(user).await?.is_guest {
            return Err(Error::Forbidden("guests cannot be admins"));
        }
        self.store()
            .set_role(room, user, role)
            .await
            .map_err(|e| match e {
                StoreError::LastAdmin => Error::Conflict {
                    field: "role",
                    reason: "a group needs at least one admin",
                },
                StoreError::Missing(_) => Error::NotFound("member"),
                other => other.into(),
            })?;
        self.announce(room, RoomChange::Role, user);
        Ok(())
    }

    /// Registers a live connection for the actor and starts delivery of all their rooms.
    /// Returns the subscription and each room's newest seq (for the client's `hello`).
    ///
    /// Membership and delivery agree even while they change: a room joined during the connect
    /// is delivered, and a room the user is removed from during the connect is neither
    /// delivered nor listed.
    pub async fn connect(&self, actor: &Actor) -> Result<(Subscription, Vec<(RoomId, Seq)>)> {
        let subscription = self
            .hub()
            .subscribe(actor.id(), actor.session_hash().copied());
        // Checked after subscribing: a shutdown that began before this check is refused here,
        // one that begins after it closes this subscription with the others.
        self.inner.lifecycle.check_running()?;
        let rooms = self.store().rooms_of_user(actor.id()).await?;
        let ids: Vec<RoomId> = rooms.iter().map(|(r, _)| r.id).collect();
        let left = self.hub().attach(&subscription, &ids);
        let listed: Vec<(RoomId, Seq)> = rooms
            .into_iter()
            .filter(|(r, _)| !left.contains(&r.id))
            .map(|(r, _)| (r.id, r.last_seq))
            .collect();
        self.hub().start_order_after(&listed);
        Ok((subscription, listed))
    }

    /// Ends a live connection registered with [`Chat::connect`]: the subscription is dropped
    /// (the user's presence updates at once) and, when it was the user's last connection on
    /// this node, their last activity is recorded as now, so "last seen" is when they went
    /// offline. Transports call it when a connection closes; merely dropping the subscription
    /// does all but the recording.
    pub async fn disconnect(&self, subscription: Subscription) -> Result<()> {
        let user = subscription.user_id();
        drop(subscription);
        if self.connections_of(user) == 0 {
            self.store().touch_user(user, self.now()).await?;
        }
        Ok(())
    }

    async fn kind_of(&self, room: RoomId) -> Result<RoomKind> {
        Ok(self
            .store()
            .room(room)
            .await?
            .ok_or(Error::NotFound("room"))?
            .kind)
    }

    pub(super) async fn require_group_admin(&self, me: &Member) -> Result<()> {
        if self.kind_of(me.room_id).await? == RoomKind::Direct {
            return Err(Error::Forbidden("direct chats have no admins"));
        }
        if me.role != Role::Admin {
            return Err(Error::Forbidden("only group admins can do this"));
        }
        Ok(())
    }

    pub(super) fn announce(&self, room: RoomId, change: RoomChange, user_id: UserId) {
        self.hub().publish(
            room,
            Event::new(EventKind::Room {
                room_id: room,
                change,
                user_id,
            }),
        );
    }

    fn announce_new_room(&self, room: &Room, members: &[UserId]) {
        for &user in members {
            self.hub().join(user, room.id);
        }
        for &user in members {
            self.announce(room.id, RoomChange::Joined, user);
        }
    }

    pub(super) async fn room_view(&self, actor: &Actor, room_id: RoomId) -> Result<RoomView> {
        let room = self
            .store()
            .room(room_id)
            .await?
            .ok_or(Error::NotFound("room"))?;
        let me = self.membership(actor, room_id).await?;
        let entry = crate::store::room_list_entry(self.store(), room, me).await?;
        Ok(self.build_view(entry))
    }

    fn build_view(&self, entry: RoomListEntry) -> RoomView {
        let RoomListEntry {
            room,
            me,
            members,
            last_message,
            unread,
        } = entry;
        let read_markers = members
            .iter()
            .map(|(m, _)| (m.user_id, m.last_read_seq))
            .collect();
        let direct = room.kind == RoomKind::Direct;
        let viewer = members
            .iter()
            .find(|(m, _)| m.user_id == me.user_id)
            .map(|(_, user)| user);
        let members = members
            .iter()
            .map(|(m, user)| MemberView {
                user: PublicUser::from(user),
                role: m.role,
                online: self.hub().is_online(user.id),
                last_seen: viewer.and_then(|viewer| views::last_seen(direct, viewer, user)),
            })
            .collect();
        RoomView {
            id: room.id,
            kind: room.kind,
            name: room.name,
            members,
            role: me.role,
            last_seq: room.last_seq,
            last_message,
            unread,
            read_markers,
            settings: me.settings,
            created_at: room.created_at,
        }
    }
}
