//! `AllocateAddress`, `DescribeAddresses`, `AssociateAddress`, `DisassociateAddress`,
//! `ReleaseAddress`, `DescribeAddressesAttribute`: Elastic IPs (domain `vpc` only).
//!
//! An allocated address comes from the emulated internet's public ranges (the
//! documentation ranges of RFC 5737 vpc-config accepts): the first free one of
//! 198.51.100.0/24, then 203.0.113.0/24, then 192.0.2.0/24, free meaning used by no
//! Elastic IP, interface `public_ip` or internet host (`Address` asks for one). As in
//! AWS, an Elastic IP is associated with one network interface's primary private
//! address (`InstanceId` means the instance's primary interface) of a VPC with an
//! internet gateway (else `Gateway.NotAttached`); associating an address that is
//! associated already needs `AllowReassociation=true` (else
//! `Resource.AlreadyAssociated`), and an interface that has another Elastic IP gives
//! it up. Releasing an associated address is `InvalidIPAddress.InUse`; a NAT
//! gateway's address is released from it by `DeleteNatGateway` only. Association IDs
//! hash `<elastic ip>/<interface>` (`<elastic ip>/<nat gateway>` for a NAT gateway's).
//! vpcd keeps no owner for an Elastic IP: a caller sees the unassociated ones and
//! those associated in its VPCs. `DescribeAddressesAttribute` (`domain-name`) answers
//! no PTR record, as AWS does for an address whose reverse DNS was never set.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use vpc_config::{EipAssociation, ElasticIp, EniId, Topology, VpcId, addressing};

use super::{Ctx, Outcome, commit, not_found, set_tags, tag_set};
use crate::error::ApiError;
use crate::filter::{Filterable, filters, matches, paginate};
use crate::ids::{self, Kind};
use crate::xml::Xml;

/// The ranges `AllocateAddress` takes addresses from, in order.
const POOL: [Ipv4Net; 3] = [
    addressing::PUBLIC_RANGES[1],
    addressing::PUBLIC_RANGES[2],
    addressing::PUBLIC_RANGES[0],
];

/// The VPC of what Elastic IP `i` is associated with.
fn eip_vpc(t: &Topology, i: usize) -> Option<VpcId> {
    match t.elastic_ips[i].association? {
        EipAssociation::Eni(e) => Some(t.eni_vpc(e)),
        EipAssociation::NatGateway(n, _) => Some(t.subnet(t.nat_gateway(n).subnet).vpc),
    }
}

/// Whether the caller sees Elastic IP `i`: unassociated, or associated in its VPCs.
pub fn sees(ctx: &Ctx<'_>, i: usize) -> bool {
    eip_vpc(ctx.t, i).is_none_or(|v| ctx.sees_vpc(v))
}

/// The ID of association `a` of the Elastic IP named `eip`.
pub fn association_id(t: &Topology, eip: &str, a: EipAssociation) -> String {
    let what = match a {
        EipAssociation::Eni(e) => t.eni_name(e).to_string(),
        EipAssociation::NatGateway(n, _) => t.nat_gateway(n).name.clone(),
    };
    ids::id(Kind::ElasticIpAssociation, &format!("{eip}/{what}"))
}

/// The ID of the network interface of NAT gateway `name` (AWS gives every NAT gateway
/// one; vpcd derives its ID from `<nat gateway>/nat`).
pub fn nat_interface_id(name: &str) -> String {
    ids::id(Kind::NetworkInterface, &format!("{name}/nat"))
}

/// The Elastic IP of `AllocationId` or `PublicIp` (one of them required).
fn find(ctx: &Ctx<'_>) -> Result<usize, ApiError> {
    if let Some(id) = ctx.p.str("AllocationId") {
        return find_allocation(ctx, id);
    }
    match ctx.p.str("PublicIp") {
        Some(ip) => find_public_ip(ctx, ip),
        None => Err(ApiError::missing(
            "The request must contain the parameter AllocationId",
        )),
    }
}

/// The Elastic IP allocation `id` names, if the caller sees it.
pub fn find_allocation(ctx: &Ctx<'_>, id: &str) -> Result<usize, ApiError> {
    let i = ctx.find(Kind::ElasticIp, id)?;
    if sees(ctx, i) {
        Ok(i)
    } else {
        Err(not_found(Kind::ElasticIp, id))
    }
}

/// The Elastic IP whose address is `ip`, or `InvalidAddress.NotFound`.
fn find_public_ip(ctx: &Ctx<'_>, ip: &str) -> Result<usize, ApiError> {
    ctx.t
        .elastic_ips
        .iter()
        .position(|e| e.address.to_string() == ip)
        .filter(|&i| sees(ctx, i))
        .ok_or_else(|| {
            ApiError::new(
                "InvalidAddress.NotFound",
                format!("Address '{ip}' not found."),
            )
        })
}

/// What an Elastic IP's association shows: (element, value) pairs.
fn association_elements(ctx: &Ctx<'_>, i: usize) -> Vec<(&'static str, String)> {
    let t = ctx.t;
    let e = &t.elastic_ips[i];
    let Some(a) = e.association else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match a {
        EipAssociation::Eni(k) => {
            let eni = t.eni(k);
            out.push((
                "instanceId",
                ids::id(Kind::Instance, &t.instance(eni.instance).name),
            ));
            out.push(("associationId", association_id(t, &e.name, a)));
            out.push((
                "networkInterfaceId",
                ids::id(Kind::NetworkInterface, &t.eni_name(k).to_string()),
            ));
            out.push((
                "networkInterfaceOwnerId",
                t.vpc(t.eni_vpc(k)).owner_id.clone(),
            ));
            out.push(("privateIpAddress", eni.private_ip.to_string()));
        }
        EipAssociation::NatGateway(n, k) => {
            let nat = t.nat_gateway(n);
            out.push(("associationId", association_id(t, &e.name, a)));
            out.push(("networkInterfaceId", nat_interface_id(&nat.name)));
            out.push((
                "networkInterfaceOwnerId",
                t.vpc(t.subnet(nat.subnet).vpc).owner_id.clone(),
            ));
            if let Some(ip) = nat.private_ips.get(k) {
                out.push(("privateIpAddress", ip.to_string()));
            }
        }
    }
    out
}

/// An Elastic IP as `DescribeAddresses` filters it.
struct Item<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for Item<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let e = &self.ctx.t.elastic_ips[self.index];
        let assoc = association_elements(self.ctx, self.index);
        let of = |element: &str| -> Vec<String> {
            assoc
                .iter()
                .filter(|(k, _)| *k == element)
                .map(|(_, v)| v.clone())
                .collect()
        };
        match name {
            "allocation-id" => Some(vec![ids::id(Kind::ElasticIp, &e.name)]),
            "public-ip" => Some(vec![e.address.to_string()]),
            "domain" => Some(vec!["vpc".to_owned()]),
            "public-ipv4-pool" => Some(vec!["amazon".to_owned()]),
            "network-border-group" => Some(vec![self.ctx.caller.region.clone()]),
            "association-id" => Some(of("associationId")),
            "instance-id" => Some(of("instanceId")),
            "network-interface-id" => Some(of("networkInterfaceId")),
            "network-interface-owner-id" => Some(of("networkInterfaceOwnerId")),
            "private-ip-address" => Some(of("privateIpAddress")),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// The `Address` structure of Elastic IP `i`.
fn address_xml(ctx: &Ctx<'_>, x: &mut Xml, i: usize) {
    let e = &ctx.t.elastic_ips[i];
    x.leaf("publicIp", e.address)
        .leaf("allocationId", ids::id(Kind::ElasticIp, &e.name))
        .leaf("domain", "vpc");
    for (element, value) in association_elements(ctx, i) {
        x.leaf(element, value);
    }
    tag_set(x, &ctx.shown_tags(Kind::ElasticIp, &e.name));
    x.leaf("publicIpv4Pool", "amazon")
        .leaf("networkBorderGroup", &ctx.caller.region);
}

/// Whether public address `ip` is used (Elastic IP, interface, internet host).
fn used(t: &Topology, ip: Ipv4Addr) -> bool {
    t.elastic_ips.iter().any(|e| e.address == ip)
        || t.enis.iter().any(|e| e.public_ip == Some(ip))
        || t.internet_hosts.iter().any(|h| h.address == ip)
}

/// `AllocateAddress`: `Domain` (`vpc`), `Address` (a specific free public address),
/// `TagSpecification.N` (`elastic-ip`).
pub fn allocate(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let t = ctx.t;
    if let Some(domain) = p.str("Domain")
        && domain != "vpc"
    {
        return Err(ApiError::invalid_value(format!(
            "Value ({domain}) for parameter domain is invalid: vpcd allocates only vpc addresses"
        )));
    }
    for unsupported in ["IpamPoolId", "CustomerOwnedIpv4Pool"] {
        if p.str(unsupported).is_some() {
            return Err(ApiError::invalid_value(format!(
                "vpcd does not support {unsupported}"
            )));
        }
    }
    if let Some(pool) = p.str("PublicIpv4Pool")
        && pool != "amazon"
    {
        return Err(ApiError::invalid_value(format!(
            "The pool '{pool}' does not exist: vpcd has only the amazon pool"
        )));
    }
    let address = match p.str("Address") {
        Some(text) => {
            let ip: Ipv4Addr = text.parse().map_err(|_| {
                ApiError::invalid_value(format!(
                    "Value ({text}) for parameter address is invalid. Expected an IPv4 address."
                ))
            })?;
            if !addressing::is_public_address(ip) {
                return Err(ApiError::invalid_value(format!(
                    "The address {ip} is not in vpcd's public ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)"
                )));
            }
            if used(t, ip) {
                return Err(ApiError::new(
                    "InvalidAddress.InUse",
                    format!("The address {ip} is in use."),
                ));
            }
            ip
        }
        None => POOL
            .iter()
            .flat_map(|r| r.hosts())
            .find(|&ip| addressing::is_public_address(ip) && !used(t, ip))
            .ok_or_else(|| {
                ApiError::new(
                    "AddressLimitExceeded",
                    "The maximum number of addresses has been reached.",
                )
            })?,
    };
    let tags = ctx.tag_specifications(Kind::ElasticIp)?;
    let name = ctx.new_name(Kind::ElasticIp, &tags, |n| {
        n.parse::<Ipv4Addr>().is_ok() || n == ElasticIp::default_name(address)
    });
    let mut new = t.clone();
    new.elastic_ips.push(ElasticIp {
        name: name.clone(),
        address,
        association: None,
    });
    let allocation_id = ids::id(Kind::ElasticIp, &name);
    set_tags(&mut new, &allocation_id, &tags);
    let new = commit(&new)?;
    let mut x = Xml::new();
    x.leaf("publicIp", address)
        .leaf("allocationId", allocation_id)
        .leaf("publicIpv4Pool", "amazon")
        .leaf("networkBorderGroup", &ctx.caller.region)
        .leaf("domain", "vpc");
    Outcome::changed(x.finish(), new)
}

/// `DescribeAddresses`: `AllocationId.N`, `PublicIp.N`, `Filter.N`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let mut indices = Vec::new();
    let by_id = ctx.p.strings("AllocationId");
    let by_ip = ctx.p.strings("PublicIp");
    for id in &by_id {
        indices.push(find_allocation(ctx, id)?);
    }
    for ip in &by_ip {
        indices.push(find_public_ip(ctx, ip)?);
    }
    if by_id.is_empty() && by_ip.is_empty() {
        indices = (0..t.elastic_ips.len()).filter(|&i| sees(ctx, i)).collect();
    }
    indices.sort_unstable();
    indices.dedup();
    let filters = filters(ctx.p)?;
    let mut items = Vec::new();
    for i in indices {
        let item = Item {
            index: i,
            tags: ctx.shown_tags(Kind::ElasticIp, &t.elastic_ips[i].name),
            ctx,
        };
        if matches(&item, &filters)? {
            items.push(item);
        }
    }
    let mut x = Xml::new();
    x.set("addressesSet", &items, |x, item| {
        address_xml(ctx, x, item.index)
    });
    Outcome::read(x.finish())
}

/// `AssociateAddress`: `AllocationId` (or `PublicIp`), `InstanceId` or
/// `NetworkInterfaceId`, `PrivateIpAddress` (the interface's primary address),
/// `AllowReassociation`.
pub fn associate(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let t = ctx.t;
    let i = find(ctx)?;
    let e = &t.elastic_ips[i];
    let eni = match (p.str("NetworkInterfaceId"), p.str("InstanceId")) {
        (Some(id), _) => EniId(ctx.find(Kind::NetworkInterface, id)? as u32),
        (None, Some(id)) => {
            let inst = &t.instances[ctx.find(Kind::Instance, id)?];
            *inst.enis.first().ok_or_else(|| {
                ApiError::invalid_value(format!("The instance '{id}' has no network interface"))
            })?
        }
        (None, None) => {
            return Err(ApiError::missing(
                "The request must contain the parameter InstanceId or NetworkInterfaceId",
            ));
        }
    };
    if let Some(ip) = p.str("PrivateIpAddress")
        && ip != t.eni(eni).private_ip.to_string()
    {
        return Err(ApiError::invalid_value(format!(
            "The private address {ip} is not the primary address of the interface (vpcd gives each interface one address, {})",
            t.eni(eni).private_ip
        )));
    }
    let vpc = t.eni_vpc(eni);
    if t.vpc_internet_gateway(vpc).is_none() {
        return Err(ApiError::new(
            "Gateway.NotAttached",
            format!(
                "Network {} is not attached to any internet gateway",
                ids::id(Kind::Vpc, &t.vpc(vpc).name)
            ),
        ));
    }
    let wanted = EipAssociation::Eni(eni);
    let answer = |t: &Topology| {
        let mut x = Xml::new();
        x.leaf("associationId", association_id(t, &e.name, wanted));
        x.finish()
    };
    match e.association {
        Some(a) if a == wanted => return Outcome::read(answer(t)),
        Some(EipAssociation::NatGateway(..)) => {
            return Err(ApiError::new(
                "Resource.AlreadyAssociated",
                format!(
                    "resource {} is already associated with a NAT gateway",
                    ids::id(Kind::ElasticIp, &e.name)
                ),
            ));
        }
        Some(a) if p.bool("AllowReassociation")? != Some(true) => {
            return Err(ApiError::new(
                "Resource.AlreadyAssociated",
                format!(
                    "resource {} is already associated with associate-id {}",
                    ids::id(Kind::ElasticIp, &e.name),
                    association_id(t, &e.name, a)
                ),
            ));
        }
        _ => {}
    }
    let mut new = t.clone();
    for other in new.elastic_ips.iter_mut() {
        if other.association == Some(wanted) {
            other.association = None;
        }
    }
    new.elastic_ips[i].association = Some(wanted);
    let new = commit(&new)?;
    Outcome::changed(answer(t), new)
}

/// `DisassociateAddress`: `AssociationId` (or `PublicIp`).
pub fn disassociate(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let i = match ctx.p.str("AssociationId") {
        Some(id) => (0..t.elastic_ips.len())
            .filter(|&i| sees(ctx, i))
            .find(|&i| {
                let e = &t.elastic_ips[i];
                e.association
                    .is_some_and(|a| association_id(t, &e.name, a) == id)
            })
            .ok_or_else(|| {
                ApiError::new(
                    "InvalidAssociationID.NotFound",
                    format!("The association ID '{id}' does not exist"),
                )
            })?,
        None => match ctx.p.str("PublicIp") {
            Some(ip) => find_public_ip(ctx, ip)?,
            None => {
                return Err(ApiError::missing(
                    "The request must contain the parameter AssociationId",
                ));
            }
        },
    };
    let e = &t.elastic_ips[i];
    if let Some(EipAssociation::NatGateway(n, _)) = e.association {
        return Err(ApiError::invalid_value(format!(
            "The address {} belongs to NAT gateway {}: delete the NAT gateway to release it from it",
            e.address,
            ids::id(Kind::NatGateway, &t.nat_gateway(n).name)
        )));
    }
    if e.association.is_none() {
        // Only reachable by PublicIp: AWS answers success for an idle address.
        return Outcome::read("<return>true</return>".to_owned());
    }
    let mut new = t.clone();
    new.disassociate_address(e.address)
        .map_err(|err| ApiError::invalid_value(err.to_string()))?;
    Outcome::done(commit(&new)?)
}

/// `ReleaseAddress`: `AllocationId` (or `PublicIp`).
pub fn release(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let i = find(ctx)?;
    let e = &t.elastic_ips[i];
    if e.association.is_some() {
        return Err(ApiError::new(
            "InvalidIPAddress.InUse",
            format!("Address {} is in use.", e.address),
        ));
    }
    let allocation_id = ids::id(Kind::ElasticIp, &e.name);
    let mut new = t.clone();
    new.release_address(e.address)
        .map_err(|err| ApiError::invalid_value(err.to_string()))?;
    super::drop_tags(&mut new, std::slice::from_ref(&allocation_id));
    Outcome::done(commit(&new)?)
}

/// `DescribeAddressesAttribute`: `AllocationId.N`, `Attribute` (`domain-name`),
/// `MaxResults`, `NextToken`. vpcd has no reverse DNS: the set is empty.
pub fn describe_attribute(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let attribute = ctx.p.required("Attribute")?;
    if attribute != "domain-name" {
        return Err(ApiError::invalid_value(format!(
            "Value ({attribute}) for parameter attribute is invalid. Expected domain-name."
        )));
    }
    for id in ctx.p.strings("AllocationId") {
        find_allocation(ctx, &id)?;
    }
    let (none, next) = paginate::<usize>(ctx.p, Vec::new())?;
    let mut x = Xml::new();
    x.set("addressSet", &none, |_, _| {});
    x.opt("nextToken", next);
    Outcome::read(x.finish())
}
