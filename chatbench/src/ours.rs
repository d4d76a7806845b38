//! Our protocol (`docs/protocol.md`): bearer-authenticated upgrade, `hello`, `send` → `ack` +
//! `message` to every member (the sender's own connection too).

use anyhow::{Result, bail};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::conn::Inbound;
use crate::stamp::{Stamp, frame_type};
use crate::wire::LoadWs;

/// Opens an authenticated load connection and waits for `hello`.
pub async fn connect(url: &str, host: &str, token: &str) -> Result<LoadWs> {
    let mut req = url.into_client_request()?;
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    let mut ws = LoadWs::open(req, host).await?;
    let first = ws.wait_for(|t| frame_type(t) != Some("presence")).await?;
    match frame_type(&first) {
        Some("hello") => Ok(ws),
        _ => bail!(
            "expected hello, got {}",
            first.chars().take(200).collect::<String>()
        ),
    }
}

/// The `send` frame for message `stamp` in `room` with idempotency key `client_id` (see
/// [`crate::client_ids`]; it needs no JSON escaping).
pub fn send_frame(room: i64, client_id: &str, stamp: &Stamp, body_bytes: usize) -> String {
    let body = stamp.body(body_bytes);
    format!(r#"{{"type":"send","room_id":{room},"body":"{body}","client_id":"{client_id}"}}"#)
}

/// Classifies a server frame without building a JSON DOM.
pub fn classify(text: &str) -> Inbound {
    match frame_type(text) {
        Some("message") => Stamp::find_in(text).map_or(Inbound::Other, Inbound::Delivery),
        Some("ack") => Stamp::find_in(text).map_or(Inbound::Other, |s| Inbound::Ack { n: s.n }),
        Some("error") => Inbound::Error(text.chars().take(300).collect()),
        _ => Inbound::Other,
    }
}
