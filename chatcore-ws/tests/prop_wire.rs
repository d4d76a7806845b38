//! Property tests of the WebSocket frame decoder as the server runs it: raw client frames
//! (masked or not, reserved bits, every opcode, fragments, payloads around the 64 KiB cap)
//! go into a server-role stream built with the production [`websocket_config`], and what
//! comes out must be what RFC 6455 says, computed here by a small independent model.
//!
//! A failing input is saved by proptest in `chatcore-ws/tests/prop_wire.proptest-regressions`
//! and replayed first on every later run; commit that file with the fix.

#![allow(clippy::unwrap_used)]

use chatcore_ws::tokio_tungstenite::WebSocketStream;
use chatcore_ws::tokio_tungstenite::tungstenite::Message;
use chatcore_ws::tokio_tungstenite::tungstenite::protocol::Role;
use chatcore_ws::tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use chatcore_ws::{WsConfig, websocket_config};
use futures::StreamExt;
use proptest::prelude::*;
use tokio::io::AsyncWriteExt;

/// The production cap on a frame and on a whole message.
const CAP: usize = 64 * 1024;

/// One frame as a client might put it on the wire.
#[derive(Debug, Clone)]
struct RawFrame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    masked: bool,
    mask: [u8; 4],
    payload: Vec<u8>,
}

impl RawFrame {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.fin) << 7 | (self.rsv & 7) << 4 | (self.opcode & 15));
        let mask_bit = u8::from(self.masked) << 7;
        let len = self.payload.len();
        if len < 126 {
            out.push(mask_bit | len as u8);
        } else if len <= usize::from(u16::MAX) {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        if self.masked {
            out.extend_from_slice(&self.mask);
            out.extend(
                self.payload
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ self.mask[i % 4]),
            );
        } else {
            out.extend_from_slice(&self.payload);
        }
    }

    fn is_control(&self) -> bool {
        self.opcode >= 8
    }
}

/// What the server must make of the frames: the first message it yields, or a refusal.
#[derive(Debug, PartialEq)]
enum Outcome {
    Text(Vec<u8>),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// A close frame; `None` when it had no payload.
    Close(Option<u16>),
    /// The connection is failed (protocol error, too large, invalid UTF-8) or ends.
    Refused,
}

/// Close codes a peer may send (RFC 6455 §7.4 and the IANA registry).
fn close_code_allowed(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// RFC 6455, as far as a server reading one client's frames is concerned.
fn model(frames: &[RawFrame]) -> Outcome {
    let mut message: Option<(u8, Vec<u8>)> = None;
    for f in frames {
        if !f.masked || f.rsv != 0 {
            return Outcome::Refused; // §5.1 clients MUST mask; §5.2 no extension, no RSV bits
        }
        if f.payload.len() > CAP {
            return Outcome::Refused; // our cap, 1009
        }
        if f.is_control() {
            if !f.fin || f.payload.len() > 125 {
                return Outcome::Refused; // §5.5
            }
            return match f.opcode {
                8 => close(&f.payload),
                9 => Outcome::Ping(f.payload.clone()),
                10 => Outcome::Pong(f.payload.clone()),
                _ => Outcome::Refused, // reserved control opcode
            };
        }
        match (f.opcode, &mut message) {
            (0, Some((_, data))) => data.extend_from_slice(&f.payload),
            (1 | 2, None) => message = Some((f.opcode, f.payload.clone())),
            // A continuation with nothing to continue, a new message inside a fragmented one,
            // or a reserved data opcode.
            _ => return Outcome::Refused,
        }
        let (opcode, data) = message.as_ref().unwrap();
        if data.len() > CAP {
            return Outcome::Refused;
        }
        // Text is checked as it arrives: a byte sequence that can never become UTF-8 fails
        // the connection at once (§8.1), even before the last fragment.
        if *opcode == 1 && matches!(std::str::from_utf8(data), Err(e) if e.error_len().is_some()) {
            return Outcome::Refused;
        }
        if f.fin {
            let (opcode, data) = message.take().unwrap();
            return match opcode {
                1 if std::str::from_utf8(&data).is_ok() => Outcome::Text(data),
                1 => Outcome::Refused,
                _ => Outcome::Binary(data),
            };
        }
    }
    Outcome::Refused // the client went away mid-message
}

fn close(payload: &[u8]) -> Outcome {
    match payload {
        [] => Outcome::Close(None),
        [_] => Outcome::Refused,
        [hi, lo, reason @ ..] => {
            if std::str::from_utf8(reason).is_err() {
                return Outcome::Refused;
            }
            let code = u16::from_be_bytes([*hi, *lo]);
            // A forbidden code is answered as a protocol error.
            Outcome::Close(Some(if close_code_allowed(code) { code } else { 1002 }))
        }
    }
}

/// Feeds the frames to a server stream with the production settings and reports its first
/// message (or its refusal).
async fn server_reads(frames: &[RawFrame]) -> Outcome {
    let mut wire = Vec::new();
    for f in frames {
        f.encode(&mut wire);
    }
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    let config = websocket_config(&WsConfig::default());
    let mut stream = WebSocketStream::from_raw_socket(server, Role::Server, Some(config)).await;
    let write = async move {
        // The server may fail the connection before reading everything: a broken pipe is fine.
        let _ = client.write_all(&wire).await;
        let _ = client.shutdown().await;
        client
    };
    // The read owns the stream, so the socket closes as soon as the outcome is known.
    let read = async move {
        match stream.next().await {
            Some(Ok(Message::Text(t))) => Outcome::Text(t.as_bytes().to_vec()),
            Some(Ok(Message::Binary(b))) => Outcome::Binary(b.to_vec()),
            Some(Ok(Message::Ping(p))) => Outcome::Ping(p.to_vec()),
            Some(Ok(Message::Pong(p))) => Outcome::Pong(p.to_vec()),
            Some(Ok(Message::Close(c))) => Outcome::Close(c.map(|c| u16::from(c.code))),
            Some(Ok(Message::Frame(_)) | Err(_)) | None => Outcome::Refused,
        }
    };
    let (_client, outcome) = tokio::join!(write, read);
    outcome
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    let text = prop_oneof![
        ".{0,20}".prop_map(String::into_bytes),
        // Multi-byte characters, so fragment boundaries split them.
        "[é€😀a]{0,12}".prop_map(String::into_bytes),
    ];
    prop_oneof![
        6 => text,
        3 => prop::collection::vec(any::<u8>(), 0..140),
        // Around the cap, where an off-by-one would let a larger frame through.
        1 => (CAP - 2..CAP + 3).prop_map(|len| vec![b'a'; len]),
    ]
}

fn frame() -> impl Strategy<Value = RawFrame> {
    (
        prop::bool::weighted(0.7),
        prop_oneof![8 => Just(0u8), 1 => 1u8..8],
        prop_oneof![
            4 => Just(1u8),
            2 => Just(2u8),
            3 => Just(0u8),
            1 => prop::sample::select(vec![8u8, 9, 10]),
            1 => 0u8..16,
        ],
        prop::bool::weighted(0.9),
        any::<[u8; 4]>(),
        payload(),
        prop::sample::select(vec![
            1000u16, 1001, 1003, 1008, 1011, 3000, 4999, 0, 999, 1005, 1006, 1015, 2999, 5000,
        ]),
    )
        .prop_map(|(fin, rsv, opcode, masked, mask, mut payload, code)| {
            if opcode == 8 && payload.len() >= 2 && payload.len() <= 125 {
                payload[..2].copy_from_slice(&code.to_be_bytes());
            }
            RawFrame {
                fin,
                rsv,
                opcode,
                masked,
                mask,
                payload,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_server_decodes_client_frames_as_rfc_6455_says(
        frames in prop::collection::vec(frame(), 1..5)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let got = rt.block_on(server_reads(&frames));
        prop_assert_eq!(got, model(&frames), "frames: {:?}", frames);
    }
}

/// The cases the properties exist for, pinned so they run whatever the generator draws.
#[tokio::test]
async fn an_unmasked_or_oversized_client_frame_is_refused() {
    let text = |masked, payload: Vec<u8>| RawFrame {
        fin: true,
        rsv: 0,
        opcode: 1,
        masked,
        mask: [1, 2, 3, 4],
        payload,
    };
    assert_eq!(
        server_reads(&[text(true, b"hi".to_vec())]).await,
        Outcome::Text(b"hi".to_vec())
    );
    assert_eq!(
        server_reads(&[text(false, b"hi".to_vec())]).await,
        Outcome::Refused
    );
    assert_eq!(
        server_reads(&[text(true, vec![b'a'; CAP])]).await,
        Outcome::Text(vec![b'a'; CAP])
    );
    assert_eq!(
        server_reads(&[text(true, vec![b'a'; CAP + 1])]).await,
        Outcome::Refused
    );
    assert!(close_code_allowed(u16::from(CloseCode::Normal)));
}
