//! What one node tells the others, and how it is put on the wire.
//!
//! Notices name what changed, not the changed rows: a node that hears "room 7 has messages up
//! to seq 12" reads them from the store, from the first one it has not delivered yet. So a
//! notice that is lost, duplicated or overtaken costs a store read, never a message, and the
//! store stays the one source of truth. Only what is never stored (typing, presence) travels
//! in full.

use serde::{Deserialize, Serialize};

use crate::chat::PublicUser;
use crate::hub::RoomChange;
use crate::model::{MemberSettings, RoomId, Seq, UserId};

/// The format version; a node drops notices of any other (mixed versions during an upgrade
/// lose live extras, not messages: those are read from the store).
const VERSION: u8 = 1;

/// The most users one heartbeat names: a node serving more sends several, so no heartbeat
/// exceeds ~10 KiB (500 ids of at most 20 characters) however many users the node serves.
pub(crate) const ALIVE_USERS_MAX: usize = 500;

/// A change committed (or, for typing and presence, happening) on one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub(crate) enum Notice {
    /// Messages `first..=last` of `room` were committed.
    Messages { room: RoomId, first: Seq, last: Seq },
    /// Message `seq` of `room` was edited or deleted; an edit names the members it newly
    /// mentions (stored nowhere else: the store keeps only the mentions now).
    Changed {
        room: RoomId,
        seq: Seq,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mentioned: Vec<UserId>,
    },
    /// A member added or took back a reaction to message `seq` of `room`.
    Reacted { room: RoomId, seq: Seq },
    /// `user` (shown as `name`) is typing in `room`.
    Typing {
        room: RoomId,
        user: UserId,
        name: String,
    },
    /// `user`'s read marker in `room` moved to `seq`.
    Read {
        room: RoomId,
        user: UserId,
        seq: Seq,
    },
    /// Membership or room metadata changed.
    Room {
        room: RoomId,
        change: RoomChange,
        user: UserId,
    },
    /// `user`'s first connection on the sending node opened, or its last one there closed.
    Presence {
        user: UserId,
        online: bool,
        rooms: Vec<RoomId>,
    },
    /// Part of the sending node's heartbeat: some of the users it serves now (their presence
    /// there holds for another `PRESENCE_TTL`); see [`Notice::alive`].
    Alive { users: Vec<UserId> },
    /// `user` changed their own settings for a room to `now` (small, so told in full).
    Settings { user: UserId, now: MemberSettings },
    /// A user changed what others see of them; deliver it to the connections in `rooms` and
    /// the user's own (small, so told in full).
    User {
        user: PublicUser,
        rooms: Vec<RoomId>,
    },
    /// Deliver `room` to `user`'s connections (they joined it).
    Join { user: UserId, room: RoomId },
    /// Stop delivering `room` to `user`'s connections (they left or were removed).
    Leave { user: UserId, room: RoomId },
    /// Close every connection of the session with this token hash (logout).
    CloseSession { session: [u8; 32] },
    /// Close `user`'s connections on the session with this token hash (expired, replaced).
    CloseUserSession { user: UserId, session: [u8; 32] },
    /// Close every connection of `user` (disabled, or every session ended).
    CloseUser { user: UserId },
    /// The sender had to drop notices: catch up from the store.
    CatchUp,
}

#[derive(Serialize, Deserialize)]
struct Envelope<N> {
    v: u8,
    /// The sending node, so a node skips its own notices when the broker echoes them.
    node: u64,
    #[serde(flatten)]
    notice: N,
}

impl Notice {
    /// The heartbeat of a node serving `users`: one [`Notice::Alive`] per
    /// [`ALIVE_USERS_MAX`] users, none when it serves nobody. A heartbeat only refreshes what
    /// its node said before, so each part stands alone and a lost part costs only its users'
    /// refresh (they expire if three in a row are lost).
    pub(crate) fn alive(users: &[UserId]) -> impl Iterator<Item = Notice> + '_ {
        users.chunks(ALIVE_USERS_MAX).map(|users| Notice::Alive {
            users: users.to_vec(),
        })
    }

    /// The wire form of this notice from `node`.
    pub(crate) fn encode(&self, node: u64) -> bytes::Bytes {
        let envelope = Envelope {
            v: VERSION,
            node,
            notice: self,
        };
        // Serializing plain ids, numbers and strings into a Vec cannot fail.
        serde_json::to_vec(&envelope).unwrap_or_default().into()
    }

    /// The sending node and the notice, or `None` for anything this version cannot read.
    pub(crate) fn decode(payload: &[u8]) -> Option<(u64, Notice)> {
        let envelope: Envelope<Notice> = serde_json::from_slice(payload).ok()?;
        (envelope.v == VERSION).then_some((envelope.node, envelope.notice))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_survives_the_wire() {
        let notices = [
            Notice::Messages {
                room: RoomId(1),
                first: 4,
                last: 9,
            },
            Notice::Room {
                room: RoomId(2),
                change: RoomChange::Removed,
                user: UserId(3),
            },
            Notice::CloseSession { session: [7; 32] },
            Notice::Settings {
                user: UserId(4),
                now: MemberSettings {
                    room_id: RoomId(9),
                    settings: crate::model::RoomSettings {
                        muted: true,
                        archived: false,
                    },
                },
            },
            Notice::Reacted {
                room: RoomId(2),
                seq: 17,
            },
            Notice::Changed {
                room: RoomId(2),
                seq: 5,
                mentioned: vec![UserId(8), UserId(3)],
            },
            Notice::Changed {
                room: RoomId(2),
                seq: 6,
                mentioned: Vec::new(),
            },
            Notice::User {
                user: PublicUser {
                    id: UserId(3),
                    username: None,
                    display_name: "Zoë <b>".into(),
                    guest: true,
                    avatar: Some(crate::model::AvatarId([9; 16])),
                },
                rooms: vec![RoomId(1), RoomId(5)],
            },
            Notice::Typing {
                room: RoomId(1),
                user: UserId(5),
                name: "Zoë \"quoted\"".into(),
            },
        ];
        for notice in notices {
            assert_eq!(Notice::decode(&notice.encode(42)), Some((42, notice)));
        }
    }

    #[test]
    fn a_heartbeat_is_split_into_bounded_parts_that_name_every_user_once() {
        // Ten thousand users with the longest ids there are.
        let users: Vec<UserId> = (0..10_000).map(|i| UserId(i64::MAX - i)).collect();
        let parts: Vec<Notice> = Notice::alive(&users).collect();
        assert_eq!(parts.len(), 10_000 / ALIVE_USERS_MAX);
        let mut named = Vec::new();
        for part in parts {
            let wire = part.encode(u64::MAX);
            assert!(wire.len() <= 11 * 1024, "{} bytes", wire.len());
            let Some((_, Notice::Alive { users })) = Notice::decode(&wire) else {
                panic!("not a heartbeat");
            };
            assert!(users.len() <= ALIVE_USERS_MAX);
            named.extend(users);
        }
        assert_eq!(named, users);
    }

    #[test]
    fn a_node_serving_nobody_or_a_few_sends_at_most_one_part() {
        assert_eq!(Notice::alive(&[]).count(), 0);
        let few = [UserId(1), UserId(2)];
        assert_eq!(
            Notice::alive(&few).collect::<Vec<_>>(),
            vec![Notice::Alive {
                users: few.to_vec()
            }]
        );
    }

    #[test]
    fn garbage_and_other_versions_are_dropped() {
        assert_eq!(Notice::decode(b"not json"), None);
        assert_eq!(
            Notice::decode(br#"{"v":2,"node":1,"t":"close_user","user":1}"#),
            None
        );
        assert_eq!(Notice::decode(br#"{"v":1,"node":1,"t":"unknown"}"#), None);
        assert_eq!(
            Notice::decode(br#"{"v":1,"node":1,"t":"close_user","user":1}"#),
            Some((1, Notice::CloseUser { user: UserId(1) }))
        );
    }
}
