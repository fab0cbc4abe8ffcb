//! IPv4 fragmentation (RFC 791 3.2, "Fragmentation and Reassembly"; RFC 1812 4.2.2.7):
//! a datagram without DF that is larger than the next link's MTU is cut into fragments
//! that fit, each a copy of the header and a slice of the payload. AWS's internet
//! gateway does this at its 1500-byte MTU ("they are fragmented, or they are dropped if
//! the Don't Fragment flag is set").
//!
//! Zero-copy: a [`Fragments`] iterator hands out, per fragment, its new header (in a
//! small array) and the range of the datagram's payload it carries, so the daemon writes
//! each fragment with one gathered write and the payload is never copied. The datagram
//! itself may be a fragment (a first fragment larger than the MTU): its pieces keep its
//! offset, and the last keeps its more-fragments flag.
//!
//! Every fragment but the last carries a multiple of 8 payload bytes (RFC 791). The
//! header is copied whole into every fragment so that all fragments but the last have
//! the same length; in fragments after the first, options whose copied flag is clear
//! (RFC 791: record route, timestamp) are replaced by no-operation options.

use std::ops::Range;

use super::checksum;
use super::ipv4::flags::{DF, MF, OFFSET};
use super::ipv4::{field, option};

/// The longest IPv4 header (IHL 15).
pub const MAX_HEADER_LEN: usize = 60;

/// One fragment: its header and the part of the datagram it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    header: [u8; MAX_HEADER_LEN],
    header_len: usize,
    /// The bytes of the datagram (indices into it) the fragment carries after its
    /// header.
    pub payload: Range<usize>,
}

impl Fragment {
    /// The fragment's header, checksum included.
    pub fn header(&self) -> &[u8] {
        &self.header[..self.header_len]
    }
}

/// The fragments of one datagram for one MTU, in order.
#[derive(Debug, Clone)]
pub struct Fragments<'a> {
    datagram: &'a [u8],
    header_len: usize,
    /// Payload bytes per fragment but the last (a multiple of 8).
    step: usize,
    /// The next fragment's first payload byte (an index into `datagram`).
    next: usize,
    /// Whether the last fragment was handed out.
    done: bool,
    /// The datagram's own offset (8-byte units) and more-fragments flag.
    offset: u16,
    more: bool,
    /// Its other flag bits (DF, the reserved bit), kept in every fragment.
    kept: u16,
}

impl<'a> Fragments<'a> {
    /// The fragments of `datagram` (a whole IPv4 datagram whose header was checked:
    /// version, IHL, total length equal to its length) that each fit `mtu` bytes, or
    /// `None` if it cannot be fragmented that way: it has DF set, or the MTU leaves no
    /// room for 8 payload bytes after its header. A datagram that fits needs no
    /// fragmenting and yields itself as one fragment.
    pub fn new(datagram: &'a [u8], mtu: usize) -> Option<Fragments<'a>> {
        let header_len = usize::from(*datagram.first()? & 0x0f) * 4;
        let flags = u16::from_be_bytes([
            *datagram.get(field::FLAGS_FRAG)?,
            *datagram.get(field::FLAGS_FRAG + 1)?,
        ]);
        if header_len < 20 || header_len > datagram.len() {
            return None;
        }
        let fits = datagram.len() <= mtu;
        if !fits && (flags & DF != 0 || mtu < header_len + 8) {
            return None;
        }
        let step = if fits {
            datagram.len() - header_len
        } else {
            (mtu - header_len) & !7
        };
        Some(Fragments {
            datagram,
            header_len,
            step: step.max(1),
            next: header_len,
            done: false,
            offset: flags & OFFSET,
            more: flags & MF != 0,
            kept: flags & !(MF | OFFSET),
        })
    }

    /// How many fragments there are in all, and how many bytes they take (headers
    /// included).
    pub fn wire(&self) -> (usize, usize) {
        let n = (self.datagram.len() - self.header_len)
            .div_ceil(self.step)
            .max(1);
        (n, self.datagram.len() + (n - 1) * self.header_len)
    }
}

impl Iterator for Fragments<'_> {
    type Item = Fragment;

    fn next(&mut self) -> Option<Fragment> {
        let (len, hl) = (self.datagram.len(), self.header_len);
        if self.done {
            return None;
        }
        let start = self.next;
        let end = (start + self.step).min(len);
        self.next = end;
        self.done = end == len;
        let mut header = [0u8; MAX_HEADER_LEN];
        header[..hl].copy_from_slice(&self.datagram[..hl]);
        if start > hl {
            blank_uncopied_options(&mut header[20..hl]);
        }
        let total = (hl + end - start) as u16;
        header[field::TOTAL_LEN..field::TOTAL_LEN + 2].copy_from_slice(&total.to_be_bytes());
        let last = end == len;
        let offset = self.offset + ((start - hl) / 8) as u16;
        let flags = self.kept | (offset & OFFSET) | if !last || self.more { MF } else { 0 };
        header[field::FLAGS_FRAG..field::FLAGS_FRAG + 2].copy_from_slice(&flags.to_be_bytes());
        header[field::CHECKSUM..field::CHECKSUM + 2].copy_from_slice(&[0, 0]);
        let c = checksum::internet(&header[..hl]);
        header[field::CHECKSUM..field::CHECKSUM + 2].copy_from_slice(&c.to_be_bytes());
        Some(Fragment {
            header,
            header_len: hl,
            payload: start..end,
        })
    }
}

/// Replaces the options of `options` that are not copied into later fragments by
/// no-operation options (a malformed length ends the walk: the pipeline drops such
/// headers before they get here).
fn blank_uncopied_options(options: &mut [u8]) {
    let mut i = 0;
    while i < options.len() {
        let kind = options[i];
        let len = match kind {
            option::END => return,
            option::NOP => 1,
            _ => match options.get(i + 1) {
                Some(&l) if l >= 2 && i + usize::from(l) <= options.len() => usize::from(l),
                _ => return,
            },
        };
        if kind != option::NOP && kind & option::COPIED == 0 {
            options[i..i + len].fill(option::NOP);
        }
        i += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A datagram 10.0.1.10 -> 203.0.113.10, protocol 1, ident 0x1234, no DF, with a
    /// header of `options` after the 20 fixed bytes and `payload` bytes counting up.
    fn datagram(options: &[u8], payload: usize, flags: u16) -> Vec<u8> {
        let hl = 20 + options.len();
        let total = (hl + payload) as u16;
        let mut p = vec![(0x40 | (hl / 4)) as u8, 0];
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0x12, 0x34]);
        p.extend_from_slice(&flags.to_be_bytes());
        p.extend_from_slice(&[64, 1, 0, 0, 10, 0, 1, 10, 203, 0, 113, 10]);
        p.extend_from_slice(options);
        let c = checksum::internet(&p);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p.extend((0..payload).map(|i| i as u8));
        p
    }

    /// Each fragment as (total length, flags and offset field, payload range).
    fn shape(d: &[u8], mtu: usize) -> Vec<(u16, u16, Range<usize>)> {
        Fragments::new(d, mtu)
            .unwrap()
            .map(|f| {
                let h = f.header();
                assert!(checksum::verifies(h), "header checksum");
                assert_eq!(&h[..2], &d[..2]);
                assert_eq!(&h[4..6], &d[4..6], "same identification");
                assert_eq!(&h[8..10], &d[8..10], "same TTL and protocol");
                assert_eq!(&h[12..20], &d[12..20], "same addresses");
                (
                    u16::from_be_bytes([h[2], h[3]]),
                    u16::from_be_bytes([h[6], h[7]]),
                    f.payload,
                )
            })
            .collect()
    }

    #[test]
    fn a_3000_byte_datagram_in_1500_byte_fragments() {
        // A 3000-byte ping (2980 bytes after the header): 1480 + 1480 + 20.
        let d = datagram(&[], 2980, 0);
        assert_eq!(
            shape(&d, 1500),
            [
                (1500, MF, 20..1500),
                (1500, MF | 185, 1500..2980),
                (40, 370, 2980..3000),
            ]
        );
        let f = Fragments::new(&d, 1500).unwrap();
        assert_eq!(f.wire(), (3, 3040));
        // Reassembled, the payload is the datagram's.
        let mut whole = Vec::new();
        for frag in f {
            whole.extend_from_slice(&d[frag.payload]);
        }
        assert_eq!(whole, d[20..]);
    }

    #[test]
    fn every_fragment_but_the_last_carries_a_multiple_of_8_bytes() {
        // MTU 1006: 986 bytes of room, 984 used.
        let d = datagram(&[], 2000, 0);
        assert_eq!(
            shape(&d, 1006),
            [
                (1004, MF, 20..1004),
                (1004, MF | 123, 1004..1988),
                (52, 246, 1988..2020),
            ]
        );
    }

    #[test]
    fn a_fragment_is_cut_further_and_keeps_its_offset_and_more_fragments_flag() {
        // The first fragment of a larger datagram (MF, offset 0), and a middle one
        // (MF, offset 1000 units).
        let d = datagram(&[], 2000, MF);
        assert_eq!(
            shape(&d, 1500),
            [(1500, MF, 20..1500), (540, MF | 185, 1500..2020)]
        );
        let d = datagram(&[], 2000, MF | 1000);
        assert_eq!(
            shape(&d, 1500),
            [(1500, MF | 1000, 20..1500), (540, MF | 1185, 1500..2020)]
        );
        // The last fragment of a datagram: its last piece has no MF.
        let d = datagram(&[], 2000, 1000);
        assert_eq!(
            shape(&d, 1500),
            [(1500, MF | 1000, 20..1500), (540, 1185, 1500..2020)]
        );
    }

    #[test]
    fn a_datagram_that_fits_is_its_own_only_fragment() {
        let d = datagram(&[], 100, 0);
        assert_eq!(shape(&d, 1500), [(120, 0, 20..120)]);
        let f = Fragments::new(&d, 1500).unwrap();
        assert_eq!(f.wire(), (1, 120));
        // Even with DF, and even with no payload at all.
        assert_eq!(shape(&datagram(&[], 100, DF), 1500), [(120, DF, 20..120)]);
        assert_eq!(shape(&datagram(&[], 0, 0), 1500), [(20, 0, 20..20)]);
    }

    #[test]
    fn df_or_an_mtu_too_small_for_8_bytes_cannot_be_fragmented() {
        assert!(Fragments::new(&datagram(&[], 2000, DF), 1500).is_none());
        assert!(Fragments::new(&datagram(&[], 2000, 0), 27).is_none());
        assert_eq!(
            shape(&datagram(&[], 16, 0), 28),
            [(28, MF, 20..28), (28, 1, 28..36)]
        );
        for bad in [&[][..], &[0x45], &[0x41, 0, 0, 20, 0, 0, 0, 0]] {
            assert!(Fragments::new(bad, 1500).is_none());
        }
    }

    #[test]
    fn options_not_copied_become_no_operations_after_the_first_fragment() {
        // Record route (7, not copied), then router alert (148, copied), then padding.
        let options = [7, 7, 4, 0, 0, 0, 0, 148, 4, 0, 0, 0];
        let d = datagram(&options, 1600, 0);
        let frags: Vec<Fragment> = Fragments::new(&d, 1500).unwrap().collect();
        assert_eq!(frags.len(), 2);
        assert_eq!(&frags[0].header()[20..], &options);
        assert_eq!(
            &frags[1].header()[20..],
            &[1, 1, 1, 1, 1, 1, 1, 148, 4, 0, 0, 0]
        );
        assert!(frags.iter().all(|f| checksum::verifies(f.header())));
        assert_eq!(frags[0].payload, 32..1496);
        assert_eq!(frags[1].payload, 1496..1632);
    }
}
