//! Per-connection, per-room delivery cursors: what makes delivery gapless and duplicate-free.
//!
//! Each connection remembers, per room, the last `seq` it delivered. A live message at or
//! below it is a duplicate (dropped); the next one is delivered; one further ahead means the
//! connection missed something (a publish-order race between concurrent senders, or a resume)
//! and the range in between is read from the store first. Rooms the connection has no cursor
//! for (joined after connect) start at their first live message.

use std::collections::HashMap;

use chatcore::{RoomId, Seq};

/// What to do with a live message of a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Live {
    /// Deliver it: it is the next one, or the first one seen of the room.
    Deliver,
    /// Already delivered (or covered by a `resync`): drop it.
    Duplicate,
    /// Messages `after + 1 .. seq` were not delivered yet: backfill from the store.
    Gap {
        /// The last seq delivered.
        after: Seq,
    },
}

/// The last delivered seq per room of one connection.
#[derive(Debug, Default)]
pub(crate) struct Cursors {
    last: HashMap<RoomId, Seq>,
}

impl Cursors {
    /// Cursors at each room's newest seq as of connect (what `hello` told the client).
    pub(crate) fn new(rooms: impl IntoIterator<Item = (RoomId, Seq)>) -> Self {
        Cursors {
            last: rooms.into_iter().collect(),
        }
    }

    /// Classifies a live message `seq` of `room`.
    pub(crate) fn check(&self, room: RoomId, seq: Seq) -> Live {
        match self.last.get(&room) {
            None => Live::Deliver,
            Some(&last) if seq <= last => Live::Duplicate,
            Some(&last) if seq == last + 1 => Live::Deliver,
            Some(&last) => Live::Gap { after: last },
        }
    }

    /// The last seq delivered in `room`, if the connection tracks it.
    pub(crate) fn get(&self, room: RoomId) -> Option<Seq> {
        self.last.get(&room).copied()
    }

    /// Records `seq` as the last delivered (or skipped over) in `room`.
    pub(crate) fn set(&mut self, room: RoomId, seq: Seq) {
        self.last.insert(room, seq);
    }

    /// Forgets `room` (the user left it or was removed).
    pub(crate) fn remove(&mut self, room: RoomId) {
        self.last.remove(&room);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: RoomId = RoomId(1);

    #[test]
    fn next_is_delivered_old_is_dropped_jump_is_a_gap() {
        let mut c = Cursors::new([(R, 5)]);
        assert_eq!(c.check(R, 5), Live::Duplicate);
        assert_eq!(c.check(R, 6), Live::Deliver);
        assert_eq!(c.check(R, 9), Live::Gap { after: 5 });
        c.set(R, 9);
        assert_eq!(c.check(R, 7), Live::Duplicate);
        assert_eq!(
            c.check(RoomId(2), 40),
            Live::Deliver,
            "unknown rooms start where they are"
        );
        c.remove(R);
        assert_eq!(c.get(R), None);
    }
}
