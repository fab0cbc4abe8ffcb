//! Virtual private gateways and customer gateways, the two ends of AWS Site-to-Site
//! VPN (AWS: Site-to-Site VPN user guide, "Virtual private gateway", "Customer
//! gateway"; EC2 API `CreateVpnGateway`, `CreateCustomerGateway`,
//! `EnableVgwRoutePropagation`).
//!
//! - A [`VpnGateway`] (`[[vpn_gateway]]`, `vgw-...`) has type `ipsec.1` and an Amazon
//!   side ASN (default 64512): a private ASN (64512-65534 or 4200000000-4294967294)
//!   or a public one; AWS refuses the reserved and documentation ASNs. It is attached
//!   to at most one VPC, and a VPC has at most one attached VPN gateway. Its region is
//!   its VPC's (the default region while detached).
//! - A [`CustomerGateway`] (`[[customer_gateway]]`, `cgw-...`) describes the
//!   customer's device: its public address on the internet (a documentation address
//!   of the emulated internet, used by nothing else), its BGP ASN (default 65000;
//!   1-4294967294, except the ASNs AWS reserves: 7224, 9059, 10124, 17943) and an
//!   optional device name.
//! - A route table may route to a VPN gateway attached to its VPC
//!   ([`crate::RouteTarget::VpnGateway`]), and may propagate its routes
//!   (`propagating_vgws`, only gateways attached to its VPC). There are no VPN
//!   connections yet, so nothing is propagated and a packet routed to the gateway is
//!   dropped, as AWS drops traffic to a gateway without a tunnel up.

use std::net::Ipv4Addr;

use crate::topology::id;
use crate::topology::*;

id!(
    /// Index of a virtual private gateway in [`Topology::vpn_gateways`].
    VpnGatewayId
);
id!(
    /// Index of a customer gateway in [`Topology::customer_gateways`].
    CustomerGatewayId
);

/// The only VPN type AWS has (`ipsec.1`).
pub const VPN_TYPE: &str = "ipsec.1";
/// AWS's default Amazon side ASN of a virtual private gateway.
pub const DEFAULT_AMAZON_SIDE_ASN: u32 = 64512;
/// vpcd's default BGP ASN of a customer gateway (AWS's console suggests 65000).
pub const DEFAULT_BGP_ASN: u32 = 65000;
/// ASNs AWS reserves and refuses for customer gateways (each in one region: 7224
/// us-east-1, 9059 eu-west-1, 10124 ap-northeast-1, 17943 ap-southeast-1; vpcd refuses
/// them everywhere, a customer gateway having no region of its own).
pub const RESERVED_CUSTOMER_ASNS: [u32; 4] = [7224, 9059, 10124, 17943];

/// A virtual private gateway (`CreateVpnGateway`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpnGateway {
    /// Unique name.
    pub name: String,
    /// Its Amazon side ASN ([`amazon_side_asn_ok`]).
    pub amazon_side_asn: u32,
    /// The VPC it is attached to; `None` while detached. A VPC has at most one.
    pub vpc: Option<VpcId>,
    /// The availability zone given at creation, kept and shown (AWS ignores it).
    pub availability_zone: Option<String>,
}

/// A customer gateway (`CreateCustomerGateway`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerGateway {
    /// Unique name.
    pub name: String,
    /// The device's public address ([`crate::addressing::is_public_address`]).
    pub ip_address: Ipv4Addr,
    /// Its BGP ASN ([`bgp_asn_ok`]).
    pub bgp_asn: u32,
    /// The device's name, if given.
    pub device_name: Option<String>,
}

/// Whether AWS accepts `asn` as a virtual private gateway's Amazon side ASN: a private
/// ASN (64512-65534, 4200000000-4294967294) or a public one (not reserved: 0, 23456
/// `AS_TRANS`, the documentation ASNs 64496-64511 and 65536-65551, 65535, 65552-131071,
/// 4294967295).
pub fn amazon_side_asn_ok(asn: u32) -> bool {
    matches!(asn, 64512..=65534 | 4_200_000_000..=4_294_967_294)
        || (matches!(asn, 1..=64495 | 131_072..=4_199_999_999) && asn != 23456)
}

/// Whether AWS accepts `asn` as a customer gateway's BGP ASN: 1-4294967294 except
/// [`RESERVED_CUSTOMER_ASNS`].
pub fn bgp_asn_ok(asn: u32) -> bool {
    (1..=4_294_967_294).contains(&asn) && !RESERVED_CUSTOMER_ASNS.contains(&asn)
}

impl VpnGateway {
    /// Its region: its VPC's, the default region while detached.
    pub fn region<'t>(&self, t: &'t Topology) -> &'t str {
        match self.vpc {
            Some(v) => &t.vpc(v).region,
            None => crate::DEFAULT_REGION,
        }
    }
}

impl Topology {
    /// The VPN gateway with id `id`.
    pub fn vpn_gateway(&self, id: VpnGatewayId) -> &VpnGateway {
        &self.vpn_gateways[id.index()]
    }

    /// The customer gateway with id `id`.
    pub fn customer_gateway(&self, id: CustomerGatewayId) -> &CustomerGateway {
        &self.customer_gateways[id.index()]
    }

    /// The VPN gateway named `name`.
    pub fn find_vpn_gateway(&self, name: &str) -> Option<VpnGatewayId> {
        self.vpn_gateways
            .iter()
            .position(|g| g.name == name)
            .map(|i| VpnGatewayId(i as u32))
    }

    /// The customer gateway named `name`.
    pub fn find_customer_gateway(&self, name: &str) -> Option<CustomerGatewayId> {
        self.customer_gateways
            .iter()
            .position(|g| g.name == name)
            .map(|i| CustomerGatewayId(i as u32))
    }

    /// The VPN gateway attached to `vpc`, if any.
    pub fn vpc_vpn_gateway(&self, vpc: VpcId) -> Option<VpnGatewayId> {
        self.vpn_gateways
            .iter()
            .position(|g| g.vpc == Some(vpc))
            .map(|i| VpnGatewayId(i as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asn_ranges_are_awss() {
        for ok in [64512, 65534, 4_200_000_000, 4_294_967_294, 1, 7224, 131_072] {
            assert!(amazon_side_asn_ok(ok), "{ok}");
        }
        for bad in [0, 23456, 64496, 64511, 65535, 65536, 131_071, 4_294_967_295] {
            assert!(!amazon_side_asn_ok(bad), "{bad}");
        }
        for ok in [1, 65000, 64512, 4_294_967_294, 23456] {
            assert!(bgp_asn_ok(ok), "{ok}");
        }
        for bad in [0, 7224, 9059, 10124, 17943, 4_294_967_295] {
            assert!(!bgp_asn_ok(bad), "{bad}");
        }
    }
}
