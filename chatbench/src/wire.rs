//! A minimal WebSocket client for the measured load connections.
//!
//! tungstenite does the HTTP upgrade; after it, [`LoadWs`] reads server frames straight out of
//! one large buffer. One `read` brings in many frames, and per frame nothing is copied,
//! reference-counted or allocated, no waker is registered and no buffer space is zeroed: with
//! tokio-tungstenite these costs made the generator, not the server, the limit of a run.
//!
//! It understands what a chat server sends a client and nothing more: unmasked, unfragmented
//! text, ping, pong and close frames with payloads up to [`MAX_PAYLOAD`] bytes. Anything else
//! (binary or fragmented messages, reserved bits, a masked frame, a longer frame, text that is
//! not UTF-8) fails the connection with a [`FrameError`] that names the problem. Pings are
//! answered; what the client sends is masked as RFC 6455 requires.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Largest payload accepted in one frame.
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// Read buffer of a load connection: a full read of it is some 500 chat frames.
pub const READ_BUFFER: usize = 64 * 1024;

/// How long opening a connection (or waiting for its first frame) may take.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(30);

const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// One complete server frame, borrowed from the read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A text message.
    Text(&'a str),
    /// A ping and its payload.
    Ping(&'a [u8]),
    /// A pong.
    Pong,
    /// A close frame: status code and reason, when it has them.
    Close(Option<(u16, &'a str)>),
}

/// Why a server frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// RSV1, RSV2 or RSV3 set (no extension is negotiated).
    ReservedBits,
    /// A masked frame: servers never mask.
    Masked,
    /// A continuation frame or one without FIN: fragmented messages are not supported.
    Fragmented,
    /// A binary message: chat servers send text.
    Binary,
    /// An opcode RFC 6455 does not define.
    Opcode(u8),
    /// A payload longer than [`MAX_PAYLOAD`].
    TooLong(u64),
    /// A control frame with more than 125 bytes of payload.
    ControlTooLong(u64),
    /// A text frame (or close reason) that is not UTF-8.
    NotUtf8,
    /// A close frame with a one-byte payload.
    BadClose,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::ReservedBits => write!(f, "frame with reserved bits set"),
            FrameError::Masked => write!(f, "masked frame from the server"),
            FrameError::Fragmented => write!(f, "fragmented message (not supported)"),
            FrameError::Binary => write!(f, "binary message (not supported)"),
            FrameError::Opcode(op) => write!(f, "unknown opcode {op:#x}"),
            FrameError::TooLong(n) => {
                write!(f, "frame of {n} bytes (at most {MAX_PAYLOAD} supported)")
            }
            FrameError::ControlTooLong(n) => write!(f, "control frame of {n} bytes"),
            FrameError::NotUtf8 => write!(f, "text frame that is not UTF-8"),
            FrameError::BadClose => write!(f, "close frame with a one-byte payload"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Parses the frame at the start of `buf`: the frame and its length on the wire, or `None`
/// while it is incomplete.
pub fn parse_frame(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, FrameError> {
    let [b0, b1, ..] = *buf else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(FrameError::ReservedBits);
    }
    let opcode = b0 & 0x0f;
    match opcode {
        OP_TEXT | OP_CLOSE | OP_PING | OP_PONG => {}
        0x0 => return Err(FrameError::Fragmented),
        OP_BINARY => return Err(FrameError::Binary),
        other => return Err(FrameError::Opcode(other)),
    }
    if b0 & 0x80 == 0 {
        return Err(FrameError::Fragmented);
    }
    if b1 & 0x80 != 0 {
        return Err(FrameError::Masked);
    }
    let (len, head) = match b1 & 0x7f {
        126 => match buf.get(2..4) {
            Some(&[a, b]) => (u64::from(u16::from_be_bytes([a, b])), 4),
            _ => return Ok(None),
        },
        127 => match buf.get(2..10).map(<[u8; 8]>::try_from) {
            Some(Ok(bytes)) => (u64::from_be_bytes(bytes), 10),
            _ => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    if opcode >= OP_CLOSE && len > 125 {
        return Err(FrameError::ControlTooLong(len));
    }
    if len > MAX_PAYLOAD as u64 {
        return Err(FrameError::TooLong(len));
    }
    let end = head + len as usize;
    let Some(payload) = buf.get(head..end) else {
        return Ok(None);
    };
    let frame = match opcode {
        OP_TEXT => Frame::Text(std::str::from_utf8(payload).map_err(|_| FrameError::NotUtf8)?),
        OP_PING => Frame::Ping(payload),
        OP_PONG => Frame::Pong,
        _ => Frame::Close(match payload {
            [] => None,
            [_] => return Err(FrameError::BadClose),
            [a, b, reason @ ..] => Some((
                u16::from_be_bytes([*a, *b]),
                std::str::from_utf8(reason).map_err(|_| FrameError::NotUtf8)?,
            )),
        }),
    };
    Ok(Some((frame, end)))
}

/// Appends a masked (client) frame with `opcode` and `payload` to `out`.
pub fn encode_masked(out: &mut Vec<u8>, opcode: u8, payload: &[u8], key: [u8; 4]) {
    out.push(0x80 | opcode);
    let n = payload.len();
    if n < 126 {
        out.push(0x80 | n as u8);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(0x80 | 126);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
}

/// A load connection after the upgrade: the socket, the read buffer and the frames waiting to
/// be written.
#[derive(Debug)]
pub struct LoadWs {
    tcp: TcpStream,
    /// Bytes read and not yet discarded; `buf[pos..]` is not parsed yet.
    buf: Vec<u8>,
    pos: usize,
    /// Frames queued by [`LoadWs::queue_text`] and ping answers, written by [`LoadWs::flush`].
    out: Vec<u8>,
    /// xorshift state for the masking keys.
    rng: u64,
}

/// A TCP connection to `host` with Nagle off, or an error after [`OPEN_TIMEOUT`].
pub async fn connect_tcp(host: &str) -> Result<TcpStream> {
    let tcp = tokio::time::timeout(OPEN_TIMEOUT, TcpStream::connect(host))
        .await
        .map_err(|_| anyhow!("TCP connect timed out"))?
        .with_context(|| format!("connecting to {host}"))?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

impl LoadWs {
    /// Connects to `host` and upgrades with `req` (tungstenite's handshake).
    pub async fn open(req: Request, host: &str) -> Result<LoadWs> {
        let tcp = connect_tcp(host).await?;
        // The frame reader takes over right after the upgrade: tungstenite's own buffers are
        // never used, so keep them small.
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0);
        let handshake =
            tokio_tungstenite::client_async_with_config(req, HeadOnly::new(tcp), Some(config));
        let (ws, _) = tokio::time::timeout(OPEN_TIMEOUT, handshake)
            .await
            .map_err(|_| anyhow!("WebSocket handshake timed out"))??;
        let (tcp, rest) = ws.into_inner().into_parts();
        let mut buf = Vec::with_capacity(READ_BUFFER.max(rest.len()));
        buf.extend_from_slice(&rest);
        Ok(LoadWs {
            tcp,
            buf,
            pos: 0,
            out: Vec::new(),
            rng: RandomState::new().hash_one(host) | 1,
        })
    }

    /// Reads once from the socket into the buffer; the number of bytes read (0: the server
    /// closed the connection). Cancel-safe.
    pub async fn fill(&mut self) -> io::Result<usize> {
        if self.pos > 0 {
            // Keep only the incomplete frame at the end (usually nothing, or a few bytes).
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        // Room for a full read, and for the largest frame.
        let want = READ_BUFFER.max(MAX_PAYLOAD + 14);
        if self.buf.capacity() < want {
            self.buf.reserve(want - self.buf.len());
        }
        self.tcp.read_buf(&mut self.buf).await
    }

    /// The next complete frame in the buffer, or `None` when the rest is incomplete. Pings are
    /// answered (the pong is queued for [`LoadWs::flush`]) and pongs skipped.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, FrameError> {
        loop {
            let Some((frame, used)) = parse_frame(&self.buf[self.pos..])? else {
                return Ok(None);
            };
            self.pos += used;
            match frame {
                Frame::Ping(payload) => {
                    let key = next_key(&mut self.rng);
                    encode_masked(&mut self.out, OP_PONG, payload, key);
                }
                Frame::Pong => {}
                other => return Ok(Some(other)),
            }
        }
    }

    /// Queues a text frame for [`LoadWs::flush`].
    pub fn queue_text(&mut self, text: &str) {
        let key = next_key(&mut self.rng);
        encode_masked(&mut self.out, OP_TEXT, text.as_bytes(), key);
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.tcp.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Reads frames until a text frame for which `wanted` holds; returns it. Frames behind it
    /// stay in the buffer.
    pub async fn wait_for(&mut self, wanted: impl Fn(&str) -> bool) -> Result<String> {
        let deadline = Instant::now() + OPEN_TIMEOUT;
        loop {
            while let Some(frame) = self.next_frame()? {
                match frame {
                    Frame::Text(t) if wanted(t) => return Ok(t.to_owned()),
                    Frame::Close(c) => bail!("closed by the server: {}", close_text(c)),
                    _ => {}
                }
            }
            self.flush().await?;
            let read = tokio::time::timeout_at(deadline, self.fill())
                .await
                .map_err(|_| anyhow!("no answer from the server"))??;
            if read == 0 {
                bail!("connection closed");
            }
        }
    }

    /// Sends a close frame (1000, normal closure) after anything still queued, and shuts the
    /// sending side down.
    pub async fn close(&mut self) -> io::Result<()> {
        let key = next_key(&mut self.rng);
        encode_masked(&mut self.out, OP_CLOSE, &1000u16.to_be_bytes(), key);
        self.flush().await?;
        self.tcp.shutdown().await
    }
}

/// A close frame's status and reason, for a report.
pub fn close_text(close: Option<(u16, &str)>) -> String {
    match close {
        Some((code, reason)) => format!("{code} {reason:?}"),
        None => "no status".to_owned(),
    }
}

/// The next masking key (xorshift64).
fn next_key(state: &mut u64) -> [u8; 4] {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    ((x >> 16) as u32).to_le_bytes()
}

/// A stream during the HTTP upgrade. It hands tungstenite the response head and nothing past
/// it, so frames the server sends right behind its `101` stay here for the frame reader
/// instead of disappearing into tungstenite's buffer.
#[derive(Debug)]
pub struct HeadOnly<S> {
    io: S,
    /// Read from `io`, not handed out yet: `buf[pos..]`.
    buf: Vec<u8>,
    pos: usize,
    /// How much of `\r\n\r\n` the bytes handed out so far end with.
    matched: usize,
}

impl<S> HeadOnly<S> {
    /// Wraps `io` for an upgrade.
    pub fn new(io: S) -> Self {
        HeadOnly {
            io,
            buf: Vec::new(),
            pos: 0,
            matched: 0,
        }
    }

    /// The stream and what was read past the head.
    pub fn into_parts(mut self) -> (S, Vec<u8>) {
        self.buf.drain(..self.pos);
        (self.io, self.buf)
    }

    fn head_done(&self) -> bool {
        self.matched == 4
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for HeadOnly<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.head_done() {
            // Past the head the bytes belong to the frame reader: tungstenite gets an end of
            // stream (it never asks once the response is complete).
            return Poll::Ready(Ok(()));
        }
        if this.pos == this.buf.len() {
            let mut chunk = [0u8; 4096];
            let mut chunk = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut chunk))?;
            this.buf.clear();
            this.pos = 0;
            this.buf.extend_from_slice(chunk.filled());
        }
        let avail = &this.buf[this.pos..];
        let mut n = 0;
        while n < avail.len() && n < out.remaining() && !this.head_done() {
            this.matched = match (this.matched, avail[n]) {
                (0 | 2, b'\r') | (1 | 3, b'\n') => this.matched + 1,
                (_, b'\r') => 1,
                _ => 0,
            };
            n += 1;
        }
        out.put_slice(&avail[..n]);
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HeadOnly<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use futures::{SinkExt, StreamExt};
    use tokio::net::TcpListener;
    use tokio_tungstenite::WebSocketStream;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
    use tokio_tungstenite::tungstenite::protocol::Role;

    /// An unmasked (server) frame.
    fn server_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![b0];
        match payload.len() {
            n if n < 126 => f.push(n as u8),
            n if n <= 0xffff => {
                f.push(126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn frames_parse_in_every_length_form() {
        let short = server_frame(0x81, b"hello");
        assert_eq!(
            parse_frame(&short),
            Ok(Some((Frame::Text("hello"), short.len())))
        );
        let text = "x".repeat(300);
        let medium = server_frame(0x81, text.as_bytes());
        assert_eq!(medium[1], 126);
        assert_eq!(
            parse_frame(&medium),
            Ok(Some((Frame::Text(&text), medium.len())))
        );
        // The eight-byte form is legal for any length.
        let mut long = vec![0x81, 127];
        long.extend_from_slice(&3u64.to_be_bytes());
        long.extend_from_slice(b"abc");
        assert_eq!(parse_frame(&long), Ok(Some((Frame::Text("abc"), 13))));
        let largest = server_frame(0x81, &vec![b'y'; MAX_PAYLOAD]);
        assert!(
            matches!(parse_frame(&largest), Ok(Some((Frame::Text(t), _))) if t.len() == MAX_PAYLOAD)
        );
    }

    #[test]
    fn incomplete_frames_wait_for_more() {
        let mut two = server_frame(0x81, "é".repeat(100).as_bytes());
        let first = two.len();
        two.extend(server_frame(0x81, b"next"));
        for cut in 0..first {
            assert_eq!(parse_frame(&two[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(matches!(parse_frame(&two), Ok(Some((Frame::Text(_), n))) if n == first));
        assert_eq!(
            parse_frame(&two[first..]),
            Ok(Some((Frame::Text("next"), 6)))
        );
    }

    #[test]
    fn control_frames_parse() {
        assert_eq!(
            parse_frame(&server_frame(0x89, b"p1")),
            Ok(Some((Frame::Ping(b"p1"), 4)))
        );
        assert_eq!(
            parse_frame(&server_frame(0x8A, b"")),
            Ok(Some((Frame::Pong, 2)))
        );
        assert_eq!(
            parse_frame(&server_frame(0x88, b"")),
            Ok(Some((Frame::Close(None), 2)))
        );
        let mut close = 1001u16.to_be_bytes().to_vec();
        close.extend_from_slice(b"going away");
        assert_eq!(
            parse_frame(&server_frame(0x88, &close)),
            Ok(Some((Frame::Close(Some((1001, "going away"))), 14)))
        );
    }

    #[test]
    fn anything_else_is_refused_with_its_reason() {
        let cases: [(Vec<u8>, FrameError); 10] = [
            (server_frame(0x01, b"part"), FrameError::Fragmented),
            (server_frame(0x80, b"cont"), FrameError::Fragmented),
            (server_frame(0x82, b"bin"), FrameError::Binary),
            (server_frame(0xC1, b"rsv1"), FrameError::ReservedBits),
            (server_frame(0x83, b""), FrameError::Opcode(3)),
            (vec![0x81, 0x82, 1, 2, 3, 4, 0, 0], FrameError::Masked),
            (
                server_frame(0x81, &vec![b'z'; MAX_PAYLOAD + 1]),
                FrameError::TooLong(MAX_PAYLOAD as u64 + 1),
            ),
            (
                server_frame(0x89, &[0; 126]),
                FrameError::ControlTooLong(126),
            ),
            (server_frame(0x81, &[0xff, 0xfe]), FrameError::NotUtf8),
            (server_frame(0x88, &[3]), FrameError::BadClose),
        ];
        for (bytes, error) in cases {
            assert_eq!(parse_frame(&bytes), Err(error), "{bytes:02x?}");
            assert!(!error.to_string().is_empty());
        }
        // A length that cannot be buffered is refused before its payload arrives.
        let mut huge = vec![0x81, 127];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(parse_frame(&huge), Err(FrameError::TooLong(u64::MAX)));
    }

    #[test]
    fn client_frames_are_masked() {
        for len in [0, 5, 125, 126, 300, 0xffff, 0x10000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let key = [0x12, 0x34, 0x56, 0x78];
            let mut out = Vec::new();
            encode_masked(&mut out, OP_TEXT, &payload, key);
            assert_eq!(out[0], 0x81);
            assert_eq!(out[1] & 0x80, 0x80, "mask bit");
            let (len_field, head) = match out[1] & 0x7f {
                126 => (u64::from(u16::from_be_bytes([out[2], out[3]])), 4),
                127 => (u64::from_be_bytes(out[2..10].try_into().unwrap()), 10),
                n => (u64::from(n), 2),
            };
            assert_eq!(len_field, len as u64);
            assert_eq!(out[head..head + 4], key);
            let unmasked: Vec<u8> = out[head + 4..]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ key[i % 4])
                .collect();
            assert_eq!(unmasked, payload);
        }
        let mut state = 1;
        assert_ne!(next_key(&mut state), next_key(&mut state));
    }

    #[tokio::test]
    async fn the_upgrade_leaves_the_first_frames_behind() {
        let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
        let mut bytes = head.as_bytes().to_vec();
        bytes.extend(server_frame(0x81, b"hello"));
        let (mut server, client) = tokio::io::duplex(4096);
        server.write_all(&bytes).await.unwrap();
        let mut io = HeadOnly::new(client);
        // A reader that asks for a few bytes at a time still gets exactly the head.
        let mut got = Vec::new();
        let mut small = [0u8; 7];
        loop {
            let n = io.read(&mut small).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&small[..n]);
        }
        assert_eq!(got, head.as_bytes());
        let (_, rest) = io.into_parts();
        assert_eq!(rest, server_frame(0x81, b"hello"));
    }

    /// A loopback server that answers the upgrade and sends its first frames in the same
    /// write, then speaks through tungstenite.
    async fn serve_once(listener: TcpListener, first: Vec<u8>) -> WebSocketStream<TcpStream> {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        while !request.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            tcp.read_exact(&mut byte).await.unwrap();
            request.push(byte[0]);
        }
        let request = String::from_utf8(request).unwrap();
        let key = request
            .lines()
            .find_map(|l| {
                l.strip_prefix("Sec-WebSocket-Key: ")
                    .or(l.strip_prefix("sec-websocket-key: "))
            })
            .unwrap();
        let mut reply = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            derive_accept_key(key.trim().as_bytes())
        )
        .into_bytes();
        reply.extend(first);
        tcp.write_all(&reply).await.unwrap();
        WebSocketStream::from_raw_socket(tcp, Role::Server, None).await
    }

    #[tokio::test]
    async fn a_load_connection_talks_to_a_real_websocket_peer() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let mut first = server_frame(0x81, b"hello");
        first.extend(server_frame(0x89, b"are you there"));
        first.extend(server_frame(0x81, b"after the ping"));
        let server = tokio::spawn(async move {
            let mut ws = serve_once(listener, first).await;
            // The pong, then what the client sends, both unmasked by tungstenite.
            let mut seen = Vec::new();
            while seen.len() < 2 {
                match ws.next().await.unwrap().unwrap() {
                    Message::Pong(p) => seen.push(format!("pong {}", String::from_utf8_lossy(&p))),
                    Message::Text(t) => seen.push(format!("text {t}")),
                    other => panic!("unexpected {other:?}"),
                }
            }
            ws.send(Message::text("é".repeat(200))).await.unwrap();
            ws.close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: 1001u16.into(),
                reason: "bye".into(),
            }))
            .await
            .unwrap();
            seen
        });

        let url = format!("ws://{host}/");
        let mut ws = LoadWs::open(url.into_client_request().unwrap(), &host)
            .await
            .unwrap();
        assert_eq!(ws.wait_for(|t| t == "hello").await.unwrap(), "hello");
        assert_eq!(ws.next_frame(), Ok(Some(Frame::Text("after the ping"))));
        ws.queue_text(&"ü".repeat(100));
        ws.flush().await.unwrap();
        let mut frames = Vec::new();
        loop {
            while let Some(frame) = ws.next_frame().unwrap() {
                frames.push(match frame {
                    Frame::Text(t) => t.to_owned(),
                    Frame::Close(c) => close_text(c),
                    other => panic!("unexpected {other:?}"),
                });
            }
            if frames.len() == 2 {
                break;
            }
            assert!(ws.fill().await.unwrap() > 0, "closed early");
        }
        assert_eq!(frames, ["é".repeat(200), "1001 \"bye\"".to_owned()]);
        ws.close().await.unwrap();
        let mut seen = server.await.unwrap();
        seen.sort();
        assert_eq!(
            seen,
            [
                "pong are you there".to_owned(),
                format!("text {}", "ü".repeat(100))
            ]
        );
    }
}
