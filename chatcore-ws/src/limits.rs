//! Per-connection limits: sizes, rates, timeouts, and the tungstenite config that enforces them.

use std::time::Duration;

use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::origin::Origins;

/// Transport policy for WebSocket connections. `WsConfig::default()` is safe for production.
///
/// Use the same value for [`websocket_config`] (when the stream is created) and
/// [`serve_connection`](crate::serve_connection), so size limits agree.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WsConfig {
    /// Largest accepted message and frame payload in bytes (default 64 KiB). A larger one
    /// closes the connection with 1009.
    pub max_message_size: usize,
    /// tungstenite's read buffer, allocated for every connection up front (default 4 KiB).
    pub read_buffer_size: usize,
    /// Outgoing bytes gathered before a write to the socket (default 64 KiB); a flush always
    /// writes everything once the outgoing queue is empty. Under load a burst of events leaves
    /// in one write instead of one per few frames (each write to a loopback socket costs
    /// several microseconds of kernel time). The buffer grows only as far as the largest burst
    /// a connection received, so idle connections pay nothing for it.
    pub write_buffer_size: usize,
    /// Frames handed to the socket writer in one batch (default 64). The writer holds one batch
    /// waiting besides the one it writes, so at most three batches of encoded frames (staged,
    /// waiting, being written) wait for a slow socket; then the connection stops draining its
    /// hub subscription, which overflows and ends the connection as lagged (close 4000): a
    /// slow reader never stalls anyone else.
    pub outbound_queue: usize,
    /// Frames per second a client may send, sustained (default 20). Every frame counts (pings
    /// and invalid ones too). A client over it is paced, not refused: the connection stops
    /// reading from the socket until the next frame is due, so TCP slows the client down and
    /// it simply sees later answers.
    pub rate_per_sec: f64,
    /// Frames a client may send in a burst (default 40).
    pub rate_burst: f64,
    /// Frames read ahead while the client is over its rate (default 32, and at most twice
    /// `max_message_size` bytes); when that many wait, the connection stops reading.
    pub max_backlog: usize,
    /// A client whose read-ahead stays full this long without draining once is closed with
    /// 4002 (default 10 s): it keeps sending far more than its rate, without waiting for
    /// answers. A client that waits for each answer never comes close.
    pub backlog_timeout: Duration,
    /// Rooms one `sync` frame may list (default 1,024); a larger one gets an `invalid` error.
    pub max_sync_rooms: usize,
    /// Undecodable frames in a row (malformed JSON, unknown type, binary) before the
    /// connection is closed with 1008 (default 10). A `ping` does not interrupt the row.
    pub max_bad_frames: u32,
    /// The server pings a connection that has been silent this long (default 30 s).
    pub ping_interval: Duration,
    /// A connection silent this long (no frame, no pong) is closed (default 75 s).
    pub idle_timeout: Duration,
    /// A write to the socket that takes longer than this ends the connection (default 10 s).
    pub write_timeout: Duration,
    /// How long [`accept`](crate::accept) waits for a client's whole handshake (request head,
    /// session check, upgrade) before dropping the socket (default 10 s): a client that
    /// connects and sends nothing holds nothing for long.
    pub handshake_timeout: Duration,
    /// Most live connections per user; one more is closed with 1008 (default 8).
    pub max_connections_per_user: usize,
    /// Largest per-room gap filled from the store on resume or after a seq jump; a larger
    /// one gets `resync` instead (default 1,000).
    pub max_backfill: i64,
    /// The session cookie [`accept`](crate::accept) reads when there is no bearer token
    /// (default `chat_session`, as set by the reference server).
    pub session_cookie: String,
    /// Browser pages allowed to connect, checked by [`upgrade`](crate::upgrade) and
    /// [`accept`](crate::accept) before anything else (default: only the page's own origin,
    /// i.e. `Origin` matching `Host`). A foreign `Origin` is refused with 403; a cookie session
    /// without `Origin` too.
    pub origins: Origins,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            max_message_size: 64 * 1024,
            read_buffer_size: 4 * 1024,
            write_buffer_size: 64 * 1024,
            outbound_queue: 64,
            rate_per_sec: 20.0,
            rate_burst: 40.0,
            max_backlog: 32,
            backlog_timeout: Duration::from_secs(10),
            max_sync_rooms: 1024,
            max_bad_frames: 10,
            ping_interval: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
            write_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            max_connections_per_user: 8,
            max_backfill: 1000,
            session_cookie: "chat_session".to_owned(),
            origins: Origins::default(),
        }
    }
}

/// The tungstenite settings matching `config`: size limits, small buffers for many idle
/// connections. tungstenite never negotiates permessage-deflate, so compression (and its
/// per-connection memory and zip-bomb risk) is off.
///
/// Create server streams with it, e.g. after a hyper upgrade:
/// `WebSocketStream::from_raw_socket(io, Role::Server, Some(websocket_config(&cfg))).await`.
pub fn websocket_config(config: &WsConfig) -> WebSocketConfig {
    let write = config.write_buffer_size;
    WebSocketConfig::default()
        .read_buffer_size(config.read_buffer_size)
        .write_buffer_size(write)
        // Room for the batch target plus one largest frame; beyond that writes are failing and
        // the write timeout ends the connection anyway.
        .max_write_buffer_size(write + config.max_message_size + 1024)
        .max_message_size(Some(config.max_message_size))
        .max_frame_size(Some(config.max_message_size))
}

/// A token bucket: `rate` tokens per second, at most `burst` saved up.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(rate: f64, burst: f64) -> Self {
        TokenBucket {
            tokens: burst,
            rate,
            burst,
            last: Instant::now(),
        }
    }

    /// Takes one token if there is one.
    pub(crate) fn take(&mut self) -> bool {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// When the next token will be there (now, if one is).
    pub(crate) fn next_at(&mut self) -> Instant {
        self.refill();
        let missing = (1.0 - self.tokens).max(0.0);
        self.last + Duration::from_secs_f64(missing / self.rate.max(1e-9))
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bucket_allows_the_burst_then_the_rate() {
        let mut bucket = TokenBucket::new(20.0, 40.0);
        assert_eq!((0..100).filter(|_| bucket.take()).count(), 40);
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!((0..100).filter(|_| bucket.take()).count(), 10);
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!((0..100).filter(|_| bucket.take()).count(), 40);
        assert_eq!(
            bucket.next_at(),
            Instant::now() + Duration::from_millis(50),
            "one token per 50 ms"
        );
    }

    #[test]
    fn tungstenite_config_is_valid_and_bounded() {
        let cfg = websocket_config(&WsConfig::default());
        assert!(cfg.max_write_buffer_size > cfg.write_buffer_size);
        assert_eq!(cfg.max_message_size, Some(64 * 1024));
        assert_eq!(cfg.max_frame_size, Some(64 * 1024));
    }
}
