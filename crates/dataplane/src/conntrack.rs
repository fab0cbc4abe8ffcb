//! Connection tracking, per ENI (AWS: security-group-connection-tracking). Skeleton:
//! the interface the pipeline uses; the implementation is being written.

use std::time::Duration;

use vpc_config::ConntrackTimeouts;

use crate::l4::{Facts, Tuple};
use crate::time::Time;
use crate::verdict::DropReason;

/// Which way a packet goes relative to the flow's first packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    /// Same direction as the packet that created the flow.
    Original,
    /// The opposite direction (a reply).
    Reply,
}

/// What the table knows about a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// It belongs to a tracked flow (whose state it advanced, unless peeked).
    Tracked(Dir),
    /// An ICMP error quoting a tracked flow.
    Related,
    /// No tracked flow: the rules decide, and a flow may be inserted.
    Miss,
}

/// A tracked flow as `vpcctl flows` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowInfo {
    /// The 5-tuple of the flow's first packet (ICMP echo: both ports the identifier).
    pub proto: u8,
    /// Source of the first packet.
    pub src: std::net::Ipv4Addr,
    /// Destination of the first packet.
    pub dst: std::net::Ipv4Addr,
    /// Source port of the first packet.
    pub src_port: u16,
    /// Destination port of the first packet.
    pub dst_port: u16,
    /// State name: `syn-sent`, `syn-received`, `established`, `fin-wait`, `closing`,
    /// `closed`, `unreplied`, `replied` (UDP, ICMP, other protocols).
    pub state: &'static str,
    /// Time left before it expires if idle.
    pub expires_in: Duration,
    /// Packets in the original direction.
    pub packets_original: u64,
    /// Packets in the reply direction.
    pub packets_reply: u64,
}

/// Counters of one connection table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConntrackStats {
    /// Flows inserted.
    pub inserted: u64,
    /// Flows removed because they were idle past their timeout.
    pub expired: u64,
    /// Unreplied flows evicted to make room for new ones.
    pub evicted: u64,
}

/// One ENI's connection table.
#[derive(Debug, Clone)]
pub(crate) struct ConnTable {
    capacity: usize,
    timeouts: ConntrackTimeouts,
}

impl ConnTable {
    pub fn new(capacity: usize, timeouts: ConntrackTimeouts) -> Self {
        ConnTable { capacity, timeouts }
    }

    pub fn set_timeouts(&mut self, timeouts: ConntrackTimeouts) {
        self.timeouts = timeouts;
    }

    pub fn lookup(&mut self, now: Time, f: &Facts) -> Result<Lookup, DropReason> {
        self.peek(now, f)
    }

    pub fn peek(&self, now: Time, f: &Facts) -> Result<Lookup, DropReason> {
        let _ = (now, f, self.capacity, self.timeouts);
        Ok(Lookup::Miss)
    }

    pub fn insert(&mut self, now: Time, f: &Facts) -> Result<(), DropReason> {
        let _ = (now, f);
        Ok(())
    }

    pub fn expire(&mut self, now: Time) -> usize {
        let _ = now;
        0
    }

    pub fn flows(&self, now: Time) -> impl Iterator<Item = FlowInfo> + '_ {
        let _ = now;
        std::iter::empty()
    }

    pub fn len(&self) -> usize {
        0
    }

    pub fn stats(&self) -> ConntrackStats {
        ConntrackStats::default()
    }

    #[allow(dead_code)]
    fn key(t: &Tuple) -> Tuple {
        *t
    }
}
