//! `CreateVpcPeeringConnection`, `AcceptVpcPeeringConnection`,
//! `DescribeVpcPeeringConnections`, `DeleteVpcPeeringConnection`,
//! `ModifyVpcPeeringConnectionOptions`, over vpc-config's peering edits.
//!
//! AWS's behaviour: a new connection is `pending-acceptance` until the accepter VPC's
//! owner accepts it, also when both VPCs are the caller's (the configuration's default
//! for one owner is `active`, so the API writes the status); the peer VPC is named by
//! `PeerVpcId` with `PeerOwnerId` and `PeerRegion` (default: the caller's account and
//! region), and must be that account's VPC in that region. Both owners see the
//! connection (each in its VPC's region); only the accepter's owner accepts it
//! (`OperationNotPermitted` otherwise); either side deletes it, after which it is
//! listed as `deleted` (vpc-config keeps it, so that routes to it turn `blackhole`).
//! Overlapping blocks, a VPC peered with itself and a second connection between two
//! VPCs are refused at once (AWS lets such a request fail later, as status `failed`).
//! Peering options are not modelled: every option shows `false`, and
//! `ModifyVpcPeeringConnectionOptions` answers them unchanged.

use vpc_config::{EditError, PeeringStatus, VpcId};

use super::{Ctx, Outcome, commit, not_found, set_tags, tag_set};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind};
use crate::xml::Xml;

/// Whether the caller sees connection `i`: it owns one of its VPCs (in that VPC's
/// region).
pub fn sees(ctx: &Ctx<'_>, i: usize) -> bool {
    let p = &ctx.t.vpc_peering_connections[i];
    ctx.sees_vpc(p.requester) || ctx.sees_vpc(p.accepter)
}

/// The ID of connection `i`.
fn pcx_id(ctx: &Ctx<'_>, i: usize) -> String {
    ids::id(
        Kind::PeeringConnection,
        &ctx.t.vpc_peering_connections[i].name,
    )
}

struct Item<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for Item<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.ctx.t;
        let p = &t.vpc_peering_connections[self.index];
        let side = |v: VpcId, what: &str| -> Option<Vec<String>> {
            let vpc = t.vpc(v);
            match what {
                "vpc-id" => Some(vec![ids::id(Kind::Vpc, &vpc.name)]),
                "owner-id" => Some(vec![vpc.owner_id.clone()]),
                "region" => Some(vec![vpc.region.clone()]),
                "cidr-block" => Some(vpc.cidrs.iter().map(|c| c.to_string()).collect()),
                _ => None,
            }
        };
        if let Some(what) = name.strip_prefix("requester-vpc-info.") {
            return side(p.requester, what);
        }
        if let Some(what) = name.strip_prefix("accepter-vpc-info.") {
            return side(p.accepter, what);
        }
        match name {
            "vpc-peering-connection-id" => Some(vec![pcx_id(self.ctx, self.index)]),
            "status-code" => Some(vec![p.status.aws_name().to_owned()]),
            "status-message" => Some(vec![status_message(self.ctx, self.index)]),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// AWS's status message: `Pending Acceptance by <accepter's owner>`, `Active`,
/// `Deleted`.
fn status_message(ctx: &Ctx<'_>, i: usize) -> String {
    let p = &ctx.t.vpc_peering_connections[i];
    match p.status {
        PeeringStatus::PendingAcceptance => {
            format!("Pending Acceptance by {}", ctx.t.vpc(p.accepter).owner_id)
        }
        PeeringStatus::Active => "Active".to_owned(),
        PeeringStatus::Deleted => "Deleted".to_owned(),
    }
}

/// `requesterVpcInfo` / `accepterVpcInfo` of VPC `v`.
fn vpc_info(ctx: &Ctx<'_>, x: &mut Xml, element: &str, v: VpcId) {
    let vpc = ctx.t.vpc(v);
    x.open(element)
        .opt("cidrBlock", vpc.cidrs.first())
        .set("cidrBlockSet", &vpc.cidrs, |x, c| {
            x.leaf("cidrBlock", c);
        })
        .leaf("ownerId", &vpc.owner_id)
        .open("peeringOptions")
        .leaf("allowDnsResolutionFromRemoteVpc", false)
        .leaf("allowEgressFromLocalClassicLinkToRemoteVpc", false)
        .leaf("allowEgressFromLocalVpcToRemoteClassicLink", false)
        .close("peeringOptions")
        .leaf("vpcId", ids::id(Kind::Vpc, &vpc.name))
        .leaf("region", &vpc.region)
        .close(element);
}

/// The `VpcPeeringConnection` structure of connection `i`.
fn pcx_xml(ctx: &Ctx<'_>, x: &mut Xml, i: usize) {
    let p = &ctx.t.vpc_peering_connections[i];
    vpc_info(ctx, x, "accepterVpcInfo", p.accepter);
    vpc_info(ctx, x, "requesterVpcInfo", p.requester);
    x.open("status")
        .leaf("code", p.status.aws_name())
        .leaf("message", status_message(ctx, i))
        .close("status");
    tag_set(x, &ctx.shown_tags(Kind::PeeringConnection, &p.name));
    x.leaf("vpcPeeringConnectionId", pcx_id(ctx, i));
}

/// `<vpcPeeringConnection>` of connection `name` in topology `t`.
fn answer(ctx: &Ctx<'_>, t: &vpc_config::Topology, name: &str) -> Result<String, ApiError> {
    let i = ids::resolve(t, Kind::PeeringConnection, name)
        .ok_or_else(|| ApiError::invalid_value("the VPC peering connection was not kept"))?;
    let view = Ctx { t, ..*ctx };
    let mut x = Xml::new();
    x.open("vpcPeeringConnection");
    pcx_xml(&view, &mut x, i);
    x.close("vpcPeeringConnection");
    Ok(x.finish())
}

/// `CreateVpcPeeringConnection`: `VpcId`, `PeerVpcId`, `PeerOwnerId`, `PeerRegion`,
/// `TagSpecification.N` (`vpc-peering-connection`).
pub fn create(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let t = ctx.t;
    let v = ctx.find(Kind::Vpc, p.required("VpcId")?)?;
    let peer_id = p.required("PeerVpcId")?;
    let owner = p.str("PeerOwnerId").unwrap_or(&ctx.caller.account);
    let region = p.str("PeerRegion").unwrap_or(&ctx.caller.region);
    let peer = ids::resolve(t, Kind::Vpc, peer_id)
        .filter(|&i| t.vpcs[i].owner_id == owner && t.vpcs[i].region == region)
        .ok_or_else(|| not_found(Kind::Vpc, peer_id))?;
    let tags = ctx.tag_specifications(Kind::PeeringConnection)?;
    let name = ctx.new_name(Kind::PeeringConnection, &tags, |_| false);
    let (vpc_name, peer_name) = (t.vpcs[v].name.clone(), t.vpcs[peer].name.clone());
    let mut new = t.clone();
    let created = new
        .create_vpc_peering_connection(&name, &vpc_name, &peer_name)
        .map_err(|e| match e {
            EditError::AlreadyPeered { pcx, .. } => ApiError::new(
                "VpcPeeringConnectionAlreadyExists",
                format!(
                    "A VPC peering connection {} already exists between {} and {}",
                    ids::id(Kind::PeeringConnection, &pcx),
                    ids::id(Kind::Vpc, &vpc_name),
                    ids::id(Kind::Vpc, &peer_name)
                ),
            ),
            other => ApiError::invalid_value(other.to_string()),
        })?;
    // AWS: pending until the accepter's owner accepts, whoever owns the two VPCs.
    new.vpc_peering_connections[created.index()].status = PeeringStatus::PendingAcceptance;
    set_tags(&mut new, &ids::id(Kind::PeeringConnection, &name), &tags);
    let new = commit(&new)?;
    let xml = answer(ctx, &new, &name)?;
    Outcome::changed(xml, new)
}

/// `AcceptVpcPeeringConnection`: `VpcPeeringConnectionId`; the caller must own the
/// accepter VPC.
pub fn accept(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("VpcPeeringConnectionId")?;
    let i = ctx.find(Kind::PeeringConnection, id)?;
    let t = ctx.t;
    let pcx = &t.vpc_peering_connections[i];
    if !ctx.sees_vpc(pcx.accepter) {
        return Err(ApiError::new(
            "OperationNotPermitted",
            format!(
                "User {} cannot accept peering {id}: only the owner of the accepter VPC can",
                ctx.caller.account
            ),
        ));
    }
    if pcx.status != PeeringStatus::PendingAcceptance {
        return Err(ApiError::new(
            "InvalidStateTransition",
            format!(
                "Invalid state transition for {id}, attempted to transition from {} to active",
                pcx.status.aws_name()
            ),
        ));
    }
    let name = pcx.name.clone();
    let mut new = t.clone();
    new.accept_vpc_peering_connection(&name)
        .map_err(|e| ApiError::invalid_value(e.to_string()))?;
    let new = commit(&new)?;
    let xml = answer(ctx, &new, &name)?;
    Outcome::changed(xml, new)
}

/// `DeleteVpcPeeringConnection`: `VpcPeeringConnectionId`; either side may delete it.
pub fn delete(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("VpcPeeringConnectionId")?;
    let i = ctx.find(Kind::PeeringConnection, id)?;
    let t = ctx.t;
    let pcx = &t.vpc_peering_connections[i];
    if pcx.status == PeeringStatus::Deleted {
        return Err(ApiError::new(
            "InvalidStateTransition",
            format!(
                "Invalid state transition for {id}, attempted to transition from deleted to deleted"
            ),
        ));
    }
    let mut new = t.clone();
    new.delete_vpc_peering_connection(&pcx.name)
        .map_err(|e| ApiError::invalid_value(e.to_string()))?;
    Outcome::done(commit(&new)?)
}

/// `DescribeVpcPeeringConnections`: `VpcPeeringConnectionId.N`, `Filter.N`,
/// `MaxResults`, `NextToken`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let indices = ctx.selected(
        Kind::PeeringConnection,
        "VpcPeeringConnectionId",
        ctx.t.vpc_peering_connections.len(),
    )?;
    let items: Vec<Item<'_>> = indices
        .into_iter()
        .map(|i| Item {
            index: i,
            tags: ctx.shown_tags(
                Kind::PeeringConnection,
                &ctx.t.vpc_peering_connections[i].name,
            ),
            ctx,
        })
        .collect();
    super::described(ctx, "vpcPeeringConnectionSet", items, |x, item| {
        pcx_xml(ctx, x, item.index)
    })
}

/// `ModifyVpcPeeringConnectionOptions`: `VpcPeeringConnectionId`,
/// `RequesterPeeringConnectionOptions.*`, `AccepterPeeringConnectionOptions.*`.
/// vpcd models no option: the answer is the options as they are (all `false`).
pub fn modify_options(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("VpcPeeringConnectionId")?;
    ctx.find(Kind::PeeringConnection, id)?;
    for side in [
        "RequesterPeeringConnectionOptions",
        "AccepterPeeringConnectionOptions",
    ] {
        for option in [
            "AllowDnsResolutionFromRemoteVpc",
            "AllowEgressFromLocalClassicLinkToRemoteVpc",
            "AllowEgressFromLocalVpcToRemoteClassicLink",
        ] {
            ctx.p.bool(&format!("{side}.{option}"))?;
        }
    }
    let mut x = Xml::new();
    for element in [
        "accepterPeeringConnectionOptions",
        "requesterPeeringConnectionOptions",
    ] {
        x.open(element)
            .leaf("allowDnsResolutionFromRemoteVpc", false)
            .leaf("allowEgressFromLocalClassicLinkToRemoteVpc", false)
            .leaf("allowEgressFromLocalVpcToRemoteClassicLink", false)
            .close(element);
    }
    Outcome::read(x.finish())
}
