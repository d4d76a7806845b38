//! The idempotency keys of recent sends, held in memory by the store's single writer.
//!
//! A unique index on `(client_id, sender_id, room_id)` would keep sends exactly-once in the
//! database, but clients choose their ids: random ones (UUIDv4) land on a random page of that
//! index, so a commit of n messages rewrote n index pages into the WAL, and the store was about
//! twice as slow for ordinary clients as for clients sending time-ordered ids. SQLite has
//! exactly one writer, so the check can live with it instead: this table holds every key of the
//! messages created within [`IDEMPOTENCY_WINDOW`] of the newest one. The database keeps the keys
//! in the message rows, in server order (by id), which is how the table is rebuilt when the
//! store opens.
//!
//! Each key is 8 bytes: a 32-bit fingerprint of its keyed hash and its message's id as a 32-bit
//! offset from a base id. A lookup returns every message of the window whose key shares the
//! fingerprint; the writer reads each and compares its real key. Since every key of the window
//! is in the table, no match means no earlier send: the check is exact. A fingerprint shared
//! with another key costs one more read by id: a lookup meets one with odds of (keys in the
//! window) / 2^32, 4 % for a day at 2,000 messages a second.
//!
//! Memory: the table spends 9 bytes a slot (the entry and hashbrown's control byte), at most
//! 7/8 of its slots full and half that just after it doubles, so 10.3–20.6 bytes per key, plus
//! keys that left the window but were not swept yet (a quarter of the table at most); expiry
//! adds a few dozen KB whatever the rate (see [`expiry`]). Expired keys are swept in one pass
//! over the table, like a doubling, once a quarter of it has expired, and the table shrinks
//! after a burst expires.

mod expiry;

use std::hash::BuildHasher;
use std::time::Duration;

use chatcore::{MessageId, RoomId, Timestamp, UserId};
use hashbrown::HashTable;

use expiry::Expiry;

/// How long a send stays idempotent on SQLite: a retry with the same `client_id` (same sender,
/// same room) within this time of the first send, by the server's clock, returns the first
/// message. Keys are forgotten in slices, up to a minute later than this; retries later than
/// that may store a second message. (A window holding more than 2^32 messages, about 50,000 a
/// second for a whole day, forgets its oldest keys early: their ids no longer fit the table.)
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// 32 bits of a key's hash, which the writer computes with a key chosen at random when the
/// store opens (so nobody can pick ids that collide on purpose).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint(u32);

/// One key of the window: its fingerprint and its message's id minus [`RecentKeys::base`].
type Entry = (Fingerprint, u32);

/// Recent idempotency keys → the messages stored under them.
#[derive(Debug)]
pub(crate) struct RecentKeys {
    hasher: std::hash::RandomState,
    table: HashTable<Entry>,
    /// The id that offset 0 stands for: at most the lowest id in the table.
    base: i64,
    /// Which ids have left the window: lookups skip them, sweeps drop them.
    expiry: Expiry,
    /// How many keys in the table have left the window.
    expired: usize,
}

impl Default for RecentKeys {
    fn default() -> Self {
        RecentKeys {
            hasher: std::hash::RandomState::new(),
            table: HashTable::new(),
            base: 0,
            expiry: Expiry::default(),
            expired: 0,
        }
    }
}

impl RecentKeys {
    /// The fingerprint of the idempotency key (room, sender, client_id).
    pub(crate) fn fingerprint(&self, room: RoomId, sender: UserId, client_id: &str) -> Fingerprint {
        Fingerprint(self.hasher.hash_one((room.0, sender.0, client_id)) as u32)
    }

    /// Every message of the window stored under a key with this fingerprint, in no particular
    /// order: the caller compares their keys. None of them matching means no message of the
    /// window has the key.
    pub(crate) fn candidates(&self, fingerprint: Fingerprint) -> impl Iterator<Item = MessageId> {
        let live_from = self.expiry.live_from();
        self.table
            .iter_hash(slot_hash(fingerprint))
            .filter(move |(f, _)| *f == fingerprint)
            .map(|&(_, offset)| MessageId(self.base + i64::from(offset)))
            .filter(move |&id| id >= live_from)
    }

    /// Records that message `id`, created at `created_at`, was stored under a key with
    /// `fingerprint`. Ids must increase from one call to the next (the single writer assigns
    /// them in order, and the store opens by reading the window's keys by id).
    pub(crate) fn insert(
        &mut self,
        fingerprint: Fingerprint,
        id: MessageId,
        created_at: Timestamp,
    ) {
        self.expired += self.expiry.record(id, created_at);
        if self.expired > 0 && 4 * self.expired >= self.table.len() {
            self.sweep();
        }
        let offset = self.offset(id);
        self.table
            .insert_unique(slot_hash(fingerprint), (fingerprint, offset), entry_hash);
    }

    /// `id` as an offset from `base`, moving `base` up when `id` is too far above it: onto the
    /// lowest id still in the window, and if even that is too far, onto the lowest id the
    /// table can address, forgetting the keys below it.
    fn offset(&mut self, id: MessageId) -> u32 {
        if u32::try_from(id.0 - self.base).is_err() {
            self.sweep();
            self.rebase(id);
        }
        if u32::try_from(id.0 - self.base).is_err() {
            tracing::warn!(
                "over 2^32 messages in the idempotency window: the oldest keys are forgotten early"
            );
            self.expiry
                .forget_below(MessageId(id.0 - i64::from(u32::MAX)));
            self.sweep();
            self.rebase(id);
        }
        u32::try_from(id.0 - self.base).expect("rebased within 2^32 of id")
    }

    /// Drops the keys that left the window, and gives memory back after a burst.
    fn sweep(&mut self) {
        let (base, live_from) = (self.base, self.expiry.live_from().0);
        self.table
            .retain(|&mut (_, offset)| base + i64::from(offset) >= live_from);
        self.expired = 0;
        let len = self.table.len();
        if self.table.capacity() > 4 * len + 4096 {
            self.table.shrink_to(2 * len, entry_hash);
        }
    }

    /// Moves `base` up to the lowest id in the table, or to `id` when the table is empty.
    fn rebase(&mut self, id: MessageId) {
        let Some(lowest) = self.table.iter().map(|&(_, offset)| offset).min() else {
            self.base = id.0;
            return;
        };
        for (_, offset) in self.table.iter_mut() {
            *offset -= lowest;
        }
        self.base += i64::from(lowest);
    }

    /// The `created_at` before which messages are outside the window when the newest message
    /// was created at `newest`.
    pub(crate) fn cutoff(newest: Timestamp) -> Timestamp {
        expiry::cutoff(newest)
    }
}

/// Where the table looks for a fingerprint: its bits spread over 64 (hashbrown takes the slot
/// from the low bits and a 7-bit tag from the top ones), computed from the entry alone so the
/// table can move entries when it grows.
fn slot_hash(fingerprint: Fingerprint) -> u64 {
    u64::from(fingerprint.0).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// [`slot_hash`] of an entry's fingerprint: how the table moves entries when it resizes.
fn entry_hash(entry: &Entry) -> u64 {
    slot_hash(entry.0)
}

#[cfg(test)]
mod tests;
