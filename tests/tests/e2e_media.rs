//! Media as a user and an attacker meet it, over real HTTP: what is stored of a photo, what a
//! deleted message leaves behind, how ids look, ranges, quotas, and a server that neither
//! buffers downloads for clients that do not read nor reads uploads it will refuse.

#![allow(clippy::unwrap_used)] // scenarios are test code: a panic is the report

use std::io::Cursor;

use chat_tests::{Server, TestUser};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn upload(server: &Server, user: &TestUser, room: i64, bytes: Vec<u8>) -> chat_tests::Reply {
    let req = server.request(
        Method::POST,
        &format!("/api/v1/rooms/{room}/media"),
        Some(user),
    );
    server.send(req.body(bytes)).await
}

async fn uploaded(server: &Server, user: &TestUser, room: i64, bytes: Vec<u8>) -> Value {
    let reply = upload(server, user, room, bytes).await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

async fn send_media(server: &Server, user: &TestUser, room: i64, media: &Value) -> Value {
    let sent = server
        .post(
            Some(user),
            &format!("/api/v1/rooms/{room}/messages"),
            json!({"body": "", "media_id": media["id"]}),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", String::from_utf8_lossy(&sent.body));
    sent.json()
}

fn media_path(media: &Value) -> String {
    format!("/api/v1/media/{}", media["id"].as_str().unwrap())
}

fn encoded(img: &image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn photo(width: u32, height: u32) -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    }))
}

/// A WAV file of `len` bytes (a header and silence): audio is stored as sent, so its size is
/// exactly what the test needs.
fn wav(len: usize) -> Vec<u8> {
    let data = (len - 44) as u32;
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(
        b"WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data",
    );
    out.extend_from_slice(&data.to_le_bytes());
    out.resize(len, 0);
    out
}

/// An EXIF block (big-endian TIFF) saying "rotate 90° clockwise to view" (orientation 6), with
/// a GPS position and a description that must not survive.
fn exif_segment() -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    let description = b"GPS-SECRET 48.8584N 2.2945E\0";
    // IFD0 at 8: three entries, then the next-IFD offset; then the GPS IFD; then the text.
    let ifd0_len = 2 + 3 * 12 + 4;
    let gps_at = 8 + ifd0_len as u32;
    let gps_len = 2 + 12 + 4;
    let text_at = gps_at + gps_len as u32;
    let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        tiff.extend_from_slice(&tag.to_be_bytes());
        tiff.extend_from_slice(&kind.to_be_bytes());
        tiff.extend_from_slice(&count.to_be_bytes());
        tiff.extend_from_slice(&value);
    };
    tiff.extend_from_slice(&3u16.to_be_bytes());
    entry(
        &mut tiff,
        0x010e,
        2,
        description.len() as u32,
        text_at.to_be_bytes(),
    );
    entry(&mut tiff, 0x0112, 3, 1, [0, 6, 0, 0]);
    entry(&mut tiff, 0x8825, 4, 1, gps_at.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    entry(&mut tiff, 0x0001, 2, 2, *b"N\0\0\0");
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(description);
    let mut segment = vec![0xff, 0xe1];
    segment.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    segment
}

async fn two_members() -> (Server, TestUser, TestUser, i64) {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let room = server.group(&alice, "Photos", &[&bob]).await;
    (server, alice, bob, room)
}

#[tokio::test]
async fn a_photo_loses_its_exif_and_gps_and_stands_upright() {
    let (server, alice, bob, room) = two_members().await;
    let jpeg = encoded(&photo(400, 200), image::ImageFormat::Jpeg);
    let mut with_exif = jpeg[..2].to_vec();
    with_exif.extend_from_slice(&exif_segment());
    with_exif.extend_from_slice(&jpeg[2..]);
    assert!(with_exif.windows(10).any(|w| w == b"GPS-SECRET"));

    let media = uploaded(&server, &alice, room, with_exif).await;
    assert_eq!(media["mime"], "image/jpeg");
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64()),
        (Some(200), Some(400)),
        "orientation 6 applied to the pixels: the landscape upload stands as a portrait"
    );
    send_media(&server, &alice, room, &media).await;
    let got = server.get(Some(&bob), &media_path(&media)).await;
    assert_eq!(got.status, 200);
    for marker in [&b"Exif"[..], b"GPS-SECRET", b"48.8584", b"MM\0\x2a"] {
        assert!(
            !got.body.windows(marker.len()).any(|w| w == marker),
            "{:?} survived",
            String::from_utf8_lossy(marker)
        );
    }
    let decoded = image::load_from_memory(&got.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (200, 400));
    let thumb = server
        .get(Some(&bob), &format!("{}/thumbnail", media_path(&media)))
        .await;
    assert_eq!(thumb.status, 200);
    let thumb = image::load_from_memory(&thumb.body).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (160, 320));
    server.stop().await;
}

/// `VmHWM` (the peak resident size) of this process, in KiB: the server runs inside it.
fn peak_rss_kib() -> u64 {
    proc_status_kib("VmHWM:")
}

fn rss_kib() -> u64 {
    proc_status_kib("VmRSS:")
}

fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_from_its_header() {
    let (server, alice, _bob, room) = two_members().await;
    let bomb = png_declaring(60_000, 60_000);
    assert!(bomb.len() < 4096, "{} bytes", bomb.len());
    let before = peak_rss_kib();
    let reply = upload(&server, &alice, room, bomb).await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (413, "too_many_pixels")
    );
    let grown_mib = peak_rss_kib().saturating_sub(before) / 1024;
    assert!(
        grown_mib < 64,
        "the refusal cost {grown_mib} MiB of peak memory"
    );
    server.stop().await;
}

/// A PNG whose header declares `width` × `height` RGB pixels (3.6 gigapixels, 14 GB decoded,
/// for 60000²) followed by a kilobyte of zero rows: a decompression bomb's shape.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    // zlib: one stored block of 1 KiB of zeros, then its Adler-32 (1 + 0s: a = 1, b = 1024).
    let zeros = 1024u16;
    let mut idat = vec![0x78, 0x01, 0x01];
    idat.extend_from_slice(&zeros.to_le_bytes());
    idat.extend_from_slice(&(!zeros).to_le_bytes());
    idat.resize(idat.len() + usize::from(zeros), 0);
    idat.extend_from_slice(&((u32::from(zeros) << 16) | 1).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn a_png_with_a_zip_appended_is_stored_without_the_tail() {
    let (server, alice, bob, room) = two_members().await;
    let mut polyglot = encoded(&photo(50, 40), image::ImageFormat::Png);
    polyglot
        .extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0payload.html<html><script>alert(1)</script>");
    let media = uploaded(&server, &alice, room, polyglot).await;
    send_media(&server, &alice, room, &media).await;
    let got = server.get(Some(&bob), &media_path(&media)).await;
    assert_eq!(got.status, 200);
    assert!(
        got.body.ends_with(b"IEND\xaeB`\x82"),
        "the file ends where the PNG ends"
    );
    assert!(!got.body.windows(4).any(|w| w == b"PK\x03\x04"));
    assert!(!got.body.windows(7).any(|w| w == b"<script"));
    server.stop().await;
}

#[tokio::test]
async fn a_deleted_messages_media_is_404_for_everyone() {
    let (server, alice, bob, room) = two_members().await;
    let media = uploaded(
        &server,
        &alice,
        room,
        encoded(&photo(640, 480), image::ImageFormat::Png),
    )
    .await;
    let sent = send_media(&server, &alice, room, &media).await;
    let thumbnail = format!("{}/thumbnail", media_path(&media));
    for who in [&alice, &bob] {
        assert_eq!(server.get(Some(who), &media_path(&media)).await.status, 200);
        assert_eq!(server.get(Some(who), &thumbnail).await.status, 200);
    }
    let deleted = server
        .delete(
            Some(&alice),
            &format!("/api/v1/rooms/{room}/messages/{}", sent["seq"]),
        )
        .await;
    assert!(
        deleted.status < 300,
        "{}",
        String::from_utf8_lossy(&deleted.body)
    );
    for who in [&alice, &bob] {
        for path in [media_path(&media), thumbnail.clone()] {
            let got = server.get(Some(who), &path).await;
            assert_eq!(
                (got.status, got.code().as_str()),
                (404, "not_found"),
                "{path}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_thousand_ids_are_distinct_long_and_not_sequential() {
    let (server, alice, _bob, room) = two_members().await;
    let png = chat_tests::PNG.to_vec();
    let mut ids = Vec::new();
    for _ in 0..1000 {
        let media = uploaded(&server, &alice, room, png.clone()).await;
        ids.push(media["id"].as_str().unwrap().to_owned());
    }
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 1000);
    assert!(ids.iter().all(|id| {
        id.len() >= 22
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }));
    let mut sorted = ids.clone();
    sorted.sort();
    assert_ne!(sorted, ids, "ids do not grow with upload order");
    let prefixes: std::collections::HashSet<_> = ids.iter().map(|id| &id[..4]).collect();
    assert!(
        prefixes.len() > 900,
        "ids share no common prefix: {} of 1000",
        prefixes.len()
    );
    server.stop().await;
}

#[tokio::test]
async fn ranges_are_served_with_206_and_etags_with_304() {
    let (server, alice, bob, room) = two_members().await;
    let audio = wav(100_000);
    let media = uploaded(&server, &alice, room, audio.clone()).await;
    send_media(&server, &alice, room, &media).await;
    let path = media_path(&media);
    let whole = server.get(Some(&bob), &path).await;
    assert_eq!((whole.status, whole.body.len()), (200, 100_000));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    let etag = whole.header("etag").unwrap().to_owned();

    for (range, start, end) in [
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=99990-", 99_990, 99_999),
        ("bytes=-10", 99_990, 99_999),
    ] {
        let req = server
            .request(Method::GET, &path, Some(&bob))
            .header("range", range);
        let part = server.send(req).await;
        assert_eq!(part.status, 206, "{range}");
        assert_eq!(part.body, audio[start..=end], "{range}");
        assert_eq!(
            part.header("content-range"),
            Some(format!("bytes {start}-{end}/100000").as_str())
        );
    }
    let req = server
        .request(Method::GET, &path, Some(&bob))
        .header("range", "bytes=100000-");
    let outside = server.send(req).await;
    assert_eq!(
        (outside.status, outside.header("content-range")),
        (416, Some("bytes */100000"))
    );

    let req = server
        .request(Method::GET, &path, Some(&bob))
        .header("if-none-match", &etag);
    let cached = server.send(req).await;
    assert_eq!((cached.status, cached.body.len()), (304, 0));
    server.stop().await;
}

/// A recording as a browser's MediaRecorder makes it (Opus in WebM, 1.5 s), and the other
/// accepted containers (`chatcore/tests/fixtures/audio`).
const VOICE_NOTES: &[(&str, &[u8])] = &[
    (
        "audio/webm",
        include_bytes!("../../chatcore/tests/fixtures/audio/voice.webm"),
    ),
    (
        "audio/ogg",
        include_bytes!("../../chatcore/tests/fixtures/audio/voice.ogg"),
    ),
    (
        "audio/mp4",
        include_bytes!("../../chatcore/tests/fixtures/audio/voice.m4a"),
    ),
    (
        "audio/mpeg",
        include_bytes!("../../chatcore/tests/fixtures/audio/voice.mp3"),
    ),
];

#[tokio::test]
async fn voice_notes_carry_the_duration_read_from_their_container() {
    let (server, alice, bob, room) = two_members().await;
    for (mime, bytes) in VOICE_NOTES {
        let media = uploaded(&server, &alice, room, bytes.to_vec()).await;
        assert_eq!(media["mime"], *mime);
        let ms = media["duration_ms"].as_u64().unwrap();
        assert!((1400..=1600).contains(&ms), "{mime}: {ms} ms");
        let sent = send_media(&server, &alice, room, &media).await;
        assert_eq!(sent["media"]["duration_ms"], media["duration_ms"], "{mime}");
        let got = server.get(Some(&bob), &media_path(&media)).await;
        assert_eq!(got.body, *bytes, "{mime}: audio is stored as sent");
    }
    server.stop().await;
}

#[tokio::test]
async fn audio_that_does_not_parse_or_plays_too_long_is_refused() {
    let server = Server::start_with(|c| c.max_audio_seconds = 1).await;
    let alice = server.register("alice").await;
    let room = server.group(&alice, "Voice", &[]).await;
    let (_, webm) = VOICE_NOTES[0];
    let too_long = upload(&server, &alice, room, webm.to_vec()).await;
    assert_eq!(
        (too_long.status, too_long.code().as_str()),
        (413, "too_long")
    );
    // An Ogg magic number on anything else, and a WebM cut after its header.
    let mut fake = b"OggS".to_vec();
    fake.resize(8192, 0x41);
    for bytes in [fake, webm[..60].to_vec()] {
        let refused = upload(&server, &alice, room, bytes).await;
        assert_eq!(
            (refused.status, refused.code().as_str()),
            (415, "unsupported_media")
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn uploads_past_the_daily_quota_are_413() {
    let server = Server::start_with(|c| c.upload_quota_mb = 1).await;
    let alice = server.register("alice").await;
    let room = server.group(&alice, "Quota", &[]).await;
    uploaded(&server, &alice, room, wav(1000 * 1024)).await;
    let refused = upload(&server, &alice, room, wav(30 * 1024)).await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (413, "quota_exceeded")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_non_member_upload_is_refused_before_its_body_is_read() {
    let (server, _alice, _bob, room) = two_members().await;
    let mallory = server.register("mallory").await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let declared = 8 * 1024 * 1024;
    let head = format!(
        "POST /api/v1/rooms/{room}/media HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: image/png\r\nContent-Length: {declared}\r\n\r\n",
        mallory.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[0u8; 16 * 1024]).await.unwrap();
    // Most of the body is still unsent: the answer must come anyway.
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered while the client was still sending")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 404"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    server.stop().await;
}

/// How many uploads are being received right now: the files in the media directory's staging
/// folder (`<media>/tmp`).
fn staged_uploads(server: &Server) -> usize {
    std::fs::read_dir(server.config.media_dir().join("tmp"))
        .unwrap()
        .count()
}

/// Waits until `wanted` files are staged and returns how many there are (after 10 s, however
/// many there are then): the server creates and removes them in its own tasks, and a directory
/// sends no event to await.
async fn staged_settles_at(server: &Server, wanted: usize) -> usize {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = staged_uploads(server);
        if now == wanted || tokio::time::Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Every file under `dir`, staging folder included.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Writes the head of a raw upload request to `room` on a new connection.
async fn start_upload(
    server: &Server,
    user: &TestUser,
    room: i64,
    framing: &str,
) -> tokio::net::TcpStream {
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/rooms/{room}/media HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: audio/wav\r\n{framing}\r\n\r\n",
        user.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

#[tokio::test]
async fn an_upload_aborted_midway_leaves_no_temporary_file() {
    let server = Server::start().await;
    let alice = server.register("alice").await;
    let room = server.group(&alice, "Abort", &[]).await;
    let body = wav(4 * 1024 * 1024);
    let mut stream = start_upload(
        &server,
        &alice,
        room,
        &format!("Content-Length: {}", body.len()),
    )
    .await;
    stream.write_all(&body[..512 * 1024]).await.unwrap();
    assert_eq!(
        staged_settles_at(&server, 1).await,
        1,
        "the upload is written to a file as it arrives"
    );
    drop(stream);
    assert_eq!(
        staged_settles_at(&server, 0).await,
        0,
        "the client went away: its partial upload is removed"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_upload_past_the_limit_while_streaming_is_413_and_leaves_nothing() {
    const MAX: usize = 64 * 1024;
    let server = Server::start_with(|c| c.max_upload = MAX).await;
    let alice = server.register("alice").await;
    let room = server.group(&alice, "Too big", &[]).await;
    // Chunked, so no length is declared and the limit can only be found while reading.
    let mut stream = start_upload(&server, &alice, room, "Transfer-Encoding: chunked").await;
    let body = wav(MAX + 16 * 1024);
    for chunk in body.chunks(16 * 1024) {
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(b"\r\n");
        if stream.write_all(&framed).await.is_err() {
            break; // the server answered and closed: read the answer
        }
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&answer).contains("too_large") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.expect("answered");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"too_large\""), "{text}");
    assert_eq!(
        staged_settles_at(&server, 0).await,
        0,
        "nothing is left of it"
    );
    let stored = files_under(&server.config.media_dir());
    assert!(stored.is_empty(), "nothing stored: {stored:?}");
    server.stop().await;
}

#[tokio::test]
async fn downloads_held_by_clients_that_do_not_read_do_not_grow_memory() {
    const CLIENTS: usize = 200;
    const SIZE: usize = 10 * 1024 * 1024;
    let server = Server::start_with(|c| {
        c.max_upload = SIZE + 1024;
        c.max_connections_per_ip = CLIENTS + 10;
        c.max_connections = CLIENTS + 100;
    })
    .await;
    let alice = server.register("alice").await;
    let room = server.group(&alice, "Big", &[]).await;
    let media = uploaded(&server, &alice, room, wav(SIZE)).await;
    send_media(&server, &alice, room, &media).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\r\n",
        media_path(&media),
        alice.token
    );

    let before = rss_kib();
    let mut held = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut stream = socket.connect(addr.parse().unwrap()).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        // Read the status line, so the response has started, then never read again.
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        held.push(stream);
    }
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    println!("{CLIENTS} stalled 10 MiB downloads grew the server by {grown_mib} MiB");
    assert!(
        grown_mib < (CLIENTS as u64) * 10 / 10,
        "{grown_mib} MiB for {CLIENTS} stalled downloads: a download is buffered"
    );
    drop(held);
    server.stop().await;
}

/// The figures in docs/performance.md (run by hand: `cargo nextest run -p chat-tests
/// --run-ignored only media_figures --no-capture`): upload + re-encode of a 12-megapixel JPEG,
/// and download throughput of a 10 MiB file. Prints, asserts nothing about speed.
#[tokio::test]
#[ignore = "a measurement, not a check"]
async fn media_figures() {
    let server = Server::start_with(|c| c.max_upload = 32 * 1024 * 1024).await;
    let alice = server.register("alice").await;
    let room = server.group(&alice, "Figures", &[]).await;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let photo = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(4000, 3000, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let noise = (seed & 0x1f) as u8;
        image::Rgb([
            (x / 16) as u8 ^ noise,
            (y / 12) as u8,
            128u8.wrapping_add(noise),
        ])
    }));
    let jpeg = encoded(&photo, image::ImageFormat::Jpeg);
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = std::time::Instant::now();
        uploaded(&server, &alice, room, jpeg.clone()).await;
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "12 MP JPEG ({} KiB) upload + re-encode: median {:?} of {times:?}",
        jpeg.len() / 1024,
        times[1]
    );

    let media = uploaded(&server, &alice, room, wav(10 * 1024 * 1024)).await;
    send_media(&server, &alice, room, &media).await;
    let started = std::time::Instant::now();
    let rounds = 20;
    for _ in 0..rounds {
        let got = server.get(Some(&alice), &media_path(&media)).await;
        assert_eq!(got.body.len(), 10 * 1024 * 1024);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "download: {rounds} × 10 MiB in {secs:.2} s = {:.0} MiB/s",
        f64::from(rounds) * 10.0 / secs
    );
    server.stop().await;
}
