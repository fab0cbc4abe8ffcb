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
//! A packet whose route leads to a gateway hops from place to place (`Dataplane::walk`),
//! each hop through stages 9-12 between the two places.

use vpc_config::{
    EniId, HostId, NatConnectivity, NatGatewayId, RouteTableId, RouteTarget, RuleAction, SubnetId,
    TableLimits, Topology, VpcId, addressing,
};

use crate::conntrack::{ConnTable, ConntrackStats, FlowInfo, Lookup};
use crate::counters::{Counters, NatMetrics};
use crate::deliver::{Hop, Node};
use crate::destination::Dst;
use crate::flowlog::{Action, Direction, FlowLogs, FlowRecord, PacketRecord, TrafficPath};
use crate::frag::{DatagramKey, Fragments};
use crate::icmp_error::{self, RateLimit};
use crate::l4::Facts;
use crate::l4::L4;
use crate::nacl::Nacls;
use crate::nat::rewrite::{self, End};
use crate::nat::{NatConfig, NatMapping, NatTable, OutboundMiss};
use crate::offload::{self, Shape};
use crate::packet::{Csum, Gso, Offload, PacketBuf};
use crate::route::{Route, RouteState};
use crate::sanity::Trimmed;
use crate::sg::{SecurityGroups, SgDecision};
use crate::tables::AddrClass;
use crate::tables::Tables;
use crate::time::Time;
use crate::trace::{self, Probe, Step, Trace, Tracking};
use crate::verdict::{DropReason, Port, Reply, Verdict};
use crate::wire::fragment;
use crate::wire::ipv4::Ipv4Header;
use crate::{antispoof, deliver, destination, l4, nacl, natgw, router, sanity, ttl, xlate};

/// The most hops (between ENIs, NAT gateways, internet gateways and the internet) a
/// packet may take; no real path takes more than 6 (ENI, NAT gateway, internet
/// gateway, internet, internet gateway, ENI of another VPC).
const MAX_HOPS: usize = 8;

/// Sizes of the dataplane's bounded tables: the configuration's `[limits]` section
/// (`vpc_config::TableLimits`, with its defaults).
pub type Limits = TableLimits;

/// What the flow cache knows about the network ACLs a packet crosses after leaving an
/// ENI (see `Dataplane::firewall`).
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

/// The VPC dataplane: compiled topology, link states, connection tables, flow-log
/// accumulators, router state and counters.
#[derive(Debug, Clone)]
pub struct Dataplane {
    tables: Tables,
    sgs: SecurityGroups,
    /// Every network ACL's entries, compiled.
    nacls: Nacls,
    /// The configuration's generation, from 1, counting [`Dataplane::apply`]: what the
    /// flow cache's network-ACL decisions are valid for.
    generation: u32,
    /// Per ENI: its connection table.
    conntrack: Vec<ConnTable>,
    flow_logs: FlowLogs,
    /// Flow-log records taken out of accumulators that a configuration change replaced,
    /// handed out by the next flush.
    pending_records: Vec<FlowRecord>,
    /// The configuration it runs: subnets' network ACLs are read from it directly, and
    /// `apply` compares against it.
    topology: Topology,
    limits: Limits,
    /// Per ENI: whether its device is up.
    link_up: Vec<bool>,
    /// Per internet host: whether its device is up.
    host_up: Vec<bool>,
    /// Per NAT gateway: its translation table (`None` once deleted).
    nats: Vec<Option<NatTable>>,
    /// The verdicts of fragmented datagrams, for their later fragments.
    fragments: Fragments,
    /// Identification field for packets the router originates.
    next_ident: u16,
    icmp_limit: RateLimit,
    counters: Counters,
}

/// One translation table per NAT gateway that is not deleted.
fn nat_tables(t: &Topology, limits: &Limits) -> Vec<Option<NatTable>> {
    t.nat_gateways
        .iter()
        .map(|n| {
            (!n.deleted).then(|| {
                NatTable::new(NatConfig {
                    addresses: n.private_ips.clone(),
                    ports: n.source_ports,
                    max_per_destination: n.max_connections_per_destination,
                    capacity: limits.nat_per_gateway,
                })
            })
        })
        .collect()
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

/// Whether a walk changes state (a real packet) or only observes (a trace).
enum Mode<'a> {
    Live,
    Trace(&'a mut Vec<Step>),
}

impl Mode<'_> {
    fn step(&mut self, step: Step) {
        if let Mode::Trace(steps) = self {
            steps.push(step);
        }
    }

    fn live(&self) -> bool {
        matches!(self, Mode::Live)
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
            tables: Tables::compile(topology),
            sgs: SecurityGroups::compile(topology),
            nacls: Nacls::compile(topology),
            generation: 1,
            conntrack: topology
                .enis
                .iter()
                .map(|e| ConnTable::new(limits.conntrack_per_eni, e.conntrack))
                .collect(),
            flow_logs: FlowLogs::new(topology, limits.flow_log_records, now),
            pending_records: Vec::new(),
            topology: topology.clone(),
            limits,
            link_up: vec![true; n],
            host_up: vec![true; topology.internet_hosts.len()],
            nats: nat_tables(topology, &limits),
            fragments: Fragments::new(limits.fragments),
            next_ident: 1,
            icmp_limit: RateLimit::new(1000, 50),
            counters: Counters::new(n, topology.internet_hosts.len()),
        }
    }

    /// Applies a changed configuration with the same instances and ENIs (the rule-change
    /// semantics of AWS): routes, network ACLs and security-group rules take effect with
    /// the next packet; tracked flows are kept (so removing a security-group rule leaves
    /// tracked flows running until they time out, while untracked flows, judged per
    /// packet, stop at once); changed connection-tracking timeouts apply to existing
    /// flows. If the flow logs changed they start over; what they had accumulated comes
    /// out of the next flush (records of flow logs that were removed are dropped).
    /// NAT gateways keep their translations unless deleted or changed; internet gateway
    /// attachments and Elastic IP associations apply to the next packet.
    /// Returns `false`, changing nothing, if the ENIs or internet hosts differ.
    pub fn apply(&mut self, topology: &Topology, now: Time) -> bool {
        let same_enis = topology.internet_hosts == self.topology.internet_hosts
            && topology.enis.len() == self.topology.enis.len()
            && topology
                .eni_ids()
                .all(|e| topology.eni_name(e).to_string() == self.topology.eni_name(e).to_string());
        if !same_enis {
            return false;
        }
        self.tables = Tables::compile(topology);
        self.sgs = SecurityGroups::compile(topology);
        self.nacls = Nacls::compile(topology);
        self.generation = self.generation.wrapping_add(1).max(1);
        // A NAT gateway keeps its translations while it exists under the same name with
        // the same addresses and ports; a deleted or changed one starts over.
        let mut fresh = nat_tables(topology, &self.limits);
        for (n, table) in fresh.iter_mut().enumerate() {
            let new = &topology.nat_gateways[n];
            let old = self
                .topology
                .nat_gateways
                .iter()
                .position(|o| o.name == new.name)
                .and_then(|o| self.nats[o].take());
            if let (Some(t), Some(old)) = (table.as_mut(), old)
                && old.config() == t.config()
            {
                *t = old;
            }
        }
        self.nats = fresh;
        for (table, eni) in self.conntrack.iter_mut().zip(&topology.enis) {
            table.set_timeouts(eni.conntrack);
        }
        // A deleted NAT gateway's interface is no longer covered.
        if topology.flow_logs != self.topology.flow_logs
            || topology.nat_gateways != self.topology.nat_gateways
        {
            // Records of the old accumulators name flow logs by their old index: keep
            // those of flow logs that still exist (by name) under their new index.
            let mut flushed = Vec::new();
            self.flow_logs.flush_all(now, &mut flushed);
            let old = &self.topology.flow_logs;
            self.pending_records
                .extend(flushed.into_iter().filter_map(|mut r| {
                    let name = &old.get(r.log.index())?.name;
                    let new = topology.flow_logs.iter().position(|l| &l.name == name)?;
                    r.log = vpc_config::FlowLogId(new as u32);
                    Some(r)
                }));
            self.flow_logs = FlowLogs::new(topology, self.limits.flow_log_records, now);
        }
        self.topology = topology.clone();
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
        let verdict = match self.stages(now, from, pkt, &mut shape, &mut Mode::Live) {
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
            Verdict::Drop(_) => (0, 0),
        };
        self.counters.record(from, shape.wire(len_in), verdict, out);
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
    /// live configuration and state and returns every stage's decision, changing nothing.
    pub fn trace(
        &mut self,
        now: Time,
        from: impl Into<Port>,
        dst: std::net::Ipv4Addr,
        probe: Probe,
    ) -> Trace {
        let from = from.into();
        let src = match from {
            Port::Eni(e) => self.tables.eni(e).ip,
            Port::Host(h) => self.tables.host_addrs[h.index()],
        };
        let mut pkt = trace::build(src, dst, probe);
        let mut steps = Vec::new();
        let (mode, mut shape) = (&mut Mode::Trace(&mut steps), Shape::PLAIN);
        let verdict = match self.stages(now, from, &mut pkt, &mut shape, mode) {
            Ok(v) | Err(v) => v,
        };
        Trace {
            src,
            steps,
            verdict,
        }
    }

    /// The stages in order. `Err` carries an early verdict (a drop or a reply).
    ///
    /// A packet from an ENI is checked (stages 1-4) and routed (5-6); one from an
    /// internet host goes to the internet router. Then it hops until it reaches a port:
    /// each hop between two places of a VPC passes the firewall stages (9-12) between
    /// them; a NAT gateway translates and routes again in its own subnet; the internet
    /// gateway translates 1:1 and hands the packet to the internet router, which
    /// delivers to an internet host or to the internet gateway owning the address.
    fn stages(
        &mut self,
        now: Time,
        from: Port,
        pkt: &mut PacketBuf,
        shape_out: &mut Shape,
        mode: &mut Mode<'_>,
    ) -> Result<Verdict, Verdict> {
        let (ip, trimmed) = sanity::check(pkt)?;
        if trimmed == Trimmed::Yes && mode.live() {
            self.counters.router.trailing_bytes_trimmed += 1;
        }
        let shape = offload::check(pkt.offload(), pkt.as_bytes(), &ip)?;
        *shape_out = shape;
        if shape.gso != Gso::None && mode.live() {
            self.counters.router.superpackets += 1;
        }
        if ip.frag_offset != 0 {
            return self.later_fragment(now, from, pkt, &ip, mode);
        }
        let first_fragment = ip
            .more_fragments
            .then(|| DatagramKey::of(from, pkt.as_bytes(), &ip));
        let verdict = self.walk(now, from, pkt, ip, shape, mode)?;
        if let (Some(key), Verdict::Forward { to }, true) = (first_fragment, verdict, mode.live()) {
            let b = pkt.as_bytes();
            let addr = |at: usize| std::net::Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3]);
            let mtu = pkt.fragment_mtu();
            self.fragments
                .remember(now, key, to, (addr(12), addr(16)), mtu);
        }
        Ok(verdict)
    }

    /// A non-first fragment: its datagram's verdict and addresses, if its first
    /// fragment was forwarded (see `frag`).
    fn later_fragment(
        &mut self,
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
        let sent = self
            .fragments
            .lookup(now, &DatagramKey::of(from, pkt.as_bytes(), ip))
            .ok_or(DropReason::Fragment)?;
        let up = match sent.to {
            Port::Eni(e) => self.link_up[e.index()],
            Port::Host(h) => self.host_up[h.index()],
        };
        if !up {
            return Err(DropReason::EniDown.into());
        }
        if mode.live() {
            let mut header = *ip;
            if ip.src != sent.src {
                rewrite::rewrite(pkt.as_bytes_mut(), &header, End::Src, sent.src, None, false);
                header.src = sent.src;
            }
            if ip.dst != sent.dst {
                rewrite::rewrite(pkt.as_bytes_mut(), &header, End::Dst, sent.dst, None, false);
            }
        }
        pkt.set_fragment_mtu(sent.mtu);
        Ok(Verdict::Forward { to: sent.to })
    }

    /// The walk of a packet that is not a later fragment: checks, routing, then hops.
    fn walk(
        &mut self,
        now: Time,
        from: Port,
        pkt: &mut PacketBuf,
        mut ip: Ipv4Header,
        shape: Shape,
        mode: &mut Mode<'_>,
    ) -> Result<Verdict, Verdict> {
        let (mut at, mut next) = match from {
            Port::Eni(e) => {
                let eni = self.tables.eni(e);
                antispoof::check(eni, &ip)?;
                let vpc = eni.vpc;
                let dst = destination::classify(&self.tables, vpc, ip.dst)?;
                if dst == Dst::Router {
                    router::answer(pkt, &ip, self.ident())?;
                    mode.step(Step::Router);
                    return Ok(Verdict::Reply {
                        to: from,
                        reply: Reply::EchoReply,
                    });
                }
                let at = Node::Eni(e);
                let hop = self.route(at, eni.route_table, dst, &ip, mode)?;
                (Some(at), Some(hop))
            }
            Port::Host(h) => {
                if ip.src != self.tables.host_addrs[h.index()] {
                    return Err(DropReason::SpoofedSource.into());
                }
                destination::check_public(ip.dst)?;
                (None, None)
            }
        };
        if let Err(cause) = ttl::check(&ip) {
            return Err(self.icmp_error(now, from, pkt, &ip, cause, icmp_error::TIME_EXCEEDED));
        }
        let mut f = l4::parse(pkt.as_bytes(), &ip, shape)?;
        for _ in 0..MAX_HOPS {
            let Some(hop) = next else {
                // On the internet: to a host, or to the internet gateway owning the address.
                if let Some(h) = self.tables.host(ip.dst) {
                    mode.step(Step::Internet { to: h });
                    if !self.host_up[h.index()] {
                        return Err(DropReason::EniDown.into());
                    }
                    return Ok(Verdict::Forward { to: Port::Host(h) });
                }
                let (vpc, private) = self
                    .tables
                    .private_of(ip.dst)
                    .ok_or(DropReason::InternetNoRoute)?;
                self.mtu(now, from, pkt, &ip, &f)?;
                let public = ip.dst;
                xlate::translate(pkt.as_bytes_mut(), &mut ip, &mut f, End::Dst, private, None);
                mode.step(Step::InternetGateway {
                    vpc,
                    direction: Direction::Ingress,
                    before: public,
                    after: private,
                });
                at = Some(Node::Igw(vpc));
                next = Some(self.igw_inbound(vpc, &ip, mode)?);
                continue;
            };
            let sender = at.ok_or(DropReason::InternetNoRoute)?;
            match hop {
                Hop::Eni(to) => {
                    mode.step(Step::Deliver { to });
                    self.firewall(now, sender, Node::Eni(to), &f, mode)?;
                    return Ok(Verdict::Forward { to: Port::Eni(to) });
                }
                Hop::Igw(vpc) => {
                    self.firewall(now, sender, Node::Igw(vpc), &f, mode)?;
                    let public = self
                        .tables
                        .public_of(vpc, ip.src)
                        .ok_or(DropReason::IgwNoPublicIp)?;
                    self.mtu(now, from, pkt, &ip, &f)?;
                    let private = ip.src;
                    xlate::translate(pkt.as_bytes_mut(), &mut ip, &mut f, End::Src, public, None);
                    mode.step(Step::InternetGateway {
                        vpc,
                        direction: Direction::Egress,
                        before: private,
                        after: public,
                    });
                    at = None;
                    next = None;
                }
                Hop::NatOut(n) => {
                    self.firewall(now, sender, Node::Nat(n), &f, mode)?;
                    next = Some(self.nat_gateway(now, n, from, pkt, &mut ip, &mut f, true, mode)?);
                    at = Some(Node::Nat(n));
                }
                Hop::NatIn(n) => {
                    self.firewall(now, sender, Node::Nat(n), &f, mode)?;
                    next = Some(self.nat_gateway(now, n, from, pkt, &mut ip, &mut f, false, mode)?);
                    at = Some(Node::Nat(n));
                }
            }
        }
        Err(DropReason::HopLimit.into())
    }

    /// Where the internet gateway of `vpc` sends a packet from the internet whose
    /// destination it translated to a private address: by its gateway route table if
    /// it has one (AWS's ingress routing: a subnet's traffic to an appliance first),
    /// else to the interface or NAT gateway that has the address. An appliance a gateway
    /// route sends to must have a public address of its own (AWS: "for traffic that
    /// flows through an internet gateway, the target network interface must also have a
    /// public IP address"), else `igw-no-public-ip`.
    fn igw_inbound(
        &self,
        vpc: VpcId,
        ip: &Ipv4Header,
        mode: &mut Mode<'_>,
    ) -> Result<Hop, DropReason> {
        let Some(table) = self.tables.gateway_tables[vpc.index()] else {
            return match self.tables.classify(vpc, ip.dst) {
                Some(AddrClass::Eni(e)) if self.link_up[e.index()] => Ok(Hop::Eni(e)),
                Some(AddrClass::Eni(_)) => Err(DropReason::EniDown),
                Some(AddrClass::Nat(n)) => Ok(Hop::NatIn(n)),
                _ => Err(DropReason::InternetNoRoute),
            };
        };
        let dst = destination::classify(&self.tables, vpc, ip.dst)?;
        let hop = self.route(Node::Igw(vpc), table, dst, ip, mode)?;
        match hop {
            Hop::Eni(e) if dst != Dst::Host(e) => {
                let appliance = self.tables.eni(e).ip;
                self.tables
                    .public_of(vpc, appliance)
                    .ok_or(DropReason::IgwNoPublicIp)?;
                Ok(hop)
            }
            _ => Ok(hop),
        }
    }

    /// Stages 5-6 for a packet sent by `at` with route table `table`: the route, then
    /// the next hop.
    fn route(
        &self,
        at: Node,
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
        deliver::next_hop(
            &self.tables,
            &self.topology,
            &self.link_up,
            at,
            route,
            dst,
            ip,
        )
    }

    /// The internet gateway's MTU: a packet larger than 1500 bytes with DF set is
    /// answered with ICMP fragmentation needed (RFC 1191) from the origin's router;
    /// without DF it is fragmented when it is written (AWS: "they are fragmented").
    fn mtu(
        &mut self,
        now: Time,
        origin: Port,
        pkt: &mut PacketBuf,
        ip: &Ipv4Header,
        f: &Facts,
    ) -> Result<(), Verdict> {
        // A superpacket fits if each of its segments does.
        let len = f.shape.segment_len(ip.total_len);
        if len <= natgw::INTERNET_MTU {
            return Ok(());
        }
        if !ip.dont_fragment {
            // A superpacket's segments are not fragmented (docs/offloads.md).
            if f.shape.gso == Gso::None {
                pkt.set_fragment_mtu(Some(natgw::INTERNET_MTU as u16));
            }
            return Ok(());
        }
        Err(self.icmp_error(
            now,
            origin,
            pkt,
            ip,
            DropReason::TooBig,
            icmp_error::frag_needed(natgw::INTERNET_MTU),
        ))
    }

    /// A NAT gateway: `outbound` for a packet routed to it from the inside (source
    /// NAT, after routing in its subnet), else a packet to its own address (translated
    /// back, then routed in its subnet). Returns the next hop. Its metrics count what
    /// comes in and goes out on each side and what it drops.
    #[allow(clippy::too_many_arguments)]
    fn nat_gateway(
        &mut self,
        now: Time,
        n: NatGatewayId,
        origin: Port,
        pkt: &mut PacketBuf,
        ip: &mut Ipv4Header,
        f: &mut Facts,
        outbound: bool,
        mode: &mut Mode<'_>,
    ) -> Result<Hop, Verdict> {
        // Trace mode works on a copy of the table, so nothing it does is kept.
        let Some(mut table) = (if mode.live() {
            self.nats[n.index()].take()
        } else {
            self.nats[n.index()].clone()
        }) else {
            return Err(DropReason::RouteBlackhole.into());
        };
        let len = u64::from(f.len);
        let result = if outbound {
            table.metrics.packets_in_from_source += 1;
            table.metrics.bytes_in_from_source += len;
            self.nat_outbound(now, n, &mut table, origin, pkt, ip, f, mode)
        } else {
            table.metrics.packets_in_from_destination += 1;
            table.metrics.bytes_in_from_destination += len;
            self.nat_inbound(now, n, &mut table, pkt, ip, f, mode)
        };
        let m = &mut table.metrics;
        match (&result, outbound) {
            (Err(_), _) => m.packets_drop_count += 1,
            (Ok(_), true) => {
                m.packets_out_to_destination += 1;
                m.bytes_out_to_destination += len;
            }
            (Ok(_), false) => {
                m.packets_out_to_source += 1;
                m.bytes_out_to_source += len;
            }
        }
        if mode.live() {
            self.nats[n.index()] = Some(table);
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn nat_outbound(
        &mut self,
        now: Time,
        n: NatGatewayId,
        table: &mut NatTable,
        origin: Port,
        pkt: &mut PacketBuf,
        ip: &mut Ipv4Header,
        f: &mut Facts,
        mode: &mut Mode<'_>,
    ) -> Result<Hop, Verdict> {
        natgw::supported(ip, f)?;
        let hop = self.nat_route(n, ip, mode)?;
        if let Hop::Igw(_) = hop {
            if self.topology.nat_gateway(n).connectivity == NatConnectivity::Private {
                return Err(DropReason::NatPrivateToIgw.into());
            }
            self.mtu(now, origin, pkt, ip, f)?;
        }
        let before = (f.tuple.src, f.tuple.src_port);
        let (addr, port) = match f.l4 {
            L4::IcmpError { quoted, .. } => table
                .reverse_of_inside(&quoted)
                .ok_or(DropReason::IcmpErrorNoFlow)?,
            // An echo reply going out answers nothing the NAT gateway let in.
            L4::IcmpEcho { request: false, .. } => {
                return Err(DropReason::NatUnsolicited.into());
            }
            _ => match table.outbound(now, &f.tuple, natgw::tcp_flags(f)) {
                Ok(mapped) => mapped,
                Err(OutboundMiss::PortAllocation) => {
                    return Err(DropReason::NatPortAllocation.into());
                }
                Err(OutboundMiss::TableFull) => return Err(DropReason::NatTableFull.into()),
                Err(OutboundMiss::NoMapping) => {
                    if let L4::Tcp(tcp) = f.l4 {
                        if !natgw::deserves_reset(&tcp) {
                            return Err(DropReason::NatNoMapping.into());
                        }
                        mode.step(Step::NatGateway {
                            nat: n,
                            direction: Direction::Egress,
                            before,
                            after: None,
                        });
                        natgw::reset(pkt, ip, f, &tcp, self.ident());
                        return Err(Verdict::Reply {
                            to: origin,
                            reply: Reply::TcpReset {
                                cause: DropReason::NatNoMapping,
                            },
                        });
                    }
                    return Err(DropReason::NatUnsolicited.into());
                }
            },
        };
        xlate::translate(pkt.as_bytes_mut(), ip, f, End::Src, addr, Some(port));
        mode.step(Step::NatGateway {
            nat: n,
            direction: Direction::Egress,
            before,
            after: Some((addr, port)),
        });
        Ok(hop)
    }

    #[allow(clippy::too_many_arguments)]
    fn nat_inbound(
        &mut self,
        now: Time,
        n: NatGatewayId,
        table: &mut NatTable,
        pkt: &mut PacketBuf,
        ip: &mut Ipv4Header,
        f: &mut Facts,
        mode: &mut Mode<'_>,
    ) -> Result<Hop, Verdict> {
        natgw::supported(ip, f)?;
        let before = (f.tuple.dst, f.tuple.dst_port);
        let inside = match f.l4 {
            L4::IcmpError { quoted, .. } => table.inside_of_quoted(&quoted),
            L4::IcmpEcho { request: true, .. } => None,
            _ => table.inbound(now, &f.tuple, natgw::tcp_flags(f)),
        };
        let Some((addr, port)) = inside else {
            mode.step(Step::NatGateway {
                nat: n,
                direction: Direction::Ingress,
                before,
                after: None,
            });
            return Err(DropReason::NatUnsolicited.into());
        };
        xlate::translate(pkt.as_bytes_mut(), ip, f, End::Dst, addr, Some(port));
        mode.step(Step::NatGateway {
            nat: n,
            direction: Direction::Ingress,
            before,
            after: Some((addr, port)),
        });
        Ok(self.nat_route(n, ip, mode)?)
    }

    /// Stages 3, 5 and 6 for a packet NAT gateway `n` sends on: its subnet's route table.
    fn nat_route(
        &self,
        n: NatGatewayId,
        ip: &Ipv4Header,
        mode: &mut Mode<'_>,
    ) -> Result<Hop, DropReason> {
        let s = self.topology.subnet(self.topology.nat_gateway(n).subnet);
        let dst = destination::classify(&self.tables, s.vpc, ip.dst)?;
        self.route(Node::Nat(n), s.route_table, dst, ip, mode)
    }

    /// Stages 9-12 between two places of a VPC: the sender's security group (if it is
    /// an ENI), the NACLs of the subnets the packet leaves and enters (a NAT gateway is
    /// in its subnet, the internet gateway in none), the receiver's security group (if
    /// it is an ENI); each ENI's flow log records its own view.
    fn firewall(
        &mut self,
        now: Time,
        from: Node,
        to: Node,
        f: &Facts,
        mode: &mut Mode<'_>,
    ) -> Result<(), DropReason> {
        let (src_subnet, dst_subnet) = (self.node_subnet(from), self.node_subnet(to));
        let crossing = src_subnet != dst_subnet;
        // AWS tracks flows through a NAT gateway whatever the groups say.
        let always_tracked = matches!(from, Node::Nat(_)) || matches!(to, Node::Nat(_));
        // The flow cache: the sending ENI's entry for this flow may know that both
        // network ACLs below allowed this direction of the flow in this configuration.
        let mut cache = NaclCache::None;
        let sent = match from {
            Node::Eni(e) => {
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
        if let (Node::Eni(e), true, NaclCache::Unknown, Ok(())) = (from, crossing, cache, &received)
        {
            self.conntrack[e.index()].remember_nacls(now, f, self.generation);
        }
        let received = received.and_then(|()| match to {
            Node::Eni(e) => {
                let side = (e, Direction::Ingress, always_tracked);
                self.security_group(now, side, f, mode, &mut NaclCache::None)
            }
            _ => Ok(()),
        });
        self.log(now, (from, to), Direction::Ingress, f, &received, mode);
        received
    }

    /// The subnet a place is in.
    fn node_subnet(&self, node: Node) -> Option<SubnetId> {
        match node {
            Node::Eni(e) => Some(self.tables.eni(e).subnet),
            Node::Nat(n) => Some(self.topology.nat_gateway(n).subnet),
            Node::Igw(_) => None,
        }
    }

    /// A security group stage on ENI `eni` in `direction`: its connection table first;
    /// for a packet of no tracked flow, the rules; a tracked flow the rules allow is
    /// inserted (every flow is tracked if `always_tracked`: through a NAT gateway). An
    /// ICMP error about no tracked flow is judged by the rules as an ICMP message and
    /// never inserted. `cache` says what the flow cache knows about the network ACLs
    /// after this ENI for this packet (see `firewall`).
    fn security_group(
        &mut self,
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
        let table = &mut self.conntrack[eni.index()];
        let looked = if mode.live() {
            let (looked, known) = table.lookup_cached(now, f, self.generation);
            *cache = match (&looked, known) {
                (Ok(Lookup::Tracked(_)), true) => NaclCache::Allowed,
                (Ok(Lookup::Tracked(_)), false) => NaclCache::Unknown,
                _ => NaclCache::None,
            };
            looked
        } else {
            table.peek(now, f)
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
                let result = match decision {
                    SgDecision::Denied if error => Err(DropReason::IcmpErrorNoFlow),
                    SgDecision::Denied => Err(denied),
                    // An ICMP error is never a flow of its own.
                    SgDecision::Allowed { .. } if error => Ok(()),
                    SgDecision::Allowed { tracked: false, .. } => Ok(()),
                    SgDecision::Allowed { tracked: true, .. } if mode.live() => {
                        self.conntrack[eni.index()].insert(now, f)
                    }
                    SgDecision::Allowed { tracked: true, .. } => Ok(()),
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
        subnet: vpc_config::SubnetId,
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
        &mut self,
        now: Time,
        (from, to): (Node, Node),
        direction: Direction,
        f: &Facts,
        result: &Result<(), DropReason>,
        mode: &Mode<'_>,
    ) {
        let place = match direction {
            Direction::Egress => from,
            Direction::Ingress => to,
        };
        let Some(iface) = place.interface() else {
            return;
        };
        if !mode.live() || !self.flow_logs.covers(iface) {
            return;
        }
        let path = match (direction, from, to) {
            (Direction::Ingress, ..) => None,
            (_, Node::Eni(_), Node::Igw(_)) => Some(TrafficPath::InternetGateway),
            (_, _, Node::Igw(_)) => Some(TrafficPath::InternetGatewayOrEndpoint),
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
        self.flow_logs.record(now, iface, &record);
    }

    /// The verdict for a packet from `origin` dropped for `cause` that deserves ICMP
    /// error `e`: the error in its place if RFC 1812 and the rate limit allow, else a
    /// plain drop. The error comes from the VPC router of the origin ENI's subnet, or
    /// for an internet host from the internet router.
    fn icmp_error(
        &mut self,
        now: Time,
        origin: Port,
        pkt: &mut PacketBuf,
        ip: &Ipv4Header,
        cause: DropReason,
        e: icmp_error::IcmpError,
    ) -> Verdict {
        if !icmp_error::allowed_about(pkt, ip) {
            return Verdict::Drop(cause);
        }
        if !self.icmp_limit.allow(now) {
            self.counters.router.icmp_errors_rate_limited += 1;
            return Verdict::Drop(cause);
        }
        let router = match origin {
            Port::Eni(e) => self.tables.eni(e).router,
            Port::Host(_) => addressing::INTERNET_ROUTER,
        };
        let ident = self.ident();
        icmp_error::build(pkt, ip, router, e, ident);
        Verdict::Reply {
            to: origin,
            reply: Reply::IcmpError { cause },
        }
    }

    fn ident(&mut self) -> u16 {
        let i = self.next_ident;
        self.next_ident = i.wrapping_add(1);
        i
    }

    /// Removes flows and NAT translations idle past their timeouts; returns how many. The daemon calls this
    /// about once a second.
    pub fn expire(&mut self, now: Time) -> usize {
        let flows: usize = self.conntrack.iter_mut().map(|t| t.expire(now)).sum();
        let nat: usize = self.nats.iter_mut().flatten().map(|t| t.expire(now)).sum();
        self.fragments.expire(now);
        flows + nat
    }

    /// Appends the flow-log records of every aggregation interval that has ended by
    /// `now` (and records left by a configuration change).
    pub fn flush_flow_logs(&mut self, now: Time, out: &mut Vec<FlowRecord>) {
        out.append(&mut self.pending_records);
        self.flow_logs.flush_due(now, out);
    }

    /// Appends every flow-log record accumulated so far (at shutdown).
    pub fn flush_all_flow_logs(&mut self, now: Time, out: &mut Vec<FlowRecord>) {
        out.append(&mut self.pending_records);
        self.flow_logs.flush_all(now, out);
    }

    /// The flows ENI `eni` tracks.
    pub fn flows(&self, eni: EniId, now: Time) -> impl Iterator<Item = FlowInfo> + '_ {
        self.conntrack[eni.index()].flows(now)
    }

    /// ENI `eni`'s connection-table counters and current size.
    pub fn conntrack_stats(&self, eni: EniId) -> (ConntrackStats, usize) {
        let t = &self.conntrack[eni.index()];
        (t.stats(), t.len())
    }

    /// Marks ENI `eni`'s device up or down. Packets to a down ENI are dropped
    /// (`eni-down`), and routes targeting it turn `blackhole`.
    pub fn set_link(&mut self, eni: EniId, up: bool) {
        self.link_up[eni.index()] = up;
    }

    /// Marks internet host `host`'s device up or down. Packets to a down host are
    /// dropped (`eni-down`).
    pub fn set_host_link(&mut self, host: HostId, up: bool) {
        self.host_up[host.index()] = up;
    }

    /// The configuration it runs (after [`Self::apply`], the applied one).
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// NAT gateway `nat`'s CloudWatch metrics (zero for a deleted one).
    pub fn nat_metrics(&self, nat: NatGatewayId) -> NatMetrics {
        self.nats[nat.index()]
            .as_ref()
            .map_or(NatMetrics::default(), |t| {
                let mut m = t.metrics;
                m.active_connection_count = t.active_tcp() as u64;
                m
            })
    }

    /// NAT gateway `nat`'s translations.
    pub fn nat_mappings(&self, nat: NatGatewayId, now: Time) -> Vec<NatMapping> {
        self.nats[nat.index()]
            .as_ref()
            .map(|t| t.mappings(now).collect())
            .unwrap_or_default()
    }

    /// Whether ENI `eni` is up.
    pub fn link_up(&self, eni: EniId) -> bool {
        self.link_up[eni.index()]
    }

    /// The routes of route table `table` as the dataplane holds them, with their state.
    pub fn routes(&self, table: RouteTableId) -> impl Iterator<Item = (Route, RouteState)> + '_ {
        let vpc = self.topology.route_table(table).vpc;
        self.tables.route_tables[table.index()]
            .routes()
            .map(move |r| (*r, self.route_state(vpc, r)))
    }

    fn route_state(&self, vpc: VpcId, route: &Route) -> RouteState {
        let gone = match route.target {
            RouteTarget::Local => false,
            RouteTarget::Eni(e) => !self.link_up[e.index()],
            RouteTarget::InternetGateway(g) => self.topology.internet_gateway(g).vpc != Some(vpc),
            RouteTarget::NatGateway(n) => self.topology.nat_gateway(n).deleted,
        };
        if gone {
            RouteState::Blackhole
        } else {
            RouteState::Active
        }
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{self, ipv4};
    use crate::wire::checksum;
    use std::time::Duration;

    /// Echo request app (10.0.2.10) -> its subnet router 10.0.2.1, id 0x1234 seq 1, "abcd".
    const ECHO_TO_ROUTER: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0x06, 0x8d, 0x0a, 0x00, 0x02,
        0x0a, 0x0a, 0x00, 0x02, 0x01, // IPv4
        0x08, 0x00, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, // ICMP
    ];
    /// The router's reply: addresses swapped, ident 1, no DF, TTL 64, type 0.
    const ECHO_REPLY_FROM_ROUTER: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x62, 0xd2, 0x0a, 0x00, 0x02,
        0x01, 0x0a, 0x00, 0x02, 0x0a, // IPv4
        0x00, 0x00, 0x29, 0x04, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, // ICMP
    ];
    /// UDP 10.0.1.10:12345 -> 10.0.12.10:53 with TTL 0, "hiya".
    const UDP_TTL_0: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20, 0x01, 0x01, 0x40, 0x00, 0x00, 0x11, 0x58, 0xb9, 0x0a, 0x00, 0x01,
        0x0a, 0x0a, 0x00, 0x0c, 0x0a, // IPv4
        0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 0x68, 0x69, 0x79, 0x61, // UDP
    ];
    /// Time exceeded from web's router 10.0.1.1 quoting all of UDP_TTL_0.
    const TIME_EXCEEDED: [u8; 60] = [
        0x45, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x64, 0xb6, 0x0a, 0x00, 0x01,
        0x01, 0x0a, 0x00, 0x01, 0x0a, // IPv4
        0x0b, 0x00, 0xe2, 0xba, 0x00, 0x00, 0x00, 0x00, // ICMP time exceeded
        0x45, 0x00, 0x00, 0x20, 0x01, 0x01, 0x40, 0x00, 0x00, 0x11, 0x58, 0xb9, 0x0a, 0x00, 0x01,
        0x0a, 0x0a, 0x00, 0x0c, 0x0a, 0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 0x68, 0x69,
        0x79, 0x61, // the quoted datagram
    ];

    const WEB: EniId = EniId(0);
    const APP: EniId = EniId(1);
    const DB: EniId = EniId(2);
    const T0: Time = Time::from_secs(100);

    /// The demo, plus (with `extra`) more configuration appended.
    /// The demo (plus `extra`) with its firewall opened: every security group allows
    /// everything in and every NACL allows everything both ways, and every subnet on
    /// the main route table (local routes only). These tests are about routing inside a
    /// VPC; `firewall_tests.rs` tests the firewall, `internet_tests.rs` the gateways.
    fn topology(extra: &str) -> Topology {
        let mut section = "";
        let demo: Vec<&str> = vpc_config::DEMO_TOML
            .lines()
            .map(|line| {
                if line.starts_with("[[") {
                    section = line;
                }
                if section == "[[route_table]]" && line.starts_with("subnets =") {
                    "subnets = []"
                } else {
                    line
                }
            })
            .collect();
        let src = format!("{}\n{extra}", demo.join("\n"));
        let mut t = vpc_config::parse(&src, "test.toml").unwrap_or_else(|e| panic!("{e}"));
        let everything = vpc_config::SgRule {
            protocol: vpc_config::Protocol::All,
            l4: vpc_config::L4Match::Any,
            peer: vpc_config::SgPeer::Cidr(ipnet::Ipv4Net::default()),
            description: None,
        };
        for g in &mut t.security_groups {
            g.ingress = vec![everything.clone()];
        }
        let allow = vpc_config::NaclRule {
            number: 100,
            protocol: vpc_config::Protocol::All,
            l4: vpc_config::L4Match::Any,
            cidr: ipnet::Ipv4Net::default(),
            action: vpc_config::RuleAction::Allow,
        };
        for n in &mut t.network_acls {
            n.ingress = vec![allow];
            n.egress = vec![allow];
        }
        t
    }

    /// An ICMP echo request (identifier 7, sequence 1, "ping") with a valid checksum.
    fn echo(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        testkit::echo(src, dst, true, 7)
    }

    /// Every counter that differs between `a` and `b`, as `name: delta`.
    fn delta(t: &Topology, a: &Counters, b: &Counters) -> Vec<String> {
        let mut out = Vec::new();
        for id in t.eni_ids() {
            let (x, y) = (a.eni(id), b.eni(id));
            let name = t.eni_name(id);
            for (field, before, after) in [
                ("rx_packets", x.rx_packets, y.rx_packets),
                ("rx_bytes", x.rx_bytes, y.rx_bytes),
                ("tx_packets", x.tx_packets, y.tx_packets),
                ("tx_bytes", x.tx_bytes, y.tx_bytes),
            ] {
                if before != after {
                    out.push(format!("{name} {field} +{}", after - before));
                }
            }
            for r in DropReason::ALL {
                let d = y.dropped(*r) - x.dropped(*r);
                if d != 0 {
                    out.push(format!("{name} drop {} +{d}", r.name()));
                }
            }
        }
        let (x, y) = (&a.router, &b.router);
        for (field, before, after) in [
            ("echo_replies", x.echo_replies, y.echo_replies),
            ("icmp_errors_sent", x.icmp_errors_sent, y.icmp_errors_sent),
            (
                "icmp_errors_rate_limited",
                x.icmp_errors_rate_limited,
                y.icmp_errors_rate_limited,
            ),
            (
                "trailing_bytes_trimmed",
                x.trailing_bytes_trimmed,
                y.trailing_bytes_trimmed,
            ),
        ] {
            if before != after {
                out.push(format!("router {field} +{}", after - before));
            }
        }
        out
    }

    /// Runs one packet; returns the verdict, the packet after, and the counter changes.
    fn run(
        dp: &mut Dataplane,
        t: &Topology,
        from: EniId,
        bytes: &[u8],
    ) -> (Verdict, Vec<u8>, Vec<String>) {
        let before = dp.counters().clone();
        let mut pkt = PacketBuf::from_bytes(bytes);
        let v = dp.process(T0, from, &mut pkt);
        let d = delta(t, &before, dp.counters());
        (v, pkt.as_bytes().to_vec(), d)
    }

    #[test]
    fn between_subnets_a_packet_is_forwarded_unchanged() {
        let t = topology("");
        let mut dp = Dataplane::new(&t);
        let ping = echo([10, 0, 1, 10], [10, 0, 12, 10]);
        let (v, out, d) = run(&mut dp, &t, WEB, &ping);
        assert_eq!(v, Verdict::Forward { to: Port::Eni(DB) });
        // The VPC router is not a hop: not even the TTL changes.
        assert_eq!(out, ping);
        assert_eq!(
            d,
            [
                "web/eth0 rx_packets +1",
                "web/eth0 rx_bytes +32",
                "db/eth0 tx_packets +1",
                "db/eth0 tx_bytes +32"
            ]
        );
        // And back.
        let (v, _, _) = run(&mut dp, &t, DB, &echo([10, 0, 12, 10], [10, 0, 1, 10]));
        assert_eq!(v, Verdict::Forward { to: Port::Eni(WEB) });
    }

    #[test]
    fn ttl_1_is_forwarded_because_the_router_is_not_a_hop() {
        let t = topology("");
        let mut dp = Dataplane::new(&t);
        let p = ipv4(
            [10, 0, 1, 10],
            [10, 0, 2, 10],
            1,
            17,
            &[0, 1, 0, 2, 0, 8, 0, 0],
        );
        let (v, out, _) = run(&mut dp, &t, WEB, &p);
        assert_eq!((v, out), (Verdict::Forward { to: Port::Eni(APP) }, p));
    }

    #[test]
    fn the_subnet_router_answers_echo_in_place() {
        let t = topology("");
        let mut dp = Dataplane::new(&t);
        let (v, out, d) = run(&mut dp, &t, APP, &ECHO_TO_ROUTER);
        assert_eq!(
            v,
            Verdict::Reply {
                to: Port::Eni(APP),
                reply: Reply::EchoReply
            }
        );
        assert_eq!(out, ECHO_REPLY_FROM_ROUTER);
        assert_eq!(
            d,
            [
                "app/eth0 rx_packets +1",
                "app/eth0 rx_bytes +32",
                "app/eth0 tx_packets +1",
                "app/eth0 tx_bytes +32",
                "router echo_replies +1"
            ]
        );
        // Another subnet's router address answers too: it is one router.
        let (v, out, _) = run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [10, 0, 12, 1]));
        assert_eq!(
            v,
            Verdict::Reply {
                to: Port::Eni(WEB),
                reply: Reply::EchoReply
            }
        );
        assert_eq!(&out[12..20], &[10, 0, 12, 1, 10, 0, 1, 10]);
        assert!(checksum::verifies(&out[..20]) && checksum::verifies(&out[20..]));
    }

    #[test]
    fn an_echo_with_options_is_answered_without_them() {
        let t = topology("");
        let mut dp = Dataplane::new(&t);
        // ECHO_TO_ROUTER with a 4-byte NOP option (IHL 6).
        let mut p = ECHO_TO_ROUTER[..20].to_vec();
        p[0] = 0x46;
        p[3] = 36;
        p.extend_from_slice(&[1, 1, 1, 1]);
        p.extend_from_slice(&ECHO_TO_ROUTER[20..]);
        p[10] = 0;
        p[11] = 0;
        let c = checksum::internet(&p[..24]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        let (v, out, _) = run(&mut dp, &t, APP, &p);
        assert_eq!(
            v,
            Verdict::Reply {
                to: Port::Eni(APP),
                reply: Reply::EchoReply
            }
        );
        assert_eq!(out, ECHO_REPLY_FROM_ROUTER);
    }

    #[test]
    fn the_router_answers_nothing_but_a_valid_echo_request() {
        let t = topology("");
        let mut dp = Dataplane::new(&t);
        let tcp = ipv4([10, 0, 2, 10], [10, 0, 2, 1], 64, 6, &[0; 20]);
        let (v, _, d) = run(&mut dp, &t, APP, &tcp);
        assert_eq!(v, Verdict::Drop(DropReason::RouterUnsupported));
        assert_eq!(
            d,
            [
                "app/eth0 rx_packets +1",
                "app/eth0 rx_bytes +40",
                "app/eth0 drop router-unsupported +1"
            ]
        );
        let mut bad = ECHO_TO_ROUTER;
        bad[31] ^= 0xff; // payload changed, ICMP checksum now wrong
        assert_eq!(
            run(&mut dp, &t, APP, &bad).0,
            Verdict::Drop(DropReason::BadIcmp)
        );
        let short = ipv4([10, 0, 2, 10], [10, 0, 2, 1], 64, 1, &[8, 0, 0xf7, 0xff]);
        assert_eq!(
            run(&mut dp, &t, APP, &short).0,
            Verdict::Drop(DropReason::BadIcmp)
        );
        // An echo reply to the router is not answered.
        let mut reply = ECHO_TO_ROUTER;
        reply[20] = 0;
        reply[22] = 0x29;
        assert_eq!(
            run(&mut dp, &t, APP, &reply).0,
            Verdict::Drop(DropReason::RouterUnsupported)
        );
        // Nor a fragment of an echo request.
        let mut frag = ECHO_TO_ROUTER;
        frag[6] = 0x20; // MF
        frag[10] = 0;
        frag[11] = 0;
        let c = checksum::internet(&frag[..20]);
        frag[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(
            run(&mut dp, &t, APP, &frag).0,
            Verdict::Drop(DropReason::RouterUnsupported)
        );
        assert_eq!(dp.counters().router.echo_replies, 0);
    }

    #[test]
    fn reserved_broadcast_multicast_and_martian_destinations_are_dropped() {
        let t = topology("");
        let mut dp = Dataplane::new(&t);
        for (dst, reason) in [
            ([10, 0, 2, 255], DropReason::DstBroadcast),
            ([10, 0, 2, 0], DropReason::DstBroadcast),
            ([10, 0, 2, 2], DropReason::DstReserved),
            ([10, 0, 2, 3], DropReason::DstReserved),
            ([10, 0, 12, 3], DropReason::DstReserved),
            ([255, 255, 255, 255], DropReason::DstBroadcast),
            ([224, 0, 0, 1], DropReason::DstMulticast),
            ([239, 1, 2, 3], DropReason::DstMulticast),
            ([127, 0, 0, 1], DropReason::MartianDestination),
            ([0, 1, 2, 3], DropReason::MartianDestination),
            ([240, 0, 0, 1], DropReason::MartianDestination),
        ] {
            let (v, _, d) = run(&mut dp, &t, APP, &echo([10, 0, 2, 10], dst));
            assert_eq!(v, Verdict::Drop(reason), "{dst:?}");
            assert_eq!(
                d,
                [
                    "app/eth0 rx_packets +1".to_string(),
                    "app/eth0 rx_bytes +32".into(),
                    format!("app/eth0 drop {} +1", reason.name())
                ]
            );
        }
    }

    #[test]
    fn spoofed_sources_are_dropped_by_the_source_dest_check() {
        let t = topology("");
        let mut dp = Dataplane::new(&t);
        let (v, _, d) = run(&mut dp, &t, WEB, &echo([10, 0, 1, 99], [10, 0, 12, 10]));
        assert_eq!(v, Verdict::Drop(DropReason::SpoofedSource));
        assert_eq!(
            d,
            [
                "web/eth0 rx_packets +1",
                "web/eth0 rx_bytes +32",
                "web/eth0 drop spoofed-source +1"
            ]
        );
        // Even another instance's address.
        let (v, _, _) = run(&mut dp, &t, WEB, &echo([10, 0, 2, 10], [10, 0, 12, 10]));
        assert_eq!(v, Verdict::Drop(DropReason::SpoofedSource));
    }

    #[test]
    fn unknown_hosts_and_unrouted_destinations_are_dropped() {
        let t = topology("");
        let mut dp = Dataplane::new(&t);
        assert_eq!(
            run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [10, 0, 2, 99])).0,
            Verdict::Drop(DropReason::NoSuchHost)
        );
        // Inside the VPC CIDR but in no subnet (the VPC base+2 resolver is not built yet).
        assert_eq!(
            run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [10, 0, 0, 2])).0,
            Verdict::Drop(DropReason::NoSuchHost)
        );
        // The demo has no route out of the VPC (the internet gateway comes later).
        let (v, _, d) = run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [192, 0, 2, 1]));
        assert_eq!(v, Verdict::Drop(DropReason::NoRoute));
        assert_eq!(
            d,
            [
                "web/eth0 rx_packets +1",
                "web/eth0 rx_bytes +32",
                "web/eth0 drop no-route +1"
            ]
        );
    }

    #[test]
    fn ttl_0_gets_time_exceeded_from_the_senders_subnet_router() {
        let t = topology("");
        let mut dp = Dataplane::new(&t);
        let (v, out, d) = run(&mut dp, &t, WEB, &UDP_TTL_0);
        assert_eq!(
            v,
            Verdict::Reply {
                to: Port::Eni(WEB),
                reply: Reply::IcmpError {
                    cause: DropReason::TtlExpired
                }
            }
        );
        assert_eq!(out, TIME_EXCEEDED);
        assert_eq!(
            d,
            [
                "web/eth0 rx_packets +1",
                "web/eth0 rx_bytes +32",
                "web/eth0 tx_packets +1",
                "web/eth0 tx_bytes +60",
                "web/eth0 drop ttl-expired +1",
                "router icmp_errors_sent +1"
            ]
        );
    }

    #[test]
    fn no_icmp_error_about_a_non_first_fragment_or_an_icmp_error() {
        let t = topology("");
        let mut dp = Dataplane::new(&t);
        let mut frag = UDP_TTL_0;
        frag[7] = 0x10; // offset 16 * 8
        frag[10] = 0;
        frag[11] = 0;
        let c = checksum::internet(&frag[..20]);
        frag[10..12].copy_from_slice(&c.to_be_bytes());
        let (v, _, d) = run(&mut dp, &t, WEB, &frag);
        assert_eq!(v, Verdict::Drop(DropReason::TtlExpired));
        assert_eq!(
            d,
            [
                "web/eth0 rx_packets +1",
                "web/eth0 rx_bytes +32",
                "web/eth0 drop ttl-expired +1"
            ]
        );
        // A destination unreachable with TTL 0.
        let err = ipv4(
            [10, 0, 1, 10],
            [10, 0, 12, 10],
            0,
            1,
            &[3, 1, 0xfc, 0xfe, 0, 0, 0, 0],
        );
        assert_eq!(
            run(&mut dp, &t, WEB, &err).0,
            Verdict::Drop(DropReason::TtlExpired)
        );
        // But an echo request with TTL 0 does get one.
        let mut ping = echo([10, 0, 1, 10], [10, 0, 12, 10]);
        crate::wire::ipv4::set_ttl(&mut ping, 0);
        assert!(matches!(
            run(&mut dp, &t, WEB, &ping).0,
            Verdict::Reply { .. }
        ));
    }

    #[test]
    fn icmp_errors_are_rate_limited_on_the_callers_clock() {
        let t = topology("");
        let mut dp = Dataplane::new(&t);
        let before = dp.counters().clone();
        let mut sent = 0;
        for _ in 0..60 {
            let mut pkt = PacketBuf::from_bytes(&UDP_TTL_0);
            if let Verdict::Reply { .. } = dp.process(T0, WEB, &mut pkt) {
                sent += 1;
            }
        }
        assert_eq!(sent, 50);
        let d = delta(&t, &before, dp.counters());
        assert!(
            d.contains(&"web/eth0 drop ttl-expired +60".to_string()),
            "{d:?}"
        );
        assert!(
            d.contains(&"router icmp_errors_sent +50".to_string()),
            "{d:?}"
        );
        assert!(
            d.contains(&"router icmp_errors_rate_limited +10".to_string()),
            "{d:?}"
        );
        // 5 ms later, 5 more.
        let later = T0 + Duration::from_millis(5);
        let replies = (0..10)
            .filter(|_| {
                matches!(
                    dp.process(later, WEB, &mut PacketBuf::from_bytes(&UDP_TTL_0)),
                    Verdict::Reply { .. }
                )
            })
            .count();
        assert_eq!(replies, 5);
    }

    #[test]
    fn malformed_packets_are_counted_drops() {
        let t = topology("");
        let mut dp = Dataplane::new(&t);
        let (v, _, d) = run(&mut dp, &t, WEB, &[0x45, 0, 0]);
        assert_eq!(v, Verdict::Drop(DropReason::Truncated));
        assert_eq!(
            d,
            [
                "web/eth0 rx_packets +1",
                "web/eth0 rx_bytes +3",
                "web/eth0 drop truncated +1"
            ]
        );
        let mut v6 = vec![0x60; 40];
        v6[0] = 0x60;
        assert_eq!(
            run(&mut dp, &t, WEB, &v6).0,
            Verdict::Drop(DropReason::Ipv6NotEnabled)
        );
        // Trailing bytes are cut and counted, and the packet goes on.
        let mut long = echo([10, 0, 1, 10], [10, 0, 12, 10]);
        let exact = long.clone();
        long.extend_from_slice(&[0; 6]);
        let (v, out, d) = run(&mut dp, &t, WEB, &long);
        assert_eq!((v, out), (Verdict::Forward { to: Port::Eni(DB) }, exact));
        assert_eq!(
            d,
            [
                "web/eth0 rx_packets +1",
                "web/eth0 rx_bytes +38",
                "db/eth0 tx_packets +1",
                "db/eth0 tx_bytes +32",
                "router trailing_bytes_trimmed +1"
            ]
        );
    }

    const MIDDLEBOX: &str = r#"
[[instance]]
name = "fw"
subnet = "public-b"
private_ip = "10.0.11.10"
source_dest_check = false

[[route_table]]
name = "via-fw"
vpc = "demo"
subnets = ["private-a"]
route = [{ destination = "0.0.0.0/0", instance = "fw" }, { destination = "10.0.12.0/24", instance = "fw" }]
"#;
    const FW: EniId = EniId(3);

    #[test]
    fn middlebox_routes_send_to_the_appliance() {
        let t = topology(MIDDLEBOX);
        let mut dp = Dataplane::new(&t);
        // app's subnet routes the internet and private-b through fw.
        assert_eq!(
            run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [192, 0, 2, 1])).0,
            Verdict::Forward { to: Port::Eni(FW) }
        );
        assert_eq!(
            run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [10, 0, 12, 10])).0,
            Verdict::Forward { to: Port::Eni(FW) }
        );
        // The more specific subnet route beats local; other subnets stay local.
        assert_eq!(
            run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [10, 0, 1, 10])).0,
            Verdict::Forward { to: Port::Eni(WEB) }
        );
        // fw (check off) forwards app's packet on to db with app's source address.
        assert_eq!(
            run(&mut dp, &t, FW, &echo([10, 0, 2, 10], [10, 0, 12, 10])).0,
            Verdict::Forward { to: Port::Eni(DB) }
        );
        // web's and fw's subnets use the main table: no route out.
        assert_eq!(
            run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [192, 0, 2, 1])).0,
            Verdict::Drop(DropReason::NoRoute)
        );
        assert_eq!(
            run(&mut dp, &t, FW, &echo([10, 0, 11, 10], [192, 0, 2, 1])).0,
            Verdict::Drop(DropReason::NoRoute)
        );
    }

    #[test]
    fn an_appliance_routed_to_itself_is_a_loop() {
        let t = topology(&MIDDLEBOX.replace(
            r#"subnets = ["private-a"]"#,
            r#"subnets = ["private-a", "public-b"]"#,
        ));
        let mut dp = Dataplane::new(&t);
        let (v, _, d) = run(&mut dp, &t, FW, &echo([10, 0, 11, 10], [192, 0, 2, 1]));
        assert_eq!(v, Verdict::Drop(DropReason::RouteLoop));
        assert_eq!(
            d,
            [
                "fw/eth0 rx_packets +1",
                "fw/eth0 rx_bytes +32",
                "fw/eth0 drop route-loop +1"
            ]
        );
    }

    #[test]
    fn an_appliance_with_the_check_on_gets_nothing_that_is_not_its_own() {
        let t =
            topology(&MIDDLEBOX.replace("source_dest_check = false", "source_dest_check = true"));
        let mut dp = Dataplane::new(&t);
        let (v, _, d) = run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [192, 0, 2, 1]));
        assert_eq!(v, Verdict::Drop(DropReason::DstCheck));
        assert_eq!(
            d,
            [
                "app/eth0 rx_packets +1",
                "app/eth0 rx_bytes +32",
                "app/eth0 drop dst-check +1"
            ]
        );
    }

    #[test]
    fn a_route_to_a_gone_eni_is_a_blackhole_and_a_gone_host_is_down() {
        let t = topology(MIDDLEBOX);
        let mut dp = Dataplane::new(&t);
        let table = t.subnets[1].route_table;
        let states = |dp: &Dataplane| {
            dp.routes(table)
                .map(|(r, s)| format!("{} {}", r.destination, s.name()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            states(&dp),
            [
                "0.0.0.0/0 active",
                "10.0.0.0/16 active",
                "10.0.12.0/24 active"
            ]
        );
        dp.set_link(FW, false);
        assert!(!dp.link_up(FW));
        assert_eq!(
            states(&dp),
            [
                "0.0.0.0/0 blackhole",
                "10.0.0.0/16 active",
                "10.0.12.0/24 blackhole"
            ]
        );
        let (v, _, d) = run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [192, 0, 2, 1]));
        assert_eq!(v, Verdict::Drop(DropReason::RouteBlackhole));
        assert_eq!(
            d,
            [
                "app/eth0 rx_packets +1",
                "app/eth0 rx_bytes +32",
                "app/eth0 drop route-blackhole +1"
            ]
        );
        // No fallback to a less specific route: 10.0.12.0/24 is a blackhole, not local.
        assert_eq!(
            run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [10, 0, 12, 10])).0,
            Verdict::Drop(DropReason::RouteBlackhole)
        );
        dp.set_link(DB, false);
        assert_eq!(
            run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [10, 0, 12, 10])).0,
            Verdict::Drop(DropReason::EniDown)
        );
        dp.set_link(FW, true);
        assert_eq!(
            run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [192, 0, 2, 1])).0,
            Verdict::Forward { to: Port::Eni(FW) }
        );
    }

    #[test]
    fn two_vpcs_with_the_same_cidr_exchange_nothing() {
        let other = r#"
[[vpc]]
name = "twin"
cidr = "10.0.0.0/16"

[[subnet]]
name = "twin-a"
vpc = "twin"
cidr = "10.0.1.0/24"
az = "a"

[[instance]]
name = "twin-web"
subnet = "twin-a"
private_ip = "10.0.1.20"
"#;
        let t = topology(other);
        let mut dp = Dataplane::new(&t);
        // web (demo) to 10.0.1.20, which only twin has.
        assert_eq!(
            run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [10, 0, 1, 20])).0,
            Verdict::Drop(DropReason::NoSuchHost)
        );
        // twin-web to web's address: twin has no such host.
        assert_eq!(
            run(&mut dp, &t, EniId(3), &echo([10, 0, 1, 20], [10, 0, 1, 10])).0,
            Verdict::Drop(DropReason::NoSuchHost)
        );
    }

    #[test]
    fn a_batch_gives_one_verdict_per_packet_in_order() {
        let t = topology("");
        let mut dp = Dataplane::new(&t);
        let mut pkts = vec![
            PacketBuf::from_bytes(&echo([10, 0, 1, 10], [10, 0, 12, 10])),
            PacketBuf::from_bytes(&echo([10, 0, 1, 10], [10, 0, 1, 1])),
            PacketBuf::from_bytes(&echo([10, 0, 1, 10], [10, 0, 2, 255])),
        ];
        let mut verdicts = Vec::with_capacity(32);
        dp.process_batch(T0, WEB, &mut pkts, &mut verdicts);
        assert_eq!(
            verdicts,
            [
                Verdict::Forward { to: Port::Eni(DB) },
                Verdict::Reply {
                    to: Port::Eni(WEB),
                    reply: Reply::EchoReply
                },
                Verdict::Drop(DropReason::DstBroadcast),
            ]
        );
        assert_eq!(dp.counters().eni(WEB).rx_packets, 3);
        dp.process_batch(T0, WEB, &mut pkts[..1], &mut verdicts);
        assert_eq!(verdicts.len(), 1);
    }

    mod fuzzish {
        use super::*;
        use proptest::prelude::*;

        /// Whatever the pipeline sends is a well-formed IPv4 packet: it passes `sanity`
        /// again and, if the router made it, carries valid checksums.
        fn check_output(v: Verdict, out: &[u8]) {
            if let Verdict::Forward { .. } | Verdict::Reply { .. } = v {
                let mut copy = PacketBuf::from_bytes(out);
                assert!(
                    crate::sanity::check(&mut copy).is_ok(),
                    "emitted an invalid packet {out:02x?}"
                );
            }
            if let Verdict::Reply { .. } = v {
                assert!(checksum::verifies(&out[..20]));
                assert!(checksum::verifies(&out[20..]));
            }
        }

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1600), from in 0u32..3) {
                let t = topology(MIDDLEBOX);
                let mut dp = Dataplane::new(&t);
                let mut pkt = PacketBuf::from_bytes(&bytes);
                let v = dp.process(T0, EniId(from), &mut pkt);
                check_output(v, pkt.as_bytes());
            }

            /// Valid packets with a few bytes changed (checksums then fixed or not) reach
            /// every stage; none panics, and replies are well-formed.
            #[test]
            fn mutated_packets_never_panic(
                base in 0usize..4,
                edits in proptest::collection::vec((0usize..40, any::<u8>()), 0..4),
                fix_checksum in any::<bool>(),
                cut in 0usize..8,
            ) {
                let t = topology(MIDDLEBOX);
                let mut dp = Dataplane::new(&t);
                let mut p = match base {
                    0 => ECHO_TO_ROUTER.to_vec(),
                    1 => UDP_TTL_0.to_vec(),
                    2 => echo([10, 0, 2, 10], [192, 0, 2, 1]),
                    _ => echo([10, 0, 1, 10], [10, 0, 12, 10]),
                };
                for (i, b) in edits {
                    let i = i % p.len();
                    p[i] = b;
                }
                if fix_checksum && p.len() >= 20 {
                    let hl = (usize::from(p[0] & 0x0f) * 4).clamp(20, p.len());
                    p[10] = 0;
                    p[11] = 0;
                    let c = checksum::internet(&p[..hl]);
                    p[10..12].copy_from_slice(&c.to_be_bytes());
                }
                p.truncate(p.len().saturating_sub(cut));
                let from = if base == 3 { WEB } else { APP };
                let mut pkt = PacketBuf::from_bytes(&p);
                let v = dp.process(T0, from, &mut pkt);
                check_output(v, pkt.as_bytes());
            }
        }
    }
}
