//! `CreateVpnGateway`, `DescribeVpnGateways`, `AttachVpnGateway`, `DetachVpnGateway`,
//! `DeleteVpnGateway`, `CreateCustomerGateway`, `DescribeCustomerGateways`,
//! `DeleteCustomerGateway`, `EnableVgwRoutePropagation`, `DisableVgwRoutePropagation`,
//! `CreateVpnConnection`, `DescribeVpnConnections`, `DeleteVpnConnection`,
//! `CreateVpnConnectionRoute`, `DeleteVpnConnectionRoute` (AWS Site-to-Site VPN).
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
//!
//! A VPN connection (to a virtual private gateway; vpcd has no VPN attachments of
//! transit gateways) is `available` from its creation (AWS passes through `pending`
//! for minutes) and seen by whoever sees its VPN gateway. Its tunnel options not given
//! take the defaults `vpc_config::edit::NewTunnelOptions` documents; a bad one is
//! `InvalidParameterValue`. `vgwTelemetry` is what the daemon observes
//! (`vpc_config::VpnLive`): a tunnel is `UP` while its IPsec SA is up (and, with BGP,
//! its session established), with `acceptedRouteCount` the routes learned over BGP
//! and `statusMessage` `N BGP ROUTES`; else `DOWN`, `IPSEC IS DOWN`, 0 routes.
//! `lastStatusChange` is always the epoch (the API does not see when a tunnel changed;
//! `vpcctl vpn-connections` shows it). `customerGatewayConfiguration` is a short
//! document in the shape of AWS's: per tunnel both sides' outside and inside
//! addresses, BGP ASNs (with BGP), the pre-shared key and lifetimes. Static routes
//! (`CreateVpnConnectionRoute`) need a connection with `StaticRoutesOnly`
//! (`InvalidVpnConnection.InvalidType` otherwise); one it has already is
//! `RouteAlreadyExists`, one it has not `InvalidRoute.NotFound`.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use vpc_config::VPN_TYPE;
use vpc_config::edit::{NewTunnelOptions, VpnEditError};

use super::instances::format_time;
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
        VpnEditError::NotStatic(_) => {
            ApiError::new("InvalidVpnConnection.InvalidType", e.to_string())
        }
        VpnEditError::RouteExists { .. } => ApiError::new("RouteAlreadyExists", e.to_string()),
        VpnEditError::NoRoute { .. } => ApiError::new("InvalidRoute.NotFound", e.to_string()),
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

/// A VPN connection as `DescribeVpnConnections` filters it.
struct ConnectionItem<'c> {
    index: usize,
    tags: Vec<(String, String)>,
    ctx: &'c Ctx<'c>,
}

impl Filterable for ConnectionItem<'_> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        let t = self.ctx.t;
        let c = &t.vpn_connections[self.index];
        let cgw = t.customer_gateway(c.customer_gateway);
        let one = |s: String| Some(vec![s]);
        match name {
            "vpn-connection-id" => one(ids::id(Kind::VpnConnection, &c.name)),
            "state" => one("available".to_owned()),
            "type" => one(VPN_TYPE.to_owned()),
            "customer-gateway-id" => one(ids::id(Kind::CustomerGateway, &cgw.name)),
            "customer-gateway-configuration" => one(customer_gateway_configuration(t, self.index)),
            "vpn-gateway-id" => one(ids::id(
                Kind::VpnGateway,
                &t.vpn_gateway(c.vpn_gateway).name,
            )),
            "transit-gateway-id" => Some(Vec::new()),
            "bgp-asn" => one(cgw.bgp_asn.to_string()),
            "option.static-routes-only" => one(c.static_routes_only.to_string()),
            "route.destination-cidr-block" => {
                Some(c.routes.iter().map(ToString::to_string).collect())
            }
            _ => None,
        }
    }

    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

/// The address `n` after the network address of `cidr` (1: AWS's end of a tunnel,
/// 2: the customer's).
fn inside_address(cidr: Ipv4Net, n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(cidr.network()).saturating_add(n))
}

/// The customer gateway's configuration of connection `i`, in the shape of AWS's
/// `customerGatewayConfiguration` (the XML document, to be escaped as element text):
/// per tunnel, both sides' outside and inside addresses (and BGP ASNs with BGP), IKE
/// with the pre-shared key and phase 1 lifetime, IPsec with the phase 2 lifetime.
fn customer_gateway_configuration(t: &vpc_config::Topology, i: usize) -> String {
    let c = &t.vpn_connections[i];
    let cgw = t.customer_gateway(c.customer_gateway);
    let vgw = t.vpn_gateway(c.vpn_gateway);
    let mut x = Xml::new();
    x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.raw(&format!(
        "<vpn_connection id=\"{}\">",
        ids::id(Kind::VpnConnection, &c.name)
    ));
    x.leaf(
        "customer_gateway_id",
        ids::id(Kind::CustomerGateway, &cgw.name),
    )
    .leaf("vpn_gateway_id", ids::id(Kind::VpnGateway, &vgw.name))
    .leaf("vpn_connection_type", VPN_TYPE);
    for tun in &c.tunnels {
        x.open("ipsec_tunnel");
        let sides = [
            ("customer_gateway", cgw.ip_address, 2, cgw.bgp_asn),
            (
                "vpn_gateway",
                tun.outside_ip_address,
                1,
                vgw.amazon_side_asn,
            ),
        ];
        for (side, outside, n, asn) in sides {
            x.open(side)
                .open("tunnel_outside_address")
                .leaf("ip_address", outside)
                .close("tunnel_outside_address")
                .open("tunnel_inside_address")
                .leaf("ip_address", inside_address(tun.tunnel_inside_cidr, n))
                .leaf("network_mask", tun.tunnel_inside_cidr.netmask())
                .leaf("network_cidr", tun.tunnel_inside_cidr.prefix_len())
                .close("tunnel_inside_address");
            if !c.static_routes_only {
                x.open("bgp")
                    .leaf("asn", asn)
                    .leaf("hold_time", 30)
                    .close("bgp");
            }
            x.close(side);
        }
        x.open("ike")
            .leaf("authentication_protocol", "sha1")
            .leaf("encryption_protocol", "aes-128-cbc")
            .leaf("lifetime", tun.phase1_lifetime_seconds)
            .leaf("perfect_forward_secrecy", "group14")
            .leaf("pre_shared_key", &tun.pre_shared_key)
            .close("ike");
        x.open("ipsec")
            .leaf("protocol", "esp")
            .leaf("authentication_protocol", "hmac-sha1-96")
            .leaf("encryption_protocol", "aes-128-cbc")
            .leaf("lifetime", tun.phase2_lifetime_seconds)
            .leaf("perfect_forward_secrecy", "group14")
            .leaf("mode", "tunnel")
            .open("dead_peer_detection")
            .leaf("delay", 10)
            .leaf("retry", 3)
            .close("dead_peer_detection")
            .close("ipsec");
        x.close("ipsec_tunnel");
    }
    x.close("vpn_connection");
    x.finish()
}

/// The `VpnConnection` structure of connection `i`.
fn connection_xml(ctx: &Ctx<'_>, x: &mut Xml, i: usize) {
    let t = ctx.t;
    let c = &t.vpn_connections[i];
    x.leaf(
        "customerGatewayConfiguration",
        customer_gateway_configuration(t, i),
    )
    .leaf(
        "customerGatewayId",
        ids::id(
            Kind::CustomerGateway,
            &t.customer_gateway(c.customer_gateway).name,
        ),
    )
    .leaf("category", "VPN")
    .leaf("state", "available")
    .leaf("type", VPN_TYPE)
    .leaf("vpnConnectionId", ids::id(Kind::VpnConnection, &c.name))
    .leaf(
        "vpnGatewayId",
        ids::id(Kind::VpnGateway, &t.vpn_gateway(c.vpn_gateway).name),
    );
    x.open("options")
        .leaf("staticRoutesOnly", c.static_routes_only)
        .leaf("tunnelInsideIpVersion", "ipv4");
    x.set("tunnelOptionSet", &c.tunnels, |x, tun| {
        x.leaf("outsideIpAddress", tun.outside_ip_address)
            .leaf("tunnelInsideCidr", tun.tunnel_inside_cidr)
            .leaf("preSharedKey", &tun.pre_shared_key)
            .leaf("phase1LifetimeSeconds", tun.phase1_lifetime_seconds)
            .leaf("phase2LifetimeSeconds", tun.phase2_lifetime_seconds)
            .leaf("dpdTimeoutSeconds", tun.dpd_timeout_seconds);
        x.set("ikeVersionSet", &tun.ike_versions, |x, v| {
            x.leaf("value", v);
        });
    });
    x.close("options");
    x.set("routes", &c.routes, |x, r| {
        x.leaf("destinationCidrBlock", r)
            .leaf("source", "Static")
            .leaf("state", "available");
    });
    tag_set(x, &ctx.shown_tags(Kind::VpnConnection, &c.name));
    x.set("vgwTelemetry", &[0, 1], |x, &k| {
        let up = c.live.up[k];
        let routes = if up { c.live.learned.len() } else { 0 };
        let message = match (up, c.static_routes_only) {
            (false, _) => "IPSEC IS DOWN".to_owned(),
            (true, true) => String::new(),
            (true, false) => format!("{routes} BGP ROUTES"),
        };
        x.leaf("outsideIpAddress", c.tunnels[k].outside_ip_address)
            .leaf("status", if up { "UP" } else { "DOWN" })
            .leaf("lastStatusChange", format_time(0))
            .leaf("statusMessage", message)
            .leaf("acceptedRouteCount", routes);
    });
}

/// A seconds option of a tunnel, if given (else `InvalidParameterValue`).
fn seconds(o: &crate::params::Params, name: &str) -> Result<Option<u32>, ApiError> {
    o.int(name)?
        .map(|n| {
            u32::try_from(n).map_err(|_| {
                ApiError::invalid_value(format!("Value ({n}) for parameter {name} is invalid"))
            })
        })
        .transpose()
}

/// `Options.TunnelOptions.N`: `TunnelInsideCidr`, `PreSharedKey`,
/// `DPDTimeoutSeconds`, `Phase1LifetimeSeconds`, `Phase2LifetimeSeconds`,
/// `IKEVersion.N.Value` (the SDKs' name; `IKEVersions.N.Value` too).
fn tunnel_options(ctx: &Ctx<'_>) -> Result<Vec<NewTunnelOptions>, ApiError> {
    let list = ctx.p.list("Options.TunnelOptions");
    if list.len() > 2 {
        return Err(ApiError::invalid_value(format!(
            "A VPN connection has two tunnels; {} tunnel options were given",
            list.len()
        )));
    }
    list.into_iter()
        .map(|o| {
            let tunnel_inside_cidr = o
                .str("TunnelInsideCidr")
                .map(|s| {
                    s.parse::<Ipv4Net>().map_err(|_| {
                        ApiError::invalid_value(format!(
                            "Value ({s}) for parameter TunnelInsideCidr is invalid"
                        ))
                    })
                })
                .transpose()?;
            let ike_versions = o
                .list("IKEVersion")
                .into_iter()
                .chain(o.list("IKEVersions"))
                .filter_map(|v| v.str("Value").map(str::to_owned))
                .collect();
            Ok(NewTunnelOptions {
                tunnel_inside_cidr,
                pre_shared_key: o.str("PreSharedKey").map(str::to_owned),
                ike_versions,
                dpd_timeout_seconds: seconds(o, "DPDTimeoutSeconds")?,
                phase1_lifetime_seconds: seconds(o, "Phase1LifetimeSeconds")?,
                phase2_lifetime_seconds: seconds(o, "Phase2LifetimeSeconds")?,
            })
        })
        .collect()
}

/// `CreateVpnConnection`: `Type`, `CustomerGatewayId`, `VpnGatewayId`,
/// `Options.StaticRoutesOnly`, `Options.TunnelInsideIpVersion` (`ipv4`),
/// `Options.TunnelOptions.N`, `TagSpecification.N` (`vpn-connection`).
pub fn create_vpn_connection(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    vpn_type(ctx)?;
    if ctx.p.str("TransitGatewayId").is_some() {
        return Err(ApiError::invalid_value(
            "vpcd joins VPN connections to virtual private gateways only: give VpnGatewayId",
        ));
    }
    let t = ctx.t;
    let cgw = ctx.find(Kind::CustomerGateway, ctx.p.required("CustomerGatewayId")?)?;
    let vgw = ctx.find(Kind::VpnGateway, ctx.p.required("VpnGatewayId")?)?;
    let static_only = ctx.p.bool("Options.StaticRoutesOnly")?.unwrap_or(false);
    if let Some(v) = ctx
        .p
        .str("Options.TunnelInsideIpVersion")
        .filter(|v| *v != "ipv4")
    {
        return Err(ApiError::invalid_value(format!(
            "Value ({v}) for parameter TunnelInsideIpVersion is invalid: vpcd's tunnels are ipv4"
        )));
    }
    let tunnels = tunnel_options(ctx)?;
    let tags = ctx.tag_specifications(Kind::VpnConnection)?;
    let name = ctx.new_name(Kind::VpnConnection, &tags, |_| false);
    let mut new = t.clone();
    new.create_vpn_connection(
        &name,
        &t.customer_gateways[cgw].name,
        &t.vpn_gateways[vgw].name,
        static_only,
        &tunnels,
    )
    .map_err(edit_error)?;
    set_tags(&mut new, &ids::id(Kind::VpnConnection, &name), &tags);
    let new = commit(&new)?;
    let i = ids::resolve(&new, Kind::VpnConnection, &name)
        .ok_or_else(|| ApiError::invalid_value("the new VPN connection was not created"))?;
    let view = Ctx { t: &new, ..*ctx };
    let mut x = Xml::new();
    x.open("vpnConnection");
    connection_xml(&view, &mut x, i);
    x.close("vpnConnection");
    Outcome::changed(x.finish(), new)
}

/// `DescribeVpnConnections`: `VpnConnectionId.N`, `Filter.N`.
pub fn describe_vpn_connections(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let t = ctx.t;
    let indices = ctx.selected(
        Kind::VpnConnection,
        "VpnConnectionId",
        t.vpn_connections.len(),
    )?;
    let items: Vec<ConnectionItem<'_>> = indices
        .into_iter()
        .map(|i| ConnectionItem {
            index: i,
            tags: ctx.shown_tags(Kind::VpnConnection, &t.vpn_connections[i].name),
            ctx,
        })
        .collect();
    super::described(ctx, "vpnConnectionSet", items, |x, item| {
        connection_xml(ctx, x, item.index)
    })
}

/// The name of the connection `VpnConnectionId` names.
fn connection_name(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let c = ctx.find(Kind::VpnConnection, ctx.p.required("VpnConnectionId")?)?;
    Ok(ctx.t.vpn_connections[c].name.clone())
}

/// `DeleteVpnConnection`: `VpnConnectionId`.
pub fn delete_vpn_connection(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let name = connection_name(ctx)?;
    let mut new = ctx.t.clone();
    new.delete_vpn_connection(&name).map_err(edit_error)?;
    drop_tags(&mut new, &[ids::id(Kind::VpnConnection, &name)]);
    Outcome::done(commit(&new)?)
}

/// The connection and `DestinationCidrBlock` of a static route call.
fn connection_and_route(ctx: &Ctx<'_>) -> Result<(String, Ipv4Net), ApiError> {
    let name = connection_name(ctx)?;
    let text = ctx.p.required("DestinationCidrBlock")?;
    let cidr = text.parse::<Ipv4Net>().map_err(|_| {
        ApiError::invalid_value(format!(
            "Value ({text}) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block."
        ))
    })?;
    Ok((name, cidr))
}

/// `CreateVpnConnectionRoute`: `VpnConnectionId`, `DestinationCidrBlock`.
pub fn create_vpn_connection_route(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (name, cidr) = connection_and_route(ctx)?;
    let mut new = ctx.t.clone();
    new.create_vpn_connection_route(&name, cidr)
        .map_err(edit_error)?;
    Outcome::done(commit(&new)?)
}

/// `DeleteVpnConnectionRoute`: `VpnConnectionId`, `DestinationCidrBlock`.
pub fn delete_vpn_connection_route(ctx: &Ctx<'_>) -> Result<Outcome, ApiError> {
    let (name, cidr) = connection_and_route(ctx)?;
    let mut new = ctx.t.clone();
    new.delete_vpn_connection_route(&name, cidr)
        .map_err(edit_error)?;
    Outcome::done(commit(&new)?)
}
