//! End-to-end tests of security groups, network ACLs, connection tracking, flow logs and
//! `vpcctl trace` (issue 3): the real daemon as root, real namespaces, ping, TCP and UDP
//! sockets. Drops are asserted as exact counter deltas: pings send one packet each, and
//! a failing connection attempt gives up before the kernel retransmits its SYN.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod harness;

use std::net::UdpSocket;
use std::time::Duration;

use harness::{Vpcd, drop_deltas as deltas, in_netns, root_or_skip};

/// Issue 3's acceptance, on the embedded demo.
#[test]
fn demo_security_groups_nacls_flow_log_and_trace() {
    if !root_or_skip() {
        return;
    }
    let mut vpcd = Vpcd::start("sgdemo", None);
    let log_path = vpcd.flow_log_dir.join("demo-flows.log");
    assert!(
        vpcd.stdout()
            .lines()
            .any(|l| l == format!("flow log: {}", log_path.display())),
        "{}",
        vpcd.stdout()
    );

    // web reaches app:8080 (app-sg: from web-sg) and pings app (icmp from 10.0.0.0/16).
    let before = vpcd.counters();
    assert_eq!(
        vpcd.tcp_exchange("web", "app", "10.0.2.10", 8080, "through the firewall"),
        "llawerif eht hguorht (server saw 10.0.1.10)"
    );
    assert!(vpcd.ping("web", "10.0.2.10", 2, &[]), "web -> app");
    assert_eq!(deltas(&before, &vpcd.counters()), Vec::<String>::new());

    // web cannot reach db:5432: private-b-nacl rule 100 denies 10.0.1.0/24 inbound.
    let before = vpcd.counters();
    assert!(!vpcd.tcp_connects("web", "10.0.12.10", 5432));
    assert!(!vpcd.ping("web", "10.0.12.10", 2, &[]));
    assert_eq!(deltas(&before, &vpcd.counters()), ["nacl-inbound +3"]);

    // app reaches db:5432 (db-sg: from app-sg), replies included; app cannot ping db
    // (db-sg has no ICMP rule).
    let before = vpcd.counters();
    assert_eq!(
        vpcd.tcp_exchange("app", "db", "10.0.12.10", 5432, "through the firewall"),
        "llawerif eht hguorht (server saw 10.0.2.10)"
    );
    assert!(!vpcd.ping("app", "10.0.12.10", 2, &[]));
    assert_eq!(deltas(&before, &vpcd.counters()), ["sg-ingress +2"]);
    let flows = vpcd.ctl(&["flows", "db"]);
    assert!(
        flows.contains("tcp") && flows.contains("10.0.2.10:") && flows.contains("10.0.12.10:5432"),
        "{flows}"
    );

    // Unsolicited packets against the direction of allowed flows are dropped: db may
    // answer app, but not open a connection to it, nor to web.
    let before = vpcd.counters();
    assert!(!vpcd.tcp_connects("db", "10.0.2.10", 8080));
    assert!(!vpcd.ping("db", "10.0.1.10", 1, &[]));
    // db -> web: web-sg allows the echo in; web's reply is tracked, but the stateless
    // private-b NACL denies it on the way back into private-b.
    assert_eq!(
        deltas(&before, &vpcd.counters()),
        ["nacl-inbound +1", "sg-ingress +1"]
    );

    // The trace names the NACL rule that decides.
    let trace = vpcd.ctl(&[
        "trace",
        "--from",
        "web",
        "--to",
        "10.0.12.10",
        "--proto",
        "tcp",
        "--port",
        "5432",
    ]);
    assert!(trace.contains("verdict: DROP nacl-inbound"), "{trace}");
    assert!(
        trace.contains(
            "because: network ACL private-b-nacl (inbound of subnet private-b) rule 100 denies it"
        ),
        "{trace}"
    );
    let trace = vpcd.ctl(&[
        "trace",
        "--from",
        "app",
        "--to",
        "10.0.12.10",
        "--proto",
        "icmp",
    ]);
    assert!(trace.contains("verdict: DROP sg-ingress"), "{trace}");
    let counters = vpcd.ctl(&["counters"]);
    for reason in ["nacl-inbound", "sg-ingress"] {
        assert!(counters.contains(reason), "{counters}");
    }

    // Stopping flushes the flow log: version 2 records, ACCEPT and REJECT.
    assert!(vpcd.stop().success(), "{}", vpcd.stderr());
    let log = vpcd.flow_log("demo-flows.log");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        lines[0],
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
    );
    let has = |eni: &str, flow: &str, action: &str| {
        lines.iter().any(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            f.len() == 14
                && f[0] == "2"
                && f[2] == eni
                && format!("{} {} {} {} {}", f[3], f[4], f[5], f[6], f[7]) == flow
                && f[12] == action
                && f[13] == "OK"
        })
    };
    // web's pings to db leave web (ACCEPT) and are rejected entering private-b.
    assert!(
        has("eni-web-eth0", "10.0.1.10 10.0.12.10 0 0 1", "ACCEPT"),
        "{log}"
    );
    assert!(
        has("eni-db-eth0", "10.0.1.10 10.0.12.10 0 0 1", "REJECT"),
        "{log}"
    );
    // app's pings to db: db's security group rejects them.
    assert!(
        has("eni-db-eth0", "10.0.2.10 10.0.12.10 0 0 1", "REJECT"),
        "{log}"
    );
    // db's echo to web is accepted entering web; web's reply leaves web (ACCEPT, in the
    // same record as web's own pings: ICMP records have no ports) and is rejected
    // entering private-b: the stateless NACL judges replies too.
    assert!(
        has("eni-web-eth0", "10.0.12.10 10.0.1.10 0 0 1", "ACCEPT"),
        "{log}"
    );
    assert!(
        has("eni-db-eth0", "10.0.1.10 10.0.12.10 0 0 1", "REJECT"),
        "{log}"
    );
    // The web -> app connection is accepted on both ENIs.
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" eni-app-eth0 10.0.1.10 10.0.2.10 ")
                && l.contains(" 8080 6 ")
                && l.ends_with(" ACCEPT OK")),
        "{log}"
    );
}

/// UDP through security groups: a reply to a tracked datagram passes; an unsolicited
/// datagram the other way does not; a one-way flow is logged.
#[test]
fn udp_replies_pass_and_unsolicited_datagrams_do_not() {
    if !root_or_skip() {
        return;
    }
    let config = r#"
[[vpc]]
name = "u"
cidr = "10.9.0.0/16"

[[subnet]]
name = "s"
vpc = "u"
cidr = "10.9.1.0/24"
az = "a"

[[security_group]]
name = "server-sg"
vpc = "u"
ingress = [{ protocol = "udp", port = 5353, cidr = "10.9.0.0/16" }]

[[security_group]]
name = "client-sg"
vpc = "u"

[[instance]]
name = "client"
subnet = "s"
private_ip = "10.9.1.10"
security_groups = ["client-sg"]

[[instance]]
name = "server"
subnet = "s"
private_ip = "10.9.1.20"
security_groups = ["server-sg"]
"#;
    let vpcd = Vpcd::start("udp", Some(config));
    let server = in_netns(&vpcd.ns("server"), || {
        UdpSocket::bind("0.0.0.0:5353").unwrap()
    })
    .join()
    .unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let (n, peer) = server.recv_from(&mut buf).unwrap();
        server.send_to(&buf[..n], peer).unwrap();
        // Unsolicited: to another port of the client.
        server.send_to(b"unsolicited", "10.9.1.10:7000").unwrap();
        peer
    });
    let before = vpcd.counters();
    let (reply, unsolicited) = in_netns(&vpcd.ns("client"), || {
        let a = UdpSocket::bind("0.0.0.0:6000").unwrap();
        let b = UdpSocket::bind("0.0.0.0:7000").unwrap();
        a.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        b.set_read_timeout(Some(Duration::from_millis(700)))
            .unwrap();
        a.send_to(b"ping", "10.9.1.20:5353").unwrap();
        let mut buf = [0u8; 64];
        let n = a.recv(&mut buf).unwrap();
        let reply = String::from_utf8_lossy(&buf[..n]).into_owned();
        (reply, b.recv(&mut buf).is_ok())
    })
    .join()
    .unwrap();
    assert_eq!(echo.join().unwrap().to_string(), "10.9.1.10:6000");
    assert_eq!(reply, "ping");
    assert!(!unsolicited, "an unsolicited datagram reached the client");
    assert_eq!(deltas(&before, &vpcd.counters()), ["sg-ingress +1"]);
    let flows = vpcd.ctl(&["flows", "client"]);
    assert!(
        flows.contains("10.9.1.10:6000") && flows.contains("replied"),
        "{flows}"
    );
}
