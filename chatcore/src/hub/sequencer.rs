//! Publishing each room's new messages in seq order.
//!
//! Concurrent sends to one room commit in seq order, but the tasks that committed them wake up
//! in any order (a group commit answers a whole batch at once), so their publishes would reach
//! the hub shuffled. Every connection would then see a "gap", fetch the missing messages from
//! the store, and drop the late live copies: correct, but a store read per connection per
//! message. The sequencer holds an early message back until the ones before it are published.
//!
//! It never waits long: a gap that is not filled within [`GAP_WAIT`] (a send cancelled between
//! its commit and its publish, or a message committed by another node) is released as is, and
//! connections fill it from the store as before; on a node with a broker, the relay reads the
//! missing messages from the store first, so the node publishes the room without a gap. A
//! message behind the room's point is dropped: it was published, filled or skipped already.
//!
//! Deciding the order is not enough: two tasks told "publish 19" and "publish 20" one after the
//! other could still reach the queues in the other order. So the order is decided through a
//! [`Turn`], held until what it made ready is in the queues.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::model::{RoomId, Seq};

use super::Event;

/// How long an early message waits for the ones before it.
pub const GAP_WAIT: Duration = Duration::from_millis(25);

/// Per-room publication order. One entry per room that has had a message since start-up.
#[derive(Debug, Default)]
pub(super) struct Sequencer {
    // A std Mutex: each critical section is a few map operations, never across an await.
    rooms: Mutex<HashMap<RoomId, RoomOrder>>,
}

#[derive(Debug)]
struct RoomOrder {
    next: Seq,
    waiting: BTreeMap<Seq, Event>,
}

/// What to do after offering a message.
pub(super) enum Offer {
    /// Publish these now, in this order.
    Ready(Vec<Event>),
    /// The message waits for earlier ones; call [`Turn::release`] after [`GAP_WAIT`].
    Held,
}

/// Exclusive use of every room's order. Whoever holds it publishes what it made ready before
/// letting go, so publications reach the queues in the order they were decided.
pub(super) struct Turn<'a>(MutexGuard<'a, HashMap<RoomId, RoomOrder>>);

impl Sequencer {
    fn lock(&self) -> MutexGuard<'_, HashMap<RoomId, RoomOrder>> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for, and takes, the turn to decide and publish.
    pub(super) fn turn(&self) -> Turn<'_> {
        Turn(self.lock())
    }

    /// The next seq expected in `room`, if the room has been seen.
    pub(super) fn next(&self, room: RoomId) -> Option<Seq> {
        self.lock().get(&room).map(|order| order.next)
    }

    /// Starts `room`'s order after `seq`, unless the room has been seen already.
    pub(super) fn start_after(&self, room: RoomId, seq: Seq) {
        self.lock().entry(room).or_insert_with(|| RoomOrder {
            next: seq + 1,
            waiting: BTreeMap::new(),
        });
    }

    /// Forgets `room` and whatever waits in it (nobody here receives it).
    pub(super) fn forget(&self, room: RoomId) {
        self.lock().remove(&room);
    }
}

impl Turn<'_> {
    /// Offers message `seq` of `room`. The first message seen in a room sets its starting point.
    pub(super) fn offer(&mut self, room: RoomId, seq: Seq, event: Event) -> Offer {
        let order = self.0.entry(room).or_insert_with(|| RoomOrder {
            next: seq,
            waiting: BTreeMap::new(),
        });
        if seq < order.next {
            // Late: it was released past (connections filled it from the store when they saw
            // the jump), published already (read from the store by the relay), or came before
            // this room's first message (connections that need it fill it when they see that
            // one). Publishing it now would only be a duplicate, or out of order.
            return Offer::Ready(Vec::new());
        }
        if seq > order.next {
            order.waiting.insert(seq, event);
            return Offer::Held;
        }
        let mut ready = vec![event];
        order.next = seq + 1;
        while let Some(event) = order.waiting.remove(&order.next) {
            ready.push(event);
            order.next += 1;
        }
        Offer::Ready(ready)
    }

    /// Gives up waiting for the gap before `seq` in `room`: everything held up to and including
    /// `seq`, and what follows it without a gap, is returned in order.
    pub(super) fn release(&mut self, room: RoomId, seq: Seq) -> Vec<Event> {
        let Some(order) = self.0.get_mut(&room) else {
            return Vec::new();
        };
        if order.next > seq {
            return Vec::new();
        }
        let later = order.waiting.split_off(&(seq + 1));
        let mut ready: Vec<Event> = std::mem::replace(&mut order.waiting, later)
            .into_values()
            .collect();
        order.next = seq + 1;
        while let Some(event) = order.waiting.remove(&order.next) {
            ready.push(event);
            order.next += 1;
        }
        ready
    }
}
