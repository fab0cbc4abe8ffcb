//! `CreateVpc`, `DescribeVpcs`, `DeleteVpc`, `DescribeVpcAttribute`,
//! `ModifyVpcAttribute`.
//!
//! As in AWS, a new VPC comes with its main route table, default security group and
//! default network ACL (vpc-config creates them for a VPC that declares none), is owned
//! by the caller's account and lies in the request's region; `DeleteVpc` refuses
//! (`DependencyViolation`) while the VPC has subnets, an attached internet gateway,
//! route tables, security groups or network ACLs other than its main and default ones,
//! peering connections or transit gateway attachments that are not deleted, VPC
//! endpoints, or flow logs, and removes the main and default ones with it. Its deleted attachments and
//! deleted peering connections go with it too (AWS lists them as `deleted` for a
//! while; vpcd's configuration cannot name a VPC that is gone), except a deleted
//! connection still the target of another VPC's routes: vpcd keeps it, as `deleted`,
//! for those blackhole routes, and refuses (`DependencyViolation`) until they go.

use ipnet::Ipv4Net;
use vpc_config::{
    AttachmentStatus, DEFAULT_ACCOUNT, DEFAULT_REGION, FlowLogResource, PeeringStatus, RouteTarget,
    TgwAttachmentKind, VpcId, VpcPeeringConnectionId,
};

use super::{
    Ctx, Outcome, array, commit, drop_document_tags, edit_document, key, set_tags, tag_set,
};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind};
use crate::xml::Xml;

/// A VPC as `DescribeVpcs` filters it.
struct Item {
    index: usize,
    id: String,
    tags: Vec<(String, String)>,
}

impl Filterable for (Item, &Ctx<'_>) {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let vpc = &self.1.t.vpcs[self.0.index];
        let one = |s: String| Some(vec![s]);
        match name {
            "vpc-id" => one(self.0.id.clone()),
            "cidr" | "cidr-block" | "cidrBlock" => {
                one(vpc.cidrs.first().map(|c| c.to_string()).unwrap_or_default())
            }
            "cidr-block-association.cidr-block" => {
                Some(vpc.cidrs.iter().map(|c| c.to_string()).collect())
            }
            "cidr-block-association.association-id" => Some(
                vpc.cidrs
                    .iter()
                    .map(|c| cidr_association(&vpc.name, *c))
                    .collect(),
            ),
            "cidr-block-association.state" => one("associated".to_owned()),
            "is-default" | "isDefault" => one("false".to_owned()),
            "state" => one("available".to_owned()),
            "owner-id" => one(vpc.owner_id.clone()),
            "dhcp-options-id" => one(super::dhcp::vpc_dhcp_options_id(self.1, self.0.index)),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.0.tags
    }
}

/// The ID of the association of block `cidr` with VPC `vpc`.
fn cidr_association(vpc: &str, cidr: Ipv4Net) -> String {
    ids::id(Kind::VpcCidrAssociation, &format!("{vpc}/{cidr}"))
}

/// The `Vpc` structure of VPC `i`.
fn vpc_xml(ctx: &Ctx<'_>, x: &mut Xml, i: usize) {
    let vpc = &ctx.t.vpcs[i];
    x.leaf("vpcId", ids::id(Kind::Vpc, &vpc.name))
        .leaf("ownerId", &vpc.owner_id)
        .leaf("state", "available")
        .opt("cidrBlock", vpc.cidrs.first());
    x.set("cidrBlockAssociationSet", &vpc.cidrs, |x, c| {
        x.leaf("associationId", cidr_association(&vpc.name, *c))
            .leaf("cidrBlock", c)
            .open("cidrBlockState")
            .leaf("state", "associated")
            .close("cidrBlockState");
    });
    x.leaf("dhcpOptionsId", super::dhcp::vpc_dhcp_options_id(ctx, i))
        .leaf("instanceTenancy", "default")
        .leaf("isDefault", false);
    tag_set(x, &ctx.shown_tags(Kind::Vpc, &vpc.name));
}

/// `CreateVpc`: `CidrBlock` (required), `TagSpecification.N` (`vpc`).
pub fn create(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    if p.bool("AmazonProvidedIpv6CidrBlock")? == Some(true) || p.str("Ipv6CidrBlock").is_some() {
        return Err(ApiError::invalid_value("vpcd does not support IPv6 blocks"));
    }
    if p.str("Ipv4IpamPoolId").is_some() {
        return Err(ApiError::invalid_value(
            "vpcd does not support IPAM pools: give CidrBlock",
        ));
    }
    if let Some(tenancy) = p.str("InstanceTenancy")
        && tenancy != "default"
    {
        return Err(ApiError::invalid_value(format!(
            "Value ({tenancy}) for parameter instanceTenancy is invalid: vpcd supports only default"
        )));
    }
    let text = p.required("CidrBlock")?;
    let cidr = parse_block(text, "cidrBlock")?;
    if !(16..=28).contains(&cidr.prefix_len()) {
        return Err(ApiError::new(
            "InvalidVpc.Range",
            format!("The CIDR '{cidr}' is invalid."),
        ));
    }
    let tags = ctx.tag_specifications(Kind::Vpc)?;
    let t = ctx.t;
    let name = ctx.new_name(Kind::Vpc, &tags, |n| {
        t.route_tables.iter().any(|r| r.name == format!("{n}-main"))
    });
    let (account, region) = (ctx.caller.account.clone(), ctx.caller.region.clone());
    let created = edit_document(t, |doc| {
        let mut table = toml::Table::new();
        table.insert("name".into(), name.clone().into());
        table.insert("cidr".into(), cidr.to_string().into());
        if account != DEFAULT_ACCOUNT {
            table.insert("owner_id".into(), account.into());
        }
        if region != DEFAULT_REGION {
            table.insert("region".into(), region.into());
        }
        array(doc, "vpc").push(toml::Value::Table(table));
    })?;
    let mut new = created;
    set_tags(&mut new, &ids::id(Kind::Vpc, &name), &tags);
    let new = commit(&new)?;
    let i = ids::resolve(&new, Kind::Vpc, &name)
        .ok_or_else(|| ApiError::invalid_value("the new VPC was not created"))?;
    let view = Ctx { t: &new, ..*ctx };
    let mut x = Xml::new();
    x.open("vpc");
    vpc_xml(&view, &mut x, i);
    x.close("vpc");
    Outcome::changed(x.finish(), new)
}

/// A canonical IPv4 block, or `InvalidParameterValue` naming `param`.
pub fn parse_block(text: &str, param: &str) -> Result<Ipv4Net, ApiError> {
    text.parse::<Ipv4Net>()
        .ok()
        .filter(|n| n.trunc() == *n)
        .ok_or_else(|| {
            ApiError::invalid_value(format!(
                "Value ({text}) for parameter {param} is invalid. This is not a valid CIDR block."
            ))
        })
}

/// `DescribeVpcs`: `VpcId.N`, `Filter.N`, `MaxResults`, `NextToken`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let indices = ctx.selected(Kind::Vpc, "VpcId", ctx.t.vpcs.len())?;
    let items: Vec<(Item, &Ctx<'_>)> = indices
        .into_iter()
        .map(|i| {
            let name = &ctx.t.vpcs[i].name;
            (
                Item {
                    index: i,
                    id: ids::id(Kind::Vpc, name),
                    tags: ctx.shown_tags(Kind::Vpc, name),
                },
                ctx,
            )
        })
        .collect();
    super::described(ctx, "vpcSet", items, |x, (item, _)| {
        vpc_xml(ctx, x, item.index)
    })
}

/// `DeleteVpc`: `VpcId`.
pub fn delete(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("VpcId")?;
    let i = ctx.find(Kind::Vpc, id)?;
    let t = ctx.t;
    let v = VpcId(i as u32);
    let vpc = t.vpc(v);
    let vpc_id = ids::id(Kind::Vpc, &vpc.name);
    let mut deps: Vec<String> = Vec::new();
    for s in t.subnets.iter().filter(|s| s.vpc == v) {
        deps.push(format!("subnet {}", ids::id(Kind::Subnet, &s.name)));
    }
    if let Some(g) = t.vpc_internet_gateway(v) {
        deps.push(format!(
            "internet gateway {}",
            ids::id(Kind::InternetGateway, &t.internet_gateway(g).name)
        ));
    }
    if let Some(g) = t.vpc_vpn_gateway(v) {
        deps.push(format!(
            "VPN gateway {}",
            ids::id(Kind::VpnGateway, &t.vpn_gateway(g).name)
        ));
    }
    for (k, r) in t.route_tables.iter().enumerate() {
        if r.vpc == v && k != vpc.main_route_table.index() {
            deps.push(format!(
                "route table {}",
                ids::id(Kind::RouteTable, &r.name)
            ));
        }
    }
    for (k, g) in t.security_groups.iter().enumerate() {
        if g.vpc == v && k != vpc.default_security_group.index() {
            deps.push(format!(
                "security group {}",
                ids::id(Kind::SecurityGroup, &format!("{}/{}", vpc.name, g.name))
            ));
        }
    }
    for (k, n) in t.network_acls.iter().enumerate() {
        if n.vpc == v && k != vpc.default_network_acl.index() {
            deps.push(format!(
                "network ACL {}",
                ids::id(Kind::NetworkAcl, &format!("{}/{}", vpc.name, n.name))
            ));
        }
    }
    for e in t.vpc_endpoints.iter().filter(|e| e.vpc == v) {
        deps.push(format!(
            "VPC endpoint {}",
            ids::id(Kind::VpcEndpoint, &e.name)
        ));
    }
    // Deleted peering connections and attachments go with the VPC, unless a route of
    // another VPC still names the connection (vpc-config keeps a deleted connection,
    // and its VPCs, for that blackhole route).
    let mut dropped_pcx = Vec::new();
    for (k, p) in t.vpc_peering_connections.iter().enumerate() {
        if p.requester != v && p.accepter != v {
            continue;
        }
        let pcx_id = ids::id(Kind::PeeringConnection, &p.name);
        if p.status != PeeringStatus::Deleted {
            deps.push(format!("VPC peering connection {pcx_id}"));
            continue;
        }
        let target = RouteTarget::VpcPeeringConnection(VpcPeeringConnectionId(k as u32));
        let routed: Vec<String> = t
            .route_tables
            .iter()
            .filter(|r| r.vpc != v && r.routes.iter().any(|x| x.target == target))
            .map(|r| ids::id(Kind::RouteTable, &r.name))
            .collect();
        if routed.is_empty() {
            dropped_pcx.push(p.name.clone());
        } else {
            deps.push(format!(
                "VPC peering connection {pcx_id} (deleted), the target of routes of route table {}",
                routed.join(", ")
            ));
        }
    }
    let mut dropped_attachments = Vec::new();
    for a in &t.tgw_attachments {
        if matches!(&a.kind, TgwAttachmentKind::Vpc { vpc, .. } if *vpc == v) {
            if a.status == AttachmentStatus::Deleted {
                dropped_attachments.push(a.name.clone());
            } else {
                deps.push(format!(
                    "transit gateway attachment {}",
                    ids::id(Kind::TgwAttachment, &a.name)
                ));
            }
        }
    }
    for f in &t.flow_logs {
        if f.resource == FlowLogResource::Vpc(v) {
            deps.push(format!("flow log {}", ids::id(Kind::FlowLog, &f.name)));
        }
    }
    if !deps.is_empty() {
        return Err(ApiError::dependency(format!(
            "The vpc '{vpc_id}' has dependencies and cannot be deleted: {}",
            deps.join(", ")
        )));
    }
    let name = vpc.name.clone();
    let mut gone = vec![
        vpc_id,
        ids::id(Kind::RouteTable, &t.route_table(vpc.main_route_table).name),
        ids::id(
            Kind::SecurityGroup,
            &format!(
                "{name}/{}",
                t.security_group(vpc.default_security_group).name
            ),
        ),
        ids::id(
            Kind::NetworkAcl,
            &format!("{name}/{}", t.network_acl(vpc.default_network_acl).name),
        ),
    ];
    gone.extend(
        dropped_pcx
            .iter()
            .map(|n| ids::id(Kind::PeeringConnection, n)),
    );
    gone.extend(
        dropped_attachments
            .iter()
            .map(|n| ids::id(Kind::TgwAttachment, n)),
    );
    let new = edit_document(t, |doc| {
        array(doc, "vpc").retain(|x| key(x, "name") != Some(&name));
        array(doc, "vpc_peering_connection")
            .retain(|x| !key(x, "name").is_some_and(|n| dropped_pcx.iter().any(|d| d == n)));
        super::transit::drop_attachments(doc, &dropped_attachments);
        for kind in ["route_table", "security_group", "network_acl"] {
            array(doc, kind).retain(|x| key(x, "vpc") != Some(&name));
        }
        drop_document_tags(doc, &gone);
    })?;
    Outcome::done(new)
}

/// The attribute names of `DescribeVpcAttribute` and `ModifyVpcAttribute`.
const ATTRIBUTES: [&str; 3] = [
    "enableDnsSupport",
    "enableDnsHostnames",
    "enableNetworkAddressUsageMetrics",
];

/// `DescribeVpcAttribute`: `VpcId`, `Attribute`.
pub fn describe_attribute(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("VpcId")?;
    let attribute = ctx.p.required("Attribute")?;
    let i = ctx.find(Kind::Vpc, id)?;
    let vpc = &ctx.t.vpcs[i];
    let value = match attribute {
        "enableDnsSupport" => vpc.enable_dns_support,
        "enableDnsHostnames" => vpc.enable_dns_hostnames,
        "enableNetworkAddressUsageMetrics" => vpc.enable_network_address_usage_metrics,
        other => {
            return Err(ApiError::invalid_value(format!(
                "Value ({other}) for parameter attribute is invalid. Expected one of {}.",
                ATTRIBUTES.join(", ")
            )));
        }
    };
    let mut x = Xml::new();
    x.leaf("vpcId", ids::id(Kind::Vpc, &vpc.name))
        .open(attribute)
        .leaf("value", value)
        .close(attribute);
    Outcome::read(x.finish())
}

/// `ModifyVpcAttribute`: `VpcId` and one of `EnableDnsSupport.Value`,
/// `EnableDnsHostnames.Value`, `EnableNetworkAddressUsageMetrics.Value`.
pub fn modify_attribute(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("VpcId")?;
    let i = ctx.find(Kind::Vpc, id)?;
    let support = ctx.p.bool("EnableDnsSupport.Value")?;
    let hostnames = ctx.p.bool("EnableDnsHostnames.Value")?;
    let metrics = ctx.p.bool("EnableNetworkAddressUsageMetrics.Value")?;
    let given = [support, hostnames, metrics]
        .iter()
        .filter(|v| v.is_some())
        .count();
    if given == 0 {
        return Err(ApiError::missing(
            "The request must contain one of EnableDnsSupport, EnableDnsHostnames, EnableNetworkAddressUsageMetrics",
        ));
    }
    if given > 1 {
        return Err(ApiError::new(
            "InvalidParameterCombination",
            "Fields for multiple attribute types specified: only one attribute can be modified at a time",
        ));
    }
    let mut new = ctx.t.clone();
    let vpc = &mut new.vpcs[i];
    if let Some(v) = support {
        vpc.enable_dns_support = v;
    }
    if let Some(v) = hostnames {
        vpc.enable_dns_hostnames = v;
    }
    if let Some(v) = metrics {
        vpc.enable_network_address_usage_metrics = v;
    }
    Outcome::done(commit(&new)?)
}
