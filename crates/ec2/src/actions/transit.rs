//! Transit gateways: `CreateTransitGateway`, `DescribeTransitGateways`,
//! `DeleteTransitGateway`; their route tables (`CreateTransitGatewayRouteTable`,
//! `DescribeTransitGatewayRouteTables`, `DeleteTransitGatewayRouteTable`); VPC
//! attachments (`CreateTransitGatewayVpcAttachment`,
//! `DescribeTransitGatewayVpcAttachments`, `DeleteTransitGatewayVpcAttachment`,
//! `AcceptTransitGatewayVpcAttachment`, `ModifyTransitGatewayVpcAttachment`);
//! associations and propagations (`AssociateTransitGatewayRouteTable`,
//! `DisassociateTransitGatewayRouteTable`, `GetTransitGatewayRouteTableAssociations`,
//! `EnableTransitGatewayRouteTablePropagation`,
//! `DisableTransitGatewayRouteTablePropagation`,
//! `GetTransitGatewayRouteTablePropagations`); static routes and the effective routes
//! (`CreateTransitGatewayRoute`, `DeleteTransitGatewayRoute`,
//! `SearchTransitGatewayRoutes`).
//!
//! AWS's behaviour, on vpc-config's model: a gateway is `available` at once; with
//! default association or propagation enabled it has a default route table (vpcd names
//! it `<gateway>-default`), which new VPC attachments are associated with and
//! propagate into; with both disabled it has none and a new attachment is associated
//! nowhere. An attachment of a VPC of another account (the gateway shared with it by a
//! resource share) is `pendingAcceptance` until the gateway's owner accepts it, unless
//! the gateway accepts shared attachments automatically. A deleted attachment stays
//! listed as `deleted` (Terraform's destroy waiter waits for that state; an empty
//! answer fails it). The gateway's owner sees the gateway, its tables and every
//! attachment to it; a VPC's owner sees its VPC's attachments. `DeleteTransitGateway`
//! refuses (`DependencyViolation`) while an attachment that is not deleted exists, and
//! takes the gateway's route tables and deleted attachments with it.
//! `CreateTransitGatewayRouteTable` and `CreateTransitGatewayVpcAttachment` take the
//! plural `TagSpecifications.N`, as AWS's model spells it.
//!
//! Options vpcd does not model are accepted at their AWS defaults only:
//! `DnsSupport`, `VpnEcmpSupport` `enable`; `SecurityGroupReferencingSupport`,
//! `Ipv6Support` `disable`; no `TransitGatewayCidrBlocks`.

use ipnet::Ipv4Net;
use vpc_config::{
    AttachmentStatus, EditError, TgwAttachmentId, TgwAttachmentKind, TgwRouteEntry,
    TgwRouteTableId, TgwRouteTarget, TgwRouteType, Topology, TransitGatewayId,
};

use super::{
    Ctx, Outcome, array, commit, drop_document_tags, edit_document, key, not_found, set_tags,
    tag_set,
};
use crate::error::ApiError;
use crate::filter::{self, Filterable, page};
use crate::ids::{self, Kind};
use crate::params::Params;
use crate::xml::Xml;

// ---------------------------------------------------------------------------------
// Visibility and lookups.

/// Whether the caller owns transit gateway `g` (in its region).
fn owns_tgw(ctx: &Ctx<'_>, g: TransitGatewayId) -> bool {
    ctx.sees(Kind::TransitGateway, g.index())
}

/// Whether the caller sees route table `i`: it owns its gateway.
pub fn sees_table(ctx: &Ctx<'_>, i: usize) -> bool {
    owns_tgw(ctx, ctx.t.tgw_route_tables[i].transit_gateway)
}

/// Whether the caller sees attachment `i`: it owns its gateway (either gateway of a
/// peering attachment) or its VPC.
pub fn sees_attachment(ctx: &Ctx<'_>, i: usize) -> bool {
    let a = &ctx.t.tgw_attachments[i];
    owns_tgw(ctx, a.transit_gateway)
        || match a.kind {
            TgwAttachmentKind::Vpc { vpc, .. } => ctx.sees_vpc(vpc),
            TgwAttachmentKind::Peering { peer } => owns_tgw(ctx, peer),
        }
}

fn find_tgw(ctx: &Ctx<'_>, id: &str) -> Result<TransitGatewayId, ApiError> {
    Ok(TransitGatewayId(ctx.find(Kind::TransitGateway, id)? as u32))
}

fn find_table(ctx: &Ctx<'_>, id: &str) -> Result<TgwRouteTableId, ApiError> {
    Ok(TgwRouteTableId(ctx.find(Kind::TgwRouteTable, id)? as u32))
}

fn find_attachment(ctx: &Ctx<'_>, id: &str) -> Result<TgwAttachmentId, ApiError> {
    Ok(TgwAttachmentId(ctx.find(Kind::TgwAttachment, id)? as u32))
}

/// The VPC attachment `id` names (a peering attachment is not found).
fn find_vpc_attachment(ctx: &Ctx<'_>, id: &str) -> Result<TgwAttachmentId, ApiError> {
    let a = find_attachment(ctx, id)?;
    if ctx.t.tgw_attachment(a).vpc().is_none() {
        return Err(not_found(Kind::TgwAttachment, id));
    }
    Ok(a)
}

fn tgw_id(t: &Topology, g: TransitGatewayId) -> String {
    ids::id(Kind::TransitGateway, &t.transit_gateway(g).name)
}

fn table_id(t: &Topology, r: TgwRouteTableId) -> String {
    ids::id(Kind::TgwRouteTable, &t.tgw_route_table(r).name)
}

fn attachment_id(t: &Topology, a: TgwAttachmentId) -> String {
    ids::id(Kind::TgwAttachment, &t.tgw_attachment(a).name)
}

/// AWS's attachment state: `available`, `pendingAcceptance`, `deleted`.
fn attachment_state(status: AttachmentStatus) -> &'static str {
    match status {
        AttachmentStatus::PendingAcceptance => "pendingAcceptance",
        AttachmentStatus::Available => "available",
        AttachmentStatus::Deleted => "deleted",
    }
}

/// An attachment's resource: (`resourceId`, `resourceType`): its VPC's ID and `vpc`,
/// or for a peering attachment the other gateway's ID and `peering` (seen from the
/// gateway `from`).
fn resource(t: &Topology, a: TgwAttachmentId, from: TransitGatewayId) -> (String, &'static str) {
    let att = t.tgw_attachment(a);
    match att.kind {
        TgwAttachmentKind::Vpc { vpc, .. } => (ids::id(Kind::Vpc, &t.vpc(vpc).name), "vpc"),
        TgwAttachmentKind::Peering { .. } => {
            let other = att.peer_of(from).unwrap_or(att.transit_gateway);
            (tgw_id(t, other), "peering")
        }
    }
}

fn enable(b: bool) -> &'static str {
    if b { "enable" } else { "disable" }
}

/// An `enable`/`disable` option, if given.
fn option(p: &Params, name: &str) -> Result<Option<bool>, ApiError> {
    match p.str(name) {
        None => Ok(None),
        Some("enable") => Ok(Some(true)),
        Some("disable") => Ok(Some(false)),
        Some(v) => Err(ApiError::invalid_value(format!(
            "Value ({v}) for parameter {name} is invalid. Expected enable or disable."
        ))),
    }
}

/// An option vpcd does not model: only its AWS default `default` is accepted.
fn fixed_option(p: &Params, name: &str, default: bool) -> Result<(), ApiError> {
    match option(p, name)? {
        Some(v) if v != default => Err(ApiError::invalid_value(format!(
            "Value ({}) for parameter {name} is not supported by vpcd: only {} is",
            enable(v),
            enable(default)
        ))),
        _ => Ok(()),
    }
}

/// The tags of `TagSpecifications.N` (and of the singular `TagSpecification.N`, which
/// some clients send) for resource type `kind`.
fn tag_specifications_plural(ctx: &Ctx<'_>, kind: Kind) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = ctx.tag_specifications(kind)?;
    for spec in ctx.p.list("TagSpecifications") {
        let ty = spec.str("ResourceType").unwrap_or(kind.resource_type());
        if ty != kind.resource_type() {
            return Err(ApiError::invalid_value(format!(
                "'{ty}' is not a valid taggable resource type for this operation."
            )));
        }
        for tag in spec.list("Tag") {
            let key = tag.str("Key").ok_or_else(|| {
                ApiError::missing(
                    "The request must contain the parameter TagSpecifications.N.Tag.N.Key",
                )
            })?;
            out.retain(|(k, _)| k != key);
            out.push((key.to_owned(), tag.str("Value").unwrap_or("").to_owned()));
        }
    }
    Ok(out)
}

/// The indices of `kind` that list parameter `param` names (each once), or every one
/// the caller sees.
fn wanted(
    ctx: &Ctx<'_>,
    param: &str,
    all: usize,
    sees: impl Fn(usize) -> bool,
    find: impl Fn(&str) -> Result<usize, ApiError>,
) -> Result<Vec<usize>, ApiError> {
    let ids = ctx.p.strings(param);
    if ids.is_empty() {
        return Ok((0..all).filter(|&i| sees(i)).collect());
    }
    let mut v = Vec::new();
    for id in &ids {
        let i = find(id)?;
        if !v.contains(&i) {
            v.push(i);
        }
    }
    Ok(v)
}

/// A resource as filters see it: its values by filter name, and its tags.
struct Item {
    index: usize,
    values: Vec<(&'static str, Vec<String>)>,
    tags: Vec<(String, String)>,
}

impl Filterable for Item {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

// ---------------------------------------------------------------------------------
// Transit gateways.

fn tgw_xml(t: &Topology, x: &mut Xml, g: TransitGatewayId, state: &str) {
    let gw = t.transit_gateway(g);
    let id = tgw_id(t, g);
    let default = gw.default_route_table.map(|r| table_id(t, r));
    x.leaf("transitGatewayId", &id)
        .leaf(
            "transitGatewayArn",
            format!(
                "arn:aws:ec2:{}:{}:transit-gateway/{id}",
                gw.region, gw.owner_id
            ),
        )
        .leaf("state", state)
        .leaf("ownerId", &gw.owner_id)
        .leaf("description", &gw.description)
        .open("options")
        .leaf("amazonSideAsn", gw.amazon_side_asn)
        .leaf(
            "autoAcceptSharedAttachments",
            enable(gw.auto_accept_shared_attachments),
        )
        .leaf(
            "defaultRouteTableAssociation",
            enable(gw.default_route_table_association),
        );
    if gw.default_route_table_association {
        x.opt("associationDefaultRouteTableId", default.as_ref());
    }
    x.leaf(
        "defaultRouteTablePropagation",
        enable(gw.default_route_table_propagation),
    );
    if gw.default_route_table_propagation {
        x.opt("propagationDefaultRouteTableId", default.as_ref());
    }
    x.leaf("vpnEcmpSupport", "enable")
        .leaf("dnsSupport", "enable")
        .leaf("securityGroupReferencingSupport", "disable")
        .leaf("multicastSupport", enable(gw.multicast_support))
        .close("options");
    tag_set(x, &super::shown_tags(t, Kind::TransitGateway, &gw.name));
}

/// `CreateTransitGateway`: `Description`, `Options.*`, `TagSpecification.N`
/// (`transit-gateway`).
pub fn create_tgw(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let asn = p.int("Options.AmazonSideAsn")?;
    let association = option(p, "Options.DefaultRouteTableAssociation")?;
    let propagation = option(p, "Options.DefaultRouteTablePropagation")?;
    let auto_accept = option(p, "Options.AutoAcceptSharedAttachments")?;
    let multicast = option(p, "Options.MulticastSupport")?;
    fixed_option(p, "Options.DnsSupport", true)?;
    fixed_option(p, "Options.VpnEcmpSupport", true)?;
    fixed_option(p, "Options.SecurityGroupReferencingSupport", false)?;
    if !p.list("Options.TransitGatewayCidrBlocks").is_empty() {
        return Err(ApiError::invalid_value(
            "vpcd does not support transit gateway CIDR blocks (they serve Connect attachments)",
        ));
    }
    let description = p.str("Description").unwrap_or("").to_owned();
    let tags = ctx.tag_specifications(Kind::TransitGateway)?;
    let t = ctx.t;
    let name = ctx.new_name(Kind::TransitGateway, &tags, |n| {
        let default = format!("{n}-default");
        t.tgw_route_tables.iter().any(|r| r.name == default)
    });
    let (account, region) = (ctx.caller.account.clone(), ctx.caller.region.clone());
    let mut new = edit_document(t, |doc| {
        let mut table = toml::Table::new();
        table.insert("name".into(), name.clone().into());
        table.insert("owner_id".into(), account.into());
        table.insert("region".into(), region.into());
        if let Some(asn) = asn {
            table.insert("amazon_side_asn".into(), asn.into());
        }
        for (k, v) in [
            ("default_route_table_association", association),
            ("default_route_table_propagation", propagation),
            ("auto_accept_shared_attachments", auto_accept),
            ("multicast_support", multicast),
        ] {
            if let Some(v) = v {
                table.insert(k.into(), enable(v).into());
            }
        }
        if !description.is_empty() {
            table.insert("description".into(), description.into());
        }
        array(doc, "transit_gateway").push(toml::Value::Table(table));
    })?;
    set_tags(&mut new, &ids::id(Kind::TransitGateway, &name), &tags);
    let new = commit(&new)?;
    let g = new
        .find_transit_gateway(&name)
        .ok_or_else(|| ApiError::invalid_value("the new transit gateway was not created"))?;
    let mut x = Xml::new();
    x.open("transitGateway");
    tgw_xml(&new, &mut x, g, "available");
    x.close("transitGateway");
    Outcome::changed(x.finish(), new)
}

/// `DescribeTransitGateways`: `TransitGatewayIds.N`, `Filter.N`, `MaxResults`,
/// `NextToken`.
pub fn describe_tgws(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let indices = wanted(
        ctx,
        "TransitGatewayIds",
        t.transit_gateways.len(),
        |i| ctx.sees(Kind::TransitGateway, i),
        |id| ctx.find(Kind::TransitGateway, id),
    )?;
    let items: Vec<Item> = indices
        .into_iter()
        .map(|i| {
            let g = &t.transit_gateways[i];
            let default = g
                .default_route_table
                .map(|r| table_id(t, r))
                .into_iter()
                .collect::<Vec<_>>();
            Item {
                index: i,
                values: vec![
                    (
                        "transit-gateway-id",
                        vec![ids::id(Kind::TransitGateway, &g.name)],
                    ),
                    ("state", vec!["available".to_owned()]),
                    ("owner-id", vec![g.owner_id.clone()]),
                    (
                        "options.amazon-side-asn",
                        vec![g.amazon_side_asn.to_string()],
                    ),
                    (
                        "options.default-route-table-association",
                        vec![enable(g.default_route_table_association).to_owned()],
                    ),
                    (
                        "options.default-route-table-propagation",
                        vec![enable(g.default_route_table_propagation).to_owned()],
                    ),
                    (
                        "options.auto-accept-shared-attachments",
                        vec![enable(g.auto_accept_shared_attachments).to_owned()],
                    ),
                    (
                        "options.association-default-route-table-id",
                        if g.default_route_table_association {
                            default.clone()
                        } else {
                            Vec::new()
                        },
                    ),
                    (
                        "options.propagation-default-route-table-id",
                        if g.default_route_table_propagation {
                            default
                        } else {
                            Vec::new()
                        },
                    ),
                    ("options.dns-support", vec!["enable".to_owned()]),
                    ("options.vpn-ecmp-support", vec!["enable".to_owned()]),
                ],
                tags: ctx.shown_tags(Kind::TransitGateway, &g.name),
            }
        })
        .collect();
    super::described(ctx, "transitGatewaySet", items, |x, item| {
        tgw_xml(t, x, TransitGatewayId(item.index as u32), "available")
    })
}

/// `DeleteTransitGateway`: `TransitGatewayId`. Refused while attachments that are not
/// deleted, multicast domains, resource shares or VPC routes name it; its route
/// tables and deleted attachments go with it.
pub fn delete_tgw(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("TransitGatewayId")?;
    let g = find_tgw(ctx, id)?;
    let t = ctx.t;
    let name = t.transit_gateway(g).name.clone();
    let mut deps = Vec::new();
    for (i, a) in t.tgw_attachments.iter().enumerate() {
        if a.is_on(g) && a.status != AttachmentStatus::Deleted {
            deps.push(format!(
                "attachment {}",
                attachment_id(t, TgwAttachmentId(i as u32))
            ));
        }
    }
    for d in t
        .multicast_domains
        .iter()
        .filter(|d| d.transit_gateway == g)
    {
        deps.push(format!("multicast domain {}", d.name));
    }
    for s in t
        .resource_shares
        .iter()
        .filter(|s| s.resources.contains(&g))
    {
        deps.push(format!("resource share {}", s.name));
    }
    for r in &t.route_tables {
        if r.routes
            .iter()
            .any(|x| x.target == vpc_config::RouteTarget::TransitGateway(g))
        {
            deps.push(format!(
                "routes of route table {}",
                ids::id(Kind::RouteTable, &r.name)
            ));
        }
    }
    if !deps.is_empty() {
        return Err(ApiError::dependency(format!(
            "The transitGateway '{id}' has dependencies and cannot be deleted: {}",
            deps.join(", ")
        )));
    }
    let mut gone = vec![tgw_id(t, g)];
    let tables: Vec<String> = t
        .tgw_route_tables
        .iter()
        .filter(|r| r.transit_gateway == g)
        .map(|r| r.name.clone())
        .collect();
    gone.extend(tables.iter().map(|n| ids::id(Kind::TgwRouteTable, n)));
    let attachments: Vec<String> = t
        .tgw_attachments
        .iter()
        .filter(|a| a.is_on(g))
        .map(|a| a.name.clone())
        .collect();
    gone.extend(attachments.iter().map(|n| ids::id(Kind::TgwAttachment, n)));
    let mut x = Xml::new();
    x.open("transitGateway");
    tgw_xml(t, &mut x, g, "deleted");
    x.close("transitGateway");
    let new = edit_document(t, |doc| {
        array(doc, "transit_gateway").retain(|x| key(x, "name") != Some(&name));
        array(doc, "transit_gateway_route_table")
            .retain(|x| key(x, "transit_gateway") != Some(&name));
        array(doc, "transit_gateway_vpc_attachment")
            .retain(|x| key(x, "transit_gateway") != Some(&name));
        array(doc, "transit_gateway_peering_attachment").retain(|x| {
            key(x, "transit_gateway") != Some(&name)
                && key(x, "peer_transit_gateway") != Some(&name)
        });
        // Static routes of other gateways' tables to its (deleted) peering attachments.
        for table in array(doc, "transit_gateway_route_table").iter_mut() {
            if let Some(toml::Value::Array(routes)) = table.get_mut("route") {
                routes.retain(|r| {
                    key(r, "transit_gateway_attachment")
                        .is_none_or(|a| !attachments.iter().any(|n| n == a))
                });
            }
        }
        drop_document_tags(doc, &gone);
    })?;
    Outcome::changed(x.finish(), new)
}

/// Removes deleted attachments `names` from a document: their tables, the static
/// routes to them and any association or propagation naming them.
pub fn drop_attachments(doc: &mut toml::Table, names: &[String]) {
    if names.is_empty() {
        return;
    }
    let named = |v: Option<&str>| v.is_some_and(|n| names.iter().any(|x| x == n));
    for kind in [
        "transit_gateway_vpc_attachment",
        "transit_gateway_peering_attachment",
    ] {
        array(doc, kind).retain(|x| !named(key(x, "name")));
    }
    for table in array(doc, "transit_gateway_route_table").iter_mut() {
        if let Some(toml::Value::Array(routes)) = table.get_mut("route") {
            routes.retain(|r| !named(key(r, "transit_gateway_attachment")));
        }
        for list in ["associations", "propagations"] {
            if let Some(toml::Value::Array(l)) = table.get_mut(list) {
                l.retain(|a| !named(a.as_str()));
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Route tables.

fn table_xml(t: &Topology, x: &mut Xml, r: TgwRouteTableId, state: &str) {
    let rt = t.tgw_route_table(r);
    let gw = t.transit_gateway(rt.transit_gateway);
    x.leaf("transitGatewayRouteTableId", table_id(t, r))
        .leaf("transitGatewayId", tgw_id(t, rt.transit_gateway))
        .leaf("state", state)
        .leaf(
            "defaultAssociationRouteTable",
            rt.default && gw.default_route_table_association,
        )
        .leaf(
            "defaultPropagationRouteTable",
            rt.default && gw.default_route_table_propagation,
        );
    tag_set(x, &super::shown_tags(t, Kind::TgwRouteTable, &rt.name));
}

/// `CreateTransitGatewayRouteTable`: `TransitGatewayId`, `TagSpecifications.N`
/// (`transit-gateway-route-table`).
pub fn create_table(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let g = find_tgw(ctx, ctx.p.required("TransitGatewayId")?)?;
    let tags = tag_specifications_plural(ctx, Kind::TgwRouteTable)?;
    let t = ctx.t;
    let name = ctx.new_name(Kind::TgwRouteTable, &tags, |n| {
        t.transit_gateways
            .iter()
            .any(|gw| format!("{}-default", gw.name) == n)
    });
    let tgw = t.transit_gateway(g).name.clone();
    let mut new = edit_document(t, |doc| {
        let mut table = toml::Table::new();
        table.insert("name".into(), name.clone().into());
        table.insert("transit_gateway".into(), tgw.into());
        array(doc, "transit_gateway_route_table").push(toml::Value::Table(table));
    })?;
    set_tags(&mut new, &ids::id(Kind::TgwRouteTable, &name), &tags);
    let new = commit(&new)?;
    let r = new
        .find_tgw_route_table(&name)
        .ok_or_else(|| ApiError::invalid_value("the new route table was not created"))?;
    let mut x = Xml::new();
    x.open("transitGatewayRouteTable");
    table_xml(&new, &mut x, r, "available");
    x.close("transitGatewayRouteTable");
    Outcome::changed(x.finish(), new)
}

/// `DescribeTransitGatewayRouteTables`: `TransitGatewayRouteTableIds.N`, `Filter.N`,
/// `MaxResults`, `NextToken`.
pub fn describe_tables(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let indices = wanted(
        ctx,
        "TransitGatewayRouteTableIds",
        t.tgw_route_tables.len(),
        |i| sees_table(ctx, i),
        |id| find_table(ctx, id).map(|r| r.index()),
    )?;
    let items: Vec<Item> = indices
        .into_iter()
        .map(|i| {
            let rt = &t.tgw_route_tables[i];
            let gw = t.transit_gateway(rt.transit_gateway);
            Item {
                index: i,
                values: vec![
                    (
                        "transit-gateway-route-table-id",
                        vec![ids::id(Kind::TgwRouteTable, &rt.name)],
                    ),
                    ("transit-gateway-id", vec![tgw_id(t, rt.transit_gateway)]),
                    ("state", vec!["available".to_owned()]),
                    (
                        "default-association-route-table",
                        vec![(rt.default && gw.default_route_table_association).to_string()],
                    ),
                    (
                        "default-propagation-route-table",
                        vec![(rt.default && gw.default_route_table_propagation).to_string()],
                    ),
                ],
                tags: ctx.shown_tags(Kind::TgwRouteTable, &rt.name),
            }
        })
        .collect();
    super::described(ctx, "transitGatewayRouteTables", items, |x, item| {
        table_xml(t, x, TgwRouteTableId(item.index as u32), "available")
    })
}

/// `DeleteTransitGatewayRouteTable`: `TransitGatewayRouteTableId`. Refused for the
/// default route table and while attachments are associated with it; its propagations
/// and static routes go with it.
pub fn delete_table(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("TransitGatewayRouteTableId")?;
    let r = find_table(ctx, id)?;
    let t = ctx.t;
    let rt = t.tgw_route_table(r);
    if rt.default {
        return Err(ApiError::new(
            "IncorrectState",
            format!("{id} is the default route table of its transit gateway and cannot be deleted"),
        ));
    }
    if !rt.associations.is_empty() {
        let names: Vec<String> = rt
            .associations
            .iter()
            .map(|&a| attachment_id(t, a))
            .collect();
        return Err(ApiError::dependency(format!(
            "The transitGatewayRouteTable '{id}' has associations and cannot be deleted: {}",
            names.join(", ")
        )));
    }
    let name = rt.name.clone();
    let mut x = Xml::new();
    x.open("transitGatewayRouteTable");
    table_xml(t, &mut x, r, "deleted");
    x.close("transitGatewayRouteTable");
    let gone = [table_id(t, r)];
    let new = edit_document(t, |doc| {
        array(doc, "transit_gateway_route_table").retain(|x| key(x, "name") != Some(&name));
        drop_document_tags(doc, &gone);
    })?;
    Outcome::changed(x.finish(), new)
}

// ---------------------------------------------------------------------------------
// VPC attachments.

fn attachment_xml(t: &Topology, x: &mut Xml, a: TgwAttachmentId) {
    let att = t.tgw_attachment(a);
    let TgwAttachmentKind::Vpc {
        vpc,
        subnets,
        appliance_mode,
        ..
    } = &att.kind
    else {
        return;
    };
    let vpc = t.vpc(*vpc);
    x.leaf("transitGatewayAttachmentId", attachment_id(t, a))
        .leaf("transitGatewayId", tgw_id(t, att.transit_gateway))
        .leaf("vpcId", ids::id(Kind::Vpc, &vpc.name))
        .leaf("vpcOwnerId", &vpc.owner_id)
        .leaf("state", attachment_state(att.status));
    let subnet_ids: Vec<String> = subnets
        .iter()
        .map(|&s| ids::id(Kind::Subnet, &t.subnet(s).name))
        .collect();
    x.set("subnetIds", &subnet_ids, |x, s| {
        x.raw(&crate::xml::escape(s));
    })
    .open("options")
    .leaf("dnsSupport", "enable")
    .leaf("securityGroupReferencingSupport", "disable")
    .leaf("ipv6Support", "disable")
    .leaf("applianceModeSupport", enable(*appliance_mode))
    .close("options");
    tag_set(x, &super::shown_tags(t, Kind::TgwAttachment, &att.name));
}

/// `<transitGatewayVpcAttachment>` of attachment `name` in `t`.
fn attachment_answer(t: &Topology, name: &str) -> Result<String, ApiError> {
    let a = t
        .find_tgw_attachment(name)
        .ok_or_else(|| ApiError::invalid_value("the attachment was not kept"))?;
    let mut x = Xml::new();
    x.open("transitGatewayVpcAttachment");
    attachment_xml(t, &mut x, a);
    x.close("transitGatewayVpcAttachment");
    Ok(x.finish())
}

/// The attachment options of a request (`Options.*`): appliance mode, if given.
fn attachment_options(p: &Params) -> Result<Option<bool>, ApiError> {
    fixed_option(p, "Options.DnsSupport", true)?;
    fixed_option(p, "Options.Ipv6Support", false)?;
    fixed_option(p, "Options.SecurityGroupReferencingSupport", false)?;
    option(p, "Options.ApplianceModeSupport")
}

/// The subnets list parameter `param` names: subnets of VPC `vpc` the caller sees.
fn subnet_names(
    ctx: &Ctx<'_>,
    param: &str,
    vpc: vpc_config::VpcId,
) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for id in ctx.p.strings(param) {
        let s = ctx.find(Kind::Subnet, &id)?;
        let subnet = &ctx.t.subnets[s];
        if subnet.vpc != vpc {
            return Err(ApiError::invalid_value(format!(
                "Subnet {id} is not in {}",
                ids::id(Kind::Vpc, &ctx.t.vpc(vpc).name)
            )));
        }
        if !out.contains(&subnet.name) {
            out.push(subnet.name.clone());
        }
    }
    Ok(out)
}

/// `CreateTransitGatewayVpcAttachment`: `TransitGatewayId` (the caller's, or shared
/// with it), `VpcId`, `SubnetIds.N`, `Options.*`, `TagSpecifications.N`
/// (`transit-gateway-attachment`).
pub fn create_attachment(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let t = ctx.t;
    let tgw_param = p.required("TransitGatewayId")?;
    let g = ids::resolve(t, Kind::TransitGateway, tgw_param)
        .map(|i| TransitGatewayId(i as u32))
        .filter(|&g| {
            t.transit_gateway(g).region == ctx.caller.region
                && t.shared_with(g, &ctx.caller.account)
        })
        .ok_or_else(|| not_found(Kind::TransitGateway, tgw_param))?;
    let v = ctx.find(Kind::Vpc, p.required("VpcId")?)?;
    let vid = vpc_config::VpcId(v as u32);
    let subnets = subnet_names(ctx, "SubnetIds", vid)?;
    if subnets.is_empty() {
        return Err(ApiError::missing(
            "The request must contain the parameter SubnetIds",
        ));
    }
    if let Some(a) = t.tgw_attachment_of(vid, g) {
        return Err(ApiError::new(
            "DuplicateTransitGatewayAttachment",
            format!(
                "{} has non-deleted Transit Gateway Attachments with same VPC ID: {}",
                tgw_param,
                attachment_id(t, a)
            ),
        ));
    }
    let appliance = attachment_options(p)?;
    let tags = tag_specifications_plural(ctx, Kind::TgwAttachment)?;
    let name = ctx.new_name(Kind::TgwAttachment, &tags, |_| false);
    let (tgw, vpc) = (t.transit_gateway(g).name.clone(), t.vpcs[v].name.clone());
    let mut new = edit_document(t, |doc| {
        let mut table = toml::Table::new();
        table.insert("name".into(), name.clone().into());
        table.insert("transit_gateway".into(), tgw.into());
        table.insert("vpc".into(), vpc.into());
        table.insert(
            "subnets".into(),
            toml::Value::Array(subnets.into_iter().map(toml::Value::String).collect()),
        );
        if appliance == Some(true) {
            table.insert("appliance_mode_support".into(), "enable".into());
        }
        array(doc, "transit_gateway_vpc_attachment").push(toml::Value::Table(table));
    })?;
    set_tags(&mut new, &ids::id(Kind::TgwAttachment, &name), &tags);
    let new = commit(&new)?;
    let xml = attachment_answer(&new, &name)?;
    Outcome::changed(xml, new)
}

/// `DescribeTransitGatewayVpcAttachments`: `TransitGatewayAttachmentIds.N`,
/// `Filter.N`, `MaxResults`, `NextToken`. Deleted attachments are listed (`deleted`).
pub fn describe_attachments(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let indices = wanted(
        ctx,
        "TransitGatewayAttachmentIds",
        t.tgw_attachments.len(),
        |i| sees_attachment(ctx, i) && t.tgw_attachments[i].vpc().is_some(),
        |id| find_vpc_attachment(ctx, id).map(|a| a.index()),
    )?;
    let items: Vec<Item> = indices
        .into_iter()
        .map(|i| {
            let a = &t.tgw_attachments[i];
            let vpc = a.vpc().map(|v| t.vpc(v));
            Item {
                index: i,
                values: vec![
                    (
                        "transit-gateway-attachment-id",
                        vec![ids::id(Kind::TgwAttachment, &a.name)],
                    ),
                    ("transit-gateway-id", vec![tgw_id(t, a.transit_gateway)]),
                    ("state", vec![attachment_state(a.status).to_owned()]),
                    (
                        "vpc-id",
                        vpc.iter().map(|v| ids::id(Kind::Vpc, &v.name)).collect(),
                    ),
                    (
                        "vpc-owner-id",
                        vpc.iter().map(|v| v.owner_id.clone()).collect(),
                    ),
                ],
                tags: ctx.shown_tags(Kind::TgwAttachment, &a.name),
            }
        })
        .collect();
    super::described(ctx, "transitGatewayVpcAttachments", items, |x, item| {
        attachment_xml(t, x, TgwAttachmentId(item.index as u32))
    })
}

/// `DeleteTransitGatewayVpcAttachment`: `TransitGatewayAttachmentId`; the VPC's owner
/// or the gateway's. It is listed as `deleted` afterwards.
pub fn delete_attachment(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("TransitGatewayAttachmentId")?;
    let a = find_vpc_attachment(ctx, id)?;
    let t = ctx.t;
    let name = t.tgw_attachment(a).name.clone();
    let mut new = t.clone();
    new.delete_tgw_attachment(&name).map_err(edit_error)?;
    let new = commit(&new)?;
    let xml = attachment_answer(&new, &name)?;
    Outcome::changed(xml, new)
}

/// `AcceptTransitGatewayVpcAttachment`: `TransitGatewayAttachmentId`; the gateway's
/// owner accepts an attachment that is `pendingAcceptance`.
pub fn accept_attachment(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("TransitGatewayAttachmentId")?;
    let a = find_vpc_attachment(ctx, id)?;
    let t = ctx.t;
    let att = t.tgw_attachment(a);
    if !owns_tgw(ctx, att.transit_gateway) {
        return Err(ApiError::new(
            "OperationNotPermitted",
            format!(
                "Account {} cannot accept {id}: only the transit gateway's owner can",
                ctx.caller.account
            ),
        ));
    }
    let name = att.name.clone();
    let mut new = t.clone();
    new.accept_tgw_attachment(&name).map_err(edit_error)?;
    let new = commit(&new)?;
    let xml = attachment_answer(&new, &name)?;
    Outcome::changed(xml, new)
}

/// `ModifyTransitGatewayVpcAttachment`: `TransitGatewayAttachmentId`,
/// `AddSubnetIds.N`, `RemoveSubnetIds.N`, `Options.ApplianceModeSupport` (the other
/// options at their defaults only).
pub fn modify_attachment(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("TransitGatewayAttachmentId")?;
    let a = find_vpc_attachment(ctx, id)?;
    let t = ctx.t;
    let att = t.tgw_attachment(a);
    if att.status == AttachmentStatus::Deleted {
        return Err(ApiError::new(
            "IncorrectState",
            format!("{id} is in invalid state deleted"),
        ));
    }
    let TgwAttachmentKind::Vpc { vpc, subnets, .. } = &att.kind else {
        return Err(not_found(Kind::TgwAttachment, id));
    };
    let add = subnet_names(ctx, "AddSubnetIds", *vpc)?;
    let remove = subnet_names(ctx, "RemoveSubnetIds", *vpc)?;
    let appliance = attachment_options(ctx.p)?;
    let mut list: Vec<String> = subnets
        .iter()
        .map(|&s| t.subnet(s).name.clone())
        .filter(|n| !remove.contains(n))
        .collect();
    for n in add {
        if !list.contains(&n) {
            list.push(n);
        }
    }
    if list.is_empty() {
        return Err(ApiError::invalid_value(
            "A transit gateway VPC attachment must keep at least one subnet",
        ));
    }
    let name = att.name.clone();
    let new = edit_document(t, |doc| {
        for table in array(doc, "transit_gateway_vpc_attachment").iter_mut() {
            if key(table, "name") != Some(&name) {
                continue;
            }
            if let Some(table) = table.as_table_mut() {
                table.insert(
                    "subnets".into(),
                    toml::Value::Array(list.iter().cloned().map(toml::Value::String).collect()),
                );
                match appliance {
                    Some(true) => {
                        table.insert("appliance_mode_support".into(), "enable".into());
                    }
                    Some(false) => {
                        table.remove("appliance_mode_support");
                    }
                    None => {}
                }
            }
        }
    })?;
    let xml = attachment_answer(&new, &name)?;
    Outcome::changed(xml, new)
}

/// An edit's refusal as AWS's error.
fn edit_error(e: EditError) -> ApiError {
    let id = |n: &str| ids::id(Kind::TgwAttachment, n);
    let table = |n: &str| ids::id(Kind::TgwRouteTable, n);
    match e {
        EditError::AttachmentDeleted(a) => ApiError::new(
            "IncorrectState",
            format!("{} is in invalid state deleted", id(&a)),
        ),
        EditError::AttachmentNotPending { attachment, status } => ApiError::new(
            "IncorrectState",
            format!(
                "{} is in invalid state {}",
                id(&attachment),
                match status {
                    "pending-acceptance" => "pendingAcceptance",
                    s => s,
                }
            ),
        ),
        EditError::TgwAttachmentAssociated {
            attachment,
            table: other,
        } => ApiError::new(
            "Resource.AlreadyAssociated",
            format!(
                "Transit Gateway Attachment {} is already associated to a route table {}",
                id(&attachment),
                table(&other)
            ),
        ),
        EditError::TgwAttachmentNotAssociated {
            attachment,
            table: tb,
        } => ApiError::new(
            "InvalidAssociation.NotFound",
            format!(
                "Transit Gateway Attachment {} is not associated with {}",
                id(&attachment),
                table(&tb)
            ),
        ),
        EditError::AlreadyPropagating {
            attachment,
            table: tb,
        } => ApiError::new(
            "TransitGatewayRouteTablePropagation.Duplicate",
            format!(
                "Transit Gateway Attachment {} already propagates into {}",
                id(&attachment),
                table(&tb)
            ),
        ),
        EditError::NotPropagating {
            attachment,
            table: tb,
        } => ApiError::new(
            "InvalidRouteTableID.NotFound",
            format!(
                "Transit Gateway Attachment {} does not propagate into {}",
                id(&attachment),
                table(&tb)
            ),
        ),
        EditError::TgwRouteExists {
            table: tb,
            destination,
        } => ApiError::new(
            "RouteAlreadyExists",
            format!(
                "Route {destination} already exists in Transit Gateway Route Table {}",
                table(&tb)
            ),
        ),
        EditError::NoTgwRoute {
            table: tb,
            destination,
        } => ApiError::new(
            "InvalidRoute.NotFound",
            format!(
                "No route with destination-cidr-block {destination} in Transit Gateway Route Table {}",
                table(&tb)
            ),
        ),
        EditError::AttachmentNotOnTgw {
            attachment,
            table: tb,
            ..
        } => ApiError::invalid_value(format!(
            "Transit Gateway Attachment {} is not an attachment of the transit gateway of {}",
            id(&attachment),
            table(&tb)
        )),
        other => ApiError::invalid_value(other.to_string()),
    }
}

// ---------------------------------------------------------------------------------
// Associations and propagations.

/// The route table and attachment of `TransitGatewayRouteTableId` and
/// `TransitGatewayAttachmentId`, with their names.
fn table_and_attachment(
    ctx: &Ctx<'_>,
) -> Result<(TgwRouteTableId, TgwAttachmentId, String, String), ApiError> {
    let r = find_table(ctx, ctx.p.required("TransitGatewayRouteTableId")?)?;
    let a = find_attachment(ctx, ctx.p.required("TransitGatewayAttachmentId")?)?;
    let t = ctx.t;
    Ok((
        r,
        a,
        t.tgw_route_table(r).name.clone(),
        t.tgw_attachment(a).name.clone(),
    ))
}

/// `<element>` with an association's or propagation's fields.
fn link_xml(
    t: &Topology,
    element: &str,
    r: TgwRouteTableId,
    a: TgwAttachmentId,
    state: &str,
) -> String {
    let (resource_id, resource_type) = resource(t, a, t.tgw_route_table(r).transit_gateway);
    let mut x = Xml::new();
    x.open(element)
        .leaf("transitGatewayRouteTableId", table_id(t, r))
        .leaf("transitGatewayAttachmentId", attachment_id(t, a))
        .leaf("resourceId", resource_id)
        .leaf("resourceType", resource_type)
        .leaf("state", state)
        .close(element);
    x.finish()
}

/// `AssociateTransitGatewayRouteTable`: `TransitGatewayRouteTableId`,
/// `TransitGatewayAttachmentId`.
pub fn associate(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (r, a, table, att) = table_and_attachment(ctx)?;
    let mut new = ctx.t.clone();
    new.associate_tgw_route_table(&table, &att)
        .map_err(edit_error)?;
    let new = commit(&new)?;
    Outcome::changed(link_xml(ctx.t, "association", r, a, "associated"), new)
}

/// `DisassociateTransitGatewayRouteTable`: `TransitGatewayRouteTableId`,
/// `TransitGatewayAttachmentId`.
pub fn disassociate(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (r, a, table, att) = table_and_attachment(ctx)?;
    let mut new = ctx.t.clone();
    new.disassociate_tgw_route_table(&table, &att)
        .map_err(edit_error)?;
    let new = commit(&new)?;
    Outcome::changed(link_xml(ctx.t, "association", r, a, "disassociated"), new)
}

/// `EnableTransitGatewayRouteTablePropagation`: `TransitGatewayRouteTableId`,
/// `TransitGatewayAttachmentId`.
pub fn enable_propagation(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (r, a, table, att) = table_and_attachment(ctx)?;
    let mut new = ctx.t.clone();
    new.enable_tgw_route_table_propagation(&table, &att)
        .map_err(edit_error)?;
    let new = commit(&new)?;
    Outcome::changed(link_xml(ctx.t, "propagation", r, a, "enabled"), new)
}

/// `DisableTransitGatewayRouteTablePropagation`: `TransitGatewayRouteTableId`,
/// `TransitGatewayAttachmentId`.
pub fn disable_propagation(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (r, a, table, att) = table_and_attachment(ctx)?;
    let mut new = ctx.t.clone();
    new.disable_tgw_route_table_propagation(&table, &att)
        .map_err(edit_error)?;
    let new = commit(&new)?;
    Outcome::changed(link_xml(ctx.t, "propagation", r, a, "disabled"), new)
}

/// The associations or propagations of a table as filterable items.
fn links(ctx: &Ctx<'_>, r: TgwRouteTableId, of: &[TgwAttachmentId], state: &str) -> Vec<Item> {
    let t = ctx.t;
    let tgw = t.tgw_route_table(r).transit_gateway;
    of.iter()
        .map(|&a| {
            let (resource_id, resource_type) = resource(t, a, tgw);
            Item {
                index: a.index(),
                values: vec![
                    ("transit-gateway-attachment-id", vec![attachment_id(t, a)]),
                    ("resource-id", vec![resource_id]),
                    ("resource-type", vec![resource_type.to_owned()]),
                    ("state", vec![state.to_owned()]),
                ],
                tags: Vec::new(),
            }
        })
        .collect()
}

fn get_links(ctx: &Ctx<'_>, propagations: bool) -> Result<Outcome, ApiError> {
    let r = find_table(ctx, ctx.p.required("TransitGatewayRouteTableId")?)?;
    let t = ctx.t;
    let rt = t.tgw_route_table(r);
    let tgw = rt.transit_gateway;
    let (of, state, element) = if propagations {
        (
            &rt.propagations,
            "enabled",
            "transitGatewayRouteTablePropagations",
        )
    } else {
        (&rt.associations, "associated", "associations")
    };
    let (items, next) = page(ctx.p, links(ctx, r, of, state))?;
    let mut x = Xml::new();
    x.set(element, &items, |x, item| {
        let a = TgwAttachmentId(item.index as u32);
        let (resource_id, resource_type) = resource(t, a, tgw);
        x.leaf("transitGatewayAttachmentId", attachment_id(t, a))
            .leaf("resourceId", resource_id)
            .leaf("resourceType", resource_type)
            .leaf("state", state);
    });
    x.opt("nextToken", next);
    Outcome::read(x.finish())
}

/// `GetTransitGatewayRouteTableAssociations`: `TransitGatewayRouteTableId`,
/// `Filter.N` (`transit-gateway-attachment-id`, `resource-id`, `resource-type`,
/// `state`), `MaxResults`, `NextToken`.
pub fn get_associations(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    get_links(ctx, false)
}

/// `GetTransitGatewayRouteTablePropagations`: as the associations.
pub fn get_propagations(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    get_links(ctx, true)
}

// ---------------------------------------------------------------------------------
// Routes.

fn route_xml(t: &Topology, x: &mut Xml, r: TgwRouteTableId, e: &TgwRouteEntry, state: &str) {
    let tgw = t.tgw_route_table(r).transit_gateway;
    x.leaf("destinationCidrBlock", e.destination);
    if let TgwRouteTarget::Attachment(a) = e.target {
        let (resource_id, resource_type) = resource(t, a, tgw);
        x.open("transitGatewayAttachments")
            .open("item")
            .leaf("resourceId", resource_id)
            .leaf("transitGatewayAttachmentId", attachment_id(t, a))
            .leaf("resourceType", resource_type)
            .close("item")
            .close("transitGatewayAttachments");
    }
    x.leaf("type", e.route_type.aws_name()).leaf("state", state);
}

/// The destination of `DestinationCidrBlock`.
fn destination(ctx: &Ctx<'_>) -> Result<Ipv4Net, ApiError> {
    let text = ctx.p.required("DestinationCidrBlock")?;
    super::vpcs::parse_block(text, "destinationCidrBlock")
}

/// `CreateTransitGatewayRoute`: `TransitGatewayRouteTableId`, `DestinationCidrBlock`,
/// `TransitGatewayAttachmentId` or `Blackhole=true`.
pub fn create_route(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let r = find_table(ctx, ctx.p.required("TransitGatewayRouteTableId")?)?;
    let dest = destination(ctx)?;
    let blackhole = ctx.p.bool("Blackhole")?.unwrap_or(false);
    let t = ctx.t;
    let attachment = match (ctx.p.str("TransitGatewayAttachmentId"), blackhole) {
        (Some(_), true) => {
            return Err(ApiError::new(
                "InvalidParameterCombination",
                "Give TransitGatewayAttachmentId or Blackhole, not both",
            ));
        }
        (None, false) => {
            return Err(ApiError::missing(
                "The request must contain the parameter TransitGatewayAttachmentId or Blackhole",
            ));
        }
        (Some(id), false) => Some(t.tgw_attachment(find_attachment(ctx, id)?).name.clone()),
        (None, true) => None,
    };
    let table = t.tgw_route_table(r).name.clone();
    let mut new = t.clone();
    new.create_tgw_route(&table, dest, attachment.as_deref())
        .map_err(edit_error)?;
    let new = commit(&new)?;
    let r = new
        .find_tgw_route_table(&table)
        .ok_or_else(|| ApiError::invalid_value("the route table was not kept"))?;
    let entry = new
        .tgw_routes(r)
        .into_iter()
        .find(|e| e.destination == dest && e.route_type == TgwRouteType::Static)
        .ok_or_else(|| ApiError::invalid_value("the route was not kept"))?;
    let mut x = Xml::new();
    x.open("route");
    route_xml(&new, &mut x, r, &entry, entry.state.aws_name());
    x.close("route");
    Outcome::changed(x.finish(), new)
}

/// `DeleteTransitGatewayRoute`: `TransitGatewayRouteTableId`, `DestinationCidrBlock`.
pub fn delete_route(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let r = find_table(ctx, ctx.p.required("TransitGatewayRouteTableId")?)?;
    let dest = destination(ctx)?;
    let t = ctx.t;
    let entry = t
        .tgw_routes(r)
        .into_iter()
        .find(|e| e.destination == dest && e.route_type == TgwRouteType::Static);
    let table = t.tgw_route_table(r).name.clone();
    let mut new = t.clone();
    new.delete_tgw_route(&table, dest).map_err(edit_error)?;
    let new = commit(&new)?;
    let mut x = Xml::new();
    x.open("route");
    if let Some(e) = entry {
        route_xml(t, &mut x, r, &e, "deleted");
    }
    x.close("route");
    Outcome::changed(x.finish(), new)
}

/// `SearchTransitGatewayRoutes`: `TransitGatewayRouteTableId`, `Filter.N`
/// (`route-search.exact-match`, `route-search.longest-prefix-match`,
/// `route-search.subnet-of-match`, `route-search.supernet-of-match`, `type`,
/// `state`, `attachment.transit-gateway-attachment-id`, `attachment.resource-id`,
/// `attachment.resource-type`), `MaxResults`.
pub fn search_routes(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let r = find_table(ctx, ctx.p.required("TransitGatewayRouteTableId")?)?;
    let t = ctx.t;
    let tgw = t.tgw_route_table(r).transit_gateway;
    let all = filter::filters(ctx.p)?;
    let (prefix, plain): (Vec<_>, Vec<_>) = all.into_iter().partition(|f| {
        matches!(
            f.name.as_str(),
            "route-search.longest-prefix-match"
                | "route-search.subnet-of-match"
                | "route-search.supernet-of-match"
        )
    });
    let mut prefix_filters = Vec::new();
    for f in &prefix {
        let mut nets = Vec::new();
        for v in &f.values {
            let n: Ipv4Net = v.parse().map_err(|_| {
                ApiError::invalid_value(format!(
                    "Value ({v}) for filter {} is not a CIDR block",
                    f.name
                ))
            })?;
            nets.push(n.trunc());
        }
        prefix_filters.push((f.name.as_str(), nets));
    }
    let routes = t.tgw_routes(r);
    let mut kept: Vec<&TgwRouteEntry> = Vec::new();
    for e in &routes {
        let (resource_id, resource_type, attachment) = match e.target {
            TgwRouteTarget::Attachment(a) => {
                let (id, ty) = resource(t, a, tgw);
                (vec![id], vec![ty.to_owned()], vec![attachment_id(t, a)])
            }
            TgwRouteTarget::Blackhole => (Vec::new(), Vec::new(), Vec::new()),
        };
        let item = Item {
            index: 0,
            values: vec![
                ("route-search.exact-match", vec![e.destination.to_string()]),
                ("type", vec![e.route_type.aws_name().to_owned()]),
                ("state", vec![e.state.aws_name().to_owned()]),
                ("attachment.transit-gateway-attachment-id", attachment),
                ("attachment.resource-id", resource_id),
                ("attachment.resource-type", resource_type),
            ],
            tags: Vec::new(),
        };
        if !filter::matches(&item, &plain)? {
            continue;
        }
        let d = e.destination;
        let ok = prefix_filters.iter().all(|(name, nets)| {
            nets.iter().any(|n| match *name {
                "route-search.subnet-of-match" => {
                    n.contains(&d.network()) && d.prefix_len() >= n.prefix_len()
                }
                "route-search.supernet-of-match" => {
                    d.contains(&n.network()) && d.prefix_len() <= n.prefix_len()
                }
                // Longest prefix match: the routes containing the block; narrowed below.
                _ => d.contains(&n.network()) && d.prefix_len() <= n.prefix_len(),
            })
        });
        if ok {
            kept.push(e);
        }
    }
    if prefix_filters
        .iter()
        .any(|(n, _)| *n == "route-search.longest-prefix-match")
        && let Some(best) = kept.iter().map(|e| e.destination.prefix_len()).max()
    {
        kept.retain(|e| e.destination.prefix_len() == best);
    }
    let max = ctx.p.int("MaxResults")?.unwrap_or(1000).clamp(5, 1000) as usize;
    let more = kept.len() > max;
    kept.truncate(max);
    let mut x = Xml::new();
    x.set("routeSet", &kept, |x, e| {
        route_xml(t, x, r, e, e.state.aws_name())
    });
    x.leaf("additionalRoutesAvailable", more);
    Outcome::read(x.finish())
}
