//! A virtual private gateway, a place of its own (AWS: Site-to-Site VPN user guide,
//! "How AWS Site-to-Site VPN works"): the VPC side of a site-to-site VPN. A route to
//! it in a table of the VPC it is attached to sends the packet into it; it sends the
//! packet on over a tunnel of one of its VPN connections.
//!
//! - It carries traffic only while attached to the route table's VPC: a route to a
//!   gateway that is detached (or attached to another VPC) is a blackhole.
//! - With no VPN connection whose tunnel is up, AWS drops what it receives. vpcd has
//!   no VPN connections yet, so every packet routed into the gateway is dropped
//!   (`vpn-no-connection`); the trace step names the gateway and says so. VPN
//!   connections will choose a tunnel here.
//!
//! It has no state and no metrics of its own yet (AWS's `TunnelState`,
//! `TunnelDataIn` and `TunnelDataOut` are per VPN connection); its drops are counted
//! on the port the packet came from, per reason.

use std::net::Ipv4Addr;

use vpc_config::{Topology, VpcId, VpnGatewayId};

use super::{GatewayStep, Hop, InFlight};
use crate::pipeline::{Mode, Net};
use crate::verdict::{DropReason, Verdict};

/// A VPN gateway's decision, for `vpcctl trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The gateway.
    pub vgw: VpnGatewayId,
    /// Why it drops the packet, if it does (always, until VPN connections exist).
    pub refused: Option<DropReason>,
    /// The packet's destination.
    pub dst: Ipv4Addr,
}

/// Whether a route of a table of `vpc` to gateway `vgw` is a blackhole: the gateway
/// is not attached to `vpc`.
pub(crate) fn gone(t: &Topology, vgw: VpnGatewayId, vpc: VpcId) -> bool {
    t.vpn_gateway(vgw).vpc != Some(vpc)
}

/// A packet entering gateway `vgw` from its VPC: no VPN connection has a tunnel up,
/// so it is dropped.
pub(crate) fn handle(
    _net: &Net,
    mode: &mut Mode<'_, '_>,
    vgw: VpnGatewayId,
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    let refused = DropReason::VpnNoConnection;
    mode.step(
        GatewayStep::Vpn(Step {
            vgw,
            refused: Some(refused),
            dst: p.ip.dst,
        })
        .into(),
    );
    Err(refused.into())
}

/// Its trace step in words.
pub(crate) fn describe(t: &Topology, s: &Step) -> (String, String, Option<String>) {
    let g = t.vpn_gateway(s.vgw);
    let vpc = g.vpc.map_or("no vpc", |v| t.vpc(v).name.as_str());
    let text = format!(
        "to {} over a VPN connection (vpn gateway {}, amazon side ASN {}, attached to vpc {vpc})",
        s.dst, g.name, g.amazon_side_asn
    );
    let because = s.refused.map(|_| {
        format!(
            "vpn gateway {} has no VPN connection with a tunnel up, so it drops what it receives",
            g.name
        )
    });
    (format!("vpn-gateway {}", g.name), text, because)
}
