//! The hub's cluster-wide operations: each acts on this node's connections and tells the
//! other nodes (through the [`Outbox`](crate::broker::Outbox), when there is one), which apply
//! it to theirs with [`Hub::apply`].
//!
//! Messages, edits and reactions are told by reference (room and seq); other nodes read them from the
//! store (see `broker::Relay`). Everything else is applied as told.

use super::{Event, EventKind, Hub};
use crate::broker::Notice;
use crate::chat::PublicUser;
use crate::model::{MemberSettings, Message, MessageReactions, RoomId, Sender, UserId};

impl Hub {
    fn tell(&self, notice: impl FnOnce() -> Notice) {
        if let Some(outbox) = &self.shared.outbox {
            outbox.tell(&notice());
        }
    }

    /// Delivers an event to every live connection in `room`, on every node. Never waits;
    /// subscribers whose queue is full are closed as lagged.
    pub fn publish(&self, room: RoomId, event: Event) {
        self.tell(|| notice_of(room, event.kind()));
        self.publish_here(room, event);
    }

    /// Delivers newly stored messages, such as one commit's batch, to every node, each in seq
    /// order per room (see [`Hub::publish_messages_here`]).
    pub fn publish_messages(&self, messages: impl IntoIterator<Item = Message>) {
        let messages: Vec<Message> = messages.into_iter().collect();
        if self.shared.outbox.is_some() {
            let mut ranges: Vec<(RoomId, i64, i64)> = Vec::new();
            for m in &messages {
                match ranges.iter_mut().find(|(room, ..)| *room == m.room_id) {
                    Some((_, first, last)) => {
                        *first = (*first).min(m.seq);
                        *last = (*last).max(m.seq);
                    }
                    None => ranges.push((m.room_id, m.seq, m.seq)),
                }
            }
            for (room, first, last) in ranges {
                self.tell(|| Notice::Messages { room, first, last });
            }
        }
        self.publish_messages_here(messages);
    }

    /// Delivers an event once to each live connection that shares any of `rooms`, on every
    /// node (presence, which concerns a user rather than a room).
    pub fn publish_to_rooms(&self, rooms: &[RoomId], event: Event) {
        if let EventKind::Presence { user_id, online } = *event.kind() {
            self.tell(|| Notice::Presence {
                user: user_id,
                online,
                rooms: rooms.to_vec(),
            });
        }
        self.publish_to_rooms_here(rooms, event);
    }

    /// Tells every live connection of `user`, on every node, their settings for a room now
    /// (changed on one of their devices).
    pub fn publish_settings(&self, user: UserId, now: MemberSettings) {
        self.tell(|| Notice::Settings { user, now });
        self.publish_settings_here(user, now);
    }

    /// Tells every live connection that shares any of `rooms` (the user's rooms), and every
    /// live connection of the user, on every node, what others now see of the user.
    pub fn publish_user(&self, user: PublicUser, rooms: &[RoomId]) {
        self.tell(|| Notice::User {
            user: user.clone(),
            rooms: rooms.to_vec(),
        });
        self.publish_user_here(user, rooms);
    }

    /// Starts delivering `room` to every live connection of `user`, on every node (they
    /// joined it).
    pub fn join(&self, user: UserId, room: RoomId) {
        self.join_here(user, room);
        self.tell(|| Notice::Join { user, room });
    }

    /// Stops delivering `room` to every live connection of `user`, on every node.
    pub fn leave(&self, user: UserId, room: RoomId) {
        self.leave_here(user, room);
        self.tell(|| Notice::Leave { user, room });
    }

    /// Closes every live connection of `session`, on every node (logout).
    pub fn close_session(&self, session: &[u8; 32]) {
        self.close_session_here(session);
        self.tell(|| Notice::CloseSession { session: *session });
    }

    /// Closes the live connections of `user` on `session`, on every node (it expired or was
    /// replaced); cheaper than [`Hub::close_session`] when the user is known.
    pub fn close_user_session(&self, user: UserId, session: &[u8; 32]) {
        self.close_user_session_here(user, session);
        self.tell(|| Notice::CloseUserSession {
            user,
            session: *session,
        });
    }

    /// Closes every live connection of `user`, on every node (disabled, or all sessions
    /// ended).
    pub fn close_user(&self, user: UserId) {
        self.close_user_here(user);
        self.tell(|| Notice::CloseUser { user });
    }

    /// Tells this node's connections that `user`'s last connection here closed, unless the
    /// user is still online on another node; tells the other nodes in any case.
    pub(super) fn went_offline_here(&self, user: UserId, rooms: &[RoomId]) {
        self.tell(|| Notice::Presence {
            user,
            online: false,
            rooms: rooms.to_vec(),
        });
        if !self.online_elsewhere(user) {
            self.publish_presence_here(user, false, rooms);
        }
    }

    /// Tells the other nodes which users this one serves (in parts of bounded size, see
    /// `Notice::alive`), and announces here the users whose nodes went silent for
    /// `PRESENCE_TTL` (a node died, or lost the broker). Called every
    /// [`HEARTBEAT`](super::HEARTBEAT) by the relay.
    pub(crate) fn heartbeat(&self) {
        if let Some(outbox) = &self.shared.outbox {
            for part in Notice::alive(&self.local_users()) {
                outbox.tell(&part);
            }
        }
        let gone = self.shared.remote.expire(tokio::time::Instant::now());
        self.announce_offline(gone);
    }

    /// Tells this node's connections that each user (no longer online on another node) is
    /// offline, unless they are online here.
    fn announce_offline(&self, gone: Vec<(UserId, Vec<RoomId>)>) {
        for (user, rooms) in gone {
            if !self.is_online(user) {
                self.publish_presence_here(user, false, &rooms);
            }
        }
    }

    fn publish_presence_here(&self, user_id: UserId, online: bool, rooms: &[RoomId]) {
        let event = Event::new(EventKind::Presence { user_id, online });
        self.publish_to_rooms_here(rooms, event);
    }

    /// Applies notice from node `node` to this node's connections. Messages and edits need the
    /// store; the relay reads them and publishes with [`Hub::publish_messages_here`] and
    /// [`Hub::publish_change_here`] instead.
    pub(crate) fn apply(&self, node: u64, notice: Notice) {
        match notice {
            Notice::Messages { .. }
            | Notice::Changed { .. }
            | Notice::Reacted { .. }
            | Notice::CatchUp => {}
            Notice::Typing { room, user, name } => self.publish_here(
                room,
                Event::new(EventKind::Typing {
                    room_id: room,
                    user: Sender {
                        id: user,
                        display_name: name,
                    },
                }),
            ),
            Notice::Read { room, user, seq } => self.publish_here(
                room,
                Event::new(EventKind::Read {
                    room_id: room,
                    user_id: user,
                    seq,
                }),
            ),
            Notice::Room { room, change, user } => self.publish_here(
                room,
                Event::new(EventKind::Room {
                    room_id: room,
                    change,
                    user_id: user,
                }),
            ),
            Notice::Presence {
                user,
                online: true,
                rooms,
            } => {
                let now = tokio::time::Instant::now();
                self.shared.remote.online(node, user, rooms.clone(), now);
                self.publish_presence_here(user, true, &rooms);
            }
            Notice::Presence {
                user,
                online: false,
                rooms,
            } => {
                if self.shared.remote.offline(node, user) && !self.is_online(user) {
                    self.publish_presence_here(user, false, &rooms);
                }
            }
            Notice::Alive { users } => {
                let now = tokio::time::Instant::now();
                self.shared.remote.heartbeat(node, &users, now);
            }
            Notice::Settings { user, now } => self.publish_settings_here(user, now),
            Notice::User { user, rooms } => self.publish_user_here(user, &rooms),
            Notice::Join { user, room } => self.join_here(user, room),
            Notice::Leave { user, room } => self.leave_here(user, room),
            Notice::CloseSession { session } => self.close_session_here(&session),
            Notice::CloseUserSession { user, session } => {
                self.close_user_session_here(user, &session);
            }
            Notice::CloseUser { user } => self.close_user_here(user),
        }
    }

    /// Tells `user`'s live connections on this node their settings for a room now.
    fn publish_settings_here(&self, user_id: UserId, now: MemberSettings) {
        self.publish_to_user_here(user_id, Event::new(EventKind::Settings { user_id, now }));
    }

    /// Delivers an edited or deleted message read from the store on this node, with the
    /// members an edit newly mentions as the editing node named them.
    pub(crate) fn publish_change_here(&self, message: Message, newly_mentioned: Vec<UserId>) {
        let room = message.room_id;
        let kind = if message.deleted {
            EventKind::Deleted(message)
        } else {
            EventKind::Edited {
                message,
                newly_mentioned,
            }
        };
        self.publish_here(room, Event::new(kind));
    }

    /// Publishes the reactions of `message`, read from the store after another node changed
    /// them, to this node's connections (a tombstone's are covered by its `Deleted` event).
    pub(crate) fn publish_reactions_here(&self, message: Message) {
        if message.deleted {
            return;
        }
        let now = MessageReactions {
            room_id: message.room_id,
            seq: message.seq,
            reactions: message.reactions,
        };
        self.publish_here(now.room_id, Event::new(EventKind::Reactions(now)));
    }
}

/// The notice that tells other nodes about `kind`, published in `room`.
fn notice_of(room: RoomId, kind: &EventKind) -> Notice {
    match kind {
        EventKind::Message(m) => Notice::Messages {
            room,
            first: m.seq,
            last: m.seq,
        },
        EventKind::Edited {
            message,
            newly_mentioned,
        } => Notice::Changed {
            room,
            seq: message.seq,
            mentioned: newly_mentioned.clone(),
        },
        EventKind::Deleted(m) => Notice::Changed {
            room,
            seq: m.seq,
            mentioned: Vec::new(),
        },
        EventKind::Reactions(r) => Notice::Reacted { room, seq: r.seq },
        EventKind::Settings { user_id, now } => Notice::Settings {
            user: *user_id,
            now: *now,
        },
        EventKind::Typing { user, .. } => Notice::Typing {
            room,
            user: user.id,
            name: user.display_name.clone(),
        },
        EventKind::Read { user_id, seq, .. } => Notice::Read {
            room,
            user: *user_id,
            seq: *seq,
        },
        EventKind::Room {
            change, user_id, ..
        } => Notice::Room {
            room,
            change: *change,
            user: *user_id,
        },
        EventKind::Presence { user_id, online } => Notice::Presence {
            user: *user_id,
            online: *online,
            rooms: vec![room],
        },
        EventKind::User(user) => Notice::User {
            user: user.clone(),
            rooms: vec![room],
        },
    }
}
