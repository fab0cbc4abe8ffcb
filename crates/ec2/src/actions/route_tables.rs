//! `CreateRouteTable`, `DescribeRouteTables`, `DeleteRouteTable`, `CreateRoute`,
//! `ReplaceRoute`, `DeleteRoute`, `AssociateRouteTable`, `DisassociateRouteTable`,
//! `ReplaceRouteTableAssociation`.
//!
//! As in AWS, every VPC has a main route table (vpc-config's implicit `<vpc>-main`
//! unless one is declared) with a `main` association, every table starts with one
//! `local` route per VPC block (`gatewayId` `local`, origin `CreateRouteTable`), and
//! the routes added after it have origin `CreateRoute` and state `active`, or
//! `blackhole` while their target cannot carry traffic (an internet gateway detached
//! from the VPC, a deleted NAT gateway, a peering connection that is not active, a
//! transit gateway whose attachment to the VPC is not available). Association IDs are
//! derived like every ID ([`association_id`]): a subnet association hashes
//! `<table>/<subnet>`, an edge association `<table>/gateway:<igw>`, the main
//! association `<table>`; so they are stable, and `ReplaceRouteTableAssociation` gives
//! a new one. `CreateRouteTable` honours `ClientToken` (the same token answers the
//! same table, as long as the API runs). A route's destination that is a VPC block is
//! the local route: `ReplaceRoute` may point it to a network interface
//! (`NetworkInterfaceId`, `InstanceId`) and back (`LocalTarget=true`, or `GatewayId`
//! `local`); it cannot be created or deleted. Errors follow AWS's codes:
//! `RouteAlreadyExists`, `InvalidRoute.NotFound`, `Resource.AlreadyAssociated`,
//! `InvalidAssociationID.NotFound`, `DependencyViolation` (deleting a main or
//! associated table).
//!
//! After a table's own routes come the routes of its gateway endpoints and then those
//! propagated from its VPN gateways (`propagatingVgwSet`) while a connection has a
//! tunnel up: each destination once, `gatewayId` the VPN gateway, state `active`,
//! origin `EnableVgwRoutePropagation`.

use ipnet::Ipv4Net;
use vpc_config::{
    AttachmentStatus, EditError, EniId, InternetGatewayId, PeeringStatus, Route, RouteOrigin,
    RouteTable, RouteTableId, RouteTarget, SubnetId, TgwAttachmentKind, Topology,
};

use super::{
    Ctx, Outcome, array, commit, drop_document_tags, edit_document, key, set_tags, tag_set,
};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind};
use crate::xml::Xml;

/// One association of a route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assoc {
    /// The VPC's main table.
    Main,
    /// A subnet's explicit association.
    Subnet(SubnetId),
    /// An edge association with an internet gateway.
    Gateway(InternetGatewayId),
}

/// The associations of route table `i`: main first, then subnets, then gateways.
pub fn associations(t: &Topology, i: usize) -> Vec<Assoc> {
    let rt = &t.route_tables[i];
    let mut out = Vec::new();
    if rt.main {
        out.push(Assoc::Main);
    }
    for (k, s) in t.subnets.iter().enumerate() {
        if s.explicit_association && s.route_table.index() == i {
            out.push(Assoc::Subnet(SubnetId(k as u32)));
        }
    }
    out.extend(rt.gateways.iter().map(|&g| Assoc::Gateway(g)));
    out
}

/// The ID of association `a` of the table named `table`.
pub fn association_id(t: &Topology, table: &str, a: Assoc) -> String {
    let text = match a {
        Assoc::Main => table.to_owned(),
        Assoc::Subnet(s) => format!("{table}/{}", t.subnet(s).name),
        Assoc::Gateway(g) => format!("{table}/gateway:{}", t.internet_gateway(g).name),
    };
    ids::id(Kind::RouteTableAssociation, &text)
}

/// The route table and association an association ID names, among the tables the
/// caller sees, or `InvalidAssociationID.NotFound`.
fn find_association(ctx: &Ctx<'_>, id: &str) -> Result<(usize, Assoc), ApiError> {
    let t = ctx.t;
    for (i, rt) in t.route_tables.iter().enumerate() {
        if !ctx.sees(Kind::RouteTable, i) {
            continue;
        }
        for a in associations(t, i) {
            if association_id(t, &rt.name, a) == id {
                return Ok((i, a));
            }
        }
    }
    Err(ApiError::new(
        "InvalidAssociationID.NotFound",
        format!("The association ID '{id}' does not exist"),
    ))
}

/// A route's state: `blackhole` while its target cannot carry traffic.
pub fn route_state(t: &Topology, rt: &RouteTable, target: RouteTarget) -> &'static str {
    let up = match target {
        RouteTarget::Local | RouteTarget::Eni(_) | RouteTarget::VpcEndpoint(_) => true,
        RouteTarget::InternetGateway(g) => t.internet_gateway(g).vpc == Some(rt.vpc),
        RouteTarget::VpnGateway(g) => t.vpn_gateway(g).vpc == Some(rt.vpc),
        RouteTarget::NatGateway(n) => !t.nat_gateway(n).deleted,
        RouteTarget::VpcPeeringConnection(p) => {
            t.vpc_peering_connection(p).status == PeeringStatus::Active
        }
        RouteTarget::TransitGateway(g) => t.tgw_attachments.iter().any(|a| {
            a.transit_gateway == g
                && a.status == AttachmentStatus::Available
                && matches!(&a.kind, TgwAttachmentKind::Vpc { vpc, .. } if *vpc == rt.vpc)
        }),
    };
    if up { "active" } else { "blackhole" }
}

/// The ID of a route's target as `DescribeRouteTables` shows it, by its element.
fn target_elements(t: &Topology, target: RouteTarget) -> Vec<(&'static str, String)> {
    match target {
        RouteTarget::Local => vec![("gatewayId", "local".to_owned())],
        RouteTarget::Eni(e) => {
            let inst = t.instance(t.eni(e).instance);
            vec![
                ("instanceId", ids::id(Kind::Instance, &inst.name)),
                ("instanceOwnerId", t.vpc(t.eni_vpc(e)).owner_id.clone()),
                (
                    "networkInterfaceId",
                    ids::id(Kind::NetworkInterface, &t.eni_name(e).to_string()),
                ),
            ]
        }
        RouteTarget::InternetGateway(g) => vec![(
            "gatewayId",
            ids::id(Kind::InternetGateway, &t.internet_gateway(g).name),
        )],
        RouteTarget::NatGateway(n) => vec![(
            "natGatewayId",
            ids::id(Kind::NatGateway, &t.nat_gateway(n).name),
        )],
        RouteTarget::VpcPeeringConnection(p) => vec![(
            "vpcPeeringConnectionId",
            ids::id(Kind::PeeringConnection, &t.vpc_peering_connection(p).name),
        )],
        RouteTarget::TransitGateway(g) => vec![(
            "transitGatewayId",
            ids::id(Kind::TransitGateway, &t.transit_gateway(g).name),
        )],
        RouteTarget::VpcEndpoint(e) => vec![(
            "gatewayId",
            ids::id(Kind::VpcEndpoint, &t.vpc_endpoint(e).name),
        )],
        RouteTarget::VpnGateway(g) => vec![(
            "gatewayId",
            ids::id(Kind::VpnGateway, &t.vpn_gateway(g).name),
        )],
    }
}

/// The routes propagated into table `table` from its VPN gateways, each destination
/// once (the first: a connection's static routes come before routes learned over BGP).
fn propagated(t: &Topology, table: RouteTableId) -> Vec<Route> {
    let mut out: Vec<Route> = Vec::new();
    for r in t.propagated_routes(table) {
        if !out.iter().any(|o| o.destination == r.destination) {
            out.push(r);
        }
    }
    out
}

/// A route table as `DescribeRouteTables` filters it.
struct Item<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for Item<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.ctx.t;
        let rt = &t.route_tables[self.index];
        let vpc = t.vpc(rt.vpc);
        let assocs = associations(t, self.index);
        let route_target = |element: &str| -> Vec<String> {
            rt.routes
                .iter()
                .flat_map(|r| target_elements(t, r.target))
                .filter(|(e, _)| *e == element)
                .map(|(_, v)| v)
                .collect()
        };
        let one = |s: String| Some(vec![s]);
        // Gateway endpoints' routes (one per endpoint, to its prefix list).
        let endpoint_routes = || t.endpoints_of(RouteTableId(self.index as u32));
        // Routes propagated from VPN gateways.
        let propagated = propagated(t, RouteTableId(self.index as u32));
        match name {
            "route-table-id" => one(ids::id(Kind::RouteTable, &rt.name)),
            "vpc-id" => one(ids::id(Kind::Vpc, &vpc.name)),
            "owner-id" => one(vpc.owner_id.clone()),
            "association.main" => Some(
                assocs
                    .iter()
                    .map(|a| (*a == Assoc::Main).to_string())
                    .collect(),
            ),
            "association.route-table-association-id" => Some(
                assocs
                    .iter()
                    .map(|&a| association_id(t, &rt.name, a))
                    .collect(),
            ),
            "association.route-table-id" => Some(
                assocs
                    .iter()
                    .map(|_| ids::id(Kind::RouteTable, &rt.name))
                    .collect(),
            ),
            "association.subnet-id" => Some(
                assocs
                    .iter()
                    .filter_map(|a| match a {
                        Assoc::Subnet(s) => Some(ids::id(Kind::Subnet, &t.subnet(*s).name)),
                        _ => None,
                    })
                    .collect(),
            ),
            "association.gateway-id" => Some(
                assocs
                    .iter()
                    .filter_map(|a| match a {
                        Assoc::Gateway(g) => {
                            Some(ids::id(Kind::InternetGateway, &t.internet_gateway(*g).name))
                        }
                        _ => None,
                    })
                    .collect(),
            ),
            "route.destination-cidr-block" => Some(
                rt.routes
                    .iter()
                    .chain(&propagated)
                    .map(|r| r.destination.to_string())
                    .collect(),
            ),
            "route.origin" => Some(
                rt.routes
                    .iter()
                    .map(|r| r.origin.aws_name().to_owned())
                    .chain(endpoint_routes().map(|_| RouteOrigin::PrefixList.aws_name().into()))
                    .chain(propagated.iter().map(|r| r.origin.aws_name().to_owned()))
                    .collect(),
            ),
            "route.state" => Some(
                rt.routes
                    .iter()
                    .map(|r| route_state(t, rt, r.target).to_owned())
                    .chain(endpoint_routes().map(|_| "active".to_owned()))
                    .chain(propagated.iter().map(|_| "active".to_owned()))
                    .collect(),
            ),
            "route.gateway-id" => {
                let mut ids = route_target("gatewayId");
                ids.extend(super::endpoints::endpoint_ids(
                    t,
                    RouteTableId(self.index as u32),
                ));
                ids.extend(
                    propagated
                        .iter()
                        .flat_map(|r| target_elements(t, r.target))
                        .map(|(_, v)| v),
                );
                Some(ids)
            }
            "route.destination-prefix-list-id" => Some(super::endpoints::prefix_list_ids(
                t,
                RouteTableId(self.index as u32),
            )),
            "route.nat-gateway-id" => Some(route_target("natGatewayId")),
            "route.instance-id" => Some(route_target("instanceId")),
            "route.vpc-peering-connection-id" => Some(route_target("vpcPeeringConnectionId")),
            "route.transit-gateway-id" => Some(route_target("transitGatewayId")),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// `<associationState><state>associated</state></associationState>`.
fn associated(x: &mut Xml) {
    x.open("associationState")
        .leaf("state", "associated")
        .close("associationState");
}

/// The `RouteTable` structure of table `i`.
fn route_table_xml(ctx: &Ctx<'_>, x: &mut Xml, i: usize) {
    let t = ctx.t;
    let rt = &t.route_tables[i];
    let vpc = t.vpc(rt.vpc);
    let rtb_id = ids::id(Kind::RouteTable, &rt.name);
    x.leaf("routeTableId", &rtb_id)
        .leaf("vpcId", ids::id(Kind::Vpc, &vpc.name))
        .leaf("ownerId", &vpc.owner_id);
    x.open("routeSet");
    for r in &rt.routes {
        x.open("item").leaf("destinationCidrBlock", r.destination);
        for (element, value) in target_elements(t, r.target) {
            x.leaf(element, value);
        }
        x.leaf("state", route_state(t, rt, r.target))
            .leaf("origin", r.origin.aws_name())
            .close("item");
    }
    // Gateway endpoints' routes, to their prefix lists.
    super::endpoints::endpoint_routes_xml(t, x, vpc_config::RouteTableId(i as u32));
    // Routes propagated from its VPN gateways.
    for r in propagated(t, RouteTableId(i as u32)) {
        x.open("item").leaf("destinationCidrBlock", r.destination);
        for (element, value) in target_elements(t, r.target) {
            x.leaf(element, value);
        }
        x.leaf("state", "active")
            .leaf("origin", r.origin.aws_name())
            .close("item");
    }
    x.close("routeSet");
    x.set("associationSet", &associations(t, i), |x, &a| {
        x.leaf("main", a == Assoc::Main)
            .leaf("routeTableAssociationId", association_id(t, &rt.name, a))
            .leaf("routeTableId", &rtb_id);
        match a {
            Assoc::Main => {}
            Assoc::Subnet(s) => {
                x.leaf("subnetId", ids::id(Kind::Subnet, &t.subnet(s).name));
            }
            Assoc::Gateway(g) => {
                x.leaf(
                    "gatewayId",
                    ids::id(Kind::InternetGateway, &t.internet_gateway(g).name),
                );
            }
        }
        associated(x);
    });
    let vgws: Vec<String> = rt
        .propagating_vgws
        .iter()
        .map(|&g| ids::id(Kind::VpnGateway, &t.vpn_gateway(g).name))
        .collect();
    x.set("propagatingVgwSet", &vgws, |x, g| {
        x.leaf("gatewayId", g);
    });
    tag_set(x, &ctx.shown_tags(Kind::RouteTable, &rt.name));
}

/// The key under which a creating action remembers `ClientToken`, if one was given:
/// the caller's account and region, the action and the token.
pub fn client_token_key(ctx: &Ctx<'_>, action: &str) -> Option<String> {
    ctx.p
        .str("ClientToken")
        .filter(|s| !s.is_empty())
        .map(|tok| {
            format!(
                "{}/{}/{action}/{tok}",
                ctx.caller.account, ctx.caller.region
            )
        })
}

/// `IdempotentParameterMismatch`: a client token reused with other parameters.
pub fn token_mismatch(token: &str) -> ApiError {
    ApiError::new(
        "IdempotentParameterMismatch",
        format!(
            "The client token '{token}' was used with different parameters by an earlier request"
        ),
    )
}

/// `<routeTable>` of the table named `name` in `t`, and `<clientToken>`.
fn created_xml(ctx: &Ctx<'_>, t: &Topology, name: &str) -> Result<String, ApiError> {
    let i = ids::resolve(t, Kind::RouteTable, name)
        .ok_or_else(|| ApiError::invalid_value("the new route table was not created"))?;
    let view = Ctx { t, ..*ctx };
    let mut x = Xml::new();
    x.open("routeTable");
    route_table_xml(&view, &mut x, i);
    x.close("routeTable");
    x.opt("clientToken", ctx.p.str("ClientToken"));
    Ok(x.finish())
}

/// `CreateRouteTable`: `VpcId`, `ClientToken`, `TagSpecification.N` (`route-table`).
pub fn create(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let v = ctx.find(Kind::Vpc, ctx.p.required("VpcId")?)?;
    let token = client_token_key(ctx, "CreateRouteTable");
    if let Some(key) = &token
        && let Some(id) = ctx.api.client_token(key)
        && let Some(i) = ids::resolve(t, Kind::RouteTable, &id)
    {
        if t.route_tables[i].vpc.index() != v {
            return Err(token_mismatch(ctx.p.str("ClientToken").unwrap_or("")));
        }
        let name = t.route_tables[i].name.clone();
        return Outcome::read(created_xml(ctx, t, &name)?);
    }
    let tags = ctx.tag_specifications(Kind::RouteTable)?;
    let name = ctx.new_name(Kind::RouteTable, &tags, |n| {
        t.vpcs.iter().any(|vpc| format!("{}-main", vpc.name) == n)
    });
    let vpc_name = t.vpcs[v].name.clone();
    let mut new = edit_document(t, |doc| {
        let mut table = toml::Table::new();
        table.insert("name".into(), name.clone().into());
        table.insert("vpc".into(), vpc_name.into());
        array(doc, "route_table").push(toml::Value::Table(table));
    })?;
    set_tags(&mut new, &ids::id(Kind::RouteTable, &name), &tags);
    let new = commit(&new)?;
    let xml = created_xml(ctx, &new, &name)?;
    if let Some(key) = token {
        ctx.api
            .remember_client_token(key, ids::id(Kind::RouteTable, &name));
    }
    Outcome::changed(xml, new)
}

/// `DescribeRouteTables`: `RouteTableId.N`, `Filter.N`, `MaxResults`, `NextToken`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let indices = ctx.selected(Kind::RouteTable, "RouteTableId", ctx.t.route_tables.len())?;
    let items: Vec<Item<'_>> = indices
        .into_iter()
        .map(|i| Item {
            index: i,
            tags: ctx.shown_tags(Kind::RouteTable, &ctx.t.route_tables[i].name),
            ctx,
        })
        .collect();
    super::described(ctx, "routeTableSet", items, |x, item| {
        route_table_xml(ctx, x, item.index)
    })
}

/// `DeleteRouteTable`: `RouteTableId`.
pub fn delete(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let i = ctx.find(Kind::RouteTable, ctx.p.required("RouteTableId")?)?;
    let t = ctx.t;
    let rt = &t.route_tables[i];
    let rtb_id = ids::id(Kind::RouteTable, &rt.name);
    let assocs = associations(t, i);
    if !assocs.is_empty() {
        let why: Vec<String> = assocs
            .iter()
            .map(|&a| match a {
                Assoc::Main => "it is its VPC's main route table".to_owned(),
                other => format!("association {}", association_id(t, &rt.name, other)),
            })
            .collect();
        return Err(ApiError::dependency(format!(
            "The routeTable '{rtb_id}' has dependencies and cannot be deleted: {}",
            why.join(", ")
        )));
    }
    let name = rt.name.clone();
    let new = edit_document(t, |doc| {
        array(doc, "route_table").retain(|x| key(x, "name") != Some(&name));
        drop_document_tags(doc, std::slice::from_ref(&rtb_id));
        // Gateway endpoints lose the table (and their route in it).
        super::endpoints::forget_route_table(doc, &name);
    })?;
    Outcome::done(new)
}

/// The route table of `RouteTableId` and the destination of `DestinationCidrBlock`
/// (IPv6 and prefix-list destinations are not supported).
fn table_and_destination(ctx: &Ctx<'_>) -> Result<(usize, Ipv4Net), ApiError> {
    let i = ctx.find(Kind::RouteTable, ctx.p.required("RouteTableId")?)?;
    for unsupported in ["DestinationIpv6CidrBlock", "DestinationPrefixListId"] {
        if ctx.p.str(unsupported).is_some() {
            return Err(ApiError::invalid_value(format!(
                "vpcd does not support {unsupported}: give DestinationCidrBlock"
            )));
        }
    }
    let text = ctx.p.required("DestinationCidrBlock")?;
    let destination = super::vpcs::parse_block(text, "destinationCidrBlock")?;
    Ok((i, destination))
}

/// The target parameters of `CreateRoute` and `ReplaceRoute` vpcd supports.
const TARGETS: [&str; 6] = [
    "GatewayId",
    "NatGatewayId",
    "VpcPeeringConnectionId",
    "TransitGatewayId",
    "NetworkInterfaceId",
    "InstanceId",
];

/// The target the request names (exactly one of [`TARGETS`]); `GatewayId` `local` is
/// [`RouteTarget::Local`].
fn requested_target(ctx: &Ctx<'_>) -> Result<RouteTarget, ApiError> {
    let p = ctx.p;
    for unsupported in [
        "EgressOnlyInternetGatewayId",
        "LocalGatewayId",
        "CarrierGatewayId",
        "VpcEndpointId",
        "CoreNetworkArn",
        "OdbNetworkArn",
    ] {
        if p.str(unsupported).is_some() {
            return Err(ApiError::invalid_value(format!(
                "vpcd does not support {unsupported} route targets"
            )));
        }
    }
    let given: Vec<(&str, &str)> = TARGETS
        .iter()
        .filter_map(|&k| p.str(k).map(|v| (k, v)))
        .collect();
    let (param, value) = match given[..] {
        [one] => one,
        [] => {
            return Err(ApiError::missing(format!(
                "The request must contain exactly one of {}",
                TARGETS.join(", ")
            )));
        }
        _ => {
            return Err(ApiError::new(
                "InvalidParameterCombination",
                format!("Only one of {} may be given", TARGETS.join(", ")),
            ));
        }
    };
    let t = ctx.t;
    Ok(match param {
        "GatewayId" if value == "local" => RouteTarget::Local,
        "GatewayId" if value.starts_with("vgw-") => RouteTarget::VpnGateway(
            vpc_config::VpnGatewayId(ctx.find(Kind::VpnGateway, value)? as u32),
        ),
        "GatewayId" => RouteTarget::InternetGateway(InternetGatewayId(
            ctx.find(Kind::InternetGateway, value)? as u32,
        )),
        "NatGatewayId" => {
            let n = ctx.find(Kind::NatGateway, value)?;
            if t.nat_gateways[n].deleted {
                return Err(ApiError::new(
                    "InvalidNatGatewayID.NotFound",
                    format!("The natGateway ID '{value}' does not exist"),
                ));
            }
            RouteTarget::NatGateway(vpc_config::NatGatewayId(n as u32))
        }
        "VpcPeeringConnectionId" => RouteTarget::VpcPeeringConnection(
            vpc_config::VpcPeeringConnectionId(ctx.find(Kind::PeeringConnection, value)? as u32),
        ),
        "TransitGatewayId" => RouteTarget::TransitGateway(vpc_config::TransitGatewayId(
            ctx.find(Kind::TransitGateway, value)? as u32,
        )),
        "NetworkInterfaceId" => {
            RouteTarget::Eni(EniId(ctx.find(Kind::NetworkInterface, value)? as u32))
        }
        _ => {
            let inst = &t.instances[ctx.find(Kind::Instance, value)?];
            match inst.enis[..] {
                [e] => RouteTarget::Eni(e),
                _ => {
                    return Err(ApiError::invalid_value(format!(
                        "There are multiple interfaces attached to instance '{value}'. Please specify an interface ID for the operation instead."
                    )));
                }
            }
        }
    })
}

/// AWS's refusal of a target in another VPC than the table's.
fn other_network(ctx: &Ctx<'_>, i: usize, target: RouteTarget) -> Result<(), ApiError> {
    let t = ctx.t;
    let rt = &t.route_tables[i];
    let target_vpc = match target {
        RouteTarget::InternetGateway(g) => Some(t.internet_gateway(g).vpc),
        RouteTarget::VpnGateway(g) => Some(t.vpn_gateway(g).vpc),
        RouteTarget::NatGateway(n) => Some(Some(t.subnet(t.nat_gateway(n).subnet).vpc)),
        RouteTarget::Eni(e) => Some(Some(t.eni_vpc(e))),
        _ => None,
    };
    if let Some(v) = target_vpc
        && v != Some(rt.vpc)
    {
        let shown: Vec<String> = target_elements(t, target)
            .into_iter()
            .filter(|(e, _)| *e != "instanceOwnerId" && *e != "instanceId")
            .map(|(_, v)| v)
            .collect();
        return Err(ApiError::invalid_value(format!(
            "route table {} and network gateway {} belong to different networks",
            ids::id(Kind::RouteTable, &rt.name),
            shown.join(", ")
        )));
    }
    Ok(())
}

/// `InvalidRoute.NotFound`.
fn no_route(ctx: &Ctx<'_>, i: usize, destination: Ipv4Net) -> ApiError {
    ApiError::new(
        "InvalidRoute.NotFound",
        format!(
            "no route with destination-cidr-block {destination} in route table {}",
            ids::id(Kind::RouteTable, &ctx.t.route_tables[i].name)
        ),
    )
}

/// `CreateRoute`: `RouteTableId`, `DestinationCidrBlock`, and one target:
/// `GatewayId` (an internet gateway), `NatGatewayId`, `VpcPeeringConnectionId`,
/// `TransitGatewayId`, `NetworkInterfaceId` or `InstanceId`.
pub fn create_route(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (i, destination) = table_and_destination(ctx)?;
    let t = ctx.t;
    if t.route_tables[i]
        .routes
        .iter()
        .any(|r| r.destination == destination)
    {
        return Err(ApiError::new(
            "RouteAlreadyExists",
            format!("The route identified by {destination} already exists."),
        ));
    }
    let target = requested_target(ctx)?;
    if target == RouteTarget::Local {
        return Err(ApiError::invalid_value(
            "Value (local) for parameter gatewayId is invalid: only the local routes go to local",
        ));
    }
    other_network(ctx, i, target)?;
    let mut new = t.clone();
    new.route_tables[i].routes.push(Route {
        destination,
        target,
        origin: RouteOrigin::Static,
    });
    Outcome::done(commit(&new)?)
}

/// `ReplaceRoute`: `RouteTableId`, `DestinationCidrBlock`, and one target as
/// [`create_route`] takes them; for a local route, `NetworkInterfaceId` /
/// `InstanceId`, or `LocalTarget=true` (or `GatewayId=local`) to restore it.
pub fn replace_route(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (i, destination) = table_and_destination(ctx)?;
    let t = ctx.t;
    let rt = &t.route_tables[i];
    let Some(k) = rt.routes.iter().position(|r| r.destination == destination) else {
        return Err(no_route(ctx, i, destination));
    };
    let local_target = ctx.p.bool("LocalTarget")? == Some(true);
    let target = if local_target {
        if TARGETS.iter().any(|p| ctx.p.str(p).is_some()) {
            return Err(ApiError::new(
                "InvalidParameterCombination",
                "LocalTarget cannot be given with another target",
            ));
        }
        RouteTarget::Local
    } else {
        requested_target(ctx)?
    };
    let mut new = t.clone();
    if rt.routes[k].origin == RouteOrigin::Local {
        let eni = match target {
            RouteTarget::Local => None,
            RouteTarget::Eni(e) => Some(t.eni_name(e).to_string()),
            _ => {
                return Err(ApiError::invalid_value(format!(
                    "The local route {destination} of route table {} can only target the VPC's network interfaces, or local",
                    ids::id(Kind::RouteTable, &rt.name)
                )));
            }
        };
        new.replace_local_route_target(&rt.name, destination, eni.as_deref())
            .map_err(|e| ApiError::invalid_value(e.to_string()))?;
    } else {
        if target == RouteTarget::Local {
            return Err(ApiError::invalid_value(format!(
                "Only a local route can target local: {destination} is not one of the VPC's blocks"
            )));
        }
        other_network(ctx, i, target)?;
        new.route_tables[i].routes[k].target = target;
    }
    Outcome::done(commit(&new)?)
}

/// `DeleteRoute`: `RouteTableId`, `DestinationCidrBlock`. Local routes stay.
pub fn delete_route(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (i, destination) = table_and_destination(ctx)?;
    let t = ctx.t;
    let rt = &t.route_tables[i];
    let Some(k) = rt.routes.iter().position(|r| r.destination == destination) else {
        return Err(no_route(ctx, i, destination));
    };
    if rt.routes[k].origin == RouteOrigin::Local {
        return Err(ApiError::invalid_value(format!(
            "cannot remove local route {destination} in route table {}",
            ids::id(Kind::RouteTable, &rt.name)
        )));
    }
    let mut new = t.clone();
    new.route_tables[i].routes.remove(k);
    Outcome::done(commit(&new)?)
}

/// `<associationId>` (or `name`) and `<associationState>` of association `a` of the
/// table named `table` in `t`.
fn association_answer(t: &Topology, table: &str, a: Assoc, name: &str) -> String {
    let mut x = Xml::new();
    x.leaf(name, association_id(t, table, a));
    associated(&mut x);
    x.finish()
}

/// Maps vpc-config's refusals of an edge association to AWS's codes.
fn edge_error(e: EditError) -> ApiError {
    match e {
        EditError::GatewayAssociated { .. } => {
            ApiError::new("Resource.AlreadyAssociated", e.to_string())
        }
        other => ApiError::invalid_value(other.to_string()),
    }
}

/// Associates subnet `s` explicitly with table `i` in `new` (checked against `t`).
fn associate_subnet(
    ctx: &Ctx<'_>,
    new: &mut Topology,
    i: usize,
    s: usize,
    replacing: bool,
) -> Result<(), ApiError> {
    let t = ctx.t;
    let rt = &t.route_tables[i];
    let subnet = &t.subnets[s];
    if subnet.vpc != rt.vpc {
        return Err(ApiError::invalid_value(format!(
            "Route table {} and subnet {} belong to different networks",
            ids::id(Kind::RouteTable, &rt.name),
            ids::id(Kind::Subnet, &subnet.name)
        )));
    }
    if subnet.explicit_association && !replacing {
        return Err(ApiError::new(
            "Resource.AlreadyAssociated",
            format!(
                "the specified association for route table {} conflicts with an existing association",
                ids::id(Kind::RouteTable, &rt.name)
            ),
        ));
    }
    new.subnets[s].route_table = RouteTableId(i as u32);
    new.subnets[s].explicit_association = true;
    Ok(())
}

/// `AssociateRouteTable`: `RouteTableId` and `SubnetId` or `GatewayId` (an internet
/// gateway: an edge association).
pub fn associate(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let i = ctx.find(Kind::RouteTable, ctx.p.required("RouteTableId")?)?;
    let table = t.route_tables[i].name.clone();
    let mut new = t.clone();
    let a = match (ctx.p.str("SubnetId"), ctx.p.str("GatewayId")) {
        (Some(subnet), None) => {
            let s = ctx.find(Kind::Subnet, subnet)?;
            associate_subnet(ctx, &mut new, i, s, false)?;
            Assoc::Subnet(SubnetId(s as u32))
        }
        (None, Some(gateway)) => {
            let g = ctx.find(Kind::InternetGateway, gateway)?;
            new.associate_route_table_gateway(&table, &t.internet_gateways[g].name)
                .map_err(edge_error)?;
            Assoc::Gateway(InternetGatewayId(g as u32))
        }
        (None, None) => {
            return Err(ApiError::missing(
                "The request must contain the parameter SubnetId or GatewayId",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                "InvalidParameterCombination",
                "Only one of SubnetId and GatewayId may be given",
            ));
        }
    };
    let new = commit(&new)?;
    Outcome::changed(association_answer(ctx.t, &table, a, "associationId"), new)
}

/// `DisassociateRouteTable`: `AssociationId` (a subnet's or an edge association; the
/// main association cannot be removed, only replaced).
pub fn disassociate(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("AssociationId")?;
    let (i, a) = find_association(ctx, id)?;
    let t = ctx.t;
    let mut new = t.clone();
    match a {
        Assoc::Main => {
            return Err(ApiError::invalid_value(format!(
                "cannot disassociate the main route table association {id}"
            )));
        }
        Assoc::Subnet(s) => {
            let main = t.vpc(t.subnet(s).vpc).main_route_table;
            new.subnets[s.index()].route_table = main;
            new.subnets[s.index()].explicit_association = false;
        }
        Assoc::Gateway(g) => {
            new.disassociate_route_table_gateway(
                &t.route_tables[i].name,
                &t.internet_gateway(g).name,
            )
            .map_err(edge_error)?;
        }
    }
    Outcome::done(commit(&new)?)
}

/// `ReplaceRouteTableAssociation`: `AssociationId`, `RouteTableId`: the subnet, the
/// gateway or (for the main association) the VPC uses the other table from now on.
pub fn replace_association(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("AssociationId")?;
    let (old, a) = find_association(ctx, id)?;
    let i = ctx.find(Kind::RouteTable, ctx.p.required("RouteTableId")?)?;
    let t = ctx.t;
    let table = t.route_tables[i].name.clone();
    if t.route_tables[old].vpc != t.route_tables[i].vpc {
        return Err(ApiError::invalid_value(format!(
            "Route table {} and association {id} belong to different networks",
            ids::id(Kind::RouteTable, &table)
        )));
    }
    let mut new = t.clone();
    match a {
        Assoc::Subnet(s) => associate_subnet(ctx, &mut new, i, s.index(), true)?,
        Assoc::Gateway(g) if old != i => {
            let igw = &t.internet_gateway(g).name;
            new.disassociate_route_table_gateway(&t.route_tables[old].name, igw)
                .map_err(edge_error)?;
            new.associate_route_table_gateway(&table, igw)
                .map_err(edge_error)?;
        }
        Assoc::Gateway(_) => {}
        Assoc::Main => {
            let v = t.route_tables[i].vpc;
            new.route_tables[old].main = false;
            new.route_tables[i].main = true;
            new.vpcs[v.index()].main_route_table = RouteTableId(i as u32);
            for s in new.subnets.iter_mut() {
                if s.vpc == v && !s.explicit_association {
                    s.route_table = RouteTableId(i as u32);
                }
            }
        }
    }
    let new = commit(&new)?;
    Outcome::changed(
        association_answer(ctx.t, &table, a, "newAssociationId"),
        new,
    )
}
