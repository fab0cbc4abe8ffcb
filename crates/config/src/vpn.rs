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
//!   (`propagating_vgws`, only gateways attached to its VPC). A packet routed to a
//!   gateway without a VPN connection with a tunnel up is dropped, as AWS drops it.
//! - A [`VpnConnection`] (`[[vpn_connection]]`, `vpn-...`) joins one VPN gateway and
//!   one customer gateway (at most one connection per pair, as AWS allows) with two
//!   [`VpnTunnel`]s: an outside address each on the emulated internet (vpcd assigns
//!   them, from 192.0.2.254 downwards, unless given), an inside /30 in 169.254.0.0/16
//!   (not one AWS reserves; unique per VPN gateway), a pre-shared key (8-64 letters,
//!   digits, `.` and `_`, not starting with `0`), IKE versions, dead-peer timeout
//!   (at least 30 s) and phase 1/2 lifetimes (900-28800 s, 900-3600 s, phase 2 shorter).
//!   With `static_routes_only` its `routes` are the customer's prefixes; otherwise BGP.
//! - What the daemon observes of a connection at run time (tunnels up, routes learned
//!   over BGP) is [`VpnLive`]: never written to a file; the routes of connections with
//!   a tunnel up are propagated into the route tables that propagate from the gateway
//!   ([`Topology::propagated_routes`]).
//! - Every customer gateway is a *site*: an internet host of its own (namespace named
//!   after it, at its address), and every tunnel's AWS end is an internet host of the
//!   daemon's (`vpcd+tun-<connection>-<n>`); [`Topology::derive_vpn_hosts`] keeps them after
//!   the declared hosts.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

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

id!(
    /// Index of a VPN connection in [`Topology::vpn_connections`].
    VpnConnectionId
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
    /// vpcd's own: the networks behind the device (the site's LAN), which the site's
    /// BGP speaker advertises (`vpcctl vpn-config`).
    pub site_cidrs: Vec<Ipv4Net>,
    /// vpcd's own: addresses vpcd puts on the site namespace's loopback (the site's
    /// hosts), each inside one of `site_cidrs`.
    pub site_addresses: Vec<Ipv4Addr>,
}

/// A VPN connection (`CreateVpnConnection`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpnConnection {
    /// Unique name.
    pub name: String,
    /// Its customer gateway.
    pub customer_gateway: CustomerGatewayId,
    /// Its virtual private gateway.
    pub vpn_gateway: VpnGatewayId,
    /// Static routing instead of BGP (`Options.StaticRoutesOnly`).
    pub static_routes_only: bool,
    /// With static routing: the customer's prefixes (`CreateVpnConnectionRoute`).
    pub routes: Vec<Ipv4Net>,
    /// Its two tunnels.
    pub tunnels: [VpnTunnel; 2],
    /// What the daemon observes at run time (not configuration).
    pub live: VpnLive,
}

/// One tunnel of a VPN connection (`Options.TunnelOptions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpnTunnel {
    /// The AWS side's outside address.
    pub outside_ip_address: Ipv4Addr,
    /// The inside /30 (`TunnelInsideCidr`).
    pub tunnel_inside_cidr: Ipv4Net,
    /// The pre-shared key (`PreSharedKey`).
    pub pre_shared_key: String,
    /// IKE versions allowed (`IKEVersions`): `ikev1`, `ikev2`.
    pub ike_versions: Vec<String>,
    /// Dead-peer detection timeout (`DPDTimeoutSeconds`, default 30).
    pub dpd_timeout_seconds: u32,
    /// Phase 1 lifetime (`Phase1LifetimeSeconds`, default 28800).
    pub phase1_lifetime_seconds: u32,
    /// Phase 2 lifetime (`Phase2LifetimeSeconds`, default 3600).
    pub phase2_lifetime_seconds: u32,
}

/// What the daemon observes of a VPN connection at run time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VpnLive {
    /// Per tunnel: whether its IPsec SA is up (and, with BGP, its session established).
    pub up: [bool; 2],
    /// The prefixes learned over BGP (either tunnel), in order, each once.
    pub learned: Vec<Ipv4Net>,
}

impl VpnConnection {
    /// Whether a tunnel is up.
    pub fn any_up(&self) -> bool {
        self.live.up.iter().any(|&u| u)
    }
}

/// AWS's defaults and limits for tunnel options.
pub mod tunnel_defaults {
    /// `DPDTimeoutSeconds` default (and minimum).
    pub const DPD_TIMEOUT: u32 = 30;
    /// `Phase1LifetimeSeconds` default (and maximum).
    pub const PHASE1_LIFETIME: u32 = 28_800;
    /// `Phase2LifetimeSeconds` default (and maximum).
    pub const PHASE2_LIFETIME: u32 = 3_600;
    /// The shortest phase 1 or phase 2 lifetime.
    pub const MIN_LIFETIME: u32 = 900;
}

/// The /30s of 169.254.0.0/16 AWS refuses as tunnel inside CIDRs.
pub const RESERVED_INSIDE_CIDRS: [&str; 7] = [
    "169.254.0.0/30",
    "169.254.1.0/30",
    "169.254.2.0/30",
    "169.254.3.0/30",
    "169.254.4.0/30",
    "169.254.5.0/30",
    "169.254.169.252/30",
];

/// Whether AWS accepts `cidr` as a tunnel inside CIDR: a /30 in 169.254.0.0/16, not
/// one of [`RESERVED_INSIDE_CIDRS`].
pub fn inside_cidr_ok(cidr: Ipv4Net) -> bool {
    let link_local: Ipv4Net = Ipv4Net::new(Ipv4Addr::new(169, 254, 0, 0), 16).unwrap_or_default();
    cidr.prefix_len() == 30
        && cidr.network() == cidr.addr()
        && link_local.contains(&cidr)
        && !RESERVED_INSIDE_CIDRS
            .iter()
            .any(|r| r.parse::<Ipv4Net>().is_ok_and(|r| r == cidr))
}

/// Whether AWS accepts `key` as a pre-shared key: 8-64 characters, letters, digits,
/// periods and underscores, not starting with `0`.
pub fn pre_shared_key_ok(key: &str) -> bool {
    (8..=64).contains(&key.len())
        && !key.starts_with('0')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
}

/// The pre-shared key vpcd gives tunnel `k` (0 or 1) of connection `name` when none is
/// written: derived from the name (stable across restarts; not a secret: write your own
/// for anything but a lab).
pub fn default_pre_shared_key(name: &str, k: usize) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("vpcd vpn {name} tunnel {}", k + 1));
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("psk_{hex}")
}

/// The inside CIDRs vpcd gives the tunnels of connection number `n` of a VPN gateway
/// (in file order) when none is written: 169.254.(10 + n).0/30 and
/// 169.254.(10 + n).4/30... skipping those in `taken`.
pub fn default_inside_cidr(taken: &[Ipv4Net]) -> Option<Ipv4Net> {
    (u32::from(Ipv4Addr::new(169, 254, 10, 0))..u32::from(Ipv4Addr::new(169, 254, 169, 0)))
        .step_by(4)
        .filter_map(|a| Ipv4Net::new(Ipv4Addr::from(a), 30).ok())
        .find(|c| inside_cidr_ok(*c) && !taken.contains(c))
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

    /// The VPN connection with id `id`.
    pub fn vpn_connection(&self, id: VpnConnectionId) -> &VpnConnection {
        &self.vpn_connections[id.index()]
    }

    /// The VPN connection named `name`.
    pub fn find_vpn_connection(&self, name: &str) -> Option<VpnConnectionId> {
        self.vpn_connections
            .iter()
            .position(|c| c.name == name)
            .map(|i| VpnConnectionId(i as u32))
    }

    /// The VPN connections of VPN gateway `vgw`.
    pub fn connections_of_vgw(
        &self,
        vgw: VpnGatewayId,
    ) -> impl Iterator<Item = VpnConnectionId> + '_ {
        (0..self.vpn_connections.len() as u32)
            .map(VpnConnectionId)
            .filter(move |&c| self.vpn_connection(c).vpn_gateway == vgw)
    }

    /// The VPN connections of customer gateway `cgw`.
    pub fn connections_of_cgw(
        &self,
        cgw: CustomerGatewayId,
    ) -> impl Iterator<Item = VpnConnectionId> + '_ {
        (0..self.vpn_connections.len() as u32)
            .map(VpnConnectionId)
            .filter(move |&c| self.vpn_connection(c).customer_gateway == cgw)
    }

    /// Whether VPN gateway `vgw` has a VPN connection with a tunnel up.
    pub fn vpn_gateway_up(&self, vgw: VpnGatewayId) -> bool {
        self.connections_of_vgw(vgw)
            .any(|c| self.vpn_connection(c).any_up())
    }

    /// The routes propagated into route table `table` (`propagating_vgws`): from each
    /// VPN connection with a tunnel up of each gateway the table propagates from, its
    /// static routes, then the routes it learned over BGP (AWS ranks VPN static routes
    /// before BGP ones of the same prefix; static routes of the table, inserted first,
    /// win over both). Origin `EnableVgwRoutePropagation`.
    pub fn propagated_routes(&self, table: RouteTableId) -> impl Iterator<Item = Route> + '_ {
        let vgws = &self.route_table(table).propagating_vgws;
        let statics = vgws.iter().flat_map(move |&g| {
            self.connections_of_vgw(g).flat_map(move |c| {
                let c = self.vpn_connection(c);
                let routes = if c.any_up() { &c.routes[..] } else { &[] };
                routes.iter().map(move |&destination| Route {
                    destination,
                    target: RouteTarget::VpnGateway(g),
                    origin: RouteOrigin::Propagated,
                })
            })
        });
        let learned = vgws.iter().flat_map(move |&g| {
            self.connections_of_vgw(g).flat_map(move |c| {
                let c = self.vpn_connection(c);
                let routes = if c.any_up() { &c.live.learned[..] } else { &[] };
                routes.iter().map(move |&destination| Route {
                    destination,
                    target: RouteTarget::VpnGateway(g),
                    origin: RouteOrigin::Propagated,
                })
            })
        });
        statics.chain(learned)
    }

    /// Every public address in use (hosts, Elastic IPs, public IPs of interfaces, NAT
    /// gateways' addresses, customer gateways, tunnels' outside addresses, the
    /// internet's router) and the emulated services' blocks.
    fn public_addresses_in_use(&self) -> (Vec<Ipv4Addr>, Vec<Ipv4Net>) {
        let mut used: Vec<Ipv4Addr> = self.internet_hosts.iter().map(|h| h.address).collect();
        used.extend(self.elastic_ips.iter().map(|e| e.address));
        used.extend(self.public_mappings().into_iter().map(|(_, _, p)| p));
        used.extend(self.customer_gateways.iter().map(|g| g.ip_address));
        used.extend(
            self.vpn_connections
                .iter()
                .flat_map(|c| c.tunnels.iter().map(|t| t.outside_ip_address)),
        );
        used.push(crate::addressing::INTERNET_ROUTER);
        let blocks = self
            .aws_services
            .iter()
            .flat_map(|s| s.cidrs.iter().copied())
            .collect();
        (used, blocks)
    }

    /// Gives every tunnel without an outside address (`0.0.0.0`) one: the highest free
    /// public address of 192.0.2.0/24. False if none is left.
    pub fn assign_outside_addresses(&mut self) -> bool {
        let (mut used, blocks) = self.public_addresses_in_use();
        for c in &mut self.vpn_connections {
            for t in &mut c.tunnels {
                if !t.outside_ip_address.is_unspecified() {
                    continue;
                }
                let free = (1..=254u8)
                    .rev()
                    .map(|n| Ipv4Addr::new(192, 0, 2, n))
                    .find(|a| {
                        crate::addressing::is_public_address(*a)
                            && !used.contains(a)
                            && !blocks.iter().any(|b| b.contains(a))
                    });
                let Some(a) = free else {
                    return false;
                };
                t.outside_ip_address = a;
                used.push(a);
            }
        }
        true
    }

    /// Takes what the daemon observed of each VPN connection from `old` (by name).
    pub fn keep_live_from(&mut self, old: &Topology) {
        for c in &mut self.vpn_connections {
            if let Some(o) = old.find_vpn_connection(&c.name) {
                c.live = old.vpn_connection(o).live.clone();
            }
        }
    }

    /// Rebuilds the internet hosts VPN adds after the declared ones: a site per
    /// customer gateway (named after it, at its address), the AWS end of every
    /// tunnel ([`tunnel_host_name`], at its outside address), then the far end of
    /// every VPN gateway ([`vpn_gateway_host_name`], at [`VPN_GATEWAY_HOST_ADDRESS`]).
    pub fn derive_vpn_hosts(&mut self) {
        self.internet_hosts.retain(|h| h.role == HostRole::Declared);
        for (i, g) in self.customer_gateways.iter().enumerate() {
            self.internet_hosts.push(InternetHost {
                name: g.name.clone(),
                address: g.ip_address,
                dns_names: Vec::new(),
                role: HostRole::Site(CustomerGatewayId(i as u32)),
            });
        }
        for (i, c) in self.vpn_connections.iter().enumerate() {
            for (k, t) in c.tunnels.iter().enumerate() {
                self.internet_hosts.push(InternetHost {
                    name: tunnel_host_name(&c.name, k),
                    address: t.outside_ip_address,
                    dns_names: Vec::new(),
                    role: HostRole::Tunnel(VpnConnectionId(i as u32), k as u8),
                });
            }
        }
        for (i, g) in self.vpn_gateways.iter().enumerate() {
            self.internet_hosts.push(InternetHost {
                name: vpn_gateway_host_name(&g.name),
                address: VPN_GATEWAY_HOST_ADDRESS,
                dns_names: Vec::new(),
                role: HostRole::VpnGateway(VpnGatewayId(i as u32)),
            });
        }
    }

    /// The host that is the far end of VPN gateway `vgw`.
    pub fn vpn_gateway_host(&self, vgw: VpnGatewayId) -> Option<HostId> {
        self.internet_hosts
            .iter()
            .position(|h| h.role == HostRole::VpnGateway(vgw))
            .map(|i| HostId(i as u32))
    }

    /// The VPN gateway attached to `vpc`, if any.
    pub fn vpc_vpn_gateway(&self, vpc: VpcId) -> Option<VpnGatewayId> {
        self.vpn_gateways
            .iter()
            .position(|g| g.vpc == Some(vpc))
            .map(|i| VpnGatewayId(i as u32))
    }
}

/// What is wrong with a VPN connection or a customer gateway's site.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VpnProblem {
    /// A second connection between the same two gateways.
    #[error(
        "vpn_connection {other:?} already joins customer gateway {cgw:?} and VPN gateway {vgw:?}; AWS allows one connection per pair"
    )]
    SecondConnection {
        /// The other connection.
        other: String,
        /// The customer gateway.
        cgw: String,
        /// The VPN gateway.
        vgw: String,
    },
    /// More than two tunnel options.
    #[error("a VPN connection has two tunnels; {0} tunnel_options given")]
    TooManyTunnels(usize),
    /// An inside CIDR AWS refuses.
    #[error(
        "{0:?} is not a valid tunnel inside CIDR: use a /30 in 169.254.0.0/16 other than 169.254.0.0/30-169.254.5.0/30 and 169.254.169.252/30, which AWS reserves"
    )]
    BadInsideCidr(String),
    /// An inside CIDR used twice on one VPN gateway.
    #[error("tunnel inside CIDR {cidr} is already used by {other} on VPN gateway {vgw:?}")]
    InsideCidrInUse {
        /// The CIDR.
        cidr: Ipv4Net,
        /// The tunnel using it.
        other: String,
        /// The gateway.
        vgw: String,
    },
    /// A pre-shared key AWS refuses.
    #[error(
        "a pre-shared key is 8-64 characters, letters, digits, '.' and '_', and does not start with '0'"
    )]
    BadPreSharedKey,
    /// An IKE version other than `ikev1`/`ikev2`, or none.
    #[error("{0:?} is not an IKE version: use \"ikev1\" and/or \"ikev2\"")]
    BadIkeVersion(String),
    /// A DPD timeout under 30 s.
    #[error("{0} is not a valid DPD timeout: at least 30 seconds")]
    BadDpdTimeout(i64),
    /// A lifetime out of range.
    #[error("{value} is not a valid phase {phase} lifetime: {min}-{max} seconds")]
    BadLifetime {
        /// 1 or 2.
        phase: u8,
        /// The value.
        value: i64,
        /// Its least.
        min: u32,
        /// Its most.
        max: u32,
    },
    /// Phase 2 not shorter than phase 1.
    #[error("phase 2 lifetime {phase2} s must be shorter than phase 1 lifetime {phase1} s")]
    Phase2NotShorter {
        /// Phase 1.
        phase1: u32,
        /// Phase 2.
        phase2: u32,
    },
    /// Static routes on a BGP connection.
    #[error("static routes need static_routes_only = true (the connection uses BGP)")]
    RoutesNeedStatic,
    /// A static route that is not a canonical IPv4 CIDR.
    #[error("{0:?} is not a CIDR block (like \"172.16.0.0/16\")")]
    BadRoute(String),
    /// A route given twice.
    #[error("route {0} is given twice")]
    DuplicateRoute(Ipv4Net),
    /// A site address outside the site's CIDRs.
    #[error("site address {0} is in none of the customer gateway's site_cidrs")]
    SiteAddressOutside(Ipv4Addr),
    /// A customer gateway named like an instance or internet host (namespaces).
    #[error(
        "{0:?} is already the name of an instance or internet host; a customer gateway's site is a network namespace named after it"
    )]
    SiteNameTaken(String),
    /// No free outside address left.
    #[error("no free public address left for the tunnel's outside address")]
    NoOutsideAddress,
    /// Too many tunnels at one site.
    #[error(
        "customer gateway {0:?} has more than {max} tunnels: a site runs one charon per tunnel on ports of its own",
        max = MAX_SITE_TUNNELS
    )]
    TooManySiteTunnels(String),
}

/// The most tunnels one customer gateway's site runs (one charon each, on ports 500 +
/// 1000 n and 4500 + 10000 n).
pub const MAX_SITE_TUNNELS: usize = 6;

/// The address of a VPN gateway's far end on the device vpcd gives its router
/// namespace (in 169.254.0.0/30, which AWS keeps out of tunnels).
pub const VPN_GATEWAY_HOST_ADDRESS: Ipv4Addr = Ipv4Addr::new(169, 254, 0, 1);

/// The name of the host (and namespace, after the daemon's prefix) that is the far end
/// of VPN gateway `vgw`: `vpcd+gw-<vgw>`.
pub fn vpn_gateway_host_name(vgw: &str) -> String {
    format!("vpcd+gw-{vgw}")
}

/// The name of the internet host (and namespace, after the daemon's prefix) of the
/// AWS end of tunnel `k` (0 or 1) of connection `connection`: `vpcd+tun-<connection>-<k+1>`
/// ('+' is in no declared name).
pub fn tunnel_host_name(connection: &str, k: usize) -> String {
    format!("vpcd+tun-{connection}-{}", k + 1)
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
