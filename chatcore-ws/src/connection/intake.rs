//! The client's side of the rate limit: frames read but not yet handled, handed out one per
//! token.
//!
//! Policy ("limits slow before they drop"): every frame costs a token. While tokens last,
//! frames are handled as they arrive. When they run out, frames read meanwhile wait here, at
//! most `max_backlog` of them (and twice the largest message in bytes); then the connection
//! stops reading, so the client's own socket fills and TCP slows it down. A client that waits
//! for each answer therefore just sees later answers. Only a client that keeps the read-ahead
//! full for `backlog_timeout` without it draining once is closed with 4002.

use std::collections::VecDeque;

use tokio::time::Instant;

use super::Stop;
use crate::close;
use crate::limits::{TokenBucket, WsConfig};
use crate::socket::Inbound;

pub(crate) struct Intake {
    tokens: TokenBucket,
    backlog: VecDeque<Inbound>,
    bytes: usize,
    max_frames: usize,
    max_bytes: usize,
    /// When the read-ahead became full and has not drained since.
    full_since: Option<Instant>,
    timeout: std::time::Duration,
}

impl Intake {
    pub(crate) fn new(config: &WsConfig) -> Self {
        Intake {
            tokens: TokenBucket::new(config.rate_per_sec, config.rate_burst),
            backlog: VecDeque::new(),
            bytes: 0,
            max_frames: config.max_backlog.max(1),
            max_bytes: 2 * config.max_message_size,
            full_since: None,
            timeout: config.backlog_timeout,
        }
    }

    /// Whether the connection should read from the socket now; false while the read-ahead is
    /// full (TCP backpressure).
    pub(crate) fn wants_read(&self) -> bool {
        self.backlog.len() < self.max_frames && self.bytes < self.max_bytes
    }

    /// A frame read from the socket, to be handled when a token is free.
    pub(crate) fn push(&mut self, msg: Inbound) {
        self.bytes += msg.len();
        self.backlog.push_back(msg);
        if !self.wants_read() && self.full_since.is_none() {
            self.full_since = Some(Instant::now());
        }
    }

    /// The next frame to handle, if one waits and a token is free (the token is spent).
    pub(crate) fn next(&mut self) -> Option<Inbound> {
        if self.backlog.is_empty() || !self.tokens.take() {
            return None;
        }
        let msg = self.backlog.pop_front()?;
        self.bytes -= msg.len();
        if self.backlog.is_empty() {
            self.full_since = None;
        }
        Some(msg)
    }

    /// When something is due without reading: the next token for a waiting frame, or the end
    /// of a full read-ahead's patience, whichever comes first. `None`: nothing waits.
    pub(crate) fn wake_at(&mut self) -> Option<Instant> {
        if self.backlog.is_empty() {
            return None;
        }
        let token = self.tokens.next_at();
        Some(match self.full_since {
            Some(since) => token.min(since + self.timeout),
            None => token,
        })
    }

    /// Closes (4002) a client that kept the read-ahead full for too long.
    pub(crate) fn check(&self) -> Result<(), Stop> {
        match self.full_since {
            Some(since) if since.elapsed() >= self.timeout => Err(Stop::Close(
                close::RATE_LIMITED,
                "rate limited: too many frames waiting",
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn config(rate: f64, burst: f64, backlog: usize) -> WsConfig {
        WsConfig {
            rate_per_sec: rate,
            rate_burst: burst,
            max_backlog: backlog,
            backlog_timeout: Duration::from_secs(10),
            ..WsConfig::default()
        }
    }

    fn frame() -> Inbound {
        Inbound::Text("{\"type\":\"ping\"}".to_owned())
    }

    #[tokio::test(start_paused = true)]
    async fn frames_wait_for_tokens_and_reading_stops_when_full() {
        let mut intake = Intake::new(&config(10.0, 2.0, 3));
        for _ in 0..3 {
            assert!(intake.wants_read());
            intake.push(frame());
        }
        assert!(!intake.wants_read(), "full: stop reading");
        assert!(intake.next().is_some());
        assert!(intake.next().is_some());
        assert!(intake.next().is_none(), "the burst is spent");
        assert_eq!(
            intake.wake_at(),
            Some(Instant::now() + Duration::from_millis(100))
        );
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!(intake.next().is_some());
        assert_eq!(intake.wake_at(), None, "nothing waits");
        assert!(intake.check().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_ahead_that_never_drains_ends_in_4002() {
        let mut intake = Intake::new(&config(1.0, 1.0, 2));
        intake.push(frame());
        intake.push(frame());
        let full_at = Instant::now();
        for _ in 0..9 {
            tokio::time::advance(Duration::from_secs(1)).await;
            assert!(intake.next().is_some());
            intake.push(frame()); // the client refills it at once
            assert!(intake.check().is_ok());
        }
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(intake.wake_at().unwrap() <= full_at + Duration::from_secs(10));
        assert_eq!(
            intake.check(),
            Err(Stop::Close(
                close::RATE_LIMITED,
                "rate limited: too many frames waiting"
            ))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn draining_once_forgives() {
        let mut intake = Intake::new(&config(1.0, 1.0, 1));
        intake.push(frame());
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(intake.next().is_some());
        intake.push(frame());
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(intake.check().is_ok(), "full again, but only for 9 s");
    }
}
