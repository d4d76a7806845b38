//! Limits on how often someone may do something.
//!
//! Two shapes, both safe under concurrency (a request reserves before it works, so parallel
//! requests share one budget) and both bounded in memory:
//!
//! - [`FailureThrottle`]: at most N attempts per key (a username, an address) in a sliding
//!   window; for logins, registrations, guests.
//! - [`Budgets`]: a token-bucket budget per user and kind of action (sends, groups, member
//!   adds) with a [`Rate`]; a caller over its rate is *paced* (told to wait) up to the rate's
//!   `max_wait`, and refused beyond it. [`LocalBudgets`] keeps them in this process; a shared
//!   backend (so that several server nodes share one budget per user) implements the same trait.
//! - [`Throttle`]: a named [`FailureThrottle`] that keeps its attempts in an [`AttemptStore`]
//!   shared by several server nodes when one is given.

mod budgets;
mod failures;
mod shared;

use std::net::IpAddr;

pub use budgets::{Budget, BudgetKey, Budgets, LocalBudgets, Rate, SharedBudgets};
pub use failures::{Attempt, DEFAULT_MAX_KEYS, FailureThrottle};
pub use shared::{AttemptStore, SharedAttempts, Throttle, Unreachable, Window};

/// The unit a client address is limited in: the address itself for IPv4, its /64 for IPv6
/// (one client usually owns a whole /64, so counting single IPv6 addresses limits nothing).
pub fn address_unit(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
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

    #[test]
    fn ipv6_addresses_count_per_64() {
        let unit = |s: &str| address_unit(s.parse().unwrap());
        assert_eq!(unit("2001:db8::1"), unit("2001:db8::ffff"));
        assert_ne!(unit("2001:db8::1"), unit("2001:db8:0:1::1"));
        assert_eq!(unit("10.0.0.1"), "10.0.0.1".parse::<IpAddr>().unwrap());
    }
}
