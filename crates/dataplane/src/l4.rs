//! Stage `l4`: the transport header of a packet that is about to be forwarded, checked
//! and reduced to the facts that security groups, network ACLs, connection tracking and
//! flow logs need (robustness rows 19, 25, 26, 30-32). AWS behaviour: security groups
//! and network ACLs match on protocol, ports and ICMP type/code, and the connection
//! tracking of security groups (EC2: security-group-connection-tracking) follows TCP
//! state, UDP 5-tuples, ICMP echo identifiers and the flows quoted by ICMP errors; this
//! module extracts exactly those facts and refuses what cannot be judged.
//!
//! - Fragments: a non-first fragment has no transport header (`fragment`, row 19). A
//!   first fragment is parsed like a whole datagram but must hold the whole TCP header,
//!   the UDP header or the ICMP header (`l4-truncated`, RFC 1858 / RFC 3128); its TCP
//!   checksum is not verified (it covers the whole datagram) and its UDP length field
//!   must only be at least what the fragment holds.
//! - TCP: 20 bytes at least; data offset 5.. and inside the segment; checksum over the
//!   pseudo header and segment verified; invalid flag combinations (none, SYN+FIN,
//!   SYN+RST, FIN without ACK, FIN+PSH+URG "Xmas") dropped (rows 25-26); the window scale
//!   option read from SYN segments, clamped to 14 (RFC 7323 2.3). Malformed options are
//!   not a reason to drop: they only mean "no window scale".
//! - UDP: 8 bytes at least; length field 8.. and equal to the IP payload (row 32). The
//!   UDP checksum is not verified: no state here depends on the payload (conntrack keys
//!   on the ports only), and the receiving host verifies it anyway.
//! - ICMP: 8 bytes at least. Echo request/reply by identifier (both tuple ports are the
//!   identifier). Errors (3, 4, 5, 11, 12) quote a packet whose IPv4 header (version 4,
//!   IHL 5..) and first 8 bytes must be present and whose header checksum must verify
//!   (row 30), and which is not itself an ICMP error (row 31, RFC 1122 3.2.2; a quoted
//!   type the router does not know counts as an error, as in [`icmp::is_error`]). Other
//!   types (timestamp, unknown, ...) are `IcmpOther`. The ICMP checksum is not verified
//!   (no state depends on the payload; the receiving host verifies it).
//! - Other protocols have no ports.

use std::net::Ipv4Addr;

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
    /// The IP datagram's total length (for counters and flow logs).
    pub len: u32,
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
pub(crate) fn parse(pkt: &[u8], ip: &Ipv4Header) -> Result<Facts, DropReason> {
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
            let t = tcp(seg, ip, first_fragment)?;
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
    Ok(Facts {
        tuple,
        l4,
        len: u32::try_from(ip.total_len).unwrap_or(u32::MAX),
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

/// Checks a TCP segment (rows 19, 25, 26).
fn tcp(seg: &[u8], ip: &Ipv4Header, first_fragment: bool) -> Result<TcpFacts, DropReason> {
    if seg.len() < TCP_MIN_HEADER {
        return Err(DropReason::L4Truncated);
    }
    let header_len = usize::from(seg[12] >> 4) * 4;
    if header_len < TCP_MIN_HEADER || header_len > seg.len() {
        return Err(DropReason::TcpBadHeader);
    }
    if !first_fragment && !tcp_checksum_verifies(seg, ip) {
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
    let len = u64::try_from(seg.len()).unwrap_or(u64::MAX);
    let mut acc = u64::from(checksum::sum(&ip.src.octets()))
        + u64::from(checksum::sum(&ip.dst.octets()))
        + u64::from(PROTO_TCP)
        + len
        + u64::from(checksum::sum(seg));
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc == 0xffff
}

/// Whether a combination of the six classic flag bits is valid (row 26): not none,
/// SYN+FIN, SYN+RST, FIN without ACK, or FIN+PSH+URG (Xmas, with or without more bits).
pub(crate) fn tcp_flags_valid(flags: u8) -> bool {
    use tcp_flags::{ACK, FIN, PSH, RST, SYN, URG};
    let has = |bits: u8| flags & bits == bits;
    !(flags & 0x3f == 0
        || has(SYN | FIN)
        || has(SYN | RST)
        || (has(FIN) && !has(ACK))
        || has(FIN | PSH | URG))
}

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

/// Checks a UDP datagram (row 32). The checksum is not verified (see the module doc).
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

/// Checks an ICMP message (rows 30, 31).
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
    let non_first_fragment = be16(q, ipv4::field::FLAGS_FRAG) & 0x1fff != 0;
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
