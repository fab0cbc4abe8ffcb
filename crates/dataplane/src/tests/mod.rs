//! The whole-pipeline tests, in one place with shared fixtures: each file takes one
//! area of AWS behaviour through `Dataplane::process` (and `trace`) on a simulated
//! clock, and asserts exact verdicts, bytes and counter changes.
//!
//! - `router`: routing inside a VPC, the VPC router's own answers, malformed packets.
//! - `firewall`: security groups, network ACLs, connection tracking, flow logs, trace.
//! - `internet`: the internet gateway, NAT gateways, fragmentation, ingress routing.
//! - `offload`: offloaded packets (superpackets, partial checksums) across gateways.
//! - `peering`: VPC peering connections.
//! - `transit`: transit gateways (route tables, appliance mode, gateway peering).
//! - `multicast`: transit gateway multicast domains and IGMP.
//! - `vpn`: virtual private gateways, with and without a tunnel up.
//! - `engine`: the shared `Engine` under threads (opposite directions, applies, traces).

mod endpoint;
mod engine;
mod firewall;
mod internet;
mod multicast;
mod offload;
mod peering;
mod ports;
mod router;
mod services;
mod timesync;
mod transit;
mod vpn;

use std::net::Ipv4Addr;

use vpc_config::{EniId, Topology};

use crate::counters::Counters;
use crate::packet::PacketBuf;
use crate::pipeline::Dataplane;
use crate::time::Time;
use crate::verdict::{DropReason, Port, Verdict};
use crate::wire::checksum;

/// TCP flags as the tests write them.
pub(crate) const SYN: u8 = 0x02;
pub(crate) const ACK: u8 = 0x10;
pub(crate) const SYN_ACK: u8 = 0x12;
pub(crate) const FIN_ACK: u8 = 0x11;
pub(crate) const PSH_ACK: u8 = 0x18;

/// A configuration that must be valid.
pub(crate) fn parse(src: &str) -> Topology {
    vpc_config::parse(src, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// Sends `bytes` from `from`; returns the verdict and the packet as it left.
pub(crate) fn send(
    dp: &mut Dataplane,
    now: Time,
    from: impl Into<Port>,
    bytes: &[u8],
) -> (Verdict, Vec<u8>) {
    let mut p = PacketBuf::from_bytes(bytes);
    let v = dp.process(now, from, &mut p);
    (v, p.as_bytes().to_vec())
}

/// The verdict forwarding to an ENI.
pub(crate) fn to_eni(e: EniId) -> Verdict {
    Verdict::Forward { to: Port::Eni(e) }
}

/// The verdict dropping for `r`.
pub(crate) fn drop(r: DropReason) -> Verdict {
    Verdict::Drop(r)
}

/// Every drop counter that changed, as `reason +n`.
pub(crate) fn drop_delta(before: &Counters, after: &Counters) -> Vec<String> {
    DropReason::ALL
        .iter()
        .filter(|r| after.dropped(**r) != before.dropped(**r))
        .map(|r| format!("{} +{}", r.name(), after.dropped(*r) - before.dropped(*r)))
        .collect()
}

/// Every counter that differs between `a` and `b`, as `name: delta`.
pub(crate) fn delta(t: &Topology, a: &Counters, b: &Counters) -> Vec<String> {
    let mut out = Vec::new();
    for id in t.eni_ids() {
        let (x, y) = (a.eni(id), b.eni(id));
        let name = t.eni_name(id);
        for (field, before, after) in [
            ("rx_packets", x.rx_packets, y.rx_packets),
            ("rx_bytes", x.rx_bytes, y.rx_bytes),
            ("tx_packets", x.tx_packets, y.tx_packets),
            ("tx_bytes", x.tx_bytes, y.tx_bytes),
        ] {
            if before != after {
                out.push(format!("{name} {field} +{}", after - before));
            }
        }
        for r in DropReason::ALL {
            let d = y.dropped(*r) - x.dropped(*r);
            if d != 0 {
                out.push(format!("{name} drop {} +{d}", r.name()));
            }
        }
    }
    let (x, y) = (&a.router, &b.router);
    for (field, before, after) in [
        ("echo_replies", x.echo_replies, y.echo_replies),
        ("icmp_errors_sent", x.icmp_errors_sent, y.icmp_errors_sent),
        (
            "icmp_errors_rate_limited",
            x.icmp_errors_rate_limited,
            y.icmp_errors_rate_limited,
        ),
        (
            "trailing_bytes_trimmed",
            x.trailing_bytes_trimmed,
            y.trailing_bytes_trimmed,
        ),
        ("arp_replies", x.arp_replies, y.arp_replies),
    ] {
        if before != after {
            out.push(format!("router {field} +{}", after - before));
        }
    }
    out
}

/// A UDP datagram of `len` bytes in all (header included) from `src` port 5000 to
/// `dst` port 5001, with DF set if `df`.
pub(crate) fn big_udp(src: [u8; 4], dst: [u8; 4], len: usize, df: bool) -> Vec<u8> {
    let mut udp = vec![0u8; len - 20];
    udp[0..2].copy_from_slice(&5000u16.to_be_bytes());
    udp[2..4].copy_from_slice(&5001u16.to_be_bytes());
    udp[4..6].copy_from_slice(&((len - 20) as u16).to_be_bytes());
    let mut p = crate::testkit::ipv4(src, dst, 64, 17, &udp);
    if !df {
        p[6] &= !0x40;
        p[10..12].copy_from_slice(&[0, 0]);
        let c = checksum::internet(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
    }
    p
}

/// The big-endian 16-bit field of `p` at `at`.
pub(crate) fn be16(p: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([p[at], p[at + 1]])
}

/// The IPv4 address of `p` at `at`.
pub(crate) fn addr(p: &[u8], at: usize) -> [u8; 4] {
    [p[at], p[at + 1], p[at + 2], p[at + 3]]
}

/// Asserts that the IPv4 header and the TCP/UDP/ICMP checksums of `p` verify.
pub(crate) fn assert_checksums(p: &[u8]) {
    let hl = usize::from(p[0] & 0x0f) * 4;
    assert!(checksum::verifies(&p[..hl]), "IPv4 header checksum");
    let (src, dst) = (Ipv4Addr::from(addr(p, 12)), Ipv4Addr::from(addr(p, 16)));
    match p[9] {
        6 => assert!(
            checksum::transport_verifies(src, dst, 6, &p[hl..]),
            "TCP checksum"
        ),
        17 if be16(p, hl + 6) != 0 => {
            assert!(
                checksum::transport_verifies(src, dst, 17, &p[hl..]),
                "UDP checksum"
            );
        }
        1 => assert!(checksum::verifies(&p[hl..]), "ICMP checksum"),
        _ => {}
    }
}
