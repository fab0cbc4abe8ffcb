//! The internet path through the whole pipeline, with literal addresses: the internet
//! gateway's 1:1 NAT both ways, the NAT gateway's source NAT (TCP, UDP, echo, ICMP
//! errors, port exhaustion, idle timeout and its RST, endpoint-dependent filtering,
//! unsolicited traffic), hairpinning, the 1500-byte MTU, blackholes after detaching or
//! deleting a gateway. Every translated packet's checksums are verified from scratch.

use std::net::Ipv4Addr;
use std::time::Duration;

use vpc_config::{EniId, HostId, NatGatewayId, Topology};

use super::{ACK, SYN, SYN_ACK, addr, assert_checksums, be16, send, to_eni};
use crate::packet::PacketBuf;
use crate::pipeline::Dataplane;
use crate::testkit::{echo, ipv4, port_unreachable, tcp, udp};
use crate::time::Time;
use crate::verdict::{DropReason, Port, Reply, Verdict};
use crate::wire::checksum;

const WEB: EniId = EniId(0);
const APP: EniId = EniId(1);
const LONELY: EniId = EniId(2);
const INTERNET: HostId = HostId(0);
const NAT: NatGatewayId = NatGatewayId(0);

const WEB_IP: [u8; 4] = [10, 0, 1, 10];
const APP_IP: [u8; 4] = [10, 0, 2, 10];
const LONELY_IP: [u8; 4] = [10, 0, 1, 11];
const WEB_EIP: [u8; 4] = [198, 51, 100, 10];
const NAT_EIP: [u8; 4] = [198, 51, 100, 20];
const HOST_IP: [u8; 4] = [203, 0, 113, 10];
const T0: Time = Time::from_secs(1000);

/// A VPC with a public subnet (web with an Elastic IP, lonely without a public address,
/// the NAT gateway with 4 source ports) and a private one (app), an internet gateway,
/// and one internet host.
const TOPOLOGY: &str = r#"
[[vpc]]
name = "v"
cidr = "10.0.0.0/16"

[[subnet]]
name = "public"
vpc = "v"
cidr = "10.0.1.0/24"
az = "a"

[[subnet]]
name = "private"
vpc = "v"
cidr = "10.0.2.0/24"
az = "a"

[[instance]]
name = "web"
subnet = "public"
private_ip = "10.0.1.10"
security_groups = ["web-sg"]

[[instance]]
name = "app"
subnet = "private"
private_ip = "10.0.2.10"

[[instance]]
name = "lonely"
subnet = "public"
private_ip = "10.0.1.11"

[[security_group]]
name = "web-sg"
vpc = "v"
ingress = [{ protocol = "tcp", port = 80, cidr = "0.0.0.0/0" }]

[[internet_gateway]]
name = "igw"
vpc = "v"

[[elastic_ip]]
address = "198.51.100.10"
instance = "web"

[[elastic_ip]]
name = "nat-eip"
address = "198.51.100.20"

[[nat_gateway]]
name = "nat"
subnet = "public"
elastic_ips = ["nat-eip"]
private_ips = ["10.0.1.5"]
source_ports = "1024-1027"

[[route_table]]
name = "public-rt"
vpc = "v"
subnets = ["public"]
route = [{ destination = "0.0.0.0/0", internet_gateway = "igw" }]

[[route_table]]
name = "private-rt"
vpc = "v"
subnets = ["private"]
route = [{ destination = "0.0.0.0/0", nat_gateway = "nat" }]

[[internet_host]]
name = "internet"
address = "203.0.113.10"
"#;

pub(crate) fn topology() -> Topology {
    vpc_config::parse(TOPOLOGY, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn dataplane() -> Dataplane {
    Dataplane::new(&topology())
}

fn to_host() -> Verdict {
    Verdict::Forward {
        to: Port::Host(INTERNET),
    }
}

#[test]
fn a_private_instance_reaches_the_internet_through_the_nat_gateway() {
    let mut dp = dataplane();
    let syn = tcp(APP_IP, 40000, HOST_IP, 80, SYN, 1000, 0);
    let (v, out) = send(&mut dp, T0, APP, &syn);
    assert_eq!(v, to_host());
    assert_checksums(&out);
    assert_eq!(
        addr(&out, 12),
        NAT_EIP,
        "the internet sees the NAT gateway's Elastic IP"
    );
    assert_eq!(addr(&out, 16), HOST_IP);
    let port = be16(&out, 20);
    assert!((1024..=1027).contains(&port), "source port {port}");
    assert_eq!(be16(&out, 22), 80);

    let syn_ack = tcp(HOST_IP, 80, NAT_EIP, port, SYN_ACK, 5000, 1001);
    let (v, back) = send(&mut dp, T0, INTERNET, &syn_ack);
    assert_eq!(v, to_eni(APP));
    assert_checksums(&back);
    assert_eq!((addr(&back, 12), addr(&back, 16)), (HOST_IP, APP_IP));
    assert_eq!((be16(&back, 20), be16(&back, 22)), (80, 40000));

    let m = dp.nat_metrics(NAT);
    assert_eq!(m.connection_attempt_count, 1);
    assert_eq!(m.connection_established_count, 1);
    assert_eq!(m.active_connection_count, 1);
    assert_eq!(
        (m.packets_in_from_source, m.packets_out_to_destination),
        (1, 1)
    );
    assert_eq!(
        (m.packets_in_from_destination, m.packets_out_to_source),
        (1, 1)
    );
    assert_eq!((m.bytes_in_from_source, m.bytes_out_to_source), (40, 40));
    assert_eq!(m.packets_drop_count, 0);
    assert_eq!(dp.nat_mappings(NAT, T0).len(), 1);
}

#[test]
fn replies_only_from_the_mapped_remote_address_and_port() {
    let mut dp = dataplane();
    let (_, out) = send(&mut dp, T0, APP, &udp(APP_IP, 5353, HOST_IP, 53));
    let port = be16(&out, 20);
    // The right remote, the wrong port; then the right one.
    let (v, _) = send(&mut dp, T0, INTERNET, &udp(HOST_IP, 54, NAT_EIP, port));
    assert_eq!(v, Verdict::Drop(DropReason::NatUnsolicited));
    let (v, back) = send(&mut dp, T0, INTERNET, &udp(HOST_IP, 53, NAT_EIP, port));
    assert_eq!(v, to_eni(APP));
    assert_checksums(&back);
    assert_eq!((addr(&back, 16), be16(&back, 22)), (APP_IP, 5353));
    assert_eq!(dp.nat_metrics(NAT).packets_drop_count, 1);
}

#[test]
fn nothing_unsolicited_passes_the_nat_gateway_and_it_answers_no_ping() {
    let mut dp = dataplane();
    let before = dp.counters().clone();
    for port in [22, 80, 1024, 1025, 8080] {
        let (v, _) = send(
            &mut dp,
            T0,
            INTERNET,
            &tcp(HOST_IP, 40000, NAT_EIP, port, SYN, 1, 0),
        );
        assert_eq!(v, Verdict::Drop(DropReason::NatUnsolicited), "port {port}");
        let (v, _) = send(&mut dp, T0, INTERNET, &udp(HOST_IP, 40000, NAT_EIP, port));
        assert_eq!(v, Verdict::Drop(DropReason::NatUnsolicited), "port {port}");
    }
    let (v, _) = send(&mut dp, T0, INTERNET, &echo(HOST_IP, NAT_EIP, true, 7));
    assert_eq!(v, Verdict::Drop(DropReason::NatUnsolicited));
    let after = dp.counters();
    assert_eq!(
        after.dropped(DropReason::NatUnsolicited) - before.dropped(DropReason::NatUnsolicited),
        11
    );
    for e in [WEB, APP, LONELY] {
        assert_eq!(after.eni(e).tx_packets, 0);
    }
    assert_eq!(dp.nat_metrics(NAT).packets_drop_count, 11);
}

#[test]
fn the_internet_reaches_a_public_instance_by_its_elastic_ip_only() {
    let mut dp = dataplane();
    let syn = tcp(HOST_IP, 50000, WEB_EIP, 80, SYN, 7, 0);
    let (v, inb) = send(&mut dp, T0, INTERNET, &syn);
    assert_eq!(v, to_eni(WEB));
    assert_checksums(&inb);
    assert_eq!((addr(&inb, 12), addr(&inb, 16)), (HOST_IP, WEB_IP));
    let reply = tcp(WEB_IP, 80, HOST_IP, 50000, SYN_ACK, 99, 8);
    let (v, out) = send(&mut dp, T0, WEB, &reply);
    assert_eq!(v, to_host());
    assert_checksums(&out);
    assert_eq!((addr(&out, 12), addr(&out, 16)), (WEB_EIP, HOST_IP));
    // web-sg opens port 80 only; private addresses are not on the internet.
    let (v, _) = send(
        &mut dp,
        T0,
        INTERNET,
        &tcp(HOST_IP, 50001, WEB_EIP, 22, SYN, 7, 0),
    );
    assert_eq!(v, Verdict::Drop(DropReason::SgIngress));
    let (v, _) = send(
        &mut dp,
        T0,
        INTERNET,
        &tcp(HOST_IP, 50002, WEB_IP, 80, SYN, 7, 0),
    );
    assert_eq!(v, Verdict::Drop(DropReason::InternetNoRoute));
    // An internet host may only send from its own address.
    let (v, _) = send(
        &mut dp,
        T0,
        INTERNET,
        &tcp(NAT_EIP, 1, WEB_EIP, 80, SYN, 7, 0),
    );
    assert_eq!(v, Verdict::Drop(DropReason::SpoofedSource));
}

#[test]
fn an_instance_without_a_public_address_cannot_use_the_internet_gateway() {
    let mut dp = dataplane();
    let (v, _) = send(
        &mut dp,
        T0,
        LONELY,
        &tcp(LONELY_IP, 40000, HOST_IP, 80, SYN, 1, 0),
    );
    assert_eq!(v, Verdict::Drop(DropReason::IgwNoPublicIp));
}

#[test]
fn with_n_ports_n_plus_k_connections_to_one_destination_k_fail() {
    let mut dp = dataplane();
    let mut ports = Vec::new();
    let mut failed = 0;
    for i in 0..7u16 {
        let (v, out) = send(
            &mut dp,
            T0,
            APP,
            &tcp(APP_IP, 40000 + i, HOST_IP, 80, SYN, 1, 0),
        );
        match v {
            Verdict::Forward { .. } => ports.push(be16(&out, 20)),
            Verdict::Drop(DropReason::NatPortAllocation) => failed += 1,
            other => panic!("{other:?}"),
        }
    }
    ports.sort_unstable();
    assert_eq!(ports, vec![1024, 1025, 1026, 1027], "every port once");
    assert_eq!(failed, 3);
    let m = dp.nat_metrics(NAT);
    assert_eq!(m.error_port_allocation, 3);
    assert_eq!(m.connection_attempt_count, 7);
    assert_eq!(dp.counters().dropped(DropReason::NatPortAllocation), 3);
    // Another destination port still gets ports.
    let (v, _) = send(
        &mut dp,
        T0,
        APP,
        &tcp(APP_IP, 40100, HOST_IP, 443, SYN, 1, 0),
    );
    assert_eq!(v, to_host());
}

#[test]
fn after_the_idle_timeout_a_segment_from_inside_gets_a_reset() {
    let mut dp = dataplane();
    let (_, out) = send(
        &mut dp,
        T0,
        APP,
        &tcp(APP_IP, 40000, HOST_IP, 80, SYN, 1000, 0),
    );
    let port = be16(&out, 20);
    send(
        &mut dp,
        T0,
        INTERNET,
        &tcp(HOST_IP, 80, NAT_EIP, port, SYN_ACK, 5000, 1001),
    );
    let ack = tcp(APP_IP, 40000, HOST_IP, 80, ACK, 1001, 5001);
    assert_eq!(send(&mut dp, T0, APP, &ack).0, to_host());
    let (v, _) = send(&mut dp, T0 + Duration::from_secs(349), APP, &ack);
    assert_eq!(v, to_host(), "349 s idle: still translated");
    let late = T0 + Duration::from_secs(349 + 351);
    assert_eq!(dp.expire(late), 1);
    assert_eq!(dp.nat_metrics(NAT).idle_timeout_count, 1);
    let (v, rst) = send(&mut dp, late, APP, &ack);
    assert_eq!(
        v,
        Verdict::Reply {
            to: Port::Eni(APP),
            reply: Reply::TcpReset {
                cause: DropReason::NatNoMapping
            }
        }
    );
    assert_checksums(&rst);
    assert_eq!(rst.len(), 40);
    assert_eq!((addr(&rst, 12), addr(&rst, 16)), (HOST_IP, APP_IP));
    assert_eq!((be16(&rst, 20), be16(&rst, 22)), (80, 40000));
    assert_eq!(
        &rst[24..28],
        &5001u32.to_be_bytes(),
        "seq = the segment's ack"
    );
    assert_eq!(rst[33], 0x04, "RST, no ACK");
    // A RST from inside is never answered with a RST (RFC 793): only dropped.
    let before = dp.counters().eni(APP).dropped(DropReason::NatNoMapping);
    let reset = tcp(APP_IP, 40000, HOST_IP, 80, 0x04, 1001, 0);
    let (v, out) = send(&mut dp, late, APP, &reset);
    assert_eq!(v, Verdict::Drop(DropReason::NatNoMapping));
    assert_eq!(out, reset, "nothing was built in its place");
    let after = dp.counters().eni(APP).dropped(DropReason::NatNoMapping);
    assert_eq!(after - before, 1);
    let rst_ack = tcp(APP_IP, 40000, HOST_IP, 80, 0x14, 1001, 5001);
    assert_eq!(
        send(&mut dp, late, APP, &rst_ack).0,
        Verdict::Drop(DropReason::NatNoMapping)
    );
}

#[test]
fn flows_through_the_nat_gateway_are_tracked_even_when_the_groups_are_open() {
    // app's group allows everything both ways: its flows inside the VPC are untracked,
    // but AWS tracks every flow through a NAT gateway.
    let mut t = topology();
    let group = t.enis[APP.index()].security_groups[0];
    let everything = t.security_groups[group.index()].egress[0].clone();
    t.security_groups[group.index()].ingress = vec![everything];
    let mut dp = Dataplane::new(&t);
    let to_web = tcp(APP_IP, 40001, WEB_IP, 80, SYN, 1, 0);
    assert_eq!(send(&mut dp, T0, APP, &to_web).0, to_eni(WEB));
    assert_eq!(dp.flows(APP, T0).count(), 0, "untracked inside the VPC");
    let syn = tcp(APP_IP, 40000, HOST_IP, 80, SYN, 1000, 0);
    assert_eq!(send(&mut dp, T0, APP, &syn).0, to_host());
    let datagram = udp(APP_IP, 5353, HOST_IP, 53);
    assert_eq!(send(&mut dp, T0, APP, &datagram).0, to_host());
    let mut flows: Vec<_> = dp
        .flows(APP, T0)
        .map(|f| (f.proto, f.dst_port, f.state))
        .collect();
    flows.sort();
    assert_eq!(flows, [(6, 80, "syn-sent"), (17, 53, "unreplied")]);
}

#[test]
fn echo_identifiers_are_translated_both_ways() {
    let mut dp = dataplane();
    let (v, out) = send(&mut dp, T0, APP, &echo(APP_IP, HOST_IP, true, 0x4242));
    assert_eq!(v, to_host());
    assert_checksums(&out);
    let id = be16(&out, 24);
    assert!((1024..=1027).contains(&id));
    let (v, back) = send(&mut dp, T0, INTERNET, &echo(HOST_IP, NAT_EIP, false, id));
    assert_eq!(v, to_eni(APP));
    assert_checksums(&back);
    assert_eq!(be16(&back, 24), 0x4242);
    assert_eq!(addr(&back, 16), APP_IP);
}

#[test]
fn an_icmp_error_about_a_translated_flow_is_translated_inside_and_out() {
    let mut dp = dataplane();
    let (_, out) = send(&mut dp, T0, APP, &udp(APP_IP, 5353, HOST_IP, 53));
    // The host's error quotes the datagram as it arrived (from the NAT's Elastic IP).
    let err = port_unreachable(HOST_IP, NAT_EIP, &out);
    let (v, back) = send(&mut dp, T0, INTERNET, &err);
    assert_eq!(v, to_eni(APP));
    assert_checksums(&back);
    assert_eq!(addr(&back, 16), APP_IP);
    let quote = &back[28..];
    assert!(checksum::verifies(&quote[..20]), "quoted header checksum");
    assert_eq!((addr(quote, 12), be16(quote, 20)), (APP_IP, 5353));
    assert_eq!(
        quote,
        &udp(APP_IP, 5353, HOST_IP, 53)[..],
        "the quote is what app sent"
    );
}

#[test]
fn a_zero_udp_checksum_stays_zero_through_both_gateways() {
    let mut dp = dataplane();
    let mut d = udp(APP_IP, 5353, HOST_IP, 53);
    d[26..28].copy_from_slice(&[0, 0]);
    let (v, out) = send(&mut dp, T0, APP, &d);
    assert_eq!(v, to_host());
    assert_eq!(be16(&out, 26), 0);
    assert_checksums(&out);
}

#[test]
fn hairpin_to_a_public_address_of_the_same_vpc() {
    let mut dp = dataplane();
    let (v, inb) = send(
        &mut dp,
        T0,
        APP,
        &tcp(APP_IP, 40000, WEB_EIP, 80, SYN, 1, 0),
    );
    assert_eq!(v, to_eni(WEB));
    assert_checksums(&inb);
    assert_eq!(
        (addr(&inb, 12), addr(&inb, 16)),
        (NAT_EIP, WEB_IP),
        "web sees the NAT's address"
    );
    let port = be16(&inb, 20);
    let (v, back) = send(
        &mut dp,
        T0,
        WEB,
        &tcp(WEB_IP, 80, NAT_EIP, port, SYN_ACK, 9, 2),
    );
    assert_eq!(v, to_eni(APP));
    assert_checksums(&back);
    assert_eq!(
        (addr(&back, 12), addr(&back, 16)),
        (WEB_EIP, APP_IP),
        "app sees web's public address"
    );
    assert_eq!((be16(&back, 20), be16(&back, 22)), (80, 40000));
}

/// A UDP datagram from port 5353 to 53 of `len` bytes (header included), zeros after
/// the header, checksum 0 (none).
fn udp_bytes(len: u16) -> Vec<u8> {
    let mut u = vec![0u8; usize::from(len)];
    u[0..2].copy_from_slice(&5353u16.to_be_bytes());
    u[2..4].copy_from_slice(&53u16.to_be_bytes());
    u[4..6].copy_from_slice(&len.to_be_bytes());
    u
}

#[test]
fn larger_than_1500_with_df_gets_fragmentation_needed() {
    let mut dp = dataplane();
    let big = ipv4(APP_IP, HOST_IP, 64, 17, &udp_bytes(1580));
    let (v, err) = send(&mut dp, T0, APP, &big);
    assert_eq!(
        v,
        Verdict::Reply {
            to: Port::Eni(APP),
            reply: Reply::IcmpError {
                cause: DropReason::TooBig
            }
        }
    );
    assert_checksums(&err);
    assert_eq!(addr(&err, 12), [10, 0, 2, 1], "from app's subnet router");
    assert_eq!((err[20], err[21]), (3, 4));
    assert_eq!(be16(&err, 26), 1500);
    assert_eq!(dp.nat_mappings(NAT, T0).len(), 0, "nothing was translated");
}

#[test]
fn larger_than_1500_without_df_is_fragmented_at_the_internet_gateway() {
    // AWS: "they are fragmented, or they are dropped if the Don't Fragment flag is
    // set". A 3000-byte ping from web (its Elastic IP) leaves as 1500 + 1500 + 40
    // bytes of fragments; the pipeline marks it, the writer cuts it.
    let mut dp = dataplane();
    let mut ping = echo(WEB_IP, HOST_IP, true, 7);
    let payload: Vec<u8> = (0..2972).map(|i| i as u8).collect();
    ping = ipv4(WEB_IP, HOST_IP, 64, 1, &{
        let mut icmp = ping[20..28].to_vec();
        icmp[2..4].copy_from_slice(&[0, 0]);
        icmp.extend_from_slice(&payload);
        let c = checksum::internet(&icmp);
        icmp[2..4].copy_from_slice(&c.to_be_bytes());
        icmp
    });
    set_frag(&mut ping, false, 0);
    assert_eq!(ping.len(), 3000);
    let before = dp.counters().clone();
    let mut pkt = PacketBuf::from_bytes(&ping);
    assert_eq!(dp.process(T0, WEB, &mut pkt), to_host());
    assert_eq!(pkt.fragment_mtu(), Some(1500));
    assert_eq!(addr(pkt.as_bytes(), 12), WEB_EIP, "translated whole");
    let frags: Vec<_> = crate::wire::fragment::Fragments::new(pkt.as_bytes(), 1500)
        .unwrap()
        .map(|f| (f.header().len() + f.payload.len(), be16(f.header(), 6)))
        .collect();
    // MF and the offsets (8-byte units) 0, 185, 370.
    assert_eq!(frags, [(1500, 0x2000), (1500, 0x2000 | 185), (40, 370)]);
    let host = (dp.counters().host(INTERNET), before.host(INTERNET));
    assert_eq!(
        (
            host.0.tx_packets - host.1.tx_packets,
            host.0.tx_bytes - host.1.tx_bytes
        ),
        (3, 3040),
        "the host's port counts the fragments"
    );
    // Through the NAT gateway too, and a packet that fits is left alone.
    let mut no_df = ipv4(APP_IP, HOST_IP, 64, 17, &udp_bytes(1580));
    set_frag(&mut no_df, false, 0);
    let mut pkt = PacketBuf::from_bytes(&no_df);
    assert_eq!(dp.process(T0, APP, &mut pkt), to_host());
    assert_eq!(pkt.fragment_mtu(), Some(1500));
    let mut small = PacketBuf::from_bytes(&udp(APP_IP, 5353, HOST_IP, 53));
    assert_eq!(dp.process(T0, APP, &mut small), to_host());
    assert_eq!(small.fragment_mtu(), None);
    // Between instances of the VPC (MTU 9001) nothing is fragmented.
    let mut inside = PacketBuf::from_bytes(&no_df);
    let mut to_web = no_df.clone();
    to_web[16..20].copy_from_slice(&WEB_IP);
    to_web[10..12].copy_from_slice(&[0, 0]);
    let c = checksum::internet(&to_web[..20]);
    to_web[10..12].copy_from_slice(&c.to_be_bytes());
    inside.buffer_mut()[..to_web.len()].copy_from_slice(&to_web);
    let verdict = dp.process(T0, APP, &mut inside);
    assert_eq!(inside.fragment_mtu(), None, "{verdict:?}");
}

#[test]
fn a_partial_checksum_is_completed_before_fragmenting() {
    // A UDP datagram whose checksum the sender's kernel left partial (offloads):
    // fragments cannot carry a partial checksum.
    let mut dp = dataplane();
    let mut u = udp_bytes(1980);
    for (i, b) in u[8..].iter_mut().enumerate() {
        *b = (i * 7) as u8;
    }
    let mut d = ipv4(WEB_IP, HOST_IP, 64, 17, &u);
    set_frag(&mut d, false, 0);
    // The pseudo-header sum, as the kernel leaves it.
    let pseudo = checksum::fold(checksum::sum(&d[12..20]) + 17 + 1980);
    d[26..28].copy_from_slice(&pseudo.to_be_bytes());
    let mut pkt = PacketBuf::from_bytes(&d);
    pkt.set_offload(crate::packet::Offload {
        csum: crate::packet::Csum::Partial {
            start: 20,
            offset: 6,
        },
        gso: crate::packet::Gso::None,
    });
    assert_eq!(dp.process(T0, WEB, &mut pkt), to_host());
    assert_eq!(pkt.offload(), crate::packet::Offload::default());
    assert_eq!(pkt.fragment_mtu(), Some(1500));
    assert_checksums(pkt.as_bytes());
}

#[test]
fn a_fragment_larger_than_1500_is_fragmented_and_so_are_its_later_fragments() {
    // An instance (MTU 9001) sends a 12,000-byte UDP datagram as a 9000-byte first
    // fragment and the rest; each leaves the internet gateway in pieces of 1500 bytes
    // at most.
    let mut dp = dataplane();
    let u = udp_bytes(11_980);
    let mut first = ipv4(WEB_IP, HOST_IP, 64, 17, &u[..8976]);
    set_frag(&mut first, true, 0);
    let mut rest = ipv4(WEB_IP, HOST_IP, 64, 17, &u[8976..]);
    set_frag(&mut rest, false, 8976 / 8);
    for (p, pieces) in [(&first, 7usize), (&rest, 3)] {
        let mut pkt = PacketBuf::from_bytes(p);
        assert_eq!(dp.process(T0, WEB, &mut pkt), to_host());
        assert_eq!(pkt.fragment_mtu(), Some(1500));
        let frags: Vec<_> = crate::wire::fragment::Fragments::new(pkt.as_bytes(), 1500)
            .unwrap()
            .collect();
        assert_eq!(frags.len(), pieces);
        assert!(
            frags
                .iter()
                .all(|f| f.header().len() + f.payload.len() <= 1500)
        );
        assert_eq!(addr(frags[0].header(), 12), WEB_EIP);
    }
}

#[test]
fn other_protocols_and_tcp_fragments_are_not_translated() {
    let mut dp = dataplane();
    let gre = ipv4(APP_IP, HOST_IP, 64, 47, &[0u8; 8]);
    assert_eq!(
        send(&mut dp, T0, APP, &gre).0,
        Verdict::Drop(DropReason::NatUnsupportedProtocol)
    );
    let mut frag = tcp(APP_IP, 40000, HOST_IP, 80, SYN, 1, 0);
    set_frag(&mut frag, true, 0); // a first fragment
    assert_eq!(
        send(&mut dp, T0, APP, &frag).0,
        Verdict::Drop(DropReason::NatFragment)
    );
}

#[test]
fn detached_gateways_and_deleted_nat_gateways_are_blackholes() {
    let mut dp = dataplane();
    let mut t = dp.topology().clone();
    t.delete_nat_gateway("nat").unwrap();
    dp.apply(&t, T0);
    let (v, _) = send(
        &mut dp,
        T0,
        APP,
        &tcp(APP_IP, 40000, HOST_IP, 80, SYN, 1, 0),
    );
    assert_eq!(v, Verdict::Drop(DropReason::RouteBlackhole));
    let private_rt = vpc_config::RouteTableId(1);
    assert!(
        dp.routes(private_rt)
            .any(|(_, s)| s == crate::route::RouteState::Blackhole)
    );
    // web still reaches the internet until the internet gateway is detached.
    let (v, _) = send(
        &mut dp,
        T0,
        WEB,
        &tcp(WEB_IP, 40000, HOST_IP, 80, SYN, 1, 0),
    );
    assert_eq!(v, to_host());
    t.detach_internet_gateway("igw").unwrap();
    dp.apply(&t, T0);
    let (v, _) = send(
        &mut dp,
        T0,
        WEB,
        &tcp(WEB_IP, 40001, HOST_IP, 80, SYN, 1, 0),
    );
    assert_eq!(v, Verdict::Drop(DropReason::RouteBlackhole));
    let (v, _) = send(
        &mut dp,
        T0,
        INTERNET,
        &tcp(HOST_IP, 1, WEB_EIP, 80, SYN, 1, 0),
    );
    assert_eq!(v, Verdict::Drop(DropReason::InternetNoRoute));
}

#[test]
fn a_trace_through_the_nat_gateway_changes_nothing() {
    let dp = dataplane();
    let t = topology();
    let trace = dp.trace(
        T0,
        APP,
        Ipv4Addr::from(HOST_IP),
        crate::trace::Probe::Tcp(80),
    );
    assert_eq!(trace.verdict, to_host());
    let text = crate::trace::describe(&t, &trace);
    let stages: Vec<&str> = text.steps.iter().map(|(s, _)| s.as_str()).collect();
    let nat = text.steps.iter().find(|(s, _)| s == "nat-gateway nat");
    assert_eq!(
        nat.map(|(_, d)| d.as_str()),
        Some("source 10.0.2.10:49152 becomes 10.0.1.5:(a port allocated for the new connection)"),
        "{stages:?}"
    );
    assert!(stages.contains(&"internet-gateway igw"), "{stages:?}");
    assert_eq!(dp.nat_mappings(NAT, T0).len(), 0);
    assert_eq!(dp.nat_metrics(NAT).connection_attempt_count, 0);
    let back = dp.trace(
        T0,
        INTERNET,
        Ipv4Addr::from(NAT_EIP),
        crate::trace::Probe::Tcp(22),
    );
    assert_eq!(back.verdict, Verdict::Drop(DropReason::NatUnsolicited));
}

/// Sets the fragment field (flags and offset) of `p` and fixes its header checksum.
fn set_frag(p: &mut [u8], more: bool, offset_units: u16) {
    let v = (u16::from(more) << 13) | offset_units;
    p[6..8].copy_from_slice(&v.to_be_bytes());
    p[10..12].copy_from_slice(&[0, 0]);
    let c = checksum::internet(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
}

#[test]
fn udp_fragments_get_their_first_fragments_verdict_and_translation() {
    let mut dp = dataplane();
    // A 44-byte UDP datagram (8 header + 36 payload) in two fragments: bytes 0..24 of
    // the payload area (the UDP header and 16 bytes), then the last 20 from offset 24.
    let mut udp_dgram = vec![0u8; 44];
    udp_dgram[0..2].copy_from_slice(&5353u16.to_be_bytes());
    udp_dgram[2..4].copy_from_slice(&53u16.to_be_bytes());
    udp_dgram[4..6].copy_from_slice(&44u16.to_be_bytes());
    for (i, b) in udp_dgram[8..].iter_mut().enumerate() {
        *b = i as u8;
    }
    let c = checksum::transport(APP_IP.into(), HOST_IP.into(), 17, &udp_dgram);
    udp_dgram[6..8].copy_from_slice(&c.to_be_bytes());
    let mut first = ipv4(APP_IP, HOST_IP, 64, 17, &udp_dgram[..24]);
    set_frag(&mut first, true, 0);
    let mut second = ipv4(APP_IP, HOST_IP, 64, 17, &udp_dgram[24..]);
    set_frag(&mut second, false, 3);

    // A later fragment before its first is an orphan.
    assert_eq!(
        send(&mut dp, T0, APP, &second).0,
        Verdict::Drop(DropReason::Fragment)
    );
    let (v, out1) = send(&mut dp, T0, APP, &first);
    assert_eq!(v, to_host());
    let (v, out2) = send(&mut dp, T0, APP, &second);
    assert_eq!(v, to_host());
    assert!(checksum::verifies(&out2[..20]));
    assert_eq!((addr(&out2, 12), addr(&out2, 16)), (NAT_EIP, HOST_IP));
    assert_eq!(&out2[20..], &udp_dgram[24..], "the payload is untouched");
    // Reassembled, the translated datagram's UDP checksum verifies.
    let mut whole = out1[20..].to_vec();
    whole.extend_from_slice(&out2[20..]);
    assert!(checksum::transport_verifies(
        NAT_EIP.into(),
        HOST_IP.into(),
        17,
        &whole
    ));
    // 30 s later the datagram is forgotten.
    dp.expire(T0 + Duration::from_secs(31));
    let late = T0 + Duration::from_secs(31);
    assert_eq!(
        send(&mut dp, late, APP, &second).0,
        Verdict::Drop(DropReason::Fragment)
    );
    // A fragment past byte 65,535.
    let mut over = second.clone();
    set_frag(&mut over, false, 8190);
    assert_eq!(
        send(&mut dp, T0, APP, &over).0,
        Verdict::Drop(DropReason::FragmentOverflow)
    );
}

mod fuzzish {
    use super::*;
    use proptest::prelude::*;

    /// Packets that reach the gateways from every kind of port.
    fn bases() -> Vec<(Port, Vec<u8>)> {
        let dgram = udp(APP_IP, 5353, HOST_IP, 53);
        vec![
            (APP.into(), tcp(APP_IP, 40000, HOST_IP, 80, SYN, 1, 0)),
            (APP.into(), dgram.clone()),
            (APP.into(), echo(APP_IP, HOST_IP, true, 9)),
            (APP.into(), tcp(APP_IP, 40000, WEB_EIP, 80, SYN, 1, 0)),
            (WEB.into(), tcp(WEB_IP, 80, HOST_IP, 50000, SYN_ACK, 1, 8)),
            (INTERNET.into(), tcp(HOST_IP, 50000, WEB_EIP, 80, SYN, 7, 0)),
            (INTERNET.into(), udp(HOST_IP, 53, NAT_EIP, 1024)),
            (INTERNET.into(), echo(HOST_IP, NAT_EIP, false, 1025)),
            (INTERNET.into(), port_unreachable(HOST_IP, NAT_EIP, &dgram)),
        ]
    }

    proptest! {
        /// Through NAT and internet gateways, mutated packets never panic and whatever
        /// leaves is a well-formed IPv4 packet whose checksums verify (a packet that
        /// came in with bad transport checksums may leave with them).
        #[test]
        fn mutated_packets_through_the_gateways_never_panic(
            warmup in proptest::collection::vec(0usize..9, 0..6),
            base in 0usize..9,
            edits in proptest::collection::vec((0usize..60, any::<u8>()), 0..4),
            fix_checksum in any::<bool>(),
        ) {
            let mut dp = dataplane();
            let bases = bases();
            for w in warmup {
                let (from, p) = &bases[w];
                send(&mut dp, T0, *from, p);
            }
            let (from, mut p) = bases[base].clone();
            for (at, b) in edits {
                if at < p.len() {
                    p[at] = b;
                }
            }
            if fix_checksum && p.len() >= 20 {
                let hl = (usize::from(p[0] & 0x0f) * 4).clamp(20, p.len());
                p[10..12].copy_from_slice(&[0, 0]);
                let c = checksum::internet(&p[..hl]);
                p[10..12].copy_from_slice(&c.to_be_bytes());
            }
            let (v, out) = send(&mut dp, T0, from, &p);
            if let Verdict::Forward { .. } | Verdict::Reply { .. } = v {
                let mut copy = PacketBuf::from_bytes(&out);
                prop_assert!(crate::sanity::check(&mut copy).is_ok(), "emitted {out:02x?}");
            }
            if let Verdict::Reply { .. } = v {
                assert_checksums(&out);
            }
        }
    }
}

/// The flow-log lines of `dp` (whose topology is `t`, with one flow log) after one
/// aggregation interval from `T0`, in AWS's NAT gateway example's fields and more.
fn flow_log_lines(t: &Topology, dp: &mut Dataplane) -> Vec<String> {
    let mut out = Vec::new();
    dp.flush_all_flow_logs(T0 + Duration::from_secs(30), &mut out);
    out.iter()
        .filter(|r| r.status == crate::flowlog::LogStatus::Ok)
        .map(|r| crate::flowlog::format_record(t, &t.flow_logs[0], r, |_| 0))
        .collect()
}

#[test]
fn flow_logs_show_the_nat_gateways_interface_and_the_path_through_the_internet_gateway() {
    // AWS's NAT gateway flow-log example, with the fields it shows and a few more.
    let fields = "instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr \
                  flow-direction traffic-path tcp-flags";
    let format: Vec<String> = fields
        .split_whitespace()
        .map(|f| format!("${{{f}}}"))
        .collect();
    let t = vpc_config::parse(
        &format!(
            "{TOPOLOGY}\n[[flow_log]]\nname = \"all\"\nvpc = \"v\"\nlog_destination = \"v.log\"\n\
             log_format = \"{}\"\nmax_aggregation_interval = 60\n",
            format.join(" ")
        ),
        "test.toml",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut dp = Dataplane::with_limits(&t, t.limits, T0);
    let (_, out) = send(
        &mut dp,
        T0,
        APP,
        &tcp(APP_IP, 40000, HOST_IP, 80, SYN, 1000, 0),
    );
    let port = be16(&out, 20);
    let syn_ack = tcp(HOST_IP, 80, NAT_EIP, port, SYN_ACK, 5000, 1001);
    assert_eq!(send(&mut dp, T0, INTERNET, &syn_ack).0, to_eni(APP));
    // web, by its Elastic IP, straight through the internet gateway.
    let syn = tcp(WEB_IP, 40000, HOST_IP, 443, SYN, 1, 0);
    assert_eq!(send(&mut dp, T0, WEB, &syn).0, to_host());
    let mut lines = flow_log_lines(&t, &mut dp);
    lines.sort();
    assert_eq!(
        lines,
        [
            // The NAT gateway's interface: requester-managed (no instance); srcaddr
            // and dstaddr are its own address where the packet's are another's.
            "- eni-nat 10.0.1.5 10.0.2.10 203.0.113.10 10.0.2.10 egress 1 18",
            "- eni-nat 10.0.1.5 203.0.113.10 10.0.1.5 203.0.113.10 egress 2 2",
            "- eni-nat 10.0.2.10 10.0.1.5 10.0.2.10 203.0.113.10 ingress - 2",
            "- eni-nat 203.0.113.10 10.0.1.5 203.0.113.10 10.0.1.5 ingress - 18",
            // app's egress goes through another resource of the VPC (path 1).
            "i-app eni-app-eth0 10.0.2.10 203.0.113.10 10.0.2.10 203.0.113.10 egress 1 2",
            "i-app eni-app-eth0 203.0.113.10 10.0.2.10 203.0.113.10 10.0.2.10 ingress - 18",
            // web's through the internet gateway (path 8).
            "i-web eni-web-eth0 10.0.1.10 203.0.113.10 10.0.1.10 203.0.113.10 egress 8 2",
        ]
    );
}

/// `config/ingress-routing.toml`: fw (10.0.2.10, 198.51.100.40) inspects what enters
/// the VPC for the public subnet, where web (10.0.1.10, 198.51.100.41) lives.
fn ingress_routing() -> Topology {
    let src = include_str!("../../../../config/ingress-routing.toml");
    vpc_config::parse(src, "ingress-routing.toml").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_gateway_route_table_sends_inbound_traffic_through_the_appliance() {
    let t = ingress_routing();
    let (fw, web) = (t.find_eni("fw").unwrap(), t.find_eni("web").unwrap());
    let (fw_ip, web_ip, web_public) = ([10, 0, 2, 10], [10, 0, 1, 10], [198, 51, 100, 41]);
    let mut dp = Dataplane::new(&t);
    // In: the internet gateway translates web's public address, then its gateway route
    // table sends it to fw, untouched otherwise.
    let syn = tcp(HOST_IP, 40000, web_public, 80, SYN, 1, 0);
    let (v, at_fw) = send(&mut dp, T0, INTERNET, &syn);
    assert_eq!(v, to_eni(fw));
    assert_checksums(&at_fw);
    assert_eq!((addr(&at_fw, 12), addr(&at_fw, 16)), (HOST_IP, web_ip));
    // fw's kernel forwards it; the appliance subnet's local route delivers it to web.
    assert_eq!(send(&mut dp, T0, fw, &at_fw), (to_eni(web), at_fw.clone()));
    // Out: web's reply goes to fw (public-rt), fw's to the internet gateway, which
    // translates web's address.
    let syn_ack = tcp(web_ip, 80, HOST_IP, 40000, SYN_ACK, 7, 2);
    assert_eq!(send(&mut dp, T0, web, &syn_ack).0, to_eni(fw));
    let (v, out) = send(&mut dp, T0, fw, &syn_ack);
    assert_eq!(v, to_host());
    assert_eq!((addr(&out, 12), addr(&out, 16)), (web_public, HOST_IP));
    // What is addressed to fw itself goes by the local route.
    let ping = echo(HOST_IP, [198, 51, 100, 40], true, 9);
    let (v, out) = send(&mut dp, T0, INTERNET, &ping);
    assert_eq!((v, addr(&out, 16)), (to_eni(fw), fw_ip));
    // The trace names the gateway route table.
    let trace = dp.trace(
        T0,
        INTERNET,
        Ipv4Addr::from(web_public),
        crate::trace::Probe::Tcp(80),
    );
    let text = crate::trace::describe(&t, &trace);
    assert!(
        text.steps
            .iter()
            .any(|(_, d)| d == "route table ingress-rt: 10.0.1.0/24 -> fw/eth0"),
        "{:?}",
        text.steps
    );

    // Without the edge association, the internet gateway delivers straight to web.
    let mut direct = t.clone();
    direct
        .disassociate_route_table_gateway("ingress-rt", "igw")
        .unwrap();
    let mut dp = Dataplane::new(&direct);
    assert_eq!(send(&mut dp, T0, INTERNET, &syn).0, to_eni(web));

    // AWS: the appliance's interface needs a public address of its own.
    let mut no_public = t.clone();
    no_public.enis[fw.index()].public_ip = None;
    let mut dp = Dataplane::new(&no_public);
    let before = dp
        .counters()
        .host(INTERNET)
        .dropped(DropReason::IgwNoPublicIp);
    assert_eq!(
        send(&mut dp, T0, INTERNET, &syn).0,
        Verdict::Drop(DropReason::IgwNoPublicIp)
    );
    let after = dp
        .counters()
        .host(INTERNET)
        .dropped(DropReason::IgwNoPublicIp);
    assert_eq!(after - before, 1);
}

#[test]
fn a_replaced_local_route_sends_the_vpcs_traffic_to_the_appliance() {
    // The public subnet's table: its local route's target replaced by fw.
    let mut t = ingress_routing();
    t.replace_local_route_target("public-rt", "10.0.0.0/16".parse().unwrap(), Some("fw"))
        .unwrap();
    let (fw, web) = (t.find_eni("fw").unwrap(), t.find_eni("web").unwrap());
    let mut dp = Dataplane::new(&t);
    // An address of the VPC that no interface has: to fw all the same.
    let ping = echo([10, 0, 1, 10], [10, 0, 2, 99], true, 1);
    assert_eq!(send(&mut dp, T0, web, &ping).0, to_eni(fw));
    let routes = |dp: &Dataplane| {
        dp.routes(t.subnets[0].route_table)
            .map(|(r, s)| {
                let target = t.route_target_name(r.target);
                format!("{} {target} {:?} {}", r.destination, r.origin, s.name())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        routes(&dp),
        [
            "0.0.0.0/0 fw/eth0 Static active",
            "10.0.0.0/16 fw/eth0 Local active"
        ]
    );
    // fw's device gone: the local route is a blackhole, as any route to it.
    dp.set_link(fw, false);
    assert_eq!(
        send(&mut dp, T0, web, &ping).0,
        Verdict::Drop(DropReason::RouteBlackhole)
    );
    dp.set_link(fw, true);
    // Restored, it delivers to the interface that has the address again.
    let mut restored = t.clone();
    restored
        .replace_local_route_target("public-rt", "10.0.0.0/16".parse().unwrap(), None)
        .unwrap();
    dp.apply(&restored, T0);
    assert_eq!(
        send(&mut dp, T0, web, &ping).0,
        Verdict::Drop(DropReason::NoSuchHost)
    );
    assert_eq!(routes(&dp)[1], format!("10.0.0.0/16 local Local active"));
}

#[test]
fn a_deleted_nat_gateways_interface_is_no_longer_logged() {
    let t = vpc_config::parse(
        &format!(
            "{TOPOLOGY}\n[[flow_log]]\nname = \"all\"\nvpc = \"v\"\nlog_destination = \"v.log\"\n\
             max_aggregation_interval = 60\n"
        ),
        "test.toml",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let nat = crate::flowlog::Interface::NatGateway(NAT);
    let nodata_of_nat = |dp: &mut Dataplane, at: u64| {
        let mut out = Vec::new();
        dp.flush_flow_logs(T0 + Duration::from_secs(at), &mut out);
        out.iter().filter(|r| r.interface == nat).count()
    };
    let mut dp = Dataplane::with_limits(&t, t.limits, T0);
    assert_eq!(
        nodata_of_nat(&mut dp, 60),
        1,
        "NODATA for the NAT gateway's interface"
    );
    let mut deleted = t.clone();
    deleted.delete_nat_gateway("nat").unwrap();
    dp.apply(&deleted, T0 + Duration::from_secs(60));
    assert_eq!(nodata_of_nat(&mut dp, 120), 0);
}
