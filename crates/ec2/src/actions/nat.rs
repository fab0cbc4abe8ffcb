//! `CreateNatGateway`, `DescribeNatGateways`, `DeleteNatGateway`.
//!
//! A public NAT gateway (the default) takes an Elastic IP (`AllocationId`, plus
//! `SecondaryAllocationId.N`), each paired with one of its private addresses
//! (`PrivateIpAddress`, `SecondaryPrivateIpAddress.N`; allocated in the subnet when
//! omitted); its VPC must have an internet gateway (`Gateway.NotAttached`, as AWS
//! answers) and its Elastic IPs must be free (`Resource.AlreadyAssociated`). A
//! private one (`ConnectivityType=private`) has private addresses only. The dataplane
//! applies a new NAT gateway at once: `CreateNatGateway` answers `pending`, as AWS
//! does, and `DescribeNatGateways` `available` from then on. `CreateNatGateway`
//! honours `ClientToken` (the same token answers the same NAT gateway while the API
//! runs). `DeleteNatGateway` is vpc-config's edit: the NAT gateway stays in the
//! configuration with `state = "deleted"` (routes to it turn `blackhole`) and its
//! Elastic IPs are released from it, still allocated; `DescribeNatGateways` shows it
//! `deleted`, with its private addresses, until its subnet is deleted. vpcd keeps no
//! creation or deletion time, so `createTime` and `deleteTime` are not shown; every
//! NAT gateway has one network interface whose ID is derived from its name.

use std::net::Ipv4Addr;

use vpc_config::{EipAssociation, NatConnectivity, NatGatewayId};

use super::addresses::{association_id, find_allocation, nat_interface_id};
use super::route_tables::{client_token_key, token_mismatch};
use super::{Ctx, Outcome, array, commit, edit_document, set_tags, tag_set};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind};
use crate::xml::Xml;

/// A NAT gateway's state as `DescribeNatGateways` shows it.
fn state(ctx: &Ctx<'_>, i: usize) -> &'static str {
    if ctx.t.nat_gateways[i].deleted {
        "deleted"
    } else {
        "available"
    }
}

/// A NAT gateway as `DescribeNatGateways` filters it.
struct Item<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for Item<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.ctx.t;
        let n = &t.nat_gateways[self.index];
        let subnet = t.subnet(n.subnet);
        let one = |s: String| Some(vec![s]);
        match name {
            "nat-gateway-id" => one(ids::id(Kind::NatGateway, &n.name)),
            "subnet-id" => one(ids::id(Kind::Subnet, &subnet.name)),
            "vpc-id" => one(ids::id(Kind::Vpc, &t.vpc(subnet.vpc).name)),
            "state" => one(state(self.ctx, self.index).to_owned()),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// The `NatGateway` structure of NAT gateway `i`, with state `state`.
fn nat_xml(ctx: &Ctx<'_>, x: &mut Xml, i: usize, state: &str) {
    let t = ctx.t;
    let n = &t.nat_gateways[i];
    let id = NatGatewayId(i as u32);
    let subnet = t.subnet(n.subnet);
    let eni = nat_interface_id(&n.name);
    let addresses: Vec<(usize, Ipv4Addr)> = n.private_ips.iter().copied().enumerate().collect();
    x.set("natGatewayAddressSet", &addresses, |x, &(k, private)| {
        let eip = t
            .elastic_ips
            .iter()
            .find(|e| e.association == Some(EipAssociation::NatGateway(id, k)));
        if let Some(e) = eip {
            x.leaf("allocationId", ids::id(Kind::ElasticIp, &e.name));
        }
        x.leaf("networkInterfaceId", &eni)
            .leaf("privateIp", private);
        if let Some(e) = eip {
            x.leaf("publicIp", e.address).leaf(
                "associationId",
                association_id(t, &e.name, EipAssociation::NatGateway(id, k)),
            );
        }
        x.leaf("isPrimary", k == 0).leaf("status", "succeeded");
    });
    x.leaf("natGatewayId", ids::id(Kind::NatGateway, &n.name))
        .leaf("state", state)
        .leaf("subnetId", ids::id(Kind::Subnet, &subnet.name))
        .leaf("vpcId", ids::id(Kind::Vpc, &t.vpc(subnet.vpc).name));
    tag_set(x, &ctx.shown_tags(Kind::NatGateway, &n.name));
    let connectivity = match n.connectivity {
        NatConnectivity::Public => "public",
        NatConnectivity::Private => "private",
    };
    x.leaf("connectivityType", connectivity);
}

/// `<clientToken>` and `<natGateway>` (state `pending`) of the NAT gateway `name`.
fn created_xml(ctx: &Ctx<'_>, t: &vpc_config::Topology, name: &str) -> Result<String, ApiError> {
    let i = ids::resolve(t, Kind::NatGateway, name)
        .ok_or_else(|| ApiError::invalid_value("the new NAT gateway was not created"))?;
    let view = Ctx { t, ..*ctx };
    let mut x = Xml::new();
    x.opt("clientToken", ctx.p.str("ClientToken"));
    x.open("natGateway");
    nat_xml(&view, &mut x, i, "pending");
    x.close("natGateway");
    Ok(x.finish())
}

/// `CreateNatGateway`: `SubnetId`, `ConnectivityType` (`public`, `private`),
/// `AllocationId`, `SecondaryAllocationId.N`, `PrivateIpAddress`,
/// `SecondaryPrivateIpAddress.N`, `ClientToken`, `TagSpecification.N` (`natgateway`).
pub fn create(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let p = ctx.p;
    let t = ctx.t;
    let s = ctx.find(Kind::Subnet, p.required("SubnetId")?)?;
    let token = client_token_key(ctx, "CreateNatGateway");
    if let Some(key) = &token
        && let Some(id) = ctx.api.client_token(key)
        && let Some(i) = ids::resolve(t, Kind::NatGateway, &id)
    {
        if t.nat_gateways[i].subnet.index() != s {
            return Err(token_mismatch(p.str("ClientToken").unwrap_or("")));
        }
        let name = t.nat_gateways[i].name.clone();
        return Outcome::read(created_xml(ctx, t, &name)?);
    }
    for unsupported in ["AvailabilityMode", "VpcId", "AvailabilityZoneAddress"] {
        if p.get(unsupported).is_some() {
            return Err(ApiError::invalid_value(format!(
                "vpcd does not support {unsupported}: NAT gateways are zonal, give SubnetId"
            )));
        }
    }
    if p.int("SecondaryPrivateIpAddressCount")?.unwrap_or(0) > 0 {
        return Err(ApiError::invalid_value(
            "vpcd does not support SecondaryPrivateIpAddressCount: give SecondaryPrivateIpAddress.N",
        ));
    }
    let public = match p.str("ConnectivityType").unwrap_or("public") {
        "public" => true,
        "private" => false,
        other => {
            return Err(ApiError::invalid_value(format!(
                "Value ({other}) for parameter connectivityType is invalid. Expected public or private."
            )));
        }
    };
    let mut allocations: Vec<String> = p
        .str("AllocationId")
        .map(str::to_owned)
        .into_iter()
        .collect();
    allocations.extend(p.strings("SecondaryAllocationId"));
    let mut private_ips: Vec<String> = p
        .str("PrivateIpAddress")
        .map(str::to_owned)
        .into_iter()
        .collect();
    private_ips.extend(p.strings("SecondaryPrivateIpAddress"));
    for ip in &private_ips {
        if ip.parse::<Ipv4Addr>().is_err() {
            return Err(ApiError::invalid_value(format!(
                "Value ({ip}) for parameter privateIpAddress is invalid. Expected an IPv4 address."
            )));
        }
    }
    let subnet = &t.subnets[s];
    let mut eips = Vec::new();
    if public {
        if p.str("AllocationId").is_none() {
            return Err(ApiError::missing(
                "The request must contain the parameter AllocationId for a public NAT gateway",
            ));
        }
        if t.vpc_internet_gateway(subnet.vpc).is_none() {
            return Err(ApiError::new(
                "Gateway.NotAttached",
                format!(
                    "Network {} has no Internet gateway attached",
                    ids::id(Kind::Vpc, &t.vpc(subnet.vpc).name)
                ),
            ));
        }
        for id in &allocations {
            let e = &t.elastic_ips[find_allocation(ctx, id)?];
            if e.association.is_some() {
                return Err(ApiError::new(
                    "Resource.AlreadyAssociated",
                    format!("Elastic IP address [{id}] is already associated"),
                ));
            }
            if !eips.contains(&e.address) {
                eips.push(e.address);
            }
        }
    } else if !allocations.is_empty() {
        return Err(ApiError::new(
            "InvalidParameterCombination",
            "A private NAT gateway takes no AllocationId",
        ));
    }
    let tags = ctx.tag_specifications(Kind::NatGateway)?;
    let name = ctx.new_name(Kind::NatGateway, &tags, |_| false);
    let subnet_name = subnet.name.clone();
    let mut new = edit_document(t, |doc| {
        let mut table = toml::Table::new();
        table.insert("name".into(), name.clone().into());
        table.insert("subnet".into(), subnet_name.into());
        if !public {
            table.insert("connectivity".into(), "private".into());
        }
        if !eips.is_empty() {
            let list = eips.iter().map(|a| toml::Value::from(a.to_string()));
            table.insert("elastic_ips".into(), toml::Value::Array(list.collect()));
        }
        if !private_ips.is_empty() {
            let list = private_ips.iter().map(|a| toml::Value::from(a.as_str()));
            table.insert("private_ips".into(), toml::Value::Array(list.collect()));
        }
        array(doc, "nat_gateway").push(toml::Value::Table(table));
    })?;
    set_tags(&mut new, &ids::id(Kind::NatGateway, &name), &tags);
    let new = commit(&new)?;
    let xml = created_xml(ctx, &new, &name)?;
    if let Some(key) = token {
        ctx.api
            .remember_client_token(key, ids::id(Kind::NatGateway, &name));
    }
    Outcome::changed(xml, new)
}

/// `DescribeNatGateways`: `NatGatewayId.N`, `Filter.N`, `MaxResults`, `NextToken`.
pub fn describe(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let indices = ctx.selected(Kind::NatGateway, "NatGatewayId", ctx.t.nat_gateways.len())?;
    let items: Vec<Item<'_>> = indices
        .into_iter()
        .map(|i| Item {
            index: i,
            tags: ctx.shown_tags(Kind::NatGateway, &ctx.t.nat_gateways[i].name),
            ctx,
        })
        .collect();
    super::described(ctx, "natGatewaySet", items, |x, item| {
        nat_xml(ctx, x, item.index, state(ctx, item.index))
    })
}

/// `DeleteNatGateway`: `NatGatewayId`. Deleting a deleted one answers the same.
pub fn delete(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let id = ctx.p.required("NatGatewayId")?;
    let i = ctx.find(Kind::NatGateway, id)?;
    let t = ctx.t;
    let n = &t.nat_gateways[i];
    let mut x = Xml::new();
    x.leaf("natGatewayId", ids::id(Kind::NatGateway, &n.name));
    if n.deleted {
        return Outcome::read(x.finish());
    }
    let mut new = t.clone();
    new.delete_nat_gateway(&n.name)
        .map_err(|e| ApiError::invalid_value(e.to_string()))?;
    Outcome::changed(x.finish(), commit(&new)?)
}
