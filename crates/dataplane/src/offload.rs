//! Stage `offload`: checks a packet's offload metadata (what the sender's kernel wrote
//! in the virtio-net header when the daemon read the packet from a TUN device) against
//! the packet, so every later stage can rely on it: a partial checksum must sit at the
//! TCP or UDP checksum field right after the IPv4 header, and a superpacket must be an
//! unfragmented TCP (or UDP) packet with a partial checksum and a non-zero segment size.
//! Anything else is dropped as `bad-offload`. Nothing here is AWS behaviour: AWS never
//! shows superpackets; the pipeline judges a superpacket once, as the segments it stands
//! for would each be judged (same headers), and counts every segment (`docs/offloads.md`).

use crate::l4::{PROTO_TCP, PROTO_UDP};
use crate::packet::{Csum, Gso, Offload};
use crate::verdict::DropReason;
use crate::wire::checksum;
use crate::wire::ipv4::Ipv4Header;

/// Offset of the checksum in a TCP header.
const TCP_CHECKSUM: u16 = 16;
/// Offset of the checksum in a UDP header.
const UDP_CHECKSUM: u16 = 6;
/// A UDP header's length.
const UDP_HEADER: usize = 8;

/// What a checked packet's offload metadata says, in the pipeline's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    /// The transport checksum holds only the pseudo-header sum.
    pub partial: bool,
    /// Segmentation.
    pub gso: Gso,
    /// Bytes of headers (IP and transport) each segment carries (small, so that the
    /// shape fits in registers).
    pub headers: u16,
}

impl Shape {
    /// A plain packet.
    pub const PLAIN: Shape = Shape {
        partial: false,
        gso: Gso::None,
        headers: 0,
    };

    /// The packets and bytes a packet of `len` bytes stands for on the wire.
    #[inline]
    pub fn wire(&self, len: usize) -> (u64, u64) {
        self.gso.wire(len, usize::from(self.headers))
    }

    /// The largest packet on the wire a packet of `len` bytes stands for.
    pub fn segment_len(&self, len: usize) -> usize {
        self.gso.segment_len(len, usize::from(self.headers))
    }
}

/// Completes the partial transport checksum of `pkt` (checked by [`check`]): the field
/// at `start + offset` holds the pseudo-header sum, so the checksum is the complement of
/// the sum of every byte from `start`, that field included. A UDP checksum that comes
/// out 0 is sent as 0xffff (RFC 768: 0 means "no checksum").
pub(crate) fn complete_checksum(pkt: &mut [u8], start: u16, offset: u16) {
    let (start, at) = (usize::from(start), usize::from(start) + usize::from(offset));
    let Some(segment) = pkt.get(start..) else {
        return;
    };
    let mut c = checksum::internet(segment);
    if c == 0 && offset == UDP_CHECKSUM {
        c = 0xffff;
    }
    if let Some(field) = pkt.get_mut(at..at + 2) {
        field.copy_from_slice(&c.to_be_bytes());
    }
}

/// Checks `o` against the packet `pkt` whose IPv4 header `ip` passed sanity.
#[inline]
pub(crate) fn check(o: Offload, pkt: &[u8], ip: &Ipv4Header) -> Result<Shape, DropReason> {
    if o == Offload::default() || (o.csum == Csum::Valid && o.gso == Gso::None) {
        return Ok(Shape::PLAIN);
    }
    let fragment = ip.is_fragment();
    let field = match ip.protocol {
        PROTO_TCP => TCP_CHECKSUM,
        PROTO_UDP => UDP_CHECKSUM,
        _ => return Err(DropReason::BadOffload),
    };
    if fragment {
        return Err(DropReason::BadOffload);
    }
    let partial = match o.csum {
        Csum::Partial { start, offset } => {
            let at = usize::from(start) + usize::from(offset);
            if usize::from(start) != ip.header_len || offset != field || at + 2 > ip.total_len {
                return Err(DropReason::BadOffload);
            }
            true
        }
        Csum::Complete | Csum::Valid => false,
    };
    let transport = match (o.gso, ip.protocol) {
        (Gso::None, _) => 0,
        (_, _) if !partial => return Err(DropReason::BadOffload),
        (Gso::Tcp { mss, .. }, PROTO_TCP) if mss > 0 => {
            let offset = pkt.get(ip.header_len + 12).ok_or(DropReason::BadOffload)?;
            usize::from(offset >> 4) * 4
        }
        (Gso::Udp { size }, PROTO_UDP) if size > 0 => UDP_HEADER,
        _ => return Err(DropReason::BadOffload),
    };
    Ok(Shape {
        partial,
        gso: o.gso,
        // At most 60 + 60 bytes.
        headers: (ip.header_len + transport) as u16,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv4::Ipv4Header;

    /// A TCP SYN-ACK-less data segment 10.0.2.10:40000 -> 203.0.113.10:5201, 20-byte
    /// headers, 3000 bytes of payload (a superpacket of three 1000-byte segments).
    fn tcp_super() -> Vec<u8> {
        let mut p = vec![
            0x45, 0x00, 0x0b, 0xe0, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, // IPv4
            10, 0, 2, 10, 203, 0, 113, 10, // addresses
            0x9c, 0x40, 0x14, 0x51, 0, 0, 0, 1, 0, 0, 0, 1, // ports, seq, ack
            0x50, 0x18, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, // offset 5, PSH+ACK, window
        ];
        p.resize(3040, 0x61);
        p
    }

    fn header(p: &[u8]) -> Ipv4Header {
        Ipv4Header {
            header_len: 20,
            total_len: p.len(),
            ttl: 64,
            protocol: p[9],
            src: std::net::Ipv4Addr::new(10, 0, 2, 10),
            dst: std::net::Ipv4Addr::new(203, 0, 113, 10),
            frag_offset: 0,
            more_fragments: false,
            dont_fragment: true,
        }
    }

    const PARTIAL_TCP: Csum = Csum::Partial {
        start: 20,
        offset: 16,
    };

    #[test]
    fn plain_packets_pass_as_they_are() {
        let p = tcp_super();
        assert_eq!(check(Offload::default(), &p, &header(&p)), Ok(Shape::PLAIN));
        let valid = Offload {
            csum: Csum::Valid,
            gso: Gso::None,
        };
        assert_eq!(check(valid, &p, &header(&p)), Ok(Shape::PLAIN));
    }

    #[test]
    fn a_tcp_superpacket_stands_for_its_segments() {
        let p = tcp_super();
        let o = Offload {
            csum: PARTIAL_TCP,
            gso: Gso::Tcp {
                mss: 1000,
                ecn: false,
            },
        };
        let shape = check(o, &p, &header(&p)).expect("fits");
        assert!(shape.partial);
        assert_eq!(shape.headers, 40);
        assert_eq!(shape.wire(p.len()), (3, 3120));
        assert_eq!(shape.segment_len(p.len()), 1040);
        // A partial checksum alone: one packet.
        let o = Offload {
            csum: PARTIAL_TCP,
            gso: Gso::None,
        };
        let shape = check(o, &p, &header(&p)).expect("fits");
        assert_eq!((shape.partial, shape.wire(p.len())), (true, (1, 3040)));
    }

    #[test]
    fn metadata_that_does_not_fit_is_dropped() {
        let p = tcp_super();
        let ip = header(&p);
        let gso = Gso::Tcp {
            mss: 1000,
            ecn: false,
        };
        let bad = [
            // Checksum field not TCP's, or not after the IP header.
            Offload {
                csum: Csum::Partial {
                    start: 20,
                    offset: 6,
                },
                gso: Gso::None,
            },
            Offload {
                csum: Csum::Partial {
                    start: 24,
                    offset: 16,
                },
                gso: Gso::None,
            },
            // Field past the end.
            Offload {
                csum: Csum::Partial {
                    start: 20,
                    offset: 0xfff0,
                },
                gso: Gso::None,
            },
            // Segmentation without a partial checksum, of size 0, or UDP's on TCP.
            Offload {
                csum: Csum::Complete,
                gso,
            },
            Offload {
                csum: PARTIAL_TCP,
                gso: Gso::Tcp { mss: 0, ecn: false },
            },
            Offload {
                csum: PARTIAL_TCP,
                gso: Gso::Udp { size: 1000 },
            },
            // IPv6 TCP segmentation on an IPv4 packet.
            Offload {
                csum: PARTIAL_TCP,
                gso: Gso::Other(4),
            },
        ];
        for o in bad {
            assert_eq!(check(o, &p, &ip), Err(DropReason::BadOffload), "{o:?}");
        }
        // A fragment, or ICMP, with any metadata.
        let o = Offload {
            csum: PARTIAL_TCP,
            gso,
        };
        let mut h = header(&p);
        h.more_fragments = true;
        assert_eq!(check(o, &p, &h), Err(DropReason::BadOffload));
        let mut h = header(&p);
        h.protocol = 1;
        assert_eq!(check(o, &p, &h), Err(DropReason::BadOffload));
    }
}
