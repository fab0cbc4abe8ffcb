//! Stage 6, `deliver`: the route's target becomes the next hop. A `local` route
//! delivers to the ENI (or NAT gateway) that owns the destination address; an ENI
//! target (middlebox routing) sends to that ENI, which must have its
//! source/destination check off unless it is the destination itself; an internet
//! gateway target leaves the VPC if that gateway is attached to it; a NAT gateway
//! target enters the NAT gateway. A route to an ENI that is gone, to a detached
//! internet gateway or to a deleted NAT gateway is a blackhole (AWS keeps such routes
//! in state `blackhole` and drops what they match).

use vpc_config::{EniId, NatGatewayId, RouteTarget, Topology, VpcId};

use crate::destination::Dst;
use crate::flowlog::Interface;
use crate::route::Route;
use crate::tables::Tables;
use crate::verdict::DropReason;
use crate::wire::ipv4::Ipv4Header;

/// Where in a VPC a packet is: the sender of the next hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node {
    /// An ENI.
    Eni(EniId),
    /// A NAT gateway.
    Nat(NatGatewayId),
    /// The VPC's internet gateway (outside every subnet).
    Igw(VpcId),
}

/// Where the route sends the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hop {
    /// To an ENI.
    Eni(EniId),
    /// Into a NAT gateway from the inside, to be translated (a route to it).
    NatOut(NatGatewayId),
    /// To a NAT gateway's own address: a reply to translate back.
    NatIn(NatGatewayId),
    /// Out through the VPC's internet gateway.
    Igw(VpcId),
}

impl Node {
    /// Its network interface, which flow logs cover (the internet gateway has none).
    pub(crate) fn interface(self) -> Option<Interface> {
        match self {
            Node::Eni(e) => Some(Interface::Eni(e)),
            Node::Nat(n) => Some(Interface::NatGateway(n)),
            Node::Igw(_) => None,
        }
    }

    /// The VPC it is in.
    pub(crate) fn vpc(self, tables: &Tables, topology: &Topology) -> VpcId {
        match self {
            Node::Eni(e) => tables.eni(e).vpc,
            Node::Nat(n) => topology.subnet(topology.nat_gateway(n).subnet).vpc,
            Node::Igw(vpc) => vpc,
        }
    }
}

/// The next hop for a packet sent by `at` that matched `route`.
pub(crate) fn next_hop(
    tables: &Tables,
    topology: &Topology,
    link_up: &[bool],
    at: Node,
    route: &Route,
    dst: Dst,
    ip: &Ipv4Header,
) -> Result<Hop, DropReason> {
    let vpc = at.vpc(tables, topology);
    let hop = match route.target {
        RouteTarget::Local => match dst {
            Dst::Host(eni) if link_up[eni.index()] => Hop::Eni(eni),
            Dst::Host(_) => return Err(DropReason::EniDown),
            Dst::Nat(n) => Hop::NatIn(n),
            Dst::Router | Dst::Other => return Err(DropReason::NoSuchHost),
        },
        RouteTarget::Eni(eni) => {
            if !link_up[eni.index()] {
                return Err(DropReason::RouteBlackhole);
            }
            let target = tables.eni(eni);
            if target.source_dest_check && target.ip != ip.dst {
                return Err(DropReason::DstCheck);
            }
            Hop::Eni(eni)
        }
        RouteTarget::InternetGateway(g) => {
            if topology.internet_gateway(g).vpc != Some(vpc) {
                return Err(DropReason::RouteBlackhole);
            }
            Hop::Igw(vpc)
        }
        RouteTarget::NatGateway(n) => {
            if topology.nat_gateway(n).deleted {
                return Err(DropReason::RouteBlackhole);
            }
            Hop::NatOut(n)
        }
    };
    match (at, hop) {
        (Node::Eni(a), Hop::Eni(b)) if a == b => Err(DropReason::RouteLoop),
        (Node::Nat(a), Hop::NatOut(b)) if a == b => Err(DropReason::RouteLoop),
        _ => Ok(hop),
    }
}
