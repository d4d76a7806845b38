//! Per-IP rate limits for the unauthenticated entry points (registration, guests, failed logins).
//!
//! Each limiter is a sliding window: at most `max` events per key within `window`. The per-username
//! login throttle lives in `chatcore`; these only stop one address from hammering the server.

use std::net::IpAddr;
use std::time::Duration;

use chatcore::Timestamp;
use chatcore::throttle::{Attempt, FailureThrottle, address_unit as key};

/// At most `max` events per client address (IPv6: per /64) within `window`.
///
/// An event is reserved before the work it guards ([`Limiter::acquire`]), so parallel requests
/// from one address share the budget; the caller gives it back ([`Limiter::release`]) when the
/// event turned out not to count.
#[derive(Debug)]
pub struct Limiter {
    throttle: FailureThrottle<IpAddr>,
}

impl Limiter {
    /// A limiter allowing `max` events per `window`.
    pub fn new(max: u32, window: Duration) -> Self {
        Limiter {
            throttle: FailureThrottle::new(max as usize, window),
        }
    }

    /// Reserves one event for `ip`; `Err(retry_after)` when its events in the window are used up.
    pub fn acquire(&self, ip: IpAddr) -> Result<Attempt, Duration> {
        self.throttle.acquire(key(ip), Timestamp::now())
    }

    /// Gives back an event that did not count.
    pub fn release(&self, ip: IpAddr, attempt: Attempt) {
        self.throttle.release(&key(ip), attempt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_max_per_window_per_address() {
        // The window itself is FailureThrottle's (tested in chatcore with a manual clock).
        let limiter = Limiter::new(2, Duration::from_secs(60));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let first = limiter.acquire(ip).unwrap();
        assert!(limiter.acquire(ip).is_ok());
        let wait = limiter.acquire(ip).unwrap_err();
        assert!(
            wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        limiter.release(ip, first);
        assert!(
            limiter.acquire(ip).is_ok(),
            "a released event is free again"
        );
        assert!(limiter.acquire("10.0.0.2".parse().unwrap()).is_ok());
        let same_64: IpAddr = "2001:db8::1".parse().unwrap();
        let _ = limiter.acquire(same_64).unwrap();
        let _ = limiter.acquire("2001:db8::ffff".parse().unwrap()).unwrap();
        assert!(limiter.acquire(same_64).is_err(), "one /64 is one client");
    }
}
