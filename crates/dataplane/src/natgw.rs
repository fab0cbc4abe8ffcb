//! The NAT gateway stage's packet rules (AWS: vpc-nat-gateway,
//! nat-gateway-troubleshooting), around the translation table in `nat`:
//!
//! - only TCP, UDP and ICMP (echo by identifier, and errors quoting a translated flow)
//!   are translated; any other protocol is dropped (`nat-unsupported-protocol`);
//! - UDP fragments are translated, TCP and ICMP fragments are dropped (`nat-fragment`);
//! - a TCP segment from inside with no translation (its 350 s idle timeout passed) is
//!   answered with a RST, not a FIN, as AWS documents; but a RST is never answered
//!   with a RST (RFC 793 "Reset Generation"), it is only dropped.
//!
//! The internet's MTU, which the internet gateway enforces, is here too.

use crate::l4::{Facts, L4, PROTO_TCP, PROTO_UDP, TcpFacts, tcp_flags};
use crate::nat::TcpFlags;
use crate::packet::PacketBuf;
use crate::verdict::DropReason;
use crate::wire::checksum;
use crate::wire::ipv4::{self, Ipv4Header, NewHeader};

/// The MTU through an internet gateway (AWS: 1500 bytes to the internet).
pub(crate) const INTERNET_MTU: usize = 1500;

/// Length of the RST the gateway sends: IPv4 and TCP headers without options.
const RST_LEN: usize = ipv4::MIN_HEADER_LEN + 20;

/// Whether a NAT gateway translates this packet at all.
pub(crate) fn supported(ip: &Ipv4Header, f: &Facts) -> Result<(), DropReason> {
    match f.l4 {
        L4::Tcp(_) | L4::Udp | L4::IcmpEcho { .. } | L4::IcmpError { .. } => {}
        L4::IcmpOther { .. } | L4::Other => return Err(DropReason::NatUnsupportedProtocol),
    }
    if ip.is_fragment() && ip.protocol != PROTO_UDP {
        return Err(DropReason::NatFragment);
    }
    Ok(())
}

/// The TCP flags the table needs.
pub(crate) fn tcp_flags(f: &Facts) -> TcpFlags {
    match f.l4 {
        L4::Tcp(t) => Some(t.flags),
        _ => None,
    }
}

/// Whether a TCP segment with no translation is answered with a RST: any but a RST
/// (RFC 793: "If the incoming segment has the RST bit set, it is discarded").
pub(crate) fn deserves_reset(tcp: &TcpFacts) -> bool {
    tcp.flags & tcp_flags::RST == 0
}

/// Replaces the TCP segment in `pkt` (whose header is `ip`, facts `f`) with the RST
/// that answers it (RFC 793 "Reset Generation": to a segment with ACK, a RST with its
/// acknowledgement number as sequence number; otherwise a RST+ACK acknowledging it),
/// from the segment's destination to its source.
pub(crate) fn reset(pkt: &mut PacketBuf, ip: &Ipv4Header, f: &Facts, tcp: &TcpFacts, ident: u16) {
    let (seq, ack, flags) = if tcp.flags & tcp_flags::ACK != 0 {
        (tcp.ack, 0, tcp_flags::RST)
    } else {
        let syn_fin = u32::from(tcp.flags & (tcp_flags::SYN | tcp_flags::FIN) != 0);
        let ack = tcp.seq.wrapping_add(tcp.payload_len).wrapping_add(syn_fin);
        (0, ack, tcp_flags::RST | tcp_flags::ACK)
    };
    let buf = pkt.buffer_mut();
    ipv4::write_header(
        buf,
        NewHeader {
            total_len: RST_LEN as u16,
            ident,
            protocol: PROTO_TCP,
            src: ip.dst,
            dst: ip.src,
        },
    );
    let seg = &mut buf[ipv4::MIN_HEADER_LEN..RST_LEN];
    seg.fill(0);
    seg[0..2].copy_from_slice(&f.tuple.dst_port.to_be_bytes());
    seg[2..4].copy_from_slice(&f.tuple.src_port.to_be_bytes());
    seg[4..8].copy_from_slice(&seq.to_be_bytes());
    seg[8..12].copy_from_slice(&ack.to_be_bytes());
    seg[12] = 5 << 4;
    seg[13] = flags;
    let c = checksum::transport(ip.dst, ip.src, PROTO_TCP, seg);
    seg[16..18].copy_from_slice(&c.to_be_bytes());
    pkt.set_len(RST_LEN);
}
