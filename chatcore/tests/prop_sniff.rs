//! Property tests of the upload sniffer (`chatcore::media::{sniff, classify}`): what an upload
//! is comes from its bytes, only from a short allow-list, and a declared type can only narrow
//! that, never widen it.
//!
//! A failing input is saved by proptest in `chatcore/tests/prop_sniff.proptest-regressions`
//! and replayed first on every later run; commit that file with the fix.
//!
//! What happens to accepted images next (decode, re-encode, strip metadata) has its own target,
//! `prop_reencode.rs`.

use chatcore::media::{classify, sniff};
use proptest::prelude::*;

/// Every type the sniffer may ever answer.
const ALLOWED: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "audio/wav",
    "audio/webm",
    "audio/ogg",
    "audio/mpeg",
    "audio/mp4",
    "audio/aac",
];

/// Headers of real formats, so generated uploads often get past the first bytes.
fn magic() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(vec![
        &b"\x89PNG\r\n\x1a\n"[..],
        b"\xff\xd8\xff",
        b"GIF89a",
        b"GIF87a",
        b"RIFF\0\0\0\0WEBP",
        b"RIFF\0\0\0\0WAVE",
        b"RIFF\0\0\0\0AVI ",
        b"\x1a\x45\xdf\xa3",
        b"OggS",
        b"ID3",
        b"\xff\xfb",
        b"\xff\xf1",
        b"\0\0\0\x20ftypM4A ",
        b"\0\0\0\x20ftypqt  ",
        b"<svg",
        b"<!doctype html>",
        b"%PDF-",
        b"MZ",
        b"\xef\xbb\xbf<",
    ])
    .prop_map(<[u8]>::to_vec)
}

fn upload() -> impl Strategy<Value = Vec<u8>> {
    let tail = prop::collection::vec(any::<u8>(), 0..96);
    prop_oneof![
        tail.clone(),
        (magic(), tail).prop_map(|(mut head, tail)| {
            head.extend(tail);
            head
        }),
    ]
}

fn declared() -> impl Strategy<Value = Option<String>> {
    let known = prop::sample::select(vec![
        "image/png",
        "IMAGE/PNG; x=1",
        "image/jpg",
        "audio/webm;codecs=opus",
        "video/webm",
        "application/octet-stream",
        "",
        "text/html",
        "image/svg+xml",
        "application/pdf",
        "text/plain; charset=utf-8",
    ])
    .prop_map(str::to_owned);
    prop_oneof![Just(None), known.prop_map(Some), ".{0,24}".prop_map(Some)]
}

/// Content a browser would run or render as a document if it ever trusted it.
fn looks_active(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let start = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    start.starts_with('<') || start.starts_with("%PDF") || bytes.starts_with(b"MZ")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn only_allow_listed_types_from_the_bytes_alone(bytes in upload(), declared in declared()) {
        let sniffed = sniff(&bytes);
        if let Some(mime) = sniffed {
            prop_assert!(ALLOWED.contains(&mime), "sniffed {mime}");
            prop_assert!(!looks_active(&bytes), "{:?} sniffed as {mime}", String::from_utf8_lossy(&bytes));
        }
        match classify(&bytes, declared.as_deref()) {
            // An accepted upload is exactly what its bytes say, whatever was declared.
            Ok(mime) => prop_assert_eq!(Some(mime), sniffed),
            Err(err) => prop_assert_eq!(err.code(), "unsupported_media"),
        }
        // Declaring nothing never refuses what the bytes prove.
        prop_assert_eq!(classify(&bytes, None).ok(), sniffed);
    }

    #[test]
    fn a_foreign_declared_type_is_refused(bytes in upload(), other in prop::sample::select(vec![
        "text/html", "image/svg+xml", "application/javascript", "application/pdf", "text/xml",
    ])) {
        prop_assert!(classify(&bytes, Some(other)).is_err(), "{other} accepted");
    }
}
