//! Ethernet II framing (IEEE 802.3, RFC 894): the header of the frames an AF_XDP port
//! (a veth whose other end is in an instance's namespace) carries. AWS's VPC has no
//! layer 2 an instance can see beyond its own link to the hypervisor, so this is only
//! the envelope of that link: destination and source MAC and the EtherType, no VLAN
//! tags (an instance never sends them; a tagged frame has an EtherType that is neither
//! IPv4, IPv6 nor ARP).
//!
//! A view over the frame with a checked constructor, in the style of smoltcp's `wire`
//! types; nothing is allocated.

/// The length of a MAC address.
pub const MAC_LEN: usize = 6;
/// A MAC address.
pub type Mac = [u8; MAC_LEN];
/// The length of the header (destination, source, EtherType).
pub const HEADER_LEN: usize = 14;
/// The broadcast address.
pub const BROADCAST: Mac = [0xff; MAC_LEN];

/// The EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// The EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// The EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

/// Byte offsets of header fields.
pub mod field {
    /// Destination MAC address.
    pub const DST: usize = 0;
    /// Source MAC address.
    pub const SRC: usize = 6;
    /// EtherType.
    pub const ETHERTYPE: usize = 12;
}

/// The MAC address at `at` in `b`.
pub(crate) fn read_mac(b: &[u8], at: usize) -> Mac {
    let mut m = [0; MAC_LEN];
    m.copy_from_slice(&b[at..at + MAC_LEN]);
    m
}

/// An Ethernet frame: a header and its payload.
#[derive(Debug, Clone, Copy)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// The frame in `buffer`, if it holds at least a header.
    pub fn new_checked(buffer: T) -> Option<Self> {
        (buffer.as_ref().len() >= HEADER_LEN).then_some(Frame { buffer })
    }

    /// The buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The destination MAC address.
    pub fn dst(&self) -> Mac {
        read_mac(self.buffer.as_ref(), field::DST)
    }

    /// The source MAC address.
    pub fn src(&self) -> Mac {
        read_mac(self.buffer.as_ref(), field::SRC)
    }

    /// The EtherType.
    pub fn ethertype(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[field::ETHERTYPE], b[field::ETHERTYPE + 1]])
    }

    /// Everything after the header (with any padding up to the minimum frame size).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Sets the destination MAC address.
    pub fn set_dst(&mut self, mac: Mac) {
        self.buffer.as_mut()[field::DST..field::DST + MAC_LEN].copy_from_slice(&mac);
    }

    /// Sets the source MAC address.
    pub fn set_src(&mut self, mac: Mac) {
        self.buffer.as_mut()[field::SRC..field::SRC + MAC_LEN].copy_from_slice(&mac);
    }

    /// Sets the EtherType.
    pub fn set_ethertype(&mut self, ethertype: u16) {
        self.buffer.as_mut()[field::ETHERTYPE..field::ETHERTYPE + 2]
            .copy_from_slice(&ethertype.to_be_bytes());
    }

    /// Everything after the header, to edit.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// The header of a frame from `src` to `dst` carrying `ethertype`.
pub fn header(dst: Mac, src: Mac, ethertype: u16) -> [u8; HEADER_LEN] {
    let mut h = Frame {
        buffer: [0; HEADER_LEN],
    };
    h.set_dst(dst);
    h.set_src(src);
    h.set_ethertype(ethertype);
    h.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The start of an IPv4 frame from 02:76:70:00:00:05 to 02:76:70:63:64:01.
    const IPV4_FRAME: [u8; 16] = [
        0x02, 0x76, 0x70, 0x63, 0x64, 0x01, // dst
        0x02, 0x76, 0x70, 0x00, 0x00, 0x05, // src
        0x08, 0x00, // IPv4
        0x45, 0x00, // the packet
    ];

    #[test]
    fn a_literal_frame_reads_as_its_fields() {
        let f = Frame::new_checked(&IPV4_FRAME[..]).unwrap();
        assert_eq!(f.dst(), [0x02, 0x76, 0x70, 0x63, 0x64, 0x01]);
        assert_eq!(f.src(), [0x02, 0x76, 0x70, 0x00, 0x00, 0x05]);
        assert_eq!(f.ethertype(), ETHERTYPE_IPV4);
        assert_eq!(f.payload(), &[0x45, 0x00]);
    }

    #[test]
    fn a_frame_needs_a_whole_header() {
        assert!(Frame::new_checked(&IPV4_FRAME[..13]).is_none());
        let f = Frame::new_checked(&IPV4_FRAME[..14]).unwrap();
        assert_eq!(f.payload(), &[] as &[u8]);
    }

    #[test]
    fn setters_write_their_fields_only() {
        let mut b = IPV4_FRAME;
        let mut f = Frame::new_checked(&mut b[..]).unwrap();
        f.set_dst(BROADCAST);
        f.set_src([1, 2, 3, 4, 5, 6]);
        f.set_ethertype(ETHERTYPE_ARP);
        f.payload_mut()[0] = 0x46;
        assert_eq!(
            b,
            [
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 0x08, 0x06, 0x46, 0x00
            ]
        );
    }

    #[test]
    fn header_is_laid_out_as_on_the_wire() {
        assert_eq!(
            header(BROADCAST, [2, 0, 0, 0, 0, 1], ETHERTYPE_IPV6),
            [
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x86, 0xdd
            ]
        );
    }
}
