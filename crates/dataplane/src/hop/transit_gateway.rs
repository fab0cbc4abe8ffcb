//! Transit gateways, places of their own (AWS: Transit Gateway guide, "How transit
//! gateways work", "Transit gateway route tables", "Appliance mode", "Quotas"). Two
//! kinds of place:
//!
//! - **An attachment's network interface** (`Gateway::TgwAttachment(att, k)`): the
//!   interface a VPC attachment has in its `k`-th subnet. It is in that subnet, so the
//!   subnet's network ACL guards what enters and leaves through it (outbound of the
//!   sender's subnet and inbound of the attachment's, then outbound of the attachment's
//!   and inbound of the receiver's; none between two places of one subnet), and a flow
//!   an instance has through it is always tracked by the instance's security groups.
//!   From the VPC (`Egress`: a route to the transit gateway, through the interface in
//!   the sender's availability zone; a zone where the attachment has no subnet cannot
//!   reach the gateway, `tgw-zone-not-attached`) it enters the gateway; from the gateway (`Ingress`) the packet is routed
//!   by the route table of the interface's subnet (so an inspection VPC sends it to an
//!   appliance, an egress VPC to a NAT gateway).
//! - **The gateway's router** (`Gateway::Tgw { tgw, from, az }`), entered through
//!   attachment `from` (from zone `az`): the route table `from` is associated with on
//!   `tgw` decides (no association: `tgw-no-association`; no route: `tgw-no-route`; a
//!   blackhole route, or a route to an attachment that is not available:
//!   `tgw-blackhole`). Routes are the table's effective routes
//!   (`Topology::tgw_routes`: static routes hide propagated ones of the same prefix).
//!   Its MTU is 8500: a larger packet with DF set gets ICMP fragmentation needed, one
//!   without DF is dropped (`tgw-mtu-exceeded`). To a VPC attachment it goes out
//!   through the interface in the zone the packet came from if there is one; with
//!   appliance mode, through the interface a symmetric hash of the flow picks, so both
//!   directions of a flow use one interface for as long as the attachment's subnets
//!   stay the same (vpcd's way of keeping AWS's "for the life of the flow": no state).
//!   To a peering attachment it enters the peer gateway, whose table associated with
//!   that attachment routes it on (static routes only).
//!
//! Transit gateways are transitive by design: any attachment reaches any other the
//! route tables allow, and a VPC may reach the internet through another VPC's NAT
//! gateway (AWS's centralized egress). Each gateway counts AWS's CloudWatch metrics
//! (`TgwMetrics`).

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use rustc_hash::FxHashMap;
use vpc_config::{
    AttachmentStatus, SubnetId, TgwAttachmentId, TgwAttachmentKind, TgwRouteEntry, TgwRouteState,
    TgwRouteTableId, TgwRouteTarget, TgwRouteType, Topology, TransitGatewayId, VpcId,
};

use super::{Gateway, GatewayStep, Hop, InFlight, Oversize, Place};
use crate::destination;
use crate::direction::Direction;
use crate::l4::Facts;
use crate::lpm::Lpm;
use crate::pipeline::{Mode, Net};
use crate::verdict::{DropReason, Verdict};

/// A transit gateway's MTU (AWS: 8500 bytes).
pub(crate) const TGW_MTU: usize = 8500;

/// A transit gateway's CloudWatch metrics (AWS's `BytesIn`, `BytesOut`, `PacketsIn`,
/// `PacketsOut`, `PacketDropCountBlackhole`, `PacketDropCountNoRoute`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TgwMetrics {
    /// Packets that entered it through an attachment.
    pub packets_in: u64,
    /// Their bytes.
    pub bytes_in: u64,
    /// Packets it sent out through an attachment.
    pub packets_out: u64,
    /// Their bytes.
    pub bytes_out: u64,
    /// Packets dropped by a blackhole route.
    pub packet_drop_count_blackhole: u64,
    /// Packets dropped for want of a route (or of an associated route table).
    pub packet_drop_count_no_route: u64,
}

/// A transit gateway's decision, for `vpcctl trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Into the gateway through a VPC attachment's interface.
    Enter {
        /// The attachment.
        att: TgwAttachmentId,
        /// Which of its interfaces (subnets).
        k: u8,
    },
    /// The gateway's route table decided.
    Route {
        /// The gateway.
        tgw: TransitGatewayId,
        /// The attachment it came in through.
        from: TgwAttachmentId,
        /// The table associated with it (none: dropped).
        table: Option<TgwRouteTableId>,
        /// The route that matched, if one did.
        route: Option<(Ipv4Net, TgwRouteTarget, TgwRouteType)>,
    },
    /// Out of the gateway into a VPC through an attachment's interface.
    Leave {
        /// The attachment.
        att: TgwAttachmentId,
        /// Which of its interfaces (subnets).
        k: u8,
        /// Chosen by appliance mode's flow hash (else by zone).
        appliance: bool,
    },
}

/// The transit gateways compiled for the packet path.
#[derive(Debug, Clone, Default)]
pub(crate) struct Compiled {
    /// Per transit gateway route table: its effective routes and their index.
    tables: Vec<(Vec<TgwRouteEntry>, Lpm<u32>)>,
    /// (gateway, attachment) -> the table of the gateway the attachment is associated
    /// with.
    associations: FxHashMap<(TransitGatewayId, TgwAttachmentId), TgwRouteTableId>,
    /// Per subnet: its availability zone, as a number.
    zone: Vec<u16>,
}

impl Compiled {
    pub(crate) fn compile(t: &Topology) -> Compiled {
        let tables = (0..t.tgw_route_tables.len())
            .map(|i| {
                let routes = t.tgw_routes(TgwRouteTableId(i as u32));
                let mut sorted: Vec<(Ipv4Net, u32)> = routes
                    .iter()
                    .enumerate()
                    .map(|(k, r)| (r.destination, k as u32))
                    .collect();
                sorted.sort();
                (routes, Lpm::build(sorted))
            })
            .collect();
        let mut associations = FxHashMap::default();
        for (i, table) in t.tgw_route_tables.iter().enumerate() {
            for &a in &table.associations {
                associations.insert((table.transit_gateway, a), TgwRouteTableId(i as u32));
            }
        }
        let mut zones: Vec<&str> = Vec::new();
        let zone = t
            .subnets
            .iter()
            .map(|s| {
                let i = zones.iter().position(|z| *z == s.az).unwrap_or_else(|| {
                    zones.push(&s.az);
                    zones.len() - 1
                });
                i as u16
            })
            .collect();
        Compiled {
            tables,
            associations,
            zone,
        }
    }
}

/// The subnets of VPC attachment `att` (empty for a peering attachment).
fn subnets(t: &Topology, att: TgwAttachmentId) -> &[SubnetId] {
    match &t.tgw_attachment(att).kind {
        TgwAttachmentKind::Vpc { subnets, .. } => subnets,
        TgwAttachmentKind::Peering { .. } => &[],
    }
}

/// The subnet of attachment interface `k` of `att`.
pub(crate) fn subnet(t: &Topology, att: TgwAttachmentId, k: u8) -> Option<SubnetId> {
    subnets(t, att).get(usize::from(k)).copied()
}

/// Whether a route of a table of `vpc` to transit gateway `tgw` is a blackhole: `vpc`
/// has no available attachment to it.
pub(crate) fn gone(t: &Topology, tgw: TransitGatewayId, vpc: VpcId) -> bool {
    t.tgw_attachment_of(vpc, tgw)
        .is_none_or(|a| t.tgw_attachment(a).status != AttachmentStatus::Available)
}

/// The hop a route of a table of `vpc` to `tgw` makes for a packet sent by `at`: into
/// the attachment's interface in `at`'s zone. A zone where the attachment has no
/// subnet cannot reach the gateway (AWS: resources in such a zone cannot reach the
/// transit gateway): `tgw-zone-not-attached`.
pub(crate) fn enter(
    net: &Net,
    at: Place,
    tgw: TransitGatewayId,
    vpc: VpcId,
) -> Result<Hop, DropReason> {
    let t = &net.topology;
    let att = t
        .tgw_attachment_of(vpc, tgw)
        .ok_or(DropReason::RouteBlackhole)?;
    let zone = at.subnet(net).map(|s| net.fabric.tgw.zone[s.index()]);
    let k = subnets(t, att)
        .iter()
        .position(|s| Some(net.fabric.tgw.zone[s.index()]) == zone)
        .ok_or(DropReason::TgwZoneNotAttached)?;
    Ok(Hop::gateway(
        Gateway::TgwAttachment(att, k as u8),
        Direction::Egress,
    ))
}

/// A packet at attachment interface `k` of `att`: from the VPC into the gateway
/// (`Egress`), or from the gateway into the VPC (`Ingress`, routed by the interface's
/// subnet's route table).
pub(crate) fn attachment(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    (att, k): (TgwAttachmentId, u8),
    direction: Direction,
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    let t = &net.topology;
    let s = subnet(t, att, k).ok_or(DropReason::RouteBlackhole)?;
    match direction {
        Direction::Egress => {
            mode.step(GatewayStep::Transit(Step::Enter { att, k }).into());
            let tgw = t.tgw_attachment(att).transit_gateway;
            let az = Some(net.fabric.tgw.zone[s.index()]);
            Ok(Hop::gateway(
                Gateway::Tgw { tgw, from: att, az },
                Direction::Egress,
            ))
        }
        Direction::Ingress => {
            let s = t.subnet(s);
            let dst = destination::classify(&net.tables, s.vpc, p.ip.dst)?;
            let at = Place::Gateway(Gateway::TgwAttachment(att, k));
            Ok(net.route(at, s.route_table, dst, &p.ip, mode)?)
        }
    }
}

/// A symmetric hash of a flow: the same for both of its directions.
fn flow_hash(f: &Facts) -> u64 {
    let a = (u64::from(u32::from(f.tuple.src)) << 16) | u64::from(f.tuple.src_port);
    let b = (u64::from(u32::from(f.tuple.dst)) << 16) | u64::from(f.tuple.dst_port);
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut x = lo ^ hi.rotate_left(29) ^ u64::from(f.tuple.proto) << 56;
    // SplitMix64's finalizer.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A packet entering gateway `tgw` through attachment `from` (from zone `az`).
pub(crate) fn router(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    (tgw, from, az): (TransitGatewayId, TgwAttachmentId, Option<u16>),
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    let len = u64::from(p.f.len);
    let packets = u64::from(p.f.packets);
    let result = route(net, mode, (tgw, from, az), p);
    if let Some(s) = mode.live_state() {
        let mut m = s.tgw(tgw);
        m.packets_in += packets;
        m.bytes_in += len;
        match &result {
            Ok(_) => {
                m.packets_out += packets;
                m.bytes_out += len;
            }
            Err(Verdict::Drop(DropReason::TgwBlackhole)) => {
                m.packet_drop_count_blackhole += packets;
            }
            Err(Verdict::Drop(DropReason::TgwNoRoute | DropReason::TgwNoAssociation)) => {
                m.packet_drop_count_no_route += packets;
            }
            Err(_) => {}
        }
    }
    result
}

fn route(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    (tgw, from, az): (TransitGatewayId, TgwAttachmentId, Option<u16>),
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    let t = &net.topology;
    let c = &net.fabric.tgw;
    let table = c.associations.get(&(tgw, from)).copied();
    let entry = table.and_then(|table| {
        let (routes, lpm) = &c.tables[table.index()];
        let &k = lpm.lookup(u32::from(p.ip.dst))?;
        routes.get(k as usize)
    });
    mode.step(
        GatewayStep::Transit(Step::Route {
            tgw,
            from,
            table,
            route: entry.map(|e| (e.destination, e.target, e.route_type)),
        })
        .into(),
    );
    if table.is_none() {
        return Err(DropReason::TgwNoAssociation.into());
    }
    let entry = entry.ok_or(DropReason::TgwNoRoute)?;
    let to = match (entry.target, entry.state) {
        (TgwRouteTarget::Attachment(a), TgwRouteState::Active) => a,
        _ => return Err(DropReason::TgwBlackhole.into()),
    };
    super::mtu(
        net,
        mode,
        p,
        TGW_MTU,
        Oversize::Drop(DropReason::TgwMtuExceeded),
    )?;
    let att = t.tgw_attachment(to);
    match &att.kind {
        TgwAttachmentKind::Vpc {
            subnets,
            appliance_mode,
            ..
        } => {
            let n = subnets.len().max(1);
            let by_hash = (flow_hash(&p.f) % n as u64) as usize;
            let k = if *appliance_mode {
                by_hash
            } else {
                subnets
                    .iter()
                    .position(|s| Some(c.zone[s.index()]) == az)
                    .unwrap_or(by_hash)
            };
            mode.step(
                GatewayStep::Transit(Step::Leave {
                    att: to,
                    k: k as u8,
                    appliance: *appliance_mode,
                })
                .into(),
            );
            Ok(Hop::gateway(
                Gateway::TgwAttachment(to, k as u8),
                Direction::Ingress,
            ))
        }
        TgwAttachmentKind::Peering { .. } => {
            let peer = att.peer_of(tgw).ok_or(DropReason::TgwBlackhole)?;
            Ok(Hop::gateway(
                Gateway::Tgw {
                    tgw: peer,
                    from: to,
                    az: None,
                },
                Direction::Egress,
            ))
        }
    }
}

/// Attachment interface `k` of `att` in words: `att-s1 (subnet s1-a, 10.11.1.4)`.
fn interface(t: &Topology, att: TgwAttachmentId, k: u8) -> String {
    let a = t.tgw_attachment(att);
    match &a.kind {
        TgwAttachmentKind::Vpc {
            subnets,
            private_ips,
            ..
        } => {
            let k = usize::from(k);
            let ip = private_ips.get(k).map_or(Ipv4Addr::UNSPECIFIED, |i| *i);
            let s = subnets.get(k).map_or("?", |s| t.subnet(*s).name.as_str());
            format!("{} (subnet {s}, {ip})", a.name)
        }
        TgwAttachmentKind::Peering { .. } => a.name.clone(),
    }
}

/// Its trace step in words.
pub(crate) fn describe(t: &Topology, s: &Step) -> (String, String, Option<String>) {
    match *s {
        Step::Enter { att, k } => {
            let a = t.tgw_attachment(att);
            let tgw = &t.transit_gateway(a.transit_gateway).name;
            (
                format!("transit-gateway {tgw}"),
                format!("in through attachment {}", interface(t, att, k)),
                None,
            )
        }
        Step::Route {
            tgw,
            from,
            table,
            route,
        } => {
            let name = &t.transit_gateway(tgw).name;
            let from = &t.tgw_attachment(from).name;
            let stage = format!("transit-gateway {name}");
            let Some(table) = table else {
                return (
                    stage,
                    format!("attachment {from} is associated with no route table"),
                    Some(format!(
                        "attachment {from} is associated with no route table of transit gateway {name}: nothing it sends is routed"
                    )),
                );
            };
            let table = &t.tgw_route_table(table).name;
            match route {
                None => (
                    stage,
                    format!("route table {table}: no route"),
                    Some(format!(
                        "route table {table} of transit gateway {name} (associated with {from}) has no route to the destination"
                    )),
                ),
                Some((dest, target, kind)) => {
                    let (target, why) = match target {
                        TgwRouteTarget::Attachment(a) => {
                            let a = t.tgw_attachment(a);
                            let why = (a.status != AttachmentStatus::Available).then(|| {
                                format!(
                                    "route table {table}: {dest} goes to attachment {}, which is {}",
                                    a.name,
                                    a.status.aws_name()
                                )
                            });
                            (a.name.clone(), why)
                        }
                        TgwRouteTarget::Blackhole => (
                            "blackhole".to_owned(),
                            Some(format!(
                                "route table {table} of transit gateway {name} has a blackhole route for {dest}"
                            )),
                        ),
                    };
                    (
                        stage,
                        format!(
                            "route table {table} (associated with {from}): {dest} -> {target} ({})",
                            kind.aws_name()
                        ),
                        why,
                    )
                }
            }
        }
        Step::Leave { att, k, appliance } => {
            let a = t.tgw_attachment(att);
            let tgw = &t.transit_gateway(a.transit_gateway).name;
            let how = if appliance {
                "chosen by the flow's hash: appliance mode"
            } else {
                "in the zone it came from, if the attachment has one there"
            };
            (
                format!("transit-gateway {tgw}"),
                format!("out through attachment {} ({how})", interface(t, att, k)),
                None,
            )
        }
    }
}
