//! The validated resources that join VPCs: VPC peering connections (AWS's
//! `CreateVpcPeeringConnection`, `AcceptVpcPeeringConnection`,
//! `DeleteVpcPeeringConnection`), transit gateways with their VPC and peering
//! attachments, route tables and multicast domains (`CreateTransitGateway`,
//! `CreateTransitGatewayVpcAttachment`, `CreateTransitGatewayPeeringAttachment`,
//! `CreateTransitGatewayRouteTable`, `CreateTransitGatewayMulticastDomain`), and the
//! resource shares (AWS RAM's `CreateResourceShare`) that let other accounts attach
//! their VPCs to a transit gateway.
//!
//! AWS's rules these types encode (VPC peering guide: "VPC peering connection
//! lifecycle", "VPC peering limitations"; Transit Gateway guide: "How transit gateways
//! work", "Transit gateway attachments", "Transit gateway route tables", "Multicast",
//! "Quotas"):
//! - A peering connection joins two different VPCs, the requester (`VpcId`) and the
//!   accepter (`PeerVpcId`, whose owner and region are `PeerOwnerId` and
//!   `PeerRegion`), of any accounts and regions. No block of one VPC overlaps a block
//!   of the other, and two VPCs have at most one connection between them (a deleted
//!   one aside).
//! - It carries traffic only while `active`: a request waits in `pending-acceptance`
//!   for the accepter's owner; deleted, it is `deleted`. A route to it stays in its
//!   table whatever the status, and is `blackhole` while the connection is not active.
//! - Peering is not transitive (AWS has no edge-to-edge routing): what came over a
//!   connection is not sent on over another one, nor to an internet or NAT gateway.
//!   That is for the dataplane to apply; nothing here forbids such routes.
//! - A security group rule may reference a group of the peer VPC only while the
//!   connection is not deleted and both VPCs are in one region.
//! - A transit gateway is a regional router owned by one account. A VPC attachment
//!   joins it to a VPC of its region through one network interface in each listed
//!   subnet (one subnet per availability zone at most; a subnet of a zone without one
//!   cannot reach the gateway); a gateway has one attachment per VPC. A VPC of another
//!   account can be attached only once the gateway is shared with that account (a
//!   resource share); the attachment then waits for the gateway's owner to accept it,
//!   unless the gateway accepts shared attachments automatically. A peering attachment joins two different gateways, of any owners
//!   and regions, one attachment per pair; across accounts it waits for the accepter.
//! - Each attachment is associated with at most one route table of its gateway (a
//!   peering attachment with one on each of its two gateways): that table routes what
//!   enters the gateway through it. A VPC attachment propagates its VPC's blocks into
//!   any number of tables; a peering attachment propagates nothing (it takes static
//!   routes only). A gateway with default association or propagation enabled has a
//!   default route table, which every VPC attachment is associated with unless
//!   associated explicitly, and propagates into.
//! - A multicast domain belongs to a gateway with multicast support; subnets of its
//!   VPC attachments are associated with it (each subnet with one domain at most), and
//!   network interfaces in those subnets are the members and sources of groups.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::topology::*;

/// A VPC peering connection between two VPCs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcPeeringConnection {
    /// Unique name.
    pub name: String,
    /// The VPC that requested it (AWS's `VpcId`, the requester).
    pub requester: VpcId,
    /// The VPC that accepts it (AWS's `PeerVpcId`, the accepter); never the requester,
    /// and none of its blocks overlaps one of the requester's.
    pub accepter: VpcId,
    /// Where it is in its lifecycle.
    pub status: PeeringStatus,
}

/// The status of a VPC peering connection (AWS's `Status.Code`, of the codes a
/// connection vpcd runs can have).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeeringStatus {
    /// Requested, waiting for the accepter's owner; carries nothing.
    PendingAcceptance,
    /// Accepted: carries traffic.
    Active,
    /// Deleted (at run time; `status = "deleted"` in the file); carries nothing,
    /// routes to it are `blackhole`.
    Deleted,
}

impl PeeringStatus {
    /// A new connection's status: active between VPCs of one owner, else waiting for
    /// the accepter's owner (AWS: CreateVpcPeeringConnection).
    pub fn new_between(same_owner: bool) -> PeeringStatus {
        if same_owner {
            PeeringStatus::Active
        } else {
            PeeringStatus::PendingAcceptance
        }
    }

    /// AWS's name: `pending-acceptance`, `active` or `deleted`.
    pub fn aws_name(self) -> &'static str {
        match self {
            PeeringStatus::PendingAcceptance => "pending-acceptance",
            PeeringStatus::Active => "active",
            PeeringStatus::Deleted => "deleted",
        }
    }
}

impl VpcPeeringConnection {
    /// The VPC on the other side from `vpc`, or `None` if `vpc` is on neither side.
    pub fn other_side(&self, vpc: VpcId) -> Option<VpcId> {
        if vpc == self.requester {
            Some(self.accepter)
        } else if vpc == self.accepter {
            Some(self.requester)
        } else {
            None
        }
    }

    /// Whether its two VPCs are in different regions (an inter-region connection).
    pub fn inter_region(&self, t: &Topology) -> bool {
        t.vpc(self.requester).region != t.vpc(self.accepter).region
    }
}

impl Topology {
    /// The transit gateway with id `id`.
    pub fn transit_gateway(&self, id: TransitGatewayId) -> &TransitGateway {
        &self.transit_gateways[id.index()]
    }

    /// The transit gateway attachment with id `id`.
    pub fn tgw_attachment(&self, id: TgwAttachmentId) -> &TgwAttachment {
        &self.tgw_attachments[id.index()]
    }

    /// The transit gateway route table with id `id`.
    pub fn tgw_route_table(&self, id: TgwRouteTableId) -> &TgwRouteTable {
        &self.tgw_route_tables[id.index()]
    }

    /// The multicast domain with id `id`.
    pub fn multicast_domain(&self, id: MulticastDomainId) -> &MulticastDomain {
        &self.multicast_domains[id.index()]
    }

    /// The resource share with id `id`.
    pub fn resource_share(&self, id: ResourceShareId) -> &ResourceShare {
        &self.resource_shares[id.index()]
    }

    /// Whether transit gateway `tgw` is available to `account`: it owns it, or a
    /// resource share shares it with it.
    pub fn shared_with(&self, tgw: TransitGatewayId, account: &str) -> bool {
        self.transit_gateway(tgw).owner_id == account
            || self
                .resource_shares
                .iter()
                .any(|s| s.resources.contains(&tgw) && s.principals.iter().any(|p| p == account))
    }

    /// The attachment of `vpc` to transit gateway `tgw` that is not deleted, if any:
    /// a gateway has one attachment per VPC.
    pub fn tgw_attachment_of(&self, vpc: VpcId, tgw: TransitGatewayId) -> Option<TgwAttachmentId> {
        self.tgw_attachments
            .iter()
            .position(|a| {
                a.transit_gateway == tgw
                    && a.vpc() == Some(vpc)
                    && a.status != AttachmentStatus::Deleted
            })
            .map(|i| TgwAttachmentId(i as u32))
    }

    /// The route table of its gateway that attachment `att` is associated with (for a
    /// peering attachment: of its requester gateway; see
    /// [`Topology::tgw_association_on`]).
    pub fn tgw_association(&self, att: TgwAttachmentId) -> Option<TgwRouteTableId> {
        self.tgw_association_on(att, self.tgw_attachment(att).transit_gateway)
    }

    /// The route table of transit gateway `tgw` that attachment `att` is associated
    /// with: what enters `tgw` through `att` is routed by it. A peering attachment has
    /// one association on each of its two gateways.
    pub fn tgw_association_on(
        &self,
        att: TgwAttachmentId,
        tgw: TransitGatewayId,
    ) -> Option<TgwRouteTableId> {
        self.tgw_route_tables
            .iter()
            .position(|t| t.transit_gateway == tgw && t.associations.contains(&att))
            .map(|i| TgwRouteTableId(i as u32))
    }

    /// The effective routes of transit gateway route table `table`, as AWS's
    /// `SearchTransitGatewayRoutes` lists them, sorted by destination (network address,
    /// then prefix length), then type: every static route as written (state
    /// `blackhole` for a blackhole route or one whose attachment is not available),
    /// then one propagated route per CIDR block of each propagating VPC attachment that
    /// is available. A static route wins over a propagated one of the same prefix (the
    /// propagated one is not listed, as in AWS). Two propagations of the same prefix
    /// (overlapping VPCs attached to one gateway) keep the one of the attachment with
    /// the lower index, i.e. declared first: AWS leaves that case unspecified, this is
    /// vpcd's choice. The dataplane and the CLI both use this list.
    pub fn tgw_routes(&self, table: TgwRouteTableId) -> Vec<TgwRouteEntry> {
        let t = self.tgw_route_table(table);
        let available =
            |a: TgwAttachmentId| self.tgw_attachment(a).status == AttachmentStatus::Available;
        let mut out: Vec<TgwRouteEntry> = t
            .routes
            .iter()
            .map(|r| TgwRouteEntry {
                destination: r.destination,
                target: r.target,
                route_type: TgwRouteType::Static,
                state: match r.target {
                    TgwRouteTarget::Attachment(a) if available(a) => TgwRouteState::Active,
                    _ => TgwRouteState::Blackhole,
                },
            })
            .collect();
        let mut propagating = t.propagations.clone();
        propagating.sort();
        for a in propagating {
            let Some(vpc) = self.tgw_attachment(a).vpc().filter(|_| available(a)) else {
                continue;
            };
            for &destination in &self.vpc(vpc).cidrs {
                if out.iter().any(|e| e.destination == destination) {
                    continue;
                }
                out.push(TgwRouteEntry {
                    destination,
                    target: TgwRouteTarget::Attachment(a),
                    route_type: TgwRouteType::Propagated,
                    state: TgwRouteState::Active,
                });
            }
        }
        out.sort_by_key(|e| (e.destination, e.route_type));
        out
    }

    /// A transit gateway route's target as users write it: the attachment's name, or
    /// `blackhole`.
    pub fn tgw_route_target_name(&self, target: TgwRouteTarget) -> &str {
        match target {
            TgwRouteTarget::Attachment(a) => &self.tgw_attachment(a).name,
            TgwRouteTarget::Blackhole => "blackhole",
        }
    }

    /// The VPC peering connection with id `id`.
    pub fn vpc_peering_connection(&self, id: VpcPeeringConnectionId) -> &VpcPeeringConnection {
        &self.vpc_peering_connections[id.index()]
    }

    /// The connection between VPCs `a` and `b` (either way round) that is not deleted,
    /// if any: there is at most one.
    pub fn vpc_peering_between(&self, a: VpcId, b: VpcId) -> Option<VpcPeeringConnectionId> {
        self.vpc_peering_connections
            .iter()
            .position(|p| p.status != PeeringStatus::Deleted && p.other_side(a) == Some(b))
            .map(|i| VpcPeeringConnectionId(i as u32))
    }
}

/// The ASN a transit gateway without `amazon_side_asn` has (AWS's default).
pub const DEFAULT_TGW_ASN: u32 = 64512;

/// The private ASNs a transit gateway's `amazon_side_asn` may be (AWS): the 16-bit
/// range 64512-65534 and the 32-bit range 4200000000-4294967294, inclusive.
pub const TGW_ASN_RANGES: [(u32, u32); 2] = [(64512, 65534), (4_200_000_000, 4_294_967_294)];

/// A transit gateway: a regional router between the VPCs attached to it and the
/// gateways peered with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitGateway {
    /// Unique name.
    pub name: String,
    /// The account that owns it (12 digits).
    pub owner_id: String,
    /// Its region.
    pub region: String,
    /// The ASN of its side of a BGP session (private, in [`TGW_ASN_RANGES`]).
    pub amazon_side_asn: u32,
    /// `DefaultRouteTableAssociation`: VPC attachments not associated explicitly are
    /// associated with the default route table.
    pub default_route_table_association: bool,
    /// `DefaultRouteTablePropagation`: every VPC attachment propagates into the
    /// default route table.
    pub default_route_table_propagation: bool,
    /// `AutoAcceptSharedAttachments`: VPC attachments of other accounts are accepted
    /// at once instead of waiting in `pending-acceptance`.
    pub auto_accept_shared_attachments: bool,
    /// `MulticastSupport`: it may have multicast domains.
    pub multicast_support: bool,
    /// Its default route table: `Some` exactly when default association or
    /// propagation is enabled.
    pub default_route_table: Option<TgwRouteTableId>,
    /// `Description` (empty if none), at most [`crate::MAX_DESCRIPTION_LEN`]
    /// characters. Kept for the EC2 API.
    pub description: String,
}

/// A transit gateway attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TgwAttachment {
    /// Unique name among all attachments, VPC and peering.
    pub name: String,
    /// Its transit gateway (for a peering attachment: the requester).
    pub transit_gateway: TransitGatewayId,
    /// What it attaches.
    pub kind: TgwAttachmentKind,
    /// Where it is in its lifecycle.
    pub status: AttachmentStatus,
}

/// What a transit gateway attachment attaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TgwAttachmentKind {
    /// A VPC of the gateway's region (`CreateTransitGatewayVpcAttachment`).
    Vpc {
        /// The VPC.
        vpc: VpcId,
        /// Its subnets the attachment has an interface in, at most one per
        /// availability zone, in the order written.
        subnets: Vec<SubnetId>,
        /// The attachment's interface address in each subnet: `private_ips[i]` is in
        /// `subnets[i]`, allocated like a NAT gateway's missing address (after every
        /// interface and NAT gateway, in file order), unique in the VPC.
        private_ips: Vec<Ipv4Addr>,
        /// `ApplianceModeSupport`: a flow's two directions cross the same availability
        /// zone's interface (chosen for the flow), whatever zone each direction enters
        /// from.
        appliance_mode: bool,
    },
    /// Another transit gateway (`CreateTransitGatewayPeeringAttachment`): `peer` is the
    /// accepter, never the requester itself.
    Peering {
        /// The accepter transit gateway.
        peer: TransitGatewayId,
    },
}

/// The status of a transit gateway attachment (AWS's `State`, of the states an
/// attachment vpcd runs can have).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttachmentStatus {
    /// Requested across accounts, waiting for the accepter; carries nothing.
    PendingAcceptance,
    /// Carries traffic.
    Available,
    /// Deleted (at run time; `status = "deleted"` in the file); carries nothing.
    Deleted,
}

impl AttachmentStatus {
    /// A new peering attachment's status: available between gateways of one owner,
    /// else waiting for the accepter.
    pub fn new_between(same_owner: bool) -> AttachmentStatus {
        if same_owner {
            AttachmentStatus::Available
        } else {
            AttachmentStatus::PendingAcceptance
        }
    }

    /// AWS's name: `pending-acceptance`, `available` or `deleted`.
    pub fn aws_name(self) -> &'static str {
        match self {
            AttachmentStatus::PendingAcceptance => "pending-acceptance",
            AttachmentStatus::Available => "available",
            AttachmentStatus::Deleted => "deleted",
        }
    }
}

impl TgwAttachment {
    /// The VPC of a VPC attachment.
    pub fn vpc(&self) -> Option<VpcId> {
        match self.kind {
            TgwAttachmentKind::Vpc { vpc, .. } => Some(vpc),
            TgwAttachmentKind::Peering { .. } => None,
        }
    }

    /// Whether it is an attachment of transit gateway `tgw`: its own, or for a peering
    /// attachment either of its two gateways.
    pub fn is_on(&self, tgw: TransitGatewayId) -> bool {
        self.transit_gateway == tgw
            || matches!(self.kind, TgwAttachmentKind::Peering { peer } if peer == tgw)
    }

    /// For a peering attachment, the gateway on the other side from `tgw` (`None` for
    /// a VPC attachment, or a gateway on neither side).
    pub fn peer_of(&self, tgw: TransitGatewayId) -> Option<TransitGatewayId> {
        match self.kind {
            TgwAttachmentKind::Peering { peer } if tgw == self.transit_gateway => Some(peer),
            TgwAttachmentKind::Peering { peer } if tgw == peer => Some(self.transit_gateway),
            _ => None,
        }
    }
}

/// A transit gateway route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TgwRouteTable {
    /// Unique name among transit gateway route tables (an implicit default table is
    /// named `<gateway>-default`).
    pub name: String,
    /// Its transit gateway.
    pub transit_gateway: TransitGatewayId,
    /// Whether it is its gateway's default route table. (Whether it was written in
    /// the file or is the implicit default table is not kept, as for
    /// [`RouteTable::main`].)
    pub default: bool,
    /// The attachments associated with it (whose incoming traffic it routes), in the
    /// order written, then those associated by default. Each is an attachment of its
    /// gateway, associated with no other table of that gateway.
    pub associations: Vec<TgwAttachmentId>,
    /// The VPC attachments that propagate their VPC's blocks into it, in the order
    /// written, then those propagating by default; each once.
    pub propagations: Vec<TgwAttachmentId>,
    /// Its static routes, in the order written; destinations unique.
    pub routes: Vec<TgwRoute>,
}

/// A static route of a transit gateway route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TgwRoute {
    /// The destination prefix (canonical).
    pub destination: Ipv4Net,
    /// Where matching packets go.
    pub target: TgwRouteTarget,
}

/// Where a transit gateway route sends packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TgwRouteTarget {
    /// An attachment of the table's gateway.
    Attachment(TgwAttachmentId),
    /// Dropped (`Blackhole = true`).
    Blackhole,
}

/// How a transit gateway route came to be (AWS's route `Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TgwRouteType {
    /// Written (`CreateTransitGatewayRoute`).
    Static,
    /// Propagated from a VPC attachment.
    Propagated,
}

impl TgwRouteType {
    /// AWS's name: `static` or `propagated`.
    pub fn aws_name(self) -> &'static str {
        match self {
            TgwRouteType::Static => "static",
            TgwRouteType::Propagated => "propagated",
        }
    }
}

/// Whether a transit gateway route forwards (AWS's route `State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TgwRouteState {
    /// It forwards to its attachment.
    Active,
    /// It drops what it matches: a blackhole route, or a route to an attachment that
    /// is not available.
    Blackhole,
}

impl TgwRouteState {
    /// AWS's name: `active` or `blackhole`.
    pub fn aws_name(self) -> &'static str {
        match self {
            TgwRouteState::Active => "active",
            TgwRouteState::Blackhole => "blackhole",
        }
    }
}

/// One effective route of a transit gateway route table ([`Topology::tgw_routes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TgwRouteEntry {
    /// The destination prefix.
    pub destination: Ipv4Net,
    /// Its attachment, or blackhole.
    pub target: TgwRouteTarget,
    /// Static or propagated.
    pub route_type: TgwRouteType,
    /// Active or blackhole.
    pub state: TgwRouteState,
}

/// A transit gateway multicast domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MulticastDomain {
    /// Unique name.
    pub name: String,
    /// Its transit gateway (one with multicast support).
    pub transit_gateway: TransitGatewayId,
    /// `Igmpv2Support`: members may join and leave groups with IGMPv2.
    pub igmpv2: bool,
    /// Its associated subnets, each with the VPC attachment of its gateway it belongs
    /// to; a subnet is associated with one domain at most.
    pub associations: Vec<(TgwAttachmentId, SubnetId)>,
    /// Static group members: (group, network interface), the interface in an
    /// associated subnet.
    pub members: Vec<(Ipv4Addr, EniId)>,
    /// Static group sources: (group, network interface), the interface in an
    /// associated subnet.
    pub sources: Vec<(Ipv4Addr, EniId)>,
}

/// The most members a multicast group may have in vpcd (the dataplane marks each
/// member that gets a copy with one bit of a 32-bit word, which keeps its verdicts
/// small enough to travel in registers).
pub const MAX_GROUP_MEMBERS: usize = 32;

/// The multicast groups a domain's members and sources may name: 224.0.0.0/4 without
/// the local network control block 224.0.0.0/24.
pub fn is_multicast_group(ip: Ipv4Addr) -> bool {
    ip.is_multicast() && !LOCAL_NETWORK_CONTROL.contains(&ip)
}

/// 224.0.0.0/24, the local network control block (IGMP, routing protocols): no
/// multicast domain forwards it.
pub const LOCAL_NETWORK_CONTROL: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(224, 0, 0, 0), 24);

/// A resource share (AWS RAM): transit gateways shared with other accounts, which may
/// then attach their VPCs to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceShare {
    /// Unique name.
    pub name: String,
    /// The transit gateways shared, each once.
    pub resources: Vec<TransitGatewayId>,
    /// The accounts they are shared with (12 digits each), each once.
    pub principals: Vec<String>,
}
