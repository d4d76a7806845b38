//! One subscriber's bounded event queue: publishers never wait, the subscriber takes
//! everything queued in one go.
//!
//! A tokio `mpsc` channel would cost a semaphore permit, a list push and a wake-up per event;
//! a room with a hundred live members receiving a commit of forty messages would pay that
//! 4,000 times. Here a publisher adds a whole burst under one short lock and wakes the
//! subscriber once, and the subscriber swaps the queue out under one lock.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::Event;

/// The shared half, held by the hub's routing tables and by the subscription.
#[derive(Debug)]
pub(super) struct EventQueue {
    /// Events published and not yet taken by the subscriber. A std mutex: held for a few
    /// pushes or one swap, never across an await.
    queued: Mutex<VecDeque<Arc<Event>>>,
    /// Events published and not yet handed out by [`Taken::next`]: the queued ones plus the
    /// ones the subscriber took but has not consumed. This is what the capacity bounds.
    held: AtomicUsize,
    capacity: usize,
    /// Signalled when an event arrives in an empty queue (a permit is stored if nobody waits).
    ready: Notify,
}

impl EventQueue {
    pub(super) fn new(capacity: usize) -> Self {
        EventQueue {
            queued: Mutex::new(VecDeque::new()),
            held: AtomicUsize::new(0),
            capacity,
            ready: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Event>>> {
        // Every change under the lock is a push or a swap: a panic cannot leave it half-done.
        self.queued.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues all of `events`, or none when they do not fit (the subscriber lags).
    pub(super) fn offer(&self, events: &[Arc<Event>]) -> bool {
        let was_empty = {
            let mut queued = self.lock();
            if self.held.load(Ordering::Acquire) + events.len() > self.capacity {
                return false;
            }
            self.held.fetch_add(events.len(), Ordering::AcqRel);
            let was_empty = queued.is_empty();
            queued.extend(events.iter().cloned());
            was_empty
        };
        if was_empty {
            self.ready.notify_one();
        }
        true
    }

    /// Moves everything queued into `taken` (which must be empty); false when nothing was.
    pub(super) fn take(&self, taken: &mut Taken) -> bool {
        debug_assert!(
            taken.events.is_empty(),
            "take only when all taken were handed out"
        );
        let mut queued = self.lock();
        if queued.is_empty() {
            return false;
        }
        std::mem::swap(&mut *queued, &mut taken.events);
        true
    }

    /// Resolves when an event may have arrived in an empty queue. Cancel-safe.
    pub(super) async fn ready(&self) {
        self.ready.notified().await;
    }
}

/// The subscriber's private half: events taken from the queue and not yet handed out.
#[derive(Debug, Default)]
pub(super) struct Taken {
    events: VecDeque<Arc<Event>>,
}

impl Taken {
    /// The next taken event, counted out of the queue's capacity.
    pub(super) fn next(&mut self, queue: &EventQueue) -> Option<Arc<Event>> {
        let event = self.events.pop_front()?;
        queue.held.fetch_sub(1, Ordering::AcqRel);
        Some(event)
    }
}
