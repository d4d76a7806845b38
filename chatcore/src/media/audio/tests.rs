use super::*;

/// 1.5 s of a 440 Hz tone in each accepted container, made with ffmpeg (see
/// `chatcore/tests/fixtures/audio/README.md`).
const FIXTURES: &[(&str, &[u8])] = &[
    (
        "audio/ogg",
        include_bytes!("../../../tests/fixtures/audio/voice.ogg"),
    ),
    (
        "audio/webm",
        include_bytes!("../../../tests/fixtures/audio/voice.webm"),
    ),
    (
        "audio/mp4",
        include_bytes!("../../../tests/fixtures/audio/voice.m4a"),
    ),
    (
        "audio/mpeg",
        include_bytes!("../../../tests/fixtures/audio/voice.mp3"),
    ),
    (
        "audio/wav",
        include_bytes!("../../../tests/fixtures/audio/voice.wav"),
    ),
];

/// 2 s recorded by Chromium's MediaRecorder from its fake microphone (Opus in WebM, as the web
/// client records voice notes): its segment and clusters have an unknown size.
const CHROMIUM: &[u8] = include_bytes!("../../../tests/fixtures/audio/voice-chromium.webm");

#[test]
fn a_live_recording_that_does_not_say_where_it_ends_is_measured_to_its_last_packet() {
    assert_eq!(crate::media::sniff(CHROMIUM), Some("audio/webm"));
    let probed = probe(CHROMIUM, "audio/webm", HOUR).unwrap();
    assert!(
        (1800..=2100).contains(&probed.duration_ms),
        "{} ms for about 2 s",
        probed.duration_ms
    );
    // Cut before its first packet, nothing is measured: still refused.
    assert!(matches!(
        probe(&CHROMIUM[..150], "audio/webm", HOUR),
        Err(Error::UnsupportedMedia)
    ));
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn every_accepted_container_is_measured_from_its_packets() {
    for (mime, bytes) in FIXTURES {
        assert_eq!(
            crate::media::sniff(bytes),
            Some(*mime),
            "fixture sniffs as {mime}"
        );
        let probed = probe(bytes, mime, HOUR).unwrap_or_else(|e| panic!("{mime}: {e}"));
        assert!(
            (1400..=1600).contains(&probed.duration_ms),
            "{mime}: {} ms for 1.5 s",
            probed.duration_ms
        );
    }
}

#[test]
fn audio_longer_than_the_limit_is_too_long() {
    for (mime, bytes) in FIXTURES {
        assert!(
            matches!(
                probe(bytes, mime, Duration::from_secs(1)),
                Err(Error::TooLong { limit_secs: 1 })
            ),
            "{mime}"
        );
    }
}

#[test]
fn a_container_magic_on_garbage_is_refused() {
    let mut fakes: Vec<(&str, Vec<u8>)> = vec![
        ("audio/ogg", b"OggS".to_vec()),
        (
            "audio/webm",
            b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm".to_vec(),
        ),
        ("audio/mp4", b"\0\0\0\x20ftypM4A \0\0\0\0".to_vec()),
        ("audio/mpeg", b"ID3\x04\0".to_vec()),
        ("audio/wav", b"RIFF\x10\0\0\0WAVEfmt ".to_vec()),
    ];
    for (_, bytes) in &mut fakes {
        bytes.extend_from_slice(&[0x41; 4096]);
    }
    for (mime, bytes) in &fakes {
        assert!(
            matches!(probe(bytes, mime, HOUR), Err(Error::UnsupportedMedia)),
            "{mime}"
        );
    }
}

#[test]
fn a_file_cut_after_its_header_is_refused_or_shorter() {
    for (mime, bytes) in FIXTURES {
        for cut in [16, 64, bytes.len() / 2] {
            match probe(&bytes[..cut], mime, HOUR) {
                Ok(probed) => assert!(probed.duration_ms < 1500, "{mime} cut at {cut}"),
                Err(Error::UnsupportedMedia) => {}
                Err(other) => panic!("{mime} cut at {cut}: {other}"),
            }
        }
    }
}

#[test]
fn only_audio_types_have_a_demuxer() {
    let (_, ogg) = FIXTURES[0];
    for mime in ["image/png", "audio/aac", "video/webm", ""] {
        assert!(
            matches!(probe(ogg, mime, HOUR), Err(Error::UnsupportedMedia)),
            "{mime}"
        );
    }
}

#[test]
fn a_file_is_measured_in_place_like_its_bytes() {
    let path =
        std::env::temp_dir().join(format!("chatcore-audio-{}.ogg", crate::MediaId::generate()));
    for (mime, bytes) in FIXTURES {
        std::fs::write(&path, bytes).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        assert_eq!(
            probe_file(file, mime, HOUR).unwrap(),
            probe(bytes, mime, HOUR).unwrap(),
            "{mime}"
        );
    }
    std::fs::remove_file(path).ok();
}
