use std::time::Duration;

use vpc_config::{EniId, Topology};

use super::delta;
use crate::packet::PacketBuf;
use crate::pipeline::Dataplane;
use crate::testkit::{self, ipv4};
use crate::time::Time;
use crate::verdict::{DropReason, Port, Reply, Verdict};
use crate::wire::checksum;

/// Echo request app (10.0.2.10) -> its subnet router 10.0.2.1, id 0x1234 seq 1, "abcd".
const ECHO_TO_ROUTER: [u8; 32] = [
    0x45, 0x00, 0x00, 0x20, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0x06, 0x8d, 0x0a, 0x00, 0x02, 0x0a,
    0x0a, 0x00, 0x02, 0x01, // IPv4
    0x08, 0x00, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, // ICMP
];
/// The router's reply: addresses swapped, ident 1, no DF, TTL 64, type 0.
const ECHO_REPLY_FROM_ROUTER: [u8; 32] = [
    0x45, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x62, 0xd2, 0x0a, 0x00, 0x02, 0x01,
    0x0a, 0x00, 0x02, 0x0a, // IPv4
    0x00, 0x00, 0x29, 0x04, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, // ICMP
];
/// UDP 10.0.1.10:12345 -> 10.0.12.10:53 with TTL 0, "hiya".
const UDP_TTL_0: [u8; 32] = [
    0x45, 0x00, 0x00, 0x20, 0x01, 0x01, 0x40, 0x00, 0x00, 0x11, 0x58, 0xb9, 0x0a, 0x00, 0x01, 0x0a,
    0x0a, 0x00, 0x0c, 0x0a, // IPv4
    0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 0x68, 0x69, 0x79, 0x61, // UDP
];
/// Time exceeded from web's router 10.0.1.1 quoting all of UDP_TTL_0.
const TIME_EXCEEDED: [u8; 60] = [
    0x45, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x64, 0xb6, 0x0a, 0x00, 0x01, 0x01,
    0x0a, 0x00, 0x01, 0x0a, // IPv4
    0x0b, 0x00, 0xe2, 0xba, 0x00, 0x00, 0x00, 0x00, // ICMP time exceeded
    0x45, 0x00, 0x00, 0x20, 0x01, 0x01, 0x40, 0x00, 0x00, 0x11, 0x58, 0xb9, 0x0a, 0x00, 0x01, 0x0a,
    0x0a, 0x00, 0x0c, 0x0a, 0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 0x68, 0x69, 0x79,
    0x61, // the quoted datagram
];

const WEB: EniId = EniId(0);
const APP: EniId = EniId(1);
const DB: EniId = EniId(2);
const T0: Time = Time::from_secs(100);

/// The demo, plus (with `extra`) more configuration appended.
/// The demo (plus `extra`) with its firewall opened: every security group allows
/// everything in and every NACL allows everything both ways, and every subnet on
/// the main route table (local routes only). These tests are about routing inside a
/// VPC; `firewall.rs` tests the firewall, `internet.rs` the gateways.
fn topology(extra: &str) -> Topology {
    let mut section = "";
    let demo: Vec<&str> = vpc_config::DEMO_TOML
        .lines()
        .map(|line| {
            if line.starts_with("[[") {
                section = line;
            }
            if section == "[[route_table]]" && line.starts_with("subnets =") {
                "subnets = []"
            } else {
                line
            }
        })
        .collect();
    let src = format!("{}\n{extra}", demo.join("\n"));
    let mut t = vpc_config::parse(&src, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let everything = vpc_config::SgRule {
        protocol: vpc_config::Protocol::All,
        l4: vpc_config::L4Match::Any,
        peer: vpc_config::SgPeer::Cidr(ipnet::Ipv4Net::default()),
        description: None,
    };
    for g in &mut t.security_groups {
        g.ingress = vec![everything.clone()];
    }
    let allow = vpc_config::NaclRule {
        number: 100,
        protocol: vpc_config::Protocol::All,
        l4: vpc_config::L4Match::Any,
        cidr: ipnet::Ipv4Net::default(),
        action: vpc_config::RuleAction::Allow,
    };
    for n in &mut t.network_acls {
        n.ingress = vec![allow];
        n.egress = vec![allow];
    }
    t
}

/// An ICMP echo request (identifier 7, sequence 1, "ping") with a valid checksum.
fn echo(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
    testkit::echo(src, dst, true, 7)
}

/// Runs one packet; returns the verdict, the packet after, and the counter changes.
fn run(
    dp: &mut Dataplane,
    t: &Topology,
    from: EniId,
    bytes: &[u8],
) -> (Verdict, Vec<u8>, Vec<String>) {
    let before = dp.counters().clone();
    let mut pkt = PacketBuf::from_bytes(bytes);
    let v = dp.process(T0, from, &mut pkt);
    let d = delta(t, &before, dp.counters());
    (v, pkt.as_bytes().to_vec(), d)
}

#[test]
fn between_subnets_a_packet_is_forwarded_unchanged() {
    let t = topology("");
    let mut dp = Dataplane::new(&t);
    let ping = echo([10, 0, 1, 10], [10, 0, 12, 10]);
    let (v, out, d) = run(&mut dp, &t, WEB, &ping);
    assert_eq!(v, Verdict::Forward { to: Port::Eni(DB) });
    // The VPC router is not a hop: not even the TTL changes.
    assert_eq!(out, ping);
    assert_eq!(
        d,
        [
            "web/eth0 rx_packets +1",
            "web/eth0 rx_bytes +32",
            "db/eth0 tx_packets +1",
            "db/eth0 tx_bytes +32"
        ]
    );
    // And back.
    let (v, _, _) = run(&mut dp, &t, DB, &echo([10, 0, 12, 10], [10, 0, 1, 10]));
    assert_eq!(v, Verdict::Forward { to: Port::Eni(WEB) });
}

#[test]
fn ttl_1_is_forwarded_because_the_router_is_not_a_hop() {
    let t = topology("");
    let mut dp = Dataplane::new(&t);
    let p = ipv4(
        [10, 0, 1, 10],
        [10, 0, 2, 10],
        1,
        17,
        &[0, 1, 0, 2, 0, 8, 0, 0],
    );
    let (v, out, _) = run(&mut dp, &t, WEB, &p);
    assert_eq!((v, out), (Verdict::Forward { to: Port::Eni(APP) }, p));
}

#[test]
fn the_subnet_router_answers_echo_in_place() {
    let t = topology("");
    let mut dp = Dataplane::new(&t);
    // A trace of the same echo takes no identification number: the real reply below
    // still gets the first one.
    let traced = dp.trace(
        T0,
        APP,
        std::net::Ipv4Addr::new(10, 0, 2, 1),
        crate::trace::Probe::Icmp,
    );
    assert!(matches!(traced.verdict, Verdict::Reply { .. }));
    let (v, out, d) = run(&mut dp, &t, APP, &ECHO_TO_ROUTER);
    assert_eq!(
        v,
        Verdict::Reply {
            to: Port::Eni(APP),
            reply: Reply::EchoReply
        }
    );
    assert_eq!(out, ECHO_REPLY_FROM_ROUTER);
    assert_eq!(
        d,
        [
            "app/eth0 rx_packets +1",
            "app/eth0 rx_bytes +32",
            "app/eth0 tx_packets +1",
            "app/eth0 tx_bytes +32",
            "router echo_replies +1"
        ]
    );
    // Another subnet's router address answers too: it is one router.
    let (v, out, _) = run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [10, 0, 12, 1]));
    assert_eq!(
        v,
        Verdict::Reply {
            to: Port::Eni(WEB),
            reply: Reply::EchoReply
        }
    );
    assert_eq!(&out[12..20], &[10, 0, 12, 1, 10, 0, 1, 10]);
    assert!(checksum::verifies(&out[..20]) && checksum::verifies(&out[20..]));
}

#[test]
fn an_echo_with_options_is_answered_without_them() {
    let t = topology("");
    let mut dp = Dataplane::new(&t);
    // ECHO_TO_ROUTER with a 4-byte NOP option (IHL 6).
    let mut p = ECHO_TO_ROUTER[..20].to_vec();
    p[0] = 0x46;
    p[3] = 36;
    p.extend_from_slice(&[1, 1, 1, 1]);
    p.extend_from_slice(&ECHO_TO_ROUTER[20..]);
    p[10] = 0;
    p[11] = 0;
    let c = checksum::internet(&p[..24]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    let (v, out, _) = run(&mut dp, &t, APP, &p);
    assert_eq!(
        v,
        Verdict::Reply {
            to: Port::Eni(APP),
            reply: Reply::EchoReply
        }
    );
    assert_eq!(out, ECHO_REPLY_FROM_ROUTER);
}

#[test]
fn the_router_answers_nothing_but_a_valid_echo_request() {
    let t = topology("");
    let mut dp = Dataplane::new(&t);
    let tcp = ipv4([10, 0, 2, 10], [10, 0, 2, 1], 64, 6, &[0; 20]);
    let (v, _, d) = run(&mut dp, &t, APP, &tcp);
    assert_eq!(v, Verdict::Drop(DropReason::RouterUnsupported));
    assert_eq!(
        d,
        [
            "app/eth0 rx_packets +1",
            "app/eth0 rx_bytes +40",
            "app/eth0 drop router-unsupported +1"
        ]
    );
    let mut bad = ECHO_TO_ROUTER;
    bad[31] ^= 0xff; // payload changed, ICMP checksum now wrong
    assert_eq!(
        run(&mut dp, &t, APP, &bad).0,
        Verdict::Drop(DropReason::BadIcmp)
    );
    let short = ipv4([10, 0, 2, 10], [10, 0, 2, 1], 64, 1, &[8, 0, 0xf7, 0xff]);
    assert_eq!(
        run(&mut dp, &t, APP, &short).0,
        Verdict::Drop(DropReason::BadIcmp)
    );
    // An echo reply to the router is not answered.
    let mut reply = ECHO_TO_ROUTER;
    reply[20] = 0;
    reply[22] = 0x29;
    assert_eq!(
        run(&mut dp, &t, APP, &reply).0,
        Verdict::Drop(DropReason::RouterUnsupported)
    );
    // Nor a fragment of an echo request.
    let mut frag = ECHO_TO_ROUTER;
    frag[6] = 0x20; // MF
    frag[10] = 0;
    frag[11] = 0;
    let c = checksum::internet(&frag[..20]);
    frag[10..12].copy_from_slice(&c.to_be_bytes());
    assert_eq!(
        run(&mut dp, &t, APP, &frag).0,
        Verdict::Drop(DropReason::RouterUnsupported)
    );
    assert_eq!(dp.counters().router.echo_replies, 0);
}

#[test]
fn reserved_broadcast_multicast_and_martian_destinations_are_dropped() {
    let t = topology("");
    let mut dp = Dataplane::new(&t);
    for (dst, reason) in [
        ([10, 0, 2, 255], DropReason::DstBroadcast),
        ([10, 0, 2, 0], DropReason::DstBroadcast),
        ([10, 0, 2, 2], DropReason::DstReserved),
        ([10, 0, 2, 3], DropReason::DstReserved),
        ([10, 0, 12, 3], DropReason::DstReserved),
        ([255, 255, 255, 255], DropReason::DstBroadcast),
        ([224, 0, 0, 1], DropReason::DstMulticast),
        ([239, 1, 2, 3], DropReason::DstMulticast),
        ([127, 0, 0, 1], DropReason::MartianDestination),
        ([0, 1, 2, 3], DropReason::MartianDestination),
        ([240, 0, 0, 1], DropReason::MartianDestination),
    ] {
        let (v, _, d) = run(&mut dp, &t, APP, &echo([10, 0, 2, 10], dst));
        assert_eq!(v, Verdict::Drop(reason), "{dst:?}");
        assert_eq!(
            d,
            [
                "app/eth0 rx_packets +1".to_string(),
                "app/eth0 rx_bytes +32".into(),
                format!("app/eth0 drop {} +1", reason.name())
            ]
        );
    }
}

#[test]
fn spoofed_sources_are_dropped_by_the_source_dest_check() {
    let t = topology("");
    let mut dp = Dataplane::new(&t);
    let (v, _, d) = run(&mut dp, &t, WEB, &echo([10, 0, 1, 99], [10, 0, 12, 10]));
    assert_eq!(v, Verdict::Drop(DropReason::SpoofedSource));
    assert_eq!(
        d,
        [
            "web/eth0 rx_packets +1",
            "web/eth0 rx_bytes +32",
            "web/eth0 drop spoofed-source +1"
        ]
    );
    // Even another instance's address.
    let (v, _, _) = run(&mut dp, &t, WEB, &echo([10, 0, 2, 10], [10, 0, 12, 10]));
    assert_eq!(v, Verdict::Drop(DropReason::SpoofedSource));
}

#[test]
fn unknown_hosts_and_unrouted_destinations_are_dropped() {
    let t = topology("");
    let mut dp = Dataplane::new(&t);
    assert_eq!(
        run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [10, 0, 2, 99])).0,
        Verdict::Drop(DropReason::NoSuchHost)
    );
    // Inside the VPC CIDR but in no subnet.
    assert_eq!(
        run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [10, 0, 0, 3])).0,
        Verdict::Drop(DropReason::NoSuchHost)
    );
    // The VPC's base+2 is its DNS resolver, which takes DNS only.
    assert_eq!(
        run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [10, 0, 0, 2])).0,
        Verdict::Drop(DropReason::LinkLocalService)
    );
    // The demo has no route out of the VPC (the internet gateway comes later).
    let (v, _, d) = run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [192, 0, 2, 1]));
    assert_eq!(v, Verdict::Drop(DropReason::NoRoute));
    assert_eq!(
        d,
        [
            "web/eth0 rx_packets +1",
            "web/eth0 rx_bytes +32",
            "web/eth0 drop no-route +1"
        ]
    );
}

#[test]
fn ttl_0_gets_time_exceeded_from_the_senders_subnet_router() {
    let t = topology("");
    let mut dp = Dataplane::new(&t);
    let (v, out, d) = run(&mut dp, &t, WEB, &UDP_TTL_0);
    assert_eq!(
        v,
        Verdict::Reply {
            to: Port::Eni(WEB),
            reply: Reply::IcmpError {
                cause: DropReason::TtlExpired
            }
        }
    );
    assert_eq!(out, TIME_EXCEEDED);
    assert_eq!(
        d,
        [
            "web/eth0 rx_packets +1",
            "web/eth0 rx_bytes +32",
            "web/eth0 tx_packets +1",
            "web/eth0 tx_bytes +60",
            "web/eth0 drop ttl-expired +1",
            "router icmp_errors_sent +1"
        ]
    );
}

#[test]
fn no_icmp_error_about_a_non_first_fragment_or_an_icmp_error() {
    let t = topology("");
    let mut dp = Dataplane::new(&t);
    let mut frag = UDP_TTL_0;
    frag[7] = 0x10; // offset 16 * 8
    frag[10] = 0;
    frag[11] = 0;
    let c = checksum::internet(&frag[..20]);
    frag[10..12].copy_from_slice(&c.to_be_bytes());
    let (v, _, d) = run(&mut dp, &t, WEB, &frag);
    assert_eq!(v, Verdict::Drop(DropReason::TtlExpired));
    assert_eq!(
        d,
        [
            "web/eth0 rx_packets +1",
            "web/eth0 rx_bytes +32",
            "web/eth0 drop ttl-expired +1"
        ]
    );
    // A destination unreachable with TTL 0.
    let err = ipv4(
        [10, 0, 1, 10],
        [10, 0, 12, 10],
        0,
        1,
        &[3, 1, 0xfc, 0xfe, 0, 0, 0, 0],
    );
    assert_eq!(
        run(&mut dp, &t, WEB, &err).0,
        Verdict::Drop(DropReason::TtlExpired)
    );
    // But an echo request with TTL 0 does get one.
    let mut ping = echo([10, 0, 1, 10], [10, 0, 12, 10]);
    crate::wire::ipv4::set_ttl(&mut ping, 0);
    assert!(matches!(
        run(&mut dp, &t, WEB, &ping).0,
        Verdict::Reply { .. }
    ));
}

#[test]
fn icmp_errors_are_rate_limited_on_the_callers_clock() {
    let t = topology("");
    let mut dp = Dataplane::new(&t);
    let before = dp.counters().clone();
    let mut sent = 0;
    for _ in 0..60 {
        let mut pkt = PacketBuf::from_bytes(&UDP_TTL_0);
        if let Verdict::Reply { .. } = dp.process(T0, WEB, &mut pkt) {
            sent += 1;
        }
    }
    assert_eq!(sent, 50);
    let d = delta(&t, &before, dp.counters());
    assert!(
        d.contains(&"web/eth0 drop ttl-expired +60".to_string()),
        "{d:?}"
    );
    assert!(
        d.contains(&"router icmp_errors_sent +50".to_string()),
        "{d:?}"
    );
    assert!(
        d.contains(&"router icmp_errors_rate_limited +10".to_string()),
        "{d:?}"
    );
    // 5 ms later, 5 more.
    let later = T0 + Duration::from_millis(5);
    let replies = (0..10)
        .filter(|_| {
            matches!(
                dp.process(later, WEB, &mut PacketBuf::from_bytes(&UDP_TTL_0)),
                Verdict::Reply { .. }
            )
        })
        .count();
    assert_eq!(replies, 5);
}

#[test]
fn malformed_packets_are_counted_drops() {
    let t = topology("");
    let mut dp = Dataplane::new(&t);
    let (v, _, d) = run(&mut dp, &t, WEB, &[0x45, 0, 0]);
    assert_eq!(v, Verdict::Drop(DropReason::Truncated));
    assert_eq!(
        d,
        [
            "web/eth0 rx_packets +1",
            "web/eth0 rx_bytes +3",
            "web/eth0 drop truncated +1"
        ]
    );
    let mut v6 = vec![0x60; 40];
    v6[0] = 0x60;
    assert_eq!(
        run(&mut dp, &t, WEB, &v6).0,
        Verdict::Drop(DropReason::Ipv6NotEnabled)
    );
    // Trailing bytes are cut and counted, and the packet goes on.
    let mut long = echo([10, 0, 1, 10], [10, 0, 12, 10]);
    let exact = long.clone();
    long.extend_from_slice(&[0; 6]);
    let (v, out, d) = run(&mut dp, &t, WEB, &long);
    assert_eq!((v, out), (Verdict::Forward { to: Port::Eni(DB) }, exact));
    assert_eq!(
        d,
        [
            "web/eth0 rx_packets +1",
            "web/eth0 rx_bytes +38",
            "db/eth0 tx_packets +1",
            "db/eth0 tx_bytes +32",
            "router trailing_bytes_trimmed +1"
        ]
    );
}

const MIDDLEBOX: &str = r#"
[[instance]]
name = "fw"
subnet = "public-b"
private_ip = "10.0.11.10"
source_dest_check = false

[[route_table]]
name = "via-fw"
vpc = "demo"
subnets = ["private-a"]
route = [{ destination = "0.0.0.0/0", instance = "fw" }, { destination = "10.0.12.0/24", instance = "fw" }]
"#;
const FW: EniId = EniId(3);

#[test]
fn middlebox_routes_send_to_the_appliance() {
    let t = topology(MIDDLEBOX);
    let mut dp = Dataplane::new(&t);
    // app's subnet routes the internet and private-b through fw.
    assert_eq!(
        run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [192, 0, 2, 1])).0,
        Verdict::Forward { to: Port::Eni(FW) }
    );
    assert_eq!(
        run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [10, 0, 12, 10])).0,
        Verdict::Forward { to: Port::Eni(FW) }
    );
    // The more specific subnet route beats local; other subnets stay local.
    assert_eq!(
        run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [10, 0, 1, 10])).0,
        Verdict::Forward { to: Port::Eni(WEB) }
    );
    // fw (check off) forwards app's packet on to db with app's source address.
    assert_eq!(
        run(&mut dp, &t, FW, &echo([10, 0, 2, 10], [10, 0, 12, 10])).0,
        Verdict::Forward { to: Port::Eni(DB) }
    );
    // web's and fw's subnets use the main table: no route out.
    assert_eq!(
        run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [192, 0, 2, 1])).0,
        Verdict::Drop(DropReason::NoRoute)
    );
    assert_eq!(
        run(&mut dp, &t, FW, &echo([10, 0, 11, 10], [192, 0, 2, 1])).0,
        Verdict::Drop(DropReason::NoRoute)
    );
}

#[test]
fn an_appliance_routed_to_itself_is_a_loop() {
    let t = topology(&MIDDLEBOX.replace(
        r#"subnets = ["private-a"]"#,
        r#"subnets = ["private-a", "public-b"]"#,
    ));
    let mut dp = Dataplane::new(&t);
    let (v, _, d) = run(&mut dp, &t, FW, &echo([10, 0, 11, 10], [192, 0, 2, 1]));
    assert_eq!(v, Verdict::Drop(DropReason::RouteLoop));
    assert_eq!(
        d,
        [
            "fw/eth0 rx_packets +1",
            "fw/eth0 rx_bytes +32",
            "fw/eth0 drop route-loop +1"
        ]
    );
}

#[test]
fn an_appliance_with_the_check_on_gets_nothing_that_is_not_its_own() {
    let t = topology(&MIDDLEBOX.replace("source_dest_check = false", "source_dest_check = true"));
    let mut dp = Dataplane::new(&t);
    let (v, _, d) = run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [192, 0, 2, 1]));
    assert_eq!(v, Verdict::Drop(DropReason::DstCheck));
    assert_eq!(
        d,
        [
            "app/eth0 rx_packets +1",
            "app/eth0 rx_bytes +32",
            "app/eth0 drop dst-check +1"
        ]
    );
}

#[test]
fn a_route_to_a_gone_eni_is_a_blackhole_and_a_gone_host_is_down() {
    let t = topology(MIDDLEBOX);
    let mut dp = Dataplane::new(&t);
    let table = t.subnets[1].route_table;
    let states = |dp: &Dataplane| {
        dp.routes(table)
            .map(|(r, s)| format!("{} {}", r.destination, s.name()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        states(&dp),
        [
            "0.0.0.0/0 active",
            "10.0.0.0/16 active",
            "10.0.12.0/24 active"
        ]
    );
    dp.set_link(FW, false);
    assert!(!dp.link_up(FW));
    assert_eq!(
        states(&dp),
        [
            "0.0.0.0/0 blackhole",
            "10.0.0.0/16 active",
            "10.0.12.0/24 blackhole"
        ]
    );
    let (v, _, d) = run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [192, 0, 2, 1]));
    assert_eq!(v, Verdict::Drop(DropReason::RouteBlackhole));
    assert_eq!(
        d,
        [
            "app/eth0 rx_packets +1",
            "app/eth0 rx_bytes +32",
            "app/eth0 drop route-blackhole +1"
        ]
    );
    // No fallback to a less specific route: 10.0.12.0/24 is a blackhole, not local.
    assert_eq!(
        run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [10, 0, 12, 10])).0,
        Verdict::Drop(DropReason::RouteBlackhole)
    );
    dp.set_link(DB, false);
    assert_eq!(
        run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [10, 0, 12, 10])).0,
        Verdict::Drop(DropReason::EniDown)
    );
    dp.set_link(FW, true);
    assert_eq!(
        run(&mut dp, &t, APP, &echo([10, 0, 2, 10], [192, 0, 2, 1])).0,
        Verdict::Forward { to: Port::Eni(FW) }
    );
}

#[test]
fn two_vpcs_with_the_same_cidr_exchange_nothing() {
    let other = r#"
[[vpc]]
name = "twin"
cidr = "10.0.0.0/16"

[[subnet]]
name = "twin-a"
vpc = "twin"
cidr = "10.0.1.0/24"
az = "a"

[[instance]]
name = "twin-web"
subnet = "twin-a"
private_ip = "10.0.1.20"
"#;
    let t = topology(other);
    let mut dp = Dataplane::new(&t);
    // web (demo) to 10.0.1.20, which only twin has.
    assert_eq!(
        run(&mut dp, &t, WEB, &echo([10, 0, 1, 10], [10, 0, 1, 20])).0,
        Verdict::Drop(DropReason::NoSuchHost)
    );
    // twin-web to web's address: twin has no such host.
    assert_eq!(
        run(&mut dp, &t, EniId(3), &echo([10, 0, 1, 20], [10, 0, 1, 10])).0,
        Verdict::Drop(DropReason::NoSuchHost)
    );
}

#[test]
fn a_batch_gives_one_verdict_per_packet_in_order() {
    let t = topology("");
    let mut dp = Dataplane::new(&t);
    let mut pkts = vec![
        PacketBuf::from_bytes(&echo([10, 0, 1, 10], [10, 0, 12, 10])),
        PacketBuf::from_bytes(&echo([10, 0, 1, 10], [10, 0, 1, 1])),
        PacketBuf::from_bytes(&echo([10, 0, 1, 10], [10, 0, 2, 255])),
    ];
    let mut verdicts = Vec::with_capacity(32);
    dp.process_batch(T0, WEB, &mut pkts, &mut verdicts);
    assert_eq!(
        verdicts,
        [
            Verdict::Forward { to: Port::Eni(DB) },
            Verdict::Reply {
                to: Port::Eni(WEB),
                reply: Reply::EchoReply
            },
            Verdict::Drop(DropReason::DstBroadcast),
        ]
    );
    assert_eq!(dp.counters().eni(WEB).rx_packets, 3);
    dp.process_batch(T0, WEB, &mut pkts[..1], &mut verdicts);
    assert_eq!(verdicts.len(), 1);
}

mod fuzzish {
    use super::*;
    use proptest::prelude::*;

    /// Whatever the pipeline sends is a well-formed IPv4 packet: it passes `sanity`
    /// again and, if the router made it, carries valid checksums.
    fn check_output(v: Verdict, out: &[u8]) {
        if let Verdict::Forward { .. } | Verdict::Reply { .. } = v {
            let mut copy = PacketBuf::from_bytes(out);
            assert!(
                crate::sanity::check(&mut copy).is_ok(),
                "emitted an invalid packet {out:02x?}"
            );
        }
        if let Verdict::Reply { .. } = v {
            assert!(checksum::verifies(&out[..20]));
            assert!(checksum::verifies(&out[20..]));
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1600), from in 0u32..3) {
            let t = topology(MIDDLEBOX);
            let mut dp = Dataplane::new(&t);
            let mut pkt = PacketBuf::from_bytes(&bytes);
            let v = dp.process(T0, EniId(from), &mut pkt);
            check_output(v, pkt.as_bytes());
        }

        /// Valid packets with a few bytes changed (checksums then fixed or not) reach
        /// every stage; none panics, and replies are well-formed.
        #[test]
        fn mutated_packets_never_panic(
            base in 0usize..4,
            edits in proptest::collection::vec((0usize..40, any::<u8>()), 0..4),
            fix_checksum in any::<bool>(),
            cut in 0usize..8,
        ) {
            let t = topology(MIDDLEBOX);
            let mut dp = Dataplane::new(&t);
            let mut p = match base {
                0 => ECHO_TO_ROUTER.to_vec(),
                1 => UDP_TTL_0.to_vec(),
                2 => echo([10, 0, 2, 10], [192, 0, 2, 1]),
                _ => echo([10, 0, 1, 10], [10, 0, 12, 10]),
            };
            for (i, b) in edits {
                let i = i % p.len();
                p[i] = b;
            }
            if fix_checksum && p.len() >= 20 {
                let hl = (usize::from(p[0] & 0x0f) * 4).clamp(20, p.len());
                p[10] = 0;
                p[11] = 0;
                let c = checksum::internet(&p[..hl]);
                p[10..12].copy_from_slice(&c.to_be_bytes());
            }
            p.truncate(p.len().saturating_sub(cut));
            let from = if base == 3 { WEB } else { APP };
            let mut pkt = PacketBuf::from_bytes(&p);
            let v = dp.process(T0, from, &mut pkt);
            check_output(v, pkt.as_bytes());
        }
    }
}
