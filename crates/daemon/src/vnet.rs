//! The virtio-net header (Linux `struct virtio_net_hdr`, 10 bytes, native byte order)
//! that precedes every packet on a TUN device opened with `IFF_VNET_HDR`, to and from
//! the dataplane's checked [`Offload`] metadata. Reading: the sender's kernel says
//! whether the transport checksum is partial and whether the packet is a superpacket
//! (TSO/USO); the dataplane checks that against the packet. Writing: the same metadata
//! goes out with the forwarded packet, so the receiving kernel completes the checksum
//! and treats the superpacket as its segments; a packet the dataplane built itself goes
//! out with an all-zero header (checksums complete, one packet).

use vpc_dataplane::{Csum, Gso, Offload};

/// Bytes of the header.
pub const LEN: usize = 10;

/// `flags`: the checksum at `csum_start + csum_offset` is partial.
const F_NEEDS_CSUM: u8 = 1;
/// `flags`: the checksum is known to be valid.
const F_DATA_VALID: u8 = 2;
/// `gso_type`: none.
const GSO_NONE: u8 = 0;
/// `gso_type`: IPv4 TCP segmentation.
const GSO_TCPV4: u8 = 1;
/// `gso_type`: UDP segmentation (USO, IPv4 or IPv6).
const GSO_UDP_L4: u8 = 5;
/// `gso_type` bit: ECN.
const GSO_ECN: u8 = 0x80;
/// A UDP header's length.
const UDP_HEADER: u16 = 8;

fn u16_at(h: &[u8; LEN], at: usize) -> u16 {
    u16::from_ne_bytes([h[at], h[at + 1]])
}

/// The metadata a header read from a TUN device carries.
pub fn decode(h: &[u8; LEN]) -> Offload {
    let (flags, gso_type) = (h[0], h[1]);
    let gso_size = u16_at(h, 4);
    let csum = if flags & F_NEEDS_CSUM != 0 {
        Csum::Partial {
            start: u16_at(h, 6),
            offset: u16_at(h, 8),
        }
    } else if flags & F_DATA_VALID != 0 {
        Csum::Valid
    } else {
        Csum::Complete
    };
    let gso = match gso_type & !GSO_ECN {
        GSO_NONE => Gso::None,
        GSO_TCPV4 => Gso::Tcp {
            mss: gso_size,
            ecn: gso_type & GSO_ECN != 0,
        },
        GSO_UDP_L4 => Gso::Udp { size: gso_size },
        other => Gso::Other(other),
    };
    Offload { csum, gso }
}

/// The header to write before packet `pkt` (an IPv4 packet whose metadata the
/// dataplane checked) with metadata `o`.
pub fn encode(o: Offload, pkt: &[u8]) -> [u8; LEN] {
    let mut h = [0u8; LEN];
    if o == Offload::default() {
        return h;
    }
    let (flags, start, offset) = match o.csum {
        Csum::Partial { start, offset } => (F_NEEDS_CSUM, start, offset),
        Csum::Valid => (F_DATA_VALID, 0, 0),
        Csum::Complete => (0, 0, 0),
    };
    let ip_header = pkt.first().map_or(0, |b| u16::from(b & 0x0f) * 4);
    let (gso_type, gso_size, hdr_len) = match o.gso {
        Gso::None | Gso::Other(_) => (GSO_NONE, 0, 0),
        Gso::Tcp { mss, ecn } => {
            let tcp = pkt
                .get(usize::from(ip_header) + 12)
                .map_or(0, |b| u16::from(b >> 4) * 4);
            let t = if ecn { GSO_TCPV4 | GSO_ECN } else { GSO_TCPV4 };
            (t, mss, ip_header + tcp)
        }
        Gso::Udp { size } => (GSO_UDP_L4, size, ip_header + UDP_HEADER),
    };
    h[0] = flags;
    h[1] = gso_type;
    h[2..4].copy_from_slice(&hdr_len.to_ne_bytes());
    h[4..6].copy_from_slice(&gso_size.to_ne_bytes());
    h[6..8].copy_from_slice(&start.to_ne_bytes());
    h[8..10].copy_from_slice(&offset.to_ne_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header Linux writes for a 3-segment TSO superpacket with a partial checksum
    /// (flags NEEDS_CSUM, TCPV4, hdr_len 52, gso_size 1448, csum 20+16), x86 order.
    const TSO: [u8; LEN] = [1, 1, 52, 0, 0xa8, 0x05, 20, 0, 16, 0];

    #[test]
    fn a_tso_header_round_trips() {
        let o = decode(&TSO);
        assert_eq!(
            o,
            Offload {
                csum: Csum::Partial {
                    start: 20,
                    offset: 16
                },
                gso: Gso::Tcp {
                    mss: 1448,
                    ecn: false
                },
            }
        );
        // A packet with a 20-byte IPv4 header and a 32-byte TCP header (data offset 8).
        let mut pkt = vec![0u8; 100];
        pkt[0] = 0x45;
        pkt[32] = 8 << 4;
        assert_eq!(encode(o, &pkt), TSO);
    }

    #[test]
    fn plain_valid_udp_and_unknown_headers() {
        assert_eq!(decode(&[0; LEN]), Offload::default());
        assert_eq!(encode(Offload::default(), &[0x45]), [0; LEN]);
        assert_eq!(decode(&[2, 0, 0, 0, 0, 0, 0, 0, 0, 0]).csum, Csum::Valid);
        let uso = [1, 5, 28, 0, 64, 0, 20, 0, 6, 0];
        let o = decode(&uso);
        assert_eq!(o.gso, Gso::Udp { size: 64 });
        assert_eq!(encode(o, &[0x45]), uso);
        // TCPV6 with ECN: kept as another type; written as no segmentation.
        let v6 = decode(&[1, 0x84, 0, 0, 0, 1, 20, 0, 16, 0]);
        assert_eq!(v6.gso, Gso::Other(4));
        assert_eq!(encode(v6, &[0x45])[1], GSO_NONE);
    }
}
