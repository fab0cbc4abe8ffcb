//! Receive coalescing in userspace (GRO) of UDP datagrams on their way out: consecutive
//! datagrams of one flow that the pipeline forwarded to the same port are joined into
//! one UDP superpacket (`Gso::Udp`), written with one system call; the receiving
//! kernel cuts it back into the same datagrams before any socket sees them (Linux
//! `udp_rcv_segment`). The payloads, their order, the addresses, ports, TOS, TTL and DF
//! stay as they were; the IPv4 identification of each datagram after the first becomes
//! the first's plus its position (the receiver's segmentation numbers them), as with any
//! UDP segmentation offload. The datagrams enter the receiver's stack together: one
//! write, one wake-up. Nothing here is AWS behaviour; it is how vpcd keeps up with
//! small-datagram floods (docs/offloads.md).
//!
//! Joined only when it is exact: IPv4 headers without options, identical but for the
//! identification, total length and checksum (so TOS, DF, TTL, protocol and addresses
//! match), not fragments; the same UDP ports; every datagram but the last of the same
//! payload size, the last no bigger; not to be fragmented on the way out (see
//! `PacketBuf::fragment_mtu`); a transport checksum the sender's kernel computes
//! or verified (partial or `DATA_VALID`), never a complete one vpcd has not verified
//! (UDP checksums are not verified by the pipeline); at most [`MAX_SEGMENTS`]
//! datagrams and 65,535 bytes. The superpacket's checksum is partial: the receiving
//! kernel computes each datagram's.

use crate::packet::{Csum, Gso, Offload, PacketBuf};
use crate::wire::checksum::{fold, sum};

/// Most datagrams in one superpacket (the kernel's `UDP_MAX_SEGMENTS`).
pub const MAX_SEGMENTS: usize = 64;

const IP_HEADER: usize = 20;
const UDP_HEADER: usize = 8;
const HEADERS: usize = IP_HEADER + UDP_HEADER;
const PROTO_UDP: u8 = 17;

/// The UDP checksum field's partial-checksum metadata.
const PARTIAL_UDP: Csum = Csum::Partial {
    start: IP_HEADER as u16,
    offset: 6,
};

/// The payload size of `p` if it is a plain UDP datagram that may head or join a
/// superpacket.
fn joinable(p: &PacketBuf) -> Option<usize> {
    let b = p.as_bytes();
    let o = p.offload();
    let csum_ok = matches!(o.csum, Csum::Valid) || o.csum == PARTIAL_UDP;
    let plain = b.len() > HEADERS
        && b[0] == 0x45
        && b[9] == PROTO_UDP
        && b[6] & 0x3f == 0
        && b[7] == 0
        && usize::from(u16::from_be_bytes([b[2], b[3]])) == b.len()
        && usize::from(u16::from_be_bytes([b[24], b[25]])) == b.len() - IP_HEADER;
    let whole = p.fragment_mtu().is_none();
    (plain && csum_ok && whole && o.gso == Gso::None).then(|| b.len() - HEADERS)
}

/// Whether `p` can head a superpacket.
pub fn can_start(p: &PacketBuf) -> bool {
    joinable(p).is_some()
}

/// Appends datagram `next` to `head` (a datagram that could start a superpacket, or a
/// superpacket made here) if they can be one; `false` leaves both as they were. Once
/// joined, `head` is a UDP superpacket with correct lengths, IPv4 header checksum,
/// partial UDP checksum and offload metadata.
pub fn append(head: &mut PacketBuf, next: &PacketBuf) -> bool {
    let Some(add) = joinable(next) else {
        return false;
    };
    let (size, segments) = match head.offload().gso {
        Gso::Udp { size } => {
            let size = usize::from(size);
            let payload = head.len() - HEADERS;
            if !payload.is_multiple_of(size) {
                return false; // a shorter last datagram closed it
            }
            (size, payload / size)
        }
        Gso::None => match joinable(head) {
            Some(size) => (size, 1),
            None => return false,
        },
        _ => return false,
    };
    let (h, n) = (head.as_bytes(), next.as_bytes());
    let same_headers =
        h[1] == n[1] && h[6..10] == n[6..10] && h[12..20] == n[12..20] && h[20..24] == n[20..24];
    let total = head.len() + add;
    if !same_headers
        || add == 0
        || add > size
        || segments >= MAX_SEGMENTS
        || total > usize::from(u16::MAX)
        || total > head.capacity()
    {
        return false;
    }
    let at = head.len();
    head.set_len(total);
    head.as_bytes_mut()[at..].copy_from_slice(&n[HEADERS..]);
    let b = head.as_bytes_mut();
    let total16 = total as u16;
    b[2..4].copy_from_slice(&total16.to_be_bytes());
    b[10..12].copy_from_slice(&[0, 0]);
    let c = !fold(sum(&b[..IP_HEADER]));
    b[10..12].copy_from_slice(&c.to_be_bytes());
    let udp_len = total16 - IP_HEADER as u16;
    b[24..26].copy_from_slice(&udp_len.to_be_bytes());
    let partial = fold(sum(&b[12..20]) + u32::from(PROTO_UDP) + u32::from(udp_len));
    b[26..28].copy_from_slice(&partial.to_be_bytes());
    head.set_offload(Offload {
        csum: PARTIAL_UDP,
        gso: Gso::Udp { size: size as u16 },
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::checksum;

    /// A UDP datagram 10.0.2.10:40000 -> 203.0.113.10:5201 (ident `id`, DF, TTL 64)
    /// with `payload` bytes of `fill`, and the partial checksum a sender's kernel
    /// leaves.
    fn datagram(id: u8, payload: usize, fill: u8) -> PacketBuf {
        let total = (HEADERS + payload) as u16;
        let mut p = vec![
            0x45, 0x00, 0, 0, 0x00, id, 0x40, 0x00, 0x40, 0x11, 0, 0, // IPv4
            10, 0, 2, 10, 203, 0, 113, 10, // addresses
            0x9c, 0x40, 0x14, 0x51, 0, 0, 0, 0, // UDP
        ];
        p[2..4].copy_from_slice(&total.to_be_bytes());
        let c = checksum::internet(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p[24..26].copy_from_slice(&(total - 20).to_be_bytes());
        let partial = fold(sum(&p[12..20]) + 17 + u32::from(total - 20));
        p[26..28].copy_from_slice(&partial.to_be_bytes());
        p.resize(total.into(), fill);
        let mut b = PacketBuf::new(65_536);
        b.buffer_mut()[..p.len()].copy_from_slice(&p);
        b.set_len(p.len());
        b.set_offload(Offload {
            csum: PARTIAL_UDP,
            gso: Gso::None,
        });
        b
    }

    #[test]
    fn datagrams_of_one_flow_become_one_superpacket() {
        let mut head = datagram(1, 64, b'a');
        assert!(can_start(&head));
        assert!(append(&mut head, &datagram(2, 64, b'b')));
        assert!(append(&mut head, &datagram(3, 10, b'c')));
        let b = head.as_bytes();
        assert_eq!(b.len(), 28 + 64 + 64 + 10);
        assert_eq!(u16::from_be_bytes([b[2], b[3]]), 166);
        assert!(checksum::verifies(&b[..20]));
        assert_eq!(u16::from_be_bytes([b[24], b[25]]), 146);
        assert_eq!(
            (&b[28..30], &b[92..94], &b[156..158]),
            (&b"aa"[..], &b"bb"[..], &b"cc"[..])
        );
        assert_eq!(
            head.offload(),
            Offload {
                csum: PARTIAL_UDP,
                gso: Gso::Udp { size: 64 }
            }
        );
        // Completing the partial checksum gives a valid one over the whole.
        let mut done = b.to_vec();
        let c = !fold(sum(&done[20..]));
        done[26..28].copy_from_slice(&c.to_be_bytes());
        assert!(checksum::transport_verifies(
            [10, 0, 2, 10].into(),
            [203, 0, 113, 10].into(),
            17,
            &done[20..]
        ));
        // The shorter last datagram closed it.
        assert!(!append(&mut head, &datagram(4, 10, b'd')));
    }

    #[test]
    fn anything_that_differs_is_not_joined() {
        let base = || datagram(1, 64, b'a');
        let mut bigger = datagram(2, 65, b'b');
        assert!(!append(&mut base(), &bigger), "a bigger datagram");
        let mut other_port = datagram(2, 64, b'b');
        other_port.as_bytes_mut()[21] ^= 1;
        let mut ttl = datagram(2, 64, b'b');
        ttl.as_bytes_mut()[8] = 63;
        let mut complete = datagram(2, 64, b'b');
        complete.set_offload(Offload::default());
        let mut fragment = datagram(2, 64, b'b');
        fragment.as_bytes_mut()[6] = 0x20;
        for (what, p) in [
            ("another port", &other_port),
            ("another TTL", &ttl),
            ("an unverified complete checksum", &complete),
            ("a fragment", &fragment),
        ] {
            let mut head = base();
            let before = head.as_bytes().to_vec();
            assert!(!append(&mut head, p), "{what}");
            assert_eq!(head.as_bytes(), &before[..], "{what}: head unchanged");
            assert_eq!(head.offload().gso, Gso::None);
        }
        bigger.set_offload(Offload {
            csum: Csum::Valid,
            gso: Gso::None,
        });
        assert!(can_start(&bigger), "DATA_VALID may head one");
        // At most MAX_SEGMENTS datagrams.
        let mut head = base();
        for i in 1..MAX_SEGMENTS {
            assert!(append(&mut head, &datagram(i as u8, 64, b'x')));
        }
        assert!(!append(&mut head, &datagram(0, 64, b'x')));
    }
}
