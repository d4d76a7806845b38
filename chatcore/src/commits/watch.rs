//! How a [`CommitFeed`](super::CommitFeed) learns that rooms have new messages: a set of
//! "dirty" rooms per feed, never a queue of messages, so it is bounded by the number of rooms
//! and cannot overflow however far behind the feed is.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::sync::Notify;

use crate::model::RoomId;

/// One feed's rooms with messages it may not have read, each with a mark counter.
#[derive(Default)]
pub(crate) struct Dirty {
    rooms: Mutex<BTreeMap<RoomId, u64>>,
    wake: Notify,
}

impl Dirty {
    // Held for map work only, never across an `.await`.
    fn rooms(&self) -> MutexGuard<'_, BTreeMap<RoomId, u64>> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes that `room` may have messages past what the feed has read.
    pub(crate) fn mark(&self, room: RoomId) {
        *self.rooms().entry(room).or_default() += 1;
        self.wake.notify_one();
    }

    /// A marked room and its mark count, without unmarking it (so a read cancelled half way
    /// loses nothing).
    pub(crate) fn first(&self) -> Option<(RoomId, u64)> {
        self.rooms().first_key_value().map(|(r, n)| (*r, *n))
    }

    /// Unmarks `room` if it was not marked again since [`Dirty::first`] answered `marks`.
    pub(crate) fn clear(&self, room: RoomId, marks: u64) {
        let mut rooms = self.rooms();
        if rooms.get(&room) == Some(&marks) {
            rooms.remove(&room);
        }
    }

    /// Waits for a mark made after the last wait (returns at once if one was made meanwhile).
    pub(crate) async fn marked(&self) {
        self.wake.notified().await;
    }
}

/// Every live feed of a chat, told about each commit. Feeds are held weakly: a dropped feed
/// falls out at the next commit.
#[derive(Default)]
pub(crate) struct Watchers {
    feeds: Mutex<Vec<Weak<Dirty>>>,
}

impl Watchers {
    fn feeds(&self) -> MutexGuard<'_, Vec<Weak<Dirty>>> {
        self.feeds.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new feed's set, told about every commit from now on.
    pub(crate) fn watch(&self) -> Arc<Dirty> {
        let dirty = Arc::new(Dirty::default());
        self.feeds().push(Arc::downgrade(&dirty));
        dirty
    }

    /// Tells every feed that `rooms` have new messages.
    pub(crate) fn committed(&self, rooms: impl Iterator<Item = RoomId> + Clone) {
        self.feeds().retain(|feed| match feed.upgrade() {
            Some(dirty) => {
                rooms.clone().for_each(|room| dirty.mark(room));
                true
            }
            None => false,
        });
    }
}
