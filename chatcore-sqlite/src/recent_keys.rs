//! The idempotency keys of recent sends, held in memory by the store's single writer.
//!
//! A unique index on `(client_id, sender_id, room_id)` would keep sends exactly-once in the
//! database, but clients choose their ids: random ones (UUIDv4) land on a random page of that
//! index, so a commit of n messages rewrote n index pages into the WAL, and the store was about
//! twice as slow for ordinary clients as for clients sending time-ordered ids. SQLite has
//! exactly one writer, so the check can live with it instead: this map from a keyed 64-bit hash
//! of each key to the newest message stored under that hash, covering every message created
//! within [`IDEMPOTENCY_WINDOW`] of the newest one. The database keeps the keys in the message rows, in
//! server order (by id), which is how the map is rebuilt when the store opens.
//!
//! The map is exact: a hit only says "maybe"; the writer reads the message and compares its
//! key, and on a mismatch (two keys with one hash, about once in 2^64 pairs) asks the database.
//! Its memory is 44–87 bytes per message of the window: a map entry (16 bytes, 7/8 full at most)
//! and a queue entry (24 bytes), each table between half and fully used as it grows by doubling.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::time::Duration;

use chatcore::{MessageId, RoomId, Timestamp, UserId};

/// How long a send stays idempotent on SQLite: a retry with the same `client_id` (same sender,
/// same room) within this time of the first send, by the server's clock, returns the first
/// message. Retries later than that may store a second message.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// A key's hash as this map computes it, with a key chosen at random when the store opens (so
/// nobody can pick ids that collide on purpose).
pub(crate) type KeyHash = u64;

/// Recent idempotency keys → the message stored under each.
#[derive(Debug)]
pub(crate) struct RecentKeys {
    hasher: std::hash::RandomState,
    /// Key hash → the newest message stored under that hash.
    by_hash: HashMap<KeyHash, MessageId>,
    /// Every key of the window in the order it was stored: (created_at, hash, message).
    order: VecDeque<(Timestamp, KeyHash, MessageId)>,
    /// The newest `created_at` seen; keys older than it by more than the window expire.
    newest: Timestamp,
}

impl Default for RecentKeys {
    fn default() -> Self {
        RecentKeys {
            hasher: std::hash::RandomState::new(),
            by_hash: HashMap::new(),
            order: VecDeque::new(),
            newest: Timestamp(i64::MIN),
        }
    }
}

impl RecentKeys {
    /// The hash of the idempotency key (room, sender, client_id).
    pub(crate) fn hash(&self, room: RoomId, sender: UserId, client_id: &str) -> KeyHash {
        self.hasher.hash_one((room.0, sender.0, client_id))
    }

    /// The message that may have been stored under `hash`: the caller must compare its key.
    /// `None` means no message of the window has this key.
    pub(crate) fn candidate(&self, hash: KeyHash) -> Option<MessageId> {
        self.by_hash.get(&hash).copied()
    }

    /// Records that message `id`, created at `created_at`, was stored under `hash`, and forgets
    /// the keys that fell out of the window.
    pub(crate) fn insert(&mut self, hash: KeyHash, id: MessageId, created_at: Timestamp) {
        let newest = self.by_hash.entry(hash).or_insert(id);
        *newest = (*newest).max(id);
        self.order.push_back((created_at, hash, id));
        if created_at > self.newest {
            self.newest = created_at;
            self.expire();
        }
    }

    /// Forgets keys created more than the window before the newest. Stops at the first key still
    /// inside it, so a key is never forgotten early, even when the clock stepped back.
    fn expire(&mut self) {
        let cutoff = Self::cutoff(self.newest);
        while let Some(&(created_at, hash, id)) = self.order.front() {
            if created_at >= cutoff {
                break;
            }
            self.order.pop_front();
            if self.by_hash.get(&hash) == Some(&id) {
                self.by_hash.remove(&hash);
            }
        }
        // Give memory back after a burst: the map and queue keep their largest size otherwise.
        if self.order.capacity() > 4 * self.order.len() + 4096 {
            self.order.shrink_to(2 * self.order.len());
            self.by_hash.shrink_to(2 * self.by_hash.len());
        }
    }

    /// How many keys the window holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.order.len()
    }

    /// The `created_at` before which messages are outside the window when the newest message
    /// was created at `newest`.
    pub(crate) fn cutoff(newest: Timestamp) -> Timestamp {
        newest.minus(IDEMPOTENCY_WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The window in milliseconds.
    const WINDOW: i64 = 24 * 60 * 60 * 1000;

    fn key(keys: &RecentKeys, room: i64, sender: i64, client_id: &str) -> KeyHash {
        keys.hash(RoomId(room), UserId(sender), client_id)
    }

    #[test]
    fn the_key_is_room_sender_and_client_id() {
        let keys = RecentKeys::default();
        let a = key(&keys, 1, 1, "x");
        assert_eq!(a, key(&keys, 1, 1, "x"));
        assert_ne!(a, key(&keys, 2, 1, "x"));
        assert_ne!(a, key(&keys, 1, 2, "x"));
        assert_ne!(a, key(&keys, 1, 1, "y"));
    }

    #[test]
    fn keys_live_exactly_one_window_after_the_newest() {
        let mut keys = RecentKeys::default();
        let first = key(&keys, 1, 1, "first");
        keys.insert(first, MessageId(1), Timestamp(1_000));
        let later = key(&keys, 1, 1, "later");
        keys.insert(later, MessageId(2), Timestamp(1_000 + WINDOW));
        assert_eq!(
            keys.candidate(first),
            Some(MessageId(1)),
            "a window old: kept"
        );
        keys.insert(
            key(&keys, 1, 1, "last"),
            MessageId(3),
            Timestamp(1_001 + WINDOW),
        );
        assert_eq!(
            keys.candidate(first),
            None,
            "older than the window: forgotten"
        );
        assert_eq!(keys.candidate(later), Some(MessageId(2)));
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn a_clock_stepping_back_forgets_nothing_early() {
        let mut keys = RecentKeys::default();
        let (a, b) = (key(&keys, 1, 1, "a"), key(&keys, 1, 1, "b"));
        keys.insert(a, MessageId(1), Timestamp(WINDOW));
        keys.insert(b, MessageId(2), Timestamp(10));
        keys.insert(a ^ b, MessageId(3), Timestamp(2 * WINDOW - 5));
        assert_eq!(
            keys.candidate(a),
            Some(MessageId(1)),
            "still inside the window"
        );
        assert_eq!(
            keys.candidate(b),
            Some(MessageId(2)),
            "kept behind a newer key"
        );
    }

    #[test]
    fn a_shared_hash_points_at_the_newest_message_until_it_expires() {
        let mut keys = RecentKeys::default();
        keys.insert(7, MessageId(1), Timestamp(0));
        keys.insert(7, MessageId(2), Timestamp(5));
        assert_eq!(keys.candidate(7), Some(MessageId(2)));
        keys.insert(8, MessageId(3), Timestamp(WINDOW + 1));
        assert_eq!(
            keys.candidate(7),
            Some(MessageId(2)),
            "the older entry left alone"
        );
        keys.insert(8, MessageId(4), Timestamp(WINDOW + 6));
        assert_eq!(keys.candidate(7), None);
    }
}
