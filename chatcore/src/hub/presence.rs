//! Who is online on the other nodes: a user is online when any node has a live connection of
//! theirs.
//!
//! Each node tells the others when a user's first connection there opens or its last one
//! closes, and every [`HEARTBEAT`] which users it serves. An entry learned from another node
//! lives for [`PRESENCE_TTL`] unless a heartbeat refreshes it, so the users of a node that died
//! (or lost Redis) go offline everywhere within that time, without anyone telling.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::model::{RoomId, UserId};

/// How often a node tells the others which users it serves.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(10);

/// How long another node's word that a user is online holds without a heartbeat: three
/// heartbeats, so one or two lost ones change nothing.
pub(crate) const PRESENCE_TTL: Duration = Duration::from_secs(30);

/// A user seen online on other nodes.
#[derive(Default)]
struct Entry {
    /// The nodes that serve the user, and until when their word holds.
    nodes: HashMap<u64, Instant>,
    /// The user's rooms, as last told: where to announce that they went offline.
    rooms: Vec<RoomId>,
}

/// The other nodes' online users. Memory: one entry per user online elsewhere.
#[derive(Default)]
pub(crate) struct RemotePresence {
    // A std Mutex: each critical section is map work, never an await.
    users: Mutex<HashMap<UserId, Entry>>,
}

/// A user who is no longer online on any other node, with the rooms to tell.
pub(crate) type WentOffline = (UserId, Vec<RoomId>);

impl RemotePresence {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Entry>> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `node` serves `user`, whose rooms are `rooms`, as of `now`.
    pub(crate) fn online(&self, node: u64, user: UserId, rooms: Vec<RoomId>, now: Instant) {
        let mut users = self.lock();
        let entry = users.entry(user).or_default();
        entry.nodes.insert(node, now + PRESENCE_TTL);
        entry.rooms = rooms;
    }

    /// `node` no longer serves `user`. Returns whether no other node does.
    pub(crate) fn offline(&self, node: u64, user: UserId) -> bool {
        let mut users = self.lock();
        let Some(entry) = users.get_mut(&user) else {
            return true;
        };
        entry.nodes.remove(&node);
        let gone = entry.nodes.is_empty();
        if gone {
            users.remove(&user);
        }
        gone
    }

    /// `node` serves `served` as of `now` (its heartbeat): what `node` said before about them
    /// holds another [`PRESENCE_TTL`]. A heartbeat only refreshes, in both directions: a user
    /// it no longer names is not taken offline (a heartbeat read just before a connection
    /// opened may arrive after its online notice), and a user it names whom `node` has not said
    /// is online, or has said went offline, is not brought back (a heartbeat read just before
    /// the last connection closed may arrive after the offline notice, and would leave the
    /// user online with no rooms to announce the offline to). A lost offline notice expires;
    /// a lost online notice leaves the user offline here until their next change.
    pub(crate) fn heartbeat(&self, node: u64, served: &[UserId], now: Instant) {
        let mut users = self.lock();
        let until = now + PRESENCE_TTL;
        for user in served {
            if let Some(held) = users.get_mut(user).and_then(|e| e.nodes.get_mut(&node)) {
                *held = until;
            }
        }
    }

    /// Forgets every node's word that is older than [`PRESENCE_TTL`] at `now`. Returns the
    /// users left online on no other node.
    pub(crate) fn expire(&self, now: Instant) -> Vec<WentOffline> {
        let mut gone = Vec::new();
        self.lock().retain(|&user, entry| {
            entry.nodes.retain(|_, &mut until| until > now);
            keep_or_report(user, entry, &mut gone)
        });
        gone
    }

    /// Whether another node serves `user` (as of `now`).
    pub(crate) fn is_online(&self, user: UserId, now: Instant) -> bool {
        self.lock()
            .get(&user)
            .is_some_and(|entry| entry.nodes.values().any(|&until| until > now))
    }
}

fn keep_or_report(user: UserId, entry: &mut Entry, gone: &mut Vec<WentOffline>) -> bool {
    if entry.nodes.is_empty() {
        gone.push((user, std::mem::take(&mut entry.rooms)));
        false
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: UserId = UserId(1);
    const BOB: UserId = UserId(2);
    const ROOM: RoomId = RoomId(7);

    #[test]
    fn online_on_any_node_is_online() {
        let presence = RemotePresence::default();
        let now = Instant::now();
        presence.online(1, ALICE, vec![ROOM], now);
        presence.online(2, ALICE, vec![ROOM], now);
        assert!(presence.is_online(ALICE, now));
        assert!(!presence.offline(1, ALICE), "still online on node 2");
        assert!(presence.is_online(ALICE, now));
        assert!(presence.offline(2, ALICE), "now offline everywhere");
        assert!(!presence.is_online(ALICE, now));
        assert!(!presence.is_online(BOB, now), "never seen");
    }

    #[test]
    fn a_silent_nodes_users_expire_and_heartbeats_keep_them() {
        let presence = RemotePresence::default();
        let now = Instant::now();
        presence.online(1, ALICE, vec![ROOM], now);
        presence.online(2, BOB, vec![ROOM], now);
        let later = now + PRESENCE_TTL - Duration::from_secs(1);
        presence.heartbeat(2, &[BOB], later);
        let expired = now + PRESENCE_TTL;
        assert_eq!(presence.expire(expired), vec![(ALICE, vec![ROOM])]);
        assert!(!presence.is_online(ALICE, expired), "node 1 went silent");
        assert!(presence.is_online(BOB, expired), "node 2's heartbeat held");
    }

    #[test]
    fn a_heartbeat_that_comes_after_the_offline_notice_does_not_bring_the_user_back() {
        let presence = RemotePresence::default();
        let now = Instant::now();
        presence.online(2, ALICE, vec![ROOM], now);
        assert!(presence.offline(2, ALICE));
        // Node 2 read its users while Alice's last connection was still open.
        presence.heartbeat(2, &[ALICE], now);
        assert!(!presence.is_online(ALICE, now));
    }
}
