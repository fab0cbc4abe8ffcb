//! The pipeline: one packet from an ENI and the current time in, one [`Verdict`] out.
//! No sockets, threads or clock; the caller does the I/O (see docs/architecture.md).
//!
//! The stages, in order (each its own module):
//!
//!  1. `sanity`        - IPv4 header checks; trims trailing bytes.
//!  2. `antispoof`     - source/destination check, source half.
//!  3. `destination`   - broadcast, multicast, martian, reserved and link-local destinations.
//!  4. `router`        - the VPC router's own addresses: answer ICMP echo.
//!  5. `route`         - the source subnet's route table, longest prefix match.
//!  6. `deliver`       - the egress ENI; blackholes; source/destination check, dest half.
//!  7. `ttl`           - TTL 0 is never forwarded: ICMP time exceeded.
//!  8. `l4`            - the transport header: checked, reduced to a 5-tuple and flags.
//!  9. `sg egress`     - the sending ENI: its connection table, else its groups' egress rules.
//! 10. `nacl outbound` - the source subnet's network ACL, if the packet leaves the subnet.
//! 11. `nacl inbound`  - the destination subnet's network ACL, if it enters another subnet.
//! 12. `sg ingress`    - the receiving ENI: its connection table, else its ingress rules.
//!
//! This is the order a packet meets them in AWS: the sender's security group, the
//! subnet boundaries, the receiver's security group. Flow logs record each interface's
//! view: the sender's ACCEPT or REJECT after stages 9-10, the receiver's after 11-12.
//! A packet whose route leads to a gateway hops from place to place (`Net::walk`), each
//! hop through stages 9-12 between the two places; each kind of gateway is a module of
//! `hop` behind one contract.
//!
//! The dataplane is two halves: `Net`, the compiled configuration, read-only while
//! packets flow and replaced whole by `apply`; and `State`, what packets change
//! (connection tables, the gateways' state, flow-log accumulators, counters). A packet
//! walks with the state by exclusive reference (`Mode::Live`); `vpcctl trace` walks
//! with it by shared reference (`Mode::Trace`), so a trace cannot change anything.

use std::net::Ipv4Addr;
use std::sync::Arc;

use vpc_config::{
    EniId, HostId, NatGatewayId, RouteTableId, RuleAction, SubnetId, TableLimits, Topology,
    addressing,
};

use crate::conntrack::{ConntrackStats, FlowInfo, Lookup};
use crate::counters::{Counters, NatMetrics};
use crate::destination::Dst;
use crate::direction::Direction;
use crate::flowlog::{Action, FlowRecord, Interface, PacketRecord, TrafficPath};
use crate::frag::DatagramKey;
use crate::hop::transit_gateway::TgwMetrics;
use crate::hop::{self, Fabric, Gateway, Hop, InFlight, Place};
use crate::icmp_error;
use crate::l4::{Facts, L4};
use crate::nacl::Nacls;
use crate::nat::NatMapping;
use crate::nat::rewrite::{self, End};
use crate::offload::{self, Shape};
use crate::packet::{Csum, Gso, Offload, PacketBuf};
use crate::ports::Ports;
use crate::route::{Route, RouteState};
use crate::sanity::Trimmed;
use crate::sg::{SecurityGroups, SgDecision};
use crate::state::{State, Writer};
use crate::tables::Tables;
use crate::time::Time;
use crate::trace::{self, Probe, Step, Trace, Tracking};
use crate::verdict::{DropReason, Port, Reply, Verdict};
use crate::wire::fragment;
use crate::wire::ipv4::Ipv4Header;
use crate::{antispoof, destination, l4, nacl, router, sanity, services, ttl};

/// The most hops (between ENIs, gateways and the internet) a packet may take; no real
/// path takes more than 11 (a transit gateway attachment, the gateway, a peer gateway,
/// an attachment of it, a NAT gateway, the internet gateway, the internet, another
/// VPC's internet gateway, and the ENI it reaches, ...).
const MAX_HOPS: usize = 12;

/// Sizes of the dataplane's bounded tables: the configuration's `[limits]` section
/// (`vpc_config::TableLimits`, with its defaults).
pub type Limits = TableLimits;

/// What the flow cache knows about the network ACLs a packet crosses after leaving an
/// ENI (see `Net::firewall`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NaclCache {
    /// Nothing to know: the packet is not of a flow the ENI tracked before it (a first
    /// packet, an untracked flow, an ICMP error, or not from an ENI).
    None,
    /// A tracked flow whose ACL decision for this direction is not cached yet.
    Unknown,
    /// They allowed this direction of the flow in the current configuration.
    Allowed,
}

/// The compiled configuration: read-only while packets flow.
#[derive(Debug, Clone)]
pub(crate) struct Net {
    pub tables: Tables,
    pub sgs: SecurityGroups,
    /// Every network ACL's entries, compiled.
    pub nacls: Nacls,
    /// The configuration's generation, from 1, counting [`Dataplane::apply`]: what the
    /// flow cache's network-ACL decisions are valid for.
    pub generation: u32,
    /// The configuration it runs: subnets' network ACLs are read from it directly, and
    /// `apply` compares against it.
    pub topology: Topology,
    pub limits: Limits,
    /// The gateways' compiled configuration (transit gateways' route tables).
    pub fabric: Fabric,
    /// Nanoseconds from the Unix epoch to [`Time::ZERO`]: the wall clock the time
    /// service answers with is this plus the pipeline's time (0 unless set).
    pub wall_epoch: u64,
    /// Every port's slot: the services port's client addresses name them (`services`).
    pub ports: Arc<Ports>,
}

/// The packets and bytes forwarded packet `pkt` (of offload shape `shape`), marked to
/// be fragmented to `mtu`, is written as. A packet that fits is written as it is (the
/// mark is removed); one that does not has its partial transport checksum completed
/// first, since fragments cannot carry one (the checksum covers the whole datagram).
/// Out of line: only packets leaving through an internet gateway get here.
#[cold]
#[inline(never)]
fn fragments(pkt: &mut PacketBuf, mtu: u16, shape: Shape) -> (u64, u64) {
    let mtu = usize::from(mtu);
    if pkt.len() > mtu {
        if let Csum::Partial { start, offset } = pkt.offload().csum {
            offload::complete_checksum(pkt.as_bytes_mut(), start, offset);
            pkt.set_offload(Offload::default());
        }
        if let Some(f) = fragment::Fragments::new(pkt.as_bytes(), mtu) {
            let (n, bytes) = f.wire();
            return (n as u64, bytes as u64);
        }
    }
    // It fits (or, which cannot be, the MTU leaves no room for 8 bytes after a header).
    pkt.set_fragment_mtu(None);
    shape.wire(pkt.len())
}

/// How a walk holds the state: a packet changes it (`Live`, through a [`Writer`] that
/// also carries its thread's counters), a trace only reads it (`Trace`) and records
/// each stage's decision.
pub(crate) enum Mode<'a, 'w> {
    Live(&'w mut Writer<'a>),
    Trace {
        state: &'a State,
        steps: &'w mut Vec<Step>,
    },
}

impl<'a, 'w> Mode<'a, 'w> {
    /// Records a stage's decision (a trace's only effect). Always inlined: for a
    /// packet it is one test, and the decision it is given is never built.
    #[inline(always)]
    pub(crate) fn step(&mut self, step: Step) {
        if let Mode::Trace { steps, .. } = self {
            steps.push(step);
        }
    }

    /// The state, to read.
    pub(crate) fn state(&self) -> &'a State {
        match self {
            Mode::Live(w) => w.state(),
            Mode::Trace { state, .. } => state,
        }
    }

    /// The state to change, and the counters: a packet's only.
    pub(crate) fn live_state(&mut self) -> Option<&mut Writer<'a>> {
        match self {
            Mode::Live(w) => Some(w),
            Mode::Trace { .. } => None,
        }
    }

    /// A trace's state; `None` for a packet.
    pub(crate) fn trace_state(&self) -> Option<&'a State> {
        match self {
            Mode::Live(_) => None,
            Mode::Trace { state, .. } => Some(state),
        }
    }

    /// The identification field of a packet the dataplane originates: the next number
    /// for a packet; 0 for a trace, which takes none.
    pub(crate) fn ident(&mut self) -> u16 {
        match self {
            Mode::Live(w) => w.ident(),
            Mode::Trace { .. } => 0,
        }
    }
}

/// One configuration and the state packets change under it: what a forwarding thread
/// holds while it judges a batch. The configuration part never changes; a new
/// configuration is a new snapshot (`next`), sharing the state that lives on. Its
/// methods read; packets go through [`Snapshot::process`] with a thread's counters.
#[derive(Debug)]
pub struct Snapshot {
    net: Net,
    state: State,
    /// Every port's slot (`ports.rs`): shared with the next snapshot while the ports
    /// stay the same.
    ports: Arc<Ports>,
}

impl Snapshot {
    /// A snapshot for `topology` with `limits`, every port up, time `now` the start of
    /// the flow logs' first aggregation interval.
    pub fn new(topology: &Topology, limits: Limits, now: Time) -> Self {
        let ports = Arc::new(Ports::new(topology));
        Snapshot {
            net: Net::compile(topology, limits, 1, &ports),
            state: State::new(topology, &limits, now),
            ports,
        }
    }

    /// The same snapshot answering the time service with the wall clock: `unix_nanos`
    /// nanoseconds after the Unix epoch at [`Time::ZERO`] (kept by every next
    /// snapshot).
    pub fn with_wall_clock(mut self, unix_nanos: u64) -> Snapshot {
        self.net.wall_epoch = unix_nanos;
        self
    }

    /// Counters for this snapshot's ports, all zero: one set per forwarding thread.
    /// They follow later snapshots' ports by themselves (see [`Counters`]).
    pub fn new_counters(&self) -> Counters {
        Counters::for_ports(&self.ports)
    }

    /// Every port's slot: what the daemon keeps per port is found by it, and it stays
    /// with the port across changes (`ports.rs`).
    pub fn ports(&self) -> &Arc<Ports> {
        &self.ports
    }

    /// The snapshot for a changed configuration `topology` (the rule-change semantics
    /// of AWS): routes, network ACLs and security-group
    /// rules take effect with the next packet; tracked flows are kept (so removing a
    /// security-group rule leaves tracked flows running until they time out, while
    /// untracked flows, judged per packet, stop at once); changed connection-tracking
    /// timeouts apply to existing flows. If the flow logs changed they start over; what
    /// they had accumulated is appended to `flushed` (records of flow logs that were
    /// removed are dropped). Gateways keep their state where AWS does (a NAT gateway its
    /// translations unless deleted or changed); internet gateway attachments and
    /// Elastic IP associations apply to the next packet. Instances and internet hosts
    /// may come and go: a port that stays (`ports.rs`) keeps its connection table, link
    /// state and counters; a new one starts with empty ones (and up); a removed one's
    /// are dropped with it. When ports come or go, fragments of datagrams in flight
    /// are judged again (as first fragments they are dropped) and the flow logs start
    /// a new interval.
    pub fn next(&self, topology: &Topology, now: Time, flushed: &mut Vec<FlowRecord>) -> Snapshot {
        self.next_with(topology, self.ports_after(topology), now, flushed)
    }

    /// The ports of `topology` after this snapshot's (`Ports::next`): this snapshot's
    /// own `Arc` if they are the same.
    pub fn ports_after(&self, topology: &Topology) -> Arc<Ports> {
        match self.ports.next(topology) {
            None => Arc::clone(&self.ports),
            Some(p) => Arc::new(p),
        }
    }

    /// [`Snapshot::next`] with `topology`'s ports already worked out
    /// ([`Snapshot::ports_after`]).
    pub fn next_with(
        &self,
        topology: &Topology,
        ports: Arc<Ports>,
        now: Time,
        flushed: &mut Vec<FlowRecord>,
    ) -> Snapshot {
        let old = &self.net.topology;
        let moved = !Arc::ptr_eq(&ports, &self.ports);
        // A deleted NAT gateway's interface is no longer covered; added or removed
        // ports move the ENIs' indexes.
        let logs_changed = moved
            || topology.flow_logs != old.flow_logs
            || topology.nat_gateways != old.nat_gateways;
        if logs_changed && let Some(mut logs) = self.state.flow_logs() {
            // Records of the old accumulators name flow logs, ENIs and NAT gateways by
            // their old index: keep those of flow logs and interfaces that still exist
            // under their new index (an interface removed with its instance has no
            // record left to write).
            let mut records = Vec::new();
            logs.flush_all(now, &mut records);
            let eni_before = ports.eni_before(&self.ports);
            flushed.extend(records.into_iter().filter_map(|mut r| {
                let name = &old.flow_logs.get(r.log.index())?.name;
                let new = topology.flow_logs.iter().position(|l| &l.name == name)?;
                r.log = vpc_config::FlowLogId(new as u32);
                r.interface = match r.interface {
                    Interface::Eni(e) => {
                        Interface::Eni(EniId(eni_before.iter().position(|&b| b == Some(e))? as u32))
                    }
                    Interface::NatGateway(n) => {
                        let name = &old.nat_gateways.get(n.index())?.name;
                        let new = topology.nat_gateways.iter().position(|g| &g.name == name)?;
                        Interface::NatGateway(vpc_config::NatGatewayId(new as u32))
                    }
                };
                Some(r)
            }));
        }
        let limits = self.net.limits;
        Snapshot {
            state: self.state.next(
                (old, topology),
                (&self.ports, &ports),
                &limits,
                now,
                logs_changed,
            ),
            net: Net {
                wall_epoch: self.net.wall_epoch,
                ..Net::compile(
                    topology,
                    limits,
                    self.net.generation.wrapping_add(1).max(1),
                    &ports,
                )
            },
            ports,
        }
    }

    /// Processes one packet read from port `from` at time `now`, counting in
    /// `counters`. The verdict says what to do with `pkt`, which may have been
    /// rewritten (trimmed, or replaced by a reply).
    pub fn process(
        &self,
        counters: &mut Counters,
        now: Time,
        from: impl Into<Port>,
        pkt: &mut PacketBuf,
    ) -> Verdict {
        counters.follow(&self.ports);
        let mut writer = Writer::new(&self.state, counters);
        self.judge(&mut writer, now, from.into(), pkt)
    }

    /// Processes a batch of packets read from port `from`; `verdicts` is cleared and
    /// receives one verdict per packet, in order; `copies` is cleared and receives, for
    /// each multicast verdict, (its packet's index, a member to send a copy to). The
    /// batch keeps the locks it takes until it ends (see `state.rs`).
    pub fn process_batch(
        &self,
        counters: &mut Counters,
        now: Time,
        from: impl Into<Port> + Copy,
        pkts: &mut [PacketBuf],
        (verdicts, copies): (&mut Vec<Verdict>, &mut Vec<(usize, Port)>),
    ) {
        verdicts.clear();
        copies.clear();
        counters.follow(&self.ports);
        let mut writer = Writer::new(&self.state, counters);
        for (i, p) in pkts.iter_mut().enumerate() {
            let v = self.judge(&mut writer, now, from.into(), p);
            if let Verdict::Multicast { group, members } = v {
                copies.extend(self.members(group, members).map(|m| (i, Port::Eni(m))));
            }
            verdicts.push(v);
        }
    }

    /// A batch: packets judged one by one (as they arrive) with this snapshot, counting
    /// in `counters`, keeping the locks they take until the batch is dropped (see
    /// `state.rs`). What [`Snapshot::process_batch`] does for packets in one slice.
    pub fn batch<'s>(&'s self, counters: &'s mut Counters) -> Batch<'s> {
        counters.follow(&self.ports);
        Batch {
            snapshot: self,
            writer: Writer::new(&self.state, counters),
        }
    }

    /// One packet through the stages with the batch's writer.
    #[inline]
    fn judge(&self, w: &mut Writer<'_>, now: Time, from: Port, pkt: &mut PacketBuf) -> Verdict {
        let len_in = pkt.len();
        let mut shape = Shape::PLAIN;
        pkt.set_fragment_mtu(None);
        let mut mode = Mode::Live(w);
        let verdict = match self.net.stages(now, from, pkt, &mut shape, &mut mode) {
            Ok(v) | Err(v) => v,
        };
        let out = match verdict {
            Verdict::Reply { .. } => {
                // The buffer holds a packet of the pipeline's own, checksums complete.
                pkt.set_offload(Offload::default());
                pkt.set_fragment_mtu(None);
                (1, pkt.len() as u64)
            }
            Verdict::Forward { .. } => match pkt.fragment_mtu() {
                None => shape.wire(pkt.len()),
                Some(mtu) => fragments(pkt, mtu, shape),
            },
            // Each member's copy is counted below.
            Verdict::Multicast { .. } | Verdict::Drop(_) => (0, 0),
        };
        w.counters.record(from, shape.wire(len_in), verdict, out);
        if let Verdict::Multicast { group, members } = verdict {
            let copy = shape.wire(pkt.len());
            for m in self.members(group, members) {
                w.counters.record_tx(Port::Eni(m), copy);
            }
        }
        verdict
    }

    /// The members of multicast group `group` that bit mask `members` selects (a
    /// [`Verdict::Multicast`]'s). Read from this snapshot's groups, the ones that
    /// decided the verdict; IGMP joins after it may shift them, which at worst sends a
    /// copy of that one datagram to a member that just joined or left.
    fn members(
        &self,
        group: hop::multicast::GroupId,
        members: u32,
    ) -> impl Iterator<Item = EniId> + use<> {
        let groups = self.state.multicast();
        let all = groups.members(group);
        let mut chosen = [EniId(0); vpc_config::MAX_GROUP_MEMBERS];
        let mut n = 0;
        for (i, &m) in all.iter().enumerate() {
            if members & (1 << i) != 0 {
                chosen[n] = m;
                n += 1;
            }
        }
        chosen.into_iter().take(n)
    }

    /// Walks a probe from port `from` (an ENI or an internet host) to `dst` through the
    /// live configuration and state and returns every stage's decision. It holds the
    /// state by shared reference and has no writer: it changes nothing.
    pub fn trace(&self, now: Time, from: impl Into<Port>, dst: Ipv4Addr, probe: Probe) -> Trace {
        self.trace_from(now, from.into(), None, dst, probe)
    }

    /// [`Snapshot::trace`] with the probe's source `src` if given: a VPN gateway's
    /// far end sends from the sites' addresses (other ports from their own, which is
    /// what they send from if `src` is `None`).
    pub fn trace_from(
        &self,
        now: Time,
        from: Port,
        src: Option<Ipv4Addr>,
        dst: Ipv4Addr,
        probe: Probe,
    ) -> Trace {
        let own = match from {
            Port::Eni(e) => self.net.tables.eni(e).ip,
            Port::Host(h) => self.net.tables.host_addrs[h.index()],
            Port::Services => addressing::DNS_LINK_LOCAL,
        };
        let src = src.unwrap_or(own);
        let mut pkt = trace::build(src, dst, probe);
        let mut steps = Vec::new();
        let mut shape = Shape::PLAIN;
        let mode = &mut Mode::Trace {
            state: &self.state,
            steps: &mut steps,
        };
        let verdict = match self.net.stages(now, from, &mut pkt, &mut shape, mode) {
            Ok(v) | Err(v) => v,
        };
        Trace {
            src,
            steps,
            verdict,
        }
    }

    /// Removes flows and gateway state (NAT translations, ...) idle past their
    /// timeouts; returns how many. The daemon calls this about once a second.
    pub fn expire(&self, now: Time) -> usize {
        self.state.expire(now)
    }

    /// Appends the flow-log records of every aggregation interval that has ended by
    /// `now`.
    pub fn flush_flow_logs(&self, now: Time, out: &mut Vec<FlowRecord>) {
        if let Some(mut logs) = self.state.flow_logs() {
            logs.flush_due(now, out);
        }
    }

    /// Appends every flow-log record accumulated so far (at shutdown).
    pub fn flush_all_flow_logs(&self, now: Time, out: &mut Vec<FlowRecord>) {
        if let Some(mut logs) = self.state.flow_logs() {
            logs.flush_all(now, out);
        }
    }

    /// The flows ENI `eni` tracks.
    pub fn flows(&self, eni: EniId, now: Time) -> impl Iterator<Item = FlowInfo> + use<> {
        let flows: Vec<FlowInfo> = self.state.conntrack(eni).flows(now).collect();
        flows.into_iter()
    }

    /// ENI `eni`'s connection-table counters and current size.
    pub fn conntrack_stats(&self, eni: EniId) -> (ConntrackStats, usize) {
        let t = self.state.conntrack(eni);
        (t.stats(), t.len())
    }

    /// Marks ENI `eni`'s device up or down. Packets to a down ENI are dropped
    /// (`eni-down`), and routes targeting it turn `blackhole`.
    pub fn set_link(&self, eni: EniId, up: bool) {
        self.state.set_link(eni, up);
    }

    /// Marks internet host `host`'s device up or down. Packets to a down host are
    /// dropped (`eni-down`).
    pub fn set_host_link(&self, host: HostId, up: bool) {
        self.state.set_host_link(host, up);
    }

    /// The configuration it runs.
    pub fn topology(&self) -> &Topology {
        &self.net.topology
    }

    /// NAT gateway `nat`'s CloudWatch metrics (zero for a deleted one).
    pub fn nat_metrics(&self, nat: NatGatewayId) -> NatMetrics {
        self.state.nat(nat).map_or(NatMetrics::default(), |t| {
            let mut m = t.metrics;
            m.active_connection_count = t.active_tcp() as u64;
            m
        })
    }

    /// NAT gateway `nat`'s translations.
    pub fn nat_mappings(&self, nat: NatGatewayId, now: Time) -> Vec<NatMapping> {
        self.state
            .nat(nat)
            .map(|t| t.mappings(now).collect())
            .unwrap_or_default()
    }

    /// The members of multicast group `group` (a [`Verdict::Multicast`]'s bit `i` is
    /// the `i`-th).
    pub fn multicast_members(&self, group: hop::multicast::GroupId) -> Vec<EniId> {
        self.state.multicast().members(group).to_vec()
    }

    /// Every multicast group: its domain, address, members, and how many of them
    /// (the first) are registered rather than joined with IGMP.
    pub fn multicast_groups(
        &self,
    ) -> Vec<(vpc_config::MulticastDomainId, Ipv4Addr, Vec<EniId>, usize)> {
        self.state
            .multicast()
            .all()
            .map(|(d, a, m, r)| (d, a, m.to_vec(), r))
            .collect()
    }

    /// The MTU of VPC peering connection `pcx`: 9001 bytes within a region, 1500
    /// across regions.
    pub fn vpc_peering_mtu(&self, pcx: vpc_config::VpcPeeringConnectionId) -> u32 {
        hop::peering::mtu_of(&self.net.topology, pcx) as u32
    }

    /// Transit gateway `tgw`'s CloudWatch metrics.
    pub fn tgw_metrics(&self, tgw: vpc_config::TransitGatewayId) -> TgwMetrics {
        self.state.tgw(tgw)
    }

    /// Gateway endpoint `e`'s metrics, its active flows at `now` counted.
    pub fn endpoint_metrics(
        &self,
        e: vpc_config::VpcEndpointId,
        now: Time,
    ) -> hop::vpc_endpoint::EndpointMetrics {
        self.state.endpoint_flows().metrics(e, now)
    }

    /// Whether ENI `eni` is up.
    pub fn link_up(&self, eni: EniId) -> bool {
        self.state.link_up().up(eni.index())
    }

    /// The routes of route table `table` as the dataplane holds them, with their state.
    pub fn routes(&self, table: RouteTableId) -> impl Iterator<Item = (Route, RouteState)> + '_ {
        let t = &self.net.topology;
        let vpc = t.route_table(table).vpc;
        self.net.tables.route_tables[table.index()]
            .routes()
            .map(move |r| {
                let state = if hop::gone(t, self.state.link_up(), vpc, r.target) {
                    RouteState::Blackhole
                } else {
                    RouteState::Active
                };
                (*r, state)
            })
    }
}

/// Packets judged one by one with one snapshot, holding the locks they take until it is
/// dropped ([`Snapshot::batch`]). Drop it before waiting for more packets.
#[derive(Debug)]
pub struct Batch<'s> {
    snapshot: &'s Snapshot,
    writer: Writer<'s>,
}

impl Batch<'_> {
    /// Processes one packet read from port `from` at time `now` ([`Snapshot::process`]).
    #[inline]
    pub fn process(&mut self, now: Time, from: impl Into<Port>, pkt: &mut PacketBuf) -> Verdict {
        self.snapshot.judge(&mut self.writer, now, from.into(), pkt)
    }

    /// The batch's counters, for what a port's link layer handled before the pipeline
    /// (`Counters::record_link`: an ARP request answered, a frame dropped).
    pub fn counters(&mut self) -> &mut Counters {
        self.writer.counters
    }

    /// The members a [`Verdict::Multicast`] of this batch sends copies to.
    pub fn members(
        &self,
        group: hop::multicast::GroupId,
        members: u32,
    ) -> impl Iterator<Item = EniId> + use<> {
        self.snapshot.members(group, members)
    }
}

/// The VPC dataplane for one thread: a [`Snapshot`] and one set of counters (tests,
/// benchmarks and tools; the daemon shares an [`crate::Engine`] between threads).
/// Its reading methods are the snapshot's.
#[derive(Debug)]
pub struct Dataplane {
    pub(crate) snapshot: Snapshot,
    counters: Counters,
    /// Flow-log records taken out of accumulators that a configuration change replaced,
    /// handed out by the next flush.
    pending_records: Vec<FlowRecord>,
    /// Multicast copies of the last batch (not handed out: the counters count them).
    copies: Vec<(usize, Port)>,
}

impl std::ops::Deref for Dataplane {
    type Target = Snapshot;
    fn deref(&self) -> &Snapshot {
        &self.snapshot
    }
}

impl Dataplane {
    /// A dataplane for `topology` with the table sizes of its `[limits]` section, every
    /// ENI up, time zero the start of the flow logs' first aggregation interval.
    pub fn new(topology: &Topology) -> Self {
        Self::with_limits(topology, topology.limits, Time::ZERO)
    }

    /// A dataplane for `topology` with `limits`, every ENI up.
    pub fn with_limits(topology: &Topology, limits: Limits, now: Time) -> Self {
        let snapshot = Snapshot::new(topology, limits, now);
        Dataplane {
            counters: snapshot.new_counters(),
            snapshot,
            pending_records: Vec::new(),
            copies: Vec::new(),
        }
    }

    /// Sets the wall clock the time service answers with: `unix_nanos` nanoseconds
    /// after the Unix epoch at [`Time::ZERO`].
    pub fn set_wall_clock(&mut self, unix_nanos: u64) {
        self.snapshot.net.wall_epoch = unix_nanos;
    }

    /// Applies a changed configuration ([`Snapshot::next`]).
    pub fn apply(&mut self, topology: &Topology, now: Time) {
        self.snapshot = self.snapshot.next(topology, now, &mut self.pending_records);
    }

    /// Processes one packet read from port `from` at time `now`.
    #[inline]
    pub fn process(&mut self, now: Time, from: impl Into<Port>, pkt: &mut PacketBuf) -> Verdict {
        self.snapshot.process(&mut self.counters, now, from, pkt)
    }

    /// Processes a batch of packets read from port `from` (taking each lock once for
    /// the batch, as the daemon does); `verdicts` is cleared and receives one verdict
    /// per packet, in order.
    pub fn process_batch(
        &mut self,
        now: Time,
        from: impl Into<Port> + Copy,
        pkts: &mut [PacketBuf],
        verdicts: &mut Vec<Verdict>,
    ) {
        let copies = &mut self.copies;
        self.snapshot
            .process_batch(&mut self.counters, now, from, pkts, (verdicts, copies));
    }

    /// Appends the flow-log records of every aggregation interval that has ended by
    /// `now` (and records left by a configuration change).
    pub fn flush_flow_logs(&mut self, now: Time, out: &mut Vec<FlowRecord>) {
        out.append(&mut self.pending_records);
        self.snapshot.flush_flow_logs(now, out);
    }

    /// Appends every flow-log record accumulated so far (at shutdown).
    pub fn flush_all_flow_logs(&mut self, now: Time, out: &mut Vec<FlowRecord>) {
        out.append(&mut self.pending_records);
        self.snapshot.flush_all_flow_logs(now, out);
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
}

impl Net {
    /// `topology` compiled, as configuration generation `generation`.
    fn compile(topology: &Topology, limits: Limits, generation: u32, ports: &Arc<Ports>) -> Net {
        Net {
            tables: Tables::compile(topology),
            sgs: SecurityGroups::compile(topology),
            nacls: Nacls::compile(topology),
            generation,
            topology: topology.clone(),
            limits,
            fabric: Fabric::compile(topology),
            wall_epoch: 0,
            ports: Arc::clone(ports),
        }
    }

    /// The stages in order. `Err` carries an early verdict (a drop or a reply).
    ///
    /// A packet from an ENI is checked (stages 1-4) and routed (5-6); one from an
    /// internet host goes to the internet router. Then it hops from place to place
    /// until it reaches a port: each hop between two places passes the firewall stages
    /// (9-12) between them; each gateway handles the packet its own way (see `hop`).
    fn stages(
        &self,
        now: Time,
        from: Port,
        pkt: &mut PacketBuf,
        shape_out: &mut Shape,
        mode: &mut Mode<'_, '_>,
    ) -> Result<Verdict, Verdict> {
        let (ip, trimmed) = sanity::check(pkt)?;
        if let (Trimmed::Yes, Some(s)) = (trimmed, mode.live_state()) {
            s.counters.router.trailing_bytes_trimmed += 1;
        }
        let shape = offload::check(pkt.offload(), pkt.as_bytes(), &ip)?;
        *shape_out = shape;
        if let (true, Some(s)) = (shape.gso != Gso::None, mode.live_state()) {
            s.counters.router.superpackets += 1;
        }
        if ip.frag_offset != 0 {
            return self.later_fragment(now, from, pkt, &ip, mode);
        }
        let first_fragment = ip
            .more_fragments
            .then(|| DatagramKey::of(from, pkt.as_bytes(), &ip));
        let verdict = self.walk(now, from, pkt, ip, shape, mode)?;
        if let (Some(key), Verdict::Forward { to }, Some(s)) =
            (first_fragment, verdict, mode.live_state())
        {
            let b = pkt.as_bytes();
            let addr = |at: usize| Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3]);
            let mtu = pkt.fragment_mtu();
            s.fragments()
                .remember(now, key, to, (addr(12), addr(16)), mtu);
        }
        Ok(verdict)
    }

    /// A non-first fragment: its datagram's verdict and addresses, if its first
    /// fragment was forwarded (see `frag`).
    fn later_fragment(
        &self,
        now: Time,
        from: Port,
        pkt: &mut PacketBuf,
        ip: &Ipv4Header,
        mode: &mut Mode<'_, '_>,
    ) -> Result<Verdict, Verdict> {
        if usize::from(ip.frag_offset) * 8 + (ip.total_len - ip.header_len) > 65_535 {
            return Err(DropReason::FragmentOverflow.into());
        }
        if let Port::Eni(e) = from {
            antispoof::check(self.tables.eni(e), ip)?;
        }
        // TTL 0 is never forwarded; no ICMP error about a non-first fragment.
        ttl::check(ip)?;
        let state = mode.state();
        let sent = state
            .fragments()
            .lookup(now, &DatagramKey::of(from, pkt.as_bytes(), ip))
            .ok_or(DropReason::Fragment)?;
        let up = match sent.to {
            Port::Eni(e) => state.link_up().up(e.index()),
            Port::Host(h) => state.host_up().up(h.index()),
            Port::Services => true,
        };
        if !up {
            return Err(DropReason::EniDown.into());
        }
        let mut header = *ip;
        if ip.src != sent.src {
            rewrite::rewrite(pkt.as_bytes_mut(), &header, End::Src, sent.src, None, false);
            header.src = sent.src;
        }
        if ip.dst != sent.dst {
            rewrite::rewrite(pkt.as_bytes_mut(), &header, End::Dst, sent.dst, None, false);
        }
        pkt.set_fragment_mtu(sent.mtu);
        Ok(Verdict::Forward { to: sent.to })
    }

    /// The walk of a packet that is not a later fragment: checks, routing, then hops.
    fn walk(
        &self,
        now: Time,
        from: Port,
        pkt: &mut PacketBuf,
        ip: Ipv4Header,
        shape: Shape,
        mode: &mut Mode<'_, '_>,
    ) -> Result<Verdict, Verdict> {
        let (mut at, mut next) = match from {
            Port::Eni(e) => {
                let eni = self.tables.eni(e);
                antispoof::check(eni, &ip)?;
                if ip.dst.is_multicast() && self.fabric.multicast.domain_of(eni.subnet).is_some() {
                    if ip.protocol == crate::wire::igmp::PROTO_IGMP {
                        let at = (e, eni.subnet);
                        return Err(hop::multicast::igmp(self, mode, at, pkt.as_bytes(), &ip));
                    }
                    let f = self.transport(now, from, pkt, &ip, shape, mode)?;
                    let p = &mut InFlight {
                        now,
                        origin: from,
                        pkt,
                        ip,
                        f,
                    };
                    return hop::multicast::send(self, mode, (e, eni.subnet), p);
                }
                if services::addressed(eni, ip.dst) {
                    return services::request(self, now, (e, eni), pkt, &ip, shape, mode);
                }
                let dst = destination::classify(&self.tables, eni.vpc, ip.dst)?;
                if dst == Dst::Router {
                    router::answer(pkt, &ip, mode.ident())?;
                    mode.step(Step::Router);
                    return Ok(Verdict::Reply {
                        to: from,
                        reply: Reply::EchoReply,
                    });
                }
                let at = Place::Eni(e);
                (at, self.route(at, eni.route_table, dst, &ip, mode)?)
            }
            Port::Services => return services::answer(self, pkt, &ip, shape, mode),
            Port::Host(h) => {
                if let Some(g) = self.tables.host_vgw[h.index()] {
                    // Out of a VPN gateway's tunnels (`hop/vpn_gateway.rs`): from the
                    // sites, so any source.
                    (
                        Place::Host(h),
                        Hop::gateway(Gateway::Vpn(g), Direction::Ingress),
                    )
                } else {
                    if ip.src != self.tables.host_addrs[h.index()] {
                        return Err(DropReason::SpoofedSource.into());
                    }
                    if ip.dst.is_link_local() {
                        return services::host_request(self, h, pkt, &ip, shape, mode);
                    }
                    destination::check_public(ip.dst)?;
                    (
                        Place::Host(h),
                        Hop::gateway(Gateway::Internet, Direction::Egress),
                    )
                }
            }
        };
        let f = self.transport(now, from, pkt, &ip, shape, mode)?;
        let p = &mut InFlight {
            now,
            origin: from,
            pkt,
            ip,
            f,
        };
        for _ in 0..MAX_HOPS {
            if let Place::Eni(to) = next.to {
                mode.step(Step::Deliver { to });
            }
            if !hop::within_gateway(at, next.to) {
                self.firewall(now, at, next.to, &p.f, mode)?;
            }
            let g = match next.to {
                Place::Eni(to) => return Ok(Verdict::Forward { to: Port::Eni(to) }),
                Place::Host(h) => {
                    if !mode.state().host_up().up(h.index()) {
                        return Err(DropReason::EniDown.into());
                    }
                    return Ok(Verdict::Forward { to: Port::Host(h) });
                }
                Place::Gateway(g) => g,
            };
            let hop = hop::handle(self, mode, g, next.direction, p)?;
            at = next.to;
            next = hop;
        }
        Err(DropReason::HopLimit.into())
    }

    /// Stages 7-8 for a packet that is to be forwarded: its TTL (0 is answered with ICMP
    /// time exceeded), then its transport header. Always inlined: returned from a call,
    /// the facts would go through memory.
    #[inline(always)]
    fn transport(
        &self,
        now: Time,
        from: Port,
        pkt: &mut PacketBuf,
        ip: &Ipv4Header,
        shape: Shape,
        mode: &mut Mode<'_, '_>,
    ) -> Result<Facts, Verdict> {
        if let Err(cause) = ttl::check(ip) {
            let error = (cause, icmp_error::TIME_EXCEEDED);
            return Err(self.icmp_error(mode, (now, from), pkt, ip, error));
        }
        Ok(l4::parse(pkt.as_bytes(), ip, shape)?)
    }

    /// Stages 5-6 for a packet sent by place `at` with route table `table`: the route,
    /// then the next hop.
    #[inline]
    pub(crate) fn route(
        &self,
        at: Place,
        table: RouteTableId,
        dst: Dst,
        ip: &Ipv4Header,
        mode: &mut Mode<'_, '_>,
    ) -> Result<Hop, DropReason> {
        let route = self.tables.route_tables[table.index()]
            .lookup(ip.dst)
            .ok_or(DropReason::NoRoute)?;
        mode.step(Step::Route {
            table,
            destination: route.destination,
            target: route.target,
        });
        let hop = hop::enter(self, mode.state().link_up(), (at, table), route, dst, ip)?;
        if hop.to == at {
            return Err(DropReason::RouteLoop);
        }
        Ok(hop)
    }

    /// Stages 9-12 between two places: the sender's security group (if it is an ENI),
    /// the NACLs of the subnets the packet leaves and enters (a NAT gateway is in its
    /// subnet, the internet gateway in none), the receiver's security group (if it is
    /// an ENI); each interface's flow log records its own view.
    #[inline(always)]
    pub(crate) fn firewall(
        &self,
        now: Time,
        from: Place,
        to: Place,
        f: &Facts,
        mode: &mut Mode<'_, '_>,
    ) -> Result<(), DropReason> {
        let (src_subnet, dst_subnet) = (from.subnet(self), to.subnet(self));
        if src_subnet.is_none() && dst_subnet.is_none() {
            // Between places outside every subnet (gateways, the internet, its hosts):
            // no interface, no security group, no network ACL, nothing to log.
            return Ok(());
        }
        let crossing = src_subnet != dst_subnet;
        // AWS tracks flows through a NAT gateway or a transit gateway attachment
        // whatever the groups say.
        let tracked = |p: Place| {
            matches!(
                p,
                Place::Gateway(Gateway::Nat(_) | Gateway::TgwAttachment(..))
            )
        };
        let always_tracked = tracked(from) || tracked(to);
        // The flow cache: the sending ENI's entry for this flow may know that both
        // network ACLs below allowed this direction of the flow in this configuration.
        let mut cache = NaclCache::None;
        let sent = match from {
            Place::Eni(e) => {
                let side = (e, Direction::Egress, always_tracked);
                self.security_group(now, side, f, mode, &mut cache)
            }
            _ => Ok(()),
        };
        // Matches, not `and_then`: its closure was a call, with its captures written to
        // the stack first, for every packet.
        let sent = match (sent, src_subnet) {
            (Err(reason), _) => Err(reason),
            (Ok(()), Some(_)) if crossing && cache == NaclCache::Allowed => Ok(()),
            (Ok(()), Some(s)) if crossing => self.nacl(s, Direction::Egress, f, mode),
            (Ok(()), Some(s)) => {
                mode.step(Step::SameSubnet { subnet: s });
                Ok(())
            }
            (Ok(()), None) => Ok(()),
        };
        self.log(now, (from, to), Direction::Egress, f, &sent, mode);
        sent?;
        let received = match dst_subnet {
            Some(s) if crossing && cache != NaclCache::Allowed => {
                self.nacl(s, Direction::Ingress, f, mode)
            }
            _ => Ok(()),
        };
        if let (Place::Eni(e), true, NaclCache::Unknown, Ok(()), Some(s)) =
            (from, crossing, cache, &received, mode.live_state())
        {
            s.conntrack(e).remember_nacls(now, f, self.generation);
        }
        let received = match (received, to) {
            (Err(reason), _) => Err(reason),
            (Ok(()), Place::Eni(e)) => {
                let side = (e, Direction::Ingress, always_tracked);
                self.security_group(now, side, f, mode, &mut NaclCache::None)
            }
            (Ok(()), _) => Ok(()),
        };
        self.log(now, (from, to), Direction::Ingress, f, &received, mode);
        received
    }

    /// A security group stage on ENI `eni` in `direction`: its connection table first;
    /// for a packet of no tracked flow, the rules; a tracked flow the rules allow is
    /// inserted (every flow is tracked if `always_tracked`: through a NAT gateway). An
    /// ICMP error about no tracked flow is judged by the rules as an ICMP message and
    /// never inserted. `cache` says what the flow cache knows about the network ACLs
    /// after this ENI for this packet (see `firewall`).
    #[inline(always)]
    fn security_group(
        &self,
        now: Time,
        (eni, direction, always_tracked): (EniId, Direction, bool),
        f: &Facts,
        mode: &mut Mode<'_, '_>,
        cache: &mut NaclCache,
    ) -> Result<(), DropReason> {
        let denied = match direction {
            Direction::Egress => DropReason::SgEgress,
            Direction::Ingress => DropReason::SgIngress,
        };
        let looked = match mode {
            Mode::Live(s) => {
                let table = s.conntrack(eni);
                let (looked, known) = table.lookup_cached(now, f, self.generation);
                *cache = match (&looked, known) {
                    (Ok(Lookup::Tracked(_)), true) => NaclCache::Allowed,
                    (Ok(Lookup::Tracked(_)), false) => NaclCache::Unknown,
                    _ => NaclCache::None,
                };
                looked
            }
            Mode::Trace { state, .. } => state.conntrack(eni).peek(now, f),
        };
        let (tracking, result) = match looked {
            Ok(Lookup::Tracked(_)) => (Tracking::Tracked, Ok(())),
            Ok(Lookup::Related) => (Tracking::Related, Ok(())),
            Err(reason) => (Tracking::Invalid(reason), Err(reason)),
            Ok(Lookup::Miss) => {
                let mut decision = self.sgs.evaluate(eni, direction, f);
                if let SgDecision::Allowed { tracked, .. } = &mut decision {
                    *tracked |= always_tracked;
                }
                let error = matches!(f.l4, L4::IcmpError { .. });
                let result = match (decision, mode.live_state()) {
                    (SgDecision::Denied, _) if error => Err(DropReason::IcmpErrorNoFlow),
                    (SgDecision::Denied, _) => Err(denied),
                    // An ICMP error is never a flow of its own.
                    (SgDecision::Allowed { .. }, _) if error => Ok(()),
                    (SgDecision::Allowed { tracked: true, .. }, Some(s)) => {
                        s.conntrack(eni).insert(now, f)
                    }
                    (SgDecision::Allowed { .. }, _) => Ok(()),
                };
                (Tracking::Rules(decision), result)
            }
        };
        mode.step(Step::SecurityGroup {
            eni,
            direction,
            tracking,
        });
        result
    }

    /// A network ACL stage: `subnet`'s NACL, outbound (`Egress`) or inbound.
    fn nacl(
        &self,
        subnet: SubnetId,
        direction: Direction,
        f: &Facts,
        mode: &mut Mode<'_, '_>,
    ) -> Result<(), DropReason> {
        let id = self.topology.subnet(subnet).network_acl;
        let (peer, denied) = match direction {
            Direction::Ingress => (f.tuple.src, DropReason::NaclInbound),
            Direction::Egress => (f.tuple.dst, DropReason::NaclOutbound),
        };
        let decision = nacl::evaluate(self.nacls.entries(id, direction), peer, f);
        mode.step(Step::Nacl {
            nacl: id,
            subnet,
            direction,
            decision,
        });
        match decision.action {
            RuleAction::Allow => Ok(()),
            RuleAction::Deny => Err(denied),
        }
    }

    /// Records a packet going from place `from` to place `to` in the flow logs that
    /// cover the interface of `from` (its egress view) or of `to` (its ingress view):
    /// accepted if `result` is `Ok`. An egress record says where the packet goes next
    /// (AWS's `traffic-path`). Without flow logs (or in a trace) this is one check,
    /// inline; the record is made out of line.
    #[inline(always)]
    fn log(
        &self,
        now: Time,
        places: (Place, Place),
        direction: Direction,
        f: &Facts,
        result: &Result<(), DropReason>,
        mode: &mut Mode<'_, '_>,
    ) {
        if let Mode::Live(state) = mode
            && state.has_flow_logs()
        {
            // The places go by value, one by one: as a pair behind a reference they were
            // written to memory for every packet, flow logs or not.
            let (from, to) = places;
            self.record_log(now, from, to, direction, f, result, state);
        }
    }

    /// [`Net::log`] with flow logs.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn record_log(
        &self,
        now: Time,
        from: Place,
        to: Place,
        direction: Direction,
        f: &Facts,
        result: &Result<(), DropReason>,
        state: &mut Writer<'_>,
    ) {
        let place = match direction {
            Direction::Egress => from,
            Direction::Ingress => to,
        };
        let Some(iface) = place.interface() else {
            return;
        };
        let Some(logs) = state.flow_logs() else {
            return;
        };
        if !logs.covers(iface) {
            return;
        }
        let path = match (direction, to) {
            (Direction::Ingress, _) => None,
            (_, Place::Gateway(g)) => Some(hop::traffic_path(self, from, g)),
            _ => Some(TrafficPath::SameVpc),
        };
        let record = PacketRecord {
            proto: f.tuple.proto,
            src: f.tuple.src,
            dst: f.tuple.dst,
            src_port: f.tuple.src_port,
            dst_port: f.tuple.dst_port,
            packets: f.packets,
            bytes: f.len,
            tcp_flags: f.tcp_flags(),
            action: if result.is_ok() {
                Action::Accept
            } else {
                Action::Reject
            },
            direction,
            traffic_path: path,
        };
        logs.record(now, iface, &record);
    }

    /// The verdict for a packet from `origin` at `now` dropped for `cause` that deserves
    /// ICMP error `e`: the error in its place if RFC 1812 and the rate limit allow,
    /// else a plain drop. The error comes from the VPC router of the origin ENI's
    /// subnet, or for an internet host from the internet router. A trace takes no
    /// token from the rate limit.
    pub(crate) fn icmp_error(
        &self,
        mode: &mut Mode<'_, '_>,
        (now, origin): (Time, Port),
        pkt: &mut PacketBuf,
        ip: &Ipv4Header,
        (cause, e): (DropReason, icmp_error::IcmpError),
    ) -> Verdict {
        if !icmp_error::allowed_about(pkt, ip) {
            return Verdict::Drop(cause);
        }
        if let Some(s) = mode.live_state()
            && !s.icmp_allowed(now)
        {
            s.counters.router.icmp_errors_rate_limited += 1;
            return Verdict::Drop(cause);
        }
        let router = match origin {
            Port::Eni(e) => self.tables.eni(e).router,
            Port::Host(_) => addressing::INTERNET_ROUTER,
            Port::Services => addressing::DNS_LINK_LOCAL,
        };
        let ident = mode.ident();
        icmp_error::build(pkt, ip, router, e, ident);
        Verdict::Reply {
            to: origin,
            reply: Reply::IcmpError { cause },
        }
    }
}
