//! The inputs of the criterion benchmarks in `benches/pipeline.rs` and
//! `benches/engine.rs` and of the memory measurement `src/bin/flows-rss.rs`, built
//! before any timing starts: IPv4 packets (ICMP, UDP, TCP) with valid checksums, a
//! small deterministic pseudo-random generator (no dependency, same numbers on every
//! run), random route prefixes and addresses inside them, the demo topology grown to
//! many routes, a topology with security groups and network ACLs at AWS's maxima for
//! the cold path, and one subnet of many instances for the threads sharing an engine.
//!
//! The numbers the benchmarks produce are recorded in `docs/benchmarks.md`; nothing here
//! or there is asserted by a test.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use vpc_config::{EniId, L4Match, PortRange, Protocol, RouteTarget, SgPeer, SgRule, Topology};
use vpc_dataplane::PacketBuf;
use vpc_dataplane::flowtable::FlowFacts;
use vpc_dataplane::route::{Route, RouteTable};
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
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const IPV4_HEADER: usize = 20;
const L4_HEADER: usize = 8;
const TCP_HEADER: usize = 20;

/// TCP flag bits, for [`tcp`].
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// The options of a Linux SYN (20 bytes): MSS 1460, SACK permitted, timestamps, NOP,
/// window scale 7.
pub const SYN_OPTIONS: [u8; 20] = [
    2, 4, 0x05, 0xb4, // MSS 1460
    4, 2, // SACK permitted
    8, 10, 0, 0, 0x30, 0x39, 0, 0, 0, 0, // timestamps: value 12345, echo 0
    1, // NOP
    3, 3, 7, // window scale 7
];

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
    udp_ports(src, 40000, dst, 5201, total_len)
}

/// A UDP datagram from `src`:`sport` to `dst`:`dport` (valid checksum) of `total_len`
/// bytes in all (at least 28).
pub fn udp_ports(
    src: Ipv4Addr,
    sport: u16,
    dst: Ipv4Addr,
    dport: u16,
    total_len: usize,
) -> Vec<u8> {
    let udp_len = total_len
        .checked_sub(IPV4_HEADER)
        .filter(|l| *l >= L4_HEADER)
        .expect("room for the IPv4 and UDP headers");
    let len16 = u16::try_from(udp_len).expect("a UDP length");
    let mut d = Vec::with_capacity(udp_len);
    d.extend_from_slice(&sport.to_be_bytes());
    d.extend_from_slice(&dport.to_be_bytes());
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

/// A TCP segment (valid checksum, window 65535, IPv4 DF) from `src`:`sport` to
/// `dst`:`dport` with `flags`, `seq`, `ack`, `options` (a multiple of 4 bytes) and a
/// payload that brings it to `total_len` bytes in all.
#[allow(clippy::too_many_arguments)]
pub fn tcp(
    src: Ipv4Addr,
    sport: u16,
    dst: Ipv4Addr,
    dport: u16,
    flags: u8,
    (seq, ack): (u32, u32),
    options: &[u8],
    total_len: usize,
) -> Vec<u8> {
    assert!(
        options.len().is_multiple_of(4) && options.len() <= 40,
        "TCP options"
    );
    let header = TCP_HEADER + options.len();
    let payload = total_len
        .checked_sub(IPV4_HEADER + header)
        .expect("room for the IPv4 and TCP headers");
    let mut s = Vec::with_capacity(header + payload);
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&seq.to_be_bytes());
    s.extend_from_slice(&ack.to_be_bytes());
    s.push(((header / 4) as u8) << 4);
    s.push(flags);
    s.extend_from_slice(&65535u16.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    s.extend_from_slice(options);
    s.extend(pattern(payload));
    let c = checksum::transport(src, dst, PROTO_TCP, &s);
    s[16..18].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, PROTO_TCP, &s)
}

/// A Linux-like SYN (60 bytes, [`SYN_OPTIONS`]) from `src`:`sport` to `dst`:`dport`
/// with initial sequence number `isn`.
pub fn tcp_syn(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, isn: u32) -> Vec<u8> {
    let len = IPV4_HEADER + TCP_HEADER + SYN_OPTIONS.len();
    tcp(
        src,
        sport,
        dst,
        dport,
        tcp_flags::SYN,
        (isn, 0),
        &SYN_OPTIONS,
        len,
    )
}

/// Packets of one length stored back to back (one allocation, read in order), for
/// benchmarks that need a new packet every iteration.
#[derive(Debug, Clone)]
pub struct PacketSet {
    bytes: Vec<u8>,
    len: usize,
}

impl PacketSet {
    /// The packets of `packets`, which must all have the same length.
    pub fn new(packets: impl IntoIterator<Item = Vec<u8>>) -> Self {
        let mut bytes = Vec::new();
        let mut len = 0;
        for p in packets {
            if bytes.is_empty() {
                len = p.len();
            }
            assert_eq!(p.len(), len, "packets of one length");
            bytes.extend_from_slice(&p);
        }
        assert!(len > 0, "at least one packet");
        PacketSet { bytes, len }
    }

    /// How many packets.
    pub fn len(&self) -> usize {
        self.bytes.len() / self.len
    }

    /// Whether there is none (never: [`Self::new`] wants one).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The `i`th packet.
    #[inline]
    pub fn get(&self, i: usize) -> &[u8] {
        &self.bytes[i * self.len..(i + 1) * self.len]
    }
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
            origin: vpc_config::RouteOrigin::Static,
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
         ingress = [{ protocol = \"all\", cidr = \"0.0.0.0/0\" }]\n\n",
    );
    s.push_str(&routes_to_fw("demo", "public-a", prefixes));
    s
}

/// A route table `many` in VPC `vpc` for subnet `subnet`, routing each of `prefixes` to
/// the instance `fw`.
fn routes_to_fw(vpc: &str, subnet: &str, prefixes: &[Ipv4Net]) -> String {
    let mut s = format!(
        "[[route_table]]\nname = \"many\"\nvpc = \"{vpc}\"\nsubnets = [\"{subnet}\"]\nroute = [\n"
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

/// `client/eth0` of [`firewall_topology`], 10.0.2.10 in subnet `client`.
pub const CLIENT: EniId = EniId(0);
/// `server/eth0` of [`firewall_topology`], 10.0.12.10 in subnet `server`.
pub const SERVER: EniId = EniId(1);
/// client's address.
pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 10);
/// server's address.
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 12, 10);
/// The destination ports (TCP and UDP) that the last rules of [`firewall_topology`]'s
/// groups allow between client and server.
pub const SERVICE_PORTS: PortRange = PortRange {
    from: 10000,
    to: 59999,
};

/// Filler rule `idx` (0..300) of the groups of [`firewall_toml`]: it never allows a TCP
/// or UDP packet between client and server to a [`SERVICE_PORTS`] port, but most of them
/// get past the peer check (so the protocol and port are checked too).
fn filler_sg_rule(idx: usize) -> String {
    match idx % 5 {
        // The peer matches (the VPC), the port does not.
        0 => format!(
            r#"{{ protocol = "tcp", port = {}, cidr = "10.0.0.0/16" }}"#,
            1000 + idx
        ),
        // The peer is a group both ENIs are members of (a set lookup); the port does not match.
        1 => format!(
            r#"{{ protocol = "udp", port = {}, security_group = "sg-{}" }}"#,
            2000 + idx,
            1 + idx % vpc_config::MAX_SGS_PER_ENI
        ),
        // The ports match, the peer does not.
        2 => format!(
            r#"{{ protocol = "tcp", from_port = {}, to_port = {}, cidr = "172.16.{}.0/24" }}"#,
            SERVICE_PORTS.from,
            SERVICE_PORTS.to,
            idx % 256
        ),
        // The peer matches, the protocol does not.
        3 => format!(
            r#"{{ protocol = "icmp", icmp_type = {}, cidr = "10.0.0.0/16" }}"#,
            idx % 256
        ),
        // All protocols, another peer.
        _ => format!(
            r#"{{ protocol = "all", cidr = "192.168.{}.0/24" }}"#,
            idx % 256
        ),
    }
}

/// The rules of one direction of a network ACL of [`firewall_toml`]: 19 deny rules
/// (10, 20, ... 190) that match no TCP or UDP packet between client and server, then
/// rule 200 allowing everything: 20 rules, AWS's default quota.
fn nacl_rules() -> String {
    let mut s = String::from("[\n");
    for n in 1..vpc_config::MAX_NACL_RULES {
        let number = n * 10;
        let rule = match n % 4 {
            0 => format!(
                r#"protocol = "tcp", port = {}, cidr = "10.0.0.0/16""#,
                1000 + n
            ),
            1 => format!(
                r#"protocol = "udp", port = {}, cidr = "10.0.0.0/16""#,
                2000 + n
            ),
            2 => format!(r#"protocol = "all", cidr = "192.168.{n}.0/24""#),
            _ => format!(r#"protocol = "icmp", icmp_type = {n}, cidr = "10.0.0.0/16""#),
        };
        s.push_str(&format!(
            "  {{ rule_number = {number}, action = \"deny\", {rule} }},\n"
        ));
    }
    s.push_str(
        "  { rule_number = 200, action = \"allow\", protocol = \"all\", cidr = \"0.0.0.0/0\" },\n]",
    );
    s
}

/// The configuration text of the cold-path topology: VPC 10.0.0.0/16 with subnets
/// `client` (10.0.2.0/24, az a) and `server` (10.0.12.0/24, az b) and instances
/// `client` (10.0.2.10) and `server` (10.0.12.10), each with the same five security
/// groups `sg-1`..`sg-5` of 60 ingress and 60 egress rules (AWS's maxima,
/// `vpc_config::MAX_SGS_PER_ENI` and `MAX_SG_RULES`). Of those 300 rules per direction
/// only the last two allow traffic between the two: `sg-5`'s rule 58 allows TCP and
/// rule 59 UDP to the [`SERVICE_PORTS`], egress to 10.0.12.0/24 and ingress from
/// 10.0.2.0/24; every earlier rule fails on the peer, the protocol or the port (see
/// `filler_sg_rule`). No rule's peer is 0.0.0.0/0 with all ports, so every allowed
/// flow is tracked and a first packet evaluates all 300 rules once on each ENI.
///
/// Each subnet has its own network ACL (`client-nacl`, `server-nacl`) of 20 rules per
/// direction: 19 non-matching denies, then rule 200 allowing all. Subnet `client` uses
/// route table `many`: `local` plus a route to appliance `fw` (10.0.2.20, source/dest
/// check off) for each of `prefixes`; `server` uses the main table (`local`). No flow
/// log, no gateways.
pub fn firewall_toml(prefixes: &[Ipv4Net]) -> String {
    let groups: Vec<String> = (1..=vpc_config::MAX_SGS_PER_ENI)
        .map(|g| format!("\"sg-{g}\""))
        .collect();
    let groups = groups.join(", ");
    let mut s = format!(
        "[[vpc]]\nname = \"bench\"\ncidr = \"10.0.0.0/16\"\n\n\
         [[subnet]]\nname = \"client\"\nvpc = \"bench\"\ncidr = \"10.0.2.0/24\"\naz = \"a\"\n\n\
         [[subnet]]\nname = \"server\"\nvpc = \"bench\"\ncidr = \"10.0.12.0/24\"\naz = \"b\"\n\n\
         [[instance]]\nname = \"client\"\nsubnet = \"client\"\nprivate_ip = \"{CLIENT_IP}\"\n\
         security_groups = [{groups}]\n\n\
         [[instance]]\nname = \"server\"\nsubnet = \"server\"\nprivate_ip = \"{SERVER_IP}\"\n\
         security_groups = [{groups}]\n\n\
         [[instance]]\nname = \"fw\"\nsubnet = \"client\"\nprivate_ip = \"10.0.2.20\"\n\
         source_dest_check = false\nsecurity_groups = [\"fw-sg\"]\n\n\
         [[security_group]]\nname = \"fw-sg\"\nvpc = \"bench\"\n\
         ingress = [{{ protocol = \"all\", cidr = \"0.0.0.0/0\" }}]\n\n"
    );
    let per_group = vpc_config::MAX_SG_RULES;
    let last = vpc_config::MAX_SGS_PER_ENI * per_group;
    for g in 0..vpc_config::MAX_SGS_PER_ENI {
        s.push_str(&format!(
            "[[security_group]]\nname = \"sg-{}\"\nvpc = \"bench\"\n",
            g + 1
        ));
        for (direction, peer) in [("ingress", "10.0.2.0/24"), ("egress", "10.0.12.0/24")] {
            s.push_str(&format!("{direction} = [\n"));
            for j in 0..per_group {
                let idx = g * per_group + j;
                let rule = if idx + 2 >= last {
                    let protocol = if idx + 2 == last { "tcp" } else { "udp" };
                    format!(
                        r#"{{ protocol = "{protocol}", from_port = {}, to_port = {}, cidr = "{peer}" }}"#,
                        SERVICE_PORTS.from, SERVICE_PORTS.to
                    )
                } else {
                    filler_sg_rule(idx)
                };
                s.push_str(&format!("  {rule},\n"));
            }
            s.push_str("]\n");
        }
        s.push('\n');
    }
    let rules = nacl_rules();
    for subnet in ["client", "server"] {
        s.push_str(&format!(
            "[[network_acl]]\nname = \"{subnet}-nacl\"\nvpc = \"bench\"\nsubnets = [\"{subnet}\"]\n\
             ingress = {rules}\negress = {rules}\n\n"
        ));
    }
    s.push_str(&routes_to_fw("bench", "client", prefixes));
    s
}

/// [`firewall_toml`] parsed (and so validated: the group and rule counts are within
/// AWS's maxima), with [`CLIENT`] and [`SERVER`] checked to be client's and server's ENIs.
pub fn firewall_topology(prefixes: &[Ipv4Net]) -> Topology {
    let text = firewall_toml(prefixes);
    let t = vpc_config::parse(&text, "firewall.toml")
        .unwrap_or_else(|e| panic!("the generated topology is invalid: {e}"));
    assert_eq!(t.eni_name(CLIENT).to_string(), "client/eth0");
    assert_eq!(t.eni_name(SERVER).to_string(), "server/eth0");
    t
}

/// The (source port, destination port) of the `i`th distinct flow from client to
/// server: source ports 1024..=65535, then the next destination port of
/// [`SERVICE_PORTS`].
pub fn service_flow_ports(i: usize) -> (u16, u16) {
    const SOURCES: usize = 65536 - 1024;
    let dport = usize::from(SERVICE_PORTS.from) + i / SOURCES;
    assert!(dport <= usize::from(SERVICE_PORTS.to), "too many flows");
    ((1024 + i % SOURCES) as u16, dport as u16)
}

/// The (source port, destination port) of the `i`th of many distinct flows from one
/// address to another, at most 50,000 per destination port (under a NAT gateway's
/// 55,000 connections per destination address, port and protocol): source ports
/// 1024..=51023, destination ports from 1000 up.
pub fn many_flow_ports(i: usize) -> (u16, u16) {
    const PER_PORT: usize = 50_000;
    let dport = 1000 + i / PER_PORT;
    assert!(dport <= 65535, "too many flows");
    ((1024 + i % PER_PORT) as u16, dport as u16)
}

/// The demo without its flow log, whose `web-sg` also allows UDP to ports 1000 to 65535
/// from the VPC: every [`many_flow_ports`] flow from app to web is forwarded (and
/// tracked by both ENIs).
pub fn demo_open_udp() -> Topology {
    let mut t = Topology::demo();
    t.flow_logs.clear();
    let web_sg = t.eni(WEB).security_groups[0];
    t.security_groups[web_sg.index()].ingress.push(SgRule {
        protocol: Protocol::UDP,
        l4: L4Match::Ports(PortRange {
            from: 1000,
            to: 65535,
        }),
        peer: SgPeer::Cidr(Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 16)),
        description: None,
    });
    t
}

/// The destination port of the UDP flows of [`one_subnet_topology`].
pub const ONE_SUBNET_PORT: u16 = 5201;

/// The address of instance `i` of [`one_subnet_topology`]: 10.0.1.(10 + i).
pub fn one_subnet_ip(i: usize) -> Ipv4Addr {
    let last = u8::try_from(10 + i).expect("at most 245 instances");
    Ipv4Addr::new(10, 0, 1, last)
}

/// A VPC `bench` (10.0.0.0/16) with one subnet `s` (10.0.1.0/24, az a) and `n`
/// instances `i0`, `i1`, ... at [`one_subnet_ip`], all in security group `udp-sg`,
/// which allows UDP to [`ONE_SUBNET_PORT`] from the VPC (and all outbound traffic, as
/// every group): a datagram to that port between any two instances is forwarded and
/// tracked by both ENIs (no rule is open to 0.0.0.0/0). The main route table (`local`
/// only), the default network ACL, no flow log, no gateway.
pub fn one_subnet_toml(n: usize) -> String {
    let mut s = String::from(
        "[[vpc]]\nname = \"bench\"\ncidr = \"10.0.0.0/16\"\n\n\
         [[subnet]]\nname = \"s\"\nvpc = \"bench\"\ncidr = \"10.0.1.0/24\"\naz = \"a\"\n\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "[[instance]]\nname = \"i{i}\"\nsubnet = \"s\"\nprivate_ip = \"{}\"\n\
             security_groups = [\"udp-sg\"]\n\n",
            one_subnet_ip(i)
        ));
    }
    s.push_str(&format!(
        "[[security_group]]\nname = \"udp-sg\"\nvpc = \"bench\"\n\
         ingress = [{{ protocol = \"udp\", port = {ONE_SUBNET_PORT}, cidr = \"10.0.0.0/16\" }}]\n"
    ));
    s
}

/// [`one_subnet_toml`] parsed, with ENI `i` checked to be instance `i`'s.
pub fn one_subnet_topology(n: usize) -> Topology {
    let t = vpc_config::parse(&one_subnet_toml(n), "one-subnet.toml")
        .unwrap_or_else(|e| panic!("the generated topology is invalid: {e}"));
    for i in 0..n {
        let eni = EniId(u32::try_from(i).expect("few instances"));
        assert_eq!(t.eni_name(eni).to_string(), format!("i{i}/eth0"));
    }
    t
}

/// `n` distinct UDP flows as a connection table sees them: a random client in
/// 10.0.0.0/8 and source port 1024.., to a random public address (first octet 1..=223,
/// not 10 or 127) on one of a few service ports. Distinct tuples, in a deterministic
/// order.
pub fn distinct_udp_flows(n: usize, rng: &mut XorShift) -> Vec<FlowFacts> {
    const SERVICES: [u16; 8] = [53, 80, 123, 443, 3478, 5201, 8080, 51820];
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let src = Ipv4Addr::from(0x0a00_0000 | (rng.next_u32() & 0x00ff_ffff));
        let sport = 1024 + rng.below(65536 - 1024) as u16;
        let dst = Ipv4Addr::from(rng.next_u32());
        let first = dst.octets()[0];
        if first == 0 || first == 10 || first == 127 || first >= 224 {
            continue;
        }
        let dport = SERVICES[rng.below(SERVICES.len() as u32) as usize];
        if seen.insert((src, sport, dst, dport)) {
            let f = FlowFacts::parse(&udp_ports(src, sport, dst, dport, 28))
                .expect("a well-formed datagram");
            out.push(f);
        }
    }
    out
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
    fn tcp_segments_have_valid_checksums_and_parse() {
        let syn = tcp_syn(CLIENT_IP, 40000, SERVER_IP, 10000, 1000);
        assert_eq!(syn.len(), 60);
        assert!(checksum::verifies(&syn[..20]));
        assert!(checksum::transport_verifies(
            CLIENT_IP,
            SERVER_IP,
            PROTO_TCP,
            &syn[20..]
        ));
        assert!(FlowFacts::parse(&syn).is_some());
        let data = tcp(
            CLIENT_IP,
            40000,
            SERVER_IP,
            10000,
            tcp_flags::ACK | tcp_flags::PSH,
            (1001, 5001),
            &[],
            84,
        );
        assert_eq!(data.len(), 84);
        assert!(checksum::transport_verifies(
            CLIENT_IP,
            SERVER_IP,
            PROTO_TCP,
            &data[20..]
        ));
    }

    #[test]
    fn the_firewall_topology_is_at_the_maxima_and_evaluates_every_rule() {
        use vpc_dataplane::flowlog::Direction;
        use vpc_dataplane::sg::SgDecision;
        use vpc_dataplane::trace::{Probe, Step, Tracking};

        let prefixes = outside_slash_24s(1000, &mut XorShift::new(3));
        let t = firewall_topology(&prefixes);
        for eni in [CLIENT, SERVER] {
            let groups = &t.eni(eni).security_groups;
            assert_eq!(groups.len(), vpc_config::MAX_SGS_PER_ENI);
            for &g in groups {
                let g = t.security_group(g);
                assert_eq!(g.ingress.len(), vpc_config::MAX_SG_RULES);
                assert_eq!(g.egress.len(), vpc_config::MAX_SG_RULES);
            }
            let acl = t.network_acl(t.subnet(t.eni(eni).subnet).network_acl);
            assert_eq!(acl.ingress.len(), vpc_config::MAX_NACL_RULES);
            assert_eq!(acl.egress.len(), vpc_config::MAX_NACL_RULES);
        }
        let rt = t.route_table(t.subnet(t.eni(CLIENT).subnet).route_table);
        assert_eq!(rt.routes.len(), 1001);

        let mut dp = Dataplane::new(&t);
        // The rules that decide: the last two of sg-5 (300 per direction), NACL rule 200.
        for (probe, index) in [(Probe::Tcp(10000), 58), (Probe::Udp(59999), 59)] {
            let trace = dp.trace(Time::from_secs(1), CLIENT, SERVER_IP, probe);
            assert_eq!(trace.verdict, Verdict::Forward { to: SERVER.into() });
            let mut groups = 0;
            let mut nacls = 0;
            for step in &trace.steps {
                match *step {
                    Step::SecurityGroup {
                        eni,
                        direction,
                        tracking,
                    } => {
                        let Tracking::Rules(SgDecision::Allowed { rule, tracked }) = tracking
                        else {
                            panic!("{probe:?}: {tracking:?}");
                        };
                        assert!(tracked, "{probe:?}");
                        assert_eq!(t.security_group(rule.group).name, "sg-5");
                        assert_eq!(rule.index, index, "{probe:?}");
                        let want = if eni == CLIENT {
                            Direction::Egress
                        } else {
                            Direction::Ingress
                        };
                        assert_eq!(direction, want);
                        groups += 1;
                    }
                    Step::Nacl { decision, .. } => {
                        assert_eq!(decision.rule, Some(200));
                        nacls += 1;
                    }
                    _ => {}
                }
            }
            assert_eq!((groups, nacls), (2, 2), "{probe:?}");
        }
        // Outside the service ports, nothing allows it.
        let denied = dp.trace(Time::from_secs(1), CLIENT, SERVER_IP, Probe::Tcp(9999));
        assert!(matches!(denied.verdict, Verdict::Drop(_)));

        // A first SYN and datagram create a flow on both ENIs; a second is tracked.
        let (sport, dport) = service_flow_ports(70_000);
        assert_eq!((sport, dport), (6512, 10001));
        for p in [
            tcp_syn(CLIENT_IP, sport, SERVER_IP, dport, 1000),
            udp_ports(CLIENT_IP, sport, SERVER_IP, dport, 84),
        ] {
            let before = dp.conntrack_stats(SERVER).0.inserted;
            for round in 0..2 {
                let mut pkt = PacketBuf::from_bytes(&p);
                assert_eq!(
                    dp.process(Time::from_secs(1), CLIENT, &mut pkt),
                    Verdict::Forward { to: SERVER.into() }
                );
                assert_eq!(dp.conntrack_stats(CLIENT).0.inserted, before + 1, "{round}");
                assert_eq!(dp.conntrack_stats(SERVER).0.inserted, before + 1, "{round}");
            }
        }
    }

    #[test]
    fn flow_generators_are_distinct() {
        let ports: HashSet<_> = (0..200_000).map(service_flow_ports).collect();
        assert_eq!(ports.len(), 200_000);
        let ports: HashSet<_> = (0..200_000).map(many_flow_ports).collect();
        assert_eq!(ports.len(), 200_000);
        assert_eq!(many_flow_ports(49_999), (51023, 1000));
        assert_eq!(many_flow_ports(50_000), (1024, 1001));
        let flows = distinct_udp_flows(1000, &mut XorShift::new(4));
        let mut table = vpc_dataplane::flowtable::FlowTable::new(2000);
        for f in &flows {
            assert!(table.insert(Time::from_secs(1), f));
        }
        assert_eq!(table.len(), 1000);
        assert!(flows.iter().all(|f| table.lookup(Time::from_secs(1), f)));
    }

    #[test]
    fn the_open_demo_forwards_many_udp_flows_from_app_to_web() {
        let t = demo_open_udp();
        let mut dp = Dataplane::new(&t);
        for i in [0, 49_999, 50_000, 1_000_000] {
            let (sport, dport) = many_flow_ports(i);
            let mut pkt = PacketBuf::from_bytes(&udp_ports(APP_IP, sport, WEB_IP, dport, 28));
            assert_eq!(
                dp.process(Time::from_secs(1), APP, &mut pkt),
                Verdict::Forward { to: Port::Eni(WEB) }
            );
        }
        assert_eq!(dp.conntrack_stats(APP).1, 4);
        assert_eq!(dp.conntrack_stats(WEB).1, 4);
    }

    #[test]
    fn the_one_subnet_topology_forwards_and_tracks_udp_between_any_two() {
        let t = one_subnet_topology(8);
        let mut dp = Dataplane::new(&t);
        for (from, to) in [(0, 1), (6, 7), (3, 2)] {
            let (src, dst) = (one_subnet_ip(from), one_subnet_ip(to));
            let p = udp_ports(src, 40000, dst, ONE_SUBNET_PORT, 84);
            let mut pkt = PacketBuf::from_bytes(&p);
            let (from, to) = (EniId(from as u32), EniId(to as u32));
            assert_eq!(
                dp.process(Time::from_secs(1), from, &mut pkt),
                Verdict::Forward { to: Port::Eni(to) }
            );
            for eni in [from, to] {
                assert_eq!(dp.flows(eni, Time::from_secs(1)).count(), 1);
            }
        }
        // Another port: no rule allows it.
        let p = udp_ports(one_subnet_ip(0), 40000, one_subnet_ip(1), 5202, 84);
        let mut pkt = PacketBuf::from_bytes(&p);
        assert!(matches!(
            dp.process(Time::from_secs(1), EniId(0), &mut pkt),
            Verdict::Drop(_)
        ));
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
