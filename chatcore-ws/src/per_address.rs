//! Capping the connections one client address holds open at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use chatcore::throttle::address_unit as unit;

/// Counts open connections per client address (IPv6: per /64, which one client usually owns)
/// and refuses one past the cap, so a single address cannot take every socket the server has.
///
/// Cloning is shallow. The table holds one entry per address with an open connection: it
/// cannot outgrow the number of open connections.
#[derive(Debug, Clone)]
pub struct ConnectionsPerAddress {
    max: usize,
    // A std Mutex: each critical section is one map update, never across an await.
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One open connection of an address; dropping it (when the connection ends) frees the place.
#[derive(Debug)]
#[must_use = "the place is freed when this is dropped"]
pub struct AddressSlot {
    addr: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl ConnectionsPerAddress {
    /// At most `max` open connections per address.
    pub fn new(max: usize) -> Self {
        ConnectionsPerAddress {
            max: max.max(1),
            open: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A place for one more connection from `addr`, or `None` when it already has `max`.
    pub fn try_open(&self, addr: IpAddr) -> Option<AddressSlot> {
        let addr = unit(addr);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(addr).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            addr,
            open: Arc::clone(&self.open),
        })
    }

    /// How many connections `addr` has open.
    pub fn open(&self, addr: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&unit(addr)).copied().unwrap_or(0)
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.addr) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.addr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_cap_and_frees_on_drop() {
        let limit = ConnectionsPerAddress::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let first = limit.try_open(a).unwrap();
        let _second = limit.try_open(a).unwrap();
        assert!(limit.try_open(a).is_none());
        assert!(limit.try_open("10.0.0.2".parse().unwrap()).is_some());
        drop(first);
        assert_eq!(limit.open(a), 1);
        assert!(limit.try_open(a).is_some());
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_empty_entries_go() {
        let limit = ConnectionsPerAddress::new(1);
        let slot = limit.try_open("2001:db8::1".parse().unwrap()).unwrap();
        assert!(limit.try_open("2001:db8::2".parse().unwrap()).is_none());
        drop(slot);
        assert!(limit.open.lock().unwrap().is_empty());
    }
}
