//! Property tests of the audio check (`chatcore::media::audio`): whatever bytes arrive with an
//! audio type, the demuxer never panics, and it either refuses them (`unsupported_media`,
//! `too_long`) or measures a duration within the limit.
//!
//! Inputs are the real fixtures of every accepted container (`tests/fixtures/audio`), then
//! cut, flipped and extended, so most cases get past the header into the demuxers. A failing
//! input is saved by proptest in `chatcore/tests/prop_audio.proptest-regressions`; commit that
//! file with the fix.

use std::time::Duration;

use chatcore::Error;
use chatcore::media::{audio, sniff};
use proptest::prelude::*;

mod damage;
use damage::damaged;

const FIXTURES: &[&[u8]] = &[
    include_bytes!("fixtures/audio/voice.ogg"),
    include_bytes!("fixtures/audio/voice.webm"),
    include_bytes!("fixtures/audio/voice.m4a"),
    include_bytes!("fixtures/audio/voice.mp3"),
    include_bytes!("fixtures/audio/voice.wav"),
];

const MAX: Duration = Duration::from_secs(60);

/// A real audio file, then damaged.
fn upload() -> impl Strategy<Value = Vec<u8>> {
    damaged(prop::sample::select(FIXTURES).prop_map(<[u8]>::to_vec), 6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn damaged_audio_is_refused_or_measured_within_the_limit(bytes in upload()) {
        let Some(mime) = sniff(&bytes).filter(|m| m.starts_with("audio/")) else {
            return Ok(());
        };
        match audio::probe(&bytes, mime, MAX) {
            Ok(probed) => prop_assert!(
                (1..=MAX.as_millis() as u64).contains(&probed.duration_ms),
                "{} ms", probed.duration_ms
            ),
            Err(Error::UnsupportedMedia | Error::TooLong { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}
