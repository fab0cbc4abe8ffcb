//! Stage 4, `router`: packets addressed to the VPC router itself (a subnet's base+1).
//! It answers ICMP echo requests, turning the request into the reply in place, and
//! drops everything else. The VPC router is one router with an address in every subnet,
//! so any subnet router address of the sender's VPC answers (documented in
//! docs/architecture.md).

use crate::packet::PacketBuf;
use crate::verdict::DropReason;
use crate::wire::ipv4::{self, Ipv4Header, NewHeader};
use crate::wire::{checksum, icmp};

/// Rewrites the echo request in `pkt` into the router's echo reply, or says why not.
pub(crate) fn answer(pkt: &mut PacketBuf, ip: &Ipv4Header, ident: u16) -> Result<(), DropReason> {
    if ip.protocol != ipv4::PROTO_ICMP || ip.is_fragment() {
        return Err(DropReason::RouterUnsupported);
    }
    let message = &pkt.as_bytes()[ip.header_len..ip.total_len];
    if message.len() < icmp::HEADER_LEN || !checksum::verifies(message) {
        return Err(DropReason::BadIcmp);
    }
    if message[0] != icmp::ECHO_REQUEST || message[1] != 0 {
        return Err(DropReason::RouterUnsupported);
    }
    let len = message.len();
    let bytes = pkt.as_bytes_mut();
    // Drop any options: the reply has a plain 20-byte header.
    bytes.copy_within(ip.header_len..ip.total_len, ipv4::MIN_HEADER_LEN);
    let msg = &mut bytes[ipv4::MIN_HEADER_LEN..ipv4::MIN_HEADER_LEN + len];
    let old = u16::from_be_bytes([msg[0], msg[1]]);
    msg[0] = icmp::ECHO_REPLY;
    let new = u16::from_be_bytes([msg[0], msg[1]]);
    let c = checksum::update(u16::from_be_bytes([msg[2], msg[3]]), old, new);
    msg[2..4].copy_from_slice(&c.to_be_bytes());
    let total_len = ipv4::MIN_HEADER_LEN + len;
    let header = NewHeader {
        total_len: total_len as u16,
        ident,
        protocol: ipv4::PROTO_ICMP,
        src: ip.dst,
        dst: ip.src,
    };
    ipv4::write_header(bytes, header);
    pkt.set_len(total_len);
    Ok(())
}
