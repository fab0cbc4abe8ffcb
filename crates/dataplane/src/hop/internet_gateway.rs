//! The internet gateway of a VPC and the internet router beyond it, places of their
//! own (AWS: VPC_Internet_Gateway, VPC_Route_Tables "Gateway route tables").
//!
//! - **Out** (a route to the gateway, `Egress`): the source, an address of the VPC
//!   with a public IPv4 address (an Elastic IP or an auto-assigned one), becomes that
//!   public address (1:1 NAT); an address without one is dropped
//!   (`igw-no-public-ip`). Then the internet router delivers to the internet host
//!   with the destination address, or to the internet gateway that owns it (another
//!   VPC's public address), else `internet-no-route`.
//! - **In** (`Ingress`, from the internet router): the destination, a public address,
//!   becomes its private address; the gateway's route table (its edge association,
//!   AWS's ingress routing) decides where it goes, else the interface or NAT gateway
//!   that has the address. An appliance a gateway route sends to must have a public
//!   address of its own (AWS: "for traffic that flows through an internet gateway, the
//!   target network interface must also have a public IP address"), else
//!   `igw-no-public-ip`.
//! - **MTU**: 1500 bytes to and from the internet. A larger packet with DF set is
//!   answered with ICMP fragmentation needed (RFC 1191) from the origin's router;
//!   without DF it is fragmented when it is written (AWS: "they are fragmented").
//! - A route to an internet gateway not attached to the table's VPC is a blackhole.
//!
//! It has no state; its addresses are compiled in `Tables` (`public_of`,
//! `private_of`, `host`).

use std::net::Ipv4Addr;

use vpc_config::{HostId, InternetGatewayId, Topology, VpcId};

use super::{Gateway, GatewayStep, Hop, InFlight, Oversize, Place};
use crate::destination::{self, Dst};
use crate::direction::Direction;
use crate::nat::rewrite::End;
use crate::pipeline::{Mode, Net};
use crate::tables::AddrClass;
use crate::verdict::{DropReason, Verdict};
use crate::xlate;

/// The MTU through an internet gateway (AWS: 1500 bytes to the internet).
pub(crate) const INTERNET_MTU: usize = 1500;

/// An internet gateway's or the internet router's decision, for `vpcctl trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// An internet gateway's 1:1 translation: egress the source, ingress the destination.
    Translate {
        /// The VPC whose gateway it is.
        vpc: VpcId,
        /// Egress (to the internet) or ingress.
        direction: Direction,
        /// The address before.
        before: Ipv4Addr,
        /// The address after.
        after: Ipv4Addr,
    },
    /// The internet router delivers to an internet host.
    Deliver {
        /// The host.
        to: HostId,
    },
}

/// Whether a route of a table of `vpc` to internet gateway `g` is a blackhole: the
/// gateway is not attached to `vpc`.
pub(crate) fn gone(t: &Topology, g: InternetGatewayId, vpc: VpcId) -> bool {
    t.internet_gateway(g).vpc != Some(vpc)
}

/// A packet entering the internet gateway of `vpc`: from the VPC (`Egress`) or from
/// the internet router (`Ingress`).
pub(crate) fn handle(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    vpc: VpcId,
    direction: Direction,
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    let (end, before, after) = match direction {
        Direction::Egress => {
            let public = net
                .tables
                .public_of(vpc, p.ip.src)
                .ok_or(DropReason::IgwNoPublicIp)?;
            (End::Src, p.ip.src, public)
        }
        Direction::Ingress => {
            let (_, private) = net
                .tables
                .private_of(p.ip.dst)
                .ok_or(DropReason::InternetNoRoute)?;
            (End::Dst, p.ip.dst, private)
        }
    };
    super::mtu(net, mode, p, INTERNET_MTU, Oversize::Fragment)?;
    xlate::translate(p.pkt.as_bytes_mut(), &mut p.ip, &mut p.f, end, after, None);
    mode.step(
        GatewayStep::Internet(Step::Translate {
            vpc,
            direction,
            before,
            after,
        })
        .into(),
    );
    match direction {
        Direction::Egress => Ok(Hop::gateway(Gateway::Internet, Direction::Egress)),
        Direction::Ingress => Ok(inbound(net, mode, vpc, p)?),
    }
}

/// The internet router: a packet to an internet host is delivered to it; one to a
/// public address of a VPC enters that VPC's internet gateway.
pub(crate) fn internet(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    p: &InFlight<'_>,
) -> Result<Hop, Verdict> {
    if let Some(h) = net.tables.host(p.ip.dst) {
        mode.step(GatewayStep::Internet(Step::Deliver { to: h }).into());
        return Ok(Hop {
            to: Place::Host(h),
            direction: Direction::Ingress,
        });
    }
    let Some((vpc, _)) = net.tables.private_of(p.ip.dst) else {
        // An AWS service's answer through a gateway endpoint, or nowhere.
        return Ok(super::vpc_endpoint::returning(net, mode, p)?);
    };
    Ok(Hop::gateway(Gateway::Igw(vpc), Direction::Ingress))
}

/// Where the internet gateway of `vpc` sends a packet from the internet whose
/// destination it translated to a private address: by its gateway route table if it
/// has one, else to the interface or NAT gateway that has the address.
fn inbound(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    vpc: VpcId,
    p: &InFlight<'_>,
) -> Result<Hop, DropReason> {
    let link_up = mode.state().link_up();
    let Some(table) = net.tables.gateway_tables[vpc.index()] else {
        return match net.tables.classify(vpc, p.ip.dst) {
            Some(AddrClass::Eni(e)) if link_up.up(e.index()) => Ok(Hop::eni(e)),
            Some(AddrClass::Eni(_)) => Err(DropReason::EniDown),
            Some(AddrClass::Nat(n)) => Ok(Hop::gateway(Gateway::Nat(n), Direction::Ingress)),
            _ => Err(DropReason::InternetNoRoute),
        };
    };
    let dst = destination::classify(&net.tables, vpc, p.ip.dst)?;
    let hop = net.route(Place::Gateway(Gateway::Igw(vpc)), table, dst, &p.ip, mode)?;
    match hop.to {
        Place::Eni(e) if dst != Dst::Host(e) => {
            let appliance = net.tables.eni(e).ip;
            net.tables
                .public_of(vpc, appliance)
                .ok_or(DropReason::IgwNoPublicIp)?;
            Ok(hop)
        }
        _ => Ok(hop),
    }
}

/// Its trace step in words.
pub(crate) fn describe(t: &Topology, s: &Step) -> (String, String, Option<String>) {
    match *s {
        Step::Translate {
            vpc,
            direction,
            before,
            after,
        } => {
            let name = t
                .vpc_internet_gateway(vpc)
                .map_or("?", |g| t.internet_gateway(g).name.as_str());
            let text = match direction {
                Direction::Egress => format!("source {before} becomes {after} (to the internet)"),
                Direction::Ingress => {
                    format!("destination {before} becomes {after} (from the internet)")
                }
            };
            (format!("internet-gateway {name}"), text, None)
        }
        Step::Deliver { to } => {
            let host = t.internet_host(to);
            (
                "internet".to_owned(),
                format!("to internet host {} ({})", host.name, host.address),
                None,
            )
        }
    }
}
