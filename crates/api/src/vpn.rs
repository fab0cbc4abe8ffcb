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

/// VPN connections and their tunnels (`vpcctl vpn-connections`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpnConnectionsReport {
    /// In configuration order.
    pub vpn_connections: Vec<VpnConnectionReport>,
}

/// One VPN connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpnConnectionReport {
    /// Name.
    pub name: String,
    /// Its EC2 ID (`vpn-...`).
    pub id: String,
    /// `available`.
    pub state: String,
    /// Its customer gateway.
    pub customer_gateway: String,
    /// Its VPN gateway.
    pub vpn_gateway: String,
    /// `bgp` or `static`.
    pub routing: String,
    /// The routes the gateway has from it (static ones, or learned over BGP).
    pub routes: Vec<String>,
    /// Its two tunnels (AWS's `VgwTelemetry`).
    pub tunnels: Vec<VpnTunnelReport>,
}

/// One tunnel of a VPN connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpnTunnelReport {
    /// The AWS side's outside address.
    pub outside_ip_address: String,
    /// Its inside /30.
    pub tunnel_inside_cidr: String,
    /// `UP` or `DOWN`.
    pub status: String,
    /// Why it is down, or how many BGP routes it carries.
    pub status_message: String,
    /// Routes accepted over its BGP session.
    pub accepted_route_count: u32,
    /// When its status last changed (Unix seconds; 0: never observed).
    pub last_status_change: u64,
}

/// The customer side's configuration files (`vpcctl vpn-config`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpnConfigReport {
    /// The files: path relative to the directory asked for, and text.
    pub files: Vec<(String, String)>,
}
