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
}
