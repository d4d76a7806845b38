//! One client connection: open it, then send at the run's pace and account for every frame
//! that comes back. One task per connection; no lock and no shared write on the per-frame path.
//!
//! Load connections (the ones that send and are measured) use [`LoadWs`], the generator's own
//! frame reader; idle connections keep tokio-tungstenite with a small buffer.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use anyhow::{Result, anyhow};
use futures::StreamExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::cli::Proto;
use crate::client_ids::{ClientIds, IdSource};
use crate::stamp::{Stamp, now_ns};
use crate::stats::{Arrival, Counts, Phase, Samples, Shared, Tracker};
use crate::wire::{Frame, LoadWs, OPEN_TIMEOUT, close_text};
use crate::{ours, raw};

/// An idle client's WebSocket over plain TCP.
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

/// Opens an idle WebSocket to `host` with a small read buffer: 20,000 idle clients must fit,
/// and tungstenite zeroes the free part of the buffer before every read.
pub async fn open_idle(req: Request, host: &str) -> Result<Ws> {
    let tcp = crate::wire::connect_tcp(host).await?;
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0);
    let handshake = tokio_tungstenite::client_async_with_config(req, tcp, Some(config));
    let (ws, _) = tokio::time::timeout(OPEN_TIMEOUT, handshake)
        .await
        .map_err(|_| anyhow!("WebSocket handshake timed out"))??;
    Ok(ws)
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
    /// Shape of the `client_id`s.
    pub client_ids: ClientIds,
    /// A random number naming this run (in counter ids).
    pub run: u32,
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
    counts: Counts,
    tracker: Tracker,
    /// (counter, send time) of unacked messages, oldest first.
    pending: VecDeque<(u64, u64)>,
    next_n: u64,
    ids: IdSource,
    /// Messages to send once the frames at hand are handled (acks and errors free slots).
    owed: usize,
}

/// Sends and receives until `done` fires (or the connection fails), then closes.
pub async fn drive(
    mut ws: LoadWs,
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
        ids: IdSource::new(pace.client_ids, pace.run, spec.conn),
        spec,
        pace,
        shared,
        samples: Samples::default(),
        counts: Counts::default(),
        tracker: Tracker::default(),
        pending: VecDeque::new(),
        next_n: 0,
        owed: 0,
    };
    // Frames that came in behind `hello` or `joined` are already in the buffer.
    let mut ok = d.on_frames(&mut ws, now_ns());
    if !paced {
        d.owed = d.pace.inflight.max(1);
    }
    ok = ok && d.send_owed(&mut ws).await;
    // One long-lived future for the stop signal instead of a new one per read.
    let stop = done.changed();
    tokio::pin!(stop);
    while ok {
        tokio::select! {
            read = ws.fill() => {
                // Every frame of this read had arrived by now: one clock read serves them all.
                let now = now_ns();
                ok = match read {
                    Ok(0) => {
                        d.shared.note_error("connection closed".to_owned());
                        false
                    }
                    Ok(_) => d.on_frames(&mut ws, now),
                    Err(e) => {
                        d.shared.note_error(format!("connection failed: {e}"));
                        false
                    }
                };
                d.counts.flush(&d.shared);
                if ok {
                    ok = d.send_owed(&mut ws).await;
                }
            }
            _ = tick(&mut ticker) => {
                d.on_tick();
                ok = d.send_owed(&mut ws).await;
            }
            _ = &mut stop => break,
        }
    }
    if !ok {
        d.shared.closed_early.fetch_add(1, Relaxed);
    }
    d.counts.flush(&d.shared);
    d.samples.flush(&d.shared);
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close()).await;
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
    /// Queues the next message.
    fn queue_send(&mut self, ws: &mut LoadWs) {
        let stamp = Stamp {
            t: now_ns(),
            sender: self.spec.sender,
            n: self.next_n,
        };
        self.next_n += 1;
        let text = match self.pace.proto {
            Proto::Ours => {
                let client_id = self.ids.next(&stamp);
                ours::send_frame(self.spec.room, client_id, &stamp, self.pace.body_bytes)
            }
            Proto::Raw => raw::send_frame(self.spec.room, &stamp, self.pace.body_bytes),
        };
        self.pending.push_back((stamp.n, stamp.t));
        ws.queue_text(&text);
    }

    /// Sends the messages owed and anything else queued (pongs); false when the socket failed.
    async fn send_owed(&mut self, ws: &mut LoadWs) -> bool {
        while self.owed > 0 {
            self.owed -= 1;
            self.queue_send(ws);
        }
        match ws.flush().await {
            Ok(()) => true,
            Err(e) => {
                self.shared.note_error(format!("send failed: {e}"));
                false
            }
        }
    }

    /// A paced send is due: owe it unless the window is full or the run is draining.
    fn on_tick(&mut self) {
        if self.shared.phase() == Phase::Drain {
            return;
        }
        if self.pending.len() + self.owed >= self.pace.inflight.max(1) {
            self.shared.skipped.fetch_add(1, Relaxed);
            return;
        }
        self.owed += 1;
    }

    /// Accounts for every complete frame in the buffer, all of which arrived by `now`; false
    /// when the connection is done for.
    fn on_frames(&mut self, ws: &mut LoadWs, now: u64) -> bool {
        loop {
            match ws.next_frame() {
                Ok(Some(Frame::Text(text))) => self.on_text(text, now),
                Ok(Some(Frame::Close(c))) => {
                    self.shared
                        .note_error(format!("closed by the server: {}", close_text(c)));
                    return false;
                }
                Ok(Some(Frame::Ping(_) | Frame::Pong)) => {}
                Ok(None) => return true,
                Err(e) => {
                    self.shared
                        .note_error(format!("bad frame from the server: {e}"));
                    return false;
                }
            }
        }
    }

    /// Accounts for one text frame that arrived at `now`.
    fn on_text(&mut self, text: &str, now: u64) {
        let inbound = match self.pace.proto {
            Proto::Ours => ours::classify(text),
            Proto::Raw => raw::classify(text),
        };
        match inbound {
            Inbound::Delivery(stamp) => self.on_delivery(stamp, now),
            Inbound::Ack { n } => self.on_ack(n, now),
            Inbound::Error(e) => {
                self.shared.errors.fetch_add(1, Relaxed);
                self.shared.note_error(e);
                // The request it refers to will never be acked: free its slot.
                if self.pending.pop_front().is_some()
                    && self.pace.rate <= 0.0
                    && self.shared.phase() != Phase::Drain
                {
                    self.owed += 1;
                }
            }
            Inbound::Other => {}
        }
    }

    fn on_delivery(&mut self, stamp: Stamp, now: u64) {
        match self.tracker.see(stamp.sender, stamp.n) {
            Arrival::Next => {}
            Arrival::Reordered => self.counts.out_of_order += 1,
            Arrival::Duplicate => self.counts.duplicates += 1,
        }
        self.counts.delivered_total += 1;
        if self.shared.phase() == Phase::Measure {
            self.counts.delivered += 1;
            self.samples.e2e.push(now.saturating_sub(stamp.t));
            if self.samples.e2e.len() >= Samples::BATCH {
                self.samples.flush(&self.shared);
            }
        }
    }

    fn on_ack(&mut self, n: u64, now: u64) {
        let Some(at) = self.pending.iter().position(|&(p, _)| p == n) else {
            return; // an ack for something already given up on
        };
        let (_, sent) = self.pending.remove(at).unwrap_or_default();
        self.counts.acked_total += 1;
        self.counts.expected_total += self.spec.members;
        let phase = self.shared.phase();
        if phase == Phase::Measure {
            self.counts.acked += 1;
            self.samples.ack.push(now.saturating_sub(sent));
        }
        if self.pace.rate <= 0.0 && phase != Phase::Drain {
            self.owed += 1;
        }
    }
}
