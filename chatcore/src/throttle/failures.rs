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

/// Most keys a throttle tracks by default. Keys whose attempts all left the window are swept
/// when the table is full; live ones are never dropped (that would lift a lockout).
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// The shortest `retry_after` a refusal reports.
const MIN_RETRY: Duration = Duration::from_secs(1);

/// Allows at most `max_attempts` attempts per key within `window`; after that, the key is
/// refused until its oldest attempt leaves the window.
///
/// Memory is bounded: at most `max_keys` keys, each with at most `max_attempts` timestamps.
/// When the table is full of keys with attempts inside the window, a *new* key is refused
/// (fail closed) until the earliest of them expires: an attacker who fills the table slows
/// everyone down for at most one window, but never lifts anyone's lockout.
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
    /// After a sweep that left the table full: no entry expires before this instant, so
    /// sweeping again earlier would find nothing to remove.
    full_until: Option<Timestamp>,
}

/// One reserved attempt, to give back with [`FailureThrottle::release`] if it did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "an attempt that should not count must be released"]
pub struct Attempt {
    at: Timestamp,
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
    /// step. `Err(retry_after)` when `key` has no attempt left in the window, or when the table
    /// is full and `key` is not in it; nothing is recorded then.
    pub fn acquire(&self, key: K, now: Timestamp) -> Result<Attempt, Duration> {
        let cutoff = now.minus(self.window);
        let mut table = self.lock();
        if !table.attempts.contains_key(&key) && table.attempts.len() >= self.max_keys {
            self.sweep(&mut table, now);
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
        Ok(Attempt { at: now })
    }

    /// Gives back an attempt that turned out not to count.
    pub fn release(&self, key: &K, attempt: Attempt) {
        let mut table = self.lock();
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
        self.lock().attempts.remove(key);
    }

    /// How many keys are tracked (for tests and metrics).
    pub fn keys(&self) -> usize {
        self.lock().attempts.len()
    }

    /// Drops keys whose attempts all left the window, unless a previous sweep proved none can
    /// have expired yet. Remembers when the earliest remaining key expires.
    fn sweep(&self, table: &mut Table<K>, now: Timestamp) {
        if table.full_until.is_some_and(|until| now < until) {
            return;
        }
        let cutoff = now.minus(self.window);
        table
            .attempts
            .retain(|_, times| times.back().is_some_and(|&t| t > cutoff));
        table.full_until = table
            .attempts
            .values()
            .filter_map(|times| times.back())
            .min()
            .map(|&newest| newest.plus(self.window));
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
