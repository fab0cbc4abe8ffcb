//! The validated resources that join VPCs: VPC peering connections (AWS's
//! `CreateVpcPeeringConnection`, `AcceptVpcPeeringConnection`,
//! `DeleteVpcPeeringConnection`).
//!
//! AWS's rules these types encode (VPC peering guide: "VPC peering connection
//! lifecycle", "VPC peering limitations"):
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
    /// Deleted (at run time); carries nothing, routes to it are `blackhole`.
    Deleted,
}

impl PeeringStatus {
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
