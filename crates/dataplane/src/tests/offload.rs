//! Offloaded packets through the whole pipeline (the topology of `internet.rs`): a
//! TCP superpacket with a partial checksum crosses the NAT gateway and the internet
//! gateway whole, judged once and counted as its segments, its partial checksum
//! following the translated addresses; segments too big for the internet's MTU get
//! fragmentation-needed; a partial checksum is not verified, a complete one is;
//! metadata that does not fit the packet is dropped as `bad-offload`.

use vpc_config::{EniId, HostId};

use super::internet::topology;
use crate::packet::{Csum, Gso, Offload, PacketBuf};
use crate::pipeline::Dataplane;
use crate::testkit::{echo, tcp};
use crate::time::Time;
use crate::verdict::{DropReason, Port, Reply, Verdict};
use crate::wire::checksum::{self, fold, sum};

const APP: EniId = EniId(1);
const INTERNET: HostId = HostId(0);
const APP_IP: [u8; 4] = [10, 0, 2, 10];
const NAT_EIP: [u8; 4] = [198, 51, 100, 20];
const HOST_IP: [u8; 4] = [203, 0, 113, 10];
const T0: Time = Time::from_secs(1000);

const PARTIAL_TCP: Csum = Csum::Partial {
    start: 20,
    offset: 16,
};
const PARTIAL_UDP: Csum = Csum::Partial {
    start: 20,
    offset: 6,
};

/// The partial checksum a sender's kernel writes: the pseudo-header sum of `p`'s
/// addresses, protocol and transport length, folded, not complemented.
fn pseudo_partial(p: &[u8]) -> u16 {
    let len = u32::try_from(p.len() - 20).expect("a short packet");
    fold(sum(&p[12..16]) + sum(&p[16..20]) + u32::from(p[9]) + len)
}

/// What the receiving kernel does with a partial checksum: sums the transport bytes
/// (field included) and stores the complement.
fn complete(p: &mut [u8], at: usize) {
    let c = !fold(sum(&p[20..]));
    p[at..at + 2].copy_from_slice(&c.to_be_bytes());
}

/// A TCP ACK+PSH from `src`:`sport` to `dst`:`dport` carrying `payload` bytes, with a
/// partial checksum.
fn tcp_data(
    (src, sport): ([u8; 4], u16),
    (dst, dport): ([u8; 4], u16),
    seq: u32,
    ack: u32,
    payload: usize,
) -> Vec<u8> {
    let mut p = tcp(src, sport, dst, dport, 0x18, seq, ack);
    p.resize(p.len() + payload, 0x61);
    let total = u16::try_from(p.len()).expect("an IPv4 datagram");
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[10..12].copy_from_slice(&[0, 0]);
    let c = checksum::internet(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    let partial = pseudo_partial(&p);
    p[36..38].copy_from_slice(&partial.to_be_bytes());
    p
}

fn send(
    dp: &mut Dataplane,
    from: impl Into<Port>,
    bytes: &[u8],
    o: Offload,
) -> (Verdict, PacketBuf) {
    let mut p = PacketBuf::from_bytes(bytes);
    p.set_offload(o);
    let v = dp.process(T0, from, &mut p);
    (v, p)
}

/// app's connection to the internet host's port 80, through the NAT gateway, after the
/// handshake; returns the NAT gateway's source port.
fn connected(dp: &mut Dataplane) -> u16 {
    let syn = tcp(APP_IP, 40000, HOST_IP, 80, 0x02, 1000, 0);
    let (v, out) = send(dp, APP, &syn, Offload::default());
    assert_eq!(
        v,
        Verdict::Forward {
            to: Port::Host(INTERNET)
        }
    );
    let port = u16::from_be_bytes([out.as_bytes()[20], out.as_bytes()[21]]);
    let syn_ack = tcp(HOST_IP, 80, NAT_EIP, port, 0x12, 5000, 1001);
    let (v, _) = send(dp, INTERNET, &syn_ack, Offload::default());
    assert_eq!(v, Verdict::Forward { to: Port::Eni(APP) });
    port
}

#[test]
fn a_tcp_superpacket_crosses_both_gateways_whole_and_counts_as_its_segments() {
    let mut dp = Dataplane::new(&topology());
    let port = connected(&mut dp);
    let o = Offload {
        csum: PARTIAL_TCP,
        gso: Gso::Tcp {
            mss: 1000,
            ecn: false,
        },
    };
    let before = (
        dp.counters().port(Port::Eni(APP)).clone(),
        dp.counters().port(Port::Host(INTERNET)).clone(),
    );
    let data = tcp_data((APP_IP, 40000), (HOST_IP, 80), 1001, 5001, 3000);
    let (v, out) = send(&mut dp, APP, &data, o);
    assert_eq!(
        v,
        Verdict::Forward {
            to: Port::Host(INTERNET)
        }
    );
    assert_eq!(out.offload(), o, "the metadata goes out with the packet");
    let mut b = out.as_bytes().to_vec();
    assert_eq!(b.len(), data.len(), "forwarded whole");
    assert_eq!((&b[12..16], &b[16..20]), (&NAT_EIP[..], &HOST_IP[..]));
    assert_eq!(u16::from_be_bytes([b[20], b[21]]), port);
    assert!(checksum::verifies(&b[..20]), "IPv4 header checksum");
    assert_eq!(
        u16::from_be_bytes([b[36], b[37]]),
        pseudo_partial(&b),
        "the partial checksum follows the addresses, not the port"
    );
    complete(&mut b, 36);
    assert!(checksum::transport_verifies(
        NAT_EIP.into(),
        HOST_IP.into(),
        6,
        &b[20..]
    ));
    assert_eq!(dp.counters().router.superpackets, 1);
    // Three segments of 1040 bytes on the wire.
    let app = dp.counters().port(Port::Eni(APP));
    let host = dp.counters().port(Port::Host(INTERNET));
    assert_eq!(
        (
            app.rx_packets - before.0.rx_packets,
            app.rx_bytes - before.0.rx_bytes
        ),
        (3, 3120)
    );
    assert_eq!(
        (
            host.tx_packets - before.1.tx_packets,
            host.tx_bytes - before.1.tx_bytes
        ),
        (3, 3120)
    );
    // The reply direction: a superpacket from the internet back to app, translated.
    let back = tcp_data((HOST_IP, 80), (NAT_EIP, port), 5001, 4001, 2000);
    let (v, out) = send(&mut dp, INTERNET, &back, o);
    assert_eq!(v, Verdict::Forward { to: Port::Eni(APP) });
    let mut b = out.as_bytes().to_vec();
    assert_eq!(u16::from_be_bytes([b[22], b[23]]), 40000);
    complete(&mut b, 36);
    assert!(checksum::transport_verifies(
        HOST_IP.into(),
        APP_IP.into(),
        6,
        &b[20..]
    ));
}

#[test]
fn segments_bigger_than_the_internet_mtu_get_fragmentation_needed() {
    let mut dp = Dataplane::new(&topology());
    connected(&mut dp);
    let o = Offload {
        csum: PARTIAL_TCP,
        gso: Gso::Tcp {
            mss: 8000,
            ecn: false,
        },
    };
    let data = tcp_data((APP_IP, 40000), (HOST_IP, 80), 1001, 5001, 16000);
    let dropped = dp
        .counters()
        .port(Port::Eni(APP))
        .dropped(DropReason::TooBig);
    let (v, out) = send(&mut dp, APP, &data, o);
    assert_eq!(
        v,
        Verdict::Reply {
            to: Port::Eni(APP),
            reply: Reply::IcmpError {
                cause: DropReason::TooBig
            }
        }
    );
    assert_eq!(
        out.offload(),
        Offload::default(),
        "the reply is a plain packet"
    );
    assert_eq!((out.as_bytes()[20], out.as_bytes()[21]), (3, 4));
    let now = dp
        .counters()
        .port(Port::Eni(APP))
        .dropped(DropReason::TooBig);
    assert_eq!(now - dropped, 2, "both segments");
    // Segments of exactly 1500 bytes pass.
    let o = Offload {
        csum: PARTIAL_TCP,
        gso: Gso::Tcp {
            mss: 1460,
            ecn: false,
        },
    };
    let data = tcp_data((APP_IP, 40000), (HOST_IP, 80), 1001, 5001, 2920);
    assert_eq!(
        send(&mut dp, APP, &data, o).0,
        Verdict::Forward {
            to: Port::Host(INTERNET)
        }
    );
}

#[test]
fn a_partial_checksum_is_not_verified_a_complete_one_is() {
    let mut dp = Dataplane::new(&topology());
    let mut syn = tcp(APP_IP, 40000, HOST_IP, 80, 0x02, 1000, 0);
    syn[36] ^= 0xff;
    let partial = Offload {
        csum: PARTIAL_TCP,
        gso: Gso::None,
    };
    assert_eq!(
        send(&mut dp, APP, &syn, Offload::default()).0,
        Verdict::Drop(DropReason::TcpBadChecksum)
    );
    assert_eq!(
        send(&mut dp, APP, &syn, partial).0,
        Verdict::Forward {
            to: Port::Host(INTERNET)
        }
    );
}

#[test]
fn metadata_that_does_not_fit_the_packet_is_a_counted_drop() {
    let mut dp = Dataplane::new(&topology());
    let ping = echo(APP_IP, HOST_IP, true, 7);
    let before = dp.counters().port(Port::Eni(APP)).clone();
    let udp_on_icmp = Offload {
        csum: PARTIAL_UDP,
        gso: Gso::Udp { size: 1000 },
    };
    assert_eq!(
        send(&mut dp, APP, &ping, udp_on_icmp).0,
        Verdict::Drop(DropReason::BadOffload)
    );
    let after = dp.counters().port(Port::Eni(APP));
    assert_eq!(after.rx_packets - before.rx_packets, 1);
    assert_eq!(
        after.dropped(DropReason::BadOffload) - before.dropped(DropReason::BadOffload),
        1
    );
    assert_eq!(after.tx_packets, before.tx_packets);
}
