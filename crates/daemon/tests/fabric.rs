//! End-to-end tests of many VPCs (issue 12): VPC peering and transit gateways with the
//! real daemon as root, real namespaces, ping and TCP. Each test has its own namespace
//! prefix.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod harness;

use std::net::{Ipv4Addr, UdpSocket};
use std::time::Duration;

use harness::{Vpcd, drop_deltas, in_netns, root_or_skip};

#[test]
fn a_peering_triangle_is_not_transitive_and_has_no_edge_to_edge_routing() {
    if !root_or_skip() {
        return;
    }
    let config = include_str!("../../../config/peering.toml");
    let vpcd = Vpcd::start("fab-pcx", Some(config));
    // Peers reach each other: ping and TCP, both ways.
    for (from, to) in [
        ("pa", "10.2.1.10"),
        ("pb", "10.1.1.10"),
        ("pb", "10.3.1.10"),
        ("pc", "10.2.1.10"),
    ] {
        assert!(vpcd.ping(from, to, 1, &[]), "{from} pings {to}");
    }
    let server = vpcd.http_server("pb", 8080);
    assert!(
        vpcd.http_get("pa", "10.2.1.10", 8080)
            .unwrap()
            .starts_with("you are 10.1.1.10:")
    );
    assert!(
        vpcd.http_get("pc", "10.2.1.10", 8080)
            .unwrap()
            .starts_with("you are 10.3.1.10:")
    );
    assert_eq!(server.clients(), ["10.1.1.10", "10.3.1.10"]);
    let server = vpcd.http_server("pa", 8080);
    assert!(vpcd.http_get("pb", "10.1.1.10", 8080).is_ok());
    drop(server);

    // a and c are not peered: b does not pass their packets on.
    let before = vpcd.counters();
    assert!(!vpcd.ping("pa", "10.3.1.10", 1, &["-W", "1"]));
    assert!(!vpcd.ping("pc", "10.1.1.10", 1, &["-W", "1"]));
    assert!(!vpcd.tcp_connects("pa", "10.3.1.10", 22));
    assert_eq!(
        drop_deltas(&before, &vpcd.counters()),
        ["peering-transitive +3"]
    );
    let trace = vpcd.ctl(&[
        "trace",
        "--from",
        "pa",
        "--to",
        "10.3.1.10",
        "--proto",
        "icmp",
    ]);
    assert!(trace.contains("vpc-peering a-b"), "{trace}");
    assert!(trace.contains("DROP peering-transitive"), "{trace}");
    assert!(trace.contains("VPC peering is not transitive"), "{trace}");

    // pb reaches the internet through its internet gateway; pa cannot use it.
    let host = vpcd.http_server("inet", 80);
    let page = vpcd.http_get("pb", "203.0.113.30", 80).unwrap();
    assert!(page.starts_with("you are 198.51.100.42:"), "{page}");
    let before = vpcd.counters();
    assert!(vpcd.http_get("pa", "203.0.113.30", 80).is_err());
    let deltas = drop_deltas(&before, &vpcd.counters());
    assert_eq!(deltas.len(), 1, "{deltas:?}");
    assert!(
        deltas[0].starts_with("peering-edge-to-edge +"),
        "{deltas:?}"
    );
    assert_eq!(host.clients(), ["198.51.100.42"]);
    let trace = vpcd.ctl(&[
        "trace",
        "--from",
        "pa",
        "--to",
        "203.0.113.30",
        "--proto",
        "tcp",
        "--port",
        "80",
    ]);
    assert!(trace.contains("no edge-to-edge routing"), "{trace}");

    // The routes show the connections as targets.
    assert_eq!(vpcd.route_state("a-rt", "10.2.0.0/16"), "a-b active");
    assert_eq!(vpcd.route_state("c-rt", "10.2.0.0/16"), "b-c active");
    let described = vpcd.ctl(&["describe-vpc-peering-connections"]);
    assert!(described.contains("444455556666"), "{described}");

    // Deleted at run time, b-c's routes turn blackhole on both sides.
    let pcx = "--vpc-peering-connection-id";
    vpcd.ctl(&["delete-vpc-peering-connection", pcx, "b-c"]);
    assert_eq!(vpcd.route_state("c-rt", "10.2.0.0/16"), "b-c blackhole");
    assert_eq!(vpcd.route_state("b-rt", "10.3.0.0/16"), "b-c blackhole");
    let before = vpcd.counters();
    assert!(!vpcd.ping("pb", "10.3.1.10", 1, &["-W", "1"]));
    assert_eq!(
        drop_deltas(&before, &vpcd.counters()),
        ["route-blackhole +1"]
    );
    // A new request between b and c (another account): pending until accepted.
    let created = vpcd.ctl(&[
        "create-vpc-peering-connection",
        pcx,
        "b-c2",
        "--vpc-id",
        "b",
        "--peer-vpc-id",
        "c",
    ]);
    assert!(created.contains("pending-acceptance"), "{created}");
    let accepted = vpcd.ctl(&["accept-vpc-peering-connection", pcx, "b-c2"]);
    assert!(accepted.contains("active"), "{accepted}");
    // Overlapping blocks are refused at run time too.
    let refused = vpcd.try_ctl(&[
        "create-vpc-peering-connection",
        pcx,
        "a-a",
        "--vpc-id",
        "a",
        "--peer-vpc-id",
        "a",
    ]);
    assert!(refused.is_err(), "{refused:?}");
}

#[test]
fn hub_and_spoke_spokes_reach_shared_services_only() {
    if !root_or_skip() {
        return;
    }
    let config = include_str!("../../../config/hub-and-spoke.toml");
    let vpcd = Vpcd::start("fab-hub", Some(config));
    for (from, to) in [
        ("s1", "10.10.1.10"),
        ("s2", "10.10.1.10"),
        ("svc", "10.11.1.10"),
        ("svc", "10.12.1.10"),
    ] {
        assert!(vpcd.ping(from, to, 1, &[]), "{from} pings {to}");
    }
    let server = vpcd.http_server("svc", 8080);
    assert!(
        vpcd.http_get("s1", "10.10.1.10", 8080)
            .unwrap()
            .starts_with("you are 10.11.1.10:")
    );
    assert_eq!(server.clients(), ["10.11.1.10"]);

    // Spokes do not reach each other; iso reaches nothing.
    let before = vpcd.counters();
    assert!(!vpcd.ping("s1", "10.12.1.10", 1, &["-W", "1"]));
    assert!(!vpcd.ping("s2", "10.11.1.10", 1, &["-W", "1"]));
    assert!(!vpcd.ping("iso", "10.10.1.10", 1, &["-W", "1"]));
    assert!(!vpcd.tcp_connects("iso", "10.11.1.10", 22));
    assert_eq!(drop_deltas(&before, &vpcd.counters()), ["tgw-no-route +4"]);

    // Disabling att-shared's propagation into spokes-rt cuts s1 -> svc at once;
    // enabling it restores it.
    let args = |verb: &str| {
        vec![
            format!("{verb}-transit-gateway-route-table-propagation"),
            "--transit-gateway-route-table-id".into(),
            "spokes-rt".into(),
            "--transit-gateway-attachment-id".into(),
            "att-shared".into(),
        ]
    };
    let ctl = |a: Vec<String>| vpcd.ctl(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let spokes_rt = |routes: &str| {
        let at = routes
            .find("transit gateway route table spokes-rt")
            .expect("spokes-rt is listed");
        let rest = &routes[at..];
        rest[..rest.find("\n\n").unwrap_or(rest.len())].to_owned()
    };
    assert_eq!(
        spokes_rt(&vpcd.ctl(&["routes"])),
        "transit gateway route table spokes-rt (transit gateway tgw); associations: att-s1, att-s2; propagations: att-shared\n\
         DESTINATION   TARGET      TYPE        STATE\n\
         10.10.0.0/16  att-shared  propagated  active"
    );
    ctl(args("disable"));
    assert!(!vpcd.ping("s1", "10.10.1.10", 1, &["-W", "1"]));
    assert_eq!(
        spokes_rt(&vpcd.ctl(&["routes"])),
        "transit gateway route table spokes-rt (transit gateway tgw); associations: att-s1, att-s2; propagations: none\n\
         no routes"
    );
    ctl(args("enable"));
    assert!(vpcd.ping("s1", "10.10.1.10", 1, &[]));
    let trace = vpcd.ctl(&[
        "trace",
        "--from",
        "s1",
        "--to",
        "10.12.1.10",
        "--proto",
        "icmp",
    ]);
    assert!(trace.contains("route table spokes-rt: no route"), "{trace}");
    assert!(trace.contains("DROP tgw-no-route"), "{trace}");
    // Deleting spoke2's attachment blackholes spoke2's route to the gateway.
    vpcd.ctl(&[
        "delete-transit-gateway-vpc-attachment",
        "--transit-gateway-attachment-id",
        "att-s2",
    ]);
    assert_eq!(vpcd.route_state("spoke2-rt", "10.0.0.0/8"), "tgw blackhole");
    assert!(!vpcd.ping("s2", "10.10.1.10", 1, &["-W", "1"]));
    let described = vpcd.ctl(&["describe-transit-gateways"]);
    assert!(described.contains("deleted"), "{described}");
}

#[test]
fn a_multicast_datagram_reaches_every_member_and_no_one_else() {
    if !root_or_skip() {
        return;
    }
    let config = include_str!("../../../config/multicast.toml");
    let vpcd = Vpcd::start("fab-mc", Some(config));
    let group = Ipv4Addr::new(239, 1, 1, 1);
    // Every receiver, member or not, joins the group on its eth0 and listens.
    let listeners: Vec<_> = [
        ("tv1", "10.40.1.11"),
        ("tv2", "10.40.1.12"),
        ("radio", "10.40.1.13"),
    ]
    .into_iter()
    .map(|(name, addr)| {
        let addr: Ipv4Addr = addr.parse().unwrap();
        let socket = in_netns(&vpcd.ns(name), move || {
            let s = UdpSocket::bind(("0.0.0.0", 5004)).unwrap();
            s.join_multicast_v4(&group, &addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            s
        })
        .join()
        .unwrap();
        (name, socket)
    })
    .collect();
    in_netns(&vpcd.ns("cam"), move || {
        let s = UdpSocket::bind("10.40.1.10:0").unwrap();
        s.send_to(b"frame 1", (group, 5004)).unwrap();
    })
    .join()
    .unwrap();
    let mut got = Vec::new();
    for (name, socket) in &listeners {
        let mut buf = [0u8; 64];
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            got.push(format!(
                "{name} <- {from}: {}",
                String::from_utf8_lossy(&buf[..n])
            ));
        }
    }
    // tv1 and tv2 get it from cam; radio, which joined too, gets nothing.
    assert_eq!(got.len(), 2, "{got:?}");
    for (g, name) in got.iter().zip(["tv1", "tv2"]) {
        assert!(
            g.starts_with(&format!("{name} <- 10.40.1.10:")) && g.ends_with(": frame 1"),
            "{got:?}"
        );
    }
}

#[test]
fn with_igmpv2_support_a_socket_that_joins_gets_the_group_and_one_that_leaves_does_not() {
    if !root_or_skip() {
        return;
    }
    let config = include_str!("../../../config/multicast.toml").replace(
        "name = \"mcast\"\ntransit_gateway = \"tgw\"\n",
        "name = \"mcast\"\ntransit_gateway = \"tgw\"\nigmpv2_support = \"enable\"\n",
    );
    let vpcd = Vpcd::start("fab-igmp", Some(&config));
    let group = Ipv4Addr::new(239, 1, 1, 1);
    let radio: Ipv4Addr = "10.40.1.13".parse().unwrap();
    let send = |vpcd: &Vpcd, text: &'static str| {
        in_netns(&vpcd.ns("cam"), move || {
            let s = UdpSocket::bind("10.40.1.10:0").unwrap();
            s.send_to(text.as_bytes(), (group, 5004)).unwrap();
        })
        .join()
        .unwrap();
    };
    // radio is no registered member: joining (the kernel sends an IGMPv3 report)
    // makes it one.
    let before = vpcd.counters();
    let socket = in_netns(&vpcd.ns("radio"), move || {
        let s = UdpSocket::bind(("0.0.0.0", 5004)).unwrap();
        s.join_multicast_v4(&group, &radio).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s
    })
    .join()
    .unwrap();
    assert!(
        harness::eventually(Duration::from_secs(3), || {
            harness::drops(&vpcd.counters(), "igmp") > harness::drops(&before, "igmp")
        }),
        "the join reached the domain"
    );
    send(&vpcd, "joined");
    let mut buf = [0u8; 64];
    let (n, from) = socket.recv_from(&mut buf).expect("radio gets the datagram");
    assert_eq!(
        (&buf[..n], from.ip().to_string()),
        (&b"joined"[..], "10.40.1.10".to_owned())
    );
    // Leaving (the socket closes: the kernel reports CHANGE_TO_INCLUDE {}), it gets
    // nothing more; tv1 and tv2, registered, still do.
    let igmp = harness::drops(&vpcd.counters(), "igmp");
    drop(socket);
    assert!(
        harness::eventually(Duration::from_secs(3), || {
            harness::drops(&vpcd.counters(), "igmp") > igmp
        }),
        "the leave reached the domain"
    );
    let before = vpcd.counters();
    send(&vpcd, "left");
    let tx = |c: &vpc_api::CountersReport, name: &str| {
        c.enis
            .iter()
            .find(|e| e.name == format!("{name}/eth0"))
            .map(|e| e.tx_packets)
            .unwrap()
    };
    assert!(harness::eventually(Duration::from_secs(2), || {
        let now = vpcd.counters();
        tx(&now, "tv1") > tx(&before, "tv1") && tx(&now, "tv2") > tx(&before, "tv2")
    }));
    assert_eq!(tx(&vpcd.counters(), "radio"), tx(&before, "radio"));
}

/// The firewalls of `config/appliance-mode.toml` forward (they are routers) and send
/// no redirects.
fn firewalls_forward(vpcd: &Vpcd) {
    for fw in ["fw-a", "fw-b"] {
        for key in [
            "net.ipv4.ip_forward=1",
            "net.ipv4.conf.all.send_redirects=0",
            "net.ipv4.conf.eth0.send_redirects=0",
        ] {
            let out = vpcd.exec(fw, &["sysctl", "-q", "-w", key]);
            assert!(out.status.success(), "{fw}: {key}");
        }
    }
}

#[test]
fn appliance_mode_keeps_both_directions_on_one_firewall_and_without_it_the_flow_breaks() {
    if !root_or_skip() {
        return;
    }
    let config = include_str!("../../../config/appliance-mode.toml");
    let vpcd = Vpcd::start("fab-appl", Some(config));
    firewalls_forward(&vpcd);
    let server = vpcd.http_server("app2", 8080);
    let captures = [
        vpcd.capture("fw-a", "tcp port 8080"),
        vpcd.capture("fw-b", "tcp port 8080"),
    ];
    for _ in 0..4 {
        let page = vpcd.http_get("app1", "10.22.2.10", 8080).unwrap();
        assert!(page.starts_with("you are 10.21.1.10:"), "{page}");
    }
    assert_eq!(server.clients().len(), 4);
    // Each connection (by app1's port) crossed one firewall, both ways.
    let mut seen: std::collections::BTreeMap<u16, Vec<&str>> = Default::default();
    let packets: Vec<(&str, Vec<Vec<u8>>)> = ["fw-a", "fw-b"]
        .into_iter()
        .zip(captures)
        .map(|(fw, c)| (fw, c.packets()))
        .collect();
    for (fw, packets) in &packets {
        for p in packets {
            let hl = usize::from(p[0] & 0x0f) * 4;
            let (sport, dport) = (
                u16::from_be_bytes([p[hl], p[hl + 1]]),
                u16::from_be_bytes([p[hl + 2], p[hl + 3]]),
            );
            let client_port = if dport == 8080 { sport } else { dport };
            let fws = seen.entry(client_port).or_default();
            if !fws.contains(fw) {
                fws.push(fw);
            }
        }
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(seen.values().all(|fws| fws.len() == 1), "{seen:?}");
    drop(vpcd);

    // Without appliance mode the request enters the inspection VPC in app1's zone (a,
    // fw-a) and the reply in app2's (b, fw-b): fw-b's interface never saw the flow
    // begin and refuses its SYN-ACK.
    let config = config.replace("appliance_mode_support = \"enable\"\n", "");
    let vpcd = Vpcd::start("fab-noappl", Some(&config));
    firewalls_forward(&vpcd);
    let _server = vpcd.http_server("app2", 8080);
    let before = vpcd.counters();
    assert!(!vpcd.tcp_connects("app1", "10.22.2.10", 8080));
    let deltas = drop_deltas(&before, &vpcd.counters());
    assert!(
        deltas.iter().any(|d| d.starts_with("tcp-no-flow +")),
        "{deltas:?}"
    );
}

#[test]
fn peered_transit_gateways_carry_traffic_between_regions() {
    if !root_or_skip() {
        return;
    }
    let config = include_str!("../../../config/tgw-peering.toml");
    let vpcd = Vpcd::start("fab-tgwp", Some(config));
    assert!(vpcd.ping("e1", "10.40.1.10", 1, &[]));
    assert!(vpcd.ping("w1", "10.30.1.10", 1, &[]));
    let server = vpcd.http_server("w1", 8080);
    let page = vpcd.http_get("e1", "10.40.1.10", 8080).unwrap();
    assert!(page.starts_with("you are 10.30.1.10:"), "{page}");
    assert_eq!(server.clients(), ["10.30.1.10"]);
    // A 9000-byte ping with DF gets fragmentation needed at the gateway (MTU 8500);
    // one of 8500 bytes passes.
    assert!(!vpcd.ping(
        "e1",
        "10.40.1.10",
        1,
        &["-s", "8972", "-M", "do", "-W", "1"]
    ));
    assert!(vpcd.ping("e1", "10.40.1.10", 1, &["-s", "8472", "-M", "do"]));
    let trace = vpcd.ctl(&[
        "trace",
        "--from",
        "e1",
        "--to",
        "10.40.1.10",
        "--proto",
        "icmp",
    ]);
    assert!(
        trace.contains(
            "transit-gateway tgw-east  route table east-rt (associated with att-east): 10.40.0.0/16 -> east-west (static)"
        ),
        "{trace}"
    );
    assert!(
        trace.contains(
            "transit-gateway tgw-west  route table west-rt (associated with east-west): 10.40.0.0/16 -> att-west (propagated)"
        ),
        "{trace}"
    );
    assert!(trace.contains("FORWARD to w1/eth0"), "{trace}");
}
