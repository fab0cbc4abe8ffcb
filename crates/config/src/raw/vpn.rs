//! The raw `[[vpn_gateway]]` and `[[customer_gateway]]` tables (see `crate::vpn`),
//! keys named after `CreateVpnGateway`'s and `CreateCustomerGateway`'s parameters.

use serde::Deserialize;
use toml::Spanned;

/// `[[vpn_gateway]]` (`CreateVpnGateway`, and `AttachVpnGateway` when `vpc` is given).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVpnGateway {
    pub name: Spanned<String>,
    /// `ipsec.1` (the only type); omitted: `ipsec.1`.
    #[serde(rename = "type", default)]
    pub kind: Option<Spanned<String>>,
    /// `AmazonSideAsn`; omitted: 64512.
    #[serde(default)]
    pub amazon_side_asn: Option<Spanned<i64>>,
    /// The VPC it is attached to; omitted: detached.
    #[serde(default)]
    pub vpc: Option<Spanned<String>>,
    /// `AvailabilityZone`: kept and shown, otherwise ignored (as AWS does).
    #[serde(default)]
    pub availability_zone: Option<Spanned<String>>,
}

/// `[[customer_gateway]]` (`CreateCustomerGateway`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCustomerGateway {
    pub name: Spanned<String>,
    /// `IpAddress`: the device's public address.
    pub ip_address: Spanned<String>,
    /// `BgpAsn`; omitted: 65000.
    #[serde(default)]
    pub bgp_asn: Option<Spanned<i64>>,
    /// `ipsec.1` (the only type); omitted: `ipsec.1`.
    #[serde(rename = "type", default)]
    pub kind: Option<Spanned<String>>,
    /// `DeviceName`.
    #[serde(default)]
    pub device_name: Option<Spanned<String>>,
    /// vpcd's own: the site's LAN, which its BGP speaker advertises.
    #[serde(default)]
    pub site_cidrs: Vec<Spanned<String>>,
    /// vpcd's own: addresses on the site namespace's loopback.
    #[serde(default)]
    pub site_addresses: Vec<Spanned<String>>,
}

/// `[[vpn_connection]]` (`CreateVpnConnection`; `routes`: `CreateVpnConnectionRoute`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVpnConnection {
    pub name: Spanned<String>,
    /// `ipsec.1` (the only type); omitted: `ipsec.1`.
    #[serde(rename = "type", default)]
    pub kind: Option<Spanned<String>>,
    /// `CustomerGatewayId`.
    pub customer_gateway: Spanned<String>,
    /// `VpnGatewayId`.
    pub vpn_gateway: Spanned<String>,
    /// `Options.StaticRoutesOnly`; omitted: false (BGP).
    #[serde(default)]
    pub static_routes_only: Option<Spanned<bool>>,
    /// The connection's static routes (only with `static_routes_only`).
    #[serde(default)]
    pub routes: Vec<Spanned<String>>,
    /// `Options.TunnelOptions`: at most two, for tunnel 1 and 2.
    #[serde(default)]
    pub tunnel_options: Vec<RawTunnelOptions>,
}

/// One entry of `tunnel_options`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTunnelOptions {
    /// `TunnelInsideCidr`.
    #[serde(default)]
    pub tunnel_inside_cidr: Option<Spanned<String>>,
    /// `PreSharedKey`.
    #[serde(default)]
    pub pre_shared_key: Option<Spanned<String>>,
    /// vpcd's own: the AWS side's outside address (omitted: assigned).
    #[serde(default)]
    pub outside_ip_address: Option<Spanned<String>>,
    /// `IKEVersions`.
    #[serde(default)]
    pub ike_versions: Option<Vec<Spanned<String>>>,
    /// `DPDTimeoutSeconds`.
    #[serde(default)]
    pub dpd_timeout_seconds: Option<Spanned<i64>>,
    /// `Phase1LifetimeSeconds`.
    #[serde(default)]
    pub phase1_lifetime_seconds: Option<Spanned<i64>>,
    /// `Phase2LifetimeSeconds`.
    #[serde(default)]
    pub phase2_lifetime_seconds: Option<Spanned<i64>>,
}
