//! A gateway VPC endpoint, a place of its own (AWS: PrivateLink guide, "Gateway
//! endpoints"): a route to its service's prefix list sends the packet to the service
//! directly, **with the instance's private source address**, through neither the
//! internet gateway nor a NAT gateway; the service's answer comes back through it.
//!
//! - **Out** (`Egress`, a route of an associated table): delivered to the internet
//!   host that has the destination address (`no-such-host` if none). Nothing is
//!   translated. The path's MTU is the emulated internet's, 1500 bytes (vpcd's
//!   choice: the service's servers are internet hosts).
//! - **Back** (`Ingress`, from the internet router): the service's packets to private
//!   addresses are matched against a flow table learned on the way out, keyed by the
//!   5-tuple the answer carries (service address and port, private address and port,
//!   protocol), so VPCs with overlapping blocks and endpoints to the same service stay
//!   apart: each answer goes back through the endpoint (into the VPC) its flow went
//!   out of, to the interface (or NAT gateway) with the address. A packet of no
//!   learned flow is dropped (`endpoint-no-flow`). A flow is forgotten after
//!   [`IDLE_TIMEOUT`] without a packet either way (vpcd's choice: AWS documents no
//!   timeout; the NAT gateway's 350 s).
//! - **No edge-to-edge routing**: only traffic from the endpoint's own VPC uses it. A
//!   packet whose source is not an address of the VPC, or that was read from an
//!   interface of another VPC (it came over a peering connection or a transit gateway
//!   to an appliance that sends it on), is dropped (`endpoint-edge-to-edge`).
//! - Two flows of different endpoints with the same 5-tuple (overlapping blocks, the
//!   same port) cannot both be told apart on the way back: the second is dropped while
//!   the first lives (`endpoint-flow-conflict`). The table holds at most
//!   [`CAPACITY`] flows (`endpoint-table-full`).
//!
//! Security groups, network ACLs, connection tracking and flow logs apply at the
//! interface as for any other traffic (`Net::firewall` between the interface and the
//! endpoint, which is in no subnet). Its metrics: packets and bytes out and in, drops,
//! active flows. A trace looks at the flow table and changes nothing.

use std::net::Ipv4Addr;
use std::time::Duration;

use rustc_hash::FxHashMap;
use vpc_config::{Topology, VpcEndpointId, VpcId};

use super::{Gateway, GatewayStep, Hop, InFlight, Oversize, Place, internet_gateway};
use crate::direction::Direction;
use crate::l4::{L4, Tuple};
use crate::pipeline::{Mode, Net};
use crate::tables::AddrClass;
use crate::time::Time;
use crate::verdict::{DropReason, Port, Verdict};

/// How long a flow lives without a packet.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(350);

/// The most flows the endpoints' shared table holds.
pub const CAPACITY: usize = 16_384;

/// One endpoint's metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointMetrics {
    /// Packets it sent to the service.
    pub packets_out: u64,
    /// Their bytes.
    pub bytes_out: u64,
    /// Packets from the service it let back in.
    pub packets_in: u64,
    /// Their bytes.
    pub bytes_in: u64,
    /// Packets it dropped.
    pub packets_drop: u64,
    /// Flows it has now (filled in when read).
    pub active_flows: u64,
}

/// A learned flow: the endpoint it went out of, when it last carried a packet.
#[derive(Debug, Clone, Copy)]
struct Entry {
    endpoint: VpcEndpointId,
    last: Time,
}

/// Every endpoint's flows, keyed by the 5-tuple of the service's answers, and their
/// metrics. Preallocated: no packet allocates.
#[derive(Debug)]
pub(crate) struct Flows {
    flows: FxHashMap<Tuple, Entry>,
    metrics: Vec<EndpointMetrics>,
}

impl Flows {
    /// An empty table for `t`'s endpoints (with room only if it has any).
    pub(crate) fn new(t: &Topology) -> Flows {
        let room = if t.vpc_endpoints.is_empty() {
            0
        } else {
            CAPACITY
        };
        Flows {
            flows: FxHashMap::with_capacity_and_hasher(room, Default::default()),
            metrics: vec![EndpointMetrics::default(); t.vpc_endpoints.len()],
        }
    }

    /// The table for `new` after `old`'s: flows and metrics of endpoints that keep
    /// their name (and VPC and service) are kept, under their new index.
    pub(crate) fn next(&self, old: &Topology, new: &Topology) -> Flows {
        let mut next = Flows::new(new);
        let moved: Vec<Option<VpcEndpointId>> = old
            .vpc_endpoints
            .iter()
            .map(|o| {
                new.vpc_endpoints
                    .iter()
                    .position(|n| {
                        n.name == o.name
                            && n.vpc == o.vpc
                            && new.aws_service(n.service) == old.aws_service(o.service)
                    })
                    .map(|i| VpcEndpointId(i as u32))
            })
            .collect();
        for (k, e) in &self.flows {
            if let Some(Some(to)) = moved.get(e.endpoint.index()) {
                next.flows.insert(
                    *k,
                    Entry {
                        endpoint: *to,
                        last: e.last,
                    },
                );
            }
        }
        for (o, to) in moved.iter().enumerate() {
            if let Some(to) = to {
                next.metrics[to.index()] = self.metrics[o];
            }
        }
        next
    }

    /// The endpoint an answer with tuple `answer` goes back through, if its flow is
    /// live at `now`.
    fn peek(&self, now: Time, answer: &Tuple) -> Option<VpcEndpointId> {
        self.flows
            .get(answer)
            .filter(|e| now.saturating_since(e.last) < IDLE_TIMEOUT)
            .map(|e| e.endpoint)
    }

    /// Learns (or refreshes) the flow whose answers carry `answer`, out of endpoint
    /// `e`.
    fn learn(&mut self, now: Time, e: VpcEndpointId, answer: Tuple) -> Result<(), DropReason> {
        let room = self.flows.len() < CAPACITY;
        match self.flows.get_mut(&answer) {
            Some(x) if x.endpoint == e || now.saturating_since(x.last) >= IDLE_TIMEOUT => {
                *x = Entry {
                    endpoint: e,
                    last: now,
                };
                Ok(())
            }
            Some(_) => Err(DropReason::EndpointFlowConflict),
            None if room => {
                self.flows.insert(
                    answer,
                    Entry {
                        endpoint: e,
                        last: now,
                    },
                );
                Ok(())
            }
            None => Err(DropReason::EndpointTableFull),
        }
    }

    /// Refreshes the flow of `answer` (a packet of it came back).
    fn refresh(&mut self, now: Time, answer: &Tuple) {
        if let Some(x) = self.flows.get_mut(answer) {
            x.last = now;
        }
    }

    /// Removes flows idle past [`IDLE_TIMEOUT`]; returns how many.
    pub(crate) fn expire(&mut self, now: Time) -> usize {
        let before = self.flows.len();
        self.flows
            .retain(|_, e| now.saturating_since(e.last) < IDLE_TIMEOUT);
        before - self.flows.len()
    }

    /// Endpoint `e`'s metrics, its active flows at `now` counted.
    pub(crate) fn metrics(&self, e: VpcEndpointId, now: Time) -> EndpointMetrics {
        let mut m = self.metrics.get(e.index()).copied().unwrap_or_default();
        m.active_flows = self
            .flows
            .values()
            .filter(|x| x.endpoint == e && now.saturating_since(x.last) < IDLE_TIMEOUT)
            .count() as u64;
        m
    }
}

/// The tuple of the answers to a packet of tuple `t`.
fn answer_of(t: &Tuple) -> Tuple {
    Tuple {
        proto: t.proto,
        src: t.dst,
        dst: t.src,
        src_port: t.dst_port,
        dst_port: t.src_port,
    }
}

/// An endpoint's decision, for `vpcctl trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The endpoint.
    pub endpoint: VpcEndpointId,
    /// Out to the service (`Egress`) or back from it (`Ingress`).
    pub direction: Direction,
    /// The packet's source and destination.
    pub addrs: (Ipv4Addr, Ipv4Addr),
    /// Why it refuses the packet, if it does.
    pub refused: Option<DropReason>,
}

/// Whether a route to endpoint `e` is a blackhole: never (a deleted endpoint takes its
/// routes with it).
pub(crate) fn gone(_t: &Topology, _e: VpcEndpointId) -> bool {
    false
}

/// Whether `ip` is in one of `vpc`'s blocks.
fn in_vpc(t: &Topology, vpc: VpcId, ip: Ipv4Addr) -> bool {
    t.vpc(vpc).cidrs.iter().any(|c| c.contains(&ip))
}

/// A packet entering endpoint `e`: from its VPC (`Egress`) or back from the service
/// (`Ingress`, from the internet router).
pub(crate) fn handle(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    e: VpcEndpointId,
    direction: Direction,
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    let len = u64::from(p.f.len);
    let result = match direction {
        Direction::Egress => outbound(net, mode, e, p),
        Direction::Ingress => inbound(net, mode, e, p),
    };
    if let Some(w) = mode.live_state() {
        let mut flows = w.endpoint_flows();
        let m = &mut flows.metrics[e.index()];
        match (&result, direction) {
            (Err(_), _) => m.packets_drop += 1,
            (Ok(_), Direction::Egress) => {
                m.packets_out += 1;
                m.bytes_out += len;
            }
            (Ok(_), Direction::Ingress) => {
                m.packets_in += 1;
                m.bytes_in += len;
            }
        }
    }
    result
}

fn outbound(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    e: VpcEndpointId,
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    let t = &net.topology;
    let vpc = t.vpc_endpoint(e).vpc;
    let from_other_vpc = match p.origin {
        Port::Eni(x) => net.tables.eni(x).vpc != vpc,
        Port::Host(_) | Port::Services => true,
    };
    let host = net.tables.host(p.ip.dst);
    let refused = if from_other_vpc || !in_vpc(t, vpc, p.ip.src) {
        Some(DropReason::EndpointEdgeToEdge)
    } else if host.is_none() {
        Some(DropReason::NoSuchHost)
    } else {
        None
    };
    mode.step(
        GatewayStep::Endpoint(Step {
            endpoint: e,
            direction: Direction::Egress,
            addrs: (p.ip.src, p.ip.dst),
            refused,
        })
        .into(),
    );
    let (None, Some(host)) = (refused, host) else {
        return Err(refused.unwrap_or(DropReason::NoSuchHost).into());
    };
    super::mtu(
        net,
        mode,
        p,
        internet_gateway::INTERNET_MTU,
        Oversize::Fragment,
    )?;
    // An ICMP error about the service's packet is no flow of its own.
    if !matches!(p.f.l4, L4::IcmpError { .. })
        && let Some(w) = mode.live_state()
    {
        w.endpoint_flows().learn(p.now, e, answer_of(&p.f.tuple))?;
    }
    Ok(Hop {
        to: Place::Host(host),
        direction: Direction::Ingress,
    })
}

fn inbound(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    e: VpcEndpointId,
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    let vpc = net.topology.vpc_endpoint(e).vpc;
    mode.step(
        GatewayStep::Endpoint(Step {
            endpoint: e,
            direction: Direction::Ingress,
            addrs: (p.ip.src, p.ip.dst),
            refused: None,
        })
        .into(),
    );
    if let Some(w) = mode.live_state() {
        w.endpoint_flows().refresh(p.now, &p.f.tuple);
    }
    super::mtu(
        net,
        mode,
        p,
        internet_gateway::INTERNET_MTU,
        Oversize::Fragment,
    )?;
    let link_up = mode.state().link_up();
    match net.tables.classify(vpc, p.ip.dst) {
        Some(AddrClass::Eni(x)) if link_up.up(x.index()) => Ok(Hop::eni(x)),
        Some(AddrClass::Eni(_)) => Err(DropReason::EniDown.into()),
        Some(AddrClass::Nat(n)) => Ok(Hop::gateway(Gateway::Nat(n), Direction::Ingress)),
        _ => Err(DropReason::NoSuchHost.into()),
    }
}

/// The internet router, for a packet to an address that is no internet host and no
/// VPC's public address: an answer of a flow an endpoint learned goes back through
/// it; another from a service's address is `endpoint-no-flow`; anything else
/// `internet-no-route`.
pub(crate) fn returning(
    net: &Net,
    mode: &Mode<'_, '_>,
    p: &InFlight<'_>,
) -> Result<Hop, DropReason> {
    let t = &net.topology;
    if t.aws_services.is_empty() {
        return Err(DropReason::InternetNoRoute);
    }
    let answer = match p.f.l4 {
        // An ICMP error from the service about a flow: it quotes the flow's packet.
        L4::IcmpError { quoted, .. } => answer_of(&quoted),
        _ => p.f.tuple,
    };
    match mode.state().endpoint_flows().peek(p.now, &answer) {
        Some(e) => Ok(Hop::gateway(Gateway::Endpoint(e), Direction::Ingress)),
        None if t
            .aws_services
            .iter()
            .any(|s| s.cidrs.iter().any(|c| c.contains(&p.ip.src))) =>
        {
            Err(DropReason::EndpointNoFlow)
        }
        None => Err(DropReason::InternetNoRoute),
    }
}

/// Its trace step in words.
pub(crate) fn describe(t: &Topology, s: &Step) -> (String, String, Option<String>) {
    let ep = t.vpc_endpoint(s.endpoint);
    let service = t.aws_service(ep.service).service_name();
    let (src, dst) = s.addrs;
    let text = match s.direction {
        Direction::Egress => {
            format!("to {service} at {dst}, source {src} kept (no translation)")
        }
        Direction::Ingress => format!("back from {service} ({src}) to {dst}"),
    };
    let vpc = &t.vpc(ep.vpc).name;
    let because = s.refused.map(|r| match r {
        DropReason::EndpointEdgeToEdge => format!(
            "no edge-to-edge routing: endpoint {} carries only traffic from vpc {vpc}'s own interfaces and addresses, and {src} did not come from one",
            ep.name
        ),
        _ => format!("no host of {service} has address {dst}"),
    });
    (format!("vpc-endpoint {}", ep.name), text, because)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuple(src: &str, dst: &str, sp: u16, dp: u16) -> Tuple {
        Tuple {
            proto: 6,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            src_port: sp,
            dst_port: dp,
        }
    }

    fn flows(n: usize) -> Flows {
        Flows {
            flows: FxHashMap::with_capacity_and_hasher(CAPACITY, Default::default()),
            metrics: vec![EndpointMetrics::default(); n],
        }
    }

    #[test]
    fn flows_are_learned_kept_apart_and_expire() {
        let mut f = flows(2);
        let (a, b) = (VpcEndpointId(0), VpcEndpointId(1));
        let out = tuple("10.0.2.10", "192.0.2.80", 40000, 80);
        let answer = answer_of(&out);
        assert_eq!(answer, tuple("192.0.2.80", "10.0.2.10", 80, 40000));
        let t0 = Time::from_secs(10);
        f.learn(t0, a, answer).unwrap();
        assert_eq!(f.peek(t0, &answer), Some(a));
        // The same tuple out of another endpoint while the first lives: refused.
        assert_eq!(
            f.learn(t0, b, answer),
            Err(DropReason::EndpointFlowConflict)
        );
        // Another port of the same address (an overlapping VPC): its own flow.
        let other = answer_of(&tuple("10.0.2.10", "192.0.2.80", 40001, 80));
        f.learn(t0, b, other).unwrap();
        assert_eq!(f.peek(t0, &other), Some(b));
        assert_eq!(f.metrics(a, t0).active_flows, 1);
        assert_eq!(f.metrics(b, t0).active_flows, 1);
        // Idle for 349 s: alive; refreshed, it lives on.
        let t1 = Time::from_secs(359);
        assert_eq!(f.peek(t1, &answer), Some(a));
        f.refresh(t1, &answer);
        let t2 = Time::from_secs(360);
        assert_eq!(f.peek(t2, &answer), Some(a));
        assert_eq!(f.peek(t2, &other), None);
        // An expired flow's tuple may be learned by another endpoint.
        f.learn(t2, a, other).unwrap();
        assert_eq!(f.peek(t2, &other), Some(a));
        assert_eq!(f.expire(Time::from_secs(1000)), 2);
        assert_eq!(f.peek(Time::from_secs(1000), &answer), None);
    }

    #[test]
    fn a_full_table_refuses_new_flows() {
        let mut f = flows(1);
        let e = VpcEndpointId(0);
        for i in 0..CAPACITY {
            let port = 1024 + (i % 60_000) as u16;
            let host = Ipv4Addr::from(0x0a00_0000 + (i / 60_000) as u32);
            let t = Tuple {
                proto: 17,
                src: "192.0.2.80".parse().unwrap(),
                dst: host,
                src_port: 53,
                dst_port: port,
            };
            f.learn(Time::ZERO, e, t).unwrap();
        }
        let one_more = tuple("192.0.2.80", "10.9.9.9", 80, 1);
        assert_eq!(
            f.learn(Time::ZERO, e, one_more),
            Err(DropReason::EndpointTableFull)
        );
        // Once they expire there is room again.
        assert_eq!(f.expire(Time::from_secs(400)), CAPACITY);
        f.learn(Time::from_secs(400), e, one_more).unwrap();
    }
}
