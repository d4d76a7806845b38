//! Per-IP rate limits for the unauthenticated entry points (registration, guests, failed logins).
//!
//! Each limiter is a sliding window: at most `max` events per key within `window`. The per-username
//! login throttle lives in `chatcore`; these only stop one address from hammering the server.
//! With `--broker` the windows of registrations, guests and failed logins are kept in Redis, so
//! every node counts one address together.

use std::net::IpAddr;
use std::time::Duration;

use chatcore::Timestamp;
use chatcore::throttle::{Attempt, SharedAttempts, Throttle, address_unit as key};

/// At most `max` events per client address (IPv6: per /64) within `window`.
///
/// An event is reserved before the work it guards ([`Limiter::acquire`]), so parallel requests
/// from one address share the budget; the caller gives it back ([`Limiter::release`]) when the
/// event turned out not to count.
#[derive(Debug)]
pub struct Limiter {
    throttle: Throttle<IpAddr>,
}

impl Limiter {
    /// A limiter called `name` allowing `max` events per `window`, kept in this process.
    pub fn new(name: &'static str, max: u32, window: Duration) -> Self {
        Self::shared(name, max, window, None)
    }

    /// Like [`Limiter::new`], kept in `shared` (every node's) when given.
    pub fn shared(
        name: &'static str,
        max: u32,
        window: Duration,
        shared: Option<SharedAttempts>,
    ) -> Self {
        Limiter {
            throttle: Throttle::new(name, max as usize, window, shared),
        }
    }

    /// Reserves one event for `ip`; `Err(retry_after)` when its events in the window are used up.
    pub async fn acquire(&self, ip: IpAddr) -> Result<Attempt, Duration> {
        self.throttle.acquire(key(ip), Timestamp::now()).await
    }

    /// Gives back an event that did not count.
    pub async fn release(&self, ip: IpAddr, attempt: Attempt) {
        self.throttle.release(&key(ip), attempt).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn allows_max_per_window_per_address() {
        // The window itself is FailureThrottle's (tested in chatcore with a manual clock).
        let limiter = Limiter::new("test", 2, Duration::from_secs(60));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let first = limiter.acquire(ip).await.unwrap();
        assert!(limiter.acquire(ip).await.is_ok());
        let wait = limiter.acquire(ip).await.unwrap_err();
        assert!(
            wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        limiter.release(ip, first).await;
        assert!(
            limiter.acquire(ip).await.is_ok(),
            "a released event is free again"
        );
        assert!(limiter.acquire("10.0.0.2".parse().unwrap()).await.is_ok());
        let same_64: IpAddr = "2001:db8::1".parse().unwrap();
        let _ = limiter.acquire(same_64).await.unwrap();
        let _ = limiter
            .acquire("2001:db8::ffff".parse().unwrap())
            .await
            .unwrap();
        assert!(
            limiter.acquire(same_64).await.is_err(),
            "one /64 is one client"
        );
    }
}
