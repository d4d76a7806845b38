//! One client connection: open it, then send at the run's pace and account for every frame
//! that comes back. One task per connection; no lock on the per-frame path.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use futures::{FutureExt, SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::cli::Proto;
use crate::stamp::{Stamp, now_ns};
use crate::stats::{Arrival, Phase, Samples, Shared, Tracker};
use crate::{ours, raw};

/// A client WebSocket over plain TCP.
pub type Ws = WebSocketStream<TcpStream>;

/// A server frame, as far as the benchmark cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A message delivered to this client (the sender's own included).
    Delivery(Stamp),
    /// The ack of this client's message `n`.
    Ack {
        /// The sender's message counter.
        n: u64,
    },
    /// An `error` frame.
    Error(String),
    /// Anything else (presence, hello, pong, …).
    Other,
}

/// Frames handled in a row before the driver looks at its timer and stop signal again.
const DRAIN_BATCH: usize = 64;

/// How long opening a connection (or waiting for its first frame) may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens a WebSocket to `host` with a small read buffer: 20,000 idle clients must fit, and
/// tungstenite zeroes the free part of the buffer before every read.
pub async fn open(req: Request, host: &str) -> Result<Ws> {
    let tcp = tokio::time::timeout(OPEN_TIMEOUT, TcpStream::connect(host))
        .await
        .map_err(|_| anyhow!("TCP connect timed out"))?
        .with_context(|| format!("connecting to {host}"))?;
    tcp.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0);
    let handshake = tokio_tungstenite::client_async_with_config(req, tcp, Some(config));
    let (ws, _) = tokio::time::timeout(OPEN_TIMEOUT, handshake)
        .await
        .map_err(|_| anyhow!("WebSocket handshake timed out"))??;
    Ok(ws)
}

/// Reads frames until a text frame for which `wanted` holds; returns it.
pub async fn wait_for(ws: &mut Ws, wanted: impl Fn(&str) -> bool) -> Result<String> {
    let deadline = Instant::now() + OPEN_TIMEOUT;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| anyhow!("no answer from the server"))?
            .ok_or_else(|| anyhow!("connection closed"))??;
        match frame {
            Message::Text(t) if wanted(t.as_str()) => return Ok(t.as_str().to_owned()),
            Message::Close(c) => return Err(anyhow!("closed by the server: {c:?}")),
            _ => {}
        }
    }
}

/// Who a connection is and how it sends: the same for every client of a run except the ids.
#[derive(Debug, Clone)]
pub struct Pace {
    /// Wire protocol.
    pub proto: Proto,
    /// Messages per second per client (0: on every ack).
    pub rate: f64,
    /// Unacked messages allowed.
    pub inflight: usize,
    /// Body size.
    pub body_bytes: usize,
}

/// One client's place in the run.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Global connection index (used in `client_id`s).
    pub conn: usize,
    /// Room id (ours) or number (raw, room `r<n>`).
    pub room: i64,
    /// Index within the room: the stamp's sender.
    pub sender: u32,
    /// Members of the room: deliveries expected per acked message.
    pub members: u64,
    /// Delay before the first paced send, so paced clients do not all send at once.
    pub offset: Duration,
}

/// A connection's sending and accounting state.
struct Driver {
    spec: Spec,
    pace: Arc<Pace>,
    shared: Arc<Shared>,
    samples: Samples,
    tracker: Tracker,
    /// (counter, send time) of unacked messages, oldest first.
    pending: VecDeque<(u64, u64)>,
    next_n: u64,
}

/// Sends and receives until `done` fires (or the connection fails), then closes.
pub async fn drive(
    mut ws: Ws,
    spec: Spec,
    pace: Arc<Pace>,
    shared: Arc<Shared>,
    mut done: watch::Receiver<bool>,
) {
    let paced = pace.rate > 0.0;
    let mut ticker = paced.then(|| {
        let mut t = tokio::time::interval_at(
            Instant::now() + spec.offset,
            Duration::from_secs_f64(1.0 / pace.rate),
        );
        t.set_missed_tick_behavior(MissedTickBehavior::Delay);
        t
    });
    let mut d = Driver {
        spec,
        pace,
        shared,
        samples: Samples::default(),
        tracker: Tracker::default(),
        pending: VecDeque::new(),
        next_n: 0,
    };
    let mut ok = true;
    if !paced {
        for _ in 0..d.pace.inflight.max(1) {
            ok &= d.send(&mut ws).await;
        }
    }
    // One long-lived future for the stop signal instead of a new one per frame.
    let stop = done.changed();
    tokio::pin!(stop);
    while ok {
        tokio::select! {
            frame = ws.next() => {
                ok = d.on_frame(&mut ws, frame).await;
                // Frames already read into the buffer: handle them without a trip through
                // `select!` each (bounded, so ticks and the stop signal still get their turn).
                for _ in 0..DRAIN_BATCH {
                    if !ok {
                        break;
                    }
                    match ws.next().now_or_never() {
                        Some(frame) => ok = d.on_frame(&mut ws, frame).await,
                        None => break,
                    }
                }
            }
            _ = tick(&mut ticker) => ok = d.on_tick(&mut ws).await,
            _ = &mut stop => break,
        }
    }
    if !ok {
        d.shared.closed_early.fetch_add(1, Relaxed);
    }
    d.samples.flush(&d.shared);
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
}

/// Keeps an idle connection open (answering pings) until `done` fires.
pub async fn idle(mut ws: Ws, shared: Arc<Shared>, mut done: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(Message::Close(c))) => { shared.note_error(format!("idle connection closed: {c:?}")); break }
                Some(Ok(_)) => {}
                Some(Err(e)) => { shared.note_error(format!("idle connection failed: {e}")); break }
                None => break,
            },
            _ = done.changed() => return,
        }
    }
    shared.closed_early.fetch_add(1, Relaxed);
}

async fn tick(ticker: &mut Option<Interval>) {
    match ticker {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

impl Driver {
    /// Sends the next message; false when the socket failed.
    async fn send(&mut self, ws: &mut Ws) -> bool {
        let stamp = Stamp {
            t: now_ns(),
            sender: self.spec.sender,
            n: self.next_n,
        };
        self.next_n += 1;
        let text = match self.pace.proto {
            Proto::Ours => {
                ours::send_frame(self.spec.room, self.spec.conn, &stamp, self.pace.body_bytes)
            }
            Proto::Raw => raw::send_frame(self.spec.room, &stamp, self.pace.body_bytes),
        };
        self.pending.push_back((stamp.n, stamp.t));
        match ws.send(Message::text(text)).await {
            Ok(()) => true,
            Err(e) => {
                self.shared.note_error(format!("send failed: {e}"));
                false
            }
        }
    }

    async fn on_tick(&mut self, ws: &mut Ws) -> bool {
        if self.shared.phase() == Phase::Drain {
            return true;
        }
        if self.pending.len() >= self.pace.inflight.max(1) {
            self.shared.skipped.fetch_add(1, Relaxed);
            return true;
        }
        self.send(ws).await
    }

    async fn on_frame(
        &mut self,
        ws: &mut Ws,
        frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) -> bool {
        let text = match frame {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(c))) => {
                self.shared
                    .note_error(format!("closed by the server: {c:?}"));
                return false;
            }
            Some(Ok(_)) => return true,
            Some(Err(e)) => {
                self.shared.note_error(format!("connection failed: {e}"));
                return false;
            }
            None => {
                self.shared.note_error("connection closed".to_owned());
                return false;
            }
        };
        let inbound = match self.pace.proto {
            Proto::Ours => ours::classify(text.as_str()),
            Proto::Raw => raw::classify(text.as_str()),
        };
        match inbound {
            Inbound::Delivery(stamp) => self.on_delivery(stamp),
            Inbound::Ack { n } => return self.on_ack(ws, n).await,
            Inbound::Error(e) => {
                self.shared.errors.fetch_add(1, Relaxed);
                self.shared.note_error(e);
                // The request it refers to will never be acked: free its slot.
                if self.pending.pop_front().is_some()
                    && self.pace.rate <= 0.0
                    && self.shared.phase() != Phase::Drain
                {
                    return self.send(ws).await;
                }
            }
            Inbound::Other => {}
        }
        true
    }

    fn on_delivery(&mut self, stamp: Stamp) {
        let now = now_ns();
        match self.tracker.see(stamp.sender, stamp.n) {
            Arrival::Next => {}
            Arrival::Reordered => {
                self.shared.out_of_order.fetch_add(1, Relaxed);
            }
            Arrival::Duplicate => {
                self.shared.duplicates.fetch_add(1, Relaxed);
            }
        }
        self.shared.delivered_total.fetch_add(1, Relaxed);
        if self.shared.phase() == Phase::Measure {
            self.shared.delivered.fetch_add(1, Relaxed);
            self.samples.e2e.push(now.saturating_sub(stamp.t));
            if self.samples.e2e.len() >= Samples::BATCH {
                self.samples.flush(&self.shared);
            }
        }
    }

    async fn on_ack(&mut self, ws: &mut Ws, n: u64) -> bool {
        let now = now_ns();
        let Some(at) = self.pending.iter().position(|&(p, _)| p == n) else {
            return true; // an ack for something already given up on
        };
        let (_, sent) = self.pending.remove(at).unwrap_or_default();
        self.shared.acked_total.fetch_add(1, Relaxed);
        self.shared
            .expected_total
            .fetch_add(self.spec.members, Relaxed);
        let phase = self.shared.phase();
        if phase == Phase::Measure {
            self.shared.acked.fetch_add(1, Relaxed);
            self.samples.ack.push(now.saturating_sub(sent));
        }
        if self.pace.rate <= 0.0 && phase != Phase::Drain {
            return self.send(ws).await;
        }
        true
    }
}
