//! VPC peering connections through the whole pipeline, on `config/peering.toml` (the
//! peering triangle a-b, b-c): delivery across a connection, no transitive and no
//! edge-to-edge routing, blackholes, MTU, security-group references to a peer's group,
//! flow logs on both sides, and trace.

use std::net::Ipv4Addr;
use std::time::Duration;

use vpc_config::{EniId, HostId, Topology};

use super::{SYN, SYN_ACK, big_udp, delta, drop, parse, send, to_eni};
use crate::flowlog::{Direction, LogStatus, TrafficPath};
use crate::packet::PacketBuf;
use crate::pipeline::Dataplane;
use crate::route::RouteState;
use crate::testkit::{echo, tcp};
use crate::time::Time;
use crate::trace::{self, Probe};
use crate::verdict::{DropReason, Port, Reply, Verdict};

const PEERING: &str = include_str!("../../../../config/peering.toml");

const PA: EniId = EniId(0);
const PB: EniId = EniId(1);
const PC: EniId = EniId(2);
const INET: HostId = HostId(0);
const PA_IP: [u8; 4] = [10, 1, 1, 10];
const PB_IP: [u8; 4] = [10, 2, 1, 10];
const PC_IP: [u8; 4] = [10, 3, 1, 10];
const PB_EIP: [u8; 4] = [198, 51, 100, 42];
const INET_IP: [u8; 4] = [203, 0, 113, 30];
const T0: Time = Time::from_secs(1000);

/// The peering triangle, with `edit` applied to its text.
fn triangle(edit: impl Fn(&str) -> String) -> (Topology, Dataplane) {
    let t = parse(&edit(PEERING));
    let dp = Dataplane::with_limits(&t, t.limits, T0);
    (t, dp)
}

#[test]
fn peers_reach_each_other_and_packets_cross_unchanged() {
    let (t, mut dp) = triangle(str::to_owned);
    for (from, to, src, dst) in [
        (PA, PB, PA_IP, PB_IP),
        (PB, PA, PB_IP, PA_IP),
        (PB, PC, PB_IP, PC_IP),
        (PC, PB, PC_IP, PB_IP),
    ] {
        let ping = echo(src, dst, true, 7);
        let (v, out) = send(&mut dp, T0, from, &ping);
        assert_eq!(v, to_eni(to), "{src:?} -> {dst:?}");
        assert_eq!(out, ping, "nothing is translated");
    }
    // A TCP connection a -> b, both ways.
    let before = dp.counters().clone();
    let syn = tcp(PA_IP, 40000, PB_IP, 80, SYN, 1, 0);
    assert_eq!(send(&mut dp, T0, PA, &syn).0, to_eni(PB));
    let syn_ack = tcp(PB_IP, 80, PA_IP, 40000, SYN_ACK, 9, 2);
    assert_eq!(send(&mut dp, T0, PB, &syn_ack).0, to_eni(PA));
    assert_eq!(
        delta(&t, &before, dp.counters()),
        [
            "pa/eth0 rx_packets +1",
            "pa/eth0 rx_bytes +40",
            "pa/eth0 tx_packets +1",
            "pa/eth0 tx_bytes +40",
            "pb/eth0 rx_packets +1",
            "pb/eth0 rx_bytes +40",
            "pb/eth0 tx_packets +1",
            "pb/eth0 tx_bytes +40",
        ]
    );
}

#[test]
fn peering_is_not_transitive() {
    let (t, mut dp) = triangle(str::to_owned);
    let before = dp.counters().clone();
    // a routes c's block to a-b; b does not send it on over b-c.
    let (v, _) = send(&mut dp, T0, PA, &echo(PA_IP, PC_IP, true, 1));
    assert_eq!(v, drop(DropReason::PeeringTransitive));
    // ... nor the other way.
    let (v, _) = send(&mut dp, T0, PC, &echo(PC_IP, PA_IP, true, 1));
    assert_eq!(v, drop(DropReason::PeeringTransitive));
    assert_eq!(
        delta(&t, &before, dp.counters()),
        [
            "pa/eth0 rx_packets +1",
            "pa/eth0 rx_bytes +32",
            "pa/eth0 drop peering-transitive +1",
            "pc/eth0 rx_packets +1",
            "pc/eth0 rx_bytes +32",
            "pc/eth0 drop peering-transitive +1",
        ]
    );
    let walked = dp.trace(T0, PA, Ipv4Addr::from(PC_IP), Probe::Icmp);
    let text = trace::describe(&t, &walked);
    let stages: Vec<&str> = text.steps.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        stages,
        [
            "route",
            "sg egress pa/eth0",
            "nacl outbound a-1",
            "vpc-peering a-b"
        ]
    );
    assert_eq!(
        text.steps[3].1,
        "from vpc a to vpc b (within us-east-1, MTU 9001)"
    );
    assert_eq!(text.verdict, "DROP peering-transitive");
    assert_eq!(
        text.because,
        "VPC peering is not transitive: vpc b does not send on what comes over a-b to 10.3.1.10, which is not in its blocks (10.2.0.0/16)"
    );
}

#[test]
fn no_edge_to_edge_a_peers_internet_gateway_is_not_for_the_other_vpc() {
    let (t, mut dp) = triangle(str::to_owned);
    // a's default route leads into b, whose default route is its internet gateway.
    let (v, _) = send(&mut dp, T0, PA, &tcp(PA_IP, 40000, INET_IP, 80, SYN, 1, 0));
    assert_eq!(v, drop(DropReason::PeeringEdgeToEdge));
    let text = trace::describe(
        &t,
        &dp.trace(T0, PA, Ipv4Addr::from(INET_IP), Probe::Tcp(80)),
    );
    assert_eq!(
        text.because,
        "no edge-to-edge routing: vpc b does not send what comes over a-b to 203.0.113.30 through its gateways (internet, NAT, VPN or endpoint); only its own blocks (10.2.0.0/16) are reachable"
    );
    // pb itself uses it.
    let (v, out) = send(&mut dp, T0, PB, &tcp(PB_IP, 40000, INET_IP, 80, SYN, 1, 0));
    assert_eq!(
        v,
        Verdict::Forward {
            to: Port::Host(INET)
        }
    );
    assert_eq!(&out[12..16], &PB_EIP);
    // And the internet reaches pb, never pa through it.
    let (v, _) = send(
        &mut dp,
        T0,
        INET,
        &tcp(INET_IP, 80, PB_EIP, 40000, SYN_ACK, 5, 2),
    );
    assert_eq!(v, to_eni(PB));
}

#[test]
fn a_source_outside_the_sending_vpc_does_not_cross() {
    // pb with its check off forwards for others: what it sends to a from another
    // address (here the internet's) is not b's own traffic.
    let (_, mut dp) = triangle(|s| {
        s.replace(
            "private_ip = \"10.2.1.10\"",
            "private_ip = \"10.2.1.10\"\nsource_dest_check = false",
        )
    });
    let (v, _) = send(&mut dp, T0, PB, &echo(INET_IP, PA_IP, true, 1));
    assert_eq!(v, drop(DropReason::PeeringEdgeToEdge));
}

#[test]
fn a_connection_not_active_is_a_blackhole() {
    // c's owner has not accepted b-c yet.
    let (t, mut dp) = triangle(|s| s.replace("status = \"active\"\n", ""));
    assert_eq!(
        t.vpc_peering_connections[1].status,
        vpc_config::PeeringStatus::PendingAcceptance
    );
    let (v, _) = send(&mut dp, T0, PB, &echo(PB_IP, PC_IP, true, 1));
    assert_eq!(v, drop(DropReason::RouteBlackhole));
    let b_rt = t
        .route_tables
        .iter()
        .position(|r| r.name == "b-rt")
        .unwrap();
    let states: Vec<(String, RouteState)> = dp
        .routes(vpc_config::RouteTableId(b_rt as u32))
        .map(|(r, s)| (r.destination.to_string(), s))
        .collect();
    assert!(states.contains(&("10.3.0.0/16".to_owned(), RouteState::Blackhole)));
    assert!(states.contains(&("10.1.0.0/16".to_owned(), RouteState::Active)));
    // Accepted (a configuration change), it carries traffic.
    let mut accepted = t.clone();
    accepted.vpc_peering_connections[1].status = vpc_config::PeeringStatus::Active;
    dp.apply(&accepted, T0);
    let (v, _) = send(&mut dp, T0, PB, &echo(PB_IP, PC_IP, true, 1));
    assert_eq!(v, to_eni(PC));
    // Deleted, its routes turn blackhole again.
    let mut deleted = accepted.clone();
    deleted.vpc_peering_connections[1].status = vpc_config::PeeringStatus::Deleted;
    dp.apply(&deleted, T0);
    let (v, _) = send(&mut dp, T0, PC, &echo(PC_IP, PB_IP, true, 1));
    assert_eq!(v, drop(DropReason::RouteBlackhole));
}

/// c's group admits UDP from 10.0.0.0/8 too.
fn udp_to_c(s: &str) -> String {
    s.replace(
        "name = \"c-sg\"\nvpc = \"c\"\ningress = [\n",
        "name = \"c-sg\"\nvpc = \"c\"\ningress = [\n  { protocol = \"udp\", from_port = 0, to_port = 65535, cidr = \"10.0.0.0/8\" },\n",
    )
}

#[test]
fn mtu_9001_within_a_region_1500_across() {
    // Within one region a jumbo datagram crosses whole.
    let (_, mut dp) = triangle(udp_to_c);
    let (v, _) = send(&mut dp, T0, PB, &big_udp(PB_IP, PC_IP, 8000, true));
    assert_eq!(v, to_eni(PC));
    // With c in another region, b-c's MTU is 1500.
    let (t, mut dp) = triangle(|s| {
        udp_to_c(s).replace(
            "owner_id = \"444455556666\"",
            "owner_id = \"444455556666\"\nregion = \"eu-west-1\"",
        )
    });
    let before = dp.counters().clone();
    let (v, out) = send(&mut dp, T0, PB, &big_udp(PB_IP, PC_IP, 2000, true));
    assert_eq!(
        v,
        Verdict::Reply {
            to: Port::Eni(PB),
            reply: Reply::IcmpError {
                cause: DropReason::TooBig
            }
        }
    );
    // Fragmentation needed (type 3 code 4) with next-hop MTU 1500, from b-1's router.
    assert_eq!((out[20], out[21]), (3, 4));
    assert_eq!(u16::from_be_bytes([out[26], out[27]]), 1500);
    assert_eq!(&out[12..16], &[10, 2, 1, 1]);
    // Without DF it is written as two fragments.
    let mut p = PacketBuf::from_bytes(&big_udp(PB_IP, PC_IP, 2000, false));
    assert_eq!(dp.process(T0, PB, &mut p), to_eni(PC));
    assert_eq!(p.fragment_mtu(), Some(1500));
    let d = delta(&t, &before, dp.counters());
    assert!(d.contains(&"pc/eth0 tx_packets +2".to_owned()), "{d:?}");
}

#[test]
fn a_rule_may_reference_a_same_region_peers_group() {
    // b-sg admits TCP from 10.0.0.0/8 no more: only port 22 from a-sg's members.
    let (t, mut dp) = triangle(|s| {
        s.replacen(
            "  { protocol = \"tcp\", from_port = 0, to_port = 65535, cidr = \"10.0.0.0/8\" },\n  { protocol = \"tcp\", port = 22",
            "  { protocol = \"tcp\", port = 22",
            1,
        )
    });
    let (v, _) = send(&mut dp, T0, PA, &tcp(PA_IP, 40000, PB_IP, 22, SYN, 1, 0));
    assert_eq!(v, to_eni(PB));
    let (v, _) = send(&mut dp, T0, PC, &tcp(PC_IP, 40000, PB_IP, 22, SYN, 1, 0));
    assert_eq!(v, drop(DropReason::SgIngress));
    let text = trace::describe(&t, &dp.trace(T0, PA, Ipv4Addr::from(PB_IP), Probe::Tcp(22)));
    let ingress = text.steps.iter().find(|(s, _)| s == "sg ingress pb/eth0");
    assert_eq!(
        ingress.map(|(_, d)| d.as_str()),
        Some("allowed by b-sg ingress rule 2: tcp 22 from members of a-sg (tracked)")
    );
    let text = trace::describe(
        &t,
        &dp.trace(T0, PA, Ipv4Addr::from(PB_IP), Probe::Tcp(2222)),
    );
    assert_eq!(text.verdict, "DROP sg-ingress");
}

#[test]
fn flow_logs_on_both_sides_say_the_path_was_a_peering_connection() {
    let (t, mut dp) = triangle(|s| {
        format!(
            "{s}\n[[flow_log]]\nname = \"a\"\nvpc = \"a\"\nlog_destination = \"a.log\"\n\
             [[flow_log]]\nname = \"c\"\nvpc = \"c\"\nlog_destination = \"c.log\"\n"
        )
    });
    let _ = send(&mut dp, T0, PA, &echo(PA_IP, PB_IP, true, 1));
    let _ = send(&mut dp, T0, PB, &echo(PB_IP, PC_IP, true, 2));
    let mut out = Vec::new();
    dp.flush_all_flow_logs(T0 + Duration::from_secs(1), &mut out);
    let ok: Vec<_> = out.iter().filter(|r| r.status == LogStatus::Ok).collect();
    assert_eq!(ok.len(), 2, "{ok:?}");
    assert_eq!(
        (ok[0].direction, ok[0].traffic_path),
        (Direction::Egress, Some(TrafficPath::IntraRegionPeering))
    );
    assert_eq!(
        (ok[1].direction, ok[1].traffic_path),
        (Direction::Ingress, None)
    );
    let lines: Vec<String> = out
        .iter()
        .filter(|r| r.status == LogStatus::Ok)
        .map(|r| crate::flowlog::format_record(&t, &t.flow_logs[r.log.index()], r, |_| 0))
        .collect();
    assert!(
        lines[0].starts_with("2 123456789012 eni-pa-eth0 10.1.1.10 10.2.1.10"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("2 444455556666 eni-pc-eth0 10.2.1.10 10.3.1.10"),
        "{lines:?}"
    );
}
