//! Rewriting a packet's addresses and ports in place for NAT (the internet gateway's
//! 1:1 NAT and the NAT gateway's source NAT), with every checksum updated incrementally
//! (RFC 1624), never recomputed over the packet:
//!
//! - the IPv4 header checksum;
//! - the TCP and UDP checksums (their pseudo-header covers the addresses). An IPv4 UDP
//!   checksum of 0 means "none" and stays 0; an updated checksum that comes out 0 is
//!   sent as 0xFFFF (RFC 768);
//! - the ICMP checksum when an echo identifier changes;
//! - ICMP errors (RFC 5508): the outer address, the quoted packet's opposite address
//!   and port, the quoted IPv4 header checksum, the quoted transport checksum when its
//!   field is among the quoted bytes, and the ICMP checksum (which covers the quote).
//!
//! A non-first fragment has no transport header: only its IPv4 header changes. A first
//! fragment's transport checksum covers the whole datagram; the incremental update is
//! still exact.

use std::net::Ipv4Addr;

use crate::l4::{PROTO_ICMP, PROTO_TCP, PROTO_UDP};
use crate::wire::checksum::fold;
use crate::wire::icmp;
use crate::wire::ipv4::{Ipv4Header, MIN_HEADER_LEN, field, flags};

/// Offset of the checksum in a TCP header.
const TCP_CHECKSUM: usize = 16;
/// Offset of the checksum in a UDP header.
const UDP_CHECKSUM: usize = 6;
/// Offset of the checksum in an ICMP header.
const ICMP_CHECKSUM: usize = 2;
/// Offset of the identifier in an ICMP echo header.
const ICMP_ID: usize = 4;
/// Offset of the quoted packet in an ICMP error.
const ICMP_QUOTE: usize = icmp::HEADER_LEN;

/// Which end of a packet to rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The source address (and source port / echo identifier).
    Src,
    /// The destination address (and destination port / echo identifier).
    Dst,
}

impl End {
    /// The other end.
    fn opposite(self) -> End {
        match self {
            End::Src => End::Dst,
            End::Dst => End::Src,
        }
    }

    /// Offset of this end's address in an IPv4 header.
    fn addr_at(self) -> usize {
        match self {
            End::Src => field::SRC,
            End::Dst => field::DST,
        }
    }

    /// Offset of this end's port in a TCP or UDP header.
    fn port_at(self) -> usize {
        match self {
            End::Src => 0,
            End::Dst => 2,
        }
    }
}

/// Changes to 16-bit words covered by a checksum, summed the RFC 1624 way
/// (`~m + m'` for each word), to apply to the checksum at once: HC' = ~(~HC + sum).
#[derive(Debug, Clone, Copy, Default)]
struct Delta(u32);

impl Delta {
    /// A word changed from `old` to `new`.
    fn word(&mut self, old: u16, new: u16) {
        if old != new {
            self.0 = u32::from(fold(self.0 + u32::from(!old) + u32::from(new)));
        }
    }

    /// An address (two words) changed from `old` to `new`.
    fn addr(&mut self, old: [u8; 4], new: [u8; 4]) {
        self.word(
            u16::from_be_bytes([old[0], old[1]]),
            u16::from_be_bytes([new[0], new[1]]),
        );
        self.word(
            u16::from_be_bytes([old[2], old[3]]),
            u16::from_be_bytes([new[2], new[3]]),
        );
    }

    /// The checksum `c` updated for the changes (unchanged if there were none).
    fn apply(self, c: u16) -> u16 {
        if self.0 == 0 {
            c
        } else {
            !fold(u32::from(!c) + self.0)
        }
    }
}

/// The big-endian word at `at`, if it is within `b`.
fn get16(b: &[u8], at: usize) -> Option<u16> {
    match b.get(at..at.checked_add(2)?)? {
        &[x, y] => Some(u16::from_be_bytes([x, y])),
        _ => None,
    }
}

/// Writes `new` at `at` if the word is within `b`; returns the old value.
fn set16(b: &mut [u8], at: usize, new: u16) -> Option<u16> {
    let old = get16(b, at)?;
    b.get_mut(at..at + 2)?.copy_from_slice(&new.to_be_bytes());
    Some(old)
}

/// Writes `new` at `at` if the 4 bytes are within `b`; returns the old value.
fn set_addr(b: &mut [u8], at: usize, new: [u8; 4]) -> Option<[u8; 4]> {
    let field = b.get_mut(at..at.checked_add(4)?)?;
    let mut old = [0; 4];
    old.copy_from_slice(field);
    field.copy_from_slice(&new);
    Some(old)
}

/// How a checksum field is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// IPv4 header, TCP, ICMP: any value.
    Plain,
    /// UDP: 0 means "none" and stays 0; a computed 0 is sent as 0xFFFF.
    Udp,
    /// A partial TCP/UDP checksum (offload): the field holds the pseudo-header sum, not
    /// complemented, so the changes are added rather than subtracted.
    Partial,
}

/// Applies `d` to the checksum at `at` in `b`, if it is within `b`; returns the old and
/// new values (for a checksum that covers this one).
fn fix(b: &mut [u8], at: usize, d: Delta, kind: Kind) -> Option<(u16, u16)> {
    let old = get16(b, at)?;
    if kind == Kind::Udp && old == 0 {
        return None;
    }
    if kind == Kind::Partial {
        let new = if d.0 == 0 {
            old
        } else {
            fold(u32::from(old) + d.0)
        };
        set16(b, at, new)?;
        return Some((old, new));
    }
    let mut new = d.apply(old);
    if kind == Kind::Udp && new == 0 {
        new = 0xffff;
    }
    set16(b, at, new)?;
    Some((old, new))
}

/// Sets `end`'s address in the IPv4 header at the start of `pkt` to `addr` and updates
/// the header checksum; returns the old address (`None` if the header is cut short).
fn rewrite_ip_header(pkt: &mut [u8], end: End, addr: [u8; 4]) -> Option<[u8; 4]> {
    let header = pkt.get_mut(..MIN_HEADER_LEN)?;
    let old = set_addr(header, end.addr_at(), addr)?;
    let mut d = Delta::default();
    d.addr(old, addr);
    fix(header, field::CHECKSUM, d, Kind::Plain);
    Some(old)
}

/// The transport bytes of `pkt` (from the end of the IPv4 header to the end of the
/// datagram or of the buffer, whichever is first).
fn transport<'a>(pkt: &'a mut [u8], ip: &Ipv4Header) -> Option<&'a mut [u8]> {
    let end = ip.total_len.min(pkt.len());
    pkt.get_mut(ip.header_len..end)
}

/// Rewrites a TCP/UDP header `seg` (or an ICMP echo header) whose pseudo header's
/// `end` address changed from `old` to `new` and whose `end` port (echo identifier)
/// becomes `port`; `covering` (if any) collects the changed words for a checksum that
/// covers `seg` (the ICMP checksum of an error quoting it). Fields past the end of
/// `seg` are left alone. With `partial`, the TCP/UDP checksum field holds only the
/// pseudo-header sum (offload): it follows the address, not the port.
#[allow(clippy::too_many_arguments)]
fn rewrite_transport(
    seg: &mut [u8],
    proto: u8,
    end: End,
    old: [u8; 4],
    new: [u8; 4],
    port: Option<u16>,
    partial: bool,
    mut covering: Option<&mut Delta>,
) {
    let mut note = |old: u16, new: u16| {
        if let Some(c) = covering.as_deref_mut() {
            c.word(old, new);
        }
    };
    match proto {
        PROTO_TCP | PROTO_UDP => {
            let at = if proto == PROTO_TCP {
                TCP_CHECKSUM
            } else {
                UDP_CHECKSUM
            };
            let kind = match proto {
                _ if partial => Kind::Partial,
                PROTO_TCP => Kind::Plain,
                _ => Kind::Udp,
            };
            let mut d = Delta::default();
            d.addr(old, new);
            if let Some(p) = port
                && let Some(was) = set16(seg, end.port_at(), p)
            {
                if !partial {
                    d.word(was, p);
                }
                note(was, p);
            }
            if let Some((was, now)) = fix(seg, at, d, kind) {
                note(was, now);
            }
        }
        PROTO_ICMP => {
            let echo = matches!(seg.first(), Some(&(icmp::ECHO_REQUEST | icmp::ECHO_REPLY)));
            if let (true, Some(id)) = (echo, port)
                && let Some(was) = set16(seg, ICMP_ID, id)
            {
                note(was, id);
                let mut d = Delta::default();
                d.word(was, id);
                if let Some((was, now)) = fix(seg, ICMP_CHECKSUM, d, Kind::Plain) {
                    note(was, now);
                }
            }
        }
        _ => {}
    }
}

/// Rewrites `end`'s address to `addr` and, with `port`, its TCP/UDP port or its ICMP
/// echo identifier, in a TCP, UDP or ICMP echo packet (or any other protocol, address
/// only). `ip` is the packet's parsed header (as before the rewrite); `partial` says the
/// TCP/UDP checksum is partial (offload, see `rewrite_transport`).
pub(crate) fn rewrite(
    pkt: &mut [u8],
    ip: &Ipv4Header,
    end: End,
    addr: Ipv4Addr,
    port: Option<u16>,
    partial: bool,
) {
    let new = addr.octets();
    let Some(old) = rewrite_ip_header(pkt, end, new) else {
        return;
    };
    if ip.frag_offset != 0 {
        return;
    }
    if let Some(seg) = transport(pkt, ip) {
        rewrite_transport(seg, ip.protocol, end, old, new, port, partial, None);
    }
}

/// Rewrites an ICMP error: the outer `end`'s address to `addr`, and the quoted packet's
/// opposite end (an error travelling to the inside quotes a packet the inside sent, so
/// the outer destination and the quoted source are the same host) to `addr` and, with
/// `port`, its port or echo identifier. Fixes every checksum as described above.
/// The caller has checked (`l4::parse`) that the quote holds an IPv4 header and 8 bytes.
pub(crate) fn rewrite_icmp_error(
    pkt: &mut [u8],
    ip: &Ipv4Header,
    end: End,
    addr: Ipv4Addr,
    port: Option<u16>,
) {
    let new = addr.octets();
    if rewrite_ip_header(pkt, end, new).is_none() || ip.frag_offset != 0 {
        return;
    }
    let Some(msg) = transport(pkt, ip) else {
        return;
    };
    let Some(quote) = msg.get_mut(ICMP_QUOTE..) else {
        return;
    };
    // Every word changed in the quote, for the ICMP checksum. The quote starts at an even
    // offset of the message and its fields at even offsets of the quote, so each is one
    // word of the ICMP checksum.
    let mut icmp_delta = Delta::default();
    let quoted_end = end.opposite();
    let Some(&ver_ihl) = quote.first() else {
        return;
    };
    let header_len = usize::from(ver_ihl & 0x0f) * 4;
    let (Some(&proto), Some(frag)) = (quote.get(field::PROTOCOL), get16(quote, field::FLAGS_FRAG))
    else {
        return;
    };
    if header_len < MIN_HEADER_LEN {
        return;
    }
    if let Some(old) = set_addr(quote, quoted_end.addr_at(), new) {
        let mut d = Delta::default();
        d.addr(old, new);
        icmp_delta.addr(old, new);
        if let Some((was, now)) = fix(quote, field::CHECKSUM, d, Kind::Plain) {
            icmp_delta.word(was, now);
        }
        if frag & flags::OFFSET == 0
            && let Some(seg) = quote.get_mut(header_len..)
        {
            rewrite_transport(
                seg,
                proto,
                quoted_end,
                old,
                new,
                port,
                false,
                Some(&mut icmp_delta),
            );
        }
    }
    fix(msg, ICMP_CHECKSUM, icmp_delta, Kind::Plain);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::checksum;
    use proptest::prelude::*;

    const INSIDE: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 10);
    const NAT: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 5);
    const REMOTE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

    /// TCP SYN 10.0.1.10:40000 -> 198.51.100.7:443, seq 1000.
    const TCP_SYN: [u8; 40] = [
        0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0xf3, 0x57, 0x0a, 0x00, 0x01,
        0x0a, 0xc6, 0x33, 0x64, 0x07, 0x9c, 0x40, 0x01, 0xbb, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
        0x00, 0x00, 0x50, 0x02, 0xff, 0xff, 0xd8, 0xba, 0x00, 0x00,
    ];
    /// `TCP_SYN` from 203.0.113.5:1024.
    const TCP_SYN_NAT: [u8; 40] = [
        0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0xc2, 0x5b, 0xcb, 0x00, 0x71,
        0x05, 0xc6, 0x33, 0x64, 0x07, 0x04, 0x00, 0x01, 0xbb, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
        0x00, 0x00, 0x50, 0x02, 0xff, 0xff, 0x3f, 0xff, 0x00, 0x00,
    ];
    /// UDP 198.51.100.7:53 -> 203.0.113.5:1024, "data".
    const UDP_REPLY: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0xc2, 0x58, 0xc6, 0x33, 0x64,
        0x07, 0xcb, 0x00, 0x71, 0x05, 0x00, 0x35, 0x04, 0x00, 0x00, 0x0c, 0xbc, 0x9d, 0x64, 0x61,
        0x74, 0x61,
    ];
    /// `UDP_REPLY` to 10.0.1.10:40000.
    const UDP_REPLY_IN: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0xf3, 0x54, 0xc6, 0x33, 0x64,
        0x07, 0x0a, 0x00, 0x01, 0x0a, 0x00, 0x35, 0x9c, 0x40, 0x00, 0x0c, 0x55, 0x59, 0x64, 0x61,
        0x74, 0x61,
    ];
    /// `UDP_REPLY` without a checksum (0).
    const UDP_NO_SUM: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0xc2, 0x58, 0xc6, 0x33, 0x64,
        0x07, 0xcb, 0x00, 0x71, 0x05, 0x00, 0x35, 0x04, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x64, 0x61,
        0x74, 0x61,
    ];
    /// `UDP_NO_SUM` to 10.0.1.10:40000: still 0.
    const UDP_NO_SUM_IN: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0xf3, 0x54, 0xc6, 0x33, 0x64,
        0x07, 0x0a, 0x00, 0x01, 0x0a, 0x00, 0x35, 0x9c, 0x40, 0x00, 0x0c, 0x00, 0x00, 0x64, 0x61,
        0x74, 0x61,
    ];
    /// UDP 198.51.100.7:53 -> 203.0.113.5:1024 with the 2-byte payload 2e20, chosen so
    /// that its checksum to 10.0.1.10:40000 computes to 0.
    const UDP_TO_FFFF: [u8; 30] = [
        0x45, 0x00, 0x00, 0x1e, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0xc2, 0x5a, 0xc6, 0x33, 0x64,
        0x07, 0xcb, 0x00, 0x71, 0x05, 0x00, 0x35, 0x04, 0x00, 0x00, 0x0a, 0x67, 0x44, 0x2e, 0x20,
    ];
    /// `UDP_TO_FFFF` to 10.0.1.10:40000: checksum 0xffff, not 0.
    const UDP_TO_FFFF_IN: [u8; 30] = [
        0x45, 0x00, 0x00, 0x1e, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0xf3, 0x56, 0xc6, 0x33, 0x64,
        0x07, 0x0a, 0x00, 0x01, 0x0a, 0x00, 0x35, 0x9c, 0x40, 0x00, 0x0a, 0xff, 0xff, 0x2e, 0x20,
    ];
    /// Echo request 10.0.1.10 -> 198.51.100.7, identifier 1, seq 1, "ping".
    const ECHO: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0xf3, 0x64, 0x0a, 0x00, 0x01,
        0x0a, 0xc6, 0x33, 0x64, 0x07, 0x08, 0x00, 0x19, 0x2d, 0x00, 0x01, 0x00, 0x01, 0x70, 0x69,
        0x6e, 0x67,
    ];
    /// `ECHO` from 203.0.113.5, identifier 1024.
    const ECHO_NAT: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0xc2, 0x68, 0xcb, 0x00, 0x71,
        0x05, 0xc6, 0x33, 0x64, 0x07, 0x08, 0x00, 0x15, 0x2e, 0x04, 0x00, 0x00, 0x01, 0x70, 0x69,
        0x6e, 0x67,
    ];
    /// Port unreachable 198.51.100.7 -> 203.0.113.5 quoting the whole UDP datagram
    /// 203.0.113.5:1024 -> 198.51.100.7:53.
    const UNREACH: [u8; 60] = [
        0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0xc2, 0x4c, 0xc6, 0x33, 0x64,
        0x07, 0xcb, 0x00, 0x71, 0x05, 0x03, 0x03, 0x63, 0x5b, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00,
        0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0xc2, 0x58, 0xcb, 0x00, 0x71, 0x05, 0xc6,
        0x33, 0x64, 0x07, 0x04, 0x00, 0x00, 0x35, 0x00, 0x0c, 0xbc, 0x9d, 0x64, 0x61, 0x74, 0x61,
    ];
    /// `UNREACH` to 10.0.1.10, quoting 10.0.1.10:40000 -> 198.51.100.7:53.
    const UNREACH_IN: [u8; 60] = [
        0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0xf3, 0x48, 0xc6, 0x33, 0x64,
        0x07, 0x0a, 0x00, 0x01, 0x0a, 0x03, 0x03, 0x32, 0x5f, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00,
        0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0xf3, 0x54, 0x0a, 0x00, 0x01, 0x0a, 0xc6,
        0x33, 0x64, 0x07, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x0c, 0x55, 0x59, 0x64, 0x61, 0x74, 0x61,
    ];
    /// Time exceeded 10.0.1.10 -> 198.51.100.7 quoting 20 + 8 bytes of a TCP SYN+ACK
    /// 198.51.100.7:443 -> 10.0.1.10:40000 (no checksum field in the quote).
    const EXCEEDED: [u8; 56] = [
        0x45, 0x00, 0x00, 0x38, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0xf3, 0x4c, 0x0a, 0x00, 0x01,
        0x0a, 0xc6, 0x33, 0x64, 0x07, 0x0b, 0x00, 0x43, 0x7c, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00,
        0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0xf3, 0x57, 0xc6, 0x33, 0x64, 0x07, 0x0a,
        0x00, 0x01, 0x0a, 0x01, 0xbb, 0x9c, 0x40, 0x00, 0x00, 0x13, 0x88,
    ];
    /// `EXCEEDED` from 203.0.113.5, quoting 198.51.100.7:443 -> 203.0.113.5:1024.
    const EXCEEDED_NAT: [u8; 56] = [
        0x45, 0x00, 0x00, 0x38, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0xc2, 0x50, 0xcb, 0x00, 0x71,
        0x05, 0xc6, 0x33, 0x64, 0x07, 0x0b, 0x00, 0xdb, 0xbc, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00,
        0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0xc2, 0x5b, 0xc6, 0x33, 0x64, 0x07, 0xcb,
        0x00, 0x71, 0x05, 0x01, 0xbb, 0x04, 0x00, 0x00, 0x00, 0x13, 0x88,
    ];
    /// `UNREACH` whose quoted header has 4 bytes of options (IHL 6).
    const UNREACH_OPTS: [u8; 64] = [
        0x45, 0x00, 0x00, 0x40, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0xc2, 0x48, 0xc6, 0x33, 0x64,
        0x07, 0xcb, 0x00, 0x71, 0x05, 0x03, 0x03, 0x63, 0x5b, 0x00, 0x00, 0x00, 0x00, 0x46, 0x00,
        0x00, 0x24, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0xbf, 0x53, 0xcb, 0x00, 0x71, 0x05, 0xc6,
        0x33, 0x64, 0x07, 0x01, 0x01, 0x01, 0x00, 0x04, 0x00, 0x00, 0x35, 0x00, 0x0c, 0xbc, 0x9d,
        0x64, 0x61, 0x74, 0x61,
    ];
    /// `UNREACH_OPTS` to 10.0.1.10, quoting 10.0.1.10:40000.
    const UNREACH_OPTS_IN: [u8; 64] = [
        0x45, 0x00, 0x00, 0x40, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0xf3, 0x44, 0xc6, 0x33, 0x64,
        0x07, 0x0a, 0x00, 0x01, 0x0a, 0x03, 0x03, 0x32, 0x5f, 0x00, 0x00, 0x00, 0x00, 0x46, 0x00,
        0x00, 0x24, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0xf0, 0x4f, 0x0a, 0x00, 0x01, 0x0a, 0xc6,
        0x33, 0x64, 0x07, 0x01, 0x01, 0x01, 0x00, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x0c, 0x55, 0x59,
        0x64, 0x61, 0x74, 0x61,
    ];
    /// A non-first UDP fragment (offset 185 * 8) 10.0.1.10 -> 198.51.100.7, 16 bytes.
    const FRAGMENT: [u8; 36] = [
        0x45, 0x00, 0x00, 0x24, 0x12, 0x34, 0x00, 0xb9, 0x40, 0x11, 0x32, 0x98, 0x0a, 0x00, 0x01,
        0x0a, 0xc6, 0x33, 0x64, 0x07, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
        0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
    ];
    /// `FRAGMENT` from 203.0.113.5: only the IPv4 header changed.
    const FRAGMENT_NAT: [u8; 36] = [
        0x45, 0x00, 0x00, 0x24, 0x12, 0x34, 0x00, 0xb9, 0x40, 0x11, 0x01, 0x9c, 0xcb, 0x00, 0x71,
        0x05, 0xc6, 0x33, 0x64, 0x07, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
        0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
    ];

    /// The facts of the IPv4 header at the start of `pkt`.
    fn header(pkt: &[u8]) -> Ipv4Header {
        let addr = |at: usize| Ipv4Addr::new(pkt[at], pkt[at + 1], pkt[at + 2], pkt[at + 3]);
        let flags_frag = u16::from_be_bytes([pkt[6], pkt[7]]);
        Ipv4Header {
            header_len: usize::from(pkt[0] & 0x0f) * 4,
            total_len: usize::from(u16::from_be_bytes([pkt[2], pkt[3]])),
            ttl: pkt[8],
            protocol: pkt[9],
            src: addr(12),
            dst: addr(16),
            frag_offset: flags_frag & flags::OFFSET,
            more_fragments: flags_frag & flags::MF != 0,
            dont_fragment: flags_frag & flags::DF != 0,
        }
    }

    /// `pkt` after [`rewrite`].
    fn rewritten(pkt: &[u8], end: End, addr: Ipv4Addr, port: Option<u16>) -> Vec<u8> {
        let mut p = pkt.to_vec();
        rewrite(&mut p, &header(pkt), end, addr, port, false);
        p
    }

    /// `pkt` after [`rewrite_icmp_error`].
    fn error_rewritten(pkt: &[u8], end: End, addr: Ipv4Addr, port: Option<u16>) -> Vec<u8> {
        let mut p = pkt.to_vec();
        rewrite_icmp_error(&mut p, &header(pkt), end, addr, port);
        p
    }

    /// Whether the TCP or UDP checksum of the unfragmented `pkt` verifies (a UDP
    /// checksum of 0, "none", counts as verifying).
    fn transport_ok(pkt: &[u8]) -> bool {
        let ip = header(pkt);
        let seg = &pkt[ip.header_len..ip.total_len];
        if ip.protocol == PROTO_UDP && seg[6..8] == [0, 0] {
            return true;
        }
        checksum::transport_verifies(ip.src, ip.dst, ip.protocol, seg)
    }

    /// Whether every checksum of a TCP, UDP or ICMP packet verifies (for an ICMP error,
    /// the quoted IPv4 header's too, and the quoted transport checksum when the whole
    /// quoted segment is there).
    fn all_verify(pkt: &[u8]) -> bool {
        let ip = header(pkt);
        if !checksum::verifies(&pkt[..ip.header_len]) {
            return false;
        }
        if ip.frag_offset != 0 {
            return true;
        }
        if ip.protocol != PROTO_ICMP {
            return transport_ok(pkt);
        }
        let msg = &pkt[ip.header_len..ip.total_len];
        if !checksum::verifies(msg) {
            return false;
        }
        if matches!(msg[0], icmp::ECHO_REQUEST | icmp::ECHO_REPLY) {
            return true;
        }
        let quote = &msg[ICMP_QUOTE..];
        let q = header(quote);
        checksum::verifies(&quote[..q.header_len])
            && (q.total_len > quote.len() || q.protocol == PROTO_ICMP || transport_ok(quote))
    }

    #[test]
    fn tcp_source_and_port() {
        assert!(all_verify(&TCP_SYN));
        let out = rewritten(&TCP_SYN, End::Src, NAT, Some(1024));
        assert_eq!(out, TCP_SYN_NAT);
        assert!(all_verify(&out));
        // And back.
        assert_eq!(rewritten(&out, End::Src, INSIDE, Some(40000)), TCP_SYN);
    }

    #[test]
    fn address_only_leaves_the_port() {
        let out = rewritten(&TCP_SYN, End::Src, NAT, None);
        assert_eq!(out[20..22], TCP_SYN[20..22]);
        assert_eq!(out[12..16], NAT.octets());
        assert!(all_verify(&out));
    }

    #[test]
    fn udp_destination_and_port() {
        assert!(all_verify(&UDP_REPLY));
        let out = rewritten(&UDP_REPLY, End::Dst, INSIDE, Some(40000));
        assert_eq!(out, UDP_REPLY_IN);
        assert!(all_verify(&out));
    }

    #[test]
    fn udp_checksum_zero_stays_zero() {
        let out = rewritten(&UDP_NO_SUM, End::Dst, INSIDE, Some(40000));
        assert_eq!(out, UDP_NO_SUM_IN);
        assert_eq!(out[26..28], [0, 0]);
        assert!(checksum::verifies(&out[..20]));
    }

    #[test]
    fn udp_checksum_that_comes_out_zero_is_sent_as_ffff() {
        assert!(all_verify(&UDP_TO_FFFF));
        let out = rewritten(&UDP_TO_FFFF, End::Dst, INSIDE, Some(40000));
        assert_eq!(out[26..28], [0xff, 0xff]);
        assert_eq!(out, UDP_TO_FFFF_IN);
        assert!(all_verify(&out));
        // The full computation says 0: the two are the same value.
        let seg = &out[20..];
        let mut zeroed = seg.to_vec();
        zeroed[6..8].copy_from_slice(&[0, 0]);
        assert_eq!(checksum::transport(REMOTE, INSIDE, PROTO_UDP, &zeroed), 0);
        // And back: the original checksum again.
        assert_eq!(rewritten(&out, End::Dst, NAT, Some(1024)), UDP_TO_FFFF);
    }

    #[test]
    fn echo_identifier() {
        assert!(all_verify(&ECHO));
        let out = rewritten(&ECHO, End::Src, NAT, Some(1024));
        assert_eq!(out, ECHO_NAT);
        assert!(all_verify(&out));
        // The reply's way back: destination and identifier.
        let mut reply = ECHO_NAT;
        reply[12..16].copy_from_slice(&REMOTE.octets());
        reply[16..20].copy_from_slice(&NAT.octets());
        reply[20] = icmp::ECHO_REPLY;
        fix_all(&mut reply);
        let back = rewritten(&reply, End::Dst, INSIDE, Some(1));
        assert_eq!(back[16..20], INSIDE.octets());
        assert_eq!(back[24..26], [0, 1]);
        assert!(all_verify(&back));
    }

    #[test]
    fn other_icmp_keeps_its_identifier_field() {
        // A timestamp request (13): address only, even with a port.
        let mut ts = ECHO;
        ts[20] = 13;
        fix_all(&mut ts);
        let out = rewritten(&ts, End::Src, NAT, Some(1024));
        assert_eq!(out[20..], ts[20..]);
        assert_eq!(out[12..16], NAT.octets());
        assert!(checksum::verifies(&out[..20]));
    }

    #[test]
    fn other_protocols_change_the_ip_header_only() {
        let mut gre = TCP_SYN;
        gre[9] = 47;
        fix_all(&mut gre);
        let out = rewritten(&gre, End::Src, NAT, Some(1024));
        assert_eq!(out[20..], gre[20..]);
        assert_eq!(out[12..16], NAT.octets());
        assert!(checksum::verifies(&out[..20]));
    }

    #[test]
    fn icmp_error_to_the_inside_quoting_udp() {
        assert!(all_verify(&UNREACH));
        let out = error_rewritten(&UNREACH, End::Dst, INSIDE, Some(40000));
        assert_eq!(out, UNREACH_IN);
        assert!(all_verify(&out));
        // The quoted UDP checksum is valid for the quoted datagram.
        let quote = &out[28..];
        assert!(checksum::transport_verifies(
            INSIDE,
            REMOTE,
            PROTO_UDP,
            &quote[20..]
        ));
        assert_eq!(error_rewritten(&out, End::Dst, NAT, Some(1024)), UNREACH);
    }

    #[test]
    fn icmp_error_from_the_inside_quoting_tcp_without_its_checksum() {
        assert!(all_verify(&EXCEEDED));
        let out = error_rewritten(&EXCEEDED, End::Src, NAT, Some(1024));
        assert_eq!(out, EXCEEDED_NAT);
        assert!(all_verify(&out));
        assert_eq!(out.len(), 20 + 8 + 20 + 8);
    }

    #[test]
    fn icmp_error_quoting_a_header_with_options() {
        assert!(all_verify(&UNREACH_OPTS));
        let out = error_rewritten(&UNREACH_OPTS, End::Dst, INSIDE, Some(40000));
        assert_eq!(out, UNREACH_OPTS_IN);
        assert!(all_verify(&out));
    }

    #[test]
    fn icmp_error_quoting_an_echo_request() {
        // 198.51.100.7 says the echo request 203.0.113.5 (id 1024) sent timed out.
        let quoted = &ECHO_NAT;
        let err = error_packet(REMOTE, NAT, 11, quoted);
        let out = error_rewritten(&err, End::Dst, INSIDE, Some(1));
        assert_eq!(out[16..20], INSIDE.octets());
        assert_eq!(out[28..], error_packet(REMOTE, INSIDE, 11, &ECHO)[28..]);
        assert!(all_verify(&out));
        assert!(checksum::verifies(&out[48..]));
    }

    #[test]
    fn non_first_fragment_changes_the_ip_header_only() {
        assert!(checksum::verifies(&FRAGMENT[..20]));
        let out = rewritten(&FRAGMENT, End::Src, NAT, Some(1024));
        assert_eq!(out, FRAGMENT_NAT);
        assert!(checksum::verifies(&out[..20]));
    }

    #[test]
    fn first_fragment_checksum_covers_the_whole_datagram() {
        // A 40-byte UDP datagram in two fragments: 24 bytes (header + 16), then 16.
        let payload: Vec<u8> = (0u8..32).collect();
        let whole = udp_packet(INSIDE, 40000, REMOTE, 53, &payload, false);
        let seg = &whole[20..];
        let mut first = ipv4_packet(INSIDE, REMOTE, PROTO_UDP, &seg[..24]);
        first[6] |= 0x20; // more fragments
        first[10..12].copy_from_slice(&[0, 0]);
        let c = checksum::internet(&first[..20]);
        first[10..12].copy_from_slice(&c.to_be_bytes());
        let rest = &seg[24..];
        let out = rewritten(&first, End::Src, NAT, Some(1024));
        assert!(checksum::verifies(&out[..20]));
        let mut reassembled = out[20..].to_vec();
        reassembled.extend_from_slice(rest);
        assert!(checksum::transport_verifies(
            NAT,
            REMOTE,
            PROTO_UDP,
            &reassembled
        ));
    }

    #[test]
    fn truncated_transport_headers_do_not_panic() {
        // Every prefix of every sample, with the length fields as they were (the
        // pipeline never passes these; the rewrite must still stay in bounds).
        let samples: [&[u8]; 8] = [
            &TCP_SYN,
            &UDP_REPLY,
            &UDP_NO_SUM,
            &ECHO,
            &UNREACH,
            &EXCEEDED,
            &UNREACH_OPTS,
            &FRAGMENT,
        ];
        for s in samples {
            let ip = header(s);
            for n in 0..=s.len() {
                for end in [End::Src, End::Dst] {
                    let mut p = s[..n].to_vec();
                    rewrite(&mut p, &ip, end, NAT, Some(7), false);
                    let mut p = s[..n].to_vec();
                    rewrite_icmp_error(&mut p, &ip, end, NAT, Some(7));
                }
            }
        }
        // A TCP segment cut before its checksum field: the port changes, nothing else
        // past the IP header.
        let cut = &TCP_SYN[..30];
        let mut p = cut.to_vec();
        rewrite(&mut p, &header(&TCP_SYN), End::Src, NAT, Some(1024), false);
        assert_eq!(p[20..22], [0x04, 0x00]);
        assert_eq!(p[22..], cut[22..]);
    }

    /// Recomputes the IPv4 header checksum and the ICMP, TCP or UDP checksum of the
    /// unfragmented `pkt` from scratch (a UDP checksum of 0 stays 0).
    fn fix_all(pkt: &mut [u8]) {
        let ip = header(pkt);
        pkt[10..12].copy_from_slice(&[0, 0]);
        let c = checksum::internet(&pkt[..ip.header_len]);
        pkt[10..12].copy_from_slice(&c.to_be_bytes());
        let seg = &mut pkt[ip.header_len..ip.total_len];
        let at = match ip.protocol {
            PROTO_TCP => TCP_CHECKSUM,
            PROTO_UDP if seg[6..8] == [0, 0] => return,
            PROTO_UDP => UDP_CHECKSUM,
            PROTO_ICMP => ICMP_CHECKSUM,
            _ => return,
        };
        seg[at..at + 2].copy_from_slice(&[0, 0]);
        let c = if ip.protocol == PROTO_ICMP {
            checksum::internet(seg)
        } else {
            checksum::transport(ip.src, ip.dst, ip.protocol, seg)
        };
        let c = if c == 0 && ip.protocol == PROTO_UDP {
            0xffff
        } else {
            c
        };
        seg[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }

    /// A 20-byte-header IPv4 packet (TTL 64, DF) with a valid header checksum.
    fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload: &[u8]) -> Vec<u8> {
        crate::testkit::ipv4(src.octets(), dst.octets(), 64, proto, payload)
    }

    /// A UDP datagram with `payload` and a valid checksum (0 if `no_sum`).
    fn udp_packet(
        src: Ipv4Addr,
        sport: u16,
        dst: Ipv4Addr,
        dport: u16,
        payload: &[u8],
        no_sum: bool,
    ) -> Vec<u8> {
        let mut u = vec![0u8; 8];
        u[0..2].copy_from_slice(&sport.to_be_bytes());
        u[2..4].copy_from_slice(&dport.to_be_bytes());
        u[4..6].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        u.extend_from_slice(payload);
        if !no_sum {
            let c = checksum::transport(src, dst, PROTO_UDP, &u);
            let c = if c == 0 { 0xffff } else { c };
            u[6..8].copy_from_slice(&c.to_be_bytes());
        }
        ipv4_packet(src, dst, PROTO_UDP, &u)
    }

    /// A TCP segment (ACK+PSH) with `payload` and a valid checksum.
    fn tcp_packet(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut t = vec![0u8; 20];
        t[0..2].copy_from_slice(&sport.to_be_bytes());
        t[2..4].copy_from_slice(&dport.to_be_bytes());
        t[4..8].copy_from_slice(&0x0102_0304u32.to_be_bytes());
        t[12] = 5 << 4;
        t[13] = 0x18;
        t[14..16].copy_from_slice(&502u16.to_be_bytes());
        t.extend_from_slice(payload);
        let c = checksum::transport(src, dst, PROTO_TCP, &t);
        t[16..18].copy_from_slice(&c.to_be_bytes());
        ipv4_packet(src, dst, PROTO_TCP, &t)
    }

    /// An echo request or reply with identifier `id` and `payload`.
    fn echo_packet(
        src: Ipv4Addr,
        dst: Ipv4Addr,
        request: bool,
        id: u16,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut m = vec![if request { 8 } else { 0 }, 0, 0, 0, 0, 0, 0, 1];
        m[4..6].copy_from_slice(&id.to_be_bytes());
        m.extend_from_slice(payload);
        let c = checksum::internet(&m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
        ipv4_packet(src, dst, PROTO_ICMP, &m)
    }

    /// An ICMP error of `icmp_type` (code 0) from `src` to `dst` quoting `quoted`.
    fn error_packet(src: Ipv4Addr, dst: Ipv4Addr, icmp_type: u8, quoted: &[u8]) -> Vec<u8> {
        let mut m = vec![icmp_type, 0, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(quoted);
        let c = checksum::internet(&m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
        ipv4_packet(src, dst, PROTO_ICMP, &m)
    }

    /// A random TCP, UDP (sometimes without checksum) or echo packet.
    fn any_packet() -> impl Strategy<Value = Vec<u8>> {
        (
            0u8..4,
            any::<u32>(),
            any::<u16>(),
            any::<u32>(),
            any::<u16>(),
            proptest::collection::vec(any::<u8>(), 0..64),
        )
            .prop_map(|(kind, src, sp, dst, dp, payload)| {
                let (src, dst) = (Ipv4Addr::from(src), Ipv4Addr::from(dst));
                match kind {
                    0 => tcp_packet(src, sp, dst, dp, &payload),
                    1 => udp_packet(src, sp, dst, dp, &payload, false),
                    2 => udp_packet(src, sp, dst, dp, &payload, true),
                    _ => echo_packet(src, dst, sp % 2 == 0, dp, &payload),
                }
            })
    }

    /// The byte ranges [`rewrite`] may change for `end` in the unfragmented `pkt`: the
    /// IPv4 checksum and address, the port (identifier) and the transport checksum.
    fn rewritable(pkt: &[u8], end: End) -> Vec<std::ops::Range<usize>> {
        let ip = header(pkt);
        let h = ip.header_len;
        let mut r = vec![10..12, end.addr_at()..end.addr_at() + 4];
        match ip.protocol {
            PROTO_TCP => r.extend([h + end.port_at()..h + end.port_at() + 2, h + 16..h + 18]),
            PROTO_UDP => r.extend([h + end.port_at()..h + end.port_at() + 2, h + 6..h + 8]),
            _ => r.extend([h + 4..h + 6, h + 2..h + 4]),
        }
        r
    }

    proptest! {
        /// After a rewrite every checksum verifies, the rewritten fields hold the new
        /// values, no other byte changed, and rewriting back restores the packet.
        #[test]
        fn rewrite_keeps_checksums_and_reverses(
            pkt in any_packet(),
            src_end in any::<bool>(),
            addr in any::<u32>(),
            port in any::<u16>(),
            with_port in any::<bool>(),
        ) {
            let end = if src_end { End::Src } else { End::Dst };
            let addr = Ipv4Addr::from(addr);
            let port = with_port.then_some(port);
            let ip = header(&pkt);
            let out = rewritten(&pkt, end, addr, port);
            prop_assert!(all_verify(&out));
            prop_assert_eq!(&out[end.addr_at()..end.addr_at() + 4], &addr.octets());
            if let Some(p) = port {
                let at = ip.header_len + if ip.protocol == PROTO_ICMP { ICMP_ID } else { end.port_at() };
                prop_assert_eq!(&out[at..at + 2], &p.to_be_bytes());
            }
            let fields = rewritable(&pkt, end);
            for (i, (a, b)) in pkt.iter().zip(&out).enumerate() {
                if !fields.iter().any(|r| r.contains(&i)) {
                    prop_assert_eq!(a, b, "byte {}", i);
                }
            }
            if ip.protocol == PROTO_UDP && pkt[26..28] == [0, 0] {
                prop_assert_eq!(&out[26..28], &[0, 0]);
            }
            let (old_addr, old_port) = match end {
                End::Src => (ip.src, u16::from_be_bytes([pkt[20], pkt[21]])),
                End::Dst => (ip.dst, u16::from_be_bytes([pkt[22], pkt[23]])),
            };
            let old_port = if ip.protocol == PROTO_ICMP {
                u16::from_be_bytes([pkt[24], pkt[25]])
            } else {
                old_port
            };
            let back = rewritten(&out, end, old_addr, port.map(|_| old_port));
            prop_assert_eq!(back, pkt);
        }

        /// An ICMP error quoting a random packet cut at a random length (at least its
        /// IPv4 header and 8 bytes): after the rewrite the outer IPv4, ICMP and quoted
        /// IPv4 checksums verify, and so does the quoted transport checksum when the
        /// whole quoted packet is there; rewriting back restores the packet.
        #[test]
        fn icmp_error_rewrite_keeps_checksums_and_reverses(
            quoted in any_packet(),
            cut in any::<prop::sample::Index>(),
            to_inside in any::<bool>(),
            addr in any::<u32>(),
            port in any::<u16>(),
            with_port in any::<bool>(),
        ) {
            let len = 28 + cut.index(quoted.len() - 28 + 1);
            let q = &quoted[..len];
            let qip = header(q);
            let (end, src, dst) = if to_inside {
                (End::Dst, qip.dst, qip.src)
            } else {
                (End::Src, qip.dst, qip.src)
            };
            let err = error_packet(src, dst, 3, q);
            let addr = Ipv4Addr::from(addr);
            let port = with_port.then_some(port);
            let out = error_rewritten(&err, end, addr, port);
            prop_assert!(all_verify(&out));
            let quote = &out[28..];
            let quoted_end = end.opposite();
            prop_assert_eq!(&out[end.addr_at()..end.addr_at() + 4], &addr.octets());
            prop_assert_eq!(&quote[quoted_end.addr_at()..quoted_end.addr_at() + 4], &addr.octets());
            if len == quoted.len() && qip.protocol == PROTO_ICMP {
                prop_assert!(checksum::verifies(&quote[20..]));
            }
            let old_addr = match end {
                End::Src => src,
                End::Dst => dst,
            };
            let old_port = match (qip.protocol, quoted_end) {
                (PROTO_ICMP, _) => u16::from_be_bytes([q[24], q[25]]),
                (_, End::Src) => u16::from_be_bytes([q[20], q[21]]),
                (_, End::Dst) => u16::from_be_bytes([q[22], q[23]]),
            };
            let back = error_rewritten(&out, end, old_addr, port.map(|_| old_port));
            prop_assert_eq!(back, err);
        }
    }
}
