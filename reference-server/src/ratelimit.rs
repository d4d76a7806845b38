//! Per-IP rate limits for the unauthenticated entry points (registration, guests, failed logins).
//!
//! Each limiter is a sliding window: at most `max` events per key within `window`. The per-username
//! login throttle lives in `chatcore`; these only stop one address from hammering the server.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Keys tracked at once before expired windows are swept. Past this, even after a sweep, the
/// table is cleared: under an attack from that many addresses, failing open for a moment beats
/// unbounded memory.
const MAX_KEYS: usize = 100_000;

/// At most `max` events per client address within `window`.
#[derive(Debug)]
pub struct Limiter {
    max: u32,
    window: Duration,
    // A std Mutex: every critical section is a few map operations with no `.await` inside.
    events: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl Limiter {
    /// A limiter allowing `max` events per `window`.
    pub fn new(max: u32, window: Duration) -> Self {
        Limiter {
            max,
            window,
            events: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(retry_after)` when `ip` already used up its events in the window.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut events = self.lock();
        let Some(queue) = events.get_mut(&key(ip)) else {
            return Ok(());
        };
        self.expire(queue, now);
        if queue.len() < self.max as usize {
            return Ok(());
        }
        let oldest = queue.front().copied().unwrap_or(now);
        Err((oldest + self.window)
            .saturating_duration_since(now)
            .max(Duration::from_secs(1)))
    }

    /// Records one event for `ip`.
    pub fn record(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut events = self.lock();
        if events.len() >= MAX_KEYS {
            events.retain(|_, q| {
                q.back()
                    .is_some_and(|&t| now.duration_since(t) < self.window)
            });
            if events.len() >= MAX_KEYS {
                tracing::warn!("rate limit table full; clearing it");
                events.clear();
            }
        }
        let queue = events.entry(key(ip)).or_default();
        self.expire(queue, now);
        queue.push_back(now);
        // Only the newest `max` matter for the decision.
        while queue.len() > self.max as usize {
            queue.pop_front();
        }
    }

    /// Checks and records in one step (for events that count whether or not they succeed).
    pub fn acquire(&self, ip: IpAddr) -> Result<(), Duration> {
        self.check(ip)?;
        self.record(ip);
        Ok(())
    }

    fn expire(&self, queue: &mut VecDeque<Instant>, now: Instant) {
        while queue
            .front()
            .is_some_and(|&t| now.duration_since(t) >= self.window)
        {
            queue.pop_front();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, VecDeque<Instant>>> {
        // A panic while holding the lock cannot leave the map inconsistent in a harmful way.
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// IPv6 clients usually own a whole /64, so that is the unit limited.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::from(octets)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn allows_max_per_window_then_recovers() {
        let limiter = Limiter::new(2, Duration::from_secs(60));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(limiter.acquire(ip).is_ok());
        assert!(limiter.acquire(ip).is_ok());
        let wait = limiter.acquire(ip).unwrap_err();
        assert_eq!(wait, Duration::from_secs(60));
        assert!(limiter.check("10.0.0.2".parse().unwrap()).is_ok());
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(limiter.acquire(ip).is_ok());
    }

    #[test]
    fn ipv6_limited_per_64() {
        assert_eq!(
            key("2001:db8::1".parse().unwrap()),
            key("2001:db8::ffff".parse().unwrap())
        );
    }
}
