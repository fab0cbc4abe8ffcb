//! The Amazon Time Sync Service at 169.254.169.123 (`addressing::TIME_SYNC`): an NTP
//! request (UDP port 123, client mode) from any ENI is answered by the VPC itself, as
//! AWS answers it: without a route, in every VPC, never filtered by security groups or
//! network ACLs, never in flow logs. The answer is built in place from the request and
//! the wall-clock time the caller passes in (the host's clock: vpcd adds the daemon's
//! start time to the pipeline's clock), so the pipeline still reads no clock. Other
//! packets to the address are dropped (`link-local-service`), malformed requests too
//! (`time-request-malformed`).
//!
//! Choices where AWS is silent (docs/architecture.md): stratum 3, reference ID the
//! service's own address, precision 2^-20 s, root delay 0 and root dispersion about
//! 0.25 ms, the request's version and poll interval echoed (version 0 answered as 4).

use crate::l4::PROTO_UDP;
use crate::packet::PacketBuf;
use crate::verdict::DropReason;
use crate::wire::checksum;
use crate::wire::ipv4::{self, Ipv4Header, NewHeader};
use crate::wire::ntp::{self, field};

/// UDP header length.
const UDP_LEN: usize = 8;
/// The stratum the service announces.
pub(crate) const STRATUM: u8 = 3;
/// Its precision, log2 seconds (about a microsecond).
const PRECISION: i8 = -20;
/// Its root dispersion, NTP short format (16/65536 s).
const ROOT_DISPERSION: u32 = 16;

/// Rewrites the NTP request in `pkt` into the service's reply at `unix_nanos`
/// nanoseconds after the Unix epoch, or says why not.
pub(crate) fn answer(
    pkt: &mut PacketBuf,
    ip: &Ipv4Header,
    unix_nanos: u64,
    ident: u16,
) -> Result<(), DropReason> {
    if ip.protocol != PROTO_UDP || ip.is_fragment() {
        return Err(DropReason::LinkLocalService);
    }
    let segment = &pkt.as_bytes()[ip.header_len..ip.total_len];
    if segment.len() < UDP_LEN {
        return Err(DropReason::TimeRequestMalformed);
    }
    if u16::from_be_bytes([segment[2], segment[3]]) != ntp::PORT {
        return Err(DropReason::LinkLocalService);
    }
    let udp_len = usize::from(u16::from_be_bytes([segment[4], segment[5]]));
    if udp_len < UDP_LEN + ntp::HEADER_LEN || udp_len > segment.len() {
        return Err(DropReason::TimeRequestMalformed);
    }
    let request = &segment[UDP_LEN..UDP_LEN + ntp::HEADER_LEN];
    if ntp::mode(request) != ntp::MODE_CLIENT {
        return Err(DropReason::TimeRequestMalformed);
    }
    let client_port = [segment[0], segment[1]];
    let version = match ntp::version(request) {
        0 => 4,
        v => v,
    };
    let poll = request[field::POLL];
    let mut origin = [0u8; 8];
    origin.copy_from_slice(&request[field::TRANSMIT_TS..field::TRANSMIT_TS + 8]);

    let now = ntp::timestamp(unix_nanos);
    let mut reply = [0u8; ntp::HEADER_LEN];
    reply[field::LI_VN_MODE] = version << 3 | ntp::MODE_SERVER;
    reply[field::STRATUM] = STRATUM;
    reply[field::POLL] = poll;
    reply[field::PRECISION] = PRECISION as u8;
    reply[field::ROOT_DISPERSION..field::ROOT_DISPERSION + 4]
        .copy_from_slice(&ROOT_DISPERSION.to_be_bytes());
    reply[field::REFERENCE_ID..field::REFERENCE_ID + 4].copy_from_slice(&ip.dst.octets());
    // Last set: the start of this second.
    reply[field::REFERENCE_TS..field::REFERENCE_TS + 4].copy_from_slice(&now[..4]);
    reply[field::ORIGIN_TS..field::ORIGIN_TS + 8].copy_from_slice(&origin);
    reply[field::RECEIVE_TS..field::RECEIVE_TS + 8].copy_from_slice(&now);
    reply[field::TRANSMIT_TS..field::TRANSMIT_TS + 8].copy_from_slice(&now);

    let total_len = ipv4::MIN_HEADER_LEN + UDP_LEN + ntp::HEADER_LEN;
    pkt.set_len(total_len);
    let bytes = pkt.as_bytes_mut();
    let udp = &mut bytes[ipv4::MIN_HEADER_LEN..total_len];
    udp[0..2].copy_from_slice(&ntp::PORT.to_be_bytes());
    udp[2..4].copy_from_slice(&client_port);
    udp[4..6].copy_from_slice(&((UDP_LEN + ntp::HEADER_LEN) as u16).to_be_bytes());
    udp[6..8].copy_from_slice(&[0, 0]);
    udp[UDP_LEN..].copy_from_slice(&reply);
    let c = match checksum::transport(ip.dst, ip.src, PROTO_UDP, udp) {
        0 => 0xffff,
        c => c,
    };
    udp[6..8].copy_from_slice(&c.to_be_bytes());
    ipv4::write_header(
        bytes,
        NewHeader {
            total_len: total_len as u16,
            ident,
            protocol: PROTO_UDP,
            src: ip.dst,
            dst: ip.src,
        },
    );
    Ok(())
}
