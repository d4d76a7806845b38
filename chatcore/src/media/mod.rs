//! Media: deciding what uploaded bytes are, and where they are kept.
//!
//! The type of an upload is decided by its bytes (magic numbers), never by the client's
//! `Content-Type` or file name. Only a short list of image and audio formats is accepted;
//! everything else (SVG, HTML, PDF, executables, …) is refused. Images are then decoded and
//! encoded again ([`reencode()`]), so only their pixels are stored; audio is demuxed to its end
//! ([`audio::probe`]), so only well-formed containers of a known length are stored.

pub mod audio;
mod fs;
mod memory;
pub mod reencode;
mod staged;

pub use fs::FsMediaStore;
pub use memory::MemoryMediaStore;
pub use reencode::{Reencoded, reencode};
pub(crate) use staged::sweep_abandoned;
pub use staged::{Staged, Staging};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// How many bytes from the start of a file [`sniff`] and [`classify`] look at, at most: an
/// upload is classified by its first bytes before the rest is read.
pub const SNIFF_LEN: usize = 64;

/// The MIME type of `bytes` if they are one of the accepted formats: PNG, JPEG, GIF, WebP
/// images; WebM, Ogg, MP3, M4A, WAV audio. Only the first [`SNIFF_LEN`] bytes matter.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    let riff = |form: &[u8]| starts(b"RIFF") && bytes.get(8..12) == Some(form);
    if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if riff(b"WEBP") {
        Some("image/webp")
    } else if riff(b"WAVE") {
        Some("audio/wav")
    } else if starts(b"\x1a\x45\xdf\xa3") && is_webm(bytes) {
        Some("audio/webm")
    } else if starts(b"OggS") {
        Some("audio/ogg")
    } else if starts(b"ID3") || is_mpeg_audio_frame(bytes) {
        Some("audio/mpeg")
    } else if bytes.get(4..8) == Some(b"ftyp") && is_m4a_brand(bytes.get(8..12)) {
        Some("audio/mp4")
    } else {
        None
    }
}

/// EBML files name their doctype near the start; only `webm` is accepted (not Matroska).
fn is_webm(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    head.windows(4).any(|w| w == b"webm")
}

/// An MPEG-1/2 Layer III frame header: 11 sync bits, then a valid version and layer 3.
fn is_mpeg_audio_frame(bytes: &[u8]) -> bool {
    matches!(bytes, [0xff, b, ..] if b & 0xe0 == 0xe0 && b & 0x06 == 0x02 && b & 0x18 != 0x08)
}

fn is_m4a_brand(brand: Option<&[u8]>) -> bool {
    matches!(
        brand,
        Some(b"M4A " | b"M4B " | b"mp42" | b"isom" | b"iso2" | b"mp41" | b"dash")
    )
}

/// Decides the MIME type of an upload: sniffs the bytes and, when the client declared a type,
/// requires it to agree. A missing or `application/octet-stream` declaration claims nothing.
pub fn classify(bytes: &[u8], declared: Option<&str>) -> Result<&'static str> {
    if bytes.is_empty() {
        return Err(Error::UnsupportedMedia);
    }
    let sniffed = sniff(bytes).ok_or(Error::UnsupportedMedia)?;
    match declared.map(essence) {
        None => Ok(sniffed),
        Some(d) if d.is_empty() || d == "application/octet-stream" => Ok(sniffed),
        Some(d) if canonical(&d) == sniffed => Ok(sniffed),
        Some(_) => Err(Error::UnsupportedMedia),
    }
}

/// `"Audio/WebM; codecs=opus"` → `"audio/webm"`.
fn essence(mime: &str) -> String {
    mime.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Maps common aliases onto the names `sniff` returns.
fn canonical(mime: &str) -> &str {
    match mime {
        "image/jpg" | "image/pjpeg" => "image/jpeg",
        "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => "audio/wav",
        "video/webm" => "audio/webm",
        "audio/mp3" | "audio/x-mp3" | "audio/mpeg3" => "audio/mpeg",
        "audio/x-m4a" | "audio/m4a" | "audio/aac-mp4" => "audio/mp4",
        "application/ogg" | "audio/opus" => "audio/ogg",
        other => other,
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn content_key(bytes: &[u8]) -> String {
    crate::token::hex(&Sha256::digest(bytes))
}

/// Where the thumbnail of the media stored under `key` is kept.
pub fn thumbnail_key(key: &str) -> String {
    format!("{key}-thumb")
}

/// True if `key` is a valid media store key: 16 to 80 characters of `A–Z a–z 0–9 - _`, so it
/// is safe as a file name and can never name another path.
pub fn is_store_key(key: &str) -> bool {
    (16..=80).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn sniffs_accepted_formats() {
        let cases: &[(&[u8], &str)] = &[
            (PNG, "image/png"),
            (b"\xff\xd8\xff\xe0\0\x10JFIF", "image/jpeg"),
            (b"GIF89a\x01\0", "image/gif"),
            (b"RIFF\x10\0\0\0WEBPVP8 ", "image/webp"),
            (b"RIFF\x10\0\0\0WAVEfmt ", "audio/wav"),
            (
                b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm",
                "audio/webm",
            ),
            (b"OggS\0\x02", "audio/ogg"),
            (b"ID3\x04\0", "audio/mpeg"),
            (b"\xff\xfb\x90\x64", "audio/mpeg"),
            (b"\0\0\0\x20ftypM4A \0\0\0\0", "audio/mp4"),
        ];
        for (bytes, mime) in cases {
            assert_eq!(sniff(bytes), Some(*mime), "{mime}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>";
        let html = b"<!doctype html><script>alert(1)</script>";
        for bytes in [
            &svg[..],
            &html[..],
            b"%PDF-1.7",
            b"MZ\x90\0",
            b"\x1a\x45\xdf\xa3matroska",
            // ADTS (raw AAC): no container to check, and no browser records it.
            b"\xff\xf1\x50\x80",
            b"",
        ] {
            assert!(
                classify(bytes, None).is_err(),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn declared_type_must_agree_with_bytes() {
        assert_eq!(classify(PNG, Some("image/png")).unwrap(), "image/png");
        assert_eq!(
            classify(PNG, Some("application/octet-stream")).unwrap(),
            "image/png"
        );
        let webm = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm";
        assert_eq!(
            classify(webm, Some("audio/webm;codecs=opus")).unwrap(),
            "audio/webm"
        );
        assert!(matches!(
            classify(PNG, Some("image/jpeg")),
            Err(Error::UnsupportedMedia)
        ));
        assert!(matches!(
            classify(PNG, Some("text/html")),
            Err(Error::UnsupportedMedia)
        ));
        // A PNG header on HTML bytes is still refused when the rest is declared as HTML.
        let fake = b"\x89PNG\r\n\x1a\n<script>alert(1)</script>";
        assert!(classify(fake, Some("text/html")).is_err());
    }

    #[test]
    fn store_keys() {
        let key = content_key(b"abc");
        assert_eq!(
            key,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_store_key(&key));
        let id = crate::MediaId::generate().to_string();
        assert!(is_store_key(&id) && is_store_key(&thumbnail_key(&id)));
        for bad in [
            "../../etc/passwd",
            "short",
            "aaaaaaaaaaaaaaaa/..",
            "aaaaaaaaaaaaaaaa.thumb",
        ] {
            assert!(!is_store_key(bad), "{bad}");
        }
    }
}
