//! End-to-end tests of the emulated internet, the internet gateway, Elastic IPs and NAT
//! gateways (issue 4): the real daemon as root, real namespaces for the instances and
//! the internet hosts, HTTP over TCP, ping and UDP. Drops are asserted as exact counter
//! deltas: pings send one packet each, UDP probes one datagram, and a failing
//! connection attempt gives up before the kernel retransmits its SYN.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod harness;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use harness::{Vpcd, drop_deltas, in_netns, namespaces, root_or_skip};
use vpc_api::CountersReport;

/// Packets every ENI sent and received: `(name, rx, tx)`.
fn eni_packets(c: &CountersReport) -> Vec<(String, u64, u64)> {
    c.enis
        .iter()
        .map(|e| (e.name.clone(), e.rx_packets, e.tx_packets))
        .collect()
}

/// Issue 4's acceptance, outbound: `app` and `db` fetch a page from the internet host
/// through their zone's NAT gateway and are seen there as its Elastic IP; ping and UDP
/// go through too. The internet host's namespace, and what vpcctl shows about it all.
#[test]
fn private_instances_reach_the_internet_through_their_zones_nat_gateway() {
    if !root_or_skip() {
        return;
    }
    let mut vpcd = Vpcd::start("inet-out", None);
    assert!(
        vpcd.stdout().contains(
            "internet host internet: namespace e2e-inet-out-internet, eth0 203.0.113.10\n"
        ),
        "{}",
        vpcd.stdout()
    );
    assert!(
        vpcd.stdout()
            .contains("ready: 3 instances, 3 ENIs, 2 internet hosts;"),
        "{}",
        vpcd.stdout()
    );
    // The host: eth0 with MTU 1500, its address as a /32, a default route on the
    // device, IPv6 off, loopback up.
    let run = |args: &[&str]| {
        let out = vpcd.exec("internet", args);
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let link = run(&["ip", "-o", "link", "show", "eth0"]);
    assert!(
        link.contains(" mtu 1500 ") && link.contains(",UP,"),
        "{link}"
    );
    let addr = run(&["ip", "-o", "-4", "addr", "show", "eth0"]);
    assert!(addr.contains(" inet 203.0.113.10/32 "), "{addr}");
    assert_eq!(
        run(&["ip", "-4", "route", "show"]).trim(),
        "default dev eth0 proto static scope link"
    );
    assert_eq!(
        run(&["sysctl", "-n", "net.ipv6.conf.all.disable_ipv6"]).trim(),
        "1"
    );
    assert!(run(&["ip", "-o", "link", "show", "lo"]).contains(",UP,"));

    // app (private-a) and db (private-b) fetch a page; the server sees each as its
    // zone's NAT gateway's Elastic IP.
    let server = vpcd.http_server("internet", 80);
    let before = vpcd.counters();
    let page = vpcd.http_get("app", "203.0.113.10", 80).unwrap();
    assert!(page.starts_with("you are 198.51.100.20:"), "{page}");
    let page = vpcd.http_get("db", "203.0.113.10", 80).unwrap();
    assert!(page.starts_with("you are 198.51.100.21:"), "{page}");
    assert_eq!(server.clients(), ["198.51.100.20", "198.51.100.21"]);

    // ICMP echo through nat-a (the identifier is translated), UDP through nat-b.
    assert!(
        vpcd.ping("app", "203.0.113.10", 3, &[]),
        "app pings the internet"
    );
    let reply = vpcd.udp_exchange("db", "internet", "203.0.113.10", 9999);
    assert!(
        reply
            .as_deref()
            .is_ok_and(|r| r.starts_with("you are 198.51.100.21:")),
        "{reply:?}"
    );
    let after = vpcd.counters();
    assert_eq!(drop_deltas(&before, &after), Vec::<String>::new());
    let internet = after.hosts.iter().find(|h| h.name == "internet").unwrap();
    assert!(
        internet.rx_packets > 0 && internet.tx_packets > 0,
        "{internet:?}"
    );

    // vpcctl: the host in status and counters, gateways as route targets, addresses,
    // NAT gateways with their metrics and translations.
    let status = vpcd.status();
    // The internet host and the emulated S3's.
    assert_eq!(status.internet_hosts.len(), 2);
    let host = &status.internet_hosts[0];
    assert_eq!(
        (
            host.name.as_str(),
            host.namespace.as_str(),
            host.address.as_str(),
            host.link.as_str()
        ),
        ("internet", "e2e-inet-out-internet", "203.0.113.10", "up")
    );
    assert!(vpcd.ctl(&["status"]).contains("INTERNET HOST"));
    assert!(vpcd.ctl(&["counters"]).contains("\ninternet "));
    assert_eq!(vpcd.route_state("public-rt", "0.0.0.0/0"), "igw active");
    assert_eq!(
        vpcd.route_state("private-a-rt", "0.0.0.0/0"),
        "nat-a active"
    );
    assert_eq!(
        vpcd.route_state("private-b-rt", "0.0.0.0/0"),
        "nat-b active"
    );
    let addresses = vpcd.ctl(&["addresses"]);
    for line in [
        "198.51.100.10  web-eip    web/eth0",
        "198.51.100.20  nat-a-eip  nat-a address #0 (10.0.1.5)",
        "198.51.100.21  nat-b-eip  nat-b address #0 (10.0.11.5)",
        "web/eth0  10.0.1.10   198.51.100.10  elastic-ip",
        "igw               attached to demo",
        "internet       203.0.113.10",
    ] {
        assert!(addresses.contains(line), "{line:?} in\n{addresses}");
    }
    let nat_a = vpcd.nat_gateway("nat-a");
    assert_eq!(
        (
            nat_a.subnet.as_str(),
            nat_a.az.as_str(),
            nat_a.state.as_str()
        ),
        ("public-a", "a", "available")
    );
    assert_eq!(nat_a.addresses[0].private_ip, "10.0.1.5");
    assert_eq!(
        nat_a.addresses[0].elastic_ip.as_deref(),
        Some("198.51.100.20")
    );
    // One TCP connection and one echo flow attempted; what came in went out.
    let m = nat_a.metrics;
    assert_eq!(m.connection_attempt_count, 2, "{m:?}");
    assert_eq!(m.connection_established_count, 1, "{m:?}");
    assert_eq!(m.error_port_allocation, 0, "{m:?}");
    assert!(m.packets_in_from_source >= 3 + 4, "{m:?}");
    assert_eq!(m.packets_in_from_source, m.packets_out_to_destination);
    assert_eq!(m.bytes_in_from_source, m.bytes_out_to_destination);
    assert_eq!(m.packets_in_from_destination, m.packets_out_to_source);
    let mappings = nat_a.mappings.unwrap();
    assert!(
        mappings.iter().any(|x| x.proto == "tcp"
            && x.inside.starts_with("10.0.2.10:")
            && x.outside.starts_with("10.0.1.5:")
            && x.remote == "203.0.113.10:80"),
        "{mappings:?}"
    );
    assert!(
        mappings
            .iter()
            .any(|x| x.proto == "icmp" && x.inside.starts_with("10.0.2.10 id ")),
        "{mappings:?}"
    );
    let nat_b = vpcd.nat_gateway("nat-b");
    assert!(nat_b.mappings.unwrap().iter().any(|x| x.proto == "udp"
        && x.inside.starts_with("10.0.12.10:")
        && x.remote == "203.0.113.10:9999"));
    let text = vpcd.ctl(&["nat-gateways"]);
    for name in [
        "nat gateway nat-a (public; subnet public-a, az a): available",
        "nat gateway nat-b (public; subnet public-b, az b): available",
        "ActiveConnectionCount",
        "ErrorPortAllocation",
        "BytesOutToSource",
    ] {
        assert!(text.contains(name), "{name} in\n{text}");
    }

    let trace = vpcd.ctl(&[
        "trace",
        "--from",
        "db",
        "--to",
        "203.0.113.10",
        "--proto",
        "tcp",
        "--port",
        "80",
    ]);
    assert!(trace.contains("verdict: FORWARD to internet"), "{trace}");

    // Stopping removes the internet host's namespace too.
    drop(server);
    assert!(vpcd.stop().success(), "{}", vpcd.stderr());
    assert_eq!(namespaces(&vpcd.prefix), Vec::<String>::new());
}

/// Issue 4's acceptance, inbound: the internet reaches `web` at its Elastic IP on port
/// 80 (and web is seen only under that address), not on port 22, and no 10.0.x.x
/// address at all.
#[test]
fn the_internet_reaches_web_only_at_its_elastic_ip_and_port_80() {
    if !root_or_skip() {
        return;
    }
    let vpcd = Vpcd::start("inet-in", None);
    let web = vpcd.http_server("web", 80);
    let before = vpcd.counters();
    let page = vpcd.http_get("internet", "198.51.100.10", 80).unwrap();
    assert!(page.starts_with("you are 203.0.113.10:"), "{page}");
    assert_eq!(web.clients(), ["203.0.113.10"]);
    // web's own connections to the internet come from its Elastic IP as well.
    let internet = vpcd.http_server("internet", 80);
    let page = vpcd.http_get("web", "203.0.113.10", 80).unwrap();
    assert!(page.starts_with("you are 198.51.100.10:"), "{page}");
    assert_eq!(internet.clients(), ["198.51.100.10"]);
    assert_eq!(drop_deltas(&before, &vpcd.counters()), Vec::<String>::new());

    // Port 22: web-sg allows ssh from the VPC only.
    let before = vpcd.counters();
    assert!(!vpcd.tcp_connects("internet", "198.51.100.10", 22));
    assert_eq!(drop_deltas(&before, &vpcd.counters()), ["sg-ingress +1"]);
    // A trace from the internet host says why.
    let trace = vpcd.ctl(&[
        "trace",
        "--from",
        "internet",
        "--to",
        "198.51.100.10",
        "--proto",
        "tcp",
        "--port",
        "22",
    ]);
    assert!(
        trace.contains("destination 198.51.100.10 becomes 10.0.1.10 (from the internet)"),
        "{trace}"
    );
    assert!(trace.contains("verdict: DROP sg-ingress"), "{trace}");

    // No private address is reachable from the internet: not the instances, not the
    // NAT gateways' private addresses, not a subnet router.
    let before = vpcd.counters();
    for dst in [
        "10.0.1.10",
        "10.0.2.10",
        "10.0.12.10",
        "10.0.1.5",
        "10.0.11.5",
        "10.0.1.1",
    ] {
        assert!(!vpcd.ping("internet", dst, 1, &[]), "internet pinged {dst}");
    }
    assert!(!vpcd.tcp_connects("internet", "10.0.1.10", 80));
    assert!(!vpcd.tcp_connects("internet", "10.0.2.10", 8080));
    let after = vpcd.counters();
    assert_eq!(drop_deltas(&before, &after), ["internet-no-route +8"]);
    assert_eq!(eni_packets(&before), eni_packets(&after));
}

/// Issue 4's acceptance: nothing the internet sends to a NAT gateway's Elastic IP, on
/// any port or protocol, reaches an instance.
#[test]
fn nothing_unsolicited_gets_through_a_nat_gateway() {
    if !root_or_skip() {
        return;
    }
    let vpcd = Vpcd::start("inet-scan", None);
    let before = vpcd.counters();
    for nat in ["198.51.100.20", "198.51.100.21"] {
        for port in [22, 80, 8080, 5432] {
            assert!(
                !vpcd.tcp_connects("internet", nat, port),
                "{nat}:{port} answered"
            );
        }
        for port in [53, 5432, 8080] {
            vpcd.udp_send("internet", nat, port);
        }
        assert!(!vpcd.ping("internet", nat, 1, &[]), "{nat} answered ping");
    }
    // Datagrams have no answer to wait for: give the last ones time to be counted.
    std::thread::sleep(Duration::from_millis(200));
    let after = vpcd.counters();
    assert_eq!(drop_deltas(&before, &after), ["nat-unsolicited +16"]);
    assert_eq!(eni_packets(&before), eni_packets(&after));
    let rx = |c: &CountersReport| c.hosts[0].rx_packets;
    assert_eq!(rx(&after) - rx(&before), 16);
}

/// Issue 4's acceptance: with N source ports and N+k connections to one destination,
/// exactly k fail and ErrorPortAllocation rises by k; no port is handed out twice;
/// another destination still works.
#[test]
fn port_exhaustion_fails_exactly_the_connections_beyond_the_ports() {
    if !root_or_skip() {
        return;
    }
    const N: usize = 10;
    const K: usize = 3;
    let config = r#"
[[vpc]]
name = "x"
cidr = "10.30.0.0/16"

[[subnet]]
name = "pub"
vpc = "x"
cidr = "10.30.0.0/24"
az = "a"

[[subnet]]
name = "priv"
vpc = "x"
cidr = "10.30.1.0/24"
az = "a"

[[internet_gateway]]
name = "gw"
vpc = "x"

[[route_table]]
name = "pub-rt"
vpc = "x"
subnets = ["pub"]
route = [{ destination = "0.0.0.0/0", internet_gateway = "gw" }]

[[route_table]]
name = "priv-rt"
vpc = "x"
subnets = ["priv"]
route = [{ destination = "0.0.0.0/0", nat_gateway = "nat" }]

[[elastic_ip]]
name = "nat-eip"
address = "198.51.100.40"

[[nat_gateway]]
name = "nat"
subnet = "pub"
elastic_ips = ["nat-eip"]
private_ips = ["10.30.0.5"]
source_ports = "1024-1033"

[[instance]]
name = "client"
subnet = "priv"
private_ip = "10.30.1.10"

[[internet_host]]
name = "server"
address = "203.0.113.40"
"#;
    let vpcd = Vpcd::start("inet-ports", Some(config));
    // The server's kernel completes every handshake (the backlog holds them).
    let listen = |port: u16| {
        in_netns(&vpcd.ns("server"), move || {
            TcpListener::bind(("0.0.0.0", port)).unwrap()
        })
        .join()
        .unwrap()
    };
    let listener = listen(80);
    let other = listen(81);
    let connect = |port: u16| {
        in_netns(&vpcd.ns("client"), move || {
            let to = SocketAddr::from(([203, 0, 113, 40], port));
            // Shorter than the SYN retransmission timeout: one SYN per attempt.
            TcpStream::connect_timeout(&to, Duration::from_millis(700)).ok()
        })
        .join()
        .unwrap()
    };
    let before = vpcd.counters();
    let attempts: Vec<Option<TcpStream>> = (0..N + K).map(|_| connect(80)).collect();
    let failed = attempts.iter().filter(|a| a.is_none()).count();
    assert_eq!(failed, K, "{attempts:?}");
    let nat = vpcd.nat_gateway("nat");
    assert_eq!(nat.source_ports, "1024-1033");
    assert_eq!(nat.metrics.error_port_allocation, K as u64, "{nat:?}");
    assert_eq!(nat.metrics.active_connection_count, N as u64, "{nat:?}");
    assert_eq!(
        drop_deltas(&before, &vpcd.counters()),
        [format!("nat-port-allocation +{K}")]
    );
    let text = vpcd.ctl(&["nat-gateways", "nat"]);
    assert!(
        text.contains(&format!("  ErrorPortAllocation         {K}\n")),
        "{text}"
    );
    // The server sees N connections from N different ports of the Elastic IP, all in
    // the configured range.
    listener.set_nonblocking(true).unwrap();
    let mut ports: Vec<u16> = std::iter::from_fn(|| listener.accept().ok())
        .map(|(_, peer)| {
            assert_eq!(peer.ip().to_string(), "198.51.100.40");
            peer.port()
        })
        .collect();
    ports.sort_unstable();
    assert_eq!(ports, (1024..=1033).collect::<Vec<u16>>());
    let mut translated: Vec<String> = nat
        .mappings
        .unwrap()
        .iter()
        .filter(|m| m.proto == "tcp")
        .map(|m| m.outside.clone())
        .collect();
    translated.sort();
    translated.dedup();
    assert_eq!(translated.len(), N);
    // Another destination (port) still gets a connection.
    assert!(connect(81).is_some(), "a second destination is refused too");
    drop(other);
    drop(attempts);
}

/// Issue 4: one NAT gateway per availability zone; deleting one blackholes the routes
/// to it and leaves the other zone working. The change is logged; repeating it fails.
#[test]
fn deleting_one_zones_nat_gateway_leaves_the_other_zone_working() {
    if !root_or_skip() {
        return;
    }
    let vpcd = Vpcd::start("inet-az", None);
    let server = vpcd.http_server("internet", 80);
    assert!(vpcd.http_get("app", "203.0.113.10", 80).is_ok());
    assert!(vpcd.http_get("db", "203.0.113.10", 80).is_ok());

    let said = vpcd.ctl(&["delete-nat-gateway", "nat-a"]);
    assert_eq!(
        said,
        "deleted NAT gateway nat-a; routes to it are blackhole\n"
    );
    assert!(
        harness::eventually(Duration::from_secs(2), || vpcd
            .stderr()
            .contains("vpcctl delete-nat-gateway nat-a: deleted NAT gateway nat-a")),
        "{}",
        vpcd.stderr()
    );
    assert_eq!(
        vpcd.route_state("private-a-rt", "0.0.0.0/0"),
        "nat-a blackhole"
    );
    assert_eq!(
        vpcd.route_state("private-b-rt", "0.0.0.0/0"),
        "nat-b active"
    );
    assert_eq!(vpcd.nat_gateway("nat-a").state, "deleted");
    assert_eq!(vpcd.nat_gateway("nat-b").state, "available");
    assert!(
        vpcd.ctl(&["routes"]).contains(&format!(
            "0.0.0.0/0{}nat-a{}blackhole",
            " ".repeat("192.0.2.64/26 (com.amazonaws.local-1.s3)".len() + 2 - "0.0.0.0/0".len()),
            " ".repeat("s3-endpoint".len() + 2 - "nat-a".len())
        )),
        "private-a-rt's columns are as wide as its s3 endpoint's route"
    );

    let before = vpcd.counters();
    assert!(!vpcd.tcp_connects("app", "203.0.113.10", 80));
    assert_eq!(
        drop_deltas(&before, &vpcd.counters()),
        ["route-blackhole +1"]
    );
    let page = vpcd.http_get("db", "203.0.113.10", 80).unwrap();
    assert!(page.starts_with("you are 198.51.100.21:"), "{page}");
    assert_eq!(
        server.clients(),
        ["198.51.100.20", "198.51.100.21", "198.51.100.21"]
    );

    // A refused change is an error for vpcctl (exit status 1) and changes nothing.
    let again = vpcd.try_ctl(&["delete-nat-gateway", "nat-a"]);
    assert!(
        matches!(&again, Err(vpcctl::CtlError::Daemon(m)) if m.contains("already deleted")),
        "{again:?}"
    );
    let unknown = vpcd.try_ctl(&["delete-nat-gateway", "nat-z"]);
    assert!(
        matches!(unknown, Err(vpcctl::CtlError::Daemon(_))),
        "{unknown:?}"
    );
    assert_eq!(
        vpcd.route_state("private-b-rt", "0.0.0.0/0"),
        "nat-b active"
    );
}

/// Detaching the internet gateway cuts web off the internet until it is attached again;
/// an Elastic IP moved away from web takes web's reachability with it; each change, made
/// or refused, is logged.
#[test]
fn internet_gateway_and_elastic_ip_changes_take_effect_at_once() {
    if !root_or_skip() {
        return;
    }
    let vpcd = Vpcd::start("inet-chg", None);
    let _web = vpcd.http_server("web", 80);
    assert!(vpcd.http_get("internet", "198.51.100.10", 80).is_ok());

    vpcd.ctl(&["detach-internet-gateway", "igw"]);
    assert_eq!(vpcd.route_state("public-rt", "0.0.0.0/0"), "igw blackhole");
    assert!(!vpcd.tcp_connects("internet", "198.51.100.10", 80));
    assert!(
        vpcd.ctl(&["addresses"])
            .contains("igw               detached")
    );
    vpcd.ctl(&["attach-internet-gateway", "igw", "demo"]);
    assert_eq!(vpcd.route_state("public-rt", "0.0.0.0/0"), "igw active");
    assert!(vpcd.http_get("internet", "198.51.100.10", 80).is_ok());

    // web's Elastic IP, disassociated: nothing answers at 198.51.100.10. A new Elastic
    // IP associated with web: web answers there.
    vpcd.ctl(&["disassociate-address", "198.51.100.10"]);
    assert!(!vpcd.tcp_connects("internet", "198.51.100.10", 80));
    assert_eq!(
        vpcd.ctl(&["allocate-address", "198.51.100.30"]),
        "allocated Elastic IP 198.51.100.30\n"
    );
    assert_eq!(
        vpcd.ctl(&["associate-address", "198.51.100.30", "web"]),
        "associated Elastic IP 198.51.100.30 with web/eth0\n"
    );
    let page = vpcd.http_get("internet", "198.51.100.30", 80).unwrap();
    assert!(page.starts_with("you are 203.0.113.10:"), "{page}");
    let addresses = vpcd.ctl(&["addresses"]);
    assert!(
        addresses.contains("web/eth0  10.0.1.10   198.51.100.30  elastic-ip"),
        "{addresses}"
    );

    // A refused change is an error and says why.
    let refused = vpcd.try_ctl(&["release-address", "198.51.100.99"]);
    assert!(
        matches!(refused, Err(vpcctl::CtlError::Daemon(_))),
        "{refused:?}"
    );

    for line in [
        "vpcctl detach-internet-gateway igw: detached internet gateway igw from vpc demo",
        "vpcctl attach-internet-gateway igw demo: attached internet gateway igw to vpc demo",
        "vpcctl disassociate-address 198.51.100.10: disassociated Elastic IP 198.51.100.10 from web/eth0",
        "vpcctl allocate-address 198.51.100.30: allocated Elastic IP 198.51.100.30",
        "vpcctl associate-address 198.51.100.30 web: associated Elastic IP 198.51.100.30 with web/eth0",
        "vpcctl release-address 198.51.100.99: refused: ",
    ] {
        // The daemon's stderr is read by another thread: give it a moment.
        assert!(
            harness::eventually(Duration::from_secs(2), || vpcd.stderr().contains(line)),
            "{line:?} in\n{}",
            vpcd.stderr()
        );
    }
}

/// An internet host's namespace deleted from under the daemon: the host goes down (and
/// says why), packets to it are dropped and counted, the VPC keeps forwarding.
#[test]
fn a_deleted_internet_host_goes_down_alone() {
    if !root_or_skip() {
        return;
    }
    let vpcd = Vpcd::start("inet-down", None);
    assert!(vpcd.ping("app", "203.0.113.10", 1, &[]));
    assert!(
        std::process::Command::new("ip")
            .args(["netns", "del", &vpcd.ns("internet")])
            .status()
            .unwrap()
            .success()
    );
    let link = || vpcd.status().internet_hosts[0].link.clone();
    assert!(
        harness::eventually(Duration::from_secs(5), || link()
            == "down (namespace e2e-inet-down-internet was removed)"),
        "{}",
        link()
    );
    let before = vpcd.counters();
    assert!(!vpcd.ping("app", "203.0.113.10", 1, &[]));
    assert_eq!(drop_deltas(&before, &vpcd.counters()), ["eni-down +1"]);
    assert!(vpcd.ping("web", "10.0.2.10", 1, &[]), "web -> app");
    assert!(
        vpcd.status()
            .instances
            .iter()
            .all(|i| i.enis[0].link == "up")
    );
}
