//! A virtual private gateway, a place of its own (AWS: Site-to-Site VPN user guide,
//! "How AWS Site-to-Site VPN works"): the VPC side of a site-to-site VPN. A route to
//! it in a table of the VPC it is attached to sends the packet into it; it sends the
//! packet on over a tunnel of one of its VPN connections, and what comes out of a
//! tunnel enters the VPC through it.
//!
//! - It carries traffic only while attached to the route table's VPC: a route to a
//!   gateway that is detached (or attached to another VPC) is a blackhole.
//! - From the VPC (`Egress`): with no VPN connection whose tunnel is up, AWS drops
//!   what it receives (`vpn-no-connection`). Otherwise the packet goes to the
//!   gateway's far end, a port of its own (a host with role
//!   [`HostRole::VpnGateway`](vpc_config::HostRole)): the daemon's router namespace
//!   for the gateway, where the tunnels end and BGP (or the static routes) choose the
//!   tunnel (docs/vpn.md). A destination no tunnel routes is dropped there.
//! - From a tunnel (`Ingress`, read from that port): to an address of the attached
//!   VPC that belongs to an interface, which the firewall between places then judges
//!   (the subnet's network ACL, the interface's security group). Anything else is
//!   dropped (`vpn-no-destination`): AWS's gateway does not carry traffic through the
//!   VPC to elsewhere, and a detached gateway carries nothing into a VPC.
//!
//! It keeps no state of its own; its drops are counted on the port the packet came
//! from, per reason.

use std::net::Ipv4Addr;

use vpc_config::{Topology, VpcId, VpnGatewayId};

use super::{GatewayStep, Hop, InFlight, Place};
use crate::direction::Direction;
use crate::pipeline::{Mode, Net};
use crate::tables::AddrClass;
use crate::verdict::{DropReason, Verdict};

/// A VPN gateway's decision, for `vpcctl trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The gateway.
    pub vgw: VpnGatewayId,
    /// Into the VPC (`Ingress`) or out to a tunnel (`Egress`).
    pub direction: Direction,
    /// Why it drops the packet, if it does.
    pub refused: Option<DropReason>,
    /// The packet's destination.
    pub dst: Ipv4Addr,
}

/// Whether a route of a table of `vpc` to gateway `vgw` is a blackhole: the gateway
/// is not attached to `vpc`.
pub(crate) fn gone(t: &Topology, vgw: VpnGatewayId, vpc: VpcId) -> bool {
    t.vpn_gateway(vgw).vpc != Some(vpc)
}

/// A packet entering gateway `vgw` from its VPC (`Egress`) or from its tunnels
/// (`Ingress`).
pub(crate) fn handle(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    vgw: VpnGatewayId,
    direction: Direction,
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    let next = match direction {
        Direction::Egress => out(net, vgw),
        Direction::Ingress => inbound(net, mode, vgw, p.ip.dst),
    };
    mode.step(
        GatewayStep::Vpn(Step {
            vgw,
            direction,
            refused: next.err(),
            dst: p.ip.dst,
        })
        .into(),
    );
    Ok(next?)
}

/// Out to the far end, if a tunnel is up (compiled in `Tables::vgw_up`).
fn out(net: &Net, vgw: VpnGatewayId) -> Result<Hop, DropReason> {
    match net.tables.vgw_up[vgw.index()] {
        Some(h) => Ok(Hop {
            to: Place::Host(h),
            direction: Direction::Ingress,
        }),
        None => Err(DropReason::VpnNoConnection),
    }
}

/// Into the attached VPC, to the interface that has `dst`.
fn inbound(
    net: &Net,
    mode: &Mode<'_, '_>,
    vgw: VpnGatewayId,
    dst: Ipv4Addr,
) -> Result<Hop, DropReason> {
    let vpc = net
        .topology
        .vpn_gateway(vgw)
        .vpc
        .ok_or(DropReason::VpnNoDestination)?;
    match net.tables.classify(vpc, dst) {
        Some(AddrClass::Eni(e)) if mode.state().link_up().up(e.index()) => Ok(Hop::eni(e)),
        Some(AddrClass::Eni(_)) => Err(DropReason::EniDown),
        _ => Err(DropReason::VpnNoDestination),
    }
}

/// Its trace step in words.
pub(crate) fn describe(t: &Topology, s: &Step) -> (String, String, Option<String>) {
    let g = t.vpn_gateway(s.vgw);
    let vpc = g.vpc.map_or("no vpc", |v| t.vpc(v).name.as_str());
    let text = match s.direction {
        Direction::Egress => format!(
            "to {} over a VPN connection (vpn gateway {}, amazon side ASN {}, attached to vpc {vpc})",
            s.dst, g.name, g.amazon_side_asn
        ),
        Direction::Ingress => format!(
            "from a VPN tunnel into vpc {vpc} to {} (vpn gateway {})",
            s.dst, g.name
        ),
    };
    let because = s.refused.map(|r| match r {
        DropReason::VpnNoConnection => format!(
            "vpn gateway {} has no VPN connection with a tunnel up, so it drops what it receives",
            g.name
        ),
        DropReason::EniDown => format!("the interface with address {} is down", s.dst),
        _ => format!(
            "no interface of vpc {vpc} has address {}: vpn gateway {} carries traffic from its tunnels only to the VPC's interfaces",
            s.dst, g.name
        ),
    });
    (format!("vpn-gateway {}", g.name), text, because)
}
