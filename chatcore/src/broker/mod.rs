//! Several nodes, one chat: the seam to a broker that carries live events between processes
//! serving the same store.
//!
//! A single process needs none of this: its [`Hub`](crate::Chat::connect) delivers in-process.
//! When several nodes share one store (behind a load balancer), each node tells the others
//! what it committed through a [`Broker`] (pub/sub such as Redis: the `chatcore-redis` crate),
//! and each node delivers to its own live connections.
//!
//! The store is the source of truth and the broker only a hint. A node hears "room 7 has
//! messages up to 12", reads from the store everything after the last message it delivered in
//! room 7, and delivers it in seq order: a lost, duplicated or overtaken notice costs a read,
//! never a message, and never a gap or a duplicate. After the broker reconnects (or the node's
//! inbox overflowed) the node catches up from the store for every room it has live
//! connections in. Pub/sub is at most once; the store makes delivery exactly once.

mod notice;
mod relay;

pub(crate) use notice::Notice;
pub(crate) use relay::Relay;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;

use crate::model::{RoomId, Seq};
use tokio::runtime::Handle;
use tokio::sync::{Notify, mpsc, watch};

/// Carries opaque payloads from each node of a chat to all the others.
///
/// chatcore decides what a payload says and copes with what pub/sub does to it: a payload may
/// be lost, duplicated, reordered or echoed back to its sender. What an implementation must do:
///
/// - [`Broker::publish`] never waits: it queues the payload (bounded) and sends it in the
///   background, dropping it when the queue is full or the broker is unreachable for long.
///   When it dropped any, it publishes [`Inbox::catch_up_request`] once it can send again, so
///   the other nodes re-read what they missed from the store.
/// - [`Broker::start`] delivers every payload other nodes publish to [`Inbox::deliver`], and
///   calls [`Inbox::reconnected`] each time it subscribes again after losing its connection.
/// - Its tasks end when [`Inbox::stopped`] resolves (the chat is shutting down).
pub trait Broker: Send + Sync + 'static {
    /// Sends `payload` to every other node, at most once. Never waits.
    fn publish(&self, payload: Bytes);

    /// Starts receiving on `runtime`: other nodes' payloads go to `inbox` until it is stopped.
    fn start(&self, runtime: &Handle, inbox: Inbox);
}

/// Notices waiting for the relay; more are dropped, and the node catches up from the store.
const INBOX_CAPACITY: usize = 4096;

/// Where a [`Broker`] hands what it receives. Cloning is shallow.
#[derive(Clone)]
pub struct Inbox {
    shared: Arc<InboxShared>,
}

pub(crate) struct InboxShared {
    /// This node's id: its own notices, echoed by the broker, are skipped.
    node: u64,
    /// Notices with the node that sent them.
    queue: mpsc::Sender<(u64, Notice)>,
    /// Set when notices may have been missed; the relay then catches up from the store.
    catch_up: AtomicBool,
    wake: Notify,
    stopping: watch::Receiver<bool>,
}

impl Inbox {
    /// An inbox for node `node` whose notices the returned receiver yields to the relay, and
    /// which stops when `stopping` turns true.
    pub(crate) fn new(
        node: u64,
        stopping: watch::Receiver<bool>,
    ) -> (Inbox, mpsc::Receiver<(u64, Notice)>) {
        let (queue, notices) = mpsc::channel(INBOX_CAPACITY);
        let shared = Arc::new(InboxShared {
            node,
            queue,
            catch_up: AtomicBool::new(false),
            wake: Notify::new(),
            stopping,
        });
        (Inbox { shared }, notices)
    }

    /// Takes a payload another node published. Never waits: when the node is too far behind,
    /// the payload is dropped and the node catches up from the store instead. Payloads this
    /// node sent, and ones it cannot read (garbage, another version), are ignored.
    pub fn deliver(&self, payload: &[u8]) {
        let Some((node, notice)) = Notice::decode(payload) else {
            tracing::warn!(
                bytes = payload.len(),
                "dropped an unreadable broker payload"
            );
            return;
        };
        if node == self.shared.node {
            return;
        }
        if notice == Notice::CatchUp {
            self.reconnected();
            return;
        }
        if self.shared.queue.try_send((node, notice)).is_err() {
            self.reconnected();
        }
    }

    /// Tells the node that payloads may have been missed (the broker's connection was lost and
    /// is back): it re-reads from the store what its live connections have not seen.
    pub fn reconnected(&self) {
        self.shared.catch_up.store(true, Ordering::Release);
        self.shared.wake.notify_one();
    }

    /// The payload a broker publishes after it had to drop some of this node's payloads: every
    /// node that receives it catches up from the store.
    pub fn catch_up_request(&self) -> Bytes {
        Notice::CatchUp.encode(self.shared.node)
    }

    /// Resolves when the chat is shutting down; broker tasks end then.
    pub async fn stopped(&self) {
        let mut stopping = self.shared.stopping.clone();
        // An error means the chat is gone: stop as well.
        let _gone = stopping.wait_for(|stopping| *stopping).await;
    }

    /// Asks the relay to fill `room` from the store up to `seq`, a message held back for a
    /// gap before it; when the relay is too far behind, it catches up instead.
    pub(crate) fn fill_gap(&self, room: RoomId, seq: Seq) {
        let fill = Notice::Messages {
            room,
            first: seq,
            last: seq,
        };
        if self
            .shared
            .queue
            .try_send((self.shared.node, fill))
            .is_err()
        {
            self.reconnected();
        }
    }

    /// Whether a catch-up was requested since the last call (clears the request).
    pub(crate) fn take_catch_up(&self) -> bool {
        self.shared.catch_up.swap(false, Ordering::AcqRel)
    }

    /// Resolves when a catch-up may have been requested. Cancel-safe.
    pub(crate) async fn catch_up_requested(&self) {
        self.shared.wake.notified().await;
    }
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("node", &self.shared.node)
            .finish_non_exhaustive()
    }
}

/// How this node sends notices: the broker and the node's id.
#[derive(Clone)]
pub(crate) struct Outbox {
    broker: Arc<dyn Broker>,
    node: u64,
}

impl Outbox {
    /// An outbox through `broker` for a node with a fresh random id.
    pub(crate) fn new(broker: Arc<dyn Broker>) -> Self {
        let mut id = [0u8; 8];
        #[allow(clippy::expect_used)]
        getrandom::fill(&mut id).expect("the OS random number generator failed");
        Outbox {
            broker,
            node: u64::from_le_bytes(id),
        }
    }

    /// This node's id.
    pub(crate) fn node(&self) -> u64 {
        self.node
    }

    /// The broker.
    pub(crate) fn broker(&self) -> &Arc<dyn Broker> {
        &self.broker
    }

    /// Tells the other nodes.
    pub(crate) fn tell(&self, notice: &Notice) {
        self.broker.publish(notice.encode(self.node));
    }
}

#[cfg(test)]
mod tests;
