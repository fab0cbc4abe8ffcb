//! Site-to-site VPN for vpcd (docs/vpn.md): what the two sides of an AWS VPN
//! connection run, and how vpcd talks to it.
//!
//! - [`render`]: the configuration files of strongSwan's charon (one per tunnel,
//!   `kernel-libipsec`), BIRD and FRR for the AWS side and the customer side of a VPN
//!   connection, from a [`Connection`];
//! - [`vici`]: a client of charon's control socket (VICI);
//! - [`enfy`]: charon's error-notify socket (why a tunnel is down);
//! - [`bird`]: a client of BIRD's control socket (BGP sessions and learned routes).
//!
//! No I/O happens in [`render`]; the clients are blocking and meant for a thread of
//! their own.

pub mod bird;
pub mod enfy;
pub mod render;
pub mod vici;

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// One tunnel of a VPN connection, as both sides need to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tunnel {
    /// The AWS side's outside address (on the emulated internet).
    pub outside_ip: Ipv4Addr,
    /// The inside /30 (169.254.0.0/16): the AWS side has its first host address, the
    /// customer its second.
    pub inside_cidr: Ipv4Net,
    /// The pre-shared key.
    pub pre_shared_key: String,
    /// IKE versions accepted (`ikev1`, `ikev2`); the customer side uses the last.
    pub ike_versions: Vec<IkeVersion>,
    /// Dead-peer detection: seconds of silence before the AWS side declares the peer
    /// dead (AWS: 30; DPD messages every 10 s).
    pub dpd_timeout_seconds: u32,
    /// Phase 1 lifetime in seconds (AWS: 28800).
    pub phase1_lifetime_seconds: u32,
    /// Phase 2 lifetime in seconds (AWS: 3600).
    pub phase2_lifetime_seconds: u32,
}

/// An IKE version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IkeVersion {
    /// IKEv1.
    V1,
    /// IKEv2.
    V2,
}

impl Tunnel {
    /// The AWS side's inside address (first host of the /30).
    pub fn aws_inside(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.inside_cidr.network()) + 1)
    }

    /// The customer side's inside address (second host of the /30).
    pub fn customer_inside(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.inside_cidr.network()) + 2)
    }
}

/// A VPN connection: two tunnels between a virtual private gateway and a customer
/// gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Its name in vpcd's configuration.
    pub name: String,
    /// Its EC2 ID (`vpn-...`).
    pub id: String,
    /// The customer gateway's public address.
    pub customer_ip: Ipv4Addr,
    /// The customer gateway's BGP ASN.
    pub customer_asn: u32,
    /// The virtual private gateway's Amazon side ASN.
    pub amazon_asn: u32,
    /// Static routing instead of BGP.
    pub static_routes_only: bool,
    /// With static routing: the customer's prefixes (the connection's routes).
    pub static_routes: Vec<Ipv4Net>,
    /// The networks behind the customer gateway, which its BGP speaker advertises
    /// (vpcd's `site_cidrs` of the customer gateway).
    pub site_cidrs: Vec<Ipv4Net>,
    /// The VPC's CIDR blocks, which the AWS side advertises.
    pub vpc_cidrs: Vec<Ipv4Net>,
    /// The two tunnels.
    pub tunnels: [Tunnel; 2],
}
