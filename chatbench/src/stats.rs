//! What a run counts: shared counters (read once a second for the progress line), latency
//! histograms fed in batches, and per-receiver order tracking (duplicates, out of order).

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use hdrhistogram::Histogram;

/// Where the run is. Connections read it with one relaxed load per frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Phase {
    /// Sending, not counting.
    Warmup = 0,
    /// Sending and counting.
    Measure = 1,
    /// No new sends; outstanding acks and deliveries still arrive (counted for loss only).
    Drain = 2,
}

/// Longest latency the histograms hold (60 s, in ns); longer ones are clamped.
const MAX_NS: u64 = 60_000_000_000;

/// A latency histogram in nanoseconds, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_NS, 3).expect("constant bounds are valid")
}

/// Counters and histograms shared by every connection task of a run.
#[derive(Debug)]
pub struct Shared {
    phase: AtomicU8,
    /// Acks received while measuring.
    pub acked: AtomicU64,
    /// Deliveries (`message` frames) received while measuring.
    pub delivered: AtomicU64,
    /// Acks received in any phase (loss accounting).
    pub acked_total: AtomicU64,
    /// Deliveries received in any phase (loss accounting).
    pub delivered_total: AtomicU64,
    /// Deliveries expected in any phase: each ack times the members of its room.
    pub expected_total: AtomicU64,
    /// Deliveries seen twice by the same client.
    pub duplicates: AtomicU64,
    /// Deliveries that arrived after a later message of the same sender.
    pub out_of_order: AtomicU64,
    /// `error` frames received.
    pub errors: AtomicU64,
    /// Sends skipped because the in-flight window was full (paced runs only).
    pub skipped: AtomicU64,
    /// Connections that closed before the run ended.
    pub closed_early: AtomicU64,
    /// End-to-end latency: send → delivery to each member.
    pub e2e: Mutex<Histogram<u64>>,
    /// Ack latency: send → ack to the sender.
    pub ack: Mutex<Histogram<u64>>,
    /// Time to open one connection (TCP, upgrade, `hello` or `joined`).
    pub connect: Mutex<Histogram<u64>>,
    /// The first error frame or close reason seen, for the report.
    pub first_error: Mutex<Option<String>>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            phase: AtomicU8::new(Phase::Warmup as u8),
            acked: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            acked_total: AtomicU64::new(0),
            delivered_total: AtomicU64::new(0),
            expected_total: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            out_of_order: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            closed_early: AtomicU64::new(0),
            e2e: Mutex::new(histogram()),
            ack: Mutex::new(histogram()),
            connect: Mutex::new(histogram()),
            first_error: Mutex::new(None),
        }
    }
}

impl Shared {
    /// The current phase.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Relaxed) {
            0 => Phase::Warmup,
            1 => Phase::Measure,
            _ => Phase::Drain,
        }
    }

    /// Moves the run to `phase`.
    pub fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    /// Remembers `what` if it is the first problem of the run.
    pub fn note_error(&self, what: String) {
        // Short critical section, never held across an await.
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert(what);
        }
    }

    /// Adds a batch of samples to `hist` under its lock.
    pub fn record(hist: &Mutex<Histogram<u64>>, samples: &mut Vec<u64>) {
        if samples.is_empty() {
            return;
        }
        if let Ok(mut h) = hist.lock() {
            for &ns in samples.iter() {
                h.saturating_record(ns.clamp(1, MAX_NS));
            }
        }
        samples.clear();
    }
}

/// Counts a connection keeps to itself and adds to [`Shared`] once per batch of frames, so
/// the per-frame path touches no shared cache line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// See [`Shared::acked`].
    pub acked: u64,
    /// See [`Shared::delivered`].
    pub delivered: u64,
    /// See [`Shared::acked_total`].
    pub acked_total: u64,
    /// See [`Shared::delivered_total`].
    pub delivered_total: u64,
    /// See [`Shared::expected_total`].
    pub expected_total: u64,
    /// See [`Shared::duplicates`].
    pub duplicates: u64,
    /// See [`Shared::out_of_order`].
    pub out_of_order: u64,
}

impl Counts {
    /// Adds everything counted so far to `shared` and starts again from zero.
    pub fn flush(&mut self, shared: &Shared) {
        let add = |to: &AtomicU64, n: u64| {
            if n > 0 {
                to.fetch_add(n, Ordering::Relaxed);
            }
        };
        add(&shared.acked, self.acked);
        add(&shared.delivered, self.delivered);
        add(&shared.acked_total, self.acked_total);
        add(&shared.delivered_total, self.delivered_total);
        add(&shared.expected_total, self.expected_total);
        add(&shared.duplicates, self.duplicates);
        add(&shared.out_of_order, self.out_of_order);
        *self = Counts::default();
    }
}

/// Latency samples a connection gathers before taking the histogram lock.
#[derive(Debug, Default)]
pub struct Samples {
    /// End-to-end samples (ns).
    pub e2e: Vec<u64>,
    /// Ack samples (ns).
    pub ack: Vec<u64>,
}

impl Samples {
    /// Samples per lock.
    pub const BATCH: usize = 512;

    /// Hands everything gathered so far to the shared histograms.
    pub fn flush(&mut self, shared: &Shared) {
        Shared::record(&shared.e2e, &mut self.e2e);
        Shared::record(&shared.ack, &mut self.ack);
    }
}

/// What one delivery was, relative to what the receiver saw before from the same sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// The sender's next message.
    Next,
    /// Skipped ahead of (or arrived after) other messages of the sender.
    Reordered,
    /// Seen before.
    Duplicate,
}

/// Per-receiver order tracking: the next expected counter of each sender in the room, and
/// the counters skipped over (so a late arrival is told apart from a duplicate).
#[derive(Debug, Default)]
pub struct Tracker {
    next: Vec<u64>,
    missing: HashSet<(u32, u64)>,
}

impl Tracker {
    /// Most skipped counters remembered; beyond that late arrivals count as duplicates.
    const MAX_MISSING: usize = 10_000;

    /// Classifies message `n` of `sender`.
    pub fn see(&mut self, sender: u32, n: u64) -> Arrival {
        let i = sender as usize;
        if i >= self.next.len() {
            self.next.resize(i + 1, 0);
        }
        let next = self.next[i];
        if n == next {
            self.next[i] = n + 1;
            Arrival::Next
        } else if n > next {
            for skipped in next..n {
                if self.missing.len() >= Self::MAX_MISSING {
                    break;
                }
                self.missing.insert((sender, skipped));
            }
            self.next[i] = n + 1;
            Arrival::Reordered
        } else if self.missing.remove(&(sender, n)) {
            Arrival::Reordered
        } else {
            Arrival::Duplicate
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_tells_late_from_duplicate() {
        let mut t = Tracker::default();
        assert_eq!(t.see(0, 0), Arrival::Next);
        assert_eq!(t.see(0, 1), Arrival::Next);
        assert_eq!(t.see(1, 0), Arrival::Next);
        assert_eq!(t.see(0, 3), Arrival::Reordered);
        assert_eq!(t.see(0, 2), Arrival::Reordered);
        assert_eq!(t.see(0, 2), Arrival::Duplicate);
        assert_eq!(t.see(0, 1), Arrival::Duplicate);
        assert_eq!(t.see(0, 4), Arrival::Next);
    }

    #[test]
    fn counts_add_up_in_shared() {
        let shared = Shared::default();
        let mut c = Counts {
            delivered_total: 5,
            expected_total: 7,
            duplicates: 1,
            ..Counts::default()
        };
        c.flush(&shared);
        c.delivered_total = 2;
        c.flush(&shared);
        assert_eq!(c, Counts::default());
        assert_eq!(shared.delivered_total.load(Ordering::Relaxed), 7);
        assert_eq!(shared.expected_total.load(Ordering::Relaxed), 7);
        assert_eq!(shared.duplicates.load(Ordering::Relaxed), 1);
        assert_eq!(shared.acked.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn samples_land_in_the_histogram() {
        let shared = Shared::default();
        let mut s = Samples::default();
        s.e2e.extend([1_000, 2_000, 3_000]);
        s.flush(&shared);
        let h = shared.e2e.lock().unwrap();
        assert_eq!(h.len(), 3);
        assert!(h.value_at_quantile(0.5) >= 1_999 && h.value_at_quantile(0.5) <= 2_001);
    }
}
