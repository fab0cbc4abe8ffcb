//! Connection tracking, per ENI (AWS: security-group-connection-tracking). Security
//! groups are stateful: a packet of a tracked flow, in either direction, passes without
//! rule evaluation, and so does an ICMP error about a tracked flow ("related"). Each ENI
//! has its own [`ConnTable`]; the pipeline looks a packet up in the sending ENI's table
//! and then in the receiving ENI's, and inserts a flow when the rules allow a packet
//! that no flow knows.
//!
//! Keys: one hash lookup per packet. A flow's key is its tuple normalised (the smaller
//! (address, port) endpoint first, plus the protocol), and the entry remembers which
//! endpoint sent the first packet, so both directions find the same entry. TCP and UDP
//! use their ports; other protocols and ICMP messages other than echo are keyed by the
//! address pair and protocol alone (AWS: "IP pair + protocol"). An ICMP echo flow is
//! keyed by (requester, responder, identifier) in that order: a request looks up
//! (src, dst, id), a reply (dst, src, id); so a request in the reply direction is a new
//! flow of its own (`Miss`), and a reply in the original direction finds nothing and is
//! refused (`icmp-unsolicited-reply`: ICMP is always tracked in AWS, so an unsolicited
//! reply is never allowed). ICMP errors never create flows. One quoting a tracked flow
//! (in either direction) is `Related`; one quoting no tracked flow is a `Miss`, which the
//! rules judge as the ICMP message it is (AWS: the responses of untracked flows are
//! allowed by the rules that permit them), so a UDP "port unreachable" about an
//! untracked datagram reaches its sender when the groups allow ICMP.
//!
//! TCP (see [`tcp`] for the states and sequence-window checks): a plain SYN starts a
//! connection. A segment of no tracked connection that the rules allow and would track
//! is picked up mid-stream (as Linux conntrack does with `nf_conntrack_tcp_loose`): an
//! ACK starts an `established` connection, a FIN+ACK a `fin-wait` one, both with
//! liberal window tracking. That is what keeps a connection running when a rule change
//! turns it from untracked to tracked, or when it sat idle past its established timeout
//! and the rules still allow it (AWS interrupts only connections the new rules no longer
//! permit). A RST or a SYN+ACK of no tracked connection can neither start nor be picked
//! up (Linux: invalid): `tcp-no-flow`.
//!
//! Idle timeouts, each refreshed by every valid packet of the flow:
//!
//! | flow | timeout |
//! |---|---|
//! | TCP handshake (`syn-sent`, `syn-received`) | [`tcp::HANDSHAKE_TIMEOUT`] 60 s |
//! | TCP `established` | per ENI `tcp_established` (AWS default 432,000 s) |
//! | TCP after the first FIN (`fin-wait`) | [`tcp::FIN_WAIT_TIMEOUT`] 120 s |
//! | TCP after both FINs or a valid RST (`closing`, `closed`) | [`tcp::CLOSE_TIMEOUT`] 10 s |
//! | UDP seen one way (`unreplied`), or one request and its response (`replied`) | per ENI `udp` (AWS default 30 s) |
//! | UDP from its second transaction on (`stream`: a packet in the original direction after a reply) | per ENI `udp_stream` (AWS default 180 s) |
//! | ICMP echo | [`ICMP_ECHO_TIMEOUT`] 30 s (as one-way UDP) |
//! | other protocols and other ICMP | [`OTHER_TIMEOUT`] 600 s (AWS) |
//!
//! A flow idle past its timeout is absent for lookups at once, and [`ConnTable::insert`]
//! reuses its slot; [`ConnTable::expire`] (called by the daemon once a second) removes
//! them. A closed TCP flow is replaced by a new SYN on the same tuple.
//!
//! Capacity (AWS: `conntrack_allowance_exceeded`, "a new connection cannot be
//! established"): a table holds at most `capacity` flows. When it is full, an insert
//! first removes expired flows (a full scan, at most once a second of pipeline time,
//! [`GC_INTERVAL`]); if none expired, the new flow is refused (`conntrack-full`) and
//! every tracked flow is kept, as AWS does. The map reserves `min(capacity, PREALLOC)`
//! entries up front and grows (amortised) beyond that.

mod tcp;

use std::net::Ipv4Addr;
use std::time::Duration;

use rustc_hash::FxHashMap;
use vpc_config::ConntrackTimeouts;

use crate::l4::{Facts, L4, PROTO_ICMP, PROTO_TCP, PROTO_UDP, Tuple};
use crate::time::Time;
use crate::verdict::DropReason;
use tcp::{TcpConn, TcpState, TcpStep};

/// Idle timeout of an ICMP echo flow (as one-way UDP's default).
pub(crate) const ICMP_ECHO_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle timeout of flows of other protocols and of ICMP other than echo (AWS: 600 s).
pub(crate) const OTHER_TIMEOUT: Duration = Duration::from_secs(600);
/// How often, at most, a full table scans itself for expired flows to make room.
pub(crate) const GC_INTERVAL: Duration = Duration::from_secs(1);
/// How many entries a table reserves room for up front (at most its capacity).
const PREALLOC: usize = 4096;

/// Which way a packet goes relative to the flow's first packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    /// Same direction as the packet that created the flow.
    Original,
    /// The opposite direction (a reply).
    Reply,
}

impl Dir {
    fn index(self) -> usize {
        match self {
            Dir::Original => 0,
            Dir::Reply => 1,
        }
    }
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
    /// `closed` (TCP), `unreplied`, `replied` (UDP, ICMP, other protocols), `stream`
    /// (UDP from its second request-response transaction on).
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
}

/// One end of a flow: address and port (ICMP echo: identifier; else 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Endpoint {
    addr: Ipv4Addr,
    port: u16,
}

impl Endpoint {
    /// The address then the port in one word: endpoints order as (address, port) do
    /// (addresses as numbers), in one comparison.
    fn packed(self) -> u64 {
        u64::from(u32::from(self.addr)) << 16 | u64::from(self.port)
    }

    /// The endpoint of the low 48 bits of `packed`.
    fn unpacked(packed: u64) -> Endpoint {
        Endpoint {
            addr: Ipv4Addr::from((packed >> 16) as u32),
            port: packed as u16,
        }
    }
}

/// How a key's endpoints are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    /// Normalised: `lo <= hi`; the entry says which one opened the flow.
    Sorted,
    /// ICMP echo: `lo` is the requester, `hi` the responder.
    Echo,
}

/// A flow's key in the table, packed into two words so that hashing and comparing it
/// are two operations each: `lo` and `hi` are the endpoints [`Endpoint::packed`] (48
/// bits each), and the top 16 bits of `lo` hold the protocol and the [`KeyKind`] (0
/// sorted, 1 echo). A packet's key is its two endpoints as they are, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    lo: u64,
    hi: u64,
}

impl Key {
    /// The key of endpoints `lo` and `hi`, each [`Endpoint::packed`].
    fn new(proto: u8, kind: KeyKind, lo: u64, hi: u64) -> Key {
        let kind = match kind {
            KeyKind::Sorted => 0,
            KeyKind::Echo => 1,
        };
        Key {
            lo: u64::from(proto) << 56 | kind << 48 | lo,
            hi,
        }
    }

    /// The normalised key of a packet from `src` to `dst`, and whether `src` is `lo`.
    fn sorted(proto: u8, src: Endpoint, dst: Endpoint) -> (Key, bool) {
        let (src, dst) = (src.packed(), dst.packed());
        let from_lo = src <= dst;
        let (lo, hi) = if from_lo { (src, dst) } else { (dst, src) };
        (Key::new(proto, KeyKind::Sorted, lo, hi), from_lo)
    }

    /// The key of an echo flow from `requester` to `responder` with identifier `id`.
    fn echo(requester: Ipv4Addr, responder: Ipv4Addr, id: u16) -> Key {
        let ep = |addr| Endpoint { addr, port: id }.packed();
        Key::new(PROTO_ICMP, KeyKind::Echo, ep(requester), ep(responder))
    }

    /// The protocol.
    fn proto(&self) -> u8 {
        (self.lo >> 56) as u8
    }

    /// The `lo` endpoint.
    fn lo(&self) -> Endpoint {
        Endpoint::unpacked(self.lo)
    }

    /// The `hi` endpoint.
    fn hi(&self) -> Endpoint {
        Endpoint::unpacked(self.hi)
    }
}

/// Where a packet is looked up.
#[derive(Debug, Clone, Copy)]
enum Probe {
    /// The flow with `key`; the packet comes from `key.lo` if `from_lo`.
    Flow { key: Key, from_lo: bool },
    /// An ICMP error: the flows its quoted tuple could belong to.
    Error(Tuple),
}

impl Probe {
    /// Where packet `f` is looked up.
    #[inline(always)]
    fn of(f: &Facts) -> Probe {
        let t = &f.tuple;
        let ep = |addr, port| Endpoint { addr, port };
        let (key, from_lo) = match f.l4 {
            L4::IcmpError { quoted, .. } => return Probe::Error(quoted),
            L4::IcmpEcho { request: true, id } => (Key::echo(t.src, t.dst, id), true),
            L4::IcmpEcho { request: false, id } => (Key::echo(t.dst, t.src, id), false),
            L4::Tcp(_) | L4::Udp => {
                Key::sorted(t.proto, ep(t.src, t.src_port), ep(t.dst, t.dst_port))
            }
            L4::IcmpOther { .. } | L4::Other => Key::sorted(t.proto, ep(t.src, 0), ep(t.dst, 0)),
        };
        Probe::Flow { key, from_lo }
    }
}

/// What kind of flow an entry tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Tcp(TcpConn),
    Udp,
    Echo,
    /// Another protocol, or ICMP other than echo.
    Other,
}

/// A tracked flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    flow: Flow,
    /// Whether the first packet came from the key's `lo` endpoint.
    orig_from_lo: bool,
    /// Whether a packet in the reply direction was seen.
    replied: bool,
    /// Whether a packet in the original direction came after one in the reply
    /// direction: a UDP flow's second request-response transaction, which makes it a
    /// stream (AWS's `udpStreamTimeout` applies then; before, `udpTimeout`).
    stream: bool,
    /// The last valid packet.
    last_seen: Time,
    /// Packets, by [`Dir::index`].
    packets: [u32; 2],
    /// By [`Dir::index`]: the configuration generation in which the network ACLs a
    /// packet of this flow crosses after leaving this ENI allowed it (0: not known).
    /// The flow cache of [`ConnTable::lookup_cached`].
    nacls_allow: [u32; 2],
}

impl Entry {
    fn timeout(&self, t: &Idle) -> Duration {
        Duration::from_nanos(self.timeout_nanos(t))
    }

    /// [`Entry::timeout`] in nanoseconds.
    #[inline(always)]
    fn timeout_nanos(&self, t: &Idle) -> u64 {
        match self.flow {
            // One load: a TCP connection's timeout by state is a table.
            Flow::Tcp(c) => t.tcp[c.state().index()],
            Flow::Udp if self.stream => t.udp_stream,
            Flow::Udp => t.udp,
            Flow::Echo => nanos(ICMP_ECHO_TIMEOUT),
            Flow::Other => nanos(OTHER_TIMEOUT),
        }
    }

    /// Whether the flow has been idle for its timeout at `now`: compared in
    /// nanoseconds, as [`Time`] counts them (no conversion per lookup).
    #[inline(always)]
    fn expired(&self, now: Time, t: &Idle) -> bool {
        now.as_nanos().saturating_sub(self.last_seen.as_nanos()) >= self.timeout_nanos(t)
    }

    fn state(&self) -> &'static str {
        match self.flow {
            Flow::Tcp(c) => c.state().name(),
            Flow::Udp if self.stream => "stream",
            _ if self.replied => "replied",
            _ => "unreplied",
        }
    }
}

fn secs(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}

/// `d` in nanoseconds (saturating; every timeout here is far below 584 years).
pub(crate) const fn nanos(d: Duration) -> u64 {
    let n = d.as_nanos();
    if n > u64::MAX as u128 {
        u64::MAX
    } else {
        n as u64
    }
}

/// A table's idle timeouts that its configuration sets, in nanoseconds: what the expiry
/// check of every lookup compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Idle {
    /// A TCP connection's, by [`TcpState::index`].
    tcp: [u64; 6],
    udp_stream: u64,
    udp: u64,
}

impl Idle {
    fn of(t: &ConntrackTimeouts) -> Idle {
        let established = nanos(secs(t.tcp_established));
        Idle {
            tcp: TcpState::ALL.map(|s| s.timeout_nanos(established)),
            udp_stream: nanos(secs(t.udp_stream)),
            udp: nanos(secs(t.udp)),
        }
    }
}

/// The decision for a packet of flow `entry` (`None`: no live flow) coming from the
/// key's `lo` endpoint if `from_lo`: what to answer; a tracked packet advances the
/// entry in place (an invalid one leaves it as it was). Shared by
/// [`ConnTable::lookup_cached`] and [`ConnTable::peek`] (on a copy).
#[inline(always)]
fn judge(
    entry: Option<&mut Entry>,
    now: Time,
    from_lo: bool,
    f: &Facts,
) -> Result<Lookup, DropReason> {
    let Some(e) = entry else {
        return match f.l4 {
            L4::IcmpEcho { request: false, .. } => Err(DropReason::IcmpUnsolicitedReply),
            _ => Ok(Lookup::Miss),
        };
    };
    let dir = if from_lo == e.orig_from_lo {
        Dir::Original
    } else {
        Dir::Reply
    };
    if let (Flow::Tcp(c), L4::Tcp(t)) = (&mut e.flow, &f.l4)
        && c.step(dir, t)? == TcpStep::NewFlow
    {
        return Ok(Lookup::Miss);
    }
    // A request after a response: the second transaction (of a UDP flow: a stream).
    e.stream |= (dir == Dir::Original) & e.replied;
    e.last_seen = now.max(e.last_seen);
    e.replied |= dir == Dir::Reply;
    let n = &mut e.packets[dir.index()];
    *n = n.saturating_add(1);
    Ok(Lookup::Tracked(dir))
}

/// One ENI's connection table.
#[derive(Debug, Clone)]
pub(crate) struct ConnTable {
    capacity: usize,
    /// The idle timeouts of the configuration (`ConntrackTimeouts`), in nanoseconds.
    timeouts: Idle,
    flows: FxHashMap<Key, Entry>,
    /// When a full table may next scan itself for expired flows.
    next_gc: Time,
    stats: ConntrackStats,
}

impl ConnTable {
    /// An empty table for at most `capacity` flows.
    pub fn new(capacity: usize, timeouts: ConntrackTimeouts) -> Self {
        let reserve = capacity.min(PREALLOC);
        let mut flows = FxHashMap::default();
        flows.reserve(reserve);
        ConnTable {
            capacity,
            timeouts: Idle::of(&timeouts),
            flows,
            next_gc: Time::ZERO,
            stats: ConntrackStats::default(),
        }
    }

    /// Replaces the timeouts; they apply to tracked flows at once.
    pub fn set_timeouts(&mut self, timeouts: ConntrackTimeouts) {
        self.timeouts = Idle::of(&timeouts);
    }

    /// Looks packet `f` up at `now`; a packet of a tracked flow advances its state and
    /// refreshes its idle timer. `Err` is a packet invalid for its flow (which stays as
    /// it was), an ICMP error about no tracked flow, or an unsolicited echo reply.
    pub fn lookup(&mut self, now: Time, f: &Facts) -> Result<Lookup, DropReason> {
        self.lookup_cached(now, f, 0).0
    }

    /// [`lookup`](Self::lookup), and whether the flow cache knows that the network ACLs
    /// after this ENI allowed the flow's packets in this direction in configuration
    /// `generation` (see [`remember_nacls`](Self::remember_nacls); 0 is never known).
    /// Always inlined into the security-group stage: a call cost about 30 instructions
    /// a lookup (registers saved and restored, the result packed and unpacked).
    #[inline(always)]
    pub fn lookup_cached(
        &mut self,
        now: Time,
        f: &Facts,
        generation: u32,
    ) -> (Result<Lookup, DropReason>, bool) {
        match Probe::of(f) {
            Probe::Error(quoted) => (self.related(now, &quoted), false),
            Probe::Flow { key, from_lo } => {
                // The timeouts borrowed beside the flows, not copied out (64 bytes).
                let ConnTable {
                    flows, timeouts, ..
                } = self;
                let mut slot = match flows.get_mut(&key) {
                    Some(e) if !e.expired(now, timeouts) => Some(e),
                    _ => None,
                };
                let lookup = match judge(slot.as_deref_mut(), now, from_lo, f) {
                    Ok(lookup) => lookup,
                    Err(reason) => return (Err(reason), false),
                };
                let known = match (lookup, slot) {
                    (Lookup::Tracked(dir), Some(e)) => {
                        generation != 0 && e.nacls_allow[dir.index()] == generation
                    }
                    _ => false,
                };
                (Ok(lookup), known)
            }
        }
    }

    /// Records in the flow cache that the network ACLs after this ENI allowed packet
    /// `f`'s direction of its tracked flow in configuration `generation`. Only TCP, UDP
    /// and ICMP echo flows are cached: all their packets in one direction have the same
    /// protocol, ports or ICMP type, which is all an ACL entry looks at besides the
    /// addresses (other ICMP messages share one flow per address pair whatever their
    /// type).
    pub fn remember_nacls(&mut self, now: Time, f: &Facts, generation: u32) {
        if !matches!(f.l4, L4::Tcp(_) | L4::Udp | L4::IcmpEcho { .. }) {
            return;
        }
        let Probe::Flow { key, from_lo } = Probe::of(f) else {
            return;
        };
        let timeouts = self.timeouts;
        if let Some(e) = self
            .flows
            .get_mut(&key)
            .filter(|e| !e.expired(now, &timeouts))
        {
            let dir = if from_lo == e.orig_from_lo {
                Dir::Original
            } else {
                Dir::Reply
            };
            e.nacls_allow[dir.index()] = generation;
        }
    }

    /// What [`lookup`](Self::lookup) would answer, changing nothing.
    pub fn peek(&self, now: Time, f: &Facts) -> Result<Lookup, DropReason> {
        match Probe::of(f) {
            Probe::Error(quoted) => self.related(now, &quoted),
            Probe::Flow { key, from_lo } => {
                let mut copy = self.live(now, &key).copied();
                judge(copy.as_mut(), now, from_lo, f)
            }
        }
    }

    /// The live (not expired) entry of `key`.
    fn live(&self, now: Time, key: &Key) -> Option<&Entry> {
        self.flows
            .get(key)
            .filter(|e| !e.expired(now, &self.timeouts))
    }

    /// Whether an ICMP error quoting `q` is related to a live flow, in either direction.
    fn related(&self, now: Time, q: &Tuple) -> Result<Lookup, DropReason> {
        let ep = |addr, port| Endpoint { addr, port };
        let sorted = |sp, dp| Key::sorted(q.proto, ep(q.src, sp), ep(q.dst, dp)).0;
        let found = match q.proto {
            PROTO_TCP | PROTO_UDP => self.live(now, &sorted(q.src_port, q.dst_port)).is_some(),
            // The quote of an echo request or reply, or of another ICMP message.
            PROTO_ICMP => [
                Key::echo(q.src, q.dst, q.src_port),
                Key::echo(q.dst, q.src, q.src_port),
                sorted(0, 0),
            ]
            .iter()
            .any(|k| self.live(now, k).is_some()),
            _ => self.live(now, &sorted(0, 0)).is_some(),
        };
        Ok(if found { Lookup::Related } else { Lookup::Miss })
    }

    /// Starts tracking a flow whose first packet is `f`, at `now`. A TCP segment other
    /// than a plain SYN is picked up mid-stream (an ACK, or a FIN+ACK; see the module
    /// doc). Refused: a RST or a SYN+ACK (`tcp-no-flow`), an ICMP error (never a flow),
    /// an echo reply, or a new flow a full table has no room for even after removing
    /// expired flows (`conntrack-full`). A live flow with the same key is replaced only
    /// if it is a closed TCP connection; otherwise it is kept and this is a no-op.
    pub fn insert(&mut self, now: Time, f: &Facts) -> Result<(), DropReason> {
        let flow = match f.l4 {
            L4::Tcp(t) if tcp::is_plain_syn(&t) => Flow::Tcp(TcpConn::new(&t)),
            L4::Tcp(t) => Flow::Tcp(TcpConn::picked_up(&t).ok_or(DropReason::TcpNoFlow)?),
            L4::Udp => Flow::Udp,
            L4::IcmpEcho { request: true, .. } => Flow::Echo,
            L4::IcmpEcho { request: false, .. } => return Err(DropReason::IcmpUnsolicitedReply),
            L4::IcmpError { .. } => return Err(DropReason::IcmpErrorNoFlow),
            L4::IcmpOther { .. } | L4::Other => Flow::Other,
        };
        let Probe::Flow { key, from_lo } = Probe::of(f) else {
            return Err(DropReason::IcmpErrorNoFlow);
        };
        match self.flows.get(&key) {
            Some(e) if e.expired(now, &self.timeouts) => self.stats.expired += 1,
            Some(Entry {
                flow: Flow::Tcp(c), ..
            }) if c.reusable() => {}
            Some(_) => return Ok(()),
            None if self.flows.len() >= self.capacity => self.make_room(now)?,
            None => {}
        }
        self.flows.insert(
            key,
            Entry {
                flow,
                orig_from_lo: from_lo,
                replied: false,
                stream: false,
                last_seen: now,
                packets: [1, 0],
                nacls_allow: [0; 2],
            },
        );
        self.stats.inserted += 1;
        Ok(())
    }

    /// Frees one slot in a full table by removing expired flows (a full scan, at most
    /// once per [`GC_INTERVAL`]); `conntrack-full` if none expired. A tracked flow is
    /// never removed to make room (AWS refuses the new connection).
    fn make_room(&mut self, now: Time) -> Result<(), DropReason> {
        if now >= self.next_gc {
            self.next_gc = now + GC_INTERVAL;
            if self.expire(now) > 0 {
                return Ok(());
            }
        }
        Err(DropReason::ConntrackFull)
    }

    /// Removes the flows idle past their timeout at `now`; returns how many.
    pub fn expire(&mut self, now: Time) -> usize {
        let timeouts = self.timeouts;
        let before = self.flows.len();
        self.flows.retain(|_, e| !e.expired(now, &timeouts));
        let removed = before - self.flows.len();
        self.stats.expired += removed as u64;
        removed
    }

    /// The live flows at `now`, in no particular order.
    pub fn flows(&self, now: Time) -> impl Iterator<Item = FlowInfo> + '_ {
        self.flows.iter().filter_map(move |(k, e)| {
            let timeout = e.timeout(&self.timeouts);
            let idle = now.saturating_since(e.last_seen);
            if idle >= timeout {
                return None;
            }
            let (src, dst) = if e.orig_from_lo {
                (k.lo(), k.hi())
            } else {
                (k.hi(), k.lo())
            };
            Some(FlowInfo {
                proto: k.proto(),
                src: src.addr,
                dst: dst.addr,
                src_port: src.port,
                dst_port: dst.port,
                state: e.state(),
                expires_in: timeout - idle,
                packets_original: u64::from(e.packets[0]),
                packets_reply: u64::from(e.packets[1]),
            })
        })
    }

    /// How many flows the table holds (including expired ones [`expire`](Self::expire)
    /// has not removed yet).
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// The table's counters.
    pub fn stats(&self) -> ConntrackStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l4::TcpFacts;
    use crate::l4::tcp_flags::{ACK, FIN, PSH, RST, SYN};
    use proptest::prelude::*;

    /// The client, 10.0.1.10 (the smaller address).
    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 10);
    /// The server, 10.0.12.10.
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 12, 10);
    const T0: Time = Time::from_secs(1000);
    /// The client's and server's initial sequence numbers.
    const ISN_A: u32 = 1000;
    const ISN_B: u32 = 5000;

    fn at(secs: u64) -> Time {
        T0 + Duration::from_secs(secs)
    }

    fn table() -> ConnTable {
        ConnTable::new(1024, ConntrackTimeouts::default())
    }

    fn facts(proto: u8, src: Ipv4Addr, sp: u16, dst: Ipv4Addr, dp: u16, l4: L4) -> Facts {
        let tuple = Tuple {
            proto,
            src,
            dst,
            src_port: sp,
            dst_port: dp,
        };
        Facts {
            tuple,
            l4,
            len: 40,
            packets: 1,
            shape: crate::offload::Shape::PLAIN,
        }
    }

    /// A TCP segment between A:40000 (`from_a`) and B:80.
    fn seg(from_a: bool, flags: u8, seq: u32, ack: u32, window: u16, payload_len: u32) -> Facts {
        seg_ports(from_a, 40000, flags, seq, ack, window, payload_len)
    }

    fn seg_ports(
        from_a: bool,
        port: u16,
        flags: u8,
        seq: u32,
        ack: u32,
        window: u16,
        payload_len: u32,
    ) -> Facts {
        let l4 = L4::Tcp(TcpFacts {
            flags,
            seq,
            ack,
            window,
            payload_len,
            wscale: None,
        });
        if from_a {
            facts(PROTO_TCP, A, port, B, 80, l4)
        } else {
            facts(PROTO_TCP, B, 80, A, port, l4)
        }
    }

    /// `f` (a SYN) with window scale option `ws`.
    fn with_wscale(mut f: Facts, ws: u8) -> Facts {
        if let L4::Tcp(t) = &mut f.l4 {
            t.wscale = Some(ws);
        }
        f
    }

    /// A UDP datagram between A:5000 (`from_a`) and B:53.
    fn udp(from_a: bool) -> Facts {
        if from_a {
            facts(PROTO_UDP, A, 5000, B, 53, L4::Udp)
        } else {
            facts(PROTO_UDP, B, 53, A, 5000, L4::Udp)
        }
    }

    fn echo(request: bool, src: Ipv4Addr, dst: Ipv4Addr, id: u16) -> Facts {
        facts(PROTO_ICMP, src, id, dst, id, L4::IcmpEcho { request, id })
    }

    /// Port unreachable from `src` to `dst` quoting `quoted`.
    fn unreachable(src: Ipv4Addr, dst: Ipv4Addr, quoted: Tuple) -> Facts {
        let l4 = L4::IcmpError {
            icmp_type: 3,
            code: 3,
            quoted,
        };
        facts(PROTO_ICMP, src, 0, dst, 0, l4)
    }

    /// The one flow of `t` (panics if there is not exactly one).
    fn only_flow(t: &ConnTable, now: Time) -> FlowInfo {
        let flows: Vec<FlowInfo> = t.flows(now).collect();
        assert_eq!(flows.len(), 1, "{flows:?}");
        flows[0].clone()
    }

    fn state(t: &ConnTable, now: Time) -> &'static str {
        only_flow(t, now).state
    }

    /// A table holding an established A->B connection (SYN at T0, handshake done).
    fn established() -> ConnTable {
        let mut t = table();
        handshake(&mut t, 40000, None, None, 64240);
        t
    }

    /// SYN, SYN+ACK (window `win_b`), ACK at T0 on port `port`, with the given window
    /// scale options.
    fn handshake(t: &mut ConnTable, port: u16, ws_a: Option<u8>, ws_b: Option<u8>, win_b: u16) {
        let mut syn = seg_ports(true, port, SYN, ISN_A, 0, 64240, 0);
        let mut syn_ack = seg_ports(false, port, SYN | ACK, ISN_B, ISN_A + 1, win_b, 0);
        if let Some(ws) = ws_a {
            syn = with_wscale(syn, ws);
        }
        if let Some(ws) = ws_b {
            syn_ack = with_wscale(syn_ack, ws);
        }
        assert_eq!(t.lookup(T0, &syn), Ok(Lookup::Miss));
        t.insert(T0, &syn).unwrap();
        assert_eq!(t.lookup(T0, &syn_ack), Ok(Lookup::Tracked(Dir::Reply)));
        let ack = seg_ports(true, port, ACK, ISN_A + 1, ISN_B + 1, 502, 0);
        assert_eq!(t.lookup(T0, &ack), Ok(Lookup::Tracked(Dir::Original)));
    }

    #[test]
    fn tcp_handshake_data_fin_fin_ack_closed() {
        let mut t = table();
        let syn = seg(true, SYN, ISN_A, 0, 64240, 0);
        assert_eq!(t.lookup(T0, &syn), Ok(Lookup::Miss));
        t.insert(T0, &syn).unwrap();
        assert_eq!(state(&t, T0), "syn-sent");
        assert_eq!(only_flow(&t, T0).expires_in, Duration::from_secs(60));

        let syn_ack = seg(false, SYN | ACK, ISN_B, ISN_A + 1, 65160, 0);
        assert_eq!(t.lookup(T0, &syn_ack), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(state(&t, T0), "syn-received");
        let ack = seg(true, ACK, ISN_A + 1, ISN_B + 1, 502, 0);
        assert_eq!(t.lookup(at(1), &ack), Ok(Lookup::Tracked(Dir::Original)));
        assert_eq!(state(&t, at(1)), "established");
        assert_eq!(
            only_flow(&t, at(1)).expires_in,
            Duration::from_secs(432_000)
        );

        // 100 bytes each way.
        let data = seg(true, ACK | PSH, ISN_A + 1, ISN_B + 1, 502, 100);
        assert_eq!(t.lookup(at(2), &data), Ok(Lookup::Tracked(Dir::Original)));
        let answer = seg(false, ACK | PSH, ISN_B + 1, ISN_A + 101, 509, 100);
        assert_eq!(t.lookup(at(2), &answer), Ok(Lookup::Tracked(Dir::Reply)));

        // A closes, B acks and closes, A acks B's FIN.
        let fin_a = seg(true, FIN | ACK, ISN_A + 101, ISN_B + 101, 502, 0);
        assert_eq!(t.lookup(at(3), &fin_a), Ok(Lookup::Tracked(Dir::Original)));
        assert_eq!(state(&t, at(3)), "fin-wait");
        assert_eq!(only_flow(&t, at(3)).expires_in, Duration::from_secs(120));
        let fin_b = seg(false, FIN | ACK, ISN_B + 101, ISN_A + 102, 509, 0);
        assert_eq!(t.lookup(at(3), &fin_b), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(state(&t, at(3)), "closing");
        assert_eq!(only_flow(&t, at(3)).expires_in, Duration::from_secs(10));
        let last_ack = seg(true, ACK, ISN_A + 102, ISN_B + 102, 502, 0);
        assert_eq!(
            t.lookup(at(3), &last_ack),
            Ok(Lookup::Tracked(Dir::Original))
        );
        let f = only_flow(&t, at(3));
        assert_eq!((f.state, f.expires_in), ("closed", Duration::from_secs(10)));
        assert_eq!((f.packets_original, f.packets_reply), (5, 3));

        // A new SYN on the same tuple starts a new connection in place of the closed one.
        let syn2 = seg(true, SYN, 900_000, 0, 64240, 0);
        assert_eq!(t.lookup(at(4), &syn2), Ok(Lookup::Miss));
        t.insert(at(4), &syn2).unwrap();
        assert_eq!(state(&t, at(4)), "syn-sent");
        assert_eq!(t.len(), 1);
        assert_eq!(t.stats().inserted, 2);
        // And the closed one would have expired after 10 s.
        let mut t2 = table();
        t2.insert(T0, &syn).unwrap();
        t2.lookup(T0, &seg(false, RST | ACK, 0, ISN_A + 1, 0, 0))
            .unwrap();
        assert_eq!(t2.expire(at(9)), 0);
        assert_eq!(t2.expire(at(10)), 1);
    }

    /// A FIN the responder sends before the handshake ends (in `syn-received`) is
    /// seen when the initiator's ACK establishes the connection: it goes on to
    /// `fin-wait` at once (and an established connection has thus seen no FIN, which
    /// the window check's shortcut relies on).
    #[test]
    fn a_fin_before_the_handshake_ends_takes_effect_when_it_does() {
        let mut t = table();
        let syn = seg(true, SYN, ISN_A, 0, 64240, 0);
        t.insert(T0, &syn).unwrap();
        let syn_ack = seg(false, SYN | ACK, ISN_B, ISN_A + 1, 65160, 0);
        assert_eq!(t.lookup(T0, &syn_ack), Ok(Lookup::Tracked(Dir::Reply)));
        let fin_b = seg(false, FIN | ACK, ISN_B + 1, ISN_A + 1, 509, 0);
        assert_eq!(t.lookup(T0, &fin_b), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(state(&t, T0), "syn-received");
        let ack = seg(true, ACK, ISN_A + 1, ISN_B + 2, 502, 0);
        assert_eq!(t.lookup(at(1), &ack), Ok(Lookup::Tracked(Dir::Original)));
        assert_eq!(state(&t, at(1)), "fin-wait");
        // Data from the initiator, then its FIN, which the responder acks: closed.
        let data = seg(true, ACK | PSH, ISN_A + 1, ISN_B + 2, 502, 100);
        assert_eq!(t.lookup(at(2), &data), Ok(Lookup::Tracked(Dir::Original)));
        assert_eq!(state(&t, at(2)), "fin-wait");
        let fin_a = seg(true, FIN | ACK, ISN_A + 101, ISN_B + 2, 502, 0);
        assert_eq!(t.lookup(at(3), &fin_a), Ok(Lookup::Tracked(Dir::Original)));
        assert_eq!(state(&t, at(3)), "closing");
        let last_ack = seg(false, ACK, ISN_B + 2, ISN_A + 102, 509, 0);
        assert_eq!(t.lookup(at(4), &last_ack), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(state(&t, at(4)), "closed");
    }

    #[test]
    fn simultaneous_close_closes_on_the_second_ack() {
        let mut t = established();
        let fin_a = seg(true, FIN | ACK, ISN_A + 1, ISN_B + 1, 502, 0);
        let fin_b = seg(false, FIN | ACK, ISN_B + 1, ISN_A + 1, 509, 0);
        assert!(t.lookup(T0, &fin_a).is_ok());
        assert!(t.lookup(T0, &fin_b).is_ok());
        assert_eq!(state(&t, T0), "closing");
        assert!(
            t.lookup(T0, &seg(true, ACK, ISN_A + 2, ISN_B + 2, 502, 0))
                .is_ok()
        );
        assert_eq!(state(&t, T0), "closing");
        assert!(
            t.lookup(T0, &seg(false, ACK, ISN_B + 2, ISN_A + 2, 502, 0))
                .is_ok()
        );
        assert_eq!(state(&t, T0), "closed");
    }

    #[test]
    fn out_of_window_is_dropped_and_the_flow_stays_established() {
        let mut t = established();
        let before = only_flow(&t, at(5));
        // Far past the receive window.
        let ahead = seg(true, ACK, ISN_A + 1 + 10_000_000, ISN_B + 1, 502, 100);
        // Older than a window (wrapping below the ISN).
        let behind = seg(true, ACK, ISN_A.wrapping_sub(200_000), ISN_B + 1, 502, 100);
        // Acks data B never sent.
        let future_ack = seg(true, ACK, ISN_A + 1, ISN_B + 100_000, 502, 0);
        for bad in [ahead, behind, future_ack] {
            assert_eq!(
                t.lookup(at(5), &bad),
                Err(DropReason::TcpOutOfWindow),
                "{bad:?}"
            );
            assert_eq!(t.peek(at(5), &bad), Err(DropReason::TcpOutOfWindow));
        }
        // Nothing changed, not even the idle timer.
        assert_eq!(only_flow(&t, at(5)), before);
        let data = seg(true, ACK | PSH, ISN_A + 1, ISN_B + 1, 502, 100);
        assert_eq!(t.lookup(at(5), &data), Ok(Lookup::Tracked(Dir::Original)));
        assert_eq!(state(&t, at(5)), "established");
        // A retransmission of that data is fine.
        assert_eq!(t.lookup(at(6), &data), Ok(Lookup::Tracked(Dir::Original)));
    }

    #[test]
    fn only_an_exact_rst_closes() {
        let mut t = established();
        // In the window, but not at the next expected sequence number (RFC 5961 3.2).
        let inexact = seg(true, RST, ISN_A + 1 + 50, 0, 0, 0);
        assert_eq!(t.lookup(at(1), &inexact), Err(DropReason::TcpOutOfWindow));
        let far = seg(true, RST, ISN_A + 1 + 10_000_000, 0, 0, 0);
        assert_eq!(t.lookup(at(1), &far), Err(DropReason::TcpOutOfWindow));
        assert_eq!(state(&t, at(1)), "established");
        let exact = seg(true, RST, ISN_A + 1, 0, 0, 0);
        assert_eq!(t.peek(at(1), &exact), Ok(Lookup::Tracked(Dir::Original)));
        assert_eq!(state(&t, at(1)), "established");
        assert_eq!(t.lookup(at(1), &exact), Ok(Lookup::Tracked(Dir::Original)));
        assert_eq!(state(&t, at(1)), "closed");

        // The receiver's last ack is exact too: B acked A's 100 bytes, then resets at the
        // sequence number A acked (B's end).
        let mut t = established();
        let data = seg(true, ACK | PSH, ISN_A + 1, ISN_B + 1, 502, 100);
        assert!(t.lookup(T0, &data).is_ok());
        let rst_b = seg(false, RST | ACK, ISN_B + 1, ISN_A + 101, 0, 0);
        assert_eq!(t.lookup(T0, &rst_b), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(state(&t, T0), "closed");
    }

    #[test]
    fn rst_ack_answers_a_syn() {
        let syn = seg(true, SYN, ISN_A, 0, 64240, 0);
        let mut t = table();
        t.insert(T0, &syn).unwrap();
        // Without ACK, or acking something else: not an answer to the SYN.
        assert_eq!(
            t.lookup(T0, &seg(false, RST, 0, 0, 0, 0)),
            Err(DropReason::TcpOutOfWindow)
        );
        assert_eq!(
            t.lookup(T0, &seg(false, RST | ACK, 0, ISN_A, 0, 0)),
            Err(DropReason::TcpOutOfWindow)
        );
        // A closed port (Linux: seq 0, ack ISN + 1).
        let rst = seg(false, RST | ACK, 0, ISN_A + 1, 0, 0);
        assert_eq!(t.lookup(T0, &rst), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(state(&t, T0), "closed");
        // The client tries again with the same port.
        let again = seg(true, SYN, ISN_A + 7, 0, 64240, 0);
        assert_eq!(t.lookup(at(1), &again), Ok(Lookup::Miss));
        t.insert(at(1), &again).unwrap();
        assert_eq!(state(&t, at(1)), "syn-sent");
    }

    #[test]
    fn syn_rules() {
        let mut t = table();
        let syn = seg(true, SYN, ISN_A, 0, 64240, 0);
        t.insert(T0, &syn).unwrap();
        // A retransmitted SYN is valid, also with a new ISN.
        assert_eq!(t.lookup(at(1), &syn), Ok(Lookup::Tracked(Dir::Original)));
        let new_isn = seg(true, SYN, ISN_A + 77, 0, 64240, 0);
        assert_eq!(
            t.lookup(at(2), &new_isn),
            Ok(Lookup::Tracked(Dir::Original))
        );
        // The SYN+ACK must ack the latest SYN.
        let stale = seg(false, SYN | ACK, ISN_B, ISN_A + 1, 65160, 0);
        assert_eq!(t.lookup(at(2), &stale), Err(DropReason::TcpOutOfWindow));
        // Data from either side before the SYN+ACK, a SYN from the responder.
        for bad in [
            seg(true, ACK, ISN_A + 78, ISN_B + 1, 502, 10),
            seg(false, ACK, ISN_B + 1, ISN_A + 78, 502, 10),
            seg(false, SYN, ISN_B, 0, 65160, 0),
        ] {
            assert_eq!(t.lookup(at(2), &bad), Err(DropReason::TcpOutOfWindow));
        }
        assert_eq!(state(&t, at(2)), "syn-sent");

        let mut t = established();
        // A new SYN on an established connection, a SYN+ACK from the initiator.
        for bad in [
            seg(true, SYN, 77, 0, 64240, 0),
            seg(false, SYN, 77, 0, 64240, 0),
            seg(true, SYN | ACK, ISN_A, ISN_B + 1, 64240, 0),
        ] {
            assert_eq!(t.lookup(at(1), &bad), Err(DropReason::TcpOutOfWindow));
        }
        // A retransmitted SYN+ACK (the last ACK was lost) is fine.
        let syn_ack = seg(false, SYN | ACK, ISN_B, ISN_A + 1, 65160, 0);
        assert_eq!(t.lookup(at(1), &syn_ack), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(state(&t, at(1)), "established");
    }

    #[test]
    fn a_rst_or_syn_ack_of_no_flow_is_not_picked_up() {
        let mut t = table();
        for flags in [SYN | ACK, RST, RST | ACK] {
            let f = seg(true, flags, ISN_A, ISN_B, 64240, 0);
            assert_eq!(t.lookup(T0, &f), Ok(Lookup::Miss));
            assert_eq!(t.insert(T0, &f), Err(DropReason::TcpNoFlow), "{flags:#x}");
        }
        assert_eq!(t.len(), 0);
        assert_eq!(t.stats(), ConntrackStats::default());
    }

    #[test]
    fn a_mid_stream_ack_is_picked_up_established_and_liberal() {
        let mut t = table();
        // A's segment of a connection the table never saw (a rule change made it
        // tracked, or it idled past its timeout).
        let data = seg(true, ACK | PSH, ISN_A + 5000, ISN_B + 7000, 502, 100);
        assert_eq!(t.lookup(T0, &data), Ok(Lookup::Miss));
        t.insert(T0, &data).unwrap();
        let f = only_flow(&t, T0);
        assert_eq!(
            (f.src, f.dst, f.state, f.expires_in, f.packets_original),
            (A, B, "established", Duration::from_secs(432_000), 1)
        );
        // B's answer, A's next segments: whatever the windows, as the window scale of
        // a connection seen mid-stream is unknown.
        let answer = seg(false, ACK | PSH, ISN_B + 7000, ISN_A + 5100, 3, 1000);
        assert_eq!(t.lookup(at(1), &answer), Ok(Lookup::Tracked(Dir::Reply)));
        let far = seg(true, ACK, ISN_A + 5100 + 2_000_000, ISN_B + 8000, 502, 1000);
        assert_eq!(t.lookup(at(1), &far), Ok(Lookup::Tracked(Dir::Original)));
        // A SYN does not restart it; an inexact RST does not close it.
        let syn = seg(true, SYN, 1, 0, 64240, 0);
        assert_eq!(t.lookup(at(2), &syn), Err(DropReason::TcpOutOfWindow));
        let inexact = seg(false, RST, ISN_B + 7000 + 5, 0, 0, 0);
        assert_eq!(t.lookup(at(2), &inexact), Err(DropReason::TcpOutOfWindow));
        assert_eq!(state(&t, at(2)), "established");
        // FINs close it as usual.
        let fin_a = seg(
            true,
            FIN | ACK,
            ISN_A + 2_005_100 + 1000,
            ISN_B + 8000,
            502,
            0,
        );
        assert!(t.lookup(at(3), &fin_a).is_ok());
        assert_eq!(state(&t, at(3)), "fin-wait");
        let fin_b = seg(false, FIN | ACK, ISN_B + 8000, ISN_A + 2_006_101, 502, 0);
        assert!(t.lookup(at(3), &fin_b).is_ok());
        let last = seg(true, ACK, ISN_A + 2_006_101, ISN_B + 8001, 502, 0);
        assert!(t.lookup(at(3), &last).is_ok());
        assert_eq!(state(&t, at(3)), "closed");
    }

    #[test]
    fn a_picked_up_connection_is_reset_only_at_the_exact_sequence() {
        // B, which the table has not seen send, resets at the sequence A acked.
        let mut t = table();
        t.insert(T0, &seg(true, ACK, ISN_A, ISN_B, 502, 0)).unwrap();
        for bad in [0, ISN_B + 1] {
            let rst = seg(false, RST, bad, 0, 0, 0);
            assert_eq!(t.lookup(T0, &rst), Err(DropReason::TcpOutOfWindow));
        }
        let rst = seg(false, RST, ISN_B, 0, 0, 0);
        assert_eq!(t.lookup(T0, &rst), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(state(&t, T0), "closed");
        // A resets at its own next sequence number.
        let mut t = table();
        t.insert(T0, &seg(true, ACK | PSH, ISN_A, ISN_B, 502, 10))
            .unwrap();
        let rst = seg(true, RST, ISN_A + 10, 0, 0, 0);
        assert_eq!(t.lookup(T0, &rst), Ok(Lookup::Tracked(Dir::Original)));
        // A FIN+ACK seen first is picked up half-closed.
        let mut t = table();
        t.insert(T0, &seg(false, FIN | ACK, ISN_B, ISN_A, 502, 0))
            .unwrap();
        let f = only_flow(&t, T0);
        assert_eq!(
            (f.src, f.state, f.expires_in),
            (B, "fin-wait", Duration::from_secs(120))
        );
    }

    #[test]
    fn an_established_connection_idle_past_its_timeout_is_picked_up_again() {
        let mut t = established();
        t.set_timeouts(ConntrackTimeouts {
            tcp_established: 60,
            ..ConntrackTimeouts::default()
        });
        let next = seg(true, ACK | PSH, ISN_A + 1, ISN_B + 1, 502, 10);
        assert_eq!(t.lookup(at(61), &next), Ok(Lookup::Miss));
        t.insert(at(61), &next).unwrap();
        assert_eq!(state(&t, at(61)), "established");
        assert_eq!(t.stats().expired, 1);
        let answer = seg(false, ACK, ISN_B + 1, ISN_A + 11, 509, 0);
        assert_eq!(t.lookup(at(62), &answer), Ok(Lookup::Tracked(Dir::Reply)));
    }

    #[test]
    fn window_scaling_applies_only_when_both_syns_carry_it() {
        // Port 1: both SYNs scale by 7; port 2: the SYN+ACK has no option.
        let mut t = table();
        handshake(&mut t, 1, Some(7), Some(7), 512);
        handshake(&mut t, 2, Some(7), None, 512);
        // B acks with window field 512: 65,536 bytes scaled, 512 not.
        for port in [1, 2] {
            let ack = seg_ports(false, port, ACK, ISN_B + 1, ISN_A + 1, 512, 0);
            assert_eq!(t.lookup(T0, &ack), Ok(Lookup::Tracked(Dir::Reply)));
        }
        // A segment 30,000 bytes into the window (earlier ones were lost).
        let far = |port| seg_ports(true, port, ACK, ISN_A + 1 + 30_000, ISN_B + 1, 502, 1000);
        assert_eq!(t.lookup(T0, &far(1)), Ok(Lookup::Tracked(Dir::Original)));
        assert_eq!(t.lookup(T0, &far(2)), Err(DropReason::TcpOutOfWindow));
        // The SYN's own window is never scaled: before B's first scaled ACK, A may send
        // only 512 bytes past the SYN+ACK's ack.
        let mut t = table();
        handshake(&mut t, 3, Some(7), Some(7), 512);
        assert_eq!(
            t.lookup(
                T0,
                &seg_ports(true, 3, ACK, ISN_A + 1 + 600, ISN_B + 1, 502, 10)
            ),
            Err(DropReason::TcpOutOfWindow)
        );
        assert!(
            t.lookup(
                T0,
                &seg_ports(true, 3, ACK, ISN_A + 1 + 500, ISN_B + 1, 502, 10)
            )
            .is_ok()
        );
    }

    #[test]
    fn a_bulk_transfer_with_retransmissions_stays_in_window() {
        let mut t = table();
        handshake(&mut t, 40000, Some(7), Some(7), 65535);
        // B's window field 502, scaled by 7: 64,256 bytes.
        const WINDOW: u32 = 502 << 7;
        const MSS: u32 = 1448;
        let (mut acked, mut next) = (ISN_A + 1, ISN_A + 1);
        for round in 0..500 {
            while next - acked + MSS <= WINDOW {
                let data = seg(true, ACK | PSH, next, ISN_B + 1, 502, MSS);
                assert_eq!(t.lookup(T0, &data), Ok(Lookup::Tracked(Dir::Original)));
                next += MSS;
            }
            // B acks half of what is outstanding; A retransmits the first unacked
            // segment and a segment B has already acked (a spurious retransmission).
            acked += (next - acked) / 2;
            let ack = seg(false, ACK, ISN_B + 1, acked, 502, 0);
            assert_eq!(
                t.lookup(T0, &ack),
                Ok(Lookup::Tracked(Dir::Reply)),
                "{round}"
            );
            for seq in [acked, acked - MSS] {
                let again = seg(true, ACK, seq, ISN_B + 1, 502, MSS);
                assert_eq!(t.lookup(T0, &again), Ok(Lookup::Tracked(Dir::Original)));
            }
            // A keepalive (one byte below the next sequence number).
            let keepalive = seg(true, ACK, next - 1, ISN_B + 1, 502, 0);
            assert_eq!(t.lookup(T0, &keepalive), Ok(Lookup::Tracked(Dir::Original)));
        }
        assert_eq!(state(&t, T0), "established");
        // One byte past B's window is refused.
        let past = seg(true, ACK, acked + WINDOW + 1, ISN_B + 1, 502, 1);
        assert_eq!(t.lookup(T0, &past), Err(DropReason::TcpOutOfWindow));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut t = table();
        let isn = u32::MAX - 10;
        t.insert(T0, &seg(true, SYN, isn, 0, 64240, 0)).unwrap();
        let syn_ack = seg(false, SYN | ACK, ISN_B, isn.wrapping_add(1), 65160, 0);
        assert!(t.lookup(T0, &syn_ack).is_ok());
        assert!(
            t.lookup(T0, &seg(true, ACK, isn.wrapping_add(1), ISN_B + 1, 502, 0))
                .is_ok()
        );
        let data = seg(true, ACK, isn.wrapping_add(1), ISN_B + 1, 502, 1000);
        assert_eq!(t.lookup(T0, &data), Ok(Lookup::Tracked(Dir::Original)));
        let ack = seg(false, ACK, ISN_B + 1, isn.wrapping_add(1001), 509, 0);
        assert_eq!(t.lookup(T0, &ack), Ok(Lookup::Tracked(Dir::Reply)));
        let rst = seg(true, RST, isn.wrapping_add(1001), 0, 0, 0);
        assert_eq!(t.lookup(T0, &rst), Ok(Lookup::Tracked(Dir::Original)));
        assert_eq!(state(&t, T0), "closed");
    }

    #[test]
    fn udp_one_way_expires_at_30_s() {
        let mut t = table();
        assert_eq!(t.lookup(T0, &udp(true)), Ok(Lookup::Miss));
        t.insert(T0, &udp(true)).unwrap();
        assert_eq!(state(&t, T0), "unreplied");
        assert_eq!(t.peek(at(29), &udp(false)), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(t.peek(at(30), &udp(false)), Ok(Lookup::Miss));
        assert_eq!(t.peek(at(30), &udp(true)), Ok(Lookup::Miss));
        assert_eq!(t.flows(at(30)).count(), 0);
        assert_eq!(t.expire(at(29)), 0);
        assert_eq!(t.len(), 1);
        assert_eq!(t.expire(at(30)), 1);
        assert_eq!(t.len(), 0);
        assert_eq!(t.stats().expired, 1);
        // A packet refreshes the timer.
        t.insert(T0, &udp(true)).unwrap();
        assert!(t.lookup(at(20), &udp(true)).is_ok());
        assert_eq!(t.expire(at(49)), 0);
        assert_eq!(t.expire(at(50)), 1);
    }

    #[test]
    fn one_udp_transaction_keeps_30_s_and_the_second_starts_a_stream() {
        let mut t = table();
        t.insert(T0, &udp(true)).unwrap();
        // One request and its response (even several responses): still 30 s.
        for _ in 0..2 {
            assert_eq!(
                t.lookup(at(1), &udp(false)),
                Ok(Lookup::Tracked(Dir::Reply))
            );
        }
        let f = only_flow(&t, at(1));
        assert_eq!(
            (f.state, f.expires_in, f.packets_original, f.packets_reply),
            ("replied", Duration::from_secs(30), 1, 2)
        );
        assert_eq!(t.peek(at(31), &udp(true)), Ok(Lookup::Miss));
        // A second request: a stream, 180 s from now on.
        assert_eq!(
            t.lookup(at(2), &udp(true)),
            Ok(Lookup::Tracked(Dir::Original))
        );
        let f = only_flow(&t, at(2));
        assert_eq!(
            (f.state, f.expires_in),
            ("stream", Duration::from_secs(180))
        );
        assert_eq!(
            t.peek(at(181), &udp(false)),
            Ok(Lookup::Tracked(Dir::Reply))
        );
        assert_eq!(t.peek(at(182), &udp(true)), Ok(Lookup::Miss));
        assert_eq!(t.expire(at(181)), 0);
        assert_eq!(t.expire(at(182)), 1);
        // Requests without a response in between stay one way: 30 s.
        let mut t = table();
        t.insert(T0, &udp(true)).unwrap();
        assert!(t.lookup(at(1), &udp(true)).is_ok());
        assert_eq!(
            (state(&t, at(1)), only_flow(&t, at(1)).expires_in),
            ("unreplied", Duration::from_secs(30))
        );
    }

    #[test]
    fn per_eni_timeouts_are_honoured_at_once() {
        let timeouts = ConntrackTimeouts {
            tcp_established: 60,
            udp_stream: 90,
            udp: 60,
        };
        let mut t = ConnTable::new(16, timeouts);
        t.insert(T0, &udp(true)).unwrap();
        assert_eq!(
            t.peek(at(59), &udp(true)),
            Ok(Lookup::Tracked(Dir::Original))
        );
        assert_eq!(t.peek(at(60), &udp(true)), Ok(Lookup::Miss));
        // Back to the defaults: the same flow now expires after 30 s.
        t.set_timeouts(ConntrackTimeouts::default());
        assert_eq!(t.peek(at(30), &udp(true)), Ok(Lookup::Miss));
        t.set_timeouts(timeouts);
        assert!(t.lookup(at(1), &udp(false)).is_ok());
        assert_eq!(
            t.peek(at(61), &udp(true)),
            Ok(Lookup::Miss),
            "one transaction"
        );
        assert!(t.lookup(at(1), &udp(true)).is_ok());
        assert_eq!(
            t.peek(at(90), &udp(true)),
            Ok(Lookup::Tracked(Dir::Original))
        );
        assert_eq!(t.peek(at(91), &udp(true)), Ok(Lookup::Miss));
    }

    #[test]
    fn tcp_established_timeout_default_and_configured() {
        let ack = seg(true, ACK, ISN_A + 1, ISN_B + 1, 502, 0);
        let t = established();
        assert_eq!(
            t.peek(at(431_999), &ack),
            Ok(Lookup::Tracked(Dir::Original))
        );
        assert_eq!(t.peek(at(432_000), &ack), Ok(Lookup::Miss));
        let mut t = established();
        t.set_timeouts(ConntrackTimeouts {
            tcp_established: 60,
            ..ConntrackTimeouts::default()
        });
        assert_eq!(t.peek(at(59), &ack), Ok(Lookup::Tracked(Dir::Original)));
        assert_eq!(t.peek(at(60), &ack), Ok(Lookup::Miss));
        assert_eq!(t.expire(at(60)), 1);
        // The handshake has its own 60 s, whatever the established timeout.
        let mut t = table();
        t.insert(T0, &seg(true, SYN, ISN_A, 0, 64240, 0)).unwrap();
        assert_eq!(t.expire(at(59)), 0);
        assert_eq!(t.expire(at(60)), 1);
    }

    #[test]
    fn icmp_echo_by_identifier() {
        let mut t = table();
        let request = echo(true, A, B, 0x1234);
        assert_eq!(t.lookup(T0, &request), Ok(Lookup::Miss));
        t.insert(T0, &request).unwrap();
        let f = only_flow(&t, T0);
        assert_eq!(
            (f.src, f.dst, f.src_port, f.dst_port, f.state, f.expires_in),
            (A, B, 0x1234, 0x1234, "unreplied", Duration::from_secs(30))
        );
        assert_eq!(
            t.lookup(T0, &echo(false, B, A, 0x1234)),
            Ok(Lookup::Tracked(Dir::Reply))
        );
        assert_eq!(state(&t, T0), "replied");
        assert_eq!(t.lookup(T0, &request), Ok(Lookup::Tracked(Dir::Original)));
        // Another identifier, or a reply in the request's direction: unsolicited.
        for bad in [echo(false, B, A, 0x1235), echo(false, A, B, 0x1234)] {
            assert_eq!(t.lookup(T0, &bad), Err(DropReason::IcmpUnsolicitedReply));
            assert_eq!(t.peek(T0, &bad), Err(DropReason::IcmpUnsolicitedReply));
            assert_eq!(t.insert(T0, &bad), Err(DropReason::IcmpUnsolicitedReply));
        }
        // B pinging A with the same identifier is a flow of its own.
        assert_eq!(t.lookup(T0, &echo(true, B, A, 0x1234)), Ok(Lookup::Miss));
        // 30 s idle.
        assert_eq!(
            t.peek(at(30), &echo(false, B, A, 0x1234)),
            Err(DropReason::IcmpUnsolicitedReply)
        );
        assert_eq!(t.expire(at(29)), 0);
        assert_eq!(t.expire(at(30)), 1);
    }

    #[test]
    fn icmp_errors_about_tracked_flows_are_related() {
        let mut t = table();
        t.insert(T0, &udp(true)).unwrap();
        // B's port unreachable about A's datagram.
        let about = unreachable(B, A, udp(true).tuple);
        assert_eq!(t.lookup(T0, &about), Ok(Lookup::Related));
        assert_eq!(t.peek(T0, &about), Ok(Lookup::Related));
        // A router's error about a reply of the flow (quoting B -> A).
        let r = Ipv4Addr::new(10, 0, 1, 1);
        assert_eq!(
            t.lookup(T0, &unreachable(r, B, udp(false).tuple)),
            Ok(Lookup::Related)
        );
        // Errors change nothing and create nothing.
        assert_eq!(state(&t, T0), "unreplied");
        assert_eq!(t.insert(T0, &about), Err(DropReason::IcmpErrorNoFlow));
        assert_eq!(t.len(), 1);
        // Another port, another protocol, an expired flow: no flow, so the rules judge.
        let mut other = udp(true).tuple;
        other.dst_port = 54;
        assert_eq!(t.lookup(T0, &unreachable(B, A, other)), Ok(Lookup::Miss));
        other.dst_port = 53;
        other.proto = PROTO_TCP;
        assert_eq!(t.lookup(T0, &unreachable(B, A, other)), Ok(Lookup::Miss));
        assert_eq!(t.peek(T0, &unreachable(B, A, other)), Ok(Lookup::Miss));
        assert_eq!(t.lookup(at(30), &about), Ok(Lookup::Miss));
        assert_eq!(t.insert(at(30), &about), Err(DropReason::IcmpErrorNoFlow));
        assert_eq!(t.len(), 1);

        // About an echo request, and about another protocol.
        let mut t = table();
        t.insert(T0, &echo(true, A, B, 9)).unwrap();
        let gre = facts(47, A, 0, B, 0, L4::Other);
        t.insert(T0, &gre).unwrap();
        let r = Ipv4Addr::new(10, 0, 12, 1);
        assert_eq!(
            t.lookup(T0, &unreachable(r, A, echo(true, A, B, 9).tuple)),
            Ok(Lookup::Related)
        );
        assert_eq!(
            t.lookup(T0, &unreachable(r, A, echo(true, A, B, 8).tuple)),
            Ok(Lookup::Miss)
        );
        assert_eq!(
            t.lookup(T0, &unreachable(r, A, gre.tuple)),
            Ok(Lookup::Related)
        );
    }

    #[test]
    fn other_protocols_by_address_pair() {
        let mut t = table();
        let gre = |src, dst| facts(47, src, 0, dst, 0, L4::Other);
        t.insert(T0, &gre(B, A)).unwrap();
        assert_eq!(t.lookup(at(1), &gre(A, B)), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(
            t.lookup(at(1), &gre(B, A)),
            Ok(Lookup::Tracked(Dir::Original))
        );
        // Another protocol between the same addresses is another flow.
        assert_eq!(
            t.lookup(at(1), &facts(50, A, 0, B, 0, L4::Other)),
            Ok(Lookup::Miss)
        );
        // ICMP other than echo: tracked by the address pair too, apart from echo.
        let ts = |src, dst, icmp_type| {
            facts(
                PROTO_ICMP,
                src,
                0,
                dst,
                0,
                L4::IcmpOther { icmp_type, code: 0 },
            )
        };
        t.insert(T0, &ts(A, B, 13)).unwrap();
        assert_eq!(t.lookup(T0, &ts(B, A, 14)), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(t.lookup(T0, &echo(true, A, B, 0)), Ok(Lookup::Miss));
        let f = t.flows(at(1)).find(|f| f.proto == 47).unwrap();
        assert_eq!(
            (f.src, f.dst, f.state, f.expires_in),
            (B, A, "replied", Duration::from_secs(600))
        );
        assert_eq!(t.expire(at(600)), 1);
        assert_eq!(t.expire(at(601)), 1);
    }

    #[test]
    fn flows_show_the_first_packets_direction() {
        // B (the larger address) opens to A.
        let mut t = table();
        let syn = seg(false, SYN, ISN_B, 0, 64240, 0);
        t.insert(T0, &syn).unwrap();
        let f = only_flow(&t, at(1));
        assert_eq!(
            f,
            FlowInfo {
                proto: PROTO_TCP,
                src: B,
                dst: A,
                src_port: 80,
                dst_port: 40000,
                state: "syn-sent",
                expires_in: Duration::from_secs(59),
                packets_original: 1,
                packets_reply: 0,
            }
        );
        let syn_ack = seg(true, SYN | ACK, ISN_A, ISN_B + 1, 64240, 0);
        assert_eq!(t.lookup(T0, &syn_ack), Ok(Lookup::Tracked(Dir::Reply)));
    }

    #[test]
    fn a_full_table_refuses_new_flows_and_keeps_every_tracked_one() {
        let mut t = ConnTable::new(2, ConntrackTimeouts::default());
        let flow = |port| facts(PROTO_UDP, A, port, B, 53, L4::Udp);
        let reply = |port| facts(PROTO_UDP, B, 53, A, port, L4::Udp);
        // Flow 1 unreplied (the oldest), flow 2 replied.
        t.insert(T0, &flow(1)).unwrap();
        t.insert(at(1), &flow(2)).unwrap();
        assert!(t.lookup(at(1), &reply(2)).is_ok());
        assert_eq!(t.insert(at(2), &flow(3)), Err(DropReason::ConntrackFull));
        assert_eq!(
            t.insert(at(2), &seg(true, SYN, 1, 0, 1, 0)),
            Err(DropReason::ConntrackFull)
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t.peek(at(2), &flow(1)), Ok(Lookup::Tracked(Dir::Original)));
        assert_eq!(t.peek(at(2), &flow(2)), Ok(Lookup::Tracked(Dir::Original)));
        assert_eq!(t.peek(at(2), &flow(3)), Ok(Lookup::Miss));
        assert_eq!(
            t.stats(),
            ConntrackStats {
                inserted: 2,
                expired: 0
            }
        );
        // Packets of tracked flows still pass, and so does a flow that is already in.
        assert!(t.lookup(at(3), &reply(1)).is_ok());
        assert_eq!(t.insert(at(3), &flow(1)), Ok(()));
        // Once a flow has expired, the table makes room by itself (a scan at most once
        // a second): flow 1 was last seen at 3 s, flow 2 at 1 s (30 s each).
        assert_eq!(t.insert(at(31), &flow(3)), Ok(()));
        assert_eq!(t.len(), 2);
        assert_eq!(t.stats().expired, 1);
        assert_eq!(t.peek(at(31), &flow(2)), Ok(Lookup::Miss));
        // A table of capacity 0 tracks nothing.
        let mut t = ConnTable::new(0, ConntrackTimeouts::default());
        assert_eq!(t.insert(T0, &flow(1)), Err(DropReason::ConntrackFull));
    }

    #[test]
    fn an_expired_flow_is_absent_and_its_slot_reused() {
        let mut t = table();
        t.insert(T0, &udp(true)).unwrap();
        assert_eq!(t.lookup(at(31), &udp(false)), Ok(Lookup::Miss));
        t.insert(at(31), &udp(false)).unwrap();
        let f = only_flow(&t, at(31));
        assert_eq!((f.src, f.dst, f.state), (B, A, "unreplied"));
        assert_eq!(t.stats().expired, 1);
        // Inserting a live flow again changes nothing.
        t.insert(at(32), &udp(true)).unwrap();
        assert_eq!(only_flow(&t, at(32)).src, B);
        assert_eq!(t.stats().inserted, 2);
    }

    #[test]
    fn peek_changes_nothing() {
        let mut t = table();
        t.insert(T0, &seg(true, SYN, ISN_A, 0, 64240, 0)).unwrap();
        t.insert(T0, &udp(true)).unwrap();
        let snapshot = |t: &ConnTable| {
            let mut v: Vec<FlowInfo> = t.flows(at(5)).collect();
            v.sort_by_key(|f| f.proto);
            (v, t.stats(), t.len())
        };
        let before = snapshot(&t);
        let syn_ack = seg(false, SYN | ACK, ISN_B, ISN_A + 1, 65160, 0);
        assert_eq!(t.peek(at(3), &syn_ack), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(t.peek(at(3), &udp(false)), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(snapshot(&t), before);
        // lookup does what peek said, and changes the flows.
        assert_eq!(t.lookup(at(3), &syn_ack), Ok(Lookup::Tracked(Dir::Reply)));
        assert_eq!(
            t.lookup(at(3), &udp(false)),
            Ok(Lookup::Tracked(Dir::Reply))
        );
        assert_ne!(snapshot(&t), before);
    }

    /// A random packet between a few endpoints, so that flows collide.
    fn any_facts() -> impl Strategy<Value = Facts> {
        let addr = prop::sample::select(vec![A, B, Ipv4Addr::new(10, 0, 1, 11)]);
        let port = prop::sample::select(vec![1u16, 2, 80]);
        let l4 = prop_oneof![
            (
                any::<u8>(),
                prop::sample::select(vec![0u32, 1, 1000, 1001, 5000, 5001, u32::MAX]),
                prop::sample::select(vec![0u32, 1, 1001, 5001, 6001]),
                any::<u16>(),
                0u32..2000,
                prop::option::of(0u8..20),
            )
                .prop_map(|(flags, seq, ack, window, payload_len, wscale)| {
                    L4::Tcp(TcpFacts {
                        flags: flags & 0x3f,
                        seq,
                        ack,
                        window,
                        payload_len,
                        wscale,
                    })
                }),
            Just(L4::Udp),
            (any::<bool>(), 0u16..3).prop_map(|(request, id)| L4::IcmpEcho { request, id }),
            (0u8..20).prop_map(|icmp_type| L4::IcmpOther { icmp_type, code: 0 }),
            Just(L4::Other),
        ];
        (addr.clone(), port.clone(), addr, port, l4).prop_map(|(src, sp, dst, dp, l4)| {
            let proto = match l4 {
                L4::Tcp(_) => PROTO_TCP,
                L4::Udp => PROTO_UDP,
                L4::Other => 47,
                _ => PROTO_ICMP,
            };
            let (sp, dp) = match l4 {
                L4::Tcp(_) | L4::Udp => (sp, dp),
                L4::IcmpEcho { id, .. } => (id, id),
                _ => (0, 0),
            };
            facts(proto, src, sp, dst, dp, l4)
        })
    }

    proptest! {
        /// Whatever the packets and times (even going backwards), the table never
        /// panics, never holds more than its capacity, and peek agrees with lookup.
        #[test]
        fn never_exceeds_capacity_nor_panics(
            capacity in 0usize..6,
            ops in prop::collection::vec((any_facts(), 0u64..400, 0u8..10), 1..200),
        ) {
            let mut t = ConnTable::new(capacity, ConntrackTimeouts::default());
            for (f, secs, op) in ops {
                let now = Time::from_secs(secs);
                match op {
                    0 => { t.expire(now); }
                    1 => { let _ = t.insert(now, &f); }
                    _ => {
                        let peeked = t.peek(now, &f);
                        let looked = t.lookup(now, &f);
                        prop_assert_eq!(peeked, looked);
                        if looked == Ok(Lookup::Miss) {
                            let _ = t.insert(now, &f);
                        }
                        // Related errors about the packet's own tuple never fail badly.
                        let e = unreachable(f.tuple.dst, f.tuple.src, f.tuple);
                        let _ = t.lookup(now, &e);
                    }
                }
                prop_assert!(t.len() <= capacity);
                prop_assert!(t.flows(now).count() <= capacity);
            }
        }
    }

    #[test]
    fn the_flow_cache_knows_a_direction_in_one_generation() {
        let mut t = table();
        let udp = |from_a: bool| {
            let (src, sp, dst, dp) = if from_a {
                (A, 40000, B, 53)
            } else {
                (B, 53, A, 40000)
            };
            facts(17, src, sp, dst, dp, L4::Udp)
        };
        t.insert(T0, &udp(true)).unwrap();
        assert_eq!(
            t.lookup_cached(T0, &udp(true), 5),
            (Ok(Lookup::Tracked(Dir::Original)), false)
        );
        t.remember_nacls(T0, &udp(true), 5);
        assert!(t.lookup_cached(T0, &udp(true), 5).1);
        assert!(!t.lookup_cached(T0, &udp(true), 6).1, "another generation");
        assert!(
            !t.lookup_cached(T0, &udp(false), 5).1,
            "the other direction"
        );
        assert!(!t.lookup_cached(T0, &udp(true), 0).1, "generation 0");
        // Other ICMP messages share a flow whatever their type: never cached.
        let other = |icmp_type| facts(1, A, 0, B, 0, L4::IcmpOther { icmp_type, code: 0 });
        t.insert(T0, &other(13)).unwrap();
        t.remember_nacls(T0, &other(13), 5);
        assert_eq!(
            t.lookup_cached(T0, &other(15), 5),
            (Ok(Lookup::Tracked(Dir::Original)), false)
        );
        // An expired flow is gone, cache and all.
        assert_eq!(
            t.lookup_cached(at(181), &udp(true), 5),
            (Ok(Lookup::Miss), false)
        );
    }
}
