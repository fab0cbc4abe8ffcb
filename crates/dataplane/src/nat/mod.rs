//! A NAT gateway's translation table (AWS: vpc-nat-gateway, nat-gateway-troubleshooting):
//! source NAT of connections from inside to one of the gateway's addresses and a source
//! port, with AWS's limits and timeouts. Sans-IO: time is a parameter.
//!
//! - TCP, UDP and ICMP echo (the identifier is translated like a port). A mapping is
//!   created by a TCP SYN, any UDP datagram, or an echo request; a TCP segment that is
//!   not a SYN and has no mapping is refused (`NoMapping`: the caller answers with RST).
//! - Source ports (and echo identifiers) from the configured range (AWS: 1024-65535). At
//!   most `max_per_destination` simultaneous mappings per (address, destination
//!   address, destination port, protocol); a port is never handed out twice for the same
//!   (address, destination address, destination port, protocol), so every reply
//!   identifies exactly one mapping. The address is chosen by the inside source
//!   address (stable per source), the next address when that one is full.
//! - Endpoint-dependent filtering: a packet from outside matches a mapping only if it
//!   comes from the mapping's remote address and port.
//! - Idle timeout 350 s for every protocol; a TCP mapping whose connection closed (RST,
//!   or FIN in both directions) is removed 10 s after its last packet.
//! - Bounded: at most `capacity` mappings (`TableFull`).
//!
//! Implementation. Mappings live in a slab (`slots`); two hash maps index it, one by
//! the inside key (protocol, inside address and port, remote address and port) for
//! outbound packets and one by the outside key (protocol, NAT address and port, remote
//! address and port) for inbound ones: one hash lookup per packet either way. ICMP echo
//! keys carry the identifier as the port and 0 as the remote port. A third map counts
//! the mappings per (protocol, NAT address, remote address, remote port).
//!
//! - Address choice: starting at index `mix(inside address) % addresses`, the first
//!   address whose count for the destination is below `min(max_per_destination,
//!   ports)`; that bound also means "every port used", so a refusal costs one lookup
//!   per address, never a scan of the ports.
//! - Port choice, on that address: a pseudo-random start (a hash of the inside key mixed
//!   with a counter of allocations: deterministic, no clock or RNG), then the following
//!   ports with wrap-around, skipping those whose outside key exists. The count bound
//!   guarantees a free port exists.
//! - A mapping past its deadline is absent for every lookup at once; it keeps its port
//!   (and its place in the counts and capacity) until [`NatTable::expire`] removes it,
//!   or until an outbound packet that may create a mapping comes with its inside key,
//!   which removes it and creates a fresh one. The ICMP error lookups, which take no
//!   time, judge deadlines by the latest time the table was given.
//! - A TCP SYN (without ACK) on a live closed mapping reopens it (same port, a new
//!   connection attempt).

pub(crate) mod rewrite;

use std::net::Ipv4Addr;
use std::time::Duration;

use rustc_hash::FxHashMap;
use vpc_config::PortRange;

use crate::counters::NatMetrics;
use crate::direction::Direction;
use crate::l4::{PROTO_ICMP, PROTO_TCP, PROTO_UDP, Tuple, tcp_flags};
use crate::time::Time;

/// AWS's idle timeout of a NAT gateway translation.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(350);
/// How long a closed TCP connection's translation lingers (AWS does not say).
pub(crate) const CLOSED_TIMEOUT: Duration = Duration::from_secs(10);
/// How many mappings a table reserves room for up front (at most its capacity).
const PREALLOC: usize = 4096;

/// What a NAT table is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NatConfig {
    /// The addresses it translates to (1..=8), the primary first.
    pub addresses: Vec<Ipv4Addr>,
    /// The ports (and echo identifiers) it hands out.
    pub ports: PortRange,
    /// Simultaneous mappings per (address, destination address, destination port,
    /// protocol).
    pub max_per_destination: u32,
    /// Mappings at most, in all.
    pub capacity: usize,
}

/// Why an outbound packet got no translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutboundMiss {
    /// A new connection, but no free port on any address (ErrorPortAllocation).
    PortAllocation,
    /// A TCP segment other than a SYN with no mapping.
    NoMapping,
    /// A new connection, but the table is full.
    TableFull,
}

/// The packet's TCP flags, if it is TCP (for creation and close tracking).
pub(crate) type TcpFlags = Option<u8>;

/// The remote port of a key: the port for TCP and UDP, 0 for ICMP echo (whose "ports"
/// are both the identifier).
fn remote_port(proto: u8, port: u16) -> u16 {
    if proto == PROTO_ICMP { 0 } else { port }
}

/// A mapping's key as its outbound packets show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct InsideKey {
    proto: u8,
    /// The inside address.
    addr: Ipv4Addr,
    /// The inside port or echo identifier.
    port: u16,
    remote: Ipv4Addr,
    /// The remote port (0 for ICMP echo).
    remote_port: u16,
}

impl InsideKey {
    /// The key of an outbound packet (`src` inside, `dst` remote).
    fn outbound(t: &Tuple) -> InsideKey {
        InsideKey {
            proto: t.proto,
            addr: t.src,
            port: t.src_port,
            remote: t.dst,
            remote_port: remote_port(t.proto, t.dst_port),
        }
    }

    /// The key of the packet an inside host received through the NAT and now quotes
    /// (`src` remote, `dst` inside).
    fn quoted_inbound(q: &Tuple) -> InsideKey {
        InsideKey {
            proto: q.proto,
            addr: q.dst,
            port: q.dst_port,
            remote: q.src,
            remote_port: remote_port(q.proto, q.src_port),
        }
    }

    /// A deterministic 64-bit hash (for the port choice).
    fn hash(&self) -> u64 {
        let a = (u64::from(u32::from(self.addr)) << 32)
            | (u64::from(self.port) << 16)
            | u64::from(self.proto);
        let b = (u64::from(u32::from(self.remote)) << 16) | u64::from(self.remote_port);
        mix(a ^ mix(b))
    }
}

/// A mapping's key as its inbound packets show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct OutsideKey {
    proto: u8,
    /// The NAT address.
    addr: Ipv4Addr,
    /// The NAT port or echo identifier.
    port: u16,
    remote: Ipv4Addr,
    /// The remote port (0 for ICMP echo).
    remote_port: u16,
}

impl OutsideKey {
    /// The key of an inbound packet (`src` remote, `dst` NAT address).
    fn inbound(t: &Tuple) -> OutsideKey {
        OutsideKey {
            proto: t.proto,
            addr: t.dst,
            port: t.dst_port,
            remote: t.src,
            remote_port: remote_port(t.proto, t.src_port),
        }
    }

    /// The key of a packet the NAT sent and an outside host quotes (`src` NAT address,
    /// `dst` remote).
    fn quoted_outbound(q: &Tuple) -> OutsideKey {
        OutsideKey {
            proto: q.proto,
            addr: q.src,
            port: q.src_port,
            remote: q.dst,
            remote_port: remote_port(q.proto, q.dst_port),
        }
    }
}

/// What the per-destination limit counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct DestKey {
    proto: u8,
    addr: Ipv4Addr,
    remote: Ipv4Addr,
    remote_port: u16,
}

/// The splitmix64 finaliser: a fixed, well-mixing hash of a 64-bit value.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// One translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    inside: InsideKey,
    nat_addr: Ipv4Addr,
    nat_port: u16,
    /// The last packet, either way.
    last_seen: Time,
    /// TCP: a FIN was seen from the inside.
    fin_inside: bool,
    /// TCP: a FIN was seen from the outside.
    fin_outside: bool,
    /// TCP: RST, or FIN both ways: the mapping goes CLOSED_TIMEOUT after its last
    /// packet.
    closed: bool,
    /// TCP: a packet other than RST came from the outside (the connection was
    /// established).
    replied: bool,
}

impl Entry {
    fn outside(&self) -> OutsideKey {
        OutsideKey {
            proto: self.inside.proto,
            addr: self.nat_addr,
            port: self.nat_port,
            remote: self.inside.remote,
            remote_port: self.inside.remote_port,
        }
    }

    fn dest(&self) -> DestKey {
        DestKey {
            proto: self.inside.proto,
            addr: self.nat_addr,
            remote: self.inside.remote,
            remote_port: self.inside.remote_port,
        }
    }

    fn is_tcp(&self) -> bool {
        self.inside.proto == PROTO_TCP
    }

    /// A TCP mapping of a connection not closed.
    fn active_tcp(&self) -> bool {
        self.is_tcp() && !self.closed
    }

    fn timeout(&self) -> Duration {
        if self.closed {
            CLOSED_TIMEOUT
        } else {
            IDLE_TIMEOUT
        }
    }

    fn live(&self, now: Time) -> bool {
        now.saturating_since(self.last_seen) < self.timeout()
    }

    /// Records a packet at `now` with TCP `flags`, going `from` the inside (`Egress`) or
    /// the outside (`Ingress`).
    fn touch(&mut self, now: Time, from: Direction, flags: TcpFlags) {
        self.last_seen = self.last_seen.max(now);
        let (true, Some(f)) = (self.is_tcp(), flags) else {
            return;
        };
        if f & tcp_flags::FIN != 0 {
            match from {
                Direction::Egress => self.fin_inside = true,
                Direction::Ingress => self.fin_outside = true,
            }
        }
        if f & tcp_flags::RST != 0 || (self.fin_inside && self.fin_outside) {
            self.closed = true;
        }
    }
}

/// Whether an outbound packet of protocol `proto` with `flags` may create a mapping:
/// a TCP SYN without ACK, any UDP datagram, an ICMP echo request (the caller passes
/// only echo requests for ICMP).
fn creates(proto: u8, flags: TcpFlags) -> bool {
    match proto {
        PROTO_TCP => flags.is_some_and(|f| f & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN),
        PROTO_UDP | PROTO_ICMP => true,
        _ => false,
    }
}

/// One NAT gateway's translations.
#[derive(Debug, Clone)]
pub(crate) struct NatTable {
    config: NatConfig,
    /// CloudWatch metrics: the table counts connection attempts, established
    /// connections, port allocation errors and idle timeouts; the pipeline adds packets,
    /// bytes and drops.
    pub metrics: NatMetrics,
    /// The mappings; `None` slots are listed in `free`.
    slots: Vec<Option<Entry>>,
    free: Vec<usize>,
    by_inside: FxHashMap<InsideKey, usize>,
    by_outside: FxHashMap<OutsideKey, usize>,
    /// Mappings per destination (entries at 0 are removed).
    per_dest: FxHashMap<DestKey, u32>,
    /// TCP mappings not closed.
    active_tcp: usize,
    /// Allocations so far (mixed into the port choice).
    allocations: u64,
    /// The latest time the table was given (for the lookups that take none).
    latest: Time,
}

impl NatTable {
    /// An empty table.
    pub fn new(config: NatConfig) -> Self {
        let reserve = config.capacity.min(PREALLOC);
        let mut by_inside = FxHashMap::default();
        by_inside.reserve(reserve);
        let mut by_outside = FxHashMap::default();
        by_outside.reserve(reserve);
        NatTable {
            config,
            metrics: NatMetrics::default(),
            slots: Vec::with_capacity(reserve),
            free: Vec::new(),
            by_inside,
            by_outside,
            per_dest: FxHashMap::default(),
            active_tcp: 0,
            allocations: 0,
            latest: Time::ZERO,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &NatConfig {
        &self.config
    }

    /// Translates an outbound packet with tuple `t` (as sent from inside: `src` an
    /// inside address, `dst` the remote; for ICMP echo both ports are the identifier):
    /// returns the NAT address and port (or identifier) its source becomes. Looks up the
    /// mapping, refreshing it, or creates one if the packet may start a connection.
    ///
    /// For ICMP the caller passes echo requests only: any ICMP packet here may create a
    /// mapping. Protocols other than TCP, UDP and ICMP get `NoMapping`.
    pub fn outbound(
        &mut self,
        now: Time,
        t: &Tuple,
        tcp_flags: TcpFlags,
    ) -> Result<(Ipv4Addr, u16), OutboundMiss> {
        self.latest = self.latest.max(now);
        let key = InsideKey::outbound(t);
        let creates = creates(t.proto, tcp_flags);
        if let Some(&i) = self.by_inside.get(&key)
            && let Some(Some(e)) = self.slots.get_mut(i)
        {
            if e.live(now) {
                if creates && e.closed {
                    // A new connection on the tuple of a closed one.
                    e.closed = false;
                    e.fin_inside = false;
                    e.fin_outside = false;
                    e.replied = false;
                    self.active_tcp += 1;
                    self.metrics.connection_attempt_count += 1;
                }
                let was_active = e.active_tcp();
                e.touch(now, Direction::Egress, tcp_flags);
                let found = (e.nat_addr, e.nat_port);
                if was_active && !e.active_tcp() {
                    self.active_tcp -= 1;
                }
                return Ok(found);
            }
            if creates {
                self.remove(i);
            }
        }
        if !creates {
            return Err(OutboundMiss::NoMapping);
        }
        self.metrics.connection_attempt_count += 1;
        if self.len() >= self.config.capacity {
            return Err(OutboundMiss::TableFull);
        }
        let Some((nat_addr, nat_port)) = self.allocate(&key) else {
            self.metrics.error_port_allocation += 1;
            return Err(OutboundMiss::PortAllocation);
        };
        let mut e = Entry {
            inside: key,
            nat_addr,
            nat_port,
            last_seen: now,
            fin_inside: false,
            fin_outside: false,
            closed: false,
            replied: false,
        };
        e.touch(now, Direction::Egress, tcp_flags);
        self.insert(e);
        Ok((nat_addr, nat_port))
    }

    /// What [`Self::outbound`] would answer, changing nothing (for `vpcctl trace`):
    /// `Ok(Some(..))` the live mapping the packet would use, `Ok(None)` a new mapping it
    /// would create (its port is not known before it is allocated), or the miss.
    pub fn peek_outbound(
        &self,
        now: Time,
        t: &Tuple,
        tcp_flags: TcpFlags,
    ) -> Result<Option<(Ipv4Addr, u16)>, OutboundMiss> {
        let key = InsideKey::outbound(t);
        let live = self
            .by_inside
            .get(&key)
            .and_then(|&i| self.slots.get(i)?.as_ref())
            .filter(|e| e.live(now));
        match (live, creates(t.proto, tcp_flags)) {
            (Some(e), _) => Ok(Some((e.nat_addr, e.nat_port))),
            (None, false) => Err(OutboundMiss::NoMapping),
            (None, true) if self.len() >= self.config.capacity => Err(OutboundMiss::TableFull),
            (None, true) => Ok(None),
        }
    }

    /// What [`Self::inbound`] would answer, changing nothing (for `vpcctl trace`).
    pub fn peek_inbound(&self, now: Time, t: &Tuple) -> Option<(Ipv4Addr, u16)> {
        let &i = self.by_outside.get(&OutsideKey::inbound(t))?;
        let e = self.slots.get(i)?.as_ref().filter(|e| e.live(now))?;
        Some((e.inside.addr, e.inside.port))
    }

    /// Translates an inbound packet with tuple `t` (as received: `src` the remote, `dst`
    /// a NAT address; for ICMP echo replies both ports are the identifier): the inside
    /// address and port its destination becomes, if a mapping matches exactly (remote
    /// address and port included). Refreshes the mapping.
    pub fn inbound(
        &mut self,
        now: Time,
        t: &Tuple,
        tcp_flags: TcpFlags,
    ) -> Option<(Ipv4Addr, u16)> {
        self.latest = self.latest.max(now);
        let &i = self.by_outside.get(&OutsideKey::inbound(t))?;
        let e = self.slots.get_mut(i)?.as_mut().filter(|e| e.live(now))?;
        let was_active = e.active_tcp();
        e.touch(now, Direction::Ingress, tcp_flags);
        if e.is_tcp() && !e.replied && tcp_flags.is_some_and(|f| f & tcp_flags::RST == 0) {
            e.replied = true;
            self.metrics.connection_established_count += 1;
        }
        let found = (e.inside.addr, e.inside.port);
        if was_active && !e.active_tcp() {
            self.active_tcp -= 1;
        }
        Some(found)
    }

    /// For an ICMP error an inside host sends about a packet it received through the
    /// NAT: `quoted` is the quoted packet's tuple (src the remote, dst the inside host).
    /// Returns the NAT address and port the quoted destination (and the error's source)
    /// must become. Does not refresh the mapping.
    pub fn reverse_of_inside(&self, quoted: &Tuple) -> Option<(Ipv4Addr, u16)> {
        let &i = self.by_inside.get(&InsideKey::quoted_inbound(quoted))?;
        let e = self.live_slot(i)?;
        Some((e.nat_addr, e.nat_port))
    }

    /// For an ICMP error from outside about a packet the NAT sent: `quoted` is the
    /// quoted packet's tuple (src a NAT address and port, dst the remote). Returns the
    /// inside address and port the quoted source (and the error's destination) must
    /// become. Does not refresh the mapping.
    pub fn inside_of_quoted(&self, quoted: &Tuple) -> Option<(Ipv4Addr, u16)> {
        let &i = self.by_outside.get(&OutsideKey::quoted_outbound(quoted))?;
        let e = self.live_slot(i)?;
        Some((e.inside.addr, e.inside.port))
    }

    /// Removes mappings idle past their timeout; returns how many.
    pub fn expire(&mut self, now: Time) -> usize {
        self.latest = self.latest.max(now);
        let mut removed = 0;
        for i in 0..self.slots.len() {
            if matches!(self.slots.get(i), Some(Some(e)) if !e.live(now)) {
                self.remove(i);
                removed += 1;
            }
        }
        removed
    }

    /// How many mappings there are.
    pub fn len(&self) -> usize {
        self.by_inside.len()
    }

    /// How many TCP mappings of connections not closed there are (ActiveConnectionCount).
    pub fn active_tcp(&self) -> usize {
        self.active_tcp
    }

    /// Every mapping, for `vpcctl`: (inside tuple as sent, NAT address, NAT port, idle
    /// time left). Mappings past their deadline, which lookups already ignore, are
    /// left out.
    pub fn mappings(&self, now: Time) -> impl Iterator<Item = NatMapping> + '_ {
        self.slots
            .iter()
            .flatten()
            .filter(move |e| e.live(now))
            .map(move |e| NatMapping {
                proto: e.inside.proto,
                inside: (e.inside.addr, e.inside.port),
                outside: (e.nat_addr, e.nat_port),
                remote: (e.inside.remote, e.inside.remote_port),
                expires_in: e
                    .timeout()
                    .saturating_sub(now.saturating_since(e.last_seen)),
            })
    }

    /// The entry in slot `i` if it is live at the latest time the table was given.
    fn live_slot(&self, i: usize) -> Option<&Entry> {
        self.slots.get(i)?.as_ref().filter(|e| e.live(self.latest))
    }

    /// How many ports the range holds (0 if it is upside down).
    fn port_count(&self) -> u32 {
        let PortRange { from, to } = self.config.ports;
        if from <= to {
            u32::from(to) - u32::from(from) + 1
        } else {
            0
        }
    }

    /// A NAT address and port for a new mapping of `key`, or `None` if every address
    /// has used its share of the destination.
    fn allocate(&mut self, key: &InsideKey) -> Option<(Ipv4Addr, u16)> {
        let n = self.config.addresses.len();
        let ports = self.port_count();
        // With fewer ports than the limit, "all ports used" is the same bound.
        let max = self.config.max_per_destination.min(ports);
        if n == 0 || max == 0 {
            return None;
        }
        // `n` is at most a few; the remainder fits any usize.
        let start = (mix(u64::from(u32::from(key.addr))) % n as u64) as usize;
        for k in 0..n {
            let addr = self.config.addresses[(start + k) % n];
            let dest = DestKey {
                proto: key.proto,
                addr,
                remote: key.remote,
                remote_port: key.remote_port,
            };
            if self.per_dest.get(&dest).copied().unwrap_or(0) >= max {
                continue;
            }
            // Fewer than `max <= ports` mappings use this destination on `addr`: one of
            // the ports is free.
            self.allocations = self.allocations.wrapping_add(1);
            let first = mix(key.hash() ^ mix(self.allocations)) % u64::from(ports);
            let first = u32::try_from(first).unwrap_or(0);
            for j in 0..ports {
                let offset = (first + j) % ports;
                let Ok(port) = u16::try_from(u32::from(self.config.ports.from) + offset) else {
                    continue;
                };
                let outside = OutsideKey {
                    proto: key.proto,
                    addr,
                    port,
                    remote: key.remote,
                    remote_port: key.remote_port,
                };
                if !self.by_outside.contains_key(&outside) {
                    return Some((addr, port));
                }
            }
        }
        None
    }

    /// Adds a mapping whose port `allocate` chose.
    fn insert(&mut self, e: Entry) {
        let i = match self.free.pop() {
            Some(i) => {
                if let Some(slot) = self.slots.get_mut(i) {
                    *slot = Some(e);
                }
                i
            }
            None => {
                self.slots.push(Some(e));
                self.slots.len() - 1
            }
        };
        self.by_inside.insert(e.inside, i);
        self.by_outside.insert(e.outside(), i);
        *self.per_dest.entry(e.dest()).or_insert(0) += 1;
        if e.active_tcp() {
            self.active_tcp += 1;
        }
    }

    /// Removes the mapping in slot `i` (past its deadline), counting an idle timeout
    /// unless it was closed.
    fn remove(&mut self, i: usize) {
        let Some(e) = self.slots.get_mut(i).and_then(Option::take) else {
            return;
        };
        self.free.push(i);
        self.by_inside.remove(&e.inside);
        self.by_outside.remove(&e.outside());
        let dest = e.dest();
        if let Some(c) = self.per_dest.get_mut(&dest) {
            *c = c.saturating_sub(1);
            if *c == 0 {
                self.per_dest.remove(&dest);
            }
        }
        if e.active_tcp() {
            self.active_tcp -= 1;
        }
        if !e.closed {
            self.metrics.idle_timeout_count += 1;
        }
    }
}

/// One translation, for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatMapping {
    /// IP protocol.
    pub proto: u8,
    /// The inside address and port (or echo identifier).
    pub inside: (Ipv4Addr, u16),
    /// The NAT address and port it is translated to.
    pub outside: (Ipv4Addr, u16),
    /// The remote address and port.
    pub remote: (Ipv4Addr, u16),
    /// Time left before the idle timeout removes it.
    pub expires_in: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l4::tcp_flags::{ACK, FIN, RST, SYN};
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    const HOST_A: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 10);
    const HOST_B: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 20);
    const NAT1: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 5);
    const NAT2: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 6);
    const REMOTE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
    const REMOTE2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 8);

    fn at(secs: u64) -> Time {
        Time::from_secs(secs)
    }

    fn config(addresses: &[Ipv4Addr], from: u16, to: u16, max: u32, capacity: usize) -> NatConfig {
        NatConfig {
            addresses: addresses.to_vec(),
            ports: PortRange { from, to },
            max_per_destination: max,
            capacity,
        }
    }

    /// AWS's defaults: one address, ports 1024-65535, 55,000 per destination.
    fn table() -> NatTable {
        NatTable::new(config(&[NAT1], 1024, 65535, 55_000, 1000))
    }

    fn tuple(proto: u8, src: Ipv4Addr, sp: u16, dst: Ipv4Addr, dp: u16) -> Tuple {
        Tuple {
            proto,
            src,
            dst,
            src_port: sp,
            dst_port: dp,
        }
    }

    /// HOST_A:sp -> REMOTE:443 over TCP.
    fn tcp_out(sp: u16) -> Tuple {
        tuple(PROTO_TCP, HOST_A, sp, REMOTE, 443)
    }

    /// REMOTE:443 -> nat over TCP.
    fn tcp_in(nat: (Ipv4Addr, u16)) -> Tuple {
        tuple(PROTO_TCP, REMOTE, 443, nat.0, nat.1)
    }

    fn udp_out(src: Ipv4Addr, sp: u16, dst: Ipv4Addr, dp: u16) -> Tuple {
        tuple(PROTO_UDP, src, sp, dst, dp)
    }

    fn echo(src: Ipv4Addr, dst: Ipv4Addr, id: u16) -> Tuple {
        tuple(PROTO_ICMP, src, id, dst, id)
    }

    #[test]
    fn tcp_mapping_both_ways() {
        let mut t = table();
        let nat = t.outbound(at(0), &tcp_out(40000), Some(SYN)).unwrap();
        assert_eq!(nat.0, NAT1);
        assert!(nat.1 >= 1024);
        assert_eq!((t.len(), t.active_tcp()), (1, 1));
        assert_eq!(t.metrics.connection_attempt_count, 1);
        assert_eq!(t.metrics.connection_established_count, 0);

        assert_eq!(
            t.inbound(at(1), &tcp_in(nat), Some(SYN | ACK)),
            Some((HOST_A, 40000))
        );
        assert_eq!(t.metrics.connection_established_count, 1);
        // The handshake's ACK and data find the same mapping.
        assert_eq!(t.outbound(at(1), &tcp_out(40000), Some(ACK)), Ok(nat));
        assert_eq!(
            t.inbound(at(2), &tcp_in(nat), Some(ACK)),
            Some((HOST_A, 40000))
        );
        assert_eq!(t.metrics.connection_established_count, 1);
        assert_eq!(t.metrics.connection_attempt_count, 1);
        // A retransmitted SYN is not a new attempt.
        assert_eq!(t.outbound(at(2), &tcp_out(40000), Some(SYN)), Ok(nat));
        assert_eq!(t.metrics.connection_attempt_count, 1);

        let m: Vec<NatMapping> = t.mappings(at(2)).collect();
        assert_eq!(
            m,
            [NatMapping {
                proto: PROTO_TCP,
                inside: (HOST_A, 40000),
                outside: nat,
                remote: (REMOTE, 443),
                expires_in: IDLE_TIMEOUT,
            }]
        );
        assert_eq!(
            t.mappings(at(52)).next().map(|m| m.expires_in),
            Some(Duration::from_secs(300))
        );
    }

    #[test]
    fn endpoint_dependent_filtering() {
        let mut t = table();
        let nat = t
            .outbound(at(0), &udp_out(HOST_A, 5000, REMOTE, 53), None)
            .unwrap();
        let from = |src, sp, dst: (Ipv4Addr, u16)| udp_out(src, sp, dst.0, dst.1);
        assert_eq!(
            t.inbound(at(0), &from(REMOTE, 53, nat), None),
            Some((HOST_A, 5000))
        );
        // Another remote port, another remote address, another NAT port, another
        // protocol: nothing.
        assert_eq!(t.inbound(at(0), &from(REMOTE, 54, nat), None), None);
        assert_eq!(t.inbound(at(0), &from(REMOTE2, 53, nat), None), None);
        assert_eq!(
            t.inbound(at(0), &from(REMOTE, 53, (nat.0, nat.1 ^ 1)), None),
            None
        );
        assert_eq!(
            t.inbound(at(0), &from(REMOTE, 53, (NAT2, nat.1)), None),
            None
        );
        let tcp = tuple(PROTO_TCP, REMOTE, 53, nat.0, nat.1);
        assert_eq!(t.inbound(at(0), &tcp, Some(SYN)), None);
        // A second destination from the same source is a mapping of its own.
        let nat2 = t
            .outbound(at(0), &udp_out(HOST_A, 5000, REMOTE2, 53), None)
            .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.inbound(at(0), &from(REMOTE2, 53, nat2), None),
            Some((HOST_A, 5000))
        );
        assert_eq!(t.active_tcp(), 0);
    }

    #[test]
    fn only_a_syn_opens_a_tcp_mapping() {
        let mut t = table();
        for flags in [Some(ACK), Some(SYN | ACK), Some(RST), Some(FIN | ACK), None] {
            assert_eq!(
                t.outbound(at(0), &tcp_out(40000), flags),
                Err(OutboundMiss::NoMapping),
                "{flags:?}"
            );
        }
        // Nor does a protocol without ports.
        let gre = tuple(47, HOST_A, 0, REMOTE, 0);
        assert_eq!(t.outbound(at(0), &gre, None), Err(OutboundMiss::NoMapping));
        assert_eq!(t.len(), 0);
        assert_eq!(t.metrics.connection_attempt_count, 0);
        // Inbound never creates.
        assert_eq!(t.inbound(at(0), &tcp_in((NAT1, 1024)), Some(SYN)), None);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn port_exhaustion_refuses_exactly_the_excess() {
        // 8 ports; 11 connections from different inside ports to REMOTE:53.
        let mut t = NatTable::new(config(&[NAT1], 2000, 2007, 8, 100));
        let mut ports = BTreeSet::new();
        let mut refused = 0;
        for sp in 0..11 {
            match t.outbound(at(0), &udp_out(HOST_A, 5000 + sp, REMOTE, 53), None) {
                Ok((a, p)) => {
                    assert_eq!(a, NAT1);
                    assert!(ports.insert(p), "port {p} handed out twice");
                }
                Err(e) => {
                    assert_eq!(e, OutboundMiss::PortAllocation);
                    refused += 1;
                }
            }
        }
        assert_eq!(refused, 3);
        assert_eq!(t.metrics.error_port_allocation, 3);
        assert_eq!(t.metrics.connection_attempt_count, 11);
        assert_eq!(ports, (2000..=2007).collect());
        assert_eq!(t.len(), 8);
        // Existing mappings still work.
        assert!(
            t.outbound(at(0), &udp_out(HOST_A, 5000, REMOTE, 53), None)
                .is_ok()
        );
        // Another destination port, another destination address, another protocol:
        // ports again.
        assert!(
            t.outbound(at(0), &udp_out(HOST_A, 6000, REMOTE, 54), None)
                .is_ok()
        );
        assert!(
            t.outbound(at(0), &udp_out(HOST_A, 6000, REMOTE2, 53), None)
                .is_ok()
        );
        let tcp = tuple(PROTO_TCP, HOST_A, 6000, REMOTE, 53);
        assert!(t.outbound(at(0), &tcp, Some(SYN)).is_ok());
        assert_eq!(t.metrics.error_port_allocation, 3);
    }

    #[test]
    fn max_per_destination_below_the_port_count() {
        let mut t = NatTable::new(config(&[NAT1], 2000, 2007, 5, 100));
        let results: Vec<_> = (0..7)
            .map(|sp| t.outbound(at(0), &udp_out(HOST_A, 5000 + sp, REMOTE, 53), None))
            .collect();
        assert!(results[..5].iter().all(Result::is_ok));
        assert_eq!(results[5..], [Err(OutboundMiss::PortAllocation); 2]);
        // More allowed than there are ports: the ports are the limit.
        let mut t = NatTable::new(config(&[NAT1], 2000, 2001, 55_000, 100));
        let ok = (0..4)
            .filter(|&sp| {
                t.outbound(at(0), &udp_out(HOST_A, sp, REMOTE, 53), None)
                    .is_ok()
            })
            .count();
        assert_eq!(ok, 2);
        assert_eq!(t.metrics.error_port_allocation, 2);
        // No address or an empty range: nothing to hand out.
        let mut t = NatTable::new(config(&[], 2000, 2001, 10, 100));
        let u = udp_out(HOST_A, 1, REMOTE, 53);
        assert_eq!(
            t.outbound(at(0), &u, None),
            Err(OutboundMiss::PortAllocation)
        );
        let mut t = NatTable::new(config(&[NAT1], 2001, 2000, 10, 100));
        assert_eq!(
            t.outbound(at(0), &u, None),
            Err(OutboundMiss::PortAllocation)
        );
    }

    #[test]
    fn the_next_address_when_the_first_is_full() {
        let mut t = NatTable::new(config(&[NAT1, NAT2], 2000, 2003, 4, 100));
        let mut got = Vec::new();
        for sp in 0..9 {
            got.push(t.outbound(at(0), &udp_out(HOST_A, sp, REMOTE, 53), None));
        }
        // The source's address first (the same for all four), then the other one.
        let first = got[0].unwrap().0;
        let second = if first == NAT1 { NAT2 } else { NAT1 };
        assert!(got[..4].iter().all(|r| r.unwrap().0 == first), "{got:?}");
        assert!(got[4..8].iter().all(|r| r.unwrap().0 == second), "{got:?}");
        assert_eq!(got[8], Err(OutboundMiss::PortAllocation));
        assert_eq!(t.metrics.error_port_allocation, 1);
        let pairs: BTreeSet<_> = got[..8].iter().map(|r| r.unwrap()).collect();
        assert_eq!(pairs.len(), 8);
        // The choice is stable per source: another host starts where its hash says,
        // and both addresses are some host's first choice.
        let firsts: BTreeSet<Ipv4Addr> = (0..32u8)
            .map(|i| {
                let mut t = NatTable::new(config(&[NAT1, NAT2], 2000, 2003, 4, 100));
                let host = Ipv4Addr::new(10, 0, 3, i);
                let a = t
                    .outbound(at(0), &udp_out(host, 1, REMOTE, 53), None)
                    .unwrap()
                    .0;
                let b = t
                    .outbound(at(0), &udp_out(host, 2, REMOTE2, 80), None)
                    .unwrap()
                    .0;
                assert_eq!(a, b);
                a
            })
            .collect();
        assert_eq!(firsts, [NAT1, NAT2].into());
    }

    #[test]
    fn idle_timeout_on_a_simulated_clock() {
        let mut t = table();
        let u = udp_out(HOST_A, 5000, REMOTE, 53);
        let nat = t.outbound(at(0), &u, None).unwrap();
        let reply = udp_out(REMOTE, 53, nat.0, nat.1);
        assert_eq!(t.expire(at(349)), 0);
        assert_eq!(t.len(), 1);
        // A reply at 349 s refreshes it.
        assert_eq!(t.inbound(at(349), &reply, None), Some((HOST_A, 5000)));
        assert_eq!(t.expire(at(349 + 349)), 0);
        assert_eq!(t.expire(at(349 + 351)), 1);
        assert_eq!(t.len(), 0);
        assert_eq!(t.metrics.idle_timeout_count, 1);

        // Past the deadline a mapping is gone for lookups before expire runs.
        let mut t = table();
        let nat = t.outbound(at(0), &tcp_out(40000), Some(SYN)).unwrap();
        t.inbound(at(0), &tcp_in(nat), Some(SYN | ACK)).unwrap();
        assert_eq!(t.inbound(at(351), &tcp_in(nat), Some(ACK)), None);
        assert_eq!(
            t.outbound(at(351), &tcp_out(40000), Some(ACK)),
            Err(OutboundMiss::NoMapping)
        );
        assert_eq!(t.reverse_of_inside(&tcp_in((HOST_A, 40000))), None);
        assert_eq!(t.mappings(at(351)).count(), 0);
        assert_eq!(t.len(), 1);
        // A new SYN replaces it.
        assert!(t.outbound(at(351), &tcp_out(40000), Some(SYN)).is_ok());
        assert_eq!((t.len(), t.active_tcp()), (1, 1));
        assert_eq!(t.metrics.idle_timeout_count, 1);
        assert_eq!(t.metrics.connection_attempt_count, 2);
    }

    #[test]
    fn rst_closes_and_expires_after_ten_seconds() {
        let mut t = table();
        let nat = t.outbound(at(0), &tcp_out(40000), Some(SYN)).unwrap();
        assert_eq!(
            t.inbound(at(5), &tcp_in(nat), Some(RST | ACK)),
            Some((HOST_A, 40000))
        );
        // A refused connection was never established.
        assert_eq!(t.metrics.connection_established_count, 0);
        assert_eq!(t.active_tcp(), 0);
        assert_eq!(
            t.mappings(at(5)).next().map(|m| m.expires_in),
            Some(CLOSED_TIMEOUT)
        );
        assert_eq!(t.expire(at(14)), 0);
        assert_eq!(t.expire(at(15)), 1);
        assert_eq!(t.metrics.idle_timeout_count, 0);
        // An RST from the inside closes too.
        let nat = t.outbound(at(20), &tcp_out(40001), Some(SYN)).unwrap();
        t.inbound(at(20), &tcp_in(nat), Some(SYN | ACK)).unwrap();
        t.outbound(at(21), &tcp_out(40001), Some(RST)).unwrap();
        assert_eq!(t.active_tcp(), 0);
        assert_eq!(t.expire(at(31)), 1);
    }

    #[test]
    fn fin_both_ways_closes() {
        let mut t = table();
        let nat = t.outbound(at(0), &tcp_out(40000), Some(SYN)).unwrap();
        t.inbound(at(0), &tcp_in(nat), Some(SYN | ACK)).unwrap();
        t.outbound(at(1), &tcp_out(40000), Some(FIN | ACK)).unwrap();
        // One FIN is not a close.
        assert_eq!(t.active_tcp(), 1);
        assert_eq!(t.expire(at(100)), 0);
        t.inbound(at(2), &tcp_in(nat), Some(FIN | ACK)).unwrap();
        assert_eq!(t.active_tcp(), 0);
        // The last ACK counts as the last packet.
        t.outbound(at(3), &tcp_out(40000), Some(ACK)).unwrap();
        assert_eq!(t.expire(at(12)), 0);
        assert_eq!(t.expire(at(13)), 1);
        assert_eq!((t.len(), t.metrics.idle_timeout_count), (0, 0));
    }

    #[test]
    fn a_syn_reopens_a_closed_mapping() {
        let mut t = table();
        let nat = t.outbound(at(0), &tcp_out(40000), Some(SYN)).unwrap();
        t.inbound(at(0), &tcp_in(nat), Some(RST | ACK)).unwrap();
        assert_eq!(t.active_tcp(), 0);
        assert_eq!(t.outbound(at(1), &tcp_out(40000), Some(SYN)), Ok(nat));
        assert_eq!(t.active_tcp(), 1);
        assert_eq!(t.metrics.connection_attempt_count, 2);
        assert_eq!(t.expire(at(20)), 0);
        t.inbound(at(1), &tcp_in(nat), Some(SYN | ACK)).unwrap();
        assert_eq!(t.metrics.connection_established_count, 1);
    }

    #[test]
    fn capacity_refuses_new_mappings() {
        let mut t = NatTable::new(config(&[NAT1], 1024, 65535, 55_000, 2));
        assert!(
            t.outbound(at(0), &udp_out(HOST_A, 1, REMOTE, 53), None)
                .is_ok()
        );
        assert!(
            t.outbound(at(10), &udp_out(HOST_A, 2, REMOTE, 53), None)
                .is_ok()
        );
        assert_eq!(
            t.outbound(at(10), &udp_out(HOST_A, 3, REMOTE, 53), None),
            Err(OutboundMiss::TableFull)
        );
        assert_eq!(t.metrics.connection_attempt_count, 3);
        assert_eq!(t.metrics.error_port_allocation, 0);
        // Existing mappings still translate.
        assert!(
            t.outbound(at(10), &udp_out(HOST_A, 2, REMOTE, 53), None)
                .is_ok()
        );
        // Once the first one has expired, there is room.
        assert_eq!(t.expire(at(355)), 1);
        assert!(
            t.outbound(at(355), &udp_out(HOST_A, 3, REMOTE, 53), None)
                .is_ok()
        );
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn echo_identifier_translation() {
        let mut t = table();
        let nat = t.outbound(at(0), &echo(HOST_A, REMOTE, 7), None).unwrap();
        assert_eq!(nat.0, NAT1);
        assert!(nat.1 >= 1024);
        assert_eq!(
            t.inbound(at(1), &echo(REMOTE, NAT1, nat.1), None),
            Some((HOST_A, 7))
        );
        assert_eq!(t.inbound(at(1), &echo(REMOTE2, NAT1, nat.1), None), None);
        assert_eq!(t.inbound(at(1), &echo(REMOTE, NAT1, 7), None), None);
        // The same identifier to the same host is the same mapping; to another host,
        // another one; another inside host with the same identifier, another one.
        assert_eq!(t.outbound(at(1), &echo(HOST_A, REMOTE, 7), None), Ok(nat));
        let other = t.outbound(at(1), &echo(HOST_B, REMOTE, 7), None).unwrap();
        assert_ne!(other, nat);
        assert_eq!(
            t.inbound(at(1), &echo(REMOTE, NAT1, other.1), None),
            Some((HOST_B, 7))
        );
        assert!(t.outbound(at(1), &echo(HOST_A, REMOTE2, 7), None).is_ok());
        assert_eq!((t.len(), t.active_tcp()), (3, 0));
        assert_eq!(t.metrics.connection_attempt_count, 3);
    }

    #[test]
    fn icmp_error_lookups_both_ways() {
        let mut t = table();
        let nat = t
            .outbound(at(0), &udp_out(HOST_A, 5000, REMOTE, 53), None)
            .unwrap();
        // REMOTE says port unreachable about what the NAT sent.
        let sent = udp_out(nat.0, nat.1, REMOTE, 53);
        assert_eq!(t.inside_of_quoted(&sent), Some((HOST_A, 5000)));
        assert_eq!(t.inside_of_quoted(&udp_out(nat.0, nat.1, REMOTE, 54)), None);
        assert_eq!(
            t.inside_of_quoted(&udp_out(nat.0, nat.1, REMOTE2, 53)),
            None
        );
        // HOST_A says something about a reply it got.
        let got = udp_out(REMOTE, 53, HOST_A, 5000);
        assert_eq!(t.reverse_of_inside(&got), Some(nat));
        assert_eq!(
            t.reverse_of_inside(&udp_out(REMOTE, 53, HOST_A, 5001)),
            None
        );
        // Echo: the quoted request as sent, the quoted reply as received.
        let ping = t.outbound(at(0), &echo(HOST_A, REMOTE, 9), None).unwrap();
        assert_eq!(
            t.inside_of_quoted(&echo(NAT1, REMOTE, ping.1)),
            Some((HOST_A, 9))
        );
        assert_eq!(t.reverse_of_inside(&echo(REMOTE, HOST_A, 9)), Some(ping));
        // They do not refresh: both mappings expire 350 s after their last packet.
        assert_eq!(t.expire(at(349)), 0);
        assert!(t.inside_of_quoted(&sent).is_some());
        assert_eq!(t.expire(at(350)), 2);
        assert_eq!(t.inside_of_quoted(&sent), None);
    }

    /// The naive model: a list of mappings, searched linearly.
    #[derive(Debug, Clone)]
    struct Model {
        config: NatConfig,
        maps: Vec<ModelMapping>,
        metrics: NatMetrics,
        latest: Time,
    }

    #[derive(Debug, Clone, Copy)]
    struct ModelMapping {
        proto: u8,
        inside: (Ipv4Addr, u16),
        remote: (Ipv4Addr, u16),
        nat: (Ipv4Addr, u16),
        last: Time,
        fins: (bool, bool),
        closed: bool,
        replied: bool,
    }

    impl ModelMapping {
        fn live(&self, now: Time) -> bool {
            let timeout = if self.closed {
                CLOSED_TIMEOUT
            } else {
                IDLE_TIMEOUT
            };
            now - self.last < timeout
        }

        fn touch(&mut self, now: Time, inside: bool, flags: TcpFlags) {
            self.last = self.last.max(now);
            if self.proto != PROTO_TCP {
                return;
            }
            let f = flags.unwrap_or(0);
            if f & FIN != 0 {
                if inside {
                    self.fins.0 = true;
                } else {
                    self.fins.1 = true;
                }
            }
            self.closed |= f & RST != 0 || self.fins == (true, true);
        }
    }

    impl Model {
        fn remote_of(t: &Tuple, port: u16) -> u16 {
            if t.proto == PROTO_ICMP { 0 } else { port }
        }

        fn drop_mapping(&mut self, i: usize) {
            let m = self.maps.remove(i);
            if !m.closed {
                self.metrics.idle_timeout_count += 1;
            }
        }

        /// Checks the table's answer `got` to an outbound packet, and follows it.
        fn outbound(
            &mut self,
            now: Time,
            t: &Tuple,
            flags: TcpFlags,
            got: Result<(Ipv4Addr, u16), OutboundMiss>,
        ) -> Result<(), TestCaseError> {
            self.latest = self.latest.max(now);
            let remote = (t.dst, Self::remote_of(t, t.dst_port));
            let creates = match t.proto {
                PROTO_TCP => flags.is_some_and(|f| f & SYN != 0 && f & ACK == 0),
                PROTO_UDP | PROTO_ICMP => true,
                _ => false,
            };
            let found = self.maps.iter().position(|m| {
                m.proto == t.proto && m.inside == (t.src, t.src_port) && m.remote == remote
            });
            if let Some(i) = found {
                let m = &mut self.maps[i];
                if m.live(now) {
                    if creates && m.closed {
                        m.closed = false;
                        m.fins = (false, false);
                        m.replied = false;
                        self.metrics.connection_attempt_count += 1;
                    }
                    m.touch(now, true, flags);
                    prop_assert_eq!(got, Ok(m.nat));
                    return Ok(());
                }
                if creates {
                    self.drop_mapping(i);
                }
            }
            if !creates {
                prop_assert_eq!(got, Err(OutboundMiss::NoMapping));
                return Ok(());
            }
            self.metrics.connection_attempt_count += 1;
            if self.maps.len() >= self.config.capacity {
                prop_assert_eq!(got, Err(OutboundMiss::TableFull));
                return Ok(());
            }
            let ports = self.config.ports;
            let n = self.config.addresses.len();
            let start = (mix(u64::from(u32::from(t.src))) % n as u64) as usize;
            let port_count = u32::from(ports.to - ports.from) + 1;
            let max = self.config.max_per_destination.min(port_count) as usize;
            let addr = (0..n)
                .map(|k| self.config.addresses[(start + k) % n])
                .find(|&a| {
                    self.maps
                        .iter()
                        .filter(|m| m.proto == t.proto && m.nat.0 == a && m.remote == remote)
                        .count()
                        < max
                });
            let Some(addr) = addr else {
                self.metrics.error_port_allocation += 1;
                prop_assert_eq!(got, Err(OutboundMiss::PortAllocation));
                return Ok(());
            };
            let Ok((a, p)) = got else {
                return Err(TestCaseError::fail(format!(
                    "{got:?}, expected a port on {addr}"
                )));
            };
            prop_assert_eq!(a, addr);
            prop_assert!(ports.contains(p));
            prop_assert!(
                !self
                    .maps
                    .iter()
                    .any(|m| m.proto == t.proto && m.nat == (a, p) && m.remote == remote),
                "port {} handed out twice",
                p
            );
            let mut m = ModelMapping {
                proto: t.proto,
                inside: (t.src, t.src_port),
                remote,
                nat: (a, p),
                last: now,
                fins: (false, false),
                closed: false,
                replied: false,
            };
            m.touch(now, true, flags);
            self.maps.push(m);
            Ok(())
        }

        /// What the table should answer to an inbound packet.
        fn inbound(&mut self, now: Time, t: &Tuple, flags: TcpFlags) -> Option<(Ipv4Addr, u16)> {
            self.latest = self.latest.max(now);
            let remote = (t.src, Self::remote_of(t, t.src_port));
            let m = self.maps.iter_mut().find(|m| {
                m.proto == t.proto
                    && m.nat == (t.dst, t.dst_port)
                    && m.remote == remote
                    && m.live(now)
            })?;
            m.touch(now, false, flags);
            if m.proto == PROTO_TCP && !m.replied && flags.is_some_and(|f| f & RST == 0) {
                m.replied = true;
                self.metrics.connection_established_count += 1;
            }
            Some(m.inside)
        }

        fn expire(&mut self, now: Time) -> usize {
            self.latest = self.latest.max(now);
            let before = self.maps.len();
            let mut i = 0;
            while i < self.maps.len() {
                if self.maps[i].live(now) {
                    i += 1;
                } else {
                    self.drop_mapping(i);
                }
            }
            before - self.maps.len()
        }

        fn inside_of_quoted(&self, q: &Tuple) -> Option<(Ipv4Addr, u16)> {
            let remote = (q.dst, Self::remote_of(q, q.dst_port));
            self.maps
                .iter()
                .find(|m| {
                    m.proto == q.proto
                        && m.nat == (q.src, q.src_port)
                        && m.remote == remote
                        && m.live(self.latest)
                })
                .map(|m| m.inside)
        }

        fn reverse_of_inside(&self, q: &Tuple) -> Option<(Ipv4Addr, u16)> {
            let remote = (q.src, Self::remote_of(q, q.src_port));
            self.maps
                .iter()
                .find(|m| {
                    m.proto == q.proto
                        && m.inside == (q.dst, q.dst_port)
                        && m.remote == remote
                        && m.live(self.latest)
                })
                .map(|m| m.nat)
        }
    }

    const HOSTS: [Ipv4Addr; 3] = [HOST_A, HOST_B, Ipv4Addr::new(10, 0, 3, 30)];
    const REMOTES: [Ipv4Addr; 2] = [REMOTE, REMOTE2];
    const PROTOS: [u8; 3] = [PROTO_TCP, PROTO_UDP, PROTO_ICMP];
    const FLAGS: [u8; 6] = [SYN, ACK, FIN | ACK, RST, SYN | ACK, RST | ACK];
    const STEPS: [u64; 6] = [0, 1, 5, 11, 100, 349];

    #[derive(Debug, Clone, Copy)]
    enum Op {
        Out {
            host: usize,
            port: u16,
            remote: usize,
            rport: u16,
            proto: usize,
            flags: usize,
        },
        In {
            nat: usize,
            port: u16,
            remote: usize,
            rport: u16,
            proto: usize,
            flags: usize,
        },
        Quoted {
            nat: usize,
            port: u16,
            host: usize,
            remote: usize,
            rport: u16,
            proto: usize,
        },
        Advance(usize),
        Expire,
    }

    fn any_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..3usize, 0..3u16, 0..2usize, 0..2u16, 0..3usize, 0..6usize).prop_map(
                |(host, port, remote, rport, proto, flags)| Op::Out { host, port, remote, rport, proto, flags }
            ),
            3 => (0..2usize, 0..5u16, 0..2usize, 0..2u16, 0..3usize, 0..6usize).prop_map(
                |(nat, port, remote, rport, proto, flags)| Op::In { nat, port, remote, rport, proto, flags }
            ),
            1 => (0..2usize, 0..5u16, 0..3usize, 0..2usize, 0..2u16, 0..3usize).prop_map(
                |(nat, port, host, remote, rport, proto)| Op::Quoted { nat, port, host, remote, rport, proto }
            ),
            2 => (0..STEPS.len()).prop_map(Op::Advance),
            1 => Just(Op::Expire),
        ]
    }

    proptest! {
        /// The table and the naive model agree on every answer, every count and every
        /// metric, and no two mappings share (protocol, NAT address, NAT port, remote
        /// address, remote port).
        #[test]
        fn agrees_with_a_naive_model(
            max in 1u32..6,
            capacity in 0usize..12,
            ops in prop::collection::vec(any_op(), 1..150),
        ) {
            // Ports 1024-1027: the inbound ops also try 1028, which is never handed out.
            let config = config(&[NAT1, NAT2], 1024, 1027, max, capacity);
            let mut t = NatTable::new(config.clone());
            let mut model = Model { config, maps: Vec::new(), metrics: NatMetrics::default(), latest: Time::ZERO };
            let mut now = Time::ZERO;
            for op in ops {
                match op {
                    Op::Out { host, port, remote, rport, proto, flags } => {
                        let proto = PROTOS[proto];
                        let (sp, dp) = if proto == PROTO_ICMP { (port, port) } else { (1000 + port, 53 + rport) };
                        let tu = tuple(proto, HOSTS[host], sp, REMOTES[remote], dp);
                        let flags = (proto == PROTO_TCP).then_some(FLAGS[flags]);
                        let got = t.outbound(now, &tu, flags);
                        model.outbound(now, &tu, flags, got)?;
                    }
                    Op::In { nat, port, remote, rport, proto, flags } => {
                        let proto = PROTOS[proto];
                        let (sp, dp) = if proto == PROTO_ICMP { (1024 + port, 1024 + port) } else { (53 + rport, 1024 + port) };
                        let tu = tuple(proto, REMOTES[remote], sp, [NAT1, NAT2][nat], dp);
                        let flags = (proto == PROTO_TCP).then_some(FLAGS[flags]);
                        prop_assert_eq!(t.inbound(now, &tu, flags), model.inbound(now, &tu, flags));
                    }
                    Op::Quoted { nat, port, host, remote, rport, proto } => {
                        let proto = PROTOS[proto];
                        let (np, rp) = if proto == PROTO_ICMP { (1024 + port, 1024 + port) } else { (1024 + port, 53 + rport) };
                        let sent = tuple(proto, [NAT1, NAT2][nat], np, REMOTES[remote], rp);
                        prop_assert_eq!(t.inside_of_quoted(&sent), model.inside_of_quoted(&sent));
                        let hp = if proto == PROTO_ICMP { port } else { 1000 + port };
                        let rp = if proto == PROTO_ICMP { hp } else { 53 + rport };
                        let got = tuple(proto, REMOTES[remote], rp, HOSTS[host], hp);
                        prop_assert_eq!(t.reverse_of_inside(&got), model.reverse_of_inside(&got));
                    }
                    Op::Advance(i) => now = now + Duration::from_secs(STEPS[i]),
                    Op::Expire => prop_assert_eq!(t.expire(now), model.expire(now)),
                }
                prop_assert_eq!(t.len(), model.maps.len());
                prop_assert!(t.len() <= capacity);
                prop_assert_eq!(
                    t.active_tcp(),
                    model.maps.iter().filter(|m| m.proto == PROTO_TCP && !m.closed).count()
                );
                prop_assert_eq!(t.metrics, model.metrics);
                let outside: BTreeSet<_> = model.maps.iter().map(|m| (m.proto, m.nat, m.remote)).collect();
                prop_assert_eq!(outside.len(), model.maps.len());
                let mut shown: Vec<_> = t.mappings(now).map(|m| (m.proto, m.inside, m.outside, m.remote)).collect();
                let mut live: Vec<_> = model
                    .maps
                    .iter()
                    .filter(|m| m.live(now))
                    .map(|m| (m.proto, m.inside, m.nat, m.remote))
                    .collect();
                shown.sort();
                live.sort();
                prop_assert_eq!(shown, live);
            }
        }
    }
}
