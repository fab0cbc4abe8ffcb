//! `DescribeNetworkInterfaces`, `ModifyNetworkInterfaceAttribute`, and the network
//! interface XML that `DescribeInstances` shares.
//!
//! Every interface of every instance (`<instance>/ethN`, ID `eni-` derived from that
//! name) is listed, `in-use` and attached to its instance (attachment ID `eni-attach-`
//! derived from the interface's ID; attached at the instance's launch time, deleted
//! with the instance). The MAC address is made up from the ID (vpcd's interfaces are
//! TUN devices, without one). The public address is the associated Elastic IP (with
//! its allocation ID) or the auto-assigned `public_ip`. The private
//! DNS name is AWS's: `ip-10-0-1-10.ec2.internal` in `us-east-1`,
//! `ip-10-0-1-10.<region>.compute.internal` elsewhere. NAT gateways' and transit
//! gateway attachments' interfaces are not listed. `ModifyNetworkInterfaceAttribute`
//! changes the source/destination check and the security groups (1 to 5 of the
//! interface's VPC); vpcd keeps no descriptions, so only an empty `Description` is
//! accepted.

use std::net::Ipv4Addr;

use sha2::{Digest, Sha256};
use vpc_config::{EipAssociation, EniId, Topology};

use super::{Ctx, Outcome, az_id, az_name, commit, tag_set};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind};
use crate::xml::Xml;

/// The ID of interface `e`.
pub fn eni_id(t: &Topology, e: EniId) -> String {
    ids::id(Kind::NetworkInterface, &t.eni_name(e).to_string())
}

/// `prefix` and the first 17 hex digits of SHA-256(`text`): IDs of things vpcd does
/// not keep (attachments, volumes, reservations).
pub fn derived(prefix: &str, text: &str) -> String {
    let hex = crate::sigv4::hex(&Sha256::digest(text.as_bytes()));
    format!("{prefix}{}", &hex[..17])
}

/// The attachment ID of interface `e`.
pub fn attachment_id(t: &Topology, e: EniId) -> String {
    derived("eni-attach-", &format!("eni-attach/{}", eni_id(t, e)))
}

/// A made-up, stable, locally administered MAC address for interface `e`.
pub fn mac(t: &Topology, e: EniId) -> String {
    let d = Sha256::digest(format!("mac/{}", eni_id(t, e)).as_bytes());
    format!(
        "02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        d[0], d[1], d[2], d[3], d[4]
    )
}

/// AWS's private DNS name of `ip` in `region`.
pub fn private_dns(region: &str, ip: Ipv4Addr) -> String {
    let host = format!("ip-{}", ip.to_string().replace('.', "-"));
    if region == "us-east-1" {
        format!("{host}.ec2.internal")
    } else {
        format!("{host}.{region}.compute.internal")
    }
}

/// AWS's public DNS name of `ip` in `region`.
pub fn public_dns(region: &str, ip: Ipv4Addr) -> String {
    let host = format!("ec2-{}", ip.to_string().replace('.', "-"));
    if region == "us-east-1" {
        format!("{host}.compute-1.amazonaws.com")
    } else {
        format!("{host}.{region}.compute.amazonaws.com")
    }
}

/// The security groups of interface `e`: (ID, name).
pub fn groups(t: &Topology, e: EniId) -> Vec<(String, String)> {
    let vpc = &t.vpc(t.eni_vpc(e)).name;
    t.eni(e)
        .security_groups
        .iter()
        .map(|&g| {
            let name = &t.security_group(g).name;
            (
                ids::id(Kind::SecurityGroup, &format!("{vpc}/{name}")),
                name.clone(),
            )
        })
        .collect()
}

/// `<groupSet>` of (ID, name) pairs.
pub fn group_set(x: &mut Xml, groups: &[(String, String)]) {
    x.set("groupSet", groups, |x, (id, name)| {
        x.leaf("groupId", id).leaf("groupName", name);
    });
}

/// The public address of interface `e` and, for an Elastic IP, its allocation ID.
fn public(t: &Topology, e: EniId) -> Option<(Ipv4Addr, Option<String>)> {
    if let Some(eip) = t
        .elastic_ips
        .iter()
        .find(|x| x.association == Some(EipAssociation::Eni(e)))
    {
        return Some((eip.address, Some(ids::id(Kind::ElasticIp, &eip.name))));
    }
    t.eni(e).public_ip.map(|ip| (ip, None))
}

/// `<association>` of interface `e` (instance form: `publicIp`, `publicDnsName`,
/// `ipOwnerId`), if it has a public address.
fn association_xml(ctx: &Ctx<'_>, x: &mut Xml, e: EniId, full: bool) {
    let t = ctx.t;
    let vpc = t.vpc(t.eni_vpc(e));
    if let Some((ip, eip)) = public(t, e) {
        x.open("association");
        if full && let Some(alloc) = &eip {
            x.leaf("allocationId", alloc);
        }
        x.leaf(
            "ipOwnerId",
            if eip.is_some() {
                vpc.owner_id.as_str()
            } else {
                "amazon"
            },
        )
        .leaf(
            "publicDnsName",
            if vpc.enable_dns_hostnames {
                public_dns(&vpc.region, ip)
            } else {
                String::new()
            },
        )
        .leaf("publicIp", ip)
        .close("association");
    }
}

/// The launch time of interface `e`'s instance, as shown.
fn attach_time(t: &Topology, e: EniId) -> String {
    super::instances::launch_time(&t.instance(t.eni(e).instance).launch)
}

/// The body of an `InstanceNetworkInterface` (in `DescribeInstances`).
pub fn instance_eni_xml(ctx: &Ctx<'_>, x: &mut Xml, e: EniId) {
    let t = ctx.t;
    let eni = t.eni(e);
    let vpc = t.vpc(t.eni_vpc(e));
    let dns = private_dns(&vpc.region, eni.private_ip);
    x.leaf("networkInterfaceId", eni_id(t, e))
        .leaf(
            "subnetId",
            ids::id(Kind::Subnet, &t.subnet(eni.subnet).name),
        )
        .leaf("vpcId", ids::id(Kind::Vpc, &vpc.name))
        .leaf("description", "")
        .leaf("ownerId", &vpc.owner_id)
        .leaf("status", "in-use")
        .leaf("macAddress", mac(t, e))
        .leaf("privateIpAddress", eni.private_ip)
        .leaf("privateDnsName", &dns)
        .leaf("sourceDestCheck", eni.source_dest_check);
    group_set(x, &groups(t, e));
    x.open("attachment")
        .leaf("attachmentId", attachment_id(t, e))
        .leaf("deviceIndex", eni.device_index)
        .leaf("status", "attached")
        .leaf("attachTime", attach_time(t, e))
        .leaf("deleteOnTermination", true)
        .leaf("networkCardIndex", 0)
        .close("attachment");
    association_xml(ctx, x, e, false);
    x.open("privateIpAddressesSet")
        .open("item")
        .leaf("privateIpAddress", eni.private_ip)
        .leaf("privateDnsName", &dns)
        .leaf("primary", true);
    association_xml(ctx, x, e, false);
    x.close("item")
        .close("privateIpAddressesSet")
        .raw("<ipv6AddressesSet/>")
        .leaf("interfaceType", "interface");
}

/// The body of a `NetworkInterface` (in `DescribeNetworkInterfaces`).
fn eni_xml(ctx: &Ctx<'_>, x: &mut Xml, e: EniId) {
    let t = ctx.t;
    let eni = t.eni(e);
    let vpc = t.vpc(t.eni_vpc(e));
    let subnet = t.subnet(eni.subnet);
    let inst = t.instance(eni.instance);
    let dns = private_dns(&vpc.region, eni.private_ip);
    x.leaf("networkInterfaceId", eni_id(t, e))
        .leaf("subnetId", ids::id(Kind::Subnet, &subnet.name))
        .leaf("vpcId", ids::id(Kind::Vpc, &vpc.name))
        .leaf("availabilityZone", az_name(&vpc.region, &subnet.az))
        .leaf("availabilityZoneId", az_id(&vpc.region, &subnet.az))
        .leaf("description", "")
        .leaf("ownerId", &vpc.owner_id)
        .leaf("requesterManaged", false)
        .leaf("status", "in-use")
        .leaf("macAddress", mac(t, e))
        .leaf("privateIpAddress", eni.private_ip)
        .leaf("privateDnsName", &dns)
        .leaf("sourceDestCheck", eni.source_dest_check);
    group_set(x, &groups(t, e));
    x.open("attachment")
        .leaf("attachmentId", attachment_id(t, e))
        .leaf("instanceId", ids::id(Kind::Instance, &inst.name))
        .leaf("instanceOwnerId", &vpc.owner_id)
        .leaf("deviceIndex", eni.device_index)
        .leaf("networkCardIndex", 0)
        .leaf("status", "attached")
        .leaf("attachTime", attach_time(t, e))
        .leaf("deleteOnTermination", true)
        .close("attachment");
    association_xml(ctx, x, e, true);
    tag_set(
        x,
        &ctx.shown_tags(Kind::NetworkInterface, &t.eni_name(e).to_string()),
    );
    x.open("privateIpAddressesSet")
        .open("item")
        .leaf("privateIpAddress", eni.private_ip)
        .leaf("privateDnsName", &dns)
        .leaf("primary", true);
    association_xml(ctx, x, e, true);
    x.close("item")
        .close("privateIpAddressesSet")
        .raw("<ipv6AddressesSet/>")
        .leaf("interfaceType", "interface");
}

struct Item<'c> {
    eni: EniId,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for Item<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.ctx.t;
        let e = self.eni;
        let eni = t.eni(e);
        let vpc = t.vpc(t.eni_vpc(e));
        let subnet = t.subnet(eni.subnet);
        let one = |s: String| Some(vec![s]);
        match name {
            "network-interface-id" => one(eni_id(t, e)),
            "attachment.instance-id" => {
                one(ids::id(Kind::Instance, &t.instance(eni.instance).name))
            }
            "attachment.instance-owner-id" | "owner-id" => one(vpc.owner_id.clone()),
            "attachment.attachment-id" => one(attachment_id(t, e)),
            "attachment.device-index" => one(eni.device_index.to_string()),
            "attachment.status" => one("attached".to_owned()),
            "attachment.delete-on-termination" => one("true".to_owned()),
            "vpc-id" => one(ids::id(Kind::Vpc, &vpc.name)),
            "subnet-id" => one(ids::id(Kind::Subnet, &subnet.name)),
            "availability-zone" => one(az_name(&vpc.region, &subnet.az)),
            "group-id" => Some(groups(t, e).into_iter().map(|(id, _)| id).collect()),
            "group-name" => Some(groups(t, e).into_iter().map(|(_, n)| n).collect()),
            "addresses.private-ip-address" | "private-ip-address" => {
                one(eni.private_ip.to_string())
            }
            "addresses.primary" => one("true".to_owned()),
            "private-dns-name" => one(private_dns(&vpc.region, eni.private_ip)),
            "mac-address" => one(mac(t, e)),
            "source-dest-check" => one(eni.source_dest_check.to_string()),
            "status" => one("in-use".to_owned()),
            "requester-managed" => one("false".to_owned()),
            "interface-type" => one("interface".to_owned()),
            "description" => one(String::new()),
            "association.public-ip" | "addresses.association.public-ip" => Some(
                public(t, e)
                    .map(|(ip, _)| ip.to_string())
                    .into_iter()
                    .collect(),
            ),
            "association.allocation-id" => {
                Some(public(t, e).and_then(|(_, eip)| eip).into_iter().collect())
            }
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// `DescribeNetworkInterfaces`: `NetworkInterfaceId.N`, `Filter.N`, `MaxResults`,
/// `NextToken`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let wanted = ctx.p.strings("NetworkInterfaceId");
    let enis: Vec<EniId> = if wanted.is_empty() {
        t.eni_ids()
            .filter(|e| ctx.sees(Kind::NetworkInterface, e.index()))
            .collect()
    } else {
        let mut v = Vec::new();
        for id in &wanted {
            let e = EniId(ctx.find(Kind::NetworkInterface, id)? as u32);
            if !v.contains(&e) {
                v.push(e);
            }
        }
        v
    };
    let items: Vec<Item<'_>> = enis
        .into_iter()
        .map(|e| Item {
            eni: e,
            tags: ctx.shown_tags(Kind::NetworkInterface, &t.eni_name(e).to_string()),
            ctx,
        })
        .collect();
    super::described(ctx, "networkInterfaceSet", items, |x, i| {
        eni_xml(ctx, x, i.eni)
    })
}

/// The security groups of `ids` (1 to 5, each in VPC `vpc`), as group indices.
pub fn resolve_groups(
    ctx: &Ctx<'_>,
    vpc: vpc_config::VpcId,
    group_ids: &[String],
    subnet_id: &str,
) -> Result<Vec<vpc_config::SecurityGroupId>, ApiError> {
    if group_ids.len() > 5 {
        return Err(ApiError::new(
            "SecurityGroupsPerInterfaceLimitExceeded",
            "The maximum number of security groups per interface has been reached.",
        ));
    }
    let mut out = Vec::new();
    for id in group_ids {
        let g = ctx.find(Kind::SecurityGroup, id)?;
        if ctx.t.security_groups[g].vpc != vpc {
            return Err(ApiError::new(
                "InvalidParameter",
                format!("Security group {id} and subnet {subnet_id} belong to different networks."),
            ));
        }
        let g = vpc_config::SecurityGroupId(g as u32);
        if !out.contains(&g) {
            out.push(g);
        }
    }
    Ok(out)
}

/// `ModifyNetworkInterfaceAttribute`: `NetworkInterfaceId` and one of
/// `SourceDestCheck.Value`, `SecurityGroupId.N`, `Description.Value` (empty only).
pub fn modify_attribute(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("NetworkInterfaceId")?;
    let e = EniId(ctx.find(Kind::NetworkInterface, id)? as u32);
    let t = ctx.t;
    let mut new = t.clone();
    let mut changed = false;
    if let Some(v) = ctx.p.bool("SourceDestCheck.Value")? {
        new.enis[e.index()].source_dest_check = v;
        changed = true;
    }
    let group_ids = ctx.p.strings("SecurityGroupId");
    if !group_ids.is_empty() {
        let subnet_id = ids::id(Kind::Subnet, &t.subnet(t.eni(e).subnet).name);
        new.enis[e.index()].security_groups =
            resolve_groups(ctx, t.eni_vpc(e), &group_ids, &subnet_id)?;
        changed = true;
    }
    if let Some(d) = ctx.p.str("Description.Value") {
        if !d.is_empty() {
            return Err(ApiError::invalid_value(
                "vpcd does not keep network interface descriptions",
            ));
        }
        changed = true;
    }
    if ctx.p.get("Attachment").is_some() || ctx.p.get("ConnectionTrackingSpecification").is_some() {
        return Err(ApiError::invalid_value(
            "vpcd changes only SourceDestCheck, SecurityGroupId and Description of an interface",
        ));
    }
    if !changed {
        return Err(ApiError::missing(
            "The request must contain one of SourceDestCheck, SecurityGroupId, Description",
        ));
    }
    Outcome::done(commit(&new)?)
}
