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
