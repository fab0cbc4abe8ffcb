//! Gateway VPC endpoints and AWS-managed prefix lists (AWS: PrivateLink guide,
//! "Gateway endpoints"; VPC guide, "AWS-managed prefix lists"): what
//! `DescribeRouteTables` shows of an endpoint's routes.
//!
//! An endpoint's route is shown once per associated table, as AWS shows it: its
//! destination the service's prefix list (`destinationPrefixListId`), its target the
//! endpoint (`gatewayId`, `vpce-...`), state `active`, origin `CreateRoute` (vpcd's
//! choice: AWS adds the route with the endpoint and documents no other origin for it).

use vpc_config::{AwsServiceId, RouteTableId, SgPeer, Topology, VpcId};

use super::Ctx;
use crate::error::ApiError;
use crate::ids::{self, Kind};
use crate::xml::Xml;

/// The `pl-` ID of service `s`'s prefix list.
pub(super) fn prefix_list_id_of(t: &Topology, s: AwsServiceId) -> String {
    ids::id(Kind::PrefixList, &t.aws_service(s).service_name())
}

/// A security group rule's peer `PrefixListId` (a `pl-` ID, or a list's name), of the
/// region of `vpc`: `InvalidPrefixListID.NotFound` for another.
pub(super) fn prefix_list_peer(
    ctx: &Ctx<'_>,
    vpc: VpcId,
    id: Option<&str>,
) -> Result<SgPeer, ApiError> {
    let id = id.ok_or_else(|| {
        ApiError::missing(
            "The request must contain the parameter IpPermissions.N.PrefixListIds.N.PrefixListId",
        )
    })?;
    let region = &ctx.t.vpc(vpc).region;
    let i = ctx.find(Kind::PrefixList, id)?;
    if &ctx.t.aws_services[i].region != region {
        return Err(ApiError::new(
            "InvalidPrefixListID.NotFound",
            format!("The prefix list ID '{id}' does not exist"),
        ));
    }
    Ok(SgPeer::PrefixList(AwsServiceId(i as u32)))
}

/// The `item`s of `routeSet` for the gateway endpoints associated with `table`.
pub(super) fn endpoint_routes_xml(t: &Topology, x: &mut Xml, table: RouteTableId) {
    for e in t.endpoints_of(table) {
        let ep = t.vpc_endpoint(e);
        let service = t.aws_service(ep.service);
        x.open("item")
            .leaf(
                "destinationPrefixListId",
                ids::id(Kind::PrefixList, &service.service_name()),
            )
            .leaf("gatewayId", ids::id(Kind::VpcEndpoint, &ep.name))
            .leaf("state", "active")
            .leaf("origin", vpc_config::RouteOrigin::PrefixList.aws_name())
            .close("item");
    }
}
