//! A VPC peering connection, a place of its own (AWS: VPC peering guide, "How VPC
//! peering connections work", "VPC peering limitations"): a route to it in one VPC's
//! table sends the packet into the VPC on its other side, where it is delivered to the
//! interface (or NAT gateway) that has the destination address.
//!
//! - It carries traffic only while `active`: a route to a connection pending
//!   acceptance or deleted is a blackhole.
//! - **No transitive routing**: what comes over a connection is delivered only to an
//!   address of the peer VPC. A destination in another VPC (peered with the peer, or
//!   reached by it some other way) is dropped (`peering-transitive`).
//! - **No edge-to-edge routing**: the peer's internet gateway, NAT gateway, VPN or
//!   gateway endpoint is never used for traffic from the other VPC: a destination
//!   outside every VPC is dropped (`peering-edge-to-edge`), and so is a packet whose
//!   source is not an address of the VPC it comes from (traffic that reached that VPC
//!   through one of its gateways).
//! - A reply to a NAT gateway's address in the peer VPC is translated back by it (a
//!   private NAT gateway's traffic across a peering).
//! - **MTU**: 9001 bytes within a region, 1500 across regions. A larger packet with DF
//!   set is answered with ICMP fragmentation needed; without DF it is fragmented when
//!   it is written (vpcd's choice: AWS documents only the MTU).
//! - The peer VPC's routes are not consulted (no subnet route table routes what
//!   arrives over a peering connection), and nothing is translated.
//!
//! It has no state and no metrics of its own (AWS has no CloudWatch metrics for
//! peering); its drops are counted on the port the packet came from.

use std::net::Ipv4Addr;

use vpc_config::{PeeringStatus, Topology, VpcId, VpcPeeringConnectionId};

use super::{Gateway, GatewayStep, Hop, InFlight, Oversize};
use crate::direction::Direction;
use crate::pipeline::{Mode, Net};
use crate::tables::AddrClass;
use crate::verdict::{DropReason, Verdict};

/// The MTU of a peering connection within a region (AWS: 9001 bytes).
pub(crate) const INTRA_REGION_MTU: usize = 9001;
/// The MTU of a peering connection across regions (AWS: 1500 bytes).
pub(crate) const INTER_REGION_MTU: usize = 1500;

/// A peering connection's decision, for `vpcctl trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The connection.
    pub pcx: VpcPeeringConnectionId,
    /// The VPC the packet came from.
    pub from: VpcId,
    /// Why the peer VPC refuses the packet, if it does.
    pub refused: Option<DropReason>,
    /// The packet's source and destination.
    pub addrs: (Ipv4Addr, Ipv4Addr),
}

/// Whether a route of a table of `vpc` to connection `pcx` is a blackhole: the
/// connection is not active.
pub(crate) fn gone(t: &Topology, pcx: VpcPeeringConnectionId) -> bool {
    t.vpc_peering_connection(pcx).status != PeeringStatus::Active
}

/// The MTU of connection `pcx`.
pub(crate) fn mtu_of(t: &Topology, pcx: VpcPeeringConnectionId) -> usize {
    if t.vpc_peering_connection(pcx).inter_region(t) {
        INTER_REGION_MTU
    } else {
        INTRA_REGION_MTU
    }
}

/// Whether `ip` is in one of `vpc`'s blocks.
fn in_vpc(t: &Topology, vpc: VpcId, ip: Ipv4Addr) -> bool {
    t.vpc(vpc).cidrs.iter().any(|c| c.contains(&ip))
}

/// A packet entering connection `pcx` from VPC `from` (a route of one of its tables).
pub(crate) fn handle(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    pcx: VpcPeeringConnectionId,
    from: VpcId,
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    let t = &net.topology;
    let c = t.vpc_peering_connection(pcx);
    // The configuration only routes a VPC to a connection it is a side of.
    let to = c.other_side(from).ok_or(DropReason::RouteBlackhole)?;
    let (src, dst) = (p.ip.src, p.ip.dst);
    let refused = if !in_vpc(t, from, src) {
        Some(DropReason::PeeringEdgeToEdge)
    } else if in_vpc(t, to, dst) {
        None
    } else if t
        .vpcs
        .iter()
        .enumerate()
        .any(|(v, _)| in_vpc(t, VpcId(v as u32), dst))
    {
        Some(DropReason::PeeringTransitive)
    } else {
        Some(DropReason::PeeringEdgeToEdge)
    };
    mode.step(
        GatewayStep::Peering(Step {
            pcx,
            from,
            refused,
            addrs: (src, dst),
        })
        .into(),
    );
    if let Some(reason) = refused {
        return Err(reason.into());
    }
    super::mtu(net, mode, p, mtu_of(t, pcx), Oversize::Fragment)?;
    let link_up = mode.state().link_up();
    match net.tables.classify(to, dst) {
        Some(AddrClass::Eni(e)) if link_up.up(e.index()) => Ok(Hop::eni(e)),
        Some(AddrClass::Eni(_)) => Err(DropReason::EniDown.into()),
        Some(AddrClass::Nat(n)) => Ok(Hop::gateway(Gateway::Nat(n), Direction::Ingress)),
        Some(AddrClass::Reserved(_)) => Err(DropReason::DstReserved.into()),
        None => Err(DropReason::NoSuchHost.into()),
    }
}

/// Its trace step in words.
pub(crate) fn describe(t: &Topology, s: &Step) -> (String, String, Option<String>) {
    let c = t.vpc_peering_connection(s.pcx);
    let to = c.other_side(s.from).unwrap_or(s.from);
    let (from_vpc, to_vpc) = (&t.vpc(s.from).name, &t.vpc(to).name);
    let scope = if c.inter_region(t) {
        format!(
            "across regions {} and {}, MTU {INTER_REGION_MTU}",
            t.vpc(s.from).region,
            t.vpc(to).region
        )
    } else {
        format!("within {}, MTU {INTRA_REGION_MTU}", t.vpc(to).region)
    };
    let text = format!("from vpc {from_vpc} to vpc {to_vpc} ({scope})");
    let (src, dst) = s.addrs;
    let blocks = vpc_config::addressing::cidr_list(&t.vpc(to).cidrs);
    let because = s.refused.map(|r| match r {
        DropReason::PeeringTransitive => format!(
            "VPC peering is not transitive: vpc {to_vpc} does not send on what comes over {} to {dst}, which is not in its blocks ({blocks})",
            c.name
        ),
        _ if !in_vpc(t, s.from, src) => format!(
            "no edge-to-edge routing: {} carries only traffic from vpc {from_vpc}'s own addresses, and {src} is not one",
            c.name
        ),
        _ => format!(
            "no edge-to-edge routing: vpc {to_vpc} does not send what comes over {} to {dst} through its gateways (internet, NAT, VPN or endpoint); only its own blocks ({blocks}) are reachable",
            c.name
        ),
    });
    (format!("vpc-peering {}", c.name), text, because)
}
