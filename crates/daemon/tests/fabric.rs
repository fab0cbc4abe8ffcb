//! End-to-end tests of many VPCs (issue 12): VPC peering and transit gateways with the
//! real daemon as root, real namespaces, ping and TCP. Each test has its own namespace
//! prefix.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod harness;

use harness::{Vpcd, drop_deltas, root_or_skip};

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
}
