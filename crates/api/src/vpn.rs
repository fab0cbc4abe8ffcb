//! What `vpcctl describe-vpn-gateways` and `describe-customer-gateways` are answered
//! (docs/vpn.md): AWS Site-to-Site VPN's virtual private and customer gateways.

use serde::{Deserialize, Serialize};

/// Virtual private gateways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpnGatewaysReport {
    /// In configuration order.
    pub vpn_gateways: Vec<VpnGatewayReport>,
}

/// One virtual private gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpnGatewayReport {
    /// Name.
    pub name: String,
    /// Its EC2 ID (`vgw-...`).
    pub id: String,
    /// `available`.
    pub state: String,
    /// `ipsec.1`.
    pub vpn_type: String,
    /// Its Amazon side ASN.
    pub amazon_side_asn: u32,
    /// The VPC it is attached to, if any.
    pub vpc: Option<String>,
    /// The availability zone given at creation, if any.
    pub availability_zone: Option<String>,
    /// The route tables that propagate its routes.
    pub propagating_route_tables: Vec<String>,
    /// The route tables with a route to it.
    pub routed_from: Vec<String>,
}

/// Customer gateways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerGatewaysReport {
    /// In configuration order.
    pub customer_gateways: Vec<CustomerGatewayReport>,
}

/// One customer gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerGatewayReport {
    /// Name.
    pub name: String,
    /// Its EC2 ID (`cgw-...`).
    pub id: String,
    /// `available`.
    pub state: String,
    /// `ipsec.1`.
    pub vpn_type: String,
    /// The device's public address.
    pub ip_address: String,
    /// Its BGP ASN.
    pub bgp_asn: u32,
    /// The device's name, if given.
    pub device_name: Option<String>,
}
