//! The damage the media property tests do to real files: what an upload that went wrong, or
//! an attacker, sends with a valid header.

use proptest::prelude::*;

/// `files`, then damaged: up to `max_flips - 1` bytes overwritten, maybe cut short (never
/// below 8 bytes, so most cases still sniff as their type), and up to 63 bytes appended.
pub fn damaged(
    files: impl Strategy<Value = Vec<u8>>,
    max_flips: usize,
) -> impl Strategy<Value = Vec<u8>> {
    files
        .prop_flat_map(move |bytes| {
            let len = bytes.len();
            (
                Just(bytes),
                prop::collection::vec((0..len, any::<u8>()), 0..max_flips),
                prop::option::of(8..=len),
                prop::collection::vec(any::<u8>(), 0..64),
            )
        })
        .prop_map(|(mut bytes, flips, cut, tail)| {
            for (at, value) in flips {
                bytes[at] = value;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut);
            }
            bytes.extend_from_slice(&tail);
            bytes
        })
}
