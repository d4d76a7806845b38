//! The stamp every benchmark message carries in its body, `T:S:N:` then padding:
//! `T` the send time (nanoseconds on the process clock), `S` the sender's index in its room,
//! `N` the sender's message counter. Receivers read it back with a few byte scans instead of a
//! JSON DOM, so the generator's per-delivery cost stays far below the server's.

use std::sync::{LazyLock, OnceLock};
use std::time::Instant;

use memchr::memmem::Finder;

/// A message's identity and send time, as written into (and read back from) its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Send time in nanoseconds since [`now_ns`]'s epoch.
    pub t: u64,
    /// The sender's index within its room.
    pub sender: u32,
    /// The sender's message counter (0, 1, 2, …).
    pub n: u64,
}

/// Nanoseconds since the first call in this process (monotonic). Senders and receivers run in
/// the same process, so differences are end-to-end latencies.
pub fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

impl Stamp {
    /// The body text: the stamp, then `x` up to `len` bytes (never shorter than the stamp).
    pub fn body(&self, len: usize) -> String {
        let mut s = format!("{}:{}:{}:", self.t, self.sender, self.n);
        while s.len() < len {
            s.push('x');
        }
        s
    }

    /// Reads the stamp at the start of `body`.
    pub fn parse(body: &str) -> Option<Stamp> {
        let mut parts = body.splitn(4, ':');
        let t = parts.next()?.parse().ok()?;
        let sender = parts.next()?.parse().ok()?;
        let n = parts.next()?.parse().ok()?;
        parts.next()?;
        Some(Stamp { t, sender, n })
    }

    /// Finds `"body":"` in a JSON frame and reads the stamp behind it.
    pub fn find_in(frame: &str) -> Option<Stamp> {
        static KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"body\":\""));
        let at = KEY.find(frame.as_bytes())? + KEY.needle().len();
        Stamp::parse(frame.get(at..)?)
    }
}

/// The value of the first `"type":"…"` in a JSON frame.
pub fn frame_type(frame: &str) -> Option<&str> {
    const KEY: &str = "{\"type\":\"";
    // Both servers put the tag first; fall back to a search for anything else.
    let rest = match frame.strip_prefix(KEY) {
        Some(rest) => rest,
        None => {
            static FINDER: LazyLock<Finder<'static>> =
                LazyLock::new(|| Finder::new(&KEY.as_bytes()[1..]));
            frame.get(FINDER.find(frame.as_bytes())? + KEY.len() - 1..)?
        }
    };
    Some(&rest[..memchr::memchr(b'"', rest.as_bytes())?])
}

/// The unsigned integer after the first `"key":` in a JSON frame.
pub fn number_after(frame: &str, key: &str) -> Option<u64> {
    let at = frame.find(key)? + key.len();
    let digits = frame[at..].bytes().take_while(u8::is_ascii_digit).count();
    frame[at..at + digits].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_survives_a_frame() {
        let stamp = Stamp {
            t: 123_456_789,
            sender: 7,
            n: 42,
        };
        let body = stamp.body(64);
        assert_eq!(body.len(), 64);
        let frame = format!(
            r#"{{"type":"message","message":{{"id":5,"room_id":3,"seq":9,"body":"{body}"}}}}"#
        );
        assert_eq!(frame_type(&frame), Some("message"));
        assert_eq!(Stamp::find_in(&frame), Some(stamp));
        assert_eq!(number_after(&frame, "\"seq\":"), Some(9));
    }

    #[test]
    fn short_bodies_still_carry_the_whole_stamp() {
        let stamp = Stamp {
            t: 1,
            sender: 2,
            n: 3,
        };
        assert_eq!(stamp.body(0), "1:2:3:");
        assert_eq!(Stamp::parse("garbage"), None);
    }
}
