//! `CreateVpnGateway`, `DescribeVpnGateways`, `AttachVpnGateway`, `DetachVpnGateway`,
//! `DeleteVpnGateway`, `CreateCustomerGateway`, `DescribeCustomerGateways`,
//! `DeleteCustomerGateway`, `EnableVgwRoutePropagation`, `DisableVgwRoutePropagation`
//! (AWS Site-to-Site VPN's gateways; VPN connections come later).
//!
//! Every change is one of vpc-config's checked edits (`vpc_config::VpnEditError`),
//! mapped to AWS's error codes: a VPC with a VPN gateway refuses another
//! (`VpnGatewayAttachmentLimitExceeded`), a gateway attached elsewhere refuses an
//! attachment (`InvalidVpnGatewayState`), detaching a gateway not attached to that VPC
//! is `InvalidVpnGatewayAttachment.NotFound`, deleting an attached gateway is
//! `IncorrectState` (and one routes still name is `DependencyViolation`: the
//! configuration names the gateway in them), propagation from a gateway not attached
//! to the table's VPC is `Gateway.NotAttached`. A gateway is `available` from its
//! creation (AWS passes through `pending` in seconds), its attachment `attached`. A
//! detached VPN gateway belongs to no VPC, so every caller sees it, like a customer
//! gateway. `CreateCustomerGateway` with the address and ASN of an existing customer
//! gateway answers that gateway, as AWS does; another ASN at a used address is
//! refused (vpcd keeps each public address to one owner).

use std::net::Ipv4Addr;

use vpc_config::VPN_TYPE;
use vpc_config::edit::VpnEditError;

use super::{Ctx, Outcome, commit, drop_tags, set_tags, tag_set};
use crate::error::ApiError;
use crate::filter::Filterable;
use crate::ids::{self, Kind};
use crate::xml::Xml;

/// A VPN gateway as `DescribeVpnGateways` filters it.
struct VgwItem<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for VgwItem<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.ctx.t;
        let g = &t.vpn_gateways[self.index];
        let one = |s: String| Some(vec![s]);
        match name {
            "vpn-gateway-id" => one(ids::id(Kind::VpnGateway, &g.name)),
            "state" => one("available".to_owned()),
            "type" => one(VPN_TYPE.to_owned()),
            "availability-zone" => Some(g.availability_zone.iter().cloned().collect()),
            "amazon-side-asn" => one(g.amazon_side_asn.to_string()),
            "attachment.state" => Some(g.vpc.iter().map(|_| "attached".to_owned()).collect()),
            "attachment.vpc-id" => Some(
                g.vpc
                    .iter()
                    .map(|v| ids::id(Kind::Vpc, &t.vpc(*v).name))
                    .collect(),
            ),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// The `VpnGateway` structure of gateway `i`.
fn vgw_xml(ctx: &Ctx<'_>, x: &mut Xml, i: usize) {
    let t = ctx.t;
    let g = &t.vpn_gateways[i];
    x.leaf("vpnGatewayId", ids::id(Kind::VpnGateway, &g.name))
        .leaf("state", "available")
        .leaf("type", VPN_TYPE);
    x.opt("availabilityZone", g.availability_zone.as_deref());
    let attachments: Vec<String> = g
        .vpc
        .iter()
        .map(|v| ids::id(Kind::Vpc, &t.vpc(*v).name))
        .collect();
    x.set("attachments", &attachments, |x, v| {
        x.leaf("vpcId", v).leaf("state", "attached");
    });
    x.leaf("amazonSideAsn", g.amazon_side_asn);
    tag_set(x, &ctx.shown_tags(Kind::VpnGateway, &g.name));
}

/// AWS's answer to a refused edit.
fn edit_error(e: VpnEditError) -> ApiError {
    match &e {
        VpnEditError::VpcHasVpnGateway { .. } => {
            ApiError::new("VpnGatewayAttachmentLimitExceeded", e.to_string())
        }
        VpnEditError::Attached { .. } => ApiError::new("InvalidVpnGatewayState", e.to_string()),
        VpnEditError::NotAttached(_) => {
            ApiError::new("InvalidVpnGatewayAttachment.NotFound", e.to_string())
        }
        VpnEditError::InUse { why, .. } if why.starts_with("it is attached") => {
            ApiError::new("IncorrectState", format!("The VPN gateway is in use: {e}"))
        }
        VpnEditError::InUse { .. } => ApiError::dependency(e.to_string()),
        _ => ApiError::invalid_value(e.to_string()),
    }
}

/// `Type`: required, `ipsec.1`.
fn vpn_type(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    let ty = ctx.p.required("Type")?;
    if ty != VPN_TYPE {
        return Err(ApiError::invalid_value(format!(
            "Value ({ty}) for parameter type is invalid. Valid value: {VPN_TYPE}"
        )));
    }
    Ok(())
}

/// An ASN parameter, if given, as a `u32` (else `InvalidParameterValue`).
fn asn(ctx: &Ctx<'_>, name: &str) -> Result<Option<u32>, ApiError> {
    ctx.p
        .int(name)?
        .map(|n| {
            u32::try_from(n)
                .map_err(|_| ApiError::invalid_value(format!("Value ({n}) for {name} is invalid")))
        })
        .transpose()
}

/// `CreateVpnGateway`: `Type`, `AmazonSideAsn`, `AvailabilityZone`,
/// `TagSpecification.N` (`vpn-gateway`).
pub fn create_vpn_gateway(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    vpn_type(ctx)?;
    let asn = asn(ctx, "AmazonSideAsn")?;
    let tags = ctx.tag_specifications(Kind::VpnGateway)?;
    let name = ctx.new_name(Kind::VpnGateway, &tags, |_| false);
    let mut new = ctx.t.clone();
    new.create_vpn_gateway(&name, asn, ctx.p.str("AvailabilityZone"))
        .map_err(edit_error)?;
    set_tags(&mut new, &ids::id(Kind::VpnGateway, &name), &tags);
    let new = commit(&new)?;
    let i = ids::resolve(&new, Kind::VpnGateway, &name)
        .ok_or_else(|| ApiError::invalid_value("the new VPN gateway was not created"))?;
    let view = Ctx { t: &new, ..*ctx };
    let mut x = Xml::new();
    x.open("vpnGateway");
    vgw_xml(&view, &mut x, i);
    x.close("vpnGateway");
    Outcome::changed(x.finish(), new)
}

/// `DescribeVpnGateways`: `VpnGatewayId.N`, `Filter.N`.
pub fn describe_vpn_gateways(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let indices = ctx.selected(Kind::VpnGateway, "VpnGatewayId", t.vpn_gateways.len())?;
    let items: Vec<VgwItem<'_>> = indices
        .into_iter()
        .map(|i| VgwItem {
            index: i,
            tags: ctx.shown_tags(Kind::VpnGateway, &t.vpn_gateways[i].name),
            ctx,
        })
        .collect();
    super::described(ctx, "vpnGatewaySet", items, |x, item| {
        vgw_xml(ctx, x, item.index)
    })
}

/// The gateway and VPC of `VpnGatewayId` and `VpcId`, by name.
fn gateway_and_vpc(ctx: &Ctx<'_>) -> Result<(String, String), ApiError> {
    let g = ctx.find(Kind::VpnGateway, ctx.p.required("VpnGatewayId")?)?;
    let v = ctx.find(Kind::Vpc, ctx.p.required("VpcId")?)?;
    Ok((
        ctx.t.vpn_gateways[g].name.clone(),
        ctx.t.vpcs[v].name.clone(),
    ))
}

/// `AttachVpnGateway`: `VpnGatewayId`, `VpcId`.
pub fn attach_vpn_gateway(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (g, v) = gateway_and_vpc(ctx)?;
    let mut new = ctx.t.clone();
    new.attach_vpn_gateway(&g, &v).map_err(edit_error)?;
    let mut x = Xml::new();
    x.open("attachment")
        .leaf("vpcId", ids::id(Kind::Vpc, &v))
        .leaf("state", "attached")
        .close("attachment");
    Outcome::changed(x.finish(), commit(&new)?)
}

/// `DetachVpnGateway`: `VpnGatewayId`, `VpcId` (the VPC it is attached to).
pub fn detach_vpn_gateway(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (g, v) = gateway_and_vpc(ctx)?;
    let mut new = ctx.t.clone();
    new.detach_vpn_gateway(&g, &v).map_err(edit_error)?;
    Outcome::done(commit(&new)?)
}

/// `DeleteVpnGateway`: `VpnGatewayId`.
pub fn delete_vpn_gateway(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let g = ctx.find(Kind::VpnGateway, ctx.p.required("VpnGatewayId")?)?;
    let name = ctx.t.vpn_gateways[g].name.clone();
    let mut new = ctx.t.clone();
    new.delete_vpn_gateway(&name).map_err(edit_error)?;
    drop_tags(&mut new, &[ids::id(Kind::VpnGateway, &name)]);
    Outcome::done(commit(&new)?)
}

/// A customer gateway as `DescribeCustomerGateways` filters it.
struct CgwItem<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for CgwItem<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let g = &self.ctx.t.customer_gateways[self.index];
        let one = |s: String| Some(vec![s]);
        match name {
            "customer-gateway-id" => one(ids::id(Kind::CustomerGateway, &g.name)),
            "bgp-asn" => one(g.bgp_asn.to_string()),
            "ip-address" => one(g.ip_address.to_string()),
            "state" => one("available".to_owned()),
            "type" => one(VPN_TYPE.to_owned()),
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// The `CustomerGateway` structure of gateway `i`.
fn cgw_xml(ctx: &Ctx<'_>, x: &mut Xml, i: usize) {
    let g = &ctx.t.customer_gateways[i];
    x.leaf("customerGatewayId", ids::id(Kind::CustomerGateway, &g.name))
        .leaf("state", "available")
        .leaf("type", VPN_TYPE)
        .leaf("ipAddress", g.ip_address)
        .leaf("bgpAsn", g.bgp_asn);
    x.opt("deviceName", g.device_name.as_deref());
    tag_set(x, &ctx.shown_tags(Kind::CustomerGateway, &g.name));
}

/// `CreateCustomerGateway`: `Type`, `IpAddress` (or the older `PublicIp`), `BgpAsn`
/// (default 65000), `DeviceName`, `TagSpecification.N` (`customer-gateway`).
pub fn create_customer_gateway(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    vpn_type(ctx)?;
    let text = ctx
        .p
        .str("IpAddress")
        .or_else(|| ctx.p.str("PublicIp"))
        .ok_or_else(|| ApiError::missing("The request must contain the parameter IpAddress"))?;
    let ip: Ipv4Addr = text.parse().map_err(|_| {
        ApiError::invalid_value(format!("Value ({text}) for parameter ipAddress is invalid"))
    })?;
    let asn = asn(ctx, "BgpAsn")?;
    // AWS: the same address, ASN and type as an existing gateway answer that gateway.
    let same = ctx.t.customer_gateways.iter().position(|g| {
        g.ip_address == ip && g.bgp_asn == asn.unwrap_or(vpc_config::DEFAULT_BGP_ASN)
    });
    if let Some(i) = same {
        let mut x = Xml::new();
        x.open("customerGateway");
        cgw_xml(ctx, &mut x, i);
        x.close("customerGateway");
        return Outcome::read(x.finish());
    }
    let tags = ctx.tag_specifications(Kind::CustomerGateway)?;
    let name = ctx.new_name(Kind::CustomerGateway, &tags, |_| false);
    let mut new = ctx.t.clone();
    new.create_customer_gateway(&name, ip, asn, ctx.p.str("DeviceName"))
        .map_err(edit_error)?;
    set_tags(&mut new, &ids::id(Kind::CustomerGateway, &name), &tags);
    let new = commit(&new)?;
    let i = ids::resolve(&new, Kind::CustomerGateway, &name)
        .ok_or_else(|| ApiError::invalid_value("the new customer gateway was not created"))?;
    let view = Ctx { t: &new, ..*ctx };
    let mut x = Xml::new();
    x.open("customerGateway");
    cgw_xml(&view, &mut x, i);
    x.close("customerGateway");
    Outcome::changed(x.finish(), new)
}

/// `DescribeCustomerGateways`: `CustomerGatewayId.N`, `Filter.N`.
pub fn describe_customer_gateways(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let indices = ctx.selected(
        Kind::CustomerGateway,
        "CustomerGatewayId",
        t.customer_gateways.len(),
    )?;
    let items: Vec<CgwItem<'_>> = indices
        .into_iter()
        .map(|i| CgwItem {
            index: i,
            tags: ctx.shown_tags(Kind::CustomerGateway, &t.customer_gateways[i].name),
            ctx,
        })
        .collect();
    super::described(ctx, "customerGatewaySet", items, |x, item| {
        cgw_xml(ctx, x, item.index)
    })
}

/// `DeleteCustomerGateway`: `CustomerGatewayId`.
pub fn delete_customer_gateway(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let g = ctx.find(Kind::CustomerGateway, ctx.p.required("CustomerGatewayId")?)?;
    let name = ctx.t.customer_gateways[g].name.clone();
    let mut new = ctx.t.clone();
    new.delete_customer_gateway(&name).map_err(edit_error)?;
    drop_tags(&mut new, &[ids::id(Kind::CustomerGateway, &name)]);
    Outcome::done(commit(&new)?)
}

/// The route table and VPN gateway of `RouteTableId` and `GatewayId`, by name.
fn table_and_gateway(ctx: &Ctx<'_>) -> Result<(String, String, usize), ApiError> {
    let r = ctx.find(Kind::RouteTable, ctx.p.required("RouteTableId")?)?;
    let g = ctx.find(Kind::VpnGateway, ctx.p.required("GatewayId")?)?;
    Ok((
        ctx.t.route_tables[r].name.clone(),
        ctx.t.vpn_gateways[g].name.clone(),
        r,
    ))
}

/// `EnableVgwRoutePropagation`: `RouteTableId`, `GatewayId` (a VPN gateway attached to
/// the table's VPC).
pub fn enable_propagation(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (table, vgw, r) = table_and_gateway(ctx)?;
    let t = ctx.t;
    let g = t.find_vpn_gateway(&vgw).map(|g| t.vpn_gateway(g).vpc);
    if g != Some(Some(t.route_tables[r].vpc)) {
        return Err(ApiError::new(
            "Gateway.NotAttached",
            format!(
                "resource {} is not attached to network {}",
                ids::id(Kind::VpnGateway, &vgw),
                ids::id(Kind::Vpc, &t.vpc(t.route_tables[r].vpc).name)
            ),
        ));
    }
    let mut new = t.clone();
    new.enable_vgw_route_propagation(&table, &vgw)
        .map_err(edit_error)?;
    Outcome::done(commit(&new)?)
}

/// `DisableVgwRoutePropagation`: `RouteTableId`, `GatewayId`.
pub fn disable_propagation(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (table, vgw, _) = table_and_gateway(ctx)?;
    let mut new = ctx.t.clone();
    new.disable_vgw_route_propagation(&table, &vgw)
        .map_err(edit_error)?;
    Outcome::done(commit(&new)?)
}
