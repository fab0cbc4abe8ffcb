//! `CreateSubnet`, `DescribeSubnets`, `DeleteSubnet`, `ModifySubnetAttribute`.
//!
//! A subnet's availability zone is the configuration's zone letter in its VPC's region
//! (`az = "a"` in `us-east-1` is `us-east-1a`, zone ID `use1-az1`); `CreateSubnet`
//! takes `AvailabilityZone` or `AvailabilityZoneId` of the VPC's region (zones `a` to
//! `f`; none given: `a`). AWS's checks come first with AWS's codes: a block outside
//! /16../28 or outside the VPC's blocks is `InvalidSubnet.Range`, one overlapping
//! another subnet `InvalidSubnet.Conflict`. `DeleteSubnet` refuses
//! (`DependencyViolation`) while instances, NAT gateways (a deleted one too while a
//! route still names it: vpcd keeps it in the configuration for that route), transit
//! gateway attachments that are not deleted or multicast domains use the subnet; its
//! route table and network ACL associations, its flow logs and its other deleted NAT
//! gateways go with it, as in AWS. A deleted attachment stays listed (as `deleted`)
//! without the subnet, and goes, with the static routes to it, with its last subnet.

use vpc_config::{
    AttachmentStatus, FlowLogResource, NatGatewayId, RouteTarget, SubnetId, TgwAttachmentKind,
};

use super::{
    AZ_LETTERS, Ctx, Outcome, array, az_id, az_name, commit, drop_document_tags, edit_document,
    key, set_tags, tag_set,
};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind};
use crate::xml::Xml;

/// A subnet as `DescribeSubnets` filters it.
struct Item<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for Item<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.ctx.t;
        let s = &t.subnets[self.index];
        let vpc = t.vpc(s.vpc);
        let one = |s: String| Some(vec![s]);
        match name {
            "subnet-id" => one(ids::id(Kind::Subnet, &s.name)),
            "vpc-id" => one(ids::id(Kind::Vpc, &vpc.name)),
            "availability-zone" | "availabilityZone" => one(az_name(&vpc.region, &s.az)),
            "availability-zone-id" | "availabilityZoneId" => one(az_id(&vpc.region, &s.az)),
            "cidr-block" | "cidr" | "cidrBlock" => one(s.cidr.to_string()),
            "default-for-az" | "defaultForAz" => one("false".to_owned()),
            "state" => one("available".to_owned()),
            "owner-id" => one(vpc.owner_id.clone()),
            "map-public-ip-on-launch" => one(s.map_public_ip_on_launch.to_string()),
            "subnet-arn" => one(arn(self.ctx, self.index)),
            "available-ip-address-count" => one(available(self.ctx, self.index).to_string()),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

fn arn(ctx: &Ctx<'_>, i: usize) -> String {
    let s = &ctx.t.subnets[i];
    let vpc = ctx.t.vpc(s.vpc);
    format!(
        "arn:aws:ec2:{}:{}:subnet/{}",
        vpc.region,
        vpc.owner_id,
        ids::id(Kind::Subnet, &s.name)
    )
}

/// Assignable addresses left: the block less AWS's 5 reserved, interfaces, NAT
/// gateways' and transit gateway attachments' addresses.
fn available(ctx: &Ctx<'_>, i: usize) -> u64 {
    let t = ctx.t;
    let sid = SubnetId(i as u32);
    let s = t.subnet(sid);
    let size = 1u64 << (32 - u32::from(s.cidr.prefix_len()));
    let enis = t.enis.iter().filter(|e| e.subnet == sid).count();
    let nats: usize = t
        .nat_gateways
        .iter()
        .filter(|n| n.subnet == sid && !n.deleted)
        .map(|n| n.private_ips.len())
        .sum();
    let tgw = t
        .tgw_attachments
        .iter()
        .filter(
            |a| matches!(&a.kind, TgwAttachmentKind::Vpc { subnets, .. } if subnets.contains(&sid)),
        )
        .count();
    size.saturating_sub(5 + (enis + nats + tgw) as u64)
}

fn subnet_xml(ctx: &Ctx<'_>, x: &mut Xml, i: usize) {
    let t = ctx.t;
    let s = &t.subnets[i];
    let vpc = t.vpc(s.vpc);
    x.leaf("subnetId", ids::id(Kind::Subnet, &s.name))
        .leaf("subnetArn", arn(ctx, i))
        .leaf("state", "available")
        .leaf("ownerId", &vpc.owner_id)
        .leaf("vpcId", ids::id(Kind::Vpc, &vpc.name))
        .leaf("cidrBlock", s.cidr)
        .leaf("availableIpAddressCount", available(ctx, i))
        .leaf("availabilityZone", az_name(&vpc.region, &s.az))
        .leaf("availabilityZoneId", az_id(&vpc.region, &s.az))
        .leaf("defaultForAz", false)
        .leaf("mapPublicIpOnLaunch", s.map_public_ip_on_launch)
        .leaf("mapCustomerOwnedIpOnLaunch", false)
        .leaf("assignIpv6AddressOnCreation", false)
        .leaf("ipv6Native", false)
        .leaf("enableDns64", false)
        .leaf("enableLniAtDeviceIndex", 0)
        .open("privateDnsNameOptionsOnLaunch")
        .leaf("hostnameType", "ip-name")
        .leaf("enableResourceNameDnsARecord", false)
        .leaf("enableResourceNameDnsAAAARecord", false)
        .close("privateDnsNameOptionsOnLaunch");
    tag_set(x, &ctx.shown_tags(Kind::Subnet, &s.name));
}

/// `CreateSubnet`: `VpcId`, `CidrBlock`, `AvailabilityZone` or `AvailabilityZoneId`,
/// `TagSpecification.N` (`subnet`).
pub fn create(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let t = ctx.t;
    let vpc_id = p.required("VpcId")?;
    let v = ctx.find(Kind::Vpc, vpc_id)?;
    let vpc = &t.vpcs[v];
    if p.str("Ipv6CidrBlock").is_some() || p.bool("Ipv6Native")? == Some(true) {
        return Err(ApiError::invalid_value("vpcd does not support IPv6 blocks"));
    }
    let text = p.required("CidrBlock")?;
    let cidr = super::vpcs::parse_block(text, "cidrBlock")?;
    if !(16..=28).contains(&cidr.prefix_len()) || !vpc.cidrs.iter().any(|b| b.contains(&cidr)) {
        return Err(ApiError::new(
            "InvalidSubnet.Range",
            format!("The CIDR '{cidr}' is invalid."),
        ));
    }
    let vid = vpc_config::VpcId(v as u32);
    if t.subnets
        .iter()
        .any(|s| s.vpc == vid && (s.cidr.contains(&cidr) || cidr.contains(&s.cidr)))
    {
        return Err(ApiError::new(
            "InvalidSubnet.Conflict",
            format!("The CIDR '{cidr}' conflicts with another subnet"),
        ));
    }
    let az = zone(
        &vpc.region,
        p.str("AvailabilityZone"),
        p.str("AvailabilityZoneId"),
    )?;
    let tags = ctx.tag_specifications(Kind::Subnet)?;
    let name = ctx.new_name(Kind::Subnet, &tags, |_| false);
    let vpc_name = vpc.name.clone();
    let mut new = edit_document(t, |doc| {
        let mut table = toml::Table::new();
        table.insert("name".into(), name.clone().into());
        table.insert("vpc".into(), vpc_name.into());
        table.insert("cidr".into(), cidr.to_string().into());
        table.insert("az".into(), az.into());
        array(doc, "subnet").push(toml::Value::Table(table));
    })?;
    set_tags(&mut new, &ids::id(Kind::Subnet, &name), &tags);
    let new = commit(&new)?;
    let i = ids::resolve(&new, Kind::Subnet, &name)
        .ok_or_else(|| ApiError::invalid_value("the new subnet was not created"))?;
    let view = Ctx { t: &new, ..*ctx };
    let mut x = Xml::new();
    x.open("subnet");
    subnet_xml(&view, &mut x, i);
    x.close("subnet");
    Outcome::changed(x.finish(), new)
}

/// The configuration's zone letter of a requested zone of `region`.
fn zone(region: &str, name: Option<&str>, id: Option<&str>) -> Result<String, ApiError> {
    let offered = || {
        AZ_LETTERS
            .iter()
            .map(|l| format!("{region}{l}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(name) = name {
        return AZ_LETTERS
            .iter()
            .find(|l| az_name(region, l) == name)
            .map(|l| l.to_string())
            .ok_or_else(|| {
                ApiError::invalid_value(format!(
                    "Value ({name}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: {}.",
                    offered()
                ))
            });
    }
    if let Some(id) = id {
        return AZ_LETTERS
            .iter()
            .find(|l| az_id(region, l) == id)
            .map(|l| l.to_string())
            .ok_or_else(|| {
                ApiError::invalid_value(format!(
                    "Value ({id}) for parameter availabilityZoneId is invalid. Subnets can currently only be created in the following availability zones: {}.",
                    offered()
                ))
            });
    }
    Ok("a".to_owned())
}

/// `DescribeSubnets`: `SubnetId.N`, `Filter.N`, `MaxResults`, `NextToken`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let indices = ctx.selected(Kind::Subnet, "SubnetId", ctx.t.subnets.len())?;
    let items: Vec<Item<'_>> = indices
        .into_iter()
        .map(|i| Item {
            index: i,
            tags: ctx.shown_tags(Kind::Subnet, &ctx.t.subnets[i].name),
            ctx,
        })
        .collect();
    super::described(ctx, "subnetSet", items, |x, item| {
        subnet_xml(ctx, x, item.index)
    })
}

/// `DeleteSubnet`: `SubnetId`.
pub fn delete(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("SubnetId")?;
    let i = ctx.find(Kind::Subnet, id)?;
    let t = ctx.t;
    let sid = SubnetId(i as u32);
    let subnet_id = ids::id(Kind::Subnet, &t.subnet(sid).name);
    let mut deps = Vec::new();
    for e in t.eni_ids() {
        if t.eni(e).subnet == sid {
            deps.push(format!(
                "network interface {} of instance {}",
                ids::id(Kind::NetworkInterface, &t.eni_name(e).to_string()),
                ids::id(Kind::Instance, &t.instance(t.eni(e).instance).name)
            ));
        }
    }
    // A deleted NAT gateway goes with its subnet, unless a (blackhole) route names it.
    let mut deleted_nats = Vec::new();
    for (k, n) in t.nat_gateways.iter().enumerate() {
        if n.subnet != sid {
            continue;
        }
        let target = RouteTarget::NatGateway(NatGatewayId(k as u32));
        let routed = t
            .route_tables
            .iter()
            .any(|r| r.routes.iter().any(|x| x.target == target));
        if n.deleted && !routed {
            deleted_nats.push(n.name.clone());
        } else {
            deps.push(format!(
                "NAT gateway {}",
                ids::id(Kind::NatGateway, &n.name)
            ));
        }
    }
    // A deleted attachment lets its subnets go: the subnet leaves its list, and the
    // attachment (with the static routes to it) goes with its last subnet.
    let mut shrunk = Vec::new();
    let mut dropped = Vec::new();
    for a in &t.tgw_attachments {
        let TgwAttachmentKind::Vpc { subnets, .. } = &a.kind else {
            continue;
        };
        if !subnets.contains(&sid) {
            continue;
        }
        if a.status != AttachmentStatus::Deleted {
            deps.push(format!(
                "transit gateway attachment {}",
                ids::id(Kind::TgwAttachment, &a.name)
            ));
        } else if subnets.len() > 1 {
            shrunk.push(a.name.clone());
        } else {
            dropped.push(a.name.clone());
        }
    }
    for d in &t.multicast_domains {
        if d.associations.iter().any(|&(_, s)| s == sid) {
            deps.push(format!("multicast domain {}", d.name));
        }
    }
    if !deps.is_empty() {
        return Err(ApiError::dependency(format!(
            "The subnet '{subnet_id}' has dependencies and cannot be deleted: {}",
            deps.join(", ")
        )));
    }
    let name = t.subnet(sid).name.clone();
    let mut gone = vec![subnet_id];
    gone.extend(deleted_nats.iter().map(|n| ids::id(Kind::NatGateway, n)));
    gone.extend(dropped.iter().map(|n| ids::id(Kind::TgwAttachment, n)));
    for f in &t.flow_logs {
        if f.resource == FlowLogResource::Subnet(sid) {
            gone.push(ids::id(Kind::FlowLog, &f.name));
        }
    }
    let new = edit_document(t, |doc| {
        array(doc, "subnet").retain(|x| key(x, "name") != Some(&name));
        array(doc, "flow_log").retain(|x| key(x, "subnet") != Some(&name));
        array(doc, "nat_gateway")
            .retain(|x| !key(x, "name").is_some_and(|n| deleted_nats.iter().any(|d| d == n)));
        for kind in ["route_table", "network_acl"] {
            for table in array(doc, kind) {
                if let Some(toml::Value::Array(list)) = table.get_mut("subnets") {
                    list.retain(|s| s.as_str() != Some(&name));
                }
            }
        }
        for a in array(doc, "transit_gateway_vpc_attachment") {
            if key(a, "name").is_some_and(|n| shrunk.iter().any(|x| x == n))
                && let Some(toml::Value::Array(list)) = a.get_mut("subnets")
            {
                list.retain(|s| s.as_str() != Some(&name));
            }
        }
        super::transit::drop_attachments(doc, &dropped);
        drop_document_tags(doc, &gone);
    })?;
    Outcome::done(new)
}

/// `ModifySubnetAttribute`: `SubnetId`, `MapPublicIpOnLaunch.Value`. The other
/// attributes (IPv6, DNS64, customer-owned addresses, resource-name DNS records) may
/// only be set to what vpcd has (false).
pub fn modify_attribute(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("SubnetId")?;
    let i = ctx.find(Kind::Subnet, id)?;
    for unsupported in [
        "AssignIpv6AddressOnCreation.Value",
        "EnableDns64.Value",
        "MapCustomerOwnedIpOnLaunch.Value",
        "EnableResourceNameDnsARecordOnLaunch.Value",
        "EnableResourceNameDnsAAAARecordOnLaunch.Value",
    ] {
        if ctx.p.bool(unsupported)? == Some(true) {
            let name = unsupported.trim_end_matches(".Value");
            return Err(ApiError::invalid_value(format!(
                "vpcd does not support {name} = true"
            )));
        }
    }
    let mut new = ctx.t.clone();
    if let Some(v) = ctx.p.bool("MapPublicIpOnLaunch.Value")? {
        new.subnets[i].map_public_ip_on_launch = v;
    }
    Outcome::done(commit(&new)?)
}
