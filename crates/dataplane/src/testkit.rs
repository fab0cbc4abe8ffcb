//! Packet builders for the dataplane's unit tests: IPv4 datagrams with valid header and
//! transport checksums (TCP, UDP, ICMP echo and port unreachable), built from literal
//! fields so each test states what it sends.

use crate::wire::checksum;

/// A 20-byte-header IPv4 packet (ident 0x1234, DF) with a valid checksum.
pub(crate) fn ipv4(src: [u8; 4], dst: [u8; 4], ttl: u8, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut p = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, ttl, protocol, 0, 0];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let c = checksum::internet(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// [`ipv4`] with TTL 64.
fn ip_packet(src: [u8; 4], dst: [u8; 4], proto: u8, l4: &[u8]) -> Vec<u8> {
    ipv4(src, dst, 64, proto, l4)
}

/// A transport checksum over the pseudo header and `l4`, written at `at`.
fn l4_checksum(src: [u8; 4], dst: [u8; 4], proto: u8, l4: &mut [u8], at: usize) {
    let c = checksum::transport(src.into(), dst.into(), proto, l4);
    l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
}

/// A TCP segment without options or payload.
#[allow(clippy::too_many_arguments)]
pub(crate) fn tcp(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    flags: u8,
    seq: u32,
    ack: u32,
) -> Vec<u8> {
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&sport.to_be_bytes());
    t[2..4].copy_from_slice(&dport.to_be_bytes());
    t[4..8].copy_from_slice(&seq.to_be_bytes());
    t[8..12].copy_from_slice(&ack.to_be_bytes());
    t[12] = 5 << 4;
    t[13] = flags;
    t[14..16].copy_from_slice(&65535u16.to_be_bytes());
    l4_checksum(src, dst, 6, &mut t, 16);
    ip_packet(src, dst, 6, &t)
}

/// A UDP datagram with the 4-byte payload "data".
pub(crate) fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
    let mut u = vec![0u8; 12];
    u[0..2].copy_from_slice(&sport.to_be_bytes());
    u[2..4].copy_from_slice(&dport.to_be_bytes());
    u[4..6].copy_from_slice(&12u16.to_be_bytes());
    u[8..12].copy_from_slice(b"data");
    l4_checksum(src, dst, 17, &mut u, 6);
    ip_packet(src, dst, 17, &u)
}

/// ICMP echo request (`request`) or reply with identifier `id`.
pub(crate) fn echo(src: [u8; 4], dst: [u8; 4], request: bool, id: u16) -> Vec<u8> {
    let mut m = vec![if request { 8 } else { 0 }, 0, 0, 0, 0, 0, 0, 1];
    m[4..6].copy_from_slice(&id.to_be_bytes());
    m.extend_from_slice(b"ping");
    let c = checksum::internet(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    ip_packet(src, dst, 1, &m)
}

/// ICMP destination unreachable (port) from `src` quoting the whole of `quoted`.
pub(crate) fn port_unreachable(src: [u8; 4], dst: [u8; 4], quoted: &[u8]) -> Vec<u8> {
    let mut m = vec![3, 3, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(quoted);
    let c = checksum::internet(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    ip_packet(src, dst, 1, &m)
}
