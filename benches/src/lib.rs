//! The inputs of the criterion benchmarks in `benches/pipeline.rs`, built before any
//! timing starts: IPv4 packets with valid checksums, a small deterministic pseudo-random
//! generator (no dependency, same numbers on every run), random route prefixes and
//! addresses inside them, and the demo topology grown to many routes.
//!
//! The numbers the benchmarks produce are recorded in `docs/benchmarks.md`; nothing here
//! or there is asserted by a test.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use vpc_config::{EniId, L4Match, PortRange, Protocol, RouteTarget, SgPeer, SgRule, Topology};
use vpc_dataplane::PacketBuf;
use vpc_dataplane::route::{Origin, Route, RouteTable};
use vpc_dataplane::wire::checksum;

/// `web/eth0` of the demo, 10.0.1.10 in subnet public-a.
pub const WEB: EniId = EniId(0);
/// `app/eth0` of the demo, 10.0.2.10 in subnet private-a.
pub const APP: EniId = EniId(1);
/// `db/eth0` of the demo, 10.0.12.10 in subnet private-b.
pub const DB: EniId = EniId(2);
/// `fw/eth0` of [`many_routes_topology`], 10.0.2.20, source/destination check off.
pub const FW: EniId = EniId(3);

/// web's address.
pub const WEB_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 10);
/// app's address.
pub const APP_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 10);
/// db's address.
pub const DB_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 12, 10);

const PROTO_ICMP: u8 = 1;
const PROTO_UDP: u8 = 17;
const IPV4_HEADER: usize = 20;
const L4_HEADER: usize = 8;

/// An IPv4 packet with a 20-byte header (TTL 64, DF, valid checksum) and `payload`.
pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(IPV4_HEADER + payload.len()).expect("an IPv4 datagram");
    let mut p = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, protocol, 0, 0];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let c = checksum::internet(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// `len` bytes of a fixed pattern, as a payload.
fn pattern(len: usize) -> impl Iterator<Item = u8> {
    (0..len).map(|i| (i % 251) as u8)
}

/// An ICMP echo request (id 7, seq 1) of `total_len` bytes in all (at least 28), like
/// `ping`'s default 84-byte packet.
pub fn icmp_echo(src: Ipv4Addr, dst: Ipv4Addr, total_len: usize) -> Vec<u8> {
    let data = total_len
        .checked_sub(IPV4_HEADER + L4_HEADER)
        .expect("room for the IPv4 and ICMP headers");
    let mut m = vec![8, 0, 0, 0, 0, 7, 0, 1];
    m.extend(pattern(data));
    let c = checksum::internet(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, PROTO_ICMP, &m)
}

/// A UDP datagram (port 40000 to 5201, valid checksum) of `total_len` bytes in all (at
/// least 28).
pub fn udp(src: Ipv4Addr, dst: Ipv4Addr, total_len: usize) -> Vec<u8> {
    let udp_len = total_len
        .checked_sub(IPV4_HEADER)
        .filter(|l| *l >= L4_HEADER)
        .expect("room for the IPv4 and UDP headers");
    let len16 = u16::try_from(udp_len).expect("a UDP length");
    let mut d = Vec::with_capacity(udp_len);
    d.extend_from_slice(&40000u16.to_be_bytes());
    d.extend_from_slice(&5201u16.to_be_bytes());
    d.extend_from_slice(&len16.to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend(pattern(udp_len - L4_HEADER));
    // The checksum covers a pseudo-header (RFC 768); 0 is sent as 0xffff.
    let c = match checksum::transport(src, dst, PROTO_UDP, &d) {
        0 => 0xffff,
        c => c,
    };
    d[6..8].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, PROTO_UDP, &d)
}

/// A buffer for `pristine`'s bytes (at least [`PacketBuf::MIN_CAPACITY`], so the
/// pipeline may grow a packet in place), allocated once, outside any timing.
pub fn buffer_for(pristine: &[u8]) -> PacketBuf {
    PacketBuf::from_bytes(pristine)
}

/// Puts `pristine` back into `buf`: the pipeline may have rewritten it (a reply built in
/// place). A copy into the existing allocation; no allocation.
#[inline]
pub fn restore(buf: &mut PacketBuf, pristine: &[u8]) {
    buf.buffer_mut()[..pristine.len()].copy_from_slice(pristine);
    buf.set_len(pristine.len());
}

/// xorshift64 (Marsaglia, shifts 13/7/17): a tiny deterministic generator, enough to
/// scatter prefixes and addresses. Not for anything that needs real randomness.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator seeded with `seed` (0 is replaced, xorshift must not start at 0).
    pub fn new(seed: u64) -> Self {
        XorShift(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// The next 32 bits (the high half, the better mixed one).
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A number in `0..n` (n > 0; the slight modulo bias does not matter here).
    pub fn below(&mut self, n: u32) -> u32 {
        self.next_u32() % n
    }
}

/// `n` distinct canonical prefixes (host bits zero), shaped a little like a BGP table:
/// half are /24s, the other half have a length drawn uniformly from /8 to /32.
pub fn random_prefixes(n: usize, rng: &mut XorShift) -> Vec<Ipv4Net> {
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let len = if rng.below(2) == 0 {
            24
        } else {
            8 + rng.below(25) as u8
        };
        let net = Ipv4Net::new_assert(Ipv4Addr::from(rng.next_u32()), len).trunc();
        if seen.insert(net) {
            out.push(net);
        }
    }
    out
}

/// `count` addresses, each inside one of `prefixes` picked at random (so every lookup
/// matches at least that prefix, and sometimes a longer one).
pub fn addresses_in(prefixes: &[Ipv4Net], count: usize, rng: &mut XorShift) -> Vec<Ipv4Addr> {
    let n = u32::try_from(prefixes.len()).expect("fewer than 2^32 prefixes");
    (0..count)
        .map(|_| {
            let p = prefixes[rng.below(n) as usize];
            let host = rng.next_u32() & u32::from(p.hostmask());
            Ipv4Addr::from(u32::from(p.network()) | host)
        })
        .collect()
}

/// A dataplane route table holding `prefixes`, each a static route to some ENI.
pub fn route_table(prefixes: &[Ipv4Net]) -> RouteTable {
    let mut t = RouteTable::new();
    for (i, &destination) in prefixes.iter().enumerate() {
        t.insert(Route {
            destination,
            target: RouteTarget::Eni(EniId((i % 8) as u32)),
            origin: Origin::Static,
        });
    }
    t
}

/// `n` distinct /24s outside the demo VPC, none of them a martian destination (first
/// octet 1..=223, not 10 or 127).
pub fn outside_slash_24s(n: usize, rng: &mut XorShift) -> Vec<Ipv4Net> {
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let net = Ipv4Net::new_assert(Ipv4Addr::from(rng.next_u32()), 24).trunc();
        let first = net.network().octets()[0];
        if first == 0 || first == 10 || first == 127 || first >= 224 {
            continue;
        }
        if seen.insert(net) {
            out.push(net);
        }
    }
    out
}

/// The demo, whose `web-sg` also allows UDP 5201 from the VPC (the demo itself allows
/// no UDP), so that [`udp`] datagrams from app to web are forwarded.
pub fn demo_with_udp() -> Topology {
    let mut t = Topology::demo();
    let web_sg = t.eni(WEB).security_groups[0];
    t.security_groups[web_sg.index()].ingress.push(SgRule {
        protocol: Protocol::UDP,
        l4: L4Match::Ports(PortRange {
            from: 5201,
            to: 5201,
        }),
        peer: SgPeer::Cidr(Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 16)),
        description: None,
    });
    t
}

/// The configuration text of the demo plus an appliance `fw` (10.0.2.20 in private-a,
/// source/destination check off, a security group open to everything) and a route table
/// for subnet public-a (web's, taken from the demo's `public-rt`) with a route to `fw`
/// for each of `prefixes`.
pub fn many_routes_toml(prefixes: &[Ipv4Net]) -> String {
    const PUBLIC_RT: &str = r#"subnets = ["public-a", "public-b"]"#;
    assert!(vpc_config::DEMO_TOML.contains(PUBLIC_RT));
    let mut s = vpc_config::DEMO_TOML.replace(PUBLIC_RT, r#"subnets = ["public-b"]"#);
    s.push_str(
        "\n[[instance]]\nname = \"fw\"\nsubnet = \"private-a\"\nprivate_ip = \"10.0.2.20\"\n\
         source_dest_check = false\nsecurity_groups = [\"fw-sg\"]\n\n\
         [[security_group]]\nname = \"fw-sg\"\nvpc = \"demo\"\n\
         ingress = [{ protocol = \"all\", cidr = \"0.0.0.0/0\" }]\n\n\
         [[route_table]]\nname = \"many\"\nvpc = \"demo\"\n\
         subnets = [\"public-a\"]\nroute = [\n",
    );
    for p in prefixes {
        s.push_str(&format!(
            "  {{ destination = \"{p}\", instance = \"fw\" }},\n"
        ));
    }
    s.push_str("]\n");
    s
}

/// [`many_routes_toml`] parsed: web's subnet routes each of `prefixes` to [`FW`].
pub fn many_routes_topology(prefixes: &[Ipv4Net]) -> Topology {
    let text = many_routes_toml(prefixes);
    vpc_config::parse(&text, "many-routes.toml")
        .unwrap_or_else(|e| panic!("the generated topology is invalid: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vpc_dataplane::{Dataplane, Port, Time, Verdict};

    #[test]
    fn packets_have_the_asked_length_and_valid_checksums() {
        let e = icmp_echo(WEB_IP, DB_IP, 84);
        assert_eq!(e.len(), 84);
        assert!(checksum::verifies(&e[..20]) && checksum::verifies(&e[20..]));
        let u = udp(WEB_IP, DB_IP, 1500);
        assert_eq!(u.len(), 1500);
        assert!(checksum::verifies(&u[..20]));
        let mut pseudo = [&u[12..20], &[0, PROTO_UDP], &u[24..26]].concat();
        pseudo.extend_from_slice(&u[20..]);
        assert!(checksum::verifies(&pseudo));
    }

    #[test]
    fn prefixes_are_distinct_canonical_and_deterministic() {
        let a = random_prefixes(2000, &mut XorShift::new(1));
        assert_eq!(a, random_prefixes(2000, &mut XorShift::new(1)));
        assert!(a.iter().all(|p| p.trunc() == *p));
        assert_eq!(a.iter().collect::<HashSet<_>>().len(), 2000);
        let t = route_table(&a);
        assert_eq!(t.routes().count(), 2000);
        for addr in addresses_in(&a, 500, &mut XorShift::new(2)) {
            assert!(t.lookup(addr).is_some());
        }
    }

    #[test]
    fn the_many_routes_topology_forwards_to_fw() {
        let prefixes = outside_slash_24s(1000, &mut XorShift::new(3));
        let t = many_routes_topology(&prefixes);
        assert_eq!(
            t.route_table(t.subnet(t.eni(WEB).subnet).route_table)
                .routes
                .len(),
            1001
        );
        let dst = Ipv4Addr::from(u32::from(prefixes[500].network()) | 77);
        let mut dp = Dataplane::new(&t);
        let mut pkt = PacketBuf::from_bytes(&icmp_echo(WEB_IP, dst, 84));
        assert_eq!(
            dp.process(Time::from_secs(1), WEB, &mut pkt),
            Verdict::Forward { to: Port::Eni(FW) }
        );
    }
}
