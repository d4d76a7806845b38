//! Counting attempts per key (a username, an IP address) in a sliding window.
//!
//! An attempt is *reserved* before the work it guards starts ([`FailureThrottle::acquire`]) and
//! counts from that moment, so many requests in flight at once share one budget: the sixth of
//! sixty parallel wrong-password logins is refused before any password is hashed. A caller gives
//! the attempt back when it turned out not to count (a login that succeeded, a registration that
//! was refused), and keeps it otherwise, including when the request is abandoned half way.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use crate::model::Timestamp;

/// Most keys a throttle tracks by default. When the table is full, keys whose attempts all
/// left the window are swept, then keys that are not locked out are evicted; a lockout is never
/// dropped.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// A full table evicts at least this share of its keys at once (when that many are not locked
/// out), so that one scan of the table makes room for many new keys.
const EVICT_SHARE: usize = 64;

/// The shortest `retry_after` a refusal reports.
pub(super) const MIN_RETRY: Duration = Duration::from_secs(1);

/// Allows at most `max_attempts` attempts per key within `window`; after that, the key is
/// refused until its oldest attempt leaves the window.
///
/// Memory is bounded: at most `max_keys` keys, each with at most `max_attempts` timestamps.
/// When the table is full, a new key makes room by evicting keys that are not locked out, those
/// with the fewest attempts first (the oldest first among equals): a spray of one attempt each
/// for many usernames evicts its own keys before a username it is close to locking. Only when
/// every tracked key is a live lockout is a *new* key refused (fail closed), until the earliest
/// lockout ends: an attacker can then slow newcomers down, but never lift anyone's lockout.
#[derive(Debug)]
pub struct FailureThrottle<K> {
    max_attempts: usize,
    window: Duration,
    max_keys: usize,
    // A std Mutex: each critical section is a few map operations, never across an await.
    table: Mutex<Table<K>>,
}

#[derive(Debug)]
struct Table<K> {
    attempts: HashMap<K, VecDeque<Timestamp>>,
    /// After making room failed (every key locked out): no lockout ends before this instant,
    /// so trying again earlier would find nothing to remove.
    full_until: Option<Timestamp>,
}

/// One reserved attempt, to give back with [`FailureThrottle::release`] if it did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "an attempt that should not count must be released"]
pub struct Attempt {
    at: Timestamp,
    /// Tells apart attempts made at the same instant (in a store shared by several nodes).
    nonce: u64,
}

impl Attempt {
    /// An attempt at `at`, with a random nonce.
    pub(crate) fn new(at: Timestamp) -> Self {
        let mut nonce = [0u8; 8];
        // Without OS randomness the nonce is 0: two attempts in one millisecond then share one
        // entry in a shared store, which counts one of them too few, never too many.
        let _no_randomness = getrandom::fill(&mut nonce);
        Attempt {
            at,
            nonce: u64::from_le_bytes(nonce),
        }
    }

    /// When the attempt was made.
    pub fn at(&self) -> Timestamp {
        self.at
    }

    /// A name unique to this attempt within its key (its time and nonce), for a shared store.
    pub fn id(&self) -> String {
        format!("{}-{:016x}", self.at.millis(), self.nonce)
    }
}

impl<K: Eq + Hash + Clone> FailureThrottle<K> {
    /// A throttle allowing `max_attempts` per `window`, tracking at most [`DEFAULT_MAX_KEYS`].
    pub fn new(max_attempts: usize, window: Duration) -> Self {
        Self::with_max_keys(max_attempts, window, DEFAULT_MAX_KEYS)
    }

    /// Like [`FailureThrottle::new`], tracking at most `max_keys` keys.
    pub fn with_max_keys(max_attempts: usize, window: Duration, max_keys: usize) -> Self {
        FailureThrottle {
            max_attempts: max_attempts.max(1),
            window,
            max_keys: max_keys.max(1),
            table: Mutex::new(Table {
                attempts: HashMap::new(),
                full_until: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table<K>> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves an attempt for `key` at `now`: it counts at once, checked and recorded in one
    /// step. `Err(retry_after)` when `key` has no attempt left in the window, or when `key` is
    /// new and the table is full of lockouts; nothing is recorded then.
    pub fn acquire(&self, key: K, now: Timestamp) -> Result<Attempt, Duration> {
        let cutoff = now.minus(self.window);
        let mut table = self.lock();
        if !table.attempts.contains_key(&key) && table.attempts.len() >= self.max_keys {
            self.make_room(&mut table, now);
            if table.attempts.len() >= self.max_keys {
                let free_at = table.full_until.unwrap_or(now.plus(self.window));
                tracing::warn!(keys = table.attempts.len(), "throttle table full");
                return Err(wait(now, free_at));
            }
        }
        let times = table.attempts.entry(key).or_default();
        while times.front().is_some_and(|&t| t <= cutoff) {
            times.pop_front();
        }
        if times.len() >= self.max_attempts {
            let oldest = times[times.len() - self.max_attempts];
            return Err(wait(now, oldest.plus(self.window)));
        }
        times.push_back(now);
        Ok(Attempt::new(now))
    }

    /// Gives back an attempt that turned out not to count.
    pub fn release(&self, key: &K, attempt: Attempt) {
        let mut table = self.lock();
        // The key may no longer be locked out: a full table is worth another look.
        table.full_until = None;
        if let Some(times) = table.attempts.get_mut(key) {
            if let Some(i) = times.iter().rposition(|&t| t == attempt.at) {
                times.remove(i);
            }
            if times.is_empty() {
                table.attempts.remove(key);
            }
        }
    }

    /// Forgets every attempt of `key` (after a success).
    pub fn reset(&self, key: &K) {
        let mut table = self.lock();
        table.attempts.remove(key);
        table.full_until = None;
    }

    /// How many keys are tracked (for tests and metrics).
    pub fn keys(&self) -> usize {
        self.lock().attempts.len()
    }

    /// Makes room in a full table, unless a previous try proved nothing can have changed: forgets
    /// attempts that left the window (and keys left with none), then evicts keys that are not
    /// locked out. When every key is a lockout, remembers when the earliest one ends.
    fn make_room(&self, table: &mut Table<K>, now: Timestamp) {
        if table.full_until.is_some_and(|until| now < until) {
            return;
        }
        let cutoff = now.minus(self.window);
        table.attempts.retain(|_, times| {
            while times.front().is_some_and(|&t| t <= cutoff) {
                times.pop_front();
            }
            !times.is_empty()
        });
        if table.attempts.len() >= self.max_keys {
            self.evict_unlocked(table);
        }
        table.full_until = if table.attempts.len() >= self.max_keys {
            // Every key is locked out; each ends when its max_attempts-th newest attempt leaves
            // the window.
            let ends = table.attempts.values().filter_map(|times| {
                let first_counted = times.len().checked_sub(self.max_attempts)?;
                Some(times[first_counted].plus(self.window))
            });
            ends.min()
        } else {
            None
        };
    }

    /// Evicts up to a [`EVICT_SHARE`]th of the table (at least one key), among keys that are not
    /// locked out: those with the fewest attempts, then the oldest newest attempt, first.
    fn evict_unlocked(&self, table: &mut Table<K>) {
        let batch = (self.max_keys / EVICT_SHARE).max(1);
        let mut open: Vec<(usize, Timestamp, &K)> = table
            .attempts
            .iter()
            .filter(|(_, times)| times.len() < self.max_attempts)
            .filter_map(|(key, times)| Some((times.len(), *times.back()?, key)))
            .collect();
        if open.len() > batch {
            open.select_nth_unstable_by_key(batch - 1, |&(count, newest, _)| (count, newest));
            open.truncate(batch);
        }
        let evicted: Vec<K> = open.into_iter().map(|(_, _, key)| key.clone()).collect();
        for key in &evicted {
            table.attempts.remove(key);
        }
    }
}

fn wait(now: Timestamp, free_at: Timestamp) -> Duration {
    Duration::from_millis((free_at.millis() - now.millis()).max(0) as u64).max(MIN_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn refuses_after_max_attempts_until_the_window_passes() {
        let throttle = FailureThrottle::new(3, MINUTE);
        let t0 = Timestamp(1_000_000);
        for i in 0..3 {
            assert!(
                throttle
                    .acquire("alice", t0.plus(Duration::from_secs(i)))
                    .is_ok()
            );
        }
        let wait = throttle
            .acquire("alice", t0.plus(Duration::from_secs(10)))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(throttle.acquire("bob", t0).is_ok(), "keys are independent");
        assert!(
            throttle
                .acquire("alice", t0.plus(Duration::from_secs(61)))
                .is_ok()
        );
        throttle.reset(&"alice");
        assert!(
            throttle
                .acquire("alice", t0.plus(Duration::from_secs(62)))
                .is_ok()
        );
    }

    #[test]
    fn a_released_attempt_no_longer_counts() {
        let throttle = FailureThrottle::new(2, MINUTE);
        let t0 = Timestamp(1_000_000);
        let first = throttle.acquire("alice", t0).unwrap();
        let _second = throttle.acquire("alice", t0).unwrap();
        assert!(throttle.acquire("alice", t0).is_err());
        throttle.release(&"alice", first);
        assert!(throttle.acquire("alice", t0).is_ok());
        assert!(throttle.acquire("alice", t0).is_err());
    }

    #[test]
    fn parallel_reservations_share_one_budget() {
        let throttle = FailureThrottle::new(5, MINUTE);
        let t0 = Timestamp(1_000_000);
        let granted: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..60)
                .map(|_| s.spawn(|| throttle.acquire("alice", t0).is_ok() as usize))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(granted, 5);
    }

    #[test]
    fn a_full_table_evicts_the_least_failed_keys_that_are_not_locked_out() {
        let throttle = FailureThrottle::with_max_keys(3, MINUTE, 3);
        let t0 = Timestamp(1_000_000);
        let at = |secs| t0.plus(Duration::from_secs(secs));
        for _ in 0..3 {
            let _ = throttle.acquire("victim", at(0)).unwrap();
        }
        assert!(throttle.acquire("victim", at(1)).is_err(), "locked out");
        for _ in 0..2 {
            let _ = throttle.acquire("close", at(1)).unwrap();
        }
        let _ = throttle.acquire("spray-1", at(2)).unwrap();

        // A spray of new keys evicts the keys with the fewest attempts, its own first.
        let _ = throttle.acquire("spray-2", at(3)).unwrap();
        assert_eq!(throttle.keys(), 3);
        let _ = throttle.acquire("spray-3", at(4)).unwrap();
        assert_eq!(throttle.keys(), 3);
        assert_eq!(
            throttle.acquire("close", at(5)).map(|_| ()),
            Ok(()),
            "close kept its two attempts and now spends its last"
        );
        assert!(
            throttle.acquire("close", at(5)).is_err(),
            "and is locked out"
        );
        assert!(
            throttle.acquire("victim", at(5)).is_err(),
            "still locked out"
        );

        // Every tracked key but one is a lockout: the next new key evicts that one.
        let _ = throttle.acquire("spray-4", at(6)).unwrap();
        assert!(throttle.acquire("victim", at(6)).is_err());
        assert!(throttle.acquire("close", at(6)).is_err());
        // spray-4 locks itself out; now every key is a lockout and a new key is refused until
        // the earliest lockout (victim's, from t0) ends.
        for _ in 0..2 {
            let _ = throttle.acquire("spray-4", at(7)).unwrap();
        }
        assert_eq!(
            throttle.acquire("newcomer", at(10)),
            Err(Duration::from_secs(50)),
            "fails closed"
        );
        assert!(
            throttle.acquire("victim", at(10)).is_err(),
            "no lockout lifted"
        );
        assert_eq!(throttle.keys(), 3);
        // Once victim's attempts leave the window, the newcomer gets its place.
        assert!(throttle.acquire("newcomer", at(61)).is_ok());
        assert!(
            throttle.acquire("spray-4", at(61)).is_err(),
            "a later lockout still holds"
        );
    }

    #[test]
    fn a_full_table_refuses_new_keys_but_never_lifts_a_lockout() {
        let throttle = FailureThrottle::with_max_keys(1, MINUTE, 3);
        let t0 = Timestamp(1_000_000);
        for key in ["a", "b", "c"] {
            let _ = throttle.acquire(key, t0).unwrap();
        }
        let refused = throttle.acquire("d", t0.plus(Duration::from_secs(20)));
        assert_eq!(refused, Err(Duration::from_secs(40)), "fails closed");
        assert_eq!(throttle.keys(), 3);
        assert!(
            throttle
                .acquire("a", t0.plus(Duration::from_secs(20)))
                .is_err(),
            "the lockout of a tracked key still holds"
        );
        // Once the old attempts leave the window, their keys are swept to make room.
        let later = t0.plus(Duration::from_secs(61));
        assert!(throttle.acquire("d", later).is_ok());
        assert_eq!(throttle.keys(), 1);
    }
}
