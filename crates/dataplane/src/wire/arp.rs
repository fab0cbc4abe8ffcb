//! ARP for IPv4 over Ethernet (RFC 826), as an instance on an AF_XDP port sends it to
//! find the MAC of an on-link address (its subnet router, another instance, or on an
//! internet host any destination): the only ARP messages read and written are those
//! with hardware type Ethernet, protocol type IPv4 and addresses of 6 and 4 bytes.
//! What vpcd answers is in `link.rs`.
//!
//! A view over the message (the Ethernet payload) with a checked constructor, in the
//! style of smoltcp's `wire` types; nothing is allocated.

use std::net::Ipv4Addr;

use super::ethernet::{self, MAC_LEN, Mac};

/// The hardware type of Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;
/// The length of an IPv4 address.
const IPV4_LEN: usize = 4;
/// The length of a message for Ethernet and IPv4.
pub const LEN: usize = 28;
/// A request (who has the target address?).
pub const OP_REQUEST: u16 = 1;
/// A reply (the sender has the sender address).
pub const OP_REPLY: u16 = 2;

/// Byte offsets of fields.
pub mod field {
    /// Hardware type.
    pub const HTYPE: usize = 0;
    /// Protocol type (an EtherType).
    pub const PTYPE: usize = 2;
    /// Hardware address length.
    pub const HLEN: usize = 4;
    /// Protocol address length.
    pub const PLEN: usize = 5;
    /// Operation.
    pub const OPER: usize = 6;
    /// Sender hardware address.
    pub const SHA: usize = 8;
    /// Sender protocol address.
    pub const SPA: usize = 14;
    /// Target hardware address.
    pub const THA: usize = 18;
    /// Target protocol address.
    pub const TPA: usize = 24;
}

/// An ARP message for Ethernet and IPv4.
#[derive(Debug, Clone, Copy)]
pub struct Message<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Message<T> {
    /// The message in `buffer` (an Ethernet payload, padding allowed), if it is for
    /// Ethernet and IPv4 and is whole; `None` for anything else.
    pub fn new_checked(buffer: T) -> Option<Self> {
        let b = buffer.as_ref();
        let ok = b.len() >= LEN
            && u16::from_be_bytes([b[field::HTYPE], b[field::HTYPE + 1]]) == HTYPE_ETHERNET
            && u16::from_be_bytes([b[field::PTYPE], b[field::PTYPE + 1]])
                == ethernet::ETHERTYPE_IPV4
            && usize::from(b[field::HLEN]) == MAC_LEN
            && usize::from(b[field::PLEN]) == IPV4_LEN;
        ok.then_some(Message { buffer })
    }

    /// The buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn ip(&self, at: usize) -> Ipv4Addr {
        let b = self.buffer.as_ref();
        Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
    }

    /// The operation ([`OP_REQUEST`], [`OP_REPLY`], or another).
    pub fn operation(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[field::OPER], b[field::OPER + 1]])
    }

    /// The sender's MAC address.
    pub fn sender_mac(&self) -> Mac {
        ethernet::read_mac(self.buffer.as_ref(), field::SHA)
    }

    /// The sender's IPv4 address (0.0.0.0 in a probe).
    pub fn sender_ip(&self) -> Ipv4Addr {
        self.ip(field::SPA)
    }

    /// The target's MAC address (unknown, usually zero, in a request).
    pub fn target_mac(&self) -> Mac {
        ethernet::read_mac(self.buffer.as_ref(), field::THA)
    }

    /// The target's IPv4 address.
    pub fn target_ip(&self) -> Ipv4Addr {
        self.ip(field::TPA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Message<T> {
    fn set(&mut self, at: usize, bytes: &[u8]) {
        self.buffer.as_mut()[at..at + bytes.len()].copy_from_slice(bytes);
    }

    /// Sets the operation.
    pub fn set_operation(&mut self, op: u16) {
        self.set(field::OPER, &op.to_be_bytes());
    }

    /// Sets the sender's MAC address.
    pub fn set_sender_mac(&mut self, mac: Mac) {
        self.set(field::SHA, &mac);
    }

    /// Sets the sender's IPv4 address.
    pub fn set_sender_ip(&mut self, ip: Ipv4Addr) {
        self.set(field::SPA, &ip.octets());
    }

    /// Sets the target's MAC address.
    pub fn set_target_mac(&mut self, mac: Mac) {
        self.set(field::THA, &mac);
    }

    /// Sets the target's IPv4 address.
    pub fn set_target_ip(&mut self, ip: Ipv4Addr) {
        self.set(field::TPA, &ip.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10.0.1.10 (02:76:70:00:00:00) asks who has 10.0.1.1, as Linux sends it.
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // Ethernet, IPv4, 6, 4, request
        0x02, 0x76, 0x70, 0x00, 0x00, 0x00, 10, 0, 1, 10, // sender
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 1, 1, // target
    ];

    #[test]
    fn a_literal_request_reads_as_its_fields() {
        let m = Message::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(m.operation(), OP_REQUEST);
        assert_eq!(m.sender_mac(), [0x02, 0x76, 0x70, 0x00, 0x00, 0x00]);
        assert_eq!(m.sender_ip(), Ipv4Addr::new(10, 0, 1, 10));
        assert_eq!(m.target_mac(), [0; 6]);
        assert_eq!(m.target_ip(), Ipv4Addr::new(10, 0, 1, 1));
    }

    #[test]
    fn only_whole_ethernet_ipv4_messages_are_read() {
        assert!(Message::new_checked(&REQUEST[..27]).is_none());
        let mut padded = [0u8; 46];
        padded[..28].copy_from_slice(&REQUEST);
        assert!(Message::new_checked(&padded[..]).is_some());
        // Each of hardware type, protocol type, and the two lengths, changed.
        for (at, value) in [(1, 6), (2, 0x86), (4, 8), (5, 16)] {
            let mut m = REQUEST;
            m[at] = value;
            assert!(Message::new_checked(&m[..]).is_none(), "byte {at}");
        }
    }

    #[test]
    fn setters_write_their_fields_only() {
        let mut b = REQUEST;
        let mut m = Message::new_checked(&mut b[..]).unwrap();
        m.set_operation(OP_REPLY);
        m.set_sender_mac([1, 2, 3, 4, 5, 6]);
        m.set_sender_ip(Ipv4Addr::new(10, 0, 1, 1));
        m.set_target_mac([7, 8, 9, 10, 11, 12]);
        m.set_target_ip(Ipv4Addr::new(10, 0, 1, 10));
        assert_eq!(
            b,
            [
                0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, //
                1, 2, 3, 4, 5, 6, 10, 0, 1, 1, //
                7, 8, 9, 10, 11, 12, 10, 0, 1, 10, //
            ]
        );
    }
}
