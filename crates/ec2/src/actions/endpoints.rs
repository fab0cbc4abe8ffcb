//! Gateway VPC endpoints and AWS-managed prefix lists (AWS: PrivateLink guide,
//! "Gateway endpoints"; VPC guide, "AWS-managed prefix lists"): what
//! `DescribeRouteTables` shows of an endpoint's routes.
//!
//! An endpoint's route is shown once per associated table, as AWS shows it: its
//! destination the service's prefix list (`destinationPrefixListId`), its target the
//! endpoint (`gatewayId`, `vpce-...`), state `active`, origin `CreateRoute` (vpcd's
//! choice: AWS adds the route with the endpoint and documents no other origin for it).

use vpc_config::{RouteTableId, Topology};

use crate::ids::{self, Kind};
use crate::xml::Xml;

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
