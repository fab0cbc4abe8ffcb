//! End-to-end tests of issue 11's AWS behaviours that show from outside: an ICMP error
//! about an untracked flow reaches its sender (UDP "connection refused"), flows through
//! a NAT gateway are tracked whatever the groups say, one UDP request and reply keep the
//! 30 s timeout, a datagram over 1500 bytes without DF leaves the internet gateway in
//! fragments, and a gateway route table sends what enters from the internet through an
//! appliance (seen with tcpdump inside the appliance). The real daemon as root, real
//! namespaces, real sockets, ping and tcpdump.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod harness;

use std::io::ErrorKind;
use std::net::{Ipv4Addr, UdpSocket};
use std::time::Duration;

use harness::{Vpcd, drop_deltas, in_netns, root_or_skip};
use vpc_api::{EniFlows, Response};

/// Two instances in two subnets whose groups allow everything both ways: every TCP and
/// UDP flow between them is untracked.
const ALL_OPEN: &str = r#"
[[vpc]]
name = "v"
cidr = "10.3.0.0/16"

[[subnet]]
name = "a"
vpc = "v"
cidr = "10.3.1.0/24"
az = "a"

[[subnet]]
name = "b"
vpc = "v"
cidr = "10.3.2.0/24"
az = "a"

[[instance]]
name = "a1"
subnet = "a"
private_ip = "10.3.1.10"

[[instance]]
name = "b1"
subnet = "b"
private_ip = "10.3.2.10"

[[security_group]]
name = "default"
vpc = "v"
ingress = [{ protocol = "all", cidr = "0.0.0.0/0" }]
"#;

/// A private instance whose group allows everything both ways, behind a NAT gateway,
/// and an internet host.
const BEHIND_NAT: &str = r#"
[[vpc]]
name = "v"
cidr = "10.4.0.0/16"

[[subnet]]
name = "public"
vpc = "v"
cidr = "10.4.1.0/24"
az = "a"

[[subnet]]
name = "private"
vpc = "v"
cidr = "10.4.2.0/24"
az = "a"

[[instance]]
name = "app"
subnet = "private"
private_ip = "10.4.2.10"

[[security_group]]
name = "default"
vpc = "v"
ingress = [{ protocol = "all", cidr = "0.0.0.0/0" }]

[[internet_gateway]]
name = "igw"
vpc = "v"

[[elastic_ip]]
name = "nat-eip"
address = "198.51.100.60"

[[nat_gateway]]
name = "nat"
subnet = "public"
elastic_ips = ["nat-eip"]

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
address = "203.0.113.20"
"#;

/// `vpcctl flows NAME --json`: the one ENI's flows.
fn flows(vpcd: &Vpcd, name: &str) -> EniFlows {
    match vpc_api::decode_response(vpcd.ctl(&["flows", name, "--json"]).as_bytes()) {
        Ok(Response::Flows(mut f)) if f.enis.len() == 1 => f.enis.remove(0),
        other => panic!("unexpected flows response {other:?}"),
    }
}

#[test]
fn a_udp_datagram_to_a_closed_port_is_refused_between_all_open_instances() {
    if !root_or_skip() {
        return;
    }
    let vpcd = Vpcd::start("fid-udp", Some(ALL_OPEN));
    let before = vpcd.counters();
    // Nothing listens on b1's port 9: b1's kernel answers port unreachable, about a
    // flow that neither ENI tracks; the groups allow ICMP, so it arrives.
    let got = in_netns(&vpcd.ns("a1"), || {
        let s = UdpSocket::bind("0.0.0.0:0").unwrap();
        s.connect("10.3.2.10:9").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.send(b"anyone?").unwrap();
        let mut buf = [0u8; 64];
        s.recv(&mut buf).map_err(|e| e.kind())
    })
    .join()
    .unwrap();
    assert_eq!(got, Err(ErrorKind::ConnectionRefused));
    assert_eq!(drop_deltas(&before, &vpcd.counters()), Vec::<String>::new());
    assert_eq!(flows(&vpcd, "a1").tracked, 0, "untracked");
    assert_eq!(flows(&vpcd, "b1").tracked, 0, "untracked");
}

#[test]
fn an_all_open_instances_connection_through_the_nat_gateway_is_tracked() {
    if !root_or_skip() {
        return;
    }
    let vpcd = Vpcd::start("fid-nat", Some(BEHIND_NAT));
    let server = vpcd.http_server("internet", 80);
    let page = vpcd.http_get("app", "203.0.113.20", 80).unwrap();
    assert!(page.starts_with("you are 198.51.100.60:"), "{page}");
    assert_eq!(server.clients(), ["198.51.100.60"]);
    let app = flows(&vpcd, "app");
    assert!(
        app.flows
            .iter()
            .any(|f| f.proto == "tcp" && f.dst == "203.0.113.20:80"),
        "{app:?}"
    );
    let text = vpcd.ctl(&["flows", "app"]);
    assert!(text.contains("203.0.113.20:80"), "{text}");
}

#[test]
fn one_udp_request_and_reply_leave_at_most_30_seconds() {
    if !root_or_skip() {
        return;
    }
    let vpcd = Vpcd::start("fid-udp30", Some(BEHIND_NAT));
    let reply = vpcd.udp_exchange("app", "internet", "203.0.113.20", 9999);
    assert!(
        reply
            .as_deref()
            .is_ok_and(|r| r.starts_with("you are 198.51.100.60:")),
        "{reply:?}"
    );
    let app = flows(&vpcd, "app");
    let udp: Vec<_> = app.flows.iter().filter(|f| f.proto == "udp").collect();
    assert_eq!(udp.len(), 1, "{app:?}");
    assert_eq!(udp[0].state, "replied");
    assert!(udp[0].expires_in_secs <= 30, "{:?}", udp[0]);
    assert_eq!((udp[0].packets_original, udp[0].packets_reply), (1, 1));
}

#[test]
fn a_3000_byte_ping_without_df_arrives_in_fragments_and_is_answered() {
    if !root_or_skip() {
        return;
    }
    // The demo: web has Elastic IP 198.51.100.10; its MTU is 9001, the internet's 1500.
    let vpcd = Vpcd::start("fid-frag", None);
    let capture = vpcd.capture("internet", "icmp and src host 198.51.100.10");
    let before = vpcd.counters();
    assert!(
        vpcd.ping("web", "203.0.113.10", 1, &["-s", "2972", "-M", "dont"]),
        "the 3000-byte ping is answered"
    );
    let after = vpcd.counters();
    let packets = capture.packets();
    // 1500 + 1500 + 40 bytes: 20-byte headers and 1480, 1480 and 20 bytes of the
    // 2980-byte ICMP message, with more-fragments set on all but the last.
    let shape: Vec<(usize, bool, usize)> = packets
        .iter()
        .map(|p| {
            let field = u16::from_be_bytes([p[6], p[7]]);
            (
                p.len(),
                field & 0x2000 != 0,
                usize::from(field & 0x1fff) * 8,
            )
        })
        .collect();
    assert_eq!(
        shape,
        [(1500, true, 0), (1500, true, 1480), (40, false, 2960)]
    );
    assert!(packets.iter().all(|p| p.len() <= 1500));
    let host = |c: &vpc_api::CountersReport| {
        let h = c.hosts.iter().find(|h| h.name == "internet").unwrap();
        (h.tx_packets, h.tx_bytes)
    };
    let (a, b) = (host(&after), host(&before));
    assert_eq!((a.0 - b.0, a.1 - b.1), (3, 3040), "counted as fragments");
    assert_eq!(drop_deltas(&before, &after), Vec::<String>::new());
}

#[test]
fn a_gateway_route_table_sends_inbound_traffic_through_the_appliance() {
    if !root_or_skip() {
        return;
    }
    let config = include_str!("../../../config/ingress-routing.toml");
    let vpcd = Vpcd::start("fid-ingress", Some(config));
    // fw is a router: it forwards, and sends no redirects for what it sends back out
    // of the interface it came in on.
    for key in [
        "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.send_redirects=0",
        "net.ipv4.conf.eth0.send_redirects=0",
    ] {
        let out = vpcd.exec("fw", &["sysctl", "-q", "-w", key]);
        assert!(out.status.success(), "{key}");
    }
    let routes = vpcd.ctl(&["routes"]);
    assert!(
        routes.contains("route table ingress-rt (vpc ingress); subnets: none; gateways: igw"),
        "{routes}"
    );
    let server = vpcd.http_server("web", 80);
    let capture = vpcd.capture("fw", "tcp port 80");
    let page = vpcd.http_get("internet", "198.51.100.41", 80).unwrap();
    assert!(page.starts_with("you are 203.0.113.10:"), "{page}");
    assert_eq!(server.clients(), ["203.0.113.10"]);
    let packets = capture.packets();
    let (web, host) = (Ipv4Addr::new(10, 0, 1, 10), Ipv4Addr::new(203, 0, 113, 10));
    let addrs = |p: &Vec<u8>| {
        (
            Ipv4Addr::new(p[12], p[13], p[14], p[15]),
            Ipv4Addr::new(p[16], p[17], p[18], p[19]),
        )
    };
    let inbound = packets.iter().filter(|p| addrs(p) == (host, web)).count();
    let outbound = packets.iter().filter(|p| addrs(p) == (web, host)).count();
    // fw sees each packet twice (in from vpcd, out again after forwarding): the whole
    // exchange both ways went through it.
    assert!(
        inbound >= 6 && outbound >= 6,
        "{inbound} in, {outbound} out"
    );

    // Without the edge association, what enters goes straight to web (its replies
    // still go through fw, by its subnet's route table).
    let done = vpcd.ctl(&[
        "disassociate-route-table",
        "ingress-rt",
        "--gateway-id",
        "igw",
    ]);
    assert!(
        done.contains("disassociated route table ingress-rt"),
        "{done}"
    );
    let capture = vpcd.capture("fw", "tcp port 80");
    vpcd.http_get("internet", "198.51.100.41", 80).unwrap();
    let packets = capture.packets();
    assert_eq!(
        packets.iter().filter(|p| addrs(p) == (host, web)).count(),
        0,
        "nothing inbound passes fw"
    );
    assert!(packets.iter().any(|p| addrs(p) == (web, host)));
    // Associated again; and the public subnet's local route through fw, and back.
    let done = vpcd.ctl(&["associate-route-table", "ingress-rt", "--gateway-id", "igw"]);
    assert!(done.contains("associated route table ingress-rt"), "{done}");
    let replace = ["replace-route", "public-rt", "--destination-cidr-block"];
    let done = vpcd.ctl(
        &[
            &replace[..],
            &["10.0.0.0/16", "--network-interface-id", "fw"],
        ]
        .concat(),
    );
    assert!(done.ends_with("now targets fw/eth0\n"), "{done}");
    assert_eq!(
        vpcd.route_state("public-rt", "10.0.0.0/16"),
        "fw/eth0 active"
    );
    let refused = vpcd.try_ctl(&[&replace[..], &["10.0.1.0/24", "--local-target"]].concat());
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("is not a local route")),
        "{refused:?}"
    );
    vpcd.ctl(&[&replace[..], &["10.0.0.0/16", "--local-target"]].concat());
    assert_eq!(vpcd.route_state("public-rt", "10.0.0.0/16"), "local active");
    let routes = vpcd.ctl(&["routes"]);
    assert!(routes.contains("subnets: none; gateways: igw"), "{routes}");
}
