//! The `client_id`s load clients send (`--client-ids`). The server's cost must not depend on
//! their shape, and this is how that is measured: the same run with each shape.

use std::fmt::Write as _;

use clap::ValueEnum;

use crate::stamp::Stamp;

/// The shape of the idempotency keys the load clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientIds {
    /// Time first, `<12 hex digits of Unix ms>-b<client>-<n>`, like the web client and
    /// `chatcore_ws::Client`: keys arrive in time order.
    Time,
    /// A per-client counter, `<run>.<client>.<n>` (`run` is random per run).
    Counter,
    /// A random UUIDv4, what most SDKs mint: keys arrive in no order at all.
    Uuid,
}

/// One client's source of ids.
#[derive(Debug)]
pub struct IdSource {
    shape: ClientIds,
    run: u32,
    client: usize,
    rng: fastrand::Rng,
    text: String,
}

impl IdSource {
    /// Ids of `shape` for client number `client` of the run `run`.
    pub fn new(shape: ClientIds, run: u32, client: usize) -> Self {
        IdSource {
            shape,
            run,
            client,
            rng: fastrand::Rng::new(),
            text: String::with_capacity(40),
        }
    }

    /// The id of the message `stamp` (unique within the run, and across runs for `counter` and
    /// `uuid`).
    pub fn next(&mut self, stamp: &Stamp) -> &str {
        self.text.clear();
        let written = match self.shape {
            ClientIds::Time => write!(
                self.text,
                "{:012x}-b{}-{}",
                stamp.t / 1_000_000,
                self.client,
                stamp.n
            ),
            ClientIds::Counter => write!(self.text, "{:08x}.{}.{}", self.run, self.client, stamp.n),
            ClientIds::Uuid => {
                // Version 4, variant 1: random except those six bits.
                let bits =
                    self.rng.u128(..) & !(0xf << 76) & !(0b11 << 62) | (0x4 << 76) | (0b10 << 62);
                write!(
                    self.text,
                    "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                    bits >> 96,
                    (bits >> 80) & 0xffff,
                    (bits >> 64) & 0xffff,
                    (bits >> 48) & 0xffff,
                    bits & 0xffff_ffff_ffff
                )
            }
        };
        debug_assert!(written.is_ok(), "writing to a String cannot fail");
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(n: u64) -> Stamp {
        Stamp {
            t: 1_700_000_000_123_456_789,
            sender: 0,
            n,
        }
    }

    #[test]
    fn each_shape_is_a_valid_client_id() {
        let valid = |id: &str| {
            (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b))
        };
        for shape in [ClientIds::Time, ClientIds::Counter, ClientIds::Uuid] {
            let mut ids = IdSource::new(shape, 0xdead_beef, 7);
            let id = ids.next(&stamp(3)).to_owned();
            assert!(valid(&id), "{shape:?}: {id}");
        }
        let mut time = IdSource::new(ClientIds::Time, 1, 7);
        assert_eq!(time.next(&stamp(3)), "018bcfe5687b-b7-3");
        let mut counter = IdSource::new(ClientIds::Counter, 0xdead_beef, 7);
        assert_eq!(counter.next(&stamp(3)), "deadbeef.7.3");
    }

    #[test]
    fn uuids_are_version_4_and_differ() {
        let mut ids = IdSource::new(ClientIds::Uuid, 0, 0);
        let a = ids.next(&stamp(0)).to_owned();
        let b = ids.next(&stamp(0)).to_owned();
        assert_ne!(a, b);
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'), "{a}");
        assert!("89ab".contains(&groups[3][..1]), "{a}");
    }
}
