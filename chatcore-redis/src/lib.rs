//! # chatcore-redis
//!
//! A [`Broker`] on Redis pub/sub: the nodes of one chat (several processes on one shared
//! store) tell each other what they committed, so each delivers it to its own live connections.
//!
//! ```no_run
//! # async fn run(store: std::sync::Arc<dyn chatcore::Store>) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use chatcore::{Chat, MemoryMediaStore};
//! use chatcore_redis::RedisBroker;
//!
//! let broker = RedisBroker::new("redis://127.0.0.1:6379")?;
//! let chat = Chat::builder(store, Arc::new(MemoryMediaStore::new()))
//!     .broker(Arc::new(broker))
//!     .start(&tokio::runtime::Handle::current())?;
//! # Ok(()) }
//! ```
//!
//! Every name a chat uses in Redis starts with its prefix ([`DEFAULT_PREFIX`], `chatcore`,
//! unless told otherwise): the channel `{prefix}:events` and the counters' keys
//! `{prefix}:attempts:…` and `{prefix}:budget:…`. Chats that share one Redis (or the tests of
//! one machine) each take their own prefix and never hear or count each other
//! ([`RedisBroker::with_prefix`], [`RedisAttempts::with_prefix`], [`RedisBudgets::with_prefix`]).
//!
//! Every node publishes to and subscribes to the one channel, so every node receives every
//! notice and skips those about rooms it has no connection in. Notices are small (ids and
//! seqs; messages are read from the store), which keeps one channel cheap for the handful of
//! nodes one database serves.
//!
//! Both connections reconnect by themselves. While Redis is unreachable each node keeps
//! serving its own connections; what it publishes meanwhile waits in a bounded queue (and is
//! dropped when the queue is full, after which the node asks every other node to catch up from
//! the store). When the subscribing connection comes back, the node catches up from the store.
//! Redis is never the source of truth: losing it loses no message.
//!
//! The same Redis also keeps the limits every node must count together: throttle windows
//! ([`RedisAttempts`], for `ChatConfig::attempts`) and per-user budgets ([`RedisBudgets`], for
//! `ChatConfig::budgets`), each an atomic Lua script per call. While Redis does not answer, a
//! node counts alone.

mod attempts;
mod budgets;
mod commands;
mod publisher;
mod subscriber;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(test)]
mod tests;

pub use attempts::RedisAttempts;
pub use budgets::RedisBudgets;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chatcore::{Broker, Inbox};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

/// The first part of every channel and key a chat uses in Redis unless told otherwise.
pub const DEFAULT_PREFIX: &str = "chatcore";

/// The longest prefix accepted (a prefix starts every key, so it is kept short).
pub const MAX_PREFIX_LEN: usize = 64;

/// Payloads waiting to be published; more are dropped (and the other nodes catch up later).
const OUTBOX_CAPACITY: usize = 8192;

/// The longest a node waits between two attempts to reach Redis.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How long one attempt to connect or to answer a ping may take before the connection is
/// considered lost.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Why a broker or a counter could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisBrokerError {
    /// The URL is not a Redis URL (`redis://[user:password@]host[:port][/db]`).
    #[error("invalid Redis URL: {0}")]
    InvalidUrl(#[source] redis::RedisError),
    /// The prefix is empty, longer than [`MAX_PREFIX_LEN`], or has a character other than
    /// ASCII letters, digits and `:` `_` `-` `.`.
    #[error("invalid Redis prefix {0:?}: 1 to 64 ASCII letters, digits or `:` `_` `-` `.`")]
    InvalidPrefix(String),
}

/// Checks that `prefix` can start a chat's Redis names (see [`RedisBrokerError::InvalidPrefix`]).
pub(crate) fn check_prefix(prefix: &str) -> Result<(), RedisBrokerError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '.');
    if prefix.is_empty() || prefix.len() > MAX_PREFIX_LEN || !prefix.chars().all(allowed) {
        return Err(RedisBrokerError::InvalidPrefix(prefix.to_owned()));
    }
    Ok(())
}

/// Carries a chat's notices between its nodes through Redis pub/sub.
///
/// Made without connecting ([`RedisBroker::new`] only checks the URL); connecting, and
/// reconnecting after any failure, happens in the background once the chat starts it. Hand
/// one to each node's [`ChatBuilder::broker`](chatcore::ChatBuilder::broker).
pub struct RedisBroker {
    client: redis::Client,
    channel: String,
    outbox: mpsc::Sender<Bytes>,
    /// Taken by [`Broker::start`]: the publishing task's end of the queue.
    pending: Mutex<Option<mpsc::Receiver<Bytes>>>,
    /// Set when a payload was dropped because the queue was full.
    dropped: Arc<std::sync::atomic::AtomicBool>,
}

impl RedisBroker {
    /// A broker for the Redis at `url` (`redis://host:port`), under [`DEFAULT_PREFIX`].
    pub fn new(url: &str) -> Result<Self, RedisBrokerError> {
        Self::with_prefix(url, DEFAULT_PREFIX)
    }

    /// Like [`RedisBroker::new`], on the channel `{prefix}:events`: chats that share one Redis
    /// need one prefix each.
    pub fn with_prefix(url: &str, prefix: &str) -> Result<Self, RedisBrokerError> {
        check_prefix(prefix)?;
        let client = redis::Client::open(url).map_err(RedisBrokerError::InvalidUrl)?;
        let (outbox, pending) = mpsc::channel(OUTBOX_CAPACITY);
        Ok(RedisBroker {
            client,
            channel: format!("{prefix}:events"),
            outbox,
            pending: Mutex::new(Some(pending)),
            dropped: Arc::default(),
        })
    }

    /// The channel this broker publishes and subscribes to.
    pub fn channel(&self) -> &str {
        &self.channel
    }
}

impl Broker for RedisBroker {
    fn publish(&self, payload: Bytes) {
        if self.outbox.try_send(payload).is_err() {
            self.dropped
                .store(true, std::sync::atomic::Ordering::Release);
        }
    }

    fn start(&self, runtime: &Handle, inbox: Inbox) {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(pending) = pending else {
            tracing::warn!("a RedisBroker was started twice; it serves the first chat only");
            return;
        };
        runtime.spawn(
            publisher::Publisher {
                client: self.client.clone(),
                channel: self.channel.clone(),
                queue: pending,
                dropped: Arc::clone(&self.dropped),
                inbox: inbox.clone(),
            }
            .run(),
        );
        runtime.spawn(subscriber::run(
            self.client.clone(),
            self.channel.clone(),
            inbox,
        ));
    }
}

impl std::fmt::Debug for RedisBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBroker")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// Waits before the next attempt: doubles `backoff` up to [`MAX_BACKOFF`]. Returns false when
/// the chat stopped meanwhile.
async fn back_off(backoff: &mut Duration, inbox: &Inbox) -> bool {
    let wait = *backoff;
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
    tokio::select! {
        () = inbox.stopped() => false,
        () = tokio::time::sleep(wait) => true,
    }
}

/// The first wait after a failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

/// The error of a call that Redis did not answer in time.
fn timed_out() -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Io, "timed out"))
}
