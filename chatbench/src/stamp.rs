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
        s.extend(std::iter::repeat_n('x', len.saturating_sub(s.len())));
        s
    }

    /// Reads the stamp at the start of `body`: three decimal numbers, each followed by `:`.
    pub fn parse(body: &str) -> Option<Stamp> {
        let b = body.as_bytes();
        let (t, b) = decimal(b)?;
        let (sender, b) = decimal(b)?;
        let (n, _) = decimal(b)?;
        Some(Stamp {
            t,
            sender: u32::try_from(sender).ok()?,
            n,
        })
    }

    /// Finds `"body":"` in a JSON frame and reads the stamp behind it.
    pub fn find_in(frame: &str) -> Option<Stamp> {
        static KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"body\":\""));
        let at = KEY.find(frame.as_bytes())? + KEY.needle().len();
        Stamp::parse(frame.get(at..)?)
    }
}

/// The decimal number at the start of `b` (at least one digit, no sign) and what follows its
/// `:` terminator.
fn decimal(b: &[u8]) -> Option<(u64, &[u8])> {
    let len = b.iter().position(|c| !c.is_ascii_digit())?;
    if len == 0 || b[len] != b':' {
        return None;
    }
    let rest = &b[len + 1..];
    let digits = &b[..len];
    if len > 19 {
        // Might not fit: the careful way.
        let mut value: u64 = 0;
        for &c in digits {
            value = value.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
        }
        return Some((value, rest));
    }
    // At most 19 digits: no overflow. Eight at a time, then one at a time.
    let mut value: u64 = 0;
    let mut chunks = digits.chunks_exact(8);
    for chunk in &mut chunks {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        value = value * 100_000_000 + eight_digits(eight);
    }
    for &c in chunks.remainder() {
        value = value * 10 + u64::from(c - b'0');
    }
    Some((value, rest))
}

/// The value of eight ASCII digits, combined pairwise inside one word (SWAR).
fn eight_digits(digits: [u8; 8]) -> u64 {
    let v = u64::from_le_bytes(digits) & 0x0f0f_0f0f_0f0f_0f0f;
    // Bytes 0, 2, 4, 6 become two-digit values.
    let v = (v & 0x000f_000f_000f_000f) * 10 + ((v >> 8) & 0x000f_000f_000f_000f);
    // 16-bit lanes 0 and 2 become four-digit values.
    let v = (v & 0x0000_00ff_0000_00ff) * 100 + ((v >> 16) & 0x0000_00ff_0000_00ff);
    (v & 0x0000_0000_0000_ffff) * 10_000 + (v >> 32)
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
    fn numbers_of_every_length_parse() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 1..=20u32 {
            for _ in 0..200 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let n = if len == 20 {
                    x.max(10u64.pow(19))
                } else {
                    x % 10u64.pow(len)
                };
                let text = format!("{n}:");
                assert_eq!(decimal(text.as_bytes()), Some((n, &b""[..])), "{text}");
                let padded = format!("{n:0width$}:rest", width = len as usize);
                assert_eq!(
                    decimal(padded.as_bytes()),
                    Some((n, &b"rest"[..])),
                    "{padded}"
                );
            }
        }
        assert_eq!(decimal(b"99999999999999999999:"), None);
        assert_eq!(decimal(b"12x:"), None);
        assert_eq!(decimal(b"123"), None);
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
        assert_eq!(Stamp::parse("1:2:3"), None);
        assert_eq!(Stamp::parse(":2:3:"), None);
        assert_eq!(Stamp::parse("1:4294967296:3:"), None);
        assert_eq!(Stamp::parse("18446744073709551616:0:0:"), None);
        assert_eq!(
            Stamp::parse("18446744073709551615:4294967295:0:x"),
            Some(Stamp {
                t: u64::MAX,
                sender: u32::MAX,
                n: 0
            })
        );
    }
}
