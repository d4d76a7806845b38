//! Attempt windows that several nodes share, so that a client hopping between the nodes of one
//! chat meets one limit, not one per node.
//!
//! A [`Throttle`] is a [`FailureThrottle`] with a name; given an [`AttemptStore`] (Redis, say)
//! it keeps its attempts there instead, under `{name}:{key}`. When the store does not answer,
//! the throttle decides with its own table in this process: a broken store loosens a limit to
//! one per node for as long as it is away, never refuses everyone.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::failures::MIN_RETRY;
use super::{Attempt, FailureThrottle};
use crate::model::Timestamp;

/// At most `max` attempts per key within `within`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Attempts allowed in the window (at least 1).
    pub max: usize,
    /// How long an attempt counts.
    pub within: Duration,
}

/// The shared store could not be asked (unreachable, timed out, or it answered nonsense).
#[derive(Debug, thiserror::Error)]
#[error("the shared attempt store did not answer: {0}")]
pub struct Unreachable(pub String);

/// Keeps attempt windows for every node of a chat.
///
/// Each call is one atomic step in the store, so parallel requests on different nodes share
/// one window exactly as [`FailureThrottle`] makes parallel requests in one process do.
#[async_trait]
pub trait AttemptStore: Send + Sync + 'static {
    /// In one step: forgets `key`'s attempts older than `window.within` before `attempt.at()`,
    /// then records `attempt` and answers `None` if fewer than `window.max` remain, or records
    /// nothing and answers `Some(retry_after)`, the wait until the oldest counted attempt leaves
    /// the window.
    async fn acquire(
        &self,
        key: &str,
        window: Window,
        attempt: Attempt,
    ) -> Result<Option<Duration>, Unreachable>;

    /// Forgets `attempt` of `key` (it turned out not to count).
    async fn release(&self, key: &str, attempt: Attempt) -> Result<(), Unreachable>;

    /// Forgets every attempt of `key` (after a success).
    async fn reset(&self, key: &str) -> Result<(), Unreachable>;
}

/// The attempt store a chat's throttles share: a cheap, cloneable handle.
#[derive(Clone)]
pub struct SharedAttempts(Arc<dyn AttemptStore>);

impl SharedAttempts {
    /// Uses `store` (e.g. one shared by every node).
    pub fn new(store: Arc<dyn AttemptStore>) -> Self {
        SharedAttempts(store)
    }
}

impl fmt::Debug for SharedAttempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedAttempts").finish_non_exhaustive()
    }
}

/// A named sliding-window limit, kept in this process or in a [`SharedAttempts`] store.
pub struct Throttle<K> {
    name: &'static str,
    window: Window,
    /// The table used without a shared store, and while it does not answer.
    local: FailureThrottle<K>,
    shared: Option<SharedAttempts>,
}

impl<K: Eq + Hash + Clone + fmt::Display> Throttle<K> {
    /// A limit called `name` (the first part of its keys in a shared store, e.g. `login`) of at
    /// most `max` attempts per key within `within`, kept in `shared` when given.
    pub fn new(
        name: &'static str,
        max: usize,
        within: Duration,
        shared: Option<SharedAttempts>,
    ) -> Self {
        let window = Window {
            max: max.max(1),
            within,
        };
        Throttle {
            name,
            window,
            local: FailureThrottle::new(window.max, within),
            shared,
        }
    }

    fn shared_key(&self, key: &K) -> String {
        format!("{}:{key}", self.name)
    }

    /// Reserves an attempt for `key` at `now`, checked and recorded in one step;
    /// `Err(retry_after)` when `key` has no attempt left in the window.
    pub async fn acquire(&self, key: K, now: Timestamp) -> Result<Attempt, Duration> {
        if let Some(SharedAttempts(store)) = &self.shared {
            let attempt = Attempt::new(now);
            match store
                .acquire(&self.shared_key(&key), self.window, attempt)
                .await
            {
                Ok(None) => return Ok(attempt),
                Ok(Some(retry_after)) => return Err(retry_after.max(MIN_RETRY)),
                Err(err) => tracing::warn!(%err, throttle = self.name, "deciding locally"),
            }
        }
        self.local.acquire(key, now)
    }

    /// Gives back an attempt that turned out not to count.
    pub async fn release(&self, key: &K, attempt: Attempt) {
        if let Some(SharedAttempts(store)) = &self.shared
            && let Err(err) = store.release(&self.shared_key(key), attempt).await
        {
            tracing::warn!(%err, throttle = self.name, "could not give an attempt back");
        }
        self.local.release(key, attempt);
    }

    /// Forgets every attempt of `key` (after a success).
    pub async fn reset(&self, key: &K) {
        if let Some(SharedAttempts(store)) = &self.shared
            && let Err(err) = store.reset(&self.shared_key(key)).await
        {
            tracing::warn!(%err, throttle = self.name, "could not forget attempts");
        }
        self.local.reset(key);
    }

    /// The table kept in this process (used without a shared store, and while it is away).
    pub fn local(&self) -> &FailureThrottle<K> {
        &self.local
    }
}

impl<K> fmt::Debug for Throttle<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Throttle")
            .field("name", &self.name)
            .field("window", &self.window)
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A store that is away while `down` is set, and otherwise counts attempts per key without
    /// a window (enough to see which table decided).
    #[derive(Default)]
    struct Counting {
        down: Mutex<bool>,
        keys: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl AttemptStore for Counting {
        async fn acquire(
            &self,
            key: &str,
            window: Window,
            _attempt: Attempt,
        ) -> Result<Option<Duration>, Unreachable> {
            if *self.down.lock().unwrap() {
                return Err(Unreachable("down".into()));
            }
            let mut keys = self.keys.lock().unwrap();
            if keys.iter().filter(|k| *k == key).count() >= window.max {
                return Ok(Some(Duration::from_secs(7)));
            }
            keys.push(key.to_owned());
            Ok(None)
        }

        async fn release(&self, key: &str, _attempt: Attempt) -> Result<(), Unreachable> {
            let mut keys = self.keys.lock().unwrap();
            if let Some(i) = keys.iter().position(|k| k == key) {
                keys.remove(i);
            }
            Ok(())
        }

        async fn reset(&self, key: &str) -> Result<(), Unreachable> {
            self.keys.lock().unwrap().retain(|k| k != key);
            Ok(())
        }
    }

    const NOW: Timestamp = Timestamp(1_000_000);

    #[tokio::test]
    async fn a_shared_store_decides_under_the_throttles_name() {
        let store = Arc::new(Counting::default());
        let shared = SharedAttempts::new(store.clone());
        let node1 = Throttle::new("login", 2, Duration::from_secs(60), Some(shared.clone()));
        let node2 = Throttle::new("login", 2, Duration::from_secs(60), Some(shared));
        let first = node1.acquire("alice".to_owned(), NOW).await.unwrap();
        let _counted = node2.acquire("alice".to_owned(), NOW).await.unwrap();
        assert_eq!(
            node2.acquire("alice".to_owned(), NOW).await,
            Err(Duration::from_secs(7)),
            "two nodes, one window"
        );
        assert_eq!(store.keys.lock().unwrap()[0], "login:alice");
        node1.release(&"alice".to_owned(), first).await;
        let _counted = node2.acquire("alice".to_owned(), NOW).await.unwrap();
        node1.reset(&"alice".to_owned()).await;
        assert!(store.keys.lock().unwrap().is_empty());
        assert_eq!(node1.local().keys(), 0, "the local table was not used");
    }

    #[tokio::test]
    async fn an_unreachable_store_leaves_the_decision_to_this_node() {
        let store = Arc::new(Counting::default());
        *store.down.lock().unwrap() = true;
        let throttle = Throttle::new(
            "login",
            1,
            Duration::from_secs(60),
            Some(SharedAttempts::new(store)),
        );
        let _counted = throttle.acquire("bob".to_owned(), NOW).await.unwrap();
        let refused = throttle.acquire("bob".to_owned(), NOW).await.unwrap_err();
        assert_eq!(refused, Duration::from_secs(60), "the local window refused");
    }
}
