//! Stage `l4`: the transport header of a packet that is about to be forwarded, checked
//! and reduced to the facts that security groups, network ACLs, connection tracking and
//! flow logs need. AWS behaviour: security groups and network ACLs match on protocol,
//! ports and ICMP type/code, and the connection tracking of security groups (EC2:
//! security-group-connection-tracking) follows TCP state, UDP 5-tuples, ICMP echo
//! identifiers and the flows quoted by ICMP errors; this module extracts exactly those
//! facts and refuses what cannot be judged.
//!
//! - Fragments: a non-first fragment has no transport header (`fragment`). A first
//!   fragment is parsed like a whole datagram but must hold the whole TCP header, the
//!   UDP header or the ICMP header (`l4-truncated`, RFC 1858 / RFC 3128); its TCP
//!   checksum is not verified (it covers the whole datagram) and its UDP length field
//!   must only be at least what the fragment holds.
//! - TCP: 20 bytes at least; data offset 5.. and inside the segment; checksum over the
//!   pseudo header and segment verified; invalid flag combinations (none, SYN+FIN,
//!   SYN+RST, FIN without ACK, FIN+PSH+URG "Xmas") dropped; the window scale option read
//!   from SYN segments, clamped to 14 (RFC 7323 2.3). Malformed options are not a reason
//!   to drop: they only mean "no window scale".
//! - UDP: 8 bytes at least; length field 8.. and equal to the IP payload. The UDP
//!   checksum is not verified: no state here depends on the payload (conntrack keys on
//!   the ports only), and the receiving host verifies it anyway.
//! - ICMP: 8 bytes at least. Echo request/reply by identifier (both tuple ports are the
//!   identifier). Errors (3, 4, 5, 11, 12) quote a packet whose IPv4 header (version 4,
//!   IHL 5..) and first 8 bytes must be present and whose header checksum must verify,
//!   and which is not itself an ICMP error (RFC 1122 3.2.2; a quoted type the router
//!   does not know counts as an error, as in [`icmp::is_error`]). Other types
//!   (timestamp, unknown, ...) are `IcmpOther`. The ICMP checksum is not verified (no
//!   state depends on the payload; the receiving host verifies it).
//! - Other protocols have no ports.

use std::net::Ipv4Addr;

use crate::offload::Shape;
use crate::verdict::DropReason;
use crate::wire::ipv4::{self, Ipv4Header};
use crate::wire::{checksum, icmp};

/// Protocol number of TCP.
pub(crate) const PROTO_TCP: u8 = 6;
/// Protocol number of UDP.
pub(crate) const PROTO_UDP: u8 = 17;
/// Protocol number of ICMP.
pub(crate) const PROTO_ICMP: u8 = ipv4::PROTO_ICMP;

/// Length of a TCP header without options.
const TCP_MIN_HEADER: usize = 20;
/// Length of a UDP header.
const UDP_HEADER: usize = 8;
/// The largest window shift (RFC 7323 2.3).
const MAX_WSCALE: u8 = 14;
/// TCP option kinds.
const OPT_END: u8 = 0;
const OPT_NOP: u8 = 1;
const OPT_WSCALE: u8 = 3;
/// ICMP types that are errors quoting a packet: unreachable, source quench, redirect,
/// time exceeded, parameter problem.
const ICMP_ERRORS: [u8; 5] = [3, 4, 5, 11, 12];

/// TCP flag bits (in the 13th byte of the header).
pub(crate) mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
}

/// A transport 5-tuple as seen on the wire (for ICMP echo both ports are the
/// identifier; for protocols without ports both are 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Tuple {
    /// IP protocol.
    pub proto: u8,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Source port (ICMP echo: identifier).
    pub src_port: u16,
    /// Destination port (ICMP echo: identifier).
    pub dst_port: u16,
}

/// What a TCP segment says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TcpFacts {
    /// Flag bits ([`tcp_flags`]).
    pub flags: u8,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (meaningful with ACK).
    pub ack: u32,
    /// Window field, unscaled.
    pub window: u16,
    /// Payload bytes (excluding the header).
    pub payload_len: u32,
    /// Window scale option of a SYN (RFC 7323), if present.
    pub wscale: Option<u8>,
}

/// The transport facts of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum L4 {
    /// A TCP segment with valid header, checksum and flags.
    Tcp(TcpFacts),
    /// A UDP datagram with a consistent length.
    Udp,
    /// ICMP echo request (`request`) or reply, by identifier.
    IcmpEcho {
        /// Request (type 8) or reply (type 0).
        request: bool,
        /// Identifier.
        id: u16,
    },
    /// An ICMP error quoting a packet.
    IcmpError {
        /// ICMP type (3, 4, 5, 11, 12).
        icmp_type: u8,
        /// ICMP code.
        code: u8,
        /// The 5-tuple of the quoted packet, as it was sent.
        quoted: Tuple,
    },
    /// Another ICMP message (timestamp, ...): tracked by address pair + protocol.
    IcmpOther {
        /// ICMP type.
        icmp_type: u8,
        /// ICMP code.
        code: u8,
    },
    /// Any other protocol: tracked by address pair + protocol.
    Other,
}

/// A checked packet's facts: the IP header's and the transport's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Facts {
    /// The 5-tuple (ports 0 where there are none).
    pub tuple: Tuple,
    /// The transport facts.
    pub l4: L4,
    /// Bytes on the wire (for counters and flow logs): the IP datagram's total length,
    /// or for a superpacket the sum of its segments'.
    pub len: u32,
    /// Packets on the wire: 1, or the segments a superpacket stands for.
    pub packets: u32,
    /// The packet's offload metadata, checked (`offload`).
    pub shape: Shape,
}

impl Facts {
    /// ICMP type and code, for ICMP messages.
    pub fn icmp_type_code(&self) -> Option<(u8, u8)> {
        match self.l4 {
            L4::IcmpEcho { request: true, .. } => Some((8, 0)),
            L4::IcmpEcho { request: false, .. } => Some((0, 0)),
            L4::IcmpError {
                icmp_type, code, ..
            }
            | L4::IcmpOther { icmp_type, code } => Some((icmp_type, code)),
            _ => None,
        }
    }

    /// TCP flags, 0 for other protocols.
    pub fn tcp_flags(&self) -> u8 {
        match self.l4 {
            L4::Tcp(t) => t.flags,
            _ => 0,
        }
    }
}

/// Checks the transport header of `pkt` (a whole datagram whose IPv4 header `ip` was
/// checked by `sanity`) and returns its facts, or the reason to drop it.
/// `shape` is the packet's checked offload metadata: a partial TCP checksum is not
/// verified (the sender's kernel has not computed it; the receiver's completes it).
#[inline(always)]
pub(crate) fn parse(pkt: &[u8], ip: &Ipv4Header, shape: Shape) -> Result<Facts, DropReason> {
    if ip.frag_offset != 0 {
        return Err(DropReason::Fragment);
    }
    let first_fragment = ip.more_fragments;
    let seg = pkt
        .get(ip.header_len..ip.total_len.min(pkt.len()))
        .ok_or(DropReason::L4Truncated)?;
    let mut tuple = Tuple {
        proto: ip.protocol,
        src: ip.src,
        dst: ip.dst,
        src_port: 0,
        dst_port: 0,
    };
    let l4 = match ip.protocol {
        PROTO_TCP => {
            let t = tcp(seg, ip, first_fragment || shape.partial)?;
            (tuple.src_port, tuple.dst_port) = ports(seg);
            L4::Tcp(t)
        }
        PROTO_UDP => {
            udp(seg, first_fragment)?;
            (tuple.src_port, tuple.dst_port) = ports(seg);
            L4::Udp
        }
        PROTO_ICMP => {
            let l4 = icmp(seg)?;
            if let L4::IcmpEcho { id, .. } = l4 {
                (tuple.src_port, tuple.dst_port) = (id, id);
            }
            l4
        }
        _ => L4::Other,
    };
    let (packets, len) = shape.wire(ip.total_len);
    Ok(Facts {
        tuple,
        l4,
        len: u32::try_from(len).unwrap_or(u32::MAX),
        packets: u32::try_from(packets).unwrap_or(u32::MAX),
        shape,
    })
}

/// The big-endian u16 at `at` (0 past the end; callers check lengths first).
fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

/// The big-endian u32 at `at` (0 past the end; callers check lengths first).
fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(&[w, x, y, z]) => u32::from_be_bytes([w, x, y, z]),
        _ => 0,
    }
}

/// Source and destination port of a TCP or UDP header.
fn ports(seg: &[u8]) -> (u16, u16) {
    (be16(seg, 0), be16(seg, 2))
}

/// Checks a TCP segment; the checksum unless `unverifiable` (a first fragment's covers
/// bytes not here; a partial one is not computed yet).
#[inline(always)]
fn tcp(seg: &[u8], ip: &Ipv4Header, unverifiable: bool) -> Result<TcpFacts, DropReason> {
    if seg.len() < TCP_MIN_HEADER {
        return Err(DropReason::L4Truncated);
    }
    let header_len = usize::from(seg[12] >> 4) * 4;
    if header_len < TCP_MIN_HEADER || header_len > seg.len() {
        return Err(DropReason::TcpBadHeader);
    }
    if !unverifiable && !tcp_checksum_verifies(seg, ip) {
        return Err(DropReason::TcpBadChecksum);
    }
    let flags = seg[13] & 0x3f;
    if !tcp_flags_valid(flags) {
        return Err(DropReason::TcpBadFlags);
    }
    let wscale = if flags & tcp_flags::SYN != 0 {
        window_scale(&seg[TCP_MIN_HEADER..header_len])
    } else {
        None
    };
    Ok(TcpFacts {
        flags,
        seq: be32(seg, 4),
        ack: be32(seg, 8),
        window: be16(seg, 14),
        payload_len: u32::try_from(seg.len() - header_len).unwrap_or(u32::MAX),
        wscale,
    })
}

/// Whether the TCP checksum (RFC 793 3.1: pseudo header of source, destination, zero,
/// protocol and TCP length, then the segment) verifies.
fn tcp_checksum_verifies(seg: &[u8], ip: &Ipv4Header) -> bool {
    checksum::transport_verifies(ip.src, ip.dst, PROTO_TCP, seg)
}

/// Whether a combination of the six classic flag bits is valid: not none,
/// SYN+FIN, SYN+RST, FIN without ACK, or FIN+PSH+URG (Xmas, with or without more bits).
/// One load: the answers for all 64 combinations are computed at compile time.
pub(crate) fn tcp_flags_valid(flags: u8) -> bool {
    VALID_FLAGS[usize::from(flags & 0x3f)]
}

/// [`tcp_flags_valid`] of each combination of the six classic flag bits.
const VALID_FLAGS: [bool; 64] = {
    use tcp_flags::{ACK, FIN, PSH, RST, SYN, URG};
    const fn has(flags: u8, bits: u8) -> bool {
        flags & bits == bits
    }
    let mut valid = [false; 64];
    let mut flags = 0;
    while flags < 64 {
        valid[flags as usize] = !(flags == 0
            || has(flags, SYN | FIN)
            || has(flags, SYN | RST)
            || (has(flags, FIN) && !has(flags, ACK))
            || has(flags, FIN | PSH | URG));
        flags += 1;
    }
    valid
};

/// The window scale option (kind 3, length 3) among TCP `opts`, clamped to 14; `None`
/// without one, or if the options are malformed (a length below 2 or past the end, a
/// window scale option of another length).
fn window_scale(mut opts: &[u8]) -> Option<u8> {
    let mut found = None;
    while let Some(&kind) = opts.first() {
        match kind {
            OPT_END => break,
            OPT_NOP => opts = &opts[1..],
            _ => {
                let len = usize::from(*opts.get(1)?);
                if len < 2 || len > opts.len() {
                    return None;
                }
                if kind == OPT_WSCALE {
                    if len != 3 {
                        return None;
                    }
                    found = Some(opts[2].min(MAX_WSCALE));
                }
                opts = &opts[len..];
            }
        }
    }
    found
}

/// Checks a UDP datagram. The checksum is not verified (see the module doc).
fn udp(seg: &[u8], first_fragment: bool) -> Result<(), DropReason> {
    if seg.len() < UDP_HEADER {
        return Err(DropReason::L4Truncated);
    }
    let len = usize::from(be16(seg, 4));
    // A first fragment holds only part of the datagram the length field describes.
    let consistent = if first_fragment {
        len >= seg.len()
    } else {
        len == seg.len()
    };
    if len < UDP_HEADER || !consistent {
        return Err(DropReason::UdpBadLength);
    }
    Ok(())
}

/// Checks an ICMP message.
fn icmp(seg: &[u8]) -> Result<L4, DropReason> {
    if seg.len() < icmp::HEADER_LEN {
        return Err(DropReason::L4Truncated);
    }
    let (icmp_type, code) = (seg[0], seg[1]);
    Ok(match icmp_type {
        icmp::ECHO_REQUEST | icmp::ECHO_REPLY => L4::IcmpEcho {
            request: icmp_type == icmp::ECHO_REQUEST,
            id: be16(seg, 4),
        },
        t if icmp::is_error(t) && ICMP_ERRORS.contains(&t) => L4::IcmpError {
            icmp_type,
            code,
            quoted: quoted(&seg[icmp::HEADER_LEN..])?,
        },
        _ => L4::IcmpOther { icmp_type, code },
    })
}

/// The tuple of the packet an ICMP error quotes: its IPv4 header (version 4, IHL 5..,
/// checksum verified) and 8 bytes must be there; it must not be an ICMP error itself.
/// Ports as in [`Tuple`]; a quoted non-first fragment has none.
fn quoted(q: &[u8]) -> Result<Tuple, DropReason> {
    let bad = DropReason::IcmpErrorBadInner;
    let ver_ihl = *q.first().ok_or(bad)?;
    let header_len = usize::from(ver_ihl & 0x0f) * 4;
    if ver_ihl >> 4 != 4 || header_len < ipv4::MIN_HEADER_LEN || q.len() < header_len + 8 {
        return Err(bad);
    }
    if !checksum::verifies(&q[..header_len]) {
        return Err(bad);
    }
    let proto = q[ipv4::field::PROTOCOL];
    let addr = |at: usize| Ipv4Addr::new(q[at], q[at + 1], q[at + 2], q[at + 3]);
    let non_first_fragment = be16(q, ipv4::field::FLAGS_FRAG) & ipv4::flags::OFFSET != 0;
    let l4 = &q[header_len..header_len + 8];
    let (src_port, dst_port) = match proto {
        _ if non_first_fragment => (0, 0),
        PROTO_TCP | PROTO_UDP => ports(l4),
        PROTO_ICMP if icmp::is_error(l4[0]) => return Err(DropReason::IcmpErrorAboutError),
        PROTO_ICMP if l4[0] == icmp::ECHO_REQUEST || l4[0] == icmp::ECHO_REPLY => {
            (be16(l4, 4), be16(l4, 4))
        }
        _ => (0, 0),
    };
    Ok(Tuple {
        proto,
        src: addr(ipv4::field::SRC),
        dst: addr(ipv4::field::DST),
        src_port,
        dst_port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::PacketBuf;
    use crate::sanity;
    use proptest::prelude::*;

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 10);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 12, 10);

    /// TCP SYN 10.0.1.10:40000 -> 10.0.12.10:80, seq 0x01020304, window 64240, options
    /// MSS 1460, NOP, window scale 7, SACK permitted, END.
    const SYN: [u8; 52] = [
        0x45, 0x00, 0x00, 0x34, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0xfd, 0x6a, 0x0a, 0x00, 0x01,
        0x0a, 0x0a, 0x00, 0x0c, 0x0a, // IPv4, total length 52, protocol 6
        0x9c, 0x40, 0x00, 0x50, // ports 40000 -> 80
        0x01, 0x02, 0x03, 0x04, // seq
        0x00, 0x00, 0x00, 0x00, // ack
        0x80, 0x02, 0xfa, 0xf0, // data offset 8 (32 bytes), SYN, window 64240
        0xb3, 0x77, 0x00, 0x00, // checksum, urgent pointer
        0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07, 0x04, 0x02, 0x00, 0x00, // options
    ];
    /// TCP ACK+PSH with "GET /", seq 0x01020305, ack 0x0a0b0c0d, window 502.
    const DATA: [u8; 45] = [
        0x45, 0x00, 0x00, 0x2d, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0xfd, 0x71, 0x0a, 0x00, 0x01,
        0x0a, 0x0a, 0x00, 0x0c, 0x0a, // IPv4, total length 45
        0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x05, 0x0a, 0x0b, 0x0c, 0x0d, 0x50, 0x18, 0x01,
        0xf6, 0x0b, 0xa9, 0x00, 0x00, // TCP, data offset 5, ACK+PSH
        0x47, 0x45, 0x54, 0x20, 0x2f, // "GET /"
    ];
    /// UDP 10.0.1.10:12345 -> 10.0.12.10:53, "hiya".
    const UDP: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11, 0xfd, 0x73, 0x0a, 0x00, 0x01,
        0x0a, 0x0a, 0x00, 0x0c, 0x0a, // IPv4
        0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0xcc, 0x89, // UDP, length 12
        0x68, 0x69, 0x79, 0x61, // "hiya"
    ];
    /// ICMP echo request 10.0.1.10 -> 10.0.12.10, id 0x1234, seq 1, "ping".
    const ECHO: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0xfd, 0x83, 0x0a, 0x00, 0x01,
        0x0a, 0x0a, 0x00, 0x0c, 0x0a, // IPv4
        0x08, 0x00, 0x06, 0xfa, 0x12, 0x34, 0x00, 0x01, // echo request, id 0x1234, seq 1
        0x70, 0x69, 0x6e, 0x67, // "ping"
    ];
    /// Its echo reply, 10.0.12.10 -> 10.0.1.10.
    const REPLY: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0xfd, 0x83, 0x0a, 0x00, 0x0c,
        0x0a, 0x0a, 0x00, 0x01, 0x0a, // IPv4
        0x00, 0x00, 0x0e, 0xfa, 0x12, 0x34, 0x00, 0x01, // echo reply, id 0x1234, seq 1
        0x70, 0x69, 0x6e, 0x67, // "ping"
    ];
    /// Port unreachable 10.0.12.10 -> 10.0.1.10 quoting all of UDP.
    const PORT_UNREACHABLE: [u8; 60] = [
        0x45, 0x00, 0x00, 0x3c, 0x01, 0x01, 0x00, 0x00, 0x40, 0x01, 0x58, 0xad, 0x0a, 0x00, 0x0c,
        0x0a, 0x0a, 0x00, 0x01, 0x0a, // IPv4
        0x03, 0x03, 0x1e, 0x2e, 0x00, 0x00, 0x00, 0x00, // ICMP type 3 code 3
        0x45, 0x00, 0x00, 0x20, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11, 0xfd, 0x73, 0x0a, 0x00, 0x01,
        0x0a, 0x0a, 0x00, 0x0c, 0x0a, // quoted IPv4
        0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0xcc, 0x89, // quoted UDP
        0x68, 0x69, 0x79, 0x61, // quoted payload
    ];
    /// Time exceeded from 10.0.1.1 to 10.0.12.10 quoting PORT_UNREACHABLE's header and
    /// first 8 bytes: an error about an error.
    const ABOUT_ERROR: [u8; 56] = [
        0x45, 0x00, 0x00, 0x38, 0x00, 0x02, 0x00, 0x00, 0x40, 0x01, 0x59, 0xb9, 0x0a, 0x00, 0x01,
        0x01, 0x0a, 0x00, 0x0c, 0x0a, // IPv4
        0x0b, 0x00, 0xd3, 0xce, 0x00, 0x00, 0x00, 0x00, // ICMP type 11 code 0
        0x45, 0x00, 0x00, 0x3c, 0x01, 0x01, 0x00, 0x00, 0x40, 0x01, 0x58, 0xad, 0x0a, 0x00, 0x0c,
        0x0a, 0x0a, 0x00, 0x01, 0x0a, // quoted IPv4
        0x03, 0x03, 0x1e, 0x2e, 0x00, 0x00, 0x00, 0x00, // quoted ICMP type 3
    ];
    /// ICMP timestamp request (type 13), id 7, seq 1.
    const TIMESTAMP: [u8; 40] = [
        0x45, 0x00, 0x00, 0x28, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0xfd, 0x7b, 0x0a, 0x00, 0x01,
        0x0a, 0x0a, 0x00, 0x0c, 0x0a, // IPv4
        0x0d, 0x00, 0xf2, 0xf7, 0x00, 0x07, 0x00, 0x01, // timestamp request
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // timestamps
    ];
    /// GRE (protocol 47) 10.0.1.10 -> 10.0.12.10.
    const GRE: [u8; 28] = [
        0x45, 0x00, 0x00, 0x1c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x2f, 0xfd, 0x59, 0x0a, 0x00, 0x01,
        0x0a, 0x0a, 0x00, 0x0c, 0x0a, // IPv4, protocol 47
        0x00, 0x00, 0x08, 0x00, 0x61, 0x62, 0x63, 0x64, // GRE header, "abcd"
    ];
    /// First fragment (MF, offset 0) of a UDP datagram of 1008 bytes: header + 8 bytes.
    const UDP_FIRST_FRAGMENT: [u8; 36] = [
        0x45, 0x00, 0x00, 0x24, 0x1c, 0x46, 0x20, 0x00, 0x40, 0x11, 0x1d, 0x70, 0x0a, 0x00, 0x01,
        0x0a, 0x0a, 0x00, 0x0c, 0x0a, // IPv4, MF
        0x30, 0x39, 0x00, 0x35, 0x03, 0xf0, 0x00, 0x00, // UDP, length 1008
        0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, // the first 8 bytes of payload
    ];
    /// A non-first fragment (offset 2 = 16 bytes) of UDP.
    const NON_FIRST_FRAGMENT: [u8; 28] = [
        0x45, 0x00, 0x00, 0x1c, 0x1c, 0x46, 0x00, 0x02, 0x40, 0x11, 0x3d, 0x76, 0x0a, 0x00, 0x01,
        0x0a, 0x0a, 0x00, 0x0c, 0x0a, // IPv4, offset 2
        0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, // payload
    ];
    /// A first fragment of TCP holding only 8 bytes of the header (RFC 1858 "tiny
    /// fragment").
    const TCP_TINY_FIRST_FRAGMENT: [u8; 28] = [
        0x45, 0x00, 0x00, 0x1c, 0x1c, 0x46, 0x20, 0x00, 0x40, 0x06, 0x1d, 0x83, 0x0a, 0x00, 0x01,
        0x0a, 0x0a, 0x00, 0x0c, 0x0a, // IPv4, MF
        0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, // ports and seq only
    ];

    /// Runs `sanity` then `parse`.
    fn run(bytes: &[u8]) -> Result<Facts, DropReason> {
        let mut buf = PacketBuf::from_bytes(bytes);
        let (ip, _) = sanity::check(&mut buf).unwrap_or_else(|r| panic!("sanity: {r:?}"));
        parse(buf.as_bytes(), &ip, Shape::PLAIN)
    }

    /// `bytes` with the IP total length set to its length and the IP checksum (and for
    /// TCP, the TCP checksum) recomputed.
    fn fixed(mut b: Vec<u8>) -> Vec<u8> {
        let total = b.len() as u16;
        b[2..4].copy_from_slice(&total.to_be_bytes());
        b[10..12].copy_from_slice(&[0, 0]);
        let c = checksum::internet(&b[..20]);
        b[10..12].copy_from_slice(&c.to_be_bytes());
        if b[9] == PROTO_TCP && b.len() >= 40 {
            b[36..38].copy_from_slice(&[0, 0]);
            let mut pseudo = b[12..20].to_vec();
            pseudo.extend_from_slice(&[0, PROTO_TCP]);
            pseudo.extend_from_slice(&((b.len() - 20) as u16).to_be_bytes());
            pseudo.extend_from_slice(&b[20..]);
            let c = checksum::internet(&pseudo);
            b[36..38].copy_from_slice(&c.to_be_bytes());
        }
        b
    }

    fn tcp_facts(f: &Facts) -> TcpFacts {
        match f.l4 {
            L4::Tcp(t) => t,
            other => panic!("not TCP: {other:?}"),
        }
    }

    #[test]
    fn a_syn_with_window_scale() {
        let f = run(&SYN).unwrap();
        assert_eq!(
            f.tuple,
            Tuple {
                proto: PROTO_TCP,
                src: A,
                dst: B,
                src_port: 40000,
                dst_port: 80
            }
        );
        assert_eq!(f.len, 52);
        assert_eq!(
            f.l4,
            L4::Tcp(TcpFacts {
                flags: tcp_flags::SYN,
                seq: 0x0102_0304,
                ack: 0,
                window: 64240,
                payload_len: 0,
                wscale: Some(7),
            })
        );
        assert_eq!(f.tcp_flags(), tcp_flags::SYN);
        assert_eq!(f.icmp_type_code(), None);
    }

    #[test]
    fn a_data_segment() {
        let t = tcp_facts(&run(&DATA).unwrap());
        assert_eq!(
            t,
            TcpFacts {
                flags: tcp_flags::ACK | tcp_flags::PSH,
                seq: 0x0102_0305,
                ack: 0x0a0b_0c0d,
                window: 502,
                payload_len: 5,
                wscale: None,
            }
        );
    }

    #[test]
    fn window_scale_options() {
        // (option bytes 40..52, expected)
        let cases: [([u8; 12], Option<u8>); 6] = [
            // Shift 15 is clamped to 14.
            ([2, 4, 5, 0xb4, 1, 3, 3, 15, 4, 2, 0, 0], Some(14)),
            // No window scale.
            ([2, 4, 5, 0xb4, 1, 1, 1, 1, 4, 2, 0, 0], None),
            // After END nothing counts.
            ([0, 3, 3, 7, 1, 1, 1, 1, 1, 1, 1, 1], None),
            // Window scale with length 4, an option of length 0, a length past the end.
            ([3, 4, 7, 0, 1, 1, 1, 1, 1, 1, 1, 1], None),
            ([1, 3, 3, 7, 8, 0, 1, 1, 1, 1, 1, 1], None),
            ([1, 3, 3, 7, 1, 1, 1, 1, 1, 1, 8, 10], None),
        ];
        for (opts, want) in cases {
            let mut p = SYN.to_vec();
            p[40..52].copy_from_slice(&opts);
            let t = tcp_facts(&run(&fixed(p)).unwrap());
            assert_eq!(t.wscale, want, "{opts:?}");
        }
        // Only a SYN's option is read.
        let mut p = SYN.to_vec();
        p[33] = tcp_flags::ACK;
        assert_eq!(tcp_facts(&run(&fixed(p)).unwrap()).wscale, None);
    }

    #[test]
    fn row_25_tcp_truncated_bad_offset_bad_checksum() {
        // 19 bytes of TCP.
        assert_eq!(
            run(&fixed(SYN[..39].to_vec())),
            Err(DropReason::L4Truncated)
        );
        // Data offset 4, and 15 (60 bytes) in a 32-byte segment.
        for offset in [0x40, 0xf0] {
            let mut p = SYN.to_vec();
            p[32] = offset;
            assert_eq!(run(&fixed(p)), Err(DropReason::TcpBadHeader));
        }
        // Options cut off: data offset 8 but only 24 bytes of TCP.
        assert_eq!(
            run(&fixed(SYN[..44].to_vec())),
            Err(DropReason::TcpBadHeader)
        );
        // One payload bit flipped.
        let mut p = DATA;
        p[44] ^= 1;
        assert_eq!(run(&p), Err(DropReason::TcpBadChecksum));
        // The pseudo header counts: another destination with the same segment.
        let mut p = DATA;
        p[19] = 11;
        let p = {
            let mut v = p.to_vec();
            v[10..12].copy_from_slice(&[0, 0]);
            let c = checksum::internet(&v[..20]);
            v[10..12].copy_from_slice(&c.to_be_bytes());
            v
        };
        assert_eq!(run(&p), Err(DropReason::TcpBadChecksum));
    }

    #[test]
    fn row_26_tcp_flag_combinations() {
        use tcp_flags::{ACK, FIN, PSH, RST, SYN as S, URG};
        for bad in [
            0,
            S | FIN,
            S | RST,
            S | FIN | ACK,
            FIN,
            FIN | PSH,
            FIN | PSH | URG | ACK,
            0x3f,
            0xc0, // only ECE and CWR
        ] {
            let mut p = DATA.to_vec();
            p[33] = bad;
            assert_eq!(run(&fixed(p)), Err(DropReason::TcpBadFlags), "{bad:#04x}");
        }
        for good in [
            S,
            S | ACK,
            S | 0xc0,
            ACK,
            ACK | PSH,
            FIN | ACK,
            RST,
            RST | ACK,
            URG | ACK,
        ] {
            let mut p = DATA.to_vec();
            p[33] = good;
            assert!(run(&fixed(p)).is_ok(), "{good:#04x}");
        }
    }

    #[test]
    fn udp() {
        let f = run(&UDP).unwrap();
        assert_eq!(f.l4, L4::Udp);
        assert_eq!(
            (f.tuple.proto, f.tuple.src_port, f.tuple.dst_port),
            (17, 12345, 53)
        );
        assert_eq!(f.len, 32);
        // An empty payload is fine.
        let mut p = UDP[..28].to_vec();
        p[24..26].copy_from_slice(&8u16.to_be_bytes());
        assert_eq!(run(&fixed(p)).map(|f| f.l4), Ok(L4::Udp));
    }

    #[test]
    fn row_32_udp_length() {
        assert_eq!(
            run(&fixed(UDP[..27].to_vec())),
            Err(DropReason::L4Truncated)
        );
        for len in [0u16, 7, 11, 13, 0xffff] {
            let mut p = UDP.to_vec();
            p[24..26].copy_from_slice(&len.to_be_bytes());
            assert_eq!(run(&p), Err(DropReason::UdpBadLength), "{len}");
        }
    }

    #[test]
    fn icmp_echo_by_identifier() {
        let f = run(&ECHO).unwrap();
        assert_eq!(
            f.l4,
            L4::IcmpEcho {
                request: true,
                id: 0x1234
            }
        );
        assert_eq!((f.tuple.src_port, f.tuple.dst_port), (0x1234, 0x1234));
        assert_eq!(f.icmp_type_code(), Some((8, 0)));
        let f = run(&REPLY).unwrap();
        assert_eq!(
            f.l4,
            L4::IcmpEcho {
                request: false,
                id: 0x1234
            }
        );
        assert_eq!((f.tuple.src, f.tuple.dst), (B, A));
        // 7 bytes of ICMP.
        assert_eq!(
            run(&fixed(ECHO[..27].to_vec())),
            Err(DropReason::L4Truncated)
        );
    }

    #[test]
    fn other_icmp_and_other_protocols() {
        let f = run(&TIMESTAMP).unwrap();
        assert_eq!(
            f.l4,
            L4::IcmpOther {
                icmp_type: 13,
                code: 0
            }
        );
        assert_eq!((f.tuple.src_port, f.tuple.dst_port), (0, 0));
        // An unknown type is not parsed as an error.
        let mut p = TIMESTAMP;
        p[20] = 200;
        assert_eq!(
            run(&p).map(|f| f.l4),
            Ok(L4::IcmpOther {
                icmp_type: 200,
                code: 0
            })
        );
        let f = run(&GRE).unwrap();
        assert_eq!(f.l4, L4::Other);
        assert_eq!(
            f.tuple,
            Tuple {
                proto: 47,
                src: A,
                dst: B,
                src_port: 0,
                dst_port: 0
            }
        );
        // Even with no payload at all.
        assert_eq!(run(&fixed(GRE[..20].to_vec())).map(|f| f.l4), Ok(L4::Other));
    }

    #[test]
    fn a_port_unreachable_quoting_udp() {
        let f = run(&PORT_UNREACHABLE).unwrap();
        assert_eq!(
            f.l4,
            L4::IcmpError {
                icmp_type: 3,
                code: 3,
                quoted: Tuple {
                    proto: PROTO_UDP,
                    src: A,
                    dst: B,
                    src_port: 12345,
                    dst_port: 53
                }
            }
        );
        assert_eq!((f.tuple.src, f.tuple.dst, f.tuple.src_port), (B, A, 0));
        assert_eq!(f.icmp_type_code(), Some((3, 3)));
        // The header and 8 bytes are enough.
        assert!(run(&fixed(PORT_UNREACHABLE[..56].to_vec())).is_ok());
    }

    #[test]
    fn an_error_quoting_an_echo_has_its_identifier() {
        let mut p = PORT_UNREACHABLE[..28].to_vec();
        p.extend_from_slice(&ECHO[..28]);
        let f = run(&fixed(p)).unwrap();
        let L4::IcmpError { quoted, .. } = f.l4 else {
            panic!("{f:?}")
        };
        assert_eq!(
            (quoted.proto, quoted.src_port, quoted.dst_port),
            (1, 0x1234, 0x1234)
        );
    }

    #[test]
    fn row_30_bad_quotes() {
        // Only 4 bytes after the quoted header.
        assert_eq!(
            run(&fixed(PORT_UNREACHABLE[..52].to_vec())),
            Err(DropReason::IcmpErrorBadInner)
        );
        // No quote at all.
        assert_eq!(
            run(&fixed(PORT_UNREACHABLE[..28].to_vec())),
            Err(DropReason::IcmpErrorBadInner)
        );
        // A bad quoted checksum, version 6, IHL 4, IHL 7 without room for 8 more bytes.
        for (at, value) in [(38, 0x00), (28, 0x65), (28, 0x44), (28, 0x47)] {
            let mut p = PORT_UNREACHABLE;
            p[at] = value;
            assert_eq!(run(&p), Err(DropReason::IcmpErrorBadInner), "{at} {value}");
        }
    }

    #[test]
    fn row_31_an_error_about_an_error() {
        assert_eq!(run(&ABOUT_ERROR), Err(DropReason::IcmpErrorAboutError));
        // About an unknown type: counted as an error too.
        let mut p = ABOUT_ERROR;
        p[48] = 200;
        assert_eq!(run(&p), Err(DropReason::IcmpErrorAboutError));
        // About an echo: fine.
        p[48] = 8;
        assert!(run(&p).is_ok());
    }

    #[test]
    fn row_19_fragments() {
        assert_eq!(run(&NON_FIRST_FRAGMENT), Err(DropReason::Fragment));
        assert_eq!(run(&TCP_TINY_FIRST_FRAGMENT), Err(DropReason::L4Truncated));
        // A first UDP fragment: ports, and a length field longer than the fragment.
        let f = run(&UDP_FIRST_FRAGMENT).unwrap();
        assert_eq!(
            (f.l4, f.tuple.src_port, f.tuple.dst_port),
            (L4::Udp, 12345, 53)
        );
        // ... but not shorter than what the fragment already holds.
        let mut p = UDP_FIRST_FRAGMENT.to_vec();
        p[24..26].copy_from_slice(&12u16.to_be_bytes());
        assert_eq!(run(&p), Err(DropReason::UdpBadLength));
        // A first TCP fragment: the checksum covers the whole datagram, so it is not
        // checked; the header still is.
        let mut p = DATA.to_vec();
        p[6] = 0x20; // MF, not DF
        p[44] ^= 1;
        let p = {
            p[10..12].copy_from_slice(&[0, 0]);
            let c = checksum::internet(&p[..20]);
            p[10..12].copy_from_slice(&c.to_be_bytes());
            p
        };
        assert_eq!(tcp_facts(&run(&p).unwrap()).payload_len, 5);
        let mut q = p.clone();
        q[33] = 0;
        assert_eq!(run(&q), Err(DropReason::TcpBadFlags));
        // A first ICMP fragment needs its 8-byte header.
        let mut p = ECHO[..24].to_vec();
        p[6] = 0x20;
        assert_eq!(run(&fixed(p)), Err(DropReason::L4Truncated));
        // An error quoting a non-first fragment: no ports.
        let mut p = PORT_UNREACHABLE;
        p[34..36].copy_from_slice(&[0x00, 0x02]);
        let q = checksum::internet(&{
            let mut h = p[28..48].to_vec();
            h[10..12].copy_from_slice(&[0, 0]);
            h
        });
        p[38..40].copy_from_slice(&q.to_be_bytes());
        let L4::IcmpError { quoted, .. } = run(&p).unwrap().l4 else {
            panic!()
        };
        assert_eq!((quoted.src_port, quoted.dst_port), (0, 0));
    }

    proptest! {
        /// Any bytes after any IPv4 header: a verdict, never a panic.
        #[test]
        fn never_panics(
            protocol in prop::sample::select(vec![1u8, 6, 17, 47]),
            more_fragments in any::<bool>(),
            payload in prop::collection::vec(any::<u8>(), 0..80),
        ) {
            let mut pkt = vec![0u8; 20];
            pkt.extend_from_slice(&payload);
            let ip = Ipv4Header {
                header_len: 20,
                total_len: pkt.len(),
                ttl: 64,
                protocol,
                src: A,
                dst: B,
                frag_offset: 0,
                more_fragments,
                dont_fragment: false,
            };
            let _ = parse(&pkt, &ip, Shape::PLAIN);
            // Inconsistent lengths too.
            let _ = parse(&pkt[..10], &ip, Shape::PLAIN);
        }
    }
}
