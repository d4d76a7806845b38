//! The raw-ws baseline protocol: `join` → `joined`, `msg` → `msg` to every member (the sender
//! too) and then `ack` to the sender. No authentication.

use anyhow::{Result, bail};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::conn::{Inbound, Ws, open_idle};
use crate::stamp::{Stamp, frame_type, number_after};
use crate::wire::LoadWs;

/// Opens a load connection, joins `r<room>` and waits for `joined`.
pub async fn connect(url: &str, host: &str, room: i64) -> Result<LoadWs> {
    let mut ws = LoadWs::open(url.into_client_request()?, host).await?;
    ws.queue_text(&format!(r#"{{"type":"join","room":"r{room}"}}"#));
    ws.flush().await?;
    let reply = ws.wait_for(|_| true).await?;
    if frame_type(&reply) != Some("joined") {
        bail!("expected joined, got {reply}");
    }
    Ok(ws)
}

/// Opens an idle connection (no room).
pub async fn connect_idle(url: &str, host: &str) -> Result<Ws> {
    open_idle(url.into_client_request()?, host).await
}

/// The `msg` frame for message `stamp` in `room`; its `seq` is the stamp's counter.
pub fn send_frame(room: i64, stamp: &Stamp, body_bytes: usize) -> String {
    let body = stamp.body(body_bytes);
    format!(
        r#"{{"type":"msg","room":"r{room}","body":"{body}","t":{},"seq":{}}}"#,
        stamp.t, stamp.n
    )
}

/// Classifies a server frame without building a JSON DOM.
pub fn classify(text: &str) -> Inbound {
    match frame_type(text) {
        Some("msg") => Stamp::find_in(text).map_or(Inbound::Other, Inbound::Delivery),
        Some("ack") => {
            number_after(text, "\"seq\":").map_or(Inbound::Other, |n| Inbound::Ack { n })
        }
        Some("error") => Inbound::Error(text.to_owned()),
        _ => Inbound::Other,
    }
}
