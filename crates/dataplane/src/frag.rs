//! Fragments: a non-first fragment has no transport header, so nothing in it can be
//! judged; it gets its datagram's verdict and translation, which its first fragment
//! received. When a first fragment is forwarded, the pipeline remembers, under (ingress
//! port, source, destination, protocol, identification), where it went and with which
//! addresses; a later fragment of the same datagram is sent the same way with the same
//! addresses (NAT changes only the IPv4 header of a non-first fragment: the ports are in
//! the first).
//!
//! Choices (docs/internet.md): fragments are not held or reassembled. A non-first
//! fragment that arrives before its first fragment, or whose first fragment was dropped,
//! is dropped (`fragment`); Linux sends fragments in order, so this only loses what a
//! reordering network would. A fragment reaching past byte 65,535 is dropped
//! (`fragment-overflow`). The table holds at most `capacity` datagrams for
//! [`FRAGMENT_TIMEOUT`] (Linux's `ipfrag_time`) each, so a flood of fragments costs
//! bounded memory: when it is full, the oldest entry is replaced.

use std::net::Ipv4Addr;
use std::time::Duration;

use rustc_hash::FxHashMap;

use crate::time::Time;
use crate::verdict::Port;
use crate::wire::ipv4::Ipv4Header;

/// How long a datagram's verdict is kept for its later fragments.
pub(crate) const FRAGMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A datagram, as it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct DatagramKey {
    from: Port,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    ident: u16,
}

impl DatagramKey {
    /// The key of the datagram `pkt` (header `ip`) that came from `from` belongs to.
    pub(crate) fn of(from: Port, pkt: &[u8], ip: &Ipv4Header) -> Self {
        DatagramKey {
            from,
            src: ip.src,
            dst: ip.dst,
            proto: ip.protocol,
            ident: pkt
                .get(4..6)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]])),
        }
    }
}

/// Where a datagram's first fragment went, and with which addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sent {
    /// The egress port.
    pub to: Port,
    /// The source address it left with.
    pub src: Ipv4Addr,
    /// The destination address it left with.
    pub dst: Ipv4Addr,
    /// The MTU it was fragmented to on its way (an internet gateway's), if it was.
    pub mtu: Option<u16>,
    expires: Time,
}

/// The verdicts of fragmented datagrams.
#[derive(Debug, Clone)]
pub(crate) struct Fragments {
    sent: FxHashMap<DatagramKey, Sent>,
    capacity: usize,
}

impl Fragments {
    /// An empty table for at most `capacity` datagrams.
    pub(crate) fn new(capacity: usize) -> Self {
        Fragments {
            sent: FxHashMap::default(),
            capacity,
        }
    }

    /// Remembers that datagram `key`'s first fragment went to `to` with addresses
    /// `src` -> `dst`, fragmented to `mtu` if it had to be.
    pub(crate) fn remember(
        &mut self,
        now: Time,
        key: DatagramKey,
        to: Port,
        (src, dst): (Ipv4Addr, Ipv4Addr),
        mtu: Option<u16>,
    ) {
        if self.capacity == 0 {
            return;
        }
        if self.sent.len() >= self.capacity && !self.sent.contains_key(&key) {
            self.expire(now);
            if self.sent.len() >= self.capacity {
                let oldest = self
                    .sent
                    .iter()
                    .min_by_key(|(_, s)| s.expires)
                    .map(|(k, _)| *k);
                if let Some(k) = oldest {
                    self.sent.remove(&k);
                }
            }
        }
        self.sent.insert(
            key,
            Sent {
                to,
                src,
                dst,
                mtu,
                expires: now + FRAGMENT_TIMEOUT,
            },
        );
    }

    /// Where datagram `key`'s later fragments go, if its first fragment was forwarded
    /// less than [`FRAGMENT_TIMEOUT`] ago.
    pub(crate) fn lookup(&self, now: Time, key: &DatagramKey) -> Option<Sent> {
        self.sent.get(key).filter(|s| s.expires > now).copied()
    }

    /// Forgets datagrams past their timeout; returns how many.
    pub(crate) fn expire(&mut self, now: Time) -> usize {
        let before = self.sent.len();
        self.sent.retain(|_, s| s.expires > now);
        before - self.sent.len()
    }

    /// How many datagrams are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.sent.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vpc_config::EniId;

    fn key(ident: u16) -> DatagramKey {
        DatagramKey {
            from: Port::Eni(EniId(0)),
            src: Ipv4Addr::new(10, 0, 1, 10),
            dst: Ipv4Addr::new(203, 0, 113, 10),
            proto: 17,
            ident,
        }
    }

    #[test]
    fn a_datagram_is_remembered_for_30_seconds_and_the_table_is_bounded() {
        let t0 = Time::from_secs(100);
        let mut f = Fragments::new(2);
        let to = Port::Eni(EniId(1));
        let (a, b) = (
            Ipv4Addr::new(198, 51, 100, 20),
            Ipv4Addr::new(203, 0, 113, 10),
        );
        f.remember(t0, key(1), to, (a, b), None);
        let s = f.lookup(t0 + Duration::from_secs(29), &key(1)).unwrap();
        assert_eq!((s.to, s.src, s.dst), (to, a, b));
        assert_eq!(f.lookup(t0 + FRAGMENT_TIMEOUT, &key(1)), None);
        assert_eq!(f.lookup(t0, &key(2)), None);
        // Full: the oldest gives way.
        f.remember(t0 + Duration::from_secs(1), key(2), to, (a, b), None);
        f.remember(t0 + Duration::from_secs(2), key(3), to, (a, b), Some(1500));
        assert_eq!(f.len(), 2);
        assert_eq!(f.lookup(t0 + Duration::from_secs(2), &key(1)), None);
        assert!(f.lookup(t0 + Duration::from_secs(2), &key(3)).is_some());
        assert_eq!(f.expire(t0 + Duration::from_secs(40)), 2);
    }
}
