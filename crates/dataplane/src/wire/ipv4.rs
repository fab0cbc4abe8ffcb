//! IPv4 header layout (RFC 791), the facts the pipeline reads from a checked header, and
//! in-place edits.

use std::net::Ipv4Addr;

use super::checksum;

/// Length of a header without options.
pub const MIN_HEADER_LEN: usize = 20;
/// Protocol number of ICMP.
pub const PROTO_ICMP: u8 = 1;
/// The TTL the VPC router puts on packets it originates.
pub const ROUTER_TTL: u8 = 64;

/// Byte offsets of header fields.
pub mod field {
    /// Version (high nibble) and IHL (low nibble).
    pub const VER_IHL: usize = 0;
    /// Total length.
    pub const TOTAL_LEN: usize = 2;
    /// Identification.
    pub const IDENT: usize = 4;
    /// Flags and fragment offset.
    pub const FLAGS_FRAG: usize = 6;
    /// Time to live.
    pub const TTL: usize = 8;
    /// Protocol.
    pub const PROTOCOL: usize = 9;
    /// Header checksum.
    pub const CHECKSUM: usize = 10;
    /// Source address.
    pub const SRC: usize = 12;
    /// Destination address.
    pub const DST: usize = 16;
}

/// Bits of the flags-and-fragment-offset field (RFC 791).
pub mod flags {
    /// Don't fragment.
    pub const DF: u16 = 0x4000;
    /// More fragments.
    pub const MF: u16 = 0x2000;
    /// The fragment offset, in 8-byte units.
    pub const OFFSET: u16 = 0x1fff;
}

/// Option types (RFC 791).
pub mod option {
    /// End of the options list.
    pub const END: u8 = 0;
    /// No operation (one byte).
    pub const NOP: u8 = 1;
    /// The copied flag of a type: the option is copied into every fragment.
    pub const COPIED: u8 = 0x80;
    /// Loose source and record route.
    pub const LSRR: u8 = 131;
    /// Strict source and record route.
    pub const SSRR: u8 = 137;
}

/// The facts of a checked IPv4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Header {
    /// Header length in bytes (IHL * 4).
    pub header_len: usize,
    /// Total length of the datagram.
    pub total_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Protocol number.
    pub protocol: u8,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Fragment offset in 8-byte units.
    pub frag_offset: u16,
    /// More-fragments flag.
    pub more_fragments: bool,
    /// Don't-fragment flag.
    pub dont_fragment: bool,
}

impl Ipv4Header {
    /// Whether this is a fragment (first or not).
    pub fn is_fragment(&self) -> bool {
        self.frag_offset != 0 || self.more_fragments
    }
}

/// What to write into a header without options.
#[derive(Debug, Clone, Copy)]
pub struct NewHeader {
    /// Total length.
    pub total_len: u16,
    /// Identification.
    pub ident: u16,
    /// Protocol.
    pub protocol: u8,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
}

/// Writes a 20-byte header (no options, not fragmented, TTL [`ROUTER_TTL`], TOS 0) with
/// its checksum into `buf[..20]`.
pub fn write_header(buf: &mut [u8], h: NewHeader) {
    let b = &mut buf[..MIN_HEADER_LEN];
    b[field::VER_IHL] = 0x45;
    b[1] = 0;
    b[field::TOTAL_LEN..field::TOTAL_LEN + 2].copy_from_slice(&h.total_len.to_be_bytes());
    b[field::IDENT..field::IDENT + 2].copy_from_slice(&h.ident.to_be_bytes());
    b[field::FLAGS_FRAG..field::FLAGS_FRAG + 2].copy_from_slice(&[0, 0]);
    b[field::TTL] = ROUTER_TTL;
    b[field::PROTOCOL] = h.protocol;
    b[field::CHECKSUM..field::CHECKSUM + 2].copy_from_slice(&[0, 0]);
    b[field::SRC..field::SRC + 4].copy_from_slice(&h.src.octets());
    b[field::DST..field::DST + 4].copy_from_slice(&h.dst.octets());
    let c = checksum::internet(b);
    b[field::CHECKSUM..field::CHECKSUM + 2].copy_from_slice(&c.to_be_bytes());
}

/// Sets the TTL of the header at the start of `pkt`, updating the checksum in place
/// (RFC 1624).
pub fn set_ttl(pkt: &mut [u8], ttl: u8) {
    let old = u16::from_be_bytes([pkt[field::TTL], pkt[field::PROTOCOL]]);
    pkt[field::TTL] = ttl;
    let new = u16::from_be_bytes([pkt[field::TTL], pkt[field::PROTOCOL]]);
    let c = u16::from_be_bytes([pkt[field::CHECKSUM], pkt[field::CHECKSUM + 1]]);
    let c = checksum::update(c, old, new);
    pkt[field::CHECKSUM..field::CHECKSUM + 2].copy_from_slice(&c.to_be_bytes());
}

/// Whether `ip` may never be a source (RFC 1812 5.3.7): 0/8, 127/8, 224/4 (multicast),
/// 240/4 (reserved) and 255.255.255.255.
pub fn is_martian_source(ip: Ipv4Addr) -> bool {
    let o = ip.octets()[0];
    o == 0 || o == 127 || o >= 224
}

/// Whether `ip` may never be a destination to forward to: 0/8, 127/8 and 240/4
/// (255.255.255.255 and multicast are dropped for their own reasons before this).
pub fn is_martian_destination(ip: Ipv4Addr) -> bool {
    let o = ip.octets()[0];
    o == 0 || o == 127 || o >= 240
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_ttl_keeps_the_checksum_valid() {
        let mut h = [
            0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00, 10, 0, 1, 10,
            10, 0, 12, 10,
        ];
        let c = checksum::internet(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        for ttl in [63, 1, 0, 255] {
            set_ttl(&mut h, ttl);
            assert_eq!(h[8], ttl);
            assert!(checksum::verifies(&h), "ttl {ttl}");
        }
    }

    #[test]
    fn written_headers_verify() {
        let mut b = [0xffu8; 20];
        let src = Ipv4Addr::new(10, 0, 2, 1);
        let dst = Ipv4Addr::new(10, 0, 2, 10);
        write_header(
            &mut b,
            NewHeader {
                total_len: 84,
                ident: 7,
                protocol: PROTO_ICMP,
                src,
                dst,
            },
        );
        assert!(checksum::verifies(&b));
        assert_eq!(&b[..10], &[0x45, 0, 0, 84, 0, 7, 0, 0, 64, 1]);
        assert_eq!(&b[12..], &[10, 0, 2, 1, 10, 0, 2, 10]);
    }

    #[test]
    fn martian_sources() {
        for m in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(is_martian_source(m.parse().unwrap()), "{m}");
        }
        for ok in ["10.0.0.1", "1.1.1.1", "223.255.255.255", "169.254.169.254"] {
            assert!(!is_martian_source(ok.parse().unwrap()), "{ok}");
            assert!(!is_martian_destination(ok.parse().unwrap()), "{ok}");
        }
        for m in ["0.1.2.3", "127.0.0.1", "240.0.0.1"] {
            assert!(is_martian_destination(m.parse().unwrap()), "{m}");
        }
    }
}
