//! One ENI's connection table on its own, driven by raw IPv4 packets: what the
//! benchmarks and the memory measurement use to time and size the table (AWS security
//! group connection tracking, see `conntrack`) without the rest of the pipeline. The
//! pipeline does not use this wrapper.

use vpc_config::ConntrackTimeouts;

use crate::conntrack::{ConnTable, Lookup};
use crate::l4::{self, Facts};
use crate::offload::Shape;
use crate::packet::PacketBuf;
use crate::sanity;
use crate::time::Time;

/// A packet's transport facts, parsed once, to look up or insert many times.
#[derive(Debug, Clone, Copy)]
pub struct FlowFacts(Facts);

impl FlowFacts {
    /// The facts of `pkt`, an IPv4 packet; `None` if the pipeline would drop it as
    /// malformed.
    pub fn parse(pkt: &[u8]) -> Option<FlowFacts> {
        let mut buf = PacketBuf::from_bytes(pkt);
        let (ip, _) = sanity::check(&mut buf).ok()?;
        l4::parse(buf.as_bytes(), &ip, Shape::PLAIN)
            .ok()
            .map(FlowFacts)
    }
}

/// A connection table with AWS's default timeouts.
#[derive(Debug, Clone)]
pub struct FlowTable(ConnTable);

impl FlowTable {
    /// An empty table for at most `capacity` flows.
    pub fn new(capacity: usize) -> FlowTable {
        FlowTable(ConnTable::new(capacity, ConntrackTimeouts::default()))
    }

    /// Starts tracking the flow of `f` at `now`; whether the table took it.
    pub fn insert(&mut self, now: Time, f: &FlowFacts) -> bool {
        self.0.insert(now, &f.0).is_ok()
    }

    /// Looks `f` up at `now` (advancing its flow's state); whether a flow knew it.
    pub fn lookup(&mut self, now: Time, f: &FlowFacts) -> bool {
        matches!(self.0.lookup(now, &f.0), Ok(Lookup::Tracked(_)))
    }

    /// Tracked flows.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no flow is tracked.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}
