//! Subnet address arithmetic: the five addresses AWS reserves in every subnet.
//!
//! AWS (VPC user guide, "Subnet CIDR blocks"): in every subnet the first four
//! addresses and the last one cannot be assigned to an interface: base+0 is the
//! network address, base+1 the VPC router, base+2 the DNS resolver's slot, base+3
//! reserved for future use, and the last address is the broadcast address (a VPC has
//! no broadcast, the address is reserved anyway). A /24 therefore has 251 usable
//! addresses and a /28 has 11.
//!
//! Public addresses (Elastic IPs, public IPs, the hosts of the emulated internet) must
//! lie in the documentation ranges of RFC 5737 ([`PUBLIC_RANGES`]), so that nothing
//! vpcd runs can ever be mistaken for, or routed to, a real internet address.
//!
//! AWS reserves the link-local block 169.254.168.0/22 ([`VPC_SERVICES`]) for the
//! services every VPC offers its instances: the Route 53 Resolver at 169.254.169.253
//! ([`DNS_LINK_LOCAL`]), the instance metadata service at 169.254.169.254
//! ([`METADATA`]) and the Amazon Time Sync Service at 169.254.169.123 ([`TIME_SYNC`]).
//! AWS refuses a route, in any route table, whose destination is that block or lies
//! inside it.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// The ranges public addresses come from: TEST-NET-1, -2 and -3 (RFC 5737).
pub const PUBLIC_RANGES: [Ipv4Net; 3] = [
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 2, 0), 24),
    Ipv4Net::new_assert(Ipv4Addr::new(198, 51, 100, 0), 24),
    Ipv4Net::new_assert(Ipv4Addr::new(203, 0, 113, 0), 24),
];

/// The address of the emulated internet's router: the source of the ICMP errors the
/// internet side sends. No host or Elastic IP may use it.
pub const INTERNET_ROUTER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

/// The block AWS reserves for the VPC's own services, 169.254.168.0/22: the Route 53
/// Resolver ([`DNS_LINK_LOCAL`]), instance metadata ([`METADATA`]) and Amazon Time Sync
/// ([`TIME_SYNC`]) answer there, in every VPC, without any route. A route whose
/// destination is this block or inside it cannot be created (one that merely contains
/// it, like 0.0.0.0/0 or 169.254.0.0/16, can: the reserved block is served first).
pub const VPC_SERVICES: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(169, 254, 168, 0), 22);

/// The instance metadata service (IMDS), 169.254.169.254, inside [`VPC_SERVICES`].
pub const METADATA: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);

/// The Amazon Time Sync Service (NTP), 169.254.169.123, inside [`VPC_SERVICES`].
pub const TIME_SYNC: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 123);

/// The Route 53 Resolver's link-local address, 169.254.169.253, inside
/// [`VPC_SERVICES`]: the same resolver as the VPC's base+2 ([`dns_resolver`]).
pub const DNS_LINK_LOCAL: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 253);

/// The Amazon DNS resolver's address in a VPC whose primary CIDR block is `primary`:
/// its base plus two (e.g. 10.0.0.2 in 10.0.0.0/16), as AWS places it. (Every subnet
/// reserves its own base+2 too, but only the VPC's answers.)
pub fn dns_resolver(primary: Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(primary.network()) + 2)
}

/// CIDR blocks as messages list them: `10.0.0.0/16, 10.5.0.0/16`.
pub fn cidr_list(cidrs: &[Ipv4Net]) -> String {
    cidrs
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `ip` may be a public address: inside [`PUBLIC_RANGES`], not a range's
/// network or broadcast address, and not [`INTERNET_ROUTER`].
pub fn is_public_address(ip: Ipv4Addr) -> bool {
    ip != INTERNET_ROUTER
        && PUBLIC_RANGES
            .iter()
            .any(|r| r.contains(&ip) && ip != r.network() && ip != r.broadcast())
}

/// What a subnet reserves an address for, or `None` from [`reserved`] for an
/// assignable address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reserved {
    /// base+0, the network address.
    Network,
    /// base+1, the VPC router's address in this subnet.
    Router,
    /// base+2, the DNS resolver's reserved slot.
    Dns,
    /// base+3, reserved by AWS for future use.
    Future,
    /// The last address (AWS reserves it; a VPC has no broadcast).
    Broadcast,
}

impl Reserved {
    /// A short human name, used in error messages and traces.
    pub fn describe(self) -> &'static str {
        match self {
            Reserved::Network => "the network address",
            Reserved::Router => "the VPC router address",
            Reserved::Dns => "the DNS resolver address",
            Reserved::Future => "reserved by AWS for future use",
            Reserved::Broadcast => "the broadcast address",
        }
    }
}

/// Which reserved address of `subnet` `ip` is, if any. `ip` must lie in `subnet`;
/// an address outside it is never reserved by this subnet.
pub fn reserved(subnet: Ipv4Net, ip: Ipv4Addr) -> Option<Reserved> {
    if !subnet.contains(&ip) {
        return None;
    }
    let offset = u32::from(ip) - u32::from(subnet.network());
    if ip == subnet.broadcast() {
        return Some(Reserved::Broadcast);
    }
    match offset {
        0 => Some(Reserved::Network),
        1 => Some(Reserved::Router),
        2 => Some(Reserved::Dns),
        3 => Some(Reserved::Future),
        _ => None,
    }
}

/// The five reserved addresses of `subnet` with what each is for, lowest first.
pub fn reserved_addresses(subnet: Ipv4Net) -> impl Iterator<Item = (Ipv4Addr, Reserved)> {
    let base = u32::from(subnet.network());
    (0..4)
        .map(move |i| Ipv4Addr::from(base + i))
        .chain([subnet.broadcast()])
        .filter_map(move |ip| reserved(subnet, ip).map(|r| (ip, r)))
}

/// The VPC router's address in `subnet` (base+1).
pub fn router(subnet: Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network()) + 1)
}

/// The addresses of `subnet` that may be assigned to an interface, lowest first.
pub fn usable(subnet: Ipv4Net) -> impl Iterator<Item = Ipv4Addr> {
    let first = u32::from(subnet.network()) + 4;
    let last = u32::from(subnet.broadcast());
    (first..last).map(Ipv4Addr::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().expect("test CIDR")
    }

    #[test]
    fn a_slash_24_reserves_five_addresses() {
        let s = net("10.0.0.0/24");
        assert_eq!(
            reserved(s, "10.0.0.0".parse().unwrap()),
            Some(Reserved::Network)
        );
        assert_eq!(
            reserved(s, "10.0.0.1".parse().unwrap()),
            Some(Reserved::Router)
        );
        assert_eq!(
            reserved(s, "10.0.0.2".parse().unwrap()),
            Some(Reserved::Dns)
        );
        assert_eq!(
            reserved(s, "10.0.0.3".parse().unwrap()),
            Some(Reserved::Future)
        );
        assert_eq!(reserved(s, "10.0.0.4".parse().unwrap()), None);
        assert_eq!(reserved(s, "10.0.0.254".parse().unwrap()), None);
        assert_eq!(
            reserved(s, "10.0.0.255".parse().unwrap()),
            Some(Reserved::Broadcast)
        );
        assert_eq!(reserved(s, "10.0.1.1".parse().unwrap()), None);
        assert_eq!(usable(s).count(), 251);
        let all: Vec<(String, Reserved)> = reserved_addresses(s)
            .map(|(ip, r)| (ip.to_string(), r))
            .collect();
        assert_eq!(
            all,
            [
                ("10.0.0.0".to_string(), Reserved::Network),
                ("10.0.0.1".to_string(), Reserved::Router),
                ("10.0.0.2".to_string(), Reserved::Dns),
                ("10.0.0.3".to_string(), Reserved::Future),
                ("10.0.0.255".to_string(), Reserved::Broadcast),
            ]
        );
    }

    #[test]
    fn the_vpc_services_live_in_169_254_168_0_22() {
        assert_eq!(VPC_SERVICES.to_string(), "169.254.168.0/22");
        assert_eq!(METADATA.to_string(), "169.254.169.254");
        assert_eq!(TIME_SYNC.to_string(), "169.254.169.123");
        assert_eq!(DNS_LINK_LOCAL.to_string(), "169.254.169.253");
        for ip in [METADATA, TIME_SYNC, DNS_LINK_LOCAL] {
            assert!(VPC_SERVICES.contains(&ip), "{ip}");
        }
        assert!(!VPC_SERVICES.contains(&Ipv4Addr::new(169, 254, 172, 0)));
        assert!(!VPC_SERVICES.contains(&Ipv4Addr::new(169, 254, 167, 255)));
    }

    #[test]
    fn a_slash_27_has_27_usable_and_a_slash_28_has_11() {
        assert_eq!(usable(net("10.0.0.32/27")).count(), 27);
        assert_eq!(usable(net("10.0.0.16/28")).count(), 11);
        assert_eq!(
            usable(net("10.0.0.16/28")).next(),
            Some("10.0.0.20".parse().unwrap())
        );
        assert_eq!(
            router(net("10.0.0.16/28")),
            "10.0.0.17".parse::<Ipv4Addr>().unwrap()
        );
    }
}
