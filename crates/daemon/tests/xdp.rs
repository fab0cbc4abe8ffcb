//! End-to-end tests of the AF_XDP port type (`vpcd run --io xdp`, issue 13): every ENI
//! is a veth with the port's MAC address whose other end the daemon reads through
//! AF_XDP; the daemon answers ARP as the VPC's router (and ignores probes), drops frames
//! that are not IP by name, and forwards like the TUN ports do; where AF_XDP is not
//! allowed (no CAP_NET_RAW) it falls back to TUN devices. (Bulk TCP through AF_XDP
//! ports, with one and two threads, is in `offload.rs`.)

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod harness;

use harness::{Vpcd, drop_deltas, namespaces, root_or_skip};

/// Sends frame `hex` on eth0 of the instance's namespace from a raw socket; with
/// `reply`, prints the first ARP reply that comes back (42 bytes, hex).
const SEND_FRAME: &str = r#"
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind(("eth0", 0))
s.settimeout(3)
s.send(bytes.fromhex(sys.argv[1]))
if sys.argv[2] == "reply":
    while True:
        r = s.recv(2048)
        if r[12:14] == b"\x08\x06" and r[20:22] == b"\x00\x02":
            print(r[:42].hex())
            break
"#;

/// web's MAC (ENI 0) and the router's.
const WEB_MAC: &str = "027670000000";
const ROUTER_MAC: &str = "027670636401";

fn send_frame(vpcd: &Vpcd, hex: &str, reply: bool) -> String {
    let out = vpcd.exec(
        "web",
        &[
            "python3",
            "-c",
            SEND_FRAME,
            hex,
            if reply { "reply" } else { "none" },
        ],
    );
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// An ARP message (Ethernet/IPv4) from web: `op`, sender and target IPv4 in hex.
fn arp(op: &str, spa: &str, tpa: &str) -> String {
    format!("ffffffffffff{WEB_MAC}0806000108000604{op}{WEB_MAC}{spa}000000000000{tpa}")
}

#[test]
fn an_af_xdp_port_is_a_veth_that_answers_arp_as_the_router() {
    if !root_or_skip() {
        return;
    }
    let mut vpcd = Vpcd::start_with("xdpa", None, &["--io", "xdp"]);
    assert!(
        vpcd.stdout().contains("AF_XDP ports: 6 veth pairs"),
        "{}",
        vpcd.stdout()
    );
    // web's eth0: a veth with the port's MAC address and the AF_XDP MTU.
    let link = vpcd.exec("web", &["ip", "-d", "link", "show", "eth0"]);
    let link = String::from_utf8(link.stdout).unwrap();
    assert!(link.contains("veth"), "{link}");
    assert!(link.contains("link/ether 02:76:70:00:00:00"), "{link}");
    assert!(link.contains("mtu 3500"), "{link}");

    // Frames from a raw socket, before web's kernel has sent anything of its own: an ARP
    // request for an address no ENI has (answered: the router answers every one), an ARP
    // probe (RFC 5227: never answered) and a frame of another EtherType.
    let before = vpcd.counters();
    let reply = send_frame(&vpcd, &arp("0001", "0a00010a", "0a00014d"), true);
    assert_eq!(
        reply,
        format!(
            "{WEB_MAC}{ROUTER_MAC}0806000108000604\
             0002{ROUTER_MAC}0a00014d{WEB_MAC}0a00010a"
        ),
        "who-has 10.0.1.77 tell 10.0.1.10: 10.0.1.77 is-at the router's MAC"
    );
    send_frame(&vpcd, &arp("0001", "00000000", "0a00010a"), false);
    send_frame(
        &vpcd,
        &format!("ffffffffffff{WEB_MAC}88b5{}", "00".repeat(46)),
        false,
    );
    let after = vpcd.counters();
    assert_eq!(
        drop_deltas(&before, &after),
        ["frame-not-ip +1", "arp-ignored +1"]
    );
    assert_eq!(
        after.router["arp-replies"] - before.router["arp-replies"],
        1
    );
    let web = |c: &vpc_api::CountersReport| {
        let e = c.enis.iter().find(|e| e.name == "web/eth0").unwrap();
        (e.rx_packets, e.tx_packets)
    };
    let (rx0, tx0) = web(&before);
    let (rx1, tx1) = web(&after);
    assert_eq!(
        (rx1 - rx0, tx1 - tx0),
        (3, 1),
        "three frames in, one reply out"
    );

    // Packets: the router answers pings, and web reaches app in another subnet; the
    // neighbour entry for the router is the router's MAC.
    assert!(vpcd.ping("web", "10.0.1.1", 2, &[]));
    assert!(vpcd.ping("web", "10.0.2.10", 2, &[]));
    let neigh = vpcd.exec("web", &["ip", "neigh", "show", "10.0.1.1"]);
    let neigh = String::from_utf8(neigh.stdout).unwrap();
    assert!(neigh.contains("lladdr 02:76:70:63:64:01"), "{neigh}");
    // An internet host is an AF_XDP port too: web reaches it through the internet gateway.
    assert!(vpcd.ping("web", "203.0.113.10", 2, &[]));
    vpcd.stop();
    assert!(namespaces(&vpcd.prefix).is_empty());
}

/// Without CAP_NET_RAW no AF_XDP socket can be made: `--io xdp` says so and runs on
/// TUN devices.
#[test]
fn without_af_xdp_the_daemon_falls_back_to_tun_devices() {
    if !root_or_skip() {
        return;
    }
    let mut vpcd = Vpcd::start_wrapped(
        "xdpf",
        &["setpriv", "--bounding-set", "-net_raw"],
        &["--io", "xdp"],
    );
    let out = vpcd.stdout();
    assert!(
        out.contains("AF_XDP is unavailable") && out.contains("using TUN devices"),
        "{out}"
    );
    let link = vpcd.exec("web", &["ip", "-d", "link", "show", "eth0"]);
    let link = String::from_utf8(link.stdout).unwrap();
    assert!(link.contains("tun"), "{link}");
    assert!(vpcd.ping("web", "10.0.1.1", 2, &[]));
    vpcd.stop();
    assert!(namespaces(&vpcd.prefix).is_empty());
}
