//! Counting failures per key (a username, an IP address) in a sliding window.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use crate::model::Timestamp;

/// Above this many tracked keys, stale ones are swept on the next write.
const SWEEP_ABOVE: usize = 10_000;
/// If a sweep still leaves this many keys (an attack from that many sources within one window),
/// the table is cleared: failing open for a moment beats unbounded memory.
const HARD_CAP: usize = 100_000;

/// Allows at most `max_failures` failures per key within `window`; after that, the key is
/// refused until its oldest failure leaves the window.
#[derive(Debug)]
pub struct FailureThrottle<K> {
    max_failures: usize,
    window: Duration,
    // A std Mutex: each critical section is a few map operations, never across an await.
    failures: Mutex<HashMap<K, VecDeque<Timestamp>>>,
}

impl<K: Eq + Hash + Clone> FailureThrottle<K> {
    /// A throttle allowing `max_failures` per `window`.
    pub fn new(max_failures: usize, window: Duration) -> Self {
        FailureThrottle {
            max_failures: max_failures.max(1),
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, VecDeque<Timestamp>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(retry_after)` when `key` has used up its failures at `now`.
    pub fn check(&self, key: &K, now: Timestamp) -> Result<(), Duration> {
        let cutoff = now.minus(self.window);
        let map = self.lock();
        let Some(times) = map.get(key) else {
            return Ok(());
        };
        let recent: Vec<&Timestamp> = times.iter().filter(|&&t| t > cutoff).collect();
        if recent.len() < self.max_failures {
            return Ok(());
        }
        let oldest = recent[recent.len() - self.max_failures];
        let free_at = oldest.plus(self.window);
        Err(Duration::from_millis(
            (free_at.millis() - now.millis()).max(1000) as u64,
        ))
    }

    /// Records a failure for `key` at `now`.
    pub fn record_failure(&self, key: K, now: Timestamp) {
        let cutoff = now.minus(self.window);
        let mut map = self.lock();
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, times| times.back().is_some_and(|&t| t > cutoff));
            if map.len() > HARD_CAP {
                tracing::warn!(keys = map.len(), "throttle table full; clearing it");
                map.clear();
            }
        }
        let times = map.entry(key).or_default();
        while times.front().is_some_and(|&t| t <= cutoff) {
            times.pop_front();
        }
        times.push_back(now);
        if times.len() > self.max_failures {
            times.pop_front();
        }
    }

    /// Forgets the failures of `key` (after a success).
    pub fn reset(&self, key: &K) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_max_failures_until_the_window_passes() {
        let throttle = FailureThrottle::new(3, Duration::from_secs(60));
        let t0 = Timestamp(1_000_000);
        for i in 0..3 {
            assert!(throttle.check(&"alice", t0).is_ok());
            throttle.record_failure("alice", t0.plus(Duration::from_secs(i)));
        }
        let wait = throttle
            .check(&"alice", t0.plus(Duration::from_secs(10)))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(throttle.check(&"bob", t0).is_ok(), "keys are independent");
        assert!(
            throttle
                .check(&"alice", t0.plus(Duration::from_secs(61)))
                .is_ok()
        );
        throttle.reset(&"alice");
        assert!(
            throttle
                .check(&"alice", t0.plus(Duration::from_secs(10)))
                .is_ok()
        );
    }
}
