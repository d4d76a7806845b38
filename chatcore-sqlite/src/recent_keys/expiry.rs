//! Which keys have left the window, without a timestamp per key.
//!
//! The writer assigns message ids in increasing order and records each key once, in id order,
//! so the keys form one sequence. [`Expiry`] cuts that sequence into slices (one per
//! [`SLICE`] of `created_at`) and keeps, per slice, its last id, the newest `created_at` of every
//! key up to it and how many keys it holds: a few thousand small marks for a day, whatever the
//! rate. A slice leaves the window once that newest `created_at` is older than the window
//! before the newest key, so no key leaves early, even when the clock stepped back (a key
//! created "earlier" than one before it waits for it), and none stays more than one slice late.

use std::collections::VecDeque;
use std::time::Duration;

use chatcore::{MessageId, Timestamp};

use super::IDEMPOTENCY_WINDOW;

/// How much later than [`IDEMPOTENCY_WINDOW`] a key may leave the window: the `created_at` span
/// of one slice.
pub(super) const SLICE: Duration = Duration::from_secs(60);

/// A run of consecutive keys, the last of them at `last_id`.
#[derive(Debug)]
struct Slice {
    last_id: MessageId,
    /// The newest `created_at` of every key up to `last_id`, this slice's and the earlier ones'.
    newest: Timestamp,
    keys: usize,
}

/// The window's boundary in the sequence of keys: every key below [`Expiry::live_from`] has
/// left the window.
#[derive(Debug)]
pub(super) struct Expiry {
    slices: VecDeque<Slice>,
    live_from: MessageId,
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry {
            slices: VecDeque::new(),
            live_from: MessageId(i64::MIN),
        }
    }
}

impl Expiry {
    /// Records the key of message `id`, created at `created_at`; ids must increase from one
    /// call to the next. Returns how many earlier keys left the window because of it.
    pub(super) fn record(&mut self, id: MessageId, created_at: Timestamp) -> usize {
        debug_assert!(
            self.slices.back().is_none_or(|s| s.last_id < id),
            "keys are recorded in increasing id order"
        );
        let newest = self
            .slices
            .back()
            .map_or(created_at, |s| s.newest.max(created_at));
        match self.slices.back_mut() {
            Some(last) if slice_of(last.newest) == slice_of(newest) => {
                last.last_id = id;
                last.newest = newest;
                last.keys += 1;
            }
            _ => self.slices.push_back(Slice {
                last_id: id,
                newest,
                keys: 1,
            }),
        }
        self.expire(cutoff(newest))
    }

    /// The lowest id that may still be in the window: every key below it has left.
    pub(super) fn live_from(&self) -> MessageId {
        self.live_from
    }

    /// Moves the boundary up to `id` whatever the clock says: for a window that holds more ids
    /// than the table can address (see `RecentKeys::insert`).
    pub(super) fn forget_below(&mut self, id: MessageId) {
        self.live_from = self.live_from.max(id);
        while self.slices.front().is_some_and(|s| s.last_id < id) {
            self.slices.pop_front();
        }
    }

    /// Drops the slices whose keys are all older than `cutoff`; returns how many keys they held.
    /// The last slice holds the newest key, so it always stays.
    fn expire(&mut self, cutoff: Timestamp) -> usize {
        let mut left = 0;
        while let Some(first) = self.slices.front() {
            if first.newest >= cutoff {
                break;
            }
            self.live_from = MessageId(first.last_id.0 + 1);
            left += first.keys;
            self.slices.pop_front();
        }
        left
    }
}

/// The `created_at` before which keys are outside the window when the newest key was created
/// at `newest`.
pub(super) fn cutoff(newest: Timestamp) -> Timestamp {
    newest.minus(IDEMPOTENCY_WINDOW)
}

/// Which slice of `created_at` time `at` falls in.
fn slice_of(at: Timestamp) -> i64 {
    at.0.div_euclid(SLICE.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: i64 = IDEMPOTENCY_WINDOW.as_millis() as i64;
    const SLICE_MS: i64 = SLICE.as_millis() as i64;

    #[test]
    fn a_key_leaves_after_the_window_and_at_most_one_slice_later() {
        let mut expiry = Expiry::default();
        expiry.record(MessageId(1), Timestamp(0));
        expiry.record(MessageId(2), Timestamp(SLICE_MS - 1));
        assert_eq!(
            expiry.record(MessageId(3), Timestamp(WINDOW)),
            0,
            "a window old: kept"
        );
        assert_eq!(
            expiry.record(MessageId(4), Timestamp(WINDOW + 1)),
            0,
            "key 1 is older than the window, but less than a slice: kept with key 2"
        );
        assert_eq!(expiry.record(MessageId(5), Timestamp(WINDOW + SLICE_MS)), 2);
        assert_eq!(expiry.live_from(), MessageId(3));
    }

    #[test]
    fn a_clock_stepping_back_keeps_a_key_until_the_keys_before_it_leave() {
        let mut expiry = Expiry::default();
        expiry.record(MessageId(1), Timestamp(WINDOW));
        expiry.record(MessageId(2), Timestamp(0));
        assert_eq!(expiry.record(MessageId(3), Timestamp(2 * WINDOW - 1)), 0);
        assert_eq!(expiry.live_from(), MessageId(i64::MIN));
        assert_eq!(
            expiry.record(MessageId(4), Timestamp(2 * WINDOW + SLICE_MS)),
            2
        );
        assert_eq!(expiry.live_from(), MessageId(3));
    }

    #[test]
    fn a_day_of_keys_needs_a_mark_per_slice() {
        let mut expiry = Expiry::default();
        for (i, at) in (0..2 * WINDOW).step_by(500).enumerate() {
            expiry.record(MessageId(i as i64), Timestamp(at));
        }
        let slices = (WINDOW / SLICE_MS) as usize;
        assert!(
            (slices..=slices + 2).contains(&expiry.slices.len()),
            "{} slices",
            expiry.slices.len()
        );
    }
}
