//! Places: where a packet is on its way from the port it was read from to the port it
//! leaves by. A port is an ENI or an internet host; between ports a packet may pass
//! gateways, each kind in one module of its own behind one contract:
//!
//! - **compile**: from the topology, what it needs to read (`Fabric`, part of `Net`:
//!   transit gateway route tables, multicast domains' subnets) and its mutable state
//!   (`Gateways`, part of `State`: NAT translations, transit gateway metrics, multicast
//!   members), the state kept across a configuration change where AWS keeps it
//!   (`Gateways::apply`);
//! - **target**: whether a route to it is usable from a VPC (a route to a gateway that
//!   is gone is a `blackhole`: [`gone`], the one place that rule is written) and the
//!   hop such a route makes ([`enter`]);
//! - **handle**: a packet entering it in a [`Direction`], given the shared, read-only
//!   network (`Net`: tables, topology) and the [`Mode`], which holds the mutable state
//!   by exclusive reference for a packet and by shared reference for a trace (so a
//!   trace cannot change anything: no translation made or refreshed, no identification
//!   number taken); it returns the next hop or a verdict;
//! - **describe**: its trace step in words;
//! - **expire** and **metrics**: its idle state out, its counters.
//!
//! The firewall between two places is one function (`Net::firewall`): the security
//! groups of the ENIs and the network ACLs of the subnets the packet leaves and enters.
//! Adding a gateway kind is one module here and one arm in each match below.

pub(crate) mod internet_gateway;
pub(crate) mod multicast;
pub(crate) mod nat_gateway;
pub(crate) mod peering;
pub(crate) mod transit_gateway;
pub(crate) mod vpc_endpoint;
pub(crate) mod vpn_gateway;

use vpc_config::{
    EniId, HostId, NatGatewayId, RouteTableId, RouteTarget, SubnetId, TgwAttachmentId, Topology,
    TransitGatewayId, VpcEndpointId, VpcId, VpcPeeringConnectionId, VpnGatewayId,
};

use crate::destination::Dst;
use crate::direction::Direction;
use crate::flowlog::{Interface, TrafficPath};
use crate::icmp_error;
use crate::l4::Facts;
use crate::packet::{Gso, PacketBuf};
use crate::pipeline::{Mode, Net};
use crate::route::Route;
use crate::state::Links;
use crate::time::Time;
use crate::verdict::{DropReason, Port, Verdict};
use crate::wire::ipv4::Ipv4Header;

/// A place a packet can be at: a port, or a gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// An ENI (a port).
    Eni(EniId),
    /// A host of the emulated internet (a port).
    Host(HostId),
    /// A gateway.
    Gateway(Gateway),
}

/// A gateway: a place between ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gateway {
    /// A NAT gateway.
    Nat(NatGatewayId),
    /// The internet gateway of a VPC (outside every subnet).
    Igw(VpcId),
    /// The internet router between internet gateways and internet hosts.
    Internet,
    /// A VPC peering connection, entered from the VPC given.
    Peering(VpcPeeringConnectionId, VpcId),
    /// The network interface a transit gateway VPC attachment has in its `k`-th
    /// subnet.
    TgwAttachment(TgwAttachmentId, u8),
    /// A transit gateway's router, entered through an attachment (from an availability
    /// zone, numbered by `transit_gateway::Compiled`, if through a VPC attachment).
    Tgw {
        /// The gateway.
        tgw: TransitGatewayId,
        /// The attachment the packet came in through.
        from: TgwAttachmentId,
        /// The zone of the attachment interface it came in through.
        az: Option<u16>,
    },
    /// A gateway VPC endpoint (outside every subnet).
    Endpoint(VpcEndpointId),
    /// A virtual private gateway (outside every subnet).
    Vpn(VpnGatewayId),
}

/// Where a packet goes next: a place, entered in a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hop {
    /// The place.
    pub to: Place,
    /// For a gateway, from its inside (`Egress`) or its outside (`Ingress`).
    pub direction: Direction,
}

impl Hop {
    /// To an ENI.
    pub(crate) fn eni(e: EniId) -> Hop {
        Hop {
            to: Place::Eni(e),
            direction: Direction::Ingress,
        }
    }

    /// Into gateway `g` from `direction`.
    pub(crate) fn gateway(g: Gateway, direction: Direction) -> Hop {
        Hop {
            to: Place::Gateway(g),
            direction,
        }
    }
}

/// A packet in flight between places: the bytes, their parsed headers (kept in step
/// with the bytes by every translation), the time and the port it was read from.
pub(crate) struct InFlight<'p> {
    /// When it was read.
    pub now: Time,
    /// The port it was read from (replies and ICMP errors go back there).
    pub origin: Port,
    /// Its bytes.
    pub pkt: &'p mut PacketBuf,
    /// Its IPv4 header.
    pub ip: Ipv4Header,
    /// Its transport facts.
    pub f: Facts,
}

impl Place {
    /// Its network interface, which flow logs cover (ports of the internet, the
    /// internet gateway and the internet router have none).
    pub(crate) fn interface(self) -> Option<Interface> {
        match self {
            Place::Eni(e) => Some(Interface::Eni(e)),
            Place::Gateway(Gateway::Nat(n)) => Some(Interface::NatGateway(n)),
            Place::Host(_) | Place::Gateway(_) => None,
        }
    }

    /// The subnet it is in, whose network ACL guards it.
    #[inline]
    pub(crate) fn subnet(self, net: &Net) -> Option<SubnetId> {
        match self {
            Place::Eni(e) => Some(net.tables.eni(e).subnet),
            Place::Gateway(Gateway::Nat(n)) => Some(net.topology.nat_gateway(n).subnet),
            Place::Gateway(Gateway::TgwAttachment(a, k)) => {
                transit_gateway::subnet(&net.topology, a, k)
            }
            Place::Host(_) => None,
            Place::Gateway(Gateway::Igw(_) | Gateway::Internet | Gateway::Peering(..)) => None,
            Place::Gateway(Gateway::Tgw { .. } | Gateway::Endpoint(_) | Gateway::Vpn(_)) => None,
        }
    }
}

/// Whether a hop from `from` to `to` stays inside one gateway (between a transit
/// gateway's attachment interface and its router): no firewall stage between them
/// (the attachment subnet's network ACL applies where the packet reaches or leaves the
/// interface from the VPC's side).
pub(crate) fn within_gateway(from: Place, to: Place) -> bool {
    matches!(
        (from, to),
        (
            Place::Gateway(Gateway::TgwAttachment(..)),
            Place::Gateway(Gateway::Tgw { .. })
        ) | (
            Place::Gateway(Gateway::Tgw { .. }),
            Place::Gateway(Gateway::TgwAttachment(..) | Gateway::Tgw { .. })
        )
    )
}

/// Whether a route of a table of `vpc` to `target` leads nowhere: to an ENI that is
/// down or gone, an internet gateway not attached to `vpc`, a deleted NAT gateway.
/// AWS keeps such routes in state `blackhole` and drops what they match
/// (`route-blackhole`).
pub(crate) fn gone(t: &Topology, link_up: &Links, vpc: VpcId, target: RouteTarget) -> bool {
    match target {
        RouteTarget::Local => false,
        RouteTarget::Eni(e) => !link_up.up(e.index()),
        RouteTarget::InternetGateway(g) => internet_gateway::gone(t, g, vpc),
        RouteTarget::NatGateway(n) => nat_gateway::gone(t, n),
        RouteTarget::VpcPeeringConnection(pcx) => peering::gone(t, pcx),
        RouteTarget::TransitGateway(tgw) => transit_gateway::gone(t, tgw, vpc),
        RouteTarget::VpcEndpoint(e) => vpc_endpoint::gone(t, e),
        RouteTarget::VpnGateway(g) => vpn_gateway::gone(t, g, vpc),
    }
}

/// Stage 6, `deliver`: the hop a route of a table of `vpc` makes for a packet to
/// `dst`. A `local` route delivers to the ENI (or NAT gateway) that owns the
/// destination address; an ENI target (middlebox routing) sends to that ENI, which
/// must have its source/destination check off unless it is the destination itself; a
/// gateway target enters that gateway from the inside. A route whose target is
/// [`gone`] is a blackhole.
#[inline]
pub(crate) fn enter(
    net: &Net,
    link_up: &Links,
    (at, table): (Place, RouteTableId),
    route: &Route,
    dst: Dst,
    ip: &Ipv4Header,
) -> Result<Hop, DropReason> {
    let vpc = || net.topology.route_table(table).vpc;
    Ok(match route.target {
        // The local route's target is never gone.
        RouteTarget::Local => match dst {
            Dst::Host(eni) if link_up.up(eni.index()) => Hop::eni(eni),
            Dst::Host(_) => return Err(DropReason::EniDown),
            Dst::Nat(n) => Hop::gateway(Gateway::Nat(n), Direction::Ingress),
            Dst::Router | Dst::Other => return Err(DropReason::NoSuchHost),
        },
        target if gone(&net.topology, link_up, vpc(), target) => {
            return Err(DropReason::RouteBlackhole);
        }
        RouteTarget::Eni(eni) => {
            let target = net.tables.eni(eni);
            if target.source_dest_check && target.ip != ip.dst {
                return Err(DropReason::DstCheck);
            }
            Hop::eni(eni)
        }
        RouteTarget::InternetGateway(_) => Hop::gateway(Gateway::Igw(vpc()), Direction::Egress),
        RouteTarget::NatGateway(n) => Hop::gateway(Gateway::Nat(n), Direction::Egress),
        RouteTarget::VpcPeeringConnection(pcx) => {
            Hop::gateway(Gateway::Peering(pcx, vpc()), Direction::Egress)
        }
        RouteTarget::TransitGateway(tgw) => transit_gateway::enter(net, at, tgw, vpc())?,
        RouteTarget::VpcEndpoint(e) => Hop::gateway(Gateway::Endpoint(e), Direction::Egress),
        RouteTarget::VpnGateway(g) => Hop::gateway(Gateway::Vpn(g), Direction::Egress),
    })
}

/// A packet entering gateway `g` from `direction`: where it goes next.
#[inline]
pub(crate) fn handle(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    g: Gateway,
    direction: Direction,
    p: &mut InFlight<'_>,
) -> Result<Hop, Verdict> {
    match g {
        Gateway::Nat(n) => nat_gateway::handle(net, mode, n, direction, p),
        Gateway::Igw(vpc) => internet_gateway::handle(net, mode, vpc, direction, p),
        Gateway::Internet => internet_gateway::internet(net, mode, p),
        Gateway::Peering(pcx, from) => peering::handle(net, mode, pcx, from, p),
        Gateway::TgwAttachment(att, k) => {
            transit_gateway::attachment(net, mode, (att, k), direction, p)
        }
        Gateway::Tgw { tgw, from, az } => transit_gateway::router(net, mode, (tgw, from, az), p),
        Gateway::Endpoint(e) => vpc_endpoint::handle(net, mode, e, direction, p),
        Gateway::Vpn(g) => vpn_gateway::handle(net, mode, g, direction, p),
    }
}

/// A gateway's decision, for `vpcctl trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayStep {
    /// A NAT gateway's translation.
    Nat(nat_gateway::Step),
    /// An internet gateway's translation, or the internet router's delivery.
    Internet(internet_gateway::Step),
    /// A VPC peering connection's crossing.
    Peering(peering::Step),
    /// A transit gateway's decision.
    Transit(transit_gateway::Step),
    /// A multicast domain's replication.
    Multicast(multicast::Step),
    /// A multicast domain reading an IGMP membership message.
    Igmp(multicast::IgmpStep),
    /// A gateway VPC endpoint's crossing.
    Endpoint(vpc_endpoint::Step),
    /// A virtual private gateway's decision.
    Vpn(vpn_gateway::Step),
}

/// A gateway step in words: the stage, the decision, and (if the packet is dropped
/// there) why.
pub(crate) fn describe(t: &Topology, step: &GatewayStep) -> (String, String, Option<String>) {
    match step {
        GatewayStep::Nat(s) => nat_gateway::describe(t, s),
        GatewayStep::Internet(s) => internet_gateway::describe(t, s),
        GatewayStep::Peering(s) => peering::describe(t, s),
        GatewayStep::Transit(s) => transit_gateway::describe(t, s),
        GatewayStep::Multicast(s) => multicast::describe(t, s),
        GatewayStep::Igmp(s) => multicast::describe_igmp(t, s),
        GatewayStep::Endpoint(s) => vpc_endpoint::describe(t, s),
        GatewayStep::Vpn(s) => vpn_gateway::describe(t, s),
    }
}

/// AWS's flow-log `traffic-path` of a packet an interface at `from` sends into
/// gateway `to`.
pub(crate) fn traffic_path(net: &Net, from: Place, to: Gateway) -> TrafficPath {
    match to {
        Gateway::Igw(_) if matches!(from, Place::Eni(_)) => TrafficPath::InternetGateway,
        Gateway::Igw(_) => TrafficPath::InternetGatewayOrEndpoint,
        Gateway::Peering(pcx, _)
            if peering::mtu_of(&net.topology, pcx) == peering::INTRA_REGION_MTU =>
        {
            TrafficPath::IntraRegionPeering
        }
        Gateway::Peering(..) => TrafficPath::InterRegionPeering,
        Gateway::Endpoint(_) if matches!(from, Place::Eni(_)) => TrafficPath::GatewayEndpoint,
        Gateway::Endpoint(_) => TrafficPath::InternetGatewayOrEndpoint,
        Gateway::Vpn(_) => TrafficPath::VirtualPrivateGateway,
        Gateway::Nat(_) | Gateway::Internet | Gateway::TgwAttachment(..) | Gateway::Tgw { .. } => {
            TrafficPath::SameVpc
        }
    }
}

/// What a gateway does with a packet larger than its MTU without DF set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Oversize {
    /// Fragments it when it is written.
    Fragment,
    /// Drops it for this reason.
    Drop(DropReason),
}

/// A gateway's MTU `mtu` for packet `p`: a larger packet with DF set is answered with
/// ICMP fragmentation needed (RFC 1191) from its origin's router (`too-big`); without
/// DF it is marked to be fragmented when it is written, or dropped, as `oversize`
/// says. A superpacket fits if each of its segments does, and its segments are never
/// fragmented (docs/offloads.md).
pub(crate) fn mtu(
    net: &Net,
    mode: &mut Mode<'_, '_>,
    p: &mut InFlight<'_>,
    mtu: usize,
    oversize: Oversize,
) -> Result<(), Verdict> {
    let len = p.f.shape.segment_len(p.ip.total_len);
    if len <= mtu {
        return Ok(());
    }
    if !p.ip.dont_fragment {
        match oversize {
            Oversize::Drop(reason) => return Err(reason.into()),
            Oversize::Fragment if p.f.shape.gso == Gso::None => {
                // The smallest MTU on the way decides.
                let smaller = p
                    .pkt
                    .fragment_mtu()
                    .map_or(mtu, |m| usize::from(m).min(mtu));
                p.pkt.set_fragment_mtu(Some(smaller as u16));
            }
            Oversize::Fragment => {}
        }
        return Ok(());
    }
    let error = (DropReason::TooBig, icmp_error::frag_needed(mtu));
    Err(net.icmp_error(mode, (p.now, p.origin), p.pkt, &p.ip, error))
}

/// The gateways' compiled configuration, per kind (part of `Net`).
#[derive(Debug, Clone)]
pub(crate) struct Fabric {
    /// Transit gateways' route tables and associations.
    pub tgw: transit_gateway::Compiled,
    /// Multicast domains' groups.
    pub multicast: multicast::Compiled,
}

impl Fabric {
    /// Compiles every gateway of `t`.
    pub(crate) fn compile(t: &Topology) -> Fabric {
        Fabric {
            tgw: transit_gateway::Compiled::compile(t),
            multicast: multicast::Compiled::compile(t),
        }
    }
}
