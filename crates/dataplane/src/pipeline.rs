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

use vpc_config::{
    EniId, HostId, NatGatewayId, RouteTableId, RuleAction, SubnetId, TableLimits, Topology,
    addressing,
};

use crate::conntrack::{ConnTable, ConntrackStats, FlowInfo, Lookup};
use crate::counters::{Counters, NatMetrics};
use crate::destination::Dst;
use crate::direction::Direction;
use crate::flowlog::{Action, FlowLogs, FlowRecord, PacketRecord, TrafficPath};
use crate::frag::{DatagramKey, Fragments};
use crate::hop::transit_gateway::TgwMetrics;
use crate::hop::{self, Fabric, Gateway, Gateways, Hop, InFlight, Place};
use crate::icmp_error::{self, RateLimit};
use crate::l4::{Facts, L4};
use crate::nacl::Nacls;
use crate::nat::NatMapping;
use crate::nat::rewrite::{self, End};
use crate::offload::{self, Shape};
use crate::packet::{Csum, Gso, Offload, PacketBuf};
use crate::route::{Route, RouteState};
use crate::sanity::Trimmed;
use crate::sg::{SecurityGroups, SgDecision};
use crate::tables::Tables;
use crate::time::Time;
use crate::trace::{self, Probe, Step, Trace, Tracking};
use crate::verdict::{DropReason, Port, Reply, Verdict};
use crate::wire::fragment;
use crate::wire::ipv4::Ipv4Header;
use crate::{antispoof, destination, l4, nacl, router, sanity, ttl};

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
}

/// What packets change.
#[derive(Debug, Clone)]
pub(crate) struct State {
    /// Per ENI: its connection table.
    pub conntrack: Vec<ConnTable>,
    pub flow_logs: FlowLogs,
    /// Flow-log records taken out of accumulators that a configuration change replaced,
    /// handed out by the next flush.
    pub pending_records: Vec<FlowRecord>,
    /// Per ENI: whether its device is up.
    pub link_up: Vec<bool>,
    /// Per internet host: whether its device is up.
    pub host_up: Vec<bool>,
    /// The gateways' own state (NAT gateways' translations, ...).
    pub gateways: Gateways,
    /// The verdicts of fragmented datagrams, for their later fragments.
    pub fragments: Fragments,
    /// Identification field for packets the router originates.
    pub next_ident: u16,
    pub icmp_limit: RateLimit,
    pub counters: Counters,
}

/// The VPC dataplane: the compiled configuration and the state packets change.
#[derive(Debug, Clone)]
pub struct Dataplane {
    net: Net,
    state: State,
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

/// How a walk holds the state: a packet changes it (`Live`, exclusive), a trace only
/// reads it (`Trace`, shared) and records each stage's decision.
pub(crate) enum Mode<'a> {
    Live(&'a mut State),
    Trace {
        state: &'a State,
        steps: &'a mut Vec<Step>,
    },
}

impl<'a> Mode<'a> {
    /// Records a stage's decision (a trace's only effect).
    pub(crate) fn step(&mut self, step: Step) {
        if let Mode::Trace { steps, .. } = self {
            steps.push(step);
        }
    }

    /// The state, to read.
    pub(crate) fn state(&self) -> &State {
        match self {
            Mode::Live(s) => s,
            Mode::Trace { state, .. } => state,
        }
    }

    /// The state to change: a packet's only.
    pub(crate) fn live_state(&mut self) -> Option<&mut State> {
        match self {
            Mode::Live(s) => Some(s),
            Mode::Trace { .. } => None,
        }
    }

    /// A trace's state, by a reference independent of the mode (so the mode can still
    /// record steps while it is read); `None` for a packet.
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
            Mode::Live(s) => {
                let i = s.next_ident;
                s.next_ident = i.wrapping_add(1);
                i
            }
            Mode::Trace { .. } => 0,
        }
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
        let n = topology.enis.len();
        Dataplane {
            net: Net {
                tables: Tables::compile(topology),
                sgs: SecurityGroups::compile(topology),
                nacls: Nacls::compile(topology),
                generation: 1,
                topology: topology.clone(),
                limits,
                fabric: Fabric::compile(topology),
            },
            state: State {
                conntrack: topology
                    .enis
                    .iter()
                    .map(|e| ConnTable::new(limits.conntrack_per_eni, e.conntrack))
                    .collect(),
                flow_logs: FlowLogs::new(topology, limits.flow_log_records, now),
                pending_records: Vec::new(),
                link_up: vec![true; n],
                host_up: vec![true; topology.internet_hosts.len()],
                gateways: Gateways::compile(topology, &limits),
                fragments: Fragments::new(limits.fragments),
                next_ident: 1,
                icmp_limit: RateLimit::new(1000, 50),
                counters: Counters::new(n, topology.internet_hosts.len()),
            },
        }
    }

    /// Applies a changed configuration with the same instances and ENIs (the rule-change
    /// semantics of AWS): routes, network ACLs and security-group rules take effect with
    /// the next packet; tracked flows are kept (so removing a security-group rule leaves
    /// tracked flows running until they time out, while untracked flows, judged per
    /// packet, stop at once); changed connection-tracking timeouts apply to existing
    /// flows. If the flow logs changed they start over; what they had accumulated comes
    /// out of the next flush (records of flow logs that were removed are dropped).
    /// Gateways keep their state where AWS does (a NAT gateway its translations unless
    /// deleted or changed); internet gateway attachments and Elastic IP associations
    /// apply to the next packet.
    /// Returns `false`, changing nothing, if the ENIs or internet hosts differ.
    pub fn apply(&mut self, topology: &Topology, now: Time) -> bool {
        let old = &self.net.topology;
        let same_enis = topology.internet_hosts == old.internet_hosts
            && topology.enis.len() == old.enis.len()
            && topology
                .eni_ids()
                .all(|e| topology.eni_name(e).to_string() == old.eni_name(e).to_string());
        if !same_enis {
            return false;
        }
        let state = &mut self.state;
        state.gateways.apply(old, topology, &self.net.limits);
        for (table, eni) in state.conntrack.iter_mut().zip(&topology.enis) {
            table.set_timeouts(eni.conntrack);
        }
        // A deleted NAT gateway's interface is no longer covered.
        if topology.flow_logs != old.flow_logs || topology.nat_gateways != old.nat_gateways {
            // Records of the old accumulators name flow logs by their old index: keep
            // those of flow logs that still exist (by name) under their new index.
            let mut flushed = Vec::new();
            state.flow_logs.flush_all(now, &mut flushed);
            state
                .pending_records
                .extend(flushed.into_iter().filter_map(|mut r| {
                    let name = &old.flow_logs.get(r.log.index())?.name;
                    let new = topology.flow_logs.iter().position(|l| &l.name == name)?;
                    r.log = vpc_config::FlowLogId(new as u32);
                    Some(r)
                }));
            state.flow_logs = FlowLogs::new(topology, self.net.limits.flow_log_records, now);
        }
        self.net = Net {
            tables: Tables::compile(topology),
            sgs: SecurityGroups::compile(topology),
            nacls: Nacls::compile(topology),
            generation: self.net.generation.wrapping_add(1).max(1),
            topology: topology.clone(),
            limits: self.net.limits,
            fabric: Fabric::compile(topology),
        };
        true
    }

    /// Processes one packet read from ENI `from` at time `now`. The verdict says what to
    /// do with `pkt`, which may have been rewritten (trimmed, or replaced by a reply).
    #[inline]
    pub fn process(&mut self, now: Time, from: impl Into<Port>, pkt: &mut PacketBuf) -> Verdict {
        let from = from.into();
        let len_in = pkt.len();
        let mut shape = Shape::PLAIN;
        pkt.set_fragment_mtu(None);
        let mode = &mut Mode::Live(&mut self.state);
        let verdict = match self.net.stages(now, from, pkt, &mut shape, mode) {
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
        self.state
            .counters
            .record(from, shape.wire(len_in), verdict, out);
        if let Verdict::Multicast { group, members } = verdict {
            let copy = shape.wire(pkt.len());
            let all = self.state.gateways.multicast.members(group);
            for (i, &m) in all.iter().enumerate() {
                if members & (1 << i) != 0 {
                    self.state.counters.record_tx(Port::Eni(m), copy);
                }
            }
        }
        verdict
    }

    /// Processes a batch of packets read from ENI `from`; `verdicts` is cleared and
    /// receives one verdict per packet, in order.
    pub fn process_batch(
        &mut self,
        now: Time,
        from: impl Into<Port> + Copy,
        pkts: &mut [PacketBuf],
        verdicts: &mut Vec<Verdict>,
    ) {
        verdicts.clear();
        verdicts.extend(pkts.iter_mut().map(|p| self.process(now, from, p)));
    }

    /// Walks a probe from port `from` (an ENI or an internet host) to `dst` through the
    /// live configuration and state and returns every stage's decision. It holds the
    /// state by shared reference: it changes nothing.
    pub fn trace(&self, now: Time, from: impl Into<Port>, dst: Ipv4Addr, probe: Probe) -> Trace {
        let from = from.into();
        let src = match from {
            Port::Eni(e) => self.net.tables.eni(e).ip,
            Port::Host(h) => self.net.tables.host_addrs[h.index()],
        };
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
    pub fn expire(&mut self, now: Time) -> usize {
        let s = &mut self.state;
        let flows: usize = s.conntrack.iter_mut().map(|t| t.expire(now)).sum();
        let gateways = s.gateways.expire(now);
        s.fragments.expire(now);
        flows + gateways
    }

    /// Appends the flow-log records of every aggregation interval that has ended by
    /// `now` (and records left by a configuration change).
    pub fn flush_flow_logs(&mut self, now: Time, out: &mut Vec<FlowRecord>) {
        out.append(&mut self.state.pending_records);
        self.state.flow_logs.flush_due(now, out);
    }

    /// Appends every flow-log record accumulated so far (at shutdown).
    pub fn flush_all_flow_logs(&mut self, now: Time, out: &mut Vec<FlowRecord>) {
        out.append(&mut self.state.pending_records);
        self.state.flow_logs.flush_all(now, out);
    }

    /// The flows ENI `eni` tracks.
    pub fn flows(&self, eni: EniId, now: Time) -> impl Iterator<Item = FlowInfo> + '_ {
        self.state.conntrack[eni.index()].flows(now)
    }

    /// ENI `eni`'s connection-table counters and current size.
    pub fn conntrack_stats(&self, eni: EniId) -> (ConntrackStats, usize) {
        let t = &self.state.conntrack[eni.index()];
        (t.stats(), t.len())
    }

    /// Marks ENI `eni`'s device up or down. Packets to a down ENI are dropped
    /// (`eni-down`), and routes targeting it turn `blackhole`.
    pub fn set_link(&mut self, eni: EniId, up: bool) {
        self.state.link_up[eni.index()] = up;
    }

    /// Marks internet host `host`'s device up or down. Packets to a down host are
    /// dropped (`eni-down`).
    pub fn set_host_link(&mut self, host: HostId, up: bool) {
        self.state.host_up[host.index()] = up;
    }

    /// The configuration it runs (after [`Self::apply`], the applied one).
    pub fn topology(&self) -> &Topology {
        &self.net.topology
    }

    /// NAT gateway `nat`'s CloudWatch metrics (zero for a deleted one).
    pub fn nat_metrics(&self, nat: NatGatewayId) -> NatMetrics {
        self.state.gateways.nat[nat.index()]
            .as_ref()
            .map_or(NatMetrics::default(), |t| {
                let mut m = t.metrics;
                m.active_connection_count = t.active_tcp() as u64;
                m
            })
    }

    /// NAT gateway `nat`'s translations.
    pub fn nat_mappings(&self, nat: NatGatewayId, now: Time) -> Vec<NatMapping> {
        self.state.gateways.nat[nat.index()]
            .as_ref()
            .map(|t| t.mappings(now).collect())
            .unwrap_or_default()
    }

    /// The members of multicast group `group` (a [`Verdict::Multicast`]'s bit `i` is
    /// the `i`-th). The daemon reads them under the same lock as the verdict.
    pub fn multicast_members(&self, group: hop::multicast::GroupId) -> &[EniId] {
        self.state.gateways.multicast.members(group)
    }

    /// Every multicast group: its domain, address, members, and how many of them
    /// (the first) are registered rather than joined with IGMP.
    pub fn multicast_groups(
        &self,
    ) -> impl Iterator<
        Item = (
            vpc_config::MulticastDomainId,
            std::net::Ipv4Addr,
            &[EniId],
            usize,
        ),
    > + '_ {
        self.state.gateways.multicast.all()
    }

    /// The MTU of VPC peering connection `pcx`: 9001 bytes within a region, 1500
    /// across regions.
    pub fn vpc_peering_mtu(&self, pcx: vpc_config::VpcPeeringConnectionId) -> u32 {
        hop::peering::mtu_of(&self.net.topology, pcx) as u32
    }

    /// Transit gateway `tgw`'s CloudWatch metrics.
    pub fn tgw_metrics(&self, tgw: vpc_config::TransitGatewayId) -> TgwMetrics {
        self.state.gateways.tgw[tgw.index()]
    }

    /// Whether ENI `eni` is up.
    pub fn link_up(&self, eni: EniId) -> bool {
        self.state.link_up[eni.index()]
    }

    /// The routes of route table `table` as the dataplane holds them, with their state.
    pub fn routes(&self, table: RouteTableId) -> impl Iterator<Item = (Route, RouteState)> + '_ {
        let t = &self.net.topology;
        let vpc = t.route_table(table).vpc;
        self.net.tables.route_tables[table.index()]
            .routes()
            .map(move |r| {
                let state = if hop::gone(t, &self.state.link_up, vpc, r.target) {
                    RouteState::Blackhole
                } else {
                    RouteState::Active
                };
                (*r, state)
            })
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.state.counters
    }
}

impl Net {
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
        mode: &mut Mode<'_>,
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
            s.fragments
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
        mode: &mut Mode<'_>,
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
            .fragments
            .lookup(now, &DatagramKey::of(from, pkt.as_bytes(), ip))
            .ok_or(DropReason::Fragment)?;
        let up = match sent.to {
            Port::Eni(e) => state.link_up[e.index()],
            Port::Host(h) => state.host_up[h.index()],
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
        mode: &mut Mode<'_>,
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
            Port::Host(h) => {
                if ip.src != self.tables.host_addrs[h.index()] {
                    return Err(DropReason::SpoofedSource.into());
                }
                destination::check_public(ip.dst)?;
                (
                    Place::Host(h),
                    Hop::gateway(Gateway::Internet, Direction::Egress),
                )
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
                    if !mode.state().host_up[h.index()] {
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
        mode: &mut Mode<'_>,
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
        mode: &mut Mode<'_>,
    ) -> Result<Hop, DropReason> {
        let route = self.tables.route_tables[table.index()]
            .lookup(ip.dst)
            .ok_or(DropReason::NoRoute)?;
        mode.step(Step::Route {
            table,
            destination: route.destination,
            target: route.target,
        });
        let hop = hop::enter(self, &mode.state().link_up, (at, table), route, dst, ip)?;
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
        mode: &mut Mode<'_>,
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
        }
        .and_then(|()| match src_subnet {
            Some(_) if crossing && cache == NaclCache::Allowed => Ok(()),
            Some(s) if crossing => self.nacl(s, Direction::Egress, f, mode),
            Some(s) => {
                mode.step(Step::SameSubnet { subnet: s });
                Ok(())
            }
            None => Ok(()),
        });
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
            s.conntrack[e.index()].remember_nacls(now, f, self.generation);
        }
        let received = received.and_then(|()| match to {
            Place::Eni(e) => {
                let side = (e, Direction::Ingress, always_tracked);
                self.security_group(now, side, f, mode, &mut NaclCache::None)
            }
            _ => Ok(()),
        });
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
        mode: &mut Mode<'_>,
        cache: &mut NaclCache,
    ) -> Result<(), DropReason> {
        let denied = match direction {
            Direction::Egress => DropReason::SgEgress,
            Direction::Ingress => DropReason::SgIngress,
        };
        let looked = match mode {
            Mode::Live(s) => {
                let table = &mut s.conntrack[eni.index()];
                let (looked, known) = table.lookup_cached(now, f, self.generation);
                *cache = match (&looked, known) {
                    (Ok(Lookup::Tracked(_)), true) => NaclCache::Allowed,
                    (Ok(Lookup::Tracked(_)), false) => NaclCache::Unknown,
                    _ => NaclCache::None,
                };
                looked
            }
            Mode::Trace { state, .. } => state.conntrack[eni.index()].peek(now, f),
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
                        s.conntrack[eni.index()].insert(now, f)
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
        mode: &mut Mode<'_>,
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
    /// (AWS's `traffic-path`).
    #[inline]
    fn log(
        &self,
        now: Time,
        (from, to): (Place, Place),
        direction: Direction,
        f: &Facts,
        result: &Result<(), DropReason>,
        mode: &mut Mode<'_>,
    ) {
        let place = match direction {
            Direction::Egress => from,
            Direction::Ingress => to,
        };
        let Some(iface) = place.interface() else {
            return;
        };
        let Mode::Live(state) = mode else {
            return;
        };
        if !state.flow_logs.covers(iface) {
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
        state.flow_logs.record(now, iface, &record);
    }

    /// The verdict for a packet from `origin` at `now` dropped for `cause` that deserves
    /// ICMP error `e`: the error in its place if RFC 1812 and the rate limit allow,
    /// else a plain drop. The error comes from the VPC router of the origin ENI's
    /// subnet, or for an internet host from the internet router. A trace takes no
    /// token from the rate limit.
    pub(crate) fn icmp_error(
        &self,
        mode: &mut Mode<'_>,
        (now, origin): (Time, Port),
        pkt: &mut PacketBuf,
        ip: &Ipv4Header,
        (cause, e): (DropReason, icmp_error::IcmpError),
    ) -> Verdict {
        if !icmp_error::allowed_about(pkt, ip) {
            return Verdict::Drop(cause);
        }
        if let Some(s) = mode.live_state()
            && !s.icmp_limit.allow(now)
        {
            s.counters.router.icmp_errors_rate_limited += 1;
            return Verdict::Drop(cause);
        }
        let router = match origin {
            Port::Eni(e) => self.tables.eni(e).router,
            Port::Host(_) => addressing::INTERNET_ROUTER,
        };
        let ident = mode.ident();
        icmp_error::build(pkt, ip, router, e, ident);
        Verdict::Reply {
            to: origin,
            reply: Reply::IcmpError { cause },
        }
    }
}
